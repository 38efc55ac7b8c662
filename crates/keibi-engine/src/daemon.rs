//! `keibi run`'s loop: live sources → time order → the scanner → the store, one
//! transaction per round.
//!
//! Each round polls every source, puts their events in time order ([`Orderer`]),
//! feeds what the orderer releases to the scanner ([`Scanner::observe_batch`]), and
//! commits the finding changes with the checkpoints of the polls whose events have
//! all been fed, in one [`Commit`]. A poll's checkpoints wait while any of its events
//! is still held by the orderer: they are committed once every event pushed with
//! them is released (its latest time is before the oldest event held, or nothing is
//! held). So a stored checkpoint never covers an event the scanner has not seen, and
//! a restart from the stored checkpoints reads every event whose changes were not
//! committed.
//!
//! Store checkpoints are keyed by file fingerprint (`file:<hash>/<len>`); their
//! position is a counter that grows by one each time the file's checkpoint changes,
//! so it only grows for a file, and committing the same batch again is a replay the
//! store counts once (see `keibi-store`).
//!
//! A restart resumes every file from its stored checkpoint *warm*: the file is read
//! again from its start and the events before the checkpoint are fed to the
//! scanner with their changes discarded (they are in the store), so the detectors'
//! windows open at a kill are rebuilt; the store counts only what follows. A
//! checkpoint behind the stored one (while a file is read again) is not committed.
//! What a restart still loses: the behavioural profiles (not yet kept in the
//! store), and windows spanning a file no followed path names any more.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use keibi_detect::{Scanner, Services};
use keibi_ingest::{
    Checkpoint, FollowOptions, FollowSource, IngestOptions, LiveSource, Notice, OrderOptions,
    Orderer, ReaderSource, SourceState,
};
use keibi_model::{ActionKind, Event, FindingChange};
use keibi_store::{Applied, Commit, FindingStore, Store, StoreError};

use crate::metrics::{self, Shared};
use crate::retention::{Expired, Retention};
use crate::settings::{Settings, Target, Tuning};

/// Why the loop cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("source {what}: {reason}")]
    Source { what: String, reason: String },
    #[error("nothing to follow: give paths, or sources in the settings file")]
    NoSources,
}

/// What the loop tells its operator (the binary writes it to stderr).
#[derive(Debug)]
pub enum Note<'a> {
    /// A source is followed.
    Following(String),
    /// A source's notice: a file opened, unreadable, a line not understood.
    Source(&'a Notice),
    /// A stored finding change a person should hear of (new, reopened, severity
    /// raised, not suppressed).
    Finding {
        change: &'a FindingChange,
        applied: &'a Applied,
    },
    /// Checkpoints read from the store at start.
    Resumed(usize),
    /// A retention pass: what it deleted and exported, or why it failed (nothing
    /// deleted; tried again at the next pass).
    Retention(Result<Expired, StoreError>),
    /// Anything else worth a line.
    Info(String),
    /// Something an operator must act on while the loop goes on (the store cannot
    /// be written: the batch is held and tried again).
    Warn(String),
}

/// A commit the store refused for a reason that may pass (disk full, busy): kept,
/// with the checkpoints it moves, and sent again before anything else is read.
type Unsent = (Commit, Vec<(String, u64, Checkpoint)>);

/// A poll's checkpoints, waiting until its events have all left the orderer.
struct Pending {
    latest: Option<DateTime<Utc>>,
    checkpoints: Vec<Checkpoint>,
}

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Events fed to the scanner.
    pub events: usize,
    /// Events read again before a resumed file's checkpoint (detectors only).
    pub replayed: usize,
    /// Finding changes committed.
    pub changes: usize,
    /// Whether something was committed.
    pub committed: bool,
    /// Some source has more waiting: poll again at once.
    pub reading: bool,
    /// Every source has ended (standard input closed).
    pub finished: bool,
}

/// The loop's state: sources, orderer, scanner and store.
pub struct Pipeline {
    sources: Vec<Box<dyn LiveSource>>,
    states: Vec<SourceState>,
    orderer: Orderer,
    scanner: Scanner,
    store: Store,
    tuning: Tuning,
    kinds: HashMap<(String, String), Vec<ActionKind>>,
    /// Latest stored position and checkpoint per store source.
    positions: HashMap<String, (u64, Checkpoint)>,
    pending: VecDeque<Pending>,
    poll: Duration,
    /// What the loop publishes for `/metrics` and `/healthz`.
    metrics: Option<Shared>,
    unsent: Option<Unsent>,
}

