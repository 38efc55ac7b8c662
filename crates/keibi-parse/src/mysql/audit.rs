//! MariaDB server_audit records, the audit log of MariaDB and of RDS for MySQL/MariaDB
//! (which add an 11th `connection_type` field) and of Aurora MySQL (whose timestamp is
//! Unix epoch microseconds), written to the plugin's own file or through syslog.
//!
//! A record is `timestamp,serverhost,username,host,connectionid,queryid,operation,
//! database,object,retcode[,connection_type]`; through syslog the timestamp is replaced
//! by the syslog header (`Nov 28 15:42:14 vm mysql-server_auditing: [info] vm,app,...`).
//!
//! Two fields are not the server's own text. The object (a query) is quoted with `\'`
//! and `\\` escaped, so it may hold commas and, in some versions, line breaks: a record
//! whose quote does not close on its line continues on the next ones. The user name of
//! a failed login is whatever the client sent, unescaped, so it may hold commas and
//! quotes: when the fields do not line up, the user name is taken to end at a later
//! comma, and a reading that ends the record cleanly beats one that leaves a quote open.
//! A line that is itself a record ends an open quote, so a stray quote in a user name
//! cannot hide the records after it.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDateTime, NaiveTime, Utc};
use keibi_model::event::StatementClass;
use keibi_model::{Action, CompactString, Event, SourceKind, Statement};

use super::text::{lossy, lossy_short, split_host_port, Src, MAX_NAME_CHARS};
use crate::format::Sample;
use crate::syslog::{Clock, HeaderTime};
use crate::time::{from_epoch, parse_compact_ymd_hms, to_utc};
use crate::{LineParser, Output, ParseConfig, Problem};

/// Longest record (a query spread over lines) kept while its quote is open.
const MAX_RECORD: usize = 1 << 20;
/// Most lines one record may span.
const MAX_RECORD_LINES: u64 = 10_000;
/// Longest line held as the first half of a record cut inside the user name (a name is
/// at most 80 characters, 4 bytes each, after a timestamp and the server's host name).
const MAX_HALF: usize = 1024;
/// Most commas tried as the end of a user name that holds commas.
const MAX_USER_COMMAS: usize = 160;

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let lines = &sample.lines;
    if lines.is_empty() {
        return 0;
    }
    let (mut read, mut i) = (0, 0);
    while let Some(line) = lines.get(i) {
        if !matches!(parse(line), Parsed::Bad(_)) {
            (read, i) = (read + 1, i + 1);
            continue;
        }
        // The two halves of a record cut by a line break in the user name.
        let pair = lines.get(i + 1).is_some_and(|next| {
            is_half(line) && {
                let joined = [*line, b"\n", next].concat();
                joined_record(&joined).is_some()
            }
        });
        if pair {
            (read, i) = (read + 2, i + 2);
        } else {
            i += 1;
        }
    }
    (read * 100 / lines.len()) as u8
}

/// Whether an unreadable line may be the first half of a record cut inside the user
/// name: short, and a timestamp and serverhost start it.
fn is_half(line: &[u8]) -> bool {
    line.len() <= MAX_HALF && split_stamp(line).is_some()
}

/// Two lines joined by `\n` as one record cut inside the user name: a failed login or
/// its disconnection (what the server writes for a name it refused; a successful login
/// by a name with a line break would need such an account) whose user holds the break.
fn joined_record(joined: &[u8]) -> Option<Record<'_>> {
    match parse(joined) {
        Parsed::Record(r)
            if matches!(r.op, b"FAILED_CONNECT" | b"DISCONNECT") && r.user.contains(&b'\n') =>
        {
            Some(r)
        }
        _ => None,
    }
}

/// When a record happened, as written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stamp {
    Utc(DateTime<Utc>),
    /// Server local time (`YYYYMMDD HH:MM:SS`, syslog ISO without zone).
    Local(NaiveDateTime),
    /// BSD syslog: month, day, time; no year.
    Bsd(u32, u32, NaiveTime),
}

