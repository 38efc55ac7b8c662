//! PgBouncer's log (`logfile = ...`, or its standard error), with `log_connections`
//! and `log_disconnections` on:
//!
//! ```text
//! 2026-12-06 09:48:05.760 UTC [17215] LOG C-0x5644...: shop/app@203.0.113.9:47452 login attempt: db=shop user=app tls=no
//! 2026-12-06 09:48:05.890 UTC [17215] ERROR C-0x5644...: shop/app@203.0.113.9:47462 password authentication failed
//! 2026-12-06 09:48:05.890 UTC [17215] LOG C-0x5644...: shop/app@203.0.113.9:47462 closing because: SASL authentication failed (age=0s)
//! ```
//!
//! A pooler hides the client from the database: PostgreSQL sees PgBouncer's address.
//! PgBouncer's own log names the real client (`db/user@addr:port`), so a brute force
//! through the pooler is attributed to the attacker here.
//!
//! PgBouncer logs a `login attempt` before it authenticates the client, and nothing
//! when the login succeeds; a failure follows the attempt at once (`password
//! authentication failed`, `login failed: ...`, `closing because: <auth reason>`). So:
//! - `login attempt` is `connection_received`, with the real client;
//! - the first failure of an attempt is `login_failure` (later lines about the same
//!   failure are `other`);
//! - an attempt is a `login_success` when its client later closes with `client close
//!   request` (libpq sends that only from an open session), or when no failure and no
//!   close follows within [`LOGIN_TIMEOUT_SECS`] of log time (PgBouncer's default
//!   `client_login_timeout`: a client still not logged in by then is closed). The
//!   success has the attempt's time and line; events are held back in order until the
//!   attempts before them are decided. An attempt closed for another reason (the
//!   client hung up at the password prompt) or still open when the log ends is not a
//!   login.
//!
//! Lines about server connections (`S-0x...`) are `other`: their address is the
//! server's, and a failed login of the pooler to the server is in the database's own
//! log, from the pooler's address.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, Offset, Utc};
use keibi_model::{Action, CompactString, Event, SourceKind};

use crate::format::Sample;
use crate::time::parse_pg_time;
use crate::{LineParser, Output, ParseConfig};

/// How long after a `login attempt` without failure the login is taken to have
/// succeeded (PgBouncer's default `client_login_timeout`).
pub const LOGIN_TIMEOUT_SECS: i64 = 60;
/// Most client connections remembered; the oldest are forgotten first.
const MAX_CLIENTS: usize = 100_000;
/// Most events held back behind undecided attempts; past it the oldest attempt is
/// decided as not (known to be) a login.
const MAX_HELD: usize = 100_000;
/// Longest `db/user@` part searched for the client address (PgBouncer's names are at
/// most 64 bytes in 1.18, 128 in later versions; room for both, quoted oddly).
const MAX_NAMES: usize = 600;

const LEVELS: &[&str] = &[
    "LOG", "ERROR", "WARNING", "FATAL", "DEBUG", "NOISE", "NOTICE",
];

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    sample.share(|l| header(l, Utc.fix()).is_some())
}

/// The parts every PgBouncer line has.
struct Header<'a> {
    time: DateTime<Utc>,
    pid: Option<u32>,
    level: &'a str,
    rest: &'a [u8],
}

/// `2026-12-06 09:48:05.760 UTC [17215] LOG ...` (1.8 and later) or
/// `2016-02-08 10:15:11.623 17215 LOG ...` (earlier versions).
fn header(line: &[u8], offset: FixedOffset) -> Option<Header<'_>> {
    let (time, mut n) = parse_pg_time(line, offset)?;
    let mut rest = line.get(n..)?.strip_prefix(b" ")?;
    // A zone word parse_pg_time did not know: the default offset applies.
    if rest.first().is_some_and(u8::is_ascii_alphabetic) {
        let w = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        rest = rest[w..].strip_prefix(b" ")?;
        n += w;
    }
    let _ = n;
    let (pid, after) = match rest.first()? {
        b'[' => {
            let d = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if d == 0 || rest.get(1 + d) != Some(&b']') {
                return None;
            }
            (&rest[1..1 + d], rest.get(2 + d..)?)
        }
        b'0'..=b'9' => {
            let d = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            (&rest[..d], &rest[d..])
        }
        _ => return None,
    };
    let after = after.strip_prefix(b" ")?;
    let level = LEVELS
        .iter()
        .find(|l| after.starts_with(l.as_bytes()) && after.get(l.len()) == Some(&b' '))?;
    Some(Header {
        time,
        pid: std::str::from_utf8(pid).ok()?.parse().ok(),
        level,
        rest: &after[level.len() + 1..],
    })
}