/// The store's name for a file's checkpoints.
fn source_key(cp: &Checkpoint) -> String {
    format!("file:{:016x}/{}", cp.fingerprint.hash, cp.fingerprint.len)
}

/// How a source's events are read (format, prefix, instance, time zone).
fn ingest_options(s: &crate::settings::Source) -> Result<IngestOptions, EngineError> {
    let what = || {
        s.target()
            .map(|t| match t {
                Target::Path(p) | Target::Dir(p) => p.display().to_string(),
                Target::Glob(g) => g.to_string(),
                Target::Stdin => "-".to_string(),
            })
            .unwrap_or_default()
    };
    let mut o = IngestOptions::default();
    if let Some(f) = &s.format {
        o.format = Some(f.parse().map_err(|reason| EngineError::Source {
            what: what(),
            reason,
        })?);
    }
    o.pg_prefix = s.pg_prefix.clone();
    o.instance = s.instance.clone();
    if let Some(z) = &s.log_timezone {
        o.local_offset = keibi_parse::time::zone_offset(z).ok_or_else(|| EngineError::Source {
            what: what(),
            reason: format!("log_timezone {z:?} is not a UTC offset"),
        })?;
    }
    Ok(o)
}

impl Pipeline {
    /// Builds the sources of `settings`, resuming them from the checkpoints stored in
    /// `store`, around a ready `scanner` (the daemon forgets closed findings: the
    /// store keeps them). `once`: everything there is read and then the input ends
    /// (`--once`).
    pub fn new(
        settings: &Settings,
        scanner: Scanner,
        store: Store,
        once: bool,
        note: &mut dyn FnMut(Note),
    ) -> Result<Pipeline, EngineError> {
        let mut positions = HashMap::new();
        for c in store.checkpoints()? {
            if !c.source.starts_with("file:") {
                continue;
            }
            // A checkpoint this version cannot read is left alone: its file is read
            // from the start, as a new one.
            if let Ok(cp) = serde_json::from_slice::<Checkpoint>(&c.data) {
                positions.insert(c.source, (c.position, cp));
            }
        }
        note(Note::Resumed(positions.len()));
        let resume: Vec<Checkpoint> = positions.values().map(|(_, c)| c.clone()).collect();
        let src = &settings.sources;
        // A source whose parser holds its last entry (PostgreSQL's DETAIL lines to
        // come, MySQL's next line) has no events until the entry is flushed, after
        // `flush_after` of quiet, seen at the next poll: it stays active that long,
        // or the others' later events pass it and the held one arrives late (a
        // detector that pairs events across two logs of one server then counts it
        // twice). With `once`, every source holds the others back until the end.
        let poll = src.poll_interval.std();
        let idle = if once {
            Duration::from_secs(24 * 3600)
        } else {
            src.idle_timeout
                .std()
                .max(FollowOptions::default().flush_after + 2 * poll)
        };
        // With `once`, nothing is released before the end but to bound memory
        // (`max_held`, oldest first): one followed directory is one source, and a
        // file's last entry, held by its parser until the idle flush, would come
        // after the other files' later events (as `keibi scan` never has it).
        let lateness = if once {
            chrono::TimeDelta::days(3650)
        } else {
            chrono::TimeDelta::from_std(src.allowed_lateness.std())
                .unwrap_or(chrono::TimeDelta::zero())
        };
        let order = OrderOptions {
            lateness,
            idle,
            ..OrderOptions::default()
        };
        let mut orderer = Orderer::new(order);
        let mut sources: Vec<Box<dyn LiveSource>> = Vec::new();
        for s in &src.inputs {
            let ingest = ingest_options(s)?;
            let pattern = match s.target() {
                Some(Target::Stdin) => {
                    note(Note::Following("standard input".into()));
                    sources.push(Box::new(ReaderSource::stdin(ingest)));
                    orderer.add_source();
                    continue;
                }
                Some(Target::Path(p)) | Some(Target::Dir(p)) => p.display().to_string(),
                Some(Target::Glob(g)) => g.to_string(),
                None => {
                    return Err(EngineError::Source {
                        what: String::new(),
                        reason: "a source names exactly one of path, glob, dir, stdin".into(),
                    })
                }
            };
            // Files resumed from a checkpoint are read again from their start, the
            // events before the checkpoint only to rebuild the detectors' windows.
            let opts = FollowOptions {
                ingest,
                poll: src.poll_interval.std(),
                warm: true,
                ..FollowOptions::default()
            };
            let follow = FollowSource::new(std::slice::from_ref(&pattern), opts, resume.clone())
                .map_err(|e| EngineError::Source {
                    what: pattern.clone(),
                    reason: e.to_string(),
                })?;
            note(Note::Following(pattern));
            sources.push(Box::new(follow));
            orderer.add_source();
        }
        if sources.is_empty() {
            return Err(EngineError::NoSources);
        }
        let scanner = scanner.forget_closed(true);
        let kinds = kinds_of(&scanner);
        Ok(Pipeline {
            states: vec![SourceState::Reading; sources.len()],
            sources,
            orderer,
            scanner,
            store,
            tuning: settings.tuning.clone(),
            kinds,
            positions,
            pending: VecDeque::new(),
            poll: src.poll_interval.std(),
            metrics: None,
            unsent: None,
        })
    }

