//! The timeline's data in the store: folding, bounds, retention, exactly-once
//! with the checkpoints, and the query by each kind of actor and window.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use keibi_model::finding::Resource;
use keibi_model::{
    Action, ChangeKind, Event, Finding, FindingChange, Severity, SourceKind, Statement,
};
mod common;

use keibi_store::{
    Activity, ActivityBatch, ActivityKind, Checkpoint, Commit, FindingStore, Store, StoreError,
    TimelineEntry, TimelineQuery,
};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().into()
}

fn pg(time: &str, action: Action, ip: &str, user: &str) -> Event {
    let mut e = Event::new(
        t(time),
        SourceKind::PostgresStderr,
        Arc::from("pg.log"),
        1,
        action,
    );
    e.instance = Some("orders-db".into());
    e.set_client(ip);
    e.user = Some(user.into());
    e
}

fn stmt(time: &str, ip: &str, user: &str, sql: &str) -> Event {
    let mut e = pg(time, Action::Statement, ip, user);
    e.statement = Some(Box::new(Statement::from_sql(sql)));
    e
}

fn api(time: &str, ip: &str, arn: &str, name: &str, error: Option<&str>) -> Event {
    let mut e = Event::new(
        t(time),
        SourceKind::Cloudtrail,
        Arc::from("ct.json"),
        1,
        Action::ApiCall,
    );
    e.set_client(ip);
    e.user = Some(arn.into());
    e.application = Some("aws-cli/2.15".into());
    e.message = Some(format!("rds.amazonaws.com:{name}"));
    e.error_code = error.map(Into::into);
    e.record = Some(Box::new(serde_json::json!({
        "eventName": name,
        "requestParameters": {"dBInstanceIdentifier": "orders-db"}
    })));
    e
}

fn batch(events: &[Event]) -> ActivityBatch {
    let mut b = ActivityBatch::new();
    for e in events {
        b.add(e);
    }
    b
}

fn commit(at: DateTime<Utc>, events: &[Event], position: u64) -> Commit {
    Commit {
        activity: batch(events),
        checkpoints: vec![Checkpoint {
            source: "pg".into(),
            position,
            data: vec![],
        }],
        ..Commit::new(at)
    }
}

fn query(since: &str, until: &str) -> TimelineQuery {
    TimelineQuery {
        ips: vec![],
        users: vec![],
        principals: vec![],
        since: t(since),
        until: t(until),
        limit: 1000,
    }
}

fn rows(tl: &keibi_store::Timeline) -> Vec<&Activity> {
    tl.entries
        .iter()
        .filter_map(|e| match e {
            TimelineEntry::Activity(a) => Some(a),
            TimelineEntry::Finding(_) => None,
        })
        .collect()
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("k.db")).unwrap();
    (dir, s)
}

