//! Reading a PostgreSQL server.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use keibi_posture::db::{HbaRule, PgLanguage, PgRole, PgSnapshot, Rows, MAX_ROWS};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{Connection, Row};

use crate::{failed, target, truncated, unreadable, ProbeError};

/// The settings the controls read (absent from the result when the server has no
/// such setting, or hides it from the audit role).
const SETTINGS: &[&str] = &[
    "ssl",
    "password_encryption",
    "log_connections",
    "log_disconnections",
    "shared_preload_libraries",
    "pgaudit.log",
    "pgaudit.role",
    "rds.force_ssl",
    "log_statement",
    "server_version",
    "server_version_num",
];

/// One row more than kept, to know a list was cut.
const LIMIT: usize = MAX_ROWS + 1;

/// A connection as the probe opens it: read-only, statements bounded by `timeout`.
pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<PgConnection, ProbeError> {
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128).to_string();
    let opts = PgConnectOptions::from_str(url)
        .map_err(|e| failed(url, e))?
        .application_name("keibi-audit")
        .options([
            ("default_transaction_read_only", "on"),
            ("statement_timeout", ms.as_str()),
            ("lock_timeout", ms.as_str()),
        ]);
    tokio::time::timeout(timeout, PgConnection::connect_with(&opts))
        .await
        .map_err(|_| failed(url, format!("no connection within {}s", timeout.as_secs())))?
        .map_err(|e| failed(url, e))
}

pub(crate) async fn execute(url: &str, timeout: Duration, sql: &str) -> Result<(), ProbeError> {
    let mut conn = connect(url, timeout).await?;
    let r = sqlx::raw_sql(sql).execute(&mut conn).await;
    let _ = conn.close().await;
    r.map(|_| ()).map_err(|e| failed(url, e))
}

