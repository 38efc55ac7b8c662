//! The Percona Server audit log plugin (`audit_log`), in its four formats
//! (`audit_log_format`):
//!
//! ```text
//! OLD   <AUDIT_RECORD                        NEW   <AUDIT_RECORD>
//!         NAME="Query"                               <NAME>Query</NAME>
//!         TIMESTAMP="2021-06-30T11:57:14 UTC"        <TIMESTAMP>2021-06-30T16:08:06 UTC</TIMESTAMP>
//!         ... />                                     ... </AUDIT_RECORD>
//! JSON  {"audit_record":{"name":"Query","timestamp":"2021-06-30T15:07:58 UTC",...}}
//! CSV   "Query","22567_2021-06-30T16:10:09","2021-06-30T16:19:00 UTC","select","2",0,"select count(*) from one",...
//! ```
//!
//! Every format carries the same fields; the parser reads each record into them and
//! maps them once. `Connect` is a login (`STATUS` 0) or a failed one (the error number),
//! `Quit` a disconnect, `Query`/`Prepare`/`Execute` ... a statement (`SQLTEXT`, the
//! account `USER` as `user[priv] @ host [ip]`). MySQL Enterprise Audit's XML formats
//! have the same shape and read the same way.

use std::sync::Arc;

use chrono::FixedOffset;
use keibi_model::{Action, CompactString, Event, SourceKind, Statement};

use crate::format::Sample;
use crate::time::parse_pg_time;
use crate::{LineParser, Output, ParseConfig, Problem};

/// Longest record kept (bytes); a longer one is reported and skipped.
const MAX_RECORD: usize = 1 << 20;
/// Most lines of one record.
const MAX_RECORD_LINES: u64 = 10_000;

/// The CSV columns of each kind of record (CSV has no names).
const CSV_QUERY: &[&str] = &[
    "name",
    "record",
    "timestamp",
    "command_class",
    "connection_id",
    "status",
    "sqltext",
    "user",
    "host",
    "os_user",
    "ip",
    "db",
];
const CSV_CONNECT: &[&str] = &[
    "name",
    "record",
    "timestamp",
    "connection_id",
    "status",
    "user",
    "priv_user",
    "os_login",
    "proxy_user",
    "host",
    "ip",
    "db",
];
const CSV_AUDIT: &[&str] = &[
    "name",
    "record",
    "timestamp",
    "mysql_version",
    "startup_options",
    "os_version",
];

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let starts = |p: &[u8]| {
        sample
            .lines
            .iter()
            .any(|l| l.trim_ascii_start().starts_with(p))
    };
    if starts(b"<AUDIT_RECORD") || starts(b"{\"audit_record\":") {
        return 95;
    }
    sample.share(|l| csv_fields(l).is_some_and(|f| csv_record(&f).is_some()))
}

/// One record's fields, names in lower case.
#[derive(Debug, Default)]
struct Record {
    fields: Vec<(String, String)>,
}

impl Record {
    fn get(&self, k: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes XML character references and the five named entities.
fn unescape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        // Entities are short; `;` is ASCII, so its index is a char boundary.
        let window = &after.as_bytes()[..after.len().min(12)];
        let Some(end) = window.iter().position(|&b| b == b';') else {
            out.push('&');
            rest = &after[1..];
            continue;
        };
        let entity = &after[1..end];
        let decoded = match entity {
            "quot" => Some('"'),
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `<AUDIT_RECORD NAME="Query" ... />` (OLD): the attributes.
fn xml_attributes(text: &str) -> Record {
    let mut r = Record::default();
    let mut rest = text
        .trim_start()
        .strip_prefix("<AUDIT_RECORD")
        .unwrap_or(text);
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].trim();
        let name = name
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or(name);
        let after = &rest[eq + 2..];
        let Some(close) = after.find('"') else {
            break;
        };
        if !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            r.fields
                .push((name.to_ascii_lowercase(), unescape_xml(&after[..close])));
        }
        rest = &after[close + 1..];
    }
    r
}

