//! Activity habits: which finding-worthy statements a database user makes as part of
//! the routine (reading the system catalogs, creating accounts, changing roles and
//! grants), from which networks and at which hours, learned online like login habits.
//!
//! A DBA who reads the catalog every working day from the office, or creates an
//! account in office hours from her usual network, is doing her job; the same
//! statements from a user who never makes them, from a new network or at an unusual
//! hour are what an intruder does. The activity findings that are *context-sensitive*
//! (schema enumeration, account creation, role changes) ask [`judge`] and adjust their
//! severity with [`adjust`]: Low ([`HABITUAL_MAX`]) for the routine, at least Medium
//! ([`UNUSUAL_MIN`]) for the unusual, unchanged when nothing is known, each with a
//! sentence that says why. Findings that are never context-sensitive (a ransom note,
//! server-side commands, audit tampering, bulk exports, mass destruction) never ask.
//!
//! The habits are plain data in each user's [`LoginProfile`] (`habits`, absent from
//! profiles stored before they existed, which load with none), so they are kept in the
//! state file and the daemon's store with the login habits.
//!
//! **Who learns what.** `keibi scan` runs the Sigma rules on one thread and the
//! stateful detectors on another, both sharing the profiles. So that every judgement
//! is the same whatever the threads' timing, each kind is learned and read on one
//! thread only: catalog reads by the baseline detector (and judged by the schema
//! enumeration detector, before the baseline detector sees the same statement), account
//! creations and role changes by the Sigma detector (only into login profiles that
//! exist: it never creates nor evicts one), which judges them for the rules
//! that ask (`keibi: context: account` / `role`). `keibi learn`, which runs no rule,
//! learns every kind in the baseline detector.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use keibi_model::{Arg, Event, Msg};
use serde::{Deserialize, Serialize};

use super::explain::{self, list, Factor};
use super::profile::{
    caps, Activity, Hours, Judge, LoginProfile, Maturity, Net, Secs, SeenSet, Usual,
};
use super::store::Profiles;
use crate::config::{ActivityConfig, Config};

/// The most an activity finding is worth when the statement is the user's routine
/// (Low: worth a line in the report, never a page).
pub const HABITUAL_MAX: f64 = 2.0;
/// The least an activity finding is worth when a user with a known routine makes the
/// statement from a new network, at an unusual hour, or never made it before (Medium).
pub const UNUSUAL_MIN: f64 = 4.0;

/// A kind of finding-worthy statement a user may make routinely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads of the system catalogs (Discovery:RDS/SchemaEnumeration).
    Catalog,
    /// Creating a login role or account (Persistence:RDS/AccountCreated).
    Account,
    /// Changing a role's attributes, memberships or grants
    /// (PrivilegeEscalation:RDS/RoleElevated).
    Role,
}

impl Kind {
    /// The name a rule's `keibi: context:` uses.
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "catalog" => Some(Kind::Catalog),
            "account" => Some(Kind::Account),
            "role" => Some(Kind::Role),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Catalog => "catalog",
            Kind::Account => "account",
            Kind::Role => "role",
        }
    }

    /// The kind of an account or role statement, from its command tag alone (cheap:
    /// the Sigma thread asks for every statement). Catalog reads are recognised by
    /// the schema enumeration detector's parser ([`catalog_read`]).
    pub fn of_command(command: &str) -> Option<Kind> {
        match command {
            "CREATE ROLE" | "CREATE USER" => Some(Kind::Account),
            "ALTER ROLE" | "ALTER USER" | "GRANT" | "GRANT ROLE" | "REVOKE" | "REVOKE ROLE"
            | "SET ROLE" => Some(Kind::Role),
            _ => None,
        }
    }
}

/// The catalogs an executed statement reads (0: none, or not executed).
pub fn catalog_read(ev: &Event) -> u128 {
    let Some(st) = executed(ev) else {
        return 0;
    };
    crate::detectors::activity::catalogs(st.command.as_deref().unwrap_or(""), &st.text)
}

