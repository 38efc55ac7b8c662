//! `keibi run --worker` (issue 20): many processes, one guard. Workers share the
//! partitions of one stream ([`keibi_ingest::PartitionedStream`]: JetStream subject
//! partitions, Kinesis shards) and one store, through leases kept in the store
//! (`keibi_store::Store::claim`).
//!
//! A [`Worker`] is a coordinator, stepped every `renew_every` ([`Worker::tick`]):
//!
//! 1. heartbeat (the store counts the live workers);
//! 2. reap the partition pipelines that stopped, releasing their leases;
//! 3. renew every lease held in one transaction; a lost one (expired, taken) stops
//!    its pipeline **at once, without a commit** (`abort`): its new owner reads it
//!    again from the stored checkpoint;
//! 4. list the partitions; those whose stored checkpoint says ended are done, and a
//!    child partition (after a Kinesis reshard) is eligible only once every parent
//!    still listed is done;
//! 5. fair share = ceil(eligible / live workers): claim free or expired partitions
//!    up to it (each worker tries them in its own order, rendezvous hashing, so
//!    workers starting together spread at once), or ask the newest extra ones to
//!    stop: they commit what they read, and their lease is released after that
//!    last commit (a rebalance);
//! 6. the `_sender` lease: its holder runs what must run once (notifier, responder,
//!    retention, posture audit: [`Role`]); `_global`: the second stage's hook.
//!
//! Each owned partition runs a [`crate::daemon::Live`] ([`Live::partition`]) on a
//! thread of its own with its own store connection; every commit carries the
//! lease's fence, checked in the commit's transaction, so a worker cut off from the
//! store, or paused past its lease, writes nothing after another took over. A store
//! error that lasts longer than the lease's time to live stops the pipeline too.
//!
//! Restart and takeover are the daemon's warm replay: the new owner opens the
//! partition before the stored position, as far back as the detectors' memory
//! reaches ([`Live::partition`]), feeds the records up to the stored position to
//! the detectors only, and counts from there. Idempotent finding ids and the
//! store's replay rule do the rest: nothing is lost, nothing doubled.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use keibi_detect::Scanner;
use keibi_ingest::{
    IngestOptions, LiveSource, PartitionInfo, PartitionReader, PartitionSource, PartitionedStream,
    Position, StreamError,
};
use keibi_store::{FindingStore, Lease, Store, StoreError};

use crate::daemon::{EngineError, Live, Note, PartitionPlan};
use crate::metrics::{self, Shared};
use crate::settings::Settings;

/// The lease of the worker that sends notifications and runs responses, retention
/// and the posture audit.
pub const SENDER: &str = "_sender";
/// The lease of the worker that runs the second stage (detections across
/// partitions), through the hook given to [`Worker::with_global`].
pub const GLOBAL: &str = "_global";

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Unique among the workers (`worker.id`; default host name and process id).
    pub id: String,
    pub host: String,
    /// How long a lease holds without renewal (`worker.lease_ttl`, 10 s).
    pub lease_ttl: Duration,
    /// How often leases are renewed and partitions shared out
    /// (`worker.renew_every`, 3 s; well under `lease_ttl`).
    pub renew_every: Duration,
}

impl WorkerOptions {
    pub fn new(id: impl Into<String>) -> WorkerOptions {
        WorkerOptions {
            id: id.into(),
            host: String::new(),
            lease_ttl: Duration::from_secs(10),
            renew_every: Duration::from_secs(3),
        }
    }
}

/// The lease of a partition.
pub fn lease_name(stream: &str, partition: &str) -> String {
    format!("p/{stream}/{partition}")
}

/// The store's key of a partition's checkpoint (the daemon's for any source).
fn checkpoint_key(stream: &str, partition: &str) -> String {
    let f = keibi_ingest::partition_fingerprint(stream, partition);
    format!("file:{:016x}/{}", f.hash, f.len)
}

/// Why a partition's pipeline returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// Asked to stop: what it read is committed.
    Stopped,
    /// The partition ended (a closed Kinesis shard read to its end), committed.
    Ended,
    /// The store refused a commit: the lease had moved on. Nothing written.
    LeaseLost,
    /// Stopped at once without a commit (the lease was not renewed).
    Aborted,
    /// It could not start or go on (stream, store): tried again later.
    Failed(String),
}

