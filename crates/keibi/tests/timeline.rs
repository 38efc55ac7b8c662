//! `keibi timeline` on real logs: a real PostgreSQL with pgaudit (the harness of
//! `common/`) where two users log in and run statements, a third with a hostile
//! name runs a hostile statement, and one fails its password a dozen times; plus a
//! CloudTrail file (`data/timeline/`, see its README). `keibi run --once` stores
//! them; `keibi timeline` then shows exactly one user's activity in order, the
//! same from the store and from the files, a principal's API calls folded by the
//! minute, a finding's surroundings with `--around`, and hostile text inert in the
//! table and exact in JSON lines.
//!
//! Without the servers the test is skipped unless `KEIBI_REQUIRE_SERVERS=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use common::postgres::*;

fn keibi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keibi"));
    c.env_remove("KEIBI_LANG")
        .env_remove("KEIBI_TZ")
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES");
    c
}

fn ok(out: Output, what: &str) -> Output {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: {}",
        common::describe(&out)
    );
    out
}

fn cloudtrail() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/timeline/123456789012_CloudTrail_us-east-1_20261128T0905Z_timeline.json")
}

/// `keibi timeline ARGS --format jsonl`, parsed; without `id` (a store's row id,
/// absent from files).
fn jsonl(args: &[&std::ffi::OsStr]) -> Vec<Value> {
    let out = ok(
        keibi()
            .arg("timeline")
            .args(args)
            .args([
                "--since",
                "2026-01-01",
                "--until",
                "2100-01-01",
                "--format",
                "jsonl",
            ])
            .output()
            .unwrap(),
        "keibi timeline",
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("id");
            v
        })
        .collect()
}

fn activity(entries: &[Value]) -> Vec<&Value> {
    entries
        .iter()
        .filter(|e| e["entry"] == "activity")
        .collect()
}

/// (kind, command or API call) of each activity row.
fn shape(entries: &[Value]) -> Vec<String> {
    activity(entries)
        .iter()
        .map(|a| {
            let detail = a["command"]
                .as_str()
                .or(a["what"].as_str().filter(|_| a["kind"] == "api_call"))
                .unwrap_or("");
            format!("{} {detail}", a["kind"].as_str().unwrap())
                .trim_end()
                .to_string()
        })
        .collect()
}

const BOB: &str = "bob";
const BOB_PASSWORD: &str = "keibi-bob-pw";
/// A role name with a colour escape and a right-to-left override.
const EVIL: &str = "ev\u{1b}[31mil\u{202e}nimda";
const EVIL_PASSWORD: &str = "keibi-evil-pw";
/// A statement that clears the screen, reverses the text and breaks the line.
const EVIL_SQL: &str = "SELECT 'x\u{1b}[2J\u{202e}y\nz' AS boom";

