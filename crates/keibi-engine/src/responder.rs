//! The responder: `keibi run`'s thread that acts on findings (`docs/response.md`).
//!
//! It holds its own connection to the store and nothing that matters in memory.
//! Each step it
//!
//! 1. **plans**: reads the outbox entries it has not considered (a finding new,
//!    reopened or raised), asks the [`Policy`] what to do, and writes each planned
//!    action to the journal — `simulated`, `skipped` (on an allowlist) or `planned`
//!    — marking the entry considered in the same transaction;
//! 2. **acts** on what the journal says is due ([`Store::due_actions`]): for each
//!    action it checks the kill switch (`keibi actions pause`), the hourly rate
//!    limit and whether the same target is already in force, then writes
//!    `executing` **before** calling the executor, the executor's reading of how
//!    things stood (`prior`) before changing anything, and `executed` or `failed`
//!    after. A kill between two of these leaves the action `executing`, and the
//!    next start executes it again (executors are idempotent): an action is done or
//!    retried, never lost, never done twice over;
//! 3. **undoes** what a person asked to undo and what has expired, the same way
//!    (`undoing` written before the executor's undo), also after a restart.
//!
//! Every move is a compare-and-set in the store, so a person's `approve`, `cancel`
//! or `undo` and the daemon never both move one action.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use keibi_respond::{action_id, Action, ExecError, Executor, Mode, Policy, Request, State};
use keibi_store::{ActionRecord, Change, NewAction, Store, StoreError};

/// Entries planned and actions worked per step (bounded memory).
const BATCH: usize = 64;
/// How often the store is looked at when nothing was due.
pub const POLL: Duration = Duration::from_millis(250);
/// The first retry of a transient failure waits this long; each next twice as long.
pub const FIRST_BACKOFF: TimeDelta = TimeDelta::seconds(5);
/// No retry waits longer.
pub const MAX_BACKOFF: TimeDelta = TimeDelta::seconds(600);
/// A transient failure is retried at most this many times, then the action stays
/// failed.
pub const MAX_ATTEMPTS: u32 = 8;
/// An outbox entry older than this when the responder first sees it is not acted
/// on: responses turned on today never act on last month's findings.
pub const MAX_ENTRY_AGE: TimeDelta = TimeDelta::hours(1);
/// Who the daemon's moves are recorded as.
pub const BY: &str = "keibi";
/// Who an expiry's undo is recorded as (and how the responder tells an expiry from
/// a person's undo when it finishes one).
pub const BY_EXPIRY: &str = "keibi (expiry)";

/// What the responder tells its operator (the daemon's log).
#[derive(Debug, Clone, PartialEq)]
pub enum RespondNote {
    /// An action was written to the journal.
    Planned { action: Box<Action> },
    /// An action moved.
    Moved {
        action: Box<Action>,
        from: State,
        detail: Option<String>,
    },
    /// The store refused a step; it is tried again.
    Store(String),
}

/// The responder's settings beside the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Plan at all (`respond.enabled`).
    pub enabled: bool,
    /// At most this many actions start executing in any hour.
    pub max_per_hour: u32,
}

/// One responder: a store connection, the policy and the executors.
pub struct Responder {
    store: Store,
    policy: Policy,
    limits: Limits,
    executors: Vec<Box<dyn Executor>>,
    metrics: Option<crate::metrics::Shared>,
    /// Moves made so far: a step that made none did nothing (a paused retry, an
    /// undo waiting for its time), and the thread sleeps instead of spinning.
    moves: u64,
}

impl Responder {
    pub fn new(
        store: Store,
        policy: Policy,
        limits: Limits,
        executors: Vec<Box<dyn Executor>>,
    ) -> Responder {
        Responder {
            store,
            policy,
            limits,
            executors,
            metrics: None,
            moves: 0,
        }
    }

    /// Publishes the journal's counts by state to `/metrics` after each step that
    /// did something (and at the first).
    pub fn with_metrics(mut self, m: crate::metrics::Shared) -> Responder {
        self.metrics = Some(m);
        self
    }

