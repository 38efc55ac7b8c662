//! What was read from a database server: the snapshot the `KB.PG.*` and
//! `KB.MySQL.*` controls judge. Every list is bounded ([`MAX_ROWS`]) and `None` when
//! it could not be read (a view the audit role may not read): a control that needs
//! it is then not evaluated, never failed, and the snapshot carries a note saying so.
//!
//! Every string here can be written by whoever controls the server (role names,
//! pg_hba lines, plugin names): it is stored as read and only ever shown escaped.

use std::collections::BTreeMap;

use keibi_model::text::Msg;

/// The most rows read of any one list (roles, accounts, pg_hba lines ...): a server
/// with more is judged on the first ones and the list says it was cut.
pub const MAX_ROWS: usize = 10_000;

/// A list read from the server, at most [`MAX_ROWS`] long.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows<T> {
    pub rows: Vec<T>,
    /// The server had more rows than were read.
    pub truncated: bool,
}

impl<T> Default for Rows<T> {
    fn default() -> Rows<T> {
        Rows {
            rows: Vec::new(),
            truncated: false,
        }
    }
}

impl<T> Rows<T> {
    pub fn new(rows: Vec<T>) -> Rows<T> {
        Rows {
            rows,
            truncated: false,
        }
    }

    /// Keeps the first [`MAX_ROWS`] of `rows`, marking the list cut when it was longer.
    pub fn bounded(mut rows: Vec<T>) -> Rows<T> {
        let truncated = rows.len() > MAX_ROWS;
        rows.truncate(MAX_ROWS);
        Rows { rows, truncated }
    }
}

/// What the in-database controls expect, beyond their defaults: set by the audit
/// settings (`[audit.database]`), not read from the server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DbPolicy {
    /// Roles (PostgreSQL) or accounts (MySQL: `user` for any host, or `user@host`)
    /// expected to hold administrative rights: superuser, CREATEROLE, BYPASSRLS,
    /// FILE, SUPER, GRANT OPTION. The bootstrap superuser, `rdsadmin`, a MySQL `root`
    /// on a local host and the servers' own locked system accounts always are.
    pub allowed_admins: Vec<String>,
    /// Whether login roles with a password must have `VALID UNTIL` (KB.PG.7).
    /// Off by default: most teams rotate passwords by other means.
    pub require_password_expiry: bool,
}

impl DbPolicy {
    /// Whether `name` (a PostgreSQL role) is allow-listed.
    pub fn allows_role(&self, name: &str) -> bool {
        self.allowed_admins.iter().any(|a| a == name)
    }

    /// Whether the MySQL account `user`@`host` is allow-listed (as `user` or
    /// `user@host`).
    pub fn allows_account(&self, user: &str, host: &str) -> bool {
        self.allowed_admins
            .iter()
            .any(|a| match a.rsplit_once('@') {
                Some((u, h)) => u == user && h == host,
                None => a == user,
            })
    }
}

/// What was read from one PostgreSQL server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PgSnapshot {
    /// The server as the user named it: the URL without its password, or a name.
    pub target: String,
    /// `server_version` (`15.14 (Debian 15.14-0+deb12u1)`).
    pub version: Option<String>,
    /// `server_version_num` (`150014`).
    pub version_num: Option<u32>,
    /// The settings the controls read (`ssl`, `password_encryption`,
    /// `log_connections`, `log_disconnections`, `shared_preload_libraries`,
    /// `pgaudit.log`, `rds.force_ssl` ...), by name, as `pg_settings` shows them; a
    /// setting the server does not have is absent.
    pub settings: BTreeMap<String, String>,
    /// `pg_hba_file_rules`: `None` when not readable (on RDS it never is; then the
    /// pg_hba controls are not evaluated).
    pub hba: Option<Rows<HbaRule>>,
    pub roles: Option<Rows<PgRole>>,
    /// Installed extensions (`pg_extension`) by name.
    pub extensions: Option<Rows<String>>,
    /// Procedural languages (`pg_language`).
    pub languages: Option<Rows<PgLanguage>>,
    /// Whether PUBLIC may CREATE in schema `public` of the database connected to.
    pub public_create: Option<bool>,
    /// Whether this is Amazon RDS or Aurora (the `rds_superuser` role exists).
    pub rds: bool,
    /// What could not be read, for the person running the audit.
    pub notes: Vec<Msg>,
    /// What the controls expect beyond their defaults.
    pub policy: DbPolicy,
}

