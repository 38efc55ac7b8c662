//! Log injection through names, live (issue 10): a real PostgreSQL logs connection
//! attempts whose user and database names hold a log prefix, a level word or a line
//! break, as anyone who reaches the port can send them. `keibi scan` over the
//! server's own stderr, csvlog and jsonlog must report the attempt and must not take
//! the forged lines for logins or statements; a role that imitates RDS's exempt
//! `rdsadmin` is reported like anybody else.
//!
//! Skipped without the servers unless `KEIBI_REQUIRE_SERVERS=1` (see servers.rs).

mod common;

use std::ffi::OsStr;

use common::{keibi_events, keibi_scan, str_field, wait_for_text};

const FORGED_DB: &str = "x:[1]:LOG:  connection authorized: user=postgres database=x";
const DONE: &str = "SELECT 'keibi-injection-done' AS marker";

/// A libpq connection string quoting `v` (for names that hold `=` or spaces).
fn conninfo_value(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[test]
fn hostile_names_forge_nothing_and_are_reported() {
    use common::postgres::*;
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    // A role whose name imitates RDS's own account (it elevates another role below).
    let out = pg.psql_tcp(
        SUPERUSER,
        SUPERUSER_PASSWORD,
        DATABASE,
        "CREATE ROLE \"rdsadmin@x\" LOGIN SUPERUSER PASSWORD 'imitation-pw';\n",
    );
    assert!(out.status.success(), "{}", common::describe(&out));
    // A brute force on postgres whose database name forges a successful login.
    let db = format!("dbname={}", conninfo_value(FORGED_DB));
    for i in 0..25 {
        let out = pg.psql_tcp(SUPERUSER, &format!("guess{i}"), &db, "SELECT 1;\n");
        assert!(!out.status.success(), "a wrong password was accepted");
    }
    // Failed logins whose user names forge DROP TABLE by postgres.
    for i in 0..12 {
        let user = format!("postgres@{DATABASE}:[7]:LOG:  statement: DROP TABLE orders{i}");
        let out = pg.psql_tcp(&user, "nope", DATABASE, "SELECT 1;\n");
        assert!(!out.status.success());
    }
    // Line breaks: a forged prefix with another time and address, and a forged
    // statement line.
    for user in [
        "evil\n2026-01-01 03:00:01 UTC:10.9.9.9(1234):postgres@shop:[77]".to_string(),
        "x@y:[5]:LOG:  statement: DROP TABLE customers\nz".to_string(),
    ] {
        let out = pg.psql_tcp(&user, "nope", DATABASE, "SELECT 1;\n");
        assert!(!out.status.success());
    }
    // The role whose name imitates RDS's own account elevates another role.
    let out = pg.psql_tcp(
        "rdsadmin@x",
        "imitation-pw",
        DATABASE,
        &format!("ALTER ROLE {APP_USER} CREATEROLE;\n{DONE};\n"),
    );
    assert!(out.status.success(), "{}", common::describe(&out));
    wait_for_text(&pg.stderr_log(), "keibi-injection-done");
    pg.stop();

    let stderr_log = pg.stderr_log();
    common::capture(&[(&stderr_log, "postgresql-injection-live.log")]);
    for log in [pg.stderr_log(), pg.csv_log(), pg.json_log()] {
        let what = format!("{} (PostgreSQL {})", log.display(), pg.version);
        let scan = keibi_scan(&[log.as_os_str()]);
        assert_eq!(scan.code, Some(0), "{what}: {}", scan.stderr);
        let inj: Vec<_> = scan.of_type("DefenseEvasion:RDS/LogInjection").collect();
        assert_eq!(
            inj.len(),
            1,
            "{what}: one finding per client:\n{}",
            scan.brief()
        );
        assert_eq!(
            inj[0].get("count").and_then(|c| c.as_u64()),
            Some(25 + 12 + 2),
            "{what}: every attempt counted once: {}",
            inj[0]
        );
        assert!(
            str_field(inj[0], "description").is_some_and(|d| d.contains("x:[1]:LOG:")),
            "{what}: the description quotes the name: {}",
            inj[0]
        );
        // No forged DROP TABLE, and no forged login as postgres after the brute
        // force (rdsadmin@x's real login after it may well count).
        assert!(
            scan.of_type("Impact:RDS/MassDestruction").next().is_none(),
            "{what}:\n{}",
            scan.brief()
        );
        assert!(
            !scan
                .of_type("CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce")
                .any(|f| f.pointer("/actor/user").and_then(|u| u.as_str()) == Some(SUPERUSER)),
            "{what}:\n{}",
            scan.brief()
        );
        // The brute force is still a brute force, and nothing else logged in as
        // postgres.
        assert!(
            scan.of_type("CredentialAccess:RDS/BruteForce")
                .next()
                .is_some(),
            "{what}:\n{}",
            scan.brief()
        );
        let elevated: Vec<_> = scan
            .of_type("PrivilegeEscalation:RDS/RoleElevated")
            .filter(|f| f.pointer("/actor/user").and_then(|u| u.as_str()) == Some("rdsadmin@x"))
            .collect();
        assert_eq!(elevated.len(), 1, "{what}:\n{}", scan.brief());
        let strict = keibi_scan(&[OsStr::new("--fail-on"), OsStr::new("high"), log.as_os_str()]);
        assert_eq!(strict.code, Some(1), "{what}: {}", strict.stderr);
    }
    // The events themselves: every line read, no forged login, time or address.
    let ev = keibi_events(&[&stderr_log], &[]);
    ev.assert_complete("stderr with hostile names", 1);
    let logins: Vec<_> = ev
        .with_action("login_success")
        .filter(|e| str_field(e, "user") == Some(SUPERUSER))
        .filter(|e| str_field(e, "client_ip").is_some())
        .collect();
    assert_eq!(logins.len(), 1, "only the real one:\n{}", ev.dump());
    for e in ev.with_action("login_failure") {
        assert_ne!(str_field(e, "client_ip"), Some("10.9.9.9"), "{e}");
        assert!(
            !str_field(e, "time").unwrap_or("").starts_with("2026-01-01"),
            "{e}"
        );
    }
    assert!(
        !ev.with_action("statement")
            .any(|e| common::statement_text(e).is_some_and(|s| s.contains("DROP"))),
        "{}",
        ev.dump()
    );
}

/// The same class on a real MariaDB: user names holding the error log's and
/// server_audit's own delimiters, or a line break and a forged error-log record.
/// `keibi scan` reports the attempts, and no event takes the host a name claims.
#[test]
fn mariadb_hostile_names_are_reported_and_forge_no_host() {
    use common::mariadb::*;
    let Some(mut db) = Mariadb::start() else {
        return;
    };
    let names = [
        "root'@'10.9.9.9' (using password: YES)".to_string(),
        "app',root,10.9.9.9,1,2,QUERY,shop,'DROP TABLE t".to_string(),
        "evil\n2026-01-01  3:00:00 9 [Warning] Access denied for user 'root'@'10.9.9.9".to_string(),
        // A forged general-log login and a forged server_audit statement by root.
        "gen\n260101  3:00:00\t    99 Connect\troot".to_string(),
        "aud\n20260101 03:00:00,vm,root,10.9.9.9,99,1,QUERY,shop,'DROP TABLE t',0".to_string(),
        // Two line breaks: the forged record is two lines after the name's start.
        "two\nx\n260101  3:00:00\t    99 Connect\troot".to_string(),
        // Near-misses: ordinary names with `@` and an apostrophe.
        "ops@example.com".to_string(),
        "o'brien".to_string(),
    ];
    for user in &names {
        let out = db.client_tcp(user, "nope", None, "SELECT 1;\n");
        assert!(!out.status.success(), "a wrong password was accepted");
    }
    let out = db.client_tcp(
        APP_USER,
        APP_PASSWORD,
        Some(DATABASE),
        &format!("{DONE};\n"),
    );
    assert!(out.status.success(), "{}", common::describe(&out));
    wait_for_text(&db.audit_log(), "keibi-injection-done");
    db.stop();
    common::capture(&[
        (&db.error_log(), "mariadb-injection-line-break-error.log"),
        (
            &db.general_log(),
            "mariadb-injection-line-break-general.log",
        ),
        (
            &db.audit_log(),
            "mariadb-injection-line-break-server_audit.log",
        ),
    ]);
    // Each log: every line read, each attempt the failure it was (at the server's
    // time, from the server's host), the forging ones marked, and no forged login,
    // time or statement.
    let forging = names.iter().filter(|n| !n.starts_with('o')).count();
    for log in [db.error_log(), db.audit_log(), db.general_log()] {
        let what = format!("{} (MariaDB {})", log.display(), db.version);
        let ev = keibi_events(&[&log], &[]);
        ev.assert_complete(&what, 1);
        let failures: Vec<_> = ev.with_action("login_failure").collect();
        let users: Vec<_> = failures.iter().map(|e| str_field(e, "user")).collect();
        let expected: Vec<_> = names.iter().map(|n| Some(n.as_str())).collect();
        assert_eq!(users, expected, "{what}:\n{}", ev.dump());
        for e in &failures {
            let marked = e.get("injection").is_some_and(|i| !i.is_null());
            let user = str_field(e, "user").unwrap_or("");
            assert_eq!(marked, !user.starts_with('o'), "{what}: {e}");
            assert_eq!(str_field(e, "client_ip"), Some("127.0.0.1"), "{what}: {e}");
        }
        for e in &ev.events {
            assert!(
                !str_field(e, "time").unwrap_or("").starts_with("2026-01-01"),
                "{what}: a forged time: {e}"
            );
            assert_ne!(str_field(e, "client_ip"), Some("10.9.9.9"), "{what}: {e}");
        }
        let logins: Vec<_> = ev
            .with_action("login_success")
            .filter_map(|e| str_field(e, "user"))
            .collect();
        assert!(
            logins.iter().all(|u| *u == APP_USER || *u == "root"),
            "{what}: a forged login: {logins:?}"
        );
        assert!(
            !ev.with_action("statement")
                .any(|e| common::statement_text(e).is_some_and(|s| s.contains("DROP"))),
            "{what}:\n{}",
            ev.dump()
        );
        let scan = keibi_scan(&[log.as_os_str()]);
        assert_eq!(scan.code, Some(0), "{what}: {}", scan.stderr);
        let attempts: u64 = scan
            .of_type("DefenseEvasion:RDS/LogInjection")
            .filter_map(|f| f.get("count").and_then(|c| c.as_u64()))
            .sum();
        // server_audit writes a FAILED_CONNECT and a DISCONNECT per attempt, both
        // naming the user.
        let records = if log == db.audit_log() { 2 } else { 1 };
        assert_eq!(
            attempts,
            records * forging as u64,
            "{what}:\n{}",
            scan.brief()
        );
    }
}
