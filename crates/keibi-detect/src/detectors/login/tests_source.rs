//! BruteForce, PasswordSpray and SuccessfulBruteForce on realistic log text: each
//! fires on its attack, and a team's ordinary life stays silent.

use std::net::IpAddr;

use keibi_model::{Event, Finding};

use super::source::{SourceDetector, BRUTE_FORCE, SPRAY, SUCCESSFUL};
use super::testlog::{at, detect, evs, lists, of, types, Log};
use crate::config::Config;
use crate::detector::{Context, Detector};
use crate::findings::Findings;
use crate::iplist::ThreatLists;
use crate::testutil::events;

fn source(c: &Config) -> SourceDetector {
    SourceDetector::new(&c.login)
}

fn scan(evs: &[Event]) -> Vec<Finding> {
    detect(source, Config::default(), ThreatLists::default(), evs)
}

const ATTACKER: &str = "45.155.205.233";

#[test]
fn hydra_against_postgresql_is_one_growing_brute_force() {
    let mut log = Log::default();
    // hydra -t 4: four failures a second for five minutes, as postgres.
    for i in 0..1200 {
        log.pg_fail(i / 4, ATTACKER, "postgres", "postgres");
    }
    let fs = scan(&evs("postgresql.log.2026-11-28-10", &log.text));
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{:?}", types(&fs));
    let f = bf[0];
    assert_eq!(
        f.count, 1200,
        "every failure counts once (FATAL + DETAIL is one)"
    );
    assert_eq!(f.severity.value(), 5.0);
    assert_eq!(f.first_seen, at(0));
    assert_eq!(f.last_seen, at(299));
    assert_eq!(f.actor.ip, Some(ATTACKER.parse().unwrap()));
    assert_eq!(f.actor.user.as_deref(), Some("postgres"));
    assert_eq!(f.resource.id, "db1");
    assert_eq!(f.mitre, ["T1110.001"]);
    assert_eq!(f.evidence.len(), 20);
    assert!(
        f.title.contains("1,200 failed logins") && f.title.contains(ATTACKER),
        "{}",
        f.title
    );
    for want in [
        "1,200 times",
        "postgres",
        "4 minutes",
        "about 4 a second",
        "No login",
        "still going",
    ] {
        assert!(
            f.description.contains(want),
            "{want:?} not in {}",
            f.description
        );
    }
    assert!(f.remediation.contains("security group") && f.remediation.contains(ATTACKER));
    assert!(of(&fs, SUCCESSFUL).is_empty() && of(&fs, SPRAY).is_empty());
}

#[test]
fn a_continuing_attack_grows_the_same_finding_across_windows() {
    let mut log = Log::default();
    for i in 0..100 {
        log.pg_fail(i, ATTACKER, "postgres", "postgres");
    }
    // An hour of silence, then it comes back.
    for i in 0..50 {
        log.pg_fail(3700 + i, ATTACKER, "admin", "postgres");
    }
    let fs = scan(&evs("pg.log", &log.text));
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{:?}", types(&fs));
    assert_eq!(bf[0].count, 150);
    assert_eq!(bf[0].last_seen, at(3749));
    assert_eq!(bf[0].actor.users, ["admin", "postgres"]);
    // The id is the pinned key: instance and address.
    let id = keibi_model::finding::finding_id("login_source", BRUTE_FORCE, &["db1", ATTACKER]);
    assert_eq!(bf[0].id, id);
}

