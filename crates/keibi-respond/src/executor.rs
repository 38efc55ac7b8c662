//! The one trait every executor implements, in the edge crate that can reach what
//! it changes: `keibi-aws` (network ACLs, security groups, RDS, IAM, CloudTrail),
//! `keibi-dbprobe` (PostgreSQL and MySQL/MariaDB roles and sessions), `keibi-engine`
//! (nftables, webhook, exec).
//!
//! The responder calls, for one action:
//!
//! 1. [`Executor::prepare`] — read what is there now; change nothing. Its answer is
//!    written to the journal (`prior`) before anything changes, so a retry after a
//!    kill never mistakes keibi's own half-done change for how things were.
//! 2. [`Executor::apply`] — make the change. Idempotent: called again after a kill
//!    (the journal says `executing`), it finds its change made and answers as if it
//!    had made it.
//! 3. [`Executor::undo`] — put back what `prior` says, leaving anything keibi did not
//!    do alone. Idempotent too. Only for kinds that [`Kind::undoable`](crate::Kind::undoable).

use keibi_model::Finding;

use crate::action::Action;
use crate::target::Target;

/// What an executor is handed.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub action: &'a Action,
    /// The finding as it was when the action was planned.
    pub finding: &'a Finding,
}

/// Why an executor could not do it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// Worth trying again later (a network error, throttling, a 5xx, a server that
    /// is down). The responder retries with backoff.
    #[error("{0}")]
    Transient(String),
    /// Will fail again the same way (denied, no such resource, a setting missing).
    #[error("{0}")]
    Permanent(String),
}

impl ExecError {
    pub fn is_transient(&self) -> bool {
        matches!(self, ExecError::Transient(_))
    }
}

/// One way of acting on the world.
pub trait Executor: Send {
    /// Short and stable, kept in the journal: `aws-nacl`, `nftables`, `postgres`.
    fn name(&self) -> &str;

    /// Whether this executor acts on `target` (the responder asks each executor in
    /// turn; the first that accepts it is used). An executor that accepts a target
    /// it has no settings for should not: the action is then skipped with "no
    /// executor", which says what to configure.
    fn accepts(&self, target: &Target) -> bool;

    /// Reads how things stand before the change; changes nothing.
    fn prepare(&mut self, req: Request<'_>) -> Result<serde_json::Value, ExecError>;

    /// Makes the change; idempotent. Answers what it did (shown by `keibi actions
    /// show`, handed back to `undo`).
    fn apply(
        &mut self,
        req: Request<'_>,
        prior: &serde_json::Value,
    ) -> Result<serde_json::Value, ExecError>;

    /// Puts back what `prior` says; idempotent.
    fn undo(
        &mut self,
        req: Request<'_>,
        prior: &serde_json::Value,
        done: &serde_json::Value,
    ) -> Result<(), ExecError>;
}
