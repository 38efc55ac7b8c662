//! Automated response on AWS as a user runs it: `keibi run` follows RDS PostgreSQL
//! logs of an instance that exists on a moto server (the estate of
//! `crates/keibi-aws/tests/data/make_estate.py`), a brute force that succeeds is
//! blocked at the network ACL of the instance's subnets, and the daemon removes the
//! entry at its expiry. The ACL is read back with boto3
//! (`crates/keibi-aws/tests/data/respond_world.py show`), not with keibi's client.
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh).

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod ncommon;

mod common;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::daemon::Daemon;
use ncommon::{free_port, python_with, Service};
use serde_json::Value;

const ATTACKER: &str = "193.142.146.35/32";

fn python_script(python: &Path, script: &str, args: &[&str]) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../keibi-aws/tests/data")
        .join(script);
    let out = Command::new(python)
        .arg(path)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("run a test script");
    assert!(
        out.status.success(),
        "{script} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script's JSON")
}

/// The scenario's successful brute force, as the logs of instance `instance`.
fn logs(dir: &Path, instance: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios/login-successful-bruteforce/attack/shop-postgres");
    let to = dir.join("logs").join(instance);
    fs::create_dir_all(&to).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    dir.join("logs")
}

fn deny_entries(acl: &Value) -> Vec<(u64, String)> {
    acl["acl_ingress"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "deny" && e["cidr"] == ATTACKER)
        .map(|e| {
            (
                e["rule"].as_u64().unwrap(),
                e["cidr"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn actions(store: &Path) -> Vec<Value> {
    if !store.exists() {
        return Vec::new();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(["actions", "list", "--format", "json", "--store"])
        .arg(store)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

#[test]
fn a_successful_brute_force_is_blocked_at_the_network_acl_until_its_expiry() {
    let Some(python) = python_with("moto") else {
        return;
    };
    let port = free_port();
    let mut cmd = Command::new(python.with_file_name("moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let _moto = Service::start(cmd, port, "Running on", "moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let made = python_script(&python, "make_estate.py", &[&endpoint]);
    let s = |k: &str| made[k].as_str().unwrap().to_string();
    let (acl, sg, instance) = (s("network_acl"), s("security_group"), s("db_instance"));
    let subnets: Vec<&str> = made["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    python_script(
        &python,
        "respond_world.py",
        &["setup", &endpoint, &acl, &subnets.join(","), &sg],
    );
    let show = || python_script(&python, "respond_world.py", &["show", &endpoint, &acl, &sg]);
    assert!(deny_entries(&show()).is_empty());

    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let config = dir.path().join("keibi.yaml");
    fs::write(
        &config,
        format!(
            "sources:\n  inputs:\n    - dir: {logs}\nstore:\n  path: {store}\nserver:\n  listen: off\n\
             respond:\n  enabled: true\n  simulate_suggested: false\n  rules:\n    - types: [\"*SuccessfulBruteForce*\"]\n      actions: [block_address]\n      mode: auto\n      expire_after: 6s\n\
             \x20 aws:\n    enabled: true\n    region: us-east-1\n    endpoint_url: {endpoint}\n",
            logs = logs(dir.path(), &instance).display(),
            store = store.display(),
        ),
    )
    .unwrap();
    let log = dir.path().join("daemon.log");
    // The daemon inherits them (each test runs in a process of its own): only the
    // environment's keys, no profile, no instance metadata.
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/keibi-test/credentials",
        ),
    ] {
        std::env::set_var(k, v);
    }
    std::env::remove_var("AWS_SESSION_TOKEN");
    std::env::remove_var("AWS_PROFILE");
    let daemon = Daemon::start_args(&[OsStr::new("--config"), config.as_os_str()], &log);
    let wait = |what: &str, done: &dyn Fn(&[Value]) -> bool| {
        let start = Instant::now();
        loop {
            let a = actions(&store);
            if done(&a) {
                return a;
            }
            if start.elapsed() > Duration::from_secs(90) {
                panic!("{what}: {a:#?}\n{}", daemon.log());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let state_of_block = |a: &[Value], st: &str| {
        a.iter()
            .any(|x| x["target"]["action"] == "block_address" && x["state"] == st)
    };
    let a = wait("the block executed", &|a| state_of_block(a, "executed"));
    let denies = deny_entries(&show());
    let ours: Vec<&(u64, String)> = denies.iter().filter(|(r, _)| *r <= 50).collect();
    assert_eq!(
        ours.len(),
        1,
        "one deny entry in keibi's range: {denies:?}\n{a:#?}"
    );
    let block = a
        .iter()
        .find(|x| x["target"]["action"] == "block_address")
        .unwrap();
    assert_eq!(block["executor"], "aws-nacl", "{block}");

    wait("the block expired", &|a| state_of_block(a, "expired"));
    let after = show();
    assert!(
        deny_entries(&after).is_empty(),
        "keibi's entry is gone: {after}"
    );
    // The ACL's own deny (rule 60, outside keibi's range) stays.
    assert!(
        after["acl_ingress"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["rule"] == 60 && e["action"] == "deny"),
        "{after}"
    );
    drop(daemon);
}
