//! `keibi run`'s loop: live sources → time order → the scanner → the store, one
//! transaction per round.
//!
//! Each round polls every source, puts their events in time order ([`Orderer`]),
//! feeds what the orderer releases to the scanner ([`Scanner::observe_batch`]), and
//! commits in one [`Commit`] exactly: the finding changes of the events fed, and for
//! each file the checkpoint right after the last of its events fed.
//!
//! **Invariant: the stored checkpoints cover exactly the events whose changes are
//! stored.** Every event comes from its source with the checkpoint right after it
//! ([`keibi_ingest::Poll::marks`]), and a poll's end checkpoints after its events;
//! they wait in the source's queue, in the source's order. The orderer releases each
//! source's events in that order ([`Orderer::released_from`] counts them), so what is
//! fed of a source is the first events of its queue: each round takes as many
//! events' checkpoints from the front as were released (and a poll's end once all
//! its events are), and commits each file's last one with the changes of the same
//! events. An event held by the orderer when its poll's other events are fed
//! (source A read up to 10 s, source B only to 5 s) is thus neither covered nor
//! counted; one fed is both, so a SIGKILL at any moment leaves a store from which a
//! restart counts each event once.
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
//! Only the events within the scanner's replay horizon (the longest memory any
//! detector declares, [`Scanner::replay_horizon`]) before the latest event time fed
//! at the last commit (kept in each stored checkpoint) are fed again; the older are
//! dropped after parsing. A detector with unbounded memory (the built-in
//! SchemaEnumeration) makes every event fed again.
//!
//! The baselines' profiles are kept in the store too: loaded at start (a store
//! without any starts from what the scanner was given, a `--state` file), their
//! changes committed with every commit: by the invariant they hold exactly the
//! events the stored checkpoints cover. Events fed again before a checkpoint are
//! learned into a scratch store that is thrown away, so a restart never learns an
//! event twice. A batch the store refused for a reason that may pass (disk full) is
//! kept whole, changes, checkpoints and profiles, and sent again before anything
//! more is read, so the invariant holds for it too.
//!
//! What a restart still loses: windows spanning a file no followed path names any
//! more.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use keibi_detect::detectors::baseline::{BaselineStore, Profiles};
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
    /// Behavioural profiles read from the store at start, and how many of them could
    /// not be read (skipped).
    Profiles { loaded: u64, skipped: u64 },
    /// Anything else worth a line.
    Info(String),
    /// Something an operator must act on while the loop goes on (the store cannot
    /// be written: the batch is held and tried again).
    Warn(String),
}

/// A commit the store refused for a reason that may pass (disk full, busy): kept,
/// with the checkpoints it moves, and sent again before anything else is read.
type Unsent = (Commit, Vec<(String, u64, Checkpoint)>);
/// A file's checkpoint as the store keeps it: where to resume, and the latest event
/// time fed to the detectors when it was committed (absent in stores written before
/// it was kept: their files are read again whole).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredCheckpoint {
    #[serde(flatten)]
    cp: Checkpoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fed_until: Option<DateTime<Utc>>,
}

/// What a source handed out and the orderer has not all let out yet, in the
/// source's order: each event with the checkpoint right after it, and after a poll's
/// events the checkpoints of the poll's end.
enum Slot {
    Event(Option<Checkpoint>),
    End(Vec<Checkpoint>),
}

/// A source's slots not yet taken, and how many of its events were taken.
#[derive(Default)]
struct Queue {
    slots: VecDeque<Slot>,
    taken: u64,
}

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Events fed to the scanner.
    pub events: usize,
    /// Events read again before a resumed file's checkpoint (detectors only).
    pub replayed: usize,
    /// Events read again but older than any detector's memory reaches: not fed.
    pub skipped: usize,
    /// Finding changes committed.
    pub changes: usize,
    /// Whether something was committed.
    pub committed: bool,
    /// Some source has more waiting: poll again at once.
    pub reading: bool,
    /// Some source holds events it has read but not handed out yet (time order
    /// across its files, an entry that may go on): `--once` waits for them.
    pub pending: bool,
    /// Every source has ended (standard input closed).
    pub finished: bool,
}

