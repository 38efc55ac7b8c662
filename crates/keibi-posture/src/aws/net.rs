//! What the network controls share: database ports, "from anywhere" CIDRs, the ports
//! a security group rule opens, the route table of a subnet, and a network ACL's
//! verdict on a port.

use std::collections::BTreeSet;

use ipnet::IpNet;

use crate::aws::model::*;
use crate::aws::Inventory;

/// The standard ports of the database engines: MySQL/MariaDB/Aurora MySQL 3306,
/// PostgreSQL 5432, SQL Server 1433-1434, Oracle 1521 and 2483-2484, MongoDB and
/// DocumentDB 27017-27018, Redis 6379, Redshift 5439, Db2 50000.
pub const STANDARD_DB_PORTS: &[u16] = &[
    1433, 1434, 1521, 2483, 2484, 3306, 5432, 5439, 6379, 27017, 27018, 50000,
];

/// The standard ports plus every port an instance or cluster of the inventory
/// listens on.
pub fn db_ports(inv: &Inventory) -> BTreeSet<u16> {
    let mut ports: BTreeSet<u16> = STANDARD_DB_PORTS.iter().copied().collect();
    ports.extend(inv.db_instances.iter().flatten().filter_map(instance_port));
    ports.extend(
        inv.db_clusters
            .iter()
            .flatten()
            .filter_map(|c| c.port.and_then(port16)),
    );
    ports
}

fn port16(p: i64) -> Option<u16> {
    u16::try_from(p).ok().filter(|p| *p > 0)
}

/// The port an instance listens on: its endpoint's, else `DbInstancePort`.
pub fn instance_port(i: &DbInstance) -> Option<u16> {
    i.endpoint
        .as_ref()
        .and_then(|e| e.port)
        .and_then(port16)
        .or_else(|| i.db_instance_port.and_then(port16))
}

/// `0.0.0.0/0` or `::/0` (any spelling a parser accepts with prefix length 0).
pub fn is_anywhere(cidr: &str) -> bool {
    cidr.trim()
        .parse::<IpNet>()
        .is_ok_and(|n| n.prefix_len() == 0)
}

/// An inclusive port range a rule opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub from: u16,
    pub to: u16,
}

impl Ports {
    pub const ALL: Ports = Ports { from: 0, to: 65535 };

    pub fn contains(&self, p: u16) -> bool {
        self.from <= p && p <= self.to
    }

    pub fn is_all(&self) -> bool {
        self.from == 0 && self.to == 65535
    }

    /// `5432`, `5400-5500`, or `all`.
    pub fn text(&self) -> String {
        if self.is_all() {
            "all".into()
        } else if self.from == self.to {
            self.from.to_string()
        } else {
            format!("{}-{}", self.from, self.to)
        }
    }
}

/// Whether a protocol is TCP (by name or number).
fn is_tcp(p: &str) -> bool {
    let p = p.trim();
    p.eq_ignore_ascii_case("tcp") || p == "6"
}

/// Every protocol: `-1`, `all`.
fn is_all_protocols(p: &str) -> bool {
    let p = p.trim();
    p == "-1" || p.eq_ignore_ascii_case("all")
}

fn range(from: Option<i64>, to: Option<i64>) -> Ports {
    match (from, to) {
        (Some(f), Some(t)) if (0..=65535).contains(&f) && (0..=65535).contains(&t) && f <= t => {
            Ports {
                from: f as u16,
                to: t as u16,
            }
        }
        // A TCP rule without ports (or -1/-1) opens them all.
        _ => Ports::ALL,
    }
}

/// The TCP ports a security group rule opens: all for protocol `-1`; its range for
/// TCP; none for UDP, ICMP and others (databases listen on TCP).
pub fn tcp_ports(p: &IpPermission) -> Option<Ports> {
    if is_all_protocols(&p.protocol) {
        Some(Ports::ALL)
    } else if is_tcp(&p.protocol) {
        Some(range(p.from_port, p.to_port))
    } else {
        None
    }
}

