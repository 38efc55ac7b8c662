//! What a profile remembers: bounded sets of the values a user or principal was seen
//! with (networks, ASNs, countries, client applications ...), each value with when it
//! was first and last seen and how often, plus how much history the profile has.
//!
//! Everything here is plain data with serde, so the binary can persist profiles
//! (`--state`) and a later run, or a daemon, continues where a scan stopped. Sizes are
//! bounded per profile (every set has a cap and evicts its least recently seen value)
//! and in the number of profiles ([`super::store::Profiles`] evicts the least recently
//! active ones): attackers choose user names, addresses and user agents.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch (event time, never the clock).
pub type Secs = i64;

/// One day in seconds.
pub const DAY: Secs = 86_400;

/// A value of one factor and its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seen<T> {
    pub v: T,
    /// First and last time this value was seen.
    pub first: Secs,
    pub last: Secs,
    /// How many events had it (saturating).
    pub n: u32,
}

/// What a profile says about one value of a factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usual {
    /// Seen during training, or long enough ago that it is part of the routine.
    Yes,
    /// Never seen, or first seen so recently (after the profile matured, within the
    /// settle time) that it is not routine yet: it still counts as new, so repeats of
    /// an anomaly aggregate into the same finding instead of becoming normal at once.
    New,
    /// The factor has had more distinct values than the set keeps: this user roams
    /// (dynamic addresses, many application servers) and novelty means nothing.
    Diverse,
}

/// A bounded set of values with their history. When full, a new value evicts the
/// least recently seen one and the set is marked [`Usual::Diverse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de>"))]
pub struct SeenSet<T> {
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    items: Vec<Seen<T>>,
    /// More distinct values arrived than the cap.
    #[serde(default, skip_serializing_if = "is_false")]
    overflow: bool,
}

impl<T> Default for SeenSet<T> {
    fn default() -> Self {
        SeenSet {
            items: Vec::new(),
            overflow: false,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// When values count as routine: first seen before the profile matured, or at least
/// `settle` seconds before `now`.
#[derive(Debug, Clone, Copy)]
pub struct Judge {
    pub now: Secs,
    pub matured_at: Secs,
    pub settle: Secs,
}

impl Judge {
    pub fn settled(&self, first: Secs) -> bool {
        first <= self.matured_at || self.now.saturating_sub(first) >= self.settle
    }
}

impl<T> SeenSet<T> {
    /// Records one event with a value: `is` finds it, `make` builds it when new.
    pub fn observe(
        &mut self,
        is: impl Fn(&T) -> bool,
        make: impl FnOnce() -> T,
        t: Secs,
        cap: usize,
    ) {
        if let Some(e) = self.items.iter_mut().find(|e| is(&e.v)) {
            e.n = e.n.saturating_add(1);
            e.last = e.last.max(t);
            return;
        }
        if cap == 0 {
            return;
        }
        if self.items.len() >= cap {
            self.overflow = true;
            if let Some(at) = self
                .items
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| (e.last, e.n))
                .map(|(at, _)| at)
            {
                self.items.swap_remove(at);
            }
        }
        // Most sets hold one or two values: grow one at a time (a rare event) rather
        // than by doubling, which would reserve four entries for one.
        self.items.reserve_exact(1);
        self.items.push(Seen {
            v: make(),
            first: t,
            last: t,
            n: 1,
        });
    }

    /// Whether a value is routine for this profile.
    pub fn judge(&self, is: impl Fn(&T) -> bool, j: &Judge) -> Usual {
        if self.overflow {
            return Usual::Diverse;
        }
        match self.items.iter().find(|e| is(&e.v)) {
            Some(e) if j.settled(e.first) => Usual::Yes,
            _ => Usual::New,
        }
    }

    /// True when a settled value satisfies `is`.
    pub fn any_usual(&self, is: impl Fn(&T) -> bool, j: &Judge) -> bool {
        self.items.iter().any(|e| j.settled(e.first) && is(&e.v))
    }

    /// Routine values, most used first (for explanations).
    pub fn usual(&self, j: &Judge) -> Vec<&T> {
        let mut v: Vec<&Seen<T>> = self.items.iter().filter(|e| j.settled(e.first)).collect();
        v.sort_by(|a, b| b.n.cmp(&a.n).then(b.last.cmp(&a.last)));
        v.into_iter().map(|e| &e.v).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Heap bytes held (the entries; values' own heap is added by the caller).
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<Seen<T>>()
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|e| &e.v)
    }
}

/// Where a client connected from, at the granularity profiles compare: the IPv4 /24
/// or IPv6 /48 (a new server in the same subnet is not news), or the local socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Net {
    /// Unix socket or `localhost`: the database host itself.
    Local,
    V4([u8; 3]),
    V6([u16; 3]),
}

impl Net {
    pub fn of_ip(ip: IpAddr) -> Net {
        match ip {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                Net::V4([o[0], o[1], o[2]])
            }
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Net::of_ip(IpAddr::V4(v4)),
                None => {
                    let s = v6.segments();
                    Net::V6([s[0], s[1], s[2]])
                }
            },
        }
    }

    /// The source of an event: its address, or the local socket for `[local]` and
    /// `localhost`. `None` for a host name (no address to compare).
    pub fn of_event(ip: Option<IpAddr>, host: Option<&str>) -> Option<Net> {
        match (ip, host) {
            (Some(ip), _) if ip.is_loopback() => Some(Net::Local),
            (Some(ip), _) => Some(Net::of_ip(ip)),
            (None, Some(h)) if h == "[local]" || h.eq_ignore_ascii_case("localhost") => {
                Some(Net::Local)
            }
            (None, Some(h)) if h.trim().is_empty() => Some(Net::Local),
            _ => None,
        }
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Net::Local => f.write_str("the local socket"),
            Net::V4([a, b, c]) => write!(f, "{a}.{b}.{c}.0/24"),
            Net::V6([a, b, c]) => {
                write!(
                    f,
                    "{}/48",
                    std::net::Ipv6Addr::new(*a, *b, *c, 0, 0, 0, 0, 0)
                )
            }
        }
    }
}

