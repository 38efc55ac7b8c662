//! What a detector can conclude, before it has: the catalog entry of a finding type
//! ([`FindingSpec`]), and the structured actions ([`SuggestedAction`]) a finding
//! suggests beside its prose remediation.
//!
//! The catalog is the code side of `docs/finding-catalog.md`: each detector declares
//! the specs of the types it raises, `keibi rules list` shows them, and a test ties
//! them to the document and to the scenario folders.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::finding::Severity;

/// One finding type as a detector declares it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingSpec {
    /// `ThreatPurpose:ResourceType/ThreatFamily.Detail`, as findings carry it.
    #[serde(rename = "type")]
    pub finding_type: String,
    /// The severity a finding of this type starts from (evidence may move it).
    pub default_severity: Severity,
    /// MITRE ATT&CK technique ids.
    pub mitre: Vec<String>,
    /// A short name for the type, for lists.
    pub title: String,
    /// What to do, in general words (a finding's own remediation names its actors).
    pub remediation: String,
    /// The kinds of [`SuggestedAction`] a finding of this type may carry.
    pub suggested_actions: Vec<ActionKind>,
}

impl FindingSpec {
    /// A spec from literals, as detectors declare theirs.
    pub fn new(
        finding_type: &str,
        default_severity: f64,
        mitre: &[&str],
        title: &str,
        remediation: &str,
        suggested_actions: &[ActionKind],
    ) -> FindingSpec {
        FindingSpec {
            finding_type: finding_type.to_string(),
            default_severity: Severity::new(default_severity),
            mitre: mitre.iter().map(|m| m.to_string()).collect(),
            title: title.to_string(),
            remediation: remediation.to_string(),
            suggested_actions: suggested_actions.to_vec(),
        }
    }
}

/// The kind of a [`SuggestedAction`], without its targets: what a spec declares and a
/// rule's `keibi: actions:` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    BlockAddress,
    LockRole,
    EndSessions,
    RotateCredentials,
    ClosePublicAccess,
    RestoreLogging,
    RevokeIngress,
}

impl ActionKind {
    pub const ALL: [ActionKind; 7] = [
        ActionKind::BlockAddress,
        ActionKind::LockRole,
        ActionKind::EndSessions,
        ActionKind::RotateCredentials,
        ActionKind::ClosePublicAccess,
        ActionKind::RestoreLogging,
        ActionKind::RevokeIngress,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::BlockAddress => "block_address",
            ActionKind::LockRole => "lock_role",
            ActionKind::EndSessions => "end_sessions",
            ActionKind::RotateCredentials => "rotate_credentials",
            ActionKind::ClosePublicAccess => "close_public_access",
            ActionKind::RestoreLogging => "restore_logging",
            ActionKind::RevokeIngress => "revoke_ingress",
        }
    }

    /// Whether an action of this kind follows from a finding's actor and resource
    /// alone; the others (which port, which range) only the detector that read the
    /// call knows, and it adds them itself.
    pub fn from_actor_and_resource(self) -> bool {
        !matches!(self, ActionKind::RevokeIngress)
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing to do about a finding, with its targets filled from the finding's actor
/// and resource: what a responder (a person, or later `keibi respond`) acts on.
/// Serialised with an `action` tag: `{"action":"block_address","address":"203.0.113.9"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SuggestedAction {
    /// Block an address or network (`203.0.113.9`, `2001:db8:7:42::/64`) at the
    /// firewall or security group in front of the database.
    BlockAddress { address: String },
    /// Stop a database role from logging in (`ALTER ROLE ... NOLOGIN`,
    /// `ALTER USER ... ACCOUNT LOCK`) until its password is changed.
    LockRole { instance: String, user: String },
    /// End a database user's open sessions (`pg_terminate_backend`, `KILL`).
    EndSessions { instance: String, user: String },
    /// Deactivate and replace an AWS principal's credentials (access keys, password).
    RotateCredentials { principal: String },
    /// Make a snapshot, instance or cluster private again.
    ClosePublicAccess {
        resource_kind: String,
        resource: String,
    },
    /// Turn logging or detection back on for a trail, detector or recorder.
    RestoreLogging {
        resource_kind: String,
        resource: String,
    },
    /// Remove what opens a port to a range: a security-group rule or a network-ACL
    /// entry (`resource_kind` `security_group` or `network_acl`).
    RevokeIngress {
        resource_kind: String,
        resource: String,
        port: String,
        cidr: String,
    },
}

impl SuggestedAction {
    pub fn kind(&self) -> ActionKind {
        match self {
            SuggestedAction::BlockAddress { .. } => ActionKind::BlockAddress,
            SuggestedAction::LockRole { .. } => ActionKind::LockRole,
            SuggestedAction::EndSessions { .. } => ActionKind::EndSessions,
            SuggestedAction::RotateCredentials { .. } => ActionKind::RotateCredentials,
            SuggestedAction::ClosePublicAccess { .. } => ActionKind::ClosePublicAccess,
            SuggestedAction::RestoreLogging { .. } => ActionKind::RestoreLogging,
            SuggestedAction::RevokeIngress { .. } => ActionKind::RevokeIngress,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_serialise_tagged_and_read_back() {
        let a = SuggestedAction::LockRole {
            instance: "shop".into(),
            user: "app".into(),
        };
        let j = serde_json::to_string(&a).unwrap();
        assert_eq!(
            j,
            r#"{"action":"lock_role","instance":"shop","user":"app"}"#
        );
        assert_eq!(serde_json::from_str::<SuggestedAction>(&j).unwrap(), a);
        for k in ActionKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }

    #[test]
    fn a_spec_serialises_its_kinds_by_name() {
        let s = FindingSpec::new(
            "A:B/C",
            5.04,
            &["T1110"],
            "t",
            "r",
            &[ActionKind::BlockAddress],
        );
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["type"], "A:B/C");
        assert_eq!(j["default_severity"], 5.0);
        assert_eq!(j["suggested_actions"][0], "block_address");
    }
}
