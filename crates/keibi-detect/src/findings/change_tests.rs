//! What the store reports as changed, and what forgetting closed findings leaves.

use super::*;
use chrono::Duration;
use keibi_model::FindingChange;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_300_000, 0).unwrap()
}

/// Raises (or grows) the finding of `key` by one event at `t`.
fn hit(s: &mut Findings, detector: &str, key: &str, sev: f64, t: DateTime<Utc>) -> String {
    let f = s.raise(Raise {
        detector,
        finding_type: "T",
        key: &[key],
        severity: Severity::new(sev),
        resource: Resource::default(),
        time: t,
    });
    f.count += 1;
    f.last_seen = f.last_seen.max(t);
    f.id.clone()
}

fn kinds(c: &[FindingChange]) -> Vec<(&str, u64)> {
    let mut v: Vec<(&str, u64)> = c.iter().map(|c| (c.kind(), c.finding().count)).collect();
    v.sort();
    v
}

fn never(_: &str) -> Option<Duration> {
    None
}

#[test]
fn a_flood_reports_the_kept_findings_and_one_roll_up_that_grows() {
    let mut s = Findings::with_cap(3);
    for k in 0..6 {
        hit(&mut s, "d", &format!("k{k}"), 5.0, t0());
    }
    let c = s.changes(t0(), &never, false);
    assert_eq!(kinds(&c), [("new", 1), ("new", 1), ("new", 1), ("new", 3)]);
    let rollup = c.iter().find(|c| c.finding().count == 3).unwrap().finding();
    assert!(rollup.title.contains("rolled into one"), "{}", rollup.title);

    hit(&mut s, "d", "k9", 5.0, t0() + Duration::seconds(1));
    let c = s.changes(t0() + Duration::seconds(1), &never, false);
    assert_eq!(kinds(&c), [("grew", 4)]);
    assert!(s
        .changes(t0() + Duration::seconds(2), &never, false)
        .is_empty());

    let end = s.changes(DateTime::<Utc>::MAX_UTC, &never, false);
    assert_eq!(end.iter().filter(|c| c.kind() == "closed").count(), 4);
}

#[test]
fn a_more_severe_finding_is_reported_as_raised() {
    let mut s = Findings::default();
    let id = hit(&mut s, "d", "a", 5.0, t0());
    s.changes(t0(), &never, false);
    s.get_mut(&id).unwrap().severity = Severity::new(8.0);
    let c = s.changes(t0(), &never, false);
    match c.as_slice() {
        [change] => {
            assert_eq!(change.kind, keibi_model::ChangeKind::SeverityRaised);
            assert_eq!(change.finding.severity, Severity::new(8.0));
            assert_eq!(change.added, 0, "nothing joined it, only its severity rose");
        }
        other => panic!("{other:#?}"),
    }
}

#[test]
fn forgetting_closed_findings_keeps_the_others_reachable_by_id() {
    let quiet = |d: &str| (d == "q").then(|| Duration::minutes(1));
    let mut s = Findings::with_cap(6);
    let late = t0() + Duration::minutes(10);
    let ids: Vec<String> = [
        ("a", t0()),
        ("b", late),
        ("c", t0()),
        ("d", late),
        ("e", t0()),
    ]
    .iter()
    .map(|(k, t)| hit(&mut s, "q", k, 5.0, *t))
    .collect();
    let other = hit(&mut s, "never-quiet", "x", 5.0, t0());
    s.changes(t0(), &quiet, true);

    let c = s.changes(t0() + Duration::minutes(5), &quiet, true);
    let mut closed: Vec<&str> = c
        .iter()
        .filter(|c| c.kind() == "closed")
        .map(|c| c.finding().id.as_str())
        .collect();
    closed.sort();
    let mut want = vec![ids[0].as_str(), ids[2].as_str(), ids[4].as_str()];
    want.sort();
    assert_eq!(closed, want);
    assert_eq!(s.len(), 3, "b, d and the never-quiet one are left");
    for gone in &want {
        assert!(!s.holds(gone));
    }
    for kept in [&ids[1], &ids[3], &other] {
        assert!(s.holds(kept));
        assert_eq!(
            &s.get_mut(kept).unwrap().id,
            kept,
            "the index follows moved slots"
        );
    }
    // The eviction order still names live slots: a full store evicts correctly.
    let again = hit(&mut s, "q", "a", 5.0, t0() + Duration::minutes(6));
    assert_eq!(again, ids[0], "same key, same id");
    let c = s.changes(t0() + Duration::minutes(6), &quiet, true);
    assert_eq!(kinds(&c), [("new", 1)]);
    // Fill the store past its bound with more severe findings: every less severe
    // one must give way, which needs the eviction order to name the right slots.
    let t = t0() + Duration::minutes(7);
    let more: Vec<String> = (0..6)
        .map(|k| hit(&mut s, "z", &format!("m{k}"), 6.0, t))
        .collect();
    for id in &more {
        assert!(s.holds(id), "a more severe finding is kept");
        assert_eq!(&s.get_mut(id).unwrap().id, id);
    }
    for id in [&ids[0], &ids[1], &ids[3], &other] {
        assert!(!s.holds(id), "a less severe one is rolled up");
    }
    let sorted = std::mem::take(&mut s).into_sorted();
    assert_eq!(
        sorted.len(),
        8,
        "six kept and two roll-ups (q/T and never-quiet/T)"
    );
}
