//! A file's identity by content: a checksum of its head, so a followed file is
//! recognised after a rename, a restart, a copy (copytruncate's `x.log.1`) or
//! compression (`x.log.2.gz`), where its path or inode says nothing.
//!
//! The head is the first line that ends at or after byte [`MIN_HEAD`] (so at least
//! 256 bytes, usually a few whole lines), cut at [`MAX_HEAD`]. Log files often start
//! alike: MySQL's general log with the same three header lines after every restart,
//! CloudTrail with `{"Records":[{"eventVersion":...`; 256 bytes or more reach the
//! first timestamp or request id, which differ. A file still shorter than that is
//! fingerprinted by its whole lines so far (the head length is part of the
//! fingerprint), and the fingerprint is lengthened once the file has grown: a known
//! fingerprint matches a file whose first `len` bytes have its checksum.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bytes a full fingerprint covers at least (then up to the end of that line).
pub const MIN_HEAD: usize = 256;
/// Bytes a fingerprint covers at most (a first line longer than this is cut).
pub const MAX_HEAD: usize = 4096;

/// A checksum of a file's first `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Bytes covered.
    pub len: u32,
    /// The first 64 bits of the SHA-256 of those bytes (stable across versions and
    /// machines, unlike `std`'s hasher: checkpoints are stored).
    pub hash: u64,
}

impl Fingerprint {
    /// The fingerprint of a file whose first bytes are `head`. `complete` says `head`
    /// is the whole file and will not grow (a compressed file, a finished input); a
    /// growing file is fingerprinted on whole lines only. `None`: not enough yet.
    pub fn of(head: &[u8], complete: bool) -> Option<Fingerprint> {
        let len = head_len(head, complete)?;
        Some(Fingerprint {
            len: len as u32,
            hash: checksum(&head[..len]),
        })
    }

    /// Whether a file starting with `head` is the file this fingerprint was taken of.
    pub fn matches(&self, head: &[u8]) -> bool {
        let len = self.len as usize;
        head.len() >= len && checksum(&head[..len]) == self.hash
    }

    /// Whether a longer fingerprint could still be taken (the file was short).
    pub fn is_short(&self) -> bool {
        (self.len as usize) < MIN_HEAD
    }
}

fn head_len(head: &[u8], complete: bool) -> Option<usize> {
    if head.is_empty() {
        return None;
    }
    let window = &head[..head.len().min(MAX_HEAD)];
    if window.len() >= MIN_HEAD {
        if let Some(nl) = memchr::memchr(b'\n', &window[MIN_HEAD - 1..]) {
            return Some(MIN_HEAD + nl);
        }
        if head.len() >= MAX_HEAD || complete {
            return Some(window.len());
        }
    }
    if complete {
        return Some(window.len());
    }
    // A short, growing file: its whole lines so far.
    memchr::memrchr(b'\n', window).map(|nl| nl + 1)
}

fn checksum(bytes: &[u8]) -> u64 {
    let digest = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growing_file_is_fingerprinted_on_whole_lines() {
        assert_eq!(Fingerprint::of(b"", false), None);
        assert_eq!(Fingerprint::of(b"no newline yet", false), None);
        let short = Fingerprint::of(b"one line\ntwo", false).unwrap();
        assert_eq!(short.len, 9);
        assert!(short.is_short());
        // The same file grown: the short fingerprint still matches, a longer one is taken.
        let mut grown = b"one line\ntwo\n".to_vec();
        grown.extend(std::iter::repeat_n(b'x', 300));
        grown.extend(b"\nmore\n");
        assert!(short.matches(&grown));
        let full = Fingerprint::of(&grown, false).unwrap();
        assert_eq!(full.len as usize, 13 + 300 + 1);
        assert!(!full.is_short());
        assert!(full.matches(&grown));
        assert!(!full.matches(&grown[..100]));
    }

    #[test]
    fn files_that_start_alike_differ_past_the_common_start() {
        let a = br#"{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::111122223333:assumed-role/admin/alice","accountId":"111122223333"},"eventTime":"2026-11-28T15:41:43Z","eventSource":"rds.amazonaws.com","requestID":"aaaa-1111"}]}"#;
        let b = a
            .iter()
            .map(|&c| if c == b'1' { b'2' } else { c })
            .collect::<Vec<_>>();
        let fa = Fingerprint::of(a, true).unwrap();
        let fb = Fingerprint::of(&b, true).unwrap();
        assert_ne!(fa, fb);
        assert!(!fa.matches(&b));
    }

    #[test]
    fn long_first_line_is_cut() {
        let line = vec![b'a'; 10_000];
        let f = Fingerprint::of(&line, false).unwrap();
        assert_eq!(f.len as usize, MAX_HEAD);
        // Shorter than MAX_HEAD with no newline: wait for more (it may still differ).
        assert_eq!(Fingerprint::of(&line[..1000], false), None);
        assert_eq!(Fingerprint::of(&line[..1000], true).unwrap().len, 1000);
    }
}
