//! Every finding checked against Security Hub's API model of `AwsSecurityFinding`
//! (`tests/data/asff/securityhub-shapes.json`, made by `extract.py` there from
//! botocore's model, Apache-2.0: members, required members, enums, non-blank
//! strings, lists and maps) and against ASFF's documented length limits, which the
//! model does not carry.

use super::*;
use chrono::{DateTime, Utc};
use keibi_model::finding::Evidence;
use keibi_model::finding::{Actor, Resource, Severity};
use serde_json::{json, Value};

const SHAPES: &str = include_str!("../../../tests/data/asff/securityhub-shapes.json");

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().into()
}

fn check(v: &Value, shape: &str, shapes: &Value, path: &str, errors: &mut Vec<String>) {
    let s = &shapes[shape];
    match s["type"].as_str().unwrap_or("") {
        "structure" => {
            let Some(obj) = v.as_object() else {
                return errors.push(format!("{path}: not an object"));
            };
            for r in s["required"].as_array().into_iter().flatten() {
                if !obj.contains_key(r.as_str().unwrap()) {
                    errors.push(format!("{path}: required {r} missing"));
                }
            }
            for (k, item) in obj {
                match s["members"].get(k).and_then(Value::as_str) {
                    Some(m) => check(item, m, shapes, &format!("{path}.{k}"), errors),
                    None => errors.push(format!("{path}.{k}: not a member")),
                }
            }
        }
        "list" => match v.as_array() {
            Some(a) => {
                for (i, item) in a.iter().enumerate() {
                    check(
                        item,
                        s["member"].as_str().unwrap(),
                        shapes,
                        &format!("{path}[{i}]"),
                        errors,
                    );
                }
            }
            None => errors.push(format!("{path}: not a list")),
        },
        "map" => match v.as_object() {
            Some(o) => {
                for (k, item) in o {
                    check(
                        &json!(k),
                        s["key"].as_str().unwrap(),
                        shapes,
                        &format!("{path} key"),
                        errors,
                    );
                    check(
                        item,
                        s["value"].as_str().unwrap(),
                        shapes,
                        &format!("{path}.{k}"),
                        errors,
                    );
                }
            }
            None => errors.push(format!("{path}: not a map")),
        },
        "string" => match v.as_str() {
            Some(text) => {
                if let Some(e) = s["enum"].as_array() {
                    if !e.contains(v) {
                        errors.push(format!("{path}: {v} not in {e:?}"));
                    }
                }
                if s["pattern"] == ".*\\S.*" && text.trim().is_empty() {
                    errors.push(format!("{path}: blank"));
                }
            }
            None => errors.push(format!("{path}: not a string")),
        },
        "integer" | "long" => {
            if !v.is_i64() {
                errors.push(format!("{path}: not an integer"));
            }
        }
        "double" => {
            if !v.is_number() {
                errors.push(format!("{path}: not a number"));
            }
        }
        "boolean" => {
            if !v.is_boolean() {
                errors.push(format!("{path}: not a boolean"));
            }
        }
        other => errors.push(format!(
            "{path}: shape {shape} of type {other:?} not in the extract"
        )),
    }
}

/// Complaints about one ASFF finding: the model's, then ASFF's limits.
fn validate(v: &Value) -> Vec<String> {
    let shapes: Value = serde_json::from_str(SHAPES).unwrap();
    let mut errors = Vec::new();
    check(
        v,
        "AwsSecurityFinding",
        &shapes["shapes"],
        "finding",
        &mut errors,
    );
    let len = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .map(|s| s.chars().count())
    };
    for (p, max) in [
        ("/Title", MAX_TITLE),
        ("/Description", MAX_DESCRIPTION),
        ("/Remediation/Recommendation/Text", MAX_RECOMMENDATION),
        ("/Id", MAX_ID),
        ("/GeneratorId", MAX_ID),
    ] {
        if len(p).is_some_and(|n| n > max) {
            errors.push(format!("{p} longer than {max}"));
        }
    }
    if v["ProductFields"]
        .as_object()
        .is_some_and(|m| m.len() > MAX_FIELDS)
    {
        errors.push("ProductFields: too many".into());
    }
    for (k, val) in v["ProductFields"].as_object().into_iter().flatten() {
        if k.chars().count() > MAX_FIELD_KEY
            || val.as_str().unwrap_or("").chars().count() > MAX_FIELD_VALUE
        {
            errors.push(format!("ProductFields.{k}: too long"));
        }
    }
    for p in [
        "/CreatedAt",
        "/UpdatedAt",
        "/FirstObservedAt",
        "/LastObservedAt",
    ] {
        if let Some(s) = v.pointer(p).and_then(Value::as_str) {
            if DateTime::parse_from_rfc3339(s).is_err() {
                errors.push(format!("{p}: not RFC 3339"));
            }
        }
    }
    errors
}

