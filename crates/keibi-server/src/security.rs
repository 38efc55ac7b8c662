//! The headers every response carries, the same-origin check of changes, and the
//! bind rules.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// No inline script or style, nothing from elsewhere, no framing, no base
/// rewriting; forms post only here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every response.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Not `no-referrer`: under it Chromium sends `Origin: null` with the
    // dashboard's own form posts, which the same-origin check must refuse. Same
    // origin only: other sites still get no referrer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    no_store(&mut res);
    res
}

/// Pages are not kept by the browser or a proxy (they show findings and the
/// person's session); a response that says otherwise (the embedded assets) keeps
/// its own `Cache-Control`.
fn no_store(res: &mut Response) {
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Refuses a change (any method but GET and HEAD) that a browser says comes from
/// another site: `Sec-Fetch-Site` other than `same-origin` or `none`, or an
/// `Origin` that is neither the dashboard's `public_url` nor the host the request
/// was sent to (its `Host`). A request with neither header (a script, curl) goes
/// on: the CSRF token still guards every change.
pub async fn same_origin(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: Request,
    next: Next,
) -> Response {
    use axum::http::Method;
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return next.run(req).await;
    }
    let h = req.headers();
    let site_ok = match h.get("sec-fetch-site").map(|v| v.to_str().unwrap_or("?")) {
        None => true,
        Some(s) => s.eq_ignore_ascii_case("same-origin") || s.eq_ignore_ascii_case("none"),
    };
    let origin_ok = match h.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("?")) {
        None => true,
        Some(o) => {
            let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
            origin_of(&state.options.public_url).is_some_and(|a| a.eq_ignore_ascii_case(o))
                || match (origin_of(o), host) {
                    (Some(o), Some(host)) => o
                        .split_once("://")
                        .is_some_and(|(_, oh)| oh.eq_ignore_ascii_case(host)),
                    _ => false,
                }
        }
    };
    if site_ok && origin_ok {
        return next.run(req).await;
    }
    (
        axum::http::StatusCode::FORBIDDEN,
        "forbidden: a change from another site",
    )
        .into_response()
}

/// The origin (`scheme://host[:port]`) of a URL, lowercased, without a path.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    if host.is_empty() || !matches!(scheme, "http" | "https") {
        return None;
    }
    let host = match (scheme, host.rsplit_once(':')) {
        ("http", Some((h, "80"))) | ("https", Some((h, "443"))) => h,
        _ => host,
    };
    Some(format!("{scheme}://{host}").to_ascii_lowercase())
}

/// Why an address may not be served on as it is configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindRefused {
    #[error("the dashboard would serve {addr} over plain HTTP: passwords and session cookies would cross the network readable. Give it dashboard.tls.cert and dashboard.tls.key, or listen on 127.0.0.1 behind a TLS-terminating proxy, or, if such a proxy reaches it on this address, say so with dashboard.allow_plain_http_on: {addr}")]
    PlainHttp { addr: std::net::SocketAddr },
}

/// The bind rules: loopback may be served over plain HTTP; any other address
/// needs TLS, or `allow_plain_http_on` naming exactly that address (behind a
/// TLS-terminating proxy).
pub fn check_bind(
    addr: std::net::SocketAddr,
    tls: bool,
    allow_plain_http_on: Option<std::net::SocketAddr>,
) -> Result<(), BindRefused> {
    if tls || addr.ip().is_loopback() || allow_plain_http_on == Some(addr) {
        Ok(())
    } else {
        Err(BindRefused::PlainHttp { addr })
    }
}
