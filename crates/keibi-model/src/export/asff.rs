//! The AWS Security Finding Format (ASFF, schema 2018-10-08): the findings as
//! Security Hub's `BatchImportFindings` takes them (`--format asff` writes one JSON
//! array; `keibi findings export --to securityhub` and the daemon's `securityhub`
//! channel send them). The mapping is tabled in `docs/exports.md`; the binary's
//! tests (`crates/keibi/src/output/asff/tests.rs`) check each finding against
//! Security Hub's API model (`crates/keibi/tests/data/asff/`) and ASFF's documented
//! length limits.
//!
//! Texts are cut on a character boundary to ASFF's limits; everything else is the
//! finding as it is (serde escapes it).

use crate::finding::{Evidence, Finding, SeverityLabel};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::ocsf::{posture_control, tactic_of};

/// ASFF's only schema version.
pub const SCHEMA_VERSION: &str = "2018-10-08";
/// ASFF's limits (characters) on the texts keibi writes.
pub const MAX_TITLE: usize = 256;
pub const MAX_DESCRIPTION: usize = 1024;
pub const MAX_RECOMMENDATION: usize = 512;
pub const MAX_ID: usize = 512;
pub const MAX_FIELD_KEY: usize = 128;
pub const MAX_FIELD_VALUE: usize = 2048;
/// Most entries ASFF takes in `ProductFields`, and strings in `Types`.
pub const MAX_FIELDS: usize = 50;

/// Where the findings are imported: the account that calls `BatchImportFindings`
/// (ASFF wants it as `AwsAccountId` and in the product ARN of its own `default`
/// product) and the region of the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub account: String,
    pub region: String,
}

impl Target {
    /// `aws`, `aws-cn` or `aws-us-gov`, by the region's name.
    pub fn partition(&self) -> &'static str {
        partition_of(&self.region)
    }

    /// `arn:aws:securityhub:<region>:<account>:product/<account>/default`.
    pub fn product_arn(&self) -> String {
        format!(
            "arn:{}:securityhub:{}:{}:product/{}/default",
            self.partition(),
            self.region,
            self.account,
            self.account
        )
    }
}

fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// `s` cut to at most `max` characters (never inside one), with `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A text ASFF requires to hold a non-blank character: `s`, else `fallback`.
fn non_blank(s: &str, fallback: &str, max: usize) -> String {
    if s.trim().is_empty() {
        clip(fallback, max)
    } else {
        clip(s, max)
    }
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Security Hub's label of a keibi severity, and its 0-100 `Normalized` value:
/// keibi's 1.0-10.0 times ten, so each band lands in ASFF's range of its label
/// (LOW 1-39, MEDIUM 40-69, HIGH 70-89, CRITICAL 90-100).
pub fn severity_of(f: &Finding) -> (&'static str, i64) {
    let label = match f.severity.label() {
        SeverityLabel::Low => "LOW",
        SeverityLabel::Medium => "MEDIUM",
        SeverityLabel::High => "HIGH",
        SeverityLabel::Critical => "CRITICAL",
    };
    (label, (f.severity.value() * 10.0).round() as i64)
}

/// The store's status as `Workflow.Status` and `RecordState`. Resolved findings are
/// archived too: Security Hub ignores the `Workflow` of an import that updates a
/// finding, but resolves a NEW or NOTIFIED finding that becomes ARCHIVED.
pub fn workflow_of(status: &str) -> (&'static str, &'static str) {
    match status {
        "acknowledged" => ("NOTIFIED", "ACTIVE"),
        "resolved" => ("RESOLVED", "ARCHIVED"),
        "suppressed" => ("SUPPRESSED", "ACTIVE"),
        _ => ("NEW", "ACTIVE"),
    }
}

/// ASFF's finding type: `namespace/category/classifier`, the classifier being the
/// type's short name.
pub fn types_of(finding_type: &str) -> Vec<String> {
    let short = finding_type
        .rsplit('/')
        .next()
        .unwrap_or("")
        .replace(|c: char| c.is_control(), "");
    let short = if short.trim().is_empty() {
        "keibi".to_string()
    } else {
        short
    };
    let purpose = finding_type.split(':').next().unwrap_or("");
    let ty = if posture_control(finding_type).is_some() {
        "Software and Configuration Checks/AWS Security Best Practices".to_string()
    } else if purpose == "Exfiltration" {
        "Effects/Data Exfiltration".to_string()
    } else if purpose == "Impact" {
        "Effects/Data Destruction".to_string()
    } else if let Some((_, tactic)) = tactic_of(finding_type) {
        format!("TTPs/{tactic}")
    } else {
        "Unusual Behaviors/User".to_string()
    };
    vec![clip(&format!("{ty}/{short}"), MAX_ID)]
}

/// The ASFF resource type of a keibi resource kind; `Other` when ASFF has none.
pub fn resource_type(kind: &str) -> &'static str {
    match kind {
        "db_instance" => "AwsRdsDbInstance",
        "db_cluster" => "AwsRdsDbCluster",
        "db_snapshot" => "AwsRdsDbSnapshot",
        "db_cluster_snapshot" => "AwsRdsDbClusterSnapshot",
        "security_group" => "AwsEc2SecurityGroup",
        "aws_account" => "AwsAccount",
        "trail" => "AwsCloudTrailTrail",
        "s3_bucket" => "AwsS3Bucket",
        "iam_user" => "AwsIamUser",
        "iam_role" => "AwsIamRole",
        "secret" => "AwsSecretsManagerSecret",
        "kms_key" => "AwsKmsKey",
        _ => "Other",
    }
}

