//! Impact:RDS/MassDestruction: many tables or databases destroyed in a short time.
//!
//! The detector counts the distinct tables and databases one actor (user, else
//! client) destroys on one instance: DROP TABLE/DATABASE/SCHEMA, TRUNCATE, DELETE
//! without WHERE. Ordinary life destroys tables too, and the detector tells it apart
//! by what comes next:
//!
//! * a dump restore (`mysqldump` files, `pg_restore --clean`) drops each table and
//!   creates it again; an ETL job truncates a staging table and reloads it. An object
//!   that the same actor creates again or refills (CREATE, INSERT, COPY ... FROM,
//!   LOAD DATA) within `mass_destruction_settle_secs` was replaced, not destroyed (an
//!   application inserting into a table someone else emptied does not count);
//! * a job or migration that creates a work table and drops it later destroyed
//!   nothing that existed before: drops of tables created on the instance within the
//!   window are not counted, and a database or schema created on the instance
//!   earlier in the stream (a CI run's test databases) weighs as one table when
//!   dropped;
//! * a deploy's migrations drop a few tables: the threshold
//!   (`mass_destruction_objects`, 10 distinct objects within
//!   `mass_destruction_window_secs`) is far above that.
//!
//! Destruction is weighed, not counted: a dropped database or schema takes every
//! table in it, so it weighs a third of the threshold (4 of 10 by default: three
//! databases dropped within the window are mass destruction, as ten tables are); a
//! TRUNCATE or DELETE without WHERE that the log says removed many rows (the slow
//! log's and audit plugins' affected rows) weighs 2 from [`BIG_ROWS`] rows and as a
//! database from [`HUGE_ROWS`]; any other table weighs 1.
//!
//! So a destroyed object counts once it has *settled* (not come back within the
//! settle time); the finding is raised then, or when the input ends. The delay is the
//! price of never paging anyone for a restore.
//!
//! State: per instance and actor, at most 2×threshold (16-256) destroyed objects
//! waiting and as many counted, at most [`MAX_CREATED`] recent creations per
//! instance, at most [`MAX_MADE`] databases and schemas created per instance (for
//! [`MAX_MADE_INSTANCES`] instances), at most [`MAX_DUE`] objects waiting in all; past `max_tracked_actors`
//! actors the idle ones, then the least recently active instances, are forgotten.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Duration, Utc};
use keibi_model::{Arg, Event, FindingText, Msg, Severity, Statement};

use super::sqltext::{self, Verb};
use super::{
    actor_of, engine_msg, mark_event, name_msg, names_arg, plus, restore_time, secs, statement_of,
    Mark,
};
use crate::config::ActivityConfig;
use crate::detector::{db_resource, Context, Detector};
use crate::findings::Raise;
use crate::sigma::meta::list_arg;

const MASS_ID: &str = "activity-mass-destruction";
const MASS_TYPE: &str = "Impact:RDS/MassDestruction";

/// The finding types this detector raises (see [`crate::catalog`]).
pub(crate) fn specs() -> Vec<keibi_model::FindingSpec> {
    vec![
        keibi_model::FindingSpec::new(
            MASS_TYPE,
            8.0,
            &["T1485"],
            "Mass destruction",
            "End the user's sessions and lock it, then restore the dropped or emptied tables from a snapshot or backup.",
            &[keibi_model::ActionKind::EndSessions, keibi_model::ActionKind::LockRole],
        ),
    ]
}

/// Recent creations remembered per instance (drops of them are not destruction).
const MAX_CREATED: usize = 256;
/// Objects waiting to settle, over all instances; beyond it the oldest settle early.
const MAX_DUE: usize = 65_536;
/// Databases and schemas remembered per instance as created here (for the stream's
/// life: their drops weigh as one table), the oldest forgotten first.
const MAX_MADE: usize = 4096;
/// Instances whose created databases are remembered, the least recently active
/// forgotten first.
const MAX_MADE_INSTANCES: usize = 1024;
/// Distinct names remembered per finding to count them.
const MAX_SEEN: usize = 4096;

/// Rows removed from which an emptied table weighs 2.
pub(crate) const BIG_ROWS: u64 = 10_000;
/// Rows removed from which an emptied table weighs as a database.
pub(crate) const HUGE_ROWS: u64 = 1_000_000;

