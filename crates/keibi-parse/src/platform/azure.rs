//! Azure Database for PostgreSQL logs as Azure Monitor's diagnostic settings export
//! them: to a storage account (`PT1H.json` blobs, one record per line) or an event hub
//! (`{"records":[...]}`). A record of category `PostgreSQLLogs` carries one report:
//!
//! - Flexible Server: `properties.message` is the whole stderr line, prefix included
//!   (the server's `log_line_prefix`, `%t-%c-` unless changed); it is read as a stderr
//!   line with the prefix detected (or `--pg-prefix`). A prefix no known one reads is
//!   inferred from the server's first records (at least [`INFER_RECORDS`], held back
//!   until the inference is settled or a bound on held records is reached), as for a
//!   stderr file; a server whose first record a known prefix
//!   reads is read at once. `properties.detail` is put back as a `DETAIL:`
//!   line after the message's own prefix (it ends where `errorLevel` and `:  ` start).
//! - Single Server: `properties.prefix` (`%t-%c-`), `errorLevel` and `message` apart;
//!   they are put back together (`prefix` `LEVEL:  message`, and a `DETAIL:` line when
//!   `detail` is set) and read with the prefix `%t-%c-`.
//!
//! So the stderr reader's defences against names that hold a forged prefix apply
//! unchanged. The instance is `LogicalServerName`, else the last part of `resourceId`
//! (lower-cased: Azure writes it in capitals, server names are lower case).

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use keibi_model::{Action, CompactString, Event};

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::streams::{Streams, MAX_STREAMS};
use crate::cloudtrail::keys::{first_object_keys, has};
use crate::format::Sample;
use crate::jsonsplit::{JsonSplitter, Piece};
use crate::{Format, Output, ParseConfig, Parser, Problem};

/// Largest record read; Azure Monitor caps a record far below this.
const MAX_RECORD: usize = 8 << 20;

/// The prefix of Single Server (fixed) and Flexible Server (by default).
const AZURE_PREFIX: &str = "%t-%c-";

/// Flexible Server records held per server to infer a prefix no known one reads.
pub const INFER_RECORDS: usize = 32;
/// Flexible Server records held at most per server while the inference is not
/// settled (inference samples no more lines).
const MAX_HELD_RECORDS: usize = 200;
/// Held records between tries of an unsettled inference.
const RETRY_EVERY: usize = 8;

/// Why a server's prefix is decided.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Why {
    /// Enough records held: decided only if the inference is settled.
    Enough,
    /// A bound on held records: decided, said when unsettled.
    Bound,
    /// The end of the input: decided from all there is.
    End,
}

/// Servers whose records are held at once for inference; past it the oldest decides.
const MAX_PENDING: usize = 64;
/// Bytes of records held at once for inference; past it the server holding the most
/// decides.
const MAX_HELD_BYTES: usize = 4 << 20;
/// The inference sample: the held records' first lines up to this many bytes, as
/// `keibi-ingest` reads a file's head.
const SAMPLE_BYTES: usize = 64 * 1024;

/// How sure (0-100) this format is that the sample is written in it: the first record
/// (or the first of `records`) has `category` and `resourceId`, and the head names
/// the PostgreSQL log category.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let Some(keys) = first_object_keys(sample.head, 64) else {
        return 0;
    };
    let record = has(&keys, "category") && has(&keys, "resourceId");
    if !(record || has(&keys, "records")) {
        return 0;
    }
    if memchr::memmem::find(sample.head, b"\"PostgreSQLLogs\"").is_some() {
        100
    } else {
        0
    }
}

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    category: Option<Cow<'a, str>>,
    #[serde(rename = "resourceId", borrow)]
    resource_id: Option<Cow<'a, str>>,
    #[serde(rename = "LogicalServerName", borrow)]
    logical_server_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    properties: Option<Properties<'a>>,
    records: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Properties<'a> {
    #[serde(borrow)]
    prefix: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow)]
    detail: Option<Cow<'a, str>>,
    #[serde(rename = "errorLevel", borrow)]
    error_level: Option<Cow<'a, str>>,
}

