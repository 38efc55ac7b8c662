//! `keibi audit` as a user runs it: exit codes, problems on stderr with a closing
//! summary, the list of controls, the settings' `audit` section, and the outputs
//! (table, JSON, SARIF) over saved AWS CLI files.
//!
//! The tests that need real failures need the RDS controls and the saved-JSON loader
//! (engineer C's work): until `RDS.2` is in the catalog they say so and return.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn keibi(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(args)
        .current_dir(dir)
        .env_remove("KEIBI_LANG")
        .env("LANG", "C")
        .output()
        .expect("keibi runs")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A public, unencrypted PostgreSQL instance as `aws rds describe-db-instances`
/// prints it, and a private encrypted one.
const INSTANCES: &str = r#"{"DBInstances": [
  {"DBInstanceIdentifier": "prod-db", "Engine": "postgres",
   "DBInstanceArn": "arn:aws:rds:us-east-1:123456789012:db:prod-db",
   "PubliclyAccessible": true, "StorageEncrypted": false, "DBInstanceStatus": "available"},
  {"DBInstanceIdentifier": "dev-db", "Engine": "postgres",
   "DBInstanceArn": "arn:aws:rds:us-east-1:123456789012:db:dev-db",
   "PubliclyAccessible": false, "StorageEncrypted": true, "DBInstanceStatus": "available"}
]}"#;

/// Whether the controls and loader these tests need are in this build.
fn has_rds_controls() -> bool {
    if keibi_posture::control("RDS.2").is_some() {
        return true;
    }
    eprintln!("skipped: needs the RDS controls and the saved-JSON loader (C's work)");
    false
}

