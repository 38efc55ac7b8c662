//! `keibi init`, `keibi config check`, and `keibi scan --config` with a settings
//! file in sections: its tuning applied to the findings of a scenario folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn keibi(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("keibi runs")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name)
}

#[test]
fn init_writes_a_starter_that_checks_and_never_overwrites_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = keibi(&["init"], d);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let written = std::fs::read_to_string(d.join("keibi.yaml")).unwrap();
    assert_eq!(written, keibi_engine::settings::STARTER);
    let o = keibi(&["config", "check"], d);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert_eq!(
        out(&o),
        "ok: keibi.yaml: 0 sources, 0 address lists, 0 suppressions, 0 rule paths and the built-in rules, store keibi.db, server 127.0.0.1:9716\n"
    );

    // An existing file is kept; --force replaces it.
    std::fs::write(d.join("keibi.yaml"), "mine\n").unwrap();
    let o = keibi(&["init"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--force"), "{}", err(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("keibi.yaml")).unwrap(),
        "mine\n"
    );
    let o = keibi(&["init", "--force"], d);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("keibi.yaml")).unwrap(),
        keibi_engine::settings::STARTER
    );

    // A planted link is never written through, even with --force.
    #[cfg(unix)]
    {
        let target = d.join("victim");
        std::fs::write(&target, "precious\n").unwrap();
        std::os::unix::fs::symlink(&target, d.join("link.yaml")).unwrap();
        let o = keibi(&["init", "-o", "link.yaml"], d);
        assert_eq!(o.status.code(), Some(2));
        let o = keibi(&["init", "-o", "link.yaml", "--force"], d);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
        assert!(!std::fs::symlink_metadata(d.join("link.yaml"))
            .unwrap()
            .file_type()
            .is_symlink());
    }
}

#[test]
fn config_check_prints_every_problem_and_exits_1_or_2_when_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("k.yaml"),
        "sources:\n  inputs:\n    - path: missing.log\n  poll_interval: 1s\nlists:\n  threat:\n    - missing.txt\nservr: {}\n",
    )
    .unwrap();
    let o = keibi(&["config", "check", "k.yaml"], d);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        out(&o),
        "k.yaml:3:7: missing.log: does not exist\n\
         k.yaml:7:5: missing.txt: does not exist\n\
         k.yaml:8:1: unknown section `servr`: did you mean `server`?\n"
    );
    assert!(err(&o).contains("3 problems"), "{}", err(&o));
    // Unreadable: not there, a directory, binary data.
    for f in ["nothere.yaml", ".", "/dev/urandom"] {
        if f.starts_with('/') && !Path::new(f).exists() {
            continue;
        }
        let o = keibi(&["config", "check", f], d);
        assert_eq!(o.status.code(), Some(2), "{f}: {}", err(&o));
    }
    // The flat form is fine too.
    std::fs::write(d.join("flat.yaml"), "login:\n  brute_force_failures: 5\n").unwrap();
    let o = keibi(&["config", "check", "flat.yaml"], d);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("flat form"), "{}", out(&o));
}

/// The findings of `keibi scan --format jsonl`: (type, resource, severity).
fn findings(o: &Output) -> Vec<(String, String, f64)> {
    assert_eq!(o.status.code(), Some(0), "{}", err(o));
    out(o)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["type"].as_str().unwrap().to_string(),
                v["resource"]["id"].as_str().unwrap().to_string(),
                v["severity"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn scan_applies_a_sectioned_files_suppressions_and_severities() {
    let attack = scenario("activity-role-elevated/attack");
    let attack = attack.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scan = |config: Option<&str>| {
        let mut args = vec!["scan", "--format", "jsonl", attack];
        if let Some(c) = config {
            std::fs::write(d.join("k.yaml"), c).unwrap();
            args.extend(["--config", "k.yaml"]);
        }
        keibi(&args, d)
    };
    let t = "PrivilegeEscalation:RDS/RoleElevated";
    let plain = findings(&scan(None));
    assert_eq!(
        plain,
        vec![
            (t.into(), "orders-pg".into(), 8.0),
            (t.into(), "orders-mysql".into(), 8.0)
        ]
    );

    // Suppressed on one instance, from the attacker's range: that finding goes.
    let o = scan(Some(&format!(
        "tuning:\n  suppress:\n    - type: {t}\n      resource: orders-pg\n      ip: 185.220.101.0/24\n      reason: a drill\n"
    )));
    assert_eq!(findings(&o), vec![(t.into(), "orders-mysql".into(), 8.0)]);
    assert!(err(&o).contains("1 findings suppressed"), "{}", err(&o));
    assert!(
        err(&o).contains("keibi: 1 findings (1 High)"),
        "{}",
        err(&o)
    );
    // ... not when the address is outside the range, nor once the rule expired.
    let o = scan(Some(&format!(
        "tuning:\n  suppress:\n    - type: {t}\n      ip: 10.0.0.0/8\n"
    )));
    assert_eq!(findings(&o), plain);
    let o = scan(Some(&format!(
        "tuning:\n  suppress:\n    - type: {t}\n      expires: 2020-01-01\n"
    )));
    assert_eq!(findings(&o), plain);

    // A severity override, and a disabled detector (the rule's name).
    let o = scan(Some(&format!("tuning:\n  severity:\n    {t}: critical\n")));
    assert_eq!(
        findings(&o),
        vec![
            (t.into(), "orders-pg".into(), 9.0),
            (t.into(), "orders-mysql".into(), 9.0)
        ]
    );
    let o = scan(Some("tuning:\n  disable: [keibi-db-role-elevated]\n"));
    assert_eq!(findings(&o), vec![]);
    // rules.builtin: false is --no-builtin-rules (this finding is a built-in rule's).
    let o = scan(Some("rules:\n  builtin: false\n"));
    assert_eq!(findings(&o), vec![]);

    // The same tuning in a file with a mistake is an error naming its line (exit 2).
    let o = scan(Some(&format!(
        "tuning:\n  suppress:\n    - type: {t}\n      ip: 185.220.101.0/33\n"
    )));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("k.yaml:4:11: tuning.suppress[0].ip:"),
        "{}",
        err(&o)
    );
}

#[test]
fn scan_reads_lists_from_a_sectioned_file_relative_to_it() {
    // The attacker's address on a trusted list given by the file (a path relative
    // to the file, not to where keibi runs): its brute force raises nothing.
    let brute = scenario("login-bruteforce-pg/attack");
    let brute = brute.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("conf")).unwrap();
    std::fs::write(d.join("conf/office.txt"), "193.142.146.0/24\n").unwrap();
    let o = keibi(&["scan", "--format", "jsonl", brute], d);
    let before = findings(&o);
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].0, "CredentialAccess:RDS/BruteForce");
    std::fs::write(d.join("conf/k.yaml"), "lists:\n  trusted: [office.txt]\n").unwrap();
    let o = keibi(
        &[
            "scan",
            "--format",
            "jsonl",
            "--config",
            "conf/k.yaml",
            brute,
        ],
        d,
    );
    assert_eq!(findings(&o), vec![]);
}
