//! The notification outbox: finding changes a person should hear of, written in the
//! same transaction as the change ([`Store::commit`](crate::FindingStore::commit),
//! [`set_status`](crate::FindingStore::set_status) for a resolve), and one delivery
//! per (entry, channel) that the notifier moves from pending to sent or failed.
//!
//! Nothing of a notification lives only in a process's memory: an entry committed
//! is routed, sent and marked by the notifier from the store, so a killed daemon
//! resumes where the store says. A delivery is marked sent in its own transaction
//! right after the receiver accepted it; a kill between the two sends it again once
//! (under the same key, which receivers can use to drop it).

use std::path::Path;

use crate::sql::{params, Conn as Connection, OptionalExtension};
use chrono::{DateTime, Utc};
use keibi_model::{Finding, Severity};

use crate::store::{from_millis, millis};
use crate::{Store, StoreError};

/// Longest error text kept for a delivery, in characters.
const MAX_ERROR: usize = 1000;

/// Why an outbox entry was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutboxKind {
    New,
    Reopened,
    SeverityRaised,
    /// A person resolved the finding (`keibi findings resolve`).
    Resolved,
    /// The notifier's: an open finding kept growing (`count_then`, `since`).
    StillGoing,
    /// An action of the response journal reached a state a person hears of
    /// (`OutboxEntry::action`: the action after the move).
    Action,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::New => "new",
            OutboxKind::Reopened => "reopened",
            OutboxKind::SeverityRaised => "severity_raised",
            OutboxKind::Resolved => "resolved",
            OutboxKind::StillGoing => "still_going",
            OutboxKind::Action => "action",
        }
    }

    /// Whether the responder plans actions from entries of this kind (a finding
    /// new, reopened or raised); entries of other kinds are written as considered.
    pub fn plannable(self) -> bool {
        matches!(
            self,
            OutboxKind::New | OutboxKind::Reopened | OutboxKind::SeverityRaised
        )
    }

    fn parse(s: &str) -> Option<OutboxKind> {
        [
            OutboxKind::New,
            OutboxKind::Reopened,
            OutboxKind::SeverityRaised,
            OutboxKind::Resolved,
            OutboxKind::StillGoing,
            OutboxKind::Action,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One entry of the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    /// Grows with every entry, never reused.
    pub id: i64,
    /// The idempotency key receivers are given (`X-Keibi-Delivery`): random, kept
    /// with the entry, the same on every try and after a restart.
    pub key: String,
    pub kind: OutboxKind,
    /// The severity before a rise.
    pub previous_severity: Option<Severity>,
    /// Who resolved it.
    pub by: Option<String>,
    /// When the change was committed.
    pub at: DateTime<Utc>,
    /// The finding after the change, with its messages.
    pub finding: Finding,
    /// A "still going" entry: the count people were last told, and when.
    pub count_then: Option<u64>,
    pub since: Option<DateTime<Utc>>,
    /// An `Action` entry: the action after the move it tells of.
    pub action: Option<Box<keibi_respond::Action>>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeliveryState {
    Pending,
    Sent,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> DeliveryState {
        match s {
            "sent" => DeliveryState::Sent,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        }
    }
}

/// One entry for one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub entry: OutboxEntry,
    pub channel: String,
    pub state: DeliveryState,
    /// Tries made so far.
    pub attempts: u32,
    /// When it was first tried.
    pub first_at: Option<DateTime<Utc>>,
    /// When it is due (pending), or was last tried.
    pub next_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The receiver's answer when it took it.
    pub detail: Option<String>,
    /// The route that sent it here (None: made before routing existed).
    pub route: Option<String>,
    /// The end of the `group_wait` group it belongs to: deliveries of one route,
    /// channel and group due together go out as one message.
    pub group_until: Option<DateTime<Utc>>,
    /// Held by the channel's rate limit for its next digest.
    pub held: bool,
}

/// How many deliveries of a channel are in a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelCount {
    pub channel: String,
    pub state: DeliveryState,
    pub count: u64,
}

