//! Login baselines on real RDS PostgreSQL log text: maturity, each factor, the exact
//! explanations, severities, benign novelty, failed-login volume and persistence.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use keibi_model::{Finding, SeverityLabel};

use super::*;
use crate::config::Config;
use crate::iplist::ThreatLists;
use crate::testutil::{events, of_type, run};

/// RDS PostgreSQL stderr lines (`%t:%r:%u@%d:[%p]:`), as the server writes them.
#[derive(Default)]
pub(super) struct Pg {
    pub lines: Vec<(DateTime<Utc>, String)>,
    pid: u32,
}

/// Monday 2026-11-02 00:00 UTC plus `day` days, `h` hours and `m` minutes.
pub(super) fn at(day: i64, h: i64, m: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap()
        + Duration::days(day)
        + Duration::hours(h)
        + Duration::minutes(m)
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

impl Pg {
    fn push(&mut self, t: DateTime<Utc>, line: String) {
        self.lines.push((t, line));
    }

    /// A successful login: connection received, authenticated, authorized.
    pub fn login(&mut self, t: DateTime<Utc>, ip: &str, user: &str, app: &str, tls: bool) {
        self.pid += 1;
        let (pid, ts) = (self.pid + 4000, stamp(t));
        let port = 40000 + self.pid % 20000;
        let host = format!("{ip}({port})");
        self.push(t, format!("{ts}:{host}:[unknown]@[unknown]:[{pid}]:LOG:  connection received: host={ip} port={port}"));
        self.push(t, format!("{ts}:{host}:{user}@shop:[{pid}]:LOG:  connection authenticated: identity=\"{user}\" method=scram-sha-256 (/rdsdbdata/config/pg_hba.conf:13)"));
        let ssl = if tls {
            " SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)"
        } else {
            ""
        };
        let app = if app.is_empty() {
            String::new()
        } else {
            format!(" application_name={app}")
        };
        self.push(t, format!("{ts}:{host}:{user}@shop:[{pid}]:LOG:  connection authorized: user={user} database=shop{app}{ssl}"));
    }

    /// A failed login (wrong password).
    pub fn fail(&mut self, t: DateTime<Utc>, ip: &str, user: &str) {
        self.pid += 1;
        let (pid, ts) = (self.pid + 4000, stamp(t));
        let port = 40000 + self.pid % 20000;
        let host = format!("{ip}({port})");
        self.push(t, format!("{ts}:{host}:[unknown]@[unknown]:[{pid}]:LOG:  connection received: host={ip} port={port}"));
        self.push(t, format!("{ts}:{host}:{user}@shop:[{pid}]:FATAL:  password authentication failed for user \"{user}\""));
        self.push(t, format!("{ts}:{host}:{user}@shop:[{pid}]:DETAIL:  Connection matched pg_hba.conf line 13: \"host all all 0.0.0.0/0 scram-sha-256\""));
    }

    /// Three weeks of bob's office routine: weekdays 09:00-18:59 from 198.51.100.0/24,
    /// mostly psql, sometimes DBeaver, always TLS; and the app's pool from 10.0.1.0/24.
    pub fn routine(days: i64) -> Pg {
        let mut pg = Pg::default();
        for d in 0..days {
            if d % 7 >= 5 {
                continue;
            }
            for (i, h) in [9, 11, 14, 18].into_iter().enumerate() {
                let app = if i == 3 {
                    "DBeaver 23.1.0 - Main"
                } else {
                    "psql"
                };
                pg.login(
                    at(d, h, 5 + i as i64),
                    &format!("198.51.100.{}", 20 + i),
                    "bob",
                    app,
                    true,
                );
            }
            for h in (0..24).step_by(3) {
                pg.login(at(d, h, 0), "10.0.1.15", "app", "web.1", false);
            }
        }
        pg
    }

    pub fn text(&self) -> String {
        let mut lines = self.lines.clone();
        lines.sort_by_key(|(t, _)| *t);
        lines.into_iter().map(|(_, l)| l + "\n").collect()
    }
}

pub(super) fn scan_with(config: Config, text: &str) -> Vec<Finding> {
    scan_services(config, crate::Services::default(), text)
}

/// A scan with these profiles and lookups.
fn scan_services(config: Config, services: crate::Services, text: &str) -> Vec<Finding> {
    let evs = events("postgresql.log.2026-11-02", "prod-db", text);
    let d = BaselineDetector::new(&config);
    let mut s = crate::Scanner::with_detectors(config, services, vec![Box::new(d)]);
    for e in &evs {
        s.observe(e);
    }
    s.finish().findings
}

fn scan(text: &str) -> Vec<Finding> {
    scan_with(Config::default(), text)
}

fn success(f: &[Finding]) -> Vec<&Finding> {
    of_type(f, SUCCESS_TYPE)
}

#[test]
fn routine_alone_raises_nothing() {
    let f = scan(&Pg::routine(21).text());
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn an_immature_profile_stays_silent() {
    let mut pg = Pg::routine(5);
    pg.login(at(5, 3, 10), "203.0.113.7", "bob", "python-psycopg2", false);
    assert!(scan(&pg.text()).is_empty(), "five days are not enough");
    // The first week of a brand-new user: no profile to compare with yet.
    let mut pg = Pg::routine(21);
    for d in 14..21 {
        pg.login(
            at(d, 2, 0),
            &format!("203.0.113.{d}"),
            "carol",
            "psql",
            false,
        );
    }
    assert!(scan(&pg.text()).is_empty());
}

#[test]
fn stolen_password_from_a_new_place_is_high_and_explained() {
    let mut pg = Pg::routine(21);
    pg.login(at(21, 3, 10), "203.0.113.7", "bob", "python-psycopg2", true);
    let f = scan(&pg.text());
    let s = success(&f);
    assert_eq!(s.len(), 1, "{f:#?}");
    let expected = "First login of bob from 203.0.113.7 (usual: 198.51.100.0/24), \
                    with python-psycopg2 (usual: psql, DBeaver), at 03:10 UTC (usual 09:00-19:00)";
    assert_eq!(s[0].title, expected);
    assert!(
        s[0].description.starts_with(expected),
        "{}",
        s[0].description
    );
    assert!(s[0].description.contains("Several factors are new at once"));
    assert_eq!(s[0].severity.label(), SeverityLabel::High);
    assert_eq!(s[0].actor.ip, Some("203.0.113.7".parse().unwrap()));
    assert_eq!(s[0].actor.user.as_deref(), Some("bob"));
    assert_eq!(s[0].resource.id, "prod-db");
    assert_eq!(s[0].mitre, vec!["T1078"]);
    assert_eq!(s[0].detector, ID);
}

#[test]
fn a_new_public_network_alone_is_medium() {
    let mut pg = Pg::routine(21);
    pg.login(at(21, 10, 0), "203.0.113.7", "bob", "psql 16.1", true);
    let f = scan(&pg.text());
    let s = success(&f);
    assert_eq!(s.len(), 1, "{f:#?}");
    assert_eq!(
        s[0].title,
        "First login of bob from 203.0.113.7 (usual: 198.51.100.0/24)"
    );
    assert_eq!(s[0].severity.label(), SeverityLabel::Medium);
}

#[test]
fn failures_from_the_address_first_make_it_high() {
    let mut pg = Pg::routine(21);
    for i in 0..5 {
        pg.fail(at(21, 10, i), "203.0.113.7", "bob");
    }
    pg.login(at(21, 10, 6), "203.0.113.7", "bob", "psql", true);
    let f = scan(&pg.text());
    let s = success(&f);
    assert_eq!(s.len(), 1, "{f:#?}");
    assert_eq!(s[0].severity.value(), 8.0);
    assert!(s[0]
        .description
        .contains("5 failed logins from this address came first"));
}

#[test]
fn failures_from_rotating_ipv6_addresses_of_the_64_count_as_the_same_source() {
    let mut pg = Pg::routine(21);
    for i in 0..5 {
        pg.fail(
            at(21, 10, i),
            &format!("2001:db8:7:42::{:x}", 0x100 + i),
            "bob",
        );
    }
    pg.login(at(21, 10, 6), "2001:db8:7:42::9", "bob", "psql", true);
    let f = scan(&pg.text());
    let s = success(&f);
    assert_eq!(s.len(), 1, "{f:#?}");
    assert_eq!(s[0].severity.value(), 8.0);
    assert!(s[0]
        .description
        .contains("5 failed logins from this address came first"));
}

#[test]
fn repeats_of_an_anomaly_grow_one_finding_until_it_settles() {
    let mut pg = Pg::routine(21);
    for m in 0..3 {
        pg.login(at(21, 10, m), "203.0.113.7", "bob", "psql", true);
    }
    // Two days later the new network is routine.
    pg.login(at(23, 10, 0), "203.0.113.8", "bob", "psql", true);
    let f = scan(&pg.text());
    let s = success(&f);
    assert_eq!(s.len(), 1, "{f:#?}");
    assert_eq!(s[0].count, 3);
}

#[test]
fn ordinary_novelty_stays_below_medium() {
    let mut pg = Pg::routine(21);
    // A new application server in the known /24, and a new DBeaver version.
    pg.login(
        at(21, 10, 0),
        "198.51.100.99",
        "bob",
        "DBeaver 24.0.5 - SQLEditor <Script-3.sql>",
        true,
    );
    pg.login(at(21, 11, 0), "10.0.1.77", "app", "web.2", false);
    let f = scan(&pg.text());
    assert!(f.is_empty(), "{f:#?}");

    // The DBA from the usual office network at an odd hour, and on a Saturday.
    let mut pg = Pg::routine(21);
    pg.login(at(21, 2, 30), "198.51.100.21", "bob", "psql", true);
    pg.login(at(26, 10, 0), "198.51.100.21", "bob", "psql", true);
    let f = scan(&pg.text());
    let s = success(&f);
    assert_eq!(s.len(), 2, "{f:#?}");
    assert!(s.iter().all(|f| f.severity.label() == SeverityLabel::Low));
    let titles: Vec<&str> = s.iter().map(|f| f.title.as_str()).collect();
    assert!(
        titles.contains(&"Login of bob at 02:30 UTC (usual 09:00-19:00)"),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"Login of bob on a Saturday (usual Mon-Fri)"),
        "{titles:?}"
    );

    // The app's pool from a new private subnet (autoscaling into another AZ).
    let mut pg = Pg::routine(21);
    pg.login(at(21, 10, 0), "10.0.2.40", "app", "web.1", false);
    let f = scan(&pg.text());
    let s = success(&f);
    assert_eq!(s.len(), 1, "{f:#?}");
    assert_eq!(s[0].severity.label(), SeverityLabel::Low);
    assert!(s[0].description.contains("The address is private"));
}

#[test]
fn tls_and_auth_method_changes_are_factors() {
    let mut pg = Pg::routine(21);
    pg.login(at(21, 10, 0), "198.51.100.20", "bob", "psql", false);
    let f = scan(&pg.text());
    let s = success(&f);
    assert_eq!(s.len(), 1, "{f:#?}");
    assert_eq!(s[0].title, "First login of bob without TLS (usual: TLS)");
    assert_eq!(s[0].severity.label(), SeverityLabel::Low);

    let text = Pg::routine(21).text()
        + "2026-11-23 10:00:00 UTC:198.51.100.20(41000):bob@shop:[9999]:LOG:  connection received: host=198.51.100.20 port=41000\n\
           2026-11-23 10:00:00 UTC:198.51.100.20(41000):bob@shop:[9999]:LOG:  connection authenticated: identity=\"bob\" method=trust (/rdsdbdata/config/pg_hba.conf:2)\n\
           2026-11-23 10:00:00 UTC:198.51.100.20(41000):bob@shop:[9999]:LOG:  connection authorized: user=bob database=shop application_name=psql SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)\n";
    let f = scan(&text);
    let s = success(&f);
    assert_eq!(s.len(), 1, "{f:#?}");
    assert_eq!(
        s[0].title,
        "First login of bob authenticated by trust (usual: scram-sha-256)"
    );
}

/// A scan of `text` with bob's office network (198.51.100.0/24) on a trusted list.
fn scan_trusting_the_office(text: &str) -> Vec<Finding> {
    let evs = events("postgresql.log", "prod-db", text);
    let lists = ThreatLists {
        trusted: crate::IpSet::new(vec![
            crate::IpList::parse("office", b"198.51.100.0/24\n").unwrap()
        ]),
        ..ThreatLists::default()
    };
    let config = Config::default();
    run(
        vec![Box::new(BaselineDetector::new(&config))],
        config,
        lists,
        &evs,
    )
}

/// Trust means "no finding about this address", not "learn nothing": bob has only
/// ever logged in from the trusted office, and his profile is still learned, so his
/// first login from a foreign address at night is judged (issue 13 §2).
#[test]
fn trusted_addresses_teach_profiles_but_raise_nothing() {
    // The routine alone, and an odd-hour login from the trusted office: nothing.
    let mut pg = Pg::routine(21);
    pg.login(
        at(21, 3, 0),
        "198.51.100.20",
        "bob",
        "python-psycopg2",
        false,
    );
    let f = scan_trusting_the_office(&pg.text());
    assert!(f.is_empty(), "{f:#?}");

    // From a public address never seen, with a new client, at 03:10: High.
    let mut pg = Pg::routine(21);
    pg.login(at(21, 3, 10), "203.0.113.7", "bob", "python-psycopg2", true);
    let f = scan_trusting_the_office(&pg.text());
    let s = success(&f);
    assert_eq!(s.len(), 1, "{f:#?}");
    assert_eq!(s[0].severity.label(), SeverityLabel::High, "{:?}", s[0]);
    assert_eq!(
        s[0].title,
        "First login of bob from 203.0.113.7 (usual: 198.51.100.0/24), with \
         python-psycopg2 (usual: psql, DBeaver), at 03:10 UTC (usual 09:00-19:00)"
    );
    // Learned from the trusted logins alone: 15 weekdays of 4 logins.
    for want in [
        "The profile of bob on prod-db has 60 logins over 18 days.",
        "Several factors are new at once.",
    ] {
        assert!(
            s[0].description.contains(want),
            "{want:?} not in {}",
            s[0].description
        );
    }
    assert_eq!(s[0].actor.ip, Some("203.0.113.7".parse().unwrap()));
}

/// A fixed ASN and country table for the factors that need a database.
struct FakeNet;

impl NetInfo for FakeNet {
    fn asn(&self, ip: IpAddr) -> Option<(u32, String)> {
        let s = ip.to_string();
        if s.starts_with("198.51.") {
            Some((2516, "KDDI CORPORATION".into()))
        } else if s.starts_with("203.0.113.") {
            Some((64500, "Example Hosting".into()))
        } else {
            None
        }
    }
    fn country(&self, ip: IpAddr) -> Option<String> {
        let s = ip.to_string();
        if s.starts_with("198.51.") {
            Some("JP".into())
        } else if s.starts_with("203.0.113.") {
            Some("NL".into())
        } else {
            None
        }
    }
}

fn with_net() -> crate::Services {
    crate::Services {
        net_info: NetInfoHandle(Some(Arc::new(FakeNet))),
        ..crate::Services::default()
    }
}

#[test]
fn asn_and_country_factors_name_the_network() {
    let mut pg = Pg::routine(21);
    pg.login(at(21, 3, 10), "203.0.113.7", "bob", "python-psycopg2", true);
    let f = scan_services(Config::default(), with_net(), &pg.text());
    let s = success(&f);
    assert_eq!(s.len(), 1, "{f:#?}");
    assert_eq!(
        s[0].title,
        "First login of bob from AS64500 203.0.113.7 (Example Hosting) (usual: AS2516, \
         198.51.100.0/24), in NL (usual: JP), with python-psycopg2 (usual: psql, DBeaver), \
         at 03:10 UTC (usual 09:00-19:00)"
    );
    // The same provider from another /24 (a home router's new address) is not news.
    let mut pg = Pg::routine(21);
    pg.login(at(21, 10, 0), "198.51.7.9", "bob", "psql", true);
    let f = scan_services(Config::default(), with_net(), &pg.text());
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn failed_logins_far_above_the_usual_volume() {
    let mut pg = Pg::routine(21);
    // bob's typos: one or two failures on some days, from the office.
    for d in (0..21).step_by(2) {
        pg.fail(at(d, 9, 1), "198.51.100.20", "bob");
        pg.fail(at(d, 9, 2), "198.51.100.20", "bob");
    }
    let benign = pg.text();
    // A slow distributed guess: 30 failures in an hour from 30 new addresses.
    for i in 0..30 {
        pg.fail(at(21, 4, i * 2), &format!("192.0.2.{}", 10 + i), "postgres");
    }
    let f = scan(&pg.text());
    let failed = of_type(&f, FAILED_TYPE);
    assert_eq!(failed.len(), 1, "{f:#?}");
    let x = failed[0];
    assert_eq!(x.count, 30);
    assert_eq!(x.first_seen, at(21, 4, 0));
    assert!(
        x.description.starts_with(
            "30 failed logins at prod-db from 2026-11-23 04:00 UTC to 04:58 UTC, from 30 \
             addresses against 1 users (usual: at most 2 in an hour, from 198.51.100.0/24)"
        ),
        "{}",
        x.description
    );
    assert!(x
        .description
        .contains("30 of these failures came from networks never seen"));
    assert_eq!(x.severity.label(), SeverityLabel::Medium);
    // The texts are catalog messages: English renders to the contract's strings,
    // Japanese reads with Tokyo times.
    super::tests_principal::assert_messages_in_both_catalogs(x);
    let t = x.text.as_ref().expect("FailedLogin carries its messages");
    let en = keibi_i18n::Locale::english_utc().finding(t);
    assert_eq!(
        (en.0.as_deref(), en.1.as_str(), en.2.as_str()),
        (
            Some(x.title.as_str()),
            x.description.as_str(),
            x.remediation.as_str()
        )
    );
    let tokyo = keibi_i18n::DisplayZone::named("Asia/Tokyo").unwrap();
    let (title, d, r) = keibi_i18n::Locale::new(keibi_i18n::Lang::Ja, tokyo).finding(t);
    assert_eq!(
        title.as_deref(),
        Some("prod-db でログイン失敗 30回、通常量を大きく超えています")
    );
    assert_eq!(
        d,
        "prod-db で2026-11-23 13:00 JSTから13:58 JSTまでにログイン失敗が30回ありました\
         （30個のアドレスから1件のユーザーに対して）。通常は1時間あたり最大2回です\
         （送信元: 198.51.100.0/24）。このうち30回は、このインスタンスで失敗したことのない\
         ネットワークからです。"
    );
    assert!(
        r.starts_with("誰が試行しているかを特定してください。"),
        "{r}"
    );
    // Eight failures in an hour (a misconfigured job) stay under the minimum.
    let mut text = benign;
    let mut extra = Pg::default();
    for i in 0..8 {
        extra.fail(at(21, 4, i), "10.0.3.9", "etl");
    }
    text.push_str(&extra.text());
    let f = scan(&text);
    assert!(of_type(&f, FAILED_TYPE).is_empty(), "{f:#?}");
}

#[test]
fn profiles_persist_through_export_and_import() {
    // First run: three weeks of routine, then the profiles are exported.
    let first = crate::Services::default();
    let f = scan_services(Config::default(), first.clone(), &Pg::routine(21).text());
    assert!(f.is_empty());
    let mut rows = Vec::new();
    let removed = first
        .baselines
        .lock()
        .export(false, |k, v| rows.push((k.to_string(), v.to_vec())));
    assert!(removed.is_empty());
    assert!(rows.len() >= 3, "bob, app and the instance");
    // Second run, a fresh store loaded from the rows: already mature.
    let second = crate::Services::default();
    {
        let mut p = second.baselines.lock();
        for (k, v) in &rows {
            p.import(k, v).unwrap();
        }
        assert_eq!(p.counts().logins_mature, 2);
    }
    let mut pg = Pg::default();
    pg.login(at(22, 3, 10), "203.0.113.7", "bob", "psql", true);
    let f = scan_services(Config::default(), second, &pg.text());
    assert_eq!(success(&f).len(), 1, "{f:#?}");
}

#[test]
fn learning_only_raises_nothing_but_matures_profiles() {
    let mut pg = Pg::routine(21);
    pg.login(
        at(21, 3, 10),
        "203.0.113.7",
        "bob",
        "python-psycopg2",
        false,
    );
    let config = Config::default();
    let evs = events("postgresql.log", "prod-db", &pg.text());
    let services = crate::Services::default();
    let mut s = crate::Scanner::with_detectors(
        config.clone(),
        services.clone(),
        vec![Box::new(BaselineDetector::learner(&config))],
    );
    for e in &evs {
        s.observe(e);
    }
    assert!(s.finish().findings.is_empty());
    assert_eq!(services.baselines.lock().counts().logins_mature, 2);
}

#[test]
fn state_stays_bounded_for_many_users() {
    let mut config = Config::default();
    config.baseline.max_profiles = 1_000;
    let mut d = BaselineDetector::new(&config);
    let mut findings = crate::Findings::default();
    let lists = ThreatLists::default();
    let services = crate::Services::default();
    let mut cx = Context {
        config: &config,
        lists: &lists,
        services: &services,
        findings: &mut findings,
        enriched: Default::default(),
        instances: &Default::default(),
    };
    let mut e = keibi_model::Event::new(
        at(0, 0, 0),
        keibi_model::SourceKind::PostgresStderr,
        Arc::from("f"),
        1,
        keibi_model::Action::LoginSuccess,
    );
    e.instance = Some("db".into());
    for i in 0..5_000u32 {
        e.user = Some(format!("user{i}").into());
        e.client_ip = Some(IpAddr::from([203, 0, (i >> 8) as u8, i as u8]));
        e.time = at(0, 0, 0) + Duration::seconds(i64::from(i));
        d.observe(&e, &mut cx);
    }
    let c = services.baselines.lock().counts();
    assert!(c.logins <= 1_000, "{c:?}");
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Bytes per profile at the scale: 100,000 database users, each with two
/// networks, two clients and ten usual hours, and 100,000 principals. Run with
/// `cargo test -p keibi-detect --release bytes_per_profile -- --ignored --nocapture`.
#[test]
#[ignore]
fn bytes_per_profile() {
    const N: u32 = 100_000;
    let mut config = Config::default();
    config.baseline.max_profiles = N as usize;
    let mut d = BaselineDetector::new(&config);
    let mut findings = crate::Findings::default();
    let lists = ThreatLists::default();
    let services = crate::Services::default();
    let mut cx = Context {
        config: &config,
        lists: &lists,
        services: &services,
        findings: &mut findings,
        enriched: Default::default(),
        instances: &Default::default(),
    };
    let before = rss_bytes();
    let mut e = keibi_model::Event::new(
        at(0, 0, 0),
        keibi_model::SourceKind::PostgresStderr,
        Arc::from("f"),
        1,
        keibi_model::Action::LoginSuccess,
    );
    e.instance = Some("orders-db".into());
    e.auth_method = Some("scram-sha-256".into());
    e.tls = Some(true);
    for round in 0..20u32 {
        for i in 0..N {
            e.user = Some(format!("user{i:06}").into());
            e.client_ip = Some(IpAddr::from([
                10,
                (i >> 8) as u8,
                (round % 2) as u8,
                i as u8,
            ]));
            e.application = Some(
                if round % 3 == 0 {
                    "DBeaver 23.1.0 - Main"
                } else {
                    "psql"
                }
                .into(),
            );
            e.time = at(i64::from(round), 8 + i64::from(round % 10), 0);
            d.observe(&e, &mut cx);
        }
    }
    let logins = rss_bytes() - before;
    let mut c = e.clone();
    c.source = keibi_model::SourceKind::Cloudtrail;
    c.action = keibi_model::Action::ApiCall;
    c.record = Some(Box::new(serde_json::json!({
        "eventName": "DescribeDBInstances", "eventSource": "rds.amazonaws.com",
        "awsRegion": "ap-northeast-1"
    })));
    let before = rss_bytes();
    for round in 0..10u32 {
        for i in 0..N {
            c.user = Some(format!("arn:aws:iam::123456789012:user/deployer-{i:06}").into());
            c.client_ip = Some(IpAddr::from([198, 51, (round % 2) as u8, i as u8]));
            c.application = Some(
                if round % 2 == 0 {
                    "aws-cli/2.15.0"
                } else {
                    "Boto3/1.34.0"
                }
                .into(),
            );
            c.time = at(i64::from(round), 10, 0);
            d.observe(&c, &mut cx);
        }
    }
    let principals = rss_bytes() - before;
    let mut json = 0usize;
    let mut rows = 0usize;
    let store = services.baselines.clone();
    let mut p = store.lock();
    let approx = p.approx_bytes();
    p.export(true, |k, v| {
        json += k.len() + v.len();
        rows += 1;
    });
    let counts = p.counts();
    println!(
        "{counts:?}\nRSS: {} B per user profile (with its instance), {} B per principal; \
         approx_bytes: {} B per profile; JSON: {} B per profile over {rows} rows",
        logins / N as usize,
        principals / N as usize,
        approx / (2 * N as usize),
        json / rows.max(1)
    );
    assert_eq!(counts.logins, N as usize);
}

/// The explanation in Japanese, with the login's hour and the usual hours in the
/// display zone (learned in UTC: 09:00-19:00 UTC is 18:00-04:00 in Tokyo), and every
/// message it builds present in both catalogs with the arguments it uses.
#[test]
fn the_explanation_reads_in_japanese_with_hours_in_the_display_zone() {
    use keibi_i18n::{DisplayZone, Lang, Locale};
    use keibi_model::{Arg, Msg};
    let mut pg = Pg::routine(21);
    pg.login(at(21, 3, 10), "203.0.113.7", "bob", "python-psycopg2", true);
    let f = scan(&pg.text());
    let s = success(&f);
    let text = s[0]
        .text
        .as_ref()
        .expect("the finding carries its messages");
    let ja = Locale::new(Lang::Ja, DisplayZone::named("Asia/Tokyo").unwrap());
    let (title, description, remediation) = ja.finding(text);
    assert_eq!(
        title.as_deref(),
        Some(
            "bob の初めての条件でのログイン: 送信元 203.0.113.7（通常: 198.51.100.0/24）、\
             クライアント python-psycopg2（通常: psql, DBeaver）、時刻 12:10 JST（通常 18:00〜04:00 JST）"
        )
    );
    assert!(
        description.ends_with("複数の条件が同時に初めてです。"),
        "{description}"
    );
    assert!(
        remediation.starts_with("このログインが本人によるものか bob に確認"),
        "{remediation}"
    );
    let en = Locale::english_utc().finding(text);
    assert_eq!(
        (en.0.as_deref(), en.1.as_str(), en.2.as_str()),
        (
            Some(s[0].title.as_str()),
            s[0].description.as_str(),
            s[0].remediation.as_str()
        )
    );

    fn walk<'a>(m: &'a Msg, out: &mut Vec<&'a Msg>) {
        out.push(m);
        for (_, a) in &m.args {
            match a {
                Arg::Msg(inner) => walk(inner, out),
                Arg::Join(list) => list.iter().for_each(|m| walk(m, out)),
                _ => {}
            }
        }
    }
    let mut msgs = Vec::new();
    for m in text
        .title
        .iter()
        .chain(&text.description)
        .chain(&text.remediation)
    {
        walk(m, &mut msgs);
    }
    for lang in Lang::ALL {
        let cat: std::collections::HashMap<_, _> =
            keibi_i18n::catalog_ids(lang).into_iter().collect();
        for m in &msgs {
            let vars = cat
                .get(&m.id)
                .unwrap_or_else(|| panic!("{lang}: no {}", m.id));
            let given: Vec<&str> = m.args.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(
                vars.len(),
                given.len(),
                "{lang} {}: {vars:?} vs {given:?}",
                m.id
            );
            assert!(
                vars.iter().all(|v| given.contains(&v.as_str())),
                "{lang} {}",
                m.id
            );
        }
    }
}
