//! PostgreSQL logged through syslog: a syslog header, PostgreSQL's `[N-M]` sequence
//! marker, then the `log_line_prefix` and message as in stderr logs.
//!
//! PostgreSQL sends each line of a report as its own syslog message numbered `[N-1]`,
//! `[N-2]` ... (N counts reports), and splits lines longer than about 900 bytes into
//! further chunks. Chunks after the first extend the report: a tab-indented chunk is a
//! line break in the text, a chunk with the prefix and `DETAIL:` (etc.) a part, any
//! other chunk the piece of a split line.
//!
//! Headers: BSD (`Nov 28 15:41:22 host postgres[123]: `, optionally `<PRI>`-led),
//! ISO-dated (`2026-11-28T15:41:22.123456+00:00 host postgres[123]: `) and RFC 5424
//! (`<134>1 2026-11-28T15:41:22Z host postgres 123 - - `).
//!
//! BSD timestamps have no year. The year is, in order: the year of the last full date
//! read in the file (an ISO header, or `%t`/`%m` in the prefix); else
//! [`ParseConfig::syslog_year`]; else [`DEFAULT_YEAR`]. It moves on by one when the
//! month goes back by six or more (December to January).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, Utc};
use keibi_model::SourceKind;

use super::message::{Level, Origin};
use super::prefix::{Candidates, PrefixSet};
use super::stderr::Reports;
use crate::format::Sample;
use crate::time::{parse_ymd_hms, to_utc, zone_offset};
use crate::{LineParser, Output, ParseConfig};

/// Year of BSD syslog lines when neither the file nor the configuration tells: a
/// fixed, obviously-old leap year (so February 29 reads), never the clock.
pub const DEFAULT_YEAR: i32 = 2000;

/// The time in a syslog header.
#[derive(Debug, Clone, Copy, PartialEq)]
enum HeaderTime {
    /// BSD: month (1-12), day and time of day, no year, local time.
    Bsd(u32, u32, NaiveTime),
    Full(DateTime<Utc>),
}

/// A syslog header and what follows it.
#[derive(Debug)]
struct Header<'a> {
    time: HeaderTime,
    pid: Option<u32>,
    /// PostgreSQL's `[N-M]`: report number and chunk number.
    seq: Option<(u64, u32)>,
    rest: &'a [u8],
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// The first space-separated word of `b` and the rest after the space.
fn word(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = memchr::memchr(b' ', b)?;
    Some((&b[..i], &b[i + 1..]))
}

/// `Mmm dd HH:MM:SS ` (day space-padded).
fn bsd_time(b: &[u8]) -> Option<(HeaderTime, &[u8])> {
    if b.len() < 16 || b[3] != b' ' || b[6] != b' ' || b[15] != b' ' {
        return None;
    }
    let month = MONTHS.iter().position(|m| &b[..3] == *m)? as u32 + 1;
    let day_text = if b[4] == b' ' { &b[5..6] } else { &b[4..6] };
    let day = num(day_text).filter(|d| (1..=31).contains(d))?;
    if b[9] != b':' || b[12] != b':' {
        return None;
    }
    let time = NaiveTime::from_hms_opt(num(&b[7..9])?, num(&b[10..12])?, num(&b[13..15])?.min(59))?;
    Some((HeaderTime::Bsd(month, day, time), &b[16..]))
}

/// `YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM] `. The `T` is required: a space there is a
/// stderr line (`2026-11-28 15:41:22 UTC [5]: [1-1] ...` would read as host `UTC`).
fn iso_time(b: &[u8], offset: FixedOffset) -> Option<(HeaderTime, &[u8])> {
    if b.get(10) != Some(&b'T') {
        return None;
    }
    let (naive, mut n) = parse_ymd_hms(b)?;
    let mut off = offset;
    match b.get(n) {
        Some(b'Z') => {
            off = Utc.fix();
            n += 1;
        }
        Some(b'+' | b'-') => {
            // `+00:00`, or journald's `+0000`.
            let len = 1 + b[n + 1..]
                .iter()
                .take(5)
                .take_while(|c| c.is_ascii_digit() || **c == b':')
                .count();
            off = zone_offset(std::str::from_utf8(&b[n..n + len]).ok()?)?;
            n += len;
        }
        _ => {}
    }
    if b.get(n) != Some(&b' ') {
        return None;
    }
    Some((HeaderTime::Full(to_utc(naive, off)), &b[n + 1..]))
}

