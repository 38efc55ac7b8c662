//! What the channel tests share: the test services' Python (aiosmtpd, moto) from the
//! virtual environment `scripts/test.sh` installs, real server processes that always
//! stop, the hostile strings and a realistic finding.
//!
//! The keibi-aws tests use this file too (`#[path]`), so it names no keibi-notify
//! item beyond the finding types.

#![allow(dead_code)] // each test file uses part of it

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a service may take to start. Generous: CI machines are small and busy.
pub const WAIT: Duration = Duration::from_secs(60);

/// Whether a missing service must fail the test (`scripts/test.sh` and CI set it)
/// instead of skipping it (a developer without the test venv).
pub fn servers_required() -> bool {
    std::env::var("KEIBI_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

/// A service that cannot run here: fails when servers are required, else explains
/// the skip. Returns `None` so callers can write `let Some(x) = ... else { return }`.
pub fn unavailable<T>(what: &str) -> Option<T> {
    let msg = format!(
        "{what}; run scripts/test.sh (it installs the test services' Python venv, \
         aiosmtpd and moto, under target/test-venv) or point KEIBI_TEST_VENV at a venv \
         holding them"
    );
    if servers_required() {
        panic!("KEIBI_REQUIRE_SERVERS=1 but {msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// The workspace's root (this file is `crates/<crate>/tests/common/mod.rs`).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/<crate> is two levels below the workspace")
        .to_path_buf()
}

/// The test venv: `KEIBI_TEST_VENV`, else `target/test-venv` of the workspace.
pub fn venv() -> PathBuf {
    match std::env::var_os("KEIBI_TEST_VENV") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => workspace().join("target").join("test-venv"),
    }
}

/// The venv's Python, when it can import `module`.
pub fn python_with(module: &str) -> Option<PathBuf> {
    let py = venv().join("bin").join("python");
    if !py.exists() {
        return unavailable(&format!("no Python venv at {}", venv().display()));
    }
    let ok = Command::new(&py)
        .args(["-c", &format!("import {module}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return unavailable(&format!("{} cannot import {module}", py.display()));
    }
    Some(py)
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    l.local_addr().expect("local address").port()
}

/// A running service, killed and reaped when dropped.
pub struct Service {
    child: Child,
    pub port: u16,
    what: String,
}

impl Service {
    /// Starts `cmd` and waits until it prints a line containing `ready` (on standard
    /// output or error), or fails the test with what it printed.
    pub fn start(mut cmd: Command, port: u16, ready: &str, what: &str) -> Service {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what} ({cmd:?}): {e}"));
        let (tx, rx) = mpsc::channel::<String>();
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        // Nobody listens any more: keep draining so the service
                        // never blocks on a full pipe.
                        continue;
                    }
                }
            });
        }
        drop(tx);
        let deadline = std::time::Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let done = line.contains(ready);
                    seen.push(line);
                    if done {
                        break;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "{what} did not become ready within {WAIT:?}; it printed:\n{}",
                        seen.join("\n")
                    );
                }
            }
        }
        // Keep draining the pipes in the background (the threads own them).
        std::thread::spawn(move || while rx.recv().is_ok() {});
        Service {
            child,
            port,
            what: what.to_string(),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Err(e) = self.child.kill() {
            eprintln!("stopping {}: {e}", self.what);
        }
        let _ = self.child.wait();
    }
}

/// The hostile strings of `keibi-notify/tests/data/hostile.txt`, with `\n`, `\r`
/// and `\0` expanded.
pub fn hostile() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/")
        .join("keibi-notify/tests/data/hostile.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            l.replace("\\r", "\r")
                .replace("\\n", "\n")
                .replace("\\0", "\0")
        })
        .collect()
}

/// The demo's successful brute force on shop-postgres, as `keibi scan --format
/// jsonl` printed it (`keibi-notify/tests/data/demo-finding.json`).
pub fn demo_finding() -> keibi_model::Finding {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/")
        .join("keibi-notify/tests/data/demo-finding.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