/// `C-0x55d1c8a0:` or `S-0x55d1c8a0:` and what follows it.
fn connection(rest: &[u8]) -> Option<(bool, &str, &[u8])> {
    let client = match rest.get(..4)? {
        b"C-0x" => true,
        b"S-0x" => false,
        _ => return None,
    };
    let hex = rest[4..]
        .iter()
        .take_while(|c| c.is_ascii_hexdigit())
        .count();
    if hex == 0 || hex > 16 || rest.get(4 + hex) != Some(&b':') {
        return None;
    }
    let id = std::str::from_utf8(&rest[..4 + hex]).ok()?;
    let after = rest.get(5 + hex..)?;
    Some((client, id, after.strip_prefix(b" ").unwrap_or(after)))
}

/// A client or server address as PgBouncer writes it: `203.0.113.9:47452`,
/// `[2001:db8::1]:5432` or `2001:db8::1:5432`, `unix(1234):6432`, `unix:6432`.
fn address(token: &str) -> Option<(Option<std::net::IpAddr>, Option<u16>, bool)> {
    let (host, port) = token.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    if host == "unix" || (host.starts_with("unix(") && host.ends_with(')')) {
        return Some((None, Some(port), true));
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: std::net::IpAddr = bare.parse().ok()?;
    Some((Some(ip), Some(port), false))
}

/// `db/user@addr:port ` at the start of a connection's text: the names (chosen by the
/// client: they may hold `/`, `@` and spaces), the address and the message after it.
/// `accept` judges a candidate split (the message must agree with the names);
/// candidates are tried from the left.
struct Prefix<'a> {
    /// `db/user@addr:port ` exactly as written, to recognise the connection's later lines.
    text: &'a str,
    db: &'a str,
    user: &'a str,
    ip: Option<std::net::IpAddr>,
    port: Option<u16>,
    local: bool,
    message: &'a str,
}

