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
//!
//! Through syslog or journald (Debian's and Ubuntu's MariaDB write their error log to
//! the journal; `journalctl -u mariadb`, rsyslog files): any line may carry a syslog
//! header naming a MySQL program (`mysqld`, `mariadbd`, `mysqld_safe` ...), followed by
//! one of the lines above, or by the message without the server's own timestamp
//! (`[Warning] ...`, MySQL 8's syslog sink `[MY-010926] [Server] ...`), which then
//! takes the header's time. Lines of other programs are unrecognized.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use keibi_model::{Action, CompactString, Event, SourceKind};

use super::text::{
    access_denied, parse_date_time, starts_with_timestamp, zone_suffix, MAX_NAME_CHARS,
};
use crate::format::Sample;
use crate::syslog::{self, Clock, HeaderTime};
use crate::time::{parse_short_ymd_hms, to_utc};
use crate::{LineParser, Output, ParseConfig};

/// Most bytes of continuation lines kept in one event's detail.
const MAX_DETAIL: usize = 64 * 1024;

/// How sure (0-100) this format is that the sample is written in it.
/// Syslog lines of other programs are left out of the share (a shared syslog file),
/// but some line must be the server's.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let (mut hits, mut others) = (0usize, 0usize);
    for l in &sample.lines {
        if is_banner(l)
            || matches!(
                head(&String::from_utf8_lossy(l), Utc.fix()),
                Head::Record(..)
            )
        {
            hits += 1;
        } else if let Some(h) = syslog::header(l) {
            if is_mysql_program(h.program) {
                hits += 1;
            } else {
                others += 1;
            }
        }
    }
    let ours = sample.lines.len() - others;
    if hits == 0 || ours == 0 {
        return 0;
    }
    (hits * 100 / ours) as u8
}

/// Whether a syslog program name is a MySQL/MariaDB server or its scripts:
/// `mysqld`, `mariadbd`, `mysqld_safe`, `mariadb`, `/usr/sbin/mysqld` ...
pub(crate) fn is_mysql_program(program: &[u8]) -> bool {
    let name = program.rsplit(|&b| b == b'/').next().unwrap_or(program);
    let lower = |p: &[u8]| name.len() >= p.len() && name[..p.len()].eq_ignore_ascii_case(p);
    lower(b"mysql") || lower(b"mariadb")
}

