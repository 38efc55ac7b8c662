//! The notifier: `keibi run`'s thread that sends the outbox.
//!
//! It holds its own connection to the store (WAL: the daemon's loop keeps
//! committing beside it) and nothing that matters in memory. Each step it writes
//! the "still going" entries that are due (open, unacknowledged findings grown
//! since people last heard, `repeat_interval` ago), routes the new outbox entries
//! ([`plan`]: keibi-notify's [`Router`] with what the store remembers — each
//! route's last notice of the finding for its throttle, the open `group_wait`
//! groups), schedules the daily summary when its slot came, and sends what is due:
//! a `group_wait` group due together as one digest, a notice past its channel's
//! hourly `rate_limit` held (`flood::Window`) and everything held sent as one
//! digest when the hour allows, the summary. Each message is marked in a
//! transaction of its own: sent right after the receiver's 2xx, due again after a
//! backoff for a transient failure (1 s doubling to 5 min, ±20% jitter, never
//! sooner than the receiver's `Retry-After`) until 24 hours after the first try,
//! failed at once for a permanent one. A kill at any moment leaves every delivery
//! pending, held, sent or failed in the store; the next start carries on from
//! there. An `action` entry (the journal's action reached a state a person hears
//! of) follows its finding's routes as any notice does, but no throttle holds it
//! back. The one window: a kill after the receiver took a message and before it
//! is marked sent sends it again, under the same key (`X-Keibi-Delivery`, a
//! PagerDuty dedup key; a digest's key is a hash of its deliveries' keys) so the
//! receiver can drop it.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use keibi_i18n::Locale;
use keibi_notify::channels::{self, BuildError};
use keibi_notify::flood::{self, Admit, LastTold, Window};
use keibi_notify::quiet::Daily;
use keibi_notify::route::{Hold, Told, Waiting};
use keibi_notify::settings::NotifySettings;
use keibi_notify::{Channel, Notice, NoticeKind, Outgoing, Router, Seen, SendError};
use keibi_store::{
    Delivery, OutboxEntry, OutboxKind, PlannedDelivery, RouteMemory, Store, StoreError,
};

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
/// At most this many held deliveries go in one digest (the rest in the next).
const DIGEST_MAX: usize = 500;
/// How often "still going" notices are looked for (`repeat_interval` is at least a
/// minute, so one is at most this late).
pub const STILL_GOING_EVERY: TimeDelta = TimeDelta::seconds(30);

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
    /// Several deliveries went out as one digest (a `group_wait` group, or what
    /// the rate limit held).
    SentDigest {
        channel: String,
        count: usize,
        key: String,
        detail: String,
    },
    /// The daily summary went out.
    SentSummary {
        channel: String,
        key: String,
        detail: String,
    },
    /// The store could not be read or written; tried again at the next step.
    Store(String),
}

/// What a step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Step {
    pub routed: usize,
    /// Deliveries (and summaries) sent.
    pub sent: usize,
    /// Messages sent (a digest carries several deliveries).
    pub messages: usize,
    /// Deliveries the rate limit held for a digest.
    pub held: usize,
    pub retried: usize,
    pub failed: usize,
}

/// What the store remembers for one finding, as the router reads it: each route's
/// last notice of it, and the `group_wait` groups still waiting (`keibi notify
/// routes` shows the same).
pub fn remembered(memory: &RouteMemory) -> (Vec<Told>, Vec<Waiting>) {
    let told = memory
        .told
        .iter()
        .map(|t| Told {
            route: t.route.clone(),
            at: t.at,
            severity: t.severity,
        })
        .collect();
    let waiting = memory
        .waiting
        .iter()
        .map(|w| Waiting {
            route: w.route.clone(),
            channel: w.channel.clone(),
            not_before: w.until,
        })
        .collect();
    (told, waiting)
}

