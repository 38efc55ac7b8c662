//! `block_address` on AWS: an ingress deny entry for the address in the network
//! ACLs of the database's subnets.
//!
//! Why network ACLs: a security group can only allow, so it cannot shut out one
//! address while the rest of the world (or a wide office range) stays allowed; a
//! network ACL's entries are evaluated in rule-number order, the first match wins,
//! and an entry can deny. keibi's entries take the lowest free number inside
//! `respond.aws.nacl_rule_numbers`, so **that range must sit below the ACL's own
//! allow rules** (AWS's default ACL allows everything at 100; the default range is
//! 1-50): a deny numbered after an allow that covers the address would never be
//! reached. keibi checks this and refuses such a block instead of reporting one
//! that does nothing. Entries outside the range are never created, changed or
//! deleted, and undo deletes only the entries keibi created (the rule number and
//! the range recorded in `done` both match); an entry for the address that was
//! already in the range is reused and left alone.
//!
//! The ACLs: DescribeDBInstances gives the instance's subnet group, and
//! DescribeNetworkAcls with the `association.subnet-id` filter the ACL of each
//! subnet; a target with no instance uses `respond.aws.network_acls`.

use ipnet::IpNet;
use keibi_respond::{ExecError, Kind, Target};
use serde_json::{json, Value};

use super::ids::{self, quoted};
use super::{field, list_params, param, wrong, Aws, EC2_VERSION, RDS_VERSION};
use crate::xml::items;

/// Addresses wider than these are refused: a block that would shut out a large
/// part of the internet (or all of it) is never an attacker's address.
const WIDEST_V4: u8 = 8;
const WIDEST_V6: u8 = 32;

/// Creating an entry is retried this often when another writer took the number.
const CREATE_TRIES: usize = 3;

/// One entry of an ACL, as DescribeNetworkAcls gives it.
#[derive(Debug, Clone)]
struct Entry {
    rule: u16,
    egress: bool,
    deny: bool,
    all_protocols: bool,
    cidr: Option<IpNet>,
}

fn target_parts(
    t: &Target,
) -> Result<(IpNet, Option<&str>, Option<&keibi_respond::Place>), ExecError> {
    match t {
        Target::BlockAddress {
            address,
            instance,
            place,
        } => Ok((address.trunc(), instance.as_deref(), Some(place))),
        _ => Err(wrong(t, Kind::BlockAddress)),
    }
}

fn check_width(net: &IpNet) -> Result<(), ExecError> {
    let widest = match net {
        IpNet::V4(_) => WIDEST_V4,
        IpNet::V6(_) => WIDEST_V6,
    };
    if net.prefix_len() < widest {
        return Err(ExecError::Permanent(format!(
            "{net} is wider than /{widest}: keibi does not block ranges that large"
        )));
    }
    Ok(())
}

pub(super) async fn prepare(aws: &Aws<'_>, t: &Target) -> Result<Value, ExecError> {
    let (net, instance, place) = target_parts(t)?;
    check_width(&net)?;
    let db = match instance {
        Some(i) => Some(ids::rds_resource(i, "db").ok_or_else(|| {
            ExecError::Permanent(format!("{} is not an RDS instance name", quoted(i)))
        })?),
        None => None,
    };
    let region = aws.region(db.as_ref().and_then(|d| d.region.as_deref()), place)?;
    let account = db
        .as_ref()
        .and_then(|d| d.account.clone())
        .or_else(|| place.and_then(|p| p.account.clone()));
    aws.same_account(&region, account.as_deref()).await?;
    let acls = match &db {
        Some(d) => acls_of_instance(aws, &region, &d.name).await?,
        None => aws.cfg().network_acls.clone(),
    };
    if acls.is_empty() {
        return Err(ExecError::Permanent(
            "no network ACL to block in: set respond.aws.network_acls".into(),
        ));
    }
    let mut out = Vec::new();
    for acl in &acls {
        let entries = entries(aws, &region, acl).await?;
        let existing = ours_or_existing(&entries, &net, aws);
        out.push(json!({ "acl": acl, "existing": existing }));
    }
    Ok(json!({ "region": region, "cidr": net.to_string(), "acls": out }))
}

