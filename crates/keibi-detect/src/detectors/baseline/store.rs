//! All profiles of a scan, bounded in number, and the shared handle through which the
//! binary loads them before a scan and saves them after (or, in a daemon, at any
//! checkpoint while the detector runs).
//!
//! Persistence is the binary's job (keibi-detect does no I/O): [`Profiles::export`]
//! hands out each changed profile as a key and JSON bytes, [`Profiles::import`] takes
//! them back. Keys are JSON arrays (`["login","prod-db","bob"]`), so no user name,
//! whatever characters it has, can make two profiles share a key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::profile::{FailProfile, LoginProfile, PrincipalProfile, Secs};

/// A profile could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("unreadable profile key {0:?}")]
    Key(String),
    #[error("profile {key}: {source}")]
    Value {
        key: String,
        source: serde_json::Error,
    },
}

/// Every profile, by kind. Each kind holds at most `max` profiles; past that a
/// sixteenth is evicted at once (amortised, so a flood of new users costs O(log n)
/// per user, not a scan per user), the least valuable first: immature profiles before
/// matured ones, among them those learned from the fewest events, then the least
/// recently active. A flood of new names (forged, or simply many) therefore evicts
/// its own kind and never a matured profile while an immature one is left; matured
/// profiles go, least recently active first, only when nothing else can make room.
#[derive(Debug)]
pub struct Profiles {
    /// instance -> user -> profile (nested so a lookup needs no allocation).
    logins: HashMap<Box<str>, HashMap<Box<str>, LoginProfile>>,
    login_count: usize,
    failures: HashMap<Box<str>, FailProfile>,
    principals: HashMap<Box<str>, PrincipalProfile>,
    /// Keys evicted since the last export, for the store to delete.
    removed: Vec<String>,
    /// More keys were evicted than `removed` keeps: the store must rewrite everything.
    rewrite: bool,
    max: usize,
}

impl Default for Profiles {
    fn default() -> Self {
        Profiles::new(DEFAULT_MAX)
    }
}

/// Profiles of each kind kept by default (`baseline.max_profiles`).
pub const DEFAULT_MAX: usize = 100_000;

/// Most instances with a failed-login profile.
const MAX_INSTANCES: usize = 10_000;

/// What [`Profiles::counts`] reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub logins: usize,
    pub logins_mature: usize,
    pub instances: usize,
    pub instances_mature: usize,
    pub principals: usize,
    pub principals_mature: usize,
}

fn key(parts: &[&str]) -> String {
    serde_json::to_string(parts).unwrap_or_default()
}

impl Profiles {
    /// Empty, holding at most `max` profiles of each kind (at least 16).
    pub fn new(max: usize) -> Profiles {
        Profiles {
            logins: HashMap::new(),
            login_count: 0,
            failures: HashMap::new(),
            principals: HashMap::new(),
            removed: Vec::new(),
            rewrite: false,
            max: max.max(16),
        }
    }

    pub fn set_max(&mut self, max: usize) {
        self.max = max.max(16);
    }

    /// How many profiles of each kind are kept at most.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Whether there is no profile at all.
    pub fn is_empty(&self) -> bool {
        self.login_count == 0 && self.failures.is_empty() && self.principals.is_empty()
    }

    /// The login profile of `user` at `instance`, created when new.
    pub fn login(&mut self, instance: &str, user: &str, now: Secs) -> &mut LoginProfile {
        if !self
            .logins
            .get(instance)
            .is_some_and(|m| m.contains_key(user))
        {
            if self.login_count >= self.max {
                self.evict_logins(now);
            }
            self.login_count += 1;
        }
        self.logins
            .entry(instance.into())
            .or_default()
            .entry(user.into())
            .or_default()
    }

    /// The login profile of `user` at `instance` when it exists: never creates one
    /// nor evicts another.
    pub fn login_mut(&mut self, instance: &str, user: &str) -> Option<&mut LoginProfile> {
        self.logins.get_mut(instance)?.get_mut(user)
    }

    pub fn login_ref(&self, instance: &str, user: &str) -> Option<&LoginProfile> {
        self.logins.get(instance)?.get(user)
    }

