//! `revoke_ingress` on a security group: the ingress rules that open the finding's
//! port (or range, or `all`) to exactly its CIDR are revoked by their rule ids.
//!
//! A rule matches when it is an ingress rule for that CIDR (IPv4 or IPv6, compared
//! as networks) whose protocol is TCP with a range covering the port(s), or every
//! protocol (`-1`): that is what opens a database port, and what the detectors
//! report. Rules that name other groups or prefix lists are never touched.
//! DescribeSecurityGroupRules (filter `group-id`) reads them; moto implements the
//! filter, so no DescribeSecurityGroups fallback is needed.
//!
//! `prior` holds each matching rule whole (protocol, ports, CIDR, description);
//! undo authorizes again exactly those that are missing (AWS gives them new rule
//! ids). A rule already gone when apply runs is done.

use ipnet::IpNet;
use keibi_respond::{ExecError, Target};
use serde_json::{json, Value};

use super::ids;
use super::{field, ingress_target, param, Aws, IngressTarget as What, EC2_VERSION};
use crate::xml::items;

/// Pages of rules read at most (a group holds at most a few hundred).
const MAX_PAGES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    id: String,
    protocol: String,
    from: i32,
    to: i32,
    cidr: IpNet,
    description: Option<String>,
}

impl Rule {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "protocol": self.protocol,
            "from": self.from,
            "to": self.to,
            "cidr": self.cidr.to_string(),
            "description": self.description,
        })
    }

    fn from_json(v: &Value) -> Option<Rule> {
        let protocol = v["protocol"].as_str()?;
        // Only what keibi itself matched can come back: TCP or every protocol.
        if !matches!(protocol, "tcp" | "-1") {
            return None;
        }
        Some(Rule {
            id: v["id"].as_str().unwrap_or("").to_string(),
            protocol: protocol.to_string(),
            from: i32::try_from(v["from"].as_i64()?).ok()?,
            to: i32::try_from(v["to"].as_i64()?).ok()?,
            cidr: v["cidr"].as_str()?.parse::<IpNet>().ok()?.trunc(),
            description: v["description"].as_str().map(str::to_string),
        })
    }

    /// The same opening (ids differ once a rule is authorized again).
    fn same(&self, other: &Rule) -> bool {
        self.protocol == other.protocol
            && self.from == other.from
            && self.to == other.to
            && self.cidr == other.cidr
    }
}

/// Whether a rule opens the target's ports to its CIDR.
fn opens(r: &Rule, w: &What) -> bool {
    if r.cidr != w.cidr {
        return false;
    }
    match r.protocol.as_str() {
        "-1" => true,
        "tcp" => {
            let from = if r.from < 0 { 0 } else { r.from };
            let to = if r.to < 0 { 65535 } else { r.to };
            from <= i32::from(w.ports.0) && to >= i32::from(w.ports.1)
        }
        _ => false,
    }
}

pub(super) async fn prepare(aws: &Aws<'_>, t: &Target) -> Result<Value, ExecError> {
    let w = ingress_target(
        aws,
        t,
        "security_group",
        "sg",
        "security group",
        "security-group",
    )
    .await?;
    let rules: Vec<Value> = ingress(aws, &w)
        .await?
        .iter()
        .filter(|r| opens(r, &w))
        .map(Rule::to_json)
        .collect();
    Ok(json!({ "region": w.region, "group": w.resource, "rules": rules }))
}

