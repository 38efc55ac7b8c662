//! The SQLite store: opening (checks, pragmas, migrations), commits, queries,
//! workflow, suppressions and retention.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use keibi_model::finding::Finding;
use keibi_model::{FindingChange, Severity};
use rusqlite::OpenFlags;

use crate::sql::{params, Conn as Connection, OptionalExtension, Tx};

use crate::merge::merge;
use crate::outbox::{add_entry, NewEntry};
use crate::{
    Applied, Checkpoint, Commit, Committed, FindingStore, HistoryEntry, OutboxKind, Outcome,
    PostureRound, Pruned, Query, Size, Status, StatusChange, StoreError, StoredFinding,
    Suppression, Transition, TypeCount,
};

/// keibi's mark in the SQLite header (`PRAGMA application_id`): "KEIB".
pub const APPLICATION_ID: i32 = 0x4b45_4942;

/// The migrations, in order; a store at schema `n` has had the first `n` applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001-initial.sql"),
    include_str!("../migrations/002-finding-text.sql"),
    include_str!("../migrations/003-outbox.sql"),
    include_str!("../migrations/004-notify-routing.sql"),
    include_str!("../migrations/005-actions.sql"),
    include_str!("../migrations/006-activity.sql"),
    include_str!("../migrations/007-users.sql"),
    include_str!("../migrations/008-dashboard.sql"),
    include_str!("../migrations/009-posture-rounds.sql"),
    include_str!("../migrations/010-leases.sql"),
    include_str!("../migrations/011-delivery-claims.sql"),
];

/// The schema this keibi writes.
pub const SCHEMA: i64 = MIGRATIONS.len() as i64;

/// The PostgreSQL migrations, in order (a store shared by several workers). The
/// first is SQLite's first nine; each later SQLite migration has its PostgreSQL one.
const PG_MIGRATIONS: &[&str] = &[
    include_str!("../migrations/pg/001-initial.sql"),
    include_str!("../migrations/pg/002-leases.sql"),
    include_str!("../migrations/pg/003-delivery-claims.sql"),
];

/// The PostgreSQL schema this keibi writes.
pub const PG_SCHEMA: i64 = PG_MIGRATIONS.len() as i64;

/// Whether `path` names a PostgreSQL store (`postgres://…` or `postgresql://…`, a
/// libpq URL) rather than an SQLite file.
pub fn is_postgres(path: &Path) -> bool {
    let s = path.as_os_str().to_string_lossy();
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// Whether there is a store at `path` to open (a PostgreSQL URL always names one:
/// opening it creates keibi's tables when missing).
pub fn exists(path: &Path) -> bool {
    is_postgres(path) || path.exists()
}

/// `path` as it may be shown to a person: a PostgreSQL URL without its password.
pub fn shown(path: &Path) -> String {
    if is_postgres(path) {
        redacted(&path.as_os_str().to_string_lossy())
    } else {
        path.display().to_string()
    }
}

/// A PostgreSQL URL as it may be shown: the password replaced.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, rest),
    };
    match auth.map(|a| a.split_once(':').map_or(a, |(u, _)| u)) {
        Some(user) if auth.is_some_and(|a| a.contains(':')) => {
            format!("{scheme}://{user}:***@{host}")
        }
        Some(user) => format!("{scheme}://{user}@{host}"),
        None => format!("{scheme}://{host}"),
    }
}

/// How long a command waits for another process's write transaction (the daemon
/// holds one for a batch, milliseconds) before it reports the store busy.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest accepted id prefix, note, name or reason, in bytes (they are typed by
/// people or come from a finding, and a store is no place for megabytes of text).
const MAX_TEXT: usize = 4096;

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
    Exclusive,
}

/// An open store.
pub struct Store {
    // Dropped before `lock`: closing another descriptor of the file drops the
    // process's POSIX locks on it, SQLite's included, so the connection goes first.
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// The file, held with an exclusive `flock` by [`Store::open_exclusive`].
    lock: Option<File>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// What is at `path` before SQLite sees it: a directory, a device or a missing
/// directory is said in words instead of SQLite's "unable to open database file".
fn check_path(path: &Path) -> Result<(), StoreError> {
    let not_a_file = |why: String| StoreError::NotAFile {
        path: path.to_path_buf(),
        why,
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(not_a_file(
            "is a directory; give the store's file (for example DIR/keibi.db)".into(),
        )),
        Ok(m) if !m.is_file() => Err(not_a_file("is not a regular file".into())),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            match std::fs::metadata(parent) {
                Ok(m) if m.is_dir() => Ok(()),
                Ok(_) => Err(not_a_file(format!("{} is not a directory", parent.display()))),
                Err(_) => Err(not_a_file(format!(
                    "the directory {} does not exist (keibi creates the store file, not its directory)",
                    parent.display()
                ))),
            }
        }
        Err(e) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// `path` with `suffix` appended (`keibi.db` → `keibi.db-wal`).
fn wal_path(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A path as a `file:` URI path: `%`, `?` and `#` escaped (SQLite decodes `%HH`).
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'%' | b'?' | b'#' => out.push_str(&format!("%{b:02X}")),
            _ if b.is_ascii() && !b.is_ascii_control() => out.push(char::from(*b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn bounded(what: &str, s: &Option<String>) -> Result<(), StoreError> {
    match s {
        Some(v) if v.len() > MAX_TEXT => Err(StoreError::Invalid(format!(
            "{what} is longer than {MAX_TEXT} bytes"
        ))),
        _ => Ok(()),
    }
}

impl Store {
    /// Opens the store for reading and writing, creating it when missing: checks it
    /// is keibi's and undamaged (`quick_check`, which reads the whole file), sets WAL
    /// and `synchronous = FULL`, and applies pending migrations.
    ///
    /// Everything that can refuse the file (not a file, not keibi's, read-only, newer,
    /// damaged) is checked before the first write, so a refused file is left as it
    /// was.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if is_postgres(path) {
            return Store::open_postgres(path, Access::Write);
        }
        check_path(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut store = Store::connect(path, flags)?;
        let fresh = store.identify()?;
        if store
            .lite()?
            .is_readonly(rusqlite::MAIN_DB)
            .unwrap_or(false)
        {
            return Err(StoreError::ReadOnly {
                path: path.to_path_buf(),
            });
        }
        if !fresh {
            store.not_newer()?;
            // What a keibi store of its own schema number must hold, checked before
            // a migration writes to it (an impostor at an older number too).
            let version = store.user_version()?;
            if version > 0 {
                store.has_schema_at(version)?;
            }
            store.quick_check()?;
        }
        if fresh {
            // Must precede the first table; lets prune give pages back to the disk.
            store.exec("PRAGMA auto_vacuum = INCREMENTAL")?;
        }
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| store.err(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Invalid(format!(
                "{}: the file system does not allow a write-ahead log (journal mode {mode})",
                path.display()
            )));
        }
        store.exec("PRAGMA synchronous = FULL")?;
        // After a large commit (an import) the WAL is cut back to this at the next
        // checkpoint instead of keeping its largest size.
        store.exec("PRAGMA journal_size_limit = 16777216")?;
        store.migrate()?;
        Ok(store)
    }

    /// [`Store::open`] for the one process that follows sources into this store
    /// (`keibi run`): the file is held with an exclusive advisory lock (`flock`)
    /// until the store is dropped, so a second daemon on the same file is refused
    /// ([`StoreError::InUse`]) instead of reading every source a second time. The
    /// `keibi findings` commands do not take it. The lock goes with the process, so
    /// a killed daemon leaves nothing to clean up.
    pub fn open_exclusive(path: &Path) -> Result<Store, StoreError> {
        if is_postgres(path) {
            return Store::open_postgres(path, Access::Exclusive);
        }
        check_path(path)?;
        let io = |source: std::io::Error| match source.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                StoreError::ReadOnly {
                    path: path.to_path_buf(),
                }
            }
            _ => StoreError::Io {
                path: path.to_path_buf(),
                source,
            },
        };
        let file = match File::open(path) {
            Ok(f) => f,
            // A new store: an empty file is what SQLite takes for a new database.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .or_else(|_| File::open(path))
                .map_err(io)?,
            Err(e) => return Err(io(e)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::InUse {
                    path: path.to_path_buf(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let mut store = Store::open(path)?;
        store.lock = Some(file);
        Ok(store)
    }

    /// Opens an existing store for reading only (`SQLITE_OPEN_READ_ONLY`): nothing
    /// can be written through it, whatever the file's permissions.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if is_postgres(path) {
            return Store::open_postgres(path, Access::Read);
        }
        if !path.exists() {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no store here"),
            });
        }
        check_path(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let store = match Store::connect(path, flags).and_then(|s| s.identify().map(|f| (s, f))) {
            Ok((s, fresh)) => {
                if fresh {
                    return Err(StoreError::Foreign {
                        path: path.to_path_buf(),
                        why: "an empty file".into(),
                    });
                }
                s
            }
            // A WAL store needs a `-shm` beside it that this process may write,
            // created by the first reader when missing; in a directory nobody may
            // write to, that fails. With no `-wal` or an empty one, every commit is
            // in the file itself, and SQLite may read it as immutable (no locks, no
            // `-shm`): no daemon can be writing there, it could not make its `-wal`.
            // The same on a full disk, where the `-shm` cannot be given its pages (a
            // running daemon's would have them).
            Err(StoreError::ReadOnly { .. })
            | Err(StoreError::Sqlite { .. })
            | Err(StoreError::DiskFull { .. })
                if std::fs::metadata(wal_path(path, "-wal")).map_or(true, |m| m.len() == 0) =>
            {
                Store::connect_immutable(path)?
            }
            Err(e) => return Err(e),
        };
        if store.identify()? {
            return Err(StoreError::Foreign {
                path: path.to_path_buf(),
                why: "an empty file".into(),
            });
        }
        let version = store.user_version()?;
        if version > SCHEMA {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: version,
                known: SCHEMA,
            });
        }
        if version > 0 {
            store.has_schema_at(version)?;
        }
        if version < SCHEMA {
            return Err(StoreError::Invalid(format!(
                "{}: store schema {version} is older than this keibi's ({SCHEMA}); open it once for writing to upgrade it",
                path.display()
            )));
        }
        store.has_schema()?;
        Ok(store)
    }

