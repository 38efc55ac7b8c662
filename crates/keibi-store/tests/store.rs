//! The store's promises, on real files: aggregation across restarts, replay safety,
//! workflow, suppressions, retention, and refusing bad files without damaging them.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use keibi_model::finding::{Evidence, Resource};
use keibi_model::{ChangeKind, Finding, FindingChange, Severity};
mod common;

use keibi_store::{
    Checkpoint, Commit, FindingStore, Outcome, Query, Status, StatusChange, Store, StoreError,
    Suppression, Transition,
};

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0).unwrap()
}

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, 12, 0, 0).unwrap()
}

/// A brute-force-like finding from `ip` with `count` events between `first` and `last`.
fn finding(key: &str, ip: &str, count: u64, first: DateTime<Utc>, last: DateTime<Utc>) -> Finding {
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &[key],
        Severity::new(5.0),
        Resource {
            kind: "db_instance".into(),
            id: "orders-db".into(),
            engine: Some(keibi_model::Engine::Postgres),
            ..Resource::default()
        },
        first,
    );
    f.last_seen = last;
    f.count = count;
    f.title = format!("Brute force from {ip}: {count} failed logins");
    f.actor.ip = Some(ip.parse().unwrap());
    f.actor.user = Some("postgres".into());
    f.evidence.push(Evidence::Line {
        source: "pg.log".into(),
        line: count,
    });
    f
}

fn change(kind: ChangeKind, f: &Finding, added: u64) -> FindingChange {
    FindingChange {
        kind,
        finding: f.clone(),
        added,
    }
}

fn cp(source: &str, position: u64) -> Checkpoint {
    Checkpoint {
        source: source.into(),
        position,
        data: position.to_le_bytes().to_vec(),
    }
}

fn commit(at: DateTime<Utc>, changes: Vec<FindingChange>, cps: Vec<Checkpoint>) -> Commit {
    Commit {
        finding_changes: changes,
        checkpoints: cps,
        ..Commit::new(at)
    }
}

fn history_whats(s: &Store, id: &str) -> Vec<String> {
    s.history(id).unwrap().into_iter().map(|h| h.what).collect()
}

#[test]
fn counts_add_up_across_restarts() {
    for b in common::backends() {
        counts_add_up_across_restarts_on(b.path());
    }
}

fn counts_add_up_across_restarts_on(path: &Path) {
    let f1 = finding("a", "198.51.100.23", 5, t(10, 0), t(10, 5));
    let id = f1.id.clone();
    {
        let mut s = Store::open(path).unwrap();
        let c = s
            .commit(&commit(
                t(10, 6),
                vec![change(ChangeKind::New, &f1, 5)],
                vec![cp("pg", 100)],
            ))
            .unwrap();
        assert!(!c.replayed);
        assert_eq!(c.findings[0].outcome, Outcome::New);
        assert!(c.findings[0].notify);
        // Later in the same run: 3 more events, the detector's count is 8.
        let f1b = finding("a", "198.51.100.23", 8, t(10, 0), t(10, 9));
        let c = s
            .commit(&commit(
                t(10, 10),
                vec![change(ChangeKind::Grew, &f1b, 3)],
                vec![cp("pg", 150)],
            ))
            .unwrap();
        assert_eq!(c.findings[0].outcome, Outcome::Grew);
        assert!(!c.findings[0].notify, "growth alone is not announced");
        assert_eq!(c.findings[0].count, 8);
    }
    // Restart: the detector starts from zero and raises the same id as new.
    let mut s = Store::open(path).unwrap();
    assert_eq!(s.checkpoints().unwrap(), vec![cp("pg", 150)]);
    let f2 = finding("a", "198.51.100.24", 4, t(11, 0), t(11, 2));
    let c = s
        .commit(&commit(
            t(11, 3),
            vec![change(ChangeKind::New, &f2, 4)],
            vec![cp("pg", 220)],
        ))
        .unwrap();
    assert_eq!(
        c.findings[0].outcome,
        Outcome::Grew,
        "known id: not new again"
    );
    assert!(!c.findings[0].notify);
    let stored = s.finding(&id).unwrap();
    assert_eq!(stored.finding.count, 12);
    assert_eq!(stored.finding.first_seen, t(10, 0));
    assert_eq!(stored.finding.last_seen, t(11, 2));
    assert_eq!(stored.finding.actor.ips.len(), 2, "addresses of both runs");
    assert_eq!(stored.finding.title, f2.title, "texts are the latest");
    assert_eq!(stored.status, Status::New);
    // Consecutive growth is one history row that moves on.
    assert_eq!(history_whats(&s, &id), ["new", "grew"]);
    assert_eq!(s.history(&id).unwrap()[1].count, 12);
}