/// Where a partition's pipeline stands, for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct PartStatus {
    /// Since when it has had more waiting without catching up (none: caught up).
    pub behind_since: Option<Instant>,
    pub rounds: u64,
    pub events: u64,
}

/// What a partition's pipeline is given: which partition, under which lease, and
/// the flags that stop it.
pub struct Job {
    pub stream: String,
    pub partition: String,
    pub lease: Lease,
    /// Stop after committing what was read (a rebalance, a shutdown).
    pub stop: Arc<AtomicBool>,
    /// Stop at once, committing nothing (the lease is lost).
    pub abort: Arc<AtomicBool>,
    pub status: Arc<Mutex<PartStatus>>,
}

/// Runs one partition until its job says stop (on a thread of the coordinator's).
pub type RunPartition = Arc<dyn Fn(Job) -> Exit + Send + Sync>;

/// Something run by the holder of a role lease (`_sender`, `_global`): stopped when
/// the lease is lost or the worker stops.
pub trait Role: Send {
    fn stop(self: Box<Self>);
}

/// Starts a role; `Err` says why it cannot (tried again at the next tick).
pub type StartRole = Box<dyn FnMut() -> Result<Box<dyn Role>, String> + Send>;

/// What the coordinator tells its operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerNote {
    Claimed {
        partition: String,
        epoch: i64,
    },
    /// Given up after its last commit (a rebalance or a stop).
    Released {
        partition: String,
    },
    /// Read to its end; its children can be read.
    Ended {
        partition: String,
    },
    /// A lease was not renewed in time or was taken: its work stopped at once.
    Lost {
        lease: String,
    },
    /// More partitions than the fair share: some are handed back.
    Rebalance {
        owned: usize,
        share: usize,
        workers: usize,
    },
    RoleStarted(String),
    RoleStopped(String),
    RoleFailed {
        role: String,
        reason: String,
    },
    PartitionFailed {
        partition: String,
        reason: String,
    },
    /// The store cannot be used (heartbeat, renewal): leases will expire.
    Store(String),
    /// The stream cannot be listed.
    Stream(String),
}

/// The worker's numbers for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct WorkerMetrics {
    pub id: String,
    pub partitions_owned: usize,
    /// Per owned partition: seconds since it was last caught up (0 while it is).
    pub lag_seconds: BTreeMap<String, f64>,
    pub rebalances: u64,
    pub leases_lost: u64,
    pub sender: bool,
    pub workers: usize,
}

struct Running {
    lease: Lease,
    stop: Arc<AtomicBool>,
    abort: Arc<AtomicBool>,
    status: Arc<Mutex<PartStatus>>,
    handle: JoinHandle<Exit>,
    claimed: Instant,
}

struct Held {
    lease: Lease,
    role: Box<dyn Role>,
}

/// The coordinator (see the module's documentation).
pub struct Worker {
    opts: WorkerOptions,
    store: Store,
    stream: Box<dyn PartitionedStream>,
    run: RunPartition,
    sender: Option<StartRole>,
    global: Option<StartRole>,
    roles: BTreeMap<&'static str, Held>,
    jobs: BTreeMap<String, Running>,
    started: DateTime<Utc>,
    /// When the last renewal that reached the store was sent.
    renewed: Instant,
    metrics: Option<Shared>,
    rebalances: u64,
    leases_lost: u64,
    workers: usize,
}

/// How a tick went (tests read it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tick {
    pub eligible: usize,
    pub workers: usize,
    pub share: usize,
    pub owned: Vec<String>,
}

impl Worker {
    pub fn new(
        opts: WorkerOptions,
        store: Store,
        stream: Box<dyn PartitionedStream>,
        run: RunPartition,
    ) -> Worker {
        Worker {
            opts,
            store,
            stream,
            run,
            sender: None,
            global: None,
            roles: BTreeMap::new(),
            jobs: BTreeMap::new(),
            started: Utc::now(),
            renewed: Instant::now(),
            metrics: None,
            rebalances: 0,
            leases_lost: 0,
            workers: 0,
        }
    }

    /// What the holder of `_sender` runs.
    pub fn with_sender(mut self, start: StartRole) -> Worker {
        self.sender = Some(start);
        self
    }

