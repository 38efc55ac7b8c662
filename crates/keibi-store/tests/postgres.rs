//! What only PostgreSQL has to promise: several processes (here threads, each with
//! its own connection) writing one store at once lose nothing, and a server
//! restart in the middle of use is a transient error the next call recovers from.

mod common;

use std::path::Path;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use keibi_model::finding::Resource;
use keibi_model::{ChangeKind, Finding, FindingChange, Severity};
use keibi_store::{
    Checkpoint, Commit, FindingStore, Query, Status, StatusChange, Store, Suppression, Transition,
};

fn t(s: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap() + TimeDelta::seconds(s)
}

fn finding(i: usize, count: u64) -> Finding {
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &[&i.to_string()],
        Severity::new(5.0),
        Resource {
            kind: "db_instance".into(),
            id: "orders-db".into(),
            ..Resource::default()
        },
        t(0),
    );
    f.count = count;
    f.actor.user = Some(format!("svc-{i}"));
    f.actor.ip = Some("198.51.100.7".parse().unwrap());
    f
}

const WRITERS: usize = 4;
const ROUNDS: usize = 40;
const FINDINGS: usize = 5;

/// What writer `w` adds to finding `i` in round `r` (different everywhere, so a
/// lost or doubled batch shows in the sum).
fn added(w: usize, r: usize, i: usize) -> u64 {
    (1 + w * 7 + r * 3 + i) as u64 % 11 + 1
}

