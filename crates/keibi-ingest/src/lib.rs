//! Reads inputs for keibi: files, directories (recursively), `.gz`/`.zst`/`.bz2`
//! archives and standard input; detects each input's format; parses inputs on worker
//! threads; and merges all events in time order with bounded memory.
//!
//! Live sources (`keibi run`) follow files, globs, directories and standard input as
//! they grow ([`FollowSource`], [`ReaderSource`]), across rotation, and hand out
//! [`Checkpoint`]s with their events; [`Orderer`] merges them in time order with
//! watermarks. `docs/sources.md` describes them for users.
//!
//! This is the effectful edge around the pure `keibi-parse`: everything that touches
//! the file system or threads lives here, so parsers stay testable on bytes alone.

mod decode;
mod feed;
mod fingerprint;
mod follow;
mod inputs;
mod live;
mod logfiles;
mod merge;
mod objects;
mod order;
mod partition;
mod stream;
mod streams;

pub use feed::Checkpoint;
pub use fingerprint::Fingerprint;
pub use follow::{FollowError, FollowOptions, FollowSource, FollowStats};
pub use inputs::{
    expand, host_name, instance_for, instance_from_path, Expanded, Input, OpenRemote, Remote,
    Walker,
};
pub use live::{LiveSource, Poll, ReaderSource, SourceState};
pub use logfiles::{FilePortion, ListedFile, LogFileSource, LogFiles};
pub use merge::{run, IngestOptions, Notice, Report};
pub use objects::{source_id, Notifications, Notified, ObjectSource, Objects};
pub use order::{OrderOptions, OrderStats, Orderer};
pub mod partitions {
    //! The limits of [`crate::PartitionSource`].
    pub use crate::partition::{FETCH_WAIT, MAX_DECOMPRESSED, MAX_KEYS, MAX_RECORD};
}
pub use partition::{
    checkpoint_position, instance_from_key, partition_fingerprint, position_key, read_all,
    record_ranges, Fetched, MemoryStream, PartitionInfo, PartitionReader, PartitionSource,
    PartitionedStream, Position, Record, StartAt, StreamError,
};
pub use stream::{explain, Explanation, Opened};
pub use streams::{LogEvent, LogEvents, StreamSource};
