//! A live source of whole objects listed in key order: CloudTrail's deliveries to an
//! S3 bucket, where each object is written once, complete, under a key that sorts
//! after the earlier ones (`…/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_…`).
//! The store itself is a hook ([`Objects`]) the caller gives: this crate knows no
//! AWS. The prefix is split into *roots* the hook names (CloudTrail's
//! `…/CloudTrail/<region>/` folders, one per account and region: keys only grow
//! within one, while a new object of `us-east-1` sorts before the last one read of
//! `us-west-2`). Each poll lists every root after its last key (at most every
//! `every`), fetches one object and hands out all its events with a checkpoint of
//! that root whose `after_key` is the object's key: a restart lists each root after
//! its own and resumes exactly there, no object read twice, none skipped.
//!
//! With [`ObjectSource::with_notifications`] the source is also told of new objects
//! (S3 event notifications from an SQS queue, another hook): a notified key after its
//! root's checkpoint makes the source list at once (so the listing, not the message,
//! decides the order and nothing between is skipped); one at or before it that the
//! source read recently is not read again; one before it that it did not read was
//! written late, after the listing passed its place, and is read out of order (the
//! checkpoint keeps its last [`MAX_RECENT`] keys, and counts such reads in `skip`).
//! A message is acknowledged (deleted) only once the store holds the checkpoints of
//! every object it names ([`LiveSource::committed`]): a kill before that makes the
//! queue deliver it again and the source knows the object as read or reads it; the
//! periodic listing stays, so a lost message only delays an object.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keibi_parse::Format;
use sha2::{Digest, Sha256};

use crate::feed::Checkpoint;
use crate::fingerprint::Fingerprint;
use crate::inputs::{Input, Remote};
use crate::live::{LiveSource, Poll, SourceState};
use crate::merge::{IngestOptions, Notice};
use crate::stream::{OpenError, Opened};

/// Keys held from one listing at most; the rest are listed again after them.
const MAX_QUEUED: usize = 10_000;

/// Where the objects are: listing in key order, fetching whole.
pub trait Objects: Send {
    /// The folders listed apart, each with a checkpoint of its own (keys start with
    /// their root); the default is the whole prefix as one root, `""`.
    fn roots(&mut self) -> Result<Vec<String>, String> {
        Ok(vec![String::new()])
    }
    /// Keys under `root` after `after` (all when `None`), in key order, at most `max`.
    fn list(&mut self, root: &str, after: Option<&str>, max: usize) -> Result<Vec<String>, String>;
    /// One object's bytes.
    fn get(&mut self, key: &str) -> Result<Vec<u8>, String>;
    /// The name an object's events carry as their file (`s3://bucket/key`).
    fn display(&self, key: &str) -> String;
}

/// Keys of a root a checkpoint remembers as read (for notifications of them).
pub const MAX_RECENT: usize = 200;
/// Keys of a root remembered as read while running (the checkpoint keeps the last
/// [`MAX_RECENT`] of them).
const MAX_REMEMBERED: usize = 10_000;
/// Messages waiting for their objects to be stored, at most: while there are this
/// many, no more are taken (the queue keeps them).
const MAX_WAITING: usize = 1_000;

/// One notification message: the object keys it names (decoded, under the
/// source's prefix), the warnings about what it names but is not read, and the
/// handle that acknowledges it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notified {
    pub receipt: String,
    pub keys: Vec<String>,
    pub problems: Vec<String>,
}

/// Where the source is told of new objects (an SQS queue of S3 event
/// notifications).
pub trait Notifications: Send {
    /// At most `max` messages received since the last call, without blocking.
    fn take(&mut self, max: usize) -> Vec<Notified>;
    /// Acknowledges messages by their receipt (deletes them from the queue).
    fn delete(&mut self, receipts: &[String]) -> Result<(), String>;
    /// The queue's name, for notices.
    fn display(&self) -> String;
}

/// How far a root has been read: its checkpoint's key, and the reads of late keys.
type Progress = (Option<String>, u64);

/// A message waiting for the objects it names to be stored.
struct Waiting {
    receipt: String,
    /// (root, key, the root's progress once the key is read; `None` until then).
    needs: Vec<(String, String, Option<Progress>)>,
}

/// How often the roots are looked for again (a new account or region appears).
const ROOTS_EVERY: Duration = Duration::from_secs(15 * 60);

