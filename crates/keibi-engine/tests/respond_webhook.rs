//! The webhook executor against a real local HTTP server: what it POSTs (the action
//! and the finding as JSON), that the signature verifies over the received bytes,
//! the delivery id, and what each answer means (2xx done with the start of the
//! body, 500 and 429 transient, 400 permanent, nobody listening transient).

use std::collections::{BTreeMap, VecDeque};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use keibi_engine::respond::webhook::Webhooks;
use keibi_engine::settings::respond::RespondWebhook;
use keibi_model::finding::Resource;
use keibi_model::{Finding, Severity};
use keibi_notify::channels::webhook::signature;
use keibi_notify::Secret;
use keibi_respond::{Action, ExecError, Executor, Mode, Request, State, Target};

/// One request as received.
#[derive(Debug, Clone)]
struct Got {
    head: String,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// Answers each request with the next queued (status, body), 200 when none.
struct Server {
    base: String,
    got: Arc<Mutex<Vec<Got>>>,
    answers: Arc<Mutex<VecDeque<(u16, String)>>>,
}

impl Server {
    fn start() -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let answers: Arc<Mutex<VecDeque<(u16, String)>>> = Arc::new(Mutex::new(VecDeque::new()));
        let (g, a) = (got.clone(), answers.clone());
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                s.set_read_timeout(Some(Duration::from_secs(5))).ok();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break Some(i);
                    }
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => break None,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let Some(head_end) = head_end else { continue };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (n, v) = l.split_once(':')?;
                        n.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                let mut body = buf[head_end + 4..].to_vec();
                while body.len() < len {
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => body.extend_from_slice(&chunk[..n]),
                    }
                }
                g.lock().unwrap().push(Got { head, body });
                let (status, text) = a.lock().unwrap().pop_front().unwrap_or((200, "ok".into()));
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            }
        });
        Server { base, got, answers }
    }

    fn answer(&self, status: u16, body: &str) {
        self.answers
            .lock()
            .unwrap()
            .push_back((status, body.to_string()));
    }

    fn take(&self) -> Vec<Got> {
        std::mem::take(&mut *self.got.lock().unwrap())
    }
}

fn finding() -> Finding {
    let t = Utc.with_ymd_and_hms(2026, 12, 6, 3, 10, 0).unwrap();
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &["prod-db", "203.0.113.9"],
        Severity::new(7.5),
        Resource {
            kind: "db_instance".into(),
            id: "prod-db".into(),
            ..Default::default()
        },
        t,
    );
    f.actor.user = Some("app\"}\n<script>".into());
    f
}

fn action(name: &str) -> Action {
    let t = Utc.with_ymd_and_hms(2026, 12, 6, 3, 11, 0).unwrap();
    Action {
        id: "00aa11bb22cc33dd".into(),
        finding_id: finding().id,
        finding_type: "CredentialAccess:RDS/BruteForce".into(),
        rule: "soc".into(),
        attempts: 1,
        executor: Some("webhook".into()),
        ..Action::new(
            Target::Webhook { name: name.into() },
            Mode::Auto,
            State::Executing,
            t,
        )
    }
}

fn hooks(server: &Server) -> Webhooks {
    let mut m = BTreeMap::new();
    m.insert(
        "soc".to_string(),
        RespondWebhook {
            url: format!("{}/hooks/TOKEN123", server.base),
            secret: Some(Secret::Value("s3cret".into())),
            timeout: None,
        },
    );
    m.insert(
        "plain".to_string(),
        RespondWebhook {
            url: format!("{}/plain", server.base),
            secret: None,
            timeout: None,
        },
    );
    Webhooks::from_settings(&m).unwrap()
}

