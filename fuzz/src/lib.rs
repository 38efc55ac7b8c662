//! What every parser fuzz target checks, in one place: a hostile input, cut into
//! chunks at arbitrary places, must not panic any parser nor make its output grow
//! beyond what the input can account for.
//!
//! Input layout: the first byte chooses how the rest is split into chunks (0: one
//! chunk; otherwise its low four bits bound the chunk size to 1..=2^n bytes and the
//! byte seeds the sizes), the rest is the log. Seeds in `seeds/` carry that byte.

use keibi_parse::{Format, Output, ParseConfig};

/// Splits `data` (after its control byte) into chunks as the control byte says.
pub fn chunks(data: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let Some((&control, mut rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let body = rest;
    if control == 0 {
        return (vec![rest], body);
    }
    let max = 1u64 << (control & 0x0f);
    let mut state = u64::from(control).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::new();
    while !rest.is_empty() {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let n = (state.wrapping_mul(0x2545_F491_4F6C_DD1D) % max + 1) as usize;
        let (a, b) = rest.split_at(n.min(rest.len()));
        out.push(a);
        rest = b;
    }
    (out, body)
}

/// Feeds `data` to `format`'s parser and checks the output stays bounded.
pub fn parse(format: Format, data: &[u8]) {
    parse_with(format, data, keibi_parse::MAX_LINE)
}

/// The line bound of [`parse_cut`]: small, so that fuzzed inputs reach the cut of
/// oversized lines (head, marker, tail; events marked `oversized`).
pub const CUT_LINE: usize = 256;

/// The line formats, in [`keibi_parse::FORMATS`] order.
pub fn line_formats() -> Vec<Format> {
    let cfg = ParseConfig::new("fuzz");
    keibi_parse::FORMATS
        .iter()
        .copied()
        .filter(|f| f.line_parser(&cfg).is_some())
        .collect()
}

/// The first byte chooses a line format (its index in [`line_formats`], modulo); the
/// rest goes to that format's parser as in [`parse`], with lines over [`CUT_LINE`]
/// bytes cut.
pub fn parse_cut(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let formats = line_formats();
    parse_with(formats[usize::from(pick) % formats.len()], rest, CUT_LINE)
}

fn parse_with(format: Format, data: &[u8], max_line: usize) {
    let (chunks, body) = chunks(data);
    let mut cfg = ParseConfig::new("fuzz");
    cfg.instance = Some("fuzz-db".into());
    cfg.max_line = max_line;
    let mut parser = format.parser(&cfg);
    let mut out = Output::new();
    let mut seen = Seen::default();
    let mut fed = 0usize;
    for chunk in &chunks {
        parser.push(chunk, &mut out);
        fed += chunk.len();
        seen.newlines += newlines(chunk);
        seen.drain(&mut out, fed);
    }
    parser.finish(&mut out);
    seen.drain(&mut out, body.len());
    // Each event or problem must be owed to some input: at most a couple per byte or
    // per chunk boundary, never a flood from a small input.
    let bound = 2 * body.len() + 2 * chunks.len() + 16;
    assert!(
        seen.events + seen.problems <= bound,
        "{format}: {} events and {} problems from {} bytes in {} chunks",
        seen.events,
        seen.problems,
        body.len(),
        chunks.len()
    );
}

#[derive(Default)]
struct Seen {
    events: usize,
    problems: usize,
    /// Line feeds in the input fed so far.
    newlines: u64,
}

impl Seen {
    /// Checks and counts what the parser wrote after `fed` bytes of input.
    fn drain(&mut self, out: &mut Output, fed: usize) {
        let lines = self.newlines + 1;
        for e in out.events.drain(..) {
            // An event may repeat what it read (JSON escaping can make a byte six),
            // plus a fixed set of fields: anything larger is memory out of thin air.
            let size = serde_json::to_vec(&e).map(|v| v.len()).unwrap_or(0);
            // (A cut line's marker is shorter than what it stands for.)
            assert!(
                size <= 8 * fed + 4096,
                "event of {size} bytes from {fed} bytes of input: {e:?}"
            );
            assert!(
                e.line <= lines,
                "event at line {} of {lines} lines read",
                e.line
            );
            self.events += 1;
        }
        for p in out.problems.drain(..) {
            assert!(
                p.line <= lines,
                "problem at line {} of {lines} lines read: {p:?}",
                p.line
            );
            assert!(
                p.reason.len() <= fed + 1024,
                "problem reason of {} bytes from {fed} bytes of input",
                p.reason.len()
            );
            self.problems += 1;
        }
    }
}

fn newlines(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cut_target_reaches_the_cut_in_every_line_format() {
        assert_eq!(line_formats().len(), 8);
        for pick in 0..8u8 {
            let mut data = vec![pick, 0];
            data.extend_from_slice(b"2026-11-28 15:41:43 UTC:10.0.0.5(4000):app@shop:[7]:LOG:  statement: SELECT 1 /*");
            data.extend(std::iter::repeat_n(b'x', 1000));
            data.extend_from_slice(b"*/; DROP TABLE orders\nnext\n");
            parse_cut(&data);
        }
    }

    #[test]
    fn chunks_cover_the_input_in_order() {
        for control in 0..=255u8 {
            let mut data = vec![control];
            data.extend(0..200u8);
            let (chunks, body) = chunks(&data);
            assert_eq!(chunks.concat(), body);
            assert!(chunks.iter().all(|c| !c.is_empty()));
            if control != 0 {
                let max = 1usize << (control & 0x0f);
                assert!(chunks.iter().all(|c| c.len() <= max));
            }
        }
    }
}