/// The object field.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Object<'a> {
    /// Unquoted: a table name, or empty.
    Plain(&'a [u8]),
    /// The escaped text between the quotes.
    Quoted(&'a [u8]),
}

#[derive(Debug, Clone, PartialEq)]
struct Record<'a> {
    stamp: Stamp,
    user: &'a [u8],
    host: &'a [u8],
    connection: &'a [u8],
    op: &'a [u8],
    database: &'a [u8],
    object: Object<'a>,
    retcode: &'a [u8],
    connection_type: Option<&'a [u8]>,
}

#[derive(Debug, PartialEq)]
enum Parsed<'a> {
    Record(Record<'a>),
    /// A record whose quoted object goes on past the end of the text.
    Open,
    Bad(&'static str),
}

/// Operations whose object is never a query.
fn is_connection_op(op: &[u8]) -> bool {
    matches!(
        op,
        b"CONNECT" | b"FAILED_CONNECT" | b"DISCONNECT" | b"CHANGE_USER" | b"PROXY_CONNECT"
    )
}

fn table_class(op: &[u8]) -> Option<StatementClass> {
    Some(match op {
        b"READ" => StatementClass::Read,
        b"WRITE" => StatementClass::Write,
        b"CREATE" | b"ALTER" | b"RENAME" | b"DROP" => StatementClass::Ddl,
        _ => return None,
    })
}

fn is_digits(b: &[u8]) -> bool {
    !b.is_empty() && b.len() <= 20 && b.iter().all(u8::is_ascii_digit)
}

/// A retcode: an error number, possibly negative.
fn is_retcode(b: &[u8]) -> bool {
    is_digits(b.strip_prefix(b"-").unwrap_or(b))
}

fn is_op(b: &[u8]) -> bool {
    !b.is_empty() && b.len() <= 32 && b.iter().all(|c| c.is_ascii_uppercase() || *c == b'_')
}

/// Positions of the commas in `b`, byte by byte: the fields searched are short, where
/// memchr's set-up costs more than it saves.
fn commas(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    b.iter()
        .enumerate()
        .filter(|&(_, &c)| c == b',')
        .map(|(i, _)| i)
}

/// Parses one record (lines of a multi-line record joined with `\n`).
fn parse(rec: &[u8]) -> Parsed<'_> {
    let Some((stamp, rest)) = split_stamp(rec) else {
        return Parsed::Bad("expected a server_audit record (timestamp,serverhost,username,...)");
    };
    let Some(comma) = commas(rest).next() else {
        return Parsed::Bad("expected server_audit fields after the timestamp");
    };
    let fields = &rest[comma + 1..];
    let mut open = false;
    // The user name normally ends at the first comma; a client-chosen name may hold more.
    for end in commas(fields).take(MAX_USER_COMMAS) {
        match after_user(stamp, &fields[..end], &fields[end + 1..]) {
            Parsed::Record(r) => return Parsed::Record(r),
            Parsed::Open => open = true,
            Parsed::Bad(_) => {}
        }
    }
    if open {
        Parsed::Open
    } else {
        Parsed::Bad("expected server_audit fields: host,connectionid,queryid,operation,database,object,retcode")
    }
}

