//! Tests of the YAML rules under `rules/cloudtrail/`, run as `keibi scan` runs them
//! (built-in rules and detectors together), each with its near-misses.

use keibi_model::Finding;
use serde_json::{json, Value};

use super::tests::{evs, record, ACCOUNT, ALICE};
use crate::config::Config;
use crate::iplist::ThreatLists;
use crate::testutil::scan;

fn found(records: &[Value]) -> Vec<Finding> {
    scan(Config::default(), ThreatLists::default(), &evs(records))
}

/// (type, resource kind, resource id, severity) of each finding, in output order.
fn summary(f: &[Finding]) -> Vec<(String, String, String, f64)> {
    f.iter()
        .map(|f| {
            (
                f.finding_type.clone(),
                f.resource.kind.clone(),
                f.resource.id.clone(),
                f.severity.value(),
            )
        })
        .collect()
}

fn one(t: &str, kind: &str, id: &str, sev: f64) -> Vec<(String, String, String, f64)> {
    vec![(t.into(), kind.into(), id.into(), sev)]
}

fn rds(n: u32, name: &str, req: Value, response: Value) -> Value {
    record(
        n,
        "rds.amazonaws.com",
        name,
        req,
        json!({ "responseElements": response }),
    )
}

fn failed(mut r: Value) -> Value {
    r["errorCode"] = json!("AccessDenied");
    r["errorMessage"] = json!("User: arn:aws:iam::123456789012:user/alice is not authorized to perform: rds:ModifyDBInstance");
    r["responseElements"] = Value::Null;
    r
}

/// What RDS answers to a Modify: the whole instance as it is now.
fn instance(id: &str, public: bool) -> Value {
    json!({"dBInstanceIdentifier": id, "dBInstanceClass": "db.r6g.large", "engine": "postgres",
        "dBInstanceStatus": "available", "publiclyAccessible": public,
        "endpoint": {"address": format!("{id}.c9akciq32.eu-west-1.rds.amazonaws.com"), "port": 5432},
        "pendingModifiedValues": {}, "deletionProtection": true, "backupRetentionPeriod": 7})
}

#[test]
fn publicly_accessible_on_modify_create_and_restore() {
    let f = found(&[rds(
        1,
        "ModifyDBInstance",
        json!({"dBInstanceIdentifier": "orders-prod", "publiclyAccessible": true, "applyImmediately": true}),
        instance("orders-prod", false),
    )]);
    assert_eq!(
        summary(&f),
        one(
            "Policy:RDS/PubliclyAccessible",
            "db_instance",
            "orders-prod",
            7.0
        )
    );
    assert!(f[0].title.contains(ALICE), "{}", f[0].title);
    assert!(
        f[0].description.contains("198.51.100.23"),
        "{}",
        f[0].description
    );
    assert_eq!(f[0].mitre, vec!["T1133"]);

    // Restored from a snapshot without asking: RDS made it public by default.
    let f = found(&[rds(
        2,
        "RestoreDBInstanceFromDBSnapshot",
        json!({"dBInstanceIdentifier": "orders-copy", "dBSnapshotIdentifier": "orders-2026-11-27"}),
        instance("orders-copy", true),
    )]);
    assert_eq!(
        summary(&f),
        one(
            "Policy:RDS/PubliclyAccessible",
            "db_instance",
            "orders-copy",
            7.0
        )
    );

    let f = found(&[rds(
        3,
        "RestoreDBInstanceToPointInTime",
        json!({"sourceDBInstanceIdentifier": "orders-prod", "targetDBInstanceIdentifier": "orders-pitr",
               "useLatestRestorableTime": true, "publiclyAccessible": true}),
        instance("orders-pitr", true),
    )]);
    assert_eq!(
        summary(&f),
        one(
            "Policy:RDS/PubliclyAccessible",
            "db_instance",
            "orders-pitr",
            7.0
        )
    );

    let f = found(&[rds(
        4,
        "ModifyDBCluster",
        json!({"dBClusterIdentifier": "billing", "publiclyAccessible": true, "applyImmediately": true}),
        json!({"dBClusterIdentifier": "billing"}),
    )]);
    assert_eq!(
        summary(&f),
        one(
            "Policy:RDS/PubliclyAccessible",
            "db_cluster",
            "billing",
            7.0
        )
    );
}