pub(super) async fn apply(aws: &Aws<'_>, t: &Target, prior: &Value) -> Result<Value, ExecError> {
    let (net, _, _) = target_parts(t)?;
    check_width(&net)?;
    let region = recorded_region(prior)?;
    check_prior_cidr(prior, &net)?;
    let mut done: Vec<Value> = Vec::new();
    for a in prior["acls"].as_array().into_iter().flatten() {
        let acl = field(a, "acl", "block_address")?;
        if !ids::is_ec2_id(acl, "acl") {
            return Err(ExecError::Permanent(format!(
                "{} is not a network ACL id",
                quoted(acl)
            )));
        }
        let existing = a["existing"].as_u64();
        match entry_in(aws, &region, acl, &net).await {
            Ok(rule) => done.push(json!({
                "acl": acl,
                "rule": rule,
                "created": existing != Some(u64::from(rule)),
            })),
            Err(e) => {
                // Nothing half-done stays behind a failure that will not pass: the
                // entries made so far are taken out again.
                if !e.is_transient() {
                    rollback(aws, &region, &net, &done).await;
                }
                return Err(e);
            }
        }
    }
    let range = &aws.cfg().nacl_rules;
    Ok(json!({
        "region": region,
        "cidr": net.to_string(),
        "range": [range.start(), range.end()],
        "entries": done,
    }))
}

pub(super) async fn undo(
    aws: &Aws<'_>,
    t: &Target,
    _prior: &Value,
    done: &Value,
) -> Result<(), ExecError> {
    let (net, _, _) = target_parts(t)?;
    let region = recorded_region(done)?;
    check_prior_cidr(done, &net)?;
    // The range the entries were made in (the setting may have changed since).
    let n = |i: usize| {
        done["range"][i]
            .as_u64()
            .and_then(|r| u16::try_from(r).ok())
    };
    let (Some(first), Some(last)) = (n(0), n(1)) else {
        return Err(ExecError::Permanent(
            "block_address: the journal's record has no rule range".into(),
        ));
    };
    for e in done["entries"].as_array().into_iter().flatten() {
        if e["created"].as_bool() != Some(true) {
            continue;
        }
        let acl = field(e, "acl", "block_address")?;
        let Some(rule) = e["rule"].as_u64().and_then(|r| u16::try_from(r).ok()) else {
            continue;
        };
        if !ids::is_ec2_id(acl, "acl") || !(first..=last).contains(&rule) {
            continue;
        }
        delete_if_ours(aws, &region, acl, rule, &net).await?;
    }
    Ok(())
}

fn recorded_region(v: &Value) -> Result<String, ExecError> {
    let r = field(v, "region", "block_address")?;
    if !crate::signed::is_region(r) {
        return Err(ExecError::Permanent(format!(
            "block_address: the journal records {} as the region",
            quoted(r)
        )));
    }
    Ok(r.to_string())
}

/// The recorded address is the target's (a journal row edited by hand is refused).
fn check_prior_cidr(v: &Value, net: &IpNet) -> Result<(), ExecError> {
    let recorded = field(v, "cidr", "block_address")?;
    if recorded.parse::<IpNet>().ok().map(|n| n.trunc()) != Some(*net) {
        return Err(ExecError::Permanent(format!(
            "block_address: the journal records {} for a block of {net}",
            quoted(recorded)
        )));
    }
    Ok(())
}

