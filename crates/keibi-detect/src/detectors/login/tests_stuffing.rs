//! CredentialStuffing on realistic log text: a campaign from many networks fires; a
//! fleet with a stale password does not.

use keibi_model::{Event, Finding};

use super::stuffing::{StuffingDetector, STUFFING};
use super::testlog::{detect, evs, lists, of, types, Log};
use crate::config::Config;
use crate::detector::{Context, Detector};
use crate::findings::Findings;
use crate::iplist::ThreatLists;

fn stuffing(c: &Config) -> StuffingDetector {
    StuffingDetector::new(&c.login)
}

fn scan(evs: &[Event]) -> Vec<Finding> {
    detect(stuffing, Config::default(), ThreatLists::default(), evs)
}

/// Addresses of a botnet: each in its own network all over the Internet.
fn bot(i: usize) -> String {
    format!(
        "{}.{}.{}.{}",
        31 + i * 5 % 190,
        17 + i * 7 % 200,
        i * 13 % 250,
        10 + i % 200
    )
}

#[test]
fn many_networks_guessing_one_user_is_stuffing() {
    let mut log = Log::default();
    // 40 addresses, two tries each, spread over 40 minutes: no single address is a
    // brute force.
    for round in 0..2 {
        for i in 0..40 {
            log.pg_fail(
                round * 1200 + i as i64 * 30,
                &bot(i),
                "postgres",
                "postgres",
            );
        }
    }
    let fs = scan(&evs("pg.log", &log.text));
    let st = of(&fs, STUFFING);
    assert_eq!(st.len(), 1, "{:?}", types(&fs));
    let f = st[0];
    assert_eq!(f.count, 80);
    assert_eq!(f.severity.value(), 6.0);
    assert_eq!(f.actor.ips.len(), 40);
    assert_eq!(f.actor.user.as_deref(), Some("postgres"));
    assert_eq!(f.mitre, ["T1110.004"]);
    assert!(
        f.title
            .contains("80 failed logins from 40 addresses as postgres"),
        "{}",
        f.title
    );
    for want in [
        "40 addresses in 40 networks",
        "None of the failing addresses has logged in",
    ] {
        assert!(
            f.description.contains(want),
            "{want:?} not in {}",
            f.description
        );
    }
    assert!(
        f.remediation.contains("Change the password of postgres"),
        "{}",
        f.remediation
    );
}

#[test]
fn a_login_from_a_guessing_address_makes_it_high() {
    let mut log = Log::default();
    for i in 0..12 {
        log.my_fail(i as i64 * 10, &bot(i), "admin");
    }
    log.my_ok(200, &bot(7), "admin", "shop");
    // A login as admin from elsewhere (the DBA) is not the campaign's.
    log.my_ok(210, "10.0.5.5", "admin", "shop");
    let fs = scan(&evs("audit.log", &log.text));
    let st = of(&fs, STUFFING);
    assert_eq!(st.len(), 1, "{:?}", types(&fs));
    assert_eq!(st[0].severity.value(), 8.0);
    assert!(
        st[0].description.contains(&format!(
            "Then {}, one of the failing addresses, logged in successfully as admin",
            bot(7)
        )),
        "{}",
        st[0].description
    );
    assert!(!st[0].description.contains("2 such logins"));
}

#[test]
fn a_fleet_with_a_stale_password_is_not_stuffing() {
    let mut log = Log::default();
    // 30 application servers in one VPC (three /24 subnets) retry after a rotation.
    for round in 0..10 {
        for i in 0..30 {
            let ip = format!("10.0.{}.{}", 1 + i % 3, 10 + i);
            log.pg_fail(round * 30 + i as i64, &ip, "app", "shop");
        }
    }
    // A handful of public addresses in one /24 (a NAT gateway pool) too.
    for i in 0..8 {
        log.pg_fail(
            400 + i,
            &format!("198.51.100.{}", 10 + i),
            "reporting",
            "dw",
        );
    }
    let fs = scan(&evs("pg.log", &log.text));
    assert!(fs.is_empty(), "{:?}", types(&fs));
}

#[test]
fn trusted_addresses_do_not_count() {
    let mut log = Log::default();
    for i in 0..20 {
        log.pg_fail(i as i64, &bot(i), "postgres", "postgres");
    }
    let mut trusted = String::new();
    for i in 0..15 {
        trusted.push_str(&format!("{}\n", bot(i)));
    }
    let fs = detect(
        stuffing,
        Config::default(),
        lists("", "", &trusted),
        &evs("pg.log", &log.text),
    );
    assert!(
        fs.is_empty(),
        "5 untrusted addresses are too few: {:?}",
        types(&fs)
    );
}

#[test]
fn memory_stays_bounded_under_a_million_user_names() {
    let mut c = Config::default();
    c.login.max_tracked_users = 500;
    let mut d = StuffingDetector::new(&c.login);
    let template = evs(
        "pg.log",
        &Log::default()
            .pg_fail(0, "203.0.113.9", "postgres", "postgres")
            .text,
    )
    .remove(1);
    let lists = ThreatLists::default();
    let mut findings = Findings::default();
    let mut cx = Context {
        config: &c,
        lists: &lists,
        services: &crate::Services::default(),
        findings: &mut findings,
        enriched: Default::default(),
        instances: &Default::default(),
    };
    for i in 0..1_000_000u32 {
        let mut e = template.clone();
        e.user = Some(format!("user{i}").into());
        e.client_ip = Some(std::net::IpAddr::from(
            i.wrapping_mul(2_654_435_761).to_be_bytes(),
        ));
        e.pid = Some(i);
        d.observe(&e, &mut cx);
    }
    assert!(d.tracked() <= 500);
    d.finish(&mut cx);
    assert!(findings.is_empty());
}
