//! S3 event notifications through an SQS queue, so a daemon reading a trail bucket
//! sees a new object within a second or two instead of at its next listing.
//!
//! The queue is long-polled with ReceiveMessage (up to 10 messages, waiting up to
//! 20 s) and emptied with DeleteMessageBatch, both in SQS's JSON protocol
//! (`x-amz-json-1.0`, `X-Amz-Target: AmazonSQS.<Action>`, a POST to the regional
//! endpoint with the queue's URL in the body): the protocol AWS's current SDKs
//! speak, which moto server answers as well. Calls are signed by
//! [`crate::signed`].
//!
//! A message body is what S3 sends (`Records[].s3.bucket.name`,
//! `Records[].s3.object.key` URL-encoded with `+` for a space, `eventName`
//! `ObjectCreated:*`), the `s3:TestEvent` S3 sends when the configuration is saved,
//! or either of these wrapped by SNS (`Type: Notification`, the S3 message a JSON
//! string in `Message`). Bodies are untrusted: their size, their record count and
//! each key's length are bounded, and nothing in them is ever a URL to call.

use std::sync::Mutex;
use std::time::Duration;

use keibi_notify::text::{clip, one_line};
use serde_json::{json, Value};

use crate::s3::S3Options;
use crate::signed::{is_region, CallError, Client};

/// The longest wait of one ReceiveMessage (SQS's own maximum).
pub const MAX_WAIT: u32 = 20;
/// Messages one ReceiveMessage returns at most (SQS's own maximum).
pub const MAX_MESSAGES: u32 = 10;
/// Records of one message looked at (S3 sends one per message).
const MAX_RECORDS: usize = 100;
/// The longest message body read (SQS allows 1 MiB).
const MAX_BODY: usize = 1 << 20;

/// Why a queue could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SqsError {
    #[error("{0}")]
    Url(String),
    #[error("SQS: {0}")]
    Call(#[from] CallError),
    #[error("SQS: {0}")]
    Setup(String),
}

/// A queue's URL and the region its URL names (`https://sqs.<region>.amazonaws.com/
/// <account>/<name>`, or the legacy `https://<region>.queue.amazonaws.com/…`;
/// `None` for another host, moto's or a VPC endpoint's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrl {
    pub url: String,
    pub region: Option<String>,
}

/// Reads a queue URL: http(s), a host, and a path of the account and the queue's
/// name.
pub fn parse_queue_url(url: &str) -> Result<QueueUrl, SqsError> {
    let shown = || clip(&one_line(url), 200, "…");
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| SqsError::Url(format!("{:?} is not a queue URL: {e}", shown())))?;
    let host = parsed.host_str().unwrap_or_default().to_string();
    let segments: Vec<&str> = parsed
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    if !matches!(parsed.scheme(), "http" | "https")
        || host.is_empty()
        || segments.len() != 2
        || url.len() > 1024
        || parsed.query().is_some()
    {
        return Err(SqsError::Url(format!(
            "{:?} is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>)",
            shown()
        )));
    }
    let region = host
        .strip_prefix("sqs.")
        .and_then(|h| h.split_once(".amazonaws.com"))
        .map(|(r, _)| r.to_string())
        .or_else(|| {
            host.split_once(".queue.amazonaws.com")
                .map(|(r, _)| r.to_string())
        })
        .filter(|r| is_region(r));
    Ok(QueueUrl {
        url: parsed.to_string(),
        region,
    })
}

/// One message received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub receipt: String,
    pub body: String,
}

/// What a message asks of a source reading `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notified {
    /// Objects created under the prefix, decoded, in the message's order.
    pub keys: Vec<String>,
    /// Why parts of it are not read (another bucket, outside the prefix, a body
    /// that is not an S3 notification): each one a warning, the message still
    /// deleted.
    pub problems: Vec<String>,
    /// S3's `s3:TestEvent` (or a record that is not a creation): nothing to read,
    /// nothing wrong.
    pub ignored: usize,
}

