//! Impact:RDS/RansomNote: the extortion campaigns against exposed databases
//! (`README_TO_RECOVER_*`, `PLEASE_READ_ME_*`, `WARNING`): data destroyed and a note
//! left, a table or database with a ransom name or a demand with bitcoin text.
//!
//! The two halves must both be seen on one instance within `ransom_lookback_secs` of
//! each other, in either order:
//!
//! * a *ransom-named* table or database (`readme`, `README_TO_RECOVER_A`, `warning`)
//!   counts only when the same actor destroyed at least two tables, or a database,
//!   within the lookback: a deploy that drops one old table and creates
//!   `password_recover_tokens`, or a docs table called `readme`, is ordinary; a restore
//!   that drops its own `readme` table and creates it again is not a note;
//! * a *demand* (a bitcoin address or the word bitcoin/BTC, with "recover", "pay",
//!   "backup" ...) counts with any destruction on the instance; alone, it raises the
//!   finding at 7.0 and says the destruction was not seen (it may be in logs not read,
//!   or not logged), and a destruction seen later makes it 9.5.
//!
//! State per instance: the last 64 destructions and 16 notes within the lookback; at
//! most `max_tracked_actors` instances, the least recently active forgotten first.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use keibi_model::{Event, Finding, FindingText, Msg, Severity, Statement};

use super::sqltext;
use super::{
    actor_of, mark_event, name_msg, names_arg, plus, restore_time, secs, statement_of, Mark,
};
use crate::config::ActivityConfig;
use crate::detector::{db_resource, Context, Detector};
use crate::findings::Raise;
use crate::sigma::meta::list_arg;

const ID: &str = "activity-ransom-note";
const TYPE: &str = "Impact:RDS/RansomNote";

/// The finding types this detector raises (see [`crate::catalog`]).
pub(crate) fn specs() -> Vec<keibi_model::FindingSpec> {
    vec![
        keibi_model::FindingSpec::new(
            TYPE,
            9.5,
            &["T1485", "T1486"],
            "Ransom note",
            "Do not pay: block the address, lock the user and end its sessions, then restore from a snapshot taken before the attack and close the database to the internet.",
            &[keibi_model::ActionKind::BlockAddress, keibi_model::ActionKind::LockRole, keibi_model::ActionKind::EndSessions],
        ),
    ]
}

/// Destructions and notes kept per instance.
const MAX_DESTROYED: usize = 64;
const MAX_NOTES: usize = 16;

#[derive(Debug, Clone)]
struct Destroyed {
    name: String,
    actor: String,
    mark: Mark,
    absorbed: bool,
}

#[derive(Debug, Clone)]
struct Note {
    /// The created name (`db:readme_to_recover_a`) or the demand's first words.
    what: String,
    /// A demand text rather than a name.
    demand: bool,
    actor: String,
    mark: Mark,
    absorbed: bool,
}

#[derive(Default)]
struct InstanceState {
    destroyed: VecDeque<Destroyed>,
    notes: VecDeque<Note>,
    last_seen: Option<DateTime<Utc>>,
}

impl InstanceState {
    /// Whether `actor` destroyed enough here for a ransom-named object to be a note:
    /// two distinct tables, or a database.
    fn wiped_by(&self, actor: &str) -> bool {
        let mine: Vec<&str> = self
            .destroyed
            .iter()
            .filter(|d| d.actor == actor)
            .map(|d| d.name.as_str())
            .collect();
        mine.iter().any(|n| n.starts_with("db:"))
            || mine.iter().any(|n| mine.iter().any(|m| m != n))
    }

    /// Whether the pattern is complete (`Some(true)`), a demand stands alone
    /// (`Some(false)`), or there is nothing to raise yet.
    fn verdict(&self) -> Option<bool> {
        let full = self.notes.iter().any(|n| {
            if n.demand {
                !self.destroyed.is_empty()
            } else {
                self.wiped_by(&n.actor)
            }
        });
        if full {
            return Some(true);
        }
        self.notes.iter().any(|n| n.demand).then_some(false)
    }
}

/// What a finding's texts are written from.
#[derive(Default)]
struct Stats {
    instance: String,
    destroyed: u64,
    destroyed_names: Vec<String>,
    notes: Vec<String>,
    demand: Option<String>,
}

