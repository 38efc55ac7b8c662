//! The MySQL/MariaDB general query log: every connection, statement and disconnection,
//! as `time  id Command<TAB>argument`.
//!
//! - MySQL 5.7/8: `2026-11-28T15:42:10.123456Z\t   12 Connect\tapp@127.0.0.1 on shop using TCP/IP`
//! - MariaDB (and MySQL before 5.7): `261128 15:42:10\t     12 Query\tSELECT 1`, where the
//!   time is written only on the first record of each second and later records start
//!   with tabs (`\t\t     13 Query\tSELECT 1`): they take the last time seen.
//!
//! A statement may span lines: a line that does not start a record continues the one
//! before. The server's header (`/usr/sbin/mysqld, Version: ... started with:`, `Tcp
//! port: ...`, `Time  Id Command  Argument`) is read and skipped. Only Connect names
//! the user and client, so they are remembered per connection id for the records that
//! follow.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use keibi_model::{Action, CompactString, Event, SourceKind, Statement};

use super::text::{access_denied, lossy_short, starts_with_timestamp, zone_suffix, MAX_NAME_CHARS};
use crate::format::Sample;
use crate::time::{parse_short_ymd_hms, parse_ymd_hms, to_utc};
use crate::{LineParser, Output, ParseConfig, Problem};

/// Most connections remembered; the oldest (lowest id) are forgotten first.
const MAX_SESSIONS: usize = 100_000;
/// Longest argument kept for one record (a statement over many lines).
const MAX_ARGUMENT: usize = 1 << 20;
/// Most records held while waiting for the first timestamp of the input.
const MAX_WAITING: usize = 10_000;

/// The server's command names, longest first so `Binlog Dump GTID` wins over `Binlog Dump`.
const COMMANDS: &[&str] = &[
    "Binlog Dump GTID",
    "Reset Connection",
    "Register Slave",
    "Delayed insert",
    "Unimpl get tid",
    "Bulk_execute",
    "Slave_worker",
    "Change user",
    "Binlog Dump",
    "Connect Out",
    "Processlist",
    "Field List",
    "Statistics",
    "Close stmt",
    "Reset stmt",
    "Set option",
    "Table Dump",
    "Long Data",
    "Slave_SQL",
    "Com_multi",
    "Create DB",
    "Shutdown",
    "Slave_IO",
    "Init DB",
    "Connect",
    "Execute",
    "Prepare",
    "Drop DB",
    "Refresh",
    "Daemon",
    "Query",
    "Sleep",
    "Debug",
    "Fetch",
    "Error",
    "Clone",
    "Quit",
    "Kill",
    "Ping",
    "Time",
];

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    sample.share(|l| {
        matches!(
            read_line(l, Utc.fix()),
            Line::Start { .. } | Line::Header { .. }
        )
    })
}

#[derive(Debug, PartialEq)]
enum Line<'a> {
    Start {
        time: Option<DateTime<Utc>>,
        id: &'a [u8],
        command: &'a str,
        argument: &'a [u8],
    },
    /// The header the server writes when it opens the log; `restart` on its first line.
    Header { restart: bool },
    /// Starts with a timestamp but is not a record of this format.
    Foreign,
    /// Anything else: a continuation line, or garbage.
    Text,
}

fn read_line(line: &[u8], offset: FixedOffset) -> Line<'_> {
    let (time, rest) = match line.first() {
        Some(b'0'..=b'9') => match stamp(line, offset) {
            Some((t, n)) => (Some(t), &line[n..]),
            // A statement's next line may well start with digits; another log's line
            // starts with a real date.
            None if starts_with_timestamp(line) => return Line::Foreign,
            None => return header_or(line, Line::Text),
        },
        Some(b'\t' | b' ') => (None, line),
        _ if starts_with_timestamp(line) => return Line::Foreign,
        _ => return header_or(line, Line::Text),
    };
    let timed = time.is_some();
    let not_a_record = if timed { Line::Foreign } else { Line::Text };
    // Whitespace, the connection id, one space, the command.
    let ws = rest
        .iter()
        .take_while(|c| **c == b' ' || **c == b'\t')
        .count();
    if ws == 0 {
        return not_a_record;
    }
    let rest = &rest[ws..];
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 20 || rest.get(digits) != Some(&b' ') {
        return not_a_record;
    }
    let (id, rest) = (&rest[..digits], &rest[digits + 1..]);
    match command(rest, timed) {
        Some((command, argument)) => Line::Start {
            time,
            id,
            command,
            argument,
        },
        None => not_a_record,
    }
}

