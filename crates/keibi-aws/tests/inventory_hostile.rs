//! The inventory against an endpoint that misbehaves: a small HTTP server in the
//! test answers each call its own way (throttled then answered, an endless page
//! marker, AWS's 5xx, an answer too large, not XML, nested too deep, an action it
//! does not know, a refusal in a header only). Each failure leaves its own list
//! unobserved with a one-line problem; the rest of the inventory is read. Needs no
//! test service.

mod fake;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use fake::{json, serve, xml};
use keibi_aws::inventory::{collect, InventoryOptions};

const HOSTILE_ID: &str = "db-<script>&\u{202e}\"x\"";

/// Credentials for the fake endpoint, through the environment, set once.
fn credentials() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config");
        std::env::set_var(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/keibi-test/credentials",
        );
    });
}

fn options(endpoint: String) -> InventoryOptions {
    InventoryOptions {
        regions: vec!["us-east-1".into()],
        endpoint_url: Some(endpoint),
        profile: None,
        timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

#[test]
fn a_misbehaving_endpoint_costs_only_its_own_lists() {
    credentials();
    let instance_tries = Arc::new(AtomicUsize::new(0));
    let snapshot_tries = Arc::new(AtomicUsize::new(0));
    let markers = Arc::new(Mutex::new(0usize));
    let (it, st, mk) = (
        instance_tries.clone(),
        snapshot_tries.clone(),
        markers.clone(),
    );
    let escaped = HOSTILE_ID
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;");
    let endpoint = serve(move |req| {
        match req.op().as_str() {
        "GetCallerIdentity" => xml(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>111122223333</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"),
        "DescribeDBInstances" => {
            if it.fetch_add(1, Ordering::SeqCst) < 2 {
                return xml(400, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>");
            }
            xml(200, &format!(
                "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances>\
                 <DBInstance><DBInstanceIdentifier>{escaped}</DBInstanceIdentifier><Engine>mysql</Engine>\
                 <PubliclyAccessible>true</PubliclyAccessible><Unknown><Deep>x</Deep></Unknown></DBInstance>\
                 <DBInstance><Engine>no id</Engine></DBInstance>\
                 </DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>"))
        }
        "DescribeDBClusters" => {
            *mk.lock().unwrap() += 1;
            xml(200, "<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters/><Marker>again</Marker></DescribeDBClustersResult></DescribeDBClustersResponse>")
        }
        "DescribeDBSnapshots" => {
            st.fetch_add(1, Ordering::SeqCst);
            xml(503, "<ErrorResponse><Error><Code>ServiceUnavailable</Code><Message>down</Message></Error></ErrorResponse>")
        }
        "DescribeDBClusterSnapshots" => (200, vec![("Content-Length".into(), (65u64 << 20).to_string())], Vec::new()),
        "DescribeSecurityGroups" => xml(200, "<<<not xml"),
        "DescribeNetworkAcls" => xml(200, &("<a>".repeat(100) + &"</a>".repeat(100))),
        "DescribeTrails" => json(200, r#"{"trailList":[{"Name":"t","TrailARN":"arn:aws:cloudtrail:us-east-1:111122223333:trail/t","IsMultiRegionTrail":true}]}"#),
        "GetTrailStatus" => json(200, r#"{"IsLogging":false}"#),
        "GetEventSelectors" => json(400, "{\"__type\":\"UnsupportedOperationException\",\"message\":\"line one\\nline two\"}"),
        p if p.starts_with("/detector") => (403, vec![("x-amzn-ErrorType".into(), "AccessDeniedException:http://internal/".into())], b"{}".to_vec()),
        _ => xml(400, "<Response><Errors><Error><Code>InvalidAction</Code><Message>The action is not valid for this web service.</Message></Error></Errors></Response>"),
    }
    });
    let (invs, problems) = collect(&options(endpoint)).expect("the audit goes on");
    let inv = &invs[0];
    let has = |what: &str, why: &str| {
        assert!(
            problems.iter().any(|p| p.contains(what) && p.contains(why)),
            "no problem with {what:?} and {why:?} in {problems:#?}"
        )
    };

    assert_eq!(inv.account.as_deref(), Some("111122223333"));
    // Throttled twice, then read; the entry without an id is left out and said.
    assert_eq!(instance_tries.load(Ordering::SeqCst), 3);
    let dbs = inv.db_instances.as_ref().expect("read after the retries");
    assert_eq!(dbs.len(), 1);
    assert_eq!(
        dbs[0].id, HOSTILE_ID,
        "kept as written, for the outputs to escape"
    );
    assert!(dbs[0].publicly_accessible);
    has(
        "RDS DescribeDBInstances",
        "could not be read were left out: 1",
    );
    // A marker given again is not followed for ever.
    assert!(inv.db_clusters.is_none());
    assert_eq!(*markers.lock().unwrap(), 2);
    has("RDS DescribeDBClusters", "same page marker");
    // 5xx: five tries, then given up.
    assert!(inv.db_snapshots.is_none() && inv.db_snapshot_attributes.is_none());
    assert_eq!(snapshot_tries.load(Ordering::SeqCst), 5);
    has(
        "RDS DescribeDBSnapshots",
        "ServiceUnavailable (HTTP 503): down",
    );
    assert!(inv.db_cluster_snapshots.is_none());
    has("RDS DescribeDBClusterSnapshots", "larger than 64 MiB");
    assert!(inv.security_groups.is_none());
    has("EC2 DescribeSecurityGroups", "not well-formed XML");
    assert!(inv.network_acls.is_none());
    has("EC2 DescribeNetworkAcls", "nested deeper");
    assert!(inv.route_tables.is_none() && inv.subnets.is_none());
    has("EC2 DescribeRouteTables", "InvalidAction (HTTP 400)");
    has("EC2 DescribeSubnets", "InvalidAction");
    // CloudTrail: trails and status read, selectors refused.
    assert_eq!(inv.trails.as_ref().map(Vec::len), Some(1));
    let status = inv.trail_status.as_ref().unwrap();
    assert_eq!(
        status[0].trail,
        "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"
    );
    assert!(!status[0].is_logging);
    assert!(inv.event_selectors.is_none());
    has(
        "CloudTrail GetEventSelectors",
        "UnsupportedOperationException (HTTP 400): line one line two",
    );
    // GuardDuty: the code from the header alone.
    assert!(inv.guardduty.is_none());
    has(
        "GuardDuty ListDetectors",
        "AccessDeniedException (HTTP 403)",
    );
    // Every problem is one short line starting with its region.
    for p in &problems {
        assert!(p.starts_with("us-east-1 "), "{p}");
        assert!(!p.contains('\n') && p.chars().count() <= 600, "{p}");
    }
}

#[test]
fn an_answer_that_is_not_the_expected_object_is_unread_not_a_default() {
    credentials();
    let endpoint = serve(|req| {
        match req.op().as_str() {
        "GetCallerIdentity" => xml(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>111122223333</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"),
        "DescribeTrails" => json(200, r#"{"trailList":[
            {"Name":"good","TrailARN":"arn:aws:cloudtrail:us-east-1:111122223333:trail/good"},
            {"Name":"odd","TrailARN":"arn:aws:cloudtrail:us-east-1:111122223333:trail/odd"}]}"#),
        // An array would read as a status with every field defaulted: not logging.
        "GetTrailStatus" if req.body.contains("trail/odd") => json(200, "[]"),
        "GetTrailStatus" => json(200, r#"{"IsLogging":true}"#),
        "GetEventSelectors" => json(200, r#"{"TrailARN":"x","EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":true}]}"#),
        "/detector" => json(200, r#"{"detectorIds":["d1"]}"#),
        "DescribeDBInstances" => xml(200, "<html><body>captive portal</body></html>"),
        "DescribeSecurityGroups" => xml(200, "<p>hello</p>"),
        p if p.starts_with("/detector/") => json(200, r#""ENABLED""#),
        _ => xml(400, "<Response><Errors><Error><Code>InvalidAction</Code><Message>no</Message></Error></Errors></Response>"),
    }
    });
    let (invs, problems) = collect(&options(endpoint)).expect("the audit goes on");
    let inv = &invs[0];
    assert_eq!(inv.trails.as_ref().map(Vec::len), Some(2));
    assert!(inv.trail_status.is_none(), "{:?}", inv.trail_status);
    assert!(
        problems.iter().any(|p| p.contains(
            "CloudTrail GetTrailStatus arn:aws:cloudtrail:us-east-1:111122223333:trail/odd"
        ) && p.contains("not a JSON object")),
        "{problems:#?}"
    );
    assert_eq!(inv.event_selectors.as_ref().map(Vec::len), Some(2));
    assert!(inv.guardduty.is_none());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("GuardDuty GetDetector d1")),
        "{problems:#?}"
    );
    // A 200 that is not the action's answer: unread, not an empty list.
    assert!(inv.db_instances.is_none() && inv.security_groups.is_none());
    for call in ["RDS DescribeDBInstances", "EC2 DescribeSecurityGroups"] {
        assert!(
            problems
                .iter()
                .any(|p| p.contains(call) && p.contains("not the action's result")),
            "{call}: {problems:#?}"
        );
    }
}