/// Impact:RDS/RansomNote (see the module docs).
pub struct RansomNote {
    cfg: ActivityConfig,
    instances: HashMap<String, InstanceState>,
    stats: HashMap<String, Stats>,
}

impl RansomNote {
    pub fn new(cfg: &ActivityConfig) -> Self {
        RansomNote {
            cfg: cfg.clone(),
            instances: HashMap::new(),
            stats: HashMap::new(),
        }
    }

    fn lookback(&self) -> Duration {
        secs(self.cfg.ransom_lookback_secs)
    }

    /// Raises or grows the instance's finding when the pattern (or a demand) is there.
    fn judge(&mut self, inst_id: &str, cx: &mut Context<'_>) {
        let Some(inst) = self.instances.get_mut(inst_id) else {
            return;
        };
        let Some(full) = inst.verdict() else {
            return;
        };
        let first = inst
            .destroyed
            .iter()
            .map(|d| &d.mark)
            .chain(inst.notes.iter().map(|n| &n.mark))
            .min_by_key(|m| m.time)
            .cloned();
        let Some(first) = first else {
            return;
        };
        let sev = Severity::new(if full { 9.5 } else { 7.0 });
        let f = cx.findings.raise(Raise {
            detector: ID,
            finding_type: TYPE,
            key: &[inst_id],
            severity: sev,
            resource: db_resource(&mark_event(&first)),
            time: first.time,
        });
        if f.severity < sev {
            // A demand seen first, the destruction now: the whole pattern.
            f.severity = sev;
        }
        let stats = self.stats.entry(f.id.clone()).or_default();
        stats.instance = inst_id.to_string();
        for d in inst.destroyed.iter_mut().filter(|d| !d.absorbed) {
            d.absorbed = true;
            d.mark.absorb_into(f);
            stats.destroyed += 1;
            if stats.destroyed_names.len() < 8 && !stats.destroyed_names.contains(&d.name) {
                stats.destroyed_names.push(d.name.clone());
            }
        }
        for n in inst.notes.iter_mut().filter(|n| !n.absorbed) {
            // A ransom-named object is part of the story only when its actor wiped data.
            if !n.demand && !full {
                continue;
            }
            n.absorbed = true;
            n.mark.absorb_into(f);
            if n.demand {
                stats.demand.get_or_insert_with(|| n.what.clone());
            } else if stats.notes.len() < 5 && !stats.notes.contains(&n.what) {
                stats.notes.push(n.what.clone());
            }
        }
        write_texts(f, stats);
    }

    /// Makes room for one more instance.
    fn make_room(&mut self, inst_id: &str) {
        if self.instances.contains_key(inst_id)
            || self.instances.len() < self.cfg.max_tracked_actors.max(1)
        {
            return;
        }
        let oldest = self
            .instances
            .iter()
            .min_by_key(|(k, i)| (i.last_seen, (*k).clone()))
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            self.instances.remove(&k);
        }
    }
}

impl Detector for RansomNote {
    /// Destructions and notes are paired within the lookback.
    fn replay_horizon(&self) -> Option<Duration> {
        Some(self.lookback())
    }

    fn id(&self) -> &'static str {
        ID
    }

    fn catalog(&self) -> Vec<crate::catalog::Entry> {
        crate::catalog::Entry::of_detector(self.id(), specs())
    }

    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>) {
        let Some(st) = statement_of(ev, &self.cfg) else {
            return;
        };
        let destroyed = sqltext::destruction(st);
        let note = note_of(st);
        if destroyed.is_none() && note.is_none() {
            return;
        }
        let lookback = self.lookback();
        let inst_id = ev.instance.as_deref().unwrap_or("unknown").to_string();
        self.make_room(&inst_id);
        let actor = actor_of(ev);
        let inst = self.instances.entry(inst_id.clone()).or_default();
        inst.last_seen = Some(ev.time);
        while inst
            .destroyed
            .front()
            .is_some_and(|d| plus(d.mark.time, lookback) < ev.time)
        {
            inst.destroyed.pop_front();
        }
        while inst
            .notes
            .front()
            .is_some_and(|n| plus(n.mark.time, lookback) < ev.time)
        {
            inst.notes.pop_front();
        }
        if let Some(d) = destroyed {
            for name in d.names {
                // pgaudit and log_statement both on log a drop twice.
                if inst
                    .destroyed
                    .iter()
                    .any(|x| x.name == name && x.actor == actor)
                {
                    continue;
                }
                if inst.destroyed.len() >= MAX_DESTROYED {
                    inst.destroyed.pop_front();
                }
                inst.destroyed.push_back(Destroyed {
                    name,
                    actor: actor.clone(),
                    mark: Mark::of(ev),
                    absorbed: false,
                });
            }
        }
        if let Some((what, demand)) = note {
            // A restore dropping and re-creating its own `readme` table is not a note.
            let replaced = !demand && inst.destroyed.iter().any(|d| d.name == what);
            if !replaced {
                if inst.notes.len() >= MAX_NOTES {
                    inst.notes.pop_front();
                }
                inst.notes.push_back(Note {
                    what,
                    demand,
                    actor,
                    mark: Mark::of(ev),
                    absorbed: false,
                });
            }
        }
        self.judge(&inst_id, cx);
    }
}

