//! Feeds a live input to its parser one whole line at a time and keeps the point
//! from which it could be read again without losing or repeating an event: the
//! checkpoint.
//!
//! A parser may hold an entry back (PostgreSQL's DETAIL and STATEMENT lines follow
//! their message; MySQL's general log continues a query on the next lines), so the
//! bytes fed are not the bytes turned into events. No parser API says which lines are
//! held; the events say it: every event carries the line its entry starts on, and
//! parsers emit entries in line order. So the restart point is the start of the line
//! of the latest entry emitted, with the number of events that re-reading from there
//! gives again before new ones (`skip`). Re-reading rebuilds the held entry from its
//! own lines and emits it once. For formats whose events do not carry input lines
//! (CloudTrail, CloudWatch payloads, Enterprise Audit JSON) the restart point stays
//! at the file's start and `skip` counts every event emitted.
//!
//! What a checkpoint does not hold: a parser's memory of earlier entries (PostgreSQL's
//! per-process authentication method when the prefix lacks it). An input resumed
//! mid-file reads its events as a parser starting there would.

use std::collections::VecDeque;
use std::sync::Arc;

use keibi_model::Event;
use keibi_parse::{Format, Output, ParseConfig, Parser, Problem, MAX_LINE};
use serde::{Deserialize, Serialize};

use crate::fingerprint::Fingerprint;

/// Where reading a file resumes. Plain data, handed out with the events it covers so
/// a caller can store both in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The file, by content.
    pub fingerprint: Fingerprint,
    /// The format the file was read as (detection on a longer head might choose
    /// otherwise; a resumed file keeps its format).
    #[serde(with = "format_name")]
    pub format: Format,
    /// Byte offset (of the decompressed content) of a line start to read again from.
    pub offset: u64,
    /// Lines before `offset`: line numbers in evidence continue from here.
    pub line: u64,
    /// Events already emitted that reading from `offset` gives first.
    pub skip: u64,
    /// The whole file was read and its parser finished (a compressed file, a rotated
    /// file read to its end).
    pub done: bool,
    /// For a source of whole objects ([`crate::ObjectSource`]: an S3 prefix), the
    /// last key handed out completely; `fingerprint` then names the source, not a
    /// file's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_key: Option<String>,
    /// For an object source told of new objects (S3 event notifications), the last
    /// keys it read, at most [`crate::objects::MAX_RECENT`]: a notification of one
    /// of them is not read again, one of an older key not among them was written
    /// late and is read (`skip` then counts such reads, so the checkpoint still
    /// grows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent: Vec<String>,
}

