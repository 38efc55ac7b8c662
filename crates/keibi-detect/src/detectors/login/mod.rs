//! The stateful login detectors (GuardDuty RDS Protection equivalents):
//!
//! * [`SourceDetector`] (`login_source`): what one address does to one instance:
//!   `BruteForce`, `PasswordSpray`, and `AnomalousBehavior.SuccessfulBruteForce`.
//! * [`StuffingDetector`] (`login_stuffing`): many addresses against the same user:
//!   `CredentialStuffing`.
//! * [`ReputationDetector`] (`login_reputation`): logins, failures and probes from
//!   threat-listed addresses and Tor exit nodes.
//!
//! They read PostgreSQL, MySQL and MariaDB events alike (see [`classify`]). Addresses on
//! a trusted list raise none of them. Every per-key map is an [`lru::Lru`] with a
//! hard bound, so hostile input (millions of addresses or user names) cannot grow
//! memory; each detector's doc comment states its bound.
//!
//! Findings aggregate as GuardDuty's do: one finding per key (instance and address,
//! or instance and user) grows `count` and `last_seen` while the activity goes on,
//! across windows and across quiet spells. Titles and descriptions are written in
//! `finish`, when the numbers are final.

mod lru;
mod reputation;
mod source;
mod source_text;
mod stuffing;
mod text;

#[cfg(test)]
mod testlog;
#[cfg(test)]
mod tests_i18n;
#[cfg(test)]
mod tests_reputation;
#[cfg(test)]
mod tests_source;
#[cfg(test)]
mod tests_stuffing;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use keibi_model::{Action, Engine, Event, Finding, SourceKind};

pub use reputation::ReputationDetector;
pub use source::SourceDetector;
pub use stuffing::StuffingDetector;

use lru::Lru;

/// What a login-related event means to these detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// The client failed to authenticate (wrong password, unknown user, no access
    /// rule, host blocked).
    Failed,
    /// The client proved it knows the password (a login, or a refusal that the server
    /// only makes after checking the password, such as MySQL's unknown database).
    Authenticated,
    /// A connection that never tried to authenticate.
    Probe,
    /// A connection opened; whether it will try to log in is not known yet.
    Connected,
}

/// The meaning of an event for the login detectors, or `None` when it has none.
///
/// Only failures that are about credentials count as failed logins. PostgreSQL checks
/// the database (`3D000`) and the CONNECT privilege (`42501`) after authenticating and
/// logs the login before them (with `log_connections`), so they are neither a failure
/// nor a second login. MySQL reports a wrong database (1044, 1049) or an expired
/// password (1820, 1862) only to a client that gave the right password: that is an
/// authentication. Refusals for capacity (1040, 1203, 1226, 1135) or client
/// capabilities (1251, 3159) are not guesses and count for nothing: a pool hitting
/// `max_connections` must not look like a brute force.
pub(crate) fn classify(ev: &Event) -> Option<Kind> {
    match ev.action {
        Action::LoginSuccess => Some(Kind::Authenticated),
        Action::Probe => Some(Kind::Probe),
        Action::ConnectionReceived => Some(Kind::Connected),
        Action::LoginFailure => {
            let code = ev.error_code.as_deref().unwrap_or("");
            match ev.source.engine() {
                Some(Engine::Postgres) if matches!(code, "3D000" | "42501") => None,
                Some(Engine::Mysql) if matches!(code, "1044" | "1049" | "1820" | "1862") => {
                    Some(Kind::Authenticated)
                }
                Some(Engine::Mysql)
                    if matches!(code, "1040" | "1203" | "1226" | "1135" | "1251" | "3159") =>
                {
                    None
                }
                _ => Some(Kind::Failed),
            }
        }
        _ => None,
    }
}

/// True when the server said the user name does not exist (PostgreSQL says so; MySQL
/// answers an unknown user exactly as a wrong password).
pub(crate) fn unknown_user(ev: &Event) -> bool {
    let said = |s: &Option<String>| {
        s.as_deref()
            .is_some_and(|m| m.contains("\" does not exist") && m.contains("ole \""))
    };
    said(&ev.message) || said(&ev.detail)
}

