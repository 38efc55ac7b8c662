//! [`PartitionSource`]: one partition of a stream read as a live source, so a
//! partition's pipeline is the daemon's usual one (sources → orderer → scanner →
//! one store commit per round).
//!
//! A record is a unit: its lines are parsed to their end when it is read (an entry
//! held for its continuation is flushed at the record's end), so after a record
//! every event of it has been handed out and the partition's checkpoint is simply
//! the record's position. Producers keep an entry's lines in one record (`keibi
//! stream send` cuts batches only before a line that starts an entry; CloudWatch
//! Logs messages are whole entries). Each key (a log) keeps its own parser across
//! records, so what a parser remembers of earlier entries (PostgreSQL's per-process
//! authentication method) carries over as in a file.
//!
//! A record is either raw log lines (the format from [`IngestOptions`] or detected
//! per key) or a CloudWatch Logs subscription message (gzip'd or plain JSON with
//! `logEvents`), read by keibi-parse's CloudWatch parser as everywhere else.
//!
//! A restart (or a new owner after a takeover) opens the partition some time before
//! the stored position to rebuild the detectors' windows: records at or before the
//! `resume` position come out in [`Poll::replay`], later ones as events.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keibi_model::Event;
use keibi_parse::cloudtrail::cloudwatch::{gunzip, is_payload, CloudwatchParser};
use keibi_parse::{Format, Output, ParseConfig, Parser};

use super::{PartitionReader, Position, Record, POSITION_DIGITS};
use crate::feed::{set_instance, Checkpoint, Feed};
use crate::fingerprint::Fingerprint;
use crate::live::{LiveSource, Poll, SourceState};
use crate::merge::{IngestOptions, Notice};
use crate::objects::source_id;
use crate::stream::choose;

/// The largest record read (JetStream's and Kinesis' own limit): a longer one is
/// a notice naming its place, and skipped.
pub const MAX_RECORD: usize = 1 << 20;

/// What a gzip'd record may decompress to; beyond it the record is skipped.
pub const MAX_DECOMPRESSED: usize = 16 << 20;

/// Logs (keys) whose parsers are kept at once; one more drops the least recently
/// used (every record is parsed to its end, so only its memory of earlier entries
/// is lost).
pub const MAX_KEYS: usize = 4096;

/// How long a poll waits for the first record: a poll never blocks the daemon's
/// loop for longer.
pub const FETCH_WAIT: Duration = Duration::from_millis(50);

/// Bytes of records one poll aims at: the count asked for follows the sizes seen.
const POLL_BYTES: usize = 8 << 20;

/// Bounds on the records asked for in one fetch.
const MIN_FETCH: usize = 8;
const MAX_FETCH: usize = 1024;

/// Longest key shown in file names and instance ids (keys come from producers).
const MAX_KEY: usize = 256;

/// The checkpoint key of a partition: the position zero-padded to
/// [`POSITION_DIGITS`] (Kinesis's longest), so keys sort as positions do.
pub fn position_key(position: &Position) -> String {
    position.padded()
}

/// The position a partition checkpoint holds (`None` for another source's).
pub fn checkpoint_position(c: &Checkpoint) -> Option<Position> {
    let k = c.after_key.as_deref()?;
    if k.len() != POSITION_DIGITS {
        return None;
    }
    Position::parse(k)
}

/// The identity of a partition's checkpoints: `stream/partition`.
pub fn partition_fingerprint(stream: &str, partition: &str) -> Fingerprint {
    source_id(&format!("{stream}/{partition}"))
}

/// The database instance a record's key names: the instance of an RDS log group
/// (`/aws/rds/instance/<id>/postgresql`), else the key's last token (split at `.`,
/// `/` and `:`) that is not a log's kind (`db1.postgresql` → `db1`).
pub fn instance_from_key(key: &str) -> Option<String> {
    let rds = key
        .strip_prefix("/aws/rds/instance/")
        .or_else(|| key.strip_prefix("/aws/rds/cluster/"));
    let token = if let Some(rest) = rds {
        rest.split('/').next()
    } else {
        const KINDS: &[&str] = &[
            "postgresql",
            "postgres",
            "pg",
            "mysql",
            "mariadb",
            "log",
            "logs",
            "error",
            "general",
            "slowquery",
            "slow",
            "audit",
            "stderr",
            "csvlog",
            "jsonlog",
            "pgbouncer",
            "cloudtrail",
        ];
        key.rsplit(['.', '/', ':'])
            .filter(|t| !t.is_empty())
            .find(|t| !KINDS.iter().any(|k| t.eq_ignore_ascii_case(k)))
    };
    token
        .filter(|t| !t.is_empty() && t.len() <= MAX_KEY && !t.chars().any(char::is_control))
        .map(str::to_string)
}

