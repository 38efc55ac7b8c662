//! Can the internet reach the database? RDS.46 (a DB subnet routes to an internet
//! gateway) and keibi's KB.RDS.1, the judgment Prowler makes: an instance is
//! reachable from the internet when all of these hold —
//!
//! 1. it is `PubliclyAccessible` (it has a public address);
//! 2. one of its security groups lets `0.0.0.0/0` or `::/0` in on its port (TCP or
//!    protocol `-1`);
//! 3. one of its subnets routes the same family (`0.0.0.0/0` for an IPv4 opening,
//!    `::/0` for IPv6) to an `igw-` (the subnet's explicitly associated route table,
//!    else its VPC's main table);
//! 4. when the network ACLs were read, that subnet's ACL lets the internet in on the
//!    port in that family.
//!
//! One condition known false is a pass; a condition that cannot be decided from
//! the data (groups, route tables or subnets not read) leaves the instance not
//! evaluated.

use crate::aws::model::*;
use crate::aws::rds::aws;
use crate::aws::{engine_of, net, resource, sh, src, Inventory};
use crate::control::Control;
use crate::outcome::Outcome;

pub const RDS_46: Control = aws(
    "RDS.46",
    "InPublicSubnet",
    7.0,
    "db_instance",
    &["T1190"],
    "pa-rds-46",
);
pub const KB_RDS_1: Control = Control {
    aws_control: false,
    ..aws(
        "KB.RDS.1",
        "ReachableFromInternet",
        9.0,
        "db_instance",
        &["T1190", "T1133"],
        "pa-kb-rds-1",
    )
};

pub fn check(inv: &Inventory, out: &mut Vec<Outcome>) {
    rds_46(inv, out);
    kb_rds_1(inv, out);
}

/// A subnet's way out: the route table and its route to an internet gateway.
#[derive(Debug)]
struct Exit<'a> {
    subnet: &'a str,
    table: &'a RouteTable,
    route: &'a Route,
}

/// The instance's subnets' routes to an internet gateway: `Some(exits)` when every
/// subnet's route table is in the data (empty: none routes to the internet), `None`
/// when the route tables or the subnets are unknown.
fn exits<'a>(inv: &'a Inventory, i: &'a DbInstance) -> Option<Vec<Exit<'a>>> {
    let tables = inv.route_tables.as_deref()?;
    let (subnets, vpc) = net::instance_subnets(i);
    if subnets.is_empty() {
        return None;
    }
    let vpc = vpc.or_else(|| {
        inv.subnets
            .iter()
            .flatten()
            .find(|s| subnets.contains(&s.id.as_str()))
            .and_then(|s| s.vpc_id.as_deref())
    });
    let mut found = Vec::new();
    for s in subnets {
        let table = net::route_table_of(tables, s, vpc)?;
        for route in net::igw_routes(table) {
            found.push(Exit {
                subnet: s,
                table,
                route,
            });
        }
    }
    Some(found)
}

fn instance_outcome(inv: &Inventory, c: &'static Control, i: &DbInstance, ok: bool) -> Outcome {
    Outcome::judged(
        c,
        ok,
        resource(inv, "db_instance", &i.id, engine_of(&i.engine)),
    )
    .arg("qid", sh(&i.id))
}

/// RDS.46: no subnet of the instance's DB subnet group routes to an internet gateway.
fn rds_46(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in inv.db_instances.iter().flatten() {
        let Some(exits) = exits(inv, i) else {
            continue;
        };
        let mut o = instance_outcome(inv, &RDS_46, i, exits.is_empty());
        match exits.first() {
            Some(e) => {
                let dest = net::route_destination(e.route);
                let gw = e.route.gateway_id.as_deref().unwrap_or("-");
                o = o
                    .arg("subnet", e.subnet)
                    .arg("routetable", e.table.id.as_str())
                    .arg("destination", dest)
                    .arg("gateway", gw)
                    .observed(
                        src(inv, "ec2:DescribeRouteTables"),
                        format!("{} (subnet {}): {dest} -> {gw}", e.table.id, e.subnet),
                    );
            }
            None => {
                o = o.observed(
                    src(inv, "ec2:DescribeRouteTables"),
                    "no route from 0.0.0.0/0 or ::/0 to an internet gateway in the DB subnets",
                );
            }
        }
        out.push(o);
    }
}