/// 10,000 runs of one query shape (different literals) in a minute are one row;
/// another minute, another user, another shape or another address is another row;
/// the row keeps the first statement's text and the span of the fold.
#[test]
fn repeats_within_a_minute_fold_into_one_row() {
    let mut events = Vec::new();
    for i in 0..10_000 {
        events.push(stmt(
            &format!("2026-11-28T10:00:{:02}.{:03}Z", i % 60, i % 1000),
            "10.0.0.5",
            "app",
            &format!("SELECT * FROM orders WHERE id = {i} AND note = 'x{i}'"),
        ));
    }
    events.push(stmt(
        "2026-11-28T10:01:00Z",
        "10.0.0.5",
        "app",
        "SELECT * FROM orders WHERE id = 1 AND note = 'y'",
    ));
    events.push(stmt(
        "2026-11-28T10:00:30Z",
        "10.0.0.5",
        "other",
        "SELECT * FROM orders WHERE id = 1 AND note = 'y'",
    ));
    events.push(stmt(
        "2026-11-28T10:00:30Z",
        "10.0.0.5",
        "app",
        "SELECT * FROM customers WHERE id = 1",
    ));
    events.push(stmt(
        "2026-11-28T10:00:30Z",
        "10.0.0.6",
        "app",
        "SELECT * FROM orders WHERE id = 1 AND note = 'y'",
    ));
    let b = batch(&events);
    assert_eq!(b.len(), 5);
    let first = b.rows().next().unwrap();
    assert_eq!(first.count, 10_000);
    assert_eq!(first.first, t("2026-11-28T10:00:00Z"));
    assert_eq!(first.last, t("2026-11-28T10:00:59.999Z"));
    assert_eq!(
        first.what.as_deref(),
        Some("SELECT * FROM orders WHERE id = 0 AND note = 'x0'")
    );
    assert_eq!(first.command.as_deref(), Some("SELECT"));

    // The same minute over two commits is still one row, counted in full.
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let (a, b2) = events.split_at(5000);
        s.commit(&commit(t("2026-11-28T10:02:00Z"), a, 1)).unwrap();
        s.commit(&commit(t("2026-11-28T10:02:01Z"), b2, 2)).unwrap();
        assert_eq!(s.activity_rows().unwrap(), 5);
        let mut q = query("2026-11-28T09:00:00Z", "2026-11-28T11:00:00Z");
        q.users = vec!["app".into()];
        let tl = s.timeline(&q).unwrap();
        let r = rows(&tl);
        assert_eq!(r.len(), 4, "app's rows: {r:#?}");
        let counts: Vec<u64> = r.iter().map(|a| a.count).collect();
        assert_eq!(counts.iter().sum::<u64>(), 10_003);
        assert!(counts.contains(&10_000));
    }
}

/// Logins fold per address and user; failures keep their message; events
/// without an actor and connection-received lines make no row.
#[test]
fn what_is_kept_and_how() {
    let mut failed = pg(
        "2026-11-28T10:00:01Z",
        Action::LoginFailure,
        "203.0.113.7",
        "app",
    );
    failed.message = Some("password authentication failed for user \"app\"".into());
    failed.error_code = Some("28P01".into());
    let mut checkpoint = Event::new(
        t("2026-11-28T10:00:02Z"),
        SourceKind::PostgresStderr,
        Arc::from("pg.log"),
        2,
        Action::Other,
    );
    checkpoint.message = Some("checkpoint starting: time".into());
    let received = pg(
        "2026-11-28T10:00:03Z",
        Action::ConnectionReceived,
        "203.0.113.7",
        "app",
    );
    let mut error = pg("2026-11-28T10:00:04Z", Action::Other, "10.0.0.5", "app");
    error.level = Some("ERROR".into());
    error.message = Some("relation \"nope\" does not exist".into());
    let b = batch(&[
        failed.clone(),
        failed,
        checkpoint,
        received,
        error,
        pg(
            "2026-11-28T10:00:05Z",
            Action::Disconnect,
            "10.0.0.5",
            "app",
        ),
    ]);
    let kinds: Vec<(ActivityKind, u64)> = b.rows().map(|r| (r.kind, r.count)).collect();
    assert_eq!(
        kinds,
        [
            (ActivityKind::LoginFailed, 2),
            (ActivityKind::Error, 1),
            (ActivityKind::Disconnect, 1)
        ]
    );
    let f = b.rows().next().unwrap();
    assert_eq!(f.error.as_deref(), Some("28P01"));
    assert_eq!(f.resource.as_deref(), Some("orders-db"));
    assert!(f
        .what
        .as_deref()
        .unwrap()
        .contains("password authentication"));
}

