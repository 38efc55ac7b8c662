//! Address lists that findings consult: threat lists (`MaliciousIPCaller`), Tor exit
//! lists (`TorIPCaller`) and trusted lists (which silence login and network findings).
//! The caller reads the files; this module reads their text in every format the
//! contract names, and answers "is this address listed, and by which list" with a
//! binary search over merged ranges, so a million-entry list costs a few bytes per
//! entry and well under a microsecond per lookup.
//!
//! Accepted, line by line and mixed freely (the format of a file is never guessed):
//! one address, CIDR (`/len` or a dotted IPv4 netmask) or range (`a-b`, `a - b`, CIDR
//! endpoints allowed, as FireHOL's `iprange` reads them) per line; comments from `#` or
//! `;` to the end of a line; the Tor project's exit-address blocks (`ExitAddress IP
//! DATE TIME`, with their `ExitNode`, `Published` and `LastStatus` lines skipped).
//! A line that is none of these is a problem with its line number, and the rest of
//! the list still loads.

use std::fmt;
use std::net::IpAddr;

/// Problems kept per list; further ones are only counted, so a garbage file cannot
/// fill memory with messages.
pub const MAX_KEPT_PROBLEMS: usize = 100;

/// How much of an unreadable line a problem quotes.
const SNIPPET_BYTES: usize = 48;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// `::ffff:0.0.0.0/96`: IPv6 addresses that are IPv4 addresses in disguise.
const MAPPED_LO: u128 = 0xffff_0000_0000;
const MAPPED_HI: u128 = 0xffff_ffff_ffff;

/// The largest list file keibi reads: FireHOL's level 1-4 sets and the Tor exit
/// lists are a few MB; the cap only stops a wrong file (`/dev/zero`, a disk image)
/// from being read whole.
pub const MAX_LIST_BYTES: usize = 256 << 20;

/// A line of a list that is not an address, CIDR, range, comment or Tor metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListProblem {
    /// 1-based line number.
    pub line: u64,
    /// Lower-case reason, no final period, quoting (escaped, shortened) what was found.
    pub reason: String,
}

impl fmt::Display for ListProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Why a list could not be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// Not one line of the list was an address, CIDR or range: almost certainly the
    /// wrong file, which must not pass for an empty (and so silently useless) list.
    #[error("{list}: no address, CIDR or range in the list{}", first_problem(.malformed, .problems))]
    NoEntries {
        /// The list's name, as given to [`IpList::parse`].
        list: String,
        /// How many lines were malformed.
        malformed: u64,
        /// The first of them (at most [`MAX_KEPT_PROBLEMS`]).
        problems: Vec<ListProblem>,
    },
}

fn first_problem(malformed: &u64, problems: &[ListProblem]) -> String {
    match problems.first() {
        Some(p) => format!(" ({malformed} malformed lines, first {p})"),
        None => String::new(),
    }
}

/// The integer form of an address family, for code shared by IPv4 (`u32`) and IPv6
/// (`u128`) ranges.
trait Addr: Copy + Ord + fmt::Debug {
    fn succ(self) -> Option<Self>;
    fn pred(self) -> Option<Self>;
    /// The bucket of the lookup index (see [`Table`]), for families that have one.
    fn bucket(self) -> Option<usize>;
}

/// IPv4 tables are indexed by an address's top 16 bits.
const BUCKETS: usize = 1 << 16;

impl Addr for u32 {
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
    fn bucket(self) -> Option<usize> {
        Some((self >> 16) as usize)
    }
}

impl Addr for u128 {
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
    /// IPv6 lists cluster in a few prefixes (`2001:`, `2a0x:`), where a top-bits
    /// index would not narrow anything; they are also far shorter than IPv4 lists.
    fn bucket(self) -> Option<usize> {
        None
    }
}

/// An inclusive range of addresses of one family.
type Span<T> = (T, T);

/// An address as a lookup key: IPv4-mapped IPv6 (`::ffff:a.b.c.d`, as dual-stack
/// servers log IPv4 clients) becomes the IPv4 address it carries.
enum Key {
    V4(u32),
    V6(u128),
}

fn key(ip: IpAddr) -> Key {
    match ip {
        IpAddr::V4(a) => Key::V4(u32::from(a)),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => Key::V4(u32::from(v4)),
            None => Key::V6(u128::from(a)),
        },
    }
}