/// KB.RDS.1: the instance is not reachable from the internet (see the module).
fn kb_rds_1(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in inv.db_instances.iter().flatten() {
        out.extend(reachable(inv, i));
    }
}

fn reachable(inv: &Inventory, i: &DbInstance) -> Option<Outcome> {
    let src_i = src(inv, "rds:DescribeDBInstances");
    if !i.publicly_accessible {
        return Some(
            instance_outcome(inv, &KB_RDS_1, i, true).observed(src_i, "PubliclyAccessible=false"),
        );
    }
    let port = net::instance_port(i)?;
    // 2. A security group path, in each address family.
    let groups = inv.security_groups.as_deref()?;
    let mut all_known = true;
    let mut openings = Vec::new();
    for m in &i.vpc_security_groups {
        match groups.iter().find(|g| g.id == m.id) {
            Some(g) => {
                for v6 in [false, true] {
                    if let Some(o) = net::open_on_family(g, port, Some(v6)) {
                        openings.push((g, o));
                    }
                }
            }
            None => all_known = false,
        }
    }
    if openings.is_empty() {
        return all_known.then(|| {
            instance_outcome(inv, &KB_RDS_1, i, true).observed(
                src(inv, "ec2:DescribeSecurityGroups"),
                format!(
                    "no security group of the instance lets 0.0.0.0/0 or ::/0 in on port {port}"
                ),
            )
        });
    }
    // 3. A route of the same family to an internet gateway, 4. not denied by the
    // subnet's network ACL.
    let exits = exits(inv, i)?;
    let vpc = net::instance_subnets(i).1;
    let allowed_by_acl = |e: &Exit<'_>, v6: bool| match inv.network_acls.as_deref() {
        None => true,
        Some(acls) => match net::acl_of(acls, e.subnet, vpc) {
            Some(acl) => net::acl_allows(acl, port, v6).is_some(),
            None => true,
        },
    };
    let path = openings.iter().find_map(|(g, o)| {
        let v6 = net::is_v6(o.cidr);
        exits
            .iter()
            .find(|e| net::route_is_v6(e.route) == v6 && allowed_by_acl(e, v6))
            .map(|e| (*g, o, e))
    });
    let Some((group, open, exit)) = path else {
        if !all_known {
            return None;
        }
        let fact = if exits.is_empty() {
            "no DB subnet routes 0.0.0.0/0 or ::/0 to an internet gateway"
        } else {
            "no DB subnet routes the open address family to an internet gateway with its network ACL allowing the port"
        };
        return Some(
            instance_outcome(inv, &KB_RDS_1, i, true)
                .observed(src(inv, "ec2:DescribeRouteTables"), fact),
        );
    };
    let dest = net::route_destination(exit.route);
    let gw = exit.route.gateway_id.as_deref().unwrap_or("-");
    let address = i
        .endpoint
        .as_ref()
        .and_then(|e| e.address.as_deref())
        .unwrap_or("-");
    Some(
        instance_outcome(inv, &KB_RDS_1, i, false)
            .arg("port", port.to_string())
            .arg("group", group.id.as_str())
            .arg("cidr", open.cidr)
            .arg("routetable", exit.table.id.as_str())
            .arg("destination", dest)
            .arg("gateway", gw)
            .arg("subnet", exit.subnet)
            .arg("address", address)
            .observed(
                src_i,
                format!("PubliclyAccessible=true, Endpoint={address}:{port}"),
            )
            .observed(
                src(inv, "ec2:DescribeSecurityGroups"),
                format!(
                    "{}: inbound {} ports {} from {}",
                    group.id,
                    open.rule.protocol,
                    open.ports.text(),
                    open.cidr
                ),
            )
            .observed(
                src(inv, "ec2:DescribeRouteTables"),
                format!("{} (subnet {}): {dest} -> {gw}", exit.table.id, exit.subnet),
            ),
    )
}
