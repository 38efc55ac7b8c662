//! Infers a `log_line_prefix` from a stderr log's first lines, for logs written with a
//! prefix that none of the known ones ([`super::prefix::STDERR_CANDIDATES`]) matches.
//!
//! Each line's prefix ends right before its level word (`LOG:  `, `FATAL:  ` ...). The
//! prefix text is cut into tokens (times, numbers, addresses, session ids, words,
//! labels such as `user=`, punctuation); lines of the same token shape align column by
//! column, and each variable column gets the escape its form and behaviour tell (a time
//! is `%t`/`%m`, a number beside `-1` is `%l`, the first other number `%p`, `host(port)`
//! is `%r` ...). Names are told apart by their labels, else by the message text
//! (`connection authorized: user=X database=Y` names that line's user and database),
//! counted once per server process. Every candidate is then compiled and matched by the
//! same [`Prefix`] as `--pg-prefix`, and the one that reads the most sampled lines wins:
//! the inferred prefix is an ordinary `log_line_prefix` string, with the same
//! log-injection defences as a configured one.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{FixedOffset, Offset, Utc};

use super::message::level_at;
use super::prefix::{next_level, zone_len, Prefix, TimeCache};

/// Most lines sampled, and most candidates tried: inference runs once per input and
/// costs a bounded amount of work whatever the input.
const MAX_SAMPLE: usize = 200;
const MAX_CANDIDATES: usize = 56;
/// Most candidates with a field put where separators meet ([`with_field`]).
const MAX_VARIANTS: usize = 24;
/// Longest prefix text considered (a level word further right is not a prefix's).
const MAX_PREFIX: usize = 512;

/// An inferred prefix and how sure inference is of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inference {
    /// As a `log_line_prefix` string (what `--pg-prefix` takes).
    pub prefix: String,
    /// Sampled lines (first lines of reports, not continuations) that the prefix reads.
    pub explained: usize,
    /// Sampled lines.
    pub sampled: usize,
    /// Choices the lines did not decide, in words (e.g. which name is the user).
    pub ambiguities: Vec<String>,
    /// Sampled lines of client sessions: their message names their user or database
    /// (`connection authorized: user=...`, `... for user "..."`), or the prefix's
    /// user or database field is filled on them.
    pub named: usize,
}

impl Inference {
    /// Whether the prefix is sure enough to read the input with: at least two lines,
    /// and nine in ten of the sampled lines read.
    pub fn accepted(&self) -> bool {
        self.explained >= 2 && self.explained * 10 >= self.sampled * 9
    }

    /// Whether the head it was inferred from shows enough to read a log still being
    /// written with it: accepted, and some line of a client session (its message
    /// names the user or database, or its name fields are filled), or 50 lines. The first lines of a live log are
    /// often the server's own (`database system is ready`), whose names are empty,
    /// so fields that only clients' lines fill could not have been seen yet.
    pub fn settled(&self) -> bool {
        self.accepted() && (self.named > 0 || self.sampled >= 50)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `YYYY-MM-DD HH:MM:SS[.fff][ ZONE]`; whether it has milliseconds.
    Time(bool),
    Epoch,
    /// `host(port)`.
    Remote,
    /// An address without a port (IPv4, IPv6).
    Addr,
    /// `[local]`.
    Local,
    /// `hex.hex`, `%c`.
    Session,
    /// `n/n`, `%v`.
    Vxid,
    Number,
    /// A word ending at `=`: literal, and names the column after it.
    Label,
    /// A backend type (`client backend`, `postmaster` ...), `%b`.
    Backend,
    /// A process's activity (`idle`, `authentication`, a command tag such as
    /// `SELECT` or `CREATE TABLE`), `%i`.
    Ps,
    Word,
    /// One byte of anything else.
    Punct,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
}

struct Line<'a> {
    prefix: &'a [u8],
    toks: Vec<Tok>,
    /// The user and database the message text names.
    msg_user: Option<&'a [u8]>,
    msg_db: Option<&'a [u8]>,
}

impl Line<'_> {
    fn text(&self, t: usize) -> &[u8] {
        let t = self.toks[t];
        &self.prefix[t.start..t.end]
    }
}

/// What a column of the prefix becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Lit(Vec<u8>),
    Esc(&'static str),
}