/// One finding in ASFF. `status` is the store's workflow status (`new` for a
/// scan's); `updated` is when keibi last changed it (its last event, or a later
/// status change).
pub fn finding(f: &Finding, status: &str, updated: DateTime<Utc>, target: &Target) -> Value {
    let (label, normalized) = severity_of(f);
    let (workflow, record) = workflow_of(status);
    let r = &f.resource;
    let region = r.region.clone().unwrap_or_else(|| target.region.clone());
    let mut resource = Map::new();
    let rtype = resource_type(&r.kind);
    resource.insert("Type".into(), json!(rtype));
    let rid = if r.id.trim().is_empty() {
        format!("{}/unknown", r.kind)
    } else if rtype == "AwsRdsDbInstance" && !r.id.starts_with("arn:") {
        match (&r.account, &r.region) {
            (Some(a), Some(g)) => format!("arn:{}:rds:{g}:{a}:db:{}", partition_of(g), r.id),
            _ => r.id.clone(),
        }
    } else {
        r.id.clone()
    };
    resource.insert("Id".into(), json!(non_blank(&rid, "unknown", MAX_ID)));
    resource.insert("Partition".into(), json!(partition_of(&region)));
    resource.insert(
        "Region".into(),
        json!(non_blank(&region, "unknown", MAX_ID)),
    );
    let mut other = Map::new();
    other.insert(
        "keibi/kind".into(),
        json!(non_blank(&r.kind, "unknown", MAX_FIELD_VALUE)),
    );
    if let Some(e) = r.engine {
        other.insert("keibi/engine".into(), json!(e));
    }
    if let Some(a) = &r.account {
        other.insert(
            "keibi/account".into(),
            json!(non_blank(a, "unknown", MAX_FIELD_VALUE)),
        );
    }
    resource.insert("Details".into(), json!({ "Other": other }));

    let mut fields = Map::new();
    let mut field = |k: &str, v: &str| {
        if fields.len() < MAX_FIELDS && !v.trim().is_empty() {
            fields.insert(clip(k, MAX_FIELD_KEY), json!(clip(v, MAX_FIELD_VALUE)));
        }
    };
    field("aws/securityhub/ProductName", "keibi");
    field("aws/securityhub/CompanyName", "keibi");
    field("keibi/type", &f.finding_type);
    field("keibi/count", &f.count.to_string());
    field("keibi/severity", &f.severity.to_string());
    field("keibi/detector", &f.detector);
    field("keibi/status", status);
    if !f.mitre.is_empty() {
        field("keibi/mitre", &f.mitre.join(","));
    }
    if let Some(u) = &f.actor.user {
        field("keibi/actor_user", u);
    }
    if let Some(a) = &f.actor.app {
        field("keibi/actor_app", a);
    }
    if f.actor.ips.len() > 1 {
        let ips: Vec<String> = f.actor.ips.iter().map(|i| i.to_string()).collect();
        field("keibi/actor_ips", &ips.join(","));
    }
    if f.actor.users.len() > 1 {
        field("keibi/actor_users", &f.actor.users.join(","));
    }
    for (i, e) in f.evidence.iter().take(10).enumerate() {
        let text = match e {
            Evidence::Line { source, line } => format!("{source}:{line}"),
            Evidence::Event { source, event_id } => format!("{source}:{event_id}"),
            Evidence::Observed { source, observed } => format!("{source}: {observed}"),
        };
        field(&format!("keibi/evidence/{i}"), &text);
    }

    let mut out = Map::new();
    out.insert("SchemaVersion".into(), json!(SCHEMA_VERSION));
    out.insert("Id".into(), json!(non_blank(&f.id, "unknown", MAX_ID)));
    out.insert("ProductArn".into(), json!(target.product_arn()));
    out.insert(
        "GeneratorId".into(),
        json!(non_blank(&f.detector, "keibi", MAX_ID)),
    );
    out.insert("AwsAccountId".into(), json!(target.account));
    out.insert("Types".into(), json!(types_of(&f.finding_type)));
    out.insert("CreatedAt".into(), json!(time(&f.first_seen)));
    out.insert("UpdatedAt".into(), json!(time(&updated.max(f.last_seen))));
    out.insert("FirstObservedAt".into(), json!(time(&f.first_seen)));
    out.insert("LastObservedAt".into(), json!(time(&f.last_seen)));
    out.insert(
        "Severity".into(),
        json!({ "Label": label, "Normalized": normalized, "Original": f.severity.to_string() }),
    );
    out.insert(
        "Title".into(),
        json!(non_blank(&f.title, &f.finding_type, MAX_TITLE)),
    );
    out.insert(
        "Description".into(),
        json!(non_blank(&f.description, &f.finding_type, MAX_DESCRIPTION)),
    );
    if !f.remediation.trim().is_empty() {
        out.insert(
            "Remediation".into(),
            json!({ "Recommendation": { "Text": clip(&f.remediation, MAX_RECOMMENDATION) } }),
        );
    }
    out.insert("ProductFields".into(), Value::Object(fields));
    out.insert("Resources".into(), json!([resource]));
    if let Some(ip) = f.actor.ip {
        let key = if ip.is_ipv4() {
            "SourceIpV4"
        } else {
            "SourceIpV6"
        };
        out.insert(
            "Network".into(),
            json!({ "Direction": "IN", key: ip.to_string() }),
        );
    }
    out.insert("Workflow".into(), json!({ "Status": workflow }));
    out.insert("RecordState".into(), json!(record));
    if let Some(control) = posture_control(&f.finding_type) {
        let mut c = Map::new();
        c.insert(
            "Status".into(),
            json!(if status == "resolved" {
                "PASSED"
            } else {
                "FAILED"
            }),
        );
        // keibi's own controls (KB.*) are not Security Hub's.
        if !control.starts_with("KB.") {
            c.insert("SecurityControlId".into(), json!(clip(control, MAX_ID)));
        }
        out.insert("Compliance".into(), Value::Object(c));
    }
    Value::Object(out)
}
