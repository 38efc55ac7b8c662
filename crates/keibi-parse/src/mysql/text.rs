//! Pieces of MySQL/MariaDB log text that more than one log kind writes the same way:
//! the "Access denied" messages, timestamps with a space-padded hour, `host:port`.

use std::borrow::Cow;

use chrono::{FixedOffset, NaiveDateTime};
use keibi_model::{CompactString, Event, Injection};

use crate::time::parse_ymd_hms;

/// Bytes as text; invalid UTF-8 becomes U+FFFD.
pub(crate) fn lossy(b: &[u8]) -> String {
    // `from_utf8` is the fast check; the lossy walk is for the rare invalid text.
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Bytes as a short field (user, code ...): inline, no allocation, up to 24 bytes.
pub(crate) fn lossy_short(b: &[u8]) -> CompactString {
    match std::str::from_utf8(b) {
        Ok(s) => s.into(),
        Err(_) => CompactString::from_utf8_lossy(b),
    }
}

/// A record's bytes, checked for UTF-8 once so that its fields become text without
/// each being checked again; invalid records fall back to lossy conversion per field.
pub(crate) struct Src<'a> {
    bytes: &'a [u8],
    text: Option<&'a str>,
}

impl<'a> Src<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Src {
            bytes,
            text: std::str::from_utf8(bytes).ok(),
        }
    }

    /// `field`, a part of this record's bytes, as text.
    pub(crate) fn str(&self, field: &'a [u8]) -> Cow<'a, str> {
        if let Some(t) = self.text {
            let start = (field.as_ptr() as usize).wrapping_sub(self.bytes.as_ptr() as usize);
            let s = start
                .checked_add(field.len())
                .and_then(|end| t.get(start..end));
            if let Some(s) = s.filter(|s| s.as_ptr() == field.as_ptr()) {
                return Cow::Borrowed(s);
            }
        }
        String::from_utf8_lossy(field)
    }

    pub(crate) fn string(&self, field: &'a [u8]) -> String {
        self.str(field).into_owned()
    }

    /// `field` as a short field (user, database ...).
    pub(crate) fn short(&self, field: &'a [u8]) -> CompactString {
        match self.str(field) {
            Cow::Borrowed(s) => s.into(),
            Cow::Owned(s) => s.into(),
        }
    }

    /// `Some(short text)` unless empty.
    pub(crate) fn non_empty(&self, field: &'a [u8]) -> Option<CompactString> {
        (!field.is_empty()).then(|| self.short(field))
    }
}

/// Longest user name, in characters, a server accepts (MariaDB 10.11: 80, MySQL 8: 32):
/// a record cut by line breaks inside a name is complete within this many characters of
/// name, so no more lines than that are joined.
pub(crate) const MAX_NAME_CHARS: usize = 80;

/// A failed login as the server words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Denied<'a> {
    pub user: &'a str,
    pub host: &'a str,
    pub database: Option<&'a str>,
    /// MySQL error number: 1045 bad password or user, 1044 no access to the database,
    /// 1698 no password accepted (unix_socket), 1130 host not allowed, 1129 host blocked.
    pub code: &'static str,
    /// The message ends inside the user name: the name held a line break, and the
    /// rest of it (and the real host) are on the next physical line.
    pub cut: bool,
}