#[test]
fn a_replayed_commit_counts_nothing() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let f = finding("a", "198.51.100.23", 5, t(10, 0), t(10, 5));
        let mut c = commit(
            t(10, 6),
            vec![change(ChangeKind::New, &f, 5)],
            vec![cp("pg", 100), cp("my", 40)],
        );
        c.profile_puts.push(("user/app".into(), b"v1".to_vec()));
        assert!(!s.commit(&c).unwrap().replayed);
        let before = s.finding(&f.id).unwrap();
        let history = s.history(&f.id).unwrap();

        // The same batch again (a retry after a crash between commit and acknowledgement).
        let again = s.commit(&c).unwrap();
        assert!(again.replayed);
        assert_eq!(again.findings[0].outcome, Outcome::Unchanged);
        assert_eq!(s.finding(&f.id).unwrap().finding.count, 5);
        assert_eq!(s.finding(&f.id).unwrap().finding, before.finding);
        assert_eq!(s.history(&f.id).unwrap(), history);

        // An older batch: also a replay; its profile put does not go back in time.
        let mut old = commit(
            t(10, 7),
            vec![change(ChangeKind::Grew, &f, 2)],
            vec![cp("pg", 90)],
        );
        old.profile_puts.push(("user/app".into(), b"v0".to_vec()));
        assert!(s.commit(&old).unwrap().replayed);
        assert_eq!(s.finding(&f.id).unwrap().finding.count, 5);
        let mut profiles = Vec::new();
        s.load_profiles(&mut |k, v| profiles.push((k.to_string(), v.to_vec())))
            .unwrap();
        assert_eq!(profiles, [("user/app".to_string(), b"v1".to_vec())]);

        // One source moving on while another goes back: refused, nothing written.
        let mixed = commit(
            t(10, 8),
            vec![change(ChangeKind::Grew, &f, 9)],
            vec![cp("pg", 200), cp("my", 10)],
        );
        match s.commit(&mixed) {
            Err(StoreError::CheckpointConflict {
                source_id,
                stored,
                given,
            }) => {
                assert_eq!((source_id.as_str(), stored, given), ("my", 40, 10));
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(s.finding(&f.id).unwrap().finding.count, 5);
        assert_eq!(s.checkpoints().unwrap(), vec![cp("my", 40), cp("pg", 100)]);

        // An idle source repeating its position beside one that moves on is fine.
        let next = commit(
            t(10, 9),
            vec![change(ChangeKind::Grew, &f, 2)],
            vec![cp("pg", 120), cp("my", 40)],
        );
        let r = s.commit(&next).unwrap();
        assert!(!r.replayed);
        assert_eq!(s.finding(&f.id).unwrap().finding.count, 7);
    }
}

#[test]
fn profiles_and_checkpoints_commit_with_findings() {
    for b in common::backends() {
        let path = b.path.clone();
        let mut s = Store::open(&path).unwrap();
        let mut c = commit(t(1, 0), vec![], vec![cp("a", 1)]);
        c.profile_puts = vec![("k1".into(), vec![1]), ("k2".into(), vec![2])];
        s.commit(&c).unwrap();
        let mut c = commit(t(1, 1), vec![], vec![cp("a", 2)]);
        c.profile_deletes = vec!["k1".into(), "absent".into()];
        c.profile_puts = vec![("k2".into(), vec![3])];
        s.commit(&c).unwrap();
        drop(s);
        let s = Store::open_read_only(&path).unwrap();
        let mut seen = Vec::new();
        assert_eq!(
            s.load_profiles(&mut |k, v| seen.push((k.to_string(), v.to_vec())))
                .unwrap(),
            1
        );
        assert_eq!(seen, [("k2".to_string(), vec![3])]);
        assert_eq!(s.checkpoints().unwrap(), vec![cp("a", 2)]);
    }
}