/// `<AUDIT_RECORD><NAME>Query</NAME>...</AUDIT_RECORD>` (NEW): the child elements.
fn xml_elements(text: &str) -> Record {
    let mut r = Record::default();
    let mut rest = text
        .trim_start()
        .strip_prefix("<AUDIT_RECORD>")
        .unwrap_or(text);
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let Some(gt) = after.find('>') else {
            break;
        };
        let tag = &after[..gt];
        if tag.starts_with('/') || tag.is_empty() {
            rest = &after[gt + 1..];
            continue;
        }
        let body = &after[gt + 1..];
        // A value holds no `<` (it is written `&lt;`): the next `<` must close the
        // element. Looking only that far keeps hostile input linear.
        let end = body.find('<').unwrap_or(body.len());
        let closes = body[end..]
            .strip_prefix("</")
            .and_then(|c| c.strip_prefix(tag))
            .is_some_and(|c| c.starts_with('>'));
        let named = !tag.is_empty()
            && tag.len() <= 64
            && tag.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
        if closes && named {
            r.fields
                .push((tag.to_ascii_lowercase(), unescape_xml(&body[..end])));
            rest = &body[end + tag.len() + 3..];
        } else {
            rest = &body[end..];
        }
    }
    r
}

/// `{"audit_record":{...}}`: the object's fields (numbers as text).
fn json_record(line: &[u8]) -> Option<Record> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    let obj = v.get("audit_record")?.as_object()?;
    let mut r = Record::default();
    for (k, v) in obj {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        r.fields.push((k.to_ascii_lowercase(), v));
    }
    Some(r)
}

/// The fields of one CSV record (quoted fields may hold commas, `""` and line
/// breaks); `None` when the record is not complete.
fn csv_fields(text: &[u8]) -> Option<Vec<String>> {
    // A quoted field still open (an odd count of quotes: `""` inside a field counts
    // two) continues on the next line.
    if memchr::memchr_iter(b'"', text).count() % 2 == 1 {
        return None;
    }
    let mut reader = csv_core::Reader::new();
    let mut out = vec![0u8; text.len() + 1];
    let mut ends = vec![0usize; 64];
    let mut input = text;
    let (mut outpos, mut endpos) = (0, 0);
    loop {
        let (res, nin, nout, nend) =
            reader.read_record(input, &mut out[outpos..], &mut ends[endpos..]);
        input = &input[nin..];
        outpos += nout;
        endpos += nend;
        match res {
            csv_core::ReadRecordResult::InputEmpty if input.is_empty() => {
                // End of the text: a record is complete only if no quote is open.
                let (res, _, nout, nend) =
                    reader.read_record(&[], &mut out[outpos..], &mut ends[endpos..]);
                outpos += nout;
                endpos += nend;
                if !matches!(res, csv_core::ReadRecordResult::Record) {
                    return None;
                }
                break;
            }
            csv_core::ReadRecordResult::InputEmpty => {}
            csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => break,
            csv_core::ReadRecordResult::OutputFull => return None,
            csv_core::ReadRecordResult::OutputEndsFull => return None,
        }
    }
    let _ = outpos;
    let mut fields = Vec::with_capacity(endpos);
    let mut start = 0;
    for &end in &ends[..endpos] {
        fields.push(String::from_utf8_lossy(&out[start..end]).into_owned());
        start = end;
    }
    Some(fields)
}

/// Names CSV fields by the record's kind (its first field).
fn csv_record(fields: &[String]) -> Option<Record> {
    let name = fields.first()?;
    let columns = match name.as_str() {
        "Audit" | "NoAudit" => CSV_AUDIT,
        "Connect" | "Quit" | "Change user" => CSV_CONNECT,
        n if !n.is_empty() && n.len() <= 32 && fields.len() == CSV_QUERY.len() => CSV_QUERY,
        _ => return None,
    };
    if fields.len() != columns.len() {
        return None;
    }
    // The third field is the record's time: this is no other CSV.
    parse_pg_time(fields[2].as_bytes(), FixedOffset::east_opt(0)?)?;
    Some(Record {
        fields: columns
            .iter()
            .zip(fields)
            .map(|(c, v)| (c.to_string(), v.clone()))
            .collect(),
    })
}

