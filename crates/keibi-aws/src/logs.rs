//! Reading RDS logs exported to CloudWatch Logs: a log group
//! (`/aws/rds/instance/<id>/<type>`, `/aws/rds/cluster/<id>/<type>`) read with
//! FilterLogEvents (awsJson1.1, `Logs_20140328.FilterLogEvents`), paged by
//! `nextToken`, between a start and an end time. Each log stream's messages are its
//! lines, in the order CloudWatch returns them (by time), handed to the same parsers
//! as a local file with the stream as the file's name.
//!
//! Answers are untrusted: each page by the signed client's bound, the whole read by
//! [`MAX_BYTES`] and [`MAX_EVENTS`], the pages by [`MAX_PAGES`].

use std::collections::BTreeMap;

use keibi_notify::text::{clip, one_line};
use serde_json::{json, Value};

use crate::signed::{CallError, Client};

/// Bytes of messages one read keeps at most.
pub const MAX_BYTES: usize = 512 << 20;
/// Events one read keeps at most.
pub const MAX_EVENTS: usize = 5_000_000;
/// Pages one read asks for at most (a page that says there is more but holds
/// nothing, repeated, must not loop for ever).
pub const MAX_PAGES: usize = 100_000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LogsError {
    #[error("{0}")]
    Url(String),
    #[error("CloudWatch Logs: {0}")]
    Call(#[from] CallError),
    #[error("CloudWatch Logs: {0}")]
    Setup(String),
    #[error("CloudWatch Logs: log group {group} holds more than {what} in the time asked: give --since/--until")]
    TooMuch { group: String, what: String },
}

/// The log group `cloudwatch://<log-group>` names: `cloudwatch:///aws/rds/…` is
/// `/aws/rds/…`.
pub fn parse_url(url: &str) -> Result<String, LogsError> {
    let shown = || clip(&one_line(url), 200, "…");
    let group = url
        .strip_prefix("cloudwatch://")
        .ok_or_else(|| LogsError::Url(format!("{:?} is not a cloudwatch:// URL", shown())))?;
    // CloudWatch's rule: 1 to 512 of letters, digits, _ - / . # and a few more.
    let ok = !group.is_empty()
        && group.len() <= 512
        && group
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-/.#+=@".contains(&b));
    if !ok {
        return Err(LogsError::Url(format!(
            "{:?}: not a log group name",
            shown()
        )));
    }
    Ok(group.to_string())
}

/// The RDS instance or cluster a log group is of (`/aws/rds/instance/db1/postgresql`
/// is `db1`).
pub fn instance_of(group: &str) -> Option<String> {
    let rest = group
        .strip_prefix("/aws/rds/instance/")
        .or_else(|| group.strip_prefix("/aws/rds/cluster/"))?;
    let id = rest.split('/').next()?;
    (!id.is_empty()).then(|| id.to_string())
}

/// One log stream's messages read, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stream {
    pub name: String,
    /// The messages, each ending with a newline.
    pub text: Vec<u8>,
    pub events: usize,
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub stream: String,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub id: String,
    pub message: String,
}

/// A blocking CloudWatch Logs reader.
pub struct LogsReader {
    rt: tokio::runtime::Runtime,
    client: Client,
    region: String,
}

/// Where and how to call CloudWatch Logs.
pub type LogsOptions = crate::s3::S3Options;

impl LogsReader {
    pub fn new(opts: &LogsOptions) -> Result<LogsReader, LogsError> {
        use crate::s3::{ConnectError, Connected};
        let Connected { rt, client, region } =
            opts.connect("the log group").map_err(|e| match e {
                ConnectError::Setup(s) => LogsError::Setup(s),
                ConnectError::Call(e) => e.into(),
            })?;
        Ok(LogsReader { rt, client, region })
    }

    /// Every event of `group` from `start` (milliseconds since the epoch, inclusive)
    /// to `end` (exclusive), by stream, streams by name.
    pub fn read(
        &self,
        group: &str,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Vec<Stream>, LogsError> {
        let mut streams: BTreeMap<String, Stream> = BTreeMap::new();
        for e in self.events(group, start, end)? {
            let s = streams.entry(e.stream.clone()).or_insert_with(|| Stream {
                name: e.stream.clone(),
                ..Stream::default()
            });
            s.text.extend_from_slice(e.message.as_bytes());
            if !e.message.ends_with('\n') {
                s.text.push(b'\n');
            }
            s.events += 1;
        }
        Ok(streams.into_values().collect())
    }

    /// Every event of `group` from `start` to `end`, as FilterLogEvents returns
    /// them (by time).
    pub fn events(
        &self,
        group: &str,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Vec<Event>, LogsError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut bytes = 0usize;
        let mut events = 0usize;
        for _ in 0..MAX_PAGES {
            let mut input = json!({ "logGroupName": group, "limit": 10000 });
            if let Some(s) = start {
                input["startTime"] = json!(s.max(0));
            }
            if let Some(e) = end {
                input["endTime"] = json!(e.max(0));
            }
            if let Some(t) = &token {
                input["nextToken"] = json!(t);
            }
            let page = self.rt.block_on(self.client.json11(
                "logs",
                &self.region,
                "Logs_20140328.FilterLogEvents",
                &input,
            ))?;
            let Some(list) = page.get("events") else {
                return Err(CallError::Answer(
                    "FilterLogEvents: an answer without its events".into(),
                )
                .into());
            };
            for e in list.as_array().into_iter().flatten() {
                let (Some(stream), Some(message)) = (
                    e.get("logStreamName").and_then(Value::as_str),
                    e.get("message").and_then(Value::as_str),
                ) else {
                    continue;
                };
                bytes += message.len() + 1;
                events += 1;
                out.push(Event {
                    stream: stream.to_string(),
                    timestamp: e.get("timestamp").and_then(Value::as_i64).unwrap_or(0),
                    id: e
                        .get("eventId")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    message: message.to_string(),
                });
            }
            if bytes > MAX_BYTES || events > MAX_EVENTS {
                return Err(LogsError::TooMuch {
                    group: group.to_string(),
                    what: format!("{} MiB or {MAX_EVENTS} events", MAX_BYTES >> 20),
                });
            }
            match page.get("nextToken").and_then(Value::as_str) {
                Some(t) if !t.is_empty() && Some(t) != token.as_deref() => {
                    token = Some(t.to_string())
                }
                _ => return Ok(out),
            }
        }
        Err(LogsError::TooMuch {
            group: group.to_string(),
            what: format!("{MAX_PAGES} pages"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_instances() {
        assert_eq!(
            parse_url("cloudwatch:///aws/rds/instance/db1/postgresql").unwrap(),
            "/aws/rds/instance/db1/postgresql"
        );
        assert!(parse_url("cloudwatch://").is_err());
        assert!(parse_url("cloudwatch:///a b").is_err());
        assert!(parse_url("s3://x").is_err());
        assert_eq!(
            instance_of("/aws/rds/instance/db1/postgresql").as_deref(),
            Some("db1")
        );
        assert_eq!(
            instance_of("/aws/rds/cluster/aurora-1/audit").as_deref(),
            Some("aurora-1")
        );
        assert_eq!(instance_of("/app/logs"), None);
    }
}