    /// The second stage's entry point: run by the one worker holding `_global`
    /// (started when the lease is won, stopped when it is lost or at a stop). The
    /// hook opens what it needs (its own store connection, the stream of finding
    /// changes) and returns a [`Role`].
    pub fn with_global(mut self, start: StartRole) -> Worker {
        self.global = Some(start);
        self
    }

    pub fn with_metrics(mut self, m: Shared) -> Worker {
        metrics::lock(&m).worker = Some(WorkerMetrics {
            id: self.opts.id.clone(),
            ..WorkerMetrics::default()
        });
        self.metrics = Some(m);
        self
    }

    pub fn id(&self) -> &str {
        &self.opts.id
    }

    /// The partitions whose pipelines run here now.
    pub fn owned(&self) -> Vec<String> {
        self.jobs.keys().cloned().collect()
    }

    /// A process killed (tests): pipelines stop without a commit, nothing is
    /// released, the heartbeat stops.
    #[cfg(test)]
    pub(crate) fn kill(self) {
        for r in self.jobs.values() {
            r.abort.store(true, Ordering::Relaxed);
        }
        for (_, r) in self.jobs {
            let _ = r.handle.join();
        }
        std::mem::forget(self.roles);
    }

    /// Whether this worker holds the `_sender` lease now.
    pub fn is_sender(&self) -> bool {
        self.roles.contains_key(SENDER)
    }

    /// One step of the coordinator (see the module's documentation).
    pub fn tick(&mut self, note: &mut dyn FnMut(WorkerNote)) -> Tick {
        let mut tick = Tick::default();
        let t0 = Instant::now();
        let ttl = self.opts.lease_ttl;
        if let Err(e) = self.store.heartbeat(
            &self.opts.id,
            &self.opts.host,
            std::process::id(),
            self.started,
        ) {
            self.store_failing(e, note);
            return tick;
        }
        self.reap(note);
        // Renew everything held, in one transaction.
        let mut names: Vec<String> = self.jobs.values().map(|r| r.lease.name.clone()).collect();
        names.extend(self.roles.keys().map(|r| r.to_string()));
        match self.store.renew(&self.opts.id, &names, ttl) {
            Ok(lost) => {
                self.renewed = t0;
                for name in lost {
                    self.lose(&name, note);
                }
            }
            Err(e) => {
                self.store_failing(e, note);
                return tick;
            }
        }
        self.roles_tick(note);
        let parts = match self.stream.partitions() {
            Ok(p) => p,
            Err(e) => {
                note(WorkerNote::Stream(e.to_string()));
                self.publish(&tick);
                return tick;
            }
        };
        let eligible = match self.eligible(&parts) {
            Ok(e) => e,
            Err(e) => {
                self.store_failing(e, note);
                return tick;
            }
        };
        let workers = match self.store.live_workers(ttl) {
            Ok(w) => w.len().max(1),
            Err(e) => {
                self.store_failing(e, note);
                return tick;
            }
        };
        let share = eligible.len().div_ceil(workers);
        tick.eligible = eligible.len();
        tick.workers = workers;
        tick.share = share;
        self.workers = workers;
        // Pipelines of partitions now ended are on their way out: not counted.
        let active: Vec<&String> = self
            .jobs
            .iter()
            .filter(|(p, r)| {
                !r.stop.load(Ordering::Relaxed) && eligible.iter().any(|e| e.id == **p)
            })
            .map(|(p, _)| p)
            .collect();
        if active.len() > share {
            // The newest claimed go back first.
            let mut by_age: Vec<(&String, Instant)> =
                active.iter().map(|p| (*p, self.jobs[*p].claimed)).collect();
            by_age.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
            let extra: Vec<String> = by_age
                .iter()
                .take(active.len() - share)
                .map(|(p, _)| (*p).clone())
                .collect();
            note(WorkerNote::Rebalance {
                owned: active.len(),
                share,
                workers,
            });
            self.rebalances += 1;
            for p in extra {
                if let Some(r) = self.jobs.get(&p) {
                    r.stop.store(true, Ordering::Relaxed);
                }
            }
        } else if active.len() < share {
            let mut want = share - active.len();
            let stream = self.stream.name().to_string();
            let mut order: Vec<&PartitionInfo> = eligible
                .iter()
                .filter(|p| !self.jobs.contains_key(&p.id))
                .collect();
            order.sort_by_key(|p| rendezvous(&self.opts.id, &p.id));
            let order: Vec<PartitionInfo> = order.into_iter().cloned().collect();
            for p in order {
                if want == 0 {
                    break;
                }
                let name = lease_name(&stream, &p.id);
                match self.store.claim(&name, &self.opts.id, ttl) {
                    Ok(Some(lease)) => {
                        note(WorkerNote::Claimed {
                            partition: p.id.clone(),
                            epoch: lease.epoch,
                        });
                        self.start_job(&stream, &p.id, lease);
                        want -= 1;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        self.store_failing(e, note);
                        break;
                    }
                }
            }
        }
        tick.owned = self.owned();
        self.publish(&tick);
        tick
    }

