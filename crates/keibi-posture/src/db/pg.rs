//! The `KB.PG.*` controls over a [`PgSnapshot`].

use std::net::IpAddr;

use ipnet::IpNet;
use keibi_model::Engine;

use super::model::{is_on, HbaRule, PgRole, PgSnapshot};
use super::{control, judged_facts, resource};
use crate::outcome::Outcome;

/// Languages every server has that are not a door: `internal` and `c` are untrusted
/// but only a superuser can create functions in them, and they come with the server.
const BUILTIN_LANGUAGES: &[&str] = &["internal", "c", "sql", "plpgsql"];

/// Extensions that read or write the server's files or run programs.
const OS_EXTENSIONS: &[&str] = &["adminpack", "file_fdw", "pg_execute_server_program"];

/// Extensions that connect from the server to other servers.
const REMOTE_EXTENSIONS: &[&str] = &["dblink", "postgres_fdw"];

/// Roles AWS creates on RDS and Aurora, which hold their attributes by design.
const RDS_ROLES: &[&str] = &["rdsadmin", "rds_superuser", "rdstopmgr", "rdsrepladmin"];

pub(super) fn check(s: &PgSnapshot, out: &mut Vec<Outcome>) {
    let r = || resource(&s.target, Engine::Postgres);
    let src = |view: &str| format!("{} {view}", s.target);

    if let Some(hba) = &s.hba {
        let used: Vec<&HbaRule> = hba
            .rows
            .iter()
            .filter(|l| l.error.is_none() && l.is_network() && !loopback_only(l))
            .collect();
        let lines = |pred: &dyn Fn(&HbaRule) -> bool| -> (Vec<String>, Vec<String>) {
            let hits: Vec<&&HbaRule> = used.iter().filter(|l| pred(l)).collect();
            (
                hits.iter().map(|l| l.describe()).collect(),
                hits.iter().map(|l| l.line.to_string()).collect(),
            )
        };
        let source = src("pg_hba_file_rules");

        let (facts, names) = lines(&|l| l.method == "trust");
        out.push(judged_facts("KB.PG.1", r(), &source, &facts, &names));

        let (facts, names) = lines(&|l| l.method == "password" || l.method == "md5");
        let cleartext = used
            .iter()
            .any(|l| l.method == "password" && l.kind != "hostssl");
        let mut o = judged_facts("KB.PG.2", r(), &source, &facts, &names);
        if o.is_failed() && !cleartext {
            // MD5 only: the hash is weak and replayable, but no password crosses the
            // network in clear.
            o = o.severity(5.0);
        }
        out.push(o);

        let (facts, names) = lines(&|l| l.method != "reject" && any_address(l));
        out.push(judged_facts("KB.PG.3", r(), &source, &facts, &names));
    }

    if s.rds {
        if let Some(v) = s.setting("rds.force_ssl") {
            out.push(
                Outcome::judged(control("KB.PG.4"), is_on(v), r())
                    .observed(src("pg_settings"), format!("rds.force_ssl={v}"))
                    .arg("setting", "rds.force_ssl")
                    .arg("value", v)
                    .arg("reason", "setting")
                    .arg("count", 0u64)
                    .arg("items", String::new()),
            );
        }
    } else if let Some(v) = s.setting("ssl") {
        // `ssl = on` only offers TLS: pg_hba's `host` and `hostnossl` lines still
        // take clients without it. Judged when pg_hba was read.
        let plain: Vec<&HbaRule> = if is_on(v) {
            s.hba
                .iter()
                .flat_map(|h| &h.rows)
                .filter(|l| l.error.is_none() && !loopback_only(l))
                .filter(|l| matches!(l.kind.as_str(), "host" | "hostnossl"))
                .filter(|l| l.method != "reject")
                .collect()
        } else {
            Vec::new()
        };
        let reason = if is_on(v) { "hba" } else { "setting" };
        let mut o = judged_facts(
            "KB.PG.4",
            r(),
            &src("pg_hba_file_rules"),
            &plain
                .iter()
                .map(|l| format!("{} (no TLS required)", l.describe()))
                .collect::<Vec<_>>(),
            &plain.iter().map(|l| l.line.to_string()).collect::<Vec<_>>(),
        );
        if !is_on(v) {
            o = Outcome::failed(control("KB.PG.4"), r())
                .arg("count", 0u64)
                .arg("items", String::new());
        }
        o.evidence.insert(
            0,
            crate::outcome::Observation::new(src("pg_settings"), format!("ssl={v}")),
        );
        out.push(
            o.arg("setting", "ssl")
                .arg("value", v)
                .arg("reason", reason),
        );
    }

    if let Some(v) = s.setting("password_encryption") {
        out.push(
            Outcome::judged(
                control("KB.PG.5"),
                v.eq_ignore_ascii_case("scram-sha-256"),
                r(),
            )
            .observed(src("pg_settings"), format!("password_encryption={v}"))
            .arg("value", v),
        );
    }

    if let Some(roles) = &s.roles {
        let unexpected: Vec<&PgRole> = roles
            .rows
            .iter()
            .filter(|role| role.superuser || role.createrole || role.bypassrls)
            .filter(|role| !expected_admin(s, role))
            .collect();
        let facts: Vec<String> = unexpected.iter().map(|r| describe_role(r)).collect();
        let names: Vec<String> = unexpected.iter().map(|r| r.name.clone()).collect();
        let mut o = judged_facts("KB.PG.6", r(), &src("pg_roles"), &facts, &names);
        if o.is_failed() && !unexpected.iter().any(|r| r.superuser) {
            o = o.severity(5.0);
        }
        out.push(o);

        if s.policy.require_password_expiry {
            let never: Vec<&PgRole> = roles
                .rows
                .iter()
                .filter(|role| role.can_login && role.password_set != Some(false))
                .filter(|role| {
                    !(role.bootstrap || (s.rds && RDS_ROLES.contains(&role.name.as_str())))
                })
                .filter(|role| {
                    role.valid_until
                        .as_deref()
                        .is_none_or(|v| v.eq_ignore_ascii_case("infinity"))
                })
                .collect();
            let facts: Vec<String> = never
                .iter()
                .map(|r| format!("role {}: LOGIN, no VALID UNTIL", r.name))
                .collect();
            let names: Vec<String> = never.iter().map(|r| r.name.clone()).collect();
            out.push(judged_facts(
                "KB.PG.7",
                r(),
                &src("pg_roles"),
                &facts,
                &names,
            ));
        }
    }

    if let Some(create) = s.public_create {
        let version = s
            .version_num
            .map(|n| (n / 10_000).to_string())
            .unwrap_or_else(|| "-".into());
        out.push(
            Outcome::judged(control("KB.PG.8"), !create, r())
                .observed(
                    src("pg_namespace"),
                    format!(
                        "has_schema_privilege('public', 'public', 'CREATE')={create} (PostgreSQL {version})"
                    ),
                )
                .arg("version", version),
        );
    }

    let conn = s.setting("log_connections");
    let disc = s.setting("log_disconnections");
    if conn.is_some() || disc.is_some() {
        let off = |v: Option<&str>| v.is_some_and(|v| !log_connections_on(v));
        let mut facts = Vec::new();
        if off(conn) {
            facts.push(format!("log_connections={}", conn.unwrap_or("")));
        }
        if off(disc) {
            facts.push(format!("log_disconnections={}", disc.unwrap_or("")));
        }
        out.push(judged_facts(
            "KB.PG.9",
            r(),
            &src("pg_settings"),
            &facts,
            &facts,
        ));
    }

    if let Some(preload) = s.setting("shared_preload_libraries") {
        let loaded = preload
            .split(',')
            .map(|l| l.trim().trim_matches('"'))
            .any(|l| l == "pgaudit");
        let level = s.setting("pgaudit.log");
        let mut facts = Vec::new();
        if !loaded {
            facts.push(format!("shared_preload_libraries='{preload}' (no pgaudit)"));
        } else if level.is_none_or(|l| l.trim().is_empty() || l.eq_ignore_ascii_case("none")) {
            facts.push(format!("pgaudit.log='{}'", level.unwrap_or("")));
        }
        out.push(judged_facts(
            "KB.PG.10",
            r(),
            &src("pg_settings"),
            &facts,
            &facts,
        ));
    }

    if s.languages.is_some() || s.extensions.is_some() {
        let mut facts = Vec::new();
        let mut names = Vec::new();
        for l in s.languages.iter().flat_map(|l| &l.rows) {
            if !l.trusted && !BUILTIN_LANGUAGES.contains(&l.name.as_str()) {
                facts.push(format!("language {} (untrusted)", l.name));
                names.push(l.name.clone());
            }
        }
        for e in s.extensions.iter().flat_map(|e| &e.rows) {
            if OS_EXTENSIONS.contains(&e.as_str()) {
                facts.push(format!("extension {e}"));
                names.push(e.clone());
            }
        }
        out.push(judged_facts(
            "KB.PG.11",
            r(),
            &src("pg_language, pg_extension"),
            &facts,
            &names,
        ));
    }

    if let Some(ext) = &s.extensions {
        let hits: Vec<String> = ext
            .rows
            .iter()
            .filter(|e| REMOTE_EXTENSIONS.contains(&e.as_str()))
            .cloned()
            .collect();
        let facts: Vec<String> = hits.iter().map(|e| format!("extension {e}")).collect();
        out.push(judged_facts(
            "KB.PG.12",
            r(),
            &src("pg_extension"),
            &facts,
            &hits,
        ));
    }
}