/// Infers the prefix of the stderr log starting with `head`; `None` when no line has a
/// level word. The best candidate is returned even when it is not
/// [`accepted`](Inference::accepted), as the closest one for an error message.
pub fn infer(head: &[u8]) -> Option<Inference> {
    let mut lines = Vec::new();
    for raw in head.split(|&b| b == b'\n').take(MAX_SAMPLE * 4) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() || raw[0] == b'\t' || raw[0] == b' ' {
            continue;
        }
        if let Some(l) = sample_line(raw) {
            lines.push(l);
        }
        if lines.len() == MAX_SAMPLE {
            break;
        }
    }
    if lines.is_empty() {
        return None;
    }
    // The lines a candidate must read: every line but continuations, with a level word
    // or not.
    let sampled: Vec<&[u8]> = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty() && l[0] != b'\t' && l[0] != b' ')
        .take(MAX_SAMPLE)
        .collect();

    // Lines of one token shape align column by column.
    let mut groups: BTreeMap<Vec<u8>, Vec<usize>> = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        groups.entry(signature(l)).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    groups.truncate(8);

    let any_remote = lines
        .iter()
        .any(|l| l.toks.iter().any(|t| t.kind == Kind::Remote));
    // Every process id seen, for `%P` (a leader is a process of its own).
    let mut pids = BTreeSet::new();
    for g in &groups {
        if let Some(t) = pid_column(&lines, g) {
            pids.extend(g.iter().map(|&i| lines[i].text(t)));
        }
    }
    let mut cands: Vec<(Vec<Piece>, Vec<String>)> = groups
        .iter()
        .map(|g| build(&lines, g, any_remote, &pids))
        .collect();
    // A field empty on every line of a shape leaves its separators side by side
    // (`%b %i %P ` is `postmaster   ` for the server, `client backend idle  ` for a
    // session, `parallel worker  672 ` for a worker): each shape's candidate with a
    // field other shapes show put where its separators meet.
    let base = cands.len();
    for a in 0..base {
        for (e, around) in missing_fields(&cands[..base], a) {
            for v in with_field(&cands[a].0, e, around) {
                if cands.len() >= base + MAX_VARIANTS {
                    break;
                }
                let notes = cands[a].1.clone();
                cands.push((v, notes));
            }
        }
    }
    let variants = base..cands.len();
    // `%q`: a shape that is another's start, for processes without a session.
    for a in 0..base {
        for b in 0..base {
            if let Some(q) = with_q(&cands[a].0, &cands[b].0) {
                let notes = cands[b].1.clone();
                cands.push((q, notes));
            }
        }
    }
    cands.truncate(MAX_CANDIDATES);

    // Every candidate's reading; then, among those reading nearly as many lines as the
    // best (nine in ten of its count), the one with the most fields: a loose prefix
    // (`%u@%d:[%p]:`, the time swallowed by the user) also reads the halves of lines
    // cut by a line break in a name, which the full prefix rightly does not.
    // A candidate with a field put where separators meet counts only when it reads
    // more lines than every other: a field read empty everywhere is no field.
    let mut scored: Vec<(usize, usize, usize, String, Vec<String>)> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut put = Vec::new();
    let mut best_other = 0;
    for (i, (pieces, notes)) in cands.into_iter().enumerate() {
        let prefix = render(&pieces);
        if !seen.insert(prefix.clone()) {
            continue;
        }
        let explained = explained(&prefix, &sampled);
        let fields = pieces.iter().filter(|p| matches!(p, Piece::Esc(_))).count();
        if variants.contains(&i) {
            put.push((explained, fields, i, prefix, notes));
        } else {
            best_other = best_other.max(explained);
            scored.push((explained, fields, i, prefix, notes));
        }
    }
    scored.extend(put.into_iter().filter(|s| s.0 > best_other));
    let most = scored.iter().map(|s| s.0).max()?;
    // Ties go to the earlier candidate (a shape's own before one with a field put in).
    let (explained, _, _, prefix, ambiguities) = scored
        .into_iter()
        .filter(|s| s.0 * 10 >= most * 9)
        .max_by_key(|s| (s.1, s.0, std::cmp::Reverse(s.2)))?;
    // Lines of client sessions: the message names the user or database, or the
    // prefix's own name fields are filled (a log with `log_connections` off, whose
    // messages seldom name anyone).
    let p = Prefix::compile(&prefix);
    let mut cache = TimeCache::default();
    let utc: FixedOffset = Utc.fix();
    let named = sampled
        .iter()
        .filter(|l| {
            let filled = p.matches(l, utc, &mut cache).is_some_and(|m| {
                [m.caps.user, m.caps.db]
                    .into_iter()
                    .flatten()
                    .any(|s| !s.of(l).is_empty())
            });
            filled || sample_line(l).is_some_and(|s| s.msg_user.is_some() || s.msg_db.is_some())
        })
        .count();
    Some(Inference {
        prefix,
        explained,
        sampled: sampled.len(),
        ambiguities,
        named,
    })
}

