//! MySQL/MariaDB general query log.

use crate::format::Sample;
use crate::{LineParser, Output, ParseConfig};

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(_sample: &Sample<'_>) -> u8 {
    0
}

pub struct GeneralLogParser {}

impl GeneralLogParser {
    pub fn new(_cfg: &ParseConfig) -> Self {
        GeneralLogParser {}
    }
}

impl LineParser for GeneralLogParser {
    fn line(&mut self, _line: &[u8], lineno: u64, out: &mut Output) {
        out.unrecognized(lineno, "parser not implemented yet");
    }
}
