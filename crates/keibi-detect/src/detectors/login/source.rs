//! What one address does to one instance: `BruteForce`, `PasswordSpray` and
//! `AnomalousBehavior.SuccessfulBruteForce`.
//!
//! An IPv6 source is its /64 ([`super::source_of`]): a client owns at least a /64 and
//! may rotate through it, one address per attempt. Its findings' keys and texts name
//! the network (`2001:db8:1:2::/64`); `actor.ips` lists the addresses used. IPv4
//! sources are single addresses, with the same finding ids as ever.
//!
//! Per (instance, address) it keeps an *episode*: failed logins with no gap longer
//! than the brute-force window. An episode becomes a BruteForce when it reaches
//! `brute_force_failures` failures within the window (volume), a short burst of
//! attempts faster than a person types (`brute_force_burst_*`), or, from a public
//! address, `brute_force_fast_failures` within `brute_force_fast_secs` (a tool's first
//! seconds, cut short by a firewall or a ban). From then on every failure of the
//! episode grows the one finding for (instance, address); a later episode that
//! qualifies again grows the same finding, as GuardDuty aggregates.
//!
//! Its severity weighs who the address is (`docs/detection-thresholds.md`): Medium
//! by volume, by a login right after a burst, or by a burst from a public address
//! that never logged in here; half a point more from a public address when the
//! server said a tried user name does not exist (user enumeration). Low for a known
//! client of every user it failed for, for a burst from a private address or from
//! one that logged in here before, and for volume from a private address failing
//! for one existing user at a steady rate (a pool or health check with an old
//! password: no fast form ever met).
//!
//! An episode spread thinly over many user names is a PasswordSpray (at least
//! `spray_users` names within `spray_window_secs`, at most
//! `spray_max_attempts_per_user` failures per name on average); while it looks like
//! one it raises no BruteForce as well, as the same failures would be reported twice.
//!
//! A login for a targeted user after `successful_brute_force_failures` failures of the
//! episode is a SuccessfulBruteForce, unless the address was already a known client of
//! that user (it had logged in as it `known_client_logins` times before): then the
//! failures were an application with an out-of-date password, and the BruteForce says
//! so at Low severity.
//!
//! **Memory bound**: at most `max_tracked_sources` addresses (least recently active
//! forgotten first), each holding at most `max(brute_force_failures,
//! brute_force_fast_failures)` failure times (20 with the defaults), the attempts of
//! the last burst window (16 at most with the defaults), 10 evidence
//! references and `max(8, spray_users + 1)` user slots (names cut to 64 bytes).
//! Measured (massif, release build): about 2.4 KB per address at worst (each failing
//! 24 times with 8 user names of 63 bytes), 23 MB for 9,500 such addresses; about
//! 0.6 KB for an address that failed once (6 MB at the 10,000 bound under a flood
//! of 500,000 addresses). Forgetting an address loses its history, never a finding
//! already raised.
//!
//! **Limit**: an attack spread over more than `max_tracked_sources` addresses that
//! are all active at once, each staying under the thresholds, cycles every address
//! out before it returns and is not counted per address (the bound wins over
//! recall); CredentialStuffing still sees it when it targets the same users.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use keibi_model::finding::{Evidence, EVIDENCE_HEAD};
use keibi_model::{Event, Finding, Severity};

use super::lru::Lru;
use super::source_text;
use super::{
    absorb_backlog, classify, ms, push_small, source_name, source_of, unknown_user, user_of,
    Instances, Kind, Notes, Ref, Repeats,
};
use crate::config::LoginConfig;
use crate::detector::{db_resource, Context, Detector};
use crate::detectors::baseline::is_public;
use crate::findings::Raise;

pub(crate) const ID: &str = "login_source";
pub(crate) const BRUTE_FORCE: &str = "CredentialAccess:RDS/BruteForce";
pub(crate) const SPRAY: &str = "CredentialAccess:RDS/PasswordSpray";
pub(crate) const SUCCESSFUL: &str = "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce";