/// Whether `inf` should read a stderr log that a known prefix also reads: when it is
/// accepted, reads every sampled line the known prefixes read, and splits some of them
/// into other names than they do. A known prefix that swallows more than its fields
/// (pgbadger's `queryid.log`: `%m [%p] %q%u@%d ` reads `[queryid=N] postgres` as the
/// user) is a silent misparse; where the two read alike, the known one stays. Forged
/// names cannot make the inferred prefix win: every line the known prefixes read,
/// benign ones included, must be read by it too.
pub fn refines_known(head: &[u8], inf: &Inference) -> bool {
    if !inf.accepted() || super::prefix::STDERR_CANDIDATES.contains(&inf.prefix.as_str()) {
        return false;
    }
    let utc: FixedOffset = Utc.fix();
    let mut known = super::prefix::PrefixSet::new(None, super::prefix::Candidates::Stderr, utc);
    let p = Prefix::compile(&inf.prefix);
    let mut cache = TimeCache::default();
    let mut differs = false;
    let lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty() && l[0] != b'\t' && l[0] != b' ')
        .take(MAX_SAMPLE);
    for l in lines {
        let Some(k) = known.match_line(l) else {
            continue;
        };
        let Some(m) = p.matches(l, utc, &mut cache) else {
            return false;
        };
        // The same message, and every field the known prefix reads read too: only
        // the division of the prefix's text may differ.
        let has = |c: &super::prefix::Captures| {
            [
                c.time.is_some(),
                c.pid.is_some(),
                c.host.is_some_and(|h| !h.of(l).is_empty()),
                c.user.is_some_and(|h| !h.of(l).is_empty()),
                c.db.is_some_and(|h| !h.of(l).is_empty()),
            ]
        };
        let lacks = has(&k.caps).iter().zip(has(&m.caps)).any(|(k, m)| *k && !m);
        if m.level_pos != k.level_pos || lacks {
            return false;
        }
        let span = |s: Option<super::prefix::Span>| s.map(|s| s.of(l)).filter(|s| !s.is_empty());
        // The server's own fields (time, process, client) read alike; only names differ.
        if k.caps.time.is_some() && m.caps.time != k.caps.time
            || k.caps.pid.is_some() && m.caps.pid != k.caps.pid
            || span(k.caps.host).is_some() && span(m.caps.host) != span(k.caps.host)
        {
            return false;
        }
        let names = |c: &super::prefix::Captures| [c.user, c.db, c.app].map(span);
        differs |= names(&m.caps) != names(&k.caps);
    }
    differs
}

/// How many of `lines` the prefix reads (with a level word after it).
fn explained(prefix: &str, lines: &[&[u8]]) -> usize {
    let p = Prefix::compile(prefix);
    let mut cache = TimeCache::default();
    let utc: FixedOffset = Utc.fix();
    lines
        .iter()
        .filter(|l| p.matches(l, utc, &mut cache).is_some())
        .count()
}

fn sample_line(raw: &[u8]) -> Option<Line<'_>> {
    let end = raw.len().min(MAX_PREFIX + 16);
    let pos = level_pos(&raw[..end])?;
    if pos > MAX_PREFIX {
        return None;
    }
    let prefix = &raw[..pos];
    let (_, n) = level_at(&raw[pos..])?;
    let msg = &raw[pos + n..];
    let (msg_user, msg_db) = message_names(msg);
    Some(Line {
        prefix,
        toks: tokenize(prefix),
        msg_user,
        msg_db,
    })
}

/// Where the level word starts: the first one at a word boundary.
fn level_pos(b: &[u8]) -> Option<usize> {
    let mut from = 0;
    while from < b.len() {
        let p = from + next_level(&b[from..])?;
        if p == 0 || !b[p - 1].is_ascii_alphanumeric() {
            return Some(p);
        }
        from = p + 1;
    }
    None
}

/// The user and database a message names: `connection authorized: user=X database=Y`,
/// `disconnection: ... user=X database=Y`, `... for user "X"`, `role "X" does not
/// exist`, `database "Y" does not exist`.
fn message_names(msg: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    let word_after = |key: &[u8]| -> Option<&[u8]> {
        let i = find(msg, key)?;
        let rest = &msg[i + key.len()..];
        let e = rest.iter().position(|&c| c == b' ').unwrap_or(rest.len());
        Some(&rest[..e]).filter(|w| !w.is_empty())
    };
    let quoted_after = |key: &[u8]| -> Option<&[u8]> {
        let i = find(msg, key)?;
        let rest = &msg[i + key.len()..];
        let e = rest.iter().position(|&c| c == b'"')?;
        Some(&rest[..e]).filter(|w| !w.is_empty())
    };
    if msg.starts_with(b"connection authorized: ") || msg.starts_with(b"disconnection: ") {
        return (word_after(b" user="), word_after(b" database="));
    }
    let user = quoted_after(b" for user \"").or_else(|| {
        msg.starts_with(b"role \"")
            .then(|| quoted_after(b"role \""))
            .flatten()
    });
    let db = msg
        .starts_with(b"database \"")
        .then(|| quoted_after(b"database \""))
        .flatten();
    (user, db)
}

fn find(hay: &[u8], n: &[u8]) -> Option<usize> {
    hay.windows(n.len()).position(|w| w == n)
}

fn word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'.')
}

fn digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

fn hex(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_hexdigit()).count()
}