pub struct AzureParser {
    splitter: JsonSplitter,
    streams: Streams,
    /// Records of other categories (MySQL, Query Store, sessions ...).
    skipped: u64,
    first_skipped: u64,
    /// The client of each session's `connection received` line, by session id: the
    /// default prefix `%t-%c-` has no process id, by which the stderr reader carries a
    /// client to the session's later lines.
    clients: HashMap<CompactString, Client>,
    /// Flexible Server's prefix per server, once decided (`None`: a known one reads
    /// it, or none could be inferred), for at most [`MAX_STREAMS`] servers, as their
    /// readers: past it the oldest is forgotten (decided again if it writes again).
    prefixes: HashMap<String, Option<String>>,
    /// `prefixes`' keys, oldest first.
    prefix_order: VecDeque<String>,
    /// Flexible Server records held until their server's prefix is decided.
    pending: Vec<(String, Vec<Held>)>,
    /// Bytes of the held records' texts, in all ([`MAX_HELD_BYTES`] at most).
    held_bytes: usize,
    /// `--pg-prefix` was given: nothing to infer.
    configured: bool,
}

/// A Flexible Server record held for inference.
struct Held {
    server: Option<String>,
    level: Option<String>,
    message: String,
    detail: Option<String>,
    line: u64,
}

/// Sessions whose client is remembered; past this the table starts again.
const MAX_SESSIONS: usize = 100_000;

type Client = (Option<IpAddr>, Option<CompactString>, Option<u16>);