/// Reads `Access denied for user 'U'@'H' (using password: YES|NO)`, `... to database 'D'`,
/// the bare `Access denied for user 'U'@'H'`, `Host 'H' is not allowed to connect ...`
/// and `Host 'H' is blocked because of many connection errors ...`.
///
/// The user name of a failed login is whatever the client sent and may hold quotes and
/// `@`; the host is the server's own text. So for 1045 the host is taken after the last
/// `'@'`. For 1044 the login succeeded (the user is a real account) and the database
/// name is the client's, so the split is at the first `'@'` instead.
pub(crate) fn access_denied(msg: &str) -> Option<Denied<'_>> {
    let msg = msg.trim_end().trim_end_matches('.');
    if let Some(rest) = msg.strip_prefix("Host '") {
        let (host, tail) = rest.split_once('\'')?;
        let code = if tail.starts_with(" is not allowed to connect") {
            "1130"
        } else if tail.starts_with(" is blocked because of many connection errors") {
            "1129"
        } else {
            return None;
        };
        return Some(Denied {
            user: "",
            host,
            database: None,
            code,
            cut: false,
        });
    }
    let rest = msg.strip_prefix("Access denied for user '")?;
    for suffix in ["' (using password: YES)", "' (using password: NO)"] {
        if let Some(body) = rest.strip_suffix(suffix) {
            let (user, host) = body.rsplit_once("'@'")?;
            return Some(Denied {
                user,
                host,
                database: None,
                code: "1045",
                cut: false,
            });
        }
    }
    let Some(body) = rest.strip_suffix('\'') else {
        // No closing quote and no host: a user name cut by a line break is still a
        // failed login (the server wrote the rest on the next line).
        return (!rest.contains("'@'")).then_some(Denied {
            user: rest,
            host: "",
            database: None,
            code: "1045",
            cut: true,
        });
    };
    if let Some(d) = for_database(body) {
        return Some(d);
    }
    let (user, host) = body.rsplit_once("'@'")?;
    Some(Denied {
        user,
        host,
        database: None,
        code: "1698",
        cut: false,
    })
}

/// Why a user or database name a client chose is an attempt to forge log lines: a
/// line break, or the text that delimits a name in MySQL's own logs (`'@'` and
/// `(using password:` of the error and general logs, a level word of the error log,
/// an operation between commas of server_audit).
pub(crate) fn suspicious_name(name: &str) -> Option<&'static str> {
    if name.bytes().any(|c| matches!(c, b'\n' | b'\r')) {
        return Some("line break in a name");
    }
    const MARKS: &[&str] = &[
        "'@'",
        "(using password:",
        "[Warning]",
        "[Note]",
        "[ERROR]",
        "[System]",
        ",QUERY,",
        ",CONNECT,",
        ",FAILED_CONNECT,",
        ",DISCONNECT,",
    ];
    MARKS
        .iter()
        .any(|m| name.contains(m))
        .then_some("log delimiters in a name")
}

