//! The notifier: `keibi run`'s thread that sends the outbox.
//!
//! It holds its own connection to the store (WAL: the daemon's loop keeps
//! committing beside it) and nothing that matters in memory. Each step it gives the
//! new outbox entries their deliveries (one per channel an entry goes to: [`plan`]),
//! sends the due ones through [`Channel::send`], and marks each in a transaction of
//! its own: sent right after the receiver's 2xx, due again after a backoff for a
//! transient failure (1 s doubling to 5 min, ±20% jitter, never sooner than the
//! receiver's `Retry-After`) until 24 hours after the first try, failed at once for
//! a permanent one. A kill at any moment leaves every delivery pending, sent or
//! failed in the store; the next start sends what is pending. The one window: a
//! kill after the receiver took a message and before it is marked sent sends it
//! again, under the same key (`X-Keibi-Delivery`, a PagerDuty dedup key) so the
//! receiver can drop it.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use keibi_i18n::Locale;
use keibi_notify::channels::{self, BuildError};
use keibi_notify::settings::NotifySettings;
use keibi_notify::{Channel, Notice, NoticeKind, Outgoing, SendError};
use keibi_store::{Delivery, OutboxEntry, OutboxKind, Store, StoreError};

/// The first retry waits this long; each next one twice as long.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// No retry waits longer (before jitter).
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// A delivery still failing this long after its first try is failed.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Outbox entries whose deliveries are all done are deleted after this.
pub const KEEP_DONE: Duration = Duration::from_secs(30 * 24 * 3600);
/// How often the outbox is looked at for new entries when nothing is due.
pub const POLL: Duration = Duration::from_millis(250);

/// Entries routed and deliveries tried per step (bounded memory).
const BATCH: usize = 64;

/// What the notifier tells its operator.
#[derive(Debug, Clone, PartialEq)]
pub enum NotifyNote {
    Sent {
        channel: String,
        event: String,
        finding_id: String,
        key: String,
        detail: String,
    },
    Retry {
        channel: String,
        key: String,
        error: String,
        at: DateTime<Utc>,
    },
    Failed {
        channel: String,
        key: String,
        error: String,
    },
    /// The store could not be read or written; tried again at the next step.
    Store(String),
}

/// What a step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Step {
    pub routed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Which channels an outbox entry goes to. Today every channel; the routing of
/// `notify.routes` (quiet hours, throttles, digests) is to be called here, and only
/// here.
pub fn plan(settings: &NotifySettings, _entry: &OutboxEntry) -> Vec<String> {
    settings.channels.iter().map(|c| c.name.clone()).collect()
}

/// The notice a channel is handed for an outbox entry.
pub fn notice(e: &OutboxEntry) -> Notice {
    let kind = match e.kind {
        OutboxKind::New => NoticeKind::New,
        OutboxKind::Reopened => NoticeKind::Reopened,
        OutboxKind::SeverityRaised => NoticeKind::Raised {
            from: e.previous_severity.unwrap_or(e.finding.severity),
        },
        OutboxKind::Resolved => NoticeKind::Resolved { by: e.by.clone() },
    };
    Notice {
        key: e.key.clone(),
        kind,
        finding: e.finding.clone(),
        at: e.at,
    }
}

/// The wait before try `attempts + 1` of a delivery that failed `attempts` times
/// (at least 1): 1 s, 2 s, 4 s ... up to 5 min, then ±20%, the same for the same
/// key, channel and attempt (so a restart does not change it, and deliveries of one
/// outage spread out).
pub fn backoff(attempts: u32, key: &str, channel: &str) -> Duration {
    let exp = attempts.saturating_sub(1).min(16);
    let base = FIRST_BACKOFF
        .saturating_mul(1u32 << exp)
        .min(MAX_BACKOFF)
        .as_millis() as u64;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (key, channel, attempts).hash(&mut h);
    // 0.8 .. 1.2
    let permille = 800 + h.finish() % 401;
    Duration::from_millis(base * permille / 1000)
}

