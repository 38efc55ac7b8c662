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
