//! What a PostgreSQL message means: one error report (message, level, DETAIL/HINT/
//! STATEMENT parts) becomes one event with an action. Shared by stderr, syslog, csvlog
//! and jsonlog so the four formats agree on every message.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use keibi_model::{Action, CompactString, Event, SourceKind, Statement};

use crate::ParseConfig;

mod fields;
pub(crate) mod trust;
use fields::{
    authenticated_method, authorized_fields, disconnection, login_failure, probe_code, received,
    set_code, statement,
};

/// The word that starts a message after the prefix (`LOG:  `, `DETAIL:  ` ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A severity: starts a new report.
    Primary(&'static str),
    /// A part that belongs to the report before it.
    Part(Part),
}

/// The parts PostgreSQL writes after a report's first line, each with the same prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Detail,
    Hint,
    Context,
    Statement,
    Query,
    Location,
}

/// Reads the level word at the start of `b` (`LOG:` followed by one or two spaces, or
/// the end of the line). Returns the level and where the message text starts.
pub fn level_at(b: &[u8]) -> Option<(Level, usize)> {
    use Level::{Part as P, Primary};
    // Dispatch on the first byte; LOG, by far the most common, is tested first.
    let (level, colon) = match *b.first()? {
        b'L' if b.starts_with(b"LOG:") => (Primary("LOG"), 3),
        b'L' if b.starts_with(b"LOCATION:") => (P(Part::Location), 8),
        b'E' if b.starts_with(b"ERROR:") => (Primary("ERROR"), 5),
        b'F' if b.starts_with(b"FATAL:") => (Primary("FATAL"), 5),
        b'W' if b.starts_with(b"WARNING:") => (Primary("WARNING"), 7),
        b'N' if b.starts_with(b"NOTICE:") => (Primary("NOTICE"), 6),
        b'I' if b.starts_with(b"INFO:") => (Primary("INFO"), 4),
        b'P' if b.starts_with(b"PANIC:") => (Primary("PANIC"), 5),
        b'D' if b.starts_with(b"DETAIL:") => (P(Part::Detail), 6),
        b'D' if b.starts_with(b"DEBUG") => {
            let level = match b.get(5)? {
                b':' => "DEBUG",
                b'1' => "DEBUG1",
                b'2' => "DEBUG2",
                b'3' => "DEBUG3",
                b'4' => "DEBUG4",
                b'5' => "DEBUG5",
                _ => return None,
            };
            (Primary(level), level.len())
        }
        b'H' if b.starts_with(b"HINT:") => (P(Part::Hint), 4),
        b'C' if b.starts_with(b"CONTEXT:") => (P(Part::Context), 7),
        b'S' if b.starts_with(b"STATEMENT:") => (P(Part::Statement), 9),
        b'Q' if b.starts_with(b"QUERY:") => (P(Part::Query), 5),
        _ => return None,
    };
    if b.get(colon) != Some(&b':') {
        return None;
    }
    let mut i = colon + 1;
    match b.get(i) {
        None => return Some((level, i)),
        Some(b' ') => i += 1,
        Some(_) => return None,
    }
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    Some((level, i))
}

/// Text from the log, as a `String` whatever its encoding.
pub fn text(b: &[u8]) -> String {
    // Checking first is faster than `from_utf8_lossy` on the valid text most logs hold.
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Text from the log for a short field (user, database, code ...): inline, no
/// allocation, when up to 24 bytes.
pub fn short(b: &[u8]) -> CompactString {
    match std::str::from_utf8(b) {
        Ok(s) => s.into(),
        Err(_) => CompactString::from_utf8_lossy(b),
    }
}

/// `str::find` for the short fixed keys of PostgreSQL messages: `str::find` builds a
/// searcher per call, which costs more than the search in these short texts.
fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let last = *n.last()?;
    memchr::memchr_iter(last, h)
        .filter_map(|i| (i + 1).checked_sub(n.len()))
        .find(|&s| h[s..].starts_with(n))
}

