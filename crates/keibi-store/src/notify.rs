//! What the notifier remembers besides the outbox: the rate limit's sent messages
//! and held deliveries, "still going" candidates, and the daily summary's schedule
//! and deliveries (`migrations/004-notify-routing.sql`). The decisions are
//! keibi-notify's pure functions; this module only reads and writes the rows.

use crate::sql::{params, OptionalExtension};
use chrono::{DateTime, Utc};
use keibi_model::{Finding, SeverityLabel};

use crate::outbox::{add_entry, remember_told, NewEntry};
use crate::store::{from_millis, millis, read_finding_opt};
use crate::{Delivery, DeliveryState, OutboxKind, Status, Store, StoreError};

/// An open, unacknowledged finding whose count grew past what people were last
/// told, that long ago or more.
#[derive(Debug, Clone, PartialEq)]
pub struct Growing {
    pub finding: Finding,
    pub status: Status,
    /// When people last heard of it, and its count then.
    pub told_at: DateTime<Utc>,
    pub told_count: u64,
}

/// One channel's copy of a daily summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryDelivery {
    /// The scheduled time of the summary.
    pub slot: DateTime<Utc>,
    pub channel: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub first_at: Option<DateTime<Utc>>,
    pub next_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// The open findings (new and acknowledged) for a summary: the most severe first,