    /// Publishes what the loop reads and commits to `m` (made with
    /// [`metrics::source_labels`] of the same settings).
    pub fn with_metrics(mut self, m: Shared) -> Pipeline {
        self.metrics = Some(m);
        self
    }

    /// How long to wait between rounds when every source is caught up.
    pub fn poll_interval(&self) -> Duration {
        self.poll
    }

    /// A reload: new tuning and services (lists, lookups) from the next round on;
    /// detector state is kept.
    pub fn reload(&mut self, tuning: Tuning, services: Services) {
        self.tuning = tuning;
        self.scanner.set_services(services);
    }

    /// One round: poll, order, detect, commit.
    pub fn round(
        &mut self,
        now: Instant,
        note: &mut dyn FnMut(Note),
    ) -> Result<Round, EngineError> {
        let mut round = Round::default();
        if let Some(unsent) = self.unsent.take() {
            // Nothing more is read while a batch waits (memory stays bounded, and no
            // checkpoint passes it); once it is in, read on at once.
            self.send(unsent, &mut round, note)?;
            round.reading = true;
            return Ok(round);
        }
        let mut released = Vec::new();
        for (i, src) in self.sources.iter_mut().enumerate() {
            if self.states[i] == SourceState::Finished {
                continue;
            }
            let mut p = src.poll(now);
            if let Some(m) = &self.metrics {
                metrics::lock(m).observe_poll(i, &p.events, &p.notices);
            }
            for n in &p.notices {
                note(Note::Source(n));
            }
            if !p.replay.is_empty() {
                // Counted before the restart: the detectors see them again, and what
                // they change is already in the store.
                p.replay.sort_by_key(|e| e.time);
                round.replayed += p.replay.len();
                let _ = self.scanner.observe_batch(&p.replay);
            }
            if !p.checkpoints.is_empty() {
                self.pending.push_back(Pending {
                    latest: p.events.iter().map(|e| e.time).max(),
                    checkpoints: p.checkpoints,
                });
            }
            self.states[i] = p.state;
            self.orderer.push(i, p.events, p.state, now, &mut released);
        }
        self.orderer.release(now, &mut released);
        round.reading = self.states.contains(&SourceState::Reading);
        round.finished = self.states.iter().all(|s| *s == SourceState::Finished);
        self.detect_and_commit(released, false, &mut round, note)?;
        Ok(round)
    }

    /// Stops: everything the orderer holds is detected, and committed with every
    /// checkpoint read. With `end` the input is taken as ended (`--once`): detectors
    /// close every window, as at the end of `keibi scan`.
    pub fn finish(mut self, end: bool, note: &mut dyn FnMut(Note)) -> Result<Round, EngineError> {
        let mut round = Round::default();
        if let Some(unsent) = self.unsent.take() {
            self.send(unsent, &mut round, note)?;
        }
        let mut released = Vec::new();
        self.orderer.drain(&mut released);
        self.detect_and_commit(released, end, &mut round, note)?;
        Ok(round)
    }