/// The last occurrence, as [`find`].
fn rfind(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let last = *n.last()?;
    memchr::memrchr_iter(last, h)
        .filter_map(|i| (i + 1).checked_sub(n.len()))
        .find(|&s| h[s..].starts_with(n))
}

/// A log line checked for UTF-8 once, so that its pieces need no check of their own.
pub struct LineText<'a> {
    bytes: &'a [u8],
    valid: Option<&'a str>,
}

impl<'a> LineText<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        LineText {
            bytes,
            valid: std::str::from_utf8(bytes).ok(),
        }
    }

    pub fn bytes(&self, start: usize, end: usize) -> &'a [u8] {
        self.bytes.get(start..end).unwrap_or_default()
    }

    /// The text from `start` to `end` (empty when out of range).
    pub fn text(&self, start: usize, end: usize) -> String {
        match self.valid.and_then(|s| s.get(start..end)) {
            Some(t) => t.to_owned(),
            None => text(self.bytes(start, end)),
        }
    }

    /// The text from `start` to `end` (clamped to the line), borrowed when valid UTF-8.
    pub fn cow(&self, start: usize, end: usize) -> std::borrow::Cow<'a, str> {
        let end = end.min(self.bytes.len());
        match self.valid.and_then(|s| s.get(start..end)) {
            Some(t) => std::borrow::Cow::Borrowed(t),
            None => String::from_utf8_lossy(self.bytes(start, end)),
        }
    }

    /// The text from `start` to the end of the line.
    pub fn text_from(&self, start: usize) -> String {
        self.text(start, self.bytes.len())
    }

    /// The text from `start` to `end` as a short field.
    pub fn short(&self, start: usize, end: usize) -> CompactString {
        match self.valid.and_then(|s| s.get(start..end)) {
            Some(t) => t.into(),
            None => short(self.bytes(start, end)),
        }
    }

    /// As [`known`].
    pub fn known(&self, start: usize, end: usize) -> Option<CompactString> {
        let b = self.bytes(start, end);
        (!b.is_empty() && b != b"[unknown]").then(|| self.short(start, end))
    }
}

/// `Some(text)` unless it is empty or PostgreSQL's `[unknown]` placeholder (before
/// authentication the user and database are not known yet).
pub fn known(b: &[u8]) -> Option<CompactString> {
    if b.is_empty() || b == b"[unknown]" {
        None
    } else {
        Some(short(b))
    }
}

/// Where events come from: the same for every event of one input.
pub struct Origin {
    file: Arc<str>,
    instance: Option<CompactString>,
    source: SourceKind,
    /// Offset for timestamps whose zone is missing or unknown.
    pub offset: FixedOffset,
}

impl Origin {
    pub fn new(cfg: &ParseConfig, source: SourceKind) -> Self {
        Origin {
            file: cfg.file.clone(),
            instance: cfg.instance.as_deref().map(Into::into),
            source,
            offset: cfg.local_offset,
        }
    }

    /// An `Other` event at `line`; the report's meaning is decided when it is complete.
    #[inline]
    pub fn event(&self, time: DateTime<Utc>, line: u64) -> Event {
        let mut e = Event::new(time, self.source, self.file.clone(), line, Action::Other);
        e.instance.clone_from(&self.instance);
        e
    }
}

/// Longest text kept for one field of a report; a 100 MB statement spread over
/// continuation lines must not make memory grow without bound.
const MAX_TEXT: usize = 1 << 20;

/// Appends `sep` and `text` to `s`, keeping `s` within [`MAX_TEXT`] bytes.
fn push_bounded(s: &mut String, sep: &str, text: &str) {
    if s.len() + sep.len() + text.len() <= MAX_TEXT {
        s.push_str(sep);
        s.push_str(text);
        return;
    }
    let mut room = MAX_TEXT.saturating_sub(s.len() + sep.len());
    if s.len() + sep.len() > MAX_TEXT {
        return;
    }
    while room > 0 && !text.is_char_boundary(room) {
        room -= 1;
    }
    s.push_str(sep);
    s.push_str(&text[..room]);
}

