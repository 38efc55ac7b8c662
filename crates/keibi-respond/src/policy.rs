//! The policy: ordered rules from a finding to the actions to take, first match
//! wins; with no rule matching, the finding's own suggested actions in mode
//! simulate. Allowlists are checked here, once, for every action of every rule: a
//! target on one is planned as skipped, with the list that holds it, and is never
//! handed to an executor.
//!
//! Pure: the responder hands it the finding and `now`; the store decides what was
//! already done.

use std::net::IpAddr;
use std::time::Duration;

use globset::{Glob, GlobMatcher};
use ipnet::IpNet;
use keibi_model::{Finding, SuggestedAction};

use crate::action::Mode;
use crate::target::{Kind, Place, Target};

/// One action a rule names: a kind, and for `webhook`/`exec` which one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRef {
    pub kind: Kind,
    pub name: Option<String>,
}

impl ActionRef {
    /// `block_address`, `lock-role`, `webhook:soc`, `exec:ticket`.
    pub fn parse(s: &str) -> Result<ActionRef, String> {
        let (kind, name) = match s.split_once(':') {
            Some((k, n)) => (k, Some(n.trim().to_string())),
            None => (s, None),
        };
        let kind = Kind::parse(kind).ok_or_else(|| {
            format!(
                "{s:?} is not an action; one of {}",
                Kind::ALL.map(|k| k.as_str()).join(", ")
            )
        })?;
        match (kind, &name) {
            (Kind::Webhook | Kind::Exec, None) => {
                Err(format!("{kind} needs the name of one: {kind}:NAME"))
            }
            (Kind::Webhook | Kind::Exec, Some(n)) if n.is_empty() => {
                Err(format!("{kind} needs the name of one: {kind}:NAME"))
            }
            (Kind::Webhook | Kind::Exec, _) => Ok(ActionRef { kind, name }),
            (_, Some(_)) => Err(format!("{kind} takes no name")),
            (_, None) => Ok(ActionRef { kind, name: None }),
        }
    }
}

/// A glob over names (`CredentialAccess:RDS/*`, `prod-*`), case-sensitive, `*`
/// crossing `/`.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    glob: GlobMatcher,
}

impl Pattern {
    pub fn new(text: &str) -> Result<Pattern, String> {
        let glob = Glob::new(text)
            .map_err(|e| format!("{text:?} is not a pattern: {e}"))?
            .compile_matcher();
        Ok(Pattern {
            text: text.to_string(),
            glob,
        })
    }

    pub fn matches(&self, s: &str) -> bool {
        self.glob.is_match(s)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// One rule: which findings, what to do, how.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rule {
    /// Shown in the journal; `#N` (1-based position) when not given.
    pub name: Option<String>,
    /// Finding types (patterns); empty: any.
    pub types: Vec<Pattern>,
    /// The least severity (0.0-10.0); `None`: any.
    pub min_severity: Option<f64>,
    /// Resource ids (instance, snapshot, security group ...; patterns); empty: any.
    pub resources: Vec<Pattern>,
    /// AWS account ids; empty: any.
    pub accounts: Vec<String>,
    /// What to do; `None`: the finding's suggested actions. An empty list matches
    /// and does nothing (a rule that exempts findings from the rules below).
    pub actions: Option<Vec<ActionRef>>,
    pub mode: Mode,
    /// How long an executed action stays in force; `None`: the policy's default for
    /// its kind.
    pub expire_after: Option<Duration>,
}

impl Rule {
    fn matches(&self, f: &Finding) -> bool {
        (self.types.is_empty() || self.types.iter().any(|p| p.matches(&f.finding_type)))
            && self.min_severity.is_none_or(|m| f.severity.value() >= m)
            && (self.resources.is_empty()
                || self.resources.iter().any(|p| p.matches(&f.resource.id)))
            && (self.accounts.is_empty()
                || f.resource
                    .account
                    .as_ref()
                    .is_some_and(|a| self.accounts.iter().any(|x| x == a)))
    }
}

/// What no action ever touches.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Never {
    /// Office and VPN networks, application servers (with `lists.trusted`, which
    /// the daemon adds).
    pub addresses: Vec<IpNet>,
    /// Database roles: `name` on every instance, or `instance/name`.
    pub roles: Vec<String>,
    /// IAM principals (ARN patterns), with the one keibi runs as.
    pub principals: Vec<Pattern>,
    /// Resource ids (patterns): instances, snapshots, security groups, trails.
    pub resources: Vec<Pattern>,
}

