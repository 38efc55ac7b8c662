//! Compiles a PostgreSQL `log_line_prefix` into a matcher, so that stderr and syslog
//! lines written with any prefix split into the prefix's fields and the message.
//!
//! Fields with a fixed syntax (times, pids, `%r`'s `host(port)`) are read by syntax;
//! free-text fields (`%u`, `%d`, `%a` ...) run to the next literal of the prefix, with a
//! little bounded backtracking when that split leaves no level word after the prefix.

use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset, Utc};
use keibi_model::Event;

use super::message::{level_at, Level, LineText};
use crate::time::{parse_ymd_hms, to_utc, zone_offset};

/// Prefixes tried in order when none is configured, most specific first: a later,
/// looser one would also match some lines of an earlier one.
pub const STDERR_CANDIDATES: &[&str] = &[
    // RDS and Aurora (not modifiable there).
    "%t:%r:%u@%d:[%p]:",
    // pgbadger's recommendations, old and new.
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
    // Google Cloud SQL.
    "%t [%p]: [%l-1] db=%d,user=%u ",
    "%t [%p]: [%l-1] ",
    "%m [%p] %h %u@%d ",
    // Debian and Ubuntu packages.
    "%m [%p] %q%u@%d ",
    // PostgreSQL's own default since 10, used by the official container image.
    "%m [%p] ",
    // Red Hat packages before PostgreSQL 10.
    "< %m >",
    // Azure Database for PostgreSQL.
    "%t-%c-",
];

/// Prefixes common with `log_destination = syslog`, where syslog carries time and pid;
/// tried after [`STDERR_CANDIDATES`] (journald keeps the whole stderr line).
pub const SYSLOG_CANDIDATES: &[&str] = &[
    "user=%u,db=%d,app=%a,client=%h ",
    "db=%d,user=%u,app=%a,client=%h ",
    "%q%u@%d ",
    "",
];

