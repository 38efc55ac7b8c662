//! Which prefix a parser matches with: the configured `log_line_prefix`, or else the
//! common ones (RDS, Debian, the official image, Cloud SQL, Azure ...), locking onto the
//! first that matches. Split from `prefix.rs`, which compiles and matches one prefix.

use std::sync::OnceLock;

use chrono::FixedOffset;

use super::{Matched, Prefix, TimeCache};

/// Prefixes tried in order when none is configured, most specific first: a later,
/// looser one would also match some lines of an earlier one.
pub const STDERR_CANDIDATES: &[&str] = &[
    // RDS and Aurora (not modifiable there).
    "%t:%r:%u@%d:[%p]:",
    // pgbadger's recommendations, old and new.
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: db=%d,user=%u,app=%a,client=%h ",
    "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%m [%p]: user=%u,db=%d,app=%a,client=%h ",
    // Google Cloud SQL.
    "%t [%p]: [%l-1] db=%d,user=%u ",
    "%t [%p]: [%l-1] ",
    "%m [%p] %h %u@%d ",
    // Debian and Ubuntu packages.
    "%m [%p] %q%u@%d ",
    // PostgreSQL's own default since 10, used by the official container image.
    "%m [%p] ",
    // Red Hat packages before PostgreSQL 10.
    "< %m >",
    // Azure Database for PostgreSQL.
    "%t-%c-",
];

/// Prefixes common with `log_destination = syslog`, where syslog carries time and pid;
/// tried after [`STDERR_CANDIDATES`] (journald keeps the whole stderr line).
pub const SYSLOG_CANDIDATES: &[&str] = &[
    "user=%u,db=%d,app=%a,client=%h ",
    "db=%d,user=%u,app=%a,client=%h ",
    "%q%u@%d ",
    "",
];

/// The prefixes a parser may see: the configured one, or the candidates. Locks onto the
/// first that matches and tries the others on a line it does not match.
pub struct PrefixSet {
    /// The configured prefix, when there is one.
    own: Vec<Prefix>,
    /// The candidates otherwise: compiled once per process, since a parser (and a
    /// sniff) is made for every input and, on a line that fails, for every format.
    shared: &'static [Prefix],
    pub(super) locked: usize,
    cache: TimeCache,
    offset: FixedOffset,
}

/// Which candidate prefixes a [`PrefixSet`] without a configured prefix tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidates {
    /// [`STDERR_CANDIDATES`].
    Stderr,
    /// [`STDERR_CANDIDATES`], then [`SYSLOG_CANDIDATES`].
    Syslog,
}

impl Candidates {
    fn compiled(self) -> &'static [Prefix] {
        static STDERR: OnceLock<Vec<Prefix>> = OnceLock::new();
        static SYSLOG: OnceLock<Vec<Prefix>> = OnceLock::new();
        let (cell, lists): (_, &[&[&str]]) = match self {
            Candidates::Stderr => (&STDERR, &[STDERR_CANDIDATES]),
            Candidates::Syslog => (&SYSLOG, &[STDERR_CANDIDATES, SYSLOG_CANDIDATES]),
        };
        cell.get_or_init(|| {
            lists
                .iter()
                .flat_map(|l| l.iter())
                .map(|p| Prefix::compile(p))
                .collect()
        })
    }
}

impl PrefixSet {
    pub fn new(configured: Option<&str>, candidates: Candidates, offset: FixedOffset) -> Self {
        let (own, shared) = match configured {
            Some(p) => (vec![Prefix::compile(p)], &[][..]),
            None => (Vec::new(), candidates.compiled()),
        };
        PrefixSet {
            own,
            shared,
            locked: 0,
            cache: TimeCache::default(),
            offset,
        }
    }

    pub fn match_line(&mut self, line: &[u8]) -> Option<Matched> {
        let prefixes = if self.own.is_empty() {
            self.shared
        } else {
            &self.own[..]
        };
        if let Some(p) = prefixes.get(self.locked) {
            if let Some(m) = p.matches(line, self.offset, &mut self.cache) {
                return Some(m);
            }
        }
        for (i, p) in prefixes.iter().enumerate() {
            if i == self.locked {
                continue;
            }
            if let Some(m) = p.matches(line, self.offset, &mut self.cache) {
                self.locked = i;
                return Some(m);
            }
        }
        None
    }

    /// Matches with the prefix locked onto only (for text that may not be a prefixed
    /// line at all, such as a syslog chunk).
    pub fn match_locked(&mut self, line: &[u8]) -> Option<Matched> {
        let prefixes = if self.own.is_empty() {
            self.shared
        } else {
            &self.own[..]
        };
        prefixes
            .get(self.locked)?
            .matches(line, self.offset, &mut self.cache)
    }

    /// The other ways the locked prefix splits `line` after `first` (at most `max`,
    /// each with its level word further right): a user or database name that holds a
    /// prefix and a level word gives a line several splits. Only the locked prefix:
    /// the question is which split the server wrote, not which prefix.
    pub fn alternatives(&mut self, line: &[u8], first: &Matched, max: usize) -> Vec<Matched> {
        let prefixes = if self.own.is_empty() {
            self.shared
        } else {
            &self.own[..]
        };
        let Some(p) = prefixes.get(self.locked) else {
            return Vec::new();
        };
        let mut out: Vec<Matched> = Vec::new();
        let mut from = first.level_pos + 1;
        while out.len() < max {
            match p.matches_from(line, self.offset, &mut self.cache, from) {
                Some(m) => {
                    from = m.level_pos + 1;
                    out.push(m);
                }
                None => break,
            }
        }
        out
    }

    /// Whether the locked prefix reads `line` as cut inside a name (see
    /// [`Prefix::cut_in_name`]).
    pub fn cut_in_name(&mut self, line: &[u8]) -> bool {
        let prefixes = if self.own.is_empty() {
            self.shared
        } else {
            &self.own[..]
        };
        prefixes
            .get(self.locked)
            .is_some_and(|p| p.cut_in_name(line, self.offset, &mut self.cache))
    }

    /// Why a line did not match, for `Output::unrecognized`.
    pub fn mismatch_reason(&self) -> String {
        match self.own.first() {
            Some(p) => format!(
                "expected log_line_prefix '{}' followed by a level such as LOG:",
                p.source()
            ),
            _ => "expected a known log_line_prefix followed by a level such as LOG: \
                  (give the prefix with --pg-prefix)"
                .to_string(),
        }
    }
}
