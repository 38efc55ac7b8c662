//! End to end on real servers: attack a real PostgreSQL and a real MariaDB (many
//! wrong passwords, then the right one, then a statement that escalates
//! privileges) and check that `keibi scan` over their own logs reports it.
//!
//! Skipped without the servers unless `KEIBI_REQUIRE_SERVERS=1` (see servers.rs).

mod common;

use std::ffi::OsStr;

use common::{keibi_scan, str_field, wait_for_text, Scan};

/// Wrong passwords the attacker tries before the right one: above the default
/// brute-force threshold, as hydra's first seconds are.
const GUESSES: usize = 30;

const DONE: &str = "SELECT 'keibi-attack-done' AS marker";

fn assert_types(scan: &Scan, what: &str, types: &[&str]) {
    for t in types {
        assert!(
            scan.of_type(t).next().is_some(),
            "{what}: no {t}; findings:\n{}\nstderr:\n{}",
            scan.brief(),
            scan.stderr
        );
    }
}

/// The attack's findings name the attacker and the attacked user.
fn assert_actor(scan: &Scan, t: &str, user: &str) {
    let f = scan.of_type(t).next().expect("checked before");
    assert_eq!(
        f.pointer("/actor/ip").and_then(|v| v.as_str()),
        Some("127.0.0.1"),
        "{t}: actor {f}"
    );
    let users = f.get("actor").map(|a| a.to_string()).unwrap_or_default();
    assert!(users.contains(user), "{t}: actor {f} does not name {user}");
    let ev = f
        .get("evidence")
        .and_then(|e| e.as_array())
        .expect("evidence");
    assert!(!ev.is_empty(), "{t}: no evidence");
    assert!(
        ev.iter().all(|e| e
            .get("line")
            .and_then(|l| l.as_u64())
            .is_some_and(|l| l > 0)),
        "{t}: evidence without lines: {f}"
    );
}

#[test]
fn attacked_postgresql_is_reported() {
    use common::postgres::*;
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    for _ in 0..GUESSES {
        let out = pg.psql_tcp(SUPERUSER, "guess", DATABASE, "SELECT 1;\n");
        assert!(!out.status.success(), "a wrong password was accepted");
    }
    let out = pg.psql_tcp(
        SUPERUSER,
        SUPERUSER_PASSWORD,
        DATABASE,
        &format!("ALTER ROLE {APP_USER} SUPERUSER;\n{DONE};\n"),
    );
    assert!(
        out.status.success(),
        "attack session: {}",
        common::describe(&out)
    );
    wait_for_text(&pg.stderr_log(), "keibi-attack-done");
    pg.stop();

    for log in [pg.stderr_log(), pg.csv_log(), pg.json_log()] {
        let what = format!("{} (PostgreSQL {})", log.display(), pg.version);
        let scan = keibi_scan(&[log.as_os_str()]);
        assert_eq!(scan.code, Some(0), "{what}: {}", scan.stderr);
        assert_types(
            &scan,
            &what,
            &[
                "CredentialAccess:RDS/BruteForce",
                "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
                "PrivilegeEscalation:RDS/RoleElevated",
            ],
        );
        assert_actor(&scan, "CredentialAccess:RDS/BruteForce", SUPERUSER);
        let bf = scan
            .of_type("CredentialAccess:RDS/BruteForce")
            .next()
            .expect("bf");
        assert!(
            bf.get("count").and_then(|c| c.as_u64()) >= Some(GUESSES as u64),
            "{what}: brute force counts every failure: {bf}"
        );
        // --fail-on turns the findings into exit code 1.
        let strict = keibi_scan(&[OsStr::new("--fail-on"), OsStr::new("high"), log.as_os_str()]);
        assert_eq!(
            strict.code,
            Some(1),
            "{what}: --fail-on high: {}",
            strict.stderr
        );
    }
}

