//! `keibi audit --aws` end to end, as a user runs it: the insecure estate of
//! `crates/keibi-aws/tests/data/make_estate.py` made on a moto server, read live
//! through the standard credential chain's environment variables, and judged.

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod ncommon;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use ncommon::{free_port, python_with, Service};
use serde_json::Value;

fn keibi(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/keibi-test/credentials",
        )
        .output()
        .expect("run keibi")
}

#[test]
fn a_live_audit_finds_every_open_door_of_the_estate_and_only_those() {
    let Some(python) = python_with("moto") else {
        return;
    };
    let port = free_port();
    let mut cmd = Command::new(python.with_file_name("moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let _moto = Service::start(cmd, port, "Running on", "moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../keibi-aws/tests/data/make_estate.py");
    let made = Command::new(&python)
        .arg(script)
        .arg(&endpoint)
        .args(["--extra-instances", "2"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("make_estate.py");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let made: Value = serde_json::from_slice(&made.stdout).unwrap();
    let s = |k: &str| made[k].as_str().unwrap().to_string();

    let args = [
        "audit",
        "--aws",
        "--endpoint-url",
        &endpoint,
        "--region",
        "us-east-1",
        "--format",
        "jsonl",
    ];
    let o = keibi(&args);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let found: BTreeSet<(String, String)> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let f: Value = serde_json::from_str(l).unwrap();
            assert_eq!(f["resource"]["account"], "123456789012", "{f}");
            assert_eq!(f["resource"]["region"], "us-east-1", "{f}");
            let t = f["type"].as_str().unwrap();
            let control = t["Posture:".len()..].split('/').next().unwrap().to_string();
            (control, f["resource"]["id"].as_str().unwrap().to_string())
        })
        .collect();
    let has = |c: &str, r: &str| found.contains(&(c.to_string(), r.to_string()));
    let db = s("db_instance");
    // The doors the estate left open, each on its resource.
    for c in [
        "RDS.2", "KB.RDS.1", "RDS.46", "RDS.3", "RDS.8", "RDS.38", "RDS.36", "RDS.23",
    ] {
        assert!(has(c, &db), "{c} on {db} not found in {found:?}\n{stderr}");
    }
    assert!(has("RDS.1", &s("db_snapshot")), "{found:?}");
    assert!(has("EC2.19", &s("security_group")), "{found:?}");
    assert!(has("RDS.27", &s("db_cluster")), "{found:?}");
    assert!(has("RDS.7", &s("db_cluster")), "{found:?}");
    let trail = s("trail_arn");
    for c in ["CloudTrail.2", "CloudTrail.4", "CloudTrail.5"] {
        assert!(has(c, &trail), "{c} on {trail}: {found:?}");
    }
    // What the estate did right is not reported: the trail logs everything in all
    // regions, the detector is on, and the padding instances are private and
    // encrypted.
    for c in ["CloudTrail.1", "CloudTrail.3", "GuardDuty.1"] {
        assert!(!found.iter().any(|(k, _)| k == c), "{c}: {found:?}");
    }
    for (c, r) in &found {
        assert!(
            !r.starts_with("keibi-pad-") || !["RDS.2", "RDS.3", "KB.RDS.1"].contains(&c.as_str()),
            "{c} on a private encrypted instance {r}"
        );
    }
    assert!(stderr.contains("0 problems"), "{stderr}");
    // The AWS line counts the describe calls (free: the estimate is transfer only)
    // and stays before the closing line.
    let usage = stderr
        .lines()
        .position(|l| l.starts_with("keibi: AWS: "))
        .unwrap_or_else(|| panic!("no AWS usage line: {stderr}"));
    let line = stderr.lines().nth(usage).unwrap();
    let requests: u64 = line["keibi: AWS: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap();
    // At least the describe calls of RDS, EC2, CloudTrail, GuardDuty and STS.
    assert!(requests >= 10, "{line}");
    assert!(line.contains(" more)") || line.contains("rds "), "{line}");
    assert!(line.contains("at us-east-1 list prices"), "{line}");
    assert!(usage + 1 < stderr.lines().count(), "{stderr}");

    // The same estate fails a CI gate at Critical (the public snapshot, the open
    // port, the reachable instance).
    let mut gate = args.to_vec();
    gate.extend(["--fail-on", "Critical"]);
    assert_eq!(keibi(&gate).status.code(), Some(1));
}

/// `--role-arn`: the chain's keys assume the role and the role's read the estate
/// (moto is one account: the role is in it); an ARN that is not one is said,
/// named, before any call.
#[test]
fn a_live_audit_by_an_assumed_role() {
    let Some(python) = python_with("moto") else {
        return;
    };
    let port = free_port();
    let mut cmd = Command::new(python.with_file_name("moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let _moto = Service::start(cmd, port, "Running on", "moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../keibi-aws/tests/data/make_estate.py");
    let made = Command::new(&python)
        .arg(script)
        .arg(&endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("make_estate.py");
    assert!(made.status.success());
    let made: Value = serde_json::from_slice(&made.stdout).unwrap();

    let o = keibi(&[
        "audit",
        "--aws",
        "--endpoint-url",
        &endpoint,
        "--region",
        "us-east-1",
        "--role-arn",
        "arn:aws:iam::123456789012:role/keibi-audit",
        "--external-id",
        "keibi-ext-1",
        "--format",
        "jsonl",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let db = made["db_instance"].as_str().unwrap();
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("Posture:RDS.2/") && l.contains(db)),
        "{stdout}\n{stderr}"
    );
    assert!(stderr.contains("0 problems"), "{stderr}");

    let o = keibi(&[
        "audit",
        "--aws",
        "--endpoint-url",
        &endpoint,
        "--region",
        "us-east-1",
        "--role-arn",
        "arn:aws:iam::123456789012:user/not-a-role",
        "--format",
        "jsonl",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        stderr.contains("arn:aws:iam::123456789012:user/not-a-role")
            && stderr.contains("not a role ARN"),
        "{stderr}"
    );
    assert!(!stderr.contains("testing"), "{stderr}");
}