#[test]
fn the_post_carries_the_action_and_the_finding_signed() {
    let server = Server::start();
    let mut x = hooks(&server);
    let f = finding();
    let a = action("soc");
    let req = Request {
        action: &a,
        finding: &f,
    };
    assert!(x.accepts(&a.target));
    assert!(!x.accepts(&Target::Webhook {
        name: "other".into()
    }));
    assert!(!x.accepts(&Target::Exec { name: "soc".into() }));

    let prior = x.prepare(req).unwrap();
    assert!(
        !prior.to_string().contains("TOKEN123"),
        "the URL's path is a secret: {prior}"
    );
    server.answer(202, &format!("accepted {}", "x".repeat(5000)));
    let done = x.apply(req, &prior).unwrap();
    assert_eq!(done["status"], 202);
    let shown = done["body"].as_str().unwrap();
    assert!(
        shown.starts_with("accepted ") && shown.len() <= 1024,
        "{}",
        shown.len()
    );

    let got = server.take();
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert!(g.head.starts_with("POST /hooks/TOKEN123 "), "{}", g.head);
    let body: serde_json::Value = serde_json::from_slice(&g.body).unwrap();
    let back: Action = serde_json::from_value(body["action"].clone()).unwrap();
    assert_eq!(back, a);
    let fb: Finding = serde_json::from_value(body["finding"].clone()).unwrap();
    assert_eq!(fb.id, f.id);
    assert_eq!(
        fb.actor.user, f.actor.user,
        "hostile text arrives as JSON data"
    );
    assert_eq!(
        g.header("X-Keibi-Delivery").as_deref(),
        Some("00aa11bb22cc33dd")
    );
    assert_eq!(g.header("X-Keibi-Event").as_deref(), Some("action"));
    let ts: i64 = g.header("X-Keibi-Timestamp").unwrap().parse().unwrap();
    assert!((ts - Utc::now().timestamp()).abs() < 60);
    let sig = g.header("X-Keibi-Signature").unwrap();
    assert_eq!(
        sig,
        signature(b"s3cret", ts, &g.body),
        "verifies over what arrived"
    );
    assert_ne!(sig, signature(b"other", ts, &g.body));

    // Without a secret: no signature, same body.
    let p = action("plain");
    let rp = Request {
        action: &p,
        finding: &f,
    };
    x.apply(rp, &serde_json::Value::Null).unwrap();
    let g = server.take().pop().unwrap();
    assert!(g.header("X-Keibi-Signature").is_none());
    assert_eq!(
        g.header("X-Keibi-Delivery").as_deref(),
        Some("00aa11bb22cc33dd")
    );

    // Not undoable.
    assert!(x.undo(req, &prior, &done).is_err());
}

#[test]
fn answers_say_whether_to_try_again() {
    let server = Server::start();
    let mut x = hooks(&server);
    let f = finding();
    let a = action("soc");
    let req = Request {
        action: &a,
        finding: &f,
    };
    for (status, transient) in [
        (500, true),
        (503, true),
        (429, true),
        (408, true),
        (400, false),
        (404, false),
    ] {
        server.answer(status, "nope /hooks/TOKEN123");
        let e = x.apply(req, &serde_json::Value::Null).unwrap_err();
        assert_eq!(e.is_transient(), transient, "{status}: {e}");
        let m = e.to_string();
        assert!(m.contains(&format!("HTTP {status}")), "{m}");
        assert!(!m.contains("TOKEN123"), "the URL's path stays out: {m}");
    }
    // Nobody listening: transient.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut m = BTreeMap::new();
    m.insert(
        "soc".to_string(),
        RespondWebhook {
            url: format!("http://127.0.0.1:{port}/x"),
            secret: None,
            timeout: Some("2s".parse().unwrap()),
        },
    );
    let mut gone = Webhooks::from_settings(&m).unwrap();
    let e = gone.apply(req, &serde_json::Value::Null).unwrap_err();
    assert!(matches!(e, ExecError::Transient(_)), "{e:?}");
}

#[test]
fn bad_settings_are_refused_at_start() {
    let mut m = BTreeMap::new();
    m.insert(
        "x".to_string(),
        RespondWebhook {
            url: "ftp://example.com/".into(),
            secret: None,
            timeout: None,
        },
    );
    assert!(Webhooks::from_settings(&m).is_err());
    m.insert(
        "x".to_string(),
        RespondWebhook {
            url: "https://example.com/".into(),
            secret: Some(Secret::Env("KEIBI_TEST_NO_SUCH_VARIABLE_8812".into())),
            timeout: None,
        },
    );
    let e = Webhooks::from_settings(&m).err().unwrap();
    assert!(e.to_string().contains("respond.webhooks.x.secret"), "{e}");
}
