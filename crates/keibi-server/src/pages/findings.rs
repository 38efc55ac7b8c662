//! `/findings`: the findings a filter selects (the filter is the URL's query, so
//! a filter is saved by saving the link), in the order asked, 50 to a page.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use keibi_model::finding::SeverityLabel;
use keibi_model::Severity;
use keibi_store::{FindingFilter, Sort, Status};
use serde::Deserialize;

use super::{query, render, store_error, Chrome, Row, RowHeads, Tr};
use crate::auth::Viewer;
use crate::AppState;

/// Rows on a page.
pub const PAGE: u32 = 50;

/// The filter as the URL carries it. Unknown or malformed values are ignored
/// (the form shows what was understood).
#[derive(Deserialize, Default, Clone)]
pub struct Params {
    #[serde(default, rename = "type")]
    pub finding_type: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub resource: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub ip: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub since: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub done: Option<String>,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.chars().take(1024).collect())
}

/// `critical`, `high`, `medium`, `low` or a number from 0 to 10.
pub fn severity_of(s: &str) -> Option<Severity> {
    let t = s.trim().to_ascii_lowercase();
    let label = match t.as_str() {
        "critical" => Some(SeverityLabel::Critical),
        "high" => Some(SeverityLabel::High),
        "medium" => Some(SeverityLabel::Medium),
        "low" => Some(SeverityLabel::Low),
        _ => None,
    };
    match label {
        Some(l) => Some(l.floor()),
        None => t
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && (0.0..=10.0).contains(v))
            .map(Severity::new),
    }
}

/// `open` (new or acknowledged) or one status; anything else: any.
pub fn statuses_of(s: &str) -> Vec<Status> {
    match s.trim() {
        "open" => vec![Status::New, Status::Acknowledged],
        t => t.parse::<Status>().map(|s| vec![s]).unwrap_or_default(),
    }
}

/// `1h`, `24h`, `7d`, `30d` before now, or a day (`2026-12-01`, its start in UTC).
pub fn since_of(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let t = s.trim();
    let n = |x: &str| x.parse::<i64>().ok().filter(|v| (1..=3650).contains(v));
    if let Some(h) = t.strip_suffix('h').and_then(n) {
        return Some(now - Duration::hours(h));
    }
    if let Some(d) = t.strip_suffix('d').and_then(n) {
        return Some(now - Duration::days(d));
    }
    day_of(t)
}

