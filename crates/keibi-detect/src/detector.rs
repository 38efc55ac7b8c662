//! The one trait every stateful detector implements, and what it is given.
//!
//! A detector sees every event once, in time order, and raises or grows findings in
//! the shared [`Findings`] store. It keeps its own bounded state (windows, counters).
//! Detectors are pure: no I/O, no clock (time is the events' time), no threads.
//!
//! **Live by event time.** A stream has no end, so a detector does not wait for one:
//! [`Detector::advance`] tells it that event time has reached a watermark (no event
//! older than it will come), and it raises what a window ending before it raises;
//! [`Detector::render`] writes its findings' texts as they stand, at any moment.
//! [`Detector::finish`] is what the end of a batch input means: by default
//! `advance(MAX)` then `render`. [`Detector::quiet_after`] says when a finding that
//! stopped growing is closed (see [`crate::scanner`]).

use chrono::{DateTime, Duration, Utc};
use std::net::IpAddr;

use keibi_model::{Event, Resource};

use crate::config::Config;
use crate::detectors::login::Instances;
use crate::findings::Findings;
use crate::iplist::{Reputation, ThreatLists};
use crate::services::Services;

/// A stateful detector. Register new ones in [`crate::detectors::builtin`].
///
/// Only [`Detector::id`] and [`Detector::observe`] are required: a detector that
/// writes its texts when it raises and has no window needs nothing else.
pub trait Detector: Send {
    /// Stable id, written to each finding's `detector` field and part of its id
    /// (never rename one: ids would change).
    fn id(&self) -> &'static str;

    /// Sees one event. Events arrive in time order (ties in input order).
    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>);

    /// Event time has reached `watermark`: no event before it will come. Close the
    /// windows that end before it, raising what they raise (what a batch scan used to
    /// raise at its end, now at the right moment). `DateTime::<Utc>::MAX_UTC` means
    /// the input ended: close everything. Called between batches; the default has no
    /// windows.
    fn advance(&mut self, _watermark: DateTime<Utc>, _cx: &mut Context<'_>) {}

    /// Writes the title, description and remediation of this detector's findings
    /// that [`Findings::to_render`] lists, from what the detector knows now. May be
    /// called at any moment and any number of times: the same state gives the same
    /// texts. The default writes nothing (texts written when raised).
    fn render(&mut self, _cx: &mut Context<'_>) {}

    /// How long after a finding's `last_seen` (in event time) this detector may still
    /// grow it or change its texts. Once the watermark is past that, the finding is
    /// closed and a live scanner may forget it; an event with the same key later
    /// raises it anew (same id). `None` (the default): closed only when the input
    /// ends.
    fn quiet_after(&self) -> Option<Duration> {
        None
    }

    /// How far back from the latest event time this detector's memory reaches: an
    /// event older than `latest - horizon` can no longer change whether a later event
    /// raises or grows one of its findings, by how much, or when the finding closes
    /// (so the horizon is at least [`Detector::quiet_after`]). A restarted daemon
    /// feeds the detectors again only the events inside the longest horizon of all
    /// (see [`crate::Scanner::replay_horizon`]). Texts are not bound by it: a finding
    /// open across a restart is written from the events the detector saw again.
    /// `None` (the default): unbounded, the detector remembers something for as
    /// long as it runs (an actor's first statement, a session's start), and a restart
    /// feeds it everything again.
    fn replay_horizon(&self) -> Option<Duration> {
        None
    }

    /// Whether login and connection events from trusted addresses reach this
    /// detector. They never do by default: the rule "trusted addresses raise no login
    /// or network findings" is the scanner's, so a detector that forgets it cannot
    /// break it. A detector that only follows sessions (not judging logins) may ask.
    fn sees_trusted_logins(&self) -> bool {
        false
    }

    /// Learns from a login or connection event from a trusted address, which
    /// [`Detector::observe`] never sees (unless [`Detector::sees_trusted_logins`]).
    /// Trust means "no finding about this address", not "nothing to learn": a user
    /// who always works from the office still has habits (the baselines learn them
    /// here). The [`Learning`] context has no findings store, so nothing done here
    /// can raise or grow a finding: the scanner enforces trust by the type. The
    /// default learns nothing.
    fn learn_trusted(&mut self, _ev: &Event, _cx: &Learning<'_>) {}

    /// The input has ended: raise what is still pending and write the final texts.
    fn finish(&mut self, cx: &mut Context<'_>) {
        self.advance(DateTime::<Utc>::MAX_UTC, cx);
        self.render(cx);
    }

    /// Every finding type this detector can raise, with its spec: the code side of
    /// `docs/finding-catalog.md` (see [`crate::catalog`]). No default: a detector
    /// that does not say what it raises does not build.
    fn catalog(&self) -> Vec<crate::catalog::Entry>;
}

/// What a detector may read and write while it runs.
pub struct Context<'a> {
    pub config: &'a Config,
    /// The lists of `services` (a shorthand).
    pub lists: &'a ThreatLists,
    /// Lists, profiles and lookups (they may be swapped between batches: a
    /// detector holding one compares it with these, see [`Services`]).
    pub services: &'a Services,
    pub findings: &'a mut Findings,
    /// What the scanner worked out once about the event being observed.
    pub enriched: Enriched<'a>,
    /// Every database instance the scanner has seen, and when its logs end (as far
    /// as read), from every event (trusted ones too).
    pub(crate) instances: &'a Instances,
}

/// What a detector is given to learn from a trusted address's event
/// ([`Detector::learn_trusted`]): settings and services, and no findings store.
pub struct Learning<'a> {
    pub config: &'a Config,
    /// Lists, profiles and lookups, as in [`Context::services`].
    pub services: &'a Services,
}