/// Reads a message body as S3 sends it (directly, or wrapped by SNS), keeping the
/// created objects of `bucket` under `prefix`.
pub fn parse_body(body: &str, bucket: &str, prefix: &str) -> Notified {
    let mut out = Notified::default();
    if body.len() > MAX_BODY {
        out.problems
            .push(format!("a message of {} bytes, not read", body.len()));
        return out;
    }
    let mut v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => {
            out.problems
                .push(format!("a message that is not JSON ({e}), not read"));
            return out;
        }
    };
    // SNS's envelope: the S3 message is a JSON string in `Message`.
    if v["Type"].as_str() == Some("Notification") {
        match v["Message"].as_str().map(serde_json::from_str::<Value>) {
            Some(Ok(inner)) => v = inner,
            _ => {
                out.problems
                    .push("an SNS notification whose Message is not an S3 event, not read".into());
                return out;
            }
        }
    }
    if v["Event"].as_str() == Some("s3:TestEvent") {
        out.ignored += 1;
        return out;
    }
    let Some(records) = v["Records"].as_array() else {
        out.problems
            .push("a message without S3 event records, not read".into());
        return out;
    };
    if records.len() > MAX_RECORDS {
        out.problems.push(format!(
            "{} records in one message: only the first {MAX_RECORDS} read",
            records.len()
        ));
    }
    for r in records.iter().take(MAX_RECORDS) {
        let event = r["eventName"].as_str().unwrap_or_default();
        let b = r["s3"]["bucket"]["name"].as_str();
        let k = r["s3"]["object"]["key"].as_str();
        let (Some(b), Some(k)) = (b, k) else {
            out.problems
                .push("a record without s3.bucket.name and s3.object.key, not read".into());
            continue;
        };
        if !event.starts_with("ObjectCreated:") {
            out.ignored += 1;
            continue;
        }
        let key = match decode_key(k) {
            Some(key) => key,
            None => {
                out.problems.push(format!(
                    "the key {:?} is not URL-encoded UTF-8, not read",
                    clip(&one_line(k), 200, "…")
                ));
                continue;
            }
        };
        if b != bucket {
            out.problems.push(format!(
                "an object of the bucket {:?}, not {bucket:?}: not read",
                clip(&one_line(b), 100, "…")
            ));
        } else if !key.starts_with(prefix) {
            out.problems.push(format!(
                "the object {:?} is outside the prefix {prefix:?}: not read",
                clip(&one_line(&key), 200, "…")
            ));
        } else if key.is_empty() || key.len() > 1024 || key.chars().any(char::is_control) {
            out.problems.push(format!(
                "the key {:?} is not an S3 object key: not read",
                clip(&one_line(&key), 200, "…")
            ));
        } else {
            out.keys.push(key);
        }
    }
    out
}

