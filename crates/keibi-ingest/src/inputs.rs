//! Turns the paths a user gives into the list of inputs to read: directories are
//! walked recursively (hidden entries skipped), `-` is standard input, and rotated
//! files come oldest first. Also the rule that names a database instance after the
//! directories an input was found in.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One input to read.
#[derive(Debug, Clone)]
pub enum Input {
    Stdin,
    File {
        path: PathBuf,
        /// The path as shown to the user.
        display: Arc<str>,
        /// The directory argument this file was found under; `None` when the file
        /// itself was named (for the instance rule).
        root: Option<PathBuf>,
    },
    /// Bytes from somewhere else (an S3 object, a log stream), fetched each time
    /// the input is opened by a hook the caller gives: the merge opens an input once
    /// to learn its first timestamp and, with many inputs, again when it reaches it.
    Remote(Arc<Remote>),
}

/// How [`Input::Remote`] opens its bytes.
pub type OpenRemote = dyn Fn() -> io::Result<Box<dyn std::io::Read + Send>> + Send + Sync;

/// An input whose bytes a hook fetches: decompressed and parsed exactly as a file.
pub struct Remote {
    /// Its name as shown to the user and given as the events' file (`s3://b/key`).
    pub display: Arc<str>,
    /// The database instance it belongs to, when its name says (a CloudWatch log
    /// group `/aws/rds/instance/<id>/…`).
    pub instance: Option<String>,
    /// Its size in bytes, when known (for progress).
    pub size: Option<u64>,
    pub open: Box<OpenRemote>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("display", &self.display)
            .field("instance", &self.instance)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Input {
    pub fn display(&self) -> Arc<str> {
        match self {
            Input::Stdin => Arc::from("-"),
            Input::File { display, .. } => display.clone(),
            Input::Remote(r) => r.display.clone(),
        }
    }

    /// Size in bytes on disk, when known (for progress).
    pub fn size(&self) -> Option<u64> {
        match self {
            Input::Stdin => None,
            Input::File { path, .. } => std::fs::metadata(path).ok().map(|m| m.len()),
            Input::Remote(r) => r.size,
        }
    }
}

/// What [`expand`] made of the arguments.
#[derive(Debug, Default)]
pub struct Expanded {
    pub inputs: Vec<Input>,
    /// Paths that could not be read (a missing argument, an unreadable directory or
    /// entry, a dangling link): each is reported and counts as an input that failed.
    pub errors: Vec<(String, io::Error)>,
    /// What the walk passed over on purpose (a symbolic link loop, a directory or file
    /// reached a second time, a tree too deep): reported, not failures.
    pub warnings: Vec<(String, String)>,
}

/// Entries no walk of log inputs visits: hidden files, CloudTrail's digest folders
/// and documentation next to logs. Shared by `keibi events`/`scan` and the live sources.
pub(crate) fn skip_entry(name: &str) -> bool {
    name.starts_with('.') || name == "CloudTrail-Digest" || is_documentation(name)
}

/// Expands user arguments into inputs. Unreadable paths are returned as errors next to
/// the inputs that could be listed, so one bad argument does not stop the others.
/// Directories are walked by one [`Walker`] for all arguments, so a directory or file
/// reached twice (through links, or named twice) is read once.
pub fn expand(args: &[String]) -> Expanded {
    let mut out = Expanded::default();
    let mut walker = Walker::new(&skip_entry, &|_| true);
    for arg in args {
        if arg == "-" {
            out.inputs.push(Input::Stdin);
            continue;
        }
        let path = PathBuf::from(arg);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => {
                let mut files = walker.walk(&path);
                files.sort_by(|a, b| rotation_order(a, b));
                out.inputs.extend(files.into_iter().map(|p| Input::File {
                    display: Arc::from(p.to_string_lossy().as_ref()),
                    path: p,
                    root: Some(path.clone()),
                }));
            }
            Ok(_) => out.inputs.push(Input::File {
                display: Arc::from(arg.as_str()),
                path: path.clone(),
                root: None,
            }),
            Err(e) => out.errors.push((arg.clone(), e)),
        }
    }
    out.errors.append(&mut walker.errors);
    out.warnings.append(&mut walker.warnings);
    out
}

