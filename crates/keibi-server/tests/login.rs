//! Login, sessions, roles, CSRF and the security headers, over real sockets: the
//! dashboard served on 127.0.0.1 by [`Dashboard::start`] and asked with reqwest.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use axum::{Form, Router};
use chrono::Utc;
use keibi_server::auth::{self, ProxyConfig, Role, Viewer};
use keibi_server::serve::{bind, tls_config, Dashboard, TlsFiles};
use keibi_server::{AppState, Db, Options};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery";

fn options(store: &Path) -> Options {
    Options::new(store.to_path_buf(), "http://127.0.0.1:9717")
}

/// Serves a dashboard over `store` with `options`, local login (and the proxy when
/// given), plus `/change`, a POST that needs a responder.
fn serve(options: Options, proxy: Option<ProxyConfig>, tls: Option<&TlsFiles>) -> Dashboard {
    let local = options.local_login;
    let state = AppState {
        db: Db::open(&options.store, 2).unwrap(),
        options: Arc::new(options),
        auth: auth::authenticator(local, proxy),
        site: Arc::new(keibi_server::pages::Site::default()),
    };
    #[derive(serde::Deserialize)]
    struct F {
        csrf: String,
    }
    async fn change(v: Viewer, Form(f): Form<F>) -> axum::response::Response {
        use axum::response::IntoResponse;
        match v.check(Role::Responder, &f.csrf) {
            Ok(()) => "changed".into_response(),
            Err(r) => r.into_response(),
        }
    }
    // `/change` beside the dashboard's routes, behind the same-origin check.
    let app = Router::new()
        .route("/change", post(change))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            keibi_server::security::same_origin,
        ))
        .merge(keibi_server::router(state));
    let l = bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let tls = tls.map(|f| tls_config(f).unwrap());
    Dashboard::start(l, app, tls).unwrap()
}

fn add_user(store: &Path, name: &str, role: &str) {
    let mut s = keibi_store::Store::open(store).unwrap();
    let h = keibi_server::users::hash_password(PASSWORD).unwrap();
    s.add_user(name, &h, role, None, Utc::now()).unwrap();
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value a `Set-Cookie` gives cookie `name`, and the whole header.
fn set_cookie(h: &HeaderMap, name: &str) -> Option<(String, String)> {
    h.get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v[name.len() + 1..].split(';').next().unwrap().to_string();
            (value, v.to_string())
        })
}

/// GET /login: the form's token (also its cookie).
async fn login_form(c: &reqwest::Client, base: &str) -> String {
    let r = c.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (token, _) = set_cookie(r.headers(), "keibi_login").unwrap();
    let body = r.text().await.unwrap();
    assert!(
        body.contains(&format!("name=\"token\" value=\"{token}\"")),
        "{body}"
    );
    token
}

