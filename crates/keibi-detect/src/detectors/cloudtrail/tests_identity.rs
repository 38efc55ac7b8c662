//! Tests of the identity detections: console brute force and takeover, IAM
//! persistence and escalation, denied bursts on one API, and the takeover story.
//! Records follow the shapes of Panther's AWS.Console.RootLoginFailed and
//! AWS.Root.AccessKeyCreated tests and Stratus Red Team's detonations.

use keibi_model::Finding;
use serde_json::{json, Value};

use super::tests::{detect, record, ACCOUNT};
use super::*;
use crate::config::Config;
use crate::iplist::ThreatLists;

const ROOT_ARN: &str = "arn:aws:iam::123456789012:root";
const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

fn root_identity(console: bool) -> Value {
    let mut id =
        json!({"type": "Root", "principalId": ACCOUNT, "arn": ROOT_ARN, "accountId": ACCOUNT});
    if console {
        id["accessKeyId"] = json!("ASIAEXAMPLEROOT00001");
        id["invokedBy"] = json!("signin.amazonaws.com");
        id["sessionContext"] = json!({"attributes": {"creationDate": "2026-11-28T15:33:40Z", "mfaAuthenticated": "false"}});
    }
    id
}

fn user_identity(name: &str) -> Value {
    json!({"type": "IAMUser", "principalId": "AIDAEXAMPLEBOB000001",
        "arn": format!("arn:aws:iam::123456789012:user/{name}"), "accountId": ACCOUNT,
        "userName": name})
}

/// A `ConsoleLogin` record; a failure names the user by `userName` only, as AWS
/// writes it.
pub(super) fn signin(n: u32, identity: Value, ip: &str, ok: bool, mfa: bool) -> Value {
    let mut identity = identity;
    if !ok {
        if let Some(m) = identity.as_object_mut() {
            m.remove("arn");
            m.insert("principalId".into(), json!(""));
        }
    }
    let mut r = record(
        n,
        "signin.amazonaws.com",
        "ConsoleLogin",
        json!(null),
        json!({"userIdentity": identity, "eventType": "AwsConsoleSignIn", "readOnly": false,
            "sourceIPAddress": ip, "userAgent": BROWSER, "awsRegion": "us-east-1",
            "responseElements": {"ConsoleLogin": if ok { "Success" } else { "Failure" }},
            "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home",
                "MobileVersion": "No", "MFAUsed": if mfa { "Yes" } else { "No" }}}),
    );
    if !ok {
        r["errorMessage"] = json!("Failed authentication");
    }
    r
}

