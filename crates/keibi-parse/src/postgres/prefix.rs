//! Compiles a PostgreSQL `log_line_prefix` into a matcher, so that stderr and syslog
//! lines written with any prefix split into the prefix's fields and the message.
//!
//! Fields with a fixed syntax (times, pids, `%r`'s `host(port)`) are read by syntax;
//! free-text fields (`%u`, `%d`, `%a` ...) run to the next literal of the prefix, with a
//! little bounded backtracking when that split leaves no level word after the prefix.

use chrono::{DateTime, FixedOffset, Utc};
use keibi_model::Event;

use super::message::{level_at, Level, LineText};
use crate::time::{parse_ymd_hms, to_utc, zone_offset};

mod set;
pub use set::{Candidates, PrefixSet, STDERR_CANDIDATES, SYSLOG_CANDIDATES};

/// A field's place in a line (lines are at most `MAX_LINE` bytes: `u32` is enough and
/// keeps the captures small, which are copied when backtracking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    start: u32,
    end: u32,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        let c = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span {
            start: c(start),
            end: c(end),
        }
    }

    pub fn start(&self) -> usize {
        self.start as usize
    }

    pub fn end(&self) -> usize {
        self.end as usize
    }

    pub fn of<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        line.get(self.start()..self.end()).unwrap_or_default()
    }
}

/// The prefix fields an event keeps, read from one line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Captures {
    /// `%m`, `%n` or `%t`, the most precise one the prefix has.
    pub time: Option<DateTime<Utc>>,
    time_rank: u8,
    pub user: Option<Span>,
    pub db: Option<Span>,
    pub app: Option<Span>,
    /// From `%h`, or the host part of `%r`.
    pub host: Option<Span>,
    pub port: Option<u16>,
    pub pid: Option<u32>,
    pub session: Option<Span>,
    pub sqlstate: Option<Span>,
}

impl Captures {
    fn set_time(&mut self, t: DateTime<Utc>, rank: u8) {
        if rank > self.time_rank {
            self.time = Some(t);
            self.time_rank = rank;
        }
    }

    /// Copies the fields into `e` (`[unknown]` users and databases stay unset).
    pub fn fill(&self, line: &LineText<'_>, e: &mut Event) {
        let known = |s: Option<Span>| s.and_then(|s| line.known(s.start(), s.end()));
        if let Some(u) = known(self.user) {
            e.user = Some(u);
        }
        if let Some(d) = known(self.db) {
            e.database = Some(d);
        }
        if let Some(a) = known(self.app) {
            e.application = Some(a);
        }
        if let Some(h) = self.host.filter(|h| h.end > h.start) {
            // Hosts are ASCII (checked when matched).
            if let Ok(h) = std::str::from_utf8(line.bytes(h.start(), h.end())) {
                e.set_client(h);
            }
        }
        if self.port.is_some() {
            e.client_port = self.port;
        }
        if self.pid.is_some() {
            e.pid = self.pid;
        }
        if let Some(s) = known(self.session) {
            e.session_id = Some(s);
        }
        if let Some(s) = known(self.sqlstate).filter(|s| s != "00000") {
            e.error_code = Some(s);
        }
    }
}

/// A line split by a prefix.
#[derive(Debug, Clone, Copy)]
pub struct Matched {
    pub caps: Captures,
    pub level: Level,
    /// Where the level word starts.
    pub level_pos: usize,
    /// Where the message text starts (after `LEVEL:  `).
    pub text: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Esc {
    App,
    User,
    Db,
    Remote,
    Host,
    Backend,
    Pid,
    Leader,
    Time,
    TimeMs,
    Epoch,
    Ps,
    SqlState,
    Session,
    LineNo,
    Start,
    Vxid,
    Xid,
    QueryId,
}

impl Esc {
    fn from_byte(c: u8) -> Option<Esc> {
        Some(match c {
            b'a' => Esc::App,
            b'u' => Esc::User,
            b'd' => Esc::Db,
            b'r' => Esc::Remote,
            b'h' => Esc::Host,
            b'b' => Esc::Backend,
            b'p' => Esc::Pid,
            b'P' => Esc::Leader,
            b't' => Esc::Time,
            b'm' => Esc::TimeMs,
            b'n' => Esc::Epoch,
            b'i' => Esc::Ps,
            b'e' => Esc::SqlState,
            b'c' => Esc::Session,
            b'l' => Esc::LineNo,
            b's' => Esc::Start,
            b'v' => Esc::Vxid,
            b'x' => Esc::Xid,
            b'Q' => Esc::QueryId,
            _ => return None,
        })
    }

