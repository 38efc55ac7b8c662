//! The event history reader against an endpoint that misbehaves: a small HTTP
//! server in the test answers LookupEvents its own way (the same NextToken for
//! ever, new tokens with empty pages for ever, throttled then answered, a refusal,
//! an answer without its Events, hostile records, pages out of order). The reader
//! never loops, never panics, keeps each record one line and hands events out
//! oldest first. Needs no test service.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use keibi_aws::lookup::{parse_url, HistoryReader, LookupError, LookupOptions, TARGET};
use serde_json::{json, Value};

type Answer = (u16, String);

fn serve(
    handler: impl Fn(&Value, &HashMap<String, String>) -> Answer + Send + Sync + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let handler = handler.clone();
            std::thread::spawn(move || {
                let _ = answer(stream, &*handler);
            });
        }
    });
    format!("http://{addr}")
}

fn answer(
    stream: TcpStream,
    handler: &dyn Fn(&Value, &HashMap<String, String>) -> Answer,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(());
    }
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (status, body) = handler(&req, &headers);
    let mut out = stream.try_clone()?;
    out.write_all(
        format!(
            "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )?;
    out.flush()
}

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

fn reader(endpoint: String) -> HistoryReader {
    credentials();
    HistoryReader::new(&LookupOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint),
        profile: None,
        timeout: Duration::from_secs(10),
        ..Default::default()
    })
    .unwrap()
}

fn event(id: &str, t: i64, record: Value) -> Value {
    json!({"EventId": id, "EventTime": t, "CloudTrailEvent": record.to_string()})
}

fn record(id: &str, t: i64) -> Value {
    json!({"eventID": id, "eventTime": chrono::DateTime::from_timestamp(t, 0).unwrap().to_rfc3339(), "eventName": "X"})
}

#[test]
fn the_same_token_for_ever_ends_the_read() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let url = serve(move |_, h| {
        assert_eq!(h.get("x-amz-target").map(String::as_str), Some(TARGET));
        c.fetch_add(1, Ordering::SeqCst);
        (
            200,
            json!({"Events": [event("e1", 100, record("e1", 100))], "NextToken": "same"})
                .to_string(),
        )
    });
    let mut r = reader(url);
    let got = r
        .events(
            &parse_url("cloudtrail-history://us-east-1").unwrap(),
            None,
            None,
        )
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(got.len(), 2);
}

#[test]
fn new_tokens_with_empty_pages_for_ever_are_an_error() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let url = serve(move |_, _| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        (
            200,
            json!({"Events": [], "NextToken": format!("t{n}")}).to_string(),
        )
    });
    let mut r = reader(url);
    let e = r
        .events(
            &parse_url("cloudtrail-history://us-east-1").unwrap(),
            None,
            None,
        )
        .unwrap_err();
    assert!(matches!(e, LookupError::TooMuch { .. }), "{e}");
    assert!(e.to_string().contains("without an event"), "{e}");
    assert_eq!(calls.load(Ordering::SeqCst), 21);
}

#[test]
fn throttled_then_answered_and_refusals_and_answers_without_events() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let url = serve(move |req, _| {
        // The attribute and times are sent as LookupEvents documents them.
        if req["LookupAttributes"][0]["AttributeKey"] == "EventName" {
            return (
                400,
                json!({"__type": "AccessDeniedException", "message": "no <b>"}).to_string(),
            );
        }
        if req["LookupAttributes"][0]["AttributeKey"] == "Username" {
            return (200, json!({"Nope": []}).to_string());
        }
        assert_eq!(req["StartTime"], 1);
        assert_eq!(req["EndTime"], 2);
        assert_eq!(req["MaxResults"], 50);
        if c.fetch_add(1, Ordering::SeqCst) < 2 {
            return (
                400,
                json!({"__type": "ThrottlingException", "message": "Rate exceeded"}).to_string(),
            );
        }
        (
            200,
            json!({"Events": [event("e1", 1, record("e1", 1))]}).to_string(),
        )
    });
    let mut r = reader(url);
    let u = parse_url("cloudtrail-history://us-east-1?EventSource=rds.amazonaws.com").unwrap();
    let got = r.events(&u, Some(1_500), Some(2_999)).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let u = parse_url("cloudtrail-history://us-east-1?EventName=StopLogging").unwrap();
    let e = r.events(&u, None, None).unwrap_err().to_string();
    assert!(e.contains("AccessDeniedException"), "{e}");
    let u = parse_url("cloudtrail-history://us-east-1?Username=x").unwrap();
    let e = r.events(&u, None, None).unwrap_err().to_string();
    assert!(e.contains("without its Events"), "{e}");
}

#[test]
fn hostile_records_and_pages_out_of_order() {
    let url = serve(move |req, _| {
        let page = req["NextToken"].as_str().unwrap_or("");
        let body = match page {
            "" => json!({"Events": [
                // Newest first, as the history answers.
                event("e3", 300, json!({"eventID": "e3", "userAgent": "x\"}\n{\"eventID\":\"forged\"}"})),
                {"EventId": "e2", "EventTime": 200, "CloudTrailEvent": "not json"},
                {"EventId": 7, "EventTime": 200, "CloudTrailEvent": "{}"},
                {"EventId": "e2b", "EventTime": "soon", "CloudTrailEvent": "[{}]"},
                "a string",
            ], "NextToken": "p2"}),
            // A page older than it should be, then one newer: sorted anyway.
            _ => json!({"Events": [
                event("e1", 100, record("e1", 100)),
                event("e4", 400, record("e4", 400)),
            ]}),
        };
        (200, body.to_string())
    });
    let mut r = reader(url);
    let got = r
        .events(
            &parse_url("cloudtrail-history://us-east-1").unwrap(),
            None,
            None,
        )
        .unwrap();
    let ids: Vec<&str> = got.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["e1", "e3", "e4"]);
    for e in &got {
        assert_eq!(e.record.lines().count(), 1, "{}", e.record);
        let v: Value = serde_json::from_str(&e.record).unwrap();
        assert!(v.is_object());
    }
    assert!(got[1].record.contains("forged"), "kept as the string it is");
    assert_eq!(r.calls, 2);
}
