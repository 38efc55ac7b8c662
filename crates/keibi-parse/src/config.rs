//! Settings that change how input is interpreted (not what is detected).

use std::sync::Arc;

use chrono::FixedOffset;

/// What a parser needs to know beyond the bytes.
#[derive(Debug, Clone)]
pub struct ParseConfig {
    /// Path shown in events and problems (`-` for standard input).
    pub file: Arc<str>,
    /// Database instance id for events from this input (see `docs/events.md`).
    pub instance: Option<String>,
    /// PostgreSQL `log_line_prefix` given with `--pg-prefix`; `None` detects it.
    pub pg_prefix: Option<String>,
    /// Offset for timestamps written without a zone (MariaDB server_audit, MySQL 5.x
    /// error logs, syslog). RDS writes UTC, so UTC is the default.
    pub local_offset: FixedOffset,
    /// Year of the first line of a BSD syslog file, whose timestamps have none (the
    /// caller may know it, e.g. from the file's modification time). `None`: the year
    /// comes from dated content in the file, else a fixed default (see `crate::syslog::Clock`).
    pub syslog_year: Option<i32>,
    /// Longest line a line parser is handed whole; of a longer one only the head and
    /// the tail are read ([`crate::MAX_LINE`]; a fuzz target lowers it so that small
    /// inputs reach the cut).
    pub max_line: usize,
}

impl ParseConfig {
    pub fn new(file: impl Into<Arc<str>>) -> Self {
        ParseConfig {
            file: file.into(),
            instance: None,
            pg_prefix: None,
            local_offset: FixedOffset::east_opt(0).expect("zero offset is valid"),
            syslog_year: None,
            max_line: crate::MAX_LINE,
        }
    }
}
