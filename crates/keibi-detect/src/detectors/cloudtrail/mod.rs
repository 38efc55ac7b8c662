//! AWS control-plane detections that read badly as Sigma rules: request shapes with
//! lists of objects (security-group permissions, parameter lists, event selectors),
//! comparisons with configuration (database ports, trusted and organization
//! accounts), the threat and Tor lists, and bursts counted per principal. The plain
//! one-call detections are YAML rules under `rules/cloudtrail/`.
//!
//! A failed call (`errorCode` present) changed nothing: it raises no change finding
//! and only feeds AccessDeniedBurst. Records of AWS services acting on their own
//! (`userIdentity.type: AWSService`) raise nothing; calls a service made for a
//! principal (`invokedBy`) still change what they change, so they count for exposure
//! findings but not for bursts, where the service's retries are not the principal's.
//!
//! Findings aggregate per (type, resource, principal): the same principal opening
//! the same security group twice grows one finding's `count`.

use std::collections::HashMap;
use std::net::IpAddr;

use keibi_model::{Action, Event, FindingText, Msg, Resource, Severity, SourceKind};
use serde_json::Value;

use crate::config::Config;
use crate::detector::{Context, Detector};
use crate::findings::Raise;
use crate::iplist::Reputation;
use crate::sigma::meta::truncate;

mod bursts;
mod changes;
mod console;
mod iam;
mod network;
pub mod secrets;
mod sequence;
mod text;

use bursts::{is_denied, Bursts};

pub const DETECTOR_ID: &str = "cloudtrail";

pub const DB_PORT_OPEN: &str = "Policy:EC2/DatabasePortOpenToInternet";
pub const SNAPSHOT_SHARED: &str = "Exfiltration:RDS/SnapshotSharedExternally";
pub const PROTECTION_WEAKENED: &str = "Stealth:RDS/ProtectionWeakened";
pub const TRAIL_DISABLED: &str = "Stealth:IAMUser/CloudTrailLoggingDisabled";
pub const DETECTION_DISABLED: &str = "Stealth:IAMUser/DetectionDisabled";
pub const ACCESS_DENIED_BURST: &str = "Discovery:IAMUser/AccessDeniedBurst";
pub const MALICIOUS_IP: &str = "Recon:IAMUser/MaliciousIPCaller";
pub const TOR_IP: &str = "Recon:IAMUser/TorIPCaller";
pub use console::{CONSOLE_BRUTE_FORCE, CONSOLE_TAKEOVER};
pub use iam::{ADMIN_POLICY, OTHERS_CREDENTIALS, OUTSIDE_TRUST};
pub use sequence::ATTACK_SEQUENCE;

