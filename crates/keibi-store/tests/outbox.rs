//! The notification outbox on real files: entries written with the finding changes
//! a person should hear of (and only those, once), a resolve by a person, deliveries
//! that survive reopening the store, and their states.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use keibi_model::finding::Resource;
use keibi_model::{ChangeKind, Finding, FindingChange, Severity};
mod common;

use keibi_store::{
    Checkpoint, Commit, DeliveryState, FindingStore, OutboxKind, StatusChange, Store, Suppression,
    Transition,
};

fn t(m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 3, m, 0).unwrap()
}

fn finding(key: &str, severity: f64, count: u64) -> Finding {
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &[key],
        Severity::new(severity),
        Resource {
            kind: "db_instance".into(),
            id: "orders-db".into(),
            ..Resource::default()
        },
        t(0),
    );
    f.count = count;
    f.title = format!("Brute force {key}");
    f.actor.ip = Some("203.0.113.7".parse().unwrap());
    f
}

fn commit(at: DateTime<Utc>, changes: &[(&Finding, u64)], position: u64) -> Commit {
    Commit {
        finding_changes: changes
            .iter()
            .map(|(f, added)| FindingChange {
                kind: ChangeKind::Grew,
                finding: (*f).clone(),
                added: *added,
            })
            .collect(),
        checkpoints: vec![Checkpoint {
            source: "pg".into(),
            position,
            data: vec![],
        }],
        ..Commit::new(at)
    }
}

fn kinds(s: &Store) -> Vec<(String, OutboxKind)> {
    s.outbox(0, 1000)
        .unwrap()
        .into_iter()
        .map(|e| (e.finding.title.clone(), e.kind))
        .collect()
}

#[test]
fn entries_follow_the_changes_people_hear_of_and_a_replay_adds_none() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let a = finding("a", 5.0, 10);
        s.commit(&commit(t(1), &[(&a, 10)], 1)).unwrap();
        // The same batch again (a crash before the checkpoint moved on): nothing new.
        s.commit(&commit(t(2), &[(&a, 10)], 1)).unwrap();
        // Growth is not announced.
        s.commit(&commit(t(3), &[(&a, 5)], 2)).unwrap();
        // A severity rise is, with the severity before.
        let mut raised = a.clone();
        raised.severity = Severity::new(8.0);
        s.commit(&commit(t(4), &[(&raised, 1)], 3)).unwrap();
        let e = s.outbox(0, 10).unwrap();
        assert_eq!(
            kinds(&s),
            vec![
                ("Brute force a".into(), OutboxKind::New),
                ("Brute force a".into(), OutboxKind::SeverityRaised),
            ]
        );
        assert_eq!(e[1].previous_severity, Some(Severity::new(5.0)));
        assert_eq!(e[1].finding.severity, Severity::new(8.0));
        assert_eq!(e[0].finding.count, 10, "the snapshot of the change");
        assert_eq!(e[1].finding.count, 16);
        assert_eq!(e[0].at, t(1));
        assert_ne!(e[0].key, e[1].key);
        assert_eq!(e[0].key.len(), 32);

        // A person resolves it: a resolved entry with who; then activity reopens it.
        s.set_status(
            &a.id,
            &StatusChange {
                transition: Transition::Resolve,
                at: t(5),
                by: Some("kim".into()),
                note: None,
            },
        )
        .unwrap();
        // Resolving it again says nothing more.
        s.set_status(
            &a.id,
            &StatusChange {
                transition: Transition::Resolve,
                at: t(6),
                by: Some("kim".into()),
                note: None,
            },
        )
        .unwrap();
        s.commit(&commit(t(7), &[(&raised, 1)], 4)).unwrap();
        let e = s.outbox(0, 10).unwrap();
        assert_eq!(
            e.iter().map(|e| e.kind).collect::<Vec<_>>(),
            vec![
                OutboxKind::New,
                OutboxKind::SeverityRaised,
                OutboxKind::Resolved,
                OutboxKind::Reopened
            ]
        );
        assert_eq!(e[2].by.as_deref(), Some("kim"));
    }
}

#[test]
fn a_suppressed_finding_writes_nothing() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        s.suppress(&Suppression {
            id: 0,
            finding_type: None,
            resource: Some("orders-db".into()),
            network: None,
            user: None,
            expires_at: None,
            reason: None,
            created_by: None,
            created_at: t(0),
        })
        .unwrap();
        let a = finding("a", 5.0, 3);
        s.commit(&commit(t(1), &[(&a, 3)], 1)).unwrap();
        s.set_status(
            &a.id,
            &StatusChange {
                transition: Transition::Resolve,
                at: t(2),
                by: None,
                note: None,
            },
        )
        .unwrap();
        assert!(s.outbox(0, 10).unwrap().is_empty());
    }
}

