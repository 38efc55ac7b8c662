//! The host executor of `block_address`: an element with a timeout in a set of
//! keibi's own nftables table, so the kernel drops the address's packets, and lifts
//! the block by itself at its expiry even if keibi is gone.
//!
//! keibi owns one table, `inet <table>` (`respond.nftables.table`, `keibi` unless
//! set), and touches no other:
//!
//! ```text
//! table inet keibi {
//!   set blocked4 { type ipv4_addr; flags interval, timeout; }
//!   set blocked6 { type ipv6_addr; flags interval, timeout; }
//!   chain input {
//!     type filter hook input priority -10; policy accept;
//!     ip saddr @blocked4 drop
//!     ip6 saddr @blocked6 drop
//!   }
//! }
//! ```
//!
//! Every apply declares the table, its sets and its chain (declarations of what
//! exists are no-ops), flushes the chain and adds its two rules, and adds the
//! element, as one `nft -f -` transaction: the table is back whole if someone
//! flushed the ruleset, and the chain never holds a rule twice. The address reaches
//! nft only as `IpNet`'s own formatting (digits, dots, colons, a slash) in argv or
//! that ruleset; no shell is involved.
//!
//! `prepare` reads the set: an element already there (or a wider one covering the
//! address) was not keibi's, so apply adds nothing and undo deletes nothing.

use std::io::{Read, Write};
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use keibi_notify::text::{clip, one_line};
use keibi_respond::{Action, ExecError, Executor, Request, Target};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::settings::respond::RespondNftables;

/// The executor's name in the journal.
pub const NAME: &str = "nftables";
/// One nft call may take this long before it is killed (a transient failure).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// A set listing is read up to this size (a set of a few hundred thousand
/// elements); a larger one is an error rather than unbounded memory.
const MAX_STDOUT: usize = 32 << 20;
const MAX_STDERR: usize = 16 << 10;
/// The longest error text kept from nft.
const MAX_ERROR: usize = 400;
/// A block never asks the kernel for more than ten years.
const MAX_TIMEOUT_SECS: u64 = 10 * 365 * 24 * 3600;

/// The executor, built from `respond.nftables`.
#[derive(Debug, Clone)]
pub struct Nftables {
    command: Vec<String>,
    table: String,
    timeout: Duration,
    /// The clock the remaining time to an action's expiry is read with (tests give
    /// their own).
    clock: fn() -> DateTime<Utc>,
}

/// Why the settings make no executor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("respond.nftables.command is empty")]
    NoCommand,
    #[error("respond.nftables.table {0:?}: a table name starts with a letter and holds letters, digits, `_` and `-` (at most 64)")]
    BadTable(String),
}

/// What `prepare` found, kept in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prior {
    pub table: String,
    pub set: String,
    /// The element keibi blocks: an address (`203.0.113.9`) or a network
    /// (`2001:db8::/64`).
    pub element: String,
    /// The element, or a wider one covering it, was in the set before keibi acted:
    /// keibi neither adds nor deletes it.
    pub present: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covered_by: Option<String>,
}

/// What `apply` did, kept in the journal and handed to `undo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub table: String,
    pub set: String,
    pub element: String,
    /// keibi added the element (and so undo deletes it).
    pub added: bool,
    /// The kernel's timeout on the element, in seconds (`None`: until deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