fn target() -> Target {
    Target {
        account: "111122223333".into(),
        region: "ap-northeast-1".into(),
    }
}

fn detection() -> Finding {
    let mut f = Finding::new(
        "brute_force",
        "CredentialAccess:RDS/BruteForce",
        &["203.0.113.7"],
        Severity::new(5.0),
        Resource {
            kind: "db_instance".into(),
            id: "prod-db".into(),
            engine: Some(keibi_model::Engine::Mysql),
            account: Some("123456789012".into()),
            region: Some("ap-northeast-1".into()),
        },
        t("2026-11-28T15:41:43Z"),
    );
    f.title = "Brute force on prod-db".into();
    f.description = "253 failed logins".into();
    f.remediation = "Block the address.".into();
    f.mitre = vec!["T1110".into()];
    f.actor = Actor {
        ip: Some("2001:db8::7".parse().unwrap()),
        user: Some("admin".into()),
        ..Actor::default()
    };
    f.last_seen = t("2026-11-28T15:44:02.5Z");
    f.count = 253;
    f.evidence = vec![Evidence::Line {
        source: "mysql-audit.log".into(),
        line: 9,
    }];
    f
}

fn posture(control: &str) -> Finding {
    let mut f = Finding::new(
        "posture",
        &format!("Posture:{control}/Something"),
        &["x"],
        Severity::new(9.5),
        Resource {
            kind: "security_group".into(),
            id: "sg-1".into(),
            region: Some("us-east-1".into()),
            ..Default::default()
        },
        t("2026-12-01T00:00:00Z"),
    );
    f.title = "t".into();
    f.description = "d".into();
    f.count = 1;
    f
}

#[test]
fn every_finding_validates_against_security_hubs_model() {
    let mut long = detection();
    long.title = "題".repeat(300);
    long.description = "é".repeat(2000);
    long.remediation = "x".repeat(600);
    long.detector = "d".repeat(600);
    long.evidence = (0..20)
        .map(|i| Evidence::Line {
            source: "f".repeat(3000).into(),
            line: i,
        })
        .collect();
    let mut blank = posture("KB.PG.1");
    blank.title = " ".into();
    blank.description = String::new();
    blank.resource = Resource::default();
    for f in [detection(), posture("RDS.2"), long, blank] {
        for status in ["new", "acknowledged", "resolved", "suppressed"] {
            let v = finding(&f, status, f.last_seen, &target());
            let errors = validate(&v);
            assert!(
                errors.is_empty(),
                "{} {status}: {errors:#?}\n{v:#}",
                f.finding_type
            );
        }
    }
}

#[test]
fn the_validator_catches_what_is_wrong() {
    let good = finding(&detection(), "new", detection().last_seen, &target());
    let mut v = good.clone();
    v.as_object_mut().unwrap().remove("Resources");
    assert!(validate(&v)
        .iter()
        .any(|e| e.contains("required \"Resources\"")));
    let mut v = good.clone();
    v["Severity"]["Label"] = json!("SEVERE");
    assert!(validate(&v).iter().any(|e| e.contains("Label")));
    let mut v = good.clone();
    v["Title"] = json!("x".repeat(257));
    assert!(validate(&v).iter().any(|e| e.contains("/Title")));
    let mut v = good.clone();
    v["Workflow"]["State"] = json!("NEW");
    assert!(validate(&v).iter().any(|e| e.contains("Workflow.State")));
    let mut v = good;
    v["Description"] = json!("  ");
    assert!(validate(&v).iter().any(|e| e.contains("blank")));
}

