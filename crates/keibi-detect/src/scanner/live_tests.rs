//! A scanner fed batch by batch, as a daemon feeds it: windows close by event time,
//! texts are right mid-stream, and the changes tell what happened when.

use super::*;
use crate::iplist::ThreatLists;
use crate::sigma::RuleSet;
use crate::testutil::events;

const BF: &str = "CredentialAccess:RDS/BruteForce";

/// `n` failed logins from `ip` on the instance's log, one a second from `start`
/// (`HH:MM:SS`, under an hour of seconds).
fn failures(ip: &str, start_min: u32, n: u32) -> String {
    let mut s = String::new();
    for i in 0..n {
        let t = start_min * 60 + i;
        s.push_str(&format!(
            "2026-11-28 03:{:02}:{:02} UTC:{ip}(4{i:04}):app@shop:[{}]:FATAL:  password authentication failed for user \"app\"\n",
            t / 60,
            t % 60,
            100 + i
        ));
    }
    s
}

fn scanner(config: &Config) -> Scanner {
    Scanner::new(
        config.clone(),
        ThreatLists::default(),
        RuleSet::builtin().compile(config),
    )
}

fn of_type<'c>(changes: &'c [FindingChange], t: &str) -> Vec<&'c FindingChange> {
    changes
        .iter()
        .filter(|c| c.finding().finding_type == t)
        .collect()
}

/// One event on another instance, at 05:00: nothing to do with the brute force on
/// db1, but event time moves two hours on.
fn later_elsewhere() -> Vec<Event> {
    events(
        "postgresql.log",
        "db2",
        "2026-11-28 05:00:00 UTC:198.51.100.4(40000):[unknown]@[unknown]:[900]:LOG:  connection received: host=198.51.100.4 port=40000\n",
    )
}

#[test]
fn a_brute_force_is_new_then_grows_then_closes_before_the_input_ends() {
    let config = Config::default();
    let mut s = scanner(&config);
    let first = events("postgresql.log", "db1", &failures("203.0.113.9", 0, 25));
    let second = events("postgresql.log", "db1", &failures("203.0.113.9", 1, 10));

    let c1 = s.observe_batch(&first);
    let bf = of_type(&c1, BF);
    assert_eq!(bf.len(), 1, "{c1:#?}");
    assert_eq!(bf[0].kind(), "new");
    let id = bf[0].finding().id.clone();
    assert!(
        bf[0].finding().title.contains("203.0.113.9"),
        "rendered: {:?}",
        bf[0].finding().title
    );

    let c2 = s.observe_batch(&second);
    let bf = of_type(&c2, BF);
    assert_eq!(bf.len(), 1, "{c2:#?}");
    let grew = bf[0];
    assert_eq!(grew.kind, keibi_model::ChangeKind::Grew, "{grew:#?}");
    assert_eq!(grew.finding.id, id);
    assert!(grew.added > 0, "{grew:#?}");
    assert_eq!(
        grew.finding.count - grew.added,
        c1.iter()
            .find(|c| c.finding.id == id)
            .map_or(0, |c| c.finding.count),
        "added is what joined since the previous change"
    );
    let mid_title = bf[0].finding().title.clone();
    let mid_description = bf[0].finding().description.clone();

    // A batch that does not touch it: no change, and still open (its window is not over).
    let quiet = events("postgresql.log", "db1", "2026-11-28 03:20:00 UTC:10.1.1.1(40000):app@shop:[901]:LOG:  connection received: host=10.1.1.1 port=40000\n");
    let c3 = s.observe_batch(&quiet);
    assert!(of_type(&c3, BF).is_empty(), "{c3:#?}");

    // Two hours later (event time): the window has ended, long before the input does.
    let c4 = s.observe_batch(&later_elsewhere());
    let bf = of_type(&c4, BF);
    assert_eq!(bf.len(), 1, "{c4:#?}");
    assert_eq!(bf[0].kind(), "closed");
    assert_eq!(bf[0].finding().id, id);
    // Rendered again as it closes: its log went on (to 03:20) without it.
    let closed_description = bf[0].finding().description.clone();
    assert_ne!(closed_description, mid_description);
    assert!(
        closed_description.contains("before the logs of this instance end (03:20:00)"),
        "{closed_description}"
    );

    // Nothing more happened to it: the texts at the end are those it closed with, the
    // title the mid-stream one.
    let report = s.finish();
    let end = report
        .findings
        .iter()
        .find(|f| f.id == id)
        .expect("kept until the end");
    assert_eq!(end.title, mid_title);
    assert_eq!(end.description, closed_description);
}

