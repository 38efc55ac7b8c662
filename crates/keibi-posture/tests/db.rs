//! The in-database controls on hand-made snapshots: each `KB.PG.*` and
//! `KB.MySQL.*` control passes on a secure server and fails on one insecure in
//! exactly its way, with the evidence; what was not read is not judged.

use chrono::{TimeZone, Utc};
use keibi_posture::db::{
    check_mysql, check_postgres, DbPolicy, HbaRule, MyAccount, MyPlugin, MySqlFlavor,
    MySqlSnapshot, PgLanguage, PgRole, PgSnapshot, Rows, CONTROLS, MAX_ROWS,
};
use keibi_posture::{Outcome, Status};

const PG: &str = "postgres://db.example:5432";
const MY: &str = "mysql://db.example:3306";

fn hba(line: u32, kind: &str, addr: Option<&str>, mask: Option<&str>, method: &str) -> HbaRule {
    HbaRule {
        line,
        kind: kind.into(),
        databases: vec!["all".into()],
        users: vec!["all".into()],
        address: addr.map(String::from),
        netmask: mask.map(String::from),
        method: method.into(),
        error: None,
    }
}

fn role(name: &str) -> PgRole {
    PgRole {
        name: name.into(),
        can_login: true,
        ..PgRole::default()
    }
}

/// A PostgreSQL server with nothing to find: the bootstrap superuser, an app role,
/// SCRAM over TLS from one network, logging and pgaudit on.
fn pg_secure() -> PgSnapshot {
    let mut settings = std::collections::BTreeMap::new();
    for (k, v) in [
        ("ssl", "on"),
        ("password_encryption", "scram-sha-256"),
        ("log_connections", "on"),
        ("log_disconnections", "on"),
        ("shared_preload_libraries", "pg_stat_statements,pgaudit"),
        ("pgaudit.log", "ddl, role"),
    ] {
        settings.insert(k.to_string(), v.to_string());
    }
    PgSnapshot {
        target: PG.into(),
        version: Some("15.14".into()),
        version_num: Some(150014),
        settings,
        hba: Some(Rows::new(vec![
            hba(1, "local", None, None, "peer"),
            hba(
                2,
                "host",
                Some("127.0.0.1"),
                Some("255.255.255.255"),
                "trust",
            ),
            hba(
                3,
                "host",
                Some("::1"),
                Some("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                "md5",
            ),
            hba(
                4,
                "hostssl",
                Some("10.0.2.0"),
                Some("255.255.255.0"),
                "scram-sha-256",
            ),
            hba(5, "host", Some("0.0.0.0"), Some("0.0.0.0"), "reject"),
        ])),
        roles: Some(Rows::new(vec![
            PgRole {
                superuser: true,
                createrole: true,
                bypassrls: true,
                bootstrap: true,
                ..role("postgres")
            },
            role("app"),
            PgRole {
                can_login: false,
                ..role("reporting")
            },
        ])),
        extensions: Some(Rows::new(vec!["plpgsql".into(), "pgaudit".into()])),
        languages: Some(Rows::new(vec![
            PgLanguage {
                name: "internal".into(),
                trusted: false,
            },
            PgLanguage {
                name: "c".into(),
                trusted: false,
            },
            PgLanguage {
                name: "sql".into(),
                trusted: true,
            },
            PgLanguage {
                name: "plpgsql".into(),
                trusted: true,
            },
        ])),
        public_create: Some(false),
        rds: false,
        notes: Vec::new(),
        policy: DbPolicy::default(),
    }
}

fn account(user: &str, host: &str) -> MyAccount {
    MyAccount {
        user: user.into(),
        host: host.into(),
        plugin: "mysql_native_password".into(),
        ..MyAccount::default()
    }
}

fn my_secure() -> MySqlSnapshot {
    let mut variables = std::collections::BTreeMap::new();
    for (k, v) in [
        ("require_secure_transport", Some("ON")),
        ("local_infile", Some("OFF")),
        ("secure_file_priv", Some("/var/lib/mysql-files/")),
        ("server_audit_logging", Some("ON")),
        ("server_audit_events", Some("CONNECT,QUERY")),
    ] {
        variables.insert(k.to_string(), v.map(String::from));
    }
    MySqlSnapshot {
        target: MY.into(),
        version: Some("10.11.14-MariaDB".into()),
        flavor: Some(MySqlFlavor::MariaDb),
        accounts: Some(Rows::new(vec![
            MyAccount {
                all: true,
                super_priv: true,
                file: true,
                grant_option: true,
                create_user: true,
                ..account("root", "localhost")
            },
            MyAccount {
                auth_empty: true,
                locked: true,
                ..account("mariadb.sys", "localhost")
            },
            account("app", "10.0.2.%"),
            MyAccount {
                plugin: "unix_socket".into(),
                auth_empty: true,
                ..account("backup", "localhost")
            },
        ])),
        variables,
        plugins: Some(Rows::new(vec![MyPlugin {
            name: "SERVER_AUDIT".into(),
            status: "ACTIVE".into(),
        }])),
        rds: false,
        notes: Vec::new(),
        policy: DbPolicy::default(),
    }
}

fn pg_outcomes(s: &PgSnapshot) -> Vec<Outcome> {
    let mut out = Vec::new();
    check_postgres(s, &mut out);
    out
}

fn my_outcomes(s: &MySqlSnapshot) -> Vec<Outcome> {
    let mut out = Vec::new();
    check_mysql(s, &mut out);
    out
}

fn get<'a>(out: &'a [Outcome], id: &str) -> &'a Outcome {
    let mut it = out.iter().filter(|o| o.control.id == id);
    let o = it.next().unwrap_or_else(|| panic!("{id} not evaluated"));
    assert!(it.next().is_none(), "{id} evaluated twice");
    o
}