/// Which text a continuation line (a tab-indented line, or a syslog chunk) extends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    Message,
    Detail,
    Statement,
    /// A second STATEMENT part: ignored, so are its continuations.
    Skip,
}

/// Which fields the format itself gives on every line (prefix escapes, csvlog and
/// jsonlog columns). The client, user and database it does not give are carried from a
/// process's connection and login lines to its later events (the application is not:
/// RDS's prefix lacks only it, and copying it into every event would cost a fifth of
/// the parser's speed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Known {
    pub client: bool,
    pub user: bool,
    pub database: bool,
}

impl Known {
    pub const ALL: Known = Known {
        client: true,
        user: true,
        database: true,
    };
}

/// One error report being read: the event of its first line plus the parts after it.
pub struct Report {
    pub event: Event,
    pub known: Known,
    tail: Tail,
    statement: Option<String>,
    context: bool,
}

impl Report {
    #[inline]
    pub fn new(event: Event) -> Self {
        Report {
            event,
            known: Known::default(),
            tail: Tail::Message,
            statement: None,
            context: false,
        }
    }

    /// Adds a DETAIL/HINT/CONTEXT/STATEMENT/QUERY/LOCATION part.
    pub fn add_part(&mut self, part: Part, text: &str) {
        let label = match part {
            Part::Statement => {
                if self.statement.is_none() && self.event.statement.is_none() {
                    self.statement = Some(bounded(text));
                    self.tail = Tail::Statement;
                } else {
                    self.tail = Tail::Skip;
                }
                return;
            }
            Part::Detail => "",
            Part::Hint => "HINT: ",
            Part::Context => {
                self.context = true;
                "CONTEXT: "
            }
            Part::Query => "QUERY: ",
            // Source file and function (`log_error_verbosity = verbose`): no use here.
            Part::Location => {
                self.tail = Tail::Skip;
                return;
            }
        };
        add_detail(&mut self.event, label, text);
        self.tail = Tail::Detail;
    }

    /// Sets the statement that caused the report (csvlog `query`, jsonlog `statement`).
    pub fn set_statement(&mut self, sql: &str) {
        if !sql.is_empty() {
            self.statement = Some(bounded(sql));
        }
    }

    /// Marks the report as raised from inside a function or a DO block (it has a CONTEXT).
    pub fn set_context(&mut self) {
        self.context = true;
    }

    /// Extends the last text: `newline` for a tab-indented line (a line break in the
    /// original text), without for a syslog chunk split in the middle of a line.
    pub fn extend(&mut self, text: &str, newline: bool) {
        let sep = if newline { "\n" } else { "" };
        let target = match self.tail {
            Tail::Message => self.event.message.get_or_insert_with(String::new),
            Tail::Detail => self.event.detail.get_or_insert_with(String::new),
            Tail::Statement => self.statement.get_or_insert_with(String::new),
            Tail::Skip => return,
        };
        push_bounded(target, sep, text);
    }
}

fn bounded(text: &str) -> String {
    let mut s = String::new();
    push_bounded(&mut s, "", text);
    s
}

/// Appends a labelled line to the event's detail.
pub fn add_detail(e: &mut Event, label: &str, text: &str) {
    match &mut e.detail {
        Some(d) => {
            push_bounded(d, "\n", label);
            push_bounded(d, "", text);
        }
        None => {
            let mut d = String::with_capacity(label.len() + text.len());
            push_bounded(&mut d, "", label);
            push_bounded(&mut d, "", text);
            e.detail = Some(d);
        }
    }
}

/// Hashes process ids, which the server assigns (not the client): a multiply is enough,
/// and much cheaper than SipHash on every line.
#[derive(Default)]
struct PidHasher(u64);

