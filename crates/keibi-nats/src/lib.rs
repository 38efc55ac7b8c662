//! NATS JetStream as keibi's partitioned stream (issue 20).
//!
//! Producers publish log records on `keibi.logs.<instance>.<log>`; the server's
//! account `mappings` (nats-server 2.9) send each subject to
//! `keibi.p.<n>.<instance>.<log>` with `{{partition(N,1)}}`, so one instance's
//! records always land in one partition, in order. The stream keeps the subjects
//! `keibi.p.>` (file storage, limits retention); partition `n` is the filter
//! subject `keibi.p.<n>.>` and a record's position is its stream sequence.
//!
//! Reading needs no acknowledgement: each partition's position is kept in keibi's
//! own store with the findings it led to, so a reader is an ordered pull consumer
//! (ephemeral, no acks) started by sequence, by time or from the oldest record.
//!
//! The client is async; this crate runs it on one current-thread tokio runtime
//! driven by a thread of its own, and offers a blocking API (the daemon's loop is
//! synchronous). Its calls must not be made from async code (they block on the
//! runtime's handle). A fetch blocks at most its `wait`, or about two seconds when
//! its consumer must be made again (after a server restart), then not again for a
//! second after a failure.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, stream};
use futures_util::{FutureExt, StreamExt};
use keibi_ingest::{
    Fetched, PartitionInfo, PartitionReader, PartitionedStream, Position, Record, StartAt,
    StreamError,
};
use tokio::sync::oneshot;

/// The subjects producers publish on (`keibi.logs.<instance>.<log>`).
pub const PRODUCER_PREFIX: &str = "keibi.logs";

/// The subjects the stream keeps: `keibi.p.<partition>.<instance>.<log>`.
pub const PARTITION_PREFIX: &str = "keibi.p";

/// Records a reader asks the server for at once, and their bytes: what a reader
/// may hold in memory beyond what it handed out.
const PULL_BATCH: i64 = 256;
const PULL_BYTES: i64 = 8 << 20;

/// How long a connection attempt or a request waits.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long making a reader's consumer may block a fetch (the daemon's loop waits
/// meanwhile), and how long after a failure it is not tried again.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(2);
const SUBSCRIBE_RETRY: Duration = Duration::from_secs(1);

/// Why a JetStream call failed.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("JetStream stream {stream}: {reason}")]
    Stream { stream: String, reason: String },
    #[error("publishing on {subject}: {reason}")]
    Publish { subject: String, reason: String },
    #[error("{0}")]
    Runtime(String),
}

/// The runtime thread, the connection and the JetStream context, shared by the
/// stream and its readers.
struct Inner {
    handle: tokio::runtime::Handle,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    client: async_nats::Client,
    js: jetstream::Context,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(stop) = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = stop.send(());
        }
    }
}

impl Inner {
    /// Runs `fut` to its end on the runtime (driven by its thread).
    fn run<F: std::future::Future>(&self, fut: F) -> F::Output {
        self.handle.block_on(fut)
    }
}

/// A JetStream stream partitioned by subject.
#[derive(Clone)]
pub struct JetStream {
    inner: Arc<Inner>,
    /// `nats:<stream>`.
    name: String,
    stream: String,
    partitions: u32,
}

impl std::fmt::Debug for JetStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStream")
            .field("stream", &self.stream)
            .field("partitions", &self.partitions)
            .finish()
    }
}

/// The filter subject of partition `n`.
pub fn partition_subject(n: u32) -> String {
    format!("{PARTITION_PREFIX}.{n}.>")
}

/// The record key of a stored subject: what follows `keibi.p.<n>.` (the producer's
/// `<instance>.<log>`), or the subject itself when it is not a partition's.
pub fn key_of(subject: &str) -> &str {
    subject
        .strip_prefix(PARTITION_PREFIX)
        .and_then(|s| s.strip_prefix('.'))
        .and_then(|s| s.split_once('.'))
        .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .map_or(subject, |(_, key)| key)
}

impl JetStream {
    /// Connects to `url` (`nats://127.0.0.1:4222`) for the stream `stream` of
    /// `partitions` partitions. The connection comes back by itself after a server
    /// restart; readers go on from their last record.
    pub fn connect(url: &str, stream: &str, partitions: u32) -> Result<JetStream, NatsError> {
        if partitions == 0 {
            return Err(NatsError::Stream {
                stream: stream.to_string(),
                reason: "a stream needs at least one partition".into(),
            });
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| NatsError::Runtime(format!("cannot start the NATS runtime: {e}")))?;
        let handle = rt.handle().clone();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        thread::Builder::new()
            .name("keibi-nats".into())
            .spawn(move || {
                rt.block_on(async {
                    let _ = stop_rx.await;
                });
            })
            .map_err(|e| NatsError::Runtime(format!("cannot start the NATS thread: {e}")))?;
        let connect_err = |reason: String| NatsError::Connect {
            url: url.to_string(),
            reason,
        };
        let client = handle
            .block_on(async {
                tokio::time::timeout(
                    REQUEST_TIMEOUT,
                    async_nats::ConnectOptions::new()
                        .name("keibi")
                        .connection_timeout(REQUEST_TIMEOUT)
                        // Keep trying after a server restart, for as long as it takes.
                        .max_reconnects(None)
                        .connect(url),
                )
                .await
            })
            .map_err(|_| connect_err("timed out".into()))?
            .map_err(|e| connect_err(e.to_string()))?;
        // The context spawns its acknowledgement task on the runtime.
        let js = {
            let _in = handle.enter();
            let mut js = jetstream::new(client.clone());
            js.set_timeout(REQUEST_TIMEOUT);
            js
        };
        let inner = Arc::new(Inner {
            handle,
            stop: Mutex::new(Some(stop_tx)),
            client,
            js,
        });
        Ok(JetStream {
            inner,
            name: format!("nats:{stream}"),
            stream: stream.to_string(),
            partitions,
        })
    }