    /// Fields whose text is arbitrary (names, process titles): they end where the
    /// next literal of the prefix begins.
    fn free(self) -> bool {
        matches!(
            self,
            Esc::App | Esc::User | Esc::Db | Esc::Host | Esc::Backend | Esc::Ps
        )
    }
}

enum Tok {
    /// Literal text (never empty).
    Lit(Vec<u8>),
    /// An escape and its padding width (`%-10u`, `%10u`: at least 10 bytes).
    Field(Esc, usize),
    /// `%q`: non-session processes stop the prefix here.
    Q,
}

/// Bounds on backtracking, so a hostile line costs a bounded amount of work.
const MAX_TRIES: usize = 8;
const MAX_FIELD: usize = 256;

/// A compiled `log_line_prefix`.
pub struct Prefix {
    source: String,
    toks: Vec<Tok>,
}

/// The last timestamp read: consecutive lines mostly share it.
#[derive(Default)]
pub struct TimeCache {
    key: Vec<u8>,
    value: Option<DateTime<Utc>>,
    /// The last zone word and its offset (`zone_offset` allocates).
    zone: Vec<u8>,
    zone_offset: Option<FixedOffset>,
}

struct Cx<'a> {
    line: &'a [u8],
    offset: FixedOffset,
    cache: &'a mut TimeCache,
    budget: usize,
    /// The level word must start here or later (to list a line's other splits).
    min_level: usize,
}

