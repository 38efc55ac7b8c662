//! Inside the database: what AWS Config cannot see. Snapshots of a PostgreSQL or
//! MySQL/MariaDB server's settings, authentication rules, roles and accounts (read
//! by `keibi-dbprobe` over a read-only connection), and the `KB.PG.*` and
//! `KB.MySQL.*` controls over them.
//!
//! Each control gives one outcome per server it applies to: passed, or failed with
//! the rows that fail it as evidence (at most [`MAX_FACTS`]). A control whose input
//! was not read (`None`: the audit role may not read that view) gives no outcome.
//!
//! | id | short name | severity | fails when |
//! |---|---|---|---|
//! | KB.PG.1 | HbaTrustOverNetwork | Critical 9.0 | a loaded pg_hba line for TCP (not loopback-only) uses `trust` |
//! | KB.PG.2 | HbaWeakPasswordMethod | High 7.0 (Medium 5.0 when MD5 only) | such a line uses `password` or `md5` |
//! | KB.PG.3 | HbaOpenToAnyAddress | Medium 5.0 | such a line admits `all`, `0.0.0.0/0` or `::/0` and is not `reject` |
//! | KB.PG.4 | SslNotEnforced | Medium 5.0 | `ssl` off, or on while a non-loopback `host`/`hostnossl` line accepts clients (self-managed); `rds.force_ssl` 0 (RDS) |
//! | KB.PG.5 | WeakPasswordEncryption | Medium 5.0 | `password_encryption` is not `scram-sha-256` |
//! | KB.PG.6 | UnexpectedPrivilegedRole | High 7.0 (Medium 5.0 without a superuser) | a role has SUPERUSER, CREATEROLE or BYPASSRLS and is not the bootstrap superuser, `rdsadmin`, one of RDS's `rds_*` roles (on RDS) or allow-listed |
//! | KB.PG.7 | LoginRoleWithoutExpiry | Low 2.0 | only with `require_password_expiry`: a login role with a password has no `VALID UNTIL` |
//! | KB.PG.8 | PublicSchemaCreate | Medium 5.0 | PUBLIC has CREATE on schema `public` of the database connected to |
//! | KB.PG.9 | ConnectionLoggingOff | Medium 5.0 | `log_connections` or `log_disconnections` off |
//! | KB.PG.10 | AuditLoggingOff | Medium 5.0 | `pgaudit` not in `shared_preload_libraries`, or `pgaudit.log` empty or `none` |
//! | KB.PG.11 | OsAccessExtension | Medium 5.0 | an untrusted language (`plpython3u`, `plperlu`, `pltclu` ...; not `c`/`internal`) or `adminpack` / `file_fdw` is installed |
//! | KB.PG.12 | RemoteDataExtension | Low 2.0 | `dblink` or `postgres_fdw` is installed |
//! | KB.MySQL.1 | EmptyPassword | High 7.0 (Critical 9.0 when a non-local host) | an unlocked account with a password plugin has an empty hash |
//! | KB.MySQL.2 | AdminFromAnyHost | High 7.0 | `root`, or an account with ALL/SUPER/FILE/GRANT OPTION/CREATE USER on `*.*` that is not allow-listed, has a wildcard host (`%`, `_`, a netmask) |
//! | KB.MySQL.3 | AnonymousAccount | Medium 5.0 | an unlocked account has an empty user name |
//! | KB.MySQL.4 | SecureTransportNotRequired | Medium 5.0 | `require_secure_transport` is OFF |
//! | KB.MySQL.5 | LocalInfileEnabled | Medium 5.0 | `local_infile` is ON |
//! | KB.MySQL.6 | SecureFilePrivEmpty | Medium 5.0 | `secure_file_priv` is `''` (NULL or a directory passes) |
//! | KB.MySQL.7 | AuditLoggingOff | Medium 5.0 | neither `server_audit_logging` ON (server_audit / Aurora) nor an ACTIVE `audit_log` plugin with a policy other than NONE |
//! | KB.MySQL.8 | UnexpectedPrivilegedAccount | High 7.0 (Medium 5.0 for FILE/CREATE USER only) | an unlocked account holds ALL, SUPER, FILE, GRANT OPTION or CREATE USER on `*.*` and is not root on a local host, a system account or allow-listed |
//!
//! Severities (keibi's judgment; AWS has no control for these):
//! Critical 9.0 — anyone who reaches the port is in (`trust` over the network, an
//! empty password reachable from other hosts); High 7.0 — a short step to taking the
//! server (unexpected superusers, admins from any host, passwords in clear or MD5
//! over the network, empty local passwords); Medium 5.0 — weaker defences or blind
//! spots (no TLS required, no audit or connection logging, file access, OS-reaching
//! extensions, PUBLIC CREATE); Low 2.0 — hygiene (remote-data extensions, password
//! expiry where a policy asks for it).

pub mod model;
mod mysql;
mod pg;

pub use model::{
    DbPolicy, HbaRule, MyAccount, MyPlugin, MySqlFlavor, MySqlSnapshot, PgLanguage, PgRole,
    PgSnapshot, Rows, MAX_ROWS,
};

use keibi_model::{Engine, Resource};

use crate::control::Control;
use crate::outcome::Outcome;

/// The most failing rows shown as evidence of one outcome (the count says how many
/// there were).
pub const MAX_FACTS: usize = 10;

