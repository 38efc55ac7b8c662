//! MySQL 5.7/8.0 and MariaDB error logs.

use crate::format::Sample;
use crate::{LineParser, Output, ParseConfig};

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(_sample: &Sample<'_>) -> u8 {
    0
}

pub struct ErrorLogParser {}

impl ErrorLogParser {
    pub fn new(_cfg: &ParseConfig) -> Self {
        ErrorLogParser {}
    }
}

impl LineParser for ErrorLogParser {
    fn line(&mut self, _line: &[u8], lineno: u64, out: &mut Output) {
        out.unrecognized(lineno, "parser not implemented yet");
    }
}