/// The command and argument after the id: `Query\tSELECT 1`, or with spaces
/// (`Connect   Access denied ...`), which only a known command name can delimit.
fn command(rest: &[u8], timed: bool) -> Option<(&str, &[u8])> {
    if let Some(tab) = memchr::memchr(b'\t', rest) {
        let name = std::str::from_utf8(&rest[..tab]).ok()?.trim_end();
        if let Some(known) = COMMANDS.iter().find(|c| **c == name) {
            return Some((known, &rest[tab + 1..]));
        }
        // A command this list lacks, on a line whose timestamp says it is a record.
        let plausible = !name.is_empty()
            && name.len() <= 32
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b' ' || c == b'_');
        if timed && plausible {
            return Some((name, &rest[tab + 1..]));
        }
    }
    for known in COMMANDS {
        if let Some(after) = rest.strip_prefix(known.as_bytes()) {
            if after.is_empty() || after[0] == b' ' || after[0] == b'\t' {
                let spaces = after
                    .iter()
                    .take_while(|c| **c == b' ' || **c == b'\t')
                    .count();
                return Some((known, &after[spaces..]));
            }
        }
    }
    None
}

/// `YYYY-MM-DDTHH:MM:SS.frac` with `Z` or an offset (MySQL 5.7+), or `YYMMDD HH:MM:SS`
/// in server local time (MariaDB, older MySQL). Returns the time and bytes used.
fn stamp(line: &[u8], offset: FixedOffset) -> Option<(DateTime<Utc>, usize)> {
    if line.get(4) == Some(&b'-') {
        if line.get(10) != Some(&b'T') {
            return None;
        }
        let (t, n) = parse_ymd_hms(line)?;
        let (zone, z) = zone_suffix(&line[n..]);
        return Some((to_utc(t, zone.unwrap_or(offset)), n + z));
    }
    let (t, n) = parse_short_ymd_hms(line)?;
    Some((to_utc(t, offset), n))
}

fn header_or<'a>(line: &[u8], otherwise: Line<'a>) -> Line<'a> {
    let trimmed = line.trim_ascii_end();
    if trimmed.ends_with(b"started with:") && memchr::memmem::find(line, b", Version: ").is_some() {
        return Line::Header { restart: true };
    }
    if line.starts_with(b"Tcp port: ") {
        return Line::Header { restart: false };
    }
    if (line.starts_with(b"Time ") || line.starts_with(b"Time\t"))
        && memchr::memmem::find(line, b"Id Command").is_some()
        && trimmed.ends_with(b"Argument")
    {
        return Line::Header { restart: false };
    }
    otherwise
}

/// What a Connect record said about a connection.
#[derive(Debug, Clone, Default)]
struct Session {
    user: Option<CompactString>,
    client: Option<String>,
    database: Option<CompactString>,
}

/// A record read, not yet emitted: more lines may belong to its argument.
struct Pending {
    time: Option<DateTime<Utc>>,
    /// The time was written on this record's line (not carried from an earlier one).
    timed: bool,
    /// The time carried before this record's line (it may have changed it).
    time_before: Option<DateTime<Utc>>,
    line: u64,
    lines: u64,
    id: u64,
    id_text: CompactString,
    command: String,
    argument: Vec<u8>,
}