#[test]
fn mariadb_audit_brute_force_and_its_error_log_copy_count_once() {
    let mut log = Log::default();
    for i in 0..50 {
        log.my_fail(i, ATTACKER, "root");
    }
    let audit = evs("server_audit.log", &log.text);
    let fs = scan(&audit);
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{:?}", types(&fs));
    assert_eq!(bf[0].count, 50);
    assert_eq!(bf[0].resource.engine, Some(keibi_model::Engine::Mysql));

    // The error log of the same server says the same 50 failures.
    let mut error = String::new();
    for (i, e) in audit
        .iter()
        .filter(|e| e.user.is_some() && e.error_code.is_some())
        .enumerate()
    {
        error.push_str(&format!(
            "{} {} [Warning] Access denied for user 'root'@'{ATTACKER}' (using password: YES)\n",
            at(i as i64).format("%Y-%m-%d %H:%M:%S"),
            e.session_id.as_deref().unwrap_or("0")
        ));
    }
    let mut both = audit;
    both.extend(evs("error.log", &error));
    both.sort_by_key(|e| e.time);
    let fs = scan(&both);
    assert_eq!(of(&fs, BRUTE_FORCE)[0].count, 50, "{:?}", types(&fs));
}

#[test]
fn real_hydra_captures_raise_brute_force() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../keibi/tests/data/samples/");
    for (name, severity) in [
        ("postgresql-hydra-bruteforce.log", 5.0),
        ("mariadb-hydra-bruteforce-audit.log", 5.0),
        ("mariadb-hydra-bruteforce-error.log", 3.0),
    ] {
        let text = std::fs::read_to_string(format!("{dir}{name}")).expect("sample");
        let fs = scan(&events(name, "orders-db", &text));
        let bf = of(&fs, BRUTE_FORCE);
        assert_eq!(bf.len(), 1, "{name}: {:?}", types(&fs));
        // A short burst is Low; hydra's success right after it makes it Medium (the
        // error log does not record successful logins).
        assert_eq!(
            bf[0].severity.value(),
            severity,
            "{name}: {}",
            bf[0].description
        );
        assert!(
            bf[0].description.contains("short burst"),
            "{}",
            bf[0].description
        );
        if severity == 5.0 {
            assert!(
                bf[0].title.ends_with("then a login as app"),
                "{}",
                bf[0].title
            );
        }
    }
}

#[test]
fn success_after_brute_force_is_high_and_says_how_many_failures_preceded_it() {
    let mut log = Log::default();
    for i in 0..40 {
        log.pg_fail(i * 2, ATTACKER, "postgres", "postgres");
    }
    log.pg_fail(81, ATTACKER, "admin", "postgres");
    log.pg_ok(83, ATTACKER, "postgres", "postgres");
    // The stolen password in use again later.
    log.pg_ok(4000, ATTACKER, "postgres", "shop");
    let fs = scan(&evs("pg.log", &log.text));
    let s = of(&fs, SUCCESSFUL);
    assert_eq!(s.len(), 1, "{:?}", types(&fs));
    let f = s[0];
    assert_eq!(f.severity.value(), 8.0);
    assert_eq!(f.actor.user.as_deref(), Some("postgres"));
    assert_eq!(f.count, 2, "both logins with the guessed password");
    assert!(
        f.title.contains("postgres") && f.title.contains(ATTACKER),
        "{}",
        f.title
    );
    for want in [
        "after 41 failed logins",
        "40 of them as postgres",
        "2 times in all",
    ] {
        assert!(
            f.description.contains(want),
            "{want:?} not in {}",
            f.description
        );
    }
    assert!(
        f.remediation.contains("ALTER ROLE \"postgres\" PASSWORD"),
        "{}",
        f.remediation
    );
    assert!(f.remediation.contains("pg_terminate_backend"));
    assert!(
        f.evidence.len() >= 3,
        "failures and the login: {:?}",
        f.evidence
    );
    let bf = of(&fs, BRUTE_FORCE);
    assert!(
        bf[0]
            .description
            .contains("logged in successfully as postgres"),
        "{}",
        bf[0].description
    );
    // A login as a user the address never tried is not "after a brute force" of it.
    let mut other = Log::default();
    for i in 0..40 {
        other.pg_fail(i, ATTACKER, "postgres", "postgres");
    }
    other.pg_ok(50, ATTACKER, "reporting", "shop");
    assert!(of(&scan(&evs("pg.log", &other.text)), SUCCESSFUL).is_empty());
}

