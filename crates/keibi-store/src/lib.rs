//! keibi's finding store: one SQLite file that keeps findings across runs, their
//! history and workflow, suppression rules, where each log source was read up to
//! (checkpoints) and the baselines' profiles. The daemon writes it; `keibi findings`
//! reads and changes it while the daemon runs. User documentation: `docs/store.md`.
//!
//! # The aggregation rule
//!
//! A finding's id is stable (`keibi_model::finding::finding_id`), so the same activity
//! is the same row in every run. A detector starts from zero after a restart, so
//! each [`FindingChange`] says how many events the finding absorbed since the
//! previous change for it in this run (`added`), and the store **adds** that to the
//! count it has; first and last seen are the earliest and latest ever seen, severity
//! the highest, addresses and users the union (bounded), texts the latest.
//!
//! What keeps a batch from being counted twice is the checkpoints committed in the
//! same transaction. Each [`Checkpoint`] is a source and a position that only grows
//! for that source (a rotated or truncated file is a new source). For each
//! checkpoint of a [`Commit`] the stored position is either behind it (or absent:
//! the commit moves the source on), equal, or ahead (the commit is older than what
//! is stored). Then:
//!
//! 1. Some moving on and some older: refused ([`StoreError::CheckpointConflict`]),
//!    nothing written. An engine that restarts from the stored checkpoints never
//!    produces such a batch.
//! 2. Checkpoints given and none moving on: a **replay** (the same batch committed
//!    again after a crash or a retry). Its changes are applied with `added = 0`
//!    (snapshot, severity and closing are idempotent; nothing is counted), its
//!    profile changes are skipped, and [`Committed::replayed`] says so.
//! 3. Otherwise everything is applied and the checkpoints are stored.
//!
//! A commit without checkpoints is always applied: its author answers for not
//! sending it twice (`keibi findings import` uses the imported file's digest as its
//! checkpoint, which makes importing the same file twice a replay).
//!
//! # Workflow
//!
//! A finding is `new`, `acknowledged`, `resolved` or `suppressed` ([`Status`]), with
//! who set it, when and a note. Activity on a resolved finding reopens it (`new`, and
//! the history says `reopened`). A change that matches an active [`Suppression`] is
//! stored with status `suppressed` and is not announced ([`Applied::notify`] false);
//! when the rule has expired, new activity brings the finding back as `new`.
//!
//! # Notifications
//!
//! A change a person should hear of ([`Applied::notify`]: new, reopened, severity
//! raised, not suppressed) writes an [`OutboxEntry`] in the commit's transaction,
//! and so does a person resolving a finding that was open; a replayed commit writes
//! none. The notifier (keibi-engine) gives each entry a [`Delivery`] per channel and
//! marks each sent or failed ([`Store::route_outbox`], [`Store::due_deliveries`],
//! [`Store::mark_sent`]...). What routing and flood control remember is kept here
//! too, so a restart changes nothing: each delivery's route, `group_wait` group and
//! rate-limit hold, each finding's last notice per route ([`RouteMemory`]) and when it
//! was last told ([`Store::still_going_candidates`]), the messages each channel sent
//! in the last hour ([`Store::sent_times`]) and the daily summary's slots
//! ([`Store::schedule_summary`]). `docs/notifications.md` is the user's view.
//!
//! # Files and safety
//!
//! WAL journal, `synchronous = FULL` (a commit is on disk when [`Store::commit`]
//! returns, so what the daemon announces after a commit survives a power cut), a
//! busy timeout so readers and short writers wait for each other, `application_id`
//! so a foreign SQLite file is refused, `quick_check` when opened for writing, and
//! numbered migrations in `migrations/` applied in one transaction.

mod activity;
mod changes;
mod dashboard;
mod error;
mod journal;
mod leases;
mod merge;
mod notify;
mod outbox;
pub mod sql;
mod store;
#[doc(hidden)]
pub mod testing;
mod users;

