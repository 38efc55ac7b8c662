//! OCSF 1.8.0 events for Security Lake and SIEMs: a keibi finding becomes a
//! Detection Finding (class 2004), and a posture finding (`Posture:<control>/…`) a
//! Compliance Finding (class 2003) with the control in its `compliance` object.
//! One JSON object per line (`keibi scan --format ocsf`, the daemon's `ocsf_file`
//! channel). The mapping is tabled in `docs/exports.md`; the binary's tests
//! (`crates/keibi/src/output/ocsf/tests.rs`) check every event against a trimmed
//! extract of the OCSF schema (`crates/keibi/tests/data/ocsf/`).
//!
//! Every text comes from the finding as it is (serde escapes it); nothing here reads
//! anything else, so an event is bounded by the finding (at most 20 evidence
//! references and 100 addresses and users).

use crate::finding::{Evidence, Finding, SeverityLabel};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

/// The OCSF schema version written in `metadata.version`.
pub const OCSF_VERSION: &str = "1.8.0";
/// Category `findings`.
pub const CATEGORY_FINDINGS: u32 = 2;
/// Class Detection Finding.
pub const CLASS_DETECTION: u32 = 2004;
/// Class Compliance Finding (posture checks).
pub const CLASS_COMPLIANCE: u32 = 2003;

/// The store's workflow status (`new`, `acknowledged`, `resolved`, `suppressed`) as
/// OCSF's `status_id` and its caption; a finding with no store (a scan) is new.
pub fn status_of(status: &str) -> (u8, &'static str) {
    match status {
        "acknowledged" => (2, "In Progress"),
        "suppressed" => (3, "Suppressed"),
        "resolved" => (4, "Resolved"),
        _ => (1, "New"),
    }
}

/// OCSF's `activity_id` from the store's status: a resolved or suppressed finding is
/// closed (3), an acknowledged one or one that grew since it was first seen is an
/// update (2), anything else is its creation (1).
pub fn activity_of(f: &Finding, status: &str) -> (u8, &'static str) {
    match status {
        "resolved" | "suppressed" => (3, "Close"),
        "acknowledged" => (2, "Update"),
        _ if f.count > 1 || f.last_seen > f.first_seen => (2, "Update"),
        _ => (1, "Create"),
    }
}

/// keibi's 1.0-10.0 severity on OCSF's scale: Low (1.0-3.9) is 2 Low, Medium
/// (4.0-6.9) 3 Medium, High (7.0-8.9) 4 High, Critical (9.0-10.0) 5 Critical.
/// OCSF's 1 Informational and 6 Fatal are never written.
pub fn severity_of(label: SeverityLabel) -> (u8, &'static str) {
    match label {
        SeverityLabel::Low => (2, "Low"),
        SeverityLabel::Medium => (3, "Medium"),
        SeverityLabel::High => (4, "High"),
        SeverityLabel::Critical => (5, "Critical"),
    }
}

/// The MITRE ATT&CK tactic of a finding type's threat purpose (the part before the
/// colon, GuardDuty's vocabulary), when it has one.
pub fn tactic_of(finding_type: &str) -> Option<(&'static str, &'static str)> {
    let purpose = finding_type.split(':').next().unwrap_or("");
    Some(match purpose {
        "InitialAccess" => ("TA0001", "Initial Access"),
        "Execution" => ("TA0002", "Execution"),
        "Persistence" => ("TA0003", "Persistence"),
        "PrivilegeEscalation" => ("TA0004", "Privilege Escalation"),
        "DefenseEvasion" | "Stealth" => ("TA0005", "Defense Evasion"),
        "CredentialAccess" => ("TA0006", "Credential Access"),
        "Discovery" => ("TA0007", "Discovery"),
        "LateralMovement" => ("TA0008", "Lateral Movement"),
        "Collection" => ("TA0009", "Collection"),
        "Exfiltration" => ("TA0010", "Exfiltration"),
        "CommandAndControl" => ("TA0011", "Command and Control"),
        "Impact" => ("TA0040", "Impact"),
        _ => return None,
    })
}

/// The control id of a posture finding type (`Posture:RDS.2/PubliclyAccessible` is
/// `RDS.2`), or `None` for a detection.
pub fn posture_control(finding_type: &str) -> Option<&str> {
    let rest = finding_type.strip_prefix("Posture:")?;
    let id = rest.split('/').next().unwrap_or("");
    (!id.is_empty()).then_some(id)
}