impl Prefix {
    /// Compiles a prefix the way PostgreSQL reads it: unknown escapes print nothing,
    /// `%%` is a percent sign, a trailing lone `%` is dropped.
    pub fn compile(prefix: &str) -> Prefix {
        let b = prefix.as_bytes();
        let mut toks = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            i += 1;
            if c != b'%' {
                lit.push(c);
                continue;
            }
            if b.get(i) == Some(&b'-') {
                i += 1;
            }
            let mut width = 0usize;
            while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
                width = (width * 10 + usize::from(d - b'0')).min(MAX_FIELD);
                i += 1;
            }
            let Some(&e) = b.get(i) else { break };
            i += 1;
            let tok = match e {
                b'%' => {
                    lit.push(b'%');
                    continue;
                }
                b'q' => Tok::Q,
                _ => match Esc::from_byte(e) {
                    Some(esc) => Tok::Field(esc, width),
                    None => continue,
                },
            };
            if !lit.is_empty() {
                toks.push(Tok::Lit(std::mem::take(&mut lit)));
            }
            toks.push(tok);
        }
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        Prefix {
            source: prefix.to_string(),
            toks,
        }
    }

    /// The prefix as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Splits `line` into prefix fields, level and message; `None` unless the prefix
    /// matches and a level word follows it. Times without a known zone are at `offset`.
    pub fn matches(
        &self,
        line: &[u8],
        offset: FixedOffset,
        cache: &mut TimeCache,
    ) -> Option<Matched> {
        self.matches_from(line, offset, cache, 0)
    }

    /// As [`Prefix::matches`], for the first split whose level word starts at
    /// `min_level` or later: a name holding a prefix and a level word makes a line
    /// split more than one way, and the caller judges which split the server wrote.
    pub fn matches_from(
        &self,
        line: &[u8],
        offset: FixedOffset,
        cache: &mut TimeCache,
        min_level: usize,
    ) -> Option<Matched> {
        let mut cx = Cx {
            line,
            offset,
            cache,
            budget: 64 + 4 * self.toks.len(),
            min_level,
        };
        let mut caps = Captures::default();
        let pos = match self.first_try(&mut caps, &mut cx) {
            Some(pos) => pos,
            None => {
                caps = Captures::default();
                self.at(0, 0, &mut caps, &mut cx)?
            }
        };
        let (level, n) = level_at(line.get(pos..)?)?;
        Some(Matched {
            caps,
            level,
            level_pos: pos,
            text: pos + n,
        })
    }

    /// The split that [`Prefix::at`] tries first, in one pass without backtracking: the
    /// common case, and several times cheaper. `None` when it fails or when the prefix
    /// needs a choice the full matcher makes (an address before `:`, a field before a
    /// field).
    fn first_try(&self, caps: &mut Captures, cx: &mut Cx<'_>) -> Option<usize> {
        let line = cx.line;
        let mut pos = 0;
        for (i, tok) in self.toks.iter().enumerate() {
            let rest = line.get(pos..)?;
            match tok {
                Tok::Lit(n) => {
                    if rest.len() < n.len() || !n.iter().zip(rest).all(|(a, b)| a == b) {
                        return None;
                    }
                    pos += n.len();
                }
                Tok::Q => {
                    if pos >= cx.min_level && level_at(rest).is_some() {
                        return Some(pos);
                    }
                }
                Tok::Field(esc, w) if esc.free() => {
                    let from = pos + w;
                    let e = match self.toks.get(i + 1) {
                        Some(Tok::Lit(n)) if *esc == Esc::Host && n.first() == Some(&b':') => {
                            return None
                        }
                        Some(Tok::Lit(n)) => from + find_lit(line.get(from..)?, n)?,
                        None => from + next_level(line.get(from..)?)?,
                        Some(_) => return None,
                    };
                    if !take(*esc, *w, pos, e, line, caps) {
                        return None;
                    }
                    pos = e;
                }
                Tok::Field(esc, w) => pos = self.fixed(*esc, *w, pos, caps, cx)?,
            }
        }
        level_at(line.get(pos..)?)
            .filter(|_| pos >= cx.min_level)
            .map(|_| pos)
    }

    /// Whether `line` is this prefix cut short inside a user, database or application
    /// name: what PostgreSQL writes when a name holds a line break (the rest of the
    /// name, and the rest of the prefix, are on the next physical line).
    pub fn cut_in_name(&self, line: &[u8], offset: FixedOffset, cache: &mut TimeCache) -> bool {
        let mut cx = Cx {
            line,
            offset,
            cache,
            budget: 64,
            min_level: 0,
        };
        let mut caps = Captures::default();
        let mut pos = 0;
        for (i, tok) in self.toks.iter().enumerate() {
            let Some(rest) = line.get(pos..) else {
                return false;
            };
            match tok {
                Tok::Lit(n) => {
                    if !rest.starts_with(n) {
                        return false;
                    }
                    pos += n.len();
                }
                Tok::Q => {}
                Tok::Field(esc, _) if esc.free() => {
                    let names = matches!(esc, Esc::User | Esc::Db | Esc::App);
                    let end = match self.toks.get(i + 1) {
                        Some(Tok::Lit(n)) => find_lit(rest, n),
                        _ => None,
                    };
                    match end {
                        Some(e) => pos += e,
                        None => return names,
                    }
                }
                Tok::Field(esc, w) => match self.fixed(*esc, *w, pos, &mut caps, &mut cx) {
                    Some(p) => pos = p,
                    None => return false,
                },
            }
        }
        false
    }

    /// Matches tokens from `i` on at `pos`; returns where the level word starts.
    fn at(&self, i: usize, pos: usize, caps: &mut Captures, cx: &mut Cx<'_>) -> Option<usize> {
        cx.budget = cx.budget.checked_sub(1)?;
        let line = cx.line;
        let rest = line.get(pos..)?;
        let Some(tok) = self.toks.get(i) else {
            return level_at(rest).filter(|_| pos >= cx.min_level).map(|_| pos);
        };
        match tok {
            Tok::Lit(f) => {
                let n = f.as_slice();
                // Literals are a byte or two: a loop beats a call to memcmp.
                if rest.len() >= n.len() && n.iter().zip(rest).all(|(a, b)| a == b) {
                    self.at(i + 1, pos + n.len(), caps, cx)
                } else {
                    None
                }
            }
            Tok::Q => {
                // A level word right here is a non-session line; trying it first keeps
                // a message's own text from being read as the session fields.
                if pos >= cx.min_level && level_at(rest).is_some() {
                    return Some(pos);
                }
                self.at(i + 1, pos, caps, cx)
            }
            Tok::Field(esc, w) if esc.free() => self.free(i, *esc, *w, pos, caps, cx),
            Tok::Field(esc, w) => {
                let p = self.fixed(*esc, *w, pos, caps, cx)?;
                self.at(i + 1, p, caps, cx)
            }
        }
    }

    /// A free-text field: tries its possible ends, first to last, until the rest matches.
    fn free(
        &self,
        i: usize,
        esc: Esc,
        w: usize,
        pos: usize,
        caps: &mut Captures,
        cx: &mut Cx<'_>,
    ) -> Option<usize> {
        let line = cx.line;
        let min_end = pos + w;
        if min_end > line.len() {
            return None;
        }
        let saved = *caps;
        let next = self.toks.get(i + 1);
        if let (Esc::Host, Some(Tok::Lit(f))) = (esc, next) {
            // `%h:` with an IPv6 client: the first `:` is inside the address, so the
            // longest address followed by the literal is tried first.
            if f.first() == Some(&b':') {
                let run = line[pos..]
                    .iter()
                    .take(64)
                    .take_while(|c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.' | b'%'))
                    .count();
                for e in (min_end.max(pos + 1)..=pos + run).rev() {
                    let ip = std::str::from_utf8(&line[pos..e])
                        .ok()
                        .and_then(|s| s.parse::<std::net::IpAddr>().ok());
                    if ip.is_some() && line[e..].starts_with(f) {
                        *caps = saved;
                        take(esc, w, pos, e, line, caps);
                        if let Some(p) = self.at(i + 1, e, caps, cx) {
                            return Some(p);
                        }
                    }
                }
            }
        }
        let mut from = min_end;
        for _ in 0..MAX_TRIES {
            let e = match next {
                Some(Tok::Lit(f)) => from + find_lit(line.get(from..)?, f)?,
                None => from + next_level(line.get(from..)?)?,
                Some(_) => {
                    if from > line.len() || from > pos + MAX_FIELD {
                        return None;
                    }
                    from
                }
            };
            *caps = saved;
            if !take(esc, w, pos, e, line, caps) {
                // A longer value holds the same bad byte.
                return None;
            }
            if let Some(p) = self.at(i + 1, e, caps, cx) {
                return Some(p);
            }
            if cx.budget == 0 {
                return None;
            }
            from = e + 1;
        }
        *caps = saved;
        None
    }

    /// A field with a fixed syntax; returns where it ends.
    fn fixed(
        &self,
        esc: Esc,
        w: usize,
        pos: usize,
        caps: &mut Captures,
        cx: &mut Cx<'_>,
    ) -> Option<usize> {
        let line = cx.line;
        let mut p = pos;
        if w > 0 {
            p += line[p..].iter().take(w).take_while(|c| **c == b' ').count();
        }
        let b = &line[p..];
        let n = match esc {
            Esc::Pid => {
                let n = digits(b);
                if n == 0 {
                    return None;
                }
                caps.pid = Some(u32::try_from(number(&b[..n])?).ok()?);
                n
            }
            Esc::Leader => digits(b),
            Esc::LineNo | Esc::Xid => match digits(b) {
                0 => return None,
                n => n,
            },
            Esc::QueryId => {
                let sign = usize::from(b.first() == Some(&b'-'));
                match digits(&b[sign..]) {
                    0 => return None,
                    n => sign + n,
                }
            }
            Esc::SqlState => {
                let code = b.get(..5)?;
                if !code
                    .iter()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
                {
                    return None;
                }
                caps.sqlstate = Some(Span::new(p, p + 5));
                5
            }
            Esc::Session => {
                let a = b.iter().take_while(|c| c.is_ascii_hexdigit()).count();
                if a == 0 || b.get(a) != Some(&b'.') {
                    return None;
                }
                let c = b[a + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                if c == 0 {
                    return None;
                }
                caps.session = Some(Span::new(p, p + a + 1 + c));
                a + 1 + c
            }
            Esc::Vxid => {
                let a = digits(b);
                if a == 0 {
                    0
                } else if b.get(a) == Some(&b'/') && digits(&b[a + 1..]) > 0 {
                    a + 1 + digits(&b[a + 1..])
                } else {
                    return None;
                }
            }
            Esc::Time | Esc::TimeMs | Esc::Start => {
                let (t, n) = pg_time(b, cx.offset, cx.cache)?;
                match esc {
                    Esc::TimeMs => caps.set_time(t, 3),
                    Esc::Time => caps.set_time(t, 1),
                    _ => {}
                }
                n
            }
            Esc::Epoch => {
                let (t, n) = epoch_ms(b)?;
                caps.set_time(t, 2);
                n
            }
            Esc::Remote => remote(b, p, caps),
            Esc::App | Esc::User | Esc::Db | Esc::Host | Esc::Backend | Esc::Ps => return None,
        };
        p += n;
        while p < pos + w && line.get(p) == Some(&b' ') {
            p += 1;
        }
        Some(p)
    }
}

/// Records a free-text field ending at `e`; `false` when the text cannot be that field.
fn take(esc: Esc, w: usize, pos: usize, e: usize, line: &[u8], caps: &mut Captures) -> bool {
    let (mut s, mut t) = (pos, e);
    if w > 0 {
        while s < t && line[s] == b' ' {
            s += 1;
        }
        while t > s && line[t - 1] == b' ' {
            t -= 1;
        }
    }
    let span = Some(Span::new(s, t));
    match esc {
        Esc::Host => {
            if !line[s..t].iter().all(|c| host_char(*c)) {
                return false;
            }
            caps.host = span;
        }
        Esc::User => caps.user = span,
        Esc::Db => caps.db = span,
        Esc::App => caps.app = span,
        _ => {}
    }
    true
}

/// Where literal `n` first occurs in `hay`. Literals are short and their first byte
/// is rare in what precedes them (`@`, `:`, `,`): memchr and a compare beat a
/// substring searcher.
fn find_lit(hay: &[u8], n: &[u8]) -> Option<usize> {
    let (&first, rest) = n.split_first()?;
    memchr::memchr_iter(first, hay).find(|&i| hay[i + 1..].starts_with(rest))
}

fn host_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':' | b'%' | b'[' | b']')
}

