//! The workflow's changes (POST): acknowledge, resolve, reopen, note, and a
//! decision on a response action. Each checks the person's role and the form's
//! CSRF token first ([`Viewer::check`]), makes the store's change exactly as the
//! CLI does (`keibi findings ack|resolve|reopen`, `keibi actions approve|cancel`)
//! with the person's name as `by`, and sends the browser back with a message
//! (303).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use keibi_respond::{Mode, State as ActionState};
use keibi_store::{Change, FindingStore, StatusChange, Transition};
use serde::Deserialize;

use super::{seg, store_error};
use crate::auth::{Role, Viewer};
use crate::AppState;

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    to: String,
}

fn note_of(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn back(id: &str, done: &str) -> Response {
    Redirect::to(&format!("/findings/{}?done={done}", seg(id))).into_response()
}

fn bad(what: &'static str) -> Response {
    (StatusCode::BAD_REQUEST, what).into_response()
}

pub async fn status(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Response {
    if let Err(r) = viewer.check(Role::Responder, &form.csrf) {
        return r.into_response();
    }
    let (transition, done) = match form.to.as_str() {
        "acknowledge" => (Transition::Acknowledge, "acknowledged"),
        "resolve" => (Transition::Resolve, "resolved"),
        "reopen" => (Transition::Reopen, "reopened"),
        _ => return bad("unknown change: expected acknowledge, resolve or reopen"),
    };
    let change = StatusChange {
        transition,
        at: Utc::now(),
        by: Some(viewer.name.clone()),
        note: note_of(&form.note),
    };
    match state
        .db
        .run(move |s| s.set_status(&id, &change).map(|f| f.finding.id))
        .await
    {
        Ok(id) => back(&id, done),
        Err(e) => store_error(e),
    }
}

pub async fn note(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Response {
    if let Err(r) = viewer.check(Role::Responder, &form.csrf) {
        return r.into_response();
    }
    let Some(note) = note_of(&form.note) else {
        return bad("the note is empty");
    };
    let by = viewer.name.clone();
    match state
        .db
        .run(move |s| s.add_note(&id, &by, &note, Utc::now()))
        .await
    {
        Ok(id) => back(&id, "noted"),
        Err(e) => store_error(e),
    }
}

/// What became of a decision.
enum Decided {
    Done(String, &'static str),
    Moved(String),
    Refused,
    Missing,
}

pub async fn action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Err(r) = viewer.check(Role::Responder, &form.csrf) {
        return r.into_response();
    }
    let approve = match form.to.as_str() {
        "approve" => true,
        "cancel" => false,
        _ => return bad("unknown decision: expected approve or cancel"),
    };
    let by = viewer.name.clone();
    let decided = state
        .db
        .run(move |s| {
            let Some(rec) = s.action(&id)? else {
                return Ok(Decided::Missing);
            };
            let a = rec.action;
            // The CLI's rules: only an action waiting for approval is approved;
            // only one not yet executing is cancelled.
            let (ok, to, detail, done) = if approve {
                (
                    a.state == ActionState::Planned && a.mode == Mode::Approve,
                    ActionState::Approved,
                    "approved in the dashboard",
                    "approved",
                )
            } else {
                (
                    matches!(a.state, ActionState::Planned | ActionState::Approved),
                    ActionState::Cancelled,
                    "cancelled in the dashboard",
                    "cancelled",
                )
            };
            if !ok {
                return Ok(Decided::Refused);
            }
            let change = Change {
                by,
                detail: Some(detail.to_string()),
                ..Change::default()
            };
            if s.transition(&a.id, a.state, to, &change, Utc::now())? {
                Ok(Decided::Done(a.finding_id, done))
            } else {
                Ok(Decided::Moved(a.finding_id))
            }
        })
        .await;
    match decided {
        Ok(Decided::Done(fid, done)) => back(&fid, done),
        Ok(Decided::Moved(fid)) => back(&fid, "moved"),
        Ok(Decided::Refused) => (
            StatusCode::CONFLICT,
            "this action cannot take that decision in its state",
        )
            .into_response(),
        Ok(Decided::Missing) => (StatusCode::NOT_FOUND, "no such action").into_response(),
        Err(e) => store_error(e),
    }
}
