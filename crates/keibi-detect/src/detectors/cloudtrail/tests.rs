//! Tests of the CloudTrail detections: the detector in `cloudtrail.rs` and the YAML
//! rules under `rules/cloudtrail/`, on records in the shapes CloudTrail writes
//! (requestParameters as the AWS CLI, console and SDKs send them).

use keibi_model::Finding;
use serde_json::{json, Value};

use super::network::is_internet;
use super::*;
use crate::config::Config;
use crate::iplist::{IpList, IpSet, ThreatLists};
use crate::testutil::{events, run, scan};

pub(super) const ACCOUNT: &str = "123456789012";
pub(super) const ALICE: &str = "arn:aws:iam::123456789012:user/alice";

/// A record as CloudTrail writes it for an IAM user's CLI call; `patch` overrides or
/// adds top-level keys (`errorCode`, `userIdentity`, `sourceIPAddress` ...).
pub(super) fn record(n: u32, source: &str, name: &str, req: Value, patch: Value) -> Value {
    let mut r = json!({
        "eventVersion": "1.10",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEALICE0001",
            "arn": ALICE,
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAEXAMPLEALICE0001",
            "userName": "alice"
        },
        "eventTime": format!("2026-11-28T15:{:02}:{:02}Z", (n / 60) % 60, n % 60),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "aws-cli/2.17.4 md/awscrt#0.20.11 ua/2.0 os/linux#6.8.0-45-generic md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 prompt/off",
        "requestParameters": req,
        "responseElements": null,
        "requestID": format!("0c1d2e3f-0000-4000-8000-{n:012}"),
        "eventID": format!("7a8b9c0d-0000-4000-8000-{n:012}"),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management"
    });
    if let (Some(m), Value::Object(p)) = (r.as_object_mut(), patch) {
        m.extend(p);
    }
    r
}

pub(super) fn evs(records: &[Value]) -> Vec<Event> {
    let doc = json!({ "Records": records }).to_string();
    events(
        "123456789012_CloudTrail_eu-west-1_20261128T1545Z_x.json",
        "",
        &doc,
    )
}

pub(super) fn detect(config: Config, lists: ThreatLists, records: &[Value]) -> Vec<Finding> {
    let d: Vec<Box<dyn Detector>> = vec![Box::new(CloudTrail::new(&config))];
    run(d, config, lists, &evs(records))
}

fn types(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.finding_type.as_str()).collect()
}

pub(super) fn ingress_flat(n: u32, cidr: &str, from: Value, to: Value) -> Value {
    record(
        n,
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        json!({"groupId": "sg-0a1b2c3d4e5f60718", "ipPermissions": {}, "ipProtocol": "tcp",
               "cidrIp": cidr, "fromPort": from, "toPort": to}),
        json!({}),
    )
}

fn ingress_items(n: u32, proto: &str, from: &str, to: &str, v4: &[&str], v6: &[&str]) -> Value {
    let v4: Vec<Value> = v4.iter().map(|c| json!({"cidrIp": c})).collect();
    let v6: Vec<Value> = v6.iter().map(|c| json!({"cidrIpv6": c})).collect();
    record(
        n,
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        json!({"groupId": "sg-0f9e8d7c6b5a40312", "ipPermissions": {"items": [{
            "ipProtocol": proto, "fromPort": from, "toPort": to, "groups": {},
            "ipRanges": if v4.is_empty() { json!({}) } else { json!({"items": v4}) },
            "ipv6Ranges": if v6.is_empty() { json!({}) } else { json!({"items": v6}) },
            "prefixListIds": {}}]}}),
        json!({}),
    )
}