/// The finding types this detector raises (see [`crate::catalog`]).
pub(crate) fn specs() -> Vec<keibi_model::FindingSpec> {
    vec![
        keibi_model::FindingSpec::new(
            BRUTE_FORCE,
            5.0,
            &["T1110.001"],
            "Brute force",
            "Block the address and keep the database off the internet; make sure the targeted user has a strong password.",
            &[keibi_model::ActionKind::BlockAddress],
        ),
        keibi_model::FindingSpec::new(
            SPRAY,
            6.0,
            &["T1110.003"],
            "Password spray",
            "Block the address; check that none of the tried user names exists with a weak password.",
            &[keibi_model::ActionKind::BlockAddress],
        ),
        keibi_model::FindingSpec::new(
            SUCCESSFUL,
            8.0,
            &["T1110.001"],
            "Successful login after a brute force",
            "Treat the password as known: block the address, lock the role, end its sessions, change the password and review what it did.",
            &[keibi_model::ActionKind::BlockAddress, keibi_model::ActionKind::LockRole, keibi_model::ActionKind::EndSessions],
        ),
    ]
}

/// A login this soon after a failure of a short burst makes the burst Medium: either
/// the tool found the password or a person fixed it, and either deserves a look.
const QUICK_LOGIN_MS: i64 = 60_000;

/// Thresholds in the units the detector computes with.
struct Limits {
    failures: usize,
    window: i64,
    burst_attempts: usize,
    burst_failures: usize,
    burst: i64,
    /// Attempts kept for the burst test: those within `burst`, at most this many.
    burst_keep: usize,
    fast_failures: usize,
    fast: i64,
    /// Failure times kept: enough for the volume and the fast form.
    fails_keep: usize,
    successful: u64,
    known: u32,
    spray_users: usize,
    spray_ratio: u64,
    spray_window: i64,
    user_slots: usize,
}

impl Limits {
    fn of(c: &LoginConfig) -> Limits {
        let secs = |s: u64| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX);
        Limits {
            failures: (c.brute_force_failures as usize).max(1),
            window: secs(c.brute_force_window_secs),
            burst_attempts: (c.brute_force_burst_attempts as usize).max(1),
            burst_failures: c.brute_force_burst_failures as usize,
            burst: secs(c.brute_force_burst_secs),
            burst_keep: (c
                .brute_force_burst_attempts
                .max(c.brute_force_burst_failures) as usize)
                .clamp(16, 1024),
            fast_failures: (c.brute_force_fast_failures as usize).clamp(2, 1024),
            fast: secs(c.brute_force_fast_secs),
            fails_keep: (c.brute_force_failures as usize)
                .max(1)
                .max((c.brute_force_fast_failures as usize).clamp(2, 1024)),
            successful: u64::from(c.successful_brute_force_failures.max(1)),
            known: c.known_client_logins.max(1),
            spray_users: (c.spray_users as usize).max(2),
            spray_ratio: u64::from(c.spray_max_attempts_per_user.max(1)),
            spray_window: secs(c.spray_window_secs),
            user_slots: (c.spray_users as usize + 1).max(8),
        }
    }
}

/// Brute force, password spraying and success after failures, per source address.
pub struct SourceDetector {
    lim: Limits,
    instances: Instances,
    repeats: Repeats,
    sources: Lru<(u32, IpAddr), Box<Source>>,
    notes: Notes<Note>,
}

impl SourceDetector {
    pub fn new(c: &LoginConfig) -> Self {
        SourceDetector {
            lim: Limits::of(c),
            instances: Instances::default(),
            repeats: Repeats::default(),
            sources: Lru::new(c.max_tracked_sources),
            notes: Notes::default(),
        }
    }

    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.sources.len()
    }
}