#[test]
fn a_closed_finding_forgotten_is_raised_again_with_the_same_id() {
    let config = Config::default();
    let mut s = scanner(&config).forget_closed(true);
    let c1 = s.observe_batch(&events(
        "postgresql.log",
        "db1",
        &failures("203.0.113.9", 0, 25),
    ));
    let id = of_type(&c1, BF)[0].finding().id.clone();
    let held = s.findings().len();
    let c2 = s.observe_batch(&later_elsewhere());
    assert_eq!(of_type(&c2, BF)[0].kind(), "closed");
    assert!(s.findings().len() < held, "{} < {held}", s.findings().len());
    assert!(!s.findings().holds(&id), "a closed finding leaves memory");

    let again = failures("203.0.113.9", 0, 25).replace("03:", "06:");
    let c3 = s.observe_batch(&events("postgresql.log", "db1", &again));
    let bf = of_type(&c3, BF);
    assert_eq!(bf.len(), 1, "{c3:#?}");
    assert_eq!(bf[0].kind(), "new");
    assert_eq!(
        bf[0].finding().id,
        id,
        "same key, same id: the store aggregates"
    );
}

/// The log of the scanner's own tests: a brute force that succeeds and an
/// escalation, with trusted traffic beside it.
fn mixed() -> Vec<Event> {
    let mut s = failures("203.0.113.9", 0, 25);
    s.push_str("2026-11-28 03:01:00 UTC:203.0.113.9(50000):app@shop:[200]:LOG:  connection authorized: user=app database=shop\n");
    s.push_str("2026-11-28 03:01:05 UTC:203.0.113.9(50000):app@shop:[200]:LOG:  AUDIT: SESSION,1,1,ROLE,ALTER ROLE,,,ALTER ROLE app SUPERUSER,<not logged>\n");
    s.push_str("2026-11-28 03:02:00 UTC:10.0.0.5(50001):app@shop:[201]:FATAL:  password authentication failed for user \"app\"\n");
    events("postgresql.log", "db1", &s)
}

/// The last snapshot of each finding in a list of changes, sorted as a scan sorts.
fn last_snapshots(changes: impl IntoIterator<Item = FindingChange>) -> Vec<Finding> {
    let mut by_id: HashMap<String, Finding> = HashMap::new();
    for c in changes {
        let f = c.finding().clone();
        by_id.insert(f.id.clone(), f);
    }
    let mut all: Vec<Finding> = by_id.into_values().collect();
    crate::findings::sort(&mut all);
    all
}

#[test]
fn fed_in_batches_the_last_changes_are_what_a_scan_reports() {
    let config = Config::default();
    let evs = mixed();
    let mut one = scanner(&config);
    for e in &evs {
        one.observe(e);
    }
    let scan = one.finish();
    assert!(scan.findings.len() >= 3, "{:#?}", scan.findings);

    for size in [1, 4, 7, 1000] {
        let mut live = scanner(&config);
        let mut changes = Vec::new();
        for batch in evs.chunks(size) {
            changes.extend(live.observe_batch(batch));
        }
        let end = live.advance(DateTime::<Utc>::MAX_UTC);
        assert!(end.iter().all(|c| c.kind() != "new"), "{end:#?}");
        let closed = end.iter().filter(|c| c.kind() == "closed").count();
        changes.extend(end);
        let got = last_snapshots(changes);
        assert_eq!(closed, got.len(), "every finding closes at the end");
        assert_eq!(
            serde_json::to_value(&got).unwrap(),
            serde_json::to_value(&scan.findings).unwrap(),
            "batches of {size}"
        );
    }
}

#[test]
fn lanes_report_the_changes_one_scanner_reports() {
    let config = Config::default();
    let evs = mixed();
    let mut one = scanner(&config);
    let mut lanes = scanner(&config).into_lanes();
    assert_eq!(lanes.len(), 2);
    for batch in evs.chunks(5) {
        let mut want: Vec<(String, &str)> = one
            .observe_batch(batch)
            .iter()
            .map(|c| (c.finding().id.clone(), c.kind()))
            .collect();
        let mut got: Vec<(String, &str)> = lanes
            .iter_mut()
            .flat_map(|l| l.observe_batch(batch))
            .map(|c| (c.finding().id.clone(), c.kind()))
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
    }
}

