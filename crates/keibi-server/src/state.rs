//! What every handler gets.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use keibi_store::{SessionLimits, Store, StoreError};

use crate::auth::Authenticate;

/// How the dashboard runs (from the `dashboard` settings or `keibi dashboard`'s flags).
#[derive(Debug, Clone)]
pub struct Options {
    /// The store file the pages read and the workflow writes.
    pub store: PathBuf,
    /// The address the browser reaches it at, for links in notifications and the
    /// `Origin` check (`http://127.0.0.1:9717`).
    pub public_url: String,
    /// Whether cookies get `Secure` (always, unless the settings turned it off for
    /// a plain-HTTP address other than loopback, which the bind rules refuse by
    /// default).
    pub secure_cookies: bool,
    /// How long a login session lives (idle and absolute).
    pub session: SessionLimits,
    /// Failed logins allowed per client address and per user name within
    /// `login_window`; the next attempt is refused with 429 until the oldest
    /// leaves the window.
    pub login_failures: u64,
    pub login_window: chrono::Duration,
    /// Whether local users may log in with the form (`dashboard.auth.local`).
    pub local_login: bool,
    /// Whether a trusted proxy header is configured (the login page says so).
    pub proxy: bool,
}

impl Options {
    /// The defaults: cookies `Secure`, sessions of 12 hours idle and 7 days in all,
    /// 5 failed logins in 15 minutes, the login form on, no proxy.
    pub fn new(store: PathBuf, public_url: impl Into<String>) -> Options {
        Options {
            store,
            public_url: public_url.into(),
            secure_cookies: true,
            session: SessionLimits::default(),
            login_failures: 5,
            login_window: chrono::Duration::minutes(15),
            local_login: true,
            proxy: false,
        }
    }
}

/// Shared by every handler (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub options: Arc<Options>,
    pub auth: Arc<dyn Authenticate>,
    /// What the binary knows beside the store (display zone, settings, lists,
    /// sources); `Site::default()` when it has nothing to add.
    pub site: Arc<crate::pages::Site>,
}

/// The store's connections. SQLite calls block: each runs on tokio's blocking
/// threads, never on the thread that serves requests. Connections are opened with
/// [`Store::open`] (not the daemon's exclusive lock), so the dashboard reads and
/// changes the store while `keibi run` writes it, as `keibi findings` does.
#[derive(Clone)]
pub struct Db {
    conns: Arc<Vec<Mutex<Store>>>,
}

/// A store call that could not run or failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the store worker stopped: {0}")]
    Join(String),
}

impl Db {
    /// Opens `n` connections (at least one) to the store at `path`.
    pub fn open(path: &std::path::Path, n: usize) -> Result<Db, StoreError> {
        let mut conns = Vec::new();
        for _ in 0..n.max(1) {
            conns.push(Mutex::new(Store::open(path)?));
        }
        Ok(Db {
            conns: Arc::new(conns),
        })
    }

    /// Runs `f` with a connection on a blocking thread. Reads and the workflow's
    /// short writes both go through here; SQLite's busy timeout orders them with the
    /// daemon's commits.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let conns = self.conns.clone();
        tokio::task::spawn_blocking(move || {
            // The first free connection, else wait for the first.
            for c in conns.iter() {
                if let Ok(mut s) = c.try_lock() {
                    return f(&mut s).map_err(DbError::from);
                }
            }
            let mut s = conns[0].lock().unwrap_or_else(|p| p.into_inner());
            f(&mut s).map_err(DbError::from)
        })
        .await
        .map_err(|e| DbError::Join(e.to_string()))?
    }
}
