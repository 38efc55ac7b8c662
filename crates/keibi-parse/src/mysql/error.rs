//! MySQL 5.7/8.0 and MariaDB error logs: failed logins ("Access denied"), connections
//! dropped before authenticating (scans, probes), and everything else the server says.
//!
//! Line shapes, all with the thread id optional:
//! - MySQL 8: `2019-01-03T08:50:04.634875Z 113 [Note] [MY-010926] [Server] message`
//! - MySQL 5.7: `2020-04-16T05:13:40.861934Z 344 [Note] message`
//! - MariaDB 10+: `2026-11-28 15:42:10 6 [Warning] message` (local time, hour may be
//!   space-padded)
//! - old MySQL/MariaDB: `130324 17:56:14 [Warning] message`, `130324  7:56:14 ...`
//! - plugins and scripts: `261128 15:42:04 server_audit: ...`, `... mysqld_safe ...`
//!
//! A line without a timestamp continues the message before it (InnoDB notes, crash
//! reports and stack traces) and goes to its `detail`, except the start-up banner
//! (`Version: '...'  socket: ...`), which is its own event, and lines that start with
//! some other timestamp, which belong to another format.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use keibi_model::{Action, CompactString, Event, SourceKind};

use super::text::{access_denied, parse_date_time, starts_with_timestamp, zone_suffix};
use crate::format::Sample;
use crate::time::{parse_short_ymd_hms, to_utc};
use crate::{LineParser, Output, ParseConfig};

/// Most bytes of continuation lines kept in one event's detail.
const MAX_DETAIL: usize = 64 * 1024;

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    sample.share(|l| {
        is_banner(l)
            || matches!(
                head(&String::from_utf8_lossy(l), Utc.fix()),
                Head::Record(..)
            )
    })
}

/// A line's start, read.
#[derive(Debug, PartialEq)]
enum Head<'a> {
    Record(DateTime<Utc>, Fields<'a>),
    /// Starts with a timestamp, but not one of this format's lines.
    Foreign,
    /// No timestamp.
    Untimed,
}

#[derive(Debug, PartialEq, Default)]
struct Fields<'a> {
    thread: Option<&'a str>,
    level: Option<&'a str>,
    /// MySQL 8's `MY-010926`.
    code: Option<&'a str>,
    message: &'a str,
}

/// Reads the timestamp and the bracketed fields of a line.
fn head(line: &str, offset: FixedOffset) -> Head<'_> {
    let b = line.as_bytes();
    let Some((time, n)) = stamp(b, offset) else {
        // Another log's line (a JSON log's record, say) is not a continuation of ours.
        return if starts_with_timestamp(b) || b.starts_with(b"{\"") {
            Head::Foreign
        } else {
            Head::Untimed
        };
    };
    match line.get(n..).and_then(fields) {
        Some(f) => Head::Record(time, f),
        None => Head::Foreign,
    }
}

/// The timestamp at the start of a line and where the rest of the line starts.
fn stamp(line: &[u8], offset: FixedOffset) -> Option<(DateTime<Utc>, usize)> {
    let (t, n, zone) = if line.get(4) == Some(&b'-') {
        let (t, n) = parse_date_time(line)?;
        let (zone, z) = zone_suffix(&line[n..]);
        (t, n + z, zone)
    } else {
        let (t, n) = parse_short_ymd_hms(line)?;
        (t, n, None)
    };
    if !matches!(line.get(n), None | Some(b' ' | b'\t')) {
        return None;
    }
    Some((to_utc(t, zone.unwrap_or(offset)), n))
}

/// `[thread] [Level] [MY-code] [Subsystem] message`, or a program's `name: message`.
fn fields(rest: &str) -> Option<Fields<'_>> {
    let mut s = rest.trim_start();
    let mut f = Fields::default();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && s[digits..].starts_with(" [") {
        f.thread = Some(&s[..digits]);
        s = &s[digits + 1..];
    }
    if let Some((level, after)) = bracket(s) {
        if !level.bytes().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        f.level = Some(level);
        s = after;
        if let Some((code, after)) = bracket(s).filter(|(c, _)| c.starts_with("MY-")) {
            f.code = Some(code);
            s = after;
            if let Some((_subsystem, after)) = bracket(s) {
                s = after;
            }
        }
        f.message = s;
        return Some(f);
    }
    if f.thread.is_some() {
        return None;
    }
    // A plugin or script: `server_audit: ...`, `InnoDB: ...`, `mysqld_safe Starting ...`.
    let word = s.split([' ', '\t']).next().unwrap_or_default();
    let program = matches!(
        word,
        "mysqld_safe" | "mysqld" | "mariadbd" | "mariadbd-safe" | "mariadb-safe" | "mysqld-debug"
    );
    let plugin = word.len() > 1
        && word.ends_with(':')
        && word[..word.len() - 1]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'/' || c == b'.');
    if program || plugin {
        f.message = s;
        return Some(f);
    }
    None
}

