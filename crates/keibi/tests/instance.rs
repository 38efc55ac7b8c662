//! The instance a finding is about when the logs are followed where the server
//! writes them: a Debian or Ubuntu PostgreSQL cluster's data directory
//! (`/var/lib/postgresql/15/main/log/`) and its log file
//! (`/var/log/postgresql/postgresql-15-main.log`) are both `15-main`, and a log no
//! path names (a `logs/` directory, standard input) is the machine's host name, not
//! "unknown". Through `keibi scan` and `keibi run --once`, which must agree.
//!
//! The log is the scenario folder's (`tests/scenarios/login-bruteforce-pg/`), laid
//! out in temporary directories as the server lays it out.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn attack_log() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios/login-bruteforce-pg/attack/shop-postgres/error/postgresql.log.2026-11-28-09")
}

/// Findings by id: (title, resource id).
type Found = BTreeMap<String, (String, String)>;

fn found(jsonl: &[u8]) -> Found {
    String::from_utf8_lossy(jsonl)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                f["id"].as_str().unwrap().to_string(),
                (
                    f["title"].as_str().unwrap().to_string(),
                    f["resource"]["id"].as_str().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect()
}

fn scan(path: &Path) -> Found {
    let o = keibi()
        .arg("scan")
        .arg(path)
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    found(&o.stdout)
}

fn run_once(path: &Path, store: &Path) -> Found {
    let o = keibi()
        .arg("run")
        .arg(path)
        .arg("--store")
        .arg(store)
        .arg("--once")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = keibi()
        .args(["findings", "list", "--all", "--format", "jsonl", "--store"])
        .arg(store)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    found(&o.stdout)
}

/// The one brute force of the attack log: its id and the instance it names.
fn brute_force(f: &Found) -> (String, String) {
    let (id, (title, resource)) = f
        .iter()
        .find(|(_, (t, _))| t.starts_with("Brute force on "))
        .unwrap_or_else(|| panic!("no brute force: {f:?}"));
    assert!(
        title.starts_with(&format!("Brute force on {resource} from ")),
        "{title}"
    );
    (id.clone(), resource.clone())
}

/// The machine's host name as the kernel has it (what `hostname` prints).
fn host() -> Option<String> {
    let h = fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let h = h.trim();
    (!h.is_empty() && h != "localhost" && h != "(none)").then(|| h.to_string())
}

#[test]
fn a_debian_cluster_is_named_alike_by_its_data_directory_and_its_log_file() {
    let dir = tempfile::tempdir().unwrap();
    // The logging collector's directory in the data directory, followed itself.
    let data_log = dir.path().join("var/lib/postgresql/15/main/log");
    fs::create_dir_all(&data_log).unwrap();
    fs::copy(
        attack_log(),
        data_log.join("postgresql-2026-11-28_090000.log"),
    )
    .unwrap();
    // Debian's own log file, in /var/log/postgresql.
    let var_log = dir.path().join("var/log/postgresql");
    fs::create_dir_all(&var_log).unwrap();
    fs::copy(attack_log(), var_log.join("postgresql-15-main.log")).unwrap();

    let by_data = scan(&data_log);
    let (id, instance) = brute_force(&by_data);
    assert_eq!(instance, "15-main");
    // The same events through the other log: the same finding, the same id.
    let by_file = scan(&var_log);
    assert_eq!(brute_force(&by_file), (id.clone(), instance.clone()));
    // Also when the file itself is named (its three directories are generic).
    assert_eq!(scan(&var_log.join("postgresql-15-main.log")), by_file);

    // keibi run stores what scan prints, for both.
    let store = dir.path().join("a.db");
    assert_eq!(run_once(&data_log, &store), by_data);
    let store = dir.path().join("b.db");
    assert_eq!(run_once(&var_log, &store), by_file);
}

#[test]
fn a_log_no_path_names_is_the_host_names() {
    let Some(host) = host() else {
        eprintln!("skipped: this machine has no host name");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir_all(&logs).unwrap();
    fs::copy(attack_log(), logs.join("postgresql.log")).unwrap();
    let scanned = scan(&logs);
    let (_, instance) = brute_force(&scanned);
    assert_eq!(instance, host);
    let store = dir.path().join("k.db");
    assert_eq!(run_once(&logs, &store), scanned);

    // Standard input: the host's too, and the same finding.
    let mut child = keibi()
        .args(["scan", "-", "--format", "jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&fs::read(attack_log()).unwrap())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let piped = found(&o.stdout);
    assert_eq!(brute_force(&piped), brute_force(&scanned));

    // --instance still names it.
    let o = keibi()
        .arg("scan")
        .arg(&logs)
        .args(["--instance", "orders-db", "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(brute_force(&found(&o.stdout)).1, "orders-db");
}
