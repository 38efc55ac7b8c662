//! CloudTrail's event history, for accounts with no trail: LookupEvents
//! (awsJson1.1, `CloudTrail_20131101.LookupEvents`) between a start and an end time,
//! paged by `NextToken` (50 events a page), optionally narrowed by one lookup
//! attribute (`EventSource=rds.amazonaws.com`). Each event's `CloudTrailEvent` is
//! the full CloudTrail record: it is handed on as one line of JSON, so the records
//! read exactly as a trail file's.
//!
//! The history answers newest first; events are handed out oldest first. AWS allows
//! 2 LookupEvents calls a second per account and region: a reader spaces its calls
//! by [`CALL_SPACING`] (and the signed client retries a `ThrottlingException`).
//!
//! Answers are untrusted: each page by the signed client's bound, a read by
//! [`MAX_BYTES`] and [`MAX_EVENTS`], the pages by [`MAX_PAGES`]; an event whose
//! record is not a JSON object is skipped.

use std::time::{Duration, Instant};

use keibi_notify::text::{clip, one_line};
use serde_json::{json, Value};

use crate::signed::{CallError, Client};

/// The X-Amz-Target of LookupEvents.
pub const TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents";
/// Time from one call's answer to the next call of one reader: AWS allows 2 calls
/// a second per account and region.
pub const CALL_SPACING: Duration = Duration::from_millis(500);
/// Bytes of records one read keeps at most.
pub const MAX_BYTES: usize = 512 << 20;
/// Events one read keeps at most.
pub const MAX_EVENTS: usize = 2_000_000;
/// Pages one read asks for at most.
pub const MAX_PAGES: usize = 100_000;
/// Pages in a row without an event one read accepts (an endpoint that keeps
/// answering a new NextToken with nothing must not hold a read for hours).
pub const MAX_EMPTY_PAGES: usize = 20;

/// The attribute keys LookupEvents accepts.
const KEYS: &[&str] = &[
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
];

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LookupError {
    #[error("{0}")]
    Url(String),
    #[error("CloudTrail event history: {0}")]
    Call(#[from] CallError),
    #[error("CloudTrail event history: {0}")]
    Setup(String),
    #[error("CloudTrail event history of {region} holds more than {what} in the time asked: give --since/--until")]
    TooMuch { region: String, what: String },
}

/// What `cloudtrail-history://<region>[?<AttributeKey>=<value>]` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryUrl {
    pub region: String,
    /// One lookup attribute (LookupEvents takes at most one).
    pub attribute: Option<(String, String)>,
}

impl std::fmt::Display for HistoryUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cloudtrail-history://{}", self.region)?;
        if let Some((k, v)) = &self.attribute {
            write!(f, "?{k}={v}")?;
        }
        Ok(())
    }
}

/// Reads `cloudtrail-history://us-east-1` or
/// `cloudtrail-history://us-east-1?EventSource=rds.amazonaws.com`.
pub fn parse_url(url: &str) -> Result<HistoryUrl, LookupError> {
    let shown = || clip(&one_line(url), 200, "…");
    let rest = url.strip_prefix("cloudtrail-history://").ok_or_else(|| {
        LookupError::Url(format!("{:?} is not a cloudtrail-history:// URL", shown()))
    })?;
    let (region, query) = match rest.split_once('?') {
        Some((r, q)) => (r.trim_end_matches('/'), Some(q)),
        None => (rest.trim_end_matches('/'), None),
    };
    if !crate::signed::is_region(region) {
        return Err(LookupError::Url(format!(
            "{:?}: cloudtrail-history://<region> names an AWS region",
            shown()
        )));
    }
    let attribute = match query {
        None | Some("") => None,
        Some(q) => {
            let (k, v) = q.split_once('=').unwrap_or((q, ""));
            if !KEYS.contains(&k) || v.is_empty() || v.len() > 2000 || v.contains('&') {
                return Err(LookupError::Url(format!(
                    "{:?}: the query is one lookup attribute, KEY=VALUE with KEY one of {}",
                    shown(),
                    KEYS.join(", ")
                )));
            }
            Some((k.to_string(), v.to_string()))
        }
    };
    Ok(HistoryUrl {
        region: region.to_string(),
        attribute,
    })
}

