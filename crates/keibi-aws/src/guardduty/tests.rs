use super::*;
use serde_json::json;

fn rds() -> Value {
    json!({
        "accountId": "123456789012",
        "region": "ap-northeast-1",
        "id": "a1b2c3",
        "type": "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
        "severity": 8,
        "title": "Brute force <script>alert(1)</script>\u{1b}[31m",
        "description": "line one\nline two",
        "updatedAt": "2026-11-28T10:00:00.000Z",
        "createdAt": "2026-11-28T09:20:00.000Z",
        "resource": {
            "resourceType": "RDSDBInstance",
            "rdsDbInstanceDetails": {"dbInstanceIdentifier": "shop-postgres", "engine": "PostgreSQL"},
            "rdsDbUserDetails": {"user": "postgres", "application": "psql"}
        },
        "service": {
            "count": 120,
            "eventFirstSeen": "2026-11-28T09:15:00.000Z",
            "eventLastSeen": "2026-11-28T09:15:29.000Z",
            "action": {"actionType": "RDS_LOGIN_ATTEMPT", "rdsLoginAttemptAction": {
                "remoteIpDetails": {"ipAddressV4": "193.142.146.35"}
            }}
        }
    })
}

fn keibi(ip: &str, first: &str, last: &str) -> Finding {
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &["x"],
        Severity::new(5.0),
        Resource {
            kind: "db_instance".into(),
            id: "shop-postgres".into(),
            ..Default::default()
        },
        t(first),
    );
    f.last_seen = t(last);
    f.actor.ip = ip.parse().ok();
    f
}

#[test]
fn an_rds_finding_maps_field_by_field() {
    let f = to_finding("d0e1f2", &rds()).expect("mapped");
    assert_eq!(f.detector, "guardduty");
    assert_eq!(
        f.finding_type,
        "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce"
    );
    assert_eq!(f.severity.value(), 8.0);
    assert_eq!(f.resource.kind, "db_instance");
    assert_eq!(f.resource.id, "shop-postgres");
    assert_eq!(f.resource.engine, Some(Engine::Postgres));
    assert_eq!(f.resource.account.as_deref(), Some("123456789012"));
    assert_eq!(f.resource.region.as_deref(), Some("ap-northeast-1"));
    assert_eq!(f.actor.ip, "193.142.146.35".parse().ok());
    assert_eq!(f.actor.user.as_deref(), Some("postgres"));
    assert_eq!(f.count, 120);
    assert_eq!(f.first_seen.to_rfc3339(), "2026-11-28T09:15:00+00:00");
    assert_eq!(f.last_seen.to_rfc3339(), "2026-11-28T09:15:29+00:00");
    // The texts as GuardDuty wrote them: the outputs escape them.
    assert!(f.title.contains("<script>"));
    assert_eq!(f.description, "line one\nline two");
    assert!(
        matches!(&f.evidence[..], [Evidence::Observed { source, .. }]
        if &**source == "guardduty:d0e1f2/a1b2c3")
    );
    // Stable: the same GuardDuty finding is the same id; another detector is not.
    assert_eq!(to_finding("d0e1f2", &rds()).unwrap().id, f.id);
    assert_ne!(to_finding("ffff", &rds()).unwrap().id, f.id);
}

#[test]
fn an_iam_finding_names_the_principal_and_other_findings_are_skipped() {
    let iam = json!({
        "accountId": "123456789012", "region": "us-east-1", "id": "b9",
        "type": "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", "severity": 5.0,
        "updatedAt": "2026-11-28T10:00:00Z",
        "resource": {"resourceType": "AccessKey", "accessKeyDetails": {
            "accessKeyId": "AKIAEXAMPLE", "userName": "alice", "userType": "IAMUser"}},
        "service": {"action": {"awsApiCallAction": {"api": "DescribeDBInstances",
            "remoteIpDetails": {"ipAddressV4": "198.51.100.7"}}}}
    });
    let f = to_finding("d0", &iam).expect("mapped");
    assert_eq!(f.resource.kind, "iam_user");
    assert_eq!(f.resource.id, "alice");
    assert_eq!(f.actor.ip, "198.51.100.7".parse().ok());
    assert_eq!(f.count, 1);
    let mut ec2 = iam.clone();
    ec2["type"] = json!("Recon:EC2/PortProbeUnprotectedPort");
    assert!(to_finding("d0", &ec2).is_none());
    let mut bad = rds();
    bad["id"] = json!("../../x");
    assert!(to_finding("d0", &bad).is_none());
    let mut no_time = rds();
    no_time["service"] = json!({});
    no_time["updatedAt"] = json!(12);
    no_time["createdAt"] = json!("not a time");
    assert!(to_finding("d0", &no_time).is_none());
    // Hostile numbers and types do not panic.
    let mut odd = rds();
    odd["severity"] = json!(1e308);
    odd["service"]["count"] = json!(-5);
    let f = to_finding("d0", &odd).unwrap();
    assert_eq!(f.severity.value(), 10.0);
    assert_eq!(f.count, 1);
}

#[test]
fn the_join_links_the_same_instance_address_and_hour_both_ways_once() {
    let g = to_finding("d0", &rds()).unwrap();
    let mut gd = vec![("d0".to_string(), g)];
    let mut ours = vec![
        keibi(
            "193.142.146.35",
            "2026-11-28T09:15:00Z",
            "2026-11-28T09:15:29Z",
        ),
        // Same address, more than an hour later: another activity.
        keibi(
            "193.142.146.35",
            "2026-11-28T10:20:00Z",
            "2026-11-28T10:30:00Z",
        ),
        // Another address, same time.
        keibi(
            "203.0.113.9",
            "2026-11-28T09:15:00Z",
            "2026-11-28T09:15:29Z",
        ),
        // Within the hour's slack.
        keibi(
            "193.142.146.35",
            "2026-11-28T10:10:00Z",
            "2026-11-28T10:12:00Z",
        ),
    ];
    ours[1].id = "k1".into();
    ours[3].id = "k3".into();
    let links = join(&mut gd, &mut ours);
    assert_eq!(links, vec![(0, 0), (0, 3)]);
    assert!(ours[0].evidence.iter().any(|e| matches!(e,
        Evidence::Observed { source, .. } if &**source == "guardduty:d0/a1b2c3")));
    assert!(ours[1].evidence.is_empty() && ours[2].evidence.is_empty());
    let back = format!("keibi:{}", ours[0].id);
    assert!(gd[0].1.evidence.iter().any(|e| matches!(e,
        Evidence::Observed { source, .. } if **source == *back)));
    // Joining again adds nothing.
    let before = (gd[0].1.evidence.len(), ours[0].evidence.len());
    join(&mut gd, &mut ours);
    assert_eq!(before, (gd[0].1.evidence.len(), ours[0].evidence.len()));
}
