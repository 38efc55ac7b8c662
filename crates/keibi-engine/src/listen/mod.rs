//! Push listeners of `keibi run`: the Amazon Data Firehose HTTP endpoint
//! ([`firehose`]), NDJSON and raw lines by HTTP POST ([`post`]), and syslog over
//! UDP and TCP ([`syslog`]). They put what they receive in one bounded [`Inbox`];
//! [`ListenSource`], a [`LiveSource`] like the followed files, reads it on the
//! daemon's loop and hands out events.
//!
//! **What a crash loses.** A pushed record cannot be read again, and the daemon
//! commits after the orderer releases events (later than a request's answer), so a
//! request is acknowledged once its records are in the inbox, not once they are
//! committed: records acknowledged but not yet committed when the process is
//! killed (at most `listen.queue_bytes`, usually one round's worth) are lost; a
//! stop (SIGTERM) stops the listeners, then reads and commits all they queued
//! (`daemon::Live::finish`). A
//! request that is refused (401/403/400/413, 503 when the inbox is full) queued
//! nothing, so the sender's retry is the whole request again; Firehose's retry of a
//! request already queued is answered 200 without feeding it twice.
//!
//! Bounds: request bodies (and what they decompress to) at `listen.max_body_bytes`,
//! the inbox at `listen.queue_bytes`, syslog messages at `max_line_bytes` and TCP
//! connections at `max_connections`, HTTP connections at [`HTTP_CONNECTIONS`] (each
//! closed after a minute without a byte); line streams (one per syslog program and host,
//! or POSTed source) at [`MAX_STREAMS`]; request ids remembered at
//! [`firehose::REMEMBERED_IDS`].

pub mod firehose;
pub mod post;
pub mod syslog;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use keibi_ingest::{IngestOptions, LiveSource, Notice, Poll, SourceState};
pub(crate) use keibi_parse::cloudtrail::cloudwatch::gunzip;
use keibi_parse::cloudtrail::cloudwatch::CloudwatchParser;
use keibi_parse::{Format, Output, ParseConfig, Parser};

use crate::settings::ListenSettings;

/// Line streams whose parsers are kept at once; one more finishes the oldest.
pub const MAX_STREAMS: usize = 256;

/// Bytes read from the inbox in one poll, so one round's batch stays small.
const POLL_BYTES: usize = 1 << 20;

/// What a listener received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A CloudWatch Logs subscription payload (JSON, decompressed): its log group
    /// names the parser and the instance.
    Cloudwatch(Vec<u8>),
    /// One log line of the named stream (a syslog program, a POSTed source);
    /// `format` when the sender says what it is, else the stream's first line is
    /// detected.
    Line {
        stream: Arc<str>,
        format: Option<Format>,
        line: Vec<u8>,
    },
}

impl Item {
    /// What it holds in memory, roughly.
    fn size(&self) -> usize {
        64 + match self {
            Item::Cloudwatch(b) => b.len(),
            Item::Line { stream, line, .. } => stream.len() + line.len(),
        }
    }
}

/// What became of items offered to the [`Inbox`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Queued,
    /// Not now: too much is waiting (try again later).
    Full,
    /// Never: more than the whole inbox holds.
    TooBig,
}

/// Received items waiting for the loop, bounded in bytes.
#[derive(Clone)]
pub struct Inbox(Arc<Mutex<Queue>>);

struct Queue {
    items: VecDeque<Item>,
    bytes: usize,
    max: usize,
}