/// A daemon whose profiles forgot more keys than they could name writes them all
/// again with `profile_clear`: the keys it no longer has are gone with the rest, in
/// the same transaction; a replayed batch clears nothing.
#[test]
fn a_profile_rewrite_replaces_every_stored_profile() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let mut c = commit(t(1, 0), vec![], vec![cp("a", 1)]);
        c.profile_puts = vec![("k1".into(), vec![1]), ("k2".into(), vec![2])];
        s.commit(&c).unwrap();
        let mut replay = commit(t(1, 1), vec![], vec![cp("a", 1)]);
        replay.profile_clear = true;
        assert!(s.commit(&replay).unwrap().replayed);
        let mut seen = Vec::new();
        s.load_profiles(&mut |k, _| seen.push(k.to_string()))
            .unwrap();
        assert_eq!(seen, ["k1", "k2"]);
        let mut c = commit(t(1, 2), vec![], vec![cp("a", 2)]);
        c.profile_clear = true;
        c.profile_puts = vec![("k3".into(), vec![3])];
        s.commit(&c).unwrap();
        let mut seen = Vec::new();
        s.load_profiles(&mut |k, v| seen.push((k.to_string(), v.to_vec())))
            .unwrap();
        assert_eq!(seen, [("k3".to_string(), vec![3])]);
    }
}

#[test]
fn resolved_findings_reopen_when_activity_comes_back() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let f = finding("a", "198.51.100.23", 5, t(10, 0), t(10, 5));
        s.commit(&commit(
            t(10, 6),
            vec![change(ChangeKind::New, &f, 5)],
            vec![],
        ))
        .unwrap();
        let prefix = &f.id[..6];
        let ack = s
            .set_status(
                prefix,
                &StatusChange {
                    transition: Transition::Acknowledge,
                    at: t(10, 7),
                    by: Some("alice".into()),
                    note: Some("looking".into()),
                },
            )
            .unwrap();
        assert_eq!(ack.status, Status::Acknowledged);
        assert_eq!(ack.status_by.as_deref(), Some("alice"));
        // Growth keeps an acknowledged finding acknowledged.
        let c = s
            .commit(&commit(
                t(10, 8),
                vec![change(ChangeKind::Grew, &f, 1)],
                vec![],
            ))
            .unwrap();
        assert_eq!(c.findings[0].status, Status::Acknowledged);
        s.set_status(
            &f.id,
            &StatusChange {
                transition: Transition::Resolve,
                at: t(10, 9),
                by: Some("alice".into()),
                note: Some("password rotated".into()),
            },
        )
        .unwrap();
        assert_eq!(s.finding(&f.id).unwrap().status, Status::Resolved);
        // A closing or replayed change (no events) does not reopen it.
        let c = s
            .commit(&commit(
                t(10, 10),
                vec![change(ChangeKind::Closed, &f, 0)],
                vec![],
            ))
            .unwrap();
        assert_eq!(c.findings[0].status, Status::Resolved);
        // New activity does, and says so.
        let c = s
            .commit(&commit(
                t(12, 0),
                vec![change(ChangeKind::Grew, &f, 4)],
                vec![],
            ))
            .unwrap();
        assert_eq!(c.findings[0].outcome, Outcome::Reopened);
        assert_eq!(c.findings[0].status, Status::New);
        assert!(c.findings[0].notify);
        let h = s.history(&f.id).unwrap();
        let whats: Vec<&str> = h.iter().map(|h| h.what.as_str()).collect();
        assert_eq!(
            whats,
            [
                "new",
                "acknowledged",
                "grew",
                "resolved",
                "closed",
                "grew",
                "reopened"
            ]
        );
        assert_eq!(h[3].note.as_deref(), Some("password rotated"));
        assert_eq!(h[6].count, 10);
        // Listing by status.
        let q = |st| Query {
            statuses: vec![st],
            ..Query::default()
        };
        assert_eq!(s.findings(&q(Status::New)).unwrap().len(), 1);
        assert_eq!(s.findings(&q(Status::Resolved)).unwrap().len(), 0);
    }
}