    fn publish(&self) -> Result<(), StoreError> {
        if let Some(m) = &self.metrics {
            let by_state = self.store.action_counts()?;
            let paused = self.store.paused()?.is_some();
            crate::metrics::lock(m).actions =
                Some(crate::metrics::ActionMetrics { by_state, paused });
        }
        Ok(())
    }

    /// One step at `now`: plan, act, undo. Returns whether it did anything (the
    /// caller steps again at once then, else it sleeps [`POLL`]).
    pub fn step(
        &mut self,
        now: DateTime<Utc>,
        note: &mut dyn FnMut(RespondNote),
    ) -> Result<bool, StoreError> {
        let planned = self.plan(now, note)?;
        let before = self.moves;
        for rec in self.store.due_actions(now, BATCH)? {
            self.work(rec, now, note)?;
        }
        Ok(planned || self.moves != before)
    }

    /// Steps until nothing is due (`keibi run --once`), at most `max` steps.
    pub fn drain(
        &mut self,
        max: usize,
        note: &mut dyn FnMut(RespondNote),
    ) -> Result<(), StoreError> {
        for _ in 0..max {
            if !self.step(Utc::now(), note)? {
                break;
            }
        }
        Ok(())
    }

    fn plan(
        &mut self,
        now: DateTime<Utc>,
        note: &mut dyn FnMut(RespondNote),
    ) -> Result<bool, StoreError> {
        let entries = self.store.unplanned_entries(BATCH)?;
        let any = !entries.is_empty();
        for e in entries {
            let planned = if self.limits.enabled && now - e.at <= MAX_ENTRY_AGE {
                self.policy.plan(&e.finding)
            } else {
                Vec::new()
            };
            let earlier = if planned.is_empty() {
                Vec::new()
            } else {
                self.store.actions_of_finding(&e.finding.id)?
            };
            let mut news = Vec::new();
            for p in planned {
                let key = p.target.key();
                // The same finding's same action is not planned again while an
                // earlier one is pending, in force, or was simulated (a rise in
                // severity would otherwise repeat every "would have").
                if earlier.iter().any(|a| {
                    a.target.key() == key && (!a.state.is_final() || a.state == State::Simulated)
                }) {
                    continue;
                }
                let (state, reason, detail) = match (&p.skip, p.mode) {
                    (Some(why), _) => (
                        State::Skipped,
                        Some(why.clone()),
                        Some(format!("on an allowlist: {why}")),
                    ),
                    (None, Mode::Simulate) => (
                        State::Simulated,
                        None,
                        Some(format!("rule {} is in mode simulate", p.rule)),
                    ),
                    (None, Mode::Approve) => (
                        State::Planned,
                        None,
                        Some(format!("rule {} waits for approval", p.rule)),
                    ),
                    (None, Mode::Auto) => (
                        State::Planned,
                        None,
                        Some(format!("rule {} acts at once", p.rule)),
                    ),
                };
                news.push(NewAction {
                    action: Action {
                        id: action_id(&e.finding.id, &p.target, e.id),
                        finding_id: e.finding.id.clone(),
                        finding_type: e.finding.finding_type.clone(),
                        rule: p.rule,
                        reason,
                        expire_after_secs: p.expire_after.map(|d| d.as_secs()),
                        ..Action::new(p.target, p.mode, state, now)
                    },
                    detail,
                });
            }
            self.store.plan_actions(e.id, &e.finding, &news, now)?;
            for n in news {
                note(RespondNote::Planned {
                    action: Box::new(n.action),
                });
            }
        }
        Ok(any)
    }