    /// The pipeline of `partition` on a thread of its own.
    fn start_job(&mut self, stream: &str, partition: &str, lease: Lease) {
        let stop = Arc::new(AtomicBool::new(false));
        let abort = Arc::new(AtomicBool::new(false));
        let status = Arc::new(Mutex::new(PartStatus::default()));
        let job = Job {
            stream: stream.to_string(),
            partition: partition.to_string(),
            lease: lease.clone(),
            stop: stop.clone(),
            abort: abort.clone(),
            status: status.clone(),
        };
        let run = self.run.clone();
        // Thread names: the id's plain characters only (a NUL would panic).
        let tname: String = partition
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(12)
            .collect();
        let handle = std::thread::Builder::new()
            .name(format!("keibi-p{tname}"))
            .spawn(move || run(job));
        match handle {
            Ok(handle) => {
                self.jobs.insert(
                    partition.to_string(),
                    Running {
                        lease,
                        stop,
                        abort,
                        status,
                        handle,
                        claimed: Instant::now(),
                    },
                );
            }
            Err(_) => {
                let _ = self.store.release(&lease.name, &self.opts.id);
            }
        }
    }

    /// Joins the pipelines that returned and releases their leases.
    fn reap(&mut self, note: &mut dyn FnMut(WorkerNote)) {
        let done: Vec<String> = self
            .jobs
            .iter()
            .filter(|(_, r)| r.handle.is_finished())
            .map(|(p, _)| p.clone())
            .collect();
        for p in done {
            let Some(r) = self.jobs.remove(&p) else {
                continue;
            };
            let exit = r
                .handle
                .join()
                .unwrap_or_else(|_| Exit::Failed("the partition's thread panicked".into()));
            match exit {
                Exit::Stopped => note(WorkerNote::Released {
                    partition: p.clone(),
                }),
                Exit::Ended => note(WorkerNote::Ended {
                    partition: p.clone(),
                }),
                Exit::LeaseLost | Exit::Aborted => {
                    if exit == Exit::LeaseLost {
                        self.leases_lost += 1;
                        note(WorkerNote::Lost {
                            lease: r.lease.name.clone(),
                        });
                    }
                }
                Exit::Failed(reason) => note(WorkerNote::PartitionFailed {
                    partition: p.clone(),
                    reason,
                }),
            }
            // A lost lease is not ours to release (a no-op then).
            let _ = self.store.release(&r.lease.name, &self.opts.id);
        }
    }

    /// A lease was not renewed: its work stops at once.
    fn lose(&mut self, name: &str, note: &mut dyn FnMut(WorkerNote)) {
        self.leases_lost += 1;
        note(WorkerNote::Lost {
            lease: name.to_string(),
        });
        if let Some(r) = self.jobs.values().find(|r| r.lease.name == name) {
            r.abort.store(true, Ordering::Relaxed);
        }
        let role = [SENDER, GLOBAL].into_iter().find(|r| *r == name);
        if let Some(role) = role {
            if let Some(h) = self.roles.remove(role) {
                h.role.stop();
                note(WorkerNote::RoleStopped(role.to_string()));
            }
        }
    }

