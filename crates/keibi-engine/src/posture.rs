//! `keibi run`'s scheduled posture audit: a thread of its own, with its own store
//! connection, that audits every `audit.every` (the first time at start) and keeps
//! the store's posture findings in step with what it sees.
//!
//! Each round ([`apply`]):
//!
//! * every failed check (not suppressed by the settings) is committed as a finding
//!   change of type `Posture:<control>/<ShortName>`, detector `posture`. A failure
//!   already open is committed with `added = 0`: its last seen and texts move on,
//!   its count does not grow and nobody is told again. A failure whose finding was
//!   resolved is committed with `added = 1`, which reopens it (the store's rule for
//!   activity on a resolved finding: `reopened` in its history, a notice).
//! * every open (new or acknowledged) posture finding that did not fail this round
//!   is resolved **by `keibi audit`** (a [`StatusChange`] as a person's resolve, so
//!   the routes get a resolved notice) when its check passed, when the settings now
//!   suppress it, or when its resource is gone: the inventory of its account and
//!   region listed that kind of resource and this one was not among them. A check
//!   that was not evaluated (its data missing, a call denied, a database not
//!   reached) leaves its findings as they are.
//!
//! Nothing is remembered between rounds but the store, so a kill at any moment
//! (between the commit and the resolutions) is repaired by the next round: a failure
//! stored is never stored twice (open: `added = 0`), a resolution not written is
//! written then.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use keibi_model::{ChangeKind, FindingChange};
use keibi_posture::report::Report;
use keibi_posture::{Outcome, Snapshot};
use keibi_store::{
    Commit, FindingStore, Outcome as Applied, PostureRound, Query, Status, StatusChange,
    StoreError, Transition,
};

use crate::metrics::{self, Shared};

/// Who resolves a posture finding in its history.
pub const RESOLVED_BY: &str = "keibi audit";

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditRound {
    pub at: Option<DateTime<Utc>>,
    pub checks_passed: usize,
    pub checks_failed: usize,
    pub checks_suppressed: usize,
    /// Findings the store saw for the first time.
    pub new: usize,
    /// Findings resolved before that failed again.
    pub reopened: usize,
    /// Open findings resolved by this round, with why.
    pub resolved: Vec<(String, Resolution)>,
}

/// Why an open posture finding was resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Its check passed.
    Passed,
    /// The settings suppress it now (with their reason).
    Suppressed(String),
    /// Its resource is no longer in the inventory.
    Gone,
}

impl Resolution {
    /// The note of the history line (English: the store's notes are).
    pub fn note(&self) -> String {
        match self {
            Resolution::Passed => "the check passes now".into(),
            Resolution::Suppressed(r) => format!("suppressed in the settings: {r}"),
            Resolution::Gone => "the resource is no longer in the inventory".into(),
        }
    }
}

/// Where a resource is.
type Place = (String, String, String, String);

fn place(o: &Outcome) -> Place {
    let r = &o.resource;
    (
        r.account.clone().unwrap_or_default(),
        r.region.clone().unwrap_or_default(),
        r.kind.clone(),
        r.id.clone(),
    )
}

/// The (account, region, kind) whose resources this snapshot listed: a resource of
/// one of them that no check named is gone.
fn listed_kinds(s: &Snapshot) -> HashSet<(String, String, &'static str)> {
    let mut out = HashSet::new();
    for inv in &s.aws {
        let acct = inv.account.clone().unwrap_or_default();
        let region = inv.region.clone().unwrap_or_default();
        let kinds = [
            ("db_instance", inv.db_instances.is_some()),
            ("db_cluster", inv.db_clusters.is_some()),
            ("db_snapshot", inv.db_snapshots.is_some()),
            ("db_cluster_snapshot", inv.db_cluster_snapshots.is_some()),
            ("security_group", inv.security_groups.is_some()),
            ("network_acl", inv.network_acls.is_some()),
            ("trail", inv.trails.is_some()),
        ];
        for (k, listed) in kinds {
            if listed {
                out.insert((acct.clone(), region.clone(), k));
            }
        }
    }
    out
}

