//! Parses the times users type for `--since` and `--until`: RFC 3339, a date, a date
//! and time (UTC), or an age back from now (`90m`, `24h`, `7d`, `2w`).

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use keibi_i18n::Msg;

use crate::locale::say;

/// Parses `s`, taking ages back from `now`.
pub fn parse(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).context("midnight")?));
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .with_context(|| say(Msg::new("time-not-a-time").arg("value", s)))?;
    let age = match unit {
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        "w" => Duration::try_weeks(n),
        _ => bail!(say(Msg::new("time-bad-unit").arg("value", s))),
    };
    let too_long = || say(Msg::new("time-too-long-ago").arg("value", s));
    let age = age.with_context(too_long)?;
    now.checked_sub_signed(age).with_context(too_long)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        assert_eq!(
            parse("2026-11-28", now).unwrap().to_rfc3339(),
            "2026-11-28T00:00:00+00:00"
        );
        assert_eq!(
            parse("2026-11-28T10:00:00+09:00", now)
                .unwrap()
                .to_rfc3339(),
            "2026-11-28T01:00:00+00:00"
        );
        assert_eq!(
            parse("2026-11-28 10:00:00", now).unwrap().to_rfc3339(),
            "2026-11-28T10:00:00+00:00"
        );
        assert_eq!(
            parse("24h", now).unwrap().to_rfc3339(),
            "2026-11-29T12:00:00+00:00"
        );
        assert_eq!(
            parse("2w", now).unwrap().to_rfc3339(),
            "2026-11-16T12:00:00+00:00"
        );
        assert!(parse("yesterday", now).is_err());
        assert!(parse("99999999999999d", now).is_err());
    }
}
