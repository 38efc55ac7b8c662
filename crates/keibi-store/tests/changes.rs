//! The store read as a stream of finding changes (`Store::changes_after`), as the
//! second stage reads it: every change after a position once, a run of `grew` that
//! moves on in place seen again, the history a person reads unchanged.

use chrono::{DateTime, TimeZone, Utc};
use keibi_model::finding::Resource;
use keibi_model::{ChangeKind, Finding, FindingChange, Severity};
use keibi_store::{ActorKind, Checkpoint, Commit, FindingStore, Store};

mod common;

fn t(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(min)
}

fn finding(instance: &str, ip: &str, count: u64, last: i64) -> Finding {
    let mut f = Finding::new(
        "login_source",
        "CredentialAccess:RDS/BruteForce",
        &[instance, ip],
        Severity::new(5.0),
        Resource {
            kind: "db_instance".into(),
            id: instance.into(),
            engine: None,
            account: None,
            region: None,
        },
        t(0),
    );
    f.last_seen = t(last);
    f.count = count;
    f.actor.ip = Some(ip.parse().unwrap());
    f.title = format!("brute force on {instance}");
    f
}

fn commit(s: &mut Store, f: Finding, kind: ChangeKind, added: u64, pos: u64) {
    let mut c = Commit::new(t(pos as i64));
    let source = format!("p/{}", f.resource.id);
    c.finding_changes.push(FindingChange {
        kind,
        finding: f,
        added,
    });
    c.checkpoints.push(Checkpoint {
        source,
        position: pos,
        data: Vec::new(),
    });
    s.commit(&c).unwrap();
}

fn ids_after(s: &Store, after: i64) -> Vec<(i64, String)> {
    s.changes_after(after, 100, &|_| true)
        .unwrap()
        .into_iter()
        .map(|r| (r.seq, r.finding.map(|f| f.finding.id).unwrap_or_default()))
        .collect()
}

#[test]
fn a_reader_after_a_position_sees_every_change_once_and_growth_again() {
    for b in common::backends() {
        on(b.path());
    }
}

fn on(path: &std::path::Path) {
    let mut s = Store::open(path).unwrap();
    assert_eq!(s.last_change().unwrap(), 0);
    let a = finding("db-a", "198.51.100.7", 10, 1);
    let b = finding("db-b", "198.51.100.7", 10, 1);
    commit(&mut s, a.clone(), ChangeKind::New, 10, 1);
    commit(&mut s, b.clone(), ChangeKind::New, 10, 1);
    let all = ids_after(&s, 0);
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[0].1.as_str(), all[1].1.as_str()),
        (a.id.as_str(), b.id.as_str())
    );
    let mut pos = s.last_change().unwrap();
    assert_eq!(pos, all[1].0);
    assert!(ids_after(&s, pos).is_empty());

    // db-a grows three times: one `grew` row in its history, which moves on each
    // time and is read after the position each time.
    for (n, p) in [(20, 2), (30, 3), (40, 4)] {
        commit(
            &mut s,
            finding("db-a", "198.51.100.7", n, p as i64),
            ChangeKind::Grew,
            10,
            p,
        );
        let after = ids_after(&s, pos);
        assert_eq!(after.len(), 1, "{after:?}");
        assert_eq!(after[0].1, a.id);
        assert!(after[0].0 > pos);
        pos = after[0].0;
    }
    let h = s.history(&a.id).unwrap();
    assert_eq!(
        h.iter().map(|e| e.what.as_str()).collect::<Vec<_>>(),
        ["new", "grew"]
    );
    assert_eq!(h[1].count, 40);

    // A finding's type not asked for is not read (but its row is passed).
    let skipped = s.changes_after(0, 100, &|_| false).unwrap();
    assert!(skipped.iter().all(|r| r.finding.is_none()));
    assert_eq!(skipped.len(), 3);

    // Both findings name the address; the newest first.
    let of = s
        .findings_of_actor(ActorKind::Ip, "198.51.100.7", 10)
        .unwrap();
    assert_eq!(
        of.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        [a.id.as_str(), b.id.as_str()]
    );
    assert!(s
        .findings_of_actor(ActorKind::Ip, "198.51.100.8", 10)
        .unwrap()
        .is_empty());
    assert_eq!(
        s.findings_of_actor(ActorKind::Ip, "198.51.100.7", 1)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(s.checkpoint("p/db-a").unwrap().unwrap().position, 4);
    assert!(s.checkpoint("p/none").unwrap().is_none());
}
