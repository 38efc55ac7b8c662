//! Every event checked against the OCSF 1.8.0 schema's extract in
//! `tests/data/ocsf/schema-1.8.0.json` (made by `extract.py` there from
//! ocsf/ocsf-schema, Apache-2.0): each attribute is one the class or object has,
//! of its type, within its enum; every required attribute is there (a profile's
//! only where `metadata.profiles` applies it); `at_least_one` constraints hold.

use super::*;
use chrono::DateTime;
use chrono::Utc;
use keibi_model::finding::Evidence;
use keibi_model::finding::{Actor, Resource, Severity};
use serde_json::{json, Value};

const SCHEMA: &str = include_str!("../../../tests/data/ocsf/schema-1.8.0.json");

fn schema() -> Value {
    serde_json::from_str(SCHEMA).expect("schema extract")
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().into()
}

fn type_ok(v: &Value, typ: &str, schema: &Value) -> bool {
    match typ {
        "integer_t" | "long_t" | "timestamp_t" | "port_t" => v.is_i64() || v.is_u64(),
        "float_t" => v.is_number(),
        "boolean_t" => v.is_boolean(),
        "json_t" => true,
        t if t.ends_with("_t") => v.is_string(),
        obj => v.is_object() && schema["objects"].get(obj).is_some(),
    }
}

/// The schema's complaints about `v` as an instance of `attrs` (a class's or an
/// object's attributes), at `path`.
fn check(
    v: &Value,
    attrs: &Value,
    constraints: Option<&Value>,
    profiles: &[String],
    path: &str,
    schema: &Value,
    errors: &mut Vec<String>,
) {
    let Some(obj) = v.as_object() else {
        errors.push(format!("{path}: not an object"));
        return;
    };
    for (name, spec) in attrs.as_object().unwrap() {
        let applied = spec
            .get("profile")
            .and_then(Value::as_str)
            .is_none_or(|p| profiles.iter().any(|q| q == p));
        if spec["requirement"] == "required" && applied && !obj.contains_key(name) {
            errors.push(format!("{path}: required {name} missing"));
        }
    }
    if let Some(any) = constraints
        .and_then(|c| c.get("at_least_one"))
        .and_then(Value::as_array)
    {
        if !any
            .iter()
            .any(|k| obj.contains_key(k.as_str().unwrap_or("")))
        {
            errors.push(format!("{path}: none of {any:?}"));
        }
    }
    for (name, value) in obj {
        let at = format!("{path}.{name}");
        let Some(spec) = attrs.get(name) else {
            errors.push(format!("{at}: not an attribute"));
            continue;
        };
        if let Some(p) = spec.get("profile").and_then(Value::as_str) {
            if !profiles.iter().any(|q| q == p) {
                errors.push(format!("{at}: profile {p} not applied"));
            }
        }
        let typ = spec["type"].as_str().unwrap_or("");
        let items: Vec<&Value> = if spec.get("is_array") == Some(&Value::Bool(true)) {
            match value.as_array() {
                Some(a) => a.iter().collect(),
                None => {
                    errors.push(format!("{at}: not an array"));
                    continue;
                }
            }
        } else {
            vec![value]
        };
        for item in items {
            if !type_ok(item, typ, schema) {
                errors.push(format!("{at}: {item} is not {typ}"));
                continue;
            }
            if let Some(allowed) = spec.get("enum").and_then(Value::as_array) {
                if !allowed.contains(item) {
                    errors.push(format!("{at}: {item} not in {allowed:?}"));
                }
            }
            if let Some(o) = schema["objects"].get(typ) {
                check(
                    item,
                    &o["attributes"],
                    o.get("constraints"),
                    profiles,
                    &at,
                    schema,
                    errors,
                );
            }
        }
    }
}

