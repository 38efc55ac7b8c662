use super::*;
use keibi_model::{Action, Event, SourceKind};

fn t(s: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_764_000_000 + s, 0).unwrap()
}

fn event(s: i64, ip: &str, user: &str) -> Event {
    let mut e = Event::new(
        t(s),
        SourceKind::PostgresStderr,
        "postgresql.log".into(),
        s as u64 + 1,
        Action::LoginFailure,
    );
    e.client_ip = Some(ip.parse().unwrap());
    e.user = Some(user.into());
    e
}

fn db() -> Resource {
    Resource {
        kind: "db_instance".into(),
        id: "db1".into(),
        engine: Some(keibi_model::Engine::Postgres),
        ..Default::default()
    }
}

/// Raises (or grows) the finding of `key` with one event; returns its id.
fn raise(store: &mut Findings, ty: &str, key: &str, sev: f64, s: i64) -> String {
    let ip = format!("203.0.113.{}", s % 250);
    let f = store.raise(Raise {
        detector: "d",
        finding_type: ty,
        key: &["db1", key],
        severity: Severity::new(sev),
        resource: db(),
        time: t(s),
    });
    f.absorb(&event(s, &ip, "app"));
    f.id.clone()
}

const BF: &str = "CredentialAccess:RDS/BruteForce";
const RANSOM: &str = "Impact:RDS/RansomNote";

#[test]
fn a_full_store_never_drops_a_more_severe_finding_for_a_less_severe_one() {
    let mut store = Findings::with_cap(10);
    for i in 0..30 {
        raise(&mut store, BF, &format!("k{i}"), 5.0, i);
    }
    // Ten kept one by one, twenty rolled into one BruteForce roll-up.
    assert_eq!(store.len(), 11);
    assert_eq!(store.rolled_up(), 20);
    assert_eq!(store.dropped(), 0);
    // A ransom note after the flood evicts one brute force into the roll-up ...
    let ransom = raise(&mut store, RANSOM, "r", 9.5, 100);
    // ... and later less severe findings never evict it: they are rolled up.
    for i in 0..50 {
        raise(&mut store, BF, &format!("late{i}"), 3.0, 200 + i);
    }
    assert_eq!(store.dropped(), 0);
    let out = store.finish();
    assert_eq!(out.findings.len(), 11);
    let top = &out.findings[0];
    assert_eq!(
        (top.id.as_str(), top.finding_type.as_str()),
        (ransom.as_str(), RANSOM)
    );
    assert_eq!(top.count, 1);
    let kept = out.findings.iter().filter(|f| f.finding_type == BF).count();
    assert_eq!(kept, 10, "nine kept brute forces and their roll-up");
    let [r] = out.rollups.as_slice() else {
        panic!("one roll-up: {:?}", out.rollups)
    };
    assert_eq!(r.findings, 71, "20 + 1 evicted + 50 late");
    let rf = out.findings.iter().find(|f| f.id == r.id).unwrap();
    assert_eq!(rf.id, finding_id("d", BF, &[]));
    assert_eq!(rf.count, 71, "every event is counted somewhere");
    assert_eq!(rf.severity.value(), 5.0, "the most severe folded");
    assert_eq!(rf.first_seen, t(9));
    assert_eq!(rf.last_seen, t(249));
    assert_eq!(r.addresses(), 71);
    assert_eq!(rf.actor.ips.len(), 71);
    assert_eq!(rf.actor.user.as_deref(), Some("app"));
    assert_eq!(
        rf.title,
        "Password guessing on db1 from 71 addresses: 71 findings rolled into one"
    );
    assert!(
        rf.description
            .contains("71 findings of type CredentialAccess:RDS/BruteForce raised by d: 71 events"),
        "{}",
        rf.description
    );
    let total: u64 = out.findings.iter().map(|f| f.count).sum();
    assert_eq!(total, 81, "30 + 1 + 50 events, none lost");
}

