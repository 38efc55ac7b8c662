//! Turns byte chunks into lines for line-oriented formats: line numbers, `\r\n`,
//! lines split across chunks, and a bound on line length so a 10 MB line cannot
//! make memory grow.
//!
//! A line longer than the bound keeps its head and its tail, with a marker of what was
//! left out between them: an attacker who pads a statement (`SELECT 1 /* 2 MB */;
//! DROP TABLE orders`) must not hide what follows the padding. Events read from such
//! a line say so (`Event::oversized`).

use std::collections::VecDeque;

use keibi_model::cut::{cut_marker, CUT_MARK};
use keibi_model::Event;

use crate::{Output, Parser};

/// Longest line handed to a parser as it is; of a longer line, the first half and the
/// last half (less room for the marker) are handed on, joined by a [`cut_marker`]
/// (with a warning). [`Lines::with_max_line`] sets another bound.
pub const MAX_LINE: usize = 1 << 20;
/// Room for the marker, so that head, marker and tail stay within the bound.
const MARKER_ROOM: usize = 64;
/// Bytes before the tail kept to see whether the tail's first byte is escaped.
const TAIL_CONTEXT: usize = 16;
/// The smallest bound [`Lines::with_max_line`] accepts.
const MIN_MAX_LINE: usize = 4 * MARKER_ROOM;
/// How many recent oversized lines are remembered to mark the events read from them
/// (a multi-line record ends a few lines after its oversized one).
const RECENT_CUTS: usize = 16;

/// A parser of one physical line at a time.
pub trait LineParser: Send {
    /// One line without its terminator (`\n`, `\r\n`), at 1-based `lineno`. May be
    /// invalid UTF-8 and at most [`MAX_LINE`] bytes long.
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output);
    /// End of input: flush a pending multi-line record.
    fn finish(&mut self, _out: &mut Output) {}
}

/// Adapts a [`LineParser`] to [`Parser`].
pub struct Lines<P> {
    inner: P,
    /// Longest line handed on whole ([`MAX_LINE`]).
    max_line: usize,
    /// Bytes kept of the start of an oversized line: half the bound.
    head: usize,
    /// Bytes kept of its end: the other half, less room for the marker.
    tail_len: usize,
    /// The window of its latest bytes that is kept: the tail and a little context.
    window: usize,
    /// The current line while it is within the bound; once longer, its head.
    partial: Vec<u8>,
    /// Once the current line is longer than the bound: its latest bytes, at least
    /// `window` of them (fewer only at first) and at most twice that between chunks.
    tail: Vec<u8>,
    /// Bytes of the current line so far.
    len: u64,
    lineno: u64,
    /// Recent oversized lines: (line number, length).
    cuts: VecDeque<(u64, u64)>,
}

impl<P: LineParser> Lines<P> {
    pub fn new(inner: P) -> Self {
        Self::with_max_line(inner, MAX_LINE)
    }

    /// With a lower bound than [`MAX_LINE`] (at least 256 bytes).
    pub fn with_max_line(inner: P, max_line: usize) -> Self {
        let max_line = max_line.clamp(MIN_MAX_LINE, MAX_LINE);
        let tail_len = max_line / 2 - MARKER_ROOM;
        Lines {
            inner,
            max_line,
            head: max_line / 2,
            tail_len,
            window: tail_len + TAIL_CONTEXT,
            partial: Vec::new(),
            tail: Vec::new(),
            len: 0,
            lineno: 0,
            cuts: VecDeque::new(),
        }
    }

    pub fn into_inner(self) -> P {
        self.inner
    }

    /// Hands one whole line (at most `max_line` bytes) to the parser.
    fn emit(&mut self, line: &[u8], out: &mut Output) {
        self.lineno += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let before = out.events.len();
        self.inner.line(line, self.lineno, out);
        self.mark(out, before);
    }