/// One key's parser.
struct KeyFeed {
    display: Arc<str>,
    instance: Option<Arc<str>>,
    /// `None` until a record of the key was recognised.
    feed: Option<Feed>,
    /// Lines fed to `feed` before the current record.
    lines: u64,
    used: u64,
}

/// A live source over one partition's reader. See the module's note.
pub struct PartitionSource {
    stream: String,
    partition: String,
    display: Arc<str>,
    fingerprint: Fingerprint,
    reader: Box<dyn PartitionReader>,
    opts: IngestOptions,
    resume: Option<Position>,
    /// The last record read (replayed or handed out).
    last: Option<Position>,
    /// The last checkpoint handed out.
    told: Option<Position>,
    keys: HashMap<String, KeyFeed>,
    uses: u64,
    max: usize,
    ended: bool,
}

impl PartitionSource {
    /// Reads `partition` of `stream` through `reader`; `resume` is the stored
    /// position (records at or before it are replayed, not handed out again).
    pub fn new(
        stream: &str,
        partition: &str,
        reader: Box<dyn PartitionReader>,
        opts: IngestOptions,
        resume: Option<Position>,
    ) -> PartitionSource {
        PartitionSource {
            stream: stream.to_string(),
            partition: partition.to_string(),
            display: Arc::from(format!("{stream}/{partition}")),
            fingerprint: partition_fingerprint(stream, partition),
            reader,
            opts,
            told: resume.clone(),
            resume,
            last: None,
            keys: HashMap::new(),
            uses: 0,
            max: MIN_FETCH * 8,
            ended: false,
        }
    }

    /// The partition's checkpoint at `position`.
    pub fn checkpoint(&self, position: &Position) -> Checkpoint {
        Checkpoint {
            fingerprint: self.fingerprint,
            format: Format::CloudwatchLogs,
            offset: 0,
            line: 0,
            skip: 0,
            done: self.ended,
            after_key: Some(position_key(position)),
            recent: Vec::new(),
        }
    }

    /// The stream's name.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// The partition's id.
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The last position read, replayed or handed out.
    pub fn position(&self) -> Option<&Position> {
        self.last.as_ref()
    }

    /// Reads one record: its events to `poll.events` (or `poll.replay`).
    fn record(&mut self, r: Record, poll: &mut Poll) {
        if self.last.as_ref().is_some_and(|l| &r.position <= l) {
            // Delivered again (a reader reconnecting): already read.
            return;
        }
        self.last = Some(r.position.clone());
        let replay = self.resume.as_ref().is_some_and(|p| &r.position <= p);
        let mut notices = Vec::new();
        let mut out = Output::new();
        if r.data.len() > MAX_RECORD {
            notices.push(self.skipped(
                &r,
                format!("{} bytes, over the 1 MiB a record may hold", r.data.len()),
            ));
        } else {
            self.decode(r.key.as_str(), &r.position, &r.data, &mut out, &mut notices);
        }
        if replay {
            poll.replay.append(&mut out.events);
            poll.notices.extend(
                notices
                    .into_iter()
                    .filter(|n| matches!(n, Notice::Opened { .. })),
            );
            return;
        }
        poll.notices.append(&mut notices);
        if !out.events.is_empty() {
            poll.events.append(&mut out.events);
            poll.marks.resize(poll.events.len(), None);
            if let Some(m) = poll.marks.last_mut() {
                *m = Some(self.checkpoint(&r.position));
            }
        }
    }

    fn skipped(&self, r: &Record, why: String) -> Notice {
        Notice::FileError {
            file: self.display.clone(),
            error: format!("record at position {} skipped: {why}", r.position),
        }
    }