/// One event of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEvent {
    /// Milliseconds since the epoch (the history's `EventTime`).
    pub timestamp: i64,
    pub id: String,
    /// The CloudTrail record, one line of JSON.
    pub record: String,
}

/// Where and how to call CloudTrail.
pub type LookupOptions = crate::s3::S3Options;

/// A blocking reader of one region's event history.
pub struct HistoryReader {
    rt: tokio::runtime::Runtime,
    client: Client,
    last_call: Option<Instant>,
    /// Calls made (pages asked for), for reports and tests.
    pub calls: usize,
}

impl HistoryReader {
    pub fn new(opts: &LookupOptions) -> Result<HistoryReader, LookupError> {
        let rt = crate::config::runtime().map_err(|e| {
            LookupError::Setup(format!("cannot start the AWS client's runtime: {e}"))
        })?;
        let timeout = if opts.timeout.is_zero() {
            Duration::from_secs(30)
        } else {
            opts.timeout
        };
        let conf = rt.block_on(crate::config::load_with_profile(
            opts.region.clone(),
            opts.endpoint_url.clone(),
            opts.profile.clone(),
            timeout,
        ));
        let creds = conf
            .credentials_provider()
            .ok_or_else(|| LookupError::Setup("no AWS credentials provider".into()))?;
        let creds = opts
            .signing(creds, conf.region().map(|r| r.as_ref()), timeout)
            .map_err(LookupError::Setup)?;
        let client = Client::new(creds, opts.endpoint_url.as_deref(), timeout)?;
        Ok(HistoryReader {
            rt,
            client,
            last_call: None,
            calls: 0,
        })
    }

    /// Every event of the history `url` names from `start` (milliseconds since the
    /// epoch, inclusive, rounded down to the second the history keeps) to `end`,
    /// oldest first (events of one second in the order the history gives them,
    /// reversed).
    pub fn events(
        &mut self,
        url: &HistoryUrl,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Vec<HistoryEvent>, LookupError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut bytes = 0usize;
        let mut empty = 0usize;
        for _ in 0..MAX_PAGES {
            let mut input = json!({ "MaxResults": 50 });
            if let Some(s) = start {
                input["StartTime"] = json!(s.max(0).div_euclid(1000));
            }
            if let Some(e) = end {
                input["EndTime"] = json!(e.max(0).div_euclid(1000));
            }
            if let Some((k, v)) = &url.attribute {
                input["LookupAttributes"] = json!([{ "AttributeKey": k, "AttributeValue": v }]);
            }
            if let Some(t) = &token {
                input["NextToken"] = json!(t);
            }
            if let Some(last) = self.last_call {
                let wait = CALL_SPACING.saturating_sub(last.elapsed());
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
            }
            self.calls += 1;
            let page =
                self.rt.block_on(
                    self.client
                        .json11("cloudtrail", &url.region, TARGET, &input),
                );
            // Spaced from the answer, not the request: two calls never reach AWS
            // within a second of each other, whatever the network's delays.
            self.last_call = Some(Instant::now());
            let page = page?;
            let list = page
                .get("Events")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    CallError::Answer("LookupEvents: an answer without its Events".into())
                })?;
            if list.is_empty() {
                empty += 1;
                if empty > MAX_EMPTY_PAGES {
                    return Err(LookupError::TooMuch {
                        region: url.region.clone(),
                        what: format!("{MAX_EMPTY_PAGES} pages in a row without an event"),
                    });
                }
            } else {
                empty = 0;
            }
            for e in list {
                let Some(ev) = event_of(e) else { continue };
                bytes += ev.record.len() + 1;
                out.push(ev);
            }
            if bytes > MAX_BYTES || out.len() > MAX_EVENTS {
                return Err(LookupError::TooMuch {
                    region: url.region.clone(),
                    what: format!("{} MiB or {MAX_EVENTS} events", MAX_BYTES >> 20),
                });
            }
            match page.get("NextToken").and_then(Value::as_str) {
                Some(t) if !t.is_empty() && Some(t) != token.as_deref() => {
                    token = Some(t.to_string())
                }
                _ => {
                    out.reverse();
                    // Newest first as asked; a history that is not stays in time order.
                    out.sort_by_key(|e| e.timestamp);
                    return Ok(out);
                }
            }
        }
        Err(LookupError::TooMuch {
            region: url.region.clone(),
            what: format!("{MAX_PAGES} pages"),
        })
    }
}

