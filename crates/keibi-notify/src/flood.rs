//! No floods: what a change of a finding is worth telling ([`kind_of`]), when a
//! finding that keeps growing is worth a "still going" ([`still_going_due`]), a
//! channel's hourly rate limit with one digest of what it held back
//! ([`Window`]), and the daily summary ([`summary_due`], [`summarize`]).
//!
//! Pure: the notifier keeps the state in the store (what was told when, what was
//! sent on each channel in the last hour, what is held) and passes it in.

use chrono::{DateTime, Duration, Utc};
use keibi_model::{Finding, Severity, SeverityLabel};

use crate::notice::{Digest, Notice, NoticeKind, Summary};
use crate::quiet::Daily;
use crate::settings::Interval;

/// What a line of a finding's history is worth to people.
#[derive(Debug, Clone, PartialEq)]
pub enum Worth {
    /// A notice of this kind, now.
    Notice(NoticeKind),
    /// Only more of the same: at most a "still going" later ([`still_going_due`]).
    Grew,
    /// Nothing to tell (a person acknowledged or suppressed it; a replay).
    Nothing,
}

/// Classifies a history entry of the store (`what`: `new`, `grew`,
/// `severity_raised`, `closed`, `reopened`, `acknowledged`, `resolved`,
/// `suppressed`, `unsuppressed`): new, reopened and a raised severity (`from`:
/// the severity before; without it the rise cannot be told, and it is nothing)
/// are notices; a resolution by a person (`by`) or a close by the detector is a
/// `Resolved` notice (PagerDuty resolves its incident); growth alone is
/// [`Worth::Grew`]; the rest is nothing.
pub fn kind_of(what: &str, from: Option<Severity>, by: Option<&str>) -> Worth {
    match what {
        "new" => Worth::Notice(NoticeKind::New),
        "reopened" => Worth::Notice(NoticeKind::Reopened),
        "severity_raised" => match from {
            Some(from) => Worth::Notice(NoticeKind::Raised { from }),
            None => Worth::Nothing,
        },
        "grew" => Worth::Grew,
        "resolved" => Worth::Notice(NoticeKind::Resolved {
            by: by.map(str::to_string),
        }),
        "closed" => Worth::Notice(NoticeKind::Resolved { by: None }),
        _ => Worth::Nothing,
    }
}

/// The last time people heard of a finding (any notice kind, on any channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastTold {
    pub at: DateTime<Utc>,
    /// The finding's count in that notice.
    pub count: u64,
}

/// A "still going" notice when it is due: `f` is open and unacknowledged
/// (`open_unacknowledged`, from its status), its count grew past what people were
/// last told, and `repeat_interval` has passed since then (so at most one per
/// interval, and none while nothing grows). The notice says the count then and
/// when that was. `None` otherwise.
pub fn still_going_due(
    f: &Finding,
    open_unacknowledged: bool,
    last: LastTold,
    repeat_interval: Interval,
    now: DateTime<Utc>,
) -> Option<NoticeKind> {
    (open_unacknowledged && f.count > last.count && now >= last.at + repeat_interval.chrono())
        .then_some(NoticeKind::StillGoing {
            count_then: last.count,
            since: last.at,
        })
}

/// The earliest time a "still going" may follow a notice told at `last`.
pub fn still_going_after(last: LastTold, repeat_interval: Interval) -> DateTime<Utc> {
    last.at + repeat_interval.chrono()
}

/// What a channel's rate limit does with one more notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Send it now.
    Now,
    /// Hold it for the channel's digest, due at `digest_at` (see
    /// [`Window::digest_due`]).
    Hold { digest_at: DateTime<Utc> },
}

/// A channel's rate limit: at most `limit` messages (notices, digests, summaries)
/// in any hour; 0 is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: u32,
}

/// The rate limit's window.
pub const HOUR: Duration = Duration::hours(1);

impl Window {
    pub fn new(limit_per_hour: u32) -> Window {
        Window {
            limit: limit_per_hour,
        }
    }

    /// Whether one more notice may go now. `recent` are the times messages went
    /// out on the channel (any order; those an hour or more before `now` are not
    /// counted); `held` how many notices this channel holds for its digest. A
    /// notice goes now when nothing is held and fewer than `limit` messages went
    /// in the last hour; otherwise it is held (once one is held, the ones after it
    /// wait too, and go out together in one digest).
    pub fn admit(&self, recent: &[DateTime<Utc>], held: usize, now: DateTime<Utc>) -> Admit {
        if self.limit == 0 {
            return Admit::Now;
        }
        if held == 0 && self.in_hour(recent, now) < self.limit as usize {
            return Admit::Now;
        }
        Admit::Hold {
            digest_at: self.digest_at(recent, now),
        }
    }

