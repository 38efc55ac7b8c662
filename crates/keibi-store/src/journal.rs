//! The response journal (`docs/response.md`): every action keibi plans, with its
//! state and history, written before the world is touched.
//!
//! The responder (keibi-engine) reads outbox entries it has not yet considered
//! ([`Store::unplanned_entries`]), writes what the policy planned for each
//! ([`Store::plan_actions`], the entry marked considered in the same
//! transaction), then moves each action through its states with
//! [`Store::transition`] — a compare-and-set, so the daemon and a person (`keibi
//! actions approve|undo|cancel`) never both move one action — before and after each
//! executor call. An action whose new state a person should hear of
//! ([`State::is_notified`]) writes an outbox entry of kind `action` in the same
//! transaction, so notifications of actions go through the same routes and are
//! never lost either.

use std::path::Path;

use crate::sql::{params, Conn as Connection, OptionalExtension};
use chrono::{DateTime, Utc};
use keibi_model::Finding;
use keibi_respond::{Action, Mode, State, Target, Transition};

use crate::outbox::{add_entry, entry_from_row, NewEntry, OutboxEntry, OutboxKind, ENTRY_COLUMNS};
use crate::store::{from_millis, millis};
use crate::{Store, StoreError};

/// Longest reason or history detail kept, in characters (an executor's error can
/// quote a whole answer).
const MAX_TEXT: usize = 2000;

/// Largest `prior` or `done` JSON accepted, in bytes: what an executor read or did
/// is a few entries, never megabytes.
const MAX_JSON: usize = 256 * 1024;

/// Shortest action id prefix `action()` takes.
const MIN_PREFIX: usize = 4;

/// An action the policy planned, with the finding it is about (kept with it: the
/// executors of `webhook` and `exec` send it, `keibi actions show` shows it).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAction {
    /// State `planned`, `simulated` or `skipped`; `created_at` = `updated_at` = now.
    pub action: Action,
    /// Why, for the first history line.
    pub detail: Option<String>,
}

/// What a move changes beside the state. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    /// A person's name, or `keibi`.
    pub by: String,
    /// For the history line.
    pub detail: Option<String>,
    /// Replaces `reason` (skipped, failed).
    pub reason: Option<String>,
    pub executor: Option<String>,
    pub prior: Option<serde_json::Value>,
    pub done: Option<serde_json::Value>,
    /// Add one to `attempts`.
    pub attempt: bool,
    /// Replaces `next_at` (`Some(None)` clears it).
    pub next_at: Option<Option<DateTime<Utc>>>,
    /// Replaces `expires_at`.
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

/// Which actions `keibi actions list` shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionFilter {
    /// Empty: every state.
    pub states: Vec<State>,
    pub finding_id: Option<String>,
    /// Updated at or after.
    pub since: Option<DateTime<Utc>>,
    /// At most this many, most recently updated first (0: no limit).
    pub limit: usize,
}

/// The kill switch kept in the store: who paused responses, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub by: String,
    pub at: DateTime<Utc>,
    /// Why, as the person said it (`keibi actions pause --reason`).
    pub reason: Option<String>,
}

/// An action with its finding and history (`keibi actions show`).
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRecord {
    pub action: Action,
    pub finding: Finding,
    pub history: Vec<Transition>,
}

/// The columns of an [`Action`]; [`RECORD_COLUMNS`] adds its finding snapshot (read
/// only where it is used: it is the largest part of a row).
const ACTION_COLUMNS: &str = "a.id, a.finding_id, a.finding_type, a.target, a.mode, a.state, \
     a.rule, a.reason, a.expire_after_secs, a.expires_at, a.created_at, a.updated_at, \
     a.attempts, a.next_at, a.executor, a.prior, a.done, a.by";
const RECORD_COLUMNS: &str = "a.id, a.finding_id, a.finding_type, a.target, a.mode, a.state, \
     a.rule, a.reason, a.expire_after_secs, a.expires_at, a.created_at, a.updated_at, \
     a.attempts, a.next_at, a.executor, a.prior, a.done, a.by, f.finding, f.text";
/// The tables [`RECORD_COLUMNS`] read.
const RECORD_FROM: &str =
    "actions a JOIN action_findings f ON f.finding_id = a.finding_id AND f.trigger = a.trigger";

fn corrupt(path: &Path, id: &str, what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("action {id} has an unreadable {what}: {e}"),
    }
}

