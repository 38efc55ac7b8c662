//! `keibi audit --pg URL --mysql URL` against real servers, configured insecurely on
//! purpose (a `trust` line for 0.0.0.0/0, MD5 passwords, a second superuser, no
//! connection logging, an untrusted language; MariaDB's root from `%` with no
//! password, an anonymous account, `local_infile`, a FILE holder, the audit plugin
//! off) and then securely: exactly the expected `KB.PG.*` / `KB.MySQL.*` controls
//! fail, and pass once fixed. Also: a wrong password or a closed port is an error
//! naming the server without its password while the other servers are still
//! audited; no password is ever printed; the probe's connection cannot write.
//!
//! The servers are the harness's (tests/common); without them a test is skipped,
//! unless `KEIBI_REQUIRE_SERVERS=1`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::mariadb::Mariadb;
use common::postgres::{Postgres, SUPERUSER, SUPERUSER_PASSWORD};
use common::{describe, output, str_field, unavailable};
use keibi_posture::Status;
use serde_json::Value;

const AUDIT_USER: &str = "keibi_audit";
const AUDIT_PASSWORD: &str = "keibi-audit-pw-7Qx";

/// What `keibi audit --format jsonl` printed.
struct Audit {
    findings: Vec<Value>,
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn keibi_audit(args: &[String]) -> Audit {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keibi"));
    cmd.args(["audit", "--format", "jsonl"])
        .args(args)
        .env_remove("KEIBI_LANG");
    let out = output(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let findings = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("non-JSON ({e}): {l}")))
        .collect();
    Audit {
        findings,
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

impl Audit {
    /// The failed controls' ids per resource id.
    fn failed(&self, resource: &str) -> BTreeSet<String> {
        self.findings
            .iter()
            .filter(|f| f["resource"]["id"] == resource)
            .map(|f| {
                let t = str_field(f, "type").unwrap_or_default();
                t.strip_prefix("Posture:")
                    .and_then(|t| t.split('/').next())
                    .unwrap_or(t)
                    .to_string()
            })
            .collect()
    }

    fn assert_no_secret(&self, secrets: &[&str]) {
        for s in secrets {
            assert!(
                !self.stdout.contains(s) && !self.stderr.contains(s),
                "the password {s:?} was printed:\nstdout:\n{}\nstderr:\n{}",
                self.stdout,
                self.stderr
            );
        }
    }
}

fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A self-signed certificate and key (PEM), made with the openssl command.
fn self_signed(dir: &Path) -> Option<(String, String)> {
    let Some(openssl) = common::which("openssl") else {
        return unavailable("openssl is not installed (to make the servers' test certificate)");
    };
    let key = dir.join("server.key");
    let crt = dir.join("server.crt");
    common::check(
        Command::new(openssl)
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=127.0.0.1", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&crt),
    );
    Some((
        std::fs::read_to_string(crt).expect("read certificate"),
        std::fs::read_to_string(key).expect("read key"),
    ))
}

fn psql_ok(pg: &Postgres, sql: &str) {
    let out = pg.psql_local(SUPERUSER, "postgres", sql);
    assert!(out.status.success(), "{sql}: {}", describe(&out));
}

fn mariadb_ok(db: &Mariadb, sql: &str) {
    let out = db.client_root(sql);
    assert!(out.status.success(), "{sql}: {}", describe(&out));
}

/// The least-privileged audit role of docs/posture.md.
const PG_AUDIT_ROLE: &str = "CREATE ROLE keibi_audit LOGIN PASSWORD 'keibi-audit-pw-7Qx';\n\
     GRANT pg_read_all_settings TO keibi_audit;\n\
     GRANT SELECT ON pg_hba_file_rules TO keibi_audit;\n\
     GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO keibi_audit;\n";

const MY_AUDIT_ACCOUNT: &str =
    "CREATE USER 'keibi_audit'@'127.0.0.1' IDENTIFIED BY 'keibi-audit-pw-7Qx';\n\
     GRANT SELECT ON mysql.user TO 'keibi_audit'@'127.0.0.1';\n\
     GRANT SELECT ON mysql.global_priv TO 'keibi_audit'@'127.0.0.1';\n";

const PG_HBA_INSECURE: &str = "local all all trust\n\
     host all all 127.0.0.1/32 scram-sha-256\n\
     host all all 0.0.0.0/0 trust\n\
     host shop app 10.0.0.0/8 md5\n";

const PG_HBA_SECURE: &str = "local all all trust\n\
     host all all 127.0.0.1/32 scram-sha-256\n\
     hostssl shop app 10.0.0.0/8 scram-sha-256\n";

fn pg_url(pg: &Postgres, user: &str, password: &str, ssl: &str) -> String {
    format!(
        "postgres://{user}:{password}@127.0.0.1:{}/postgres?sslmode={ssl}",
        pg.port
    )
}

fn my_url(db: &Mariadb, ssl: &str) -> String {
    format!(
        "mysql://{AUDIT_USER}:{AUDIT_PASSWORD}@127.0.0.1:{}/?ssl-mode={ssl}",
        db.port
    )
}

/// Makes the PostgreSQL server insecure in every way the controls look for but
/// the remote-data extensions (KB.PG.12 stays passing: "exactly" means something).
fn make_pg_insecure(pg: &Postgres) {
    psql_ok(
        pg,
        "ALTER SYSTEM SET password_encryption = 'md5';\n\
         ALTER SYSTEM SET log_connections = off;\n\
         ALTER SYSTEM SET pgaudit.log = 'none';\n\
         CREATE ROLE backdoor SUPERUSER LOGIN PASSWORD 'keibi-backdoor-pw';\n\
         CREATE ROLE helper CREATEROLE NOLOGIN;\n\
         GRANT CREATE ON SCHEMA public TO PUBLIC;\n\
         CREATE EXTENSION adminpack;\n\
         CREATE FUNCTION keibi_plpgsql_handler() RETURNS language_handler \
           AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE c;\n\
         CREATE LANGUAGE plpgsqlu HANDLER keibi_plpgsql_handler;\n\
         SELECT pg_reload_conf();\n",
    );
    pg.set_hba(PG_HBA_INSECURE);
}

#[test]
fn insecure_servers_fail_exactly_the_expected_controls_and_pass_once_fixed() {
    let Some(pg) = Postgres::start() else {
        return;
    };
    let Some(my) = Mariadb::start() else {
        return;
    };
    psql_ok(&pg, PG_AUDIT_ROLE);
    make_pg_insecure(&pg);
    mariadb_ok(&my, MY_AUDIT_ACCOUNT);
    mariadb_ok(
        &my,
        "CREATE USER 'root'@'%';\n\
         GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;\n\
         CREATE USER ''@'%';\n\
         CREATE USER 'loader'@'10.%' IDENTIFIED BY 'keibi-loader-pw';\n\
         GRANT FILE ON *.* TO 'loader'@'10.%';\n\
         SET GLOBAL local_infile = ON;\n\
         SET GLOBAL server_audit_logging = OFF;\n",
    );

    let pg_target = format!("postgres://127.0.0.1:{}", pg.port);
    let my_target = format!("mysql://127.0.0.1:{}", my.port);
    let a = keibi_audit(&[
        "--pg".into(),
        pg_url(&pg, AUDIT_USER, AUDIT_PASSWORD, "disable"),
        "--mysql".into(),
        my_url(&my, "DISABLED"),
    ]);
    assert_eq!(a.code, Some(0), "keibi audit: {}", a.stderr);
    a.assert_no_secret(&[AUDIT_PASSWORD]);
    assert_eq!(
        a.failed(&pg_target),
        ids(&[
            "KB.PG.1", "KB.PG.2", "KB.PG.3", "KB.PG.4", "KB.PG.5", "KB.PG.6", "KB.PG.8", "KB.PG.9",
            "KB.PG.10", "KB.PG.11",
        ]),
        "PostgreSQL findings:\n{}",
        a.stdout
    );
    let secure_file_priv_failed = my_secure_file_priv_is_empty(&my);
    let mut expected = vec![
        "KB.MySQL.1",
        "KB.MySQL.2",
        "KB.MySQL.3",
        "KB.MySQL.4",
        "KB.MySQL.5",
        "KB.MySQL.7",
        "KB.MySQL.8",
    ];
    if secure_file_priv_failed {
        expected.push("KB.MySQL.6");
    }
    assert_eq!(
        a.failed(&my_target),
        ids(&expected),
        "MariaDB findings:\n{}",
        a.stdout
    );
    // The evidence names the line and the account, and the severity follows it.
    let trust = a
        .findings
        .iter()
        .find(|f| str_field(f, "type") == Some("Posture:KB.PG.1/HbaTrustOverNetwork"))
        .expect("KB.PG.1");
    assert!(
        trust
            .to_string()
            .contains("host all all 0.0.0.0/0 trust (line 3)"),
        "{trust}"
    );
    let empty = a
        .findings
        .iter()
        .find(|f| str_field(f, "type") == Some("Posture:KB.MySQL.1/EmptyPassword"))
        .expect("KB.MySQL.1");
    assert_eq!(empty["severity"].as_f64(), Some(9.0), "{empty}");
    assert!(empty.to_string().contains("'root'@'%'"), "{empty}");
    for f in &a.findings {
        assert!(
            !str_field(f, "title").unwrap_or_default().is_empty()
                && !str_field(f, "title").unwrap_or_default().contains("-title"),
            "a finding without its catalog title: {f}"
        );
    }
    drop(my);

    // Fixed: TLS on and required, SCRAM, logging and auditing on, no extra admins.
    let Some((crt, key)) = self_signed(pg.dir()) else {
        return;
    };
    let crt_path = pg.write_private("server.crt", &crt);
    let key_path = pg.write_private("server.key", &key);
    psql_ok(
        &pg,
        &format!(
            "ALTER SYSTEM SET ssl_cert_file = '{}';\n\
             ALTER SYSTEM SET ssl_key_file = '{}';\n\
             ALTER SYSTEM SET ssl = on;\n\
             ALTER SYSTEM SET password_encryption = 'scram-sha-256';\n\
             ALTER SYSTEM SET log_connections = on;\n\
             ALTER SYSTEM SET pgaudit.log = 'ddl, role';\n\
             DROP ROLE backdoor;\n\
             DROP ROLE helper;\n\
             REVOKE CREATE ON SCHEMA public FROM PUBLIC;\n\
             DROP EXTENSION adminpack;\n\
             DROP LANGUAGE plpgsqlu;\n\
             SELECT pg_reload_conf();\n",
            crt_path.display(),
            key_path.display()
        ),
    );
    pg.set_hba(PG_HBA_SECURE);
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((crt, key)) = self_signed(dir.path()) else {
        return;
    };
    std::fs::write(dir.path().join("server.crt"), crt).expect("write crt");
    std::fs::write(dir.path().join("server.key"), key).expect("write key");
    let files = dir.path().join("files");
    std::fs::create_dir(&files).expect("files dir");
    let Some(my) = Mariadb::start_with(&format!(
        "ssl_cert={d}/server.crt\nssl_key={d}/server.key\n\
         require_secure_transport=ON\nlocal_infile=OFF\nsecure_file_priv={f}\n",
        d = dir.path().display(),
        f = files.display()
    )) else {
        return;
    };
    mariadb_ok(&my, MY_AUDIT_ACCOUNT);
    mariadb_ok(
        &my,
        "DROP USER 'admin'@'%';\n\
         DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';\n\
         FLUSH PRIVILEGES;\n\
         ALTER USER 'root'@'localhost' IDENTIFIED BY 'keibi-root-pw';\n",
    );
    let pg_tls = pg_url(&pg, AUDIT_USER, AUDIT_PASSWORD, "require");
    let my_tls = my_url(&my, "REQUIRED");
    let a = keibi_audit(&[
        "--pg".into(),
        pg_tls.clone(),
        "--mysql".into(),
        my_tls.clone(),
    ]);
    assert_eq!(a.code, Some(0), "keibi audit: {}", a.stderr);
    assert!(
        a.findings.is_empty(),
        "a secure server still fails:\n{}\nstderr:\n{}",
        a.stdout,
        a.stderr
    );
    a.assert_no_secret(&[AUDIT_PASSWORD]);

    // Nothing failed because everything was judged: every control but the
    // policy-only KB.PG.7 passed on its server (through the least-privileged role).
    let t = Duration::from_secs(20);
    let snap = keibi_posture::Snapshot {
        postgres: vec![keibi_dbprobe::probe_postgres(&pg_tls, t).expect("probe pg")],
        mysql: vec![keibi_dbprobe::probe_mysql(&my_tls, t).expect("probe mysql")],
        ..Default::default()
    };
    assert!(
        snap.postgres[0].notes.is_empty(),
        "{:?}",
        snap.postgres[0].notes
    );
    assert!(snap.mysql[0].notes.is_empty(), "{:?}", snap.mysql[0].notes);
    let report = keibi_posture::audit(&snap, chrono::Utc::now());
    let passed: BTreeSet<String> = report
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Passed)
        .map(|o| o.control.id.to_string())
        .collect();
    let all: BTreeSet<String> = keibi_posture::db::CONTROLS
        .iter()
        .map(|c| c.id.to_string())
        .filter(|id| id != "KB.PG.7")
        .collect();
    assert_eq!(passed, all, "controls that passed on the secure servers");
    assert_eq!(report.failed().count(), 0);
    drop(pg);
}

/// Whether this MariaDB build's default `secure_file_priv` is empty (anywhere):
/// Debian's is; the test expects KB.MySQL.6 to fail exactly then.
fn my_secure_file_priv_is_empty(my: &Mariadb) -> bool {
    let out = my.client_root("SELECT IFNULL(@@GLOBAL.secure_file_priv, 'NULL');\n");
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().nth(1).unwrap_or("").trim().is_empty()
}

#[test]
fn a_wrong_password_or_a_closed_port_is_an_error_and_the_other_servers_are_still_audited() {
    let Some(pg) = Postgres::start() else {
        return;
    };
    let closed = common::free_port();
    let wrong = format!(
        "postgres://{SUPERUSER}:not-the-pw-3Zk@127.0.0.1:{}/postgres?sslmode=disable",
        pg.port
    );
    let refused = format!("mysql://root:closed-pw-9Yq@127.0.0.1:{closed}/");
    let good = pg_url(&pg, SUPERUSER, SUPERUSER_PASSWORD, "disable");
    let a = keibi_audit(&[
        "--pg".into(),
        wrong,
        "--pg".into(),
        good,
        "--mysql".into(),
        refused,
    ]);
    a.assert_no_secret(&["not-the-pw-3Zk", "closed-pw-9Yq", SUPERUSER_PASSWORD]);
    assert!(
        a.stderr.contains(&format!(
            "postgres://{SUPERUSER}:***@127.0.0.1:{}/postgres?sslmode=disable: ",
            pg.port
        )) && a.stderr.contains("password authentication failed"),
        "stderr: {}",
        a.stderr
    );
    assert!(
        a.stderr
            .contains(&format!("mysql://root:***@127.0.0.1:{closed}/: ")),
        "stderr: {}",
        a.stderr
    );
    // The good server was audited: the harness's server has SSL off.
    let target = format!("postgres://127.0.0.1:{}", pg.port);
    assert!(
        a.failed(&target).contains("KB.PG.4"),
        "the reachable server was not audited:\n{}\n{}",
        a.stdout,
        a.stderr
    );

    // A role without the audit grants: what it cannot read is a note, the rest is
    // still judged, and nothing is failed for lack of a view.
    let out = pg.psql_local(
        SUPERUSER,
        "postgres",
        "ALTER SYSTEM SET password_encryption = 'md5';\nSELECT pg_reload_conf();\n",
    );
    assert!(out.status.success(), "{}", describe(&out));
    let app = pg_url(
        &pg,
        common::postgres::APP_USER,
        common::postgres::APP_PASSWORD,
        "disable",
    );
    let a = keibi_audit(&["--pg".into(), app]);
    assert_eq!(a.code, Some(0), "{}", a.stderr);
    assert!(
        a.stderr.contains(&format!(
            "{target}: could not read pg_hba_file_rules (permission denied"
        )) && a.stderr.contains(&format!(
            "{target}: could not read shared_preload_libraries"
        )),
        "stderr: {}",
        a.stderr
    );
    let failed = a.failed(&target);
    assert!(failed.contains("KB.PG.5"), "{}", a.stdout);
    for id in ["KB.PG.1", "KB.PG.2", "KB.PG.3", "KB.PG.10"] {
        assert!(
            !failed.contains(id),
            "{id} judged without its view:\n{}",
            a.stdout
        );
    }
    a.assert_no_secret(&[common::postgres::APP_PASSWORD]);
}

#[test]
fn the_probes_connections_cannot_write() {
    let Some(pg) = Postgres::start() else {
        return;
    };
    let t = Duration::from_secs(20);
    let url = pg_url(&pg, SUPERUSER, SUPERUSER_PASSWORD, "disable");
    // The same connection reads...
    keibi_dbprobe::execute_as_probe(&url, t, "SELECT 1").expect("a read works");
    // ...but even the superuser cannot write through it.
    for sql in [
        "CREATE TABLE keibi_probe_write (id int)",
        "CREATE ROLE keibi_probe_role",
        "INSERT INTO pg_catalog.pg_description VALUES (1, 1, 0, 'x')",
    ] {
        let e = keibi_dbprobe::execute_as_probe(&url, t, sql)
            .expect_err(&format!("{sql} succeeded through the probe's connection"));
        assert!(
            e.to_string().contains("read-only transaction"),
            "{sql}: {e}"
        );
        assert!(!e.to_string().contains(SUPERUSER_PASSWORD), "{e}");
    }
    drop(pg);

    let Some(my) = Mariadb::start() else {
        return;
    };
    let url = format!(
        "mysql://{}:{}@127.0.0.1:{}/{}",
        common::mariadb::ADMIN_USER,
        common::mariadb::ADMIN_PASSWORD,
        my.port,
        common::mariadb::DATABASE
    );
    keibi_dbprobe::execute_as_probe(&url, t, "SELECT COUNT(*) FROM customers").expect("read");
    let e = keibi_dbprobe::execute_as_probe(
        &url,
        t,
        "INSERT INTO customers VALUES (3, 'eve@example.com')",
    )
    .expect_err("an INSERT succeeded through the probe's connection");
    assert!(e.to_string().contains("READ ONLY"), "{e}");
    // An account with no grants: mysql.user is a note, the variables still judged.
    let url = format!(
        "mysql://reporting:keibi-reporting-pw@127.0.0.1:{}/",
        my.port
    );
    let snap = keibi_dbprobe::probe_mysql(&url, t).expect("probe as reporting");
    assert!(snap.accounts.is_none());
    assert!(
        snap.notes
            .iter()
            .any(|n| n.id == "db-note-unreadable" && format!("{n:?}").contains("mysql.user")),
        "{:?}",
        snap.notes
    );
    assert!(
        snap.variable("local_infile").is_some(),
        "{:?}",
        snap.variables
    );
    let out = my.client_tcp(
        common::mariadb::ADMIN_USER,
        common::mariadb::ADMIN_PASSWORD,
        Some(common::mariadb::DATABASE),
        "SELECT COUNT(*) FROM customers;\n",
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains('2'),
        "{}",
        describe(&out)
    );
}