/// The finding types this detector raises (see [`crate::catalog`]); others of the CloudTrail section come from the built-in rules under `rules/cloudtrail/`.
pub(crate) fn specs() -> Vec<keibi_model::FindingSpec> {
    vec![
        keibi_model::FindingSpec::new(
            DB_PORT_OPEN,
            7.0,
            &["T1133"],
            "Database port open to the internet",
            "Remove the rule or entry that opens the port to 0.0.0.0/0 or ::/0 and allow only the addresses that need the database.",
            &[keibi_model::ActionKind::RevokeIngress],
        ),
        keibi_model::FindingSpec::new(
            SNAPSHOT_SHARED,
            7.0,
            &["T1537"],
            "Snapshot shared with another account",
            "Remove the unknown account from the snapshot's restore attribute and find out who shared it.",
            &[keibi_model::ActionKind::RotateCredentials],
        ),
        keibi_model::FindingSpec::new(
            PROTECTION_WEAKENED,
            6.0,
            &["T1562"],
            "Database protection weakened",
            "Turn the protection back on (deletion protection, backups, log exports, logging parameters) and ask who turned it off.",
            &[keibi_model::ActionKind::RotateCredentials],
        ),
        keibi_model::FindingSpec::new(
            TRAIL_DISABLED,
            8.0,
            &["T1562.008"],
            "CloudTrail logging disabled",
            "Start the trail again and find out who stopped it; treat that principal's credentials as stolen until you know.",
            &[keibi_model::ActionKind::RestoreLogging, keibi_model::ActionKind::RotateCredentials],
        ),
        keibi_model::FindingSpec::new(
            DETECTION_DISABLED,
            8.0,
            &["T1562.001"],
            "Detection disabled",
            "Turn the detector or recorder back on and find out who turned it off; treat that principal's credentials as stolen until you know.",
            &[keibi_model::ActionKind::RestoreLogging, keibi_model::ActionKind::RotateCredentials],
        ),
        keibi_model::FindingSpec::new(
            ACCESS_DENIED_BURST,
            5.0,
            &["T1580", "T1087"],
            "Burst of denied AWS calls",
            "Ask the principal's owner what it was doing; if nobody knows, deactivate and rotate its credentials.",
            &[keibi_model::ActionKind::RotateCredentials],
        ),
        keibi_model::FindingSpec::new(
            MALICIOUS_IP,
            6.0,
            &["T1595"],
            "AWS calls from a threat-listed address",
            "Find out whose credentials were used from the address; if not yours, deactivate and rotate them.",
            &[keibi_model::ActionKind::RotateCredentials],
        ),
        keibi_model::FindingSpec::new(
            TOR_IP,
            6.0,
            &["T1090.003"],
            "AWS calls from a Tor exit node",
            "Find out whose credentials were used through Tor; if not an expected user, deactivate and rotate them.",
            &[keibi_model::ActionKind::RotateCredentials],
        ),
        keibi_model::FindingSpec::new(
            CONSOLE_BRUTE_FORCE,
            5.0,
            &["T1110.001"],
            "AWS console brute force",
            "Make sure every console user, and root, has MFA; watch for a successful sign-in from the same address or for the same user.",
            &[keibi_model::ActionKind::RotateCredentials],
        ),
        keibi_model::FindingSpec::new(
            CONSOLE_TAKEOVER,
            8.0,
            &["T1110.001", "T1078.004"],
            "AWS console sign-in after a brute force",
            "Treat the password as known to an attacker: reset it, require MFA, end the user's sessions and review what was done after the sign-in.",
            &[keibi_model::ActionKind::RotateCredentials],
        ),
        keibi_model::FindingSpec::new(
            ADMIN_POLICY,
            7.0,
            &["T1098.003", "T1136.003"],
            "Admin or RDS-wide policy given to a user, role or group",
            "Ask who granted it and why; if nobody did, detach the policy, and delete the user or role if it is new.",
            &[keibi_model::ActionKind::RotateCredentials],
        ),
        keibi_model::FindingSpec::new(
            OTHERS_CREDENTIALS,
            7.0,
            &["T1098.001"],
            "Access key or password made for another user",
            "Ask the user whether they asked for it; if not, delete the key or the console password and find out who made it.",
            &[keibi_model::ActionKind::RotateCredentials],
        ),
        keibi_model::FindingSpec::new(
            OUTSIDE_TRUST,
            8.0,
            &["T1098.003"],
            "Role trusted by an outside account",
            "Remove the outside account from the role's trust policy unless it is a partner you know, and find out who added it.",
            &[keibi_model::ActionKind::RotateCredentials],
        ),
        keibi_model::FindingSpec::new(
            ATTACK_SEQUENCE,
            9.0,
            &["T1110.001", "T1078.004", "T1098", "T1136.003"],
            "Console takeover followed by IAM persistence",
            "Treat the account as compromised: lock the taken-over principal, delete what it created (users, keys, passwords, policies, trust), and check the databases.",
            &[keibi_model::ActionKind::RotateCredentials],
        ),
    ]
}