#[test]
fn a_typo_then_a_login_raises_nothing() {
    let mut log = Log::default();
    // libpq with sslmode=prefer retries a refused TLS login without TLS: two failures
    // per wrong password.
    log.pg_fail(0, "203.0.113.50", "alice", "shop");
    log.pg_fail(0, "203.0.113.50", "alice", "shop");
    log.pg_ok(9, "203.0.113.50", "alice", "shop");
    // Someone trying three remembered passwords, then the right one.
    for (i, t) in [100, 108, 117].iter().enumerate() {
        log.pg_fail(*t, "198.51.100.20", "bob", "shop");
        log.pg_fail(*t, "198.51.100.20", "bob", "shop");
        let _ = i;
    }
    log.pg_ok(130, "198.51.100.20", "bob", "shop");
    // MySQL: one wrong password, then right.
    log.my_fail(200, "198.51.100.21", "carol");
    log.my_ok(205, "198.51.100.21", "carol", "shop");
    let (pg, my): (Vec<&str>, Vec<&str>) = log.text.lines().partition(|l| l.starts_with("2026-"));
    let mut all = evs("pg.log", &(pg.join("\n") + "\n"));
    all.extend(evs("audit.log", &(my.join("\n") + "\n")));
    all.sort_by_key(|e| e.time);
    let fs = scan(&all);
    assert!(fs.is_empty(), "{:?}", types(&fs));
}

#[test]
fn a_pool_reconnecting_all_day_raises_nothing() {
    let mut log = Log::default();
    // 20 connections from two app servers, each reconnected every 10 minutes for 12 h,
    // and a rare failure when a connection races a restart.
    for round in 0..72 {
        for c in 0..20 {
            let ip = if c % 2 == 0 { "10.0.1.11" } else { "10.0.2.12" };
            log.pg_ok(round * 600 + c, ip, "app", "shop");
        }
        if round % 24 == 5 {
            log.pg_fail(round * 600 + 30, "10.0.1.11", "app", "shop");
        }
    }
    let fs = scan(&evs("pg.log", &log.text));
    assert!(fs.is_empty(), "{:?}", types(&fs));
}

#[test]
fn a_rotation_that_three_app_servers_retry_for_a_minute_raises_nothing() {
    let mut log = Log::default();
    // The password changed; three servers still use the old one and retry every 5 s
    // for a minute, then get the new one.
    for i in 0..12 {
        for (n, ip) in ["10.0.1.11", "10.0.1.12", "10.0.1.13"].iter().enumerate() {
            log.pg_fail(i * 5 + n as i64, ip, "app", "shop");
        }
    }
    for (n, ip) in ["10.0.1.11", "10.0.1.12", "10.0.1.13"].iter().enumerate() {
        log.pg_ok(65 + n as i64, ip, "app", "shop");
    }
    let fs = scan(&evs("pg.log", &log.text));
    assert!(fs.is_empty(), "{:?}", types(&fs));
}

#[test]
fn a_long_rotation_outage_of_a_known_client_is_low_and_says_why() {
    let mut log = Log::default();
    // The app server logged in all morning ...
    for i in 0..30 {
        log.pg_ok(i * 60, "10.0.1.11", "app", "shop");
    }
    // ... then retries every 2 s for ten minutes with the old password, then recovers.
    for i in 0..300 {
        log.pg_fail(2000 + i * 2, "10.0.1.11", "app", "shop");
    }
    log.pg_ok(2610, "10.0.1.11", "app", "shop");
    let fs = scan(&evs("pg.log", &log.text));
    assert!(of(&fs, SUCCESSFUL).is_empty(), "{:?}", types(&fs));
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1);
    assert_eq!(
        bf[0].severity.value(),
        3.0,
        "a known client's failures are Low"
    );
    assert!(
        bf[0]
            .description
            .contains("had logged in successfully as app 30 times"),
        "{}",
        bf[0].description
    );
    assert!(bf[0].description.contains("old password"));
}