/// A live source over [`Objects`].
pub struct ObjectSource {
    objects: Box<dyn Objects>,
    opts: IngestOptions,
    /// The source's name (`s3://bucket/prefix`): with a root, its checkpoints'
    /// identity.
    name: String,
    every: Duration,
    next_list: Option<Instant>,
    roots: Vec<String>,
    next_roots: Option<Instant>,
    /// (root, key) to read, in order.
    queue: VecDeque<(String, String)>,
    /// Per root, the last key handed out completely (its checkpoint).
    done: BTreeMap<String, Option<String>>,
    /// The stored checkpoints of object sources, looked up as roots appear.
    resume: Vec<Checkpoint>,
    /// A failed fetch is tried again no sooner than this.
    retry_at: Option<Instant>,
    /// Where new objects are announced, if anywhere.
    notes: Option<Box<dyn Notifications>>,
    /// (root, key) notified, before the root's checkpoint and never read: read
    /// before the queue.
    late: VecDeque<(String, String)>,
    /// Per root, the keys read, oldest first (from the checkpoint, then as read).
    recent: BTreeMap<String, VecDeque<String>>,
    /// Per root, the late keys read (the checkpoint's `skip`).
    skips: BTreeMap<String, u64>,
    /// Per root, how far the store holds it.
    stored: BTreeMap<String, Progress>,
    waiting: Vec<Waiting>,
    /// Why acknowledging failed, reported at the next poll.
    ack_error: Option<String>,
}

impl ObjectSource {
    /// `name` identifies the source across restarts; `resume` is every stored
    /// checkpoint (those of other sources are ignored); `every` is the time between
    /// listings once caught up.
    pub fn new(
        name: &str,
        objects: Box<dyn Objects>,
        opts: IngestOptions,
        every: Duration,
        resume: &[Checkpoint],
    ) -> ObjectSource {
        ObjectSource {
            objects,
            opts,
            name: name.to_string(),
            every,
            next_list: None,
            roots: Vec::new(),
            next_roots: None,
            queue: VecDeque::new(),
            done: BTreeMap::new(),
            resume: resume
                .iter()
                .filter(|c| c.after_key.is_some())
                .cloned()
                .collect(),
            retry_at: None,
            notes: None,
            late: VecDeque::new(),
            recent: BTreeMap::new(),
            skips: BTreeMap::new(),
            stored: BTreeMap::new(),
            waiting: Vec::new(),
            ack_error: None,
        }
    }

    /// Also reads the objects `notes` announces, at once (the listing every
    /// `every` stays, as a safety net).
    pub fn with_notifications(mut self, notes: Box<dyn Notifications>) -> ObjectSource {
        self.notes = Some(notes);
        self
    }

    fn lane(&self, root: &str) -> Fingerprint {
        source_id(&format!("{}\0{root}", self.name))
    }

    /// The last key of `root` handed out completely (from the stored checkpoints
    /// the first time).
    fn done_of(&mut self, root: &str) -> Option<String> {
        if let Some(d) = self.done.get(root) {
            return d.clone();
        }
        let id = self.lane(root);
        let cp = self
            .resume
            .iter()
            .find(|c| c.fingerprint == id && c.after_key.is_some());
        let d = cp.and_then(|c| c.after_key.clone());
        if let Some(c) = cp {
            let keep = c.recent.len().saturating_sub(MAX_RECENT);
            let recent = c.recent[keep..].iter().cloned().collect();
            let progress = (c.after_key.clone(), c.skip);
            self.recent.insert(root.to_string(), recent);
            self.skips.insert(root.to_string(), c.skip);
            self.stored.insert(root.to_string(), progress);
        } else if let Some((a, recent)) = self.ancestor(root) {
            // A new folder of a prefix read whole before (the bucket's first
            // objects were read before CloudTrail's region folders could be told):
            // what the prefix read of it is read; the folder goes on after it.
            self.stored.insert(root.to_string(), (Some(a.clone()), 0));
            self.recent.insert(root.to_string(), recent);
            self.done.insert(root.to_string(), Some(a.clone()));
            return Some(a);
        }
        self.done.insert(root.to_string(), d.clone());
        d
    }

    /// Where `root` goes on from when a root that is a strict prefix of it (this
    /// run's, or a stored checkpoint's) read it before, with the keys of `root` it
    /// read recently. The prefix's key when it is in `root` or before it; when it is
    /// past `root`, the last key of `root` the prefix remembers reading (the keys
    /// after it in `root` were written after the prefix's listing passed them), or,
    /// remembering none, the prefix's key (all of `root` taken as read, as the
    /// prefix alone would have).
    fn ancestor(&self, root: &str) -> Option<(String, VecDeque<String>)> {
        let mut best: Option<(String, VecDeque<String>)> = None;
        let mut consider = |key: &str, recent: &mut dyn Iterator<Item = &String>| {
            let recent: VecDeque<String> =
                recent.filter(|k| k.starts_with(root)).cloned().collect();
            let key = if key.starts_with(root) || key < root {
                key.to_string()
            } else {
                recent
                    .iter()
                    .max()
                    .cloned()
                    .unwrap_or_else(|| key.to_string())
            };
            if best.as_ref().is_none_or(|(b, _)| key > *b) {
                best = Some((key, recent));
            }
        };
        for (r, d) in &self.done {
            if let Some(d) = d {
                if r.len() < root.len() && root.starts_with(r.as_str()) {
                    let empty = VecDeque::new();
                    let recent = self.recent.get(r).unwrap_or(&empty);
                    consider(d, &mut recent.iter());
                }
            }
        }
        for (i, _) in root.char_indices() {
            let id = self.lane(&root[..i]);
            if let Some(c) = self.resume.iter().find(|c| c.fingerprint == id) {
                if let Some(k) = &c.after_key {
                    consider(k, &mut c.recent.iter());
                }
            }
        }
        best
    }