/// The CloudTrail detector. See the module documentation.
pub struct CloudTrail {
    denied: Bursts,
    deletes: Bursts,
    console: console::Console,
    sequence: sequence::Sequence,
    created: iam::Created,
    /// Texts of each finding, the description without its figures;
    /// [`Detector::render`] adds the count, time span and addresses.
    texts: HashMap<String, FindingText>,
    /// The longest burst window: the one-record rules keep nothing.
    horizon: chrono::Duration,
}

impl CloudTrail {
    pub fn new(config: &Config) -> CloudTrail {
        let c = &config.cloudtrail;
        let longest = c
            .access_denied_window_secs
            .max(c.snapshot_delete_window_secs)
            .max(c.console_window_secs.saturating_add(c.sequence_window_secs))
            .min(crate::config::MAX_WINDOW_SECS);
        CloudTrail {
            denied: Bursts::default(),
            deletes: Bursts::default(),
            console: Default::default(),
            sequence: Default::default(),
            created: Default::default(),
            texts: HashMap::new(),
            horizon: chrono::Duration::seconds(longest as i64),
        }
    }
}

/// What the detector reads of one record.
struct Call<'a> {
    ev: &'a Event,
    rec: &'a Value,
    source: &'a str,
    name: &'a str,
    /// `user`: the principal ARN (or the best the record offers), cut to
    /// [`MAX_ID`] like every identifier a finding quotes (log fields are hostile).
    who: String,
    account: String,
}

impl Call<'_> {
    fn req(&self, path: &[&str]) -> Option<&Value> {
        at(self.rec.get("requestParameters")?, path)
    }

    fn req_str(&self, path: &[&str]) -> Option<&str> {
        self.req(path).and_then(Value::as_str)
    }
}

/// The longest identifier (ARN, snapshot or group id) a finding keeps: AWS's own
/// limits are far below it, so only a forged record is cut.
const MAX_ID: usize = 256;

/// An identifier from the record, cut to [`MAX_ID`] characters.
fn short(s: &str) -> String {
    truncate(s.to_string(), MAX_ID)
}

fn at<'a>(mut v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    for p in path {
        v = v.get(p)?;
    }
    Some(v)
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A number that may arrive as a JSON number or a string (`"5432"`).
fn num(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean that may arrive as `true` or `"true"`.
fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A list that CloudTrail writes either as an array, as `{"items": [...]}` (EC2's
/// query-API shape), or as a lone object when it has one element.
fn items(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(obj @ Value::Object(m)) => match m.get("items") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(_) => Vec::new(),
            None if m.is_empty() => Vec::new(),
            None => vec![obj],
        },
        _ => Vec::new(),
    }
}

/// The calls the change detections read (their source is checked afterwards).
fn is_watched(name: &str) -> bool {
    matches!(
        name,
        "AuthorizeSecurityGroupIngress"
            | "ModifySecurityGroupRules"
            | "CreateNetworkAclEntry"
            | "ReplaceNetworkAclEntry"
            | "ModifyDBSnapshotAttribute"
            | "ModifyDBClusterSnapshotAttribute"
            | "DeleteDBSnapshot"
            | "DeleteDBClusterSnapshot"
            | "ModifyDBParameterGroup"
            | "ModifyDBClusterParameterGroup"
            | "ResetDBParameterGroup"
            | "ResetDBClusterParameterGroup"
            | "PutEventSelectors"
            | "UpdateDetector"
            | "ConsoleLogin"
            | "GetFederationToken"
            | "CreateTrustAnchor"
    ) || iam::is_iam(name)
        || sequence::is_step("iam.amazonaws.com", name)
}

/// Whether a call with `userIdentity.invokedBy` is still the principal's own: the
/// console's front ends write themselves there for what a person does in the
/// console (root's Security credentials page: `signin.amazonaws.com`).
fn console_front_end(invoked_by: &str) -> bool {
    matches!(invoked_by, "signin.amazonaws.com" | "console.amazonaws.com")
}

impl Detector for CloudTrail {
    fn replay_horizon(&self) -> Option<chrono::Duration> {
        Some(self.horizon)
    }

