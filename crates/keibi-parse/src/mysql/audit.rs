//! MariaDB server_audit, RDS for MySQL audit (11 fields), Aurora MySQL audit (epoch µs).

use crate::format::Sample;
use crate::{LineParser, Output, ParseConfig};

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(_sample: &Sample<'_>) -> u8 {
    0
}

pub struct AuditParser {}

impl AuditParser {
    pub fn new(_cfg: &ParseConfig) -> Self {
        AuditParser {}
    }
}

impl LineParser for AuditParser {
    fn line(&mut self, _line: &[u8], lineno: u64, out: &mut Output) {
        out.unrecognized(lineno, "parser not implemented yet");
    }
}
