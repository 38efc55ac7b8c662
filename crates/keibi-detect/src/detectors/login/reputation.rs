//! Logins, failed logins and probes from addresses on a threat list or a Tor exit
//! list: the `MaliciousIPCaller` and `TorIPCaller` types.
//!
//! An address on both lists raises the Tor type only, naming the threat list in its
//! description: Tor is the more specific explanation (threat feeds often include Tor
//! exits wholesale), and two findings for one connection would only be noise.
//!
//! Logins and failures raise at once, one finding per (instance, address) and type.
//! A probe (a connection that never tried to log in) can only be told once some time
//! has passed: PostgreSQL logs `connection received` before the login, and psql's
//! first connection, which only learns that a password is needed, never logs in at
//! all. So connections from a listed address wait `probe_grace_secs`; a login
//! attempt from that address in the meantime (or just before) makes them part of it,
//! otherwise they become `Discovery:RDS/...`. Pending ones are decided as time
//! advances, when they must make room, and at the end of the input.
//!
//! **Memory bound**: at most `max_tracked_sources` listed addresses pending, each
//! with at most 10 evidence references (about 1 KB), least recently active decided
//! first: 10 MB for 10,000 addresses.

use std::collections::HashSet;
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use keibi_model::finding::EVIDENCE_HEAD;
use keibi_model::{Arg, Event, Finding, FindingText, Msg, Severity};

use super::lru::Lru;
use super::text::{at, at_after, rate_arg, span_arg, still_going_msg, users_arg};
use super::{absorb_backlog, classify, conn_id, ms, push_small, Instances, Kind, Ref, Repeats};
use crate::config::LoginConfig;
use crate::detector::{db_resource, Context, Detector};
use crate::findings::Raise;
use crate::iplist::{Reputation, ThreatLists};

pub(crate) const ID: &str = "login_reputation";
pub(crate) const MALICIOUS_SUCCESS: &str = "CredentialAccess:RDS/MaliciousIPCaller.SuccessfulLogin";
pub(crate) const MALICIOUS_FAILED: &str = "CredentialAccess:RDS/MaliciousIPCaller.FailedLogin";
pub(crate) const MALICIOUS_PROBE: &str = "Discovery:RDS/MaliciousIPCaller";
pub(crate) const TOR_SUCCESS: &str = "CredentialAccess:RDS/TorIPCaller.SuccessfulLogin";
pub(crate) const TOR_FAILED: &str = "CredentialAccess:RDS/TorIPCaller.FailedLogin";
pub(crate) const TOR_PROBE: &str = "Discovery:RDS/TorIPCaller";

/// The finding types this detector raises (see [`crate::catalog`]).
pub(crate) fn specs() -> Vec<keibi_model::FindingSpec> {
    vec![
        keibi_model::FindingSpec::new(
            MALICIOUS_SUCCESS,
            8.0,
            &["T1078"],
            "Login from a threat-listed address",
            "Unless you know this login, treat the password as stolen: block the address, lock the role, end its sessions and change the password.",
            &[keibi_model::ActionKind::BlockAddress, keibi_model::ActionKind::LockRole, keibi_model::ActionKind::EndSessions],
        ),
        keibi_model::FindingSpec::new(
            MALICIOUS_FAILED,
            5.0,
            &["T1110"],
            "Failed logins from a threat-listed address",
            "Block the address and keep the database off the internet.",
            &[keibi_model::ActionKind::BlockAddress],
        ),
        keibi_model::FindingSpec::new(
            MALICIOUS_PROBE,
            5.0,
            &["T1046"],
            "Probe from a threat-listed address",
            "Block the address and keep the database port closed to the internet.",
            &[keibi_model::ActionKind::BlockAddress],
        ),
        keibi_model::FindingSpec::new(
            TOR_SUCCESS,
            8.0,
            &["T1078", "T1090.003"],
            "Login from a Tor exit node",
            "Unless you know this login, treat the password as stolen: block the address, lock the role, end its sessions and change the password.",
            &[keibi_model::ActionKind::BlockAddress, keibi_model::ActionKind::LockRole, keibi_model::ActionKind::EndSessions],
        ),
        keibi_model::FindingSpec::new(
            TOR_FAILED,
            5.0,
            &["T1110", "T1090.003"],
            "Failed logins from a Tor exit node",
            "Block the address and keep the database off the internet.",
            &[keibi_model::ActionKind::BlockAddress],
        ),
        keibi_model::FindingSpec::new(
            TOR_PROBE,
            5.0,
            &["T1046", "T1090.003"],
            "Probe from a Tor exit node",
            "Block the address and keep the database port closed to the internet.",
            &[keibi_model::ActionKind::BlockAddress],
        ),
    ]
}