    /// A PostgreSQL store (`path` is its URL): connects, refuses a schema holding
    /// other tables or a newer keibi's, and applies pending migrations (under a
    /// lock: several workers may start at once). `Exclusive` is the one `keibi run`
    /// that follows sources into this store (a session advisory lock, released when
    /// the connection ends); workers sharing the store open it with `Write`.
    fn open_postgres(path: &Path, access: Access) -> Result<Store, StoreError> {
        let url = path.as_os_str().to_string_lossy().into_owned();
        let shown = PathBuf::from(redacted(&url));
        let mut config: postgres::Config = url.parse().map_err(|e| {
            StoreError::Invalid(format!("{}: not a PostgreSQL URL: {e}", shown.display()))
        })?;
        // libpq's convention: the password from the environment, not the URL
        // (which settings files and process lists show).
        if config.get_password().is_none() {
            if let Some(pw) = std::env::var_os("PGPASSWORD") {
                config.password(pw.as_encoded_bytes());
            }
        }
        let conn = crate::sql::PgConn::connect(config).map_err(|e| StoreError::sql(&shown, e))?;
        let store = Store {
            conn: Connection::postgres(conn),
            path: shown,
            lock: None,
        };
        let err = |e| StoreError::sql(&store.path, e);
        let lock = crate::sql::WRITE_LOCK + 1;
        store
            .conn
            .execute_batch(&format!("SELECT pg_advisory_lock({lock})"))
            .map_err(err)?;
        let migrated = store.migrate_postgres(access == Access::Read);
        let unlocked = store
            .conn
            .execute_batch(&format!("SELECT pg_advisory_unlock({lock})"))
            .map_err(err);
        migrated?;
        unlocked?;
        match access {
            Access::Read => store
                .conn
                .execute_batch("SET default_transaction_read_only = on")
                .map_err(err)?,
            Access::Exclusive => {
                let mine: bool = store
                    .conn
                    .query_row(
                        "SELECT pg_try_advisory_lock(?1)",
                        [crate::sql::WRITE_LOCK + 2],
                        |r| r.get(0),
                    )
                    .map_err(err)?;
                if !mine {
                    return Err(StoreError::InUse { path: store.path });
                }
            }
            Access::Write => {}
        }
        Ok(store)
    }

    /// The PostgreSQL schema's version, after refusing what is not keibi's.
    fn postgres_version(&self) -> Result<i64, StoreError> {
        let err = |e| StoreError::sql(&self.path, e);
        let ours: bool = self
            .conn
            .query_row("SELECT to_regclass('keibi_schema') IS NOT NULL", [], |r| {
                r.get(0)
            })
            .map_err(err)?;
        if ours {
            return self
                .conn
                .query_row("SELECT version FROM keibi_schema", [], |r| r.get(0))
                .map_err(err);
        }
        let tables: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        if tables > 0 {
            return Err(StoreError::Foreign {
                path: self.path.clone(),
                why: format!(
                    "its schema holds {tables} tables but not keibi's; give keibi a database or schema of its own (options=-csearch_path=keibi)"
                ),
            });
        }
        Ok(0)
    }

