//! Cuts a stream of JSON bytes into one value at a time, so JSON log formats (MySQL
//! Enterprise Audit, CloudTrail, CloudWatch Logs exports) can be read in chunks with
//! bounded memory, whatever their layout: one object per line, a pretty-printed
//! top-level array, or an envelope such as `{"Records":[...]}` holding the records.
//!
//! The splitter does not parse values: it follows strings, escapes and brackets well
//! enough to find where each value ends, and checks the structure (keys, `:` and `,` in
//! the right places) so that a truncated record is noticed where the next one starts
//! instead of swallowing the rest of the input. Callers parse each value with
//! `serde_json` and report what it rejects.
//!
//! ```
//! use keibi_parse::jsonsplit::{JsonSplitter, Piece};
//!
//! let mut s = JsonSplitter::with_array_keys(1 << 20, &["Records"]);
//! let mut records = Vec::new();
//! let mut on_piece = |p: Piece<'_>| {
//!     if let Piece::Value { bytes, line } = p {
//!         records.push((String::from_utf8_lossy(bytes).into_owned(), line));
//!     }
//! };
//! s.push(b"{\"Records\":[\n{\"a\":1},\n{\"b\":", &mut on_piece);
//! s.push(b"\"}\"}\n]}\n", &mut on_piece);
//! s.finish(&mut on_piece);
//! assert_eq!(records, [("{\"a\":1}".to_string(), 2), ("{\"b\":\"}\"}".to_string(), 3)]);
//! ```

use std::fmt;

/// Deepest nesting followed; deeper input is reported invalid (serde_json stops at 128).
pub const MAX_DEPTH: usize = 1024;

/// What the splitter found: a value, an envelope, or input it skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// One complete value: a top-level object, or (with [`JsonSplitter::with_array_keys`])
    /// one element of a selected array. `line` is the 1-based line of its first byte.
    Value { bytes: &'a [u8], line: u64 },
    /// With [`JsonSplitter::with_array_keys`] only: a top-level object once it closes,
    /// with every selected array emptied (`{"Records":[]}`), after its elements were
    /// given as [`Piece::Value`]s. `selected` is false when it had none of the keys: it
    /// is then whole, and is often itself a record (JSON lines of bare records).
    Outer {
        bytes: &'a [u8],
        line: u64,
        selected: bool,
    },
    /// Input that yielded no value, starting at `line` and covering `lines` lines.
    Skipped { line: u64, lines: u64, why: Skip },
}

/// Why input was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Bytes between values that are not whitespace, `[`, `]` or `,` (and do not start an object).
    Garbage,
    /// A value longer than the bound given to [`JsonSplitter::new`]; it was read past, not kept.
    TooLarge { max: usize },
    /// A value whose structure is broken (truncated, most often); reading resumed at the
    /// next `{` outside it.
    Invalid(&'static str),
    /// A value still open at the end of input.
    Unterminated,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Garbage => f.write_str("expected a JSON object"),
            Skip::TooLarge { max } => write!(f, "JSON value longer than {max} bytes"),
            Skip::Invalid(why) => write!(f, "invalid JSON: {why}"),
            Skip::Unterminated => f.write_str("JSON value not terminated at end of input"),
        }
    }
}

/// What the structure allows next inside a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    KeyOrClose,
    Key,
    Colon,
    Value,
    ValueOrClose,
    CommaOrClose,
}

/// Container kinds on the stack; `SELECTED` is an array whose elements are given one by one.
const OBJECT: u8 = b'{';
const ARRAY: u8 = b'[';
const SELECTED: u8 = b'S';

/// Longest top-level key compared with the wanted keys.
const MAX_KEY: usize = 64;

/// The bytes of one value being read, kept as a slice of the current chunk while it
/// lies in one chunk and copied only when it spans chunks.
#[derive(Debug, Default)]
struct Capture {
    active: bool,
    /// Start of the part of the value in the current chunk, `None` while paused.
    seg: Option<usize>,
    buf: Vec<u8>,
    /// The value outgrew the bound: its bytes are dropped, its end is still looked for.
    over: bool,
    line: u64,
}

impl Capture {
    fn begin(&mut self, i: usize, line: u64) {
        self.active = true;
        self.seg = Some(i);
        self.buf.clear();
        self.over = false;
        self.line = line;
    }

