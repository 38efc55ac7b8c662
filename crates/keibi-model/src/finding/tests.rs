use super::*;
use crate::event::Action;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().into()
}

fn login_failure(time: &str, line: u64, ip: &str, user: &str) -> Event {
    let mut e = Event::new(
        t(time),
        SourceKind::PostgresStderr,
        Arc::from("/var/log/postgresql/postgresql.log"),
        line,
        Action::LoginFailure,
    );
    e.set_client(ip);
    e.user = Some(user.into());
    e
}

fn full() -> Finding {
    let mut f = Finding::new(
        "brute_force",
        "CredentialAccess:RDS/BruteForce",
        &["prod-db", "203.0.113.7"],
        Severity::new(5.0),
        Resource {
            kind: "db_instance".into(),
            id: "prod-db".into(),
            engine: Some(Engine::Postgres),
            ..Default::default()
        },
        t("2026-11-28T15:41:43Z"),
    );
    f.title = "Brute force against prod-db from 203.0.113.7".into();
    f.description = "42 failed logins in 3 minutes.".into();
    f.remediation = "Block 203.0.113.7.".into();
    f.mitre = vec!["T1110.001".into()];
    f.actor = Actor {
        ip: Some("203.0.113.7".parse().unwrap()),
        user: None,
        app: Some("psql".into()),
        ips: vec![],
        users: vec!["admin".into(), "postgres".into()],
        ..Actor::default()
    };
    f.last_seen = t("2026-11-28T15:44:02.250Z");
    f.count = 42;
    f.evidence = vec![
        Evidence::Line {
            source: Arc::from("pg.log"),
            line: 7,
        },
        Evidence::Event {
            source: Arc::from("ct.json.gz"),
            event_id: "6b1f7c0e-1111-2222-3333-444455556666".into(),
        },
    ];
    f
}

#[test]
fn golden_json_field_names_and_order() {
    let got = serde_json::to_string_pretty(&full()).unwrap();
    let want = r#"{
  "id": "eedf2ffcc0d5c62c906e9e1912c1af52",
  "type": "CredentialAccess:RDS/BruteForce",
  "severity": 5.0,
  "severity_label": "Medium",
  "title": "Brute force against prod-db from 203.0.113.7",
  "description": "42 failed logins in 3 minutes.",
  "remediation": "Block 203.0.113.7.",
  "mitre": [
    "T1110.001"
  ],
  "resource": {
    "kind": "db_instance",
    "id": "prod-db",
    "engine": "postgres"
  },
  "actor": {
    "ip": "203.0.113.7",
    "app": "psql",
    "users": [
      "admin",
      "postgres"
    ]
  },
  "first_seen": "2026-11-28T15:41:43Z",
  "last_seen": "2026-11-28T15:44:02.250Z",
  "count": 42,
  "evidence": [
    {
      "source": "pg.log",
      "line": 7
    },
    {
      "source": "ct.json.gz",
      "event_id": "6b1f7c0e-1111-2222-3333-444455556666"
    }
  ],
  "detector": "brute_force"
}"#;
    assert_eq!(got, want);
}

#[test]
fn optional_fields_are_omitted_required_ones_kept() {
    let f = Finding::new(
        "d",
        "T",
        &[],
        Severity::new(9.5),
        Resource {
            kind: "aws_account".into(),
            id: "123456789012".into(),
            engine: None,
            ..Default::default()
        },
        t("2026-11-28T15:41:43Z"),
    );
    let j = serde_json::to_value(&f).unwrap();
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    let mut want = vec![
        "id",
        "type",
        "severity",
        "severity_label",
        "title",
        "description",
        "remediation",
        "mitre",
        "resource",
        "actor",
        "first_seen",
        "last_seen",
        "count",
        "evidence",
        "detector",
    ];
    let mut got = keys.clone();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
    assert_eq!(
        j["resource"],
        serde_json::json!({"kind": "aws_account", "id": "123456789012"})
    );
    assert_eq!(j["actor"], serde_json::json!({}));
    assert_eq!(j["mitre"], serde_json::json!([]));
    assert_eq!(j["evidence"], serde_json::json!([]));
    assert_eq!(j["severity_label"], "Critical");
    assert_eq!(j["count"], 0);
}