    fn migrate_postgres(&self, read_only: bool) -> Result<(), StoreError> {
        let version = self.postgres_version()?;
        if version > PG_SCHEMA {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                known: PG_SCHEMA,
            });
        }
        if version == PG_SCHEMA {
            return Ok(());
        }
        if read_only {
            return Err(StoreError::Invalid(format!(
                "{}: store schema {version} is older than this keibi's ({PG_SCHEMA}); open it once for writing to upgrade it",
                self.path.display()
            )));
        }
        let err = |e| StoreError::sql(&self.path, e);
        let tx = self.conn.begin_write().map_err(err)?;
        if version == 0 {
            tx.execute_batch(
                "CREATE TABLE keibi_schema (application TEXT NOT NULL, version BIGINT NOT NULL);
                 INSERT INTO keibi_schema VALUES ('keibi', 0);",
            )
            .map_err(err)?;
        }
        for sql in PG_MIGRATIONS
            .iter()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            tx.execute_batch(sql).map_err(err)?;
        }
        tx.execute("UPDATE keibi_schema SET version = ?1", [PG_SCHEMA])
            .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Whether the connection to the store is encrypted (TLS to a PostgreSQL
    /// server, as the server reports it); an SQLite file is local: false.
    pub fn connection_uses_tls(&self) -> Result<bool, StoreError> {
        if self.conn.sqlite().is_some() {
            return Ok(false);
        }
        self.conn
            .query_row(
                "SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Which engine this store is on.
    pub fn dialect(&self) -> crate::sql::Dialect {
        self.conn.dialect()
    }

    fn connect(path: &Path, flags: OpenFlags) -> Result<Store, StoreError> {
        let conn = rusqlite::Connection::open_with_flags(path, flags)
            .map_err(|e| StoreError::sql(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| StoreError::sql(path, e))?;
        Ok(Store {
            conn: Connection::Sqlite(conn),
            path: path.to_path_buf(),
            lock: None,
        })
    }

    /// Read-only with `immutable=1`: SQLite takes no lock and wants no `-shm`.
    fn connect_immutable(path: &Path) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = rusqlite::Connection::open_with_flags(
            format!("file:{}?immutable=1", uri_path(path)),
            flags,
        )
        .map_err(|e| StoreError::sql(path, e))?;
        let store = Store {
            conn: Connection::Sqlite(conn),
            path: path.to_path_buf(),
            lock: None,
        };
        store.identify()?;
        Ok(store)
    }

    /// Refuses a file marked as keibi's whose tables are not the ones its schema
    /// number says (every table and column of the migrations must be there), instead
    /// of failing later on a query with "no such column".
    fn has_schema(&self) -> Result<(), StoreError> {
        self.has_schema_at(SCHEMA)
    }

    /// [`Store::has_schema`] for a store at schema `version`: the tables and columns
    /// its first `version` migrations create.
    fn has_schema_at(&self, version: i64) -> Result<(), StoreError> {
        const COLUMNS: &str =
            "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'";
        let columns = |c: &rusqlite::Connection| -> rusqlite::Result<
            std::collections::BTreeSet<(String, String)>,
        > {
            let mut stmt = c.prepare(COLUMNS)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        };
        let want = rusqlite::Connection::open_in_memory()
            .and_then(|c| {
                for sql in MIGRATIONS
                    .iter()
                    .take(usize::try_from(version).unwrap_or(usize::MAX))
                {
                    c.execute_batch(sql)?;
                }
                columns(&c)
            })
            .map_err(|e| self.err(e))?;
        let have = columns(self.lite()?).map_err(|e| self.err(e))?;
        let missing: Vec<String> = want
            .difference(&have)
            .take(3)
            .map(|(t, c)| format!("{t}.{c}"))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(StoreError::Foreign {
            path: self.path.clone(),
            why: format!(
                "it carries keibi's mark but lacks {} of its schema {version}",
                missing.join(", ")
            ),
        })
    }

    /// Refuses a store of a newer schema before anything is written to it.
    fn not_newer(&self) -> Result<(), StoreError> {
        let version = self.user_version()?;
        if version > SCHEMA {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                known: SCHEMA,
            });
        }
        Ok(())
    }

    /// Refuses a file that is not keibi's; true when it is a new, empty database.
    fn identify(&self) -> Result<bool, StoreError> {
        let app: i32 = self
            .conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if app == APPLICATION_ID {
            return Ok(false);
        }
        let objects: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        match (app, objects) {
            (0, 0) => Ok(true),
            (0, _) => Err(StoreError::Foreign {
                path: self.path.clone(),
                why: "an SQLite database without keibi's application id".into(),
            }),
            (other, _) => Err(StoreError::Foreign {
                path: self.path.clone(),
                why: format!(
                    "an SQLite database of another application (application id {other:#x})"
                ),
            }),
        }
    }

    fn quick_check(&self) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA quick_check(5)")
            .map_err(|e| self.err(e))?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        if rows.len() == 1 && rows[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: rows.join("; "),
            })
        }
    }

    fn user_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Applies the migrations the store lacks, all in one transaction, and stamps
    /// the application id with the first.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.conn.begin_write().map_err(err)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if version > SCHEMA {
            return Err(StoreError::TooNew {
                path: path.clone(),
                found: version,
                known: SCHEMA,
            });
        }
        if version == SCHEMA {
            return Ok(());
        }
        for sql in MIGRATIONS
            .iter()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            tx.execute_batch(sql).map_err(err)?;
        }
        tx.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA};"
        ))
        .map_err(err)?;
        tx.commit().map_err(err)?;
        self.has_schema()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn err(&self, e: impl Into<crate::sql::SqlError>) -> StoreError {
        StoreError::sql(&self.path, e)
    }

    /// The SQLite connection, for what only SQLite has (pragmas, the file).
    fn lite(&self) -> Result<&rusqlite::Connection, StoreError> {
        self.conn.sqlite().ok_or_else(|| {
            StoreError::Invalid(format!("{}: not an SQLite store", self.path.display()))
        })
    }

    fn exec(&self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql).map_err(|e| self.err(e))
    }

    pub(crate) fn write_tx(&mut self) -> Result<Tx<'_>, StoreError> {
        self.conn
            .begin_write()
            .map_err(|e| StoreError::sql(&self.path, e))
    }

    /// The sizes of the file, its WAL and its free pages, and the rows kept.
    pub fn size(&self) -> Result<Size, StoreError> {
        if self.conn.sqlite().is_none() {
            // PostgreSQL: the database's size on its server; no WAL or free pages of
            // keibi's own.
            let q = |sql: &str| -> Result<u64, StoreError> {
                let v: i64 = self
                    .conn
                    .query_row(sql, [], |r| r.get(0))
                    .map_err(|e| self.err(e))?;
                Ok(u64::try_from(v).unwrap_or(0))
            };
            return Ok(Size {
                file: q("SELECT pg_database_size(current_database())")?,
                wal: 0,
                free: 0,
                findings: q("SELECT count(*) FROM findings")?,
                history: q("SELECT count(*) FROM history")?,
            });
        }
        let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let mut wal = self.path.as_os_str().to_owned();
        wal.push("-wal");
        let q = |sql: &str| -> Result<u64, StoreError> {
            let v: i64 = self
                .conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(|e| self.err(e))?;
            Ok(u64::try_from(v).unwrap_or(0))
        };
        Ok(Size {
            file: len(&self.path),
            wal: len(Path::new(&wal)),
            free: q("PRAGMA freelist_count")?.saturating_mul(q("PRAGMA page_size")?),
            findings: q("SELECT count(*) FROM findings")?,
            history: q("SELECT count(*) FROM history")?,
        })
    }

    /// How many findings have each status (every status, in [`Status::ALL`]'s order).
    pub fn count_by_status(&self) -> Result<Vec<(Status, u64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT status, count(*) FROM findings GROUP BY status")
            .map_err(|e| self.err(e))?;
        let rows: Vec<(String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|r| r.collect())
            .map_err(|e| self.err(e))?;
        Ok(Status::ALL
            .iter()
            .map(|st| {
                let n = rows
                    .iter()
                    .find(|(s, _)| s == st.as_str())
                    .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0));
                (*st, n)
            })
            .collect())
    }

    /// Removes findings last seen before `older_than`, with their history. With
    /// `export`, they are first written to a new `keibi-findings-*.jsonl.zst` in that
    /// directory (one JSON object per finding: the finding, its workflow and its
    /// history), which is written under a temporary name, flushed to disk and renamed
    /// into place before the deletion commits: a failure leaves the store as it was,
    /// never findings neither exported nor kept, and a crash between the rename and
    /// the commit leaves the findings in the store (exported again by the next prune:
    /// a duplicate, never a loss). With `idle`, a finding must also not have changed
    /// in the store since `older_than` (the daemon's retention: a finding just read
    /// from an old log is kept).
    fn prune_export(
        &mut self,
        older_than: DateTime<Utc>,
        idle: bool,
        export: Option<&Path>,
        at: DateTime<Utc>,
    ) -> Result<Pruned, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let cutoff = millis(older_than);
        // A finding with an action still to run, running, retried or in force (and
        // undoable) is kept: `keibi actions` and the executors' notices show it.
        // (Action rows keep their own snapshot of the finding, so the journal reads
        // whole either way.)
        let lasting: Vec<String> = keibi_respond::Kind::ALL
            .into_iter()
            .filter(|k| k.undoable())
            .map(|k| format!("'{}'", k.as_str()))
            .collect();
        let no_live_action = format!(
            "id NOT IN (SELECT finding_id FROM actions \
             WHERE state IN ('planned', 'approved', 'executing', 'undoing') \
             OR (state = 'failed' AND next_at IS NOT NULL) \
             OR (state = 'executed' AND kind IN ({})))",
            lasting.join(", ")
        );
        let old = if idle {
            format!("last_seen < ?1 AND updated_at < ?1 AND {no_live_action}")
        } else {
            format!("last_seen < ?1 AND {no_live_action}")
        };
        let old = old.as_str();
        let tx = self.write_tx()?;
        let mut pruned = Pruned::default();
        if let Some(dir) = export {
            pruned.exported_to = export_old(&tx, &path, old, older_than, dir, at)?;
        }
        pruned.history = tx
            .execute(
                &format!(
                    "DELETE FROM history WHERE finding_id IN (SELECT id FROM findings WHERE {old})"
                ),
                [cutoff],
            )
            .map_err(err)? as u64;
        tx.execute(
            &format!(
                "DELETE FROM finding_actors WHERE finding_id IN (SELECT id FROM findings WHERE {old})"
            ),
            [cutoff],
        )
        .map_err(err)?;
        pruned.findings = tx
            .execute(&format!("DELETE FROM findings WHERE {old}"), [cutoff])
            .map_err(err)? as u64;
        tx.commit().map_err(err)?;
        // Give the freed pages back to the file system: move them to the end and cut
        // (into the WAL), then fold the WAL into the file, which shrinks it.
        if self.conn.sqlite().is_some() {
            self.exec("PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);")?;
        }
        Ok(pruned)
    }

    /// The daemon's retention: deletes findings neither seen in a log nor changed in
    /// the store since `older_than`, with their history, exported first to `export`
    /// when given (as [`FindingStore::prune`]).
    pub fn expire(
        &mut self,
        older_than: DateTime<Utc>,
        export: Option<&Path>,
        at: DateTime<Utc>,
    ) -> Result<Pruned, StoreError> {
        self.prune_export(older_than, true, export, at)
    }

    /// How many findings there are of each type, severity band and status (only
    /// the combinations that have some), by type.
    pub fn count_by_type(&self) -> Result<Vec<TypeCount>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT type, severity, status, count(*) FROM findings GROUP BY type, severity, status",
            )
            .map_err(|e| self.err(e))?;
        let rows: Vec<(String, f64, String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .and_then(|r| r.collect())
            .map_err(|e| self.err(e))?;
        let mut out: Vec<TypeCount> = Vec::new();
        for (finding_type, severity, status, n) in rows {
            let label = Severity::new(severity).label();
            let status = Status::ALL
                .into_iter()
                .find(|s| s.as_str() == status)
                .unwrap_or(Status::New);
            let count = u64::try_from(n).unwrap_or(0);
            match out.iter_mut().find(|c| {
                c.finding_type == finding_type && c.severity == label && c.status == status
            }) {
                Some(c) => c.count += count,
                None => out.push(TypeCount {
                    finding_type,
                    severity: label,
                    status,
                    count,
                }),
            }
        }
        out.sort_by(|a, b| {
            (&a.finding_type, a.severity, a.status.as_str()).cmp(&(
                &b.finding_type,
                b.severity,
                b.status.as_str(),
            ))
        });
        Ok(out)
    }

    pub(crate) fn resolve_id(
        conn: &Connection,
        path: &Path,
        prefix: &str,
    ) -> Result<String, StoreError> {
        let p = prefix.trim().to_ascii_lowercase();
        if p.is_empty() || p.len() > 64 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Invalid(format!(
                "{prefix:?} is not a finding id (hexadecimal digits, or the start of them)"
            )));
        }
        let mut stmt = conn
            .prepare("SELECT id FROM findings WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 2")
            .map_err(|e| StoreError::sql(path, e))?;
        let ids: Vec<String> = stmt
            .query_map([&p], |r| r.get(0))
            .and_then(|r| r.collect())
            .map_err(|e| StoreError::sql(path, e))?;
        match ids.len() {
            0 => Err(StoreError::NotFound(p)),
            1 => Ok(ids.into_iter().next().unwrap_or_default()),
            _ => {
                let count: i64 = conn
                    .query_row(
                        "SELECT count(*) FROM findings WHERE id >= ?1 AND id < ?1 || 'g'",
                        [&p],
                        |r| r.get(0),
                    )
                    .map_err(|e| StoreError::sql(path, e))?;
                Err(StoreError::Ambiguous {
                    prefix: p,
                    count: usize::try_from(count).unwrap_or(usize::MAX),
                })
            }
        }
    }

    fn active_suppressions(
        tx: &Connection,
        path: &Path,
        now: DateTime<Utc>,
    ) -> Result<Vec<Suppression>, StoreError> {
        Ok(read_suppressions(tx, path)?
            .into_iter()
            .filter(|s| s.expires_at.is_none_or(|t| t > now))
            .collect())
    }
}