/// The fields after the user name: `host,connectionid,queryid,operation,database,object,retcode[,type]`.
fn after_user<'a>(stamp: Stamp, user: &'a [u8], b: &'a [u8]) -> Parsed<'a> {
    let bad = Parsed::Bad("fields do not line up");
    let mut it = commas(b);
    let (Some(c1), Some(c2), Some(c3), Some(c4)) = (it.next(), it.next(), it.next(), it.next())
    else {
        return bad;
    };
    let (host, connection, query_id, op) =
        (&b[..c1], &b[c1 + 1..c2], &b[c2 + 1..c3], &b[c3 + 1..c4]);
    if !is_digits(connection) || !is_digits(query_id) || !is_op(op) {
        return bad;
    }
    let tail = &b[c4 + 1..];
    let Some(c) = commas(tail).next() else {
        return bad;
    };
    let record = |database, object, retcode, connection_type| {
        Parsed::Record(Record {
            stamp,
            user,
            host,
            connection,
            op,
            database,
            object,
            retcode,
            connection_type,
        })
    };
    let (database, after) = (&tail[..c], &tail[c + 1..]);
    if after.first() == Some(&b'\'') && !is_connection_op(op) {
        return match close_quote(after) {
            Some((text, retcode, ct)) => record(database, Object::Quoted(text), retcode, ct),
            None => Parsed::Open,
        };
    }
    // Unquoted object (a table name or nothing), retcode (empty for table events), type.
    let mut parts = after.splitn(3, |&c| c == b',');
    let (Some(object), Some(retcode)) = (parts.next(), parts.next()) else {
        return bad;
    };
    let ct = parts.next();
    let plain_ok = (retcode.is_empty() || is_retcode(retcode))
        && ct.is_none_or(|t| !t.contains(&b',') && !t.contains(&b'\''))
        && !object.contains(&b'\'')
        && (!is_connection_op(op) || object.is_empty());
    if plain_ok {
        return record(database, Object::Plain(object), retcode, ct);
    }
    // A database name holding a comma, before a quoted query.
    if op.starts_with(b"QUERY") {
        if let Some(q) = memchr::memmem::find(tail, b",'") {
            return match close_quote(&tail[q + 1..]) {
                Some((text, retcode, ct)) => record(&tail[..q], Object::Quoted(text), retcode, ct),
                None => Parsed::Open,
            };
        }
    }
    bad
}

/// A closed quoted object: the escaped text, the retcode and the connection type.
type Closed<'a> = (&'a [u8], &'a [u8], Option<&'a [u8]>);

/// `'escaped text',retcode[,type]` to the end of `b`: the text, retcode and type.
/// `None` while the quote is still open. The closing quote is found from the right,
/// so a writer that did not escape a quote inside the text is still read.
fn close_quote(b: &[u8]) -> Option<Closed<'_>> {
    let c1 = memchr::memrchr(b',', b)?;
    let last = &b[c1 + 1..];
    if is_retcode(last) && closes_at(b, c1) {
        return Some((&b[1..c1 - 1], last, None));
    }
    let c2 = memchr::memrchr(b',', &b[..c1])?;
    let retcode = &b[c2 + 1..c1];
    if is_retcode(retcode) && !last.contains(&b'\'') && closes_at(b, c2) {
        return Some((&b[1..c2 - 1], retcode, Some(last)));
    }
    None
}

/// Whether `b[comma - 1]` is a closing quote: not the opening one, not escaped.
fn closes_at(b: &[u8], comma: usize) -> bool {
    if comma < 2 || b[comma - 1] != b'\'' {
        return false;
    }
    let backslashes = b[1..comma - 1]
        .iter()
        .rev()
        .take_while(|&&c| c == b'\\')
        .count();
    backslashes % 2 == 0
}

/// The timestamp (or syslog header) and what follows it, from the serverhost on.
fn split_stamp(line: &[u8]) -> Option<(Stamp, &[u8])> {
    match line.first()? {
        b'0'..=b'9' => {
            if let Some((t, n)) = parse_compact_ymd_hms(line) {
                if line.get(n) == Some(&b',') {
                    return Some((Stamp::Local(t), &line[n + 1..]));
                }
            }
            let digits = line.iter().take_while(|c| c.is_ascii_digit()).count();
            if line.get(digits) == Some(&b',') && (9..=19).contains(&digits) {
                let n: i64 = std::str::from_utf8(&line[..digits]).ok()?.parse().ok()?;
                return Some((Stamp::Utc(from_epoch(n)?), &line[digits + 1..]));
            }
            syslog(line)
        }
        _ => syslog(line),
    }
}