/// What one destroyed object weighs against `mass_destruction_objects` (see the
/// module docs).
fn weight(name: &str, verb: Verb, rows: Option<u64>, threshold: u32) -> u32 {
    let big = threshold.div_ceil(3).max(1);
    if name.starts_with("db:") {
        return big;
    }
    match (verb, rows) {
        (Verb::Truncate | Verb::DeleteAll, Some(r)) if r >= HUGE_ROWS => big,
        (Verb::Truncate | Verb::DeleteAll, Some(r)) if r >= BIG_ROWS => 2.min(big),
        _ => 1,
    }
}

/// One destroyed object waiting to settle, or settled and counted.
#[derive(Debug, Clone)]
struct Gone {
    name: String,
    verb: Verb,
    /// What it weighs against the threshold.
    weight: u32,
    mark: Mark,
    absorbed: bool,
}

#[derive(Default)]
struct ActorState {
    /// Destroyed, not yet settled, in time order.
    pending: VecDeque<Gone>,
    /// Settled within the window, in time order.
    settled: VecDeque<Gone>,
    /// The finding of this actor's current episode.
    finding: Option<String>,
    last_seen: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct InstanceState {
    actors: HashMap<String, ActorState>,
    /// Tables/databases created here recently, with when.
    created: VecDeque<(DateTime<Utc>, String)>,
    last_seen: Option<DateTime<Utc>>,
}

/// The databases and schemas created on one instance since the stream began (at most
/// [`MAX_MADE`], in creation order).
#[derive(Default)]
struct Made {
    names: HashSet<String>,
    order: VecDeque<String>,
    last: Option<DateTime<Utc>>,
}

/// What a MassDestruction finding's texts are written from.
#[derive(Default)]
struct MassStats {
    actor: String,
    instance: String,
    names: Vec<String>,
    /// Each object counted, with its heaviest destruction (what the decision weighs).
    seen: HashMap<String, u32>,
    distinct: usize,
    /// Distinct objects that weighed more than one table (databases, schemas, big
    /// tables emptied), and the weight of the whole.
    heavy: usize,
    weight: u64,
    drops: u64,
    truncates: u64,
    deletes: u64,
}

/// Impact:RDS/MassDestruction (see the module docs).
pub struct MassDestruction {
    cfg: ActivityConfig,
    instances: HashMap<String, InstanceState>,
    /// (settles at, instance, actor) of every pending object, in time order.
    due: VecDeque<(DateTime<Utc>, String, String)>,
    stats: HashMap<String, MassStats>,
    /// Databases and schemas created here, by instance: a CI run creates its test
    /// databases and drops them after the window, which is no mass destruction.
    made: HashMap<String, Made>,
}

impl MassDestruction {
    pub fn new(cfg: &ActivityConfig) -> Self {
        MassDestruction {
            cfg: cfg.clone(),
            instances: HashMap::new(),
            due: VecDeque::new(),
            stats: HashMap::new(),
            made: HashMap::new(),
        }
    }

    fn window(&self) -> Duration {
        secs(self.cfg.mass_destruction_window_secs)
    }

    fn settle(&self) -> Duration {
        secs(self.cfg.mass_destruction_settle_secs)
    }

    fn per_actor_cap(&self) -> usize {
        (self.cfg.mass_destruction_objects as usize * 2).clamp(16, 256)
    }

    /// Settles every pending object whose time has come by `now`.
    fn settle_due(&mut self, now: DateTime<Utc>, cx: &mut Context<'_>) {
        while let Some((at, _, _)) = self.due.front() {
            if *at > now {
                break;
            }
            let Some((at, inst, actor)) = self.due.pop_front() else {
                break;
            };
            self.settle_actor(&inst, &actor, at, cx);
        }
    }

