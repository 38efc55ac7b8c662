//! The finding catalog in code: every finding type each detector and rule can raise
//! ([`Entry`]: its [`FindingSpec`] and what raises it), and the structured actions a
//! finding suggests, filled from its actor and resource by the kinds its spec declares
//! ([`suggest`]).
//!
//! **Adding a finding type** is adding its spec where its detector declares its
//! types (a stateful detector's `specs()` function beside its type constants, or a
//! rule's `keibi:` block), a row in `docs/finding-catalog.md`, and a scenario folder
//! under `crates/keibi/tests/scenarios/`; `crates/keibi/tests/catalog.rs` checks the
//! three agree.

use std::collections::BTreeSet;
use std::net::IpAddr;

use keibi_model::{ActionKind, Finding, FindingSpec, SuggestedAction};

/// One catalog entry: a finding type and what raises it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// What findings of it carry as `detector`: a stateful detector's id or a rule's key.
    pub source: String,
    /// `detector` for built-in stateful detectors, else the rule's file
    /// (`builtin:<path>` for keibi's own rules).
    pub origin: String,
    pub spec: FindingSpec,
}

impl Entry {
    /// The entries of a stateful detector: one per spec, `origin` `detector`.
    pub fn of_detector(id: &str, specs: Vec<FindingSpec>) -> Vec<Entry> {
        specs
            .into_iter()
            .map(|spec| Entry {
                source: id.to_string(),
                origin: "detector".to_string(),
                spec,
            })
            .collect()
    }
}

/// Sets a finding's suggested actions at the end of a scan: those [`suggest`] derives
/// from `kinds`, then those of other declared kinds its detector added while it ran.
pub fn fill(f: &mut Finding, kinds: &[ActionKind]) {
    let mut own = std::mem::take(&mut f.suggested_actions);
    own.retain(|a| !a.kind().from_actor_and_resource() && kinds.contains(&a.kind()));
    let mut all = suggest(f, kinds);
    all.extend(own);
    all.truncate(MAX_ACTIONS);
    f.suggested_actions = all;
}

/// Adds an action a detector found while it ran (kept by [`fill`] when its kind is
/// declared), unless the finding has it or already has [`MAX_ACTIONS`].
pub fn add(f: &mut Finding, action: SuggestedAction) {
    if f.suggested_actions.len() < MAX_ACTIONS && !f.suggested_actions.contains(&action) {
        f.suggested_actions.push(action);
    }
}

/// Suggested actions, most at once: a distributed attack's addresses are many.
pub const MAX_ACTIONS: usize = 20;