fn json_opt(
    path: &Path,
    id: &str,
    what: &str,
    s: Option<String>,
) -> Result<Option<serde_json::Value>, StoreError> {
    s.map(|s| serde_json::from_str(&s).map_err(|e| corrupt(path, id, what, e)))
        .transpose()
}

fn action_from_row(path: &Path, r: &crate::sql::Row<'_>) -> Result<Action, StoreError> {
    let get = |e| StoreError::sql(path, e);
    let id: String = r.get(0).map_err(get)?;
    let target: String = r.get(3).map_err(get)?;
    let target: Target =
        serde_json::from_str(&target).map_err(|e| corrupt(path, &id, "target", e))?;
    let mode: String = r.get(4).map_err(get)?;
    let state: String = r.get(5).map_err(get)?;
    let secs = |i: usize| -> Result<Option<u64>, StoreError> {
        Ok(r.get::<_, Option<i64>>(i)
            .map_err(get)?
            .map(|v| u64::try_from(v).unwrap_or(0)))
    };
    let time = |i: usize| -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(r.get::<_, Option<i64>>(i).map_err(get)?.map(from_millis))
    };
    Ok(Action {
        finding_id: r.get(1).map_err(get)?,
        finding_type: r.get(2).map_err(get)?,
        target,
        mode: Mode::parse(&mode).ok_or_else(|| corrupt(path, &id, "mode", &mode))?,
        state: State::parse(&state).ok_or_else(|| corrupt(path, &id, "state", &state))?,
        rule: r.get(6).map_err(get)?,
        reason: r.get(7).map_err(get)?,
        expire_after_secs: secs(8)?,
        expires_at: time(9)?,
        created_at: from_millis(r.get(10).map_err(get)?),
        updated_at: from_millis(r.get(11).map_err(get)?),
        attempts: u32::try_from(r.get::<_, i64>(12).map_err(get)?).unwrap_or(u32::MAX),
        next_at: time(13)?,
        executor: r.get(14).map_err(get)?,
        prior: json_opt(path, &id, "prior", r.get(15).map_err(get)?)?,
        done: json_opt(path, &id, "done", r.get(16).map_err(get)?)?,
        by: r.get(17).map_err(get)?,
        id,
    })
}

/// The finding snapshot kept for the action (columns 18 and 19 of [`RECORD_COLUMNS`]).
fn finding_from_row(path: &Path, r: &crate::sql::Row<'_>, id: &str) -> Result<Finding, StoreError> {
    let get = |e| StoreError::sql(path, e);
    let json: String = r.get(18).map_err(get)?;
    let mut f: Finding =
        serde_json::from_str(&json).map_err(|e| corrupt(path, id, "finding", e))?;
    // As for stored findings: messages that do not read leave the English texts.
    let text: Option<String> = r.get(19).map_err(get)?;
    f.text = text
        .and_then(|t| serde_json::from_str::<keibi_model::FindingText>(&t).ok())
        .map(Box::new);
    Ok(f)
}

fn actions_where(
    c: &Connection,
    path: &Path,
    filter: &str,
    args: impl crate::sql::Params,
) -> Result<Vec<Action>, StoreError> {
    let err = |e| StoreError::sql(path, e);
    let mut stmt = c
        .prepare(&format!(
            "SELECT {ACTION_COLUMNS} FROM actions a WHERE {filter}"
        ))
        .map_err(err)?;
    let mut rows = stmt.query(args).map_err(err)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(err)? {
        out.push(action_from_row(path, r)?);
    }
    Ok(out)
}

fn records_where(
    c: &Connection,
    path: &Path,
    filter: &str,
    args: impl crate::sql::Params,
) -> Result<Vec<ActionRecord>, StoreError> {
    let err = |e| StoreError::sql(path, e);
    let mut out = Vec::new();
    {
        let mut stmt = c
            .prepare(&format!(
                "SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE {filter}"
            ))
            .map_err(err)?;
        let mut rows = stmt.query(args).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let action = action_from_row(path, r)?;
            let finding = finding_from_row(path, r, &action.id)?;
            out.push(ActionRecord {
                action,
                finding,
                history: Vec::new(),
            });
        }
    }
    for rec in &mut out {
        rec.history = history(c, path, &rec.action.id)?;
    }
    Ok(out)
}

/// at, from, to, by, detail.
type HistoryRow = (i64, Option<String>, String, String, Option<String>);

