//! Routing as data: which channels hear of a finding's change, and when.
//!
//! [`Router::new`] compiles the `notify` settings once (patterns, zones);
//! [`Router::plan`] answers, for one notice at `now`, the channels it goes to and
//! the earliest time each may be sent (`group_wait`, quiet hours), leaving out
//! what a route's `throttle` holds back; [`Router::explain`] says the same route
//! by route, with the filter that failed, for `keibi notify routes`. Pure: no
//! clock, no I/O; what the store remembers (earlier notices, open groups) is an
//! argument, [`Seen`].

use chrono::{DateTime, Utc};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use keibi_i18n::{Arg, Msg};
use keibi_model::{Finding, Severity, SeverityLabel};

use crate::notice::NoticeKind;
use crate::quiet::Quiet;
use crate::settings::{Interval, NotifySettings, Route};

/// The severity every channel hears of when there are no routes: High (7.0).
pub const DEFAULT_AT_LEAST: f64 = 7.0;

/// The name of the route used when the settings have none.
pub const DEFAULT_ROUTE: &str = "default";

/// A pattern of `types`, `resources` or `accounts` as a glob: `*` and `?` match
/// any text (`/` and `:` included), `[...]` a class, `{a,b}` alternatives; case
/// matters. The reason is a sentence for a settings problem.
pub fn glob(pattern: &str) -> Result<globset::Glob, String> {
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .map_err(|e| format!("{pattern:?} is not a glob pattern: {}", e.kind()))
}

/// Settings the router could not compile (`keibi config check` reports the same
/// with file and line first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notify settings: {0}")]
pub struct RouteError(pub String);

/// The routes, compiled.
#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<Compiled>,
    quiet: Option<Quiet>,
    /// The export channels (`ocsf_file`, `securityhub`): no `group_wait`, no
    /// quiet hours.
    exports: Vec<String>,
}

#[derive(Debug, Clone)]
struct Compiled {
    name: String,
    /// 0-based place in `routes`; `None` for the default route.
    index: Option<usize>,
    route: Route,
    types: Option<GlobSet>,
    resources: Option<GlobSet>,
    accounts: Option<GlobSet>,
}

/// Why a route's filter did not match a finding: the first condition that failed,
/// in the order severity, types, resources, accounts, engines.
#[derive(Debug, Clone, PartialEq)]
pub enum Miss {
    Severity {
        at_least: Severity,
        was: Severity,
    },
    Type {
        patterns: Vec<String>,
    },
    Resource {
        patterns: Vec<String>,
    },
    /// `was` is `None` for a finding without an account.
    Account {
        patterns: Vec<String>,
        was: Option<String>,
    },
    Engine {
        engines: Vec<String>,
        was: Option<String>,
    },
}

impl Miss {
    /// The reason in words (`notify.ftl`); patterns and values are the settings'
    /// and the finding's, to be escaped by whoever prints them.
    pub fn msg(&self) -> Msg {
        let list = |v: &[String]| Arg::Text(v.join(", "));
        match self {
            Miss::Severity { at_least, was } => {
                // A band's lowest severity (what `high` means) is said with its label.
                let band = at_least.label();
                let lowest = match band {
                    SeverityLabel::Low => 1.0,
                    SeverityLabel::Medium => 4.0,
                    SeverityLabel::High => 7.0,
                    SeverityLabel::Critical => 9.0,
                };
                let msg = if *at_least == Severity::new(lowest) {
                    Msg::new("notify-miss-severity-label").arg(
                        "label",
                        Arg::Msg(Box::new(Msg::new(&format!(
                            "severity-{}",
                            band.as_str().to_lowercase()
                        )))),
                    )
                } else {
                    Msg::new("notify-miss-severity")
                };
                msg.arg("at_least", Arg::Text(at_least.to_string()))
                    .arg("was", Arg::Text(was.to_string()))
            }
            Miss::Type { patterns } => Msg::new("notify-miss-type").arg("patterns", list(patterns)),
            Miss::Resource { patterns } => {
                Msg::new("notify-miss-resource").arg("patterns", list(patterns))
            }
            Miss::Account {
                patterns,
                was: None,
            } => Msg::new("notify-miss-no-account").arg("patterns", list(patterns)),
            Miss::Account { patterns, .. } => {
                Msg::new("notify-miss-account").arg("patterns", list(patterns))
            }
            Miss::Engine { engines, was: None } => {
                Msg::new("notify-miss-no-engine").arg("engines", list(engines))
            }
            Miss::Engine { engines, .. } => {
                Msg::new("notify-miss-engine").arg("engines", list(engines))
            }
        }
    }
}

