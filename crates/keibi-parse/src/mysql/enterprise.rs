//! MySQL Enterprise Audit (and the audit_log component) in JSON format: a JSON array of
//! records pretty-printed over many lines, or one record per line. Records are cut out
//! of the byte stream by [`JsonSplitter`], so neither layout needs the whole file in
//! memory.
//!
//! ```text
//! { "timestamp": "2020-08-21 17:54:08", "id": 0, "class": "connection", "event": "connect",
//!   "connection_id": 20, "account": { "user": "", "host": "localhost" },
//!   "login": { "user": "notauser", "os": "", "ip": "::1", "proxy": "" },
//!   "connection_data": { "connection_type": "plugin", "status": 1045, "db": "" } }
//! ```

use std::sync::Arc;

use chrono::{DateTime, Utc};
use keibi_model::event::StatementClass;
use keibi_model::{
    format_compact, Action, CompactString, Event, SourceKind, Statement, ToCompactString,
};
use serde_json::Value;

use crate::format::Sample;
use crate::jsonsplit::{JsonSplitter, Piece};
use crate::time::{from_epoch, parse_ymd_hms};
use crate::{Output, ParseConfig, Parser, Problem};

/// Longest record read; longer ones are skipped and reported.
const MAX_RECORD: usize = 8 << 20;

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let head = sample.head;
    let first = head.iter().find(|c| !c.is_ascii_whitespace());
    if !matches!(first, Some(b'[' | b'{')) {
        return 0;
    }
    let has = |s: &[u8]| memchr::memmem::find(head, s).is_some();
    if has(b"\"connection_id\"") && has(b"\"class\"") && has(b"\"timestamp\"") {
        95
    } else {
        0
    }
}

/// MySQL Enterprise Audit JSON parser.
pub struct EnterpriseAuditParser {
    file: Arc<str>,
    instance: Option<CompactString>,
    splitter: JsonSplitter,
}

impl EnterpriseAuditParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        EnterpriseAuditParser {
            file: cfg.file.clone(),
            instance: cfg.instance.as_deref().map(Into::into),
            splitter: JsonSplitter::new(MAX_RECORD),
        }
    }
}

impl Parser for EnterpriseAuditParser {
    fn push(&mut self, chunk: &[u8], out: &mut Output) {
        let EnterpriseAuditParser {
            file,
            instance,
            splitter,
        } = self;
        splitter.push(chunk, &mut |p| piece(p, file, instance, out));
    }

    fn finish(&mut self, out: &mut Output) {
        let EnterpriseAuditParser {
            file,
            instance,
            splitter,
        } = self;
        splitter.finish(&mut |p| piece(p, file, instance, out));
    }
}

fn piece(p: Piece<'_>, file: &Arc<str>, instance: &Option<CompactString>, out: &mut Output) {
    let (bytes, line) = match p {
        Piece::Value { bytes, line } | Piece::Outer { bytes, line, .. } => (bytes, line),
        Piece::Skipped { line, lines, why } => {
            out.problems.push(Problem {
                line,
                reason: why.to_string(),
                lines,
            });
            return;
        }
    };
    let lines = memchr::memchr_iter(b'\n', bytes).count() as u64 + 1;
    let problem = |reason: String| Problem {
        line,
        reason,
        lines,
    };
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => match record(&v, file, line) {
            Some(mut e) => {
                e.instance.clone_from(instance);
                super::text::mark_names(&mut e, false);
                out.event(e);
            }
            None => out.problems.push(problem(
                "expected an audit record with timestamp, class and event".into(),
            )),
        },
        Err(e) => out.problems.push(problem(format!("invalid JSON: {e}"))),
    }
}

/// The string at `path`, or "".
fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A number or string at `path`, as text.
fn number(v: &Value, path: &[&str]) -> Option<CompactString> {
    match path.iter().try_fold(v, |v, k| v.get(k))? {
        Value::Number(n) => Some(n.to_compact_string()),
        Value::String(s) if !s.is_empty() => Some(s.into()),
        _ => None,
    }
}

fn non_empty(s: &str) -> Option<CompactString> {
    (!s.is_empty()).then(|| s.into())
}

