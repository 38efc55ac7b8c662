//! The database response executor: locks a role (PostgreSQL `ALTER ROLE … NOLOGIN`,
//! MySQL/MariaDB `ALTER USER … ACCOUNT LOCK` on every host of the user) and ends
//! its sessions, or ends only the sessions of a role from one address.
//!
//! These connections are not the probes': they are opened here, by this module's own
//! connect functions (`pg::connect`, `mysql::connect`), with their own
//! `application_name` (`keibi-respond`) and a statement time-out, and they write. They
//! send only what this module's SQL says: reads of the catalogs and process lists
//! (user names always as bound parameters), `ALTER ROLE`/`ALTER USER` on the one role
//! a target names (its name quoted as an identifier, the only place a name is part
//! of the SQL text), and session termination (`pg_terminate_backend`, `KILL
//! CONNECTION` with a number).
//!
//! Errors name the server by [`redact`](crate::redact) and never carry the password
//! (it is given apart from the URL, and removed from any driver message that repeats
//! it). Names from targets (written by whoever logged in) are shown with `{:?}`, so
//! a control character is escaped.

mod mysql;
mod pg;

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use keibi_model::Engine;
use keibi_respond::{ExecError, Executor, Request, Target};
use url::Url;

use crate::{one_line, redact, scrub};

/// How long connecting and each statement may take when not told.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most sessions or accounts one action reads or ends (a server holds far fewer
/// connections; the bound is against a hostile answer).
const MAX_LIST: usize = 10_000;

/// One database keibi may act on: the `instance` findings name, the URL without
/// its password, and the password apart (resolved by the binary from its secret).
#[derive(Clone)]
pub struct Database {
    pub instance: String,
    pub url: String,
    pub password: Option<String>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("instance", &self.instance)
            .field("url", &redact(&self.url))
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Why the executor cannot be built from its settings.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("respond database {instance:?}: {reason}")]
    Invalid { instance: String, reason: String },
}

/// A configured database, its engine taken from the URL's scheme.
#[derive(Clone)]
pub(crate) struct Db {
    pub(crate) instance: String,
    pub(crate) url: String,
    pub(crate) password: Option<String>,
    pub(crate) engine: Engine,
}

impl Db {
    /// An error naming this server, without its password, on one line.
    pub(crate) fn message(&self, reason: impl std::fmt::Display) -> String {
        let mut reason = scrub(&self.url, reason.to_string());
        if let Some(p) = self.password.as_deref().filter(|p| !p.is_empty()) {
            reason = reason.replace(p, "***");
        }
        format!("{}: {}", redact(&self.url), one_line(&reason))
    }

    pub(crate) fn permanent(&self, reason: impl std::fmt::Display) -> ExecError {
        ExecError::Permanent(self.message(reason))
    }

    pub(crate) fn transient(&self, reason: impl std::fmt::Display) -> ExecError {
        ExecError::Transient(self.message(reason))
    }
}

/// Locks roles and ends sessions on the databases it is given (`respond.databases`).
pub struct DbExecutor {
    dbs: Vec<Db>,
    timeout: Duration,
}

/// What one target asks of a database.
enum Op<'a> {
    Lock {
        user: &'a str,
    },
    End {
        user: &'a str,
        address: Option<IpAddr>,
    },
}