#[test]
fn single_address_is_not_repeated_as_an_array() {
    let mut f = full();
    f.actor.ips = vec!["203.0.113.7".parse().unwrap()];
    f.actor.users = vec!["admin".into()];
    let j = serde_json::to_value(&f).unwrap();
    assert!(j["actor"].get("ips").is_none());
    assert!(j["actor"].get("users").is_none());
}

#[test]
fn json_round_trips_and_label_follows_severity() {
    let f = full();
    let back: Finding = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
    assert_eq!(back, f);
    // A lying label in the input is ignored: it is always derived.
    let mut j = serde_json::to_value(&f).unwrap();
    j["severity_label"] = "Critical".into();
    j["severity"] = serde_json::json!(3);
    let back: Finding = serde_json::from_value(j.clone()).unwrap();
    assert_eq!(back.severity_label(), SeverityLabel::Low);
    j["severity"] = "high".into();
    let back: Finding = serde_json::from_value(j).unwrap();
    assert_eq!(back.severity, Severity::new(7.0));
}

#[test]
fn labels_at_band_edges() {
    let cases = [
        (1.0, "Low"),
        (3.9, "Low"),
        (3.94, "Low"),
        (3.95, "Medium"),
        (4.0, "Medium"),
        (6.9, "Medium"),
        (6.95, "High"),
        (7.0, "High"),
        (8.9, "High"),
        (8.95, "Critical"),
        (9.0, "Critical"),
        (10.0, "Critical"),
    ];
    for (v, want) in cases {
        assert_eq!(Severity::new(v).label().as_str(), want, "{v}");
    }
    assert_eq!(Severity::new(3.95).value(), 4.0);
    assert_eq!(Severity::new(3.94).to_string(), "3.9");
}

#[test]
fn out_of_range_severities_are_clamped() {
    assert_eq!(Severity::new(0.0), Severity::MIN);
    assert_eq!(Severity::new(-5.0), Severity::MIN);
    assert_eq!(Severity::new(11.0), Severity::MAX);
    assert_eq!(Severity::new(f64::INFINITY), Severity::MAX);
    assert_eq!(Severity::new(f64::NEG_INFINITY), Severity::MIN);
    assert_eq!(Severity::new(f64::NAN), Severity::MIN);
    assert_eq!(Severity::new(0.96).value(), 1.0);
    assert!(Severity::new(9.5) > Severity::new(9.4));
}

#[test]
fn severity_parses_labels_and_numbers() {
    let p = |s: &str| s.parse::<Severity>();
    assert_eq!(p("low"), Ok(Severity::new(1.0)));
    assert_eq!(p("Medium"), Ok(Severity::new(4.0)));
    assert_eq!(p("HIGH"), Ok(Severity::new(7.0)));
    assert_eq!(p(" critical "), Ok(Severity::new(9.0)));
    assert_eq!(p("7.5"), Ok(Severity::new(7.5)));
    assert_eq!(p("10"), Ok(Severity::MAX));
    assert_eq!(p("1"), Ok(Severity::MIN));
    for bad in ["", "severe", "0.5", "10.1", "-3", "NaN", "inf", "high!"] {
        assert!(p(bad).is_err(), "{bad:?}");
    }
    let msg = p("severe").unwrap_err().to_string();
    assert!(msg.contains("low, medium, high, critical"), "{msg}");
}

#[test]
fn ids_are_pinned() {
    // If this fails, finding ids changed: every stored finding and suppression
    // would stop matching. Do not update the expected values; see finding_id.
    assert_eq!(
        finding_id(
            "brute_force",
            "CredentialAccess:RDS/BruteForce",
            &["prod-db", "203.0.113.7"]
        ),
        "eedf2ffcc0d5c62c906e9e1912c1af52"
    );
    assert_eq!(
        finding_id("d", "t", &[]),
        "dbbbf7998fc6344b98e2450030de2365"
    );
    assert_eq!(
        finding_id("d", "t", &["ab", "c"]),
        "09651dca6be2f6396ca0a83647763593"
    );
    assert_eq!(
        finding_id("d", "t", &["a", "bc"]),
        "8e684c5e270b6756f9c52794e2eecbeb"
    );
}

