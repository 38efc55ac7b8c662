//! A live source of log files read in portions from an opaque marker: RDS's log
//! files (DescribeDBLogFiles, DownloadDBLogFilePortion). The service is a hook
//! ([`LogFiles`]) the caller gives: this crate knows no AWS. Each listing (at most
//! every `every`) names the files with their last write and size; a file whose
//! listing moved since its mark is read from its mark's marker, portion after
//! portion while the service says more is pending, each portion parsed as the file
//! named after it. A file's checkpoint is the marker after the last portion handed
//! out with the listing's last write and size, so a restart resumes exactly after
//! it (no gap, no repeat) and asks nothing of a file that did not change. A file no
//! longer listed (rotated away) is forgotten.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::feed::Checkpoint;
use crate::live::{LiveSource, Poll, SourceState};
use crate::merge::{IngestOptions, Notice};
use crate::objects::{parse_whole, source_id};

/// One file as the service lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    pub name: String,
    /// Milliseconds since the epoch.
    pub last_written: i64,
    pub size: u64,
}

/// One portion read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePortion {
    pub data: Vec<u8>,
    /// Where the next portion starts.
    pub marker: String,
    /// The service has more after it.
    pub pending: bool,
}

/// Where the files are.
pub trait LogFiles: Send {
    fn list(&mut self) -> Result<Vec<ListedFile>, String>;
    /// The portion of `file` from `marker` (`0` for its start).
    fn portion(&mut self, file: &str, marker: &str) -> Result<FilePortion, String>;
    /// The name a file's events carry as their file.
    fn display(&self, file: &str) -> String;
    /// The database instance the files are of.
    fn instance(&self) -> Option<String>;
}

/// Portions one poll reads of one file at most (RDS's are 1 MB at most) before it
/// hands out what it has (the next poll goes on at once: the source says
/// `Reading`).
pub const PORTIONS_PER_POLL: usize = 16;

/// Where a file was read to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Mark {
    /// The file's last write as listed when it was read from its start: a file
    /// that replaces another of the same name (MySQL's `audit/server_audit.log`
    /// starts again after each rotation) has a later one, so its checkpoints sort
    /// after the old file's.
    epoch: i64,
    /// Bytes handed out of the file since its start: only grows.
    handed: u64,
    marker: String,
    last_written: i64,
    size: u64,
}

impl Mark {
    /// A file read from its start, as listed now.
    fn start(f: &ListedFile) -> Mark {
        Mark {
            epoch: f.last_written.max(0),
            marker: "0".into(),
            ..Mark::default()
        }
    }

    /// As a checkpoint's key: the file's name first (it holds no newline: the
    /// caller's names are checked, and a stored key is split at the first one),
    /// then the epoch and the bytes handed out zero-padded, so a file's keys sort by
    /// progress as the daemon's order of checkpoints wants.
    fn key(&self, file: &str) -> String {
        format!(
            "{file}\n{:020}\n{:020}\n{}\n{}\n{}",
            self.epoch, self.handed, self.last_written, self.size, self.marker
        )
    }

    fn parse(key: &str) -> Option<(String, Mark)> {
        let mut parts = key.splitn(6, '\n');
        let file = parts.next()?.to_string();
        let epoch = parts.next()?.parse().ok()?;
        let handed = parts.next()?.parse().ok()?;
        let last_written = parts.next()?.parse().ok()?;
        let size = parts.next()?.parse().ok()?;
        let marker = parts.next()?.to_string();
        Some((
            file,
            Mark {
                epoch,
                handed,
                marker,
                last_written,
                size,
            },
        ))
    }
}

/// A live source over [`LogFiles`].
pub struct LogFileSource {
    files: Box<dyn LogFiles>,
    opts: IngestOptions,
    name: String,
    every: Duration,
    next_list: Option<Instant>,
    /// Files still being read in portions (more pending), read on the next poll
    /// without a listing.
    unfinished: Vec<ListedFile>,
    marks: BTreeMap<String, Mark>,
}

impl LogFileSource {
    /// `name` identifies the source across restarts; `resume` is every stored
    /// checkpoint (those of other sources are ignored).
    pub fn new(
        name: &str,
        files: Box<dyn LogFiles>,
        opts: IngestOptions,
        every: Duration,
        resume: &[Checkpoint],
    ) -> LogFileSource {
        let mut s = LogFileSource {
            files,
            opts,
            name: name.to_string(),
            every,
            next_list: None,
            unfinished: Vec::new(),
            marks: BTreeMap::new(),
        };
        for c in resume {
            if let Some((file, mark)) = c.after_key.as_deref().and_then(Mark::parse) {
                if c.fingerprint == s.lane(&file) {
                    s.marks.insert(file, mark);
                }
            }
        }
        s
    }

    fn lane(&self, file: &str) -> crate::Fingerprint {
        source_id(&format!("{}\0{file}", self.name))
    }

    fn checkpoint(&self, file: &str, mark: &Mark) -> Checkpoint {
        Checkpoint {
            fingerprint: self.lane(file),
            format: keibi_parse::Format::Cloudtrail,
            offset: 0,
            line: 0,
            skip: 0,
            done: true,
            after_key: Some(mark.key(file)),
            recent: Vec::new(),
        }
    }

