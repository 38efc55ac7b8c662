//! Syslog receivers for self-hosted servers: UDP (one message a datagram) and TCP
//! (RFC 6587: octet counting, `LEN SP MSG`, or one message a line). Headers are RFC
//! 5424 or RFC 3164 (BSD), read by keibi-parse's syslog reader; the program name
//! makes the stream (`postgres`, `mysqld`, `mariadbd`, `mysql-server_auditing`), so
//! each program's lines go to the parser its first line is detected as
//! (`postgres`: PostgreSQL's syslog form).
//!
//! Bounds: a message is cut at `max_line_bytes`; at most `max_connections` TCP
//! connections are served (one more is closed at once); a TCP sender waits while
//! the inbox is full (backpressure), a UDP datagram that finds it full is dropped
//! and counted.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use keibi_parse::Format;

use super::{Counters, Inbox, Item, ListenError, Offer};
use crate::settings::listen::SyslogListener;

/// How often blocked threads look at the stop flag.
const TICK: Duration = Duration::from_millis(100);

/// Longest program name kept in a stream name.
const MAX_PROGRAM: usize = 64;

/// The running receivers; stopped when dropped.
pub struct Syslog {
    addrs: Vec<(&'static str, SocketAddr)>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Syslog {
    pub fn start(
        s: &SyslogListener,
        inbox: Inbox,
        counters: Arc<Counters>,
    ) -> Result<Syslog, ListenError> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut out = Syslog {
            addrs: Vec::new(),
            stop: stop.clone(),
            threads: Vec::new(),
        };
        let max_line = s.max_line_bytes.max(1);
        if let Some(addr) = s.udp.addr() {
            let bind = |source| ListenError::Bind { addr, source };
            let sock = UdpSocket::bind(addr).map_err(bind)?;
            sock.set_read_timeout(Some(TICK)).map_err(bind)?;
            out.addrs.push(("udp", sock.local_addr().map_err(bind)?));
            let (stop, inbox) = (stop.clone(), inbox.clone());
            out.threads.push(spawn("keibi-syslog-udp", move || {
                udp(sock, max_line, &inbox, &stop, &counters.udp_dropped)
            })?);
        }
        if let Some(addr) = s.tcp.addr() {
            let bind = |source| ListenError::Bind { addr, source };
            let listener = TcpListener::bind(addr).map_err(bind)?;
            listener.set_nonblocking(true).map_err(bind)?;
            out.addrs
                .push(("tcp", listener.local_addr().map_err(bind)?));
            let max_conn = s.max_connections.max(1);
            out.threads.push(spawn("keibi-syslog-tcp", move || {
                accept(listener, max_conn, max_line, inbox, stop)
            })?);
        }
        Ok(out)
    }

    /// The addresses bound, by protocol.
    pub fn addrs(&self) -> Vec<(&'static str, SocketAddr)> {
        self.addrs.clone()
    }
}

impl Drop for Syslog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, ListenError> {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| ListenError::Http(crate::http::HttpError::Start(e)))
}

