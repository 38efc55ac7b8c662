//! `/settings` (admins): the configuration as the daemon read it, secrets
//! redacted; the lists it loaded; its sources; the store's file.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{render, shown, Chrome, Tr};
use crate::auth::{Role, Viewer};
use crate::AppState;

pub struct List {
    pub name: String,
    pub entries: String,
    pub source: String,
    pub loaded: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct Page {
    chrome: Chrome,
    tr: Tr,
    store: String,
    zone: String,
    settings: Vec<(String, String)>,
    lists: Vec<List>,
    sources: Vec<String>,
}

pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Response {
    if viewer.role < Role::Admin {
        return (
            StatusCode::FORBIDDEN,
            "forbidden: the settings are for admins",
        )
            .into_response();
    }
    let tr = Tr::new(&viewer, &state);
    let site = &state.site;
    render(&Page {
        store: shown(&state.options.store.display().to_string(), 1000),
        zone: shown(site.zone.name(), 100),
        settings: site
            .settings
            .iter()
            .map(|(k, v)| (shown(k, 300), shown(v, 2000)))
            .collect(),
        lists: site
            .lists
            .iter()
            .map(|l| List {
                name: shown(&l.name, 200),
                entries: tr.num(&l.entries),
                source: shown(&l.source, 1000),
                loaded: l.loaded_at.map(|t| tr.time(&t)).unwrap_or_default(),
            })
            .collect(),
        sources: site.sources.iter().map(|s| shown(s, 1000)).collect(),
        chrome: Chrome::new(&viewer),
        tr,
    })
}
