//! The journal's model: one [`Action`] per planned action, moving through
//! [`State`]s, each move a [`Transition`] written to the store before the world is
//! touched (`keibi-store`'s `journal`).
//!
//! ```text
//!                      ┌─► simulated                (mode simulate: what would have been done)
//!                      ├─► skipped                  (paused, rate limit, already in force, no executor)
//!  planned ──(approve mode)──► approved ─┐
//!     └──────────(auto mode)─────────────┴─► executing ─► executed ─► undoing ─► undone  (a person)
//!                                              │    ▲         │                  └► expired (its expiry)
//!                                              ▼    │(retry)  └─(not undoable: stays executed)
//!                                            failed ┘
//!  planned/approved ─► cancelled (a person)
//! ```

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::target::Target;

/// How a rule acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Record and notify what would have been done; touch nothing. The default.
    #[default]
    Simulate,
    /// Wait for `keibi actions approve ID`.
    Approve,
    /// Act at once.
    Auto,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Simulate => "simulate",
            Mode::Approve => "approve",
            Mode::Auto => "auto",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        [Mode::Simulate, Mode::Approve, Mode::Auto]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Written, not yet acted on: waiting for approval (mode approve) or for the
    /// responder (mode auto).
    Planned,
    /// A person approved it; the responder executes it next.
    Approved,
    /// The responder is executing it: written before the executor is called, so a
    /// kill leaves it here and the next start executes it again (executors are
    /// idempotent).
    Executing,
    /// Done; in force until undone or expired.
    Executed,
    /// The executor failed; `next_at` says when it is tried again, or never.
    Failed,
    /// Being undone (by a person or its expiry): written before the executor's undo.
    Undoing,
    /// Undone by a person (`keibi actions undo`).
    Undone,
    /// Undone by the daemon at its expiry.
    Expired,
    /// Mode simulate: recorded and notified, nothing touched.
    Simulated,
    /// Not acted on, and why (`reason`): paused, rate limit, already in force, no
    /// executor configured for it.
    Skipped,
    /// A person cancelled it before it ran.
    Cancelled,
}

impl State {
    pub const ALL: [State; 11] = [
        State::Planned,
        State::Approved,
        State::Executing,
        State::Executed,
        State::Failed,
        State::Undoing,
        State::Undone,
        State::Expired,
        State::Simulated,
        State::Skipped,
        State::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Planned => "planned",
            State::Approved => "approved",
            State::Executing => "executing",
            State::Executed => "executed",
            State::Failed => "failed",
            State::Undoing => "undoing",
            State::Undone => "undone",
            State::Expired => "expired",
            State::Simulated => "simulated",
            State::Skipped => "skipped",
            State::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether nothing more happens to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            State::Undone | State::Expired | State::Simulated | State::Skipped | State::Cancelled
        )
    }

    /// Whether a person should hear of reaching this state (through the
    /// notification routes).
    pub fn is_notified(self) -> bool {
        matches!(
            self,
            State::Planned
                | State::Executed
                | State::Failed
                | State::Undone
                | State::Expired
                | State::Simulated
                | State::Skipped
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One action, as the journal holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// 16 hex digits from the finding, the target and the outbox entry that
    /// triggered it ([`action_id`]): planning the same entry twice writes one row.
    pub id: String,
    pub finding_id: String,
    pub finding_type: String,
    pub target: Target,
    pub mode: Mode,
    pub state: State,
    /// The policy rule that planned it (its `name`, or `#N` by position; `default`
    /// for the suggested actions with no rule).
    pub rule: String,
    /// Why it was skipped or failed, in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How long it stays in force once executed (`None`: until undone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_after_secs: Option<u64>,
    /// When the daemon undoes it (set when executed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Executor tries so far.
    pub attempts: u32,
    /// When a failed action is tried again (`None`: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_at: Option<DateTime<Utc>>,
    /// The executor's name (`aws-nacl`, `nftables`, `postgres` ...), once chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<String>,
    /// What was there before, as the executor read it (`prepare`), written before
    /// anything changed: what undo restores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<serde_json::Value>,
    /// What the executor did (`apply`): the entry number, the sessions ended ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<serde_json::Value>,
    /// Who approved, undid or cancelled it last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl Action {
    /// An action on `target` with nothing done yet, created `now`: no id, finding,
    /// rule, reason or expiry (give them with struct update syntax), no attempt,
    /// executor, prior or done.
    pub fn new(target: Target, mode: Mode, state: State, now: DateTime<Utc>) -> Action {
        Action {
            id: String::new(),
            finding_id: String::new(),
            finding_type: String::new(),
            target,
            mode,
            state,
            rule: String::new(),
            reason: None,
            expire_after_secs: None,
            expires_at: None,
            created_at: now,
            updated_at: now,
            attempts: 0,
            next_at: None,
            executor: None,
            prior: None,
            done: None,
            by: None,
        }
    }
}

/// One move of an action, kept in its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub at: DateTime<Utc>,
    pub from: Option<State>,
    pub to: State,
    /// A person (`keibi actions approve` as `$USER`), or `keibi` for the daemon.
    pub by: String,
    /// Why, or what happened, in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// An action's id: the first 16 hex digits of SHA-256 over the finding id, the
/// target's key and the triggering outbox entry.
pub fn action_id(finding_id: &str, target: &Target, trigger: i64) -> String {
    let mut h = Sha256::new();
    h.update(finding_id.as_bytes());
    h.update([0]);
    h.update(target.key().as_bytes());
    h.update([0]);
    h.update(trigger.to_le_bytes());
    let d = h.finalize();
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_differ_by_trigger() {
        let t = Target::Webhook { name: "soc".into() };
        let a = action_id("f1", &t, 1);
        assert_eq!(a.len(), 16);
        assert_eq!(a, action_id("f1", &t, 1));
        assert_ne!(a, action_id("f1", &t, 2));
    }

    #[test]
    fn states_parse_back() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
    }
}
