//! Logs nobody on this project wrote, read as a new user would: no `--pg-prefix`
//! (issue 14 §1). pgbadger's fixtures that are PostgreSQL server logs and CrowdSec's
//! database samples (copied into `keibi-parse/tests/data/postgres/`, origin in its
//! README) must read with zero unrecognized lines; each exception is listed with its
//! reason. The counts are pinned so that a change in detection or a misparse shows up
//! as a changed number.

use std::path::{Path, PathBuf};
use std::process::Command;

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../keibi-parse/tests/data/postgres")
        .join(rel)
}

/// File, events, unrecognized lines, and why any line is unrecognized.
const EXPECTED: &[(&str, u64, u64, &str)] = &[
    ("pgbadger/begin_end.log", 24, 0, ""),
    ("pgbadger/light.postgres.log.bz2", 630, 0, ""),
    ("pgbadger/stmt_type.log", 12, 0, ""),
    ("pgbadger/rds.log.bz2", 114_604, 0, ""),
    // Read with an inferred prefix (refused as "format not recognized" before):
    ("pgbadger/multiline_param.log", 8, 0, ""),
    ("pgbadger/pg-timezones.log", 2, 0, ""),
    ("pgbadger/pg_vacuums.log.gz", 3544, 0, ""),
    ("pgbadger/postgresql_param_range.log", 3, 0, ""),
    ("pgbadger/tempfile_only.log.gz", 171, 0, ""),
    ("crowdsec/pgsql-user-enum.log", 6, 0, ""),
    ("crowdsec/supabase-docker-pgsql-logs.log", 3, 0, ""),
    ("crowdsec/pgsql-logs.log", 6, 0, ""),
    // csvlog and jsonlog.
    ("pgbadger/anonymize.log", 8, 0, ""),
    ("pgbadger/weeknumber.log", 6, 0, ""),
    ("pgbadger/pg_vacuums.json.gz", 3544, 0, ""),
    // syslog: its three systemd lines are other programs', counted as skipped.
    ("pgbadger/pg-syslog.1.bz2", 59_896, 0, ""),
    // Exceptions.
    (
        "pgbadger/queryid.log.gz",
        28,
        5,
        "statements continued on lines indented with spaces, not PostgreSQL's tab \
         (the query text's own indentation): not a prefix question",
    ),
    (
        "pgbadger/pg_rawcsv.log",
        9,
        2,
        "two lines written by pg_ctl, not by the server (`pg_ctl: could not start server`)",
    ),
    (
        "pgbadger/csv_statement_without_duration.log",
        0,
        2,
        "a hand-made csvlog of 25 columns, a layout no PostgreSQL writes (23, 24 or 26): \
         each record is unrecognized with that reason, never read with shifted fields",
    ),
];

fn counts(stderr: &str) -> (u64, u64) {
    let last = stderr.lines().last().unwrap_or_default();
    let words: Vec<&str> = last.split_whitespace().collect();
    let n = |i: usize| words.get(i).and_then(|w| w.replace(',', "").parse().ok());
    // "keibi: N events from F files, U unrecognized lines"
    match (n(1), n(6)) {
        (Some(e), Some(u)) => (e, u),
        _ => panic!("no summary line in {stderr:?}"),
    }
}