/// The deliveries of one outbox entry, as [`Router::plan`] decides them at `now`
/// from what the store remembers (`memory`: this finding's last notice per route
/// for throttles, the open `group_wait` groups to join). The only place routing is
/// called.
pub fn plan(
    router: &Router,
    entry: &OutboxEntry,
    memory: &RouteMemory,
    now: DateTime<Utc>,
) -> Vec<PlannedDelivery> {
    if entry.kind == OutboxKind::Action && entry.action.is_none() {
        // Nothing to tell: without its action the notice would say the wrong thing.
        return Vec::new();
    }
    let (told, waiting) = remembered(memory);
    let kind = notice(entry).kind;
    router
        .plan(
            &entry.finding,
            &kind,
            now,
            Seen {
                told: &told,
                waiting: &waiting,
            },
        )
        .into_iter()
        .map(|p| PlannedDelivery {
            group_until: p.why.iter().find_map(|h| match h {
                Hold::GroupWait { until, .. } => Some(*until),
                Hold::QuietHours { .. } => None,
            }),
            channel: p.channel,
            route: Some(p.route),
            not_before: p.not_before,
        })
        .collect()
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
        OutboxKind::StillGoing => NoticeKind::StillGoing {
            count_then: e.count_then.unwrap_or(0),
            since: e.since.unwrap_or(e.at),
        },
        OutboxKind::Action => match &e.action {
            Some(a) => NoticeKind::Action { action: a.clone() },
            // An action entry the store could not read its action back for:
            // `plan` routes it nowhere, so this is never sent.
            None => NoticeKind::New,
        },
    };
    Notice {
        key: e.key.clone(),
        kind,
        finding: e.finding.clone(),
        at: e.at,
    }
}

/// A stable 64-bit FNV-1a hash (the same in every build, unlike std's hasher), for
/// the keys of digests.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.iter().chain(std::iter::once(&0xffu8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The idempotency key of a message carrying several deliveries: the same
/// deliveries give the same key (a retry, a restart).
pub fn digest_key(channel: &str, deliveries: &[Delivery]) -> String {
    let mut parts: Vec<&[u8]> = vec![channel.as_bytes()];
    parts.extend(deliveries.iter().map(|d| d.entry.key.as_bytes()));
    format!("digest-{:016x}", fnv(&parts))
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
    edge: channels::Edge<'_>,
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
        out.push(channels::build_with(spec, &style, edge)?);
    }
    Ok(out)
}

/// The notifier's state: its store connection, the channels, the compiled routes,
/// and in memory only what can be lost (how long to leave a failing channel alone).
pub struct Notifier {
    store: Store,
    settings: NotifySettings,
    channels: Vec<Box<dyn Channel>>,
    router: Router,
    daily: Option<Daily>,
    /// Per channel: failures in a row and when to try it again. Lost at a restart,
    /// which only means one early try.
    resting: HashMap<String, (u32, DateTime<Utc>)>,
    pruned_at: Option<DateTime<Utc>>,
    /// When notifications were first set up (read from the store at the first step).
    setup: Option<DateTime<Utc>>,
    /// When "still going" was last looked for (at most every [`STILL_GOING_EVERY`]:
    /// the query reads every finding people were told of).
    still_going_at: Option<DateTime<Utc>>,
    /// The wall clock (tests give their own).
    clock: Box<dyn Fn() -> DateTime<Utc> + Send>,
    /// In `keibi run --worker`: the worker whose `_sender` lease lets it send, and
    /// how long a claim on a message's deliveries holds ([`Notifier::with_claims`]).
    claims: Option<(String, Duration)>,
}

/// The settings' routes, quiet hours or summary zone cannot be compiled (`keibi
/// config check` reports the same with its place).
pub type PlanError = keibi_notify::route::RouteError;

/// One message to send on one channel: the deliveries it carries.
struct Message {
    channel: String,
    deliveries: Vec<Delivery>,
}

impl Notifier {
    pub fn new(
        store: Store,
        settings: NotifySettings,
        channels: Vec<Box<dyn Channel>>,
    ) -> Result<Notifier, PlanError> {
        let router = Router::new(&settings)?;
        let daily = settings
            .daily_summary
            .as_ref()
            .map(|d| Daily::new(d, settings.timezone.as_deref()))
            .transpose()
            .map_err(keibi_notify::route::RouteError)?;
        Ok(Notifier {
            store,
            settings,
            channels,
            router,
            daily,
            resting: HashMap::new(),
            pruned_at: None,
            setup: None,
            still_going_at: None,
            clock: Box::new(Utc::now),
            claims: None,
        })
    }