    fn id(&self) -> &'static str {
        DETECTOR_ID
    }

    fn catalog(&self) -> Vec<crate::catalog::Entry> {
        crate::catalog::Entry::of_detector(self.id(), specs())
    }

    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>) {
        if ev.source != SourceKind::Cloudtrail || ev.action != Action::ApiCall {
            return;
        }
        let Some(rec) = ev.record.as_deref() else {
            return;
        };
        // Cheap tests first: almost every record is a read none of these detections
        // cares about, and a scan sees millions. Only a listed address, a refusal or
        // one of the watched calls reads further into the record.
        let listed = matches!(cx.reputation(ev), Reputation::Listed { .. });
        let denied = ev.error_code.as_deref().is_some_and(is_denied);
        let name = str_at(rec, &["eventName"]).unwrap_or("-");
        let watched = ev.error_code.is_none() && is_watched(name);
        if !(listed || denied || watched) {
            return;
        }
        if str_at(rec, &["userIdentity", "type"]) == Some("AWSService") {
            return;
        }
        let call = Call {
            ev,
            rec,
            source: str_at(rec, &["eventSource"]).unwrap_or("-"),
            name,
            who: short(ev.user.as_deref().unwrap_or("-")),
            account: short(
                str_at(rec, &["recipientAccountId"])
                    .or_else(|| str_at(rec, &["userIdentity", "accountId"]))
                    .unwrap_or("-"),
            ),
        };
        let for_principal =
            str_at(rec, &["userIdentity", "invokedBy"]).is_none_or(console_front_end);
        if listed {
            self.reputation(&call, cx);
        }
        if denied && for_principal {
            self.access_denied(&call, cx);
        }
        if !watched {
            return;
        }
        match (call.source, call.name) {
            ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress" | "ModifySecurityGroupRules") => {
                self.security_group(&call, cx)
            }
            ("ec2.amazonaws.com", "CreateNetworkAclEntry" | "ReplaceNetworkAclEntry") => {
                self.network_acl(&call, cx)
            }
            (
                "rds.amazonaws.com",
                "ModifyDBSnapshotAttribute" | "ModifyDBClusterSnapshotAttribute",
            ) => self.snapshot_shared(&call, cx),
            ("rds.amazonaws.com", "DeleteDBSnapshot" | "DeleteDBClusterSnapshot")
                if for_principal =>
            {
                self.snapshot_deleted(&call, cx)
            }
            (
                "rds.amazonaws.com",
                "ModifyDBParameterGroup"
                | "ModifyDBClusterParameterGroup"
                | "ResetDBParameterGroup"
                | "ResetDBClusterParameterGroup",
            ) => self.parameter_group(&call, cx),
            ("cloudtrail.amazonaws.com", "PutEventSelectors") => self.event_selectors(&call, cx),
            ("guardduty.amazonaws.com", "UpdateDetector") => self.guardduty_features(&call, cx),
            ("signin.amazonaws.com", "ConsoleLogin") => self.console_login(&call, cx),
            _ => {}
        }
        if call.source == "iam.amazonaws.com" && iam::is_iam(call.name) {
            self.iam_call(&call, cx);
        }
        if for_principal && sequence::is_step(call.source, call.name) {
            self.sequence_step(&call, cx);
        }
    }

    fn render(&mut self, cx: &mut Context<'_>) {
        for f in cx.findings.to_render(DETECTOR_ID) {
            if let Some(base) = self.texts.get(&f.id) {
                set_text(f, base.clone());
            }
        }
    }
}

/// Sets a finding's texts from `base` and its figures (count, time span,
/// addresses); the English title keeps the 200-character bound it always had.
fn set_text(f: &mut keibi_model::Finding, mut t: FindingText) {
    t.description.push(text::figures(f));
    crate::text::set(f, t);
    f.title = truncate(std::mem::take(&mut f.title), 200);
}

