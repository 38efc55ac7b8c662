//! The `notify` section of `keibi.yaml`: channels, routes, quiet hours, repeats and
//! the daily summary, as plain data (serde, `deny_unknown_fields`, defaults), and
//! [`NotifySettings::problems`], every mistake serde cannot see (a route naming a
//! channel that does not exist, a pattern that is not a glob, an unknown zone),
//! each with the path of keys to it so the settings reader places it on its line.
//!
//! `docs/notifications.md` (`## Routing`, `## Quiet hours`, `## No floods`) shows
//! the YAML and its defaults.

use std::fmt;
use std::str::FromStr;

use keibi_model::{Engine, Severity};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::channels::ChannelSpec;

/// The `notify` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// The dashboard's base URL: messages link to `{dashboard_url}/findings/{id}`.
    pub dashboard_url: Option<String>,
    /// The language of messages (`en`, `ja`) for channels that do not set their own;
    /// unset: the settings' `display.lang`, else English.
    pub lang: Option<String>,
    /// The IANA time zone of times in messages, and of quiet hours and the daily
    /// summary when they do not name their own (`Asia/Tokyo`); unset: UTC.
    pub timezone: Option<String>,
    /// Where messages go; routes name them.
    pub channels: Vec<ChannelSpec>,
    /// Which findings go to which channels, in order: the first route that matches
    /// wins unless it says `continue: true`. None: every channel hears of High and
    /// Critical findings ([`Router`](crate::route::Router)).
    pub routes: Vec<Route>,
    /// When Low and Medium notices wait (High and Critical always go at once).
    pub quiet_hours: Option<QuietHours>,
    /// At most one "still going" notice per finding this often while it is open and
    /// unacknowledged and its count grows.
    pub repeat_interval: Interval,
    /// A summary of open findings once a day, at a set local time.
    pub daily_summary: Option<DailySummary>,
}

/// The default `repeat_interval`: four hours, as Alertmanager's.
pub const DEFAULT_REPEAT: Interval = Interval::from_secs(4 * 3600);

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            dashboard_url: None,
            lang: None,
            timezone: None,
            channels: Vec::new(),
            routes: Vec::new(),
            quiet_hours: None,
            repeat_interval: DEFAULT_REPEAT,
            daily_summary: None,
        }
    }
}

/// One route: a filter (every condition given must hold; none given matches every
/// finding) and where a match goes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Route {
    /// A name for `keibi notify routes` and the store (unset: `route N`, 1-based).
    pub name: Option<String>,
    /// The finding's severity is at least this: a label (`high`: 7.0) or a number.
    pub severity_at_least: Option<Severity>,
    /// Glob patterns on the finding type (`CredentialAccess:*`, `*/BruteForce*`):
    /// one must match. `*` matches any text, `/` included.
    pub types: Vec<String>,
    /// Glob patterns on the resource id (`prod-*`): one must match.
    pub resources: Vec<String>,
    /// Glob patterns on the resource's AWS account id: one must match (a finding
    /// without an account matches none).
    pub accounts: Vec<String>,
    /// `postgres`, `mysql`: the resource's engine is one of them (a finding without
    /// an engine, an AWS one, matches none).
    pub engines: Vec<Engine>,
    /// Reserved for finding tags: findings carry none yet, so a route that names
    /// tags is a settings problem rather than a route that never matches.
    pub tags: Vec<String>,
    /// The channels a match goes to (names from `channels`).
    pub channels: Vec<String>,
    /// Hold the first notice this long so the ones that follow on this route go out
    /// with it (Alertmanager's `group_wait`); 0: at once.
    pub group_wait: Interval,
    /// At most one notice per finding this often on this route; a rise to High or
    /// Critical and a resolution always go. 0: no throttle.
    pub throttle: Interval,
    /// Look at the routes after this one too when it matched.
    #[serde(rename = "continue")]
    pub continue_: bool,
}

/// `quiet_hours`: from `from` to `to` local time (across midnight when `to` is
/// earlier; a whole day when they are equal), on `days` (the day a quiet period
/// starts; every day when empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub from: ClockTime,
    pub to: ClockTime,
    /// IANA zone; unset: `notify.timezone`, else UTC.
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub days: Vec<Day>,
}