fn prefixes<'a>(text: &'a str) -> impl Iterator<Item = Prefix<'a>> + 'a {
    let head = &text[..floor_char(text, MAX_NAMES.min(text.len()))];
    head.match_indices('@').filter_map(move |(at, _)| {
        let names = &text[..at];
        let after = &text[at + 1..];
        // An address and port are short: look no further (a line of `@`s stays linear).
        let end = after.bytes().take(64).position(|b| b == b' ')?;
        let (ip, port, local) = address(&after[..end])?;
        let (db, user) = names.split_once('/')?;
        Some(Prefix {
            text: &text[..at + 1 + end + 1],
            db,
            user,
            ip,
            port,
            local,
            message: &after[end + 1..],
        })
    })
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// For a `login attempt: db=D user=U tls=T` message, the split of the prefix that
/// agrees with it: the prefix's user is the message's, its database the message's
/// or `(nodb)`. Returns the prefix with the message's names, and TLS.
fn login_attempt(text: &str) -> Option<(Prefix<'_>, Option<bool>)> {
    for mut p in prefixes(text) {
        let Some(m) = p.message.strip_prefix("login attempt: db=") else {
            continue;
        };
        let Some((names, tls)) = m.rsplit_once(" tls=") else {
            continue;
        };
        if tls.contains(' ') || names.contains(" login attempt: ") {
            continue;
        }
        // The prefix's user may hold `/`: try each split of it against the message.
        let agrees = p.text[..p.text.len() - 1]
            .rsplit_once('@')
            .map(|(names_part, _)| names_part)
            .and_then(|names_part| {
                names_part.match_indices('/').find_map(|(slash, _)| {
                    let (pdb, puser) = (&names_part[..slash], &names_part[slash + 1..]);
                    let mdb = names.strip_suffix(puser)?.strip_suffix(" user=")?;
                    (pdb == mdb || pdb == "(nodb)").then_some((mdb, puser))
                })
            });
        let Some((db, user)) = agrees else {
            continue;
        };
        p.db = db;
        p.user = user;
        let tls = if tls == "no" { Some(false) } else { Some(true) };
        return Some((p, tls));
    }
    None
}

/// Whether a reason (of `closing because:`, `pooler error:`) is a failed login.
fn auth_failure(reason: &str) -> bool {
    reason.contains("authentication failed")
        || reason.starts_with("auth failed")
        || reason.starts_with("no such database")
        || reason.starts_with("no such user")
        || reason.starts_with("login rejected")
        || reason.starts_with("login failed")
        || reason.contains("pg_hba")
}

/// What the parser knows of one client connection.
struct Client {
    /// The `db/user@addr:port ` its lines start with.
    prefix: String,
    user: CompactString,
    db: CompactString,
    ip: Option<std::net::IpAddr>,
    port: Option<u16>,
    local: bool,
    tls: Option<bool>,
    /// Absolute index of its undecided attempt in the held queue.
    attempt: Option<u64>,
    /// Its login failed (later lines about it are not failures again).
    failed: bool,
    seq: u64,
}

enum Slot {
    Ready(Event),
    /// A login attempt, a success unless a failure or an early close follows.
    Attempt(Event),
    Dropped,
}

/// PgBouncer log parser.
pub struct PgbouncerParser {
    file: Arc<str>,
    instance: Option<CompactString>,
    offset: FixedOffset,
    clients: HashMap<CompactString, Client>,
    /// Connection ids in the order they were last seen, for eviction (stale entries
    /// are skipped by their `seq`).
    order: VecDeque<(CompactString, u64)>,
    seq: u64,
    held: VecDeque<Slot>,
    /// Absolute index of `held[0]`.
    base: u64,
}

impl PgbouncerParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        PgbouncerParser {
            file: cfg.file.clone(),
            instance: cfg.instance.as_deref().map(Into::into),
            offset: cfg.local_offset,
            clients: HashMap::new(),
            order: VecDeque::new(),
            seq: 0,
            held: VecDeque::new(),
            base: 0,
        }
    }

    fn push(&mut self, e: Event) {
        self.held.push_back(Slot::Ready(e));
    }

    fn slot(&mut self, abs: u64) -> Option<&mut Slot> {
        let i = abs.checked_sub(self.base)?;
        self.held.get_mut(usize::try_from(i).ok()?)
    }

    /// Decides a client's undecided attempt: a login, or not.
    fn decide(&mut self, id: &str, success: bool) {
        let Some(abs) = self.clients.get_mut(id).and_then(|c| c.attempt.take()) else {
            return;
        };
        if let Some(slot) = self.slot(abs) {
            *slot = match std::mem::replace(slot, Slot::Dropped) {
                Slot::Attempt(e) if success => Slot::Ready(e),
                _ => Slot::Dropped,
            };
        }
    }

    /// Decides attempts older than the login timeout as logins, holds no more than
    /// [`MAX_HELD`], and emits what is no longer held back.
    fn release(&mut self, now: Option<DateTime<Utc>>, out: &mut Output) {
        loop {
            let attempt_time = match self.held.front() {
                None => return,
                Some(Slot::Attempt(e)) => Some(e.time),
                Some(_) => None,
            };
            if let Some(t) = attempt_time {
                let expired =
                    now.is_some_and(|now| now >= t + Duration::seconds(LOGIN_TIMEOUT_SECS));
                let decided = if expired {
                    true
                } else if self.held.len() > MAX_HELD {
                    false
                } else {
                    return;
                };
                if let Some(slot) = self.held.front_mut() {
                    *slot = match std::mem::replace(slot, Slot::Dropped) {
                        Slot::Attempt(e) if decided => Slot::Ready(e),
                        _ => Slot::Dropped,
                    };
                }
            }
            if let Some(Slot::Ready(e)) = self.held.pop_front() {
                out.event(e);
            }
            self.base += 1;
        }
    }

    fn remember(&mut self, id: CompactString, c: Client) {
        self.order.push_back((id.clone(), c.seq));
        self.clients.insert(id, c);
        while self.clients.len() > MAX_CLIENTS {
            let Some((old, seq)) = self.order.pop_front() else {
                break;
            };
            if self.clients.get(&old).is_some_and(|c| c.seq == seq) {
                self.decide(&old, false);
                self.clients.remove(&old);
            }
        }
        // Stale entries (a connection id seen again) would make `order` grow.
        if self.order.len() > 2 * MAX_CLIENTS {
            let clients = &self.clients;
            self.order
                .retain(|(id, seq)| clients.get(id).is_some_and(|c| c.seq == *seq));
        }
    }

    fn event(&self, h: &Header<'_>, lineno: u64, action: Action, message: &str) -> Event {
        let mut e = Event::new(
            h.time,
            SourceKind::Pgbouncer,
            self.file.clone(),
            lineno,
            action,
        );
        e.instance.clone_from(&self.instance);
        e.pid = h.pid;
        e.level = Some(h.level.into());
        e.message = Some(message.to_string());
        e
    }

    fn fill(e: &mut Event, c: &Client) {
        e.user = (!c.user.is_empty()).then(|| c.user.clone());
        e.database = (!c.db.is_empty() && c.db != "(nodb)").then(|| c.db.clone());
        e.client_ip = c.ip;
        e.client_port = c.port;
        if c.local {
            e.client_host = Some("[local]".into());
        }
        e.tls = c.tls;
    }

    fn client_line(&mut self, h: &Header<'_>, lineno: u64, id: &str, text: &str) {
        // A login attempt starts (or restarts: PgBouncer reuses its ids) a connection.
        if let Some((p, tls)) = login_attempt(text) {
            self.decide(id, false);
            self.seq += 1;
            let c = Client {
                prefix: p.text.to_string(),
                user: p.user.into(),
                db: p.db.into(),
                ip: p.ip,
                port: p.port,
                local: p.local,
                tls,
                attempt: None,
                failed: false,
                seq: self.seq,
            };
            let mut received = self.event(h, lineno, Action::ConnectionReceived, p.message);
            Self::fill(&mut received, &c);
            received.session_id = Some(id.into());
            let mut login = received.clone();
            login.action = Action::LoginSuccess;
            self.push(received);
            let abs = self.base + self.held.len() as u64;
            self.held.push_back(Slot::Attempt(login));
            let mut c = c;
            c.attempt = Some(abs);
            self.remember(id.into(), c);
            return;
        }
        let known = self
            .clients
            .get(id)
            .filter(|c| text.starts_with(c.prefix.as_str()))
            .map(|c| (c.prefix.len(), c.failed, c.attempt.is_some()));
        let Some((plen, failed, attempting)) = known else {
            // A line about a connection we did not see log in (before the log starts,
            // `no such user` before its attempt): its own prefix says who.
            let mut e = self.event(h, lineno, Action::Other, text);
            if let Some(p) = prefixes(text).next() {
                let c = Client {
                    prefix: String::new(),
                    user: p.user.into(),
                    db: p.db.into(),
                    ip: p.ip,
                    port: p.port,
                    local: p.local,
                    tls: None,
                    attempt: None,
                    failed: false,
                    seq: 0,
                };
                Self::fill(&mut e, &c);
                if p.user == "(nouser)" {
                    e.user = None;
                }
                e.message = Some(p.message.to_string());
            }
            e.session_id = Some(id.into());
            self.push(e);
            return;
        };
        let message = &text[plen..];
        let closing = message.strip_prefix("closing because: ").map(|r| {
            // `client close request (age=12s)`: the reason without its age.
            match r.rfind(" (age=") {
                Some(i) if r.ends_with(')') => &r[..i],
                _ => r,
            }
        });
        let failure = message.starts_with("password authentication failed")
            || message.starts_with("login failed")
            || closing.is_some_and(auth_failure)
            || message
                .strip_prefix("pooler error: ")
                .is_some_and(auth_failure);
        let mut action = Action::Other;
        if failure && !failed {
            action = Action::LoginFailure;
            self.decide(id, false);
            if let Some(c) = self.clients.get_mut(id) {
                c.failed = true;
            }
        } else if let Some(reason) = closing {
            // The end of a session; a connection that never logged in (it failed, or
            // hung up before its attempt was decided) has no session to end.
            let logged_in = !failed && (!attempting || reason == "client close request");
            if attempting {
                self.decide(id, logged_in);
            }
            if logged_in {
                action = Action::Disconnect;
            }
        }
        let mut e = self.event(h, lineno, action, message);
        if let Some(c) = self.clients.get(id) {
            Self::fill(&mut e, c);
        }
        e.session_id = Some(id.into());
        if closing.is_some() {
            self.clients.remove(id);
        }
        self.push(e);
    }
}

