//! What a channel is asked to say: one finding's change ([`Notice`]), a digest of
//! what a rate limit held back ([`Digest`]), or the daily summary of open findings
//! ([`Summary`]).

use chrono::{DateTime, Utc};
use keibi_model::{Finding, Severity};
use serde::{Deserialize, Serialize};

/// Why a person hears of a finding now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoticeKind {
    /// First time keibi sees it.
    New,
    /// Activity came back on a resolved finding (or one whose suppression expired).
    Reopened,
    /// Its severity rose from `from`.
    Raised { from: Severity },
    /// Still going: `count_then` events when people last heard of it at `since`;
    /// the finding's count is the total now.
    StillGoing {
        count_then: u64,
        since: DateTime<Utc>,
    },
    /// Resolved by a person (`by`) or closed by its detector; PagerDuty resolves
    /// its incident, chat channels say so.
    Resolved {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// `keibi notify test`: a realistic sample, marked as a test.
    Test,
    /// An action of the response journal reached a state a person hears of
    /// (`State::is_notified`): what keibi did, would do, waits to do, could not do,
    /// or undid about the finding. It follows the finding's routes, and no throttle
    /// holds it back.
    Action { action: Box<keibi_respond::Action> },
}

impl NoticeKind {
    /// `new`, `reopened`, `severity_raised`, `still_going`, `resolved`, `test`,
    /// `action`.
    pub fn as_str(&self) -> &'static str {
        match self {
            NoticeKind::New => "new",
            NoticeKind::Reopened => "reopened",
            NoticeKind::Raised { .. } => "severity_raised",
            NoticeKind::StillGoing { .. } => "still_going",
            NoticeKind::Resolved { .. } => "resolved",
            NoticeKind::Test => "test",
            NoticeKind::Action { .. } => "action",
        }
    }

    /// Whether it tells of something over (a resolution, an action undone or
    /// expired): chat channels show it in green.
    pub fn is_settled(&self) -> bool {
        match self {
            NoticeKind::Resolved { .. } => true,
            NoticeKind::Action { action } => matches!(
                action.state,
                keibi_respond::State::Undone | keibi_respond::State::Expired
            ),
            _ => false,
        }
    }
}

/// One finding's change, as the store had it when the change was committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The outbox entry's id: stable across retries and restarts (idempotency key).
    pub key: String,
    pub kind: NoticeKind,
    /// The finding after the change, with its messages (`text`) when it carries them.
    pub finding: Finding,
    /// When the change was committed.
    pub at: DateTime<Utc>,
}

/// What a rate limit held back on one channel, sent as one message when the
/// channel may speak again.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub key: String,
    /// The held notices, oldest first (at most a channel-sized handful are listed;
    /// `total` counts them all).
    pub held: Vec<Notice>,
    pub total: u64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The optional daily summary of open findings.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub key: String,
    pub at: DateTime<Utc>,
    /// Open findings, most severe first (a handful; `total` counts them all).
    pub open: Vec<Finding>,
    pub total: u64,
    /// Open findings by label: Critical, High, Medium, Low.
    pub by_label: [u64; 4],
}

/// One message for one channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    One(Box<Notice>),
    Digest(Digest),
    Summary(Summary),
}

impl Outgoing {
    /// The idempotency key: the same message sent again after a crash has the same.
    pub fn key(&self) -> &str {
        match self {
            Outgoing::One(n) => &n.key,
            Outgoing::Digest(d) => &d.key,
            Outgoing::Summary(s) => &s.key,
        }
    }
}
