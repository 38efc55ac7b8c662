//! `/suppressions`: the rules, a rule builder (filled from a finding with
//! `?from=ID`), creating one (POST, as `keibi findings suppress`) and deleting one
//! (the findings it held are open again).

use std::net::IpAddr;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{Duration, Utc};
use keibi_store::{FindingStore, IpNet, Suppression};
use serde::Deserialize;

use super::{has_unsafe, render, seg, shown, store_error, Chrome, Tr};
use crate::auth::{Role, Viewer};
use crate::AppState;

pub struct Rule {
    pub id: i64,
    pub finding_type: String,
    pub resource: String,
    pub network: String,
    pub user: String,
    pub expires: String,
    pub active: bool,
    pub reason: String,
    pub by: String,
    pub created: String,
    pub delete: String,
}

/// One field of the builder, filled from a finding.
#[derive(Default)]
pub struct Field {
    /// The exact value (the rule must match the finding byte for byte).
    pub value: String,
    /// The value holds characters that would show as something else (bidi
    /// overrides, controls, invisible ones): it is sent as it is in a hidden
    /// field and shown with those characters as escapes, never in an editable box
    /// where it would read as another name.
    pub fixed: bool,
    pub shown: String,
}

impl Field {
    fn of(v: String) -> Field {
        Field {
            fixed: has_unsafe(&v),
            shown: shown(&v, 500),
            value: v,
        }
    }
}

/// The builder's fields.
#[derive(Default)]
pub struct Draft {
    pub from: String,
    pub finding_type: Field,
    pub resource: Field,
    pub network: String,
    pub user: Field,
}

#[derive(Template)]
#[template(path = "suppressions.html")]
struct Page {
    chrome: Chrome,
    tr: Tr,
    rules: Vec<Rule>,
    draft: Draft,
    /// The finding the builder was filled from: its title and link.
    from_title: Option<(String, String)>,
}

#[derive(Deserialize, Default)]
pub struct Params {
    #[serde(default)]
    from: String,
    #[serde(default)]
    done: Option<String>,
}

/// An address as the network a rule names: the host (`/32`, `/128`).
fn host_net(ip: IpAddr) -> String {
    IpNet::from(ip).to_string()
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<Params>,
) -> Response {
    let tr = Tr::new(&viewer, &state);
    let from = p.from.trim().to_string();
    let loaded = state
        .db
        .run(move |s| {
            let rules = s.suppressions()?;
            let f = if from.is_empty() {
                None
            } else {
                Some(s.finding_by_id(&from)?)
            };
            Ok((rules, f))
        })
        .await;
    let (rules, from) = match loaded {
        Ok(v) => v,
        Err(e) => return store_error(e),
    };
    let now = Utc::now();
    let draft = match &from {
        Some(sf) => {
            let f = &sf.finding;
            Draft {
                from: f.id.clone(),
                finding_type: Field::of(f.finding_type.clone()),
                resource: Field::of(f.resource.id.clone()),
                // A single address; a finding of many addresses is left for the
                // person to widen (a rule matches only when all are inside).
                network: match (f.actor.ip, f.actor.ips.len()) {
                    (Some(ip), 0 | 1) => host_net(ip),
                    _ => String::new(),
                },
                user: Field::of(match (&f.actor.user, f.actor.users.len()) {
                    (Some(u), 0 | 1) => u.clone(),
                    _ => String::new(),
                }),
            }
        }
        None => Draft::default(),
    };
    let rules = rules
        .iter()
        .rev()
        .take(1000)
        .map(|r| Rule {
            id: r.id,
            finding_type: r
                .finding_type
                .as_deref()
                .map(|v| shown(v, 200))
                .unwrap_or_default(),
            resource: r
                .resource
                .as_deref()
                .map(|v| shown(v, 500))
                .unwrap_or_default(),
            network: r.network.map(|n| n.to_string()).unwrap_or_default(),
            user: r.user.as_deref().map(|v| shown(v, 500)).unwrap_or_default(),
            expires: match r.expires_at {
                Some(t) => tr.time(&t),
                None => tr.t("dash-never"),
            },
            active: r.expires_at.is_none_or(|t| t > now),
            reason: r
                .reason
                .as_deref()
                .map(|v| shown(v, 2000))
                .unwrap_or_default(),
            by: r
                .created_by
                .as_deref()
                .map(|v| shown(v, 200))
                .unwrap_or_default(),
            created: tr.time(&r.created_at),
            delete: format!("/suppressions/{}/delete", r.id),
        })
        .collect();
    render(&Page {
        chrome: Chrome::new(&viewer).with_flash(p.done.as_deref(), &tr),
        from_title: from.as_ref().map(|f| {
            (
                shown(&f.finding.title, 300),
                format!("/findings/{}", seg(&f.finding.id)),
            )
        }),
        rules,
        draft: Draft {
            from: shown(&draft.from, 64),
            finding_type: draft.finding_type,
            resource: draft.resource,
            network: draft.network,
            user: draft.user,
        },
        tr,
    })
}

#[derive(Deserialize)]
pub struct NewRule {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "type")]
    finding_type: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    network: String,
    #[serde(default)]
    user: String,
    /// `1d`, `7d`, `30d`, `90d`, or empty for never.
    #[serde(default)]
    expires: String,
    #[serde(default)]
    reason: String,
    /// The finding the builder was filled from: the browser goes back to it.
    #[serde(default)]
    from: String,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn bad(what: &'static str) -> Response {
    (StatusCode::BAD_REQUEST, what).into_response()
}

pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<NewRule>,
) -> Response {
    if let Err(r) = viewer.check(Role::Responder, &form.csrf) {
        return r.into_response();
    }
    let network = match opt(&form.network) {
        None => None,
        Some(n) => match n.parse::<IpNet>() {
            Ok(net) => Some(net.trunc()),
            Err(_) => match n.parse::<IpAddr>() {
                Ok(ip) => Some(IpNet::from(ip)),
                Err(_) => return bad("the network is not an address or a range (10.0.0.0/24)"),
            },
        },
    };
    let now = Utc::now();
    let expires_at = match form.expires.trim() {
        "" | "never" => None,
        e => match e
            .strip_suffix('d')
            .and_then(|d| d.parse::<i64>().ok())
            .filter(|d| (1..=3650).contains(d))
        {
            Some(d) => Some(now + Duration::days(d)),
            None => return bad("the expiry is not a number of days (7d)"),
        },
    };
    let rule = Suppression {
        id: 0,
        finding_type: opt(&form.finding_type),
        resource: opt(&form.resource),
        network,
        user: opt(&form.user),
        expires_at,
        reason: opt(&form.reason),
        created_by: Some(viewer.name.clone()),
        created_at: now,
    };
    let from = form.from.trim().to_string();
    match state.db.run(move |s| s.suppress(&rule)).await {
        Ok(_) if !from.is_empty() => {
            Redirect::to(&format!("/findings/{}?done=suppressed", seg(&from))).into_response()
        }
        Ok(_) => Redirect::to("/suppressions?done=suppressed").into_response(),
        Err(e) => store_error(e),
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
}

pub async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Response {
    if let Err(r) = viewer.check(Role::Responder, &form.csrf) {
        return r.into_response();
    }
    let Ok(id) = id.parse::<i64>() else {
        return bad("not a rule number");
    };
    let by = viewer.name.clone();
    match state
        .db
        .run(move |s| s.delete_suppression(id, &by, Utc::now()))
        .await
    {
        Ok(Some(_)) => Redirect::to("/suppressions?done=unsuppressed").into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such rule").into_response(),
        Err(e) => store_error(e),
    }
}
