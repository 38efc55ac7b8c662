//! PostgreSQL stderr logs with any `log_line_prefix` (RDS included): the format most
//! servers write, and the only one RDS and Aurora offer without extra set-up.
//!
//! PostgreSQL writes one error report contiguously: its first line, then DETAIL/HINT/
//! CONTEXT/STATEMENT lines with the same prefix, each possibly continued on tab-indented
//! lines. The parser holds the report until the next report starts, so a report is one
//! event.

use chrono::{DateTime, Offset, Utc};
use keibi_model::{Action, CompactString, Event, Injection, SourceKind};

use super::message::trust::{self, Claim};
use super::message::{Known, Level, LineText, Origin, Report, Sessions};
use super::prefix::{Candidates, Matched, PrefixSet, Span};
use crate::format::Sample;
use crate::{LineParser, Output, ParseConfig};

/// How sure (0-100) this format is that the sample is written in it: the share of
/// lines that a known prefix and a level word read (continuation lines count when a
/// line before them did).
pub fn sniff(sample: &Sample<'_>) -> u8 {
    sniff_with(sample, None)
}

/// As [`sniff`], with the `log_line_prefix` the user gave (`--pg-prefix`) instead of
/// the common ones.
pub fn sniff_with(sample: &Sample<'_>, prefix: Option<&str>) -> u8 {
    if sample.lines.is_empty() {
        return 0;
    }
    let mut set = PrefixSet::new(prefix, Candidates::Stderr, Utc.fix());
    let mut seen = false;
    let mut hits = 0usize;
    for line in &sample.lines {
        let ok = if line.first() == Some(&b'\t') {
            seen
        } else {
            set.match_line(line).is_some()
        };
        seen |= ok;
        hits += usize::from(ok);
    }
    (hits * 100 / sample.lines.len()) as u8
}

/// Assembles reports from prefixed lines; shared with syslog, whose lines carry the
/// same prefix and message after the syslog header.
pub(crate) struct Reports {
    pub origin: Origin,
    sessions: Sessions,
    pending: Option<Report>,
    /// How the pending report's line was read when a name made it ambiguous.
    pending_fix: Option<Fix>,
}

/// What the pending report needs when it completes, after a name made its line
/// ambiguous: the prefix's user and the literal between user and database (to re-split
/// them by the name the message quotes), and whether the prefix was contradicted.
struct Fix {
    prefix_user: Option<CompactString>,
    sep: CompactString,
    contradicted: bool,
    /// The line read at a later level word than its leftmost split: the prefix up to
    /// it, for the evidence when no single name shows the forgery.
    shifted: Option<String>,
}

/// Most splits of one line judged: a hostile line costs a bounded amount of work.
const MAX_SPLITS: usize = 8;

/// One way to read a line: a prefix split, and the judgement of it.
#[derive(Clone, Copy)]
struct Split {
    m: Matched,
    /// Another level word than the leftmost split's: a name holds a prefix and level.
    shifted: bool,
}

impl Reports {
    pub fn new(origin: Origin) -> Self {
        Reports {
            origin,
            sessions: Sessions::new(),
            pending: None,
            pending_fix: None,
        }
    }

    /// Emits the pending report.
    pub fn flush(&mut self, out: &mut Output) {
        let Some(mut r) = self.pending.take() else {
            return;
        };
        let fix = self.pending_fix.take();
        if !self.sessions.complete(&mut r) {
            return;
        }
        let e = &mut r.event;
        if let Some(fix) = fix {
            refit_names(e, &fix);
            if let Some(value) = fix.shifted.filter(|_| e.injection.is_none()) {
                e.injection = Some(Box::new(Injection {
                    field: "prefix".into(),
                    value,
                    reason:
                        "a name holds a log prefix and level: the line splits more than one way"
                            .into(),
                }));
            }
            if fix.contradicted && matches!(e.action, Action::Statement | Action::LoginSuccess) {
                // Not what the server asserted: a forged line is no login or statement.
                e.action = Action::Other;
            }
        }
        out.events.push(r.event);
    }

    /// The pending report, for continuation text.
    pub fn pending(&mut self) -> Option<&mut Report> {
        self.pending.as_mut()
    }

    /// Drops the pending report: its line turned out to be the first part of a line
    /// cut inside a name, read again joined with the rest.
    pub fn discard_pending(&mut self) {
        self.pending = None;
        self.pending_fix = None;
    }

    /// Whether a report is pending.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Every way to read a line: the prefix's splits (`first`, the leftmost, then
    /// `alts`), each with the other divisions of its user and database.
    fn expand(first: &Matched, alts: &[Matched], line: &[u8]) -> Vec<Split> {
        let mut all = Vec::new();
        for (i, m) in std::iter::once(first).chain(alts).enumerate() {
            let shifted = i > 0;
            all.push(Split { m: *m, shifted });
            divisions(m, line, shifted, &mut all);
            if all.len() >= MAX_SPLITS {
                all.truncate(MAX_SPLITS);
                break;
            }
        }
        all
    }

    /// Whether a part split belongs to the pending report's process.
    fn of_pending(&self, s: &Split, pid: Option<u32>) -> bool {
        self.pending
            .as_ref()
            .is_some_and(|r| match (r.event.pid, s.m.caps.pid.or(pid)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            })
    }

    /// Whether a split is a part of a report: of the pending one, or (for a line
    /// that splits several ways) of a process the log has seen, whose report may have
    /// been emitted already.
    fn continues(&self, s: &Split, pid: Option<u32>, many: bool) -> bool {
        matches!(s.m.level, Level::Part(_))
            && (self.of_pending(s, pid) || many && self.sessions.knows(s.m.caps.pid.or(pid)))
    }

    /// How well a primary split fits what the server asserted (see
    /// [`Sessions::judge`]); `pid` is the process a syslog header names.
    fn score(&self, s: &Split, text: &LineText<'_>, pid: Option<u32>) -> i32 {
        let c = &s.m.caps;
        // Borrowed from the line: this runs for every line.
        let name = |sp: Option<Span>| {
            sp.map(|x| text.cow(x.start(), x.end()))
                .filter(|n| !n.is_empty() && n != "[unknown]")
        };
        let (user, db) = (name(c.user), name(c.db));
        let host = c.host.map(|h| text.cow(h.start(), h.end()));
        let msg = text.cow(s.m.text, usize::MAX);
        let header_differs = matches!((pid, c.pid), (Some(a), Some(b)) if a != b);
        -2 * i32::from(header_differs)
            + self.sessions.judge(&Claim {
                pid: pid.or(c.pid),
                user: user.as_deref(),
                db: db.as_deref(),
                host: host.as_deref(),
                msg: &msg,
            })
    }