/// The deny entry for `net` in keibi's range, made if missing; its rule number.
async fn entry_in(aws: &Aws<'_>, region: &str, acl: &str, net: &IpNet) -> Result<u16, ExecError> {
    let range = aws.cfg().nacl_rules.clone();
    for _ in 0..CREATE_TRIES {
        let entries = entries(aws, region, acl).await?;
        if let Some(rule) = ours_or_existing(&entries, net, aws) {
            return Ok(rule);
        }
        let used: Vec<u16> = entries
            .iter()
            .filter(|e| !e.egress)
            .map(|e| e.rule)
            .collect();
        let Some(rule) = range.clone().find(|n| !used.contains(n)) else {
            return Err(ExecError::Permanent(format!(
                "network ACL {acl} has no free ingress rule number in {}-{} for a deny entry of {net}; widen respond.aws.nacl_rule_numbers or remove old entries",
                range.start(),
                range.end()
            )));
        };
        if let Some(allow) = entries.iter().find(|e| {
            !e.egress && !e.deny && e.rule < rule && e.cidr.is_some_and(|c| c.contains(net))
        }) {
            return Err(ExecError::Permanent(format!(
                "network ACL {acl} allows {} at rule {}, before keibi's free rule {rule}: a deny entry there would never be reached; set respond.aws.nacl_rule_numbers below the ACL's allow rules",
                allow.cidr.map(|c| c.to_string()).unwrap_or_default(),
                allow.rule
            )));
        }
        let cidr_param = match net {
            IpNet::V4(_) => "CidrBlock",
            IpNet::V6(_) => "Ipv6CidrBlock",
        };
        let params = vec![
            param("NetworkAclId", acl),
            param("RuleNumber", rule.to_string()),
            param("Protocol", "-1"),
            param("RuleAction", "deny"),
            param("Egress", "false"),
            param(cidr_param, net.to_string()),
        ];
        match aws
            .try_call("ec2", region, EC2_VERSION, "CreateNetworkAclEntry", &params)
            .await
        {
            Ok(_) => return Ok(rule),
            // Another writer took the number between the read and the write.
            Err(e) if e.code() == Some("NetworkAclEntryAlreadyExists") => continue,
            Err(e) => {
                return Err(super::failed(
                    &format!("EC2 CreateNetworkAclEntry {acl} rule {rule} {net}"),
                    &e,
                ))
            }
        }
    }
    Err(ExecError::Transient(format!(
        "network ACL {acl}: every free rule number was taken while keibi wrote its entry"
    )))
}

/// The ingress deny entry of all protocols for exactly `net` inside keibi's range.
fn ours_or_existing(entries: &[Entry], net: &IpNet, aws: &Aws<'_>) -> Option<u16> {
    let range = &aws.cfg().nacl_rules;
    entries
        .iter()
        .filter(|e| {
            !e.egress
                && e.deny
                && e.all_protocols
                && range.contains(&e.rule)
                && e.cidr == Some(*net)
        })
        .map(|e| e.rule)
        .min()
}

async fn rollback(aws: &Aws<'_>, region: &str, net: &IpNet, done: &[Value]) {
    for d in done {
        if d["created"].as_bool() != Some(true) {
            continue;
        }
        if let (Some(acl), Some(rule)) = (
            d["acl"].as_str(),
            d["rule"].as_u64().and_then(|r| u16::try_from(r).ok()),
        ) {
            let _ = delete_if_ours(aws, region, acl, rule, net).await;
        }
    }
}

/// Deletes ingress entry `rule` of `acl` only if it is still the deny of `net`.
async fn delete_if_ours(
    aws: &Aws<'_>,
    region: &str,
    acl: &str,
    rule: u16,
    net: &IpNet,
) -> Result<(), ExecError> {
    // The ACL is gone, and the entry with it.
    let Some(entries) = entries_of(aws, region, acl).await? else {
        return Ok(());
    };
    let still = entries
        .iter()
        .any(|e| !e.egress && e.rule == rule && e.deny && e.cidr == Some(*net));
    if !still {
        return Ok(());
    }
    let params = vec![
        param("NetworkAclId", acl),
        param("RuleNumber", rule.to_string()),
        param("Egress", "false"),
    ];
    match aws
        .try_call("ec2", region, EC2_VERSION, "DeleteNetworkAclEntry", &params)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(super::failed(
            &format!("EC2 DeleteNetworkAclEntry {acl} rule {rule}"),
            &e,
        )),
    }
}