    /// The failed-login profile of an instance, created when new.
    pub fn failures(&mut self, instance: &str) -> &mut FailProfile {
        if !self.failures.contains_key(instance) && self.failures.len() >= MAX_INSTANCES {
            let stalest = self
                .failures
                .iter()
                .min_by_key(|(_, p)| p.act.last)
                .map(|(k, _)| k.clone());
            if let Some(k) = stalest {
                self.failures.remove(&k);
                self.note_removed(key(&["fail", &k]));
            }
        }
        self.failures.entry(instance.into()).or_default()
    }

    /// The profile of an IAM principal, created when new.
    pub fn principal(&mut self, arn: &str, now: Secs) -> &mut PrincipalProfile {
        if !self.principals.contains_key(arn) && self.principals.len() >= self.max {
            self.evict_principals(now);
        }
        self.principals.entry(arn.into()).or_default()
    }

    pub fn principal_ref(&self, arn: &str) -> Option<&PrincipalProfile> {
        self.principals.get(arn)
    }

    fn batch(&self) -> usize {
        (self.max / 16).max(1)
    }

    fn note_removed(&mut self, k: String) {
        if self.removed.len() >= self.max {
            self.rewrite = true;
            self.removed.clear();
        }
        if !self.rewrite {
            self.removed.push(k);
        }
    }

    fn evict_logins(&mut self, _now: Secs) {
        let all: Vec<(Worth, Box<str>, Box<str>)> = self
            .logins
            .iter()
            .flat_map(|(i, m)| {
                m.iter()
                    .map(move |(u, p)| (Worth::of(&p.act), i.clone(), u.clone()))
            })
            .collect();
        for (_, i, u) in least_worth(all, self.batch()) {
            if let Some(m) = self.logins.get_mut(&i) {
                if m.remove(&u).is_some() {
                    self.login_count -= 1;
                }
                if m.is_empty() {
                    self.logins.remove(&i);
                }
            }
            self.note_removed(key(&["login", &i, &u]));
        }
    }

    fn evict_principals(&mut self, _now: Secs) {
        let all: Vec<(Worth, Box<str>, ())> = self
            .principals
            .iter()
            .map(|(k, p)| (Worth::of(&p.act), k.clone(), ()))
            .collect();
        for (_, k, ()) in least_worth(all, self.batch()) {
            self.principals.remove(&k);
            self.note_removed(key(&["principal", &k]));
        }
    }

    /// How many profiles there are and how many matured.
    pub fn counts(&self) -> Counts {
        let logins = self.logins.values().flat_map(|m| m.values());
        let mut c = Counts {
            logins: self.login_count,
            instances: self.failures.len(),
            principals: self.principals.len(),
            ..Counts::default()
        };
        c.logins_mature = logins.filter(|p| p.act.matured_at.is_some()).count();
        c.instances_mature = self
            .failures
            .values()
            .filter(|p| p.act.matured_at.is_some())
            .count();
        c.principals_mature = self
            .principals
            .values()
            .filter(|p| p.act.matured_at.is_some())
            .count();
        c
    }

    /// True when more profiles were evicted than [`Profiles::export`] can name: the
    /// store must then drop everything it has and export with `all`.
    pub fn needs_rewrite(&self) -> bool {
        self.rewrite
    }

    /// Hands every profile changed since the last export (all of them when `all`) to
    /// `put` as key and JSON bytes, and returns the keys evicted since, for the store
    /// to delete.
    pub fn export(&mut self, all: bool, mut put: impl FnMut(&str, &[u8])) -> Vec<String> {
        let all = all || std::mem::take(&mut self.rewrite);
        for (i, m) in &mut self.logins {
            for (u, p) in m.iter_mut().filter(|(_, p)| all || p.dirty) {
                p.dirty = false;
                put(&key(&["login", i, u]), &to_json(p));
            }
        }
        for (i, p) in self.failures.iter_mut().filter(|(_, p)| all || p.dirty) {
            p.dirty = false;
            put(&key(&["fail", i]), &to_json(p));
        }
        for (k, p) in self.principals.iter_mut().filter(|(_, p)| all || p.dirty) {
            p.dirty = false;
            put(&key(&["principal", k]), &to_json(p));
        }
        std::mem::take(&mut self.removed)
    }

