//! PostgreSQL: `ALTER ROLE … NOLOGIN` / `LOGIN` and `pg_terminate_backend`.
//!
//! The responding role needs `CREATEROLE` (to change `LOGIN` of other roles; on
//! PostgreSQL 16+ also `ADMIN OPTION` on them, which the creator of a role has),
//! `pg_signal_backend` (to end other roles' sessions) and `pg_read_all_stats` (to
//! see their client addresses). A superuser is locked like any role (an attacker
//! who got `postgres` is the case that matters most), which needs the responding
//! role to be a superuser too; without it the server refuses and the action fails
//! with its message. The role keibi connects as is never locked (it would lock
//! keibi out of undoing), nor RDS's `rdsadmin`.

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};

use super::{read_prior, reserved, Db, MAX_LIST};
use keibi_respond::ExecError;

/// PostgreSQL's longest identifier (NAMEDATALEN - 1): a longer quoted name would be
/// cut by the server, and could then name another role.
const MAX_NAME: usize = 63;

/// What `prepare` read of a role: whether it could log in before keibi locked it.
#[derive(Debug, Serialize, Deserialize)]
struct LockPrior {
    engine: String,
    role: String,
    can_login: bool,
    superuser: bool,
}

/// A connection of the responder: its own application name, every statement and
/// lock wait bounded by `timeout`. Not read-only: it alters roles.
async fn connect(db: &Db, timeout: Duration) -> Result<PgConnection, ExecError> {
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128).to_string();
    let mut opts = PgConnectOptions::from_str(&db.url)
        .map_err(|e| db.permanent(e))?
        .application_name("keibi-respond")
        .options([
            ("statement_timeout", ms.as_str()),
            ("lock_timeout", ms.as_str()),
        ]);
    if let Some(p) = &db.password {
        opts = opts.password(p);
    }
    tokio::time::timeout(timeout, PgConnection::connect_with(&opts))
        .await
        .map_err(|_| db.transient(format!("no connection within {}s", timeout.as_secs())))?
        .map_err(|e| classify(db, e))
}

/// Worth trying again (the server down, busy, restarting, a statement or lock
/// time-out) or not (denied, no such role, a bad password).
fn classify(db: &Db, e: sqlx::Error) -> ExecError {
    match &e {
        sqlx::Error::Database(d) => {
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            // 08 connection, 40 rollback (deadlock), 53 resources, 55 lock not
            // available, 57 operator intervention (shutdown, statement time-out).
            let transient = ["08", "40", "53", "55", "57"]
                .iter()
                .any(|class| code.starts_with(class));
            let msg = format!("{} (SQLSTATE {code})", d.message());
            if transient {
                db.transient(msg)
            } else {
                db.permanent(msg)
            }
        }
        sqlx::Error::Configuration(_) | sqlx::Error::Tls(_) => db.permanent(&e),
        _ => db.transient(&e),
    }
}