impl Never {
    /// The list that holds `target`, in words, or `None`.
    pub fn holds(&self, target: &Target) -> Option<String> {
        if let Some(net) = target.address() {
            if let Some(why) = never_blocked(net) {
                return Some(why);
            }
            if let Some(n) = self
                .addresses
                .iter()
                .find(|n| n.contains(&net) || net.contains(&n.network()))
            {
                return Some(format!("{net} is within {n} in respond.never.addresses"));
            }
        }
        if let Some((instance, user)) = target.role() {
            let full = format!("{instance}/{user}");
            if self.roles.iter().any(|r| r == user || *r == full) {
                return Some(format!("role {user:?} is in respond.never.roles"));
            }
        }
        if let Some(p) = target.principal() {
            if let Some(pat) = self.principals.iter().find(|pat| pat.matches(p)) {
                return Some(format!(
                    "principal {p:?} matches {:?} in respond.never.principals",
                    pat.as_str()
                ));
            }
        }
        let resource = match target {
            Target::ClosePublicAccess { resource, .. }
            | Target::RevokeIngress { resource, .. }
            | Target::RestoreLogging { resource, .. } => Some(resource.as_str()),
            Target::LockRole { instance, .. } | Target::EndSessions { instance, .. } => {
                Some(instance.as_str())
            }
            Target::BlockAddress { instance, .. } => instance.as_deref(),
            _ => None,
        };
        if let Some(r) = resource {
            if let Some(pat) = self.resources.iter().find(|pat| pat.matches(r)) {
                return Some(format!(
                    "resource {r:?} matches {:?} in respond.never.resources",
                    pat.as_str()
                ));
            }
        }
        None
    }
}

/// Addresses no block ever covers, whatever the lists say: loopback, unspecified,
/// link-local, multicast, and networks wider than a /24 (IPv4) or /48 (IPv6).
fn never_blocked(net: IpNet) -> Option<String> {
    let wide = match net {
        IpNet::V4(n) => n.prefix_len() < 24,
        IpNet::V6(n) => n.prefix_len() < 48,
    };
    if wide {
        return Some(format!("{net} is wider than keibi ever blocks (/24, /48)"));
    }
    let a = net.network();
    let special = match a {
        IpAddr::V4(v) => {
            v.is_loopback()
                || v.is_unspecified()
                || v.is_link_local()
                || v.is_multicast()
                || v.is_broadcast()
        }
        IpAddr::V6(v) => {
            v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || (v.segments()[0] & 0xffc0) == 0xfe80
                || v.to_ipv4_mapped().is_some()
        }
    };
    special.then(|| format!("{net} is a loopback, link-local or special address"))
}

/// The whole policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub rules: Vec<Rule>,
    pub never: Never,
    /// With no rule matching, plan the finding's suggested actions in mode simulate.
    pub simulate_suggested: bool,
    /// How long a block stays when its rule does not say.
    pub block_for: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            rules: Vec::new(),
            never: Never::default(),
            simulate_suggested: true,
            block_for: Duration::from_secs(24 * 3600),
        }
    }
}

/// One action the policy wants, before the store has a say.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub target: Target,
    pub mode: Mode,
    pub rule: String,
    pub expire_after: Option<Duration>,
    /// On an allowlist: recorded as skipped with this reason, never executed.
    pub skip: Option<String>,
}

impl Policy {
    /// The actions for `finding`, by the first rule that matches (or its suggested
    /// actions in mode simulate), each checked against the allowlists.
    pub fn plan(&self, finding: &Finding) -> Vec<Planned> {
        let (rule_name, refs, mode, expire) = match self
            .rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches(finding))
        {
            Some((i, r)) => (
                r.name.clone().unwrap_or_else(|| format!("#{}", i + 1)),
                r.actions.clone(),
                r.mode,
                r.expire_after,
            ),
            None if self.simulate_suggested => ("default".to_string(), None, Mode::Simulate, None),
            None => return Vec::new(),
        };
        let refs = refs.unwrap_or_else(|| {
            let mut kinds: Vec<Kind> = finding
                .suggested_actions
                .iter()
                .map(|s| Kind::from_suggested(s.kind()))
                .collect();
            kinds.dedup();
            kinds
                .into_iter()
                .map(|kind| ActionRef { kind, name: None })
                .collect()
        });
        let mut out: Vec<Planned> = Vec::new();
        for r in &refs {
            for target in targets(r, finding) {
                if out.iter().any(|p| p.target == target) {
                    continue;
                }
                let expire_after = if target.kind().undoable() {
                    expire.or((target.kind() == Kind::BlockAddress).then_some(self.block_for))
                } else {
                    None
                };
                out.push(Planned {
                    skip: self.never.holds(&target),
                    target,
                    mode,
                    rule: rule_name.clone(),
                    expire_after,
                });
            }
        }
        out
    }
}

