//! End-to-end tests of the `keibi` command on files: the summary line, exit codes,
//! compression, merge order, time windows, and hostile input. (Real-server tests are
//! in `servers.rs`.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/samples")
}

fn sample(name: &str) -> PathBuf {
    samples().join(name)
}

fn run(args: &[&str]) -> Output {
    keibi().args(args).output().expect("keibi runs")
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = keibi()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keibi runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn events(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {e}: {l}")))
        .collect()
}

/// The closing line: (events, files, unrecognized).
fn summary(o: &Output) -> (u64, u64, u64) {
    let err = stderr(o);
    let last = err.lines().last().unwrap_or_default().to_string();
    let nums: Vec<u64> = last
        .strip_prefix("keibi: ")
        .unwrap_or_else(|| panic!("no summary line in {err}"))
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert!(
        last.ends_with(" unrecognized lines") && last.contains(" events from ") && nums.len() == 3,
        "summary line: {last}"
    );
    (nums[0], nums[1], nums[2])
}

#[test]
fn every_sample_is_read_with_nothing_unrecognized() {
    let out = run(&[
        "events",
        "--format",
        "jsonl",
        "--fail-on-unparsed",
        samples().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (n, files, unrec) = summary(&out);
    assert_eq!(files, 7);
    assert_eq!(unrec, 0);
    let evs = events(&out);
    assert_eq!(evs.len() as u64, n);
    assert!(n > 100, "{n} events");
    // Merged in time order across all files.
    let times: Vec<&str> = evs.iter().map(|e| e["time"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    // Every event says where it came from.
    for e in &evs {
        assert!(e["file"]
            .as_str()
            .unwrap()
            .starts_with(samples().to_str().unwrap()));
        assert!(e["line"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn fail_on_unparsed_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mixed = dir.path().join("server_audit.log");
    let mut body = std::fs::read(sample("mariadb-server_audit.log")).unwrap();
    body.extend_from_slice(b"this line is not an audit record\n");
    std::fs::write(&mixed, &body).unwrap();
    let out = run(&["events", "--format", "jsonl", mixed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let (n, files, unrec) = summary(&out);
    assert_eq!((n, files, unrec), (15, 1, 1));
    assert!(
        stderr(&out).contains(&format!("{}:16:", mixed.display())),
        "{}",
        stderr(&out)
    );
    let out = run(&[
        "events",
        "--format",
        "jsonl",
        "--fail-on-unparsed",
        mixed.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));

    // Nothing readable at all: exit 2.
    let out = run(&["events", "/nonexistent/keibi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/keibi"));
    let out = run_stdin(&["events", "-"], b"\x00\x01\x02 binary garbage \xff\xfe\n");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(summary(&out), (0, 0, 1));
}

#[test]
fn reads_stdin_and_every_compression() {
    let raw = std::fs::read(sample("postgresql-rds-prefix.log")).unwrap();
    let plain = run_stdin(&["events", "--format", "jsonl", "-"], &raw);
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    let base = events(&plain);
    assert!(!base.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&raw).unwrap();
        e.finish().unwrap()
    };
    let zst = zstd::encode_all(&raw[..], 1).unwrap();
    let bz = {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        e.write_all(&raw).unwrap();
        e.finish().unwrap()
    };
    // Names that lie about the content: compression is told by magic bytes.
    for (name, bytes) in [("a.log.gz", &gz), ("b.log", &zst), ("c.bz2", &bz)] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = run(&["events", "--format", "jsonl", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let evs = events(&out);
        assert_eq!(evs.len(), base.len(), "{name}");
        assert_eq!(evs[3]["action"], base[3]["action"]);
        assert_eq!(evs[3]["line"], base[3]["line"]);
    }
}

#[test]
fn truncated_gzip_keeps_what_came_before_and_says_where() {
    let raw = std::fs::read(sample("postgresql-rds-prefix.log"))
        .unwrap()
        .repeat(50);
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&raw).unwrap();
        e.finish().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.log.gz");
    std::fs::write(&p, &gz[..gz.len() * 2 / 3]).unwrap();
    let other = sample("mariadb-server_audit.log");
    let out = run(&[
        "events",
        "--format",
        "jsonl",
        p.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("keibi: warning: {}:", p.display())),
        "{err}"
    );
    assert!(err.contains("truncated"), "{err}");
    let evs = events(&out);
    let from_cut = evs
        .iter()
        .filter(|e| e["file"] == p.to_str().unwrap())
        .count();
    assert!(from_cut > 100, "read {from_cut} events before the damage");
    assert_eq!(
        evs.iter()
            .filter(|e| e["file"] == other.to_str().unwrap())
            .count(),
        15
    );
}

#[test]
fn rotated_files_and_time_window() {
    let dir = tempfile::tempdir().unwrap();
    let inst = dir.path().join("orders-db");
    std::fs::create_dir(&inst).unwrap();
    // The newer file has the plain name, the older one the rotation suffix.
    std::fs::copy(
        sample("mariadb-server_audit.log"),
        inst.join("server_audit.log.1"),
    )
    .unwrap();
    std::fs::copy(
        sample("mariadb-hydra-bruteforce-audit.log"),
        inst.join("server_audit.log"),
    )
    .unwrap();
    let out = run(&["events", "--format", "jsonl", dir.path().to_str().unwrap()]);
    let evs = events(&out);
    assert_eq!(evs.len(), 31);
    assert!(evs[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("server_audit.log.1"));
    assert!(evs[30]["file"]
        .as_str()
        .unwrap()
        .ends_with("server_audit.log"));
    assert!(
        evs.iter().all(|e| e["instance"] == "orders-db"),
        "instance from the directory"
    );

    let out = run(&[
        "events",
        "--format",
        "jsonl",
        "--instance",
        "x",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        events(&out).iter().all(|e| e["instance"] == "x"),
        "--instance wins"
    );

    let out = run(&[
        "events",
        "--format",
        "jsonl",
        "--since",
        "2026-11-28T15:42:14Z",
        "--until",
        "2026-11-28 15:42:15",
        dir.path().to_str().unwrap(),
    ]);
    let evs = events(&out);
    assert_eq!(evs.len(), 8);
    assert!(evs.iter().all(|e| e["time"] == "2026-11-28T15:42:14Z"));
}

#[test]
fn hostile_input_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = std::fs::read(sample("mariadb-server_audit.log")).unwrap();
    body.extend_from_slice(
        b"20261128 15:42:10,vm,\xff\xfe\x1b[31mevil,127.0.0.1,5,0,CONNECT,shop,,0\n",
    );
    body.extend(std::iter::repeat_n(b'A', 10 << 20));
    body.extend_from_slice(b"\n");
    body.extend_from_slice(b"20261128 15:42:11,vm,app,127.0.0.1,5,0,DISCONNECT,shop,,0\n");
    let p = dir.path().join("audit.log");
    std::fs::write(&p, &body).unwrap();
    for format in ["jsonl", "table"] {
        let out = run(&["events", "--format", format, p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains('\x1b'),
            "raw escape reached the {format} output"
        );
        let err = stderr(&out);
        assert!(err.contains(":17:"), "the 10 MB line is named: {err}");
        assert!(!err.contains("panicked"), "{err}");
        let (n, _, _) = summary(&out);
        assert_eq!(n, 17, "the record after the long line is still read");
    }
}

#[test]
fn closed_pipe_is_not_an_error() {
    let mut child = keibi()
        .args(["events", "--format", "jsonl", samples().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn demo_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&["demo", "--write-to", &dir.path().to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CredentialAccess:RDS/BruteForce"), "{text}");
    assert!(text.contains("shop-postgres"), "{text}");
}

/// A link planted in the `--write-to` folder (a log file's name pointing at a file
/// outside, or a whole directory pointing elsewhere) is refused, and nothing outside
/// the folder is written; a second demo into the same real folder still works.
#[test]
fn demo_never_writes_through_a_planted_link() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().expect("tempdir");
    let victim = outside.path().join("victim");
    std::fs::write(&victim, b"precious\n").unwrap();

    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("logs/shop-mysql/audit");
    std::fs::create_dir_all(&audit).unwrap();
    symlink(&victim, audit.join("server_audit.log")).unwrap();
    let out = run(&["demo", "--write-to", &dir.path().to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is a symbolic link"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");

    // A directory on the way that is a link to somewhere else.
    let dir = tempfile::tempdir().expect("tempdir");
    symlink(outside.path(), dir.path().join("lists")).unwrap();
    let out = run(&["demo", "--write-to", &dir.path().to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("lists is a symbolic link"),
        "{}",
        stderr(&out)
    );
    let names: Vec<_> = std::fs::read_dir(outside.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "only the victim is outside: {names:?}");

    // An ordinary folder, written twice.
    let dir = tempfile::tempdir().expect("tempdir");
    for _ in 0..2 {
        let out = run(&["demo", "--write-to", &dir.path().to_string_lossy()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
}

#[test]
fn rules_list_shows_the_builtin_rules() {
    let out = run(&["rules", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for t in [
        "PrivilegeEscalation:RDS/RoleElevated",
        "Execution:RDS/ServerSideCommand",
        "InitialAccess:RDS/SQLInjection",
        "Exfiltration:RDS/SnapshotPublic",
    ] {
        assert!(text.contains(t), "{t} missing from:\n{text}");
    }
    assert!(stderr(&out).contains(" 0 problems"), "{}", stderr(&out));
}

/// A rule's Japanese may use only the placeholders of its English (docs/rules.md).
#[test]
fn rules_lint_refuses_a_japanese_placeholder_the_english_lacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = |ja: &str| {
        format!(
            "title: grant\nname: my-grant\nlogsource: {{product: postgresql}}\ndetection:\n  s:\n    statement.command: GRANT\n  condition: s\nkeibi:\n  type: Custom:RDS/Grant\n  title: \"{{user}} granted on {{instance}}\"\n  title_ja: \"{ja}\"\n"
        )
    };
    let path = dir.path().join("grant.yml");
    std::fs::write(&path, rule("{instance} で {client_ip} が付与")).unwrap();
    let out = run(&["rules", "lint", &path.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("grant.yml")
            && text
                .contains("keibi.title_ja uses {client_ip}, which the rule's English texts do not"),
        "{text}"
    );
    std::fs::write(&path, rule("{instance} で {user} が付与")).unwrap();
    let out = run(&["rules", "lint", &path.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn rules_lint_names_each_bad_rule_with_its_file_and_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = "title: ok\nname: ok-rule\nlogsource: {product: postgresql}\ndetection:\n  s:\n    user: mallory\n  condition: s\nlevel: high\n";
    let bad_modifier = "title: bad\nlogsource: {product: mysql}\ndetection:\n  s:\n    user|frobnicate: x\n  condition: s\n";
    let bad_meta = "title: meta\nlogsource: {product: mysql}\ndetection:\n  s:\n    user: x\n  condition: s\nkeibi:\n  type: X:RDS/Y\n  severity: 42\n";
    std::fs::write(dir.path().join("good.yml"), good).unwrap();
    std::fs::write(dir.path().join("bad-modifier.yml"), bad_modifier).unwrap();
    std::fs::write(dir.path().join("bad-meta.yaml"), bad_meta).unwrap();
    let out = run(&["rules", "lint", &dir.path().to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bad-modifier.yml") && text.contains("frobnicate"),
        "{text}"
    );
    assert!(
        text.contains("bad-meta.yaml") && text.contains("severity"),
        "{text}"
    );
    assert!(!text.contains("good.yml"), "{text}");
    assert!(
        stderr(&out).contains("3 files, 1 rules loaded, 2 problems"),
        "{}",
        stderr(&out)
    );

    // A scan with them still runs the good rule, and warns about the others.
    let log = dir.path().join("pg.log");
    std::fs::write(
        &log,
        "2026-11-02 10:00:01 UTC:203.0.113.9(50000):mallory@shop:[100]:LOG:  connection authorized: user=mallory database=shop\n",
    )
    .unwrap();
    let rules = dir.path().to_string_lossy().into_owned();
    let out = run(&[
        "scan",
        "--format",
        "jsonl",
        "--rules",
        &rules,
        &log.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Sigma:RDS/ok-rule"));
    assert!(stderr(&out).contains("rule not loaded: ") && stderr(&out).contains("bad-meta.yaml"));
}

#[test]
fn trusted_addresses_raise_nothing_and_the_table_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::new();
    for i in 0..40 {
        log.push_str(&format!(
            "2026-11-02 10:00:{:02} UTC:203.0.113.9({}):postgres@shop:[{}]:FATAL:  password authentication failed for user \"postgres\"\n",
            i,
            50000 + i,
            100 + i
        ));
    }
    let path = dir.path().join("pg.log");
    std::fs::write(&path, log).unwrap();
    let p = path.to_string_lossy().into_owned();
    let out = run(&["scan", "--format", "jsonl", &p]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("CredentialAccess:RDS/BruteForce"),
        "the control: without a trusted list it is a brute force"
    );
    let trusted = dir.path().join("office.txt");
    std::fs::write(&trusted, "# office\n203.0.113.0/24\n").unwrap();
    let t = trusted.to_string_lossy().into_owned();
    let out = run(&[
        "--color",
        "never",
        "scan",
        "--format",
        "table",
        "--trusted-list",
        &t,
        &p,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("BruteForce"), "{text}");
    assert!(
        text.contains("40 login and connection events from trusted addresses raised no findings"),
        "{text}"
    );
}

/// A PostgreSQL log with a `log_line_prefix` keibi does not know by itself is read once
/// the prefix is given: `--pg-prefix` alone, without `--log-format` (as in pgbadger's
/// fixture `multiline_param.log`, `%m [%p] user=%u,db=%d `).
#[test]
fn pg_prefix_alone_makes_an_unknown_prefix_readable() {
    let log = b"2021-12-03 07:14:48.591 UTC [4913] user=user1,db=mydb LOG:  duration: 124.9 ms  statement: SELECT 1\n\
2021-12-03 07:14:49.000 UTC [4914] user=eve,db=mydb FATAL:  password authentication failed for user \"eve\"\n";
    // Since issue 14 the prefix is also inferred without --pg-prefix: both read alike.
    let inferred = run_stdin(&["events", "--format", "jsonl", "-"], log);
    let o = run_stdin(
        &[
            "events",
            "--format",
            "jsonl",
            "--pg-prefix",
            "%m [%p] user=%u,db=%d ",
            "-",
        ],
        log,
    );
    for o in [&o, &inferred] {
        assert_eq!(summary(o), (2, 1, 0), "{}", stderr(o));
        let ev = events(o);
        assert_eq!(ev[0]["action"], "statement");
        assert_eq!(
            (ev[1]["action"].as_str(), ev[1]["user"].as_str()),
            (Some("login_failure"), Some("eve"))
        );
    }
    assert_eq!(o.stdout, inferred.stdout);
}

/// Waits for `child` at most `secs` seconds; kills it and fails when it takes longer.
fn wait_or_kill(mut child: std::process::Child, secs: u64) -> Output {
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(secs) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("still running after {secs} s: {}", stderr(&out));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// An input in no known format is looked at for a bounded amount and given up on with
/// a warning naming it, instead of being read to its end: `/dev/urandom` ends promptly,
/// with exit 2 when nothing else could be read, and the summary says what was not read.
#[test]
fn an_endless_unrecognized_file_is_given_up_on() {
    let child = keibi()
        .args(["events", "--format", "jsonl", "/dev/urandom"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_or_kill(child, 60);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/dev/urandom: format not recognized")
            && err.contains("gave up on it after its first 1048576 bytes"),
        "{err}"
    );
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("keibi: 0 events from 0 files, ")
            && last.ends_with(
                " unrecognized lines (and the rest of 1 input in no known format, not read)"
            ),
        "{last}"
    );
    // Beside a readable file, the readable one is read, and --fail-on-unparsed fails.
    let child = keibi()
        .args([
            "events",
            "--format",
            "jsonl",
            "--fail-on-unparsed",
            "/dev/urandom",
        ])
        .arg(sample("postgresql-rds-prefix.log"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_or_kill(child, 60);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!events(&out).is_empty());
}

/// An endless standard input in no known format (a process writing forever) ends
/// promptly too; the writer is killed after.
#[test]
fn an_endless_unrecognized_stdin_is_given_up_on() {
    let mut writer = Command::new("yes")
        .arg("this is not a log line")
        .stdout(Stdio::piped())
        .spawn()
        .expect("yes runs");
    let child = keibi()
        .args(["events", "--format", "jsonl", "-"])
        .stdin(Stdio::from(writer.stdout.take().unwrap()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_or_kill(child, 60);
    let _ = writer.kill();
    let _ = writer.wait();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "keibi: error: -: format not recognized (first line: \"this is not a log line\")"
        ) && err.contains("(10000 lines)"),
        "{err}"
    );
    assert!(
        err.contains("0 events from 0 files, 10000 unrecognized lines (and the rest"),
        "{err}"
    );
}

/// A short file in no known format is still counted whole, and the summary is the
/// usual one.
#[test]
fn a_short_unrecognized_file_counts_all_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("notes.txt");
    std::fs::write(&f, "one\ntwo\nthree").unwrap();
    let out = run(&["events", "--fail-on-unparsed", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(summary(&out), (0, 0, 3));
    assert!(!stderr(&out).contains("gave up"), "{}", stderr(&out));
}

/// Issue 13 §8: a rule with an undefined `|expand` placeholder does not load and
/// fire on everything; `--placeholder NAME=FILE` (one value a line) defines it, and
/// the rule then excludes the listed users.
#[test]
fn a_rule_with_an_undefined_placeholder_does_not_load_until_given_its_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("not-admin.yml");
    std::fs::write(&rule, "title: Role created by someone not an admin\nname: create-not-admin\nlogsource: {product: postgresql}\ndetection:\n  sel:\n    statement.command: CREATE ROLE\n  admins:\n    user|expand: '%admins%'\n  condition: sel and not admins\nlevel: medium\n").unwrap();
    let log = dir.path().join("db1").join("postgresql.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(&log, "2026-12-01 10:00:00 UTC:10.20.0.5(50000):dba_kim@shop:[100]:LOG:  AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,CREATE ROLE report_bot LOGIN,<not logged>\n2026-12-01 10:05:00 UTC:198.51.100.23(50001):mallory@shop:[101]:LOG:  AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,CREATE ROLE pgsync LOGIN,<not logged>\n").unwrap();
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "--format", "jsonl", "--no-builtin-rules"];
        let r = rule.to_string_lossy().into_owned();
        let l = log.to_string_lossy().into_owned();
        args.extend(["--rules", &r]);
        args.extend(extra);
        args.push(&l);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let users: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|f| f["type"] == "Sigma:RDS/create-not-admin")
            .map(|f| f["actor"]["user"].as_str().unwrap_or_default().to_string())
            .collect();
        (users, stderr(&out))
    };
    let (users, err) = scan(&[]);
    assert!(users.is_empty(), "{users:?}");
    assert!(
        err.contains("not-admin.yml") && err.contains("%admins% has no values"),
        "{err}"
    );
    let admins = dir.path().join("admins.txt");
    std::fs::write(&admins, "dba_kim\n\n  terraform  \n").unwrap();
    let arg = format!("admins={}", admins.display());
    let (users, err) = scan(&["--placeholder", &arg]);
    assert_eq!(users, vec!["mallory".to_string()], "{err}");
    let out = run(&["scan", "--placeholder", "admins", &log.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