fn ms(t: &DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// One finding as an OCSF event; `status` is the store's workflow status (`new`
/// for a scan's findings).
pub fn event(f: &Finding, status: &str) -> Value {
    let control = posture_control(&f.finding_type);
    let (class_uid, class_name) = match control {
        Some(_) => (CLASS_COMPLIANCE, "Compliance Finding"),
        None => (CLASS_DETECTION, "Detection Finding"),
    };
    let (activity_id, activity_name) = activity_of(f, status);
    let (status_id, status_name) = status_of(status);
    let (severity_id, severity_name) = severity_of(f.severity.label());

    let attacks: Vec<Value> = attacks(f);
    let analytic = json!({
        "uid": f.detector,
        "name": f.detector,
        "type_id": 1,
        "type": "Rule",
    });
    let mut info = json!({
        "uid": f.id,
        "title": f.title,
        "desc": f.description,
        "types": [f.finding_type],
        "created_time": ms(&f.first_seen),
        "modified_time": ms(&f.last_seen),
        "first_seen_time": ms(&f.first_seen),
        "last_seen_time": ms(&f.last_seen),
        "analytic": analytic,
        "related_analytics": [analytic],
    });
    if !attacks.is_empty() {
        info["attacks"] = Value::Array(attacks.clone());
    }

    let r = &f.resource;
    let mut resource = json!({
        "type": r.kind,
        "uid": r.id,
        "name": r.id,
    });
    if let Some(region) = &r.region {
        resource["region"] = json!(region);
    }
    if let Some(account) = &r.account {
        resource["owner"] = json!({ "account": aws_account(account) });
    }
    if let Some(engine) = r.engine {
        resource["data"] = json!({ "engine": engine });
    }

    let mut profiles: Vec<&str> = Vec::new();
    let mut ev = Map::new();
    ev.insert("activity_id".into(), json!(activity_id));
    ev.insert("activity_name".into(), json!(activity_name));
    ev.insert("category_uid".into(), json!(CATEGORY_FINDINGS));
    ev.insert("category_name".into(), json!("Findings"));
    ev.insert("class_uid".into(), json!(class_uid));
    ev.insert("class_name".into(), json!(class_name));
    ev.insert(
        "type_uid".into(),
        json!(u64::from(class_uid) * 100 + u64::from(activity_id)),
    );
    ev.insert(
        "type_name".into(),
        json!(format!("{class_name}: {activity_name}")),
    );
    ev.insert("severity_id".into(), json!(severity_id));
    ev.insert("severity".into(), json!(severity_name));
    ev.insert("status_id".into(), json!(status_id));
    ev.insert("status".into(), json!(status_name));
    ev.insert("time".into(), json!(ms(&f.first_seen)));
    ev.insert("start_time".into(), json!(ms(&f.first_seen)));
    ev.insert("end_time".into(), json!(ms(&f.last_seen)));
    ev.insert("count".into(), json!(f.count));
    ev.insert("message".into(), json!(f.title));
    ev.insert("finding_info".into(), info);
    ev.insert("resources".into(), json!([resource]));
    if r.account.is_some() || r.region.is_some() {
        let mut cloud = json!({ "provider": "AWS" });
        if let Some(region) = &r.region {
            cloud["region"] = json!(region);
        }
        if let Some(account) = &r.account {
            cloud["account"] = aws_account(account);
        }
        ev.insert("cloud".into(), cloud);
        profiles.push("cloud");
    }
    let evidences = evidences(f);
    if !evidences.is_empty() {
        ev.insert("evidences".into(), Value::Array(evidences));
    }
    let observables = observables(f);
    if !observables.is_empty() {
        ev.insert("observables".into(), Value::Array(observables));
    }
    if !attacks.is_empty() && control.is_none() {
        ev.insert("attacks".into(), Value::Array(attacks));
        profiles.push("security_control");
    }
    if !f.remediation.trim().is_empty() {
        ev.insert("remediation".into(), json!({ "desc": f.remediation }));
    }
    if let Some(id) = control {
        let standard = if id.starts_with("KB.") {
            "keibi database and account controls"
        } else {
            "AWS Foundational Security Best Practices v1.0.0"
        };
        ev.insert(
            "compliance".into(),
            json!({
                "control": id,
                "standards": [standard],
                "status_id": 3,
                "status": "Fail",
            }),
        );
    } else {
        ev.insert("is_alert".into(), json!(activity_id != 3));
    }
    let mut metadata = json!({
        "version": OCSF_VERSION,
        "uid": format!("{}-{}-{}", f.id, ms(&f.last_seen), activity_id),
        "product": {
            "name": "keibi",
            "vendor_name": "keibi",
            "version": env!("CARGO_PKG_VERSION"),
            "uid": "keibi",
        },
    });
    if !profiles.is_empty() {
        metadata["profiles"] = json!(profiles);
    }
    ev.insert("metadata".into(), metadata);
    Value::Object(ev)
}

/// An AWS account as OCSF's account object (type 10, AWS Account).
fn aws_account(id: &str) -> Value {
    json!({ "uid": id, "type_id": 10, "type": "AWS Account" })
}

/// The finding's MITRE techniques, each with the tactic of its type; the tactic
/// alone when the finding names no technique.
fn attacks(f: &Finding) -> Vec<Value> {
    let tactic = tactic_of(&f.finding_type).map(|(uid, name)| json!({ "uid": uid, "name": name }));
    let mut out: Vec<Value> = f
        .mitre
        .iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            let (technique, sub) = match t.split_once('.') {
                Some((base, _)) => (base.to_string(), Some(t.clone())),
                None => (t.clone(), None),
            };
            let mut a = json!({ "technique": { "uid": technique }, "version": "ATT&CK" });
            if let Some(sub) = sub {
                a["sub_technique"] = json!({ "uid": sub });
            }
            if let Some(t) = &tactic {
                a["tactic"] = t.clone();
            }
            a
        })
        .collect();
    if out.is_empty() {
        if let Some(t) = tactic {
            out.push(json!({ "tactic": t, "version": "ATT&CK" }));
        }
    }
    out
}