    /// Hands on an oversized line of `len` bytes as its `head`, a marker and the end
    /// of `window` (its latest bytes: the tail and a little before it).
    fn emit_cut(&mut self, head: &[u8], window: &[u8], len: u64, out: &mut Output) {
        let head = &head[..head_end(head)];
        let tail = &window[tail_start(window, self.tail_len)..];
        let skipped = len - (head.len() + tail.len()) as u64;
        let mut line = Vec::with_capacity(head.len() + MARKER_ROOM + tail.len());
        line.extend_from_slice(head);
        line.extend_from_slice(cut_marker(skipped).as_bytes());
        line.extend_from_slice(tail);
        if self.cuts.len() == RECENT_CUTS {
            self.cuts.pop_front();
        }
        self.cuts.push_back((self.lineno + 1, len));
        out.warning(
            self.lineno + 1,
            format!(
                "line is {len} bytes long; read its first {} and last {} bytes, the {skipped} \
                 between them are left out",
                head.len(),
                tail.len()
            ),
        );
        self.emit(&line, out);
    }

    /// Marks the events the parser just produced from an oversized line: those whose
    /// record spans a recent cut line and whose text carries its marker (a record that
    /// ended before the cut line and was only flushed by it has no marker).
    fn mark(&self, out: &mut Output, before: usize) {
        if self.cuts.is_empty() {
            return;
        }
        for e in &mut out.events[before..] {
            // The first cut line of the record (they are in line order).
            let cut = self
                .cuts
                .iter()
                .find(|(l, _)| e.line <= *l && *l <= self.lineno);
            if let Some(&(_, len)) = cut {
                if carries_marker(e) {
                    e.oversized = Some(len);
                }
            }
        }
    }

    /// Ends the line held in `partial` (and `tail`).
    fn end_line(&mut self, out: &mut Output) {
        let partial = std::mem::take(&mut self.partial);
        if self.len > self.max_line as u64 {
            let tail = std::mem::take(&mut self.tail);
            let keep = tail.len().saturating_sub(self.window);
            self.emit_cut(&partial, &tail[keep..], self.len, out);
            // An oversized line is rare: its tail buffer (up to 1.5 MiB) is not kept.
        } else {
            self.emit(&partial, out);
        }
        self.partial = partial;
        self.partial.clear();
        self.len = 0;
    }
}

impl<P: LineParser> Parser for Lines<P> {
    fn push(&mut self, mut chunk: &[u8], out: &mut Output) {
        while let Some(nl) = memchr::memchr(b'\n', chunk) {
            let (line, rest) = (&chunk[..nl], &chunk[nl + 1..]);
            chunk = rest;
            if self.len == 0 {
                if line.len() <= self.max_line {
                    self.emit(line, out);
                } else {
                    let (head, tail) = (&line[..self.head], &line[line.len() - self.window..]);
                    self.emit_cut(head, tail, line.len() as u64, out);
                }
                continue;
            }
            self.append(line);
            self.end_line(out);
        }
        self.append(chunk);
    }

    fn finish(&mut self, out: &mut Output) {
        if self.len > 0 {
            self.end_line(out);
        }
        let before = out.events.len();
        self.inner.finish(out);
        self.mark(out, before);
    }
}

impl<P> Lines<P> {
    /// Adds bytes of the current line: to `partial` while the line is within the
    /// bound; past it, `partial` keeps the head and `tail` the latest bytes.
    fn append(&mut self, mut bytes: &[u8]) {
        let was_cut = self.len > self.max_line as u64;
        self.len += bytes.len() as u64;
        if self.len <= self.max_line as u64 {
            self.partial.extend_from_slice(bytes);
            return;
        }
        if !was_cut {
            if self.partial.len() > self.head {
                self.tail.extend_from_slice(&self.partial[self.head..]);
                self.partial.truncate(self.head);
            } else {
                let take = (self.head - self.partial.len()).min(bytes.len());
                self.partial.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
            }
        }
        if bytes.len() >= self.window {
            self.tail.clear();
            self.tail
                .extend_from_slice(&bytes[bytes.len() - self.window..]);
            return;
        }
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > 2 * self.window {
            let drop = self.tail.len() - self.window;
            self.tail.drain(..drop);
        }
    }
}

