//! Puts the events of several live sources in time order, as far as waiting allows.
//!
//! Each source is in time order by itself (a log is written in time order; a
//! directory source merges its files in time order); across sources an event is held
//! until every *active* source has reached its time: the **watermark** is the
//! earliest of the active sources' latest event times, minus the allowed
//! **lateness**, and everything up to it is released in time order. A source is
//! active while it is reading a backlog or has produced an event within the **idle
//! timeout**; a quiet source (a database nobody logs into, a CloudTrail prefix
//! between deliveries) stops holding the others back, and a finished one never does.
//! When no source is active everything held is released.
//!
//! **One source's events are released in the order the source handed them out**:
//! an event older than one its source gave before it (a line written a moment out of
//! order) is ordered at that earlier event's time, just after it, as `keibi scan`
//! keeps each file's own order. So what has been released of a source is always the
//! first events it handed out ([`Orderer::released_from`] counts them), and a daemon
//! can store for each file the checkpoint right after its last event released.
//!
//! An event older than what was already released (a quiet source that speaks again
//! with an older time) is **late**: it is passed on at once and counted, never
//! dropped (detectors must see it; a finding's window may then reach back). Memory
//! is bounded: beyond `max_held` events the oldest are released early (counted as
//! forced).
//!
//! Lateness is 0 by default: the watermark itself waits for the slowest active
//! source, and holding events longer would add to the latency of every finding (a
//! failed-login burst must be a finding within a second). Raise it for sources that
//! deliver with a known delay behind the others (a syslog relay).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use keibi_model::Event;

use crate::live::SourceState;

/// How events are ordered.
#[derive(Debug, Clone)]
pub struct OrderOptions {
    /// How far behind the watermark trails the slowest active source.
    pub lateness: TimeDelta,
    /// A source without events for this long no longer holds the watermark back.
    pub idle: Duration,
    /// Events held at most; beyond, the oldest are released early.
    pub max_held: usize,
}

impl Default for OrderOptions {
    fn default() -> Self {
        OrderOptions {
            lateness: TimeDelta::zero(),
            idle: Duration::from_millis(500),
            max_held: 100_000,
        }
    }
}

/// What the ordering did, in numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderStats {
    pub released: u64,
    /// Events older than what was already released, passed on at once.
    pub late: u64,
    /// Events released before the watermark reached them, to bound memory.
    pub forced: u64,
}

struct Src {
    /// The latest event time it gave (the time its next event is ordered at, at
    /// least).
    latest: Option<DateTime<Utc>>,
    /// Its events released so far.
    released: u64,
    active_at: Option<Instant>,
    finished: bool,
}

struct Held {
    /// The time it is ordered at: its own, or its source's latest before it if that
    /// is later.
    time: DateTime<Utc>,
    seq: u64,
    source: usize,
    event: Event,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

/// The ordering stage.
pub struct Orderer {
    opts: OrderOptions,
    sources: Vec<Src>,
    heap: BinaryHeap<Reverse<Held>>,
    seq: u64,
    /// The latest time released.
    released: Option<DateTime<Utc>>,
    stats: OrderStats,
}

impl Orderer {
    pub fn new(opts: OrderOptions) -> Orderer {
        Orderer {
            opts,
            sources: Vec::new(),
            heap: BinaryHeap::new(),
            seq: 0,
            released: None,
            stats: OrderStats::default(),
        }
    }

    /// Registers a source; its number is what [`Orderer::push`] takes.
    pub fn add_source(&mut self) -> usize {
        self.sources.push(Src {
            latest: None,
            released: 0,
            active_at: None,
            finished: false,
        });
        self.sources.len() - 1
    }

    pub fn stats(&self) -> &OrderStats {
        &self.stats
    }

    /// Events held now.
    pub fn held(&self) -> usize {
        self.heap.len()
    }

    /// How many of `source`'s events have been released (to `out` of any call): always
    /// the first that many it handed out, in its order.
    pub fn released_from(&self, source: usize) -> u64 {
        self.sources.get(source).map_or(0, |s| s.released)
    }

    /// Takes one poll's events and state from `source`, in the source's order. Late
    /// events go to `out` at once; the others are held for [`Orderer::release`].
    pub fn push(
        &mut self,
        source: usize,
        events: Vec<Event>,
        state: SourceState,
        now: Instant,
        out: &mut Vec<Event>,
    ) {
        let Some(src) = self.sources.get_mut(source) else {
            return;
        };
        if !events.is_empty() || state == SourceState::Reading {
            src.active_at = Some(now);
        }
        src.finished = state == SourceState::Finished;
        for event in events {
            // Never before an event its source gave earlier.
            let time = src.latest.map_or(event.time, |l| l.max(event.time));
            src.latest = Some(time);
            if self.released.is_some_and(|r| time < r) {
                // Everything of its source before it was released: held items are
                // never older than what was released.
                self.stats.late += 1;
                self.stats.released += 1;
                src.released += 1;
                out.push(event);
                continue;
            }
            self.seq += 1;
            self.heap.push(Reverse(Held {
                time,
                seq: self.seq,
                source,
                event,
            }));
        }
    }