/// Four writers commit interleaved batches to the same five findings, each with
/// its own checkpoint, while a fifth connection acknowledges, resolves and
/// suppresses them: nothing fails, every finding's count is the sum of what was
/// added, every checkpoint is the writer's last, every workflow change is in the
/// history. A status change reads the finding and writes it back whole: without
/// the write lock it would put back a count a writer had just raised.
#[test]
fn concurrent_writers_and_workflow_lose_nothing() {
    let Some(url) = keibi_store::testing::postgres_url() else {
        return;
    };
    // The schema first, so the threads do not race to migrate (they may: the
    // migration takes its own lock; this keeps the test about commits).
    drop(Store::open(Path::new(&url)).unwrap());
    let start = std::sync::Arc::new(std::sync::Barrier::new(WRITERS + 1));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (url, start) = (url.clone(), start.clone());
            std::thread::spawn(move || {
                let mut s = Store::open(Path::new(&url)).unwrap();
                start.wait();
                for r in 0..ROUNDS {
                    let mut c = Commit::new(t((r * WRITERS + w) as i64));
                    // Writers touch the findings in different orders.
                    for k in 0..FINDINGS {
                        let i = (k + w) % FINDINGS;
                        let a = added(w, r, i);
                        c.finding_changes.push(FindingChange {
                            kind: if r == 0 {
                                ChangeKind::New
                            } else {
                                ChangeKind::Grew
                            },
                            finding: finding(i, a),
                            added: a,
                        });
                    }
                    c.checkpoints.push(Checkpoint {
                        source: format!("writer-{w}"),
                        position: r as u64 + 1,
                        data: vec![w as u8, r as u8],
                    });
                    s.commit(&c)
                        .unwrap_or_else(|e| panic!("writer {w} round {r}: {e}"));
                }
            })
        })
        .collect();
    let workflow = {
        let (url, start) = (url.clone(), start.clone());
        std::thread::spawn(move || {
            let mut s = Store::open(Path::new(&url)).unwrap();
            start.wait();
            let mut done: Vec<(String, &'static str)> = Vec::new();
            let mut rules = 0;
            let mut n = 0;
            while done.len() < 60 {
                n += 1;
                // Wait until the writers' first commit made the findings.
                let id = finding(n % FINDINGS, 1).id;
                if s.finding(&id).is_err() {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    continue;
                }
                let (transition, what) = if n % 2 == 0 {
                    (Transition::Acknowledge, "acknowledged")
                } else {
                    (Transition::Resolve, "resolved")
                };
                s.set_status(
                    &id,
                    &StatusChange {
                        transition,
                        at: t(1000 + n as i64),
                        by: Some("alice".into()),
                        note: Some(format!("change {n}")),
                    },
                )
                .unwrap_or_else(|e| panic!("set_status {n}: {e}"));
                done.push((id, what));
                if n % 10 == 0 {
                    // A rule for a user no finding has: written beside the commits.
                    s.suppress(&Suppression {
                        id: 0,
                        finding_type: None,
                        resource: None,
                        network: None,
                        user: Some(format!("nobody-{n}")),
                        expires_at: None,
                        reason: Some("test".into()),
                        created_by: Some("alice".into()),
                        created_at: t(1000 + n as i64),
                    })
                    .unwrap_or_else(|e| panic!("suppress {n}: {e}"));
                    rules += 1;
                }
            }
            (done, rules)
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    let (done, rules) = workflow.join().unwrap();

    let s = Store::open_read_only(Path::new(&url)).unwrap();
    for i in 0..FINDINGS {
        let want: u64 = (0..WRITERS)
            .flat_map(|w| (0..ROUNDS).map(move |r| added(w, r, i)))
            .sum();
        let id = finding(i, 1).id;
        let got = s.finding(&id).unwrap();
        assert_eq!(got.finding.count, want, "finding {i}");
        let history = s.history(&id).unwrap();
        for what in ["acknowledged", "resolved"] {
            let want = done.iter().filter(|(d, w)| *d == id && *w == what).count();
            let got = history.iter().filter(|h| h.what == what).count();
            assert_eq!(got, want, "finding {i}: {what}");
        }
    }
    let mut cps = s.checkpoints().unwrap();
    cps.sort_by(|a, b| a.source.cmp(&b.source));
    let want: Vec<Checkpoint> = (0..WRITERS)
        .map(|w| Checkpoint {
            source: format!("writer-{w}"),
            position: ROUNDS as u64,
            data: vec![w as u8, ROUNDS as u8 - 1],
        })
        .collect();
    assert_eq!(cps, want);
    assert_eq!(s.suppressions().unwrap().len(), rules);
    assert_eq!(
        s.findings(&Query::default()).unwrap().len(),
        FINDINGS,
        "one row per finding"
    );
    assert!(s
        .findings(&Query::default())
        .unwrap()
        .iter()
        .all(|f| f.status != Status::Suppressed));
}

/// The server restarts under an open store: the call that meets the cut
/// connection fails with a transient error (the daemon retries those), and the
/// next one connects again and finds everything committed before.
#[test]
fn a_server_restart_is_transient_and_the_next_call_reconnects() {
    let Some(server) = keibi_store::testing::PrivateServer::start() else {
        return;
    };
    let url = server.new_schema();
    let mut s = Store::open(Path::new(&url)).unwrap();
    let mut c = Commit::new(t(1));
    c.finding_changes.push(FindingChange {
        kind: ChangeKind::New,
        finding: finding(0, 3),
        added: 3,
    });
    s.commit(&c).unwrap();
    let id = finding(0, 3).id;

    server.stop();
    let e = s.finding(&id).expect_err("the server is down");
    assert!(e.is_transient(), "{e}");
    let mut c2 = Commit::new(t(2));
    c2.finding_changes.push(FindingChange {
        kind: ChangeKind::Grew,
        finding: finding(0, 2),
        added: 2,
    });
    let e = s.commit(&c2).expect_err("the server is down");
    assert!(e.is_transient(), "{e}");

    server.start_again();
    assert_eq!(s.finding(&id).unwrap().finding.count, 3);
    s.commit(&c2).unwrap();
    assert_eq!(s.finding(&id).unwrap().finding.count, 5);
    // A restart between two calls (no call saw the server down) is the same.
    server.stop();
    server.start_again();
    let first = s.finding(&id);
    if let Err(e) = &first {
        assert!(e.is_transient(), "{e}");
    }
    assert_eq!(s.finding(&id).unwrap().finding.count, 5);
}
