//! The one trait every stateful detector implements, and what it is given.
//!
//! A detector sees every event once, in time order, and raises or grows findings in
//! the shared [`Findings`] store. It keeps its own bounded state (windows, counters)
//! and may finish aggregates when the input ends. Detectors are pure: no I/O, no
//! clock (time is the events' time), no threads.

use keibi_model::{Event, Resource};

use crate::config::Config;
use crate::findings::Findings;
use crate::iplist::{Reputation, ThreatLists};

/// A stateful detector. Register new ones in [`crate::detectors::builtin`].
pub trait Detector: Send {
    /// Stable id, written to each finding's `detector` field and part of its id
    /// (never rename one: ids would change).
    fn id(&self) -> &'static str;

    /// Sees one event. Events arrive in time order (ties in input order).
    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>);

    /// The input has ended: raise what is still pending and write the final titles
    /// and descriptions of this detector's findings (see [`Findings::of_detector`]).
    fn finish(&mut self, _cx: &mut Context<'_>) {}

    /// Every finding type this detector can raise, with its spec: the code side of
    /// `docs/finding-catalog.md` (see [`crate::catalog`]). No default: a detector
    /// that does not say what it raises does not build.
    fn catalog(&self) -> Vec<crate::catalog::Entry>;
}

/// What a detector may read and write while it runs.
pub struct Context<'a> {
    pub config: &'a Config,
    pub lists: &'a ThreatLists,
    pub findings: &'a mut Findings,
}

impl Context<'_> {
    /// The lists' verdict on the event's client address (`Unlisted` without one).
    pub fn reputation(&self, ev: &Event) -> Reputation<'_> {
        match ev.client_ip {
            Some(ip) => self.lists.reputation(ip),
            None => Reputation::Unlisted,
        }
    }

    /// True when the event comes from a trusted address: login and network
    /// detectors must then ignore it (the scanner counts such events once).
    pub fn is_trusted(&self, ev: &Event) -> bool {
        matches!(self.reputation(ev), Reputation::Trusted { .. })
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
