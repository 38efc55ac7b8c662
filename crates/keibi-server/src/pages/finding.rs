//! `/findings/{id}`: one finding — its explanation and remediation, counts and
//! times, the evidence, the workflow history, the response actions and the
//! workflow forms.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use keibi_model::finding::Evidence;
use keibi_respond::{Action, Mode, State as ActionState};
use keibi_store::{FindingStore, HistoryEntry, StoredFinding};
use serde::Deserialize;

use super::{
    actor_link, band_class, query, render, seg, shown, store_error, timeline, user_link, Chrome, Tr,
};
use crate::auth::Viewer;
use crate::AppState;

/// Longest explanation or remediation shown, in characters.
const MAX_TEXT: usize = 20_000;

pub struct Link {
    pub text: String,
    pub href: String,
}

pub struct Hist {
    pub at: String,
    pub what: String,
    pub count: String,
    pub by: String,
    pub note: String,
}

pub struct Act {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub mode: String,
    pub state: String,
    pub rule: String,
    pub reason: String,
    pub updated: String,
    pub can_approve: bool,
    pub can_cancel: bool,
    pub post: String,
}

#[derive(Template)]
#[template(path = "finding.html")]
struct Page {
    chrome: Chrome,
    tr: Tr,
    id: String,
    post_status: String,
    post_note: String,
    suppress_href: String,
    title: String,
    band: &'static str,
    band_word: String,
    severity: String,
    finding_type: String,
    status: String,
    status_line: Option<String>,
    description: String,
    remediation: String,
    mitre: String,
    resource: String,
    resource_href: String,
    account: String,
    region: String,
    ips: Vec<Link>,
    users: Vec<Link>,
    app: String,
    count: String,
    first_seen: String,
    last_seen: String,
    detector: String,
    evidence: Vec<String>,
    history: Vec<Hist>,
    actions: Vec<Act>,
    timeline: timeline::View,
    open: bool,
}

#[derive(Deserialize, Default)]
pub struct Params {
    #[serde(default)]
    done: Option<String>,
}

pub fn evidence_line(e: &Evidence) -> String {
    match e {
        Evidence::Line { source, line } => format!("{}:{line}", shown(source, 1000)),
        Evidence::Event { source, event_id } => {
            format!("{} eventID {}", shown(source, 1000), shown(event_id, 200))
        }
        Evidence::Observed { source, observed } => {
            format!("{}: {}", shown(source, 1000), shown(observed, 2000))
        }
    }
}

fn hist(h: &HistoryEntry, tr: &Tr) -> Hist {
    let key = format!("dash-hist-{}", h.what);
    let word = tr.t(&key);
    Hist {
        at: tr.time(&h.at),
        // An entry of a kind this page does not know is shown as stored.
        what: if word == key {
            shown(&h.what, 100)
        } else {
            word
        },
        count: tr.num(&h.count),
        by: h.by.as_deref().map(|b| shown(b, 200)).unwrap_or_default(),
        note: h
            .note
            .as_deref()
            .map(|n| shown(n, 4096))
            .unwrap_or_default(),
    }
}

