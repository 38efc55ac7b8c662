//! The store findings aggregate in while a scan runs: one [`Finding`] per id, so an
//! activity that goes on grows one finding's `count` and `last_seen` (as GuardDuty
//! aggregates) instead of raising a new one per event.
//!
//! **Bounded, severity first.** At most [`MAX_FINDINGS`] findings are kept one by
//! one. When the store is full, a new finding more severe than the least severe kept
//! one takes its place, and the one it replaces is *rolled up*: folded into the one
//! roll-up finding of its detector and type ("Password guessing on shop-db from
//! 20,000 addresses: 19,990 findings rolled into one"), which keeps its count, time
//! span, addresses, users, evidence and the highest severity folded into it. A new
//! finding that is not more severe than every kept one is rolled up itself. So a
//! flood of small findings can never push out a severe one that follows, and what
//! is not kept one by one is still counted and still shown. Only when roll-ups
//! themselves run out ([`MAX_ROLLUPS`] detector-and-type pairs) is anything dropped
//! ([`Findings::dropped`]), and the scan says so.
//!
//! Detectors refer to findings by id, never by position: a finding that was rolled
//! up is reached through its old id (or the roll-up's) and what the detector adds to
//! it lands in the roll-up. See [`Findings::raise`] and [`Findings::get_mut`].

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use chrono::{DateTime, Utc};
use keibi_model::finding::{finding_id, insert_bounded, single, MAX_DISTINCT};
use keibi_model::{Finding, Resource, Severity};

use crate::text::thousands;

/// Distinct findings one scan keeps one by one (a few KB each). Attackers choose user
/// names and addresses, so the number of distinct keys is theirs to choose; beyond
/// this many, the least severe are rolled up (see the module documentation). Far more
/// findings than a person reads, far less memory than a machine has.
pub const MAX_FINDINGS: usize = 20_000;

/// Roll-up findings one scan keeps: one per detector and type that overflowed. Types
/// come from keibi's code and the rule files, not from logs; past this many, findings
/// that would need a new roll-up are dropped and counted.
pub const MAX_ROLLUPS: usize = 256;

/// Ids of rolled-up findings remembered (as 8-byte hashes), so that a detector holding
/// one reaches its roll-up and a repeat of the same key is not counted as a new
/// finding: 2^18 of them, about 6 MB at most.
const MAX_FOLDED_IDS: usize = 1 << 18;

/// Distinct addresses and users remembered (as 8-byte hashes) across all roll-ups to
/// count them exactly; past this, roll-ups say "at least".
const DISTINCT_BUDGET: usize = 1 << 18;

/// What a roll-up finding stands for, beside the finding itself.
#[derive(Debug, Clone, Default)]
pub struct Rollup {
    /// The roll-up finding's id: [`finding_id`] over its detector, its type and no
    /// key parts (every detector's key has at least one part).
    pub id: String,
    /// Distinct findings folded into it.
    pub findings: u64,
    addresses: HashSet<u64>,
    users: HashSet<u64>,
    /// The address and user counts are lower bounds (a folded finding had more than
    /// [`MAX_DISTINCT`], or the store's budget for counting them ran out).
    pub approx: bool,
    resources: Vec<String>,
    more_resources: bool,
}

impl Rollup {
    /// Distinct source addresses seen in the folded findings.
    pub fn addresses(&self) -> u64 {
        self.addresses.len() as u64
    }

    /// Distinct users seen in the folded findings.
    pub fn users(&self) -> u64 {
        self.users.len() as u64
    }
}

/// Which kept findings a detector was handed a `&mut` to since the store last looked:
/// their severity may have changed, and the eviction order must follow.
#[derive(Debug, Default, Clone, Copy)]
enum Handed {
    #[default]
    None,
    One(usize),
    All,
}

