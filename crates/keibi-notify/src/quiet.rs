//! Local wall-clock times: quiet hours, and the daily summary's time, in an IANA
//! zone, daylight saving time included. Pure: every function takes `now`.

use chrono::{DateTime, TimeZone as _, Utc};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::settings::{zone, ClockTime, DailySummary, Day, QuietHours};

/// Quiet hours, their zone resolved.
#[derive(Debug, Clone)]
pub struct Quiet {
    from: ClockTime,
    to: ClockTime,
    days: Vec<Day>,
    tz: TimeZone,
}

/// Most quiet periods followed end to end (seven days of whole-day periods, and
/// one more): a hold never waits for more than a week.
const MAX_CHAINED: usize = 8;

impl Quiet {
    /// `q` in its zone, else `default_zone` (`notify.timezone`), else UTC.
    pub fn new(q: &QuietHours, default_zone: Option<&str>) -> Result<Quiet, String> {
        Ok(Quiet {
            from: q.from,
            to: q.to,
            days: q.days.clone(),
            tz: resolve(q.timezone.as_deref().or(default_zone))?,
        })
    }

    /// When quiet hours end if `now` is in them (a period running into the next
    /// on another day counts as one), `None` when `now` is outside. A period
    /// starts at `from` on each of `days` (every day when empty) and ends at the
    /// next `to` (the next day when `to` is not later than `from`; 24 hours when
    /// they are equal). Times that a clock change skips or repeats are taken as
    /// jiff's `compatible` rule does (a skipped time is the instant after the gap,
    /// a repeated one its first occurrence).
    pub fn until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut end = self.period_end(now)?;
        for _ in 0..MAX_CHAINED {
            match self.period_end(end) {
                Some(next) if next > end => end = next,
                _ => break,
            }
        }
        Some(end)
    }

    /// The end of the period `t` is in, if any.
    fn period_end(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = local_date(t, &self.tz)?;
        // A period lasts at most a day: it started today or yesterday.
        for start_day in [today.yesterday().ok()?, today] {
            if !self.days.is_empty() && !self.days.contains(&Day::of(start_day.weekday())) {
                continue;
            }
            let start = instant(start_day, self.from, &self.tz)?;
            let end_day = if self.to > self.from {
                start_day
            } else {
                start_day.tomorrow().ok()?
            };
            let end = instant(end_day, self.to, &self.tz)?;
            if start <= t && t < end {
                return Some(end);
            }
        }
        None
    }
}

/// The daily summary's schedule, its zone resolved.
#[derive(Debug, Clone)]
pub struct Daily {
    at: ClockTime,
    tz: TimeZone,
}

impl Daily {
    /// `d` in its zone, else `default_zone`, else UTC.
    pub fn new(d: &DailySummary, default_zone: Option<&str>) -> Result<Daily, String> {
        Ok(Daily {
            at: d.at,
            tz: resolve(d.timezone.as_deref().or(default_zone))?,
        })
    }

    /// The latest scheduled instant at or before `now` (today's `at`, local, or
    /// yesterday's when today's is still to come).
    pub fn latest(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = local_date(now, &self.tz)?;
        let t = instant(today, self.at, &self.tz)?;
        if t <= now {
            Some(t)
        } else {
            instant(today.yesterday().ok()?, self.at, &self.tz)
        }
    }

    /// The next scheduled instant after `now`.
    pub fn next(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = local_date(now, &self.tz)?;
        let t = instant(today, self.at, &self.tz)?;
        if t > now {
            Some(t)
        } else {
            instant(today.tomorrow().ok()?, self.at, &self.tz)
        }
    }

    /// The local date of a slot (for its idempotency key: `summary-2026-12-06`).
    pub fn date_of(&self, slot: DateTime<Utc>) -> String {
        local_date(slot, &self.tz).map_or_else(|| slot.date_naive().to_string(), |d| d.to_string())
    }
}

fn resolve(name: Option<&str>) -> Result<TimeZone, String> {
    match name {
        Some(n) => zone(n),
        None => Ok(TimeZone::UTC),
    }
}

fn ts(t: DateTime<Utc>) -> Option<Timestamp> {
    Timestamp::new(t.timestamp(), t.timestamp_subsec_nanos() as i32).ok()
}

fn local_date(t: DateTime<Utc>, tz: &TimeZone) -> Option<Date> {
    Some(ts(t)?.to_zoned(tz.clone()).date())
}