/// Whether `x` lies in one of the sorted, disjoint `spans`.
fn spans_contain<T: Addr>(spans: &[Span<T>], x: T) -> bool {
    let i = spans.partition_point(|s| s.0 <= x);
    i.checked_sub(1)
        .and_then(|j| spans.get(j))
        .is_some_and(|s| x <= s.1)
}

/// Sorts spans and merges the overlapping and adjacent ones, leaving the fewest
/// disjoint spans that cover the same addresses.
fn merge<T: Addr>(spans: &mut Vec<Span<T>>) {
    spans.sort_unstable();
    // `dedup_by` hands (later, kept): since spans are sorted by start, a later span
    // that starts inside or right after the kept one extends it.
    spans.dedup_by(|next, kept| {
        if kept.1.succ().is_none_or(|after| next.0 <= after) {
            kept.1 = kept.1.max(next.1);
            true
        } else {
            false
        }
    });
    spans.shrink_to_fit();
}

/// One list read from text: its name and its merged ranges.
#[derive(Debug, Clone)]
pub struct IpList {
    name: String,
    v4: Vec<Span<u32>>,
    v6: Vec<Span<u128>>,
    entries: u64,
    malformed: u64,
    problems: Vec<ListProblem>,
}

impl IpList {
    /// Reads a list. `name` names it in findings and messages (usually the file
    /// name). Malformed lines are skipped and reported by [`IpList::problems`]; a list
    /// with no valid entry at all is an error.
    pub fn parse(name: impl Into<String>, text: &[u8]) -> Result<IpList, ListError> {
        let mut list = IpList {
            name: name.into(),
            v4: Vec::new(),
            v6: Vec::new(),
            entries: 0,
            malformed: 0,
            problems: Vec::new(),
        };
        let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
        for (lineno, line) in (1u64..).zip(text.split(|&b| b == b'\n')) {
            match parse_line(line) {
                Ok(Parsed::Skip) => {}
                Ok(Parsed::V4(span)) => {
                    list.entries += 1;
                    list.v4.push(span);
                }
                Ok(Parsed::V6(span)) => {
                    list.entries += 1;
                    list.add_v6(span);
                }
                Err(reason) => {
                    list.malformed += 1;
                    if list.problems.len() < MAX_KEPT_PROBLEMS {
                        list.problems.push(ListProblem {
                            line: lineno,
                            reason,
                        });
                    }
                }
            }
        }
        if list.entries == 0 {
            return Err(ListError::NoEntries {
                list: list.name,
                malformed: list.malformed,
                problems: list.problems,
            });
        }
        merge(&mut list.v4);
        merge(&mut list.v6);
        Ok(list)
    }

    /// Lookups of mapped addresses go to the IPv4 table, so the part of an IPv6 range
    /// that covers `::ffff:0:0/96` is entered there too (`::/0` lists every IPv4
    /// address as well).
    fn add_v6(&mut self, (lo, hi): Span<u128>) {
        let (mlo, mhi) = (lo.max(MAPPED_LO), hi.min(MAPPED_HI));
        if mlo <= mhi {
            // Both ends are inside the mapped block, so they fit in 32 bits.
            self.v4
                .push(((mlo - MAPPED_LO) as u32, (mhi - MAPPED_LO) as u32));
        }
        if lo < MAPPED_LO || hi > MAPPED_HI {
            self.v6.push((lo, hi));
        }
    }

    /// The name given to [`IpList::parse`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Valid entry lines read (before merging).
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Disjoint ranges left after merging overlapping and adjacent entries.
    pub fn ranges(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Lines that were skipped as malformed.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// The first [`MAX_KEPT_PROBLEMS`] malformed lines, in line order.
    pub fn problems(&self) -> &[ListProblem] {
        &self.problems
    }

    /// Whether the list covers `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match key(ip) {
            Key::V4(x) => spans_contain(&self.v4, x),
            Key::V6(x) => spans_contain(&self.v6, x),
        }
    }

    /// The list's name when it covers `ip`.
    pub fn lookup(&self, ip: IpAddr) -> Option<&str> {
        self.contains(ip).then_some(self.name.as_str())
    }
}

/// What one line holds.
#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    /// Blank, comment, or Tor metadata.
    Skip,
    V4(Span<u32>),
    V6(Span<u128>),
}