/// Logs in: status, headers, body.
async fn login(
    c: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> (StatusCode, HeaderMap, String) {
    let token = login_form(c, base).await;
    let r = c
        .post(format!("{base}/login"))
        .header("cookie", format!("keibi_login={token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", base)
        .body(format!(
            "user={}&password={}&token={token}",
            enc(user),
            enc(password)
        ))
        .send()
        .await
        .unwrap();
    let (s, h) = (r.status(), r.headers().clone());
    (s, h, r.text().await.unwrap())
}

/// Logs in; the session cookie's token.
async fn session(c: &reqwest::Client, base: &str, user: &str) -> String {
    let (s, h, body) = login(c, base, user, PASSWORD).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    set_cookie(&h, "keibi_session").unwrap().0
}

/// The session's CSRF token, read from the store through its cookie.
fn csrf_of(store: &Path, token: &str) -> String {
    let mut s = keibi_store::Store::open(store).unwrap();
    s.session(token, Utc::now(), chrono::Duration::hours(1))
        .unwrap()
        .unwrap()
        .csrf
}

fn strip_tokens(body: &str) -> String {
    body.split("value=\"")
        .enumerate()
        .map(|(i, p)| {
            if i == 0 {
                p.to_string()
            } else {
                p.split_once('"')
                    .map_or(String::new(), |(_, r)| r.to_string())
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_right_wrong_and_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("k.db");
    add_user(&store, "kim", "viewer");
    let d = serve(options(&store), None, None);
    let base = d.url();
    let c = client();

    // Not logged in: pages go to the login page.
    let r = c.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/login");

    let (s, h, _) = login(&c, &base, "kim", PASSWORD).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h[LOCATION], "/");
    let (token, whole) = set_cookie(&h, "keibi_session").unwrap();
    assert_eq!(token.len(), 64);
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(whole.split("; ").any(|a| a == attr), "{attr} in {whole}");
    }
    let r = c
        .get(format!("{base}/"))
        .header("cookie", format!("keibi_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("kim"));

    // A wrong password and an unknown user: the same answer, in about the same time.
    let t = std::time::Instant::now();
    let (s1, h1, b1) = login(&c, &base, "kim", "wrong password!").await;
    let wrong = t.elapsed();
    let t = std::time::Instant::now();
    let (s2, h2, b2) = login(&c, &base, "nobody", "wrong password!").await;
    let unknown = t.elapsed();
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert!(
        set_cookie(&h1, "keibi_session").is_none() && set_cookie(&h2, "keibi_session").is_none()
    );
    assert!(b1.contains("Wrong user name or password."), "{b1}");
    assert_eq!(
        strip_tokens(&b1).replace("value=\"kim\"", ""),
        strip_tokens(&b2).replace("value=\"nobody\"", "")
    );
    // Both verified an argon2 hash: neither is ten times the other.
    assert!(
        unknown * 10 > wrong && wrong * 10 > unknown,
        "{wrong:?} {unknown:?}"
    );

    // A garbage cookie is nobody.
    let r = c
        .get(format!("{base}/"))
        .header("cookie", format!("keibi_session={}", "0".repeat(64)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Japanese from the browser's language.
    let r = c
        .get(format!("{base}/login"))
        .header("accept-language", "fr;q=0.9, ja-JP;q=0.8, en;q=0.5")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("パスワード"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_form_needs_its_token_and_its_origin() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("k.db");
    add_user(&store, "kim", "viewer");
    let d = serve(options(&store), None, None);
    let base = d.url();
    let c = client();
    let token = login_form(&c, &base).await;
    let form = format!("user=kim&password={}&token={token}", enc(PASSWORD));
    // No cookie, another token, another site.
    for (cookie, origin, site) in [
        ("".to_string(), base.clone(), "same-origin"),
        (
            format!("keibi_login={}", "a".repeat(64)),
            base.clone(),
            "same-origin",
        ),
        (
            format!("keibi_login={token}"),
            "https://evil.example".into(),
            "same-origin",
        ),
        (format!("keibi_login={token}"), base.clone(), "cross-site"),
    ] {
        let r = c
            .post(format!("{base}/login"))
            .header("cookie", cookie.clone())
            .header("origin", origin.clone())
            .header("sec-fetch-site", site)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{cookie} {origin} {site}"
        );
        assert!(set_cookie(r.headers(), "keibi_session").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited_across_restarts_until_the_window_passes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("k.db");
    add_user(&store, "kim", "viewer");
    let mut o = options(&store);
    o.login_failures = 3;
    o.login_window = chrono::Duration::seconds(4);
    let d = serve(o.clone(), None, None);
    let base = d.url();
    let c = client();
    for _ in 0..3 {
        assert_eq!(
            login(&c, &base, "kim", "nope nope nope").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    // Limited now, even with the right password.
    let (s, h, body) = login(&c, &base, "kim", PASSWORD).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=4).contains(&retry), "{retry}");
    assert!(body.contains("Too many failed logins"), "{body}");
    // Another user name from the same address: the address is limited too.
    assert_eq!(
        login(&c, &base, "lee", "x").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A new server on the same store remembers.
    d.stop();
    let d = serve(o, None, None);
    let base = d.url();
    let (s, h, _) = login(&c, &base, "kim", PASSWORD).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // Once the window has passed (Retry-After said when), the right password logs in.
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    tokio::time::sleep(Duration::from_millis(retry * 1000 + 200)).await;
    assert_eq!(
        login(&c, &base, "kim", PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_rotate_and_end_at_logout_and_the_store_holds_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("k.db");
    add_user(&store, "kim", "viewer");
    let mut o = options(&store);
    o.session.idle = chrono::Duration::seconds(2);
    let d = serve(o, None, None);
    let base = d.url();
    let c = client();
    let token = session(&c, &base, "kim").await;
    let get = |t: String| {
        let c = c.clone();
        let base = base.clone();
        async move {
            c.get(format!("{base}/"))
                .header("cookie", format!("keibi_session={t}"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(get(token.clone()).await, StatusCode::OK);

    // The store file and its journal hold neither the token nor the cookie.
    let mut bytes = Vec::new();
    for e in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(e.unwrap().path()).unwrap());
    }
    assert!(!String::from_utf8_lossy(&bytes).contains(&token));

    // Logging in again from the same browser ends its old session (rotation).
    let t2 = {
        let f = login_form(&c, &base).await;
        let r = c
            .post(format!("{base}/login"))
            .header("cookie", format!("keibi_login={f}; keibi_session={token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("user=kim&password={}&token={f}", enc(PASSWORD)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        set_cookie(r.headers(), "keibi_session").unwrap().0
    };
    assert_ne!(t2, token);
    assert_eq!(get(token.clone()).await, StatusCode::SEE_OTHER);
    assert_eq!(get(t2.clone()).await, StatusCode::OK);

    // Logout: refused without the session's CSRF token, done with it.
    let csrf = csrf_of(&store, &t2);
    let logout = |form: String| {
        let c = c.clone();
        let base = base.clone();
        let t2 = t2.clone();
        async move {
            c.post(format!("{base}/logout"))
                .header("cookie", format!("keibi_session={t2}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        logout("csrf=wrong".into()).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(logout(String::new()).await.status(), StatusCode::FORBIDDEN);
    let r = logout(format!("csrf={csrf}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (v, whole) = set_cookie(r.headers(), "keibi_session").unwrap();
    assert!(v.is_empty() && whole.contains("Max-Age=0"), "{whole}");
    assert_eq!(get(t2).await, StatusCode::SEE_OTHER);

    // Idle for longer than the idle limit: gone.
    let t3 = session(&c, &base, "kim").await;
    assert_eq!(get(t3.clone()).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(get(t3).await, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_needs_the_role_the_token_and_the_same_site() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("k.db");
    add_user(&store, "vic", "viewer");
    add_user(&store, "rae", "responder");
    let d = serve(options(&store), None, None);
    let base = d.url();
    let c = client();
    let change = |token: String, form: String, origin: Option<&'static str>| {
        let c = c.clone();
        let base = base.clone();
        async move {
            let mut r = c
                .post(format!("{base}/change"))
                .header("cookie", format!("keibi_session={token}"))
                .header("content-type", "application/x-www-form-urlencoded");
            if let Some(o) = origin {
                r = r.header("origin", o);
            }
            r.body(form).send().await.unwrap().status()
        }
    };
    let vic = session(&c, &base, "vic").await;
    let rae = session(&c, &base, "rae").await;
    let (vc, rc) = (csrf_of(&store, &vic), csrf_of(&store, &rae));
    assert_eq!(
        change(vic, format!("csrf={vc}"), None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        change(rae.clone(), format!("csrf={rc}"), None).await,
        StatusCode::OK
    );
    assert_eq!(
        change(rae.clone(), format!("csrf={vc}"), None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        change(rae.clone(), "csrf=".into(), None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        change(
            rae.clone(),
            format!("csrf={rc}"),
            Some("http://evil.example")
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        change(rae.clone(), format!("csrf={rc}"), Some("null")).await,
        StatusCode::FORBIDDEN
    );
    let o: &'static str = Box::leak(base.clone().into_boxed_str());
    assert_eq!(
        change(rae, format!("csrf={rc}"), Some(o)).await,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("k.db");
    add_user(&store, "kim", "viewer");
    let d = serve(options(&store), None, None);
    let base = d.url();
    let c = client();
    let token = session(&c, &base, "kim").await;
    for (path, cache) in [
        ("/", "no-store"),
        ("/login", "no-store"),
        ("/no-such-page", "no-store"),
        ("/assets/keibi.css", "public, max-age=3600"),
        ("/assets/nothing.js", "no-store"),
    ] {
        let r = c
            .get(format!("{base}{path}"))
            .header("cookie", format!("keibi_session={token}"))
            .send()
            .await
            .unwrap();
        let h = r.headers();
        assert_eq!(
            h["content-security-policy"],
            keibi_server::security::CSP,
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{path}");
        assert_eq!(h["cross-origin-resource-policy"], "same-origin", "{path}");
        assert!(h.contains_key("permissions-policy"), "{path}");
        assert_eq!(h["cache-control"], cache, "{path}");
    }
    // A refused change too.
    let r = c
        .post(format!("{base}/logout"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.headers()["content-security-policy"],
        keibi_server::security::CSP
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_header_counts_only_from_a_trusted_peer() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("k.db");
    let proxy = |trusted: &str| ProxyConfig {
        header: "x-forwarded-user".parse().unwrap(),
        trusted: vec![trusted.parse().unwrap()],
        groups_header: Some("x-forwarded-groups".parse().unwrap()),
        groups: vec![
            ("sec-team".into(), Role::Responder),
            ("admins".into(), Role::Admin),
        ],
        default_role: Some(Role::Viewer),
    };
    let c = client();
    let page = |base: String, user: Option<&'static str>, groups: Option<&'static str>| {
        let c = c.clone();
        async move {
            let mut r = c.get(format!("{base}/"));
            if let Some(u) = user {
                r = r.header("x-forwarded-user", u);
            }
            if let Some(g) = groups {
                r = r.header("x-forwarded-groups", g);
            }
            let r = r.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let mut o = options(&store);
    o.proxy = true;
    let trusted = serve(o.clone(), Some(proxy("127.0.0.1/32")), None);
    let (s, body) = page(trusted.url(), Some("ann@example.com"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("ann@example.com (viewer)"), "{body}");
    let (_, body) = page(trusted.url(), Some("ann@example.com"), Some("x, sec-team")).await;
    assert!(body.contains("(responder)"), "{body}");
    let (_, body) = page(trusted.url(), Some("ann"), Some("sec-team,admins")).await;
    assert!(body.contains("(admin)"), "{body}");
    assert_eq!(
        page(trusted.url(), None, None).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        page(trusted.url(), Some(""), None).await.0,
        StatusCode::SEE_OTHER
    );
    // Not from a trusted peer: ignored.
    let untrusted = serve(o, Some(proxy("10.0.0.0/8")), None);
    assert_eq!(
        page(untrusted.url(), Some("ann"), Some("admins")).await.0,
        StatusCode::SEE_OTHER
    );
}

#[test]
fn plain_http_off_loopback_is_refused() {
    use keibi_server::security::check_bind;
    let a = |s: &str| s.parse::<SocketAddr>().unwrap();
    assert!(check_bind(a("127.0.0.1:9717"), false, None).is_ok());
    assert!(check_bind(a("[::1]:9717"), false, None).is_ok());
    let e = check_bind(a("0.0.0.0:9717"), false, None).unwrap_err();
    assert!(e.to_string().contains("dashboard.tls.cert"), "{e}");
    assert!(check_bind(a("192.0.2.7:9717"), false, None).is_err());
    assert!(check_bind(a("0.0.0.0:9717"), true, None).is_ok());
    assert!(check_bind(a("0.0.0.0:9717"), false, Some(a("0.0.0.0:9717"))).is_ok());
    assert!(check_bind(a("0.0.0.0:9717"), false, Some(a("0.0.0.0:9718"))).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("k.db");
    add_user(&store, "kim", "viewer");
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let files = TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    };
    std::fs::write(&files.cert, cert.cert.pem()).unwrap();
    std::fs::write(&files.key, cert.signing_key.serialize_pem()).unwrap();
    let mut o = options(&store);
    o.public_url = "https://127.0.0.1".into();
    let d = serve(o, None, Some(&files));
    let base = d.url();
    assert!(base.starts_with("https://"), "{base}");
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_only([reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let (s, h, _) = login(&c, &base, "kim", PASSWORD).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(set_cookie(&h, "keibi_session").is_some());
    assert_eq!(h["strict-transport-security"], "max-age=31536000");
    // Plain HTTP to the HTTPS port gets no page.
    let plain = base.replace("https://", "http://");
    assert!(client().get(format!("{plain}/login")).send().await.is_err());
    // A key that is not a key.
    std::fs::write(
        &files.key,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    assert!(tls_config(&files).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_from_another_site_loads_again_here_before_asking_to_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("k.db");
    let d = serve(options(&store), None, None);
    let base = d.url();
    let c = client();
    let get = |path: &'static str| {
        let c = c.clone();
        let base = base.clone();
        async move {
            let r = c
                .get(format!("{base}{path}"))
                .header("sec-fetch-site", "cross-site")
                .send()
                .await
                .unwrap();
            (
                r.status(),
                r.headers().get(LOCATION).cloned(),
                r.text().await.unwrap(),
            )
        }
    };
    // The SameSite=Strict cookie did not come: the page loads itself again.
    let (s, _, body) = get("/?status=new").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("content=\"0;url=/?status=new\""), "{body}");
    // Paths that could leave the site or break out of the attribute: to the login page.
    for path in [
        "//evil.example/",
        "/x\"onload=1",
        "/a;url=https://evil.example",
        "/<script>",
    ] {
        let path: &'static str = Box::leak(path.to_string().into_boxed_str());
        let (s, loc, body) = get(path).await;
        assert!(
            s == StatusCode::SEE_OTHER && loc.as_ref().is_some_and(|l| l == "/login")
                || s == StatusCode::NOT_FOUND
                || s == StatusCode::BAD_REQUEST,
            "{path}: {s} {body}"
        );
        assert!(
            !body.contains("evil.example") && !body.contains("<script>"),
            "{body}"
        );
    }
}
