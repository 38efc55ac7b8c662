//! Many addresses failing as the same user: `CredentialStuffing` (distributed
//! guessing, each address staying under any per-address threshold).
//!
//! Per (instance, user name) it keeps the sources that failed as that user within
//! `stuffing_window_secs` (a source is an address, or an IPv6 address's /64: one
//! client rotating through its network is one source). It fires when they number at
//! least `stuffing_sources` *and*
//! come from at least `stuffing_networks` networks ([`super::network`]: a /24 for
//! public IPv4, a /16 for private IPv4, a /48 for IPv6). The network count is what
//! tells a botnet from your own fleet: after a password rotation, every application
//! server with the old password fails as the same user, from many addresses, but
//! they all sit in one VPC (one private /16), or a handful of subnets; a campaign
//! comes from unrelated networks all over the Internet.
//!
//! One finding per instance aggregates the campaign (all users it targets); a login
//! as a targeted user from one of the failing addresses raises it to High.
//!
//! **Memory bound**: at most `max_tracked_users` (instance, user) pairs, least
//! recently active forgotten first, each with at most `max(32, stuffing_sources)`
//! addresses (one evidence reference each, about 120 bytes): about 4 KB per user at
//! worst, 40 MB for 10,000 users with the defaults; a user failing from one address
//! takes about 0.2 KB (measured: 0.4 MB at the bound under 500,000 user names).

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use keibi_model::finding::Evidence;
use keibi_model::{Event, Finding, FindingText, Msg, Severity};

use super::lru::Lru;
use super::text::{at, at_after, names_arg, rate_arg, span_arg, still_failing, users_arg};
use super::{
    absorb_backlog, classify, hash_of, ms, network, push_small, source_of, user_of, Instances,
    Kind, Notes, Ref, Repeats,
};
use crate::config::LoginConfig;
use crate::detector::{db_resource, Context, Detector};
use crate::findings::Raise;

pub(crate) const ID: &str = "login_stuffing";
pub(crate) const STUFFING: &str = "CredentialAccess:RDS/CredentialStuffing";

/// The finding types this detector raises (see [`crate::catalog`]).
pub(crate) fn specs() -> Vec<keibi_model::FindingSpec> {
    vec![
        keibi_model::FindingSpec::new(
            STUFFING,
            6.0,
            &["T1110.004"],
            "Credential stuffing",
            "Block the addresses, keep the database off the internet and change the targeted user's password if it may be reused elsewhere.",
            &[keibi_model::ActionKind::BlockAddress],
        ),
    ]
}

/// Users and networks listed per finding for its text.
const NOTE_USERS: usize = 20;
const NOTE_NETWORKS: usize = 1024;

/// Many addresses against one user.
pub struct StuffingDetector {
    sources: usize,
    networks: usize,
    window: i64,
    per_user: usize,
    instances: Instances,
    repeats: Repeats,
    targets: Lru<(u32, u64), Target>,
    notes: Notes<Note>,
}

impl StuffingDetector {
    pub fn new(c: &LoginConfig) -> Self {
        StuffingDetector {
            sources: (c.stuffing_sources as usize).max(2),
            networks: (c.stuffing_networks as usize).max(1),
            window: i64::try_from(c.stuffing_window_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
            per_user: (c.stuffing_sources as usize).max(32),
            instances: Instances::default(),
            repeats: Repeats::default(),
            targets: Lru::new(c.max_tracked_users),
            notes: Notes::default(),
        }
    }

    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.targets.len()
    }
}

struct Target {
    sources: Vec<Src>,
    /// The finding while the campaign against this user goes on, and its last failure.
    active: Option<Box<(String, i64)>>,
}

struct Src {
    ip: IpAddr,
    last: i64,
    fails: u64,
    first: Ref,
}

#[derive(Default)]
struct Note {
    /// Failures per targeted user.
    users: Vec<(String, u64)>,
    /// Distinct networks of the failing addresses (sorted, bounded).
    networks: Vec<(IpAddr, u8)>,
    networks_more: bool,
    /// Logins as a targeted user from an address that failed as it.
    logins: u64,
    first_login: Option<(DateTime<Utc>, IpAddr, String)>,
}