    fn stream_error(&self, reason: impl std::fmt::Display) -> NatsError {
        NatsError::Stream {
            stream: self.stream.clone(),
            reason: reason.to_string(),
        }
    }

    /// Creates the stream (subjects `keibi.p.>`, file storage, limits retention)
    /// unless it exists.
    pub fn ensure_stream(&self) -> Result<(), NatsError> {
        let config = stream::Config {
            name: self.stream.clone(),
            subjects: vec![format!("{PARTITION_PREFIX}.>")],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            ..Default::default()
        };
        let js = &self.inner.js;
        match self.inner.run(js.get_or_create_stream(config)) {
            Ok(_) => Ok(()),
            // Workers start together: another made the stream between this one's
            // look and its create ("subjects overlap"). It is there: done.
            Err(e) => match self.inner.run(js.get_stream(self.stream.clone())) {
                Ok(_) => Ok(()),
                Err(_) => Err(self.stream_error(e)),
            },
        }
    }

    /// Publishes one record and waits for JetStream to store it: its sequence.
    pub fn publish(&self, subject: &str, data: &[u8]) -> Result<u64, NatsError> {
        Ok(self.publish_batch(&[(subject, data)])?[0])
    }

    /// Publishes records in order and waits for every acknowledgement: their
    /// sequences. Within one subject the order is kept; a failure stops the batch
    /// (records before it may be stored: a producer sending again may repeat them).
    pub fn publish_batch(&self, records: &[(&str, &[u8])]) -> Result<Vec<u64>, NatsError> {
        let js = &self.inner.js;
        self.inner.run(async {
            let mut acks = Vec::with_capacity(records.len());
            for (subject, data) in records {
                let ack = js
                    .publish(subject.to_string(), bytes::Bytes::copy_from_slice(data))
                    .await
                    .map_err(|e| NatsError::Publish {
                        subject: subject.to_string(),
                        reason: e.to_string(),
                    })?;
                acks.push((subject, ack));
            }
            let mut seqs = Vec::with_capacity(acks.len());
            for (subject, ack) in acks {
                let ack = ack.await.map_err(|e| NatsError::Publish {
                    subject: subject.to_string(),
                    reason: e.to_string(),
                })?;
                seqs.push(ack.sequence);
            }
            Ok(seqs)
        })
    }

    /// The connection's state (for logs and tests).
    pub fn connected(&self) -> bool {
        self.inner.client.connection_state() == async_nats::connection::State::Connected
    }

    /// The stream's name in JetStream.
    pub fn stream(&self) -> &str {
        &self.stream
    }
}

impl PartitionedStream for JetStream {
    fn name(&self) -> &str {
        &self.name
    }

    fn partitions(&mut self) -> Result<Vec<PartitionInfo>, StreamError> {
        Ok((0..self.partitions)
            .map(|n| PartitionInfo {
                id: n.to_string(),
                parents: Vec::new(),
                closed: false,
            })
            .collect())
    }

    fn open(
        &mut self,
        partition: &str,
        from: &StartAt,
    ) -> Result<Box<dyn PartitionReader>, StreamError> {
        let n: u32 = partition
            .parse()
            .ok()
            .filter(|n| *n < self.partitions)
            .ok_or_else(|| StreamError {
                stream: self.name.clone(),
                reason: format!("no partition {partition}"),
            })?;
        if let StartAt::After(p) = from {
            if p.as_u64().is_none_or(|n| n == u64::MAX) {
                return Err(StreamError {
                    stream: self.name.clone(),
                    reason: format!("position {p} is beyond JetStream's sequences"),
                });
            }
        }
        Ok(Box::new(Reader {
            inner: self.inner.clone(),
            name: self.name.clone(),
            stream: self.stream.clone(),
            filter: partition_subject(n),
            from: from.clone(),
            last: None,
            messages: None,
            retry_at: None,
        }))
    }
}

/// One partition's reader: an ordered pull consumer, made again from the last
/// sequence read whenever it fails.
struct Reader {
    inner: Arc<Inner>,
    name: String,
    stream: String,
    filter: String,
    from: StartAt,
    /// The stream sequence of the last record handed out.
    last: Option<u64>,
    messages: Option<consumer::pull::Ordered>,
    /// After a failure to make the consumer: not before this.
    retry_at: Option<Instant>,
}