/// RFC 5424 structured data: `-` or one or more `[id key="value" ...]` elements.
fn skip_structured_data(b: &[u8]) -> Option<&[u8]> {
    if let Some(rest) = b.strip_prefix(b"-") {
        return Some(rest);
    }
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_quotes = false;
        loop {
            i += 1;
            match b.get(i)? {
                b'\\' => i += 1,
                b'"' => in_quotes = !in_quotes,
                b']' if !in_quotes => break,
                _ => {}
            }
        }
        i += 1;
    }
    (i > 0).then(|| &b[i..])
}

fn header(line: &[u8], offset: FixedOffset) -> Option<Header<'_>> {
    let mut b = line;
    if b.first() == Some(&b'<') {
        let end = memchr::memchr(b'>', b.get(..5)?)?;
        num(&b[1..end])?;
        b = &b[end + 1..];
    }
    let rfc5424 = b.starts_with(b"1 ");
    if rfc5424 {
        b = &b[2..];
    }
    let (time, rest) = match bsd_time(b) {
        Some(t) if !rfc5424 => t,
        _ => iso_time(b, offset)?,
    };
    let (host, rest) = word(rest)?;
    if host.is_empty() {
        return None;
    }
    let (pid, rest) = if rfc5424 {
        let (_app, rest) = word(rest)?;
        let (procid, rest) = word(rest)?;
        let (_msgid, rest) = word(rest)?;
        let rest = skip_structured_data(rest)?;
        let rest = rest.strip_prefix(b" ").unwrap_or(rest);
        let rest = rest.strip_prefix("\u{feff}".as_bytes()).unwrap_or(rest);
        (num(procid), rest)
    } else {
        // `ident[pid]: ` or `ident: `.
        let colon = memchr::memchr(b':', rest)?;
        let tag = &rest[..colon];
        if tag.is_empty() || tag.contains(&b' ') {
            return None;
        }
        let pid = match memchr::memchr(b'[', tag) {
            Some(i) => Some(num(tag[i + 1..].strip_suffix(b"]")?)?),
            None => None,
        };
        let rest = &rest[colon + 1..];
        (pid, rest.strip_prefix(b" ").unwrap_or(rest))
    };
    let (seq, rest) = sequence(rest);
    Some(Header {
        time,
        pid,
        seq,
        rest,
    })
}

/// PostgreSQL's `[N-M] ` marker (`syslog_sequence_numbers`, on by default).
fn sequence(b: &[u8]) -> (Option<(u64, u32)>, &[u8]) {
    let parsed = (|| {
        let end = memchr::memchr(b']', &b[..b.len().min(24)])?;
        let inner = b.strip_prefix(b"[")?.get(..end - 1)?;
        let dash = memchr::memchr(b'-', inner)?;
        let n = u64::from(num(&inner[..dash])?);
        let m = num(&inner[dash + 1..])?;
        let rest = &b[end + 1..];
        // The marker is followed by a space, or ends an empty chunk.
        let rest = match rest.first() {
            Some(b' ') => &rest[1..],
            None => rest,
            Some(_) => return None,
        };
        Some(((n, m), rest))
    })();
    match parsed {
        Some((seq, rest)) => (Some(seq), rest),
        None => (None, b),
    }
}

/// A tab-indented continuation line; rsyslog writes the tab as `#011`.
fn tab_continuation(b: &[u8]) -> Option<&[u8]> {
    b.strip_prefix(b"\t").or_else(|| b.strip_prefix(b"#011"))
}

/// How sure (0-100) this format is that the sample is written in it: the share of
/// lines with a syslog header followed by PostgreSQL's `[N-M]` marker or a prefix and
/// a level word.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    if sample.lines.is_empty() {
        return 0;
    }
    let mut set = PrefixSet::new(None, Candidates::Syslog, Utc.fix());
    let hits = sample
        .lines
        .iter()
        .filter(|line| match header(line, Utc.fix()) {
            Some(h) => h.seq.is_some() || set.match_line(h.rest).is_some(),
            None => false,
        })
        .count();
    (hits * 100 / sample.lines.len()) as u8
}

