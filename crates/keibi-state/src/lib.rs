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
//!
//! A damaged file (flipped bytes, a truncated copy, a key that is not UTF-8) is an
//! error naming it, never a panic: redb reports most damage as errors, but some of it
//! makes redb panic (it unwraps a stored key's UTF-8, asserts on its allocator state).
//! Every call into redb therefore runs under [`std::panic::catch_unwind`]; a panic
//! there becomes [`StateError::Damaged`], its message is not printed, and the file is
//! not touched again by this process.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

const PROFILES: TableDefinition<&str, &[u8]> = TableDefinition::new("profiles");
const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
/// The layout of the `profiles` table this keibi writes.
pub const FORMAT: &str = "1";

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// redb's error, in the message (not as a source, which would print it twice).
    #[error("{path}: {error}")]
    Db { path: PathBuf, error: redb::Error },
    #[error("{path}: written by another keibi (state format {found}, this keibi reads {FORMAT})")]
    Format { path: PathBuf, found: String },
    #[error(
        "{path}: damaged, not a usable keibi state file ({reason}); move it away to start afresh"
    )]
    Damaged { path: PathBuf, reason: String },
}

thread_local! {
    /// Set while this thread runs redb under [`guarded`]: its panics are caught and
    /// reported as errors, so the panic hook stays quiet for them.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

/// Runs `f` (calls into redb on the file at `path`), turning a panic into
/// [`StateError::Damaged`]. The first call wraps the process's panic hook so that it
/// says nothing for panics caught here; panics elsewhere are reported as before.
fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T, StateError>) -> Result<T, StateError> {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result.unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the store failed".to_string());
        Err(StateError::Damaged {
            path: path.to_path_buf(),
            reason,
        })
    })
}

/// An open state file.
pub struct StateFile {
    db: Database,
    path: PathBuf,
    /// redb panicked on this file once: it is not used again.
    damaged: AtomicBool,
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
        guarded(path, || {
            let err = |error: redb::Error| StateError::Db {
                path: path.to_path_buf(),
                error,
            };
            let db = Database::create(path).map_err(|e| err(e.into()))?;
            let file = StateFile {
                db,
                path: path.to_path_buf(),
                damaged: AtomicBool::new(false),
            };
            file.check_format().map_err(|e| match e {
                Ok(found) => StateError::Format {
                    path: path.to_path_buf(),
                    found,
                },
                Err(e) => err(e),
            })?;
            Ok(file)
        })
    }

    /// Runs `f` on the database unless it was found damaged, under [`guarded`].
    fn with<T>(&self, f: impl FnOnce() -> Result<T, StateError>) -> Result<T, StateError> {
        if self.damaged.load(Ordering::Relaxed) {
            return Err(StateError::Damaged {
                path: self.path.clone(),
                reason: "it failed earlier in this run".to_string(),
            });
        }
        let r = guarded(&self.path, f);
        if matches!(r, Err(StateError::Damaged { .. })) {
            self.damaged.store(true, Ordering::Relaxed);
        }
        r
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
            error: source.into(),
        }
    }

    /// Hands every stored key and value to `f`; returns how many there were.
    /// A damaged file is an error before `f` has seen anything only when the damage
    /// is found at once; otherwise `f` may have seen some rows first.
    pub fn read(&self, mut f: impl FnMut(&str, &[u8])) -> Result<u64, StateError> {
        self.with(|| {
            let tx = self.db.begin_read().map_err(|e| self.err(e))?;
            let table = tx.open_table(PROFILES).map_err(|e| self.err(e))?;
            let mut n = 0;
            for row in table.iter().map_err(|e| self.err(e))? {
                let (k, v) = row.map_err(|e| self.err(e))?;
                f(k.value(), v.value());
                n += 1;
            }
            Ok(n)
        })
    }

    /// One save, atomically: `clear` drops everything stored first (a full rewrite),
    /// then `f` puts and deletes. Nothing is written unless all of it is.
    pub fn write(&self, clear: bool, f: impl FnOnce(&mut Batch<'_>)) -> Result<Saved, StateError> {
        self.with(|| self.write_unguarded(clear, f))
    }

    fn write_unguarded(
        &self,
        clear: bool,
        f: impl FnOnce(&mut Batch<'_>),
    ) -> Result<Saved, StateError> {
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
        self.with(|| {
            let tx = self.db.begin_read().map_err(|e| self.err(e))?;
            let table = tx.open_table(PROFILES).map_err(|e| self.err(e))?;
            table.len().map_err(|e| self.err(e))
        })
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

    /// A state file with a few profiles, and its bytes.
    fn written(dir: &Path) -> (PathBuf, Vec<u8>) {
        let path = dir.join("keibi.state");
        let s = StateFile::open(&path).unwrap();
        s.write(false, |b| {
            for i in 0..40 {
                b.put(&format!("[\"login\",\"db\",\"user{i:02}\"]"), b"{\"n\":1}");
            }
        })
        .unwrap();
        drop(s);
        let bytes = std::fs::read(&path).unwrap();
        (path, bytes)
    }

    /// Opens and reads a file the way `--state` does.
    fn open_and_read(path: &Path) -> Result<u64, StateError> {
        let s = StateFile::open(path)?;
        let n = s.read(|_, _| {})?;
        s.write(false, |b| b.put("x", b"1"))?;
        Ok(n)
    }

    #[test]
    fn a_key_that_is_not_utf8_is_a_damaged_file_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut bytes) = written(dir.path());
        let at = bytes
            .windows(6)
            .position(|w| w == b"user07")
            .expect("the key is stored as is");
        bytes[at] = 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let e = open_and_read(&path).unwrap_err();
        assert!(matches!(e, StateError::Damaged { .. }), "{e}");
        assert!(e.to_string().contains("keibi.state"), "{e}");
        // Once damaged, the file is not used again by this process.
        let s = StateFile::open(&path);
        assert!(s.is_ok(), "opening reads no key");
        let s = s.unwrap();
        assert!(s.read(|_, _| {}).is_err());
        assert!(s.len().is_err(), "refused after the damage was found");
    }

    #[test]
    fn truncated_and_scribbled_files_are_errors_never_panics() {
        let dir = tempfile::tempdir().unwrap();
        let (path, bytes) = written(dir.path());
        for cut in [0, 1, 100, 4096, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            // An empty file is a new state file: the rest must be refused.
            if let Err(e) = open_and_read(&path) {
                assert!(e.to_string().contains("keibi.state"), "{e}");
            } else {
                assert_eq!(cut, 0, "a file cut at {cut} bytes was read as sound");
            }
        }
        // Deterministic scribbles over the whole file: any outcome but a panic.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut refused = 0;
        for _ in 0..60 {
            let mut b = bytes.clone();
            for _ in 0..40 {
                let at = (next() % b.len() as u64) as usize;
                b[at] = next() as u8;
            }
            std::fs::write(&path, &b).unwrap();
            refused += usize::from(open_and_read(&path).is_err());
        }
        assert!(refused > 0, "scribbled files were all read as sound");
    }
}
