//! keibi on what real servers write: each test starts a real PostgreSQL (with
//! pgaudit) or MariaDB (with server_audit), plays the same small attack-and-use
//! scenario against it, and checks that `keibi events` reads every line of every
//! log and makes the right events of them.
//!
//! Hand-written log lines only test what their author believed; these logs are the
//! servers' own. The servers are found on the machine (`scripts/test.sh` installs
//! them); without them a test is skipped, unless `KEIBI_REQUIRE_SERVERS=1`, which
//! CI sets so that a missing server is a failure and not a silent pass.

mod common;

use common::{keibi_events, statement_field, str_field, tcp_probe, wait_for_text, Keibi};
use serde_json::Value;

/// A read with commas, a quoted string holding a comma, a doubled quote and a
/// newline, over several lines: what naive CSV or line-based parsing breaks on.
const TRICKY_SELECT: &str =
    "SELECT id, note\n  FROM orders\n WHERE note <> 'a, b ''quoted''\nand a new line'";

/// Statement the scenario ends with; once it is in a log, so is everything before it.
const LAST_SQL: &str = "SELECT 'keibi-scenario-done' AS marker";

#[test]
fn postgresql_logs_are_read_completely() {
    use common::postgres::*;
    let Some(mut pg) = Postgres::start() else {
        return;
    };

    // A successful login by the application, using the database.
    let app_sql = format!(
        "CREATE TABLE orders (id int PRIMARY KEY, customer int, note text);\n\
         INSERT INTO orders VALUES (1, 1, 'first'), (2, 2, 'second, with comma');\n\
         UPDATE orders SET note = 'updated' WHERE id = 1;\n\
         {TRICKY_SELECT};\n"
    );
    let out = pg.psql_tcp(APP_USER, APP_PASSWORD, DATABASE, &app_sql);
    assert!(
        out.status.success(),
        "app session failed: {}",
        common::describe(&out)
    );

    // Wrong password, then a user that does not exist.
    let out = pg.psql_tcp(APP_USER, "wrong-password", DATABASE, "SELECT 1;\n");
    assert!(!out.status.success(), "a wrong password was accepted");
    let out = pg.psql_tcp("nosuchuser", "whatever", DATABASE, "SELECT 1;\n");
    assert!(!out.status.success(), "an unknown user was accepted");

    // A port scan: connect, send nothing, close.
    let probe_port = tcp_probe(pg.port);

    // The superuser grants, then the application ends the scenario.
    let out = pg.psql_tcp(
        SUPERUSER,
        SUPERUSER_PASSWORD,
        DATABASE,
        "GRANT SELECT ON orders TO reporting;\n",
    );
    assert!(
        out.status.success(),
        "GRANT failed: {}",
        common::describe(&out)
    );
    let out = pg.psql_tcp(APP_USER, APP_PASSWORD, DATABASE, &format!("{LAST_SQL};\n"));
    assert!(
        out.status.success(),
        "last query failed: {}",
        common::describe(&out)
    );

    for log in [pg.stderr_log(), pg.csv_log(), pg.json_log()] {
        wait_for_text(&log, "keibi-scenario-done");
    }
    pg.stop();
    common::capture(&[
        (&pg.stderr_log(), "postgresql-rds-prefix.log"),
        (&pg.csv_log(), "postgresql.csv"),
        (&pg.json_log(), "postgresql.json"),
    ]);

    let mut logins = Vec::new();
    for (log, source) in [
        (pg.stderr_log(), "postgres_stderr"),
        (pg.csv_log(), "postgres_csv"),
        (pg.json_log(), "postgres_json"),
    ] {
        let what = format!("{source} ({}, PostgreSQL {})", log.display(), pg.version);
        let k = keibi_events(&[&log], &[]);
        k.assert_complete(&what, 1);
        k.assert_time_ordered(&what);
        assert_sources(&k, &what, source);
        check_postgres(&k, &what, probe_port);
        logins.push((what, login_summary(&k)));
    }
    let (first_what, first) = &logins[0];
    for (what, l) in &logins[1..] {
        assert_eq!(l, first, "{what} gives other logins than {first_what}");
    }

    // All three together: one stream, still in time order.
    let all = keibi_events(&[&pg.log_dir()], &[]);
    all.assert_complete("the PostgreSQL log directory", 3);
    all.assert_time_ordered("the PostgreSQL log directory");
}