/// CloudTrail: the ARN is the principal, not a user; event name, address, user
/// agent, error code and target are kept; a denied call is not folded with an
/// allowed one.
#[test]
fn cloudtrail_calls_are_the_principal_s() {
    let arn = "arn:aws:iam::123456789012:user/mallory";
    let b = batch(&[
        api(
            "2026-11-28T10:00:01Z",
            "198.51.100.4",
            arn,
            "ModifyDBInstance",
            Some("AccessDenied"),
        ),
        api(
            "2026-11-28T10:00:02Z",
            "198.51.100.4",
            arn,
            "ModifyDBInstance",
            None,
        ),
    ]);
    assert_eq!(b.len(), 2);
    let r = b.rows().next().unwrap();
    assert_eq!(r.kind, ActivityKind::ApiCall);
    assert_eq!(r.principal.as_deref(), Some(arn));
    assert_eq!(r.user, None);
    assert_eq!(
        r.what.as_deref(),
        Some("rds.amazonaws.com:ModifyDBInstance")
    );
    assert_eq!(r.error.as_deref(), Some("AccessDenied"));
    assert_eq!(r.application.as_deref(), Some("aws-cli/2.15"));
    assert_eq!(r.resource.as_deref(), Some("orders-db"));
    assert_eq!(r.source, "cloudtrail");
}

/// A long statement is cut at 512 bytes on a char boundary and marked; a long
/// user name at 256; a commit over its cap counts what it drops, and the
/// timeline of that day says so.
#[test]
fn texts_and_commits_are_bounded() {
    let long = format!("SELECT '{}'", "é".repeat(2000));
    let name = "ü".repeat(1000);
    let b = batch(&[stmt("2026-11-28T10:00:00Z", "10.0.0.5", &name, &long)]);
    let r = b.rows().next().unwrap();
    assert!(r.truncated);
    let what = r.what.as_deref().unwrap();
    assert!(what.ends_with('…'));
    assert!(what.len() <= keibi_store::STATEMENT_MAX + '…'.len_utf8());
    assert!(long.starts_with(what.trim_end_matches('…')));
    assert!(r.user.as_deref().unwrap().len() <= keibi_store::TEXT_MAX + 3);

    let mut capped = ActivityBatch::with_cap(3);
    for i in 0..10 {
        capped.add(&pg(
            "2026-11-28T10:00:00Z",
            Action::LoginFailure,
            &format!("203.0.113.{i}"),
            "app",
        ));
    }
    // A repeat of a kept row still folds.
    assert!(capped.add(&pg(
        "2026-11-28T10:00:01Z",
        Action::LoginFailure,
        "203.0.113.0",
        "app"
    )));
    assert_eq!(capped.len(), 3);
    assert_eq!(capped.dropped(), 7);
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        s.commit(&Commit {
            activity: capped.clone(),
            ..Commit::new(t("2026-11-28T10:05:00Z"))
        })
        .unwrap();
        let mut q = query("2026-11-28T00:00:00Z", "2026-11-28T23:59:59Z");
        q.users = vec!["app".into()];
        let tl = s.timeline(&q).unwrap();
        assert_eq!(rows(&tl).len(), 3);
        assert_eq!(tl.dropped, 7);
        let mut q = query("2026-11-29T00:00:00Z", "2026-11-29T23:59:59Z");
        q.users = vec!["app".into()];
        assert_eq!(s.timeline(&q).unwrap().dropped, 0, "another day");
    }
}

/// The same commit twice (a crash after the store committed, before the daemon
/// knew) writes its activity once; a new position writes again.
#[test]
fn a_replayed_commit_writes_nothing_twice() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let events = [
            pg(
                "2026-11-28T10:00:00Z",
                Action::LoginSuccess,
                "10.0.0.5",
                "app",
            ),
            stmt("2026-11-28T10:00:01Z", "10.0.0.5", "app", "SELECT 1"),
        ];
        let c = commit(t("2026-11-28T10:01:00Z"), &events, 1);
        assert!(!s.commit(&c).unwrap().replayed);
        assert!(s.commit(&c).unwrap().replayed);
        let mut q = query("2026-11-28T09:00:00Z", "2026-11-28T11:00:00Z");
        q.ips = vec!["10.0.0.5".parse().unwrap()];
        let tl = s.timeline(&q).unwrap();
        assert_eq!(
            rows(&tl).iter().map(|a| a.count).collect::<Vec<_>>(),
            [1, 1]
        );
        s.commit(&commit(t("2026-11-28T10:01:01Z"), &events, 2))
            .unwrap();
        let tl = s.timeline(&q).unwrap();
        assert_eq!(
            rows(&tl).iter().map(|a| a.count).collect::<Vec<_>>(),
            [2, 2],
            "the same events at a new position are new events (folded in their minute)"
        );
    }
}

