//! Follows files as they grow: a path, a directory (recursively) or a glob, polled.
//!
//! Polling, as Vector's file source does, rather than inotify: it works the same on
//! network and overlay filesystems and after a directory is replaced, and a poll every
//! 250 ms keeps an appended line's latency well under a second.
//!
//! Files are known by their content's [`Fingerprint`], not their path, and open files
//! by their inode:
//! - **rotation by rename**: the open handle is read on to its end; the file stays
//!   open while its writer may still write (`linger` after its last growth once no
//!   followed path names it), then is finished. The new file at the path is a new
//!   file, read from its start.
//! - **copytruncate**: the file shrank below what was read (or its head changed): what
//!   was held is flushed and its checkpoint kept; the file is then new content, read
//!   from 0. The copy (`x.log.1`), if followed, has the old fingerprint and is read on
//!   from the checkpoint, so lines written between the last poll and the truncation
//!   are not lost.
//! - **new files** in a followed directory or matching a glob are read from their
//!   start; compressed files (by magic bytes) once whole, after their size held still
//!   for one discovery round. A compressed file whose decompressed head matches a
//!   known fingerprint is that file rotated: skipped if it was read to its end, read on
//!   from its checkpoint if not.
//! - a restart with checkpoints resumes each file exactly after them.
//! - **time order across the files of one source**: a directory or glob is one
//!   source, so its files' events are merged in time order before they are handed
//!   out; a file holding an entry (or not read to its end) makes the others' later
//!   events wait, and each file's checkpoint is the one right after its last event
//!   handed out ([`FollowSource::hand_out_in_order`]); every event is handed out with
//!   the checkpoint right after it ([`Poll::marks`]), for a daemon that detects only
//!   part of a poll before it commits.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use globset::{GlobBuilder, GlobMatcher};
use keibi_model::Event;
use keibi_parse::{Output, ParseConfig};

use crate::decode::{self, Compression};
use crate::feed::{set_instance, Checkpoint, Feed, MAX_PARTIAL};
use crate::fingerprint::{self, Fingerprint};
use crate::inputs::{instance_for, Input, Walker};
use crate::live::{LiveSource, Poll, SourceState, DEFAULT_FLUSH_AFTER};
use crate::merge::{IngestOptions, Notice};
use crate::stream::choose;

/// How files are followed.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Format, prefix, instance and time zone, as for `keibi events`.
    pub ingest: IngestOptions,
    /// How often the caller should poll (the source itself never sleeps).
    pub poll: Duration,
    /// How often directories and globs are walked for new files (named files are
    /// looked at on every poll).
    pub discover: Duration,
    /// How long a held multi-line entry waits for its continuation lines.
    pub flush_after: Duration,
    /// How long a file no followed path names any more (renamed away, deleted) stays
    /// open after its last growth, for its writer's last lines.
    pub linger: Duration,
    /// Files open at once; the longest quiet are closed (and reopened when they grow).
    pub max_open: usize,
    /// Bytes read from one file per poll, so one busy file does not starve the others.
    pub read_budget: usize,
    /// A file resumed from a checkpoint is read again from its start (also one read
    /// to its end): the events before the checkpoint come out in [`Poll::replay`],
    /// the rest as usual. A daemon's detectors rebuild their windows from them.
    pub warm: bool,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            ingest: IngestOptions::default(),
            poll: Duration::from_millis(250),
            discover: Duration::from_secs(1),
            flush_after: DEFAULT_FLUSH_AFTER,
            linger: Duration::from_secs(5),
            max_open: 256,
            read_budget: 1 << 20,
            warm: false,
        }
    }
}

/// A followed path that cannot be followed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("invalid glob {pattern:?}: {error}")]
    Glob {
        pattern: String,
        error: globset::Error,
    },
}

/// What happened to files, in numbers (for tests and a daemon's status).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowStats {
    /// Files opened for reading (new, resumed or reopened).
    pub opened: u64,
    /// Open files that left their path (renamed away or deleted).
    pub moved: u64,
    /// Files that shrank or whose head changed under an open handle.
    pub truncated: u64,
    /// Files skipped as copies of a file being read or already read.
    pub duplicates: u64,
}

type FileId = (u64, u64);

enum Target {
    File(PathBuf),
    Dir(PathBuf),
    Glob { base: PathBuf, matcher: GlobMatcher },
}

enum Reader {
    Plain(File),
    Packed(Box<dyn Read + Send>),
}