/// A syslog line carrying a record (any header [`crate::syslog`] reads), then the
/// plugin's `syslog_info` and a space before the serverhost.
fn syslog(line: &[u8]) -> Option<(Stamp, &[u8])> {
    let h = crate::syslog::header(line)?;
    let stamp = match h.time {
        HeaderTime::Bsd(month, day, time) => Stamp::Bsd(month, day, time),
        HeaderTime::Full(t) => Stamp::Utc(t),
        HeaderTime::Local(t) => Stamp::Local(t),
    };
    let mut msg = h.rest;
    // `syslog_info` (often empty) and a space come before the serverhost.
    let comma = memchr::memchr(b',', msg)?;
    if let Some(space) = memchr::memrchr(b' ', &msg[..comma]) {
        msg = &msg[space + 1..];
    }
    Some((stamp, msg))
}

/// The last host field read and the client it gave: clients repeat, and reading an
/// address costs more than comparing a few bytes.
#[derive(Default)]
struct Client {
    host: Vec<u8>,
    ip: Option<IpAddr>,
    name: Option<CompactString>,
    port: Option<u16>,
}

/// The start of a record cut inside the user name by line breaks, and the lines of the
/// name that followed: at most a name's length of text past the serverhost.
struct Half {
    text: Vec<u8>,
    line: u64,
    lines: u64,
    /// Why the first line alone is unreadable.
    why: &'static str,
}

/// MariaDB server_audit / RDS / Aurora audit parser.
pub struct AuditParser {
    file: Arc<str>,
    instance: Option<CompactString>,
    offset: FixedOffset,
    /// Times of BSD syslog headers.
    clock: Clock,
    ports_seen: bool,
    last_client: Client,
    /// The last local time read and its UTC value: records come many to a second.
    last_local: Option<(NaiveDateTime, DateTime<Utc>)>,
    /// A record whose quote is open: its lines so far (joined by `\n`).
    pending: Vec<u8>,
    pending_line: u64,
    pending_lines: u64,
    /// A line that starts a record but stops in the user name (`time,serverhost,user`
    /// and no more): the name held a line break. Held, with the lines of the name after
    /// it (as long as a name can be), for the line that completes it.
    half: Option<Half>,
}