pub(super) fn iam(n: u32, name: &str, req: Value, identity: Option<Value>, ip: &str) -> Value {
    let mut patch = json!({"sourceIPAddress": ip, "userAgent": BROWSER, "awsRegion": "us-east-1"});
    if let Some(id) = identity {
        patch["userIdentity"] = id;
    }
    record(n, "iam.amazonaws.com", name, req, patch)
}

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// Records that raise every identity finding in every wording: a root takeover story,
/// a user-keyed brute force and takeover with MFA and its story, credentials for
/// others, admin policies on an existing role and a group, outside trust, and a
/// denied burst on one API. Times from `base` on (seconds past 15:00).
pub(super) fn identity_records(base: u32) -> Vec<Value> {
    let attacker = "203.0.113.50";
    let mut r = Vec::new();
    for i in 0..6 {
        r.push(signin(
            base + i * 20,
            root_identity(false),
            attacker,
            false,
            false,
        ));
    }
    r.push(signin(
        base + 130,
        root_identity(false),
        attacker,
        true,
        false,
    ));
    let root = || Some(root_identity(true));
    r.push(iam(
        base + 140,
        "CreateUser",
        json!({"userName": "backup-admin"}),
        root(),
        attacker,
    ));
    r.push(iam(
        base + 141,
        "AttachUserPolicy",
        json!({"userName": "backup-admin", "policyArn": ADMIN}),
        root(),
        attacker,
    ));
    r.push(iam(
        base + 142,
        "CreateAccessKey",
        json!({"userName": "backup-admin"}),
        root(),
        attacker,
    ));
    // bob, guessed from five addresses, signs in with MFA and changes carol's password.
    for i in 0..5 {
        let ip = format!("198.51.100.{}", 60 + i);
        r.push(signin(
            base + 200 + i * 10,
            user_identity("bob"),
            &ip,
            false,
            false,
        ));
    }
    r.push(signin(
        base + 260,
        user_identity("bob"),
        "198.51.100.64",
        true,
        true,
    ));
    r.push(iam(
        base + 270,
        "UpdateLoginProfile",
        json!({"userName": "carol", "passwordResetRequired": false}),
        Some(user_identity("bob")),
        "198.51.100.64",
    ));
    // alice (the default identity) makes credentials for others, admin grants, trust.
    let alice_ip = "198.51.100.23";
    r.push(iam(
        base + 300,
        "CreateLoginProfile",
        json!({"userName": "dave", "passwordResetRequired": false}),
        None,
        alice_ip,
    ));
    r.push(iam(
        base + 301,
        "CreateAccessKey",
        json!({"userName": "erin"}),
        None,
        alice_ip,
    ));
    r.push(iam(
        base + 302,
        "AttachRolePolicy",
        json!({"roleName": "ci-deploy", "policyArn": ADMIN}),
        None,
        alice_ip,
    ));
    r.push(iam(base + 303, "PutGroupPolicy", json!({"groupName": "ops", "policyName": "everything",
        "policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}), None, alice_ip));
    r.push(iam(base + 304, "UpdateAssumeRolePolicy", json!({"roleName": "ops-audit",
        "policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::193672423079:root\"},\"Action\":\"sts:AssumeRole\"}]}"}), None, alice_ip));
    r.push(iam(base + 305, "CreateRole", json!({"roleName": "open-door",
        "assumeRolePolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"sts:AssumeRole\"}]}"}), None, alice_ip));
    // A role's stolen key asks for every instance's Windows password (Stratus Red
    // Team's aws.credential-access.ec2-get-password-data).
    for i in 0..30 {
        r.push(get_password_data(base + 400 + i));
    }
    r
}

pub(super) fn get_password_data(n: u32) -> Value {
    record(
        n,
        "ec2.amazonaws.com",
        "GetPasswordData",
        json!({"instanceId": format!("i-{n:017x}")}),
        json!({"userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLEPWD000001:aws-go-sdk-1722375070115152000",
                "arn": "arn:aws:sts::123456789012:assumed-role/ec2-get-password-data-role/aws-go-sdk-1722375070115152000",
                "accountId": ACCOUNT},
            "errorCode": "Client.UnauthorizedOperation",
            "errorMessage": "You are not authorized to perform this operation.",
            "sourceIPAddress": "203.0.113.77", "readOnly": true,
            "userAgent": "stratus-red-team_9d6e4a1c aws-sdk-go-v2/1.27.0 os/linux lang/go#1.22.5"}),
    )
}

fn of<'a>(fs: &'a [Finding], ty: &str) -> Vec<&'a Finding> {
    fs.iter().filter(|f| f.finding_type == ty).collect()
}

fn found(records: &[Value]) -> Vec<Finding> {
    detect(Config::default(), ThreatLists::default(), records)
}

#[test]
fn every_identity_finding_from_the_story() {
    let fs = found(&identity_records(0));
    let bf = of(&fs, CONSOLE_BRUTE_FORCE);
    assert_eq!(bf.len(), 2, "{fs:#?}");
    let by_ip = bf
        .iter()
        .find(|f| f.title.contains("203.0.113.50"))
        .unwrap();
    assert_eq!(by_ip.count, 6);
    assert_eq!(by_ip.severity.value(), 6.0, "root is tried");
    let by_user = bf.iter().find(|f| f.title.contains("bob")).unwrap();
    assert_eq!(by_user.count, 5);
    assert_eq!(by_user.actor.ips.len(), 5, "{:?}", by_user.actor);

    let takeover = of(&fs, CONSOLE_TAKEOVER);
    assert_eq!(takeover.len(), 2);
    assert_eq!(takeover[0].severity.value(), 9.0, "root");
    assert!(
        takeover[0].description.contains("after 6 failed sign-ins"),
        "{}",
        takeover[0].description
    );
    assert_eq!(takeover[1].severity.value(), 8.0);

    let seq = of(&fs, ATTACK_SEQUENCE);
    assert_eq!(seq.len(), 2, "{fs:#?}");
    let root_story = seq.iter().find(|f| f.severity.value() == 9.5).unwrap();
    assert_eq!(root_story.count, 4, "the sign-in and three steps");
    for step in [
        "CreateUser backup-admin",
        "AttachUserPolicy AdministratorAccess backup-admin",
        "CreateAccessKey backup-admin",
    ] {
        assert!(
            root_story.description.contains(step),
            "{step}: {}",
            root_story.description
        );
    }
    assert!(
        root_story.title.contains("made 3 IAM change(s)"),
        "{}",
        root_story.title
    );

    let admin = of(&fs, ADMIN_POLICY);
    let sev: Vec<(String, f64)> = admin
        .iter()
        .map(|f| (f.resource.id.clone(), f.severity.value()))
        .collect();
    assert_eq!(
        sev,
        vec![
            ("backup-admin".into(), 7.0),
            ("ci-deploy".into(), 6.0),
            ("ops".into(), 6.0)
        ],
        "a new user's admin is High, an existing role's or group's Medium"
    );
    let mut creds: Vec<&str> = of(&fs, OTHERS_CREDENTIALS)
        .iter()
        .map(|f| f.resource.id.as_str())
        .collect();
    creds.sort_unstable();
    assert_eq!(
        creds,
        vec!["carol", "dave", "erin"],
        "not backup-admin: it was new"
    );
    let trust = of(&fs, OUTSIDE_TRUST);
    assert_eq!(trust.len(), 2);
    assert!(trust
        .iter()
        .any(|f| f.severity.value() == 9.0 && f.resource.id == "open-door"));
    let denied = of(&fs, ACCESS_DENIED_BURST);
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].count, 30);
    assert!(
        denied[0]
            .description
            .contains("ec2:GetPasswordData, an API"),
        "{}",
        denied[0].description
    );
}