#[derive(Default)]
struct Source {
    /// Times of the latest failures, at most `fails_keep` of them.
    fails: VecDeque<i64>,
    /// The attempts (failure: true, or never-authenticated connection) within the
    /// burst window, at most `burst_keep`.
    burst: VecDeque<(i64, bool)>,
    ep: Episode,
    users: Vec<Slot>,
    /// A targeted user's slot was forgotten during this episode (too many names).
    users_dropped: bool,
    /// The PasswordSpray finding while the spray goes on, and its last failure.
    spray: Option<Box<(String, i64)>>,
}

/// Failures with no gap longer than the window.
#[derive(Default)]
struct Episode {
    start: i64,
    last: i64,
    failures: u64,
    /// Connections that never authenticated, during the episode.
    probes: u64,
    /// The first failures, kept until the episode becomes a finding.
    head: Vec<Ref>,
    /// The BruteForce finding, once the episode qualified.
    bf: Option<String>,
    /// Logins from the address during the episode: how many, the first, and whether
    /// one was a targeted user's right after a failure.
    logins: u64,
    first_login: Option<Box<(DateTime<Utc>, String)>>,
    quick_login: bool,
    /// Some failure of the episode came in a fast form (burst or fast): not the
    /// steady rate of a pool or a health check.
    fast: bool,
}

impl Episode {
    fn active(&self, now: i64, window: i64) -> bool {
        self.failures > 0 && now.saturating_sub(self.last) <= window
    }
}

/// What an address did as one user.
struct Slot {
    name: Arc<str>,
    last: i64,
    last_fail: i64,
    /// Failures in the current spray window, and the first of them.
    window_fails: u64,
    first: Option<Ref>,
    /// The server said this user does not exist.
    missing: bool,
    /// Failures since the last login as this user from here.
    streak: u64,
    /// Logins as this user from here.
    logins: u32,
    /// When the first of them was (`i64::MAX`: none yet).
    first_login: i64,
    /// The SuccessfulBruteForce finding for this user from here.
    sbf: Option<String>,
}

/// Facts for the final texts, per finding.
#[derive(Default)]
pub(super) struct Note {
    /// BruteForce: reached the volume threshold (else only a short burst).
    pub(super) volume: bool,
    /// Connections from the address that never authenticated, during its failures.
    pub(super) probes: u64,
    /// Logins from the address after its failures began: how many, and the first.
    pub(super) logins_after: u64,
    pub(super) first_login_after: Option<(DateTime<Utc>, String)>,
    /// A targeted user logged in within [`QUICK_LOGIN_MS`] of a failure.
    pub(super) quick_login: bool,
    /// A user the address was a known client of, and its earlier logins.
    pub(super) known: Option<(String, u32)>,
    /// Failures for users the address was not a known client of.
    pub(super) unknown_client_failures: u64,
    /// PasswordSpray and BruteForce: user names the server said do not exist.
    pub(super) missing_users: u64,
    /// BruteForce: the source is a public address.
    pub(super) public: bool,
    /// BruteForce: before its first failures, the address had logged in here as a
    /// user it then failed for.
    pub(super) seen: bool,
    /// BruteForce: some failures came faster than a steady retry (a fast form).
    pub(super) fast: bool,
    /// SuccessfulBruteForce: failures of the episode before the login, as this user,
    /// and when the episode began.
    pub(super) failures_before: u64,
    pub(super) user_failures: u64,
    pub(super) episode_start: Option<DateTime<Utc>>,
}