use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{DateTime, Utc};
pub use ipnet::IpNet;
pub use keibi_model::{ChangeKind, Finding, FindingChange, Severity};

pub use activity::{
    around, Activity, ActivityBatch, ActivityKind, FindingMark, Timeline, TimelineEntry,
    TimelineQuery, COMMIT_MAX_ROWS, DEFAULT_MAX_ROWS, FINGERPRINT_MAX, QUERY_MAX_ACTORS,
    QUERY_MAX_LIMIT, STATEMENT_MAX, TEXT_MAX,
};
pub use changes::{ActorKind, ChangeRow, CHANGES_MAX};
pub use dashboard::{
    Changes, DayCount, FindingFilter, FindingPage, FindingRow, Overview, ProfileRow, Sort,
    SourceHealth, MAX_PAGE,
};
pub use error::StoreError;
pub use journal::{ActionFilter, ActionRecord, Change, NewAction, Pause};
pub use leases::{Fence, Lease, WorkerBeat, MAX_LEASE_NAME};
pub use notify::{Growing, OpenFindings, SummaryDelivery};
pub use outbox::{
    ChannelCount, Delivery, DeliveryState, OutboxEntry, OutboxKind, OutboxStatus, PlannedDelivery,
    RouteMemory, ToldRow, WaitingGroup,
};
pub use store::{
    exists, finding_json, is_postgres, shown, Store, APPLICATION_ID, BUSY_TIMEOUT, PG_SCHEMA,
    SCHEMA,
};
pub use users::{
    failure_key, valid_user_name, NewSession, Session, SessionInfo, SessionLimits, User, LANGS,
    MAX_NAME, ROLES,
};

/// Where a source was read up to. `position` must only grow for the same `source`
/// (a byte offset, a record number); `data` is the source's own, opaque here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub source: String,
    pub position: u64,
    pub data: Vec<u8>,
}

/// Everything one batch changes, committed in one transaction.
#[derive(Debug, Clone)]
pub struct Commit {
    /// Wall-clock time of the commit (history, workflow, suppression expiry).
    pub at: DateTime<Utc>,
    pub finding_changes: Vec<FindingChange>,
    pub checkpoints: Vec<Checkpoint>,
    /// Every stored profile is deleted before `profile_puts` are written (the
    /// profiles forgot more keys than they could name: `profile_puts` is then all
    /// of them).
    pub profile_clear: bool,
    pub profile_puts: Vec<(String, Vec<u8>)>,
    pub profile_deletes: Vec<String>,
    /// What the actors of the batch's events did (the timeline), written with the
    /// checkpoints: a replayed commit writes none of it (see [`ActivityBatch`]).
    pub activity: ActivityBatch,
    /// Made under a lease (a worker's partition): refused with
    /// [`StoreError::LeaseLost`], nothing written, unless the lease still holds.
    pub fence: Option<Fence>,
    /// `profile_clear` deletes only the profiles whose keys start with this (one
    /// partition's, `p/<stream>/<partition>/`).
    pub profile_prefix: Option<String>,
}

impl Commit {
    pub fn new(at: DateTime<Utc>) -> Commit {
        Commit {
            at,
            finding_changes: Vec::new(),
            checkpoints: Vec::new(),
            profile_clear: false,
            profile_puts: Vec::new(),
            profile_deletes: Vec::new(),
            activity: ActivityBatch::default(),
            fence: None,
            profile_prefix: None,
        }
    }
}

/// One scheduled audit's totals: checks that passed, failed and were suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostureRound {
    pub at: DateTime<Utc>,
    pub passed: u64,
    pub failed: u64,
    pub suppressed: u64,
}

impl PostureRound {
    /// Passed checks out of those evaluated and not suppressed, in percent; `None`
    /// when no check was evaluated.
    pub fn pass_rate(&self) -> Option<f64> {
        let all = self.passed + self.failed;
        (all > 0).then(|| self.passed as f64 * 100.0 / all as f64)
    }
}