/// Why a planned send waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// The route's `group_wait`: held with the notices that follow it until `until`
    /// (`joined`: it joins a group another notice opened).
    GroupWait { until: DateTime<Utc>, joined: bool },
    /// Quiet hours: a Low or Medium notice waits until they end.
    QuietHours { until: DateTime<Utc> },
}

/// One send: this notice to `channel`, no sooner than `not_before`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub channel: String,
    /// The route's name (`DEFAULT_ROUTE` without routes): what the store keeps to
    /// throttle and group by.
    pub route: String,
    /// `now` when nothing holds it.
    pub not_before: DateTime<Utc>,
    /// What holds it, in the order applied; empty: at once.
    pub why: Vec<Hold>,
}

/// What one route did with a notice.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Its filter matched: `planned` holds its sends (a channel an earlier route
    /// already took is not sent twice, and is left out).
    Matched {
        planned: Vec<Planned>,
        /// Channels an earlier matching route (with `continue`) already sends to.
        already: Vec<String>,
        continues: bool,
    },
    /// Its filter did not match.
    Missed(Miss),
    /// It matched, but the throttle holds the notice back: this finding was told
    /// on this route at `last`, and the next notice may go from `until`.
    Throttled {
        last: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    /// An earlier route matched and did not continue.
    NotReached { by: String },
}

/// One route's line in [`Router::explain`].
#[derive(Debug, Clone, PartialEq)]
pub struct RouteOutcome {
    pub route: String,
    /// 0-based place in `routes`; `None` for the default route.
    pub index: Option<usize>,
    /// The channels the route names.
    pub channels: Vec<String>,
    pub verdict: Verdict,
}

/// An earlier notice of this finding on a route (the latest one per route).
#[derive(Debug, Clone, PartialEq)]
pub struct Told {
    pub route: String,
    pub at: DateTime<Utc>,
    /// The finding's severity in that notice.
    pub severity: Severity,
}

/// A notice of any finding held by a route's `group_wait` and not yet sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub route: String,
    pub channel: String,
    pub not_before: DateTime<Utc>,
}

/// What the store remembers that routing depends on. Empty: nothing was told and
/// nothing waits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Seen<'a> {
    /// This finding's earlier notices: the latest on each route.
    pub told: &'a [Told],
    /// Notices held by `group_wait` that have not gone out yet (every finding's).
    pub waiting: &'a [Waiting],
}