    fn progress_of(&mut self, root: &str) -> Progress {
        let d = self.done_of(root);
        (d, self.skips.get(root).copied().unwrap_or(0))
    }

    fn checkpoint(&self, root: &str, key: &str, format: Format) -> Checkpoint {
        let recent = match (&self.notes, self.recent.get(root)) {
            (Some(_), Some(r)) => r
                .iter()
                .skip(r.len().saturating_sub(MAX_RECENT))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        Checkpoint {
            fingerprint: self.lane(root),
            format,
            offset: 0,
            line: 0,
            skip: self.skips.get(root).copied().unwrap_or(0),
            done: true,
            after_key: Some(key.to_string()),
            recent,
        }
    }

    /// The root a notified key belongs to (the longest that starts it).
    fn root_of(&self, key: &str) -> Option<String> {
        self.roots
            .iter()
            .filter(|r| key.starts_with(r.as_str()))
            .max_by_key(|r| r.len())
            .cloned()
    }

    /// Whether `key` of `root` was read (this run, or among the checkpoint's last).
    fn was_read(&self, root: &str, key: &str) -> bool {
        self.recent
            .get(root)
            .is_some_and(|r| r.iter().any(|k| k == key))
    }

    fn queued(&self, root: &str, key: &str) -> bool {
        self.queue
            .iter()
            .chain(self.late.iter())
            .any(|(r, k)| r == root && k == key)
    }

    /// Takes the messages received: each waits for the objects it names (none: it
    /// is acknowledged at the next chance), with a warning for what it named
    /// wrongly. Returns whether a key calls for a listing.
    fn take_notes(&mut self, poll: &mut Poll) -> bool {
        let room = MAX_WAITING.saturating_sub(self.waiting.len());
        let Some(notes) = self.notes.as_mut() else {
            return false;
        };
        if room == 0 {
            return false;
        }
        let queue: Arc<str> = Arc::from(notes.display().as_str());
        let taken = notes.take(room);
        for n in taken {
            for p in &n.problems {
                poll.notices.push(Notice::FileError {
                    file: queue.clone(),
                    error: p.clone(),
                });
            }
            // A key of no root yet: the roots are looked for again at the listing.
            let needs = n
                .keys
                .into_iter()
                .map(|key| (self.root_of(&key).unwrap_or_default(), key, None))
                .collect();
            self.waiting.push(Waiting {
                receipt: n.receipt,
                needs,
            });
        }
        self.place(false)
    }

    /// Decides, for every key a message waits on that is neither read nor queued,
    /// what it needs: nothing more when it was read (the progress now); a read out
    /// of order when it is before its root's checkpoint (written late); a listing
    /// when it is after (returns true). After a listing (`listed`) a key after the
    /// checkpoint that it did not queue is not there (deleted since, or a digest
    /// the listing passes over): its message needs nothing more, as does that of a
    /// key of no root.
    fn place(&mut self, listed: bool) -> bool {
        let mut relist = false;
        let mut waiting = std::mem::take(&mut self.waiting);
        for w in &mut waiting {
            for (root, key, at) in &mut w.needs {
                if at.is_some() {
                    continue;
                }
                if root.is_empty() {
                    match self.root_of(key) {
                        Some(r) => *root = r,
                        None if listed => {
                            *at = Some((None, 0));
                            continue;
                        }
                        None => {
                            self.next_roots = None;
                            relist = true;
                            continue;
                        }
                    }
                }
                if self.queued(root, key) {
                    continue;
                }
                let done = self.done_of(root);
                if self.was_read(root, key) {
                    *at = Some(self.progress_of(root));
                } else if done.as_deref().is_some_and(|d| key.as_str() <= d) {
                    self.late.push_back((root.clone(), key.clone()));
                } else if listed {
                    *at = Some(self.progress_of(root));
                } else {
                    relist = true;
                }
            }
        }
        self.waiting = waiting;
        relist
    }

    /// Acknowledges the messages whose every object is stored.
    fn acknowledge(&mut self) {
        let stored = &self.stored;
        let ready = |w: &Waiting| {
            w.needs.iter().all(|(root, _, at)| match at {
                Some(p) => {
                    root.is_empty() || p.0.is_none() || stored.get(root).is_some_and(|s| s >= p)
                }
                None => false,
            })
        };
        let (done, rest): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(ready);
        self.waiting = rest;
        if done.is_empty() {
            return;
        }
        let Some(notes) = self.notes.as_mut() else {
            return;
        };
        let receipts: Vec<String> = done.iter().map(|w| w.receipt.clone()).collect();
        if let Err(e) = notes.delete(&receipts) {
            // Kept: tried again after the next commit or poll (the queue may also
            // deliver them again meanwhile: their objects are known as read).
            self.ack_error = Some(format!("{e}; tried again later"));
            self.waiting.extend(done);
        }
    }

    /// A key handed out: remembered as read, and the messages waiting on it know
    /// how far the store must hold its root.
    fn handed(&mut self, root: &str, key: &str) {
        let r = self.recent.entry(root.to_string()).or_default();
        r.push_back(key.to_string());
        if r.len() > MAX_REMEMBERED {
            r.pop_front();
        }
        let p = self.progress_of(root);
        for w in &mut self.waiting {
            for (r, k, at) in &mut w.needs {
                if at.is_none() && r == root && k == key {
                    *at = Some(p.clone());
                }
            }
        }
    }

    /// Lists every root after its last key into the queue.
    fn list(&mut self, now: Instant, poll: &mut Poll) {
        if self.next_roots.is_none_or(|t| now >= t) {
            match self.objects.roots() {
                Ok(r) => {
                    self.roots = r;
                    self.next_roots = Some(now + ROOTS_EVERY.max(self.every));
                }
                Err(e) => {
                    poll.notices.push(Notice::FileError {
                        file: Arc::from(self.objects.display("").as_str()),
                        error: e,
                    });
                    return;
                }
            }
        }
        for root in self.roots.clone() {
            let room = MAX_QUEUED.saturating_sub(self.queue.len());
            if room == 0 {
                break;
            }
            // After what is queued already (a listing called for by a notification
            // while the queue still holds keys).
            let queued = self
                .queue
                .iter()
                .rev()
                .find(|(r, _)| *r == root)
                .map(|(_, k)| k.clone());
            let mut last = queued.or_else(|| self.done_of(&root));
            match self.objects.list(&root, last.as_deref(), room) {
                Ok(keys) => {
                    // Only keys of the root after its checkpoint, in order, once.
                    for k in keys {
                        if k.starts_with(root.as_str())
                            && last.as_deref().is_none_or(|l| k.as_str() > l)
                        {
                            last = Some(k.clone());
                            self.queue.push_back((root.clone(), k));
                        }
                    }
                }
                Err(e) => poll.notices.push(Notice::FileError {
                    file: Arc::from(self.objects.display(&root).as_str()),
                    error: e,
                }),
            }
        }
    }

    /// Reads one object whole: its events, notices and format.
    fn read(&mut self, key: &str, poll: &mut Poll) -> Result<Format, String> {
        let bytes = self.objects.get(key)?;
        let display: Arc<str> = Arc::from(self.objects.display(key).as_str());
        parse_whole(display, None, bytes, &self.opts, poll)
    }
}

/// Parses `bytes` whole, as a file named `display` of `instance`: its events and
/// notices into `poll`; its format (CloudTrail when it held nothing).
pub(crate) fn parse_whole(
    display: Arc<str>,
    instance: Option<String>,
    bytes: Vec<u8>,
    opts: &IngestOptions,
    poll: &mut Poll,
) -> Result<Format, String> {
    let bytes = Arc::new(bytes);
    let size = bytes.len() as u64;
    let input = Input::Remote(Arc::new(Remote {
        display: display.clone(),
        instance,
        size: Some(size),
        open: Box::new(move || {
            Ok(Box::new(io::Cursor::new(SharedBytes(bytes.clone()))) as Box<dyn io::Read + Send>)
        }),
    }));
    let mut opened = match Opened::open(input, opts, Arc::new(AtomicU64::new(0))) {
        Ok(o) => o,
        Err(OpenError::Empty) => return Ok(Format::Cloudtrail),
        Err(OpenError::Io(e)) => return Err(e.to_string()),
        Err(e) => {
            poll.notices.push(Notice::FileError {
                file: display,
                error: e.to_string(),
            });
            return Ok(Format::Cloudtrail);
        }
    };
    poll.notices.push(Notice::Opened {
        file: display.clone(),
        format: opened.format,
    });
    loop {
        let batch = opened.next_batch(opts.batch.max(1));
        poll.events.extend(batch.events);
        for p in batch.problems {
            poll.notices.push(Notice::Line {
                file: display.clone(),
                line: p.line,
                reason: p.reason,
                unrecognized: p.lines > 0,
            });
        }
        if let Some((line, error)) = batch.error {
            poll.notices.push(Notice::ReadError {
                file: display.clone(),
                line,
                error,
            });
        }
        if batch.last {
            return Ok(opened.format);
        }
    }
}
/// Bytes shared with the opener, read through a cursor.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A source's identity in checkpoints: a fingerprint of its name that no file's
/// can equal (files' cover at most [`crate::fingerprint::HEAD`] bytes).
pub fn source_id(name: &str) -> Fingerprint {
    let digest = Sha256::digest(format!("keibi object source\0{name}").as_bytes());
    let mut hash = [0u8; 8];
    hash.copy_from_slice(&digest[..8]);
    Fingerprint {
        len: u32::MAX,
        hash: u64::from_be_bytes(hash),
    }
}

impl LiveSource for ObjectSource {
    fn poll(&mut self, now: Instant) -> Poll {
        let mut poll = Poll::new();
        if self.retry_at.is_some_and(|t| now < t) {
            return poll;
        }
        self.retry_at = None;
        if let Some(e) = self.ack_error.take() {
            let queue = self.notes.as_ref().map(|n| n.display()).unwrap_or_default();
            poll.notices.push(Notice::FileError {
                file: Arc::from(queue.as_str()),
                error: e,
            });
        }
        // A notified key after its root's checkpoint is listed at once (the roots
        // are known before a key is placed in one: the first poll lists first).
        let first = self.next_list.is_none();
        let relist = !first && self.take_notes(&mut poll);
        if relist || (self.queue.is_empty() && self.next_list.is_none_or(|t| now >= t)) {
            self.next_list = Some(now + self.every);
            self.list(now, &mut poll);
            if first && self.take_notes(&mut poll) {
                self.list(now, &mut poll);
            }
            self.place(true);
        }
        self.acknowledge();
        let (root, key, late) = match self.late.pop_front() {
            Some((r, k)) => (r, k, true),
            None => match self.queue.pop_front() {
                Some((r, k)) => (r, k, false),
                None => return poll,
            },
        };
        match self.read(&key, &mut poll) {
            Ok(format) => {
                let after = if late {
                    // Read out of order: the checkpoint keeps its key and counts
                    // the read, so it still grows.
                    *self.skips.entry(root.clone()).or_default() += 1;
                    self.done_of(&root).unwrap_or_else(|| key.clone())
                } else {
                    self.done.insert(root.clone(), Some(key.clone()));
                    key.clone()
                };
                self.handed(&root, &key);
                let cp = self.checkpoint(&root, &after, format);
                poll.marks = vec![None; poll.events.len()];
                if let Some(m) = poll.marks.last_mut() {
                    *m = Some(cp.clone());
                }
                poll.checkpoints = vec![cp];
            }
            Err(e) => {
                // Not handed out: tried again after a listing interval.
                poll.events.clear();
                poll.notices.push(Notice::ReadError {
                    file: Arc::from(self.objects.display(&key).as_str()),
                    line: 0,
                    error: format!("{e}; tried again later"),
                });
                if late {
                    self.late.push_front((root, key));
                } else {
                    self.queue.push_front((root, key));
                }
                self.retry_at = Some(now + self.every);
            }
        }
        poll.state = if self.queue.is_empty() && self.late.is_empty() {
            SourceState::CaughtUp
        } else {
            SourceState::Reading
        };
        poll
    }