/// The value of ASCII digits (`None` when empty, not digits, or too large): cheaper than
/// `str::parse` after a UTF-8 check, on every line.
fn number(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    b.iter().try_fold(0u64, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0'))
    })
}

fn digits(b: &[u8]) -> usize {
    b.iter().take(20).take_while(|c| c.is_ascii_digit()).count()
}

/// `%r`: `host(port)`, `[local]`, or nothing (background processes). Returns its length.
fn remote(b: &[u8], p: usize, caps: &mut Captures) -> usize {
    if b.starts_with(b"[local]") {
        caps.host = Some(Span::new(p, p + 7));
        return 7;
    }
    let k = b
        .iter()
        .take(MAX_FIELD)
        .take_while(|c| host_char(**c))
        .count();
    if k > 0 && b.get(k) == Some(&b'(') {
        let d = digits(&b[k + 1..]);
        if d > 0 && b.get(k + 1 + d) == Some(&b')') {
            caps.host = Some(Span::new(p, p + k));
            caps.port = number(&b[k + 1..k + 1 + d]).and_then(|n| u16::try_from(n).ok());
            return k + d + 2;
        }
    }
    0
}

/// `%n`: seconds since the epoch with milliseconds.
fn epoch_ms(b: &[u8]) -> Option<(DateTime<Utc>, usize)> {
    let s = digits(b);
    if s == 0 || s > 12 || b.get(s) != Some(&b'.') {
        return None;
    }
    let f = digits(&b[s + 1..]).min(9);
    if f == 0 {
        return None;
    }
    let secs = i64::try_from(number(&b[..s])?).ok()?;
    let mut nanos = u32::try_from(number(&b[s + 1..s + 1 + f])?).ok()?;
    for _ in f..9 {
        nanos *= 10;
    }
    Some((DateTime::from_timestamp(secs, nanos)?, s + 1 + f))
}

