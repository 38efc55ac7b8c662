//! Who is asking, and what they may do.
//!
//! A request carries a [`Viewer`] when an [`Authenticate`] implementation vouches
//! for it: a login session (cookie → the store's sessions) or a trusted reverse
//! proxy's header. Handlers take a `Viewer` argument; a request without one is sent
//! to `/login` (pages) or refused with 401.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use keibi_i18n::Lang;

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
pub struct LoginFirst {
    html: bool,
}

impl IntoResponse for LoginFirst {
    fn into_response(self) -> Response {
        if self.html {
            Redirect::to("/login").into_response()
        } else {
            (StatusCode::UNAUTHORIZED, "log in first").into_response()
        }
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = LoginFirst;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer, LoginFirst> {
        match state.auth.viewer(state, parts).await {
            Some(v) => Ok(v),
            None => Err(LoginFirst {
                html: parts.method == axum::http::Method::GET,
            }),
        }
    }
}

/// `/login`, `/logout` (S: the login form, argon2 check, rate limit, session
/// cookie).
pub fn routes() -> Router<AppState> {
    Router::new()
}
