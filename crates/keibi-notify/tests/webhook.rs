//! The generic webhook against a real local receiver: the envelope and the
//! contract's fields, the headers and their HMAC, the hostile strings arriving as
//! the same strings (JSON-escaped, nothing else), and what each answer means.

#[path = "common/receiver.rs"]
mod receiver;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use hmac::{KeyInit, Mac};
use keibi_model::finding::Resource;
use keibi_model::{Finding, Severity};
use keibi_notify::channels::{self, ChannelKind, ChannelSpec, Header, WebhookSpec};
use keibi_notify::text::Style;
use keibi_notify::{Notice, NoticeKind, Outgoing, Secret, SendError};
use receiver::Receiver;

const CATALOG: &str = include_str!("../../../docs/finding-catalog.md");

fn spec(url: String, secret: Option<&str>) -> ChannelSpec {
    ChannelSpec {
        name: "hook".into(),
        lang: None,
        rate_limit: 0,
        kind: ChannelKind::Webhook(WebhookSpec {
            url,
            secret: secret.map(|s| Secret::Value(s.into())),
            headers: vec![Header {
                name: "Authorization".into(),
                value: Secret::Value("Bearer t0ken".into()),
            }],
        }),
    }
}

fn finding(user: &str) -> Finding {
    let t = Utc.with_ymd_and_hms(2026, 12, 2, 3, 13, 41).unwrap();
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &["shop-postgres", "198.51.100.23"],
        Severity::new(5.0),
        Resource {
            kind: "db_instance".into(),
            id: "shop-postgres".into(),
            ..Default::default()
        },
        t,
    );
    f.title = format!("Brute force on shop-postgres as {user}");
    f.description = format!("253 failed logins as {user}");
    f.remediation = "Block the address.".into();
    f.count = 253;
    f.actor.ip = Some("198.51.100.23".parse().unwrap());
    f.actor.user = Some(user.into());
    f
}

fn one(kind: NoticeKind, f: Finding) -> Outgoing {
    Outgoing::One(Box::new(Notice {
        key: "0123456789abcdef0123456789abcdef".into(),
        kind,
        finding: f,
        at: Utc.with_ymd_and_hms(2026, 12, 2, 3, 14, 0).unwrap(),
    }))
}

/// The contract's field names: the first table of docs/finding-catalog.md.
fn contract_fields() -> Vec<String> {
    let mut out = Vec::new();
    for line in CATALOG.lines().skip_while(|l| !l.starts_with("| field |")) {
        if !line.starts_with('|') {
            break;
        }
        for name in line.split('|').nth(1).unwrap_or("").split(',') {
            if let Some(n) = name
                .trim()
                .strip_prefix('`')
                .and_then(|n| n.strip_suffix('`'))
            {
                out.push(n.to_string());
            }
        }
    }
    out.sort();
    out
}

fn verify(secret: &str, ts: &str, body: &[u8], sig: &str) -> bool {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    sig == format!("sha256={want}")
}

#[test]
fn a_finding_arrives_signed_in_the_contracts_shape() {
    let rx = Receiver::start();
    let ch = channels::build(
        &spec(rx.url("/hooks/keibi?k=1"), Some("s3cret")),
        &Style::default(),
        None,
    )
    .unwrap();
    let f = finding("postgres");
    let sent = ch
        .send(&one(
            NoticeKind::Raised {
                from: Severity::new(3.0),
            },
            f.clone(),
        ))
        .unwrap();
    assert_eq!(sent.detail, "HTTP 200");
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/hooks/keibi?k=1")
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), Some("Bearer t0ken"));
    assert_eq!(r.header("x-keibi-event"), Some("severity_raised"));
    assert_eq!(
        r.header("x-keibi-delivery"),
        Some("0123456789abcdef0123456789abcdef")
    );
    let ts = r.header("x-keibi-timestamp").unwrap();
    let now = Utc::now().timestamp();
    assert!((ts.parse::<i64>().unwrap() - now).abs() < 60, "{ts}");
    let sig = r.header("x-keibi-signature").unwrap();
    assert!(verify("s3cret", ts, &r.body, sig), "{sig}");
    assert!(!verify("other", ts, &r.body, sig));
    let mut tampered = r.body.clone();
    tampered[10] ^= 1;
    assert!(!verify("s3cret", ts, &tampered, sig));

    let v = r.json();
    assert_eq!(v["event"], "severity_raised");
    assert_eq!(v["previous_severity"], 3.0);
    assert_eq!(v["changed_at"], "2026-12-02T03:14:00Z");
    assert!(v["sent_at"].as_str().unwrap().ends_with('Z'));
    // Exactly the contract's fields (`suggested_actions` is left out when empty).
    let mut keys: Vec<String> = v["finding"].as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, contract_fields());
    assert_eq!(v["finding"], serde_json::to_value(&f).unwrap());
    assert_eq!(v["finding"]["severity_label"], "Medium");
    // In the contract's order (the table's), as keibi scan --format jsonl writes it.
    let text = String::from_utf8(r.body.clone()).unwrap();
    let start = text.find("\"finding\":{").unwrap();
    let mut at = start;
    for k in contract_order() {
        let p = text[start..].find(&format!("\"{k}\":")).unwrap() + start;
        assert!(p > at, "{k} out of order in {text}");
        at = p;
    }
    assert!(
        text.starts_with("{\"event\":\"severity_raised\","),
        "{text}"
    );
}