/// Length of a PostgreSQL time at the start of `b` and whether it has milliseconds.
fn time_len(b: &[u8]) -> Option<(usize, bool)> {
    let shape = b"dddd-dd-dd dd:dd:dd";
    if b.len() < shape.len() {
        return None;
    }
    for (c, s) in b.iter().zip(shape) {
        let ok = match s {
            b'd' => c.is_ascii_digit(),
            b' ' => *c == b' ' || *c == b'T',
            _ => c == s,
        };
        if !ok {
            return None;
        }
    }
    let mut n = shape.len();
    let mut ms = false;
    if b.get(n) == Some(&b'.') && digits(&b[n + 1..]) > 0 {
        n += 1 + digits(&b[n + 1..]);
        ms = true;
    }
    if b.get(n) == Some(&b' ') {
        let z = zone_len(&b[n + 1..]);
        // A zone word, not the next field's word: zones are short and upper case.
        if z > 0 && (b[n + 1] == b'+' || b[n + 1] == b'-' || b[n + 1].is_ascii_uppercase()) {
            let after = b.get(n + 1 + z).copied();
            if after.is_none_or(|c| !word_char(c)) {
                n += 1 + z;
            }
        }
    }
    Some((n, ms))
}

/// Length of an address at the start of `b`: IPv4, or IPv6 (hex digits and colons
/// with `::` or several colons), or 0.
fn addr_len(b: &[u8]) -> usize {
    // IPv4.
    let mut n = 0;
    let mut parts = 0;
    loop {
        let d = digits(&b[n..]);
        if d == 0 || d > 3 {
            break;
        }
        n += d;
        parts += 1;
        if parts == 4 {
            return n;
        }
        if b.get(n) != Some(&b'.') {
            break;
        }
        n += 1;
    }
    // IPv6, not starting with a separator's colon (`UTC:::1(5000)` is `UTC:` `::1`).
    if b.starts_with(b":::") || b.first() == Some(&b':') && b.get(1) != Some(&b':') {
        return 0;
    }
    // `::2026-03-01 09:00:00`: two separators and a time (an empty field between).
    if b.starts_with(b"::") && time_len(&b[2..]).is_some() {
        return 0;
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_hexdigit() || **c == b':' || **c == b'.')
        .count();
    let s = &b[..n];
    let colons = s.iter().filter(|&&c| c == b':').count();
    let hexes = s.iter().filter(|c| c.is_ascii_hexdigit()).count();
    // Not ending in a colon: an address whose host part is all zeros is no client's,
    // and `4100::` is a process id and two separators with an empty field between.
    // Nor two or three groups of decimal digits (and dots) only: `4100::2` or
    // `4100::10.0.0.9` is a process id, an
    // empty field and a line number far more often than a client.
    let groups: Vec<&[u8]> = s.split(|&c| c == b':').filter(|g| !g.is_empty()).collect();
    let decimal = (2..=3).contains(&groups.len())
        && groups
            .iter()
            .all(|g| g.iter().all(|c| c.is_ascii_digit() || *c == b'.'));
    if colons >= 2
        && hexes > 0
        && s.last() != Some(&b':')
        && !decimal
        && (find(s, b"::").is_some() || colons >= 7)
    {
        n
    } else {
        0
    }
}

fn tokenize(p: &[u8]) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut i = 0;
    while i < p.len() && toks.len() < 128 {
        let r = &p[i..];
        let (kind, n) = if let Some((n, ms)) = time_len(r) {
            (Kind::Time(ms), n)
        } else if r.starts_with(b"[local]") {
            (Kind::Local, 7)
        } else if r.starts_with(b"[unknown]") {
            (Kind::Word, 9)
        } else if digits(r) == 10 && r.get(10) == Some(&b'.') && digits(&r[11..]) == 3 {
            (Kind::Epoch, 14)
        } else if let Some(n) = remote_len(r) {
            (Kind::Remote, n)
        } else if addr_len(r) > 0
            && r.get(addr_len(r)).is_none_or(|&c| !word_char(c) && c != b'=')
            // `user0x::0/11`: a name, two separators; an address is not glued to a word.
            && !(r[0] == b':' && i > 0 && word_char(p[i - 1]))
        {
            (Kind::Addr, addr_len(r))
        } else if hex(r) >= 1 && r.get(hex(r)) == Some(&b'.') && hex(&r[hex(r) + 1..]) >= 1 && {
            let n = hex(r) + 1 + hex(&r[hex(r) + 1..]);
            r.get(n).is_none_or(|&c| !word_char(c)) && hex(r) == 8
        } {
            (Kind::Session, hex(r) + 1 + hex(&r[hex(r) + 1..]))
        } else if digits(r) > 0
            && r.get(digits(r)) == Some(&b'/')
            && digits(&r[digits(r) + 1..]) > 0
        {
            (Kind::Vxid, digits(r) + 1 + digits(&r[digits(r) + 1..]))
        } else if let Some(n) = phrase_len(r, BACKEND_TYPES) {
            (Kind::Backend, n)
        } else if let Some(n) = phrase_len(r, ACTIVITIES).or_else(|| command_tag_len(r)) {
            (Kind::Ps, n)
        } else if word_char(r[0]) {
            let n = r.iter().take_while(|&&c| word_char(c)).count();
            if r.get(n) == Some(&b'=') {
                (Kind::Label, n + 1)
            } else if digits(r) == n {
                (Kind::Number, n)
            } else {
                (Kind::Word, n)
            }
        } else {
            (Kind::Punct, 1)
        };
        toks.push(Tok {
            kind,
            start: i,
            end: i + n,
        });
        i += n;
    }
    if i < p.len() {
        toks.push(Tok {
            kind: Kind::Punct,
            start: i,
            end: p.len(),
        });
    }
    toks
}