fn check_postgres(k: &Keibi, what: &str, probe_port: u16) {
    let ctx = || format!("{what}; events:\n{}", k.dump());

    // Every client in the scenario came from loopback.
    for e in k.events.iter().filter(|e| e.get("client_port").is_some()) {
        assert_eq!(
            str_field(e, "client_ip"),
            Some("127.0.0.1"),
            "client_ip of {e}; {what}"
        );
    }

    let ok: Vec<&Value> = k
        .with_action("login_success")
        .filter(|e| str_field(e, "user") == Some("app"))
        .collect();
    assert!(ok.len() >= 2, "no login_success events for app; {}", ctx());
    for e in &ok {
        assert_eq!(str_field(e, "database"), Some("shop"), "{e}");
        assert_eq!(
            str_field(e, "auth_method"),
            Some("scram-sha-256"),
            "auth_method of {e}; {what}"
        );
    }

    let failure = |user: &str| -> &Value {
        k.with_action("login_failure")
            .find(|e| str_field(e, "user") == Some(user))
            .unwrap_or_else(|| panic!("no login_failure for {user}; {}", ctx()))
    };
    for user in ["app", "nosuchuser"] {
        let e = failure(user);
        assert_eq!(
            str_field(e, "error_code"),
            Some("28P01"),
            "error_code of {e}; {what}"
        );
        assert_eq!(str_field(e, "client_ip"), Some("127.0.0.1"), "{e}");
    }

    // PostgreSQL 11+ logs only "connection received" for a connection that sends
    // nothing; what makes it a probe is that no login follows on that port.
    let on_probe_port: Vec<&Value> = k
        .events
        .iter()
        .filter(|e| e.get("client_port").and_then(Value::as_u64) == Some(u64::from(probe_port)))
        .collect();
    assert!(
        on_probe_port.iter().any(|e| matches!(
            str_field(e, "action"),
            Some("connection_received" | "probe")
        )),
        "no event for the probe from port {probe_port}; {}",
        ctx()
    );
    assert!(
        on_probe_port.iter().all(|e| !matches!(
            str_field(e, "action"),
            Some("login_success" | "login_failure")
        )),
        "the probe from port {probe_port} became a login; {}",
        ctx()
    );

    check_statements(k, what, "ddl");
}