/// What `keibi notify status` shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxStatus {
    /// Entries the notifier has not routed yet (the daemon is not running, or has
    /// no `notify` settings, or has not got to them).
    pub unrouted: u64,
    /// Deliveries by channel and state.
    pub counts: Vec<ChannelCount>,
    /// Pending and failed deliveries, pending first by due time, then failed, most
    /// recent first; at most the limit asked for.
    pub open: Vec<Delivery>,
}

/// What a change writes to the outbox.
pub(crate) struct NewEntry<'a> {
    pub kind: OutboxKind,
    pub previous_severity: Option<Severity>,
    pub by: Option<&'a str>,
    pub at: DateTime<Utc>,
    pub finding: &'a Finding,
}

/// Writes one outbox entry inside the caller's transaction; returns its id.
pub(crate) fn add_entry(tx: &Connection, path: &Path, e: &NewEntry<'_>) -> Result<i64, StoreError> {
    let bad = |source| StoreError::BadRow {
        path: path.to_path_buf(),
        id: e.finding.id.clone(),
        source,
    };
    let json = serde_json::to_string(e.finding).map_err(bad)?;
    let text = match &e.finding.text {
        Some(t) => Some(serde_json::to_string(t).map_err(bad)?),
        None => None,
    };
    // The entry's key: 128 random bits, as hex (unique across every store).
    let mut key = [0u8; 16];
    getrandom::fill(&mut key).map_err(|e| StoreError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
    tx.query_row(
        "INSERT INTO outbox (key, finding_id, kind, previous_severity, by, at, finding, text,
             planned)
         VALUES (?9, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        params![
            e.finding.id,
            e.kind.as_str(),
            e.previous_severity.map(|s| s.value()),
            e.by,
            millis(e.at),
            json,
            text,
            // Only what the responder plans from waits for it.
            !e.kind.plannable(),
            key,
        ],
        |r| r.get(0),
    )
    .map_err(|err| StoreError::sql(path, err))
}

pub(crate) const ENTRY_COLUMNS: &str =
    "o.id, o.key, o.kind, o.previous_severity, o.by, o.at, o.finding, o.text, o.finding_id, \
     o.count_then, o.since, o.action";

pub(crate) fn entry_from_row(
    path: &Path,
    r: &crate::sql::Row<'_>,
) -> Result<OutboxEntry, StoreError> {
    let get = |e| StoreError::sql(path, e);
    let id: i64 = r.get(0).map_err(get)?;
    let kind: String = r.get(2).map_err(get)?;
    let json: String = r.get(6).map_err(get)?;
    let finding_id: String = r.get(8).map_err(get)?;
    let mut finding: Finding =
        serde_json::from_str(&json).map_err(|source| StoreError::BadRow {
            path: path.to_path_buf(),
            id: finding_id,
            source,
        })?;
    let text: Option<String> = r.get(7).map_err(get)?;
    finding.text = text
        .and_then(|t| serde_json::from_str::<keibi_model::FindingText>(&t).ok())
        .map(Box::new);
    Ok(OutboxEntry {
        id,
        key: r.get(1).map_err(get)?,
        kind: OutboxKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("outbox entry {id} has an unknown kind {kind:?}"),
        })?,
        previous_severity: r.get::<_, Option<f64>>(3).map_err(get)?.map(Severity::new),
        by: r.get(4).map_err(get)?,
        at: from_millis(r.get(5).map_err(get)?),
        finding,
        count_then: r
            .get::<_, Option<i64>>(9)
            .map_err(get)?
            .map(|c| u64::try_from(c).unwrap_or(0)),
        since: r.get::<_, Option<i64>>(10).map_err(get)?.map(from_millis),
        action: match r.get::<_, Option<String>>(11).map_err(get)? {
            Some(json) => Some(Box::new(serde_json::from_str(&json).map_err(|e| {
                StoreError::Corrupt {
                    path: path.to_path_buf(),
                    detail: format!("outbox entry {id} has an unreadable action: {e}"),
                }
            })?)),
            None => None,
        },
    })
}

const DELIVERY_COLUMNS: &str = "d.channel, d.state, d.attempts, d.next_at, d.last_error, \
     d.sent_at, d.detail, d.first_at, d.route, d.group_until, d.held";