/// Findings by id, bounded as the module documentation says.
#[derive(Debug)]
pub struct Findings {
    cap: usize,
    index: HashMap<String, usize>,
    list: Vec<Finding>,
    /// Per slot of `list`: its severity in tenths as ranked, and when it was raised.
    meta: Vec<(u8, u64)>,
    /// Eviction order: least severe first, and among equals the most recently raised
    /// (the first findings of a flood stay, with the story of how it began).
    rank: BTreeSet<(u8, Reverse<u64>, usize)>,
    seq: u64,
    handed: Handed,
    rollups: Vec<(Finding, Rollup)>,
    rollup_at: HashMap<String, usize>,
    /// Hashes of rolled-up findings' ids, to their roll-up.
    folded: HashMap<u64, u32>,
    /// A finding handed to a detector that belongs in a roll-up: folded into it at the
    /// store's next call (the detector has finished with it by then), and whether it
    /// is a finding not folded before.
    pending: Option<Box<(usize, Finding, bool)>>,
    /// Where raises land when nothing can hold them: a scratch finding with an empty
    /// id, overwritten by every such raise and never reported.
    overflow: Option<Box<Finding>>,
    distinct_used: usize,
    trusted_events: u64,
    dropped: u64,
    /// Per slot of `list`: handed to a detector (or re-ranked) since the last
    /// [`Findings::changes`], and what that last report said of it.
    touched: Vec<bool>,
    reported: Vec<Option<Seen>>,
    /// Per roll-up: what the last report said of it.
    rollups_reported: Vec<Option<Seen>>,
    /// [`Findings::to_render`] lists every finding, not only touched ones.
    render_all: bool,
}

/// What the last [`Findings::changes`] reported of a finding.
#[derive(Debug, Clone, Copy)]
struct Seen {
    count: u64,
    last_seen: DateTime<Utc>,
    severity: Severity,
    closed: bool,
}

impl Default for Findings {
    fn default() -> Self {
        Findings::with_cap(MAX_FINDINGS)
    }
}

/// What identifies a finding and what it starts with.
pub struct Raise<'a> {
    pub detector: &'a str,
    pub finding_type: &'a str,
    /// The parts of the aggregation key after detector and type (instance, source
    /// address, user ...): the same parts give the same finding and the same id. At
    /// least one part: the empty key names the detector and type's roll-up.
    pub key: &'a [&'a str],
    pub severity: Severity,
    pub resource: Resource,
    pub time: DateTime<Utc>,
}

/// Everything a finished store holds.
#[derive(Debug, Default)]
pub struct Stored {
    /// Findings kept one by one, then roll-ups (texts written), most severe first.
    pub findings: Vec<Finding>,
    /// What each roll-up in `findings` stands for.
    pub rollups: Vec<Rollup>,
    pub dropped: u64,
    pub trusted_events: u64,
}

fn tenths(s: Severity) -> u8 {
    (s.value() * 10.0).round().clamp(0.0, 255.0) as u8
}

fn hash_of<T: Hash + ?Sized>(v: &T) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

impl Findings {
    /// A store keeping at most `cap` findings one by one (tests use small caps).
    pub fn with_cap(cap: usize) -> Findings {
        Findings {
            cap: cap.max(1),
            index: HashMap::new(),
            list: Vec::new(),
            meta: Vec::new(),
            rank: BTreeSet::new(),
            seq: 0,
            handed: Handed::None,
            rollups: Vec::new(),
            rollup_at: HashMap::new(),
            folded: HashMap::new(),
            pending: None,
            overflow: None,
            distinct_used: 0,
            trusted_events: 0,
            dropped: 0,
            touched: Vec::new(),
            reported: Vec::new(),
            rollups_reported: Vec::new(),
            render_all: true,
        }
    }

