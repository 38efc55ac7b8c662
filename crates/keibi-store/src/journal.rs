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

use chrono::{DateTime, Utc};
use keibi_model::Finding;
use keibi_respond::{Action, State, Transition};

use crate::outbox::OutboxEntry;
use crate::{Store, StoreError};

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
}

/// An action with its finding and history (`keibi actions show`).
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRecord {
    pub action: Action,
    pub finding: Finding,
    pub history: Vec<Transition>,
}

impl Store {
    /// Outbox entries of kind new, reopened or severity raised that the responder
    /// has not considered, oldest first, at most `limit`. (Entries of other kinds
    /// are never returned.)
    pub fn unplanned_entries(&mut self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let _ = limit;
        todo!("journal helper")
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
        let _ = (entry_id, finding, actions, now);
        todo!("journal helper")
    }

    /// Moves action `id` from `from` to `to` with `change`, appending to its
    /// history; a notified `to` writes an `action` outbox entry. One transaction.
    /// `false` (nothing changed) when the action is not in state `from`.
    pub fn transition(
        &mut self,
        id: &str,
        from: State,
        to: State,
        change: &Change,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let _ = (id, from, to, change, now);
        todo!("journal helper")
    }

    /// What the responder has to do at `now`, oldest first, at most `limit`:
    /// planned in mode auto, approved, executing (a kill interrupted it), failed
    /// with `next_at` due, undoing, executed with `expires_at` due.
    pub fn due_actions(
        &mut self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ActionRecord>, StoreError> {
        let _ = (now, limit);
        todo!("journal helper")
    }

    /// One action by id or unique id prefix (at least 4 hex digits), with its
    /// finding and history; an ambiguous prefix is an error naming the candidates.
    pub fn action(&self, id: &str) -> Result<Option<ActionRecord>, StoreError> {
        let _ = id;
        todo!("journal helper")
    }

    /// The actions the filter selects, most recently updated first.
    pub fn list_actions(&self, filter: &ActionFilter) -> Result<Vec<Action>, StoreError> {
        let _ = filter;
        todo!("journal helper")
    }

    /// Every action planned for a finding, oldest first.
    pub fn actions_of_finding(&self, finding_id: &str) -> Result<Vec<Action>, StoreError> {
        let _ = finding_id;
        todo!("journal helper")
    }

    /// Actions whose target has this key (`Target::key`) and which are executing,
    /// executed or undoing: in force, or about to be.
    pub fn in_force(&self, key: &str) -> Result<Vec<Action>, StoreError> {
        let _ = key;
        todo!("journal helper")
    }

    /// How many actions started executing (their first attempt) at or after
    /// `since`: what the rate limit counts.
    pub fn executions_since(&self, since: DateTime<Utc>) -> Result<u64, StoreError> {
        let _ = since;
        todo!("journal helper")
    }

    /// Pauses every response (`Some(by)`) or resumes (`None`).
    pub fn set_paused(&mut self, by: Option<&str>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let _ = (by, now);
        todo!("journal helper")
    }

    /// Whether responses are paused, by whom and since when.
    pub fn paused(&self) -> Result<Option<Pause>, StoreError> {
        todo!("journal helper")
    }

    /// How many actions are in each state (for `/metrics`).
    pub fn action_counts(&self) -> Result<Vec<(State, u64)>, StoreError> {
        todo!("journal helper")
    }
}