    fn work(
        &mut self,
        rec: ActionRecord,
        now: DateTime<Utc>,
        note: &mut dyn FnMut(RespondNote),
    ) -> Result<(), StoreError> {
        match rec.action.state {
            State::Planned if rec.action.mode == Mode::Auto => self.execute(rec, now, note),
            State::Approved | State::Executing | State::Failed => self.execute(rec, now, note),
            State::Executed => {
                // Its expiry came: undone by the daemon.
                let change = Change {
                    by: BY_EXPIRY.into(),
                    detail: Some("its expiry came".into()),
                    ..Change::default()
                };
                if self.moved(
                    &rec.action,
                    State::Executed,
                    State::Undoing,
                    &change,
                    now,
                    note,
                )? {
                    let mut rec = rec;
                    rec.action.state = State::Undoing;
                    rec.action.by = Some(BY_EXPIRY.into());
                    self.undo(rec, now, note)?;
                }
                Ok(())
            }
            State::Undoing => self.undo(rec, now, note),
            _ => Ok(()),
        }
    }

    fn executor_for(&mut self, a: &Action) -> Option<usize> {
        if let Some(name) = &a.executor {
            if let Some(i) = self.executors.iter().position(|e| e.name() == name) {
                return Some(i);
            }
        }
        self.executors.iter().position(|e| e.accepts(&a.target))
    }

    /// Moves `a` and tells the operator; `false` when someone else moved it first.
    fn moved(
        &mut self,
        a: &Action,
        from: State,
        to: State,
        change: &Change,
        now: DateTime<Utc>,
        note: &mut dyn FnMut(RespondNote),
    ) -> Result<bool, StoreError> {
        if !self.store.transition(&a.id, from, to, change, now)? {
            return Ok(false);
        }
        self.moves += 1;
        if from != to {
            let mut after = a.clone();
            after.state = to;
            after.updated_at = now;
            if let Some(r) = &change.reason {
                after.reason = Some(r.clone());
            }
            note(RespondNote::Moved {
                action: Box::new(after),
                from,
                detail: change.detail.clone(),
            });
        }
        Ok(true)
    }

    fn skip(
        &mut self,
        a: &Action,
        reason: String,
        now: DateTime<Utc>,
        note: &mut dyn FnMut(RespondNote),
    ) -> Result<(), StoreError> {
        let change = Change {
            by: BY.into(),
            detail: Some(reason.clone()),
            reason: Some(reason),
            next_at: Some(None),
            ..Change::default()
        };
        self.moved(a, a.state, State::Skipped, &change, now, note)?;
        Ok(())
    }