fn failed_ids(out: &[Outcome]) -> Vec<&'static str> {
    out.iter()
        .filter(|o| o.status == Status::Failed)
        .map(|o| o.control.id)
        .collect()
}

fn evidence(o: &Outcome) -> Vec<&str> {
    o.evidence.iter().map(|e| e.observed.as_str()).collect()
}

#[test]
fn a_secure_postgresql_passes_every_control_but_the_policy_one() {
    let out = pg_outcomes(&pg_secure());
    assert_eq!(failed_ids(&out), Vec::<&str>::new());
    let ids: Vec<&str> = out.iter().map(|o| o.control.id).collect();
    assert_eq!(
        ids,
        [
            "KB.PG.1", "KB.PG.2", "KB.PG.3", "KB.PG.4", "KB.PG.5", "KB.PG.6", "KB.PG.8", "KB.PG.9",
            "KB.PG.10", "KB.PG.11", "KB.PG.12"
        ]
    );
    for o in &out {
        assert_eq!(o.resource.kind, "database");
        assert_eq!(o.resource.id, PG);
        assert_eq!(o.resource.engine, Some(keibi_model::Engine::Postgres));
    }
}

/// `edit` makes one thing insecure; exactly `id` fails, with `fact` in its evidence.
fn pg_fails_only(id: &str, fact: &str, edit: impl FnOnce(&mut PgSnapshot)) -> Outcome {
    let mut s = pg_secure();
    edit(&mut s);
    let out = pg_outcomes(&s);
    assert_eq!(failed_ids(&out), [id], "{out:#?}");
    let o = get(&out, id).clone();
    assert!(
        evidence(&o).iter().any(|e| e.contains(fact)),
        "{id}: {fact:?} not in {:?}",
        evidence(&o)
    );
    assert_eq!(o.evidence[0].source.split(' ').next(), Some(PG));
    o
}

#[test]
fn pg_1_trust_over_the_network_fails_and_is_critical() {
    let o = pg_fails_only(
        "KB.PG.1",
        "hostssl all all 10.0.0.0/8 trust (line 9)",
        |s| {
            let rows = &mut s.hba.as_mut().unwrap().rows;
            rows.push(hba(
                9,
                "hostssl",
                Some("10.0.0.0"),
                Some("255.0.0.0"),
                "trust",
            ));
        },
    );
    assert_eq!(o.severity, None);
    assert_eq!(o.control.severity, 9.0);
    // A CIDR in the address column and samehost count as network too.
    let mut s = pg_secure();
    let rows = &mut s.hba.as_mut().unwrap().rows;
    rows.push(hba(9, "hostssl", Some("192.168.0.0/16"), None, "trust"));
    rows.push(hba(10, "host", Some("samehost"), None, "trust"));
    let mut bad = hba(11, "host", Some("10.1.0.0/16"), None, "trust");
    bad.error = Some("invalid".into()); // a line the server did not load
    rows.push(bad);
    let out = pg_outcomes(&s);
    assert_eq!(evidence(get(&out, "KB.PG.1")).len(), 2);
}

