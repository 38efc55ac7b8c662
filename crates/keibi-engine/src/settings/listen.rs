//! The `listen` section: push listeners of `keibi run` (`docs/sources.md`). Every
//! listener is off until an address is given; each one that takes requests refuses
//! those without its secret.

use keibi_notify::Secret;
use serde::{Deserialize, Deserializer, Serialize};

use super::values::Listen;

/// Listeners that logs are pushed to, and the bounds they share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenSettings {
    /// Amazon Data Firehose HTTP endpoint delivery.
    pub firehose: FirehoseListener,
    /// NDJSON or raw lines by HTTP POST (Fluent Bit, Vector).
    pub http: HttpListener,
    /// Syslog over UDP and TCP.
    pub syslog: SyslogListener,
    /// Largest request body, compressed or not, in bytes (Firehose's buffer size
    /// must be below it).
    pub max_body_bytes: u64,
    /// Bytes of received records waiting to be read; a request that would pass it
    /// is refused with 503 (Firehose and the log shippers send it again later).
    pub queue_bytes: u64,
}

impl Default for ListenSettings {
    fn default() -> Self {
        ListenSettings {
            firehose: FirehoseListener::default(),
            http: HttpListener::default(),
            syslog: SyslogListener::default(),
            max_body_bytes: 16 << 20,
            queue_bytes: 64 << 20,
        }
    }
}

impl ListenSettings {
    /// Whether any listener is on.
    pub fn any(&self) -> bool {
        self.firehose.listen.addr().is_some()
            || self.http.listen.addr().is_some()
            || self.syslog.udp.addr().is_some()
            || self.syslog.tcp.addr().is_some()
    }
}

/// The Firehose HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirehoseListener {
    /// Address and port (`127.0.0.1:9719`), or `off`.
    pub listen: Listen,
    /// The access key the delivery stream sends (`X-Amz-Firehose-Access-Key`);
    /// required when on.
    #[serde(deserialize_with = "secret")]
    pub access_key: Option<Secret>,
}

impl Default for FirehoseListener {
    fn default() -> Self {
        FirehoseListener {
            listen: Listen::Off,
            access_key: None,
        }
    }
}

/// NDJSON and raw-line POST.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpListener {
    /// Address and port (`127.0.0.1:9718`), or `off`.
    pub listen: Listen,
    /// The bearer token (or basic auth password) senders give; required when on.
    #[serde(deserialize_with = "secret")]
    pub token: Option<Secret>,
}

impl Default for HttpListener {
    fn default() -> Self {
        HttpListener {
            listen: Listen::Off,
            token: None,
        }
    }
}

/// Syslog receivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyslogListener {
    /// UDP address and port (`127.0.0.1:5514`), or `off`.
    pub udp: Listen,
    /// TCP address and port, or `off` (octet counting or newline framing).
    pub tcp: Listen,
    /// TCP connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Longest message read, in bytes; a longer one is cut there.
    pub max_line_bytes: usize,
}

impl Default for SyslogListener {
    fn default() -> Self {
        SyslogListener {
            udp: Listen::Off,
            tcp: Listen::Off,
            max_connections: 64,
            max_line_bytes: 64 << 10,
        }
    }
}

/// A secret written as a one-key map (`{env: NAME}`), as the notification
/// channels' (YAML itself would want a tag, `!env NAME`).
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v).map(Some).map_err(|e| {
            serde::de::Error::custom(format!(
                "a secret is {{env: NAME}}, {{file: PATH}} or {{value: ...}}: {e}"
            ))
        }),
    }
}