/// The network ACLs of the subnets of an RDS instance's subnet group.
async fn acls_of_instance(
    aws: &Aws<'_>,
    region: &str,
    name: &str,
) -> Result<Vec<String>, ExecError> {
    let v = aws
        .call(
            "rds",
            region,
            RDS_VERSION,
            "DescribeDBInstances",
            &[param("DBInstanceIdentifier", name)],
            &format!("RDS DescribeDBInstances {name}"),
        )
        .await?;
    let dbs = items(&v["DescribeDBInstancesResult"]["DBInstances"]);
    let Some(db) = dbs.first() else {
        return Err(ExecError::Permanent(format!(
            "RDS DescribeDBInstances {name}: no such instance"
        )));
    };
    let subnets: Vec<String> = items(&db["DBSubnetGroup"]["Subnets"])
        .iter()
        .filter_map(|s| s["SubnetIdentifier"].as_str())
        .filter(|s| ids::is_ec2_id(s, "subnet"))
        .map(str::to_string)
        .collect();
    if subnets.is_empty() {
        return Err(ExecError::Permanent(format!(
            "RDS instance {name} has no subnets in a VPC: no network ACL to block in"
        )));
    }
    let mut params = vec![param("Filter.1.Name", "association.subnet-id")];
    params.extend(list_params("Filter.1.Value", &subnets));
    let v = aws
        .call(
            "ec2",
            region,
            EC2_VERSION,
            "DescribeNetworkAcls",
            &params,
            &format!("EC2 DescribeNetworkAcls of the subnets of {name}"),
        )
        .await?;
    let mut acls: Vec<String> = items(&v["NetworkAclSet"])
        .iter()
        .filter_map(|a| a["NetworkAclId"].as_str())
        .filter(|a| ids::is_ec2_id(a, "acl"))
        .map(str::to_string)
        .collect();
    acls.sort();
    acls.dedup();
    if acls.is_empty() {
        return Err(ExecError::Permanent(format!(
            "EC2 DescribeNetworkAcls: no network ACL is associated with the subnets of {name}"
        )));
    }
    Ok(acls)
}

/// The entries of one ACL, which must exist.
async fn entries(aws: &Aws<'_>, region: &str, acl: &str) -> Result<Vec<Entry>, ExecError> {
    entries_of(aws, region, acl).await?.ok_or_else(|| {
        ExecError::Permanent(format!(
            "EC2 DescribeNetworkAcls {acl}: no such network ACL"
        ))
    })
}

/// The entries of one ACL, `None` when there is no such ACL.
async fn entries_of(
    aws: &Aws<'_>,
    region: &str,
    acl: &str,
) -> Result<Option<Vec<Entry>>, ExecError> {
    let params = [param("NetworkAclId.1", acl)];
    let v = match aws
        .try_call("ec2", region, EC2_VERSION, "DescribeNetworkAcls", &params)
        .await
    {
        Ok(v) => v,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(super::failed(&format!("EC2 DescribeNetworkAcls {acl}"), &e)),
    };
    let acls = items(&v["NetworkAclSet"]);
    let Some(a) = acls
        .iter()
        .find(|a| a["NetworkAclId"].as_str() == Some(acl))
    else {
        return Ok(None);
    };
    Ok(Some(
        items(&a["EntrySet"])
            .iter()
            .filter_map(|e| {
                let rule = e["RuleNumber"].as_str()?.trim().parse::<u16>().ok()?;
                let cidr = e["CidrBlock"]
                    .as_str()
                    .or_else(|| e["Ipv6CidrBlock"].as_str())
                    .and_then(|c| c.trim().parse::<IpNet>().ok())
                    .map(|n| n.trunc());
                Some(Entry {
                    rule,
                    egress: super::flag(&e["Egress"]).unwrap_or(true),
                    deny: e["RuleAction"].as_str() == Some("deny"),
                    all_protocols: e["Protocol"].as_str() == Some("-1"),
                    cidr,
                })
            })
            .collect(),
    ))
}