fn delivery_from_row(path: &Path, r: &crate::sql::Row<'_>) -> Result<Delivery, StoreError> {
    let get = |e| StoreError::sql(path, e);
    let entry = entry_from_row(path, r)?;
    let state: String = r.get(13).map_err(get)?;
    Ok(Delivery {
        entry,
        channel: r.get(12).map_err(get)?,
        state: DeliveryState::parse(&state),
        attempts: u32::try_from(r.get::<_, i64>(14).map_err(get)?).unwrap_or(u32::MAX),
        next_at: from_millis(r.get(15).map_err(get)?),
        last_error: r.get(16).map_err(get)?,
        sent_at: r.get::<_, Option<i64>>(17).map_err(get)?.map(from_millis),
        detail: r.get(18).map_err(get)?,
        first_at: r.get::<_, Option<i64>>(19).map_err(get)?.map(from_millis),
        route: r.get(20).map_err(get)?,
        group_until: r.get::<_, Option<i64>>(21).map_err(get)?.map(from_millis),
        held: r.get::<_, i64>(22).map_err(get)? != 0,
    })
}

/// An earlier notice of a finding on one route (the latest).
#[derive(Debug, Clone, PartialEq)]
pub struct ToldRow {
    pub route: String,
    pub at: DateTime<Utc>,
    pub severity: Severity,
    pub count: u64,
}

/// A `group_wait` group that has not gone out yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingGroup {
    pub route: String,
    pub channel: String,
    pub until: DateTime<Utc>,
}

/// What routing depends on that only the store knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteMemory {
    /// This finding's latest notice on each route.
    pub told: Vec<ToldRow>,
    /// Open groups (pending deliveries whose group ends after now), every finding's.
    pub waiting: Vec<WaitingGroup>,
}

/// One delivery to make for an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDelivery {
    pub channel: String,
    pub route: Option<String>,
    /// When it is first due.
    pub not_before: DateTime<Utc>,
    /// The end of its `group_wait` group, when its route groups.
    pub group_until: Option<DateTime<Utc>>,
}

