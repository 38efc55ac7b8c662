//! One-call changes whose request needs list matching or configuration: snapshots
//! shared with unknown accounts, parameter groups that stop logging, event selectors
//! that stop recording, GuardDuty RDS protection turned off.

use super::*;

/// Parameters whose "off" value stops connection or audit logging, with the test
/// for "off".
/// Tells whether a parameter value means "off".
type IsOff = fn(&str) -> bool;

const LOGGING_PARAMETERS: &[(&str, IsOff)] = &[
    ("log_connections", is_off),
    ("pgaudit.log", is_pgaudit_none),
    ("server_audit_logging", is_off),
];

fn is_off(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "0" | "off" | "false" | "no"
    )
}

fn is_pgaudit_none(v: &str) -> bool {
    let v = v.trim();
    v.is_empty() || v.eq_ignore_ascii_case("none") || v == "-all"
}

impl CloudTrail {
    /// Exfiltration:RDS/SnapshotSharedExternally: `restore` granted to accounts that
    /// are neither the caller's, trusted, nor in the organization. `all` is
    /// SnapshotPublic (rules/cloudtrail/snapshot-public.yml).
    pub(super) fn snapshot_shared(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let attr = c.req_str(&["attributeName"]).unwrap_or_default();
        if !attr.eq_ignore_ascii_case("restore") {
            return;
        }
        let own = [
            str_at(c.rec, &["userIdentity", "accountId"]),
            str_at(c.rec, &["recipientAccountId"]),
        ];
        let cfg = cx.config;
        let trusted = |a: &str| {
            own.contains(&Some(a))
                || cfg.trusted_accounts.iter().any(|t| t.trim() == a)
                || cfg.cloudtrail.org_accounts.iter().any(|t| t.trim() == a)
        };
        let external: Vec<String> = items(c.req(&["valuesToAdd"]))
            .into_iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|a| !a.eq_ignore_ascii_case("all") && !a.is_empty() && !trusted(a))
            .map(|a| truncate(a.to_string(), 64))
            .collect();
        if external.is_empty() {
            return;
        }
        let (kind, key, label) = if c.name == "ModifyDBClusterSnapshotAttribute" {
            (
                "db_cluster_snapshot",
                "dBClusterSnapshotIdentifier",
                "cluster snapshot",
            )
        } else {
            ("db_snapshot", "dBSnapshotIdentifier", "snapshot")
        };
        let id = short(c.req_str(&[key]).unwrap_or("-"));
        let accounts = list_text(&external, false);
        let found = Found {
            finding_type: SNAPSHOT_SHARED,
            severity: 7.0,
            resource_kind: kind,
            resource_id: &id,
            mitre: &["T1537"],
            title: format!(
                "RDS {label} {id} shared with account {accounts} by {}",
                c.who
            ),
            description: format!(
                "{} let account(s) {accounts} restore RDS {label} {id} ({}) {}. Those \
                 accounts are not yours, trusted (--trusted-account) or in your \
                 organization (cloudtrail.org_accounts): they can copy the whole database.",
                c.who,
                c.name,
                c.origin(),
            ),
            remediation: "If the share is not a planned migration or backup, remove it now \
                (aws rds modify-db-snapshot-attribute --attribute-name restore \
                --values-to-remove <account>, or modify-db-cluster-snapshot-attribute), revoke \
                the principal's keys or sessions, and treat the data as copied. If the account \
                is one of yours, add it to cloudtrail.org_accounts or --trusted-account.",
        };
        self.raise(cx, &c.who, found, &[c.ev]);
    }

    /// Stealth:RDS/ProtectionWeakened from a parameter-group change that turns off
    /// connection or audit logging (or resets those parameters to their defaults,
    /// which are off).
    pub(super) fn parameter_group(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let reset = c.name.starts_with("Reset");
        let mut off: Vec<String> = Vec::new();
        for p in items(c.req(&["parameters"])) {
            let Some(name) = str_at(p, &["parameterName"]) else {
                continue;
            };
            let Some((_, test)) = LOGGING_PARAMETERS
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            else {
                continue;
            };
            let value = p.get("parameterValue").and_then(Value::as_str);
            match (reset, value) {
                (true, _) => off.push(format!("{name} reset to default")),
                (false, Some(v)) if test(v) => {
                    off.push(format!("{name}={}", truncate(v.to_string(), 32)))
                }
                _ => {}
            }
        }
        if reset && flag(c.req(&["resetAllParameters"])) == Some(true) {
            off.push("all parameters reset to defaults".to_string());
        }
        if off.is_empty() {
            return;
        }
        let cluster = c.name.contains("Cluster");
        let (kind, key) = if cluster {
            ("db_cluster_parameter_group", "dBClusterParameterGroupName")
        } else {
            ("db_parameter_group", "dBParameterGroupName")
        };
        let id = short(c.req_str(&[key]).unwrap_or("-"));
        let found = Found {
            finding_type: PROTECTION_WEAKENED,
            severity: 6.0,
            resource_kind: kind,
            resource_id: &id,
            mitre: &["T1562"],
            title: format!(
                "Database logging turned off in parameter group {id} by {}",
                c.who
            ),
            description: format!(
                "{} called {} on parameter group {id} {}: {}. Every database using the \
                 group stops logging connections or audit records, so logins and queries \
                 after this go unseen.",
                c.who,
                c.name,
                c.origin(),
                list_text(&off, false),
            ),
            remediation: "Ask the database owner whether this was planned. If not, set the \
                parameters back (log_connections=1, pgaudit.log to your audit classes, \
                server_audit_logging=1), revoke the principal's keys or sessions, and review \
                what the databases logged just before the change.",
        };
        self.raise(cx, &c.who, found, &[c.ev]);
    }

    /// Stealth:IAMUser/CloudTrailLoggingDisabled from PutEventSelectors that leave
    /// the trail recording no management write events.
    pub(super) fn event_selectors(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        if records_management_writes(c) {
            return;
        }
        let trail = short(c.req_str(&["trailName"]).unwrap_or("-"));
        let found = Found {
            finding_type: TRAIL_DISABLED,
            severity: 8.0,
            resource_kind: "trail",
            resource_id: &trail,
            mitre: &["T1562.008"],
            title: format!(
                "Trail {trail} no longer records management events (by {})",
                c.who
            ),
            description: format!(
                "{} called PutEventSelectors on trail {trail} {}, leaving no selector that \
                 records management write events. The trail still looks enabled, but \
                 changes to the account (IAM, RDS, security groups) are no longer recorded.",
                c.who,
                c.origin(),
            ),
            remediation: "Restore the selectors (aws cloudtrail put-event-selectors --trail-name \
                <trail> with IncludeManagementEvents=true and ReadWriteType=All). Ask the person \
                behind the principal whether they did it; if not, revoke its keys or sessions \
                and review everything it did.",
        };
        self.raise(cx, &c.who, found, &[c.ev]);
    }

    /// Stealth:IAMUser/DetectionDisabled from a GuardDuty UpdateDetector that turns
    /// off RDS login monitoring while leaving the detector on (turning the detector
    /// off is rules/cloudtrail/detection-disabled.yml).
    pub(super) fn guardduty_features(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        if flag(c.req(&["enable"])) == Some(false) {
            return;
        }
        let rds_off = items(c.req(&["features"])).into_iter().any(|f| {
            str_at(f, &["name"]).is_some_and(|n| n.eq_ignore_ascii_case("RDS_LOGIN_EVENTS"))
                && str_at(f, &["status"]).is_some_and(|s| s.eq_ignore_ascii_case("DISABLED"))
        });
        if !rds_off {
            return;
        }
        let detector = c.req_str(&["detectorId"]).unwrap_or("-");
        let found = Found {
            finding_type: DETECTION_DISABLED,
            severity: 8.0,
            resource_kind: "aws_account",
            resource_id: &c.account,
            mitre: &["T1562.001"],
            title: format!("GuardDuty RDS login monitoring turned off by {}", c.who),
            description: format!(
                "{} turned off the RDS_LOGIN_EVENTS feature of GuardDuty detector {} {}: \
                 GuardDuty no longer watches database logins in this account and region.",
                c.who,
                truncate(detector.to_string(), 64),
                c.origin(),
            ),
            remediation: "Turn it back on (aws guardduty update-detector --detector-id <id> \
                --features Name=RDS_LOGIN_EVENTS,Status=ENABLED). Ask the person behind the \
                principal whether they did it; if not, revoke its keys or sessions.",
        };
        self.raise(cx, &c.who, found, &[c.ev]);
    }
}