/// An autonomous system: number and organisation (for people to read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asn {
    pub n: u32,
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub org: Box<str>,
}

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.org.is_empty() {
            write!(f, "AS{}", self.n)
        } else {
            write!(f, "AS{} {}", self.n, self.org)
        }
    }
}

/// How much history a profile has, and when it became mature enough to judge.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub first: Secs,
    pub last: Secs,
    /// Events learned from.
    pub n: u64,
    /// Distinct UTC days with events.
    pub days: u32,
    /// When the profile matured; it raises nothing before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matured_at: Option<Secs>,
}

/// When a profile is mature: enough events over enough days.
#[derive(Debug, Clone, Copy)]
pub struct Maturity {
    pub min_events: u64,
    pub min_days: u32,
    pub min_active_days: u32,
}

impl Activity {
    pub fn observe(&mut self, t: Secs, m: &Maturity) {
        if self.n == 0 {
            self.first = t;
            self.last = t;
            self.days = 1;
        } else {
            if t.div_euclid(DAY) > self.last.div_euclid(DAY) {
                self.days = self.days.saturating_add(1);
            }
            self.first = self.first.min(t);
            self.last = self.last.max(t);
        }
        self.n = self.n.saturating_add(1);
        if self.matured_at.is_none()
            && self.n >= m.min_events
            && self.last.saturating_sub(self.first) >= Secs::from(m.min_days) * DAY
            && self.days >= m.min_active_days
        {
            self.matured_at = Some(t);
        }
    }

    /// The judge for an event at `now`, when mature.
    pub fn judge(&self, now: Secs, settle: Secs) -> Option<Judge> {
        self.matured_at.map(|matured_at| Judge {
            now,
            matured_at,
            settle,
        })
    }

    /// Whole days of history.
    pub fn span_days(&self) -> i64 {
        // Saturating: times loaded from a state file may be anything.
        self.last.saturating_sub(self.first) / DAY
    }
}

/// Hours of the day (UTC) a user logs in at, and the days of the week.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hours {
    /// Logins per hour of the day (saturating).
    pub n: [u16; 24],
    /// Day (since the epoch) each hour was first seen, to settle like values do.
    pub first_day: [u32; 24],
    /// Days of the week seen (bit 0 Monday).
    pub weekdays: u8,
}

