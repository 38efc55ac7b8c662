//! A read-only audit user denied some calls (moto server's IAM checking, turned on
//! by `tests/data/make_estate.py --deny`): the denied lists are `None` with a
//! problem each, everything else is still read. In its own test binary because the
//! user's credentials go through the process's environment.
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
    estate::credentials(
        e.made["access_key_id"].as_str().unwrap(),
        e.made["secret_access_key"].as_str().unwrap(),
    );
    let (invs, problems) =
        collect(&estate::options(&e.endpoint, "us-east-1")).expect("the audit goes on");
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
}
