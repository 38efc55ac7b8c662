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
    measure_on(&dir.path().join("m.db"), "synchronous=FULL");
}

/// The same on PostgreSQL, on a server of its own with PostgreSQL's default
/// durability (`fsync` and `synchronous_commit` on, unlike the test server):
/// `cargo test --release -p keibi-store --test measure -- --ignored --nocapture
/// measure_postgres`.
#[test]
#[ignore]
fn measure_postgres() {
    let Some(server) = keibi_store::testing::PrivateServer::start_durable() else {
        return;
    };
    let url = server.new_schema();
    measure_on(
        std::path::Path::new(&url),
        "PostgreSQL, synchronous_commit=on",
    );
}

fn measure_on(path: &std::path::Path, durability: &str) {
    let mut s = Store::open(path).unwrap();
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
        "{batches} commits of 10 changes + a checkpoint ({durability}): {el:?}, {:?} each, {:.0} commits/s",
        el / batches as u32,
        batches as f64 / el.as_secs_f64()
    );

    let size = s.size().unwrap();
    println!(
        "store: {} findings, file {} B, wal {} B",
        size.findings, size.file, size.wal
    );
    drop(s);
    let started = Instant::now();
    let s = Store::open(path).unwrap();
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

/// The response journal: planning (one transaction per outbox entry, as the
/// responder does), then the responder's and `keibi actions`' queries over
/// 50,000 actions, with the query plans (each must use its index).
#[test]
#[ignore]
fn measure_journal() {
    use keibi_respond::{action_id, Action, Mode, State, Target};
    use keibi_store::{ActionFilter, Change, NewAction};

    let dir = tempfile::tempdir_in(".").unwrap();
    let path = dir.path().join("j.db");
    let mut s = Store::open(&path).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let entries = 1_000;
    let mut c = Commit::new(t0);
    c.finding_changes = (0..entries)
        .map(|i| FindingChange {
            kind: ChangeKind::New,
            finding: finding(i),
            added: 1,
        })
        .collect();
    s.commit(&c).unwrap();
    let started = Instant::now();
    let mut planned = 0;
    for e in s.unplanned_entries(entries).unwrap() {
        let f = &e.finding;
        let actions: Vec<NewAction> = (0..5)
            .map(|k| {
                let target = Target::LockRole {
                    engine: None,
                    instance: f.resource.id.clone(),
                    user: format!("user-{k}"),
                };
                NewAction {
                    action: Action {
                        id: action_id(&f.id, &target, e.id),
                        finding_id: f.id.clone(),
                        finding_type: f.finding_type.clone(),
                        target,
                        mode: if k == 0 { Mode::Auto } else { Mode::Simulate },
                        state: if k == 0 {
                            State::Planned
                        } else {
                            State::Simulated
                        },
                        rule: "r".into(),
                        reason: None,
                        expire_after_secs: Some(3600),
                        expires_at: None,
                        created_at: t0,
                        updated_at: t0,
                        attempts: 0,
                        next_at: None,
                        executor: None,
                        prior: None,
                        done: None,
                        by: None,
                    },
                    detail: None,
                }
            })
            .collect();
        planned += s.plan_actions(e.id, f, &actions, t0).unwrap();
    }
    let took = started.elapsed();
    println!(
        "plan: {entries} entries x 5 actions ({planned}) in {took:?}, {:?} an entry",
        took / entries as u32
    );
    // Move the auto ones through executing to executed (two transitions each).
    let due = s.due_actions(t0, entries).unwrap();
    let started = Instant::now();
    for r in &due {
        let keibi = Change {
            by: "keibi".into(),
            ..Change::default()
        };
        s.transition(&r.action.id, State::Planned, State::Executing, &keibi, t0)
            .unwrap();
        let done = Change {
            expires_at: Some(Some(t0 + Duration::hours(1))),
            ..keibi
        };
        s.transition(&r.action.id, State::Executing, State::Executed, &done, t0)
            .unwrap();
    }
    let took = started.elapsed();
    println!(
        "transition: {} moves in {took:?}, {:?} a move",
        due.len() * 2,
        took / (due.len() * 2) as u32
    );
    // Grow the journal to 50,000 rows with copies in final states (SQL: the API
    // would take an fsync each).
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9)
             INSERT INTO actions (id, finding_id, finding_type, target, target_key, kind, mode,
                 state, rule, expire_after_secs, created_at, updated_at, attempts, trigger)
             SELECT lower(hex(randomblob(8))), finding_id, finding_type, target,
                 target_key || '#' || n.i, kind, mode,
                 CASE n.i % 3 WHEN 0 THEN 'undone' WHEN 1 THEN 'simulated' ELSE 'skipped' END,
                 rule, expire_after_secs, created_at - n.i * 60000, updated_at - n.i * 60000,
                 attempts, trigger
             FROM actions, n;",
        )
        .unwrap();
        let rows: i64 = c
            .query_row("SELECT count(*) FROM actions", [], |r| r.get(0))
            .unwrap();
        println!(
            "journal: {rows} actions, file {} MB",
            std::fs::metadata(&path).unwrap().len() >> 20
        );
        for (what, sql) in [
            ("due", "SELECT id FROM actions a WHERE (a.state = 'planned' AND a.mode = 'auto') OR a.state IN ('approved', 'executing', 'undoing') OR (a.state = 'failed' AND a.next_at IS NOT NULL AND a.next_at <= 1) OR (a.state = 'executed' AND a.expires_at IS NOT NULL AND a.expires_at <= 1) ORDER BY a.created_at, a.id LIMIT 100"),
            ("in_force", "SELECT id FROM actions a WHERE a.target_key = 'x' AND a.state IN ('executing', 'executed', 'undoing')"),
            ("executions_since", "SELECT count(*) FROM actions WHERE started_at >= 1"),
            ("list", "SELECT id FROM actions a WHERE 1 ORDER BY a.updated_at DESC, a.id LIMIT 50"),
            ("unplanned", "SELECT id FROM outbox o WHERE o.planned = 0 AND o.kind IN ('new', 'reopened', 'severity_raised') ORDER BY o.id LIMIT 10"),
        ] {
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = stmt
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            println!("plan of {what}: {}", plan.join(" | "));
        }
    }
    let s = Store::open(&path).unwrap();
    let mut s = s;
    let time = |what: &str, f: &mut dyn FnMut() -> usize| {
        let started = Instant::now();
        let n = f();
        println!("{what}: {n} in {:?}", started.elapsed());
    };
    let later = t0 + Duration::hours(2);
    time("due_actions at expiry (limit 100)", &mut || {
        s.due_actions(later, 100).unwrap().len()
    });
    let key = Target::LockRole {
        engine: None,
        instance: "db-3".into(),
        user: "user-0".into(),
    }
    .key();
    time("in_force", &mut || s.in_force(&key).unwrap().len());
    time("executions_since", &mut || {
        s.executions_since(t0).unwrap() as usize
    });
    time("list_actions limit 50", &mut || {
        s.list_actions(&ActionFilter {
            limit: 50,
            ..ActionFilter::default()
        })
        .unwrap()
        .len()
    });
    time("list_actions, every one", &mut || {
        s.list_actions(&ActionFilter::default()).unwrap().len()
    });
    let id = s
        .list_actions(&ActionFilter {
            limit: 1,
            ..ActionFilter::default()
        })
        .unwrap()[0]
        .id
        .clone();
    time("action by a 6-digit prefix", &mut || {
        usize::from(s.action(&id[..6]).unwrap().is_some())
    });
}