struct Tracked {
    fp: Fingerprint,
    path: PathBuf,
    file: Arc<str>,
    instance: Option<Arc<str>>,
    reader: Reader,
    /// Bytes read from the reader (decompressed offset).
    pos: u64,
    partial: Vec<u8>,
    feed: Feed,
    last_growth: Instant,
    gone_since: Option<Instant>,
    reported: Option<Checkpoint>,
    /// The latest event time read from the file (handed out, waiting, replayed).
    newest: Option<DateTime<Utc>>,
    /// Since when its parser may hold an entry not handed out (bytes fed since the
    /// last event or flush); `None` when it holds nothing.
    holding_since: Option<Instant>,
    /// The last poll left bytes of it unread (its budget ran out, or the poll's, or
    /// it was not read while events of it waited).
    behind: bool,
    /// Events read but not handed out, each with the checkpoint right after it: they
    /// wait while another file of the source may still give older ones (see
    /// [`FollowSource::hand_out_in_order`]). The file is not read on meanwhile.
    waiting: VecDeque<(Event, Checkpoint)>,
}

/// Why a file seen by discovery is not open, until its size changes.
struct Judged {
    size: u64,
    fp: Option<Fingerprint>,
    /// Never look again while this inode lives (unreadable format).
    forever: bool,
    /// Waiting for its head to show enough for an inferred prefix: judged again, with
    /// what is there, once it has not grown for [`FollowSource::settle_after`].
    undecided: bool,
    /// When it was judged at this size.
    since: Instant,
}

/// Checkpoints of files not open, at most this many (the oldest are forgotten).
const MAX_RESTING: usize = 10_000;
/// Bytes read from a new file's start for its fingerprint and format.
const HEAD: usize = 64 * 1024;
/// Bytes read in one poll from all files together: a poll's events stay a few
/// megabytes however many files have a backlog.
const POLL_BUDGET: usize = 8 << 20;

/// Follows paths, directories and globs.
pub struct FollowSource {
    targets: Vec<Target>,
    opts: FollowOptions,
    open: HashMap<FileId, Tracked>,
    resting: HashMap<Fingerprint, (u64, Checkpoint)>,
    resting_seq: u64,
    judged: HashMap<FileId, Judged>,
    /// Compressed files waiting for their size to hold still.
    waiting: HashMap<FileId, u64>,
    next_discover: Option<Instant>,
    stats: FollowStats,
    buf: Vec<u8>,
    /// Bytes read in this poll, and whose turn it is to be read first.
    polled: usize,
    turn: usize,
}

