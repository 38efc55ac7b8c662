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

/// A record's place in its partition: JetStream's stream sequence, a Kinesis
/// sequence number (decimal, up to 128 bits). Only grows within a partition.
pub type Position = u128;

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
