//! PostgreSQL logged through syslog.

use crate::format::Sample;
use crate::{LineParser, Output, ParseConfig};

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(_sample: &Sample<'_>) -> u8 {
    0
}

pub struct SyslogParser {}

impl SyslogParser {
    pub fn new(_cfg: &ParseConfig) -> Self {
        SyslogParser {}
    }
}

impl LineParser for SyslogParser {
    fn line(&mut self, _line: &[u8], lineno: u64, out: &mut Output) {
        out.unrecognized(lineno, "parser not implemented yet");
    }
}