/// Threat-listed and Tor addresses.
pub struct ReputationDetector {
    grace: i64,
    instances: Instances,
    repeats: Repeats,
    pending: Lru<(u32, IpAddr), Pending>,
}

impl ReputationDetector {
    pub fn new(c: &LoginConfig) -> Self {
        ReputationDetector {
            grace: i64::try_from(c.probe_grace_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
            instances: Instances::default(),
            repeats: Repeats::default(),
            pending: Lru::new(c.max_tracked_sources),
        }
    }

    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.pending.len()
    }
}

/// Connections from one listed address not yet known to be part of a login.
struct Pending {
    /// Connections that no login attempt has claimed, and the first of them.
    count: u64,
    head: Vec<Ref>,
    last: i64,
    /// The address's latest login attempt.
    attempted: Option<i64>,
    /// The connection counted last: PostgreSQL logs `connection received` and then
    /// `incomplete startup packet` for one probe.
    last_conn: Option<u64>,
}

/// The type for an event's kind from a listed address: Tor when on a Tor list.
fn type_for(kind: Kind, tor: bool) -> (&'static str, f64) {
    match (kind, tor) {
        (Kind::Authenticated, true) => (TOR_SUCCESS, 8.0),
        (Kind::Authenticated, false) => (MALICIOUS_SUCCESS, 8.0),
        (Kind::Failed, true) => (TOR_FAILED, 5.0),
        (Kind::Failed, false) => (MALICIOUS_FAILED, 5.0),
        (_, true) => (TOR_PROBE, 5.0),
        (_, false) => (MALICIOUS_PROBE, 5.0),
    }
}