#[test]
fn deliveries_move_from_pending_to_sent_or_failed_and_survive_reopening() {
    for b in common::backends() {
        let path = b.path.clone();
        let mut s = Store::open(&path).unwrap();
        let a = finding("a", 5.0, 1);
        let b = finding("b", 7.0, 1);
        s.commit(&commit(t(1), &[(&a, 1), (&b, 1)], 1)).unwrap();
        assert_eq!(s.outbox_status(10).unwrap().unrouted, 2);
        let mut asked = Vec::new();
        let routed = s
            .route_outbox(100, t(2), &mut |e| {
                asked.push(e.finding.title.clone());
                vec!["hook".into(), "slack".into(), "hook".into()]
            })
            .unwrap();
        assert_eq!(routed, 2);
        assert_eq!(asked, ["Brute force a", "Brute force b"]);
        // Routed once: a second pass finds nothing.
        assert_eq!(
            s.route_outbox(100, t(2), &mut |_| unreachable!()).unwrap(),
            0
        );
        assert!(
            s.due_deliveries(t(1), 10).unwrap().is_empty(),
            "not yet due"
        );
        let due = s.due_deliveries(t(2), 10).unwrap();
        assert_eq!(due.len(), 4);
        assert!(due.iter().all(|d| d.state == DeliveryState::Pending));
        let ea = due[0].entry.id;
        let eb = due[2].entry.id;
        s.mark_sent(ea, "hook", t(3), "HTTP 200").unwrap();
        s.mark_retry(ea, "slack", t(3), "HTTP 503 from http://x/…: busy", t(10))
            .unwrap();
        s.mark_failed(eb, "hook", t(3), "HTTP 400 from http://x/…: bad")
            .unwrap();
        // A sent delivery is never marked again.
        s.mark_failed(ea, "hook", t(4), "late").unwrap();
        drop(s);

        let mut s = Store::open(&path).unwrap();
        let due = s.due_deliveries(t(5), 10).unwrap();
        assert_eq!(
            due.iter()
                .map(|d| (d.entry.id, d.channel.as_str()))
                .collect::<Vec<_>>(),
            vec![(eb, "slack")]
        );
        assert_eq!(s.next_due().unwrap(), Some(t(2)));
        let st = s.outbox_status(10).unwrap();
        assert_eq!(st.unrouted, 0);
        let count = |ch: &str, state| {
            st.counts
                .iter()
                .find(|c| c.channel == ch && c.state == state)
                .map_or(0, |c| c.count)
        };
        assert_eq!(count("hook", DeliveryState::Sent), 1);
        assert_eq!(count("hook", DeliveryState::Failed), 1);
        assert_eq!(count("slack", DeliveryState::Pending), 2);
        assert_eq!(st.open.len(), 3, "two pending, one failed");
        let retried = st
            .open
            .iter()
            .find(|d| d.entry.id == ea && d.channel == "slack")
            .unwrap();
        assert_eq!(retried.attempts, 1);
        assert_eq!(retried.next_at, t(10));
        assert_eq!(retried.first_at, Some(t(3)));
        assert!(retried.last_error.as_deref().unwrap().contains("503"));
        let failed = st.open.last().unwrap();
        assert_eq!(failed.state, DeliveryState::Failed);
        assert_eq!((failed.entry.id, failed.channel.as_str()), (eb, "hook"));

        // Pruning keeps what is still pending. What the responder has not considered
        // goes once old: it never acts on an entry over an hour old.
        s.mark_sent(ea, "slack", t(11), "HTTP 200").unwrap();
        let later = t(30) + TimeDelta::days(40);
        assert!(!s.unplanned_entries(10).unwrap().is_empty());
        assert_eq!(s.prune_outbox(later).unwrap(), 1, "a: every delivery done");
        assert_eq!(s.outbox(0, 10).unwrap().len(), 1);
        s.mark_sent(eb, "slack", t(12), "HTTP 200").unwrap();
        assert_eq!(s.prune_outbox(later).unwrap(), 1);
        assert!(s.outbox_status(10).unwrap().counts.is_empty());
    }
}

#[test]
fn an_entry_keeps_the_findings_messages() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let mut a = finding("a", 5.0, 1);
        a.text = Some(Box::new(keibi_model::FindingText {
            title: Some(keibi_model::Msg::new("login-brute-force-title")),
            ..Default::default()
        }));
        s.commit(&commit(t(1), &[(&a, 1)], 1)).unwrap();
        let e = s.outbox(0, 10).unwrap();
        assert_eq!(e[0].finding.text, a.text);
    }
}

/// A store at schema 3 (the outbox before routing) is migrated with its entries
/// and deliveries kept, and outbox ids still never repeat: the rebuilt table keeps
/// the AUTOINCREMENT sequence even when the newest entries were deleted.
///
/// SQLite only: an old schema made with raw `rusqlite` (PostgreSQL starts at
/// the current schema).
#[test]
fn migration_4_keeps_the_outbox_and_its_id_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        for sql in [
            include_str!("../migrations/001-initial.sql"),
            include_str!("../migrations/002-finding-text.sql"),
            include_str!("../migrations/003-outbox.sql"),
        ] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch(&format!(
            "PRAGMA application_id = {}; PRAGMA user_version = 3;",
            keibi_store::APPLICATION_ID
        ))
        .unwrap();
        let f = serde_json::to_string(&finding("a", 5.0, 1)).unwrap();
        for (id, key) in [(1, "k1"), (2, "k2"), (3, "k3")] {
            c.execute(
                "INSERT INTO outbox (id, key, finding_id, kind, at, finding, routed)
                 VALUES (?1, ?2, 'fid', 'new', 0, ?3, 1)",
                rusqlite::params![id, key, f],
            )
            .unwrap();
        }
        c.execute(
            "INSERT INTO deliveries (outbox_id, channel, next_at) VALUES (1, 'hook', 0)",
            [],
        )
        .unwrap();
        // The newest entries were pruned: the sequence is ahead of the ids left.
        c.execute("DELETE FROM outbox WHERE id > 1", []).unwrap();
    }
    let mut s = Store::open(&path).unwrap();
    let kept = s.outbox(0, 10).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].key, "k1");
    assert_eq!(s.outbox_status(10).unwrap().open.len(), 1);
    let f = finding("b", 5.0, 1);
    s.commit(&commit(t(5), &[(&f, 1)], 1)).unwrap();
    let all = s.outbox(0, 10).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].id, 4, "ids 2 and 3 are not reused");
}
