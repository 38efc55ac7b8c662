//! Database logins against their profiles: `AnomalousBehavior.SuccessfulLogin` for a
//! login unusual for the user, `AnomalousBehavior.FailedLogin` for an hour of failed
//! logins unusual for the instance.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use keibi_model::finding::MAX_DISTINCT;
use keibi_model::{Arg, Event, Finding, FindingText, Msg, Severity};

use super::explain::{self, list, Factor};
use super::profile::{bounded, caps, weekday_of, Asn, Judge, LoginProfile, Net, Secs, Usual};
use super::{is_public, BaselineDetector, Lookup, FAILED_TYPE, ID, MAX_EPISODES, SUCCESS_TYPE};
use crate::detector::{db_resource, Context};
use crate::findings::Raise;

/// User names kept in a profile key (longer ones are cut: attackers choose them).
const MAX_USER: usize = 256;

/// What the final description of a FailedLogin finding needs.
#[derive(Debug, Clone)]
pub(super) struct Episode {
    instance: String,
    usual_max: u32,
    usual_sources: explain::Usual,
    new_sources: u32,
}

/// What one login says, in the profile's terms.
struct Obs {
    t: Secs,
    ip: Option<IpAddr>,
    net: Option<Net>,
    look: Lookup,
    app: Option<Box<str>>,
    auth: Option<Box<str>>,
    tls: Option<bool>,
}

fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A new source network (with its ASN), judged against the usual networks and ASNs.
/// `None` when the source is usual, or when the factor cannot tell (the profile roams).
pub(super) fn source_factor(
    nets: &super::profile::SeenSet<Net>,
    asns: &super::profile::SeenSet<Asn>,
    ip: Option<IpAddr>,
    net: Net,
    asn: Option<&Asn>,
    j: &Judge,
) -> Option<Factor> {
    let net_usual = nets.judge(|n| *n == net, j);
    let asn_usual = asn.map(|a| asns.judge(|x| x.n == a.n, j));
    let new = match (net_usual, asn_usual) {
        (Usual::Yes, _) | (_, Some(Usual::Yes)) => false,
        (Usual::Diverse, Some(Usual::New)) => true,
        (Usual::Diverse, _) => false,
        (Usual::New, Some(Usual::Diverse)) => false,
        (Usual::New, _) => true,
    };
    if !new {
        return None;
    }
    let usual = list(
        asns.usual(j)
            .into_iter()
            .take(2)
            .map(|a| format!("AS{}", a.n))
            .chain(nets.usual(j).into_iter().map(|n| n.to_string())),
    );
    Some(Factor::Source {
        ip,
        net,
        asn: asn.map(|a| (a.clone(), asn_usual == Some(Usual::New))),
        usual,
    })
}

/// A new country, when the profile has usual countries to compare with.
pub(super) fn country_factor(
    countries: &super::profile::SeenSet<Box<str>>,
    c: Option<&str>,
    j: &Judge,
) -> Option<Factor> {
    let c = c?;
    let usual = countries.usual(j);
    (!usual.is_empty() && countries.judge(|x| &**x == c, j) == Usual::New).then(|| {
        Factor::Country {
            now: c.to_string(),
            usual: list(usual),
        }
    })
}

/// A new value of a text factor (application, auth method, user agent, region),
/// when the profile has usual values to compare with.
pub(super) fn text_new(
    set: &super::profile::SeenSet<Box<str>>,
    v: Option<&str>,
    j: &Judge,
) -> Option<(String, explain::Usual)> {
    let v = v?;
    let usual = set.usual(j);
    (!usual.is_empty() && set.judge(|x| &**x == v, j) == Usual::New)
        .then(|| (v.to_string(), list(usual)))
}

/// Every way a login differs from a mature profile.
fn factors(p: &LoginProfile, o: &Obs, j: &Judge) -> Vec<Factor> {
    let mut f = Vec::new();
    if let Some(net) = o.net {
        f.extend(source_factor(
            &p.nets,
            &p.asns,
            o.ip,
            net,
            o.look.asn.as_ref(),
            j,
        ));
        f.extend(country_factor(&p.countries, o.look.country.as_deref(), j));
    }
    if let Some((now, usual)) = text_new(&p.apps, o.app.as_deref(), j) {
        f.push(Factor::App { now, usual });
    }
    if let Some((now, usual)) = text_new(&p.auth, o.auth.as_deref(), j) {
        f.push(Factor::Auth { now, usual });
    }
    if o.tls == Some(false) && p.tls > 0 && p.plain == 0 {
        f.push(Factor::Plaintext);
    }
    if p.hours.unusual(o.t, j) {
        f.push(Factor::Hour {
            t: o.t,
            mask: p.hours.usual_mask(j),
        });
    }
    let day = weekday_of(o.t);
    if p.hours.weekdays != 0 && p.hours.weekdays & (1 << day) == 0 {
        f.push(Factor::Weekday {
            day,
            mask: p.hours.weekdays,
        });
    }
    f
}