#[test]
fn security_group_opened_to_the_internet_in_every_shape() {
    let f = detect(
        Config::default(),
        ThreatLists::default(),
        &[ingress_flat(1, "0.0.0.0/0", json!(5432), json!(5432))],
    );
    assert_eq!(types(&f), vec![DB_PORT_OPEN], "{f:#?}");
    assert_eq!(f[0].resource.kind, "security_group");
    assert_eq!(f[0].resource.id, "sg-0a1b2c3d4e5f60718");
    assert!(
        f[0].title.contains("port 5432") && f[0].title.contains("0.0.0.0/0"),
        "{}",
        f[0].title
    );
    assert!(f[0].description.contains(ALICE) && f[0].description.contains("198.51.100.23"));
    assert_eq!(f[0].mitre, vec!["T1133"]);
    assert_eq!(f[0].severity.value(), 7.0);

    // Console shape, ports as strings, a range covering 3306.
    let f = detect(
        Config::default(),
        ThreatLists::default(),
        &[ingress_items(2, "tcp", "3000", "4000", &["0.0.0.0/0"], &[])],
    );
    assert_eq!(types(&f), vec![DB_PORT_OPEN]);
    assert!(f[0].title.contains("3306"), "{}", f[0].title);

    // IPv6 only, and every protocol.
    let f = detect(
        Config::default(),
        ThreatLists::default(),
        &[ingress_items(3, "-1", "-1", "-1", &[], &["::/0"])],
    );
    assert_eq!(types(&f), vec![DB_PORT_OPEN]);
    assert!(f[0].title.contains("all ports") && f[0].title.contains("::/0"));

    // A configured custom port.
    let cfg = Config {
        db_ports: vec![15432],
        ..Config::default()
    };
    let f = detect(
        cfg,
        ThreatLists::default(),
        &[ingress_flat(4, "0.0.0.0/0", json!("15432"), json!("15432"))],
    );
    assert_eq!(types(&f), vec![DB_PORT_OPEN]);
}

#[test]
fn security_group_near_misses_raise_nothing() {
    let failed = {
        let mut r = ingress_flat(5, "0.0.0.0/0", json!(5432), json!(5432));
        r["errorCode"] = json!("Client.UnauthorizedOperation");
        r["errorMessage"] = json!("You are not authorized to perform this operation.");
        r
    };
    let f = detect(
        Config::default(),
        ThreatLists::default(),
        &[
            // Private and partner ranges.
            ingress_flat(1, "10.0.0.0/8", json!(5432), json!(5432)),
            ingress_items(
                2,
                "tcp",
                "5432",
                "5432",
                &["172.31.0.0/16", "203.0.113.0/24"],
                &["fd00::/8"],
            ),
            // The world, but HTTPS only, and UDP.
            ingress_flat(3, "0.0.0.0/0", json!(443), json!(443)),
            ingress_items(4, "udp", "0", "65535", &["0.0.0.0/0"], &[]),
            failed,
        ],
    );
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn modify_security_group_rules_and_network_acls() {
    let modify = record(
        1,
        "ec2.amazonaws.com",
        "ModifySecurityGroupRules",
        json!({"ModifySecurityGroupRulesRequest": {"GroupId": "sg-0123456789abcdef0",
            "SecurityGroupRule": {"SecurityGroupRuleId": "sgr-0abc1234def567890", "tag": 1,
                "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306,
                    "CidrIpv4": "0.0.0.0/0", "Description": "temp"}}}}),
        json!({}),
    );
    let acl = |n: u32, egress: bool, action: &str, proto: &str| {
        record(
            n,
            "ec2.amazonaws.com",
            "CreateNetworkAclEntry",
            json!({"networkAclId": "acl-0d1e2f3a4b5c6d7e8", "ruleNumber": 90, "egress": egress,
                "ruleAction": action, "cidrBlock": "0.0.0.0/0", "aclProtocol": proto,
                "portRange": {"from": 1024, "to": 65535}, "icmpTypeCode": {}}),
            json!({}),
        )
    };
    let f = detect(
        Config::default(),
        ThreatLists::default(),
        &[
            modify,
            acl(2, false, "allow", "6"),
            acl(3, true, "allow", "-1"),
            acl(4, false, "deny", "-1"),
        ],
    );
    let kinds: Vec<(&str, &str)> = f
        .iter()
        .map(|f| (f.resource.kind.as_str(), f.resource.id.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("security_group", "sg-0123456789abcdef0"),
            ("network_acl", "acl-0d1e2f3a4b5c6d7e8"),
        ],
        "{f:#?}"
    );
    assert!(types(&f).iter().all(|t| *t == DB_PORT_OPEN));
}

