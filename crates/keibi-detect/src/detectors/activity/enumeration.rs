//! Discovery:RDS/SchemaEnumeration: a burst of catalog reads by a client that does not
//! usually read the catalogs.
//!
//! Reading the catalogs is ordinary: ORMs (Rails, Django, Hibernate, Sequelize) read
//! `pg_attribute`, `pg_type`, `information_schema.columns` ... when a process starts
//! and again lazily as models load; psql's `\d`, DBeaver and pgAdmin read dozens of
//! catalogs on connect; monitoring agents read `pg_database` every few seconds. So the
//! detector judges the *actor*, one (instance, user, client address), and what it
//! reads:
//!
//! * an actor whose first catalog read came within `schema_enum_startup_secs` of its
//!   first event, or within its first `schema_enum_startup_statements` statements,
//!   introspects at start-up like an ORM or a tool: its catalog reads are its normal
//!   behaviour and only the second test below applies to it;
//! * an actor that had been working for a while without reading catalogs, then reads
//!   `schema_enum_statements` (10) catalog queries over `schema_enum_objects` (4)
//!   distinct catalog objects within `schema_enum_window_secs` (5 min), is doing
//!   something new: SQL injection through an application's connection, or a person at
//!   a stolen session, exploring;
//! * any actor reading account-wide and credential catalogs that applications never
//!   read (databases, roles, grants: weight 1; password hashes such as `pg_shadow`,
//!   `pg_authid`, `mysql.user`: weight 2) to a total weight of
//!   `schema_enum_account_weight` (3) within the window is mapping the server.
//!
//! Severity is 4.0, 5.0 when credential catalogs were read, and at most 2.5 when the
//! client names itself an administration tool (`admin_tools`: psql, pgAdmin, DBeaver
//! ...): a person browsing with a DBA tool is worth knowing, not waking anyone. Only
//! PostgreSQL logs carry the client's name; MySQL's audit log does not.
//!
//! What it cannot see: a bot that logs in with stolen credentials and lists tables at
//! once, touching no account or credential catalog, looks like an application
//! starting. Its next steps (exports, drops, a ransom note) and the login detectors
//! are what catch it.
//!
//! State: per actor a few counters, the catalog reads of the window (at most
//! [`MAX_HITS`]) and up to [`MAX_MARKS`] evidence references; at most
//! `max_tracked_actors` actors, the least recently active forgotten first.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use keibi_model::{Action, Arg, CompactString, Event, Finding, FindingText, Msg, Severity};

use super::sqltext::head;
use super::{engine_msg, names_arg, plain_names, plus, secs, Mark};
use crate::config::ActivityConfig;
use crate::detector::{db_resource, Context, Detector};
use crate::detectors::baseline::habits::{self, Context as HabitContext};
use crate::findings::Raise;

const ID: &str = "activity-schema-enumeration";
const TYPE: &str = "Discovery:RDS/SchemaEnumeration";

/// The finding types this detector raises (see [`crate::catalog`]).
pub(crate) fn specs() -> Vec<keibi_model::FindingSpec> {
    vec![
        keibi_model::FindingSpec::new(
            TYPE,
            4.0,
            &["T1082", "T1087"],
            "Schema enumeration",
            "Find out who or what read the catalogs; if it was not a tool you run, end its sessions and treat its password as known.",
            &[keibi_model::ActionKind::EndSessions],
        ),
    ]
}

/// Catalog reads remembered per actor (the window's).
const MAX_HITS: usize = 64;
/// Events kept per actor to cite as evidence when the finding is raised.
const MAX_MARKS: usize = 8;

/// How much a catalog says about the server beyond one application's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Tables, columns, indexes, types: what ORMs and tools read.
    Structure,
    /// Databases, roles, grants: the map of the whole server.
    Account,
    /// Password hashes, user mappings, pg_hba rules.
    Credential,
}