/// The catalogs each user read within the enumeration window, so that the catalog
/// habit is learned from an episode as the schema enumeration detector judges one:
/// several statements that together read enough catalogs (a DBA's `\dt`, `\du`, `\l`
/// are one statement each). The few catalogs drivers and ORMs read on every connect
/// (pgjdbc's, Npgsql's `pg_type`/`pg_namespace`) never make an episode and teach
/// nothing.
#[derive(Debug, Default)]
pub struct CatalogWindows {
    /// (instance, user) → (window start, catalogs read since).
    map: HashMap<(Box<str>, Box<str>), (i64, u128)>,
}

impl CatalogWindows {
    /// At most this many users' windows at once: past it, expired windows are
    /// dropped, and if none had expired every window starts again (a flood of
    /// distinct users costs habits some learning, never memory).
    pub const MAX: usize = 4096;

    /// Adds a read of `mask` at `t`; returns the window's catalogs when they make
    /// an episode ([`activity::episode`](crate::detectors::activity::episode)), the
    /// catalogs to learn, else 0.
    pub fn read(
        &mut self,
        instance: &str,
        user: &str,
        t: i64,
        mask: u128,
        cfg: &ActivityConfig,
    ) -> u128 {
        if mask == 0 {
            return 0;
        }
        let window = i64::try_from(cfg.schema_enum_window_secs).unwrap_or(i64::MAX);
        let key = (Box::<str>::from(instance), Box::<str>::from(user));
        if self.map.len() >= Self::MAX && !self.map.contains_key(&key) {
            self.map
                .retain(|_, (start, _)| t.saturating_sub(*start) <= window);
            if self.map.len() >= Self::MAX {
                self.map.clear();
            }
        }
        let w = self.map.entry(key).or_insert((t, 0));
        if t.saturating_sub(w.0) > window || t < w.0 {
            *w = (t, 0);
        }
        w.1 |= mask;
        if crate::detectors::activity::episode(w.1, cfg) {
            w.1
        } else {
            0
        }
    }
}

/// The statement of an executed statement event (a refused one teaches nothing).
fn executed(ev: &Event) -> Option<&keibi_model::Statement> {
    if ev.action != keibi_model::Action::Statement || ev.error_code.is_some() {
        return None;
    }
    ev.statement.as_deref()
}

/// The kind of an executed account or role statement.
pub fn command_kind(ev: &Event) -> Option<Kind> {
    Kind::of_command(executed(ev)?.command.as_deref()?)
}

/// One kind of statement as a user's habit: how often and on how many days, from
/// which networks and at which hours.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Habit {
    pub act: Activity,
    #[serde(default)]
    pub nets: SeenSet<Net>,
    #[serde(default)]
    pub hours: Hours,
    /// The catalogs the habit's reads touched (catalog habit only; names from the
    /// enumeration detector's table, so at most that many).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub catalogs: Vec<String>,
}

/// The habits of one user on one instance (a part of its [`LoginProfile`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Habits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<Box<Habit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Box<Habit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Box<Habit>>,
}

impl Habits {
    pub fn is_empty(&self) -> bool {
        self.catalog.is_none() && self.account.is_none() && self.role.is_none()
    }

    pub fn get(&self, k: Kind) -> Option<&Habit> {
        match k {
            Kind::Catalog => self.catalog.as_deref(),
            Kind::Account => self.account.as_deref(),
            Kind::Role => self.role.as_deref(),
        }
    }

    fn get_mut(&mut self, k: Kind) -> &mut Habit {
        match k {
            Kind::Catalog => self.catalog.get_or_insert_default(),
            Kind::Account => self.account.get_or_insert_default(),
            Kind::Role => self.role.get_or_insert_default(),
        }
    }

    /// Heap bytes held (for sizing).
    pub fn heap_bytes(&self) -> usize {
        [&self.catalog, &self.account, &self.role]
            .into_iter()
            .flatten()
            .map(|h| {
                std::mem::size_of::<Habit>()
                    + h.nets.heap_bytes()
                    + h.catalogs.iter().map(|c| 24 + c.len()).sum::<usize>()
            })
            .sum()
    }
}