    /// Several workers share the store and only the holder of the `_sender` lease
    /// sends: before each message, its deliveries are claimed in the store under
    /// that lease ([`Store::claim_for_sending`], held for `hold`), so a sender that
    /// lost its lease with a message in hand and the one that took over never
    /// both send it. A message another sender claimed is left to it.
    pub fn with_claims(mut self, worker: &str, hold: Duration) -> Notifier {
        self.claims = Some((worker.to_string(), hold));
        self
    }

    /// Whether this notifier may send `ids` on `channel` now (always, without
    /// claims).
    fn claim(&mut self, ids: &[i64], channel: &str) -> Result<bool, StoreError> {
        let Some((worker, hold)) = &self.claims else {
            return Ok(true);
        };
        let lease = self
            .store
            .leases()?
            .into_iter()
            .find(|l| l.name == crate::worker::SENDER && &l.owner == worker);
        match lease {
            Some(l) => self
                .store
                .claim_for_sending(ids, channel, &l.fence(), *hold),
            None => Ok(false),
        }
    }

    /// The same notifier reading time from `clock`.
    pub fn with_clock(mut self, clock: Box<dyn Fn() -> DateTime<Utc> + Send>) -> Notifier {
        self.clock = clock;
        self
    }

    fn rests(&self, channel: &str, now: DateTime<Utc>) -> bool {
        self.resting.get(channel).is_some_and(|(_, t)| *t > now)
    }

    /// One step: writes the "still going" notices that are due, routes new entries,
    /// schedules the daily summary when its time came, then tries every due
    /// message once: a `group_wait` group as one message, a notice past its
    /// channel's rate limit held, the held ones as one digest when the hour
    /// allows, the summary.
    pub fn step(
        &mut self,
        stop: &AtomicBool,
        note: &mut dyn FnMut(NotifyNote),
    ) -> Result<Step, StoreError> {
        let now = (self.clock)();
        let mut step = Step::default();
        if self.setup.is_none() {
            self.setup = Some(self.store.notify_mark_once("setup", now)?);
        }
        if self
            .still_going_at
            .is_none_or(|t| now - t >= STILL_GOING_EVERY || now < t)
        {
            self.still_going_at = Some(now);
            self.still_going(now)?;
        }
        let router = &self.router;
        step.routed = self
            .store
            .route_outbox_with(BATCH, now, &mut |e, m| plan(router, e, m, now))?;
        self.schedule_summary(now)?;
        let resting: Vec<&str> = self
            .resting
            .iter()
            .filter(|(_, (_, t))| *t > now)
            .map(|(c, _)| c.as_str())
            .collect();
        let due = self.store.due_deliveries_except(now, BATCH, &resting)?;
        // Messages in the order of their first delivery: a group's deliveries due
        // together are one; held deliveries go in their channel's digest.
        let mut messages: Vec<Message> = Vec::new();
        let mut groups: HashMap<(String, String, DateTime<Utc>), usize> = HashMap::new();
        let mut digests: Vec<String> = Vec::new();
        for d in due {
            if d.held {
                if !digests.contains(&d.channel) {
                    digests.push(d.channel.clone());
                }
                continue;
            }
            // An export channel (OCSF file, Security Hub) takes each change on
            // its own: a digest lists only the first few.
            let export = self.is_export(&d.channel);
            if let (Some(route), Some(until), false) = (&d.route, d.group_until, export) {
                let k = (d.channel.clone(), route.clone(), until);
                if let Some(&i) = groups.get(&k) {
                    messages[i].deliveries.push(d);
                    continue;
                }
                groups.insert(k, messages.len());
            }
            messages.push(Message {
                channel: d.channel.clone(),
                deliveries: vec![d],
            });
        }
        for m in messages {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if self.rests(&m.channel, now) {
                continue;
            }
            self.deliver(m, now, &mut step, note)?;
        }
        for channel in digests {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if self.rests(&channel, now) {
                continue;
            }
            self.send_digest(&channel, now, &mut step, note)?;
        }
        self.send_summaries(now, stop, &mut step, note)?;
        if self.pruned_at.is_none_or(|t| now - t > TimeDelta::hours(1)) {
            self.pruned_at = Some(now);
            let keep = now - TimeDelta::from_std(KEEP_DONE).unwrap_or_default();
            self.store.prune_outbox(keep)?;
            self.store.prune_notify(now, keep)?;
        }
        Ok(step)
    }