#[test]
fn internet_ranges() {
    for yes in [
        "0.0.0.0/0",
        "0.0.0.0/1",
        "128.0.0.0/1",
        "52.0.0.0/8",
        "::/0",
        "2000::/3",
        "2a00::/16",
    ] {
        assert!(is_internet(yes), "{yes}");
    }
    for no in [
        "10.0.0.0/8",
        "0.0.0.0/8",
        "192.168.0.0/16",
        "203.0.113.0/24",
        "fd00::/8",
        "2a00:1450::/32",
        "0.0.0.0",
        "x/0",
    ] {
        assert!(!is_internet(no), "{no}");
    }
}

pub(super) fn share(n: u32, name: &str, values: &[&str]) -> Value {
    let key = if name == "ModifyDBClusterSnapshotAttribute" {
        "dBClusterSnapshotIdentifier"
    } else {
        "dBSnapshotIdentifier"
    };
    record(
        n,
        "rds.amazonaws.com",
        name,
        json!({"attributeName": "restore", key: "orders-2026-11-28", "valuesToAdd": values}),
        json!({}),
    )
}

#[test]
fn snapshot_shared_with_an_unknown_account_only() {
    let mut cfg = Config {
        trusted_accounts: vec!["111122223333".into()],
        ..Config::default()
    };
    cfg.cloudtrail.org_accounts = vec!["444455556666".into()];
    let f = detect(
        cfg.clone(),
        ThreatLists::default(),
        &[
            share(1, "ModifyDBSnapshotAttribute", &["111122223333"]),
            share(2, "ModifyDBSnapshotAttribute", &["444455556666", ACCOUNT]),
            share(3, "ModifyDBSnapshotAttribute", &["all"]),
        ],
    );
    assert!(f.is_empty(), "{f:#?}");
    let f = detect(
        cfg,
        ThreatLists::default(),
        &[
            share(
                4,
                "ModifyDBSnapshotAttribute",
                &["111122223333", "999988887777"],
            ),
            share(5, "ModifyDBClusterSnapshotAttribute", &["999988887777"]),
        ],
    );
    assert_eq!(types(&f), vec![SNAPSHOT_SHARED, SNAPSHOT_SHARED], "{f:#?}");
    assert_eq!(f[0].resource.kind, "db_snapshot");
    assert_eq!(f[1].resource.kind, "db_cluster_snapshot");
    assert!(f[0].title.contains("999988887777") && !f[0].title.contains("111122223333"));
}

#[test]
fn snapshot_made_public_is_the_rule_not_the_detector() {
    let f = scan(
        Config::default(),
        ThreatLists::default(),
        &evs(&[share(1, "ModifyDBSnapshotAttribute", &["all"])]),
    );
    assert_eq!(types(&f), vec!["Exfiltration:RDS/SnapshotPublic"], "{f:#?}");
    assert_eq!(f[0].severity.value(), 9.0);
    assert_eq!(f[0].resource.id, "orders-2026-11-28");
}

pub(super) fn delete_snapshot(n: u32, patch: Value) -> Value {
    record(
        n * 20,
        "rds.amazonaws.com",
        "DeleteDBSnapshot",
        json!({"dBSnapshotIdentifier": format!("orders-manual-{n:02}")}),
        patch,
    )
}

#[test]
fn snapshots_deleted_in_bulk() {
    let cfg = Config::default();
    let n = cfg.cloudtrail.snapshot_deletes;
    let burst: Vec<Value> = (0..n + 2).map(|i| delete_snapshot(i, json!({}))).collect();
    let f = detect(cfg.clone(), ThreatLists::default(), &burst);
    assert_eq!(types(&f), vec![PROTECTION_WEAKENED], "{f:#?}");
    assert_eq!(f[0].count, u64::from(n + 2));
    assert_eq!(f[0].evidence.len(), (n + 2) as usize);
    assert!(
        f[0].description.contains("orders-manual-00"),
        "{}",
        f[0].description
    );

    // One fewer than the threshold, and AWS Backup's retention clean-up.
    let few: Vec<Value> = (0..n - 1).map(|i| delete_snapshot(i, json!({}))).collect();
    assert!(detect(cfg.clone(), ThreatLists::default(), &few).is_empty());
    let backup_identity = json!({"userIdentity": {"type": "AssumedRole",
        "principalId": "AROAEXAMPLEBACKUP001:AWSBackup-AWSBackupDefaultServiceRole",
        "arn": "arn:aws:sts::123456789012:assumed-role/AWSBackupDefaultServiceRole/AWSBackup-AWSBackupDefaultServiceRole",
        "accountId": ACCOUNT, "invokedBy": "backup.amazonaws.com"},
        "sourceIPAddress": "backup.amazonaws.com", "userAgent": "backup.amazonaws.com"});
    let backup: Vec<Value> = (0..n + 5)
        .map(|i| delete_snapshot(i, backup_identity.clone()))
        .collect();
    assert!(detect(cfg, ThreatLists::default(), &backup).is_empty());
}