/// Marks `e` when its user or database name is an attempt to forge log lines (see
/// [`suspicious_name`]); `cut` when the message ended inside the user name.
pub(crate) fn mark_names(e: &mut Event, cut: bool) {
    if e.injection.is_some() {
        return;
    }
    if cut {
        e.injection = Some(Box::new(Injection {
            field: "user".into(),
            value: e.user.as_deref().unwrap_or_default().to_string(),
            reason: "line break in a name".into(),
        }));
        return;
    }
    for (field, v) in [("user", &e.user), ("database", &e.database)] {
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

/// `U'@'H' to database 'D` (outer quotes already removed).
fn for_database(body: &str) -> Option<Denied<'_>> {
    let (user, rest) = body.split_once("'@'")?;
    let (host, database) = rest.split_once("' to database '")?;
    if host.contains('\'') {
        return None;
    }
    Some(Denied {
        user,
        host,
        database: Some(database),
        code: "1044",
        cut: false,
    })
}

/// `YYYY-MM-DD HH:MM:SS[.frac]`, also with a `T`, or MariaDB's space-padded hour
/// (`2021-11-09  5:13:12`). Returns the naive time and bytes used.
pub(crate) fn parse_date_time(b: &[u8]) -> Option<(NaiveDateTime, usize)> {
    if let Some(r) = parse_ymd_hms(b) {
        return Some(r);
    }
    // `YYYY-MM-DD  H:MM:SS`: pad the hour and read it the common way.
    if b.len() < 19 || b.get(10..12) != Some(b"  ") || b.get(13) != Some(&b':') {
        return None;
    }
    let mut padded = [0u8; 19];
    padded.copy_from_slice(&b[..19]);
    padded[11] = b'0';
    let (t, _) = parse_ymd_hms(&padded)?;
    Some((t, 19))
}

/// Whether a line starts with a date and time in a shape some log writes: ISO
/// (`2026-11-28T15:42:10`, `2026-11-28 15:42:10`), `YYMMDD HH:MM:SS`, `YYYYMMDD HH:MM:SS`,
/// a Unix epoch before a comma, or a syslog header (`<PRI>`, `Nov 28 15:42:10`). A real
/// date is required, so text that merely starts with digits (a statement's next line)
/// does not count.
pub(crate) fn starts_with_timestamp(line: &[u8]) -> bool {
    let line = match line.strip_prefix(b"<") {
        Some(rest) => match rest.iter().take(4).position(|&c| c == b'>') {
            Some(close) => &rest[close + 1..],
            None => return false,
        },
        None => line,
    };
    match line.first() {
        Some(b'0'..=b'9') => {}
        Some(_) => return bsd_header(line),
        None => return false,
    }
    if parse_date_time(line).is_some()
        || crate::time::parse_short_ymd_hms(line).is_some()
        || crate::time::parse_compact_ymd_hms(line).is_some()
    {
        return true;
    }
    let digits = line.iter().take_while(|c| c.is_ascii_digit()).count();
    (9..=19).contains(&digits) && line.get(digits) == Some(&b',')
}

/// `Mmm dd HH:MM:SS ` (day space-padded).
fn bsd_header(b: &[u8]) -> bool {
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    b.len() >= 16
        && MONTHS.iter().any(|m| b.starts_with(m))
        && b[3] == b' '
        && (digit(4) || b[4] == b' ')
        && digit(5)
        && b[6] == b' '
        && digit(7)
        && digit(8)
        && b[9] == b':'
        && b[12] == b':'
        && b[15] == b' '
}

/// A zone written right after a timestamp: `Z`, `+HH:MM`, `-HH:MM`, `+HHMM`.
/// Returns the offset and bytes used; `(None, 0)` when there is none.
pub(crate) fn zone_suffix(b: &[u8]) -> (Option<FixedOffset>, usize) {
    match b.first() {
        Some(b'Z') => (FixedOffset::east_opt(0), 1),
        Some(&sign @ (b'+' | b'-')) => {
            let digit = |i: usize| {
                b.get(i)
                    .filter(|c| c.is_ascii_digit())
                    .map(|c| i32::from(c - b'0'))
            };
            let (Some(h1), Some(h2)) = (digit(1), digit(2)) else {
                return (None, 0);
            };
            let (m, used) = match (b.get(3), digit(3), digit(4), digit(5)) {
                (Some(b':'), _, Some(m1), Some(m2)) => (m1 * 10 + m2, 6),
                (_, Some(m1), Some(m2), _) => (m1 * 10 + m2, 5),
                _ => (0, 3),
            };
            let secs = (h1 * 10 + h2) * 3600 + m * 60;
            let secs = if sign == b'-' { -secs } else { secs };
            match FixedOffset::east_opt(secs) {
                Some(o) => (Some(o), used),
                None => (None, 0),
            }
        }
        _ => (None, 0),
    }
}

/// Splits MariaDB 12's `host:port` (and `[v6]:port`). An unbracketed address with several
/// colons is IPv6 and is split only once this input is known to carry ports
/// (`ports_seen`), and then only when what is left is an IPv6 address.
pub(crate) fn split_host_port<'a>(host: &'a str, ports_seen: &mut bool) -> (&'a str, Option<u16>) {
    if let Some(rest) = host.strip_prefix('[') {
        if let Some((addr, port)) = rest.split_once("]:") {
            if let Some(p) = port_number(port) {
                *ports_seen = true;
                return (addr, Some(p));
            }
        }
        return (host, None);
    }
    let Some((left, port)) = host.rsplit_once(':') else {
        return (host, None);
    };
    let Some(p) = port_number(port) else {
        return (host, None);
    };
    if !left.contains(':') {
        *ports_seen = true;
        return (left, Some(p));
    }
    if *ports_seen && left.parse::<std::net::Ipv6Addr>().is_ok() {
        return (left, Some(p));
    }
    (host, None)
}

