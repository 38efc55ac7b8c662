//! Threat-listed and Tor addresses: logins, failures and probes.

use keibi_model::{Event, Finding};

use super::reputation::*;
use super::testlog::{at, detect, evs, lists, of, types, Log};
use crate::config::Config;
use crate::detector::{Context, Detector};
use crate::findings::Findings;
use crate::iplist::ThreatLists;

const TOR_EXIT: &str = "185.220.101.4";
const BAD: &str = "45.155.205.233";
const BOTH: &str = "185.220.101.9";

const TOR_LIST: &str = "\
ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E
Published 2026-11-28 08:11:36
LastStatus 2026-11-28 09:00:00
ExitAddress 185.220.101.4 2026-11-28 09:02:17
ExitNode 0091174DE56EADE5Ec8C1F8E4D1F5A6DF3F1E2D3
Published 2026-11-28 07:51:02
LastStatus 2026-11-28 09:00:00
ExitAddress 185.220.101.9 2026-11-28 09:12:40
";

fn reputation(c: &Config) -> ReputationDetector {
    ReputationDetector::new(&c.login)
}

fn threat_lists() -> ThreatLists {
    lists(&format!("# feed\n{BAD}\n{BOTH}\n"), TOR_LIST, "")
}

fn scan(evs: &[Event]) -> Vec<Finding> {
    detect(reputation, Config::default(), threat_lists(), evs)
}

#[test]
fn tor_login_is_high_and_names_the_list() {
    let mut log = Log::default();
    // psql: a first connection that only learns a password is needed, then the login.
    log.pg_connect_only(0, TOR_EXIT)
        .pg_ok(3, TOR_EXIT, "app", "shop");
    log.pg_ok(5, "10.0.1.11", "app", "shop");
    let fs = scan(&evs("pg.log", &log.text));
    assert_eq!(
        fs.len(),
        1,
        "no Discovery for psql's first connection: {:?}",
        types(&fs)
    );
    let f = &fs[0];
    assert_eq!(f.finding_type, TOR_SUCCESS);
    assert_eq!(f.severity.value(), 8.0);
    assert_eq!(f.mitre, ["T1078", "T1090.003"]);
    assert!(
        f.title.contains("Tor exit node 185.220.101.4") && f.title.contains("app"),
        "{}",
        f.title
    );
    assert!(
        f.description.contains("Tor exit list 'tor-exits.txt'"),
        "{}",
        f.description
    );
    assert!(f.remediation.contains("change it now"), "{}", f.remediation);
}

#[test]
fn failures_from_a_threat_listed_address_aggregate() {
    let mut log = Log::default();
    for i in 0..5 {
        log.my_fail(i * 7, BAD, "root");
    }
    log.my_fail(40, "10.0.1.11", "app");
    let fs = scan(&evs("audit.log", &log.text));
    assert_eq!(fs.len(), 1, "{:?}", types(&fs));
    let f = &fs[0];
    assert_eq!(f.finding_type, MALICIOUS_FAILED);
    assert_eq!((f.count, f.severity.value()), (5, 5.0));
    assert_eq!(f.mitre, ["T1110"]);
    for want in [
        "failed to log in to db1 5 times",
        "threat list 'threat.txt'",
        "never logged in",
    ] {
        assert!(
            f.description.contains(want),
            "{want:?} not in {}",
            f.description
        );
    }
}

#[test]
fn an_address_on_both_lists_raises_the_tor_type_and_names_both() {
    let mut log = Log::default();
    log.pg_fail(0, BOTH, "postgres", "postgres")
        .pg_ok(10, BOTH, "postgres", "postgres");
    let fs = scan(&evs("pg.log", &log.text));
    let mut t = types(&fs);
    t.sort();
    assert_eq!(fs.len(), 2, "{t:?}");
    assert!(of(&fs, MALICIOUS_FAILED).is_empty() && of(&fs, MALICIOUS_SUCCESS).is_empty());
    let ok = of(&fs, TOR_SUCCESS)[0];
    assert!(
        ok.description
            .contains("'tor-exits.txt' (and on the threat list 'threat.txt')"),
        "{}",
        ok.description
    );
    assert!(
        ok.description.contains("also failed to log in"),
        "{}",
        ok.description
    );
    let failed = of(&fs, TOR_FAILED)[0];
    assert!(
        failed.description.contains("also logged in successfully"),
        "{}",
        failed.description
    );
}

