//! Reading a MySQL or MariaDB server.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use keibi_posture::db::{MyAccount, MyPlugin, MySqlFlavor, MySqlSnapshot, Rows, MAX_ROWS};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow};
use sqlx::{Column, Connection, Executor, Row};

use crate::{failed, target, truncated, unreadable, ProbeError};

/// The global variables the controls read.
const VARIABLES: &[&str] = &[
    "require_secure_transport",
    "local_infile",
    "secure_file_priv",
    "have_ssl",
    "server_audit_logging",
    "server_audit_events",
    "server_audit_output_type",
    "audit_log_policy",
    "log_bin_trust_function_creators",
    "skip_networking",
    "skip_name_resolve",
    "basedir",
    "version_comment",
];

/// One row more than kept, to know a list was cut.
const LIMIT: usize = MAX_ROWS + 1;

/// A connection as the probe opens it: a read-only session, statements bounded by
/// `timeout`.
pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<MySqlConnection, ProbeError> {
    let opts = MySqlConnectOptions::from_str(url).map_err(|e| failed(url, e))?;
    let mut conn = tokio::time::timeout(timeout, MySqlConnection::connect_with(&opts))
        .await
        .map_err(|_| failed(url, format!("no connection within {}s", timeout.as_secs())))?
        .map_err(|e| failed(url, e))?;
    // Read-only before anything else: the session cannot write, whatever the
    // account may.
    conn.execute("SET SESSION TRANSACTION READ ONLY")
        .await
        .map_err(|e| failed(url, format!("cannot make the session read-only: {e}")))?;
    // MariaDB bounds every statement in seconds, MySQL SELECTs in milliseconds; each
    // server refuses the other's variable, which is fine.
    let secs = timeout.as_secs().max(1);
    let _ = conn
        .execute(format!("SET SESSION max_statement_time = {secs}").as_str())
        .await;
    let _ = conn
        .execute(format!("SET SESSION max_execution_time = {}", secs * 1000).as_str())
        .await;
    Ok(conn)
}

pub(crate) async fn execute(url: &str, timeout: Duration, sql: &str) -> Result<(), ProbeError> {
    let mut conn = connect(url, timeout).await?;
    let r = sqlx::raw_sql(sql).execute(&mut conn).await;
    let _ = conn.close().await;
    r.map(|_| ()).map_err(|e| failed(url, e))
}

pub(crate) async fn probe(url: &str, timeout: Duration) -> Result<MySqlSnapshot, ProbeError> {
    let mut conn = connect(url, timeout).await?;
    let t = target(url);
    let mut s = MySqlSnapshot {
        target: t.clone(),
        ..MySqlSnapshot::default()
    };
    let mut q = Reader {
        conn: &mut conn,
        url,
        timeout,
        notes: Vec::new(),
        target: t,
    };

    if let Some(rows) = q.rows("VERSION()", "SELECT VERSION()").await? {
        s.version = rows.first().and_then(|r| text(r, 0));
    }

    let list = VARIABLES
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(rows) = q
        .rows(
            "global variables",
            &format!("SHOW GLOBAL VARIABLES WHERE Variable_name IN ({list})"),
        )
        .await?
    {
        let mut vars: BTreeMap<String, Option<String>> = BTreeMap::new();
        for r in &rows {
            if let Some(name) = text(r, 0) {
                vars.insert(name.to_ascii_lowercase(), text(r, 1));
            }
        }
        if vars.contains_key("secure_file_priv") {
            // SHOW prints NULL as an empty value on some versions: only the variable
            // itself tells NULL (file access off) from '' (anywhere).
            if let Some(rows) = q
                .rows("secure_file_priv", "SELECT @@GLOBAL.secure_file_priv")
                .await?
            {
                let v = rows.first().and_then(|r| text(r, 0));
                vars.insert("secure_file_priv".into(), v);
            }
        }
        s.variables = vars;
    }

    let flavor_source = format!(
        "{} {}",
        s.version.as_deref().unwrap_or(""),
        s.variable("version_comment").unwrap_or("")
    );
    s.flavor = Some(if flavor_source.to_ascii_lowercase().contains("mariadb") {
        MySqlFlavor::MariaDb
    } else {
        MySqlFlavor::MySql
    });

    if let Some(rows) = q
        .rows(
            "mysql.user",
            &format!("SELECT * FROM mysql.user LIMIT {LIMIT}"),
        )
        .await?
    {
        let mut accounts: Vec<MyAccount> = rows.iter().filter_map(account).collect();
        if s.flavor == Some(MySqlFlavor::MariaDb) {
            // MariaDB's mysql.user view has no account_locked: the lock is in
            // mysql.global_priv's JSON.
            match q
                .rows(
                    "mysql.global_priv",
                    &format!(
                        "SELECT User, Host, JSON_VALUE(Priv, '$.account_locked') \
                         FROM mysql.global_priv LIMIT {LIMIT}"
                    ),
                )
                .await?
            {
                Some(rows) => {
                    for r in &rows {
                        let (Some(u), Some(h)) = (text(r, 0), text(r, 1)) else {
                            continue;
                        };
                        let locked = text(r, 2).is_some_and(|v| v == "1" || v == "true");
                        for a in accounts.iter_mut().filter(|a| a.user == u && a.host == h) {
                            a.locked = locked;
                        }
                    }
                }
                None => {
                    // The one account MariaDB creates locked, with no password.
                    for a in accounts
                        .iter_mut()
                        .filter(|a| a.user == "mariadb.sys" && a.host == "localhost")
                    {
                        a.locked = true;
                    }
                }
            }
        }
        s.accounts = Some(q.bounded("mysql.user", accounts));
    }

    if let Some(rows) = q
        .rows(
            "information_schema.PLUGINS",
            &format!(
                "SELECT PLUGIN_NAME, PLUGIN_STATUS FROM information_schema.PLUGINS LIMIT {LIMIT}"
            ),
        )
        .await?
    {
        let plugins = rows
            .iter()
            .map(|r| MyPlugin {
                name: text(r, 0).unwrap_or_default(),
                status: text(r, 1).unwrap_or_default(),
            })
            .collect();
        s.plugins = Some(q.bounded("information_schema.PLUGINS", plugins));
    }

    s.rds = s
        .variable("basedir")
        .is_some_and(|b| b.starts_with("/rdsdbbin"))
        || s.accounts
            .as_ref()
            .is_some_and(|a| a.rows.iter().any(|a| a.user == "rdsadmin"));
    s.notes = q.notes;
    let _ = conn.close().await;
    Ok(s)
}

