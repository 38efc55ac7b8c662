//! The exports as a user runs them: `keibi scan` of two attack scenarios (a
//! CloudTrail attack sequence, with its account and region, and a database's mass
//! destruction, without), `--format ocsf` / `--format asff` write them for Security Lake and
//! Security Hub, and `keibi findings export --to securityhub` imports the stored
//! findings into moto server's Security Hub (PyPI); boto3's GetFindings reads them
//! back. Resolving a finding in the store and exporting again updates it there:
//! its workflow is mirrored, and nothing is duplicated.
//!
//! The moto part is skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1`.

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod hub;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn keibi(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(args)
        .current_dir(dir)
        .env("KEIBI_LANG", "en")
        .env_remove("AWS_ACCOUNT_ID")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .expect("run keibi")
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The inputs scanned: the scenarios' attack logs.
fn inputs() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    [
        "ct-attack-sequence/attack",
        "activity-mass-destruction/attack",
    ]
    .iter()
    .map(|s| root.join(s).display().to_string())
    .collect()
}

fn scan(format: &str, dir: &Path) -> Output {
    let mut args = vec!["scan".to_string()];
    args.extend(inputs());
    args.extend(["--format".to_string(), format.to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    keibi(&args, dir)
}

/// A store holding the scenarios' findings, in a fresh directory.
fn scanned_store() -> (tempfile::TempDir, usize) {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = ok(scan("jsonl", dir.path()), "scan");
    let n = jsonl.lines().count();
    assert!(n >= 3, "the scenarios' attacks are found: {n}");
    assert!(jsonl.contains("\"account\""), "some name their account");
    std::fs::write(dir.path().join("findings.jsonl"), &jsonl).unwrap();
    ok(
        keibi(&["findings", "import", "findings.jsonl"], dir.path()),
        "import",
    );
    (dir, n)
}

#[test]
fn scan_writes_ocsf_lines_and_an_asff_array() {
    let (dir, n) = scanned_store();
    let ocsf = ok(scan("ocsf", dir.path()), "ocsf");
    let events: Vec<Value> = ocsf
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(events.len(), n);
    for e in &events {
        assert_eq!(e["class_uid"], 2004);
        assert_eq!(e["metadata"]["product"]["name"], "keibi");
        assert_eq!(e["status_id"], 1, "a scan's findings are new");
        assert!(e["finding_info"]["uid"]
            .as_str()
            .is_some_and(|u| u.len() == 32));
    }
    // ASFF needs an account and a region: the database's findings name none.
    let refused = scan("asff", dir.path());
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("AWS_ACCOUNT_ID"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .arg("scan")
        .args(inputs())
        .args(["--format", "asff"])
        .current_dir(dir.path())
        .env("AWS_ACCOUNT_ID", "111122223333")
        .env("AWS_REGION", "eu-west-1")
        .output()
        .unwrap();
    let asff: Value = serde_json::from_str(&ok(out, "asff")).expect("one JSON array");
    let asff = asff.as_array().unwrap();
    assert_eq!(asff.len(), n);
    for f in asff {
        assert_eq!(
            f["ProductArn"],
            "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default"
        );
        assert_eq!(f["Workflow"]["Status"], "NEW");
    }
    // The stored findings with their statuses, too.
    let listed = ok(
        keibi(
            &["findings", "list", "--all", "--format", "ocsf"],
            dir.path(),
        ),
        "list",
    );
    assert_eq!(listed.lines().count(), n);
}

fn get_findings(python: &Path, endpoint: &str, region: &str) -> Vec<Value> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../keibi-aws/tests/data/securityhub_get.py");
    let out = Command::new(python)
        .arg(script)
        .args([endpoint, region])
        .output()
        .expect("run securityhub_get.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("GetFindings JSON")
}

#[test]
fn export_to_security_hub_mirrors_the_workflow() {
    let Some(python) = hub::python_with("moto") else {
        return;
    };
    let port = hub::free_port();
    let mut cmd = Command::new(python.with_file_name("moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let _moto = hub::Service::start(cmd, port, "Running on", "moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let (dir, n) = scanned_store();
    let export = |dir: &Path| {
        Command::new(env!("CARGO_BIN_EXE_keibi"))
            .args([
                "findings",
                "export",
                "--to",
                "securityhub",
                "--region",
                "ap-northeast-1",
                "--endpoint-url",
                &endpoint,
            ])
            .current_dir(dir)
            .env("KEIBI_LANG", "en")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/keibi-test/credentials",
            )
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .output()
            .unwrap()
    };
    let out = export(dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{n} findings imported into Security Hub (account 123456789012, ap-northeast-1) in 1 call; 0 refused")),
        "{stderr}"
    );
    // The AWS line: STS and one BatchImportFindings, priced per finding imported
    // ($0.00003 each at list price) plus the answers' few bytes.
    let usage = stderr
        .lines()
        .find(|l| l.starts_with("keibi: AWS: "))
        .unwrap_or_else(|| panic!("no AWS usage line: {stderr}"));
    assert!(
        usage.contains("securityhub BatchImportFindings 1"),
        "{usage}"
    );
    assert!(usage.contains("sts GetCallerIdentity 1"), "{usage}");
    assert!(usage.contains("at ap-northeast-1 list prices"), "{usage}");
    let usd: f64 = usage
        .split("≈ $")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let floor = n as f64 * 0.00003;
    assert!(
        usd >= floor * 0.95 && usd < floor * 1.05 + 0.00001,
        "{usd} for {n} findings: {usage}"
    );
    let found = get_findings(&python, &endpoint, "ap-northeast-1");
    assert_eq!(found.len(), n);
    assert!(found.iter().all(|f| f["Workflow"]["Status"] == "NEW"));
    assert!(found.iter().all(|f| f["AwsAccountId"] == "123456789012"));

    // Resolve one in the store, export again: updated there, not added, with a
    // later UpdatedAt (Security Hub ignores an update that is not newer).
    let id = found[0]["Id"].as_str().unwrap().to_string();
    let before = found[0]["UpdatedAt"].as_str().unwrap().to_string();
    ok(
        keibi(&["findings", "resolve", &id, "--note", "fixed"], dir.path()),
        "resolve",
    );
    let out = export(dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = get_findings(&python, &endpoint, "ap-northeast-1");
    assert_eq!(found.len(), n, "re-export updates, never duplicates");
    let f = found.iter().find(|f| f["Id"] == id.as_str()).unwrap();
    assert_eq!(f["Workflow"]["Status"], "RESOLVED");
    assert_eq!(f["RecordState"], "ARCHIVED");
    assert!(
        f["UpdatedAt"].as_str().unwrap() > before.as_str(),
        "{} after {before}",
        f["UpdatedAt"]
    );
    assert_eq!(
        found
            .iter()
            .filter(|f| f["Workflow"]["Status"] == "NEW")
            .count(),
        n - 1
    );
}

#[test]
fn audit_writes_compliance_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rds.json"),
        r#"{"DBInstances": [{"DBInstanceIdentifier": "prod-db", "Engine": "postgres",
  "DBInstanceArn": "arn:aws:rds:us-east-1:123456789012:db:prod-db",
  "PubliclyAccessible": true, "StorageEncrypted": true, "DBInstanceStatus": "available"}]}"#,
    )
    .unwrap();
    let ocsf = keibi(
        &["audit", "--aws-json", "rds.json", "--format", "ocsf"],
        dir.path(),
    );
    let events: Vec<Value> = String::from_utf8(ocsf.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let public = events
        .iter()
        .find(|e| e["compliance"]["control"] == "RDS.2")
        .expect("RDS.2 failed");
    assert_eq!(public["class_uid"], 2003);
    assert_eq!(public["compliance"]["status_id"], 3);
    assert_eq!(public["cloud"]["account"]["uid"], "123456789012");
    assert!(events.iter().all(|e| e["class_uid"] == 2003));
    let asff = keibi(
        &["audit", "--aws-json", "rds.json", "--format", "asff"],
        dir.path(),
    );
    let asff: Value = serde_json::from_slice(&asff.stdout).expect("one JSON array");
    let public = asff
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["Compliance"]["SecurityControlId"] == "RDS.2")
        .expect("RDS.2 failed");
    assert_eq!(public["Compliance"]["Status"], "FAILED");
    assert_eq!(public["AwsAccountId"], "123456789012");
    assert_eq!(public["Severity"]["Label"], "CRITICAL");
    assert_eq!(
        public["Resources"][0]["Id"],
        "arn:aws:rds:us-east-1:123456789012:db:prod-db"
    );
}
