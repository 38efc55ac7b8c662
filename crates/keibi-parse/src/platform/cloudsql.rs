//! Google Cloud SQL logs as Cloud Logging exports them: one `LogEntry` per JSON line (a
//! log sink to Cloud Storage, `gcloud logging read --format=json` as an array, the
//! console's download). `resource.type` is `cloudsql_database`, `resource.labels.
//! database_id` (`project:instance`) names the instance, and the database's own log
//! line is in `textPayload`; the `logName` says which log it is:
//! `cloudsql.googleapis.com%2Fpostgres.log`, `%2Fmysql.err`, `%2Fmysql-general.log`.
//! Each line is handed to the parser of that log, so events are read as the engine's
//! own (`source` `postgres_stderr`, `mysql_error` ...).
//!
//! Cloud SQL for PostgreSQL writes its lines without the time (`[24667]: [1-1]
//! db=app,user=app LOG:  ...`, its `log_line_prefix` is `%m [%p]: [%l-1] db=%d,user=%u `
//! with the time moved to the entry): the entry's `timestamp` is put back in front and
//! the line read with that prefix, so the stderr reader's defences against names that
//! hold a forged prefix apply unchanged.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::streams::Streams;
use crate::cloudtrail::keys::{first_object_keys, has};
use crate::format::Sample;
use crate::jsonsplit::{JsonSplitter, Piece};
use crate::{Format, Output, ParseConfig, Parser, Problem};

/// Largest entry read; Cloud Logging caps an entry at 256 KiB.
const MAX_ENTRY: usize = 8 << 20;

/// The prefix Cloud SQL for PostgreSQL writes, with the time it moves to the entry.
const PG_PREFIX: &str = "%m [%p]: [%l-1] db=%d,user=%u ";

/// How sure (0-100) this format is that the sample is written in it: the first entry
/// has `logName` and `resource`, and the head names Cloud SQL.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let Some(keys) = first_object_keys(sample.head, 64) else {
        return 0;
    };
    if !(has(&keys, "logName") && has(&keys, "resource")) {
        return 0;
    }
    let names = |needle: &[u8]| memchr::memmem::find(sample.head, needle).is_some();
    if names(b"cloudsql.googleapis.com") || names(b"\"cloudsql_database\"") {
        100
    } else {
        0
    }
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(rename = "logName", borrow)]
    log_name: Option<Cow<'a, str>>,
    resource: Option<Resource<'a>>,
    #[serde(rename = "textPayload", borrow)]
    text_payload: Option<Cow<'a, str>>,
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "jsonPayload")]
    json_payload: Option<IgnoredAny>,
    #[serde(rename = "protoPayload")]
    proto_payload: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Resource<'a> {
    #[serde(borrow)]
    labels: Option<Labels<'a>>,
}

#[derive(Deserialize)]
struct Labels<'a> {
    #[serde(borrow)]
    database_id: Option<Cow<'a, str>>,
}

/// The log an entry's `logName` names, after `cloudsql.googleapis.com%2F` (or `/`).
fn log_of(log_name: &str) -> Option<Format> {
    let log = log_name
        .rsplit_once("cloudsql.googleapis.com")
        .map(|(_, l)| l.trim_start_matches("%2F").trim_start_matches("%2f"))
        .map(|l| l.trim_start_matches('/'))?;
    match log {
        "postgres.log" => Some(Format::PostgresStderr),
        "mysql.err" => Some(Format::MysqlError),
        "mysql-general.log" => Some(Format::MysqlGeneral),
        _ => None,
    }
}

/// The entry's time as PostgreSQL's `%m` writes it (`2026-11-28 15:41:27.158 UTC`).
fn pg_time(ts: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(ts).ok()?;
    Some(
        t.with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%S%.3f UTC")
            .to_string(),
    )
}

pub struct CloudSqlParser {
    splitter: JsonSplitter,
    streams: Streams,
    /// Entries of other logs (audit logs, SQL Server, the slow log) or without a text payload.
    skipped: u64,
    first_skipped: u64,
}