/// `root[root] @ localhost [127.0.0.1]` or a bare user name.
fn account(user: &str) -> (Option<&str>, Option<&str>) {
    if !user.contains(" @ ") {
        return ((!user.is_empty()).then_some(user), None);
    }
    let (u, client, _) = super::slow::user_host(user);
    (u, client)
}

enum Pending {
    /// An XML record (OLD or NEW) still open.
    Xml { text: String, line: u64, lines: u64 },
    /// A CSV record whose quoted field spans lines.
    Csv {
        text: Vec<u8>,
        line: u64,
        lines: u64,
    },
}

/// Percona audit log plugin parser.
pub struct PerconaAuditParser {
    file: Arc<str>,
    instance: Option<CompactString>,
    offset: FixedOffset,
    pending: Option<Pending>,
}

impl PerconaAuditParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        PerconaAuditParser {
            file: cfg.file.clone(),
            instance: cfg.instance.as_deref().map(Into::into),
            offset: cfg.local_offset,
            pending: None,
        }
    }

    fn emit(&self, r: &Record, line: u64, lines: u64, out: &mut Output) {
        let time = r
            .get("timestamp")
            .and_then(|t| parse_pg_time(t.as_bytes(), self.offset))
            .map(|(t, _)| t);
        let (Some(time), Some(name)) = (time, r.get("name")) else {
            out.problems.push(Problem {
                line,
                reason: "audit record without a readable NAME and TIMESTAMP".into(),
                lines,
            });
            return;
        };
        let status = r.get("status").unwrap_or("0").trim();
        let ok = status.is_empty() || status == "0";
        let action = match name {
            "Connect" if ok => Action::LoginSuccess,
            "Connect" => Action::LoginFailure,
            "Change user" if ok => Action::LoginSuccess,
            "Change user" => Action::LoginFailure,
            "Quit" => Action::Disconnect,
            _ if r.get("sqltext").is_some() => Action::Statement,
            _ => Action::Other,
        };
        let (user, host) = account(r.get("user").unwrap_or(""));
        // A failed connect with no user name never sent credentials: a probe, as in
        // server_audit's FAILED_CONNECT.
        let action = match action {
            Action::LoginFailure if user.is_none() => Action::Probe,
            a => a,
        };
        let mut e = Event::new(
            time,
            SourceKind::PerconaAudit,
            self.file.clone(),
            line,
            action,
        );
        e.instance.clone_from(&self.instance);
        e.user = user.map(Into::into);
        let ip = r.get("ip").filter(|ip| !ip.is_empty());
        let host = r.get("host").filter(|h| !h.is_empty()).or(host);
        if let Some(c) = ip.or(host) {
            e.set_client(c);
        }
        e.database = r.get("db").filter(|d| !d.is_empty()).map(Into::into);
        e.session_id = r
            .get("connection_id")
            .filter(|c| !c.is_empty())
            .map(Into::into);
        if !ok {
            e.error_code = Some(status.into());
        }
        match action {
            Action::Statement => {
                let mut st = Statement::from_sql(r.get("sqltext").unwrap_or(""));
                if st.command.is_none() {
                    st.command = r
                        .get("command_class")
                        .filter(|c| !c.is_empty())
                        .map(|c| c.to_ascii_uppercase().replace('_', " ").into());
                }
                e.statement = Some(Box::new(st));
                if name != "Query" {
                    e.message = Some(name.to_string());
                }
            }
            Action::Other => {
                e.message = Some(name.to_string());
                if let Some(v) = r.get("mysql_version") {
                    e.detail = Some(format!("MySQL version {v}"));
                }
            }
            _ => {}
        }
        super::text::mark_names(&mut e, false);
        out.event(e);
    }

    fn csv(&mut self, text: &[u8], line: u64, lines: u64, out: &mut Output) {
        match csv_fields(text) {
            Some(fields) => match csv_record(&fields) {
                Some(r) => self.emit(&r, line, lines, out),
                None => out.problems.push(Problem {
                    line,
                    reason: "not a Percona audit CSV record".into(),
                    lines,
                }),
            },
            None if text.len() < MAX_RECORD && lines < MAX_RECORD_LINES => {
                self.pending = Some(Pending::Csv {
                    text: text.to_vec(),
                    line,
                    lines,
                });
            }
            None => out.problems.push(Problem {
                line,
                reason: "CSV audit record too long or never closed".into(),
                lines,
            }),
        }
    }
}