impl Detector for ReputationDetector {
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
        let Some(kind) = classify(ev) else {
            return;
        };
        let now = ms(ev.time);
        while let Some((_, p)) = self.pending.oldest() {
            if p.last >= now.saturating_sub(self.grace) {
                break;
            }
            if let Some((key, p)) = self.pending.pop_oldest() {
                self.conclude(key, p, cx);
            }
        }
        let Some(ip) = ev.client_ip else {
            return;
        };
        let tor = match cx.reputation(ev) {
            Reputation::Listed { tor, .. } => tor.is_some(),
            Reputation::Unlisted | Reputation::Trusted { .. } => return,
        };
        if self.repeats.is_repeat(inst, ev, kind) {
            return;
        }
        let key = (inst, ip);
        let evicted = self.pending.touch(&key, || Pending {
            count: 0,
            head: Vec::new(),
            last: now,
            attempted: None,
            last_conn: None,
        });
        if let Some((k, p)) = evicted {
            self.conclude(k, p, cx);
        }
        let Some(p) = self.pending.get_mut(&key) else {
            return;
        };
        p.last = now;
        match kind {
            Kind::Failed | Kind::Authenticated => {
                // Connections just before belonged to this attempt.
                p.count = 0;
                p.head.clear();
                p.attempted = Some(now);
                let (t, sev) = type_for(kind, tor);
                let ip = ip.to_string();
                let f = cx.findings.raise(Raise {
                    detector: ID,
                    finding_type: t,
                    key: &[self.instances.name(inst), &ip],
                    severity: Severity::new(sev),
                    resource: db_resource(ev),
                    time: ev.time,
                });
                f.absorb(ev);
            }
            Kind::Probe | Kind::Connected => {
                if p.attempted
                    .is_some_and(|a| now.saturating_sub(a) <= self.grace)
                {
                    return;
                }
                let conn = conn_id(ev);
                if conn.is_some() && conn == p.last_conn {
                    return;
                }
                p.last_conn = conn;
                p.count += 1;
                if p.head.len() < EVIDENCE_HEAD {
                    push_small(&mut p.head, Ref::of(ev, None), EVIDENCE_HEAD);
                }
            }
        }
    }

    fn advance(&mut self, watermark: DateTime<Utc>, cx: &mut Context<'_>) {
        if watermark == DateTime::<Utc>::MAX_UTC {
            for (key, p) in self.pending.drain() {
                self.conclude(key, p, cx);
            }
            return;
        }
        let now = ms(watermark);
        while let Some((_, p)) = self.pending.oldest() {
            if p.last >= now.saturating_sub(self.grace) {
                break;
            }
            if let Some((key, p)) = self.pending.pop_oldest() {
                self.conclude(key, p, cx);
            }
        }
    }

    fn quiet_after(&self) -> Option<Duration> {
        // Connections wait `grace` for a login attempt to claim them.
        Some(Duration::try_milliseconds(self.grace).unwrap_or(Duration::MAX))
    }

    /// A connection waits `grace` for the login attempt that claims it.
    fn replay_horizon(&self) -> Option<Duration> {
        self.quiet_after()
    }

    fn render(&mut self, cx: &mut Context<'_>) {
        let lists = cx.lists;
        let instances = cx.instances;
        // Which (instance, address) pairs also logged in or also failed.
        let mut logged_in = HashSet::new();
        let mut failed = HashSet::new();
        for f in cx.findings.of_detector(ID) {
            let pair = (f.resource.id.clone(), f.actor.ip);
            match f.finding_type.as_str() {
                TOR_SUCCESS | MALICIOUS_SUCCESS => logged_in.insert(pair),
                TOR_FAILED | MALICIOUS_FAILED => failed.insert(pair),
                _ => false,
            };
        }
        for f in cx.findings.to_render(ID) {
            let pair = (f.resource.id.clone(), f.actor.ip);
            let end = instances.end(&f.resource.id);
            let also = Also {
                logged_in: logged_in.contains(&pair),
                failed: failed.contains(&pair),
            };
            text(f, lists, also, end);
        }
    }
}

impl ReputationDetector {
    /// Connections no login attempt claimed: a Discovery finding.
    fn conclude(&self, key: (u32, IpAddr), p: Pending, cx: &mut Context<'_>) {
        let Some(first) = p.head.first() else {
            return;
        };
        if p.count == 0 {
            return;
        }
        let tor = match cx.lists.reputation(key.1) {
            Reputation::Listed { tor, .. } => tor.is_some(),
            _ => return,
        };
        let (t, sev) = type_for(Kind::Probe, tor);
        let instance = self.instances.name(key.0);
        let ip = key.1.to_string();
        let f = cx.findings.raise(Raise {
            detector: ID,
            finding_type: t,
            key: &[instance, &ip],
            severity: Severity::new(sev),
            resource: db_resource(&first.event(instance)),
            time: first.time,
        });
        absorb_backlog(f, instance, &p.head, None, p.count);
    }
}

/// What else the same address did on the same instance.
struct Also {
    logged_in: bool,
    failed: bool,
}

/// `the Tor exit list 'tor.txt' (and the threat list 'x')`.
/// Whether the address is a Tor exit, and the lists it is on, as a message.
fn listed_on(lists: &ThreatLists, ip: Option<IpAddr>) -> (bool, Msg) {
    let Some(ip) = ip else {
        return (false, Msg::new("rep-on-a-list"));
    };
    match lists.reputation(ip) {
        Reputation::Listed {
            tor: Some(tor),
            threat: Some(threat),
        } => (
            true,
            Msg::new("rep-on-tor-and-threat")
                .arg("tor", tor.to_string())
                .arg("threat", threat.to_string()),
        ),
        Reputation::Listed { tor: Some(tor), .. } => {
            (true, Msg::new("rep-on-tor").arg("tor", tor.to_string()))
        }
        Reputation::Listed {
            threat: Some(threat),
            ..
        } => (
            false,
            Msg::new("rep-on-threat").arg("threat", threat.to_string()),
        ),
        _ => (false, Msg::new("rep-on-a-list")),
    }
}