/// `"name"` with every `"` doubled: the one place a role name is part of SQL text
/// (an identifier cannot be a bound parameter). Refused: an empty name, a NUL
/// (never in a PostgreSQL name), a name longer than the server keeps.
pub(super) fn quote_ident(db: &Db, name: &str) -> Result<String, ExecError> {
    if name.is_empty() || name.contains('\0') || name.len() > MAX_NAME {
        return Err(db.permanent(format!(
            "{name:?} cannot be a PostgreSQL role name (empty, a NUL, or longer than {MAX_NAME} bytes)"
        )));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// The role as the catalog has it: (can log in, superuser, keibi's own).
async fn role(
    db: &Db,
    conn: &mut PgConnection,
    user: &str,
) -> Result<Option<(bool, bool, bool)>, ExecError> {
    let row = sqlx::query(
        "SELECT rolcanlogin, rolsuper, rolname = session_user OR rolname = current_user \
         FROM pg_roles WHERE rolname = $1",
    )
    .bind(user)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| classify(db, e))?;
    Ok(row.map(|r| {
        (
            r.try_get::<bool, _>(0).unwrap_or(false),
            r.try_get::<bool, _>(1).unwrap_or(false),
            r.try_get::<bool, _>(2).unwrap_or(false),
        )
    }))
}

/// The role, refused when it is keibi's own or RDS's, or missing.
async fn lockable(db: &Db, conn: &mut PgConnection, user: &str) -> Result<(bool, bool), ExecError> {
    if reserved(user) {
        return Err(db.permanent(format!("{user:?} is RDS's own role; keibi never locks it")));
    }
    match role(db, conn, user).await? {
        None => Err(db.permanent(format!("no role {user:?}"))),
        Some((_, _, true)) => Err(db.permanent(format!(
            "{user:?} is the role keibi responds as; keibi never locks itself out"
        ))),
        Some((login, superuser, false)) => Ok((login, superuser)),
    }
}

pub(super) async fn lock_prepare(
    db: &Db,
    user: &str,
    timeout: Duration,
) -> Result<Value, ExecError> {
    quote_ident(db, user)?;
    let mut conn = connect(db, timeout).await?;
    let r = lockable(db, &mut conn, user).await;
    let _ = conn.close().await;
    let (can_login, superuser) = r?;
    Ok(json!(LockPrior {
        engine: "postgres".into(),
        role: user.into(),
        can_login,
        superuser,
    }))
}

pub(super) async fn lock_apply(
    db: &Db,
    user: &str,
    prior: &Value,
    timeout: Duration,
) -> Result<Value, ExecError> {
    let p: LockPrior = read_prior(db, prior)?;
    if p.role != user {
        return Err(db.permanent("the recorded prior state is of another role"));
    }
    let ident = quote_ident(db, user)?;
    let mut conn = connect(db, timeout).await?;
    let r = async {
        let (can_login, _) = lockable(db, &mut conn, user).await?;
        // Already NOLOGIN (before keibi, or by this action's first try): nothing to
        // alter, and a role without rights over a superuser is not refused for it.
        if can_login {
            sqlx::query(&format!("ALTER ROLE {ident} NOLOGIN"))
                .execute(&mut conn)
                .await
                .map_err(|e| classify(db, e))?;
            match role(db, &mut conn, user).await? {
                Some((false, _, _)) => {}
                _ => {
                    return Err(db.permanent(format!("{user:?} can still log in after ALTER ROLE")))
                }
            }
        }
        let ended = terminate(db, &mut conn, user, None, timeout).await?;
        Ok(json!({ "login": false, "sessions_ended": ended }))
    }
    .await;
    let _ = conn.close().await;
    r
}

pub(super) async fn lock_undo(
    db: &Db,
    user: &str,
    prior: &Value,
    timeout: Duration,
) -> Result<(), ExecError> {
    let p: LockPrior = read_prior(db, prior)?;
    if p.role != user {
        return Err(db.permanent("the recorded prior state is of another role"));
    }
    // NOLOGIN before keibi came: it stays so.
    if !p.can_login {
        return Ok(());
    }
    let ident = quote_ident(db, user)?;
    let mut conn = connect(db, timeout).await?;
    let r = async {
        match role(db, &mut conn, user).await? {
            // Dropped since: nothing of keibi's is left to undo.
            None | Some((true, _, _)) => Ok(()),
            Some((false, _, _)) => sqlx::query(&format!("ALTER ROLE {ident} LOGIN"))
                .execute(&mut conn)
                .await
                .map(|_| ())
                .map_err(|e| classify(db, e)),
        }
    }
    .await;
    let _ = conn.close().await;
    r
}

/// The sessions an end of sessions would end now (its prior: what was there).
pub(super) async fn sessions(
    db: &Db,
    user: &str,
    address: Option<IpAddr>,
    timeout: Duration,
) -> Result<Value, ExecError> {
    let mut conn = connect(db, timeout).await?;
    let r = sqlx::query(
        "SELECT pid FROM pg_stat_activity \
         WHERE usename = $1 AND pid <> pg_backend_pid() \
         AND ($2::text IS NULL OR client_addr = $2::text::inet) \
         ORDER BY pid LIMIT $3",
    )
    .bind(user)
    .bind(address.map(|a| a.to_string()))
    .bind(MAX_LIST as i64)
    .fetch_all(&mut conn)
    .await
    .map_err(|e| classify(db, e));
    let _ = conn.close().await;
    let pids: Vec<i32> = r?
        .iter()
        .filter_map(|r| r.try_get::<i32, _>(0).ok())
        .collect();
    Ok(json!({ "sessions": pids }))
}

pub(super) async fn end_sessions(
    db: &Db,
    user: &str,
    address: Option<IpAddr>,
    timeout: Duration,
) -> Result<Value, ExecError> {
    let mut conn = connect(db, timeout).await?;
    let r = terminate(db, &mut conn, user, address, timeout).await;
    let _ = conn.close().await;
    Ok(json!({ "sessions_ended": r? }))
}

/// Ends the role's sessions (only those from `address` when given), not this one,
/// and answers the pids ended. On PostgreSQL 14+ each end is waited for (up to half
/// the time-out), so a session reported ended is gone.
async fn terminate(
    db: &Db,
    conn: &mut PgConnection,
    user: &str,
    address: Option<IpAddr>,
    timeout: Duration,
) -> Result<Vec<i32>, ExecError> {
    let v14: bool =
        sqlx::query_scalar("SELECT current_setting('server_version_num')::int >= 140000")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| classify(db, e))?;
    let sql = if v14 {
        "SELECT pid, pg_terminate_backend(pid, $4) FROM pg_stat_activity \
         WHERE usename = $1 AND pid <> pg_backend_pid() \
         AND ($2::text IS NULL OR client_addr = $2::text::inet) \
         ORDER BY pid LIMIT $3"
    } else {
        "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE usename = $1 AND pid <> pg_backend_pid() \
         AND ($2::text IS NULL OR client_addr = $2::text::inet) \
         ORDER BY pid LIMIT $3"
    };
    let wait_ms = (timeout.as_millis() / 2).clamp(1, i64::MAX as u128) as i64;
    let mut q = sqlx::query(sql)
        .bind(user)
        .bind(address.map(|a| a.to_string()))
        .bind(MAX_LIST as i64);
    if v14 {
        q = q.bind(wait_ms);
    }
    let rows = q.fetch_all(&mut *conn).await.map_err(|e| classify(db, e))?;
    Ok(rows
        .iter()
        .filter(|r| r.try_get::<Option<bool>, _>(1).ok().flatten() == Some(true))
        .filter_map(|r| r.try_get::<i32, _>(0).ok())
        .collect())
}
