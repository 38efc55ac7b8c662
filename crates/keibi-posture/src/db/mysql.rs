//! The `KB.MySQL.*` controls over a [`MySqlSnapshot`].

use keibi_model::Engine;

use super::model::{MyAccount, MySqlSnapshot};
use super::{control, judged_facts, resource};
use crate::outcome::Outcome;

/// Accounts the servers create for themselves (locked, or RDS's administrator).
const SYSTEM_ACCOUNTS: &[&str] = &[
    "mariadb.sys",
    "mysql.sys",
    "mysql.session",
    "mysql.infoschema",
    "rdsadmin",
];

pub(super) fn check(s: &MySqlSnapshot, out: &mut Vec<Outcome>) {
    let r = || resource(&s.target, Engine::Mysql);
    let users_src = format!("{} mysql.user", s.target);
    let vars_src = format!("{} global variables", s.target);

    if let Some(accounts) = &s.accounts {
        let live: Vec<&MyAccount> = accounts.rows.iter().filter(|a| !a.locked).collect();
        let pick = |pred: &dyn Fn(&MyAccount) -> bool| -> Vec<&MyAccount> {
            live.iter().copied().filter(|a| pred(a)).collect()
        };
        let names = |xs: &[&MyAccount]| -> Vec<String> { xs.iter().map(|a| a.name()).collect() };

        let empty = pick(&|a| a.empty_password());
        let facts: Vec<String> = empty
            .iter()
            .map(|a| {
                let plugin = if a.plugin.is_empty() { "-" } else { &a.plugin };
                format!("{}: plugin {plugin}, empty authentication_string", a.name())
            })
            .collect();
        let mut o = judged_facts("KB.MySQL.1", r(), &users_src, &facts, &names(&empty));
        if empty.iter().any(|a| !a.host_local()) {
            // Anyone who reaches the port logs in.
            o = o.severity(9.0);
        }
        out.push(o);

        let remote_admins = pick(&|a| {
            a.host_wildcard()
                && (a.user == "root"
                    || (!a.admin_privileges().is_empty()
                        && !s.policy.allows_account(&a.user, &a.host)))
        });
        let facts: Vec<String> = remote_admins.iter().map(|a| describe_admin(a)).collect();
        out.push(judged_facts(
            "KB.MySQL.2",
            r(),
            &users_src,
            &facts,
            &names(&remote_admins),
        ));

        let anonymous = pick(&|a| a.user.is_empty());
        let facts: Vec<String> = anonymous
            .iter()
            .map(|a| format!("{}: anonymous account", a.name()))
            .collect();
        out.push(judged_facts(
            "KB.MySQL.3",
            r(),
            &users_src,
            &facts,
            &names(&anonymous),
        ));

        let holders = pick(&|a| !a.admin_privileges().is_empty() && !expected_admin(s, a));
        let facts: Vec<String> = holders.iter().map(|a| describe_admin(a)).collect();
        let mut o = judged_facts("KB.MySQL.8", r(), &users_src, &facts, &names(&holders));
        if o.is_failed()
            && !holders
                .iter()
                .any(|a| a.all || a.super_priv || a.grant_option)
        {
            o = o.severity(5.0);
        }
        out.push(o);
    }

    if let Some(on) = s.variable_on("require_secure_transport") {
        let v = s.variable("require_secure_transport").unwrap_or_default();
        out.push(
            Outcome::judged(control("KB.MySQL.4"), on, r())
                .observed(&vars_src, format!("require_secure_transport={v}"))
                .arg("value", v),
        );
    }

    if let Some(on) = s.variable_on("local_infile") {
        let v = s.variable("local_infile").unwrap_or_default();
        out.push(
            Outcome::judged(control("KB.MySQL.5"), !on, r())
                .observed(&vars_src, format!("local_infile={v}"))
                .arg("value", v),
        );
    }

    if let Some(v) = s.variables.get("secure_file_priv") {
        let (ok, shown) = match v.as_deref() {
            None => (true, "NULL".to_string()),
            Some(dir) => (!dir.trim().is_empty(), format!("'{dir}'")),
        };
        out.push(
            Outcome::judged(control("KB.MySQL.6"), ok, r())
                .observed(&vars_src, format!("secure_file_priv={shown}"))
                .arg("value", shown),
        );
    }

    if let Some(o) = audit_outcome(s, r()) {
        out.push(o);
    }
}

/// KB.MySQL.7: an audit log that records connections and statements. MariaDB's
/// `server_audit` (also RDS for MySQL's MARIADB_AUDIT_PLUGIN option and Aurora
/// MySQL's built-in advanced auditing, which both have `server_audit_logging`) or
/// MySQL Enterprise / Percona `audit_log`. Judged once the variables or the plugin
/// list were read.
fn audit_outcome(s: &MySqlSnapshot, r: keibi_model::Resource) -> Option<Outcome> {
    let plugin = |name: &str| {
        s.plugins.as_ref().and_then(|p| {
            p.rows
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(name))
                .map(|p| p.status.clone())
        })
    };
    if s.variables.is_empty() && s.plugins.is_none() {
        return None;
    }
    let source = format!("{} information_schema.PLUGINS, global variables", s.target);
    let c = control("KB.MySQL.7");
    let audit_log = plugin("audit_log");
    if audit_log.as_deref() == Some("ACTIVE") {
        let policy = s.variable("audit_log_policy").unwrap_or("ALL");
        let ok = !policy.eq_ignore_ascii_case("NONE");
        return Some(
            Outcome::judged(c, ok, r)
                .observed(
                    source,
                    format!("audit_log ACTIVE, audit_log_policy={policy}"),
                )
                .arg("value", format!("audit_log_policy={policy}")),
        );
    }
    let server_audit = plugin("server_audit");
    let fact = match (s.variable("server_audit_logging"), server_audit.as_deref()) {
        (Some(v), Some("ACTIVE") | None) if super::model::is_on(v) => {
            let events = s.variable("server_audit_events").unwrap_or("");
            return Some(
                Outcome::passed(c, r)
                    .observed(
                        source,
                        format!("server_audit_logging={v}, server_audit_events='{events}'"),
                    )
                    .arg("value", format!("server_audit_logging={v}")),
            );
        }
        (Some(v), _) => format!("server_audit_logging={v}"),
        (None, Some(status)) => format!("server_audit plugin {status}"),
        (None, None) => "no audit plugin loaded (server_audit, audit_log)".to_string(),
    };
    Some(
        Outcome::failed(c, r)
            .observed(source, fact.clone())
            .arg("value", fact),
    )
}

/// Whether an admin account is one the server has by design or the policy names:
/// `root` on this machine, the servers' own accounts, or the allowlist.
fn expected_admin(s: &MySqlSnapshot, a: &MyAccount) -> bool {
    (a.user == "root" && a.host_local())
        || (SYSTEM_ACCOUNTS.contains(&a.user.as_str()) && a.host_local())
        || s.policy.allows_account(&a.user, &a.host)
}

fn describe_admin(a: &MyAccount) -> String {
    let p = a.admin_privileges();
    if p.is_empty() {
        a.name()
    } else {
        format!("{}: {} ON *.*", a.name(), p.join(", "))
    }
}