#[test]
fn a_short_fast_burst_without_follow_up_is_low_and_three_quick_retries_are_nothing() {
    let mut log = Log::default();
    // An application retrying three times, half a second apart: not a burst.
    log.my_fail(0, "10.0.1.11", "app")
        .my_fail(0, "10.0.1.11", "app")
        .my_fail(1, "10.0.1.11", "app");
    let fs = scan(&evs("audit.log", &log.text));
    assert!(fs.is_empty(), "{:?}", types(&fs));
    // A pool opening six connections at once with a wrong password: a Low burst.
    let mut pool = Log::default();
    for _ in 0..6 {
        pool.my_fail(0, "10.0.1.12", "app");
    }
    let fs = scan(&evs("audit.log", &pool.text));
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{:?}", types(&fs));
    assert_eq!(bf[0].severity.value(), 3.0);
}

#[test]
fn trusted_addresses_raise_nothing() {
    let mut log = Log::default();
    for i in 0..100 {
        log.pg_fail(i, "192.0.2.10", "postgres", "postgres");
    }
    log.pg_ok(101, "192.0.2.10", "postgres", "postgres");
    let l = lists("", "", "192.0.2.0/24\n");
    let fs = detect(source, Config::default(), l, &evs("pg.log", &log.text));
    assert!(fs.is_empty(), "{:?}", types(&fs));
}

#[test]
fn password_spray_names_the_users_and_the_missing_ones() {
    let mut log = Log::default();
    let users = [
        "postgres", "admin", "root", "test", "oracle", "guest", "app", "sa", "ubnt", "backup",
    ];
    // One or two tries per name, one every 40 s: slow, to stay under lockouts.
    for (i, u) in users.iter().enumerate() {
        log.pg_fail(i as i64 * 40, ATTACKER, u, "postgres");
        if i % 3 == 0 {
            log.pg_fail(i as i64 * 40 + 20, ATTACKER, u, "postgres");
        }
    }
    let fs = scan(&evs("pg.log", &log.text));
    let sp = of(&fs, SPRAY);
    assert_eq!(sp.len(), 1, "{:?}", types(&fs));
    let f = sp[0];
    assert_eq!(f.severity.value(), 6.0);
    assert_eq!(f.count, 14);
    assert_eq!(f.actor.users.len(), 10);
    assert_eq!(f.mitre, ["T1110.003"]);
    assert!(f.title.contains("10 user names"), "{}", f.title);
    assert!(
        f.description.contains("5 of these names do not exist"),
        "{}",
        f.description
    );
    // Fourteen failures in six minutes: not a volume brute force.
    assert!(of(&fs, BRUTE_FORCE).is_empty(), "{:?}", types(&fs));
}

#[test]
fn a_spray_read_from_one_cloudwatch_message_starts_at_its_first_name() {
    // The events of one CloudWatch Logs subscription message share its file and
    // line; the spray still starts at its first failure, as from the file.
    let mut log = Log::default();
    let users = [
        "postgres", "admin", "root", "test", "oracle", "guest", "app", "sa", "ubnt", "backup",
    ];
    for (i, u) in users.iter().enumerate() {
        log.pg_fail(i as i64 * 40, ATTACKER, u, "postgres");
    }
    let from_file = scan(&evs("pg.log", &log.text));
    let mut one_line = evs("pg.log", &log.text);
    for e in &mut one_line {
        e.line = 14;
    }
    let from_message = scan(&one_line);
    let first = |fs: &[Finding]| of(fs, SPRAY).first().map(|f| (f.first_seen, f.count));
    assert!(first(&from_file).is_some(), "{:?}", types(&from_file));
    assert_eq!(first(&from_message), first(&from_file));
}

