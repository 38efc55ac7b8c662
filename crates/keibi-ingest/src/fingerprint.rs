//! A file's identity by content: a checksum of its head, so a followed file is
//! recognised after a rename, a restart, a copy (copytruncate's `x.log.1`) or
//! compression (`x.log.2.gz`), where its path or inode says nothing.
//!
//! The head is the first [`HEAD`] bytes (1 KiB). Log files often start alike: MySQL's
//! general log with the same three header lines after every restart, CloudTrail with
//! `{"Records":[{"eventVersion":...` and a user identity that may be the same from
//! file to file; a kilobyte reaches the first timestamp or request id, which differ.
//! A file still shorter than that is fingerprinted by what it has so far (the length
//! is part of the fingerprint), and the fingerprint is lengthened once the file has
//! grown: a known fingerprint matches a file whose first `len` bytes have its
//! checksum. Bytes of an appended file never change once written, so a partial last
//! line is as good as a whole one here.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bytes a full fingerprint covers.
pub const HEAD: usize = 1024;

/// A checksum of a file's first `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Bytes covered.
    pub len: u32,
    /// The first 64 bits of the SHA-256 of those bytes (stable across versions and
    /// machines, unlike `std`'s hasher: checkpoints are stored). Written as 16 hex
    /// digits: a JSON number this large loses digits in JavaScript, and SQLite's
    /// integers are signed.
    #[serde(with = "hex64")]
    pub hash: u64,
}

mod hex64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:016x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        u64::from_str_radix(&text, 16).map_err(serde::de::Error::custom)
    }
}

impl Fingerprint {
    /// The fingerprint of a file whose first bytes are `head` (as many as it has, up to
    /// 1 KiB or more). `None` for an empty file.
    pub fn of(head: &[u8]) -> Option<Fingerprint> {
        let len = head.len().min(HEAD);
        (len > 0).then(|| Fingerprint {
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
        (self.len as usize) < HEAD
    }
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
    fn a_short_file_is_fingerprinted_by_what_it_has_then_lengthened() {
        assert_eq!(Fingerprint::of(b""), None);
        let short = Fingerprint::of(b"one line\ntwo").unwrap();
        assert_eq!(short.len, 12);
        assert!(short.is_short());
        // The same file grown: the short fingerprint still matches, a longer one is taken.
        let mut grown = b"one line\ntwo".to_vec();
        grown.extend(std::iter::repeat_n(b'x', 3000));
        assert!(short.matches(&grown));
        let full = Fingerprint::of(&grown).unwrap();
        assert_eq!(full.len as usize, HEAD);
        assert!(!full.is_short());
        assert!(full.matches(&grown));
        assert!(!full.matches(&grown[..100]));
        assert!(!short.matches(b"one line\nTwo"));
    }

    #[test]
    fn files_that_start_alike_differ_past_the_common_start() {
        let a = br#"{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::111122223333:assumed-role/admin/alice","accountId":"111122223333"},"eventTime":"2026-11-28T15:41:43Z","eventSource":"rds.amazonaws.com","requestID":"aaaa-1111"}]}"#;
        let b = a
            .iter()
            .map(|&c| if c == b'1' { b'2' } else { c })
            .collect::<Vec<_>>();
        let fa = Fingerprint::of(a).unwrap();
        let fb = Fingerprint::of(&b).unwrap();
        assert_ne!(fa, fb);
        assert!(!fa.matches(&b));
    }
}