/// The ports a TCP or UDP rule opens (ICMP and others have none).
pub fn any_ports(p: &IpPermission) -> Option<Ports> {
    let proto = p.protocol.trim();
    if is_all_protocols(proto) {
        Some(Ports::ALL)
    } else if is_tcp(proto) || proto.eq_ignore_ascii_case("udp") || proto == "17" {
        Some(range(p.from_port, p.to_port))
    } else {
        None
    }
}

/// The "from anywhere" CIDRs of a rule: `0.0.0.0/0`, `::/0`.
pub fn open_cidrs(p: &IpPermission) -> Vec<&str> {
    p.ip_ranges
        .iter()
        .map(|r| r.cidr.as_str())
        .chain(p.ipv6_ranges.iter().map(|r| r.cidr.as_str()))
        .filter(|c| is_anywhere(c))
        .collect()
}

/// The AWS CLI's `--ip-permissions` shorthand for revoking one rule's open CIDR.
pub fn permission_shorthand(p: &IpPermission, ports: Option<Ports>, cidr: &str) -> String {
    let proto = p.protocol.trim();
    let proto = if is_all_protocols(proto) {
        "-1".to_string()
    } else if !proto.is_empty() && proto.bytes().all(|b| b.is_ascii_alphanumeric()) {
        proto.to_ascii_lowercase()
    } else {
        "unknown".to_string()
    };
    let cidr = cidr.trim();
    let ports = match (proto.as_str(), ports) {
        ("-1", _) | (_, None) => String::new(),
        (_, Some(r)) => format!("FromPort={},ToPort={},", r.from, r.to),
    };
    let range = if cidr.contains(':') {
        format!("Ipv6Ranges=[{{CidrIpv6={cidr}}}]")
    } else {
        format!("IpRanges=[{{CidrIp={cidr}}}]")
    };
    format!("IpProtocol={proto},{ports}{range}")
}

/// A security group rule that lets the whole internet reach `port` over TCP.
#[derive(Debug, Clone, PartialEq)]
pub struct Opening<'a> {
    pub rule: &'a IpPermission,
    pub ports: Ports,
    pub cidr: &'a str,
}

/// The first ingress rule of `sg` open to anywhere on TCP `port`.
pub fn open_on(sg: &SecurityGroup, port: u16) -> Option<Opening<'_>> {
    open_on_family(sg, port, None)
}

/// [`open_on`] from one address family only: `Some(true)` IPv6 (`::/0`),
/// `Some(false)` IPv4 (`0.0.0.0/0`), `None` either.
pub fn open_on_family(sg: &SecurityGroup, port: u16, v6: Option<bool>) -> Option<Opening<'_>> {
    sg.ingress.iter().find_map(|r| {
        let ports = tcp_ports(r)?;
        if !ports.contains(port) {
            return None;
        }
        open_cidrs(r)
            .into_iter()
            .find(|c| v6.is_none_or(|v6| is_v6(c) == v6))
            .map(|cidr| Opening {
                rule: r,
                ports,
                cidr,
            })
    })
}

/// Whether a CIDR is IPv6.
pub fn is_v6(cidr: &str) -> bool {
    cidr.contains(':')
}

/// The route table of a subnet: the one explicitly associated with it, else its
/// VPC's main table. `None` when neither is in the data.
pub fn route_table_of<'a>(
    tables: &'a [RouteTable],
    subnet: &str,
    vpc: Option<&str>,
) -> Option<&'a RouteTable> {
    tables
        .iter()
        .find(|t| {
            t.associations
                .iter()
                .any(|a| a.subnet_id.as_deref() == Some(subnet))
        })
        .or_else(|| {
            let vpc = vpc?;
            tables
                .iter()
                .find(|t| t.vpc_id.as_deref() == Some(vpc) && t.associations.iter().any(|a| a.main))
        })
}

/// The routes from anywhere to an internet gateway (`0.0.0.0/0` or `::/0` →
/// `igw-…`, not a blackhole).
pub fn igw_routes(t: &RouteTable) -> Vec<&Route> {
    t.routes
        .iter()
        .filter(|r| {
            let to_igw = r
                .gateway_id
                .as_deref()
                .is_some_and(|g| g.starts_with("igw-"));
            let anywhere = r.destination.as_deref().is_some_and(is_anywhere)
                || r.destination_ipv6.as_deref().is_some_and(is_anywhere);
            let active = !r
                .state
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("blackhole"));
            to_igw && anywhere && active
        })
        .collect()
}