    /// The time up to which every event may be released: `None` when no source is
    /// active (release everything).
    pub fn watermark(&self, now: Instant) -> Option<DateTime<Utc>> {
        self.sources
            .iter()
            .filter(|s| {
                !s.finished
                    && s.active_at
                        .is_some_and(|t| now.saturating_duration_since(t) < self.opts.idle)
            })
            .filter_map(|s| s.latest)
            .min()
            .map(|t| t.checked_sub_signed(self.opts.lateness).unwrap_or(t))
    }

    /// Moves every event up to the watermark to `out`, in time order.
    pub fn release(&mut self, now: Instant, out: &mut Vec<Event>) {
        let watermark = self.watermark(now);
        while let Some(Reverse(top)) = self.heap.peek() {
            let due = watermark.is_none_or(|w| top.time <= w);
            let forced = self.heap.len() > self.opts.max_held;
            if !due && !forced {
                break;
            }
            let Some(Reverse(held)) = self.heap.pop() else {
                break;
            };
            self.stats.forced += u64::from(!due);
            self.take(held, out);
        }
    }

    /// Releases everything held (shutdown).
    pub fn drain(&mut self, out: &mut Vec<Event>) {
        while let Some(Reverse(held)) = self.heap.pop() {
            self.take(held, out);
        }
    }