/// PostgreSQL's backend types (`%b`, `GetBackendTypeDesc` and the parallel and
/// replication workers' names), longest first where one starts another.
const BACKEND_TYPES: &[&str] = &[
    "client backend",
    "not initialized",
    "parallel worker",
    "autovacuum launcher",
    "autovacuum worker",
    "logical replication launcher",
    "logical replication apply worker",
    "logical replication parallel worker",
    "logical replication tablesync worker",
    "logical replication worker",
    "background writer",
    "background worker",
    "standalone backend",
    "slotsync worker",
    "io worker",
    "postmaster",
    "checkpointer",
    "walwriter",
    "walsender",
    "walreceiver",
    "walsummarizer",
    "archiver",
    "startup",
    "logger",
];

/// What `%i` shows of a session between commands (the process title's activity).
const ACTIVITIES: &[&str] = &[
    "idle in transaction (aborted)",
    "idle in transaction",
    "authentication",
    "idle",
];

/// First words of the command tags `%i` shows while a command runs.
const COMMAND_WORDS: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "CREATE",
    "ALTER",
    "DROP",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "START",
    "SET",
    "SHOW",
    "RESET",
    "COPY",
    "VACUUM",
    "ANALYZE",
    "GRANT",
    "REVOKE",
    "TRUNCATE",
    "EXPLAIN",
    "FETCH",
    "MOVE",
    "DECLARE",
    "CLOSE",
    "PREPARE",
    "EXECUTE",
    "DEALLOCATE",
    "LOCK",
    "LISTEN",
    "NOTIFY",
    "UNLISTEN",
    "DISCARD",
    "CLUSTER",
    "REINDEX",
    "REFRESH",
    "COMMENT",
    "SECURITY",
    "IMPORT",
    "CALL",
    "DO",
    "CHECKPOINT",
    "LOAD",
    "SAVEPOINT",
    "RELEASE",
    "PARSE",
    "BIND",
];

/// Length of one of `phrases` at the start of `b`, ending at a word boundary.
fn phrase_len(b: &[u8], phrases: &[&str]) -> Option<usize> {
    phrases
        .iter()
        .map(|p| p.as_bytes())
        .find(|p| b.starts_with(p) && b.get(p.len()).is_none_or(|&c| !word_char(c)))
        .map(<[u8]>::len)
}

/// Length of a command tag at the start of `b`: a command's first word, then any
/// upper-case words (`CREATE TABLE`, `ALTER SYSTEM`, `CREATE TABLE AS`).
fn command_tag_len(b: &[u8]) -> Option<usize> {
    let word = |b: &[u8]| {
        let n = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
        (n > 0 && b.get(n).is_none_or(|&c| !word_char(c))).then_some(n)
    };
    let n = word(b)?;
    if !COMMAND_WORDS.iter().any(|w| w.as_bytes() == &b[..n]) {
        return None;
    }
    let mut end = n;
    while b.get(end) == Some(&b' ') {
        match word(&b[end + 1..]) {
            Some(m) => end += 1 + m,
            None => break,
        }
    }
    Some(end)
}

/// `host(port)`: an address or host name, then a port in parentheses.
fn remote_len(b: &[u8]) -> Option<usize> {
    let a = match addr_len(b) {
        0 => b
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
            .count(),
        n => n,
    };
    if a == 0 || b.get(a) != Some(&b'(') {
        return None;
    }
    let d = digits(&b[a + 1..]);
    (d > 0 && b.get(a + 1 + d) == Some(&b')')).then_some(a + 2 + d)
}

/// A line's shape: its token kinds, with the literal text of punctuation and labels.
fn signature(l: &Line<'_>) -> Vec<u8> {
    let mut s = Vec::new();
    for (i, t) in l.toks.iter().enumerate() {
        match t.kind {
            Kind::Punct | Kind::Label => s.extend_from_slice(l.text(i)),
            k => s.push(match k {
                Kind::Time(true) => 0x01,
                Kind::Time(false) => 0x02,
                Kind::Epoch => 0x03,
                Kind::Remote => 0x04,
                Kind::Addr => 0x05,
                Kind::Local => 0x06,
                Kind::Session => 0x07,
                Kind::Vxid => 0x08,
                Kind::Number => 0x09,
                Kind::Backend => 0x0b,
                Kind::Ps => 0x0c,
                _ => 0x0a,
            }),
        }
        s.push(0);
    }
    s
}