fn history(c: &Connection, path: &Path, id: &str) -> Result<Vec<Transition>, StoreError> {
    let err = |e| StoreError::sql(path, e);
    let mut stmt = c
        .prepare_cached(
            "SELECT at, from_state, to_state, by, detail FROM action_history
             WHERE action_id = ?1 ORDER BY seq",
        )
        .map_err(err)?;
    let rows: Vec<HistoryRow> = stmt
        .query_map([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .and_then(|r| r.collect())
        .map_err(err)?;
    rows.into_iter()
        .map(|(at, from, to, by, detail)| {
            let from = match from {
                Some(f) => Some(State::parse(&f).ok_or_else(|| corrupt(path, id, "history", &f))?),
                None => None,
            };
            Ok(Transition {
                at: from_millis(at),
                from,
                to: State::parse(&to).ok_or_else(|| corrupt(path, id, "history", &to))?,
                by,
                detail,
            })
        })
        .collect()
}

fn add_history(
    tx: &Connection,
    id: &str,
    at: DateTime<Utc>,
    from: Option<State>,
    to: State,
    by: &str,
    detail: Option<&str>,
) -> crate::sql::Result<()> {
    tx.prepare_cached(
        "INSERT INTO action_history (action_id, seq, at, from_state, to_state, by, detail)
         VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM action_history WHERE action_id = ?1),
                 ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        millis(at),
        from.map(State::as_str),
        to.as_str(),
        clip(by),
        detail.map(clip)
    ])?;
    Ok(())
}

/// Writes the `action` outbox entry telling of `action` (after its move), inside
/// the caller's transaction.
fn tell(
    tx: &Connection,
    path: &Path,
    action: &Action,
    finding: &Finding,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let entry = add_entry(
        tx,
        path,
        &NewEntry {
            kind: OutboxKind::Action,
            previous_severity: None,
            by: Some(by),
            at,
            finding,
        },
    )?;
    let json = serde_json::to_string(action).map_err(|e| corrupt(path, &action.id, "action", e))?;
    tx.execute(
        "UPDATE outbox SET action_id = ?2, action = ?3 WHERE id = ?1",
        params![entry, action.id, json],
    )
    .map_err(|e| StoreError::sql(path, e))?;
    Ok(())
}

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_TEXT {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_TEXT - 1).collect();
    out.push('…');
    out
}