pub(super) fn denied(n: u32, source: &str, name: &str) -> Value {
    record(
        n,
        source,
        name,
        json!({}),
        json!({"errorCode": if source == "ec2.amazonaws.com" { "Client.UnauthorizedOperation" } else { "AccessDenied" },
               "errorMessage": "User: arn:aws:iam::123456789012:user/alice is not authorized to perform this action",
               "readOnly": true, "sourceIPAddress": "203.0.113.77",
               "userAgent": "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 lang/python#3.12.4"}),
    )
}

#[test]
fn access_denied_burst_is_many_apis_not_one_retried() {
    let apis = [
        ("iam.amazonaws.com", "ListUsers"),
        ("iam.amazonaws.com", "ListRoles"),
        ("s3.amazonaws.com", "ListBuckets"),
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("rds.amazonaws.com", "DescribeDBInstances"),
        ("secretsmanager.amazonaws.com", "ListSecrets"),
        ("lambda.amazonaws.com", "ListFunctions20150331"),
        ("dynamodb.amazonaws.com", "ListTables"),
    ];
    let enumeration: Vec<Value> = (0..40)
        .map(|i| {
            let (s, n) = apis[i as usize % apis.len()];
            denied(i * 3, s, n)
        })
        .collect();
    let f = detect(Config::default(), ThreatLists::default(), &enumeration);
    assert_eq!(types(&f), vec![ACCESS_DENIED_BURST], "{f:#?}");
    assert_eq!(f[0].count, 40, "every denied call of the burst joins it");
    assert!(
        f[0].description.contains("iam:ListUsers"),
        "{}",
        f[0].description
    );
    assert_eq!(f[0].actor.ip, Some("203.0.113.77".parse().unwrap()));

    // An application missing one permission, retrying for ten minutes.
    let retries: Vec<Value> = (0..200)
        .map(|i| denied(i * 3, "s3.amazonaws.com", "GetObject"))
        .collect();
    assert!(detect(Config::default(), ThreatLists::default(), &retries).is_empty());

    // A busy function missing ssm:GetParameter: hundreds of denials of one name.
    let lambda: Vec<Value> = (0..300)
        .map(|i| {
            let mut r = denied(i, "ssm.amazonaws.com", "GetParameter");
            r["requestParameters"] = json!({"name": "/shop/db-url", "withDecryption": true});
            r
        })
        .collect();
    let f = detect(Config::default(), ThreatLists::default(), &lambda);
    assert!(f.is_empty(), "{f:#?}");
    // The same API asked for many parameters is the burst.
    let sweep: Vec<Value> = (0..30)
        .map(|i| {
            let mut r = denied(i, "ssm.amazonaws.com", "GetParameter");
            r["requestParameters"] = json!({"name": format!("/shop/p{}", i % 6)});
            r
        })
        .collect();
    let f = detect(Config::default(), ThreatLists::default(), &sweep);
    assert_eq!(types(&f), vec![ACCESS_DENIED_BURST], "{f:#?}");
}

