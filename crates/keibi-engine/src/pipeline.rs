//! The scan pipeline: a source of events in time order → detection lanes, each on a
//! thread of its own, fed the same batches through bounded channels → one joined
//! [`ScanReport`]. `keibi scan` and `keibi learn` are calls to it.
//!
//! Lanes are declared by name ([`Pipeline::lane`], or [`Pipeline::scanner`], which
//! names the lanes a [`Scanner`] splits into). Every lane sees every event in the
//! order the source gives them; no lane reads another's findings, so their reports
//! join into what one scanner would have reported ([`ScanReport::merge`]).
//!
//! The source is a function handed the pipeline's sink: for a scan,
//! [`keibi_ingest::run`] over the inputs (the caller keeps how inputs are expanded
//! and how notices are printed). A sink error means a lane stopped (it panicked):
//! the source should stop reading, and [`Pipeline::run`] re-raises the panic.

use std::io;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use keibi_detect::{ScanReport, Scanner};
use keibi_model::Event;

/// Events handed to the lanes at a time: large enough that channel hand-offs cost
/// nothing, small enough to bound memory (a few MB in flight).
pub const BATCH: usize = 1024;
/// Batches queued per lane before the source waits (the bound on memory).
const DEPTH: usize = 4;

/// One detection lane: a scanner (or part of one) that sees every event.
pub struct Lane {
    name: String,
    scanner: Scanner,
}

