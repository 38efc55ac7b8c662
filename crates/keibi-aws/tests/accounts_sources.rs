//! A remote source read by an assumed role (`sources.inputs[].role_arn`,
//! `--role-arn`): against a fake endpoint (a small HTTP server in the test), the
//! S3 reader's AssumeRole is signed by the chain's keys and its S3 calls by the
//! role's; a role that refuses is an error naming the role ARN and no key. Needs no
//! test service.

mod fake;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake::{serve, xml};
use keibi_aws::s3::{S3Options, S3Reader};

const CHAIN_KEY: &str = "AKIACHAINKEY";
const CHAIN_SECRET: &str = "chain-secret-never-shown";
const ROLE_KEY: &str = "ASIAROLEKEY";
const ROLE_SECRET: &str = "role-secret-never-shown";
const DENIED: &str = "arn:aws:iam::222222222222:role/keibi-read";
const ALLOWED: &str = "arn:aws:iam::333333333333:role/keibi-read";

fn signer(auth: &str) -> String {
    auth.split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_bucket_of_another_account_is_read_by_its_role() {
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
                let expiry = (chrono::Utc::now() + chrono::Duration::hours(1))
                    .format("%Y-%m-%dT%H:%M:%SZ");
                xml(200, &format!("<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>{ROLE_KEY}</AccessKeyId><SecretAccessKey>{ROLE_SECRET}</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>{expiry}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"))
            }
            _ if key == ROLE_KEY => (200, vec![], b"the object".to_vec()),
            _ => xml(403, "<Error><Code>AccessDenied</Code><Message>not the role's key</Message></Error>"),
        }
    });
    let opts = |role: &str| S3Options {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.clone()),
        timeout: Duration::from_secs(5),
        role_arn: Some(role.into()),
        external_id: Some("keibi-ext".into()),
        ..Default::default()
    };
    let reader = S3Reader::new(&opts(ALLOWED)).unwrap();
    assert_eq!(
        reader.get("trail-bucket", "AWSLogs/x.json").unwrap(),
        b"the object"
    );
    assert_eq!(
        reader.get("trail-bucket", "AWSLogs/y.json").unwrap(),
        b"the object"
    );
    {
        let seen = seen.lock().unwrap();
        let ops: Vec<(&str, &str)> = seen.iter().map(|(o, k)| (o.as_str(), k.as_str())).collect();
        assert_eq!(
            ops,
            vec![
                ("AssumeRole", CHAIN_KEY),
                ("/trail-bucket/AWSLogs/x.json", ROLE_KEY),
                ("/trail-bucket/AWSLogs/y.json", ROLE_KEY),
            ],
            "one AssumeRole, cached for the second call"
        );
    }

    let refused = S3Reader::new(&opts(DENIED)).unwrap();
    let e = refused
        .get("trail-bucket", "AWSLogs/x.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains(DENIED) && e.contains("AccessDenied"), "{e}");
    for secret in [CHAIN_KEY, CHAIN_SECRET, ROLE_KEY, ROLE_SECRET] {
        assert!(!e.contains(secret), "{e}");
    }
}
