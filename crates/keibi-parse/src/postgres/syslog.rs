//! PostgreSQL logged through syslog: a syslog header, PostgreSQL's `[N-M]` sequence
//! marker, then the `log_line_prefix` and message as in stderr logs.
//!
//! PostgreSQL sends each line of a report as its own syslog message numbered `[N-1]`,
//! `[N-2]` ... (N counts reports), and splits lines longer than about 900 bytes into
//! further chunks. Chunks after the first extend the report: a tab-indented chunk is a
//! line break in the text, a chunk with the prefix and `DETAIL:` (etc.) a part, any
//! other chunk the piece of a split line.
//!
//! Headers and the year of BSD times are read by [`crate::syslog`]; `%t`/`%m` in the
//! prefix also give the year.
//!
//! A file may hold other programs too (a whole `/var/log/syslog`). A line is the
//! database's when its program is `postgres...` or `postmaster`, or has once written a
//! line with PostgreSQL's `[N-M]` marker or prefix and level (`syslog_ident` may be set
//! to anything); the lines of other programs are counted as skipped
//! ([`Output::skipped`]), not as unrecognized. MySQL's and MariaDB's lines are not
//! skipped: unrecognized here, they lead the reader into their format (`switch`).

use chrono::{Offset, Utc};
use keibi_model::SourceKind;

use super::message::{Level, Origin};
use super::prefix::{Candidates, PrefixSet};
use super::stderr::{second_look, Reports, MAX_ALTERNATIVES};
use crate::format::Sample;
use crate::syslog::{header, num, Clock};
use crate::{LineParser, Output, ParseConfig};

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
/// a level word, among the lines that are not other programs' (a syslog line of a
/// program not named like PostgreSQL's, with neither).
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let mut set = PrefixSet::new(None, Candidates::Syslog, Utc.fix());
    let (mut hits, mut others) = (0usize, 0usize);
    for line in &sample.lines {
        let Some(h) = header(line) else {
            continue;
        };
        let (seq, rest) = sequence(h.rest);
        if seq.is_some() || set.match_line(rest).is_some() {
            hits += 1;
        } else if !postgres_named(h.program) {
            others += 1;
        }
    }
    let ours = sample.lines.len() - others;
    if hits == 0 || ours == 0 {
        return 0;
    }
    (hits * 100 / ours) as u8
}

/// Whether a syslog program is named like PostgreSQL's (`postgres`, the default
/// `syslog_ident`; `postgresql`, `postmaster`).
pub(crate) fn postgres_named(program: &[u8]) -> bool {
    let name = program.rsplit(|&b| b == b'/').next().unwrap_or(program);
    let starts = |p: &[u8]| name.len() >= p.len() && name[..p.len()].eq_ignore_ascii_case(p);
    starts(b"postgres") || starts(b"postmaster")
}

/// Most other program names learned to be the database's.
const MAX_PROGRAMS: usize = 8;

/// Reads syslog lines (see the module documentation).
pub struct SyslogParser {
    prefixes: PrefixSet,
    reports: Reports,
    /// Process and report number of the pending report, which later chunks extend.
    pending_seq: Option<(Option<u32>, u64)>,
    clock: Clock,
    /// Programs not named like PostgreSQL's that wrote its lines (`syslog_ident`).
    programs: Vec<Vec<u8>>,
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
            clock: Clock::new(cfg.local_offset, cfg.syslog_year),
            programs: Vec::new(),
        }
    }

    /// Whether a line of `program` whose message is `rest` is the database's; learns
    /// the program when its line reads as PostgreSQL's.
    fn database_line(&mut self, program: &[u8], seq: bool, rest: &[u8]) -> bool {
        if postgres_named(program) || self.programs.iter().any(|p| p == program) {
            return true;
        }
        if !seq && self.prefixes.match_line(rest).is_none() {
            return crate::mysql::error::is_mysql_program(program);
        }
        if self.programs.len() < MAX_PROGRAMS {
            self.programs.push(program.to_vec());
        }
        true
    }
}