impl LineParser for PgbouncerParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        let Some(h) = header(line, self.offset) else {
            if !line.iter().all(u8::is_ascii_whitespace) {
                out.unrecognized(lineno, "expected a PgBouncer log line (time, [pid], level)");
            }
            return;
        };
        let rest = String::from_utf8_lossy(h.rest);
        let rest = rest.trim_end();
        match connection(rest.as_bytes()) {
            Some((true, id, text)) => {
                let id = id.to_string();
                let text = String::from_utf8_lossy(text).into_owned();
                self.client_line(&h, lineno, &id, &text);
            }
            Some((false, id, text)) => {
                let text = String::from_utf8_lossy(text).into_owned();
                let mut e = self.event(&h, lineno, Action::Other, &text);
                // A server connection: its user and database, never a client address.
                if let Some(p) = prefixes(&text).next() {
                    e.user = Some(p.user.into());
                    e.database = Some(p.db.into());
                    e.message = Some(p.message.to_string());
                }
                e.session_id = Some(id.into());
                self.push(e);
            }
            None => {
                let e = self.event(&h, lineno, Action::Other, rest);
                self.push(e);
            }
        }
        self.release(Some(h.time), out);
    }

    fn finish(&mut self, out: &mut Output) {
        // Attempts still undecided when the log ends are not known to be logins.
        for slot in self.held.iter_mut() {
            if matches!(slot, Slot::Attempt(_)) {
                *slot = Slot::Dropped;
            }
        }
        for c in self.clients.values_mut() {
            c.attempt = None;
        }
        self.release(None, out);
    }
}

#[cfg(test)]
mod tests;
