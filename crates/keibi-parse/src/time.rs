//! Timestamp parsing shared by the parsers: fast, allocation-free, and total
//! (a malformed timestamp is `None`, never a panic).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut n = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(c - b'0');
    }
    Some(n)
}

/// Parses `YYYY-MM-DD?HH:MM:SS[.frac]` (`?` is a space or `T`) at the start of `b`.
/// Returns the naive time and the number of bytes used.
pub fn parse_ymd_hms(b: &[u8]) -> Option<(NaiveDateTime, usize)> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b' ' || b[10] == b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        digits(&b[0..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )?;
    let (h, m, s) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let (nanos, used) = fraction(&b[19..]);
    let time = NaiveTime::from_hms_nano_opt(h, m, s.min(59), nanos)?;
    Some((NaiveDateTime::new(date, time), 19 + used))
}

/// Parses `YYYYMMDD HH:MM:SS` (MariaDB server_audit) at the start of `b`.
pub fn parse_compact_ymd_hms(b: &[u8]) -> Option<(NaiveDateTime, usize)> {
    if b.len() < 17 || b[8] != b' ' || b[11] != b':' || b[14] != b':' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        digits(&b[0..4])? as i32,
        digits(&b[4..6])?,
        digits(&b[6..8])?,
    )?;
    let time = NaiveTime::from_hms_opt(
        digits(&b[9..11])?,
        digits(&b[12..14])?,
        digits(&b[15..17])?.min(59),
    )?;
    Some((NaiveDateTime::new(date, time), 17))
}

/// Parses `YYMMDD HH:MM:SS` or `YYMMDD  H:MM:SS` (old MySQL/MariaDB logs) at the start of `b`.
pub fn parse_short_ymd_hms(b: &[u8]) -> Option<(NaiveDateTime, usize)> {
    if b.len() < 15 || b[6] != b' ' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        2000 + digits(&b[0..2])? as i32,
        digits(&b[2..4])?,
        digits(&b[4..6])?,
    )?;
    let mut i = 7;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let rest = &b[i..];
    let colon = rest.iter().position(|&c| c == b':')?;
    if colon == 0 || colon > 2 || rest.len() < colon + 6 {
        return None;
    }
    let h = digits(&rest[..colon])?;
    if rest[colon + 3] != b':' {
        return None;
    }
    let m = digits(&rest[colon + 1..colon + 3])?;
    let s = digits(&rest[colon + 4..colon + 6])?;
    let time = NaiveTime::from_hms_opt(h, m, s.min(59))?;
    Some((NaiveDateTime::new(date, time), i + colon + 6))
}

/// Parses an optional `.digits` fraction; returns nanoseconds and bytes used.
fn fraction(b: &[u8]) -> (u32, usize) {
    if b.first() != Some(&b'.') && b.first() != Some(&b',') {
        return (0, 0);
    }
    let n = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return (0, 0);
    }
    let mut nanos = 0u32;
    for i in 0..9 {
        nanos = nanos * 10
            + b.get(1 + i)
                .filter(|_| i < n)
                .map_or(0, |c| u32::from(c - b'0'));
    }
    (nanos, 1 + n)
}

/// A time zone written after a timestamp: `UTC`, `Z`, `+09`, `+05:30`, `-0800`, or a
/// common abbreviation (`CET`, `JST`, `EST` ...). `None` when unknown.
pub fn zone_offset(zone: &str) -> Option<FixedOffset> {
    let z = zone.trim();
    if let Some(sign) = z.chars().next().filter(|c| *c == '+' || *c == '-') {
        let d: String = z[1..].chars().filter(|c| c.is_ascii_digit()).collect();
        let (h, m) = match d.len() {
            1 | 2 => (d.parse::<i32>().ok()?, 0),
            3 => (d[..1].parse::<i32>().ok()?, d[1..].parse::<i32>().ok()?),
            4 => (d[..2].parse::<i32>().ok()?, d[2..].parse::<i32>().ok()?),
            _ => return None,
        };
        let secs = (h * 3600 + m * 60) * if sign == '-' { -1 } else { 1 };
        return FixedOffset::east_opt(secs);
    }
    let hours: f32 = match z.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "Z" | "UT" | "WET" => 0.0,
        "BST" | "CET" | "WEST" | "MET" => 1.0,
        "CEST" | "EET" | "MEST" | "SAST" => 2.0,
        "EEST" | "MSK" | "IDT" => 3.0,
        "IST" => 5.5,
        "ICT" | "WIB" => 7.0,
        "CST" => -6.0,
        "HKT" | "SGT" | "AWST" | "PHT" => 8.0,
        "JST" | "KST" => 9.0,
        "ACST" => 9.5,
        "AEST" => 10.0,
        "ACDT" => 10.5,
        "AEDT" => 11.0,
        "NZST" => 12.0,
        "NZDT" => 13.0,
        "AST" | "EDT" => -4.0,
        "EST" | "CDT" => -5.0,
        "MDT" => -6.0,
        "MST" | "PDT" => -7.0,
        "PST" | "AKDT" => -8.0,
        "AKST" => -9.0,
        "HST" => -10.0,
        "NST" => -3.5,
        "NDT" => -2.5,
        "ADT" | "BRT" | "ART" => -3.0,
        _ => return None,
    };
    FixedOffset::east_opt((hours * 3600.0) as i32)
}

