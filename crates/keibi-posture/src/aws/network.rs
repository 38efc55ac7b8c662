//! Security groups and network ACLs in front of the databases.
//!
//! What EC2.18 and EC2.19 mean here (Security Hub's are about every port; keibi
//! restricts them to databases):
//!
//! * **EC2.19** (Critical): a security group, any of them, lets `0.0.0.0/0` or `::/0`
//!   reach a database port over TCP (a TCP rule whose range covers it, or protocol
//!   `-1`). Database ports are the engines' standard ports
//!   ([`net::STANDARD_DB_PORTS`]) and every port an instance or cluster of the
//!   inventory listens on.
//! * **EC2.18** (High): a security group attached to a DB instance or cluster lets
//!   `0.0.0.0/0` or `::/0` in on a TCP or UDP port other than the database's own
//!   (SSH, a web console, `-1`): the database's host is reachable beyond its port.
//!   Evaluated only when the instances or clusters were read (to know which groups
//!   are attached).
//! * **EC2.2** (High): a VPC's default security group has any inbound or outbound
//!   rule.
//! * **KB.NACL.1** (Medium; AWS has no such control, EC2.21 covers 22 and 3389
//!   only): a network ACL lets the internet in to a database port: among its inbound
//!   entries for `0.0.0.0/0` or `::/0`, in rule-number order, the first that matches
//!   the port allows it. Only the ACLs of the DB subnets are judged, or all when the
//!   instances' subnet groups are unknown.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::model::*;
use crate::aws::rds::aws;
use crate::aws::{net, resource, sh, src, Inventory};
use crate::control::Control;
use crate::outcome::Outcome;

pub const EC2_2: Control = aws(
    "EC2.2",
    "DefaultSecurityGroupOpen",
    7.0,
    "security_group",
    &["T1133"],
    "pa-ec2-2",
);
pub const EC2_18: Control = aws(
    "EC2.18",
    "DbSecurityGroupOpenBeyondDbPort",
    7.0,
    "security_group",
    &["T1190", "T1133"],
    "pa-ec2-18",
);
pub const EC2_19: Control = aws(
    "EC2.19",
    "DbPortOpenToInternet",
    9.0,
    "security_group",
    &["T1190", "T1133"],
    "pa-ec2-19",
);
pub const NACL_1: Control = Control {
    aws_control: false,
    ..aws(
        "KB.NACL.1",
        "NetworkAclOpenToDbPort",
        5.0,
        "network_acl",
        &["T1190", "T1133"],
        "pa-nacl-1",
    )
};

pub fn check(inv: &Inventory, out: &mut Vec<Outcome>) {
    ec2_2(inv, out);
    ec2_18(inv, out);
    ec2_19(inv, out);
    nacl_1(inv, out);
}

const SGS: &str = "ec2:DescribeSecurityGroups";

fn sg_outcome(inv: &Inventory, c: &'static Control, sg: &SecurityGroup, ok: bool) -> Outcome {
    let mut r = resource(inv, "security_group", &sg.id, None);
    if r.account.is_none() {
        r.account = sg.owner.clone();
    }
    Outcome::judged(c, ok, r)
        .arg("qid", sh(&sg.id))
        .arg("name", sg.name.as_deref().unwrap_or("-"))
}

/// EC2.2: the default security group allows nothing.
fn ec2_2(inv: &Inventory, out: &mut Vec<Outcome>) {
    for sg in inv.security_groups.iter().flatten() {
        if sg.name.as_deref() != Some("default") {
            continue;
        }
        let rules = sg.ingress.len() + sg.egress.len();
        out.push(
            sg_outcome(inv, &EC2_2, sg, rules == 0)
                .arg("inbound", sg.ingress.len())
                .arg("outbound", sg.egress.len())
                .observed(
                    src(inv, SGS),
                    format!(
                        "IpPermissions: {} rules, IpPermissionsEgress: {} rules",
                        sg.ingress.len(),
                        sg.egress.len()
                    ),
                ),
        );
    }
}

/// EC2.19: no security group opens a database port to the internet.
fn ec2_19(inv: &Inventory, out: &mut Vec<Outcome>) {
    let Some(groups) = inv.security_groups.as_ref() else {
        return;
    };
    let ports = net::db_ports(inv);
    for sg in groups {
        let open = net::open_on_any(sg, &ports);
        let mut o = sg_outcome(inv, &EC2_19, sg, open.is_none());
        match open {
            Some((port, op)) => {
                o = o
                    .arg("port", port.to_string())
                    .arg("ports", op.ports.text())
                    .arg(
                        "same",
                        if op.ports.text() == port.to_string() {
                            "yes"
                        } else {
                            "no"
                        },
                    )
                    .arg("cidr", op.cidr)
                    .arg(
                        "permission",
                        net::permission_shorthand(op.rule, Some(op.ports), op.cidr),
                    )
                    .observed(
                        src(inv, SGS),
                        format!(
                            "inbound {} ports {} from {} (database port {port})",
                            op.rule.protocol,
                            op.ports.text(),
                            op.cidr
                        ),
                    );
            }
            None => {
                o = o.observed(
                    src(inv, SGS),
                    format!(
                        "no inbound rule from 0.0.0.0/0 or ::/0 to {} database ports",
                        ports.len()
                    ),
                );
            }
        }
        out.push(o);
    }
}