    /// Moves the actor's pending objects destroyed at or before `now - settle` to the
    /// settled window and raises or grows the finding when they are enough.
    fn settle_actor(&mut self, inst: &str, actor: &str, now: DateTime<Utc>, cx: &mut Context<'_>) {
        let (settle, window, threshold) = (
            self.settle(),
            self.window(),
            self.cfg.mass_destruction_objects.max(1) as usize,
        );
        let cap = self.per_actor_cap();
        let Some(st) = self
            .instances
            .get_mut(inst)
            .and_then(|i| i.actors.get_mut(actor))
        else {
            return;
        };
        let mut moved = false;
        while st
            .pending
            .front()
            .is_some_and(|g| plus(g.mark.time, settle) <= now)
        {
            if let Some(g) = st.pending.pop_front() {
                st.settled.push_back(g);
                moved = true;
            }
        }
        if !moved {
            return;
        }
        // The window ends at the newest settled object.
        let newest = st.settled.back().map(|g| g.mark.time).unwrap_or(now);
        while st.settled.len() > cap
            || st
                .settled
                .front()
                .is_some_and(|g| plus(g.mark.time, window) < newest)
        {
            st.settled.pop_front();
        }
        let mut distinct: Vec<(&str, u32)> = st
            .settled
            .iter()
            .map(|g| (g.name.as_str(), g.weight))
            .collect();
        distinct.sort_unstable();
        // One weight per object: its heaviest destruction.
        distinct.reverse();
        distinct.dedup_by(|a, b| a.0 == b.0);
        let weighed: usize = distinct.iter().map(|(_, w)| *w as usize).sum();
        // An episode already raised grows while drops go on within its window.
        let ongoing = st.finding.as_ref().is_some_and(|id| {
            cx.findings
                .get_mut(id)
                .is_some_and(|f| plus(f.last_seen, window) >= newest)
        });
        if weighed < threshold && !ongoing {
            return;
        }
        let Some(first) = st.settled.front() else {
            return;
        };
        let f = cx.findings.raise(Raise {
            detector: MASS_ID,
            finding_type: MASS_TYPE,
            key: &[inst, actor],
            severity: Severity::new(8.0),
            resource: db_resource(&mark_event(&first.mark)),
            time: first.mark.time,
        });
        let stats = self.stats.entry(f.id.clone()).or_default();
        stats.actor = actor.to_string();
        stats.instance = inst.to_string();
        for g in st.settled.iter_mut().filter(|g| !g.absorbed) {
            g.absorbed = true;
            g.mark.absorb_into(f);
            match g.verb {
                Verb::Drop => stats.drops += 1,
                Verb::Truncate => stats.truncates += 1,
                Verb::DeleteAll => stats.deletes += 1,
            }
            // One weight per object, its heaviest, as the decision weighs it. Past
            // MAX_SEEN names every new one counts as new: a bound, not a count.
            if let Some(w) = stats.seen.get_mut(&g.name) {
                if g.weight > *w {
                    stats.weight += u64::from(g.weight - *w);
                    if *w <= 1 {
                        stats.heavy += 1;
                    }
                    *w = g.weight;
                }
                continue;
            }
            if stats.seen.len() < MAX_SEEN {
                stats.seen.insert(g.name.clone(), g.weight);
            }
            stats.distinct += 1;
            stats.weight += u64::from(g.weight);
            if g.weight > 1 {
                stats.heavy += 1;
            }
            if stats.names.len() < 8 {
                stats.names.push(g.name.clone());
            }
        }
        st.finding = Some(f.id.clone());
        write_mass_texts(f, stats, &self.cfg);
    }

    /// Remembers a database or schema created on `inst` (bounded, see [`MAX_MADE`]).
    fn note_made(&mut self, inst: &str, name: &str, time: DateTime<Utc>) {
        if !self.made.contains_key(inst) && self.made.len() >= MAX_MADE_INSTANCES {
            let stalest = self
                .made
                .iter()
                .min_by_key(|(k, m)| (m.last, (*k).clone()))
                .map(|(k, _)| k.clone());
            if let Some(k) = stalest {
                self.made.remove(&k);
            }
        }
        let m = self.made.entry(inst.to_string()).or_default();
        m.last = Some(time);
        if m.names.contains(name) {
            return;
        }
        if m.order.len() >= MAX_MADE {
            if let Some(old) = m.order.pop_front() {
                m.names.remove(&old);
            }
        }
        m.names.insert(name.to_string());
        m.order.push_back(name.to_string());
    }