/// Where the first level word of `b` starts.
pub(crate) fn next_level(b: &[u8]) -> Option<usize> {
    for c in memchr::memchr_iter(b':', b) {
        for s in c.saturating_sub(9)..c {
            if let Some((_, n)) = level_at(&b[s..]) {
                if n > c - s {
                    return Some(s);
                }
            }
        }
    }
    None
}

/// Length of a zone written after a PostgreSQL time: `UTC`, `CEST`, `+09`, `-03:30`.
pub(crate) fn zone_len(z: &[u8]) -> usize {
    match z.first() {
        Some(c) if c.is_ascii_alphabetic() => z
            .iter()
            .take(8)
            .take_while(|c| c.is_ascii_alphabetic())
            .count(),
        Some(b'+' | b'-') => {
            let d = digits(&z[1..]).min(4);
            if d == 0 {
                return 0;
            }
            let mut n = 1 + d;
            if d == 2 && z.get(n) == Some(&b':') && digits(&z[n + 1..]) == 2 {
                n += 3;
            }
            n
        }
        _ => 0,
    }
}

/// A PostgreSQL time (`%t`, `%m`, `%s`, csvlog, jsonlog): `YYYY-MM-DD HH:MM:SS[.fff]`
/// and a zone, which is consumed even when unknown (then `offset` applies). Returns the
/// UTC time and the bytes used.
pub fn pg_time(
    b: &[u8],
    offset: FixedOffset,
    cache: &mut TimeCache,
) -> Option<(DateTime<Utc>, usize)> {
    if b.len() < 19 || b[4] != b'-' || b[13] != b':' {
        return None;
    }
    let mut n = 19;
    if b.get(19) == Some(&b'.') {
        let f = digits(&b[20..]);
        if f == 0 {
            return None;
        }
        n += 1 + f;
    }
    let date_end = n;
    let mut zone = None;
    if b.get(n) == Some(&b' ') {
        let zl = zone_len(&b[n + 1..]);
        if zl > 0 {
            zone = Some(&b[n + 1..n + 1 + zl]);
            n += 1 + zl;
        }
    }
    if let Some(t) = cache.value.filter(|_| cache.key == b[..n]) {
        return Some((t, n));
    }
    let (naive, used) = parse_ymd_hms(&b[..date_end])?;
    if used != date_end {
        return None;
    }
    let off = match zone {
        Some(z) if cache.zone == z => cache.zone_offset,
        Some(z) => {
            let o = std::str::from_utf8(z).ok().and_then(zone_offset);
            cache.zone.clear();
            cache.zone.extend_from_slice(z);
            cache.zone_offset = o;
            o
        }
        None => None,
    }
    .unwrap_or(offset);
    let t = to_utc(naive, off);
    cache.key.clear();
    cache.key.extend_from_slice(&b[..n]);
    cache.value = Some(t);
    Some((t, n))
}

#[cfg(test)]
mod tests;