/// `[text] rest`: the text and what follows the space after it.
fn bracket(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix('[')?;
    let close = inner.find(']')?;
    if close == 0 || close > 24 {
        return None;
    }
    let after = &inner[close + 1..];
    Some((&inner[..close], after.strip_prefix(' ').unwrap_or(after)))
}

/// The start-up banner: `Version: '10.11.19-MariaDB-0+deb12u1'  socket: '...'  port: 3306 ...`.
fn is_banner(line: &[u8]) -> bool {
    line.starts_with(b"Version: '") && memchr::memmem::find(line, b"port: ").is_some()
}

/// `Aborted connection N to db: 'D' user: 'U' host: 'H' (reason)`.
#[derive(Debug, PartialEq)]
struct Aborted<'a> {
    connection: &'a str,
    database: &'a str,
    user: &'a str,
    host: &'a str,
    reason: &'a str,
}

fn aborted(msg: &str) -> Option<Aborted<'_>> {
    let rest = msg.strip_prefix("Aborted connection ")?;
    let (connection, rest) = rest.split_once(' ')?;
    let rest = rest.strip_prefix("to db: '")?;
    let (database, rest) = rest.split_once("' user: '")?;
    let (user, rest) = rest.split_once("' host: '")?;
    let (host, rest) = rest.split_once('\'')?;
    let reason = rest
        .trim()
        .trim_end_matches('.')
        .trim_start_matches('(')
        .trim_end_matches(')');
    Some(Aborted {
        connection,
        database,
        user,
        host,
        reason,
    })
}

/// Sets the action and login fields of an event from its message.
fn classify(e: &mut Event, code: Option<&str>) {
    let msg = e.message.as_deref().unwrap_or_default();
    if let Some(d) = access_denied(msg) {
        let (user, host, database, code) = (
            (!d.user.is_empty()).then(|| d.user.into()),
            d.host.to_string(),
            d.database.map(Into::into),
            d.code,
        );
        e.action = Action::LoginFailure;
        e.user = user;
        e.set_client(&host);
        e.database = database;
        e.error_code = Some(code.into());
        return;
    }
    if let Some(a) = aborted(msg) {
        let never_authenticated = a.user == "unauthenticated";
        let (user, host, database, connection, reason) = (
            CompactString::from(a.user),
            a.host.to_string(),
            CompactString::from(a.database),
            CompactString::from(a.connection),
            a.reason.to_string(),
        );
        e.set_client(&host);
        e.session_id = Some(connection);
        e.detail = Some(reason);
        if never_authenticated {
            e.action = Action::Probe;
        } else {
            e.action = Action::Disconnect;
            e.user = (!user.is_empty()).then_some(user);
            if database != "unconnected" && !database.is_empty() {
                e.database = Some(database);
            }
        }
        e.error_code = code.map(Into::into);
        return;
    }
    e.action = Action::Other;
    e.error_code = code.map(Into::into);
}

/// MySQL/MariaDB error log parser.
pub struct ErrorLogParser {
    file: Arc<str>,
    instance: Option<CompactString>,
    offset: FixedOffset,
    /// The last event, held while continuation lines may follow.
    pending: Option<Event>,
    last_time: Option<DateTime<Utc>>,
}

