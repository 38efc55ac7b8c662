//! What an action acts on: one [`Target`] per action, with everything its executor
//! needs to find the thing in the world, and a canonical [`Target::key`] by which
//! two actions on the same thing are known to be one.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use keibi_model::Engine;
use serde::{Deserialize, Serialize};

/// The kind of an action, as policies name it (`actions: [block_address, lock_role]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Deny an address: a network ACL deny entry on the database's subnets (AWS), or
    /// an nftables set element with a timeout (hosts).
    BlockAddress,
    /// Stop a database role from logging in, and end its sessions.
    LockRole,
    /// End only the offending sessions of a role (from the finding's address when
    /// known).
    EndSessions,
    /// Make an instance, cluster or snapshot private again.
    ClosePublicAccess,
    /// Remove the security-group rule (or ACL entry) that opened a database port.
    RevokeIngress,
    /// Deactivate an IAM access key, or revoke a user's or role's sessions issued
    /// before now.
    ContainPrincipal,
    /// Turn a trail's logging back on.
    RestoreLogging,
    /// POST the finding to a configured URL.
    Webhook,
    /// Run a configured command with the finding as JSON on its standard input.
    Exec,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::BlockAddress,
        Kind::LockRole,
        Kind::EndSessions,
        Kind::ClosePublicAccess,
        Kind::RevokeIngress,
        Kind::ContainPrincipal,
        Kind::RestoreLogging,
        Kind::Webhook,
        Kind::Exec,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::BlockAddress => "block_address",
            Kind::LockRole => "lock_role",
            Kind::EndSessions => "end_sessions",
            Kind::ClosePublicAccess => "close_public_access",
            Kind::RevokeIngress => "revoke_ingress",
            Kind::ContainPrincipal => "contain_principal",
            Kind::RestoreLogging => "restore_logging",
            Kind::Webhook => "webhook",
            Kind::Exec => "exec",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.trim().replace('-', "_");
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The response kind a finding's suggested action kind stands for.
    pub fn from_suggested(k: keibi_model::ActionKind) -> Kind {
        use keibi_model::ActionKind as A;
        match k {
            A::BlockAddress => Kind::BlockAddress,
            A::LockRole => Kind::LockRole,
            A::EndSessions => Kind::EndSessions,
            A::RotateCredentials => Kind::ContainPrincipal,
            A::ClosePublicAccess => Kind::ClosePublicAccess,
            A::RestoreLogging => Kind::RestoreLogging,
            A::RevokeIngress => Kind::RevokeIngress,
        }
    }

    /// Whether an executed action of this kind can be undone: ended sessions stay
    /// ended, a message stays sent, and turning a trail off again is never what
    /// anyone wants.
    pub fn undoable(self) -> bool {
        !matches!(
            self,
            Kind::EndSessions | Kind::RestoreLogging | Kind::Webhook | Kind::Exec
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a resource lives in AWS, when it does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Place {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// One thing an action acts on. Serialised with an `action` tag, like the finding's
/// suggested actions: `{"action":"block_address","address":"203.0.113.9/32",...}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Target {
    BlockAddress {
        /// A host (`/32`, `/128`) or a network (an IPv6 client's `/64`).
        address: IpNet,
        /// The database the finding is about (its instance id), so that the AWS
        /// executor finds that instance's subnets; `None` for a finding on no
        /// database (the host executor still blocks).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance: Option<String>,
        #[serde(flatten)]
        place: Place,
    },
    LockRole {
        /// `postgres` or `mysql`, where the finding knows it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        engine: Option<Engine>,
        /// The instance as findings name it (the `instance` of a `respond.databases`
        /// entry).
        instance: String,
        user: String,
    },
    EndSessions {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        engine: Option<Engine>,
        instance: String,
        user: String,
        /// Only the sessions from this address, when the finding names one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<IpAddr>,
    },
    ClosePublicAccess {
        /// `db_instance`, `db_cluster`, `db_snapshot`, `db_cluster_snapshot`.
        resource_kind: String,
        resource: String,
        #[serde(flatten)]
        place: Place,
    },
    RevokeIngress {
        /// `security_group` (or `network_acl`).
        resource_kind: String,
        resource: String,
        /// `5432`, `3306-3307`, `all`.
        port: String,
        cidr: String,
        #[serde(flatten)]
        place: Place,
    },
    ContainPrincipal {
        /// The IAM principal's ARN (a user, a role, or an assumed-role session).
        principal: String,
        /// The access key the finding's calls were made with, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_key: Option<String>,
        #[serde(flatten)]
        place: Place,
    },
    RestoreLogging {
        resource_kind: String,
        resource: String,
        #[serde(flatten)]
        place: Place,
    },
    Webhook {
        /// A `respond.webhooks` name.
        name: String,
    },
    Exec {
        /// A `respond.exec` name.
        name: String,
    },
}

impl Target {
    pub fn kind(&self) -> Kind {
        match self {
            Target::BlockAddress { .. } => Kind::BlockAddress,
            Target::LockRole { .. } => Kind::LockRole,
            Target::EndSessions { .. } => Kind::EndSessions,
            Target::ClosePublicAccess { .. } => Kind::ClosePublicAccess,
            Target::RevokeIngress { .. } => Kind::RevokeIngress,
            Target::ContainPrincipal { .. } => Kind::ContainPrincipal,
            Target::RestoreLogging { .. } => Kind::RestoreLogging,
            Target::Webhook { .. } => Kind::Webhook,
            Target::Exec { .. } => Kind::Exec,
        }
    }

    /// The canonical name of the thing acted on, with the kind: two actions with the
    /// same key change the same thing, so one already in force is not done again
    /// (`block_address 203.0.113.9/32`, `lock_role prod-db/app`). Attacker-written
    /// parts (user names) are kept verbatim: the key is compared, never shown raw.
    pub fn key(&self) -> String {
        match self {
            Target::BlockAddress { address, .. } => format!("block_address {}", address.trunc()),
            Target::LockRole { instance, user, .. } => format!("lock_role {instance}/{user}"),
            Target::EndSessions {
                instance,
                user,
                address,
                ..
            } => match address {
                Some(a) => format!("end_sessions {instance}/{user}@{a}"),
                None => format!("end_sessions {instance}/{user}"),
            },
            Target::ClosePublicAccess {
                resource_kind,
                resource,
                place,
            } => format!(
                "close_public_access {}{resource_kind}/{resource}",
                place_key(place)
            ),
            Target::RevokeIngress {
                resource,
                port,
                cidr,
                place,
                ..
            } => format!(
                "revoke_ingress {}{resource}/{port}/{cidr}",
                place_key(place)
            ),
            Target::ContainPrincipal { principal, .. } => {
                format!("contain_principal {principal}")
            }
            Target::RestoreLogging {
                resource_kind,
                resource,
                place,
            } => format!(
                "restore_logging {}{resource_kind}/{resource}",
                place_key(place)
            ),
            Target::Webhook { name } => format!("webhook {name}"),
            Target::Exec { name } => format!("exec {name}"),
        }
    }

    /// The address a block acts on, the address sessions are ended from.
    pub fn address(&self) -> Option<IpNet> {
        match self {
            Target::BlockAddress { address, .. } => Some(*address),
            Target::EndSessions {
                address: Some(a), ..
            } => Some(IpNet::from(*a)),
            _ => None,
        }
    }

    /// The database role a lock or an end of sessions acts on, with its instance.
    pub fn role(&self) -> Option<(&str, &str)> {
        match self {
            Target::LockRole { instance, user, .. }
            | Target::EndSessions { instance, user, .. } => Some((instance, user)),
            _ => None,
        }
    }

    /// The IAM principal a containment acts on.
    pub fn principal(&self) -> Option<&str> {
        match self {
            Target::ContainPrincipal { principal, .. } => Some(principal),
            _ => None,
        }
    }

    /// The AWS account and region, where the target has them.
    pub fn place(&self) -> Option<&Place> {
        match self {
            Target::BlockAddress { place, .. }
            | Target::ClosePublicAccess { place, .. }
            | Target::RevokeIngress { place, .. }
            | Target::ContainPrincipal { place, .. }
            | Target::RestoreLogging { place, .. } => Some(place),
            _ => None,
        }
    }
}

fn place_key(p: &Place) -> String {
    match (&p.account, &p.region) {
        (None, None) => String::new(),
        (a, r) => format!(
            "{}/{}/",
            a.as_deref().unwrap_or("-"),
            r.as_deref().unwrap_or("-")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip_with_their_tag() {
        let t = Target::BlockAddress {
            address: "203.0.113.9/32".parse().unwrap(),
            instance: Some("prod-db".into()),
            place: Place {
                account: Some("123456789012".into()),
                region: Some("ap-northeast-1".into()),
            },
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            r#"{"action":"block_address","address":"203.0.113.9/32","instance":"prod-db","account":"123456789012","region":"ap-northeast-1"}"#
        );
        assert_eq!(serde_json::from_str::<Target>(&json).unwrap(), t);
        assert_eq!(t.key(), "block_address 203.0.113.9/32");
    }

    #[test]
    fn kinds_parse_with_dashes_or_underscores() {
        assert_eq!(Kind::parse("lock-role"), Some(Kind::LockRole));
        assert_eq!(
            Kind::parse("close_public_access"),
            Some(Kind::ClosePublicAccess)
        );
        assert_eq!(Kind::parse("reboot"), None);
    }
}