impl Reader {
    fn error(&self, reason: impl std::fmt::Display) -> StreamError {
        StreamError {
            stream: self.name.clone(),
            reason: format!("{}: {reason}", self.filter),
        }
    }

    fn deliver_policy(&self) -> consumer::DeliverPolicy {
        match (self.last, &self.from) {
            (Some(seq), _) => consumer::DeliverPolicy::ByStartSequence {
                start_sequence: seq + 1,
            },
            (None, StartAt::Oldest) => consumer::DeliverPolicy::All,
            (None, StartAt::After(p)) => consumer::DeliverPolicy::ByStartSequence {
                // `open` refused positions at or beyond u64::MAX.
                start_sequence: p.as_u64().unwrap_or(u64::MAX - 1) + 1,
            },
            (None, StartAt::Time(t)) => consumer::DeliverPolicy::ByStartTime { start_time: *t },
        }
    }

    async fn subscribe(&self) -> Result<consumer::pull::Ordered, String> {
        let stream = self
            .inner
            .js
            .get_stream(&self.stream)
            .await
            .map_err(|e| e.to_string())?;
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: self.filter.clone(),
                deliver_policy: self.deliver_policy(),
                max_batch: PULL_BATCH,
                max_bytes: PULL_BYTES,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        consumer.messages().await.map_err(|e| e.to_string())
    }
}

/// A JetStream message as a record.
fn record(m: &jetstream::Message) -> Option<Record> {
    let info = m.info().ok()?;
    Some(Record {
        position: Position::from(info.stream_sequence),
        arrived: info.published,
        key: key_of(m.subject.as_str()).to_string(),
        data: m.payload.to_vec(),
    })
}

impl PartitionReader for Reader {
    fn fetch(&mut self, max: usize, wait: Duration) -> Result<Fetched, StreamError> {
        let inner = self.inner.clone();
        inner.run(async {
            if self.messages.is_none() {
                if self.retry_at.is_some_and(|t| Instant::now() < t) {
                    return Err(self.error("waiting to make the consumer again"));
                }
                let made = match tokio::time::timeout(SUBSCRIBE_TIMEOUT, self.subscribe()).await {
                    Err(_) => Err("timed out making the consumer".to_string()),
                    Ok(m) => m,
                };
                match made {
                    Ok(m) => {
                        self.messages = Some(m);
                        self.retry_at = None;
                    }
                    Err(e) => {
                        self.retry_at = Some(Instant::now() + SUBSCRIBE_RETRY);
                        return Err(self.error(e));
                    }
                }
            }
            let mut records = Vec::new();
            let Some(messages) = self.messages.as_mut() else {
                return Ok(Fetched::default());
            };
            let mut failed = None;
            let first = match tokio::time::timeout(wait, messages.next()).await {
                Err(_) => return Ok(Fetched::default()),
                Ok(m) => m,
            };
            let mut next = Some(first);
            while let Some(item) = next.take() {
                match item {
                    Some(Ok(m)) => {
                        if let Some(r) = record(&m) {
                            let seq = r.position.as_u64().unwrap_or(0);
                            if self.last.is_none_or(|l| seq > l) {
                                self.last = Some(seq);
                                records.push(r);
                            }
                        }
                    }
                    Some(Err(e)) => {
                        failed = Some(e.to_string());
                        break;
                    }
                    None => {
                        failed = Some("the consumer ended".into());
                        break;
                    }
                }
                if records.len() >= max.max(1) {
                    break;
                }
                next = messages.next().now_or_never();
            }
            if let Some(e) = failed {
                // Made again from the last record on the next fetch.
                self.messages = None;
                if records.is_empty() {
                    return Err(self.error(e));
                }
            }
            Ok(Fetched {
                records,
                ended: false,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_producers_tokens_after_the_partition() {
        assert_eq!(partition_subject(3), "keibi.p.3.>");
        assert_eq!(key_of("keibi.p.3.db1.postgresql"), "db1.postgresql");
        assert_eq!(key_of("keibi.p.12.db1.audit.2026"), "db1.audit.2026");
        // Not a partition's subject: shown as it is.
        assert_eq!(
            key_of("keibi.p.x.db1.postgresql"),
            "keibi.p.x.db1.postgresql"
        );
        assert_eq!(key_of("keibi.p.3"), "keibi.p.3");
        assert_eq!(key_of("other.subject"), "other.subject");
        assert_eq!(key_of(""), "");
    }

    #[test]
    fn a_stream_without_partitions_or_a_server_is_an_error() {
        assert!(matches!(
            JetStream::connect("nats://127.0.0.1:9", "KEIBI", 0),
            Err(NatsError::Stream { .. })
        ));
        // Nothing listens on the discard port.
        let e = JetStream::connect("nats://127.0.0.1:9", "KEIBI", 2).unwrap_err();
        assert!(matches!(e, NatsError::Connect { .. }), "{e}");
    }
}