#[test]
fn publicly_accessible_near_misses() {
    let f = found(&[
        // An already-public instance changing only its class: the response says
        // public, the request asks nothing about it.
        rds(
            1,
            "ModifyDBInstance",
            json!({"dBInstanceIdentifier": "orders-prod", "dBInstanceClass": "db.r6g.xlarge", "applyImmediately": false}),
            instance("orders-prod", true),
        ),
        // Made private.
        rds(
            2,
            "ModifyDBInstance",
            json!({"dBInstanceIdentifier": "orders-prod", "publiclyAccessible": false}),
            instance("orders-prod", false),
        ),
        // Refused.
        failed(rds(
            3,
            "ModifyDBInstance",
            json!({"dBInstanceIdentifier": "orders-prod", "publiclyAccessible": true}),
            Value::Null,
        )),
    ]);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn master_password_reset_from_request_or_response() {
    let mut pending = instance("orders-prod", false);
    pending["pendingModifiedValues"] = json!({"masterUserPassword": "****"});
    let f = found(&[
        rds(
            1,
            "ModifyDBInstance",
            json!({"dBInstanceIdentifier": "orders-prod", "masterUserPassword": "****", "applyImmediately": true}),
            pending,
        ),
        rds(
            2,
            "ModifyDBCluster",
            json!({"dBClusterIdentifier": "billing", "applyImmediately": true}),
            json!({"dBClusterIdentifier": "billing", "pendingModifiedValues": {"masterUserPassword": "****"}}),
        ),
        failed(rds(
            3,
            "ModifyDBInstance",
            json!({"dBInstanceIdentifier": "ledger", "masterUserPassword": "****"}),
            Value::Null,
        )),
        // Backups changed, password untouched.
        rds(
            4,
            "ModifyDBInstance",
            json!({"dBInstanceIdentifier": "ledger", "backupRetentionPeriod": 14}),
            instance("ledger", false),
        ),
    ]);
    let mut got = summary(&f);
    got.sort_by(|a, b| a.2.cmp(&b.2));
    assert_eq!(
        got,
        vec![
            (
                "CredentialAccess:RDS/MasterPasswordReset".into(),
                "db_cluster".into(),
                "billing".into(),
                6.0
            ),
            (
                "CredentialAccess:RDS/MasterPasswordReset".into(),
                "db_instance".into(),
                "orders-prod".into(),
                6.0
            ),
        ]
    );
}

#[test]
fn database_deleted_is_worse_without_a_final_snapshot() {
    let f = found(&[
        rds(
            1,
            "DeleteDBInstance",
            json!({"dBInstanceIdentifier": "orders-staging", "skipFinalSnapshot": false,
                   "finalDBSnapshotIdentifier": "orders-staging-final", "deleteAutomatedBackups": false}),
            instance("orders-staging", false),
        ),
        rds(
            2,
            "DeleteDBInstance",
            json!({"dBInstanceIdentifier": "orders-prod", "skipFinalSnapshot": true, "deleteAutomatedBackups": true}),
            instance("orders-prod", false),
        ),
        rds(
            3,
            "DeleteDBCluster",
            json!({"dBClusterIdentifier": "billing", "skipFinalSnapshot": true}),
            json!({"dBClusterIdentifier": "billing"}),
        ),
        failed(rds(
            4,
            "DeleteDBInstance",
            json!({"dBInstanceIdentifier": "ledger", "skipFinalSnapshot": true}),
            Value::Null,
        )),
    ]);
    assert_eq!(
        summary(&f),
        vec![
            (
                "Impact:RDS/DatabaseDeleted".into(),
                "db_instance".into(),
                "orders-prod".into(),
                8.5
            ),
            (
                "Impact:RDS/DatabaseDeleted".into(),
                "db_cluster".into(),
                "billing".into(),
                8.5
            ),
            (
                "Impact:RDS/DatabaseDeleted".into(),
                "db_instance".into(),
                "orders-staging".into(),
                7.0
            ),
        ],
        "{f:#?}"
    );
    assert!(
        f[2].description.contains("orders-staging-final"),
        "{}",
        f[2].description
    );
}

#[test]
fn protection_weakened_by_modify() {
    let modify =
        |n: u32, req: Value| rds(n, "ModifyDBInstance", req, instance("orders-prod", false));
    for req in [
        json!({"dBInstanceIdentifier": "orders-prod", "deletionProtection": false, "applyImmediately": true}),
        json!({"dBInstanceIdentifier": "orders-prod", "backupRetentionPeriod": 0, "applyImmediately": true}),
        json!({"dBInstanceIdentifier": "orders-prod",
               "cloudwatchLogsExportConfiguration": {"enableLogTypes": [], "disableLogTypes": ["postgresql"]}}),
    ] {
        let f = found(&[modify(1, req.clone())]);
        assert_eq!(
            summary(&f),
            one(
                "Stealth:RDS/ProtectionWeakened",
                "db_instance",
                "orders-prod",
                6.0
            ),
            "{req}"
        );
    }
    let option = record(
        2,
        "rds.amazonaws.com",
        "ModifyOptionGroup",
        json!({"optionGroupName": "mariadb-audit", "optionsToRemove": ["MARIADB_AUDIT_PLUGIN"], "applyImmediately": true}),
        json!({}),
    );
    let f = found(&[option]);
    assert_eq!(
        summary(&f),
        one(
            "Stealth:RDS/ProtectionWeakened",
            "db_option_group",
            "mariadb-audit",
            6.0
        )
    );

    // What the console sends when someone changes something else.
    let f = found(&[modify(
        3,
        json!({"dBInstanceIdentifier": "orders-prod", "deletionProtection": true, "backupRetentionPeriod": 7,
               "cloudwatchLogsExportConfiguration": {"enableLogTypes": ["upgrade"], "disableLogTypes": []},
               "allocatedStorage": 200}),
    )]);
    assert!(f.is_empty(), "{f:#?}");
}

fn ct(n: u32, name: &str, req: Value) -> Value {
    record(n, "cloudtrail.amazonaws.com", name, req, json!({}))
}

#[test]
fn trail_stopped_deleted_or_narrowed() {
    let arn = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/management-events";
    for r in [
        ct(1, "StopLogging", json!({"name": arn})),
        ct(2, "DeleteTrail", json!({"name": arn})),
        ct(
            3,
            "UpdateTrail",
            json!({"name": arn, "isMultiRegionTrail": false}),
        ),
    ] {
        let f = found(&[r]);
        assert_eq!(
            summary(&f),
            one(
                "Stealth:IAMUser/CloudTrailLoggingDisabled",
                "trail",
                arn,
                8.0
            )
        );
    }
    let f = found(&[
        ct(
            4,
            "UpdateTrail",
            json!({"name": arn, "s3BucketName": "org-cloudtrail-logs-123456789012"}),
        ),
        ct(5, "StartLogging", json!({"name": arn})),
        failed(ct(6, "StopLogging", json!({"name": arn}))),
    ]);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn detection_disabled() {
    let f = found(&[
        record(
            1,
            "guardduty.amazonaws.com",
            "DeleteDetector",
            json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0"}),
            json!({}),
        ),
        record(
            2,
            "config.amazonaws.com",
            "StopConfigurationRecorder",
            json!({"configurationRecorderName": "default"}),
            json!({}),
        ),
        record(
            3,
            "securityhub.amazonaws.com",
            "DisableSecurityHub",
            json!({}),
            json!({}),
        ),
        record(
            4,
            "ec2.amazonaws.com",
            "DeleteFlowLogs",
            json!({"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0a1b2c3d4e5f67890", "tag": 1}}}),
            json!({}),
        ),
    ]);
    assert_eq!(f.len(), 4, "{f:#?}");
    assert!(f
        .iter()
        .all(|f| f.finding_type == "Stealth:IAMUser/DetectionDisabled"
            && f.resource.id == ACCOUNT
            && f.severity.value() == 8.0));
    let f = found(&[
        record(
            1,
            "guardduty.amazonaws.com",
            "UpdateDetector",
            json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0", "enable": true}),
            json!({}),
        ),
        record(
            2,
            "config.amazonaws.com",
            "StartConfigurationRecorder",
            json!({"configurationRecorderName": "default"}),
            json!({}),
        ),
        failed(record(
            3,
            "guardduty.amazonaws.com",
            "DeleteDetector",
            json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0"}),
            json!({}),
        )),
    ]);
    assert!(f.is_empty(), "{f:#?}");
}