/// Directories nested deeper than this below a walked directory are not read.
pub const MAX_WALK_DEPTH: usize = 64;

/// Identity of a file or directory: device and inode, so that a symbolic link and
/// its target (or two links to one place) are known to be the same.
#[cfg(unix)]
fn identity(_path: &Path, meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

/// Elsewhere only the depth bound stops a loop.
#[cfg(not(unix))]
fn identity(_path: &Path, _meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

type Id = (u64, u64);

/// Walks directories recursively, following symbolic links, for inputs and for rule
/// files alike. Entries are visited in name order. Each directory and each file is
/// visited at most once however many links lead to it, a link back to a directory
/// being walked (a loop) is not followed, and everything passed over or unreadable is
/// reported with its path: nothing is dropped silently.
pub struct Walker<'a> {
    /// Entry names (files or directories) not to visit at all.
    skip: &'a dyn Fn(&str) -> bool,
    /// Files to list.
    want: &'a dyn Fn(&Path) -> bool,
    /// Everything visited so far, with the path it was first seen at.
    seen: HashMap<Id, PathBuf>,
    /// Unreadable directories and entries, dangling links.
    pub errors: Vec<(String, io::Error)>,
    /// Loops, repeats and trees too deep, passed over.
    pub warnings: Vec<(String, String)>,
}

impl<'a> Walker<'a> {
    pub fn new(skip: &'a dyn Fn(&str) -> bool, want: &'a dyn Fn(&Path) -> bool) -> Walker<'a> {
        Walker {
            skip,
            want,
            seen: HashMap::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The wanted files under `dir`, in walk order (name order, depth first), except
    /// those an earlier walk of this walker listed already.
    pub fn walk(&mut self, dir: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let meta = match std::fs::metadata(dir) {
            Ok(m) => m,
            Err(e) => {
                self.errors.push((dir.to_string_lossy().into_owned(), e));
                return files;
            }
        };
        let mut ancestors = Vec::new();
        if let Some(id) = identity(dir, &meta) {
            if let Some(first) = self.seen.get(&id) {
                let first = first.to_string_lossy().into_owned();
                self.warn(dir, format!("the same directory as {first}, read once"));
                return files;
            }
            self.seen.insert(id, dir.to_path_buf());
            ancestors.push(id);
        }
        self.walk_in(dir, &mut ancestors, &mut files);
        files
    }

    fn warn(&mut self, path: &Path, message: String) {
        self.warnings
            .push((path.to_string_lossy().into_owned(), message));
    }

    fn walk_in(&mut self, dir: &Path, ancestors: &mut Vec<Id>, files: &mut Vec<PathBuf>) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.errors.push((dir.to_string_lossy().into_owned(), e));
                return;
            }
        };
        let mut paths = Vec::new();
        for entry in entries {
            match entry {
                Ok(e) => paths.push(e.path()),
                Err(e) => self.errors.push((dir.to_string_lossy().into_owned(), e)),
            }
        }
        paths.sort();
        for path in paths {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if (self.skip)(&name) {
                continue;
            }
            // Follows links: a link is visited as what it leads to.
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    self.errors.push((path.to_string_lossy().into_owned(), e));
                    continue;
                }
            };
            if !meta.is_dir() && !(self.want)(&path) {
                continue;
            }
            if !meta.is_dir() && !meta.is_file() {
                // A FIFO or a device would block or never end.
                self.warn(&path, "not a regular file or directory, skipped".into());
                continue;
            }
            let id = identity(&path, &meta);
            if let Some(id) = &id {
                if let Some(first) = self.seen.get(id) {
                    let first = first.to_string_lossy().into_owned();
                    let message = if ancestors.contains(id) {
                        format!("a symbolic link loop (back to {first}), not followed")
                    } else if meta.is_dir() {
                        format!("the same directory as {first}, read once")
                    } else {
                        format!("the same file as {first}, read once")
                    };
                    self.warn(&path, message);
                    continue;
                }
            }
            if meta.is_dir() && ancestors.len() > MAX_WALK_DEPTH {
                let message = format!("more than {MAX_WALK_DEPTH} directories deep, not read");
                self.warn(&path, message);
                continue;
            }
            if let Some(id) = id {
                self.seen.insert(id, path.clone());
            }
            if meta.is_dir() {
                let pushed = id.is_some();
                if let Some(id) = id {
                    ancestors.push(id);
                }
                self.walk_in(&path, ancestors, files);
                if pushed {
                    ancestors.pop();
                }
            } else {
                files.push(path);
            }
        }
    }
}

