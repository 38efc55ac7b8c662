//! The demo week: a generator of one realistic week of logs from two RDS instances of
//! a small web shop, with attacks woven into its ordinary life, for `keibi demo`.
//!
//! * `shop-postgres` (RDS for PostgreSQL 15, pgaudit): the shop's API behind a JDBC
//!   pool, a nightly ETL export, two deploys with migrations, a DBA, Metabase,
//!   monitoring, load-balancer health checks; see [`pg`].
//! * `shop-mysql` (RDS for MySQL 8.0, MariaDB audit plugin): the legacy PHP storefront,
//!   cron jobs, a DBA, RDS's own `rdsadmin`; see [`mysql`].
//!
//! The attacks (a brute force ending in a login, then escalation and server-side
//! commands; a password spray; a Tor login; SQL injection through the storefront; a
//! ransom campaign; audit tampering) are listed with their times in
//! `crates/keibi/demo/README.md`.
//!
//! Everything is a pure function of the week's last day: a fixed-seed PRNG picks the
//! details, so the same day gives byte-identical files, and another day gives the same
//! lines with only the dates moved. `keibi demo` uses yesterday (UTC), so the demo looks
//! current; tests pin a day.
//!
//! Addresses outside the VPC are from the documentation ranges (RFC 5737), so the demo
//! never names a real host; the Tor and threat lists written beside the logs list them.

mod mysql;
mod pg;

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Directory (under the demo directory) holding the logs; the lists sit beside it so
/// that scanning it reads logs only.
pub const LOG_DIR: &str = "logs";
/// The demo Tor exit list, in the Tor project's exit-addresses format.
pub const TOR_LIST: &str = "lists/tor-exit-addresses";
/// The demo threat list, in FireHOL netset format.
pub const THREAT_LIST: &str = "lists/threats.netset";

/// Addresses of the cast. The office and the attackers are documentation addresses.
pub(crate) mod ip {
    /// The office's NAT address: the DBAs and the analyst.
    pub const OFFICE: &str = "203.0.113.10";
    /// Brute-forces `postgres` on shop-postgres, gets in, escalates (on no list).
    pub const PG_BRUTE: &str = "198.51.100.23";
    /// Sprays user names at shop-mysql (on the threat list).
    pub const MYSQL_SPRAY: &str = "192.0.2.147";
    /// The ransom campaign against shop-mysql (on the threat list).
    pub const RANSOM: &str = "198.51.100.201";
    /// A Tor exit used with the API's leaked credentials (on the Tor list).
    pub const TOR_EXIT: &str = "192.0.2.66";
}

/// One generated file: its path under the demo directory (`/`-separated) and contents.
pub struct DemoFile {
    pub path: String,
    pub body: Vec<u8>,
}

/// The generated week.
pub struct Demo {
    pub files: Vec<DemoFile>,
    /// First and last day of the week (UTC).
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Log lines written (lists not counted).
    pub lines: u64,
}

impl Demo {
    /// Log files of one instance.
    pub fn log_files(&self, instance: &str) -> usize {
        let prefix = format!("{LOG_DIR}/{instance}/");
        self.files
            .iter()
            .filter(|f| f.path.starts_with(&prefix))
            .count()
    }
}

/// Generates the week that ends with `last_day` (UTC).
pub fn generate(last_day: NaiveDate) -> Demo {
    let first_day = last_day - Duration::days(6);
    let week = Week {
        start: first_day
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or_default(),
    };
    let mut files = Vec::new();
    files.extend(pg::generate(&week));
    files.extend(mysql::generate(&week));
    let lines = files
        .iter()
        .map(|f| f.body.iter().filter(|&&b| b == b'\n').count() as u64)
        .sum();
    files.push(DemoFile {
        path: TOR_LIST.into(),
        body: tor_list(&week).into_bytes(),
    });
    files.push(DemoFile {
        path: THREAT_LIST.into(),
        body: threat_list(&week).into_bytes(),
    });
    Demo {
        files,
        first_day,
        last_day,
        lines,
    }
}

// ------------------------------------------------------------------ time

/// Milliseconds since the start of the week.
type Ms = i64;

const SEC: Ms = 1000;
const MIN: Ms = 60 * SEC;
const HOUR: Ms = 60 * MIN;
const DAY: Ms = 24 * HOUR;
const WEEK: Ms = 7 * DAY;

/// `day` of the week (0-6) at `h:m:s`.
const fn at(day: i64, h: i64, m: i64, s: i64) -> Ms {
    day * DAY + h * HOUR + m * MIN + s * SEC
}

