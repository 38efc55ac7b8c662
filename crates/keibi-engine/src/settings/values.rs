//! Small typed values a settings file writes as strings: durations (`90s`), address
//! ranges (`10.0.0.0/8`), expiry times (`2026-12-31`). Each parses when the file is
//! read, so a bad one is reported with its line; each writes back as it reads.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A length of time written with a unit: `250ms`, `90s`, `5m`, `2h`, `7d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub std::time::Duration);

/// The longest duration a setting may ask for: ten years (as detection windows).
const MAX_DURATION_SECS: u64 = keibi_detect::config::MAX_WINDOW_SECS;

impl Duration {
    pub const fn from_millis(ms: u64) -> Duration {
        Duration(std::time::Duration::from_millis(ms))
    }
    pub const fn from_secs(s: u64) -> Duration {
        Duration(std::time::Duration::from_secs(s))
    }
    pub fn std(self) -> std::time::Duration {
        self.0
    }
}

impl FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Duration, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let bad = || {
            format!(
                "{s:?} is not a duration: write a number and a unit, as 250ms, 90s, 5m, 2h or 7d"
            )
        };
        let n: u64 = num.parse().map_err(|_| bad())?;
        let ms_per: u64 = match unit.trim() {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        let ms = n
            .checked_mul(ms_per)
            .filter(|ms| *ms / 1000 <= MAX_DURATION_SECS)
            .ok_or_else(|| format!("{s:?} is longer than ten years"))?;
        Ok(Duration::from_millis(ms))
    }
}

impl fmt::Display for Duration {
    /// The largest unit that writes it exactly: `90s`, `5m`, `7d`, `250ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        for (unit, per) in [
            ("d", 86_400_000u128),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1000),
        ] {
            if ms >= per && ms.is_multiple_of(per) {
                return write!(f, "{}{unit}", ms / per);
            }
        }
        if ms == 0 {
            return f.write_str("0s");
        }
        write!(f, "{ms}ms")
    }
}

/// An address or a range of them: `192.0.2.7`, `10.0.0.0/8`, `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in the range (an IPv4 address never is in an IPv6 range).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Cidr, String> {
        let t = s.trim();
        let bad = || format!("{s:?} is not an address or a CIDR range (as 10.0.0.0/8)");
        let (addr, prefix) = match t.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (t, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
        };
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix == max {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

/// When a suppression stops applying: a day (`2026-12-31`, the end of that day in
/// UTC) or an RFC 3339 time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiry(pub DateTime<Utc>);

impl FromStr for Expiry {
    type Err = String;
    fn from_str(s: &str) -> Result<Expiry, String> {
        let t = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(t) {
            return Ok(Expiry(t.with_timezone(&Utc)));
        }
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Expiry(t.and_utc()))
            .ok_or_else(|| format!("{s:?} is not a date (2026-12-31) or an RFC 3339 time"))
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    }
}

/// Where keibi's HTTP endpoints listen: an address and port, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listen {
    Off,
    On(std::net::SocketAddr),
}

impl Listen {
    /// The address, unless off.
    pub fn addr(self) -> Option<std::net::SocketAddr> {
        match self {
            Listen::Off => None,
            Listen::On(a) => Some(a),
        }
    }
}

impl FromStr for Listen {
    type Err = String;
    fn from_str(s: &str) -> Result<Listen, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("off") {
            return Ok(Listen::Off);
        }
        t.parse().map(Listen::On).map_err(|_| {
            format!("{s:?} is not an address and port (as 127.0.0.1:9716, [::1]:9716) nor `off`")
        })
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Off => f.write_str("off"),
            Listen::On(a) => write!(f, "{a}"),
        }
    }
}

impl<'de> Deserialize<'de> for Listen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Listen;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an address and port (127.0.0.1:9716) or off")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Listen, E> {
                v.parse().map_err(E::custom)
            }
            // `off` unquoted, if a YAML 1.1 reader takes it for false.
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Listen, E> {
                if v {
                    Err(E::custom("write an address and port, or off"))
                } else {
                    Ok(Listen::Off)
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Listen {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Serde through `FromStr`/`Display`, so a bad value is reported with its line.
macro_rules! string_serde {
    ($t:ty, $expecting:literal) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$t, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

string_serde!(Duration, "a duration with a unit (250ms, 90s, 5m, 2h, 7d)");
string_serde!(Cidr, "an address or a CIDR range (10.0.0.0/8)");
string_serde!(Expiry, "a date (2026-12-31) or an RFC 3339 time");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_write_with_units() {
        for (s, ms) in [
            ("250ms", 250),
            ("90s", 90_000),
            ("5m", 300_000),
            ("7d", 604_800_000),
            ("0s", 0),
        ] {
            let d: Duration = s.parse().unwrap();
            assert_eq!(d.0.as_millis(), ms, "{s}");
            assert_eq!(d.to_string(), s);
        }
        assert_eq!("120s".parse::<Duration>().unwrap().to_string(), "2m");
        for bad in ["90", "s", "5 min", "-1s", "1.5s", "", "99999999999d"] {
            assert!(bad.parse::<Duration>().is_err(), "{bad}");
        }
    }

    #[test]
    fn cidrs_contain_what_they_should() {
        let c: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(c.contains("10.1.200.3".parse().unwrap()));
        assert!(!c.contains("10.2.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        let one: Cidr = "2001:db8::1".parse().unwrap();
        assert_eq!(one.prefix, 128);
        assert!(one.contains("2001:db8::1".parse().unwrap()));
        assert!(!one.contains("2001:db8::2".parse().unwrap()));
        for bad in ["10.0.0.0/33", "10.0.0/8", "x", "::/129", "1.2.3.4/"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_day_expires_at_its_end() {
        let e: Expiry = "2026-12-31".parse().unwrap();
        assert_eq!(e.to_string(), "2027-01-01T00:00:00Z");
        let e: Expiry = "2026-12-31T12:00:00+09:00".parse().unwrap();
        assert_eq!(e.to_string(), "2026-12-31T03:00:00Z");
        assert!("31/12/2026".parse::<Expiry>().is_err());
    }
}