impl Hours {
    pub fn observe(&mut self, t: Secs) {
        let h = hour_of(t);
        if self.n[h] == 0 {
            self.first_day[h] = u32::try_from(t.div_euclid(DAY)).unwrap_or(u32::MAX);
        }
        self.n[h] = self.n[h].saturating_add(1);
        self.weekdays |= 1 << weekday_of(t);
    }

    /// Routine hours: seen before maturity or on an earlier day than `j.now`.
    pub fn usual_mask(&self, j: &Judge) -> u32 {
        let today = j.now.div_euclid(DAY);
        let matured_day = j.matured_at.div_euclid(DAY);
        (0..24)
            .filter(|&h| {
                let d = i64::from(self.first_day[h]);
                self.n[h] > 0 && (d <= matured_day || d < today)
            })
            .fold(0u32, |m, h| m | 1 << h)
    }

    /// True when `t` falls in the user's quiet hours: the longest run of hours with
    /// no routine login, when that run is a real night (at least [`MIN_QUIET_HOURS`]),
    /// less its first and last hour (a login just before the usual start is not news).
    /// A user active all day (an application pool) has no quiet hours.
    pub fn unusual(&self, t: Secs, j: &Judge) -> bool {
        let Some((start, len)) = largest_gap(self.usual_mask(j)) else {
            return false;
        };
        let offset = (hour_of(t) + 24 - start) % 24;
        len >= MIN_QUIET_HOURS && offset >= 1 && offset + 2 <= len
    }
}

/// The shortest run of quiet hours that counts as a night.
pub const MIN_QUIET_HOURS: usize = 6;

/// The longest circular run of hours absent from `mask`: (first hour, length). `None`
/// when the mask is empty or full.
pub fn largest_gap(mask: u32) -> Option<(usize, usize)> {
    let on = |h: usize| mask & (1 << (h % 24)) != 0;
    if mask & 0xff_ffff == 0 {
        return None;
    }
    let mut best: Option<(usize, usize)> = None;
    for start in (0..24).filter(|&h| !on(h) && on(h + 23)) {
        let len = (0..24).take_while(|&k| !on(start + k)).count();
        if best.is_none_or(|(_, l)| len > l) {
            best = Some((start, len));
        }
    }
    best
}

/// Hour of the day, UTC.
pub fn hour_of(t: Secs) -> usize {
    usize::try_from(t.rem_euclid(DAY) / 3600).unwrap_or(0)
}

/// Day of the week, 0 Monday (1970-01-01 was a Thursday).
pub fn weekday_of(t: Secs) -> u8 {
    u8::try_from((t.div_euclid(DAY) + 3).rem_euclid(7)).unwrap_or(0)
}

/// Caps on what one profile keeps per factor.
pub mod caps {
    pub const NETS: usize = 16;
    pub const ASNS: usize = 8;
    pub const COUNTRIES: usize = 8;
    pub const APPS: usize = 8;
    pub const AUTH: usize = 4;
    pub const REGIONS: usize = 8;
    pub const CALLS: usize = 32;
    /// Failing source networks an instance profile keeps.
    pub const FAIL_NETS: usize = 64;
    /// Bytes kept of any string value (application, user agent family, org name).
    pub const TEXT: usize = 64;
}

/// A string bounded to [`caps::TEXT`] bytes (on a character boundary).
pub fn bounded(s: &str) -> Box<str> {
    let mut end = s.len().min(caps::TEXT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].into()
}

/// What one database user on one instance usually does when logging in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoginProfile {
    pub act: Activity,
    #[serde(default)]
    pub nets: SeenSet<Net>,
    #[serde(default)]
    pub asns: SeenSet<Asn>,
    #[serde(default)]
    pub countries: SeenSet<Box<str>>,
    /// Client application families (`psql`, `DBeaver`; versions stripped).
    #[serde(default)]
    pub apps: SeenSet<Box<str>>,
    #[serde(default)]
    pub auth: SeenSet<Box<str>>,
    /// Logins known to use TLS, and known not to.
    #[serde(default)]
    pub tls: u32,
    #[serde(default)]
    pub plain: u32,
    #[serde(default)]
    pub hours: Hours,
    /// Finding-worthy statements this user makes as a routine ([`super::habits`]);
    /// absent from profiles stored before habits were learned.
    #[serde(default, skip_serializing_if = "super::habits::Habits::is_empty")]
    pub habits: super::habits::Habits,
    /// Changed since it was last saved (not persisted).
    #[serde(skip)]
    pub dirty: bool,
}

