//! `/actors/ip/{addr}`, `/actors/user/{name}`, `/actors/principal/{arn}`: every
//! finding of one address, database user or IAM principal; the address's
//! reputation; the user's or principal's profile from the stored baselines.

use std::net::IpAddr;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use keibi_store::{FindingFilter, ProfileRow, Sort};
use serde_json::Value;

use super::{query, render, shown, store_error, timeline, Chrome, Row, RowHeads, Tr};
use crate::auth::Viewer;
use crate::AppState;

/// Findings listed on an actor's page (the rest through the findings page).
const MAX_ROWS: u32 = 100;
/// The hours of the actor's timeline, back from now.
const TIMELINE_HOURS: i64 = 24;
/// Values of one factor shown.
const MAX_VALUES: usize = 20;

/// One profile, in words.
pub struct Profile {
    pub title: String,
    pub lines: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "actor.html")]
struct Page {
    chrome: Chrome,
    tr: Tr,
    heading: String,
    name: String,
    heads: RowHeads,
    rows: Vec<Row>,
    count_line: String,
    all_href: String,
    is_ip: bool,
    reputation: Vec<String>,
    reputation_note: String,
    profiles: Vec<Profile>,
    timeline: timeline::View,
}

pub async fn ip(state: State<AppState>, viewer: Viewer, Path(addr): Path<String>) -> Response {
    let Ok(ip) = addr.trim().parse::<IpAddr>() else {
        return (StatusCode::BAD_REQUEST, "not an IP address").into_response();
    };
    actor(state, viewer, Kind::Ip(ip)).await
}

pub async fn user(state: State<AppState>, viewer: Viewer, Path(name): Path<String>) -> Response {
    actor(state, viewer, Kind::User(name, false)).await
}

pub async fn principal(
    state: State<AppState>,
    viewer: Viewer,
    Path(arn): Path<String>,
) -> Response {
    actor(state, viewer, Kind::User(arn, true)).await
}

enum Kind {
    Ip(IpAddr),
    /// A name, and whether it is an IAM principal.
    User(String, bool),
}

/// Finding types that say an address is on a list (GuardDuty's names, which
/// keibi's detectors use for the Tor exit list and threat lists).
const LISTED_TYPES: &[(&str, &str)] = &[
    ("TorIPCaller", "dash-rep-tor"),
    ("MaliciousIPCaller", "dash-rep-threat"),
];

async fn actor(State(state): State<AppState>, viewer: Viewer, kind: Kind) -> Response {
    let tr = Tr::new(&viewer, &state);
    if let Kind::User(n, _) = &kind {
        if n.is_empty() || n.len() > 4096 {
            return (StatusCode::BAD_REQUEST, "not a user name").into_response();
        }
    }
    let filter = FindingFilter {
        ip: match &kind {
            Kind::Ip(ip) => Some(ip.to_string()),
            _ => None,
        },
        user: match &kind {
            Kind::User(u, _) => Some(u.clone()),
            _ => None,
        },
        sort: Sort::LastSeen,
        limit: MAX_ROWS,
        ..FindingFilter::default()
    };
    let f = filter.clone();
    let profile_of = match &kind {
        Kind::User(u, _) => Some(u.clone()),
        Kind::Ip(_) => None,
    };
    // The timeline: the last 24 hours.
    let until = chrono::Utc::now();
    let since = until - chrono::Duration::hours(TIMELINE_HOURS);
    let tq = match &kind {
        Kind::Ip(ip) => timeline::query(&[*ip], &[], since, until),
        Kind::User(u, _) => timeline::query(&[], std::slice::from_ref(u), since, until),
    };
    let (page, profiles, tl) = match state
        .db
        .run(move |s| {
            let page = s.dashboard_findings(&f)?;
            let profiles = match profile_of {
                Some(u) => s.profiles_of_user(&u, 20)?,
                None => Vec::new(),
            };
            let tl = match tq {
                Some(q) => Some(s.timeline(&q)?),
                None => None,
            };
            Ok((page, profiles, tl))
        })
        .await
    {
        Ok(v) => v,
        Err(e) => return store_error(e),
    };
    let (heading, name, all_href) = match &kind {
        Kind::Ip(ip) => (
            tr.t("dash-actor-ip"),
            ip.to_string(),
            format!("/findings{}", query(&[("ip", &ip.to_string())])),
        ),
        Kind::User(u, principal) => (
            tr.t(if *principal {
                "dash-actor-principal"
            } else {
                "dash-actor-user"
            }),
            shown(u, 1000),
            format!("/findings{}", query(&[("user", u)])),
        ),
    };
    let mut reputation = Vec::new();
    let mut reputation_note = String::new();
    if let Kind::Ip(ip) = &kind {
        match &state.site.reputation {
            Some(r) => {
                reputation = r.lists_of(*ip).iter().map(|l| shown(l, 200)).collect();
                reputation_note = tr.t("dash-rep-daemon");
            }
            None => {
                for (ty, msg) in LISTED_TYPES {
                    if page.rows.iter().any(|r| r.finding_type.contains(ty)) {
                        reputation.push(tr.t(msg));
                    }
                }
                reputation_note = tr.t("dash-rep-store-only");
            }
        }
    }
    let offset = state.site.zone.whole_hours_offset(chrono::Utc::now());
    render(&Page {
        heading,
        name,
        heads: RowHeads::new(&tr),
        rows: page.rows.iter().map(|r| Row::of(r, &tr)).collect(),
        count_line: tr.n("dash-actor-count", &page.total),
        all_href,
        is_ip: matches!(kind, Kind::Ip(_)),
        reputation,
        reputation_note,
        profiles: profiles.iter().map(|p| profile(p, &tr, offset)).collect(),
        timeline: timeline::view(tl.as_ref(), since, until, &tr),
        chrome: Chrome::new(&viewer),
        tr,
    })
}

