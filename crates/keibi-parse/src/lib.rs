//! Parsers: bytes in, [`keibi_model::Event`]s out.
//!
//! Parsing is pure: a parser is fed byte chunks (from a file, a pipe, a network
//! payload: it does not know) and pushes events and problems into an [`Output`].
//! No I/O, no threads, no clocks, so `scan` (batch) and a daemon share parsers unchanged.
//!
//! Where things go:
//! - a new log format: a module under `postgres/`, `mysql/` or `cloudtrail/`, plus one
//!   variant in [`Format`] (`format.rs`), which lists every format in one place;
//! - line-oriented formats implement [`LineParser`] and get chunking, line numbers and
//!   the line-length bound from [`Lines`] for free.

pub mod cloudtrail;
mod config;
mod format;
pub mod jsonsplit;
mod lines;
pub mod mysql;
mod output;
pub mod platform;
pub mod postgres;
mod switch;
pub mod syslog;
#[cfg(test)]
mod testutil;
pub mod time;

pub use config::ParseConfig;
pub use format::{detect, detect_with_prefix, Format, FORMATS};
pub use lines::{LineParser, Lines, MAX_LINE};
pub use output::{Output, Problem};

/// A parser fed arbitrary chunks of one input stream.
///
/// Chunk boundaries carry no meaning: a record may be split across chunks. After
/// the last chunk, [`Parser::finish`] flushes whatever record is still pending.
pub trait Parser: Send {
    /// Feeds the next chunk of input.
    fn push(&mut self, chunk: &[u8], out: &mut Output);
    /// Signals end of input; flushes pending records.
    fn finish(&mut self, out: &mut Output);
}