/// Each kind of actor finds its own rows (OR across kinds), in time order,
/// within the window (a row overlapping the window's start is in); an empty
/// query is refused; the limit cuts and says so.
#[test]
fn query_by_each_actor_kind_and_window() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let arn = "arn:aws:iam::123456789012:role/deploy";
        let events = [
            pg(
                "2026-11-28T09:59:30Z",
                Action::LoginSuccess,
                "10.0.0.5",
                "app",
            ),
            pg(
                "2026-11-28T09:59:50Z",
                Action::LoginSuccess,
                "10.0.0.5",
                "app",
            ),
            stmt("2026-11-28T10:00:10Z", "10.0.0.5", "app", "SELECT 1"),
            stmt("2026-11-28T10:00:20Z", "10.0.0.9", "bob", "DROP TABLE t"),
            api(
                "2026-11-28T10:00:30Z",
                "10.0.0.9",
                arn,
                "StopDBInstance",
                None,
            ),
            pg(
                "2026-11-28T12:00:00Z",
                Action::Disconnect,
                "10.0.0.5",
                "app",
            ),
        ];
        s.commit(&commit(t("2026-11-28T12:01:00Z"), &events, 1))
            .unwrap();
        let kinds = |tl: &keibi_store::Timeline| -> Vec<(ActivityKind, String)> {
            rows(tl)
                .iter()
                .map(|a| (a.kind, a.first.format("%H:%M:%S").to_string()))
                .collect()
        };
        let k = |kind, at: &str| (kind, at.to_string());

        let mut q = query("2026-11-28T09:59:55Z", "2026-11-28T11:00:00Z");
        assert!(matches!(s.timeline(&q), Err(StoreError::Invalid(_))));
        q.users = vec!["app".into()];
        // The login row spans 09:59:30-09:59:50: it ends before the window.
        assert_eq!(
            kinds(&s.timeline(&q).unwrap()),
            [k(ActivityKind::Statement, "10:00:10")]
        );
        q.since = t("2026-11-28T09:59:40Z");
        assert_eq!(
            kinds(&s.timeline(&q).unwrap()),
            [
                k(ActivityKind::LoginOk, "09:59:30"),
                k(ActivityKind::Statement, "10:00:10")
            ]
        );
        let mut q = query("2026-11-28T09:00:00Z", "2026-11-28T11:00:00Z");
        q.principals = vec![arn.into()];
        assert_eq!(
            kinds(&s.timeline(&q).unwrap()),
            [k(ActivityKind::ApiCall, "10:00:30")]
        );
        q.ips = vec!["10.0.0.9".parse().unwrap()];
        assert_eq!(
            kinds(&s.timeline(&q).unwrap()),
            [
                k(ActivityKind::Statement, "10:00:20"),
                k(ActivityKind::ApiCall, "10:00:30")
            ],
            "the address's and the principal's, each once"
        );
        q.users = vec!["app".into()];
        q.limit = 2;
        let tl = s.timeline(&q).unwrap();
        assert!(tl.cut);
        assert_eq!(
            kinds(&tl),
            [
                k(ActivityKind::LoginOk, "09:59:30"),
                k(ActivityKind::Statement, "10:00:10")
            ]
        );
        q.limit = 4;
        let tl = s.timeline(&q).unwrap();
        assert!(!tl.cut, "exactly the limit is not cut");
        assert_eq!(tl.entries.len(), 4);
    }
}

