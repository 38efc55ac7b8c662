//! PostgreSQL stderr logs with any log_line_prefix (RDS included).

use crate::format::Sample;
use crate::{LineParser, Output, ParseConfig};

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(_sample: &Sample<'_>) -> u8 {
    0
}

pub struct StderrParser {}

impl StderrParser {
    pub fn new(_cfg: &ParseConfig) -> Self {
        StderrParser {}
    }
}

impl LineParser for StderrParser {
    fn line(&mut self, _line: &[u8], lineno: u64, out: &mut Output) {
        out.unrecognized(lineno, "parser not implemented yet");
    }
}
