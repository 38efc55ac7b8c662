//! keibi's dashboard: the findings of the store in the browser, with login, roles
//! and the workflow (acknowledge, resolve, suppress, reopen, notes). Served by
//! `keibi run` beside the daemon and by `keibi dashboard` over any store.
//!
//! Pages are rendered on the server from askama templates (`templates/`, checked at
//! compile time, HTML-escaped by default); the few assets (`assets/`) are embedded
//! in the binary, so nothing is fetched from a CDN and `cargo build` alone builds
//! it. Scripts are external files only: the Content-Security-Policy forbids inline
//! script.
//!
//! # Layout (where a new part goes)
//! - [`state`]: [`AppState`], what every handler gets: the store connections
//!   ([`Db`]: blocking SQLite work off the async threads), the options, the
//!   authenticator.
//! - [`auth`]: who is asking ([`auth::Viewer`], [`auth::Role`]); the
//!   [`auth::Authenticate`] trait that login sessions and a trusted proxy header
//!   implement; login and logout pages; CSRF tokens.
//! - [`security`]: the headers every response carries (CSP, frame, referrer,
//!   content type) and the bind rules.
//! - [`pages`]: one module per page; a new page is a module there and a line in
//!   [`pages::routes`].
//! - [`assets`]: the embedded files under `/assets/`.
//!
//! # Invariants
//! - Every change (POST) needs a session of a role allowed to make it and the
//!   session's CSRF token; GET never changes anything.
//! - Every field that came from a log (user names, statements, addresses, user
//!   agents, finding texts) reaches HTML only through askama's escaping; never
//!   through `|safe`, never inside a `<script>`, never as a URL scheme.

pub mod assets;
pub mod auth;
pub mod pages;
pub mod security;
pub mod serve;
pub mod state;
pub mod users;

pub use axum::http::HeaderName;
pub use state::{AppState, Db, Options};

use axum::Router;

/// The dashboard's routes with their state: pages, assets and the security headers.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .merge(auth::routes())
        .merge(assets::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::same_origin,
        ))
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state)
}

/// Errors of the dashboard's set-up (a page's own errors are pages, not these).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] keibi_store::StoreError),
    #[error("{0}")]
    Invalid(String),
}