/// Whether PutEventSelectors leaves at least one selector that records management
/// write events. Basic selectors: `includeManagementEvents` (default true) with
/// `readWriteType` All or WriteOnly (default All). Advanced selectors: one whose
/// `eventCategory` equals Management and that does not restrict to `readOnly: true`.
/// A request with neither list is not understood and assumed harmless.
fn records_management_writes(c: &Call<'_>) -> bool {
    if let Some(sel) = c.req(&["eventSelectors"]) {
        return items(Some(sel)).into_iter().any(|s| {
            let mgmt = flag(s.get("includeManagementEvents")).unwrap_or(true);
            let rw = str_at(s, &["readWriteType"]).unwrap_or("All");
            mgmt && !rw.eq_ignore_ascii_case("ReadOnly")
        });
    }
    if let Some(adv) = c.req(&["advancedEventSelectors"]) {
        return items(Some(adv)).into_iter().any(|s| {
            let fields = items(s.get("fieldSelectors"));
            let equals = |field: &str, want: &str| {
                fields.iter().any(|f| {
                    str_at(f, &["field"]).is_some_and(|x| x.eq_ignore_ascii_case(field))
                        && items(f.get("equals"))
                            .into_iter()
                            .filter_map(Value::as_str)
                            .any(|v| v.eq_ignore_ascii_case(want))
                })
            };
            equals("eventCategory", "Management") && !equals("readOnly", "true")
        });
    }
    true
}