    /// Writes a "still going" entry for each open, unacknowledged finding that grew
    /// since people last heard of it, `repeat_interval` ago or more.
    fn still_going(&mut self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let every = self.settings.repeat_interval;
        for g in self
            .store
            .still_going_candidates(now, every.chrono(), BATCH)?
        {
            let last = LastTold {
                at: g.told_at,
                count: g.told_count,
            };
            let open = g.status == keibi_store::Status::New;
            if let Some(NoticeKind::StillGoing { count_then, since }) =
                flood::still_going_due(&g.finding, open, last, every, now)
            {
                self.store
                    .add_still_going(&g.finding, count_then, since, now)?;
            }
        }
        Ok(())
    }

    /// The channel's rate limit (`rate_limit` an hour; 0 or an unknown channel:
    /// none).
    fn window(&self, channel: &str) -> Window {
        Window::new(
            self.settings
                .channel(channel)
                .filter(|c| !c.kind.is_export())
                .map_or(0, |c| c.rate_limit),
        )
    }

    /// Whether `channel` is an export (`ocsf_file`, `securityhub`): no rate limit
    /// holds its deliveries and a `group_wait` group does not become one digest.
    fn is_export(&self, channel: &str) -> bool {
        self.settings
            .channel(channel)
            .is_some_and(|c| c.kind.is_export())
    }

    /// Sends one message (a notice, or a group as a digest), unless the channel's
    /// rate limit holds it: a message not tried before is admitted by
    /// [`Window::admit`] (a retry was admitted already).
    fn deliver(
        &mut self,
        m: Message,
        now: DateTime<Utc>,
        step: &mut Step,
        note: &mut dyn FnMut(NotifyNote),
    ) -> Result<(), StoreError> {
        let mut m = m;
        let group = m
            .deliveries
            .first()
            .filter(|d| !self.is_export(&d.channel))
            .and_then(|d| d.route.clone().zip(d.group_until));
        if let Some((route, until)) = group {
            // The whole group, even the part a step's batch did not hold.
            let all = self
                .store
                .group_due(&m.channel, &route, until, now, DIGEST_MAX)?;
            if all.len() > m.deliveries.len() {
                m.deliveries = all;
            }
        }
        let ids: Vec<i64> = m.deliveries.iter().map(|d| d.entry.id).collect();
        let window = self.window(&m.channel);
        let fresh = m.deliveries.iter().all(|d| d.attempts == 0);
        if fresh && window.limit > 0 {
            let recent = self.store.sent_times(&m.channel, now - flood::HOUR)?;
            let held = self.store.held_count(&m.channel)?;
            if let Admit::Hold { digest_at } = window.admit(&recent, held, now) {
                self.store.mark_held(&ids, &m.channel, digest_at)?;
                step.held += ids.len();
                return Ok(());
            }
        }
        let (msg, key) = if m.deliveries.len() == 1 {
            let n = notice(&m.deliveries[0].entry);
            (Outgoing::One(Box::new(n)), None)
        } else {
            let key = digest_key(&m.channel, &m.deliveries);
            let held = m.deliveries.iter().map(|d| notice(&d.entry)).collect();
            match flood::digest(held, key.clone()) {
                Some(d) => (Outgoing::Digest(d), Some(key)),
                None => return Ok(()),
            }
        };
        self.send(&m, &msg, key.as_deref(), step, note)
    }

    /// What the channel's rate limit held goes as one digest when the hour allows
    /// one more message; until then the held deliveries wait for that time.
    fn send_digest(
        &mut self,
        channel: &str,
        now: DateTime<Utc>,
        step: &mut Step,
        note: &mut dyn FnMut(NotifyNote),
    ) -> Result<(), StoreError> {
        let window = self.window(channel);
        let recent = self.store.sent_times(channel, now - flood::HOUR)?;
        let held = self.store.held_count(channel)?;
        if held == 0 {
            return Ok(());
        }
        if !window.digest_due(&recent, held, now) {
            self.store
                .delay_held(channel, window.digest_at(&recent, now))?;
            return Ok(());
        }
        let deliveries = self.store.held_deliveries(channel, DIGEST_MAX)?;
        let key = digest_key(channel, &deliveries);
        let notices = deliveries.iter().map(|d| notice(&d.entry)).collect();
        let Some(d) = flood::digest(notices, key.clone()) else {
            return Ok(());
        };
        let m = Message {
            channel: channel.to_string(),
            deliveries,
        };
        self.send(&m, &Outgoing::Digest(d), Some(&key), step, note)
    }