#[test]
fn pg_2_password_or_md5_over_the_network_fails() {
    let o = pg_fails_only("KB.PG.2", "hostssl all all 10.0.3.0/24 md5 (line 9)", |s| {
        let rows = &mut s.hba.as_mut().unwrap().rows;
        rows.push(hba(9, "hostssl", Some("10.0.3.0/24"), None, "md5"));
    });
    assert_eq!(o.severity.map(|s| s.value()), Some(5.0), "MD5 only: Medium");
    // Cleartext: `password` on a line that does not require TLS (which KB.PG.4
    // names too).
    let mut s = pg_secure();
    let rows = &mut s.hba.as_mut().unwrap().rows;
    rows.push(hba(9, "host", Some("10.0.3.0/24"), None, "password"));
    let out = pg_outcomes(&s);
    assert_eq!(failed_ids(&out), ["KB.PG.2", "KB.PG.4"]);
    let o = get(&out, "KB.PG.2");
    assert!(evidence(o).contains(&"host all all 10.0.3.0/24 password (line 9)"));
    assert_eq!(o.severity, None, "cleartext: the control's High");
}

#[test]
fn pg_3_a_line_for_every_address_fails() {
    for (addr, mask, shown) in [
        ("0.0.0.0", Some("0.0.0.0"), "0.0.0.0/0"),
        ("::/0", None, "::/0"),
        ("all", None, "all"),
    ] {
        pg_fails_only("KB.PG.3", shown, |s| {
            let rows = &mut s.hba.as_mut().unwrap().rows;
            rows.insert(3, hba(4, "hostssl", Some(addr), mask, "scram-sha-256"));
        });
    }
}

#[test]
fn pg_4_ssl_off_or_rds_force_ssl_0_fails() {
    pg_fails_only("KB.PG.4", "ssl=off", |s| {
        s.settings.insert("ssl".into(), "off".into());
    });
    // ssl on only offers TLS: a `host` line takes clients without it.
    let o = pg_fails_only(
        "KB.PG.4",
        "host all all 10.0.4.0/24 scram-sha-256 (line 9) (no TLS required)",
        |s| {
            let rows = &mut s.hba.as_mut().unwrap().rows;
            rows.push(hba(9, "host", Some("10.0.4.0/24"), None, "scram-sha-256"));
        },
    );
    assert_eq!(evidence(&o)[0], "ssl=on");
    let f = o.finding(Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).unwrap());
    assert!(
        f.description
            .starts_with("`ssl` is on, but line 9 of pg_hba.conf accepts"),
        "{}",
        f.description
    );
    pg_fails_only("KB.PG.4", "rds.force_ssl=0", |s| {
        s.rds = true;
        s.hba = None;
        s.settings.insert("rds.force_ssl".into(), "0".into());
    });
    let mut s = pg_secure();
    s.rds = true;
    s.settings.insert("rds.force_ssl".into(), "1".into());
    assert_eq!(get(&pg_outcomes(&s), "KB.PG.4").status, Status::Passed);
}

#[test]
fn pg_5_md5_password_encryption_fails() {
    pg_fails_only("KB.PG.5", "password_encryption=md5", |s| {
        s.settings
            .insert("password_encryption".into(), "md5".into());
    });
}