#[test]
fn a_bastion_with_a_few_people_mistyping_is_no_spray() {
    let mut log = Log::default();
    for (i, u) in ["alice", "bob", "carol", "alice"].iter().enumerate() {
        log.pg_fail(i as i64 * 300, "10.0.9.4", u, "shop");
        log.pg_ok(i as i64 * 300 + 10, "10.0.9.4", u, "shop");
    }
    // A service account failing often is not a spray either (many tries, one name).
    for i in 0..15 {
        log.pg_fail(2000 + i * 60, "10.0.9.4", "etl", "dw");
    }
    let fs = scan(&evs("pg.log", &log.text));
    assert!(fs.is_empty(), "{:?}", types(&fs));
}

#[test]
fn memory_stays_bounded_under_a_million_addresses_and_the_attacker_is_still_seen() {
    let mut c = Config::default();
    c.login.max_tracked_sources = 1000;
    let mut d = SourceDetector::new(&c.login);
    let template = evs(
        "pg.log",
        &Log::default()
            .pg_fail(0, ATTACKER, "postgres", "postgres")
            .text,
    )
    .remove(1);
    assert_eq!(template.action, keibi_model::Action::LoginFailure);
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
    let attacker: IpAddr = ATTACKER.parse().unwrap();
    for i in 0..1_000_000u32 {
        let mut e = template.clone();
        e.time = at(i64::from(i / 1000));
        e.line = u64::from(i) + 1;
        // Every 100th event is the attacker; the rest are a million other addresses,
        // each failing once with its own user name.
        if i % 100 == 0 {
            e.client_ip = Some(attacker);
        } else {
            e.client_ip = Some(IpAddr::from(i.wrapping_mul(2_654_435_761).to_be_bytes()));
            e.user = Some(format!("user{i}").into());
        }
        e.pid = Some(i);
        d.observe(&e, &mut cx);
        assert!(d.tracked() <= 1000);
    }
    d.finish(&mut cx);
    let fs = findings.into_sorted();
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{:?}", &types(&fs)[..types(&fs).len().min(5)]);
    assert_eq!(bf[0].actor.ip, Some(attacker));
    assert_eq!(bf[0].count, 10_000);
}

#[test]
fn hostile_times_do_not_panic() {
    let mut log = Log::default();
    log.pg_fail(0, ATTACKER, "postgres", "postgres");
    let mut e = evs("pg.log", &log.text);
    let mut far = e[1].clone();
    far.time = chrono::DateTime::<chrono::Utc>::MAX_UTC;
    let mut past = e[1].clone();
    past.time = chrono::DateTime::<chrono::Utc>::MIN_UTC;
    e.extend([far, past.clone(), past]);
    let mut ok = e[0].clone();
    ok.action = keibi_model::Action::LoginSuccess;
    e.push(ok);
    let _ = scan(&e);
}

#[test]
fn a_fast_spray_is_one_spray_not_also_a_brute_force() {
    let mut log = Log::default();
    let users = [
        "admin",
        "root",
        "mysql",
        "backup",
        "test",
        "guest",
        "magento",
        "wordpress",
        "dbadmin",
        "user",
        "web",
        "shop",
    ];
    // Three passwords against each of twelve names in four minutes: 36 failures.
    for round in 0..3 {
        for (i, u) in users.iter().enumerate() {
            log.my_fail(round * 80 + i as i64 * 6, ATTACKER, u);
        }
    }
    let fs = scan(&evs("audit.log", &log.text));
    assert_eq!(of(&fs, SPRAY).len(), 1, "{:?}", types(&fs));
    assert_eq!(of(&fs, SPRAY)[0].count, 36);
    assert!(of(&fs, BRUTE_FORCE).is_empty(), "{:?}", types(&fs));

    // hydra -L users.txt -P passwords.txt: many passwords per name is a brute force.
    let mut hydra = Log::default();
    for i in 0..200 {
        hydra.my_fail(i / 4, ATTACKER, users[(i / 40) as usize]);
    }
    let fs = scan(&evs("audit.log", &hydra.text));
    assert!(of(&fs, SPRAY).is_empty(), "{:?}", types(&fs));
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{:?}", types(&fs));
    assert_eq!((bf[0].count, bf[0].actor.users.len()), (200, 5));
    // hydra -u loops over the users: its first round looks like a spray, then the
    // brute force takes over and the spray stops growing.
    let mut looping = Log::default();
    for i in 0..200 {
        looping.my_fail(i / 4, ATTACKER, users[(i % 6) as usize]);
    }
    let fs = scan(&evs("audit.log", &looping.text));
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{:?}", types(&fs));
    assert_eq!(bf[0].count, 200);
    assert!(
        of(&fs, SPRAY).iter().all(|f| f.count <= 31),
        "{:?}",
        types(&fs)
    );
}