    fn committed(&mut self, checkpoints: &[Checkpoint]) {
        if self.notes.is_none() {
            return;
        }
        let lanes: Vec<(String, Fingerprint)> = self
            .done
            .keys()
            .map(|r| (r.clone(), self.lane(r)))
            .collect();
        for cp in checkpoints {
            if let Some((root, _)) = lanes.iter().find(|(_, l)| *l == cp.fingerprint) {
                let p = (cp.after_key.clone(), cp.skip);
                let s = self.stored.entry(root.clone()).or_default();
                if p > *s {
                    *s = p;
                }
            }
        }
        self.acknowledge();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Objects by key.
    type Kept = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

    /// The objects, and how many fetches fail before one succeeds.
    #[derive(Clone, Default)]
    struct Store(Kept, Arc<Mutex<u32>>);

    impl Objects for Store {
        fn roots(&mut self) -> Result<Vec<String>, String> {
            let mut roots: Vec<String> = self
                .0
                .lock()
                .unwrap()
                .iter()
                .map(|(k, _)| k[..k.find('/').unwrap() + 1].to_string())
                .collect();
            roots.sort();
            roots.dedup();
            Ok(roots)
        }

        fn list(
            &mut self,
            root: &str,
            after: Option<&str>,
            max: usize,
        ) -> Result<Vec<String>, String> {
            let mut keys: Vec<String> = self
                .0
                .lock()
                .unwrap()
                .iter()
                .map(|(k, _)| k.clone())
                .collect();
            keys.sort();
            Ok(keys
                .into_iter()
                .filter(|k| k.starts_with(root) && after.is_none_or(|a| k.as_str() > a))
                .take(max)
                .collect())
        }
        fn get(&mut self, key: &str) -> Result<Vec<u8>, String> {
            let mut fail = self.1.lock().unwrap();
            if *fail > 0 {
                *fail -= 1;
                return Err("SlowDown".into());
            }
            self.0
                .lock()
                .unwrap()
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, b)| b.clone())
                .ok_or_else(|| "NoSuchKey".into())
        }
        fn display(&self, key: &str) -> String {
            format!("mem://b/{key}")
        }
    }