/// Longest user name kept in detector state: longer names (attacker-written) are cut,
/// so one record's size is bounded. PostgreSQL names stop at 63 bytes anyway.
pub(crate) const MAX_NAME: usize = 64;

/// The event's user name as kept in state (cut to [`MAX_NAME`] bytes).
pub(crate) fn user_of(ev: &Event) -> Option<Arc<str>> {
    let u = ev.user.as_deref()?;
    let mut end = u.len().min(MAX_NAME);
    while !u.is_char_boundary(end) {
        end -= 1;
    }
    Some(Arc::from(&u[..end]))
}

/// A stable 64-bit hash (same value every run) for keys that need not keep the text.
pub(crate) fn hash_of<T: Hash + ?Sized>(v: &T) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// The connection an event belongs to, as a number: its session id (MySQL
/// connection id, PostgreSQL `%c`) or server process id, with the client address.
pub(crate) fn conn_id(ev: &Event) -> Option<u64> {
    match (&ev.session_id, ev.pid) {
        (Some(s), _) => Some(hash_of(&(0u8, s.as_str(), ev.client_ip))),
        (None, Some(pid)) => Some(hash_of(&(1u8, pid, ev.client_ip))),
        (None, None) => None,
    }
}

/// Pushes onto a vector that never holds more than `cap` items, its capacity growing
/// from one and doubling up to `cap` (a `Vec` starts at four and overshoots): most keys
/// hold one or two items, and thousands of keys are kept.
pub(crate) fn push_small<T>(v: &mut Vec<T>, item: T, cap: usize) {
    if v.len() == v.capacity() {
        v.reserve_exact(v.len().clamp(1, cap.saturating_sub(v.len()).max(1)));
    }
    v.push(item);
}

/// Milliseconds since the epoch: window arithmetic on plain integers.
pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The network an address belongs to, for counting how spread out a set of addresses
/// is: a /24 for public IPv4 (one hosting customer or one office), a /16 for private,
/// shared and loopback IPv4 (one VPC is a /16 at most), and a /48 for IPv6 (one site).
pub(crate) fn network(ip: IpAddr) -> (IpAddr, u8) {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            let private = v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (o[0] == 100 && (o[1] & 0xc0) == 64);
            if private {
                (IpAddr::from([o[0], o[1], 0, 0]), 16)
            } else {
                (IpAddr::from([o[0], o[1], o[2], 0]), 24)
            }
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 80) - 1);
            (IpAddr::from(bits.to_be_bytes()), 48)
        }
    }
}

/// The source a login detector counts per: the address for IPv4, its /64 for IPv6
/// (an IPv6 client owns at least a /64 and may take any address in it, so a tool can
/// rotate through billions of addresses; counting per address would see each once).
/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) stay whole: they are IPv4 clients.
pub(crate) fn source_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            IpAddr::from((u128::from(v6) & !((1u128 << 64) - 1)).to_be_bytes())
        }
        _ => ip,
    }
}

/// A source ([`source_of`]) as it is written into finding keys and texts: an IPv4
/// address as itself (so IPv4 finding ids are what they always were), an IPv6 source
/// as its network, `2001:db8:1:2::/64`.
pub(crate) fn source_name(src: IpAddr) -> String {
    match src {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => format!("{src}/64"),
        _ => src.to_string(),
    }
}

/// What is kept of an event that happened before its finding existed: enough to add
/// it to the finding later (evidence, time, user) without keeping the whole event.
#[derive(Debug, Clone)]
pub(crate) struct Ref {
    pub time: DateTime<Utc>,
    pub source: SourceKind,
    pub action: Action,
    pub file: Arc<str>,
    pub line: u64,
    pub ip: Option<IpAddr>,
    pub user: Option<Arc<str>>,
}