impl FollowSource {
    /// Follows `patterns` (paths, directories, or globs such as
    /// `/var/log/postgresql/*.log`), resuming the files of `checkpoints`.
    pub fn new(
        patterns: &[String],
        opts: FollowOptions,
        checkpoints: impl IntoIterator<Item = Checkpoint>,
    ) -> Result<FollowSource, FollowError> {
        let mut targets = Vec::new();
        for p in patterns {
            if p.contains(['*', '?', '[', '{']) {
                // Shell semantics: `*` stays within a directory, `**` crosses them.
                let matcher = GlobBuilder::new(p)
                    .literal_separator(true)
                    .build()
                    .map_err(|error| FollowError::Glob {
                        pattern: p.clone(),
                        error,
                    })?
                    .compile_matcher();
                let base: PathBuf = Path::new(p)
                    .components()
                    .take_while(|c| {
                        !c.as_os_str()
                            .to_string_lossy()
                            .contains(['*', '?', '[', '{'])
                    })
                    .collect();
                let base = if base.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    base
                };
                targets.push(Target::Glob { base, matcher });
            } else if Path::new(p).is_dir() {
                targets.push(Target::Dir(PathBuf::from(p)));
            } else {
                targets.push(Target::File(PathBuf::from(p)));
            }
        }
        let mut src = FollowSource {
            targets,
            opts,
            open: HashMap::new(),
            resting: HashMap::new(),
            resting_seq: 0,
            judged: HashMap::new(),
            waiting: HashMap::new(),
            next_discover: None,
            stats: FollowStats::default(),
            buf: vec![0; 64 * 1024],
            polled: 0,
            turn: 0,
        };
        for cp in checkpoints {
            src.rest(cp);
        }
        Ok(src)
    }

    pub fn stats(&self) -> &FollowStats {
        &self.stats
    }

    /// Every checkpoint the source holds: open files and files it has seen before.
    pub fn checkpoints(&self) -> Vec<Checkpoint> {
        let mut v: Vec<Checkpoint> = self
            .open
            .values()
            .map(|t| t.feed.checkpoint(t.fp))
            .chain(self.resting.values().map(|(_, c)| c.clone()))
            .collect();
        v.sort_by_key(|c| c.fingerprint);
        v
    }

    /// The files open now.
    pub fn open_files(&self) -> Vec<PathBuf> {
        let mut v: Vec<_> = self.open.values().map(|t| t.path.clone()).collect();
        v.sort();
        v
    }

    fn rest(&mut self, cp: Checkpoint) {
        self.resting_seq += 1;
        self.resting.insert(cp.fingerprint, (self.resting_seq, cp));
        if self.resting.len() > MAX_RESTING {
            if let Some(oldest) = self
                .resting
                .iter()
                .min_by_key(|(_, (s, _))| *s)
                .map(|(k, _)| *k)
            {
                self.resting.remove(&oldest);
            }
        }
    }

    /// Walks the targets: every regular file they name, with the directory it was
    /// found under (for the instance rule).
    fn walk(&self, named_only: bool) -> Vec<(PathBuf, Option<PathBuf>)> {
        let mut found = Vec::new();
        for t in &self.targets {
            match t {
                Target::File(p) => found.push((p.clone(), None)),
                Target::Dir(d) if !named_only => {
                    let mut files = Vec::new();
                    walk_dir(d, &mut files);
                    found.extend(files.into_iter().map(|f| (f, Some(d.clone()))));
                }
                Target::Glob { base, matcher } if !named_only => {
                    let mut files = Vec::new();
                    walk_dir(base, &mut files);
                    found.extend(
                        files
                            .into_iter()
                            // `*.log` names `a.log`, which the walk of `.` finds as `./a.log`.
                            .filter(|f| matcher.is_match(f.strip_prefix(".").unwrap_or(f)))
                            .map(|f| (f, Some(base.clone()))),
                    );
                }
                _ => {}
            }
        }
        found
    }

    fn discover(&mut self, now: Instant, poll: &mut Poll) {
        let full = self.next_discover.is_none_or(|t| now >= t)
            || self.targets.iter().all(|t| matches!(t, Target::File(_)));
        if !full {
            // Named files are cheap to look at on every poll.
            for (path, root) in self.walk(true) {
                self.look_at(&path, root, now, poll);
            }
            return;
        }
        self.next_discover = Some(now + self.opts.discover);
        let mut seen = HashSet::new();
        for (path, root) in self.walk(false) {
            if let Some(id) = self.look_at(&path, root, now, poll) {
                seen.insert(id);
            }
        }
        for (id, t) in self.open.iter_mut() {
            if !seen.contains(id) && t.gone_since.is_none() {
                t.gone_since = Some(now);
                self.stats.moved += 1;
            }
        }
        self.judged.retain(|id, _| seen.contains(id));
        self.waiting.retain(|id, _| seen.contains(id));
    }

    /// Looks at one path found by discovery.
    fn look_at(
        &mut self,
        path: &Path,
        root: Option<PathBuf>,
        now: Instant,
        poll: &mut Poll,
    ) -> Option<FileId> {
        let meta = fs::metadata(path).ok().filter(Metadata::is_file)?;
        let id = (meta.dev(), meta.ino());
        if let Some(t) = self.open.get_mut(&id) {
            if t.path != path {
                t.path = path.to_path_buf();
            }
            t.gone_since = None;
            // The head still the one fingerprinted? (truncated and written past the
            // old size between two polls would not show as shrinking)
            if let Reader::Plain(f) = &mut t.reader {
                match read_head_at_start(f, t.pos, fingerprint::HEAD) {
                    Ok(head) if !t.fp.matches(&head) => {
                        self.truncated(id, poll);
                        return self.look_at(path, root, now, poll);
                    }
                    Ok(head) if t.fp.is_short() => {
                        if let Some(longer) = Fingerprint::of(&head) {
                            if longer.len > t.fp.len {
                                t.fp = longer;
                            }
                        }
                    }
                    _ => {}
                }
            }
            return Some(id);
        }
        let mut still = false;
        if let Some(j) = self.judged.get(&id) {
            if j.forever {
                return Some(id);
            }
            if j.size == meta.len() {
                // A file that stopped growing before its head settled an inferred
                // prefix (log_connections off, a small rotated file) is decided with
                // what is there, as `keibi scan` does.
                if !(j.undecided && now.saturating_duration_since(j.since) >= self.settle_after()) {
                    return Some(id);
                }
                still = true;
            }
            self.judged.remove(&id);
        }
        self.judge(id, path, root, &meta, now, poll, still);
        Some(id)
    }

    /// How long a file waiting for its head to settle an inferred prefix may stay the
    /// same size before it is decided with what is there: a few polls, and at least
    /// the idle flush.
    fn settle_after(&self) -> Duration {
        self.opts.flush_after.max(self.opts.poll * 4)
    }

    /// A file that could not be opened or decoded: reported, and looked at again only
    /// when its size changes.
    fn unreadable(
        &mut self,
        id: FileId,
        size: u64,
        display: Arc<str>,
        e: &io::Error,
        poll: &mut Poll,
    ) {
        poll.notices.push(Notice::FileError {
            file: display,
            error: e.to_string(),
        });
        self.judged.insert(
            id,
            Judged {
                size,
                fp: None,
                forever: false,
                undecided: false,
                since: Instant::now(),
            },
        );
    }

    /// Decides what to do with a file not open: open it (new, or known and not read
    /// to its end) or remember why not. `still`: it has not grown for a while, so a
    /// prefix is inferred from what is there.
    #[allow(clippy::too_many_arguments)]
    fn judge(
        &mut self,
        id: FileId,
        path: &Path,
        root: Option<PathBuf>,
        meta: &Metadata,
        now: Instant,
        poll: &mut Poll,
        still: bool,
    ) {
        let size = meta.len();
        let display: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
        let input = Input::File {
            path: path.to_path_buf(),
            display: display.clone(),
            root,
        };
        let head = match File::open(path).and_then(|mut f| read_up_to(&mut f, HEAD)) {
            Ok(h) => h,
            Err(e) => return self.unreadable(id, size, display, &e, poll),
        };
        let packed = Compression::sniff(&head) != Compression::None;
        let (head, complete) = if packed {
            // Read once whole: only after its size held still for one round (a
            // download or `aws s3 sync` may still be writing it).
            if self.waiting.insert(id, size) != Some(size) {
                return;
            }
            self.waiting.remove(&id);
            match decode::open(&input, Arc::default()).and_then(|(mut r, _)| {
                let h = read_up_to(&mut r, HEAD)?;
                let complete = h.len() < HEAD;
                Ok((h, complete))
            }) {
                Ok(x) => x,
                Err(e) => return self.unreadable(id, size, display, &e, poll),
            }
        } else {
            // A first line still being written (no line end yet, in a head shorter
            // than a full fingerprint) would be fingerprinted by a few bytes that
            // the writer's next file may start with too: the same timestamp to the
            // second and host after a rotation, which then took this file's
            // checkpoint. Wait for a line end, or for the size to hold still for
            // one round (a file of one line with no line end is read then).
            if head.len() < HEAD
                && !head.contains(&b'\n')
                && self.waiting.insert(id, size) != Some(size)
            {
                return;
            }
            self.waiting.remove(&id);
            (head, false)
        };
        // A file already known by its content?
        if let Some(fp) = self.known(&head) {
            let active = self.open.values().any(|t| t.fp == fp);
            let warm = self.opts.warm;
            let resume = self.resting.get(&fp).map(|(_, c)| c.clone()).filter(|c| {
                if warm {
                    true
                } else if packed {
                    !c.done
                } else {
                    size > c.offset
                }
            });
            match resume {
                Some(cp) if !active && (packed || warm || cp.offset <= size) => {
                    self.resting.remove(&fp);
                    self.forget_shorter(fp, &head);
                    // The prefix is not stored: inferred again from the same head
                    // (the format was decided before: with what is there).
                    let prefix = match choose(&head, complete, &self.opts.ingest, false) {
                        Ok((f, p)) if f == cp.format => p,
                        _ => None,
                    };
                    self.start(
                        id,
                        input,
                        &display,
                        packed,
                        fp,
                        cp.format,
                        prefix,
                        Some(cp),
                        now,
                        poll,
                    );
                }
                _ => {
                    self.stats.duplicates += u64::from(active || packed);
                    self.judged.insert(
                        id,
                        Judged {
                            size,
                            fp: Some(fp),
                            forever: false,
                            undecided: false,
                            since: now,
                        },
                    );
                }
            }
            return;
        }
        let Some(fp) = Fingerprint::of(&head) else {
            // Empty.
            self.judged.insert(
                id,
                Judged {
                    size,
                    fp: None,
                    forever: false,
                    undecided: false,
                    since: now,
                },
            );
            return;
        };
        // Known formats and prefixes first; else a prefix inferred from the head, once
        // it shows client sessions' lines (or is full): until then the file is judged
        // again as it grows.
        let (format, prefix) = match choose(&head, complete, &self.opts.ingest, !still) {
            Ok(chosen) => chosen,
            Err(closest) => {
                let gave_up = complete || head.len() >= HEAD;
                let undecided =
                    !gave_up && !still && closest.as_ref().is_some_and(|i| i.accepted());
                if gave_up {
                    let closest = closest.map_or(String::new(), |i| {
                        format!(
                            " (the closest log_line_prefix, inferred from its first lines, is '{}' and reads only {} of {} of them)",
                            i.prefix.escape_debug(),
                            i.explained,
                            i.sampled
                        )
                    });
                    poll.notices.push(Notice::FileError {
                        file: display,
                        error: format!("format not recognized{closest}; name it with --log-format, or for PostgreSQL give your log_line_prefix with --pg-prefix"),
                    });
                }
                self.judged.insert(
                    id,
                    Judged {
                        size,
                        fp: Some(fp),
                        forever: gave_up,
                        undecided,
                        since: now,
                    },
                );
                return;
            }
        };
        self.start(
            id, input, &display, packed, fp, format, prefix, None, now, poll,
        );
    }

    /// The known fingerprint (open or resting) a file starting with `head` has: the
    /// same head, or a file known while shorter than a full head (prefix-matched: it
    /// has grown, or it is that file compressed; such short fingerprints are few, so
    /// only they are hashed again).
    fn known(&self, head: &[u8]) -> Option<Fingerprint> {
        let same = Fingerprint::of(head)?;
        if self.resting.contains_key(&same) || self.open.values().any(|t| t.fp == same) {
            return Some(same);
        }
        self.open
            .values()
            .map(|t| t.fp)
            .chain(self.resting.keys().copied())
            .filter(|fp| fp.len < same.len && fp.matches(head))
            // A file known while short was fingerprinted again as it grew: the longest
            // fingerprint is the latest knowledge (older ones may linger in a store).
            .max_by_key(|fp| fp.len)
    }

    /// Forgets resting checkpoints of shorter fingerprints of the file starting with
    /// `head`, now known as `fp`.
    fn forget_shorter(&mut self, fp: Fingerprint, head: &[u8]) {
        self.resting
            .retain(|k, (_, c)| c.done || k.len >= fp.len || !k.matches(head));
    }

    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        id: FileId,
        input: Input,
        display: &Arc<str>,
        packed: bool,
        fp: Fingerprint,
        format: keibi_parse::Format,
        prefix: Option<String>,
        at: Option<Checkpoint>,
        now: Instant,
        poll: &mut Poll,
    ) {
        let warm = self.opts.warm && at.is_some();
        let offset = if warm {
            0
        } else {
            at.as_ref().map_or(0, |c| c.offset)
        };
        let opened = (|| -> io::Result<Reader> {
            if packed {
                let (mut r, _) = decode::open(&input, Arc::default())?;
                io::copy(&mut (&mut r).take(offset), &mut io::sink())?;
                Ok(Reader::Packed(r))
            } else {
                let Input::File { path, .. } = &input else {
                    return Err(io::ErrorKind::InvalidInput.into());
                };
                let mut f = File::open(path)?;
                f.seek(SeekFrom::Start(offset))?;
                Ok(Reader::Plain(f))
            }
        })();
        let reader = match opened {
            Ok(r) => r,
            Err(e) => {
                poll.notices.push(Notice::FileError {
                    file: display.clone(),
                    error: e.to_string(),
                });
                return;
            }
        };
        if self.open.len() >= self.opts.max_open {
            self.close_quietest(poll);
        }
        let mut cfg = ParseConfig::new(display.clone());
        cfg.pg_prefix = self.opts.ingest.pg_prefix.clone().or(prefix);
        cfg.local_offset = self.opts.ingest.local_offset;
        cfg.instance = self.opts.ingest.instance.clone();
        let instance = if format == keibi_parse::Format::Cloudtrail {
            None
        } else {
            instance_for(&input).map(|s| Arc::from(s.as_str()))
        };
        let Input::File { path, .. } = input else {
            return;
        };
        poll.notices.push(Notice::Opened {
            file: display.clone(),
            format,
        });
        self.stats.opened += 1;
        let mut feed = match &at {
            Some(cp) if warm => Feed::warm(format, &cfg, cp),
            _ => Feed::new(format, &cfg, at.as_ref()),
        };
        feed.mark_events();
        self.open.insert(
            id,
            Tracked {
                fp,
                path,
                file: display.clone(),
                instance,
                reader,
                pos: offset,
                partial: Vec::new(),
                feed,
                last_growth: now,
                gone_since: None,
                reported: at,
                newest: None,
                holding_since: None,
                behind: true,
                waiting: VecDeque::new(),
            },
        );
    }

    /// Hands out the files' waiting events in time order across the files, as far
    /// as every file allows, with each file's checkpoint right after the last event
    /// of it handed out (so a poll's checkpoints cover exactly its events).
    ///
    /// A directory or glob is one source, but its files are written apart: a file
    /// whose parser holds its last entry (until the idle flush lets it out), or that
    /// was not read to its end, may still give events as old as its latest one. The
    /// other files' later events wait for it, as `keibi scan` orders them; before,
    /// a held entry came after them (late), and a detector pairing two logs of one
    /// server counted it twice. A file that keeps growing without giving an event
    /// holds the others for at most twice the idle flush.
    fn hand_out_in_order(&mut self, now: Instant, poll: &mut Poll) {
        let wait = self.opts.flush_after * 2;
        // The earliest time still to come from a file (None: only what is newer
        // than everything it gave).
        let from = |t: &Tracked| -> Option<DateTime<Utc>> {
            if let Some((e, _)) = t.waiting.front() {
                return Some(e.time);
            }
            let holding = t
                .holding_since
                .is_some_and(|s| now.saturating_duration_since(s) < wait);
            (t.behind || holding).then(|| t.newest.unwrap_or(DateTime::<Utc>::MIN_UTC))
        };
        let mut last: HashMap<FileId, Checkpoint> = HashMap::new();
        // The file whose next waiting event is the oldest goes first, up to what the
        // others may still give.
        while let Some((id, front)) = self
            .open
            .iter()
            .filter_map(|(id, t)| t.waiting.front().map(|(e, _)| (*id, e.time)))
            .min_by_key(|&(id, time)| (time, id))
        {
            let limit = self
                .open
                .iter()
                .filter(|(other, _)| **other != id)
                .filter_map(|(_, t)| from(t))
                .min();
            if limit.is_some_and(|l| front > l) {
                break;
            }
            let Some(t) = self.open.get_mut(&id) else {
                break;
            };
            while let Some((e, _)) = t.waiting.front() {
                if limit.is_some_and(|l| e.time > l) {
                    break;
                }
                let Some((e, cp)) = t.waiting.pop_front() else {
                    break;
                };
                poll.events.push(e);
                poll.marks.push(Some(cp.clone()));
                last.insert(id, cp);
            }
        }
        for (id, t) in self.open.iter_mut() {
            let cp = if t.waiting.is_empty() {
                t.feed.checkpoint(t.fp)
            } else if let Some(cp) = last.remove(id) {
                cp
            } else {
                continue;
            };
            if t.reported.as_ref() != Some(&cp) {
                poll.checkpoints.push(cp.clone());
                t.reported = Some(cp);
            }
        }
    }

    /// Closes the open file that grew least recently (flushed; reopened from its
    /// checkpoint when it grows).
    fn close_quietest(&mut self, poll: &mut Poll) {
        let Some(id) = self
            .open
            .iter()
            .min_by_key(|(_, t)| t.last_growth)
            .map(|(id, _)| *id)
        else {
            return;
        };
        self.close(id, false, poll);
    }

    /// Closes an open file: `finish` when it is read to its end for good.
    fn close(&mut self, id: FileId, finish: bool, poll: &mut Poll) {
        let Some(mut t) = self.open.remove(&id) else {
            return;
        };
        let mut out = Output::new();
        if finish {
            flush_partial(&mut t, &mut out, true);
            t.feed.finish(&mut out);
        } else {
            t.feed.flush(&mut out);
        }
        hand_out(&mut t, out, poll);
        let cp = t.feed.checkpoint(t.fp);
        if t.reported.as_ref() != Some(&cp) {
            poll.checkpoints.push(cp.clone());
        }
        let size = match &t.reader {
            Reader::Plain(f) => f.metadata().map(|m| m.len()).unwrap_or(0),
            Reader::Packed(_) => fs::metadata(&t.path).map(|m| m.len()).unwrap_or(0),
        };
        self.judged.insert(
            id,
            Judged {
                size,
                fp: Some(t.fp),
                forever: false,
                undecided: false,
                since: Instant::now(),
            },
        );
        self.rest(cp);
    }

    /// A file shrank under its handle, or its head changed: copytruncate, or replaced
    /// in place. What it held is flushed and its checkpoint kept for a copy to go on
    /// from; the inode is then a new file.
    fn truncated(&mut self, id: FileId, poll: &mut Poll) {
        self.stats.truncated += 1;
        let Some(mut t) = self.open.remove(&id) else {
            return;
        };
        let mut out = Output::new();
        t.feed.flush(&mut out);
        hand_out(&mut t, out, poll);
        let cp = t.feed.checkpoint(t.fp);
        poll.checkpoints.push(cp.clone());
        let fp = t.fp;
        self.rest(cp);
        // A copy judged a duplicate while this file was open is now the way on.
        self.judged.retain(|_, j| j.fp != Some(fp));
        self.next_discover = None;
    }

    /// Reads one open file: returns whether its budget ran out (more is waiting).
    fn read(&mut self, id: FileId, now: Instant, poll: &mut Poll) -> bool {
        let budget = self.opts.read_budget;
        let flush_after = self.opts.flush_after;
        let linger = self.opts.linger;
        let Some(t) = self.open.get_mut(&id) else {
            return false;
        };
        if !t.waiting.is_empty() {
            // Not read on while its events wait (memory stays one read a file); it
            // may have grown meanwhile.
            t.behind = true;
            return false;
        }
        if let Reader::Plain(f) = &mut t.reader {
            // Shrunk below what was read, or grown with another head (truncated and
            // written past the old size since the last poll): a kilobyte read per
            // poll of a growing file keeps the second from passing for growth.
            let len = f.metadata().map_or(t.pos, |m| m.len());
            let replaced = len < t.pos
                || (len > t.pos
                    && matches!(read_head_at_start(f, t.pos, fingerprint::HEAD),
                                Ok(h) if !t.fp.matches(&h)));
            if replaced {
                self.truncated(id, poll);
                return true;
            }
        }
        let mut out = Output::new();
        let mut got = 0usize;
        let mut ended = false;
        let mut error = None;
        while got < budget {
            let want = (budget - got).min(self.buf.len());
            let r = match &mut t.reader {
                Reader::Plain(f) => f.read(&mut self.buf[..want]),
                Reader::Packed(r) => r.read(&mut self.buf[..want]),
            };
            match r {
                Ok(0) => {
                    ended = true;
                    break;
                }
                Ok(n) => {
                    got += n;
                    t.pos += n as u64;
                    t.partial.extend_from_slice(&self.buf[..n]);
                    flush_partial(t, &mut out, false);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    error = Some(e);
                    ended = true;
                    break;
                }
            }
        }
        if got > 0 {
            t.last_growth = now;
        }
        self.polled += got;
        let packed = matches!(t.reader, Reader::Packed(_));
        if let Some(e) = error {
            poll.notices.push(Notice::ReadError {
                file: t.file.clone(),
                line: t.feed.checkpoint(t.fp).line + 1,
                error: format!("read error ({e}); read what came before"),
            });
        }
        let quiet = now.duration_since(t.last_growth);
        if ended && !packed && t.feed.held && quiet >= flush_after {
            t.feed.flush(&mut out);
        }
        let emitted = !out.events.is_empty() || !t.feed.replayed.is_empty();
        take_in(t, out, poll);
        // A document format (CloudTrail's JSON) is complete only at its end, and a
        // file delivered whole is read at once: only line formats hold an entry.
        t.holding_since = if t.feed.held && t.feed.line_oriented() {
            t.holding_since.filter(|_| !emitted).or(Some(now))
        } else {
            None
        };
        t.behind = !ended;
        let done = ended
            && (packed
                || t.gone_since
                    .is_some_and(|g| now.duration_since(g.max(t.last_growth)) >= linger));
        if done {
            self.close(id, true, poll);
            return false;
        }
        // Its checkpoint is reported as its events are handed out.
        !ended
    }
}

