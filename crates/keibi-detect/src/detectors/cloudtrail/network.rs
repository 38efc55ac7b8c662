//! Policy:EC2/DatabasePortOpenToInternet: security-group rules and network-ACL
//! entries that let the internet reach a database port.

use super::*;

/// How a finding's resource is written for security-group and ACL exposures.
fn exposure_title(kind: &str, id: &str, port: &str, cidr: &str, who: &str) -> String {
    format!("{kind} {id} opens {port} to {cidr} (by {who})")
}

impl CloudTrail {
    /// Policy:EC2/DatabasePortOpenToInternet from AuthorizeSecurityGroupIngress (both
    /// request shapes) and ModifySecurityGroupRules.
    pub(super) fn security_group(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let ports = &cx.config.db_ports;
        let mut open: Vec<(String, String)> = Vec::new();
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
        self.exposure(c, cx, "security_group", "Security group", &group, &open);
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
        self.exposure(c, cx, "network_acl", "Network ACL", &acl, &open);
    }

    fn exposure(
        &mut self,
        c: &Call<'_>,
        cx: &mut Context<'_>,
        kind: &str,
        label: &str,
        id: &str,
        open: &[(String, String)],
    ) {
        let Some((port, cidr)) = open.first() else {
            return;
        };
        let all: Vec<String> = open.iter().map(|(p, c)| format!("{p} from {c}")).collect();
        let found = Found {
            finding_type: DB_PORT_OPEN,
            severity: 7.0,
            resource_kind: kind,
            resource_id: id,
            mitre: &["T1133"],
            title: exposure_title(label, id, port, cidr, &c.who),
            description: format!(
                "{} called {} on {} {id} {}, allowing inbound {}. A database listening \
                 there can now be reached by every scanner on the internet.",
                c.who,
                c.name,
                label.to_ascii_lowercase(),
                c.origin(),
                list_text(&all, false),
            ),
            remediation: "If nobody meant to open it, remove the rule now (aws ec2 \
                revoke-security-group-ingress, or replace the ACL entry) and allow only your \
                application's security group or office/VPN ranges. Then check the databases \
                behind it for logins from unknown addresses since the change.",
        };
        self.raise(cx, &c.who, found, &[c.ev]);
        let fid = keibi_model::finding::finding_id(DETECTOR_ID, DB_PORT_OPEN, &[kind, id, &c.who]);
        if let Some(f) = cx.findings.get_mut(&fid) {
            for (port, cidr) in open {
                let action = keibi_model::SuggestedAction::RevokeIngress {
                    resource_kind: kind.to_string(),
                    resource: id.to_string(),
                    port: port_range(port),
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

/// The database port (or "all ports") a rule's range covers, if any. Protocol `-1`
/// is every port; TCP ranges may be open-ended (`-1` or missing bounds).
fn covered(proto: &str, from: Option<i64>, to: Option<i64>, ports: &[u16]) -> Option<String> {
    match proto {
        "-1" => return Some("all ports".to_string()),
        "tcp" => {}
        _ => return None,
    }
    let lo = from.filter(|&p| p >= 0).unwrap_or(0);
    let hi = to.filter(|&p| p >= 0).unwrap_or(65535);
    if lo <= 0 && hi >= 65535 {
        return Some("all ports".to_string());
    }
    let hit: Vec<String> = ports
        .iter()
        .filter(|&&p| (lo..=hi).contains(&i64::from(p)))
        .map(|p| format!("port {p}"))
        .collect();
    match hit.len() {
        0 => None,
        1 => hit.into_iter().next(),
        _ if lo == hi => hit.into_iter().next(),
        _ => Some(format!("ports {lo}-{hi} ({})", list_text(&hit, false))),
    }
}

/// The ports of [`covered`]'s text as data: `5432`, `5000-6000` or `all`.
fn port_range(text: &str) -> String {
    if text == "all ports" {
        return "all".to_string();
    }
    let rest = text
        .strip_prefix("ports ")
        .or_else(|| text.strip_prefix("port "))
        .unwrap_or(text);
    rest.split(' ').next().unwrap_or(rest).to_string()
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
    #[test]
    fn port_texts_become_port_ranges() {
        for (text, want) in [
            ("port 5432", "5432"),
            ("all ports", "all"),
            ("ports 5000-6000 (port 5432)", "5000-6000"),
        ] {
            assert_eq!(super::port_range(text), want);
        }
    }
}
