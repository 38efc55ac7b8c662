//! The `dashboard` section: where `keibi run` (and `keibi dashboard`) serve the
//! dashboard, over HTTPS or plain HTTP, and who may log in (`docs/dashboard.md`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::values::{Cidr, Duration, Listen};

/// The dashboard's default port (next to keibi's `/metrics`, 9716).
pub const DEFAULT_PORT: u16 = 9717;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dashboard {
    /// Address and port, or `off` (the default: a settings file without it, and
    /// every daemon of an existing set-up, opens no new port; `keibi init`'s starter
    /// sets `127.0.0.1:9717`, and `keibi dashboard` uses that when this is off). Any
    /// address but loopback needs `tls`, or `allow_plain_http_on` naming it.
    pub listen: Listen,
    /// The URL people reach it at (links in notifications, the `Origin` check)
    /// [default: http(s)://listen].
    pub public_url: Option<String>,
    /// HTTPS: a PEM certificate chain and its PEM private key.
    pub tls: DashboardTls,
    /// Serve plain HTTP on this address though it is not loopback (a TLS-terminating
    /// proxy in front reaches it there): must be the `listen` address itself.
    pub allow_plain_http_on: Option<SocketAddr>,
    /// How long a login lasts.
    pub session: DashboardSession,
    /// The login rate limit.
    pub login: DashboardLogin,
    /// Who may log in.
    pub auth: DashboardAuth,
}

impl Default for Dashboard {
    fn default() -> Self {
        Dashboard {
            listen: Listen::Off,
            public_url: None,
            tls: DashboardTls::default(),
            allow_plain_http_on: None,
            session: DashboardSession::default(),
            login: DashboardLogin::default(),
            auth: DashboardAuth::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardTls {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardSession {
    /// Ends after this long without a request.
    pub idle: Duration,
    /// Ends this long after login, whatever the activity.
    pub absolute: Duration,
}

impl Default for DashboardSession {
    fn default() -> Self {
        DashboardSession {
            idle: Duration::from_secs(12 * 3600),
            absolute: Duration::from_secs(7 * 86_400),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardLogin {
    /// Failed logins per client address and per user name within `window`; the
    /// next is refused (429) until the oldest leaves the window.
    pub max_failures: u64,
    pub window: Duration,
}

impl Default for DashboardLogin {
    fn default() -> Self {
        DashboardLogin {
            max_failures: 5,
            window: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardAuth {
    /// Local users (`keibi users add`) log in with the form.
    pub local: bool,
    /// A trusted reverse proxy names the person in a header.
    pub proxy: DashboardProxy,
}

impl Default for DashboardAuth {
    fn default() -> Self {
        DashboardAuth {
            local: true,
            proxy: DashboardProxy::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardProxy {
    /// The header naming the person (`X-Forwarded-User`); none: no proxy.
    pub header: Option<String>,
    /// The proxies' addresses: the header is taken only from these TCP peers.
    pub trusted: Vec<Cidr>,
    /// A header listing the person's groups, comma-separated (`X-Forwarded-Groups`).
    pub groups_header: Option<String>,
    /// Group name → role (viewer, responder, admin); the highest wins.
    pub groups: BTreeMap<String, String>,
    /// The role of a person none of whose groups is listed; none: refused.
    pub default_role: Option<String>,
}

/// The roles a dashboard user may have.
pub const ROLES: [&str; 3] = ["viewer", "responder", "admin"];

/// Whether `name` is a valid HTTP header name.
pub fn header_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