#[test]
fn pg_6_unexpected_superusers_createrole_bypassrls_fail_unless_allowed() {
    let o = pg_fails_only("KB.PG.6", "role backdoor: SUPERUSER LOGIN", |s| {
        let roles = &mut s.roles.as_mut().unwrap().rows;
        roles.push(PgRole {
            superuser: true,
            ..role("backdoor")
        });
        roles.push(PgRole {
            bypassrls: true,
            can_login: false,
            ..role("etl")
        });
    });
    assert_eq!(o.evidence.len(), 2);
    assert_eq!(o.severity, None);
    let o = pg_fails_only("KB.PG.6", "role ops: CREATEROLE LOGIN", |s| {
        s.roles.as_mut().unwrap().rows.push(PgRole {
            createrole: true,
            ..role("ops")
        });
    });
    assert_eq!(
        o.severity.map(|s| s.value()),
        Some(5.0),
        "no superuser: Medium"
    );
    // rdsadmin and the allowlist are expected; RDS's own roles on RDS.
    let mut s = pg_secure();
    let roles = &mut s.roles.as_mut().unwrap().rows;
    roles.push(PgRole {
        superuser: true,
        ..role("rdsadmin")
    });
    roles.push(PgRole {
        createrole: true,
        ..role("dba")
    });
    roles.push(PgRole {
        createrole: true,
        can_login: false,
        ..role("rds_superuser")
    });
    s.rds = true;
    s.policy.allowed_admins = vec!["dba".into()];
    assert_eq!(get(&pg_outcomes(&s), "KB.PG.6").status, Status::Passed);
}

#[test]
fn pg_7_is_judged_only_when_the_policy_asks() {
    let mut s = pg_secure();
    s.policy.require_password_expiry = true;
    s.roles.as_mut().unwrap().rows[1].valid_until = Some("2027-01-01 00:00:00+00".into());
    assert_eq!(get(&pg_outcomes(&s), "KB.PG.7").status, Status::Passed);
    let o = pg_fails_only("KB.PG.7", "role app: LOGIN, no VALID UNTIL", |s| {
        s.policy.require_password_expiry = true;
        s.roles.as_mut().unwrap().rows[1].valid_until = Some("infinity".into());
    });
    assert_eq!(
        o.evidence.len(),
        1,
        "the bootstrap role and NOLOGIN roles are not judged"
    );
    // A role known to have no password (peer or certificate logins) is not judged.
    let mut s = pg_secure();
    s.policy.require_password_expiry = true;
    s.roles.as_mut().unwrap().rows[1].password_set = Some(false);
    assert_eq!(get(&pg_outcomes(&s), "KB.PG.7").status, Status::Passed);
}

#[test]
fn pg_8_public_create_on_schema_public_fails() {
    let o = pg_fails_only("KB.PG.8", "(PostgreSQL 14)", |s| {
        s.public_create = Some(true);
        s.version_num = Some(140011);
    });
    assert!(o.args.iter().any(|(n, _)| n == "version"));
}

#[test]
fn pg_9_connection_logging_off_fails() {
    pg_fails_only("KB.PG.9", "log_connections=off", |s| {
        s.settings.insert("log_connections".into(), "off".into());
    });
    pg_fails_only("KB.PG.9", "log_disconnections=off", |s| {
        s.settings.insert("log_disconnections".into(), "off".into());
    });
    // PostgreSQL 18: a list of aspects; empty is off.
    pg_fails_only("KB.PG.9", "log_connections=", |s| {
        s.settings.insert("log_connections".into(), "".into());
    });
    let mut s = pg_secure();
    s.settings
        .insert("log_connections".into(), "receipt,authentication".into());
    assert_eq!(get(&pg_outcomes(&s), "KB.PG.9").status, Status::Passed);
}

#[test]
fn pg_10_pgaudit_not_loaded_or_logging_nothing_fails() {
    pg_fails_only("KB.PG.10", "(no pgaudit)", |s| {
        s.settings.insert(
            "shared_preload_libraries".into(),
            "pg_stat_statements".into(),
        );
        s.settings.remove("pgaudit.log");
    });
    pg_fails_only("KB.PG.10", "pgaudit.log='none'", |s| {
        s.settings.insert("pgaudit.log".into(), "none".into());
    });
    // RDS writes the list quoted.
    let mut s = pg_secure();
    s.settings.insert(
        "shared_preload_libraries".into(),
        "rdsutils,\"pgaudit\"".into(),
    );
    assert_eq!(get(&pg_outcomes(&s), "KB.PG.10").status, Status::Passed);
}