/// Whether a role is one a server has by design or the policy names.
fn expected_admin(s: &PgSnapshot, role: &PgRole) -> bool {
    role.bootstrap
        || role.name == "rdsadmin"
        || (s.rds && RDS_ROLES.contains(&role.name.as_str()))
        || s.policy.allows_role(&role.name)
}

fn describe_role(r: &PgRole) -> String {
    let mut attrs = Vec::new();
    if r.superuser {
        attrs.push("SUPERUSER");
    }
    if r.createrole {
        attrs.push("CREATEROLE");
    }
    if r.bypassrls {
        attrs.push("BYPASSRLS");
    }
    attrs.push(if r.can_login { "LOGIN" } else { "NOLOGIN" });
    format!("role {}: {}", r.name, attrs.join(" "))
}

/// `log_connections` is a boolean up to PostgreSQL 17 and a list of aspects from 18
/// (`''` is off there).
fn log_connections_on(v: &str) -> bool {
    let v = v.trim();
    !(v.is_empty() || v.eq_ignore_ascii_case("off") || v == "0" || v.eq_ignore_ascii_case("false"))
}

/// The line's address as a network, with a separate netmask applied.
fn network(l: &HbaRule) -> Option<IpNet> {
    let a = l.address.as_deref()?;
    if let Ok(n) = a.parse::<IpNet>() {
        return Some(n);
    }
    let ip: IpAddr = a.parse().ok()?;
    let mask: IpAddr = l.netmask.as_deref()?.parse().ok()?;
    IpNet::with_netmask(ip, mask).ok()
}

/// Whether a line admits only this machine (`127.0.0.1/32`, `::1/128`, `samehost`
/// is not: it is every address of the server, reachable from outside).
fn loopback_only(l: &HbaRule) -> bool {
    match l.address.as_deref() {
        Some("localhost") => true,
        _ => network(l).is_some_and(|n| n.network().is_loopback() && n.broadcast().is_loopback()),
    }
}

/// Whether a line admits every address: `all`, `0.0.0.0/0`, `::/0`, or a netmask
/// of zeros.
fn any_address(l: &HbaRule) -> bool {
    match l.address.as_deref() {
        Some("all") => true,
        Some(_) => network(l).is_some_and(|n| n.prefix_len() == 0),
        None => false,
    }
}