/// A finding naming the user (in its users list: a spray) shows as marks at its
/// first event and at a person's resolution, among the activity.
#[test]
fn findings_of_the_actors_are_marked() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let mut f = Finding::new(
            "login",
            "CredentialAccess:RDS/PasswordSpray",
            &["spray"],
            Severity::new(7.0),
            Resource::default(),
            t("2026-11-28T10:00:05Z"),
        );
        f.title = "Password spray from 203.0.113.7".into();
        f.actor.ip = Some("203.0.113.7".parse().unwrap());
        f.actor.users = vec!["admin".into(), "app".into()];
        f.last_seen = t("2026-11-28T10:00:40Z");
        f.count = 12;
        let mut c = commit(
            t("2026-11-28T10:01:00Z"),
            &[pg(
                "2026-11-28T10:00:00Z",
                Action::LoginFailure,
                "203.0.113.7",
                "app",
            )],
            1,
        );
        c.finding_changes = vec![FindingChange {
            kind: ChangeKind::New,
            finding: f.clone(),
            added: 12,
        }];
        s.commit(&c).unwrap();
        s.set_status(
            &f.id,
            &keibi_store::StatusChange {
                transition: keibi_store::Transition::Resolve,
                at: t("2026-11-28T10:30:00Z"),
                by: Some("alice".into()),
                note: None,
            },
        )
        .unwrap();
        let mut q = query("2026-11-28T09:00:00Z", "2026-11-28T11:00:00Z");
        q.users = vec!["app".into()];
        let tl = s.timeline(&q).unwrap();
        let lines: Vec<String> = tl
            .entries
            .iter()
            .map(|e| match e {
                TimelineEntry::Activity(a) => {
                    format!("{} {}", a.first.format("%M:%S"), a.kind.as_str())
                }
                TimelineEntry::Finding(m) => {
                    format!("{} {} {}", m.time.format("%M:%S"), m.what, m.title)
                }
            })
            .collect();
        assert_eq!(
            lines,
            [
                "00:00 login_failed",
                "00:05 new Password spray from 203.0.113.7",
                "30:00 resolved Password spray from 203.0.113.7",
            ]
        );
        // Another user's timeline has none of it.
        q.users = vec!["nobody".into()];
        assert!(s.timeline(&q).unwrap().entries.is_empty());
        // The address finds it too.
        let mut q = query("2026-11-28T09:00:00Z", "2026-11-28T11:00:00Z");
        q.ips = vec!["203.0.113.7".parse().unwrap()];
        assert_eq!(s.timeline(&q).unwrap().entries.len(), 3);
    }
}

/// A user named by more findings than a timeline reads (2,000), all of them
/// outside the window (though stored in it), does not hide the window's own
/// finding, nor an old finding a person resolved in it: the findings are chosen
/// by the window first.
#[test]
fn a_busy_user_s_findings_outside_the_window_hide_nothing() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let mut changes = Vec::new();
        let mut old_id = String::new();
        for i in 0..2_100 {
            let at = t("2026-10-01T00:00:00Z") + TimeDelta::minutes(i);
            let mut f = Finding::new(
                "login",
                "CredentialAccess:RDS/BruteForce",
                &[&format!("old {i}")],
                Severity::new(5.0),
                Resource::default(),
                at,
            );
            f.title = format!("old {i}");
            f.actor.user = Some("postgres".into());
            if i == 7 {
                old_id = f.id.clone();
            }
            changes.push(FindingChange {
                kind: ChangeKind::New,
                finding: f,
                added: 1,
            });
        }
        let mut late = Finding::new(
            "login",
            "CredentialAccess:RDS/BruteForce",
            &["the window's"],
            Severity::new(5.0),
            Resource::default(),
            t("2026-11-28T10:00:05Z"),
        );
        late.title = "the window's".into();
        late.actor.user = Some("postgres".into());
        // Its id sorts after every other: read last, if at all, without the window.
        late.id = "f".repeat(32);
        changes.push(FindingChange {
            kind: ChangeKind::New,
            finding: late.clone(),
            added: 1,
        });
        let mut c = commit(t("2026-11-28T10:01:00Z"), &[], 1);
        c.finding_changes = changes;
        s.commit(&c).unwrap();
        // An old finding resolved by a person in the window is marked at that time.
        s.set_status(
            &old_id,
            &keibi_store::StatusChange {
                transition: keibi_store::Transition::Resolve,
                at: t("2026-11-28T10:30:00Z"),
                by: Some("alice".into()),
                note: None,
            },
        )
        .unwrap();
        let mut q = query("2026-11-28T09:00:00Z", "2026-11-28T11:00:00Z");
        q.users = vec!["postgres".into()];
        let marks: Vec<String> = s
            .timeline(&q)
            .unwrap()
            .entries
            .iter()
            .filter_map(|e| match e {
                TimelineEntry::Finding(m) => Some(format!(
                    "{} {} {}",
                    m.time.format("%d %H:%M"),
                    m.what,
                    m.title
                )),
                TimelineEntry::Activity(_) => None,
            })
            .collect();
        assert_eq!(
            marks,
            ["28 10:00 new the window's", "28 10:30 resolved old 7"]
        );
    }
}

