//! Which of a line's fields the server asserted, and which a client may have typed.
//!
//! Anyone who reaches the port chooses the user and database names of a connection
//! attempt (63 bytes each, no password needed), and PostgreSQL writes them unescaped
//! into the prefix of every line of that process. A name can therefore hold a whole
//! prefix and level word (`x:[1]:LOG:  connection authorized: ...`) or a line break,
//! and a line then splits more than one way. The parser judges each split against
//! what the server itself wrote: the message quotes the real user name of a failed
//! login, `connection authorized` names user and database, and a process's later
//! lines must agree with its `connection received` client and its login. A name that
//! carries a prefix, a level word or a line break is itself evidence
//! ([`Event::injection`]).

use std::net::IpAddr;

use keibi_model::{CompactString, Event, Injection};

use super::find;

/// What one split of a prefixed line claims.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub pid: Option<u32>,
    pub user: Option<&'a str>,
    pub db: Option<&'a str>,
    /// The client host text of the prefix (`%h`, `%r`).
    pub host: Option<&'a str>,
    /// The message's first line.
    pub msg: &'a str,
}

/// A process's client as `connection received` named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Client {
    Ip(IpAddr),
    Host(CompactString),
}

impl Client {
    pub fn of(e: &Event) -> Option<Client> {
        match (e.client_ip, &e.client_host) {
            (Some(ip), _) => Some(Client::Ip(ip)),
            (None, Some(h)) => Some(Client::Host(h.clone())),
            _ => None,
        }
    }

    /// Sets the event's client to this one.
    pub fn fill(self, e: &mut Event) {
        match self {
            Client::Ip(ip) => e.client_ip = Some(ip),
            Client::Host(h) => e.client_host = Some(h),
        }
    }

    /// Whether a prefix's host text names this client (read as
    /// [`Event::set_client`] reads it).
    pub fn is(&self, host: &str) -> bool {
        let host = host.trim();
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Client::Host(h) = self {
            if h.as_str() == host {
                return true;
            }
        }
        match (self, bare.parse::<IpAddr>()) {
            (Client::Ip(ip), Ok(IpAddr::V6(v6))) => {
                *ip == v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
            }
            (Client::Ip(ip), Ok(other)) => *ip == other,
            (Client::Host(h), Err(_)) => h.as_str() == host,
            _ => false,
        }
    }
}

/// What a message says about its process's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A login succeeding or failing: the process has not logged in before.
    Login,
    /// A statement: the process has logged in.
    Session,
    Other,
}

const AUTH_FAILED: &[u8] = b"authentication failed for user \"";

/// Where `<method> authentication failed for user "` ends, when `msg` starts with it
/// (the method is one word: `password`, `"trust"`, `GSSAPI` ...). Only the message's
/// first words are read: this runs on every line.
fn auth_failed_end(msg: &[u8]) -> Option<usize> {
    // Whether the text at `at` is the phrase; its first byte alone rules out nearly
    // every message before a comparison call.
    let at = |i: usize| msg.get(i) == Some(&b'a') && msg[i..].starts_with(AUTH_FAILED);
    if at(0) {
        return Some(AUTH_FAILED.len());
    }
    // A plain loop: a vector search's set-up costs more than these few bytes.
    let sp = msg[..msg.len().min(24)].iter().position(|c| *c == b' ')?;
    at(sp + 1).then_some(sp + 1 + AUTH_FAILED.len())
}

/// Whether a message is a login succeeding or failing (see [`Kind::Login`]), from its
/// first bytes.
pub fn is_login(msg: &[u8]) -> bool {
    // The first byte picks the one or two openings to compare: this runs several
    // times on every line.
    let opening = match msg.first() {
        Some(b'c') => msg.starts_with(b"connection authorized: "),
        Some(b'r') => {
            msg.starts_with(b"replication connection authorized: ") || msg.starts_with(b"role \"")
        }
        Some(b'n') => msg.starts_with(b"no pg_hba.conf entry for "),
        Some(b'p') => msg.starts_with(b"pg_hba.conf rejects "),
        Some(b'd') => msg.starts_with(b"database \""),
        _ => false,
    };
    opening || auth_failed_end(msg).is_some()
}

#[cfg(test)]
pub fn kind(msg: &str) -> Kind {
    kind_as(msg, is_login(msg.as_bytes()))
}

/// As [`kind`], with [`is_login`] of the message already known.
pub fn kind_as(msg: &str, login: bool) -> Kind {
    if login {
        return Kind::Login;
    }
    let m = msg
        .strip_prefix("duration: ")
        .map_or(msg, |d| d.find("  ").map_or(d, |i| &d[i + 2..]));
    if m.starts_with("statement: ") || m.starts_with("AUDIT: ") || m.starts_with("execute ") {
        return Kind::Session;
    }
    Kind::Other
}