    /// The store could not be reached: once the last renewal is older than the
    /// lease's time to live, every lease is gone and everything stops at once.
    fn store_failing(&mut self, e: StoreError, note: &mut dyn FnMut(WorkerNote)) {
        note(WorkerNote::Store(e.to_string()));
        if let Some(m) = &self.metrics {
            metrics::lock(m).store_error = Some(e.to_string());
        }
        if self.renewed.elapsed() < self.opts.lease_ttl {
            return;
        }
        let names: Vec<String> = self
            .jobs
            .values()
            .map(|r| r.lease.name.clone())
            .chain(self.roles.keys().map(|r| r.to_string()))
            .collect();
        for n in names {
            self.lose(&n, note);
        }
    }

    /// Claims and starts the roles not held.
    fn roles_tick(&mut self, note: &mut dyn FnMut(WorkerNote)) {
        for role in [SENDER, GLOBAL] {
            if self.roles.contains_key(role) {
                continue;
            }
            let start = match role {
                SENDER => self.sender.as_mut(),
                _ => self.global.as_mut(),
            };
            let Some(start) = start else {
                continue;
            };
            let lease = match self.store.claim(role, &self.opts.id, self.opts.lease_ttl) {
                Ok(Some(l)) => l,
                Ok(None) => continue,
                Err(e) => {
                    note(WorkerNote::Store(e.to_string()));
                    continue;
                }
            };
            match start() {
                Ok(r) => {
                    note(WorkerNote::RoleStarted(role.to_string()));
                    self.roles.insert(role, Held { lease, role: r });
                }
                Err(reason) => {
                    note(WorkerNote::RoleFailed {
                        role: role.to_string(),
                        reason,
                    });
                    let _ = self.store.release(role, &self.opts.id);
                }
            }
        }
    }

    /// Which partitions may be read: not ended, and every parent still listed
    /// ended.
    fn eligible(&self, parts: &[PartitionInfo]) -> Result<Vec<PartitionInfo>, StoreError> {
        let stream = self.stream.name();
        let keys: BTreeMap<String, &str> = parts
            .iter()
            .map(|p| (checkpoint_key(stream, &p.id), p.id.as_str()))
            .collect();
        let mut ended = BTreeSet::new();
        for c in self.store.checkpoints()? {
            let Some(id) = keys.get(&c.source) else {
                continue;
            };
            #[derive(serde::Deserialize)]
            struct Done {
                #[serde(default)]
                done: bool,
            }
            if serde_json::from_slice::<Done>(&c.data).is_ok_and(|d| d.done) {
                ended.insert(id.to_string());
            }
        }
        let listed: BTreeSet<&str> = parts.iter().map(|p| p.id.as_str()).collect();
        Ok(parts
            .iter()
            .filter(|p| !ended.contains(&p.id))
            .filter(|p| {
                p.parents
                    .iter()
                    .all(|q| ended.contains(q) || !listed.contains(q.as_str()))
            })
            .cloned()
            .collect())
    }

    fn publish(&self, tick: &Tick) {
        let Some(m) = &self.metrics else {
            return;
        };
        let now = Instant::now();
        let mut m = metrics::lock(m);
        m.last_round = Some(now);
        if self.renewed == now || self.renewed.elapsed() < self.opts.lease_ttl {
            m.store_error = None;
        }
        let lag = self
            .jobs
            .iter()
            .map(|(p, r)| {
                let s = r.status.lock().unwrap_or_else(|e| e.into_inner());
                let secs = s
                    .behind_since
                    .map_or(0.0, |t| now.saturating_duration_since(t).as_secs_f64());
                (p.clone(), secs)
            })
            .collect();
        m.worker = Some(WorkerMetrics {
            id: self.opts.id.clone(),
            partitions_owned: self.jobs.len(),
            lag_seconds: lag,
            rebalances: self.rebalances,
            leases_lost: self.leases_lost,
            sender: self.is_sender(),
            workers: tick.workers.max(self.workers),
        });
    }