#[test]
fn calls_from_tor_and_threat_listed_addresses() {
    let lists = ThreatLists {
        tor: IpSet::new(vec![IpList::parse(
            "exit-addresses",
            b"ExitNode 0011\nExitAddress 185.220.101.4 2026-11-28 10:00:00\n",
        )
        .unwrap()]),
        threat: IpSet::new(vec![IpList::parse(
            "firehol_level1.netset",
            b"45.155.205.0/24\n",
        )
        .unwrap()]),
        trusted: IpSet::new(vec![
            IpList::parse("office.txt", b"198.51.100.23\n").unwrap()
        ]),
    };
    let from = |n: u32, ip: &str, error: bool| {
        let mut r = record(
            n,
            "sts.amazonaws.com",
            "GetCallerIdentity",
            json!(null),
            json!({"sourceIPAddress": ip, "readOnly": true}),
        );
        if error {
            r["errorCode"] = json!("AccessDenied");
        }
        r
    };
    let f = detect(
        Config::default(),
        lists,
        &[
            from(1, "185.220.101.4", false),
            from(2, "185.220.101.4", true),
            from(3, "45.155.205.233", false),
            from(4, "198.51.100.23", false),
            from(5, "192.0.2.10", false),
        ],
    );
    assert_eq!(types(&f), vec![TOR_IP, MALICIOUS_IP], "{f:#?}");
    assert_eq!(f[0].count, 2, "failed calls from Tor count too");
    assert!(f[0].description.contains("exit-addresses"));
    assert_eq!(f[0].mitre, vec!["T1090.003"]);
}

pub(super) fn parameters(n: u32, name: &str, group: &str, params: Value) -> Value {
    let key = if name.contains("Cluster") {
        "dBClusterParameterGroupName"
    } else {
        "dBParameterGroupName"
    };
    record(
        n,
        "rds.amazonaws.com",
        name,
        json!({key: group, "parameters": params}),
        json!({}),
    )
}

#[test]
fn parameter_group_changes_that_stop_logging() {
    let f = detect(
        Config::default(),
        ThreatLists::default(),
        &[
            parameters(
                1,
                "ModifyDBParameterGroup",
                "prod-postgres16",
                json!([
                {"parameterName": "log_min_duration_statement", "parameterValue": "500", "applyMethod": "immediate"},
                {"parameterName": "log_connections", "parameterValue": "0", "applyMethod": "immediate"}]),
            ),
            parameters(
                2,
                "ModifyDBClusterParameterGroup",
                "prod-aurora-pg16",
                json!([
                {"parameterName": "pgaudit.log", "parameterValue": "none", "applyMethod": "immediate"}]),
            ),
            parameters(
                3,
                "ModifyDBParameterGroup",
                "prod-mariadb1011",
                json!([
                {"parameterName": "server_audit_logging", "parameterValue": "OFF", "applyMethod": "immediate"}]),
            ),
        ],
    );
    assert_eq!(types(&f), vec![PROTECTION_WEAKENED; 3], "{f:#?}");
    assert!(
        f[0].description.contains("log_connections=0"),
        "{}",
        f[0].description
    );
    assert_eq!(f[1].resource.kind, "db_cluster_parameter_group");

    // Turning logging on, or tuning something else, is ordinary life.
    let f = detect(
        Config::default(),
        ThreatLists::default(),
        &[
            parameters(
                1,
                "ModifyDBParameterGroup",
                "prod-postgres16",
                json!([
                {"parameterName": "log_connections", "parameterValue": "1", "applyMethod": "immediate"},
                {"parameterName": "pgaudit.log", "parameterValue": "ddl,role", "applyMethod": "pending-reboot"}]),
            ),
            parameters(
                2,
                "ModifyDBParameterGroup",
                "prod-postgres16",
                json!([
                {"parameterName": "work_mem", "parameterValue": "65536", "applyMethod": "immediate"}]),
            ),
        ],
    );
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn event_selectors_that_drop_management_events() {
    let sel = |n: u32, req: Value| {
        record(
            n,
            "cloudtrail.amazonaws.com",
            "PutEventSelectors",
            req,
            json!({}),
        )
    };
    let f = detect(
        Config::default(),
        ThreatLists::default(),
        &[
            sel(
                1,
                json!({"trailName": "org-trail", "eventSelectors": [
                {"readWriteType": "All", "includeManagementEvents": false,
                 "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]}),
            ),
            sel(
                2,
                json!({"trailName": "audit", "advancedEventSelectors": [
                {"name": "S3 data only", "fieldSelectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::S3::Object"]}]}]}),
            ),
            sel(
                3,
                json!({"trailName": "ro", "eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": true}]}),
            ),
        ],
    );
    assert_eq!(types(&f), vec![TRAIL_DISABLED; 3], "{f:#?}");
    assert_eq!(f[0].resource.id, "org-trail");

    // Adding data events beside management events.
    let f = detect(
        Config::default(),
        ThreatLists::default(),
        &[
            sel(
                1,
                json!({"trailName": "org-trail", "eventSelectors": [
                {"readWriteType": "All", "includeManagementEvents": true,
                 "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}],
                 "excludeManagementEventSources": ["kms.amazonaws.com"]}]}),
            ),
            sel(
                2,
                json!({"trailName": "audit", "advancedEventSelectors": [
                {"name": "Management", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]},
                {"name": "S3", "fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}]}]}),
            ),
        ],
    );
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn guardduty_rds_protection_turned_off() {
    let upd = |n: u32, req: Value| {
        record(
            n,
            "guardduty.amazonaws.com",
            "UpdateDetector",
            req,
            json!({}),
        )
    };
    let f = detect(
        Config::default(),
        ThreatLists::default(),
        &[
            upd(
                1,
                json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0",
                "features": [{"name": "RDS_LOGIN_EVENTS", "status": "DISABLED"}]}),
            ),
            upd(
                2,
                json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0",
                "features": [{"name": "RDS_LOGIN_EVENTS", "status": "ENABLED"}]}),
            ),
            upd(
                3,
                json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0", "findingPublishingFrequency": "FIFTEEN_MINUTES"}),
            ),
        ],
    );
    assert_eq!(types(&f), vec![DETECTION_DISABLED], "{f:#?}");
}

