//! The dashboard's local users, login sessions and failed logins
//! (`docs/dashboard.md`, "Login and roles").
//!
//! - A user has a name, an argon2id hash (made and checked by keibi-server: the
//!   store never sees a password), a role (`viewer`, `responder`, `admin`), a
//!   language or none, and can be disabled.
//! - A session's token is 256 random bits from the operating system, given to the
//!   caller once ([`NewSession::token`]) and stored only as its SHA-256: a stolen
//!   copy of the store holds no cookie that logs anyone in. A session ends at its
//!   absolute expiry or after its idle time without a request, whichever comes
//!   first; a new password, a removed or disabled user ends every session of the
//!   user.
//! - Failed logins are rows per key (`addr:ADDRESS`, `user:NAME`, see
//!   [`failure_key`]), counted over a window by the rate limit and deleted once
//!   older than it: kept here so a restart does not reset the count.

use crate::sql::{params, OptionalExtension, Row};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::store::{from_millis, millis};
use crate::{Store, StoreError};

/// Longest user name, in characters.
pub const MAX_NAME: usize = 64;

/// Longest key of a failure record, in bytes (a user name typed by an attacker is
/// cut there before it is kept).
const MAX_KEY: usize = 200;

/// At most this many failure rows are kept per key: enough for any limit, and a
/// flood of failures on one key cannot grow the table.
const MAX_FAILURES_PER_KEY: i64 = 100;

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// The argon2id PHC string.
    pub hash: String,
    /// `viewer`, `responder` or `admin`.
    pub role: String,
    /// `en`, `ja`, or none (the browser's language then).
    pub lang: Option<String>,
    pub created: DateTime<Utc>,
    pub changed: DateTime<Utc>,
    pub disabled: bool,
}

/// The roles a user may have, lowest first.
pub const ROLES: [&str; 3] = ["viewer", "responder", "admin"];

/// The languages a user may choose.
pub const LANGS: [&str; 2] = ["en", "ja"];

/// How long a session lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Ends after this long without a request.
    pub idle: Duration,
    /// Ends this long after login, whatever the activity.
    pub absolute: Duration,
}

impl Default for SessionLimits {
    /// 12 hours idle, 7 days in all.
    fn default() -> SessionLimits {
        SessionLimits {
            idle: Duration::hours(12),
            absolute: Duration::days(7),
        }
    }
}

/// A session just created: the token goes into the cookie and is not kept.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    /// 64 lowercase hex digits (256 bits).
    pub token: String,
    /// The session's CSRF token (64 hex digits), for every form.
    pub csrf: String,
    /// When it ends at the latest.
    pub absolute: DateTime<Utc>,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("absolute", &self.absolute)
            .finish_non_exhaustive()
    }
}

/// A live session and its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub created: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// When it ends at the latest (the idle limit may end it sooner).
    pub absolute: DateTime<Utc>,
}

/// A session as `keibi users sessions` lists it (no token, no CSRF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub user: String,
    pub created: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// When it ends if no request comes.
    pub expires: DateTime<Utc>,
}

/// Whether `name` may be a local user's name: 1 to [`MAX_NAME`] characters,
/// letters, digits and `. _ - @ +` only (no spaces, no control or bidi
/// characters: it is shown in pages, terminals and the workflow history).
pub fn valid_user_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=MAX_NAME).contains(&n)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'))
}

/// The failure key of a client address (`addr:...`) or a user name
/// (`user:...`), cut to a bounded length.
pub fn failure_key(kind: &str, value: &str) -> String {
    let mut k = format!("{kind}:{value}");
    if k.len() > MAX_KEY {
        let mut end = MAX_KEY;
        while !k.is_char_boundary(end) {
            end -= 1;
        }
        k.truncate(end);
    }
    k
}

/// 32 bytes from the operating system's random source, as 64 hex digits.
fn random_hex() -> Result<String, StoreError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)
        .map_err(|e| StoreError::Invalid(format!("the system's random source failed: {e}")))?;
    Ok(hex(&b))
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

/// What is stored of a token.
fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

