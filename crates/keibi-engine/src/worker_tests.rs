//! The coordinator with a stream double and pipelines that only wait for their
//! flags: shares, takeovers, rebalances, parents before children, the sender role.

use std::sync::atomic::AtomicUsize;

use super::*;
use keibi_ingest::StartAt;
use keibi_store::{Checkpoint, Commit};

/// Partitions as a test sets them; never read.
struct Listed {
    name: String,
    parts: Arc<Mutex<Vec<PartitionInfo>>>,
}

impl PartitionedStream for Listed {
    fn name(&self) -> &str {
        &self.name
    }
    fn partitions(&mut self) -> Result<Vec<PartitionInfo>, StreamError> {
        Ok(self.parts.lock().unwrap().clone())
    }
    fn open(
        &mut self,
        _partition: &str,
        _from: &StartAt,
    ) -> Result<Box<dyn PartitionReader>, StreamError> {
        Err(StreamError {
            stream: self.name.clone(),
            reason: "not readable".into(),
        })
    }
}

fn part(id: &str, parents: &[&str]) -> PartitionInfo {
    PartitionInfo {
        id: id.into(),
        parents: parents.iter().map(|p| p.to_string()).collect(),
        closed: false,
    }
}

/// Every start of a pipeline: (worker, partition, epoch).
type Starts = Arc<Mutex<Vec<(String, String, i64)>>>;

