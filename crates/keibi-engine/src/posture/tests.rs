//! The scheduled audit's store rules on a real store, with hand-made controls and
//! outcomes (the catalog's controls are the checks' own business).

use super::*;
use keibi_model::Resource;
use keibi_posture::aws::Inventory;
use keibi_posture::report::Suppress;
use keibi_posture::Control;
use keibi_store::{OutboxKind, Store};

static PUBLIC: Control = Control {
    id: "RDS.2",
    short: "PubliclyAccessible",
    severity: 9.0,
    resource_kind: "db_instance",
    mitre: &[],
    aws_control: true,
    msg: "posture-test-public",
};
static TRAIL: Control = Control {
    id: "CloudTrail.1",
    short: "MultiRegionTrail",
    severity: 7.0,
    resource_kind: "aws_account",
    mitre: &[],
    aws_control: true,
    msg: "posture-test-trail",
};

fn res(kind: &str, id: &str) -> Resource {
    Resource {
        kind: kind.into(),
        id: id.into(),
        engine: None,
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
    }
}

/// An inventory that listed instances (and nothing else).
fn listed() -> Snapshot {
    Snapshot {
        aws: vec![Inventory {
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            db_instances: Some(vec![]),
            ..Inventory::default()
        }],
        ..Snapshot::default()
    }
}

fn at(min: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + min * 60, 0).unwrap()
}

fn round(store: &mut Store, snap: &Snapshot, outcomes: Vec<Outcome>, t: i64) -> AuditRound {
    apply(store, snap, &Report::new(outcomes, at(t))).unwrap()
}

fn resolved_entries(store: &Store) -> usize {
    store
        .outbox(0, 1000)
        .unwrap()
        .iter()
        .filter(|e| e.kind == OutboxKind::Resolved)
        .count()
}

#[test]
fn a_failure_is_stored_once_resolved_when_it_passes_and_reopened_when_it_fails_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("k.db")).unwrap();
    let snap = listed();
    let fail = || Outcome::failed(&PUBLIC, res("db_instance", "prod-db"));
    let pass = || Outcome::passed(&PUBLIC, res("db_instance", "prod-db"));
    let id = fail().finding_id();

    let r = round(&mut store, &snap, vec![fail()], 0);
    assert_eq!((r.new, r.checks_failed), (1, 1));
    let s = store.finding(&id).unwrap();
    assert_eq!((s.status, s.finding.count), (Status::New, 1));
    assert_eq!(s.finding.finding_type, "Posture:RDS.2/PubliclyAccessible");
    assert_eq!(s.finding.detector, "posture");

    // The same failure again: not counted, not announced, last seen moves on.
    let entries = store.outbox(0, 1000).unwrap().len();
    let r = round(&mut store, &snap, vec![fail()], 10);
    assert_eq!(r.new, 0);
    let s = store.finding(&id).unwrap();
    assert_eq!((s.status, s.finding.count), (Status::New, 1));
    assert_eq!(s.finding.last_seen, at(10));
    assert_eq!(store.outbox(0, 1000).unwrap().len(), entries);

    // It passes: resolved by keibi audit, with a resolved notice.
    let r = round(&mut store, &snap, vec![pass()], 20);
    assert_eq!(r.resolved, vec![(id.clone(), Resolution::Passed)]);
    let s = store.finding(&id).unwrap();
    assert_eq!(s.status, Status::Resolved);
    assert_eq!(s.status_by.as_deref(), Some(RESOLVED_BY));
    assert_eq!(s.status_note.as_deref(), Some("the check passes now"));
    assert_eq!(resolved_entries(&store), 1);
    // Passing again changes nothing.
    let r = round(&mut store, &snap, vec![pass()], 25);
    assert!(r.resolved.is_empty());
    assert_eq!(resolved_entries(&store), 1);

    // It fails again: reopened, announced.
    let r = round(&mut store, &snap, vec![fail()], 30);
    assert_eq!(r.reopened, 1);
    let s = store.finding(&id).unwrap();
    assert_eq!(s.status, Status::New);
    let history: Vec<String> = store
        .history(&id)
        .unwrap()
        .into_iter()
        .map(|h| h.what)
        .collect();
    assert_eq!(
        history,
        ["new", "resolved", "grew", "reopened"],
        "{history:?}"
    );
    let kinds: Vec<OutboxKind> = store
        .outbox(0, 1000)
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [OutboxKind::New, OutboxKind::Resolved, OutboxKind::Reopened]
    );
}

