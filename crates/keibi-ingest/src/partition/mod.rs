//! Partitioned streams: NATS JetStream, Amazon Kinesis Data Streams. Records sit in
//! partitions (a JetStream subject partition, a Kinesis shard); each partition is
//! ordered and its positions only grow, so a partition's checkpoint is the position
//! of its last record stored. Several `keibi run --worker` processes share the
//! partitions (leases in the shared store, keibi-engine's `worker`); each partition
//! is read by one of them at a time, through a [`PartitionReader`].
//!
//! A partition holds everything its detectors need: database logs are partitioned
//! by instance, CloudTrail by account, and every stateful detector keys on (instance,
//! …) or (account, principal, …). What spans partitions is the second stage's.
//!
//! The services themselves are behind [`PartitionedStream`]: this crate knows no
//! NATS and no AWS (the JetStream client and the AWS edge implement it).

use std::time::Duration;

use chrono::{DateTime, Utc};

mod memory;
mod produce;
mod source;
#[cfg(test)]
mod tests;

pub use memory::MemoryStream;
pub use produce::record_ranges;
pub use source::{
    checkpoint_position, instance_from_key, partition_fingerprint, position_key, read_all,
    PartitionSource, FETCH_WAIT, MAX_DECOMPRESSED, MAX_KEYS, MAX_RECORD,
};

/// A record's place in its partition: a decimal number of any length (JetStream's
/// stream sequence; a Kinesis sequence number, up to 129 digits: more than any
/// machine integer holds). Only grows within a partition; ordered as numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position(String);

/// The digits a [`Position::padded`] has: Kinesis's longest sequence number.
pub const POSITION_DIGITS: usize = 129;

impl Position {
    /// A decimal number (leading zeros dropped); `None` for anything else or for
    /// more than [`POSITION_DIGITS`] digits.
    pub fn parse(s: &str) -> Option<Position> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let t = s.trim_start_matches('0');
        let t = if t.is_empty() { "0" } else { t };
        (t.len() <= POSITION_DIGITS).then(|| Position(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Zero-padded to [`POSITION_DIGITS`]: padded positions sort as the numbers do
    /// (a checkpoint's `after_key`).
    pub fn padded(&self) -> String {
        format!("{:0>width$}", self.0, width = POSITION_DIGITS)
    }

    /// As a `u64` when it fits (JetStream's sequences always do).
    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }
}

impl std::str::FromStr for Position {
    type Err = String;

    fn from_str(s: &str) -> Result<Position, String> {
        Position::parse(s).ok_or_else(|| format!("{s:?} is not a stream position (decimal digits)"))
    }
}

impl PartialEq<u64> for Position {
    fn eq(&self, other: &u64) -> bool {
        self.as_u64() == Some(*other)
    }
}

impl PartialOrd<u64> for Position {
    fn partial_cmp(&self, other: &u64) -> Option<std::cmp::Ordering> {
        Some(self.cmp(&Position::from(*other)))
    }
}

impl From<u64> for Position {
    fn from(n: u64) -> Position {
        Position(n.to_string())
    }
}

impl Ord for Position {
    fn cmp(&self, other: &Position) -> std::cmp::Ordering {
        // Canonical digits: the longer is the larger, then digit by digit.
        (self.0.len(), self.0.as_bytes()).cmp(&(other.0.len(), other.0.as_bytes()))
    }
}

impl PartialOrd for Position {
    fn partial_cmp(&self, other: &Position) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a stream cannot be read (the service said no, the connection dropped): the
/// reader is opened again later from the last stored position.
#[derive(Debug, thiserror::Error)]
#[error("{stream}: {reason}")]
pub struct StreamError {
    pub stream: String,
    pub reason: String,
}

/// One partition as the service lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// Stable for the partition's life (`"3"`, `"shardId-000000000002"`).
    pub id: String,
    /// The partitions it continues (a Kinesis shard's parents after a split or
    /// merge): it is read only once every one of them has been read to its end, so
    /// an instance's records stay in order across a reshard.
    pub parents: Vec<String>,
    /// Closed: no record will be added (a Kinesis parent shard after a reshard).
    pub closed: bool,
}

/// Where a reader starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartAt {
    /// The oldest record the stream still keeps.
    Oldest,
    /// Right after this position.
    After(Position),
    /// The first record that arrived at or after this time (a new owner reads again
    /// what its detectors' memory spans before the stored position, to rebuild
    /// their windows).
    Time(DateTime<Utc>),
}

/// One record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub position: Position,
    /// When the service received it.
    pub arrived: DateTime<Utc>,
    /// The subject (JetStream) or partition key (Kinesis) it was produced with: it
    /// names the log it came from (a log group, `pg.orders-db`).
    pub key: String,
    /// The payload: raw log lines, or a CloudWatch Logs subscription message
    /// (gzip'd JSON with `logGroup` and `logEvents`).
    pub data: Vec<u8>,
}

/// What one fetch returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    pub records: Vec<Record>,
    /// The partition is closed and every record of it was handed out.
    pub ended: bool,
}

/// A stream of partitions.
pub trait PartitionedStream: Send {
    /// The stream's name for logs, metrics and checkpoint keys
    /// (`nats:KEIBI`, `kinesis:keibi-logs`).
    fn name(&self) -> &str;
    /// Every partition now, closed ones still kept by the service included.
    fn partitions(&mut self) -> Result<Vec<PartitionInfo>, StreamError>;
    /// A reader of `partition` from `from`.
    fn open(
        &mut self,
        partition: &str,
        from: &StartAt,
    ) -> Result<Box<dyn PartitionReader>, StreamError>;
}

/// Reads one partition in order.
pub trait PartitionReader: Send {
    /// The records after the last handed out, at most `max`, waiting at most `wait`
    /// for the first (never longer).
    fn fetch(&mut self, max: usize, wait: Duration) -> Result<Fetched, StreamError>;
}

#[cfg(test)]
mod position_tests {
    use super::*;

    #[test]
    fn positions_order_as_numbers_of_any_length() {
        let kinesis = "49590338271490256608559692538361571095921575989136588898";
        let p = |s: &str| Position::parse(s).unwrap();
        assert!(p("9") < p("10"));
        assert!(p("0010") == p("10"));
        assert!(p(kinesis) > u64::MAX);
        assert!(p(kinesis) < p(&format!("{kinesis}0")));
        assert_eq!(p(kinesis).padded().len(), POSITION_DIGITS);
        assert!(p("9").padded() < p("10").padded());
        assert_eq!(Position::parse("12a"), None);
        assert_eq!(Position::parse(""), None);
        assert_eq!(Position::parse(&"1".repeat(130)), None);
        assert_eq!(p("0").as_str(), "0");
        assert_eq!(p("42").as_u64(), Some(42));
    }
}
