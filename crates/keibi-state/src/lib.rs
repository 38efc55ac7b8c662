//! keibi's state file (`--state FILE`): behavioural profiles kept between runs, so a
//! scan or a daemon starts with mature baselines instead of learning for weeks.
//!
//! A thin layer over [redb](https://www.redb.org), an embedded, pure-Rust, ACID
//! key-value store: every save is one transaction, committed with an fsync, so a crash
//! or a kill mid-save leaves the previous state intact (never half a profile). The
//! file is locked while open, so two keibi processes cannot write the same state.
//!
//! Keys and values are opaque here: the detection crate exports each profile as a
//! key and JSON bytes (`keibi_detect::detectors::baseline::Profiles::export`) and
//! reads them back. A format number in a second table lets a future keibi refuse or
//! migrate a file written by an incompatible one.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

const PROFILES: TableDefinition<&str, &[u8]> = TableDefinition::new("profiles");
const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
/// The layout of the `profiles` table this keibi writes.
pub const FORMAT: &str = "1";

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: redb::Error,
    },
    #[error("{path}: written by another keibi (state format {found}, this keibi reads {FORMAT})")]
    Format { path: PathBuf, found: String },
}

/// An open state file.
pub struct StateFile {
    db: Database,
    path: PathBuf,
}

/// What a save wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Saved {
    pub written: u64,
    pub deleted: u64,
    pub bytes: u64,
}

/// Writes of one save; errors are kept and reported when the save ends.
pub struct Batch<'t> {
    table: redb::Table<'t, &'static str, &'static [u8]>,
    saved: Saved,
    err: Option<redb::Error>,
}

impl Batch<'_> {
    /// Inserts or replaces a value.
    pub fn put(&mut self, key: &str, value: &[u8]) {
        if self.err.is_some() {
            return;
        }
        match self.table.insert(key, value) {
            Ok(_) => {
                self.saved.written += 1;
                self.saved.bytes += (key.len() + value.len()) as u64;
            }
            Err(e) => self.err = Some(e.into()),
        }
    }

    /// Removes a value if present.
    pub fn delete(&mut self, key: &str) {
        if self.err.is_some() {
            return;
        }
        match self.table.remove(key) {
            Ok(Some(_)) => self.saved.deleted += 1,
            Ok(None) => {}
            Err(e) => self.err = Some(e.into()),
        }
    }
}

impl StateFile {
    /// Opens the state file, creating it when missing.
    pub fn open(path: &Path) -> Result<StateFile, StateError> {
        let err = |source: redb::Error| StateError::Db {
            path: path.to_path_buf(),
            source,
        };
        let db = Database::create(path).map_err(|e| err(e.into()))?;
        let file = StateFile {
            db,
            path: path.to_path_buf(),
        };
        file.check_format().map_err(|e| match e {
            Ok(found) => StateError::Format {
                path: path.to_path_buf(),
                found,
            },
            Err(e) => err(e),
        })?;
        Ok(file)
    }

    /// Stamps a new file with [`FORMAT`]; `Err(Ok(found))` for another format.
    fn check_format(&self) -> Result<(), Result<String, redb::Error>> {
        let tx = self.db.begin_write().map_err(|e| Err(e.into()))?;
        {
            let mut meta = tx.open_table(META).map_err(|e| Err(e.into()))?;
            let found = meta
                .get("format")
                .map_err(|e| Err(e.into()))?
                .map(|v| v.value().to_string());
            match found {
                Some(f) if f != FORMAT => return Err(Ok(f)),
                Some(_) => {}
                None => {
                    meta.insert("format", FORMAT).map_err(|e| Err(e.into()))?;
                }
            }
            tx.open_table(PROFILES).map_err(|e| Err(e.into()))?;
        }
        tx.commit().map_err(|e| Err(e.into()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: impl Into<redb::Error>) -> StateError {
        StateError::Db {
            path: self.path.clone(),
            source: source.into(),
        }
    }

    /// Hands every stored key and value to `f`; returns how many there were.
    pub fn read(&self, mut f: impl FnMut(&str, &[u8])) -> Result<u64, StateError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(PROFILES).map_err(|e| self.err(e))?;
        let mut n = 0;
        for row in table.iter().map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            f(k.value(), v.value());
            n += 1;
        }
        Ok(n)
    }

    /// One save, atomically: `clear` drops everything stored first (a full rewrite),
    /// then `f` puts and deletes. Nothing is written unless all of it is.
    pub fn write(&self, clear: bool, f: impl FnOnce(&mut Batch<'_>)) -> Result<Saved, StateError> {
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        let saved = {
            let mut table = tx.open_table(PROFILES).map_err(|e| self.err(e))?;
            if clear {
                table.retain(|_, _| false).map_err(|e| self.err(e))?;
            }
            let mut batch = Batch {
                table,
                saved: Saved::default(),
                err: None,
            };
            f(&mut batch);
            if let Some(e) = batch.err {
                return Err(self.err(e));
            }
            batch.saved
        };
        tx.commit().map_err(|e| self.err(e))?;
        Ok(saved)
    }

    /// Stored values.
    pub fn len(&self) -> Result<u64, StateError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(PROFILES).map_err(|e| self.err(e))?;
        table.len().map_err(|e| self.err(e))
    }

    pub fn is_empty(&self) -> Result<bool, StateError> {
        Ok(self.len()? == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_survive_reopening_and_deletes_and_clears_apply() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keibi.state");
        {
            let s = StateFile::open(&path).unwrap();
            assert!(s.is_empty().unwrap());
            let saved = s
                .write(false, |b| {
                    b.put("a", b"1");
                    b.put("b", b"2");
                    b.put("c", b"3");
                })
                .unwrap();
            assert_eq!(saved.written, 3);
            s.write(false, |b| {
                b.delete("b");
                b.put("a", b"10");
            })
            .unwrap();
        }
        let s = StateFile::open(&path).unwrap();
        let mut rows = Vec::new();
        s.read(|k, v| rows.push((k.to_string(), v.to_vec())))
            .unwrap();
        assert_eq!(
            rows,
            vec![("a".into(), b"10".to_vec()), ("c".into(), b"3".to_vec())]
        );
        s.write(true, |b| b.put("z", b"9")).unwrap();
        assert_eq!(s.len().unwrap(), 1);
    }

    #[test]
    fn a_second_open_of_the_same_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keibi.state");
        let _first = StateFile::open(&path).unwrap();
        let second = StateFile::open(&path);
        assert!(second.is_err(), "the file is locked while open");
    }

    #[test]
    fn a_file_that_is_not_a_state_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "these are not profiles\n".repeat(200)).unwrap();
        let e = StateFile::open(&path).err().expect("refused");
        assert!(e.to_string().contains("notes.txt"), "{e}");
    }
}