    fn decode(
        &mut self,
        key: &str,
        position: &Position,
        data: &[u8],
        out: &mut Output,
        notices: &mut Vec<Notice>,
    ) {
        let inflated;
        let data = if data.starts_with(&[0x1f, 0x8b]) {
            match gunzip(data, MAX_DECOMPRESSED) {
                Ok(d) => {
                    inflated = d;
                    &inflated[..]
                }
                Err(e) => {
                    notices.push(Notice::FileError {
                        file: self.display.clone(),
                        error: format!("record at position {position} skipped: {e}"),
                    });
                    return;
                }
            }
        } else {
            data
        };
        if is_payload(data) {
            self.payload(key, position, data, out, notices);
        } else {
            self.lines(key, position, data, out, notices);
        }
    }

    /// A CloudWatch Logs subscription message: read whole (its messages are whole
    /// entries), by a parser of its own so nothing of it is held past the record.
    fn payload(
        &mut self,
        key: &str,
        position: &Position,
        data: &[u8],
        out: &mut Output,
        notices: &mut Vec<Notice>,
    ) {
        let display: Arc<str> = Arc::from(format!("{}@{position}", self.key_display(key)));
        let mut cfg = ParseConfig::new(display.clone());
        cfg.pg_prefix = self.opts.pg_prefix.clone();
        cfg.local_offset = self.opts.local_offset;
        cfg.instance = self.opts.instance.clone();
        let mut cw = CloudwatchParser::new(&cfg);
        let mut o = Output::new();
        cw.push(data, &mut o);
        cw.push(b"\n", &mut o);
        cw.finish(&mut o);
        let instance = instance_from_key(key).map(Arc::<str>::from);
        hand_over(
            o,
            out,
            notices,
            &display,
            self.opts.instance.as_deref(),
            instance.as_ref(),
        );
    }

    fn key_display(&self, key: &str) -> Arc<str> {
        let mut k: String = key
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .take(MAX_KEY)
            .collect();
        if k.is_empty() {
            k.push('-');
        }
        Arc::from(format!("{}:{k}", self.display))
    }

    /// Raw log lines of `key`.
    fn lines(
        &mut self,
        key: &str,
        position: &Position,
        data: &[u8],
        out: &mut Output,
        notices: &mut Vec<Notice>,
    ) {
        if !self.keys.contains_key(key) {
            if self.keys.len() >= MAX_KEYS {
                if let Some(oldest) = self
                    .keys
                    .iter()
                    .min_by_key(|(_, k)| k.used)
                    .map(|(k, _)| k.clone())
                {
                    self.keys.remove(&oldest);
                }
            }
            let display = self.key_display(key);
            let instance = instance_from_key(key).map(Arc::<str>::from);
            self.keys.insert(
                key.to_string(),
                KeyFeed {
                    display,
                    instance,
                    feed: None,
                    lines: 0,
                    used: 0,
                },
            );
        }
        self.uses += 1;
        let opts = &self.opts;
        let Some(k) = self.keys.get_mut(key) else {
            return;
        };
        k.used = self.uses;
        if k.feed.is_none() {
            match choose(data, true, opts, false) {
                Ok((format, prefix)) => {
                    notices.push(Notice::Opened {
                        file: k.display.clone(),
                        format,
                    });
                    let mut cfg = ParseConfig::new(k.display.clone());
                    cfg.pg_prefix = opts.pg_prefix.clone().or(prefix);
                    cfg.local_offset = opts.local_offset;
                    cfg.instance = opts.instance.clone();
                    k.feed = Some(Feed::new(format, &cfg, None));
                    k.lines = 0;
                }
                Err(_) => {
                    notices.push(Notice::FileError {
                        file: k.display.clone(),
                        error: "format not recognized in this record; name it with --log-format"
                            .into(),
                    });
                    return;
                }
            }
        }
        let Some(feed) = &mut k.feed else { return };
        let mut o = Output::new();
        feed.push(data, &mut o);
        let mut lines = memchr::memchr_iter(b'\n', data).count() as u64;
        if data.last() != Some(&b'\n') {
            feed.push(b"\n", &mut o);
            lines += 1;
        }
        if feed.line_oriented() {
            feed.flush(&mut o);
        } else {
            // A document format ends with its record.
            feed.finish(&mut o);
            let mut cfg = ParseConfig::new(k.display.clone());
            cfg.pg_prefix = opts.pg_prefix.clone();
            cfg.local_offset = opts.local_offset;
            cfg.instance = opts.instance.clone();
            k.feed = Some(Feed::new(feed.format, &cfg, None));
            k.lines = 0;
        }
        // Evidence names the record and the line in it: the same whoever reads the
        // partition, from wherever it started.
        let file: Arc<str> = Arc::from(format!("{}@{position}", k.display));
        let before = k.lines;
        k.lines = if k.feed.as_ref().is_some_and(Feed::line_oriented) {
            before + lines
        } else {
            0
        };
        for e in &mut o.events {
            e.file = file.clone();
            e.line = e.line.saturating_sub(before);
        }
        for p in &mut o.problems {
            p.line = p.line.saturating_sub(before);
        }
        hand_over(
            o,
            out,
            notices,
            &file,
            opts.instance.as_deref(),
            k.instance.as_ref(),
        );
    }
}

