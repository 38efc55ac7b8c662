//! The MySQL/MariaDB slow query log: one record per statement that ran longer than
//! `long_query_time` (every statement with `long_query_time = 0`), with who ran it,
//! how long it took and how many rows it sent.
//!
//! ```text
//! # Time: 2016-07-20T18:13:25.698433Z                          (MySQL 5.7+; MariaDB: 261206 10:08:45)
//! # User@Host: root[root] @ localhost [127.0.0.1]  Id:     3   (MySQL; MariaDB has no Id here)
//! # Thread_id: 4  Schema: shop  QC_hit: No                     (MariaDB, Percona)
//! # Query_time: 0.003464  Lock_time: 0.000324 Rows_sent: 1000  Rows_examined: 2000
//! # Rows_affected: 0  Bytes_sent: 161                          (MariaDB, Percona)
//! use shop;
//! SET timestamp=1469038405;
//! SELECT * FROM facturas LIMIT 0, 1000;
//! ```
//!
//! `# Time:` is written only when the second changes (MariaDB) or on every record
//! (MySQL); `SET timestamp=N` (epoch seconds, so no time zone question) is on every
//! record and dates it; a record without it takes its `# Time:`, else the last time
//! seen. A record's statement is every line after its header lines up to the next
//! `# Time:` or `# User@Host:`. The server writes statements unescaped, so a statement
//! holding a line break and `# User@Host: ...` can forge a record. The server ends
//! every statement it logs with `;` (it writes `;\n` after the text), so a record
//! header that comes while the statement's last line has not ended with `;` is inside
//! the statement: it stays part of it (the record keeps its real account) and the
//! event is marked as log injection. A forgery whose line before the header ends with
//! `;` cannot be told from a real record (a `SET timestamp=` line is no proof: old
//! servers write it only when the second changes): the audit log (server_audit,
//! Enterprise Audit) is the log to trust for who did what.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use keibi_model::{Action, CompactString, Event, SourceKind, Statement};

use super::text::{lossy, lossy_short, parse_date_time, zone_suffix};
use crate::format::Sample;
use crate::time::{from_epoch, parse_short_ymd_hms, to_utc};
use crate::{LineParser, Output, ParseConfig, Problem};

/// Longest statement kept for one record.
const MAX_STATEMENT: usize = 1 << 20;
/// Most connections whose current database is remembered.
const MAX_SESSIONS: usize = 100_000;
/// Most lines of one record's statement (past it, the rest is counted, not kept).
const MAX_LINES: u64 = 100_000;

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let has = |p: &[u8]| sample.lines.iter().any(|l| l.starts_with(p));
    if has(b"# User@Host: ") && has(b"# Query_time: ") {
        return 95;
    }
    // One line alone (a format switch part-way through a file).
    sample.share(|l| {
        l.starts_with(b"# User@Host: ")
            || l.starts_with(b"# Query_time: ")
            || time_line(l).is_some()
    })
}

/// `# Time: 2016-07-20T18:13:25.698433Z`, `# Time: 261206 10:08:45` or
/// `# Time: 071218 11:48:27` (and old servers' `# Time: ... # User@Host: ...` on one line).
fn time_line(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"# Time: ")?;
    let rest = rest.trim_ascii_start();
    rest.first().filter(|c| c.is_ascii_digit())?;
    Some(rest)
}

fn read_time(b: &[u8], offset: FixedOffset) -> Option<DateTime<Utc>> {
    if b.get(4) == Some(&b'-') {
        let (t, n) = parse_date_time(b)?;
        let (zone, _) = zone_suffix(&b[n..]);
        return Some(to_utc(t, zone.unwrap_or(offset)));
    }
    // `261206 10:08:45`, or MySQL 5.0's ` 71218 11:48:27` with one digit less.
    let (t, _) = parse_short_ymd_hms(b)?;
    Some(to_utc(t, offset))
}

