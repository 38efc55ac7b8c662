//! Numbers for the documentation, not a check: run with
//! `cargo test --release -p keibi-store --test measure -- --ignored --nocapture`.

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use keibi_model::finding::{Evidence, Resource};
use keibi_model::{ChangeKind, Finding, FindingChange, Severity};
use keibi_store::{Checkpoint, Commit, FindingStore, Query, Store};

fn finding(i: usize) -> Finding {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &[&i.to_string()],
        Severity::new(1.0 + (i % 90) as f64 / 10.0),
        Resource {
            kind: "db_instance".into(),
            id: format!("db-{}", i % 50),
            engine: Some(keibi_model::Engine::Postgres),
            ..Resource::default()
        },
        t0 + Duration::minutes(i as i64),
    );
    f.count = 1;
    f.title = format!("Brute force on db-{} from 198.51.100.{}", i % 50, i % 250);
    f.description = "d".repeat(600);
    f.remediation = "r".repeat(600);
    f.actor.ip = Some(format!("198.51.100.{}", i % 250).parse().unwrap());
    f.actor.user = Some("postgres".into());
    for l in 0..20 {
        f.evidence.push(Evidence::Line {
            source: "rds/db-1/error/postgresql.log.2026-11-28-09".into(),
            line: l,
        });
    }
    f
}

#[test]
#[ignore]
fn measure() {
    let dir = tempfile::tempdir_in(".").unwrap();
    let path = dir.path().join("m.db");
    let mut s = Store::open(&path).unwrap();
    let n = 20_000;
    let started = Instant::now();
    let mut c = Commit::new(Utc::now());
    c.finding_changes = (0..n)
        .map(|i| FindingChange {
            kind: ChangeKind::New,
            finding: finding(i),
            added: 1,
        })
        .collect();
    s.commit(&c).unwrap();
    println!("one commit of {n} new findings: {:?}", started.elapsed());

    // Daemon-like: batches of 10 changes (half growth of known findings) with a checkpoint.
    let batches = 500;
    let started = Instant::now();
    for b in 0..batches {
        let mut c = Commit::new(Utc::now());
        c.finding_changes = (0..10)
            .map(|k| {
                let i = if k % 2 == 0 {
                    (b * 7 + k) % n
                } else {
                    n + b * 10 + k
                };
                FindingChange {
                    kind: ChangeKind::Grew,
                    finding: finding(i),
                    added: 3,
                }
            })
            .collect();
        c.checkpoints.push(Checkpoint {
            source: "pg".into(),
            position: b as u64 + 1,
            data: vec![0; 32],
        });
        s.commit(&c).unwrap();
    }
    let el = started.elapsed();
    println!(
        "{batches} commits of 10 changes + a checkpoint (synchronous=FULL): {el:?}, {:?} each",
        el / batches as u32
    );

    let size = s.size().unwrap();
    println!(
        "store: {} findings, file {} B, wal {} B",
        size.findings, size.file, size.wal
    );
    drop(s);
    let started = Instant::now();
    let s = Store::open(&path).unwrap();
    println!(
        "open for writing (quick_check) of {} MB: {:?}",
        size.file >> 20,
        started.elapsed()
    );
    let started = Instant::now();
    let top = s
        .findings(&Query {
            limit: Some(50),
            ..Query::default()
        })
        .unwrap();
    println!(
        "list the 50 most severe: {:?} ({})",
        started.elapsed(),
        top.len()
    );
    let started = Instant::now();
    let all = s.findings(&Query::default()).unwrap();
    println!("list all {}: {:?}", all.len(), started.elapsed());
}

/// What checking a store at open costs at 100,000 findings (~4 KB each), to decide
/// between `quick_check` (now), `integrity_check` and no check:
/// `cargo test --release -p keibi-store --test measure -- --ignored --nocapture open_cost`.
#[test]
#[ignore]
fn open_cost_at_100k() {
    let dir = tempfile::tempdir_in(".").unwrap();
    let path = dir.path().join("m.db");
    let mut s = Store::open(&path).unwrap();
    let n = 100_000;
    for part in 0..5 {
        let mut c = Commit::new(Utc::now());
        c.finding_changes = (part * n / 5..(part + 1) * n / 5)
            .map(|i| FindingChange {
                kind: ChangeKind::New,
                finding: finding(i),
                added: 1,
            })
            .collect();
        s.commit(&c).unwrap();
    }
    let size = s.size().unwrap();
    drop(s);
    println!(
        "store: {} findings, file {} MB",
        size.findings,
        size.file >> 20
    );
    let time = |what: &str, f: &mut dyn FnMut()| {
        let mut runs: Vec<std::time::Duration> = (0..3)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .collect();
        runs.sort();
        println!("{what}: median {:?} (of {:?})", runs[1], runs);
    };
    time("Store::open (quick_check)", &mut || {
        Store::open(&path).unwrap();
    });
    time("Store::open_read_only (no check)", &mut || {
        Store::open_read_only(&path).unwrap();
    });
    let c = rusqlite::Connection::open(&path).unwrap();
    for pragma in ["PRAGMA quick_check", "PRAGMA integrity_check"] {
        time(pragma, &mut || {
            let r: String = c.query_row(pragma, [], |r| r.get(0)).unwrap();
            assert_eq!(r, "ok");
        });
    }
}
