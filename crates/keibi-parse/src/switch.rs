//! Follows a file that changes format part-way (a log appended to by two servers, a
//! restart with a new `log_line_prefix`, two files concatenated): when a line is not
//! understood, it is shown to the other line formats, and if one reads it, parsing
//! switches to that format with a warning naming the line.

use crate::format::{Format, Sample};
use crate::{LineParser, Output, ParseConfig};

/// Wraps the line parser of a detected format.
pub struct Switching {
    format: Format,
    inner: Box<dyn LineParser>,
    cfg: ParseConfig,
}

impl Switching {
    pub fn new(format: Format, inner: Box<dyn LineParser>, cfg: &ParseConfig) -> Self {
        Switching {
            format,
            inner,
            cfg: cfg.clone(),
        }
    }

    /// Another line format that is sure of this one line, if any, with its parser
    /// (built once, here).
    fn other_format(&self, line: &[u8]) -> Option<(Format, Box<dyn LineParser>)> {
        let sample = Sample::new(line, true);
        crate::FORMATS
            .iter()
            .copied()
            .filter(|f| *f != self.format)
            // Sniff first: building a parser (a CSV reader, compiled prefixes) for each
            // format on every unreadable line cost ~60 µs a line.
            .filter(|f| f.sniff(&sample) == 100)
            .find_map(|f| Some((f, f.line_parser(&self.cfg)?)))
    }
}

impl LineParser for Switching {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        let before = out.problems.len();
        self.inner.line(line, lineno, out);
        let failed = |p: &crate::Problem| p.line == lineno && p.lines > 0;
        if !out.problems[before..].iter().any(failed) {
            return;
        }
        let Some((next, mut parser)) = self.other_format(line) else {
            return;
        };
        let mut trial = Output::new();
        parser.line(line, lineno, &mut trial);
        if trial.unrecognized_lines() > 0 {
            return;
        }
        // The new parser reads this line: the old one's failure on it is withdrawn and
        // its pending record (if any) ends here.
        let mut i = before;
        while i < out.problems.len() {
            if failed(&out.problems[i]) {
                out.problems.remove(i);
            } else {
                i += 1;
            }
        }
        self.inner.finish(out);
        out.warning(
            lineno,
            format!("format changes here from {} to {}", self.format, next),
        );
        out.events.append(&mut trial.events);
        out.problems.append(&mut trial.problems);
        out.skipped += std::mem::take(&mut trial.skipped);
        self.format = next;
        self.inner = parser;
    }

    fn finish(&mut self, out: &mut Output) {
        self.inner.finish(out);
    }
}