/// The contract's fields in the table's order.
fn contract_order() -> Vec<String> {
    let mut out = Vec::new();
    for line in CATALOG.lines().skip_while(|l| !l.starts_with("| field |")) {
        if !line.starts_with('|') {
            break;
        }
        for name in line.split('|').nth(1).unwrap_or("").split(',') {
            if let Some(n) = name
                .trim()
                .strip_prefix('`')
                .and_then(|n| n.strip_suffix('`'))
            {
                out.push(n.to_string());
            }
        }
    }
    out
}

#[test]
fn without_a_secret_nothing_is_signed_and_hostile_text_arrives_as_itself() {
    let rx = Receiver::start();
    let ch = channels::build(&spec(rx.url("/"), None), &Style::default(), None).unwrap();
    let hostile = include_str!("data/hostile.txt");
    let lines: Vec<String> = hostile
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            l.replace("\\n", "\n")
                .replace("\\r", "\r")
                .replace("\\0", "\0")
        })
        .collect();
    for (i, h) in lines.iter().enumerate() {
        ch.send(&one(NoticeKind::New, finding(h))).unwrap();
        let reqs = rx.requests();
        let r = &reqs[i];
        assert!(r.header("x-keibi-signature").is_none());
        let v = r.json();
        assert_eq!(v["finding"]["actor"]["user"].as_str(), Some(h.as_str()));
        assert_eq!(v["event"], "new");
        assert!(v["previous_severity"].is_null());
        // Raw bytes: JSON escapes every control character, so no line break or NUL
        // reaches the receiver's body unescaped.
        assert!(!r.body.iter().any(|b| *b < 0x20), "line {i}");
    }
}

#[test]
fn a_4xx_is_permanent_a_5xx_or_a_closed_port_transient_and_no_secret_shows() {
    let mut rx = Receiver::start();
    let ch = channels::build(
        &spec(rx.url("/hooks/SECRETPATH"), Some("s3cret")),
        &Style::default(),
        None,
    )
    .unwrap();
    let msg = one(NoticeKind::New, finding("app"));
    rx.answer(400);
    let e = ch.send(&msg).unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e}");
    assert!(e.to_string().contains("HTTP 400"), "{e}");
    rx.answer(503);
    let e = ch.send(&msg).unwrap_err();
    assert!(e.is_transient(), "{e}");
    rx.answer(429);
    assert!(ch.send(&msg).unwrap_err().is_transient());
    rx.down();
    let e = ch.send(&msg).unwrap_err();
    assert!(e.is_transient(), "{e}");
    let t = e.to_string();
    assert!(!t.contains("SECRETPATH") && !t.contains("s3cret"), "{t}");
    rx.up();
    rx.answer(200);
    assert!(ch.send(&msg).is_ok());
    assert!(rx.wait_for(4, Duration::from_secs(5)));
}

#[test]
fn bad_settings_are_refused_when_built() {
    let bad_url = spec("ftp://example.com/x".into(), None);
    assert!(channels::build(&bad_url, &Style::default(), None).is_err());
    let mut own = spec("http://127.0.0.1:9/".into(), None);
    if let ChannelKind::Webhook(w) = &mut own.kind {
        w.headers[0].name = "X-Keibi-Signature".into();
    }
    let e = channels::build(&own, &Style::default(), None)
        .err()
        .unwrap();
    assert!(e.to_string().contains("set by keibi"), "{e}");
    let mut crlf = spec("http://127.0.0.1:9/".into(), None);
    if let ChannelKind::Webhook(w) = &mut crlf.kind {
        w.headers[0].value = Secret::Value("a\r\nX-Injected: 1".into());
    }
    let e = channels::build(&crlf, &Style::default(), None)
        .err()
        .unwrap();
    assert!(
        !e.to_string().contains("Injected"),
        "the value is not shown: {e}"
    );
    let missing = ChannelSpec {
        kind: ChannelKind::Webhook(WebhookSpec {
            url: "http://127.0.0.1:9/".into(),
            secret: Some(Secret::Env("KEIBI_TEST_NO_SUCH_VARIABLE".into())),
            headers: vec![],
        }),
        ..spec(String::new(), None)
    };
    let e = channels::build(&missing, &Style::default(), None)
        .err()
        .unwrap();
    assert!(e.to_string().contains("KEIBI_TEST_NO_SUCH_VARIABLE"), "{e}");
}
