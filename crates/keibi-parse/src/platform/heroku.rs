//! Heroku Postgres logs as Heroku's log router (Logplex) delivers them: `heroku logs`
//! (`2019-03-14T00:22:56+00:00 app[postgres.4882]: [GREEN] [15-1]  sql_error_code =
//! 00000 LOG:  ...`) or a log drain's copy (`<time> d.<drain id> app[postgres.4882]
//! [GREEN] [15-1] ...`). Heroku's PostgreSQL logs through syslog: `[15-1]` is syslog's
//! report and chunk number and ` sql_error_code = %e ` its `log_line_prefix`. Each line
//! is handed to the PostgreSQL syslog reader as the syslog line it was (time, the
//! database's attachment name as host, `postgres[pid]`), so its joining of a report's
//! chunks and its defences against forged names apply unchanged. The attachment
//! (`GREEN`, `DATABASE` ...) is the instance. Lines of the app's other processes
//! (`app[web.1]`, `heroku[router]` ...) are counted and reported once.

use super::streams::Streams;
use crate::format::Sample;
use crate::{Format, LineParser, Output, ParseConfig};

/// Heroku's PostgreSQL `log_line_prefix` (after syslog's `[N-M] `).
const HEROKU_PREFIX: &str = " sql_error_code = %e ";

/// A Logplex line, split.
struct Logplex<'a> {
    time: &'a [u8],
    /// `app`, `heroku` ...
    source: &'a [u8],
    /// `postgres.4882`, `web.1`, `router` ...
    process: &'a [u8],
    /// What follows `source[process]: ` (or without the colon, from a drain).
    rest: &'a [u8],
}

/// Splits `TIME [d.DRAIN ]SOURCE[PROCESS]:? REST`; `None` for any other line.
fn split(line: &[u8]) -> Option<Logplex<'_>> {
    let sp = memchr::memchr(b' ', line)?;
    let time = &line[..sp];
    // An RFC 3339 time: 2019-03-14T00:22:56+00:00.
    if time.len() < 20
        || !time[..4].iter().all(u8::is_ascii_digit)
        || time[4] != b'-'
        || time[10] != b'T'
    {
        return None;
    }
    let mut rest = &line[sp + 1..];
    if rest.starts_with(b"d.") {
        let sp = memchr::memchr(b' ', rest)?;
        rest = &rest[sp + 1..];
    }
    let open = memchr::memchr(b'[', rest)?;
    let source = &rest[..open];
    if source.is_empty()
        || !source
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    {
        return None;
    }
    let close = open + memchr::memchr(b']', &rest[open..])?;
    let process = &rest[open + 1..close];
    if process.is_empty() || process.contains(&b' ') {
        return None;
    }
    let after = &rest[close + 1..];
    let after = after.strip_prefix(b":").unwrap_or(after);
    let after = after.strip_prefix(b" ")?;
    Some(Logplex {
        time,
        source,
        process,
        rest: after,
    })
}

/// The process id of a Heroku Postgres line (`app[postgres.4882]`).
fn postgres_pid(l: &Logplex<'_>) -> Option<u32> {
    if l.source != b"app" {
        return None;
    }
    let pid = l.process.strip_prefix(b"postgres.")?;
    std::str::from_utf8(pid).ok()?.parse().ok()
}

/// `[GREEN] REST` → (`GREEN`, `REST`).
fn attachment(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let inner = rest.strip_prefix(b"[")?;
    let close = memchr::memchr(b']', inner)?;
    let name = &inner[..close];
    if name.is_empty()
        || !name
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    {
        return None;
    }
    Some((name, inner[close + 1..].strip_prefix(b" ")?))
}

/// How sure (0-100) this format is that the sample is written in it: the share of
/// Logplex lines, provided one is Heroku Postgres's.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let postgres = sample.lines.iter().any(|l| {
        split(l).is_some_and(|l| postgres_pid(&l).is_some() && attachment(l.rest).is_some())
    });
    if !postgres {
        return 0;
    }
    sample.share(|l| split(l).is_some())
}

pub struct HerokuParser {
    streams: Streams,
    skipped: u64,
    first_skipped: u64,
    line: Vec<u8>,
}

impl HerokuParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        HerokuParser {
            streams: Streams::new(cfg),
            skipped: 0,
            first_skipped: 0,
            line: Vec::new(),
        }
    }
}

impl LineParser for HerokuParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        if line.trim_ascii().is_empty() {
            return;
        }
        let Some(l) = split(line) else {
            return out.unrecognized(lineno, "expected a Heroku log line (time, source[process])");
        };
        let Some(pid) = postgres_pid(&l) else {
            if self.skipped == 0 {
                self.first_skipped = lineno;
            }
            self.skipped += 1;
            return;
        };
        let Some((name, rest)) = attachment(l.rest) else {
            return out.unrecognized(
                lineno,
                "expected a Heroku Postgres line ([DATABASE] [N-M] ...) after app[postgres.N]",
            );
        };
        // The syslog line PostgreSQL wrote: time, host, program[pid]: [N-M] prefix ...
        self.line.clear();
        self.line.extend_from_slice(l.time);
        self.line.push(b' ');
        self.line.extend_from_slice(name);
        self.line
            .extend_from_slice(format!(" postgres[{pid}]: ").as_bytes());
        self.line.extend_from_slice(rest);
        let name = String::from_utf8_lossy(name);
        let synthetic = std::mem::take(&mut self.line);
        self.streams.message(
            &name,
            "Heroku Postgres",
            Format::PostgresSyslog,
            Some(HEROKU_PREFIX),
            Some(&name),
            lineno,
            out,
            |p, scratch| p.line(&synthetic, lineno, scratch),
        );
        self.line = synthetic;
    }

    fn finish(&mut self, out: &mut Output) {
        self.streams.finish(out);
        if self.skipped > 0 {
            out.warning(
                self.first_skipped,
                format!(
                    "{} lines of the app's other processes (web, router ...) skipped",
                    self.skipped
                ),
            );
            self.skipped = 0;
        }
    }
}

#[cfg(test)]
mod tests;
