//! What a PostgreSQL message means: one error report (message, level, DETAIL/HINT/
//! STATEMENT parts) becomes one event with an action. Shared by stderr, syslog, csvlog
//! and jsonlog so the four formats agree on every message.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use keibi_model::{Action, Event, SourceKind, Statement};

use super::pgaudit;
use crate::ParseConfig;

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

    /// The text from `start` to the end of the line.
    pub fn text_from(&self, start: usize) -> String {
        self.text(start, self.bytes.len())
    }

    /// As [`known`].
    pub fn known(&self, start: usize, end: usize) -> Option<String> {
        let b = self.bytes(start, end);
        (!b.is_empty() && b != b"[unknown]").then(|| self.text(start, end))
    }
}

/// `Some(text)` unless it is empty or PostgreSQL's `[unknown]` placeholder (before
/// authentication the user and database are not known yet).
pub fn known(b: &[u8]) -> Option<String> {
    if b.is_empty() || b == b"[unknown]" {
        None
    } else {
        Some(text(b))
    }
}

/// Where events come from: the same for every event of one input.
pub struct Origin {
    file: Arc<str>,
    instance: Option<String>,
    source: SourceKind,
    /// Offset for timestamps whose zone is missing or unknown.
    pub offset: FixedOffset,
}

impl Origin {
    pub fn new(cfg: &ParseConfig, source: SourceKind) -> Self {
        Origin {
            file: cfg.file.clone(),
            instance: cfg.instance.clone(),
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
    /// From `connection authenticated`, for the `connection authorized` line after it.
    auth_method: Option<String>,
    logged_in: bool,
    /// Boxed: most prefixes give these on every line, and the map stays small then.
    carried: Option<Box<Carried>>,
}

/// From `connection received` and the login: for the process's later events when the
/// prefix lacks them (PostgreSQL's default `%m [%p] ` has no client or user).
#[derive(Debug, Default)]
struct Carried {
    client_ip: Option<IpAddr>,
    client_host: Option<String>,
    client_port: Option<u16>,
    user: Option<String>,
    database: Option<String>,
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

    fn logged_in(&self, pid: Option<u32>) -> bool {
        pid.and_then(|p| self.pids.get(&p))
            .is_some_and(|s| s.logged_in)
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
            self.forget(event.pid);
        }
        if event.statement.is_none() {
            if let Some(sql) = report.statement.take() {
                event.statement = Some(Box::new(Statement::from_sql(sql)));
            }
        }
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
                if let Some(pid) = e.pid.filter(|_| !known.client) {
                    let st = self.state(pid).carried.get_or_insert_with(Box::default);
                    st.client_ip = e.client_ip;
                    st.client_host.clone_from(&e.client_host);
                    st.client_port = e.client_port;
                }
                return (Some(Action::ConnectionReceived), false);
            }
            if let Some(rest) = msg.strip_prefix("connection authenticated: ") {
                if let (Some(pid), Some(method)) = (e.pid, authenticated_method(rest)) {
                    self.state(pid).auth_method = Some(method.to_string());
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
                    if let Some(m) = st.auth_method.take() {
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

fn set_code(e: &mut Event, code: &str) {
    if e.error_code.is_none() {
        e.error_code = Some(code.to_string());
    }
}

/// `host=H port=P`, or `host=[local]` for a Unix socket.
fn received(e: &mut Event, rest: &str) {
    let Some(rest) = rest.strip_prefix("host=") else {
        return;
    };
    let (host, port) = split_at_key(rest, " port=");
    set_client(e, host, port);
}

/// Sets the client from the message when the prefix (or column) gave none: they name
/// the same client, and parsing it again costs on every connection line.
fn set_client(e: &mut Event, host: &str, port: &str) {
    if e.client_ip.is_none() && e.client_host.is_none() {
        e.set_client(host);
    }
    if e.client_port.is_none() {
        e.client_port = port.trim().parse().ok();
    }
}

/// Sets a field from the message unless it is empty or the field already holds it (the
/// prefix usually gave it: this saves an allocation per event).
fn put(field: &mut Option<String>, v: &str) {
    if !v.is_empty() && field.as_deref() != Some(v) {
        *field = Some(v.to_string());
    }
}

/// `identity="X" method=M (file:line)`: the method word.
fn authenticated_method(rest: &str) -> Option<&str> {
    // The identity may be anything; the real `method=` is the last one.
    let i = rfind(rest, " method=")?;
    let m = &rest[i + 8..];
    let m = m.split(' ').next().unwrap_or(m);
    (!m.is_empty()).then_some(m)
}

/// `user=U database=D application_name=A SSL enabled (...)`, each after the user optional.
fn authorized_fields(e: &mut Event, rest: &str) {
    let mut body = rest;
    // application_name is the client's choice and comes last: the real TLS and GSS
    // parts follow it, so they are the last occurrences.
    if let Some(i) = rfind(body, " GSS (authenticated=") {
        body = &body[..i];
    }
    let tls = match rfind(body, " SSL enabled (") {
        Some(i) => {
            body = &body[..i];
            true
        }
        None => false,
    };
    e.tls = Some(tls);
    let mut user = body.strip_prefix("user=").unwrap_or(body);
    if let Some(i) = find(user, " application_name=") {
        put(&mut e.application, &user[i + 18..]);
        user = &user[..i];
    }
    if let Some(i) = find(user, " database=") {
        put(&mut e.database, &user[i + 10..]);
        user = &user[..i];
    }
    put(&mut e.user, user);
}

/// `H:MM:SS.mmm user=U database=D host=H port=P`.
fn disconnection(e: &mut Event, rest: &str) {
    let Some(i) = find(rest, " user=") else {
        return;
    };
    let rest = &rest[i + 6..];
    let (user, rest) = split_at_key(rest, " database=");
    let (db, rest) = split_at_key(rest, " host=");
    let (host, port) = split_at_key(rest, " port=");
    put(&mut e.user, user);
    put(&mut e.database, db);
    set_client(e, host, port);
}

/// The text before `key` and the text after it (empty when `key` is absent).
fn split_at_key<'a>(s: &'a str, key: &str) -> (&'a str, &'a str) {
    match find(s, key) {
        Some(i) => (&s[..i], &s[i + key.len()..]),
        None => (s, ""),
    }
}

/// The text between `key` and the next `end` (or the end of `s`).
fn between<'a>(s: &'a str, key: &str, end: &str) -> Option<&'a str> {
    let i = find(s, key)? + key.len();
    let rest = &s[i..];
    Some(match find(rest, end) {
        Some(j) => &rest[..j],
        None => rest,
    })
}

const AUTH_FAILED: &str = "authentication failed for user \"";

/// FATAL messages that end a login attempt.
fn login_failure(e: &mut Event, msg: &str) -> Option<Action> {
    if let Some(i) = find(msg, AUTH_FAILED) {
        let word = msg[..i].trim_end();
        if word.contains(' ') {
            return None;
        }
        let rest = &msg[i + AUTH_FAILED.len()..];
        // The user name is the client's and may hold quotes: it ends at the last one.
        let user = rest.rfind('"').map_or(rest, |j| &rest[..j]);
        put(&mut e.user, user);
        let method: Cow<'_, str> = match word {
            // md5, scram-sha-256 and password fail alike; the DETAIL may tell which.
            "password" => e
                .detail
                .as_deref()
                .and_then(hba_method)
                .unwrap_or("password")
                .into(),
            "\"trust\"" => "trust".into(),
            "GSSAPI" => "gss".into(),
            "certificate" => "cert".into(),
            "" if rest.ends_with(": host rejected") => "reject".into(),
            "" => "".into(),
            w => w.trim_matches('"').to_ascii_lowercase().into(),
        };
        set_code(e, if word == "password" { "28P01" } else { "28000" });
        if !method.is_empty() {
            e.auth_method = Some(method.into_owned());
        }
        return Some(Action::LoginFailure);
    }
    let hba = msg
        .strip_prefix("no pg_hba.conf entry for ")
        .or_else(|| msg.strip_prefix("pg_hba.conf rejects "));
    if let Some(rest) = hba {
        if let Some(host) = between(rest, "host \"", "\"") {
            set_client(e, host, "");
        }
        if let Some(u) = between(rest, ", user \"", "\", ") {
            put(&mut e.user, u);
        }
        if let Some(d) = between(rest, ", database \"", "\", ") {
            put(&mut e.database, d);
        }
        if msg.starts_with("pg_hba.conf") {
            e.auth_method = Some("reject".to_string());
        }
        set_code(e, "28000");
        return Some(Action::LoginFailure);
    }
    if let Some(name) = quoted_subject(msg, "role \"", "\" does not exist") {
        put(&mut e.user, name);
        set_code(e, "28000");
        return Some(Action::LoginFailure);
    }
    if let Some(name) = quoted_subject(msg, "role \"", "\" is not permitted to log in") {
        put(&mut e.user, name);
        set_code(e, "28000");
        return Some(Action::LoginFailure);
    }
    if let Some(name) = quoted_subject(msg, "database \"", "\" does not exist") {
        put(&mut e.database, name);
        set_code(e, "3D000");
        return Some(Action::LoginFailure);
    }
    if let Some(name) = msg
        .strip_prefix("permission denied for database \"")
        .and_then(|r| r.strip_suffix('"'))
    {
        put(&mut e.database, name);
        set_code(e, "42501");
        return Some(Action::LoginFailure);
    }
    None
}

fn quoted_subject<'a>(msg: &'a str, start: &str, end: &str) -> Option<&'a str> {
    msg.strip_prefix(start)?.strip_suffix(end)
}