/// Converts a naive local time at `offset` to UTC.
pub fn to_utc(t: NaiveDateTime, offset: FixedOffset) -> DateTime<Utc> {
    match offset.from_local_datetime(&t).single() {
        Some(dt) => dt.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&t),
    }
}

/// Parses a timestamp followed by an optional zone word, as PostgreSQL's `%t`/`%m`/`%n`
/// and most of its syslog and CSV output write it (`2026-11-28 15:41:22.123 UTC`).
/// Returns the UTC time and bytes used (timestamp and zone). Unknown zones fall back
/// to `default`.
pub fn parse_pg_time(b: &[u8], default: FixedOffset) -> Option<(DateTime<Utc>, usize)> {
    let (naive, mut used) = parse_ymd_hms(b)?;
    let mut offset = default;
    let rest = &b[used..];
    let start = usize::from(rest.first() == Some(&b' '));
    let word = &rest[start..];
    let len = match word.first() {
        Some(c) if c.is_ascii_alphabetic() => {
            word.iter().take_while(|c| c.is_ascii_alphabetic()).count()
        }
        Some(b'+' | b'-') => {
            let d = word[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            let mut n = 1 + d;
            if d == 2
                && word.get(n) == Some(&b':')
                && word[n + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count()
                    == 2
            {
                n += 3;
            }
            if d == 0 {
                0
            } else {
                n
            }
        }
        _ => 0,
    };
    if len > 0 {
        if let Some(o) = std::str::from_utf8(&word[..len]).ok().and_then(zone_offset) {
            offset = o;
            used += start + len;
        }
    }
    Some((to_utc(naive, offset), used))
}

/// Unix epoch in seconds, milliseconds or microseconds, told apart by magnitude.
pub fn from_epoch(n: i64) -> Option<DateTime<Utc>> {
    let a = n.unsigned_abs();
    if a >= 100_000_000_000_000_000 {
        Some(DateTime::from_timestamp_nanos(n))
    } else if a >= 100_000_000_000_000 {
        DateTime::from_timestamp_micros(n)
    } else if a >= 100_000_000_000 {
        DateTime::from_timestamp_millis(n)
    } else {
        DateTime::from_timestamp(n, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).unwrap()
    }

    #[test]
    fn pg_times() {
        let (t, n) = parse_pg_time(b"2026-11-28 15:41:22 UTC:1.2.3.4", utc()).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T15:41:22+00:00");
        assert_eq!(n, 23);
        let (t, _) = parse_pg_time(b"2026-11-28 15:41:22.536 CET [1]", utc()).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T14:41:22.536+00:00");
        let (t, n) = parse_pg_time(b"2026-11-28 15:41:22.5+09 x", utc()).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T06:41:22.500+00:00");
        assert_eq!(n, 24);
        assert!(parse_pg_time(b"2026-13-28 15:41:22", utc()).is_none());
        assert!(parse_pg_time(b"garbage", utc()).is_none());
    }

    #[test]
    fn mysql_times() {
        let (t, n) = parse_compact_ymd_hms(b"20261128 15:42:14,vm").unwrap();
        assert_eq!(t.to_string(), "2026-11-28 15:42:14");
        assert_eq!(n, 17);
        let (t, n) = parse_short_ymd_hms(b"261128 15:42:04 server_audit").unwrap();
        assert_eq!(t.to_string(), "2026-11-28 15:42:04");
        assert_eq!(n, 15);
        let (t, _) = parse_short_ymd_hms(b"130324  7:56:14 [Warning]").unwrap();
        assert_eq!(t.to_string(), "2013-03-24 07:56:14");
        assert_eq!(
            from_epoch(1728498527380921).unwrap().to_rfc3339(),
            "2024-10-09T18:28:47.380921+00:00"
        );
        assert_eq!(from_epoch(1432826855000).unwrap().timestamp(), 1432826855);
    }

    #[test]
    fn zones() {
        assert_eq!(zone_offset("+05:30").unwrap().local_minus_utc(), 19800);
        assert_eq!(zone_offset("-0800").unwrap().local_minus_utc(), -28800);
        assert_eq!(zone_offset("JST").unwrap().local_minus_utc(), 32400);
        assert!(zone_offset("XYZ").is_none());
    }
}
