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
        let (kind, key, label, remove) = if c.name == "ModifyDBClusterSnapshotAttribute" {
            (
                "db_cluster_snapshot",
                "dBClusterSnapshotIdentifier",
                "ct-label-cluster-snapshot",
                "ct-shared-remove-cluster",
            )
        } else {
            (
                "db_snapshot",
                "dBSnapshotIdentifier",
                "ct-label-snapshot",
                "ct-shared-remove",
            )
        };
        let id = short(c.req_str(&[key]).unwrap_or("-"));
        let accounts = || text::values_arg(&external, false);
        let found = Found {
            finding_type: SNAPSHOT_SHARED,
            severity: 7.0,
            resource_kind: kind,
            resource_id: &id,
            mitre: &["T1537"],
            title: Msg::new("ct-shared-title")
                .arg("label", Msg::new(label))
                .arg("snapshot", id.as_str())
                .arg("accounts", accounts())
                .arg("who", c.who.as_str()),
            description: vec![
                Msg::new("ct-shared")
                    .arg("who", c.who.as_str())
                    .arg("accounts", accounts())
                    .arg("label", Msg::new(label))
                    .arg("snapshot", id.as_str())
                    .arg("api", c.name)
                    .arg("origin", c.origin()),
                Msg::new("ct-shared-why"),
            ],
            remediation: vec![Msg::new(remove), Msg::new("ct-shared-yours")],
        };
        self.raise(cx, &c.who, found, &[c.ev]);
    }

    /// Stealth:RDS/ProtectionWeakened from a parameter-group change that turns off
    /// connection or audit logging (or resets those parameters to their defaults,
    /// which are off).
    pub(super) fn parameter_group(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let reset = c.name.starts_with("Reset");
        let mut off: Vec<Msg> = Vec::new();
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
                (true, _) => off.push(Msg::new("ct-param-reset").arg("name", name)),
                (false, Some(v)) if test(v) => off.push(
                    Msg::new("ct-param-set")
                        .arg("name", name)
                        .arg("value", truncate(v.to_string(), 32)),
                ),
                _ => {}
            }
        }
        if reset && flag(c.req(&["resetAllParameters"])) == Some(true) {
            off.push(Msg::new("ct-param-reset-all"));
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
            title: Msg::new("ct-param-title")
                .arg("group", id.as_str())
                .arg("who", c.who.as_str()),
            description: vec![
                Msg::new("ct-param")
                    .arg("who", c.who.as_str())
                    .arg("api", c.name)
                    .arg("group", id.as_str())
                    .arg("origin", c.origin())
                    .arg("changes", text::list_arg(off, false)),
                Msg::new("ct-param-why"),
            ],
            remediation: vec![Msg::new("ct-param-ask"), Msg::new("ct-param-restore")],
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
            title: Msg::new("ct-selectors-title")
                .arg("trail", trail.as_str())
                .arg("who", c.who.as_str()),
            description: vec![
                Msg::new("ct-selectors")
                    .arg("who", c.who.as_str())
                    .arg("trail", trail.as_str())
                    .arg("origin", c.origin()),
                Msg::new("ct-selectors-why"),
            ],
            remediation: vec![
                Msg::new("ct-selectors-restore"),
                Msg::new("ct-revoke-ask-review"),
            ],
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
            title: Msg::new("ct-guardduty-title").arg("who", c.who.as_str()),
            description: vec![Msg::new("ct-guardduty")
                .arg("who", c.who.as_str())
                .arg("detector", truncate(detector.to_string(), 64))
                .arg("origin", c.origin())],
            remediation: vec![Msg::new("ct-guardduty-restore"), Msg::new("ct-revoke-ask")],
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
