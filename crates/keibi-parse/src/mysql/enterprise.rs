//! MySQL Enterprise Audit, JSON format.

use crate::format::Sample;
use crate::{Output, ParseConfig, Parser};

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(_sample: &Sample<'_>) -> u8 {
    0
}

pub struct EnterpriseAuditParser {}

impl EnterpriseAuditParser {
    pub fn new(_cfg: &ParseConfig) -> Self {
        EnterpriseAuditParser {}
    }
}

impl Parser for EnterpriseAuditParser {
    fn push(&mut self, _chunk: &[u8], _out: &mut Output) {}
    fn finish(&mut self, out: &mut Output) {
        out.unrecognized(0, "parser not implemented yet");
    }
}