    /// Steps the coordinator every `renew_every` until `stop`; then every
    /// pipeline commits what it read and every lease is released.
    pub fn run(mut self, stop: &AtomicBool, note: &mut dyn FnMut(WorkerNote)) {
        // Counted first, then one renewal of waiting before the first claim:
        // workers started together see each other, so the first of them does not
        // take every partition of a backlog (measured: it made nearly every
        // commit while the others idled until a rebalance).
        let _ = self.store.heartbeat(
            &self.opts.id,
            &self.opts.host,
            std::process::id(),
            self.started,
        );
        let until = Instant::now() + self.opts.renew_every;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
        }
        while !stop.load(Ordering::Relaxed) {
            self.tick(note);
            let until = Instant::now() + self.opts.renew_every;
            while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
                // A pipeline that ended or failed is replaced without waiting.
                if self.jobs.values().any(|r| r.handle.is_finished()) {
                    break;
                }
            }
        }
        self.shutdown(note);
    }

    /// Stops everything: pipelines commit, leases are released, the worker is no
    /// longer counted.
    pub fn shutdown(mut self, note: &mut dyn FnMut(WorkerNote)) {
        for r in self.jobs.values() {
            r.stop.store(true, Ordering::Relaxed);
        }
        // Renew while the pipelines finish, so their last commit holds.
        while self.jobs.values().any(|r| !r.handle.is_finished()) {
            let names: Vec<String> = self.jobs.values().map(|r| r.lease.name.clone()).collect();
            if let Ok(lost) = self.store.renew(&self.opts.id, &names, self.opts.lease_ttl) {
                for n in lost {
                    self.lose(&n, note);
                }
            }
            let until = Instant::now() + self.opts.renew_every;
            while Instant::now() < until && self.jobs.values().any(|r| !r.handle.is_finished()) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.reap(note);
        let roles = std::mem::take(&mut self.roles);
        for (name, h) in roles {
            h.role.stop();
            note(WorkerNote::RoleStopped(name.to_string()));
            let _ = self.store.release(name, &self.opts.id);
            let _ = h.lease;
        }
        let _ = self.store.forget_worker(&self.opts.id);
    }
}

/// A worker's preference for a partition: each worker tries the partitions in its
/// own order, so workers claiming at the same moment mostly want different ones.
fn rendezvous(worker: &str, partition: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (worker, partition).hash(&mut h);
    h.finish()
}

/// Makes the stream client (one per pipeline and one for the coordinator): given
/// by the binary, whose edges know NATS and AWS.
pub type MakeStream =
    Arc<dyn Fn() -> Result<Box<dyn PartitionedStream>, StreamError> + Send + Sync>;

/// Makes the live source of one partition over its reader: stream name, partition,
/// reader, and the stored position (records at or before it are replay).
pub type MakeSource = Arc<
    dyn Fn(&str, &str, Box<dyn PartitionReader>, Option<Position>) -> Box<dyn LiveSource>
        + Send
        + Sync,
>;

/// The usual [`MakeSource`]: keibi-ingest's [`PartitionSource`], reading records
/// as `ingest` says (the `stream` section's format, instance...).
pub fn partition_source(ingest: IngestOptions) -> MakeSource {
    Arc::new(move |stream, partition, reader, resume| {
        Box::new(PartitionSource::new(
            stream,
            partition,
            reader,
            ingest.clone(),
            resume,
        ))
    })
}

/// How the `stream` section says raw records are read.
pub fn stream_ingest(s: &crate::settings::Stream) -> Result<IngestOptions, EngineError> {
    let source = crate::settings::Source {
        format: s.format.clone(),
        instance: s.instance.clone(),
        pg_prefix: s.pg_prefix.clone(),
        log_timezone: s.log_timezone.clone(),
        ..crate::settings::Source::default()
    };
    crate::daemon::ingest_options(&source)
}

/// Makes a partition's scanner (each has its own detectors and profiles).
pub type MakeScanner = Arc<dyn Fn() -> Result<Scanner, String> + Send + Sync>;

/// The loop's notes, shared by the partitions' threads.
pub type SharedNote = Arc<Mutex<dyn FnMut(Note) + Send>>;

/// The production [`RunPartition`]: opens the store, the stream and the scanner,
/// builds [`Live::partition`] and drives it ([`drive`]).
pub struct Partitions {
    pub settings: Arc<Settings>,
    pub store: PathBuf,
    pub stream: MakeStream,
    pub source: MakeSource,
    pub scanner: MakeScanner,
    pub lease_ttl: Duration,
    pub note: SharedNote,
    pub metrics: Option<Shared>,
}

impl Partitions {
    pub fn runner(self) -> RunPartition {
        let me = Arc::new(self);
        Arc::new(move |job| me.run(job))
    }