/// `root[root] @ localhost [127.0.0.1]  Id:     3`: user, host, address, id.
pub(crate) fn user_host(s: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
    let (account, rest) = match s.rfind("] @ ") {
        Some(i) => (&s[..=i], &s[i + 4..]),
        None => match s.split_once(" @ ") {
            Some((a, r)) => (a, r),
            None => (s, ""),
        },
    };
    // `user[priv_user]`: the part before the bracket that starts the last pair.
    let user = match account.strip_suffix(']') {
        Some(a) => {
            // Prefer the split where both halves are the same name (the usual case).
            let same = a
                .match_indices('[')
                .map(|(i, _)| i)
                .find(|&i| a[..i] == a[i + 1..]);
            let i = same.or_else(|| a.find('[')).unwrap_or(a.len());
            &a[..i]
        }
        None => account,
    };
    let (hostpart, id) = match rest.find("  Id:") {
        Some(i) => (&rest[..i], Some(rest[i + 5..].trim())),
        None => (rest, None),
    };
    let hostpart = hostpart.trim();
    let (host, ip) = match hostpart.rfind('[') {
        Some(i) if hostpart.ends_with(']') => (
            hostpart[..i].trim(),
            Some(&hostpart[i + 1..hostpart.len() - 1]),
        ),
        _ => (hostpart, None),
    };
    let client = ip
        .filter(|ip| !ip.is_empty())
        .or((!host.is_empty()).then_some(host));
    let user = user.trim();
    (
        (!user.is_empty()).then_some(user),
        client,
        id.filter(|i| !i.is_empty() && i.bytes().all(|c| c.is_ascii_digit())),
    )
}

/// `Key: value  Key: value` pairs of a header line.
fn pairs(s: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut words = s.split_ascii_whitespace().peekable();
    std::iter::from_fn(move || loop {
        let w = words.next()?;
        if let Some(key) = w.strip_suffix(':') {
            // `Schema:` may be followed by nothing (no database): the next word is a key.
            let value = match words.peek() {
                Some(v) if !v.ends_with(':') => words.next().unwrap_or(""),
                _ => "",
            };
            return Some((key, value));
        }
    })
}

/// `0.003464` seconds as microseconds.
fn micros(v: &str) -> Option<u64> {
    let (s, frac) = v.split_once('.').unwrap_or((v, ""));
    let s: u64 = s.parse().ok()?;
    let mut us = 0u64;
    for i in 0..6 {
        let d = frac
            .as_bytes()
            .get(i)
            .map_or(Some(0), |c| c.is_ascii_digit().then(|| u64::from(c - b'0')))?;
        us = us * 10 + d;
    }
    s.checked_mul(1_000_000)?.checked_add(us)
}

#[derive(Default)]
struct Record {
    line: u64,
    lines: u64,
    /// From this record's own `# Time:`.
    time: Option<DateTime<Utc>>,
    /// From its `SET timestamp=N`.
    stamp: Option<DateTime<Utc>>,
    user: Option<CompactString>,
    client: Option<String>,
    id: Option<CompactString>,
    database: Option<CompactString>,
    duration_us: Option<u64>,
    rows_sent: Option<u64>,
    rows_examined: Option<u64>,
    rows_affected: Option<u64>,
    /// The statement's lines have begun (header lines are over).
    body: bool,
    has_account: bool,
    statement: Vec<u8>,
    /// The statement's last line ended with `;` (as the server ends every one).
    ended: bool,
    /// A record header met inside the statement (before it ended): a forgery.
    forged: Option<String>,
}

/// MySQL/MariaDB slow query log parser.
pub struct SlowLogParser {
    file: Arc<str>,
    instance: Option<CompactString>,
    offset: FixedOffset,
    record: Option<Record>,
    /// The last `# Time:` seen, for the record it opens.
    next_time: Option<DateTime<Utc>>,
    last_time: Option<DateTime<Utc>>,
    /// The database each connection last `use`d.
    databases: BTreeMap<CompactString, CompactString>,
}

