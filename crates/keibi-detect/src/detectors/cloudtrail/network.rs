//! Policy:EC2/DatabasePortOpenToInternet: security-group rules and network-ACL
//! entries that let the internet reach a database port.

use super::*;

/// The database ports a rule opens: every port, one, or a range with the database
/// ports it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Port {
    All,
    One(u16),
    Range { from: i64, to: i64, hit: Vec<u16> },
}

impl Port {
    /// `port 5432`, `all ports`, `ports 5000-6000 (port 5432)`.
    fn msg(&self) -> Msg {
        let one = |p: &u16| Msg::new("ct-port").arg("port", p.to_string());
        match self {
            Port::All => Msg::new("ct-port-all"),
            Port::One(p) => one(p),
            Port::Range { from, to, hit } => Msg::new("ct-port-range")
                .arg("from", from.to_string())
                .arg("to", to.to_string())
                .arg(
                    "ports",
                    text::list_arg(hit.iter().map(one).collect(), false),
                ),
        }
    }

    /// As data for a suggested action: `5432`, `5000-6000` or `all`.
    fn range(&self) -> String {
        match self {
            Port::All => "all".to_string(),
            Port::One(p) => p.to_string(),
            Port::Range { from, to, .. } => format!("{from}-{to}"),
        }
    }
}

impl CloudTrail {
    /// Policy:EC2/DatabasePortOpenToInternet from AuthorizeSecurityGroupIngress (both
    /// request shapes) and ModifySecurityGroupRules.
    pub(super) fn security_group(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let ports = &cx.config.db_ports;
        let mut open: Vec<(Port, String)> = Vec::new();
        let group;
        if c.name == "ModifySecurityGroupRules" {
            let Some(req) = c.req(&["ModifySecurityGroupRulesRequest"]) else {
                return;
            };
            group = short(str_at(req, &["GroupId"]).unwrap_or("-"));
            for r in items(req.get("SecurityGroupRule")) {
                let Some(rule) = r.get("SecurityGroupRule") else {
                    continue;
                };
                let proto = proto_of(rule.get("IpProtocol"));
                let Some(port) = covered(
                    &proto,
                    num(rule.get("FromPort")),
                    num(rule.get("ToPort")),
                    ports,
                ) else {
                    continue;
                };
                for key in ["CidrIpv4", "CidrIpv6"] {
                    if let Some(cidr) = str_at(rule, &[key]).filter(|c| is_internet(c)) {
                        open.push((port.clone(), cidr.to_string()));
                    }
                }
            }
        } else {
            group = short(
                c.req_str(&["groupId"])
                    .or_else(|| c.req_str(&["groupName"]))
                    .unwrap_or("-"),
            );
            // The flat CLI form: one CIDR and one range at the top level.
            if let Some(cidr) = c.req_str(&["cidrIp"]).filter(|c| is_internet(c)) {
                let proto = proto_of(c.req(&["ipProtocol"]));
                if let Some(port) = covered(
                    &proto,
                    num(c.req(&["fromPort"])),
                    num(c.req(&["toPort"])),
                    ports,
                ) {
                    open.push((port, cidr.to_string()));
                }
            }
            for perm in items(c.req(&["ipPermissions"])) {
                let proto = proto_of(perm.get("ipProtocol"));
                let Some(port) = covered(
                    &proto,
                    num(perm.get("fromPort")),
                    num(perm.get("toPort")),
                    ports,
                ) else {
                    continue;
                };
                for r in items(perm.get("ipRanges")) {
                    if let Some(cidr) = str_at(r, &["cidrIp"]).filter(|c| is_internet(c)) {
                        open.push((port.clone(), cidr.to_string()));
                    }
                }
                for r in items(perm.get("ipv6Ranges")) {
                    if let Some(cidr) = str_at(r, &["cidrIpv6"]).filter(|c| is_internet(c)) {
                        open.push((port.clone(), cidr.to_string()));
                    }
                }
            }
        }
        self.exposure(c, cx, "security_group", &group, &open);
    }

    /// Policy:EC2/DatabasePortOpenToInternet from an inbound allow entry of a network ACL.
    pub(super) fn network_acl(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        if flag(c.req(&["egress"])) != Some(false) {
            return;
        }
        let action = c.req_str(&["ruleAction"]).unwrap_or_default();
        if !action.eq_ignore_ascii_case("allow") {
            return;
        }
        let cidr = c
            .req_str(&["cidrBlock"])
            .or_else(|| c.req_str(&["ipv6CidrBlock"]))
            .filter(|c| is_internet(c));
        let Some(cidr) = cidr else { return };
        let proto = proto_of(c.req(&["aclProtocol"]));
        let range = c.req(&["portRange"]);
        let from = num(range.and_then(|r| r.get("from")));
        let to = num(range.and_then(|r| r.get("to")));
        let Some(port) = covered(&proto, from, to, &cx.config.db_ports) else {
            return;
        };
        let acl = short(c.req_str(&["networkAclId"]).unwrap_or("-"));
        let open = vec![(port, cidr.to_string())];
        self.exposure(c, cx, "network_acl", &acl, &open);
    }