#[test]
fn a_users_activity_from_the_store_and_from_the_files() {
    let Some(pg) = Postgres::start() else {
        return;
    };
    let setup = format!(
        "CREATE ROLE {BOB} LOGIN PASSWORD '{BOB_PASSWORD}';\n\
         CREATE ROLE \"{EVIL}\" LOGIN PASSWORD '{EVIL_PASSWORD}';\n\
         GRANT SELECT ON customers TO {BOB};\n"
    );
    ok(pg.psql_local(SUPERUSER, DATABASE, &setup), "set-up");
    ok(
        pg.psql_tcp(
            APP_USER,
            APP_PASSWORD,
            DATABASE,
            "SELECT count(*) FROM customers;\nUPDATE customers SET email = 'c@example.com' WHERE id = 1;\n",
        ),
        "app's session",
    );
    ok(
        pg.psql_tcp(
            BOB,
            BOB_PASSWORD,
            DATABASE,
            "SELECT email FROM customers;\n",
        ),
        "bob's session",
    );
    ok(
        pg.psql_tcp(
            APP_USER,
            APP_PASSWORD,
            DATABASE,
            "DELETE FROM customers WHERE id = 2;\n",
        ),
        "app's second session",
    );
    ok(
        pg.psql_tcp(EVIL, EVIL_PASSWORD, DATABASE, &format!("{EVIL_SQL};\n")),
        "the hostile session",
    );
    for _ in 0..12 {
        let out = pg.psql_tcp(BOB, "not-the-password", DATABASE, "SELECT 1");
        assert!(!out.status.success());
    }
    // The collector writes asynchronously: wait for the last failure's line.
    common::wait_until(
        &pg.stderr_log(),
        |t| {
            t.matches("password authentication failed for user \"bob\"")
                .count()
                >= 12
        },
        "bob's twelve failures",
    );

    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("keibi.db");
    let log = pg.stderr_log();
    let ct = cloudtrail();
    ok(
        keibi()
            .arg("run")
            .arg(&log)
            .arg(&ct)
            .arg("--store")
            .arg(&store)
            .arg("--once")
            .output()
            .unwrap(),
        "keibi run --once",
    );

    // 1. Exactly app's activity, in order: its two sessions within the minute fold
    //    their logins and ends (same address, user and kind), each statement its
    //    own row; nothing of bob's or the others'.
    let from_store = jsonl(&[
        "--store".as_ref(),
        store.as_os_str(),
        "--user".as_ref(),
        APP_USER.as_ref(),
    ]);
    let rows = activity(&from_store);
    assert!(
        rows.iter().all(|a| a["user"] == APP_USER),
        "only app's rows: {from_store:#?}"
    );
    let counted: Vec<(String, u64)> = shape(&from_store)
        .into_iter()
        .zip(rows.iter().map(|a| a["count"].as_u64().unwrap()))
        .collect();
    let c = |s: &str, n: u64| (s.to_string(), n);
    // The two sessions run within a second: one minute, unless the clock turned
    // between them.
    let one_minute = rows[0]["count"] == 2;
    if one_minute {
        assert_eq!(
            counted,
            [
                c("login_ok", 2),
                c("statement SELECT", 1),
                c("statement UPDATE", 1),
                c("disconnect", 2),
                c("statement DELETE", 1)
            ],
            "{from_store:#?}"
        );
    } else {
        assert_eq!(
            counted,
            [
                c("login_ok", 1),
                c("statement SELECT", 1),
                c("statement UPDATE", 1),
                c("disconnect", 1),
                c("login_ok", 1),
                c("statement DELETE", 1),
                c("disconnect", 1)
            ],
            "{from_store:#?}"
        );
    }
    let times: Vec<&str> = rows.iter().map(|a| a["first"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "in time order");
    assert!(rows
        .iter()
        .all(|a| a["ip"] == "127.0.0.1" && a["database"] == DATABASE));
    assert_eq!(
        rows[2]["what"], "UPDATE customers SET email = 'c@example.com' WHERE id = 1;",
        "the statement as the server logged it"
    );

    // A second run on the same store resumes from the checkpoints (reading the
    //    files again for the detectors only): the activity is not written twice.
    ok(
        keibi()
            .arg("run")
            .arg(&log)
            .arg(&ct)
            .arg("--store")
            .arg(&store)
            .arg("--once")
            .output()
            .unwrap(),
        "keibi run --once again",
    );
    assert_eq!(
        jsonl(&[
            "--store".as_ref(),
            store.as_os_str(),
            "--user".as_ref(),
            APP_USER.as_ref()
        ]),
        from_store,
        "a restart writes nothing twice"
    );

    // 2. From the files: the same rows (no store ids).
    let from_files = jsonl(&[
        log.as_os_str(),
        ct.as_os_str(),
        "--user".as_ref(),
        APP_USER.as_ref(),
    ]);
    assert_eq!(from_files, from_store, "the files say what the store says");

    // 3. A principal: its CloudTrail calls, the minute's six console logins folded.
    let root = "arn:aws:iam::123456789012:root";
    let calls = jsonl(&[
        "--store".as_ref(),
        store.as_os_str(),
        "--principal".as_ref(),
        root.as_ref(),
    ]);
    assert_eq!(
        shape(&calls),
        [
            "api_call signin.amazonaws.com:ConsoleLogin",
            "api_call signin.amazonaws.com:ConsoleLogin",
            "api_call iam.amazonaws.com:CreateUser",
            "api_call iam.amazonaws.com:CreateAccessKey",
            "api_call iam.amazonaws.com:AttachUserPolicy"
        ],
        "{calls:#?}"
    );
    let a = activity(&calls);
    assert_eq!(a[0]["count"], 6);
    assert_eq!(a[0]["first"], "2026-11-28T09:05:00.000Z");
    assert_eq!(a[0]["last"], "2026-11-28T09:05:45.000Z");
    assert!(a
        .iter()
        .all(|r| r["ip"] == "203.0.113.50" && r["principal"] == root && r.get("user").is_none()));
    let from_files = jsonl(&[ct.as_os_str(), "--principal".as_ref(), root.as_ref()]);
    assert_eq!(
        activity(&from_files),
        a,
        "the CloudTrail file says the same"
    );

    // 4. Bob's brute force is a finding: --around it shows its mark and bob's
    //    failures (folded by the minute) from its address.
    let listed = ok(
        keibi()
            .args(["findings", "list", "--format", "jsonl", "--store"])
            .arg(&store)
            .output()
            .unwrap(),
        "keibi findings list",
    );
    let brute: Value = String::from_utf8(listed.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|f| f["type"] == "CredentialAccess:RDS/BruteForce")
        .expect("bob's failures are a brute force");
    let id = brute["id"].as_str().unwrap();
    let out = ok(
        keibi()
            .args(["timeline", "--format", "jsonl", "--around", id, "--store"])
            .arg(&store)
            .output()
            .unwrap(),
        "keibi timeline --around",
    );
    let around: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        around
            .iter()
            .any(|e| e["entry"] == "finding" && e["finding_id"] == id && e["what"] == "new"),
        "its mark: {around:#?}"
    );
    let failed: u64 = around
        .iter()
        .filter(|e| e["kind"] == "login_failed" && e["user"] == BOB)
        .map(|e| e["count"].as_u64().unwrap())
        .sum();
    assert_eq!(failed, 12, "every failure, counted once");
    assert!(
        around.iter().any(|e| e["user"] == APP_USER),
        "the address's other activity too"
    );

    // 5. The hostile name and statement: exact in JSON lines, inert in the table.
    let evil = jsonl(&[
        "--store".as_ref(),
        store.as_os_str(),
        "--user".as_ref(),
        EVIL.as_ref(),
    ]);
    let rows = activity(&evil);
    assert!(!rows.is_empty(), "the hostile user's rows");
    assert!(rows.iter().all(|a| a["user"] == EVIL));
    assert!(
        rows.iter()
            .any(|a| a["what"] == format!("{EVIL_SQL};").as_str()),
        "the statement exactly: {evil:#?}"
    );
    for args in [
        vec!["--store".as_ref(), store.as_os_str()],
        vec![log.as_os_str()],
    ] {
        let out = ok(
            keibi()
                .arg("timeline")
                .args(&args)
                .args([
                    "--user",
                    EVIL,
                    "--since",
                    "2026-01-01",
                    "--until",
                    "2100-01-01",
                ])
                .args(["--format", "table", "--color", "never"])
                .output()
                .unwrap(),
            "keibi timeline --format table",
        );
        let table = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines.len(),
            rows.len() + 1,
            "one line each, and the header:\n{table}"
        );
        assert!(
            !table.contains('\u{1b}') && !table.contains('\u{202e}'),
            "no escape or override reaches the terminal:\n{table:?}"
        );
        assert!(
            table.contains("\\u{202e}"),
            "the override shown as an escape:\n{table}"
        );
    }
}