    /// Forgets idle instances and actors when there are too many.
    fn evict(&mut self, now: DateTime<Utc>) {
        let horizon = self.window() + self.settle();
        let max = self.cfg.max_tracked_actors.max(1);
        let total: usize = self.instances.values().map(|i| i.actors.len().max(1)).sum();
        if total <= max {
            return;
        }
        for inst in self.instances.values_mut() {
            inst.actors.retain(|_, a| {
                !a.pending.is_empty() || a.last_seen.is_some_and(|t| plus(t, horizon) > now)
            });
        }
        self.instances.retain(|_, i| {
            !i.actors.is_empty() || i.last_seen.is_some_and(|t| plus(t, horizon) > now)
        });
        // Still too many: the least recently active instances go.
        while self
            .instances
            .values()
            .map(|i| i.actors.len().max(1))
            .sum::<usize>()
            > max
        {
            let oldest = self
                .instances
                .iter()
                .min_by_key(|(k, i)| (i.last_seen, (*k).clone()))
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    self.instances.remove(&k);
                }
                None => break,
            }
        }
    }
}

fn write_mass_texts(f: &mut keibi_model::Finding, s: &MassStats, cfg: &ActivityConfig) {
    let list = names_arg(s.names.iter().map(|n| name_msg(n)), s.distinct, 8);
    let mut what = Vec::new();
    if s.drops > 0 {
        what.push(Msg::new("mass-drops").arg("n", s.drops));
    }
    if s.truncates > 0 {
        what.push(Msg::new("mass-truncates").arg("n", s.truncates));
    }
    if s.deletes > 0 {
        what.push(Msg::new("mass-deletes").arg("n", s.deletes));
    }
    let ips: Vec<String> = f.actor.ips.iter().map(|i| i.to_string()).collect();
    let title = Msg::new("mass-title")
        .arg("actor", &s.actor)
        .arg("distinct", s.distinct)
        .arg("instance", &s.instance);
    let description = vec![
        Msg::new("mass-destroyed")
            .arg("actor", &s.actor)
            .arg("ips", list_arg(&ips, f.actor.ips_truncated))
            .arg("distinct", s.distinct)
            .arg("instance", &s.instance)
            .arg("first", f.first_seen)
            .arg("last", f.last_seen)
            .arg("what", Arg::Join(what))
            .arg("list", list),
        Msg::new("mass-not-restored").arg("settle", cfg.mass_destruction_settle_secs / 60),
    ];
    let mut description = description;
    if s.heavy > 0 {
        description.push(
            Msg::new("mass-weighed")
                .arg("weight", s.weight)
                .arg("threshold", u64::from(cfg.mass_destruction_objects))
                .arg(
                    "db",
                    u64::from(cfg.mass_destruction_objects.div_ceil(3).max(1)),
                )
                .arg("rows", BIG_ROWS)
                .arg("huge", HUGE_ROWS),
        );
    }
    let remediation = vec![
        engine_msg("mass-lock", f).arg("actor", &s.actor),
        Msg::new("mass-restore")
            .arg("first", f.first_seen)
            .arg("instance", &s.instance)
            .arg("restore", restore_time(f.first_seen)),
        Msg::new("mass-look"),
    ];
    crate::text::set(
        f,
        FindingText {
            title: Some(title),
            description,
            remediation,
        },
    );
    f.mitre = vec!["T1485".to_string()];
}

impl Detector for MassDestruction {
    /// An object is counted once it has settled (`settle` after its drop, or after
    /// the creation that replaces it) within the window of the others; creations are
    /// remembered for the window. Unbounded: the databases and schemas created on an
    /// instance are remembered for the stream's life (their drops weigh as one table).
    fn replay_horizon(&self) -> Option<chrono::Duration> {
        None
    }