fn parse_line(line: &[u8]) -> Result<Parsed, String> {
    let end = line
        .iter()
        .position(|&b| b == b'#' || b == b';')
        .unwrap_or(line.len());
    let data = line.get(..end).unwrap_or(line).trim_ascii();
    if data.is_empty() {
        return Ok(Parsed::Skip);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return Err(format!(
            "expected an address, CIDR or range, found invalid UTF-8 {}",
            snippet(data)
        ));
    };
    let mut words = text.split_ascii_whitespace();
    match words.next() {
        // The Tor project's exit-addresses blocks: only the addresses matter.
        Some("ExitNode" | "Published" | "LastStatus") => return Ok(Parsed::Skip),
        Some("ExitAddress") => {
            let Some(addr) = words.next() else {
                return Err("expected an address after ExitAddress, found nothing".into());
            };
            return parse_net(addr);
        }
        _ => {}
    }
    if let Some((first, last)) = text.split_once('-') {
        let first = first.trim_ascii();
        let first_addr = first.split_once('/').map_or(first, |(addr, _)| addr);
        if first_addr.parse::<IpAddr>().is_err() {
            // Not a range that went wrong but not a range at all (`not-an-ip`).
            return Err(format!(
                "expected an address, CIDR or range, found {}",
                snippet(data)
            ));
        }
        return parse_range(first, last.trim_ascii());
    }
    if text.contains(|c: char| c.is_ascii_whitespace()) {
        return Err(format!(
            "expected one address, CIDR or range per line, found {}",
            snippet(data)
        ));
    }
    parse_net(text)
}

/// `first-last`, where each end may be an address or a CIDR (the range runs from the
/// first network's start to the last network's end, as `iprange` reads it).
fn parse_range(first: &str, last: &str) -> Result<Parsed, String> {
    match (parse_net(first)?, parse_net(last)?) {
        (Parsed::V4((lo, _)), Parsed::V4((_, hi))) if lo <= hi => Ok(Parsed::V4((lo, hi))),
        (Parsed::V6((lo, _)), Parsed::V6((_, hi))) if lo <= hi => Ok(Parsed::V6((lo, hi))),
        (Parsed::V4(_), Parsed::V4(_)) | (Parsed::V6(_), Parsed::V6(_)) => Err(format!(
            "range start {} is after its end {}",
            snippet(first.as_bytes()),
            snippet(last.as_bytes())
        )),
        _ => Err(format!(
            "range mixes IPv4 and IPv6: {} - {}",
            snippet(first.as_bytes()),
            snippet(last.as_bytes())
        )),
    }
}

/// An address or a CIDR. Host bits under the prefix are ignored (`10.1.2.3/8` is
/// `10.0.0.0/8`), as `iprange` does by default. IPv6 networks inside the mapped block
/// come back as IPv4.
fn parse_net(text: &str) -> Result<Parsed, String> {
    let (addr, prefix) = match text.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (text, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return Err(format!(
            "expected an IPv4 or IPv6 address, found {}",
            snippet(addr.as_bytes())
        ));
    };
    match ip {
        IpAddr::V4(a) => {
            let bits = match prefix {
                None => 32,
                Some(p) => v4_prefix(p)?,
            };
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            let lo = u32::from(a) & mask;
            Ok(Parsed::V4((lo, lo | !mask)))
        }
        IpAddr::V6(a) => {
            let bits = match prefix {
                None => 128,
                Some(p) => prefix_len(p, 128)?,
            };
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            let lo = u128::from(a) & mask;
            let hi = lo | !mask;
            if (MAPPED_LO..=MAPPED_HI).contains(&lo) && hi <= MAPPED_HI {
                return Ok(Parsed::V4((
                    (lo - MAPPED_LO) as u32,
                    (hi - MAPPED_LO) as u32,
                )));
            }
            Ok(Parsed::V6((lo, hi)))
        }
    }
}

/// An IPv4 prefix: a length, or a contiguous dotted netmask (`255.255.255.0`).
fn v4_prefix(p: &str) -> Result<u32, String> {
    if p.contains('.') {
        let Ok(mask) = p.parse::<std::net::Ipv4Addr>() else {
            return Err(format!(
                "expected a prefix length or netmask after '/', found {}",
                snippet(p.as_bytes())
            ));
        };
        let m = u32::from(mask);
        if m.leading_ones() + m.trailing_zeros() != 32 {
            return Err(format!(
                "netmask {} is not contiguous",
                snippet(p.as_bytes())
            ));
        }
        return Ok(m.leading_ones());
    }
    prefix_len(p, 32)
}

fn prefix_len(p: &str, max: u32) -> Result<u32, String> {
    let digits = !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
    match p.parse::<u32>() {
        Ok(n) if digits && n <= max => Ok(n),
        Ok(n) if digits => Err(format!("prefix length {n} is out of range 0-{max}")),
        _ => Err(format!(
            "expected a prefix length after '/', found {}",
            snippet(p.as_bytes())
        )),
    }
}