/// Reads syslog lines (see the module documentation).
pub struct SyslogParser {
    prefixes: PrefixSet,
    reports: Reports,
    /// Process and report number of the pending report, which later chunks extend.
    pending_seq: Option<(Option<u32>, u64)>,
    offset: FixedOffset,
    year: i32,
    /// Month of the last BSD time (0 before the first), to see the year turn.
    last_month: u32,
}

impl SyslogParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        SyslogParser {
            prefixes: PrefixSet::new(
                cfg.pg_prefix.as_deref(),
                Candidates::Syslog,
                cfg.local_offset,
            ),
            reports: Reports::new(Origin::new(cfg, SourceKind::PostgresSyslog)),
            pending_seq: None,
            offset: cfg.local_offset,
            year: cfg.syslog_year.unwrap_or(DEFAULT_YEAR),
            last_month: 0,
        }
    }

    fn time(&mut self, t: HeaderTime) -> DateTime<Utc> {
        match t {
            HeaderTime::Full(t) => {
                self.learn_year(t);
                t
            }
            HeaderTime::Bsd(month, day, tod) => {
                if self.last_month >= month + 6 {
                    self.year += 1;
                }
                self.last_month = month;
                let date = NaiveDate::from_ymd_opt(self.year, month, day)
                    .or_else(|| NaiveDate::from_ymd_opt(self.year, month, 28))
                    .unwrap_or_default();
                to_utc(NaiveDateTime::new(date, tod), self.offset)
            }
        }
    }

    fn learn_year(&mut self, t: DateTime<Utc>) {
        let local = t.with_timezone(&self.offset);
        self.year = local.year();
        self.last_month = local.month();
    }
}