/// The catalogs recognised, by lower-case name; a statement's catalogs are a bit set
/// over this table (at most 128 entries).
const CATALOGS: &[(&str, Tier)] = &[
    // PostgreSQL
    ("pg_class", Tier::Structure),
    ("pg_attribute", Tier::Structure),
    ("pg_type", Tier::Structure),
    ("pg_namespace", Tier::Structure),
    ("pg_index", Tier::Structure),
    ("pg_indexes", Tier::Structure),
    ("pg_constraint", Tier::Structure),
    ("pg_attrdef", Tier::Structure),
    ("pg_description", Tier::Structure),
    ("pg_proc", Tier::Structure),
    ("pg_tables", Tier::Structure),
    ("pg_views", Tier::Structure),
    ("pg_matviews", Tier::Structure),
    ("pg_sequences", Tier::Structure),
    ("pg_sequence", Tier::Structure),
    ("pg_extension", Tier::Structure),
    ("pg_inherits", Tier::Structure),
    ("pg_enum", Tier::Structure),
    ("pg_trigger", Tier::Structure),
    ("pg_depend", Tier::Structure),
    ("pg_am", Tier::Structure),
    ("pg_collation", Tier::Structure),
    ("pg_policy", Tier::Structure),
    ("pg_rewrite", Tier::Structure),
    ("pg_stats", Tier::Structure),
    ("pg_statistic", Tier::Structure),
    ("pg_language", Tier::Structure),
    ("pg_foreign_table", Tier::Structure),
    ("pg_available_extensions", Tier::Structure),
    ("pg_database", Tier::Account),
    ("pg_roles", Tier::Account),
    ("pg_user", Tier::Account),
    ("pg_group", Tier::Account),
    ("pg_auth_members", Tier::Account),
    ("pg_tablespace", Tier::Account),
    ("pg_foreign_server", Tier::Account),
    ("pg_shadow", Tier::Credential),
    ("pg_authid", Tier::Credential),
    ("pg_user_mappings", Tier::Credential),
    ("pg_user_mapping", Tier::Credential),
    ("pg_hba_file_rules", Tier::Credential),
    ("pg_ident_file_mappings", Tier::Credential),
    // information_schema (both engines)
    ("information_schema.tables", Tier::Structure),
    ("information_schema.columns", Tier::Structure),
    ("information_schema.views", Tier::Structure),
    ("information_schema.routines", Tier::Structure),
    ("information_schema.key_column_usage", Tier::Structure),
    ("information_schema.table_constraints", Tier::Structure),
    (
        "information_schema.referential_constraints",
        Tier::Structure,
    ),
    (
        "information_schema.constraint_column_usage",
        Tier::Structure,
    ),
    ("information_schema.check_constraints", Tier::Structure),
    ("information_schema.statistics", Tier::Structure),
    ("information_schema.triggers", Tier::Structure),
    ("information_schema.sequences", Tier::Structure),
    ("information_schema.parameters", Tier::Structure),
    ("information_schema.partitions", Tier::Structure),
    ("information_schema.events", Tier::Structure),
    ("information_schema.*", Tier::Structure),
    ("information_schema.schemata", Tier::Account),
    ("information_schema.user_privileges", Tier::Account),
    ("information_schema.schema_privileges", Tier::Account),
    ("information_schema.table_privileges", Tier::Account),
    ("information_schema.column_privileges", Tier::Account),
    ("information_schema.role_table_grants", Tier::Account),
    ("information_schema.enabled_roles", Tier::Account),
    ("information_schema.applicable_roles", Tier::Account),
    (
        "information_schema.administrable_role_authorizations",
        Tier::Account,
    ),
    // MySQL / MariaDB
    ("mysql.db", Tier::Account),
    ("mysql.tables_priv", Tier::Account),
    ("mysql.columns_priv", Tier::Account),
    ("mysql.proxies_priv", Tier::Account),
    ("mysql.roles_mapping", Tier::Account),
    ("mysql.role_edges", Tier::Account),
    ("mysql.user", Tier::Credential),
    ("mysql.global_priv", Tier::Credential),
    ("show tables", Tier::Structure),
    ("show columns", Tier::Structure),
    ("show index", Tier::Structure),
    ("show create table", Tier::Structure),
    ("show table status", Tier::Structure),
    ("describe", Tier::Structure),
    ("show databases", Tier::Account),
    ("show grants", Tier::Account),
    ("show privileges", Tier::Account),
    ("show create user", Tier::Credential),
];

fn bit(name: &str) -> u128 {
    CATALOGS
        .iter()
        .position(|(n, _)| *n == name)
        .map_or(0, |i| 1u128 << i)
}

fn tier_weight(t: Tier) -> u32 {
    match t {
        Tier::Structure => 0,
        Tier::Account => 1,
        Tier::Credential => 2,
    }
}