/// A ransom-named table or database being created, or a demand being written:
/// (what, whether it is a demand).
fn note_of(st: &Statement) -> Option<(String, bool)> {
    let cmd = st.command.as_deref()?;
    if matches!(
        cmd,
        "INSERT" | "REPLACE" | "UPDATE" | "COMMENT" | "CREATE TABLE"
    ) {
        let t = sqltext::head(&st.text);
        // The cheap test first: this runs for every INSERT.
        if sqltext::ransom_hint(t) && sqltext::ransom_text(t) {
            let what = crate::sigma::meta::truncate(t.to_string(), 160);
            return Some((what, true));
        }
    }
    if cmd.starts_with("CREATE") {
        let name = sqltext::rebuilt(st)?;
        if sqltext::ransom_name(&name) {
            return Some((name, false));
        }
    }
    None
}

fn write_texts(f: &mut Finding, s: &Stats) {
    let notes = || names_arg(s.notes.iter().map(|n| name_msg(n)), s.notes.len(), 5);
    let users = list_arg(&f.actor.users, f.actor.users_truncated);
    let ips: Vec<String> = f.actor.ips.iter().map(|i| i.to_string()).collect();
    let ips = list_arg(&ips, f.actor.ips_truncated);
    let (title, description) = if s.destroyed > 0 {
        let what = if s.notes.is_empty() {
            Msg::new("ransom-a-demand").into()
        } else {
            notes()
        };
        let title = Msg::new("ransom-title")
            .arg("instance", &s.instance)
            .arg("what", what);
        let created = if s.notes.is_empty() {
            Msg::new("nothing")
        } else {
            Msg::new("ransom-created").arg("notes", notes())
        };
        let demand = match &s.demand {
            Some(t) => Msg::new("ransom-demand").arg("text", t),
            None => Msg::new("nothing"),
        };
        let gone = s.destroyed_names.iter().map(|n| name_msg(n));
        let description = vec![
            Msg::new("ransom-destroyed")
                .arg("n", s.destroyed)
                .arg("instance", &s.instance)
                .arg("gone", names_arg(gone, s.destroyed_names.len(), 8))
                .arg("users", users)
                .arg("ips", ips)
                .arg("first", f.first_seen)
                .arg("last", f.last_seen)
                .arg("created", created)
                .arg("demand", demand),
            Msg::new("ransom-campaign"),
        ];
        (title, description)
    } else {
        let title = Msg::new("ransom-demand-title").arg("instance", &s.instance);
        let description = vec![
            Msg::new("ransom-demand-only")
                .arg("instance", &s.instance)
                .arg("users", users)
                .arg("ips", ips)
                .arg("at", f.first_seen)
                .arg("text", s.demand.as_deref().unwrap_or("-")),
            Msg::new("ransom-not-seen"),
        ];
        (title, description)
    };
    let remediation = vec![
        Msg::new("ransom-no-pay"),
        Msg::new("ransom-close").arg("instance", &s.instance),
        Msg::new("ransom-restore")
            .arg("instance", &s.instance)
            .arg("first", f.first_seen)
            .arg("restore", restore_time(f.first_seen)),
        Msg::new("ransom-keep"),
    ];
    crate::text::set(
        f,
        FindingText {
            title: Some(title),
            description,
            remediation,
        },
    );
    f.mitre = vec!["T1485".to_string(), "T1486".to_string()];
}
