//! Who is asking, and what they may do.
//!
//! A request carries a [`Viewer`] when an [`Authenticate`] implementation vouches
//! for it: a login session (cookie → the store's sessions) or a trusted reverse
//! proxy's header. Handlers take a `Viewer` argument; a request without one is sent
//! to `/login` (pages) or refused with 401.
//!
//! # Who vouches, in which order
//! With a trusted proxy configured ([`ProxyAuth`]), a request whose TCP peer is in
//! `dashboard.auth.proxy.trusted` and that carries the header is that header's
//! person; the header from any other peer is ignored. Every other request is
//! looked up by its session cookie ([`SessionAuth`]) when local login is on
//! (`dashboard.auth.local`, the default), else has nobody. [`FirstOf`] chains them.
//!
//! # Login
//! `GET /login` gives the form with a login-form token (a random value both in a
//! cookie and in the form: double submit); `POST /login` checks that token, the
//! rate limit (failures per client address and per user name, kept in the store),
//! then the password with argon2 on a blocking thread — against a dummy hash when
//! the user is unknown, so both answers are the same and cost the same. Success
//! ends the session the browser came with (rotation), starts a new one and sets
//! `keibi_session` (`HttpOnly; Secure; SameSite=Strict; Path=/`). `POST /logout`
//! (with the session's CSRF token) ends it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Form, FromRequest, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use hmac::{KeyInit, Mac};
use ipnet::IpNet;
use keibi_i18n::{DisplayZone, Lang, Locale, Msg};
use serde::Deserialize;

use crate::AppState;

/// What a person may do. Ordered: each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads every page.
    Viewer,
    /// Also acknowledges, resolves, suppresses, reopens, writes notes and decides
    /// on response actions.
    Responder,
    /// Also sees the settings page and manages users.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Responder => "responder",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Viewer, Role::Responder, Role::Admin]
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// The person behind a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub name: String,
    pub role: Role,
    /// The language the pages are rendered in (the user's choice, else the
    /// browser's `Accept-Language`, else English).
    pub lang: Lang,
    /// This session's CSRF token: every form carries it in a hidden `csrf` field
    /// and every change checks it ([`Viewer::check`]).
    pub csrf: String,
}

/// Why a change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The role may not make this change.
    Role,
    /// The form's CSRF token is missing or not this session's.
    Csrf,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Role => (
                StatusCode::FORBIDDEN,
                "forbidden: your role may not do this",
            ),
            Refused::Csrf => (
                StatusCode::FORBIDDEN,
                "forbidden: stale or missing form token; reload the page",
            ),
        }
        .into_response()
    }
}