#[test]
fn aggregation_counts_times_and_actors() {
    let mut f = Finding::new(
        "brute_force",
        "CredentialAccess:RDS/BruteForce",
        &["x"],
        Severity::new(5.0),
        Resource {
            kind: "db_instance".into(),
            id: "prod-db".into(),
            engine: None,
            ..Default::default()
        },
        t("2030-01-01T00:00:00Z"),
    );
    f.absorb(&login_failure(
        "2026-11-28T15:41:43Z",
        10,
        "203.0.113.7",
        "postgres",
    ));
    assert_eq!(f.count, 1);
    assert_eq!(f.first_seen, t("2026-11-28T15:41:43Z"));
    assert_eq!(f.last_seen, t("2026-11-28T15:41:43Z"));
    assert_eq!(f.actor.ip, Some("203.0.113.7".parse().unwrap()));
    assert_eq!(f.actor.user.as_deref(), Some("postgres"));
    assert_eq!(f.resource.engine, Some(Engine::Postgres));

    // Out of order events still widen the span on both sides.
    f.absorb(&login_failure(
        "2026-11-28T15:40:00.5Z",
        11,
        "203.0.113.7",
        "admin",
    ));
    f.absorb(&login_failure(
        "2026-11-28T15:50:00Z",
        12,
        "203.0.113.7",
        "admin",
    ));
    assert_eq!(f.count, 3);
    assert_eq!(f.first_seen, t("2026-11-28T15:40:00.5Z"));
    assert_eq!(f.last_seen, t("2026-11-28T15:50:00Z"));
    assert_eq!(f.actor.ip, Some("203.0.113.7".parse().unwrap()));
    assert_eq!(f.actor.user, None, "two users: no single user");
    assert_eq!(f.actor.users, vec!["admin".to_string(), "postgres".into()]);
    let j = serde_json::to_value(&f).unwrap();
    assert_eq!(j["first_seen"], "2026-11-28T15:40:00.500Z");
    assert!(j["actor"].get("ips").is_none());
}

#[test]
fn distinct_sets_are_bounded_sorted_and_flag_truncation() {
    let mut f = full();
    f.actor = Actor::default();
    f.count = 0;
    for i in 0..300u32 {
        let ip = format!("10.0.{}.{}", i / 256, i % 256);
        f.absorb(&login_failure(
            "2026-11-28T15:41:43Z",
            u64::from(i) + 1,
            &ip,
            &format!("user{:03}", 299 - i),
        ));
    }
    assert_eq!(f.count, 300);
    assert_eq!(f.actor.ips.len(), MAX_DISTINCT);
    assert_eq!(f.actor.users.len(), MAX_DISTINCT);
    assert!(f.actor.ips_truncated && f.actor.users_truncated);
    assert!(f.actor.ips.windows(2).all(|w| w[0] < w[1]));
    assert!(f.actor.users.windows(2).all(|w| w[0] < w[1]));
    // The first distinct values seen are the ones kept.
    assert_eq!(f.actor.ips[0], "10.0.0.0".parse::<IpAddr>().unwrap());
    assert_eq!(f.actor.ips[99], "10.0.0.99".parse::<IpAddr>().unwrap());
    assert_eq!(f.actor.users[0], "user200");
    assert_eq!(f.actor.users[99], "user299");
    // Numeric order, not text order: 10.0.0.9 before 10.0.0.10.
    assert_eq!(f.actor.ips[9], "10.0.0.9".parse::<IpAddr>().unwrap());
    assert_eq!(f.actor.ip, None);
}

#[test]
fn absorb_after_reading_back_keeps_the_single_value() {
    let mut f = full();
    f.actor = Actor {
        ip: Some("198.51.100.1".parse().unwrap()),
        ..Actor::default()
    };
    let mut f: Finding = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
    f.absorb(&login_failure(
        "2026-11-28T15:41:43Z",
        1,
        "198.51.100.2",
        "u",
    ));
    assert_eq!(f.actor.ip, None);
    assert_eq!(
        f.actor.ips,
        vec![
            "198.51.100.1".parse::<IpAddr>().unwrap(),
            "198.51.100.2".parse().unwrap()
        ]
    );
}