impl Ref {
    /// Whether this is the reference of `ev` itself. By file, line, time and user:
    /// the events of one CloudWatch Logs subscription message share its file and
    /// line, so file and line alone took other users' first failures for the
    /// current event (a password spray then started at its fifth name).
    pub(crate) fn is_of(&self, ev: &keibi_model::Event) -> bool {
        self.line == ev.line
            && *self.file == *ev.file
            && self.time == ev.time
            && self.user.as_deref() == ev.user.as_deref()
    }
}

impl Ref {
    pub(crate) fn of(ev: &Event, user: Option<Arc<str>>) -> Ref {
        Ref {
            time: ev.time,
            source: ev.source,
            action: ev.action,
            file: ev.file.clone(),
            line: ev.line,
            ip: ev.client_ip,
            user,
        }
    }

    /// The event again, as far as a finding needs it.
    pub(crate) fn event(&self, instance: &str) -> Event {
        let mut e = Event::new(
            self.time,
            self.source,
            self.file.clone(),
            self.line,
            self.action,
        );
        e.instance = Some(instance.into());
        e.client_ip = self.ip;
        e.user = self.user.as_deref().map(Into::into);
        e
    }
}

/// Grows `f` by `total` events: `backlog` (kept references to the first of them, in
/// time order) and `ev` (the one being observed, if it is one of them) are added as
/// evidence, times and actors; the rest only count.
pub(crate) fn absorb_backlog(
    f: &mut Finding,
    instance: &str,
    backlog: &[Ref],
    ev: Option<&Event>,
    total: u64,
) {
    let before = f.count;
    for r in backlog {
        f.absorb(&r.event(instance));
    }
    if let Some(ev) = ev {
        f.absorb(ev);
    }
    f.count = before.saturating_add(total.max(f.count.saturating_sub(before)));
}

/// Instance names by a small id, and when each instance's logs end.
///
/// Bounded: instance names come from file paths and log groups, not from log
/// contents, but a cap ([`Instances::MAX`]) still holds; instances beyond it share one
/// id (their login state would merge, which only a pathological input can cause).
#[derive(Default)]
pub(crate) struct Instances {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    end: Vec<DateTime<Utc>>,
    last: Option<u32>,
}

impl Instances {
    const MAX: usize = 4096;

    /// The id of the event's instance (`unknown` without one, as findings name it),
    /// after noting the event's time as that instance's latest. `None` for events
    /// that are not about a database (CloudTrail).
    pub(crate) fn see(&mut self, ev: &Event) -> Option<u32> {
        ev.source.engine()?;
        let name = ev.instance.as_deref().unwrap_or("unknown");
        // Consecutive events are mostly from one instance: skip the hash lookup.
        let id = match self.last {
            Some(id) if self.names.get(id as usize).is_some_and(|n| &**n == name) => id,
            _ => self.intern(name),
        };
        self.last = Some(id);
        if let Some(end) = self.end.get_mut(id as usize) {
            *end = (*end).max(ev.time);
        }
        Some(id)
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        if self.names.len() >= Self::MAX {
            return (Self::MAX - 1) as u32;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.into(), id);
        self.names.push(name.into());
        self.end.push(DateTime::<Utc>::MIN_UTC);
        id
    }

    pub(crate) fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("unknown", |n| n)
    }

    /// When the named instance's logs end (its latest event).
    pub(crate) fn end(&self, name: &str) -> Option<DateTime<Utc>> {
        let id = *self.ids.get(name)?;
        self.end.get(id as usize).copied()
    }
}

