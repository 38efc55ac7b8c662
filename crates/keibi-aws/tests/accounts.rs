//! Several accounts by assume-role, against moto server (PyPI): moto is one
//! account, so two IAM roles made in it with boto3 stand for two accounts. Checks
//! that AssumeRole is signed by the chain's keys and everything else by the role's
//! (moto answers GetCallerIdentity with the assumed role of the key that signed),
//! that the role's credentials are asked for again five minutes before they expire
//! (a 900-second session and a clock the test moves), and that an audit of two
//! accounts reads the estate once per role.
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh).

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod common;
mod estate;

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use keibi_aws::inventory::{collect, Account, InventoryOptions};
use keibi_aws::signed::Client;
use keibi_aws::sts::{AssumeRoleProvider, Role};

const ROLE_A: &str = "arn:aws:iam::123456789012:role/keibi-audit-a";
const ROLE_B: &str = "arn:aws:iam::123456789012:role/keibi-audit-b";

fn testing_credentials() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| estate::credentials("testing", "testing"));
}

/// The two roles, made with boto3 in the estate's moto.
fn roles(endpoint: &str) {
    let python = common::python_with("moto").expect("venv");
    let script = r#"
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}
for name in ("keibi-audit-a", "keibi-audit-b"):
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
"#;
    let out = Command::new(python)
        .args(["-c", script, endpoint])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chain_client(endpoint: &str) -> Client {
    Client::new(
        SharedCredentialsProvider::new(Credentials::new("testing", "testing", None, None, "test")),
        Some(endpoint),
        Duration::from_secs(20),
    )
    .unwrap()
}

#[test]
fn calls_are_signed_by_the_role_and_its_credentials_are_renewed_before_expiry() {
    let Some(e) = estate::estate(&[]) else {
        return;
    };
    roles(&e.endpoint);
    let rt = keibi_aws::config::runtime().unwrap();
    let offset = Arc::new(AtomicU64::new(0));
    let o = offset.clone();
    let mut role = Role::new(ROLE_A, Some("keibi-ext-1"));
    role.duration = Duration::from_secs(900);
    assert!(role.session_name.starts_with("keibi"));
    let provider = AssumeRoleProvider::with_clock(
        chain_client(&e.endpoint),
        "us-east-1",
        role,
        Arc::new(move || SystemTime::now() + Duration::from_secs(o.load(Ordering::SeqCst))),
    )
    .unwrap();
    let provider = Arc::new(provider);
    let first = rt.block_on(provider.provide_credentials()).unwrap();
    assert_ne!(first.access_key_id(), "testing");
    assert!(first.session_token().is_some());
    let expiry = first.expiry().expect("an expiry");
    let left = expiry.duration_since(SystemTime::now()).unwrap();
    assert!(
        left > Duration::from_secs(800) && left <= Duration::from_secs(901),
        "DurationSeconds 900 asked for: {left:?}"
    );
    // Cached while more than five minutes are left …
    let again = rt.block_on(provider.provide_credentials()).unwrap();
    assert_eq!(again.access_key_id(), first.access_key_id());
    offset.store(left.as_secs() - 320, Ordering::SeqCst);
    let still = rt.block_on(provider.provide_credentials()).unwrap();
    assert_eq!(still.access_key_id(), first.access_key_id());
    // … and assumed again once fewer are.
    offset.store(left.as_secs() - 290, Ordering::SeqCst);
    let renewed = rt.block_on(provider.provide_credentials()).unwrap();
    assert_ne!(renewed.access_key_id(), first.access_key_id());

    // A client built with the provider signs with the role's keys: moto says
    // which role the key that signed belongs to.
    let signed = Client::new(
        SharedCredentialsProvider::new(ArcProvider(provider.clone())),
        Some(&e.endpoint),
        Duration::from_secs(20),
    )
    .unwrap();
    let who = rt
        .block_on(signed.query("sts", "us-east-1", "2011-06-15", "GetCallerIdentity", &[]))
        .unwrap();
    let arn = who["GetCallerIdentityResult"]["Arn"].as_str().unwrap_or("");
    assert!(
        arn.starts_with("arn:aws:sts::123456789012:assumed-role/keibi-audit-a/keibi"),
        "{who}"
    );
    let chain = rt
        .block_on(chain_client(&e.endpoint).query(
            "sts",
            "us-east-1",
            "2011-06-15",
            "GetCallerIdentity",
            &[],
        ))
        .unwrap();
    assert!(!chain["GetCallerIdentityResult"]["Arn"]
        .as_str()
        .unwrap_or("")
        .contains("assumed-role"));
}

#[derive(Debug)]
struct ArcProvider(Arc<AssumeRoleProvider>);

impl ProvideCredentials for ArcProvider {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.0.provide_credentials()
    }
}

#[test]
fn an_audit_of_two_accounts_reads_each_by_its_role() {
    let Some(e) = estate::estate(&[]) else {
        return;
    };
    roles(&e.endpoint);
    testing_credentials();
    let opts = InventoryOptions {
        regions: vec!["us-east-1".into()],
        endpoint_url: Some(e.endpoint.clone()),
        timeout: Duration::from_secs(20),
        accounts: vec![
            Account {
                role_arn: ROLE_A.into(),
                external_id: None,
                regions: vec![],
            },
            Account {
                role_arn: ROLE_B.into(),
                external_id: Some("keibi-ext-2".into()),
                regions: vec!["us-east-1".into()],
            },
        ],
        ..Default::default()
    };
    let (invs, problems) = collect(&opts).expect("inventory");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(invs.len(), 2);
    for inv in &invs {
        assert_eq!(inv.account.as_deref(), Some("123456789012"));
        let dbs = inv.db_instances.as_ref().expect("instances read");
        assert!(dbs.iter().any(|d| d.id == "keibi-public-pg"), "{dbs:?}");
    }
}
