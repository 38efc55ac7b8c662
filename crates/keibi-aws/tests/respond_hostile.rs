//! The AWS executors against an endpoint that misbehaves (`tests/fake`): throttling
//! and AWS's 5xx are transient, a refusal is permanent and names the resource but
//! never the credentials, an endpoint that does not answer is bounded by the
//! deadline, identifiers in answers are checked like those of findings, and keibi
//! refuses to contain the principal its own credentials belong to. In its own test
//! binary because the credentials are set through the process's environment.
//!
//! Needs no server.

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod common;
mod estate;
mod fake;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use chrono::Utc;
use fake::{serve, xml, Answer, Req};
use keibi_aws::respond::{executors, RespondConfig};
use keibi_model::{Finding, Resource, Severity};
use keibi_respond::{Action, ExecError, Executor, Mode, Place, Request, State, Target};

const KEY: &str = "AKIAKEIBITESTKEY0001";
const SECRET: &str = "keibi-test-secret-must-never-show";

fn credentials() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| estate::credentials(KEY, SECRET));
}

const IDENTITY: &str = "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account><Arn>arn:aws:iam::123456789012:user/keibi</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>";

/// A fake endpoint: STS answers who keibi is, everything else `other`.
fn endpoint(other: impl Fn(&Req) -> Answer + Send + Sync + 'static) -> String {
    serve(move |r| {
        if r.op() == "GetCallerIdentity" {
            xml(200, IDENTITY)
        } else {
            other(r)
        }
    })
}

fn executor(endpoint: &str, name: &str, deadline: Duration) -> Box<dyn Executor> {
    credentials();
    let cfg = RespondConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.to_string()),
        network_acls: vec!["acl-0123456789abcdef0".into()],
        timeout: Duration::from_secs(1),
        deadline,
        ..RespondConfig::default()
    };
    executors(&cfg)
        .unwrap()
        .into_iter()
        .find(|e| e.name() == name)
        .unwrap()
}

fn prepare(ex: &mut dyn Executor, target: Target) -> Result<serde_json::Value, ExecError> {
    with_request(target, |req| ex.prepare(req))
}

/// prepare, then apply: (prior, done).
fn prepare_apply(
    ex: &mut dyn Executor,
    target: Target,
) -> Result<(serde_json::Value, serde_json::Value), ExecError> {
    with_request(target, |req| {
        let prior = ex.prepare(req)?;
        let done = ex.apply(req, &prior)?;
        Ok((prior, done))
    })
}

fn with_request<T>(target: Target, f: impl FnOnce(Request<'_>) -> T) -> T {
    let now = Utc::now();
    let a = Action {
        id: "0123456789abcdef".into(),
        finding_id: "f".into(),
        finding_type: "test".into(),
        rule: "test".into(),
        ..Action::new(target, Mode::Auto, State::Executing, now)
    };
    let finding = Finding::new("t", "t", &[], Severity::new(5.0), Resource::default(), now);
    f(Request {
        action: &a,
        finding: &finding,
    })
}

fn block(instance: Option<&str>) -> Target {
    Target::BlockAddress {
        address: "203.0.113.9/32".parse().unwrap(),
        instance: instance.map(str::to_string),
        place: Place::default(),
    }
}

fn error(code: &str, message: &str) -> String {
    format!("<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors></Response>")
}

#[test]
fn throttling_and_5xx_are_transient_after_the_clients_retries() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let ep = endpoint(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
        xml(
            400,
            &error("RequestLimitExceeded", "Request limit exceeded."),
        )
    });
    let mut ex = executor(&ep, "aws-nacl", Duration::from_secs(60));
    let err = prepare(ex.as_mut(), block(None)).unwrap_err();
    assert!(
        matches!(&err, ExecError::Transient(m) if m.contains("acl-0123456789abcdef0") && m.contains("RequestLimitExceeded")),
        "{err:?}"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        5,
        "retried by the client first"
    );

    let ep = endpoint(|_| xml(503, "<html>busy</html>"));
    let mut ex = executor(&ep, "aws-nacl", Duration::from_secs(60));
    assert!(prepare(ex.as_mut(), block(None))
        .unwrap_err()
        .is_transient());
}

#[test]
fn a_refusal_is_permanent_names_the_resource_and_not_the_keys() {
    let ep = endpoint(|_| {
        xml(
            403,
            &error(
                "UnauthorizedOperation",
                "You are not authorized to perform this operation.",
            ),
        )
    });
    let mut ex = executor(&ep, "aws-nacl", Duration::from_secs(60));
    let err = prepare(ex.as_mut(), block(None)).unwrap_err();
    let ExecError::Permanent(m) = &err else {
        panic!("{err:?}")
    };
    assert!(
        m.contains("EC2 DescribeNetworkAcls acl-0123456789abcdef0"),
        "{m}"
    );
    assert!(m.contains("UnauthorizedOperation"), "{m}");
    assert!(!m.contains(SECRET) && !m.contains(KEY), "{m}");
}

