//! A recording HTTP receiver on 127.0.0.1 for channel tests: a real TCP server
//! (std::net, one thread) that keeps every request (method, path, headers, body),
//! answers with the status it is told to, and can be taken down and brought back on
//! the same port. One request per connection (`Connection: close`).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One request as the receiver read it; header names lower-case.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// The status answered.
    pub status: u16,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

pub struct Receiver {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    status: Arc<AtomicU16>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Starts on a free port, answering 200.
    pub fn start() -> Receiver {
        Receiver::start_on(0)
    }

    /// Starts on `port` (0: a free one).
    pub fn start_on(port: u16) -> Receiver {
        let mut r = Receiver {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            requests: Arc::new(Mutex::new(Vec::new())),
            status: Arc::new(AtomicU16::new(200)),
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
        };
        r.up();
        r
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The status every request is answered with from now on.
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Takes it down: the port refuses connections until [`Receiver::up`].
    pub fn down(&mut self) {
        if let Some(t) = self.thread.take() {
            self.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
            let _ = t.join();
        }
    }

    /// Brings it back on the same port (what it recorded is kept).
    pub fn up(&mut self) {
        if self.thread.is_some() {
            return;
        }
        let start = Instant::now();
        let listener = loop {
            match TcpListener::bind(self.addr) {
                Ok(l) => break l,
                Err(e) if start.elapsed() < Duration::from_secs(10) => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("bind {}: {e}", self.addr),
            }
        };
        self.addr = listener.local_addr().unwrap();
        self.stop = Arc::new(AtomicBool::new(false));
        let (stop, requests, status) = (
            self.stop.clone(),
            self.requests.clone(),
            self.status.clone(),
        );
        self.thread = Some(std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let code = status.load(Ordering::SeqCst);
                serve(conn, code, &requests);
            }
        }));
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived (false after `limit`).
    pub fn wait_for(&self, n: usize, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.requests.lock().unwrap().len() >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.down();
    }
}

/// Reads one request, records it, then answers: recorded before the answer, so a
/// sender that has its answer always finds its request in `requests()`.
fn serve(conn: TcpStream, status: u16, requests: &Mutex<Vec<Request>>) -> Option<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            break;
        }
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
    let mut body = vec![0; len.min(16 << 20)];
    reader.read_exact(&mut body).ok()?;
    let reason = if (200..300).contains(&status) {
        "OK"
    } else {
        "Error"
    };
    requests.lock().unwrap().push(Request {
        method,
        path,
        headers,
        body,
        status,
    });
    let answer = format!("status {status}");
    let mut out = conn;
    let _ = write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    let _ = out.flush();
    Some(())
}