#[test]
fn id_prefixes_must_be_unique_and_hex() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let fs: Vec<Finding> = (0..40)
            .map(|i| finding(&i.to_string(), "192.0.2.1", 1, t(1, 0), t(1, 0)))
            .collect();
        let changes = fs.iter().map(|f| change(ChangeKind::New, f, 1)).collect();
        s.commit(&commit(t(1, 1), changes, vec![])).unwrap();
        // 40 ids over 16 first digits: some first digit is shared.
        let mut firsts: Vec<char> = fs.iter().map(|f| f.id.chars().next().unwrap()).collect();
        firsts.sort();
        let shared = firsts.windows(2).find(|w| w[0] == w[1]).unwrap()[0];
        assert!(matches!(
            s.finding(&shared.to_string()),
            Err(StoreError::Ambiguous { count, .. }) if count >= 2
        ));
        assert_eq!(
            s.finding(&fs[3].id.to_uppercase()).unwrap().finding.id,
            fs[3].id
        );
        assert!(matches!(s.finding("zz*"), Err(StoreError::Invalid(_))));
        assert!(matches!(s.finding("*"), Err(StoreError::Invalid(_))));
        assert!(matches!(
            s.finding(&"0".repeat(32)),
            Err(StoreError::NotFound(_))
        ));
    }
}

fn rule(network: Option<&str>, expires_at: Option<DateTime<Utc>>) -> Suppression {
    Suppression {
        id: 0,
        finding_type: None,
        resource: None,
        network: network.map(|n| n.parse().unwrap()),
        user: None,
        expires_at,
        reason: Some("office scanner".into()),
        created_by: Some("alice".into()),
        created_at: t(9, 0),
    }
}

#[test]
fn suppressions_by_cidr_until_they_expire() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let inside_before = finding("before", "10.1.2.3", 2, t(8, 0), t(8, 1));
        s.commit(&commit(
            t(8, 2),
            vec![change(ChangeKind::New, &inside_before, 2)],
            vec![],
        ))
        .unwrap();
        let (rid, matched) = s
            .suppress(&rule(Some("10.0.0.0/8"), Some(t(12, 0))))
            .unwrap();
        assert_eq!(
            matched, 1,
            "the stored finding from the range is suppressed now"
        );
        assert_eq!(
            s.finding(&inside_before.id).unwrap().status,
            Status::Suppressed
        );

        let inside = finding("in", "10.9.9.9", 3, t(10, 0), t(10, 1));
        let outside = finding("out", "192.0.2.1", 3, t(10, 0), t(10, 1));
        let mut mixed = finding("mixed", "10.0.0.1", 3, t(10, 0), t(10, 1));
        mixed.actor.ip = None;
        mixed.actor.ips = vec!["10.0.0.1".parse().unwrap(), "192.0.2.9".parse().unwrap()];
        let c = s
            .commit(&commit(
                t(10, 2),
                vec![
                    change(ChangeKind::New, &inside, 3),
                    change(ChangeKind::New, &outside, 3),
                    change(ChangeKind::New, &mixed, 3),
                ],
                vec![],
            ))
            .unwrap();
        let st: Vec<(Status, bool)> = c.findings.iter().map(|a| (a.status, a.notify)).collect();
        assert_eq!(
            st,
            [
                (Status::Suppressed, false),
                (Status::New, true),
                (Status::New, true)
            ],
            "only a finding whose addresses are all inside the range is suppressed"
        );
        assert_eq!(history_whats(&s, &inside.id), ["new", "suppressed"]);
        assert_eq!(
            s.history(&inside.id).unwrap()[1].by.as_deref(),
            Some(format!("rule {rid}").as_str())
        );
        // Still suppressed while the rule holds: growth stays quiet.
        let c = s
            .commit(&commit(
                t(11, 0),
                vec![change(ChangeKind::Grew, &inside, 1)],
                vec![],
            ))
            .unwrap();
        assert_eq!(
            (c.findings[0].status, c.findings[0].notify),
            (Status::Suppressed, false)
        );
        // After expiry, new activity brings it back.
        let c = s
            .commit(&commit(
                t(13, 0),
                vec![change(ChangeKind::Grew, &inside, 1)],
                vec![],
            ))
            .unwrap();
        assert_eq!(c.findings[0].outcome, Outcome::Reopened);
        assert_eq!(
            (c.findings[0].status, c.findings[0].notify),
            (Status::New, true)
        );
        assert_eq!(
            history_whats(&s, &inside.id),
            ["new", "suppressed", "grew", "unsuppressed"]
        );
        // A new finding after expiry is not suppressed either.
        let late = finding("late", "10.5.5.5", 1, t(13, 0), t(13, 0));
        let c = s
            .commit(&commit(
                t(13, 1),
                vec![change(ChangeKind::New, &late, 1)],
                vec![],
            ))
            .unwrap();
        assert_eq!(c.findings[0].status, Status::New);
        assert_eq!(
            s.suppressions().unwrap()[0].network.unwrap().to_string(),
            "10.0.0.0/8"
        );
    }
}