/// One finding's identity and texts, for [`CloudTrail::raise`].
struct Found<'a> {
    finding_type: &'a str,
    severity: f64,
    resource_kind: &'a str,
    resource_id: &'a str,
    mitre: &'a [&'a str],
    title: Msg,
    description: Vec<Msg>,
    remediation: Vec<Msg>,
}

impl CloudTrail {
    /// Raises or grows the finding keyed by (type, resource, principal) and absorbs
    /// `evs` into it. Texts are written when the finding is new. Returns its id.
    fn raise(
        &mut self,
        cx: &mut Context<'_>,
        who: &str,
        found: Found<'_>,
        evs: &[&Event],
    ) -> Option<String> {
        self.raise_with(cx, who, found, evs, false)
    }

    /// As [`CloudTrail::raise`], and a finding already raised at a lower severity
    /// rises to this one, with this one's texts.
    fn raise_up(
        &mut self,
        cx: &mut Context<'_>,
        who: &str,
        found: Found<'_>,
        evs: &[&Event],
    ) -> Option<String> {
        self.raise_with(cx, who, found, evs, true)
    }

    fn raise_with(
        &mut self,
        cx: &mut Context<'_>,
        who: &str,
        found: Found<'_>,
        evs: &[&Event],
        up: bool,
    ) -> Option<String> {
        let first = evs.first()?;
        let f = cx.findings.raise(Raise {
            detector: DETECTOR_ID,
            finding_type: found.finding_type,
            key: &[found.resource_kind, found.resource_id, who],
            severity: Severity::new(found.severity),
            resource: Resource {
                kind: found.resource_kind.to_string(),
                id: found.resource_id.to_string(),
                engine: None,
                ..Default::default()
            },
            time: first.time,
        });
        let new = f.count == 0;
        for e in evs {
            f.absorb(e);
        }
        let sev = Severity::new(found.severity);
        if new || (up && sev > f.severity) {
            f.severity = sev;
            f.mitre = found.mitre.iter().map(|m| m.to_string()).collect();
            let text = FindingText {
                title: Some(found.title),
                description: found.description,
                remediation: found.remediation,
            };
            set_text(f, text.clone());
            self.texts.insert(f.id.clone(), text);
        }
        Some(f.id.clone())
    }

    /// Recon:IAMUser/MaliciousIPCaller and TorIPCaller: any call, failed or not,
    /// from a listed address.
    fn reputation(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let Reputation::Listed { tor, threat } = cx.reputation(c.ev) else {
            return;
        };
        let (tor, threat) = (tor.map(str::to_string), threat.map(str::to_string));
        let ip = c.ev.client_ip.map(|i| i.to_string()).unwrap_or_default();
        for (list, finding_type, what, mitre) in [
            (tor, TOR_IP, "ct-what-tor", &["T1090.003"][..]),
            (threat, MALICIOUS_IP, "ct-what-threat", &["T1595"][..]),
        ] {
            let Some(list) = list else { continue };
            let found = Found {
                finding_type,
                severity: 6.0,
                resource_kind: "aws_account",
                resource_id: &c.account,
                mitre,
                title: Msg::new("ct-rep-title")
                    .arg("what", Msg::new(what))
                    .arg("ip", ip.as_str())
                    .arg("who", c.who.as_str()),
                description: vec![Msg::new("ct-rep-called")
                    .arg("who", c.who.as_str())
                    .arg("api", c.name)
                    .arg("service", c.source)
                    .arg("origin", c.origin())
                    .arg("ip", ip.as_str())
                    .arg("what", Msg::new(what))
                    .arg("list", truncate(list, 64))],
                remediation: vec![Msg::new("ct-rep-nobody"), Msg::new("ct-rep-stolen")],
            };
            self.raise(cx, &c.who, found, &[c.ev]);
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod rules_tests;

#[cfg(test)]
mod tests_i18n;

#[cfg(test)]
mod rules_ja_tests;

#[cfg(test)]
mod tests_identity;