impl SlowLogParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        SlowLogParser {
            file: cfg.file.clone(),
            instance: cfg.instance.as_deref().map(Into::into),
            offset: cfg.local_offset,
            record: None,
            next_time: None,
            last_time: None,
            databases: BTreeMap::new(),
        }
    }

    fn flush(&mut self, out: &mut Output) {
        let Some(r) = self.record.take() else {
            return;
        };
        let Some(time) = r.stamp.or(r.time).or(self.last_time) else {
            out.problems.push(Problem {
                line: r.line,
                reason: "slow log record with no time anywhere before it".into(),
                lines: r.lines,
            });
            return;
        };
        self.last_time = Some(time);
        let text = lossy(&r.statement);
        let text = text.trim_end();
        if text.is_empty() && !r.has_account {
            out.problems.push(Problem {
                line: r.line,
                reason: "slow log record with neither account nor statement".into(),
                lines: r.lines,
            });
            return;
        }
        let mut e = Event::new(
            time,
            SourceKind::MysqlSlow,
            self.file.clone(),
            r.line,
            Action::Statement,
        );
        e.instance.clone_from(&self.instance);
        e.user = r.user;
        if let Some(c) = &r.client {
            e.set_client(c);
        }
        let database = match (&r.database, &r.id) {
            (Some(db), Some(id)) => {
                self.databases.insert(id.clone(), db.clone());
                while self.databases.len() > MAX_SESSIONS {
                    self.databases.pop_first();
                }
                Some(db.clone())
            }
            (Some(db), None) => Some(db.clone()),
            (None, Some(id)) => self.databases.get(id).cloned(),
            (None, None) => None,
        };
        e.database = database;
        e.session_id = r.id;
        if let Some(cmd) = text.strip_prefix("# administrator command: ") {
            // A protocol command (Quit, Ping, Prepare ...), not SQL.
            e.action = Action::Other;
            e.message = Some(cmd.trim_end_matches(';').to_string());
        } else {
            let mut st = Statement::from_sql(text);
            st.duration_us = r.duration_us;
            st.rows_sent = r.rows_sent;
            st.rows_examined = r.rows_examined;
            st.rows_affected = r.rows_affected;
            e.statement = Some(Box::new(st));
        }
        if let Some(header) = r.forged {
            e.injection = Some(Box::new(keibi_model::Injection {
                field: "statement".into(),
                value: header,
                reason: "slow log record header inside a statement".into(),
            }));
        }
        super::text::mark_names(&mut e, false);
        out.event(e);
    }

    fn start(&mut self, lineno: u64, out: &mut Output) -> &mut Record {
        self.flush(out);
        self.record.insert(Record {
            line: lineno,
            time: self.next_time.take(),
            ..Record::default()
        })
    }

    fn header_line(r: &mut Record, s: &str) {
        for (key, value) in pairs(s) {
            let n = || value.parse::<u64>().ok();
            match key {
                "Thread_id" | "Id"
                    if !value.is_empty() && value.bytes().all(|c| c.is_ascii_digit()) =>
                {
                    r.id = Some(value.into());
                }
                "Schema" if !value.is_empty() => r.database = Some(value.into()),
                "Query_time" => r.duration_us = micros(value),
                "Rows_sent" => r.rows_sent = n(),
                "Rows_examined" => r.rows_examined = n(),
                "Rows_affected" => r.rows_affected = n(),
                _ => {}
            }
        }
    }

    fn account(&mut self, lineno: u64, s: &str, out: &mut Output) {
        // A `# User@Host:` after `# Time:` belongs to the record the time opened, if
        // that record has nothing else yet.
        let fresh = self
            .record
            .as_ref()
            .is_some_and(|r| !r.has_account && !r.body && r.statement.is_empty() && r.lines == 1);
        let r = if fresh {
            let r = self.record.as_mut().expect("checked");
            r.lines += 1;
            r
        } else {
            self.start(lineno, out)
        };
        let (user, client, id) = user_host(s);
        r.user = user.map(Into::into);
        r.client = client.map(str::to_string);
        r.id = id.map(Into::into);
        r.has_account = true;
        if r.lines == 0 {
            r.lines = 1;
        }
    }
}