    fn run(&self, job: Job) -> Exit {
        let note = self.note.clone();
        let mut say = move |n: Note| {
            let mut f = note.lock().unwrap_or_else(|e| e.into_inner());
            f(n)
        };
        let store = match Store::open(&self.store) {
            Ok(s) => s,
            Err(e) => return Exit::Failed(e.to_string()),
        };
        let scanner = match (self.scanner)() {
            Ok(s) => s,
            Err(e) => return Exit::Failed(e),
        };
        let mut stream = match (self.stream)() {
            Ok(s) => s,
            Err(e) => return Exit::Failed(e.to_string()),
        };
        let plan = PartitionPlan {
            stream: &job.stream,
            partition: &job.partition,
            fingerprint: keibi_ingest::partition_fingerprint(&job.stream, &job.partition),
            fence: job.lease.fence(),
        };
        let make = self.source.clone();
        let live = Live::partition(
            &self.settings,
            scanner,
            store,
            plan,
            &mut |start, resume| {
                let reader = stream
                    .open(&job.partition, &start)
                    .map_err(|e| e.to_string())?;
                Ok(make(&job.stream, &job.partition, reader, resume))
            },
            &mut say,
        );
        match live {
            Ok(live) => drive(live, &job, self.lease_ttl, self.metrics.as_ref(), &mut say),
            Err(e) => exit_of(e),
        }
    }
}

fn exit_of(e: EngineError) -> Exit {
    match e {
        EngineError::Store(StoreError::LeaseLost { .. }) => Exit::LeaseLost,
        e => Exit::Failed(e.to_string()),
    }
}

/// Drives one partition's pipeline until its job stops it, the partition ends, the
/// lease is lost, or the store fails for longer than `ttl`.
pub fn drive(
    mut live: Live,
    job: &Job,
    ttl: Duration,
    metrics: Option<&Shared>,
    note: &mut dyn FnMut(Note),
) -> Exit {
    // While the store refuses a batch for a reason that may pass: since when, the
    // next try and the wait before it.
    let mut failing: Option<(Instant, Instant, Duration)> = None;
    loop {
        if job.abort.load(Ordering::Relaxed) {
            return Exit::Aborted;
        }
        if job.stop.load(Ordering::Relaxed) {
            return match live.finish(false, note) {
                Ok(_) => Exit::Stopped,
                Err(e) => exit_of(e),
            };
        }
        let now = Instant::now();
        if let Some((_, next, _)) = failing {
            if now < next {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        }
        let r = match live.round(now, note) {
            Ok(r) => {
                failing = None;
                r
            }
            Err(EngineError::Store(e)) if e.is_transient() => {
                let since = failing.map_or(now, |(s, _, _)| s);
                if now.saturating_duration_since(since) > ttl {
                    return Exit::Failed(format!(
                        "{e} (for longer than the lease's {} s)",
                        ttl.as_secs()
                    ));
                }
                let wait = failing.map_or(Duration::from_millis(500), |(_, _, w)| {
                    (w * 2).min(Duration::from_secs(5))
                });
                note(Note::Warn(format!(
                    "{e}; the batch is held (nothing is read meanwhile, no checkpoint moves) and tried again in {} s",
                    wait.as_secs()
                )));
                failing = Some((since, now + wait, wait));
                continue;
            }
            Err(e) => return exit_of(e),
        };
        {
            let mut s = job.status.lock().unwrap_or_else(|e| e.into_inner());
            s.rounds += 1;
            s.events += r.events as u64;
            if r.reading {
                s.behind_since.get_or_insert(now);
            } else {
                s.behind_since = None;
            }
        }
        if let Some(m) = metrics {
            let mut m = metrics::lock(m);
            m.rounds += 1;
            m.last_round = Some(Instant::now());
            if r.committed {
                m.commits += 1;
                m.last_commit = Some(Utc::now());
            }
        }
        if r.finished {
            return match live.finish(false, note) {
                Ok(_) => Exit::Ended,
                Err(e) => exit_of(e),
            };
        }
        if !r.reading {
            let until = now + live.poll_interval();
            while Instant::now() < until
                && !job.stop.load(Ordering::Relaxed)
                && !job.abort.load(Ordering::Relaxed)
            {
                std::thread::sleep(Duration::from_millis(20).min(live.poll_interval()));
            }
        }
    }
}

#[cfg(test)]
#[path = "worker_tests.rs"]
mod tests;