impl Router {
    /// Compiles the settings: each route's patterns, the quiet hours' zone. Without
    /// routes, one route (`default`) sends High and Critical to every channel.
    /// Errors are what [`NotifySettings::problems`] reports with a place.
    pub fn new(s: &NotifySettings) -> Result<Router, RouteError> {
        let set = |pats: &[String]| -> Result<Option<GlobSet>, RouteError> {
            if pats.is_empty() {
                return Ok(None);
            }
            let mut b = GlobSetBuilder::new();
            for p in pats {
                b.add(glob(p).map_err(RouteError)?);
            }
            b.build().map(Some).map_err(|e| RouteError(e.to_string()))
        };
        let mut routes = Vec::new();
        if s.routes.is_empty() {
            routes.push(Compiled {
                name: DEFAULT_ROUTE.to_string(),
                index: None,
                route: Route {
                    severity_at_least: Some(Severity::new(DEFAULT_AT_LEAST)),
                    channels: s.channels.iter().map(|c| c.name.clone()).collect(),
                    ..Route::default()
                },
                types: None,
                resources: None,
                accounts: None,
            });
        }
        for (i, r) in s.routes.iter().enumerate() {
            if !r.tags.is_empty() {
                return Err(RouteError(
                    "findings carry no tags yet: a route cannot filter on them".into(),
                ));
            }
            routes.push(Compiled {
                name: r.name.clone().unwrap_or_else(|| format!("route {}", i + 1)),
                index: Some(i),
                route: r.clone(),
                types: set(&r.types)?,
                resources: set(&r.resources)?,
                accounts: set(&r.accounts)?,
            });
        }
        let quiet = s
            .quiet_hours
            .as_ref()
            .map(|q| Quiet::new(q, s.timezone.as_deref()))
            .transpose()
            .map_err(RouteError)?;
        let exports = s
            .channels
            .iter()
            .filter(|c| c.kind.is_export())
            .map(|c| c.name.clone())
            .collect();
        Ok(Router {
            routes,
            quiet,
            exports,
        })
    }

    /// Whether `f` passes a route's filter; the first condition that fails if not.
    fn filter(c: &Compiled, f: &Finding) -> Result<(), Miss> {
        let r = &c.route;
        if let Some(min) = r.severity_at_least {
            if f.severity < min {
                return Err(Miss::Severity {
                    at_least: min,
                    was: f.severity,
                });
            }
        }
        if let Some(g) = &c.types {
            if !g.is_match(&f.finding_type) {
                return Err(Miss::Type {
                    patterns: r.types.clone(),
                });
            }
        }
        if let Some(g) = &c.resources {
            if !g.is_match(&f.resource.id) {
                return Err(Miss::Resource {
                    patterns: r.resources.clone(),
                });
            }
        }
        if let Some(g) = &c.accounts {
            let acct = f.resource.account.as_deref();
            if !acct.is_some_and(|a| g.is_match(a)) {
                return Err(Miss::Account {
                    patterns: r.accounts.clone(),
                    was: acct.map(str::to_string),
                });
            }
        }
        // Tags: when findings carry them, their filter goes here.
        if !r.engines.is_empty() && !f.resource.engine.is_some_and(|e| r.engines.contains(&e)) {
            return Err(Miss::Engine {
                engines: r.engines.iter().map(|e| e.as_str().to_string()).collect(),
                was: f.resource.engine.map(|e| e.as_str().to_string()),
            });
        }
        Ok(())
    }

    /// Every route in order with what it does with this notice of `f` at `now`:
    /// matched (and its sends), missed (and why), throttled, or not reached. The
    /// first route that matches wins; one with `continue: true` lets the next ones
    /// be tried too, and a channel already sent to by an earlier route is not sent
    /// twice. A route's `throttle` leaves out a notice when `seen.told` has one on
    /// that route within the interval, unless it is a rise to High or Critical
    /// (above the severity told), a resolution, an action, or a test; a throttled route still
    /// counts as the match (the routes after it are not tried unless it continues).
    /// Sends are held by the route's `group_wait` (joining the open group of that
    /// route and channel in `seen.waiting`, if one is still waiting at `now`), then,
    /// for Low and Medium findings, by quiet hours at that time.
    pub fn explain(
        &self,
        f: &Finding,
        kind: &NoticeKind,
        now: DateTime<Utc>,
        seen: Seen<'_>,
    ) -> Vec<RouteOutcome> {
        let mut out = Vec::with_capacity(self.routes.len());
        let mut taken: Vec<String> = Vec::new();
        let mut stopped_by: Option<String> = None;
        for c in &self.routes {
            let verdict = if let Some(by) = &stopped_by {
                Verdict::NotReached { by: by.clone() }
            } else {
                match Self::filter(c, f) {
                    Err(miss) => Verdict::Missed(miss),
                    Ok(()) => {
                        if !c.route.continue_ {
                            stopped_by = Some(c.name.clone());
                        }
                        match throttled(c, f, kind, now, seen.told) {
                            Some((last, until)) => Verdict::Throttled { last, until },
                            None => {
                                let mut planned = Vec::new();
                                let mut already = Vec::new();
                                for ch in &c.route.channels {
                                    if taken.contains(ch) {
                                        already.push(ch.clone());
                                        continue;
                                    }
                                    taken.push(ch.clone());
                                    planned.push(self.when(c, ch, f, now, seen.waiting));
                                }
                                Verdict::Matched {
                                    planned,
                                    already,
                                    continues: c.route.continue_,
                                }
                            }
                        }
                    }
                }
            };
            out.push(RouteOutcome {
                route: c.name.clone(),
                index: c.index,
                channels: c.route.channels.clone(),
                verdict,
            });
        }
        out
    }