impl Lane {
    pub fn new(name: impl Into<String>, scanner: Scanner) -> Self {
        Lane {
            name: name.into(),
            scanner,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What a pipeline reports: the lanes' reports joined, and each lane's own.
pub struct Outcome<R> {
    /// What the source returned.
    pub source: R,
    /// The lanes' findings joined as one scanner's ([`ScanReport::merge`]).
    pub report: ScanReport,
    /// Each lane's name and the events it saw (every lane sees every event).
    pub lanes: Vec<(String, u64)>,
}

/// Source → detection lanes → joined findings. See the module documentation.
#[derive(Default)]
pub struct Pipeline {
    lanes: Vec<Lane>,
}

impl Pipeline {
    pub fn new() -> Self {
        Pipeline::default()
    }

    /// Adds a lane.
    pub fn lane(mut self, lane: Lane) -> Self {
        self.lanes.push(lane);
        self
    }

    /// Adds the lanes `scanner` splits into ([`Scanner::into_lanes`]): its first
    /// detector (the Sigma rules of [`Scanner::new`]) as `rules` and the others as
    /// `detectors`; a scanner of one detector is one lane, `detectors`.
    pub fn scanner(mut self, scanner: Scanner) -> Self {
        let mut split = scanner.into_lanes();
        if split.len() == 1 {
            self.lanes.push(Lane::new("detectors", split.remove(0)));
        } else {
            for (i, s) in split.into_iter().enumerate() {
                let name = match i {
                    0 => "rules".to_string(),
                    1 => "detectors".to_string(),
                    n => format!("detectors-{n}"),
                };
                self.lanes.push(Lane::new(name, s));
            }
        }
        self
    }

    /// The lanes' names, in the order they were declared.
    pub fn lane_names(&self) -> Vec<&str> {
        self.lanes.iter().map(Lane::name).collect()
    }

    /// Runs `source` on this thread, handing every event it produces to every lane,
    /// each running on a thread of its own; returns what the source returned and the
    /// joined report once every lane has finished. A lane's panic is re-raised here
    /// (after the source returns: its sink fails from then on).
    pub fn run<R>(
        self,
        source: impl FnOnce(&mut dyn FnMut(Event) -> io::Result<()>) -> R,
    ) -> Outcome<R> {
        type Batch = Arc<Vec<Event>>;
        std::thread::scope(|scope| {
            // Emptied batches come back to be filled again (from the lane that
            // finishes a batch last): a fresh third of a megabyte per batch costs
            // page faults.
            let (spare_tx, spare_rx) = sync_channel::<Vec<Event>>(DEPTH);
            let mut lanes = Vec::new();
            for Lane { name, mut scanner } in self.lanes {
                let (tx, rx): (SyncSender<Batch>, Receiver<Batch>) = sync_channel(DEPTH);
                let spare_tx = spare_tx.clone();
                let worker = scope.spawn(move || {
                    for batch in rx {
                        for e in batch.iter() {
                            scanner.observe(e);
                        }
                        if let Ok(mut events) = Arc::try_unwrap(batch) {
                            events.clear();
                            let _ = spare_tx.try_send(events);
                        }
                    }
                    scanner.finish()
                });
                lanes.push((name, tx, worker));
            }
            drop(spare_tx);
            let send = |batch: Vec<Event>| -> io::Result<()> {
                let batch = Arc::new(batch);
                for (_, tx, _) in &lanes {
                    // A lane only stops by panicking: stop reading, and `join` below
                    // re-raises its panic.
                    tx.send(batch.clone())
                        .map_err(|_| io::Error::other("a detection thread stopped"))?;
                }
                Ok(())
            };
            let mut batch = Vec::with_capacity(BATCH);
            let out = source(&mut |e| {
                batch.push(e);
                if batch.len() == BATCH {
                    let next = spare_rx
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(BATCH));
                    send(std::mem::replace(&mut batch, next))?;
                }
                Ok(())
            });
            if !batch.is_empty() {
                let _ = send(batch);
            }
            let mut reports = Vec::new();
            let mut seen = Vec::new();
            for (name, tx, worker) in lanes {
                drop(tx);
                match worker.join() {
                    Ok(r) => {
                        seen.push((name, r.events));
                        reports.push(r);
                    }
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            Outcome {
                source: out,
                report: ScanReport::merge(reports),
                lanes: seen,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keibi_detect::{Config, Services};

    fn events(n: usize) -> Vec<Event> {
        let t0 = chrono::DateTime::UNIX_EPOCH;
        (0..n)
            .map(|i| {
                let mut e = Event::new(
                    t0 + chrono::Duration::seconds(i as i64),
                    keibi_model::SourceKind::PostgresStderr,
                    "t".into(),
                    i as u64,
                    keibi_model::Action::LoginFailure,
                );
                e.user = Some("postgres".into());
                e.client_ip = Some("203.0.113.9".parse().unwrap());
                e
            })
            .collect()
    }

    #[test]
    fn lanes_are_named_and_see_every_event_and_join_as_one_scanner() {
        let scanner = || {
            Scanner::new(
                Config::default(),
                Services::default(),
                keibi_detect::sigma::RuleSet::builtin().compile(&Config::default()),
            )
        };
        // More than a batch, not a multiple of it.
        let evs = events(BATCH * 2 + 17);
        let p = Pipeline::new().scanner(scanner());
        assert_eq!(p.lane_names(), ["rules", "detectors"]);
        let out = p.run(|sink| {
            for e in evs.clone() {
                sink(e)?;
            }
            io::Result::Ok(7)
        });
        assert_eq!(out.source.unwrap(), 7);
        assert_eq!(
            out.lanes,
            [
                ("rules".to_string(), evs.len() as u64),
                ("detectors".to_string(), evs.len() as u64)
            ]
        );
        let mut one = scanner();
        for e in &evs {
            one.observe(e);
        }
        let one = one.finish();
        assert!(!one.findings.is_empty(), "a brute force raises findings");
        let ids = |r: &ScanReport| -> Vec<_> {
            r.findings.iter().map(|f| (f.id.clone(), f.count)).collect()
        };
        assert_eq!(ids(&out.report), ids(&one));
        assert_eq!(out.report.events, one.events);
    }

    #[test]
    fn a_panicking_lane_stops_the_source_and_is_re_raised() {
        struct Boom;
        impl keibi_detect::Detector for Boom {
            fn id(&self) -> &'static str {
                "boom"
            }
            fn observe(&mut self, _: &Event, _: &mut keibi_detect::Context<'_>) {
                panic!("boom");
            }
            fn catalog(&self) -> Vec<keibi_detect::Entry> {
                Vec::new()
            }
        }
        let scanner =
            Scanner::with_detectors(Config::default(), Services::default(), vec![Box::new(Boom)]);
        let evs = events(BATCH * 20);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Pipeline::new().scanner(scanner).run(|sink| {
                let mut sent = 0;
                for e in evs.clone() {
                    if sink(e).is_err() {
                        break;
                    }
                    sent += 1;
                }
                sent
            })
        }));
        assert!(r.is_err(), "the lane's panic comes back");
    }
}
