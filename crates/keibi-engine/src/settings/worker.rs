//! The `stream` and `worker` sections (issue 20): the partitioned stream several
//! `keibi run --worker` processes share, and how each worker holds its leases
//! (`docs/scaling.md`).

use serde::{Deserialize, Serialize};

use super::values::Duration;

/// The partitioned stream the workers read (exactly one of `nats`, `kinesis`),
/// and how its records are read (like a source's `format`, `instance`...).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Stream {
    /// NATS JetStream: producers publish to `keibi.logs.<instance>.<log>`, the
    /// server maps them onto `partitions` subject partitions.
    pub nats: Option<NatsStream>,
    /// Amazon Kinesis Data Streams: one partition per shard, partition key = log
    /// group.
    pub kinesis: Option<KinesisStream>,
    /// Read raw records as this format instead of detecting it per key.
    pub format: Option<String>,
    /// Instance id for raw records' events [default: from the record's key].
    pub instance: Option<String>,
    /// PostgreSQL `log_line_prefix` of raw PostgreSQL records.
    pub pg_prefix: Option<String>,
    /// UTC offset of timestamps logged without a zone, e.g. `+09:00`.
    pub log_timezone: Option<String>,
}

impl Stream {
    /// Whether a stream is configured.
    pub fn any(&self) -> bool {
        self.nats.is_some() || self.kinesis.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatsStream {
    /// The server, `nats://host:4222`.
    pub url: String,
    /// The JetStream stream's name.
    pub stream: String,
    /// Subject partitions, as the server's mapping makes them (`partition(N, …)`).
    pub partitions: u32,
}

impl Default for NatsStream {
    fn default() -> Self {
        NatsStream {
            url: "nats://127.0.0.1:4222".into(),
            stream: "KEIBI".into(),
            partitions: 8,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KinesisStream {
    /// The stream's name.
    pub stream: String,
    /// Its region [default: the credential chain's].
    pub region: Option<String>,
    /// AWS profile [default: the standard chain].
    pub profile: Option<String>,
    /// Send the calls here (moto, a VPC endpoint).
    pub endpoint_url: Option<String>,
}

/// How a worker holds its leases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Worker {
    /// Unique among the workers sharing a store [default: host name and process
    /// id].
    pub id: Option<String>,
    /// A lease not renewed for this long is lost: a dead worker's partitions go to
    /// the others after at most this.
    pub lease_ttl: Duration,
    /// How often leases are renewed and partitions shared out (well under
    /// `lease_ttl`).
    pub renew_every: Duration,
}

impl Default for Worker {
    fn default() -> Self {
        Worker {
            id: None,
            lease_ttl: Duration::from_secs(10),
            renew_every: Duration::from_secs(3),
        }
    }
}
