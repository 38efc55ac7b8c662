//! `/events?mark=N`: server-sent events telling an open page that findings
//! changed after it was rendered (`mark` is the page's `data-mark`). The store is
//! asked every 2 seconds; an event `changes` with the number of findings changed
//! since the mark is sent whenever that number moves. The page shows a notice
//! with a reload link; it never reloads by itself.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::Deserialize;

use crate::auth::Viewer;
use crate::AppState;

/// How often the store is asked.
pub const POLL: Duration = Duration::from_secs(2);

#[derive(Deserialize)]
pub struct Params {
    #[serde(default)]
    mark: i64,
}

pub async fn stream(
    State(state): State<AppState>,
    _viewer: Viewer,
    Query(p): Query<Params>,
) -> Response {
    Sse::new(changes(state, p.mark))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The events for a page rendered at `mark`. A store that cannot be read (busy)
/// sends nothing that round.
fn changes(state: AppState, mark: i64) -> impl Stream<Item = Result<Event, Infallible>> {
    // (state, the last number sent, whether this is the first round)
    stream::unfold(
        (state, 0u64, true),
        move |(state, sent, first)| async move {
            let mut sent = sent;
            let mut first = first;
            loop {
                if !first {
                    tokio::time::sleep(POLL).await;
                }
                first = false;
                let Ok(c) = state.db.run(move |s| s.changes_since(mark)).await else {
                    continue;
                };
                if c.changed != sent {
                    sent = c.changed;
                    let ev = Event::default()
                        .event("changes")
                        .data(c.changed.to_string());
                    return Some((Ok(ev), (state, sent, first)));
                }
            }
        },
    )
}