/// Whether `s` is a table name keibi writes into a ruleset unquoted.
pub fn valid_table(s: &str) -> bool {
    s.len() <= 64
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Nftables {
    /// The executor of the settings, or `None` when `respond.nftables` is off.
    pub fn from_settings(s: &RespondNftables) -> Result<Option<Nftables>, BuildError> {
        if !s.enabled {
            return Ok(None);
        }
        Nftables::new(s.command.clone(), &s.table).map(Some)
    }

    pub fn new(command: Vec<String>, table: &str) -> Result<Nftables, BuildError> {
        if command.first().is_none_or(|p| p.is_empty()) {
            return Err(BuildError::NoCommand);
        }
        if !valid_table(table) {
            return Err(BuildError::BadTable(table.to_string()));
        }
        Ok(Nftables {
            command,
            table: table.to_string(),
            timeout: CALL_TIMEOUT,
            clock: Utc::now,
        })
    }

    /// The same executor reading time from `clock`.
    pub fn with_clock(mut self, clock: fn() -> DateTime<Utc>) -> Nftables {
        self.clock = clock;
        self
    }

    /// The table keibi owns.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The ruleset that creates keibi's table whole (idempotent), with the chain's
    /// two rules exactly once.
    pub fn ruleset(&self) -> String {
        let t = &self.table;
        format!(
            "table inet {t} {{\n\
             \tset blocked4 {{ type ipv4_addr; flags interval, timeout; }}\n\
             \tset blocked6 {{ type ipv6_addr; flags interval, timeout; }}\n\
             \tchain input {{ type filter hook input priority -10; policy accept; }}\n\
             }}\n\
             flush chain inet {t} input\n\
             add rule inet {t} input ip saddr @blocked4 drop\n\
             add rule inet {t} input ip6 saddr @blocked6 drop\n"
        )
    }

    /// Runs the command with `args` (and `stdin`); its standard output.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Result<String, ExecError> {
        let (program, first) = self
            .command
            .split_first()
            .ok_or_else(|| ExecError::Permanent("respond.nftables.command is empty".into()))?;
        let mut cmd = Command::new(program);
        cmd.args(first)
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Messages parsed below are nft's English ones.
            .env("LC_ALL", "C");
        let mut child = cmd.spawn().map_err(|e| spawn_error(program, &e))?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A few hundred bytes: far below a pipe's buffer.
            let _ = pipe.write_all(input.as_bytes());
        }
        let out = child.stdout.take().map(|p| reader(p, MAX_STDOUT));
        let err = child.stderr.take().map(|p| reader(p, MAX_STDERR));
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    // The readers are left: a grandchild (sudo's nft) may hold the
                    // pipes a little longer.
                    return Err(ExecError::Transient(format!(
                        "{} nft {} did not finish within {} seconds",
                        self.shown(),
                        args.first().copied().unwrap_or(""),
                        self.timeout.as_secs()
                    )));
                }
                Err(e) => return Err(ExecError::Transient(format!("waiting for nft: {e}"))),
            }
        };
        let (stdout, too_long) = out.and_then(|h| h.join().ok()).unwrap_or_default();
        let (stderr, _) = err.and_then(|h| h.join().ok()).unwrap_or_default();
        if !status.success() {
            return Err(classify(&self.shown(), &stderr, status.code()));
        }
        if too_long {
            return Err(ExecError::Permanent(format!(
                "nft listed more than {} MiB for one set of table inet {}",
                MAX_STDOUT >> 20,
                self.table
            )));
        }
        Ok(stdout)
    }

    /// The command as people read it in errors.
    fn shown(&self) -> String {
        one_line(&self.command.join(" "))
    }

    /// The elements of `set` as ranges; `None` when keibi's table or the set is
    /// not there.
    fn elements(&self, set: &str) -> Result<Option<Vec<(u128, u128)>>, ExecError> {
        match self.run(&["-j", "list", "set", "inet", &self.table, set], None) {
            Ok(json) => parse_elements(&json).map(Some),
            Err(ExecError::Permanent(m)) if m.contains("No such file or directory") => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn block_of(&self, target: &Target) -> Result<Block, ExecError> {
        match target {
            Target::BlockAddress { address, .. } => Ok(Block::new(*address)),
            other => Err(ExecError::Permanent(format!(
                "the nftables executor does not do {}",
                other.kind()
            ))),
        }
    }

    /// The kernel's timeout for an action executed now: the time left to its
    /// expiry (at least a second), else its `expire_after`, else none.
    fn timeout_of(&self, action: &Action) -> Option<u64> {
        let secs = match action.expires_at {
            Some(at) => {
                let left = (at - (self.clock)()).num_seconds();
                Some(u64::try_from(left).unwrap_or(0).max(1))
            }
            None => action.expire_after_secs.map(|s| s.max(1)),
        };
        secs.map(|s| s.min(MAX_TIMEOUT_SECS))
    }
}

/// One address or network to block, in the family's set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    net: IpNet,
}

impl Block {
    fn new(net: IpNet) -> Block {
        // An IPv4-mapped IPv6 address arrives as IPv4: block it in blocked4.
        let net = match net {
            IpNet::V6(n) if n.prefix_len() >= 96 => match n.addr().to_ipv4_mapped() {
                Some(v4) => ipnet::Ipv4Net::new(v4, n.prefix_len() - 96)
                    .map(IpNet::V4)
                    .unwrap_or(net),
                None => net,
            },
            _ => net,
        };
        Block { net: net.trunc() }
    }