/// When a habit is routine: the statement on `min_active_days` different days spread
/// over `min_days` days (the login profiles' settings), at least one a day.
pub fn maturity(config: &Config) -> Maturity {
    let b = &config.baseline;
    Maturity {
        min_events: u64::from(b.min_active_days),
        min_days: b.min_days,
        min_active_days: b.min_active_days,
    }
}

/// Where and when a statement was made, in the habits' terms.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub t: Secs,
    pub ip: Option<IpAddr>,
    pub net: Option<Net>,
}

impl Seen {
    pub fn of(ev: &Event) -> Seen {
        Seen {
            t: ev.time.timestamp(),
            ip: ev.client_ip,
            net: Net::of_event(ev.client_ip, ev.client_host.as_deref()),
        }
    }
}

/// User names kept in a profile key (as the login profiles cut them).
const MAX_USER: usize = 256;

fn cut(s: &str) -> &str {
    let mut end = s.len().min(MAX_USER);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The instance and user a statement's habits are kept under, when it names a user.
pub fn owner(ev: &Event) -> Option<(&str, &str)> {
    let user = ev.user.as_deref().filter(|u| !u.is_empty())?;
    Some((ev.instance.as_deref().unwrap_or("unknown"), cut(user)))
}

/// Learns one statement of kind `k` by `user` on `instance`.
pub fn learn(p: &mut Profiles, instance: &str, user: &str, k: Kind, s: Seen, m: &Maturity) {
    observe(p.login(instance, user, s.t), k, s, m);
}

fn observe(prof: &mut LoginProfile, k: Kind, s: Seen, m: &Maturity) {
    prof.dirty = true;
    let h = prof.habits.get_mut(k);
    h.act.observe(s.t, m);
    if let Some(net) = s.net {
        h.nets.observe(|n| *n == net, || net, s.t, caps::NETS);
    }
    h.hours.observe(s.t);
}

/// Learns one statement of kind `k` for the Sigma lane: only into a login profile
/// that already exists, never creating one nor evicting another (the profiles and
/// their cap are the detectors' lane's, so what it keeps never depends on the
/// threads' timing).
pub fn learn_existing(
    p: &mut Profiles,
    instance: &str,
    user: &str,
    k: Kind,
    s: Seen,
    m: &Maturity,
) {
    if let Some(prof) = p.login_mut(instance, user) {
        observe(prof, k, s, m);
    }
}

/// Learns one catalog read (its catalogs, `mask`) by `user` on `instance`.
pub fn learn_catalogs(
    p: &mut Profiles,
    instance: &str,
    user: &str,
    mask: u128,
    s: Seen,
    m: &Maturity,
) {
    learn(p, instance, user, Kind::Catalog, s, m);
    let Some(h) = p
        .login_mut(instance, user)
        .and_then(|prof| prof.habits.catalog.as_deref_mut())
    else {
        return;
    };
    let known = crate::detectors::activity::catalog_mask(h.catalogs.iter().map(String::as_str));
    for name in crate::detectors::activity::catalog_names(mask & !known) {
        h.catalogs.push(name.to_string());
    }
}

/// Whether `user`'s catalog habit has read every catalog of `mask` (a habit vouches
/// only for the catalogs it knows).
pub fn covers(p: &Profiles, instance: &str, user: &str, mask: u128) -> bool {
    let known = p
        .login_ref(instance, user)
        .and_then(|prof| prof.habits.catalog.as_deref())
        .map_or(0, |h| {
            crate::detectors::activity::catalog_mask(h.catalogs.iter().map(String::as_str))
        });
    mask & !known == 0
}

/// What a user's habits say about one statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Context {
    /// Nothing known: the habit is too young and the user not known well enough.
    Unknown,
    /// The user's routine: the sentence that says so.
    Habitual(Msg),
    /// Not this user's routine (a new network, an unusual hour, or a statement a
    /// well-known user never made): the sentence that says how.
    Unusual(Msg),
}

