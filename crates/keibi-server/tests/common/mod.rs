//! Test set-up: a store in a temporary directory and an [`Authenticate`] that
//! vouches for one fixed person, so page tests do not depend on the login flow
//! (which has its own tests).
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{Request, StatusCode};
use keibi_i18n::Lang;
use keibi_server::auth::{Authenticate, Role, Viewer};
use keibi_server::{AppState, Db, Options};
use tower::ServiceExt;

pub mod fixtures;

/// Vouches for `viewer` on every request carrying the header `x-test-user: yes`.
pub struct AsPerson(pub Viewer);

impl Authenticate for AsPerson {
    fn viewer<'a>(
        &'a self,
        _: &'a AppState,
        parts: &'a Parts,
    ) -> Pin<Box<dyn Future<Output = Option<Viewer>> + Send + 'a>> {
        let ok = parts.headers.get("x-test-user").is_some();
        Box::pin(async move { ok.then(|| self.0.clone()) })
    }
}

pub fn person(role: Role) -> Viewer {
    Viewer {
        name: "kim".into(),
        role,
        lang: Lang::En,
        csrf: "t0ken".into(),
    }
}

/// A dashboard over a new store in `dir`, acting as `viewer`.
pub fn app(dir: &std::path::Path, viewer: Viewer) -> (axum::Router, AppState) {
    let store = dir.join("keibi.db");
    let state = AppState {
        db: Db::open(&store, 2).unwrap(),
        options: Arc::new(Options::new(store, "http://127.0.0.1:9717")),
        auth: Arc::new(AsPerson(viewer)),
        site: Arc::new(keibi_server::pages::Site::default()),
    };
    (keibi_server::router(state.clone()), state)
}

/// GET `path` as the test person (or anonymous); status and body.
pub async fn get(app: &axum::Router, path: &str, logged_in: bool) -> (StatusCode, String) {
    let mut req = Request::get(path);
    if logged_in {
        req = req.header("x-test-user", "yes");
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 16 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// POST a form (`a=1&b=2`) to `path` as the test person; status, `Location`, body.
pub async fn post(app: &axum::Router, path: &str, form: &str) -> (StatusCode, String, String) {
    let req = Request::post(path)
        .header("x-test-user", "yes")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = axum::body::to_bytes(res.into_body(), 16 << 20)
        .await
        .unwrap();
    (
        status,
        location,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// A dashboard whose state carries `site` (settings, lists, sources).
pub fn app_with_site(
    dir: &std::path::Path,
    viewer: Viewer,
    site: keibi_server::pages::Site,
) -> axum::Router {
    let (_, mut state) = app(dir, viewer);
    state.site = Arc::new(site);
    keibi_server::router(state)
}