/// The live loop's state (`keibi run`): sources, orderer, scanner and store. The
/// batch one of `keibi scan` and `keibi learn` is [`crate::pipeline::Pipeline`].
pub struct Live {
    sources: Vec<Box<dyn LiveSource>>,
    states: Vec<SourceState>,
    orderer: Orderer,
    scanner: Scanner,
    store: Store,
    tuning: Tuning,
    kinds: HashMap<(String, String), Vec<ActionKind>>,
    /// Latest stored position and checkpoint per store source.
    positions: HashMap<String, (u64, Checkpoint)>,
    /// Per source: the checkpoints of its events until the orderer lets them out.
    queues: Vec<Queue>,
    poll: Duration,
    /// What the loop publishes for `/metrics` and `/healthz`.
    metrics: Option<Shared>,
    unsent: Option<Unsent>,
    /// The profiles the baselines learn into (the scanner's services').
    profiles: BaselineStore,
    /// Where the events read again before a checkpoint are learned into, and
    /// forgotten: the stored profiles already hold them.
    scratch: BaselineStore,
    /// Every profile goes to the store at the next commit (they came from a
    /// `--state` file, not from the store).
    export_all: bool,
    /// The latest time of an event fed to the scanner (not read again).
    fed_until: Option<DateTime<Utc>>,
    /// Events read again that are older than this are not fed: the latest event
    /// time committed before the restart minus the scanner's replay horizon (`None`:
    /// every one is fed).
    replay_from: Option<DateTime<Utc>>,
    /// The push listeners' source and what stops them: at a stop they are stopped
    /// and what they queued is read before the last commit.
    listen: Option<(usize, crate::listen::Stopper)>,
    /// A worker's partition ([`Live::partition`]): every commit carries the
    /// partition lease's fence, and the profiles are the partition's only (their
    /// keys in the store start with this prefix).
    fence: Option<keibi_store::Fence>,
    profile_prefix: Option<String>,
}

/// Which partition [`Live::partition`] reads, and under which lease.
#[derive(Debug, Clone)]
pub struct PartitionPlan<'a> {
    pub stream: &'a str,
    pub partition: &'a str,
    /// What the partition's checkpoints are keyed by (`keibi_ingest::source_id`
    /// of `stream/partition`).
    pub fingerprint: keibi_ingest::Fingerprint,
    pub fence: keibi_store::Fence,
}

/// The store's name for a file's checkpoints.
fn source_key(cp: &Checkpoint) -> String {
    format!("file:{:016x}/{}", cp.fingerprint.hash, cp.fingerprint.len)
}