    /// Sends `msg` on `m.channel` and marks every delivery it carries: sent right
    /// after the receiver's 2xx, due again after a backoff for a transient failure
    /// (failed 24 hours after the first try), failed for a permanent one.
    fn send(
        &mut self,
        m: &Message,
        msg: &Outgoing,
        digest: Option<&str>,
        step: &mut Step,
        note: &mut dyn FnMut(NotifyNote),
    ) -> Result<(), StoreError> {
        let ids: Vec<i64> = m.deliveries.iter().map(|d| d.entry.id).collect();
        let key = msg.key().to_string();
        if !self.claim(&ids, &m.channel)? {
            // Another sender has it, or this one lost its lease: not sent here.
            return Ok(());
        }
        let Some(ch) = self.channels.iter().find(|c| c.name() == m.channel) else {
            let error = format!("channel {} is no longer in the settings", m.channel);
            let at = (self.clock)();
            for id in &ids {
                self.store.mark_failed(*id, &m.channel, at, &error)?;
            }
            step.failed += ids.len();
            note(NotifyNote::Failed {
                channel: m.channel.clone(),
                key,
                error,
            });
            return Ok(());
        };
        let result = ch.send(msg);
        let at = (self.clock)();
        let first = m.deliveries.iter().filter_map(|d| d.first_at).min();
        let attempts = m.deliveries.iter().map(|d| d.attempts).max().unwrap_or(0);
        match result {
            Ok(sent) => {
                // The receiver has it: a store busy for a moment must not turn it
                // into a second send, so the mark is tried a few times.
                let mut tries = 0;
                loop {
                    match self
                        .store
                        .mark_sent_message(&ids, &m.channel, at, &sent.detail, digest)
                    {
                        Err(e) if e.is_transient() && tries < 5 => {
                            tries += 1;
                            std::thread::sleep(Duration::from_millis(500));
                        }
                        other => break other?,
                    }
                }
                self.resting.remove(&m.channel);
                step.sent += ids.len();
                step.messages += 1;
                match (digest, m.deliveries.first()) {
                    (None, Some(d)) => note(NotifyNote::Sent {
                        channel: m.channel.clone(),
                        event: d.entry.kind.as_str().to_string(),
                        finding_id: d.entry.finding.id.clone(),
                        key,
                        detail: sent.detail,
                    }),
                    _ => note(NotifyNote::SentDigest {
                        channel: m.channel.clone(),
                        count: ids.len(),
                        key,
                        detail: sent.detail,
                    }),
                }
            }
            Err(SendError::Transient {
                reason,
                retry_after,
            }) => {
                let first = first.unwrap_or(at);
                let given_up = (at - first).to_std().unwrap_or_default() >= GIVE_UP_AFTER;
                if given_up {
                    let error = format!("{reason} (gave up 24 hours after the first try)");
                    for id in &ids {
                        self.store.mark_failed(*id, &m.channel, at, &error)?;
                    }
                    step.failed += ids.len();
                    note(NotifyNote::Failed {
                        channel: m.channel.clone(),
                        key,
                        error,
                    });
                    return Ok(());
                }
                let next = self.rest(&m.channel, &key, attempts, retry_after, at);
                for id in &ids {
                    self.store.mark_retry(*id, &m.channel, at, &reason, next)?;
                }
                step.retried += ids.len();
                note(NotifyNote::Retry {
                    channel: m.channel.clone(),
                    key,
                    error: reason,
                    at: next,
                });
            }
            Err(SendError::Permanent { reason }) => {
                for id in &ids {
                    self.store.mark_failed(*id, &m.channel, at, &reason)?;
                }
                step.failed += ids.len();
                note(NotifyNote::Failed {
                    channel: m.channel.clone(),
                    key,
                    error: reason,
                });
            }
        }
        Ok(())
    }

