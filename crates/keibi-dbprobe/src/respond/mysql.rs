//! MySQL 8 / MariaDB 10.4+: `ALTER USER … ACCOUNT LOCK` / `UNLOCK` on every account
//! (host) of a user name, and `KILL CONNECTION`.
//!
//! The responding account needs `CREATE USER` (to lock and unlock), `PROCESS` (to
//! see other accounts' connections), `CONNECTION ADMIN` on MariaDB 10.5+ or
//! `CONNECTION_ADMIN` on MySQL 8 (or `SUPER`) to kill them, and `SELECT` on
//! `mysql.user` (MySQL) or `mysql.global_priv` (MariaDB, where the lock is kept).
//! Its own user name is never locked, nor RDS's `rdsadmin`.
//!
//! Account names in SQL text: `ALTER USER` takes the user and host only as
//! literals, never as bound parameters. They are written as backtick-quoted
//! identifiers with every backtick doubled, which means the same whatever the
//! session's `sql_mode` (`NO_BACKSLASH_ESCAPES` changes what a backslash means in a
//! '…' string and `ANSI_QUOTES` what "…" is; neither touches backticks), with no
//! escape character to get wrong in any character set. A NUL, which no identifier
//! may hold, is refused. The statement goes as a prepared statement (one statement,
//! never a batch), and the lock state is read back by bound parameters afterwards:
//! an account reported locked is the account the catalog lists under that exact name.

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow};
use sqlx::{Connection, Executor, Row};

use super::{read_prior, reserved, Db, MAX_LIST};
use keibi_respond::ExecError;

/// One account of the user, as `prepare` read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Account {
    host: String,
    locked: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct LockPrior {
    engine: String,
    user: String,
    accounts: Vec<Account>,
}

/// A connection of the responder, its statements bounded by `timeout`. Not
/// read-only: it alters accounts and kills connections.
async fn connect(db: &Db, timeout: Duration) -> Result<MySqlConnection, ExecError> {
    let mut opts = MySqlConnectOptions::from_str(&db.url).map_err(|e| db.permanent(e))?;
    if let Some(p) = &db.password {
        opts = opts.password(p);
    }
    let mut conn = tokio::time::timeout(timeout, MySqlConnection::connect_with(&opts))
        .await
        .map_err(|_| db.transient(format!("no connection within {}s", timeout.as_secs())))?
        .map_err(|e| classify(db, e))?;
    // MariaDB bounds every statement in seconds, MySQL SELECTs in milliseconds; each
    // refuses the other's variable, which is fine.
    let secs = timeout.as_secs().max(1);
    let _ = conn
        .execute(format!("SET SESSION max_statement_time = {secs}").as_str())
        .await;
    let _ = conn
        .execute(format!("SET SESSION max_execution_time = {}", secs * 1000).as_str())
        .await;
    Ok(conn)
}

/// Worth trying again (too many connections, shutdown, lock wait, deadlock, a
/// statement time-out, a lost connection) or not (denied, unknown account).
fn classify(db: &Db, e: sqlx::Error) -> ExecError {
    match &e {
        sqlx::Error::Database(d) => {
            let code = d
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map(|m| m.number())
                .unwrap_or(0);
            let transient = matches!(code, 1040 | 1053 | 1205 | 1213 | 1969 | 2006 | 2013 | 3024);
            let msg = format!("{} (error {code})", d.message());
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

/// `` `name` `` with every backtick doubled (see the module's notes).
fn quote(db: &Db, name: &str) -> Result<String, ExecError> {
    if name.contains('\0') {
        return Err(db.permanent(format!("{name:?} holds a NUL; no account name can")));
    }
    Ok(format!("`{}`", name.replace('`', "``")))
}

fn account_sql(db: &Db, user: &str, host: &str) -> Result<String, ExecError> {
    Ok(format!("{}@{}", quote(db, user)?, quote(db, host)?))
}

/// A column as text, strictly UTF-8 (a name that is not cannot be compared with the
/// target's, which is).
fn text(r: &MySqlRow, i: usize) -> Option<String> {
    r.try_get_unchecked::<Option<Vec<u8>>, _>(i)
        .ok()
        .flatten()
        .and_then(|b| String::from_utf8(b).ok())
}

/// Whether the server is MariaDB (its locks are in `mysql.global_priv`).
async fn is_mariadb(db: &Db, conn: &mut MySqlConnection) -> Result<bool, ExecError> {
    let rows = sqlx::query("SELECT VERSION(), @@version_comment")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| classify(db, e))?;
    let r = rows.first();
    let v = format!(
        "{} {}",
        r.and_then(|r| text(r, 0)).unwrap_or_default(),
        r.and_then(|r| text(r, 1)).unwrap_or_default()
    );
    Ok(v.to_ascii_lowercase().contains("mariadb"))
}

/// Every account (host) of `user` and whether it is locked, by a bound parameter,
/// compared again byte for byte (`User` columns are binary, but a view or an old
/// version need not be). MariaDB's roles, which cannot log in, are left out.
async fn accounts(
    db: &Db,
    conn: &mut MySqlConnection,
    user: &str,
) -> Result<Vec<Account>, ExecError> {
    let mariadb = is_mariadb(db, conn).await?;
    let sql = if mariadb {
        "SELECT User, Host, JSON_VALUE(Priv, '$.account_locked'), JSON_VALUE(Priv, '$.is_role') \
         FROM mysql.global_priv WHERE User = ? ORDER BY Host LIMIT ?"
    } else {
        "SELECT User, Host, account_locked, 'N' FROM mysql.user WHERE User = ? ORDER BY Host LIMIT ?"
    };
    let rows = sqlx::query(sql)
        .bind(user)
        .bind(MAX_LIST as u64)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| {
            let e = classify(db, e);
            match (mariadb, e) {
                (true, ExecError::Permanent(m)) => ExecError::Permanent(format!(
                    "{m}; account locks need MariaDB 10.4+ and SELECT on mysql.global_priv"
                )),
                (_, e) => e,
            }
        })?;
    let yes = |v: Option<String>| {
        v.is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true") || v == "Y")
    };
    Ok(rows
        .iter()
        .filter(|r| text(r, 0).as_deref() == Some(user))
        .filter(|r| !yes(text(r, 3)))
        .filter_map(|r| {
            Some(Account {
                host: text(r, 1)?,
                locked: yes(text(r, 2)),
            })
        })
        .collect())
}

/// The user name keibi is logged in as (`CURRENT_USER()` is `user@host`, and a user
/// name may itself hold an `@`: the host is after the last one).
async fn own_user(db: &Db, conn: &mut MySqlConnection) -> Result<String, ExecError> {
    let rows = sqlx::query("SELECT CURRENT_USER()")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| classify(db, e))?;
    let me = rows.first().and_then(|r| text(r, 0)).unwrap_or_default();
    Ok(me
        .rsplit_once('@')
        .map_or(me.as_str(), |(u, _)| u)
        .to_string())
}