    /// Reads `f` from its mark, at most [`PORTIONS_PER_POLL`] portions parsed
    /// together (an entry cut between two portions is read whole); whether it has
    /// more pending.
    fn read(&mut self, f: &ListedFile, poll: &mut Poll) -> bool {
        let mut mark = match self.marks.get(&f.name) {
            // Smaller than when it was last read to its end: another file of the
            // same name (rotated by renaming), read from its start.
            Some(m) if f.size < m.size => Mark::start(f),
            Some(m) => m.clone(),
            None => Mark::start(f),
        };
        let display: Arc<str> = Arc::from(self.files.display(&f.name).as_str());
        let mut text = Vec::new();
        let mut more = true;
        let mut got = 0usize;
        for _ in 0..PORTIONS_PER_POLL {
            let p = match self.files.portion(&f.name, &mark.marker) {
                Ok(p) => p,
                Err(e) => {
                    poll.notices.push(Notice::FileError {
                        file: display.clone(),
                        error: e,
                    });
                    // What was read before the error is handed out with its mark;
                    // the next listing goes on from there.
                    more = false;
                    break;
                }
            };
            let stuck = p.marker == mark.marker;
            mark.handed += p.data.len() as u64;
            mark.marker = p.marker;
            got += p.data.len();
            text.extend_from_slice(&p.data);
            if !text.is_empty() && !text.ends_with(b"\n") && !p.pending {
                text.push(b'\n');
            }
            if !p.pending || stuck {
                // Read to the end as listed: an unchanged listing asks nothing more.
                mark.last_written = f.last_written;
                mark.size = f.size;
                more = false;
                break;
            }
        }
        // A poll of portions that all said more is pending but held nothing: wait
        // for the next listing rather than ask again at once, for ever.
        if more && got == 0 {
            more = false;
        }
        if self.marks.get(&f.name) == Some(&mark) {
            return more;
        }
        let before = poll.events.len();
        let mut part = Poll::new();
        let _ = parse_whole(display, self.files.instance(), text, &self.opts, &mut part);
        poll.notices.append(&mut part.notices);
        poll.events.append(&mut part.events);
        let cp = self.checkpoint(&f.name, &mark);
        poll.marks.resize(poll.events.len(), None);
        if poll.events.len() > before {
            if let Some(m) = poll.marks.last_mut() {
                *m = Some(cp.clone());
            }
        }
        poll.checkpoints.push(cp);
        self.marks.insert(f.name.clone(), mark);
        more
    }
}

