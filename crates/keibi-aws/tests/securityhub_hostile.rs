//! Security Hub's import against an endpoint that misbehaves: a small HTTP server
//! in the test throttles the first calls (retried, then imported), refuses a whole
//! batch (each of its findings reported refused, the next batch still sent), and
//! answers one batch with a page that is not JSON (its findings refused, not
//! counted imported). Needs no test service.

mod fake;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake::{json, serve, xml};
use keibi_aws::securityhub::{import, ImportOptions};
use serde_json::{json, Value};

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

#[test]
fn throttling_is_retried_and_refusals_are_reported_per_finding() {
    credentials();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen: Arc<Mutex<Vec<usize>>> = Arc::default();
    let (c, s) = (calls.clone(), seen.clone());
    let endpoint = serve(move |req| {
        if req.op() == "GetCallerIdentity" {
            return xml(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>111122223333</Account></GetCallerIdentityResult></GetCallerIdentityResponse>");
        }
        assert_eq!(req.path, "/findings/import");
        assert!(req
            .headers
            .get("authorization")
            .is_some_and(|a| a.contains("/securityhub/aws4_request")));
        let n = c.fetch_add(1, Ordering::SeqCst);
        let body: Value = serde_json::from_str(&req.body).expect("a JSON body");
        let findings = body["Findings"].as_array().expect("Findings").len();
        match n {
            // Throttled twice: the first batch is sent three times.
            0 | 1 => json(
                429,
                r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#,
            ),
            2 => {
                s.lock().unwrap().push(findings);
                json(
                    200,
                    &format!(
                        r#"{{"FailedCount":0,"SuccessCount":{findings},"FailedFindings":[]}}"#
                    ),
                )
            }
            // The second batch refused whole.
            3 => {
                s.lock().unwrap().push(findings);
                json(
                    403,
                    r#"{"__type":"AccessDeniedException","message":"not authorized to perform: securityhub:BatchImportFindings"}"#,
                )
            }
            // The third answered by something that is not Security Hub.
            _ => {
                s.lock().unwrap().push(findings);
                (
                    200,
                    vec![("Content-Type".into(), "text/html".into())],
                    b"<html>login</html>".to_vec(),
                )
            }
        }
    });
    let opts = ImportOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint),
        profile: None,
        timeout: Duration::from_secs(10),
        set_workflow: false,
    };
    let report = import(&opts, |account, region| {
        assert_eq!((account, region), ("111122223333", "us-east-1"));
        (0..250).map(|i| json!({"Id": format!("f{i}")})).collect()
    })
    .expect("import runs");
    assert_eq!(*seen.lock().unwrap(), [100, 100, 50]);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        5,
        "two throttled tries, then three batches"
    );
    assert_eq!(report.calls, 3);
    assert_eq!(report.imported, 100);
    assert_eq!(report.refused.len(), 150);
    assert!(report.refused[..100]
        .iter()
        .all(|r| r.code == "AccessDeniedException"));
    assert_eq!(report.refused[0].id, "f100");
    assert!(
        report.refused[100..].iter().all(|r| r.code == "Answer"),
        "{:?}",
        report.refused[100]
    );
    assert_eq!(report.refused[149].id, "f249");
}

#[test]
fn workflow_statuses_are_set_after_the_import_by_status() {
    credentials();
    let patches: Arc<Mutex<Vec<Value>>> = Arc::default();
    let p = patches.clone();
    let endpoint = serve(move |req| {
        match req.op().as_str() {
        "GetCallerIdentity" => xml(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>111122223333</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"),
        "/findings/import" => {
            // f3 is refused: its workflow is not set.
            json(200, r#"{"FailedCount":1,"SuccessCount":3,"FailedFindings":[{"Id":"f3","ErrorCode":"InvalidInput","ErrorMessage":"no"}]}"#)
        }
        "/findings/batchupdate" => {
            let body: Value = serde_json::from_str(&req.body).expect("a JSON body");
            p.lock().unwrap().push(body.clone());
            let ids = body["FindingIdentifiers"].as_array().unwrap().clone();
            // The hub cannot find f1.
            let (un, ok): (Vec<Value>, Vec<Value>) = ids.into_iter().partition(|i| i["Id"] == "f1");
            let un: Vec<Value> = un
                .into_iter()
                .map(|i| json!({"FindingIdentifier": i, "ErrorCode": "FindingNotFound", "ErrorMessage": "gone"}))
                .collect();
            json(200, &json!({"ProcessedFindings": ok, "UnprocessedFindings": un}).to_string())
        }
        other => panic!("unexpected call {other}"),
    }
    });
    let opts = ImportOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint),
        profile: None,
        timeout: Duration::from_secs(10),
        set_workflow: true,
    };
    let report = import(&opts, |account, region| {
        let arn = format!("arn:aws:securityhub:{region}:{account}:product/{account}/default");
        ["SUPPRESSED", "SUPPRESSED", "NEW", "NOTIFIED"]
            .iter()
            .enumerate()
            .map(|(i, w)| json!({"Id": format!("f{i}"), "ProductArn": arn, "Workflow": {"Status": w}}))
            .collect()
    })
    .expect("import runs");
    assert_eq!(report.imported, 3);
    let patches = patches.lock().unwrap();
    let sent: Vec<(String, Vec<String>)> = patches
        .iter()
        .map(|b| {
            (
                b["Workflow"]["Status"].as_str().unwrap().to_string(),
                b["FindingIdentifiers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| {
                        assert_eq!(
                            i["ProductArn"],
                            "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"
                        );
                        i["Id"].as_str().unwrap().to_string()
                    })
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            ("NEW".to_string(), vec!["f2".to_string()]),
            (
                "SUPPRESSED".to_string(),
                vec!["f0".to_string(), "f1".to_string()]
            ),
        ],
        "one call per status; the refused f3 is left alone"
    );
    assert_eq!(report.workflow_calls, 2);
    assert_eq!(report.workflow_set, 2);
    assert_eq!(report.workflow_refused.len(), 1);
    assert_eq!(report.workflow_refused[0].id, "f1");
    assert_eq!(report.workflow_refused[0].code, "FindingNotFound");
}
