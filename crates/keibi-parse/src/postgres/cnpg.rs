//! CloudNativePG: the operator's instance manager reads PostgreSQL's csvlog and writes
//! every report to the pod's standard output as one JSON line,
//! `{"level":"info","ts":..,"logger":"postgres","msg":"record","logging_pod":"pg-1",
//! "record":{"log_time":..,"user_name":..,"message":..}}`, with the csvlog column names
//! as keys; pgaudit's records come as `"logger":"pgaudit"` with the audit fields in
//! `record.audit`. The record is read as csvlog is (same columns, same message reader);
//! the pod (`logging_pod`) is the instance. Lines of the operator's other loggers
//! (`instance-manager`, `wal-archive` ...) are counted and reported once.

use std::borrow::Cow;

use keibi_model::{CompactString, SourceKind};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::jsonlog::{text_of, Int};
use super::message::{add_detail, known, Known, Origin, Report, Sessions};
use super::prefix::{pg_time, TimeCache};
use crate::format::Sample;
use crate::{LineParser, Output, ParseConfig};

/// The envelope the instance manager writes around each line.
#[derive(Deserialize)]
struct Line<'a> {
    level: Option<IgnoredAny>,
    ts: Option<IgnoredAny>,
    #[serde(borrow)]
    logger: Option<Cow<'a, str>>,
    #[serde(borrow)]
    msg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    logging_pod: Option<Cow<'a, str>>,
    #[serde(borrow)]
    record: Option<Record<'a>>,
}

/// One csvlog row, keyed by PostgreSQL's csvlog column names (Supabase calls the
/// time `timestamp`).
#[derive(Deserialize)]
pub(super) struct Record<'a> {
    #[serde(borrow, alias = "timestamp")]
    log_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    database_name: Option<Cow<'a, str>>,
    process_id: Option<Int>,
    #[serde(borrow)]
    connection_from: Option<Cow<'a, str>>,
    #[serde(borrow)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    error_severity: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sql_state_code: Option<Cow<'a, str>>,
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
    query: Option<Cow<'a, str>>,
    #[serde(borrow)]
    application_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    audit: Option<Audit<'a>>,
}

/// pgaudit's CSV fields, which CloudNativePG splits into an object.
#[derive(Deserialize)]
pub(super) struct Audit<'a> {
    #[serde(borrow)]
    audit_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    statement_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    substatement_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    class: Option<Cow<'a, str>>,
    #[serde(borrow)]
    command: Option<Cow<'a, str>>,
    #[serde(borrow)]
    object_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    object_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    statement: Option<Cow<'a, str>>,
}

impl Audit<'_> {
    /// The `AUDIT: ...` message pgaudit itself writes, so the one pgaudit reader reads it.
    fn message(&self) -> String {
        let mut m = String::from("AUDIT: ");
        let fields = [
            &self.audit_type,
            &self.statement_id,
            &self.substatement_id,
            &self.class,
            &self.command,
            &self.object_type,
            &self.object_name,
            &self.statement,
        ];
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                m.push(',');
            }
            let f = f.as_deref().unwrap_or("");
            if f.contains([',', '"', '\n', '\r']) {
                m.push('"');
                m.push_str(&f.replace('"', "\"\""));
                m.push('"');
            } else {
                m.push_str(f);
            }
        }
        m.push_str(",<not logged>");
        m
    }
}

/// Parses one line; invalid UTF-8 is read lossily.
fn with_line<T>(line: &[u8], f: impl FnOnce(Result<Line<'_>, String>) -> T) -> T {
    match serde_json::from_slice::<Line<'_>>(line) {
        Ok(r) => f(Ok(r)),
        Err(e) if std::str::from_utf8(line).is_ok() => f(Err(format!("invalid JSON: {e}"))),
        Err(_) => {
            let s = String::from_utf8_lossy(line);
            f(serde_json::from_str::<Line<'_>>(&s).map_err(|e| format!("invalid JSON: {e}")))
        }
    }
}

/// Whether a line is the instance manager's: a JSON object with `level`, `ts` and a
/// `logger` or `msg`.
fn is_cnpg(line: &[u8]) -> bool {
    line.first() == Some(&b'{')
        && with_line(line, |l| {
            l.is_ok_and(|l| {
                l.level.is_some() && l.ts.is_some() && (l.logger.is_some() || l.msg.is_some())
            })
        })
}

/// How sure (0-100) this format is that the sample is written in it: the share of
/// lines that are the instance manager's JSON, provided one is a PostgreSQL record
/// (a zap logger writes `level`, `ts` and `logger` in many Go programs).
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let record = sample.lines.iter().any(|l| {
        l.first() == Some(&b'{')
            && with_line(l, |l| {
                l.is_ok_and(|l| {
                    l.msg.as_deref() == Some("record")
                        && l.record.is_some_and(|r| r.log_time.is_some())
                })
            })
    });
    if !record {
        return 0;
    }
    sample.share(is_cnpg)
}