/// Without servers: a CloudTrail file's timeline in Japanese (headers, kinds and
/// JST times from the catalog and the display zone), and the refusals.
#[test]
fn a_cloudtrail_file_in_japanese_and_the_refusals() {
    let ct = cloudtrail();
    let out = ok(
        keibi()
            .arg("timeline")
            .arg(&ct)
            .args(["--principal", "arn:aws:iam::123456789012:root"])
            .args(["--since", "2026-11-28", "--until", "2026-11-29"])
            .args([
                "--format",
                "table",
                "--lang",
                "ja",
                "--display-tz",
                "Asia/Tokyo",
            ])
            .output()
            .unwrap(),
        "keibi timeline --lang ja",
    );
    let table = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 6, "a header and five rows:\n{table}");
    for word in [
        "時刻",
        "種別",
        "回数",
        "送信元",
        "ユーザー",
        "リソース",
        "内容",
    ] {
        assert!(lines[0].contains(word), "{word} in {:?}", lines[0]);
    }
    assert!(lines[1].starts_with("2026-11-28 18:05:00 JST"), "{table}");
    assert!(
        lines[1].contains("API 呼び出し") && lines[1].contains("×6"),
        "{table}"
    );
    assert!(lines[1].contains("signin.amazonaws.com:ConsoleLogin"));
    assert!(lines[5].contains("iam.amazonaws.com:AttachUserPolicy"));

    // English, UTC, the same rows.
    let out = ok(
        keibi()
            .arg("timeline")
            .arg(&ct)
            .args(["--ip", "203.0.113.50"])
            .args([
                "--since",
                "2026-11-28",
                "--until",
                "2026-11-29",
                "--format",
                "table",
            ])
            .output()
            .unwrap(),
        "keibi timeline",
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.starts_with("TIME"), "{table}");
    assert!(table
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("2026-11-28 09:05:00 UTC"));
    assert_eq!(table.lines().count(), 6);

    // Nothing to look for; --around without a store; a window upside down.
    let refused = |args: &[&str], want: &str| {
        let out = keibi()
            .arg("timeline")
            .arg(&ct)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            common::describe(&out)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    };
    refused(&[], "name an address");
    refused(
        &["--around", "abcdef"],
        "--around reads the finding from a store",
    );
    refused(
        &[
            "--ip",
            "203.0.113.50",
            "--since",
            "2026-11-29",
            "--until",
            "2026-11-28",
        ],
        "--until is before --since",
    );
    // A --limit of 3 cuts and says so.
    let out = ok(
        keibi()
            .arg("timeline")
            .arg(&ct)
            .args([
                "--ip",
                "203.0.113.50",
                "--since",
                "2026-11-28",
                "--until",
                "2026-11-29",
            ])
            .args(["--format", "jsonl", "--limit", "3"])
            .output()
            .unwrap(),
        "keibi timeline --limit 3",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("only the first 3 lines"));
}