fn udp(sock: UdpSocket, max_line: usize, inbox: &Inbox, stop: &AtomicBool, dropped: &AtomicU64) {
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        match sock.recv_from(&mut buf) {
            Ok((n, _)) => {
                let msg = &buf[..n.min(max_line)];
                for line in msg.split(|b| *b == b'\n') {
                    if let Some(item) = item(line) {
                        if inbox.offer(vec![item]) != Offer::Queued {
                            dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => thread::sleep(TICK),
        }
    }
}

fn accept(
    listener: TcpListener,
    max_conn: usize,
    max_line: usize,
    inbox: Inbox,
    stop: Arc<AtomicBool>,
) {
    let active = Arc::new(AtomicUsize::new(0));
    let mut conns: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        conns.retain(|c| !c.is_finished());
        match listener.accept() {
            Ok((stream, _)) => {
                if active.load(Ordering::Relaxed) >= max_conn {
                    drop(stream);
                    continue;
                }
                active.fetch_add(1, Ordering::Relaxed);
                let (inbox, stop, held) = (inbox.clone(), stop.clone(), active.clone());
                let spawned = thread::Builder::new()
                    .name("keibi-syslog-conn".into())
                    .spawn(move || {
                        let _ = connection(stream, max_line, &inbox, &stop);
                        held.fetch_sub(1, Ordering::Relaxed);
                    });
                match spawned {
                    Ok(t) => conns.push(t),
                    Err(_) => {
                        active.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(TICK / 2),
            Err(_) => thread::sleep(TICK),
        }
    }
    for c in conns {
        let _ = c.join();
    }
}

/// Reads one TCP connection's frames until it closes or the receiver stops.
fn connection(
    mut stream: TcpStream,
    max_line: usize,
    inbox: &Inbox,
    stop: &AtomicBool,
) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(TICK))?;
    let mut framer = Framer::new(max_line);
    let mut buf = vec![0u8; 16 * 1024];
    while !stop.load(Ordering::Relaxed) {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut msgs = Vec::new();
        framer.push(&buf[..n], &mut |m| msgs.push(m.to_vec()));
        let items: Vec<Item> = msgs.iter().filter_map(|m| item(m)).collect();
        if items.is_empty() {
            continue;
        }
        // Backpressure: the sender waits while the inbox is full.
        let mut items = Some(items);
        while let Some(batch) = items.take() {
            match inbox.offer(batch.clone()) {
                Offer::Queued | Offer::TooBig => {}
                Offer::Full if stop.load(Ordering::Relaxed) => return Ok(()),
                Offer::Full => {
                    thread::sleep(TICK / 2);
                    items = Some(batch);
                }
            }
        }
    }
    let mut msgs = Vec::new();
    framer.finish(&mut |m| msgs.push(m.to_vec()));
    let items: Vec<Item> = msgs.iter().filter_map(|m| item(m)).collect();
    if !items.is_empty() {
        inbox.offer(items);
    }
    Ok(())
}

/// RFC 6587 framing: octet counting when a frame starts with a digit, else one
/// message a line; messages cut at `max` bytes.
pub(crate) struct Framer {
    max: usize,
    buf: Vec<u8>,
    /// Bytes of an over-long message still to pass over.
    skip: usize,
    /// Passing over the rest of an over-long line, to its newline.
    skip_line: bool,
}

impl Framer {
    pub(crate) fn new(max: usize) -> Framer {
        Framer {
            max,
            buf: Vec::new(),
            skip: 0,
            skip_line: false,
        }
    }

    pub(crate) fn push(&mut self, mut bytes: &[u8], emit: &mut dyn FnMut(&[u8])) {
        if self.skip > 0 {
            let n = self.skip.min(bytes.len());
            self.skip -= n;
            bytes = &bytes[n..];
        }
        if self.skip_line {
            match bytes.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    self.skip_line = false;
                    bytes = &bytes[i + 1..];
                }
                None => return,
            }
        }
        self.buf.extend_from_slice(bytes);
        loop {
            let b = &self.buf;
            let Some(&first) = b.first() else { return };
            if first.is_ascii_digit() {
                let Some(sp) = b.iter().take(11).position(|c| *c == b' ') else {
                    if b.len() > 10 || b.iter().any(|c| !c.is_ascii_digit()) {
                        // Not a length after all: a line.
                        if !self.line(emit) {
                            return;
                        }
                        continue;
                    }
                    return;
                };
                let len = std::str::from_utf8(&b[..sp])
                    .ok()
                    .and_then(|s| s.parse::<usize>().ok());
                let Some(len) = len else {
                    if !self.line(emit) {
                        return;
                    }
                    continue;
                };
                let start = sp + 1;
                if len > self.max {
                    // Keep its first `max` bytes, pass over the rest.
                    if b.len() < start + self.max {
                        return;
                    }
                    emit(&b[start..start + self.max]);
                    let have = b.len() - start;
                    if have >= len {
                        self.buf.drain(..start + len);
                    } else {
                        self.skip = len - have;
                        self.buf.clear();
                        return;
                    }
                    continue;
                }
                if b.len() < start + len {
                    return;
                }
                emit(&b[start..start + len]);
                self.buf.drain(..start + len);
            } else if !self.line(emit) {
                return;
            }
        }
    }

    /// One newline-ended message from the front; `false` when none is whole yet.
    fn line(&mut self, emit: &mut dyn FnMut(&[u8])) -> bool {
        match self.buf.iter().position(|c| *c == b'\n') {
            Some(nl) => {
                let end = nl.min(self.max);
                emit(&self.buf[..end]);
                self.buf.drain(..=nl);
                true
            }
            None if self.buf.len() > self.max => {
                emit(&self.buf[..self.max]);
                self.buf.clear();
                self.skip_line = true;
                false
            }
            None => false,
        }
    }

    /// The connection closed: a last message without its newline.
    pub(crate) fn finish(&mut self, emit: &mut dyn FnMut(&[u8])) {
        if !self.buf.is_empty() && self.skip == 0 {
            let end = self.buf.len().min(self.max);
            emit(&self.buf[..end]);
        }
        self.buf.clear();
    }
}

/// A message as an item of the stream its program names.
pub(crate) fn item(msg: &[u8]) -> Option<Item> {
    let msg = trim_end(msg);
    if msg.iter().all(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let program = keibi_parse::syslog::header(msg).map(|h| {
        String::from_utf8_lossy(h.program)
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_PROGRAM)
            .collect::<String>()
    });
    let format = match program.as_deref() {
        Some("postgres" | "postgresql" | "postmaster") => Some(Format::PostgresSyslog),
        _ => None,
    };
    let stream = match program {
        Some(p) if !p.is_empty() => Arc::from(format!("syslog:{p}")),
        _ => Arc::from("syslog"),
    };
    Some(Item::Line {
        stream,
        format,
        line: msg.to_vec(),
    })
}

fn trim_end(mut b: &[u8]) -> &[u8] {
    while let Some((&last, rest)) = b.split_last() {
        if matches!(last, b'\n' | b'\r' | 0) {
            b = rest;
        } else {
            break;
        }
    }
    b
}