#[test]
fn pg_11_untrusted_languages_and_file_extensions_fail() {
    let o = pg_fails_only("KB.PG.11", "language plpython3u (untrusted)", |s| {
        s.languages.as_mut().unwrap().rows.push(PgLanguage {
            name: "plpython3u".into(),
            trusted: false,
        });
        s.extensions.as_mut().unwrap().rows.push("adminpack".into());
    });
    assert!(evidence(&o).contains(&"extension adminpack"));
    // A trusted language is fine.
    let mut s = pg_secure();
    s.languages.as_mut().unwrap().rows.push(PgLanguage {
        name: "plperl".into(),
        trusted: true,
    });
    assert_eq!(get(&pg_outcomes(&s), "KB.PG.11").status, Status::Passed);
}

#[test]
fn pg_12_remote_data_extensions_fail_low() {
    let o = pg_fails_only("KB.PG.12", "extension dblink", |s| {
        s.extensions.as_mut().unwrap().rows.push("dblink".into());
    });
    assert_eq!(o.control.severity, 2.0);
}

#[test]
fn what_was_not_read_is_not_judged() {
    let s = PgSnapshot {
        target: PG.into(),
        ..PgSnapshot::default()
    };
    assert!(pg_outcomes(&s).is_empty());
    let s = MySqlSnapshot {
        target: MY.into(),
        ..MySqlSnapshot::default()
    };
    assert!(my_outcomes(&s).is_empty());
    // RDS: no pg_hba, no hba controls.
    let mut s = pg_secure();
    s.hba = None;
    let out = pg_outcomes(&s);
    for id in ["KB.PG.1", "KB.PG.2", "KB.PG.3"] {
        assert!(out.iter().all(|o| o.control.id != id), "{id} judged");
    }
}

#[test]
fn a_secure_mysql_passes_every_control() {
    let out = my_outcomes(&my_secure());
    assert_eq!(failed_ids(&out), Vec::<&str>::new(), "{out:#?}");
    let mut ids: Vec<&str> = out.iter().map(|o| o.control.id).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "KB.MySQL.1",
            "KB.MySQL.2",
            "KB.MySQL.3",
            "KB.MySQL.4",
            "KB.MySQL.5",
            "KB.MySQL.6",
            "KB.MySQL.7",
            "KB.MySQL.8"
        ]
    );
    for o in &out {
        assert_eq!(o.resource.id, MY);
        assert_eq!(o.resource.engine, Some(keibi_model::Engine::Mysql));
    }
}

fn my_fails_only(ids: &[&str], fact: &str, edit: impl FnOnce(&mut MySqlSnapshot)) -> Vec<Outcome> {
    let mut s = my_secure();
    edit(&mut s);
    let out = my_outcomes(&s);
    let mut failed = failed_ids(&out);
    failed.sort();
    assert_eq!(failed, ids, "{out:#?}");
    let o = get(&out, ids[0]);
    assert!(
        evidence(o).iter().any(|e| e.contains(fact)),
        "{}: {fact:?} not in {:?}",
        ids[0],
        evidence(o)
    );
    out
}

#[test]
fn mysql_1_empty_passwords_fail_critical_when_remote() {
    let out = my_fails_only(&["KB.MySQL.1"], "'app'@'localhost'", |s| {
        s.accounts.as_mut().unwrap().rows.push(MyAccount {
            auth_empty: true,
            ..account("app", "localhost")
        });
    });
    assert_eq!(get(&out, "KB.MySQL.1").severity, None, "local only: High");
    let out = my_fails_only(&["KB.MySQL.1"], "'web'@'10.%'", |s| {
        s.accounts.as_mut().unwrap().rows.push(MyAccount {
            auth_empty: true,
            plugin: String::new(),
            ..account("web", "10.%")
        });
    });
    assert_eq!(
        get(&out, "KB.MySQL.1").severity.map(|s| s.value()),
        Some(9.0)
    );
}