impl ErrorLogParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        ErrorLogParser {
            file: cfg.file.clone(),
            instance: cfg.instance.as_deref().map(Into::into),
            offset: cfg.local_offset,
            pending: None,
            last_time: None,
        }
    }

    fn event(&self, time: DateTime<Utc>, line: u64) -> Event {
        let mut e = Event::new(
            time,
            SourceKind::MysqlError,
            self.file.clone(),
            line,
            Action::Other,
        );
        e.instance.clone_from(&self.instance);
        e
    }

    fn flush(&mut self, out: &mut Output) {
        if let Some(e) = self.pending.take() {
            out.event(e);
        }
    }

    /// A line without a timestamp after an event: more of that event's text.
    fn continuation(&mut self, line: &[u8]) {
        let Some(e) = self.pending.as_mut() else {
            return;
        };
        let text = String::from_utf8_lossy(line);
        // A user name with a line break splits an "Access denied" message over lines.
        let split_denial = e.action == Action::Other
            && e.message.as_deref().is_some_and(|m| {
                m.starts_with("Access denied for user '") && m.len() + text.len() < 4096
            });
        if split_denial {
            if let Some(m) = e.message.as_mut() {
                m.push('\n');
                m.push_str(&text);
            }
            let code = e.error_code.take();
            classify(e, code.as_deref());
            return;
        }
        let detail = e.detail.get_or_insert_with(String::new);
        if detail.len() + text.len() < MAX_DETAIL {
            if !detail.is_empty() {
                detail.push('\n');
            }
            detail.push_str(&text);
        }
    }
}

impl LineParser for ErrorLogParser {
    fn line(&mut self, raw: &[u8], lineno: u64, out: &mut Output) {
        let line = String::from_utf8_lossy(raw);
        match head(&line, self.offset) {
            Head::Record(time, f) => {
                self.flush(out);
                let mut e = self.event(time, lineno);
                e.level = f.level.map(Into::into);
                e.session_id = f.thread.filter(|t| *t != "0").map(Into::into);
                e.message = Some(f.message.to_string());
                classify(&mut e, f.code);
                self.last_time = Some(time);
                self.pending = Some(e);
            }
            Head::Foreign => {
                self.flush(out);
                out.unrecognized(
                    lineno,
                    "expected an error log line (timestamp, thread id, [level], message)",
                );
            }
            Head::Untimed if is_banner(raw) => {
                let Some(time) = self.last_time else {
                    out.unrecognized(lineno, "start-up banner before any timestamped line");
                    return;
                };
                self.flush(out);
                let mut e = self.event(time, lineno);
                e.message = Some(line.to_string());
                self.pending = Some(e);
            }
            Head::Untimed if self.pending.is_some() => self.continuation(raw),
            Head::Untimed if raw.iter().all(u8::is_ascii_whitespace) => {}
            Head::Untimed => out.unrecognized(
                lineno,
                "expected an error log line starting with a timestamp",
            ),
        }
    }