/// `keibi timeline ARGS --format jsonl` over a whole window, raw lines without
/// the store's ids (`None` when the command fails: the store not there yet).
fn lines_of(args: &[&std::ffi::OsStr]) -> Option<Vec<Value>> {
    let out = keibi()
        .arg("timeline")
        .args(args)
        .args([
            "--ip",
            "193.142.146.35",
            "--user",
            "app",
            "--user",
            "postgres",
        ])
        .args([
            "--since",
            "2026-11-28",
            "--until",
            "2026-11-29",
            "--format",
            "jsonl",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|mut v| {
                v.as_object_mut().map(|o| o.remove("id"));
                v
            })
            .filter(|v| v["entry"] == "activity")
            .collect(),
    )
}

/// Polls the store's timeline until it is `want`; panics with both after a minute.
fn wait_store(store: &Path, want: &[Value], daemon: &common::daemon::Daemon, what: &str) {
    let start = std::time::Instant::now();
    let mut last = None;
    while start.elapsed() < common::WAIT {
        last = lines_of(&["--store".as_ref(), store.as_os_str()]);
        if last.as_deref() == Some(want) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!(
        "{what}: the store's timeline never became the file's\nwant {want:#?}\nlast {last:#?}\ndaemon:\n{}",
        common::tail(&daemon.log(), 4000)
    );
}

/// A daemon following a file is killed with SIGKILL right after more of the file
/// is written (at once, soon, later: none, part or all of it committed), and
/// started again: its timeline ends as the file's, every event once.
#[test]
fn a_killed_daemon_stores_each_event_once() {
    for delay_ms in [0, 150, 700] {
        killed_after(delay_ms);
    }
}

fn killed_after(delay_ms: u64) {
    use common::daemon::Daemon;
    let attack = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scenarios/login-bruteforce-pg/attack/shop-postgres/error/postgresql.log.2026-11-28-09"),
    )
    .unwrap();
    // Two parts at a line boundary in the middle of the brute force.
    let cut = attack
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
        .nth(250)
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("postgresql.log");
    let store = work.path().join("keibi.db");
    let log = work.path().join("daemon.log");
    std::fs::write(&file, &attack[..cut]).unwrap();
    let half = lines_of(&[file.as_os_str()]).unwrap();
    assert!(!half.is_empty());
    let mut daemon = Daemon::start(file.as_os_str(), &store, &log);
    wait_store(&store, &half, &daemon, "the first part");

    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap();
        f.write_all(&attack[cut..]).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    daemon.kill9();
    let whole = lines_of(&[file.as_os_str()]).unwrap();
    assert!(whole.len() > half.len());
    let daemon = Daemon::start(file.as_os_str(), &store, &log);
    wait_store(
        &store,
        &whole,
        &daemon,
        &format!("after a SIGKILL {delay_ms} ms after the append and a restart"),
    );
    let failed: u64 = whole
        .iter()
        .filter(|v| v["kind"] == "login_failed")
        .map(|v| v["count"].as_u64().unwrap())
        .sum();
    assert_eq!(failed, 120, "every failed login of the file, once");
}
