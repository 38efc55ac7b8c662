//! PostgreSQL: stderr (any `log_line_prefix`), syslog, csvlog, jsonlog, and pgaudit payloads.

pub mod csvlog;
pub mod jsonlog;
mod message;
mod pgaudit;
pub mod prefix;
pub mod stderr;
pub mod syslog;

/// Runs a whole input through a format's parser, in chunks of `chunk` bytes.
#[cfg(test)]
pub(crate) fn parse_bytes(
    format: crate::Format,
    cfg: &crate::ParseConfig,
    bytes: &[u8],
    chunk: usize,
) -> crate::Output {
    let mut p = format.parser(cfg);
    let mut out = crate::Output::new();
    for c in bytes.chunks(chunk.max(1)) {
        p.push(c, &mut out);
    }
    p.finish(&mut out);
    out
}