/// Feeds a file's complete lines (all of it when `all`, or a piece of an over-long line).
fn flush_partial(t: &mut Tracked, out: &mut Output, all: bool) {
    let cut = if all || t.partial.len() > MAX_PARTIAL || !t.feed.line_oriented() {
        t.partial.len()
    } else {
        memchr::memrchr(b'\n', &t.partial).map_or(0, |nl| nl + 1)
    };
    if cut > 0 {
        t.feed.push(&t.partial[..cut], out);
        t.partial.drain(..cut);
    }
}

/// Moves a file's parsed output into the poll at once, after its waiting events
/// (the file is closed or was truncated: nothing more comes from it).
fn hand_out(t: &mut Tracked, mut out: Output, poll: &mut Poll) {
    for (e, cp) in t.waiting.drain(..) {
        poll.events.push(e);
        poll.marks.push(Some(cp));
    }
    let marks = t.feed.take_marks(t.fp);
    set_instance(&mut out.events, None, t.instance.as_ref());
    notices_and_replay(t, out.problems, poll);
    if marks.len() == out.events.len() {
        poll.marks.extend(marks.into_iter().map(Some));
    } else {
        // (Never: one mark per event.) Covered by the file's checkpoint only.
        poll.marks.resize(poll.marks.len() + out.events.len(), None);
    }
    poll.events.append(&mut out.events);
}