/// Writes the findings `old` selects (`?1`: `older_than`) to a new
/// `keibi-findings-before-*.jsonl.zst` in `dir`: under a hidden `.partial` name
/// first, flushed to disk, then renamed into place and the directory flushed, so a
/// file with the final name is always complete. `None` when there is nothing to
/// export (no empty file).
fn export_old(
    tx: &Connection,
    path: &Path,
    old: &str,
    older_than: DateTime<Utc>,
    dir: &Path,
    at: DateTime<Utc>,
) -> Result<Option<PathBuf>, StoreError> {
    let err = |e| StoreError::sql(path, e);
    let ids: Vec<String> = tx
        .query_map(
            &format!("SELECT id FROM findings WHERE {old} ORDER BY first_seen, id"),
            [millis(older_than)],
            |r| r.get(0),
        )
        .map_err(err)?;
    if ids.is_empty() {
        return Ok(None);
    }
    let name = format!(
        "keibi-findings-before-{}-{}.jsonl.zst",
        older_than.format("%Y%m%dT%H%M%SZ"),
        at.format("%Y%m%dT%H%M%S%.3fZ")
    );
    let file_path = dir.join(&name);
    let partial = dir.join(format!(".{name}.partial"));
    let io = |source| StoreError::Io {
        path: file_path.clone(),
        source,
    };
    if file_path.exists() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "an export of that name is already there",
        )));
    }
    let write = || -> Result<(), StoreError> {
        let file = File::options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&partial)
            .map_err(io)?;
        let mut enc = zstd::Encoder::new(BufWriter::new(file), 3).map_err(io)?;
        for id in &ids {
            let stored = read_finding(tx, path, id)?;
            let history = read_history(tx, path, id)?;
            let line = finding_json(&stored, &history);
            serde_json::to_writer(&mut enc, &line).map_err(|e| io(e.into()))?;
            enc.write_all(b"\n").map_err(io)?;
        }
        let buf = enc.finish().map_err(io)?;
        let file = buf.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&partial, &file_path).map_err(io)?;
        // The new name must survive a crash too.
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    Ok(Some(file_path))
}