    /// After a transient failure (the `attempts`-th before this one): when to try
    /// the message again, and how long the channel rests — as long as its failures
    /// in a row say, so an outage costs one try per backoff, not one per pending
    /// message.
    fn rest(
        &mut self,
        channel: &str,
        key: &str,
        attempts: u32,
        retry_after: Option<Duration>,
        at: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let attempts = attempts.saturating_add(1);
        let mut wait = backoff(attempts, key, channel);
        if let Some(r) = retry_after {
            wait = wait.max(r);
        }
        let row = self.resting.get(channel).map_or(0, |(n, _)| *n) + 1;
        let rest = wait.max(backoff(row, key, channel));
        self.resting.insert(
            channel.to_string(),
            (row, at + TimeDelta::from_std(rest).unwrap_or_default()),
        );
        at + TimeDelta::from_std(wait).unwrap_or_default()
    }

    /// Schedules the daily summary when its local time has come since the last one
    /// (or since notifications were set up): one per summary channel, in the store,
    /// so a restart neither repeats nor loses it.
    fn schedule_summary(&mut self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let Some(daily) = &self.daily else {
            return Ok(());
        };
        let setup = self.setup.unwrap_or(now);
        let last = self.store.last_summary_slot()?.unwrap_or(setup).max(setup);
        if let Some(slot) = flood::summary_due(last, now, daily) {
            let channels = self.settings.summary_channels();
            self.store.schedule_summary(slot, &channels, now)?;
        }
        Ok(())
    }

    /// Sends the due summary deliveries: the open findings as they are now.
    fn send_summaries(
        &mut self,
        now: DateTime<Utc>,
        stop: &AtomicBool,
        step: &mut Step,
        note: &mut dyn FnMut(NotifyNote),
    ) -> Result<(), StoreError> {
        let Some(daily) = &self.daily else {
            return Ok(());
        };
        let due = self.store.due_summaries(now, 16)?;
        if due.is_empty() {
            return Ok(());
        }
        let open = self.store.open_findings(flood::SUMMARY_LISTED)?;
        let dates: Vec<String> = due.iter().map(|s| daily.date_of(s.slot)).collect();
        for (s, date) in due.into_iter().zip(dates) {
            if stop.load(Ordering::Relaxed) || self.rests(&s.channel, now) {
                continue;
            }
            let key = format!("summary-{date}");
            let mut summary = flood::summarize(&open.listed, s.slot, key.clone());
            summary.by_label = open.by_label;
            summary.total = open.by_label.iter().sum();
            let Some(ch) = self.channels.iter().find(|c| c.name() == s.channel) else {
                let error = format!("channel {} is no longer in the settings", s.channel);
                self.store
                    .mark_summary(s.slot, &s.channel, now, Err((&error, None)))?;
                step.failed += 1;
                continue;
            };
            let result = ch.send(&Outgoing::Summary(summary));
            let at = (self.clock)();
            match result {
                Ok(sent) => {
                    self.store.mark_summary(s.slot, &s.channel, at, Ok(&key))?;
                    self.resting.remove(&s.channel);
                    step.sent += 1;
                    step.messages += 1;
                    note(NotifyNote::SentSummary {
                        channel: s.channel.clone(),
                        key,
                        detail: sent.detail,
                    });
                }
                Err(SendError::Transient {
                    reason,
                    retry_after,
                }) => {
                    let first = s.first_at.unwrap_or(at);
                    if (at - first).to_std().unwrap_or_default() >= GIVE_UP_AFTER {
                        let error = format!("{reason} (gave up 24 hours after the first try)");
                        self.store
                            .mark_summary(s.slot, &s.channel, at, Err((&error, None)))?;
                        step.failed += 1;
                        note(NotifyNote::Failed {
                            channel: s.channel.clone(),
                            key,
                            error,
                        });
                        continue;
                    }
                    let next = self.rest(&s.channel, &key, s.attempts, retry_after, at);
                    self.store
                        .mark_summary(s.slot, &s.channel, at, Err((&reason, Some(next))))?;
                    step.retried += 1;
                    note(NotifyNote::Retry {
                        channel: s.channel.clone(),
                        key,
                        error: reason,
                        at: next,
                    });
                }
                Err(SendError::Permanent { reason }) => {
                    self.store
                        .mark_summary(s.slot, &s.channel, at, Err((&reason, None)))?;
                    step.failed += 1;
                    note(NotifyNote::Failed {
                        channel: s.channel.clone(),
                        key,
                        error: reason,
                    });
                }
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