#[test]
fn suppression_by_type_user_and_resource() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let empty = Suppression {
            network: None,
            reason: None,
            ..rule(None, None)
        };
        assert!(matches!(s.suppress(&empty), Err(StoreError::Invalid(_))));
        let r = Suppression {
            finding_type: Some("CredentialAccess:RDS/BruteForce".into()),
            resource: Some("orders-db".into()),
            user: Some("postgres".into()),
            ..empty.clone()
        };
        s.suppress(&r).unwrap();
        let hit = finding("x", "192.0.2.1", 1, t(10, 0), t(10, 0));
        let mut other_user = finding("y", "192.0.2.1", 1, t(10, 0), t(10, 0));
        other_user.actor.user = Some("app".into());
        let mut other_db = finding("z", "192.0.2.1", 1, t(10, 0), t(10, 0));
        other_db.resource.id = "billing-db".into();
        let c = s
            .commit(&commit(
                t(10, 1),
                vec![
                    change(ChangeKind::New, &hit, 1),
                    change(ChangeKind::New, &other_user, 1),
                    change(ChangeKind::New, &other_db, 1),
                ],
                vec![],
            ))
            .unwrap();
        let st: Vec<Status> = c.findings.iter().map(|a| a.status).collect();
        assert_eq!(st, [Status::Suppressed, Status::New, Status::New]);
    }
}

#[test]
fn prune_exports_then_deletes() {
    for b in common::backends() {
        let dir = &b.dir;
        let export = dir.path().join("export");
        std::fs::create_dir(&export).unwrap();
        let mut s = Store::open(b.path()).unwrap();
        let old = finding("old", "192.0.2.1", 2, day(1), day(2));
        let recent = finding("new", "192.0.2.2", 2, day(20), day(27));
        s.commit(&commit(
            day(27),
            vec![
                change(ChangeKind::New, &old, 2),
                change(ChangeKind::New, &recent, 2),
            ],
            vec![],
        ))
        .unwrap();
        s.set_status(
            &old.id,
            &StatusChange {
                transition: Transition::Resolve,
                at: day(3),
                by: None,
                note: Some("done".into()),
            },
        )
        .unwrap();
        let before = s.size().unwrap();
        assert_eq!((before.findings, before.history), (2, 3));
        assert!(before.file > 0);

        let p = s.prune(day(10), Some(&export), day(28)).unwrap();
        assert_eq!((p.findings, p.history), (1, 2));
        let file = p.exported_to.unwrap();
        assert!(file
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .ends_with(".jsonl.zst"));
        let mut text = String::new();
        zstd::Decoder::new(std::fs::File::open(&file).unwrap())
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["finding"]["id"], old.id.as_str());
        assert_eq!(lines[0]["status"], "resolved");
        assert_eq!(lines[0]["history"][1]["what"], "resolved");
        assert_eq!(lines[0]["history"][1]["note"], "done");
        let back: Finding = serde_json::from_value(lines[0]["finding"].clone()).unwrap();
        assert_eq!(back.count, 2);

        assert!(matches!(s.finding(&old.id), Err(StoreError::NotFound(_))));
        assert_eq!(s.finding(&recent.id).unwrap().finding.count, 2);
        let after = s.size().unwrap();
        assert_eq!((after.findings, after.history), (1, 1));
        assert_eq!(after.wal, 0, "the WAL was folded in");
        assert_eq!(after.free, 0, "freed pages went back to the file system");
        // SQLite's file shrinks; PostgreSQL's size is the whole database's (other
        // schemas on the test server too), its space reclaimed by its autovacuum.
        if !b.is_postgres() {
            assert!(
                after.file < before.file + before.wal,
                "{after:?} {before:?}"
            );
        }
        // Nothing left to prune: no empty export file.
        let p = s.prune(day(10), Some(&export), day(29)).unwrap();
        assert_eq!((p.findings, p.exported_to), (0, None));
        // Without export, deleted directly.
        let p = s.prune(day(28), None, day(29)).unwrap();
        assert_eq!(p.findings, 1);
    }
}