#[test]
fn evidence_keeps_first_ten_and_last_ten() {
    let mut f = full();
    f.evidence.clear();
    for line in 1..=1000 {
        f.absorb(&login_failure(
            "2026-11-28T15:41:43Z",
            line,
            "203.0.113.7",
            "u",
        ));
    }
    let lines: Vec<u64> = f
        .evidence
        .iter()
        .map(|e| match e {
            Evidence::Line { line, .. } => *line,
            Evidence::Event { .. } | Evidence::Observed { .. } => 0,
        })
        .collect();
    let want: Vec<u64> = (1..=10).chain(991..=1000).collect();
    assert_eq!(lines, want);
    // The same reference twice in a row is kept once.
    let last = f.evidence.last().cloned().unwrap();
    f.push_evidence(last);
    assert_eq!(f.evidence.len(), MAX_EVIDENCE);
    assert_eq!(f.evidence[19], f.evidence[19].clone());
    assert!(f.evidence.windows(2).all(|w| w[0] != w[1]));
}

#[test]
fn cloudtrail_evidence_uses_the_event_id() {
    let mut e = Event::new(
        t("2026-11-28T15:41:43Z"),
        SourceKind::Cloudtrail,
        Arc::from("ct.json"),
        3,
        Action::ApiCall,
    );
    e.record = Some(Box::new(serde_json::json!({"eventID": "abc-123"})));
    assert_eq!(
        Evidence::of(&e),
        Evidence::Event {
            source: Arc::from("ct.json"),
            event_id: "abc-123".into()
        }
    );
    e.record = Some(Box::new(serde_json::json!({"eventID": 5})));
    assert_eq!(
        Evidence::of(&e),
        Evidence::Line {
            source: Arc::from("ct.json"),
            line: 3
        }
    );
}

#[test]
fn counts_per_label() {
    let mut a = full();
    let mut fs = Vec::new();
    for v in [2.0, 5.0, 5.5, 8.0, 9.0, 10.0] {
        a.severity = Severity::new(v);
        fs.push(a.clone());
    }
    let c = count_by_label(&fs);
    assert_eq!(
        c,
        [
            (SeverityLabel::Low, 1),
            (SeverityLabel::Medium, 2),
            (SeverityLabel::High, 1),
            (SeverityLabel::Critical, 2)
        ]
    );
}

fn api_call(account: serde_json::Value, region: &str) -> Event {
    let mut e = Event::new(
        t("2026-11-28T15:41:43Z"),
        SourceKind::Cloudtrail,
        Arc::from("AWSLogs/trail.json.gz"),
        1,
        Action::ApiCall,
    );
    e.record = Some(Box::new(serde_json::json!({
        "eventID": "e1", "recipientAccountId": account, "awsRegion": region,
    })));
    e
}

#[test]
fn cloudtrail_records_give_the_resource_its_account_and_region() {
    let mut f = Finding::new(
        "d",
        "t",
        &[],
        Severity::new(5.0),
        Resource::default(),
        t("2026-11-28T15:41:43Z"),
    );
    f.absorb(&api_call(serde_json::json!("111122223333"), "eu-west-1"));
    // The first record's place is kept.
    f.absorb(&api_call(serde_json::json!("444455556666"), "us-east-1"));
    assert_eq!(f.resource.account.as_deref(), Some("111122223333"));
    assert_eq!(f.resource.region.as_deref(), Some("eu-west-1"));
    let j = serde_json::to_value(&f).unwrap();
    assert_eq!(j["resource"]["account"], "111122223333");
    assert_eq!(j["resource"]["region"], "eu-west-1");

    // Not a string, empty, or absurdly long: not taken.
    let mut g = Finding::new(
        "d",
        "t",
        &[],
        Severity::new(5.0),
        Resource::default(),
        t("2026-11-28T15:41:43Z"),
    );
    g.absorb(&api_call(serde_json::json!(1234), &"x".repeat(65)));
    g.absorb(&api_call(serde_json::json!(""), ""));
    assert_eq!((g.resource.account, g.resource.region), (None, None));
}

#[test]
fn database_findings_have_no_account_or_region_in_json() {
    let mut f = full();
    f.absorb(&login_failure(
        "2026-11-28T15:41:43Z",
        1,
        "203.0.113.7",
        "postgres",
    ));
    let j = serde_json::to_string(&f).unwrap();
    assert!(
        !j.contains("\"account\"") && !j.contains("\"region\""),
        "{j}"
    );
    assert!(
        j.contains(r#""resource":{"kind":"db_instance","id":"prod-db","engine":"postgres"}"#),
        "{j}"
    );
}