/// MySQL/MariaDB general query log parser.
pub struct GeneralLogParser {
    file: Arc<str>,
    instance: Option<CompactString>,
    offset: FixedOffset,
    last_time: Option<DateTime<Utc>>,
    pending: Option<Pending>,
    /// Records before the input's first timestamp (a MariaDB log cut mid-second).
    waiting: Vec<Pending>,
    sessions: BTreeMap<u64, Session>,
    /// A Connect that looked successful, held until the next record: MariaDB and MySQL
    /// log a failed login as `Connect user@host on db` followed by a second `Connect`
    /// on the same connection id saying `Access denied`.
    held: Option<Held>,
}

/// A Connect that looked successful, held until the next record.
struct Held {
    id: u64,
    event: Event,
    /// The time carried before its line (a forged line may have changed it).
    time_before: Option<DateTime<Utc>>,
}

impl GeneralLogParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        GeneralLogParser {
            file: cfg.file.clone(),
            instance: cfg.instance.as_deref().map(Into::into),
            offset: cfg.local_offset,
            last_time: None,
            pending: None,
            waiting: Vec::new(),
            sessions: BTreeMap::new(),
            held: None,
        }
    }

    fn flush(&mut self, out: &mut Output) {
        let Some(p) = self.pending.take() else {
            return;
        };
        match p.time {
            Some(t) => self.emit(p, t, out),
            None if self.waiting.len() < MAX_WAITING => self.waiting.push(p),
            None => out.problems.push(Problem {
                line: p.line,
                reason: "record before any timestamp, too many to hold".into(),
                lines: p.lines,
            }),
        }
    }

    fn remember(&mut self, id: u64, s: Session) {
        self.sessions.insert(id, s);
        while self.sessions.len() > MAX_SESSIONS {
            self.sessions.pop_first();
        }
    }

    fn emit(&mut self, p: Pending, mut time: DateTime<Utc>, out: &mut Output) {
        if let Some(held) = self.held.take() {
            let argument = String::from_utf8_lossy(&p.argument);
            let denial = if p.command == "Connect" {
                access_denied(&argument)
            } else {
                None
            };
            if denial.as_ref().is_some_and(|_| held.id == p.id) {
                // The login failed: the attempt is the failure event below, not a success.
                self.sessions.remove(&held.id);
            } else if denial.is_some_and(|d| self.forged_in_name(&held, d.user)) {
                // The held Connect was a line of this failure's user name: no login, and
                // the time it wrote was not the server's.
                self.sessions.remove(&held.id);
                if let Some(t) = held.time_before {
                    self.last_time = Some(t);
                    if !p.timed {
                        time = t;
                    }
                }
            } else {
                let mut event = held.event;
                super::text::mark_names(&mut event, false);
                out.event(event);
            }
        }
        let mut e = Event::new(
            time,
            SourceKind::MysqlGeneral,
            self.file.clone(),
            p.line,
            Action::Other,
        );
        e.instance.clone_from(&self.instance);
        e.session_id = Some(p.id_text);
        let argument = String::from_utf8_lossy(&p.argument);
        let argument = argument.trim_end_matches(['\t', ' ']);
        let known = self.sessions.get(&p.id).cloned().unwrap_or_default();
        let fill = |e: &mut Event, s: &Session| {
            e.user.clone_from(&s.user);
            if let Some(c) = &s.client {
                e.set_client(c);
            }
            e.database.clone_from(&s.database);
        };
        match p.command.as_str() {
            "Connect" | "Change user" => {
                if let Some(d) = access_denied(argument) {
                    let cut = d.cut;
                    e.action = Action::LoginFailure;
                    e.user = (!d.user.is_empty()).then(|| d.user.into());
                    e.set_client(d.host);
                    e.database = d.database.map(Into::into);
                    e.error_code = Some(d.code.into());
                    super::text::mark_names(&mut e, cut);
                    e.message = Some(argument.to_string());
                } else {
                    let (s, tls) = connect_argument(argument);
                    fill(&mut e, &s);
                    e.tls = tls;
                    let connect = p.command == "Connect";
                    e.action = if connect {
                        Action::LoginSuccess
                    } else {
                        e.message = Some(p.command.clone());
                        e.detail = Some(argument.to_string());
                        Action::Other
                    };
                    self.remember(p.id, s);
                    if connect {
                        self.held = Some(Held {
                            id: p.id,
                            event: e,
                            time_before: p.time_before,
                        });
                        return;
                    }
                }
            }
            "Query" | "Execute" | "Prepare" => {
                fill(&mut e, &known);
                e.action = Action::Statement;
                e.statement = Some(Box::new(Statement::from_sql(argument)));
                if p.command != "Query" {
                    e.message = Some(p.command);
                }
            }
            "Quit" => {
                fill(&mut e, &known);
                e.action = Action::Disconnect;
                self.sessions.remove(&p.id);
            }
            command => {
                fill(&mut e, &known);
                if command == "Init DB" && !argument.is_empty() {
                    e.database = Some(argument.into());
                    if let Some(s) = self.sessions.get_mut(&p.id) {
                        s.database = Some(argument.into());
                    }
                }
                e.message = Some(p.command.clone());
                if !argument.is_empty() {
                    e.detail = Some(argument.to_string());
                }
            }
        }
        super::text::mark_names(&mut e, false);
        out.event(e);
    }

    /// Whether `held` was read from a line that is part of `user`, a name with line
    /// breaks that a failure quotes: one of the name's lines reads as the held Connect
    /// (its id, and its user before the host).
    fn forged_in_name(&self, held: &Held, user: &str) -> bool {
        let Some(held_user) = held.event.user.as_deref() else {
            return false;
        };
        user.split('\n').skip(1).any(|l| {
            let Line::Start {
                id,
                command: "Connect",
                argument,
                ..
            } = read_line(l.as_bytes(), self.offset)
            else {
                return false;
            };
            let argument = String::from_utf8_lossy(argument);
            lossy_short(id).parse::<u64>().ok() == Some(held.id)
                && argument
                    .strip_prefix(held_user)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('@'))
        })
    }

    /// The first timestamp of the input dates the records read before it.
    fn release_waiting(&mut self, time: DateTime<Utc>, out: &mut Output) {
        for p in std::mem::take(&mut self.waiting) {
            self.emit(p, time, out);
        }
    }
}