/// Recognises the same login logged twice: MySQL writes a failed login to the audit
/// log (`FAILED_CONNECT`) and to the error log (`Access denied`), and PostgreSQL may
/// be read from stderr and csvlog at once. Two events are one when they have the same
/// instance, connection (session id or process id), client address and meaning, and
/// come from different files. Within one file nothing is a repeat: a MySQL connection
/// may fail `CHANGE_USER` many times, and each is a guess.
///
/// Two copies are one when their event times are within a minute (both copies of a
/// login are written within the same second). The minute is between the copies'
/// own times, not since the stream went past the first: with `keibi run`, a log
/// followed as a path of its own that stays quiet past the orderer's idle timeout
/// gives its copies late, after the other log's events of the following minutes, and
/// they are still recognised (before, the first copy was forgotten a minute of
/// stream time after it, and such a failure counted twice).
///
/// Bounded: [`Repeats::CAP`] connections (80 bytes each), the least recently seen
/// forgotten first; a copy that comes after more than that many other connections
/// were seen is counted again.
pub(crate) struct Repeats {
    /// By a hash of (instance, connection, kind): 8 bytes a key, as thousands are kept.
    seen: Lru<u64, Seen>,
}

struct Seen {
    first: i64,
    /// Events per file (by a hash of its name; 0 = free) for this connection, inline.
    files: [(u64, u32); Repeats::FILES],
}

impl Default for Repeats {
    fn default() -> Self {
        Repeats {
            seen: Lru::new(Self::CAP),
        }
    }
}

impl Repeats {
    const CAP: usize = 4096;
    const KEEP_MS: u64 = 60_000;
    const FILES: usize = 3;

    /// True when `ev` repeats an event already seen in another file.
    pub(crate) fn is_repeat(&mut self, instance: u32, ev: &Event, kind: Kind) -> bool {
        let Some(conn) = conn_id(ev) else {
            return false;
        };
        let now = ms(ev.time);
        let key = hash_of(&(instance, conn, kind));
        let file = hash_of(&*ev.file).max(1);
        self.seen.touch(&key, || Seen {
            first: now,
            files: Default::default(),
        });
        let Some(seen) = self.seen.get_mut(&key) else {
            return false;
        };
        // More than a minute apart, before or after: another login of a reused
        // connection id, counted afresh.
        if seen.first.abs_diff(now) > Self::KEEP_MS {
            *seen = Seen {
                first: now,
                files: Default::default(),
            };
        }
        let known = seen.files.iter().position(|&(f, _)| f == file);
        let mine = match known.or_else(|| seen.files.iter().position(|&(f, _)| f == 0)) {
            Some(i) => i,
            None => return false,
        };
        seen.files[mine].0 = file;
        seen.files[mine].1 += 1;
        let n = seen.files[mine].1;
        seen.files
            .iter()
            .enumerate()
            .any(|(i, (_, c))| i != mine && *c >= n)
    }
}

/// Extra facts kept per finding for its final text, by finding id. Bounded: once
/// [`Notes::CAP`] are kept, the notes of findings the store no longer holds (rolled
/// up to make room for more severe ones) are forgotten ([`Notes::prune`]); the store
/// holds fewer findings than the cap, so a new finding always gets its notes.
pub(crate) struct Notes<T> {
    map: HashMap<String, T>,
}

impl<T> Default for Notes<T> {
    fn default() -> Self {
        Notes {
            map: HashMap::new(),
        }
    }
}

impl<T: Default> Notes<T> {
    const CAP: usize = crate::findings::MAX_FINDINGS + crate::findings::MAX_ROLLUPS + Self::SLACK;
    /// Room left after a prune at worst: more than one event's new findings.
    const SLACK: usize = 1024;

    /// When full, forgets the notes of findings `store` no longer holds. Call before
    /// an event's notes are taken.
    pub(crate) fn prune(&mut self, store: &crate::findings::Findings) {
        if self.map.len() >= Self::CAP {
            self.map.retain(|id, _| store.holds(id));
        }
    }

    /// The notes of a finding, created empty when there is room.
    pub(crate) fn of(&mut self, id: &str) -> Option<&mut T> {
        if !self.map.contains_key(id) {
            if self.map.len() >= Self::CAP {
                return None;
            }
            self.map.insert(id.to_string(), T::default());
        }
        self.map.get_mut(id)
    }