impl LineParser for SyslogParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let Some(h) = header(line, self.offset) else {
            out.unrecognized(
                lineno,
                "expected a syslog header (time, host, program[pid]:) before the PostgreSQL message",
            );
            return;
        };
        let time = self.time(h.time);
        let rest = h.rest;
        if let Some((n, _)) = h.seq.filter(|(_, m)| *m > 1) {
            // A later chunk of report n: it adds to that report, or to nothing.
            if self.pending_seq != Some((h.pid, n)) {
                return;
            }
            if let Some(t) = tab_continuation(rest) {
                if let Some(r) = self.reports.pending() {
                    r.extend(&String::from_utf8_lossy(t), true);
                }
                return;
            }
            match self.prefixes.match_locked(rest) {
                Some(m) if matches!(m.level, Level::Part(_)) => {
                    self.reports.line(&m, rest, lineno, time, h.pid, out);
                }
                _ => {
                    if let Some(r) = self.reports.pending() {
                        r.extend(&String::from_utf8_lossy(rest), false);
                    }
                }
            }
            return;
        }
        if let Some(t) = tab_continuation(rest) {
            if let Some(r) = self.reports.pending() {
                r.extend(&String::from_utf8_lossy(t), true);
            }
            return;
        }
        let Some(m) = self.prefixes.match_line(rest) else {
            out.unrecognized(lineno, self.prefixes.mismatch_reason());
            return;
        };
        if let Some(t) = m.caps.time {
            self.learn_year(t);
        }
        if let Level::Primary(_) = m.level {
            self.pending_seq = h.seq.map(|(n, _)| (h.pid, n));
        }
        self.reports.line(&m, rest, lineno, time, h.pid, out);
    }

    fn finish(&mut self, out: &mut Output) {
        self.reports.flush(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::parse_bytes;
    use crate::Format;
    use keibi_model::Action;

    fn parse(cfg: &ParseConfig, text: &str) -> Output {
        let out = parse_bytes(Format::PostgresSyslog, cfg, text.as_bytes(), 4096);
        let small = parse_bytes(Format::PostgresSyslog, cfg, text.as_bytes(), 5);
        assert_eq!(out.events, small.events);
        out
    }

    // Written as PostgreSQL 15 writes to syslog (`syslog_sequence_numbers` on,
    // pgbadger's syslog prefix `db=%d,user=%u,app=%a,client=%h `).
    const BSD: &str = concat!(
        "Feb 11 13:15:40 test-pc postgres[10819]: [6-1] db=postgres,user=postgres,app=[unknown],client=[local] LOG:  connection authorized: user=postgres database=postgres\n",
        "Feb 11 13:15:41 test-pc postgres[10820]: [7-1] db=shop,user=eve,app=[unknown],client=203.0.113.9 FATAL:  password authentication failed for user \"eve\"\n",
        "Feb 11 13:15:41 test-pc postgres[10820]: [7-2] db=shop,user=eve,app=[unknown],client=203.0.113.9 DETAIL:  Role \"eve\" does not exist.\n",
        "Feb 11 13:15:41 test-pc postgres[10820]: [7-3] #011Connection matched pg_hba.conf line 99: \"host all all 0.0.0.0/0 md5\"\n",
        "Feb 11 13:15:42 test-pc postgres[10819]: [8-1] db=postgres,user=postgres,app=psql,client=[local] LOG:  statement: SELECT 'a long statement\n",
        "Feb 11 13:15:42 test-pc postgres[10819]: [8-2] \tsecond line' FROM t WHERE x = '\n",
        "Feb 11 13:15:42 test-pc postgres[10819]: [8-3] split in the middle'\n",
        "Feb 11 13:15:43 test-pc postgres[10819]: [9-1] db=postgres,user=postgres,app=psql,client=[local] LOG:  disconnection: session time: 0:00:00.026 user=postgres database=postgres host=[local]\n",
    );

    #[test]
    fn bsd_syslog_with_sequence_numbers() {
        let mut cfg = ParseConfig::new("syslog");
        cfg.syslog_year = Some(2025);
        let out = parse(&cfg, BSD);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let a: Vec<Action> = out.events.iter().map(|e| e.action).collect();
        assert_eq!(
            a,
            vec![
                Action::LoginSuccess,
                Action::LoginFailure,
                Action::Statement,
                Action::Disconnect
            ]
        );
        let e = &out.events[0];
        assert_eq!(e.time.to_rfc3339(), "2025-02-11T13:15:40+00:00");
        assert_eq!(e.pid, Some(10819));
        assert_eq!(e.client_host.as_deref(), Some("[local]"));
        assert_eq!(e.application, None);
        let f = &out.events[1];
        assert_eq!(f.client_ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(f.user.as_deref(), Some("eve"));
        assert_eq!(f.auth_method.as_deref(), Some("md5"));
        assert_eq!(
            f.detail.as_deref(),
            Some("Role \"eve\" does not exist.\nConnection matched pg_hba.conf line 99: \"host all all 0.0.0.0/0 md5\"")
        );
        let st = out.events[2].statement.as_deref().unwrap();
        assert_eq!(
            st.text,
            "SELECT 'a long statement\nsecond line' FROM t WHERE x = 'split in the middle'"
        );
        assert_eq!(out.events[2].application.as_deref(), Some("psql"));
        assert_eq!(out.events[3].line, 8);
    }

    #[test]
    fn year_comes_from_dated_content_and_turns() {
        let out = parse(
            &ParseConfig::new("syslog"),
            concat!(
                "Dec 31 23:59:59 h postgres[1]: [1-1] LOG:  a\n",
                "Dec 31 23:59:59 h postgres[1]: [2-1] 2024-12-31 23:59:59.500 UTC [1] LOG:  b\n",
                "Dec 31 23:59:59 h postgres[1]: [3-1] LOG:  c\n",
                "Jan  1 00:00:01 h postgres[1]: [4-1] LOG:  d\n",
            ),
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let t: Vec<String> = out.events.iter().map(|e| e.time.to_rfc3339()).collect();
        assert_eq!(
            t,
            [
                format!("{DEFAULT_YEAR}-12-31T23:59:59+00:00"),
                "2024-12-31T23:59:59.500+00:00".to_string(),
                "2024-12-31T23:59:59+00:00".to_string(),
                "2025-01-01T00:00:01+00:00".to_string(),
            ]
        );
    }

    #[test]
    fn iso_and_rfc5424_headers() {
        let out = parse(
            &ParseConfig::new("syslog"),
            concat!(
                "2026-11-28T15:41:22.123456+01:00 db1 postgres[77]: [3-1] user=app,db=shop,app=psql,client=::1 LOG:  connection received: host=::1 port=5000\n",
                "<134>1 2026-11-28T15:41:23Z db1 postgres 78 - [meta x=\"a]b\"] [4-1] LOG:  incomplete startup packet\n",
                "<134>1 2026-11-28T15:41:24Z db1 postgres 79 - - [5-1] 2026-11-28 15:41:24.5 UTC [79] LOG:  x\n",
                "2026-11-28T15:41:25Z db1 postgres: LOG:  no sequence numbers here\n",
                "2026-11-28T16:41:26+0100 db1 postgres[80]: 2026-11-28 15:41:26.500 UTC [80] LOG:  journald\n",
                "Nov 28 15:41:22 db1 mysqld[5]: 2026-11-28 15:41:22 0 [Note] not postgres\n",
                "not syslog at all\n",
            ),
        );
        let e = &out.events[0];
        assert_eq!(e.time.to_rfc3339(), "2026-11-28T14:41:22.123456+00:00");
        assert_eq!(e.client_ip, Some("::1".parse().unwrap()));
        assert_eq!(e.user.as_deref(), Some("app"));
        assert_eq!((e.pid, e.action), (Some(77), Action::ConnectionReceived));
        let e = &out.events[1];
        assert_eq!((e.pid, e.action), (Some(78), Action::Probe));
        assert_eq!(e.time.to_rfc3339(), "2026-11-28T15:41:23+00:00");
        assert_eq!(out.events[2].message.as_deref(), Some("x"));
        assert_eq!(out.events[3].pid, None);
        // journald's `short-iso` zone; the prefix's time, more precise, is the event's.
        assert_eq!(out.events[4].pid, Some(80));
        assert_eq!(
            out.events[4].time.to_rfc3339(),
            "2026-11-28T15:41:26.500+00:00"
        );
        assert_eq!(out.events.len(), 5);
        let lines: Vec<u64> = out.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![6, 7]);
        assert!(out.problems[1].reason.contains("syslog header"));
    }

    #[test]
    fn orphan_chunks_and_hostile_lines() {
        let out = parse(
            &ParseConfig::new("syslog"),
            concat!(
                "Nov 28 15:41:22 h postgres[1]: [9-2] DETAIL:  for a report never seen\n",
                "Nov 28 15:41:22 h postgres[1]: [\n",
                "Nov 28 15:41:22 h postgres[1]: [1-1]\n",
                "Nov 28 15:41:22 h postgres[99999999999]: [1-1] LOG:  x\n",
                "Nov 32 15:41:22 h postgres[1]: [1-1] LOG:  x\n",
                "Nov 28 15:41:22 h postgres[1]: [1-1] LOG:  \u{fffd}ok\n",
                "Feb 29 15:41:22 h postgres[1]: [2-1] LOG:  not a leap year\n",
            ),
        );
        assert_eq!(out.events.len(), 2, "{:?}", out.problems);
        assert_eq!(out.unrecognized_lines(), 4);
        // February 29 of a year without one reads as the 28th, not a panic.
        assert!(out.events[1].time.to_rfc3339().contains("-02-"));
    }

    #[test]
    fn sniff_claims_syslog_only() {
        let s = |b: &str| sniff(&Sample::new(b.as_bytes(), true));
        assert_eq!(s(BSD), 100);
        assert_eq!(s("2026-11-28 15:41:22 UTC:1.2.3.4(5):a@b:[1]:LOG:  x\n"), 0);
        assert_eq!(
            s("Nov 28 15:41:22 db1 mysqld[5]: 2026-11-28 15:41:22 0 [Note] x\n"),
            0
        );
        assert_eq!(s("{\"timestamp\":\"2026-11-28 15:41:27.158 UTC\"}\n"), 0);
    }
}
