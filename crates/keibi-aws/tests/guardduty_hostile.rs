//! GuardDuty's reader against an endpoint that misbehaves: a small HTTP server in
//! the test answers the three calls its own way (the same `nextToken` for ever on
//! both lists, ids that are not GuardDuty ids, more ids than asked for, findings it
//! was not asked for, hostile field values, an answer that is not JSON, a refusal).
//! The reader never loops, never panics, keeps within its bounds and maps what is
//! well formed. Needs no test service.

mod fake;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use fake::{json, serve};
use keibi_aws::guardduty::{read, to_finding, ReadOptions, MAX_DETECTORS, MAX_FINDINGS, PAGE};
use serde_json::{json as j, Value};

fn credentials() {
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config");
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/keibi-test/credentials",
    );
    std::env::remove_var("AWS_PROFILE");
    std::env::remove_var("AWS_SESSION_TOKEN");
}

fn opts(endpoint: &str) -> ReadOptions {
    ReadOptions {
        region: Some("ap-northeast-1".into()),
        endpoint_url: Some(endpoint.into()),
        profile: None,
        timeout: Duration::from_secs(10),
        since: Utc::now() - TimeDelta::days(7),
    }
}

fn finding(id: &str) -> Value {
    j!({
        "id": id, "type": "CredentialAccess:RDS/TorIPCaller.FailedLogin",
        "severity": "high", "title": 7, "description": null,
        "accountId": "x".repeat(10_000), "region": "../../evil",
        "updatedAt": "2026-11-28T10:00:00Z",
        "resource": {"rdsDbInstanceDetails": {"dbInstanceIdentifier": "db\u{1b}[2J\n1"}},
        "service": {"count": 1e30, "eventFirstSeen": "yesterday",
            "action": {"rdsLoginAttemptAction": {"remoteIpDetails": {"ipAddressV4": "999.1.1.1"}}}}
    })
}

#[test]
fn endless_tokens_and_hostile_answers_stay_bounded() {
    credentials();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let endpoint = serve(move |req| {
        c.fetch_add(1, Ordering::SeqCst);
        assert!(req
            .headers
            .get("authorization")
            .is_some_and(|a| a.contains("/guardduty/aws4_request")));
        let op = req.op();
        if op == "/detector" {
            // The same token for ever, one good id and one that is not an id.
            return json(
                200,
                r#"{"detectorIds":["d1","../x","d1"],"nextToken":"again"}"#,
            );
        }
        if op == "/detector/d1/findings" {
            let body: Value = serde_json::from_str(&req.body).unwrap();
            assert_eq!(body["maxResults"], PAGE);
            // Twice as many ids as asked for, new ones each page, and the same
            // token for ever.
            let n = body["nextToken"].as_str().map_or(0, |t| t.len());
            let ids: Vec<String> = (0..PAGE * 2).map(|i| format!("f{n}x{i}")).collect();
            let token = "t".repeat(n + 1);
            return json(
                200,
                &j!({"findingIds": ids, "nextToken": token, "extra": "x"}).to_string(),
            );
        }
        if op == "/detector/d1/findings/get" {
            let body: Value = serde_json::from_str(&req.body).unwrap();
            let asked = body["findingIds"].as_array().unwrap();
            assert!(asked.len() <= PAGE);
            // Findings it was not asked for first, then every one asked for,
            // hostile.
            let mut out: Vec<Value> = (0..10).map(|i| finding(&format!("extra{i}"))).collect();
            out.extend(asked.iter().map(|id| finding(id.as_str().unwrap())));
            // And the first one again.
            out.push(finding(asked[0].as_str().unwrap()));
            return json(200, &j!({ "findings": out }).to_string());
        }
        json(404, r#"{"__type":"BadRequestException","message":"no"}"#)
    });
    let r = read(&opts(&endpoint)).expect("read");
    assert_eq!(r.detectors, vec!["d1".to_string()]);
    assert!(r.truncated);
    let mut ids: Vec<&str> = r
        .findings
        .iter()
        .map(|(_, f)| f["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        MAX_FINDINGS,
        "a finding answered twice is kept once"
    );
    assert_eq!(r.findings.len(), MAX_FINDINGS);
    assert!(!r
        .findings
        .iter()
        .any(|(_, f)| f["id"].as_str().unwrap().starts_with("extra")));
    // Ten detector pages, ListFindings pages until 5,000 ids (50 kept a page, the
    // rest of each page dropped), then 100 GetFindings.
    let made = calls.load(Ordering::SeqCst);
    assert!(
        made <= MAX_DETECTORS + MAX_FINDINGS / PAGE + 1 + MAX_FINDINGS / PAGE,
        "{made}"
    );
    assert_eq!(r.calls, made);
    // Every hostile finding maps without panicking, to sane values.
    let f = to_finding("d1", &r.findings[0].1).expect("mapped");
    assert_eq!(f.severity.value(), 1.0);
    assert!(f
        .resource
        .account
        .as_ref()
        .is_some_and(|a| a.chars().count() <= 256));
    assert_eq!(f.resource.region, None);
    assert_eq!(f.actor.ip, None);
    assert_eq!(f.count, 1);
    assert!(!f.resource.id.contains('\n'));
    assert_eq!(f.title, "");
}

#[test]
fn an_answer_that_is_not_json_or_a_refusal_fails_the_read_with_the_call_named() {
    credentials();
    let endpoint = serve(|req| {
        if req.op() == "/detector" {
            return json(200, r#"{"detectorIds":["d1"]}"#);
        }
        json(200, "<html>not json</html>")
    });
    let e = read(&opts(&endpoint)).unwrap_err().to_string();
    assert!(
        e.contains("GuardDuty ListFindings") && e.contains("not JSON"),
        "{e}"
    );

    let endpoint = serve(|_| {
        json(
            403,
            r#"{"__type":"AccessDeniedException","message":"not allowed \u001b[31m"}"#,
        )
    });
    let e = read(&opts(&endpoint)).unwrap_err().to_string();
    assert!(
        e.contains("GuardDuty ListDetectors") && e.contains("AccessDenied"),
        "{e}"
    );
    assert!(!e.contains('\u{1b}'), "{e}");
}
