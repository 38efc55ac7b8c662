//! PostgreSQL jsonlog (15+): one JSON object per report, keys omitted when empty.
//! Read into a typed struct borrowing from the line, so most strings are not copied
//! twice.

use std::borrow::Cow;
use std::fmt;

use keibi_model::{CompactString, SourceKind};
use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::Deserialize;

use super::message::{add_detail, known, Known, Origin, Report, Sessions};
use super::prefix::{pg_time, TimeCache};
use crate::format::Sample;
use crate::{LineParser, Output, ParseConfig};

/// The keys keibi reads (`src/backend/utils/error/jsonlog.c`); others are skipped.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user: Option<Cow<'a, str>>,
    #[serde(borrow)]
    dbname: Option<Cow<'a, str>>,
    pid: Option<Int>,
    #[serde(borrow)]
    remote_host: Option<Cow<'a, str>>,
    remote_port: Option<Int>,
    #[serde(borrow)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    error_severity: Option<Cow<'a, str>>,
    #[serde(borrow)]
    state_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow)]
    detail: Option<Cow<'a, str>>,
    #[serde(borrow)]
    hint: Option<Cow<'a, str>>,
    #[serde(borrow)]
    internal_query: Option<Cow<'a, str>>,
    #[serde(borrow)]
    context: Option<Cow<'a, str>>,
    #[serde(borrow)]
    statement: Option<Cow<'a, str>>,
    #[serde(borrow)]
    application_name: Option<Cow<'a, str>>,
}

/// An integer PostgreSQL writes as a JSON number; a string holding one is accepted too.
pub(super) struct Int(pub(super) i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                i64::try_from(v)
                    .map(Int)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
                Err(E::invalid_value(Unexpected::Float(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Int, E> {
                v.trim()
                    .parse()
                    .map(Int)
                    .map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

pub(super) fn text_of(v: &Option<Cow<'_, str>>) -> Option<CompactString> {
    v.as_deref().and_then(|s| known(s.as_bytes()))
}

/// Parses one line; invalid UTF-8 (a server encoding other than UTF-8) is read lossily.
fn with_record<T>(line: &[u8], f: impl FnOnce(Result<Record<'_>, String>) -> T) -> T {
    match serde_json::from_slice::<Record<'_>>(line) {
        Ok(r) => f(Ok(r)),
        Err(e) if std::str::from_utf8(line).is_ok() => f(Err(format!("invalid JSON: {e}"))),
        Err(_) => {
            let s = String::from_utf8_lossy(line);
            f(serde_json::from_str::<Record<'_>>(&s).map_err(|e| format!("invalid JSON: {e}")))
        }
    }
}

/// How sure (0-100) this format is that the sample is written in it: the share of
/// lines that are JSON objects with `timestamp`, `error_severity` and `message`.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    sample.share(|line| {
        line.first() == Some(&b'{')
            && with_record(line, |r| {
                r.is_ok_and(|r| {
                    r.timestamp.is_some() && r.error_severity.is_some() && r.message.is_some()
                })
            })
    })
}

/// Reads jsonlog lines.
pub struct JsonlogParser {
    origin: Origin,
    sessions: Sessions,
    cache: TimeCache,
}

impl JsonlogParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        JsonlogParser {
            origin: Origin::new(cfg, SourceKind::PostgresJson),
            sessions: Sessions::new(),
            cache: TimeCache::default(),
        }
    }

    fn report(&mut self, r: Record<'_>, lineno: u64) -> Result<Report, String> {
        let ts = r
            .timestamp
            .as_deref()
            .ok_or("jsonlog record has no timestamp")?;
        let message = r
            .message
            .as_deref()
            .ok_or("jsonlog record has no message")?;
        let time = match pg_time(ts.as_bytes(), self.origin.offset, &mut self.cache) {
            Some((t, n)) if n == ts.len() => t,
            _ => {
                let shown: String = ts.chars().take(40).collect();
                return Err(format!(
                    "jsonlog timestamp '{shown}' is not a time such as 2026-11-28 15:41:27.158 UTC"
                ));
            }
        };
        let mut e = self.origin.event(time, lineno);
        e.user = text_of(&r.user);
        e.database = text_of(&r.dbname);
        e.application = text_of(&r.application_name);
        e.pid = r.pid.and_then(|p| u32::try_from(p.0).ok());
        if let Some(h) = r.remote_host.as_deref() {
            e.set_client(h);
        }
        e.client_port = r.remote_port.and_then(|p| u16::try_from(p.0).ok());
        e.session_id = text_of(&r.session_id);
        e.level = text_of(&r.error_severity);
        e.error_code = text_of(&r.state_code);
        e.message = Some(message.to_string());
        for (v, label) in [
            (&r.detail, ""),
            (&r.hint, "HINT: "),
            (&r.internal_query, "QUERY: "),
            (&r.context, "CONTEXT: "),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                add_detail(&mut e, label, v);
            }
        }
        let mut report = Report::new(e);
        report.known = Known::ALL;
        if let Some(sql) = r.statement.as_deref() {
            report.set_statement(sql);
        }
        if r.context.as_deref().is_some_and(|c| !c.is_empty()) {
            report.set_context();
        }
        Ok(report)
    }
}

