//! CloudTrail records in every envelope they are delivered in.

use crate::format::Sample;
use crate::{Output, ParseConfig, Parser};

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(_sample: &Sample<'_>) -> u8 {
    0
}

pub struct CloudtrailParser {}

impl CloudtrailParser {
    pub fn new(_cfg: &ParseConfig) -> Self {
        CloudtrailParser {}
    }
}

impl Parser for CloudtrailParser {
    fn push(&mut self, _chunk: &[u8], _out: &mut Output) {}
    fn finish(&mut self, out: &mut Output) {
        out.unrecognized(0, "parser not implemented yet");
    }
}