/// The first of [`igw_routes`].
pub fn igw_route(t: &RouteTable) -> Option<&Route> {
    igw_routes(t).into_iter().next()
}

/// Whether a route from anywhere is IPv6 (`::/0`).
pub fn route_is_v6(r: &Route) -> bool {
    !r.destination.as_deref().is_some_and(is_anywhere)
}

/// `0.0.0.0/0` or `::/0` of a route.
pub fn route_destination(r: &Route) -> &str {
    r.destination
        .as_deref()
        .filter(|d| is_anywhere(d))
        .or(r.destination_ipv6.as_deref())
        .unwrap_or("-")
}

/// The network ACL of a subnet: the one associated with it, else its VPC's default.
pub fn acl_of<'a>(
    acls: &'a [NetworkAcl],
    subnet: &str,
    vpc: Option<&str>,
) -> Option<&'a NetworkAcl> {
    acls.iter()
        .find(|a| {
            a.associations
                .iter()
                .any(|s| s.subnet_id.as_deref() == Some(subnet))
        })
        .or_else(|| {
            let vpc = vpc?;
            acls.iter()
                .find(|a| a.is_default && a.vpc_id.as_deref() == Some(vpc))
        })
}

/// More inbound entries than AWS allows on one ACL (40); beyond this many, in rule
/// order, entries are not read (hostile data, not an account's).
pub const MAX_ACL_ENTRIES: usize = 1000;

/// The TCP port ranges an ACL lets the whole internet (`0.0.0.0/0`, or `::/0` when
/// `v6`) in to, each with the entry that allows it. Only the entries whose CIDR is
/// the whole address space decide for the whole internet: in rule-number order, each
/// decides the ports of its range that no earlier entry decided, allow or deny; the
/// ports none decides are denied (the final `*` rule). Entries for narrower CIDRs,
/// and UDP or ICMP entries, are passed over.
pub fn acl_open_ranges(acl: &NetworkAcl, v6: bool) -> Vec<(Ports, &NetworkAclEntry)> {
    let mut entries: Vec<&NetworkAclEntry> = acl
        .entries
        .iter()
        .filter(|e| !e.egress)
        .filter(|e| {
            let cidr = if v6 { &e.ipv6_cidr } else { &e.cidr };
            cidr.as_deref().is_some_and(is_anywhere)
        })
        .filter(|e| is_all_protocols(&e.protocol) || is_tcp(&e.protocol))
        .collect();
    entries.sort_by_key(|e| e.rule_number.unwrap_or(i64::MAX));
    let mut undecided = vec![Ports::ALL];
    let mut allowed = Vec::new();
    for e in entries.into_iter().take(MAX_ACL_ENTRIES) {
        let r = e
            .port_range
            .as_ref()
            .map(|r| range(r.from, r.to))
            .unwrap_or(Ports::ALL);
        let allow = e.action.trim().eq_ignore_ascii_case("allow");
        let mut rest = Vec::with_capacity(undecided.len() + 1);
        for u in undecided {
            let (lo, hi) = (u.from.max(r.from), u.to.min(r.to));
            if lo > hi {
                rest.push(u);
                continue;
            }
            if allow {
                allowed.push((Ports { from: lo, to: hi }, e));
            }
            if u.from < lo {
                rest.push(Ports {
                    from: u.from,
                    to: lo - 1,
                });
            }
            if hi < u.to {
                rest.push(Ports {
                    from: hi + 1,
                    to: u.to,
                });
            }
        }
        undecided = rest;
        if undecided.is_empty() {
            break;
        }
    }
    allowed
}

/// An ACL's verdict on the whole internet reaching TCP `port`: `Some(entry)` when
/// the entry that decides allows it (see [`acl_open_ranges`]).
pub fn acl_allows(acl: &NetworkAcl, port: u16, v6: bool) -> Option<&NetworkAclEntry> {
    acl_open_ranges(acl, v6)
        .into_iter()
        .find(|(r, _)| r.contains(port))
        .map(|(_, e)| e)
}