    fn detect_and_commit(
        &mut self,
        events: Vec<Event>,
        end: bool,
        round: &mut Round,
        note: &mut dyn FnMut(Note),
    ) -> Result<(), EngineError> {
        round.events = events.len();
        let mut changes = if events.is_empty() {
            Vec::new()
        } else {
            self.scanner.observe_batch(&events)
        };
        if end {
            changes.extend(self.scanner.advance(DateTime::<Utc>::MAX_UTC));
        }
        let at = Utc::now();
        changes.retain_mut(|c| self.tune(c, at));
        // Checkpoints whose polls' events have all been fed.
        let oldest = self.orderer.oldest_held();
        let mut latest: HashMap<String, Checkpoint> = HashMap::new();
        while let Some(p) = self.pending.front() {
            let fed = match (p.latest, oldest) {
                (_, None) | (None, _) => true,
                (Some(t), Some(o)) => t < o,
            };
            if !fed {
                break;
            }
            if let Some(p) = self.pending.pop_front() {
                for cp in p.checkpoints {
                    latest.insert(source_key(&cp), cp);
                }
            }
        }
        let mut commit = Commit::new(at);
        let mut moved = Vec::new();
        for (key, cp) in latest {
            let (position, behind) = match self.positions.get(&key) {
                Some((pos, old)) => (*pos, progress(&cp) <= progress(old)),
                None => (0, false),
            };
            // A file read again from its start (warm) is behind its stored
            // checkpoint until it passes it: the stored one stays.
            if behind {
                continue;
            }
            let data = serde_json::to_vec(&cp).unwrap_or_default();
            commit.checkpoints.push(keibi_store::Checkpoint {
                source: key.clone(),
                position: position + 1,
                data,
            });
            moved.push((key, position + 1, cp));
        }
        if changes.is_empty() && commit.checkpoints.is_empty() {
            return Ok(());
        }
        commit.finding_changes = changes;
        self.send((commit, moved), round, note)
    }

    /// Commits a batch; on success the checkpoints it moved are the stored ones and
    /// its changes are announced. A transient failure (disk full, busy) keeps the
    /// batch for the next round: the store and the checkpoints stay where they were.
    fn send(
        &mut self,
        (commit, moved): Unsent,
        round: &mut Round,
        note: &mut dyn FnMut(Note),
    ) -> Result<(), EngineError> {
        let done = match self.store.commit(&commit) {
            Ok(done) => done,
            Err(e) => {
                let held = e.is_transient();
                if let Some(m) = &self.metrics {
                    metrics::lock(m).commit_failed(e.to_string(), held, Utc::now());
                }
                if held {
                    self.unsent = Some((commit, moved));
                }
                return Err(e.into());
            }
        };
        for (key, pos, cp) in moved {
            self.positions.insert(key, (pos, cp));
        }
        round.committed = true;
        round.changes = commit.finding_changes.len();
        if let Some(m) = &self.metrics {
            metrics::lock(m).committed(Utc::now());
        }
        for (change, applied) in commit.finding_changes.iter().zip(&done.findings) {
            if applied.notify {
                note(Note::Finding { change, applied });
            }
        }
        Ok(())
    }

    /// Applies the settings' tuning to a change (false: drop it) and fills its
    /// suggested actions from its catalog entry.
    fn tune(&self, c: &mut FindingChange, now: DateTime<Utc>) -> bool {
        let mut one = vec![c.finding.clone()];
        self.tuning.apply(&mut one, now);
        let Some(mut f) = one.pop() else {
            return false;
        };
        if let Some(k) = self
            .kinds
            .get(&(f.detector.clone(), f.finding_type.clone()))
        {
            keibi_detect::catalog::fill(&mut f, k);
        }
        c.finding = f;
        true
    }
}

/// How far a file's checkpoints have read it: they only grow in one reading of the
/// file (the restart offset, then the events emitted from it; the end last).
fn progress(cp: &Checkpoint) -> (bool, u64, u64) {
    (cp.done, cp.offset, cp.skip)
}

/// The kinds of actions each detector's finding types suggest.
fn kinds_of(scanner: &Scanner) -> HashMap<(String, String), Vec<ActionKind>> {
    scanner
        .catalog()
        .into_iter()
        .map(|e| ((e.source, e.spec.finding_type), e.spec.suggested_actions))
        .collect()
}

/// How [`run`] runs.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Process what is there, commit, and return (`--once`).
    pub once: bool,
    /// Prune the store on this schedule (none: never).
    pub retention: Option<Retention>,
}

/// What stops or reloads the loop: flags set by signal handlers (or a test).
#[derive(Debug, Clone, Default)]
pub struct Control {
    pub stop: Arc<AtomicBool>,
    pub reload: Arc<AtomicBool>,
}