    fn append(&mut self, bytes: &[u8], max: usize) {
        if self.over {
            return;
        }
        if self.buf.len() + bytes.len() > max {
            self.over = true;
            self.buf = Vec::new();
        } else {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Stops capturing after `chunk[..end]`.
    fn pause(&mut self, chunk: &[u8], end: usize, max: usize) {
        if let Some(s) = self.seg.take() {
            self.append(chunk.get(s..end).unwrap_or_default(), max);
        }
    }

    /// The whole value, ending at `chunk[..end]`; `None` when it was too large.
    fn take<'a>(&'a mut self, chunk: &'a [u8], end: usize, max: usize) -> Option<&'a [u8]> {
        self.active = false;
        let seg = self
            .seg
            .take()
            .and_then(|s| chunk.get(s..end))
            .unwrap_or_default();
        if self.buf.is_empty() && !self.over {
            return (seg.len() <= max).then_some(seg);
        }
        self.append(seg, max);
        (!self.over).then_some(&self.buf[..])
    }

    fn reset(&mut self) {
        self.active = false;
        self.seg = None;
        self.over = false;
        if self.buf.capacity() > 1 << 16 {
            self.buf = Vec::new();
        } else {
            self.buf.clear();
        }
    }
}

/// Splits a JSON byte stream into values; see the module documentation.
#[derive(Debug)]
pub struct JsonSplitter {
    max: usize,
    /// Top-level keys whose array elements are wanted; empty gives top-level objects.
    keys: Vec<Vec<u8>>,
    line: u64,
    /// Containers open in the current top-level object.
    stack: Vec<u8>,
    expect: Expect,
    in_string: bool,
    escape: bool,
    /// Inside a bare literal (number, `true`, `null` ...).
    scalar: bool,
    /// The string being read is a key of the top-level object, compared with `keys`.
    key_string: bool,
    /// The string being read is a key (of any object).
    in_key: bool,
    key: Vec<u8>,
    key_matched: bool,
    /// Top-level object (without keys) or array element (with keys).
    elem: Capture,
    /// Top-level object when keys are wanted.
    outer: Capture,
    selected_seen: bool,
    /// Skipping input after garbage or an error: (first line, why, last line with bytes).
    skipping: Option<(u64, Skip, u64)>,
    started: bool,
    /// Line of the last byte read that was not whitespace.
    last_content: u64,
}

impl JsonSplitter {
    /// Gives every top-level object, whether the input is objects one after another
    /// (JSON lines or pretty-printed) or top-level arrays of objects. A value longer
    /// than `max_object` bytes is skipped and reported.
    pub fn new(max_object: usize) -> Self {
        JsonSplitter {
            max: max_object,
            keys: Vec::new(),
            line: 1,
            stack: Vec::new(),
            expect: Expect::Value,
            in_string: false,
            escape: false,
            scalar: false,
            key_string: false,
            in_key: false,
            key: Vec::new(),
            key_matched: false,
            elem: Capture::default(),
            outer: Capture::default(),
            selected_seen: false,
            skipping: None,
            started: false,
            last_content: 1,
        }
    }

    /// Gives each element of the arrays found under any of `keys` in top-level objects
    /// (`Records`, `logEvents` ...) as a [`Piece::Value`], then the top-level object
    /// without them as a [`Piece::Outer`]. Keys are compared byte for byte (a key
    /// written with escapes does not match). Top-level arrays are looked through, so
    /// `[{"Records":[...]}]` works too.
    pub fn with_array_keys(max_object: usize, keys: &[&str]) -> Self {
        let mut s = Self::new(max_object);
        s.keys = keys.iter().map(|k| k.as_bytes().to_vec()).collect();
        s
    }

    /// The 1-based line the splitter has read up to.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Reads the next chunk; calls `f` for each piece completed in it.
    pub fn push(&mut self, chunk: &[u8], f: &mut impl FnMut(Piece<'_>)) {
        let mut i = 0;
        if !self.started && !chunk.is_empty() {
            self.started = true;
            if chunk.starts_with(b"\xEF\xBB\xBF") {
                i = 3;
            }
        }
        if self.elem.active {
            self.elem.seg = Some(0);
        }
        // The top-level object is not captured while one of its selected arrays is open.
        if self.outer.active && self.stack.get(1) != Some(&SELECTED) {
            self.outer.seg = Some(0);
        }
        while i < chunk.len() {
            if self.in_string {
                i = self.string_bytes(chunk, i, f);
                continue;
            }
            let b = chunk[i];
            if self.stack.is_empty() {
                self.top_level(chunk, i, f);
                i += 1;
                continue;
            }
            if self.scalar {
                if !matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                    i += 1;
                    continue;
                }
                self.scalar = false;
                self.value_done(chunk, i, f);
            }
            i = self.structure(chunk, i, f);
        }
        if let Some(s) = self.elem.seg.take() {
            self.elem
                .append(chunk.get(s..).unwrap_or_default(), self.max);
        }
        if let Some(s) = self.outer.seg.take() {
            self.outer
                .append(chunk.get(s..).unwrap_or_default(), self.max);
        }
    }

    /// End of input: reports what is still open or being skipped, and resets.
    pub fn finish(&mut self, f: &mut impl FnMut(Piece<'_>)) {
        self.end_skip(f);
        if !self.stack.is_empty() {
            let start = if self.elem.active {
                self.elem.line
            } else {
                self.outer.line
            };
            f(Piece::Skipped {
                line: start,
                lines: self.last_content.saturating_sub(start) + 1,
                why: Skip::Unterminated,
            });
        }
        self.abandon();
    }

    /// A byte outside any object: between values or while skipping.
    fn top_level(&mut self, chunk: &[u8], i: usize, f: &mut impl FnMut(Piece<'_>)) {
        let b = chunk[i];
        match b {
            b'\n' => self.line += 1,
            b' ' | b'\t' | b'\r' => {}
            b'{' => {
                self.end_skip(f);
                self.last_content = self.line;
                self.stack.push(OBJECT);
                self.expect = Expect::KeyOrClose;
                self.selected_seen = false;
                if self.keys.is_empty() {
                    self.elem.begin(i, self.line);
                } else {
                    self.outer.begin(i, self.line);
                }
            }
            _ => match &mut self.skipping {
                Some((_, _, last)) => *last = self.line,
                None if matches!(b, b'[' | b']' | b',') => {}
                None => self.skipping = Some((self.line, Skip::Garbage, self.line)),
            },
        }
    }

    fn end_skip(&mut self, f: &mut impl FnMut(Piece<'_>)) {
        if let Some((line, why, last)) = self.skipping.take() {
            f(Piece::Skipped {
                line,
                lines: last.saturating_sub(line) + 1,
                why,
            });
        }
    }

    /// Bytes inside a string from `chunk[i]`; returns where to go on.
    fn string_bytes(&mut self, chunk: &[u8], i: usize, f: &mut impl FnMut(Piece<'_>)) -> usize {
        if self.escape {
            self.escape = false;
            if chunk[i] == b'\n' {
                self.error(chunk, i, "newline in a string");
                return i + 1;
            }
            self.key_bytes(&chunk[i..i + 1]);
            return i + 1;
        }
        let rest = &chunk[i..];
        let Some(off) = memchr::memchr3(b'"', b'\\', b'\n', rest) else {
            self.key_bytes(rest);
            return chunk.len();
        };
        self.key_bytes(&rest[..off]);
        let j = i + off;
        match chunk[j] {
            b'"' => {
                self.in_string = false;
                if self.in_key {
                    self.in_key = false;
                    self.key_matched = self.key_string
                        && self.key.len() <= MAX_KEY
                        && self.keys.contains(&self.key);
                    self.key_string = false;
                } else {
                    self.value_done(chunk, j + 1, f);
                }
            }
            b'\\' => {
                self.escape = true;
                self.key_bytes(b"\\");
            }
            _ => {
                self.error(chunk, j, "newline in a string");
            }
        }
        j + 1
    }

    fn key_bytes(&mut self, bytes: &[u8]) {
        if self.key_string && self.key.len() <= MAX_KEY {
            let room = MAX_KEY + 1 - self.key.len();
            self.key.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    /// A structural byte inside an object; returns where to go on.
    fn structure(&mut self, chunk: &[u8], i: usize, f: &mut impl FnMut(Piece<'_>)) -> usize {
        let b = chunk[i];
        let top = self.stack.last().copied().unwrap_or(OBJECT);
        let value_ok = matches!(self.expect, Expect::Value | Expect::ValueOrClose);
        match b {
            b'\n' => {
                self.line += 1;
                return i + 1;
            }
            b' ' | b'\t' | b'\r' => return i + 1,
            _ => {}
        }
        if b != b'{' {
            self.last_content = self.line;
        }
        match b {
            b'"' => match self.expect {
                Expect::Key | Expect::KeyOrClose => {
                    self.in_string = true;
                    self.in_key = true;
                    self.expect = Expect::Colon;
                    self.key_string = !self.keys.is_empty() && self.stack.len() == 1;
                    self.key.clear();
                    self.key_matched = false;
                }
                Expect::Value | Expect::ValueOrClose => {
                    self.value_start(i);
                    self.in_string = true;
                    self.expect = Expect::CommaOrClose;
                }
                _ => return self.error(chunk, i, self.expected()),
            },
            b'{' | b'[' if value_ok => {
                if self.stack.len() >= MAX_DEPTH {
                    return self.error(chunk, i, "nested too deep");
                }
                self.last_content = self.line;
                self.value_start(i);
                if b == b'{' {
                    self.stack.push(OBJECT);
                    self.expect = Expect::KeyOrClose;
                } else if self.stack.len() == 1 && self.key_matched && !self.keys.is_empty() {
                    self.key_matched = false;
                    self.selected_seen = true;
                    self.outer.pause(chunk, i + 1, self.max);
                    self.stack.push(SELECTED);
                    self.expect = Expect::ValueOrClose;
                } else {
                    self.stack.push(ARRAY);
                    self.expect = Expect::ValueOrClose;
                }
            }
            b'}' if top == OBJECT
                && matches!(self.expect, Expect::KeyOrClose | Expect::CommaOrClose) =>
            {
                self.stack.pop();
                self.value_done(chunk, i + 1, f);
            }
            b']' if top != OBJECT
                && matches!(self.expect, Expect::ValueOrClose | Expect::CommaOrClose) =>
            {
                self.stack.pop();
                if top == SELECTED {
                    self.outer.seg = Some(i);
                }
                self.value_done(chunk, i + 1, f);
            }
            b',' if self.expect == Expect::CommaOrClose => {
                self.expect = if top == OBJECT {
                    Expect::Key
                } else {
                    Expect::Value
                };
            }
            b':' if self.expect == Expect::Colon => self.expect = Expect::Value,
            b'}' | b']' | b',' | b':' => return self.error(chunk, i, self.expected()),
            _ if value_ok => {
                self.value_start(i);
                self.scalar = true;
                self.expect = Expect::CommaOrClose;
            }
            _ => return self.error(chunk, i, self.expected()),
        }
        i + 1
    }

    fn expected(&self) -> &'static str {
        match self.expect {
            Expect::Key | Expect::KeyOrClose => "expected a key",
            Expect::Colon => "expected ':'",
            Expect::Value | Expect::ValueOrClose => "expected a value",
            Expect::CommaOrClose => "expected ',' or a closing bracket",
        }
    }

    /// A value begins at `chunk[i]` in the innermost open container.
    fn value_start(&mut self, i: usize) {
        if self.stack.last() == Some(&SELECTED) {
            self.elem.begin(i, self.line);
        }
    }

    /// A value ended just before `chunk[end]`; the stack holds its container.
    fn value_done(&mut self, chunk: &[u8], end: usize, f: &mut impl FnMut(Piece<'_>)) {
        self.expect = Expect::CommaOrClose;
        let max = self.max;
        let line = self.line;
        match self.stack.last() {
            None if self.keys.is_empty() => {
                let start = self.elem.line;
                let piece = match self.elem.take(chunk, end, max) {
                    Some(bytes) => Piece::Value { bytes, line: start },
                    None => too_large(start, line, max),
                };
                f(piece);
            }
            None => {
                let start = self.outer.line;
                let selected = self.selected_seen;
                let piece = match self.outer.take(chunk, end, max) {
                    Some(bytes) => Piece::Outer {
                        bytes,
                        line: start,
                        selected,
                    },
                    None => too_large(start, line, max),
                };
                f(piece);
            }
            Some(&SELECTED) => {
                let start = self.elem.line;
                let piece = match self.elem.take(chunk, end, max) {
                    Some(bytes) => Piece::Value { bytes, line: start },
                    None => too_large(start, line, max),
                };
                f(piece);
            }
            Some(_) => {}
        }
    }

    /// Broken structure at `chunk[i]`: the value in progress is dropped and input is
    /// skipped up to the next `{` outside any object, which may be this very byte.
    fn error(&mut self, chunk: &[u8], i: usize, why: &'static str) -> usize {
        let start = if self.elem.active {
            self.elem.line
        } else {
            self.outer.line
        };
        self.abandon();
        // A `{` that breaks the structure starts the next object: it is not skipped.
        let last = if chunk[i] == b'{' {
            self.last_content
        } else {
            self.line
        };
        self.skipping = Some((start, Skip::Invalid(why), last.max(start)));
        if chunk[i] == b'{' {
            i
        } else {
            if chunk[i] == b'\n' {
                self.line += 1;
            }
            i + 1
        }
    }

    fn abandon(&mut self) {
        self.stack.clear();
        self.in_string = false;
        self.escape = false;
        self.scalar = false;
        self.key_string = false;
        self.in_key = false;
        self.key_matched = false;
        self.elem.reset();
        self.outer.reset();
    }
}

fn too_large(start: u64, line: u64, max: usize) -> Piece<'static> {
    Piece::Skipped {
        line: start,
        lines: line.saturating_sub(start) + 1,
        why: Skip::TooLarge { max },
    }
}

#[cfg(test)]
mod tests;