/// The schema's complaints about one event.
fn validate(ev: &Value) -> Vec<String> {
    let schema = schema();
    let class_uid = ev["class_uid"].as_u64().unwrap_or(0);
    let Some((_, class)) = schema["classes"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, c)| c["class_uid"] == class_uid)
    else {
        return vec![format!("class {class_uid} not in the extract")];
    };
    let mut errors = Vec::new();
    if ev["category_uid"] != class["category_uid"] {
        errors.push("category_uid".into());
    }
    let activity = ev["activity_id"].as_u64().unwrap_or(0);
    if ev["type_uid"].as_u64() != Some(class_uid * 100 + activity) {
        errors.push("type_uid is not class_uid * 100 + activity_id".into());
    }
    let profiles: Vec<String> = ev["metadata"]["profiles"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    check(
        ev,
        &class["attributes"],
        None,
        &profiles,
        "event",
        &schema,
        &mut errors,
    );
    // The observable's type_id enum is built from the dictionary's types.
    for o in ev["observables"].as_array().into_iter().flatten() {
        let id = o["type_id"].to_string();
        match schema["observable_types"].get(&id) {
            Some(caption) if *caption == o["type"] => {}
            other => errors.push(format!("observable type {id}: {other:?} vs {}", o["type"])),
        }
    }
    errors
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
            engine: Some(keibi_model::Engine::Postgres),
            account: Some("123456789012".into()),
            region: Some("ap-northeast-1".into()),
        },
        t("2026-11-28T15:41:43Z"),
    );
    f.title = "Brute force on prod-db from 203.0.113.7\u{1b}[31m".into();
    f.description = "253 failed logins \"quoted\"".into();
    f.remediation = "Block the address.".into();
    f.mitre = vec!["T1110".into(), "T1110.001".into()];
    f.actor = Actor {
        ip: Some("203.0.113.7".parse().unwrap()),
        user: Some("postgres".into()),
        app: Some("psql".into()),
        ips: vec![
            "198.51.100.1".parse().unwrap(),
            "203.0.113.7".parse().unwrap(),
        ],
        users: vec!["admin".into(), "postgres".into()],
        ..Actor::default()
    };
    f.last_seen = t("2026-11-28T15:44:02.5Z");
    f.count = 253;
    f.evidence = vec![
        Evidence::Line {
            source: "pg.log".into(),
            line: 7,
        },
        Evidence::Event {
            source: "ct.json".into(),
            event_id: "e-1".into(),
        },
    ];
    f
}

fn posture() -> Finding {
    let mut f = Finding::new(
        "posture",
        "Posture:RDS.2/PubliclyAccessible",
        &["db"],
        Severity::new(9.0),
        Resource {
            kind: "db_instance".into(),
            id: "arn:aws:rds:us-east-1:123456789012:db:db".into(),
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            ..Default::default()
        },
        t("2026-12-01T00:00:00Z"),
    );
    f.title = "db is publicly accessible".into();
    f.description = "d".into();
    f.remediation = "r".into();
    f.count = 1;
    f.evidence = vec![Evidence::Observed {
        source: "rds:DescribeDBInstances us-east-1".into(),
        observed: "PubliclyAccessible=true".into(),
    }];
    f
}

/// A self-hosted server's finding: no account, region, actor, MITRE or remediation.
fn bare() -> Finding {
    let mut f = Finding::new(
        "x",
        "Policy:RDS/Something",
        &[],
        Severity::new(1.0),
        Resource {
            kind: "db_instance".into(),
            id: "".into(),
            ..Default::default()
        },
        t("2026-12-01T00:00:00Z"),
    );
    f.count = 1;
    f
}

#[test]
fn every_event_validates_against_the_schema() {
    for f in [detection(), posture(), bare()] {
        for status in ["new", "acknowledged", "resolved", "suppressed"] {
            let ev = event(&f, status);
            let errors = validate(&ev);
            assert!(
                errors.is_empty(),
                "{} {status}: {errors:#?}\n{ev:#}",
                f.finding_type
            );
        }
    }
}

/// The daemon's `ocsf_file` records (the delivery key as `metadata.uid`, the
/// change's time as `metadata.logged_time`) validate too.
#[test]
fn the_daemons_ocsf_file_records_validate_against_the_schema() {
    use keibi_notify::{Notice, NoticeKind};
    for f in [detection(), posture(), bare()] {
        for kind in [
            NoticeKind::New,
            NoticeKind::Reopened,
            NoticeKind::Resolved {
                by: Some("kim".into()),
            },
        ] {
            let n = Notice {
                key: "outbox-42".into(),
                kind,
                finding: f.clone(),
                at: t("2026-12-06T03:11:00Z"),
            };
            let ev = keibi_notify::channels::ocsf_file::record(&n).unwrap();
            let errors = validate(&ev);
            assert!(errors.is_empty(), "{}: {errors:#?}\n{ev:#}", f.finding_type);
            assert_eq!(ev["metadata"]["uid"], "outbox-42");
        }
    }
}

#[test]
fn the_validator_catches_what_is_wrong() {
    let good = event(&detection(), "new");
    let mut e = good.clone();
    e.as_object_mut().unwrap().remove("finding_info");
    assert!(validate(&e)
        .iter()
        .any(|m| m.contains("required finding_info")));
    let mut e = good.clone();
    e["severity_id"] = json!(7);
    assert!(validate(&e).iter().any(|m| m.contains("severity_id")));
    let mut e = good.clone();
    e["finding_info"]["bogus"] = json!(1);
    assert!(validate(&e).iter().any(|m| m.contains("bogus")));
    let mut e = good.clone();
    e["metadata"].as_object_mut().unwrap().remove("profiles");
    assert!(validate(&e).iter().any(|m| m.contains("profile cloud")));
    let mut e = good.clone();
    e["type_uid"] = json!(200400);
    assert!(validate(&e).iter().any(|m| m.contains("type_uid")));
    let mut e = good;
    e["remediation"] = json!({});
    assert!(validate(&e).iter().any(|m| m.contains("required desc")));
}