impl LiveSource for PartitionSource {
    fn poll(&mut self, _now: Instant) -> Poll {
        let mut poll = Poll::new();
        if self.ended {
            poll.state = SourceState::Finished;
            return poll;
        }
        let fetched = match self.reader.fetch(self.max, FETCH_WAIT) {
            Ok(f) => f,
            Err(e) => {
                poll.notices.push(Notice::FileError {
                    file: self.display.clone(),
                    error: e.to_string(),
                });
                return poll;
            }
        };
        let full = fetched.records.len() >= self.max;
        if !fetched.records.is_empty() {
            let bytes: usize = fetched.records.iter().map(|r| r.data.len().max(64)).sum();
            let each = bytes / fetched.records.len();
            self.max = (POLL_BYTES / each.max(1)).clamp(MIN_FETCH, MAX_FETCH);
        }
        for r in fetched.records {
            self.record(r, &mut poll);
        }
        if fetched.ended {
            // Once, with the partition's end: a closed partition read to its end
            // before (resumed at its last position) or empty says so too, at its
            // last known position (0 when it never held a record).
            self.ended = true;
            let at = self
                .last
                .clone()
                .or_else(|| self.resume.clone())
                .unwrap_or(Position::from(0));
            poll.checkpoints.push(self.checkpoint(&at));
            self.told = Some(at);
        } else if let Some(last) = self.last.clone() {
            if self.told.as_ref().is_none_or(|t| &last > t) {
                poll.checkpoints.push(self.checkpoint(&last));
                self.told = Some(last);
            }
        }
        poll.state = if self.ended {
            SourceState::Finished
        } else if full {
            SourceState::Reading
        } else {
            SourceState::CaughtUp
        };
        poll
    }
}

/// Polls `source` until a poll reads no record (or the partition ends): the events
/// and notices. For tests and tools reading what a stream holds now.
pub fn read_all(source: &mut PartitionSource) -> (Vec<Event>, Vec<Notice>) {
    let mut events = Vec::new();
    let mut notices = Vec::new();
    loop {
        let before = source.last.clone();
        let p = source.poll(Instant::now());
        events.extend(p.events);
        notices.extend(p.notices);
        if p.state == SourceState::Finished
            || (p.state != SourceState::Reading && source.last == before)
        {
            return (events, notices);
        }
    }
}

/// A record's parse into the poll: its events, with the instance set (the
/// configured one, else `instance`), and its unreadable lines as notices on `file`.
fn hand_over(
    mut o: Output,
    out: &mut Output,
    notices: &mut Vec<Notice>,
    file: &Arc<str>,
    configured: Option<&str>,
    instance: Option<&Arc<str>>,
) {
    set_instance(&mut o.events, configured, instance);
    out.events.append(&mut o.events);
    for p in o.problems {
        notices.push(Notice::Line {
            file: file.clone(),
            line: p.line,
            reason: p.reason,
            unrecognized: p.lines > 0,
        });
    }
}