#[test]
fn mysql_2_root_or_an_admin_from_a_host_wildcard_fails() {
    my_fails_only(&["KB.MySQL.2", "KB.MySQL.8"], "'root'@'%'", |s| {
        s.accounts.as_mut().unwrap().rows.push(MyAccount {
            all: true,
            super_priv: true,
            ..account("root", "%")
        });
    });
    // root from a wildcard fails even without privileges and when allow-listed.
    my_fails_only(&["KB.MySQL.2"], "'root'@'10.0.0.0/255.0.0.0'", |s| {
        s.accounts
            .as_mut()
            .unwrap()
            .rows
            .push(account("root", "10.0.0.0/255.0.0.0"));
        s.policy.allowed_admins = vec!["root".into()];
    });
    // An allow-listed admin from a wildcard passes both.
    let mut s = my_secure();
    s.accounts.as_mut().unwrap().rows.push(MyAccount {
        grant_option: true,
        ..account("admin", "%")
    });
    s.policy.allowed_admins = vec!["admin@%".into()];
    assert_eq!(failed_ids(&my_outcomes(&s)), Vec::<&str>::new());
}

#[test]
fn mysql_3_anonymous_accounts_fail() {
    my_fails_only(&["KB.MySQL.3"], "''@'%': anonymous account", |s| {
        s.accounts.as_mut().unwrap().rows.push(MyAccount {
            plugin: "ed25519".into(),
            ..account("", "%")
        });
    });
}

#[test]
fn mysql_4_secure_transport_not_required_fails() {
    my_fails_only(&["KB.MySQL.4"], "require_secure_transport=OFF", |s| {
        s.variables
            .insert("require_secure_transport".into(), Some("OFF".into()));
    });
}

#[test]
fn mysql_5_local_infile_on_fails() {
    my_fails_only(&["KB.MySQL.5"], "local_infile=ON", |s| {
        s.variables.insert("local_infile".into(), Some("ON".into()));
    });
}

#[test]
fn mysql_6_empty_secure_file_priv_fails_and_null_passes() {
    my_fails_only(&["KB.MySQL.6"], "secure_file_priv=''", |s| {
        s.variables
            .insert("secure_file_priv".into(), Some(String::new()));
    });
    let mut s = my_secure();
    s.variables.insert("secure_file_priv".into(), None);
    let out = my_outcomes(&s);
    assert_eq!(get(&out, "KB.MySQL.6").status, Status::Passed);
    assert_eq!(evidence(get(&out, "KB.MySQL.6")), ["secure_file_priv=NULL"]);
}

#[test]
fn mysql_7_no_audit_plugin_or_logging_off_fails() {
    my_fails_only(&["KB.MySQL.7"], "server_audit_logging=OFF", |s| {
        s.variables
            .insert("server_audit_logging".into(), Some("OFF".into()));
    });
    my_fails_only(&["KB.MySQL.7"], "no audit plugin loaded", |s| {
        s.variables.remove("server_audit_logging");
        s.plugins = Some(Rows::default());
    });
    // MySQL Enterprise audit_log counts, unless its policy logs nothing.
    let mut s = my_secure();
    s.variables.remove("server_audit_logging");
    s.plugins = Some(Rows::new(vec![MyPlugin {
        name: "audit_log".into(),
        status: "ACTIVE".into(),
    }]));
    assert_eq!(get(&my_outcomes(&s), "KB.MySQL.7").status, Status::Passed);
    s.variables
        .insert("audit_log_policy".into(), Some("NONE".into()));
    assert_eq!(get(&my_outcomes(&s), "KB.MySQL.7").status, Status::Failed);
}

#[test]
fn mysql_8_file_super_grant_holders_fail_unless_expected() {
    let out = my_fails_only(&["KB.MySQL.8"], "'loader'@'10.0.2.5': FILE ON *.*", |s| {
        s.accounts.as_mut().unwrap().rows.push(MyAccount {
            file: true,
            ..account("loader", "10.0.2.5")
        });
    });
    assert_eq!(
        get(&out, "KB.MySQL.8").severity.map(|s| s.value()),
        Some(5.0),
        "FILE only: Medium"
    );
    let out = my_fails_only(&["KB.MySQL.8"], "SUPER", |s| {
        s.accounts.as_mut().unwrap().rows.push(MyAccount {
            super_priv: true,
            ..account("ops", "10.0.2.5")
        });
    });
    assert_eq!(get(&out, "KB.MySQL.8").severity, None);
    // rdsadmin on RDS, a locked account and the allowlist are expected.
    let mut s = my_secure();
    let rows = &mut s.accounts.as_mut().unwrap().rows;
    rows.push(MyAccount {
        all: true,
        ..account("rdsadmin", "localhost")
    });
    rows.push(MyAccount {
        super_priv: true,
        locked: true,
        ..account("old", "10.0.2.5")
    });
    rows.push(MyAccount {
        grant_option: true,
        ..account("dba", "10.0.2.9")
    });
    s.policy.allowed_admins = vec!["dba".into()];
    assert_eq!(failed_ids(&my_outcomes(&s)), Vec::<&str>::new());
}