    fn execute(
        &mut self,
        rec: ActionRecord,
        now: DateTime<Utc>,
        note: &mut dyn FnMut(RespondNote),
    ) -> Result<(), StoreError> {
        let a = &rec.action;
        if a.state != State::Executing {
            // A pause holds everything not yet started; on resume, what was
            // planned meanwhile is skipped rather than fired all at once.
            if let Some(p) = self.store.paused()? {
                if a.state == State::Planned || a.state == State::Approved {
                    return self.skip(
                        a,
                        format!(
                            "responses are paused (by {} at {})",
                            p.by,
                            p.at.to_rfc3339()
                        ),
                        now,
                        note,
                    );
                }
                return Ok(());
            }
            if a.state != State::Failed {
                let started = self.store.executions_since(now - TimeDelta::hours(1))?;
                if started >= u64::from(self.limits.max_per_hour) {
                    return self.skip(
                        a,
                        format!(
                            "rate limit: {started} actions started in the last hour (respond.max_per_hour {})",
                            self.limits.max_per_hour
                        ),
                        now,
                        note,
                    );
                }
                // Only what stays in force (a block, a lock) can be in force twice;
                // ended sessions, a POST, a command are done each time.
                let key = a.target.key();
                let undoable = a.target.kind().undoable();
                if let Some(other) = (if undoable {
                    self.store.in_force(&key)?
                } else {
                    Vec::new()
                })
                .into_iter()
                .find(|o| o.id != a.id)
                {
                    return self.skip(
                        a,
                        format!("already in force by action {}", other.id),
                        now,
                        note,
                    );
                }
            }
        }
        let Some(ix) = self.executor_for(a) else {
            return self.skip(a, no_executor(a), now, note);
        };
        let executor = self.executors[ix].name().to_string();
        let mut action = a.clone();
        if a.state != State::Executing {
            let change = Change {
                by: BY.into(),
                detail: Some(format!("executing with {executor}")),
                executor: Some(executor.clone()),
                attempt: true,
                next_at: Some(None),
                ..Change::default()
            };
            if !self.moved(a, a.state, State::Executing, &change, now, note)? {
                return Ok(());
            }
            action.state = State::Executing;
            action.executor = Some(executor.clone());
            action.attempts += 1;
        }
        let prior = match &action.prior {
            Some(p) => p.clone(),
            None => {
                let req = Request {
                    action: &action,
                    finding: &rec.finding,
                };
                match self.executors[ix].prepare(req) {
                    Ok(p) => {
                        let change = Change {
                            by: BY.into(),
                            detail: Some("read how things stood".into()),
                            prior: Some(p.clone()),
                            ..Change::default()
                        };
                        if !self.moved(
                            &action,
                            State::Executing,
                            State::Executing,
                            &change,
                            now,
                            note,
                        )? {
                            return Ok(());
                        }
                        action.prior = Some(p.clone());
                        p
                    }
                    Err(e) => return self.failed(&action, e, now, note),
                }
            }
        };
        let req = Request {
            action: &action,
            finding: &rec.finding,
        };
        match self.executors[ix].apply(req, &prior) {
            Ok(done) => {
                let expires_at = action
                    .expire_after_secs
                    .filter(|_| action.target.kind().undoable())
                    .map(|s| now + TimeDelta::seconds(i64::try_from(s).unwrap_or(i64::MAX / 2)));
                let change = Change {
                    by: BY.into(),
                    detail: Some(match expires_at {
                        Some(t) => format!("done; undone at {}", t.to_rfc3339()),
                        None => "done".into(),
                    }),
                    done: Some(done),
                    expires_at: Some(expires_at),
                    next_at: Some(None),
                    ..Change::default()
                };
                self.moved(
                    &action,
                    State::Executing,
                    State::Executed,
                    &change,
                    now,
                    note,
                )?;
                Ok(())
            }
            Err(e) => self.failed(&action, e, now, note),
        }
    }

    fn failed(
        &mut self,
        a: &Action,
        e: ExecError,
        now: DateTime<Utc>,
        note: &mut dyn FnMut(RespondNote),
    ) -> Result<(), StoreError> {
        let next_at =
            (e.is_transient() && a.attempts < MAX_ATTEMPTS).then(|| now + backoff(a.attempts));
        let detail = match next_at {
            Some(t) => format!("{e}; tried again at {}", t.to_rfc3339()),
            None => e.to_string(),
        };
        let change = Change {
            by: BY.into(),
            detail: Some(detail),
            reason: Some(e.to_string()),
            next_at: Some(next_at),
            ..Change::default()
        };
        self.moved(a, a.state, State::Failed, &change, now, note)?;
        Ok(())
    }