    /// The earliest time one more message fits in the window: `now` if it fits
    /// now, else when enough of the last hour's messages are an hour old.
    pub fn digest_at(&self, recent: &[DateTime<Utc>], now: DateTime<Utc>) -> DateTime<Utc> {
        if self.limit == 0 {
            return now;
        }
        let mut times: Vec<DateTime<Utc>> = recent
            .iter()
            .copied()
            .filter(|t| *t > now - HOUR && *t <= now)
            .collect();
        if times.len() < self.limit as usize {
            return now;
        }
        times.sort_unstable();
        // Sending one more needs all but `limit - 1` of them out of the window.
        let k = times.len() - self.limit as usize;
        times[k] + HOUR
    }

    /// Whether the held notices go now, as one digest (it counts as one message).
    pub fn digest_due(&self, recent: &[DateTime<Utc>], held: usize, now: DateTime<Utc>) -> bool {
        held > 0 && self.digest_at(recent, now) <= now
    }

    fn in_hour(&self, recent: &[DateTime<Utc>], now: DateTime<Utc>) -> usize {
        recent
            .iter()
            .filter(|t| **t > now - HOUR && **t <= now)
            .count()
    }
}

/// How many held notices a digest lists one by one (`total` counts them all).
pub const DIGEST_LISTED: usize = 20;

/// The digest of what a channel's rate limit held back: the notices oldest first
/// (then by key, so a retry builds the same digest), at most [`DIGEST_LISTED`]
/// listed, all counted, spanning the first to the last held. `key` is its
/// idempotency key (the notifier's: the same held set gives the same key).
/// `None` when nothing is held.
pub fn digest(mut held: Vec<Notice>, key: String) -> Option<Digest> {
    held.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.key.cmp(&b.key)));
    let from = held.first()?.at;
    let to = held.last()?.at;
    let total = held.len() as u64;
    held.truncate(DIGEST_LISTED);
    Some(Digest {
        key,
        held,
        total,
        from,
        to,
    })
}

/// The scheduled time of a daily summary due at `now`: the latest slot (`at`,
/// local) that is after `last` and not after `now`. `last` is when the last
/// summary was sent, or when notifications were first set up (so a new install
/// waits for the next slot instead of sending one at once). After a long stop
/// only the latest missed slot is sent.
pub fn summary_due(
    last: DateTime<Utc>,
    now: DateTime<Utc>,
    daily: &Daily,
) -> Option<DateTime<Utc>> {
    daily.latest(now).filter(|slot| *slot > last)
}

/// How many open findings a summary lists one by one (`total` counts all).
pub const SUMMARY_LISTED: usize = 10;

