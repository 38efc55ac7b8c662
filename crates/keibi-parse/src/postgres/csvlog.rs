//! PostgreSQL csvlog (PostgreSQL 13-17 column sets).

use crate::format::Sample;
use crate::{LineParser, Output, ParseConfig};

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(_sample: &Sample<'_>) -> u8 {
    0
}

pub struct CsvlogParser {}

impl CsvlogParser {
    pub fn new(_cfg: &ParseConfig) -> Self {
        CsvlogParser {}
    }
}

impl LineParser for CsvlogParser {
    fn line(&mut self, _line: &[u8], lineno: u64, out: &mut Output) {
        out.unrecognized(lineno, "parser not implemented yet");
    }
}
