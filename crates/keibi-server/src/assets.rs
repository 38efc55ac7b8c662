//! The embedded files under `/assets/`: a stylesheet and a small script
//! (progressive enhancement only; every page works without it). A new asset is a
//! line in [`FILES`].

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

/// Name, content type, bytes.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "keibi.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/keibi.css"),
    ),
    (
        "keibi.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/keibi.js"),
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/assets/{name}", get(asset))
}

async fn asset(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, bytes)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