#[test]
fn an_export_that_fails_deletes_nothing() {
    for b in common::backends() {
        let dir = &b.dir;
        let mut s = Store::open(b.path()).unwrap();
        let old = finding("old", "192.0.2.1", 2, day(1), day(2));
        s.commit(&commit(
            day(3),
            vec![change(ChangeKind::New, &old, 2)],
            vec![],
        ))
        .unwrap();
        let missing = dir.path().join("no-such-dir");
        assert!(matches!(
            s.prune(day(10), Some(&missing), day(28)),
            Err(StoreError::Io { .. })
        ));
        assert_eq!(s.size().unwrap().findings, 1);
    }
}

/// A store of `n` findings, closed (so its WAL is folded into the file).
fn filled_store(path: &Path, n: usize) {
    let mut s = Store::open(path).unwrap();
    let fs: Vec<Finding> = (0..n)
        .map(|i| finding(&i.to_string(), "192.0.2.1", 1, t(1, 0), t(1, 0)))
        .collect();
    s.commit(&commit(
        t(1, 1),
        fs.iter().map(|f| change(ChangeKind::New, f, 1)).collect(),
        vec![],
    ))
    .unwrap();
}

fn overwrite(path: &Path, at: u64, len: usize) {
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    let garbage: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();
    f.write_all(&garbage).unwrap();
}

/// SQLite only: about the bytes of its file.

#[test]
fn garbage_over_the_header_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    filled_store(&path, 10);
    overwrite(&path, 0, 100);
    let before = std::fs::read(&path).unwrap();
    let e = Store::open(&path).expect_err("refused");
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
    assert!(e.to_string().contains("not a keibi store"), "{e}");
    assert!(matches!(
        Store::open_read_only(&path),
        Err(StoreError::Foreign { .. })
    ));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is left as it was"
    );
}

/// SQLite only: about the bytes of its file.

#[test]
fn garbage_inside_is_reported_as_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    filled_store(&path, 300);
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len > 16 * 4096, "{len}");
    // Pages 3 to 6: inside the tables and indexes, past the header and the schema.
    overwrite(&path, 2 * 4096, 4 * 4096);
    let before = std::fs::read(&path).unwrap();
    let e = Store::open(&path).expect_err("refused");
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("damaged"), "{e}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is left as it was"
    );
}

/// SQLite only: about files that are not keibi's (PostgreSQL's equal, a schema
/// holding other tables, is refused in `store.rs`).

#[test]
fn foreign_sqlite_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("other.db");
    let c = rusqlite::Connection::open(&plain).unwrap();
    c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(c);
    let e = Store::open(&plain).unwrap_err();
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
    let marked = dir.path().join("marked.db");
    let c = rusqlite::Connection::open(&marked).unwrap();
    c.execute_batch("PRAGMA application_id = 1234;").unwrap();
    drop(c);
    let e = Store::open(&marked).unwrap_err();
    assert!(
        e.to_string()
            .contains("another application (application id 0x4d2)"),
        "{e}"
    );
    // A text file.
    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "not a database at all, just some words that are long enough to fill a header ........",
    )
    .unwrap();
    assert!(matches!(
        Store::open(&text),
        Err(StoreError::Foreign { .. })
    ));
    // A store from a newer keibi.
    let newer = dir.path().join("newer.db");
    filled_store(&newer, 1);
    let c = rusqlite::Connection::open(&newer).unwrap();
    c.execute_batch("PRAGMA user_version = 99;").unwrap();
    drop(c);
    assert!(matches!(
        Store::open(&newer),
        Err(StoreError::TooNew {
            found: 99,
            known: keibi_store::SCHEMA,
            ..
        })
    ));
    assert!(matches!(
        Store::open_read_only(&newer),
        Err(StoreError::TooNew { .. })
    ));
}

/// SQLite only: file permissions and a missing file.

#[test]
fn read_only_stores_refuse_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    filled_store(&path, 3);
    let mut ro = Store::open_read_only(&path).unwrap();
    assert_eq!(ro.findings(&Query::default()).unwrap().len(), 3);
    let f = finding("0", "192.0.2.1", 1, t(1, 0), t(1, 0));
    let e = ro
        .commit(&commit(
            t(2, 0),
            vec![change(ChangeKind::Grew, &f, 5)],
            vec![],
        ))
        .unwrap_err();
    assert!(matches!(e, StoreError::ReadOnly { .. }), "{e}");
    drop(ro);
    assert!(matches!(
        Store::open_read_only(&dir.path().join("none.db")),
        Err(StoreError::Io { .. })
    ));

    // File permissions: root writes anyway, so this half only runs as another user.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    if std::fs::OpenOptions::new().write(true).open(&path).is_ok() {
        eprintln!("skipped: running as root, chmod 444 does not stop writes");
        return;
    }
    let e = Store::open(&path).unwrap_err();
    assert!(matches!(e, StoreError::ReadOnly { .. }), "{e}");
}