/// The first of `ports` (IPv4 first, then IPv6) an ACL lets the internet reach, with
/// the entry that allows it and the CIDR.
pub fn acl_open<'a>(
    acl: &'a NetworkAcl,
    ports: &BTreeSet<u16>,
) -> Option<(u16, &'a NetworkAclEntry, &'static str)> {
    for (v6, cidr) in [(false, "0.0.0.0/0"), (true, "::/0")] {
        for (r, e) in acl_open_ranges(acl, v6) {
            if let Some(p) = ports.range(r.from..=r.to).next() {
                return Some((*p, e, cidr));
            }
        }
    }
    None
}

/// The first ingress rule of `sg` open to anywhere over TCP on one of `ports`, with
/// that port.
pub fn open_on_any<'a>(sg: &'a SecurityGroup, ports: &BTreeSet<u16>) -> Option<(u16, Opening<'a>)> {
    sg.ingress.iter().find_map(|r| {
        let range = tcp_ports(r)?;
        let cidr = *open_cidrs(r).first()?;
        let port = *ports.range(range.from..=range.to).next()?;
        Some((
            port,
            Opening {
                rule: r,
                ports: range,
                cidr,
            },
        ))
    })
}

/// The subnets of an instance's DB subnet group, with its VPC.
pub fn instance_subnets(i: &DbInstance) -> (Vec<&str>, Option<&str>) {
    match &i.subnet_group {
        Some(g) => (
            g.subnets.iter().map(|s| s.id.as_str()).collect(),
            g.vpc_id.as_deref(),
        ),
        None => (Vec::new(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(
        proto: &str,
        from: Option<i64>,
        to: Option<i64>,
        v4: &[&str],
        v6: &[&str],
    ) -> IpPermission {
        IpPermission {
            protocol: proto.into(),
            from_port: from,
            to_port: to,
            ip_ranges: v4
                .iter()
                .map(|c| IpRange {
                    cidr: c.to_string(),
                })
                .collect(),
            ipv6_ranges: v6
                .iter()
                .map(|c| Ipv6Range {
                    cidr: c.to_string(),
                })
                .collect(),
            ..IpPermission::default()
        }
    }

    #[test]
    fn port_ranges_all_protocols_and_ipv6() {
        let sg = |p: IpPermission| SecurityGroup {
            id: "sg-1".into(),
            ingress: vec![p],
            ..SecurityGroup::default()
        };
        let r = sg(perm("tcp", Some(5400), Some(5500), &["0.0.0.0/0"], &[]));
        assert_eq!(open_on(&r, 5432).unwrap().ports.text(), "5400-5500");
        assert!(open_on(&r, 3306).is_none());
        let all = sg(perm("-1", None, None, &[], &["::/0"]));
        let o = open_on(&all, 3306).unwrap();
        assert_eq!((o.cidr, o.ports.text().as_str()), ("::/0", "all"));
        assert_eq!(
            permission_shorthand(o.rule, Some(o.ports), o.cidr),
            "IpProtocol=-1,Ipv6Ranges=[{CidrIpv6=::/0}]"
        );
        let six = sg(perm("6", Some(3306), Some(3306), &["0.0.0.0/0"], &[]));
        assert!(open_on(&six, 3306).is_some());
        let udp = sg(perm("udp", Some(5432), Some(5432), &["0.0.0.0/0"], &[]));
        assert!(open_on(&udp, 5432).is_none());
        let narrow = sg(perm(
            "tcp",
            Some(5432),
            Some(5432),
            &["10.0.0.0/8", "0.0.0.0/1"],
            &[],
        ));
        assert!(open_on(&narrow, 5432).is_none());
        let odd = sg(perm("tcp", Some(70000), Some(-4), &[" 0.0.0.0/0 "], &[]));
        assert_eq!(open_on(&odd, 1).unwrap().ports, Ports::ALL);
    }

    fn entry(
        n: i64,
        proto: &str,
        action: &str,
        cidr: &str,
        ports: Option<(i64, i64)>,
    ) -> NetworkAclEntry {
        NetworkAclEntry {
            rule_number: Some(n),
            protocol: proto.into(),
            action: action.into(),
            egress: false,
            cidr: (!cidr.contains(':')).then(|| cidr.to_string()),
            ipv6_cidr: cidr.contains(':').then(|| cidr.to_string()),
            port_range: ports.map(|(f, t)| PortRange {
                from: Some(f),
                to: Some(t),
            }),
        }
    }

    #[test]
    fn nacl_entries_in_rule_order_first_match_decides() {
        let acl = |entries| NetworkAcl {
            id: "acl-1".into(),
            entries,
            ..NetworkAcl::default()
        };
        // Written out of order: 100 deny comes before 200 allow.
        let a = acl(vec![
            entry(200, "-1", "allow", "0.0.0.0/0", None),
            entry(100, "6", "deny", "0.0.0.0/0", Some((5432, 5432))),
            entry(32767, "-1", "deny", "0.0.0.0/0", None),
        ]);
        assert!(acl_allows(&a, 5432, false).is_none());
        assert_eq!(acl_allows(&a, 3306, false).unwrap().rule_number, Some(200));
        // A narrower CIDR does not decide for the internet; UDP does not match.
        let b = acl(vec![
            entry(50, "6", "deny", "10.0.0.0/8", Some((5432, 5432))),
            entry(60, "17", "deny", "0.0.0.0/0", Some((5432, 5432))),
            entry(100, "6", "allow", "0.0.0.0/0", Some((5000, 6000))),
        ]);
        assert_eq!(acl_allows(&b, 5432, false).unwrap().rule_number, Some(100));
        // IPv6 is its own family.
        let c = acl(vec![
            entry(100, "-1", "deny", "0.0.0.0/0", None),
            entry(101, "-1", "allow", "::/0", None),
        ]);
        assert!(acl_allows(&c, 5432, false).is_none());
        let db: BTreeSet<u16> = [3306, 5432].into_iter().collect();
        assert_eq!(acl_open(&c, &db).unwrap().2, "::/0");
        // No entry: denied.
        assert!(acl_open(&acl(vec![]), &db).is_none());
        // A deny of part of an allow's range leaves the rest allowed.
        let d = acl(vec![
            entry(10, "6", "deny", "0.0.0.0/0", Some((3306, 3306))),
            entry(20, "6", "allow", "0.0.0.0/0", Some((3000, 6000))),
        ]);
        let (port, e, _) = acl_open(&d, &db).unwrap();
        assert_eq!((port, e.rule_number), (5432, Some(20)));
        assert_eq!(
            acl_open_ranges(&d, false)
                .iter()
                .map(|(r, _)| r.text())
                .collect::<Vec<_>>(),
            ["3000-3305", "3307-6000"]
        );
    }

    #[test]
    fn a_subnet_without_an_association_uses_the_main_table() {
        let t = |id: &str, subnet: Option<&str>, main: bool| RouteTable {
            id: id.into(),
            vpc_id: Some("vpc-1".into()),
            associations: vec![RouteTableAssociation {
                subnet_id: subnet.map(str::to_string),
                main,
            }],
            routes: vec![Route {
                destination: Some("0.0.0.0/0".into()),
                gateway_id: Some("igw-1".into()),
                ..Route::default()
            }],
            ..RouteTable::default()
        };
        let tables = vec![
            t("rtb-main", None, true),
            t("rtb-a", Some("subnet-a"), false),
        ];
        assert_eq!(
            route_table_of(&tables, "subnet-a", Some("vpc-1"))
                .unwrap()
                .id,
            "rtb-a"
        );
        assert_eq!(
            route_table_of(&tables, "subnet-b", Some("vpc-1"))
                .unwrap()
                .id,
            "rtb-main"
        );
        assert!(route_table_of(&tables, "subnet-b", Some("vpc-2")).is_none());
        assert!(route_table_of(&tables, "subnet-b", None).is_none());
        let mut bh = tables[0].clone();
        bh.routes[0].state = Some("blackhole".into());
        assert!(igw_route(&bh).is_none());
        assert!(igw_route(&tables[0]).is_some());
    }
}
