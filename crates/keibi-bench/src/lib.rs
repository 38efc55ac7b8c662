//! Synthetic logs shaped like real ones, so benchmarks and load tests measure keibi on
//! the mix of lines it meets in production rather than on one repeated line.
//!
//! Everything is deterministic for a seed (a tiny xorshift, no `rand`), and timestamps
//! come from a clock driven by the bytes written so far: the output of a given size
//! always spans the same time and times never go backwards.

pub mod cloudtrail;
pub mod mariadb;
pub mod postgres;

use std::fmt::Write as _;

/// xorshift64*: fast, seedable, good enough for picking log lines.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // A zero state would stay zero forever.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n` below 2^32).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() >> 32) * n) >> 32
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// Picks from `(weight, item)` pairs.
    pub fn weighted<T: Copy>(&mut self, xs: &[(u32, T)]) -> T {
        let total: u64 = xs.iter().map(|(w, _)| u64::from(*w)).sum();
        let mut r = self.below(total);
        for (w, x) in xs {
            if r < u64::from(*w) {
                return *x;
            }
            r -= u64::from(*w);
        }
        xs[xs.len() - 1].1
    }

    /// Lower-case hex digits.
    pub fn hex(&mut self, s: &mut String, n: usize) {
        for _ in 0..n {
            s.push(char::from(b"0123456789abcdef"[self.below(16) as usize]));
        }
    }

    /// A random version-4-looking UUID.
    pub fn uuid(&mut self, s: &mut String) {
        for (i, n) in [8, 4, 4, 4, 12].into_iter().enumerate() {
            if i > 0 {
                s.push('-');
            }
            self.hex(s, n);
        }
    }

    /// Upper-case letters and digits, as in access key ids.
    pub fn alnum_upper(&mut self, s: &mut String, n: usize) {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        for _ in 0..n {
            s.push(char::from(A[self.below(A.len() as u64) as usize]));
        }
    }

    /// A public-looking client address: mostly a few office/VPN addresses, some noise.
    pub fn client_ip(&mut self, s: &mut String) {
        if self.chance(700) {
            let _ = write!(s, "10.0.{}.{}", self.range(1, 4), self.range(10, 60));
        } else {
            let _ = write!(
                s,
                "{}.{}.{}.{}",
                self.pick(&[52u8, 54, 3, 18, 34, 185, 91, 203]),
                self.below(256),
                self.below(256),
                self.range(1, 254)
            );
        }
    }
}

/// A UTC civil time, from Unix seconds (Howard Hinnant's `civil_from_days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Civil {
    pub fn from_unix(t: i64) -> Self {
        let days = t.div_euclid(86_400);
        let secs = t.rem_euclid(86_400) as u32;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
        }
    }
}

/// 2026-11-28 00:00:00 UTC, where generated logs start by default.
pub const DEFAULT_START: i64 = 1_795_824_000;

/// Time as a function of bytes written: `span` seconds pass every `bytes_per_span`
/// bytes, so files cut at span boundaries (an hour of PostgreSQL log, five minutes of
/// CloudTrail) all come out about the same size.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub start: i64,
    pub span: i64,
    pub bytes_per_span: u64,
}

impl Clock {
    pub fn at(&self, bytes: u64) -> i64 {
        let per = self.bytes_per_span.max(1);
        let whole = (bytes / per) as i64 * self.span;
        let part = ((bytes % per) as u128 * self.span as u128 / per as u128) as i64;
        self.start + whole + part
    }
}

/// A generator of line-oriented log records.
pub trait LineLog {
    /// Appends the next record (one or more complete lines) stamped `t`.
    fn next_record(&mut self, t: i64, out: &mut Vec<u8>);
}

/// At least `bytes` bytes of `log` (whole records), starting at `clock.start`.
pub fn fill(log: &mut dyn LineLog, clock: Clock, bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 4096);
    while out.len() < bytes {
        let t = clock.at(out.len() as u64);
        log.next_record(t, &mut out);
    }
    out
}

/// `~64 MiB`-style sizes: a number with an optional K, M or G suffix (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&s[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid size '{s}' (expected e.g. 512K, 64M, 1G)"))?;
    if !n.is_finite() || n <= 0.0 {
        return Err(format!("invalid size '{s}' (must be positive)"));
    }
    Ok((n * mult as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_matches_known_dates() {
        let c = Civil::from_unix(DEFAULT_START);
        assert_eq!((c.year, c.month, c.day, c.hour), (2026, 11, 28, 0));
        let c = Civil::from_unix(951_782_400); // 2000-02-29
        assert_eq!((c.year, c.month, c.day), (2000, 2, 29));
        let c = Civil::from_unix(1_704_067_199); // 2023-12-31 23:59:59
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (2023, 12, 31, 23, 59, 59)
        );
    }

    #[test]
    fn clock_is_monotonic_and_spans() {
        let c = Clock {
            start: 0,
            span: 3600,
            bytes_per_span: 1000,
        };
        assert_eq!(c.at(0), 0);
        assert_eq!(c.at(500), 1800);
        assert_eq!(c.at(2000), 7200);
        let mut last = 0;
        for b in (0..10_000).step_by(7) {
            assert!(c.at(b) >= last);
            last = c.at(b);
        }
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("64M").unwrap(), 64 << 20);
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("x").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            let x = a.below(10);
            assert_eq!(x, b.below(10));
            assert!(x < 10);
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }
}