#[test]
fn an_endpoint_that_does_not_answer_is_bounded_by_the_deadline() {
    let ep = endpoint(|_| {
        std::thread::sleep(Duration::from_secs(30));
        xml(500, "")
    });
    let mut ex = executor(&ep, "aws-nacl", Duration::from_millis(1500));
    let started = Instant::now();
    let err = prepare(ex.as_mut(), block(None)).unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn identifiers_in_answers_are_checked_too() {
    // The instance's subnets, and the ACL said to be theirs, are not ids: nothing
    // is asked about them.
    let asked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = asked.clone();
    let ep = endpoint(move |r| {
        log.lock().unwrap().push(r.body.clone());
        match r.op().as_str() {
            "DescribeDBInstances" => xml(
                200,
                "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance>\
                 <DBSubnetGroup><Subnets><Subnet><SubnetIdentifier>subnet-1&amp;Action=DeleteVpc</SubnetIdentifier></Subnet></Subnets></DBSubnetGroup>\
                 </DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>",
            ),
            other => xml(400, &error("Unexpected", other)),
        }
    });
    let mut ex = executor(&ep, "aws-nacl", Duration::from_secs(60));
    let err = prepare(ex.as_mut(), block(Some("prod-db"))).unwrap_err();
    assert!(
        matches!(&err, ExecError::Permanent(m) if m.contains("has no subnets")),
        "{err:?}"
    );
    let asked = asked.lock().unwrap();
    assert!(asked.iter().all(|b| !b.contains("DeleteVpc")), "{asked:?}");
    assert!(!asked.iter().any(|b| b.contains("DescribeNetworkAcls")));
}

#[test]
fn keibi_does_not_contain_itself() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let ep = endpoint(move |r| {
        seen.fetch_add(1, Ordering::SeqCst);
        xml(400, &error("Unexpected", &r.op()))
    });
    let mut ex = executor(&ep, "aws-iam", Duration::from_secs(60));
    let me = Target::ContainPrincipal {
        principal: "arn:aws:iam::123456789012:user/keibi".into(),
        access_key: None,
        place: Place::default(),
    };
    let err = prepare(ex.as_mut(), me).unwrap_err();
    assert!(
        matches!(&err, ExecError::Permanent(m) if m.contains("keibi's own AWS credentials")),
        "{err:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0, "only STS was asked");
}

#[test]
fn a_user_whose_policy_cannot_be_read_still_loses_its_keys() {
    let asked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = asked.clone();
    let ep = endpoint(move |r| {
        let op = r.op();
        log.lock().unwrap().push(op.clone());
        match op.as_str() {
            "ListAccessKeys" => xml(
                200,
                "<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata>\
                 <member><AccessKeyId>AKIAMALLORYKEY000001</AccessKeyId><Status>Active</Status></member>\
                 <member><AccessKeyId>AKIAMALLORYKEY000002</AccessKeyId><Status>Inactive</Status></member>\
                 </AccessKeyMetadata></ListAccessKeysResult></ListAccessKeysResponse>",
            ),
            "GetUserPolicy" => xml(
                403,
                "<ErrorResponse><Error><Code>AccessDenied</Code><Message>not allowed</Message></Error></ErrorResponse>",
            ),
            "UpdateAccessKey" => xml(200, "<UpdateAccessKeyResponse/>"),
            other => xml(400, &error("Unexpected", other)),
        }
    });
    let mut ex = executor(&ep, "aws-iam", Duration::from_secs(60));
    let user = Target::ContainPrincipal {
        principal: "arn:aws:iam::123456789012:user/mallory".into(),
        access_key: None,
        place: Place::default(),
    };
    let (prior, done) = prepare_apply(ex.as_mut(), user).expect("contain");
    assert!(prior["policy_unread"]
        .as_str()
        .unwrap()
        .contains("AccessDenied"));
    assert_eq!(
        done["deactivated"],
        serde_json::json!(["AKIAMALLORYKEY000001"])
    );
    assert!(done["policy_error"]
        .as_str()
        .unwrap()
        .contains("could not be read"));
    let asked = asked.lock().unwrap();
    assert_eq!(
        asked.iter().filter(|o| *o == "UpdateAccessKey").count(),
        1,
        "only the active key: {asked:?}"
    );
    assert!(!asked.iter().any(|o| o == "PutUserPolicy"), "{asked:?}");
}

#[test]
fn an_instance_made_public_after_prepare_is_given_back_public() {
    // prepare reads it private, apply finds it public: keibi makes it private and
    // records that it did, so undo gives back what apply found.
    let reads = Arc::new(AtomicUsize::new(0));
    let modified = Arc::new(AtomicUsize::new(0));
    let (r, m) = (reads.clone(), modified.clone());
    let ep = endpoint(move |req| match req.op().as_str() {
        "DescribeDBInstances" => {
            let public = r.fetch_add(1, Ordering::SeqCst) > 0;
            xml(
                200,
                &format!(
                    "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance>\
                     <PubliclyAccessible>{public}</PubliclyAccessible></DBInstance></DBInstances>\
                     </DescribeDBInstancesResult></DescribeDBInstancesResponse>"
                ),
            )
        }
        "ModifyDBInstance" => {
            assert!(
                req.body.contains("PubliclyAccessible=false"),
                "{}",
                req.body
            );
            m.fetch_add(1, Ordering::SeqCst);
            xml(200, "<ModifyDBInstanceResponse/>")
        }
        other => xml(400, &error("Unexpected", other)),
    });
    let mut ex = executor(&ep, "aws-rds", Duration::from_secs(60));
    let t = Target::ClosePublicAccess {
        resource_kind: "db_instance".into(),
        resource: "prod-db".into(),
        place: Place::default(),
    };
    let (prior, done) = prepare_apply(ex.as_mut(), t).expect("close");
    assert_eq!(prior["publicly_accessible"], false);
    assert_eq!(done["made_private"], true);
    assert_eq!(modified.load(Ordering::SeqCst), 1);
}