#[test]
fn near_misses_raise_nothing() {
    let mut r = Vec::new();
    // A mistyped password, then the right one.
    r.push(signin(
        1,
        user_identity("bob"),
        "198.51.100.64",
        false,
        false,
    ));
    r.push(signin(
        9,
        user_identity("bob"),
        "198.51.100.64",
        false,
        false,
    ));
    r.push(signin(
        20,
        user_identity("bob"),
        "198.51.100.64",
        true,
        true,
    ));
    // Root signs in with MFA and looks around: root use (a rule), not a story.
    r.push(signin(
        100,
        root_identity(false),
        "198.51.100.23",
        true,
        true,
    ));
    // An admin onboards a user the usual way: read-only policy, a password and a key
    // for the new user, and a key for herself.
    r.push(iam(
        200,
        "CreateUser",
        json!({"userName": "frank"}),
        None,
        "198.51.100.23",
    ));
    r.push(iam(
        201,
        "AttachUserPolicy",
        json!({"userName": "frank", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        None,
        "198.51.100.23",
    ));
    r.push(iam(
        202,
        "CreateLoginProfile",
        json!({"userName": "frank", "passwordResetRequired": true}),
        None,
        "198.51.100.23",
    ));
    r.push(iam(
        203,
        "CreateAccessKey",
        json!({"userName": "frank"}),
        None,
        "198.51.100.23",
    ));
    r.push(iam(
        204,
        "CreateAccessKey",
        json!({}),
        None,
        "198.51.100.23",
    ));
    r.push(iam(
        205,
        "CreateAccessKey",
        json!({"userName": "alice"}),
        None,
        "198.51.100.23",
    ));
    // A role trusted by this account and a trusted partner, and a service.
    r.push(iam(206, "CreateRole", json!({"roleName": "partner-read",
        "assumeRolePolicyDocument": "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::123456789012:root\",\"111122223333\"],\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"}), None, "198.51.100.23"));
    // A few denied calls to a sensitive API.
    for i in 0..5 {
        r.push(get_password_data(300 + i));
    }
    // A failed admin grant changed nothing.
    let mut refused = iam(
        400,
        "AttachUserPolicy",
        json!({"userName": "alice", "policyArn": ADMIN}),
        None,
        "198.51.100.23",
    );
    refused["errorCode"] = json!("AccessDenied");
    r.push(refused);
    let cfg = Config {
        trusted_accounts: vec!["111122223333".into()],
        ..Config::default()
    };
    let fs = detect(cfg, ThreatLists::default(), &r);
    assert!(fs.is_empty(), "{fs:#?}");
}

#[test]
fn a_success_long_after_the_failures_is_no_takeover() {
    let mut r: Vec<Value> = (0..6)
        .map(|i| signin(i * 10, root_identity(false), "203.0.113.50", false, false))
        .collect();
    // 31 minutes after the last failure.
    r.push(signin(
        50 + 31 * 60,
        root_identity(false),
        "203.0.113.50",
        true,
        false,
    ));
    let fs = found(&r);
    assert_eq!(of(&fs, CONSOLE_BRUTE_FORCE).len(), 1);
    assert!(of(&fs, CONSOLE_TAKEOVER).is_empty(), "{fs:#?}");
}

#[test]
fn failures_after_the_threshold_join_the_burst_under_the_same_name() {
    let r: Vec<Value> = (0..9)
        .map(|i| signin(i * 10, root_identity(false), "203.0.113.50", false, false))
        .collect();
    let fs = found(&r);
    let bf = of(&fs, CONSOLE_BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{fs:#?}");
    assert_eq!(bf[0].count, 9);
    assert_eq!(
        bf[0].actor.user.as_deref(),
        Some("root"),
        "{:?}",
        bf[0].actor
    );
}

#[test]
fn a_success_from_elsewhere_or_by_another_user_is_no_takeover() {
    // A bot fails five times as alice from one address; alice signs in from the
    // office with MFA and goes on with her work.
    let bot = "203.0.113.9";
    let office = "198.51.100.23";
    let mut r: Vec<Value> = (0..5)
        .map(|i| signin(i * 10, user_identity("alice"), bot, false, false))
        .collect();
    r.push(signin(60, user_identity("alice"), office, true, true));
    r.push(iam(
        70,
        "CreateAccessKey",
        json!({"userName": "alice"}),
        Some(user_identity("alice")),
        office,
    ));
    // Behind a shared NAT, five failures as others; carol signs in from it.
    let nat = "192.0.2.44";
    for (i, u) in ["bob", "dave", "erin", "frank", "gina"].iter().enumerate() {
        r.push(signin(100 + i as u32, user_identity(u), nat, false, false));
    }
    r.push(signin(110, user_identity("carol"), nat, true, true));
    let fs = found(&r);
    let takeover = of(&fs, CONSOLE_TAKEOVER);
    assert_eq!(takeover.len(), 1, "{fs:#?}");
    assert_eq!(takeover[0].severity.value(), 5.0, "Medium at most");
    assert!(takeover[0].title.contains("alice"), "{}", takeover[0].title);
    assert!(of(&fs, ATTACK_SEQUENCE).is_empty(), "{fs:#?}");

    // alice then signs in from the failing address: the same finding rises.
    r.push(signin(120, user_identity("alice"), bot, true, false));
    let fs = found(&r);
    let takeover = of(&fs, CONSOLE_TAKEOVER);
    assert_eq!(takeover.len(), 1, "{fs:#?}");
    assert_eq!(takeover[0].severity.value(), 8.0);
    assert!(
        takeover[0].description.contains("no MFA"),
        "{}",
        takeover[0].description
    );
}

#[test]
fn root_tried_anywhere_in_an_address_burst_makes_it_root_s() {
    let ip = "203.0.113.50";
    let users = ["bob", "carol", "dave", "erin", "frank"];
    // Root tried first, then four others: the fifth failure (frank's) triggers.
    let mut r = vec![signin(0, root_identity(false), ip, false, false)];
    for (i, u) in users[1..].iter().enumerate() {
        r.push(signin(
            10 + i as u32 * 10,
            user_identity(u),
            ip,
            false,
            false,
        ));
    }
    let fs = found(&r);
    let bf = of(&fs, CONSOLE_BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{fs:#?}");
    assert_eq!(bf[0].severity.value(), 6.0, "root was among them");

    // Five others, then root joins the live burst.
    let mut r: Vec<Value> = users
        .iter()
        .enumerate()
        .map(|(i, u)| signin(i as u32 * 10, user_identity(u), ip, false, false))
        .collect();
    let fs = found(&r);
    assert_eq!(of(&fs, CONSOLE_BRUTE_FORCE)[0].severity.value(), 5.0);
    r.push(signin(60, root_identity(false), ip, false, false));
    let fs = found(&r);
    let bf = of(&fs, CONSOLE_BRUTE_FORCE);
    assert_eq!(bf.len(), 1, "{fs:#?}");
    assert_eq!(bf[0].count, 6);
    assert_eq!(bf[0].severity.value(), 6.0, "raised when root joins");
}
