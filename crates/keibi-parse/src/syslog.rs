//! Syslog headers, shared by every log that may come through syslog or journald
//! (PostgreSQL, MySQL/MariaDB error logs): BSD (`Nov 28 15:41:22 host prog[123]: `,
//! optionally `<PRI>`-led), ISO-dated (`2026-11-28T15:41:22.123456+00:00 host prog[123]: `,
//! rsyslog's high-precision format and `journalctl -o short-iso`) and RFC 5424
//! (`<134>1 2026-11-28T15:41:22Z host prog 123 - - `).
//!
//! BSD timestamps have no year. [`Clock`] supplies it: the year of the last full date
//! read in the file (an ISO header, or a timestamp in the message); else
//! [`ParseConfig::syslog_year`](crate::ParseConfig); else [`DEFAULT_YEAR`]. It moves on
//! by one when the month goes back by six or more (December to January).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, Utc};

use crate::time::{parse_ymd_hms, to_utc, zone_offset};

/// Year of BSD syslog lines when neither the file nor the configuration tells: a
/// fixed, obviously-old leap year (so February 29 reads), never the clock.
pub const DEFAULT_YEAR: i32 = 2000;

/// The time in a syslog header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HeaderTime {
    /// BSD: month (1-12), day and time of day, no year, local time.
    Bsd(u32, u32, NaiveTime),
    /// ISO-dated with a zone (`Z`, `+01:00`, journald's `+0100`).
    Full(DateTime<Utc>),
    /// ISO-dated without a zone: local time.
    Local(NaiveDateTime),
}

/// A syslog header and what follows it.
#[derive(Debug)]
pub struct Header<'a> {
    pub time: HeaderTime,
    /// The program (`ident`, RFC 5424 `APP-NAME`): `postgres`, `mariadbd` ...
    pub program: &'a [u8],
    pub pid: Option<u32>,
    /// The message.
    pub rest: &'a [u8],
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

pub(crate) fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// The first space-separated word of `b` and the rest after the space.
fn word(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = memchr::memchr(b' ', b)?;
    Some((&b[..i], &b[i + 1..]))
}

/// `Mmm dd HH:MM:SS ` (day space-padded).
fn bsd_time(b: &[u8]) -> Option<(HeaderTime, &[u8])> {
    if b.len() < 16 || b[3] != b' ' || b[6] != b' ' || b[15] != b' ' {
        return None;
    }
    let month = MONTHS.iter().position(|m| &b[..3] == *m)? as u32 + 1;
    let day_text = if b[4] == b' ' { &b[5..6] } else { &b[4..6] };
    let day = num(day_text).filter(|d| (1..=31).contains(d))?;
    if b[9] != b':' || b[12] != b':' {
        return None;
    }
    let time = NaiveTime::from_hms_opt(num(&b[7..9])?, num(&b[10..12])?, num(&b[13..15])?.min(59))?;
    Some((HeaderTime::Bsd(month, day, time), &b[16..]))
}

/// `YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM] `. The `T` is required: a space there is a
/// stderr line (`2026-11-28 15:41:22 UTC [5]: [1-1] ...` would read as host `UTC`).
fn iso_time(b: &[u8]) -> Option<(HeaderTime, &[u8])> {
    if b.get(10) != Some(&b'T') {
        return None;
    }
    let (naive, mut n) = parse_ymd_hms(b)?;
    let mut off = None;
    match b.get(n) {
        Some(b'Z') => {
            off = Some(Utc.fix());
            n += 1;
        }
        Some(b'+' | b'-') => {
            // `+00:00`, or journald's `+0000`.
            let len = 1 + b[n + 1..]
                .iter()
                .take(5)
                .take_while(|c| c.is_ascii_digit() || **c == b':')
                .count();
            off = Some(zone_offset(std::str::from_utf8(&b[n..n + len]).ok()?)?);
            n += len;
        }
        _ => {}
    }
    if b.get(n) != Some(&b' ') {
        return None;
    }
    let time = match off {
        Some(off) => HeaderTime::Full(to_utc(naive, off)),
        None => HeaderTime::Local(naive),
    };
    Some((time, &b[n + 1..]))
}