impl AzureParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        AzureParser {
            splitter: JsonSplitter::with_array_keys(MAX_RECORD, &["records"]),
            streams: Streams::new(cfg),
            skipped: 0,
            first_skipped: 0,
            clients: HashMap::new(),
            prefixes: HashMap::new(),
            prefix_order: VecDeque::new(),
            pending: Vec::new(),
            held_bytes: 0,
            configured: cfg.pg_prefix.is_some(),
        }
    }

    /// Decides the prefix of the server held at `i` from its held records, and reads
    /// them; with [`Why::Enough`], only once the inference is settled (else they stay
    /// held).
    fn decide(&mut self, i: usize, why: Why, out: &mut Output) {
        let (head, complete) = sample(&self.pending[i].1);
        let known =
            crate::detect_with_prefix(&head, complete, None) == Some(Format::PostgresStderr);
        let inference = (!known)
            .then(|| crate::postgres::infer::infer(&head))
            .flatten()
            .filter(|i| i.accepted());
        let settled = known || inference.as_ref().is_some_and(|i| i.settled());
        if !settled && why == Why::Enough {
            return;
        }
        let (key, held) = self.pending.remove(i);
        self.held_bytes -= held.iter().map(Held::size).sum::<usize>();
        if let (Some(inf), Why::Bound) = (&inference, why) {
            if !settled {
                out.warning(
                    held.first().map_or(0, |h| h.line),
                    format!(
                        "PostgreSQLLogs: the log_line_prefix of server '{}' is inferred as \
                         '{}' from its first {} records before any named a user or database \
                         (records held for inference are bounded)",
                        key.split('\n').next().unwrap_or_default().escape_debug(),
                        inf.prefix.escape_debug(),
                        held.len()
                    ),
                );
            }
        }
        let inferred = inference.map(|i| i.prefix);
        self.set_prefix(&key, inferred);
        for h in held {
            let parts = Parts {
                single: None,
                level: h.level.as_deref(),
                message: &h.message,
                detail: h.detail.as_deref(),
            };
            self.read(&key, &parts, h.server.as_deref(), h.line, out);
        }
    }

    /// Remembers the prefix of server `key`, forgetting the oldest past [`MAX_STREAMS`].
    fn set_prefix(&mut self, key: &str, prefix: Option<String>) {
        if !self.prefixes.contains_key(key) {
            if self.prefixes.len() >= MAX_STREAMS {
                if let Some(old) = self.prefix_order.pop_front() {
                    self.prefixes.remove(&old);
                }
            }
            self.prefix_order.push_back(key.to_string());
        }
        self.prefixes.insert(key.to_string(), prefix);
    }

    fn read(
        &mut self,
        key: &str,
        parts: &Parts<'_>,
        server: Option<&str>,
        line: u64,
        out: &mut Output,
    ) {
        let single = parts.single.is_some();
        // Single Server's parts apart, or Flexible Server's whole line.
        let (prefix, label) = if single {
            (Some(AZURE_PREFIX), "PostgreSQLLogs (Single Server)")
        } else {
            let inferred = self.prefixes.get(key).and_then(|p| p.as_deref());
            (inferred, "PostgreSQLLogs")
        };
        let prefix = prefix.map(str::to_string);
        let before = out.events.len();
        self.streams.message(
            key,
            label,
            Format::PostgresStderr,
            prefix.as_deref(),
            server,
            line,
            out,
            |parser, scratch| parts.feed(parser, line, scratch),
        );
        self.carry_clients(&mut out.events[before..]);
    }

    /// Gives events without a client their session's, from its connection line.
    fn carry_clients(&mut self, events: &mut [Event]) {
        for e in events {
            let Some(sid) = e.session_id.clone() else {
                continue;
            };
            if e.action == Action::ConnectionReceived {
                if self.clients.len() >= MAX_SESSIONS {
                    self.clients.clear();
                }
                self.clients
                    .insert(sid, (e.client_ip, e.client_host.clone(), e.client_port));
            } else if e.client_ip.is_none() && e.client_host.is_none() {
                if let Some((ip, host, port)) = self.clients.get(&sid) {
                    e.client_ip = *ip;
                    e.client_host.clone_from(host);
                    e.client_port = e.client_port.or(*port);
                }
            }
        }
    }

    fn piece(&mut self, p: Piece<'_>, out: &mut Output) {
        match p {
            Piece::Value { bytes, line } => self.record(bytes, line, out),
            // An event hub message's envelope, its records given before.
            Piece::Outer { selected: true, .. } => {}
            Piece::Outer { bytes, line, .. } => self.record(bytes, line, out),
            Piece::Skipped { line, lines, why } => out.problems.push(Problem {
                line,
                reason: why.to_string(),
                lines,
            }),
        }
    }

    fn record(&mut self, bytes: &[u8], line: u64, out: &mut Output) {
        let r = match serde_json::from_slice::<Record<'_>>(bytes) {
            Ok(r) => r,
            Err(e) => return out.unrecognized(line, format!("invalid Azure Monitor record: {e}")),
        };
        if r.records.is_some() {
            // `{"records": ...}` that is not an array of records.
            return out.unrecognized(line, "Azure Monitor records is not an array of records");
        }
        match r.category.as_deref() {
            Some("PostgreSQLLogs") => {}
            Some(_) => {
                if self.skipped == 0 {
                    self.first_skipped = line;
                }
                self.skipped += 1;
                return;
            }
            None => return out.unrecognized(line, "Azure Monitor record has no category"),
        }
        let Some(p) = r.properties else {
            return out.unrecognized(line, "Azure PostgreSQLLogs record has no properties");
        };
        let Some(message) = p.message.as_deref() else {
            return out.unrecognized(line, "Azure PostgreSQLLogs record has no message");
        };
        let server = r
            .logical_server_name
            .as_deref()
            .map(str::to_string)
            .or_else(|| {
                let id = r.resource_id.as_deref()?;
                let name = id.trim_end_matches('/').rsplit('/').next()?;
                Some(name.to_ascii_lowercase())
            })
            .filter(|s| !s.is_empty());
        let single = p.prefix.is_some();
        let key = format!("{}\n{single}", server.as_deref().unwrap_or_default());
        let parts = Parts {
            single: p.prefix.as_deref(),
            level: p.error_level.as_deref(),
            message,
            detail: p.detail.as_deref().filter(|d| !d.is_empty()),
        };
        if single || self.configured || self.prefixes.contains_key(&key) {
            return self.read(&key, &parts, server.as_deref(), line, out);
        }
        // Held until the server's prefix is decided.
        let i = match self.pending.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                // A known prefix reads the server's first record: nothing to infer,
                // nothing held (a live server's last records would wait forever).
                let first = message.split('\n').next().unwrap_or("");
                let head = [first.as_bytes(), b"\n"].concat();
                if crate::detect_with_prefix(&head, true, None) == Some(Format::PostgresStderr) {
                    self.set_prefix(&key, None);
                    return self.read(&key, &parts, server.as_deref(), line, out);
                }
                if self.pending.len() >= MAX_PENDING {
                    self.decide(0, Why::Bound, out);
                }
                self.pending.push((key.clone(), Vec::new()));
                self.pending.len() - 1
            }
        };
        let held = Held {
            server: server.clone(),
            level: parts.level.map(str::to_string),
            message: message.to_string(),
            detail: parts.detail.map(str::to_string),
            line,
        };
        self.held_bytes += held.size();
        self.pending[i].1.push(held);
        // Decided once enough records are held to infer from and the inference is
        // settled (tried again every few records), or at the most held.
        let n = self.pending[i].1.len();
        if n >= MAX_HELD_RECORDS {
            self.decide(i, Why::Bound, out);
        } else if n >= INFER_RECORDS && (n - INFER_RECORDS).is_multiple_of(RETRY_EVERY) {
            self.decide(i, Why::Enough, out);
        }
        // Past the byte bound, the servers holding the most decide.
        while self.held_bytes > MAX_HELD_BYTES {
            let Some(biggest) = (0..self.pending.len())
                .max_by_key(|&j| self.pending[j].1.iter().map(Held::size).sum::<usize>())
            else {
                break;
            };
            self.decide(biggest, Why::Bound, out);
        }
    }
}