    fn set(&self) -> &'static str {
        match self.net {
            IpNet::V4(_) => "blocked4",
            IpNet::V6(_) => "blocked6",
        }
    }

    /// As nft writes it: the address alone for a host, else `network/len`. Only
    /// `IpNet`'s formatting: digits, hex, dots, colons and one slash.
    fn element(&self) -> String {
        if self.net.prefix_len() == self.net.max_prefix_len() {
            self.net.addr().to_string()
        } else {
            self.net.to_string()
        }
    }

    fn span(&self) -> (u128, u128) {
        (num(self.net.network()), num(self.net.broadcast()))
    }
}

fn num(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

/// A range of the set as people read it.
fn show_span((lo, hi): (u128, u128), v6: bool) -> String {
    let addr = |n: u128| -> IpAddr {
        if v6 {
            IpAddr::V6(n.into())
        } else {
            IpAddr::V4(u32::try_from(n).unwrap_or(u32::MAX).into())
        }
    };
    if lo == hi {
        return addr(lo).to_string();
    }
    let bits = if v6 { 128 } else { 32 };
    let width = hi - lo;
    if lo & width == 0 && width.checked_add(1).is_none_or(|w| w.is_power_of_two()) {
        let host_bits = 128 - width.leading_zeros();
        let len = bits - host_bits.min(bits);
        if let Ok(n) = IpNet::new(addr(lo), len as u8) {
            return n.to_string();
        }
    }
    format!("{}-{}", addr(lo), addr(hi))
}

/// The ranges of `nft -j list set`'s elements: addresses, prefixes, ranges, each
/// possibly inside an `elem` object that carries its timeout.
pub fn parse_elements(json: &str) -> Result<Vec<(u128, u128)>, ExecError> {
    let v: Value = serde_json::from_str(json).map_err(|e| {
        ExecError::Permanent(format!("nft -j list set answered something not JSON: {e}"))
    })?;
    let mut out = Vec::new();
    let items = v.get("nftables").and_then(Value::as_array);
    for item in items.into_iter().flatten() {
        let Some(elems) = item.pointer("/set/elem").and_then(Value::as_array) else {
            continue;
        };
        for e in elems {
            if let Some(s) = span(e, 0) {
                out.push(s);
            }
        }
    }
    Ok(out)
}

fn span(v: &Value, depth: u8) -> Option<(u128, u128)> {
    if depth > 4 {
        return None;
    }
    match v {
        Value::String(s) => s.parse::<IpAddr>().ok().map(|a| (num(a), num(a))),
        Value::Object(o) => {
            if let Some(e) = o.get("elem") {
                return span(e.get("val")?, depth + 1);
            }
            if let Some(p) = o.get("prefix") {
                let addr: IpAddr = p.get("addr")?.as_str()?.parse().ok()?;
                let len = u8::try_from(p.get("len")?.as_u64()?).ok()?;
                let n = IpNet::new(addr, len).ok()?;
                return Some((num(n.network()), num(n.broadcast())));
            }
            if let Some(r) = o.get("range").and_then(Value::as_array) {
                let (lo, _) = span(r.first()?, depth + 1)?;
                let (_, hi) = span(r.get(1)?, depth + 1)?;
                return Some((lo, hi));
            }
            None
        }
        _ => None,
    }
}

/// Reads a pipe to its end, keeping at most `max` bytes; whether there was more.
fn reader<R: Read + Send + 'static>(
    mut pipe: R,
    max: usize,
) -> std::thread::JoinHandle<(String, bool)> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        let mut more = false;
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = max.saturating_sub(kept.len());
                    if n > room {
                        more = true;
                    }
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        (String::from_utf8_lossy(&kept).into_owned(), more)
    })
}

const PERMISSION_HINT: &str = "run keibi as root, give it CAP_NET_ADMIN, or set respond.nftables.command: [sudo, -n, nft] with a sudoers rule for it";

fn spawn_error(program: &str, e: &std::io::Error) -> ExecError {
    let program = one_line(program);
    match e.kind() {
        std::io::ErrorKind::NotFound => ExecError::Permanent(format!(
            "{program} not found: install nftables, or set respond.nftables.command to where nft is"
        )),
        std::io::ErrorKind::PermissionDenied => {
            ExecError::Permanent(format!("{program} cannot be run: {e}; {PERMISSION_HINT}"))
        }
        _ => ExecError::Transient(format!("{program} cannot be started: {e}")),
    }
}