/// Whether `t` names any case of `pg_`, `information_schema` or `mysql`: the cheap
/// test every executed SELECT goes through, twice (schema enumeration and the
/// habits). A SIMD search for the bytes those names turn on (`_`, `q`, `Q`) and a
/// look behind each: a case-insensitive automaton over the whole statement cost 4%
/// of a PostgreSQL scan.
fn catalog_hint(t: &str) -> bool {
    let b = t.as_bytes();
    let ends =
        |i: usize, word: &[u8]| i >= word.len() && b[i - word.len()..i].eq_ignore_ascii_case(word);
    memchr::memchr3_iter(b'_', b'q', b'Q', b).any(|i| match b[i] {
        b'_' => {
            ends(i, b"pg")
                || (ends(i, b"information")
                    && b.len() >= i + 7
                    && b[i + 1..i + 7].eq_ignore_ascii_case(b"schema"))
        }
        _ => ends(i, b"mys") && b.get(i + 1).is_some_and(|c| c.eq_ignore_ascii_case(&b'l')),
    })
}

/// The account and credential weight of a set of catalogs.
fn weight(mask: u128) -> u32 {
    CATALOGS
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1u128 << i) != 0)
        .map(|(_, (_, t))| tier_weight(*t))
        .sum()
}

/// Whether one statement's catalogs would make an episode by themselves: as many
/// distinct catalogs as an unusual burst needs, or enough account and credential
/// catalogs to map the server. Only such reads teach the catalog habit: the few
/// catalogs drivers read on every connect (`pg_type`, `pg_namespace`) teach nothing.
pub fn episode(mask: u128, cfg: &ActivityConfig) -> bool {
    mask != 0
        && (mask.count_ones() >= cfg.schema_enum_objects.max(1)
            || weight(mask) >= cfg.schema_enum_account_weight.max(1))
}

/// The names of a set of catalogs.
pub fn catalog_names(mask: u128) -> impl Iterator<Item = &'static str> {
    CATALOGS
        .iter()
        .enumerate()
        .filter(move |(i, _)| mask & (1u128 << i) != 0)
        .map(|(_, (n, _))| *n)
}

/// The set of the named catalogs (unknown names are left out).
pub fn catalog_mask<'a>(names: impl IntoIterator<Item = &'a str>) -> u128 {
    names.into_iter().fold(0, |m, n| m | bit(n))
}

/// The catalogs a statement reads, as a bit set over [`CATALOGS`] (0: none).
pub fn catalogs(command: &str, text: &str) -> u128 {
    match command {
        "SHOW" => return show_catalog(text),
        "DESCRIBE" | "DESC" => return bit("describe"),
        "SELECT" | "TABLE" => {}
        _ => return 0,
    }
    let t = head(text);
    if !catalog_hint(t) {
        return 0;
    }
    // Lower case, quotes dropped: `"pg_catalog"."pg_class"`, `` `mysql`.`user` ``.
    let low: String = t
        .chars()
        .filter(|c| *c != '"' && *c != '`')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let b = low.as_bytes();
    let ident = |from: usize| -> &str {
        let end = b[from..]
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
            .map_or(b.len(), |p| from + p);
        &low[from..end]
    };
    let starts_word = |i: usize| i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
    let mut mask = 0u128;
    let mut i = 0;
    while i < b.len() {
        let rest = &low[i..];
        if rest.starts_with("information_schema.") && starts_word(i) {
            let name = ident(i + "information_schema.".len());
            let m = bit(&format!("information_schema.{name}"));
            mask |= if m == 0 {
                bit("information_schema.*")
            } else {
                m
            };
            i += "information_schema.".len();
        } else if rest.starts_with("pg_") && starts_word(i) {
            let name = ident(i);
            mask |= bit(name);
            i += name.len().max(1);
        } else if rest.starts_with("mysql.") && starts_word(i) {
            let name = ident(i + "mysql.".len());
            mask |= bit(&format!("mysql.{name}"));
            i += "mysql.".len();
        } else {
            i += 1;
        }
        while i < b.len() && !low.is_char_boundary(i) {
            i += 1;
        }
    }
    mask
}

/// MySQL `SHOW ...` statements that list the schema or the accounts.
fn show_catalog(text: &str) -> u128 {
    let words: Vec<String> = head(text)
        .split_whitespace()
        .take(4)
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let w: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !matches!(*w, "full" | "extended" | "global" | "session"))
        .collect();
    match w.as_slice() {
        ["show", "databases" | "schemas", ..] => bit("show databases"),
        ["show", "tables", ..] => bit("show tables"),
        ["show", "columns" | "fields", ..] => bit("show columns"),
        ["show", "index" | "indexes" | "keys", ..] => bit("show index"),
        ["show", "create", "table", ..] => bit("show create table"),
        ["show", "table", "status", ..] => bit("show table status"),
        ["show", "grants", ..] => bit("show grants"),
        ["show", "privileges", ..] => bit("show privileges"),
        ["show", "create", "user", ..] => bit("show create user"),
        _ => 0,
    }
}