    fn trail(id: &str, t: &str) -> Vec<u8> {
        format!(
            r#"{{"Records":[{{"eventVersion":"1.08","eventTime":"{t}","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"aws-cli","eventID":"{id}","eventType":"AwsApiCall","recipientAccountId":"123456789012","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/a","accountId":"123456789012","userName":"a"}}}}]}}"#
        )
        .into_bytes()
    }

    fn drain(src: &mut ObjectSource, cps: &mut Vec<Checkpoint>) -> Vec<String> {
        let mut ids = Vec::new();
        for _ in 0..20 {
            let p = src.poll(Instant::now());
            assert!(p.marks.is_empty() || p.marks.len() == p.events.len());
            ids.extend(p.events.iter().map(|e| e.time.format("e%-M").to_string()));
            cps.extend(p.checkpoints);
            if p.state == SourceState::CaughtUp {
                break;
            }
        }
        ids
    }

    #[test]
    fn objects_are_read_once_in_key_order_and_resumed_after_the_last() {
        let store = Store::default();
        store.0.lock().unwrap().push((
            "a/2026/11/28/2.json".into(),
            trail("e2", "2026-11-28T00:02:00Z"),
        ));
        store.0.lock().unwrap().push((
            "a/2026/11/28/1.json".into(),
            trail("e1", "2026-11-28T00:01:00Z"),
        ));
        let opts = IngestOptions::default();
        let mut cps = Vec::new();
        let mut src = ObjectSource::new(
            "mem://b/a/",
            Box::new(store.clone()),
            opts.clone(),
            Duration::ZERO,
            &[],
        );
        assert_eq!(drain(&mut src, &mut cps), ["e1", "e2"]);
        assert_eq!(
            cps.last().unwrap().after_key.as_deref(),
            Some("a/2026/11/28/2.json")
        );
        // A new object, a fetch that fails once: nothing handed out until it is read.
        store.0.lock().unwrap().push((
            "a/2026/11/28/3.json".into(),
            trail("e3", "2026-11-28T00:03:00Z"),
        ));
        *store.1.lock().unwrap() = 1;
        let p = src.poll(Instant::now());
        assert!(p.events.is_empty() && p.checkpoints.is_empty());
        assert!(matches!(p.notices[0], Notice::ReadError { .. }));
        src.retry_at = None;
        assert_eq!(drain(&mut src, &mut cps), ["e3"]);
        // A restart from the stored checkpoint reads only what came after it.
        store.0.lock().unwrap().push((
            "a/2026/11/28/4.json".into(),
            trail("e4", "2026-11-28T00:04:00Z"),
        ));
        let stored = vec![cps[1].clone()];
        let mut again = ObjectSource::new(
            "mem://b/a/",
            Box::new(store.clone()),
            opts.clone(),
            Duration::ZERO,
            &stored,
        );
        assert_eq!(drain(&mut again, &mut Vec::new()), ["e3", "e4"]);
        // A root that sorts earlier gets a new object after a later root's was
        // read (CloudTrail's us-east-1 after us-west-2): each root has its own
        // checkpoint, so it is read, and after a restart neither is read again.
        store.0.lock().unwrap().push((
            "z/2026/11/28/1.json".into(),
            trail("e5", "2026-11-28T00:05:00Z"),
        ));
        store.0.lock().unwrap().push((
            "a/2026/11/28/5.json".into(),
            trail("e6", "2026-11-28T00:06:00Z"),
        ));
        let mut cps2 = Vec::new();
        // New roots are looked for every 15 minutes: as if they had passed.
        again.next_roots = None;
        assert_eq!(drain(&mut again, &mut cps2), ["e6", "e5"]);
        store.0.lock().unwrap().push((
            "a/2026/11/28/6.json".into(),
            trail("e7", "2026-11-28T00:07:00Z"),
        ));
        let mut after = ObjectSource::new(
            "mem://b/a/",
            Box::new(store.clone()),
            opts.clone(),
            Duration::ZERO,
            &cps2,
        );
        assert_eq!(drain(&mut after, &mut Vec::new()), ["e7"]);
        // Another source's checkpoint is not this one's.
        let mut other = ObjectSource::new(
            "mem://b/other/",
            Box::new(store),
            opts,
            Duration::ZERO,
            &stored,
        );
        assert_eq!(drain(&mut other, &mut Vec::new()).len(), 7);
        assert_ne!(source_id("x").len as usize, crate::fingerprint::HEAD);
    }
}

