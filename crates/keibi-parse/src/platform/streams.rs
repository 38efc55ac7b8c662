//! The inner readers of a wrapper format: one line parser per log stream (a log name
//! and an instance), made on first use with the instance and `log_line_prefix` the
//! envelope implies, bounded in number. What a reader writes is moved to the output
//! with its problems named after the log; a message it cannot read counts as one
//! unrecognized line, however many lines it had.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};

use crate::{Format, LineParser, Output, ParseConfig, Problem};

/// Streams whose readers are kept at once; one more evicts the oldest (its pending
/// report is flushed), so memory stays bounded on hostile input.
pub(crate) const MAX_STREAMS: usize = 1024;

struct Stream {
    parser: Box<dyn LineParser>,
    label: String,
}

pub(crate) struct Streams {
    cfg: ParseConfig,
    map: HashMap<String, Stream>,
    order: VecDeque<String>,
    scratch: Output,
}

impl Streams {
    pub fn new(cfg: &ParseConfig) -> Self {
        Streams {
            cfg: cfg.clone(),
            map: HashMap::new(),
            order: VecDeque::new(),
            scratch: Output::new(),
        }
    }

    /// Hands one message to the reader of stream `key` (made on first use: `format`'s
    /// line parser, with `prefix` as its `log_line_prefix` and `instance` unless
    /// `--instance` was given); `read` feeds it the message's lines.
    #[allow(clippy::too_many_arguments)]
    pub fn message(
        &mut self,
        key: &str,
        label: &str,
        format: Format,
        prefix: Option<&str>,
        instance: Option<&str>,
        line: u64,
        out: &mut Output,
        read: impl FnOnce(&mut dyn LineParser, &mut Output),
    ) {
        if self.map.len() >= MAX_STREAMS && !self.map.contains_key(key) {
            if let Some(mut old) = self.order.pop_front().and_then(|k| self.map.remove(&k)) {
                old.parser.finish(&mut self.scratch);
                drain(&old.label, &mut self.scratch, false, out);
            }
        }
        let stream = match self.map.entry(key.to_string()) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                let cfg = ParseConfig {
                    instance: self
                        .cfg
                        .instance
                        .clone()
                        .or_else(|| instance.map(str::to_string)),
                    pg_prefix: prefix.map(str::to_string).or(self.cfg.pg_prefix.clone()),
                    ..self.cfg.clone()
                };
                let Some(parser) = format.line_parser(&cfg) else {
                    out.unrecognized(line, format!("{label}: {format} is not a line format"));
                    return;
                };
                self.order.push_back(v.key().clone());
                v.insert(Stream {
                    parser,
                    label: label.to_string(),
                })
            }
        };
        read(&mut *stream.parser, &mut self.scratch);
        drain(&stream.label, &mut self.scratch, true, out);
    }

    /// End of input: every reader's pending report.
    pub fn finish(&mut self, out: &mut Output) {
        while let Some(key) = self.order.pop_front() {
            if let Some(mut s) = self.map.remove(&key) {
                s.parser.finish(&mut self.scratch);
                drain(&s.label, &mut self.scratch, false, out);
            }
        }
    }
}

/// Moves what a reader wrote into `out`, problems prefixed with the log's label. With
/// `one_message`, what failed is one message and counts as one unrecognized line.
fn drain(label: &str, scratch: &mut Output, one_message: bool, out: &mut Output) {
    out.events.append(&mut scratch.events);
    let mut failed = false;
    for p in scratch.problems.drain(..) {
        if one_message && p.lines > 0 {
            if failed {
                continue;
            }
            failed = true;
        }
        let lines = if one_message { p.lines.min(1) } else { p.lines };
        out.problems.push(Problem {
            line: p.line,
            reason: format!("{label}: {}", p.reason),
            lines,
        });
    }
}