    fn finish(&mut self, out: &mut Output) {
        self.flush(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Problem;
    use keibi_model::Action::*;

    fn run_cfg(input: &[u8], cfg: &ParseConfig) -> Output {
        crate::testutil::run_lines(ErrorLogParser::new(cfg), input)
    }

    fn run(input: &[u8]) -> Output {
        run_cfg(input, &ParseConfig::new("error.log"))
    }

    fn rfc3339(e: &Event) -> String {
        e.time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }

    #[test]
    fn mariadb_sample_every_line_read() {
        let out = run(include_bytes!("../../tests/data/mysql/mariadb-error.log"));
        assert_eq!(out.problems, vec![]);
        assert_eq!(out.events.len(), 35);
        let first = &out.events[0];
        assert_eq!((first.action, first.line), (Other, 1));
        assert_eq!(
            first.message.as_deref(),
            Some("server_audit: MariaDB Audit Plugin version 1.4.14 STARTED.")
        );
        assert_eq!(rfc3339(first), "2026-11-28T15:42:04Z");
        let banner = out.events.iter().find(|e| e.line == 31).unwrap();
        assert_eq!(banner.action, Other);
        assert!(banner
            .message
            .as_deref()
            .unwrap()
            .starts_with("Version: '10.11.19-MariaDB"));
        assert_eq!(rfc3339(banner), "2026-11-28T15:42:04Z");
        let failures: Vec<_> = out
            .events
            .iter()
            .filter(|e| e.action == LoginFailure)
            .map(|e| {
                (
                    e.line,
                    e.user.as_deref().unwrap(),
                    e.client_ip.unwrap().to_string(),
                    e.error_code.as_deref().unwrap(),
                    e.database.as_deref(),
                    e.session_id.as_deref().unwrap(),
                    e.level.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            failures,
            vec![
                (33, "app", "127.0.0.1".into(), "1045", None, "6", "Warning"),
                (
                    34,
                    "nosuchuser",
                    "127.0.0.1".into(),
                    "1045",
                    None,
                    "7",
                    "Warning"
                ),
                (
                    35,
                    "app",
                    "127.0.0.1".into(),
                    "1044",
                    Some("nosuchdb"),
                    "9",
                    "Warning"
                ),
            ]
        );
        assert_eq!(
            out.events[3].session_id, None,
            "thread 0 is the server itself"
        );
        assert_eq!(out.events[3].level.as_deref(), Some("Note"));
    }

    #[test]
    fn hydra_sample_probes_and_failures() {
        let out = run(include_bytes!(
            "../../tests/data/mysql/mariadb-hydra-bruteforce-error.log"
        ));
        assert_eq!(out.problems, vec![]);
        assert_eq!(out.events.len(), 13);
        let count = |a| out.events.iter().filter(|e| e.action == a).count();
        assert_eq!(
            (
                count(Probe),
                count(LoginFailure),
                count(Disconnect),
                count(Other)
            ),
            (4, 3, 1, 5)
        );
        let probe = &out.events[1];
        assert_eq!(probe.action, Probe);
        assert_eq!(probe.session_id.as_deref(), Some("11"));
        assert_eq!(probe.client_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(probe.user, None);
        assert_eq!(
            probe.detail.as_deref(),
            Some("This connection closed normally without authentication")
        );
        let fail = &out.events[2];
        assert_eq!(
            (
                fail.action,
                fail.user.as_deref(),
                fail.error_code.as_deref()
            ),
            (LoginFailure, Some("app"), Some("1045"))
        );
        let bye = &out.events[12];
        assert_eq!(
            (bye.action, bye.user.as_deref(), bye.database.as_deref()),
            (Disconnect, Some("app"), None)
        );
        assert_eq!(
            bye.detail.as_deref(),
            Some("Got an error reading communication packets")
        );
        assert_eq!(
            out.events[0].message.as_deref(),
            Some("mariadbd: Got packets out of order")
        );
        assert_eq!(out.events[0].level.as_deref(), Some("ERROR"));
    }

    #[test]
    fn mysql_8_and_5_7_and_old_lines() {
        let out = run(b"2019-01-03T08:50:04.634875Z 113 [Note] [MY-010926] [Server] Access denied for user 'root'@'192.0.2.1' (using password: NO)\n\
2020-04-16T05:13:40.861934Z 344 [Note] Access denied for user 'root'@'27.155.87.54' (using password: YES)\n\
2021-11-09  5:13:12 8 [Warning] Access denied for user 'example-user'@'172.17.0.1' (using password: YES)\n\
130324  7:56:14 [Warning] Access denied for user 'root'@'61.160.223.112' (using password: YES)\n\
2023-01-01T10:00:00.000000+02:00 12 [Warning] [MY-010055] [Server] IP address '10.9.9.9' could not be resolved: Name or service not known\n\
2023-01-01T10:00:01.000000Z 14 [Note] [MY-010914] [Server] Aborted connection 14 to db: 'unconnected' user: 'unauthenticated' host: '10.9.9.9' (Got an error reading communication packets).\n\
2023-01-01T10:00:02Z 15 [Warning] Host 'scanner.example' is blocked because of many connection errors; unblock with 'mysqladmin flush-hosts'\n");
        assert_eq!(out.problems, vec![]);
        let e = &out.events;
        assert_eq!(
            (e[0].action, e[0].error_code.as_deref()),
            (LoginFailure, Some("1045"))
        );
        assert_eq!(e[0].client_ip, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(e[0].session_id.as_deref(), Some("113"));
        assert_eq!(e[0].level.as_deref(), Some("Note"));
        assert_eq!(
            e[0].message.as_deref(),
            Some("Access denied for user 'root'@'192.0.2.1' (using password: NO)")
        );
        assert_eq!(rfc3339(&e[0]), "2019-01-03T08:50:04.634875Z");
        assert_eq!(
            (e[1].action, e[1].user.as_deref()),
            (LoginFailure, Some("root"))
        );
        assert_eq!(rfc3339(&e[2]), "2021-11-09T05:13:12Z");
        assert_eq!(e[2].user.as_deref(), Some("example-user"));
        assert_eq!(
            (e[3].action, rfc3339(&e[3])),
            (LoginFailure, "2013-03-24T07:56:14Z".into())
        );
        assert_eq!(e[3].session_id, None);
        assert_eq!(
            (e[4].action, e[4].error_code.as_deref()),
            (Other, Some("MY-010055"))
        );
        assert_eq!(rfc3339(&e[4]), "2023-01-01T08:00:00Z");
        assert_eq!(
            (e[5].action, e[5].session_id.as_deref()),
            (Probe, Some("14"))
        );
        assert_eq!(
            e[5].detail.as_deref(),
            Some("Got an error reading communication packets")
        );
        assert_eq!(
            (e[6].action, e[6].error_code.as_deref()),
            (LoginFailure, Some("1129"))
        );
        assert_eq!(e[6].client_host.as_deref(), Some("scanner.example"));
    }

    #[test]
    fn continuation_lines_go_to_the_detail() {
        let out = run(b"2026-11-28 15:42:04 0 [ERROR] mariadbd got signal 11 ;\n\
Sorry, we probably made a mistake, and this is a bug.\n\
\n\
stack_bottom = 0x0 thread_stack 0x49000\n\
/usr/sbin/mariadbd(my_print_stacktrace+0x32)[0x55d1b5a3d0b2]\n\
2026-11-28 15:42:05 0 [Note] next\n");
        assert_eq!(out.problems, vec![]);
        assert_eq!(out.events.len(), 2);
        assert_eq!(
            out.events[0].detail.as_deref(),
            Some("Sorry, we probably made a mistake, and this is a bug.\n\nstack_bottom = 0x0 thread_stack 0x49000\n/usr/sbin/mariadbd(my_print_stacktrace+0x32)[0x55d1b5a3d0b2]")
        );
        assert_eq!(out.events[1].line, 6);
    }

    #[test]
    fn a_user_name_with_a_line_break_is_still_a_failed_login() {
        let out = run(b"2026-11-28 15:42:10 6 [Warning] Access denied for user 'ad\nmin'@'10.0.0.8' (using password: YES)\n");
        assert_eq!(out.problems, vec![]);
        let e = &out.events[0];
        assert_eq!(
            (e.action, e.user.as_deref()),
            (LoginFailure, Some("ad\nmin"))
        );
        assert_eq!(e.client_ip, Some("10.0.0.8".parse().unwrap()));
    }

    #[test]
    fn other_formats_and_orphans_are_unrecognized() {
        let out = run(b"orphan line\n\
20261128 15:42:14,vm,app,127.0.0.1,12,0,FAILED_CONNECT,,,1045\n\
2026-11-28 15:42:10 6 [Warning] ok\n\
261128 15:42:10\t     12 Connect\tapp@localhost on shop\n\
2026-11-28 15:41:22.123 UTC [123] LOG:  connection received\n\
2026-11-28 15:42:10 x [Warning] no thread\n\
\xff\xfe continuation with bad bytes\n\
2026-11-28 15:42:11 7 [Note] next\n\
Nov 28 15:41:22 host postgres[123]: [1-1] LOG:  connection received\n\
{\"timestamp\":\"2026-11-28 15:41:22.123 UTC\",\"pid\":1}\n\
2026-11-28 15:42:12 8 [Note] last\n\
\x20a real continuation\n");
        let lines: Vec<u64> = out.problems.iter().map(|p| p.line).collect();
        // Line 7 follows a foreign line, not an event of this format.
        assert_eq!(lines, vec![1, 2, 4, 5, 6, 7, 9, 10]);
        assert!(out.problems.iter().all(|p: &Problem| p.lines == 1));
        assert_eq!(out.events.len(), 3);
        assert_eq!(
            out.events[0].detail, None,
            "foreign lines end the event before them"
        );
        assert_eq!(out.events[1].detail, None);
        assert_eq!(
            out.events[2].detail.as_deref(),
            Some(" a real continuation")
        );
    }

    #[test]
    fn sniffing() {
        let s = |b: &[u8]| sniff(&Sample::new(b, true));
        assert_eq!(
            s(include_bytes!(
                "../../tests/data/mysql/mariadb-hydra-bruteforce-error.log"
            )),
            100
        );
        assert!(s(include_bytes!("../../tests/data/mysql/mariadb-error.log")) >= 90);
        assert_eq!(
            s(include_bytes!(
                "../../tests/data/mysql/mariadb-server_audit.log"
            )),
            0
        );
        assert_eq!(s(b"2023-07-31T08:34:16.116872Z        14 Connect   Access denied for user 'u'@'h' (using password: YES)"), 0);
        assert_eq!(
            s(b"2019-01-03T08:50:04.634875Z 113 [Note] [MY-010926] [Server] Access denied"),
            100
        );
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        let alphabet = b"2026-11-28 15:42:04 0[Note]'@Access denied for user \n\xff\xc3MY-";
        for _ in 0..300 {
            let mut input = Vec::new();
            for _ in 0..200 {
                seed = crate::testutil::xorshift(seed);
                input.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let _ = run(&input);
        }
    }
}