pub(crate) async fn probe(url: &str, timeout: Duration) -> Result<PgSnapshot, ProbeError> {
    let mut conn = connect(url, timeout).await?;
    let t = target(url);
    let mut s = PgSnapshot {
        target: t.clone(),
        ..PgSnapshot::default()
    };
    let mut q = Reader {
        conn: &mut conn,
        url,
        timeout,
        notes: Vec::new(),
        target: t,
    };

    if let Some(rows) = q
        .rows(
            "pg_settings",
            "SELECT name, setting FROM pg_settings WHERE name = ANY($1)",
            Some(SETTINGS),
        )
        .await?
    {
        let mut settings = BTreeMap::new();
        for row in &rows {
            if let (Some(n), Some(v)) = (text(row, 0), text(row, 1)) {
                settings.insert(n, v);
            }
        }
        if !settings.contains_key("shared_preload_libraries") {
            q.notes.push(unreadable(
                &q.target,
                "shared_preload_libraries",
                "hidden from this role (grant it pg_read_all_settings)",
            ));
        }
        s.version = settings.remove("server_version");
        s.version_num = settings
            .remove("server_version_num")
            .and_then(|v| v.parse().ok());
        s.settings = settings;
    }

    if let Some(rows) = q
        .rows(
            "pg_hba_file_rules",
            &format!(
                "SELECT line_number, type, database, user_name, address, netmask, auth_method, error \
                 FROM pg_hba_file_rules ORDER BY line_number LIMIT {LIMIT}"
            ),
            None,
        )
        .await?
    {
        let lines = rows
            .iter()
            .map(|r| HbaRule {
                line: r
                    .try_get::<Option<i32>, _>(0)
                    .ok()
                    .flatten()
                    .unwrap_or(0)
                    .max(0) as u32,
                kind: text(r, 1).unwrap_or_default(),
                databases: texts(r, 2),
                users: texts(r, 3),
                address: text(r, 4),
                netmask: text(r, 5),
                method: text(r, 6).unwrap_or_default(),
                error: text(r, 7),
            })
            .collect();
        s.hba = Some(q.bounded("pg_hba_file_rules", lines));
    }

    if let Some(rows) = q
        .rows(
            "pg_roles",
            &format!(
                "SELECT rolname::text, rolsuper, rolcreaterole, rolbypassrls, rolcanlogin, \
                 rolvaliduntil::text, oid = 10 FROM pg_roles ORDER BY rolname LIMIT {LIMIT}"
            ),
            None,
        )
        .await?
    {
        let flag = |r: &PgRow, i: usize| {
            r.try_get::<Option<bool>, _>(i)
                .ok()
                .flatten()
                .unwrap_or(false)
        };
        let roles: Vec<PgRole> = rows
            .iter()
            .map(|r| PgRole {
                name: text(r, 0).unwrap_or_default(),
                superuser: flag(r, 1),
                createrole: flag(r, 2),
                bypassrls: flag(r, 3),
                can_login: flag(r, 4),
                valid_until: text(r, 5),
                password_set: None,
                bootstrap: flag(r, 6),
            })
            .collect();
        let mut roles = q.bounded("pg_roles", roles);
        // Only a superuser reads pg_authid; without it, whether a role has a password
        // stays unknown (no note: a least-privileged audit role is not expected to).
        if let Ok(Ok(rows)) = tokio::time::timeout(
            timeout,
            sqlx::query(&format!(
                "SELECT rolname::text, rolpassword IS NOT NULL FROM pg_authid LIMIT {LIMIT}"
            ))
            .fetch_all(&mut *q.conn),
        )
        .await
        {
            let set: BTreeMap<String, bool> = rows
                .iter()
                .filter_map(|r| Some((text(r, 0)?, r.try_get::<bool, _>(1).ok()?)))
                .collect();
            for role in &mut roles.rows {
                role.password_set = set.get(&role.name).copied();
            }
        }
        s.roles = Some(roles);
    }

    if let Some(rows) = q
        .rows(
            "pg_extension",
            &format!("SELECT extname::text FROM pg_extension ORDER BY 1 LIMIT {LIMIT}"),
            None,
        )
        .await?
    {
        let ext = rows.iter().filter_map(|r| text(r, 0)).collect();
        s.extensions = Some(q.bounded("pg_extension", ext));
    }

    if let Some(rows) = q
        .rows(
            "pg_language",
            &format!(
                "SELECT lanname::text, lanpltrusted FROM pg_language ORDER BY 1 LIMIT {LIMIT}"
            ),
            None,
        )
        .await?
    {
        let langs = rows
            .iter()
            .map(|r| PgLanguage {
                name: text(r, 0).unwrap_or_default(),
                trusted: r.try_get::<bool, _>(1).unwrap_or(false),
            })
            .collect();
        s.languages = Some(q.bounded("pg_language", langs));
    }

    if let Some(rows) = q
        .rows(
            "pg_namespace",
            "SELECT has_schema_privilege('public', n.oid, 'CREATE') \
             FROM pg_namespace n WHERE n.nspname = 'public'",
            None,
        )
        .await?
    {
        s.public_create = rows.first().and_then(|r| r.try_get::<bool, _>(0).ok());
    }

    if let Some(rows) = q
        .rows(
            "pg_roles",
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_superuser')",
            None,
        )
        .await?
    {
        s.rds = rows
            .first()
            .and_then(|r| r.try_get::<bool, _>(0).ok())
            .unwrap_or(false);
    }

    s.notes = q.notes;
    let _ = conn.close().await;
    Ok(s)
}

struct Reader<'a> {
    conn: &'a mut PgConnection,
    url: &'a str,
    timeout: Duration,
    notes: Vec<keibi_model::text::Msg>,
    target: String,
}

impl Reader<'_> {
    /// Runs one query. A refusal by the server (no privilege, a view this version
    /// lacks) is a note and `None`; a broken connection or a time-out ends the probe.
    async fn rows(
        &mut self,
        what: &str,
        sql: &str,
        names: Option<&[&str]>,
    ) -> Result<Option<Vec<PgRow>>, ProbeError> {
        let mut query = sqlx::query(sql);
        if let Some(names) = names {
            query = query.bind(names.iter().map(|n| n.to_string()).collect::<Vec<_>>());
        }
        match tokio::time::timeout(self.timeout, query.fetch_all(&mut *self.conn)).await {
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

fn text(r: &PgRow, i: usize) -> Option<String> {
    r.try_get::<Option<String>, _>(i)
        .ok()
        .flatten()
        .map(crate::bounded)
}

fn texts(r: &PgRow, i: usize) -> Vec<String> {
    r.try_get::<Option<Vec<String>>, _>(i)
        .ok()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .take(crate::MAX_ITEMS)
        .map(crate::bounded)
        .collect()
}
