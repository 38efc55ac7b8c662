//! keibi's database edge: connects read-only to a PostgreSQL or MySQL/MariaDB
//! server and reads what the in-database posture controls need; and, apart, the
//! response executor ([`respond`]) that locks roles and ends sessions.
//!
//! The probes stay read-only: only [`respond`] writes, on connections of its own
//! (its own connect functions, `application_name` `keibi-respond`), and only
//! `ALTER ROLE`/`ALTER USER` (`LOGIN`/`NOLOGIN`, `ACCOUNT LOCK`/`UNLOCK`) of the one
//! role a target names and session termination. Nothing in [`respond`] uses the
//! probes' connections, nor they its.
//!
//! * Read-only: PostgreSQL sessions start with `default_transaction_read_only=on`
//!   and a `statement_timeout`; MySQL/MariaDB sessions run `SET SESSION TRANSACTION
//!   READ ONLY` (and `max_statement_time` / `max_execution_time`) before anything
//!   else. Only `SELECT` and `SHOW` are sent.
//! * TLS as the URL asks (`sslmode=require` / `ssl-mode=REQUIRED`, and the verifying
//!   modes with `sslrootcert` / `ssl-ca`: RDS's CA bundle is not in the public roots),
//!   with rustls on aws-lc-rs.
//! * A password is never printed or stored: errors and snapshots name the server by
//!   [`redact`] or [`target`], and a driver message that happens to contain the
//!   password has it replaced.
//! * A view the audit role may not read leaves its part of the snapshot `None` with
//!   a note (catalog message `db-note-unreadable`), never an error: the controls that
//!   need it are then not evaluated. Lists are bounded by [`MAX_ROWS`].
//!
//! The least-privileged audit role (what `tests/audit_db.rs` audits with):
//!
//! * PostgreSQL, self-managed: `CREATE ROLE keibi_audit LOGIN PASSWORD '…';`
//!   `GRANT pg_read_all_settings TO keibi_audit;` (shared_preload_libraries)
//!   `GRANT SELECT ON pg_hba_file_rules TO keibi_audit;`
//!   `GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO keibi_audit;`. Roles,
//!   extensions, languages and schema ACLs are public catalogs; extensions and
//!   PUBLIC CREATE are per database: audit each database that matters.
//! * RDS / Aurora PostgreSQL (as the master user): the first two lines only;
//!   pg_hba_file_rules belongs to `rdsadmin` and cannot be granted, so KB.PG.1-3 are
//!   not evaluated there (AWS manages pg_hba; `rds.force_ssl` is KB.PG.4).
//! * MySQL / MariaDB (RDS too): `CREATE USER 'keibi_audit'@'10.0.2.%' IDENTIFIED BY
//!   '…' REQUIRE SSL;` `GRANT SELECT ON mysql.user TO 'keibi_audit'@'10.0.2.%';` and
//!   on MariaDB 10.4+ `GRANT SELECT ON mysql.global_priv TO …;` (account locks).
//!   Global variables and `information_schema.PLUGINS` need no grant.

mod mysql;
mod pg;
pub mod respond;

use std::future::Future;
use std::time::Duration;

use keibi_model::text::Msg;
use keibi_posture::db::{MySqlSnapshot, PgSnapshot, MAX_ROWS};
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The URL, without its password, and why.
    #[error("{target}: {reason}")]
    Failed { target: String, reason: String },
}

/// A database URL with its password (and any `password`/`sslpassword` query
/// parameter) replaced by `***`: what errors and outputs show. A URL that does not
/// parse shows only its scheme and what follows its last `@`.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            let secret = |k: &str| {
                let k = k.to_ascii_lowercase();
                k.contains("password") || k == "pass" || k == "pwd"
            };
            if u.query_pairs().any(|(k, _)| secret(&k)) {
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if secret(&k) {
                            "***".into()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => match url.split_once("://") {
            Some((scheme, rest)) => {
                let scheme: String = scheme.chars().filter(char::is_ascii_alphanumeric).collect();
                let after = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                let host: String = after
                    .split(['/', '?'])
                    .next()
                    .unwrap_or("")
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(*c))
                    .collect();
                format!("{scheme}://***@{host} (not a valid URL)")
            }
            None => "(not a valid URL)".to_string(),
        },
    }
}