/// What an IAM principal usually does in CloudTrail.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrincipalProfile {
    pub act: Activity,
    #[serde(default)]
    pub nets: SeenSet<Net>,
    #[serde(default)]
    pub asns: SeenSet<Asn>,
    #[serde(default)]
    pub countries: SeenSet<Box<str>>,
    /// User agent families (`aws-cli`, `Terraform`, `console`).
    #[serde(default)]
    pub agents: SeenSet<Box<str>>,
    #[serde(default)]
    pub regions: SeenSet<Box<str>>,
    /// Sensitive calls it made (`ModifyDBInstance` ...).
    #[serde(default)]
    pub calls: SeenSet<Box<str>>,
    #[serde(skip)]
    pub dirty: bool,
}

/// Failed logins at one instance: the usual hourly volume and the sources that
/// usually fail (a misconfigured job, a developer's typos).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FailProfile {
    /// Login events (successes and failures) seen at the instance: how long it has
    /// been watched.
    pub act: Activity,
    /// The most failures seen in one clock hour, settled.
    pub max_hour: u32,
    /// A higher hourly volume seen recently, adopted as usual once it settles.
    #[serde(default)]
    pub pending_max: u32,
    #[serde(default)]
    pub pending_since: Secs,
    /// Source networks that failed here.
    #[serde(default)]
    pub sources: SeenSet<Net>,
    /// The clock hour being counted, and its failures so far.
    #[serde(default)]
    pub hour: Secs,
    #[serde(default)]
    pub hour_count: u32,
    /// The first failure of the hour being counted.
    #[serde(default)]
    pub hour_first: Secs,
    /// Failures this hour from networks never seen failing here.
    #[serde(default)]
    pub hour_new: u32,
    /// Distinct addresses and users of this hour's failures (bounded), so a finding
    /// raised when the hour crosses the threshold names those before it too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hour_ips: Vec<IpAddr>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hour_users: Vec<Box<str>>,
    /// The first and the latest hour of the current run of anomalous hours: one
    /// finding grows while consecutive hours stay anomalous.
    #[serde(default)]
    pub episode: Secs,
    #[serde(default)]
    pub episode_hour: Secs,
    #[serde(skip)]
    pub dirty: bool,
}