impl AuditParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        AuditParser {
            file: cfg.file.clone(),
            instance: cfg.instance.as_deref().map(Into::into),
            offset: cfg.local_offset,
            clock: Clock::new(cfg.local_offset, cfg.syslog_year),
            ports_seen: false,
            last_local: None,
            last_client: Client::default(),
            pending: Vec::new(),
            pending_line: 0,
            pending_lines: 0,
            half: None,
        }
    }

    fn time(&mut self, stamp: Stamp) -> DateTime<Utc> {
        match stamp {
            Stamp::Utc(t) => t,
            Stamp::Local(t) => match self.last_local {
                Some((naive, utc)) if naive == t => utc,
                _ => {
                    let utc = to_utc(t, self.offset);
                    self.last_local = Some((t, utc));
                    utc
                }
            },
            Stamp::Bsd(month, day, time) => self.clock.time(HeaderTime::Bsd(month, day, time)),
        }
    }

    fn emit<'a>(&mut self, src: &Src<'a>, r: &Record<'a>, line: u64, out: &mut Output) {
        let retcode = r.retcode.strip_prefix(b"-").unwrap_or(r.retcode);
        let failed = !retcode.is_empty() && retcode.iter().any(|&c| c != b'0');
        let op = r.op;
        let mut statement = None;
        let action = match op {
            b"CONNECT" | b"CHANGE_USER" | b"FAILED_CONNECT" => {
                if !failed && op != b"FAILED_CONNECT" {
                    Action::LoginSuccess
                } else if r.user.is_empty() {
                    // No user name sent: a scanner or a client that never got as far as
                    // authenticating (bad handshake, packets out of order).
                    Action::Probe
                } else {
                    Action::LoginFailure
                }
            }
            b"DISCONNECT" => Action::Disconnect,
            _ => {
                if let Some(class) = table_class(op) {
                    let table = match r.object {
                        Object::Plain(t) | Object::Quoted(t) => t,
                    };
                    let mut object = Vec::with_capacity(r.database.len() + 1 + table.len());
                    if !r.database.is_empty() {
                        object.extend_from_slice(r.database);
                        object.push(b'.');
                    }
                    object.extend_from_slice(table);
                    statement = Some(Statement {
                        class: Some(class),
                        command: Some(lossy_short(op)),
                        object: Some(lossy_short(&object)),
                        ..Statement::default()
                    });
                    Action::Statement
                } else if op.starts_with(b"QUERY") {
                    let text = match r.object {
                        Object::Quoted(t) => unescape(src, t),
                        Object::Plain(t) => src.string(t),
                    };
                    statement = Some(Statement::from_sql(text));
                    Action::Statement
                } else {
                    Action::Other
                }
            }
        };
        let time = self.time(r.stamp);
        let mut e = Event::new(
            time,
            SourceKind::MysqlAudit,
            self.file.clone(),
            line,
            action,
        );
        e.instance.clone_from(&self.instance);
        e.user = src.non_empty(r.user);
        if !r.host.is_empty() {
            let c = &mut self.last_client;
            if c.host != r.host {
                let host = src.str(r.host);
                let (h, port) = split_host_port(&host, &mut self.ports_seen);
                e.set_client(h);
                e.client_port = port;
                c.host.clear();
                c.host.extend_from_slice(r.host);
                (c.ip, c.name, c.port) = (e.client_ip, e.client_host.clone(), port);
            } else {
                e.client_ip = c.ip;
                e.client_host.clone_from(&c.name);
                e.client_port = c.port;
            }
        }
        e.session_id = Some(src.short(r.connection));
        e.database = src.non_empty(r.database);
        if failed {
            e.error_code = Some(lossy_short(r.retcode));
        }
        e.tls = r.connection_type.and_then(tls);
        e.statement = statement.map(Box::new);
        // The action says what CONNECT, FAILED_CONNECT and DISCONNECT mean; other
        // operations keep their name.
        if matches!(action, Action::Other) || op == b"CHANGE_USER" {
            e.message = Some(lossy(op));
        }
        super::text::mark_names(&mut e, false);
        out.event(e);
    }

    fn flush_open(&mut self, reason: &str, out: &mut Output) {
        if self.pending_lines > 0 {
            out.problems.push(Problem {
                line: self.pending_line,
                reason: reason.to_string(),
                lines: self.pending_lines,
            });
        }
        self.pending.clear();
        self.pending_lines = 0;
        if self.pending.capacity() > 1 << 16 {
            self.pending = Vec::new();
        }
    }

    /// Reads a line that is not inside an open quote. `may_hold`: the line may be held
    /// as the first half of a record cut in the user name (not when it follows a half
    /// that it did not complete: a name with two line breaks holds no record of its own).
    fn start(&mut self, line: &[u8], lineno: u64, may_hold: bool, out: &mut Output) {
        match parse(line) {
            Parsed::Record(r) => self.emit(&Src::new(line), &r, lineno, out),
            Parsed::Open => {
                self.pending.extend_from_slice(line);
                self.pending_line = lineno;
                self.pending_lines = 1;
            }
            Parsed::Bad(why)
                if may_hold && line.len() <= MAX_HALF && split_stamp(line).is_some() =>
            {
                self.half = Some(Half {
                    text: line.to_vec(),
                    line: lineno,
                    lines: 1,
                    why,
                });
            }
            Parsed::Bad(why) => {
                if !line.iter().all(u8::is_ascii_whitespace) {
                    out.unrecognized(lineno, why)
                }
            }
        }
    }

    /// Joins the held first half of a record with `line`: `true` when together they are
    /// one record whose user name holds the line break (the server's fields after the
    /// name are on `line`), read as that record with the first half's time, or when they
    /// are still inside a name no longer than a name can be (held for the next line).
    /// Otherwise the held lines are reported unreadable and `line` is left to be read on
    /// its own.
    fn join_half(&mut self, line: &[u8], out: &mut Output) -> bool {
        let Some(mut half) = self.half.take() else {
            return false;
        };
        half.text.push(b'\n');
        half.text.extend_from_slice(line);
        half.lines += 1;
        if let Some(r) = joined_record(&half.text) {
            self.emit(&Src::new(&half.text), &r, half.line, out);
            return true;
        }
        if is_half(&half.text) && matches!(parse(&half.text), Parsed::Bad(_)) {
            let name = split_stamp(&half.text)
                .and_then(|(_, rest)| memchr::memchr(b',', rest).map(|c| &rest[c + 1..]))
                .unwrap_or_default();
            if String::from_utf8_lossy(name).chars().count() <= MAX_NAME_CHARS {
                self.half = Some(half);
                return true;
            }
        }
        out.problems.push(Problem {
            line: half.line,
            reason: half.why.into(),
            lines: half.lines - 1,
        });
        false
    }
}