impl LiveSource for LogFileSource {
    fn poll(&mut self, now: Instant) -> Poll {
        let mut poll = Poll::new();
        let files = if !self.unfinished.is_empty() {
            std::mem::take(&mut self.unfinished)
        } else {
            if self.next_list.is_some_and(|t| now < t) {
                return poll;
            }
            self.next_list = Some(now + self.every);
            let listed = match self.files.list() {
                Ok(l) => l,
                Err(e) => {
                    poll.notices.push(Notice::FileError {
                        file: Arc::from(self.files.display("").as_str()),
                        error: e,
                    });
                    return poll;
                }
            };
            // A file rotated away is finished: forget it.
            self.marks
                .retain(|name, _| listed.iter().any(|f| &f.name == name));
            listed
                .into_iter()
                .filter(|f| {
                    self.marks
                        .get(&f.name)
                        .is_none_or(|m| (m.last_written, m.size) != (f.last_written, f.size))
                })
                .collect()
        };
        for f in files {
            if self.read(&f, &mut poll) {
                self.unfinished.push(f);
            }
        }
        poll.state = if self.unfinished.is_empty() {
            SourceState::CaughtUp
        } else {
            SourceState::Reading
        };
        poll.pending = !self.unfinished.is_empty();
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Files served by byte offset, `lines` lines a portion.
    #[derive(Clone, Default)]
    struct Served {
        files: Arc<Mutex<BTreeMap<String, (i64, String)>>>,
        calls: Arc<Mutex<usize>>,
    }

    impl LogFiles for Served {
        fn list(&mut self) -> Result<Vec<ListedFile>, String> {
            Ok(self
                .files
                .lock()
                .unwrap()
                .iter()
                .map(|(n, (t, text))| ListedFile {
                    name: n.clone(),
                    last_written: *t,
                    size: text.len() as u64,
                })
                .collect())
        }
        fn portion(&mut self, file: &str, marker: &str) -> Result<FilePortion, String> {
            *self.calls.lock().unwrap() += 1;
            let files = self.files.lock().unwrap();
            let text = &files.get(file).ok_or("gone")?.1;
            let at: usize = marker.trim_start_matches("0:").parse().unwrap();
            let end = text[at..]
                .match_indices('\n')
                .nth(1)
                .map_or(text.len(), |(i, _)| at + i + 1);
            Ok(FilePortion {
                data: text.as_bytes()[at..end].to_vec(),
                marker: format!("0:{end}"),
                pending: end < text.len(),
            })
        }
        fn display(&self, file: &str) -> String {
            format!("rds://db1/{file}")
        }
        fn instance(&self) -> Option<String> {
            Some("db1".into())
        }
    }

    fn line(user: &str) -> String {
        format!("2026-11-28 15:41:43 UTC:10.0.0.5(40124):{user}@app:[8002]:FATAL:  28P01: password authentication failed for user \"{user}\"\n")
    }

    fn users(src: &mut LogFileSource, cps: &mut Vec<Checkpoint>) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let p = src.poll(Instant::now());
            assert_eq!(p.marks.len(), p.events.len());
            cps.extend(p.checkpoints);
            out.extend(p.events.iter().map(|e| {
                assert_eq!(e.instance.as_deref(), Some("db1"));
                assert_eq!(&*e.file, "rds://db1/error/postgresql.log");
                e.user.as_deref().unwrap_or_default().to_string()
            }));
            if p.state == SourceState::CaughtUp {
                return out;
            }
        }
    }

    #[test]
    fn files_resume_after_the_last_portion_and_unchanged_files_cost_no_download() {
        let s = Served::default();
        let name = "error/postgresql.log".to_string();
        let text: String = (1..=5).map(|i| line(&format!("u{i}"))).collect();
        s.files.lock().unwrap().insert(name.clone(), (1, text));
        let opts = IngestOptions::default();
        let mut cps = Vec::new();
        let mut src = LogFileSource::new(
            "rds",
            Box::new(s.clone()),
            opts.clone(),
            Duration::ZERO,
            &[],
        );
        assert_eq!(users(&mut src, &mut cps), ["u1", "u2", "u3", "u4", "u5"]);
        assert_eq!(*s.calls.lock().unwrap(), 3, "5 lines, 2 a portion");
        assert_eq!(cps.len(), 1, "the portions of one poll are parsed together");
        // Nothing changed: a listing, no download.
        assert!(users(&mut src, &mut cps).is_empty());
        assert_eq!(*s.calls.lock().unwrap(), 3);
        // Lines appended; a restart from the last checkpoint stored.
        {
            let mut f = s.files.lock().unwrap();
            let e = f.get_mut(&name).unwrap();
            e.0 = 2;
            e.1.push_str(&line("u6"));
            e.1.push_str(&line("u7"));
        }
        let last: BTreeMap<_, _> = cps.iter().map(|c| (c.fingerprint, c.clone())).collect();
        let stored: Vec<Checkpoint> = last.into_values().collect();
        let mut again = LogFileSource::new(
            "rds",
            Box::new(s.clone()),
            opts.clone(),
            Duration::ZERO,
            &stored,
        );
        assert_eq!(users(&mut again, &mut cps), ["u6", "u7"]);
        // Checkpoints of one file sort by progress, as the daemon keeps the furthest.
        let keys: Vec<&str> = cps.iter().filter_map(|c| c.after_key.as_deref()).collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
        // Rotated away: forgotten, and a new file of the same name is read whole.
        s.files.lock().unwrap().clear();
        assert!(users(&mut again, &mut cps).is_empty());
        s.files
            .lock()
            .unwrap()
            .insert(name.clone(), (3, line("u8") + &line("v8")));
        assert_eq!(users(&mut again, &mut cps), ["u8", "v8"]);
        // Replaced by a smaller file of the same name (a rotation by renaming) while
        // it is still listed: read from its start, and its keys sort after.
        s.files
            .lock()
            .unwrap()
            .insert(name.clone(), (4, line("u9")));
        assert_eq!(users(&mut again, &mut cps), ["u9"]);
        let keys: Vec<&str> = cps.iter().filter_map(|c| c.after_key.as_deref()).collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
        assert!(Mark::parse("x\n1\nnot a number\n1\n2\n0").is_none());
    }

    /// Says more is pending for ever, with a new marker and no data.
    struct Runaway(usize);

    impl LogFiles for Runaway {
        fn list(&mut self) -> Result<Vec<ListedFile>, String> {
            Ok(vec![ListedFile {
                name: "f".into(),
                last_written: 1,
                size: 1,
            }])
        }
        fn portion(&mut self, _: &str, _: &str) -> Result<FilePortion, String> {
            self.0 += 1;
            Ok(FilePortion {
                data: Vec::new(),
                marker: format!("0:{}", self.0),
                pending: true,
            })
        }
        fn display(&self, file: &str) -> String {
            file.to_string()
        }
        fn instance(&self) -> Option<String> {
            None
        }
    }

    #[test]
    fn a_marker_moving_without_data_waits_for_the_next_listing() {
        let mut src = LogFileSource::new(
            "rds",
            Box::new(Runaway(0)),
            IngestOptions::default(),
            Duration::from_secs(60),
            &[],
        );
        let now = Instant::now();
        let p = src.poll(now);
        assert_eq!(p.state, SourceState::CaughtUp);
        assert!(p.events.is_empty());
        // Nothing asked again until the listing interval has passed.
        let p = src.poll(now);
        assert!(p.checkpoints.is_empty());
    }
}