#[test]
fn lists_swapped_between_batches_judge_the_next_events() {
    let config = Config::default();
    let mut s = scanner(&config);
    let fail = |sec: u32| {
        events(
            "postgresql.log",
            "db1",
            &format!("2026-11-28 03:00:{sec:02} UTC:185.220.101.7(40000):app@shop:[9{sec:02}]:FATAL:  password authentication failed for user \"app\"\n"),
        )
    };
    const TOR_FAILED: &str = "CredentialAccess:RDS/TorIPCaller.FailedLogin";
    let c1 = s.observe_batch(&fail(1));
    assert!(of_type(&c1, TOR_FAILED).is_empty(), "{c1:#?}");
    // A reload: the same profiles, a new Tor exit list.
    let tor = crate::iplist::IpList::parse("tor-exits", b"185.220.101.7\n").unwrap();
    let services = Services {
        lists: std::sync::Arc::new(ThreatLists {
            tor: crate::iplist::IpSet::new(vec![tor]),
            ..ThreatLists::default()
        }),
        ..s.services().clone()
    };
    s.set_services(services);
    let c2 = s.observe_batch(&fail(2));
    let tor = of_type(&c2, TOR_FAILED);
    assert_eq!(tor.len(), 1, "{c2:#?}");
    assert_eq!(tor[0].kind(), "new");
    assert_eq!(tor[0].finding().count, 1, "judged from the swap on");
}

#[test]
fn config_is_plain_comparable_data() {
    let a = Config::from_yaml("login:\n  brute_force_failures: 30\n").unwrap();
    let b = Config::from_yaml("login:\n  brute_force_failures: 30\n").unwrap();
    assert_eq!(a, b);
    assert_ne!(a, Config::default(), "a reload can tell what changed");
}

/// A detector that forgets the trust rule: it raises on every failed login.
struct Forgetful {
    sees_trusted: bool,
    seen: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Detector for Forgetful {
    fn id(&self) -> &'static str {
        "forgetful"
    }

    fn catalog(&self) -> Vec<crate::catalog::Entry> {
        Vec::new()
    }

    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>) {
        self.seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if ev.action == Action::LoginFailure {
            let ip = ev.client_ip.map(|i| i.to_string()).unwrap_or_default();
            cx.findings
                .raise(crate::findings::Raise {
                    detector: "forgetful",
                    finding_type: "Test:RDS/AnyFailure",
                    key: &[&ip],
                    severity: keibi_model::Severity::new(5.0),
                    resource: crate::db_resource(ev),
                    time: ev.time,
                })
                .absorb(ev);
        }
    }

    fn sees_trusted_logins(&self) -> bool {
        self.sees_trusted
    }
}

#[test]
fn trust_is_enforced_by_the_scanner_a_detector_that_forgets_cannot_raise() {
    let mut log = failures("10.0.0.5", 0, 3);
    log.push_str(&failures("203.0.113.9", 1, 2));
    let evs = events("postgresql.log", "db1", &log);
    let lists = || ThreatLists {
        trusted: crate::iplist::IpSet::new(vec![crate::iplist::IpList::parse(
            "office",
            b"10.0.0.0/8\n",
        )
        .unwrap()]),
        ..ThreatLists::default()
    };
    let run = |sees_trusted: bool| {
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let d = Forgetful {
            sees_trusted,
            seen: seen.clone(),
        };
        let mut s = Scanner::with_detectors(Config::default(), lists(), vec![Box::new(d)]);
        let changes = s.observe_batch(&evs);
        let report = s.finish();
        (
            changes,
            report,
            seen.load(std::sync::atomic::Ordering::Relaxed),
        )
    };
    let (changes, report, seen) = run(false);
    let ips: Vec<String> = report
        .findings
        .iter()
        .map(|f| f.actor.ip.map(|i| i.to_string()).unwrap_or_default())
        .collect();
    assert_eq!(ips, ["203.0.113.9"], "the trusted address raised nothing");
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(seen, 2, "the trusted failures never reached it");
    assert_eq!(report.trusted_events, 3, "counted once, by the scanner");

    // A detector that asks for them sees them (and answers for what it raises).
    let (_, report, seen) = run(true);
    assert_eq!(seen, 5);
    assert_eq!(report.findings.len(), 2);
    assert_eq!(report.trusted_events, 3);
}