    /// How many findings it keeps one by one.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// The finding for this key, created (with count 0) when it is new. Grow it
    /// with [`Finding::absorb`]; a detector may also set its texts and severity.
    ///
    /// When the store is full and the new finding is not more severe than every kept
    /// one, what comes back is a fresh finding whose id is its roll-up's: whatever
    /// the detector adds to it is folded into the roll-up at the store's next call.
    /// Keep the returned id to come back with [`Findings::get_mut`].
    pub fn raise(&mut self, r: Raise<'_>) -> &mut Finding {
        self.settle();
        let id = finding_id(r.detector, r.finding_type, r.key);
        if let Some(&at) = self.index.get(&id) {
            self.handed = Handed::One(at);
            return &mut self.list[at];
        }
        let f = blank(
            r.detector,
            r.finding_type,
            id,
            r.severity,
            r.resource,
            r.time,
        );
        if let Some(&ri) = self.folded.get(&hash_of(&f.id)) {
            return self.scratch(ri as usize, f, false);
        }
        let sev = tenths(f.severity);
        if self.list.len() < self.cap {
            let at = self.list.len();
            self.seq += 1;
            self.meta.push((sev, self.seq));
            self.rank.insert((sev, Reverse(self.seq), at));
            self.index.insert(f.id.clone(), at);
            self.list.push(f);
            self.touched.push(true);
            self.reported.push(None);
            self.handed = Handed::One(at);
            return &mut self.list[at];
        }
        match self.rank.first().copied() {
            Some((least, _, at)) if sev > least => {
                self.rank.remove(&(least, Reverse(self.meta[at].1), at));
                self.index.insert(f.id.clone(), at);
                let old = std::mem::replace(&mut self.list[at], f);
                self.index.remove(&old.id);
                self.seq += 1;
                self.meta[at] = (sev, self.seq);
                self.rank.insert((sev, Reverse(self.seq), at));
                self.touched[at] = true;
                self.reported[at] = None;
                self.roll_up(old);
                self.handed = Handed::One(at);
                &mut self.list[at]
            }
            _ => match self.rollup_for(&f) {
                Some(ri) => {
                    if self.folded.len() < MAX_FOLDED_IDS {
                        self.folded.insert(hash_of(&f.id), ri as u32);
                    }
                    self.scratch(ri, f, true)
                }
                None => {
                    self.dropped += 1;
                    let mut f = f;
                    f.id = String::new();
                    self.overflow.insert(Box::new(f))
                }
            },
        }
    }