/// The method of the pg_hba.conf line a failed password login matched, from its DETAIL
/// (`Connection matched pg_hba.conf line 87: "host all all 127.0.0.1/32 scram-sha-256"`),
/// so `password` failures say `md5` or `scram-sha-256` when the log tells.
fn hba_method(detail: &str) -> Option<&'static str> {
    let i = find(detail, "Connection matched ")?;
    let rest = &detail[i..];
    let q = find(rest, ": \"")? + 3;
    let line = &rest[q..];
    let line = &line[..line.find('"').unwrap_or(line.len())];
    line.split_ascii_whitespace()
        .rev()
        .filter(|w| !w.contains('='))
        .find_map(|w| match w {
            "scram-sha-256" => Some("scram-sha-256"),
            "md5" => Some("md5"),
            "password" => Some("password"),
            _ => None,
        })
}

/// Connections that never reached authentication: SQLSTATE when `msg` is one.
/// `pre_auth` says whether the process has not logged in (for messages that can also
/// end an established session).
fn probe_code(msg: &str, pre_auth: impl FnOnce() -> bool) -> Option<&'static str> {
    if msg == "incomplete startup packet"
        || msg.starts_with("invalid length of startup packet")
        || msg.starts_with("invalid startup packet layout")
        || msg.starts_with("received direct SSL connection request without")
    {
        return Some("08P01");
    }
    if msg.starts_with("unsupported frontend protocol ") {
        return Some("0A000");
    }
    if msg.starts_with("no PostgreSQL user name specified in startup packet") {
        return Some("28000");
    }
    if msg.starts_with("could not receive data from client: ") && pre_auth() {
        return Some("08006");
    }
    if msg.starts_with("could not accept SSL connection: ")
        || msg.starts_with("could not accept GSSAPI security context")
    {
        return Some("08P01");
    }
    None
}