fn label_escape(label: &[u8]) -> Option<&'static str> {
    let l = label
        .strip_suffix(b"=")
        .unwrap_or(label)
        .to_ascii_lowercase();
    Some(match &l[..] {
        b"user" | b"usr" | b"u" | b"username" | b"user_name" | b"role" => "%u",
        b"db" | b"database" | b"dbname" | b"d" | b"database_name" => "%d",
        b"app" | b"appli" | b"application" | b"application_name" | b"appname" | b"a" => "%a",
        b"client" | b"host" | b"remote" | b"ip" | b"h" | b"client_addr" | b"clientip" | b"r" => {
            "%h"
        }
        b"pid" | b"p" => "%p",
        b"session" | b"sess" | b"session_id" | b"c" => "%c",
        b"line" | b"l" => "%l",
        b"xid" | b"txid" | b"tx" | b"x" => "%x",
        b"queryid" | b"query_id" | b"qid" => "%Q",
        b"sqlstate" | b"sql_error_code" | b"e" => "%e",
        b"backend" | b"backend_type" | b"type" | b"b" => "%b",
        b"cmd" | b"command" | b"tag" | b"command_tag" | b"ps" | b"activity" | b"i" => "%i",
        b"leader" | b"leader_pid" | b"parallel_leader" | b"lpid" => "%P",
        _ => return None,
    })
}

