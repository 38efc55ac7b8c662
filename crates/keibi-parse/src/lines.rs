//! Turns byte chunks into lines for line-oriented formats: line numbers, `\r\n`,
//! lines split across chunks, and a bound on line length so a 10 MB line cannot
//! make memory grow.

use crate::{Output, Parser};

/// Longest line handed to a parser; longer lines are truncated to this (with a warning).
pub const MAX_LINE: usize = 1 << 20;

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
    partial: Vec<u8>,
    /// Bytes of the current line dropped beyond [`MAX_LINE`].
    dropped: u64,
    lineno: u64,
}

impl<P: LineParser> Lines<P> {
    pub fn new(inner: P) -> Self {
        Lines {
            inner,
            partial: Vec::new(),
            dropped: 0,
            lineno: 0,
        }
    }

    pub fn into_inner(self) -> P {
        self.inner
    }

    fn emit(&mut self, line: &[u8], out: &mut Output) {
        self.lineno += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if self.dropped > 0 {
            out.warning(
                self.lineno,
                format!(
                    "line is {} bytes long; read only its first {} bytes",
                    self.dropped + MAX_LINE as u64,
                    MAX_LINE
                ),
            );
            self.dropped = 0;
        }
        self.inner.line(line, self.lineno, out);
    }
}

impl<P: LineParser> Parser for Lines<P> {
    fn push(&mut self, mut chunk: &[u8], out: &mut Output) {
        while let Some(nl) = memchr::memchr(b'\n', chunk) {
            let (line, rest) = (&chunk[..nl], &chunk[nl + 1..]);
            chunk = rest;
            if self.partial.is_empty() && self.dropped == 0 {
                if line.len() <= MAX_LINE {
                    self.emit(line, out);
                    continue;
                }
                self.dropped = (line.len() - MAX_LINE) as u64;
                self.emit(&line[..MAX_LINE], out);
                continue;
            }
            self.append(line);
            let partial = std::mem::take(&mut self.partial);
            self.emit(&partial, out);
            self.partial = partial;
            self.partial.clear();
        }
        self.append(chunk);
    }

    fn finish(&mut self, out: &mut Output) {
        if !self.partial.is_empty() || self.dropped > 0 {
            let partial = std::mem::take(&mut self.partial);
            self.emit(&partial, out);
        }
        self.inner.finish(out);
    }
}

impl<P> Lines<P> {
    fn append(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.partial.len());
        let take = bytes.len().min(room);
        self.partial.extend_from_slice(&bytes[..take]);
        self.dropped += (bytes.len() - take) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn long_lines_are_truncated_with_a_warning() {
        let big = vec![b'x'; MAX_LINE + 10];
        let (lines, out) = run(&[&big[..5], &big[5..], b"\nnext\n"]);
        assert_eq!(lines[0].1.len(), MAX_LINE);
        assert_eq!(lines[1], (2, b"next".to_vec()));
        assert_eq!(out.problems.len(), 1);
        assert_eq!(out.problems[0].line, 1);
        assert_eq!(out.unrecognized_lines(), 0);
        let (lines, out) = run(&[&big, b"\n"]);
        assert_eq!(lines.len(), 1);
        assert_eq!(out.problems.len(), 1);
    }
}