/// A pipeline that waits for its flags; `dead` stands for its process killed
/// (the thread returns without a word).
fn waiting(worker: &str, starts: Starts, dead: Arc<AtomicBool>) -> RunPartition {
    let worker = worker.to_string();
    Arc::new(move |job: Job| {
        starts
            .lock()
            .unwrap()
            .push((worker.clone(), job.partition.clone(), job.lease.epoch));
        loop {
            if dead.load(Ordering::Relaxed) || job.abort.load(Ordering::Relaxed) {
                return Exit::Aborted;
            }
            if job.stop.load(Ordering::Relaxed) {
                return Exit::Stopped;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    })
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    parts: Arc<Mutex<Vec<PartitionInfo>>>,
    starts: Starts,
}

const TTL: Duration = Duration::from_millis(1500);

fn fixture(n: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    drop(Store::open(&path).unwrap());
    Fixture {
        path,
        _dir: dir,
        parts: Arc::new(Mutex::new(
            (0..n).map(|i| part(&i.to_string(), &[])).collect(),
        )),
        starts: Arc::default(),
    }
}

impl Fixture {
    fn worker(&self, id: &str, dead: Arc<AtomicBool>) -> Worker {
        let mut o = WorkerOptions::new(id);
        o.lease_ttl = TTL;
        Worker::new(
            o,
            Store::open(&self.path).unwrap(),
            Box::new(Listed {
                name: "s".into(),
                parts: self.parts.clone(),
            }),
            waiting(id, self.starts.clone(), dead),
        )
    }
}

fn tick(w: &mut Worker) -> Tick {
    w.tick(&mut |_| {})
}

/// Ticks every worker until none changes what it owns (threads stop between).
fn settle(ws: &mut [&mut Worker]) {
    for _ in 0..20 {
        let before: Vec<Vec<String>> = ws.iter().map(|w| w.owned()).collect();
        for w in ws.iter_mut() {
            tick(w);
        }
        std::thread::sleep(Duration::from_millis(30));
        for w in ws.iter_mut() {
            tick(w);
        }
        let after: Vec<Vec<String>> = ws.iter().map(|w| w.owned()).collect();
        if before == after {
            return;
        }
    }
    panic!("the workers did not settle");
}

fn disjoint_cover(ws: &[&Worker], n: usize) {
    let mut all: Vec<String> = ws.iter().flat_map(|w| w.owned()).collect();
    all.sort();
    let mut want: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    want.sort();
    assert_eq!(all, want, "each partition owned exactly once");
}

#[test]
fn fair_shares_as_workers_come_and_one_dies() {
    let f = fixture(6);
    let alive = || Arc::new(AtomicBool::new(false));
    let mut w1 = f.worker("w1", alive());
    let t = tick(&mut w1);
    assert_eq!((t.eligible, t.workers, t.share), (6, 1, 6));
    assert_eq!(w1.owned().len(), 6);
    // Two more: w1 hands back the four it claimed last, after their last commit.
    let mut w2 = f.worker("w2", alive());
    let dead3 = alive();
    let mut w3 = f.worker("w3", dead3.clone());
    assert!(tick(&mut w2).owned.is_empty());
    let t = tick(&mut w3);
    assert_eq!((t.workers, t.share), (3, 2));
    assert!(t.owned.is_empty(), "every partition is still w1's");
    settle(&mut [&mut w1, &mut w2, &mut w3]);
    for w in [&w1, &w2, &w3] {
        assert_eq!(w.owned().len(), 2, "{} owns {:?}", w.id(), w.owned());
    }
    disjoint_cover(&[&w1, &w2, &w3], 6);
    assert!(w1.rebalances >= 1);
    // w3 dies (no more ticks, no release): its leases expire by the store's clock
    // and the two others take them over at the next epoch.
    let orphans = w3.owned();
    dead3.store(true, Ordering::Relaxed);
    std::mem::forget(w3);
    std::thread::sleep(TTL + Duration::from_millis(200));
    settle(&mut [&mut w1, &mut w2]);
    assert_eq!(w1.owned().len(), 3);
    assert_eq!(w2.owned().len(), 3);
    disjoint_cover(&[&w1, &w2], 6);
    let starts = f.starts.lock().unwrap().clone();
    for p in orphans {
        let last = starts.iter().rev().find(|(_, q, _)| *q == p).unwrap();
        assert_ne!(last.0, "w3");
        let w3s = starts
            .iter()
            .find(|(w, q, _)| w == "w3" && *q == p)
            .unwrap();
        assert!(
            last.2 > w3s.2,
            "a takeover bumps the epoch: {last:?} after {w3s:?}"
        );
    }
    // A clean stop releases everything at once (no waiting for expiry).
    w2.shutdown(&mut |_| {});
    let t = tick(&mut w1);
    assert_eq!(t.workers, 1);
    assert_eq!(w1.owned().len(), 6);
}

#[test]
fn a_lost_renewal_aborts_the_pipeline() {
    let f = fixture(1);
    let mut w1 = f.worker("w1", Arc::new(AtomicBool::new(false)));
    tick(&mut w1);
    assert_eq!(w1.owned(), ["0"]);
    // Paused past its lease (a long GC, a frozen VM): another worker took it.
    std::thread::sleep(TTL + Duration::from_millis(100));
    let mut store = Store::open(&f.path).unwrap();
    let l = store.claim("p/s/0", "w2", TTL).unwrap().unwrap();
    assert_eq!(l.epoch, 2);
    let mut notes = Vec::new();
    w1.tick(&mut |n| notes.push(n));
    assert!(notes.contains(&WorkerNote::Lost {
        lease: "p/s/0".into()
    }));
    assert_eq!(w1.leases_lost, 1);
    std::thread::sleep(Duration::from_millis(50));
    tick(&mut w1);
    assert!(w1.owned().is_empty(), "the lease is w2's");
}

#[test]
fn children_wait_for_every_parent_to_end() {
    let f = fixture(0);
    *f.parts.lock().unwrap() = vec![
        part("a", &[]),
        part("b", &[]),
        part("c", &["a", "b"]),
        // A parent the service no longer lists does not hold its child back.
        part("d", &["gone"]),
    ];
    let mut w = f.worker("w1", Arc::new(AtomicBool::new(false)));
    let t = tick(&mut w);
    assert_eq!(t.eligible, 3);
    assert_eq!(w.owned(), ["a", "b", "d"]);
    let mut store = Store::open(&f.path).unwrap();
    let done = |p: &str, done: bool| Checkpoint {
        source: checkpoint_key("s", p),
        position: 1,
        data: format!(r#"{{"done":{done},"offset":0}}"#).into_bytes(),
    };
    // `a` ended, `b` has not: `c` waits.
    let mut c = Commit::new(Utc::now());
    c.checkpoints.push(done("a", true));
    c.checkpoints.push(done("b", false));
    store.commit(&c).unwrap();
    let t = tick(&mut w);
    assert_eq!(t.eligible, 2);
    assert!(!w.owned().contains(&"c".to_string()));
    let mut c = Commit::new(Utc::now());
    c.checkpoints.push(Checkpoint {
        position: 2,
        ..done("b", true)
    });
    store.commit(&c).unwrap();
    let t = tick(&mut w);
    assert_eq!(t.eligible, 2, "c and d");
    assert!(w.owned().contains(&"c".to_string()));
}

struct Flag(Arc<AtomicUsize>);
impl Role for Flag {
    fn stop(self: Box<Self>) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn one_sender_among_workers_and_it_moves_when_its_holder_stops() {
    let f = fixture(2);
    let running = Arc::new(AtomicUsize::new(0));
    let sender = |r: Arc<AtomicUsize>| -> StartRole {
        Box::new(move || {
            r.fetch_add(1, Ordering::SeqCst);
            Ok(Box::new(Flag(r.clone())) as Box<dyn Role>)
        })
    };
    let mut w1 = f
        .worker("w1", Arc::new(AtomicBool::new(false)))
        .with_sender(sender(running.clone()));
    let mut w2 = f
        .worker("w2", Arc::new(AtomicBool::new(false)))
        .with_sender(sender(running.clone()));
    tick(&mut w1);
    tick(&mut w2);
    tick(&mut w1);
    assert_eq!(running.load(Ordering::SeqCst), 1);
    assert!(w1.is_sender() && !w2.is_sender());
    w1.shutdown(&mut |_| {});
    assert_eq!(running.load(Ordering::SeqCst), 0);
    tick(&mut w2);
    assert!(w2.is_sender());
    assert_eq!(running.load(Ordering::SeqCst), 1);
}

// ---- Real pipelines over an in-memory stream ----

use keibi_detect::detectors::login::SourceDetector;
use keibi_detect::{Config, ThreatLists};
use keibi_ingest::MemoryStream;

const INSTANCES: [&str; 3] = ["db-a", "db-b", "db-c"];

/// Per instance: failed logins one a minute from addresses that never repeat for
/// three hours, and a brute force of 30 failures from one address from 02:50 (a
/// different address per instance), in time order: (event time, line).
fn brute_force(i: usize) -> Vec<(DateTime<Utc>, String)> {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let at = |s: u32| {
        day.and_hms_opt(s / 3600, (s / 60) % 60, s % 60)
            .unwrap()
            .and_utc()
    };
    let mut v = Vec::new();
    for m in 0..180u32 {
        let t = at(m * 60);
        v.push((
            t,
            format!(
                "{} UTC:198.51.{i}.{}(40000):app@shop:[{}]:FATAL:  password authentication failed for user \"app\"\n",
                t.format("%Y-%m-%d %H:%M:%S"),
                m % 250,
                1000 + m
            ),
        ));
    }
    for k in 0..30u32 {
        let t = at(2 * 3600 + 50 * 60 + k * 10);
        v.push((
            t,
            format!(
                "{} UTC:203.0.113.{}(5{k:04}):app@shop:[{}]:FATAL:  password authentication failed for user \"app\"\n",
                t.format("%Y-%m-%d %H:%M:%S"),
                10 + i,
                5000 + k
            ),
        ));
    }
    v.sort();
    v
}

fn scanner() -> Result<Scanner, String> {
    let config = Config::default();
    let d: Vec<Box<dyn keibi_detect::Detector>> =
        vec![Box::new(SourceDetector::new(&config.login))];
    Ok(Scanner::with_detectors(config, ThreatLists::default(), d))
}

fn real_worker(id: &str, store: &std::path::Path, stream: &MemoryStream) -> Worker {
    let mut o = WorkerOptions::new(id);
    o.lease_ttl = TTL;
    let settings = Settings::default();
    let s = stream.clone();
    let runner = Partitions {
        settings: Arc::new(settings),
        store: store.to_path_buf(),
        stream: Arc::new(move || Ok(Box::new(s.clone()) as Box<dyn PartitionedStream>)),
        source: partition_source(IngestOptions::default()),
        scanner: Arc::new(scanner),
        lease_ttl: TTL,
        note: Arc::new(Mutex::new(|_n: Note| {})),
        metrics: None,
    }
    .runner();
    Worker::new(
        o,
        Store::open(store).unwrap(),
        Box::new(stream.clone()),
        runner,
    )
}

/// Each partition's stored position (`None`: no checkpoint yet).
fn positions(store: &std::path::Path) -> BTreeMap<String, Option<keibi_ingest::Position>> {
    let s = Store::open(store).unwrap();
    let cps = s.checkpoints().unwrap();
    (0..INSTANCES.len())
        .map(|p| {
            let key = checkpoint_key("memory:t", &p.to_string());
            let pos = cps.iter().find(|c| c.source == key).and_then(|c| {
                let v: serde_json::Value = serde_json::from_slice(&c.data).ok()?;
                v["after_key"].as_str()?.parse().ok()
            });
            (p.to_string(), pos)
        })
        .collect()
}

/// Ticks the workers until every partition's stored position is `want`'s.
fn until_read(
    ws: &mut [&mut Worker],
    store: &std::path::Path,
    want: &BTreeMap<String, Option<keibi_ingest::Position>>,
) {
    let t = Instant::now();
    while positions(store) != *want {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "stuck at {:?}, want {want:?}",
            positions(store)
        );
        for w in ws.iter_mut() {
            tick(w);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every stored finding: type, count, first and last seen, by id.
fn stored(store: &std::path::Path) -> BTreeMap<String, (String, u64, String, String)> {
    let s = Store::open_read_only(store).unwrap();
    let q = keibi_store::Query {
        statuses: keibi_store::Status::ALL.to_vec(),
        ..keibi_store::Query::default()
    };
    s.findings(&q)
        .unwrap()
        .into_iter()
        .map(|f| {
            let f = f.finding;
            (
                f.id,
                (
                    f.finding_type,
                    f.count,
                    f.first_seen.to_rfc3339(),
                    f.last_seen.to_rfc3339(),
                ),
            )
        })
        .collect()
}

/// Pushes records `from..to` of every instance (instance i into partition i, one
/// line a record, arriving at its event time).
fn push(
    stream: &MemoryStream,
    logs: &[Vec<(DateTime<Utc>, String)>],
    from: usize,
    to: usize,
) -> BTreeMap<String, Option<keibi_ingest::Position>> {
    let mut last = BTreeMap::new();
    for (i, lines) in logs.iter().enumerate() {
        let mut pos = None;
        for (t, l) in &lines[from.min(lines.len())..to.min(lines.len())] {
            pos = Some(stream.push(
                &i.to_string(),
                &format!("{}.postgresql", INSTANCES[i]),
                l.as_bytes(),
                *t,
            ));
        }
        last.insert(i.to_string(), pos);
    }
    last
}

/// Three workers share three partitions; one is killed (no last commit, no
/// release) in the middle of the brute forces, a fourth starts later: the store
/// ends with what one worker reading everything without a stop stores: same ids,
/// counts, first and last seen.
#[test]
fn a_worker_killed_mid_stream_loses_and_doubles_nothing() {
    let logs: Vec<_> = (0..INSTANCES.len()).map(brute_force).collect();
    let cut = logs[0]
        .iter()
        .position(|(t, _)| t.format("%H:%M:%S").to_string().as_str() >= "02:53:00")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // One worker, no stop.
    let one = dir.path().join("one.db");
    drop(Store::open(&one).unwrap());
    let stream = MemoryStream::new("memory:t");
    for p in 0..INSTANCES.len() {
        stream.add_partition(&p.to_string(), &[]);
    }
    let end = push(&stream, &logs, 0, usize::MAX);
    let mut w = real_worker("solo", &one, &stream);
    until_read(&mut [&mut w], &one, &end);
    w.shutdown(&mut |_| {});
    let want = stored(&one);
    let brute: Vec<_> = want
        .values()
        .filter(|(t, n, ..)| t == "CredentialAccess:RDS/BruteForce" && *n >= 20)
        .collect();
    assert_eq!(brute.len(), INSTANCES.len(), "{want:?}");

    // Three workers; the first part of the stream; one killed; the rest; a fourth.
    let shared = dir.path().join("shared.db");
    drop(Store::open(&shared).unwrap());
    let stream = MemoryStream::new("memory:t");
    for p in 0..INSTANCES.len() {
        stream.add_partition(&p.to_string(), &[]);
    }
    let mid = push(&stream, &logs, 0, cut);
    let mut w1 = real_worker("w1", &shared, &stream);
    let mut w2 = real_worker("w2", &shared, &stream);
    let mut w3 = real_worker("w3", &shared, &stream);
    until_read(&mut [&mut w1, &mut w2, &mut w3], &shared, &mid);
    settle_real(&mut [&mut w1, &mut w2, &mut w3]);
    let victim = [&w1, &w2, &w3]
        .into_iter()
        .position(|w| !w.owned().is_empty())
        .unwrap();
    let (mut a, mut b, dead) = match victim {
        0 => (w2, w3, w1),
        1 => (w1, w3, w2),
        _ => (w1, w2, w3),
    };
    assert!(!dead.owned().is_empty());
    dead.kill();
    let end = push(&stream, &logs, cut, usize::MAX);
    std::thread::sleep(Duration::from_millis(300));
    let mut w4 = real_worker("w4", &shared, &stream);
    until_read(&mut [&mut a, &mut b, &mut w4], &shared, &end);
    for w in [a, b, w4] {
        w.shutdown(&mut |_| {});
    }
    assert_eq!(stored(&shared), want);
}

/// Ticks until every partition has an owner and none changes hands.
fn settle_real(ws: &mut [&mut Worker]) {
    for _ in 0..50 {
        let before: Vec<Vec<String>> = ws.iter().map(|w| w.owned()).collect();
        for w in ws.iter_mut() {
            tick(w);
        }
        std::thread::sleep(Duration::from_millis(100));
        let after: Vec<Vec<String>> = ws.iter().map(|w| w.owned()).collect();
        if before == after && after.iter().map(Vec::len).sum::<usize>() == INSTANCES.len() {
            return;
        }
    }
    panic!("the workers did not settle");
}

/// A pipeline whose lease was taken while it went on reading (its coordinator
/// paused, cut off): its next commit is refused by the fence, it returns
/// `LeaseLost`, and the store keeps the position the new owner will read from.
#[test]
fn a_pipeline_whose_lease_was_taken_commits_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let mut store = Store::open(&path).unwrap();
    let stream = MemoryStream::new("memory:t");
    stream.add_partition("0", &[]);
    let logs = brute_force(0);
    for (t, l) in &logs[..100] {
        stream.push("0", "db-a.postgresql", l.as_bytes(), *t);
    }
    let ttl = Duration::from_millis(1200);
    let lease = store.claim("p/memory:t/0", "w1", ttl).unwrap().unwrap();
    let s = stream.clone();
    let runner = Partitions {
        settings: Arc::new(Settings::default()),
        store: path.clone(),
        stream: Arc::new(move || Ok(Box::new(s.clone()) as Box<dyn PartitionedStream>)),
        source: partition_source(IngestOptions::default()),
        scanner: Arc::new(scanner),
        lease_ttl: ttl,
        note: Arc::new(Mutex::new(|_n: Note| {})),
        metrics: None,
    }
    .runner();
    let job = Job {
        stream: "memory:t".into(),
        partition: "0".into(),
        lease,
        stop: Arc::new(AtomicBool::new(false)),
        abort: Arc::new(AtomicBool::new(false)),
        status: Arc::default(),
    };
    let run = std::thread::spawn(move || runner(job));
    let until = |want: u64| {
        let t = Instant::now();
        while positions(&path).get("0").cloned().flatten() != Some(want.into()) {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "{:?}",
                positions(&path)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    until(100);
    // Nobody renews: the lease expires and w2 takes it; more records come.
    std::thread::sleep(ttl + Duration::from_millis(200));
    assert_eq!(
        store
            .claim("p/memory:t/0", "w2", TTL)
            .unwrap()
            .unwrap()
            .epoch,
        2
    );
    for (t, l) in &logs[100..] {
        stream.push("0", "db-a.postgresql", l.as_bytes(), *t);
    }
    let exit = run.join().unwrap();
    assert_eq!(exit, Exit::LeaseLost);
    assert_eq!(
        positions(&path).get("0").cloned().flatten(),
        Some(100u64.into())
    );
}
