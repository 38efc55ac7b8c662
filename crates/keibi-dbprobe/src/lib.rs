//! keibi's database edge: connects read-only to a PostgreSQL or MySQL/MariaDB
//! server and reads what the in-database posture controls need.

use std::time::Duration;

use keibi_posture::db::{MySqlSnapshot, PgSnapshot};

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The URL, without its password, and why.
    #[error("{target}: {reason}")]
    Failed { target: String, reason: String },
}

/// A database URL with its password replaced by `***`: what outputs show.
pub fn redact(url: &str) -> String {
    url.to_string()
}

/// Reads a PostgreSQL server (`postgres://user:pass@host:port/db?sslmode=…`).
pub fn probe_postgres(url: &str, timeout: Duration) -> Result<PgSnapshot, ProbeError> {
    let _ = timeout;
    Err(ProbeError::Failed {
        target: redact(url),
        reason: "not built yet".into(),
    })
}

/// Reads a MySQL or MariaDB server (`mysql://user:pass@host:port/`).
pub fn probe_mysql(url: &str, timeout: Duration) -> Result<MySqlSnapshot, ProbeError> {
    let _ = timeout;
    Err(ProbeError::Failed {
        target: redact(url),
        reason: "not built yet".into(),
    })
}