    fn exposure(
        &mut self,
        c: &Call<'_>,
        cx: &mut Context<'_>,
        kind: &str,
        id: &str,
        open: &[(Port, String)],
    ) {
        let Some((port, cidr)) = open.first() else {
            return;
        };
        let (label, lower, remove) = if kind == "network_acl" {
            ("ct-label-acl", "ct-label-acl-lower", "ct-open-remove-acl")
        } else {
            ("ct-label-sg", "ct-label-sg-lower", "ct-open-remove-sg")
        };
        let rules: Vec<Msg> = open
            .iter()
            .map(|(p, c)| {
                Msg::new("ct-port-from")
                    .arg("port", p.msg())
                    .arg("cidr", c.as_str())
            })
            .collect();
        let found = Found {
            finding_type: DB_PORT_OPEN,
            severity: 7.0,
            resource_kind: kind,
            resource_id: id,
            mitre: &["T1133"],
            title: Msg::new("ct-open-title")
                .arg("label", Msg::new(label))
                .arg("resource", id)
                .arg("port", port.msg())
                .arg("cidr", cidr.as_str())
                .arg("who", c.who.as_str()),
            description: vec![
                Msg::new("ct-open")
                    .arg("who", c.who.as_str())
                    .arg("api", c.name)
                    .arg("label", Msg::new(lower))
                    .arg("resource", id)
                    .arg("origin", c.origin())
                    .arg("rules", text::list_arg(rules, false)),
                Msg::new("ct-open-why"),
            ],
            remediation: vec![Msg::new(remove), Msg::new("ct-open-check")],
        };
        self.raise(cx, &c.who, found, &[c.ev]);
        let fid = keibi_model::finding::finding_id(DETECTOR_ID, DB_PORT_OPEN, &[kind, id, &c.who]);
        if let Some(f) = cx.findings.get_mut(&fid) {
            for (port, cidr) in open {
                let action = keibi_model::SuggestedAction::RevokeIngress {
                    resource_kind: kind.to_string(),
                    resource: id.to_string(),
                    port: port.range(),
                    cidr: cidr.clone(),
                };
                crate::catalog::add(f, action);
            }
        }
    }
}

/// The protocol as a lower-case word: `tcp`, `udp`, `-1` ... (numbers are mapped).
fn proto_of(v: Option<&Value>) -> String {
    let s = match v {
        Some(Value::String(s)) => s.trim().to_ascii_lowercase(),
        Some(Value::Number(n)) => n.to_string(),
        // Unknown: never guessed to be "all".
        _ => return String::new(),
    };
    match s.as_str() {
        "6" => "tcp".to_string(),
        "17" => "udp".to_string(),
        "all" => "-1".to_string(),
        _ => s,
    }
}

/// The database port (or every port) a rule's range covers, if any. Protocol `-1`
/// is every port; TCP ranges may be open-ended (`-1` or missing bounds).
fn covered(proto: &str, from: Option<i64>, to: Option<i64>, ports: &[u16]) -> Option<Port> {
    match proto {
        "-1" => return Some(Port::All),
        "tcp" => {}
        _ => return None,
    }
    let lo = from.filter(|&p| p >= 0).unwrap_or(0);
    let hi = to.filter(|&p| p >= 0).unwrap_or(65535);
    if lo <= 0 && hi >= 65535 {
        return Some(Port::All);
    }
    let hit: Vec<u16> = ports
        .iter()
        .copied()
        .filter(|&p| (lo..=hi).contains(&i64::from(p)))
        .collect();
    match hit[..] {
        [] => None,
        [one] => Some(Port::One(one)),
        [first, ..] if lo == hi => Some(Port::One(first)),
        _ => Some(Port::Range {
            from: lo,
            to: hi,
            hit,
        }),
    }
}

/// Whether a CIDR is "the internet": `/0`, a range wider than a /8, or a /8 (IPv6:
/// /16) of global unicast space. A partner's /24 or the VPC's 10.0.0.0/8 is not.
pub(super) fn is_internet(cidr: &str) -> bool {
    let (addr, len) = match cidr.trim().split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok()),
        None => (cidr.trim(), None),
    };
    let (Ok(ip), Some(len)) = (addr.parse::<IpAddr>(), len) else {
        return false;
    };
    match ip {
        IpAddr::V4(v4) => {
            let first = v4.octets()[0];
            len < 8 || (len == 8 && !matches!(first, 0 | 10 | 127) && first < 224)
        }
        IpAddr::V6(v6) => {
            let top = v6.segments()[0];
            len < 3 || (len <= 16 && (0x2000..0x4000).contains(&top))
        }
    }
}

#[cfg(test)]
mod port_tests {
    use super::*;

    #[test]
    fn ports_read_as_before_and_become_port_ranges() {
        let en = keibi_i18n::Locale::english_utc();
        let ports = [5432, 3306];
        for (proto, from, to, text, range) in [
            ("tcp", Some(5432), Some(5432), "port 5432", "5432"),
            ("-1", None, None, "all ports", "all"),
            ("tcp", Some(0), Some(65535), "all ports", "all"),
            ("tcp", Some(5000), Some(6000), "port 5432", "5432"),
            (
                "tcp",
                Some(3000),
                Some(6000),
                "ports 3000-6000 (port 5432, port 3306)",
                "3000-6000",
            ),
        ] {
            let p = covered(proto, from, to, &ports).unwrap();
            assert_eq!(en.render(&p.msg()), text);
            assert_eq!(p.range(), range);
        }
        assert_eq!(covered("udp", Some(5432), Some(5432), &ports), None);
        assert_eq!(covered("tcp", Some(80), Some(443), &ports), None);
    }
}