#[test]
fn a_gone_resource_is_resolved_and_an_unevaluated_check_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("k.db")).unwrap();
    let snap = listed();
    let db = Outcome::failed(&PUBLIC, res("db_instance", "old-db"));
    let trail = Outcome::failed(&TRAIL, res("aws_account", "123456789012"));
    let (db_id, trail_id) = (db.finding_id(), trail.finding_id());
    round(&mut store, &snap, vec![db, trail], 0);

    // The next inventory listed instances, not old-db; trails were not read, and
    // CloudTrail.1 was not evaluated.
    let other = Outcome::passed(&PUBLIC, res("db_instance", "new-db"));
    let r = round(&mut store, &snap, vec![other], 10);
    assert_eq!(r.resolved, vec![(db_id.clone(), Resolution::Gone)]);
    assert_eq!(store.finding(&db_id).unwrap().status, Status::Resolved);
    assert_eq!(store.finding(&trail_id).unwrap().status, Status::New);

    // Instances not listed at all (a denied call): nothing is judged gone.
    let again = Outcome::failed(&PUBLIC, res("db_instance", "old-db"));
    round(&mut store, &snap, vec![again], 20);
    assert_eq!(store.finding(&db_id).unwrap().status, Status::New);
    let r = round(&mut store, &Snapshot::default(), vec![], 30);
    assert!(r.resolved.is_empty());
    assert_eq!(store.finding(&db_id).unwrap().status, Status::New);
}

#[test]
fn a_failure_the_settings_now_suppress_is_resolved_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("k.db")).unwrap();
    let snap = listed();
    let fail = || Outcome::failed(&PUBLIC, res("db_instance", "dev-db"));
    let id = fail().finding_id();
    round(&mut store, &snap, vec![fail()], 0);
    let mut report = Report::new(vec![fail()], at(10));
    report.suppress(&[Suppress {
        control: "RDS.2".into(),
        resource: Some("dev-*".into()),
        reason: "no data in it".into(),
    }]);
    let r = apply(&mut store, &snap, &report).unwrap();
    assert_eq!(r.checks_suppressed, 1);
    assert_eq!(
        r.resolved,
        vec![(id.clone(), Resolution::Suppressed("no data in it".into()))]
    );
    let s = store.finding(&id).unwrap();
    assert_eq!(s.status, Status::Resolved);
    assert_eq!(
        s.status_note.as_deref(),
        Some("suppressed in the settings: no data in it")
    );
}

#[test]
fn a_person_acknowledging_or_a_store_rule_suppressing_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("k.db")).unwrap();
    let snap = listed();
    let fail = || Outcome::failed(&PUBLIC, res("db_instance", "prod-db"));
    let id = fail().finding_id();
    round(&mut store, &snap, vec![fail()], 0);
    store
        .set_status(
            &id,
            &StatusChange {
                transition: Transition::Acknowledge,
                at: at(1),
                by: Some("alice".into()),
                note: None,
            },
        )
        .unwrap();
    round(&mut store, &snap, vec![fail()], 10);
    let s = store.finding(&id).unwrap();
    assert_eq!(
        (s.status, s.status_by.as_deref()),
        (Status::Acknowledged, Some("alice"))
    );
    assert_eq!(s.finding.count, 1);
}

#[test]
fn a_kill_between_the_commit_and_the_resolutions_is_repaired_by_the_next_round() {
    // The same round applied twice stands for a round cut short and run again.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let snap = listed();
    let a = || Outcome::failed(&PUBLIC, res("db_instance", "a"));
    let b_pass = || Outcome::passed(&PUBLIC, res("db_instance", "b"));
    let b_fail = || Outcome::failed(&PUBLIC, res("db_instance", "b"));
    {
        let mut store = Store::open(&path).unwrap();
        round(&mut store, &snap, vec![a(), b_fail()], 0);
    }
    for t in [10, 11] {
        let mut store = Store::open(&path).unwrap();
        round(&mut store, &snap, vec![a(), b_pass()], t);
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.finding(&a().finding_id()).unwrap().finding.count, 1);
    assert_eq!(
        store.finding(&b_pass().finding_id()).unwrap().status,
        Status::Resolved
    );
    assert_eq!(resolved_entries(&store), 1);
}