#[test]
fn nothing_to_audit_and_bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = keibi(&["audit"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("nothing to audit"), "{}", err(&o));
    let o = keibi(
        &["audit", "--aws-json", "x.json", "--format", "xml"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let o = keibi(
        &["audit", "--aws-json", "x.json", "--fail-on", "severe"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    // A settings file with an audit section that names nothing is nothing to audit.
    std::fs::write(dir.path().join("k.yaml"), "audit:\n  every: 1h\n").unwrap();
    let o = keibi(&["audit", "--config", "k.yaml"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    // A settings file with a problem is an error placed in the file.
    std::fs::write(
        dir.path().join("bad.yaml"),
        "audit:\n  aws_json: [nope.json]\n",
    )
    .unwrap();
    let o = keibi(&["audit", "--config", "bad.yaml"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("bad.yaml:2:"), "{}", err(&o));
}

#[test]
fn problems_are_one_line_each_on_stderr_then_a_closing_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("big\u{1b}[2J.json"), b"{}").unwrap();
    let o = keibi(
        &[
            "audit",
            "--aws-json",
            "missing.json",
            "--aws-json",
            "big\u{1b}[2J.json",
            "--format",
            "jsonl",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let e = err(&o);
    let lines: Vec<&str> = e.lines().collect();
    assert!(lines[0].starts_with("keibi: missing.json: "), "{e}");
    assert!(
        !e.contains('\u{1b}'),
        "escape sequences reach the terminal: {e}"
    );
    let last = lines.last().unwrap();
    assert!(last.starts_with("keibi: audit: 0 failed, "), "{e}");
    assert!(last.contains("problem"), "{e}");
    assert_eq!(out(&o), "", "no failed check: no finding");
}

#[test]
fn list_controls_lists_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let o = keibi(
        &["audit", "--list-controls", "--format", "jsonl"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let items: Vec<Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let catalog: Vec<&keibi_posture::Control> = keibi_posture::controls().collect();
    assert_eq!(items.len(), catalog.len());
    for (i, c) in items.iter().zip(&catalog) {
        assert_eq!(i["id"], c.id);
        assert_eq!(i["type"], c.finding_type().as_str());
        assert_eq!(i["resource_kind"], c.resource_kind);
        assert!(i["severity"].as_f64().unwrap() >= 1.0);
        assert!(!i["title"].as_str().unwrap().is_empty());
    }
    let o = keibi(
        &["audit", "--list-controls", "--format", "table"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0));
    let t = out(&o);
    assert!(t.starts_with("CONTROL"), "{t}");
    assert!(
        t.trim_end()
            .ends_with(&format!("{} controls", catalog.len()))
            || catalog.len() == 1,
        "{t}"
    );
}

#[test]
fn sarif_has_the_required_shape_even_with_no_result() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rds.json"), INSTANCES).unwrap();
    let o = keibi(
        &["audit", "--aws-json", "rds.json", "--format", "sarif"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "keibi");
    assert!(run["tool"]["driver"]["rules"].is_array());
    assert!(run["results"].is_array());
    assert_eq!(
        run["tool"]["driver"]["rules"].as_array().unwrap().len(),
        keibi_posture::controls().count()
    );
}

#[test]
fn settings_name_the_targets_when_no_flag_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("saved")).unwrap();
    std::fs::write(d.join("saved/rds.json"), INSTANCES).unwrap();
    std::fs::write(d.join("saved/junk.json"), "not json").unwrap();
    std::fs::write(d.join("k.yaml"), "audit:\n  aws_json: [saved]\n").unwrap();
    let o = keibi(&["audit", "--config", "k.yaml", "--format", "jsonl"], d);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let e = err(&o);
    assert!(
        e.lines().last().unwrap().starts_with("keibi: audit: "),
        "{e}"
    );
    if !has_rds_controls() {
        return;
    }
    // The directory's files were read: the public instance fails RDS.2, and the
    // file that is not JSON is a problem.
    let findings: Vec<Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        findings
            .iter()
            .any(|f| f["type"] == "Posture:RDS.2/PubliclyAccessible"
                && f["resource"]["id"] == "prod-db"),
        "{findings:?}"
    );
    assert!(e.contains("junk.json"), "{e}");
}

#[test]
fn failures_are_grouped_scored_failed_on_and_suppressed() {
    if !has_rds_controls() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("rds.json"), INSTANCES).unwrap();
    let o = keibi(
        &[
            "audit",
            "--aws-json",
            "rds.json",
            "--format",
            "table",
            "--fail-on",
            "high",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let t = out(&o);
    assert!(
        t.contains("123456789012  us-east-1  db_instance  prod-db"),
        "{t}"
    );
    assert!(t.contains("RDS.2"), "{t}");
    assert!(t.contains("fix: aws rds modify-db-instance"), "{t}");
    assert!(t.contains("Score: "), "{t}");
    assert!(
        !t.contains("dev-db  "),
        "a passing instance has no group: {t}"
    );
    let o = keibi(
        &[
            "audit",
            "--aws-json",
            "rds.json",
            "--format",
            "table",
            "--lang",
            "ja",
        ],
        d,
    );
    assert!(out(&o).contains("セキュリティスコア"), "{}", out(&o));
    // SARIF: the public instance is an error on the saved file.
    let o = keibi(&["audit", "--aws-json", "rds.json", "--format", "sarif"], d);
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let public = results
        .iter()
        .find(|r| r["ruleId"] == "RDS.2")
        .expect("RDS.2 result");
    assert_eq!(public["level"], "error");
    assert_eq!(
        public["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "rds.json"
    );
    assert!(public["partialFingerprints"]["keibiFindingId/v1"].is_string());
    // Suppressed in the settings: counted apart, and --fail-on no longer fires on it.
    std::fs::write(
        d.join("k.yaml"),
        "audit:\n  suppress:\n    - control: RDS.2\n      resource: 'prod-*'\n      reason: behind a bastion\n",
    )
    .unwrap();
    let o = keibi(
        &[
            "audit",
            "--config",
            "k.yaml",
            "--aws-json",
            "rds.json",
            "--format",
            "table",
            "--fail-on",
            "critical",
        ],
        d,
    );
    let t = out(&o);
    assert!(t.contains("behind a bastion"), "{t}");
    assert_eq!(o.status.code(), Some(0), "{t}{}", err(&o));
}

#[test]
fn a_database_password_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = {
        // A port nothing listens on.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    std::fs::write(
        d.join("k.yaml"),
        format!(
            "audit:\n  postgres:\n    - url: postgres://auditor@127.0.0.1:{port}/postgres\n      password: {{env: KEIBI_TEST_AUDIT_PW}}\n  mysql:\n    - url: mysql://auditor@127.0.0.1:{port}/\n      password: {{env: KEIBI_TEST_AUDIT_PW_UNSET}}\n"
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(["audit", "--config", "k.yaml", "--format", "jsonl"])
        .current_dir(d)
        .env("KEIBI_TEST_AUDIT_PW", "s3cr3t/pw")
        .env_remove("KEIBI_TEST_AUDIT_PW_UNSET")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let e = err(&o);
    assert!(!e.contains("s3cr3t") && !out(&o).contains("s3cr3t"), "{e}");
    // One problem line per database: unreachable, and the password not set.
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(e.contains("KEIBI_TEST_AUDIT_PW_UNSET"), "{e}");
    assert!(e.lines().last().unwrap().contains("2 problems"), "{e}");
    // The same with the password in a flag's URL.
    let o = keibi(
        &[
            "audit",
            "--pg",
            &format!("postgres://auditor:s3cr3t%2Fpw@127.0.0.1:{port}/postgres"),
        ],
        d,
    );
    assert!(!err(&o).contains("s3cr3t"), "{}", err(&o));
}