#[test]
fn fields_map_as_documented() {
    let f = detection();
    let v = finding(&f, "new", f.last_seen, &target());
    assert_eq!(v["SchemaVersion"], "2018-10-08");
    assert_eq!(v["Id"], f.id.as_str());
    assert_eq!(
        v["ProductArn"],
        "arn:aws:securityhub:ap-northeast-1:111122223333:product/111122223333/default"
    );
    assert_eq!(v["AwsAccountId"], "111122223333");
    assert_eq!(v["GeneratorId"], "brute_force");
    assert_eq!(v["Types"][0], "TTPs/Credential Access/BruteForce");
    assert_eq!(v["CreatedAt"], "2026-11-28T15:41:43.000Z");
    assert_eq!(v["LastObservedAt"], "2026-11-28T15:44:02.500Z");
    assert_eq!(v["Severity"]["Label"], "MEDIUM");
    assert_eq!(v["Severity"]["Normalized"], 50);
    assert_eq!(
        v["Remediation"]["Recommendation"]["Text"],
        "Block the address."
    );
    let r = &v["Resources"][0];
    assert_eq!(r["Type"], "AwsRdsDbInstance");
    assert_eq!(
        r["Id"],
        "arn:aws:rds:ap-northeast-1:123456789012:db:prod-db"
    );
    assert_eq!(r["Details"]["Other"]["keibi/engine"], "mysql");
    assert_eq!(v["Network"]["SourceIpV6"], "2001:db8::7");
    assert_eq!(
        v["ProductFields"]["keibi/type"],
        "CredentialAccess:RDS/BruteForce"
    );
    assert_eq!(v["ProductFields"]["keibi/count"], "253");
    assert_eq!(v["ProductFields"]["keibi/evidence/0"], "mysql-audit.log:9");
    assert_eq!(
        (&v["Workflow"]["Status"], &v["RecordState"]),
        (&json!("NEW"), &json!("ACTIVE"))
    );
    assert!(v.get("Compliance").is_none());
    let resolved = finding(&f, "resolved", f.last_seen, &target());
    assert_eq!(resolved["Workflow"]["Status"], "RESOLVED");
    assert_eq!(resolved["RecordState"], "ARCHIVED");
    assert_eq!(
        finding(&f, "acknowledged", f.last_seen, &target())["Workflow"]["Status"],
        "NOTIFIED"
    );
    assert_eq!(
        finding(&f, "suppressed", f.last_seen, &target())["Workflow"]["Status"],
        "SUPPRESSED"
    );
    // Later status changes move UpdatedAt, never before the last event.
    let later = t("2026-12-02T00:00:00Z");
    assert_eq!(
        finding(&f, "resolved", later, &target())["UpdatedAt"],
        "2026-12-02T00:00:00.000Z"
    );
    assert_eq!(
        finding(&f, "new", f.first_seen, &target())["UpdatedAt"],
        "2026-11-28T15:44:02.500Z"
    );
}

#[test]
fn posture_carries_its_control() {
    let v = finding(
        &posture("EC2.19"),
        "new",
        t("2026-12-01T00:00:00Z"),
        &target(),
    );
    assert_eq!(
        v["Types"][0],
        "Software and Configuration Checks/AWS Security Best Practices/Something"
    );
    assert_eq!(v["Compliance"]["Status"], "FAILED");
    assert_eq!(v["Compliance"]["SecurityControlId"], "EC2.19");
    assert_eq!(v["Resources"][0]["Type"], "AwsEc2SecurityGroup");
    assert_eq!(v["Resources"][0]["Region"], "us-east-1");
    assert_eq!(v["Severity"]["Label"], "CRITICAL");
    assert_eq!(v["Severity"]["Normalized"], 95);
    let kb = finding(
        &posture("KB.PG.1"),
        "resolved",
        t("2026-12-01T00:00:00Z"),
        &target(),
    );
    assert_eq!(kb["Compliance"]["Status"], "PASSED");
    assert!(kb["Compliance"].get("SecurityControlId").is_none());
}

#[test]
fn severities_land_in_their_labels_range() {
    for (s, label, n) in [
        (1.0, "LOW", 10),
        (3.9, "LOW", 39),
        (4.0, "MEDIUM", 40),
        (6.9, "MEDIUM", 69),
        (7.0, "HIGH", 70),
        (8.9, "HIGH", 89),
        (9.0, "CRITICAL", 90),
        (10.0, "CRITICAL", 100),
    ] {
        let mut f = detection();
        f.severity = Severity::new(s);
        assert_eq!(severity_of(&f), (label, n), "{s}");
    }
}

#[test]
fn texts_are_cut_on_a_character_boundary() {
    assert_eq!(clip("日本語", 3), "日本語");
    assert_eq!(clip("日本語です", 3), "日本…");
    assert_eq!(clip("", 3), "");
}

#[test]
fn partitions_follow_the_region() {
    let t = |r: &str| {
        Target {
            account: "1".into(),
            region: r.into(),
        }
        .product_arn()
    };
    assert!(t("cn-north-1").starts_with("arn:aws-cn:"));
    assert!(t("us-gov-west-1").starts_with("arn:aws-us-gov:"));
}

#[test]
fn an_array_or_an_error_naming_the_finding() {
    let fs = [detection(), posture("RDS.2")];
    let mut buf = Vec::new();
    write_asff(&fs, None, |_| Some(target()), &mut buf).unwrap();
    let v: Value = serde_json::from_slice(&buf).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    let mut buf = Vec::new();
    let e = write_asff(&fs, None, |_| None, &mut buf).unwrap_err();
    assert!(e.to_string().contains(&fs[0].id), "{e}");
}