/// The actions of `kinds` that this finding's actor and resource give targets for,
/// in the order of `kinds` (addresses in the actor's order, IPv6 ones as their /64,
/// the unit login detectors count by). A kind with no target (a finding with many
/// users cannot lock "the" role) gives nothing: actions are never guessed.
pub fn suggest(f: &Finding, kinds: &[ActionKind]) -> Vec<SuggestedAction> {
    let mut out = Vec::new();
    let a = &f.actor;
    let r = &f.resource;
    let on_database = matches!(r.kind.as_str(), "db_instance" | "db_cluster") && r.engine.is_some();
    for kind in kinds {
        match kind {
            ActionKind::BlockAddress => {
                let ips: Vec<IpAddr> = if a.ips.is_empty() {
                    a.ip.into_iter().collect()
                } else {
                    a.ips.clone()
                };
                let mut seen = BTreeSet::new();
                for ip in ips {
                    let address = match ip {
                        IpAddr::V4(v4) => v4.to_string(),
                        IpAddr::V6(v6) => {
                            let s = v6.segments();
                            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                            format!("{net}/64")
                        }
                    };
                    if seen.insert(address.clone()) {
                        out.push(SuggestedAction::BlockAddress { address });
                    }
                }
            }
            ActionKind::LockRole | ActionKind::EndSessions => {
                let Some(user) = a.user.clone().filter(|_| on_database) else {
                    continue;
                };
                let instance = r.id.clone();
                out.push(if *kind == ActionKind::LockRole {
                    SuggestedAction::LockRole { instance, user }
                } else {
                    SuggestedAction::EndSessions { instance, user }
                });
            }
            ActionKind::RotateCredentials => {
                if let Some(principal) = a.user.clone().filter(|_| r.engine.is_none()) {
                    out.push(SuggestedAction::RotateCredentials { principal });
                }
            }
            ActionKind::ClosePublicAccess | ActionKind::RestoreLogging => {
                if r.id.is_empty() || r.id == "-" {
                    continue;
                }
                let (resource_kind, resource) = (r.kind.clone(), r.id.clone());
                out.push(if *kind == ActionKind::ClosePublicAccess {
                    SuggestedAction::ClosePublicAccess {
                        resource_kind,
                        resource,
                    }
                } else {
                    SuggestedAction::RestoreLogging {
                        resource_kind,
                        resource,
                    }
                });
            }
            // Added by the detector that read the call (see `fill`).
            ActionKind::RevokeIngress => {}
        }
    }
    out.truncate(MAX_ACTIONS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use keibi_model::{Engine, Resource, Severity};

    fn finding(kind: &str, engine: Option<Engine>) -> Finding {
        let t = chrono::DateTime::UNIX_EPOCH;
        let resource = Resource {
            kind: kind.into(),
            id: "shop".into(),
            engine,
            ..Default::default()
        };
        Finding::new("d", "t", &[], Severity::new(5.0), resource, t)
    }

    #[test]
    fn every_builtin_detector_declares_its_types_once_under_its_own_id() {
        let mut seen = std::collections::HashSet::new();
        for d in crate::detectors::builtin(&crate::Config::default()) {
            let entries = d.catalog();
            assert!(!entries.is_empty(), "{} declares nothing", d.id());
            for e in entries {
                assert_eq!(e.source, d.id());
                assert_eq!(e.origin, "detector");
                assert!(
                    seen.insert((e.source.clone(), e.spec.finding_type.clone())),
                    "{} declares {} twice",
                    e.source,
                    e.spec.finding_type
                );
                assert!(e.spec.finding_type.contains(':') && e.spec.finding_type.contains('/'));
                assert!(!e.spec.mitre.is_empty() && !e.spec.title.is_empty());
            }
        }
    }

    #[test]
    fn a_successful_brute_force_blocks_locks_and_ends() {
        let mut f = finding("db_instance", Some(Engine::Postgres));
        f.actor.ip = Some("203.0.113.9".parse().unwrap());
        f.actor.user = Some("app".into());
        let all = [
            ActionKind::BlockAddress,
            ActionKind::LockRole,
            ActionKind::EndSessions,
        ];
        let got = suggest(&f, &all);
        assert_eq!(
            got,
            vec![
                SuggestedAction::BlockAddress {
                    address: "203.0.113.9".into()
                },
                SuggestedAction::LockRole {
                    instance: "shop".into(),
                    user: "app".into()
                },
                SuggestedAction::EndSessions {
                    instance: "shop".into(),
                    user: "app".into()
                },
            ]
        );
        // A database user is not an AWS principal.
        assert!(suggest(&f, &[ActionKind::RotateCredentials]).is_empty());
    }

    #[test]
    fn many_users_lock_nothing_and_ipv6_blocks_per_64() {
        let mut f = finding("db_instance", Some(Engine::Mysql));
        f.actor.users = vec!["a".into(), "b".into()];
        f.actor.ips = vec![
            "2001:db8:7:42::1".parse().unwrap(),
            "2001:db8:7:42::2".parse().unwrap(),
            "198.51.100.1".parse().unwrap(),
        ];
        let got = suggest(&f, &[ActionKind::BlockAddress, ActionKind::LockRole]);
        assert_eq!(
            got,
            vec![
                SuggestedAction::BlockAddress {
                    address: "2001:db8:7:42::/64".into()
                },
                SuggestedAction::BlockAddress {
                    address: "198.51.100.1".into()
                },
            ]
        );
        f.actor.ips = (0..100u8).map(|i| IpAddr::from([10, 0, 0, i])).collect();
        assert_eq!(suggest(&f, &[ActionKind::BlockAddress]).len(), MAX_ACTIONS);
    }

    #[test]
    fn aws_findings_rotate_the_principal_and_close_the_resource() {
        let mut f = finding("db_snapshot", None);
        f.actor.user = Some("arn:aws:iam::1:user/x".into());
        let got = suggest(
            &f,
            &[
                ActionKind::RotateCredentials,
                ActionKind::ClosePublicAccess,
                ActionKind::LockRole,
            ],
        );
        assert_eq!(
            got,
            vec![
                SuggestedAction::RotateCredentials {
                    principal: "arn:aws:iam::1:user/x".into()
                },
                SuggestedAction::ClosePublicAccess {
                    resource_kind: "db_snapshot".into(),
                    resource: "shop".into()
                },
            ]
        );
    }
}