/// The week being generated: content is in [`Ms`] from its start, dates come from here.
pub(crate) struct Week {
    /// Unix seconds of the first day's midnight (UTC).
    start: i64,
}

impl Week {
    fn utc(&self, t: Ms) -> DateTime<Utc> {
        DateTime::from_timestamp(self.start + t.div_euclid(SEC), 0).unwrap_or_default()
    }

    /// Civil date and time of `t`: (year, month, day, hour, minute, second).
    fn civil(&self, t: Ms) -> Civil {
        Civil::from_unix(self.start + t.div_euclid(SEC))
    }
}

/// A UTC civil time from Unix seconds, as plain fields: the writers format them
/// by hand, which is cheaper than chrono's formatting for the ~100k stamps a demo
/// writes in a debug build (the calendar arithmetic itself is chrono's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Civil {
    fn from_unix(t: i64) -> Self {
        use chrono::{Datelike, Timelike};
        let d = DateTime::from_timestamp(t, 0).unwrap_or_default();
        Civil {
            year: i64::from(d.year()),
            month: d.month(),
            day: d.day(),
            hour: d.hour(),
            minute: d.minute(),
            second: d.second(),
        }
    }
}

/// Relative traffic by hour of day (UTC, a European shop): quiet nights, busy afternoons.
const HOURLY: [u32; 24] = [
    30, 22, 16, 14, 14, 18, 28, 45, 70, 88, 96, 100, 104, 100, 96, 92, 90, 88, 86, 84, 76, 62, 48,
    38,
];

/// Times of the requests of a load whose rate at the busiest hour is `peak_per_hour`,
/// following [`HOURLY`], over the whole week, in order.
fn load(rng: &mut Rng, peak_per_hour: u32) -> Vec<Ms> {
    let mut out = Vec::new();
    for hour in 0..7 * 24 {
        let n = u64::from(peak_per_hour * HOURLY[(hour % 24) as usize] / 104);
        let n = rng.range(n * 8 / 10, n * 12 / 10 + 1);
        let base = hour * HOUR;
        let mut ts: Vec<Ms> = (0..n)
            .map(|_| base + rng.below(HOUR as u64) as Ms)
            .collect();
        ts.sort_unstable();
        out.extend(ts);
    }
    out
}

// ------------------------------------------------------------------ randomness

/// xorshift64*: tiny, seedable, and good enough to pick log details.
pub(crate) struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // A zero state would stay zero forever.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n` below 2^32); 0 when `n` is 0.
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() >> 32) * n) >> 32
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// `n` characters from `alphabet`.
    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| char::from(alphabet[self.below(alphabet.len() as u64) as usize]))
            .collect()
    }
}

// ------------------------------------------------------------------ records

/// One log record placed in time: `seq` keeps records of the same millisecond in the
/// order they were made, `sess` names the session that renders its prefix.
struct Rec<B> {
    t: Ms,
    seq: u32,
    body: B,
}

/// Records of one log, made in any order and sorted before they are written: each
/// part of the week (the pool, the ETL, an attack) writes its own sessions.
struct Records<B> {
    recs: Vec<Rec<B>>,
}

impl<B> Records<B> {
    fn new() -> Self {
        Records { recs: Vec::new() }
    }

    fn push(&mut self, t: Ms, body: B) {
        let seq = self.recs.len() as u32;
        self.recs.push(Rec { t, seq, body });
    }

    /// The records in time order, dropping any outside the week.
    fn sorted(mut self) -> Vec<Rec<B>> {
        self.recs.retain(|r| (0..WEEK).contains(&r.t));
        self.recs.sort_by_key(|r| (r.t, r.seq));
        self.recs
    }
}

// ------------------------------------------------------------------ lists

/// A small Tor exit list in the Tor project's exit-addresses format.
fn tor_list(week: &Week) -> String {
    let mut rng = Rng::new(0x70_72);
    let mut s = String::new();
    let mut exits: Vec<String> = (0..14)
        .map(|i| format!("192.0.2.{}", 40 + i * 3 + rng.below(3)))
        .collect();
    exits.push(ip::TOR_EXIT.to_string());
    exits.sort_by_key(|a| a.rsplit('.').next().and_then(|n| n.parse::<u32>().ok()));
    exits.dedup();
    for addr in exits {
        let published = week.utc(WEEK - rng.below(20) as Ms * HOUR - rng.below(3600) as Ms * SEC);
        let status = published + Duration::minutes(rng.range(20, 90) as i64);
        let seen = status + Duration::seconds(rng.range(1, 900) as i64);
        s.push_str(&format!(
            "ExitNode {}\nPublished {}\nLastStatus {}\nExitAddress {addr} {}\n",
            rng.chars(b"0123456789ABCDEF", 40),
            published.format("%Y-%m-%d %H:%M:%S"),
            status.format("%Y-%m-%d %H:%M:%S"),
            seen.format("%Y-%m-%d %H:%M:%S"),
        ));
    }
    s
}