/// Files that sit beside logs but are never logs (a folder's README, a licence, a
/// checksum). Only directory walks pass over them; a file named on the command line is
/// always read.
fn is_documentation(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("readme")
        || lower.starts_with("license")
        || lower.starts_with("licence")
        || [".md", ".sha256", ".md5", ".sig", ".asc"]
            .iter()
            .any(|ext| lower.ends_with(ext))
}

/// Splits a file name into its base and a rotation number: `server_audit.log.3` and
/// `mysql-error.log.3.gz` are rotation 3 of their base; higher numbers are older.
fn rotation(path: &Path) -> (String, Option<u64>) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = ["gz", "zst", "bz2"]
        .iter()
        .find_map(|ext| name.strip_suffix(&format!(".{ext}")))
        .unwrap_or(&name);
    if let Some((base, n)) = stem.rsplit_once('.') {
        if !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit()) {
            let dir = path
                .parent()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            return (format!("{dir}/{base}"), n.parse().ok());
        }
    }
    (path.to_string_lossy().into_owned(), None)
}

/// Orders files so that, within a rotated series, the oldest comes first
/// (`x.log.2`, `x.log.1`, `x.log`); other names sort by path, which puts dated
/// names (`postgresql.log.2026-11-28-15`) in time order.
pub fn rotation_order(a: &Path, b: &Path) -> Ordering {
    let (ba, na) = rotation(a);
    let (bb, nb) = rotation(b);
    ba.cmp(&bb).then_with(|| match (na, nb) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    })
}

/// Directory names that say what a log is, not whose it is.
const GENERIC_DIRS: &[&str] = &[
    "",
    ".",
    "..",
    "error",
    "audit",
    "general",
    "slowquery",
    "slow",
    "pgbouncer",
    "log",
    "logs",
    "pg_log",
    "pg_logs",
    "postgresql",
    "postgres",
    "pgsql",
    "mysql",
    "mariadb",
    "data",
    "tmp",
    "var",
    "lib",
    "home",
    "rdsdbdata",
    "archive",
    "archives",
    "backup",
    "backups",
    "export",
    "exports",
    "downloads",
    "rds",
    "aws",
    "instance",
    "cluster",
    "db",
    "database",
    "databases",
    "main",
];

/// The database instance id implied by where a file was found, or by the machine:
/// [`instance_from_path`], else the host name ([`host_name`]: the daemon follows the
/// logs of the server it runs beside). Standard input has only the host name.
pub fn instance_for(input: &Input) -> Option<String> {
    if let Input::Remote(r) = input {
        // Not read from this machine: its host name says nothing.
        return r.instance.clone();
    }
    instance_from_path(input).or_else(|| host_name().map(str::to_string))
}

/// The database instance id implied by where a file was found:
///
/// 1. the nearest of its three closest directories whose name is not generic
///    (`error`, `audit`, `logs`, `postgresql`, `main` ...) and not a date part; only
///    directories the user named, or that lie below a directory the user named,
///    count (`logs/orders-db/error/postgresql.log` is `orders-db`);
/// 2. else a PostgreSQL cluster as Debian and Ubuntu lay it out, by its own name
///    there, `VERSION-CLUSTER`: a path through the data directory
///    `.../postgresql/15/main/` (the logging collector's `log/` in it) or a log file
///    named `postgresql-15-main.log` (`/var/log/postgresql/`, also rotated `.1`,
///    `.2.gz`) are both `15-main`, so either log of one cluster names it alike.
///
/// `None` when neither says: `keibi events ./postgresql.log`.
pub fn instance_from_path(input: &Input) -> Option<String> {
    let (path, root) = match input {
        Input::File { path, root, .. } => (path, root),
        Input::Remote(r) => return r.instance.clone(),
        Input::Stdin => return None,
    };
    named_directory(path, root.as_deref()).or_else(|| debian_cluster(path))
}