#[test]
fn connections_that_never_log_in_are_discovery() {
    let mut log = Log::default();
    // A scanner: incomplete startup packets and connections it drops after the
    // authentication request, over ten minutes, from a threat-listed address.
    for i in 0..6 {
        log.pg_probe(i * 100, BAD).pg_connect_only(i * 100 + 1, BAD);
    }
    // The same from an unlisted address raises nothing.
    log.pg_probe(5, "198.51.100.77");
    let fs = scan(&evs("pg.log", &log.text));
    assert_eq!(fs.len(), 1, "{:?}", types(&fs));
    let f = &fs[0];
    assert_eq!(f.finding_type, MALICIOUS_PROBE);
    assert_eq!((f.count, f.severity.value()), (12, 5.0));
    assert_eq!(f.mitre, ["T1046"]);
    assert!(
        f.description.contains("12 connections") && f.description.contains("never tried to log in"),
        "{}",
        f.description
    );

    // MariaDB: connections dropped before authenticating, from a Tor exit.
    let mut my = Log::default();
    my.my_probe(0, TOR_EXIT).my_probe(1, TOR_EXIT);
    let fs = scan(&evs("audit.log", &my.text));
    assert_eq!(of(&fs, TOR_PROBE).len(), 1, "{:?}", types(&fs));
    assert_eq!(of(&fs, TOR_PROBE)[0].mitre, ["T1046", "T1090.003"]);
}

#[test]
fn a_probe_long_before_a_login_attempt_is_still_a_probe() {
    let mut log = Log::default();
    log.pg_probe(0, BAD);
    log.pg_fail(3600, BAD, "postgres", "postgres");
    let fs = scan(&evs("pg.log", &log.text));
    assert_eq!(of(&fs, MALICIOUS_PROBE).len(), 1, "{:?}", types(&fs));
    assert_eq!(of(&fs, MALICIOUS_PROBE)[0].last_seen, at(0));
    assert_eq!(of(&fs, MALICIOUS_FAILED).len(), 1);
    // Probes interleaved with login attempts (hydra's MySQL module) are part of them.
    let mut my = Log::default();
    for i in 0..4 {
        my.my_probe(i, BAD).my_fail(i, BAD, "app");
    }
    let fs = scan(&evs("audit.log", &my.text));
    assert!(of(&fs, MALICIOUS_PROBE).is_empty(), "{:?}", types(&fs));
}

#[test]
fn trusted_wins_over_the_threat_and_tor_lists() {
    let mut log = Log::default();
    log.pg_ok(0, TOR_EXIT, "app", "shop")
        .pg_fail(1, BAD, "app", "shop")
        .pg_probe(2, BOTH);
    let l = lists(
        &format!("{BAD}\n{BOTH}\n"),
        TOR_LIST,
        "185.220.101.0/24\n45.155.205.233\n",
    );
    let fs = detect(reputation, Config::default(), l, &evs("pg.log", &log.text));
    assert!(fs.is_empty(), "{:?}", types(&fs));
}

#[test]
fn pending_probes_stay_bounded_and_each_is_decided() {
    let mut c = Config::default();
    c.login.max_tracked_sources = 100;
    let mut d = ReputationDetector::new(&c.login);
    let lists = lists("100.64.0.0/10\n", "", "");
    let template = evs("pg.log", &Log::default().pg_probe(0, "100.64.0.1").text).remove(1);
    assert_eq!(template.action, keibi_model::Action::Probe);
    let mut findings = Findings::default();
    let mut cx = Context {
        config: &c,
        lists: &lists,
        services: &crate::Services::default(),
        findings: &mut findings,
        enriched: Default::default(),
        instances: &Default::default(),
    };
    for i in 0..5000u32 {
        let mut e = template.clone();
        e.client_ip = Some(std::net::IpAddr::from((0x6440_0000 | i).to_be_bytes()));
        e.pid = Some(i);
        d.observe(&e, &mut cx);
        assert!(d.tracked() <= 100);
    }
    d.finish(&mut cx);
    assert_eq!(
        findings.len(),
        5000,
        "every probing address is reported once"
    );
}