fn port_number(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The failed logins a real MariaDB 10.11 logged for user names holding a line break
/// and then a forged error-log, general-log or server_audit record, the log's own
/// delimiters, or nothing odd (`ops@example.com`, `o'brien`): every log gives these,
/// each at the server's time from the server's host, marked when the name forges.
#[cfg(test)]
pub(crate) const LINE_BREAK_FAILURES: &[(&str, bool)] = &[
    ("root'@'10.9.9.9' (using password: YES)", true),
    ("app',root,10.9.9.9,1,2,QUERY,shop,'DROP TABLE t", true),
    (
        "evil\n2026-01-01  3:00:00 9 [Warning] Access denied for user 'root'@'10.9.9.9",
        true,
    ),
    ("gen\n260101  3:00:00\t    99 Connect\troot", true),
    (
        "aud\n20260101 03:00:00,vm,root,10.9.9.9,99,1,QUERY,shop,'DROP TABLE t',0",
        true,
    ),
    ("ops@example.com", false),
    ("o'brien", false),
];

/// Checks `out` (one of the three logs of the line-break capture) against
/// [`LINE_BREAK_FAILURES`]: the failures, their time and host, no problem, and no
/// event dated by a forged line or logged in by one.
#[cfg(test)]
pub(crate) fn check_line_break_capture(out: &crate::Output) {
    assert_eq!(out.problems, vec![], "every line read");
    let failures: Vec<(&str, bool)> = out
        .events
        .iter()
        .filter(|e| e.action == keibi_model::Action::LoginFailure)
        .map(|e| (e.user.as_deref().unwrap_or(""), e.injection.is_some()))
        .collect();
    assert_eq!(failures, LINE_BREAK_FAILURES);
    let localhost: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    for e in &out.events {
        let time = crate::testutil::rfc3339(e);
        assert!(time.starts_with("2026-12-06T08:14:"), "forged time: {e:?}");
        assert_ne!(e.client_ip, Some("10.9.9.9".parse().unwrap()), "{e:?}");
        if e.action == keibi_model::Action::LoginFailure {
            assert_eq!(e.client_ip, Some(localhost), "{e:?}");
        }
        if e.action == keibi_model::Action::LoginSuccess {
            assert!(
                matches!(e.user.as_deref(), Some("root" | "app")),
                "a login by a forged line: {e:?}"
            );
        }
        if let Some(s) = e.statement.as_deref() {
            assert!(!s.text.contains("DROP TABLE t'"), "{e:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_messages() {
        let d = access_denied("Access denied for user 'app'@'127.0.0.1' (using password: YES)")
            .unwrap();
        assert_eq!(
            (d.user, d.host, d.database, d.code),
            ("app", "127.0.0.1", None, "1045")
        );
        let d = access_denied("Access denied for user 'app'@'127.0.0.1' to database 'nosuchdb'")
            .unwrap();
        assert_eq!(
            (d.user, d.host, d.database, d.code),
            ("app", "127.0.0.1", Some("nosuchdb"), "1044")
        );
        let d = access_denied("Access denied for user 'root'@'localhost'").unwrap();
        assert_eq!((d.user, d.host, d.code), ("root", "localhost", "1698"));
        let d = access_denied("Host '10.1.2.3' is not allowed to connect to this MariaDB server")
            .unwrap();
        assert_eq!((d.host, d.code), ("10.1.2.3", "1130"));
        let d = access_denied("Host 'h.example' is blocked because of many connection errors; unblock with 'mariadb-admin flush-hosts'").unwrap();
        assert_eq!((d.host, d.code), ("h.example", "1129"));
        assert!(access_denied("Access denied; you need the SUPER privilege").is_none());
        // A name cut by a line break: still a failed login, with no host yet.
        let d = access_denied("Access denied for user 'x").unwrap();
        assert_eq!((d.user, d.host, d.cut), ("x", "", true));
        assert!(suspicious_name("a'@'b").is_some());
        assert!(suspicious_name("x\ny").is_some());
        assert!(suspicious_name("app',root,1.2.3.4,1,2,QUERY,shop,'x").is_some());
        assert!(suspicious_name("ops@example.com").is_none());
        assert!(suspicious_name("a,b,\"c").is_none());
    }

    #[test]
    fn hostile_user_names_do_not_move_the_host() {
        // The client chose the user name `a'@'1.1.1.1`: the host is still the server's.
        let d =
            access_denied("Access denied for user 'a'@'1.1.1.1'@'10.0.0.9' (using password: NO)")
                .unwrap();
        assert_eq!((d.user, d.host), ("a'@'1.1.1.1", "10.0.0.9"));
        // The client chose the database name: the host is the one after the real user.
        let d = access_denied(
            "Access denied for user 'app'@'10.0.0.9' to database 'x'@'1.1.1.1' to database 'y'",
        )
        .unwrap();
        assert_eq!(
            (d.user, d.host, d.database),
            ("app", "10.0.0.9", Some("x'@'1.1.1.1' to database 'y"))
        );
    }

    #[test]
    fn dates_and_zones() {
        let (t, n) = parse_date_time(b"2021-11-09  5:13:12 8 [Warning]").unwrap();
        assert_eq!((t.to_string().as_str(), n), ("2021-11-09 05:13:12", 19));
        let (t, n) = parse_date_time(b"2019-01-03T08:50:04.634875Z 113").unwrap();
        assert_eq!(
            (t.to_string().as_str(), n),
            ("2019-01-03 08:50:04.634875", 26)
        );
        assert!(parse_date_time(b"2021-11-09  x:13:12").is_none());
        assert_eq!(zone_suffix(b"Z 1"), (FixedOffset::east_opt(0), 1));
        assert_eq!(zone_suffix(b"+05:30 x"), (FixedOffset::east_opt(19800), 6));
        assert_eq!(zone_suffix(b"-0800"), (FixedOffset::east_opt(-28800), 5));
        assert_eq!(zone_suffix(b" 113"), (None, 0));
    }

    #[test]
    fn timestamps_at_line_start() {
        for yes in [
            &b"2026-11-28T15:42:10.1Z x"[..],
            b"2026-11-28 15:42:10 0 [Note]",
            b"261128 15:42:10\t 1 Query",
            b"20261128 15:42:10,vm,",
            b"1728498527380921,node",
            b"Nov 28 15:42:10 host x:",
            b"<134>Nov  8 15:42:10 host x:",
        ] {
            assert!(
                starts_with_timestamp(yes),
                "{}",
                String::from_utf8_lossy(yes)
            );
        }
        for no in [
            &b"123456 , 2)"[..],
            b"2026, 1)",
            b"12345678,",
            b"Nov 28 is a date",
            b"  InnoDB: x",
            b"",
            b"<",
        ] {
            assert!(
                !starts_with_timestamp(no),
                "{}",
                String::from_utf8_lossy(no)
            );
        }
    }

    #[test]
    fn host_and_port() {
        let mut seen = false;
        assert_eq!(split_host_port("::1", &mut seen), ("::1", None));
        assert_eq!(
            split_host_port("2001:db8::12:3306", &mut seen),
            ("2001:db8::12:3306", None)
        );
        assert!(!seen);
        assert_eq!(
            split_host_port("10.0.0.5:41234", &mut seen),
            ("10.0.0.5", Some(41234))
        );
        assert!(seen);
        assert_eq!(
            split_host_port("::1:41234", &mut seen),
            ("::1", Some(41234))
        );
        assert_eq!(
            split_host_port("[fe80::1]:5", &mut seen),
            ("fe80::1", Some(5))
        );
        assert_eq!(split_host_port("localhost", &mut seen), ("localhost", None));
        assert_eq!(split_host_port("h:99999", &mut seen), ("h:99999", None));
    }
}