/// The user, host and what follows the host (` as priv on db ...`, ` on db ...`) of a
/// Connect argument. The user name is the client's and may hold `@`, spaces and line
/// breaks; the host is the server's, one word without `@`, followed by `on` or
/// `as ... on`. The leftmost `@` followed that way is the split; `None` when there is
/// none (the argument was cut inside the name).
fn connect_account(arg: &str) -> Option<(&str, &str, &str)> {
    arg.match_indices('@').find_map(|(at, _)| {
        let after = &arg[at + 1..];
        let end = after.find([' ', '\t', '\n', '\r']).unwrap_or(after.len());
        let (host, rest) = after.split_at(end);
        if host.is_empty() || host.contains('@') {
            return None;
        }
        let on = match rest.strip_prefix(" as ") {
            Some(r) => r.split_once(' ').map_or("", |(_, after)| after),
            None => rest.strip_prefix(' ')?,
        };
        (on == "on" || on.starts_with("on ")).then_some((&arg[..at], host, rest.trim_start()))
    })
}

/// `user@host [as priv] on [db] [using TYPE]` (MariaDB: `app@localhost as anonymous on shop`).
fn connect_argument(arg: &str) -> (Session, Option<bool>) {
    let (user, host, mut rest) = match connect_account(arg) {
        Some(split) => split,
        None => {
            let (account, rest) = arg.split_once(' ').unwrap_or((arg, ""));
            let (user, host) = account.rsplit_once('@').unwrap_or((account, ""));
            (user, host, rest)
        }
    };
    let mut s = Session {
        user: (!user.is_empty()).then(|| user.into()),
        client: (!host.is_empty()).then(|| host.to_string()),
        database: None,
    };
    if let Some(r) = rest.strip_prefix("as ") {
        rest = r.split_once(' ').map_or("", |(_, after)| after);
    }
    let mut tls = None;
    if let Some(r) = rest.strip_prefix("on") {
        let r = r.strip_prefix(' ').unwrap_or(r);
        let (db, using) = match r.find("using ") {
            Some(i) => (&r[..i], Some(&r[i + 6..])),
            None => (r, None),
        };
        let db = db.trim();
        s.database = (!db.is_empty()).then(|| db.into());
        tls = using.map(|u| u.trim().eq_ignore_ascii_case("SSL/TLS"));
    }
    (s, tls)
}