/// Statements: pgaudit `AUDIT:` records and `log_statement`/`log_min_duration_statement`
/// lines. Sets `e.statement` when `msg` is one.
fn statement(e: &mut Event, msg: &str) {
    if let Some(csv) = msg.strip_prefix("AUDIT: ") {
        if let Some(st) = pgaudit::parse(csv) {
            e.statement = Some(Box::new(st));
        }
        return;
    }
    let mut rest = msg;
    if let Some(d) = rest.strip_prefix("duration: ") {
        // `duration: 0.052 ms  statement: ...`; a bare duration (log_duration) is not one.
        match find(d, "  ") {
            Some(i) => rest = &d[i + 2..],
            None => return,
        }
    }
    let sql = if let Some(sql) = rest.strip_prefix("statement: ") {
        sql
    } else if let Some(named) = rest.strip_prefix("execute ") {
        match find(named, ": ") {
            Some(i) => &named[i + 2..],
            None => return,
        }
    } else {
        return;
    };
    e.statement = Some(Box::new(Statement::from_sql(sql)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use keibi_model::event::StatementClass;

    fn report(level: &'static str, msg: &str) -> Report {
        let cfg = ParseConfig::new("t.log");
        let o = Origin::new(&cfg, SourceKind::PostgresStderr);
        let mut e = o.event(DateTime::UNIX_EPOCH, 1);
        e.level = Some(level.to_string());
        e.message = Some(msg.to_string());
        e.pid = Some(42);
        Report::new(e)
    }

    fn finish(s: &mut Sessions, level: &'static str, msg: &str) -> Option<Event> {
        s.finish(report(level, msg))
    }

    #[test]
    fn level_words() {
        assert_eq!(
            level_at(b"LOG:  connection"),
            Some((Level::Primary("LOG"), 6))
        );
        assert_eq!(
            level_at(b"STATEMENT:  select"),
            Some((Level::Part(Part::Statement), 12))
        );
        assert_eq!(level_at(b"DEBUG3: x"), Some((Level::Primary("DEBUG3"), 8)));
        assert_eq!(level_at(b"HINT:"), Some((Level::Part(Part::Hint), 5)));
        assert_eq!(level_at(b"LOGX:  a"), None);
        assert_eq!(level_at(b"LOG:x"), None);
        assert_eq!(level_at(b"log:  x"), None);
        assert_eq!(level_at(b""), None);
        assert_eq!(level_at(b"NOTAWORDATALL:  x"), None);
    }

    #[test]
    fn authorized_with_tls_and_remembered_method() {
        let mut s = Sessions::new();
        assert!(finish(
            &mut s,
            "LOG",
            "connection authenticated: identity=\"a method=trust\" method=scram-sha-256 (/x/pg_hba.conf:87)"
        )
        .is_none());
        let e = finish(
            &mut s,
            "LOG",
            "connection authorized: user=app database=shop application_name=my app SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)",
        )
        .unwrap();
        assert_eq!(e.action, Action::LoginSuccess);
        assert_eq!(e.user.as_deref(), Some("app"));
        assert_eq!(e.database.as_deref(), Some("shop"));
        assert_eq!(e.application.as_deref(), Some("my app"));
        assert_eq!(e.tls, Some(true));
        assert_eq!(e.auth_method.as_deref(), Some("scram-sha-256"));
        // The method was used up by the login.
        let e = finish(
            &mut s,
            "LOG",
            "connection authorized: user=app database=shop",
        )
        .unwrap();
        assert_eq!(e.auth_method, None);
        assert_eq!(e.tls, Some(false));
        assert_eq!(e.application, None);
        let e = finish(&mut s, "LOG", "replication connection authorized: user=rep").unwrap();
        assert_eq!(e.action, Action::LoginSuccess);
        assert_eq!(e.user.as_deref(), Some("rep"));
    }

    #[test]
    fn login_failures() {
        let mut s = Sessions::new();
        let mut r = report(
            "FATAL",
            "password authentication failed for user \"ad\"min\"",
        );
        r.add_part(
            Part::Detail,
            "Connection matched pg_hba.conf line 87: \"host all all 0.0.0.0/0 md5\"",
        );
        let e = s.finish(r).unwrap();
        assert_eq!(e.action, Action::LoginFailure);
        assert_eq!(e.user.as_deref(), Some("ad\"min"));
        assert_eq!(e.error_code.as_deref(), Some("28P01"));
        assert_eq!(e.auth_method.as_deref(), Some("md5"));
        let cases = [
            (
                "Ident authentication failed for user \"u\"",
                "ident",
                "28000",
            ),
            ("Peer authentication failed for user \"u\"", "peer", "28000"),
            ("LDAP authentication failed for user \"u\"", "ldap", "28000"),
            ("PAM authentication failed for user \"u\"", "pam", "28000"),
            (
                "RADIUS authentication failed for user \"u\"",
                "radius",
                "28000",
            ),
            (
                "certificate authentication failed for user \"u\"",
                "cert",
                "28000",
            ),
            (
                "\"trust\" authentication failed for user \"u\"",
                "trust",
                "28000",
            ),
            (
                "authentication failed for user \"u\": host rejected",
                "reject",
                "28000",
            ),
        ];
        for (msg, method, code) in cases {
            let e = finish(&mut s, "FATAL", msg).unwrap();
            assert_eq!(e.action, Action::LoginFailure, "{msg}");
            assert_eq!(e.user.as_deref(), Some("u"), "{msg}");
            assert_eq!(e.auth_method.as_deref(), Some(method), "{msg}");
            assert_eq!(e.error_code.as_deref(), Some(code), "{msg}");
        }
        let e = finish(
            &mut s,
            "FATAL",
            "no pg_hba.conf entry for host \"10.1.2.3\", user \"bob\", database \"prod\", SSL off",
        )
        .unwrap();
        assert_eq!(e.action, Action::LoginFailure);
        assert_eq!(e.client_ip, Some("10.1.2.3".parse().unwrap()));
        assert_eq!(e.user.as_deref(), Some("bob"));
        assert_eq!(e.database.as_deref(), Some("prod"));
        assert_eq!(e.error_code.as_deref(), Some("28000"));
        let e = finish(&mut s, "FATAL", "role \"ghost\" does not exist").unwrap();
        assert_eq!(
            (e.action, e.user.as_deref()),
            (Action::LoginFailure, Some("ghost"))
        );
        let e = finish(&mut s, "FATAL", "database \"nodb\" does not exist").unwrap();
        assert_eq!(e.error_code.as_deref(), Some("3D000"));
        assert_eq!(e.database.as_deref(), Some("nodb"));
        let e = finish(
            &mut s,
            "FATAL",
            "pg_hba.conf rejects connection for host \"::1\", user \"u\", database \"d\", no encryption",
        )
        .unwrap();
        assert_eq!(e.action, Action::LoginFailure);
        assert_eq!(e.client_ip, Some("::1".parse().unwrap()));
        // The same text at ERROR level (DROP DATABASE nodb) is no login.
        let e = finish(&mut s, "ERROR", "database \"nodb\" does not exist").unwrap();
        assert_eq!(e.action, Action::Other);
    }

    #[test]
    fn forged_messages_with_a_context_are_other() {
        let mut s = Sessions::new();
        let mut r = report("LOG", "connection authorized: user=postgres database=x");
        r.add_part(
            Part::Context,
            "PL/pgSQL function inline_code_block line 1 at RAISE",
        );
        let e = s.finish(r).unwrap();
        assert_eq!(e.action, Action::Other);
        assert_eq!(e.user, None);
        assert!(e.detail.unwrap().starts_with("CONTEXT: PL/pgSQL"));
    }

    #[test]
    fn probes_connections_and_disconnections() {
        let mut s = Sessions::new();
        let e = finish(&mut s, "LOG", "connection received: host=[local]").unwrap();
        assert_eq!(e.action, Action::ConnectionReceived);
        assert_eq!(e.client_host.as_deref(), Some("[local]"));
        let e = finish(
            &mut s,
            "LOG",
            "connection received: host=2001:db8::1 port=5432",
        )
        .unwrap();
        assert_eq!(e.client_ip, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(e.client_port, Some(5432));
        for m in [
            "incomplete startup packet",
            "could not receive data from client: Connection reset by peer",
            "could not accept SSL connection: EOF detected",
            "invalid length of startup packet 1234",
        ] {
            assert_eq!(
                finish(&mut s, "LOG", m).unwrap().action,
                Action::Probe,
                "{m}"
            );
        }
        let e = finish(
            &mut s,
            "FATAL",
            "unsupported frontend protocol 1234.5678: server supports 3.0 to 3.0",
        )
        .unwrap();
        assert_eq!(
            (e.action, e.error_code.as_deref()),
            (Action::Probe, Some("0A000"))
        );
        // After a login, a reset connection is no probe.
        finish(&mut s, "LOG", "connection authorized: user=a database=b").unwrap();
        let e = finish(
            &mut s,
            "LOG",
            "could not receive data from client: Connection reset by peer",
        )
        .unwrap();
        assert_eq!(e.action, Action::Other);
        let e = finish(
            &mut s,
            "LOG",
            "disconnection: session time: 0:00:00.009 user=app database=shop host=127.0.0.1 port=34292",
        )
        .unwrap();
        assert_eq!(e.action, Action::Disconnect);
        assert_eq!(e.user.as_deref(), Some("app"));
        assert_eq!(e.database.as_deref(), Some("shop"));
        assert_eq!(e.client_port, Some(34292));
        let e = finish(
            &mut s,
            "LOG",
            "disconnection: session time: 1:02:03.004 user=a database=b host=[local]",
        )
        .unwrap();
        assert_eq!(e.client_host.as_deref(), Some("[local]"));
    }

    #[test]
    fn statements() {
        let mut s = Sessions::new();
        let e = finish(&mut s, "LOG", "statement: DROP TABLE x").unwrap();
        assert_eq!(e.action, Action::Statement);
        let st = e.statement.unwrap();
        assert_eq!(st.command.as_deref(), Some("DROP TABLE"));
        assert_eq!(st.class, Some(StatementClass::Ddl));
        let e = finish(&mut s, "LOG", "duration: 0.052 ms  statement: select 1").unwrap();
        assert_eq!(e.statement.unwrap().text, "select 1");
        let e = finish(&mut s, "LOG", "execute <unnamed>: UPDATE t SET a = 1").unwrap();
        assert_eq!(e.statement.unwrap().class, Some(StatementClass::Write));
        let e = finish(&mut s, "LOG", "duration: 1.5 ms  execute S_1: select 2").unwrap();
        assert_eq!(e.statement.unwrap().text, "select 2");
        let e = finish(&mut s, "LOG", "duration: 1.5 ms").unwrap();
        assert_eq!((e.action, e.statement), (Action::Other, None));
        let e = finish(&mut s, "LOG", "duration: 1.5 ms  bind S_1: select 2").unwrap();
        assert_eq!(e.action, Action::Other);
        // A STATEMENT part sets the statement of an error, which stays Other.
        let mut r = report("ERROR", "syntax error at or near \"selec\"");
        r.add_part(Part::Statement, "selec 1");
        r.extend("from t", true);
        r.add_part(Part::Statement, "ignored");
        let e = s.finish(r).unwrap();
        assert_eq!(e.action, Action::Other);
        assert_eq!(e.statement.unwrap().text, "selec 1\nfrom t");
    }

    #[test]
    fn texts_are_bounded() {
        let mut r = report("LOG", "x");
        let chunk = "é".repeat(1000);
        for _ in 0..2000 {
            r.extend(&chunk, true);
        }
        let m = r.event.message.unwrap();
        assert!(m.len() <= MAX_TEXT);
        assert!(m.len() > MAX_TEXT - 4);
    }

    #[test]
    fn sessions_are_bounded() {
        let mut s = Sessions::new();
        for pid in 0..(MAX_SESSIONS as u32 + 10) {
            s.state(pid).logged_in = true;
        }
        assert!(s.pids.len() <= MAX_SESSIONS);
        assert!(s.logged_in(Some(MAX_SESSIONS as u32 + 5)));
        assert!(!s.logged_in(Some(0)));

        // A pid forgotten and seen again is young: eviction takes the oldest live one.
        let mut s = Sessions::new();
        for pid in 0..MAX_SESSIONS as u32 {
            s.state(pid).logged_in = true;
        }
        s.forget(Some(0));
        s.state(0).logged_in = true;
        s.state(u32::MAX).logged_in = true;
        assert!(s.logged_in(Some(0)));
        assert!(!s.logged_in(Some(1)));
        assert!(s.logged_in(Some(2)));

        // Churn (few pids, each connection a new process) keeps the order list small
        // and cheap.
        let mut s = Sessions::new();
        for i in 0..1_000_000u32 {
            s.state(i % 7);
            s.forget(Some(i % 7));
        }
        assert!(s.order.len() <= 2 * MAX_SESSIONS);
        assert!(s.pids.is_empty());
    }
}