impl LineParser for JsonlogParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        if trimmed.first() != Some(&b'{') {
            out.unrecognized(lineno, "expected a jsonlog JSON object");
            return;
        }
        let report = with_record(trimmed, |r| r.and_then(|r| self.report(r, lineno)));
        match report {
            Ok(r) => {
                if let Some(e) = self.sessions.finish(r) {
                    out.event(e);
                }
            }
            Err(reason) => out.unrecognized(lineno, reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::parse_bytes;
    use crate::Format;
    use keibi_model::event::StatementClass;
    use keibi_model::Action;

    const SAMPLE: &[u8] = include_bytes!("../../tests/data/postgres/postgresql-jsonlog.json");

    fn parse(bytes: &[u8]) -> Output {
        let cfg = ParseConfig::new("postgresql.json");
        let out = parse_bytes(Format::PostgresJson, &cfg, bytes, 4096);
        let small = parse_bytes(Format::PostgresJson, &cfg, bytes, 11);
        assert_eq!(out.events, small.events);
        out
    }

    #[test]
    fn real_sample() {
        let out = parse(SAMPLE);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let a: Vec<Action> = out.events.iter().map(|e| e.action).collect();
        use Action::*;
        // `connection authenticated` (line 7) informs the login after it: no event.
        assert_eq!(
            a,
            vec![
                Other,
                Other,
                Other,
                Other,
                Other,
                ConnectionReceived,
                LoginSuccess,
                Statement,
                Disconnect,
                ConnectionReceived,
                LoginFailure
            ]
        );
        let e = &out.events[0];
        assert_eq!(e.time.to_rfc3339(), "2026-11-28T15:41:27.158+00:00");
        assert_eq!(e.session_id.as_deref(), Some("6b0af627.1782"));
        assert_eq!(e.pid, Some(6018));
        assert_eq!(e.level.as_deref(), Some("LOG"));
        let ok = &out.events[6];
        assert_eq!(ok.line, 8);
        assert_eq!(ok.user.as_deref(), Some("app"));
        assert_eq!(ok.auth_method.as_deref(), Some("scram-sha-256"));
        assert_eq!(ok.client_port, Some(34342));
        let st = out.events[7].statement.as_deref().unwrap();
        assert_eq!(st.text, "SELECT count(*) FROM customers");
        assert_eq!(st.class, Some(StatementClass::Read));
        assert_eq!(out.events[7].application.as_deref(), Some("psql"));
        let f = &out.events[10];
        assert_eq!(f.error_code.as_deref(), Some("28P01"));
        assert_eq!(f.client_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(f.auth_method.as_deref(), Some("scram-sha-256"));
        assert!(f
            .detail
            .as_deref()
            .unwrap()
            .starts_with("Connection matched"));
    }

    #[test]
    fn missing_keys_bad_json_and_odd_values() {
        let out = parse(concat!(
            "{\"pid\":1,\"message\":\"x\"}\n",
            "{\"timestamp\":\"2026-11-28 15:41:27.158 UTC\",\"pid\":1}\n",
            "{\"timestamp\":\"yesterday\",\"message\":\"x\"}\n",
            "{\"timestamp\":\"2026-11-28 15:41:27.158 UTC\",\"message\":\n",
            "plain text\n",
            "\n",
            "{\"timestamp\":\"2026-11-28 15:41:27 JST\",\"pid\":\"77\",\"remote_host\":\"[local]\",\"remote_port\":99999999,\"message\":\"statement: select 1\",\"error_severity\":\"LOG\",\"user\":\"[unknown]\",\"extra\":{\"nested\":[1,2]}}\n",
            "{\"timestamp\":\"2026-11-28 15:41:27.158 UTC\",\"error_severity\":\"ERROR\",\"state_code\":\"42601\",\"message\":\"syntax error\",\"statement\":\"selec 1\",\"context\":\"SQL function\",\"hint\":\"h\"}\n",
        ).as_bytes());
        let reasons: Vec<(u64, &str)> = out
            .problems
            .iter()
            .map(|p| (p.line, p.reason.as_str()))
            .collect();
        assert_eq!(reasons[0], (1, "jsonlog record has no timestamp"));
        assert_eq!(reasons[1], (2, "jsonlog record has no message"));
        assert_eq!(reasons[2].0, 3);
        assert!(reasons[2].1.contains("'yesterday'"));
        assert_eq!(reasons[3].0, 4);
        assert!(reasons[3].1.starts_with("invalid JSON: "));
        assert_eq!(reasons[4], (5, "expected a jsonlog JSON object"));
        assert_eq!(out.problems.len(), 5);
        let e = &out.events[0];
        assert_eq!(e.pid, Some(77));
        assert_eq!(e.client_host.as_deref(), Some("[local]"));
        assert_eq!(e.client_port, None);
        assert_eq!(e.user, None);
        assert_eq!(e.time.to_rfc3339(), "2026-11-28T06:41:27+00:00");
        assert_eq!(e.action, Action::Statement);
        let e = &out.events[1];
        assert_eq!(e.action, Action::Other);
        assert_eq!(e.statement.as_deref().unwrap().text, "selec 1");
        assert_eq!(e.detail.as_deref(), Some("HINT: h\nCONTEXT: SQL function"));
        assert_eq!(e.error_code.as_deref(), Some("42601"));
    }

    #[test]
    fn invalid_utf8_is_read_lossily() {
        let mut line = b"{\"timestamp\":\"2026-11-28 15:41:27.158 UTC\",\"error_severity\":\"FATAL\",\"message\":\"role \\\"".to_vec();
        line.extend_from_slice(b"\xff\xfe");
        line.extend_from_slice(b"\\\" does not exist\"}\n");
        let out = parse(&line);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.events[0].action, Action::LoginFailure);
        assert_eq!(out.events[0].user.as_deref(), Some("\u{fffd}\u{fffd}"));
    }

    #[test]
    fn sniff_claims_jsonlog_only() {
        let s = |b: &[u8]| sniff(&Sample::new(b, true));
        assert_eq!(s(SAMPLE), 100);
        assert_eq!(
            s(b"{\"timestamp\": \"2019-10-03 13:50:01\", \"id\": 0, \"class\": \"audit\"}\n"),
            0
        );
        assert_eq!(s(b"{\"Records\":[]}\n"), 0);
        assert_eq!(
            s(b"2026-11-28 15:41:22 UTC:1.2.3.4(5):a@b:[1]:LOG:  x\n"),
            0
        );
    }
}
