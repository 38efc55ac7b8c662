//! `/`: what is going on, at a glance: open findings by severity, the findings
//! over the last 30 days (an inline SVG chart drawn here), the addresses, users
//! and resources in the most open findings, the posture audit's findings, and how
//! each source is being read.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::Utc;
use keibi_store::Overview;
use serde::Deserialize;
use std::sync::Mutex;

use super::{actor_link, query, render, shown, store_error, user_link, Chrome, Tr};
use crate::auth::Viewer;
use crate::AppState;

/// Days in the chart.
const DAYS: u32 = 30;
/// Entries in each top list.
const TOP: u32 = 10;

const BANDS: [&str; 4] = ["low", "medium", "high", "critical"];

pub struct Band {
    pub class: &'static str,
    pub word: String,
    pub count: String,
    pub href: String,
}

/// One stacked part of a bar (SVG coordinates, already computed).
pub struct Part {
    pub class: &'static str,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub label: String,
}

pub struct Top {
    pub name: String,
    pub href: String,
    pub count: String,
}

pub struct Source {
    pub name: String,
    pub position: String,
    pub at: String,
    pub lag: String,
    pub stale: bool,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct Page {
    chrome: Chrome,
    tr: Tr,
    bands: Vec<Band>,
    chart_label: String,
    parts: Vec<Part>,
    ticks: Vec<(u32, String)>,
    chart_max: String,
    top_ips: Vec<Top>,
    top_users: Vec<Top>,
    top_resources: Vec<Top>,
    posture: Option<String>,
    /// The newest scheduled audit's pass rate over every check it evaluated.
    posture_rate: Option<String>,
    sources: Vec<Source>,
}

#[derive(Deserialize, Default)]
pub struct Params {
    #[serde(default)]
    done: Option<String>,
}

/// What an overview was computed for: the same store, zone offset and minute,
/// and no finding changed since (the newest change is the same).
#[derive(PartialEq, Eq)]
struct Key {
    store: std::path::PathBuf,
    offset: i32,
    minute: i64,
    mark: i64,
}

/// The last overview computed. Its aggregates read every open finding (a few
/// hundred milliseconds with 100,000), so reloads and several people on the
/// overview share one computation while nothing changes; at most a minute old
/// (findings deleted by retention change no mark). The sources are read fresh.
static LAST: Mutex<Option<(Key, Overview)>> = Mutex::new(None);

fn cached(key: &Key) -> Option<Overview> {
    let last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    match &*last {
        Some((k, o)) if k == key => Some(o.clone()),
        _ => None,
    }
}

fn keep(key: Key, o: &Overview) {
    *LAST.lock().unwrap_or_else(|p| p.into_inner()) = Some((key, o.clone()));
}

/// Chart geometry.
const W: u32 = 720;
const H: u32 = 180;
const BAR: u32 = W / DAYS;

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<Params>,
) -> Response {
    let tr = Tr::new(&viewer, &state);
    let now = Utc::now();
    let offset = state.site.zone.whole_hours_offset(now) * 3600;
    let path = state.options.store.clone();
    let (o, changes) = match state
        .db
        .run(move |s| {
            let changes = s.changes_since(i64::MAX)?;
            let key = Key {
                store: path,
                offset,
                minute: now.timestamp().div_euclid(60),
                mark: changes.mark,
            };
            let o = match cached(&key) {
                Some(mut o) => {
                    o.sources = s.sources_health()?;
                    o.posture_round = s.last_posture_round()?;
                    o
                }
                None => {
                    let o = s.overview(now, DAYS, offset, TOP)?;
                    keep(key, &o);
                    o
                }
            };
            Ok((o, changes))
        })
        .await
    {
        Ok(v) => v,
        Err(e) => return store_error(e),
    };
    let bands = (0..4)
        .rev()
        .map(|i| Band {
            class: BANDS[i],
            word: tr.t(&format!("dash-sev-{}", BANDS[i])),
            count: tr.num(&o.open_by_band[i]),
            href: format!(
                "/findings{}",
                query(&[("status", "open"), ("severity", BANDS[i])])
            ),
        })
        .collect();
    let max = o
        .per_day
        .iter()
        .map(|d| d.by_band.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut parts = Vec::new();
    let mut ticks = Vec::new();
    for (i, d) in o.per_day.iter().enumerate() {
        let x = i as u32 * BAR;
        let mut y = H;
        // Noon of the zone's day, named in the zone.
        let noon = chrono::DateTime::from_timestamp(d.day * 86_400 - i64::from(offset) + 43_200, 0)
            .unwrap_or(now);
        let label_day = state.site.zone.format(noon, "%m-%d");
        if i % 5 == 0 || i + 1 == o.per_day.len() {
            ticks.push((x + BAR / 2, label_day.clone()));
        }
        for (b, &n) in d.by_band.iter().enumerate() {
            if n == 0 {
                continue;
            }
            // At least one pixel for any count, so a single finding is visible.
            let h = ((n as f64 / max as f64) * f64::from(H - 4))
                .round()
                .max(1.0) as u32;
            y = y.saturating_sub(h);
            parts.push(Part {
                class: BANDS[b],
                x: x + 1,
                y,
                w: BAR.saturating_sub(2),
                h,
                label: format!(
                    "{} {}: {}",
                    label_day,
                    tr.t(&format!("dash-sev-{}", BANDS[b])),
                    tr.num(&n)
                ),
            });
        }
    }
    let top = |list: &[(String, u64)], link: &dyn Fn(&str) -> String| -> Vec<Top> {
        list.iter()
            .map(|(n, c)| Top {
                name: shown(n, 200),
                href: link(n),
                count: tr.num(c),
            })
            .collect()
    };
    let posture = if o.posture.is_empty() {
        None
    } else {
        let open: u64 = o
            .posture
            .iter()
            .filter(|(s, _)| {
                matches!(
                    s,
                    keibi_store::Status::New | keibi_store::Status::Acknowledged
                )
            })
            .map(|(_, n)| n)
            .sum();
        let resolved: u64 = o
            .posture
            .iter()
            .filter(|(s, _)| *s == keibi_store::Status::Resolved)
            .map(|(_, n)| n)
            .sum();
        let all = open + resolved;
        let rate = (resolved * 100).checked_div(all).unwrap_or(100);
        Some(
            tr.msg(
                &keibi_i18n::Msg::new("dash-posture-line")
                    .arg("failing", keibi_i18n::Arg::Count(open))
                    .arg("passing", keibi_i18n::Arg::Count(resolved))
                    .arg("rate", rate.to_string()),
            ),
        )
    };
    let posture_rate = o.posture_round.and_then(|r| {
        let rate = r.pass_rate()?;
        Some(
            tr.msg(
                &keibi_i18n::Msg::new("dash-posture-rate")
                    .arg("at", tr.time(&r.at))
                    .arg("passed", keibi_i18n::Arg::Count(r.passed))
                    .arg("checks", keibi_i18n::Arg::Count(r.passed + r.failed))
                    .arg("rate", format!("{rate:.0}"))
                    .arg("suppressed", keibi_i18n::Arg::Count(r.suppressed)),
            ),
        )
    });
    let sources = o
        .sources
        .iter()
        .map(|s| {
            let lag = now - s.updated_at;
            Source {
                name: shown(&s.source, 300),
                position: tr.num(&s.position),
                at: tr.time(&s.updated_at),
                lag: tr.loc.span(s.updated_at, now),
                stale: lag > chrono::Duration::hours(1),
            }
        })
        .collect();
    let mut chrome = Chrome::new(&viewer).with_flash(p.done.as_deref(), &tr);
    chrome.mark = Some(changes.mark);
    render(&Page {
        chart_label: tr.t("dash-chart-label"),
        chart_max: tr.num(&max),
        bands,
        parts,
        ticks,
        top_ips: top(&o.top_ips, &|n| actor_link("ip", n)),
        top_users: top(&o.top_users, &|n| user_link(n)),
        top_resources: top(&o.top_resources, &|n| {
            format!("/findings{}", query(&[("resource", n)]))
        }),
        posture,
        posture_rate,
        sources,
        chrome,
        tr,
    })
}
