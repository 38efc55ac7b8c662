//! Amazon Kinesis Data Streams, the AWS-native partitioned stream of issue 20: a
//! CloudWatch Logs subscription writes each log group's events into a stream
//! (partition key = log group, so one instance's logs stay in one shard), and
//! `keibi run --worker` processes share its shards.
//!
//! [`Kinesis`] is the client (awsJson1.1, `X-Amz-Target: Kinesis_20131202.<Action>`,
//! signed by [`crate::signed`], counted in [`crate::usage`]): ListShards paged by
//! `NextToken`, GetShardIterator (TRIM_HORIZON, AFTER_SEQUENCE_NUMBER,
//! AT_TIMESTAMP), GetRecords, PutRecords. [`KinesisStream`] is the stream as
//! `keibi_ingest`'s [`PartitionedStream`]: a partition is a shard, its parents the
//! shards a split or merge closed (`ParentShardId`, `AdjacentParentShardId`), closed
//! once the shard has an `EndingSequenceNumber`; a [`KinesisReader`] reads one shard
//! in sequence-number order and says `ended` when GetRecords gives no
//! `NextShardIterator` (a closed shard read to its end).
//!
//! What Kinesis asks of a reader is done here: at most five GetRecords a second per
//! shard (one every [`MIN_INTERVAL`], one a second once caught up),
//! `ProvisionedThroughputExceededException` backed off without ever waiting past the
//! fetch's own bound, an iterator that expired (five minutes) opened again right
//! after the last record handed out.
//!
//! Answers are untrusted: a page by the signed client's bound and GetRecords'
//! `Limit`, a record by [`MAX_RECORD`] (bigger ones are dropped and counted), a
//! sequence number must be decimal digits and only grow within a shard (a record at
//! or before the last one handed out is not handed out again), a shard id must be
//! one (1 to 128 of letters, digits, `_ . -`), a partition key is cut to Kinesis's
//! 256 characters (it is log text: the outputs escape it like any).
//!
//! Positions: a sequence number is handed out as `keibi_ingest`'s [`Position`], a
//! decimal of any length ordered as a number (Kinesis documents up to 129 digits;
//! AWS's are 56 today). One that is not a sequence number at all is an error of the
//! reader ([`KinesisError::Position`]), never a position silently wrong.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, Utc};
use keibi_ingest::{
    Fetched, PartitionInfo, PartitionReader, PartitionedStream, Position, Record, StartAt,
    StreamError,
};
use keibi_notify::text::{clip, one_line};
use serde_json::{json, Value};

use crate::signed::{CallError, Client};

/// The largest record read or written: Kinesis's own limit on a record's data and
/// partition key together.
pub const MAX_RECORD: usize = 1 << 20;
/// Records one GetRecords asks for at most (Kinesis's own maximum).
pub const MAX_LIMIT: usize = 10_000;
/// Records one PutRecords carries at most (Kinesis's own maximum).
pub const PUT_MAX_RECORDS: usize = 500;
/// Bytes (data and partition keys) one PutRecords carries at most (Kinesis's own).
pub const PUT_MAX_BYTES: usize = 5 << 20;
/// A partition key's length in characters (Kinesis: 1 to 256).
pub const MAX_KEY_CHARS: usize = 256;
/// The shortest time between two GetRecords of one shard (Kinesis allows five a
/// second per shard, shared by every reader of it).
pub const MIN_INTERVAL: Duration = Duration::from_millis(200);
/// Between two GetRecords of a shard that is read to its latest record.
pub const IDLE_INTERVAL: Duration = Duration::from_secs(1);
/// An iterator older than this is opened again before it is used (Kinesis expires
/// them after five minutes).
pub const ITERATOR_LIFE: Duration = Duration::from_secs(270);
/// The longest backoff after `ProvisionedThroughputExceededException`.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Shards one listing returns at most (pages of 1,000).
const MAX_SHARDS: usize = 100_000;
/// A sequence number's digits at most (Kinesis's pattern `0|([1-9]\d{0,128})`).
const MAX_SEQUENCE_DIGITS: usize = 129;
/// A shard id's length at most (Kinesis: 1 to 128).
const MAX_SHARD_ID: usize = 128;
/// The JSON protocol's target prefix.
const TARGET: &str = "Kinesis_20131202";

/// Why a Kinesis call or read failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KinesisError {
    #[error("Kinesis: {0}")]
    Call(#[from] CallError),
    #[error("Kinesis: {0}")]
    Setup(String),
    /// Something asked of the client that Kinesis would refuse (a stream name, a
    /// partition key, a record too large).
    #[error("Kinesis: {0}")]
    Invalid(String),
    /// An answer that breaks Kinesis's own rules.
    #[error("Kinesis: {0}")]
    Answer(String),
    /// A sequence number that is not one (Kinesis's pattern `0|([1-9]\d{0,128})`).
    #[error("Kinesis: {0:?} of shard {1} is not a sequence number")]
    Position(String, String),
}