    /// The score of a line's best split and where its level word starts, without
    /// reading it: for the caller to compare two readings of the same text.
    pub fn best_score(
        &self,
        first: &Matched,
        alts: &[Matched],
        line: &[u8],
        pid: Option<u32>,
    ) -> Option<(i32, usize)> {
        let text = LineText::new(line);
        let mut best: Option<(i32, usize)> = None;
        for s in Self::expand(first, alts, line) {
            let score = match s.m.level {
                Level::Primary(_) => self.score(&s, &text, pid),
                Level::Part(_) if self.continues(&s, pid, true) => 2,
                Level::Part(_) => continue,
            };
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, s.m.level_pos));
            }
        }
        best
    }

    /// A line that a prefix read, in every way it splits (`first` the leftmost; `alts`
    /// more when a name holds a prefix and level word). `time` is the event time when
    /// the prefix has none or is not to be trusted; `pid` the process when the prefix
    /// has none (syslog's). Returns whether the line's prefix time can be trusted.
    #[allow(clippy::too_many_arguments)]
    pub fn line(
        &mut self,
        first: &Matched,
        alts: &[Matched],
        line: &[u8],
        lineno: u64,
        time: DateTime<Utc>,
        pid: Option<u32>,
        out: &mut Output,
    ) -> bool {
        let text = LineText::new(line);
        let many = !alts.is_empty() || divisible(first, line);
        // One split (nearly every line): no allocation.
        let single = [Split {
            m: *first,
            shifted: false,
        }];
        let expanded;
        let all: &[Split] = if many {
            expanded = Self::expand(first, alts, line);
            &expanded
        } else {
            &single
        };
        // A part of the pending report, unless another split reads a login whose
        // message confirms it.
        let part = all.iter().find(|s| self.continues(s, pid, many));
        if let Some(p) = part {
            let confirmed_primary = many
                && all.iter().any(|s| {
                    if !matches!(s.m.level, Level::Primary(_)) {
                        return false;
                    }
                    let c = &s.m.caps;
                    let user = c.user.and_then(|u| text.known(u.start(), u.end()));
                    let db = c.db.and_then(|d| text.known(d.start(), d.end()));
                    let msg = text.cow(s.m.text, usize::MAX);
                    trust::message_score(&Claim {
                        pid: None,
                        user: user.as_deref(),
                        db: db.as_deref(),
                        host: None,
                        msg: &msg,
                    }) > 0
                });
            if !confirmed_primary {
                if let (Level::Part(part), true) = (p.m.level, self.of_pending(p, pid)) {
                    if let Some(r) = &mut self.pending {
                        r.add_part(part, &text.text_from(p.m.text));
                    }
                }
                return true;
            }
        }
        if !all.iter().any(|s| matches!(s.m.level, Level::Primary(_))) {
            // A part whose report was not seen (the log starts mid-report, another
            // process's line) adds nothing.
            return true;
        }
        self.flush(out);
        // Judged after the flush: the report before may be this process's login.
        let mut best: Option<(i32, &Split)> = None;
        for s in all
            .iter()
            .filter(|s| matches!(s.m.level, Level::Primary(_)))
        {
            let score = self.score(s, &text, pid);
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, s));
            }
        }
        let Some((score, chosen)) = best else {
            return true;
        };
        let chosen = *chosen;
        let m = &chosen.m;
        let Level::Primary(word) = m.level else {
            return true;
        };
        let contradicted = score < 0;
        let msg = text.text_from(m.text);
        // `log_error_verbosity = verbose` starts the message with the SQLSTATE.
        let (code, msg) = split_sqlstate(msg);
        let ptime = if contradicted { None } else { m.caps.time };
        let event = self.origin.event(ptime.unwrap_or(time), lineno);
        let session_client = if contradicted {
            self.sessions.client_of(pid.or(m.caps.pid))
        } else {
            None
        };
        // Built in place: an event is large, and this runs for every line.
        let r = self.pending.insert(Report::new(event));
        r.known = Known {
            client: m.caps.host.is_some() && !contradicted,
            user: m.caps.user.is_some(),
            database: m.caps.db.is_some(),
        };
        let e = &mut r.event;
        e.pid = pid;
        m.caps.fill(&text, e);
        if contradicted {
            // The prefix's client and time are not the process's: the session's are.
            e.client_ip = None;
            e.client_host = None;
            e.client_port = None;
            if let Some(c) = session_client {
                c.fill(e);
            }
        }
        e.level = Some(word.into());
        e.message = Some(msg);
        if let Some(code) = code {
            e.error_code = Some(code);
        }
        if contradicted {
            e.injection = Some(Box::new(Injection {
                field: "prefix".into(),
                value: text.text(0, m.level_pos.min(1024)),
                reason: "prefix contradicts the message or the process's session".into(),
            }));
        }
        if many || contradicted {
            let sep = match (m.caps.user, m.caps.db) {
                (Some(u), Some(d)) if u.end() <= d.start() => text.short(u.end(), d.start()),
                _ => CompactString::default(),
            };
            self.pending_fix = Some(Fix {
                prefix_user: m.caps.user.and_then(|u| text.known(u.start(), u.end())),
                sep,
                contradicted,
                shifted: chosen.shifted.then(|| text.text(0, m.level_pos.min(1024))),
            });
        }
        !contradicted
    }
}

/// Whether the user and database fields of a split can be divided another way: the
/// literal between them occurs again in their text (`rdsadmin@x@shop`).
fn divisible(m: &Matched, line: &[u8]) -> bool {
    match (m.caps.user, m.caps.db) {
        (Some(u), Some(d)) if u.end() < d.start() && d.start() - u.end() <= 8 => {
            let sep = &line[u.end()..d.start()];
            let region = &line[u.start()..d.end()];
            occurrences(region, sep).nth(1).is_some()
        }
        _ => false,
    }
}