    /// Takes back one exported profile. Loading more than `max` of a kind evicts as
    /// scanning would.
    pub fn import(&mut self, k: &str, v: &[u8]) -> Result<(), ImportError> {
        let parts: Vec<String> =
            serde_json::from_str(k).map_err(|_| ImportError::Key(k.to_string()))?;
        let val = |source| ImportError::Value {
            key: k.to_string(),
            source,
        };
        match parts.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["login", instance, user] => {
                let p: LoginProfile = serde_json::from_slice(v).map_err(val)?;
                let now = p.act.last;
                *self.login(instance, user, now) = p;
            }
            ["fail", instance] => {
                let p: FailProfile = serde_json::from_slice(v).map_err(val)?;
                *self.failures(instance) = p;
            }
            ["principal", arn] => {
                let p: PrincipalProfile = serde_json::from_slice(v).map_err(val)?;
                let now = p.act.last;
                *self.principal(arn, now) = p;
            }
            _ => return Err(ImportError::Key(k.to_string())),
        }
        Ok(())
    }

    /// Approximate bytes held by the login and principal profiles (maps, profiles,
    /// their sets and strings), for sizing.
    pub fn approx_bytes(&self) -> usize {
        let text = |s: &super::profile::SeenSet<Box<str>>| {
            s.heap_bytes() + s.values().map(|v| v.len()).sum::<usize>()
        };
        let entry = std::mem::size_of::<(Box<str>, LoginProfile)>() + 8;
        let login: usize = self
            .logins
            .values()
            .flat_map(|m| m.iter())
            .map(|(u, p)| {
                entry
                    + u.len()
                    + p.nets.heap_bytes()
                    + p.asns.heap_bytes()
                    + p.asns.values().map(|a| a.org.len()).sum::<usize>()
                    + text(&p.countries)
                    + text(&p.apps)
                    + text(&p.auth)
            })
            .sum();
        let pentry = std::mem::size_of::<(Box<str>, PrincipalProfile)>() + 8;
        let principal: usize = self
            .principals
            .iter()
            .map(|(k, p)| {
                pentry
                    + k.len()
                    + p.nets.heap_bytes()
                    + p.asns.heap_bytes()
                    + text(&p.countries)
                    + text(&p.agents)
                    + text(&p.regions)
                    + text(&p.calls)
            })
            .sum();
        login + principal
    }
}

/// How much a profile is worth keeping, least first: immature before matured; an
/// immature one by how many events it learned from, then how recently it was active;
/// a matured one by how recently it was active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Worth {
    mature: bool,
    events: u64,
    last: Secs,
}

impl Worth {
    fn of(a: &super::profile::Activity) -> Worth {
        let mature = a.matured_at.is_some();
        Worth {
            mature,
            events: if mature { 0 } else { a.n },
            last: a.last,
        }
    }
}

/// The `n` entries worth least (ties by key, so eviction is the same every run).
fn least_worth<A: Ord, B: Ord>(mut all: Vec<(Worth, A, B)>, n: usize) -> Vec<(Worth, A, B)> {
    let n = n.min(all.len());
    if n == 0 {
        return Vec::new();
    }
    all.select_nth_unstable(n - 1);
    all.truncate(n);
    all
}

fn to_json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// The profiles a detector learns into, shared with whoever persists them.
///
/// The binary fills it from `--state` before the scan and saves it afterwards; a
/// daemon may lock it between events to checkpoint. The detector locks it once per
/// login or API call event (uncontended: a few nanoseconds).
#[derive(Clone, Default)]
pub struct BaselineStore(Arc<Mutex<Profiles>>);

impl BaselineStore {
    pub fn new(profiles: Profiles) -> BaselineStore {
        BaselineStore(Arc::new(Mutex::new(profiles)))
    }