    fn take(&mut self, held: Held, out: &mut Vec<Event>) {
        self.stats.released += 1;
        if let Some(s) = self.sources.get_mut(held.source) {
            s.released += 1;
        }
        self.released = Some(self.released.map_or(held.time, |r| r.max(held.time)));
        out.push(held.event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use keibi_model::{Action, SourceKind};
    use std::sync::Arc;

    fn ev(sec: u32, tag: &str) -> Event {
        let mut e = Event::new(
            Utc.with_ymd_and_hms(2026, 11, 28, 15, 0, sec).unwrap(),
            SourceKind::PostgresStderr,
            Arc::from(tag),
            u64::from(sec),
            Action::LoginFailure,
        );
        e.user = Some(tag.into());
        e
    }

    fn tags(v: &[Event]) -> Vec<String> {
        v.iter()
            .map(|e| format!("{}{}", e.file, e.time.format("%S")))
            .collect()
    }

    #[test]
    fn two_sources_are_merged_in_time_order() {
        let mut o = Orderer::new(OrderOptions::default());
        let (a, b) = (o.add_source(), o.add_source());
        let t = Instant::now();
        let mut out = Vec::new();
        o.push(
            a,
            vec![ev(1, "a"), ev(5, "a"), ev(9, "a")],
            SourceState::CaughtUp,
            t,
            &mut out,
        );
        o.push(
            b,
            vec![ev(2, "b"), ev(6, "b")],
            SourceState::CaughtUp,
            t,
            &mut out,
        );
        o.release(t, &mut out);
        // b has reached :06 only: a's :09 waits for b.
        assert_eq!(tags(&out), ["a01", "b02", "a05", "b06"]);
        o.push(b, vec![ev(10, "b")], SourceState::CaughtUp, t, &mut out);
        o.release(t, &mut out);
        assert_eq!(tags(&out)[4..], ["a09"]);
        o.push(a, vec![ev(11, "a")], SourceState::CaughtUp, t, &mut out);
        o.release(t, &mut out);
        assert_eq!(tags(&out)[5..], ["b10"]);
        assert_eq!(o.held(), 1);
    }

    #[test]
    fn a_quiet_source_stops_holding_the_others_back() {
        let mut o = Orderer::new(OrderOptions::default());
        let (a, b) = (o.add_source(), o.add_source());
        let t = Instant::now();
        let mut out = Vec::new();
        o.push(a, vec![ev(1, "a")], SourceState::CaughtUp, t, &mut out);
        o.push(
            b,
            vec![ev(2, "b"), ev(30, "b")],
            SourceState::CaughtUp,
            t,
            &mut out,
        );
        o.release(t, &mut out);
        assert_eq!(tags(&out), ["a01"]);
        // a says nothing more; b goes on.
        let later = t + Duration::from_millis(600);
        o.push(a, vec![], SourceState::CaughtUp, later, &mut out);
        o.push(b, vec![], SourceState::CaughtUp, later, &mut out);
        o.release(later, &mut out);
        assert_eq!(tags(&out), ["a01", "b02", "b30"]);
        // A source still reading its backlog is not quiet, events or not.
        let mut o = Orderer::new(OrderOptions::default());
        let (a, b) = (o.add_source(), o.add_source());
        o.push(a, vec![ev(1, "a")], SourceState::Reading, t, &mut out);
        o.push(b, vec![ev(2, "b")], SourceState::CaughtUp, t, &mut out);
        o.push(a, vec![], SourceState::Reading, later, &mut out);
        let mut out = Vec::new();
        o.release(later, &mut out);
        assert_eq!(tags(&out), ["a01"]);
    }

    #[test]
    fn late_events_pass_through_and_are_counted() {
        let mut o = Orderer::new(OrderOptions::default());
        let (a, b) = (o.add_source(), o.add_source());
        let t = Instant::now();
        let mut out = Vec::new();
        o.push(a, vec![ev(10, "a")], SourceState::CaughtUp, t, &mut out);
        o.push(b, vec![ev(20, "b")], SourceState::CaughtUp, t, &mut out);
        o.release(t, &mut out);
        // a went quiet; b's 20 went out; a speaks again with an older time.
        let later = t + Duration::from_millis(600);
        o.push(b, vec![], SourceState::CaughtUp, later, &mut out);
        o.release(later, &mut out);
        o.push(a, vec![ev(5, "a")], SourceState::CaughtUp, later, &mut out);
        assert_eq!(tags(&out), ["a10", "b20", "a05"]);
        assert_eq!(o.stats().late, 1);
        assert_eq!((o.released_from(a), o.released_from(b)), (2, 1));
        // Finished sources do not hold back; drain releases the rest.
        o.push(b, vec![ev(30, "b")], SourceState::CaughtUp, later, &mut out);
        o.push(a, vec![], SourceState::Finished, later, &mut out);
        o.release(later, &mut out);
        assert_eq!(tags(&out)[3..], ["b30"]);
        o.drain(&mut out);
        assert_eq!(o.stats().released, 4);
    }

    /// A source's events leave in its own order, so what is out of a source is
    /// always the first events it gave: an older one after a newer waits with it.
    #[test]
    fn one_sources_order_is_kept() {
        let mut o = Orderer::new(OrderOptions::default());
        let (a, b) = (o.add_source(), o.add_source());
        let t = Instant::now();
        let mut out = Vec::new();
        o.push(
            a,
            vec![ev(1, "a"), ev(8, "a"), ev(3, "a"), ev(9, "a")],
            SourceState::CaughtUp,
            t,
            &mut out,
        );
        o.push(b, vec![ev(5, "b")], SourceState::CaughtUp, t, &mut out);
        o.release(t, &mut out);
        assert_eq!(tags(&out), ["a01", "b05"]);
        assert_eq!(o.released_from(a), 1);
        o.push(b, vec![ev(8, "b")], SourceState::CaughtUp, t, &mut out);
        o.release(t, &mut out);
        // a's 03 came after its 08: it leaves with it, not before.
        assert_eq!(tags(&out), ["a01", "b05", "a08", "a03", "b08"]);
        assert_eq!((o.released_from(a), o.released_from(b)), (3, 2));
    }

    #[test]
    fn lateness_holds_events_that_much_longer() {
        let opts = OrderOptions {
            lateness: TimeDelta::seconds(5),
            ..OrderOptions::default()
        };
        let mut o = Orderer::new(opts);
        let (a, b) = (o.add_source(), o.add_source());
        let t = Instant::now();
        let mut out = Vec::new();
        o.push(
            a,
            vec![ev(1, "a"), ev(4, "a"), ev(8, "a")],
            SourceState::CaughtUp,
            t,
            &mut out,
        );
        o.release(t, &mut out);
        assert_eq!(tags(&out), ["a01"]);
        // Within the lateness, another source's older event still takes its place.
        o.push(b, vec![ev(3, "b")], SourceState::CaughtUp, t, &mut out);
        o.release(t, &mut out);
        assert_eq!(tags(&out), ["a01"]);
        o.release(t + Duration::from_secs(1), &mut out);
        assert_eq!(tags(&out), ["a01", "b03", "a04", "a08"]);
        assert_eq!(o.stats().late, 0);
    }

    #[test]
    fn memory_is_bounded() {
        let opts = OrderOptions {
            max_held: 3,
            ..OrderOptions::default()
        };
        let mut o = Orderer::new(opts);
        let (a, b) = (o.add_source(), o.add_source());
        let t = Instant::now();
        let mut out = Vec::new();
        o.push(b, vec![ev(0, "b")], SourceState::CaughtUp, t, &mut out);
        o.release(t, &mut out);
        o.push(
            a,
            (1..=10).map(|s| ev(s, "a")).collect(),
            SourceState::CaughtUp,
            t,
            &mut out,
        );
        o.release(t, &mut out);
        assert_eq!(o.held(), 3);
        assert_eq!(o.stats().forced, 7);
        assert_eq!(tags(&out)[1..3], ["a01", "a02"]);
    }
}