/// What a commit did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Committed {
    /// No checkpoint moved on: nothing was counted (see the crate documentation).
    pub replayed: bool,
    /// One entry per finding change, in order.
    pub findings: Vec<Applied>,
}

/// What one finding change did to the stored finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub id: String,
    pub outcome: Outcome,
    /// The status after the change.
    pub status: Status,
    /// Whether a person should hear of it: a new finding, one reopened by new
    /// activity, or a severity raised, unless suppressed.
    pub notify: bool,
    /// The stored count after the change.
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// First time the store sees this id.
    New,
    /// Activity came back on a resolved finding, or on one whose suppression expired.
    Reopened,
    Grew,
    SeverityRaised,
    Closed,
    /// Nothing changed (a replayed change, or an empty one).
    Unchanged,
}

/// Workflow status of a stored finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    New,
    Acknowledged,
    Resolved,
    Suppressed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::New,
        Status::Acknowledged,
        Status::Resolved,
        Status::Suppressed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Acknowledged => "acknowledged",
            Status::Resolved => "resolved",
            Status::Suppressed => "suppressed",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Status, StoreError> {
        let t = s.trim();
        Status::ALL
            .into_iter()
            .find(|st| {
                st.as_str().eq_ignore_ascii_case(t)
                    || (t.eq_ignore_ascii_case("ack") && *st == Status::Acknowledged)
            })
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown status {s:?}: expected new, acknowledged, resolved or suppressed"
                ))
            })
    }
}

/// A stored finding with its workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFinding {
    /// The finding with its count and times aggregated across runs.
    pub finding: Finding,
    pub status: Status,
    pub status_by: Option<String>,
    pub status_at: Option<DateTime<Utc>>,
    pub status_note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a finding's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    /// `new`, `grew`, `severity_raised`, `closed`, `reopened`, `acknowledged`,
    /// `resolved`, `suppressed`, `unsuppressed`.
    pub what: String,
    /// The finding's count after this entry.
    pub count: u64,
    pub severity: Severity,
    pub by: Option<String>,
    pub note: Option<String>,
}

/// Which findings to list. Empty lists mean any.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub statuses: Vec<Status>,
    pub min_severity: Option<Severity>,
    pub types: Vec<String>,
    pub limit: Option<usize>,
}

/// A person's change of a finding's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Acknowledge,
    Resolve,
    Reopen,
}

impl Transition {
    fn target(self) -> Status {
        match self {
            Transition::Acknowledge => Status::Acknowledged,
            Transition::Resolve => Status::Resolved,
            Transition::Reopen => Status::New,
        }
    }

    fn history(self) -> &'static str {
        match self {
            Transition::Acknowledge => "acknowledged",
            Transition::Resolve => "resolved",
            Transition::Reopen => "reopened",
        }
    }
}

/// Who changes a status, when, and why.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub transition: Transition,
    pub at: DateTime<Utc>,
    pub by: Option<String>,
    pub note: Option<String>,
}

/// A suppression rule: every field given must match, and at least one must be given.
/// `network` matches when every address of the finding is inside it; `user` when
/// every user of the finding is that user (a spray over many users is not silenced
/// by naming one of them).
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    /// 0 until stored.
    pub id: i64,
    pub finding_type: Option<String>,
    /// A resource id (instance identifier, account, ARN).
    pub resource: Option<String>,
    pub network: Option<IpNet>,
    pub user: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Suppression {
    /// Whether the rule holds `f` at `now`.
    pub fn matches(&self, f: &Finding, now: DateTime<Utc>) -> bool {
        if self.expires_at.is_some_and(|t| t <= now) {
            return false;
        }
        if let Some(t) = &self.finding_type {
            if *t != f.finding_type {
                return false;
            }
        }
        if let Some(r) = &self.resource {
            if *r != f.resource.id {
                return false;
            }
        }
        if let Some(net) = &self.network {
            let ips: Vec<IpAddr> = f
                .actor
                .ip
                .into_iter()
                .chain(f.actor.ips.iter().copied())
                .collect();
            if ips.is_empty() || !ips.iter().all(|ip| net.contains(ip)) {
                return false;
            }
        }
        if let Some(u) = &self.user {
            let users: Vec<&String> = f.actor.user.iter().chain(f.actor.users.iter()).collect();
            if users.is_empty() || !users.iter().all(|x| *x == u) {
                return false;
            }
        }
        self.finding_type.is_some()
            || self.resource.is_some()
            || self.network.is_some()
            || self.user.is_some()
    }
}