/// A message sent to syslog without the server's timestamp: `[thread] [Level] ...`,
/// or MySQL 8's syslog sink `[MY-010926] [Server] message` (the level is the syslog
/// priority, which the file does not keep).
fn syslog_fields(rest: &str) -> Option<Fields<'_>> {
    if let Some(f) = fields(rest).filter(|f| f.level.is_some()) {
        return Some(f);
    }
    let (code, after) = bracket(rest.trim_start()).filter(|(c, _)| c.starts_with("MY-"))?;
    let message = bracket(after).map_or(after, |(_subsystem, after)| after);
    Some(Fields {
        code: Some(code),
        message,
        ..Fields::default()
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

/// The message, with the password masked when it is MySQL's first-start note `A
/// temporary password is generated for root@localhost: <password>`: a credential must
/// not travel on into events, alerts and exports.
fn mask_temporary_password(msg: &str) -> String {
    const NOTE: &str = "temporary password is generated for ";
    match msg.find(NOTE) {
        Some(i) => match msg[i..].find(": ") {
            Some(j) => format!("{}: *****", &msg[..i + j]),
            None => msg.to_string(),
        },
        None => msg.to_string(),
    }
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
        let cut = d.cut;
        e.action = Action::LoginFailure;
        e.user = user;
        e.set_client(&host);
        e.database = database;
        e.error_code = Some(code.into());
        super::text::mark_names(e, cut);
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

/// Whether `e` is an `Access denied` whose message (with the lines joined so far) ends
/// inside the user name, and the name so far is not longer than a name can be.
fn awaits_rest(e: &Event) -> bool {
    e.action == Action::LoginFailure
        && e.message.as_deref().is_some_and(|m| {
            access_denied(m).is_some_and(|d| d.cut && d.user.chars().count() <= MAX_NAME_CHARS)
        })
}

/// MySQL/MariaDB error log parser.
pub struct ErrorLogParser {
    file: Arc<str>,
    instance: Option<CompactString>,
    offset: FixedOffset,
    /// The last event, held while continuation lines may follow.
    pending: Option<Event>,
    last_time: Option<DateTime<Utc>>,
    /// Times of syslog headers.
    clock: Clock,
    /// Lines joined to the pending event because its user name was cut.
    joined: usize,
}

impl ErrorLogParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        ErrorLogParser {
            file: cfg.file.clone(),
            instance: cfg.instance.as_deref().map(Into::into),
            offset: cfg.local_offset,
            pending: None,
            last_time: None,
            clock: Clock::new(cfg.local_offset, cfg.syslog_year),
            joined: 0,
        }
    }

    /// A record: flushes the event before it and holds this one for continuations.
    fn record(&mut self, time: DateTime<Utc>, f: Fields<'_>, lineno: u64, out: &mut Output) {
        self.flush(out);
        let mut e = self.event(time, lineno);
        e.level = f.level.map(Into::into);
        e.session_id = f.thread.filter(|t| *t != "0").map(Into::into);
        e.message = Some(mask_temporary_password(f.message));
        classify(&mut e, f.code);
        self.last_time = Some(time);
        self.pending = Some(e);
    }

    /// A line with a syslog header: `false` when it has none.
    fn syslog_line(&mut self, raw: &[u8], lineno: u64, out: &mut Output) -> bool {
        let Some(h) = syslog::header(raw) else {
            return false;
        };
        if !is_mysql_program(h.program) {
            self.flush(out);
            if crate::postgres::syslog::postgres_named(h.program) {
                // Unrecognized, a PostgreSQL line leads the reader into its format.
                out.unrecognized(lineno, "a syslog line from PostgreSQL, not MySQL/MariaDB");
            } else {
                // A shared syslog file (a whole /var/log/syslog): counted as skipped.
                out.skip();
            }
            return true;
        }
        let text = String::from_utf8_lossy(h.rest);
        if let Head::Record(time, f) = head(&text, self.offset) {
            // The server's own time, more precise than the header's; it also dates the
            // BSD headers that follow.
            if matches!(h.time, HeaderTime::Bsd(..)) {
                self.clock.learn_year(time);
            }
            self.record(time, f, lineno, out);
        } else if let Some(f) = syslog_fields(&text) {
            let time = self.clock.time(h.time);
            self.record(time, f, lineno, out);
        } else if h.rest.iter().all(u8::is_ascii_whitespace) {
            return true;
        } else if self
            .pending
            .as_ref()
            .is_some_and(|p| p.pid.is_some() && p.pid == h.pid)
        {
            // More lines of the same process's message (a stack trace, InnoDB notes).
            self.continuation(h.rest);
            return true;
        } else {
            // A script's own words (`mysqld_safe Starting ...`): an event of its own.
            let time = self.clock.time(h.time);
            let f = Fields {
                message: text.trim(),
                ..Fields::default()
            };
            self.record(time, f, lineno, out);
        }
        if let Some(e) = self.pending.as_mut() {
            e.pid = h.pid;
        }
        true
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
        self.joined = 0;
        if let Some(mut e) = self.pending.take() {
            super::text::mark_names(&mut e, false);
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
        // The first line alone is a failure whose name is cut (`Denied::cut`).
        let split_denial = e.message.as_deref().is_some_and(|m| {
            m.starts_with("Access denied for user '")
                && m.len() + text.len() < 4096
                && (e.action == Action::Other || access_denied(m).is_some_and(|d| d.cut))
        });
        if split_denial {
            if let Some(m) = e.message.as_mut() {
                m.push('\n');
                m.push_str(&text);
            }
            e.injection = None;
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
        if self.joined < MAX_NAME_CHARS && self.pending.as_ref().is_some_and(awaits_rest) {
            self.joined += 1;
            // The line after a denial cut inside the user name is the name's rest and
            // the server's `'@'host' (using password: ...)`, whatever it seems to start
            // with (a forged timestamp and level): it never starts a record of its own.
            self.continuation(raw);
            return;
        }
        let line = String::from_utf8_lossy(raw);
        match head(&line, self.offset) {
            Head::Record(time, f) => self.record(time, f, lineno, out),
            _ if self.syslog_line(raw, lineno, out) => {}
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
mod tests;