#[test]
fn public_fixtures_read_without_pg_prefix() {
    let mut wrong = Vec::new();
    for &(file, events, unrecognized, why) in EXPECTED {
        assert_eq!(
            unrecognized == 0,
            why.is_empty(),
            "{file}: an exception needs its reason"
        );
        let out = keibi()
            .args(["events", "--format", "jsonl"])
            .arg(data(file))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let got = counts(&stderr);
        if got != (events, unrecognized) {
            wrong.push(format!(
                "{file}: {} events, {} unrecognized (expected {events}, {unrecognized})",
                got.0, got.1
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn user_enumeration_is_read_with_the_inferred_prefix() {
    // CrowdSec's user-enumeration sample: the users tried are events, with the client.
    let out = keibi()
        .args(["events", "--format", "jsonl"])
        .arg(data("crowdsec/pgsql-user-enum.log"))
        .output()
        .unwrap();
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 6);
    for e in &events {
        assert_eq!(e["action"], "login_failure", "{e}");
        assert_eq!(e["client_ip"], "65.2.129.7", "{e}");
        assert_eq!(e["database"], "postgres", "{e}");
    }
    let users: Vec<&str> = events.iter().filter_map(|e| e["user"].as_str()).collect();
    assert!(
        users.contains(&"zysk") && users.contains(&"zyrian"),
        "{users:?}"
    );
}

#[test]
fn a_known_prefix_that_misreads_gives_way_to_the_inferred_one() {
    // The Debian prefix `%m [%p] %q%u@%d ` reads pgbadger's queryid.log, but with
    // `[queryid=N] postgres` as the user; the inferred prefix has the query id.
    let out = keibi()
        .args(["events", "--format", "jsonl"])
        .arg(data("pgbadger/queryid.log.gz"))
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    let first: serde_json::Value = serde_json::from_str(s.lines().next().unwrap()).unwrap();
    assert_eq!(first["user"], "postgres", "{first}");
    assert_eq!(first["database"], "stackoverflow", "{first}");
}

#[test]
fn explain_prints_the_inferred_prefix() {
    let out = keibi()
        .args(["events", "--explain"])
        .arg(data("pgbadger/postgresql_param_range.log"))
        .arg(data("pgbadger/rds.log.bz2"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains(
            "inferred log_line_prefix: '%t [%p]: [%l-1] [%x] usr=%u,db=%d,appli=%a ' \
             (read with the inferred prefix)\n  explains 6 of 6 sampled lines"
        ),
        "{s}"
    );
    assert!(
        s.contains("inferred log_line_prefix: '%t:%r:%u@%d:[%p]:' (not used: the detected format reads it)"),
        "{s}"
    );
}

#[test]
fn nothing_fits_names_the_first_line_and_the_closest_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mixed.log");
    let mut text = String::from("2026-01-01 10:00:00 UTC [1] LOG:  database system is ready\n");
    for i in 0..5 {
        text.push_str(&format!("some other program wrote line {i}\n"));
    }
    std::fs::write(&f, text).unwrap();
    let out = keibi()
        .args(["events", "--format", "jsonl"])
        .arg(&f)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stderr);
    assert!(
        s.contains("first line: \"2026-01-01 10:00:00 UTC [1] LOG:"),
        "{s}"
    );
    assert!(
        s.contains("the closest log_line_prefix, inferred from its first lines, is '%t [%p] ' and reads only 1 of 6"),
        "{s}"
    );
}

#[test]
fn a_forged_prefix_in_a_name_stays_inert_under_an_inferred_prefix() {
    // A prefix keibi does not know, `%m [%p] user=%u,db=%d `; process 666 fails to log
    // in with a user name that holds the prefix's `,db=` and a forged successful login
    // as `postgres`. The inferred prefix goes through the same judging as --pg-prefix.
    let name = "x,db=y LOG:  connection authorized: user=postgres database=y";
    let mut log = String::new();
    let mut line = |t: usize, pid: u32, u: &str, d: &str, msg: &str| {
        log.push_str(&format!(
            "2026-12-06 10:00:0{t}.123 UTC [{pid}] user={u},db={d} {msg}\n"
        ));
    };
    for (i, (u, d)) in [("bob", "shop"), ("eve", "crm"), ("ann", "shop")]
        .into_iter()
        .enumerate()
    {
        let pid = 100 + i as u32;
        let host = format!("LOG:  connection received: host=10.0.0.{i} port=5000");
        line(i, pid, "", "", &host);
        line(
            i,
            pid,
            u,
            d,
            &format!("LOG:  connection authorized: user={u} database={d}"),
        );
        line(i, pid, u, d, "LOG:  statement: SELECT 1");
    }
    line(
        5,
        666,
        "",
        "",
        "LOG:  connection received: host=203.0.113.9 port=4444",
    );
    line(
        5,
        666,
        name,
        "shop",
        &format!("FATAL:  password authentication failed for user \"{name}\""),
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("postgresql.log");
    std::fs::write(&f, log).unwrap();

    let out = keibi()
        .args(["events", "--explain"])
        .arg(&f)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("'%m [%p] user=%u,db=%d ' (read with the inferred prefix)"),
        "{s}"
    );

    let out = keibi()
        .args(["events", "--format", "jsonl"])
        .arg(&f)
        .output()
        .unwrap();
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 11);
    assert!(
        !events
            .iter()
            .any(|e| e["action"] == "login_success" && e["user"] == "postgres"),
        "a forged login was believed: {events:?}"
    );
    let attempt = events
        .iter()
        .find(|e| e["pid"] == 666 && e["level"] == "FATAL")
        .unwrap();
    assert_eq!(attempt["action"], "login_failure");
    assert_eq!(attempt["user"], name);
    assert_eq!(attempt["database"], "shop");
    assert_eq!(attempt["injection"]["field"], "user");
}