/// One `mysql.user` row, by column name (the columns differ between MySQL 5.7,
/// 8.x and MariaDB's view); `None` for a MariaDB role, which cannot log in.
fn account(r: &MySqlRow) -> Option<MyAccount> {
    let mut a = MyAccount::default();
    let mut privs = 0usize;
    let mut granted = 0usize;
    let mut password_col: Option<String> = None;
    let mut auth_col: Option<String> = None;
    for (i, c) in r.columns().iter().enumerate() {
        let name = c.name().to_ascii_lowercase();
        let v = text(r, i);
        let yes = v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("Y"));
        match name.as_str() {
            "user" => a.user = v.unwrap_or_default(),
            "host" => a.host = v.unwrap_or_default(),
            "plugin" => a.plugin = v.unwrap_or_default(),
            "authentication_string" => auth_col = Some(v.unwrap_or_default()),
            "password" => password_col = Some(v.unwrap_or_default()),
            "account_locked" => a.locked = yes,
            "file_priv" => a.file = yes,
            "super_priv" => a.super_priv = yes,
            "grant_priv" => a.grant_option = yes,
            "create_user_priv" => a.create_user = yes,
            "is_role" if yes => return None,
            _ => {}
        }
        if name.ends_with("_priv") {
            privs += 1;
            granted += usize::from(yes);
        }
    }
    a.all = privs > 0 && granted == privs;
    // Empty when every stored form of the password is: MariaDB's view has both
    // columns (one may carry the hash), MySQL 8 only authentication_string.
    a.auth_empty = [auth_col, password_col]
        .iter()
        .flatten()
        .all(|v| v.is_empty());
    Some(a)
}

struct Reader<'a> {
    conn: &'a mut MySqlConnection,
    url: &'a str,
    timeout: Duration,
    notes: Vec<keibi_model::text::Msg>,
    target: String,
}

impl Reader<'_> {
    /// Runs one query. A refusal by the server (no privilege) is a note and `None`;
    /// a broken connection or a time-out ends the probe.
    async fn rows(&mut self, what: &str, sql: &str) -> Result<Option<Vec<MySqlRow>>, ProbeError> {
        match tokio::time::timeout(self.timeout, sqlx::query(sql).fetch_all(&mut *self.conn)).await
        {
            Err(_) => Err(failed(
                self.url,
                format!("{what}: no answer within {}s", self.timeout.as_secs()),
            )),
            Ok(Ok(rows)) => Ok(Some(rows)),
            Ok(Err(sqlx::Error::Database(e))) => {
                self.notes.push(unreadable(&self.target, what, e.message()));
                Ok(None)
            }
            Ok(Err(e)) => Err(failed(self.url, format!("{what}: {e}"))),
        }
    }

    fn bounded<T>(&mut self, what: &str, rows: Vec<T>) -> Rows<T> {
        let rows = Rows::bounded(rows);
        if rows.truncated {
            self.notes.push(truncated(&self.target, what));
        }
        rows
    }
}

/// A column as text whatever its declared type (VARCHAR, ENUM, binary collations):
/// MySQL's catalog columns differ between versions.
fn text(r: &MySqlRow, i: usize) -> Option<String> {
    r.try_get_unchecked::<Option<Vec<u8>>, _>(i)
        .ok()
        .flatten()
        .map(|b| crate::bounded(String::from_utf8_lossy(&b).into_owned()))
}
