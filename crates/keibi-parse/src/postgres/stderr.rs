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
    /// The line being read is two physical lines joined (a name with a line break): a
    /// part in it whose report has ended was ended by the forged line it follows.
    pub rejoined: bool,
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
            rejoined: false,
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
                let mut added = false;
                if let (Level::Part(part), true) = (p.m.level, self.of_pending(p, pid)) {
                    if let Some(r) = &mut self.pending {
                        r.add_part(part, &text.text_from(p.m.text));
                        added = true;
                    }
                }
                if !added {
                    orphan(&p.m, line, lineno, self.rejoined, out);
                }
                return true;
            }
        }
        if !all.iter().any(|s| matches!(s.m.level, Level::Primary(_))) {
            // A part whose report was not seen (the log starts mid-report, a line of
            // another process): counted, never silently dropped.
            orphan(first, line, lineno, self.rejoined, out);
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

/// Counts a DETAIL/HINT/CONTEXT/STATEMENT line whose process has no report pending
/// (the log starts mid-report, or the line is not where PostgreSQL writes one). In a
/// line joined across a name's line break, the report was ended by the forged line
/// before it: the line was read, only not attached, and is a warning.
fn orphan(m: &Matched, line: &[u8], lineno: u64, rejoined: bool, out: &mut Output) {
    let word = line.get(m.level_pos..).unwrap_or_default();
    let word = String::from_utf8_lossy(&word[..memchr::memchr(b':', word).unwrap_or(0).min(16)]);
    if rejoined {
        out.warning(
            lineno,
            format!("{word} line after a forged line that ended its report, not attached to it"),
        );
    } else {
        out.unrecognized(
            lineno,
            format!("{word} line with no report of its process before it"),
        );
    }
}

/// Longest name PostgreSQL keeps (`NAMEDATALEN` - 1 bytes): user, database and
/// application names are cut there before they are logged.
const MAX_NAME: usize = 63;

/// Whether the line break at `cut` is inside a user, database or application name no
/// longer than a name can be.
fn cut_inside_a_name(caps: &super::prefix::Captures, cut: usize) -> bool {
    [caps.user, caps.db, caps.app]
        .into_iter()
        .flatten()
        .any(|s| s.start() <= cut && cut < s.end() && s.end() - s.start() <= MAX_NAME)
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
            let in_name = std::iter::once(&j)
                .chain(&alts)
                .any(|x| cut_inside_a_name(&x.caps, cut));
            Some((j, score)).filter(|_| in_name)
        });
        // The joined reading's level word must be on this line, and the line break
        // inside a name no longer than PostgreSQL's (63 bytes): the line before was
        // cut inside a name, not followed by its own continuation (a FATAL line and
        // the next line in a prefix that does not read it would otherwise join into
        // one garbled report with the FATAL's message in its user name).
        let better = reading.filter(|(_, (score, at))| {
            *at > cut && *score >= 0 && alone.is_none_or(|a| *score > a)
        });
        let done = if let Some((j, _)) = better {
            self.reports.discard_pending();
            self.reports.rejoined = true;
            self.matched(j, &joined, first, out);
            self.reports.rejoined = false;
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
mod tests;

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
