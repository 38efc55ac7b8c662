//! What happened to a finding since the last time it was handed on: the plain data a
//! live engine gives the finding store (and, later, notifications) after each batch.
//!
//! `added` is the number of events the finding absorbed since the previous change for
//! it in this run (for `New`, all of them). The store adds it to the count it already
//! has, which is how a finding keeps counting across restarts although a detector
//! starts from zero each time (see `keibi-store`'s documentation for the rule that
//! keeps a replayed batch from being counted twice).

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

/// The kind of change, in the order a finding meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The detector raised the finding in this run.
    New,
    /// More events joined it.
    Grew,
    /// Its severity went up (it may also have grown).
    SeverityRaised,
    /// The detector closed it (its window ended); later activity is a new change.
    Closed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::New => "new",
            ChangeKind::Grew => "grew",
            ChangeKind::SeverityRaised => "severity_raised",
            ChangeKind::Closed => "closed",
        }
    }
}

/// One finding's change: what kind, the finding as the detector holds it now, and
/// how many events it absorbed since the previous change for it in this run.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingChange {
    pub kind: ChangeKind,
    pub finding: Finding,
    pub added: u64,
}

impl FindingChange {
    /// The finding as it stands after the change.
    pub fn finding(&self) -> &Finding {
        &self.finding
    }

    /// The kind's name: `new`, `grew`, `severity_raised`, `closed`.
    pub fn kind(&self) -> &'static str {
        self.kind.as_str()
    }
}