/// RFC 5424 structured data: `-` or one or more `[id key="value" ...]` elements.
fn skip_structured_data(b: &[u8]) -> Option<&[u8]> {
    if let Some(rest) = b.strip_prefix(b"-") {
        return Some(rest);
    }
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_quotes = false;
        loop {
            i += 1;
            match b.get(i)? {
                b'\\' => i += 1,
                b'"' => in_quotes = !in_quotes,
                b']' if !in_quotes => break,
                _ => {}
            }
        }
        i += 1;
    }
    (i > 0).then(|| &b[i..])
}

/// Reads the header of a syslog line.
pub fn header(line: &[u8]) -> Option<Header<'_>> {
    let mut b = line;
    if b.first() == Some(&b'<') {
        let end = memchr::memchr(b'>', b.get(..5)?)?;
        num(&b[1..end])?;
        b = &b[end + 1..];
    }
    let rfc5424 = b.starts_with(b"1 ");
    if rfc5424 {
        b = &b[2..];
    }
    let (time, rest) = match bsd_time(b) {
        Some(t) if !rfc5424 => t,
        _ => iso_time(b)?,
    };
    let (host, rest) = word(rest)?;
    if host.is_empty() {
        return None;
    }
    let (program, pid, rest) = if rfc5424 {
        let (app, rest) = word(rest)?;
        let (procid, rest) = word(rest)?;
        let (_msgid, rest) = word(rest)?;
        let rest = skip_structured_data(rest)?;
        let rest = rest.strip_prefix(b" ").unwrap_or(rest);
        let rest = rest.strip_prefix("\u{feff}".as_bytes()).unwrap_or(rest);
        (app, num(procid), rest)
    } else {
        // `ident[pid]: ` or `ident: `.
        let colon = memchr::memchr(b':', rest)?;
        let tag = &rest[..colon];
        if tag.is_empty() || tag.contains(&b' ') {
            return None;
        }
        let (program, pid) = match memchr::memchr(b'[', tag) {
            Some(i) => (&tag[..i], Some(num(tag[i + 1..].strip_suffix(b"]")?)?)),
            None => (tag, None),
        };
        let rest = &rest[colon + 1..];
        (program, pid, rest.strip_prefix(b" ").unwrap_or(rest))
    };
    Some(Header {
        time,
        program,
        pid,
        rest,
    })
}

/// Turns header times into UTC, supplying the year BSD times lack.
#[derive(Debug, Clone)]
pub struct Clock {
    offset: FixedOffset,
    year: i32,
    /// Month of the last BSD time (0 before the first), to see the year turn.
    last_month: u32,
}

impl Clock {
    pub fn new(offset: FixedOffset, year: Option<i32>) -> Self {
        Clock {
            offset,
            year: year.unwrap_or(DEFAULT_YEAR),
            last_month: 0,
        }
    }

    /// The header's time in UTC.
    pub fn time(&mut self, t: HeaderTime) -> DateTime<Utc> {
        match t {
            HeaderTime::Full(t) => {
                self.learn_year(t);
                t
            }
            HeaderTime::Local(t) => {
                let t = to_utc(t, self.offset);
                self.learn_year(t);
                t
            }
            HeaderTime::Bsd(month, day, tod) => {
                if self.last_month >= month + 6 {
                    self.year += 1;
                }
                self.last_month = month;
                let date = NaiveDate::from_ymd_opt(self.year, month, day)
                    .or_else(|| NaiveDate::from_ymd_opt(self.year, month, 28))
                    .unwrap_or_default();
                to_utc(NaiveDateTime::new(date, tod), self.offset)
            }
        }
    }

    /// Takes the year from a full date read in a message.
    pub fn learn_year(&mut self, t: DateTime<Utc>) {
        let local = t.with_timezone(&self.offset);
        self.year = local.year();
        self.last_month = local.month();
    }
}