#[test]
fn detection_fields_map_as_documented() {
    let f = detection();
    let ev = event(&f, "new");
    assert_eq!(ev["class_uid"], 2004);
    assert_eq!(ev["category_uid"], 2);
    assert_eq!(ev["activity_id"], 2, "a finding that grew is an update");
    assert_eq!(ev["type_uid"], 200402);
    assert_eq!(ev["severity_id"], 3);
    assert_eq!(ev["severity"], "Medium");
    assert_eq!(ev["status_id"], 1);
    let info = &ev["finding_info"];
    assert_eq!(info["uid"], f.id.as_str());
    assert_eq!(info["title"], f.title.as_str());
    assert_eq!(info["types"][0], "CredentialAccess:RDS/BruteForce");
    assert_eq!(info["first_seen_time"], 1_795_880_503_000i64);
    assert_eq!(info["last_seen_time"], 1_795_880_642_500i64);
    assert_eq!(info["related_analytics"][0]["uid"], "brute_force");
    assert_eq!(ev["time"], 1_795_880_503_000i64);
    assert_eq!(ev["metadata"]["product"]["name"], "keibi");
    assert_eq!(ev["metadata"]["version"], OCSF_VERSION);
    let r = &ev["resources"][0];
    assert_eq!(r["uid"], "prod-db");
    assert_eq!(r["type"], "db_instance");
    assert_eq!(r["region"], "ap-northeast-1");
    assert_eq!(r["owner"]["account"]["uid"], "123456789012");
    assert_eq!(ev["cloud"]["account"]["uid"], "123456789012");
    let a = &ev["attacks"][1];
    assert_eq!(a["technique"]["uid"], "T1110");
    assert_eq!(a["sub_technique"]["uid"], "T1110.001");
    assert_eq!(a["tactic"]["uid"], "TA0006");
    assert_eq!(ev["evidences"][0]["actor"]["user"]["name"], "postgres");
    assert_eq!(ev["evidences"][0]["src_endpoint"]["ip"], "203.0.113.7");
    assert_eq!(ev["evidences"][1]["data"]["line"], 7);
    assert_eq!(ev["evidences"][2]["data"]["event_id"], "e-1");
    let obs: Vec<(&str, u64)> = ev["observables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["value"].as_str().unwrap(), o["type_id"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        obs,
        [
            ("198.51.100.1", 2),
            ("203.0.113.7", 2),
            ("admin", 4),
            ("postgres", 4),
            ("prod-db", 10)
        ]
    );
    assert_eq!(ev["remediation"]["desc"], "Block the address.");
    // Statuses of the store: a resolved finding is closed and no longer an alert.
    let closed = event(&f, "resolved");
    assert_eq!(
        (
            &closed["activity_id"],
            &closed["status_id"],
            &closed["is_alert"]
        ),
        (&json!(3), &json!(4), &json!(false))
    );
    assert_eq!(event(&f, "suppressed")["status_id"], 3);
    assert_eq!(event(&f, "acknowledged")["status_id"], 2);
    let mut fresh = f.clone();
    fresh.count = 1;
    fresh.last_seen = fresh.first_seen;
    assert_eq!(event(&fresh, "new")["activity_id"], 1);
}

#[test]
fn posture_is_a_compliance_finding() {
    let ev = event(&posture(), "new");
    assert_eq!(ev["class_uid"], 2003);
    assert_eq!(ev["compliance"]["control"], "RDS.2");
    assert_eq!(ev["compliance"]["status_id"], 3);
    assert_eq!(ev["severity_id"], 5);
    assert_eq!(
        ev["evidences"][0]["data"]["observed"],
        "PubliclyAccessible=true"
    );
    assert!(ev.get("attacks").is_none());
}

#[test]
fn severity_bands_map_onto_ocsf() {
    for (v, id) in [
        (1.0, 2),
        (3.9, 2),
        (4.0, 3),
        (6.9, 3),
        (7.0, 4),
        (8.9, 4),
        (9.0, 5),
        (10.0, 5),
    ] {
        assert_eq!(severity_of(Severity::new(v).label()).0, id, "{v}");
    }
}

#[test]
fn hostile_text_stays_inside_its_string() {
    let mut f = detection();
    f.title = "x\"}\n{\"class_uid\":1".into();
    let mut buf = Vec::new();
    write_ocsf(&[f.clone(), bare()], Some(&["new"]), &mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["finding_info"]["title"], f.title.as_str());
    assert_eq!(first["class_uid"], 2004);
    // A status missing for the second finding: it is new.
    let second: Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(second["status_id"], 1);
}
