//! The second stage (`keibi_engine::global`) in a single `keibi run --once`: one
//! address brute-forcing three instances' logs is one instance finding each, and one
//! `CredentialAccess:RDS/BruteForce.MultipleInstances` over them, counted once
//! however often the logs are read again.
//!
//! The log is the scenario folder's (`tests/scenarios/login-bruteforce-pg/`), laid
//! out as the RDS log files of three instances.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const SPREAD: &str = "CredentialAccess:RDS/BruteForce.MultipleInstances";

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn attack_log() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios/login-bruteforce-pg/attack/shop-postgres/error/postgresql.log.2026-11-28-09")
}

/// The attack log as `instance`'s file `name`, its first line made its own: the
/// daemon knows a file by its first bytes, and copies alike would be one file.
fn lay(logs: &Path, instance: &str, name: &str, pid: u32) {
    let d = logs.join(instance).join("error");
    fs::create_dir_all(&d).unwrap();
    let mut text = format!("2026-11-28 08:59:59 UTC::@:[{pid}]:LOG:  checkpoint starting: time\n");
    text.push_str(&fs::read_to_string(attack_log()).unwrap());
    fs::write(d.join(name), text).unwrap();
}

fn run_once(logs: &Path, store: &Path) -> String {
    let o = keibi()
        .arg("run")
        .arg(logs)
        .arg("--store")
        .arg(store)
        .arg("--once")
        .env("KEIBI_LANG", "en")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    err
}

fn list(store: &Path) -> Vec<Value> {
    let o = keibi()
        .args(["findings", "list", "--all", "--format", "jsonl", "--store"])
        .arg(store)
        .env("KEIBI_LANG", "en")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of_type<'a>(all: &'a [Value], t: &str) -> Vec<&'a Value> {
    all.iter().filter(|f| f["type"] == t).collect()
}

#[test]
fn one_address_on_three_instances_is_one_global_finding_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    for (i, instance) in ["orders-db", "billing-db", "users-db"].iter().enumerate() {
        lay(
            &logs,
            instance,
            "postgresql.log.2026-11-28-09",
            100 + i as u32,
        );
    }
    let store = dir.path().join("keibi.db");
    let log = run_once(&logs, &store);
    let all = list(&store);
    let brute = of_type(&all, "CredentialAccess:RDS/BruteForce");
    assert_eq!(brute.len(), 3, "one brute force per instance: {all:#?}");
    let global = of_type(&all, SPREAD);
    assert_eq!(global.len(), 1, "{all:#?}\n{log}");
    let g = global[0];
    let ip = brute[0]["actor"]["ip"].as_str().unwrap();
    assert_eq!(g["actor"]["ip"], ip);
    assert_eq!(g["count"], 3);
    assert_eq!(g["resource"]["kind"], "db_instances");
    assert_eq!(g["resource"]["id"], "billing-db,orders-db,users-db");
    assert_eq!(g["detector"], "global");
    assert_eq!(g["severity"], 6.0);
    assert_eq!(g["evidence"].as_array().unwrap().len(), 3);
    let first = brute
        .iter()
        .map(|f| f["first_seen"].as_str().unwrap())
        .min()
        .unwrap();
    assert_eq!(g["first_seen"], first);
    assert!(
        g["title"].as_str().unwrap().contains("3 instances"),
        "{}",
        g["title"]
    );
    assert!(log.contains("second stage"), "{log}");

    // The same lines again in new files, then a run with nothing new: the global
    // finding still stands on three instances, counted once.
    for (i, instance) in ["orders-db", "billing-db", "users-db"].iter().enumerate() {
        lay(
            &logs,
            instance,
            "postgresql.log.2026-11-28-10",
            200 + i as u32,
        );
    }
    run_once(&logs, &store);
    run_once(&logs, &store);
    let again = list(&store);
    let global = of_type(&again, SPREAD);
    assert_eq!(global.len(), 1);
    assert_eq!(global[0]["count"], 3);
    assert_eq!(global[0]["id"], g["id"]);

    // A fourth instance from the same address: it grows by one.
    lay(&logs, "search-db", "postgresql.log.2026-11-28-09", 300);
    run_once(&logs, &store);
    let after = list(&store);
    let global = of_type(&after, SPREAD);
    assert_eq!(global.len(), 1);
    assert_eq!(global[0]["count"], 4);
}

#[test]
fn two_instances_make_no_global_finding() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    for (i, instance) in ["orders-db", "billing-db"].iter().enumerate() {
        lay(
            &logs,
            instance,
            "postgresql.log.2026-11-28-09",
            100 + i as u32,
        );
    }
    let store = dir.path().join("keibi.db");
    run_once(&logs, &store);
    let all = list(&store);
    assert_eq!(of_type(&all, "CredentialAccess:RDS/BruteForce").len(), 2);
    assert!(of_type(&all, SPREAD).is_empty(), "{all:#?}");
}