#[test]
fn attacked_mariadb_is_reported() {
    use common::mariadb::*;
    let Some(mut db) = Mariadb::start() else {
        return;
    };
    for _ in 0..GUESSES {
        let out = db.client_tcp(ADMIN_USER, "guess", None, "SELECT 1;\n");
        assert!(!out.status.success(), "a wrong password was accepted");
    }
    let out = db.client_tcp(
        ADMIN_USER,
        ADMIN_PASSWORD,
        None,
        &format!("GRANT ALL PRIVILEGES ON *.* TO '{APP_USER}'@'%' WITH GRANT OPTION;\n{DONE};\n"),
    );
    assert!(
        out.status.success(),
        "attack session: {}",
        common::describe(&out)
    );
    wait_for_text(&db.audit_log(), "keibi-attack-done");
    db.stop();

    let audit = db.audit_log();
    let scan = keibi_scan(&[audit.as_os_str()]);
    let what = format!("{} (MariaDB {})", audit.display(), db.version);
    assert_eq!(scan.code, Some(0), "{what}: {}", scan.stderr);
    assert_types(
        &scan,
        &what,
        &[
            "CredentialAccess:RDS/BruteForce",
            "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
            "PrivilegeEscalation:RDS/RoleElevated",
        ],
    );
    assert_actor(&scan, "CredentialAccess:RDS/BruteForce", ADMIN_USER);

    // The error log alone knows the failures ("Access denied") too.
    let err = db.error_log();
    let scan = keibi_scan(&[err.as_os_str()]);
    assert_types(
        &scan,
        &format!("{}", err.display()),
        &["CredentialAccess:RDS/BruteForce"],
    );
    let f = scan
        .of_type("CredentialAccess:RDS/BruteForce")
        .next()
        .expect("bf");
    assert_eq!(str_field(f, "severity_label"), Some("Medium"), "{f}");
}

/// A brute force through PgBouncer: the pooler authenticates clients itself, so the
/// guesses are in its log only. Read together with PostgreSQL's log as one instance,
/// every guess is counted once and the login after them is seen.
#[test]
fn brute_force_through_pgbouncer_is_reported() {
    use common::pgbouncer::Pgbouncer;
    use common::postgres::*;
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    let Some(mut bouncer) = Pgbouncer::start(&pg) else {
        return;
    };
    for _ in 0..GUESSES {
        let out = pg.psql_tcp_port(bouncer.port, APP_USER, "guess", DATABASE, "SELECT 1;\n");
        assert!(!out.status.success(), "a wrong password was accepted");
    }
    let out = pg.psql_tcp_port(
        bouncer.port,
        APP_USER,
        APP_PASSWORD,
        DATABASE,
        &format!("{DONE};\n"),
    );
    assert!(out.status.success(), "login: {}", common::describe(&out));
    wait_for_text(&pg.stderr_log(), "keibi-attack-done");
    bouncer.stop();
    pg.stop();

    let what = format!(
        "{} and {}",
        bouncer.log().display(),
        pg.stderr_log().display()
    );
    let scan = keibi_scan(&[
        OsStr::new("--instance"),
        OsStr::new("shop-db"),
        bouncer.log().as_os_str(),
        pg.stderr_log().as_os_str(),
    ]);
    assert_eq!(scan.code, Some(0), "{what}: {}", scan.stderr);
    assert_types(
        &scan,
        &what,
        &[
            "CredentialAccess:RDS/BruteForce",
            "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
        ],
    );
    assert_actor(&scan, "CredentialAccess:RDS/BruteForce", APP_USER);
    let bf = scan
        .of_type("CredentialAccess:RDS/BruteForce")
        .next()
        .expect("bf");
    assert_eq!(
        bf.get("count").and_then(|c| c.as_u64()),
        Some(GUESSES as u64),
        "{what}: each guess counted once: {bf}"
    );
    assert_eq!(
        bf.pointer("/resource/id").and_then(|v| v.as_str()),
        Some("shop-db"),
        "{bf}"
    );
}
