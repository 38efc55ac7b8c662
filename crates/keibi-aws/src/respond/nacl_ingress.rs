//! `revoke_ingress` on a network ACL: the ACL's own ingress **allow** entries that
//! open the finding's port (or range, or `all`) to exactly its CIDR are deleted —
//! what the CloudTrail detector reports when CreateNetworkAclEntry or
//! ReplaceNetworkAclEntry opens a database port to the internet.
//!
//! An entry matches when it is an ingress allow for that CIDR (IPv4 or IPv6,
//! compared as networks) of every protocol (`-1`), or of TCP (`6`) with a port
//! range covering the port(s). Deny entries, egress entries, other protocols and
//! other CIDRs are never touched. `prior` holds each matching entry whole (rule
//! number, protocol, ports, CIDR); undo creates again, at the same rule number,
//! each one that is missing, and refuses (leaving it) when that number now holds
//! another entry.

use ipnet::IpNet;
use keibi_respond::{ExecError, Target};
use serde_json::{json, Value};

use super::{field, ingress_target, param, Aws, IngressTarget as What, EC2_VERSION};
use crate::xml::items;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Allow {
    rule: u16,
    /// `-1` or `6`.
    protocol: String,
    /// The port range (TCP only).
    ports: Option<(u16, u16)>,
    cidr: IpNet,
}

impl Allow {
    fn to_json(&self) -> Value {
        json!({
            "rule": self.rule,
            "protocol": self.protocol,
            "from": self.ports.map(|p| p.0),
            "to": self.ports.map(|p| p.1),
            "cidr": self.cidr.to_string(),
        })
    }

    fn from_json(v: &Value) -> Option<Allow> {
        let protocol = v["protocol"].as_str()?;
        let port = |k: &str| v[k].as_u64().and_then(|p| u16::try_from(p).ok());
        let ports = match protocol {
            "-1" => None,
            "6" => Some((port("from")?, port("to")?)),
            _ => return None,
        };
        Some(Allow {
            rule: u16::try_from(v["rule"].as_u64()?).ok()?,
            protocol: protocol.to_string(),
            ports,
            cidr: v["cidr"].as_str()?.parse::<IpNet>().ok()?.trunc(),
        })
    }
}

/// Whether an allow entry opens the target's ports to its CIDR.
fn opens(a: &Allow, w: &What) -> bool {
    a.cidr == w.cidr
        && match a.ports {
            None => a.protocol == "-1",
            Some((from, to)) => from <= w.ports.0 && to >= w.ports.1,
        }
}

pub(super) async fn prepare(aws: &Aws<'_>, t: &Target) -> Result<Value, ExecError> {
    let w = ingress_target(aws, t, "network_acl", "acl", "network ACL", "network ACL").await?;
    let (allows, _) = ingress(aws, &w).await?;
    let entries: Vec<Value> = allows
        .iter()
        .filter(|a| opens(a, &w))
        .map(Allow::to_json)
        .collect();
    Ok(json!({ "region": w.region, "acl": w.resource, "entries": entries }))
}

pub(super) async fn apply(aws: &Aws<'_>, t: &Target, prior: &Value) -> Result<Value, ExecError> {
    let w = ingress_target(aws, t, "network_acl", "acl", "network ACL", "network ACL").await?;
    let mut removed: Vec<Allow> = recorded(&prior["entries"], &w);
    let (now, _) = ingress(aws, &w).await?;
    for a in now.iter().filter(|a| opens(a, &w)) {
        let params = [
            param("NetworkAclId", &w.resource),
            param("RuleNumber", a.rule.to_string()),
            param("Egress", "false"),
        ];
        match aws
            .try_call(
                "ec2",
                &w.region,
                EC2_VERSION,
                "DeleteNetworkAclEntry",
                &params,
            )
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                return Err(super::failed(
                    &format!("EC2 DeleteNetworkAclEntry {} rule {}", w.resource, a.rule),
                    &e,
                ))
            }
        }
        if !removed.contains(a) {
            removed.push(a.clone());
        }
    }
    Ok(json!({
        "region": w.region,
        "acl": w.resource,
        "removed": removed.iter().map(Allow::to_json).collect::<Vec<_>>(),
    }))
}