/// The targets of one action kind for a finding: from its suggested actions of that
/// kind, else from its actor and resource.
pub fn targets(r: &ActionRef, f: &Finding) -> Vec<Target> {
    let place = Place {
        account: f.resource.account.clone(),
        region: f.resource.region.clone(),
    };
    let on_database = matches!(f.resource.kind.as_str(), "db_instance" | "db_cluster");
    let instance = on_database.then(|| f.resource.id.clone());
    let engine = f.resource.engine;
    let single_ip = if f.actor.ips.len() > 1 {
        None
    } else {
        f.actor.ip
    };
    let mut out = Vec::new();
    for s in &f.suggested_actions {
        if Kind::from_suggested(s.kind()) != r.kind {
            continue;
        }
        let t = match s {
            SuggestedAction::BlockAddress { address } => {
                let Some(address) = parse_net(address) else {
                    continue;
                };
                Target::BlockAddress {
                    address,
                    instance: instance.clone(),
                    place: place.clone(),
                }
            }
            SuggestedAction::LockRole { instance, user } => Target::LockRole {
                engine,
                instance: instance.clone(),
                user: user.clone(),
            },
            SuggestedAction::EndSessions { instance, user } => Target::EndSessions {
                engine,
                instance: instance.clone(),
                user: user.clone(),
                address: single_ip,
            },
            SuggestedAction::RotateCredentials { principal } => Target::ContainPrincipal {
                principal: principal.clone(),
                access_key: None,
                place: place.clone(),
            },
            SuggestedAction::ClosePublicAccess {
                resource_kind,
                resource,
            } => Target::ClosePublicAccess {
                resource_kind: resource_kind.clone(),
                resource: resource.clone(),
                place: place.clone(),
            },
            SuggestedAction::RestoreLogging {
                resource_kind,
                resource,
            } => Target::RestoreLogging {
                resource_kind: resource_kind.clone(),
                resource: resource.clone(),
                place: place.clone(),
            },
            SuggestedAction::RevokeIngress {
                resource_kind,
                resource,
                port,
                cidr,
            } => Target::RevokeIngress {
                resource_kind: resource_kind.clone(),
                resource: resource.clone(),
                port: port.clone(),
                cidr: cidr.clone(),
                place: place.clone(),
            },
        };
        out.push(t);
    }
    if !out.is_empty() {
        return out;
    }
    match r.kind {
        Kind::Webhook => out.push(Target::Webhook {
            name: r.name.clone().unwrap_or_default(),
        }),
        Kind::Exec => out.push(Target::Exec {
            name: r.name.clone().unwrap_or_default(),
        }),
        Kind::BlockAddress => {
            let ips: Vec<IpAddr> = if f.actor.ips.is_empty() {
                f.actor.ip.into_iter().collect()
            } else {
                f.actor.ips.clone()
            };
            for ip in ips {
                out.push(Target::BlockAddress {
                    address: host_net(ip),
                    instance: instance.clone(),
                    place: place.clone(),
                });
            }
        }
        Kind::LockRole | Kind::EndSessions => {
            if let (Some(instance), Some(user)) = (&instance, &f.actor.user) {
                out.push(if r.kind == Kind::LockRole {
                    Target::LockRole {
                        engine,
                        instance: instance.clone(),
                        user: user.clone(),
                    }
                } else {
                    Target::EndSessions {
                        engine,
                        instance: instance.clone(),
                        user: user.clone(),
                        address: single_ip,
                    }
                });
            }
        }
        Kind::ContainPrincipal => {
            if let Some(user) = f.actor.user.as_ref().filter(|u| u.starts_with("arn:")) {
                out.push(Target::ContainPrincipal {
                    principal: user.clone(),
                    access_key: None,
                    place,
                });
            }
        }
        Kind::ClosePublicAccess | Kind::RestoreLogging | Kind::RevokeIngress => {}
    }
    out
}

/// A host address as its one-address network; an IPv6 client as its /64.
fn host_net(ip: IpAddr) -> IpNet {
    match ip {
        IpAddr::V4(_) => IpNet::from(ip),
        IpAddr::V6(v6) => IpNet::new(IpAddr::V6(v6), 64)
            .map(|n| n.trunc())
            .unwrap_or_else(|_| IpNet::from(ip)),
    }
}

fn parse_net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .map(|n| n.trunc())
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

#[cfg(test)]
mod tests;
