//! The pages: one module each, listed in [`routes`].

mod overview;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::auth::Viewer;
use crate::state::DbError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(overview::page))
}

/// What the layout (`templates/base.html`) shows around every page.
pub struct Chrome {
    pub lang: &'static str,
    pub user: String,
    pub role: &'static str,
    pub csrf: String,
    pub nav_overview: String,
    pub nav_findings: String,
}

impl Chrome {
    pub fn new(v: &Viewer) -> Chrome {
        Chrome {
            lang: v.lang.code(),
            user: v.name.clone(),
            role: v.role.as_str(),
            csrf: v.csrf.clone(),
            // P: through the catalog (keibi-i18n), in v.lang.
            nav_overview: "Overview".into(),
            nav_findings: "Findings".into(),
        }
    }
}

/// Renders a page, or a 500 that names no internals.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page could not be rendered",
        )
            .into_response(),
    }
}

/// A store error as a page (503 while the store is busy, else 500).
pub fn store_error(e: DbError) -> Response {
    let busy = matches!(&e, DbError::Store(s) if s.is_transient());
    let code = if busy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    (code, format!("the store could not be read: {e}")).into_response()
}