/// `daily_summary`: a summary of open findings each day at `at` local time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailySummary {
    pub at: ClockTime,
    /// IANA zone; unset: `notify.timezone`, else UTC.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The channels it goes to; empty: every channel.
    #[serde(default)]
    pub channels: Vec<String>,
}

/// A day of the week: `mon` ... `sun` (or the full English name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    #[serde(alias = "monday")]
    Mon,
    #[serde(alias = "tuesday")]
    Tue,
    #[serde(alias = "wednesday")]
    Wed,
    #[serde(alias = "thursday")]
    Thu,
    #[serde(alias = "friday")]
    Fri,
    #[serde(alias = "saturday")]
    Sat,
    #[serde(alias = "sunday")]
    Sun,
}

impl Day {
    pub(crate) fn of(w: jiff::civil::Weekday) -> Day {
        use jiff::civil::Weekday as W;
        match w {
            W::Monday => Day::Mon,
            W::Tuesday => Day::Tue,
            W::Wednesday => Day::Wed,
            W::Thursday => Day::Thu,
            W::Friday => Day::Fri,
            W::Saturday => Day::Sat,
            W::Sunday => Day::Sun,
        }
    }
}

/// A local time of day, `HH:MM` (00:00 to 23:59).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime {
    pub hour: u8,
    pub minute: u8,
}

impl ClockTime {
    pub const fn new(hour: u8, minute: u8) -> ClockTime {
        ClockTime { hour, minute }
    }

    pub(crate) fn civil(self) -> jiff::civil::Time {
        jiff::civil::Time::constant(self.hour as i8, self.minute as i8, 0, 0)
    }
}