    /// The finding with this id, if raised: a kept one itself; for a rolled-up one
    /// (or its roll-up's id), a fresh finding folded into the roll-up at the store's
    /// next call, as [`Findings::raise`] hands out.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Finding> {
        self.settle();
        if let Some(&at) = self.index.get(id) {
            self.handed = Handed::One(at);
            return Some(&mut self.list[at]);
        }
        let ri = match self.rollup_at.get(id) {
            Some(&ri) => ri,
            None => *self.folded.get(&hash_of(id))? as usize,
        };
        let (r, meta) = &self.rollups[ri];
        let f = blank(
            &r.detector,
            &r.finding_type,
            meta.id.clone(),
            r.severity,
            r.resource.clone(),
            r.last_seen,
        );
        Some(self.scratch(ri, f, false))
    }

    /// Whether a finding with this id is kept (one by one, or as a roll-up's id):
    /// what a detector keeps per finding may be forgotten when this is false.
    pub fn holds(&self, id: &str) -> bool {
        self.index.contains_key(id) || self.rollup_at.contains_key(id)
    }

    /// This detector's findings kept one by one, to write final texts in
    /// [`crate::Detector::finish`] (roll-ups get theirs from the store).
    pub fn of_detector<'s>(
        &'s mut self,
        detector: &'s str,
    ) -> impl Iterator<Item = &'s mut Finding> + 's {
        self.settle();
        self.handed = Handed::All;
        self.list.iter_mut().filter(move |f| f.detector == detector)
    }

    /// This detector's findings kept one by one whose texts [`crate::Detector::render`]
    /// writes now: every one when the input ends (or outside a live scan), else those
    /// handed out or re-ranked since the last [`Findings::changes`].
    pub fn to_render<'s>(
        &'s mut self,
        detector: &'s str,
    ) -> impl Iterator<Item = &'s mut Finding> + 's {
        self.settle();
        self.handed = Handed::All;
        let all = self.render_all;
        self.list
            .iter_mut()
            .zip(&self.touched)
            .filter(move |(f, t)| (all || **t) && f.detector == detector)
            .map(|(f, _)| f)
    }

    /// Whether the finding with this id is one [`Findings::to_render`] would list
    /// (for detectors that keep texts by id, whatever their findings' `detector`).
    pub fn needs_render(&self, id: &str) -> bool {
        match self.index.get(id) {
            Some(&at) => self.render_all || self.touched.get(at).copied().unwrap_or(true),
            None => self.render_all,
        }
    }

    /// Whether [`Findings::to_render`] lists every finding (the default) or only those
    /// touched since the last [`Findings::changes`] (a live scan between batches).
    pub fn set_render_all(&mut self, all: bool) {
        self.render_all = all;
    }

    /// Marks the findings that [`Findings::changes`] will close at `watermark` as
    /// touched, so that their texts are rendered once more before they are reported
    /// closed (a text may speak of how the log went on after its last event).
    pub fn touch_closing(
        &mut self,
        watermark: DateTime<Utc>,
        quiet_after: &dyn Fn(&str) -> Option<chrono::Duration>,
    ) {
        self.settle();
        for (at, f) in self.list.iter().enumerate() {
            if self.reported[at].is_some_and(|s| !s.closed) && closes(f, watermark, quiet_after) {
                self.touched[at] = true;
            }
        }
    }

    /// What changed since the last call, each with the finding as it now stands (texts
    /// as last rendered; roll-ups' written now): new findings, grown ones, more severe
    /// ones, and closed ones, those whose `last_seen` plus `quiet_after(detector)` is
    /// before `watermark` (every one when `watermark` is `MAX_UTC`). With `forget`,
    /// closed findings leave the store once reported (not roll-ups): their ids are free
    /// again, and a later raise of one is reported as new.
    pub fn changes(
        &mut self,
        watermark: DateTime<Utc>,
        quiet_after: &dyn Fn(&str) -> Option<chrono::Duration>,
        forget: bool,
    ) -> Vec<keibi_model::FindingChange> {
        use keibi_model::{ChangeKind as K, FindingChange as C};
        // `added`: events the finding absorbed since its previous change in this run.
        let change = |kind, finding: Finding, before: u64| C {
            added: finding.count.saturating_sub(before),
            kind,
            finding,
        };
        self.settle();
        let end = watermark == DateTime::<Utc>::MAX_UTC;
        let mut out = Vec::new();
        let mut closed = Vec::new();
        for at in 0..self.list.len() {
            let f = &self.list[at];
            if f.id.is_empty() || f.count == 0 {
                continue;
            }
            let was = self.reported[at];
            if self.touched[at] || was.is_none() {
                self.touched[at] = false;
                let change = match was {
                    None => Some(change(K::New, f.clone(), 0)),
                    Some(w) if f.severity > w.severity => {
                        Some(change(K::SeverityRaised, f.clone(), w.count))
                    }
                    Some(w) if f.count != w.count || f.last_seen != w.last_seen => {
                        Some(change(K::Grew, f.clone(), w.count))
                    }
                    Some(_) => None,
                };
                if let Some(c) = change {
                    out.push(c);
                    self.reported[at] = Some(Seen {
                        count: f.count,
                        last_seen: f.last_seen,
                        severity: f.severity,
                        closed: false,
                    });
                }
            }
            let Some(seen) = self.reported[at].as_mut() else {
                continue;
            };
            if seen.closed {
                continue;
            }
            if closes(f, watermark, quiet_after) {
                seen.closed = true;
                out.push(change(K::Closed, f.clone(), f.count));
                closed.push(at);
            }
        }
        for (ri, (f, meta)) in self.rollups.iter().enumerate() {
            let was = self.rollups_reported[ri];
            if f.count == 0 {
                continue;
            }
            let moved = match was {
                None => true,
                Some(w) => {
                    f.count != w.count || f.last_seen != w.last_seen || f.severity > w.severity
                }
            };
            let closing = end && was.is_some_and(|w| !w.closed);
            if !moved && !closing {
                continue;
            }
            let mut snap = f.clone();
            meta.write(&mut snap);
            if moved {
                out.push(match was {
                    None => change(K::New, snap.clone(), 0),
                    Some(w) if f.severity > w.severity => {
                        change(K::SeverityRaised, snap.clone(), w.count)
                    }
                    Some(w) => change(K::Grew, snap.clone(), w.count),
                });
            }
            if end {
                let count = snap.count;
                out.push(change(K::Closed, snap, count));
            }
            self.rollups_reported[ri] = Some(Seen {
                count: f.count,
                last_seen: f.last_seen,
                severity: f.severity,
                closed: end,
            });
        }
        if forget {
            for at in closed.into_iter().rev() {
                self.forget(at);
            }
        }
        out
    }

    /// Removes the finding in slot `at` (settled: nothing handed out).
    fn forget(&mut self, at: usize) {
        if at >= self.list.len() {
            return;
        }
        let (sev, seq) = self.meta[at];
        self.rank.remove(&(sev, Reverse(seq), at));
        let f = self.list.swap_remove(at);
        self.meta.swap_remove(at);
        self.touched.swap_remove(at);
        self.reported.swap_remove(at);
        self.index.remove(&f.id);
        let moved = self.list.len();
        if at < moved {
            let (sev, seq) = self.meta[at];
            self.rank.remove(&(sev, Reverse(seq), moved));
            self.rank.insert((sev, Reverse(seq), at));
            self.index.insert(self.list[at].id.clone(), at);
        }
    }

    /// Counts an event a detector ignored because its address is trusted.
    pub fn note_trusted(&mut self) {
        self.trusted_events += 1;
    }

    /// New findings that were neither kept nor rolled up (only when more than
    /// [`MAX_ROLLUPS`] detector-and-type pairs overflowed).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Findings folded into roll-ups so far.
    pub fn rolled_up(&self) -> u64 {
        self.rollups.iter().map(|r| r.1.findings).sum::<u64>()
            + self.pending.as_deref().map_or(0, |p| u64::from(p.2))
    }

    /// Events ignored because they came from trusted addresses.
    pub fn trusted_events(&self) -> u64 {
        self.trusted_events
    }

    /// Findings kept, roll-ups included.
    pub fn len(&self) -> usize {
        self.list.len() + self.rollups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All findings, most severe first (see [`sort`]), roll-ups with their texts.
    pub fn into_sorted(self) -> Vec<Finding> {
        self.finish().findings
    }

    /// Ends the store: roll-ups get their texts, and everything is sorted.
    pub fn finish(mut self) -> Stored {
        self.settle();
        let mut rollups = Vec::with_capacity(self.rollups.len());
        let mut findings = self.list;
        for (mut f, r) in self.rollups {
            r.write(&mut f);
            findings.push(f);
            rollups.push(r);
        }
        sort(&mut findings);
        Stored {
            findings,
            rollups,
            dropped: self.dropped,
            trusted_events: self.trusted_events,
        }
    }

    /// Hands out `f` as a stand-in for roll-up `ri`, to be folded in at the next call.
    fn scratch(&mut self, ri: usize, mut f: Finding, new: bool) -> &mut Finding {
        if f.id != self.rollups[ri].1.id {
            f.id.clone_from(&self.rollups[ri].1.id);
        }
        &mut self.pending.insert(Box::new((ri, f, new))).1
    }

    /// Folds what a detector did with the last finding handed out into the store:
    /// a stand-in into its roll-up, a kept finding's new severity into the order.
    fn settle(&mut self) {
        if let Some(p) = self.pending.take() {
            let (ri, f, new) = *p;
            self.fold(ri, &f, new);
        }
        match std::mem::take(&mut self.handed) {
            Handed::None => {}
            Handed::One(at) => {
                if let Some(t) = self.touched.get_mut(at) {
                    *t = true;
                }
                self.rerank(at)
            }
            Handed::All => (0..self.list.len()).for_each(|at| self.rerank(at)),
        }
    }

    fn rerank(&mut self, at: usize) {
        let Some(f) = self.list.get(at) else {
            return;
        };
        let now = tenths(f.severity);
        let (was, seq) = self.meta[at];
        if now != was {
            self.rank.remove(&(was, Reverse(seq), at));
            self.rank.insert((now, Reverse(seq), at));
            self.meta[at].0 = now;
            self.touched[at] = true;
        }
    }

    /// Folds a finding that leaves the kept ones into its roll-up (dropped, and
    /// counted, when no roll-up can be had).
    fn roll_up(&mut self, f: Finding) {
        match self.rollup_for(&f) {
            Some(ri) => {
                if self.folded.len() < MAX_FOLDED_IDS {
                    self.folded.insert(hash_of(&f.id), ri as u32);
                }
                self.fold(ri, &f, true);
            }
            None => self.dropped += 1,
        }
    }

    /// The roll-up of `f`'s detector and type, made when new and there is room.
    fn rollup_for(&mut self, f: &Finding) -> Option<usize> {
        let id = finding_id(&f.detector, &f.finding_type, &[]);
        if let Some(&ri) = self.rollup_at.get(&id) {
            return Some(ri);
        }
        if self.rollups.len() >= MAX_ROLLUPS {
            return None;
        }
        let mut r = Finding::new(
            &f.detector,
            &f.finding_type,
            &[],
            f.severity,
            f.resource.clone(),
            f.first_seen,
        );
        r.resource.engine = None;
        let meta = Rollup {
            id: id.clone(),
            ..Rollup::default()
        };
        self.rollups.push((r, meta));
        self.rollups_reported.push(None);
        self.rollup_at.insert(id, self.rollups.len() - 1);
        Some(self.rollups.len() - 1)
    }

    fn fold(&mut self, ri: usize, f: &Finding, new: bool) {
        let Some((r, meta)) = self.rollups.get_mut(ri) else {
            return;
        };
        fold_into(r, meta, f, new, &mut self.distinct_used);
    }
}

