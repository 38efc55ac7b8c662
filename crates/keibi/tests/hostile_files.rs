//! Files keibi is handed besides logs, written by someone hostile or broken: rule
//! files, `--config`, address lists, `--state`, and directory trees with link loops.
//! None may panic keibi, take unbounded memory or time, or be dropped silently.
//! (Time bounds here are generous sanity limits, not measurements.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn run(args: &[&str]) -> Output {
    keibi().args(args).output().expect("keibi runs")
}

/// Runs keibi and checks it neither panicked nor took long.
fn run_bounded(args: &[&str]) -> Output {
    let start = Instant::now();
    let out = run(args);
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "keibi {args:?} took {took:?}"
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/samples")
        .join(name)
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

const GOOD_RULE: &str = "title: ok\nname: ok-rule\nlogsource: {product: postgresql}\ndetection:\n  s:\n    user: mallory\n  condition: s\nlevel: high\n";

/// A 4 KB "billion laughs": 300 x 300 x 100 values once its aliases are expanded.
fn alias_bomb() -> String {
    let a0 = format!("[{}]", vec!["xxxxxxx"; 300].join(","));
    let a1 = format!("[{}]", vec!["*a0"; 300].join(","));
    let a2 = format!("[{}]", vec!["*a1"; 100].join(","));
    format!("title: bomb\nlogsource:\n  product: postgresql\ndetection:\n  a0: &a0 {a0}\n  a1: &a1 {a1}\n  selection:\n    user: {a2}\n  condition: selection\n")
}

/// 200 KB of nested flow sequences.
fn deep_nesting() -> String {
    format!(
        "title: deep\nlogsource:\n  product: postgresql\ndetection:\n  selection:\n    user: {}{}\n  condition: selection\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    )
}

#[test]
fn alias_bombs_and_deep_nesting_are_refused_by_lint_and_skipped_by_scan() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("bomb.yml"), alias_bomb()).unwrap();
    std::fs::write(rules.join("deep.yml"), deep_nesting()).unwrap();
    std::fs::write(rules.join("good.yml"), GOOD_RULE).unwrap();

    let out = run_bounded(&["rules", "lint", &s(&rules)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("bomb.yml: line 5: aliases") && text.contains("not allowed in rule files"),
        "{text}"
    );
    assert!(
        text.contains("deep.yml: line 6: nested more than 64 levels"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("3 files, 1 rules loaded, 2 problems"),
        "{}",
        stderr(&out)
    );

    // A scan reports both and goes on with the good rule.
    let log = dir.path().join("pg.log");
    std::fs::write(
        &log,
        "2026-11-02 10:00:01 UTC:203.0.113.9(50000):mallory@shop:[100]:LOG:  connection authorized: user=mallory database=shop\n",
    )
    .unwrap();
    let out = run_bounded(&["scan", "--format", "jsonl", "--rules", &s(&rules), &s(&log)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Sigma:RDS/ok-rule"));
    let err = stderr(&out);
    assert!(
        err.contains("rule not loaded: ") && err.contains("bomb.yml") && err.contains("deep.yml"),
        "{err}"
    );
}

#[test]
fn a_rule_file_over_the_size_limit_is_a_problem_not_a_load() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yml");
    let mut text = GOOD_RULE.to_string();
    text.push_str(&format!("# {}\n", "x".repeat(1 << 20)));
    std::fs::write(&big, text).unwrap();
    let out = run_bounded(&["rules", "lint", &s(&big)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("big.yml: larger than 1048576 bytes"),
        "{}",
        stdout(&out)
    );
}

#[cfg(unix)]
#[test]
fn link_loops_in_inputs_and_rules_are_reported_and_read_once() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(logs.join("a")).unwrap();
    std::fs::copy(
        sample("postgresql-rds-prefix.log"),
        logs.join("a/postgresql.log"),
    )
    .unwrap();
    std::fs::copy(
        sample("mariadb-server_audit.log"),
        logs.join("server_audit.log"),
    )
    .unwrap();
    let events = |o: &Output| stdout(o).lines().count();
    let plain = run_bounded(&["events", "--format", "jsonl", &s(&logs)]);
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    // One link to the parent, then two: read 32 times over, then exponentially.
    symlink("..", logs.join("a/up")).unwrap();
    symlink("..", logs.join("a/up2")).unwrap();
    let looped = run_bounded(&["events", "--format", "jsonl", &s(&logs)]);
    assert_eq!(looped.status.code(), Some(0), "{}", stderr(&looped));
    assert_eq!(events(&looped), events(&plain));
    let err = stderr(&looped);
    assert_eq!(err.matches("a symbolic link loop").count(), 2, "{err}");
    assert!(err.contains("a/up: ") && err.contains("a/up2: "), "{err}");

    let rules = dir.path().join("rules");
    std::fs::create_dir_all(rules.join("sub")).unwrap();
    std::fs::write(rules.join("sub/good.yml"), GOOD_RULE).unwrap();
    symlink("..", rules.join("sub/up")).unwrap();
    let out = run_bounded(&["rules", "lint", &s(&rules)]);
    // Read once: a second copy would be a duplicate rule name.
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("1 files, 1 rules loaded, 0 problems"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("a symbolic link loop"));
}

#[test]
fn lists_and_configs_that_never_end_are_errors_at_once() {
    let log = s(&sample("postgresql-rds-prefix.log"));
    for flag in ["--threat-list", "--tor-list", "--trusted-list", "--config"] {
        for dev in ["/dev/zero", "/dev/urandom"] {
            if !Path::new(dev).exists() {
                continue;
            }
            let out = run_bounded(&["scan", flag, dev, &log]);
            assert_eq!(out.status.code(), Some(2), "{flag} {dev}");
            let err = stderr(&out);
            assert!(
                err.contains(&format!("{flag} {dev}")) && err.contains("binary data"),
                "{err}"
            );
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yml");
    std::fs::write(&big, " ".repeat((1 << 20) + 1)).unwrap();
    let out = run_bounded(&["scan", "--config", &s(&big), &log]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("larger than 1048576 bytes"));
}

#[test]
fn files_over_their_cap_are_refused_before_reading() {
    // Sparse files: their size is known without reading a byte.
    let dir = tempfile::tempdir().unwrap();
    let log = s(&sample("postgresql-rds-prefix.log"));
    for (flag, cap) in [("--threat-list", 256usize << 20), ("--asn-db", 512 << 20)] {
        let p = dir.path().join(flag.trim_start_matches('-'));
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(cap as u64 + 1).unwrap();
        let out = run_bounded(&["scan", flag, &s(&p), &log]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("larger than {cap} bytes")),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn absurd_config_windows_and_hostile_config_yaml_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let log = s(&sample("postgresql-hydra-bruteforce.log"));
    let cases = [
        (
            "cloudtrail:\n  access_denied_window_secs: 18446744073709551615\n",
            "cloudtrail.access_denied_window_secs",
        ),
        ("baseline:\n  settle_secs: -5\n", "baseline.settle_secs"),
        ("login: &l {spray_users: 3}\nx: *l\n", "aliases"),
        (
            "placeholders: [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]\n",
            "levels deep",
        ),
    ];
    for (i, (yaml, said)) in cases.iter().enumerate() {
        let p = dir.path().join(format!("c{i}.yml"));
        std::fs::write(&p, yaml).unwrap();
        let out = run_bounded(&["scan", "--config", &s(&p), &log]);
        assert_eq!(out.status.code(), Some(2), "{yaml}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("c{i}.yml")) && err.contains(said),
            "{err}"
        );
    }
    // The longest window allowed works.
    let p = dir.path().join("ten-years.yml");
    let mut yaml = String::from("login:\n");
    for k in [
        "brute_force_window_secs",
        "spray_window_secs",
        "stuffing_window_secs",
        "probe_grace_secs",
    ] {
        yaml.push_str(&format!("  {k}: 315576000\n"));
    }
    yaml.push_str("cloudtrail:\n  access_denied_window_secs: 315576000\n  snapshot_delete_window_secs: 315576000\n");
    std::fs::write(&p, yaml).unwrap();
    let out = run_bounded(&["scan", "--format", "jsonl", "--config", &s(&p), &log]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_damaged_state_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("keibi.state");
    let log = s(&sample("mariadb-hydra-bruteforce-audit.log"));
    let out = run_bounded(&["learn", "--state", &s(&state), &log]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bytes = std::fs::read(&state).unwrap();
    let key = bytes
        .windows(9)
        .position(|w| w == b"[\"login\",")
        .expect("a login profile was saved");

    // A key that is not UTF-8: redb panicked on it.
    let mut bad = bytes.clone();
    bad[key + 2] = 0xff;
    std::fs::write(&state, &bad).unwrap();
    let out = run_bounded(&["scan", "--state", &s(&state), &log]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("keibi.state: damaged"), "{err}");

    // A truncated copy.
    std::fs::write(&state, &bytes[..bytes.len() / 2]).unwrap();
    let out = run_bounded(&["scan", "--state", &s(&state), &log]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("keibi.state"), "{}", stderr(&out));

    // A damaged profile (its JSON) is skipped with a warning; the rest loads.
    let mut bad = bytes.clone();
    let value = key
        + bad[key..]
            .windows(2)
            .position(|w| w == b"{\"")
            .expect("a JSON value follows");
    bad[value + 1] = b'!';
    std::fs::write(&state, &bad).unwrap();
    let out = run_bounded(&["scan", "--state", &s(&state), &log]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("skipped a profile"),
        "{}",
        stderr(&out)
    );
}