#[test]
fn mariadb_logs_are_read_completely() {
    use common::mariadb::*;
    let Some(mut db) = Mariadb::start() else {
        return;
    };

    let app_sql = format!(
        "CREATE TABLE orders (id INT PRIMARY KEY, customer INT, note TEXT);\n\
         INSERT INTO orders VALUES (1, 1, 'first'), (2, 2, 'second, with comma');\n\
         UPDATE orders SET note = 'updated' WHERE id = 1;\n\
         {TRICKY_SELECT};\n"
    );
    let out = db.client_tcp(APP_USER, APP_PASSWORD, Some(DATABASE), &app_sql);
    assert!(
        out.status.success(),
        "app session failed: {}",
        common::describe(&out)
    );

    let out = db.client_tcp(APP_USER, "wrong-password", Some(DATABASE), "SELECT 1;\n");
    assert!(!out.status.success(), "a wrong password was accepted");
    let out = db.client_tcp("nosuchuser", "whatever", None, "SELECT 1;\n");
    assert!(!out.status.success(), "an unknown user was accepted");

    tcp_probe(db.port);

    let out = db.client_tcp(
        ADMIN_USER,
        ADMIN_PASSWORD,
        Some(DATABASE),
        "GRANT SELECT ON shop.orders TO 'reporting'@'%';\n",
    );
    assert!(
        out.status.success(),
        "GRANT failed: {}",
        common::describe(&out)
    );
    let out = db.client_tcp(
        APP_USER,
        APP_PASSWORD,
        Some(DATABASE),
        &format!("{LAST_SQL};\n"),
    );
    assert!(
        out.status.success(),
        "last query failed: {}",
        common::describe(&out)
    );

    wait_for_text(&db.audit_log(), "keibi-scenario-done");
    wait_for_text(&db.general_log(), "keibi-scenario-done");
    wait_for_text(&db.error_log(), "unauthenticated");
    db.stop();
    common::capture(&[
        (&db.audit_log(), "mariadb-server_audit.log"),
        (&db.error_log(), "mariadb-error.log"),
        (&db.general_log(), "mariadb-general.log"),
        (&db.slow_log(), "mariadb-slow.log"),
    ]);

    for (log, source) in [
        (db.audit_log(), "mysql_audit"),
        (db.error_log(), "mysql_error"),
        (db.general_log(), "mysql_general"),
    ] {
        let what = format!("{source} ({}, {})", log.display(), db.version);
        let k = keibi_events(&[&log], &[]);
        k.assert_complete(&what, 1);
        k.assert_time_ordered(&what);
        assert_sources(&k, &what, source);
        check_mariadb(&k, &what, source);
    }

    let all = keibi_events(&[&db.audit_log(), &db.error_log(), &db.general_log()], &[]);
    all.assert_complete("the MariaDB logs", 3);
    all.assert_time_ordered("the MariaDB logs");

    // The slow query log (`long_query_time=0`: every statement) names who ran each
    // statement, from where, and how many rows it sent.
    let what = format!("mysql_slow ({}, {})", db.slow_log().display(), db.version);
    let k = keibi_events(&[&db.slow_log()], &[]);
    k.assert_complete(&what, 1);
    k.assert_time_ordered(&what);
    assert_sources(&k, &what, "mysql_slow");
    let select = k.statement(&what, TRICKY_SELECT);
    assert_eq!(str_field(select, "user"), Some("app"), "{what}: {select}");
    assert_eq!(
        str_field(select, "client_ip"),
        Some("127.0.0.1"),
        "{what}: {select}"
    );
    assert_eq!(
        str_field(select, "database"),
        Some("shop"),
        "{what}: {select}"
    );
    assert_eq!(
        select
            .pointer("/statement/rows_sent")
            .and_then(Value::as_u64),
        Some(2),
        "{what}: {select}"
    );
    assert!(
        select.pointer("/statement/duration_us").is_some(),
        "{what}: {select}"
    );
    let done = k.statement(&what, LAST_SQL);
    assert_eq!(
        done.pointer("/statement/rows_sent").and_then(Value::as_u64),
        Some(1),
        "{what}: {done}"
    );
    assert!(
        !k.dump().contains("keibi-app-pw"),
        "{what}: a password in clear: {}",
        k.dump()
    );

    // The same error log through syslog, as Debian's MariaDB files it (stderr to the
    // journal, the journal to rsyslog): a real rsyslogd writes the headers.
    let Some(syslog) = common::rsyslog::Rsyslog::start() else {
        return;
    };
    syslog.send_file("mariadbd", 4242, &db.error_log());
    common::capture(&[(&syslog.log(), "mariadb-error-syslog.log")]);
    let what = format!("the error log through rsyslog ({})", db.version);
    let k = keibi_events(&[&syslog.log()], &[]);
    k.assert_complete(&what, 1);
    k.assert_time_ordered(&what);
    assert_sources(&k, &what, "mysql_error");
    check_mariadb(&k, &what, "mysql_error");
    let plain = keibi_events(&[&db.error_log()], &[]);
    assert_eq!(
        k.with_action("login_failure").count(),
        plain.with_action("login_failure").count(),
        "{what}: failed logins differ from the plain error log"
    );
}