    /// The sends of one notice, as [`Router::explain`] decides them, in route and
    /// channel order. Empty: no route takes it (or a throttle holds it back), and
    /// no channel hears of it.
    pub fn plan(
        &self,
        f: &Finding,
        kind: &NoticeKind,
        now: DateTime<Utc>,
        seen: Seen<'_>,
    ) -> Vec<Planned> {
        self.explain(f, kind, now, seen)
            .into_iter()
            .filter_map(|o| match o.verdict {
                Verdict::Matched { planned, .. } => Some(planned),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// When a matched notice may go to `channel`.
    fn when(
        &self,
        c: &Compiled,
        channel: &str,
        f: &Finding,
        now: DateTime<Utc>,
        waiting: &[Waiting],
    ) -> Planned {
        let mut why = Vec::new();
        let mut at = now;
        // An export (OCSF file, Security Hub) is a machine's feed: it takes each
        // change as it comes, neither grouped nor held by quiet hours.
        if self.exports.iter().any(|e| e == channel) {
            return Planned {
                channel: channel.to_string(),
                route: c.name.clone(),
                not_before: at,
                why,
            };
        }
        let wait = c.route.group_wait;
        if !wait.is_zero() {
            let open = waiting
                .iter()
                .filter(|w| w.route == c.name && w.channel == channel && w.not_before > now)
                .map(|w| w.not_before)
                .min();
            let (until, joined) = match open {
                Some(t) => (t, true),
                None => (now + wait.chrono(), false),
            };
            at = until;
            why.push(Hold::GroupWait { until, joined });
        }
        if f.severity.label() < SeverityLabel::High {
            if let Some(until) = self.quiet.as_ref().and_then(|q| q.until(at)) {
                at = until;
                why.push(Hold::QuietHours { until });
            }
        }
        Planned {
            channel: channel.to_string(),
            route: c.name.clone(),
            not_before: at,
            why,
        }
    }

    /// Whether quiet hours hold a Low or Medium notice at `now`, and until when.
    pub fn quiet_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.quiet.as_ref().and_then(|q| q.until(now))
    }
}

/// `Some((last, until))` when the route's throttle holds this notice back.
fn throttled(
    c: &Compiled,
    f: &Finding,
    kind: &NoticeKind,
    now: DateTime<Utc>,
    told: &[Told],
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let every: Interval = c.route.throttle;
    if every.is_zero()
        || matches!(
            kind,
            NoticeKind::Resolved { .. } | NoticeKind::Test | NoticeKind::Action { .. }
        )
    {
        return None;
    }
    let last = told
        .iter()
        .filter(|t| t.route == c.name)
        .max_by_key(|t| t.at)?;
    let until = last.at + every.chrono();
    if now >= until {
        return None;
    }
    let label = f.severity.label();
    if label >= SeverityLabel::High && label > last.severity.label() {
        return None;
    }
    Some((last.at, until))
}

#[cfg(test)]
mod tests;