/// Takes a read's parsed output: its events wait, with the checkpoint after each,
/// for [`FollowSource::hand_out_in_order`]; lines not understood and replayed
/// events go to the poll.
fn take_in(t: &mut Tracked, mut out: Output, poll: &mut Poll) {
    set_instance(&mut out.events, None, t.instance.as_ref());
    let newest = out
        .events
        .iter()
        .chain(&t.feed.replayed)
        .map(|e| e.time)
        .max();
    t.newest = t.newest.max(newest);
    notices_and_replay(t, out.problems, poll);
    let marks = t.feed.take_marks(t.fp);
    if marks.len() == out.events.len() {
        t.waiting.extend(out.events.drain(..).zip(marks));
    } else {
        // (Never: one mark per event.) Hand them out with the file's checkpoint.
        poll.marks.resize(poll.marks.len() + out.events.len(), None);
        poll.events.append(&mut out.events);
    }
}

fn notices_and_replay(t: &mut Tracked, problems: Vec<keibi_parse::Problem>, poll: &mut Poll) {
    for p in problems {
        poll.notices.push(Notice::Line {
            file: t.file.clone(),
            line: p.line,
            reason: p.reason,
            unrecognized: p.lines > 0,
        });
    }
    if !t.feed.replayed.is_empty() {
        set_instance(&mut t.feed.replayed, None, t.instance.as_ref());
        poll.replay.append(&mut t.feed.replayed);
    }
}