/// An event's object key: `+` is a space, `%XX` a byte (S3 encodes keys as an HTML
/// form would).
fn decode_key(k: &str) -> Option<String> {
    let spaced = k.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// A blocking queue reader, as [`crate::s3::S3Reader`] is for the bucket: one
/// runtime, one signed client, one call at a time.
pub struct SqsQueue {
    inner: Mutex<(tokio::runtime::Runtime, Client)>,
    region: String,
    queue: QueueUrl,
}

impl SqsQueue {
    /// The queue at `url`, called with the bucket's options (`endpoint_url` for moto);
    /// its region is the one its URL names, else the options'. Each call may take
    /// up to 20 s more than `opts.timeout` (the long poll).
    pub fn new(opts: &S3Options, url: &str) -> Result<SqsQueue, SqsError> {
        let queue = parse_queue_url(url)?;
        let rt = crate::config::runtime()
            .map_err(|e| SqsError::Setup(format!("cannot start the AWS client's runtime: {e}")))?;
        let timeout = if opts.timeout.is_zero() {
            Duration::from_secs(30)
        } else {
            opts.timeout
        } + Duration::from_secs(MAX_WAIT as u64);
        let region = queue.region.clone().or_else(|| opts.region.clone());
        let conf = rt.block_on(crate::config::load_with_profile(
            region,
            opts.endpoint_url.clone(),
            opts.profile.clone(),
            timeout,
        ));
        let region = match (conf.region(), &opts.endpoint_url) {
            (Some(r), _) => r.to_string(),
            (None, Some(_)) => "us-east-1".to_string(),
            (None, None) => {
                return Err(SqsError::Setup(
                    "no region for the queue: give its regional URL or set region".into(),
                ))
            }
        };
        let creds = conf
            .credentials_provider()
            .ok_or_else(|| SqsError::Setup("no AWS credentials provider".into()))?;
        let client = Client::new(creds, opts.endpoint_url.as_deref(), timeout)?;
        Ok(SqsQueue {
            inner: Mutex::new((rt, client)),
            region,
            queue,
        })
    }

    fn call(&self, action: &str, input: &Value) -> Result<Value, SqsError> {
        let guard = self
            .inner
            .lock()
            .map_err(|_| SqsError::Setup("the SQS client failed earlier".into()))?;
        let (rt, client) = &*guard;
        Ok(rt.block_on(client.json10(
            "sqs",
            &self.region,
            &format!("AmazonSQS.{action}"),
            input,
        ))?)
    }

    /// Up to 10 messages, waiting up to `wait` seconds (at most 20) for the first.
    pub fn receive(&self, wait: u32) -> Result<Vec<Message>, SqsError> {
        let answer = self.call(
            "ReceiveMessage",
            &json!({
                "QueueUrl": self.queue.url,
                "MaxNumberOfMessages": MAX_MESSAGES,
                "WaitTimeSeconds": wait.min(MAX_WAIT),
            }),
        )?;
        let mut out = Vec::new();
        for m in answer["Messages"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .take(MAX_MESSAGES as usize)
        {
            let (Some(id), Some(receipt)) = (m["MessageId"].as_str(), m["ReceiptHandle"].as_str())
            else {
                continue;
            };
            out.push(Message {
                id: id.to_string(),
                receipt: receipt.to_string(),
                body: m["Body"].as_str().unwrap_or_default().to_string(),
            });
        }
        Ok(out)
    }

    /// Deletes messages by receipt handle, ten per call; the receipts SQS refused,
    /// with its reason.
    pub fn delete(&self, receipts: &[String]) -> Result<Vec<(String, String)>, SqsError> {
        let mut failed = Vec::new();
        for chunk in receipts.chunks(MAX_MESSAGES as usize) {
            let entries: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| json!({"Id": format!("m{i}"), "ReceiptHandle": r}))
                .collect();
            let answer = self.call(
                "DeleteMessageBatch",
                &json!({"QueueUrl": self.queue.url, "Entries": entries}),
            )?;
            for f in answer["Failed"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let i = f["Id"]
                    .as_str()
                    .and_then(|s| s.strip_prefix('m'))
                    .and_then(|s| s.parse::<usize>().ok());
                if let Some(r) = i.and_then(|i| chunk.get(i)) {
                    let why = f["Message"].as_str().or(f["Code"].as_str()).unwrap_or("");
                    failed.push((r.clone(), clip(&one_line(why), 200, "…")));
                }
            }
        }
        Ok(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3_event(bucket: &str, key: &str, name: &str) -> String {
        json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-12-06T22:00:00.000Z", "eventName": name,
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "keibi",
                   "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                   "object": {"key": key, "size": 100, "eTag": "e", "sequencer": "0A"}}
        }]})
        .to_string()
    }

    #[test]
    fn created_objects_under_the_prefix_are_read_with_their_keys_decoded() {
        let n = parse_body(
            &s3_event(
                "trail",
                "AWSLogs/1/CloudTrail/a+b%2Bc%C3%A9.json.gz",
                "ObjectCreated:Put",
            ),
            "trail",
            "AWSLogs/",
        );
        assert_eq!(n.keys, ["AWSLogs/1/CloudTrail/a b+cé.json.gz"]);
        assert!(n.problems.is_empty());
        // Wrapped by SNS: the same.
        let sns = json!({"Type": "Notification", "MessageId": "x",
            "Message": s3_event("trail", "AWSLogs/k.json", "ObjectCreated:CompleteMultipartUpload")})
        .to_string();
        assert_eq!(
            parse_body(&sns, "trail", "AWSLogs/").keys,
            ["AWSLogs/k.json"]
        );
    }

    #[test]
    fn test_events_removals_and_foreign_or_malformed_messages_read_nothing() {
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-06T22:00:00.000Z","Bucket":"trail","RequestId":"r","HostId":"h"}"#;
        assert_eq!(
            parse_body(test, "trail", ""),
            Notified {
                ignored: 1,
                ..Notified::default()
            }
        );
        let removed = parse_body(
            &s3_event("trail", "AWSLogs/k", "ObjectRemoved:Delete"),
            "trail",
            "",
        );
        assert!(removed.keys.is_empty() && removed.problems.is_empty());
        for (body, why) in [
            (
                s3_event("other", "AWSLogs/k", "ObjectCreated:Put"),
                "bucket",
            ),
            (
                s3_event("trail", "elsewhere/k", "ObjectCreated:Put"),
                "outside",
            ),
            (
                s3_event("trail", "AWSLogs/%ff", "ObjectCreated:Put"),
                "UTF-8",
            ),
            ("not json".to_string(), "not JSON"),
            (r#"{"Records":"x"}"#.to_string(), "records"),
            (
                r#"{"Type":"Notification","Message":"{"}"#.to_string(),
                "SNS",
            ),
            (
                r#"{"Records":[{"eventName":"ObjectCreated:Put"}]}"#.to_string(),
                "s3.bucket",
            ),
        ] {
            let n = parse_body(&body, "trail", "AWSLogs/");
            assert!(n.keys.is_empty(), "{body}");
            assert!(
                n.problems.len() == 1 && n.problems[0].contains(why),
                "{n:?}"
            );
        }
    }

    #[test]
    fn queue_urls_name_their_region() {
        let q =
            parse_queue_url("https://sqs.ap-northeast-1.amazonaws.com/123456789012/trail").unwrap();
        assert_eq!(q.region.as_deref(), Some("ap-northeast-1"));
        let legacy = parse_queue_url("https://eu-west-1.queue.amazonaws.com/1/q").unwrap();
        assert_eq!(legacy.region.as_deref(), Some("eu-west-1"));
        let moto = parse_queue_url("http://127.0.0.1:5000/123456789012/q").unwrap();
        assert_eq!(moto.region, None);
        for bad in [
            "sqs.us-east-1.amazonaws.com/1/q",
            "ftp://h/1/q",
            "https://sqs.us-east-1.amazonaws.com/q",
            "https://h/1/q?x=1",
        ] {
            assert!(parse_queue_url(bad).is_err(), "{bad}");
        }
    }
}