/// A finding, its workflow and its history as one JSON object: a line of a
/// [`Store::prune`] export, and `keibi findings show --format json`.
pub fn finding_json(f: &StoredFinding, history: &[HistoryEntry]) -> serde_json::Value {
    let t = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    serde_json::json!({
        "finding": f.finding,
        "status": f.status.as_str(),
        "status_by": f.status_by,
        "status_at": f.status_at.as_ref().map(t),
        "status_note": f.status_note,
        "history": history.iter().map(|h| serde_json::json!({
            "at": t(&h.at),
            "what": h.what,
            "count": h.count,
            "severity": h.severity,
            "by": h.by,
            "note": h.note,
        })).collect::<Vec<_>>(),
    })
}

fn status_of(s: &str) -> Status {
    s.parse().unwrap_or(Status::New)
}

pub(crate) const FINDING_COLUMNS: &str =
    "finding, status, status_by, status_at, status_note, updated_at, id, text";

pub(crate) fn stored_from_row(
    path: &Path,
    r: &crate::sql::Row<'_>,
) -> Result<StoredFinding, StoreError> {
    let get = |e| StoreError::sql(path, e);
    let json: String = r.get(0).map_err(get)?;
    let id: String = r.get(6).map_err(get)?;
    let mut finding: Finding =
        serde_json::from_str(&json).map_err(|source| StoreError::BadRow {
            path: path.to_path_buf(),
            id,
            source,
        })?;
    // The messages are a rendering aid: a text that does not read (a damaged row, a
    // newer keibi's message shape) leaves the finding in its stored English.
    let text: Option<String> = r.get(7).map_err(get)?;
    finding.text = text
        .and_then(|t| serde_json::from_str::<keibi_model::FindingText>(&t).ok())
        .map(Box::new);
    let status: String = r.get(1).map_err(get)?;
    Ok(StoredFinding {
        finding,
        status: status_of(&status),
        status_by: r.get(2).map_err(get)?,
        status_at: r.get::<_, Option<i64>>(3).map_err(get)?.map(from_millis),
        status_note: r.get(4).map_err(get)?,
        updated_at: from_millis(r.get(5).map_err(get)?),
    })
}

pub(crate) fn read_finding_opt(
    conn: &Connection,
    path: &Path,
    id: &str,
) -> Result<Option<StoredFinding>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE id = ?1"
        ))
        .map_err(|e| StoreError::sql(path, e))?;
    let mut rows = stmt.query([id]).map_err(|e| StoreError::sql(path, e))?;
    match rows.next().map_err(|e| StoreError::sql(path, e))? {
        Some(r) => Ok(Some(stored_from_row(path, r)?)),
        None => Ok(None),
    }
}

fn read_finding(conn: &Connection, path: &Path, id: &str) -> Result<StoredFinding, StoreError> {
    read_finding_opt(conn, path, id)?.ok_or_else(|| StoreError::NotFound(id.to_string()))
}

fn read_history(conn: &Connection, path: &Path, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
    let err = |e| StoreError::sql(path, e);
    let mut stmt = conn
        .prepare(
            "SELECT at, what, count, severity, by, note FROM history WHERE finding_id = ?1 ORDER BY seq",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(HistoryEntry {
                at: from_millis(r.get(0)?),
                what: r.get(1)?,
                count: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                severity: Severity::new(r.get(3)?),
                by: r.get(4)?,
                note: r.get(5)?,
            })
        })
        .and_then(|r| r.collect())
        .map_err(err)?;
    Ok(rows)
}

fn read_suppressions(conn: &Connection, path: &Path) -> Result<Vec<Suppression>, StoreError> {
    let err = |e| StoreError::sql(path, e);
    let mut stmt = conn
        .prepare(
            "SELECT id, type, resource, network, user, expires_at, reason, created_by, created_at
             FROM suppressions ORDER BY id",
        )
        .map_err(err)?;
    let rows: Vec<(Suppression, Option<String>)> = stmt
        .query_map([], |r| {
            let s = Suppression {
                id: r.get(0)?,
                finding_type: r.get(1)?,
                resource: r.get(2)?,
                network: None,
                user: r.get(4)?,
                expires_at: r.get::<_, Option<i64>>(5)?.map(from_millis),
                reason: r.get(6)?,
                created_by: r.get(7)?,
                created_at: from_millis(r.get(8)?),
            };
            Ok((s, r.get(3)?))
        })
        .and_then(|r| r.collect())
        .map_err(err)?;
    // Written by this crate from a parsed range: one that no longer parses is damage,
    // reported rather than guessed at (a wrong guess would silence findings).
    rows.into_iter()
        .map(|(mut s, network)| {
            if let Some(n) = network {
                s.network = Some(n.parse().map_err(|_| StoreError::Corrupt {
                    path: path.to_path_buf(),
                    detail: format!("suppression rule {} has an unreadable range {n:?}", s.id),
                })?);
            }
            Ok(s)
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn add_history(
    tx: &Connection,
    path: &Path,
    id: &str,
    at: DateTime<Utc>,
    what: &str,
    f: &Finding,
    by: Option<&str>,
    note: Option<&str>,
) -> Result<(), StoreError> {
    let err = |e| StoreError::sql(path, e);
    let count = i64::try_from(f.count).unwrap_or(i64::MAX);
    // A run of the same detection entry is one row that moves on, so history grows
    // with what happened to the finding, not with the number of batches. Moving on,
    // it takes the next number (a new row, then the old one deleted: the order keeps
    // SQLite from handing the deleted number out again, and a sequence or identity
    // column numbers it the same way), so a reader of changes after a position
    // (`Store::changes_after`) sees the finding again.
    let mut replaces = None;
    if what == "grew" || what == "closed" {
        let last: Option<(i64, String)> = tx
            .prepare_cached(
                "SELECT seq, what FROM history WHERE finding_id = ?1 ORDER BY seq DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(err)?;
        replaces = last.filter(|(_, w)| w == what).map(|(seq, _)| seq);
    }
    tx.prepare_cached(
        "INSERT INTO history (finding_id, at, what, count, severity, by, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            id,
            millis(at),
            what,
            count,
            f.severity.value(),
            by,
            note
        ])
    })
    .map_err(err)?;
    if let Some(seq) = replaces {
        tx.prepare_cached("DELETE FROM history WHERE seq = ?1")
            .and_then(|mut stmt| stmt.execute([seq]))
            .map_err(err)?;
    }
    Ok(())
}

struct Row<'a> {
    f: &'a Finding,
    status: Status,
    status_by: Option<&'a str>,
    status_at: Option<DateTime<Utc>>,
    status_note: Option<&'a str>,
    suppression: Option<i64>,
    at: DateTime<Utc>,
}