/// The actor (its user, application and address) as one evidence, then each event
/// reference (file and line, CloudTrail event id, or the observed fact).
fn evidences(f: &Finding) -> Vec<Value> {
    let mut out = Vec::new();
    let a = &f.actor;
    let mut actor_ev = Map::new();
    if a.user.is_some() || a.app.is_some() {
        let mut actor = Map::new();
        if let Some(u) = &a.user {
            actor.insert("user".into(), json!({ "name": u }));
        }
        if let Some(app) = &a.app {
            actor.insert("app_name".into(), json!(app));
        }
        actor_ev.insert("actor".into(), Value::Object(actor));
    }
    if let Some(ip) = a.ip {
        actor_ev.insert("src_endpoint".into(), json!({ "ip": ip.to_string() }));
    }
    if !actor_ev.is_empty() {
        out.push(Value::Object(actor_ev));
    }
    for e in &f.evidence {
        let data = match e {
            Evidence::Line { source, line } => json!({ "source": &**source, "line": line }),
            Evidence::Event { source, event_id } => {
                json!({ "source": &**source, "event_id": event_id })
            }
            Evidence::Observed { source, observed } => {
                json!({ "source": &**source, "observed": observed })
            }
        };
        out.push(json!({ "data": data }));
    }
    out
}

/// Addresses (type 2), user names (4) and the resource (10), each named by where it
/// sits in the event.
fn observables(f: &Finding) -> Vec<Value> {
    let a = &f.actor;
    let mut out = Vec::new();
    let mut ips: Vec<String> = a.ips.iter().map(|i| i.to_string()).collect();
    if let Some(ip) = a.ip {
        let ip = ip.to_string();
        if !ips.contains(&ip) {
            ips.insert(0, ip);
        }
    }
    for ip in ips {
        out.push(json!({
            "name": "evidences.src_endpoint.ip", "type_id": 2, "type": "IP Address", "value": ip,
        }));
    }
    let mut users: Vec<&String> = a.users.iter().collect();
    if let Some(u) = &a.user {
        if !users.contains(&u) {
            users.insert(0, u);
        }
    }
    for u in users {
        out.push(json!({
            "name": "evidences.actor.user.name", "type_id": 4, "type": "User Name", "value": u,
        }));
    }
    if !f.resource.id.is_empty() {
        out.push(json!({
            "name": "resources.uid", "type_id": 10, "type": "Resource UID", "value": f.resource.id,
        }));
    }
    out
}
