//! `respond.aws.role_arn`: the executors assume the role with the chain's keys and
//! sign every call of theirs with the role's (a fake endpoint records which key
//! signed each call); a role that refuses fails the action permanently, naming the
//! role and no key. In its own test binary because the credentials are set through
//! the process's environment. Needs no server.

mod fake;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use fake::{serve, xml};
use keibi_aws::respond::{executors, RespondConfig};
use keibi_model::{Finding, Resource, Severity};
use keibi_respond::{Action, Executor, Mode, Place, Request, State, Target};

const CHAIN_KEY: &str = "AKIACHAINKEY";
const CHAIN_SECRET: &str = "chain-secret-never-shown";
const ROLE_KEY: &str = "ASIAROLEKEY";
const ROLE_SECRET: &str = "role-secret-never-shown";
const DENIED: &str = "arn:aws:iam::222222222222:role/keibi-act";
const ALLOWED: &str = "arn:aws:iam::333333333333:role/keibi-act";

fn signer(auth: &str) -> String {
    auth.split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .unwrap_or("")
        .to_string()
}

fn prepare(ex: &mut dyn Executor) -> Result<serde_json::Value, keibi_respond::ExecError> {
    let now = Utc::now();
    let a = Action {
        id: "0123456789abcdef".into(),
        finding_id: "f".into(),
        finding_type: "test".into(),
        target: Target::BlockAddress {
            address: "203.0.113.9/32".parse().unwrap(),
            instance: None,
            place: Place::default(),
        },
        mode: Mode::Auto,
        state: State::Executing,
        rule: "test".into(),
        reason: None,
        expire_after_secs: None,
        expires_at: None,
        created_at: now,
        updated_at: now,
        attempts: 0,
        next_at: None,
        executor: None,
        prior: None,
        done: None,
        by: None,
    };
    let finding = Finding::new("t", "t", &[], Severity::new(5.0), Resource::default(), now);
    ex.prepare(Request {
        action: &a,
        finding: &finding,
    })
}

#[test]
fn the_executors_act_by_the_role_and_a_refusing_role_is_named() {
    std::env::set_var("AWS_ACCESS_KEY_ID", CHAIN_KEY);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", CHAIN_SECRET);
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config");
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/keibi-test/credentials",
    );
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let log = seen.clone();
    let endpoint = serve(move |req| {
        let op = req.op();
        let key = signer(
            req.headers
                .get("authorization")
                .map(String::as_str)
                .unwrap_or(""),
        );
        log.lock().unwrap().push((op.clone(), key.clone()));
        match op.as_str() {
            "AssumeRole" if req.body.contains("222222222222") => xml(
                403,
                &format!("<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: sts:AssumeRole on resource: {DENIED}</Message></Error></ErrorResponse>"),
            ),
            "AssumeRole" => {
                let expiry = (Utc::now() + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
                xml(200, &format!("<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>{ROLE_KEY}</AccessKeyId><SecretAccessKey>{ROLE_SECRET}</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>{expiry}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"))
            }
            "GetCallerIdentity" => xml(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>333333333333</Account><Arn>arn:aws:sts::333333333333:assumed-role/keibi-act/keibi</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>"),
            _ => xml(400, "<Response><Errors><Error><Code>InvalidNetworkAclID.NotFound</Code><Message>The network ACL does not exist</Message></Error></Errors></Response>"),
        }
    });
    let cfg = |role: &str| RespondConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.clone()),
        role_arn: Some(role.into()),
        network_acls: vec!["acl-0123456789abcdef0".into()],
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(20),
        ..RespondConfig::default()
    };
    let nacl = |c: &RespondConfig| {
        executors(c)
            .unwrap()
            .into_iter()
            .find(|e| e.name() == "aws-nacl")
            .unwrap()
    };

    let mut ex = nacl(&cfg(ALLOWED));
    let _ = prepare(ex.as_mut());
    {
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen.first().map(|(o, k)| (o.as_str(), k.as_str())),
            Some(("AssumeRole", CHAIN_KEY))
        );
        assert!(seen.len() > 1, "{seen:?}");
        assert!(
            seen[1..]
                .iter()
                .all(|(op, k)| op != "AssumeRole" && k == ROLE_KEY),
            "{seen:?}"
        );
    }

    let mut refused = nacl(&cfg(DENIED));
    let e = prepare(refused.as_mut()).unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(
        text.contains(DENIED) && text.contains("AccessDenied"),
        "{text}"
    );
    assert!(!e.is_transient(), "a refusing role is permanent: {text}");
    for secret in [CHAIN_KEY, CHAIN_SECRET, ROLE_KEY, ROLE_SECRET] {
        assert!(!text.contains(secret), "{text}");
    }
}