/// Where `sep` occurs in `region`, left to right and not overlapping (as
/// `memchr::memmem::find_iter`), without a searcher's set-up for each line: the region
/// is two names, the separator a byte or a few.
fn occurrences<'a>(region: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let mut from = 0;
    std::iter::from_fn(move || {
        let (&first, rest) = sep.split_first()?;
        loop {
            let i = from + region.get(from..)?.iter().position(|c| *c == first)?;
            if region[i + 1..].starts_with(rest) {
                from = i + sep.len();
                return Some(i);
            }
            from = i + 1;
        }
    })
}

/// The other divisions of a split's user and database at the literal between them.
fn divisions(m: &Matched, line: &[u8], shifted: bool, out: &mut Vec<Split>) {
    let (Some(u), Some(d)) = (m.caps.user, m.caps.db) else {
        return;
    };
    if u.end() >= d.start() || d.start() - u.end() > 8 {
        return;
    }
    let sep = &line[u.end()..d.start()];
    let region = &line[u.start()..d.end()];
    for at in occurrences(region, sep) {
        let end = u.start() + at;
        if end == u.end() {
            continue;
        }
        if out.len() >= MAX_SPLITS {
            return;
        }
        let mut alt = *m;
        alt.caps.user = Some(Span::new(u.start(), end));
        alt.caps.db = Some(Span::new(end + sep.len(), d.end()));
        out.push(Split { m: alt, shifted });
    }
}

/// After the message was read: when it named another user than the prefix (the quoted
/// name of a failed login holds the literal between user and database), the database
/// is what follows that name in the prefix.
fn refit_names(e: &mut Event, fix: &Fix) {
    let (Some(pu), Some(user), Some(db)) = (&fix.prefix_user, &e.user, &e.database) else {
        return;
    };
    if fix.sep.is_empty() || pu == user || !user.starts_with(pu.as_str()) {
        return;
    }
    // prefix user + sep + prefix db == user + sep + real db.
    let extra = &user[pu.len()..];
    let Some(rest) = extra.strip_prefix(fix.sep.as_str()) else {
        return;
    };
    let Some(real) = db
        .strip_prefix(rest)
        .and_then(|r| r.strip_prefix(fix.sep.as_str()))
    else {
        return;
    };
    e.database = Some(real.into());
}

/// Splits `28P01: message` (the SQLSTATE that `log_error_verbosity = verbose` writes
/// first) into the code and the message. Every SQLSTATE has a digit, which tells it
/// from a message's own first word (`AUDIT: `).
fn split_sqlstate(mut msg: String) -> (Option<CompactString>, String) {
    let b = msg.as_bytes();
    let is_code = b.len() >= 7
        && b[5..7] == *b": "
        && b[..5]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && b[..5].iter().any(u8::is_ascii_digit);
    if !is_code {
        return (None, msg);
    }
    let code = (&b[..5] != b"00000").then(|| CompactString::from(&msg[..5]));
    msg.replace_range(..7, "");
    (code, msg)
}

/// Reads stderr logs line by line (see the module documentation).
pub struct StderrParser {
    prefixes: PrefixSet,
    reports: Reports,
    /// Time of the last line that had one, for prefixes without a time escape.
    last_time: Option<DateTime<Utc>>,
    /// Lines no prefix read, held for one line: PostgreSQL writes a line break in a
    /// name as it is, so a line cut inside a name continues on the next physical line,
    /// which then starts with whatever the name held (even a whole forged prefix).
    held: Vec<u8>,
    held_lines: Vec<u64>,
    /// The line before, when a prefix read it as the start of the pending report: a
    /// name with a line break can make it a whole forged line, and the line after it
    /// then only makes sense joined to it.
    prev: Vec<u8>,
    prev_line: Option<u64>,
}

/// Longest text held as the start of a line cut inside a name (a prefix and two
/// 63-byte names, with room), and most lines it may span.
const MAX_HELD: usize = 1024;
const MAX_HELD_LINES: usize = 8;

/// Other splits of a line judged at most.
pub(crate) const MAX_ALTERNATIVES: usize = 3;

/// Whether a matched line may split another way: its message holds a level word (a
/// name before it may hold a prefix and level), or it was joined across a line break.
pub(crate) fn second_look(line: &[u8], m: &Matched) -> bool {
    // A level word is followed by a colon and two spaces: looking for that rules out
    // nearly every message. Messages have few colons, so stepping from colon to colon
    // costs less than a substring search's set-up.
    line.get(m.text..).is_some_and(|msg| {
        memchr::memchr_iter(b':', msg).any(|c| msg[c + 1..].starts_with(b"  "))
            && crate::postgres::prefix::next_level(msg).is_some()
    })
}