/// How a source's events are read (format, prefix, instance, time zone).
pub(crate) fn ingest_options(s: &crate::settings::Source) -> Result<IngestOptions, EngineError> {
    let what = || {
        s.target()
            .map(|t| match t {
                Target::Path(p) | Target::Dir(p) => p.display().to_string(),
                Target::Glob(g) => g.to_string(),
                Target::Stdin => "-".to_string(),
                Target::Url(u) => u.to_string(),
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

/// The hook that makes a live source of a `url` source (`s3://…`), given by the
/// binary (whose AWS edge reads it): the source, its read options and every stored
/// checkpoint (it takes its own). `Err` says why it cannot be read.
pub type MakeRemote<'a> = &'a dyn Fn(
    &crate::settings::Source,
    IngestOptions,
    &[Checkpoint],
) -> Result<Box<dyn LiveSource>, String>;

impl Live {
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
    ) -> Result<Live, EngineError> {
        Live::with_remote(settings, scanner, store, once, None, note)
    }

    /// [`Live::new`] with the hook that reads `url` sources (without it, such a
    /// source is an error).
    pub fn with_remote(
        settings: &Settings,
        scanner: Scanner,
        store: Store,
        once: bool,
        remote: Option<MakeRemote<'_>>,
        note: &mut dyn FnMut(Note),
    ) -> Result<Live, EngineError> {
        let mut positions = HashMap::new();
        // The latest event time fed before the restart, if every stored checkpoint
        // says (one that does not: no bound).
        let mut fed_before: Option<Option<DateTime<Utc>>> = None;
        for c in store.checkpoints()? {
            if !c.source.starts_with("file:") {
                continue;
            }
            // A checkpoint this version cannot read is left alone: its file is read
            // from the start, as a new one.
            if let Ok(s) = serde_json::from_slice::<StoredCheckpoint>(&c.data) {
                fed_before = Some(match (fed_before, s.fed_until) {
                    (None, t) => t,
                    (Some(Some(a)), Some(b)) => Some(a.max(b)),
                    _ => None,
                });
                positions.insert(c.source, (c.position, s.cp));
            }
        }
        note(Note::Resumed(positions.len()));
        // Events older than the detectors' longest memory before the latest one fed
        // cannot change what a later event raises: they need not be fed again.
        let replay_from = match (fed_before.flatten(), scanner.replay_horizon()) {
            (Some(t), Some(h)) => Some(t.checked_sub_signed(h).unwrap_or(DateTime::<Utc>::MIN_UTC)),
            _ => None,
        };
        // The store's profiles are where the baselines stood at the stored
        // checkpoints; without any, those already loaded (a `--state` file) are
        // the start, and go to the store with the first commit.
        let profiles = scanner.services().baselines.clone();
        let export_all = {
            let mut p = profiles.lock();
            let mut fresh = Profiles::new(p.max());
            let mut skipped = 0;
            let loaded = store.load_profiles(&mut |k, v| {
                if fresh.import(k, v).is_err() {
                    skipped += 1;
                }
            })?;
            note(Note::Profiles { loaded, skipped });
            if loaded > 0 {
                // Read back: nothing to write.
                fresh.export(false, |_, _| {});
                *p = fresh;
                false
            } else {
                !p.is_empty()
            }
        };
        let stored: Vec<Checkpoint> = positions.values().map(|(_, c)| c.clone()).collect();
        // Files' checkpoints to the followed files, object sources' to theirs.
        let resume: Vec<Checkpoint> = stored
            .iter()
            .filter(|c| c.after_key.is_none())
            .cloned()
            .collect();
        let remote_resume: Vec<Checkpoint> = stored
            .into_iter()
            .filter(|c| c.after_key.is_some())
            .collect();
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
                Some(Target::Url(u)) => {
                    let made = match remote {
                        Some(make) => make(s, ingest, &remote_resume),
                        None => Err("this keibi cannot read URLs (built without AWS)".into()),
                    };
                    let src = made.map_err(|reason| EngineError::Source {
                        what: u.to_string(),
                        reason,
                    })?;
                    note(Note::Following(u.to_string()));
                    sources.push(src);
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
        // The push listeners: one source reading what they all receive (no
        // checkpoints: a pushed record cannot be read again).
        let listen = crate::listen::ListenSource::start(
            &settings.listen,
            IngestOptions::default(),
            &mut |what| note(Note::Following(what)),
        )
        .map_err(|e| EngineError::Source {
            what: "listen".into(),
            reason: e.to_string(),
        })?;
        let listen = listen.map(|l| {
            let stop = l.stopper();
            sources.push(Box::new(l));
            orderer.add_source();
            (sources.len() - 1, stop)
        });
        if sources.is_empty() {
            return Err(EngineError::NoSources);
        }
        let scanner = scanner.forget_closed(true);
        let kinds = kinds_of(&scanner);
        Ok(Live {
            states: vec![SourceState::Reading; sources.len()],
            queues: (0..sources.len()).map(|_| Queue::default()).collect(),
            sources,
            orderer,
            scanner,
            store,
            tuning: settings.tuning.clone(),
            kinds,
            positions,
            poll: src.poll_interval.std(),
            metrics: None,
            unsent: None,
            profiles,
            scratch: BaselineStore::default(),
            export_all,
            fed_until: fed_before.flatten(),
            replay_from,
            listen,
            fence: None,
            profile_prefix: None,
        })
    }

    /// One partition of a stream as a worker owns it (issue 20, [`crate::worker`]):
    /// one source, `open`ed by the caller from where the partition's stored
    /// checkpoint says, the partition's profiles only (keys `p/<stream>/<partition>/`
    /// in the store), and `fence` on every commit so nothing is written once the
    /// lease is lost. `key` is the store's name for the partition's checkpoint (the
    /// fingerprint the source's checkpoints carry). `open` gets where to start and
    /// the stored position (records at or before it are the source's `replay`).
    pub fn partition(
        settings: &Settings,
        scanner: Scanner,
        store: Store,
        part: PartitionPlan<'_>,
        open: &mut dyn FnMut(
            keibi_ingest::StartAt,
            Option<keibi_ingest::Position>,
        ) -> Result<Box<dyn LiveSource>, String>,
        note: &mut dyn FnMut(Note),
    ) -> Result<Live, EngineError> {
        let key = format!(
            "file:{:016x}/{}",
            part.fingerprint.hash, part.fingerprint.len
        );
        let mut positions = HashMap::new();
        let mut fed_before = None;
        let mut resume = None;
        for c in store.checkpoints()? {
            if c.source != key {
                continue;
            }
            if let Ok(s) = serde_json::from_slice::<StoredCheckpoint>(&c.data) {
                fed_before = s.fed_until;
                resume = keibi_ingest::checkpoint_position(&s.cp);
                positions.insert(c.source, (c.position, s.cp));
            }
        }
        note(Note::Resumed(positions.len()));
        let horizon = scanner.replay_horizon();
        let replay_from = match (fed_before, horizon) {
            (Some(t), Some(h)) => Some(t.checked_sub_signed(h).unwrap_or(DateTime::<Utc>::MIN_UTC)),
            _ => None,
        };
        // Read again what the detectors' memory spans before the stored position
        // (records arrive after their events are written: every record with an
        // event at or after that time arrived at or after it); without a bound,
        // the partition from its oldest record.
        let start = match (&resume, replay_from) {
            (None, _) => keibi_ingest::StartAt::Oldest,
            (Some(p), _) if horizon.is_some_and(|h| h.is_zero()) => {
                keibi_ingest::StartAt::After(p.clone())
            }
            (Some(_), Some(t)) => keibi_ingest::StartAt::Time(t),
            (Some(_), None) => keibi_ingest::StartAt::Oldest,
        };
        let source = open(start, resume).map_err(|reason| EngineError::Source {
            what: format!("{}/{}", part.stream, part.partition),
            reason,
        })?;
        let prefix = format!("p/{}/{}/", part.stream, part.partition);
        let profiles = scanner.services().baselines.clone();
        {
            let mut p = profiles.lock();
            let mut fresh = Profiles::new(p.max());
            let mut skipped = 0;
            let loaded = store.load_profiles_prefixed(&prefix, &mut |k, v| {
                let k = k.strip_prefix(prefix.as_str()).unwrap_or(k);
                if fresh.import(k, v).is_err() {
                    skipped += 1;
                }
            })?;
            note(Note::Profiles { loaded, skipped });
            fresh.export(false, |_, _| {});
            *p = fresh;
        }
        let src = &settings.sources;
        let poll = src.poll_interval.std();
        let order = OrderOptions {
            lateness: chrono::TimeDelta::from_std(src.allowed_lateness.std())
                .unwrap_or(chrono::TimeDelta::zero()),
            idle: src
                .idle_timeout
                .std()
                .max(FollowOptions::default().flush_after + 2 * poll),
            ..OrderOptions::default()
        };
        let mut orderer = Orderer::new(order);
        orderer.add_source();
        note(Note::Following(format!(
            "{}/{}",
            part.stream, part.partition
        )));
        let scanner = scanner.forget_closed(true);
        let kinds = kinds_of(&scanner);
        Ok(Live {
            states: vec![SourceState::Reading],
            queues: vec![Queue::default()],
            sources: vec![source],
            orderer,
            scanner,
            store,
            tuning: settings.tuning.clone(),
            kinds,
            positions,
            poll,
            metrics: None,
            unsent: None,
            profiles,
            scratch: BaselineStore::default(),
            export_all: false,
            fed_until: fed_before,
            // Every record read again is fed: a partition carries several logs
            // (instances) whose event times interleave by arrival, so the latest
            // time fed (of one log) says nothing of how far back another log's
            // windows reach; skipping by it lost the start of a window in a
            // Kinesis takeover. The read itself starts by arrival time (above),
            // which bounds it.
            replay_from: None,
            listen: None,
            fence: Some(part.fence),
            profile_prefix: Some(prefix),
        })
    }

    /// Publishes what the loop reads and commits to `m` (made with
    /// [`metrics::source_labels`] of the same settings).
    pub fn with_metrics(mut self, m: Shared) -> Live {
        if let Some((_, stop)) = &self.listen {
            metrics::lock(&m).listen = Some(stop.counters());
        }
        self.metrics = Some(m);
        self
    }

    /// How long to wait between rounds when every source is caught up.
    pub fn poll_interval(&self) -> Duration {
        self.poll
    }

    /// A reload: new tuning and services (lists, lookups) from the next round on;
    /// detector state is kept.
    pub fn reload(&mut self, tuning: Tuning, mut services: Services) {
        self.tuning = tuning;
        // The profiles stay: they are the run's, not the settings file's.
        services.baselines = self.profiles.clone();
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
        let mut replay = Vec::new();
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
                // The stored profiles hold them too: what the baselines learn
                // from them goes to a scratch store, forgotten.
                if let Some(from) = self.replay_from {
                    let before = p.replay.len();
                    p.replay.retain(|e| e.time >= from);
                    round.skipped += before - p.replay.len();
                }
                round.replayed += p.replay.len();
                replay.append(&mut p.replay);
            }
            if let Some(q) = self.queues.get_mut(i) {
                let mut marks = std::mem::take(&mut p.marks).into_iter();
                for _ in &p.events {
                    q.slots.push_back(Slot::Event(marks.next().flatten()));
                }
                if !p.checkpoints.is_empty() {
                    q.slots
                        .push_back(Slot::End(std::mem::take(&mut p.checkpoints)));
                }
            }
            self.states[i] = p.state;
            round.pending |= p.pending;
            self.orderer.push(i, p.events, p.state, now, &mut released);
        }
        if !replay.is_empty() {
            // All sources' together, in time order: a detector pairing events of
            // two files (a MariaDB failure in its audit and error logs) rebuilds
            // what it held as it was.
            replay.sort_by_key(|e| e.time);
            use_profiles(&mut self.scanner, &self.scratch);
            let _ = self.scanner.observe_batch(&replay);
            use_profiles(&mut self.scanner, &self.profiles);
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
        let mut released = self.read_listened(note);
        self.orderer.drain(&mut released);
        self.detect_and_commit(released, end, &mut round, note)?;
        Ok(round)
    }

    /// At a stop: the listeners stop answering, and what they queued (and the
    /// entries their parsers hold) goes to the orderer, so a request answered 200
    /// before a SIGTERM is committed. A pushed record has no checkpoint: it is
    /// read now or never.
    fn read_listened(&mut self, note: &mut dyn FnMut(Note)) -> Vec<Event> {
        let mut released = Vec::new();
        let Some((i, stop)) = self.listen.take() else {
            return released;
        };
        stop.stop();
        // Far enough ahead that every held entry counts as idle.
        let later = Instant::now() + Duration::from_secs(3600);
        // Bounded by the inbox: each poll takes up to 1 MiB of it.
        for _ in 0..1024 {
            let Some(src) = self.sources.get_mut(i) else {
                break;
            };
            let p = src.poll(later);
            if let Some(m) = &self.metrics {
                metrics::lock(m).observe_poll(i, &p.events, &p.notices);
            }
            for n in &p.notices {
                note(Note::Source(n));
            }
            if let Some(q) = self.queues.get_mut(i) {
                for _ in &p.events {
                    q.slots.push_back(Slot::Event(None));
                }
            }
            let reading = p.state == SourceState::Reading;
            self.orderer
                .push(i, p.events, p.state, later, &mut released);
            if !reading && !p.pending {
                break;
            }
        }
        // What the orderer let out at once (late events) goes before the rest.
        released
    }

    fn detect_and_commit(
        &mut self,
        events: Vec<Event>,
        end: bool,
        round: &mut Round,
        note: &mut dyn FnMut(Note),
    ) -> Result<(), EngineError> {
        round.events = events.len();
        if let Some(t) = events.iter().map(|e| e.time).max() {
            self.fed_until = Some(self.fed_until.map_or(t, |f| f.max(t)));
        }
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
        // For each file, the checkpoint right after its last event fed (or its
        // poll's end once all the poll's events are fed): the orderer lets each
        // source's events out in the source's order, so what is fed of a source is
        // its first events, and their checkpoints are the first slots.
        let mut latest: HashMap<String, Checkpoint> = HashMap::new();
        for (i, q) in self.queues.iter_mut().enumerate() {
            let mut due = self.orderer.released_from(i).saturating_sub(q.taken);
            loop {
                let cps = match q.slots.front() {
                    Some(Slot::End(_)) => match q.slots.pop_front() {
                        Some(Slot::End(cps)) => cps,
                        _ => break,
                    },
                    Some(Slot::Event(_)) if due > 0 => {
                        due -= 1;
                        q.taken += 1;
                        match q.slots.pop_front() {
                            Some(Slot::Event(Some(cp))) => vec![cp],
                            _ => continue,
                        }
                    }
                    _ => break,
                };
                for cp in cps {
                    // In the source's order: a file's later checkpoint replaces its
                    // earlier.
                    latest.insert(source_key(&cp), cp);
                }
            }
        }
        let mut commit = Commit::new(at);
        // What the actors of these events did, for the timeline: committed with the
        // same checkpoints, so it is stored exactly when the changes are.
        for e in &events {
            commit.activity.add(e);
        }
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
            let data = serde_json::to_vec(&StoredCheckpoint {
                cp: cp.clone(),
                fed_until: self.fed_until,
            })
            .unwrap_or_default();
            commit.checkpoints.push(keibi_store::Checkpoint {
                source: key.clone(),
                position: position + 1,
                data,
            });
            moved.push((key, position + 1, cp));
        }
        // The profiles go with the checkpoints: they hold exactly the events those
        // cover (every event fed is covered, and none other), so a restart learns
        // nothing twice.
        {
            let mut p = self.profiles.lock();
            let all = std::mem::take(&mut self.export_all) || p.needs_rewrite();
            commit.profile_clear = all;
            let pre = self.profile_prefix.as_deref().unwrap_or("");
            let mut puts = Vec::new();
            commit.profile_deletes =
                p.export(all, |k, v| puts.push((format!("{pre}{k}"), v.to_vec())));
            if !pre.is_empty() {
                for k in &mut commit.profile_deletes {
                    k.insert_str(0, pre);
                }
            }
            commit.profile_puts = puts;
            commit.profile_prefix = self.profile_prefix.clone();
        }
        commit.fence = self.fence.clone();
        if changes.is_empty()
            && commit.activity.is_empty()
            && commit.checkpoints.is_empty()
            && commit.profile_puts.is_empty()
            && commit.profile_deletes.is_empty()
        {
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
        let stored: Vec<Checkpoint> = moved.iter().map(|(_, _, cp)| cp.clone()).collect();
        for (key, pos, cp) in moved {
            self.positions.insert(key, (pos, cp));
        }
        // Sources that acknowledge what they read (an SQS queue's messages) do it
        // only now that it is stored: a kill before this reads it again, after it
        // never.
        if !stored.is_empty() {
            for src in &mut self.sources {
                src.committed(&stored);
            }
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

/// Points the scanner's baselines at `profiles` (the scratch ones while events are
/// read again, then back at the run's).
fn use_profiles(scanner: &mut Scanner, profiles: &BaselineStore) {
    let mut sv = scanner.services().clone();
    sv.baselines = profiles.clone();
    scanner.set_services(sv);
}

/// How far a file's checkpoints have read it: they only grow in one reading of the
/// file (the restart offset, then the events emitted from it; the end last).
fn progress(cp: &Checkpoint) -> (Option<&str>, bool, u64, u64) {
    // An object source's checkpoints are all of whole objects (done, offset 0):
    // its progress is the key, which only grows.
    (cp.after_key.as_deref(), cp.done, cp.offset, cp.skip)
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
    pipeline: Live,
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
    mut pipeline: Live,
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
        if r.events > 0 || r.replayed > 0 || r.reading || r.pending {
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

#[cfg(test)]
#[path = "daemon_tests.rs"]
mod tests;