/// A newer store in rollback-journal mode: refused before `journal_mode = WAL`
/// would rewrite its header.
///
/// SQLite only: the version is written with raw `rusqlite` (`user_version`).
#[test]
fn a_newer_store_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    filled_store(&path, 2);
    let c = rusqlite::Connection::open(&path).unwrap();
    // Newer than any schema this keibi knows, however many migrations it has.
    c.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA user_version = 99;")
        .unwrap();
    drop(c);
    let before = std::fs::read(&path).unwrap();
    for e in [
        Store::open(&path).unwrap_err(),
        Store::open_exclusive(&path).unwrap_err(),
    ] {
        assert!(matches!(e, StoreError::TooNew { found: 99, .. }), "{e}");
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "header and pages as they were"
    );
    assert!(!dir.path().join("newer.db-wal").exists());
}

/// keibi's mark and schema number over other tables: refused at open, by name,
/// not later by a query.
///
/// SQLite only: a file made with raw `rusqlite`.
#[test]
fn a_marked_file_without_keibis_tables_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("marked.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(&format!(
        "CREATE TABLE findings (name TEXT); PRAGMA application_id = {}; PRAGMA user_version = {};",
        keibi_store::APPLICATION_ID,
        keibi_store::SCHEMA
    ))
    .unwrap();
    drop(c);
    let before = std::fs::read(&path).unwrap();
    for e in [
        Store::open(&path).unwrap_err(),
        Store::open_read_only(&path).unwrap_err(),
    ] {
        assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
        assert!(e.to_string().contains("lacks action_findings."), "{e}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// SQLite only: paths in the file system.

#[test]
fn a_directory_or_a_missing_directory_is_said_in_words() {
    let dir = tempfile::tempdir().unwrap();
    for open in [Store::open, Store::open_exclusive, Store::open_read_only] {
        let e = open(dir.path()).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
    }
    let missing = dir.path().join("nodir").join("k.db");
    for open in [Store::open, Store::open_exclusive] {
        let e = open(&missing).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
    }
    assert!(!dir.path().join("nodir").exists(), "no directory made");
}

#[test]
fn one_exclusive_opener_at_a_time_and_the_lock_goes_with_the_store() {
    for b in common::backends() {
        let path = b.path.clone();
        let first = Store::open_exclusive(&path).unwrap();
        let e = Store::open_exclusive(&path).unwrap_err();
        assert!(matches!(e, StoreError::InUse { .. }), "{e}");
        // The findings commands do not take the lock.
        let mut other = Store::open(&path).unwrap();
        filled_store_into(&mut other, 2);
        assert_eq!(
            Store::open_read_only(&path)
                .unwrap()
                .size()
                .unwrap()
                .findings,
            2
        );
        drop(other);
        drop(first);
        let again = Store::open_exclusive(&path).unwrap();
        assert_eq!(again.size().unwrap().findings, 2);
    }
}

fn filled_store_into(s: &mut Store, n: usize) {
    let fs: Vec<Finding> = (0..n)
        .map(|i| finding(&i.to_string(), "192.0.2.1", 1, t(1, 0), t(1, 0)))
        .collect();
    s.commit(&commit(
        t(1, 1),
        fs.iter().map(|f| change(ChangeKind::New, f, 1)).collect(),
        vec![],
    ))
    .unwrap();
}

/// A store in a directory nobody may write to, with no `-wal` or `-shm` beside it,
/// is read as immutable. Only meaningful as a user that directory permissions bind.
///
/// SQLite only: directory permissions.
#[test]
fn a_store_in_a_read_only_directory_can_still_be_listed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("ro");
    std::fs::create_dir(&sub).unwrap();
    let path = sub.join("s.db");
    filled_store(&path, 3);
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o555)).unwrap();
    let writable = std::fs::File::create(sub.join("probe")).is_ok();
    let result = Store::open_read_only(&path).map(|s| s.size().unwrap().findings);
    let write = Store::open(&path).map(|_| ());
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
    if writable {
        eprintln!("skipped: running as root, directory permissions do not bind");
        return;
    }
    assert_eq!(result.unwrap(), 3);
    assert!(
        matches!(write, Err(StoreError::ReadOnly { .. })),
        "{write:?}"
    );
}

