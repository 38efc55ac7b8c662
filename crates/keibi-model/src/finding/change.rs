//! What changed about a finding while a stream runs: a live scanner hands these out
//! after each batch of events (see `keibi_detect::Scanner::observe_batch`), so a
//! store, a notifier or a dashboard learns of a finding when it appears, grows,
//! becomes more severe and goes quiet, instead of only when the input ends.
//!
//! Every change carries a snapshot of the finding as it stands (texts rendered), so
//! a consumer needs nothing else to store or show it. Findings are identified by
//! their stable [`Finding::id`]: a finding that was closed and then sees a new event
//! with the same key comes back as [`FindingChange::New`] with the same id, and the
//! consumer aggregates (adds the counts, widens the time span).

use serde::{Deserialize, Serialize};

use super::{Finding, Severity};

/// One change to one finding, with the finding as it now stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum FindingChange {
    /// First raised (or raised again after it was closed and left memory).
    New { finding: Finding },
    /// More events joined it: `count` or `last_seen` moved on since the last report.
    Grew {
        finding: Finding,
        previous_count: u64,
    },
    /// Its severity went up since the last report (it may also have grown).
    SeverityRaised {
        finding: Finding,
        previous: Severity,
    },
    /// Its window ended: the detector will not grow it any more from the events
    /// seen so far. A live scanner may forget it after reporting this.
    Closed { finding: Finding },
}

impl FindingChange {
    /// The finding as it stands after the change.
    pub fn finding(&self) -> &Finding {
        match self {
            FindingChange::New { finding }
            | FindingChange::Grew { finding, .. }
            | FindingChange::SeverityRaised { finding, .. }
            | FindingChange::Closed { finding } => finding,
        }
    }

    /// `new`, `grew`, `severity_raised` or `closed` (as serialized).
    pub fn kind(&self) -> &'static str {
        match self {
            FindingChange::New { .. } => "new",
            FindingChange::Grew { .. } => "grew",
            FindingChange::SeverityRaised { .. } => "severity_raised",
            FindingChange::Closed { .. } => "closed",
        }
    }
}
