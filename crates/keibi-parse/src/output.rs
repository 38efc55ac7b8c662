//! Where parsers put what they read: events, and problems with a line and a reason.

use keibi_model::Event;

/// A line (or record) a parser could not read, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line where the unreadable record starts (0 when not line-addressable).
    pub line: u64,
    /// Lower-case reason, no final period: `no log_line_prefix match`, `invalid JSON: ...`.
    pub reason: String,
    /// How many input lines the problem covers (an unreadable multi-line record counts
    /// each). 0 marks a warning about input that was still read (a truncated line).
    pub lines: u64,
}

/// The sink a parser writes to. The caller drains it between chunks.
#[derive(Debug, Default)]
pub struct Output {
    pub events: Vec<Event>,
    pub problems: Vec<Problem>,
    /// Lines of other programs in a shared syslog file (a whole `/var/log/syslog`),
    /// passed over on purpose: neither events nor problems, only this count.
    pub skipped: u64,
}

impl Output {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn event(&mut self, e: Event) {
        self.events.push(e);
    }

    /// Records one unrecognized line.
    pub fn unrecognized(&mut self, line: u64, reason: impl Into<String>) {
        self.problems.push(Problem {
            line,
            reason: reason.into(),
            lines: 1,
        });
    }

    /// A warning about input that was still read: counts no unrecognized line.
    pub fn warning(&mut self, line: u64, reason: impl Into<String>) {
        self.problems.push(Problem {
            line,
            reason: reason.into(),
            lines: 0,
        });
    }

    /// Counts one line of another program, passed over on purpose.
    pub fn skip(&mut self) {
        self.skipped += 1;
    }

    /// Total unrecognized lines among the problems.
    pub fn unrecognized_lines(&self) -> u64 {
        self.problems.iter().map(|p| p.lines).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.problems.is_empty() && self.skipped == 0
    }
}