fn route_memory(
    c: &Connection,
    finding_id: &str,
    now: DateTime<Utc>,
) -> crate::sql::Result<RouteMemory> {
    let mut stmt = c.prepare_cached(
        "SELECT route, at, severity, count FROM notify_told WHERE finding_id = ?1 ORDER BY route",
    )?;
    let told = stmt
        .query_map([finding_id], |r| {
            Ok(ToldRow {
                route: r.get(0)?,
                at: from_millis(r.get(1)?),
                severity: Severity::new(r.get(2)?),
                count: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut stmt = c.prepare_cached(
        "SELECT route, channel, max(group_until) FROM deliveries
         WHERE state = 'pending' AND group_until IS NOT NULL AND group_until > ?1
           AND route IS NOT NULL
         GROUP BY route, channel ORDER BY route, channel",
    )?;
    let waiting = stmt
        .query_map([millis(now)], |r| {
            Ok(WaitingGroup {
                route: r.get(0)?,
                channel: r.get(1)?,
                until: from_millis(r.get(2)?),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RouteMemory { told, waiting })
}

/// People heard of `finding_id` at `at` with `count` events.
pub(crate) fn remember_told(
    c: &Connection,
    finding_id: &str,
    at: DateTime<Utc>,
    count: i64,
) -> crate::sql::Result<()> {
    c.execute(
        "INSERT INTO notify_last (finding_id, at, count) VALUES (?1, ?2, ?3)
         ON CONFLICT (finding_id) DO UPDATE SET at = excluded.at, count = excluded.count",
        params![finding_id, millis(at), count],
    )?;
    Ok(())
}

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_ERROR {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_ERROR - 1).collect();
    out.push('…');
    out
}

impl Store {
    /// Gives the oldest entries not yet routed (at most `limit`) their deliveries:
    /// `channels` says which channels each goes to (none: it is routed, and nothing
    /// is sent). Each delivery is due at `now`, with no route. One transaction;
    /// returns how many entries were routed. [`Store::route_outbox_with`] is the
    /// notifier's, with routes.
    pub fn route_outbox(
        &mut self,
        limit: usize,
        now: DateTime<Utc>,
        channels: &mut dyn FnMut(&OutboxEntry) -> Vec<String>,
    ) -> Result<usize, StoreError> {
        self.route_outbox_with(limit, now, &mut |e, _| {
            channels(e)
                .into_iter()
                .map(|channel| PlannedDelivery {
                    channel,
                    route: None,
                    not_before: now,
                    group_until: None,
                })
                .collect()
        })
    }

    /// Gives the oldest entries not yet routed (at most `limit`) their deliveries,
    /// as `plan` decides from the entry and what the store remembers for it
    /// ([`RouteMemory`]: this finding's last notice per route, the `group_wait`
    /// groups still open at `now`, including those this call opened for earlier
    /// entries). Each route that gets a delivery remembers this notice (`now`,
    /// the finding's severity and count) for its throttle, and the finding
    /// remembers it was told when its first delivery is due, with its count (for
    /// "still going"). One transaction; returns how many entries were routed.
    pub fn route_outbox_with(
        &mut self,
        limit: usize,
        now: DateTime<Utc>,
        plan: &mut dyn FnMut(&OutboxEntry, &RouteMemory) -> Vec<PlannedDelivery>,
    ) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let entries: Vec<OutboxEntry> = {
            let mut stmt = tx
                .prepare(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM outbox o WHERE o.routed = 0 ORDER BY o.id LIMIT ?1"
                ))
                .map_err(err)?;
            let mut rows = stmt
                .query([i64::try_from(limit).unwrap_or(i64::MAX)])
                .map_err(err)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(err)? {
                out.push(entry_from_row(&path, r)?);
            }
            out
        };
        for e in &entries {
            let memory = route_memory(&tx, &e.finding.id, now).map_err(err)?;
            let mut plans = plan(e, &memory);
            plans.sort_by(|a, b| a.channel.cmp(&b.channel));
            plans.dedup_by(|a, b| a.channel == b.channel);
            let mut routes: Vec<&str> = Vec::new();
            for p in &plans {
                tx.execute(
                    "INSERT INTO deliveries (outbox_id, channel, next_at, route, group_until)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    params![
                        e.id,
                        p.channel,
                        millis(p.not_before),
                        p.route,
                        p.group_until.map(millis)
                    ],
                )
                .map_err(err)?;
                if let Some(r) = &p.route {
                    if !routes.contains(&r.as_str()) {
                        routes.push(r);
                    }
                }
            }
            let count = i64::try_from(e.finding.count).unwrap_or(i64::MAX);
            // A notice of an action says nothing new of the finding: it neither
            // restarts a route's throttle nor the "still going" count.
            if e.kind == OutboxKind::Action {
                routes.clear();
            }
            for r in routes {
                tx.execute(
                    "INSERT INTO notify_told (finding_id, route, at, severity, count)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (finding_id, route) DO UPDATE SET
                         at = excluded.at, severity = excluded.severity, count = excluded.count",
                    params![
                        e.finding.id,
                        r,
                        millis(now),
                        e.finding.severity.value(),
                        count
                    ],
                )
                .map_err(err)?;
            }
            // People hear of it when its first delivery is due (quiet hours may
            // hold it for the night): a "still going" counts from then.
            if let Some(first) = plans
                .iter()
                .map(|p| p.not_before)
                .min()
                .filter(|_| e.kind != OutboxKind::Action)
            {
                remember_told(&tx, &e.finding.id, first.max(now), count).map_err(err)?;
            }
            tx.execute("UPDATE outbox SET routed = 1 WHERE id = ?1", [e.id])
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(entries.len())
    }

    /// What routing remembers for `finding_id` at `now` (`keibi notify routes`
    /// shows the same as the notifier would see).
    pub fn route_memory(
        &self,
        finding_id: &str,
        now: DateTime<Utc>,
    ) -> Result<RouteMemory, StoreError> {
        route_memory(&self.conn, finding_id, now).map_err(|e| self.err_of(e))
    }

    /// Pending deliveries due at `now`, in the order the changes were committed, at
    /// most `limit`.
    pub fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.due_deliveries_except(now, limit, &[])
    }

    /// [`Store::due_deliveries`] of every channel but those in `except` (channels
    /// resting after a failure: their backlog must not keep the others' out of the
    /// batch).
    pub fn due_deliveries_except(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        except: &[&str],
    ) -> Result<Vec<Delivery>, StoreError> {
        // A delivery another sender claimed (issue 20's workers) waits for the
        // claim to run out, by the store's clock.
        let mut filter = format!(
            "d.state = 'pending' AND d.next_at <= ? AND coalesce(d.claimed_until, 0) <= {}",
            crate::leases::now_sql(&self.conn)
        );
        let mut args: Vec<crate::sql::Value> = vec![millis(now).into()];
        if !except.is_empty() {
            filter.push_str(" AND d.channel NOT IN (");
            for (i, c) in except.iter().enumerate() {
                filter.push_str(if i == 0 { "?" } else { ", ?" });
                args.push(c.to_string().into());
            }
            filter.push(')');
        }
        filter.push_str(" ORDER BY o.id, d.channel LIMIT ?");
        args.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
        self.deliveries(&filter, crate::sql::params_from_iter(args))
    }

    /// When the next pending delivery is due (None: nothing pending).
    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let t: Option<i64> = self
            .conn
            .query_row(
                "SELECT min(next_at) FROM deliveries WHERE state = 'pending'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err_of(e))?
            .flatten();
        Ok(t.map(from_millis))
    }

    pub(crate) fn deliveries_where(
        &self,
        filter: &str,
        args: impl crate::sql::Params,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.deliveries(filter, args)
    }

    fn deliveries(
        &self,
        filter: &str,
        args: impl crate::sql::Params,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {ENTRY_COLUMNS}, {DELIVERY_COLUMNS} FROM deliveries d
                 JOIN outbox o ON o.id = d.outbox_id WHERE {filter}"
            ))
            .map_err(|e| self.err_of(e))?;
        let mut rows = stmt.query(args).map_err(|e| self.err_of(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err_of(e))? {
            out.push(delivery_from_row(&self.path, r)?);
        }
        Ok(out)
    }

    /// The receiver took it: sent, in a transaction of its own. A delivery already
    /// sent or failed is left as it is.
    pub fn mark_sent(
        &mut self,
        outbox_id: i64,
        channel: &str,
        at: DateTime<Utc>,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.mark_sent_message(&[outbox_id], channel, at, detail, None)
    }

    /// One message carried these deliveries of `channel` (a notice, or a digest of
    /// several) and the receiver took it: all sent, and the message counted for
    /// the channel's rate limit under `key` (None: the one entry's key), in one
    /// transaction.
    pub fn mark_sent_message(
        &mut self,
        outbox_ids: &[i64],
        channel: &str,
        at: DateTime<Utc>,
        detail: &str,
        key: Option<&str>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        for id in outbox_ids {
            tx.execute(
                "UPDATE deliveries SET state = 'sent', attempts = attempts + 1, sent_at = ?3,
                     next_at = ?3, detail = ?4, first_at = coalesce(first_at, ?3)
                 WHERE outbox_id = ?1 AND channel = ?2 AND state = 'pending'",
                params![id, channel, millis(at), clip(detail)],
            )
            .map_err(err)?;
        }
        let key: String = match (key, outbox_ids.first()) {
            (Some(k), _) => k.to_string(),
            (None, Some(id)) => tx
                .query_row("SELECT key FROM outbox WHERE id = ?1", [id], |r| r.get(0))
                .optional()
                .map_err(err)?
                .unwrap_or_default(),
            (None, None) => String::new(),
        };
        tx.execute(
            "INSERT INTO notify_sent (channel, at, key) VALUES (?1, ?2, ?3)",
            params![channel, millis(at), key],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(())
    }

    /// A try failed and will be made again at `next_at`.
    pub fn mark_retry(
        &mut self,
        outbox_id: i64,
        channel: &str,
        at: DateTime<Utc>,
        error: &str,
        next_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE deliveries SET attempts = attempts + 1, next_at = ?3, last_error = ?4,
                     first_at = coalesce(first_at, ?5)
                 WHERE outbox_id = ?1 AND channel = ?2 AND state = 'pending'",
                params![outbox_id, channel, millis(next_at), clip(error), millis(at)],
            )
            .map_err(|e| self.err_of(e))?;
        Ok(())
    }

    /// The receiver refused it for good, or kept failing for too long: failed, not
    /// tried again.
    pub fn mark_failed(
        &mut self,
        outbox_id: i64,
        channel: &str,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE deliveries SET state = 'failed', attempts = attempts + 1, next_at = ?3,
                     last_error = ?4, first_at = coalesce(first_at, ?3)
                 WHERE outbox_id = ?1 AND channel = ?2 AND state = 'pending'",
                params![outbox_id, channel, millis(at), clip(error)],
            )
            .map_err(|e| self.err_of(e))?;
        Ok(())
    }

    /// Counts by channel and state, entries not routed, and the pending and failed
    /// deliveries (at most `limit`).
    pub fn outbox_status(&self, limit: usize) -> Result<OutboxStatus, StoreError> {
        let unrouted: i64 = self
            .conn
            .query_row("SELECT count(*) FROM outbox WHERE routed = 0", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err_of(e))?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT channel, state, count(*) FROM deliveries GROUP BY channel, state
                 ORDER BY channel, state",
            )
            .map_err(|e| self.err_of(e))?;
        let counts = stmt
            .query_map([], |r| {
                Ok(ChannelCount {
                    channel: r.get(0)?,
                    state: DeliveryState::parse(&r.get::<_, String>(1)?),
                    count: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                })
            })
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err_of(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut open = self.deliveries(
            "d.state = 'pending' ORDER BY d.next_at, o.id, d.channel LIMIT ?1",
            [limit],
        )?;
        let room = limit - i64::try_from(open.len()).unwrap_or(0);
        if room > 0 {
            open.extend(self.deliveries(
                "d.state = 'failed' ORDER BY d.next_at DESC, o.id DESC, d.channel LIMIT ?1",
                [room],
            )?);
        }
        Ok(OutboxStatus {
            unrouted: u64::try_from(unrouted).unwrap_or(0),
            counts,
            open,
        })
    }

    /// Every outbox entry after `after_id`, oldest first, at most `limit` (tests and
    /// tools).
    pub fn outbox(&self, after_id: i64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {ENTRY_COLUMNS} FROM outbox o WHERE o.id > ?1 ORDER BY o.id LIMIT ?2"
            ))
            .map_err(|e| self.err_of(e))?;
        let mut rows = stmt
            .query(params![after_id, i64::try_from(limit).unwrap_or(i64::MAX)])
            .map_err(|e| self.err_of(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err_of(e))? {
            out.push(entry_from_row(&self.path, r)?);
        }
        Ok(out)
    }

    /// Deletes entries committed before `older_than` that are routed and have no
    /// delivery pending, with their deliveries: the outbox keeps what is still to
    /// send, and the recent past for `keibi notify status`. Returns the entries
    /// deleted. An entry the responder has not considered goes too: the notifier
    /// prunes what is days old, and the responder never acts on an entry more than
    /// an hour old (`keibi_engine::responder::MAX_ENTRY_AGE`), so a daemon without
    /// responses does not keep every entry for ever.
    pub fn prune_outbox(&mut self, older_than: DateTime<Utc>) -> Result<u64, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let done = "SELECT id FROM outbox WHERE at < ?1 AND routed = 1 AND NOT EXISTS
             (SELECT 1 FROM deliveries WHERE outbox_id = outbox.id AND state = 'pending')";
        tx.execute(
            &format!("DELETE FROM deliveries WHERE outbox_id IN ({done})"),
            [millis(older_than)],
        )
        .map_err(err)?;
        let n = tx
            .execute(
                &format!("DELETE FROM outbox WHERE id IN ({done})"),
                [millis(older_than)],
            )
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n as u64)
    }

    pub(crate) fn err_of(&self, e: crate::sql::SqlError) -> StoreError {
        StoreError::sql(&self.path, e)
    }
}
