//! The identifiers a response acts on, checked before any call: every one of them
//! comes from a finding, so from logs an attacker may have written. A value that is
//! not exactly what AWS names such a thing is refused with a message that quotes it
//! escaped; a value that passes is still only ever sent as an API parameter
//! (form-encoded by [`crate::signed`]), never put into a URL, a shell or a document.

use keibi_notify::text::{clip, one_line};

/// Identifiers and ARNs longer than this are refused (AWS's longest are 2048).
const MAX_LEN: usize = 2048;

/// A value as it is quoted in an error: one line, clipped, escaped.
pub fn quoted(s: &str) -> String {
    format!("{:?}", clip(&one_line(s), 120, "…"))
}

/// An EC2 id: `prefix-` and 8 or 17 lower-case hex digits (`sg-0123456789abcdef0`,
/// `acl-1a2b3c4d`).
pub fn is_ec2_id(s: &str, prefix: &str) -> bool {
    let Some(hex) = s
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
    else {
        return false;
    };
    matches!(hex.len(), 8 | 17)
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A 12-digit AWS account id.
pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_partition(s: &str) -> bool {
    matches!(s, "aws" | "aws-cn" | "aws-us-gov")
}

/// An RDS instance or snapshot name: 1 to 255 letters, digits and hyphens, starting
/// with a letter or digit.
pub fn is_rds_name(s: &str) -> bool {
    (1..=255).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && s.as_bytes()[0].is_ascii_alphanumeric()
}

/// A resource named by a finding: a plain name, or an ARN whose region and account
/// say where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub region: Option<String>,
    pub account: Option<String>,
}

/// An RDS instance or snapshot by name or ARN (`arn:aws:rds:REGION:ACCOUNT:db:NAME`,
/// `…:snapshot:NAME`, `…:cluster-snapshot:NAME`); `arn_type` is the ARN's resource
/// type.
pub fn rds_resource(s: &str, arn_type: &str) -> Option<Named> {
    if s.len() > MAX_LEN {
        return None;
    }
    if !s.starts_with("arn:") {
        return is_rds_name(s).then(|| Named {
            name: s.to_string(),
            region: None,
            account: None,
        });
    }
    let p: Vec<&str> = s.splitn(7, ':').collect();
    match p[..] {
        ["arn", part, "rds", region, account, ty, name]
            if is_partition(part)
                && crate::signed::is_region(region)
                && is_account(account)
                && ty == arn_type
                && is_rds_name(name) =>
        {
            Some(Named {
                name: name.to_string(),
                region: Some(region.to_string()),
                account: Some(account.to_string()),
            })
        }
        _ => None,
    }
}

/// A CloudTrail trail by name (3 to 128 letters, digits, `.`, `_`, `-`) or ARN
/// (`arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME`). The call is given what the
/// finding said (StartLogging takes either); the ARN's region is where it is sent.
pub fn trail(s: &str) -> Option<Named> {
    let is_name = |n: &str| {
        (3..=128).contains(&n.len())
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            && n.as_bytes()[0].is_ascii_alphanumeric()
    };
    if !s.starts_with("arn:") {
        return is_name(s).then(|| Named {
            name: s.to_string(),
            region: None,
            account: None,
        });
    }
    let p: Vec<&str> = s.splitn(6, ':').collect();
    match p[..] {
        ["arn", part, "cloudtrail", region, account, res]
            if is_partition(part)
                && crate::signed::is_region(region)
                && is_account(account)
                && res.strip_prefix("trail/").is_some_and(is_name) =>
        {
            Some(Named {
                name: s.to_string(),
                region: Some(region.to_string()),
                account: Some(account.to_string()),
            })
        }
        _ => None,
    }
}

/// An IAM name (user, role, path segment): 1 to 128 of `A-Za-z0-9+=,.@_-`.
fn is_iam_name(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// What an IAM principal ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    User(String),
    Role(String),
}

/// An IAM principal: its partition, account and user or role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub partition: String,
    pub account: String,
    pub who: Who,
}