fn time_of(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Detector for SourceDetector {
    fn id(&self) -> &'static str {
        ID
    }

    fn catalog(&self) -> Vec<crate::catalog::Entry> {
        crate::catalog::Entry::of_detector(self.id(), specs())
    }

    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>) {
        let Some(inst) = self.instances.see(ev) else {
            return;
        };
        let Some(kind) = classify(ev) else {
            return;
        };
        let Some(ip) = ev.client_ip else {
            return;
        };
        if kind == Kind::Connected || self.repeats.is_repeat(inst, ev, kind) {
            return;
        }
        self.notes.prune(cx.findings);
        let ip = source_of(ip);
        let key = (inst, ip);
        self.sources.touch(&key, Box::default);
        let Some(src) = self.sources.get_mut(&key) else {
            return;
        };
        let mut at = At {
            lim: &self.lim,
            notes: &mut self.notes,
            instance: self.instances.name(inst),
            ip,
            ev,
            now: ms(ev.time),
        };
        match kind {
            Kind::Failed => src.failure(&mut at, cx),
            Kind::Probe => src.probe(&mut at, cx),
            Kind::Authenticated => src.login(&mut at, cx),
            Kind::Connected => {}
        }
    }

    fn quiet_after(&self) -> Option<Duration> {
        // After the longest window with nothing new, a new failure starts a new
        // episode and a login no longer follows the brute force.
        let l = &self.lim;
        let longest = l
            .window
            .max(l.spray_window)
            .max(l.burst)
            .max(QUICK_LOGIN_MS);
        Some(Duration::try_milliseconds(longest).unwrap_or(Duration::MAX))
    }

    /// A source's failures, episodes and "a login after the failures" all end after
    /// the longest window with nothing new (its quiet time).
    fn replay_horizon(&self) -> Option<Duration> {
        self.quiet_after()
    }

    fn render(&mut self, cx: &mut Context<'_>) {
        let notes = &self.notes;
        let instances = cx.instances;
        for f in cx.findings.to_render(ID) {
            let note = notes.get(&f.id);
            let end = instances.end(&f.resource.id);
            match f.finding_type.as_str() {
                BRUTE_FORCE => source_text::brute_force(f, note, end),
                SPRAY => source_text::spray(f, note, end),
                SUCCESSFUL => source_text::successful(f, note),
                _ => {}
            }
        }
    }
}

/// The event being observed and what it is observed with.
struct At<'a> {
    lim: &'a Limits,
    notes: &'a mut Notes<Note>,
    instance: &'a str,
    /// The source ([`source_of`]): the address, or an IPv6 address's /64.
    ip: IpAddr,
    ev: &'a Event,
    now: i64,
}

impl At<'_> {
    fn raise<'c>(
        &self,
        cx: &'c mut Context<'_>,
        t: &str,
        key: &[&str],
        sev: f64,
    ) -> &'c mut Finding {
        cx.findings.raise(Raise {
            detector: ID,
            finding_type: t,
            key,
            severity: Severity::new(sev),
            resource: db_resource(self.ev),
            time: self.ev.time,
        })
    }
}