/// Whether an XML record's text is complete.
fn xml_complete(text: &str) -> Option<bool> {
    let t = text.trim_end();
    if t.starts_with("<AUDIT_RECORD>") {
        return Some(t.ends_with("</AUDIT_RECORD>"));
    }
    // OLD: attributes end with `/>` (or `>` and a closing tag, as Enterprise writes).
    Some(t.ends_with("/>") || t.ends_with("</AUDIT_RECORD>"))
}

impl LineParser for PerconaAuditParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        match self.pending.take() {
            Some(Pending::Xml {
                mut text,
                line: start,
                lines,
            }) => {
                text.push('\n');
                text.push_str(&String::from_utf8_lossy(line));
                let lines = lines + 1;
                if xml_complete(&text) == Some(true) {
                    let r = if text.trim_start().starts_with("<AUDIT_RECORD>") {
                        xml_elements(&text)
                    } else {
                        xml_attributes(&text)
                    };
                    self.emit(&r, start, lines, out);
                } else if text.len() > MAX_RECORD || lines >= MAX_RECORD_LINES {
                    out.problems.push(Problem {
                        line: start,
                        reason: "XML audit record too long or never closed".into(),
                        lines,
                    });
                } else {
                    self.pending = Some(Pending::Xml {
                        text,
                        line: start,
                        lines,
                    });
                }
                return;
            }
            Some(Pending::Csv {
                mut text,
                line: start,
                lines,
            }) => {
                text.push(b'\n');
                text.extend_from_slice(line);
                let lines = lines + 1;
                // Still open while the quotes added keep the count odd: the record is
                // read once, when it closes, not again on every line.
                if memchr::memchr_iter(b'"', line).count().is_multiple_of(2)
                    && text.len() < MAX_RECORD
                    && lines < MAX_RECORD_LINES
                {
                    self.pending = Some(Pending::Csv {
                        text,
                        line: start,
                        lines,
                    });
                } else {
                    self.csv(&text, start, lines, out);
                }
                return;
            }
            None => {}
        }
        let t = line.trim_ascii();
        if t.is_empty()
            || t.starts_with(b"<?xml")
            || t == b"<AUDIT>"
            || t == b"</AUDIT>"
            || t == b"["
            || t == b"]"
        {
            return;
        }
        if t.starts_with(b"<AUDIT_RECORD") {
            let text = String::from_utf8_lossy(t).into_owned();
            if xml_complete(&text) == Some(true) {
                let r = if text.starts_with("<AUDIT_RECORD>") {
                    xml_elements(&text)
                } else {
                    xml_attributes(&text)
                };
                self.emit(&r, lineno, 1, out);
            } else {
                self.pending = Some(Pending::Xml {
                    text,
                    line: lineno,
                    lines: 1,
                });
            }
            return;
        }
        if t.starts_with(b"{") {
            let t = t.strip_suffix(b",").unwrap_or(t);
            match json_record(t) {
                Some(r) => self.emit(&r, lineno, 1, out),
                None => out.unrecognized(lineno, "expected a Percona audit JSON record"),
            }
            return;
        }
        if t.starts_with(b"\"") {
            self.csv(line, lineno, 1, out);
            return;
        }
        out.unrecognized(lineno, "expected a Percona audit record (XML, JSON or CSV)");
    }

    fn finish(&mut self, out: &mut Output) {
        match self.pending.take() {
            Some(Pending::Xml { line, lines, .. }) | Some(Pending::Csv { line, lines, .. }) => {
                out.problems.push(Problem {
                    line,
                    reason: "audit record cut by the end of the input".into(),
                    lines,
                });
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests;