/// An address of 2001:db8:7:42::/64 that no attempt uses twice.
fn rotating(i: u32) -> String {
    format!(
        "2001:db8:7:42:{:x}:{:x}:{:x}:1",
        i >> 16,
        i & 0xffff,
        (i * 7919) & 0xffff
    )
}

#[test]
fn an_ipv6_client_rotating_through_its_64_is_one_source() {
    let mut log = Log::default();
    for i in 0..5_000u32 {
        log.pg_fail(i64::from(i / 10), &rotating(i), "postgres", "postgres");
    }
    log.pg_ok(501, &rotating(5_000), "postgres", "postgres");
    let fs = scan(&evs("pg.log", &log.text));
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{:?}", types(&fs));
    let net = "2001:db8:7:42::/64";
    assert_eq!(
        bf[0].id,
        keibi_model::finding::finding_id("login_source", BRUTE_FORCE, &["db1", net])
    );
    assert_eq!(bf[0].count, 5_000);
    assert_eq!(bf[0].actor.ip, None);
    assert_eq!(bf[0].actor.ips.len(), 100, "the first 100 addresses");
    assert!(bf[0].actor.ips_truncated);
    assert_eq!(
        bf[0].title,
        format!("Brute force on db1 from {net}: 5,000 failed logins, then a login as postgres")
    );
    assert!(
        bf[0]
            .description
            .contains("more than 100 different addresses of that /64"),
        "{}",
        bf[0].description
    );
    let s = of(&fs, SUCCESSFUL);
    assert_eq!(s.len(), 1, "{:?}", types(&fs));
    assert!(s[0].title.contains(net), "{}", s[0].title);
    assert!(s[0]
        .remediation
        .contains(&format!("client_addr << '{net}'")));
}

#[test]
fn ipv6_clients_in_different_64s_mistyping_once_raise_nothing() {
    let mut log = Log::default();
    for (i, ip) in [
        "2001:db8:1:1::10",
        "2001:db8:1:2::10",
        "2001:db8:2:1::77",
        "2a00:1450:4001:80b::200e",
        "2600:1f18:abc:de00::5",
    ]
    .iter()
    .enumerate()
    {
        let t = i as i64 * 3;
        log.pg_fail(t, ip, "app", "shop");
        log.pg_ok(t + 2, ip, "app", "shop");
    }
    let fs = scan(&evs("pg.log", &log.text));
    assert!(fs.is_empty(), "{:?}", types(&fs));
}