fn learn(p: &mut LoginProfile, o: &Obs, s: &super::Settings) {
    p.dirty = true;
    p.act.observe(o.t, &s.logins);
    if let Some(net) = o.net {
        p.nets.observe(|n| *n == net, || net, o.t, caps::NETS);
    }
    if let Some(a) = &o.look.asn {
        p.asns
            .observe(|x| x.n == a.n, || a.clone(), o.t, caps::ASNS);
    }
    for (set, v, cap) in [
        (&mut p.countries, &o.look.country, caps::COUNTRIES),
        (&mut p.apps, &o.app, caps::APPS),
        (&mut p.auth, &o.auth, caps::AUTH),
    ] {
        if let Some(v) = v {
            set.observe(|x| x == v, || v.clone(), o.t, cap);
        }
    }
    match o.tls {
        Some(true) => p.tls = p.tls.saturating_add(1),
        Some(false) => p.plain = p.plain.saturating_add(1),
        None => {}
    }
    p.hours.observe(o.t);
}

/// Severity and the sentence that says why, as GuardDuty grades it: Low from a known
/// network or a private address, Medium from a public one, High when failures from
/// the same address came first or several factors are new at once.
fn grade(factors: &[Factor], public: bool, failed_first: u32, s: &super::Settings) -> (f64, Msg) {
    let located = factors.iter().any(Factor::is_location);
    let n = factors.len();
    if !located {
        let v = if n >= 2 { 3.5 } else { 2.0 };
        return (v, Msg::new("baseline-why-usual-network"));
    }
    if !public {
        let v = if n >= 3 { 4.5 } else { 3.0 };
        return (v, Msg::new("baseline-why-private"));
    }
    if failed_first >= s.failures_before {
        return (
            8.0,
            Msg::new("baseline-why-failed-first").arg("failed", failed_first.to_string()),
        );
    }
    if n >= 3 {
        return (7.5, Msg::new("baseline-why-several"));
    }
    (5.5, Msg::new("baseline-why-public"))
}

impl BaselineDetector {
    fn observation(&mut self, ev: &Event) -> Obs {
        Obs {
            t: ev.time.timestamp(),
            ip: ev.client_ip,
            net: Net::of_event(ev.client_ip, ev.client_host.as_deref()),
            look: self.lookup(ev.client_ip.filter(|ip| is_public(*ip))),
            app: ev.application.as_deref().and_then(explain::app_family),
            auth: ev.auth_method.as_deref().map(bounded),
            tls: ev.tls,
        }
    }

    pub(super) fn login_success(&mut self, ev: &Event, cx: &mut Context<'_>) {
        let Some(user) = ev.user.as_deref().filter(|u| !u.is_empty()) else {
            return;
        };
        let user = cut(user, MAX_USER);
        let instance = ev.instance.as_deref().unwrap_or("unknown");
        let o = self.observation(ev);
        let failed_first = o.ip.map_or(0, |ip| self.failures_before(ip, o.t));
        let s = self.s;
        let store = self.store.clone();
        let mut profiles = store.lock();
        let fp = profiles.failures(instance);
        fp.act.observe(o.t, &s.logins);
        fp.dirty = true;
        let p = profiles.login(instance, user, o.t);
        let judged = p
            .act
            .judge(o.t, s.settle)
            .filter(|_| !self.learn_only)
            .map(|j| (factors(p, &o, &j), j));
        if let Some((f, _)) = judged.as_ref().filter(|(f, _)| !f.is_empty()) {
            let public = o.ip.is_some_and(is_public);
            let (sev, why) = grade(f, public, failed_first, &s);
            let first = f
                .iter()
                .any(|x| !matches!(x, Factor::Hour { .. } | Factor::Weekday { .. }));
            let what = Msg::new(if first {
                "baseline-first-login"
            } else {
                "baseline-login"
            })
            .arg("user", user)
            .arg("factors", Arg::Join(f.iter().map(Factor::msg).collect()));
            let history = Msg::new("baseline-history")
                .arg("user", user)
                .arg("instance", instance)
                .arg("logins", p.act.n.to_string())
                .arg("days", p.act.span_days().to_string());
            let primary = primary_key(f);
            raise_success(cx, ev, instance, user, &primary, sev, what, history, why);
        }
        learn(p, &o, &s);
    }