/// Whether `f` is closed at `watermark`: the input ended (`MAX_UTC`), or its
/// detector's quiet time since its `last_seen` is over.
fn closes(
    f: &Finding,
    watermark: DateTime<Utc>,
    quiet_after: &dyn Fn(&str) -> Option<chrono::Duration>,
) -> bool {
    watermark == DateTime::<Utc>::MAX_UTC
        || quiet_after(&f.detector).is_some_and(|d| {
            f.last_seen
                .checked_add_signed(d)
                .is_some_and(|until| until < watermark)
        })
}

/// [`Finding::new`] with its id already computed (no second hash per event).
fn blank(
    detector: &str,
    finding_type: &str,
    id: String,
    severity: Severity,
    resource: Resource,
    time: DateTime<Utc>,
) -> Finding {
    Finding {
        id,
        finding_type: finding_type.to_string(),
        severity,
        title: String::new(),
        description: String::new(),
        remediation: String::new(),
        suggested_actions: Vec::new(),
        mitre: Vec::new(),
        resource,
        actor: Default::default(),
        first_seen: time,
        last_seen: time,
        count: 0,
        evidence: Vec::new(),
        detector: detector.to_string(),
        text: None,
    }
}

/// Adds a finding to a roll-up: count, span, highest severity, addresses, users,
/// evidence and resources; `new` when it was not folded before.
fn fold_into(r: &mut Finding, meta: &mut Rollup, f: &Finding, new: bool, budget: &mut usize) {
    if f.count > 0 {
        if r.count == 0 {
            r.first_seen = f.first_seen;
            r.last_seen = f.last_seen;
        } else {
            r.first_seen = r.first_seen.min(f.first_seen);
            r.last_seen = r.last_seen.max(f.last_seen);
        }
    }
    r.count = r.count.saturating_add(f.count);
    if f.severity > r.severity {
        r.severity = f.severity;
    }
    meta.findings += u64::from(new);
    for ip in f.actor.ip.iter().chain(&f.actor.ips) {
        r.actor.ips_truncated |= insert_bounded(&mut r.actor.ips, ip);
        meta.approx |= !count_distinct(&mut meta.addresses, hash_of(ip), budget);
    }
    for user in f.actor.user.iter().chain(&f.actor.users) {
        r.actor.users_truncated |= insert_bounded(&mut r.actor.users, user);
        meta.approx |= !count_distinct(&mut meta.users, hash_of(user.as_str()), budget);
    }
    meta.approx |= f.actor.ips_truncated || f.actor.users_truncated;
    r.actor.ip = single(&r.actor.ips, r.actor.ips_truncated);
    r.actor.user = single(&r.actor.users, r.actor.users_truncated);
    if r.actor.app.is_none() {
        r.actor.app.clone_from(&f.actor.app);
    }
    if r.resource.engine.is_none() {
        r.resource.engine.clone_from(&f.resource.engine);
    }
    if r.mitre.is_empty() {
        r.mitre.clone_from(&f.mitre);
    }
    for e in &f.evidence {
        r.push_evidence(e.clone());
    }
    if !meta.resources.contains(&f.resource.id) {
        if meta.resources.len() < 8 {
            meta.resources.push(f.resource.id.clone());
        } else {
            meta.more_resources = true;
        }
    }
}