impl Context {
    /// The sentence to add to the finding's description.
    pub fn msg(&self) -> Option<&Msg> {
        match self {
            Context::Unknown => None,
            Context::Habitual(m) | Context::Unusual(m) => Some(m),
        }
    }
}

/// The severity of an activity finding in its context: at most [`HABITUAL_MAX`] for
/// the routine, at least [`UNUSUAL_MIN`] for the unusual, else unchanged.
pub fn adjust(severity: f64, cx: &Context) -> f64 {
    match cx {
        Context::Unknown => severity,
        Context::Habitual(_) => severity.min(HABITUAL_MAX),
        Context::Unusual(_) => severity.max(UNUSUAL_MIN),
    }
}

/// Judges a statement of kind `k` by `user` on `instance` against what was learned
/// before it. `known_user`: whether the caller may rely on the user's login profile
/// (only on the baseline detector's thread, see the module docs): a user with a mature
/// login routine and no such habit never made the statement.
pub fn judge(
    p: &Profiles,
    instance: &str,
    user: &str,
    k: Kind,
    s: Seen,
    settle: Secs,
    known_user: bool,
) -> Context {
    let Some(prof) = p.login_ref(instance, user) else {
        return Context::Unknown;
    };
    let at = DateTime::<Utc>::from_timestamp(s.t, 0).unwrap_or_default();
    let habit = prof.habits.get(k);
    let Some((h, j)) = habit.and_then(|h| h.act.judge(s.t, settle).map(|j| (h, j))) else {
        return never(prof, user, k, s.t, settle, known_user);
    };
    let mut factors = Vec::new();
    if let Some(net) = s.net {
        if h.nets.judge(|n| *n == net, &j) == Usual::New {
            factors.push(Factor::Source {
                ip: s.ip,
                net,
                asn: None,
                usual: list(h.nets.usual(&j)),
            });
        }
    }
    if h.hours.unusual(s.t, &j) {
        factors.push(Factor::Hour {
            t: s.t,
            mask: h.hours.usual_mask(&j),
        });
    }
    if factors.is_empty() {
        return Context::Habitual(
            Msg::new("habit-usual")
                .arg("user", user)
                .arg("what", Msg::new(&format!("habit-what-{}", k.name())))
                .arg("days", u64::from(h.act.days))
                .arg("span", (h.act.span_days().max(0) as u64).max(1))
                .arg("nets", nets_arg(&h.nets, &j))
                .arg("hours", explain::hours_arg(h.hours.usual_mask(&j), at)),
        );
    }
    Context::Unusual(
        Msg::new("habit-unusual")
            .arg("user", user)
            .arg("what", Msg::new(&format!("habit-what-{}", k.name())))
            .arg(
                "factors",
                Arg::Join(factors.iter().map(Factor::msg).collect()),
            ),
    )
}

/// A statement the habit cannot vouch for: unusual when the user is well known and
/// never made it, unknown otherwise.
fn never(prof: &LoginProfile, user: &str, k: Kind, t: Secs, settle: Secs, known: bool) -> Context {
    if !known || prof.act.judge(t, settle).is_none() {
        return Context::Unknown;
    }
    Context::Unusual(
        Msg::new("habit-never")
            .arg("user", user)
            .arg("logins", prof.act.n)
            .arg("span", prof.act.span_days().max(0) as u64)
            .arg("doing", Msg::new(&format!("habit-doing-{}", k.name()))),
    )
}