impl Viewer {
    /// Whether this person may make a change that needs `at_least`, with the form's
    /// `token`. Every POST handler calls this first.
    pub fn check(&self, at_least: Role, token: &str) -> Result<(), Refused> {
        if self.role < at_least {
            return Err(Refused::Role);
        }
        if self.csrf.is_empty() || !constant_time_eq(self.csrf.as_bytes(), token.as_bytes()) {
            return Err(Refused::Csrf);
        }
        Ok(())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What vouches for a request. Implemented by login sessions and by a trusted
/// proxy header; tests implement it to act as a given person.
pub trait Authenticate: Send + Sync + 'static {
    /// The person behind `parts`, or `None` (not logged in). Store reads are
    /// blocking: implementations use [`crate::Db::run`].
    fn viewer<'a>(
        &'a self,
        state: &'a AppState,
        parts: &'a Parts,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Viewer>> + Send + 'a>>;
}

/// A request without a viewer: pages go to the login page, other requests get 401.
/// The login page is told the page asked for (`/login?next=/findings/…`) and goes
/// there after the login: a link from a notification ends on its finding.
pub struct LoginFirst {
    html: bool,
    next: Option<String>,
    /// A page reached from another site (a link in Slack, in a mail): the browser
    /// did not send the `SameSite=Strict` session cookie with it. The answer is a
    /// page that loads the same path again from here, with the cookie; only if
    /// that finds nobody either does it go to the login page.
    again: Option<String>,
}

/// `next` when it is a path of this site (`/findings/…`): never another site
/// (`//host`, `/\host`, a scheme), never control characters, at most 2 KiB.
pub fn local_path(next: &str) -> Option<&str> {
    let b = next.as_bytes();
    let ok = b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/' | b'\\'))
        && next.len() <= 2048
        && b.iter().all(|c| c.is_ascii_graphic() && *c != b'\\');
    ok.then_some(next)
}

/// `/login`, with `next` when there is a page to come back to.
fn login_url(next: Option<&str>) -> String {
    match next.and_then(local_path).filter(|p| *p != "/") {
        Some(p) => format!(
            "/login?{}",
            serde_urlencoded::to_string([("next", p)]).unwrap_or_default()
        ),
        None => "/login".into(),
    }
}

impl IntoResponse for LoginFirst {
    fn into_response(self) -> Response {
        match (self.html, self.again) {
            (true, Some(path)) => {
                // `path` is this server's own path and query, checked by
                // `same_site_path` (starts with one `/`, safe characters only).
                let html = format!(
                    "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={path}\"><title>keibi</title></head><body><p><a href=\"{path}\">keibi</a></p></body></html>"
                );
                axum::response::Html(html).into_response()
            }
            (true, None) => Redirect::to(&login_url(self.next.as_deref())).into_response(),
            (false, _) => (StatusCode::UNAUTHORIZED, "log in first").into_response(),
        }
    }
}

/// The path and query of a request, if it may be written into a same-site reload:
/// it starts with a single `/` and holds only URL characters that need no
/// escaping in HTML (`%`-escapes included); else `None`.
fn same_site_path(parts: &Parts) -> Option<String> {
    let pq = parts.uri.path_and_query()?.as_str();
    let ok = pq.len() <= 2048
        && pq.starts_with('/')
        && !pq.starts_with("//")
        && pq
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-._~%!$()*+,;=:@?".contains(&b))
        && !pq.to_ascii_lowercase().contains("url=");
    ok.then(|| pq.to_string())
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = LoginFirst;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer, LoginFirst> {
        match state.auth.viewer(state, parts).await {
            Some(v) => Ok(v),
            None => {
                let html = parts.method == axum::http::Method::GET;
                let cross = parts
                    .headers
                    .get("sec-fetch-site")
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
                Err(LoginFirst {
                    html,
                    next: parts.uri.path_and_query().map(|p| p.as_str().to_string()),
                    again: (html && cross).then(|| same_site_path(parts)).flatten(),
                })
            }
        }
    }
}

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "keibi_session";

/// The name of the login form's token cookie (double submit).
pub const LOGIN_COOKIE: &str = "keibi_login";

/// How often a session's last-seen time is written (at most).
const TOUCH: chrono::Duration = chrono::Duration::minutes(1);

/// Logins verified at once: each argon2 verification takes 19 MiB and a core
/// for tens of milliseconds; more wait.
static VERIFYING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The TCP peer of a connection, as the server puts it in every request's
/// extensions (`ConnectInfo<Peer>`): the address the rate limit counts and the
/// proxy rule trusts. Requests without it (tests without a socket) have no peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

/// The peer of a request, if the server gave one.
pub fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<Peer>>()
        .map(|c| c.0 .0.ip())
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|v| v.len() <= 256)
}

/// The language a browser asks for (`Accept-Language`): the highest-weighted of
/// English and Japanese, else English.
pub fn accept_language(headers: &HeaderMap) -> Lang {
    let Some(v) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Lang::En;
    };
    let mut best: Option<(f32, Lang)> = None;
    for item in v.split(',').take(32) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let Ok(lang) = tag.parse::<Lang>() else {
            continue;
        };
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    best.map_or(Lang::En, |(_, l)| l)
}

