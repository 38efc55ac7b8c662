//! `keibi run` as a real process beside the real servers: start it, kill it, read
//! its store with `keibi findings list`, and compare the store with `keibi scan`
//! the way `tests/run.rs` does (same ids, types, counts, first and last seen).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::describe;

/// A finding as the comparison sees it: type, count, first and last seen, by id.
pub type Summary = BTreeMap<String, (String, u64, String, String)>;

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

pub fn summarize(jsonl: &[u8]) -> Summary {
    String::from_utf8_lossy(jsonl)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {e}: {l}"));
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (
                s("id"),
                (
                    s("type"),
                    f["count"].as_u64().unwrap_or(0),
                    s("first_seen"),
                    s("last_seen"),
                ),
            )
        })
        .collect()
}

/// What `keibi scan --format jsonl` finds in `paths` (files and directories: scan
/// takes no globs).
pub fn scan(paths: &[&OsStr]) -> Summary {
    let o = keibi()
        .arg("scan")
        .args(paths)
        .args(["--format", "jsonl"])
        .stdin(Stdio::null())
        .output()
        .expect("keibi scan runs");
    assert_eq!(o.status.code(), Some(0), "keibi scan: {}", describe(&o));
    summarize(&o.stdout)
}

/// Every finding in the store, whatever its status (None while there is no store).
pub fn stored(store: &Path) -> Option<Summary> {
    if !keibi_store::exists(store) {
        return None;
    }
    let o = keibi()
        .args(["findings", "list", "--all", "--format", "jsonl", "--store"])
        .arg(store)
        .stdin(Stdio::null())
        .output()
        .expect("keibi findings runs");
    (o.status.code() == Some(0)).then(|| summarize(&o.stdout))
}

/// A finding as the store and a scan both give it: id, type, count, first and last
/// seen.
pub fn brief(findings: &[serde_json::Value]) -> BTreeSet<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {} x{} {} {}",
                f["id"].as_str().unwrap_or("?"),
                f["type"].as_str().unwrap_or("?"),
                f["count"],
                f["first_seen"].as_str().unwrap_or("?"),
                f["last_seen"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// [`brief`] of every finding in the store, whatever its status (None while there
/// is no store).
pub fn stored_brief(store: &Path) -> Option<BTreeSet<String>> {
    if !keibi_store::exists(store) {
        return None;
    }
    let o = keibi()
        .args(["findings", "list", "--all", "--format", "jsonl", "--store"])
        .arg(store)
        .output()
        .unwrap();
    if !o.status.success() {
        return None;
    }
    let f: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Some(brief(&f))
}

/// The findings of one type in a summary.
pub fn of_type<'a>(s: &'a Summary, ty: &'a str) -> impl Iterator<Item = (&'a String, u64)> + 'a {
    s.iter()
        .filter(move |(_, f)| f.0 == ty)
        .map(|(id, f)| (id, f.1))
}

/// A running `keibi run SOURCE --store STORE`, its stderr in a file. Killed on drop,
/// so a failing test leaves no daemon behind.
pub struct Daemon {
    child: Option<Child>,
    log: PathBuf,
}

impl Daemon {
    pub fn start(source: &OsStr, store: &Path, log: &Path) -> Daemon {
        // Appended to, so the log of every run of one test is in one file.
        let err = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("daemon log file");
        let child = keibi()
            .arg("run")
            .arg(source)
            .arg("--store")
            .arg(store)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("keibi run starts");
        Daemon {
            child: Some(child),
            log: log.to_owned(),
        }
    }

    /// `keibi run ARGS` (a `--config`, say), its stderr appended to `log`.
    pub fn start_args(args: &[&OsStr], log: &Path) -> Daemon {
        let err = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("daemon log file");
        let child = keibi()
            .arg("run")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("keibi run starts");
        Daemon {
            child: Some(child),
            log: log.to_owned(),
        }
    }

    /// What the daemons of this test wrote on stderr, for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no chance to commit anything.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL the daemon");
            let _ = c.wait();
        }
    }

    /// SIGTERM, then the exit code (None: it did not exit within `limit` and was
    /// killed).
    pub fn terminate(&mut self, limit: Duration) -> Option<i32> {
        let mut c = self.child.take()?;
        let ok = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -TERM");
        let start = Instant::now();
        loop {
            if let Some(st) = c.try_wait().expect("wait") {
                return st.code();
            }
            if start.elapsed() > limit {
                let _ = c.kill();
                let _ = c.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Polls the store until `done` holds; the last summary read either way.
pub fn wait_for(
    store: &Path,
    limit: Duration,
    done: impl Fn(&Summary) -> bool,
) -> Result<Summary, Summary> {
    let start = Instant::now();
    let mut last = Summary::new();
    while start.elapsed() < limit {
        if let Some(s) = stored(store) {
            if done(&s) {
                return Ok(s);
            }
            last = s;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(last)
}