const USER_COLUMNS: &str = "name, hash, role, lang, created, changed, disabled";

fn user_from_row(r: &Row<'_>, at: usize) -> crate::sql::Result<User> {
    Ok(User {
        name: r.get(at)?,
        hash: r.get(at + 1)?,
        role: r.get(at + 2)?,
        lang: r.get(at + 3)?,
        created: from_millis(r.get(at + 4)?),
        changed: from_millis(r.get(at + 5)?),
        disabled: r.get::<_, i64>(at + 6)? != 0,
    })
}

fn check_user(name: &str, role: &str, lang: Option<&str>) -> Result<(), StoreError> {
    if !valid_user_name(name) {
        return Err(StoreError::Invalid(format!(
            "{:?} is not a user name: 1 to {MAX_NAME} letters, digits or . _ - @ +",
            name.chars().take(MAX_NAME + 1).collect::<String>()
        )));
    }
    if !ROLES.contains(&role) {
        return Err(StoreError::Invalid(format!(
            "{role:?} is not a role (viewer, responder, admin)"
        )));
    }
    if let Some(l) = lang {
        if !LANGS.contains(&l) {
            return Err(StoreError::Invalid(format!(
                "{l:?} is not a language (en, ja)"
            )));
        }
    }
    Ok(())
}

fn check_hash(hash: &str) -> Result<(), StoreError> {
    if !hash.starts_with("$argon2id$") || hash.len() > 512 {
        return Err(StoreError::Invalid("not an argon2id password hash".into()));
    }
    Ok(())
}

impl Store {
    /// Adds a user; refused when the name is taken or not valid.
    pub fn add_user(
        &mut self,
        name: &str,
        hash: &str,
        role: &str,
        lang: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        check_user(name, role, lang)?;
        check_hash(hash)?;
        let n = self
            .conn
            .execute(
                "INSERT INTO users (name, hash, role, lang, created, changed, disabled) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, 0) ON CONFLICT (name) DO NOTHING",
                params![name, hash, role, lang, millis(at)],
            )
            .map_err(|e| self.err_(e))?;
        if n == 0 {
            return Err(StoreError::Invalid(format!("user {name:?} exists already")));
        }
        Ok(())
    }