    fn undo(
        &mut self,
        rec: ActionRecord,
        now: DateTime<Utc>,
        note: &mut dyn FnMut(RespondNote),
    ) -> Result<(), StoreError> {
        let a = &rec.action;
        let by_expiry = a.by.as_deref() == Some(BY_EXPIRY);
        let to = if by_expiry {
            State::Expired
        } else {
            State::Undone
        };
        let by = a.by.clone().unwrap_or_else(|| BY.into());
        if !a.target.kind().undoable() {
            let change = Change {
                by,
                detail: Some(format!(
                    "{} cannot be undone; nothing to do",
                    a.target.kind()
                )),
                expires_at: Some(None),
                ..Change::default()
            };
            self.moved(a, State::Undoing, to, &change, now, note)?;
            return Ok(());
        }
        let Some(ix) = self.executor_for(a) else {
            // The executor is no longer configured: keep it undoing, and say so.
            let change = Change {
                by: BY.into(),
                detail: Some(no_executor(a)),
                reason: Some(no_executor(a)),
                next_at: Some(Some(now + MAX_BACKOFF)),
                ..Change::default()
            };
            self.moved(a, State::Undoing, State::Undoing, &change, now, note)?;
            return Ok(());
        };
        let prior = a.prior.clone().unwrap_or(serde_json::Value::Null);
        let done = a.done.clone().unwrap_or(serde_json::Value::Null);
        let req = Request {
            action: a,
            finding: &rec.finding,
        };
        match self.executors[ix].undo(req, &prior, &done) {
            Ok(()) => {
                let change = Change {
                    by,
                    detail: Some(if by_expiry {
                        "undone at its expiry".into()
                    } else {
                        "undone".into()
                    }),
                    expires_at: Some(None),
                    next_at: Some(None),
                    ..Change::default()
                };
                self.moved(a, State::Undoing, to, &change, now, note)?;
            }
            Err(e) => {
                // Still in force: kept undoing and tried again later (a permanent
                // failure too, rarely: a person sees it in `keibi actions list`
                // and in the notification of the failure's reason).
                let change = Change {
                    by: BY.into(),
                    detail: Some(format!("undo failed: {e}")),
                    reason: Some(format!("undo failed: {e}")),
                    attempt: true,
                    next_at: Some(Some(now + backoff(a.attempts))),
                    ..Change::default()
                };
                self.moved(a, State::Undoing, State::Undoing, &change, now, note)?;
            }
        }
        Ok(())
    }

    /// Runs steps until `stop`.
    pub fn run(mut self, stop: &AtomicBool, note: &mut dyn FnMut(RespondNote)) {
        let mut failing = 0u32;
        let mut published: Option<std::time::Instant> = None;
        while !stop.load(Ordering::Relaxed) {
            let stepped = self.step(Utc::now(), note);
            // After work, and at least every few seconds (a pause set by a person).
            if matches!(stepped, Ok(true))
                || published.is_none_or(|t| t.elapsed() > Duration::from_secs(5))
            {
                if let Err(e) = self.publish() {
                    note(RespondNote::Store(e.to_string()));
                }
                published = Some(std::time::Instant::now());
            }
            match stepped {
                Ok(true) => {
                    failing = 0;
                    continue;
                }
                Ok(false) => failing = 0,
                Err(e) => {
                    failing = failing.saturating_add(1);
                    note(RespondNote::Store(e.to_string()));
                }
            }
            let wait = if failing == 0 {
                POLL
            } else {
                Duration::from_secs(1u64 << failing.min(6))
            };
            sleep_unless(stop, wait);
        }
    }
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let step = Duration::from_millis(50);
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let s = left.min(step);
        std::thread::sleep(s);
        left = left.saturating_sub(s);
    }
}

fn backoff(attempts: u32) -> TimeDelta {
    let n = attempts.saturating_sub(1).min(10);
    (FIRST_BACKOFF * 2i32.pow(n)).min(MAX_BACKOFF)
}

/// What to configure for an action no executor takes.
fn no_executor(a: &Action) -> String {
    use keibi_respond::Kind;
    let section = match a.target.kind() {
        Kind::BlockAddress => {
            "respond.aws (enabled, with the instance's subnets or network_acls) or respond.nftables"
        }
        Kind::LockRole | Kind::EndSessions => "respond.databases (an entry for the instance)",
        Kind::ClosePublicAccess
        | Kind::RevokeIngress
        | Kind::ContainPrincipal
        | Kind::RestoreLogging => "respond.aws",
        Kind::Webhook => "respond.webhooks",
        Kind::Exec => "respond.exec",
    };
    format!(
        "no executor configured for {}: set {section}",
        a.target.kind()
    )
}

/// A responder on a thread of its own.
pub struct Running {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Running {
    pub fn start(
        responder: Responder,
        mut note: Box<dyn FnMut(RespondNote) + Send>,
    ) -> std::io::Result<Running> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("keibi-respond".into())
            .spawn(move || responder.run(&flag, &mut *note))?;
        Ok(Running { stop, thread })
    }

    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests;