    /// Learns a successful login without judging it (a trusted address's).
    pub(super) fn learn_login(&mut self, ev: &Event) {
        let Some(user) = ev.user.as_deref().filter(|u| !u.is_empty()) else {
            return;
        };
        let user = cut(user, MAX_USER);
        let instance = ev.instance.as_deref().unwrap_or("unknown");
        let o = self.observation(ev);
        let s = self.s;
        let store = self.store.clone();
        let mut profiles = store.lock();
        let fp = profiles.failures(instance);
        fp.act.observe(o.t, &s.logins);
        fp.dirty = true;
        learn(profiles.login(instance, user, o.t), &o, &s);
    }

    pub(super) fn login_failure(&mut self, ev: &Event, cx: &mut Context<'_>) {
        let t = ev.time.timestamp();
        if let Some(ip) = ev.client_ip {
            self.note_failure(ip, t);
        }
        let instance = ev.instance.as_deref().unwrap_or("unknown");
        let net = Net::of_event(ev.client_ip, ev.client_host.as_deref());
        let s = self.s;
        let store = self.store.clone();
        let mut profiles = store.lock();
        let p = profiles.failures(instance);
        p.dirty = true;
        p.roll(t, s.settle);
        if p.hour_count == 0 {
            p.hour_first = t;
        }
        p.hour_count = p.hour_count.saturating_add(1);
        let judge = p.act.judge(t, s.settle).filter(|_| !self.learn_only);
        p.act.observe(t, &s.logins);
        let src_new = match (net, &judge) {
            (Some(n), Some(j)) => p.sources.judge(|x| *x == n, j) == Usual::New,
            _ => false,
        };
        if let Some(n) = net {
            p.sources.observe(|x| *x == n, || n, t, caps::FAIL_NETS);
        }
        p.hour_new += u32::from(src_new);
        if let Some(ip) = ev.client_ip {
            if p.hour_ips.len() < MAX_DISTINCT && !p.hour_ips.contains(&ip) {
                p.hour_ips.push(ip);
            }
        }
        if let Some(u) = ev.user.as_deref() {
            if p.hour_users.len() < MAX_DISTINCT && !p.hour_users.iter().any(|x| &**x == u) {
                p.hour_users.push(bounded(u));
            }
        }
        let Some(j) = judge else { return };
        let threshold = s
            .failed_min
            .max(p.max_hour.saturating_mul(s.failed_factor).saturating_add(1));
        if p.hour_count < threshold {
            return;
        }
        if p.episode_hour + 3600 < p.hour || p.episode == 0 {
            p.episode = p.hour;
        }
        p.episode_hour = p.hour;
        let start = p.episode;
        let before = p.hour_count - 1;
        let hour_first = p.hour_first;
        let usual_max = p.max_hour;
        let usual_sources = list(p.sources.usual(&j));
        let hour_new = p.hour_new;
        let (ips, users) = (p.hour_ips.clone(), p.hour_users.clone());
        drop(profiles);
        let start_text = time_text(start);
        let f = cx.findings.raise(Raise {
            detector: ID,
            finding_type: FAILED_TYPE,
            key: &[instance, &start_text],
            severity: Severity::new(5.0),
            resource: db_resource(ev),
            time: ev.time,
        });
        let created = f.count == 0;
        if created && before > 0 {
            // The failures of this hour before the threshold belong to it too.
            f.count = u64::from(before);
            if let Some(first) = DateTime::<Utc>::from_timestamp(hour_first, 0) {
                f.first_seen = first;
                f.last_seen = first;
            }
            fill_actor(f, ips, users);
        }
        f.absorb(ev);
        if self.episodes.len() < MAX_EPISODES || self.episodes.contains_key(&f.id) {
            let e = self.episodes.entry(f.id.clone()).or_insert(Episode {
                instance: instance.to_string(),
                usual_max,
                usual_sources,
                new_sources: 0,
            });
            e.new_sources += if created {
                hour_new
            } else {
                u32::from(src_new)
            };
        }
        write_failed(f, self.episodes.get(&f.id));
    }

