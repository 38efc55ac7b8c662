//! The timeline section of the finding and actor pages: what the same
//! addresses, users and principals did across database logs and CloudTrail
//! (`Store::timeline`, kept by `keibi run`), with the findings' history lines
//! between the events.

use chrono::{DateTime, Utc};
use keibi_store::{Timeline, TimelineEntry, TimelineQuery, QUERY_MAX_ACTORS};

use super::{actor_link, band_class, is_arn, seg, shown, Tr};

/// Entries shown at most.
pub const LIMIT: usize = 500;

/// One line of the timeline, ready to show.
pub struct Line {
    pub at: String,
    /// `activity` or `finding` (a class).
    pub class: &'static str,
    pub kind: String,
    pub count: String,
    pub source: String,
    pub resource: String,
    /// (text, link) of the address, user or principal.
    pub actors: Vec<(String, String)>,
    pub what: String,
    pub detail: String,
    /// A finding mark's link and severity band.
    pub href: Option<String>,
    pub band: &'static str,
}

/// The section's data.
pub struct View {
    pub window: String,
    pub lines: Vec<Line>,
    /// Notes under the table (cut at the limit, events dropped).
    pub notes: Vec<String>,
    /// No actor to ask about.
    pub no_actor: bool,
}

/// The query for these actors in `[since, until]`; `None` when there is no actor.
pub fn query(
    ips: &[std::net::IpAddr],
    users: &[String],
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Option<TimelineQuery> {
    let ips: Vec<_> = ips.iter().copied().take(QUERY_MAX_ACTORS).collect();
    let (principals, db_users): (Vec<String>, Vec<String>) =
        users.iter().cloned().partition(|u| is_arn(u));
    let principals: Vec<String> = principals.into_iter().take(QUERY_MAX_ACTORS).collect();
    let db_users: Vec<String> = db_users.into_iter().take(QUERY_MAX_ACTORS).collect();
    if ips.is_empty() && principals.is_empty() && db_users.is_empty() {
        return None;
    }
    Some(TimelineQuery {
        ips,
        users: db_users,
        principals,
        since,
        until,
        limit: LIMIT,
    })
}

pub fn view(tl: Option<&Timeline>, since: DateTime<Utc>, until: DateTime<Utc>, tr: &Tr) -> View {
    let window = tr.msg(
        &keibi_i18n::Msg::new("dash-tl-window")
            .arg("from", tr.time(&since))
            .arg("to", tr.time(&until)),
    );
    let Some(tl) = tl else {
        return View {
            window,
            lines: Vec::new(),
            notes: Vec::new(),
            no_actor: true,
        };
    };
    let lines = tl
        .entries
        .iter()
        .map(|e| match e {
            TimelineEntry::Activity(a) => {
                let mut actors = Vec::new();
                if let Some(ip) = a.ip {
                    let s = ip.to_string();
                    actors.push((s.clone(), actor_link("ip", &s)));
                }
                if let Some(u) = &a.user {
                    actors.push((shown(u, 200), actor_link("user", u)));
                }
                if let Some(p) = &a.principal {
                    actors.push((shown(p, 300), actor_link("principal", p)));
                }
                let mut detail = Vec::new();
                if let Some(d) = &a.database {
                    detail.push(shown(d, 200));
                }
                if let Some(app) = &a.application {
                    detail.push(shown(app, 200));
                }
                if let Some(err) = &a.error {
                    detail.push(tr.s("dash-tl-error-code", &shown(err, 100)));
                }
                Line {
                    at: tr.time(&a.first),
                    class: "activity",
                    kind: tr.t(&format!("dash-tl-{}", a.kind.as_str())),
                    count: tr.num(&a.count),
                    source: shown(&a.source, 100),
                    resource: a
                        .resource
                        .as_deref()
                        .map(|r| shown(r, 300))
                        .unwrap_or_default(),
                    actors,
                    what: a
                        .what
                        .as_deref()
                        .map(|w| shown(w, 1000))
                        .unwrap_or_default(),
                    detail: detail.join(" · "),
                    href: None,
                    band: "",
                }
            }
            TimelineEntry::Finding(m) => {
                let key = format!("dash-hist-{}", m.what);
                let word = tr.t(&key);
                Line {
                    at: tr.time(&m.time),
                    class: "finding",
                    kind: if word == key {
                        shown(&m.what, 100)
                    } else {
                        word
                    },
                    count: tr.num(&m.count),
                    source: String::new(),
                    resource: String::new(),
                    actors: m
                        .by
                        .as_deref()
                        .map(|b| vec![(shown(b, 200), String::new())])
                        .unwrap_or_default(),
                    what: shown(&m.title, 300),
                    detail: shown(&m.finding_type, 200),
                    href: Some(format!("/findings/{}", seg(&m.finding_id))),
                    band: band_class(m.severity),
                }
            }
        })
        .collect();
    let mut notes = Vec::new();
    if tl.cut {
        notes.push(tr.msg(
            &keibi_i18n::Msg::new("dash-tl-cut").arg("n", keibi_i18n::Arg::Count(LIMIT as u64)),
        ));
    }
    if tl.dropped > 0 {
        notes.push(tr.n("dash-tl-dropped", &tl.dropped));
    }
    View {
        window,
        lines,
        notes,
        no_actor: false,
    }
}