fn root(n: u32, name: &str, patch: Value) -> Value {
    let mut r = record(
        n,
        "iam.amazonaws.com",
        name,
        json!(null),
        json!({
        "userIdentity": {"type": "Root", "principalId": ACCOUNT, "arn": "arn:aws:iam::123456789012:root",
            "accountId": ACCOUNT, "accessKeyId": "ASIAEXAMPLEROOT00001",
            "sessionContext": {"attributes": {"creationDate": "2026-11-28T15:00:02Z", "mfaAuthenticated": "true"}}},
        "sessionCredentialFromConsole": "true", "readOnly": true}),
    );
    if let (Some(m), Value::Object(p)) = (r.as_object_mut(), patch) {
        m.extend(p);
    }
    r
}

#[test]
fn root_credential_usage_but_not_services_acting_for_root() {
    let f = found(&[
        root(1, "ListUsers", json!({})),
        root(2, "GetAccountSummary", json!({})),
    ]);
    assert_eq!(
        summary(&f),
        one(
            "Policy:IAMUser/RootCredentialUsage",
            "aws_account",
            ACCOUNT,
            6.0
        )
    );
    assert_eq!(f[0].count, 2);
    let mut invoked = root(3, "CreateServiceLinkedRole", json!({}));
    invoked["userIdentity"]["invokedBy"] = json!("support.amazonaws.com");
    invoked["sourceIPAddress"] = json!("support.amazonaws.com");
    let failed_signin = root(
        4,
        "ConsoleLogin",
        json!({"eventSource": "signin.amazonaws.com",
        "eventType": "AwsConsoleSignIn", "errorMessage": "Failed authentication",
        "responseElements": {"ConsoleLogin": "Failure"},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"}}),
    );
    let service_event = root(
        5,
        "CredentialChallenge",
        json!({"eventType": "AwsServiceEvent", "eventSource": "signin.amazonaws.com"}),
    );
    let f = found(&[invoked, failed_signin, service_event]);
    assert!(f.is_empty(), "{f:#?}");
}

/// Root at the console: the Security credentials page's calls carry
/// `invokedBy: signin.amazonaws.com` (as in Panther's AWS.Root.AccessKeyCreated
/// tests), and they are root use like any other.
#[test]
fn root_in_the_console_is_root_use() {
    let mut key = root(
        1,
        "CreateAccessKey",
        json!({"readOnly": false, "userAgent": "signin.amazonaws.com"}),
    );
    key["userIdentity"]["invokedBy"] = json!("signin.amazonaws.com");
    let mut console = root(
        2,
        "CreateUser",
        json!({"readOnly": false, "userAgent": "console.amazonaws.com"}),
    );
    console["userIdentity"]["invokedBy"] = json!("console.amazonaws.com");
    let f = found(&[key, console]);
    assert_eq!(
        summary(&f),
        one(
            "Policy:IAMUser/RootCredentialUsage",
            "aws_account",
            ACCOUNT,
            6.0
        )
    );
    assert_eq!(f[0].count, 2);
    // A service acting for root is still not root use.
    let mut stack = root(3, "CreateRole", json!({}));
    stack["userIdentity"]["invokedBy"] = json!("cloudformation.amazonaws.com");
    assert!(found(&[stack]).is_empty());
}

fn console_login(n: u32, identity: Value, mfa: &str) -> Value {
    record(
        n,
        "signin.amazonaws.com",
        "ConsoleLogin",
        json!(null),
        json!({
        "userIdentity": identity, "eventType": "AwsConsoleSignIn", "readOnly": false,
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        "responseElements": {"ConsoleLogin": "Success"},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
            "MobileVersion": "No", "MFAUsed": mfa}}),
    )
}

#[test]
fn console_login_without_mfa_by_iam_users_only() {
    let alice = json!({"type": "IAMUser", "principalId": "AIDAEXAMPLEALICE0001", "arn": ALICE,
        "accountId": ACCOUNT, "userName": "alice"});
    let f = found(&[console_login(1, alice.clone(), "No")]);
    assert_eq!(
        summary(&f),
        one(
            "Policy:IAMUser/ConsoleLoginWithoutMFA",
            "aws_account",
            ACCOUNT,
            4.0
        )
    );
    let federated = json!({"type": "AssumedRole", "principalId": "AROAEXAMPLESSO00001:alice@example.com",
        "arn": "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice@example.com",
        "accountId": ACCOUNT});
    let f = found(&[
        console_login(2, alice, "Yes"),
        console_login(3, federated, "No"),
    ]);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn pentest_distributions_by_user_agent() {
    let ua = |n: u32, agent: &str| {
        record(
            n,
            "sts.amazonaws.com",
            "GetCallerIdentity",
            json!(null),
            json!({"userAgent": agent, "readOnly": true}),
        )
    };
    let f = found(&[
        ua(1, "aws-cli/2.15.57 md/awscrt#0.19.19 ua/2.0 os/linux#6.8.11-amd64 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#kali.2024 prompt/off command/sts.get-caller-identity"),
        ua(2, "Boto3/1.34.46 md/Botocore#1.34.46 ua/2.0 os/linux#6.5.0-13parrot1-amd64 md/arch#x86_64 lang/python#3.11.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.46"),
        ua(3, "aws-cli/1.32.0 Python/3.12.3 Linux/6.6.30-pentoo botocore/1.34.0"),
    ]);
    let mut t: Vec<&str> = f.iter().map(|f| f.finding_type.as_str()).collect();
    t.sort();
    assert_eq!(
        t,
        vec![
            "PenTest:IAMUser/KaliLinux",
            "PenTest:IAMUser/ParrotLinux",
            "PenTest:IAMUser/PentooLinux"
        ]
    );
    assert!(f
        .iter()
        .all(|f| f.severity.value() == 5.0 && f.mitre == vec!["T1595"]));
    let f = found(&[
        ua(4, "aws-cli/2.17.4 md/awscrt#0.20.11 ua/2.0 os/linux#6.8.0-45-generic md/arch#x86_64 lang/python#3.11.9 md/distrib#ubuntu.24 prompt/off"),
        ua(5, "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/sts#1.30.3 app/kalibrate-exporter"),
    ]);
    assert!(f.is_empty(), "{f:#?}");
}

/// GetFederationToken by an IAM user and a Roles Anywhere trust anchor (the calls of
/// Stratus Red Team's sts-federation-token and rolesanywhere-create-trust-anchor);
/// refused calls and reads are not.
#[test]
fn alternate_credentials() {
    let token = record(
        1,
        "sts.amazonaws.com",
        "GetFederationToken",
        json!({"name": "stratus_red_team", "policy": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}),
        json!({}),
    );
    let anchor = record(
        2,
        "rolesanywhere.amazonaws.com",
        "CreateTrustAnchor",
        json!({"enabled": true, "name": "malicious-rolesanywhere-trust-anchor",
            "source": {"sourceData": {"x509CertificateData": "-----BEGIN CERTIFICATE-----\nMIIE..."}, "sourceType": "CERTIFICATE_BUNDLE"}}),
        json!({}),
    );
    let f = found(&[token, anchor]);
    let types: Vec<&str> = f.iter().map(|f| f.finding_type.as_str()).collect();
    assert_eq!(
        types,
        vec!["Persistence:IAMUser/AlternateCredentials"; 2],
        "{f:#?}"
    );
    assert!(f
        .iter()
        .any(|f| f.title.contains("malicious-rolesanywhere-trust-anchor")));
    let refused = failed(record(
        3,
        "sts.amazonaws.com",
        "GetFederationToken",
        json!({"name": "x"}),
        json!({}),
    ));
    let list = record(
        4,
        "rolesanywhere.amazonaws.com",
        "ListTrustAnchors",
        json!(null),
        json!({"readOnly": true}),
    );
    assert!(found(&[refused, list]).is_empty());
}