/// Whether a Connect (or Change user) record (its lines so far) ends inside the user
/// name: the name held a line break, so the next physical line is more of the name and
/// then the server's own `@host on db ...` or `'@'host' (using password: ...)`, whatever
/// that line seems to start with. Bounded by the longest name a server accepts.
fn cut_connect(p: &Pending) -> bool {
    if p.lines > MAX_NAME_CHARS as u64 || !matches!(p.command.as_str(), "Connect" | "Change user") {
        return false;
    }
    let argument = String::from_utf8_lossy(&p.argument);
    let name = match access_denied(&argument) {
        Some(d) if d.cut => d.user,
        Some(_) => return false,
        None if connect_account(&argument).is_none() => &argument,
        None => return false,
    };
    // A name is never longer: past it, the record was not cut by a name.
    name.chars().count() <= MAX_NAME_CHARS
}

impl LineParser for GeneralLogParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        if let Some(p) = self.pending.as_mut().filter(|p| cut_connect(p)) {
            p.lines += 1;
            if p.argument.len() + 1 + line.len() <= MAX_ARGUMENT {
                p.argument.push(b'\n');
                p.argument.extend_from_slice(line);
            }
            return;
        }
        match read_line(line, self.offset) {
            Line::Start {
                time,
                id,
                command,
                argument,
            } => {
                self.flush(out);
                let time_before = self.last_time;
                if let Some(t) = time {
                    self.last_time = Some(t);
                    self.release_waiting(t, out);
                }
                let id_text = lossy_short(id);
                self.pending = Some(Pending {
                    time: time.or(self.last_time),
                    timed: time.is_some(),
                    time_before,
                    line: lineno,
                    lines: 1,
                    id: id_text.parse().unwrap_or(u64::MAX),
                    id_text,
                    command: command.to_string(),
                    argument: argument[..argument.len().min(MAX_ARGUMENT)].to_vec(),
                });
            }
            Line::Header { restart } => {
                self.flush(out);
                if restart {
                    self.sessions.clear();
                }
            }
            Line::Foreign => {
                self.flush(out);
                out.unrecognized(
                    lineno,
                    "expected a general log record (time, id, command, argument)",
                );
            }
            Line::Text => match self.pending.as_mut() {
                Some(p) => {
                    p.lines += 1;
                    if p.argument.len() + 1 + line.len() <= MAX_ARGUMENT {
                        p.argument.push(b'\n');
                        p.argument.extend_from_slice(line);
                    }
                }
                None if line.iter().all(u8::is_ascii_whitespace) => {}
                None => out.unrecognized(
                    lineno,
                    "expected a general log record (time, id, command, argument)",
                ),
            },
        }
    }

    fn finish(&mut self, out: &mut Output) {
        self.flush(out);
        if let Some(held) = self.held.take() {
            let mut event = held.event;
            super::text::mark_names(&mut event, false);
            out.event(event);
        }
        for p in std::mem::take(&mut self.waiting) {
            out.problems.push(Problem {
                line: p.line,
                reason: "record with no timestamp anywhere before it".into(),
                lines: p.lines,
            });
        }
    }
}

#[cfg(test)]
mod tests;