/// Reads one record of csvlog's columns (CloudNativePG's `record`, Supabase's
/// `parsed`), with `message` (the record's own, or one its envelope carries) as its
/// message; `what` names the format in problems.
pub(super) fn read_record(
    what: &str,
    origin: &Origin,
    cache: &mut TimeCache,
    r: &Record<'_>,
    message: Option<&str>,
    lineno: u64,
) -> Result<Report, String> {
    let ts = r
        .log_time
        .as_deref()
        .ok_or_else(|| format!("{what} record has no log_time"))?;
    let time = match pg_time(ts.as_bytes(), origin.offset, cache) {
        Some((t, n)) if n == ts.len() => t,
        _ => {
            let shown: String = ts.chars().take(40).collect();
            return Err(format!(
                "{what} log_time '{shown}' is not a time such as 2026-11-28 15:41:27.158 UTC"
            ));
        }
    };
    let message = match (message, &r.audit) {
        (Some(m), _) => m.to_string(),
        (None, Some(a)) => a.message(),
        (None, None) => return Err(format!("{what} record has no message")),
    };
    let mut e = origin.event(time, lineno);
    e.user = text_of(&r.user_name);
    e.database = text_of(&r.database_name);
    e.application = text_of(&r.application_name);
    e.pid = r.process_id.as_ref().and_then(|p| u32::try_from(p.0).ok());
    if let Some(from) = r.connection_from.as_deref() {
        // `host:port`, or `[local]`; an IPv6 host holds colons, the port is after the last.
        match from.rsplit_once(':') {
            Some((host, port)) if !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()) => {
                e.set_client(host);
                e.client_port = port.parse().ok();
            }
            _ => e.set_client(from),
        }
    }
    e.session_id = text_of(&r.session_id);
    e.level = text_of(&r.error_severity);
    e.error_code = text_of(&r.sql_state_code);
    e.message = Some(message);
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
    if let Some(sql) = r.query.as_deref().filter(|q| !q.is_empty()) {
        report.set_statement(sql);
    }
    if r.context.as_deref().is_some_and(|c| !c.is_empty()) {
        report.set_context();
    }
    Ok(report)
}

/// Pods whose sessions are kept apart (process ids repeat across pods); a file with
/// more mixes the rest in one table.
const MAX_PODS: usize = 16;

/// Reads CloudNativePG's JSON lines.
pub struct CnpgParser {
    origin: Origin,
    /// `--instance`, which wins over the pod.
    fixed_instance: bool,
    pods: Vec<(CompactString, Sessions)>,
    others: Sessions,
    cache: TimeCache,
    /// Lines of other loggers, and PostgreSQL's own lines before its log collector.
    skipped: u64,
    first_skipped: u64,
}

impl CnpgParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        CnpgParser {
            origin: Origin::new(cfg, SourceKind::PostgresCsv),
            fixed_instance: cfg.instance.is_some(),
            pods: Vec::new(),
            others: Sessions::new(),
            cache: TimeCache::default(),
            skipped: 0,
            first_skipped: 0,
        }
    }

    fn sessions(&mut self, pod: Option<&str>) -> &mut Sessions {
        let Some(pod) = pod.filter(|p| !p.is_empty()) else {
            return &mut self.others;
        };
        match self.pods.iter().position(|(p, _)| p == pod) {
            Some(i) => &mut self.pods[i].1,
            None if self.pods.len() < MAX_PODS => {
                self.pods.push((pod.into(), Sessions::new()));
                &mut self.pods.last_mut().expect("just pushed").1
            }
            None => &mut self.others,
        }
    }

    fn report(&mut self, r: &Record<'_>, pod: Option<&str>, lineno: u64) -> Result<Report, String> {
        let mut report = read_record(
            "CloudNativePG",
            &self.origin,
            &mut self.cache,
            r,
            r.message.as_deref(),
            lineno,
        )?;
        if !self.fixed_instance {
            if let Some(pod) = pod.and_then(|p| known(p.as_bytes())) {
                report.event.instance = Some(pod);
            }
        }
        Ok(report)
    }

    fn skip(&mut self, lineno: u64) {
        if self.skipped == 0 {
            self.first_skipped = lineno;
        }
        self.skipped += 1;
    }
}

impl LineParser for CnpgParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        if trimmed.first() != Some(&b'{') {
            out.unrecognized(lineno, "expected a CloudNativePG JSON object");
            return;
        }
        type Done = Result<Option<(Report, Option<String>)>, String>;
        let done = with_line(trimmed, |l| -> Done {
            let l = l?;
            let logger = l.logger.as_deref().unwrap_or_default();
            let record = match l.record {
                Some(r)
                    if matches!(logger, "postgres" | "pgaudit")
                        && l.msg.as_deref() == Some("record") =>
                {
                    r
                }
                // The instance manager's own lines, some without a logger.
                _ if l.level.is_some() || l.logger.is_some() => return Ok(None),
                _ => return Err("expected a CloudNativePG line (level, ts, logger)".into()),
            };
            let pod = l.logging_pod.as_deref();
            let report = self.report(&record, pod, lineno)?;
            Ok(Some((report, pod.map(str::to_string))))
        });
        match done {
            Ok(Some((report, pod))) => {
                if let Some(e) = self.sessions(pod.as_deref()).finish(report) {
                    out.event(e);
                }
            }
            Ok(None) => self.skip(lineno),
            Err(reason) => out.unrecognized(lineno, reason),
        }
    }

    fn finish(&mut self, out: &mut Output) {
        if self.skipped > 0 {
            out.warning(
                self.first_skipped,
                format!(
                    "{} lines of CloudNativePG's other loggers (instance manager, WAL archiving, PostgreSQL before its log collector) skipped",
                    self.skipped
                ),
            );
            self.skipped = 0;
        }
    }
}

#[cfg(test)]
mod tests;
