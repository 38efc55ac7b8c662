//! IAM principals against their CloudTrail profiles: `Impact:IAMUser/AnomalousBehavior`
//! for a destructive or exposing RDS/EC2 call from a network, ASN, country or tool
//! never seen for the principal.

use keibi_model::event::FieldRef;
use keibi_model::{Arg, Event, FindingText, Msg, Resource, Severity};

use super::explain::{self, capitalize, Factor};
use super::logins::{country_factor, source_factor, text_new};
use super::profile::{bounded, caps, Net, PrincipalProfile, Secs};
use super::{is_public, BaselineDetector, ID, IMPACT_TYPE};
use crate::detector::Context;
use crate::findings::Raise;

/// Principal ARNs kept in a profile key.
const MAX_ARN: usize = 512;

/// Calls that destroy data or expose a database, always sensitive.
const DESTRUCTIVE: [&str; 20] = [
    "DeleteDBInstance",
    "DeleteDBCluster",
    "DeleteDBSnapshot",
    "DeleteDBClusterSnapshot",
    "DeleteGlobalCluster",
    "ModifyDBSnapshotAttribute",
    "ModifyDBClusterSnapshotAttribute",
    "CopyDBSnapshot",
    "CopyDBClusterSnapshot",
    "RestoreDBInstanceFromDBSnapshot",
    "RestoreDBClusterFromSnapshot",
    "RestoreDBInstanceToPointInTime",
    "StopDBInstance",
    "StopDBCluster",
    "ModifyDBParameterGroup",
    "ModifyDBClusterParameterGroup",
    "AuthorizeSecurityGroupIngress",
    "ModifySecurityGroupRules",
    "CreateNetworkAclEntry",
    "ReplaceNetworkAclEntry",
];

/// `ModifyDBInstance` / `ModifyDBCluster` parameters that expose or weaken a database
/// (a plain instance-class change is routine and not sensitive).
const RISKY_MODIFY: [&str; 6] = [
    "publiclyAccessible",
    "masterUserPassword",
    "deletionProtection",
    "backupRetentionPeriod",
    "cloudwatchLogsExportConfiguration",
    "vpcSecurityGroupIds",
];

/// The event name when the call is sensitive (destructive or exposing).
pub(super) fn sensitive(ev: &Event) -> Option<&str> {
    let Some(FieldRef::Str(name)) = ev.get("eventName") else {
        return None;
    };
    let src = match ev.get("eventSource") {
        Some(FieldRef::Str(s)) => s,
        _ => "",
    };
    if src != "rds.amazonaws.com" && src != "ec2.amazonaws.com" {
        return None;
    }
    if DESTRUCTIVE.contains(&name) {
        return Some(name);
    }
    if name == "ModifyDBInstance" || name == "ModifyDBCluster" {
        let params = ev
            .record
            .as_deref()?
            .get("requestParameters")?
            .as_object()?;
        if RISKY_MODIFY.iter().any(|k| params.contains_key(*k)) {
            return Some(name);
        }
    }
    None
}

/// The profile key of a principal: an assumed role without its session name (sessions
/// are often random: an instance id, `botocore-session-1712`), anything else as is.
pub(super) fn principal_key(arn: &str) -> &str {
    let arn = if arn.len() > MAX_ARN {
        let mut end = MAX_ARN;
        while !arn.is_char_boundary(end) {
            end -= 1;
        }
        &arn[..end]
    } else {
        arn
    };
    const ROLE: &str = ":assumed-role/";
    if let Some(at) = arn.find(ROLE) {
        if let Some(slash) = arn[at + ROLE.len()..].find('/') {
            return &arn[..at + ROLE.len() + slash];
        }
    }
    arn
}

/// What the call was about: the instance, cluster, snapshot or security group it
/// names, else the account.
fn resource(ev: &Event) -> Resource {
    const KINDS: [(&str, &str); 6] = [
        ("requestParameters.dBInstanceIdentifier", "db_instance"),
        ("requestParameters.dBClusterIdentifier", "db_cluster"),
        ("requestParameters.dBSnapshotIdentifier", "db_snapshot"),
        (
            "requestParameters.dBClusterSnapshotIdentifier",
            "db_cluster_snapshot",
        ),
        ("requestParameters.groupId", "security_group"),
        ("requestParameters.networkAclId", "network_acl"),
    ];
    for (path, kind) in KINDS {
        if let Some(FieldRef::Str(id)) = ev.get(path) {
            return Resource {
                kind: kind.into(),
                id: id.to_string(),
                engine: None,
                ..Default::default()
            };
        }
    }
    let account = match ev.get("recipientAccountId") {
        Some(FieldRef::Str(a)) => a.to_string(),
        _ => String::new(),
    };
    Resource {
        kind: "aws_account".into(),
        id: account,
        engine: None,
        ..Default::default()
    }
}

fn factors(
    p: &PrincipalProfile,
    o: &CallObs<'_>,
    call: Option<&str>,
    j: &super::profile::Judge,
) -> Vec<Factor> {
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
    if let Some((now, usual)) = text_new(&p.agents, Some(&o.agent), j) {
        f.push(Factor::App { now, usual });
    }
    if let Some((now, usual)) = text_new(&p.regions, o.region, j) {
        f.push(Factor::Region { now, usual });
    }
    if let Some(call) = call {
        let made = p.calls.usual(j);
        if !p.calls.any_usual(|c| &**c == call, j) {
            f.push(Factor::Call {
                name: call.to_string(),
                usual: explain::list(made),
            });
        }
    }
    f
}