impl PgSnapshot {
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings.get(name).map(String::as_str)
    }

    /// Whether a boolean setting is on (`on`, `true`, `1`, `yes`).
    pub fn setting_on(&self, name: &str) -> Option<bool> {
        self.setting(name).map(is_on)
    }
}

/// A boolean setting's or variable's value as servers print it.
pub fn is_on(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "on" | "1" | "yes" | "true"
    )
}

/// One line of `pg_hba.conf`, as `pg_hba_file_rules` shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HbaRule {
    pub line: u32,
    /// `local`, `host`, `hostssl`, `hostnossl`, `hostgssenc`, `hostnogssenc`.
    pub kind: String,
    pub databases: Vec<String>,
    pub users: Vec<String>,
    /// An address or CIDR, a host name, or `all`, `samehost`, `samenet`; `None` for
    /// `local` lines.
    pub address: Option<String>,
    /// The separate netmask column, when the line gave one.
    pub netmask: Option<String>,
    /// `trust`, `reject`, `scram-sha-256`, `md5`, `password`, `peer`, `cert` ...
    pub method: String,
    /// The server's error for a line it could not load (such a line is not used).
    pub error: Option<String>,
}

impl HbaRule {
    /// Whether the line applies to TCP connections (every kind but `local`).
    pub fn is_network(&self) -> bool {
        self.kind != "local"
    }

    /// The line as written in pg_hba.conf: `host all all 0.0.0.0/0 trust (line 98)`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} {} {}",
            self.kind,
            self.databases.join(","),
            self.users.join(",")
        );
        // The view splits a CIDR into address and netmask: show it as written.
        let cidr = match (&self.address, &self.netmask) {
            (Some(a), Some(m)) => match (a.parse(), m.parse()) {
                (Ok(a), Ok(m)) => ipnet::IpNet::with_netmask(a, m).ok(),
                _ => None,
            },
            _ => None,
        };
        match (cidr, &self.address, &self.netmask) {
            (Some(net), _, _) => s.push_str(&format!(" {net}")),
            (None, Some(a), m) => {
                s.push(' ');
                s.push_str(a);
                if let Some(m) = m {
                    s.push(' ');
                    s.push_str(m);
                }
            }
            (None, None, _) => {}
        }
        s.push(' ');
        s.push_str(&self.method);
        s.push_str(&format!(" (line {})", self.line));
        s
    }
}

/// One role of `pg_roles` (`pg_authid` where readable, for `password_set`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PgRole {
    pub name: String,
    pub superuser: bool,
    pub createrole: bool,
    pub bypassrls: bool,
    pub can_login: bool,
    /// `rolvaliduntil`, as the server printed it; `None` for no expiry.
    pub valid_until: Option<String>,
    /// Whether the role has a password; `None` when `pg_authid` is not readable
    /// (only a superuser may read it).
    pub password_set: Option<bool>,
    /// The bootstrap superuser (oid 10, the role `initdb` made).
    pub bootstrap: bool,
}

/// One procedural language of `pg_language`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PgLanguage {
    pub name: String,
    /// `lanpltrusted`: an untrusted language's functions run as the server's
    /// operating-system user with no sandbox.
    pub trusted: bool,
}

/// Which server a MySQL-protocol snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MySqlFlavor {
    MySql,
    MariaDb,
}