fn random_hex() -> Option<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).ok()?;
    Some(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Login sessions: the `keibi_session` cookie → its hash in the store → the
/// session → its user.
pub struct SessionAuth;

impl Authenticate for SessionAuth {
    fn viewer<'a>(
        &'a self,
        state: &'a AppState,
        parts: &'a Parts,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Viewer>> + Send + 'a>> {
        Box::pin(async move {
            let token = cookie(&parts.headers, SESSION_COOKIE)?;
            let session = state
                .db
                .run(move |s| s.session(&token, Utc::now(), TOUCH))
                .await
                .ok()??;
            let role = Role::parse(&session.user.role)?;
            let lang = session
                .user
                .lang
                .as_deref()
                .and_then(|l| l.parse().ok())
                .unwrap_or_else(|| accept_language(&parts.headers));
            Some(Viewer {
                name: session.user.name,
                role,
                lang,
                csrf: session.csrf,
            })
        })
    }
}

/// A trusted reverse proxy's header (`dashboard.auth.proxy`).
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// The header naming the person (`X-Forwarded-User`).
    pub header: HeaderName,
    /// The TCP peers it is taken from; from any other, it is ignored.
    pub trusted: Vec<IpNet>,
    /// A header listing the person's groups (comma-separated), if any.
    pub groups_header: Option<HeaderName>,
    /// Group → role; the highest role of the person's groups wins.
    pub groups: Vec<(String, Role)>,
    /// The role of a person none of whose groups is mapped; `None`: refused.
    pub default_role: Option<Role>,
}

/// Vouches for the person a trusted proxy names ([`ProxyConfig`]). Their CSRF
/// token is an HMAC of their name under a key drawn at start (a restart makes open
/// forms stale, nothing else).
pub struct ProxyAuth {
    config: ProxyConfig,
    key: [u8; 32],
}

/// Longest name taken from a proxy's header, in bytes.
const MAX_PROXY_NAME: usize = 256;

impl ProxyAuth {
    pub fn new(config: ProxyConfig) -> ProxyAuth {
        let mut key = [0u8; 32];
        // Without the OS's random source no key is safe: the zero key is never
        // used, every form is refused instead (see `csrf`).
        if getrandom::fill(&mut key).is_err() {
            key = [0; 32];
        }
        ProxyAuth { config, key }
    }

    fn csrf(&self, name: &str) -> String {
        if self.key == [0; 32] {
            return String::new();
        }
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(name.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    }

    /// The person `parts` names, when it came from a trusted peer.
    pub fn person(&self, parts: &Parts) -> Option<(String, Role)> {
        let ip = peer(parts)?;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if !self.config.trusted.iter().any(|n| n.contains(&ip)) {
            return None;
        }
        let name = parts
            .headers
            .get(&self.config.header)?
            .to_str()
            .ok()?
            .trim();
        if name.is_empty() || name.len() > MAX_PROXY_NAME || name.chars().any(char::is_control) {
            return None;
        }
        let mut role: Option<Role> = None;
        if let Some(h) = &self.config.groups_header {
            for v in parts
                .headers
                .get_all(h)
                .iter()
                .filter_map(|v| v.to_str().ok())
            {
                for g in v.split(',').map(str::trim).take(256) {
                    if let Some((_, r)) = self.config.groups.iter().find(|(n, _)| n == g) {
                        role = role.max(Some(*r));
                    }
                }
            }
        }
        Some((name.to_string(), role.or(self.config.default_role)?))
    }
}

impl Authenticate for ProxyAuth {
    fn viewer<'a>(
        &'a self,
        _state: &'a AppState,
        parts: &'a Parts,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Viewer>> + Send + 'a>> {
        let v = self.person(parts).map(|(name, role)| Viewer {
            csrf: self.csrf(&name),
            name,
            role,
            lang: accept_language(&parts.headers),
        });
        Box::pin(async move { v })
    }
}

/// The first of several authenticators that vouches for a request.
pub struct FirstOf(pub Vec<Arc<dyn Authenticate>>);

impl Authenticate for FirstOf {
    fn viewer<'a>(
        &'a self,
        state: &'a AppState,
        parts: &'a Parts,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Viewer>> + Send + 'a>> {
        Box::pin(async move {
            for a in &self.0 {
                if let Some(v) = a.viewer(state, parts).await {
                    return Some(v);
                }
            }
            None
        })
    }
}

/// Nobody: with neither local login nor a proxy, every page asks to log in.
pub struct Nobody;

impl Authenticate for Nobody {
    fn viewer<'a>(
        &'a self,
        _: &'a AppState,
        _: &'a Parts,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Viewer>> + Send + 'a>> {
        Box::pin(async { None })
    }
}

/// The authenticator of the settings: the proxy first (when configured), then
/// sessions (when local login is on).
pub fn authenticator(local: bool, proxy: Option<ProxyConfig>) -> Arc<dyn Authenticate> {
    let mut chain: Vec<Arc<dyn Authenticate>> = Vec::new();
    if let Some(p) = proxy {
        chain.push(Arc::new(ProxyAuth::new(p)));
    }
    if local {
        crate::users::warm();
        chain.push(Arc::new(SessionAuth));
    }
    match chain.len() {
        0 => Arc::new(Nobody),
        1 => chain.remove(0),
        _ => Arc::new(FirstOf(chain)),
    }
}

/// `/login`, `/logout`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    lang: &'static str,
    title: String,
    user_label: String,
    password_label: String,
    submit: String,
    error: Option<String>,
    hint: Option<String>,
    /// The form's token (also in the `keibi_login` cookie).
    token: String,
    /// Whether the form is shown (local login on).
    form: bool,
    name: String,
    /// Where to go after the login (a local path, or empty).
    next: String,
}

