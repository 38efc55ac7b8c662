//! Every log format keibi reads, in one list: its name, how it is recognised from a
//! file's first lines, and how its parser is built. Adding a format means adding a
//! variant here and a module that provides `sniff` and a parser.

use std::fmt;
use std::str::FromStr;

use crate::{cloudtrail, mysql, postgres, LineParser, Lines, ParseConfig, Parser};

/// A log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    PostgresStderr,
    PostgresSyslog,
    PostgresCsv,
    PostgresJson,
    Pgbouncer,
    MysqlSlow,
    PerconaAudit,
    MysqlAudit,
    MysqlError,
    MysqlGeneral,
    MysqlEnterpriseAudit,
    Cloudtrail,
    CloudwatchLogs,
    CloudwatchExport,
    Cnpg,
    CloudSql,
    Azure,
    Heroku,
    Supabase,
}

/// Every format, in the order detection breaks ties.
pub const FORMATS: &[Format] = &[
    Format::CloudwatchLogs,
    Format::Cloudtrail,
    Format::MysqlEnterpriseAudit,
    Format::PostgresJson,
    Format::PostgresCsv,
    Format::PostgresSyslog,
    Format::PostgresStderr,
    Format::MysqlAudit,
    Format::MysqlError,
    Format::MysqlGeneral,
    Format::CloudwatchExport,
    Format::Cnpg,
    Format::CloudSql,
    Format::Azure,
    Format::Heroku,
    Format::Supabase,
    // Last, so that the fuzz targets' indices of the older line formats stay.
    Format::Pgbouncer,
    Format::MysqlSlow,
    Format::PerconaAudit,
];

/// The first bytes of an input, as detection sees them.
pub struct Sample<'a> {
    /// Up to the first 64 KiB of the (decompressed) input.
    pub head: &'a [u8],
    /// The first non-empty complete lines of `head` (at most 64).
    pub lines: Vec<&'a [u8]>,
}

impl<'a> Sample<'a> {
    /// `complete` says `head` is the whole input (so its last line is complete too).
    pub fn new(head: &'a [u8], complete: bool) -> Self {
        let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
        if !complete && lines.len() > 1 {
            lines.pop();
        }
        let lines = lines
            .into_iter()
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .take(64)
            .collect();
        Sample { head, lines }
    }

    /// Percentage (0-100) of sample lines for which `f` holds.
    pub fn share(&self, f: impl Fn(&[u8]) -> bool) -> u8 {
        if self.lines.is_empty() {
            return 0;
        }
        let n = self.lines.iter().filter(|l| f(l)).count();
        (n * 100 / self.lines.len()) as u8
    }
}