struct CallObs<'e> {
    t: Secs,
    ip: Option<std::net::IpAddr>,
    net: Option<Net>,
    look: super::Lookup,
    agent: Box<str>,
    region: Option<&'e str>,
}

impl BaselineDetector {
    /// The family of a user agent; the last one is remembered, since a trail repeats
    /// the same few agents.
    fn agent(&mut self, ua: &str) -> Box<str> {
        match &self.agent_cache {
            Some((last, fam)) if last.as_str() == ua => fam.clone(),
            _ => {
                let fam = explain::agent_family(ua);
                if ua.len() <= 1024 {
                    self.agent_cache = Some((ua.to_string(), fam.clone()));
                }
                fam
            }
        }
    }

    pub(super) fn api_call(&mut self, ev: &Event, cx: &mut Context<'_>) {
        if ev.error_code.is_some() {
            return; // a refused call changed nothing and must not become routine
        }
        let Some(arn) = ev.user.as_deref().filter(|u| !u.is_empty()) else {
            return;
        };
        let key = principal_key(arn);
        let o = CallObs {
            t: ev.time.timestamp(),
            ip: ev.client_ip,
            // Calls made by AWS services name a host, not an address: no network.
            net: ev.client_ip.map(Net::of_ip),
            look: self.lookup(ev.client_ip.filter(|ip| is_public(*ip))),
            agent: self.agent(ev.application.as_deref().unwrap_or("")),
            region: match ev.get("awsRegion") {
                Some(FieldRef::Str(r)) if !r.is_empty() => Some(r),
                _ => None,
            },
        };
        let call = sensitive(ev).map(bounded);
        let s = self.s;
        let store = self.store.clone();
        let mut profiles = store.lock();
        let p = profiles.principal(key, o.t);
        if let (Some(call), Some(j)) = (
            &call,
            p.act.judge(o.t, s.settle).filter(|_| !self.learn_only),
        ) {
            let f = factors(p, &o, Some(call), &j);
            let located = f.iter().any(Factor::is_location);
            let tool = f.iter().any(|x| matches!(x, Factor::App { .. }));
            if located || tool {
                let public = o.ip.is_some_and(is_public);
                let extra = f
                    .iter()
                    .filter(|x| matches!(x, Factor::Region { .. } | Factor::Call { .. }))
                    .count();
                let base: f64 = match (located, tool, public) {
                    (true, true, true) => 8.0,
                    (true, false, true) => 7.0,
                    (true, _, false) => 5.0,
                    (false, _, _) => 4.0,
                };
                let sev = Severity::new(base + 0.5 * extra as f64);
                let what = Msg::new("principal-call")
                    .arg("call", capitalize(call))
                    .arg("arn", arn)
                    .arg("factors", Arg::Join(f.iter().map(Factor::msg).collect()));
                let history = Msg::new("principal-history")
                    .arg("principal", key)
                    .arg("calls", p.act.n.to_string())
                    .arg("days", p.act.span_days().to_string());
                let primary = f
                    .iter()
                    .find_map(|x| match x {
                        Factor::Source { net, .. } => Some(format!("net:{net}")),
                        Factor::Country { now, .. } => Some(format!("country:{now}")),
                        _ => None,
                    })
                    .unwrap_or_else(|| format!("agent:{}", o.agent));
                let sev = if !located {
                    sev.min(Severity::new(5.0))
                } else {
                    sev
                };
                let res = resource(ev);
                let raised = cx.findings.raise(Raise {
                    detector: ID,
                    finding_type: IMPACT_TYPE,
                    key: &[key, &primary],
                    severity: sev,
                    resource: res,
                    time: ev.time,
                });
                if raised.count == 0 || sev > raised.severity {
                    raised.severity = sev;
                    let why = Msg::new(if located {
                        "principal-why-located"
                    } else {
                        "principal-why-tool"
                    });
                    let sentence = Msg::new("baseline-sentence").arg("text", what.clone());
                    crate::text::set(
                        raised,
                        FindingText {
                            title: Some(what),
                            description: vec![sentence, history, why],
                            remediation: vec![
                                Msg::new("principal-confirm").arg("principal", key),
                                Msg::new("principal-contain"),
                            ],
                        },
                    );
                    raised.mitre = vec!["T1078".into()];
                }
                raised.absorb(ev);
            }
        }
        p.dirty = true;
        p.act.observe(o.t, &s.calls);
        if let Some(net) = o.net {
            p.nets.observe(|n| *n == net, || net, o.t, caps::NETS);
        }
        if let Some(a) = &o.look.asn {
            p.asns
                .observe(|x| x.n == a.n, || a.clone(), o.t, caps::ASNS);
        }
        if let Some(c) = &o.look.country {
            p.countries
                .observe(|x| x == c, || c.clone(), o.t, caps::COUNTRIES);
        }
        let agent = &o.agent;
        p.agents
            .observe(|x| x == agent, || agent.clone(), o.t, caps::APPS);
        if let Some(r) = o.region {
            p.regions
                .observe(|x| &**x == r, || bounded(r), o.t, caps::REGIONS);
        }
        if let Some(c) = &call {
            p.calls.observe(|x| x == c, || c.clone(), o.t, caps::CALLS);
        }
    }
}