fn day_of(t: &str) -> Option<DateTime<Utc>> {
    NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

impl Params {
    pub fn filter(&self, now: DateTime<Utc>) -> FindingFilter {
        let page = self
            .page
            .trim()
            .parse::<u64>()
            .unwrap_or(1)
            .clamp(1, 1_000_000);
        FindingFilter {
            finding_type: opt(&self.finding_type),
            min_severity: severity_of(&self.severity),
            statuses: statuses_of(&self.status),
            resource: opt(&self.resource),
            account: opt(&self.account),
            ip: opt(&self.ip),
            user: opt(&self.user),
            since: since_of(&self.since, now),
            // The end of the day named (the whole day included).
            until: day_of(&self.until).map(|d| d + Duration::days(1)),
            sort: Sort::parse(&self.sort).unwrap_or_default(),
            offset: (page - 1) * u64::from(PAGE),
            limit: PAGE,
        }
    }

    /// The query string of this filter with `page` (1: left out).
    pub fn link(&self, page: u64) -> String {
        let p = page.to_string();
        format!(
            "/findings{}",
            query(&[
                ("type", self.finding_type.trim()),
                ("severity", self.severity.trim()),
                ("status", self.status.trim()),
                ("resource", self.resource.trim()),
                ("account", self.account.trim()),
                ("ip", self.ip.trim()),
                ("user", self.user.trim()),
                ("since", self.since.trim()),
                ("until", self.until.trim()),
                ("sort", self.sort.trim()),
                ("page", if page > 1 { &p } else { "" }),
            ])
        )
    }
}

/// One `<option>`.
pub struct Choice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

fn choices(tr: &Tr, current: &str, list: &[(&'static str, &str)]) -> Vec<Choice> {
    list.iter()
        .map(|(v, id)| Choice {
            value: v,
            label: tr.t(id),
            selected: current.trim() == *v,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "findings.html")]
struct Page {
    chrome: Chrome,
    tr: Tr,
    p: Params,
    severities: Vec<Choice>,
    statuses: Vec<Choice>,
    sorts: Vec<Choice>,
    windows: Vec<Choice>,
    heads: RowHeads,
    rows: Vec<Row>,
    showing: String,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<Params>,
) -> Response {
    let tr = Tr::new(&viewer, &state);
    let filter = p.filter(Utc::now());
    let f = filter.clone();
    let (found, changes) = match state
        .db
        .run(move |s| Ok((s.dashboard_findings(&f)?, s.changes_since(i64::MAX)?)))
        .await
    {
        Ok(v) => v,
        Err(e) => return store_error(e),
    };
    let page_no = filter.offset / u64::from(PAGE) + 1;
    let shown_to = filter.offset + found.rows.len() as u64;
    let showing = if found.total == 0 {
        tr.t("dash-no-findings")
    } else {
        tr.msg(
            &keibi_i18n::Msg::new("dash-showing")
                .arg("from", keibi_i18n::thousands(filter.offset + 1))
                .arg("to", keibi_i18n::thousands(shown_to))
                .arg("total", keibi_i18n::Arg::Count(found.total)),
        )
    };
    let mut chrome = Chrome::new(&viewer).with_flash(p.done.as_deref(), &tr);
    chrome.mark = Some(changes.mark);
    render(&Page {
        severities: choices(
            &tr,
            &p.severity,
            &[
                ("", "dash-any"),
                ("critical", "dash-sev-critical"),
                ("high", "dash-sev-high-up"),
                ("medium", "dash-sev-medium-up"),
                ("low", "dash-sev-low-up"),
            ],
        ),
        statuses: choices(
            &tr,
            &p.status,
            &[
                ("", "dash-any"),
                ("open", "dash-status-open"),
                ("new", "dash-status-new"),
                ("acknowledged", "dash-status-acknowledged"),
                ("resolved", "dash-status-resolved"),
                ("suppressed", "dash-status-suppressed"),
            ],
        ),
        sorts: choices(
            &tr,
            &p.sort,
            &[
                ("severity", "dash-sort-severity"),
                ("last_seen", "dash-sort-last-seen"),
                ("first_seen", "dash-sort-first-seen"),
                ("count", "dash-sort-count"),
            ],
        ),
        windows: choices(
            &tr,
            &p.since,
            &[
                ("", "dash-any"),
                ("1h", "dash-since-1h"),
                ("24h", "dash-since-24h"),
                ("7d", "dash-since-7d"),
                ("30d", "dash-since-30d"),
            ],
        ),
        heads: RowHeads::new(&tr),
        rows: found.rows.iter().map(|r| Row::of(r, &tr)).collect(),
        showing,
        prev: (page_no > 1).then(|| p.link(page_no - 1)),
        next: (shown_to < found.total).then(|| p.link(page_no + 1)),
        chrome,
        tr,
        p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_read_from_the_url() {
        let now = Utc::now();
        assert_eq!(severity_of("high"), Some(Severity::new(7.0)));
        assert_eq!(severity_of("8.5"), Some(Severity::new(8.5)));
        assert_eq!(severity_of("NaN"), None);
        assert_eq!(severity_of("11"), None);
        assert_eq!(statuses_of("open").len(), 2);
        assert!(statuses_of("bogus").is_empty());
        assert_eq!(since_of("24h", now), Some(now - Duration::hours(24)));
        assert_eq!(since_of("99999d", now), None);
        assert!(since_of("2026-12-01", now).is_some());
        let p = Params {
            ip: "10.0.0.1".into(),
            user: "a&b=c".into(),
            ..Params::default()
        };
        assert_eq!(p.link(2), "/findings?ip=10.0.0.1&user=a%26b%3Dc&page=2");
    }
}
