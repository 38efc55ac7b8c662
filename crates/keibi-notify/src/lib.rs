//! keibi's notifications: who hears of a finding, when, and in what words.
//!
//! The daemon's store writes an outbox entry in the same transaction as each finding
//! change a person should hear of (new, reopened, severity raised, resolved). The
//! notifier reads the outbox, [routes](crate) each entry to channels, holds what quiet
//! hours, `group_wait` and rate limits hold, and hands each channel an [`Outgoing`]
//! message to deliver. A channel turns it into its own payload (Slack Block Kit, a
//! Teams Adaptive Card, a Chatwork message, the contract's JSON, an email, a
//! PagerDuty event) with every attacker-written field neutralised for that medium,
//! and reports [`Sent`] or a [`SendError`] that says whether to try again.
//!
//! Pure core, effectful edge: rendering and routing read no clock and do no I/O
//! (`now` is an argument); only a channel's `send` talks to the network.
//!
//! # Adding a channel
//! One module under `channels/`: its settings struct, a variant of
//! [`channels::ChannelSpec`], and a type implementing [`Channel`]. Its tests post to
//! a real local receiver and check the documented schema and the hostile strings of
//! `tests/data/hostile.txt`.

pub mod channels;
pub mod http;
pub mod notice;
pub mod secret;
pub mod settings;
pub mod text;

pub use notice::{Digest, Notice, NoticeKind, Outgoing, Summary};
pub use secret::Secret;

use std::time::Duration;

/// What a delivery did, for `keibi notify status` and the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The receiver's answer in a few words (`HTTP 200`, `250 2.0.0 Ok`, a message id).
    pub detail: String,
}

/// Why a delivery failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The receiver is down, slow, rate-limiting or answered 5xx: retried with
    /// backoff, no sooner than `retry_after` when the receiver said so.
    #[error("{reason} (will retry)")]
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The receiver refused the message for good (4xx other than 408/429, a bad
    /// address, a revoked token): not retried; `keibi notify status` shows it.
    #[error("{reason}")]
    Permanent { reason: String },
}

impl SendError {
    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient { .. })
    }
}

/// A configured destination. `send` blocks until the receiver answered or the
/// channel's timeout passed; the notifier calls it from its own thread.
pub trait Channel: Send {
    /// The channel's name in the settings (`ops-slack`).
    fn name(&self) -> &str;
    /// Delivers one message. The same `Outgoing::key()` may be sent again after a
    /// crash; channels that can pass it on (a header, a dedup key) do.
    fn send(&self, msg: &Outgoing) -> Result<Sent, SendError>;
}