impl FromStr for ClockTime {
    type Err = String;
    fn from_str(s: &str) -> Result<ClockTime, String> {
        let bad = || format!("{s:?} is not a time of day: write HH:MM, as 22:00 or 07:30");
        let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
        let digits =
            |t: &str| !t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(h) || m.len() != 2 || !digits(m) {
            return Err(bad());
        }
        let (hour, minute): (u8, u8) =
            (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if hour > 23 || minute > 59 {
            return Err(bad());
        }
        Ok(ClockTime { hour, minute })
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A length of time written with a unit, as the other sections write durations:
/// `0s`, `30s`, `5m`, `4h`, `1d`. (The same syntax as keibi-engine's `Duration`,
/// which this crate cannot use: keibi-engine depends on it.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Interval(pub std::time::Duration);

/// The longest interval a setting may ask for: 30 days.
const MAX_INTERVAL_SECS: u64 = 30 * 86_400;

impl Interval {
    pub const ZERO: Interval = Interval(std::time::Duration::ZERO);

    pub const fn from_secs(s: u64) -> Interval {
        Interval(std::time::Duration::from_secs(s))
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// As a chrono duration (intervals are at most 30 days: always fits).
    pub fn chrono(self) -> chrono::Duration {
        chrono::Duration::from_std(self.0).unwrap_or(chrono::Duration::MAX)
    }
}

impl FromStr for Interval {
    type Err = String;
    fn from_str(s: &str) -> Result<Interval, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let bad =
            || format!("{s:?} is not a duration: write a number and a unit, as 30s, 5m, 4h or 1d");
        let n: u64 = num.parse().map_err(|_| bad())?;
        let per: u64 = match unit.trim() {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(bad()),
        };
        let secs = n
            .checked_mul(per)
            .filter(|s| *s <= MAX_INTERVAL_SECS)
            .ok_or_else(|| format!("{s:?} is longer than 30 days"))?;
        Ok(Interval::from_secs(secs))
    }
}

impl fmt::Display for Interval {
    /// The largest unit that writes it exactly: `90s`, `5m`, `4h`, `1d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        for (unit, per) in [("d", 86_400u64), ("h", 3600), ("m", 60)] {
            if s >= per && s.is_multiple_of(per) {
                return write!(f, "{}{unit}", s / per);
            }
        }
        write!(f, "{s}s")
    }
}

impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One step of the path to a value in the `notify` section (after `notify:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    Key(&'static str),
    Item(usize),
}

/// A mistake in the section: where (the path of keys under `notify`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsProblem {
    pub at: Vec<At>,
    pub reason: String,
}

/// The shortest `repeat_interval` allowed.
pub const MIN_REPEAT_SECS: u64 = 60;

impl NotifySettings {
    /// Makes the channels' relative file paths (secrets read from a file, an email
    /// relay's CA file) relative to `base`, the settings file's directory, as every
    /// other path of a settings file is. A channel kind that gains a path field
    /// adds it here.
    pub fn resolve_paths(&mut self, base: &std::path::Path) {
        use crate::channels::ChannelKind as K;
        use crate::secret::Secret;
        if base.as_os_str().is_empty() {
            return;
        }
        let fix = |p: &mut std::path::PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        let secret = |s: &mut Secret| {
            if let Secret::File(p) = s {
                fix(p);
            }
        };
        for c in &mut self.channels {
            match &mut c.kind {
                K::Slack(s) => secret(&mut s.webhook_url),
                K::Teams(s) => secret(&mut s.webhook_url),
                K::Chatwork(s) => secret(&mut s.api_token),
                K::Webhook(s) => {
                    s.secret.as_mut().map(secret);
                    s.headers.iter_mut().for_each(|h| secret(&mut h.value));
                }
                K::Email(s) => {
                    s.password.as_mut().map(secret);
                    s.ca_file.as_mut().map(fix);
                }
                K::Pagerduty(s) => secret(&mut s.routing_key),
                K::Sns(_) | K::Securityhub(_) => {}
                K::OcsfFile(s) => fix(&mut s.path),
            }
        }
    }

    /// The words' settings for one channel: its language is the channel's `lang`,
    /// else `notify.lang`, else `display_lang` (the settings' `display.lang`), else
    /// English; times in `notify.timezone`, else UTC; links to `dashboard_url`.
    /// Values that do not parse fall back the same way (`keibi config check`
    /// reports them).
    pub fn style_for(&self, ch: &ChannelSpec, display_lang: Option<&str>) -> crate::text::Style {
        use keibi_i18n::{DisplayZone, Lang, Locale};
        let lang = [ch.lang.as_deref(), self.lang.as_deref(), display_lang]
            .into_iter()
            .flatten()
            .find_map(|l| l.parse::<Lang>().ok())
            .unwrap_or(Lang::En);
        let zone = self
            .timezone
            .as_deref()
            .and_then(|z| DisplayZone::named(z).ok())
            .unwrap_or_else(DisplayZone::utc);
        crate::text::Style {
            locale: Locale::new(lang, zone),
            dashboard_url: self.dashboard_url.clone(),
        }
    }

    /// The channels the daily summary goes to: those it names, else every channel.
    pub fn summary_channels(&self) -> Vec<String> {
        match &self.daily_summary {
            None => Vec::new(),
            Some(d) if d.channels.is_empty() => self
                .channels
                .iter()
                .filter(|c| !c.kind.is_export())
                .map(|c| c.name.clone())
                .collect(),
            Some(d) => d.channels.clone(),
        }
    }

    /// Every mistake serde could not see, in the order of the section: channel names
    /// unique and not empty; each route's channels exist, its patterns are globs, it
    /// names no tags; quiet hours and the summary have known zones and channels; the
    /// zone and language are known; `dashboard_url` is http(s); `repeat_interval`
    /// at least a minute.
    /// The channel named `name`.
    pub fn channel(&self, name: &str) -> Option<&ChannelSpec> {
        self.channels.iter().find(|c| c.name == name)
    }

    pub fn problems(&self) -> Vec<SettingsProblem> {
        use At::{Item, Key};
        let mut out = Vec::new();
        let mut p = |at: Vec<At>, reason: String| out.push(SettingsProblem { at, reason });
        if let Some(u) = &self.dashboard_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                p(
                    vec![Key("dashboard_url")],
                    format!("{u:?} is not an http:// or https:// URL"),
                );
            }
        }
        if let Some(l) = &self.lang {
            if let Err(e) = l.parse::<keibi_i18n::Lang>() {
                p(vec![Key("lang")], e.to_string());
            }
        }
        if let Some(z) = &self.timezone {
            if let Err(e) = zone(z) {
                p(vec![Key("timezone")], e);
            }
        }
        let mut names: Vec<&str> = Vec::new();
        for (i, c) in self.channels.iter().enumerate() {
            let name = c.name.trim();
            if name.is_empty() {
                p(
                    vec![Key("channels"), Item(i), Key("name")],
                    "a channel needs a name".into(),
                );
            } else if names.contains(&name) {
                p(
                    vec![Key("channels"), Item(i), Key("name")],
                    format!("two channels are named {name:?}: routes name channels, so names are unique"),
                );
            }
            names.push(name);
            if let Some(l) = &c.lang {
                if let Err(e) = l.parse::<keibi_i18n::Lang>() {
                    p(vec![Key("channels"), Item(i), Key("lang")], e.to_string());
                }
            }
            match &c.kind {
                crate::channels::ChannelKind::OcsfFile(o) => {
                    if let Some(reason) = o.problem() {
                        p(vec![Key("channels"), Item(i)], reason);
                    }
                }
                crate::channels::ChannelKind::Securityhub(h) => {
                    for (reason, key) in h.problems() {
                        p(vec![Key("channels"), Item(i), Key(key)], reason);
                    }
                }
                _ => {}
            }
        }
        let known = |n: &str| names.contains(&n.trim());
        let listed = || {
            if names.is_empty() {
                "no channels are defined".to_string()
            } else {
                format!("the channels are {}", names.join(", "))
            }
        };
        for (i, r) in self.routes.iter().enumerate() {
            let at = |k: &'static str| vec![Key("routes"), Item(i), Key(k)];
            if r.channels.is_empty() {
                p(
                    vec![Key("routes"), Item(i)],
                    "a route names the channels it goes to (channels: [...])".into(),
                );
            }
            for (j, c) in r.channels.iter().enumerate() {
                if !known(c) {
                    let mut a = at("channels");
                    a.push(Item(j));
                    p(a, format!("no channel is named {c:?} ({})", listed()));
                }
            }
            for (key, pats) in [
                ("types", &r.types),
                ("resources", &r.resources),
                ("accounts", &r.accounts),
            ] {
                for (j, pat) in pats.iter().enumerate() {
                    if let Err(e) = crate::route::glob(pat) {
                        let mut a = at(key);
                        a.push(Item(j));
                        p(a, e);
                    }
                }
            }
            if !r.tags.is_empty() {
                p(
                    at("tags"),
                    "findings carry no tags yet: a route cannot filter on them (remove `tags`)"
                        .into(),
                );
            }
        }
        if let Some(q) = &self.quiet_hours {
            if let Some(z) = &q.timezone {
                if let Err(e) = zone(z) {
                    p(vec![Key("quiet_hours"), Key("timezone")], e);
                }
            }
        }
        if self.repeat_interval.0.as_secs() < MIN_REPEAT_SECS {
            p(
                vec![Key("repeat_interval")],
                "repeat_interval: 1m or longer".into(),
            );
        }
        if let Some(d) = &self.daily_summary {
            if let Some(z) = &d.timezone {
                if let Err(e) = zone(z) {
                    p(vec![Key("daily_summary"), Key("timezone")], e);
                }
            }
            for (j, c) in d.channels.iter().enumerate() {
                if !known(c) {
                    p(
                        vec![Key("daily_summary"), Key("channels"), Item(j)],
                        format!("no channel is named {c:?} ({})", listed()),
                    );
                } else if self.channel(c.trim()).is_some_and(|ch| ch.kind.is_export()) {
                    p(
                        vec![Key("daily_summary"), Key("channels"), Item(j)],
                        format!(
                            "{c:?} is an export ({}): the daily summary is for people",
                            self.channel(c.trim()).map_or("", |ch| ch.kind.as_str())
                        ),
                    );
                }
            }
        }
        out
    }
}

/// An IANA zone by name (`UTC` and `Etc/UTC` without a database), from the system's
/// tz database or the copy compiled into jiff.
pub(crate) fn zone(name: &str) -> Result<jiff::tz::TimeZone, String> {
    let n = name.trim();
    if n.eq_ignore_ascii_case("utc") || n == "Etc/UTC" {
        return Ok(jiff::tz::TimeZone::UTC);
    }
    jiff::tz::TimeZone::get(n).map_err(|e| {
        format!("unknown time zone {name:?} (an IANA name such as Asia/Tokyo or UTC): {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crate has no YAML parser: its tests read JSON, the same serde shape
    /// (keibi-engine's tests read the YAML).
    fn read(json: &str) -> NotifySettings {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn defaults_and_values_read() {
        let s = read("{}");
        assert_eq!(s.repeat_interval, Interval::from_secs(4 * 3600));
        assert!(s.routes.is_empty() && s.quiet_hours.is_none());
        let s = read(
            r#"{"routes": [{"severity_at_least": "high", "types": ["CredentialAccess:*"],
                 "channels": ["a"], "group_wait": "30s", "throttle": "1h", "continue": true,
                 "engines": ["postgres"]}],
               "quiet_hours": {"from": "22:00", "to": "08:00", "timezone": "Asia/Tokyo", "days": ["mon", "saturday"]},
               "repeat_interval": "2h", "daily_summary": {"at": "09:00"}}"#,
        );
        let r = &s.routes[0];
        assert_eq!(r.severity_at_least, Some(Severity::new(7.0)));
        assert_eq!(r.group_wait, Interval::from_secs(30));
        assert_eq!(r.throttle, Interval::from_secs(3600));
        assert!(r.continue_);
        assert_eq!(r.engines, vec![Engine::Postgres]);
        let q = s.quiet_hours.clone().unwrap();
        assert_eq!(
            (q.from, q.to),
            (ClockTime::new(22, 0), ClockTime::new(8, 0))
        );
        assert_eq!(q.days, vec![Day::Mon, Day::Sat]);
        assert_eq!(s.daily_summary.as_ref().unwrap().at, ClockTime::new(9, 0));
        assert!(s.summary_channels().is_empty(), "no channels");
        let s = read(
            r#"{"channels": [{"name": "a", "type": "webhook", "url": "http://x"},
                             {"name": "b", "type": "webhook", "url": "http://y"}],
                "daily_summary": {"at": "09:00"}}"#,
        );
        assert_eq!(s.summary_channels(), ["a", "b"]);
        let mut s = s;
        s.daily_summary.as_mut().unwrap().channels = vec!["b".into()];
        assert_eq!(s.summary_channels(), ["b"]);
        s.daily_summary = None;
        assert!(s.summary_channels().is_empty());
    }

    #[test]
    fn bad_values_are_refused_when_read() {
        for bad in [
            r#"{"repeat_interval": "4 hours"}"#,
            r#"{"repeat_interval": "31d"}"#,
            r#"{"quiet_hours": {"from": "24:00", "to": "08:00"}}"#,
            r#"{"quiet_hours": {"from": "7", "to": "08:00"}}"#,
            r#"{"quiet_hours": {"from": "07:5", "to": "08:00"}}"#,
            r#"{"quiet_hours": {"from": "22:00", "to": "08:00", "days": ["someday"]}}"#,
            r#"{"routes": [{"chanels": ["a"]}]}"#,
            r#"{"routes": [{"engines": ["oracle"]}]}"#,
            r#"{"channels": [{"name": "a", "type": "webhook", "url": "http://x", "urll": "y"}]}"#,
            r#"{"channels": [{"name": "a", "type": "fax", "number": "1"}]}"#,
        ] {
            assert!(
                serde_json::from_str::<NotifySettings>(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_channel_reads_with_its_kind() {
        let s = read(
            r#"{"channels": [{"name": "a", "type": "webhook", "url": "http://x", "rate_limit": 5, "lang": "ja"}]}"#,
        );
        assert_eq!(s.channels[0].rate_limit, 5);
        assert_eq!(s.channels[0].kind.as_str(), "webhook");
    }

    #[test]
    fn a_channels_words_follow_its_lang_then_notify_then_display() {
        use keibi_i18n::Lang;
        let s = read(
            r#"{"timezone": "Asia/Tokyo", "dashboard_url": "https://k.example",
                "channels": [{"name": "a", "type": "webhook", "url": "http://x", "lang": "en"},
                             {"name": "b", "type": "webhook", "url": "http://y"}]}"#,
        );
        let a = s.style_for(&s.channels[0], Some("ja"));
        assert_eq!(a.locale.lang, Lang::En);
        assert_eq!(a.locale.zone.name(), "Asia/Tokyo");
        assert_eq!(a.dashboard_url.as_deref(), Some("https://k.example"));
        assert_eq!(
            s.style_for(&s.channels[1], Some("ja")).locale.lang,
            Lang::Ja
        );
        assert_eq!(s.style_for(&s.channels[1], None).locale.lang, Lang::En);
        let mut s2 = s.clone();
        s2.lang = Some("ja".into());
        s2.timezone = None;
        let b = s2.style_for(&s2.channels[1], Some("en"));
        assert_eq!(b.locale.lang, Lang::Ja);
        assert!(b.locale.zone.is_utc());
    }

    #[test]
    fn relative_secret_files_are_taken_from_the_settings_directory() {
        use crate::channels::ChannelKind as K;
        use crate::secret::Secret;
        let mut s = read(
            r#"{"channels": [
                {"name": "a", "type": "slack", "webhook_url": {"file": "secrets/slack"}},
                {"name": "b", "type": "webhook", "url": "http://x", "secret": {"file": "/run/k"},
                 "headers": [{"name": "Authorization", "value": {"file": "auth"}}]},
                {"name": "c", "type": "email", "host": "h", "from": "f@x", "to": ["t@x"],
                 "password": {"env": "P"}, "ca_file": "ca.pem"}]}"#,
        );
        s.resolve_paths(std::path::Path::new("/etc/keibi"));
        let K::Slack(a) = &s.channels[0].kind else {
            panic!()
        };
        assert_eq!(
            a.webhook_url,
            Secret::File("/etc/keibi/secrets/slack".into())
        );
        let K::Webhook(b) = &s.channels[1].kind else {
            panic!()
        };
        assert_eq!(
            b.secret,
            Some(Secret::File("/run/k".into())),
            "absolute stays"
        );
        assert_eq!(b.headers[0].value, Secret::File("/etc/keibi/auth".into()));
        let K::Email(c) = &s.channels[2].kind else {
            panic!()
        };
        assert_eq!(c.password, Some(Secret::Env("P".into())));
        assert_eq!(
            c.ca_file.as_deref(),
            Some(std::path::Path::new("/etc/keibi/ca.pem"))
        );
    }

    #[test]
    fn intervals_write_back_as_read() {
        for s in ["0s", "90s", "5m", "4h", "1d"] {
            assert_eq!(s.parse::<Interval>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn problems_name_their_place() {
        let s = read(
            r#"{"dashboard_url": "keibi.example", "timezone": "Mars/Olympus",
                "channels": [
                  {"name": "ops", "type": "webhook", "url": "http://x"},
                  {"name": "ops", "type": "webhook", "url": "http://y"}],
                "routes": [
                  {"channels": ["ops", "pager"], "types": ["Cred[ential"], "tags": ["prod"]},
                  {}],
                "quiet_hours": {"from": "22:00", "to": "08:00", "timezone": "Nowhere/Land"},
                "repeat_interval": "30s",
                "daily_summary": {"at": "09:00", "channels": ["mail"]}}"#,
        );
        let got: Vec<(Vec<At>, String)> =
            s.problems().into_iter().map(|p| (p.at, p.reason)).collect();
        use At::{Item, Key};
        let at: Vec<&Vec<At>> = got.iter().map(|(a, _)| a).collect();
        assert_eq!(
            at,
            vec![
                &vec![Key("dashboard_url")],
                &vec![Key("timezone")],
                &vec![Key("channels"), Item(1), Key("name")],
                &vec![Key("routes"), Item(0), Key("channels"), Item(1)],
                &vec![Key("routes"), Item(0), Key("types"), Item(0)],
                &vec![Key("routes"), Item(0), Key("tags")],
                &vec![Key("routes"), Item(1)],
                &vec![Key("quiet_hours"), Key("timezone")],
                &vec![Key("repeat_interval")],
                &vec![Key("daily_summary"), Key("channels"), Item(0)],
            ]
        );
        assert!(
            got[3].1.contains("\"pager\"") && got[3].1.contains("ops"),
            "{}",
            got[3].1
        );
        assert!(read("{}").problems().is_empty());
    }

    #[test]
    fn channels_read_from_yaml_shapes() {
        let s: NotifySettings = serde_json::from_value(serde_json::json!({
            "channels": [
                {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:1/x",
                 "secret": {"env": "KEIBI_HOOK_SECRET"}},
                {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:1/y"},
            ]
        }))
        .unwrap();
        assert_eq!(s.channels.len(), 2);
        assert!(!s.problems().is_empty(), "a repeated name is a problem");
        assert!(s.channel("hook").is_some());
        // A misspelt key, of the channel or of its kind, is refused.
        for bad in [
            serde_json::json!({"name": "h", "type": "webhook", "url": "http://x/", "secrt": {"env": "S"}}),
            serde_json::json!({"nme": "h", "type": "webhook", "url": "http://x/"}),
            serde_json::json!({"name": "h", "type": "webhok", "url": "http://x/"}),
        ] {
            let r =
                serde_json::from_value::<NotifySettings>(serde_json::json!({"channels": [bad]}));
            assert!(r.is_err(), "{r:?}");
        }
    }

    #[test]
    fn export_channels_read_and_their_mistakes_are_named() {
        let s = read(
            r#"{"channels": [
                  {"name": "siem", "type": "ocsf_file", "path": "ocsf/f.jsonl"},
                  {"name": "hub", "type": "securityhub", "region": "ap-northeast-1",
                   "role_arn": "arn:aws:iam::123456789012:role/keibi", "external_id": "x"}]}"#,
        );
        assert!(s.problems().is_empty(), "{:?}", s.problems());
        let crate::channels::ChannelKind::OcsfFile(o) = &s.channels[0].kind else {
            panic!()
        };
        assert_eq!((o.max_bytes, o.keep), (100 << 20, 5));
        let mut r = s.clone();
        r.resolve_paths(std::path::Path::new("/etc/keibi"));
        let crate::channels::ChannelKind::OcsfFile(o) = &r.channels[0].kind else {
            panic!()
        };
        assert_eq!(o.path, std::path::Path::new("/etc/keibi/ocsf/f.jsonl"));
        let bad = read(
            r#"{"channels": [
                  {"name": "siem", "type": "ocsf_file", "path": "f", "max_bytes": 10},
                  {"name": "hub", "type": "securityhub", "region": "tokyo",
                   "role_arn": "arn:aws:iam::123456789012:user/alice",
                   "endpoint_url": "ftp://x"},
                  {"name": "hub2", "type": "securityhub", "external_id": "x"}],
                "daily_summary": {"at": "09:00", "channels": ["siem"]}}"#,
        );
        let got: Vec<String> = bad
            .problems()
            .into_iter()
            .map(|p| format!("{:?}: {}", p.at.last().unwrap(), p.reason))
            .collect();
        assert_eq!(got.len(), 6, "{got:#?}");
        for want in [
            "max_bytes",
            "region",
            "role_arn",
            "endpoint_url",
            "external_id",
            "export",
        ] {
            assert!(got.iter().any(|g| g.contains(want)), "{want}: {got:#?}");
        }
        assert!(serde_json::from_str::<NotifySettings>(
            r#"{"channels": [{"name": "s", "type": "ocsf_file", "path": "f", "rotate": 1}]}"#
        )
        .is_err());
    }
}