impl Source {
    fn failure(&mut self, at: &mut At<'_>, cx: &mut Context<'_>) {
        let (lim, now) = (at.lim, at.now);
        if self.ep.failures > 0 && !self.ep.active(now, lim.window) {
            self.ep = Episode::default();
            self.users_dropped = false;
        }
        if self.ep.failures == 0 {
            self.ep.start = now;
        }
        self.ep.failures += 1;
        self.ep.last = now;
        push_bounded(&mut self.fails, now, lim.fails_keep);
        self.attempt(now, true, lim);
        let public = is_public(at.ip);
        self.ep.fast |= self.fast_form(now, lim, true);

        let slot = user_of(at.ev).map(|name| self.slot(name, now, lim));
        let mut newly_missing = false;
        let mut known = false;
        let mut name = None;
        if let Some(i) = slot {
            let s = &mut self.users[i];
            if now.saturating_sub(s.last_fail) > lim.spray_window {
                s.window_fails = 0;
                s.first = None;
            }
            s.window_fails += 1;
            if s.first.is_none() {
                s.first = Some(Ref::of(at.ev, Some(s.name.clone())));
            }
            s.last_fail = now;
            s.streak += 1;
            newly_missing = !s.missing && unknown_user(at.ev);
            s.missing |= newly_missing;
            known = s.logins >= lim.known;
            name = Some(s.name.clone());
            if known {
                let (n, logins) = (s.name.to_string(), s.logins);
                if let Some(id) = &self.ep.bf {
                    if let Some(note) = at.notes.of(id) {
                        note.known = Some((n, logins));
                    }
                }
            }
        }

        match &self.ep.bf {
            Some(id) => {
                if let Some(f) = cx.findings.get_mut(id) {
                    f.absorb(at.ev);
                }
                let volume = self.volume(now, lim);
                let fast = self.ep.fast;
                if let Some(note) = at.notes.of(id) {
                    note.volume |= volume;
                    note.fast |= fast;
                    note.missing_users += u64::from(newly_missing);
                    note.unknown_client_failures += u64::from(!known);
                }
            }
            None => match self.qualifies(now, lim, public) {
                Some(volume) if !self.spray_like(now, lim) => {
                    self.raise_brute_force(at, cx, Some(at.ev), volume)
                }
                _ => {
                    if self.ep.head.len() < EVIDENCE_HEAD {
                        push_small(&mut self.ep.head, Ref::of(at.ev, name), EVIDENCE_HEAD);
                    }
                }
            },
        }
        self.spray(at, cx, newly_missing);
    }

    fn probe(&mut self, at: &mut At<'_>, cx: &mut Context<'_>) {
        let (lim, now) = (at.lim, at.now);
        self.attempt(now, false, lim);
        if !self.ep.active(now, lim.window) {
            return;
        }
        self.ep.probes += 1;
        if let Some(note) = self.ep.bf.as_deref().and_then(|id| at.notes.of(id)) {
            note.probes += 1;
        } else if let Some(volume) = self.qualifies(now, lim, is_public(at.ip)) {
            if !self.spray_like(now, lim) {
                self.raise_brute_force(at, cx, None, volume);
            }
        }
    }

    fn login(&mut self, at: &mut At<'_>, cx: &mut Context<'_>) {
        let (lim, now) = (at.lim, at.now);
        let active = self.ep.active(now, lim.window);
        let Some(name) = user_of(at.ev) else {
            return;
        };
        let i = self.slot(name, now, lim);
        let s = &self.users[i];
        let targeted = active && (s.last_fail >= self.ep.start || self.users_dropped);
        let known = s.logins >= lim.known;

        if active {
            let quick = targeted && !known && now.saturating_sub(self.ep.last) <= QUICK_LOGIN_MS;
            let first = (at.ev.time, s.name.to_string());
            let ep = &mut self.ep;
            ep.logins += 1;
            ep.quick_login |= quick;
            if ep.first_login.is_none() {
                ep.first_login = Some(Box::new(first.clone()));
            }
            if let Some(note) = ep.bf.as_deref().and_then(|id| at.notes.of(id)) {
                note.logins_after += 1;
                note.quick_login |= quick;
                if note.first_login_after.is_none() {
                    note.first_login_after = Some(first);
                }
            }
        }

        if let Some(id) = &s.sbf {
            // The guessed password in use again.
            if let Some(f) = cx.findings.get_mut(id) {
                f.absorb(at.ev);
            }
        } else if targeted && !known && self.ep.failures >= lim.successful {
            let ip = source_name(at.ip);
            let f = at.raise(cx, SUCCESSFUL, &[at.instance, &ip, &s.name], 8.0);
            for r in self.ep.head.iter().take(EVIDENCE_HEAD / 2) {
                f.push_evidence(Evidence::Line {
                    source: r.file.clone(),
                    line: r.line,
                });
            }
            f.absorb(at.ev);
            let id = f.id.clone();
            if let Some(note) = at.notes.of(&id) {
                note.failures_before = self.ep.failures;
                note.user_failures = s.streak;
                note.episode_start = Some(time_of(self.ep.start));
            }
            self.users[i].sbf = Some(id);
        }
        let s = &mut self.users[i];
        s.logins = s.logins.saturating_add(1);
        s.first_login = s.first_login.min(now);
        s.streak = 0;
    }

