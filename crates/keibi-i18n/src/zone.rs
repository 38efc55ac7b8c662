//! The display time zone: where people read times. JSON and CSV stay UTC.

use chrono::{DateTime, Utc};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// A time zone for people, with the name it was chosen by.
#[derive(Debug, Clone)]
pub struct DisplayZone {
    tz: TimeZone,
    name: String,
}

impl PartialEq for DisplayZone {
    fn eq(&self, other: &DisplayZone) -> bool {
        self.name == other.name
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown time zone {name:?} (an IANA name such as Asia/Tokyo or UTC): {reason}")]
pub struct ZoneError {
    pub name: String,
    pub reason: String,
}

impl DisplayZone {
    pub fn utc() -> DisplayZone {
        DisplayZone {
            tz: TimeZone::UTC,
            name: "UTC".to_string(),
        }
    }

    /// An IANA zone by name (`Asia/Tokyo`, `UTC`), from the system's tz database, or
    /// the copy compiled in when the system has none.
    pub fn named(name: &str) -> Result<DisplayZone, ZoneError> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("utc") || name == "Etc/UTC" {
            return Ok(DisplayZone::utc());
        }
        let tz = TimeZone::get(name).map_err(|e| ZoneError {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
        Ok(DisplayZone {
            tz,
            name: name.to_string(),
        })
    }

    /// The system's zone (`TZ`, then `/etc/localtime`); UTC when it cannot be told.
    pub fn system() -> DisplayZone {
        match TimeZone::try_system() {
            Ok(tz) => {
                let name = tz.iana_name().unwrap_or("local").to_string();
                if name == "UTC" || name == "Etc/UTC" {
                    DisplayZone::utc()
                } else {
                    DisplayZone { tz, name }
                }
            }
            Err(_) => DisplayZone::utc(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether times show as UTC (any zone whose offset is always zero counts).
    pub fn is_utc(&self) -> bool {
        self.name == "UTC"
    }

    fn zoned(&self, t: DateTime<Utc>) -> jiff::Zoned {
        let ts = Timestamp::new(t.timestamp(), t.timestamp_subsec_nanos() as i32).unwrap_or(
            if t.timestamp() < 0 {
                Timestamp::MIN
            } else {
                Timestamp::MAX
            },
        );
        ts.to_zoned(self.tz.clone())
    }

    /// `t` in this zone through a strftime pattern (`%Z` is the abbreviation: JST).
    pub fn format(&self, t: DateTime<Utc>, pattern: &str) -> String {
        self.zoned(t).strftime(pattern).to_string()
    }

    /// Whether two instants fall on the same calendar day in this zone.
    pub fn same_day(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
        self.zoned(a).date() == self.zoned(b).date()
    }

    /// The offset from UTC on `at` in whole hours (for hour-of-day habits learned in
    /// UTC; a half-hour zone shows its habits to the hour).
    pub fn whole_hours_offset(&self, at: DateTime<Utc>) -> i32 {
        self.zoned(at).offset().seconds() / 3600
    }
}