/// Issue 13 §1: six failures in five seconds from one public address (CrowdSec's
/// `pgsql-bf` and `pgsql-user-enum`) is an attack, Medium; more when the server says
/// the names do not exist.
#[test]
fn a_fast_burst_from_a_public_address_never_seen_is_medium_and_more_for_missing_users() {
    // One failure a second, as an existing user: the fast form, Medium.
    let mut log = Log::default();
    for i in 0..6 {
        log.pg_fail(i, ATTACKER, "postgres", "postgres");
    }
    let fs = scan(&evs("pg.log", &log.text));
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{:?}", types(&fs));
    assert_eq!(bf[0].severity.value(), 5.0, "{}", bf[0].description);
    assert!(
        bf[0]
            .description
            .contains("is a public address that had never logged in here"),
        "{}",
        bf[0].description
    );
    // Five are not enough, and neither are six spread over 15 s.
    let mut five = Log::default();
    for i in 0..5 {
        five.pg_fail(i, ATTACKER, "postgres", "postgres");
    }
    assert!(scan(&evs("pg.log", &five.text)).is_empty());
    let mut slow = Log::default();
    for i in 0..6 {
        slow.pg_fail(i * 3, ATTACKER, "postgres", "postgres");
    }
    assert!(scan(&evs("pg.log", &slow.text)).is_empty());

    // Names PostgreSQL says do not exist (DETAIL: Role "..." does not exist): 5.5.
    let mut enumeration = Log::default();
    for (i, u) in [
        "no_admin", "no_root", "no_admin", "no_dba", "no_root", "no_dba",
    ]
    .iter()
    .enumerate()
    {
        enumeration.pg_fail(i as i64, ATTACKER, u, "postgres");
    }
    let fs = scan(&evs("pg.log", &enumeration.text));
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{:?}", types(&fs));
    assert_eq!(bf[0].severity.value(), 5.5, "{}", bf[0].description);
    assert!(
        bf[0]
            .description
            .contains("The server said 3 of the user names tried do not exist"),
        "{}",
        bf[0].description
    );

    // MySQL cannot say whether the name exists: a burst of seven is Medium.
    let mut my = Log::default();
    for i in 0..7 {
        my.my_fail(i / 2, ATTACKER, "root");
    }
    let fs = scan(&evs("audit.log", &my.text));
    assert_eq!(of(&fs, BRUTE_FORCE)[0].severity.value(), 5.0);
}

/// What keeps a burst below Medium: a private address, an address that logged in
/// here before, and a steady retry from inside for one existing user.
#[test]
fn known_clients_and_steady_retries_stay_below_medium() {
    // A developer's GUI, which logged in from home before, reopens three connections
    // with a changed password; libpq doubles each failure: six in a second, Low.
    let mut gui = Log::default();
    gui.pg_ok(0, "203.0.113.50", "alice", "shop");
    for _ in 0..6 {
        gui.pg_fail(3600, "203.0.113.50", "alice", "shop");
    }
    let fs = scan(&evs("pg.log", &gui.text));
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{:?}", types(&fs));
    assert_eq!(bf[0].severity.value(), 3.0, "{}", bf[0].description);

    // A pool inside the VPC retrying once a second: the fast form is for public
    // addresses only; nothing until the old burst form or the volume.
    let mut pool = Log::default();
    for i in 0..8 {
        pool.pg_fail(i, "10.0.1.11", "app", "shop");
    }
    assert!(scan(&evs("pg.log", &pool.text)).is_empty());

    // A health check with a wrong password every 10 s for 15 minutes, from inside
    // the network, for one existing user: volume, but steady, so Low and says why.
    let mut check = Log::default();
    for i in 0..90 {
        check.pg_fail(i * 10, "10.0.0.37", "monitor", "postgres");
    }
    let fs = scan(&evs("pg.log", &check.text));
    let bf = of(&fs, BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{:?}", types(&fs));
    assert_eq!(bf[0].severity.value(), 3.0, "{}", bf[0].description);
    assert!(
        bf[0].description.contains("at a steady rate"),
        "{}",
        bf[0].description
    );

    // The same volume from inside, but as fast as a tool (hydra -t 4 from a
    // compromised host): Medium, as before.
    let mut inside = Log::default();
    for i in 0..40 {
        inside.pg_fail(i / 4, "10.0.3.99", "postgres", "postgres");
    }
    let fs = scan(&evs("pg.log", &inside.text));
    assert_eq!(of(&fs, BRUTE_FORCE)[0].severity.value(), 5.0);
    // ... and a steady rate from inside for names that do not exist: Medium.
    let mut guess = Log::default();
    for i in 0..30 {
        guess.pg_fail(i * 10, "10.0.3.98", "no_admin", "postgres");
    }
    let fs = scan(&evs("pg.log", &guess.text));
    assert_eq!(of(&fs, BRUTE_FORCE)[0].severity.value(), 5.0);
}