fn check_mariadb(k: &Keibi, what: &str, source: &str) {
    let ctx = || format!("{what}; events:\n{}", k.dump());
    let from_loopback = |e: &Value| str_field(e, "client_ip") == Some("127.0.0.1");

    // Failed logins: the audit and the error log both name the user; the general
    // log writes "Access denied" too.
    for user in ["app", "nosuchuser"] {
        let e = k
            .with_action("login_failure")
            .find(|e| str_field(e, "user") == Some(user))
            .unwrap_or_else(|| panic!("no login_failure for {user}; {}", ctx()));
        assert!(from_loopback(e), "client_ip of {e}; {what}");
        assert_eq!(
            str_field(e, "error_code"),
            Some("1045"),
            "error_code of {e}; {what}"
        );
    }

    // The bare connect-and-close: the audit log writes FAILED_CONNECT with no user
    // and error 1158, the error log (log_warnings >= 4) "Aborted connection ...
    // user: 'unauthenticated' ... closed normally without authentication".
    if source != "mysql_general" {
        let probe = k
            .with_action("probe")
            .next()
            .unwrap_or_else(|| panic!("no probe event; {}", ctx()));
        assert!(from_loopback(probe), "client_ip of {probe}; {what}");
        assert!(
            k.with_action("login_failure")
                .all(|e| str_field(e, "user").is_some_and(|u| !u.is_empty())),
            "a login_failure without a user (the probe?); {}",
            ctx()
        );
    }

    // The general log writes a failed login as two `Connect` lines of the same
    // connection: "app@127.0.0.1 on shop using TCP/IP", then "Access denied ...".
    // The first is an attempt, not a login.
    let failed: Vec<&str> = k
        .with_action("login_failure")
        .filter_map(|e| str_field(e, "session_id"))
        .collect();
    for e in k.with_action("login_success") {
        assert!(
            !str_field(e, "session_id").is_some_and(|s| failed.contains(&s)),
            "login_success on a connection whose login failed: {e}; {}",
            ctx()
        );
    }

    if source == "mysql_error" {
        return; // the error log has no logins and no statements
    }
    let ok: Vec<&Value> = k
        .with_action("login_success")
        .filter(|e| str_field(e, "user") == Some("app"))
        .collect();
    assert!(ok.len() >= 2, "no login_success events for app; {}", ctx());
    for e in &ok {
        assert!(from_loopback(e), "client_ip of {e}; {what}");
        assert_eq!(str_field(e, "database"), Some("shop"), "{e}; {what}");
    }
    check_statements(k, what, "mysql");
}

/// The scenario's statements: DDL, writes, the tricky read intact, and the GRANT
/// as a ROLE statement.
fn check_statements(k: &Keibi, what: &str, dialect: &str) {
    let create = if dialect == "mysql" {
        "CREATE TABLE orders (id INT PRIMARY KEY, customer INT, note TEXT)"
    } else {
        "CREATE TABLE orders (id int PRIMARY KEY, customer int, note text)"
    };
    let e = k.statement(what, create);
    assert_eq!(statement_field(e, "class"), Some("DDL"), "{e}; {what}");
    let e = k.statement(
        what,
        "INSERT INTO orders VALUES (1, 1, 'first'), (2, 2, 'second, with comma')",
    );
    assert_eq!(statement_field(e, "class"), Some("WRITE"), "{e}; {what}");
    let e = k.statement(what, "UPDATE orders SET note = 'updated' WHERE id = 1");
    assert_eq!(statement_field(e, "class"), Some("WRITE"), "{e}; {what}");
    let e = k.statement(what, TRICKY_SELECT);
    assert_eq!(statement_field(e, "class"), Some("READ"), "{e}; {what}");
    assert_eq!(str_field(e, "user"), Some("app"), "{e}; {what}");
    let grant = if dialect == "mysql" {
        "GRANT SELECT ON shop.orders TO 'reporting'@'%'"
    } else {
        "GRANT SELECT ON orders TO reporting"
    };
    let e = k.statement(what, grant);
    assert_eq!(statement_field(e, "class"), Some("ROLE"), "{e}; {what}");
    assert_eq!(statement_field(e, "command"), Some("GRANT"), "{e}; {what}");
}

fn assert_sources(k: &Keibi, what: &str, source: &str) {
    for e in &k.events {
        assert_eq!(str_field(e, "source"), Some(source), "{what}: {e}");
    }
}