/// What a failed nft call means.
fn classify(shown: &str, stderr: &str, code: Option<i32>) -> ExecError {
    let first = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let text = clip(&one_line(first), MAX_ERROR, "…");
    let status = code.map_or_else(|| "a signal".to_string(), |c| format!("status {c}"));
    let lower = stderr.to_ascii_lowercase();
    if lower.contains("operation not permitted")
        || lower.contains("permission denied")
        || lower.contains("a password is required")
        || lower.contains("a terminal is required")
    {
        return ExecError::Permanent(format!("{shown} was refused ({text}): {PERMISSION_HINT}"));
    }
    let transient = code.is_none()
        || [
            "device or resource busy",
            "resource temporarily unavailable",
            "interrupted system call",
            "no buffer space available",
            "cannot allocate memory",
        ]
        .iter()
        .any(|m| lower.contains(m));
    let msg = format!("{shown} failed with {status}: {text}");
    if transient {
        ExecError::Transient(msg)
    } else {
        ExecError::Permanent(msg)
    }
}

fn from_journal<T: for<'de> Deserialize<'de>>(v: &Value, what: &str) -> Result<T, ExecError> {
    serde_json::from_value(v.clone()).map_err(|e| {
        ExecError::Permanent(format!(
            "the journal's {what} of this action is not the nftables executor's: {e}"
        ))
    })
}

impl Executor for Nftables {
    fn name(&self) -> &str {
        NAME
    }

    fn accepts(&self, target: &Target) -> bool {
        matches!(target, Target::BlockAddress { .. })
    }

    fn prepare(&mut self, req: Request<'_>) -> Result<Value, ExecError> {
        let block = self.block_of(&req.action.target)?;
        let mine = block.span();
        let v6 = matches!(block.net, IpNet::V6(_));
        let elements = self.elements(block.set())?.unwrap_or_default();
        let exact = elements.contains(&mine);
        let covered_by = elements
            .iter()
            .find(|(lo, hi)| *lo <= mine.0 && mine.1 <= *hi)
            .map(|s| show_span(*s, v6));
        let prior = Prior {
            table: self.table.clone(),
            set: block.set().to_string(),
            element: block.element(),
            present: exact || covered_by.is_some(),
            covered_by: covered_by.filter(|_| !exact),
        };
        Ok(serde_json::to_value(prior).unwrap_or(Value::Null))
    }

    fn apply(&mut self, req: Request<'_>, prior: &Value) -> Result<Value, ExecError> {
        let block = self.block_of(&req.action.target)?;
        let prior: Prior = from_journal(prior, "prior")?;
        let mut done = Done {
            table: self.table.clone(),
            set: block.set().to_string(),
            element: block.element(),
            added: false,
            timeout_secs: None,
        };
        if prior.present {
            // Someone else's element: it blocks already, and stays theirs.
            return Ok(serde_json::to_value(done).unwrap_or(Value::Null));
        }
        done.timeout_secs = self.timeout_of(req.action);
        let timeout = done
            .timeout_secs
            .map(|s| format!(" timeout {s}s"))
            .unwrap_or_default();
        let batch = format!(
            "{}add element inet {} {} {{ {}{timeout} }}\n",
            self.ruleset(),
            self.table,
            done.set,
            done.element
        );
        // Adding an element that is there (an apply again after a kill) succeeds
        // and changes nothing.
        self.run(&["-f", "-"], Some(&batch)).map_err(|e| match e {
            ExecError::Permanent(m) if m.contains("interval overlaps") => {
                ExecError::Permanent(format!(
                    "{} overlaps elements already in set {} of table inet {} (a network holding it, or addresses inside it): {m}",
                    done.element, done.set, self.table
                ))
            }
            e => e,
        })?;
        done.added = true;
        Ok(serde_json::to_value(done).unwrap_or(Value::Null))
    }