/// A stored network (`{"V4":[10,0,1]}`) in words.
fn net(v: &Value, tr: &Tr) -> String {
    let parts = |a: &Value| -> Vec<u64> {
        a.as_array()
            .map(|x| x.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    };
    if v.as_str() == Some("Local") {
        return tr.t("dash-net-local");
    }
    if let Some(a) = v.get("V4") {
        let p = parts(a);
        if p.len() == 3 {
            return format!("{}.{}.{}.0/24", p[0], p[1], p[2]);
        }
    }
    if let Some(a) = v.get("V6") {
        let p = parts(a);
        if p.len() == 3 {
            return format!("{:x}:{:x}:{:x}::/48", p[0], p[1], p[2]);
        }
    }
    shown(&v.to_string(), 100)
}

/// The values of a stored set (`{"items":[{"v":..,"n":..}]}`), most used first.
fn values(v: &Value, f: &dyn Fn(&Value) -> String) -> Option<String> {
    let items = v.get("items")?.as_array()?;
    let mut list: Vec<(u64, String)> = items
        .iter()
        .filter_map(|i| {
            Some((
                i.get("n").and_then(Value::as_u64).unwrap_or(0),
                f(i.get("v")?),
            ))
        })
        .collect();
    if list.is_empty() {
        return None;
    }
    list.sort_by_key(|x| std::cmp::Reverse(x.0));
    let more = list.len().saturating_sub(MAX_VALUES);
    let mut out: Vec<String> = list.into_iter().take(MAX_VALUES).map(|(_, s)| s).collect();
    if more > 0 {
        out.push(format!("+{more}"));
    }
    Some(out.join(", "))
}

fn text(v: &Value) -> String {
    match v.as_str() {
        Some(s) => shown(s, 200),
        None => shown(&v.to_string(), 200),
    }
}

fn profile(p: &ProfileRow, tr: &Tr, offset_hours: i32) -> Profile {
    let title = match p.key.first().map(String::as_str) {
        Some("login") => tr.s(
            "dash-profile-login",
            &shown(p.key.get(1).map(String::as_str).unwrap_or(""), 300),
        ),
        _ => tr.t("dash-profile-principal"),
    };
    let v = &p.value;
    let mut lines = Vec::new();
    if let Some(s) = v.get("nets").and_then(|n| values(n, &|x| net(x, tr))) {
        lines.push((tr.t("dash-profile-nets"), s));
    }
    for (field, label) in [
        ("apps", "dash-profile-apps"),
        ("agents", "dash-profile-apps"),
        ("countries", "dash-profile-countries"),
        ("regions", "dash-profile-regions"),
        ("calls", "dash-profile-calls"),
    ] {
        if let Some(s) = v.get(field).and_then(|n| values(n, &text)) {
            lines.push((tr.t(label), s));
        }
    }
    if let Some(n) = v
        .get("hours")
        .and_then(|h| h.get("n"))
        .and_then(Value::as_array)
    {
        let mut hours: Vec<String> = n
            .iter()
            .enumerate()
            .filter(|(_, c)| c.as_u64().unwrap_or(0) > 0)
            .map(|(h, _)| format!("{:02}", (h as i32 + offset_hours).rem_euclid(24)))
            .collect();
        hours.sort();
        if !hours.is_empty() {
            lines.push((tr.t("dash-profile-hours"), hours.join(" ")));
        }
    }
    if let Some(n) = v
        .get("act")
        .and_then(|a| a.get("n"))
        .and_then(Value::as_u64)
    {
        lines.push((tr.t("dash-profile-events"), tr.num(&n)));
    }
    Profile { title, lines }
}