/// `arn:aws:iam::ACCOUNT:user/[PATH/]NAME`, `arn:aws:iam::ACCOUNT:role/[PATH/]NAME`,
/// or a session of a role, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` (the
/// role is what is contained). Anything else (the root user, a federated user, a
/// group) is `None`.
pub fn principal(s: &str) -> Option<Principal> {
    if s.len() > MAX_LEN {
        return None;
    }
    let p: Vec<&str> = s.splitn(6, ':').collect();
    let ["arn", part, service, "", account, res] = p[..] else {
        return None;
    };
    if !is_partition(part) || !is_account(account) {
        return None;
    }
    let segments: Vec<&str> = res.split('/').collect();
    if !segments.iter().all(|s| is_iam_name(s)) {
        return None;
    }
    let who = match (service, &segments[..]) {
        ("iam", ["user", .., name]) if segments.len() >= 2 => Who::User(name.to_string()),
        ("iam", ["role", .., name]) if segments.len() >= 2 => Who::Role(name.to_string()),
        ("sts", ["assumed-role", role, _session]) => Who::Role(role.to_string()),
        _ => return None,
    };
    match &who {
        Who::User(n) | Who::Role(n) if n.len() > 64 => return None,
        _ => {}
    }
    Some(Principal {
        partition: part.to_string(),
        account: account.to_string(),
        who,
    })
}

/// An access key id: 16 to 128 upper-case letters and digits (`AKIA…` long-term,
/// `ASIA…` a session's).
pub fn is_access_key(s: &str) -> bool {
    (16..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A port or range of a finding: `5432`, `3306-3307`, `all` (0 to 65535).
pub fn ports(s: &str) -> Option<(u16, u16)> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("all") {
        return Some((0, 65535));
    }
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let (a, b) = (a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?);
    (a <= b).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_ids_and_hostile_ones() {
        assert!(is_ec2_id("sg-0123456789abcdef0", "sg"));
        assert!(is_ec2_id("acl-1a2b3c4d", "acl"));
        for bad in [
            "sg-1; rm -rf /",
            "sg-0123456789ABCDEF0",
            "sg-",
            "acl-1a2b3c4d",
            "sg-1a2b3c4d\n",
            "sg-1a2b3c4d5",
        ] {
            assert!(!is_ec2_id(bad, "sg"), "{bad:?}");
        }
    }

    #[test]
    fn principals_are_users_roles_and_sessions_of_roles() {
        let p = principal("arn:aws:iam::123456789012:user/ops/mallory").unwrap();
        assert_eq!(p.who, Who::User("mallory".into()));
        assert_eq!(p.account, "123456789012");
        assert_eq!(
            principal("arn:aws:sts::123456789012:assumed-role/app-role/i-0abc")
                .unwrap()
                .who,
            Who::Role("app-role".into())
        );
        assert_eq!(
            principal("arn:aws-cn:iam::123456789012:role/app")
                .unwrap()
                .who,
            Who::Role("app".into())
        );
        for bad in [
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::123456789012:user/mallory\nx",
            "arn:aws:iam::123456789012:user/",
            "arn:aws:iam::12345678901:user/x",
            "arn:aws:sts::123456789012:federated-user/x",
            "arn:aws:iam::123456789012:group/admins",
            "arn:evil:iam::123456789012:user/x",
            "arn:aws:iam::123456789012:user/x y",
            "user/x",
        ] {
            assert_eq!(principal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rds_names_and_arns() {
        assert_eq!(rds_resource("prod-db", "db").unwrap().name, "prod-db");
        let n = rds_resource(
            "arn:aws:rds:ap-northeast-1:123456789012:snapshot:s-1",
            "snapshot",
        )
        .unwrap();
        assert_eq!(
            (n.name.as_str(), n.region.as_deref(), n.account.as_deref()),
            ("s-1", Some("ap-northeast-1"), Some("123456789012"))
        );
        assert!(rds_resource("arn:aws:rds:us-east-1:123456789012:db:x", "snapshot").is_none());
        assert!(rds_resource("prod db", "db").is_none());
        assert!(rds_resource("-x", "db").is_none());
        assert!(trail("keibi-trail").is_some());
        assert!(trail("arn:aws:cloudtrail:us-east-1:123456789012:trail/t-1").is_some());
        assert!(trail("arn:aws:cloudtrail:us-east-1:123456789012:trail/t 1").is_none());
    }

    #[test]
    fn ports_and_keys() {
        assert_eq!(ports("5432"), Some((5432, 5432)));
        assert_eq!(ports("3306-3307"), Some((3306, 3307)));
        assert_eq!(ports("all"), Some((0, 65535)));
        assert_eq!(ports("3307-3306"), None);
        assert_eq!(ports("5432;"), None);
        assert!(is_access_key("AKIAIOSFODNN7EXAMPLE"));
        assert!(!is_access_key("AKIA IOSFODNN7EXAMPLE"));
    }
}