impl CloudSqlParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        CloudSqlParser {
            splitter: JsonSplitter::new(MAX_ENTRY),
            streams: Streams::new(cfg),
            skipped: 0,
            first_skipped: 0,
        }
    }

    fn piece(&mut self, p: Piece<'_>, out: &mut Output) {
        match p {
            Piece::Value { bytes, line } | Piece::Outer { bytes, line, .. } => {
                self.entry(bytes, line, out)
            }
            Piece::Skipped { line, lines, why } => out.problems.push(Problem {
                line,
                reason: why.to_string(),
                lines,
            }),
        }
    }

    fn skip(&mut self, line: u64) {
        if self.skipped == 0 {
            self.first_skipped = line;
        }
        self.skipped += 1;
    }

    fn entry(&mut self, bytes: &[u8], line: u64, out: &mut Output) {
        let e = match serde_json::from_slice::<Entry<'_>>(bytes) {
            Ok(e) => e,
            Err(err) => {
                return out.unrecognized(line, format!("invalid Cloud Logging entry: {err}"));
            }
        };
        let Some(log_name) = e.log_name.as_deref() else {
            return out.unrecognized(line, "Cloud Logging entry has no logName");
        };
        let Some(format) = log_of(log_name) else {
            return self.skip(line);
        };
        let Some(text) = e.text_payload.as_deref() else {
            if e.json_payload.is_some() || e.proto_payload.is_some() {
                return self.skip(line);
            }
            return out.unrecognized(line, "Cloud Logging entry has no textPayload");
        };
        let instance = e
            .resource
            .as_ref()
            .and_then(|r| r.labels.as_ref()?.database_id.as_deref())
            .filter(|id| !id.is_empty());
        let label = log_name.rsplit("%2F").next().unwrap_or(log_name);
        let timed = format == Format::PostgresStderr && text.starts_with('[');
        let key = format!("{log_name}\n{}", instance.unwrap_or_default());
        let prefix = (format == Format::PostgresStderr).then_some(PG_PREFIX);
        let time = if timed {
            match e.timestamp.as_deref().and_then(pg_time) {
                Some(t) => Some(t),
                None => {
                    return out.unrecognized(
                        line,
                        "Cloud Logging entry has no RFC 3339 timestamp for its time-less line",
                    )
                }
            }
        } else {
            None
        };
        let mut first = true;
        self.streams.message(
            &key,
            label,
            format,
            prefix,
            instance,
            line,
            out,
            |p, scratch| {
                for l in text.split('\n') {
                    let l = l.strip_suffix('\r').unwrap_or(l);
                    match (&time, first) {
                        (Some(t), true) => {
                            let mut stamped = String::with_capacity(t.len() + 1 + l.len());
                            stamped.push_str(t);
                            stamped.push(' ');
                            stamped.push_str(l);
                            p.line(stamped.as_bytes(), line, scratch);
                        }
                        _ => p.line(l.as_bytes(), line, scratch),
                    }
                    first = false;
                }
            },
        );
    }
}

impl Parser for CloudSqlParser {
    fn push(&mut self, chunk: &[u8], out: &mut Output) {
        let mut splitter = std::mem::replace(&mut self.splitter, JsonSplitter::new(0));
        splitter.push(chunk, &mut |p| self.piece(p, out));
        self.splitter = splitter;
    }

    fn finish(&mut self, out: &mut Output) {
        let mut splitter = std::mem::replace(&mut self.splitter, JsonSplitter::new(0));
        splitter.finish(&mut |p| self.piece(p, out));
        self.splitter = splitter;
        self.streams.finish(out);
        if self.skipped > 0 {
            out.warning(
                self.first_skipped,
                format!(
                    "{} Cloud Logging entries of other logs (audit, slow query, SQL Server) or without a textPayload skipped",
                    self.skipped
                ),
            );
            self.skipped = 0;
        }
    }
}

#[cfg(test)]
mod tests;