impl Control {
    /// Flags set by SIGTERM and SIGINT (stop) and SIGHUP (reload).
    pub fn signals() -> std::io::Result<Control> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let c = Control::default();
        signal_hook::flag::register(SIGTERM, c.stop.clone())?;
        signal_hook::flag::register(SIGINT, c.stop.clone())?;
        signal_hook::flag::register(SIGHUP, c.reload.clone())?;
        Ok(c)
    }
}

/// Quiet time after which `--once` takes the sources as read: held multi-line
/// entries are flushed after half a second, compressed files wait one discovery
/// round (a second) for their size to hold still.
const ONCE_QUIET: Duration = Duration::from_millis(1500);

/// A batch the store refused (disk full, busy) is tried again after 1 s, then
/// after twice as long each time, at most a minute apart.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// Runs the pipeline until stopped (or, with `once`, until everything there was
/// read), then commits what was read. `reload` is called on SIGHUP and returns the
/// new tuning and services, or `None` to keep the old ones (it says why itself).
pub fn run(
    pipeline: Pipeline,
    mut opts: RunOptions,
    control: &Control,
    reload: &mut dyn FnMut() -> Option<(Tuning, Services)>,
    note: &mut dyn FnMut(Note),
) -> Result<(), EngineError> {
    let shared = pipeline.metrics.clone();
    let r = run_loop(pipeline, &mut opts, control, reload, note);
    if let (Err(e), Some(m)) = (&r, &shared) {
        metrics::lock(m).store_error = Some(e.to_string());
    }
    r
}

fn run_loop(
    mut pipeline: Pipeline,
    opts: &mut RunOptions,
    control: &Control,
    reload: &mut dyn FnMut() -> Option<(Tuning, Services)>,
    note: &mut dyn FnMut(Note),
) -> Result<(), EngineError> {
    let mut quiet_since = Instant::now();
    let mut publisher = metrics::Publisher::default();
    // While the store refuses a batch for a reason that may pass: the next try.
    let mut failing: Option<(Instant, Duration)> = None;
    loop {
        if let Some(r) = opts.retention.as_mut().filter(|r| r.due(Instant::now())) {
            let done = r.apply(&mut pipeline.store, Instant::now(), Utc::now());
            if let (Ok(e), Some(m)) = (&done, &pipeline.metrics) {
                metrics::lock(m).expired += e.pruned.findings;
                publisher.dirty();
            }
            note(Note::Retention(done));
        }
        if control.stop.load(Ordering::Relaxed) {
            note(Note::Info("stopping: committing what was read".into()));
            pipeline.finish(false, note)?;
            return Ok(());
        }
        if control.reload.swap(false, Ordering::Relaxed) {
            if let Some((tuning, services)) = reload() {
                pipeline.reload(tuning, services);
                note(Note::Info("settings and lists reloaded".into()));
            }
        }
        let now = Instant::now();
        if let Some((next, _)) = failing {
            if now < next {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        }
        let r = match pipeline.round(now, note) {
            Ok(r) => {
                if failing.take().is_some() {
                    note(Note::Info(
                        "the store takes writes again: the held batch is committed".into(),
                    ));
                }
                r
            }
            // `--once` (cron) gives up at once; the next run reads it again.
            Err(EngineError::Store(e)) if e.is_transient() && !opts.once => {
                let wait = failing.map_or(RETRY_FIRST, |(_, w)| (w * 2).min(RETRY_MAX));
                note(Note::Warn(format!(
                    "{e}; the batch is held (nothing is read meanwhile, no checkpoint moves) and tried again in {} s",
                    wait.as_secs()
                )));
                failing = Some((now + wait, wait));
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(m) = &pipeline.metrics {
            publisher.round(m, &pipeline.store, &r, Instant::now());
        }
        if r.events > 0 || r.replayed > 0 || r.reading {
            quiet_since = now;
        }
        if opts.once && (r.finished || now.duration_since(quiet_since) >= ONCE_QUIET) {
            pipeline.finish(true, note)?;
            return Ok(());
        }
        if r.finished && !opts.once {
            // Standard input closed: the input has ended, windows close as at the
            // end of a scan.
            note(Note::Info("every source has ended".into()));
            pipeline.finish(true, note)?;
            return Ok(());
        }
        if !r.reading {
            // Sleep in short steps so a signal is answered at once.
            let until = now + pipeline.poll_interval();
            while Instant::now() < until && !control.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20).min(pipeline.poll_interval()));
            }
        }
    }
}