pub(super) async fn apply(aws: &Aws<'_>, t: &Target, prior: &Value) -> Result<Value, ExecError> {
    let w = ingress_target(
        aws,
        t,
        "security_group",
        "sg",
        "security group",
        "security-group",
    )
    .await?;
    let before: Vec<Rule> = prior["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Rule::from_json)
        .filter(|r| opens(r, &w))
        .collect();
    let now: Vec<Rule> = ingress(aws, &w).await?;
    // Every rule that opens the port now (those of `prior`, and any made since),
    // and the rules of `prior` already gone: undo puts all of them back.
    let mut revoked: Vec<Rule> = before.clone();
    for r in now.iter().filter(|r| opens(r, &w)) {
        revoke(aws, &w, r).await?;
        if !revoked.iter().any(|b| b.same(r)) {
            revoked.push(r.clone());
        }
    }
    Ok(json!({
        "region": w.region,
        "group": w.resource,
        "revoked": revoked.iter().map(Rule::to_json).collect::<Vec<_>>(),
    }))
}

pub(super) async fn undo(
    aws: &Aws<'_>,
    t: &Target,
    _prior: &Value,
    done: &Value,
) -> Result<(), ExecError> {
    let w = ingress_target(
        aws,
        t,
        "security_group",
        "sg",
        "security group",
        "security-group",
    )
    .await?;
    if field(done, "group", "revoke_ingress")? != w.resource {
        return Err(ExecError::Permanent(
            "revoke_ingress: the journal's record is of another group".into(),
        ));
    }
    let now = ingress(aws, &w).await?;
    for r in done["revoked"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Rule::from_json)
        .filter(|r| opens(r, &w))
    {
        if now.iter().any(|n| n.same(&r)) {
            continue;
        }
        authorize(aws, &w, &r).await?;
    }
    Ok(())
}

async fn revoke(aws: &Aws<'_>, w: &What, r: &Rule) -> Result<(), ExecError> {
    let params = vec![
        param("GroupId", &w.resource),
        param("SecurityGroupRuleId.1", &r.id),
    ];
    match aws
        .try_call(
            "ec2",
            &w.region,
            EC2_VERSION,
            "RevokeSecurityGroupIngress",
            &params,
        )
        .await
    {
        Ok(_) => Ok(()),
        // Already gone: done.
        Err(e) if e.code() == Some("InvalidPermission.NotFound") => Ok(()),
        Err(e) => Err(super::failed(
            &format!("EC2 RevokeSecurityGroupIngress {} {}", w.resource, r.id),
            &e,
        )),
    }
}

async fn authorize(aws: &Aws<'_>, w: &What, r: &Rule) -> Result<(), ExecError> {
    let p = "IpPermissions.1";
    let mut params = vec![
        param("GroupId", &w.resource),
        param(&format!("{p}.IpProtocol"), &r.protocol),
    ];
    if r.protocol != "-1" {
        params.push(param(&format!("{p}.FromPort"), r.from.to_string()));
        params.push(param(&format!("{p}.ToPort"), r.to.to_string()));
    }
    let (list, key) = match r.cidr {
        IpNet::V4(_) => ("IpRanges", "CidrIp"),
        IpNet::V6(_) => ("Ipv6Ranges", "CidrIpv6"),
    };
    params.push(param(&format!("{p}.{list}.1.{key}"), r.cidr.to_string()));
    if let Some(d) = r.description.as_deref().filter(|d| !d.is_empty()) {
        params.push(param(&format!("{p}.{list}.1.Description"), d));
    }
    match aws
        .try_call(
            "ec2",
            &w.region,
            EC2_VERSION,
            "AuthorizeSecurityGroupIngress",
            &params,
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("InvalidPermission.Duplicate") => Ok(()),
        Err(e) => Err(super::failed(
            &format!(
                "EC2 AuthorizeSecurityGroupIngress {} {} {}-{} {}",
                w.resource, r.protocol, r.from, r.to, r.cidr
            ),
            &e,
        )),
    }
}

/// The group's ingress rules for a CIDR (rules naming groups or prefix lists are
/// left out).
async fn ingress(aws: &Aws<'_>, w: &What) -> Result<Vec<Rule>, ExecError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut params = vec![
            param("Filter.1.Name", "group-id"),
            param("Filter.1.Value.1", &w.resource),
            param("MaxResults", "1000"),
        ];
        if let Some(t) = &token {
            params.push(param("NextToken", t));
        }
        let v = aws
            .call(
                "ec2",
                &w.region,
                EC2_VERSION,
                "DescribeSecurityGroupRules",
                &params,
                &format!("EC2 DescribeSecurityGroupRules {}", w.resource),
            )
            .await?;
        for r in items(&v["SecurityGroupRuleSet"]) {
            if r["GroupId"].as_str() != Some(w.resource.as_str())
                || super::flag(&r["IsEgress"]) != Some(false)
            {
                continue;
            }
            let cidr = r["CidrIpv4"]
                .as_str()
                .or_else(|| r["CidrIpv6"].as_str())
                .and_then(|c| c.trim().parse::<IpNet>().ok());
            let id = r["SecurityGroupRuleId"]
                .as_str()
                .filter(|id| ids::is_ec2_id(id, "sgr"));
            let (Some(cidr), Some(id)) = (cidr, id) else {
                continue;
            };
            let protocol = match r["IpProtocol"].as_str().map(str::trim) {
                Some("6") => "tcp".to_string(),
                Some(p) => p.to_ascii_lowercase(),
                None => continue,
            };
            let num = |k: &str| r[k].as_str().and_then(|s| s.trim().parse::<i32>().ok());
            out.push(Rule {
                id: id.to_string(),
                protocol,
                from: num("FromPort").unwrap_or(-1),
                to: num("ToPort").unwrap_or(-1),
                cidr: cidr.trunc(),
                description: r["Description"].as_str().map(str::to_string),
            });
        }
        match v["NextToken"].as_str().map(str::trim) {
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
    Err(ExecError::Transient(format!(
        "EC2 DescribeSecurityGroupRules {}: more than {MAX_PAGES} pages",
        w.resource
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: &str, from: i32, to: i32, cidr: &str) -> Rule {
        Rule {
            id: "sgr-0123456789abcdef0".into(),
            protocol: protocol.into(),
            from,
            to,
            cidr: cidr.parse().unwrap(),
            description: None,
        }
    }

    #[test]
    fn a_rule_opens_the_port_when_it_covers_it_for_that_cidr() {
        let w = |ports: (u16, u16), cidr: &str| What {
            resource: "sg-0123456789abcdef0".into(),
            ports,
            cidr: cidr.parse().unwrap(),
            region: "us-east-1".into(),
        };
        let pg = w((5432, 5432), "0.0.0.0/0");
        assert!(opens(&rule("tcp", 5432, 5432, "0.0.0.0/0"), &pg));
        assert!(opens(&rule("tcp", 5000, 6000, "0.0.0.0/0"), &pg));
        assert!(opens(&rule("-1", -1, -1, "0.0.0.0/0"), &pg));
        assert!(!opens(&rule("udp", 5432, 5432, "0.0.0.0/0"), &pg));
        assert!(!opens(&rule("tcp", 3306, 3306, "0.0.0.0/0"), &pg));
        assert!(!opens(&rule("tcp", 5432, 5432, "198.51.100.0/24"), &pg));
        let all = w((0, 65535), "::/0");
        assert!(opens(&rule("-1", -1, -1, "::/0"), &all));
        assert!(opens(&rule("tcp", 0, 65535, "::/0"), &all));
        assert!(!opens(&rule("tcp", 5432, 5432, "::/0"), &all));
        // What the journal holds comes back only as TCP or every protocol.
        let j = rule("udp", 1, 2, "0.0.0.0/0").to_json();
        assert_eq!(Rule::from_json(&j), None);
        let j = rule("tcp", 5432, 5432, "0.0.0.0/0").to_json();
        assert_eq!(
            Rule::from_json(&j),
            Some(rule("tcp", 5432, 5432, "0.0.0.0/0"))
        );
    }
}
