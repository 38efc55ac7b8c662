//! A fake AWS endpoint for the tests that need one to misbehave: a small HTTP/1.1
//! server on a loopback port that hands each request (Query action, JSON target or
//! path, headers, body) to the test's handler and writes its answer as it is.

#![allow(dead_code)] // each test file uses part of it

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

pub struct Req {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Req {
    /// The Query action, the JSON target's operation, or the path.
    pub fn op(&self) -> String {
        if let Some(t) = self.headers.get("x-amz-target") {
            return t.rsplit('.').next().unwrap_or("").to_string();
        }
        for pair in self.body.split('&') {
            if let Some(a) = pair.strip_prefix("Action=") {
                return a.to_string();
            }
        }
        self.path.split('?').next().unwrap_or("").to_string()
    }
}

pub type Answer = (u16, Vec<(String, String)>, Vec<u8>);

pub fn serve(handler: impl Fn(&Req) -> Answer + Send + Sync + 'static) -> String {
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

fn answer(stream: TcpStream, handler: &dyn Fn(&Req) -> Answer) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(());
    }
    let path = line.split(' ').nth(1).unwrap_or("/").to_string();
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
    let req = Req {
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let (status, extra, body) = handler(&req);
    let mut out = stream.try_clone()?;
    let mut head = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
    let mut has_length = false;
    for (k, v) in &extra {
        has_length |= k.eq_ignore_ascii_case("content-length");
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_length {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(&body)?;
    out.flush()?;
    Ok(())
}

pub fn xml(status: u16, body: &str) -> Answer {
    (
        status,
        vec![("Content-Type".into(), "text/xml".into())],
        body.as_bytes().to_vec(),
    )
}

pub fn json(status: u16, body: &str) -> Answer {
    (
        status,
        vec![("Content-Type".into(), "application/x-amz-json-1.1".into())],
        body.as_bytes().to_vec(),
    )
}