    fn id(&self) -> &'static str {
        MASS_ID
    }

    fn catalog(&self) -> Vec<crate::catalog::Entry> {
        crate::catalog::Entry::of_detector(self.id(), specs())
    }

    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>) {
        self.settle_due(ev.time, cx);
        let Some(st) = statement_of(ev, &self.cfg) else {
            return;
        };
        let inst_id = ev.instance.as_deref().unwrap_or("unknown");
        if let Some(name) = sqltext::rebuilt(st) {
            self.rebuilt(inst_id, ev, name, st);
            return;
        }
        let Some(d) = sqltext::destruction(st) else {
            return;
        };
        let (window, settle, cap) = (self.window(), self.settle(), self.per_actor_cap());
        let threshold = self.cfg.mass_destruction_objects;
        let actor = actor_of(ev);
        let made = self.made.get(inst_id);
        let inst = self.instances.entry(inst_id.to_string()).or_default();
        inst.last_seen = Some(ev.time);
        while inst
            .created
            .front()
            .is_some_and(|(t, _)| plus(*t, window) < ev.time)
        {
            inst.created.pop_front();
        }
        let mut added = false;
        let mut overflow = false;
        {
            let a = inst.actors.entry(actor.clone()).or_default();
            a.last_seen = Some(ev.time);
            for name in d.names {
                // A work table made here a moment ago is not data that existed.
                if inst.created.iter().any(|(_, n)| *n == name) {
                    continue;
                }
                if a.pending.iter().any(|g| g.name == name) {
                    continue;
                }
                // A database or schema created here earlier in the stream (a test
                // run's) weighs as one table: it held nothing that existed before.
                let weight = if made.is_some_and(|m| m.names.contains(&name)) {
                    1
                } else {
                    weight(&name, d.verb, st.rows_affected, threshold)
                };
                a.pending.push_back(Gone {
                    name,
                    verb: d.verb,
                    weight,
                    mark: Mark::of(ev),
                    absorbed: false,
                });
                added = true;
                overflow |= a.pending.len() > cap;
            }
        }
        if added {
            self.due
                .push_back((plus(ev.time, settle), inst_id.to_string(), actor.clone()));
        }
        if overflow {
            // Too many waiting: the oldest settle now rather than be forgotten.
            let at = self
                .instances
                .get(inst_id)
                .and_then(|i| i.actors.get(&actor))
                .and_then(|a| a.pending.front())
                .map_or(ev.time, |g| plus(g.mark.time, settle));
            self.settle_actor(inst_id, &actor, at, cx);
        }
        while self.due.len() > MAX_DUE {
            if let Some((at, i, a)) = self.due.pop_front() {
                self.settle_actor(&i, &a, at, cx);
            }
        }
        self.evict(ev.time);
    }

    fn advance(&mut self, watermark: DateTime<Utc>, cx: &mut Context<'_>) {
        if watermark != DateTime::<Utc>::MAX_UTC {
            // Destructions whose settle time has passed: nothing came back in time.
            self.settle_due(watermark, cx);
            return;
        }
        // The input ended: nothing will come back now.
        let keys: Vec<(String, String)> = self
            .instances
            .iter()
            .flat_map(|(i, s)| s.actors.keys().map(move |a| (i.clone(), a.clone())))
            .collect();
        let mut keys = keys;
        keys.sort();
        for (i, a) in keys {
            self.settle_actor(&i, &a, DateTime::<Utc>::MAX_UTC, cx);
        }
        self.due.clear();
    }
}

impl MassDestruction {
    /// `name` is created or refilled by the event's actor: its pending destructions of
    /// it were a replacement (a restore, a reload). Another actor's refill does not count: an
    /// application inserting into a table an attacker emptied is not a reload.
    fn rebuilt(&mut self, inst_id: &str, ev: &Event, name: String, st: &Statement) {
        let time = ev.time;
        let creates = st
            .command
            .as_deref()
            .is_some_and(|c| c.starts_with("CREATE"));
        if creates && name.starts_with("db:") {
            self.note_made(inst_id, &name, time);
        }
        let Some(inst) = self.instances.get_mut(inst_id) else {
            if creates {
                let inst = self.instances.entry(inst_id.to_string()).or_default();
                inst.last_seen = Some(time);
                inst.created.push_back((time, name));
            }
            return;
        };
        // Runs for every INSERT: the actor's name is built only when someone here has
        // destroyed something.
        if !inst.actors.is_empty() {
            if let Some(a) = inst.actors.get_mut(&actor_of(ev)) {
                a.pending.retain(|g| g.name != name);
            }
        }
        if creates {
            if inst.created.len() >= MAX_CREATED {
                inst.created.pop_front();
            }
            inst.created.push_back((time, name));
        }
    }
}
