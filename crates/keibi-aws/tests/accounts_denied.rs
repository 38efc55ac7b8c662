//! An audit of two accounts where one role refuses keibi: a fake STS (a small HTTP
//! server in the test) answers AssumeRole of one role with 403 AccessDenied and of
//! the other with temporary credentials. The refused account is a problem that
//! names its role (never a key), the other is audited, and each call is signed
//! by the right keys: AssumeRole by the chain's, the inventory's by the role's.
//! Needs no test service.

mod fake;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake::{json, serve, xml};
use keibi_aws::inventory::{collect, Account, InventoryOptions};

const CHAIN_KEY: &str = "AKIACHAINKEY";
const CHAIN_SECRET: &str = "chain-secret-never-shown";
const ROLE_KEY: &str = "ASIAROLEKEY";
const ROLE_SECRET: &str = "role-secret-never-shown";
const ROLE_TOKEN: &str = "role-token-never-shown";
const DENIED: &str = "arn:aws:iam::222222222222:role/keibi-audit";
const ALLOWED: &str = "arn:aws:iam::333333333333:role/keibi-audit";

/// The access key id of a request's SigV4 Authorization header.
fn signer(auth: &str) -> String {
    auth.split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_refusing_role_costs_only_its_account_and_is_named() {
    std::env::set_var("AWS_ACCESS_KEY_ID", CHAIN_KEY);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", CHAIN_SECRET);
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config");
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/keibi-test/credentials",
    );
    let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let log = seen.clone();
    let endpoint = serve(move |req| {
        let op = req.op();
        let key = signer(
            req.headers
                .get("authorization")
                .map(String::as_str)
                .unwrap_or(""),
        );
        log.lock()
            .unwrap()
            .push((op.clone(), key.clone(), req.body.clone()));
        match op.as_str() {
            "AssumeRole" if req.body.contains("222222222222") => xml(
                403,
                &format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::111111111111:user/keibi is not authorized to perform: sts:AssumeRole on resource: {DENIED}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
                ),
            ),
            "AssumeRole" => {
                let expiry = (chrono::Utc::now() + chrono::Duration::hours(1))
                    .format("%Y-%m-%dT%H:%M:%SZ");
                xml(
                    200,
                    &format!(
                        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>{ROLE_KEY}</AccessKeyId><SecretAccessKey>{ROLE_SECRET}</SecretAccessKey><SessionToken>{ROLE_TOKEN}</SessionToken><Expiration>{expiry}</Expiration></Credentials><AssumedRoleUser><Arn>x</Arn><AssumedRoleId>y</AssumedRoleId></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>"
                    ),
                )
            }
            "GetCallerIdentity" if key == ROLE_KEY => xml(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>333333333333</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"),
            "GetCallerIdentity" => xml(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>111111111111</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"),
            _ if key != ROLE_KEY => xml(403, "<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>not the role's key</Message></Error></ErrorResponse>"),
            _ if req.headers.contains_key("x-amz-target") => json(400, r#"{"__type":"UnknownOperationException","message":"no"}"#),
            _ => xml(400, "<ErrorResponse><Error><Code>InvalidAction</Code><Message>not here</Message></Error></ErrorResponse>"),
        }
    });
    let opts = InventoryOptions {
        regions: vec!["us-east-1".into()],
        endpoint_url: Some(endpoint),
        timeout: Duration::from_secs(5),
        accounts: vec![
            Account {
                role_arn: DENIED.into(),
                external_id: Some("keibi-ext".into()),
                regions: vec![],
            },
            Account {
                role_arn: ALLOWED.into(),
                external_id: None,
                regions: vec![],
            },
        ],
        ..Default::default()
    };
    let (invs, problems) = collect(&opts).expect("the allowed account is audited");
    assert_eq!(invs.len(), 1);
    assert_eq!(invs[0].account.as_deref(), Some("333333333333"));
    let refused: Vec<&String> = problems
        .iter()
        .filter(|p| p.contains("AssumeRole"))
        .collect();
    assert_eq!(refused.len(), 1, "{problems:?}");
    assert!(refused[0].contains(DENIED), "{}", refused[0]);
    assert!(refused[0].contains("AccessDenied"), "{}", refused[0]);
    assert!(refused[0].contains("not audited"), "{}", refused[0]);
    // The allowed account's problems (calls the fake does not know) name its role.
    assert!(
        problems.iter().any(|p| p.starts_with(ALLOWED)),
        "{problems:?}"
    );
    for p in &problems {
        for secret in [CHAIN_KEY, CHAIN_SECRET, ROLE_KEY, ROLE_SECRET, ROLE_TOKEN] {
            assert!(!p.contains(secret), "{p}");
        }
    }

    let seen = seen.lock().unwrap();
    let assumes: Vec<_> = seen
        .iter()
        .filter(|(op, _, _)| op == "AssumeRole")
        .collect();
    assert_eq!(assumes.len(), 2);
    for (_, key, body) in &assumes {
        assert_eq!(key, CHAIN_KEY, "AssumeRole is signed by the chain's keys");
        assert!(body.contains("RoleSessionName=keibi"), "{body}");
        assert!(body.contains("DurationSeconds=3600"), "{body}");
    }
    assert!(assumes[0].2.contains("ExternalId=keibi-ext"));
    assert!(!assumes[1].2.contains("ExternalId"));
    // The chain's own GetCallerIdentity (its credentials checked first), then only
    // the role's keys.
    let others: Vec<_> = seen
        .iter()
        .filter(|(op, _, _)| op != "AssumeRole")
        .skip_while(|(_, key, _)| key == CHAIN_KEY)
        .collect();
    assert!(others.len() > 5);
    assert!(
        others.iter().all(|(_, key, _)| key == ROLE_KEY),
        "{:?}",
        others
            .iter()
            .map(|(op, key, _)| format!("{op} {key}"))
            .collect::<Vec<_>>()
    );
}