/// SQLite only: the transaction is held with raw `rusqlite` (PostgreSQL's
/// writers: `tests/postgres.rs`).

#[test]
fn readers_and_writers_wait_for_a_held_write_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    filled_store(&path, 2);
    let id = finding("0", "192.0.2.1", 1, t(1, 0), t(1, 0)).id;
    // Another connection (as the daemon would) holds a write transaction for 700 ms.
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let holder = {
        let path = path.clone();
        std::thread::spawn(move || {
            let mut c = rusqlite::Connection::open(&path).unwrap();
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .unwrap();
            tx.execute("UPDATE findings SET updated_at = updated_at + 1", [])
                .unwrap();
            ready_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(700));
            tx.commit().unwrap();
        })
    };
    ready.recv().unwrap();
    // Reading does not wait (WAL readers see the last commit).
    let started = std::time::Instant::now();
    let ro = Store::open_read_only(&path).unwrap();
    assert_eq!(ro.findings(&Query::default()).unwrap().len(), 2);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    // Writing waits for the holder, then succeeds.
    let mut rw = Store::open(&path).unwrap();
    let after = rw
        .set_status(
            &id,
            &StatusChange {
                transition: Transition::Acknowledge,
                at: t(2, 0),
                by: Some("bob".into()),
                note: None,
            },
        )
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(after.status, Status::Acknowledged);
    holder.join().unwrap();
}

#[test]
fn an_unreadable_rule_is_reported_not_guessed() {
    for b in common::backends() {
        let path = b.path.clone();
        let mut s = Store::open(&path).unwrap();
        s.suppress(&rule(Some("10.0.0.0/8"), None)).unwrap();
        common::poke(&b, "UPDATE suppressions SET network = 'ten-slash-eight'");
        let f = finding("a", "10.1.1.1", 1, t(1, 0), t(1, 0));
        let e = s
            .commit(&commit(
                t(1, 1),
                vec![change(ChangeKind::New, &f, 1)],
                vec![],
            ))
            .unwrap_err();
        assert!(e.to_string().contains("unreadable range"), "{e}");
        assert!(matches!(s.finding(&f.id), Err(StoreError::NotFound(_))));
    }
}

/// A finding's catalog messages (`Finding.text`) are kept beside its JSON, so a
/// stored finding renders in another language; a finding without them reads back
/// without, and a damaged text column leaves the finding readable in English.
#[test]
fn a_findings_messages_are_kept_and_a_damaged_text_is_dropped() {
    use keibi_model::{FindingText, Msg};
    for b in common::backends() {
        let path = b.path.clone();
        let mut with = finding("a", "198.51.100.23", 5, t(10, 0), t(10, 5));
        with.text = Some(Box::new(FindingText {
            title: Some(
                Msg::new("brute-force-title")
                    .arg("instance", "prod")
                    .arg("ip", "198.51.100.23")
                    .arg("failures", Msg::new("failed-logins").arg("count", 5u64)),
            ),
            description: vec![Msg::new("brute-force-volume")],
            remediation: vec![Msg::new("login-make-private")],
        }));
        let without = finding("b", "198.51.100.24", 2, t(10, 0), t(10, 5));
        let mut s = Store::open(&path).unwrap();
        s.commit(&commit(
            t(10, 6),
            vec![
                change(ChangeKind::New, &with, 5),
                change(ChangeKind::New, &without, 2),
            ],
            vec![],
        ))
        .unwrap();
        assert_eq!(s.finding(&with.id).unwrap().finding.text, with.text);
        assert_eq!(s.finding(&without.id).unwrap().finding.text, None);
        drop(s);
        common::poke(
            &b,
            &format!(
                "UPDATE findings SET text = '{{\"title\": 7' WHERE id = '{}'",
                with.id
            ),
        );
        let s = Store::open(&path).unwrap();
        let back = s.finding(&with.id).unwrap().finding;
        assert_eq!(back.text, None);
        assert_eq!(back.title, with.title);
    }
}