/// RDS `connection_type`: MySQL's vio type number or its name.
fn tls(t: &[u8]) -> Option<bool> {
    match t {
        b"" | b"0" => None,
        b"4" => Some(true),
        _ if t.eq_ignore_ascii_case(b"Undefined") => None,
        _ if t.eq_ignore_ascii_case(b"SSL/TLS") || t.eq_ignore_ascii_case(b"SSL") => Some(true),
        _ => Some(false),
    }
}

/// Undoes the plugin's escaping: `\'`, `\\`, and `\n` `\r` `\t` from writers that escape
/// line breaks. Other backslashes are kept as written.
fn unescape<'a>(src: &Src<'a>, b: &'a [u8]) -> String {
    let text = src.str(b);
    let mut rest: &str = &text;
    let mut out = String::with_capacity(rest.len());
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let unescaped = match after.as_bytes().first() {
            Some(b'\'') => '\'',
            Some(b'\\') => '\\',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            _ => {
                out.push('\\');
                rest = after;
                continue;
            }
        };
        out.push(unescaped);
        rest = &after[1..];
    }
    out.push_str(rest);
    out
}

/// Whether a line could end a quoted object: `...',retcode` or `...',retcode,type`.
/// Cheap, so a long multi-line query is parsed once, not once per line.
fn may_close(line: &[u8]) -> bool {
    let Some(c1) = memchr::memrchr(b',', line) else {
        return false;
    };
    if c1 >= 1 && line[c1 - 1] == b'\'' && is_retcode(&line[c1 + 1..]) {
        return true;
    }
    let Some(c2) = memchr::memrchr(b',', &line[..c1]) else {
        return false;
    };
    c2 >= 1 && line[c2 - 1] == b'\'' && is_retcode(&line[c2 + 1..c1])
}

impl LineParser for AuditParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        let mut may_hold = true;
        if self.half.is_some() {
            if self.join_half(line, out) {
                return;
            }
            may_hold = false;
        }
        if self.pending_lines == 0 {
            return self.start(line, lineno, may_hold, out);
        }
        if !matches!(parse(line), Parsed::Bad(_)) {
            self.flush_open("quoted object not closed before the next record", out);
            return self.start(line, lineno, may_hold, out);
        }
        if self.pending.len() + 1 + line.len() > MAX_RECORD
            || self.pending_lines >= MAX_RECORD_LINES
        {
            self.flush_open("quoted object not closed within 1 MiB or 10000 lines", out);
            return self.start(line, lineno, may_hold, out);
        }
        self.pending.push(b'\n');
        self.pending.extend_from_slice(line);
        self.pending_lines += 1;
        if !may_close(line) {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let result = match parse(&pending) {
            Parsed::Record(r) => {
                self.emit(&Src::new(&pending), &r, self.pending_line, out);
                None
            }
            Parsed::Open => Some(None),
            Parsed::Bad(why) => Some(Some(why)),
        };
        self.pending = pending;
        match result {
            None => {
                self.pending_lines = 0;
                self.flush_open("", out);
            }
            Some(None) => {}
            Some(Some(why)) => self.flush_open(why, out),
        }
    }

    fn finish(&mut self, out: &mut Output) {
        if let Some(h) = self.half.take() {
            out.problems.push(Problem {
                line: h.line,
                reason: h.why.into(),
                lines: h.lines,
            });
        }
        self.flush_open("quoted object not closed at end of input", out);
    }
}

#[cfg(test)]
mod tests;