/// `timestamp` ("YYYY-MM-DD hh:mm:ss", UTC), else `time` (Unix seconds, written when
/// `audit_log_format_unix_timestamp` is on).
fn time(v: &Value) -> Option<DateTime<Utc>> {
    if let Some((t, _)) = v
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(|s| parse_ymd_hms(s.as_bytes()))
    {
        return Some(t.and_utc());
    }
    from_epoch(v.get("time")?.as_i64()?)
}

/// `connection_type`: a name (`ssl`, `tcp/ip`, `socket` ...) or MySQL's vio number.
fn tls(v: &Value) -> Option<bool> {
    match v.get("connection_data")?.get("connection_type")? {
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "ssl" => Some(true),
            "tcp/ip" | "socket" | "named_pipe" | "shared_memory" => Some(false),
            _ => None,
        },
        Value::Number(n) => match n.as_u64()? {
            4 => Some(true),
            1 | 2 | 3 | 5 => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn record(v: &Value, file: &Arc<str>, line: u64) -> Option<Event> {
    let class = text(v, &["class"]);
    let event = text(v, &["event"]);
    if class.is_empty() && event.is_empty() {
        return None;
    }
    let mut e = Event::new(
        time(v)?,
        SourceKind::MysqlEnterpriseAudit,
        file.clone(),
        line,
        Action::Other,
    );
    e.message = Some(format!("{class}:{event}"));
    e.session_id = number(v, &["connection_id"]).filter(|id| id != "0");
    let login_user = text(v, &["login", "user"]);
    let user = if login_user.is_empty() {
        text(v, &["account", "user"])
    } else {
        login_user
    };
    e.user = non_empty(user);
    let ip = text(v, &["login", "ip"]);
    let host = text(v, &["account", "host"]);
    if !ip.is_empty() {
        e.set_client(ip);
    } else if !host.is_empty() && host != "%" {
        e.set_client(host);
    }
    e.tls = tls(v);
    match (class, event) {
        ("connection", "connect" | "change_user") => {
            let status = number(v, &["connection_data", "status"]).filter(|s| s != "0");
            e.database = non_empty(text(v, &["connection_data", "db"]));
            e.action = match &status {
                None => Action::LoginSuccess,
                // No user name sent: a client that never got as far as authenticating.
                Some(_) if user.is_empty() => Action::Probe,
                Some(_) => Action::LoginFailure,
            };
            e.error_code = status;
        }
        ("connection", "disconnect") => e.action = Action::Disconnect,
        ("connection", "pre_authenticate") => e.action = Action::ConnectionReceived,
        ("table_access", _) => {
            let db = text(v, &["table_access_data", "db"]);
            let table = text(v, &["table_access_data", "table"]);
            let mut st = Statement::from_sql(text(v, &["table_access_data", "query"]));
            st.class = Some(if event == "read" {
                StatementClass::Read
            } else {
                StatementClass::Write
            });
            st.object = Some(if db.is_empty() {
                table.into()
            } else {
                format_compact!("{db}.{table}")
            });
            e.database = non_empty(db);
            e.action = Action::Statement;
            e.statement = Some(Box::new(st));
        }
        _ => {
            // `general` records, and `query` records of the audit_log component.
            let data = ["general_data", "query_data"]
                .into_iter()
                .find_map(|k| v.get(k))
                .unwrap_or(&Value::Null);
            let query = text(data, &["query"]);
            if !query.is_empty() {
                e.action = Action::Statement;
                e.statement = Some(Box::new(Statement::from_sql(query)));
                e.error_code = number(data, &["status"]).filter(|s| s != "0");
            } else if let Some(command) = non_empty(text(data, &["command"])) {
                e.detail = Some(command.into());
            }
        }
    }
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::rfc3339;
    use keibi_model::Action::*;

    fn run_chunks(chunks: &[&[u8]]) -> Output {
        let mut p = EnterpriseAuditParser::new(&ParseConfig::new("audit.json"));
        let mut out = Output::new();
        for c in chunks {
            p.push(c, &mut out);
        }
        p.finish(&mut out);
        out
    }

    fn run(input: &[u8]) -> Output {
        run_chunks(&[input])
    }

    const PRETTY: &[u8] = br#"[
  {
    "timestamp": "2019-10-03 13:50:01",
    "id": 0,
    "class": "audit",
    "event": "startup",
    "connection_id": 0,
    "startup_data": { "server_id": 1, "os_version": "i686-Linux", "mysql_version": "5.7.21-log",
                      "args": ["/usr/local/mysql/bin/mysqld", "--loose-audit-log-format=JSON"] }
  },
  {
    "timestamp": "2019-10-03 15:02:32",
    "id": 0,
    "class": "connection",
    "event": "connect",
    "connection_id": 9,
    "account": { "user": "root", "host": "localhost" },
    "login": { "user": "root", "os": "", "ip": "::1", "proxy": "" },
    "connection_data": { "connection_type": "ssl", "status": 0, "db": "test" }
  },
  {
    "timestamp": "2019-10-03 17:37:26",
    "id": 0,
    "class": "general",
    "event": "status",
    "connection_id": 9,
    "account": { "user": "root", "host": "localhost" },
    "login": { "user": "root", "os": "", "ip": "::1", "proxy": "" },
    "general_data": { "command": "Query", "sql_command": "show_databases",
                      "query": "SHOW DATABASES \"}{\"", "status": 1142 }
  },
  {
    "timestamp": "2019-10-03 17:37:26",
    "id": 1,
    "class": "table_access",
    "event": "insert",
    "connection_id": 9,
    "account": { "user": "root", "host": "localhost" },
    "login": { "user": "root", "os": "", "ip": "127.0.0.1", "proxy": "" },
    "table_access_data": { "db": "test", "table": "t1",
                           "query": "INSERT INTO t1 (i) VALUES(1),(2),(3)", "sql_command": "insert" }
  },
  {
    "timestamp": "2019-10-03 21:28:11",
    "id": 0,
    "class": "connection",
    "event": "disconnect",
    "connection_id": 9,
    "account": { "user": "root", "host": "localhost" },
    "login": { "user": "root", "os": "", "ip": "::1", "proxy": "" },
    "connection_data": { "connection_type": "ssl" }
  }
]
"#;

    #[test]
    fn pretty_printed_array() {
        let out = run(PRETTY);
        assert_eq!(out.problems, vec![]);
        let got: Vec<_> = out.events.iter().map(|e| (e.line, e.action)).collect();
        assert_eq!(
            got,
            vec![
                (2, Other),
                (11, LoginSuccess),
                (21, Statement),
                (32, Statement),
                (43, Disconnect)
            ]
        );
        let e = &out.events;
        assert_eq!(e[0].message.as_deref(), Some("audit:startup"));
        assert_eq!(e[0].session_id, None);
        assert_eq!(rfc3339(&e[1]), "2019-10-03T15:02:32Z");
        assert_eq!(e[1].user.as_deref(), Some("root"));
        assert_eq!(e[1].client_ip, Some("::1".parse().unwrap()));
        assert_eq!(
            (e[1].database.as_deref(), e[1].tls),
            (Some("test"), Some(true))
        );
        assert_eq!(e[1].session_id.as_deref(), Some("9"));
        let st = e[2].statement.as_deref().unwrap();
        assert_eq!(st.text, "SHOW DATABASES \"}{\"");
        assert_eq!(e[2].error_code.as_deref(), Some("1142"));
        let st = e[3].statement.as_deref().unwrap();
        assert_eq!(st.object.as_deref(), Some("test.t1"));
        assert_eq!(st.class, Some(StatementClass::Write));
        assert_eq!(st.command.as_deref(), Some("INSERT"));
        assert_eq!(e[3].client_ip, Some("127.0.0.1".parse().unwrap()));
        // The same, cut at every byte.
        for k in 0..PRETTY.len() {
            let (a, b) = PRETTY.split_at(k);
            assert_eq!(run_chunks(&[a, b]).events, out.events, "split at {k}");
        }
    }

    #[test]
    fn json_lines_with_a_failed_login() {
        let input = br#"{ "timestamp": "2020-08-21 17:54:08", "id": 0, "class": "connection", "event": "connect", "connection_id": 20, "account": { "user": "", "host": "localhost" }, "login": { "user": "notauser", "os": "", "ip": "::1", "proxy": "" }, "connection_data": { "connection_type": "plugin", "status": 1045, "db": "" } }
{ "timestamp": "2020-08-21 17:54:09", "id": 0, "class": "connection", "event": "connect", "connection_id": 21, "account": { "user": "", "host": "%" }, "login": { "user": "", "os": "", "ip": "203.0.113.9", "proxy": "" }, "connection_data": { "connection_type": "tcp/ip", "status": 1043 } }
{ "time": 1598032450, "class": "table_access", "event": "read", "connection_id": 22, "table_access_data": { "db": "hr", "table": "salaries", "query": "SELECT * FROM salaries", "sql_command": "select" } }
"#;
        let out = run(input);
        assert_eq!(out.problems, vec![]);
        let e = &out.events;
        assert_eq!((e[0].action, e[0].line), (LoginFailure, 1));
        assert_eq!(e[0].user.as_deref(), Some("notauser"));
        assert_eq!(e[0].error_code.as_deref(), Some("1045"));
        assert_eq!(e[0].client_ip, Some("::1".parse().unwrap()));
        assert_eq!((e[0].database.as_deref(), e[0].tls), (None, None));
        assert_eq!(
            (e[1].action, e[1].error_code.as_deref()),
            (Probe, Some("1043"))
        );
        assert_eq!(e[1].tls, Some(false));
        assert_eq!(e[2].line, 3);
        assert_eq!(rfc3339(&e[2]), "2020-08-21T17:54:10Z");
        let st = e[2].statement.as_deref().unwrap();
        assert_eq!(
            (st.class, st.object.as_deref()),
            (Some(StatementClass::Read), Some("hr.salaries"))
        );
    }

    #[test]
    fn bad_records_are_reported_with_their_lines() {
        let input = b"{\"timestamp\": \"2020-08-21 17:54:08\", \"class\": \"connection\", \"event\": \"connect\", \"connection_id\": 1, \"x\": tru}\n\
{\"timestamp\": \"not a time\", \"class\": \"audit\", \"event\": \"noaudit\"}\n\
{\"hello\": 1}\n\
garbage \xff\xfe\n\
{\"timestamp\": \"2020-08-21 17:54:10\", \"class\": \"audit\",\n \"event\": \"shutdown\"}\n\
{\"timestamp\": \"2020-08-21 17:54:11\", \"class\":\n";
        let out = run(input);
        assert_eq!(out.events.len(), 1);
        assert_eq!((out.events[0].line, out.events[0].action), (5, Other));
        let problems: Vec<_> = out.problems.iter().map(|p| (p.line, p.lines)).collect();
        assert_eq!(problems, vec![(1, 1), (2, 1), (3, 1), (4, 1), (7, 1)]);
        assert!(out.problems[0].reason.starts_with("invalid JSON: "));
        assert_eq!(
            out.problems[1].reason,
            "expected an audit record with timestamp, class and event"
        );
        assert_eq!(out.problems[3].reason, "expected a JSON object");
        assert_eq!(
            out.problems[4].reason,
            "JSON value not terminated at end of input"
        );
    }

    #[test]
    fn a_2_mb_record_is_read_and_binary_garbage_does_not_panic() {
        let mut big = br#"{"timestamp": "2020-08-21 17:54:08", "class": "general", "event": "status", "connection_id": 3, "general_data": {"query": "SELECT '"#.to_vec();
        big.extend(std::iter::repeat_n(b'x', 2 << 20));
        big.extend_from_slice(b"'\", \"status\": 0}}\n");
        let chunks: Vec<&[u8]> = big.chunks(64 * 1024).collect();
        let out = run_chunks(&chunks);
        assert_eq!(out.problems, vec![]);
        assert_eq!(
            out.events[0].statement.as_deref().unwrap().text.len(),
            (2 << 20) + 9
        );
        let mut seed = 0x5555_aaaa_1234_4321u64;
        let alphabet = b"{}[]\",:\\ \n\xff\x00timestampclass";
        for _ in 0..300 {
            let mut input = Vec::new();
            for _ in 0..300 {
                seed = crate::testutil::xorshift(seed);
                input.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let _ = run(&input);
        }
    }

    #[test]
    fn sniffing() {
        let s = |b: &[u8]| sniff(&Sample::new(b, true));
        assert_eq!(s(PRETTY), 95);
        assert_eq!(s(b"{\"Records\":[{\"eventVersion\":\"1.08\",\"eventTime\":\"2026-11-28T15:41:27Z\"}]}"), 0);
        assert_eq!(
            s(include_bytes!(
                "../../tests/data/mysql/mariadb-server_audit.log"
            )),
            0
        );
    }
}