/// Retention deletes rows whose events and storing are both older than the
/// cutoff, then the oldest beyond the total cap.
#[test]
fn retention_by_age_and_total() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let now = t("2026-12-01T00:00:00Z");
        let old_events = [pg(
            "2026-11-20T10:00:00Z",
            Action::LoginSuccess,
            "10.0.0.1",
            "a",
        )];
        // Stored long ago: goes. Read late (stored now) from an old log: stays.
        s.commit(&commit(t("2026-11-20T10:01:00Z"), &old_events, 1))
            .unwrap();
        let late = [pg(
            "2026-11-20T11:00:00Z",
            Action::LoginSuccess,
            "10.0.0.2",
            "b",
        )];
        s.commit(&commit(now, &late, 2)).unwrap();
        let recent: Vec<Event> = (0..5)
            .map(|i| {
                pg(
                    &format!("2026-11-30T1{i}:00:00Z"),
                    Action::LoginSuccess,
                    "10.0.0.3",
                    "c",
                )
            })
            .collect();
        s.commit(&commit(now, &recent, 3)).unwrap();
        assert_eq!(s.activity_rows().unwrap(), 7);
        let gone = s
            .expire_activity(now - TimeDelta::days(7), 1_000_000)
            .unwrap();
        assert_eq!(gone, 1);
        assert_eq!(s.activity_rows().unwrap(), 6);
        let gone = s.expire_activity(now - TimeDelta::days(7), 4).unwrap();
        assert_eq!(gone, 2, "the two first stored beyond the cap");
        let mut q = query("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z");
        q.users = vec!["b".into(), "c".into()];
        let tl = s.timeline(&q).unwrap();
        let users: Vec<&str> = rows(&tl)
            .iter()
            .map(|a| a.user.as_deref().unwrap())
            .collect();
        assert_eq!(users, ["c", "c", "c", "c"]);
    }
}