/// Counts `h` in `set` unless the budget is spent; false when it could not be
/// counted (the count is then a lower bound).
fn count_distinct(set: &mut HashSet<u64>, h: u64, budget: &mut usize) -> bool {
    if set.contains(&h) {
        return true;
    }
    if *budget >= DISTINCT_BUDGET {
        return false;
    }
    set.insert(h);
    *budget += 1;
    true
}

impl Rollup {
    /// Writes the roll-up's title, description and remediation from its numbers.
    fn write(&self, f: &mut Finding) {
        let what = phrase(&f.finding_type);
        let on = match self.resources.as_slice() {
            [one] if !self.more_resources => one.clone(),
            list => format!(
                "{}{} resources",
                if self.more_resources {
                    "more than "
                } else {
                    ""
                },
                list.len()
            ),
        };
        let at_least = if self.approx { "at least " } else { "" };
        let n = |v: u64, one: &str, many: &str| {
            format!(
                "{at_least}{} {}",
                thousands(v),
                if v == 1 { one } else { many }
            )
        };
        let addresses = self.addresses();
        let users = self.users();
        let findings = format!(
            "{} {}",
            thousands(self.findings),
            if self.findings == 1 {
                "finding"
            } else {
                "findings"
            }
        );
        f.title = if addresses > 0 {
            format!(
                "{what} on {on} from {}: {findings} rolled into one",
                n(addresses, "address", "addresses")
            )
        } else {
            format!("{what} on {on}: {findings} rolled into one")
        };
        let mut from = Vec::new();
        if addresses > 0 {
            from.push(format!("from {}", n(addresses, "address", "addresses")));
        }
        if users > 0 {
            from.push(format!("as {}", n(users, "user", "users")));
        }
        let resources = if self.resources.len() > 1 || self.more_resources {
            format!(
                " on {}{}",
                self.resources.join(", "),
                if self.more_resources { " and more" } else { "" }
            )
        } else {
            String::new()
        };
        f.description = format!(
            "A scan keeps at most {} findings one by one, the most severe; the rest are rolled up by detector and type. \
             This finding stands for {findings} of type {} raised by {}: {} between {} and {}{}{resources}. \
             The most severe of them was {} ({}). The evidence shows the first and the latest of their events; the actor lists at most {} addresses and users.",
            thousands(MAX_FINDINGS as u64),
            f.finding_type,
            f.detector,
            if f.count == 1 { "1 event".to_string() } else { format!("{} events", thousands(f.count)) },
            f.first_seen.format("%Y-%m-%d %H:%M:%S UTC"),
            f.last_seen.format("%Y-%m-%d %H:%M:%S UTC"),
            if from.is_empty() { String::new() } else { format!(", {}", from.join(" ")) },
            f.severity,
            f.severity.label(),
            MAX_DISTINCT,
        );
        f.remediation = format!(
            "Treat this as {findings} of type {}: the findings of that type listed one by one say what each means and what to do. \
             To see these one by one, scan a narrower time window (--since/--until) or fewer files.",
            f.finding_type
        );
    }
}