impl LiveSource for FollowSource {
    fn poll(&mut self, now: Instant) -> Poll {
        let mut poll = Poll::new();
        self.discover(now, &mut poll);
        let mut ids: Vec<FileId> = self.open.keys().copied().collect();
        ids.sort_unstable();
        // Each poll starts at the next file, so a bounded poll is fair to all.
        if !ids.is_empty() {
            let turn = self.turn % ids.len();
            ids.rotate_left(turn);
        }
        self.turn = self.turn.wrapping_add(1);
        self.polled = 0;
        let mut more = false;
        for id in ids {
            if self.polled >= POLL_BUDGET {
                more = true;
                // Not read this time: it may have more.
                if let Some(t) = self.open.get_mut(&id) {
                    t.behind = true;
                }
                continue;
            }
            more |= self.read(id, now, &mut poll);
        }
        self.hand_out_in_order(now, &mut poll);
        poll.pending = self
            .open
            .values()
            .any(|t| !t.waiting.is_empty() || t.holding_since.is_some());
        if let Some(inst) = self.opts.ingest.instance.as_deref() {
            set_instance(&mut poll.events, Some(inst), None);
            set_instance(&mut poll.replay, Some(inst), None);
        }
        poll.state = if more {
            SourceState::Reading
        } else {
            SourceState::CaughtUp
        };
        poll
    }
}

/// Reads the first `limit` bytes of an open file and puts its position back.
fn read_head_at_start(f: &mut File, pos: u64, limit: usize) -> io::Result<Vec<u8>> {
    f.seek(SeekFrom::Start(0))?;
    let head = read_up_to(f, limit);
    f.seek(SeekFrom::Start(pos))?;
    head
}

fn read_up_to(r: &mut impl Read, limit: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(limit.min(HEAD));
    r.take(limit as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Regular files under `dir`, recursively, through the one [`Walker`] every input walk
/// uses (links followed once, loops not followed); hidden entries, CloudTrail digests
/// and documentation skipped, as `keibi events` does. A walk repeats every poll, so
/// what it passes over is not reported here again: `keibi events` on the same path
/// says it once.
fn walk_dir(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut walker = Walker::new(&crate::inputs::skip_entry, &|_| true);
    files.extend(walker.walk(dir));
}

#[cfg(test)]
mod tests;