/// at most the limit asked for, and how many there are by label (Critical, High,
/// Medium, Low).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenFindings {
    pub listed: Vec<Finding>,
    pub by_label: [u64; 4],
}

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Store {
    /// When messages went out on `channel` after `since` (for its rate limit).
    pub fn sent_times(
        &self,
        channel: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT at FROM notify_sent WHERE channel = ?1 AND at > ?2 ORDER BY at")
            .map_err(|e| self.err_of(e))?;
        let rows = stmt
            .query_map(params![channel, millis(since)], |r| r.get::<_, i64>(0))
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err_of(e))?;
        Ok(rows.into_iter().map(from_millis).collect())
    }

    /// Holds these pending deliveries of `channel` for its digest, due at `at`.
    pub fn mark_held(
        &mut self,
        outbox_ids: &[i64],
        channel: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        for id in outbox_ids {
            tx.execute(
                "UPDATE deliveries SET held = 1, next_at = ?3
                 WHERE outbox_id = ?1 AND channel = ?2 AND state = 'pending'",
                params![id, channel, millis(at)],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(())
    }

    /// Moves every held delivery of `channel` to `at` (the window is still full).
    pub fn delay_held(&mut self, channel: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE deliveries SET next_at = ?2
                 WHERE channel = ?1 AND state = 'pending' AND held = 1",
                params![channel, millis(at)],
            )
            .map_err(|e| self.err_of(e))?;
        Ok(())
    }

    /// How many deliveries `channel` holds for its digest.
    pub fn held_count(&self, channel: &str) -> Result<usize, StoreError> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM deliveries WHERE channel = ?1 AND state = 'pending' AND held = 1",
                [channel],
                |r| r.get(0),
            )
            .map_err(|e| self.err_of(e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// The deliveries `channel` holds for its digest, oldest first, at most `limit`.
    pub fn held_deliveries(
        &self,
        channel: &str,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.deliveries_where(
            "d.state = 'pending' AND d.held = 1 AND d.channel = ?1 ORDER BY o.id LIMIT ?2",
            params![channel, i64::try_from(limit).unwrap_or(i64::MAX)],
        )
    }

    /// The pending deliveries of one `group_wait` group (`channel`, `route`, the
    /// group's end) due at `now` and not held, oldest first, at most `limit`: a
    /// group is sent whole even when a step's batch held only part of it.
    pub fn group_due(
        &self,
        channel: &str,
        route: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.deliveries_where(
            "d.state = 'pending' AND d.held = 0 AND d.channel = ?1 AND d.route = ?2
               AND d.group_until = ?3 AND d.next_at <= ?4 ORDER BY o.id LIMIT ?5",
            params![
                channel,
                route,
                millis(until),
                millis(now),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
        )
    }

    /// Findings that may be due a "still going" at `now` with `repeat` between
    /// notices: open and unacknowledged (status new), told before, grown since,
    /// told at `now - repeat` or earlier, and with no outbox entry waiting to be
    /// routed. At most `limit`, the longest untold first.
    pub fn still_going_candidates(
        &self,
        now: DateTime<Utc>,
        repeat: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<Growing>, StoreError> {
        let ids: Vec<(String, i64, i64)> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT l.finding_id, l.at, l.count FROM notify_last l
                     JOIN findings f ON f.id = l.finding_id
                     WHERE f.status = 'new' AND f.count > l.count AND l.at <= ?1
                       AND NOT EXISTS (SELECT 1 FROM outbox o
                                       WHERE o.finding_id = l.finding_id AND o.routed = 0)
                     ORDER BY l.at, l.finding_id LIMIT ?2",
                )
                .map_err(|e| self.err_of(e))?;
            stmt.query_map(
                params![
                    millis(now - repeat),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err_of(e))?
        };
        let mut out = Vec::with_capacity(ids.len());
        for (id, at, n) in ids {
            if let Some(s) = read_finding_opt(&self.conn, &self.path, &id)? {
                out.push(Growing {
                    finding: s.finding,
                    status: s.status,
                    told_at: from_millis(at),
                    told_count: count(n),
                });
            }
        }
        Ok(out)
    }

    /// Writes a "still going" outbox entry for `finding` (people were told of
    /// `count_then` events at `since`) and remembers the finding as told now, so
    /// the next one waits a whole interval even if no route takes this one. One
    /// transaction.
    pub fn add_still_going(
        &mut self,
        finding: &Finding,
        count_then: u64,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let entry = add_entry(
            &tx,
            &path,
            &NewEntry {
                kind: OutboxKind::StillGoing,
                previous_severity: None,
                by: None,
                at: now,
                finding,
            },
        )?;
        tx.execute(
            "UPDATE outbox SET count_then = ?2, since = ?3 WHERE id = ?1",
            params![
                entry,
                i64::try_from(count_then).unwrap_or(i64::MAX),
                millis(since)
            ],
        )
        .map_err(err)?;
        remember_told(
            &tx,
            &finding.id,
            now,
            i64::try_from(finding.count).unwrap_or(i64::MAX),
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(())
    }

    /// A named instant the notifier keeps (`setup`).
    pub fn notify_mark(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let v: Option<i64> = self
            .conn
            .query_row(
                "SELECT value FROM notify_state WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err_of(e))?;
        Ok(v.map(from_millis))
    }

    /// Sets a named instant unless it is set; returns the stored one.
    pub fn notify_mark_once(
        &mut self,
        name: &str,
        at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        self.conn
            .execute(
                "INSERT INTO notify_state (name, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![name, millis(at)],
            )
            .map_err(|e| self.err_of(e))?;
        Ok(self.notify_mark(name)?.unwrap_or(at))
    }

    /// The latest daily summary scheduled (its slot).
    pub fn last_summary_slot(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let v: Option<i64> = self
            .conn
            .query_row("SELECT max(slot) FROM notify_summaries", [], |r| r.get(0))
            .map_err(|e| self.err_of(e))?;
        Ok(v.map(from_millis))
    }

    /// Schedules the summary of `slot` for `channels`, due at `now`. One
    /// transaction; a slot already scheduled is left as it is.
    pub fn schedule_summary(
        &mut self,
        slot: DateTime<Utc>,
        channels: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        for c in channels {
            tx.execute(
                "INSERT INTO notify_summaries (slot, channel, next_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![millis(slot), c, millis(now)],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(())
    }

    /// Summary deliveries pending and due at `now`, oldest first, at most `limit`.
    pub fn due_summaries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<SummaryDelivery>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT slot, channel, state, attempts, first_at, next_at, last_error
                 FROM notify_summaries WHERE state = 'pending' AND next_at <= ?1
                 ORDER BY slot, channel LIMIT ?2",
            )
            .map_err(|e| self.err_of(e))?;
        stmt.query_map(
            params![millis(now), i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok(SummaryDelivery {
                    slot: from_millis(r.get(0)?),
                    channel: r.get(1)?,
                    state: match r.get::<_, String>(2)?.as_str() {
                        "sent" => DeliveryState::Sent,
                        "failed" => DeliveryState::Failed,
                        _ => DeliveryState::Pending,
                    },
                    attempts: u32::try_from(r.get::<_, i64>(3)?).unwrap_or(u32::MAX),
                    first_at: r.get::<_, Option<i64>>(4)?.map(from_millis),
                    next_at: from_millis(r.get(5)?),
                    last_error: r.get(6)?,
                })
            },
        )
        .and_then(|r| r.collect::<Result<Vec<_>, _>>())
        .map_err(|e| self.err_of(e))
    }

    /// The end of one try of a summary delivery: `Ok(key)` sent (and counted for
    /// the channel's rate limit), `Err((error, Some(next)))` tried again at
    /// `next`, `Err((error, None))` failed.
    pub fn mark_summary(
        &mut self,
        slot: DateTime<Utc>,
        channel: &str,
        at: DateTime<Utc>,
        outcome: Result<&str, (&str, Option<DateTime<Utc>>)>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let (state, next, error) = match outcome {
            Ok(key) => {
                tx.execute(
                    "INSERT INTO notify_sent (channel, at, key) VALUES (?1, ?2, ?3)",
                    params![channel, millis(at), key],
                )
                .map_err(err)?;
                ("sent", at, None)
            }
            Err((e, Some(next))) => ("pending", next, Some(e)),
            Err((e, None)) => ("failed", at, Some(e)),
        };
        tx.execute(
            "UPDATE notify_summaries SET state = ?3, attempts = attempts + 1, next_at = ?4,
                 last_error = coalesce(?5, last_error), first_at = coalesce(first_at, ?6)
             WHERE slot = ?1 AND channel = ?2 AND state = 'pending'",
            params![
                millis(slot),
                channel,
                state,
                millis(next),
                error,
                millis(at)
            ],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(())
    }

    /// The open findings (new or acknowledged) for a summary: the `limit` most
    /// severe, and all of them counted by label.
    pub fn open_findings(&self, limit: usize) -> Result<OpenFindings, StoreError> {
        use crate::FindingStore;
        let listed = self
            .findings(&crate::Query {
                statuses: vec![Status::New, Status::Acknowledged],
                limit: Some(limit),
                ..crate::Query::default()
            })?
            .into_iter()
            .map(|s| s.finding)
            .collect();
        let mut by_label = [0u64; 4];
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT severity, count(*) FROM findings WHERE status IN ('new', 'acknowledged')
                 GROUP BY severity",
            )
            .map_err(|e| self.err_of(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, f64>(0)?, r.get::<_, i64>(1)?)))
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err_of(e))?;
        for (sev, n) in rows {
            let i = match keibi_model::Severity::new(sev).label() {
                SeverityLabel::Critical => 0,
                SeverityLabel::High => 1,
                SeverityLabel::Medium => 2,
                SeverityLabel::Low => 3,
            };
            by_label[i] += count(n);
        }
        Ok(OpenFindings { listed, by_label })
    }

    /// Forgets what the rate limits, throttles and summaries no longer need:
    /// messages sent more than a day before `now`, route notices older than 31
    /// days (a throttle is at most 30), "last told" rows of findings no longer
    /// stored, summary deliveries done before `older_than` (the newest slot kept).
    pub fn prune_notify(
        &mut self,
        now: DateTime<Utc>,
        older_than: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "DELETE FROM notify_sent WHERE at < ?1",
                [millis(now - chrono::Duration::days(1))],
            )
            .map_err(|e| self.err_of(e))?;
        self.conn
            .execute(
                "DELETE FROM notify_told WHERE at < ?1",
                [millis(now - chrono::Duration::days(31))],
            )
            .map_err(|e| self.err_of(e))?;
        self.conn
            .execute(
                "DELETE FROM notify_last WHERE finding_id NOT IN (SELECT id FROM findings)",
                [],
            )
            .map_err(|e| self.err_of(e))?;
        self.conn
            .execute(
                "DELETE FROM notify_summaries WHERE state != 'pending' AND slot < ?1
                   AND slot < (SELECT max(slot) FROM notify_summaries)",
                [millis(older_than)],
            )
            .map_err(|e| self.err_of(e))?;
        Ok(())
    }
}