fn write_row(tx: &Connection, path: &Path, row: &Row<'_>) -> Result<(), StoreError> {
    let err = |e| StoreError::sql(path, e);
    let f = row.f;
    let json = serde_json::to_string(f).map_err(|source| StoreError::BadRow {
        path: path.to_path_buf(),
        id: f.id.clone(),
        source,
    })?;
    let text = match &f.text {
        Some(t) => Some(
            serde_json::to_string(t).map_err(|source| StoreError::BadRow {
                path: path.to_path_buf(),
                id: f.id.clone(),
                source,
            })?,
        ),
        None => None,
    };
    tx.prepare_cached(
        "INSERT INTO findings (id, type, severity, first_seen, last_seen, count, resource_id,
             actor_ip, actor_user, detector, status, status_by, status_at, status_note,
             suppression, updated_at, finding, text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18)
         ON CONFLICT (id) DO UPDATE SET type = excluded.type, severity = excluded.severity,
             first_seen = excluded.first_seen, last_seen = excluded.last_seen,
             count = excluded.count, resource_id = excluded.resource_id,
             actor_ip = excluded.actor_ip, actor_user = excluded.actor_user,
             detector = excluded.detector, status = excluded.status,
             status_by = excluded.status_by, status_at = excluded.status_at,
             status_note = excluded.status_note, suppression = excluded.suppression,
             updated_at = excluded.updated_at, finding = excluded.finding,
             text = excluded.text",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            f.id,
            f.finding_type,
            f.severity.value(),
            millis(f.first_seen),
            millis(f.last_seen),
            i64::try_from(f.count).unwrap_or(i64::MAX),
            f.resource.id,
            f.actor.ip.map(|ip| ip.to_string()),
            f.actor.user,
            f.detector,
            row.status.as_str(),
            row.status_by,
            row.status_at.map(millis),
            row.status_note,
            row.suppression,
            millis(row.at),
            json,
            text,
        ])
    })
    .map_err(err)?;
    crate::activity::index_actors(tx, path, f)
}