/// The logins of a PostgreSQL log, comparable across stderr, csvlog and jsonlog.
fn login_summary(k: &Keibi) -> Vec<(String, String, u64, String)> {
    let mut v: Vec<_> = k
        .events
        .iter()
        .filter(|e| {
            matches!(
                str_field(e, "action"),
                Some("login_success" | "login_failure")
            )
        })
        .map(|e| {
            (
                str_field(e, "action").unwrap_or_default().to_owned(),
                str_field(e, "user").unwrap_or_default().to_owned(),
                e.get("client_port")
                    .and_then(Value::as_u64)
                    .unwrap_or_default(),
                str_field(e, "error_code").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// PgBouncer in front of PostgreSQL: logins through the pooler, good and bad, are
/// read from PgBouncer's log with the real client's address and port; a failed login
/// is one `login_failure` however many lines PgBouncer writes about it.
#[test]
fn pgbouncer_log_is_read_completely() {
    use common::pgbouncer::Pgbouncer;
    use common::postgres::*;
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    let Some(mut bouncer) = Pgbouncer::start(&pg) else {
        return;
    };
    let port = bouncer.port;
    let psql = |user: &str, password: &str, db: &str, sql: &str| {
        pg.psql_tcp_port(port, user, password, db, sql)
    };
    let ok = psql(APP_USER, APP_PASSWORD, DATABASE, "SELECT 1;\n");
    assert!(
        ok.status.success(),
        "login through pgbouncer failed: {}",
        common::describe(&ok)
    );
    const WRONG_PASSWORDS: usize = 4;
    for i in 0..WRONG_PASSWORDS {
        let bad = psql(
            APP_USER,
            &format!("wrong-password-{i}"),
            DATABASE,
            "SELECT 1;\n",
        );
        assert!(!bad.status.success(), "pgbouncer accepted a wrong password");
    }
    let unknown = psql("nosuchuser", "whatever", DATABASE, "SELECT 1;\n");
    assert!(
        !unknown.status.success(),
        "pgbouncer accepted an unknown user"
    );
    let nodb = psql(APP_USER, APP_PASSWORD, "nosuchdb", "SELECT 1;\n");
    assert!(
        !nodb.status.success(),
        "pgbouncer served an unknown database"
    );
    // A port scan: PgBouncer logs nothing for it.
    tcp_probe(port);
    let last = psql(APP_USER, APP_PASSWORD, DATABASE, &format!("{LAST_SQL};\n"));
    assert!(
        last.status.success(),
        "last login failed: {}",
        common::describe(&last)
    );
    bouncer.stop();
    pg.stop();
    common::capture(&[(&bouncer.log(), "pgbouncer.log")]);

    let what = format!(
        "pgbouncer ({}, {})",
        bouncer.log().display(),
        bouncer.version
    );
    let k = keibi_events(&[&bouncer.log()], &[]);
    k.assert_complete(&what, 1);
    k.assert_time_ordered(&what);
    assert_sources(&k, &what, "pgbouncer");
    let ctx = || format!("{what}; events:\n{}", k.dump());
    let ok: Vec<&Value> = k.with_action("login_success").collect();
    assert_eq!(ok.len(), 2, "two logins through the pooler; {}", ctx());
    let failed: Vec<&Value> = k.with_action("login_failure").collect();
    assert_eq!(
        failed.len(),
        WRONG_PASSWORDS + 2,
        "one failure per wrong password, unknown user, unknown database; {}",
        ctx()
    );
    for e in ok.iter().chain(&failed) {
        assert_eq!(
            str_field(e, "client_ip"),
            Some("127.0.0.1"),
            "{e}; {}",
            ctx()
        );
        assert!(e.get("client_port").is_some(), "{e}; {}", ctx());
        assert_eq!(str_field(e, "source"), Some("pgbouncer"));
    }
    for e in &ok {
        assert_eq!(str_field(e, "user"), Some(APP_USER), "{e}");
        assert_eq!(str_field(e, "database"), Some(DATABASE), "{e}");
    }
    let users: Vec<_> = failed.iter().map(|e| str_field(e, "user")).collect();
    assert_eq!(
        users.iter().filter(|u| **u == Some("nosuchuser")).count(),
        1,
        "{}",
        ctx()
    );
    assert!(
        failed
            .iter()
            .any(|e| str_field(e, "database") == Some("nosuchdb")),
        "the unknown database is named; {}",
        ctx()
    );
    // Each failed port logged in never.
    for f in &failed {
        assert!(
            !ok.iter()
                .any(|o| o.get("client_port") == f.get("client_port")),
            "{f} also a success; {}",
            ctx()
        );
    }
}