impl LineParser for SyslogParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let Some(h) = header(line) else {
            out.unrecognized(
                lineno,
                "expected a syslog header (time, host, program[pid]:) before the PostgreSQL message",
            );
            return;
        };
        let (seq, rest) = sequence(h.rest);
        if !self.database_line(h.program, seq.is_some(), rest) {
            out.skip();
            return;
        }
        let time = self.clock.time(h.time);
        if let Some((n, m)) = seq.filter(|(_, m)| *m > 1) {
            // A later chunk of report n: it adds to that report, else is counted.
            if self.pending_seq != Some((h.pid, n)) {
                out.unrecognized(
                    lineno,
                    format!("chunk [{n}-{m}] of a report whose first line was not read"),
                );
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
                    self.reports.line(&m, &[], rest, lineno, time, h.pid, out);
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
            self.clock.learn_year(t);
        }
        if let Level::Primary(_) = m.level {
            self.pending_seq = seq.map(|(n, _)| (h.pid, n));
        }
        let alts = if second_look(rest, &m) {
            self.prefixes.alternatives(rest, &m, MAX_ALTERNATIVES)
        } else {
            Vec::new()
        };
        self.reports.line(&m, &alts, rest, lineno, time, h.pid, out);
    }

    fn finish(&mut self, out: &mut Output) {
        self.reports.flush(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::parse_bytes;
    use crate::syslog::DEFAULT_YEAR;
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
        // The mysqld line is MySQL's error log through syslog: the reader follows the
        // file into that format (with a warning) and reads it.
        assert_eq!(out.events.len(), 6);
        assert_eq!(out.events[5].source, keibi_model::SourceKind::MysqlError);
        // The untimed line after it continues its message, as in any error log.
        assert_eq!(out.events[5].detail.as_deref(), Some("not syslog at all"));
        assert_eq!(out.unrecognized_lines(), 0, "{:?}", out.problems);
        assert!(out.problems[0].reason.contains("to mysql-error"));
    }

    /// A whole /var/log/syslog: other programs' lines are one count of skipped lines,
    /// a `syslog_ident` other than `postgres` is learned from its `[N-M]` markers, and
    /// a line of a program named like PostgreSQL that does not read is unrecognized.
    #[test]
    fn other_programs_in_a_shared_syslog_are_skipped() {
        let mut cfg = ParseConfig::new("syslog");
        cfg.syslog_year = Some(2025);
        let text = [
            "Feb 11 13:15:39 test-pc systemd[1]: Started Session 5 of User root.\n",
            "Feb 11 13:15:39 test-pc kernel: [12345.678901] audit: type=1400 apparmor=\"ALLOWED\"\n",
            "Feb 11 13:15:39 test-pc CRON[2001]: (root) CMD (command -v debian-sa1 > /dev/null)\n",
            BSD,
            "Feb 11 13:15:44 test-pc sshd[3003]: Failed password for root from 203.0.113.9 port 22 ssh2\n",
            "Feb 11 13:15:45 test-pc pg15[10821]: [10-1] db=shop,user=eve,app=[unknown],client=203.0.113.9 FATAL:  password authentication failed for user \"eve\"\n",
            "Feb 11 13:15:45 test-pc pg15[10821]: [10-2] db=shop,user=eve,app=[unknown],client=203.0.113.9 DETAIL:  Role \"eve\" does not exist.\n",
            "Feb 11 13:15:46 test-pc postgres[10822]: garbage\n",
        ]
        .concat();
        let out = parse(&cfg, &text);
        assert_eq!(out.skipped, 4);
        assert_eq!(out.events.len(), 5, "{:?}", out.events);
        let f = &out.events[4];
        assert_eq!((f.action, f.pid), (Action::LoginFailure, Some(10821)));
        assert!(f.detail.as_deref().unwrap().contains("does not exist"));
        let p: Vec<u64> = out.problems.iter().map(|p| p.line).collect();
        assert_eq!(p, vec![15]);
        // The sniff looks past the other programs.
        assert_eq!(sniff(&Sample::new(text.as_bytes(), true)), 90);
        assert_eq!(
            sniff(&Sample::new(
                b"Feb 11 13:15:39 test-pc systemd[1]: Started x\n",
                true
            )),
            0
        );
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
        // The chunk of a report never seen is counted too, with why.
        assert_eq!(out.unrecognized_lines(), 5);
        assert_eq!(
            out.problems[0].reason,
            "chunk [9-2] of a report whose first line was not read"
        );
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