#[cfg(test)]
mod notified {
    use super::tests_support::*;
    use super::*;
    use std::sync::Mutex;

    /// A queue: messages to hand out, receipts deleted.
    #[derive(Clone, Default)]
    struct Queue {
        inbox: Arc<Mutex<Vec<Notified>>>,
        deleted: Arc<Mutex<Vec<String>>>,
    }

    impl Queue {
        fn send(&self, receipt: &str, keys: &[&str], problems: &[&str]) {
            self.inbox.lock().unwrap().push(Notified {
                receipt: receipt.into(),
                keys: keys.iter().map(|k| k.to_string()).collect(),
                problems: problems.iter().map(|k| k.to_string()).collect(),
            });
        }
        fn deleted(&self) -> Vec<String> {
            std::mem::take(&mut *self.deleted.lock().unwrap())
        }
    }

    impl Notifications for Queue {
        fn take(&mut self, max: usize) -> Vec<Notified> {
            let mut inbox = self.inbox.lock().unwrap();
            let n = inbox.len().min(max);
            inbox.drain(..n).collect()
        }
        fn delete(&mut self, receipts: &[String]) -> Result<(), String> {
            self.deleted
                .lock()
                .unwrap()
                .extend(receipts.iter().cloned());
            Ok(())
        }
        fn display(&self) -> String {
            "https://sqs.us-east-1.amazonaws.com/1/q".into()
        }
    }