/// Quotes the start of what was found, escaped so a hostile list cannot put control
/// characters in a terminal through a problem message.
fn snippet(b: &[u8]) -> String {
    let cut = b.get(..SNIPPET_BYTES).unwrap_or(b);
    let more = if cut.len() < b.len() { "..." } else { "" };
    format!("\"{}\"{more}", String::from_utf8_lossy(cut).escape_debug())
}

/// Disjoint ranges of one family, each tagged with the list it came from, kept as
/// three parallel arrays so the binary search walks only the starts.
///
/// For IPv4, `index[b]` is the first range starting in bucket `b` (or later), so a
/// lookup searches only its bucket's few ranges: a plain binary search over a million
/// starts costs about ten cache misses, the index (256 KiB, fixed) one or two.
#[derive(Debug, Clone, Default)]
struct Table<T> {
    starts: Vec<T>,
    ends: Vec<T>,
    lists: Vec<u32>,
    index: Vec<u32>,
}

impl<T: Addr> Table<T> {
    /// Combines the lists' spans (each list sorted and disjoint already). Where lists
    /// overlap, the earlier list names the addresses, so the name a finding quotes
    /// does not depend on how ranges happened to split.
    fn combine<'a>(lists: impl Iterator<Item = &'a [Span<T>]>) -> Table<T>
    where
        T: 'a,
    {
        let mut acc: Vec<(T, T, u32)> = Vec::new();
        for (idx, spans) in (0u32..).zip(lists) {
            let mut fresh = Vec::new();
            uncovered(&acc, spans, idx, &mut fresh);
            if fresh.is_empty() {
                continue;
            }
            acc.extend(fresh);
            acc.sort_unstable_by_key(|r| r.0);
            // Pieces of one list that the subtraction left touching each other.
            acc.dedup_by(|next, kept| {
                if kept.2 == next.2 && kept.1.succ() == Some(next.0) {
                    kept.1 = next.1;
                    true
                } else {
                    false
                }
            });
        }
        let mut table = Table {
            starts: Vec::with_capacity(acc.len()),
            ends: Vec::with_capacity(acc.len()),
            lists: Vec::with_capacity(acc.len()),
            index: Vec::new(),
        };
        for (lo, hi, idx) in acc {
            table.starts.push(lo);
            table.ends.push(hi);
            table.lists.push(idx);
        }
        table.build_index();
        table
    }

    /// Only for a family with buckets, only when there is something to index, and
    /// only while positions fit the index's `u32` (a list of four billion ranges
    /// falls back to the plain binary search).
    fn build_index(&mut self) {
        let has_buckets = self.starts.first().is_some_and(|s| s.bucket().is_some());
        if !has_buckets || u32::try_from(self.starts.len()).is_err() {
            return;
        }
        let mut index = Vec::with_capacity(BUCKETS + 1);
        let mut i = 0;
        for b in 0..=BUCKETS {
            while self
                .starts
                .get(i)
                .is_some_and(|s| s.bucket().is_some_and(|sb| sb < b))
            {
                i += 1;
            }
            // `i` fits: the length was checked above.
            index.push(i as u32);
        }
        self.index = index;
    }

    fn find(&self, x: T) -> Option<u32> {
        // The range holding `x` starts in `x`'s bucket or is the last one before it,
        // at `lo - 1`, which the `checked_sub` below reaches.
        let (lo, hi) = match x.bucket() {
            Some(b) if !self.index.is_empty() => (
                *self.index.get(b)? as usize,
                *self.index.get(b + 1)? as usize,
            ),
            _ => (0, self.starts.len()),
        };
        let i = lo + self.starts.get(lo..hi)?.partition_point(|&s| s <= x);
        let j = i.checked_sub(1)?;
        if x <= *self.ends.get(j)? {
            self.lists.get(j).copied()
        } else {
            None
        }
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    fn bytes(&self) -> usize {
        self.starts.capacity() * std::mem::size_of::<T>()
            + self.ends.capacity() * std::mem::size_of::<T>()
            + self.lists.capacity() * std::mem::size_of::<u32>()
            + self.index.capacity() * std::mem::size_of::<u32>()
    }
}