/// Where to end the head of a cut line: not inside a UTF-8 sequence, and not after an
/// unpaired backslash (which would escape the marker's first character in a JSON or
/// C-style escaped string).
fn head_end(head: &[u8]) -> usize {
    let mut end = head.len();
    // The start of the last character, if it is a multi-byte one cut short.
    if let Some(back) = head.iter().rev().take(4).position(|b| b & 0xC0 != 0x80) {
        let start = head.len() - 1 - back;
        let need = match head[start] {
            b if b >= 0xF0 => 4,
            b if b >= 0xE0 => 3,
            b if b >= 0xC0 => 2,
            _ => 1,
        };
        if start + need > head.len() {
            end = start;
        }
    }
    let slashes = head[..end]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count();
    end - slashes % 2
}

/// Where the tail of a cut line starts in `window` (its last bytes): `tail` bytes
/// from the end, moved on past a character escaped by a backslash that is left out (a
/// JSON string's `\"` must not become a closing `"`) and past the rest of a UTF-8
/// sequence. The bytes before it are only context.
fn tail_start(window: &[u8], tail: usize) -> usize {
    let mut start = window.len().saturating_sub(tail);
    let slashes = window[..start]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count();
    if slashes % 2 == 1 {
        start += 1;
    }
    let from = start;
    while start < window.len() && start - from < 3 && window[start] & 0xC0 == 0x80 {
        start += 1;
    }
    start
}