fn act(a: &Action, tr: &Tr) -> Act {
    Act {
        id: shown(&a.id, 64),
        kind: tr.t(&format!("act-kind-{}", a.target.kind().as_str())),
        target: shown(&a.target.key(), 500),
        mode: tr.t(&format!("act-mode-{}", a.mode.as_str())),
        state: tr.t(&format!("act-state-{}", a.state.as_str())),
        rule: shown(&a.rule, 200),
        reason: a
            .reason
            .as_deref()
            .map(|r| shown(r, 1000))
            .unwrap_or_default(),
        updated: tr.time(&a.updated_at),
        can_approve: a.state == ActionState::Planned && a.mode == Mode::Approve,
        can_cancel: matches!(a.state, ActionState::Planned | ActionState::Approved),
        post: format!("/actions/{}/decide", seg(&a.id)),
    }
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    let tr = Tr::new(&viewer, &state);
    let loaded = state
        .db
        .run(move |s| {
            let f: StoredFinding = s.finding_by_id(&id)?;
            let h = s.history(&f.finding.id)?;
            let a = s.actions_of_finding(&f.finding.id)?;
            // Everything the finding's addresses, users and principals did from
            // 3 hours before its first event to 3 hours after its last.
            let (since, until) = keibi_store::around(f.finding.first_seen, f.finding.last_seen, 3);
            let actor = &f.finding.actor;
            let ips: Vec<_> = actor.ip.iter().chain(&actor.ips).copied().collect();
            let users: Vec<String> = actor.user.iter().chain(&actor.users).cloned().collect();
            let tl = match timeline::query(&ips, &users, since, until) {
                Some(q) => Some(s.timeline(&q)?),
                None => None,
            };
            Ok((f, h, a, (tl, since, until)))
        })
        .await;
    let (sf, history, actions, (tl, since, until)) = match loaded {
        Ok(v) => v,
        Err(e) => return store_error(e),
    };
    let f = &sf.finding;
    let (title, description, remediation) = match &f.text {
        Some(t) if !tr.loc.is_contract() => {
            let (ti, d, r) = tr.loc.finding(t);
            (ti.unwrap_or(f.title.clone()), d, r)
        }
        _ => (
            f.title.clone(),
            f.description.clone(),
            f.remediation.clone(),
        ),
    };
    let ips: Vec<Link> = f
        .actor
        .ip
        .iter()
        .chain(f.actor.ips.iter().filter(|ip| Some(**ip) != f.actor.ip))
        .map(|ip| {
            let s = ip.to_string();
            Link {
                href: actor_link("ip", &s),
                text: s,
            }
        })
        .collect();
    let users: Vec<Link> = f
        .actor
        .user
        .iter()
        .chain(
            f.actor
                .users
                .iter()
                .filter(|u| Some(*u) != f.actor.user.as_ref()),
        )
        .map(|u| Link {
            text: shown(u, 300),
            href: user_link(u),
        })
        .collect();
    let status_line = sf.status_at.map(|at| {
        let mut line = tr.msg(
            &keibi_i18n::Msg::new("dash-status-by")
                .arg(
                    "by",
                    sf.status_by
                        .as_deref()
                        .map(|b| shown(b, 200))
                        .unwrap_or_default(),
                )
                .arg("at", tr.time(&at)),
        );
        if let Some(n) = sf.status_note.as_deref().filter(|n| !n.is_empty()) {
            line.push_str(&tr.s("dash-status-note", &shown(n, 4096)));
        }
        line
    });
    let href = format!("/findings/{}", seg(&f.id));
    let chrome = Chrome::new(&viewer).with_flash(p.done.as_deref(), &tr);
    render(&Page {
        id: f.id.clone(),
        post_status: format!("{href}/status"),
        post_note: format!("{href}/note"),
        suppress_href: format!("/suppressions{}", query(&[("from", &f.id)])),
        title: shown(&title, 1000),
        band: band_class(f.severity),
        band_word: tr.band(&f.severity),
        severity: format!("{:.1}", f.severity.value()),
        finding_type: shown(&f.finding_type, 200),
        status: tr.status(sf.status.as_str()),
        status_line,
        description: shown(&description, MAX_TEXT),
        remediation: shown(&remediation, MAX_TEXT),
        mitre: shown(&f.mitre.join(", "), 500),
        resource: shown(&f.resource.id, 500),
        resource_href: format!("/findings{}", query(&[("resource", &f.resource.id)])),
        account: f
            .resource
            .account
            .as_deref()
            .map(|a| shown(a, 64))
            .unwrap_or_default(),
        region: f
            .resource
            .region
            .as_deref()
            .map(|a| shown(a, 64))
            .unwrap_or_default(),
        ips,
        users,
        app: f
            .actor
            .app
            .as_deref()
            .map(|a| shown(a, 500))
            .unwrap_or_default(),
        count: tr.num(&f.count),
        first_seen: tr.time(&f.first_seen),
        last_seen: tr.time(&f.last_seen),
        detector: shown(&f.detector, 100),
        evidence: f.evidence.iter().take(50).map(evidence_line).collect(),
        history: history
            .iter()
            .rev()
            .take(200)
            .map(|h| hist(h, &tr))
            .collect(),
        actions: actions.iter().take(100).map(|a| act(a, &tr)).collect(),
        timeline: timeline::view(tl.as_ref(), since, until, &tr),
        open: matches!(
            sf.status,
            keibi_store::Status::New | keibi_store::Status::Acknowledged
        ),
        chrome,
        tr,
    })
}