    /// The user of that name, if any.
    pub fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
                params![name],
                |r| user_from_row(r, 0),
            )
            .optional()
            .map_err(|e| self.err_(e))
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))
            .map_err(|e| self.err_(e))?;
        let rows = stmt
            .query_map([], |r| user_from_row(r, 0))
            .and_then(|rows| rows.collect::<crate::sql::Result<Vec<User>>>());
        rows.map_err(|e| self.err_(e))
    }

    /// How many users can log in (not disabled).
    pub fn active_users(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM users WHERE disabled = 0", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(|e| self.err_(e))
    }

    /// Removes a user and their sessions; false when there was no such user.
    pub fn remove_user(&mut self, name: &str) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.conn.begin_write().map_err(err)?;
        tx.execute("DELETE FROM sessions WHERE user = ?1", params![name])
            .map_err(err)?;
        let n = tx
            .execute("DELETE FROM users WHERE name = ?1", params![name])
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n > 0)
    }

    /// Sets a user's password hash and ends their sessions; false when there is no
    /// such user.
    pub fn set_password(
        &mut self,
        name: &str,
        hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        check_hash(hash)?;
        self.change_user(
            name,
            "UPDATE users SET hash = ?2, changed = ?3 WHERE name = ?1",
            hash.to_string(),
            at,
            true,
        )
    }

    /// Sets a user's role (their sessions end: a lower role takes effect at once).
    pub fn set_user_role(
        &mut self,
        name: &str,
        role: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        check_user(name, role, None)?;
        self.change_user(
            name,
            "UPDATE users SET role = ?2, changed = ?3 WHERE name = ?1",
            role.to_string(),
            at,
            true,
        )
    }

    /// Sets or clears a user's language.
    pub fn set_user_lang(
        &mut self,
        name: &str,
        lang: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        check_user(name, "viewer", lang)?;
        self.change_user(
            name,
            "UPDATE users SET lang = ?2, changed = ?3 WHERE name = ?1",
            lang.map(str::to_string),
            at,
            false,
        )
    }

    /// Disables (ending their sessions) or enables a user.
    pub fn set_user_disabled(
        &mut self,
        name: &str,
        disabled: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.change_user(
            name,
            "UPDATE users SET disabled = ?2, changed = ?3 WHERE name = ?1",
            i64::from(disabled),
            at,
            disabled,
        )
    }

    fn change_user<V: crate::sql::ToCol>(
        &mut self,
        name: &str,
        sql: &str,
        value: V,
        at: DateTime<Utc>,
        end_sessions: bool,
    ) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.conn.begin_write().map_err(err)?;
        let n = tx
            .execute(sql, params![name, value, millis(at)])
            .map_err(err)?;
        if n > 0 && end_sessions {
            tx.execute("DELETE FROM sessions WHERE user = ?1", params![name])
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(n > 0)
    }

    /// Starts a session for `user` (who must exist and not be disabled) and
    /// returns its token, which is not kept. Expired sessions of every user are
    /// deleted on the way.
    pub fn create_session(
        &mut self,
        user: &str,
        at: DateTime<Utc>,
        limits: SessionLimits,
    ) -> Result<NewSession, StoreError> {
        let token = random_hex()?;
        let csrf = random_hex()?;
        let now = millis(at);
        let absolute = at + limits.absolute;
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.conn.begin_write().map_err(err)?;
        tx.execute(
            "DELETE FROM sessions WHERE absolute <= ?1 OR last_seen + idle_ms <= ?1",
            params![now],
        )
        .map_err(err)?;
        let n = tx
            .execute(
                "INSERT INTO sessions (token_hash, user, csrf, created, last_seen, idle_ms, absolute) \
                 SELECT ?1, name, ?2, ?3, ?3, ?4, ?5 FROM users WHERE name = ?6 AND disabled = 0",
                params![
                    token_hash(&token),
                    csrf,
                    now,
                    limits.idle.num_milliseconds(),
                    millis(absolute),
                    user
                ],
            )
            .map_err(err)?;
        if n == 0 {
            return Err(StoreError::Invalid(format!(
                "no user {user:?} who may log in"
            )));
        }
        tx.commit().map_err(err)?;
        Ok(NewSession {
            token,
            csrf,
            absolute,
        })
    }

    /// The live session of `token` and its user, or `None` (unknown, expired, or
    /// the user removed or disabled). Its last-seen time is moved to `at` when it
    /// is older than `touch_after` (so a page with many requests writes once).
    pub fn session(
        &mut self,
        token: &str,
        at: DateTime<Utc>,
        touch_after: Duration,
    ) -> Result<Option<Session>, StoreError> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let hash = token_hash(token);
        let now = millis(at);
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT s.csrf, s.created, s.last_seen, s.absolute, {} \
                     FROM sessions s JOIN users u ON u.name = s.user \
                     WHERE s.token_hash = ?1 AND u.disabled = 0 \
                       AND s.absolute > ?2 AND s.last_seen + s.idle_ms > ?2",
                    USER_COLUMNS
                        .split(", ")
                        .map(|c| format!("u.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                params![hash, now],
                |r| {
                    Ok(Session {
                        csrf: r.get(0)?,
                        created: from_millis(r.get(1)?),
                        last_seen: from_millis(r.get(2)?),
                        absolute: from_millis(r.get(3)?),
                        user: user_from_row(r, 4)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err_(e))?;
        let Some(mut s) = row else {
            return Ok(None);
        };
        if at - s.last_seen >= touch_after {
            self.conn
                .execute(
                    "UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1 AND last_seen < ?2",
                    params![hash, now],
                )
                .map_err(|e| self.err_(e))?;
            s.last_seen = at;
        }
        Ok(Some(s))
    }

    /// Ends the session of `token` (logout); false when there was none.
    pub fn end_session(&mut self, token: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute(
                "DELETE FROM sessions WHERE token_hash = ?1",
                params![token_hash(token)],
            )
            .map_err(|e| self.err_(e))?;
        Ok(n > 0)
    }

    /// Ends every session of `user`; how many there were.
    pub fn revoke_sessions(&mut self, user: &str) -> Result<u64, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM sessions WHERE user = ?1", params![user])
            .map_err(|e| self.err_(e))?;
        Ok(n as u64)
    }

    /// The live sessions at `at`, of one user or of all, newest first.
    pub fn sessions(
        &self,
        user: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT user, created, last_seen, \
                 CASE WHEN absolute < last_seen + idle_ms THEN absolute ELSE last_seen + idle_ms END FROM sessions \
                 WHERE (CAST(?1 AS TEXT) IS NULL OR user = ?1) AND absolute > ?2 AND last_seen + idle_ms > ?2 \
                 ORDER BY created DESC, user, last_seen DESC",
            )
            .map_err(|e| self.err_(e))?;
        let rows = stmt
            .query_map(params![user, millis(at)], |r| {
                Ok(SessionInfo {
                    user: r.get(0)?,
                    created: from_millis(r.get(1)?),
                    last_seen: from_millis(r.get(2)?),
                    expires: from_millis(r.get(3)?),
                })
            })
            .and_then(|rows| rows.collect::<crate::sql::Result<Vec<_>>>());
        rows.map_err(|e| self.err_(e))
    }

    /// Records one failed login under each of `keys` ([`failure_key`]), and
    /// deletes the records older than `window` (of every key) and those beyond the
    /// last 100 of these keys.
    pub fn record_login_failure(
        &mut self,
        keys: &[String],
        at: DateTime<Utc>,
        window: Duration,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let now = millis(at);
        let tx = self.conn.begin_write().map_err(err)?;
        tx.execute(
            "DELETE FROM login_failures WHERE at <= ?1",
            params![now - window.num_milliseconds()],
        )
        .map_err(err)?;
        for key in keys {
            let key = failure_key_bounded(key);
            tx.execute(
                "INSERT INTO login_failures (key, at) VALUES (?1, ?2)",
                params![key, now],
            )
            .map_err(err)?;
            tx.execute(
                &format!(
                    "DELETE FROM login_failures WHERE key = ?1 AND {id} NOT IN \
                     (SELECT {id} FROM login_failures WHERE key = ?1 ORDER BY at DESC LIMIT ?2)",
                    id = tx.row_id()
                ),
                params![key, MAX_FAILURES_PER_KEY],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// The failed logins of `key` in the `window` before `at`: how many, and the
    /// time of the oldest (when it leaves the window, the count drops by one).
    pub fn login_failures(
        &self,
        key: &str,
        at: DateTime<Utc>,
        window: Duration,
    ) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
        let key = failure_key_bounded(key);
        self.conn
            .query_row(
                "SELECT count(*), min(at) FROM login_failures WHERE key = ?1 AND at > ?2",
                params![key, millis(at) - window.num_milliseconds()],
                |r| {
                    Ok((
                        u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                        r.get::<_, Option<i64>>(1)?.map(from_millis),
                    ))
                },
            )
            .map_err(|e| self.err_(e))
    }

    /// The time at which `key`'s failures in the window drop below `limit`, or
    /// `None` when they are below it already.
    pub fn login_blocked_until(
        &self,
        key: &str,
        at: DateTime<Utc>,
        window: Duration,
        limit: u64,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = failure_key_bounded(key);
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        // The failures in the window, newest first: the `limit`-th newest is the
        // one whose leaving the window brings the count below the limit.
        let nth: Option<i64> = self
            .conn
            .query_row(
                "SELECT at FROM login_failures WHERE key = ?1 AND at > ?2 \
                 ORDER BY at DESC LIMIT 1 OFFSET ?3",
                params![key, millis(at) - window.num_milliseconds(), limit - 1],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err_(e))?;
        Ok(nth.map(|t| from_millis(t) + window))
    }

    /// Forgets the failures of `key` (a successful login clears its user name's).
    pub fn clear_login_failures(&mut self, key: &str) -> Result<(), StoreError> {
        let key = failure_key_bounded(key);
        self.conn
            .execute("DELETE FROM login_failures WHERE key = ?1", params![key])
            .map_err(|e| self.err_(e))?;
        Ok(())
    }

    fn err_(&self, e: crate::sql::SqlError) -> StoreError {
        StoreError::sql(&self.path, e)
    }
}

fn failure_key_bounded(key: &str) -> String {
    if key.len() <= MAX_KEY {
        return key.to_string();
    }
    let mut end = MAX_KEY;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    key[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.db")).unwrap();
        (dir, s)
    }

    fn t(s: i64) -> DateTime<Utc> {
        from_millis(1_800_000_000_000 + s * 1000)
    }

    #[test]
    fn users_are_added_listed_changed_and_removed() {
        for (_d, path) in crate::testing::backends() {
            let mut s = Store::open(&path).unwrap();
            s.add_user("kim", HASH, "responder", Some("ja"), t(0))
                .unwrap();
            assert!(s.add_user("kim", HASH, "viewer", None, t(1)).is_err());
            assert!(s.add_user("a b", HASH, "viewer", None, t(1)).is_err());
            assert!(s.add_user("x\u{202e}", HASH, "viewer", None, t(1)).is_err());
            assert!(s.add_user("lee", HASH, "root", None, t(1)).is_err());
            assert!(s.add_user("lee", HASH, "viewer", Some("fr"), t(1)).is_err());
            assert!(s
                .add_user("lee", "plaintext", "viewer", None, t(1))
                .is_err());
            let u = s.user("kim").unwrap().unwrap();
            assert_eq!(
                (u.role.as_str(), u.lang.as_deref()),
                ("responder", Some("ja"))
            );
            assert_eq!(s.users().unwrap().len(), 1);
            assert_eq!(s.active_users().unwrap(), 1);
            assert!(s.set_user_role("kim", "admin", t(2)).unwrap());
            assert!(s.set_user_lang("kim", None, t(2)).unwrap());
            let u = s.user("kim").unwrap().unwrap();
            assert_eq!((u.role.as_str(), u.lang, u.changed), ("admin", None, t(2)));
            assert!(!s.set_password("nobody", HASH, t(3)).unwrap());
            assert!(s.remove_user("kim").unwrap());
            assert!(!s.remove_user("kim").unwrap());
            assert!(s.user("kim").unwrap().is_none());
        }
    }

    #[test]
    fn a_session_is_found_by_its_token_only_and_expires() {
        for (_d, path) in crate::testing::backends() {
            let mut s = Store::open(&path).unwrap();
            s.add_user("kim", HASH, "viewer", None, t(0)).unwrap();
            let limits = SessionLimits {
                idle: Duration::hours(1),
                absolute: Duration::hours(3),
            };
            let n = s.create_session("kim", t(0), limits).unwrap();
            assert_eq!(n.token.len(), 64);
            assert_ne!(n.token, n.csrf);
            let minute = Duration::minutes(1);
            let got = s.session(&n.token, t(10), minute).unwrap().unwrap();
            assert_eq!(
                (got.user.name.as_str(), got.csrf.as_str()),
                ("kim", n.csrf.as_str())
            );
            // Not refreshed within the minute, refreshed after it.
            assert_eq!(got.last_seen, t(0));
            assert_eq!(
                s.session(&n.token, t(61), minute)
                    .unwrap()
                    .unwrap()
                    .last_seen,
                t(61)
            );
            // Another token, a token's hash, garbage: nothing.
            let other = n
                .token
                .replace(&n.token[..1], if &n.token[..1] == "a" { "b" } else { "a" });
            assert!(s.session(&other, t(62), minute).unwrap().is_none());
            assert!(s.session("<script>", t(62), minute).unwrap().is_none());
            // Idle: an hour after the last request it is gone.
            assert!(s.session(&n.token, t(61 + 3599), minute).unwrap().is_some());
            assert!(s
                .session(&n.token, t(61 + 3599 + 3601), minute)
                .unwrap()
                .is_none());
            // Absolute: kept alive every 50 minutes, it still ends at 3 hours.
            let n = s.create_session("kim", t(0), limits).unwrap();
            for m in [50, 100, 150] {
                assert!(
                    s.session(&n.token, t(m * 60), minute).unwrap().is_some(),
                    "{m}"
                );
            }
            assert!(s.session(&n.token, t(180 * 60), minute).unwrap().is_none());
        }
    }

    #[test]
    fn sessions_end_with_logout_password_disable_and_removal() {
        for (_d, path) in crate::testing::backends() {
            let mut s = Store::open(&path).unwrap();
            let l = SessionLimits::default();
            let m = Duration::minutes(1);
            s.add_user("kim", HASH, "viewer", None, t(0)).unwrap();
            let a = s.create_session("kim", t(0), l).unwrap();
            let b = s.create_session("kim", t(0), l).unwrap();
            assert_eq!(s.sessions(Some("kim"), t(1)).unwrap().len(), 2);
            assert!(s.end_session(&a.token).unwrap());
            assert!(s.session(&a.token, t(1), m).unwrap().is_none());
            assert!(s.session(&b.token, t(1), m).unwrap().is_some());
            s.set_password("kim", HASH, t(2)).unwrap();
            assert!(s.session(&b.token, t(3), m).unwrap().is_none());
            let c = s.create_session("kim", t(4), l).unwrap();
            s.set_user_disabled("kim", true, t(5)).unwrap();
            assert!(s.session(&c.token, t(6), m).unwrap().is_none());
            assert!(s.create_session("kim", t(7), l).is_err());
            s.set_user_disabled("kim", false, t(8)).unwrap();
            let d = s.create_session("kim", t(9), l).unwrap();
            assert_eq!(s.revoke_sessions("kim").unwrap(), 1);
            assert!(s.session(&d.token, t(10), m).unwrap().is_none());
            assert!(s.create_session("nobody", t(11), l).is_err());
        }
    }

    /// About the SQLite file's bytes (SQLite only).
    #[test]
    fn the_store_file_holds_no_token() {
        let (d, mut s) = store();
        s.add_user("kim", HASH, "viewer", None, t(0)).unwrap();
        let n = s
            .create_session("kim", t(0), SessionLimits::default())
            .unwrap();
        drop(s);
        let mut all = Vec::new();
        for e in std::fs::read_dir(d.path()).unwrap() {
            all.extend(std::fs::read(e.unwrap().path()).unwrap());
        }
        let text = String::from_utf8_lossy(&all);
        assert!(!text.contains(&n.token));
        assert!(!all.windows(32).any(|w| hex(w) == n.token));
    }

    #[test]
    fn failures_are_counted_in_their_window_and_bounded() {
        for (_d, path) in crate::testing::backends() {
            let mut s = Store::open(&path).unwrap();
            let w = Duration::minutes(15);
            let k = failure_key("addr", "192.0.2.1");
            for i in 0..5 {
                s.record_login_failure(std::slice::from_ref(&k), t(i * 60), w)
                    .unwrap();
            }
            assert_eq!(s.login_failures(&k, t(300), w).unwrap(), (5, Some(t(0))));
            // The 5th newest (at 0) leaves the window at 15 minutes.
            assert_eq!(
                s.login_blocked_until(&k, t(300), w, 5).unwrap(),
                Some(t(900))
            );
            assert_eq!(s.login_blocked_until(&k, t(300), w, 6).unwrap(), None);
            assert_eq!(s.login_failures(&k, t(901), w).unwrap().0, 4);
            s.clear_login_failures(&k).unwrap();
            assert_eq!(s.login_failures(&k, t(901), w).unwrap().0, 0);
            let long = failure_key("user", &"é".repeat(500));
            assert!(long.len() <= MAX_KEY);
            for i in 0..150 {
                s.record_login_failure(std::slice::from_ref(&long), t(1000 + i), w)
                    .unwrap();
            }
            assert_eq!(s.login_failures(&long, t(1200), w).unwrap().0, 100);
        }
    }
}
