//! Reads every input and hands their events to one consumer in time order.
//!
//! Each input is parsed on its own worker thread and sends batches through a bounded
//! channel, so memory stays constant however large the inputs are and parsing runs
//! beside the consumer (output formatting) on another core. Inputs are opened in the
//! order of their first timestamp and only when the merge reaches it, so a directory
//! of a thousand hourly files holds only the overlapping ones open at once.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;

use chrono::{DateTime, FixedOffset, Utc};
use keibi_model::Event;
use keibi_parse::Format;

use crate::inputs::Input;
use crate::stream::{Batch, OpenError, Opened};

/// How inputs are read.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    /// PostgreSQL `log_line_prefix`, when not one keibi recognises by itself.
    pub pg_prefix: Option<String>,
    /// Database instance id for every event (overrides what logs and paths say).
    pub instance: Option<String>,
    /// Offset for timestamps logged without a zone.
    pub local_offset: FixedOffset,
    /// Keep events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Keep events before this time.
    pub until: Option<DateTime<Utc>>,
    /// Events per batch sent from a worker.
    pub batch: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            format: None,
            pg_prefix: None,
            instance: None,
            local_offset: FixedOffset::east_opt(0).expect("zero offset is valid"),
            since: None,
            until: None,
            batch: 1024,
        }
    }
}

/// Something worth telling the user while reading.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// An input was opened and its format detected (or forced).
    Opened { file: Arc<str>, format: Format },
    /// An input could not be read at all.
    FileError { file: Arc<str>, error: String },
    /// A line that was not understood (`unrecognized`), or a warning about one that was.
    Line {
        file: Arc<str>,
        line: u64,
        reason: String,
        unrecognized: bool,
    },
    /// An input ended early (truncated or corrupt archive, read error).
    ReadError {
        file: Arc<str>,
        line: u64,
        error: String,
    },
}

/// What was read, in numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Inputs opened and parsed (whether or not they held events).
    pub files: u64,
    /// Inputs that could not be read at all.
    pub failed: u64,
    /// Events handed to the consumer (after `--since`/`--until`).
    pub events: u64,
    /// Lines no parser understood.
    pub unrecognized: u64,
    /// Lines of other programs in shared syslog files, passed over on purpose.
    pub skipped: u64,
    /// Inputs in no known format given up on after a bounded look
    /// (`stream::UNDETECTED_BYTES`): their lines past it are in no count.
    pub unread: u64,
    /// The most inputs open at once (consecutive files: one or two).
    pub open_at_most: u64,
}

enum Source {
    /// Opened during the first pass and kept (standard input, or few inputs).
    Kept(Box<Opened>, Batch),
    /// To be reopened when the merge reaches its first timestamp.
    Later(Input),
    /// Being reopened ahead of the merge (an input of the list the opening thread
    /// works through, in the order the merge takes them).
    Ahead,
}

struct Pending {
    first: Option<DateTime<Utc>>,
    order: usize,
    source: Source,
}

struct Active {
    file: Arc<str>,
    queue: VecDeque<Event>,
    rx: Option<Receiver<Batch>>,
    /// Hands emptied batches back to the worker, to parse the next ones into.
    spare: Option<SyncSender<Vec<Event>>>,
}

/// How many inputs are kept open after the first pass; more are reopened lazily.
const KEEP_OPEN: usize = 16;
/// Inputs opened ahead of the merge by each opening thread (each holds its first batch).
const PREFETCH: usize = 2;
/// Threads of the first pass, at most.
const FIRST_PASS_THREADS: usize = 4;

/// An input opened ahead of the merge: its name and it with its first batch.
type Reopened = (Arc<str>, Result<(Box<Opened>, Batch), OpenError>);

/// What the first pass learnt of an input.
struct First {
    format: Format,
    first: Option<DateTime<Utc>>,
    /// The input and its first batch, when kept open.
    kept: Option<(Box<Opened>, Batch)>,
}