/// +1 when the message names the claim's user and database exactly, -2 when it names
/// others, 0 when it names none (or the claim has none).
pub fn message_score(c: &Claim<'_>) -> i32 {
    message_score_as(c, is_login(c.msg.as_bytes()))
}

/// As [`message_score`], with [`is_login`] of the message already known.
pub fn message_score_as(c: &Claim<'_>, login: bool) -> i32 {
    let msg = c.msg;
    // Only login and connection messages name a user or database: one cheap test
    // rules out the statements that make up most of a log.
    if !login && !msg.starts_with("connection received: ") {
        return 0;
    }
    let same = |want: Option<&str>, got: &str| match want {
        Some(w) if w == got => 1,
        Some(_) => -2,
        None => 0,
    };
    if let Some(rest) = msg
        .strip_prefix("connection authorized: ")
        .or_else(|| msg.strip_prefix("replication connection authorized: "))
    {
        let (Some(u), Some(d)) = (c.user, c.db) else {
            return 0;
        };
        let exact = rest
            .strip_prefix("user=")
            .and_then(|r| r.strip_prefix(u))
            .and_then(|r| r.strip_prefix(" database="))
            .and_then(|r| r.strip_prefix(d))
            .is_some_and(|r| {
                r.is_empty()
                    || r.starts_with(" application_name=")
                    || r.starts_with(" SSL enabled")
                    || r.starts_with(" GSS ")
            });
        return if exact { 1 } else { -2 };
    }
    if msg.starts_with("connection received: ") {
        return if c.user.is_some() || c.db.is_some() {
            -2
        } else {
            0
        };
    }
    if let Some(end) = auth_failed_end(msg.as_bytes()) {
        let rest = &msg[end..];
        return match rest.strip_suffix('"') {
            Some(q) => same(c.user, q),
            // A line break in the name: the rest is on the next lines.
            None => match c.user {
                Some(u) if u.starts_with(rest) => 0,
                Some(_) => -2,
                None => 0,
            },
        };
    }
    if let Some(rest) = msg.strip_prefix("no pg_hba.conf entry for ") {
        let (Some(u), Some(d)) = (c.user, c.db) else {
            return 0;
        };
        let mut want = String::with_capacity(u.len() + d.len() + 24);
        want.push_str(", user \"");
        want.push_str(u);
        want.push_str("\", database \"");
        want.push_str(d);
        want.push('"');
        return if find(rest, &want).is_some() { 1 } else { -2 };
    }
    if let Some(q) = msg
        .strip_prefix("role \"")
        .and_then(|r| r.strip_suffix("\" does not exist"))
    {
        return same(c.user, q);
    }
    if let Some(q) = msg
        .strip_prefix("database \"")
        .and_then(|r| r.strip_suffix("\" does not exist"))
    {
        return same(c.db, q);
    }
    0
}

/// Why a name (user, database, application) is a forgery attempt: a line break, or a
/// log prefix and level word (`:[7]:LOG:  `, `LOG:  statement:`).
pub fn suspicious_name(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    // Every pattern below has one of these: most names have none. Names are short
    // (63 bytes at most from the server): a plain loop beats a vector search's set-up.
    let marker = |c: &u8| matches!(c, b':' | b'\n' | b'\r');
    let any = if b.len() <= 64 {
        b.iter().any(marker)
    } else {
        memchr::memchr3(b':', b'\n', b'\r', b).is_some()
    };
    if !any {
        return None;
    }
    if b.iter().any(|c| matches!(c, b'\n' | b'\r')) {
        return Some("line break in a name");
    }
    // A level word followed by its colon and space(s), as PostgreSQL writes one.
    for c in memchr::memchr_iter(b':', b) {
        for s in c.saturating_sub(9)..c {
            if let Some((_, n)) = super::level_at(&b[s..]) {
                let starts_word = s == 0 || !b[s - 1].is_ascii_alphanumeric();
                if n > c - s && starts_word && b.get(c + 1).is_some_and(|x| *x == b' ') {
                    return Some("log level word in a name");
                }
            }
        }
    }
    // A `[pid]` between colons, as the RDS prefix writes one.
    let mut i = 0;
    while let Some(j) = memchr::memchr(b'[', &b[i..]) {
        let at = i + j;
        let digits = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits > 0 && at > 0 && b[at - 1] == b':' && b[at + 1 + digits..].starts_with(b"]:") {
            return Some("log prefix in a name");
        }
        i = at + 1;
    }
    None
}