/// The query reads the per-actor indexes (the plan), and reads millions of rows
/// in milliseconds (printed, not asserted: `--nocapture`).
///
/// SQLite only: SQLite's query plan.
#[test]
fn the_query_uses_the_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    drop(Store::open(&path).unwrap());
    let c = rusqlite::Connection::open(&path).unwrap();
    for (column, index) in [
        ("ip", "activity_ip"),
        ("user", "activity_user"),
        ("principal", "activity_principal"),
    ] {
        let plan: Vec<String> = c
            .prepare(&format!(
                "EXPLAIN QUERY PLAN SELECT id FROM activity
                 WHERE {column} = ?1 AND first >= ?2 AND first <= ?3 AND last >= ?4
                 ORDER BY first, id LIMIT ?5"
            ))
            .unwrap()
            .query_map(["a", "0", "1", "0", "10"], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("; ");
        assert!(
            plan.contains(&format!(
                "USING INDEX {index} ({column}=? AND first>? AND first<?)"
            )),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
    }
}

/// A timing bench, not run by default (`cargo test -p keibi-store --test activity
/// -- --ignored --nocapture`): two million rows over a week from 20,000 addresses
/// and 2,000 users, then a day's timeline of one address, one user and both.
/// Prints the times; asserts only what it reads.
#[test]
#[ignore]
fn bench_two_million_rows() {
    let (_d, mut s) = open();
    let start = t("2026-11-21T00:00:00Z");
    let per_commit = 50_000;
    let total = 2_000_000;
    let load = std::time::Instant::now();
    let mut n = 0u64;
    while n < total {
        let mut b = ActivityBatch::with_cap(per_commit);
        for _ in 0..per_commit {
            // Spread over the week, one event every 0.3 s.
            let at = start + TimeDelta::milliseconds((n * 302) as i64);
            let ip = format!(
                "10.{}.{}.{}",
                (n % 20_000) / 10_000,
                (n % 10_000) / 100,
                n % 100
            );
            let mut e = stmt(
                &at.to_rfc3339(),
                &ip,
                &format!("user{}", n % 2_000),
                &format!("SELECT * FROM t{} WHERE id = {n}", n % 50),
            );
            e.time = at;
            b.add(&e);
            n += 1;
        }
        s.commit(&Commit {
            activity: b,
            ..Commit::new(at_now())
        })
        .unwrap();
    }
    let rows = s.activity_rows().unwrap();
    println!("loaded {rows} rows in {:?}", load.elapsed());
    let mut q = query("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z");
    for (what, ips, users) in [
        ("one address", vec!["10.0.1.1".parse().unwrap()], vec![]),
        ("one user", vec![], vec!["user77".to_string()]),
        (
            "both",
            vec!["10.0.1.1".parse().unwrap()],
            vec!["user77".to_string()],
        ),
    ] {
        q.ips = ips;
        q.users = users;
        let t0 = std::time::Instant::now();
        let tl = s.timeline(&q).unwrap();
        println!(
            "{what}: {} entries (cut {}) in {:?}",
            tl.entries.len(),
            tl.cut,
            t0.elapsed()
        );
        assert!(!tl.entries.is_empty());
    }
    let size = std::fs::metadata(s.path()).map(|m| m.len()).unwrap_or(0);
    println!("store file {} MB", size / 1_000_000);
}

fn at_now() -> DateTime<Utc> {
    t("2026-11-28T12:00:00Z")
}

/// Many actors and a small limit: the answer is the earliest rows of all of them
/// together, whatever the order the actors are read in.
#[test]
fn the_limit_takes_the_earliest_across_actors() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let mut events = Vec::new();
        for minute in 0..5 {
            for ip in 0..10 {
                // Address 9 is the earliest each minute, address 0 the latest.
                events.push(pg(
                    &format!("2026-11-28T10:0{minute}:{:02}Z", 50 - ip * 5),
                    Action::LoginSuccess,
                    &format!("10.0.0.{ip}"),
                    "app",
                ));
            }
        }
        s.commit(&commit(t("2026-11-28T11:00:00Z"), &events, 1))
            .unwrap();
        let mut q = query("2026-11-28T09:00:00Z", "2026-11-28T11:00:00Z");
        q.ips = (0..10)
            .map(|i| format!("10.0.0.{i}").parse().unwrap())
            .collect();
        q.limit = 7;
        let tl = s.timeline(&q).unwrap();
        assert!(tl.cut);
        let got: Vec<String> = rows(&tl)
            .iter()
            .map(|a| format!("{} {}", a.first.format("%M:%S"), a.ip.unwrap()))
            .collect();
        let mut want: Vec<(DateTime<Utc>, String)> = events
            .iter()
            .map(|e| (e.time, e.client_ip.unwrap().to_string()))
            .collect();
        want.sort();
        let want: Vec<String> = want
            .iter()
            .take(7)
            .map(|(t, ip)| format!("{} {ip}", t.format("%M:%S")))
            .collect();
        assert_eq!(got, want);
    }
}