    /// Whether both handles share the same profiles.
    pub fn same(&self, other: &BaselineStore) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The profiles. A detector that panicked mid-update leaves them usable: every
    /// update keeps each profile consistent on its own.
    pub fn lock(&self) -> MutexGuard<'_, Profiles> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for BaselineStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BaselineStore")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_stay_bounded_and_evict_the_stalest() {
        let mut p = Profiles::new(32);
        for i in 0..40i64 {
            p.login("db", &format!("u{i}"), i).act.last = i;
        }
        assert!(p.counts().logins <= 32);
        assert!(p.login_ref("db", "u39").is_some());
        assert!(p.login_ref("db", "u0").is_none());
        let removed = p.export(false, |_, _| {});
        assert!(removed.contains(&r#"["login","db","u0"]"#.to_string()));
        assert!(!p.needs_rewrite());
        for i in 40..200i64 {
            p.login("db", &format!("u{i}"), i).act.last = i;
        }
        assert!(p.needs_rewrite(), "more evictions than remembered");
    }

    #[test]
    fn export_then_import_round_trips_and_keys_cannot_collide() {
        let mut p = Profiles::new(100);
        p.login("a", "b\"c", 5).dirty = true;
        p.login("a\"b", "c", 5).dirty = true;
        p.principal("arn:aws:iam::1:user/x", 5).dirty = true;
        p.failures("a").dirty = true;
        let mut rows = Vec::new();
        p.export(false, |k, v| rows.push((k.to_string(), v.to_vec())));
        assert_eq!(rows.len(), 4);
        let mut q = Profiles::new(100);
        for (k, v) in &rows {
            q.import(k, v).unwrap();
        }
        assert_eq!(q.counts().logins, 2);
        assert_eq!(q.counts().principals, 1);
        assert_eq!(q.counts().instances, 1);
        let mut again = 0;
        p.export(false, |_, _| again += 1);
        assert_eq!(again, 0, "nothing changed since");
        assert!(q.import("[\"nope\"]", b"{}").is_err());
        assert!(q.import("[\"login\",\"a\",\"b\"]", b"not json").is_err());
    }

    #[test]
    fn a_flood_of_new_names_never_evicts_a_matured_profile() {
        use super::super::profile::Maturity;
        let m = Maturity {
            min_events: 20,
            min_days: 7,
            min_active_days: 3,
        };
        let day = super::super::profile::DAY;
        let mut p = Profiles::new(DEFAULT_MAX);
        // Fifty real users log in twice a day for two weeks: their profiles mature.
        for d in 0..14 {
            for u in 0..50 {
                for h in [9, 17] {
                    let t = d * day + h * 3600;
                    p.login("prod", &format!("real{u}"), t).act.observe(t, &m);
                }
            }
        }
        // Some users had logged in a few times without maturing yet.
        for u in 0..20 {
            for k in 0..3 {
                let t = 14 * day + k;
                p.login("prod", &format!("new{u}"), t).act.observe(t, &m);
            }
        }
        assert_eq!(p.counts().logins_mature, 50);
        // Then 110,000 distinct names, one login each, all more recent.
        for i in 0..110_000i64 {
            let t = 15 * day + i;
            p.login("prod", &format!("forged{i}"), t).act.observe(t, &m);
        }
        let c = p.counts();
        assert!(c.logins <= DEFAULT_MAX, "{c:?}");
        assert_eq!(c.logins_mature, 50, "every matured profile kept");
        for u in 0..50 {
            let real = p.login_ref("prod", &format!("real{u}")).unwrap();
            assert!(real.act.matured_at.is_some());
        }
        // Immature profiles with more history outlive the one-login names ...
        assert!((0..20).all(|u| p.login_ref("prod", &format!("new{u}")).is_some()));
        // ... which evict each other, oldest first.
        assert!(p.login_ref("prod", "forged0").is_none());
        assert!(p.login_ref("prod", "forged109999").is_some());

        // The same holds for IAM principals.
        let mut p = Profiles::new(64);
        for d in 0..14 {
            let t = d * day;
            p.principal("arn:aws:iam::1:role/deploy", t)
                .act
                .observe(t, &m);
            p.principal("arn:aws:iam::1:role/deploy", t + 60)
                .act
                .observe(t + 60, &m);
        }
        for i in 0..1_000i64 {
            let t = 15 * day + i;
            p.principal(&format!("arn:aws:iam::1:user/x{i}"), t)
                .act
                .observe(t, &m);
        }
        assert!(p.counts().principals <= 64);
        assert!(p.principal_ref("arn:aws:iam::1:role/deploy").is_some());
    }
}