impl StderrParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        StderrParser {
            prefixes: PrefixSet::new(
                cfg.pg_prefix.as_deref(),
                Candidates::Stderr,
                cfg.local_offset,
            ),
            reports: Reports::new(Origin::new(cfg, SourceKind::PostgresStderr)),
            last_time: None,
            held: Vec::new(),
            held_lines: Vec::new(),
            prev: Vec::new(),
            prev_line: None,
        }
    }

    fn release_held(&mut self, out: &mut Output) {
        for l in self.held_lines.drain(..) {
            out.unrecognized(l, self.prefixes.mismatch_reason());
        }
        self.held.clear();
    }

    fn alternatives(&mut self, line: &[u8], m: &Matched) -> Vec<Matched> {
        if second_look(line, m) {
            self.prefixes.alternatives(line, m, MAX_ALTERNATIVES)
        } else {
            Vec::new()
        }
    }

    fn matched(&mut self, m: Matched, line: &[u8], lineno: u64, out: &mut Output) {
        let alts = self.alternatives(line, &m);
        // A contradicted line takes the time of the last line the server is trusted to
        // have written; the first line of a file has none before it, and its own
        // prefix time (written by the server before any name) beats the epoch.
        let time = self
            .last_time
            .or(m.caps.time)
            .unwrap_or(DateTime::UNIX_EPOCH);
        let trusted = self.reports.line(&m, &alts, line, lineno, time, None, out);
        if trusted && m.caps.time.is_some() {
            self.last_time = m.caps.time;
        }
        self.prev_line = None;
        if matches!(m.level, Level::Primary(_)) && self.reports.has_pending() {
            self.prev.clear();
            self.prev
                .extend_from_slice(&line[..line.len().min(MAX_HELD)]);
            if line.len() <= MAX_HELD {
                self.prev_line = Some(lineno);
            }
        }
    }

    /// Whether `line` (read as `m`, or by no prefix) is the rest of the line before,
    /// cut inside a name: the two joined read better than `line` alone. Then the
    /// pending report (the line before, alone) was a forgery; reads the joined line.
    fn rejoin(&mut self, m: Option<&Matched>, line: &[u8], out: &mut Output) -> bool {
        let Some(first) = self.prev_line else {
            return false;
        };
        let alone = match m {
            None => None,
            Some(m) => {
                // Only a login line can be the rest of a name (the name is the one
                // the login quotes); anything else is judged as it stands.
                let msg = line.get(m.text..).unwrap_or_default();
                if !trust::is_login(msg) {
                    return false;
                }
                // Cheap first: a login whose message agrees with its own prefix is
                // not the rest of a name.
                let text = LineText::new(line);
                let name = |sp: Option<Span>| {
                    sp.map(|x| text.cow(x.start(), x.end()))
                        .filter(|n| !n.is_empty() && n != "[unknown]")
                };
                let msg = text.cow(m.text, usize::MAX);
                let own = trust::message_score(&Claim {
                    pid: None,
                    user: name(m.caps.user).as_deref(),
                    db: name(m.caps.db).as_deref(),
                    host: None,
                    msg: &msg,
                });
                if own >= 0 {
                    return false;
                }
                let alts = self.alternatives(line, m);
                match self.reports.best_score(m, &alts, line, None) {
                    Some((s, _)) if s < 0 => Some(s),
                    _ => return false,
                }
            }
        };
        let mut joined = std::mem::take(&mut self.prev);
        let cut = joined.len();
        joined.push(b'\n');
        joined.extend_from_slice(line);
        let reading = self.prefixes.match_locked(&joined).and_then(|j| {
            let alts = self.alternatives(&joined, &j);
            let score = self.reports.best_score(&j, &alts, &joined, None)?;
            Some((j, score))
        });
        // The joined reading's level word must be on this line: the line before was
        // cut inside a name, not followed by its own continuation.
        let better = reading.filter(|(_, (score, at))| {
            *at > cut && *score >= 0 && alone.is_none_or(|a| *score > a)
        });
        let done = if let Some((j, _)) = better {
            self.reports.discard_pending();
            self.matched(j, &joined, first, out);
            true
        } else {
            false
        };
        joined.clear();
        if self.prev.is_empty() {
            self.prev = joined;
        }
        done
    }
}