impl Hasher for PidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (u64::from(n) ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Most server processes remembered at once; beyond it the oldest are forgotten.
const MAX_SESSIONS: usize = 100_000;

/// What is known about one server process between its log lines.
#[derive(Debug, Default)]
struct PidState {
    /// When it was first seen (see `Sessions::state`).
    seq: u64,
    logged_in: bool,
    /// Whether its `connection received` line was read: it then has not logged in
    /// before that line, and its client is known.
    received: bool,
    /// Its session ended (FATAL, disconnection): only its trailing parts may follow;
    /// another line with its pid is a new process.
    ended: bool,
    /// Boxed: an ended process is remembered (for its trailing parts) with none of
    /// it, and the map holds up to [`MAX_SESSIONS`] of those.
    live: Option<Box<Live>>,
    /// Boxed: most prefixes give these on every line, and the map stays small then.
    carried: Option<Box<Carried>>,
}

/// What a process that has not ended said of itself.
#[derive(Debug, Default)]
struct Live {
    /// From `connection authenticated`, for the `connection authorized` line after it.
    auth_method: Option<CompactString>,
    /// The client of `connection received`, and the user and database it logged in
    /// as: what later lines of the process must agree with (see [`Sessions::judge`]).
    client: Option<trust::Client>,
    /// The client as text, as a prefix writes it: compared before parsing.
    client_text: CompactString,
    login: Option<(CompactString, CompactString)>,
}

impl PidState {
    fn live(&mut self) -> &mut Live {
        self.live.get_or_insert_with(Box::default)
    }
}

/// From `connection received` and the login: for the process's later events when the
/// prefix lacks them (PostgreSQL's default `%m [%p] ` has no client or user).
#[derive(Debug, Default)]
struct Carried {
    client_ip: Option<IpAddr>,
    client_host: Option<CompactString>,
    client_port: Option<u16>,
    user: Option<CompactString>,
    database: Option<CompactString>,
}

/// An address as its `Display` writes it; IPv4 (nearly every client) without the
/// formatting machinery, which cost more than the rest of a `connection received` line.
fn ip_text(ip: &IpAddr) -> CompactString {
    let IpAddr::V4(v4) = ip else {
        return keibi_model::format_compact!("{ip}");
    };
    let mut buf = [0u8; 15];
    let mut n = 0;
    for (i, o) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + o / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    CompactString::from(std::str::from_utf8(&buf[..n]).unwrap_or_default())
}

/// Decides what each report means, remembering per server process what later lines
/// need (the authentication method, whether it has logged in, its client and user).
/// Bounded.
#[derive(Default)]
pub struct Sessions {
    pids: HashMap<u32, PidState, BuildHasherDefault<PidHasher>>,
    /// Pids in the order first seen, with the sequence number they had then.
    order: VecDeque<(u32, u64)>,
    seq: u64,
}

impl Sessions {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&mut self, pid: u32) -> &mut PidState {
        if self.pids.get(&pid).is_some_and(|s| s.ended) {
            // A new process with the pid of one that ended.
            self.pids.remove(&pid);
        }
        if !self.pids.contains_key(&pid) {
            // Entries of `order` whose pid was forgotten, or forgotten and seen again
            // since, are stale: their sequence number no longer matches.
            while self.pids.len() >= MAX_SESSIONS {
                let Some((old, seq)) = self.order.pop_front() else {
                    self.pids.clear();
                    break;
                };
                if self.pids.get(&old).is_some_and(|s| s.seq == seq) {
                    self.pids.remove(&old);
                }
            }
            if self.order.len() >= 2 * MAX_SESSIONS {
                let live = &self.pids;
                self.order
                    .retain(|(p, seq)| live.get(p).is_some_and(|s| s.seq == *seq));
            }
            self.seq += 1;
            self.order.push_back((pid, self.seq));
            self.pids.insert(
                pid,
                PidState {
                    seq: self.seq,
                    ..PidState::default()
                },
            );
        }
        self.pids.entry(pid).or_default()
    }

    fn forget(&mut self, pid: Option<u32>) {
        if let Some(pid) = pid {
            self.pids.remove(&pid);
        }
    }

    /// A process ended: nothing it said carries over, but its parts (DETAIL after a
    /// FATAL) still belong to it, and a statement after its end contradicts it.
    fn end(&mut self, pid: Option<u32>) {
        if let Some(st) = pid.and_then(|p| self.pids.get_mut(&p)) {
            if st.received {
                st.ended = true;
                st.logged_in = false;
                // Its login, authentication method and client: only an ended process
                // reads none of them (see `judge` and `client_of`).
                st.live = None;
                st.carried = None;
            } else {
                self.forget(pid);
            }
        }
    }

    fn logged_in(&self, pid: Option<u32>) -> bool {
        pid.and_then(|p| self.pids.get(&p))
            .is_some_and(|s| s.logged_in)
    }

    /// How well a prefixed line's claim fits what its process said before (its
    /// client, whether and as whom it logged in) and its own message (see
    /// [`trust`]): above 0 it fits, below it contradicts.
    pub fn judge(&self, claim: &trust::Claim<'_>) -> i32 {
        // Classified once: both scores below ask.
        let is_login = trust::is_login(claim.msg.as_bytes());
        let mut score = trust::message_score_as(claim, is_login);
        let Some(st) = claim
            .pid
            .and_then(|p| self.pids.get(&p))
            .filter(|s| !s.ended)
        else {
            return score;
        };
        let live = st.live.as_deref();
        let login = live.and_then(|l| l.login.as_ref());
        if let (Some(l), Some(host)) = (live, claim.host) {
            if let Some(known) = &l.client {
                // The server writes one client for a process: another one is decisive.
                let same = l.client_text.as_str() == host || known.is(host);
                score += if same { 1 } else { -4 };
            }
        }
        let kind = trust::kind_as(claim.msg, is_login);
        match (login, kind) {
            (Some(_), trust::Kind::Login) => score -= 2,
            (None, trust::Kind::Login) if st.received => score += 1,
            (None, trust::Kind::Session) if st.received => score -= 2,
            _ => {}
        }
        if let Some(login) = login {
            for (have, claimed) in [(&login.0, claim.user), (&login.1, claim.db)] {
                if let Some(c) = claimed {
                    score += if have.as_str() == c { 1 } else { -4 };
                }
            }
        }
        score
    }

    /// Whether the log has shown this process connecting.
    pub fn knows(&self, pid: Option<u32>) -> bool {
        pid.and_then(|p| self.pids.get(&p))
            .is_some_and(|s| s.received)
    }

    /// The client a process's `connection received` line named.
    pub fn client_of(&self, pid: Option<u32>) -> Option<trust::Client> {
        let st = self.pids.get(&pid?).filter(|s| !s.ended)?;
        st.live.as_ref()?.client.clone()
    }

    /// The complete report's event, with its action; `None` for a message that only
    /// informs a later one (`connection authenticated`).
    pub fn finish(&mut self, mut report: Report) -> Option<Event> {
        self.complete(&mut report).then_some(report.event)
    }

    /// Gives the report's event its action, in place (an event is large: moving it
    /// costs on every line). `false` for a message that only informs a later one.
    pub fn complete(&mut self, report: &mut Report) -> bool {
        let event = &mut report.event;
        if event.error_code.as_deref() == Some("00000") {
            event.error_code = None;
        }
        let msg = event.message.take().unwrap_or_default();
        // A message raised from a function (RAISE LOG 'connection authorized: ...') has
        // a CONTEXT: it is a user's text, never a server event.
        let (action, ends) = if report.context {
            (Some(Action::Other), false)
        } else {
            self.meaning(event, &msg, report.known)
        };
        event.message = Some(msg);
        let Some(action) = action else { return false };
        event.action = action;
        let all_known = report.known.client && report.known.user && report.known.database;
        if action != Action::ConnectionReceived && !all_known {
            self.enrich(event);
        }
        if ends {
            self.end(event.pid);
        }
        if event.statement.is_none() {
            if let Some(sql) = report.statement.take() {
                event.statement = Some(Box::new(Statement::from_sql(sql)));
            }
        }
        // Names are the client's: one holding a prefix, level or line break is an
        // attempt to forge lines, in every format (csvlog and jsonlog are not fooled).
        trust::mark_names(event);
        true
    }

    /// Fills what the event lacks from what its process said before.
    fn enrich(&self, e: &mut Event) {
        let Some(st) = e.pid.and_then(|p| self.pids.get(&p)?.carried.as_deref()) else {
            return;
        };
        if e.client_ip.is_none() && e.client_host.is_none() {
            e.client_ip = st.client_ip;
            e.client_host.clone_from(&st.client_host);
        }
        if e.client_port.is_none() {
            e.client_port = st.client_port;
        }
        if e.user.is_none() {
            e.user.clone_from(&st.user);
        }
        if e.database.is_none() {
            e.database.clone_from(&st.database);
        }
    }

    /// The action of a message, and whether it ends its process's session.
    fn meaning(&mut self, e: &mut Event, msg: &str, known: Known) -> (Option<Action>, bool) {
        let level = e.level.as_deref().unwrap_or("");
        let (log, fatal) = (level == "LOG", level == "FATAL");
        // The first byte rules out most of the comparisons below, for every line.
        let first = msg.as_bytes().first().copied().unwrap_or(0);
        if log && matches!(first, b'c' | b'r' | b'd') {
            if let Some(rest) = msg.strip_prefix("connection received: ") {
                // A new connection: what was known of an earlier process with this pid
                // is stale.
                self.forget(e.pid);
                received(e, rest);
                if let Some(pid) = e.pid {
                    let client = trust::Client::of(e);
                    let text = match &client {
                        Some(trust::Client::Ip(ip)) => ip_text(ip),
                        Some(trust::Client::Host(h)) => h.clone(),
                        None => CompactString::default(),
                    };
                    let st = self.state(pid);
                    st.received = true;
                    let live = st.live();
                    live.client = client;
                    live.client_text = text;
                    if !known.client {
                        let st = st.carried.get_or_insert_with(Box::default);
                        st.client_ip = e.client_ip;
                        st.client_host.clone_from(&e.client_host);
                        st.client_port = e.client_port;
                    }
                }
                return (Some(Action::ConnectionReceived), false);
            }
            if let Some(rest) = msg.strip_prefix("connection authenticated: ") {
                if let (Some(pid), Some(method)) = (e.pid, authenticated_method(rest)) {
                    self.state(pid).live().auth_method = Some(method.into());
                }
                return (None, false);
            }
            let authorized = msg
                .strip_prefix("connection authorized: ")
                .or_else(|| msg.strip_prefix("replication connection authorized: "));
            if let Some(rest) = authorized {
                authorized_fields(e, rest);
                if let Some(pid) = e.pid {
                    let st = self.state(pid);
                    st.logged_in = true;
                    let live = st.live();
                    live.login = Some((
                        e.user.clone().unwrap_or_default(),
                        e.database.clone().unwrap_or_default(),
                    ));
                    if let Some(m) = live.auth_method.take() {
                        e.auth_method = Some(m);
                    }
                    // Only what later lines will lack: copying costs on every login.
                    if !known.user || !known.database {
                        let c = st.carried.get_or_insert_with(Box::default);
                        c.user.clone_from(&e.user);
                        c.database.clone_from(&e.database);
                    }
                }
                return (Some(Action::LoginSuccess), false);
            }
            if let Some(rest) = msg.strip_prefix("disconnection: session time: ") {
                disconnection(e, rest);
                return (Some(Action::Disconnect), true);
            }
        }
        if fatal {
            if let Some(action) = login_failure(e, msg) {
                return (Some(action), true);
            }
        }
        if matches!(first, b'i' | b'r' | b'u' | b'n' | b'c') {
            if let Some(code) = probe_code(msg, || e.user.is_none() && !self.logged_in(e.pid)) {
                set_code(e, code);
                return (Some(Action::Probe), false);
            }
        }
        statement(e, msg);
        let action = if e.statement.is_some() {
            Action::Statement
        } else {
            Action::Other
        };
        // Any other FATAL ends the process too (`terminating connection ...`).
        (Some(action), fatal)
    }
}

#[cfg(test)]
mod tests;