/// Applies one finding change inside the commit's transaction.
fn apply_change(
    tx: &Connection,
    path: &Path,
    change: &FindingChange,
    added: u64,
    at: DateTime<Utc>,
    rules: &[Suppression],
    outbox: bool,
) -> Result<Applied, StoreError> {
    let id = &change.finding.id;
    if id.is_empty() || id.len() > 128 {
        return Err(StoreError::Invalid(format!(
            "a finding change has an id of {} bytes",
            id.len()
        )));
    }
    let rule_for = |f: &Finding| rules.iter().find(|r| r.matches(f, at)).map(|r| r.id);
    let Some(old) = read_finding_opt(tx, path, id)? else {
        let mut f = change.finding.clone();
        if added > 0 {
            f.count = added;
        }
        let rule = rule_for(&f);
        let status = if rule.is_some() {
            Status::Suppressed
        } else {
            Status::New
        };
        let by = rule.map(|r| format!("rule {r}"));
        write_row(
            tx,
            path,
            &Row {
                f: &f,
                status,
                status_by: by.as_deref(),
                status_at: Some(at),
                status_note: None,
                suppression: rule,
                at,
            },
        )?;
        add_history(tx, path, id, at, "new", &f, None, None)?;
        if rule.is_some() {
            add_history(tx, path, id, at, "suppressed", &f, by.as_deref(), None)?;
        } else if outbox {
            add_entry(
                tx,
                path,
                &NewEntry {
                    kind: OutboxKind::New,
                    previous_severity: None,
                    by: None,
                    at,
                    finding: &f,
                },
            )?;
        }
        return Ok(Applied {
            id: id.clone(),
            outcome: Outcome::New,
            status,
            notify: rule.is_none(),
            count: f.count,
        });
    };
    let f = merge(&old.finding, &change.finding, added);
    let raised = f.severity > old.finding.severity;
    let active = added > 0;
    let rule = rule_for(&f);
    let suppression: Option<i64> = tx
        .prepare_cached("SELECT suppression FROM findings WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([id], |r| r.get(0)))
        .map_err(|e| StoreError::sql(path, e))?;

    let mut status = old.status;
    let mut status_by = old.status_by.clone();
    let mut status_at = old.status_at;
    let mut status_note = old.status_note.clone();
    let mut held_by = suppression;
    let mut outcome = if raised {
        Outcome::SeverityRaised
    } else if active {
        Outcome::Grew
    } else if change.kind == keibi_model::ChangeKind::Closed {
        Outcome::Closed
    } else {
        Outcome::Unchanged
    };
    let mut history: Vec<(&str, Option<String>, Option<String>)> = Vec::new();
    if active {
        match (old.status, rule) {
            (Status::Suppressed, Some(_)) => {}
            (_, Some(r)) => {
                status = Status::Suppressed;
                held_by = Some(r);
                status_by = Some(format!("rule {r}"));
                status_at = Some(at);
                status_note = None;
                history.push(("suppressed", status_by.clone(), None));
            }
            (Status::Resolved, None) => {
                status = Status::New;
                held_by = None;
                status_by = None;
                status_at = Some(at);
                status_note = None;
                outcome = Outcome::Reopened;
                history.push((
                    "reopened",
                    None,
                    Some("new activity after it was resolved".into()),
                ));
            }
            (Status::Suppressed, None) if suppression.is_some() => {
                status = Status::New;
                held_by = None;
                status_by = None;
                status_at = Some(at);
                status_note = None;
                outcome = Outcome::Reopened;
                history.push((
                    "unsuppressed",
                    None,
                    Some(format!(
                        "new activity after suppression rule {} expired or was removed",
                        suppression.unwrap_or_default()
                    )),
                ));
            }
            _ => {}
        }
    }
    // A replayed or empty change usually changes nothing: no write then.
    let same = f == old.finding && status == old.status && held_by == suppression;
    if !same {
        write_row(
            tx,
            path,
            &Row {
                f: &f,
                status,
                status_by: status_by.as_deref(),
                status_at,
                status_note: status_note.as_deref(),
                suppression: held_by,
                at,
            },
        )?;
    }
    match outcome {
        Outcome::SeverityRaised => {
            add_history(tx, path, id, at, "severity_raised", &f, None, None)?
        }
        Outcome::Grew | Outcome::Reopened => add_history(tx, path, id, at, "grew", &f, None, None)?,
        Outcome::Closed => add_history(tx, path, id, at, "closed", &f, None, None)?,
        Outcome::New | Outcome::Unchanged => {}
    }
    for (what, by, note) in &history {
        add_history(tx, path, id, at, what, &f, by.as_deref(), note.as_deref())?;
    }
    let notify = status != Status::Suppressed
        && matches!(outcome, Outcome::Reopened | Outcome::SeverityRaised);
    if notify && outbox {
        let (kind, previous_severity) = if outcome == Outcome::Reopened {
            (OutboxKind::Reopened, None)
        } else {
            (OutboxKind::SeverityRaised, Some(old.finding.severity))
        };
        add_entry(
            tx,
            path,
            &NewEntry {
                kind,
                previous_severity,
                by: None,
                at,
                finding: &f,
            },
        )?;
    }
    Ok(Applied {
        id: id.clone(),
        outcome,
        status,
        notify,
        count: f.count,
    })
}

impl FindingStore for Store {
    fn commit(&mut self, commit: &Commit) -> Result<Committed, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        if let Some(fence) = &commit.fence {
            crate::leases::check_fence(&tx, &path, fence)?;
        }
        // Sort the checkpoints against the stored ones (the crate documentation's rule).
        let mut moving = false;
        let mut older: Option<(String, u64, u64)> = None;
        for cp in &commit.checkpoints {
            let stored: Option<i64> = tx
                .query_row(
                    "SELECT position FROM checkpoints WHERE source = ?1",
                    [&cp.source],
                    |r| r.get(0),
                )
                .optional()
                .map_err(err)?;
            match stored.map(|p| u64::try_from(p).unwrap_or(0)) {
                None => moving = true,
                Some(p) if cp.position > p => moving = true,
                Some(p) if cp.position < p => {
                    older.get_or_insert((cp.source.clone(), p, cp.position));
                }
                Some(_) => {}
            }
        }
        if moving {
            if let Some((source_id, stored, given)) = older {
                return Err(StoreError::CheckpointConflict {
                    source_id,
                    stored,
                    given,
                });
            }
        }
        let replayed = !commit.checkpoints.is_empty() && !moving;
        let rules = Store::active_suppressions(&tx, &path, commit.at)?;
        let mut findings = Vec::with_capacity(commit.finding_changes.len());
        for change in &commit.finding_changes {
            let added = if replayed { 0 } else { change.added };
            // A replay was announced when it was first committed.
            findings.push(apply_change(
                &tx, &path, change, added, commit.at, &rules, !replayed,
            )?);
        }
        if !replayed {
            for cp in &commit.checkpoints {
                tx.execute(
                    "INSERT INTO checkpoints (source, position, data, updated_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (source) DO UPDATE SET position = excluded.position,
                         data = excluded.data, updated_at = excluded.updated_at",
                    params![
                        cp.source,
                        i64::try_from(cp.position).unwrap_or(i64::MAX),
                        cp.data,
                        millis(commit.at)
                    ],
                )
                .map_err(err)?;
            }
            crate::activity::write_activity(&tx, &path, &commit.activity, commit.at)?;
            match (&commit.profile_clear, &commit.profile_prefix) {
                (false, _) => {}
                (true, None) => {
                    tx.execute("DELETE FROM profiles", []).map_err(err)?;
                }
                (true, Some(p)) => {
                    tx.execute(
                        "DELETE FROM profiles WHERE substr(key, 1, length(?1)) = ?1",
                        [p],
                    )
                    .map_err(err)?;
                }
            }
            for (key, value) in &commit.profile_puts {
                tx.execute(
                    "INSERT INTO profiles (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![key, value],
                )
                .map_err(err)?;
            }
            for key in &commit.profile_deletes {
                tx.execute("DELETE FROM profiles WHERE key = ?1", [key])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(Committed { replayed, findings })
    }

    fn record_posture_round(&mut self, round: &PostureRound) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO posture_rounds (at, passed, failed, suppressed) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (at) DO UPDATE SET passed = excluded.passed, failed = excluded.failed,
                 suppressed = excluded.suppressed",
            params![
                millis(round.at),
                n(round.passed),
                n(round.failed),
                n(round.suppressed)
            ],
        )
        .map_err(err)?;
        tx.execute(
            "DELETE FROM posture_rounds WHERE at NOT IN (SELECT at FROM posture_rounds ORDER BY at DESC LIMIT 100)",
            [],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT source, position, data FROM checkpoints ORDER BY source")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Checkpoint {
                    source: r.get(0)?,
                    position: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                    data: r.get(2)?,
                })
            })
            .and_then(|r| r.collect())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn load_profiles(&self, f: &mut dyn FnMut(&str, &[u8])) -> Result<u64, StoreError> {
        self.load_profiles_prefixed("", f)
    }

    fn load_profiles_prefixed(
        &self,
        prefix: &str,
        f: &mut dyn FnMut(&str, &[u8]),
    ) -> Result<u64, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM profiles WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key")
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([prefix]).map_err(|e| self.err(e))?;
        let mut n = 0;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let k: String = r.get(0).map_err(|e| self.err(e))?;
            let v: Vec<u8> = r.get(1).map_err(|e| self.err(e))?;
            f(&k, &v);
            n += 1;
        }
        Ok(n)
    }

    fn findings(&self, q: &Query) -> Result<Vec<StoredFinding>, StoreError> {
        let mut sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE 1 = 1");
        let mut args: Vec<crate::sql::Value> = Vec::new();
        if !q.statuses.is_empty() {
            sql.push_str(" AND status IN (");
            for (i, s) in q.statuses.iter().enumerate() {
                sql.push_str(if i == 0 { "?" } else { ", ?" });
                args.push(s.as_str().to_string().into());
            }
            sql.push(')');
        }
        if let Some(min) = q.min_severity {
            sql.push_str(" AND severity >= ?");
            args.push(min.value().into());
        }
        if !q.types.is_empty() {
            sql.push_str(" AND type IN (");
            for (i, t) in q.types.iter().enumerate() {
                sql.push_str(if i == 0 { "?" } else { ", ?" });
                args.push(t.clone().into());
            }
            sql.push(')');
        }
        sql.push_str(" ORDER BY severity DESC, last_seen DESC, id");
        if let Some(limit) = q.limit {
            sql.push_str(" LIMIT ?");
            args.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
        }
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(crate::sql::params_from_iter(args))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            out.push(stored_from_row(&self.path, r)?);
        }
        Ok(out)
    }

    fn finding(&self, id_or_prefix: &str) -> Result<StoredFinding, StoreError> {
        let id = Store::resolve_id(&self.conn, &self.path, id_or_prefix)?;
        read_finding(&self.conn, &self.path, &id)
    }

    fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        read_history(&self.conn, &self.path, id)
    }

    fn set_status(
        &mut self,
        id_or_prefix: &str,
        change: &StatusChange,
    ) -> Result<StoredFinding, StoreError> {
        bounded("the note", &change.note)?;
        bounded("the name", &change.by)?;
        let path = self.path.clone();
        let tx = self.write_tx()?;
        let id = Store::resolve_id(&tx, &path, id_or_prefix)?;
        let old = read_finding(&tx, &path, &id)?;
        let status = change.transition.target();
        write_row(
            &tx,
            &path,
            &Row {
                f: &old.finding,
                status,
                status_by: change.by.as_deref(),
                status_at: Some(change.at),
                status_note: change.note.as_deref(),
                suppression: None,
                at: change.at,
            },
        )?;
        add_history(
            &tx,
            &path,
            &id,
            change.at,
            change.transition.history(),
            &old.finding,
            change.by.as_deref(),
            change.note.as_deref(),
        )?;
        // A person resolving a finding people were told of: the channels that
        // opened something for it (a PagerDuty incident) close it.
        if change.transition == Transition::Resolve
            && matches!(old.status, Status::New | Status::Acknowledged)
        {
            crate::outbox::add_entry(
                &tx,
                &path,
                &crate::outbox::NewEntry {
                    kind: OutboxKind::Resolved,
                    previous_severity: None,
                    by: change.by.as_deref(),
                    at: change.at,
                    finding: &old.finding,
                },
            )?;
        }
        let now = read_finding(&tx, &path, &id)?;
        tx.commit().map_err(|e| StoreError::sql(&path, e))?;
        Ok(now)
    }

    fn suppress(&mut self, rule: &Suppression) -> Result<(i64, u64), StoreError> {
        if rule.finding_type.is_none()
            && rule.resource.is_none()
            && rule.network.is_none()
            && rule.user.is_none()
        {
            return Err(StoreError::Invalid(
                "a suppression needs at least one of type, resource, address range or user".into(),
            ));
        }
        for (what, v) in [
            ("the type", &rule.finding_type),
            ("the resource", &rule.resource),
            ("the user", &rule.user),
            ("the reason", &rule.reason),
            ("the name", &rule.created_by),
        ] {
            bounded(what, v)?;
        }
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let id: i64 = tx.query_row(
            "INSERT INTO suppressions (type, resource, network, \"user\", expires_at, reason, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            params![
                rule.finding_type,
                rule.resource,
                rule.network.map(|n| n.to_string()),
                rule.user,
                rule.expires_at.map(millis),
                rule.reason,
                rule.created_by,
                millis(rule.created_at),
            ],
            |r| r.get(0),
        )
        .map_err(err)?;
        let stored = Suppression { id, ..rule.clone() };
        // Findings already stored and still open are suppressed now; resolved ones
        // stay resolved (new activity on them meets the rule then).
        let candidates: Vec<String> = tx
            .query_map(
                "SELECT id FROM findings WHERE status IN ('new', 'acknowledged')",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        let by = format!("rule {id}");
        let mut n = 0;
        for fid in candidates {
            let old = read_finding(&tx, &path, &fid)?;
            if !stored.matches(&old.finding, rule.created_at) {
                continue;
            }
            write_row(
                &tx,
                &path,
                &Row {
                    f: &old.finding,
                    status: Status::Suppressed,
                    status_by: Some(&by),
                    status_at: Some(rule.created_at),
                    status_note: rule.reason.as_deref(),
                    suppression: Some(id),
                    at: rule.created_at,
                },
            )?;
            add_history(
                &tx,
                &path,
                &fid,
                rule.created_at,
                "suppressed",
                &old.finding,
                Some(rule.created_by.as_deref().unwrap_or(&by)),
                rule.reason.as_deref(),
            )?;
            n += 1;
        }
        tx.commit().map_err(err)?;
        Ok((id, n))
    }

    fn suppressions(&self) -> Result<Vec<Suppression>, StoreError> {
        read_suppressions(&self.conn, &self.path)
    }

    /// Exported findings are flushed to disk before anything is deleted: a failure
    /// leaves the store as it was, never findings neither exported nor kept.
    fn prune(
        &mut self,
        older_than: DateTime<Utc>,
        export: Option<&Path>,
        at: DateTime<Utc>,
    ) -> Result<Pruned, StoreError> {
        self.prune_export(older_than, false, export, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keibi_model::finding::Resource;
    use keibi_model::ChangeKind;

    fn finding(i: usize) -> Finding {
        let mut f = Finding::new(
            "test",
            "Discovery:RDS/SchemaEnumeration",
            &[&i.to_string()],
            Severity::new(3.0),
            Resource::default(),
            Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
        );
        f.count = 1;
        f.description = "x".repeat(2000);
        f
    }

    /// A full disk, made by capping the file's pages: the commit fails with a clear
    /// error, and the store is whole and as before.
    ///
    /// SQLite only: the disk is made full with an SQLite pragma.
    #[test]
    fn a_full_disk_fails_the_commit_and_keeps_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut s = Store::open(&path).unwrap();
        let mut c = Commit::new(Utc::now());
        c.finding_changes.push(FindingChange {
            kind: ChangeKind::New,
            finding: finding(0),
            added: 1,
        });
        s.commit(&c).unwrap();
        let pages: i64 = s
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        s.exec(&format!("PRAGMA max_page_count = {}", pages + 2))
            .unwrap();
        let mut big = Commit::new(Utc::now());
        big.finding_changes = (1..200)
            .map(|i| FindingChange {
                kind: ChangeKind::New,
                finding: finding(i),
                added: 1,
            })
            .collect();
        big.checkpoints.push(Checkpoint {
            source: "pg".into(),
            position: 10,
            data: vec![],
        });
        let e = s.commit(&big).expect_err("the disk is full");
        assert!(matches!(e, StoreError::DiskFull { .. }), "{e}");
        assert!(e.to_string().contains("disk is full"), "{e}");
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.size().unwrap().findings, 1);
        assert!(s.checkpoints().unwrap().is_empty(), "nothing of the batch");
    }

    /// A crash after the export file is in place and before the deletion commits,
    /// made by running the prune's steps and dropping its transaction: the findings
    /// are all still in the store, the export is complete, and the next prune exports
    /// them again (a duplicate) and deletes them: nothing is lost.
    #[test]
    fn a_crash_between_export_and_delete_loses_nothing() {
        for (dir, path) in crate::testing::backends() {
            let out = dir.path().join("out");
            std::fs::create_dir(&out).unwrap();
            let mut s = Store::open(&path).unwrap();
            let mut c = Commit::new(Utc.timestamp_opt(1_800_000_000, 0).unwrap());
            c.finding_changes = (0..3)
                .map(|i| FindingChange {
                    kind: ChangeKind::New,
                    finding: finding(i),
                    added: 1,
                })
                .collect();
            s.commit(&c).unwrap();
            let cutoff = Utc.timestamp_opt(1_900_000_000, 0).unwrap();
            let read = |p: &Path| -> Vec<String> {
                let mut text = String::new();
                std::io::Read::read_to_string(
                    &mut zstd::Decoder::new(File::open(p).unwrap()).unwrap(),
                    &mut text,
                )
                .unwrap();
                text.lines()
                    .map(|l| {
                        let v: serde_json::Value = serde_json::from_str(l).unwrap();
                        v["finding"]["id"].as_str().unwrap().to_string()
                    })
                    .collect()
            };
            let first = {
                let store_path = s.path.clone();
                let tx = s.write_tx().unwrap();
                let f = export_old(
                    &tx,
                    &store_path,
                    "last_seen < ?1 AND updated_at < ?1",
                    cutoff,
                    &out,
                    cutoff,
                )
                .unwrap()
                .unwrap();
                tx.execute("DELETE FROM findings", []).unwrap();
                // The crash: the transaction never commits.
                drop(tx);
                f
            };
            drop(s);
            let mut s = Store::open(&path).unwrap();
            assert_eq!(s.size().unwrap().findings, 3, "nothing deleted");
            assert_eq!(read(&first).len(), 3, "the first export is whole");
            let later = cutoff + chrono::TimeDelta::seconds(1);
            let p = s.expire(cutoff, Some(&out), later).unwrap();
            assert_eq!(p.findings, 3);
            let second = p.exported_to.unwrap();
            assert_ne!(first, second);
            assert_eq!(
                read(&first),
                read(&second),
                "a duplicate, the same findings"
            );
            assert_eq!(s.size().unwrap().findings, 0);
            let names: Vec<_> = std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            assert_eq!(names.len(), 2, "no partial file left: {names:?}");
        }
    }

    /// The daemon's retention keeps a finding read from an old log but stored
    /// recently; `prune` (by last seen only) deletes it.
    #[test]
    fn expire_keeps_what_changed_recently() {
        for (_dir, path) in crate::testing::backends() {
            let mut s = Store::open(&path).unwrap();
            let stored_at = Utc.timestamp_opt(2_000_000_000, 0).unwrap();
            let mut c = Commit::new(stored_at);
            c.finding_changes.push(FindingChange {
                kind: ChangeKind::New,
                finding: finding(0),
                added: 1,
            });
            s.commit(&c).unwrap();
            let cutoff = Utc.timestamp_opt(1_900_000_000, 0).unwrap();
            assert_eq!(s.expire(cutoff, None, stored_at).unwrap().findings, 0);
            let counts = s.count_by_type().unwrap();
            assert_eq!(counts.len(), 1);
            assert_eq!(counts[0].finding_type, "Discovery:RDS/SchemaEnumeration");
            assert_eq!(counts[0].severity, keibi_model::SeverityLabel::Low);
            assert_eq!((counts[0].status, counts[0].count), (Status::New, 1));
            assert_eq!(s.prune(cutoff, None, stored_at).unwrap().findings, 1);
            assert!(s.count_by_type().unwrap().is_empty());
        }
    }
}