impl std::fmt::Debug for DbExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbExecutor")
            .field("instances", &self.instances().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl DbExecutor {
    /// Checks every entry: a URL that parses, a `postgres(ql)://` or
    /// `mysql://`/`mariadb://` scheme, no password in the URL (it goes in
    /// `password`), one entry per instance.
    pub fn new(databases: Vec<Database>) -> Result<DbExecutor, ConfigError> {
        let mut dbs: Vec<Db> = Vec::with_capacity(databases.len());
        for d in databases {
            let bad = |reason: String| ConfigError::Invalid {
                instance: d.instance.clone(),
                reason,
            };
            if d.instance.is_empty() {
                return Err(bad("the instance is empty".into()));
            }
            let u = Url::parse(&d.url)
                .map_err(|e| bad(format!("{} is not a URL: {e}", redact(&d.url))))?;
            let engine = match u.scheme() {
                "postgres" | "postgresql" => Engine::Postgres,
                "mysql" | "mariadb" => Engine::Mysql,
                other => {
                    return Err(bad(format!(
                        "a database URL starts with postgres:// or mysql://, not {other}://"
                    )))
                }
            };
            if u.password().is_some() {
                return Err(bad(format!(
                    "{}: give the password as `password`, not in the URL",
                    redact(&d.url)
                )));
            }
            if dbs.iter().any(|x| x.instance == d.instance) {
                return Err(bad("named twice".into()));
            }
            // sqlx reads `mariadb://` as no scheme of its own.
            let url = match d.url.strip_prefix("mariadb://") {
                Some(rest) => format!("mysql://{rest}"),
                None => d.url.clone(),
            };
            dbs.push(Db {
                instance: d.instance,
                url,
                password: d.password,
                engine,
            });
        }
        Ok(DbExecutor {
            dbs,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Bounds connecting and each statement (default [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> DbExecutor {
        self.timeout = timeout.max(Duration::from_millis(100));
        self
    }

    /// The configured instances, in order.
    pub fn instances(&self) -> impl Iterator<Item = &str> {
        self.dbs.iter().map(|d| d.instance.as_str())
    }

    fn find<'a>(&'a self, target: &'a Target) -> Option<(&'a Db, Op<'a>)> {
        let (engine, instance, op) = match target {
            Target::LockRole {
                engine,
                instance,
                user,
            } => (engine, instance, Op::Lock { user }),
            Target::EndSessions {
                engine,
                instance,
                user,
                address,
            } => (
                engine,
                instance,
                Op::End {
                    user,
                    address: *address,
                },
            ),
            _ => return None,
        };
        let db = self.dbs.iter().find(|d| &d.instance == instance)?;
        if engine.is_some_and(|e| e != db.engine) {
            return None;
        }
        Some((db, op))
    }

    fn target<'a>(&'a self, req: &'a Request<'_>) -> Result<(&'a Db, Op<'a>), ExecError> {
        self.find(&req.action.target).ok_or_else(|| {
            ExecError::Permanent(format!(
                "no respond.databases entry for {}",
                req.action.target.key().escape_debug()
            ))
        })
    }
}

impl Executor for DbExecutor {
    fn name(&self) -> &str {
        "database"
    }

    fn accepts(&self, target: &Target) -> bool {
        self.find(target).is_some()
    }

    fn prepare(&mut self, req: Request<'_>) -> Result<serde_json::Value, ExecError> {
        let t = self.timeout;
        let (db, op) = self.target(&req)?;
        match (db.engine, op) {
            (Engine::Postgres, Op::Lock { user }) => run(db, t, pg::lock_prepare(db, user, t)),
            (Engine::Postgres, Op::End { user, address }) => {
                run(db, t, pg::sessions(db, user, address, t))
            }
            (Engine::Mysql, Op::Lock { user }) => run(db, t, mysql::lock_prepare(db, user, t)),
            (Engine::Mysql, Op::End { user, address }) => {
                run(db, t, mysql::sessions(db, user, address, t))
            }
        }
    }

    fn apply(
        &mut self,
        req: Request<'_>,
        prior: &serde_json::Value,
    ) -> Result<serde_json::Value, ExecError> {
        let t = self.timeout;
        let (db, op) = self.target(&req)?;
        match (db.engine, op) {
            (Engine::Postgres, Op::Lock { user }) => run(db, t, pg::lock_apply(db, user, prior, t)),
            (Engine::Postgres, Op::End { user, address }) => {
                run(db, t, pg::end_sessions(db, user, address, t))
            }
            (Engine::Mysql, Op::Lock { user }) => run(db, t, mysql::lock_apply(db, user, prior, t)),
            (Engine::Mysql, Op::End { user, address }) => {
                run(db, t, mysql::end_sessions(db, user, address, t))
            }
        }
    }

    fn undo(
        &mut self,
        req: Request<'_>,
        prior: &serde_json::Value,
        _done: &serde_json::Value,
    ) -> Result<(), ExecError> {
        let t = self.timeout;
        let (db, op) = self.target(&req)?;
        match (db.engine, op) {
            (Engine::Postgres, Op::Lock { user }) => run(db, t, pg::lock_undo(db, user, prior, t)),
            (Engine::Mysql, Op::Lock { user }) => run(db, t, mysql::lock_undo(db, user, prior, t)),
            (_, Op::End { .. }) => Err(ExecError::Permanent(
                "ended sessions cannot be undone".into(),
            )),
        }
    }
}

/// Runs `fut` on a one-thread runtime of its own, bounded as a whole: connecting
/// and a handful of statements, each bounded by `timeout` on the server too.
fn run<T>(
    db: &Db,
    timeout: Duration,
    fut: impl Future<Output = Result<T, ExecError>>,
) -> Result<T, ExecError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| db.transient(format!("cannot start the I/O runtime: {e}")))?;
    let whole = timeout.saturating_mul(6);
    rt.block_on(async {
        match tokio::time::timeout(whole, fut).await {
            Ok(r) => r,
            Err(_) => Err(db.transient(format!("no answer within {}s", whole.as_secs()))),
        }
    })
}

/// A prior the executor did not write (or of another target) is refused rather
/// than guessed from: undo restores exactly what it says.
fn read_prior<T: serde::de::DeserializeOwned>(
    db: &Db,
    prior: &serde_json::Value,
) -> Result<T, ExecError> {
    serde_json::from_value(prior.clone()).map_err(|e| {
        db.permanent(format!(
            "the recorded prior state is not this executor's: {e}"
        ))
    })
}

/// Roles no action locks whatever the policy says: RDS's own administrator (AWS
/// manages the instance through it; locking it would break backups and patching).
fn reserved(user: &str) -> bool {
    user == "rdsadmin"
}

#[cfg(test)]
mod tests;
