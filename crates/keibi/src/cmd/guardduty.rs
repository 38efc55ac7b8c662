//! `keibi findings import --from guardduty`: GuardDuty's RDS and IAM findings read
//! through the AWS edge (`aws::guardduty_read`), stored beside keibi's own, and
//! joined to the stored keibi findings that saw the same activity (an `Observed`
//! evidence in each naming the other).
//!
//! Reading again updates: a GuardDuty finding's id is a hash of its detector and
//! GuardDuty's finding id, and the count stored is GuardDuty's (`service.count`), so
//! each import adds only what GuardDuty counted since the last one. Nothing is
//! counted twice without a checkpoint: the change carries the difference.
//!
//! Several regions are read in one import (`--region` repeated), each committed
//! with its own checkpoint (`guardduty:<region>`, the time its read started): an
//! import without `--since` reads each region from an hour before its checkpoint
//! (the last 7 days the first time), and a region that fails is said while the
//! others are still read.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Utc;
use keibi_i18n::Msg;
use keibi_model::{ChangeKind, Finding, FindingChange};
use keibi_store::{Checkpoint, Commit, FindingStore, Outcome, Query, Store, StoreError};

use crate::aws::{guardduty_join, guardduty_read, GuardDutySource};
use crate::locale::say;
use crate::output::sanitize::terminal;

/// keibi's stored findings looked at for the join (the most severe first).
const MAX_JOINED: usize = 50_000;

/// The store checkpoint of a region's GuardDuty reads.
pub fn checkpoint_source(region: &str) -> String {
    format!("guardduty:{region}")
}

/// How far before a region's checkpoint an import without `--since` reads again
/// (GuardDuty updates a finding some time after its activity).
const OVERLAP: chrono::TimeDelta = chrono::TimeDelta::hours(1);

pub struct Args<'a> {
    pub since: Option<&'a str>,
    pub regions: Vec<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

/// What one import did.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub region: String,
    pub detectors: usize,
    /// GuardDuty findings read and stored.
    pub n: usize,
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Links made to keibi's findings of the same activity (counted again on each
    /// import: a link already stored changes nothing).
    pub linked: usize,
    pub skipped: usize,
    pub truncated: bool,
    pub calls: usize,
}

impl Imported {
    /// The summary line (stderr of the command, a log line of `keibi run`).
    pub fn message(&self, store: &Path) -> Msg {
        Msg::new("fnd-gd-imported")
            .arg("n", self.n)
            .arg("new", self.new)
            .arg("updated", self.updated)
            .arg("unchanged", self.unchanged)
            .arg("linked", self.linked)
            .arg("skipped", self.skipped)
            .arg("detectors", self.detectors)
            .arg("region", terminal(&self.region).into_owned())
            .arg("calls", self.calls)
            .arg("store", terminal(&store.display().to_string()).into_owned())
    }
}

/// `keibi findings import --from guardduty`: each region in turn (the chain's when
/// none is given); exit code 1 when a region could not be read, an error when none
/// could.
pub fn import(path: &Path, a: &Args<'_>) -> Result<u8> {
    let now = Utc::now();
    let given = match a.since {
        Some(s) => Some(crate::timearg::parse(s, now).context("--since")?),
        None => None,
    };
    let mut regions: Vec<Option<String>> = Vec::new();
    for r in &a.regions {
        let r = r.trim().to_string();
        if !regions.contains(&Some(r.clone())) {
            regions.push(Some(r));
        }
    }
    if regions.is_empty() {
        regions.push(None);
    }
    let stored: Vec<Checkpoint> = if keibi_store::exists(path) {
        Store::open_read_only(path)?.checkpoints()?
    } else {
        Vec::new()
    };
    let mut failed = Vec::new();
    let several = regions.len() > 1;
    let asked = regions.len();
    for region in regions {
        // The checkpoint of the region read: the chain's own is known only after
        // the read, so without --region the environment's region names it.
        let named = region
            .clone()
            .unwrap_or_else(|| crate::aws::pricing_region(None));
        let since = given.unwrap_or_else(|| {
            stored
                .iter()
                .find(|c| c.source == checkpoint_source(&named))
                .and_then(|c| chrono::DateTime::from_timestamp_millis(c.position as i64))
                .map_or(now - chrono::TimeDelta::days(7), |t| t - OVERLAP)
        });
        let src = GuardDutySource {
            region: region.clone(),
            endpoint_url: a.endpoint_url.clone(),
            profile: a.profile.clone(),
            timeout: Duration::from_secs(30),
            since,
        };
        match import_into(path, &src) {
            Ok(done) => {
                if done.truncated {
                    eprintln!("{}", say(Msg::new("fnd-gd-truncated")));
                }
                eprintln!("{}", say(done.message(path)));
            }
            Err(e) if several => {
                eprintln!(
                    "{}",
                    say(Msg::new("fnd-gd-region-failed")
                        .arg("region", terminal(&named).into_owned())
                        .arg("error", terminal(&format!("{e:#}")).into_owned()))
                );
                failed.push(named);
            }
            Err(e) => return Err(e),
        }
    }
    if several && failed.len() == asked {
        anyhow::bail!(say(Msg::new("fnd-gd-all-failed").arg("n", failed.len())));
    }
    Ok(u8::from(!failed.is_empty()))
}