impl Note {
    fn failed(&mut self, user: &str, n: u64, ip: IpAddr) {
        if let Some((_, c)) = self.users.iter_mut().find(|(u, _)| u == user) {
            *c += n;
        } else if self.users.len() < NOTE_USERS {
            self.users.push((user.to_string(), n));
        }
        let net = network(ip);
        if let Err(at) = self.networks.binary_search(&net) {
            if self.networks.len() < NOTE_NETWORKS {
                self.networks.insert(at, net);
            } else {
                self.networks_more = true;
            }
        }
    }
}

impl Detector for StuffingDetector {
    fn id(&self) -> &'static str {
        ID
    }

    fn catalog(&self) -> Vec<crate::catalog::Entry> {
        crate::catalog::Entry::of_detector(self.id(), specs())
    }

    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>) {
        let Some(inst) = self.instances.see(ev) else {
            return;
        };
        let kind = match classify(ev) {
            Some(k @ (Kind::Failed | Kind::Authenticated)) => k,
            _ => return,
        };
        let (Some(ip), Some(user)) = (ev.client_ip, user_of(ev)) else {
            return;
        };
        if self.repeats.is_repeat(inst, ev, kind) {
            return;
        }
        self.notes.prune(cx.findings);
        // An IPv6 source is its /64: rotating through one network is one source.
        let ip = source_of(ip);
        let key = (inst, hash_of(&*user));
        let now = ms(ev.time);
        if kind == Kind::Authenticated {
            self.login(&key, ip, &user, ev, cx);
            return;
        }
        self.targets.touch(&key, || Target {
            sources: Vec::new(),
            active: None,
        });
        let Some(t) = self.targets.get_mut(&key) else {
            return;
        };
        t.sources
            .retain(|s| now.saturating_sub(s.last) <= self.window);
        match t.sources.iter().position(|s| s.ip == ip) {
            Some(i) => {
                t.sources[i].fails += 1;
                t.sources[i].last = now;
            }
            None => {
                if t.sources.len() >= self.per_user {
                    if let Some((i, _)) = t.sources.iter().enumerate().min_by_key(|(_, s)| s.last) {
                        t.sources.swap_remove(i);
                    }
                }
                push_small(
                    &mut t.sources,
                    Src {
                        ip,
                        last: now,
                        fails: 1,
                        first: Ref::of(ev, Some(user.clone())),
                    },
                    self.per_user,
                );
            }
        }
        if let Some((id, last)) = t.active.as_deref_mut() {
            if now.saturating_sub(*last) <= self.window {
                *last = now;
                if let Some(f) = cx.findings.get_mut(id) {
                    f.absorb(ev);
                }
                if let Some(note) = self.notes.of(id) {
                    note.failed(&user, 1, ip);
                }
                return;
            }
            t.active = None;
        }
        if t.sources.len() < self.sources {
            return;
        }
        let mut nets: Vec<(IpAddr, u8)> = t.sources.iter().map(|s| network(s.ip)).collect();
        nets.sort_unstable();
        nets.dedup();
        if nets.len() < self.networks {
            return;
        }
        let mut backlog: Vec<Ref> = t
            .sources
            .iter()
            .map(|s| s.first.clone())
            .filter(|r| !r.is_of(ev))
            .collect();
        backlog.sort_by_key(|r| r.time);
        let total: u64 = t.sources.iter().map(|s| s.fails).sum();
        let instance = self.instances.name(inst);
        let f = cx.findings.raise(Raise {
            detector: ID,
            finding_type: STUFFING,
            key: &[instance],
            severity: Severity::new(6.0),
            resource: db_resource(ev),
            time: ev.time,
        });
        absorb_backlog(f, instance, &backlog, Some(ev), total);
        let id = f.id.clone();
        if let Some(note) = self.notes.of(&id) {
            for s in &t.sources {
                note.failed(&user, s.fails, s.ip);
            }
        }
        t.active = Some(Box::new((id, now)));
    }

    fn quiet_after(&self) -> Option<Duration> {
        Some(Duration::try_milliseconds(self.window).unwrap_or(Duration::MAX))
    }

    /// A target's sources are counted within the window.
    fn replay_horizon(&self) -> Option<Duration> {
        self.quiet_after()
    }

    fn render(&mut self, cx: &mut Context<'_>) {
        let instances = cx.instances;
        for f in cx.findings.to_render(ID) {
            let end = instances.end(&f.resource.id);
            text(f, self.notes.get(&f.id), end);
        }
    }
}