    /// Polls until caught up: the events' ids and the checkpoints.
    fn drain(src: &mut ObjectSource) -> (Vec<String>, Vec<Checkpoint>, usize) {
        let (mut ids, mut cps, mut warnings) = (Vec::new(), Vec::new(), 0);
        for _ in 0..20 {
            let p = src.poll(Instant::now());
            ids.extend(p.events.iter().map(|e| e.time.format("e%-M").to_string()));
            cps.extend(p.checkpoints);
            warnings += p
                .notices
                .iter()
                .filter(|n| matches!(n, Notice::FileError { .. }))
                .count();
            if p.state == SourceState::CaughtUp {
                break;
            }
        }
        (ids, cps, warnings)
    }

    fn source(store: &Store, queue: &Queue, resume: &[Checkpoint]) -> ObjectSource {
        // Listing once an hour: only a notification makes an object read soon.
        ObjectSource::new(
            "mem://b/a/",
            Box::new(store.clone()),
            IngestOptions::default(),
            Duration::from_secs(3600),
            resume,
        )
        .with_notifications(Box::new(queue.clone()))
    }

    #[test]
    fn notified_objects_are_read_at_once_and_acknowledged_only_once_stored() {
        let store = Store::default();
        store.put("a/1", 1);
        store.put("a/3", 3);
        let queue = Queue::default();
        let mut src = source(&store, &queue, &[]);
        let (ids, cps, _) = drain(&mut src);
        assert_eq!(ids, ["e1", "e3"]);
        src.committed(&cps);
        let mut stored = cps.last().cloned().unwrap();

        // A new object, notified: read at the next poll, long before the listing
        // would; its message is deleted only once its checkpoint is stored.
        store.put("a/4", 4);
        queue.send("m4", &["a/4"], &[]);
        let (ids, cps, _) = drain(&mut src);
        assert_eq!(ids, ["e4"]);
        assert!(queue.deleted().is_empty());
        src.committed(&cps);
        assert_eq!(queue.deleted(), ["m4"]);
        stored = cps.last().cloned().unwrap_or(stored);

        // Delivered again (a deletion lost): known as read, nothing read, deleted.
        queue.send("m4b", &["a/4"], &[]);
        assert!(drain(&mut src).0.is_empty());
        assert_eq!(queue.deleted(), ["m4b"]);

        // Written late: a key before the checkpoint never read is read once, out of
        // order; the checkpoint keeps its key and grows by its count.
        store.put("a/2", 2);
        queue.send("m2", &["a/2"], &[]);
        let (ids, cps, _) = drain(&mut src);
        assert_eq!(ids, ["e2"]);
        let late = cps.last().unwrap().clone();
        assert_eq!(late.after_key.as_deref(), Some("a/4"));
        assert_eq!(late.skip, 1);
        assert!(late.recent.iter().any(|k| k == "a/2"));

        // Killed before that commit: the message comes back after its visibility
        // timeout, and a restart from the stored checkpoint reads the object once.
        assert!(queue.deleted().is_empty());
        let mut again = source(&store, &queue, std::slice::from_ref(&stored));
        queue.send("m2b", &["a/2"], &[]);
        let (ids, cps, _) = drain(&mut again);
        assert_eq!(ids, ["e2"]);
        again.committed(&cps);
        assert_eq!(queue.deleted(), ["m2b"]);
        // Once stored, a restart knows it as read.
        let mut after = source(&store, &queue, &cps);
        queue.send("m2c", &["a/2"], &[]);
        assert!(drain(&mut after).0.is_empty());
        assert_eq!(queue.deleted(), ["m2c"]);

        // A message naming nothing to read (S3's test event), or only what is not
        // to be read (outside the prefix, malformed): deleted, with a warning for
        // each problem, nothing read; a key no listing finds (deleted since)
        // likewise.
        queue.send("test", &[], &[]);
        queue.send("bad", &[], &["a message that is not JSON"]);
        queue.send("gone", &["a/9"], &[]);
        let (ids, _, warnings) = drain(&mut after);
        assert!(ids.is_empty());
        assert_eq!(warnings, 1);
        let mut d = queue.deleted();
        d.sort();
        assert_eq!(d, ["bad", "gone", "test"]);
    }