/// What a roll-up of this type is about, in words.
fn phrase(finding_type: &str) -> String {
    let family = finding_type.rsplit('/').next().unwrap_or(finding_type);
    let guessing = [
        "BruteForce",
        "PasswordSpray",
        "CredentialStuffing",
        "FailedLogin",
    ];
    if guessing.iter().any(|g| family.contains(g)) {
        "Password guessing".to_string()
    } else {
        family.to_string()
    }
}

/// Joins the stores of a scan's lanes into one, keeping one store's guarantees: at
/// most `cap` findings one by one (the most severe), the rest rolled up by detector
/// and type, roll-ups of the same detector and type merged.
pub fn merge(stores: impl IntoIterator<Item = Stored>, cap: usize) -> Stored {
    let mut all = Stored::default();
    let mut rollups: Vec<(Finding, Rollup)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut budget = 0usize;
    for s in stores {
        all.dropped += s.dropped;
        all.trusted_events += s.trusted_events;
        let ids: HashSet<&str> = s.rollups.iter().map(|r| r.id.as_str()).collect();
        let (mine, theirs): (Vec<Finding>, Vec<Finding>) = s
            .findings
            .into_iter()
            .partition(|f| ids.contains(f.id.as_str()));
        all.findings.extend(theirs);
        for r in s.rollups {
            budget += r.addresses.len() + r.users.len();
            let Some(f) = mine.iter().find(|f| f.id == r.id).cloned() else {
                continue;
            };
            match at.get(&r.id) {
                Some(&i) => {
                    let (into, meta) = &mut rollups[i];
                    let findings = r.findings;
                    fold_into(into, meta, &f, false, &mut budget);
                    meta.findings += findings;
                    meta.addresses.extend(r.addresses);
                    meta.users.extend(r.users);
                    meta.approx |= r.approx;
                }
                None => {
                    at.insert(r.id.clone(), rollups.len());
                    rollups.push((f, r));
                }
            }
        }
    }
    sort(&mut all.findings);
    if all.findings.len() > cap {
        for f in all.findings.split_off(cap) {
            let id = finding_id(&f.detector, &f.finding_type, &[]);
            let i = match at.get(&id) {
                Some(&i) => i,
                None if rollups.len() < MAX_ROLLUPS => {
                    let mut r = Finding::new(
                        &f.detector,
                        &f.finding_type,
                        &[],
                        f.severity,
                        f.resource.clone(),
                        f.first_seen,
                    );
                    r.resource.engine = None;
                    at.insert(id.clone(), rollups.len());
                    rollups.push((
                        r,
                        Rollup {
                            id,
                            ..Rollup::default()
                        },
                    ));
                    rollups.len() - 1
                }
                None => {
                    all.dropped += 1;
                    continue;
                }
            };
            let (into, meta) = &mut rollups[i];
            fold_into(into, meta, &f, true, &mut budget);
        }
    }
    for (mut f, r) in rollups {
        r.write(&mut f);
        all.findings.push(f);
        all.rollups.push(r);
    }
    sort(&mut all.findings);
    all
}

/// Most severe first, then earliest first, then by id: a total order, so findings
/// gathered in several stores (one per scan lane) print as one store's would.
pub fn sort(list: &mut [Finding]) {
    list.sort_by(|a, b| {
        b.severity
            .value()
            .total_cmp(&a.severity.value())
            .then(a.first_seen.cmp(&b.first_seen))
            .then(a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod change_tests;

#[cfg(test)]
mod tests;