    pub(super) fn render_failed(&mut self, cx: &mut Context<'_>) {
        for f in cx.findings.to_render(ID) {
            if f.finding_type == FAILED_TYPE {
                write_failed(f, self.episodes.get(&f.id));
            }
        }
    }
}

/// Names the addresses and users of the failures before the threshold in a new
/// finding (sorted and bounded as [`Finding::absorb`] keeps them).
fn fill_actor(f: &mut Finding, mut ips: Vec<IpAddr>, users: Vec<Box<str>>) {
    ips.sort();
    ips.truncate(MAX_DISTINCT);
    let mut users: Vec<String> = users.into_iter().map(String::from).collect();
    users.sort();
    users.truncate(MAX_DISTINCT);
    f.actor.ip = None;
    f.actor.user = None;
    f.actor.ips = ips;
    f.actor.users = users;
}

fn time_text(t: Secs) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// The finding key after instance and user: the new network when there is one, else
/// the new application, else the time.
fn primary_key(f: &[Factor]) -> String {
    for x in f {
        match x {
            Factor::Source { net, asn, .. } => {
                return match asn {
                    Some((a, true)) => format!("asn:{}", a.n),
                    _ => format!("net:{net}"),
                }
            }
            Factor::Country { now, .. } => return format!("country:{now}"),
            _ => {}
        }
    }
    for x in f {
        match x {
            Factor::App { now, .. } => return format!("app:{now}"),
            Factor::Auth { now, .. } => return format!("auth:{now}"),
            Factor::Plaintext => return "plaintext".into(),
            _ => {}
        }
    }
    if f.iter().any(|x| matches!(x, Factor::Hour { .. })) {
        "hour".into()
    } else {
        "weekday".into()
    }
}

#[allow(clippy::too_many_arguments)]
fn raise_success(
    cx: &mut Context<'_>,
    ev: &Event,
    instance: &str,
    user: &str,
    primary: &str,
    sev: f64,
    what: Msg,
    history: Msg,
    why: Msg,
) {
    let severity = Severity::new(sev);
    let f = cx.findings.raise(Raise {
        detector: ID,
        finding_type: SUCCESS_TYPE,
        key: &[instance, user, primary],
        severity,
        resource: db_resource(ev),
        time: ev.time,
    });
    if f.count == 0 || severity > f.severity {
        f.severity = severity;
        let sentence = Msg::new("baseline-sentence").arg("text", what.clone());
        crate::text::set(
            f,
            FindingText {
                title: Some(what),
                description: vec![sentence, history, why],
                remediation: vec![Msg::new("baseline-ask").arg("user", user)],
            },
        );
        f.mitre = vec!["T1078".into()];
    }
    f.absorb(ev);
}

fn write_failed(f: &mut Finding, e: Option<&Episode>) {
    let n_ips = if f.actor.ips.is_empty() {
        usize::from(f.actor.ip.is_some())
    } else {
        f.actor.ips.len()
    };
    let n_users = if f.actor.users.is_empty() {
        usize::from(f.actor.user.is_some())
    } else {
        f.actor.users.len()
    };
    let instance = e.map_or(f.resource.id.as_str(), |e| e.instance.as_str());
    let usual: Msg = match e {
        Some(e) => Msg::new("failed-volume-usual")
            .arg("max", e.usual_max.to_string())
            .arg("sources", e.usual_sources.msg())
            .arg(
                "new",
                if e.new_sources > 0 {
                    Msg::new("failed-volume-new").arg("n", u64::from(e.new_sources))
                } else {
                    Msg::new("nothing")
                },
            ),
        None => Msg::new("nothing"),
    };
    let description = Msg::new("failed-volume")
        .arg("count", f.count)
        .arg("instance", instance)
        .arg("first", Arg::Minute { at: f.first_seen })
        .arg("last", Arg::Clock { at: f.last_seen })
        .arg("ips", n_ips)
        .arg("users", n_users)
        .arg("usual", usual);
    let title = Msg::new("failed-volume-title")
        .arg("count", f.count)
        .arg("instance", instance);
    crate::text::set(
        f,
        FindingText {
            title: Some(title),
            description: vec![description],
            remediation: vec![Msg::new("failed-volume-block")],
        },
    );
    f.mitre = vec!["T1110".into()];
}