impl Held {
    /// Bytes of its texts.
    fn size(&self) -> usize {
        self.server.as_ref().map_or(0, String::len)
            + self.level.as_ref().map_or(0, String::len)
            + self.message.len()
            + self.detail.as_ref().map_or(0, String::len)
    }
}

/// The held records' first lines, one a line, cut at [`SAMPLE_BYTES`]; whether none
/// was cut.
fn sample(held: &[Held]) -> (Vec<u8>, bool) {
    let mut head = Vec::new();
    for h in held {
        let first = h.message.split('\n').next().unwrap_or("");
        let room = SAMPLE_BYTES - head.len();
        if first.len() + 1 > room {
            head.extend_from_slice(&first.as_bytes()[..first.len().min(room)]);
            return (head, false);
        }
        head.extend_from_slice(first.as_bytes());
        head.push(b'\n');
    }
    (head, true)
}

/// One record's text.
struct Parts<'a> {
    /// Single Server's `prefix`.
    single: Option<&'a str>,
    level: Option<&'a str>,
    message: &'a str,
    detail: Option<&'a str>,
}

impl Parts<'_> {
    fn feed(&self, p: &mut dyn crate::LineParser, line: u64, out: &mut Output) {
        // One record is one report: a line break in it (in a quoted name, a statement)
        // never starts another, so the lines after it are read as continuation lines,
        // after a tab as PostgreSQL writes them to stderr.
        let Some(prefix) = self.single else {
            // Flexible Server's `message` is the server's whole line; its prefix ends
            // where the record's level and `:  ` start, and `detail` follows it.
            feed_lines(p, self.message, line, out);
            let first = self.message.split('\n').next().unwrap_or_default();
            if let (Some(d), Some(level)) = (self.detail, self.level) {
                if let Some(end) = first.find(&format!("{level}:  ")) {
                    feed_lines(p, &format!("{}DETAIL:  {d}", &first[..end]), line, out);
                }
            }
            return;
        };
        let level = self.level.unwrap_or("LOG");
        feed_lines(p, &format!("{prefix}{level}:  {}", self.message), line, out);
        if let Some(d) = self.detail {
            feed_lines(p, &format!("{prefix}DETAIL:  {d}"), line, out);
        }
    }
}

/// Feeds one report's text: its first line, then the others as continuation lines.
fn feed_lines(p: &mut dyn crate::LineParser, text: &str, line: u64, out: &mut Output) {
    for (i, l) in text.split('\n').enumerate() {
        let l = l.strip_suffix('\r').unwrap_or(l);
        if i == 0 || l.starts_with('\t') {
            p.line(l.as_bytes(), line, out);
        } else {
            p.line(format!("\t{l}").as_bytes(), line, out);
        }
    }
}

impl Parser for AzureParser {
    fn push(&mut self, chunk: &[u8], out: &mut Output) {
        let mut splitter = std::mem::replace(&mut self.splitter, JsonSplitter::new(0));
        splitter.push(chunk, &mut |p| self.piece(p, out));
        self.splitter = splitter;
    }

    fn finish(&mut self, out: &mut Output) {
        let mut splitter = std::mem::replace(&mut self.splitter, JsonSplitter::new(0));
        splitter.finish(&mut |p| self.piece(p, out));
        self.splitter = splitter;
        while !self.pending.is_empty() {
            self.decide(0, Why::End, out);
        }
        let before = out.events.len();
        self.streams.finish(out);
        self.carry_clients(&mut out.events[before..]);
        if self.skipped > 0 {
            out.warning(
                self.first_skipped,
                format!(
                    "{} Azure Monitor records of other categories than PostgreSQLLogs skipped",
                    self.skipped
                ),
            );
            self.skipped = 0;
        }
    }
}

#[cfg(test)]
mod tests;