/// Pushes onto `out` the parts of `spans` that no range in `acc` covers, tagged
/// `idx`. Both inputs are sorted and disjoint; one pass over each.
fn uncovered<T: Addr>(
    acc: &[(T, T, u32)],
    spans: &[Span<T>],
    idx: u32,
    out: &mut Vec<(T, T, u32)>,
) {
    let mut j = 0;
    for &(start, end) in spans {
        while acc.get(j).is_some_and(|r| r.1 < start) {
            j += 1;
        }
        let mut cur = start;
        let mut covered = false;
        while let Some(&(lo, hi, _)) = acc.get(j) {
            if lo > end {
                break;
            }
            if lo > cur {
                if let Some(before) = lo.pred() {
                    out.push((cur, before, idx));
                }
            }
            match hi.succ() {
                // The range ends inside this span: go on after it. It cannot reach
                // the next span, which starts after `end`.
                Some(after) if hi < end => {
                    cur = after;
                    j += 1;
                }
                // It covers the rest of this span, and may reach into the next.
                _ => {
                    covered = true;
                    break;
                }
            }
        }
        if !covered {
            out.push((cur, end, idx));
        }
    }
}

/// Several lists of one role (every `--threat-list`, say) as one lookup table that
/// still knows which list each address came from.
#[derive(Debug, Clone, Default)]
pub struct IpSet {
    names: Vec<String>,
    entries: u64,
    v4: Table<u32>,
    v6: Table<u128>,
}

impl IpSet {
    /// Combines lists; where they overlap, the earlier list is the one reported.
    pub fn new(lists: Vec<IpList>) -> IpSet {
        let v4 = Table::combine(lists.iter().map(|l| l.v4.as_slice()));
        let v6 = Table::combine(lists.iter().map(|l| l.v6.as_slice()));
        IpSet {
            entries: lists.iter().map(|l| l.entries).sum(),
            names: lists.into_iter().map(|l| l.name).collect(),
            v4,
            v6,
        }
    }

    /// Whether no list was given (or every list was empty).
    pub fn is_empty(&self) -> bool {
        self.v4.len() == 0 && self.v6.len() == 0
    }

    /// The lists' names, in the order given.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Valid entry lines over all lists.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Disjoint ranges held.
    pub fn ranges(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Heap bytes held by the tables: 12 per IPv4 range, 36 per IPv6 range, and
    /// 256 KiB of index when there is any IPv4 range.
    pub fn memory_bytes(&self) -> usize {
        self.v4.bytes() + self.v6.bytes()
    }

    /// Whether any list covers `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.find(ip).is_some()
    }

    /// The name of the (first) list that covers `ip`.
    pub fn lookup(&self, ip: IpAddr) -> Option<&str> {
        let idx = self.find(ip)?;
        self.names.get(idx as usize).map(String::as_str)
    }

    fn find(&self, ip: IpAddr) -> Option<u32> {
        match key(ip) {
            Key::V4(x) => self.v4.find(x),
            Key::V6(x) => self.v6.find(x),
        }
    }
}

/// What the lists say about one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reputation<'a> {
    /// On no list.
    Unlisted,
    /// On a trusted list: no login or network finding may be raised for it, whatever
    /// the threat and Tor lists say.
    Trusted {
        /// The trusted list that names it.
        list: &'a str,
    },
    /// On a threat list, a Tor exit list, or both, and on no trusted list.
    Listed {
        /// The Tor exit list that names it.
        tor: Option<&'a str>,
        /// The threat list that names it.
        threat: Option<&'a str>,
    },
}

/// The three roles of `keibi scan`'s `--threat-list`, `--tor-list` and
/// `--trusted-list`.
#[derive(Debug, Clone, Default)]
pub struct ThreatLists {
    /// Malicious addresses (`MaliciousIPCaller`).
    pub threat: IpSet,
    /// Tor exit nodes (`TorIPCaller`).
    pub tor: IpSet,
    /// Addresses that must never raise login or network findings.
    pub trusted: IpSet,
}

impl ThreatLists {
    /// Trusted lists take precedence: an address on one is `Trusted` even if a threat
    /// or Tor list also names it, as GuardDuty's trusted IP lists do.
    pub fn reputation(&self, ip: IpAddr) -> Reputation<'_> {
        if let Some(list) = self.trusted.lookup(ip) {
            return Reputation::Trusted { list };
        }
        match (self.tor.lookup(ip), self.threat.lookup(ip)) {
            (None, None) => Reputation::Unlisted,
            (tor, threat) => Reputation::Listed { tor, threat },
        }
    }
}

#[cfg(test)]
mod tests;
