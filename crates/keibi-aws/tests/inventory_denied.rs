//! A read-only audit user denied some calls (moto server's IAM checking, turned on
//! by `tests/data/make_estate.py --deny`), chosen with `--profile` from a
//! credentials file while the environment holds other keys (which moto now
//! refuses): the profile's keys are the ones used, as with the AWS CLI; the denied
//! lists are `None` with a problem each, everything else is still read. In its own
//! test binary because the credentials file is named through the process's
//! environment.
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh).

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod common;
mod estate;

use keibi_aws::inventory::collect;

#[test]
fn a_denied_call_leaves_its_list_unobserved_and_says_so() {
    let Some(e) = estate::estate(&[
        "--deny",
        "ec2:DescribeNetworkAcls,cloudtrail:GetEventSelectors",
    ]) else {
        return;
    };
    estate::credentials("testing", "testing");
    let dir = std::env::temp_dir().join(format!("keibi-aws-denied-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("credentials");
    std::fs::write(
        &file,
        format!(
            "[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n\
             [auditor]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            e.made["access_key_id"].as_str().unwrap(),
            e.made["secret_access_key"].as_str().unwrap(),
        ),
    )
    .unwrap();
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &file);

    // The environment's keys are refused now that moto checks IAM: an error, not an
    // audit of nothing.
    let err = collect(&estate::options(&e.endpoint, "us-east-1"))
        .expect_err("refused keys")
        .to_string();
    assert!(err.contains("the credentials were refused"), "{err}");
    assert!(err.contains("InvalidClientTokenId"), "{err}");

    let mut opts = estate::options(&e.endpoint, "us-east-1");
    opts.profile = Some("auditor".into());
    let (invs, problems) = collect(&opts).expect("the audit goes on");
    let inv = &invs[0];
    assert_eq!(inv.account.as_deref(), Some("123456789012"));
    assert!(inv.network_acls.is_none(), "denied: not observed");
    assert!(inv.event_selectors.is_none(), "denied: not observed");
    // What was allowed is read.
    assert_eq!(inv.db_instances.as_ref().map(Vec::len), Some(1));
    assert!(inv.security_groups.as_ref().is_some_and(|g| !g.is_empty()));
    assert_eq!(inv.trails.as_ref().map(Vec::len), Some(1));
    assert_eq!(inv.trail_status.as_ref().map(Vec::len), Some(1));
    let acl = problems
        .iter()
        .find(|p| p.contains("EC2 DescribeNetworkAcls"))
        .unwrap_or_else(|| panic!("{problems:?}"));
    assert!(acl.starts_with("us-east-1 "), "{acl}");
    assert!(acl.contains("AccessDenied"), "{acl}");
    assert!(acl.contains("not authorized"), "{acl}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("CloudTrail GetEventSelectors") && p.contains("AccessDenied")),
        "{problems:?}"
    );

    // A profile that is not there is an error that names it.
    opts.profile = Some("nosuch".into());
    let err = collect(&opts).expect_err("no such profile").to_string();
    assert!(err.contains("profile \"nosuch\""), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
