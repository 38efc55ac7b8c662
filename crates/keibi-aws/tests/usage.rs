//! The usage counter against a fake endpoint: each attempt the signed client sends
//! is counted once under its service and API (a throttled call retried counts every
//! try, as AWS bills it), the bytes counted are exactly the bodies the endpoint
//! wrote (error answers included), and the estimate prices them. Needs no test
//! service.

mod fake;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use fake::{json, serve, xml, Answer};
use keibi_aws::signed::Client;
use keibi_aws::usage::{estimate, Counts, Usage};
use serde_json::json;

fn client(endpoint: &str, usage: &Arc<Usage>) -> Client {
    let creds = Credentials::new("testing", "testing", None, None, "test");
    Client::new(
        SharedCredentialsProvider::new(creds),
        Some(endpoint),
        Duration::from_secs(5),
    )
    .unwrap()
    .with_usage(usage.clone())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

const THROTTLED: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;

#[test]
fn every_attempt_and_every_byte_is_counted() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let object = vec![b'x'; 10_000];
    let list = "<ListBucketResult><Name>trail</Name><KeyCount>0</KeyCount></ListBucketResult>";
    let events = r#"{"events":[],"searchedLogStreams":[]}"#;
    let (o, l, e) = (object.clone(), list.to_string(), events.to_string());
    let endpoint = serve(move |req| -> Answer {
        let n = c.fetch_add(1, Ordering::SeqCst);
        if req.path.starts_with("/trail/") {
            return (200, vec![], o.clone());
        }
        if req.path.starts_with("/trail") {
            return xml(200, &l);
        }
        match req.op().as_str() {
            // The first two FilterLogEvents are throttled, the third answered.
            "FilterLogEvents" if n < 6 => json(400, THROTTLED),
            "FilterLogEvents" => json(200, &e),
            "DescribeDBLogFiles" => xml(
                403,
                "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>",
            ),
            other => panic!("unexpected call {other}"),
        }
    });
    let usage = Usage::new();
    let cl = client(&endpoint, &usage);
    let rt = rt();
    // Three GetObject, one ListObjectsV2.
    for _ in 0..3 {
        let got = rt
            .block_on(cl.s3_get("us-east-1", "trail", "AWSLogs/1/a.json.gz", &[]))
            .unwrap();
        assert_eq!(got.len(), object.len());
    }
    rt.block_on(cl.s3_get("us-east-1", "trail", "", &[("list-type", "2")]))
        .unwrap();
    // One FilterLogEvents call, throttled twice then answered: three requests.
    rt.block_on(cl.json11(
        "logs",
        "us-east-1",
        "Logs_20140328.FilterLogEvents",
        &json!({"logGroupName": "/aws/rds/instance/db/postgresql"}),
    ))
    .unwrap();
    // One refused call: a request, an error, its answer's bytes.
    let denied = rt.block_on(cl.query("rds", "us-east-1", "2014-10-31", "DescribeDBLogFiles", &[]));
    assert!(denied.is_err());

    assert_eq!(calls.load(Ordering::SeqCst), 8, "requests the endpoint saw");
    assert_eq!(
        usage.get("s3", "GetObject"),
        Counts {
            requests: 3,
            bytes: 30_000,
            errors: 0,
            items: 0
        }
    );
    assert_eq!(
        usage.get("s3", "ListObjectsV2"),
        Counts {
            requests: 1,
            bytes: list.len() as u64,
            errors: 0,
            items: 0
        }
    );
    assert_eq!(
        usage.get("logs", "FilterLogEvents"),
        Counts {
            requests: 3,
            bytes: 2 * THROTTLED.len() as u64 + events.len() as u64,
            errors: 2,
            items: 0
        }
    );
    let denied = usage.get("rds", "DescribeDBLogFiles");
    assert_eq!((denied.requests, denied.errors), (1, 1));
    assert!(denied.bytes > 0);
    let total: u64 = usage.snapshot().iter().map(|l| l.counts.requests).sum();
    assert_eq!(total, 8, "the counter and the endpoint agree");

    // 3 GETs, 1 LIST and 3 FilterLogEvents (the throttled tries too) at
    // us-east-1's list prices, plus the bytes as transfer; the RDS call is free.
    let e = estimate(&usage.snapshot(), "us-east-1");
    let bytes: u64 = usage.snapshot().iter().map(|l| l.counts.bytes).sum();
    let want =
        3.0 * 0.0004 / 1000.0 + 0.005 / 1000.0 + 3.0 * 0.01 / 1000.0 + bytes as f64 / 1e9 * 0.09;
    assert!(
        (e.total_usd() - want).abs() < 1e-12,
        "{} {want}",
        e.total_usd()
    );
}

#[test]
fn security_hub_findings_are_counted_once_imported() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let endpoint = serve(move |_req| -> Answer {
        match c.fetch_add(1, Ordering::SeqCst) {
            0 => json(429, r#"{"__type":"TooManyRequestsException"}"#),
            _ => json(
                200,
                r#"{"FailedCount":0,"SuccessCount":3,"FailedFindings":[]}"#,
            ),
        }
    });
    let usage = Usage::new();
    let cl = client(&endpoint, &usage);
    rt().block_on(cl.rest_json(
        "securityhub",
        "us-east-1",
        "POST",
        "/findings/import",
        &json!({"Findings": [{}, {}, {}]}),
    ))
    .unwrap();
    let c = usage.get("securityhub", "BatchImportFindings");
    assert_eq!((c.requests, c.errors, c.items), (2, 1, 3));
    // The global counter saw none of it.
    assert_eq!(
        keibi_aws::usage::global().get("securityhub", "BatchImportFindings"),
        Counts::default()
    );
}