impl FailProfile {
    /// Moves to the hour of `t`, folding the finished hour into the usual volume.
    /// Returns whether a new hour started.
    pub fn roll(&mut self, t: Secs, settle: Secs) -> bool {
        let h = t - t.rem_euclid(3600);
        if self.pending_max > self.max_hour && t.saturating_sub(self.pending_since) >= settle {
            self.max_hour = self.pending_max;
            self.pending_max = 0;
        }
        if h <= self.hour {
            return false;
        }
        let done = self.hour_count;
        if done > self.max_hour {
            if self.act.matured_at.is_some_and(|m| m <= self.hour) {
                // A new high after maturity becomes usual only once it settles, so
                // an attack's volume does not hide the next hour of the same attack.
                if done > self.pending_max {
                    self.pending_max = done;
                    self.pending_since = self.hour;
                }
            } else {
                self.max_hour = done;
            }
        }
        self.hour = h;
        self.hour_count = 0;
        self.hour_new = 0;
        self.hour_ips.clear();
        self.hour_users.clear();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(now: Secs) -> Judge {
        Judge {
            now,
            matured_at: 100 * DAY,
            settle: DAY,
        }
    }

    #[test]
    fn values_settle_after_a_day_or_when_trained() {
        let mut s: SeenSet<Box<str>> = SeenSet::default();
        s.observe(|v| &**v == "psql", || "psql".into(), 50 * DAY, 8);
        s.observe(|v| &**v == "evil", || "evil".into(), 101 * DAY, 8);
        let j = judge(101 * DAY + 60);
        assert_eq!(s.judge(|v| &**v == "psql", &j), Usual::Yes);
        assert_eq!(s.judge(|v| &**v == "evil", &j), Usual::New);
        assert_eq!(s.judge(|v| &**v == "none", &j), Usual::New);
        assert_eq!(s.judge(|v| &**v == "evil", &judge(102 * DAY)), Usual::Yes);
        assert_eq!(s.usual(&j), vec![&Box::<str>::from("psql")]);
    }

    #[test]
    fn a_full_set_evicts_the_stalest_and_turns_diverse() {
        let mut s: SeenSet<u32> = SeenSet::default();
        for i in 0..3u32 {
            s.observe(|v| *v == i, || i, Secs::from(i), 3);
        }
        s.observe(|v| *v == 0, || 0, 10, 3);
        assert_eq!(s.judge(|v| *v == 1, &judge(200 * DAY)), Usual::Yes);
        s.observe(|v| *v == 9, || 9, 11, 3);
        assert_eq!(s.len(), 3);
        assert!(
            !s.values().any(|v| *v == 1),
            "1 was the least recently seen"
        );
        assert_eq!(s.judge(|v| *v == 42, &judge(200 * DAY)), Usual::Diverse);
    }

    #[test]
    fn nets_are_slash_24_and_slash_48() {
        let n = Net::of_ip("198.51.100.7".parse().unwrap());
        assert_eq!(n.to_string(), "198.51.100.0/24");
        assert_eq!(n, Net::of_ip("198.51.100.200".parse().unwrap()));
        assert_eq!(
            Net::of_ip("2001:db8:1:2::7".parse().unwrap()).to_string(),
            "2001:db8:1::/48"
        );
        assert_eq!(Net::of_event(None, Some("[local]")), Some(Net::Local));
        assert_eq!(
            Net::of_event(Some("127.0.0.1".parse().unwrap()), None),
            Some(Net::Local)
        );
        assert_eq!(Net::of_event(None, Some("app.example.com")), None);
    }

    #[test]
    fn maturity_needs_events_span_and_active_days() {
        let m = Maturity {
            min_events: 5,
            min_days: 7,
            min_active_days: 3,
        };
        let mut a = Activity::default();
        for i in 0..10 {
            a.observe(i * 60, &m);
        }
        a.observe(8 * DAY, &m);
        assert_eq!(a.matured_at, None, "two active days only");
        a.observe(9 * DAY, &m);
        assert_eq!(a.matured_at, Some(9 * DAY));
    }

    #[test]
    fn hours_allow_the_neighbouring_hour() {
        let mut h = Hours::default();
        for d in 0..10 {
            h.observe(d * DAY + 9 * 3600);
            h.observe(d * DAY + 18 * 3600);
        }
        let j = judge(200 * DAY);
        assert_eq!(largest_gap(h.usual_mask(&j)), Some((19, 14)));
        assert!(!h.unusual(200 * DAY + 10 * 3600, &j));
        assert!(
            !h.unusual(200 * DAY + 8 * 3600, &j),
            "just before the usual start"
        );
        assert!(!h.unusual(200 * DAY + 19 * 3600 + 59 * 60, &j));
        assert!(h.unusual(200 * DAY + 3 * 3600, &j));
        assert_eq!(weekday_of(0), 3, "1970-01-01 was a Thursday");
        // A pool connecting every six hours has no night.
        let mut pool = Hours::default();
        for d in 0..10 {
            for hour in [1, 7, 13, 19] {
                pool.observe(d * DAY + hour * 3600);
            }
        }
        assert!(!pool.unusual(200 * DAY + 10 * 3600, &j));
        assert!(!pool.unusual(200 * DAY + 4 * 3600, &j));
    }

    #[test]
    fn bounded_text_cuts_on_a_char_boundary() {
        let s = "é".repeat(40);
        let b = bounded(&s);
        assert!(b.len() <= caps::TEXT && s.starts_with(&*b));
    }

    #[test]
    fn failure_volume_settles_before_it_is_usual() {
        let mut p = FailProfile::default();
        p.act.matured_at = Some(0);
        p.roll(3600, DAY);
        p.hour_count = 50;
        p.roll(7200, DAY);
        assert_eq!(p.max_hour, 0, "not yet usual");
        assert_eq!(p.pending_max, 50);
        p.roll(3600 + DAY, DAY);
        assert_eq!(p.max_hour, 50);
    }
}