    pub(crate) fn get(&self, id: &str) -> Option<&T> {
        self.map.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::events;

    #[test]
    fn networks_group_a_vpc_and_split_the_internet() {
        let n = |s: &str| network(s.parse().unwrap());
        assert_eq!(n("10.0.1.5"), n("10.0.3.200"), "one VPC is one network");
        assert_ne!(n("10.0.1.5"), n("10.1.1.5"));
        assert_eq!(n("203.0.113.7"), n("203.0.113.250"));
        assert_ne!(n("203.0.113.7"), n("203.0.114.7"));
        assert_eq!(n("100.64.3.4").1, 16, "carrier-grade NAT is private");
        assert_eq!(n("2001:db8:1:2::1"), n("2001:db8:1:ffff::9"));
        assert_ne!(n("2001:db8:1::1"), n("2001:db8:2::1"));
        assert_eq!(n("2001:db8:1::1").0.to_string(), "2001:db8:1::");
    }

    #[test]
    fn ipv6_sources_are_their_64_and_ipv4_stays_whole() {
        let src = |s: &str| source_of(s.parse().unwrap());
        assert_eq!(src("2001:db8:1:2::1"), src("2001:db8:1:2:ffff:ee:dd:cc"));
        assert_ne!(src("2001:db8:1:2::1"), src("2001:db8:1:3::1"));
        assert_eq!(
            source_name(src("2001:db8:1:2:a:b:c:d")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(source_name(src("203.0.113.9")), "203.0.113.9");
        assert_eq!(source_name(src("::ffff:203.0.113.9")), "::ffff:203.0.113.9");
        assert_ne!(src("::ffff:203.0.113.9"), src("::ffff:203.0.113.10"));
    }

    #[test]
    fn only_credential_failures_are_failures() {
        let pg = events(
            "pg.log",
            "db",
            "\
2026-11-28 15:41:22 UTC:10.0.0.5(34304):app@shop:[5926]:FATAL:  password authentication failed for user \"app\"
2026-11-28 15:41:22 UTC:10.0.0.5(34316):ghost@shop:[5928]:FATAL:  password authentication failed for user \"ghost\"
2026-11-28 15:41:22 UTC:10.0.0.5(34316):ghost@shop:[5928]:DETAIL:  Role \"ghost\" does not exist.
2026-11-28 15:41:23 UTC:10.0.0.5(34336):app@nosuchdb:[5934]:LOG:  connection authorized: user=app database=nosuchdb
2026-11-28 15:41:23 UTC:10.0.0.5(34336):app@nosuchdb:[5934]:FATAL:  database \"nosuchdb\" does not exist
2026-11-28 15:41:24 UTC:10.0.0.5(34338):[unknown]@[unknown]:[5936]:LOG:  incomplete startup packet
",
        );
        let kinds: Vec<_> = pg.iter().map(classify).collect();
        assert_eq!(
            kinds,
            vec![
                Some(Kind::Failed),
                Some(Kind::Failed),
                Some(Kind::Authenticated),
                None,
                Some(Kind::Probe)
            ]
        );
        assert!(!unknown_user(&pg[0]));
        assert!(unknown_user(&pg[1]));

        let my = events(
            "audit.log",
            "db",
            "\
20261128 15:42:10,vm,app,10.0.0.5,6,0,FAILED_CONNECT,,,1045
20261128 15:42:10,vm,app,10.0.0.5,9,0,FAILED_CONNECT,,,1044
20261128 15:42:10,vm,app,10.0.0.5,10,0,FAILED_CONNECT,,,1040
20261128 15:42:10,vm,,10.0.0.5,11,0,FAILED_CONNECT,,,1156
20261128 15:42:11,vm,app,10.0.0.5,12,0,CONNECT,shop,,0
",
        );
        let kinds: Vec<_> = my.iter().map(classify).collect();
        assert_eq!(
            kinds,
            vec![
                Some(Kind::Failed),
                Some(Kind::Authenticated),
                None,
                Some(Kind::Probe),
                Some(Kind::Authenticated)
            ]
        );
    }

    #[test]
    fn the_same_failure_in_audit_and_error_log_counts_once() {
        let audit = events(
            "server_audit.log",
            "db",
            "20261128 15:42:14,vm,app,127.0.0.1,12,0,FAILED_CONNECT,,,1045\n",
        );
        let error = events(
            "error.log",
            "db",
            "2026-11-28 15:42:14 12 [Warning] Access denied for user 'app'@'127.0.0.1' (using password: YES)\n",
        );
        let mut r = Repeats::default();
        assert!(!r.is_repeat(0, &audit[0], Kind::Failed));
        assert!(r.is_repeat(0, &error[0], Kind::Failed));
        // Another instance, or the same connection failing again in one file, is new.
        assert!(!r.is_repeat(1, &error[0], Kind::Failed));
        assert!(!r.is_repeat(0, &audit[0], Kind::Failed));
        // ... and its copy in the other file is again a repeat.
        assert!(r.is_repeat(0, &error[0], Kind::Failed));
    }

    #[test]
    fn a_copy_that_comes_late_after_later_events_is_still_a_repeat() {
        // `keibi run A/ B/` with B quiet past the idle timeout: the audit log's events
        // of the next minutes are seen before the error log's copy of a failure.
        let audit = events(
            "server_audit.log",
            "db",
            "20261128 15:42:14,vm,app,127.0.0.1,12,0,FAILED_CONNECT,,,1045\n\
             20261128 15:50:00,vm,app,127.0.0.1,13,0,FAILED_CONNECT,,,1045\n",
        );
        let error = events(
            "error.log",
            "db",
            "2026-11-28 15:42:14 12 [Warning] Access denied for user 'app'@'127.0.0.1' (using password: YES)\n\
             2026-11-28 15:50:00 13 [Warning] Access denied for user 'app'@'127.0.0.1' (using password: YES)\n",
        );
        let mut r = Repeats::default();
        assert!(!r.is_repeat(0, &audit[0], Kind::Failed));
        assert!(!r.is_repeat(0, &audit[1], Kind::Failed));
        assert!(
            r.is_repeat(0, &error[0], Kind::Failed),
            "eight minutes late"
        );
        assert!(r.is_repeat(0, &error[1], Kind::Failed));
        // The same connection id more than a minute from its first copy is another
        // login (a reused process id): counted afresh.
        let later = events(
            "error.log",
            "db",
            "2026-11-28 15:44:00 12 [Warning] Access denied for user 'app'@'127.0.0.1' (using password: YES)\n",
        );
        assert!(!r.is_repeat(0, &later[0], Kind::Failed));
    }

    #[test]
    fn full_notes_forget_findings_the_store_no_longer_holds() {
        use crate::findings::{Findings, Raise};
        let mut store = Findings::default();
        let held = store
            .raise(Raise {
                detector: "d",
                finding_type: "T",
                key: &["k"],
                severity: keibi_model::Severity::new(5.0),
                resource: Default::default(),
                time: DateTime::<Utc>::UNIX_EPOCH,
            })
            .id
            .clone();
        let mut notes: Notes<u32> = Notes::default();
        *notes.of(&held).unwrap() = 7;
        for i in 1..Notes::<u32>::CAP {
            notes.of(&format!("gone{i}")).unwrap();
        }
        assert!(notes.of("one more").is_none(), "full");
        notes.prune(&store);
        assert_eq!(notes.map.len(), 1);
        assert_eq!(notes.get(&held), Some(&7));
        assert!(notes.of("one more").is_some());
    }

    #[test]
    fn long_user_names_are_cut_on_a_character_boundary() {
        let mut e = events(
            "a.log",
            "db",
            "20261128 15:42:14,vm,app,127.0.0.1,12,0,FAILED_CONNECT,,,1045\n",
        )
        .remove(0);
        e.user = Some("é".repeat(100).into());
        let u = user_of(&e).unwrap();
        assert!(u.len() <= MAX_NAME && u.chars().all(|c| c == 'é'));
    }
}
