//! A recording HTTP receiver on 127.0.0.1 for the channels' tests: it keeps the
//! method, path, headers and body of every request and answers each with the next
//! queued answer (200 when none is queued): a 429 with Retry-After, a 500, a 400.
//! One connection at a time, `Connection: close` on every answer.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "the body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// What the receiver answers.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn status(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    pub fn with(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.into(), value.into()));
        self
    }
}

pub struct Recorder {
    pub base: String,
    got: Arc<Mutex<Vec<Request>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
}

/// The largest body the receiver reads (every channel stays far below).
const BODY_MAX: usize = 1 << 20;

impl Recorder {
    pub fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(VecDeque::new()));
        let (g, a) = (got.clone(), answers.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                serve(stream, &g, &a);
            }
        });
        Recorder { base, got, answers }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Queues the answer to the next request.
    pub fn answer(&self, a: Answer) {
        self.answers.lock().unwrap().push_back(a);
    }

    /// Every request so far, emptying the record.
    pub fn take(&self) -> Vec<Request> {
        std::mem::take(&mut *self.got.lock().unwrap())
    }

    /// The one request received since the last `take`.
    pub fn one(&self) -> Request {
        let mut got = self.take();
        assert_eq!(got.len(), 1, "expected one request, got {}", got.len());
        got.pop().unwrap()
    }
}

/// Reads one request, records it, then answers (recorded first, so that a test
/// that saw the answer finds the request).
fn serve(
    mut s: TcpStream,
    got: &Mutex<Vec<Request>>,
    answers: &Mutex<VecDeque<Answer>>,
) -> Option<()> {
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (req, head_len) = loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut r = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(len) = r.parse(&buf).ok()? {
            let req = Request {
                method: r.method?.to_string(),
                path: r.path?.to_string(),
                headers: r
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
                body: Vec::new(),
            };
            break (req, len);
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    };
    let len: usize = req
        .header("content-length")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
        .min(BODY_MAX);
    let mut body = buf[head_len..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    got.lock().unwrap().push(Request { body, ..req });
    let a = answers
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| Answer::status(200, "ok"));
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        a.status,
        a.body.len()
    );
    for (n, v) in &a.headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&a.body);
    let _ = s.write_all(out.as_bytes());
    let _ = s.flush();
    Some(())
}