#[derive(Default)]
pub(super) struct ActorState {
    first_seen: Option<DateTime<Utc>>,
    last_seen: Option<DateTime<Utc>>,
    statements: u64,
    /// Decided at the actor's first catalog read.
    introspects_at_start: Option<bool>,
    /// Statements and seconds before that first read, when it came late.
    quiet: Option<(u64, i64)>,
    hits: VecDeque<(DateTime<Utc>, u128)>,
    marks: VecDeque<Mark>,
    finding: Option<String>,
    app: Option<String>,
}

/// What a finding's texts are written from.
#[derive(Default)]
struct Stats {
    user: String,
    client: String,
    instance: String,
    reads: u64,
    mask: u128,
    late: Option<(u64, i64)>,
    tool: Option<String>,
    /// What the user's habits say (the most telling of its reads).
    context: Option<HabitContext>,
}

/// Discovery:RDS/SchemaEnumeration (see the module docs).
pub struct SchemaEnumeration {
    cfg: ActivityConfig,
    pub(super) actors: HashMap<ActorKey, ActorState>,
    stats: HashMap<String, Stats>,
}

/// Who reads catalogs: an instance's user from one client.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct ActorKey {
    instance: CompactString,
    user: CompactString,
    client: Client,
}

/// Where an actor connects from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Client {
    Ip(IpAddr),
    Host(CompactString),
    Unknown,
}

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Client::Ip(ip) => ip.fmt(f),
            Client::Host(h) => f.write_str(h),
            Client::Unknown => f.write_str("-"),
        }
    }
}

impl SchemaEnumeration {
    pub fn new(cfg: &ActivityConfig) -> Self {
        SchemaEnumeration {
            cfg: cfg.clone(),
            actors: HashMap::new(),
            stats: HashMap::new(),
        }
    }

    fn window(&self) -> Duration {
        secs(self.cfg.schema_enum_window_secs)
    }

    /// Makes room for one more actor: the idle first, then the least recently active.
    fn make_room(&mut self, now: DateTime<Utc>) {
        let max = self.cfg.max_tracked_actors.max(1);
        if self.actors.len() < max {
            return;
        }
        let idle = self.window() * 12;
        self.actors
            .retain(|_, a| a.last_seen.is_some_and(|t| plus(t, idle) > now));
        if self.actors.len() < max {
            return;
        }
        // Forget the oldest eighth at once, so a flood of new actors costs one sort
        // per many events rather than a scan per event.
        let mut by_age: Vec<(Option<DateTime<Utc>>, ActorKey)> = self
            .actors
            .iter()
            .map(|(k, a)| (a.last_seen, k.clone()))
            .collect();
        by_age.sort();
        for (_, k) in by_age.into_iter().take((max / 8).max(1)) {
            self.actors.remove(&k);
        }
    }
}

/// The client's name when it is one of `admin_tools` (compared by prefix, any case).
fn admin_tool(cfg: &ActivityConfig, app: Option<&str>) -> Option<String> {
    let app = app?;
    let low = app.to_ascii_lowercase();
    cfg.admin_tools
        .iter()
        .any(|t| low.starts_with(&t.to_ascii_lowercase()))
        .then(|| app.to_string())
}

impl Detector for SchemaEnumeration {
    /// Unbounded: whether an actor introspects the catalog at its start is decided
    /// at its first catalog read and kept while it is tracked, however long ago that
    /// was (the default `None`, said here so nobody bounds it by mistake).
    fn replay_horizon(&self) -> Option<chrono::Duration> {
        None
    }