    fn undo(&mut self, req: Request<'_>, _prior: &Value, done: &Value) -> Result<(), ExecError> {
        let _ = req;
        let done: Done = from_journal(done, "record of what was done")?;
        if !done.added {
            return Ok(());
        }
        // What the journal says is checked again before it reaches nft.
        let net: IpNet = done
            .element
            .parse()
            .or_else(|_| done.element.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| {
                ExecError::Permanent(format!(
                    "the journal's element {:?} is not an address",
                    clip(&one_line(&done.element), 80, "…")
                ))
            })?;
        let block = Block::new(net);
        if !valid_table(&done.table) || done.set != block.set() {
            return Err(ExecError::Permanent(format!(
                "the journal's table or set ({:?} {:?}) is not keibi's",
                clip(&one_line(&done.table), 80, "…"),
                clip(&one_line(&done.set), 80, "…")
            )));
        }
        let there = |me: &Nftables| -> Result<bool, ExecError> {
            let at = Nftables {
                table: done.table.clone(),
                ..me.clone()
            };
            Ok(at
                .elements(block.set())?
                .is_some_and(|els| els.contains(&block.span())))
        };
        if !there(self)? {
            // Expired in the kernel, deleted by hand, or the table is gone.
            return Ok(());
        }
        let elem = format!("{{ {} }}", block.element());
        match self.run(
            &["delete", "element", "inet", &done.table, block.set(), &elem],
            None,
        ) {
            Ok(_) => Ok(()),
            // Its timeout may have ended it between the look and the delete.
            Err(e) => match there(self) {
                Ok(false) => Ok(()),
                _ => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_read_in_every_form_nft_writes() {
        let json = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"set": {"family": "inet", "name": "blocked4", "table": "keibi", "type": "ipv4_addr", "flags": ["interval", "timeout"], "elem": [{"elem": {"val": "198.51.100.1", "timeout": 100, "expires": 99}}, {"prefix": {"addr": "203.0.113.0", "len": 24}}, {"range": ["192.0.2.10", "192.0.2.20"]}, "192.0.2.1", {"elem": {"val": {"prefix": {"addr": "10.0.0.0", "len": 8}}, "timeout": 5}}]}}]}"#;
        let els = parse_elements(json).unwrap();
        let a = |s: &str| num(s.parse().unwrap());
        assert_eq!(
            els,
            vec![
                (a("198.51.100.1"), a("198.51.100.1")),
                (a("203.0.113.0"), a("203.0.113.255")),
                (a("192.0.2.10"), a("192.0.2.20")),
                (a("192.0.2.1"), a("192.0.2.1")),
                (a("10.0.0.0"), a("10.255.255.255")),
            ]
        );
        assert!(parse_elements("Error: no").is_err());
        assert_eq!(parse_elements(r#"{"nftables": []}"#).unwrap(), vec![]);
    }

    #[test]
    fn blocks_are_written_as_nft_writes_them() {
        let b = Block::new("203.0.113.9/32".parse().unwrap());
        assert_eq!((b.element(), b.set()), ("203.0.113.9".into(), "blocked4"));
        let b = Block::new("2001:db8::1:2/64".parse().unwrap());
        assert_eq!((b.element(), b.set()), ("2001:db8::/64".into(), "blocked6"));
        // IPv4-mapped: the kernel sees IPv4 packets.
        let b = Block::new("::ffff:203.0.113.9/128".parse().unwrap());
        assert_eq!((b.element(), b.set()), ("203.0.113.9".into(), "blocked4"));
        assert_eq!(
            show_span(Block::new("203.0.113.0/24".parse().unwrap()).span(), false),
            "203.0.113.0/24"
        );
        assert_eq!(
            show_span(Block::new("2001:db8::/64".parse().unwrap()).span(), true),
            "2001:db8::/64"
        );
        let a = |s: &str| num(s.parse().unwrap());
        assert_eq!(
            show_span((a("192.0.2.10"), a("192.0.2.20")), false),
            "192.0.2.10-192.0.2.20"
        );
        assert_eq!(show_span((0, u128::MAX), true), "::/0");
    }

    #[test]
    fn table_names_and_failures() {
        assert!(valid_table("keibi") && valid_table("keibi-2") && valid_table("k_b"));
        for bad in ["", "1k", "k b", "k;flush ruleset", "k}", &"k".repeat(65)] {
            assert!(!valid_table(bad), "{bad}");
        }
        assert!(Nftables::new(vec![], "keibi").is_err());
        assert!(Nftables::new(vec!["nft".into()], "bad name").is_err());
        let e = classify(
            "nft",
            "Error: Could not process rule: Operation not permitted\n",
            Some(1),
        );
        assert!(
            !e.is_transient() && e.to_string().contains("CAP_NET_ADMIN"),
            "{e}"
        );
        let e = classify("sudo -n nft", "sudo: a password is required\n", Some(1));
        assert!(e.to_string().contains("sudo, -n, nft"), "{e}");
        let e = classify(
            "nft",
            "Error: Could not process rule: Device or resource busy",
            Some(1),
        );
        assert!(e.is_transient());
        let e = classify("nft", "Error: syntax error\n\x1b[31mx", Some(1));
        assert!(!e.is_transient() && !e.to_string().contains('\x1b'), "{e}");
        let e = spawn_error(
            "/nonexistent/nft",
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert!(e.to_string().contains("/nonexistent/nft not found"), "{e}");
    }
}