mod format_name {
    use keibi_parse::Format;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(f: &Format, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(f.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Format, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Line starts remembered to move the restart point; beyond this many lines without
/// an event the point stays behind and `skip` grows instead (still exact).
const MAX_STARTS: usize = 1 << 16;

pub(crate) struct Feed {
    parser: Box<dyn Parser>,
    pub format: Format,
    /// Events carry input line numbers (line formats).
    by_line: bool,
    /// Lines before the offset this parser started at.
    base_line: u64,
    /// Offset just past the bytes fed.
    pub fed_offset: u64,
    /// Complete lines fed (absolute).
    fed_lines: u64,
    /// A line has been fed in part (a line longer than the read buffer).
    line_open: bool,
    /// The restart point: offset, lines before it, events it gives again.
    safe: (u64, u64, u64),
    starts: VecDeque<(u64, u64)>,
    /// Events still to drop after a resume (they were emitted before it).
    to_skip: u64,
    /// Fed since the parser last flushed (it may hold an entry).
    pub held: bool,
    pub finished: bool,
    scratch: Output,
    /// A warm start ([`Feed::warm`]): events up to this checkpoint's line, then
    /// this many more, were handed out before; they go to `replayed`.
    replay_until: Option<(u64, u64)>,
    /// Events re-read before the checkpoint of a warm start.
    pub replayed: Vec<Event>,
    /// With [`Feed::mark_events`]: the restart point (offset, line, skip) right
    /// after each event moved to an output, in order; the caller takes them.
    marks: Option<Vec<(u64, u64, u64)>>,
}

impl Feed {
    /// A parser for `format` starting at a checkpoint's point (or at 0).
    pub fn new(format: Format, cfg: &ParseConfig, at: Option<&Checkpoint>) -> Feed {
        let (offset, line, skip) = at.map_or((0, 0, 0), |c| (c.offset, c.line, c.skip));
        Feed {
            parser: format.parser(cfg),
            format,
            by_line: format.line_parser(cfg).is_some(),
            base_line: line,
            fed_offset: offset,
            fed_lines: line,
            line_open: false,
            // Replayed events are counted again as they come; until then `to_skip`
            // holds them (see `checkpoint`).
            safe: (offset, line, 0),
            starts: VecDeque::new(),
            to_skip: skip,
            held: false,
            finished: false,
            scratch: Output::new(),
            replay_until: None,
            replayed: Vec::new(),
            marks: None,
        }
    }

    /// Records the checkpoint right after each event handed out, so a caller may
    /// hand out part of what was read and store exactly that part's checkpoint
    /// ([`Feed::take_marks`]).
    pub fn mark_events(&mut self) {
        self.marks.get_or_insert_with(Vec::new);
    }

    /// The checkpoints after each event handed out since the last call, in order
    /// (one per event; empty unless [`Feed::mark_events`]).
    pub fn take_marks(&mut self, fingerprint: Fingerprint) -> Vec<Checkpoint> {
        let Some(marks) = &mut self.marks else {
            return Vec::new();
        };
        marks
            .drain(..)
            .map(|(offset, line, skip)| Checkpoint {
                fingerprint,
                format: self.format,
                offset,
                line,
                skip,
                done: false,
                after_key: None,
                recent: Vec::new(),
            })
            .collect()
    }

    /// A parser for `format` reading the file again from its start, up to the
    /// checkpoint `at` and on: the events before `at` come out in `replayed` (for a
    /// daemon's detectors to rebuild what they held), those after it as usual.
    pub fn warm(format: Format, cfg: &ParseConfig, at: &Checkpoint) -> Feed {
        let mut f = Feed::new(format, cfg, None);
        f.replay_until = Some((at.line, at.skip));
        f
    }

    /// Whether the format is read line by line (else a document format, fed as bytes
    /// arrive: a JSON splitter needs no newline, and CloudTrail writes none).
    pub fn line_oriented(&self) -> bool {
        self.by_line
    }

    /// The checkpoint after everything handed out so far.
    pub fn checkpoint(&self, fingerprint: Fingerprint) -> Checkpoint {
        Checkpoint {
            fingerprint,
            format: self.format,
            offset: self.safe.0,
            line: self.safe.1,
            skip: self.safe.2 + self.to_skip,
            done: self.finished,
            after_key: None,
            recent: Vec::new(),
        }
    }

    /// Feeds `bytes`: whole lines, each ending with `\n`, or a piece of a line too
    /// long to wait for (`ends_line` false).
    pub fn push(&mut self, bytes: &[u8], out: &mut Output) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let (line, tail) = match memchr::memchr(b'\n', rest) {
                Some(nl) => (&rest[..=nl], &rest[nl + 1..]),
                None => (rest, &[][..]),
            };
            rest = tail;
            if !self.line_open {
                if self.starts.len() >= MAX_STARTS {
                    self.starts.pop_front();
                }
                self.starts.push_back((self.fed_lines + 1, self.fed_offset));
            }
            self.parser.push(line, &mut self.scratch);
            self.fed_offset += line.len() as u64;
            self.line_open = line.last() != Some(&b'\n');
            if !self.line_open {
                self.fed_lines += 1;
            }
            self.held = true;
            self.drain(out);
        }
    }

    /// Flushes an entry the parser holds (an idle timeout, or the end of the input).
    /// Only at a line boundary; `false` when a line is open.
    pub fn flush(&mut self, out: &mut Output) -> bool {
        if self.line_open || !self.held {
            return !self.line_open;
        }
        if !self.by_line {
            // Document formats are only flushed at their end (`finish`): a JSON
            // splitter's end of input is final.
            return true;
        }
        self.parser.finish(&mut self.scratch);
        self.drain(out);
        self.everything_emitted();
        true
    }

    /// End of input: the rest (a last line without newline) and the held entry.
    pub fn finish(&mut self, out: &mut Output) {
        if self.finished {
            return;
        }
        self.parser.finish(&mut self.scratch);
        if self.line_open {
            self.line_open = false;
            self.fed_lines += 1;
        }
        self.drain(out);
        self.everything_emitted();
        self.finished = true;
    }

    fn everything_emitted(&mut self) {
        self.safe = (self.fed_offset, self.fed_lines, 0);
        self.starts.clear();
        self.to_skip = 0;
        self.held = false;
    }

    /// Moves what the parser produced to `out`: line numbers made absolute, the
    /// restart point advanced, events emitted before a resume dropped.
    fn drain(&mut self, out: &mut Output) {
        out.skipped += std::mem::take(&mut self.scratch.skipped);
        for p in self.scratch.problems.drain(..) {
            out.problems.push(Problem {
                line: if p.line > 0 {
                    p.line + self.base_line
                } else {
                    0
                },
                ..p
            });
        }
        for mut e in self.scratch.events.drain(..) {
            if self.by_line {
                e.line += self.base_line;
                if e.line > self.safe.1 + 1 {
                    while self.starts.front().is_some_and(|&(l, _)| l < e.line) {
                        self.starts.pop_front();
                    }
                    if let Some(&(l, off)) = self.starts.front() {
                        if l == e.line {
                            self.safe = (off, l - 1, 0);
                        }
                    }
                }
                // An event of a line before the restart point (a parser's memory of an
                // earlier entry) would not come again from there: not counted.
                if e.line > self.safe.1 {
                    self.safe.2 += 1;
                }
            } else {
                self.safe.2 += 1;
            }
            if self.to_skip > 0 {
                self.to_skip -= 1;
                continue;
            }
            if let Some((line, skip)) = &mut self.replay_until {
                if self.by_line && e.line <= *line {
                    self.replayed.push(e);
                    continue;
                }
                if *skip > 0 {
                    *skip -= 1;
                    self.replayed.push(e);
                    continue;
                }
                self.replay_until = None;
            }
            out.events.push(e);
            if let Some(m) = &mut self.marks {
                m.push((self.safe.0, self.safe.1, self.safe.2 + self.to_skip));
            }
        }
    }
}

/// How long a piece of a line may grow before it is fed without its end.
pub(crate) const MAX_PARTIAL: usize = MAX_LINE;

/// Applies the instance rule to live events, as `stream.rs` does for `events`/`scan`.
pub(crate) fn set_instance(
    events: &mut [Event],
    explicit: Option<&str>,
    from_path: Option<&Arc<str>>,
) {
    if let Some(inst) = explicit {
        for e in events.iter_mut() {
            e.instance = Some(inst.into());
        }
    } else if let Some(inst) = from_path {
        for e in events
            .iter_mut()
            .filter(|e| e.instance.is_none() && e.source.engine().is_some())
        {
            e.instance = Some(inst.as_ref().into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG: &str = "\
2026-11-28 15:41:43 UTC:127.0.0.1(40124):app@template1:[8002]:FATAL:  28P01: password authentication failed for user \"app\"
2026-11-28 15:41:43 UTC:127.0.0.1(40124):app@template1:[8002]:DETAIL:  Connection matched pg_hba.conf line 87: \"host all all 127.0.0.1/32 scram-sha-256\"
2026-11-28 15:41:44 UTC:127.0.0.1(40134):app@shop:[8003]:LOG:  connection authorized: user=app database=shop
2026-11-28 15:41:45 UTC:127.0.0.1(40134):app@shop:[8003]:ERROR:  42P01: relation \"nope\" does not exist
2026-11-28 15:41:45 UTC:127.0.0.1(40134):app@shop:[8003]:STATEMENT:  select *
\tfrom nope;
2026-11-28 15:41:46 UTC:127.0.0.1(40134):app@shop:[8003]:LOG:  disconnection: session time: 0:00:01.000 user=app database=shop host=127.0.0.1 port=40134
2026-11-28 15:41:47 UTC:127.0.0.1(40154):app@template1:[8004]:FATAL:  28P01: password authentication failed for user \"app\"
";

    fn fp() -> Fingerprint {
        Fingerprint { len: 1, hash: 1 }
    }

    fn summary(events: &[Event]) -> Vec<(u64, String)> {
        events
            .iter()
            .map(|e| (e.line, format!("{:?} {:?}", e.message, e.detail)))
            .collect()
    }

    /// Reading the whole text at once, to compare with.
    fn whole(text: &str) -> Vec<Event> {
        let cfg = ParseConfig::new("pg.log");
        let mut f = Feed::new(Format::PostgresStderr, &cfg, None);
        let mut out = Output::new();
        f.push(text.as_bytes(), &mut out);
        f.finish(&mut out);
        out.events
    }

    #[test]
    fn resuming_at_any_line_gives_exactly_the_rest() {
        let all = whole(PG);
        assert_eq!(all.len(), 5, "{:#?}", summary(&all));
        let cfg = ParseConfig::new("pg.log");
        let lines: Vec<&str> = PG.split_inclusive('\n').collect();
        for stop in 0..=lines.len() {
            // Read `stop` lines, take the checkpoint, resume a fresh parser from it.
            let mut first = Feed::new(Format::PostgresStderr, &cfg, None);
            let mut out = Output::new();
            for l in &lines[..stop] {
                first.push(l.as_bytes(), &mut out);
            }
            let cp = first.checkpoint(fp());
            let rest = &PG.as_bytes()[cp.offset as usize..];
            let mut second = Feed::new(Format::PostgresStderr, &cfg, Some(&cp));
            second.push(rest, &mut out);
            second.finish(&mut out);
            assert_eq!(
                summary(&out.events),
                summary(&all),
                "stopped after {stop} lines at {cp:?}"
            );
        }
    }

    /// The checkpoint marked after each event resumes exactly after that event, so a
    /// follower may hand out part of a read and store just that part's checkpoint.
    #[test]
    fn the_checkpoint_after_each_event_resumes_exactly_after_it() {
        let all = whole(PG);
        let cfg = ParseConfig::new("pg.log");
        let mut f = Feed::new(Format::PostgresStderr, &cfg, None);
        f.mark_events();
        let mut out = Output::new();
        // Line by line and all at once mark the same points.
        for l in PG.split_inclusive('\n') {
            f.push(l.as_bytes(), &mut out);
        }
        f.flush(&mut out);
        let marks = f.take_marks(fp());
        assert_eq!(marks.len(), all.len());
        assert!(f.take_marks(fp()).is_empty(), "taken once");
        for (k, cp) in marks.iter().enumerate() {
            let mut resumed = Feed::new(Format::PostgresStderr, &cfg, Some(cp));
            let mut rest = Output::new();
            resumed.push(&PG.as_bytes()[cp.offset as usize..], &mut rest);
            resumed.finish(&mut rest);
            assert_eq!(
                summary(&rest.events),
                summary(&all[k + 1..]),
                "after event {k} at {cp:?}"
            );
        }
    }

    #[test]
    fn a_warm_start_replays_what_came_before_the_checkpoint_and_hands_out_the_rest() {
        let all = whole(PG);
        let cfg = ParseConfig::new("pg.log");
        let lines: Vec<&str> = PG.split_inclusive('\n').collect();
        for stop in 0..=lines.len() {
            let mut first = Feed::new(Format::PostgresStderr, &cfg, None);
            let mut before = Output::new();
            for l in &lines[..stop] {
                first.push(l.as_bytes(), &mut before);
            }
            let cp = first.checkpoint(fp());
            // Read again from the start, as a daemon's warm restart does.
            let mut second = Feed::warm(Format::PostgresStderr, &cfg, &cp);
            let mut after = Output::new();
            second.push(PG.as_bytes(), &mut after);
            second.finish(&mut after);
            assert_eq!(
                summary(&second.replayed),
                summary(&before.events),
                "replayed: exactly what was handed out, after {stop} lines"
            );
            let mut both = before.events.clone();
            both.extend(after.events);
            assert_eq!(summary(&both), summary(&all), "after {stop} lines");
        }
    }

    #[test]
    fn checkpoints_are_plain_json_with_the_format_by_name() {
        let cp = Checkpoint {
            fingerprint: Fingerprint { len: 300, hash: 42 },
            format: Format::MysqlAudit,
            offset: 1234,
            line: 10,
            skip: 2,
            done: false,
            after_key: None,
            recent: Vec::new(),
        };
        let json = serde_json::to_string(&cp).unwrap();
        assert_eq!(
            json,
            r#"{"fingerprint":{"len":300,"hash":"000000000000002a"},"format":"mysql-audit","offset":1234,"line":10,"skip":2,"done":false}"#
        );
        assert_eq!(serde_json::from_str::<Checkpoint>(&json).unwrap(), cp);
        let bad = json.replace("mysql-audit", "nope");
        assert!(serde_json::from_str::<Checkpoint>(&bad).is_err());
    }

    #[test]
    fn resuming_again_and_again_without_new_input_keeps_the_checkpoint() {
        let cfg = ParseConfig::new("pg.log");
        let mut out = Output::new();
        let mut f = Feed::new(Format::PostgresStderr, &cfg, None);
        f.push(PG.as_bytes(), &mut out);
        let first = f.checkpoint(fp());
        assert!(first.skip > 0);
        let mut cp = first.clone();
        for _ in 0..3 {
            let mut g = Feed::new(Format::PostgresStderr, &cfg, Some(&cp));
            assert_eq!(g.checkpoint(fp()), cp, "before reading");
            g.push(&PG.as_bytes()[cp.offset as usize..], &mut out);
            cp = g.checkpoint(fp());
            assert_eq!(cp, first, "after reading the same again");
        }
        assert_eq!(
            out.events.len(),
            4,
            "the held last entry is not emitted yet"
        );
    }

    #[test]
    fn idle_flush_emits_the_held_entry_and_moves_the_checkpoint_to_the_end() {
        let cfg = ParseConfig::new("pg.log");
        let mut f = Feed::new(Format::PostgresStderr, &cfg, None);
        let mut out = Output::new();
        let first_two: String = PG.split_inclusive('\n').take(2).collect();
        f.push(first_two.as_bytes(), &mut out);
        assert!(out.events.is_empty(), "the FATAL waits for its DETAIL");
        assert!(f.flush(&mut out));
        assert_eq!(out.events.len(), 1);
        assert!(out.events[0].detail.is_some());
        let cp = f.checkpoint(fp());
        assert_eq!(
            (cp.offset, cp.line, cp.skip),
            (first_two.len() as u64, 2, 0)
        );
        // Parsing goes on after the flush.
        f.push(&PG.as_bytes()[first_two.len()..], &mut out);
        f.finish(&mut out);
        assert_eq!(summary(&out.events), summary(&whole(PG)));
    }

    #[test]
    fn document_formats_count_events_from_the_start() {
        let ct = br#"{"Records":[{"eventVersion":"1.08","eventTime":"2026-11-28T15:41:43Z","eventSource":"rds.amazonaws.com","eventName":"DescribeDBInstances","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a","accountId":"111122223333"}},
{"eventVersion":"1.08","eventTime":"2026-11-28T15:41:44Z","eventSource":"rds.amazonaws.com","eventName":"DeleteDBInstance","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a","accountId":"111122223333"}}]}
"#;
        let cfg = ParseConfig::new("ct.json");
        let mut f = Feed::new(Format::Cloudtrail, &cfg, None);
        let mut out = Output::new();
        let nl = memchr::memchr(b'\n', ct).unwrap();
        f.push(&ct[..=nl], &mut out);
        let cp = f.checkpoint(fp());
        assert_eq!((cp.offset, cp.skip), (0, out.events.len() as u64));
        let mut g = Feed::new(Format::Cloudtrail, &cfg, Some(&cp));
        g.push(ct, &mut out);
        g.finish(&mut out);
        let names: Vec<_> = out
            .events
            .iter()
            .map(|e| format!("{:?}", e.get("record.eventName")))
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert_ne!(names[0], names[1]);
    }
}