#[test]
fn evidence_is_bounded_and_names_are_counted() {
    let mut s = pg_secure();
    let roles = &mut s.roles.as_mut().unwrap().rows;
    for i in 0..50 {
        roles.push(PgRole {
            superuser: true,
            ..role(&format!("r{i}"))
        });
    }
    let out = pg_outcomes(&s);
    let o = get(&out, "KB.PG.6");
    assert_eq!(o.evidence.len(), keibi_posture::db::MAX_FACTS);
    let f = o.finding(Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).unwrap());
    assert!(f.title.contains("50 roles"), "{}", f.title);
    assert!(f.description.contains("and 40 more"), "{}", f.description);
}

#[test]
fn rows_are_bounded() {
    let r = Rows::bounded((0..MAX_ROWS + 5).collect::<Vec<_>>());
    assert!(r.truncated);
    assert_eq!(r.rows.len(), MAX_ROWS);
    assert!(!Rows::bounded(vec![1, 2]).truncated);
}

#[test]
fn hostile_names_and_lines_never_panic_and_stay_data() {
    let weird = "x\u{202e}\n\r\t'\"`{ $resource }\u{0}\u{1b}[31m";
    let mut s = pg_secure();
    s.target = weird.into();
    s.settings.insert("ssl".into(), weird.into());
    s.settings.insert("log_connections".into(), weird.into());
    s.settings
        .insert("shared_preload_libraries".into(), weird.into());
    s.hba.as_mut().unwrap().rows.push(HbaRule {
        line: u32::MAX,
        kind: weird.into(),
        databases: vec![weird.into(); 3],
        users: vec![],
        address: Some(weird.into()),
        netmask: Some("255.0.255.0".into()),
        method: "trust".into(),
        error: None,
    });
    s.roles.as_mut().unwrap().rows.push(PgRole {
        superuser: true,
        valid_until: Some(weird.into()),
        ..role(weird)
    });
    s.languages.as_mut().unwrap().rows.push(PgLanguage {
        name: weird.into(),
        trusted: false,
    });
    let at = Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).unwrap();
    for o in pg_outcomes(&s) {
        let f = o.finding(at);
        assert!(!f.title.is_empty());
    }
    let mut m = my_secure();
    m.target = weird.into();
    m.variables
        .insert("local_infile".into(), Some(weird.into()));
    m.accounts.as_mut().unwrap().rows.push(MyAccount {
        auth_empty: true,
        super_priv: true,
        ..account(weird, weird)
    });
    for o in my_outcomes(&m) {
        let f = o.finding(at);
        assert!(!f.title.is_empty());
    }
}

#[test]
fn every_database_control_has_its_texts_in_both_languages() {
    use keibi_i18n::{Lang, Locale, Msg};
    for c in CONTROLS {
        assert_eq!(c.resource_kind, "database");
        assert!(!c.aws_control);
        assert!(c.id.starts_with("KB.PG.") || c.id.starts_with("KB.MySQL."));
        assert!(keibi_posture::control(c.id).is_some_and(|k| std::ptr::eq(k, c)));
        for lang in [Lang::En, Lang::Ja] {
            let l = Locale::new(lang, keibi_i18n::DisplayZone::utc());
            for part in ["title", "what", "console", "cli"] {
                let id = format!("{}-{part}", c.msg);
                let text = l.render(&Msg::new(&id));
                assert_ne!(text, id, "{id} missing in {lang}");
            }
        }
    }
}