/// Builds every channel of the settings, each in its own language (`lang`, else
/// `base`'s); the first that cannot be built is the error (at start, not at the
/// first alert).
pub fn build_channels(
    settings: &NotifySettings,
    base: &Locale,
    sns: Option<channels::MakeSns<'_>>,
) -> Result<Vec<Box<dyn Channel>>, BuildError> {
    let mut out = Vec::new();
    for spec in &settings.channels {
        if let Some(lang) = &spec.lang {
            lang.parse::<keibi_i18n::Lang>()
                .map_err(|e| BuildError::Invalid {
                    name: spec.name.clone(),
                    reason: format!("lang: {e}"),
                })?;
        }
        // The channel's language, else notify.lang, else the display language; times
        // in notify.timezone, else the display zone; links to the dashboard.
        let mut style = settings.style_for(spec, Some(base.lang.code()));
        if settings.timezone.is_none() {
            style.locale.zone = base.zone.clone();
        }
        out.push(channels::build(spec, &style, sns)?);
    }
    Ok(out)
}

/// The notifier's state: its store connection, the channels, and in memory only
/// what can be lost (how long to leave a failing channel alone).
pub struct Notifier {
    store: Store,
    settings: NotifySettings,
    channels: Vec<Box<dyn Channel>>,
    /// Per channel: failures in a row and when to try it again. Lost at a restart,
    /// which only means one early try.
    resting: HashMap<String, (u32, DateTime<Utc>)>,
    pruned_at: Option<DateTime<Utc>>,
    /// The wall clock (tests give their own).
    clock: Box<dyn Fn() -> DateTime<Utc> + Send>,
}

impl Notifier {
    pub fn new(
        store: Store,
        settings: NotifySettings,
        channels: Vec<Box<dyn Channel>>,
    ) -> Notifier {
        Notifier {
            store,
            settings,
            channels,
            resting: HashMap::new(),
            pruned_at: None,
            clock: Box::new(Utc::now),
        }
    }

    /// The same notifier reading time from `clock`.
    pub fn with_clock(mut self, clock: Box<dyn Fn() -> DateTime<Utc> + Send>) -> Notifier {
        self.clock = clock;
        self
    }

    /// Routes new entries, then tries every due delivery once.
    pub fn step(
        &mut self,
        stop: &AtomicBool,
        note: &mut dyn FnMut(NotifyNote),
    ) -> Result<Step, StoreError> {
        let now = (self.clock)();
        let mut step = Step::default();
        let settings = &self.settings;
        step.routed = self
            .store
            .route_outbox(BATCH, now, &mut |e| plan(settings, e))?;
        let resting: Vec<&str> = self
            .resting
            .iter()
            .filter(|(_, (_, t))| *t > now)
            .map(|(c, _)| c.as_str())
            .collect();
        let due = self.store.due_deliveries_except(now, BATCH, &resting)?;
        for d in due {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if self.resting.get(&d.channel).is_some_and(|(_, t)| *t > now) {
                continue;
            }
            self.deliver(&d, &mut step, note)?;
        }
        if self.pruned_at.is_none_or(|t| now - t > TimeDelta::hours(1)) {
            self.pruned_at = Some(now);
            self.store
                .prune_outbox(now - TimeDelta::from_std(KEEP_DONE).unwrap_or_default())?;
        }
        Ok(step)
    }