/// Opens every input and reads its first batch, on up to [`FIRST_PASS_THREADS`]
/// threads (as many as there are cores); returns them in input order. Only kept
/// inputs (`keep_all`, standard input) stay open: the others are closed as soon as
/// their first timestamp is known, so memory does not grow with their number.
fn first_pass(
    inputs: Vec<Input>,
    keep_all: bool,
    opts: &IngestOptions,
    progress: &Arc<AtomicU64>,
) -> Vec<(Input, Result<First, OpenError>)> {
    let one = |input: &Input| {
        let mut opened = Opened::open(input.clone(), opts, progress.clone())?;
        let batch = opened.next_batch(opts.batch);
        let first = batch.events.first().map(|e| e.time);
        let format = opened.format;
        let kept = (keep_all || matches!(input, Input::Stdin)).then(|| (Box::new(opened), batch));
        Ok(First {
            format,
            first,
            kept,
        })
    };
    let threads = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(FIRST_PASS_THREADS)
        .min(inputs.len());
    if threads <= 1 {
        return inputs
            .into_iter()
            .map(|i| {
                let r = one(&i);
                (i, r)
            })
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<Result<First, OpenError>>> = Vec::new();
    results.resize_with(inputs.len(), || None);
    let results = std::sync::Mutex::new(results);
    thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(input) = inputs.get(i) else { break };
                let r = one(input);
                // A poisoned lock means another opener panicked: the scope re-raises it.
                if let Ok(mut all) = results.lock() {
                    all[i] = Some(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    inputs
        .into_iter()
        .zip(results)
        .map(|(i, r)| (i, r.expect("every input was opened by the first pass")))
        .collect()
}

/// Reads `inputs` and calls `sink` with every event in time order. `sink` returning an
/// error (a closed pipe) stops reading. `progress` counts raw bytes read.
pub fn run(
    inputs: Vec<Input>,
    opts: &IngestOptions,
    progress: Arc<AtomicU64>,
    mut sink: impl FnMut(Event) -> io::Result<()>,
    mut notice: impl FnMut(Notice),
) -> io::Result<Report> {
    let mut report = Report::default();
    let keep_all = inputs.len() <= KEEP_OPEN;
    let mut pending = Vec::with_capacity(inputs.len());
    // Inputs to reopen when the merge reaches them, in the order it will.
    let mut later = Vec::new();

    // First pass: open each input, detect its format, read its first batch for the
    // first timestamp; on several threads (thousands of small files are all work
    // here), reported in input order as if read one after the other.
    let first_pass = first_pass(inputs, keep_all, opts, &progress);
    for (order, (input, opened)) in first_pass.into_iter().enumerate() {
        let file = input.display();
        match opened {
            Ok(First {
                format,
                first,
                kept,
            }) => {
                notice(Notice::Opened {
                    file: file.clone(),
                    format,
                });
                let source = match kept {
                    Some((opened, batch)) => Source::Kept(opened, batch),
                    None => Source::Later(input),
                };
                pending.push(Pending {
                    first,
                    order,
                    source,
                });
            }
            Err(OpenError::Empty) => report.files += 1,
            Err(e @ OpenError::Undetected { .. }) => {
                if let OpenError::Undetected { lines, whole, .. } = e {
                    report.unrecognized += lines;
                    report.unread += u64::from(!whole);
                }
                report.failed += 1;
                notice(Notice::FileError {
                    file,
                    error: e.to_string(),
                });
            }
            Err(e) => {
                report.failed += 1;
                notice(Notice::FileError {
                    file,
                    error: e.to_string(),
                });
            }
        }
    }
    // Inputs without any event go first (they only contribute problems), then by time.
    pending.sort_by_key(|p| (p.first, p.order));
    for p in &mut pending {
        if matches!(p.source, Source::Later(_)) {
            if let Source::Later(input) = std::mem::replace(&mut p.source, Source::Ahead) {
                later.push(input);
            }
        }
    }
    let mut pending: VecDeque<Pending> = pending.into();

    thread::scope(|scope| -> io::Result<()> {
        // Inside the scope, so that a panic in `sink` drops the receivers while
        // unwinding, which stops the workers: the scope then joins them and the panic
        // propagates. Outside, the scope would wait for workers blocked on a full
        // channel forever.
        let mut actives: Vec<Active> = Vec::new();
        // Slots of finished inputs, for the next ones: a directory of thousands of
        // files must not keep an entry (or a batch's buffer) per file read.
        let mut free: Vec<usize> = Vec::new();
        let mut heap: BinaryHeap<Reverse<(DateTime<Utc>, usize)>> = BinaryHeap::new();
        // The inputs to reopen are opened (and their first batch read) ahead, in the
        // order the merge will want them, on threads of their own: a directory of
        // small files is then read beside the merge, not between its events. Opener
        // `k` of `n` takes inputs `k, k + n, ...`, so taking from each in turn keeps
        // the order.
        let openers = thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(FIRST_PASS_THREADS)
            .min(later.len());
        let mut ahead: Vec<Receiver<Reopened>> = Vec::with_capacity(openers);
        if openers > 0 {
            let mut shares: Vec<Vec<Input>> = (0..openers).map(|_| Vec::new()).collect();
            for (i, input) in later.into_iter().enumerate() {
                shares[i % openers].push(input);
            }
            for share in shares {
                let (tx, rx) = sync_channel::<Reopened>(PREFETCH);
                ahead.push(rx);
                let progress = progress.clone();
                scope.spawn(move || {
                    for input in share {
                        let file = input.display();
                        let r = Opened::open(input, opts, progress.clone()).map(|mut o| {
                            let b = o.next_batch(opts.batch);
                            (Box::new(o), b)
                        });
                        if tx.send((file, r)).is_err() {
                            break;
                        }
                    }
                });
            }
        }
        let mut reopened = 0usize;
        loop {
            // Activate every input whose first event is due before the next merged event.
            while let Some(p) = pending.front() {
                // Peeked afresh for each input: the one just activated may come first.
                // Peeked once, an empty heap at start made every input due, opening all
                // files at once (900 MB for 1 GB of CloudTrail in 21 files).
                let next_time = heap.peek().map(|Reverse((t, _))| *t);
                let due = match (next_time, p.first) {
                    (None, _) | (_, None) => true,
                    (Some(t), Some(f)) => f <= t,
                };
                if !due {
                    break;
                }
                let Some(p) = pending.pop_front() else { break };
                let (mut opened, first_batch) = match p.source {
                    Source::Kept(o, b) => (o, b),
                    Source::Later(_) | Source::Ahead => {
                        let from = ahead.get(reopened % ahead.len().max(1));
                        reopened += 1;
                        let Some(Ok((file, r))) = from.map(Receiver::recv) else {
                            // An opening thread only stops early by panicking; the
                            // scope re-raises it.
                            return Err(io::Error::other("an input could not be opened"));
                        };
                        match r {
                            Ok(o) => o,
                            Err(e) => {
                                report.failed += 1;
                                notice(Notice::FileError {
                                    file,
                                    error: e.to_string(),
                                });
                                continue;
                            }
                        }
                    }
                };
                report.files += 1;
                let file = opened.file.clone();
                let last = first_batch.last;
                let events = take_batch(first_batch, &file, &mut report, &mut notice);
                let (rx, spare) = if last {
                    (None, None)
                } else {
                    let (tx, rx) = sync_channel::<Batch>(2);
                    let (spare_tx, spare_rx) = sync_channel::<Vec<Event>>(2);
                    let want = opts.batch;
                    scope.spawn(move || loop {
                        let events = spare_rx.try_recv().unwrap_or_default();
                        let b = opened.next_batch_into(want, events);
                        let last = b.last;
                        if tx.send(b).is_err() || last {
                            break;
                        }
                    });
                    (Some(rx), Some(spare_tx))
                };
                let active = Active {
                    file,
                    queue: events.into(),
                    rx,
                    spare,
                };
                let idx = match free.pop() {
                    Some(i) => {
                        actives[i] = active;
                        i
                    }
                    None => {
                        actives.push(active);
                        actives.len() - 1
                    }
                };
                let open = (actives.len() - free.len()) as u64;
                report.open_at_most = report.open_at_most.max(open);
                if !refill(&mut actives[idx], idx, &mut heap, &mut report, &mut notice) {
                    free.push(idx);
                }
            }

            let Some(Reverse((_, idx))) = heap.pop() else {
                if pending.is_empty() {
                    return Ok(());
                }
                continue;
            };
            let active = &mut actives[idx];
            if let Some(event) = active.queue.pop_front() {
                report.events += 1;
                if let Err(e) = sink(event) {
                    // Dropping the receivers stops the workers.
                    actives.clear();
                    return Err(e);
                }
                if !refill(&mut actives[idx], idx, &mut heap, &mut report, &mut notice) {
                    free.push(idx);
                }
            }
        }
    })?;
    Ok(report)
}

/// Makes sure an active input's next event is in the heap, waiting for its worker's
/// next batch when its queue ran dry. `false` when the input is finished: its buffer
/// is released and its slot may serve another input.
fn refill(
    active: &mut Active,
    idx: usize,
    heap: &mut BinaryHeap<Reverse<(DateTime<Utc>, usize)>>,
    report: &mut Report,
    notice: &mut dyn FnMut(Notice),
) -> bool {
    while active.queue.is_empty() {
        let Some(rx) = &active.rx else {
            active.queue = VecDeque::new();
            active.spare = None;
            return false;
        };
        match rx.recv() {
            Ok(batch) => {
                let last = batch.last;
                let events = take_batch(batch, &active.file, report, notice);
                // The batch becomes the queue as it is (no copy); the emptied queue's
                // buffer goes back to the worker for a later batch.
                let used = std::mem::replace(&mut active.queue, events.into());
                if let Some(spare) = &active.spare {
                    let _ = spare.try_send(Vec::from(used));
                }
                if last {
                    active.rx = None;
                    active.spare = None;
                }
            }
            Err(_) => active.rx = None,
        }
    }
    if let Some(e) = active.queue.front() {
        heap.push(Reverse((e.time, idx)));
    }
    true
}

/// Counts and reports a batch's problems and read error; returns its events.
fn take_batch(
    batch: Batch,
    file: &Arc<str>,
    report: &mut Report,
    notice: &mut dyn FnMut(Notice),
) -> Vec<Event> {
    report.skipped += batch.skipped;
    for p in batch.problems {
        let unrecognized = p.lines > 0;
        report.unrecognized += p.lines;
        notice(Notice::Line {
            file: file.clone(),
            line: p.line,
            reason: p.reason,
            unrecognized,
        });
    }
    if let Some((line, error)) = batch.error {
        notice(Notice::ReadError {
            file: file.clone(),
            line,
            error,
        });
    }
    batch.events
}