/// The security groups attached to DB instances and clusters, with the ports of
/// the databases behind each and their names.
fn attached(inv: &Inventory) -> BTreeMap<&str, (BTreeSet<u16>, Vec<&str>)> {
    let mut m: BTreeMap<&str, (BTreeSet<u16>, Vec<&str>)> = BTreeMap::new();
    for i in inv.db_instances.iter().flatten() {
        for g in &i.vpc_security_groups {
            let e = m.entry(g.id.as_str()).or_default();
            e.0.extend(net::instance_port(i));
            e.1.push(i.id.as_str());
        }
    }
    for k in inv.db_clusters.iter().flatten() {
        for g in &k.vpc_security_groups {
            let e = m.entry(g.id.as_str()).or_default();
            e.0.extend(k.port.and_then(|p| u16::try_from(p).ok()));
            e.1.push(k.id.as_str());
        }
    }
    m
}

/// EC2.18: a database's security group opens nothing but the database's port to
/// the internet.
fn ec2_18(inv: &Inventory, out: &mut Vec<Outcome>) {
    let Some(groups) = inv.security_groups.as_ref() else {
        return;
    };
    if inv.db_instances.is_none() && inv.db_clusters.is_none() {
        return;
    }
    let attached = attached(inv);
    for sg in groups {
        let Some((db_ports, dbs)) = attached.get(sg.id.as_str()) else {
            continue;
        };
        // A rule is beyond the database when its range holds a port that is not one
        // of the databases' (a TCP range 5432-5432 for a 5432 database is not).
        let beyond = sg.ingress.iter().find_map(|r| {
            let ports = net::any_ports(r)?;
            let only_db = ports.from == ports.to && db_ports.contains(&ports.from);
            let tcp_db_only = net::tcp_ports(r).is_some() && only_db;
            if tcp_db_only {
                return None;
            }
            net::open_cidrs(r).first().map(|c| (r, ports, *c))
        });
        let mut names: Vec<&str> = dbs.clone();
        names.dedup();
        let db_ports_text: Vec<String> = db_ports.iter().map(u16::to_string).collect();
        let mut o = sg_outcome(inv, &EC2_18, sg, beyond.is_none())
            .arg("databases", names.join(", "))
            .arg(
                "dbports",
                if db_ports_text.is_empty() {
                    "-".to_string()
                } else {
                    db_ports_text.join(", ")
                },
            );
        match beyond {
            Some((rule, ports, cidr)) => {
                let proto = rule.protocol.trim().to_string();
                o = o
                    .arg("ports", ports.text())
                    .arg("cidr", cidr)
                    .arg(
                        "permission",
                        net::permission_shorthand(rule, Some(ports), cidr),
                    )
                    .observed(
                        src(inv, SGS),
                        format!("inbound {proto} ports {} from {cidr}", ports.text()),
                    );
            }
            None => {
                o = o.observed(
                    src(inv, SGS),
                    "no inbound rule from 0.0.0.0/0 or ::/0 beyond the database port".to_string(),
                );
            }
        }
        out.push(o);
    }
}

/// The subnets of the DB subnet groups; `None` when no instance says.
fn db_subnets(inv: &Inventory) -> Option<BTreeSet<&str>> {
    let set: BTreeSet<&str> = inv
        .db_instances
        .iter()
        .flatten()
        .flat_map(|i| net::instance_subnets(i).0)
        .collect();
    (!set.is_empty()).then_some(set)
}

/// KB.NACL.1: the network ACLs of the DB subnets do not let the internet in to a
/// database port.
fn nacl_1(inv: &Inventory, out: &mut Vec<Outcome>) {
    let Some(acls) = inv.network_acls.as_ref() else {
        return;
    };
    let ports = net::db_ports(inv);
    let subnets = db_subnets(inv);
    for acl in acls {
        if let Some(s) = &subnets {
            let serves_db = acl
                .associations
                .iter()
                .any(|a| a.subnet_id.as_deref().is_some_and(|id| s.contains(id)));
            if !serves_db {
                continue;
            }
        }
        let open = net::acl_open(acl, &ports);
        let mut r = resource(inv, "network_acl", &acl.id, None);
        if r.account.is_none() {
            r.account = acl.owner.clone();
        }
        let mut o = Outcome::judged(&NACL_1, open.is_none(), r).arg("qid", sh(&acl.id));
        match open {
            Some((port, e, cidr)) => {
                let rule = e.rule_number.unwrap_or(0);
                o = o
                    .arg("port", port.to_string())
                    .arg("rule", rule.to_string())
                    .arg("cidr", cidr)
                    .arg(
                        "cidrflag",
                        if cidr.contains(':') {
                            "--ipv6-cidr-block"
                        } else {
                            "--cidr-block"
                        },
                    )
                    .observed(
                        src(inv, "ec2:DescribeNetworkAcls"),
                        format!(
                            "inbound rule {rule}: {} protocol {} from {cidr} (database port {port})",
                            e.action, e.protocol
                        ),
                    );
            }
            None => {
                o = o.observed(
                    src(inv, "ec2:DescribeNetworkAcls"),
                    "no inbound entry lets 0.0.0.0/0 or ::/0 reach a database port".to_string(),
                );
            }
        }
        out.push(o);
    }
}