impl StuffingDetector {
    /// A login as a user under attack, from an address that failed as it: the
    /// campaign found a working password.
    fn login(
        &mut self,
        key: &(u32, u64),
        ip: IpAddr,
        user: &str,
        ev: &Event,
        cx: &mut Context<'_>,
    ) {
        let now = ms(ev.time);
        let Some(t) = self.targets.get_mut(key) else {
            return;
        };
        let Some((id, last)) = t.active.as_deref() else {
            return;
        };
        if now.saturating_sub(*last) > self.window || !t.sources.iter().any(|s| s.ip == ip) {
            return;
        }
        if let Some(f) = cx.findings.get_mut(id) {
            f.push_evidence(Evidence::of(ev));
        }
        if let Some(note) = self.notes.of(id) {
            note.logins += 1;
            if note.first_login.is_none() {
                note.first_login = Some((ev.time, ev.client_ip.unwrap_or(ip), user.to_string()));
            }
        }
    }
}

fn text(f: &mut Finding, note: Option<&Note>, end: Option<DateTime<Utc>>) {
    let default = Note::default();
    let note = note.unwrap_or(&default);
    let inst = f.resource.id.clone();
    let targets = users_arg(&f.actor);
    let n_ips = if f.actor.ips_truncated {
        format!("{}+", f.actor.ips.len())
    } else {
        f.actor
            .ips
            .len()
            .max(usize::from(f.actor.ip.is_some()))
            .to_string()
    };
    let n_nets = if note.networks_more {
        format!("{}+", note.networks.len())
    } else {
        note.networks.len().to_string()
    };
    f.severity = Severity::new(if note.logins > 0 { 8.0 } else { 6.0 });
    let failures = Msg::new("failed-logins").arg("count", f.count);
    let title = Msg::new("stuffing-title")
        .arg("instance", &inst)
        .arg("failures", failures.clone())
        .arg("ips", &n_ips)
        .arg("targets", targets.clone());
    let shown: Vec<String> = f.actor.ips.iter().map(ToString::to_string).collect();
    let mut description = vec![Msg::new("stuffing-failed")
        .arg("failures", failures)
        .arg("instance", &inst)
        .arg("targets", targets.clone())
        .arg("ips", &n_ips)
        .arg("nets", &n_nets)
        .arg("first", at(f.first_seen))
        .arg("last", at_after(f.last_seen, f.first_seen))
        .arg("span", span_arg(f.first_seen, f.last_seen))
        .arg("rate", rate_arg(f.count, f.first_seen, f.last_seen))
        .arg("shown", names_arg(&shown, shown.len(), 5))];
    if note.users.len() > 1 {
        let parts: Vec<String> = note
            .users
            .iter()
            .map(|(u, n)| format!("{u} {}", crate::text::thousands(*n)))
            .collect();
        description
            .push(Msg::new("stuffing-per-user").arg("list", names_arg(&parts, parts.len(), 8)));
    }
    description.push(Msg::new("stuffing-explain"));
    description.push(match &note.first_login {
        Some((t, ip, user)) => Msg::new("stuffing-login")
            .arg("ip", ip.to_string())
            .arg("user", user)
            .arg("at", at(*t))
            .arg("logins", note.logins),
        None => Msg::new("stuffing-no-login"),
    });
    description.extend(still_failing(f.last_seen, end));
    let mut remediation = vec![
        Msg::new("stuffing-change").arg("targets", targets),
        Msg::new("stuffing-restrict"),
    ];
    if note.logins > 0 {
        remediation.push(Msg::new("stuffing-review"));
    }
    crate::text::set(
        f,
        FindingText {
            title: Some(title),
            description,
            remediation,
        },
    );
    f.mitre = vec!["T1110.004".to_string()];
}