#[test]
fn one_finding_per_resource_and_principal() {
    let mut bob = ingress_flat(2, "0.0.0.0/0", json!(5432), json!(5432));
    bob["userIdentity"]["arn"] = json!("arn:aws:iam::123456789012:user/bob");
    let f = detect(
        Config::default(),
        ThreatLists::default(),
        &[
            ingress_flat(1, "0.0.0.0/0", json!(5432), json!(5432)),
            bob,
            ingress_flat(3, "0.0.0.0/0", json!(3306), json!(3306)),
        ],
    );
    assert_eq!(f.len(), 2, "{f:#?}");
    let alice = f
        .iter()
        .find(|f| f.actor.user.as_deref() == Some(ALICE))
        .expect("alice");
    assert_eq!(alice.count, 2);
    let ids: Vec<String> = alice
        .evidence
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["event_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            "7a8b9c0d-0000-4000-8000-000000000001",
            "7a8b9c0d-0000-4000-8000-000000000003"
        ]
    );
    assert!(
        alice.description.contains("2 call(s)"),
        "{}",
        alice.description
    );
}

#[test]
fn database_logs_are_ignored() {
    let pg = "2026-11-02 10:00:01 UTC:203.0.113.9(50000):alice@shop:[100]:LOG:  connection authorized: user=alice database=shop\n";
    let d: Vec<Box<dyn Detector>> = vec![Box::new(CloudTrail::new(&Config::default()))];
    assert!(run(
        d,
        Config::default(),
        ThreatLists::default(),
        &events("pg.log", "db1", pg)
    )
    .is_empty());
}

#[test]
fn forged_identifiers_are_cut() {
    let mut r = ingress_flat(1, "0.0.0.0/0", json!(5432), json!(5432));
    r["requestParameters"]["groupId"] = json!(format!("sg-{}", "0".repeat(100_000)));
    r["userIdentity"]["arn"] = json!(format!(
        "arn:aws:iam::123456789012:user/{}",
        "x".repeat(100_000)
    ));
    let f = detect(Config::default(), ThreatLists::default(), &[r]);
    assert_eq!(types(&f), vec![DB_PORT_OPEN]);
    assert!(
        f[0].resource.id.chars().count() <= 257,
        "{}",
        f[0].resource.id.len()
    );
    assert!(f[0].title.chars().count() <= 201);
    assert!(f[0].description.len() < 2_000, "{}", f[0].description.len());
}