    /// Whether the failures so far make a brute force: `Some(true)` by volume,
    /// `Some(false)` by a short burst (the fast form only from a public address).
    fn qualifies(&self, now: i64, lim: &Limits, public: bool) -> Option<bool> {
        if self.volume(now, lim) {
            return Some(true);
        }
        self.fast_form(now, lim, public).then_some(false)
    }

    /// A short burst of attempts (`brute_force_burst_*`), or `fast_failures` failures
    /// within the fast window when `fast` is asked for.
    fn fast_form(&self, now: i64, lim: &Limits, fast: bool) -> bool {
        let recent = self
            .burst
            .iter()
            .filter(|&&(t, _)| now.saturating_sub(t) <= lim.burst);
        let burst = recent.clone().count() >= lim.burst_attempts
            && recent.filter(|b| b.1).count() >= lim.burst_failures;
        burst || (fast && self.within(lim.fast_failures, lim.fast, now))
    }

    /// Whether the latest `n` failures all fall within `window` before `now`.
    fn within(&self, n: usize, window: i64, now: i64) -> bool {
        let len = self.fails.len();
        len >= n
            && self
                .fails
                .get(len - n)
                .is_some_and(|&t| now.saturating_sub(t) <= window)
    }

    /// Notes an attempt for the burst test, forgetting those out of its window.
    fn attempt(&mut self, now: i64, failed: bool, lim: &Limits) {
        while self
            .burst
            .front()
            .is_some_and(|&(t, _)| now.saturating_sub(t) > lim.burst)
        {
            self.burst.pop_front();
        }
        push_bounded(&mut self.burst, (now, failed), lim.burst_keep);
    }

    fn volume(&self, now: i64, lim: &Limits) -> bool {
        self.within(lim.failures, lim.window, now)
    }

    /// Raises (or grows again) the address's BruteForce with the episode so far.
    fn raise_brute_force(
        &mut self,
        at: &mut At<'_>,
        cx: &mut Context<'_>,
        ev: Option<&Event>,
        volume: bool,
    ) {
        let ip = source_name(at.ip);
        let f = at.raise(cx, BRUTE_FORCE, &[at.instance, &ip], 5.0);
        let first = f.count == 0;
        absorb_backlog(f, at.instance, &self.ep.head, ev, self.ep.failures);
        let id = f.id.clone();
        // The failures so far are an out-of-date application's only if every user they
        // were for had logged in from here often before.
        let targeted = self.users.iter().filter(|s| s.last_fail >= self.ep.start);
        let known = targeted
            .clone()
            .filter(|s| s.logins >= at.lim.known)
            .max_by_key(|s| s.logins)
            .map(|s| (s.name.to_string(), s.logins));
        let all_known = !self.users_dropped && targeted.clone().all(|s| s.logins >= at.lim.known);
        let start = self.ep.start;
        let seen = targeted.clone().any(|s| s.first_login < start);
        let missing = targeted.clone().filter(|s| s.missing).count() as u64;
        if let Some(note) = at.notes.of(&id) {
            note.volume |= volume;
            note.public = is_public(at.ip);
            if first {
                // Logins before the first failures only: a login the attack itself
                // won does not make the address a client.
                note.seen = seen;
            }
            note.fast |= self.ep.fast;
            note.missing_users = note.missing_users.max(missing);
            note.logins_after += self.ep.logins;
            note.probes += self.ep.probes;
            note.quick_login |= self.ep.quick_login;
            if note.first_login_after.is_none() {
                note.first_login_after = self.ep.first_login.as_deref().cloned();
            }
            if known.is_some() {
                note.known = known;
            }
            if !all_known {
                note.unknown_client_failures += self.ep.failures;
            }
        }
        self.ep.bf = Some(id);
    }