impl Inbox {
    pub fn new(max_bytes: usize) -> Inbox {
        Inbox(Arc::new(Mutex::new(Queue {
            items: VecDeque::new(),
            bytes: 0,
            max: max_bytes,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues all of `items`, or none when they do not fit.
    pub fn offer(&self, items: Vec<Item>) -> Offer {
        let size: usize = items.iter().map(Item::size).sum();
        let mut q = self.lock();
        if size > q.max {
            return Offer::TooBig;
        }
        if q.bytes.saturating_add(size) > q.max {
            return Offer::Full;
        }
        q.bytes += size;
        q.items.extend(items);
        Offer::Queued
    }

    /// Takes items of about `budget` bytes (at least one when any).
    fn take(&self, budget: usize) -> (Vec<Item>, bool) {
        let mut q = self.lock();
        let mut out = Vec::new();
        let mut got = 0;
        while got < budget {
            let Some(i) = q.items.pop_front() else { break };
            let s = i.size();
            got += s;
            q.bytes = q.bytes.saturating_sub(s);
            out.push(i);
        }
        let more = !q.items.is_empty();
        (out, more)
    }
}

/// Compares secrets in time independent of where they differ.
pub(crate) fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = given.len() ^ expected.len();
    for (i, e) in expected.iter().enumerate() {
        diff |= usize::from(given.get(i).copied().unwrap_or(0) ^ e);
    }
    diff == 0
}

/// One line stream's parser.
struct LineStream {
    name: Arc<str>,
    /// `None` while no line was recognised yet.
    parser: Option<Box<dyn Parser>>,
    held: bool,
    line: u64,
}

/// The listeners' events, read from the [`Inbox`] on the daemon's loop. No
/// checkpoints: what was pushed cannot be read again (see the module's note on
/// what a crash loses).
pub struct ListenSource {
    name: Arc<str>,
    inbox: Inbox,
    opts: IngestOptions,
    cw: CloudwatchParser,
    cw_held: bool,
    streams: HashMap<Arc<str>, LineStream>,
    order: VecDeque<Arc<str>>,
    last_data: Option<Instant>,
    flush_after: Duration,
    /// The listeners; stopped with the source, or by [`Stopper::stop`].
    servers: Stopper,
}

/// What the listeners count, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests refused (nothing of them queued).
    pub refused: std::sync::atomic::AtomicU64,
    /// Firehose retries of a request already queued.
    pub retries: std::sync::atomic::AtomicU64,
    /// Syslog datagrams dropped while the inbox was full.
    pub udp_dropped: std::sync::atomic::AtomicU64,
}

impl Counters {
    pub(crate) fn add(c: &std::sync::atomic::AtomicU64) {
        c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Stops a [`ListenSource`]'s listeners from outside it (the daemon, before its
/// last read of the inbox at a stop: nothing is answered 200 after it).
#[derive(Clone, Default)]
pub struct Stopper(Arc<Mutex<Vec<Listener>>>, Arc<Counters>);

impl Stopper {
    /// The listeners' counters.
    pub fn counters(&self) -> Arc<Counters> {
        self.1.clone()
    }

    /// Stops every listener: open HTTP requests get their grace, syslog
    /// connections queue what they have read.
    pub fn stop(&self) {
        let all = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        drop(all);
    }

    fn push(&self, l: Listener) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(l);
    }
}

/// A running listener, stopped when dropped.
pub enum Listener {
    Http(crate::http::Server),
    Syslog(syslog::Syslog),
}

impl ListenSource {
    /// A source reading `inbox` (tests feed it directly).
    pub fn new(name: &str, inbox: Inbox, opts: IngestOptions) -> ListenSource {
        ListenSource {
            name: Arc::from(name),
            cw: CloudwatchParser::new(&config(name, &opts)),
            inbox,
            opts,
            cw_held: false,
            streams: HashMap::new(),
            order: VecDeque::new(),
            last_data: None,
            flush_after: keibi_ingest::FollowOptions::default().flush_after,
            servers: Stopper::default(),
        }
    }

    /// Starts the listeners `settings` turn on; `None` when none is. `on` is told
    /// each address bound (`firehose http://127.0.0.1:9717/`).
    pub fn start(
        settings: &ListenSettings,
        opts: IngestOptions,
        on: &mut dyn FnMut(String),
    ) -> Result<Option<ListenSource>, ListenError> {
        if !settings.any() {
            return Ok(None);
        }
        let inbox = Inbox::new(usize::try_from(settings.queue_bytes).unwrap_or(usize::MAX));
        let src = ListenSource::new("listen", inbox.clone(), opts);
        let max_body = usize::try_from(settings.max_body_bytes).unwrap_or(usize::MAX);
        if let Some(addr) = settings.firehose.listen.addr() {
            let key = reveal("listen.firehose.access_key", &settings.firehose.access_key)?;
            let app = firehose::router(firehose::Firehose::new(
                key,
                max_body,
                inbox.clone(),
                src.servers.counters(),
            ));
            let served = serve(addr, app)?;
            on(format!("firehose http://{}/", served.addr()));
            src.servers.push(Listener::Http(served));
        }
        if let Some(addr) = settings.http.listen.addr() {
            let token = reveal("listen.http.token", &settings.http.token)?;
            let app = post::router(post::Post::new(
                token,
                max_body,
                inbox.clone(),
                src.servers.counters(),
            ));
            let served = serve(addr, app)?;
            on(format!("http http://{}/", served.addr()));
            src.servers.push(Listener::Http(served));
        }
        let s = &settings.syslog;
        if s.udp.addr().is_some() || s.tcp.addr().is_some() {
            let sys = syslog::Syslog::start(s, inbox.clone(), src.servers.counters())?;
            for (proto, a) in sys.addrs() {
                on(format!("syslog {proto} {a}"));
            }
            src.servers.push(Listener::Syslog(sys));
        }
        Ok(Some(src))
    }

    /// What stops its listeners.
    pub fn stopper(&self) -> Stopper {
        self.servers.clone()
    }

    /// Sets the idle time after which a held entry is flushed.
    pub fn flush_after(mut self, d: Duration) -> Self {
        self.flush_after = d;
        self
    }

    fn line(
        &mut self,
        stream: Arc<str>,
        format: Option<Format>,
        line: &[u8],
        poll: &mut Poll,
        out: &mut Output,
    ) {
        if !self.streams.contains_key(&stream) {
            if self.streams.len() >= MAX_STREAMS {
                if let Some(old) = self.order.pop_front() {
                    if let Some(mut s) = self.streams.remove(&old) {
                        if let Some(p) = &mut s.parser {
                            let mut o = Output::new();
                            p.finish(&mut o);
                            drain(&s.name, o, poll, out);
                        }
                    }
                }
            }
            self.order.push_back(stream.clone());
            self.streams.insert(
                stream.clone(),
                LineStream {
                    name: Arc::from(format!("{}:{stream}", self.name)),
                    parser: None,
                    held: false,
                    line: 0,
                },
            );
        }
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        s.line += 1;
        if s.parser.is_none() {
            let chosen = format.or_else(|| {
                keibi_parse::detect_with_prefix(line, true, self.opts.pg_prefix.as_deref())
                    .or(self.opts.format)
            });
            match chosen {
                Some(f) => {
                    let cfg = config(&s.name, &self.opts);
                    s.parser = Some(f.parser(&cfg));
                    poll.notices.push(Notice::Opened {
                        file: s.name.clone(),
                        format: f,
                    });
                }
                None => {
                    poll.notices.push(Notice::Line {
                        file: s.name.clone(),
                        line: s.line,
                        reason: "no known log format in this line".into(),
                        unrecognized: true,
                    });
                    return;
                }
            }
        }
        if let Some(p) = &mut s.parser {
            let mut o = Output::new();
            p.push(line, &mut o);
            if line.last() != Some(&b'\n') {
                p.push(b"\n", &mut o);
            }
            s.held = true;
            drain(&s.name, o, poll, out);
        }
    }
}

/// Moves a parser's output: events to `out`, problems to notices.
fn drain(name: &Arc<str>, o: Output, poll: &mut Poll, out: &mut Output) {
    out.events.extend(o.events);
    for p in o.problems {
        poll.notices.push(Notice::Line {
            file: name.clone(),
            line: p.line,
            reason: p.reason,
            unrecognized: p.lines > 0,
        });
    }
}

fn config(name: &str, opts: &IngestOptions) -> ParseConfig {
    let mut cfg = ParseConfig::new(Arc::from(name));
    cfg.pg_prefix = opts.pg_prefix.clone();
    cfg.local_offset = opts.local_offset;
    cfg.instance = opts.instance.clone();
    cfg
}

impl LiveSource for ListenSource {
    fn poll(&mut self, now: Instant) -> Poll {
        let mut poll = Poll {
            events: Vec::new(),
            notices: Vec::new(),
            checkpoints: Vec::new(),
            marks: Vec::new(),
            state: SourceState::CaughtUp,
            replay: Vec::new(),
            pending: false,
        };
        let mut out = Output::new();
        let (items, more) = self.inbox.take(POLL_BYTES);
        if !items.is_empty() {
            self.last_data = Some(now);
        }
        for item in items {
            match item {
                Item::Cloudwatch(doc) => {
                    let mut o = Output::new();
                    self.cw.push(&doc, &mut o);
                    self.cw.push(b"\n", &mut o);
                    self.cw_held = true;
                    drain(&self.name, o, &mut poll, &mut out);
                }
                Item::Line {
                    stream,
                    format,
                    line,
                } => self.line(stream, format, &line, &mut poll, &mut out),
            }
        }
        let idle = self
            .last_data
            .is_none_or(|t| now.duration_since(t) >= self.flush_after);
        if idle && !more {
            // Quiet: the entries the parsers hold (a PostgreSQL message waiting for
            // its DETAIL) are complete.
            if self.cw_held {
                let mut o = Output::new();
                self.cw.finish(&mut o);
                self.cw = CloudwatchParser::new(&config(&self.name, &self.opts));
                self.cw_held = false;
                drain(&self.name, o, &mut poll, &mut out);
            }
            for s in self.streams.values_mut().filter(|s| s.held) {
                if let Some(p) = &mut s.parser {
                    let mut o = Output::new();
                    p.finish(&mut o);
                    drain(&s.name, o, &mut poll, &mut out);
                }
                s.held = false;
            }
        }
        poll.pending = more || self.cw_held || self.streams.values().any(|s| s.held);
        poll.events = out.events;
        poll.state = if more {
            SourceState::Reading
        } else {
            SourceState::CaughtUp
        };
        poll
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("{key}: {reason}")]
    Secret { key: &'static str, reason: String },
    #[error("{0}")]
    Http(#[from] crate::http::HttpError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

fn reveal(
    key: &'static str,
    secret: &Option<keibi_notify::Secret>,
) -> Result<Vec<u8>, ListenError> {
    let Some(s) = secret else {
        return Err(ListenError::Secret {
            key,
            reason: "required when the listener is on (requests without it are refused)".into(),
        });
    };
    s.reveal()
        .map(String::into_bytes)
        .map_err(|e| ListenError::Secret {
            key,
            reason: e.to_string(),
        })
}

/// Connections an HTTP listener keeps open at once (more wait in the kernel's
/// backlog); each is closed after [`crate::http::IDLE`] without a byte.
pub const HTTP_CONNECTIONS: usize = 64;

fn serve(addr: SocketAddr, app: axum::Router) -> Result<crate::http::Server, ListenError> {
    Ok(crate::http::Server::serve_bounded(
        addr,
        app,
        Some(HTTP_CONNECTIONS),
    )?)
}

#[cfg(test)]
mod tests;