const fn pg(
    id: &'static str,
    short: &'static str,
    severity: f64,
    mitre: &'static [&'static str],
    msg: &'static str,
) -> Control {
    Control {
        id,
        short,
        severity,
        resource_kind: "database",
        mitre,
        aws_control: false,
        msg,
    }
}

/// Every database control, in catalog order.
pub static CONTROLS: &[Control] = &[
    pg(
        "KB.PG.1",
        "HbaTrustOverNetwork",
        9.0,
        &["T1078", "T1190"],
        "pg-hba-trust",
    ),
    pg(
        "KB.PG.2",
        "HbaWeakPasswordMethod",
        7.0,
        &["T1040", "T1110.002"],
        "pg-hba-weak",
    ),
    pg(
        "KB.PG.3",
        "HbaOpenToAnyAddress",
        5.0,
        &["T1190", "T1110"],
        "pg-hba-any",
    ),
    pg(
        "KB.PG.4",
        "SslNotEnforced",
        5.0,
        &["T1040", "T1557"],
        "pg-ssl",
    ),
    pg(
        "KB.PG.5",
        "WeakPasswordEncryption",
        5.0,
        &["T1110.002"],
        "pg-password-encryption",
    ),
    pg(
        "KB.PG.6",
        "UnexpectedPrivilegedRole",
        7.0,
        &["T1078", "T1098"],
        "pg-admin-roles",
    ),
    pg(
        "KB.PG.7",
        "LoginRoleWithoutExpiry",
        2.0,
        &["T1078"],
        "pg-valid-until",
    ),
    pg(
        "KB.PG.8",
        "PublicSchemaCreate",
        5.0,
        &["T1505.001"],
        "pg-public-create",
    ),
    pg(
        "KB.PG.9",
        "ConnectionLoggingOff",
        5.0,
        &["T1562"],
        "pg-log-connections",
    ),
    pg("KB.PG.10", "AuditLoggingOff", 5.0, &["T1562"], "pg-audit"),
    pg(
        "KB.PG.11",
        "OsAccessExtension",
        5.0,
        &["T1059", "T1505.001"],
        "pg-os-extension",
    ),
    pg(
        "KB.PG.12",
        "RemoteDataExtension",
        2.0,
        &["T1048"],
        "pg-remote-extension",
    ),
    pg(
        "KB.MySQL.1",
        "EmptyPassword",
        7.0,
        &["T1078", "T1110.001"],
        "my-empty-password",
    ),
    pg(
        "KB.MySQL.2",
        "AdminFromAnyHost",
        7.0,
        &["T1078", "T1190"],
        "my-admin-any-host",
    ),
    pg(
        "KB.MySQL.3",
        "AnonymousAccount",
        5.0,
        &["T1078"],
        "my-anonymous",
    ),
    pg(
        "KB.MySQL.4",
        "SecureTransportNotRequired",
        5.0,
        &["T1040", "T1557"],
        "my-secure-transport",
    ),
    pg(
        "KB.MySQL.5",
        "LocalInfileEnabled",
        5.0,
        &["T1005"],
        "my-local-infile",
    ),
    pg(
        "KB.MySQL.6",
        "SecureFilePrivEmpty",
        5.0,
        &["T1005", "T1505.001"],
        "my-secure-file-priv",
    ),
    pg("KB.MySQL.7", "AuditLoggingOff", 5.0, &["T1562"], "my-audit"),
    pg(
        "KB.MySQL.8",
        "UnexpectedPrivilegedAccount",
        7.0,
        &["T1078", "T1098"],
        "my-admin-accounts",
    ),
];

/// The control with this id; the ids above are static, so a miss is a bug here.
fn control(id: &str) -> &'static Control {
    CONTROLS
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no database control {id}"))
}

fn resource(target: &str, engine: Engine) -> Resource {
    Resource {
        kind: "database".into(),
        id: target.to_string(),
        engine: Some(engine),
        account: None,
        region: None,
    }
}

/// Passed when `facts` is empty, else failed with the first [`MAX_FACTS`] of them as
/// evidence (read from `source`) and their number as the `count` argument; `names`
/// (the failing roles, lines or accounts, at most [`MAX_FACTS`]) as `items`.
fn judged_facts(
    id: &str,
    r: Resource,
    source: &str,
    facts: &[String],
    names: &[String],
) -> Outcome {
    let c = control(id);
    let mut o = Outcome::judged(c, facts.is_empty(), r).arg("count", facts.len() as u64);
    for f in facts.iter().take(MAX_FACTS) {
        o = o.observed(source, f.clone());
    }
    let shown: Vec<String> = names.iter().take(MAX_FACTS).cloned().collect();
    o.arg(
        "items",
        keibi_model::text::Arg::Names {
            total: names.len() as u64,
            max: MAX_FACTS as u64,
            items: shown,
        },
    )
}

/// Runs every PostgreSQL control over one server's snapshot.
pub fn check_postgres(snap: &PgSnapshot, out: &mut Vec<Outcome>) {
    pg::check(snap, out);
}

/// Runs every MySQL/MariaDB control over one server's snapshot.
pub fn check_mysql(snap: &MySqlSnapshot, out: &mut Vec<Outcome>) {
    mysql::check(snap, out);
}
