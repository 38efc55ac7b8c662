//! The pages: one module each, listed in [`routes`].
//!
//! Every text a person reads comes from the catalog (`dashboard.ftl`) through
//! [`Tr`]; every value that came from a log goes through [`shown`] (control,
//! bidi and invisible characters made visible, length bounded) and then askama's
//! HTML escaping. Links built from data are relative paths made here ([`seg`],
//! [`query`]), never a URL taken from data.

mod actors;
mod events;
mod finding;
mod findings;
mod overview;
mod settings;
mod site;
mod suppressions;
mod timeline;
mod workflow;

pub use site::{LoadedList, RawLines, Reputation, Site};

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use keibi_i18n::{Arg, Locale, Msg};
use keibi_model::Severity;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::auth::{Role, Viewer};
use crate::state::DbError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::page))
        .route("/findings", get(findings::page))
        .route("/findings/{id}", get(finding::page))
        .route("/findings/{id}/status", post(workflow::status))
        .route("/findings/{id}/note", post(workflow::note))
        .route("/actions/{id}/decide", post(workflow::action))
        .route("/actors/ip/{addr}", get(actors::ip))
        .route("/actors/user/{name}", get(actors::user))
        .route("/actors/principal/{arn}", get(actors::principal))
        .route(
            "/suppressions",
            get(suppressions::page).post(suppressions::create),
        )
        .route("/suppressions/{id}/delete", post(suppressions::delete))
        .route("/settings", get(settings::page))
        .route("/events", get(events::stream))
}

/// The catalog in the viewer's language and the site's display zone.
#[derive(Clone)]
pub struct Tr {
    pub loc: Locale,
}

impl Tr {
    pub fn new(v: &Viewer, state: &AppState) -> Tr {
        Tr {
            loc: Locale::new(v.lang, state.site.zone.clone()),
        }
    }

    /// A message without arguments.
    pub fn t(&self, id: &str) -> String {
        self.loc.text(id)
    }

    /// A message with one count.
    pub fn n(&self, id: &str, n: &u64) -> String {
        self.loc.render(&Msg::new(id).arg("n", Arg::Count(*n)))
    }

    /// A message with one text (already [`shown`]).
    pub fn s(&self, id: &str, v: &str) -> String {
        self.loc.render(&Msg::new(id).arg("v", v))
    }

    pub fn msg(&self, m: &Msg) -> String {
        self.loc.render(m)
    }

    /// An instant in the display zone.
    pub fn time(&self, at: &DateTime<Utc>) -> String {
        self.loc.time(*at, None)
    }

    pub fn num(&self, n: &u64) -> String {
        keibi_i18n::thousands(*n)
    }

    /// A severity band's word (`sev-critical` ...).
    pub fn band(&self, s: &Severity) -> String {
        self.t(&format!("dash-sev-{}", band_class(*s)))
    }

    pub fn status(&self, s: &str) -> String {
        self.t(&format!("dash-status-{s}"))
    }
}

/// `critical`, `high`, `medium`, `low`: a class name and a catalog key suffix.
pub fn band_class(s: Severity) -> &'static str {
    use keibi_model::finding::SeverityLabel;
    match s.label() {
        SeverityLabel::Critical => "critical",
        SeverityLabel::High => "high",
        SeverityLabel::Medium => "medium",
        SeverityLabel::Low => "low",
    }
}

/// What the layout (`templates/base.html`) shows around every page.
pub struct Chrome {
    pub lang: &'static str,
    pub user: String,
    pub role: &'static str,
    pub csrf: String,
    pub nav_overview: String,
    pub nav_findings: String,
    pub nav_suppressions: String,
    pub nav_settings: String,
    /// Whether the settings link is shown (admins).
    pub admin: bool,
    /// Whether the workflow forms are shown (responders and admins).
    pub responder: bool,
    pub skip: String,
    pub signed_in: String,
    /// A message after a change (from a fixed list: never text from a request).
    pub flash: Option<String>,
    /// The newest change when the page was rendered, for the live notice
    /// (`data-mark`); `None` on pages without it.
    pub mark: Option<i64>,
    pub live_new: String,
    pub live_reload: String,
    pub logout: String,
}

impl Chrome {
    pub fn new(v: &Viewer) -> Chrome {
        let loc = Locale::new(v.lang, keibi_i18n::DisplayZone::utc());
        let t = |id: &str| loc.text(id);
        Chrome {
            lang: v.lang.code(),
            user: shown(&v.name, 200),
            role: v.role.as_str(),
            csrf: v.csrf.clone(),
            nav_overview: t("dash-nav-overview"),
            nav_findings: t("dash-nav-findings"),
            nav_suppressions: t("dash-nav-suppressions"),
            nav_settings: t("dash-nav-settings"),
            logout: t("dash-logout"),
            admin: v.role >= Role::Admin,
            responder: v.role >= Role::Responder,
            skip: t("dash-skip"),
            signed_in: loc.render(
                &Msg::new("dash-signed-in")
                    .arg("user", shown(&v.name, 200))
                    .arg("role", t(&format!("dash-role-{}", v.role.as_str()))),
            ),
            flash: None,
            mark: None,
            live_new: t("dash-live-new"),
            live_reload: t("dash-live-reload"),
        }
    }