/// A field's place in a line (lines are at most `MAX_LINE` bytes: `u32` is enough and
/// keeps the captures small, which are copied when backtracking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Self {
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
        let mut cx = Cx {
            line,
            offset,
            cache,
            budget: 64 + 4 * self.toks.len(),
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
                    if level_at(rest).is_some() {
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
        level_at(line.get(pos..)?).map(|_| pos)
    }

    /// Matches tokens from `i` on at `pos`; returns where the level word starts.
    fn at(&self, i: usize, pos: usize, caps: &mut Captures, cx: &mut Cx<'_>) -> Option<usize> {
        cx.budget = cx.budget.checked_sub(1)?;
        let line = cx.line;
        let rest = line.get(pos..)?;
        let Some(tok) = self.toks.get(i) else {
            return level_at(rest).map(|_| pos);
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
                if level_at(rest).is_some() {
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
fn next_level(b: &[u8]) -> Option<usize> {
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
fn zone_len(z: &[u8]) -> usize {
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

/// The prefixes a parser may see: the configured one, or the candidates. Locks onto the
/// first that matches and tries the others on a line it does not match.
pub struct PrefixSet {
    /// The configured prefix, when there is one.
    own: Vec<Prefix>,
    /// The candidates otherwise: compiled once per process, since a parser (and a
    /// sniff) is made for every input and, on a line that fails, for every format.
    shared: &'static [Prefix],
    locked: usize,
    cache: TimeCache,
    offset: FixedOffset,
}

/// Which candidate prefixes a [`PrefixSet`] without a configured prefix tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidates {
    /// [`STDERR_CANDIDATES`].
    Stderr,
    /// [`STDERR_CANDIDATES`], then [`SYSLOG_CANDIDATES`].
    Syslog,
}

impl Candidates {
    fn compiled(self) -> &'static [Prefix] {
        static STDERR: OnceLock<Vec<Prefix>> = OnceLock::new();
        static SYSLOG: OnceLock<Vec<Prefix>> = OnceLock::new();
        let (cell, lists): (_, &[&[&str]]) = match self {
            Candidates::Stderr => (&STDERR, &[STDERR_CANDIDATES]),
            Candidates::Syslog => (&SYSLOG, &[STDERR_CANDIDATES, SYSLOG_CANDIDATES]),
        };
        cell.get_or_init(|| {
            lists
                .iter()
                .flat_map(|l| l.iter())
                .map(|p| Prefix::compile(p))
                .collect()
        })
    }
}

impl PrefixSet {
    pub fn new(configured: Option<&str>, candidates: Candidates, offset: FixedOffset) -> Self {
        let (own, shared) = match configured {
            Some(p) => (vec![Prefix::compile(p)], &[][..]),
            None => (Vec::new(), candidates.compiled()),
        };
        PrefixSet {
            own,
            shared,
            locked: 0,
            cache: TimeCache::default(),
            offset,
        }
    }

    pub fn match_line(&mut self, line: &[u8]) -> Option<Matched> {
        let prefixes = if self.own.is_empty() {
            self.shared
        } else {
            &self.own[..]
        };
        if let Some(p) = prefixes.get(self.locked) {
            if let Some(m) = p.matches(line, self.offset, &mut self.cache) {
                return Some(m);
            }
        }
        for (i, p) in prefixes.iter().enumerate() {
            if i == self.locked {
                continue;
            }
            if let Some(m) = p.matches(line, self.offset, &mut self.cache) {
                self.locked = i;
                return Some(m);
            }
        }
        None
    }

    /// Matches with the prefix locked onto only (for text that may not be a prefixed
    /// line at all, such as a syslog chunk).
    pub fn match_locked(&mut self, line: &[u8]) -> Option<Matched> {
        let prefixes = if self.own.is_empty() {
            self.shared
        } else {
            &self.own[..]
        };
        prefixes
            .get(self.locked)?
            .matches(line, self.offset, &mut self.cache)
    }

    /// Why a line did not match, for `Output::unrecognized`.
    pub fn mismatch_reason(&self) -> String {
        match self.own.first() {
            Some(p) => format!(
                "expected log_line_prefix '{}' followed by a level such as LOG:",
                p.source()
            ),
            _ => "expected a known log_line_prefix followed by a level such as LOG: \
                  (give the prefix with --pg-prefix)"
                .to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::message::Part;

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).unwrap()
    }

    fn m(prefix: &str, line: &str) -> Option<(Matched, String)> {
        let p = Prefix::compile(prefix);
        let mut c = TimeCache::default();
        let got = p.matches(line.as_bytes(), utc(), &mut c)?;
        Some((got, line[got.text..].to_string()))
    }

    fn field(line: &str, s: Option<Span>) -> Option<&str> {
        s.map(|s| &line[s.start()..s.end()])
    }

    #[test]
    fn rds_prefix() {
        let line = "2026-11-28 15:41:22 UTC:127.0.0.1(34292):app@shop:[5924]:LOG:  connection received: host=127.0.0.1 port=34292";
        let (g, msg) = m("%t:%r:%u@%d:[%p]:", line).unwrap();
        assert_eq!(msg, "connection received: host=127.0.0.1 port=34292");
        assert_eq!(g.level, Level::Primary("LOG"));
        assert_eq!(field(line, g.caps.user), Some("app"));
        assert_eq!(field(line, g.caps.db), Some("shop"));
        assert_eq!(field(line, g.caps.host), Some("127.0.0.1"));
        assert_eq!(g.caps.port, Some(34292));
        assert_eq!(g.caps.pid, Some(5924));
        assert_eq!(
            g.caps.time.unwrap().to_rfc3339(),
            "2026-11-28T15:41:22+00:00"
        );
        // Background process: empty host, user and database.
        let line = "2026-11-28 15:41:22 UTC::@:[5916]:LOG:  pgaudit extension initialized";
        let (g, msg) = m("%t:%r:%u@%d:[%p]:", line).unwrap();
        assert_eq!(msg, "pgaudit extension initialized");
        assert_eq!(field(line, g.caps.user), Some(""));
        assert_eq!(field(line, g.caps.host), None);
        // IPv6 clients, local sockets, DETAIL parts.
        let line = "2026-11-28 15:41:22 CET:::1(5432):a@b:[7]:FATAL:  x";
        let (g, _) = m("%t:%r:%u@%d:[%p]:", line).unwrap();
        assert_eq!(field(line, g.caps.host), Some("::1"));
        assert_eq!(g.caps.port, Some(5432));
        assert_eq!(
            g.caps.time.unwrap().to_rfc3339(),
            "2026-11-28T14:41:22+00:00"
        );
        let line = "2026-11-28 15:41:22 UTC:2001:db8::1(5432):a@b:[7]:DETAIL:  y";
        let (g, msg) = m("%t:%r:%u@%d:[%p]:", line).unwrap();
        assert_eq!(field(line, g.caps.host), Some("2001:db8::1"));
        assert_eq!(g.level, Level::Part(Part::Detail));
        assert_eq!(msg, "y");
        let line = "2026-11-28 15:41:22 UTC:[local]:a@b:[7]:LOG:  z";
        let (g, _) = m("%t:%r:%u@%d:[%p]:", line).unwrap();
        assert_eq!(field(line, g.caps.host), Some("[local]"));
        assert_eq!(g.caps.port, None);
        // A database name holding the delimiter still splits at the level word.
        let line = "2026-11-28 15:41:22 UTC:h(1):a@b:[c:[7]:LOG:  z";
        let (g, _) = m("%t:%r:%u@%d:[%p]:", line).unwrap();
        assert_eq!(field(line, g.caps.db), Some("b:[c"));
        assert!(m(
            "%t:%r:%u@%d:[%p]:",
            "2026-11-28 15:41:22 UTC:h(1):a@b:[x]:LOG:  z"
        )
        .is_none());
        assert!(m("%t:%r:%u@%d:[%p]:", "2026-11-28 15:41:22 UTC:h(1):a@b:[7]:").is_none());
        assert!(m("%t:%r:%u@%d:[%p]:", "2026-11-28 15:41").is_none());
    }

    #[test]
    fn debian_prefix_and_q() {
        let p = "%m [%p] %q%u@%d ";
        let line = "2026-11-28 15:41:22.123 UTC [42] app@shop LOG:  statement: select 1";
        let (g, msg) = m(p, line).unwrap();
        assert_eq!(msg, "statement: select 1");
        assert_eq!(field(line, g.caps.user), Some("app"));
        assert_eq!(
            g.caps.time.unwrap().to_rfc3339(),
            "2026-11-28T15:41:22.123+00:00"
        );
        // Background processes stop at %q; their message may hold `x@y `.
        let line = "2026-11-28 15:41:22.123 UTC [40] LOG:  checkpoint a@b LOG:  x";
        let (g, msg) = m(p, line).unwrap();
        assert_eq!(msg, "checkpoint a@b LOG:  x");
        assert_eq!(g.caps.user, None);
        let line = "2026-11-28 15:41:22.123 UTC [42] [unknown]@[unknown] LOG:  connection received: host=[local]";
        let (g, _) = m(p, line).unwrap();
        assert_eq!(field(line, g.caps.user), Some("[unknown]"));
        // Without %q a background line still matches, with empty fields.
        let line = "2026-11-28 15:41:22.123 UTC [40] @ LOG:  x";
        let (g, _) = m("%m [%p] %u@%d ", line).unwrap();
        assert_eq!(field(line, g.caps.user), Some(""));
    }

    #[test]
    fn every_escape() {
        let p = "%a|%u|%d|%r|%h|%b|%p|%P|%t|%m|%n|%i|%e|%c|%l|%s|%v|%x|%Q|%%|%z|";
        let line = "psql app|bob|shop|10.0.0.9(5433)|10.0.0.9|client backend|77|70|2026-11-28 15:41:22 UTC|2026-11-28 15:41:22.250 UTC|1732808482.250|SELECT|28P01|6b0af627.4d|12|2026-11-28 15:00:00 UTC|3/17|0|-4242|%||ERROR:  boom";
        let (g, msg) = m(p, line).unwrap();
        assert_eq!(msg, "boom");
        assert_eq!(g.level, Level::Primary("ERROR"));
        assert_eq!(field(line, g.caps.app), Some("psql app"));
        assert_eq!(field(line, g.caps.user), Some("bob"));
        assert_eq!(field(line, g.caps.db), Some("shop"));
        assert_eq!(field(line, g.caps.host), Some("10.0.0.9"));
        assert_eq!(g.caps.port, Some(5433));
        assert_eq!(g.caps.pid, Some(77));
        assert_eq!(field(line, g.caps.sqlstate), Some("28P01"));
        assert_eq!(field(line, g.caps.session), Some("6b0af627.4d"));
        // %m is more precise than %t and %n (which differ here on purpose).
        assert_eq!(
            g.caps.time.unwrap().to_rfc3339(),
            "2026-11-28T15:41:22.250+00:00"
        );
        // %n alone, %P and %v empty (no parallel leader, no transaction), %Q positive.
        let line = "1732808482.250 [] [] [7] LOG:  x";
        let (g, _) = m("%n [%P] [%v] [%Q] ", line).unwrap();
        assert_eq!(
            g.caps.time.unwrap().to_rfc3339(),
            "2024-11-28T15:41:22.250+00:00"
        );
        assert!(m("%n ", "17328x LOG:  x").is_none());
        assert!(m("%e ", "2801 LOG:  x").is_none());
        assert!(m("%c ", "6b0af627 LOG:  x").is_none());
        assert!(m("%p ", "-1 LOG:  x").is_none());
        assert!(m("%l ", "x LOG:  x").is_none());
        assert!(m("%v ", "3 LOG:  x").is_none());
        assert!(m("%x ", " LOG:  x").is_none());
        // %s is the session start, not the event's time.
        let (g, _) = m("%s ", "2026-11-28 15:00:00 UTC LOG:  x").unwrap();
        assert_eq!(g.caps.time, None);
        // %b and %i hold spaces; %q at the end; a trailing lone % is dropped.
        let line = "[autovacuum launcher] [idle in transaction] LOG:  x";
        assert!(m("[%b] [%i] %q%", line).is_some());
    }

    #[test]
    fn padding() {
        let line = "bob       |shop|      4242|LOG:  x";
        let (g, _) = m("%-10u|%d|%10p|", line).unwrap();
        assert_eq!(field(line, g.caps.user), Some("bob"));
        assert_eq!(g.caps.pid, Some(4242));
        // Padding followed by a space literal: the pad is part of the field.
        let line = "bob        shop LOG:  x";
        let (g, _) = m("%-10u %d ", line).unwrap();
        assert_eq!(field(line, g.caps.user), Some("bob"));
        assert_eq!(field(line, g.caps.db), Some("shop"));
        let line = "       bob shop LOG:  x";
        let (g, _) = m("%10u %d ", line).unwrap();
        assert_eq!(field(line, g.caps.user), Some("bob"));
        // Padded empty fields of a background process.
        let line = "           [9] LOG:  x";
        let (g, _) = m("%-10u [%p] ", line).unwrap();
        assert_eq!(field(line, g.caps.user), Some(""));
        assert_eq!(g.caps.pid, Some(9));
    }

    #[test]
    fn host_escape_with_ipv6_and_colon() {
        let line = "::1:app:LOG:  x";
        let (g, _) = m("%h:%u:", line).unwrap();
        assert_eq!(field(line, g.caps.host), Some("::1"));
        assert_eq!(field(line, g.caps.user), Some("app"));
        let line = "2001:db8::1 app LOG:  x";
        let (g, _) = m("%h %u ", line).unwrap();
        assert_eq!(field(line, g.caps.host), Some("2001:db8::1"));
        let line = "[local] app LOG:  x";
        let (g, _) = m("%h %u ", line).unwrap();
        assert_eq!(field(line, g.caps.host), Some("[local]"));
        // Not a host: the split moves on and fails.
        assert!(m("%h %u ", "a@b c LOG:  x").is_none());
    }

    #[test]
    fn field_at_the_end_runs_to_the_level() {
        let line = "2026-11-28 15:41:22 UTC appFATAL:  x";
        let (g, msg) = m("%t %a", line).unwrap();
        assert_eq!(field(line, g.caps.app), Some("app"));
        assert_eq!(msg, "x");
    }

    #[test]
    fn zones_and_times() {
        let mut c = TimeCache::default();
        let (t, n) = pg_time(b"2026-11-28 15:41:22.5 +05:30 x", utc(), &mut c).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T10:11:22.500+00:00");
        assert_eq!(n, 28);
        // Unknown zone: consumed, and the configured offset applies.
        let nine = FixedOffset::east_opt(9 * 3600).unwrap();
        let (t, n) = pg_time(b"2026-11-28 15:41:22 XYZT:", nine, &mut c).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T06:41:22+00:00");
        assert_eq!(n, 24);
        // Cached: the same text gives the same time.
        let (t2, _) = pg_time(b"2026-11-28 15:41:22 XYZT:", utc(), &mut c).unwrap();
        assert_eq!(t, t2);
        assert!(pg_time(b"2026-02-30 15:41:22 UTC", utc(), &mut c).is_none());
        assert!(pg_time(b"2026-11-28 15:41:22. UTC", utc(), &mut c).is_none());
    }

    #[test]
    fn sets_lock_and_relock() {
        let mut s = PrefixSet::new(None, Candidates::Stderr, utc());
        let deb = "2026-11-28 15:41:22.123 UTC [42] app@shop LOG:  x";
        let g = s.match_line(deb.as_bytes()).unwrap();
        assert_eq!(field(deb, g.caps.user), Some("app"));
        let rds = "2026-11-28 15:41:22 UTC:1.2.3.4(5):u@d:[7]:LOG:  x";
        let g = s.match_line(rds.as_bytes()).unwrap();
        assert_eq!(field(rds, g.caps.user), Some("u"));
        assert_eq!(s.locked, 0);
        assert!(s.match_line(b"garbage").is_none());
        assert!(s.mismatch_reason().contains("--pg-prefix"));
        let s = PrefixSet::new(Some("%m "), Candidates::Stderr, utc());
        assert!(s.mismatch_reason().contains("'%m '"));
    }

    #[test]
    fn hostile_lines_cost_bounded_work() {
        // Many delimiters and no level word: backtracking is bounded, no panic.
        let line = format!("{}{}", "@ ".repeat(50_000), ":[");
        assert!(m("%u@%d %a@%u %d:[%p]:", &line).is_none());
        let line = "a".repeat(100_000);
        assert!(m("%u", &line).is_none());
        for p in ["%", "%-", "%5", "%-5", "%q", "%Q", ""] {
            let _ = m(p, "LOG:  x");
        }
        assert!(m("", "LOG:  x").is_some());
    }
}