/// The summary of `open` (the open findings) for the slot `at`: the most severe
/// first (then the most recently seen), at most [`SUMMARY_LISTED`] listed, every
/// one counted by label (Critical, High, Medium, Low). `key` is its idempotency key
/// (`summary-2026-12-06`: [`Daily::date_of`] the slot).
pub fn summarize(open: &[Finding], at: DateTime<Utc>, key: String) -> Summary {
    let mut by_label = [0u64; 4];
    for f in open {
        let i = match f.severity.label() {
            SeverityLabel::Critical => 0,
            SeverityLabel::High => 1,
            SeverityLabel::Medium => 2,
            SeverityLabel::Low => 3,
        };
        by_label[i] += 1;
    }
    let mut order: Vec<&Finding> = open.iter().collect();
    order.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.last_seen.cmp(&a.last_seen))
            .then(a.id.cmp(&b.id))
    });
    Summary {
        key,
        at,
        open: order.into_iter().take(SUMMARY_LISTED).cloned().collect(),
        total: open.len() as u64,
        by_label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::DailySummary;
    use keibi_model::Resource;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn finding(id: &str, sev: f64, count: u64) -> Finding {
        let mut f = Finding::new(
            "login",
            "CredentialAccess:RDS/BruteForce",
            &[id],
            Severity::new(sev),
            Resource {
                kind: "db_instance".into(),
                id: "prod-db".into(),
                ..Default::default()
            },
            t("2026-12-06T03:10:00Z"),
        );
        f.count = count;
        f
    }

    #[test]
    fn only_new_reopened_raised_and_resolved_are_notices() {
        assert_eq!(kind_of("new", None, None), Worth::Notice(NoticeKind::New));
        assert_eq!(
            kind_of("reopened", None, None),
            Worth::Notice(NoticeKind::Reopened)
        );
        assert_eq!(
            kind_of("severity_raised", Some(Severity::new(5.0)), None),
            Worth::Notice(NoticeKind::Raised {
                from: Severity::new(5.0)
            })
        );
        assert_eq!(kind_of("severity_raised", None, None), Worth::Nothing);
        assert_eq!(kind_of("grew", None, None), Worth::Grew);
        assert_eq!(
            kind_of("resolved", None, Some("kim")),
            Worth::Notice(NoticeKind::Resolved {
                by: Some("kim".into())
            })
        );
        assert_eq!(
            kind_of("closed", None, None),
            Worth::Notice(NoticeKind::Resolved { by: None })
        );
        for w in ["acknowledged", "suppressed", "unsuppressed", "", "NEW"] {
            assert_eq!(kind_of(w, None, None), Worth::Nothing, "{w}");
        }
    }

    #[test]
    fn still_going_at_most_once_per_interval_and_only_when_it_grew() {
        let every = Interval::from_secs(4 * 3600);
        let told = LastTold {
            at: t("2026-12-06T03:10:00Z"),
            count: 40,
        };
        let f = finding("a", 5.0, 1240);
        // Growth within the interval: nothing yet.
        assert_eq!(
            still_going_due(&f, true, told, every, t("2026-12-06T07:09:59Z")),
            None
        );
        // At the interval: one, saying the count then and since when.
        assert_eq!(
            still_going_due(&f, true, told, every, t("2026-12-06T07:10:00Z")),
            Some(NoticeKind::StillGoing {
                count_then: 40,
                since: t("2026-12-06T03:10:00Z")
            })
        );
        // Once told (count 1240 at 07:10), no more until it grows and 4 h pass.
        let told2 = LastTold {
            at: t("2026-12-06T07:10:00Z"),
            count: 1240,
        };
        assert_eq!(
            still_going_due(&f, true, told2, every, t("2026-12-07T07:10:00Z")),
            None
        );
        let g = finding("a", 5.0, 1300);
        assert_eq!(
            still_going_due(&g, true, told2, every, t("2026-12-06T11:09:00Z")),
            None
        );
        assert!(still_going_due(&g, true, told2, every, t("2026-12-06T11:10:00Z")).is_some());
        assert_eq!(still_going_after(told2, every), t("2026-12-06T11:10:00Z"));
        // Acknowledged or resolved: never.
        assert_eq!(
            still_going_due(&g, false, told2, every, t("2026-12-08T00:00:00Z")),
            None
        );
    }

    #[test]
    fn rate_limit_holds_past_the_limit_and_sends_one_digest_when_the_hour_allows() {
        let w = Window::new(3);
        let now = t("2026-12-06T10:00:00Z");
        let sent = [
            t("2026-12-06T09:10:00Z"),
            t("2026-12-06T09:20:00Z"),
            t("2026-12-06T09:30:00Z"),
        ];
        // Two in the hour: the third goes.
        assert_eq!(w.admit(&sent[1..], 0, now), Admit::Now);
        // Three in the hour: held until the oldest is an hour old.
        assert_eq!(
            w.admit(&sent, 0, now),
            Admit::Hold {
                digest_at: t("2026-12-06T10:10:00Z")
            }
        );
        // Once something is held, the next waits too, even if a slot is free.
        assert_eq!(w.admit(&sent[1..], 1, now), Admit::Hold { digest_at: now });
        assert!(!w.digest_due(&sent, 5, t("2026-12-06T10:09:59Z")));
        assert!(w.digest_due(&sent, 5, t("2026-12-06T10:10:00Z")));
        assert!(
            !w.digest_due(&sent, 0, t("2026-12-06T10:10:00Z")),
            "nothing held"
        );
        // Messages an hour old or older, or in the future, do not count.
        let old = [
            t("2026-12-06T09:00:00Z"),
            t("2026-12-06T08:00:00Z"),
            t("2026-12-06T11:00:00Z"),
        ];
        assert_eq!(w.admit(&old, 0, now), Admit::Now);
        // Eight sent in the hour with a limit of 3: a slot frees when six of them
        // are out of the window.
        let many: Vec<_> = (0..8)
            .map(|i| t("2026-12-06T09:01:00Z") + Duration::minutes(7 * i))
            .collect();
        assert_eq!(w.digest_at(&many, now), many[5] + HOUR);
        // No limit.
        assert_eq!(Window::new(0).admit(&many, 9, now), Admit::Now);
    }

    /// docs/notifications.md's worked example, message by message.
    #[test]
    fn the_documented_rate_limit_example() {
        let w = Window::new(3);
        let mut sent: Vec<DateTime<Utc>> = Vec::new();
        let mut held = 0usize;
        let mut log = Vec::new();
        // A notifier's loop: at each time, first a due digest, then the new notice.
        let mut step = |at: &str, notice: bool, sent: &mut Vec<DateTime<Utc>>| {
            let now = t(at);
            if w.digest_due(sent, held, now) {
                log.push(format!("{at} digest of {held}"));
                sent.push(now);
                held = 0;
            }
            if notice {
                match w.admit(sent, held, now) {
                    Admit::Now => {
                        log.push(format!("{at} sent"));
                        sent.push(now);
                    }
                    Admit::Hold { .. } => {
                        log.push(format!("{at} held"));
                        held += 1;
                    }
                }
            }
        };
        for (at, notice) in [
            ("2026-12-06T09:10:00Z", true),
            ("2026-12-06T09:20:00Z", true),
            ("2026-12-06T09:30:00Z", true),
            ("2026-12-06T09:40:00Z", true),
            ("2026-12-06T09:45:00Z", true),
            ("2026-12-06T09:55:00Z", true),
            ("2026-12-06T10:10:00Z", false),
            ("2026-12-06T10:15:00Z", true),
            ("2026-12-06T10:20:00Z", false),
            ("2026-12-06T10:40:00Z", true),
        ] {
            step(at, notice, &mut sent);
        }
        let hm: Vec<String> = log
            .iter()
            .map(|l| l[11..16].to_string() + &l[20..])
            .collect();
        assert_eq!(
            hm,
            [
                "09:10 sent",
                "09:20 sent",
                "09:30 sent",
                "09:40 held",
                "09:45 held",
                "09:55 held",
                "10:10 digest of 3",
                "10:15 held",
                "10:20 digest of 1",
                "10:40 sent",
            ]
        );
    }

    #[test]
    fn a_digest_lists_the_oldest_and_counts_all() {
        assert_eq!(digest(Vec::new(), "d".into()), None);
        let held: Vec<Notice> = (0..30)
            .rev()
            .map(|i| Notice {
                key: format!("k{i:02}"),
                kind: NoticeKind::New,
                finding: finding(&format!("f{i}"), 5.0, 1),
                at: t("2026-12-06T10:00:00Z") + Duration::minutes(i),
            })
            .collect();
        let d = digest(held, "digest-ops-1".into()).unwrap();
        assert_eq!(d.total, 30);
        assert_eq!(d.held.len(), DIGEST_LISTED);
        assert_eq!(d.held[0].key, "k00");
        assert_eq!(d.from, t("2026-12-06T10:00:00Z"));
        assert_eq!(d.to, t("2026-12-06T10:29:00Z"));
    }

    #[test]
    fn a_daily_summary_at_its_local_time_once() {
        let d = Daily::new(
            &DailySummary {
                at: "09:00".parse().unwrap(),
                timezone: Some("Asia/Tokyo".into()),
                channels: vec![],
            },
            None,
        )
        .unwrap();
        // Set up at 15:00 JST on the 5th (06:00 UTC): nothing until 09:00 JST the 6th.
        let setup = t("2026-12-05T06:00:00Z");
        assert_eq!(summary_due(setup, t("2026-12-05T23:59:59Z"), &d), None);
        let slot = t("2026-12-06T00:00:00Z");
        assert_eq!(summary_due(setup, slot, &d), Some(slot));
        // Sent: not again that day.
        assert_eq!(summary_due(slot, t("2026-12-06T14:00:00Z"), &d), None);
        // Down for three days: only the latest slot.
        assert_eq!(
            summary_due(slot, t("2026-12-09T05:00:00Z"), &d),
            Some(t("2026-12-09T00:00:00Z"))
        );
    }

    #[test]
    fn a_summary_lists_the_most_severe_and_counts_all() {
        let mut open: Vec<Finding> = (0..15)
            .map(|i| finding(&format!("f{i}"), 2.0 + i as f64 * 0.5, 1))
            .collect();
        open.push(finding("crit", 9.5, 1));
        let s = summarize(
            &open,
            t("2026-12-06T00:00:00Z"),
            "summary-2026-12-06".into(),
        );
        assert_eq!(s.total, 16);
        assert_eq!(s.open.len(), SUMMARY_LISTED);
        assert_eq!(s.open[0].severity, Severity::new(9.5));
        assert!(s.open.windows(2).all(|w| w[0].severity >= w[1].severity));
        assert_eq!(s.by_label.iter().sum::<u64>(), 16);
        // 2.0..9.0 by 0.5, and 9.5: Critical 9.0, 9.5; High 7.0-8.5 (4); Medium 4.0-6.5 (6); Low 2.0-3.5 (4).
        assert_eq!(s.by_label, [2, 4, 6, 4]);
    }
}
