//! Helpers shared by the parsers' unit tests: running input through a parser, a
//! seeded pseudo-random generator for mutated-input tests, and thread CPU time for
//! the `#[ignore]`d throughput tests.

use crate::{Format, LineParser, Lines, Output, ParseConfig, Parser};

/// Runs a whole input through a format's parser, in chunks of `chunk` bytes.
pub(crate) fn parse_bytes(format: Format, cfg: &ParseConfig, bytes: &[u8], chunk: usize) -> Output {
    let mut p = format.parser(cfg);
    let mut out = Output::new();
    for c in bytes.chunks(chunk.max(1)) {
        p.push(c, &mut out);
    }
    p.finish(&mut out);
    out
}

/// Runs a whole input through one line parser (no format switching).
pub(crate) fn run_lines<P: LineParser>(parser: P, input: &[u8]) -> Output {
    let mut p = Lines::new(parser);
    let mut out = Output::new();
    p.push(input, &mut out);
    p.finish(&mut out);
    out
}

/// An event's time as RFC 3339 UTC, sub-seconds only when it has them.
pub(crate) fn rfc3339(e: &keibi_model::Event) -> String {
    e.time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// One step of xorshift64: deterministic noise for mutated-input tests.
pub(crate) fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// CPU time of this thread (so other work on the machine does not count), from
/// `/proc/thread-self/schedstat` where there is one; else wall time.
pub(crate) fn cpu_seconds() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split(' ').next()?.parse::<f64>().ok())
        .map(|ns| ns / 1e9)
        .unwrap_or_else(|| {
            START
                .get_or_init(std::time::Instant::now)
                .elapsed()
                .as_secs_f64()
        })
}
