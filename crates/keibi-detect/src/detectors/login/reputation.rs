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
use keibi_model::{Event, Finding, Severity};

use super::lru::Lru;
use super::text::{plural, rate, sentences, span, still_going, users, when, when_after};
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
fn listed_on(lists: &ThreatLists, ip: Option<IpAddr>) -> (bool, String) {
    let Some(ip) = ip else {
        return (false, "a threat list".to_string());
    };
    match lists.reputation(ip) {
        Reputation::Listed {
            tor: Some(tor),
            threat: Some(threat),
        } => (
            true,
            format!("the Tor exit list '{tor}' (and on the threat list '{threat}')"),
        ),
        Reputation::Listed { tor: Some(tor), .. } => (true, format!("the Tor exit list '{tor}'")),
        Reputation::Listed {
            threat: Some(threat),
            ..
        } => (false, format!("the threat list '{threat}'")),
        _ => (false, "a threat list".to_string()),
    }
}

fn text(f: &mut Finding, lists: &ThreatLists, also: Also, end: Option<DateTime<Utc>>) {
    let ip = f
        .actor
        .ip
        .map_or_else(|| "an address".to_string(), |i| i.to_string());
    let inst = f.resource.id.clone();
    let (tor, list) = listed_on(lists, f.actor.ip);
    let what = if tor {
        "Tor exit node"
    } else {
        "threat-listed address"
    };
    let why = if tor {
        "Tor hides where a connection really comes from; your applications and colleagues do not normally reach a database through it."
    } else {
        "Threat lists name addresses seen attacking, scanning or running malware."
    };
    let who = users(&f.actor);
    let r = rate(f.count, f.first_seen, f.last_seen);
    let when_phrase = if f.count > 1 {
        format!(
            "between {} and {} ({}{})",
            when(f.first_seen),
            when_after(f.last_seen, f.first_seen),
            span(f.first_seen, f.last_seen),
            if r.is_empty() { r } else { format!(", {r}") }
        )
    } else {
        format!("at {}", when(f.first_seen))
    };
    let block = format!(
        "Block {ip} in the instance's security group inbound rules or a network ACL (on a self-managed server: a pg_hba.conf `reject` line or a firewall rule){}, and make the instance private (`aws rds modify-db-instance --no-publicly-accessible`) if it need not be reachable from the Internet.",
        if tor { "; to keep all of Tor out, block the published exit list" } else { "" }
    );
    match f.finding_type.as_str() {
        TOR_SUCCESS | MALICIOUS_SUCCESS => {
            f.title = format!("Login to {inst} as {who} from {what} {ip}");
            f.description = sentences(&[
                if f.count > 1 {
                    format!(
                        "{ip} logged in to {inst} as {who} {} {when_phrase}.",
                        plural(f.count, "time", "times")
                    )
                } else {
                    format!("{ip} logged in to {inst} as {who} {when_phrase}.")
                },
                format!("{ip} is on {list}. {why}"),
                if also.failed {
                    "It also failed to log in (see the FailedLogin finding for the same address)."
                        .to_string()
                } else {
                    String::new()
                },
                format!("Whoever connected from there knows the password of {who}."),
            ]);
            f.remediation = sentences(&[
                format!("Unless you know this login (a colleague on Tor, a tester), treat the password of {who} as stolen: change it now, end its sessions from {ip}, and review what it did (pgaudit or server_audit statements from {ip})."),
                block,
            ]);
            f.mitre = if tor {
                vec!["T1078".to_string(), "T1090.003".to_string()]
            } else {
                vec!["T1078".to_string()]
            };
        }
        TOR_FAILED | MALICIOUS_FAILED => {
            f.title = format!(
                "Failed logins to {inst} from {what} {ip}: {}",
                plural(f.count, "attempt", "attempts")
            );
            f.description = sentences(&[
                format!(
                    "{ip} failed to log in to {inst} {} {when_phrase}, as {who}.",
                    plural(f.count, "time", "times")
                ),
                format!("{ip} is on {list}. {why}"),
                if also.logged_in {
                    "It also logged in successfully: see the SuccessfulLogin finding for the same address.".to_string()
                } else {
                    "It never logged in successfully.".to_string()
                },
                still_going(f.last_seen, end, "attempt"),
            ]);
            f.remediation = sentences(&[
                block,
                format!("Check that the password of {who} is long and random."),
            ]);
            f.mitre = if tor {
                vec!["T1110".to_string(), "T1090.003".to_string()]
            } else {
                vec!["T1110".to_string()]
            };
        }
        _ => {
            f.title = format!("Database port of {inst} probed from {what} {ip}");
            f.description = sentences(&[
                format!(
                    "{ip} opened {} to {inst} {when_phrase} and never tried to log in: a scan checking what answers on the database port.",
                    plural(f.count, "connection", "connections")
                ),
                format!("{ip} is on {list}. {why}"),
                "It reached the database port, so the instance is reachable from where that address is (usually the Internet).".to_string(),
                still_going(f.last_seen, end, "connection"),
            ]);
            f.remediation = sentences(&[
                "Restrict the instance's security group inbound rules to your applications' addresses or security groups.".to_string(),
                block,
            ]);
            f.mitre = if tor {
                vec!["T1046".to_string(), "T1090.003".to_string()]
            } else {
                vec!["T1046".to_string()]
            };
        }
    }
}
