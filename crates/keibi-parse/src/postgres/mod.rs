//! PostgreSQL: stderr (any `log_line_prefix`), syslog, csvlog, jsonlog, and pgaudit payloads.

pub mod csvlog;
pub mod jsonlog;
pub mod stderr;
pub mod syslog;
