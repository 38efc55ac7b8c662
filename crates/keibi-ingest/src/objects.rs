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
        }
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
        let d = self
            .resume
            .iter()
            .filter(|c| c.fingerprint == id)
            .find_map(|c| c.after_key.clone());
        self.done.insert(root.to_string(), d.clone());
        d
    }

    fn checkpoint(&self, root: &str, key: &str, format: Format) -> Checkpoint {
        Checkpoint {
            fingerprint: self.lane(root),
            format,
            offset: 0,
            line: 0,
            skip: 0,
            done: true,
            after_key: Some(key.to_string()),
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
            let mut last = self.done_of(&root);
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
        if self.queue.is_empty() && self.next_list.is_none_or(|t| now >= t) {
            self.next_list = Some(now + self.every);
            self.list(now, &mut poll);
        }
        let Some((root, key)) = self.queue.pop_front() else {
            return poll;
        };
        match self.read(&key, &mut poll) {
            Ok(format) => {
                let cp = self.checkpoint(&root, &key, format);
                poll.marks = vec![None; poll.events.len()];
                if let Some(m) = poll.marks.last_mut() {
                    *m = Some(cp.clone());
                }
                poll.checkpoints = vec![cp];
                self.done.insert(root, Some(key));
            }
            Err(e) => {
                // Not handed out: tried again after a listing interval.
                poll.events.clear();
                poll.notices.push(Notice::ReadError {
                    file: Arc::from(self.objects.display(&key).as_str()),
                    line: 0,
                    error: format!("{e}; tried again later"),
                });
                self.queue.push_front((root, key));
                self.retry_at = Some(now + self.every);
            }
        }
        poll.state = if self.queue.is_empty() {
            SourceState::CaughtUp
        } else {
            SourceState::Reading
        };
        poll
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