    fn id(&self) -> &'static str {
        ID
    }

    fn catalog(&self) -> Vec<crate::catalog::Entry> {
        crate::catalog::Entry::of_detector(self.id(), specs())
    }

    /// A trusted address's session is still a session: its statements are judged.
    fn sees_trusted_logins(&self) -> bool {
        true
    }

    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>) {
        if !matches!(ev.action, Action::Statement | Action::LoginSuccess) {
            return;
        }
        let Some(user) = ev.user.as_deref() else {
            return;
        };
        if super::ignored(ev, &self.cfg) {
            return;
        }
        let inst = ev.instance.as_deref().unwrap_or("unknown");
        // Built for every statement: no formatting, and short names stay inline.
        let key = ActorKey {
            instance: inst.into(),
            user: user.into(),
            client: match (ev.client_ip, &ev.client_host) {
                (Some(ip), _) => Client::Ip(ip),
                (None, Some(h)) => Client::Host(h.clone()),
                (None, None) => Client::Unknown,
            },
        };
        let mask = match ev.statement.as_deref() {
            Some(st) if ev.action == Action::Statement => {
                catalogs(st.command.as_deref().unwrap_or(""), &st.text)
            }
            _ => 0,
        };
        if !self.actors.contains_key(&key) {
            self.make_room(ev.time);
        }
        let window = self.window();
        let cfg = &self.cfg;
        let key_client = key.client.clone();
        let a = self.actors.entry(key).or_default();
        let first = *a.first_seen.get_or_insert(ev.time);
        a.last_seen = Some(ev.time);
        if a.app.is_none() {
            a.app = ev.application.as_deref().map(str::to_string);
        }
        if ev.action != Action::Statement {
            return;
        }
        a.statements = a.statements.saturating_add(1);
        if mask == 0 {
            return;
        }
        if a.introspects_at_start.is_none() {
            let secs = (ev.time - first).num_seconds();
            let start = secs <= cfg.schema_enum_startup_secs as i64
                || a.statements <= cfg.schema_enum_startup_statements;
            a.introspects_at_start = Some(start);
            if !start {
                a.quiet = Some((a.statements - 1, secs));
            }
        }
        let start = a.introspects_at_start == Some(true);
        let late = a.quiet;
        a.hits.push_back((ev.time, mask));
        while a.hits.len() > MAX_HITS || a.hits.front().is_some_and(|h| plus(h.0, window) < ev.time)
        {
            a.hits.pop_front();
        }
        if a.marks.len() >= MAX_MARKS {
            a.marks.pop_front();
        }
        a.marks.push_back(Mark::of(ev));

        // An episode already raised grows with every catalog read in its window.
        let ongoing = a.finding.as_ref().is_some_and(|id| {
            cx.findings
                .get_mut(id)
                .is_some_and(|f| plus(f.last_seen, window) >= ev.time)
        });
        let all: u128 = a.hits.iter().fold(0, |m, h| m | h.1);
        let distinct = all.count_ones();
        let weight = weight(all);
        let unusual = !start
            && a.hits.len() >= cfg.schema_enum_statements as usize
            && distinct >= cfg.schema_enum_objects;
        let mapping = weight >= cfg.schema_enum_account_weight;
        if !(ongoing || unusual || mapping) {
            return;
        }
        let tool = admin_tool(cfg, a.app.as_deref());
        let client = key_client.to_string();
        let f = cx.findings.raise(Raise {
            detector: ID,
            finding_type: TYPE,
            key: &[inst, user, &client],
            severity: Severity::new(4.0),
            resource: db_resource(ev),
            time: ev.time,
        });
        let stats = self.stats.entry(f.id.clone()).or_default();
        if ongoing {
            a.marks.clear();
            Mark::of(ev).absorb_into(f);
            stats.reads += 1;
        } else {
            // The window's reads make the finding; the last few are cited.
            let uncited = a.hits.len().saturating_sub(a.marks.len()) as u64;
            for m in a.marks.drain(..) {
                m.absorb_into(f);
            }
            f.count = f.count.saturating_add(uncited);
            if let Some((t, _)) = a.hits.front() {
                f.first_seen = f.first_seen.min(*t);
            }
            stats.reads += a.hits.len() as u64;
        }
        stats.user = user.to_string();
        stats.client = client.to_string();
        stats.instance = inst.to_string();
        stats.mask |= all;
        if stats.late.is_none() {
            stats.late = late;
        }
        stats.tool = tool;
        let context = habit_context(ev, inst, user, stats.mask, cx.config, cx.services);
        if !matches!(stats.context, Some(HabitContext::Unusual(_))) {
            stats.context = Some(context);
        }
        a.finding = Some(f.id.clone());
        write_texts(f, stats);
    }
}