fn text(f: &mut Finding, lists: &ThreatLists, also: Also, end: Option<DateTime<Utc>>) {
    let ip: Arg = match f.actor.ip {
        Some(i) => i.to_string().into(),
        None => Msg::new("rep-an-address").into(),
    };
    let inst = f.resource.id.clone();
    let (tor, list) = listed_on(lists, f.actor.ip);
    let what = Msg::new(if tor {
        "rep-what-tor"
    } else {
        "rep-what-threat"
    });
    let why = Msg::new(if tor { "rep-why-tor" } else { "rep-why-threat" });
    let who = users_arg(&f.actor);
    let when_phrase = if f.count > 1 {
        Msg::new("login-between")
            .arg("first", at(f.first_seen))
            .arg("last", at_after(f.last_seen, f.first_seen))
            .arg("span", span_arg(f.first_seen, f.last_seen))
            .arg("rate", rate_arg(f.count, f.first_seen, f.last_seen))
    } else {
        Msg::new("rep-at").arg("at", at(f.first_seen))
    };
    let listed = Msg::new("rep-listed")
        .arg("ip", ip.clone())
        .arg("list", list)
        .arg("why", why);
    let block = Msg::new("rep-block")
        .arg("ip", ip.clone())
        .arg("tor", if tor { "yes" } else { "no" });
    let title;
    let mut description;
    let remediation;
    match f.finding_type.as_str() {
        TOR_SUCCESS | MALICIOUS_SUCCESS => {
            title = Msg::new("rep-login-title").arg("who", who.clone());
            description = vec![
                Msg::new("rep-logged-in")
                    .arg("ip", ip.clone())
                    .arg("instance", &inst)
                    .arg("who", who.clone())
                    .arg("count", f.count)
                    .arg("when", when_phrase),
                listed,
            ];
            if also.failed {
                description.push(Msg::new("rep-also-failed"));
            }
            description.push(Msg::new("rep-knows-password").arg("who", who.clone()));
            remediation = vec![
                Msg::new("rep-treat-stolen")
                    .arg("who", who.clone())
                    .arg("ip", ip.clone()),
                block,
            ];
            f.mitre = if tor {
                vec!["T1078".to_string(), "T1090.003".to_string()]
            } else {
                vec!["T1078".to_string()]
            };
        }
        TOR_FAILED | MALICIOUS_FAILED => {
            title = Msg::new("rep-failed-title").arg("count", f.count);
            description = vec![
                Msg::new("rep-failed")
                    .arg("ip", ip.clone())
                    .arg("instance", &inst)
                    .arg("count", f.count)
                    .arg("when", when_phrase)
                    .arg("who", who.clone()),
                listed,
                Msg::new(if also.logged_in {
                    "rep-also-logged-in"
                } else {
                    "rep-never-logged-in"
                }),
            ];
            description.extend(still_going_msg(f.last_seen, end, "still-last-attempt"));
            remediation = vec![
                block,
                Msg::new("rep-check-password").arg("who", who.clone()),
            ];
            f.mitre = if tor {
                vec!["T1110".to_string(), "T1090.003".to_string()]
            } else {
                vec!["T1110".to_string()]
            };
        }
        _ => {
            title = Msg::new("rep-probe-title");
            description = vec![
                Msg::new("rep-probed")
                    .arg("ip", ip.clone())
                    .arg("instance", &inst)
                    .arg("count", f.count)
                    .arg("when", when_phrase),
                listed,
                Msg::new("rep-reachable"),
            ];
            description.extend(still_going_msg(f.last_seen, end, "still-last-connection"));
            remediation = vec![Msg::new("rep-restrict"), block];
            f.mitre = if tor {
                vec!["T1046".to_string(), "T1090.003".to_string()]
            } else {
                vec!["T1046".to_string()]
            };
        }
    }
    let title = title.arg("instance", &inst).arg("what", what).arg("ip", ip);
    crate::text::set(
        f,
        FindingText {
            title: Some(title),
            description,
            remediation,
        },
    );
}
