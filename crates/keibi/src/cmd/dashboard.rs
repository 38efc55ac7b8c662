//! `keibi dashboard`, and the dashboard `keibi run` serves beside the daemon: the
//! `dashboard` settings turned into keibi-server's options, the bind rules applied,
//! the address bound before the serving thread starts (a port in use is an error
//! at start), the URL and the login modes said.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use keibi_engine::daemon::Control;
use keibi_engine::settings::{Listen, Settings};
use keibi_i18n::Msg;
use keibi_server::auth::{authenticator, ProxyConfig, Role};
use keibi_server::serve::{bind, tls_config, url_of, Dashboard, TlsFiles};
use keibi_server::{AppState, Db, Options};

use crate::cli::{DashboardArgs, Global};
use crate::locale::{said, say};
use crate::output::sanitize::terminal;

/// Store connections the dashboard keeps.
const CONNECTIONS: usize = 3;

pub fn run(args: &DashboardArgs, global: &Global) -> Result<u8> {
    let settings = match &args.config {
        Some(path) => match Settings::load(path) {
            Ok((s, _)) => s,
            Err(e) => {
                eprintln!("keibi: {}", terminal(&super::run::load_error_text(&e)));
                return Ok(2);
            }
        },
        None => Settings::default(),
    };
    crate::locale::resolve(global, Some(&settings.display))?;
    let store = args
        .store
        .clone()
        .unwrap_or_else(|| settings.store.path.clone());
    // A mistyped path would otherwise be served as a new, empty store.
    if !store.exists() {
        eprintln!(
            "keibi: {}",
            say(Msg::new("dashboard-no-store").arg("path", store.display().to_string()))
        );
        return Ok(2);
    }
    let listen = match (args.listen, settings.dashboard.listen) {
        (Some(a), _) => a,
        (None, Listen::On(a)) => a,
        (None, Listen::Off) => {
            return Err(anyhow!(
                "dashboard.listen is off: give --listen ADDR to serve the dashboard"
            ))
        }
    };
    let started = start(&settings.dashboard, &store, listen)?;
    println!(
        "{}",
        say(Msg::new("dashboard-serving").arg("url", started.url.as_str()))
    );
    for line in &started.notes {
        eprintln!("keibi: {line}");
    }
    let control = Control::signals().context("installing signal handlers")?;
    while !control.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
    }
    started.dashboard.stop();
    Ok(0)
}

/// A dashboard being served.
pub(crate) struct Started {
    pub dashboard: Dashboard,
    /// Where people reach it (`public_url`, else the address bound).
    pub url: String,
    /// What a person should know: who may log in, and when nobody can yet.
    pub notes: Vec<String>,
}

/// Serves the dashboard of `settings` over `store` on `listen`.
pub(crate) fn start(
    settings: &keibi_engine::settings::Dashboard,
    store: &Path,
    listen: SocketAddr,
) -> Result<Started> {
    let tls = match (&settings.tls.cert, &settings.tls.key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        (None, None) => None,
        _ => return Err(anyhow!("dashboard.tls: give both cert and key, or neither")),
    };
    keibi_server::security::check_bind(listen, tls.is_some(), settings.allow_plain_http_on)?;
    let tls = match &tls {
        Some(f) => Some(tls_config(f).context("dashboard.tls")?),
        None => None,
    };
    let proxy = proxy_config(&settings.auth.proxy)?;
    let db = Db::open(store, CONNECTIONS)?;
    let users = db_users(store)?;
    let listener = bind(listen).context("dashboard.listen (--dashboard ADDR, or off)")?;
    let addr = listener.local_addr().context("dashboard.listen")?;
    let url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| url_of(addr, tls.is_some()));
    let mut options = Options::new(store.to_path_buf(), url.clone());
    options.session = keibi_store::SessionLimits {
        idle: chrono::Duration::from_std(settings.session.idle.std())
            .unwrap_or(chrono::Duration::hours(12)),
        absolute: chrono::Duration::from_std(settings.session.absolute.std())
            .unwrap_or(chrono::Duration::days(7)),
    };
    options.login_failures = settings.login.max_failures.max(1);
    options.login_window = chrono::Duration::from_std(settings.login.window.std())
        .unwrap_or(chrono::Duration::minutes(15));
    options.local_login = settings.auth.local;
    options.proxy = proxy.is_some();
    let mut modes = Vec::new();
    if let Some(p) = &proxy {
        let trusted: Vec<String> = p.trusted.iter().map(|n| n.to_string()).collect();
        modes.push(say(Msg::new("dashboard-mode-proxy")
            .arg("header", p.header.as_str())
            .arg("trusted", trusted.join(", "))));
    }
    if settings.auth.local {
        modes.push(said("dashboard-mode-local"));
    }
    if modes.is_empty() {
        modes.push(said("dashboard-mode-none"));
    }
    let mut notes = vec![say(
        Msg::new("dashboard-auth-modes").arg("modes", modes.join(", "))
    )];
    if settings.auth.local && proxy.is_none() && users == 0 {
        notes.push(said("dashboard-no-user"));
    }
    let state = AppState {
        db,
        options: Arc::new(options),
        auth: authenticator(settings.auth.local, proxy),
        // P's pages take the display zone, settings, lists and sources from
        // here; until the binary hands them in, what the store alone shows.
        site: Arc::new(keibi_server::pages::Site::default()),
    };
    let dashboard = Dashboard::start(listener, keibi_server::router(state), tls)?;
    Ok(Started {
        dashboard,
        url,
        notes,
    })
}

/// How many users may log in (read-only: `Db::open` has just checked and migrated
/// the store, a second full check would only cost time on a large store).
fn db_users(store: &Path) -> Result<u64> {
    Ok(keibi_store::Store::open_read_only(store)?.active_users()?)
}

/// The proxy settings as keibi-server takes them; `None` without a header.
fn proxy_config(
    p: &keibi_engine::settings::dashboard::DashboardProxy,
) -> Result<Option<ProxyConfig>> {
    let Some(header) = &p.header else {
        return Ok(None);
    };
    let name = |h: &str, key: &str| {
        h.parse::<keibi_server::HeaderName>()
            .map_err(|_| anyhow!("dashboard.auth.proxy.{key}: {h:?} is not a header name"))
    };
    let role = |r: &str, key: &str| {
        Role::parse(r).ok_or_else(|| anyhow!("dashboard.auth.proxy.{key}: {r:?} is not a role"))
    };
    if p.trusted.is_empty() {
        return Err(anyhow!(
            "dashboard.auth.proxy.trusted: the proxies' addresses are required with a header"
        ));
    }
    let trusted = p
        .trusted
        .iter()
        .map(|c| {
            format!("{}/{}", c.addr, c.prefix)
                .parse::<ipnet::IpNet>()
                .map(|n| n.trunc())
                .map_err(|e| anyhow!("dashboard.auth.proxy.trusted: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut groups = Vec::new();
    for (g, r) in &p.groups {
        groups.push((g.clone(), role(r, "groups")?));
    }
    Ok(Some(ProxyConfig {
        header: name(header, "header")?,
        trusted,
        groups_header: p
            .groups_header
            .as_deref()
            .map(|h| name(h, "groups_header"))
            .transpose()?,
        groups,
        default_role: p
            .default_role
            .as_deref()
            .map(|r| role(r, "default_role"))
            .transpose()?,
    }))
}
