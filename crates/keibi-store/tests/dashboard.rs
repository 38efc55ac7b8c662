//! The dashboard's queries on a real store: filters (the actors' table kept by
//! triggers), sorts, paging with totals, the overview's aggregates, changes since a
//! mark, notes and deleting a suppression; and, ignored by default, their times
//! with 100,000 findings.

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use keibi_model::finding::Resource;
use keibi_model::{ChangeKind, Finding, FindingChange, Severity};
mod common;

use keibi_store::{
    Checkpoint, Commit, FindingFilter, FindingStore, Sort, Status, Store, Suppression,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn finding(
    i: usize,
    ty: &str,
    sev: f64,
    resource: &str,
    account: Option<&str>,
    ips: &[&str],
    users: &[&str],
    last: DateTime<Utc>,
    count: u64,
) -> Finding {
    let mut f = Finding::new(
        "login",
        ty,
        &[&i.to_string()],
        Severity::new(sev),
        Resource {
            kind: "db_instance".into(),
            id: resource.into(),
            account: account.map(str::to_string),
            ..Resource::default()
        },
        last - Duration::hours(1),
    );
    f.last_seen = last;
    f.count = count;
    f.title = format!("finding {i}");
    f.actor.ip = ips.first().map(|s| s.parse().unwrap());
    if ips.len() > 1 {
        f.actor.ips = ips.iter().map(|s| s.parse().unwrap()).collect();
    }
    f.actor.user = users.first().map(|s| s.to_string());
    if users.len() > 1 {
        f.actor.users = users.iter().map(|s| s.to_string()).collect();
    }
    f
}

fn put(s: &mut Store, fs: &[Finding], at: DateTime<Utc>) {
    let mut c = Commit::new(at);
    for f in fs {
        c.finding_changes.push(FindingChange {
            kind: ChangeKind::New,
            finding: f.clone(),
            added: f.count,
        });
    }
    s.commit(&c).unwrap();
}

fn ids(s: &Store, f: &FindingFilter) -> (Vec<String>, u64) {
    let p = s.dashboard_findings(f).unwrap();
    (p.rows.into_iter().map(|r| r.title).collect(), p.total)
}

fn sample(path: &std::path::Path) -> Store {
    let mut s = Store::open(path).unwrap();
    let n = now();
    put(
        &mut s,
        &[
            finding(
                1,
                "A",
                9.5,
                "db1",
                Some("111"),
                &["10.0.0.1"],
                &["bob"],
                n - Duration::hours(1),
                5,
            ),
            finding(
                2,
                "A",
                5.0,
                "db2",
                Some("222"),
                &["10.0.0.2", "10.0.0.3"],
                &["alice", "carol"],
                n - Duration::hours(30),
                50,
            ),
            finding(
                3,
                "B",
                7.5,
                "db1",
                None,
                &[],
                &["arn:aws:iam::111:user/x"],
                n - Duration::days(3),
                1,
            ),
            finding(
                4,
                "B",
                2.0,
                "db3",
                Some("111"),
                &["10.0.0.3"],
                &[],
                n - Duration::days(10),
                7,
            ),
        ],
        n,
    );
    s
}

#[test]
fn filters_select_by_every_field_and_any_actor() {
    for b in common::backends() {
        let s = sample(b.path());
        let all = FindingFilter {
            limit: 50,
            ..FindingFilter::default()
        };
        assert_eq!(
            ids(&s, &all),
            (
                vec![
                    "finding 1".into(),
                    "finding 3".into(),
                    "finding 2".into(),
                    "finding 4".into()
                ],
                4
            )
        );
        let by = |f: FindingFilter| ids(&s, &FindingFilter { limit: 50, ..f }).0;
        assert_eq!(
            by(FindingFilter {
                finding_type: Some("B".into()),
                ..Default::default()
            }),
            ["finding 3", "finding 4"]
        );
        assert_eq!(
            by(FindingFilter {
                min_severity: Some(Severity::new(7.0)),
                ..Default::default()
            }),
            ["finding 1", "finding 3"]
        );
        assert_eq!(
            by(FindingFilter {
                resource: Some("db1".into()),
                ..Default::default()
            }),
            ["finding 1", "finding 3"]
        );
        assert_eq!(
            by(FindingFilter {
                account: Some("111".into()),
                ..Default::default()
            }),
            ["finding 1", "finding 4"]
        );
        // An address or user that is one of many (actor.ips / actor.users) selects too.
        assert_eq!(
            by(FindingFilter {
                ip: Some("10.0.0.3".into()),
                ..Default::default()
            }),
            ["finding 2", "finding 4"]
        );
        assert_eq!(
            by(FindingFilter {
                user: Some("carol".into()),
                ..Default::default()
            }),
            ["finding 2"]
        );
        assert_eq!(
            by(FindingFilter {
                user: Some("arn:aws:iam::111:user/x".into()),
                ..Default::default()
            }),
            ["finding 3"]
        );
        assert_eq!(
            by(FindingFilter {
                since: Some(now() - Duration::days(2)),
                ..Default::default()
            }),
            ["finding 1", "finding 2"]
        );
        assert_eq!(
            by(FindingFilter {
                until: Some(now() - Duration::days(2)),
                ..Default::default()
            }),
            ["finding 3", "finding 4"]
        );
        assert_eq!(
            by(FindingFilter {
                statuses: vec![Status::Resolved],
                ..Default::default()
            }),
            Vec::<String>::new()
        );
        // Sorts.
        assert_eq!(
            by(FindingFilter {
                sort: Sort::Count,
                ..Default::default()
            }),
            ["finding 2", "finding 4", "finding 1", "finding 3"]
        );
        assert_eq!(
            by(FindingFilter {
                sort: Sort::LastSeen,
                ..Default::default()
            }),
            ["finding 1", "finding 2", "finding 3", "finding 4"]
        );
        // Paging keeps the total.
        let p = ids(
            &s,
            &FindingFilter {
                limit: 2,
                offset: 2,
                ..Default::default()
            },
        );
        assert_eq!(p, (vec!["finding 2".into(), "finding 4".into()], 4));
        // The account is the resource's, read from the JSON.
        let row = &s.dashboard_findings(&all).unwrap().rows[0];
        assert_eq!(row.account.as_deref(), Some("111"));
    }
}

#[test]
fn the_actors_table_follows_changes_and_deletions() {
    for b in common::backends() {
        let mut s = sample(b.path());
        // Finding 2 grows with a new user: the actor filter finds it by that user.
        let mut f = finding(
            2,
            "A",
            5.0,
            "db2",
            Some("222"),
            &["10.0.0.2", "10.0.0.3"],
            &["alice", "carol", "dave"],
            now(),
            50,
        );
        f.first_seen = now() - Duration::hours(31);
        put(&mut s, &[f], now() + Duration::minutes(1));
        let dave = FindingFilter {
            user: Some("dave".into()),
            limit: 10,
            ..Default::default()
        };
        assert_eq!(ids(&s, &dave).1, 1);
        s.prune(now() + Duration::days(1), None, now()).unwrap();
        assert_eq!(ids(&s, &dave).1, 0);
    }
}

#[test]
fn the_overview_counts_open_findings_days_and_actors() {
    for b in common::backends() {
        let mut s = sample(b.path());
        s.commit(&Commit {
            checkpoints: vec![Checkpoint {
                source: "pg.log".into(),
                position: 42,
                data: vec![],
            }],
            ..Commit::new(now())
        })
        .unwrap();
        let o = s.overview(now(), 30, 0, 10).unwrap();
        assert_eq!(o.open_by_band, [1, 1, 1, 1]);
        assert_eq!(o.per_day.len(), 30);
        let total: u64 = o.per_day.iter().flat_map(|d| d.by_band).sum();
        assert_eq!(total, 4);
        // Finding 1 (critical) was first seen today, the last day of the chart.
        assert_eq!(o.per_day[29].by_band[3], 1);
        assert_eq!(o.top_ips[0], ("10.0.0.3".to_string(), 2));
        assert_eq!(o.top_resources[0], ("db1".to_string(), 2));
        assert_eq!(o.sources.len(), 1);
        assert_eq!(o.sources[0].position, 42);
        assert!(o.posture.is_empty());
        // A resolved finding leaves the top lists (the actors' open flag follows the
        // status), and comes back when reopened.
        let f4 = s
            .dashboard_findings(&FindingFilter {
                finding_type: Some("B".into()),
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .rows
            .into_iter()
            .find(|r| r.title == "finding 4")
            .unwrap();
        let change = |t| keibi_store::StatusChange {
            transition: t,
            at: now(),
            by: Some("kim".into()),
            note: None,
        };
        s.set_status(&f4.id, &change(keibi_store::Transition::Resolve))
            .unwrap();
        let o = s.overview(now(), 30, 0, 10).unwrap();
        assert!(
            o.top_ips.contains(&("10.0.0.3".to_string(), 1)),
            "{:?}",
            o.top_ips
        );
        assert!(!o.top_resources.iter().any(|(r, _)| r == "db3"));
        s.set_status(&f4.id, &change(keibi_store::Transition::Reopen))
            .unwrap();
        let o = s.overview(now(), 30, 0, 10).unwrap();
        assert_eq!(o.top_ips[0], ("10.0.0.3".to_string(), 2));
    }
}

#[test]
fn changes_notes_and_deleted_suppressions() {
    for b in common::backends() {
        let mut s = sample(b.path());
        let c = s.changes_since(0).unwrap();
        assert_eq!(c.changed, 4);
        assert_eq!(s.changes_since(c.mark).unwrap().changed, 0);
        let all = s
            .dashboard_findings(&FindingFilter {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        let id = all.rows[0].id.clone();
        // By full id (any case) or by prefix; an unknown full id is not found.
        assert_eq!(s.finding_by_id(&id.to_uppercase()).unwrap().finding.id, id);
        assert_eq!(s.finding_by_id(&id[..6]).unwrap().finding.id, id);
        assert!(matches!(
            s.finding_by_id(&"f".repeat(32)),
            Err(keibi_store::StoreError::NotFound(_))
        ));
        s.add_note(&id, "kim", "looked at it", now() + Duration::minutes(5))
            .unwrap();
        assert_eq!(s.changes_since(c.mark).unwrap().changed, 1);
        let h = s.history(&id).unwrap();
        let last = h.last().unwrap();
        assert_eq!(
            (last.what.as_str(), last.by.as_deref(), last.note.as_deref()),
            ("note", Some("kim"), Some("looked at it"))
        );
        assert!(s.add_note(&id, "kim", "  ", now()).is_err());
        assert!(s.add_note(&id, "kim", &"x".repeat(5000), now()).is_err());

        let (rule, n) = s
            .suppress(&Suppression {
                id: 0,
                finding_type: Some("A".into()),
                resource: None,
                network: None,
                user: None,
                expires_at: None,
                reason: Some("test".into()),
                created_by: Some("kim".into()),
                created_at: now(),
            })
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(s.delete_suppression(rule, "kim", now()).unwrap(), Some(2));
        assert!(s.suppressions().unwrap().is_empty());
        assert_eq!(s.finding(&id).unwrap().status, Status::New);
        assert_eq!(s.history(&id).unwrap().last().unwrap().what, "unsuppressed");
        assert_eq!(s.delete_suppression(rule, "kim", now()).unwrap(), None);
    }
}

/// `cargo test -p keibi-store --test dashboard -- --ignored --nocapture`: 100,000
/// findings through `FindingStore::commit`, then each dashboard query timed.
#[test]
#[ignore]
fn times_with_100k_findings() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("k.db")).unwrap();
    let t0 = Instant::now();
    let n = now();
    for batch in 0..100 {
        let fs: Vec<Finding> = (0..1000)
            .map(|j| {
                let i = batch * 1000 + j;
                let ip = format!("10.{}.{}.{}", i % 7, (i / 7) % 250, i % 251);
                let user = format!("user{}", i % 300);
                finding(
                    i,
                    ["A", "B", "C", "D"][i % 4],
                    (i % 100) as f64 / 10.0,
                    &format!("db{}", i % 40),
                    Some(["111", "222", "333"][i % 3]),
                    &[&ip],
                    &[&user],
                    n - Duration::minutes((i % 60_000) as i64),
                    (i % 97) as u64 + 1,
                )
            })
            .collect();
        put(&mut s, &fs, n);
    }
    println!("fill: 100000 findings in {:?}", t0.elapsed());

    let time = |what: &str, f: &dyn Fn()| {
        f();
        let t = Instant::now();
        for _ in 0..5 {
            f();
        }
        println!("{what}: {:?} per call", t.elapsed() / 5);
    };
    time("overview", &|| {
        s.overview(n, 30, 0, 10).unwrap();
    });
    for sort in Sort::ALL {
        time(&format!("first page, sort {}", sort.as_str()), &|| {
            s.dashboard_findings(&FindingFilter {
                sort,
                limit: 50,
                ..Default::default()
            })
            .unwrap();
        });
    }
    time("page 1000 (offset 49,950)", &|| {
        s.dashboard_findings(&FindingFilter {
            offset: 49_950,
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    });
    time("open, severity >= 7", &|| {
        s.dashboard_findings(&FindingFilter {
            statuses: vec![Status::New, Status::Acknowledged],
            min_severity: Some(Severity::new(7.0)),
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    });
    time("actor user17", &|| {
        s.dashboard_findings(&FindingFilter {
            user: Some("user17".into()),
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    });
    time("account 222, type B", &|| {
        s.dashboard_findings(&FindingFilter {
            account: Some("222".into()),
            finding_type: Some("B".into()),
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    });
    time("changes since", &|| {
        s.changes_since(0).unwrap();
    });
    // KEIBI_BENCH_KEEP=PATH keeps the filled store (closed: its WAL folded in)
    // for EXPLAIN QUERY PLAN.
    drop(s);
    if let Ok(keep) = std::env::var("KEIBI_BENCH_KEEP") {
        std::fs::copy(dir.path().join("k.db"), keep).unwrap();
    }
}

#[test]
fn posture_rounds_keep_the_newest_hundred() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        assert_eq!(s.last_posture_round().unwrap(), None);
        for i in 0..105u64 {
            let round = keibi_store::PostureRound {
                at: now() + Duration::minutes(i as i64),
                passed: i,
                failed: 3,
                suppressed: 0,
            };
            keibi_store::FindingStore::record_posture_round(&mut s, &round).unwrap();
        }
        let last = s.last_posture_round().unwrap().unwrap();
        assert_eq!(last.passed, 104);
        assert_eq!(last.at, now() + Duration::minutes(104));
        assert!((last.pass_rate().unwrap() - 104.0 * 100.0 / 107.0).abs() < 1e-9);
        let kept = common::texts(&b, "SELECT CAST(count(*) AS TEXT) FROM posture_rounds");
        assert_eq!(kept, [[Some("100".to_string())]]);
    }
}