/// A small threat list in FireHOL netset format.
fn threat_list(week: &Week) -> String {
    let updated = week.utc(WEEK - 2 * HOUR);
    format!(
        "#\n\
         # keibi-demo-threats\n\
         #\n\
         # A small threat list written by `keibi demo` in the format of FireHOL's\n\
         # .netset files. Every address is from the documentation ranges (RFC 5737).\n\
         #\n\
         # Source URL  : (none: generated with the demo logs)\n\
         # Updated     : {}\n\
         # Entries     : 7 unique IPs and 1 subnet\n\
         #\n\
         192.0.2.9\n\
         192.0.2.128/26\n\
         198.51.100.7\n\
         198.51.100.64\n\
         198.51.100.201\n\
         198.51.100.250\n\
         203.0.113.99\n\
         203.0.113.201\n",
        updated.format("%a %b %e %H:%M:%S UTC %Y"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week() -> Demo {
        generate(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap())
    }

    #[test]
    fn civil_matches_chrono() {
        for t in [
            0i64,
            951_782_400,
            1_704_067_199,
            1_795_824_000,
            1_795_910_399,
        ] {
            let c = Civil::from_unix(t);
            let d = DateTime::from_timestamp(t, 0).unwrap();
            assert_eq!(
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    c.year, c.month, c.day, c.hour, c.minute, c.second
                ),
                d.format("%Y-%m-%d %H:%M:%S").to_string()
            );
        }
    }

    #[test]
    fn same_day_same_bytes_other_day_same_lines_moved() {
        let (a, b) = (week(), week());
        assert_eq!(a.files.len(), b.files.len());
        for (x, y) in a.files.iter().zip(&b.files) {
            assert_eq!(x.path, y.path);
            assert!(x.body == y.body, "{} differs", x.path);
        }
        let c = generate(NaiveDate::from_ymd_opt(2027, 3, 2).unwrap());
        assert_eq!(a.lines, c.lines);
        assert_eq!(a.log_files("shop-postgres"), c.log_files("shop-postgres"));
        assert_eq!(a.log_files("shop-mysql"), c.log_files("shop-mysql"));
        // Line by line, only the time stamps differ.
        let undated = |d: &Demo| -> Vec<String> {
            let mut out = Vec::new();
            for f in d.files.iter().filter(|f| f.path.starts_with(LOG_DIR)) {
                for line in String::from_utf8_lossy(&f.body).lines() {
                    let stamp = match line.as_bytes().first() {
                        Some(b'\t') => 0,
                        _ if f.path.contains("postgresql.log") => "2026-11-23 00:00:00 UTC".len(),
                        _ => "20261123 00:00:00".len(),
                    };
                    out.push(line.get(stamp..).unwrap_or_default().to_string());
                }
            }
            out
        };
        let (x, z) = (undated(&a), undated(&c));
        assert_eq!(x.len(), z.len());
        assert!(x == z, "lines differ beyond their time stamps");
        let first = String::from_utf8_lossy(&c.files[0].body)
            .lines()
            .next()
            .map(str::to_owned);
        assert!(first.unwrap().starts_with("2027-02-24 00:0"));
    }

    #[test]
    fn the_threat_list_names_the_listed_attackers_and_the_tor_list_the_exit() {
        let d = week();
        let text = |p: &str| {
            String::from_utf8(d.files.iter().find(|f| f.path == p).unwrap().body.clone()).unwrap()
        };
        let threats = text(THREAT_LIST);
        assert!(threats.contains(ip::RANSOM));
        assert!(threats.contains("192.0.2.128/26")); // covers MYSQL_SPRAY
        assert!(!threats.contains(ip::PG_BRUTE));
        assert!(!threats.contains(ip::OFFICE));
        let tor = text(TOR_LIST);
        assert!(tor.contains(&format!("ExitAddress {} ", ip::TOR_EXIT)));
        assert!(!tor.contains(ip::MYSQL_SPRAY));
    }

    #[test]
    fn load_follows_the_day() {
        let mut rng = Rng::new(1);
        let ts = load(&mut rng, 100);
        assert!(ts.windows(2).all(|w| w[0] <= w[1]));
        let in_hour = |h: i64| ts.iter().filter(|&&t| t / HOUR % 24 == h).count();
        assert!(in_hour(13) > 3 * in_hour(3));
    }
}