impl LineParser for StderrParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        if line.first() == Some(&b'\t') {
            self.release_held(out);
            self.prev_line = None;
            if let Some(r) = self.reports.pending() {
                // Borrowed when valid UTF-8: statements run over many such lines.
                r.extend(&String::from_utf8_lossy(&line[1..]), true);
            }
            return;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if !self.held.is_empty() {
            // The line before was cut inside a name: this one finishes it, whatever
            // prefix it seems to start with.
            let mut joined = std::mem::take(&mut self.held);
            joined.push(b'\n');
            joined.extend_from_slice(line);
            if let Some(m) = self.prefixes.match_locked(&joined) {
                let first = self.held_lines[0];
                self.held_lines.clear();
                self.matched(m, &joined, first, out);
                joined.clear();
                self.held = joined;
                return;
            }
            // A name with several line breaks: still inside it.
            if joined.len() <= MAX_HELD
                && self.held_lines.len() < MAX_HELD_LINES
                && self.prefixes.cut_in_name(&joined)
                && self.prefixes.match_line(line).is_none()
            {
                self.held = joined;
                self.held_lines.push(lineno);
                return;
            }
            joined.clear();
            self.held = joined;
            self.release_held(out);
        }
        let m = self.prefixes.match_line(line);
        if self.prev_line.is_some() && self.rejoin(m.as_ref(), line, out) {
            return;
        }
        self.prev_line = None;
        let Some(m) = m else {
            if line.len() <= MAX_HELD && self.prefixes.cut_in_name(line) {
                self.held.extend_from_slice(line);
                self.held_lines.push(lineno);
            } else {
                out.unrecognized(lineno, self.prefixes.mismatch_reason());
            }
            return;
        };
        self.matched(m, line, lineno, out);
    }

    fn finish(&mut self, out: &mut Output) {
        self.release_held(out);
        self.reports.flush(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::parse_bytes;
    use crate::Format;
    use keibi_model::event::StatementClass;
    use keibi_model::{Action, Event};

    const RDS: &[u8] = include_bytes!("../../tests/data/postgres/postgresql-rds-prefix.log");
    const HYDRA: &[u8] =
        include_bytes!("../../tests/data/postgres/postgresql-hydra-bruteforce.log");

    const IPV6: &[u8] = include_bytes!("../../tests/data/postgres/postgresql-ipv6-client.log");

    fn run(cfg: &ParseConfig, bytes: &[u8]) -> Output {
        let out = parse_bytes(Format::PostgresStderr, cfg, bytes, 4096);
        // Chunk boundaries carry no meaning.
        let small = parse_bytes(Format::PostgresStderr, cfg, bytes, 7);
        assert_eq!(out.events, small.events);
        out
    }

    fn parse(text: &str) -> Output {
        run(&ParseConfig::new("t.log"), text.as_bytes())
    }

    fn with_prefix(prefix: &str, text: &str) -> Output {
        let mut cfg = ParseConfig::new("t.log");
        cfg.pg_prefix = Some(prefix.to_string());
        run(&cfg, text.as_bytes())
    }

    fn actions(events: &[Event]) -> Vec<Action> {
        events.iter().map(|e| e.action).collect()
    }

    #[test]
    fn ipv6_clients_sample() {
        let out = run(&ParseConfig::new("ipv6.log"), IPV6);
        assert_eq!(out.unrecognized_lines(), 0, "{:?}", out.problems);
        let of = |a: Action| out.events.iter().filter(move |e| e.action == a);
        let failures: Vec<&Event> = of(Action::LoginFailure).collect();
        assert_eq!(failures.len(), 5);
        let ports: Vec<u16> = failures.iter().filter_map(|e| e.client_port).collect();
        assert_eq!(ports, [54424, 54428, 54436, 54456, 50990]);
        let v6: std::net::IpAddr = "::1".parse().unwrap();
        assert!(failures.iter().all(|e| e.client_ip == Some(v6)));
        // The other login is the set-up over the Unix socket (`[local]`).
        let logins: Vec<&Event> = of(Action::LoginSuccess)
            .filter(|e| e.client_ip.is_some())
            .collect();
        assert_eq!(logins.len(), 1);
        assert_eq!(
            (
                logins[0].client_ip,
                logins[0].client_port,
                logins[0].user.as_deref()
            ),
            (Some(v6), Some(54444), Some("postgres"))
        );
    }

    #[test]
    fn hydra_bruteforce_sample() {
        let out = run(&ParseConfig::new("hydra.log"), HYDRA);
        assert_eq!(out.unrecognized_lines(), 0, "{:?}", out.problems);
        assert!(out.problems.is_empty());
        let count = |a: Action| out.events.iter().filter(|e| e.action == a).count();
        let failures: Vec<&Event> = out
            .events
            .iter()
            .filter(|e| e.action == Action::LoginFailure)
            .collect();
        assert_eq!(failures.len(), 4);
        for f in &failures {
            assert_eq!(f.user.as_deref(), Some("app"));
            assert_eq!(f.database.as_deref(), Some("template1"));
            assert_eq!(f.client_ip, Some("127.0.0.1".parse().unwrap()));
            assert_eq!(f.error_code.as_deref(), Some("28P01"));
            // The DETAIL names the pg_hba.conf line, and so the method.
            assert_eq!(f.auth_method.as_deref(), Some("scram-sha-256"));
            assert!(f
                .detail
                .as_deref()
                .unwrap()
                .starts_with("Connection matched pg_hba.conf line 87"));
            assert_eq!(f.level.as_deref(), Some("FATAL"));
        }
        assert_eq!(failures[0].line, 5);
        assert_eq!(failures[0].pid, Some(8002));
        assert_eq!(failures[0].client_port, Some(40124));
        assert_eq!(count(Action::ConnectionReceived), 10);
        assert_eq!(count(Action::LoginSuccess), 1);
        assert_eq!(count(Action::Disconnect), 1);
        assert_eq!(out.events.len(), 16);
        let ok = out
            .events
            .iter()
            .find(|e| e.action == Action::LoginSuccess)
            .unwrap();
        assert_eq!(ok.user.as_deref(), Some("app"));
        assert_eq!(ok.auth_method.as_deref(), Some("scram-sha-256"));
        assert_eq!(ok.tls, Some(false));
        assert_eq!(ok.time.to_rfc3339(), "2026-11-28T15:41:43+00:00");
        // Events come out in line order.
        assert!(out.events.windows(2).all(|w| w[0].line < w[1].line));
    }

    #[test]
    fn rds_prefix_sample() {
        let out = run(&ParseConfig::new("rds.log"), RDS);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let a = actions(&out.events);
        use Action::*;
        assert_eq!(
            a,
            vec![
                Other,
                Other,
                Other,
                Other,
                Other,
                Other,
                ConnectionReceived,
                LoginSuccess,
                Statement,
                Disconnect,
                ConnectionReceived,
                LoginFailure,
                ConnectionReceived,
                LoginFailure,
                ConnectionReceived,
                LoginSuccess,
                Statement,
                Statement,
                Disconnect,
                ConnectionReceived,
                LoginSuccess,
                Statement,
                Disconnect,
                ConnectionReceived,
                LoginSuccess,
                LoginFailure,
            ]
        );
        let e = &out.events[0];
        assert_eq!(e.message.as_deref(), Some("pgaudit extension initialized"));
        assert_eq!((e.user.as_ref(), e.pid), (None, Some(5916)));
        // The first audit record: quoted statement with a comma.
        let st = out.events[8].statement.as_deref().unwrap();
        assert_eq!(st.text, "SELECT id, email FROM customers WHERE id = 1");
        assert_eq!(st.class, Some(StatementClass::Read));
        assert_eq!(st.audit_type.as_deref(), Some("SESSION"));
        assert_eq!(out.events[8].user.as_deref(), Some("app"));
        // The DETAIL with a tab-indented second line belongs to its failure.
        let f = &out.events[13];
        assert_eq!(f.user.as_deref(), Some("nosuchuser"));
        assert_eq!(f.line, 16);
        assert_eq!(
            f.detail.as_deref(),
            Some("Role \"nosuchuser\" does not exist.\nConnection matched pg_hba.conf line 87: \"host    all             all             127.0.0.1/32            scram-sha-256\"")
        );
        // GRANT is a ROLE statement.
        let g = &out.events[21];
        assert_eq!(
            g.statement.as_deref().unwrap().class,
            Some(StatementClass::Role)
        );
        assert_eq!(g.user.as_deref(), Some("postgres"));
        let last = out.events.last().unwrap();
        assert_eq!(last.error_code.as_deref(), Some("3D000"));
        assert_eq!(last.database.as_deref(), Some("nosuchdb"));
        // The connection-received line has `[unknown]` for the user: not kept.
        assert_eq!(out.events[6].user, None);
        assert_eq!(out.events[6].client_port, Some(34292));
    }

    #[test]
    fn debian_prefix_local_and_ipv6() {
        let out = parse(concat!(
            "2026-11-28 15:41:22.101 UTC [900] LOG:  database system is ready to accept connections\n",
            "2026-11-28 15:41:22.201 UTC [901] [unknown]@[unknown] LOG:  connection received: host=[local]\n",
            "2026-11-28 15:41:22.202 UTC [901] bob@shop LOG:  connection authorized: user=bob database=shop application_name=psql\n",
            "2026-11-28 15:41:22.301 UTC [902] [unknown]@[unknown] LOG:  connection received: host=::1 port=51000\n",
            "2026-11-28 15:41:22.302 UTC [902] eve@shop FATAL:  password authentication failed for user \"eve\"\n",
            "2026-11-28 15:41:22.302 UTC [902] eve@shop DETAIL:  Connection matched file \"/etc/postgresql/16/main/pg_hba.conf\" line 128: \"host all all ::1/128 md5\"\n",
            "2026-11-28 15:41:22.401 UTC [901] bob@shop ERROR:  relation \"nope\" does not exist at character 15\n",
            "2026-11-28 15:41:22.401 UTC [901] bob@shop STATEMENT:  select * from nope\n",
            "\twhere a = 1;\n",
        ));
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let a = actions(&out.events);
        use Action::*;
        assert_eq!(
            a,
            vec![
                Other,
                ConnectionReceived,
                LoginSuccess,
                ConnectionReceived,
                LoginFailure,
                Other
            ]
        );
        assert_eq!(out.events[1].client_host.as_deref(), Some("[local]"));
        assert_eq!(out.events[2].user.as_deref(), Some("bob"));
        assert_eq!(out.events[2].application.as_deref(), Some("psql"));
        assert_eq!(out.events[3].client_ip, Some("::1".parse().unwrap()));
        assert_eq!(out.events[3].client_port, Some(51000));
        assert_eq!(out.events[4].auth_method.as_deref(), Some("md5"));
        let err = &out.events[5];
        let st = err.statement.as_deref().unwrap();
        assert_eq!(st.text, "select * from nope\nwhere a = 1;");
        assert_eq!(st.class, Some(StatementClass::Read));
        assert_eq!(err.time.to_rfc3339(), "2026-11-28T15:41:22.401+00:00");
    }

    #[test]
    fn rds_ipv6_local_ssl_and_no_pg_hba() {
        let out = parse(concat!(
            "2026-11-28 15:41:22 UTC:2001:db8::1(5432):[unknown]@[unknown]:[10]:LOG:  connection received: host=2001:db8::1 port=5432\n",
            "2026-11-28 15:41:22 UTC:2001:db8::1(5432):app@shop:[10]:LOG:  connection authorized: user=app database=shop application_name=psql SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)\n",
            "2026-11-28 15:41:22 UTC:[local]:postgres@postgres:[11]:LOG:  connection authorized: user=postgres database=postgres\n",
            "2020-03-11 20:40:50 CET:192.168.1.201(50906):gilles@pgbench:[12795]:FATAL:  no pg_hba.conf entry for host \"192.168.1.201\", user \"gilles\", database \"pgbench\", SSL on\n",
            "2026-11-28 15:41:22 UTC:10.0.0.5(40000):[unknown]@[unknown]:[13]:LOG:  incomplete startup packet\n",
        ));
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let e = &out.events[0];
        assert_eq!(e.client_ip, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(e.client_port, Some(5432));
        let e = &out.events[1];
        assert_eq!((e.action, e.tls), (Action::LoginSuccess, Some(true)));
        assert_eq!(e.client_ip, Some("2001:db8::1".parse().unwrap()));
        let e = &out.events[2];
        assert_eq!(e.client_host.as_deref(), Some("[local]"));
        assert_eq!(e.tls, Some(false));
        let e = &out.events[3];
        assert_eq!(e.action, Action::LoginFailure);
        assert_eq!(e.error_code.as_deref(), Some("28000"));
        assert_eq!(e.client_ip, Some("192.168.1.201".parse().unwrap()));
        assert_eq!(e.time.to_rfc3339(), "2020-03-11T19:40:50+00:00");
        assert_eq!(out.events[4].action, Action::Probe);
    }

    #[test]
    fn pgaudit_statement_across_continuation_lines() {
        let out = parse(concat!(
            "2026-11-28 15:41:22 UTC:127.0.0.1(1):app@shop:[5]:LOG:  AUDIT: SESSION,4,1,WRITE,INSERT,,,\"INSERT INTO notes (a, b) VALUES ('x, y', \"\"quoted\"\"),\n",
            "\t('second\n",
            "\tline')\",<not logged>\n",
            "2026-11-28 15:41:23 UTC:127.0.0.1(1):app@shop:[5]:LOG:  disconnection: session time: 0:00:01.000 user=app database=shop host=127.0.0.1 port=1\n",
        ));
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.events.len(), 2);
        let e = &out.events[0];
        assert_eq!(e.action, Action::Statement);
        let st = e.statement.as_deref().unwrap();
        assert_eq!(
            st.text,
            "INSERT INTO notes (a, b) VALUES ('x, y', \"quoted\"),\n('second\nline')"
        );
        assert_eq!(st.class, Some(StatementClass::Write));
        assert_eq!(st.command.as_deref(), Some("INSERT"));
    }

    #[test]
    fn explicit_prefix_with_sqlstate_and_session() {
        let out = with_prefix(
            "%m %c %e [%p] %q%u@%d/%a ",
            concat!(
                "2026-11-28 15:41:22.123 UTC 6b0af627.1782 00000 [6018] LOG:  checkpoint starting: time\n",
                "2026-11-28 15:41:22.123 UTC 6b0af627.1783 28P01 [6019] app@shop/my app FATAL:  password authentication failed for user \"app\"\n",
                "not a log line\n",
            ),
        );
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[0].error_code, None);
        assert_eq!(out.events[0].session_id.as_deref(), Some("6b0af627.1782"));
        let e = &out.events[1];
        assert_eq!(e.error_code.as_deref(), Some("28P01"));
        assert_eq!(e.application.as_deref(), Some("my app"));
        assert_eq!(out.problems.len(), 1);
        assert_eq!(out.problems[0].line, 3);
        assert!(
            out.problems[0].reason.contains("%m %c %e"),
            "{}",
            out.problems[0].reason
        );
    }

    #[test]
    fn default_prefix_carries_client_and_user_per_process() {
        // PostgreSQL's own default `%m [%p] `: neither client nor user in the prefix.
        let out = parse(concat!(
            "2026-11-28 15:41:22.100 UTC [31] LOG:  connection received: host=198.51.100.7 port=40000\n",
            "2026-11-28 15:41:22.101 UTC [32] LOG:  connection received: host=198.51.100.8 port=40001\n",
            "2026-11-28 15:41:22.102 UTC [31] LOG:  connection authorized: user=app database=shop application_name=psql\n",
            "2026-11-28 15:41:22.103 UTC [32] FATAL:  password authentication failed for user \"admin\"\n",
            "2026-11-28 15:41:22.104 UTC [31] LOG:  statement: DELETE FROM orders\n",
            "2026-11-28 15:41:22.105 UTC [31] LOG:  disconnection: session time: 0:00:00.005 user=app database=shop host=198.51.100.7 port=40000\n",
            // The pid is reused by a new process: nothing carries over.
            "2026-11-28 15:41:23.000 UTC [31] LOG:  statement: SELECT 1\n",
        ));
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let e = &out.events;
        assert_eq!(e[2].action, Action::LoginSuccess);
        assert_eq!(e[2].client_ip, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(e[2].client_port, Some(40000));
        assert_eq!(e[3].action, Action::LoginFailure);
        assert_eq!(e[3].client_ip, Some("198.51.100.8".parse().unwrap()));
        assert_eq!(e[3].user.as_deref(), Some("admin"));
        assert_eq!(e[4].action, Action::Statement);
        assert_eq!(e[4].user.as_deref(), Some("app"));
        assert_eq!(e[4].database.as_deref(), Some("shop"));
        assert_eq!(e[4].application, None);
        assert_eq!(e[4].client_ip, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(e[6].user, None);
        assert_eq!(e[6].client_ip, None);
    }

    #[test]
    fn verbose_error_messages() {
        // `log_error_verbosity = verbose`: the SQLSTATE starts the message, and LOCATION
        // lines follow (captured from PostgreSQL 15).
        let out = parse(concat!(
            "2026-11-30 21:06:48.237 UTC [29348] app@shop FATAL:  28P01: password authentication failed for user \"app\"\n",
            "2026-11-30 21:06:48.237 UTC [29348] app@shop DETAIL:  Connection matched pg_hba.conf line 89: \"host    all             all             ::1/128                 scram-sha-256\"\n",
            "2026-11-30 21:06:48.237 UTC [29348] app@shop LOCATION:  auth_failed, auth.c:334\n",
            "2026-11-30 21:06:48.196 UTC [29346] app@shop LOG:  00000: AUDIT: SESSION,1,1,DDL,CREATE TABLE,,,\"CREATE TABLE t (id int, note text);\",<not logged>\n",
            "2026-11-30 21:06:48.196 UTC [29346] app@shop LOCATION:  log_audit_event, pgaudit.c:783\n",
            "2026-11-30 21:06:48.197 UTC [29346] app@shop LOG:  AUDIT: SESSION,2,1,READ,SELECT,,,SELECT 1,<not logged>\n",
        ));
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let f = &out.events[0];
        assert_eq!(f.action, Action::LoginFailure);
        assert_eq!(
            f.message.as_deref(),
            Some("password authentication failed for user \"app\"")
        );
        assert_eq!(f.error_code.as_deref(), Some("28P01"));
        assert_eq!(f.auth_method.as_deref(), Some("scram-sha-256"));
        assert!(!f.detail.as_deref().unwrap().contains("auth.c"));
        let a = &out.events[1];
        assert_eq!(
            (a.action, a.error_code.as_deref()),
            (Action::Statement, None)
        );
        assert_eq!(
            a.statement.as_deref().unwrap().command.as_deref(),
            Some("CREATE TABLE")
        );
        assert_eq!(out.events[2].action, Action::Statement);
    }

    #[test]
    fn relocks_onto_another_candidate() {
        let out = parse(concat!(
            "2026-11-28 15:41:22 UTC [5]: [1-1] user=a,db=b,app=c,client=10.0.0.1 LOG:  connection authorized: user=a database=b\n",
            "2026-11-28 15:41:22 UTC-6b0af627.1782-LOG:  checkpoint starting: time\n",
            "< 2026-11-28 15:41:22.000 UTC >LOG:  x\n",
            "2026-11-28 15:41:22.000 UTC [7] 10.0.0.2 u@d FATAL:  role \"u\" does not exist\n",
        ));
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let a = actions(&out.events);
        assert_eq!(
            a,
            vec![
                Action::LoginSuccess,
                Action::Other,
                Action::Other,
                Action::LoginFailure
            ]
        );
        assert_eq!(out.events[0].client_ip, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(out.events[1].session_id.as_deref(), Some("6b0af627.1782"));
        assert_eq!(out.events[3].client_ip, Some("10.0.0.2".parse().unwrap()));
    }

    #[test]
    fn hostile_lines_never_panic() {
        let mut input: Vec<u8> = Vec::new();
        input.extend_from_slice(b"2026-11-28 15:41:22 UTC:127.0.0.1(1):\xff\xfe@shop:[5]:LOG:  statement: select '\xc3\x28'\n");
        input.extend_from_slice(b"2026-11-28 15:41:22 UTC:127.0.0.1(1):app@shop:[5]:\n");
        input.extend_from_slice(b"2026-11-28 15:41:22 UTC:127.0.0.1(1):app@sh\n");
        input.extend_from_slice(b"2026-11-28 15:4\n");
        input.extend_from_slice(b"\t\n\n   \n");
        input.extend_from_slice(
            b"2026-11-28 15:41:22 UTC:127.0.0.1(99999999999999):a@b:[99999999999]:LOG:  x\n",
        );
        input.extend_from_slice(
            b"2026-11-28 15:41:22 UTC:127.0.0.1(1):app@shop:[5]:LOG:  statement: select '",
        );
        input.extend(std::iter::repeat_n(b'x', 100_000));
        input.extend_from_slice(b"'\n");
        for _ in 0..3000 {
            input.extend_from_slice(b"\tand more\n");
        }
        input.extend_from_slice(
            b"2026-11-28 15:41:22 UTC:127.0.0.1(1):app@shop:[5]:STATEMENT:  orphan? no, attached\n",
        );
        let out = parse(std::str::from_utf8(&input).unwrap_or(&String::from_utf8_lossy(&input)));
        let out2 = run(&ParseConfig::new("t.log"), &input);
        assert_eq!(out.events.len(), out2.events.len());
        let out = out2;
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[0].user.as_deref(), Some("\u{fffd}\u{fffd}"));
        let big = &out.events[1];
        assert_eq!(
            big.statement.as_deref().unwrap().text.len(),
            100_000 + 3000 * 9 + 9
        );
        // The prefix-only, truncated and out-of-range lines are unrecognized.
        assert_eq!(out.unrecognized_lines(), 4, "{:?}", out.problems);
    }

    #[test]
    fn sniff_claims_stderr_only() {
        use crate::format::Sample;
        let s = |b: &[u8]| sniff(&Sample::new(b, true));
        assert_eq!(s(RDS), 100);
        assert_eq!(s(HYDRA), 100);
        assert_eq!(
            s(include_bytes!(
                "../../tests/data/postgres/postgresql-jsonlog.json"
            )),
            0
        );
        assert_eq!(
            s(b"2026-11-28 15:41:22 0 [Note] Starting MariaDB 10.11.6\n"),
            0
        );
        assert_eq!(
            s(b"2026-11-28T15:41:22.123456Z 0 [System] [MY-010116] [Server] mysqld\n"),
            0
        );
        assert_eq!(s(b"2026-11-28 15:41:22.123 UTC,\"app\",\"shop\",5,\"127.0.0.1:1\",6b0af627.5,1,\"idle\",2026-11-28 15:41:22 UTC,3/1,0,LOG,00000,\"x\",,,,,,,,,\"psql\",\"client backend\",,0\n"), 0);
        assert_eq!(s(b"Nov 28 15:41:22 host postgres[5]: [1-1] LOG:  x\n"), 0);
    }

    /// Throughput on RDS-prefixed lines: `cargo test --release -p keibi-parse -- --ignored
    /// --nocapture stderr_throughput`.
    #[test]
    #[ignore]
    fn stderr_throughput() {
        let mut input = Vec::new();
        let mut i = 0u32;
        // `KEIBI_BENCH_FILE=path` measures a log of one's own (e.g. from keibi-gen).
        let file = std::env::var("KEIBI_BENCH_FILE").ok();
        if let Some(f) = &file {
            input = std::fs::read(f).expect("KEIBI_BENCH_FILE is readable");
        }
        while file.is_none() && input.len() < 200 << 20 {
            // A busy server writes many lines per second.
            let sec = (i / 16) % 60;
            let pid = 1000 + i % 5000;
            let port = 30000 + i % 30000;
            let line = match i % 6 {
                0 => format!("2026-11-28 15:41:{sec:02} UTC:10.0.{}.{}({port}):[unknown]@[unknown]:[{pid}]:LOG:  connection received: host=10.0.{}.{} port={port}\n", i % 200, i % 250, i % 200, i % 250),
                1 => format!("2026-11-28 15:41:{sec:02} UTC:10.0.{}.{}({port}):app@shop:[{pid}]:LOG:  connection authorized: user=app database=shop application_name=psql\n", i % 200, i % 250),
                2 => format!("2026-11-28 15:41:{sec:02} UTC:10.0.{}.{}({port}):app@shop:[{pid}]:LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,\"SELECT id, email FROM customers WHERE id = {i}\",<not logged>\n", i % 200, i % 250),
                3 => format!("2026-11-28 15:41:{sec:02} UTC:10.0.{}.{}({port}):app@shop:[{pid}]:FATAL:  password authentication failed for user \"app\"\n", i % 200, i % 250),
                4 => format!("2026-11-28 15:41:{sec:02} UTC:10.0.{}.{}({port}):app@shop:[{pid}]:DETAIL:  Connection matched pg_hba.conf line 87: \"host all all 0.0.0.0/0 scram-sha-256\"\n", i % 200, i % 250),
                _ => format!("2026-11-28 15:41:{sec:02} UTC:10.0.{}.{}({port}):app@shop:[{pid}]:LOG:  disconnection: session time: 0:00:00.009 user=app database=shop host=10.0.{}.{} port={port}\n", i % 200, i % 250, i % 200, i % 250),
            };
            input.extend_from_slice(line.as_bytes());
            i += 1;
        }
        let cfg = ParseConfig::new("bench.log");
        let mut best = f64::MAX;
        for _ in 0..3 {
            let mut p = Format::PostgresStderr.parser(&cfg);
            let mut out = Output::new();
            let mut events = 0;
            // Only the parser is timed: dropping the events is the consumer's work.
            let mut secs = 0.0;
            for c in input.chunks(1 << 20) {
                let start = crate::testutil::cpu_seconds();
                p.push(c, &mut out);
                secs += crate::testutil::cpu_seconds() - start;
                events += out.events.len();
                out.events.clear();
                out.problems.clear();
            }
            p.finish(&mut out);
            events += out.events.len();
            best = best.min(secs);
            assert!(file.is_some() || out.problems.is_empty());
            if file.is_none() {
                assert_eq!(events as u32, i - i / 6);
            }
        }
        let mbs = input.len() as f64 / (1 << 20) as f64 / best;
        println!(
            "postgres stderr (RDS prefix): {mbs:.0} MiB/s ({:.0} MB/s) of CPU time over {} MiB",
            mbs * 1.048576,
            input.len() >> 20
        );
    }
}

#[cfg(test)]
mod prefix_tests {
    use crate::Format;

    #[test]
    fn pgbadger_style_prefixes_are_known_and_a_given_one_is_used() {
        // pgbadger's documented prefix with db= first.
        let begin_end = b"2021-02-14 01:34:02 CET [30291]: db=template1,user=postgres,app=[unknown],client=[local] LOG:  connection authorized: user=postgres database=template1\n";
        assert_eq!(crate::detect(begin_end, true), Some(Format::PostgresStderr));
        let own =
            b"2021-12-03 07:14:48.591 UTC [4913] user=user1,db=mydb LOG:  statement: SELECT 1\n";
        assert_eq!(crate::detect(own, true), None);
        assert_eq!(
            crate::detect_with_prefix(own, true, Some("%m [%p] user=%u,db=%d ")),
            Some(Format::PostgresStderr)
        );
        // A prefix that does not fit the log changes nothing.
        let mysql = b"2023-11-21 19:42:20 134334 [Warning] Access denied for user 'root'@'34.140.248.32' (using password: NO)\n";
        assert_eq!(
            crate::detect_with_prefix(mysql, true, Some("%m [%p] user=%u,db=%d ")),
            Some(Format::MysqlError)
        );
    }
}

#[cfg(test)]
mod occurrence_tests {
    use super::occurrences;

    /// The hand-written search finds what `memmem::find_iter` finds (left to right,
    /// not overlapping) on noise over a small alphabet, where separators repeat and
    /// overlap (`@@` in `@@@`).
    #[test]
    fn occurrences_are_memmem_find_iter() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut next = || {
                x = crate::testutil::xorshift(x);
                x
            };
            let len = (next() % 40) as usize;
            let region: Vec<u8> = (0..len).map(|_| b"@@:x"[(next() % 4) as usize]).collect();
            let slen = 1 + (next() % 3) as usize;
            let sep: Vec<u8> = (0..slen).map(|_| b"@@:x"[(next() % 4) as usize]).collect();
            let want: Vec<usize> = memchr::memmem::find_iter(&region, &sep).collect();
            let got: Vec<usize> = occurrences(&region, &sep).collect();
            assert_eq!(got, want, "{:?} in {:?}", sep, region);
        }
    }
}