/// An event of a LookupEvents page, or `None` when it has no id or its record is
/// not a JSON object. The record is written again as one line, so a record can
/// never become two.
pub fn event_of(e: &Value) -> Option<HistoryEvent> {
    let id = e.get("EventId").and_then(Value::as_str)?;
    let text = e.get("CloudTrailEvent").and_then(Value::as_str)?;
    let record: Value = serde_json::from_str(text).ok()?;
    if !record.is_object() || id.is_empty() || id.len() > 256 {
        return None;
    }
    // EventTime is epoch seconds (awsJson's timestamps), possibly with a fraction.
    let timestamp = match e.get("EventTime") {
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|f| f.is_finite() && (0.0..1e11).contains(f))
            .map(|f| (f * 1000.0) as i64)
            .unwrap_or(0),
        _ => 0,
    };
    let timestamp = if timestamp == 0 {
        record
            .get("eventTime")
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())
            .unwrap_or(0)
    } else {
        timestamp
    };
    Some(HistoryEvent {
        timestamp,
        id: id.to_string(),
        record: record.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("cloudtrail-history://us-east-1").unwrap(),
            HistoryUrl {
                region: "us-east-1".into(),
                attribute: None
            }
        );
        let u = parse_url("cloudtrail-history://ap-northeast-1/?EventSource=rds.amazonaws.com")
            .unwrap();
        assert_eq!(
            u.attribute,
            Some(("EventSource".into(), "rds.amazonaws.com".into()))
        );
        assert_eq!(
            u.to_string(),
            "cloudtrail-history://ap-northeast-1?EventSource=rds.amazonaws.com"
        );
        for bad in [
            "cloudtrail-history://",
            "cloudtrail-history://not a region",
            "cloudtrail-history://us-east-1?Bogus=x",
            "cloudtrail-history://us-east-1?EventSource=",
            "cloudtrail-history://us-east-1?EventSource=a&EventName=b",
            "s3://x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn events_of_hostile_pages() {
        let rec = r#"{"eventTime":"2026-11-28T09:05:00Z","eventID":"e1","eventName":"X"}"#;
        let e = event_of(&json!({"EventId":"e1","EventTime":1795856700.5,"CloudTrailEvent":rec}))
            .unwrap();
        assert_eq!(e.timestamp, 1_795_856_700_500);
        assert!(!e.record.contains('\n'));
        // No EventTime: the record's own time.
        let e = event_of(&json!({"EventId":"e1","CloudTrailEvent":rec})).unwrap();
        assert_eq!(e.timestamp, 1_795_856_700_000);
        // A record with a newline inside (pretty-printed) is still one line.
        let pretty = "{\n\"eventID\": \"e2\",\n\"eventName\": \"Y\"\n}";
        let e =
            event_of(&json!({"EventId":"e2","EventTime":"x","CloudTrailEvent":pretty})).unwrap();
        assert_eq!(e.record.lines().count(), 1);
        assert_eq!(e.timestamp, 0);
        for bad in [
            json!({"EventId":"e","CloudTrailEvent":"[1,2]"}),
            json!({"EventId":"e","CloudTrailEvent":"{\"a\":1}\n{\"b\":2}"}),
            json!({"EventId":"e","CloudTrailEvent":42}),
            json!({"CloudTrailEvent":rec}),
            json!({"EventId":"","CloudTrailEvent":rec}),
            json!({"EventId":"e","EventTime":1e300,"CloudTrailEvent":"{"}),
            json!("x"),
        ] {
            assert_eq!(event_of(&bad), None, "{bad}");
        }
        let e = event_of(&json!({"EventId":"e","EventTime":-5,"CloudTrailEvent":rec})).unwrap();
        assert_eq!(e.timestamp, 1_795_856_700_000);
    }
}