/// A SQLSTATE: five digits or upper-case letters.
fn sqlstate(v: &[u8]) -> bool {
    v.len() == 5
        && v.iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

/// The candidate prefix of one group of same-shaped lines, with the choices the lines
/// did not decide.
fn build(
    lines: &[Line<'_>],
    group: &[usize],
    any_remote: bool,
    pids: &BTreeSet<&[u8]>,
) -> (Vec<Piece>, Vec<String>) {
    let first = &lines[group[0]];
    let ntok = first.toks.len();
    let col = |t: usize| -> Vec<&[u8]> { group.iter().map(|&i| lines[i].text(t)).collect() };
    let varies = |t: usize| {
        let c = col(t);
        c.iter().any(|v| *v != c[0])
    };
    let kind = |t: usize| first.toks[t].kind;
    let label_before = |t: usize| -> Option<&'static str> {
        (t > 0 && kind(t - 1) == Kind::Label)
            .then(|| label_escape(first.text(t - 1)))
            .flatten()
    };
    let punct_is = |t: Option<usize>, c: u8| {
        t.is_some_and(|t| t < ntok && kind(t) == Kind::Punct && first.text(t) == [c])
    };

    let mut out: Vec<Option<&'static str>> = vec![None; ntok];
    let mut notes = Vec::new();
    let mut times = 0;
    let mut pid_col = None;
    // Pass 1: fields with a fixed syntax, labelled fields, `%l` beside `-1`.
    for t in 0..ntok {
        let lab = label_before(t);
        out[t] = match kind(t) {
            Kind::Time(ms) => {
                times += 1;
                Some(match (times, ms) {
                    (1, true) => "%m",
                    (1, false) => "%t",
                    _ => "%s",
                })
            }
            Kind::Epoch => {
                // The line's time: a time after it is the session's start.
                times += 1;
                Some("%n")
            }
            Kind::Remote => Some("%r"),
            Kind::Local if any_remote => Some("%r"),
            Kind::Addr | Kind::Local => Some("%h"),
            Kind::Session => Some("%c"),
            Kind::Vxid => Some("%v"),
            Kind::Backend => Some("%b"),
            Kind::Ps => Some("%i"),
            Kind::Label | Kind::Punct => None,
            Kind::Number
                if punct_is(t.checked_sub(1), b'-')
                    && t >= 2
                    && out[t - 2] == Some("%l")
                    && !varies(t) =>
            {
                None
            }
            Kind::Number | Kind::Word if lab.is_some() => lab,
            Kind::Number
                if punct_is(Some(t + 1), b'-')
                    && t + 2 < ntok
                    && kind(t + 2) == Kind::Number
                    && col(t + 2).iter().all(|v| *v == b"1") =>
            {
                Some("%l")
            }
            _ => None,
        };
        if out[t] == Some("%p") {
            pid_col = Some(t);
        }
    }
    // Pass 2: the other numbers. The first is the process id.
    let numbers: Vec<usize> = (0..ntok)
        .filter(|&t| kind(t) == Kind::Number && out[t].is_none())
        .filter(|&t| !(punct_is(t.checked_sub(1), b'-') && t >= 2 && out[t - 2] == Some("%l")))
        .collect();
    for &t in &numbers {
        let c = col(t);
        if c.iter().all(|v| sqlstate(v)) && c.iter().any(|v| *v == b"00000") {
            out[t] = Some("%e");
        } else if pid_col.is_none() && c.iter().any(|v| *v != b"0") {
            // A process id is never 0 (a transaction id is, outside transactions).
            out[t] = Some("%p");
            pid_col = Some(t);
        } else if grows_per_process(lines, group, pid_col, t) {
            out[t] = Some("%l");
        } else if leads(lines, group, pid_col, t, pids) {
            out[t] = Some("%P");
        } else if varies(t) || c.iter().all(|v| *v == b"0") {
            out[t] = Some("%x");
        }
    }
    // Pass 3: names. Unlabelled words that never change are literal text.
    let words: Vec<usize> = (0..ntok)
        .filter(|&t| kind(t) == Kind::Word && out[t].is_none())
        .collect();
    for &t in &words {
        let c = col(t);
        if c.iter().all(|v| sqlstate(v)) && c.iter().any(|v| *v == b"00000") {
            out[t] = Some("%e");
            continue;
        }
        let at_before = punct_is(t.checked_sub(1), b'@');
        let at_after = punct_is(Some(t + 1), b'@');
        if !at_before && !at_after && !varies(t) && group.len() > 1 {
            continue;
        }
        if !at_before && !at_after && !varies(t) && c[0] != b"[unknown]" {
            // One line only: a constant word could be either; it stays literal.
            continue;
        }
        let (u, d) = votes(lines, group, pid_col, t);
        out[t] = Some(if at_after {
            if d > u {
                "%d"
            } else {
                "%u"
            }
        } else if at_before {
            if u > d {
                "%u"
            } else {
                "%d"
            }
        } else if u > d {
            "%u"
        } else if d > u {
            "%d"
        } else {
            "%a"
        });
    }
    // `name@name`: the message text decides the order; else the Debian order.
    for t in 0..ntok.saturating_sub(2) {
        if kind(t) == Kind::Word && punct_is(Some(t + 1), b'@') && kind(t + 2) == Kind::Word {
            let (lu, ld) = votes(lines, group, pid_col, t);
            let (ru, rd) = votes(lines, group, pid_col, t + 2);
            if lu + rd == 0 && ld + ru == 0 {
                notes.push(
                    "no sampled line names its user or database: `name@name` read as \
                     user@database (PostgreSQL's and Debian's order)"
                        .to_string(),
                );
            }
            if ld + ru > lu + rd {
                out[t] = Some("%d");
                out[t + 2] = Some("%u");
            } else {
                out[t] = Some("%u");
                out[t + 2] = Some("%d");
            }
        }
    }
    for &t in &words {
        if out[t] == Some("%a") && label_before(t).is_none() {
            notes.push(format!(
                "column {} (e.g. {:?}) is neither labelled nor named by any message: read as \
                 the application name",
                t + 1,
                String::from_utf8_lossy(first.text(t))
            ));
        }
    }
    let mut pieces: Vec<Piece> = Vec::new();
    for (t, esc) in out.iter().enumerate() {
        match *esc {
            Some(e) => pieces.push(Piece::Esc(e)),
            None => match pieces.last_mut() {
                Some(Piece::Lit(l)) => l.extend_from_slice(first.text(t)),
                _ => pieces.push(Piece::Lit(first.text(t).to_vec())),
            },
        }
        // A name label with nothing after it (`user=,db=`: the server's own lines,
        // or a session before its login) still names its field, empty here.
        if kind(t) == Kind::Label
            && (t + 1 == ntok || matches!(kind(t + 1), Kind::Punct | Kind::Label))
        {
            if let Some(e @ ("%u" | "%d" | "%a" | "%h" | "%i" | "%P")) = label_escape(first.text(t))
            {
                pieces.push(Piece::Esc(e));
            }
        }
    }
    (pieces, notes)
}

/// Whether column `t` grows by one from line to line of the same process.
fn grows_per_process(lines: &[Line<'_>], group: &[usize], pid: Option<usize>, t: usize) -> bool {
    let Some(p) = pid else { return false };
    let mut last: BTreeMap<&[u8], u64> = BTreeMap::new();
    let mut steps = 0;
    for &i in group {
        let num = |b: &[u8]| std::str::from_utf8(b).ok()?.parse::<u64>().ok();
        let Some(v) = num(lines[i].text(t)) else {
            return false;
        };
        if let Some(prev) = last.insert(lines[i].text(p), v) {
            if v <= prev {
                return false;
            }
            steps += 1;
        }
    }
    steps > 0
}

/// Whether column `t` holds a parallel worker's leader (`%P`): on each line another
/// process's id, one that is the process id of lines of its own in the sample.
fn leads(
    lines: &[Line<'_>],
    group: &[usize],
    pid: Option<usize>,
    t: usize,
    pids: &BTreeSet<&[u8]>,
) -> bool {
    let Some(p) = pid else { return false };
    group.iter().all(|&i| {
        let v = lines[i].text(t);
        v != lines[i].text(p) && pids.contains(v)
    })
}

/// The process id's column in a group of same-shaped lines, found as [`build`] finds
/// it: labelled `pid=`, else the first number that is not a line number's `-1`, a
/// SQLSTATE, another label's value or 0 on every line.
fn pid_column(lines: &[Line<'_>], group: &[usize]) -> Option<usize> {
    let first = &lines[group[0]];
    let ntok = first.toks.len();
    let kind = |t: usize| first.toks[t].kind;
    let col = |t: usize| group.iter().map(move |&i| lines[i].text(t));
    let punct_is = |t: usize, c: u8| t < ntok && kind(t) == Kind::Punct && first.text(t) == [c];
    for t in (0..ntok).filter(|&t| kind(t) == Kind::Number) {
        if t > 0 && kind(t - 1) == Kind::Label {
            match label_escape(first.text(t - 1)) {
                Some("%p") => return Some(t),
                Some(_) => continue,
                None => {}
            }
        }
        let line_no = punct_is(t + 1, b'-')
            && t + 2 < ntok
            && kind(t + 2) == Kind::Number
            && col(t + 2).all(|v| v == b"1");
        let one = t >= 2 && punct_is(t - 1, b'-') && kind(t - 2) == Kind::Number;
        let state = col(t).all(sqlstate) && col(t).any(|v| v == b"00000");
        if !line_no && !one && !state && col(t).any(|v| v != b"0") {
            return Some(t);
        }
    }
    None
}

/// How many processes' lines name column `t`'s value as their user, and as their
/// database (each process counted once: one process, such as an attacker's login
/// attempt, cannot outvote the others).
fn votes(lines: &[Line<'_>], group: &[usize], pid: Option<usize>, t: usize) -> (usize, usize) {
    let mut users = BTreeSet::new();
    let mut dbs = BTreeSet::new();
    for &i in group {
        let l = &lines[i];
        let v = l.text(t);
        let key = pid.map(|p| l.text(p)).unwrap_or(v);
        let u = l.msg_user == Some(v);
        let d = l.msg_db == Some(v);
        if u && !d {
            users.insert(key);
        }
        if d && !u {
            dbs.insert(key);
        }
    }
    (users.len(), dbs.len())
}

/// `short` with `%q` and the rest of `long`, when `short`'s pieces start `long`'s (the
/// lines of processes without a session stop at `%q`).
fn with_q(long: &[Piece], short: &[Piece]) -> Option<Vec<Piece>> {
    if short.len() >= long.len() || short.is_empty() {
        return None;
    }
    let n = short.len();
    if short[..n - 1] != long[..n - 1] {
        return None;
    }
    match (&short[n - 1], &long[n - 1]) {
        (Piece::Lit(s), Piece::Lit(l)) if l == s => {}
        _ => return None,
    }
    let mut q = short.to_vec();
    q.push(Piece::Esc("%q"));
    q.extend_from_slice(&long[n..]);
    Some(q)
}

/// Fields that may be empty which other candidates have and candidate `a` lacks,
/// each with the separators around it there (the bytes before and after).
fn missing_fields(
    cands: &[(Vec<Piece>, Vec<String>)],
    a: usize,
) -> Vec<(&'static str, Option<(u8, u8)>)> {
    const EMPTIABLE: [&str; 7] = ["%i", "%P", "%a", "%u", "%d", "%h", "%r"];
    let has = |c: &[Piece], e: &'static str| c.contains(&Piece::Esc(e));
    let around = |c: &[Piece], e: &'static str| {
        let k = c.iter().position(|p| *p == Piece::Esc(e))?;
        match (c.get(k.checked_sub(1)?)?, c.get(k + 1)?) {
            (Piece::Lit(b), Piece::Lit(f)) => Some((*b.last()?, *f.first()?)),
            _ => None,
        }
    };
    EMPTIABLE
        .into_iter()
        .filter(|e| !has(&cands[a].0, e))
        .filter_map(|e| {
            let donor = cands.iter().find(|c| has(&c.0, e))?;
            Some((e, around(&donor.0, e)))
        })
        .collect()
}

/// `pieces` with field `e` put between two separators that meet, once for each such
/// place (at most eight): first between the separators `around` it in another
/// candidate, then where an empty field shows plainly (`[]`, `()`, a separator
/// twice), then any two separators side by side.
fn with_field(pieces: &[Piece], e: &'static str, around: Option<(u8, u8)>) -> Vec<Vec<Piece>> {
    let sep = |c: u8| !c.is_ascii_alphanumeric() && !matches!(c, b'_' | b'=' | b'%');
    let plain = |a: u8, b: u8| {
        a == b
            || matches!(
                (a, b),
                (b'[', b']') | (b'(', b')') | (b'<', b'>') | (b'{', b'}')
            )
    };
    let mut places = Vec::new();
    for (i, p) in pieces.iter().enumerate() {
        let Piece::Lit(l) = p else { continue };
        for j in 1..l.len() {
            let (a, b) = (l[j - 1], l[j]);
            if sep(a) && sep(b) {
                places.push((around != Some((a, b)), !plain(a, b), i, j));
            }
        }
    }
    places.sort();
    places
        .into_iter()
        .take(8)
        .map(|(_, _, i, j)| {
            let Piece::Lit(l) = &pieces[i] else {
                return pieces.to_vec();
            };
            let mut v = pieces[..i].to_vec();
            v.push(Piece::Lit(l[..j].to_vec()));
            v.push(Piece::Esc(e));
            v.push(Piece::Lit(l[j..].to_vec()));
            v.extend_from_slice(&pieces[i + 1..]);
            v
        })
        .collect()
}

fn render(pieces: &[Piece]) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Esc(e) => s.push_str(e),
            Piece::Lit(l) => {
                for c in String::from_utf8_lossy(l).chars() {
                    if c == '%' {
                        s.push('%');
                    }
                    s.push(c);
                }
            }
        }
    }
    s
}

#[cfg(test)]
mod tests;
