//! Cutting a log into stream records for a producer (`keibi stream send`): a
//! [`super::PartitionSource`] parses each record to its end, so an entry must not be
//! split across records (a PostgreSQL message and its DETAIL, a statement's tab-
//! indented lines). The log is parsed once to learn where entries start; records
//! are cut only before such a line.

use std::collections::HashSet;
use std::ops::Range;

use keibi_parse::{Output, ParseConfig};

use crate::feed::Feed;
use crate::merge::IngestOptions;
use crate::stream::choose;

use super::source::MAX_RECORD;

/// Bytes parsed at a time while looking for entry starts.
const STEP: usize = 1 << 20;

/// The byte ranges of `bytes` to send as records, in order: whole lines, at most
/// `max` bytes each where entries allow (one entry longer than `max` is a record of
/// its own, up to [`MAX_RECORD`]), cut only before a line where an entry starts. A log in no recognised
/// format is cut at any line end; a document format (CloudTrail JSON) is one record.
pub fn record_ranges(bytes: &[u8], opts: &IngestOptions, max: usize) -> Vec<Range<usize>> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let max = max.max(1);
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let starts: Option<HashSet<u64>> = match choose(head, head.len() == bytes.len(), opts, false) {
        Ok((format, prefix)) => {
            let mut cfg = ParseConfig::new("-");
            cfg.pg_prefix = opts.pg_prefix.clone().or(prefix);
            cfg.local_offset = opts.local_offset;
            let mut feed = Feed::new(format, &cfg, None);
            if !feed.line_oriented() {
                #[allow(clippy::single_range_in_vec_init)] // one record: the whole document
                return vec![0..bytes.len()];
            }
            let mut starts = HashSet::new();
            let mut out = Output::new();
            let mut at = 0;
            while at < bytes.len() {
                let mut end = (at + STEP).min(bytes.len());
                if end < bytes.len() {
                    end = memchr::memrchr(b'\n', &bytes[at..end]).map_or(end, |nl| at + nl + 1);
                }
                feed.push(&bytes[at..end], &mut out);
                starts.extend(out.events.drain(..).map(|e| e.line));
                out.problems.clear();
                at = end;
            }
            feed.finish(&mut out);
            starts.extend(out.events.drain(..).map(|e| e.line));
            Some(starts)
        }
        Err(_) => None,
    };
    let is_start = |line: u64| starts.as_ref().is_none_or(|s| s.contains(&line));
    let mut ranges = Vec::new();
    let mut begin = 0usize;
    // The last entry start inside the current record (not its first line).
    let mut last_start: Option<usize> = None;
    let mut off = 0usize;
    let mut line = 1u64;
    while off < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[off..]).map_or(bytes.len(), |nl| off + nl + 1);
        if off > begin && end - begin > max {
            // Before this line if an entry starts here, else before the record's
            // last entry; an entry longer than `max` grows on to the stream's own
            // limit, where it is cut (its parts read as separate entries).
            let cut = if is_start(line) {
                Some(off)
            } else if last_start.is_some() {
                last_start
            } else if end - begin > MAX_RECORD {
                Some(off)
            } else {
                None
            };
            if let Some(cut) = cut {
                ranges.push(begin..cut);
                begin = cut;
                last_start = None;
            }
        }
        if off > begin && is_start(line) {
            last_start = Some(off);
        }
        off = end;
        line += 1;
    }
    if begin < bytes.len() {
        ranges.push(begin..bytes.len());
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_hold_whole_entries() {
        let log = super::super::tests::ENTRIES.concat();
        let opts = IngestOptions::default();
        let cut = |max| -> Vec<&str> {
            record_ranges(log.as_bytes(), &opts, max)
                .into_iter()
                .map(|r| &log[r])
                .collect()
        };
        // Small records: one entry each, continuation lines kept with their entry.
        assert_eq!(cut(1), super::super::tests::ENTRIES);
        assert_eq!(cut(usize::MAX), [log.as_str()]);
        // Two entries fit, a third does not.
        let two = super::super::tests::ENTRIES[..2].concat().len();
        assert_eq!(cut(two)[0], super::super::tests::ENTRIES[..2].concat());
        assert_eq!(cut(two).concat(), log);
        // Unknown text: cut at any line.
        let text = "a\nb\nc";
        assert_eq!(record_ranges(text.as_bytes(), &opts, 2), [0..2, 2..4, 4..5]);
        assert!(record_ranges(b"", &opts, 2).is_empty());
    }
}