    fn spray(&mut self, at: &mut At<'_>, cx: &mut Context<'_>, newly_missing: bool) {
        let (lim, now) = (at.lim, at.now);
        // A spray that turns into many tries per name (hydra -u looping over a user
        // list) ends here; the brute force takes over.
        let thin = self.spray_like(now, lim);
        if let Some((id, last)) = self.spray.as_deref_mut() {
            if thin && now.saturating_sub(*last) <= lim.spray_window {
                *last = now;
                if let Some(f) = cx.findings.get_mut(id) {
                    f.absorb(at.ev);
                }
                if let Some(note) = at.notes.of(id) {
                    note.missing_users += u64::from(newly_missing);
                }
                return;
            }
            self.spray = None;
            return;
        }
        if !thin {
            return;
        }
        let recent =
            |s: &&Slot| s.window_fails > 0 && now.saturating_sub(s.last_fail) <= lim.spray_window;
        let total: u64 = self
            .users
            .iter()
            .filter(recent)
            .map(|s| s.window_fails)
            .sum();
        let mut backlog: Vec<Ref> = self
            .users
            .iter()
            .filter(recent)
            .filter_map(|s| s.first.clone())
            .filter(|r| !r.is_of(at.ev))
            .collect();
        backlog.sort_by_key(|r| r.time);
        let missing = self
            .users
            .iter()
            .filter(recent)
            .filter(|s| s.missing)
            .count() as u64;
        let ip = source_name(at.ip);
        let f = at.raise(cx, SPRAY, &[at.instance, &ip], 6.0);
        absorb_backlog(f, at.instance, &backlog, Some(at.ev), total);
        let id = f.id.clone();
        if let Some(note) = at.notes.of(&id) {
            note.missing_users += missing;
        }
        self.spray = Some(Box::new((id, now)));
    }

    /// Whether the recent failures are spread thinly over many user names.
    fn spray_like(&self, now: i64, lim: &Limits) -> bool {
        let recent =
            |s: &&Slot| s.window_fails > 0 && now.saturating_sub(s.last_fail) <= lim.spray_window;
        let distinct = self.users.iter().filter(recent).count();
        let total: u64 = self
            .users
            .iter()
            .filter(recent)
            .map(|s| s.window_fails)
            .sum();
        distinct >= lim.spray_users && total <= distinct as u64 * lim.spray_ratio
    }

    /// The slot of a user name, made (forgetting the least recently active slot when
    /// full) if new.
    fn slot(&mut self, name: Arc<str>, now: i64, lim: &Limits) -> usize {
        if let Some(i) = self.users.iter().position(|s| s.name == name) {
            self.users[i].last = now;
            return i;
        }
        if self.users.len() >= lim.user_slots {
            if let Some((i, _)) = self.users.iter().enumerate().min_by_key(|(_, s)| s.last) {
                let gone = self.users.swap_remove(i);
                self.users_dropped |= gone.last_fail >= self.ep.start && self.ep.failures > 0;
            }
        }
        push_small(
            &mut self.users,
            Slot {
                name,
                last: now,
                last_fail: i64::MIN,
                window_fails: 0,
                first: None,
                missing: false,
                streak: 0,
                logins: 0,
                first_login: i64::MAX,
                sbf: None,
            },
            lim.user_slots,
        );
        self.users.len() - 1
    }
}

/// Pushes, keeping at most `cap`. Capacity grows from one (not four), doubling: most
/// addresses fail once or twice, and thousands of them are kept.
fn push_bounded<T>(q: &mut VecDeque<T>, v: T, cap: usize) {
    if q.len() == q.capacity() {
        q.reserve_exact(q.len().clamp(1, cap.max(1)));
    }
    q.push_back(v);
    while q.len() > cap {
        q.pop_front();
    }
}