/// Commits one audit's failures and resolves what no longer fails (see the module
/// documentation). `report` has had the settings' suppressions applied.
pub fn apply(
    store: &mut dyn FindingStore,
    snapshot: &Snapshot,
    report: &Report,
) -> Result<AuditRound, StoreError> {
    let at = report.at;
    let summary = report.summary();
    let mut round = AuditRound {
        at: Some(at),
        checks_passed: summary.total.checks_passed,
        checks_failed: summary.total.checks_failed,
        checks_suppressed: summary.total.checks_suppressed,
        ..AuditRound::default()
    };
    store.record_posture_round(&PostureRound {
        at,
        passed: summary.total.checks_passed as u64,
        failed: summary.total.checks_failed as u64,
        suppressed: summary.total.checks_suppressed as u64,
    })?;
    let mut commit = Commit::new(at);
    let mut failing: HashSet<String> = HashSet::new();
    for o in report.failed() {
        let finding = o.finding(at);
        if !failing.insert(finding.id.clone()) {
            continue;
        }
        let (kind, added) = match store.finding(&finding.id) {
            Ok(s) if s.finding.id == finding.id => match s.status {
                Status::Resolved => (ChangeKind::Grew, 1),
                _ => (ChangeKind::Grew, 0),
            },
            Ok(_) | Err(StoreError::NotFound(_)) => (ChangeKind::New, 1),
            Err(e) => return Err(e),
        };
        commit.finding_changes.push(FindingChange {
            kind,
            finding,
            added,
        });
    }
    if !commit.finding_changes.is_empty() {
        let done = store.commit(&commit)?;
        for a in &done.findings {
            match a.outcome {
                Applied::New => round.new += 1,
                Applied::Reopened => round.reopened += 1,
                _ => {}
            }
        }
    }

    // What this round saw, to judge the open findings that did not fail.
    let passed: HashSet<String> = report.passed().map(|o| o.finding_id()).collect();
    let suppressed: Vec<(String, &str)> = report
        .suppressed
        .iter()
        .map(|s| (s.outcome.finding_id(), s.reason.as_str()))
        .collect();
    let named: HashSet<Place> = report
        .outcomes
        .iter()
        .chain(report.suppressed.iter().map(|s| &s.outcome))
        .map(place)
        .collect();
    let listed = listed_kinds(snapshot);
    let mut types: Vec<String> = keibi_posture::controls()
        .map(|c| c.finding_type())
        .collect();
    for o in report
        .outcomes
        .iter()
        .chain(report.suppressed.iter().map(|s| &s.outcome))
    {
        let t = o.control.finding_type();
        if !types.contains(&t) {
            types.push(t);
        }
    }
    if types.is_empty() {
        return Ok(round);
    }
    let open = store.findings(&Query {
        statuses: vec![Status::New, Status::Acknowledged],
        types,
        ..Query::default()
    })?;
    for s in open {
        let f = &s.finding;
        if f.detector != keibi_posture::outcome::DETECTOR || failing.contains(&f.id) {
            continue;
        }
        let why = if passed.contains(&f.id) {
            Resolution::Passed
        } else if let Some((_, reason)) = suppressed.iter().find(|(id, _)| *id == f.id) {
            Resolution::Suppressed(reason.to_string())
        } else {
            let r = &f.resource;
            let acct = r.account.clone().unwrap_or_default();
            let region = r.region.clone().unwrap_or_default();
            let here = (acct.clone(), region.clone(), r.kind.clone(), r.id.clone());
            let kind_listed = listed
                .iter()
                .any(|(a, g, k)| *a == acct && *g == region && *k == r.kind);
            if kind_listed && !named.contains(&here) {
                Resolution::Gone
            } else {
                continue;
            }
        };
        store.set_status(
            &f.id,
            &StatusChange {
                transition: Transition::Resolve,
                at,
                by: Some(RESOLVED_BY.into()),
                note: Some(why.note()),
            },
        )?;
        round.resolved.push((f.id.clone(), why));
    }
    Ok(round)
}

/// What the audit thread tells its operator.
#[derive(Debug)]
pub enum AuditNote {
    /// A round went in.
    Done { round: AuditRound, problems: usize },
    /// A target could not be read (one line, no secret in it).
    Problem(String),
    /// The store refused the round (tried again at the next one).
    Failed(String),
}

/// Reads the targets: the snapshot and the problems met. The binary gives it (the
/// AWS and database edges live there).
pub type Gather = Box<dyn FnMut() -> (Snapshot, Vec<String>) + Send>;

/// The metrics of the last round.
#[derive(Debug, Clone, Default)]
pub struct PostureMetrics {
    pub last_audit: Option<DateTime<Utc>>,
    pub checks_passed: usize,
    pub checks_failed: usize,
    pub checks_suppressed: usize,
    pub problems: usize,
    pub rounds: u64,
    pub failed_rounds: u64,
}

/// The audit thread of `keibi run`.
pub struct Running {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Running {
    /// Audits now, then every `every`, until stopped.
    pub fn start(
        mut store: Box<dyn FindingStore + Send>,
        mut gather: Gather,
        rules: Vec<keibi_posture::Suppress>,
        every: Duration,
        metrics: Option<Shared>,
        mut note: Box<dyn FnMut(AuditNote) + Send>,
    ) -> std::io::Result<Running> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("keibi-audit".into())
            .spawn(move || {
                let mut next = Instant::now();
                while !flag.load(Ordering::Relaxed) {
                    if Instant::now() < next {
                        std::thread::sleep(Duration::from_millis(100).min(every));
                        continue;
                    }
                    next = Instant::now() + every;
                    let (snapshot, problems) = gather();
                    for p in &problems {
                        note(AuditNote::Problem(p.clone()));
                    }
                    let mut report = keibi_posture::audit(&snapshot, Utc::now());
                    report.suppress(&rules);
                    let result = apply(&mut *store, &snapshot, &report);
                    if let Some(m) = &metrics {
                        let mut m = metrics::lock(m);
                        let p = m.posture.get_or_insert_with(PostureMetrics::default);
                        match &result {
                            Ok(r) => {
                                p.last_audit = r.at;
                                p.checks_passed = r.checks_passed;
                                p.checks_failed = r.checks_failed;
                                p.checks_suppressed = r.checks_suppressed;
                                p.problems = problems.len();
                                p.rounds += 1;
                            }
                            Err(_) => p.failed_rounds += 1,
                        }
                    }
                    match result {
                        Ok(round) => note(AuditNote::Done {
                            round,
                            problems: problems.len(),
                        }),
                        Err(e) => note(AuditNote::Failed(e.to_string())),
                    }
                }
            })?;
        Ok(Running { stop, thread })
    }

    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests;