#[test]
fn a_detector_holding_an_evicted_id_grows_the_roll_up_not_a_reused_slot() {
    let mut store = Findings::with_cap(2);
    let a = raise(&mut store, BF, "a", 5.0, 0);
    let b = raise(&mut store, BF, "b", 6.0, 1);
    // Evicts `a` (least severe); its slot now holds the ransom note.
    let c = raise(&mut store, RANSOM, "c", 9.5, 2);
    let e = event(3, "198.51.100.7", "app");
    store
        .get_mut(&a)
        .expect("reachable through its old id")
        .absorb(&e);
    store.get_mut(&a).unwrap().absorb(&e);
    // Raising `a`'s key again is the roll-up too, and not a new finding.
    assert_eq!(raise(&mut store, BF, "a", 5.0, 4), finding_id("d", BF, &[]));
    let out = store.finish();
    let get = |id: &str| out.findings.iter().find(|f| f.id == id).unwrap();
    assert_eq!(get(&c).count, 1, "the ransom note got nothing of a's");
    assert_eq!(get(&b).count, 1);
    assert_eq!(out.rollups[0].findings, 1);
    assert_eq!(get(&out.rollups[0].id).count, 4);
    assert!(out.findings.iter().all(|f| f.id != a));
    assert!(store_never_raised_returns_none());
}

fn store_never_raised_returns_none() -> bool {
    Findings::default().get_mut("0123").is_none()
}

#[test]
fn a_severity_changed_after_raising_moves_the_finding_in_the_eviction_order() {
    let mut store = Findings::with_cap(2);
    let high = store
        .raise(Raise {
            detector: "d",
            finding_type: BF,
            key: &["db1", "x"],
            severity: Severity::new(8.0),
            resource: db(),
            time: t(0),
        })
        .id
        .clone();
    let low = raise(&mut store, BF, "y", 4.0, 1);
    // The detector lowers the first to Low once it knows more.
    store.get_mut(&high).unwrap().severity = Severity::new(2.0);
    raise(&mut store, BF, "z", 5.0, 2);
    let out = store.finish();
    assert!(out.findings.iter().any(|f| f.id == low));
    assert!(
        out.findings.iter().all(|f| f.id != high),
        "the Low one went"
    );
    // ... and of_detector (texts at the end) is followed too.
    let mut store = Findings::with_cap(1);
    let first = raise(&mut store, BF, "a", 9.0, 0);
    for f in store.of_detector("d") {
        f.severity = Severity::new(1.0);
    }
    raise(&mut store, BF, "b", 2.0, 1);
    assert!(store.finish().findings.iter().all(|f| f.id != first));
}

#[test]
fn merged_lanes_keep_the_most_severe_and_roll_up_the_rest() {
    let lane = |ty: &str, sev: f64, n: i64, from: i64| {
        let mut store = Findings::with_cap(5);
        for i in 0..n {
            raise(&mut store, ty, &format!("{ty}{i}"), sev, from + i);
        }
        store.finish()
    };
    let a = lane(BF, 5.0, 8, 0);
    let b = lane(RANSOM, 9.5, 3, 100);
    assert_eq!((a.findings.len(), a.rollups.len()), (6, 1));
    let all = merge([a, b], 5);
    let ransoms = all
        .findings
        .iter()
        .filter(|f| f.finding_type == RANSOM)
        .count();
    assert_eq!(ransoms, 3, "every ransom note kept one by one");
    assert_eq!(all.findings.len(), 6, "five kept and one roll-up");
    assert_eq!(all.rollups.len(), 1);
    assert_eq!(
        all.rollups[0].findings, 6,
        "three rolled in the lane, three at the merge"
    );
    let r = all
        .findings
        .iter()
        .find(|f| f.id == all.rollups[0].id)
        .unwrap();
    assert_eq!(r.count, 6);
    assert_eq!(all.dropped, 0);
    let total: u64 = all.findings.iter().map(|f| f.count).sum();
    assert_eq!(total, 11);
}

#[test]
fn only_when_roll_ups_run_out_is_anything_dropped_and_counted() {
    let mut store = Findings::with_cap(1);
    for i in 0..300 {
        raise(&mut store, &format!("Sigma:test/rule{i}"), "k", 5.0, i);
    }
    // One kept, one roll-up per further type up to the bound, the rest dropped.
    assert_eq!(store.len(), 1 + MAX_ROLLUPS);
    assert_eq!(store.dropped(), 300 - 1 - MAX_ROLLUPS as u64);
    // A dropped raise still hands out something to write to, never reported.
    let out = store.finish();
    assert!(out.findings.iter().all(|f| !f.id.is_empty()));
    assert_eq!(out.findings.len(), 1 + MAX_ROLLUPS);
}