    fn deliver(
        &mut self,
        d: &Delivery,
        step: &mut Step,
        note: &mut dyn FnMut(NotifyNote),
    ) -> Result<(), StoreError> {
        let id = d.entry.id;
        let Some(ch) = self.channels.iter().find(|c| c.name() == d.channel) else {
            let error = format!("channel {} is no longer in the settings", d.channel);
            self.store
                .mark_failed(id, &d.channel, (self.clock)(), &error)?;
            step.failed += 1;
            note(NotifyNote::Failed {
                channel: d.channel.clone(),
                key: d.entry.key.clone(),
                error,
            });
            return Ok(());
        };
        let msg = Outgoing::One(Box::new(notice(&d.entry)));
        let result = ch.send(&msg);
        let at = (self.clock)();
        match result {
            Ok(sent) => {
                // The receiver has it: a store busy for a moment must not turn it
                // into a second send, so the mark is tried a few times.
                let mut tries = 0;
                loop {
                    match self.store.mark_sent(id, &d.channel, at, &sent.detail) {
                        Err(e) if e.is_transient() && tries < 5 => {
                            tries += 1;
                            std::thread::sleep(Duration::from_millis(500));
                        }
                        other => break other?,
                    }
                }
                self.resting.remove(&d.channel);
                step.sent += 1;
                note(NotifyNote::Sent {
                    channel: d.channel.clone(),
                    event: d.entry.kind.as_str().to_string(),
                    finding_id: d.entry.finding.id.clone(),
                    key: d.entry.key.clone(),
                    detail: sent.detail,
                });
            }
            Err(SendError::Transient {
                reason,
                retry_after,
            }) => {
                let first = d.first_at.unwrap_or(at);
                let given_up = (at - first).to_std().unwrap_or_default() >= GIVE_UP_AFTER;
                if given_up {
                    let error = format!("{reason} (gave up 24 hours after the first try)");
                    self.store.mark_failed(id, &d.channel, at, &error)?;
                    step.failed += 1;
                    note(NotifyNote::Failed {
                        channel: d.channel.clone(),
                        key: d.entry.key.clone(),
                        error,
                    });
                    return Ok(());
                }
                let attempts = d.attempts.saturating_add(1);
                let mut wait = backoff(attempts, &d.entry.key, &d.channel);
                if let Some(r) = retry_after {
                    wait = wait.max(r);
                }
                // The channel rests as long as its failures in a row say, so an
                // outage costs one try per backoff, not one per pending delivery.
                let row = self.resting.get(&d.channel).map_or(0, |(n, _)| *n) + 1;
                let rest = wait.max(backoff(row, &d.entry.key, &d.channel));
                let next = at + TimeDelta::from_std(wait).unwrap_or_default();
                self.resting.insert(
                    d.channel.clone(),
                    (row, at + TimeDelta::from_std(rest).unwrap_or_default()),
                );
                self.store.mark_retry(id, &d.channel, at, &reason, next)?;
                step.retried += 1;
                note(NotifyNote::Retry {
                    channel: d.channel.clone(),
                    key: d.entry.key.clone(),
                    error: reason,
                    at: next,
                });
            }
            Err(SendError::Permanent { reason }) => {
                self.store.mark_failed(id, &d.channel, at, &reason)?;
                step.failed += 1;
                note(NotifyNote::Failed {
                    channel: d.channel.clone(),
                    key: d.entry.key.clone(),
                    error: reason,
                });
            }
        }
        Ok(())
    }

    /// Steps until `stop` is set: at once again while there was work, else after
    /// [`POLL`] or when the next delivery is due, whichever is sooner. A store error
    /// is told and tried again after a second.
    pub fn run(mut self, stop: &AtomicBool, note: &mut dyn FnMut(NotifyNote)) {
        while !stop.load(Ordering::Relaxed) {
            let wait = match self.step(stop, note) {
                Ok(s) if s.routed > 0 || s.sent > 0 => Duration::ZERO,
                Ok(_) => {
                    let until_due = self
                        .store
                        .next_due()
                        .ok()
                        .flatten()
                        .map(|t| (t - (self.clock)()).to_std().unwrap_or_default());
                    let until_rested = self
                        .resting
                        .values()
                        .map(|(_, t)| (*t - (self.clock)()).to_std().unwrap_or_default())
                        .min();
                    [Some(POLL), until_due, until_rested]
                        .into_iter()
                        .flatten()
                        .min()
                        .unwrap_or(POLL)
                        .max(Duration::from_millis(20))
                }
                Err(e) => {
                    note(NotifyNote::Store(e.to_string()));
                    Duration::from_secs(1)
                }
            };
            sleep_unless(stop, wait);
        }
    }
}

impl Notifier {
    /// Steps while they route or send something (at most `max_steps`): what
    /// `keibi run --once` does after its pass, so a cron run announces what it
    /// found. A delivery that fails stays pending for the next run.
    pub fn drain(
        &mut self,
        max_steps: usize,
        note: &mut dyn FnMut(NotifyNote),
    ) -> Result<Step, StoreError> {
        let stop = AtomicBool::new(false);
        let mut total = Step::default();
        for _ in 0..max_steps {
            let s = self.step(&stop, note)?;
            total.routed += s.routed;
            total.sent += s.sent;
            total.retried += s.retried;
            total.failed += s.failed;
            if s.routed == 0 && s.sent == 0 && s.failed == 0 {
                break;
            }
        }
        Ok(total)
    }
}

fn sleep_unless(stop: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(50);
    let mut left = total;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let d = left.min(step);
        std::thread::sleep(d);
        left -= d;
    }
}

/// The notifier on a thread of its own; `stop` ends it (after the send under way,
/// at most the channel's timeout).
pub struct Running {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Running {
    pub fn start(
        notifier: Notifier,
        mut note: Box<dyn FnMut(NotifyNote) + Send>,
    ) -> std::io::Result<Running> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("keibi-notify".into())
            .spawn(move || notifier.run(&flag, &mut *note))?;
        Ok(Running { stop, thread })
    }

    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests;