/// What the user's catalog habit says about this read (context-sensitive severity,
/// `baseline::habits`): read before the baseline detector learns the same statement.
/// A habit never vouches for an episode reaching catalogs the user's routine never
/// read (`information_schema.columns` by a user whose routine is a driver's
/// `pg_type` reads, `pg_authid` by a user who reads the structure catalogs).
fn habit_context(
    ev: &Event,
    inst: &str,
    user: &str,
    mask: u128,
    config: &crate::config::Config,
    services: &crate::services::Services,
) -> HabitContext {
    if !config.baseline.enabled {
        return HabitContext::Unknown;
    }
    let seen = habits::Seen::of(ev);
    let settle = config.baseline.settle_secs.max(0);
    let profiles = services.baselines.lock();
    let cx = habits::judge(
        &profiles,
        inst,
        user,
        habits::Kind::Catalog,
        seen,
        settle,
        true,
    );
    match cx {
        HabitContext::Habitual(_) if !habits::covers(&profiles, inst, user, mask) => {
            HabitContext::Unknown
        }
        cx => cx,
    }
}

fn write_texts(f: &mut Finding, s: &Stats) {
    let names: Vec<&str> = CATALOGS
        .iter()
        .enumerate()
        .filter(|(i, _)| s.mask & (1u128 << i) != 0)
        .map(|(_, (n, _))| *n)
        .collect();
    let credential: Vec<&str> = CATALOGS
        .iter()
        .enumerate()
        .filter(|(i, (_, t))| s.mask & (1u128 << i) != 0 && *t == Tier::Credential)
        .map(|(_, (n, _))| *n)
        .collect();
    let mut sev: f64 = if credential.is_empty() { 4.0 } else { 5.0 };
    let context = s.context.as_ref().unwrap_or(&HabitContext::Unknown);
    // An administration tool is a person browsing, unless this is not their habit.
    let tool_lowers = s.tool.is_some() && !matches!(context, HabitContext::Unusual(_));
    if tool_lowers {
        sev = sev.min(2.5);
    }
    f.severity = Severity::new(habits::adjust(sev, context));
    let actor = Msg::new("enum-actor")
        .arg("user", &s.user)
        .arg("client", &s.client);
    let title = Msg::new("enum-title")
        .arg("instance", &s.instance)
        .arg("actor", actor.clone())
        .arg("n", names.len());
    let mut description = vec![Msg::new("enum-ran")
        .arg("actor", actor)
        .arg("reads", f.count.max(s.reads))
        .arg("instance", &s.instance)
        .arg("first", f.first_seen)
        .arg("last", f.last_seen)
        .arg(
            "list",
            names_arg(plain_names(names.iter().copied()), names.len(), 10),
        )];
    if let Some((n, secs)) = s.late {
        description.push(
            Msg::new("enum-late")
                .arg("n", n)
                .arg("span", crate::sigma::meta::duration_arg(secs)),
        );
    }
    if !credential.is_empty() {
        description
            .push(Msg::new("enum-credential").arg("list", Arg::Join(plain_names(credential))));
    } else if s.late.is_none() {
        description.push(Msg::new("enum-server"));
    }
    if let Some(t) = s.tool.as_ref().filter(|_| tool_lowers) {
        description.push(Msg::new("enum-tool").arg("tool", t));
    }
    description.extend(context.msg().cloned());
    let remediation = vec![
        Msg::new("enum-who")
            .arg("user", &s.user)
            .arg("client", &s.client),
        Msg::new("enum-app"),
        engine_msg("enum-lock", f).arg("user", &s.user),
    ];
    crate::text::set(
        f,
        FindingText {
            title: Some(title),
            description,
            remediation,
        },
    );
    f.mitre = vec!["T1082".to_string(), "T1087".to_string()];
}

#[cfg(test)]
mod hint_tests {
    use super::catalog_hint;

    #[test]
    fn the_catalog_hint_ignores_ascii_case_and_stays_in_bounds() {
        assert!(catalog_hint("SELECT * FROM PG_Roles"));
        assert!(catalog_hint("select * from `MySQL`.`user`"));
        assert!(catalog_hint("x Information_Schema.tables"));
        assert!(!catalog_hint("SELECT * FROM orders WHERE note = 'p'"));
        assert!(!catalog_hint("pg"));
        assert!(!catalog_hint(""));
        assert!(!catalog_hint("ÿ\u{0}informat"));
        assert!(!catalog_hint("_q_Q_information_schem"));
        assert!(catalog_hint("information_SCHEMA"));
        assert!(catalog_hint("MYSQL"));
        assert!(!catalog_hint("mysq"));
        assert!(!catalog_hint("created_at, unique_key, sequence"));
    }
}