    /// The bucket's first objects read as one prefix, then stopped; started again
    /// when its region folders can be told apart (CloudTrail's `<region>/` with
    /// years under it): each folder goes on after what the prefix read, nothing
    /// read twice, and a message of an object read before is known as read.
    #[test]
    fn new_folders_go_on_after_what_their_prefix_read() {
        let store = Store::default();
        store.put("a/1", 1);
        store.put("b/1", 2);
        let queue = Queue::default();
        let mut src = source(&store, &queue, &[]);
        let (ids, cps, _) = drain(&mut src);
        assert_eq!(ids, ["e1", "e2"]);
        *store.1.lock().unwrap() = vec!["a/".into(), "b/".into()];
        store.put("a/2", 3);
        // The store keeps a source's last checkpoint.
        let mut again = source(&store, &queue, &cps[1..]);
        queue.send("m", &["b/1"], &[]);
        let (ids, _, _) = drain(&mut again);
        assert_eq!(ids, ["e3"]);
        assert_eq!(queue.deleted(), ["m"]);
    }
}

#[cfg(test)]
mod tests_support {
    use super::*;
    use std::sync::Mutex;

    type Kept = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

    /// Objects by key, each a CloudTrail file of one event at minute `n`; the
    /// roots it names (none: the whole prefix, `""`).
    #[derive(Clone, Default)]
    pub struct Store(Kept, pub Arc<Mutex<Vec<String>>>);

    impl Store {
        pub fn put(&self, key: &str, n: u32) {
            let body = format!(
                r#"{{"Records":[{{"eventVersion":"1.08","eventTime":"2026-11-28T00:{n:02}:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"aws-cli","eventID":"e{n}","eventType":"AwsApiCall","recipientAccountId":"123456789012","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/a","accountId":"123456789012","userName":"a"}}}}]}}"#
            );
            self.0
                .lock()
                .unwrap()
                .push((key.to_string(), body.into_bytes()));
        }
    }

    impl Objects for Store {
        fn roots(&mut self) -> Result<Vec<String>, String> {
            let r = self.1.lock().unwrap().clone();
            Ok(if r.is_empty() { vec![String::new()] } else { r })
        }
        fn list(
            &mut self,
            root: &str,
            after: Option<&str>,
            max: usize,
        ) -> Result<Vec<String>, String> {
            let mut keys: Vec<String> = self
                .0
                .lock()
                .unwrap()
                .iter()
                .map(|(k, _)| k.clone())
                .collect();
            keys.sort();
            Ok(keys
                .into_iter()
                .filter(|k| k.starts_with(root) && after.is_none_or(|a| k.as_str() > a))
                .take(max)
                .collect())
        }
        fn get(&mut self, key: &str) -> Result<Vec<u8>, String> {
            self.0
                .lock()
                .unwrap()
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, b)| b.clone())
                .ok_or_else(|| "NoSuchKey".into())
        }
        fn display(&self, key: &str) -> String {
            format!("mem://b/{key}")
        }
    }
}
