//! Turns the paths a user gives into the list of inputs to read: directories are
//! walked recursively (hidden entries skipped), `-` is standard input, and rotated
//! files come oldest first. Also the rule that names a database instance after the
//! directories an input was found in.

use std::cmp::Ordering;
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
}

impl Input {
    pub fn display(&self) -> Arc<str> {
        match self {
            Input::Stdin => Arc::from("-"),
            Input::File { display, .. } => display.clone(),
        }
    }

    /// Size in bytes on disk, when known (for progress).
    pub fn size(&self) -> Option<u64> {
        match self {
            Input::Stdin => None,
            Input::File { path, .. } => std::fs::metadata(path).ok().map(|m| m.len()),
        }
    }
}

/// Expands user arguments into inputs. Unreadable paths are returned as errors next to
/// the inputs that could be listed, so one bad argument does not stop the others.
pub fn expand(args: &[String]) -> (Vec<Input>, Vec<(String, io::Error)>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        if arg == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let path = PathBuf::from(arg);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => {
                let mut files = Vec::new();
                walk(&path, &mut files, &mut errors, 0);
                files.sort_by(|a, b| rotation_order(a, b));
                inputs.extend(files.into_iter().map(|p| Input::File {
                    display: Arc::from(p.to_string_lossy().as_ref()),
                    path: p,
                    root: Some(path.clone()),
                }));
            }
            Ok(_) => inputs.push(Input::File {
                display: Arc::from(arg.as_str()),
                path: path.clone(),
                root: None,
            }),
            Err(e) => errors.push((arg.clone(), e)),
        }
    }
    (inputs, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<(String, io::Error)>, depth: usize) {
    if depth > 64 {
        return; // a symlink loop or an absurd tree; stop rather than recurse forever
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push((dir.to_string_lossy().into_owned(), e));
            return;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "CloudTrail-Digest" || is_documentation(&name) {
            continue;
        }
        let path = entry.path();
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk(&path, files, errors, depth + 1),
            Ok(m) if m.is_file() => files.push(path),
            Ok(_) => {}
            Err(e) => errors.push((path.to_string_lossy().into_owned(), e)),
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

/// The database instance id implied by where a file was found: the nearest of its
/// three closest directories whose name is not generic (`error`, `audit`, `logs`,
/// `postgresql` ...) and not a date part. Only directories the user named, or that lie
/// below a directory the user named, count. `None` when there is none:
/// `keibi events ./postgresql.log` names no instance.
pub fn instance_from_path(input: &Input) -> Option<String> {
    let Input::File { path, root, .. } = input else {
        return None;
    };
    let mut dir = path.parent()?;
    for _ in 0..3 {
        let name = dir.file_name()?.to_string_lossy();
        let lower = name.to_ascii_lowercase();
        let is_date_part = lower.bytes().all(|b| b.is_ascii_digit()) && lower.len() <= 4;
        if !GENERIC_DIRS.contains(&lower.as_str()) && !is_date_part {
            return Some(name.into_owned());
        }
        if root.as_deref() == Some(dir) {
            return None;
        }
        dir = dir.parent()?;
    }
    None
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
}
