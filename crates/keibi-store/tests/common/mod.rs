//! What the store's test files share: the engines a test runs on.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// One engine for one test: an SQLite file in a temporary directory, or a new
/// schema on the test PostgreSQL server (`keibi_store::testing`). `dir` is there
/// on both, for the files a test writes beside the store (exports).
pub struct Backend {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    postgres: bool,
}

impl Backend {
    /// The store's path or URL (what `Store::open` takes).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres
    }
}

/// SQLite, then PostgreSQL when a test server is there (else the PostgreSQL half
/// is skipped with a message, or fails under `KEIBI_REQUIRE_SERVERS=1`). Each is
/// announced on stderr, so a failure says which engine it was on.
pub fn backends() -> impl Iterator<Item = Backend> {
    let sqlite = std::iter::once_with(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        Backend {
            dir,
            path,
            postgres: false,
        }
    });
    let postgres = std::iter::once_with(|| {
        keibi_store::testing::postgres_url().map(|url| Backend {
            dir: tempfile::tempdir().unwrap(),
            path: PathBuf::from(url),
            postgres: true,
        })
    })
    .flatten();
    sqlite
        .chain(postgres)
        .inspect(|b| eprintln!("-- on {}", if b.postgres { "PostgreSQL" } else { "SQLite" }))
}

/// Runs `sql` on the store's database behind its back (damage a test plants).
pub fn poke(b: &Backend, sql: &str) {
    if b.postgres {
        let url = b.path.to_str().unwrap();
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        c.batch_execute(sql).unwrap();
    } else {
        let c = rusqlite::Connection::open(&b.path).unwrap();
        c.execute_batch(sql).unwrap();
    }
}

/// The rows of `sql`, every column read as optional text, straight from the
/// database (what a test checks behind the store's back).
pub fn texts(b: &Backend, sql: &str) -> Vec<Vec<Option<String>>> {
    if b.postgres {
        let url = b.path.to_str().unwrap();
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        c.query(sql, &[])
            .unwrap()
            .iter()
            .map(|r| (0..r.len()).map(|i| r.get(i)).collect())
            .collect()
    } else {
        let c = rusqlite::Connection::open(&b.path).unwrap();
        let mut stmt = c.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| (0..n).map(|i| r.get(i)).collect())
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }
}