fn bounded_json(id: &str, what: &str, v: &serde_json::Value) -> Result<String, StoreError> {
    let s = v.to_string();
    if s.len() > MAX_JSON {
        return Err(StoreError::Invalid(format!(
            "action {id}: {what} is {} bytes, more than the {MAX_JSON} a journal row keeps",
            s.len()
        )));
    }
    Ok(s)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A `LIMIT` for `limit` (0: none, as the largest count: SQLite's `-1` is an
/// error to PostgreSQL).
fn limit_of(limit: usize) -> i64 {
    if limit == 0 {
        i64::MAX
    } else {
        i64::try_from(limit).unwrap_or(i64::MAX)
    }
}

/// The actions whose state says they are acted on: in force, or about to be.
const IN_FORCE: &str = "'executing', 'executed', 'undoing'";

impl Store {
    /// Outbox entries of kind new, reopened or severity raised that the responder
    /// has not considered, oldest first, at most `limit`. (Entries of other kinds
    /// are never returned.)
    pub fn unplanned_entries(&mut self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM outbox o
                 WHERE o.planned = 0 AND o.kind IN ('new', 'reopened', 'severity_raised')
                 ORDER BY o.id LIMIT ?1"
            ))
            .map_err(err)?;
        let mut rows = stmt
            .query([i64::try_from(limit).unwrap_or(i64::MAX)])
            .map_err(err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(err)? {
            out.push(entry_from_row(&path, r)?);
        }
        Ok(out)
    }

    /// Records the actions planned for outbox entry `entry_id` (an id already in the
    /// journal is left alone), each with its first history line (`from` None), and
    /// marks the entry considered; notified states write an `action` outbox entry.
    /// One transaction. Returns how many actions were written.
    pub fn plan_actions(
        &mut self,
        entry_id: i64,
        finding: &Finding,
        actions: &[NewAction],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        for n in actions {
            let a = &n.action;
            if !matches!(a.state, State::Planned | State::Simulated | State::Skipped) {
                return Err(StoreError::Invalid(format!(
                    "action {} is planned in state {}: only planned, simulated or skipped",
                    a.id, a.state
                )));
            }
            if a.finding_id != finding.id {
                return Err(StoreError::Invalid(format!(
                    "action {} is about finding {}, planned with finding {}",
                    a.id, a.finding_id, finding.id
                )));
            }
        }
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let bad = |source| StoreError::BadRow {
            path: path.clone(),
            id: finding.id.clone(),
            source,
        };
        let finding_json = serde_json::to_string(finding).map_err(bad)?;
        let text = match &finding.text {
            Some(t) => Some(serde_json::to_string(t).map_err(bad)?),
            None => None,
        };
        let tx = self.write_tx()?;
        if !actions.is_empty() {
            tx.execute(
                "INSERT INTO action_findings (finding_id, trigger, finding, text)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (finding_id, trigger) DO NOTHING",
                params![finding.id, entry_id, finding_json, text],
            )
            .map_err(err)?;
        }
        let mut written = 0;
        for n in actions {
            let a = &n.action;
            let target =
                serde_json::to_string(&a.target).map_err(|e| corrupt(&path, &a.id, "target", e))?;
            let prior = a
                .prior
                .as_ref()
                .map(|v| bounded_json(&a.id, "prior", v))
                .transpose()?;
            let done = a
                .done
                .as_ref()
                .map(|v| bounded_json(&a.id, "done", v))
                .transpose()?;
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO actions (id, finding_id, finding_type, target,
                         target_key, kind, mode, state, rule, reason, expire_after_secs,
                         expires_at, created_at, updated_at, attempts, next_at, executor, prior,
                         done, by, trigger)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14,
                         ?15, ?16, ?17, ?18, ?19, ?20)
                     ON CONFLICT (id) DO NOTHING",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        a.id,
                        a.finding_id,
                        a.finding_type,
                        target,
                        a.target.key(),
                        a.target.kind().as_str(),
                        a.mode.as_str(),
                        a.state.as_str(),
                        a.rule,
                        a.reason.as_deref().map(clip),
                        a.expire_after_secs.map(to_i64),
                        a.expires_at.map(millis),
                        millis(now),
                        i64::from(a.attempts),
                        a.next_at.map(millis),
                        a.executor,
                        prior,
                        done,
                        a.by,
                        entry_id,
                    ])
                })
                .map_err(err)?;
            if inserted == 0 {
                continue;
            }
            written += 1;
            add_history(&tx, &a.id, now, None, a.state, "keibi", n.detail.as_deref())
                .map_err(err)?;
            if a.state.is_notified() {
                let mut told = a.clone();
                told.created_at = now;
                told.updated_at = now;
                told.reason = told.reason.as_deref().map(clip);
                tell(&tx, &path, &told, finding, "keibi", now)?;
            }
        }
        tx.execute("UPDATE outbox SET planned = 1 WHERE id = ?1", [entry_id])
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(written)
    }

    /// Moves action `id` from `from` to `to` with `change`, appending to its
    /// history; a notified `to` writes an `action` outbox entry. One transaction.
    /// `false` (nothing changed) when the action is not in state `from` (or there
    /// is no such action). A move out of a final state or back into planned is
    /// refused ([`StoreError::Invalid`]).
    pub fn transition(
        &mut self,
        id: &str,
        from: State,
        to: State,
        change: &Change,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if from.is_final() || to == State::Planned {
            return Err(StoreError::Invalid(format!(
                "action {id}: no move from {from} to {to}"
            )));
        }
        let prior = change
            .prior
            .as_ref()
            .map(|v| bounded_json(id, "prior", v))
            .transpose()?;
        let done = change
            .done
            .as_ref()
            .map(|v| bounded_json(id, "done", v))
            .transpose()?;
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let Some(ActionRecord {
            action: mut a,
            finding,
            ..
        }) = records_without_history(&tx, &path, id)?
        else {
            return Ok(false);
        };
        if a.state != from {
            return Ok(false);
        }
        a.state = to;
        a.updated_at = now;
        if let Some(r) = &change.reason {
            a.reason = Some(clip(r));
        }
        if let Some(e) = &change.executor {
            a.executor = Some(e.clone());
        }
        if change.prior.is_some() {
            a.prior = change.prior.clone();
        }
        if change.done.is_some() {
            a.done = change.done.clone();
        }
        if change.attempt {
            a.attempts = a.attempts.saturating_add(1);
        }
        if let Some(n) = change.next_at {
            a.next_at = n;
        }
        if let Some(e) = change.expires_at {
            a.expires_at = e;
        }
        // Who approved, undid or cancelled it last.
        if matches!(to, State::Approved | State::Undoing | State::Cancelled) {
            a.by = Some(clip(&change.by));
        }
        let changed = tx
            .prepare_cached(
                "UPDATE actions SET state = ?3, updated_at = ?4, reason = ?5, executor = ?6,
                     prior = coalesce(?7, prior), done = coalesce(?8, done), attempts = ?9,
                     next_at = ?10, expires_at = ?11, by = ?12,
                     started_at = CASE WHEN ?3 = 'executing' THEN coalesce(started_at, ?4)
                                       ELSE started_at END
                 WHERE id = ?1 AND state = ?2",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    a.id,
                    from.as_str(),
                    to.as_str(),
                    millis(now),
                    a.reason,
                    a.executor,
                    prior,
                    done,
                    i64::from(a.attempts),
                    a.next_at.map(millis),
                    a.expires_at.map(millis),
                    a.by,
                ])
            })
            .map_err(err)?;
        if changed != 1 {
            return Ok(false);
        }
        add_history(
            &tx,
            &a.id,
            now,
            Some(from),
            to,
            &change.by,
            change.detail.as_deref(),
        )
        .map_err(err)?;
        if to.is_notified() {
            tell(&tx, &path, &a, &finding, &change.by, now)?;
        }
        tx.commit().map_err(err)?;
        Ok(true)
    }

    /// What the responder has to do at `now`, oldest first, at most `limit`:
    /// planned in mode auto, approved, executing (a kill interrupted it), failed
    /// with `next_at` due, undoing (once its `next_at`, when a failed undo set one,
    /// is due), executed with `expires_at` due.
    pub fn due_actions(
        &mut self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ActionRecord>, StoreError> {
        records_where(
            &self.conn,
            &self.path,
            "(a.state = 'planned' AND a.mode = 'auto')
             OR a.state IN ('approved', 'executing')
             OR (a.state = 'undoing' AND (a.next_at IS NULL OR a.next_at <= ?1))
             OR (a.state = 'failed' AND a.next_at IS NOT NULL AND a.next_at <= ?1)
             OR (a.state = 'executed' AND a.expires_at IS NOT NULL AND a.expires_at <= ?1)
             ORDER BY a.created_at, a.id LIMIT ?2",
            params![millis(now), i64::try_from(limit).unwrap_or(i64::MAX)],
        )
    }

    /// One action by id or unique id prefix (at least 4 hex digits), with its
    /// finding and history; an ambiguous prefix is an error naming the candidates.
    pub fn action(&self, id: &str) -> Result<Option<ActionRecord>, StoreError> {
        let p = id.trim().to_ascii_lowercase();
        if p.len() < MIN_PREFIX || p.len() > 64 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Invalid(format!(
                "{id:?} is not an action id (at least {MIN_PREFIX} hexadecimal digits of one)"
            )));
        }
        let err = |e| self.err_of(e);
        let ids: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT id FROM actions WHERE id >= ?1 AND id < ?1 || 'g' ORDER BY id LIMIT 6",
            )
            .and_then(|mut stmt| stmt.query_map([&p], |r| r.get(0))?.collect())
            .map_err(err)?;
        match ids.as_slice() {
            [] => Ok(None),
            [one] => Ok(records_where(&self.conn, &self.path, "a.id = ?1", [one])?
                .into_iter()
                .next()),
            many => {
                let mut names = many.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
                if many.len() > 5 {
                    names.push_str(", …");
                }
                Err(StoreError::Invalid(format!(
                    "{p:?} is the start of several action ids ({names}); give more of it"
                )))
            }
        }
    }

    /// The actions the filter selects, most recently updated first. `finding_id`
    /// may be the start of a finding id.
    pub fn list_actions(&self, filter: &ActionFilter) -> Result<Vec<Action>, StoreError> {
        let mut sql = String::from("1 = 1");
        let mut args: Vec<crate::sql::Value> = Vec::new();
        if !filter.states.is_empty() {
            sql.push_str(" AND a.state IN (");
            for (i, s) in filter.states.iter().enumerate() {
                sql.push_str(if i == 0 { "?" } else { ", ?" });
                args.push(s.as_str().to_string().into());
            }
            sql.push(')');
        }
        if let Some(f) = &filter.finding_id {
            let f = f.trim().to_ascii_lowercase();
            if f.is_empty() || f.len() > 64 || !f.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(StoreError::Invalid(format!(
                    "{f:?} is not a finding id (hexadecimal digits, or the start of them)"
                )));
            }
            sql.push_str(" AND a.finding_id >= ? AND a.finding_id < ? || 'g'");
            args.push(f.clone().into());
            args.push(f.into());
        }
        if let Some(t) = filter.since {
            sql.push_str(" AND a.updated_at >= ?");
            args.push(millis(t).into());
        }
        sql.push_str(" ORDER BY a.updated_at DESC, a.id LIMIT ?");
        args.push(limit_of(filter.limit).into());
        actions_where(
            &self.conn,
            &self.path,
            &sql,
            crate::sql::params_from_iter(args),
        )
    }

    /// Every action planned for a finding, oldest first.
    pub fn actions_of_finding(&self, finding_id: &str) -> Result<Vec<Action>, StoreError> {
        actions_where(
            &self.conn,
            &self.path,
            "a.finding_id = ?1 ORDER BY a.created_at, a.id",
            [finding_id],
        )
    }

    /// Actions whose target has this key (`Target::key`) and which are executing,
    /// executed or undoing: in force, or about to be.
    pub fn in_force(&self, key: &str) -> Result<Vec<Action>, StoreError> {
        actions_where(
            &self.conn,
            &self.path,
            &format!("a.target_key = ?1 AND a.state IN ({IN_FORCE}) ORDER BY a.created_at, a.id"),
            [key],
        )
    }

    /// How many actions started executing (their first attempt) at or after
    /// `since`: what the rate limit counts.
    pub fn executions_since(&self, since: DateTime<Utc>) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM actions WHERE started_at >= ?1",
                [millis(since)],
                |r| r.get(0),
            )
            .map_err(|e| self.err_of(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Pauses every response (`Some(by)`) or resumes (`None`).
    pub fn set_paused(&mut self, by: Option<&str>, now: DateTime<Utc>) -> Result<(), StoreError> {
        match by {
            Some(by) => self.pause(by, None, now).map(|_| ()),
            None => self.resume(None, now).map(|_| ()),
        }
    }

    /// Pauses every response, with the person's reason. Pausing what is paused
    /// already changes nothing (who paused it first, and when, stay): `false`.
    /// Every pause is kept, with who resumed it and when.
    pub fn pause(
        &mut self,
        by: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let open: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM respond_pauses WHERE resumed_at IS NULL)",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        if open {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO respond_pauses (by, at, reason) VALUES (?1, ?2, ?3)",
            params![clip(by), millis(now), reason.map(clip)],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(true)
    }

    /// Resumes responses, recording who (`None`: not known). `false` when they
    /// were not paused.
    pub fn resume(&mut self, by: Option<&str>, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let n = tx
            .execute(
                "UPDATE respond_pauses SET resumed_by = ?1, resumed_at = ?2
                 WHERE resumed_at IS NULL",
                params![by.map(clip), millis(now)],
            )
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n > 0)
    }

    /// Whether responses are paused, by whom and since when.
    pub fn paused(&self) -> Result<Option<Pause>, StoreError> {
        self.conn
            .query_row(
                "SELECT by, at, reason FROM respond_pauses WHERE resumed_at IS NULL
                 ORDER BY seq DESC LIMIT 1",
                [],
                |r| {
                    Ok(Pause {
                        by: r.get(0)?,
                        at: from_millis(r.get(1)?),
                        reason: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err_of(e))
    }

    /// How many actions are in each state (for `/metrics`), in the order of
    /// [`State::ALL`], states with none left out.
    pub fn action_counts(&self) -> Result<Vec<(State, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = self
            .conn
            .prepare_cached("SELECT state, count(*) FROM actions GROUP BY state")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(|e| self.err_of(e))?;
        let mut out: Vec<(State, u64)> = rows
            .into_iter()
            .filter_map(|(s, n)| Some((State::parse(&s)?, u64::try_from(n).unwrap_or(0))))
            .collect();
        out.sort_by_key(|(s, _)| State::ALL.iter().position(|x| x == s));
        Ok(out)
    }
}

/// One action with its finding, without history (inside a transaction).
fn records_without_history(
    c: &Connection,
    path: &Path,
    id: &str,
) -> Result<Option<ActionRecord>, StoreError> {
    let err = |e| StoreError::sql(path, e);
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE a.id = ?1"
        ))
        .map_err(err)?;
    let mut rows = stmt.query([id]).map_err(err)?;
    match rows.next().map_err(err)? {
        Some(r) => {
            let action = action_from_row(path, r)?;
            let finding = finding_from_row(path, r, &action.id)?;
            Ok(Some(ActionRecord {
                action,
                finding,
                history: Vec::new(),
            }))
        }
        None => Ok(None),
    }
}