/// What was read from one MySQL or MariaDB server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MySqlSnapshot {
    /// The server as the user named it: the URL without its password, or a name.
    pub target: String,
    /// `VERSION()` (`10.11.14-MariaDB-0+deb12u2`).
    pub version: Option<String>,
    pub flavor: Option<MySqlFlavor>,
    /// `mysql.user`: `None` when not readable.
    pub accounts: Option<Rows<MyAccount>>,
    /// The global variables the controls read (`require_secure_transport`,
    /// `local_infile`, `secure_file_priv`, `have_ssl`, `server_audit_logging`,
    /// `server_audit_events`, `audit_log_policy`, `log_bin_trust_function_creators`
    /// ...), by lower-case name; a variable the server does not have is absent, one
    /// whose value is SQL NULL is `None` (`secure_file_priv` NULL: file access off).
    pub variables: BTreeMap<String, Option<String>>,
    /// `information_schema.PLUGINS`: `None` when not readable.
    pub plugins: Option<Rows<MyPlugin>>,
    /// Whether this is Amazon RDS or Aurora (an `rdsadmin` account exists or
    /// `basedir` is `/rdsdbbin/…`).
    pub rds: bool,
    /// What could not be read, for the person running the audit.
    pub notes: Vec<Msg>,
    /// What the controls expect beyond their defaults.
    pub policy: DbPolicy,
}

impl MySqlSnapshot {
    /// A variable's value; `None` when absent or NULL.
    pub fn variable(&self, name: &str) -> Option<&str> {
        self.variables.get(name).and_then(|v| v.as_deref())
    }

    /// Whether `name` is `ON` (or `1`, `YES`, `TRUE`), ignoring case.
    pub fn variable_on(&self, name: &str) -> Option<bool> {
        self.variable(name).map(is_on)
    }
}

/// One account of `mysql.user`, with its global (`*.*`) privileges that matter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MyAccount {
    pub user: String,
    pub host: String,
    /// The authentication plugin (`mysql_native_password`, `caching_sha2_password`,
    /// `ed25519`, `unix_socket` ...); empty for the old default.
    pub plugin: String,
    /// Whether the stored password hash (`authentication_string`, and MariaDB's
    /// `Password`) is empty.
    pub auth_empty: bool,
    /// `account_locked`: a locked account cannot log in.
    pub locked: bool,
    pub file: bool,
    pub super_priv: bool,
    pub grant_option: bool,
    pub create_user: bool,
    /// Every global privilege column is `Y`: `GRANT ALL ON *.*`.
    pub all: bool,
}

impl MyAccount {
    /// `'user'@'host'`, as MySQL names an account.
    pub fn name(&self) -> String {
        format!("'{}'@'{}'", self.user, self.host)
    }

    /// Whether the account logs in with a password and that password is empty.
    /// Plugins that do not use a stored password (`unix_socket`, `auth_socket`,
    /// `gssapi`, `pam`, `authentication_ldap_*`) never count as empty.
    pub fn empty_password(&self) -> bool {
        if self.locked || !self.auth_empty {
            return false;
        }
        matches!(
            self.plugin.as_str(),
            "" | "mysql_native_password"
                | "mysql_old_password"
                | "caching_sha2_password"
                | "sha256_password"
                | "ed25519"
                | "parsec"
        )
    }

    /// Whether the host part admits clients from more than one named machine:
    /// `%`, `10.%`, `_` wildcards, or a netmask (`10.0.0.0/255.0.0.0`).
    pub fn host_wildcard(&self) -> bool {
        self.host.contains('%') || self.host.contains('_') || self.host.contains('/')
    }

    /// Whether the host is this machine only.
    pub fn host_local(&self) -> bool {
        matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "::1")
    }

    /// The administrative privileges it holds, by their SQL names.
    pub fn admin_privileges(&self) -> Vec<&'static str> {
        let mut p = Vec::new();
        if self.all {
            p.push("ALL");
        }
        if self.super_priv {
            p.push("SUPER");
        }
        if self.file {
            p.push("FILE");
        }
        if self.grant_option {
            p.push("GRANT OPTION");
        }
        if self.create_user {
            p.push("CREATE USER");
        }
        p
    }
}

/// One row of `information_schema.PLUGINS`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MyPlugin {
    pub name: String,
    /// `ACTIVE`, `INACTIVE`, `DISABLED`, `DELETED`.
    pub status: String,
}