/// What the login page says besides its form.
enum Notice {
    None,
    Wrong,
    Limited(u64),
    Stale,
}

fn secure_attr(state: &AppState) -> &'static str {
    if state.options.secure_cookies {
        "; Secure"
    } else {
        ""
    }
}

async fn render_login(
    state: &AppState,
    headers: &HeaderMap,
    notice: Notice,
    name: String,
    next: &str,
    status: StatusCode,
) -> Response {
    let lang = accept_language(headers);
    let loc = Locale::new(lang, DisplayZone::utc());
    let Some(token) = random_hex() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no random source").into_response();
    };
    let users = state.db.run(|s| s.active_users()).await.unwrap_or(1);
    let hint = if !state.options.local_login && !state.options.proxy {
        Some(loc.text("dashboard-login-off"))
    } else if state.options.local_login && users == 0 && !state.options.proxy {
        Some(loc.text("dashboard-login-no-user"))
    } else if !state.options.local_login {
        Some(loc.text("dashboard-login-proxy-only"))
    } else {
        None
    };
    let error =
        match notice {
            Notice::None => None,
            Notice::Wrong => Some(loc.text("dashboard-login-wrong")),
            Notice::Stale => Some(loc.text("dashboard-login-stale")),
            Notice::Limited(secs) => Some(loc.render(
                &Msg::new("dashboard-login-limited").arg("minutes", secs.div_ceil(60).max(1)),
            )),
        };
    let page = LoginPage {
        lang: lang.code(),
        title: loc.text("dashboard-login-title"),
        user_label: loc.text("dashboard-login-user"),
        password_label: loc.text("dashboard-login-password"),
        submit: loc.text("dashboard-login-submit"),
        error,
        hint,
        token: token.clone(),
        form: state.options.local_login,
        name,
        next: local_path(next).unwrap_or_default().to_string(),
    };
    let mut res = crate::pages::render(&page);
    *res.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={token}; HttpOnly{}; SameSite=Strict; Path=/login",
        secure_attr(state)
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

async fn login_page(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, _) = req.into_parts();
    let next = serde_urlencoded::from_str::<Vec<(String, String)>>(parts.uri.query().unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v)
        .unwrap_or_default();
    // Already someone: to the page asked for, else the overview.
    if state.auth.viewer(&state, &parts).await.is_some() {
        return Redirect::to(local_path(&next).unwrap_or("/")).into_response();
    }
    render_login(
        &state,
        &parts.headers,
        Notice::None,
        String::new(),
        &next,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
}

/// What a login attempt came to.
enum Outcome {
    Ok(keibi_store::NewSession),
    Wrong,
    Limited(u64),
}