/// `time` on `date` in `tz` as an instant (jiff's `compatible` disambiguation).
fn instant(date: Date, time: ClockTime, tz: &TimeZone) -> Option<DateTime<Utc>> {
    let z = date.to_datetime(time.civil()).to_zoned(tz.clone()).ok()?;
    let t = z.timestamp();
    Utc.timestamp_opt(t.as_second(), t.subsec_nanosecond() as u32)
        .single()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn quiet(from: &str, to: &str, tz: &str, days: &[Day]) -> Quiet {
        Quiet::new(
            &QuietHours {
                from: from.parse().unwrap(),
                to: to.parse().unwrap(),
                timezone: Some(tz.into()),
                days: days.to_vec(),
            },
            None,
        )
        .unwrap()
    }

    #[test]
    fn across_midnight_in_tokyo() {
        // 22:00-08:00 JST is 13:00-23:00 UTC.
        let q = quiet("22:00", "08:00", "Asia/Tokyo", &[]);
        assert_eq!(q.until(utc("2026-12-06T12:59:59Z")), None);
        assert_eq!(
            q.until(utc("2026-12-06T13:00:00Z")),
            Some(utc("2026-12-06T23:00:00Z"))
        );
        // 03:00 JST on the 7th: in the period that began on the 6th.
        assert_eq!(
            q.until(utc("2026-12-06T18:00:00Z")),
            Some(utc("2026-12-06T23:00:00Z"))
        );
        assert_eq!(q.until(utc("2026-12-06T23:00:00Z")), None);
        // Noon JST.
        assert_eq!(q.until(utc("2026-12-07T03:00:00Z")), None);
    }

    #[test]
    fn a_period_within_one_day_and_days_of_the_week() {
        // 2026-12-05 is a Saturday. 12:00-13:00 UTC on weekends only.
        let q = quiet("12:00", "13:00", "UTC", &[Day::Sat, Day::Sun]);
        assert_eq!(
            q.until(utc("2026-12-05T12:30:00Z")),
            Some(utc("2026-12-05T13:00:00Z"))
        );
        assert_eq!(q.until(utc("2026-12-07T12:30:00Z")), None, "Monday");
        // Across midnight: the day is the day the period starts. Friday 22:00 is
        // not quiet, but Saturday 02:00 is in Friday's period only if Friday is listed.
        let q = quiet("22:00", "08:00", "UTC", &[Day::Fri]);
        assert_eq!(
            q.until(utc("2026-12-05T02:00:00Z")),
            Some(utc("2026-12-05T08:00:00Z"))
        );
        assert_eq!(q.until(utc("2026-12-05T23:00:00Z")), None, "Saturday night");
    }

    #[test]
    fn whole_days_chain_into_one_hold() {
        // Equal from and to: 24 hours from each listed day's 00:00; Saturday and
        // Sunday end to end are one hold until Monday 00:00.
        let q = quiet("00:00", "00:00", "UTC", &[Day::Sat, Day::Sun]);
        assert_eq!(
            q.until(utc("2026-12-05T10:00:00Z")),
            Some(utc("2026-12-07T00:00:00Z"))
        );
        // Every day: bounded, never endless.
        let q = quiet("00:00", "00:00", "UTC", &[]);
        let end = q.until(utc("2026-12-05T10:00:00Z")).unwrap();
        assert!(end <= utc("2026-12-14T00:00:00Z"));
    }

    #[test]
    fn daylight_saving_time_moves_the_end_in_utc() {
        // Europe/Berlin goes from +01:00 to +02:00 at 2027-03-28 02:00 local.
        let q = quiet("22:00", "08:00", "Europe/Berlin", &[]);
        // Saturday 22:30 CET = 21:30 UTC; it ends Sunday 08:00 CEST = 06:00 UTC.
        assert_eq!(
            q.until(utc("2027-03-27T21:30:00Z")),
            Some(utc("2027-03-28T06:00:00Z"))
        );
        // The night before, 08:00 CET is 07:00 UTC.
        assert_eq!(
            q.until(utc("2027-03-26T21:30:00Z")),
            Some(utc("2027-03-27T07:00:00Z"))
        );
        // Quiet hours starting in the skipped hour (02:30 does not exist that day)
        // start as if the gap were not there: 02:30 CET is 01:30 UTC (03:30 CEST).
        let q = quiet("02:30", "05:00", "Europe/Berlin", &[]);
        assert_eq!(q.until(utc("2027-03-28T01:29:00Z")), None);
        assert_eq!(
            q.until(utc("2027-03-28T01:30:00Z")),
            Some(utc("2027-03-28T03:00:00Z"))
        );
    }

    /// Invariants, every 7 minutes over weeks that hold clock changes (Berlin in
    /// March and October, New York in November) and in Tokyo: a hold ends after
    /// `t`, within a week and a day; every instant before its end is held to the
    /// same end; the end itself is not quiet; and local times inside the period
    /// (checked on the wall clock) are quiet, those outside are not (but for the
    /// second pass of a repeated hour).
    #[test]
    fn holds_are_consistent_with_the_wall_clock() {
        let cases = [
            (
                "22:00",
                "08:00",
                "Europe/Berlin",
                "2027-03-24T00:00:00Z",
                vec![],
            ),
            (
                "22:00",
                "08:00",
                "Europe/Berlin",
                "2026-10-21T00:00:00Z",
                vec![Day::Sat, Day::Sun],
            ),
            (
                "01:30",
                "02:30",
                "America/New_York",
                "2026-10-29T00:00:00Z",
                vec![],
            ),
            (
                "09:00",
                "17:00",
                "Asia/Tokyo",
                "2026-12-01T00:00:00Z",
                vec![Day::Mon],
            ),
            (
                "00:00",
                "00:00",
                "UTC",
                "2026-12-01T00:00:00Z",
                vec![Day::Sat, Day::Sun],
            ),
        ];
        for (from, to, tz, start, days) in cases {
            let q = quiet(from, to, tz, &days);
            let zone = jiff::tz::TimeZone::get(tz).unwrap();
            let (f, e) = (
                from.parse::<ClockTime>().unwrap(),
                to.parse::<ClockTime>().unwrap(),
            );
            let mut t = utc(start);
            let stop = t + chrono::Duration::days(10);
            while t < stop {
                let local = ts(t).unwrap().to_zoned(zone.clone());
                let hm = ClockTime::new(local.hour() as u8, local.minute() as u8);
                let day_ok =
                    |d: jiff::civil::Weekday| days.is_empty() || days.contains(&Day::of(d));
                // The wall-clock oracle: in a period that started today or yesterday.
                let wall = if f < e {
                    day_ok(local.weekday()) && f <= hm && hm < e
                } else {
                    (day_ok(local.weekday()) && hm >= f)
                        || (day_ok(local.date().yesterday().unwrap().weekday()) && hm < e)
                };
                match q.until(t) {
                    Some(end) => {
                        // On the night a clock is set back, a period is continuous
                        // in real time: the repeated hour's second pass may be held
                        // though its wall time is before `from`.
                        let repeated = zone.to_ambiguous_timestamp(local.datetime()).is_ambiguous();
                        assert!(
                            wall || repeated,
                            "{tz} {from}-{to} {t}: held, but {hm} is outside"
                        );
                        assert!(end > t && end - t <= chrono::Duration::days(8), "{t} {end}");
                        assert_eq!(q.until(t + (end - t) / 2), Some(end), "{t}");
                        assert_eq!(q.until(end - chrono::Duration::seconds(1)), Some(end));
                        assert!(q.until(end).is_none_or(|e2| e2 > end), "{t} {end}");
                    }
                    None => assert!(!wall, "{tz} {from}-{to} {t}: {hm} is inside, not held"),
                }
                t += chrono::Duration::minutes(7);
            }
        }
    }

    #[test]
    fn daily_slots_in_a_zone() {
        let d = Daily::new(
            &DailySummary {
                at: "09:00".parse().unwrap(),
                timezone: None,
                channels: vec![],
            },
            Some("Asia/Tokyo"),
        )
        .unwrap();
        // 09:00 JST = 00:00 UTC.
        assert_eq!(
            d.latest(utc("2026-12-06T00:00:00Z")),
            Some(utc("2026-12-06T00:00:00Z"))
        );
        assert_eq!(
            d.latest(utc("2026-12-05T23:59:00Z")),
            Some(utc("2026-12-05T00:00:00Z"))
        );
        assert_eq!(
            d.next(utc("2026-12-06T00:00:00Z")),
            Some(utc("2026-12-07T00:00:00Z"))
        );
        assert_eq!(d.date_of(utc("2026-12-06T00:00:00Z")), "2026-12-06");
    }
}