/// What [`Store::prune`] removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pruned {
    pub findings: u64,
    pub history: u64,
    /// The compressed JSON lines file they were written to first, if asked.
    pub exported_to: Option<PathBuf>,
}

/// How many findings of one type, severity band and status the store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeCount {
    pub finding_type: String,
    pub severity: keibi_model::finding::SeverityLabel,
    pub status: Status,
    pub count: u64,
}

/// How much room the store takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    /// The main file, in bytes.
    pub file: u64,
    /// The write-ahead log (`-wal`), in bytes; folded into the file at checkpoints.
    pub wal: u64,
    /// Free pages inside the file, in bytes (reused before the file grows).
    pub free: u64,
    pub findings: u64,
    pub history: u64,
}

/// The store as the daemon uses it: small, so that a PostgreSQL-backed store for
/// several daemons can implement it later. [`Store`] is the SQLite implementation.
pub trait FindingStore {
    /// Applies one batch in one transaction (see the crate documentation).
    fn commit(&mut self, commit: &Commit) -> Result<Committed, StoreError>;
    /// Every stored checkpoint, to resume sources from.
    fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError>;
    /// Hands every stored profile to `f`; returns how many there were.
    fn load_profiles(&self, f: &mut dyn FnMut(&str, &[u8])) -> Result<u64, StoreError>;
    /// [`FindingStore::load_profiles`] of the keys starting with `prefix` (one
    /// partition's), handed over whole.
    fn load_profiles_prefixed(
        &self,
        prefix: &str,
        f: &mut dyn FnMut(&str, &[u8]),
    ) -> Result<u64, StoreError>;
    /// Findings matching `q`, most severe first, then the most recently active.
    fn findings(&self, q: &Query) -> Result<Vec<StoredFinding>, StoreError>;
    /// One finding by its id or a unique prefix of it.
    fn finding(&self, id_or_prefix: &str) -> Result<StoredFinding, StoreError>;
    /// A finding's history, oldest first.
    fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError>;
    /// Acknowledges, resolves or reopens a finding (id or unique prefix).
    fn set_status(
        &mut self,
        id_or_prefix: &str,
        change: &StatusChange,
    ) -> Result<StoredFinding, StoreError>;
    /// Stores a rule and suppresses the stored findings it matches; returns the
    /// rule's id and how many findings it suppressed.
    fn suppress(&mut self, rule: &Suppression) -> Result<(i64, u64), StoreError>;
    /// Every suppression rule, expired ones included.
    fn suppressions(&self) -> Result<Vec<Suppression>, StoreError>;
    /// Retention: deletes findings last seen before `older_than` with their history,
    /// first exporting them to a `.jsonl.zst` file in `export` when given.
    fn prune(
        &mut self,
        older_than: DateTime<Utc>,
        export: Option<&std::path::Path>,
        at: DateTime<Utc>,
    ) -> Result<Pruned, StoreError>;

    /// Records one posture audit's totals (the dashboard's pass rate). The default
    /// keeps nothing.
    fn record_posture_round(&mut self, _round: &PostureRound) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The daemon holds the store as `Box<dyn FindingStore>`: the trait must stay
/// object-safe (this fails to compile otherwise).
const _: Option<&dyn FindingStore> = None;