/// What the scanner works out once per event, before any detector sees it (so a
/// lookup is not repeated per detector, and policy is applied in one place).
#[derive(Debug, Clone, Copy)]
pub struct Enriched<'a> {
    /// The client address these answers are about.
    pub ip: Option<IpAddr>,
    /// The lists' verdict on it.
    pub reputation: Reputation<'a>,
    /// On a trusted list.
    pub trusted: bool,
    /// A login or connection event ([`crate::scanner::is_login_or_network`]).
    pub login_or_network: bool,
}

impl Default for Enriched<'_> {
    fn default() -> Self {
        Enriched {
            ip: None,
            reputation: Reputation::Unlisted,
            trusted: false,
            login_or_network: false,
        }
    }
}

impl Context<'_> {
    /// The lists' verdict on the event's client address (`Unlisted` without one):
    /// the scanner's answer for the event being observed, a lookup otherwise.
    pub fn reputation(&self, ev: &Event) -> Reputation<'_> {
        match ev.client_ip {
            Some(ip) if self.enriched.ip == Some(ip) => self.enriched.reputation,
            Some(ip) => self.lists.reputation(ip),
            None => Reputation::Unlisted,
        }
    }

    /// True when the event comes from a trusted address. Detectors need not check:
    /// login and connection events from trusted addresses never reach a detector
    /// (unless it asks, [`Detector::sees_trusted_logins`]); the scanner counts them.
    pub fn is_trusted(&self, ev: &Event) -> bool {
        matches!(self.reputation(ev), Reputation::Trusted { .. })
    }

    /// When the named instance's logs end: its latest event read so far, from any
    /// address (`None` for an instance not seen).
    pub fn instance_end(&self, name: &str) -> Option<DateTime<Utc>> {
        self.instances.end(name)
    }
}

/// The database instance an event is about: `db_instance` with the instance id
/// (`unknown` when the rule in docs/events.md found none) and the engine.
pub fn db_resource(ev: &Event) -> Resource {
    Resource {
        kind: "db_instance".to_string(),
        id: ev.instance.as_deref().unwrap_or("unknown").to_string(),
        engine: ev.source.engine(),
        ..Default::default()
    }
}