fn named_directory(path: &Path, root: Option<&Path>) -> Option<String> {
    let mut dir = path.parent()?;
    for _ in 0..3 {
        let name = dir.file_name()?.to_string_lossy();
        let lower = name.to_ascii_lowercase();
        let is_date_part = lower.bytes().all(|b| b.is_ascii_digit()) && lower.len() <= 4;
        if !GENERIC_DIRS.contains(&lower.as_str()) && !is_date_part {
            return Some(name.into_owned());
        }
        if root == Some(dir) {
            return None;
        }
        dir = dir.parent()?;
    }
    None
}

/// A PostgreSQL major version as Debian names its directories: `15`, `9.6`.
fn is_pg_version(s: &str) -> bool {
    let mut parts = s.split('.');
    let major = parts.next().unwrap_or_default();
    let minor = parts.next();
    parts.next().is_none()
        && (1..=2).contains(&major.len())
        && major.bytes().all(|b| b.is_ascii_digit())
        && minor.is_none_or(|m| m.len() == 1 && m.bytes().all(|b| b.is_ascii_digit()))
}

/// A cluster name keibi takes from a path: what `pg_createcluster` makes in practice
/// (letters, digits, `_`, `-`, `.`), at most 63 bytes.
fn is_cluster_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Debian's `VERSION-CLUSTER` from a data directory in the path (made absolute
/// against the current directory, so `keibi run log/` inside the data directory is
/// named too) or from the log file's name.
fn debian_cluster(path: &Path) -> Option<String> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let dirs: Vec<String> = absolute
        .parent()?
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for w in dirs.windows(3) {
        if w[0] == "postgresql" && is_pg_version(&w[1]) && is_cluster_name(&w[2]) {
            return Some(format!("{}-{}", w[1], w[2]));
        }
    }
    let name = path.file_name()?.to_string_lossy();
    let rest = name.strip_prefix("postgresql-")?;
    let (version, rest) = rest.split_once('-')?;
    let (cluster, _) = rest.split_once(".log")?;
    (is_pg_version(version) && is_cluster_name(cluster)).then(|| format!("{version}-{cluster}"))
}

/// This machine's host name (`uname`'s node name, as `hostname` prints it), once a
/// process; `None` when it has none (`localhost`, `(none)`, empty). Characters other
/// than letters, digits, `-`, `_` and `.` are left out, at most 253 bytes.
pub fn host_name() -> Option<&'static str> {
    static NAME: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let uname = rustix::system::uname();
        clean_host_name(&uname.nodename().to_string_lossy())
    })
    .as_deref()
}