impl KinesisError {
    /// Kinesis's throttling of a shard or of the control calls: worth waiting for.
    pub fn is_throttled(&self) -> bool {
        matches!(
            self,
            KinesisError::Call(CallError::Service { code, .. })
                if matches!(code.as_str(),
                    "ProvisionedThroughputExceededException"
                        | "LimitExceededException"
                        | "KMSThrottlingException")
        )
    }

    /// The shard iterator is older than five minutes.
    pub fn is_expired_iterator(&self) -> bool {
        matches!(self, KinesisError::Call(e) if e.code() == Some("ExpiredIteratorException"))
    }
}

/// Where and how to call Kinesis: region, endpoint URL (moto, a VPC endpoint),
/// profile, time-out, a role to assume.
pub type KinesisOptions = crate::s3::S3Options;

/// A stream's name as Kinesis allows them (1 to 128 of letters, digits, `_ . -`).
pub fn is_stream_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn is_shard_id(id: &str) -> bool {
    (1..=MAX_SHARD_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A sequence number as Kinesis writes them: decimal digits, no leading zero.
pub fn is_sequence_number(s: &str) -> bool {
    (1..=MAX_SEQUENCE_DIGITS).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'))
}

/// A sequence number as a position.
pub fn position_of(sequence: &str) -> Option<Position> {
    if !is_sequence_number(sequence) {
        return None;
    }
    Position::parse(sequence)
}

/// One shard as ListShards describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub id: String,
    pub parent: Option<String>,
    pub adjacent_parent: Option<String>,
    pub starting_sequence: Option<String>,
    /// Set once the shard is closed (split or merged): no record will be added.
    pub ending_sequence: Option<String>,
}

/// Where a shard iterator starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IteratorStart {
    /// The oldest record the stream keeps (`TRIM_HORIZON`).
    TrimHorizon,
    /// Right after this sequence number (`AFTER_SEQUENCE_NUMBER`).
    After(String),
    /// The first record that arrived at or after this time (`AT_TIMESTAMP`).
    At(DateTime<Utc>),
}

/// One record read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisRecord {
    pub sequence: String,
    pub arrived: DateTime<Utc>,
    pub key: String,
    pub data: Vec<u8>,
}

/// One GetRecords answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub records: Vec<KinesisRecord>,
    /// `None`: the shard is closed and this page held its last records.
    pub next: Option<String>,
    /// How far the page's last record is behind the shard's newest.
    pub millis_behind: Option<u64>,
    /// Records not handed out: data larger than [`MAX_RECORD`], data that is not
    /// base64, a sequence number that is not one.
    pub dropped: usize,
}

/// One record to put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutRecord {
    pub key: String,
    pub data: Vec<u8>,
}

/// What a PutRecords did with each record, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutResult {
    Stored {
        shard: String,
        sequence: String,
    },
    /// Kinesis refused it (`ProvisionedThroughputExceededException`,
    /// `InternalFailure`): it may be put again.
    Failed {
        code: String,
        message: String,
    },
}

/// A blocking Kinesis client: one runtime, one signed client, one call at a time
/// (shared by the readers of a stream's shards; waits happen outside the lock).
pub struct Kinesis {
    inner: Mutex<(tokio::runtime::Runtime, Client)>,
    region: String,
}

impl Kinesis {
    /// A client for `opts.region` (else the chain's; us-east-1 with an endpoint
    /// URL and no region).
    pub fn new(opts: &KinesisOptions) -> Result<Kinesis, KinesisError> {
        use crate::s3::{ConnectError, Connected};
        let Connected { rt, client, region } = opts.connect("the stream").map_err(|e| match e {
            ConnectError::Setup(s) => KinesisError::Setup(s),
            ConnectError::Call(e) => e.into(),
        })?;
        Ok(Kinesis {
            inner: Mutex::new((rt, client)),
            region,
        })
    }