/// Whether an event's text holds a cut marker.
fn carries_marker(e: &Event) -> bool {
    let has = |s: &str| memchr::memmem::find(s.as_bytes(), CUT_MARK.as_bytes()).is_some();
    e.statement.as_deref().is_some_and(|st| has(&st.text))
        || e.message.as_deref().is_some_and(has)
        || e.detail.as_deref().is_some_and(has)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: usize = MAX_LINE / 2;
    const TAIL: usize = MAX_LINE / 2 - MARKER_ROOM;
    const TAIL_WINDOW: usize = TAIL + TAIL_CONTEXT;

    #[derive(Default)]
    struct Collect(Vec<(u64, Vec<u8>)>);
    impl LineParser for Collect {
        fn line(&mut self, line: &[u8], lineno: u64, _out: &mut Output) {
            self.0.push((lineno, line.to_vec()));
        }
    }

    fn run(chunks: &[&[u8]]) -> (Vec<(u64, Vec<u8>)>, Output) {
        let mut p = Lines::new(Collect::default());
        let mut out = Output::new();
        for c in chunks {
            p.push(c, &mut out);
        }
        p.finish(&mut out);
        (p.into_inner().0, out)
    }

    #[test]
    fn lines_across_chunks_and_crlf() {
        let (lines, out) = run(&[b"ab", b"c\r\nd", b"e\n", b"\nlast"]);
        let got: Vec<_> = lines
            .iter()
            .map(|(n, l)| (*n, String::from_utf8_lossy(l).into_owned()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "abc".into()),
                (2, "de".into()),
                (3, "".into()),
                (4, "last".into())
            ]
        );
        assert!(out.problems.is_empty());
    }

    /// `SELECT 1 /*` + `pad` bytes + `*/; DROP TABLE orders`.
    fn padded(pad: usize) -> Vec<u8> {
        let mut l = b"SELECT 1 /*".to_vec();
        l.resize(l.len() + pad, b'x');
        l.extend_from_slice(b"*/; DROP TABLE orders");
        l
    }

    /// Every way of feeding a line: whole, in two, in many small chunks, in one chunk
    /// with other lines.
    fn feeds(line: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut with_nl = line.to_vec();
        with_nl.extend_from_slice(b"\r\nnext\n");
        let small: Vec<Vec<u8>> = with_nl.chunks(64 * 1024 + 7).map(<[u8]>::to_vec).collect();
        let mid = line.len() / 3;
        vec![
            vec![with_nl.clone()],
            vec![with_nl[..mid].to_vec(), with_nl[mid..].to_vec()],
            vec![with_nl[..5].to_vec(), with_nl[5..].to_vec()],
            small,
            vec![line.to_vec()],
        ]
    }

    #[test]
    fn a_line_within_the_bound_is_whole() {
        let line = padded(MAX_LINE - 40);
        assert!(line.len() <= MAX_LINE);
        for feed in feeds(&line) {
            let chunks: Vec<&[u8]> = feed.iter().map(Vec::as_slice).collect();
            let (lines, out) = run(&chunks);
            assert_eq!(lines[0], (1, line.clone()));
            assert!(out.problems.is_empty());
        }
    }

    #[test]
    fn an_oversized_line_keeps_its_head_and_tail() {
        for size in [MAX_LINE + 1, MAX_LINE + 10, 3 * MAX_LINE + 12_345] {
            let line = padded(size);
            for feed in feeds(&line) {
                let chunks: Vec<&[u8]> = feed.iter().map(Vec::as_slice).collect();
                let (lines, out) = run(&chunks);
                // Fed with its `\r\n`, the line's length counts the `\r` (stripped after).
                let crlf = lines.len() > 1;
                let len = line.len() + usize::from(crlf);
                let skipped = (len - HEAD - TAIL) as u64;
                let (n, got) = &lines[0];
                assert_eq!(*n, 1);
                assert!(got.len() <= MAX_LINE, "{} > bound", got.len());
                let text = String::from_utf8_lossy(got);
                assert!(text.starts_with("SELECT 1 /*xxx"), "head kept");
                assert!(text.ends_with("xxx*/; DROP TABLE orders"), "tail kept");
                assert!(text.contains(&cut_marker(skipped)), "marker says how much");
                assert_eq!(
                    got.len(),
                    HEAD + TAIL + cut_marker(skipped).len() - usize::from(crlf)
                );
                if crlf {
                    assert_eq!(lines[1], (2, b"next".to_vec()));
                }
                assert_eq!(out.problems.len(), 1);
                assert_eq!(out.problems[0].line, 1);
                let reason = &out.problems[0].reason;
                assert!(reason.contains(&format!("is {len} bytes long")), "{reason}");
                assert_eq!(out.unrecognized_lines(), 0);
            }
        }
    }

    #[test]
    fn a_cut_never_splits_a_character_or_leaves_a_lone_backslash() {
        // Multi-byte characters all along: the head ends and the tail starts on
        // character boundaries.
        let line = "é漢😀".repeat(MAX_LINE / 4);
        let (lines, _) = run(&[line.as_bytes(), b"\n"]);
        assert!(std::str::from_utf8(&lines[0].1).is_ok());
        // A JSON string of escaped quotes: the head does not end on an unpaired `\`.
        let mut json = b"{\"message\":\"".to_vec();
        json.extend(b"\\\"".repeat(MAX_LINE));
        json.extend_from_slice(b"; DROP TABLE orders\"}");
        let (lines, _) = run(&[&json, b"\n"]);
        let v: serde_json::Value = serde_json::from_slice(&lines[0].1).expect("still JSON");
        assert!(v["message"]
            .as_str()
            .unwrap()
            .ends_with("; DROP TABLE orders"));
        assert_eq!(head_end(b"ab\\"), 2);
        assert_eq!(head_end(b"ab\\\\"), 4);
        assert_eq!(head_end("aé".as_bytes()), 3);
        assert_eq!(head_end(&"aé".as_bytes()[..2]), 1);
        assert_eq!(tail_start(&"é".as_bytes()[1..], TAIL), 1);
        assert_eq!(tail_start(b"\"x", TAIL), 0);
        assert_eq!(
            tail_start(b"ab\\\"x", 2),
            4,
            "an escaped quote is not the start"
        );
    }

    /// A lower bound cuts the same way (the fuzz target's way to reach the cut).
    #[test]
    fn a_lower_bound_cuts_small_lines() {
        let mut p = Lines::with_max_line(Collect::default(), 10);
        let mut out = Output::new();
        let line = padded(1000);
        p.push(&line, &mut out);
        p.push(b"\nshort\n", &mut out);
        p.finish(&mut out);
        let lines = p.into_inner().0;
        let text = String::from_utf8_lossy(&lines[0].1);
        assert!(text.starts_with("SELECT 1 /*") && text.ends_with("*/; DROP TABLE orders"));
        assert_eq!(lines[0].1.len(), 128 + 64 + cut_marker(1032 - 192).len());
        assert_eq!(lines[1].1, b"short");
    }

    /// Memory stays bounded whatever the line's length: the tail is a window.
    #[test]
    fn an_endless_line_holds_bounded_memory() {
        let mut p = Lines::new(Collect::default());
        let mut out = Output::new();
        let chunk = vec![b'y'; 256 * 1024];
        for _ in 0..200 {
            p.push(&chunk, &mut out);
            assert!(p.partial.capacity() <= MAX_LINE + 256 * 1024);
            assert!(p.tail.len() <= 2 * TAIL_WINDOW);
        }
        p.push(b"END\n", &mut out);
        let lines = p.into_inner().0;
        assert!(lines[0].1.ends_with(b"yyyEND"));
        assert!(String::from_utf8_lossy(&lines[0].1).contains(&format!(
            "{CUT_MARK}{} bytes not read",
            200 * 256 * 1024 + 3 - HEAD - TAIL
        )));
    }

    /// The real servers' logs of a padded query (`tests/data/oversized/README.md`):
    /// every format keeps the statement's end, marks exactly the events read from the
    /// long lines, and reads every line.
    #[test]
    fn real_oversized_statements_in_every_format() {
        use crate::testutil::parse_bytes;
        use crate::{Format, ParseConfig};
        use std::io::Read;

        let cases: [(&[u8], Format, usize, bool); 5] = [
            (
                include_bytes!("../tests/data/oversized/postgresql-rds-prefix.log.gz"),
                Format::PostgresStderr,
                2,
                true,
            ),
            (
                include_bytes!("../tests/data/oversized/postgresql.csv.gz"),
                Format::PostgresCsv,
                2,
                true,
            ),
            (
                include_bytes!("../tests/data/oversized/postgresql.json.gz"),
                Format::PostgresJson,
                2,
                true,
            ),
            (
                include_bytes!("../tests/data/oversized/mariadb-general.log.gz"),
                Format::MysqlGeneral,
                2,
                true,
            ),
            (
                include_bytes!("../tests/data/oversized/mariadb-server_audit.log.gz"),
                Format::MysqlAudit,
                1,
                false,
            ),
        ];
        for (gz, format, padded, drop_in_tail) in cases {
            let mut bytes = Vec::new();
            flate2::read::GzDecoder::new(gz)
                .read_to_end(&mut bytes)
                .unwrap();
            for chunk in [256 * 1024, 7_777] {
                let what = format!("{format} in chunks of {chunk}");
                let out = parse_bytes(format, &ParseConfig::new("f"), &bytes, chunk);
                assert_eq!(out.unrecognized_lines(), 0, "{what}: {:?}", out.problems);
                let cut: Vec<&Event> = out
                    .events
                    .iter()
                    .filter(|e| e.oversized.is_some())
                    .collect();
                assert_eq!(cut.len(), padded, "{what}");
                for e in &cut {
                    let text = &e.statement.as_ref().expect("a statement").text;
                    let (head, tail) = text.split_once(" bytes not read ...] ").expect("marker");
                    assert!(
                        head.contains("SELECT") && head.ends_with(|c: char| c.is_ascii_digit())
                    );
                    assert_eq!(tail.contains("DROP TABLE orders"), drop_in_tail, "{what}");
                    assert!(e.oversized.unwrap() > 2 << 20, "{what}");
                }
                // The bulk INSERT and the statements around the padded one are whole
                // and unmarked; the DROP is an event of its own on server_audit.
                let bulk = out.events.iter().find(|e| {
                    e.statement
                        .as_ref()
                        .is_some_and(|s| s.text.contains("customer10999@"))
                });
                assert!(bulk.is_some_and(|e| e.oversized.is_none()), "{what}");
                let done = out.events.iter().find(|e| {
                    e.statement
                        .as_ref()
                        .is_some_and(|s| s.text.contains("keibi-oversized-done"))
                });
                assert!(done.is_some_and(|e| e.oversized.is_none()), "{what}");
                if !drop_in_tail {
                    assert!(out.events.iter().any(|e| e.oversized.is_none()
                        && e.statement
                            .as_ref()
                            .is_some_and(|s| s.text == "DROP TABLE orders")));
                }
            }
        }
    }
}
