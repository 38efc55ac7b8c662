//! Database logs kept in CloudWatch Logs and taken out again as text: an export to
//! S3 (`aws logs create-export-task`: `exportedlogs/<task>/<stream>/000000.gz`, each
//! line `2026-11-28T15:41:43.000Z <message>`) or `aws logs tail` (`<time> <stream>
//! <message>`). RDS sends its PostgreSQL, MySQL and MariaDB logs to CloudWatch one
//! log line per message, so after the time (and the stream) comes a line of the
//! engine's own log, which the engine's parser reads: the event's time is that line's
//! own, not the ingestion time in front of it.
//!
//! The format of the messages is detected from the first lines; a line without the
//! time in front is the rest of a multi-line message and goes to that parser as it is.
//! For `aws logs tail`, the stream (on RDS, the instance id) becomes the events'
//! instance unless one was given.

use crate::format::{detect_among, Format, Sample};
use crate::{LineParser, Output, ParseConfig};

/// Lines held while the messages' format is not known yet.
const DETECT_LINES: usize = 64;
/// Bytes held while the messages' format is not known yet.
const DETECT_BYTES: usize = 64 * 1024;

/// The formats messages may be in: the line formats RDS sends to CloudWatch.
const MESSAGE_FORMATS: &[Format] = &[
    Format::PostgresJson,
    Format::PostgresCsv,
    Format::PostgresStderr,
    Format::MysqlAudit,
    Format::MysqlError,
    Format::MysqlGeneral,
];

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|+00:00|+0000) ` at the start of a line: where the
/// message starts.
fn stamp_len(line: &[u8]) -> Option<usize> {
    let b = line;
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19))
    {
        return None;
    }
    let mut n = 19;
    if b.get(n) == Some(&b'.') {
        n += 1;
        let frac = b[n..]
            .iter()
            .take(9)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if frac == 0 {
            return None;
        }
        n += frac;
    }
    let zone = match b.get(n) {
        Some(b'Z') => 1,
        Some(b'+' | b'-') => {
            let z = b[n + 1..]
                .iter()
                .take(5)
                .take_while(|c| c.is_ascii_digit() || **c == b':')
                .count();
            if z != 4 && z != 5 {
                return None;
            }
            1 + z
        }
        _ => return None,
    };
    n += zone;
    (b.get(n) == Some(&b' ')).then_some(n + 1)
}

/// How lines are laid out: the time only, or the time and the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `<time> <message>` (export to S3).
    Time,
    /// `<time> <stream> <message>` (`aws logs tail`).
    TimeStream,
}

/// The message of a line in `layout`, and the stream when it has one; `None` for a
/// line without the time in front.
fn split(line: &[u8], layout: Layout) -> Option<(&[u8], Option<&[u8]>)> {
    let rest = &line[stamp_len(line)?..];
    match layout {
        Layout::Time => Some((rest, None)),
        Layout::TimeStream => {
            let sp = memchr::memchr(b' ', rest)?;
            Some((&rest[sp + 1..], Some(&rest[..sp])))
        }
    }
}

/// The layout and format of the messages in `lines`, with how sure (0-100).
fn read_layout(lines: &[&[u8]]) -> Option<(Layout, Format, u8)> {
    let mut best: Option<(Layout, Format, u8)> = None;
    for layout in [Layout::Time, Layout::TimeStream] {
        let mut head = Vec::new();
        let mut stamped = 0;
        for l in lines {
            let msg = match split(l, layout) {
                Some((m, _)) => {
                    stamped += 1;
                    m
                }
                // The rest of a multi-line message.
                None if stamped > 0 => l,
                None => continue,
            };
            head.extend_from_slice(msg);
            head.push(b'\n');
        }
        if stamped == 0 {
            continue;
        }
        let sample = Sample::new(&head, true);
        let Some((format, score)) = detect_among(&sample, MESSAGE_FORMATS) else {
            continue;
        };
        if best.is_none_or(|(_, _, b)| score > b) {
            best = Some((layout, format, score));
        }
    }
    best
}

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    // Most lines must carry the time: a message's own log with ISO times (MySQL 8's
    // error log) has no log line after its time, so its messages are not detected.
    let stamped = sample.share(|l| stamp_len(l).is_some());
    if stamped < 50 {
        return 0;
    }
    read_layout(&sample.lines).map_or(0, |(_, _, score)| score.min(stamped))
}

/// Most streams of an `aws logs tail` read with a parser (and instance) each; lines
/// of further streams share one parser without an instance.
const MAX_STREAMS: usize = 64;

/// The messages' reader, once their format is known.
struct Inner {
    layout: Layout,
    format: Format,
    /// For `<time> <message>` lines, and streams beyond [`MAX_STREAMS`].
    shared: Box<dyn LineParser>,
    /// One parser per stream, whose events name the stream as their instance.
    streams: Vec<(Vec<u8>, Box<dyn LineParser>)>,
    /// The stream of the last stamped line: unstamped lines continue its message.
    current: Option<usize>,
}

/// Reads exported CloudWatch Logs lines (see the module documentation).
pub struct ExportParser {
    cfg: ParseConfig,
    /// Lines held for detection, with their line numbers.
    held: Vec<(Vec<u8>, u64)>,
    held_bytes: usize,
    inner: Option<Inner>,
    /// Detection failed: every line is unrecognized.
    unknown: bool,
}

impl ExportParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        ExportParser {
            cfg: cfg.clone(),
            held: Vec::new(),
            held_bytes: 0,
            inner: None,
            unknown: false,
        }
    }

    /// Chooses the messages' format from the held lines, then reads them.
    fn decide(&mut self, out: &mut Output) {
        let held = std::mem::take(&mut self.held);
        self.held_bytes = 0;
        let lines: Vec<&[u8]> = held.iter().map(|(l, _)| l.as_slice()).collect();
        let chosen = read_layout(&lines).and_then(|(layout, format, _)| {
            Some(Inner {
                layout,
                format,
                shared: format.line_parser(&self.cfg)?,
                streams: Vec::new(),
                current: None,
            })
        });
        match chosen {
            Some(inner) => self.inner = Some(inner),
            None => self.unknown = true,
        }
        for (line, lineno) in &held {
            self.feed(line, *lineno, out);
        }
    }

    fn feed(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        let Some(inner) = self.inner.as_mut() else {
            out.unrecognized(
                lineno,
                "CloudWatch Logs export: the messages are in no log format keibi reads",
            );
            return;
        };
        let (msg, parser) = match split(line, inner.layout) {
            Some((msg, Some(stream))) if self.cfg.instance.is_none() => {
                let i = match inner.streams.iter().position(|(s, _)| s == stream) {
                    Some(i) => Some(i),
                    None if inner.streams.len() < MAX_STREAMS => {
                        let mut cfg = self.cfg.clone();
                        cfg.instance =
                            Some(String::from_utf8_lossy(stream).chars().take(256).collect());
                        inner.format.line_parser(&cfg).map(|p| {
                            inner.streams.push((stream.to_vec(), p));
                            inner.streams.len() - 1
                        })
                    }
                    None => None,
                };
                inner.current = i;
                (msg, i)
            }
            Some((msg, _)) => {
                inner.current = None;
                (msg, None)
            }
            // The rest of the last message.
            None => (line, inner.current),
        };
        match parser {
            Some(i) => inner.streams[i].1.line(msg, lineno, out),
            None => inner.shared.line(msg, lineno, out),
        }
    }
}

impl LineParser for ExportParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        if self.inner.is_some() || self.unknown {
            self.feed(line, lineno, out);
            return;
        }
        self.held_bytes += line.len();
        self.held.push((line.to_vec(), lineno));
        if self.held.len() >= DETECT_LINES || self.held_bytes >= DETECT_BYTES {
            self.decide(out);
        }
    }

    fn finish(&mut self, out: &mut Output) {
        if self.inner.is_none() && !self.unknown && !self.held.is_empty() {
            self.decide(out);
        }
        if let Some(inner) = self.inner.as_mut() {
            inner.shared.finish(out);
            for (_, p) in &mut inner.streams {
                p.finish(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::parse_bytes;
    use keibi_model::{Action, SourceKind};

    /// Each line of `log` as `create-export-task` writes it to S3.
    fn exported(log: &str) -> String {
        let mut s = String::new();
        for (i, l) in log.lines().enumerate() {
            if l.starts_with('\t') {
                // A multi-line message: only its first line carries the time.
                s.push_str(l);
            } else {
                s.push_str(&format!(
                    "2026-11-28T16:00:{:02}.{:03}Z {l}",
                    i % 60,
                    i % 1000
                ));
            }
            s.push('\n');
        }
        s
    }

    fn parse(format: Format, cfg: &ParseConfig, text: &str) -> Output {
        let out = parse_bytes(format, cfg, text.as_bytes(), 1 << 16);
        let small = parse_bytes(format, cfg, text.as_bytes(), 7);
        assert_eq!(out.events, small.events, "chunking changed the events");
        out
    }

    const PG: &str = include_str!("../../tests/data/postgres/postgresql-hydra-bruteforce.log");

    #[test]
    fn an_export_to_s3_reads_as_the_engine_log_it_carries() {
        let text = exported(PG);
        assert_eq!(
            crate::detect(text.as_bytes(), true),
            Some(Format::CloudwatchExport)
        );
        let cfg = ParseConfig::new("exportedlogs/t1/orders-db/000000");
        let plain = parse(Format::PostgresStderr, &cfg, PG);
        let out = parse(Format::CloudwatchExport, &cfg, &text);
        assert_eq!(out.problems, vec![]);
        // The same events as the log itself: times, lines and all.
        assert_eq!(out.events, plain.events);
        assert!(out
            .events
            .iter()
            .any(|e| e.action == Action::LoginFailure && e.source == SourceKind::PostgresStderr));
    }

    #[test]
    fn multi_line_messages_continue_without_the_time() {
        let log = concat!(
            "2026-11-28 15:41:43 UTC:10.0.0.5(40124):app@shop:[8002]:LOG:  statement: SELECT a,\n",
            "\tb FROM t\n",
            "2026-11-28 15:41:44 UTC:10.0.0.5(40124):app@shop:[8002]:LOG:  disconnection: session time: 0:00:01.000 user=app database=shop host=10.0.0.5 port=40124\n",
        );
        let out = parse(
            Format::CloudwatchExport,
            &ParseConfig::new("x"),
            &exported(log),
        );
        assert_eq!(out.problems, vec![]);
        let st = out.events[0].statement.as_deref().unwrap();
        assert_eq!(st.text, "SELECT a,\nb FROM t");
        assert_eq!(out.events[1].action, Action::Disconnect);
    }

    #[test]
    fn logs_tail_names_each_stream_as_the_instance() {
        let text = concat!(
            "2026-11-28T15:42:14.000000+00:00 orders-db 20261128 15:42:14,orders-db,app,10.0.0.7,6,0,FAILED_CONNECT,,,1045\n",
            "2026-11-28T15:42:14.500000+00:00 billing-db 20261128 15:42:14,billing-db,root,10.0.0.8,9,0,FAILED_CONNECT,,,1045\n",
            "2026-11-28T15:42:15.000000+00:00 orders-db 20261128 15:42:15,orders-db,app,10.0.0.7,7,0,CONNECT,shop,,0\n",
        );
        assert_eq!(
            crate::detect(text.as_bytes(), true),
            Some(Format::CloudwatchExport)
        );
        let out = parse(
            Format::CloudwatchExport,
            &ParseConfig::new("tail.txt"),
            text,
        );
        assert_eq!(out.problems, vec![]);
        let got: Vec<(u64, Option<&str>, Action)> = out
            .events
            .iter()
            .map(|e| (e.line, e.instance.as_deref(), e.action))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, Some("orders-db"), Action::LoginFailure),
                (2, Some("billing-db"), Action::LoginFailure),
                (3, Some("orders-db"), Action::LoginSuccess),
            ]
        );
        // An instance given by the user wins over the streams.
        let mut cfg = ParseConfig::new("tail.txt");
        cfg.instance = Some("given".into());
        let out = parse(Format::CloudwatchExport, &cfg, text);
        assert!(out
            .events
            .iter()
            .all(|e| e.instance.as_deref() == Some("given")));
    }

    #[test]
    fn logs_with_iso_times_of_their_own_are_not_exports() {
        let mysql8 = concat!(
            "2019-01-03T08:50:04.634875Z 113 [Note] [MY-010926] [Server] Access denied for user 'root'@'192.0.2.1' (using password: NO)\n",
            "2019-01-03T08:50:05.634875Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections.\n",
        );
        assert_eq!(sniff(&Sample::new(mysql8.as_bytes(), true)), 0);
        assert_eq!(
            crate::detect(mysql8.as_bytes(), true),
            Some(Format::MysqlError)
        );
        // Exported, it is one.
        let text = exported(mysql8);
        assert_eq!(
            crate::detect(text.as_bytes(), true),
            Some(Format::CloudwatchExport)
        );
        let out = parse(Format::CloudwatchExport, &ParseConfig::new("x"), &text);
        assert_eq!(out.events[0].action, Action::LoginFailure);
        assert_eq!(
            out.events[0].time.to_rfc3339(),
            "2019-01-03T08:50:04.634875+00:00"
        );
    }

    #[test]
    fn messages_in_no_known_format_are_unrecognized() {
        let text = "2026-11-28T16:00:00.000Z hello\n2026-11-28T16:00:01.000Z world\n";
        let out = parse(Format::CloudwatchExport, &ParseConfig::new("x"), text);
        assert_eq!(out.events, vec![]);
        assert_eq!(out.unrecognized_lines(), 2);
        assert!(out.problems[0].reason.contains("no log format"));
    }

    #[test]
    fn hostile_lines_do_not_panic() {
        for text in [
            "2026-11-28T16:00:00.Z x\n",
            "2026-11-28T16:00:00+\n",
            "2026-11-28T16:00:00.0000000000000Z \n",
            "2026-11-28T16:00:00Z",
            "2026-11-28T16:00:00Z \u{0}\u{fffd}\n\t\n",
        ] {
            let _ = parse_bytes(
                Format::CloudwatchExport,
                &ParseConfig::new("x"),
                text.as_bytes(),
                3,
            );
        }
    }
}
