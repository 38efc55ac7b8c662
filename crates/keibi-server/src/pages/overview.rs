//! `/`: what is going on, at a glance.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{render, store_error, Chrome};
use crate::auth::Viewer;
use crate::AppState;

#[derive(Template)]
#[template(path = "overview.html")]
struct Overview {
    chrome: Chrome,
    by_status: Vec<(&'static str, u64)>,
}

pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Response {
    let counts = match state.db.run(|s| s.count_by_status()).await {
        Ok(c) => c,
        Err(e) => return store_error(e),
    };
    render(&Overview {
        chrome: Chrome::new(&viewer),
        by_status: counts.into_iter().map(|(s, n)| (s.as_str(), n)).collect(),
    })
}