    /// With the message of a `done=` parameter, when it names one.
    pub fn with_flash(mut self, done: Option<&str>, tr: &Tr) -> Chrome {
        self.flash = done
            .and_then(|d| FLASHES.iter().find(|f| **f == d))
            .map(|d| tr.t(&format!("dash-done-{d}")));
        self
    }
}

/// The `done=` values a redirect after a change may carry.
pub const FLASHES: &[&str] = &[
    "acknowledged",
    "resolved",
    "reopened",
    "noted",
    "suppressed",
    "unsuppressed",
    "approved",
    "cancelled",
    "moved",
];

/// Renders a page, or a 500 that names no internals.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page could not be rendered",
        )
            .into_response(),
    }
}

/// A store error as a page (503 while the store is busy, 404 for a finding that
/// is not there, 400 for a request the store refused, else 500).
pub fn store_error(e: DbError) -> Response {
    use keibi_store::StoreError;
    let code = match &e {
        DbError::Store(s) if s.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
        DbError::Store(StoreError::NotFound(_)) => StatusCode::NOT_FOUND,
        DbError::Store(StoreError::Invalid(_) | StoreError::Ambiguous { .. }) => {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    // The store's message can quote the request (an id); it goes out as plain
    // text (never HTML), shown safe and bounded.
    (code, shown(&format!("{e}"), 1000)).into_response()
}

/// Whether a character must be shown as an escape (`keibi_model::chars`: controls,
/// bidi and zero-width format characters, separators, unassigned and invisible
/// ones); a page keeps newlines and tabs, which HTML shows as space.
fn is_unsafe(c: char) -> bool {
    c != '\n' && c != '\t' && keibi_model::chars::is_unsafe(c)
}

/// Whether `s` holds a character [`shown`] would escape.
pub fn has_unsafe(s: &str) -> bool {
    s.chars().any(is_unsafe)
}

/// Text from a log as shown: unsafe characters as visible `\u{…}` escapes, at most
/// `max` characters (then `…`). HTML escaping is askama's, after this.
pub fn shown(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max * 4));
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Everything but unreserved characters, for a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// One path segment from data, percent-encoded (`/actors/user/{seg}`).
pub fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// A query string from pairs (empty values left out), `?a=1&b=2` or empty.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .copied()
        .collect();
    if kept.is_empty() {
        return String::new();
    }
    format!("?{}", serde_urlencoded::to_string(kept).unwrap_or_default())
}

/// A link to an actor's page, from its kind and value.
pub fn actor_link(kind: &str, v: &str) -> String {
    format!("/actors/{kind}/{}", seg(v))
}

/// Whether a user name is an IAM principal's ARN (its actor page is the
/// principal's).
pub fn is_arn(u: &str) -> bool {
    u.starts_with("arn:")
}

/// A link to the page of a user or principal.
pub fn user_link(u: &str) -> String {
    actor_link(if is_arn(u) { "principal" } else { "user" }, u)
}

/// One row of a findings table, ready to show.
pub struct Row {
    pub href: String,
    pub severity: String,
    pub band: &'static str,
    pub band_word: String,
    pub title: String,
    pub finding_type: String,
    pub resource: String,
    pub actor: String,
    pub actor_href: Option<String>,
    pub status: String,
    pub count: String,
    pub last_seen: String,
}

impl Row {
    pub fn of(r: &keibi_store::FindingRow, tr: &Tr) -> Row {
        let title = match &r.text {
            Some(t) if !tr.loc.is_contract() => tr.loc.finding(t).0.unwrap_or(r.title.clone()),
            _ => r.title.clone(),
        };
        let (actor, actor_href) = match (&r.actor_ip, &r.actor_user) {
            (Some(ip), _) => (ip.clone(), Some(actor_link("ip", ip))),
            (None, Some(u)) => (u.clone(), Some(user_link(u))),
            (None, None) => (String::new(), None),
        };
        Row {
            href: format!("/findings/{}", seg(&r.id)),
            severity: format!("{:.1}", r.severity.value()),
            band: band_class(r.severity),
            band_word: tr.band(&r.severity),
            title: shown(&title, 300),
            finding_type: shown(&r.finding_type, 200),
            resource: shown(&r.resource_id, 200),
            actor: shown(&actor, 200),
            actor_href,
            status: tr.status(r.status.as_str()),
            count: tr.num(&r.count),
            last_seen: tr.time(&r.last_seen),
        }
    }
}

/// Table headers of [`Row`]s.
pub struct RowHeads {
    pub severity: String,
    pub title: String,
    pub finding_type: String,
    pub resource: String,
    pub actor: String,
    pub status: String,
    pub count: String,
    pub last_seen: String,
    pub none: String,
}

impl RowHeads {
    pub fn new(tr: &Tr) -> RowHeads {
        RowHeads {
            severity: tr.t("dash-col-severity"),
            title: tr.t("dash-col-title"),
            finding_type: tr.t("dash-col-type"),
            resource: tr.t("dash-col-resource"),
            actor: tr.t("dash-col-actor"),
            status: tr.t("dash-col-status"),
            count: tr.t("dash-col-count"),
            last_seen: tr.t("dash-col-last-seen"),
            none: tr.t("dash-none"),
        }
    }
}