    /// Counts this client's calls into `usage` (a test's own counter).
    pub fn with_usage(self, usage: Arc<crate::usage::Usage>) -> Kinesis {
        let region = self.region;
        let (rt, client) = self.inner.into_inner().unwrap_or_else(|e| e.into_inner());
        Kinesis {
            inner: Mutex::new((rt, client.with_usage(usage))),
            region,
        }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    fn call(&self, action: &str, input: &Value) -> Result<Value, KinesisError> {
        let guard = self
            .inner
            .lock()
            .map_err(|_| KinesisError::Setup("the Kinesis client failed earlier".into()))?;
        let (rt, client) = &*guard;
        Ok(rt.block_on(client.json11(
            "kinesis",
            &self.region,
            &format!("{TARGET}.{action}"),
            input,
        ))?)
    }

    fn check_stream(stream: &str) -> Result<(), KinesisError> {
        if is_stream_name(stream) {
            Ok(())
        } else {
            Err(KinesisError::Invalid(format!(
                "{:?} is not a stream name (1 to 128 of letters, digits, _ . -)",
                clip(&one_line(stream), 200, "…")
            )))
        }
    }

    /// Every shard of `stream`, closed ones Kinesis still keeps included, by id.
    pub fn list_shards(&self, stream: &str) -> Result<Vec<Shard>, KinesisError> {
        Self::check_stream(stream)?;
        let mut out: Vec<Shard> = Vec::new();
        let mut token: Option<String> = None;
        loop {
            // Kinesis refuses StreamName beside NextToken.
            let input = match &token {
                None => json!({"StreamName": stream, "MaxResults": 1000}),
                Some(t) => json!({"NextToken": t, "MaxResults": 1000}),
            };
            let page = self.call_throttled("ListShards", &input)?;
            let Some(list) = page.get("Shards").and_then(Value::as_array) else {
                return Err(KinesisError::Answer(
                    "ListShards: an answer without its Shards".into(),
                ));
            };
            for s in list {
                let Some(id) = s["ShardId"].as_str().filter(|id| is_shard_id(id)) else {
                    return Err(KinesisError::Answer(format!(
                        "ListShards: a shard whose id is not one ({})",
                        clip(&one_line(&s["ShardId"].to_string()), 100, "…")
                    )));
                };
                let shard_ref =
                    |k: &str| s[k].as_str().filter(|p| is_shard_id(p)).map(str::to_string);
                let seq = |k: &str| {
                    s["SequenceNumberRange"][k]
                        .as_str()
                        .filter(|n| is_sequence_number(n))
                        .map(str::to_string)
                };
                out.push(Shard {
                    id: id.to_string(),
                    parent: shard_ref("ParentShardId"),
                    adjacent_parent: shard_ref("AdjacentParentShardId"),
                    starting_sequence: seq("StartingSequenceNumber"),
                    ending_sequence: seq("EndingSequenceNumber"),
                });
            }
            if out.len() > MAX_SHARDS {
                return Err(KinesisError::Answer(format!(
                    "ListShards: more than {MAX_SHARDS} shards"
                )));
            }
            match page.get("NextToken").and_then(Value::as_str) {
                Some(t) if !t.is_empty() && Some(t) != token.as_deref() && !list.is_empty() => {
                    token = Some(t.to_string())
                }
                _ => break,
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out.dedup_by(|a, b| a.id == b.id);
        Ok(out)
    }

    /// A control call (ListShards, GetShardIterator: five a second per stream)
    /// tried again after `LimitExceededException`, a few times.
    fn call_throttled(&self, action: &str, input: &Value) -> Result<Value, KinesisError> {
        let mut wait = Duration::from_millis(200);
        for _ in 0..5 {
            match self.call(action, input) {
                Err(e) if e.is_throttled() => {
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(MAX_BACKOFF);
                }
                other => return other,
            }
        }
        self.call(action, input)
    }

    /// An iterator of `shard` from `from`.
    pub fn shard_iterator(
        &self,
        stream: &str,
        shard: &str,
        from: &IteratorStart,
    ) -> Result<String, KinesisError> {
        Self::check_stream(stream)?;
        if !is_shard_id(shard) {
            return Err(KinesisError::Invalid(format!(
                "{:?} is not a shard id",
                clip(&one_line(shard), 200, "…")
            )));
        }
        let mut input = json!({"StreamName": stream, "ShardId": shard});
        match from {
            IteratorStart::TrimHorizon => input["ShardIteratorType"] = json!("TRIM_HORIZON"),
            IteratorStart::After(seq) => {
                if !is_sequence_number(seq) {
                    return Err(KinesisError::Invalid(format!(
                        "{:?} is not a sequence number",
                        clip(&one_line(seq), 200, "…")
                    )));
                }
                input["ShardIteratorType"] = json!("AFTER_SEQUENCE_NUMBER");
                input["StartingSequenceNumber"] = json!(seq);
            }
            IteratorStart::At(t) => {
                input["ShardIteratorType"] = json!("AT_TIMESTAMP");
                // awsJson's timestamps: seconds since the epoch, fractions allowed.
                input["Timestamp"] = json!(t.timestamp_millis() as f64 / 1000.0);
            }
        }
        let answer = self.call_throttled("GetShardIterator", &input)?;
        answer["ShardIterator"]
            .as_str()
            .filter(|i| !i.is_empty() && i.len() <= 4096)
            .map(str::to_string)
            .ok_or_else(|| {
                KinesisError::Answer("GetShardIterator: an answer without its iterator".into())
            })
    }

    /// Up to `limit` records (at most [`MAX_LIMIT`]) from `iterator`.
    pub fn get_records(&self, iterator: &str, limit: usize) -> Result<Page, KinesisError> {
        let answer = self.call(
            "GetRecords",
            &json!({"ShardIterator": iterator, "Limit": limit.clamp(1, MAX_LIMIT)}),
        )?;
        let Some(list) = answer.get("Records").and_then(Value::as_array) else {
            return Err(KinesisError::Answer(
                "GetRecords: an answer without its Records".into(),
            ));
        };
        let mut page = Page {
            next: answer["NextShardIterator"]
                .as_str()
                .filter(|i| !i.is_empty() && i.len() <= 4096)
                .map(str::to_string),
            millis_behind: answer["MillisBehindLatest"].as_u64(),
            ..Page::default()
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        for r in list {
            let (Some(seq), Some(data)) = (
                r["SequenceNumber"]
                    .as_str()
                    .filter(|s| is_sequence_number(s)),
                r["Data"].as_str(),
            ) else {
                page.dropped += 1;
                continue;
            };
            // Base64 is 4 characters for 3 bytes: a longer text cannot be a record.
            if data.len() > MAX_RECORD.div_ceil(3) * 4 {
                page.dropped += 1;
                continue;
            }
            let Ok(bytes) = b64.decode(data) else {
                page.dropped += 1;
                continue;
            };
            if bytes.len() > MAX_RECORD {
                page.dropped += 1;
                continue;
            }
            let key: String = r["PartitionKey"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(MAX_KEY_CHARS)
                .collect();
            page.records.push(KinesisRecord {
                sequence: seq.to_string(),
                arrived: arrival(&r["ApproximateArrivalTimestamp"]),
                key,
                data: bytes,
            });
        }
        Ok(page)
    }

    /// Puts `records` (at most [`PUT_MAX_RECORDS`], [`PUT_MAX_BYTES`] together, each
    /// within [`MAX_RECORD`]) in one PutRecords; what became of each, in order.
    pub fn put_records(
        &self,
        stream: &str,
        records: &[PutRecord],
    ) -> Result<Vec<PutResult>, KinesisError> {
        Self::check_stream(stream)?;
        if records.is_empty() {
            return Ok(Vec::new());
        }
        if records.len() > PUT_MAX_RECORDS {
            return Err(KinesisError::Invalid(format!(
                "{} records in one PutRecords (at most {PUT_MAX_RECORDS})",
                records.len()
            )));
        }
        let mut total = 0usize;
        for r in records {
            check_key(&r.key)?;
            let size = r.data.len() + r.key.len();
            if size > MAX_RECORD {
                return Err(KinesisError::Invalid(format!(
                    "a record of {size} bytes (at most {MAX_RECORD} with its key)"
                )));
            }
            total += size;
        }
        if total > PUT_MAX_BYTES {
            return Err(KinesisError::Invalid(format!(
                "{total} bytes in one PutRecords (at most {PUT_MAX_BYTES})"
            )));
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let entries: Vec<Value> = records
            .iter()
            .map(|r| json!({"Data": b64.encode(&r.data), "PartitionKey": r.key}))
            .collect();
        let answer = self.call(
            "PutRecords",
            &json!({"StreamName": stream, "Records": entries}),
        )?;
        let list = answer["Records"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if list.len() != records.len() {
            return Err(KinesisError::Answer(format!(
                "PutRecords: {} results for {} records",
                list.len(),
                records.len()
            )));
        }
        Ok(list
            .iter()
            .map(
                |r| match (r["SequenceNumber"].as_str(), r["ShardId"].as_str()) {
                    (Some(seq), Some(shard)) if r["ErrorCode"].as_str().is_none() => {
                        PutResult::Stored {
                            shard: clip(&one_line(shard), MAX_SHARD_ID, "…"),
                            sequence: clip(&one_line(seq), MAX_SEQUENCE_DIGITS, "…"),
                        }
                    }
                    _ => PutResult::Failed {
                        code: clip(
                            &one_line(r["ErrorCode"].as_str().unwrap_or("UnknownError")),
                            100,
                            "…",
                        ),
                        message: clip(
                            &one_line(r["ErrorMessage"].as_str().unwrap_or_default()),
                            300,
                            "…",
                        ),
                    },
                },
            )
            .collect())
    }
}

/// A partition key Kinesis accepts: 1 to 256 characters.
pub fn check_key(key: &str) -> Result<(), KinesisError> {
    let n = key.chars().count();
    if (1..=MAX_KEY_CHARS).contains(&n) {
        Ok(())
    } else {
        Err(KinesisError::Invalid(format!(
            "a partition key of {n} characters (1 to {MAX_KEY_CHARS})"
        )))
    }
}

/// `ApproximateArrivalTimestamp`: seconds since the epoch (awsJson), or an RFC 3339
/// text; now when it is neither (it orders nothing: the sequence number does).
fn arrival(v: &Value) -> DateTime<Utc> {
    let parsed = match v {
        Value::Number(n) => n
            .as_f64()
            .filter(|s| s.is_finite() && (0.0..1e11).contains(s))
            .and_then(|s| DateTime::from_timestamp_millis((s * 1000.0).round() as i64)),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        _ => None,
    };
    parsed.unwrap_or_else(Utc::now)
}

/// A Kinesis data stream as a [`PartitionedStream`]: its shards are the partitions.
pub struct KinesisStream {
    kinesis: Arc<Kinesis>,
    stream: String,
    name: String,
}

impl KinesisStream {
    pub fn new(kinesis: Arc<Kinesis>, stream: &str) -> Result<KinesisStream, KinesisError> {
        Kinesis::check_stream(stream)?;
        Ok(KinesisStream {
            kinesis,
            stream: stream.to_string(),
            name: format!("kinesis:{stream}"),
        })
    }

    fn error(&self, e: impl std::fmt::Display) -> StreamError {
        StreamError {
            stream: self.name.clone(),
            reason: e.to_string(),
        }
    }

    /// A reader of `shard` from `from`, with its concrete type (its lag and the
    /// records it dropped are readable).
    pub fn reader(&self, shard: &str, from: &StartAt) -> Result<KinesisReader, StreamError> {
        let start = match from {
            StartAt::Oldest => IteratorStart::TrimHorizon,
            StartAt::After(p) => IteratorStart::After(p.to_string()),
            StartAt::Time(t) => IteratorStart::At(*t),
        };
        let iterator = self
            .kinesis
            .shard_iterator(&self.stream, shard, &start)
            .map_err(|e| self.error(e))?;
        Ok(KinesisReader {
            kinesis: self.kinesis.clone(),
            stream: self.stream.clone(),
            name: self.name.clone(),
            shard: shard.to_string(),
            start,
            iterator: Some((iterator, Instant::now())),
            last: match from {
                StartAt::After(p) => Some(p.clone()),
                _ => None,
            },
            not_before: Instant::now(),
            backoff: Duration::ZERO,
            ended: false,
            millis_behind: None,
            dropped: 0,
        })
    }
}

impl PartitionedStream for KinesisStream {
    fn name(&self) -> &str {
        &self.name
    }

    fn partitions(&mut self) -> Result<Vec<PartitionInfo>, StreamError> {
        let shards = self
            .kinesis
            .list_shards(&self.stream)
            .map_err(|e| self.error(e))?;
        Ok(shards
            .into_iter()
            .map(|s| PartitionInfo {
                parents: s.parent.into_iter().chain(s.adjacent_parent).collect(),
                closed: s.ending_sequence.is_some(),
                id: s.id,
            })
            .collect())
    }

    fn open(
        &mut self,
        partition: &str,
        from: &StartAt,
    ) -> Result<Box<dyn PartitionReader>, StreamError> {
        Ok(Box::new(self.reader(partition, from)?))
    }
}

/// Reads one shard in order (see the module's documentation).
pub struct KinesisReader {
    kinesis: Arc<Kinesis>,
    stream: String,
    name: String,
    shard: String,
    start: IteratorStart,
    /// The iterator of the next GetRecords and when it was handed out.
    iterator: Option<(String, Instant)>,
    /// The position of the last record handed out.
    last: Option<Position>,
    /// No GetRecords before this (Kinesis's rate, a backoff).
    not_before: Instant,
    backoff: Duration,
    ended: bool,
    millis_behind: Option<u64>,
    dropped: u64,
}

impl KinesisReader {
    /// How far the last page was behind the shard's newest record.
    pub fn millis_behind(&self) -> Option<u64> {
        self.millis_behind
    }

    /// Records Kinesis handed out that were not (too large, not base64).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn shard(&self) -> &str {
        &self.shard
    }

    fn error(&self, e: impl std::fmt::Display) -> StreamError {
        StreamError {
            stream: self.name.clone(),
            reason: format!("shard {}: {e}", self.shard),
        }
    }

    /// An iterator that can be used now: the last one, or a new one after the last
    /// record handed out (from the reader's start when none was).
    fn iterator(&mut self) -> Result<String, StreamError> {
        if let Some((it, at)) = &self.iterator {
            if at.elapsed() < ITERATOR_LIFE {
                return Ok(it.clone());
            }
        }
        let from = match &self.last {
            Some(p) => IteratorStart::After(p.to_string()),
            None => self.start.clone(),
        };
        let it = self
            .kinesis
            .shard_iterator(&self.stream, &self.shard, &from)
            .map_err(|e| self.error(e))?;
        self.iterator = Some((it.clone(), Instant::now()));
        Ok(it)
    }
}

impl PartitionReader for KinesisReader {
    fn fetch(&mut self, max: usize, wait: Duration) -> Result<Fetched, StreamError> {
        let deadline = Instant::now() + wait;
        let mut expired = 0u32;
        loop {
            if self.ended {
                return Ok(Fetched {
                    records: Vec::new(),
                    ended: true,
                });
            }
            let now = Instant::now();
            if now < self.not_before {
                if self.not_before > deadline {
                    std::thread::sleep(deadline.saturating_duration_since(now));
                    return Ok(Fetched::default());
                }
                std::thread::sleep(self.not_before - now);
            }
            let iterator = self.iterator()?;
            let page = match self.kinesis.get_records(&iterator, max) {
                Ok(page) => page,
                Err(e) if e.is_throttled() => {
                    self.backoff = (self.backoff * 2).clamp(MIN_INTERVAL, MAX_BACKOFF);
                    self.not_before = Instant::now() + self.backoff;
                    if self.not_before > deadline {
                        return Ok(Fetched::default());
                    }
                    continue;
                }
                Err(e) if e.is_expired_iterator() && expired < 2 => {
                    expired += 1;
                    self.iterator = None;
                    continue;
                }
                Err(e) => return Err(self.error(e)),
            };
            self.backoff = Duration::ZERO;
            self.millis_behind = page.millis_behind;
            self.dropped += page.dropped as u64;
            let mut records = Vec::with_capacity(page.records.len());
            for r in page.records {
                let Some(position) = position_of(&r.sequence) else {
                    return Err(self.error(KinesisError::Position(
                        clip(&r.sequence, 60, "…"),
                        self.shard.clone(),
                    )));
                };
                // Positions only grow: a record at or before the last one handed
                // out (a reopened iterator, a misbehaving endpoint) is not handed
                // out again.
                if self.last.as_ref().is_some_and(|l| &position <= l) {
                    continue;
                }
                self.last = Some(position.clone());
                records.push(Record {
                    position,
                    arrived: r.arrived,
                    key: r.key,
                    data: r.data,
                });
            }
            let caught_up = records.is_empty() && page.millis_behind.is_none_or(|m| m == 0);
            self.not_before = Instant::now()
                + if caught_up {
                    IDLE_INTERVAL
                } else {
                    MIN_INTERVAL
                };
            match page.next {
                Some(next) => self.iterator = Some((next, Instant::now())),
                None => {
                    self.iterator = None;
                    self.ended = true;
                }
            }
            if !records.is_empty() || self.ended || Instant::now() >= deadline {
                return Ok(Fetched {
                    records,
                    ended: self.ended,
                });
            }
        }
    }
}

/// How a producer writes log lines into records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// As a CloudWatch Logs subscription writes them: gzip'd JSON of a
    /// `DATA_MESSAGE` with `logGroup` (the partition key), `logStream`, `owner`,
    /// and `logEvents` (one event per log entry: a line and the tab- or
    /// space-indented lines that continue it, as RDS exports them).
    Subscription {
        stream: String,
        /// The account id CloudWatch would write (keibi does not read it).
        owner: String,
    },
    /// The lines themselves, whole lines per record.
    Raw,
}

/// The most a subscription message or a raw record holds before it is cut
/// (uncompressed): CloudWatch Logs delivers at most 1 MiB of events per batch,
/// and a smaller record keeps each consumer's memory small.
pub const PACK_BYTES: usize = 256 << 10;
/// Log events one subscription message holds at most (CloudWatch's own batch).
pub const PACK_EVENTS: usize = 10_000;

/// Packs log lines into records of one partition key (see [`Form`]): whole lines
/// per record, each record within [`MAX_RECORD`]; a log entry that cannot fit one
/// record is skipped and counted.
pub struct Packer {
    key: String,
    form: Form,
    max_bytes: usize,
    max_events: usize,
    /// The entries of the record being filled, each without its final newline.
    entries: Vec<String>,
    bytes: usize,
    ready: Vec<PutRecord>,
    /// Log entries written into records, and skipped (too large).
    pub entries_packed: u64,
    pub entries_skipped: u64,
    first_id: u64,
    now_ms: i64,
    /// The last entry was skipped: the lines that continue it are too.
    skipping: bool,
}

impl Packer {
    pub fn new(key: &str, form: Form) -> Result<Packer, KinesisError> {
        Packer::with_limits(key, form, PACK_BYTES, PACK_EVENTS)
    }

    /// A packer whose records hold at most `max_bytes` of entries (uncompressed)
    /// and `max_events` entries.
    pub fn with_limits(
        key: &str,
        form: Form,
        max_bytes: usize,
        max_events: usize,
    ) -> Result<Packer, KinesisError> {
        check_key(key)?;
        Ok(Packer {
            key: key.to_string(),
            form,
            max_bytes: max_bytes.clamp(1, MAX_RECORD),
            max_events: max_events.max(1),
            entries: Vec::new(),
            bytes: 0,
            ready: Vec::new(),
            entries_packed: 0,
            entries_skipped: 0,
            first_id: 0,
            now_ms: Utc::now().timestamp_millis(),
            skipping: false,
        })
    }

    /// The most an entry may take in a record: the record's room after its key
    /// and, for a subscription message, after its envelope.
    fn room(&self) -> usize {
        let envelope = match &self.form {
            Form::Raw => 0,
            Form::Subscription { stream, owner } => 512 + 2 * (stream.len() + owner.len()),
        };
        MAX_RECORD.saturating_sub(self.key.len() + envelope + 1024)
    }

    fn cost(&self, entry: &str) -> usize {
        match self.form {
            Form::Raw => entry.len() + 1,
            // The event as JSON: escapes can make a message up to six times longer.
            Form::Subscription { .. } => {
                serde_json::to_string(entry).map_or(usize::MAX, |s| s.len()) + 64
            }
        }
    }

    /// One line (without its newline).
    pub fn line(&mut self, line: &str) {
        let continues =
            matches!(self.form, Form::Subscription { .. }) && line.starts_with([' ', '\t']);
        if continues && self.skipping {
            return;
        }
        let (entry, cost) = match self.entries.pop() {
            Some(last) if continues => {
                self.bytes = self.bytes.saturating_sub(self.cost(&last));
                let joined = format!("{last}\n{line}");
                let cost = self.cost(&joined);
                (joined, cost)
            }
            last => {
                if let Some(l) = last {
                    self.entries.push(l);
                }
                (line.to_string(), self.cost(line))
            }
        };
        self.skipping = cost > self.room();
        if self.skipping {
            self.entries_skipped += 1;
            return;
        }
        let full = self.bytes + cost > self.max_bytes
            || (!continues && self.entries.len() >= self.max_events);
        if full {
            self.seal();
        }
        self.bytes += cost;
        self.entries.push(entry);
    }

    /// Seals the record being filled.
    fn seal(&mut self) {
        if self.entries.is_empty() {
            return;
        }
        let entries = std::mem::take(&mut self.entries);
        self.bytes = 0;
        let n = entries.len() as u64;
        let data = match &self.form {
            Form::Raw => {
                let mut text = entries.join("\n");
                text.push('\n');
                text.into_bytes()
            }
            Form::Subscription { stream, owner } => {
                let events: Vec<Value> = entries
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        json!({"id": (self.first_id + i as u64).to_string(),
                               "timestamp": self.now_ms, "message": m})
                    })
                    .collect();
                let doc = json!({
                    "messageType": "DATA_MESSAGE", "owner": owner, "logGroup": self.key,
                    "logStream": stream, "subscriptionFilters": ["keibi"],
                    "logEvents": events,
                });
                gzip(doc.to_string().as_bytes())
            }
        };
        self.first_id += n;
        self.entries_packed += n;
        self.ready.push(PutRecord {
            key: self.key.clone(),
            data,
        });
    }

    /// Seals what is pending: the input is over.
    pub fn finish(&mut self) {
        self.seal();
    }

    /// The records sealed so far, taken.
    pub fn take(&mut self) -> Vec<PutRecord> {
        std::mem::take(&mut self.ready)
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// Cuts `records` into PutRecords calls: at most [`PUT_MAX_RECORDS`] records and
/// [`PUT_MAX_BYTES`] (data and keys) each, in order.
pub fn batches(records: &[PutRecord]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0usize, 0usize);
    for (i, r) in records.iter().enumerate() {
        let size = r.data.len() + r.key.len();
        if i > start && (i - start >= PUT_MAX_RECORDS || bytes + size > PUT_MAX_BYTES) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < records.len() {
        out.push(start..records.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_and_positions() {
        assert!(
            is_sequence_number("0")
                && is_sequence_number("49590338271490256608559692538361571095921575989136588898")
        );
        for bad in ["", "01", "-1", "1 2", "1e5", &"9".repeat(130)] {
            assert!(!is_sequence_number(bad), "{bad}");
        }
        assert_eq!(position_of("12"), Position::parse("12"));
        // AWS's own sequence numbers (56 digits) are positions too, ordered.
        let aws = position_of("49590338271490256608559692538361571095921575989136588898").unwrap();
        assert!(aws > position_of(&u128::MAX.to_string()).unwrap());
        assert_eq!(position_of("012"), None);
    }

    #[test]
    fn names_keys_and_arrival_times() {
        assert!(is_stream_name("keibi-logs_1.a") && !is_stream_name("a b") && !is_stream_name(""));
        assert!(check_key("/aws/rds/instance/db1/postgresql").is_ok());
        assert!(check_key("").is_err() && check_key(&"é".repeat(257)).is_err());
        assert!(check_key(&"é".repeat(256)).is_ok());
        assert_eq!(
            arrival(&json!(1795966800.5)).timestamp_millis(),
            1795966800500
        );
        assert_eq!(
            arrival(&json!("2026-12-01T10:00:00Z")).timestamp(),
            1796119200
        );
        // Nonsense is "now", never a panic.
        for v in [json!(-1), json!(1e300), json!("x"), json!(null)] {
            assert!((Utc::now() - arrival(&v)).num_seconds().abs() < 5);
        }
    }

    #[test]
    fn errors_that_are_waited_for() {
        let service = |code: &str| {
            KinesisError::Call(CallError::Service {
                status: 400,
                code: code.into(),
                message: String::new(),
            })
        };
        assert!(service("ProvisionedThroughputExceededException").is_throttled());
        assert!(service("LimitExceededException").is_throttled());
        assert!(!service("ResourceNotFoundException").is_throttled());
        assert!(service("ExpiredIteratorException").is_expired_iterator());
        assert!(!KinesisError::Setup("x".into()).is_expired_iterator());
    }

    fn gunzip(b: &[u8]) -> Value {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::GzDecoder::new(b)
            .read_to_string(&mut s)
            .unwrap();
        serde_json::from_str(&s).unwrap()
    }

    #[test]
    fn subscription_messages_hold_whole_entries_with_their_continuations() {
        let form = Form::Subscription {
            stream: "db1.0".into(),
            owner: "123456789012".into(),
        };
        let mut p =
            Packer::with_limits("/aws/rds/instance/db1/postgresql", form, 1 << 20, 2).unwrap();
        for l in ["a", "b", "\tb2", "\tb3", "c", "d", "e\u{1b}"] {
            p.line(l);
        }
        p.finish();
        let recs = p.take();
        let messages: Vec<Vec<String>> = recs
            .iter()
            .map(|r| {
                let v = gunzip(&r.data);
                assert_eq!(v["logGroup"], "/aws/rds/instance/db1/postgresql");
                assert_eq!(v["messageType"], "DATA_MESSAGE");
                v["logEvents"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["message"].as_str().unwrap().to_string())
                    .collect()
            })
            .collect();
        assert_eq!(
            messages,
            [vec!["a", "b\n\tb2\n\tb3"], vec!["c", "d"], vec!["e\u{1b}"]]
        );
        assert_eq!((p.entries_packed, p.entries_skipped), (5, 0));
    }

    #[test]
    fn raw_records_hold_whole_lines_and_an_oversized_entry_is_skipped() {
        let mut p = Packer::with_limits("k", Form::Raw, 10, 100).unwrap();
        for l in ["aaaa", "bbbb", "cccc", "\tdd"] {
            p.line(l);
        }
        p.line(&"x".repeat(MAX_RECORD));
        p.line("e");
        // In a subscription message, the lines that continue a skipped entry go
        // with it.
        let mut q = Packer::new(
            "k",
            Form::Subscription {
                stream: "s".into(),
                owner: "1".into(),
            },
        )
        .unwrap();
        for l in [&"x".repeat(MAX_RECORD), "\tcontinued", "next"] {
            q.line(l);
        }
        q.finish();
        let v = gunzip(&q.take()[0].data);
        assert_eq!(v["logEvents"][0]["message"], "next");
        assert_eq!((q.entries_packed, q.entries_skipped), (1, 1));
        p.finish();
        let texts: Vec<String> = p
            .take()
            .into_iter()
            .map(|r| String::from_utf8(r.data).unwrap())
            .collect();
        // Raw lines are not joined: a tab-indented line is a line.
        assert_eq!(texts, ["aaaa\nbbbb\n", "cccc\n\tdd\n", "e\n"]);
        assert_eq!((p.entries_packed, p.entries_skipped), (5, 1));
        assert!(Packer::new("", Form::Raw).is_err());
    }

    #[test]
    fn put_batches_keep_to_kinesis_limits() {
        let r = |n: usize| PutRecord {
            key: "k".into(),
            data: vec![0; n],
        };
        let many: Vec<PutRecord> = (0..1201).map(|_| r(10)).collect();
        assert_eq!(batches(&many), [0..500, 500..1000, 1000..1201]);
        let big: Vec<PutRecord> = (0..12).map(|_| r(MAX_RECORD - 1)).collect();
        let b = batches(&big);
        assert_eq!(b, [0..5, 5..10, 10..12]);
        assert!(batches(&[]).is_empty());
    }
}