fn is_server_header(line: &[u8]) -> bool {
    let t = line.trim_ascii_end();
    (t.ends_with(b"started with:") && memchr::memmem::find(line, b", Version: ").is_some())
        || line.starts_with(b"Tcp port: ")
        || ((line.starts_with(b"Time ") || line.starts_with(b"Time\t"))
            && memchr::memmem::find(line, b"Id Command").is_some()
            && t.ends_with(b"Argument"))
}

impl LineParser for SlowLogParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        let header = time_line(line).is_some() || line.starts_with(b"# User@Host: ");
        if let Some(r) = self
            .record
            .as_mut()
            .filter(|r| header && r.body && !r.ended)
        {
            // Inside a statement the server has not ended: the statement's text.
            if r.forged.is_none() {
                r.forged = Some(lossy(&line[..line.len().min(200)]));
            }
            r.lines += 1;
            if r.lines <= MAX_LINES && r.statement.len() + 1 + line.len() <= MAX_STATEMENT {
                r.statement.push(b'\n');
                r.statement.extend_from_slice(line);
            }
            return;
        }
        if let Some(rest) = time_line(line) {
            self.flush(out);
            let (time_part, account) = match memchr::memmem::find(rest, b" # User@Host: ") {
                Some(i) => (&rest[..i], Some(&rest[i + 14..])),
                None => (rest, None),
            };
            let Some(t) = read_time(time_part, self.offset) else {
                out.unrecognized(lineno, "unreadable time in a slow log `# Time:` line");
                return;
            };
            self.next_time = Some(t);
            self.last_time = Some(t);
            let r = self.start(lineno, out);
            r.lines = 1;
            if let Some(a) = account {
                let a = lossy(a);
                let (user, client, id) = user_host(&a);
                r.user = user.map(Into::into);
                r.client = client.map(str::to_string);
                r.id = id.map(Into::into);
                r.has_account = true;
            }
            return;
        }
        if let Some(rest) = line.strip_prefix(b"# User@Host: ") {
            let s = lossy(rest);
            self.account(lineno, &s, out);
            return;
        }
        if is_server_header(line) {
            self.flush(out);
            return;
        }
        let Some(r) = self.record.as_mut() else {
            if !line.iter().all(u8::is_ascii_whitespace) {
                out.unrecognized(
                    lineno,
                    "expected a slow log record (# Time: or # User@Host:)",
                );
            }
            return;
        };
        r.lines += 1;
        r.ended = line.trim_ascii_end().ends_with(b";");
        if !r.body {
            if let Some(rest) = line.strip_prefix(b"# ") {
                if !rest.starts_with(b"administrator command: ") {
                    Self::header_line(r, &lossy(rest));
                    return;
                }
            }
            if let Some(db) = line
                .strip_prefix(b"use ")
                .and_then(|l| l.trim_ascii_end().strip_suffix(b";"))
            {
                let db = db
                    .strip_prefix(b"`")
                    .and_then(|d| d.strip_suffix(b"`"))
                    .unwrap_or(db);
                r.database = Some(lossy_short(db));
                return;
            }
            if r.stamp.is_none()
                && line.starts_with(b"SET ")
                && line.trim_ascii_end().ends_with(b";")
            {
                let set = lossy(&line[4..]);
                let stamp = set
                    .trim_end()
                    .trim_end_matches(';')
                    .split(',')
                    .find_map(|a| a.trim().strip_prefix("timestamp="))
                    .and_then(|v| v.parse::<i64>().ok())
                    .and_then(from_epoch);
                if let Some(t) = stamp {
                    r.stamp = Some(t);
                    return;
                }
            }
            r.body = true;
        } else if !r.statement.is_empty() && r.statement.len() + 1 + line.len() <= MAX_STATEMENT {
            r.statement.push(b'\n');
        }
        if r.lines <= MAX_LINES && r.statement.len() + line.len() <= MAX_STATEMENT {
            r.statement.extend_from_slice(line);
        }
    }

    fn finish(&mut self, out: &mut Output) {
        self.flush(out);
    }
}

#[cfg(test)]
mod tests;