async fn login(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let addr = peer(&parts).map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
    let headers = parts.headers.clone();
    let form = match Form::<LoginForm>::from_request(
        axum::extract::Request::from_parts(parts, body),
        &state,
    )
    .await
    {
        Ok(Form(f)) => f,
        Err(e) => return e.into_response(),
    };
    let name: String = form
        .user
        .trim()
        .chars()
        .take(keibi_store::MAX_NAME + 1)
        .collect();
    if !state.options.local_login {
        return (StatusCode::FORBIDDEN, "local login is off").into_response();
    }
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.token.as_bytes()) {
        return render_login(
            &state,
            &headers,
            Notice::Stale,
            name,
            &form.next,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let keys = vec![
        keibi_store::failure_key("addr", &addr),
        keibi_store::failure_key("user", &name.to_lowercase()),
    ];
    let opts = state.options.clone();
    let Ok(_permit) = VERIFYING.acquire().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let password = form.password;
    let next = form.next;
    let old = cookie(&headers, SESSION_COOKIE);
    let user = name.clone();
    let outcome = state
        .db
        .run(move |s| {
            let now = Utc::now();
            let mut until = None;
            for k in &keys {
                until = until.max(s.login_blocked_until(
                    k,
                    now,
                    opts.login_window,
                    opts.login_failures,
                )?);
            }
            if let Some(u) = until {
                // Whole seconds, rounded up: a client that waits that long gets in.
                let ms = u64::try_from((u - now).num_milliseconds()).unwrap_or(0);
                return Ok(Outcome::Limited(ms.div_ceil(1000).max(1)));
            }
            let stored = s.user(&user)?.filter(|u| !u.disabled);
            let ok =
                crate::users::verify_password(stored.as_ref().map(|u| u.hash.as_str()), &password);
            if !ok {
                s.record_login_failure(&keys, Utc::now(), opts.login_window)?;
                return Ok(Outcome::Wrong);
            }
            // Rotation: the session the browser came with ends.
            if let Some(t) = old {
                s.end_session(&t)?;
            }
            s.clear_login_failures(&keys[1])?;
            s.create_session(&user, Utc::now(), opts.session)
                .map(Outcome::Ok)
        })
        .await;
    match outcome {
        Ok(Outcome::Ok(session)) => {
            let mut res = Redirect::to(local_path(&next).unwrap_or("/")).into_response();
            let h = res.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{SESSION_COOKIE}={}; HttpOnly{}; SameSite=Strict; Path=/",
                session.token,
                secure_attr(&state)
            )) {
                h.append(header::SET_COOKIE, v);
            }
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{LOGIN_COOKIE}=; HttpOnly{}; SameSite=Strict; Path=/login; Max-Age=0",
                secure_attr(&state)
            )) {
                h.append(header::SET_COOKIE, v);
            }
            res
        }
        Ok(Outcome::Wrong) => {
            render_login(
                &state,
                &headers,
                Notice::Wrong,
                name,
                &next,
                StatusCode::UNAUTHORIZED,
            )
            .await
        }
        Ok(Outcome::Limited(secs)) => {
            let mut res = render_login(
                &state,
                &headers,
                Notice::Limited(secs),
                name,
                &next,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            res
        }
        Err(e) => crate::pages::store_error(e),
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    if let Err(r) = viewer.check(Role::Viewer, &form.csrf) {
        return r.into_response();
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = state.db.run(move |s| s.end_session(&token)).await {
            return crate::pages::store_error(e);
        }
    }
    let mut res = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; HttpOnly{}; SameSite=Strict; Path=/; Max-Age=0",
        secure_attr(&state)
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod next_tests {
    use super::{local_path, login_url};

    #[test]
    fn only_paths_of_this_site_are_followed_after_the_login() {
        for ok in [
            "/findings/4dde8bdc",
            "/findings?type=a%3Ab&page=2",
            "/actors/ip/198.51.100.23",
        ] {
            assert_eq!(local_path(ok), Some(ok));
        }
        for bad in [
            "",
            "findings",
            "//evil.example/",
            "/\\evil.example/",
            "/\\\\evil.example",
            "javascript:alert(1)",
            "https://evil.example/",
            "/findings/\nSet-Cookie:x",
            "/a b",
            "/é",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert_eq!(local_path(&format!("/{}", "a".repeat(2048))), None);
        assert_eq!(login_url(Some("/")), "/login");
        assert_eq!(login_url(Some("//evil.example/")), "/login");
        assert_eq!(
            login_url(Some("/findings?type=a&page=2")),
            "/login?next=%2Ffindings%3Ftype%3Da%26page%3D2"
        );
    }
}