/// Marks `e` with the first suspicious name among its user, database and application.
pub fn mark_names(e: &mut Event) {
    if e.injection.is_some() {
        return;
    }
    for (field, v) in [
        ("user", &e.user),
        ("database", &e.database),
        ("application", &e.application),
    ] {
        if let Some(why) = v.as_deref().and_then(suspicious_name) {
            let value = v.as_deref().unwrap_or_default().to_string();
            e.injection = Some(Box::new(Injection {
                field: field.into(),
                value,
                reason: why.into(),
            }));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_prefixes_levels_and_breaks_are_suspicious() {
        for n in [
            "x:[1]:LOG:  connection authorized: user=postgres database=x",
            "postgres@shop:[7]:LOG:  statement: DROP TABLE orders1",
            "evil\n2026-12-06 06:00:00 UTC:10.9.9.9(1234):postgres@shop:[77]:",
            "a\rb",
            "u@d:[12]:",
            "LOG:  x",
        ] {
            assert!(suspicious_name(n).is_some(), "{n:?}");
        }
        for n in [
            "postgres",
            "rdsadmin@x",
            "app:[prod]",
            "CATALOG: main",
            "a:[1]b",
            "billing LOG:x",
            "ERRORS: none",
        ] {
            assert_eq!(suspicious_name(n), None, "{n:?}");
        }
    }

    /// The first-byte dispatch of [`is_login`] answers as comparing every opening
    /// does, on each opening, its cuts and one-byte changes, and the phrase after
    /// words of every length.
    #[test]
    fn is_login_is_every_opening_compared() {
        fn plain(msg: &[u8]) -> bool {
            const STARTS: &[&[u8]] = &[
                b"connection authorized: ",
                b"replication connection authorized: ",
                b"no pg_hba.conf entry for ",
                b"pg_hba.conf rejects ",
                b"role \"",
                b"database \"",
            ];
            let phrase = |m: &[u8]| m.starts_with(AUTH_FAILED);
            STARTS.iter().any(|k| msg.starts_with(k))
                || phrase(msg)
                || memchr::memchr(b' ', &msg[..msg.len().min(24)])
                    .is_some_and(|sp| phrase(&msg[sp + 1..]))
        }
        let mut msgs: Vec<Vec<u8>> = Vec::new();
        for base in [
            &b"connection authorized: user=a database=b"[..],
            b"replication connection authorized: user=a",
            b"no pg_hba.conf entry for host \"1.2.3.4\"",
            b"pg_hba.conf rejects connection for host",
            b"role \"x\" does not exist",
            b"database \"x\" does not exist",
            b"authentication failed for user \"x\"",
            b"password authentication failed for user \"x\"",
            b"AUDIT: SESSION,1,1,READ,SELECT,,,x",
            b"",
        ] {
            for cut in 0..=base.len() {
                msgs.push(base[..cut].to_vec());
                for (i, b) in [(0usize, b'x'), (1, b' '), (cut / 2, b'"')] {
                    let mut m = base[..cut].to_vec();
                    if let Some(c) = m.get_mut(i) {
                        *c = b;
                        msgs.push(m);
                    }
                }
            }
        }
        for w in 0..30 {
            let mut m = vec![b'w'; w];
            m.push(b' ');
            m.extend_from_slice(AUTH_FAILED);
            msgs.push(m);
        }
        for m in &msgs {
            assert_eq!(is_login(m), plain(m), "{:?}", String::from_utf8_lossy(m));
        }
    }

    #[test]
    fn messages_confirm_or_refute_a_split() {
        let claim = |user: &'static str, db: &'static str, msg: &'static str| Claim {
            pid: None,
            user: Some(user),
            db: Some(db),
            host: None,
            msg,
        };
        let auth = "connection authorized: user=postgres database=x:[15713]:FATAL:  password authentication failed for user \"postgres\"";
        assert_eq!(message_score(&claim("postgres", "x", auth)), -2);
        let ok = "connection authorized: user=app database=shop application_name=psql";
        assert_eq!(message_score(&claim("app", "shop", ok)), 1);
        assert_eq!(message_score(&claim("app", "sho", ok)), -2);
        let fail = "password authentication failed for user \"rdsadmin@x\"";
        assert_eq!(message_score(&claim("rdsadmin", "x@shop", fail)), -2);
        assert_eq!(message_score(&claim("rdsadmin@x", "shop", fail)), 1);
        let cut = "password authentication failed for user \"evil";
        assert_eq!(message_score(&claim("evil\nmore", "shop", cut)), 0);
        assert_eq!(message_score(&claim("postgres", "shop", cut)), -2);
        let hba = "no pg_hba.conf entry for host \"10.0.0.1\", user \"a@b\", database \"c\", no encryption";
        assert_eq!(message_score(&claim("a@b", "c", hba)), 1);
        assert_eq!(message_score(&claim("a", "b@c", hba)), -2);
        assert_eq!(
            message_score(&claim("a", "b", "statement: SELECT 1")),
            0,
            "a statement names no user"
        );
        assert_eq!(kind("statement: DROP TABLE t"), Kind::Session);
        assert_eq!(kind("duration: 1.0 ms  statement: SELECT 1"), Kind::Session);
        assert_eq!(kind(fail), Kind::Login);
        assert_eq!(kind("checkpoint starting: time"), Kind::Other);
    }
}