/// The server a URL names, without user, password, database or options:
/// `postgres://db.example:5432`, `mysql://10.0.0.5:3306`. The resource id of its
/// posture findings, so the same server audited with another user or database is
/// the same resource.
pub fn target(url: &str) -> String {
    let Ok(u) = Url::parse(url) else {
        return redact(url);
    };
    let (scheme, port) = match u.scheme() {
        "postgres" | "postgresql" => ("postgres", 5432),
        "mysql" | "mariadb" => ("mysql", 3306),
        other => (other, 0),
    };
    let host = u.host_str().unwrap_or("localhost");
    format!("{scheme}://{host}:{}", u.port().unwrap_or(port))
}

/// Replaces the URL's password wherever a driver message repeats it.
fn scrub(url: &str, reason: String) -> String {
    let Ok(u) = Url::parse(url) else {
        return reason;
    };
    let mut secrets: Vec<String> = Vec::new();
    if let Some(p) = u.password() {
        secrets.push(p.to_string());
        if let Ok(decoded) = percent_encoding::percent_decode_str(p).decode_utf8() {
            secrets.push(decoded.into_owned());
        }
    }
    for (k, v) in u.query_pairs() {
        if k.to_ascii_lowercase().contains("password") {
            secrets.push(v.into_owned());
        }
    }
    let mut reason = reason;
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        reason = reason.replace(s.as_str(), "***");
    }
    reason
}

fn failed(url: &str, reason: impl std::fmt::Display) -> ProbeError {
    ProbeError::Failed {
        target: redact(url),
        reason: one_line(&scrub(url, reason.to_string())),
    }
}

/// Runs `fut` on a one-thread runtime of its own, within `timeout`.
fn run<T>(
    url: &str,
    timeout: Duration,
    fut: impl Future<Output = Result<T, ProbeError>>,
) -> Result<T, ProbeError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed(url, format!("cannot start the I/O runtime: {e}")))?;
    // Connecting plus a dozen small queries: a generous multiple of one statement's
    // time-out, so a slow server still finishes but a stuck one does not hold the
    // audit.
    let whole = timeout.saturating_mul(4);
    rt.block_on(async {
        match tokio::time::timeout(whole, fut).await {
            Ok(r) => r,
            Err(_) => Err(failed(
                url,
                format!("no answer within {}s", whole.as_secs()),
            )),
        }
    })
}

/// The note that a part of the snapshot could not be read.
fn unreadable(target: &str, what: &str, reason: &str) -> Msg {
    Msg::new("db-note-unreadable")
        .arg("target", target)
        .arg("what", what)
        .arg("reason", one_line(reason))
}

/// The note that a list had more rows than were read.
fn truncated(target: &str, what: &str) -> Msg {
    Msg::new("db-note-truncated")
        .arg("target", target)
        .arg("what", what)
        .arg("max", MAX_ROWS as u64)
}

/// The longest value kept from a server (a setting, a name, a pg_hba field): a
/// hostile server's values are stored bounded, whatever it sent.
pub const MAX_VALUE: usize = 4096;

/// The most items kept of one array value (a pg_hba line's databases or users).
pub const MAX_ITEMS: usize = 256;

fn bounded(mut s: String) -> String {
    if s.len() > MAX_VALUE {
        let mut end = MAX_VALUE;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// A driver's or server's message on one line, at most 500 characters, no control
/// characters (a server can put anything in its error messages).
fn one_line(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(500)
        .collect();
    s.trim().to_string()
}

/// Reads a PostgreSQL server (`postgres://user:pass@host:port/db?sslmode=…`).
/// `timeout` bounds connecting and each statement.
pub fn probe_postgres(url: &str, timeout: Duration) -> Result<PgSnapshot, ProbeError> {
    run(url, timeout, pg::probe(url, timeout))
}

/// Reads a MySQL or MariaDB server (`mysql://user:pass@host:port/?ssl-mode=…`).
/// `timeout` bounds connecting and each statement.
pub fn probe_mysql(url: &str, timeout: Duration) -> Result<MySqlSnapshot, ProbeError> {
    run(url, timeout, mysql::probe(url, timeout))
}

/// Runs `sql` on a connection opened exactly as the probes open theirs, and
/// returns the server's answer. For tests that the connection is read-only (a write
/// fails); the probes themselves only read.
#[doc(hidden)]
pub fn execute_as_probe(url: &str, timeout: Duration, sql: &str) -> Result<(), ProbeError> {
    let fut = async {
        match Url::parse(url).map(|u| u.scheme().to_string()).as_deref() {
            Ok("mysql" | "mariadb") => mysql::execute(url, timeout, sql).await,
            _ => pg::execute(url, timeout, sql).await,
        }
    };
    run(url, timeout, fut)
}

#[cfg(test)]
mod tests;