impl Format {
    /// The name used by `--log-format` and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::PostgresStderr => "postgres-stderr",
            Format::PostgresSyslog => "postgres-syslog",
            Format::PostgresCsv => "postgres-csv",
            Format::PostgresJson => "postgres-json",
            Format::Pgbouncer => "pgbouncer",
            Format::MysqlSlow => "mysql-slow",
            Format::PerconaAudit => "percona-audit",
            Format::MysqlAudit => "mysql-audit",
            Format::MysqlError => "mysql-error",
            Format::MysqlGeneral => "mysql-general",
            Format::MysqlEnterpriseAudit => "mysql-enterprise-audit",
            Format::Cloudtrail => "cloudtrail",
            Format::CloudwatchLogs => "cloudwatch-logs",
            Format::CloudwatchExport => "cloudwatch-export",
            Format::Cnpg => "cnpg",
            Format::CloudSql => "cloudsql",
            Format::Azure => "azure",
            Format::Heroku => "heroku",
            Format::Supabase => "supabase",
        }
    }

    /// How sure (0-100) this format is that `sample` is written in it.
    pub fn sniff(self, sample: &Sample<'_>) -> u8 {
        match self {
            Format::PostgresStderr => postgres::stderr::sniff(sample),
            Format::PostgresSyslog => postgres::syslog::sniff(sample),
            Format::PostgresCsv => postgres::csvlog::sniff(sample),
            Format::PostgresJson => postgres::jsonlog::sniff(sample),
            Format::Pgbouncer => postgres::pgbouncer::sniff(sample),
            Format::MysqlSlow => mysql::slow::sniff(sample),
            Format::PerconaAudit => mysql::percona::sniff(sample),
            Format::MysqlAudit => mysql::audit::sniff(sample),
            Format::MysqlError => mysql::error::sniff(sample),
            Format::MysqlGeneral => mysql::general::sniff(sample),
            Format::MysqlEnterpriseAudit => mysql::enterprise::sniff(sample),
            Format::Cloudtrail => cloudtrail::records::sniff(sample),
            Format::CloudwatchLogs => cloudtrail::cloudwatch::sniff(sample),
            Format::CloudwatchExport => cloudtrail::export::sniff(sample),
            Format::Cnpg => postgres::cnpg::sniff(sample),
            Format::CloudSql => crate::platform::cloudsql::sniff(sample),
            Format::Azure => crate::platform::azure::sniff(sample),
            Format::Heroku => crate::platform::heroku::sniff(sample),
            Format::Supabase => postgres::supabase::sniff(sample),
        }
    }

    /// A line parser, for formats read one line at a time (`None` for JSON document formats).
    pub fn line_parser(self, cfg: &ParseConfig) -> Option<Box<dyn LineParser>> {
        Some(match self {
            Format::PostgresStderr => Box::new(postgres::stderr::StderrParser::new(cfg)),
            Format::PostgresSyslog => Box::new(postgres::syslog::SyslogParser::new(cfg)),
            Format::PostgresCsv => Box::new(postgres::csvlog::CsvlogParser::new(cfg)),
            Format::PostgresJson => Box::new(postgres::jsonlog::JsonlogParser::new(cfg)),
            Format::Pgbouncer => Box::new(postgres::pgbouncer::PgbouncerParser::new(cfg)),
            Format::MysqlSlow => Box::new(mysql::slow::SlowLogParser::new(cfg)),
            Format::PerconaAudit => Box::new(mysql::percona::PerconaAuditParser::new(cfg)),
            Format::MysqlAudit => Box::new(mysql::audit::AuditParser::new(cfg)),
            Format::MysqlError => Box::new(mysql::error::ErrorLogParser::new(cfg)),
            Format::MysqlGeneral => Box::new(mysql::general::GeneralLogParser::new(cfg)),
            Format::CloudwatchExport => Box::new(cloudtrail::export::ExportParser::new(cfg)),
            Format::Cnpg => Box::new(postgres::cnpg::CnpgParser::new(cfg)),
            Format::Heroku => Box::new(crate::platform::heroku::HerokuParser::new(cfg)),
            Format::MysqlEnterpriseAudit | Format::Cloudtrail | Format::CloudwatchLogs => {
                return None
            }
            Format::CloudSql | Format::Azure | Format::Supabase => return None,
        })
    }

    /// The parser for a whole input in this format. Line formats follow a change of
    /// format part-way through the input (see `switch.rs`).
    pub fn parser(self, cfg: &ParseConfig) -> Box<dyn Parser> {
        if let Some(lp) = self.line_parser(cfg) {
            let switching = crate::switch::Switching::new(self, lp, cfg);
            return Box::new(Lines::with_max_line(switching, cfg.max_line));
        }
        match self {
            Format::MysqlEnterpriseAudit => {
                Box::new(mysql::enterprise::EnterpriseAuditParser::new(cfg))
            }
            Format::Cloudtrail => Box::new(cloudtrail::records::CloudtrailParser::new(cfg)),
            Format::CloudwatchLogs => Box::new(cloudtrail::cloudwatch::CloudwatchParser::new(cfg)),
            Format::CloudSql => Box::new(crate::platform::cloudsql::CloudSqlParser::new(cfg)),
            Format::Azure => Box::new(crate::platform::azure::AzureParser::new(cfg)),
            Format::Supabase => Box::new(postgres::supabase::SupabaseParser::new(cfg)),
            _ => unreachable!("line formats are handled above"),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FORMATS
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = FORMATS.iter().map(|f| f.name()).collect();
                format!("unknown log format '{s}' (known: {})", names.join(", "))
            })
    }
}

/// Minimum sniff score for a format to be chosen.
pub const MIN_CONFIDENCE: u8 = 30;

/// Detects the format of an input from its first bytes. `None` when nothing is
/// confident enough.
pub fn detect(head: &[u8], complete: bool) -> Option<Format> {
    detect_among(&Sample::new(head, complete), FORMATS).map(|(f, _)| f)
}

/// As [`detect`], knowing the `log_line_prefix` the user gave (`--pg-prefix`): a
/// PostgreSQL log written with it is recognised even when that prefix is none of the
/// common ones keibi knows.
pub fn detect_with_prefix(head: &[u8], complete: bool, pg_prefix: Option<&str>) -> Option<Format> {
    let sample = Sample::new(head, complete);
    if let Some(p) = pg_prefix {
        if postgres::stderr::sniff_with(&sample, Some(p)) >= MIN_CONFIDENCE {
            return Some(Format::PostgresStderr);
        }
    }
    detect_among(&sample, FORMATS).map(|(f, _)| f)
}

/// The format among `formats` most sure of `sample` (ties: the first), with its score.
pub(crate) fn detect_among(sample: &Sample<'_>, formats: &[Format]) -> Option<(Format, u8)> {
    let mut best: Option<(u8, Format)> = None;
    for &f in formats {
        let score = f.sniff(sample);
        if score >= MIN_CONFIDENCE && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, f));
        }
    }
    best.map(|(s, f)| (f, s))
}

impl<T: LineParser + ?Sized> LineParser for Box<T> {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut crate::Output) {
        (**self).line(line, lineno, out)
    }
    fn finish(&mut self, out: &mut crate::Output) {
        (**self).finish(out)
    }
}