/// Reads GuardDuty's findings of `src` into the store at `path`, joined to the keibi
/// findings stored there (also `keibi run`'s, with `audit.guardduty_findings`).
pub fn import_into(path: &Path, src: &GuardDutySource) -> Result<Imported> {
    let now = Utc::now();
    let read = guardduty_read(src)?;
    let mut store = Store::open(path)?;
    let mut ours: Vec<Finding> = store
        .findings(&Query {
            statuses: Vec::new(),
            min_severity: None,
            types: Vec::new(),
            limit: Some(MAX_JOINED),
        })?
        .into_iter()
        .map(|s| s.finding)
        .filter(|f| f.detector != "guardduty")
        .collect();
    let mut gd = read.findings;
    let links = guardduty_join(&mut gd, &mut ours);
    let mut changes = Vec::new();
    for (_, f) in gd {
        let stored = match store.finding(&f.id) {
            Ok(s) if s.finding.id == f.id => Some(s.finding.count),
            Ok(_) | Err(StoreError::NotFound(_)) | Err(StoreError::Ambiguous { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let (kind, added) = match stored {
            None => (ChangeKind::New, f.count),
            Some(n) => (ChangeKind::Grew, f.count.saturating_sub(n)),
        };
        changes.push(FindingChange {
            kind,
            finding: f,
            added,
        });
    }
    let read_n = changes.len();
    let mut linked: Vec<usize> = links.iter().map(|&(_, j)| j).collect();
    linked.sort_unstable();
    linked.dedup();
    for j in &linked {
        if let Some(f) = ours.get(*j) {
            changes.push(FindingChange {
                kind: ChangeKind::Grew,
                finding: f.clone(),
                added: 0,
            });
        }
    }
    // The region's checkpoint: when this read started (after the last one's, so a
    // clock set back does not make the import a replay).
    let source = checkpoint_source(&read.region);
    let last = store
        .checkpoints()?
        .into_iter()
        .find(|c| c.source == source)
        .map(|c| c.position);
    let position = u64::try_from(now.timestamp_millis())
        .unwrap_or(0)
        .max(last.map_or(0, |p| p.saturating_add(1)));
    let done = store.commit(&Commit {
        finding_changes: changes,
        checkpoints: vec![Checkpoint {
            source,
            position,
            data: Vec::new(),
        }],
        ..Commit::new(now)
    })?;
    let applied = &done.findings[..read_n.min(done.findings.len())];
    let count = |o: Outcome| applied.iter().filter(|a| a.outcome == o).count();
    let (new, unchanged) = (count(Outcome::New), count(Outcome::Unchanged));
    Ok(Imported {
        region: read.region,
        detectors: read.detectors,
        n: read_n,
        new,
        updated: read_n.saturating_sub(new + unchanged),
        unchanged,
        linked: links.len(),
        skipped: read.skipped,
        truncated: read.truncated,
        calls: read.calls,
    })
}