pub(super) async fn undo(
    aws: &Aws<'_>,
    t: &Target,
    _prior: &Value,
    done: &Value,
) -> Result<(), ExecError> {
    let w = ingress_target(aws, t, "network_acl", "acl", "network ACL", "network ACL").await?;
    if field(done, "acl", "revoke_ingress")? != w.resource {
        return Err(ExecError::Permanent(
            "revoke_ingress: the journal's record is of another network ACL".into(),
        ));
    }
    let (allows, taken) = ingress(aws, &w).await?;
    for a in recorded(&done["removed"], &w) {
        if allows.contains(&a) {
            continue;
        }
        if taken.contains(&a.rule) {
            return Err(ExecError::Permanent(format!(
                "network ACL {}: ingress rule {} now holds another entry; keibi does not replace it (the allow of {} was not put back)",
                w.resource, a.rule, a.cidr
            )));
        }
        let cidr_param = match a.cidr {
            IpNet::V4(_) => "CidrBlock",
            IpNet::V6(_) => "Ipv6CidrBlock",
        };
        let mut params = vec![
            param("NetworkAclId", &w.resource),
            param("RuleNumber", a.rule.to_string()),
            param("Protocol", &a.protocol),
            param("RuleAction", "allow"),
            param("Egress", "false"),
            param(cidr_param, a.cidr.to_string()),
        ];
        if let Some((from, to)) = a.ports {
            params.push(param("PortRange.From", from.to_string()));
            params.push(param("PortRange.To", to.to_string()));
        }
        aws.call(
            "ec2",
            &w.region,
            EC2_VERSION,
            "CreateNetworkAclEntry",
            &params,
            &format!(
                "EC2 CreateNetworkAclEntry {} rule {} allow {}",
                w.resource, a.rule, a.cidr
            ),
        )
        .await?;
    }
    Ok(())
}

/// The entries a journal value records (only those that match the target: a row
/// edited by hand cannot make keibi create or delete anything else).
fn recorded(v: &Value, w: &What) -> Vec<Allow> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Allow::from_json)
        .filter(|a| opens(a, w))
        .collect()
}

/// The ACL's ingress allow entries of every protocol or TCP, and every ingress
/// rule number in use.
async fn ingress(aws: &Aws<'_>, w: &What) -> Result<(Vec<Allow>, Vec<u16>), ExecError> {
    let v = aws
        .call(
            "ec2",
            &w.region,
            EC2_VERSION,
            "DescribeNetworkAcls",
            &[param("NetworkAclId.1", &w.resource)],
            &format!("EC2 DescribeNetworkAcls {}", w.resource),
        )
        .await?;
    let acls = items(&v["NetworkAclSet"]);
    let Some(acl) = acls
        .iter()
        .find(|a| a["NetworkAclId"].as_str() == Some(w.resource.as_str()))
    else {
        return Err(ExecError::Permanent(format!(
            "EC2 DescribeNetworkAcls {}: no such network ACL",
            w.resource
        )));
    };
    let mut allows = Vec::new();
    let mut taken = Vec::new();
    for e in items(&acl["EntrySet"]) {
        if super::flag(&e["Egress"]) != Some(false) {
            continue;
        }
        let Some(rule) = e["RuleNumber"]
            .as_str()
            .and_then(|r| r.trim().parse::<u16>().ok())
        else {
            continue;
        };
        taken.push(rule);
        if e["RuleAction"].as_str() != Some("allow") {
            continue;
        }
        let cidr = e["CidrBlock"]
            .as_str()
            .or_else(|| e["Ipv6CidrBlock"].as_str())
            .and_then(|c| c.trim().parse::<IpNet>().ok());
        let Some(cidr) = cidr else { continue };
        let protocol = match e["Protocol"].as_str().map(str::trim) {
            Some("-1") | Some("all") => "-1",
            Some("6") | Some("tcp") => "6",
            _ => continue,
        };
        let port = |k: &str| {
            e["PortRange"][k]
                .as_str()
                .and_then(|p| p.trim().parse::<u16>().ok())
        };
        let ports = match protocol {
            // A TCP entry always has its range; one read without it is left alone.
            "6" => match (port("From"), port("To")) {
                (Some(from), Some(to)) => Some((from, to)),
                _ => continue,
            },
            _ => None,
        };
        allows.push(Allow {
            rule,
            protocol: protocol.to_string(),
            ports,
            cidr: cidr.trunc(),
        });
    }
    Ok((allows, taken))
}