async fn lockable(
    db: &Db,
    conn: &mut MySqlConnection,
    user: &str,
) -> Result<Vec<Account>, ExecError> {
    if reserved(user) {
        return Err(db.permanent(format!(
            "{user:?} is RDS's own account; keibi never locks it"
        )));
    }
    if own_user(db, conn).await? == user {
        return Err(db.permanent(format!(
            "{user:?} is the user keibi responds as; keibi never locks itself out"
        )));
    }
    let accounts = accounts(db, conn, user).await?;
    if accounts.is_empty() {
        return Err(db.permanent(format!("no account of user {user:?}")));
    }
    Ok(accounts)
}

pub(super) async fn lock_prepare(
    db: &Db,
    user: &str,
    timeout: Duration,
) -> Result<Value, ExecError> {
    quote(db, user)?;
    let mut conn = connect(db, timeout).await?;
    let r = lockable(db, &mut conn, user).await;
    let _ = conn.close().await;
    Ok(json!(LockPrior {
        engine: "mysql".into(),
        user: user.into(),
        accounts: r?,
    }))
}

pub(super) async fn lock_apply(
    db: &Db,
    user: &str,
    prior: &Value,
    timeout: Duration,
) -> Result<Value, ExecError> {
    let p: LockPrior = read_prior(db, prior)?;
    if p.user != user {
        return Err(db.permanent("the recorded prior state is of another user"));
    }
    let mut conn = connect(db, timeout).await?;
    let r = async {
        let now = lockable(db, &mut conn, user).await?;
        // The accounts prepare saw, those that still exist: exactly what undo will
        // look at. Already locked ones (before keibi, or by a first try) are left.
        let mut locked = Vec::new();
        for a in p.accounts.iter() {
            let Some(cur) = now.iter().find(|c| c.host == a.host) else {
                continue;
            };
            if !cur.locked {
                let sql = format!(
                    "ALTER USER {} ACCOUNT LOCK",
                    account_sql(db, user, &a.host)?
                );
                sqlx::query(&sql)
                    .execute(&mut conn)
                    .await
                    .map_err(|e| classify(db, e))?;
            }
            locked.push(a.host.clone());
        }
        let after = accounts(db, &mut conn, user).await?;
        for h in &locked {
            if !after.iter().any(|a| &a.host == h && a.locked) {
                return Err(db.permanent(format!(
                    "account {user:?}@{h:?} is not locked after ALTER USER"
                )));
            }
        }
        let ended = kill(db, &mut conn, user, None).await?;
        Ok(json!({ "locked_hosts": locked, "sessions_ended": ended }))
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
    if p.user != user {
        return Err(db.permanent("the recorded prior state is of another user"));
    }
    let unlock: Vec<&Account> = p.accounts.iter().filter(|a| !a.locked).collect();
    if unlock.is_empty() {
        return Ok(());
    }
    let mut conn = connect(db, timeout).await?;
    let r = async {
        let now = accounts(db, &mut conn, user).await?;
        for a in unlock {
            // Dropped since, or unlocked by someone already: nothing to do.
            if !now.iter().any(|c| c.host == a.host && c.locked) {
                continue;
            }
            let sql = format!(
                "ALTER USER {} ACCOUNT UNLOCK",
                account_sql(db, user, &a.host)?
            );
            sqlx::query(&sql)
                .execute(&mut conn)
                .await
                .map_err(|e| classify(db, e))?;
        }
        Ok(())
    }
    .await;
    let _ = conn.close().await;
    r
}

/// The connections an end of sessions would end now.
pub(super) async fn sessions(
    db: &Db,
    user: &str,
    address: Option<IpAddr>,
    timeout: Duration,
) -> Result<Value, ExecError> {
    let mut conn = connect(db, timeout).await?;
    let r = connections(db, &mut conn, user, address).await;
    let _ = conn.close().await;
    Ok(json!({ "sessions": r? }))
}

pub(super) async fn end_sessions(
    db: &Db,
    user: &str,
    address: Option<IpAddr>,
    timeout: Duration,
) -> Result<Value, ExecError> {
    let mut conn = connect(db, timeout).await?;
    let r = kill(db, &mut conn, user, address).await;
    let _ = conn.close().await;
    Ok(json!({ "sessions_ended": r? }))
}

/// The ids of `user`'s connections, not this one, only those from `address` when
/// given.
async fn connections(
    db: &Db,
    conn: &mut MySqlConnection,
    user: &str,
    address: Option<IpAddr>,
) -> Result<Vec<u64>, ExecError> {
    let rows = sqlx::query(
        "SELECT CAST(ID AS CHAR), USER, HOST FROM information_schema.PROCESSLIST \
         WHERE USER = ? AND ID <> CONNECTION_ID() LIMIT ?",
    )
    .bind(user)
    .bind(MAX_LIST as u64)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| classify(db, e))?;
    let mut ids: Vec<u64> = rows
        .iter()
        // PROCESSLIST compares without case; user names are case-sensitive.
        .filter(|r| text(r, 1).as_deref() == Some(user))
        .filter(|r| match address {
            None => true,
            Some(a) => text(r, 2).and_then(|h| client_ip(&h)) == Some(a.to_canonical()),
        })
        .filter_map(|r| text(r, 0)?.parse().ok())
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// `KILL CONNECTION` each (a number, the only thing in the statement); one gone
/// already (error 1094) counts as ended.
async fn kill(
    db: &Db,
    conn: &mut MySqlConnection,
    user: &str,
    address: Option<IpAddr>,
) -> Result<Vec<u64>, ExecError> {
    let ids = connections(db, conn, user, address).await?;
    let mut ended = Vec::with_capacity(ids.len());
    for id in ids {
        match conn.execute(format!("KILL CONNECTION {id}").as_str()).await {
            Ok(_) => ended.push(id),
            Err(sqlx::Error::Database(d))
                if d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                    .is_some_and(|m| m.number() == 1094) => {}
            Err(e) => return Err(classify(db, e)),
        }
    }
    Ok(ended)
}

/// The client address of a `PROCESSLIST.HOST`: `203.0.113.9:51234`,
/// `[2001:db8::1]:51234` or `2001:db8::1:51234` (the port after the last colon), or
/// none for `localhost` (a Unix socket) and names. Exact address equality, not a
/// prefix: `10.0.0.1` must not end `10.0.0.12`'s sessions.
fn client_ip(host: &str) -> Option<IpAddr> {
    let h = host.trim();
    if let Ok(sa) = h.parse::<std::net::SocketAddr>() {
        return Some(sa.ip().to_canonical());
    }
    // A TCP client's HOST always ends in its port; strip it before reading the
    // address (`::1:5123` is also an IPv6 address, but here it is ::1, port 5123).
    if let Some((addr, port)) = h.rsplit_once(':') {
        if port.parse::<u16>().is_ok() {
            if let Ok(a) = addr.parse::<IpAddr>() {
                return Some(a.to_canonical());
            }
        }
    }
    h.parse::<IpAddr>().ok().map(|a| a.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::client_ip;

    #[test]
    fn processlist_hosts_give_their_address_only() {
        assert_eq!(
            client_ip("127.0.0.1:51234"),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(client_ip("[::1]:51234"), Some("::1".parse().unwrap()));
        assert_eq!(client_ip("::1:51234"), Some("::1".parse().unwrap()));
        assert_eq!(client_ip("::1:5123"), Some("::1".parse().unwrap()));
        assert_eq!(
            client_ip("::ffff:10.0.0.12:4000"),
            Some("10.0.0.12".parse().unwrap())
        );
        assert_eq!(client_ip("localhost"), None);
        assert_eq!(client_ip("db.example:3306"), None);
        assert_ne!(
            client_ip("10.0.0.12:3306"),
            Some("10.0.0.1".parse().unwrap())
        );
    }
}