fn nets_arg(nets: &SeenSet<Net>, j: &Judge) -> Msg {
    let usual = list(nets.usual(j));
    if usual.shown.is_empty() {
        Msg::new("habit-nets-unknown")
    } else {
        usual.msg()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detectors::baseline::profile::DAY;

    const HOUR: Secs = 3600;

    fn seen(t: Secs, ip: &str) -> Seen {
        let ip: IpAddr = ip.parse().unwrap();
        Seen {
            t,
            ip: Some(ip),
            net: Some(Net::of_ip(ip)),
        }
    }

    fn en(m: &Msg) -> String {
        keibi_i18n::Locale::english_utc().render(m)
    }

    /// Three weeks of a DBA reading the catalog on weekdays at 10:00 from the office.
    fn routine() -> (Profiles, Maturity) {
        let m = maturity(&Config::default());
        let mut p = Profiles::default();
        for d in 0..21 {
            if d % 7 < 5 {
                learn(
                    &mut p,
                    "db",
                    "dba_kim",
                    Kind::Catalog,
                    seen(d * DAY + 10 * HOUR, "10.20.0.5"),
                    &m,
                );
            }
        }
        (p, m)
    }

    #[test]
    fn the_routine_is_habitual_and_says_so() {
        let (p, _) = routine();
        let c = judge(
            &p,
            "db",
            "dba_kim",
            Kind::Catalog,
            seen(22 * DAY + 11 * HOUR, "10.20.0.9"),
            DAY,
            false,
        );
        let Context::Habitual(m) = &c else {
            panic!("{c:?}")
        };
        let s = en(m);
        assert!(
            s.contains("dba_kim reads the system catalogs as a routine"),
            "{s}"
        );
        assert!(s.contains("10.20.0.0/24"), "{s}");
        assert!(s.contains("This is usual for dba_kim"), "{s}");
        assert_eq!(adjust(4.0, &c), HABITUAL_MAX);
    }

    #[test]
    fn a_new_network_or_the_night_is_unusual() {
        let (p, _) = routine();
        let c = judge(
            &p,
            "db",
            "dba_kim",
            Kind::Catalog,
            seen(22 * DAY + 11 * HOUR, "198.51.100.23"),
            DAY,
            false,
        );
        let Context::Unusual(m) = &c else {
            panic!("{c:?}")
        };
        assert!(en(m).contains("198.51.100.23"), "{}", en(m));
        assert_eq!(adjust(2.5, &c), UNUSUAL_MIN);
        let c = judge(
            &p,
            "db",
            "dba_kim",
            Kind::Catalog,
            seen(22 * DAY + 3 * HOUR, "10.20.0.5"),
            DAY,
            false,
        );
        assert!(matches!(c, Context::Unusual(_)), "{c:?}");
        // Another kind, another user: nothing known.
        let c = judge(
            &p,
            "db",
            "dba_kim",
            Kind::Account,
            seen(22 * DAY + 11 * HOUR, "10.20.0.5"),
            DAY,
            false,
        );
        assert_eq!(c, Context::Unknown);
        let c = judge(
            &p,
            "db",
            "app",
            Kind::Catalog,
            seen(22 * DAY + 11 * HOUR, "10.20.0.5"),
            DAY,
            false,
        );
        assert_eq!(c, Context::Unknown);
        assert_eq!(adjust(4.0, &c), 4.0);
    }

    #[test]
    fn a_young_habit_judges_nothing() {
        let m = maturity(&Config::default());
        let mut p = Profiles::default();
        for d in 0..3 {
            learn(
                &mut p,
                "db",
                "kim",
                Kind::Account,
                seen(d * DAY + 10 * HOUR, "10.20.0.5"),
                &m,
            );
        }
        let c = judge(
            &p,
            "db",
            "kim",
            Kind::Account,
            seen(4 * DAY + 3 * HOUR, "203.0.113.5"),
            DAY,
            true,
        );
        assert_eq!(c, Context::Unknown, "three days are not a routine yet");
    }

    #[test]
    fn a_well_known_user_who_never_did_it_is_unusual_where_the_caller_may_say_so() {
        let mut p = Profiles::default();
        let prof = p.login("db", "app", 0);
        let lm = Maturity {
            min_events: 10,
            min_days: 7,
            min_active_days: 3,
        };
        for d in 0..14 {
            prof.act.observe(d * DAY + 10 * HOUR, &lm);
        }
        let s = seen(15 * DAY + 10 * HOUR, "10.0.1.11");
        assert_eq!(
            judge(&p, "db", "app", Kind::Catalog, s, DAY, false),
            Context::Unknown
        );
        let c = judge(&p, "db", "app", Kind::Catalog, s, DAY, true);
        let Context::Unusual(m) = &c else {
            panic!("{c:?}")
        };
        assert!(en(m).contains("never"), "{}", en(m));
    }

    #[test]
    fn profiles_stored_before_habits_load_with_none_and_habits_round_trip() {
        let old = br#"{"act":{"first":0,"last":864000,"n":12,"days":5,"matured_at":864000},"nets":{"items":[{"v":{"V4":[10,20,0]},"first":0,"last":864000,"n":12}]},"hours":{"n":[0,0,0,0,0,0,0,0,0,0,12,0,0,0,0,0,0,0,0,0,0,0,0,0],"first_day":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"weekdays":31}}"#;
        let p: LoginProfile = serde_json::from_slice(old).unwrap();
        assert!(p.habits.is_empty());
        assert_eq!(p.act.n, 12);
        // Without habits a profile is written as before (no new key).
        assert!(!serde_json::to_string(&p).unwrap().contains("habits"));
        let (mut store, _) = routine();
        let mut saved = Vec::new();
        store.export(true, |k, v| saved.push((k.to_string(), v.to_vec())));
        let mut back = Profiles::default();
        for (k, v) in &saved {
            back.import(k, v).unwrap();
        }
        assert_eq!(
            back.login_ref("db", "dba_kim").unwrap().habits,
            store.login_ref("db", "dba_kim").unwrap().habits
        );
    }

    #[test]
    fn the_sigma_lane_never_creates_or_evicts_a_login_profile() {
        let m = maturity(&Config::default());
        let mut p = Profiles::new(1);
        p.login("db", "alice", 0);
        let s = seen(10 * HOUR, "10.20.0.5");
        learn_existing(&mut p, "db", "mallory", Kind::Account, s, &m);
        assert!(p.login_ref("db", "mallory").is_none());
        assert!(p.login_ref("db", "alice").is_some(), "nothing evicted");
        learn_existing(&mut p, "db", "alice", Kind::Role, s, &m);
        let h = p.login_ref("db", "alice").unwrap().habits.get(Kind::Role);
        assert_eq!(h.map(|h| h.act.n), Some(1));
    }

    #[test]
    fn kinds_from_commands() {
        assert_eq!(Kind::of_command("CREATE ROLE"), Some(Kind::Account));
        assert_eq!(Kind::of_command("GRANT ROLE"), Some(Kind::Role));
        assert_eq!(Kind::of_command("SELECT"), None);
        assert_eq!(Kind::parse("role"), Some(Kind::Role));
        assert_eq!(Kind::parse("ransom"), None);
    }
}

#[cfg(test)]
mod window_tests {
    use super::CatalogWindows;
    use crate::config::ActivityConfig;
    use crate::detectors::activity::catalog_mask;

    #[test]
    fn an_episode_is_several_statements_within_the_window() {
        let cfg = ActivityConfig::default();
        let mut w = CatalogWindows::default();
        let one = |n: &str| catalog_mask([n]);
        assert_eq!(w.read("db", "kim", 0, one("pg_class"), &cfg), 0);
        assert_eq!(w.read("db", "kim", 10, one("pg_namespace"), &cfg), 0);
        assert_eq!(w.read("db", "kim", 20, one("pg_database"), &cfg), 0);
        // Another user's reads are her own window.
        assert_eq!(w.read("db", "app", 25, one("pg_attribute"), &cfg), 0);
        let got = w.read("db", "kim", 30, one("pg_attribute"), &cfg);
        assert_eq!(got.count_ones(), 4, "four catalogs within the window teach");
        // After the window the count starts again.
        let late = 30 + cfg.schema_enum_window_secs as i64 + 1;
        assert_eq!(w.read("db", "kim", late, one("pg_class"), &cfg), 0);
    }

    #[test]
    fn a_flood_of_users_never_grows_past_the_bound() {
        let cfg = ActivityConfig::default();
        let mut w = CatalogWindows::default();
        for i in 0..(CatalogWindows::MAX as i64 * 3) {
            w.read("db", &format!("u{i}"), i, catalog_mask(["pg_class"]), &cfg);
        }
        assert!(w.map.len() <= CatalogWindows::MAX);
    }
}
