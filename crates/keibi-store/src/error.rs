//! Why the store could not do what was asked. Every variant names the file; SQLite's
//! own codes are sorted into the cases a person can act on (not a store, damaged,
//! read-only, disk full, busy) so the binary can say what to do.

use std::path::PathBuf;

use rusqlite::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: not a keibi store ({why})")]
    Foreign { path: PathBuf, why: String },
    #[error("{path}: the store is damaged ({detail}); restore it from a backup or move it away and start a new one")]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "{path}: written by a newer keibi (store schema {found}, this keibi knows up to {known})"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{path}: the store is read-only here (permissions of the file, of its -wal and -shm beside it, or of its directory; or a read-only file system)")]
    ReadOnly { path: PathBuf },
    #[error("{path}: the disk is full; nothing was written (free space and retry)")]
    DiskFull { path: PathBuf },
    #[error("{path}: the store stayed locked by another process for longer than the busy timeout")]
    Busy { path: PathBuf },
    #[error("{path}: another keibi run is using this store; stop it first, or give this one its own --store")]
    InUse { path: PathBuf },
    #[error("{path}: {why}")]
    NotAFile { path: PathBuf, why: String },
    // No `#[source]`: the message already holds SQLite's words, and a chain printed
    // with `{:#}` would repeat them.
    #[error("{path}: {error}")]
    Sqlite {
        path: PathBuf,
        error: rusqlite::Error,
    },
    /// A PostgreSQL store's error (the path is the server's address, without a
    /// password). `transient`: the connection was lost, the server is starting or
    /// stopping, or a serialization conflict: the daemon holds the batch and retries.
    #[error("{path}: {error}")]
    Postgres {
        path: PathBuf,
        error: String,
        transient: bool,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: stored finding {id} cannot be read: {source}")]
    BadRow {
        path: PathBuf,
        id: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("no finding with an id starting with {0:?}")]
    NotFound(String),
    #[error("{prefix:?} is the start of {count} finding ids; give more of it")]
    Ambiguous { prefix: String, count: usize },
    #[error("checkpoint of {source_id} moves back from {stored} to {given} while other sources move on: a batch mixes replayed and new input, refused so nothing is counted twice")]
    CheckpointConflict {
        source_id: String,
        stored: u64,
        given: u64,
    },
    /// A commit fenced by a lease (a worker's partition) whose lease another worker
    /// holds now: nothing was written; the partition is the other worker's.
    #[error("lease {lease} is held by {holder} now (this worker's was epoch {epoch}): nothing was written")]
    LeaseLost {
        lease: String,
        holder: String,
        epoch: i64,
    },
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    /// Sorts an error of the SQL layer into the variant a person can act on.
    pub(crate) fn sql(path: &std::path::Path, e: impl Into<crate::sql::SqlError>) -> StoreError {
        use crate::sql::SqlError;
        match e.into() {
            SqlError::Sqlite(e) => StoreError::sqlite(path, e),
            SqlError::Postgres(e) => StoreError::postgres(path, &e),
            other => StoreError::Postgres {
                path: path.to_path_buf(),
                error: other.to_string(),
                transient: matches!(&other, SqlError::Type { why, .. } if why.contains("connection")),
            },
        }
    }

    fn postgres(path: &std::path::Path, e: &postgres::Error) -> StoreError {
        use postgres::error::SqlState;
        let transient = match e.code() {
            None => true,
            Some(c) => {
                c.code().starts_with("08")
                    || c.code().starts_with("57P")
                    || *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::T_R_DEADLOCK_DETECTED
                    || *c == SqlState::TOO_MANY_CONNECTIONS
                    || *c == SqlState::DISK_FULL
            }
        } || e.is_closed();
        StoreError::Postgres {
            path: path.to_path_buf(),
            error: crate::sql::pg_message(e),
            transient,
        }
    }

    /// Sorts an SQLite error into the variant a person can act on.
    pub(crate) fn sqlite(path: &std::path::Path, e: rusqlite::Error) -> StoreError {
        let path = path.to_path_buf();
        let (code, extended) = match &e {
            rusqlite::Error::SqliteFailure(f, _) => (Some(f.code), f.extended_code),
            _ => (None, 0),
        };
        match code {
            // The `-shm` beside the store could not be given its pages: on a full
            // disk, that is how opening fails (before any write could say SQLITE_FULL).
            Some(ErrorCode::SystemIoFailure) if extended == rusqlite::ffi::SQLITE_IOERR_SHMSIZE => {
                StoreError::DiskFull { path }
            }
            Some(ErrorCode::NotADatabase) => StoreError::Foreign {
                path,
                why: "not an SQLite database, or one whose header is damaged".into(),
            },
            Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
                path,
                detail: e.to_string(),
            },
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path },
            Some(ErrorCode::DiskFull) => StoreError::DiskFull { path },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy { path },
            _ => StoreError::Sqlite { path, error: e },
        }
    }

    /// A failure that may pass by itself (space freed, a lock released): a daemon
    /// keeps the batch and tries again instead of stopping.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::DiskFull { .. } | StoreError::Busy { .. })
            || matches!(
                self,
                StoreError::Postgres {
                    transient: true,
                    ..
                }
            )
            || matches!(self, StoreError::Io { source, .. } if source.raw_os_error() == Some(28))
    }
}