fn clean_host_name(raw: &str) -> Option<String> {
    let name: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(253)
        .collect();
    let lower = name.to_ascii_lowercase();
    (!name.is_empty()
        && lower != "localhost"
        && lower != "localhost.localdomain"
        && lower != "none")
        .then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_files_oldest_first() {
        let mut v: Vec<PathBuf> = [
            "a/server_audit.log",
            "a/server_audit.log.1",
            "a/server_audit.log.10",
            "a/server_audit.log.2.gz",
            "a/postgresql.log.2026-11-28-16",
            "a/postgresql.log.2026-11-28-15",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        v.sort_by(|a, b| rotation_order(a, b));
        let names: Vec<_> = v.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        assert_eq!(
            names,
            [
                "a/postgresql.log.2026-11-28-15",
                "a/postgresql.log.2026-11-28-16",
                "a/server_audit.log.10",
                "a/server_audit.log.2.gz",
                "a/server_audit.log.1",
                "a/server_audit.log",
            ]
        );
    }

    fn file(path: &str, root: Option<&str>) -> Input {
        Input::File {
            path: PathBuf::from(path),
            display: Arc::from(path),
            root: root.map(PathBuf::from),
        }
    }

    #[test]
    fn instance_rule() {
        assert_eq!(instance_from_path(&file("postgresql.log", None)), None);
        assert_eq!(instance_from_path(&file("./postgresql.log", None)), None);
        let rds = "logs/prod-db/error/postgresql.log.2026-11-28-15";
        assert_eq!(
            instance_from_path(&file(rds, Some("logs"))),
            Some("prod-db".into())
        );
        assert_eq!(instance_from_path(&file(rds, None)), Some("prod-db".into()));
        assert_eq!(
            instance_from_path(&file("/var/log/postgresql/pg.log", None)),
            None
        );
        let dated = "/srv/x/orders-db/2026/11/a.log";
        assert_eq!(
            instance_from_path(&file(dated, Some("/srv/x/orders-db"))),
            Some("orders-db".into())
        );
        // Directories above the directory the user named never count.
        assert_eq!(
            instance_from_path(&file(
                "/home/bob/proj/logs/a.log",
                Some("/home/bob/proj/logs")
            )),
            None
        );
    }

    #[test]
    fn debian_clusters_are_named_as_debian_names_them() {
        let data = "/var/lib/postgresql/15/main/log/postgresql-2026-12-06_101500.log";
        for root in [
            None,
            Some("/var/lib/postgresql/15/main/log"),
            Some("/var/lib/postgresql/15/main"),
            Some("/var/lib/postgresql"),
        ] {
            assert_eq!(
                instance_from_path(&file(data, root)),
                Some("15-main".into()),
                "{root:?}"
            );
        }
        for name in [
            "/var/log/postgresql/postgresql-15-main.log",
            "/var/log/postgresql/postgresql-15-main.log.1",
            "/var/log/postgresql/postgresql-15-main.log.2.gz",
        ] {
            assert_eq!(
                instance_from_path(&file(name, Some("/var/log/postgresql"))),
                Some("15-main".into()),
                "{name}"
            );
        }
        let orders = "/var/lib/postgresql/9.6/orders/pg_log/x.log";
        assert_eq!(
            instance_from_path(&file(orders, Some("/var/lib/postgresql/9.6/orders/pg_log"))),
            Some("9.6-orders".into())
        );
        // A cluster name that is not generic was already the instance when the file
        // is named: it stays so (finding ids do not change).
        assert_eq!(
            instance_from_path(&file(orders, None)),
            Some("orders".into())
        );
        // A directory the user named still comes first.
        assert_eq!(
            instance_from_path(&file(
                "/srv/logs/orders-db/postgresql-15-main.log",
                Some("/srv/logs")
            )),
            Some("orders-db".into())
        );
        // Not Debian's layout: nothing (the host name then).
        for (path, root) in [
            (
                "/var/lib/pgsql/15/data/log/postgresql-Sat.log",
                Some("/var/lib/pgsql/15/data/log"),
            ),
            ("/var/log/mysql/error.log", Some("/var/log/mysql")),
            ("/var/log/postgresql/postgresql.log", None),
            ("/var/log/postgresql/postgresql-15-.log", None),
            ("/var/log/postgresql/postgresql-abc-main.log", None),
        ] {
            assert_eq!(instance_from_path(&file(path, root)), None, "{path}");
        }
    }

    #[test]
    fn host_names_are_kept_clean() {
        assert_eq!(
            clean_host_name("db-1.example.com"),
            Some("db-1.example.com".into())
        );
        assert_eq!(clean_host_name("db\x1b[31m\n1"), Some("db31m1".into()));
        assert_eq!(clean_host_name("localhost"), None);
        assert_eq!(clean_host_name("(none)"), None);
        assert_eq!(clean_host_name(""), None);
        assert_eq!(
            clean_host_name(&"a".repeat(1000)).map(|s| s.len()),
            Some(253)
        );
        // The machine's, when it has one, is the fallback for any file.
        let stdin = instance_for(&Input::Stdin);
        assert_eq!(stdin.as_deref(), host_name());
    }

    #[cfg(unix)]
    mod walk {
        use super::super::*;
        use std::os::unix::fs::symlink;

        fn tree() -> tempfile::TempDir {
            let dir = tempfile::tempdir().unwrap();
            let a = dir.path().join("logs/a");
            std::fs::create_dir_all(&a).unwrap();
            std::fs::write(dir.path().join("logs/top.log"), "x\n").unwrap();
            std::fs::write(a.join("one.log"), "x\n").unwrap();
            std::fs::write(a.join("two.log"), "x\n").unwrap();
            dir
        }

        fn names(e: &Expanded) -> Vec<String> {
            e.inputs.iter().map(|i| i.display().to_string()).collect()
        }

        #[test]
        fn links_to_ancestors_are_loops_reported_and_not_followed() {
            let dir = tree();
            let logs = dir.path().join("logs");
            let arg = vec![logs.to_string_lossy().into_owned()];
            let plain = expand(&arg);
            assert_eq!(plain.inputs.len(), 3);
            assert!(plain.warnings.is_empty() && plain.errors.is_empty());

            // One link to the parent: read 32 times over before.
            symlink("..", logs.join("a/up")).unwrap();
            let one = expand(&arg);
            assert_eq!(names(&one), names(&plain));
            assert_eq!(one.warnings.len(), 1, "{:?}", one.warnings);
            assert!(one.warnings[0].0.ends_with("a/up"));
            assert!(one.warnings[0].1.contains("loop"), "{:?}", one.warnings);

            // Two: exponential before.
            symlink("..", logs.join("a/up2")).unwrap();
            symlink(".", logs.join("a/self")).unwrap();
            let two = expand(&arg);
            assert_eq!(names(&two), names(&plain));
            assert_eq!(two.warnings.len(), 3, "{:?}", two.warnings);
            assert!(two.errors.is_empty());
        }

        #[test]
        fn a_directory_or_file_reached_twice_is_read_once_and_said() {
            let dir = tree();
            let logs = dir.path().join("logs");
            let other = dir.path().join("other");
            std::fs::create_dir(&other).unwrap();
            symlink(logs.join("a"), other.join("a-again")).unwrap();
            symlink(logs.join("top.log"), other.join("top-again.log")).unwrap();
            std::fs::write(other.join("own.log"), "x\n").unwrap();
            let e = expand(&[
                logs.to_string_lossy().into_owned(),
                other.to_string_lossy().into_owned(),
            ]);
            assert_eq!(e.inputs.len(), 4, "{:?}", names(&e));
            let w: Vec<&str> = e.warnings.iter().map(|(_, m)| m.as_str()).collect();
            assert_eq!(w.len(), 2, "{w:?}");
            assert!(w.iter().any(|m| m.starts_with("the same directory as")));
            assert!(w.iter().any(|m| m.starts_with("the same file as")));
            // A link to a file outside the walked tree is followed, once.
            let outside = tempfile::tempdir().unwrap();
            std::fs::write(outside.path().join("far.log"), "x\n").unwrap();
            symlink(outside.path().join("far.log"), other.join("far.log")).unwrap();
            // (alone, `other` holds a-again's two files, own, top-again and far).
            let e = expand(&[other.to_string_lossy().into_owned()]);
            assert_eq!(e.inputs.len(), 5, "{:?}", names(&e));
            assert!(e.warnings.is_empty(), "{:?}", e.warnings);
        }

        #[test]
        fn dangling_links_and_special_files_are_reported_with_their_path() {
            let dir = tree();
            let logs = dir.path().join("logs");
            symlink("nowhere", logs.join("gone.log")).unwrap();
            symlink("/dev/zero", logs.join("zero.log")).unwrap();
            let e = expand(&[logs.to_string_lossy().into_owned()]);
            assert_eq!(e.inputs.len(), 3);
            assert_eq!(e.errors.len(), 1);
            assert!(e.errors[0].0.ends_with("gone.log"));
            assert_eq!(e.warnings.len(), 1);
            assert!(e.warnings[0].0.ends_with("zero.log"), "{:?}", e.warnings);
        }
    }
}
