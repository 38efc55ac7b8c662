//! Live sources: inputs read as they grow, polled by a daemon. A source never blocks:
//! `poll` reads what is there and says whether more is waiting (`Reading`), all of it
//! was read and the source waits for more (`CaughtUp`), or it has ended (`Finished`:
//! standard input closed). Each poll hands out the events read and the checkpoints
//! that cover exactly them.

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use keibi_model::Event;
use keibi_parse::{Output, ParseConfig};

use crate::feed::{set_instance, Checkpoint, Feed, MAX_PARTIAL};
use crate::merge::{IngestOptions, Notice};
use crate::stream::choose;

/// Where a live source stands after a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    /// More input is waiting: poll again at once.
    Reading,
    /// Everything there was read; waiting for more.
    CaughtUp,
    /// The input ended (standard input closed) and everything was handed out.
    Finished,
}

/// What one poll of a live source produced.
#[derive(Debug)]
pub struct Poll {
    pub events: Vec<Event>,
    /// Opened files, unreadable files and lines, as `keibi events` reports them.
    pub notices: Vec<Notice>,
    /// The checkpoints of the files read in this poll, after its events: store them
    /// with the events' findings and a restart resumes exactly after them.
    pub checkpoints: Vec<Checkpoint>,
    /// The checkpoint right after each event, in the order of `events` (`None` where
    /// there is none; empty for a source without checkpoints): a daemon that has fed
    /// only the first events stores the last of their checkpoints per file, and a
    /// restart resumes exactly after them.
    pub marks: Vec<Option<Checkpoint>>,
    pub state: SourceState,
    /// With [`crate::FollowOptions::warm`]: events read again before a resumed
    /// file's checkpoint, already handed out before the restart. Not to be counted
    /// again; a daemon feeds them to its detectors to rebuild their windows.
    pub replay: Vec<Event>,
    /// Events read but not handed out yet (held to keep files in time order, or an
    /// entry that may go on): a reader that stops when its sources are quiet
    /// (`keibi run --once`) waits for them.
    pub pending: bool,
}

impl Poll {
    pub(crate) fn new() -> Poll {
        Poll {
            events: Vec::new(),
            notices: Vec::new(),
            checkpoints: Vec::new(),
            marks: Vec::new(),
            state: SourceState::CaughtUp,
            replay: Vec::new(),
            pending: false,
        }
    }
}

/// A live source of events.
pub trait LiveSource: Send {
    /// Reads what is available now, without blocking. `now` is the caller's clock
    /// (idle timeouts are measured on it).
    fn poll(&mut self, now: Instant) -> Poll;

    /// The store now holds these checkpoints (every source's, of one commit): a
    /// source that must tell its input what was read only once it is safe (an SQS
    /// message deleted) does it here. Most sources need nothing.
    fn committed(&mut self, _checkpoints: &[Checkpoint]) {}
}

/// How long a held multi-line entry waits for its continuation before it is flushed.
/// Servers write an entry's lines together (PostgreSQL one message with its DETAIL and
/// STATEMENT at once), so half a second of quiet means the entry is complete, and a
/// lone last event is out well within a second of being written.
pub const DEFAULT_FLUSH_AFTER: Duration = Duration::from_millis(500);

/// Bytes detection may wait for before it gives up on a stream.
const DETECT_HEAD: usize = 64 * 1024;

/// A stream read to its end as it arrives: standard input, a pipe. It has no
/// checkpoint (a pipe cannot be read again). A thread reads the stream, so `poll`
/// never blocks on it.
pub struct ReaderSource {
    name: Arc<str>,
    opts: IngestOptions,
    flush_after: Duration,
    rx: Receiver<io::Result<Vec<u8>>>,
    head: Vec<u8>,
    feed: Option<Feed>,
    partial: Vec<u8>,
    last_data: Option<Instant>,
    state: SourceState,
    undetected: bool,
}

impl ReaderSource {
    /// Standard input.
    pub fn stdin(opts: IngestOptions) -> ReaderSource {
        ReaderSource::spawn("-", io::stdin(), opts)
    }

    /// Any stream, read on a thread of its own.
    pub fn spawn(
        name: &str,
        mut reader: impl Read + Send + 'static,
        opts: IngestOptions,
    ) -> ReaderSource {
        // Four chunks of 64 KiB in flight at most: a fast writer waits for the parser.
        let (tx, rx) = sync_channel(4);
        thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx.send(Ok(buf[..n].to_vec())).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        ReaderSource {
            name: Arc::from(name),
            opts,
            flush_after: DEFAULT_FLUSH_AFTER,
            rx,
            head: Vec::new(),
            feed: None,
            partial: Vec::new(),
            last_data: None,
            state: SourceState::CaughtUp,
            undetected: false,
        }
    }

    /// Sets the idle time after which a held entry is flushed.
    pub fn flush_after(mut self, d: Duration) -> Self {
        self.flush_after = d;
        self
    }

    /// Detects the format once enough has arrived: a whole line that some format is
    /// sure of, or 64 KiB, or the end.
    fn detect(&mut self, ended: bool, poll: &mut Poll) {
        let complete = ended;
        let whole_line = memchr::memchr(b'\n', &self.head).is_some();
        if !(whole_line || ended || self.head.len() >= DETECT_HEAD) {
            return;
        }
        let chosen = choose(&self.head, complete, &self.opts, true).ok();
        let Some((format, prefix)) = chosen else {
            if ended || self.head.len() >= DETECT_HEAD {
                self.undetected = true;
                poll.notices.push(Notice::FileError {
                    file: self.name.clone(),
                    error: "format not recognized; name it with --log-format".into(),
                });
                self.head = Vec::new();
            }
            return;
        };
        poll.notices.push(Notice::Opened {
            file: self.name.clone(),
            format,
        });
        let mut cfg = ParseConfig::new(self.name.clone());
        cfg.pg_prefix = self.opts.pg_prefix.clone().or(prefix);
        cfg.local_offset = self.opts.local_offset;
        cfg.instance = self.opts.instance.clone();
        self.feed = Some(Feed::new(format, &cfg, None));
        let head = std::mem::take(&mut self.head);
        self.take(&head);
    }

    /// Adds bytes to the pending partial line.
    fn take(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
    }

    fn feed_lines(&mut self, out: &mut Output, all: bool) {
        let Some(feed) = &mut self.feed else { return };
        let cut = if all || self.partial.len() > MAX_PARTIAL || !feed.line_oriented() {
            self.partial.len()
        } else {
            match memchr::memrchr(b'\n', &self.partial) {
                Some(nl) => nl + 1,
                None => 0,
            }
        };
        if cut > 0 {
            feed.push(&self.partial[..cut], out);
            self.partial.drain(..cut);
        }
    }
}

impl LiveSource for ReaderSource {
    fn poll(&mut self, now: Instant) -> Poll {
        let mut poll = Poll::new();
        if self.state == SourceState::Finished {
            poll.state = SourceState::Finished;
            return poll;
        }
        let mut out = Output::new();
        let mut ended = false;
        let mut got = 0usize;
        // A bounded amount per poll, so one poll's batch stays small.
        while got < 1 << 20 {
            match self.rx.try_recv() {
                Ok(Ok(bytes)) => {
                    got += bytes.len();
                    if self.undetected {
                        continue;
                    }
                    if self.feed.is_none() {
                        self.head.extend_from_slice(&bytes);
                    } else {
                        self.take(&bytes);
                    }
                }
                Ok(Err(e)) => {
                    poll.notices.push(Notice::ReadError {
                        file: self.name.clone(),
                        line: 0,
                        error: format!("read error ({e}); read what came before"),
                    });
                    ended = true;
                    break;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    ended = true;
                    break;
                }
            }
        }
        if got > 0 {
            self.last_data = Some(now);
        }
        if self.feed.is_none() && !self.undetected {
            self.detect(ended, &mut poll);
        }
        self.feed_lines(&mut out, ended);
        if let Some(feed) = &mut self.feed {
            if ended {
                feed.finish(&mut out);
            } else if feed.held
                && self
                    .last_data
                    .is_some_and(|t| now.duration_since(t) >= self.flush_after)
            {
                feed.flush(&mut out);
            }
        }
        // No path names standard input's instance: the machine's (as `keibi scan -`).
        let host = crate::inputs::host_name().map(Arc::<str>::from);
        set_instance(
            &mut out.events,
            self.opts.instance.as_deref(),
            host.as_ref(),
        );
        for p in out.problems {
            poll.notices.push(Notice::Line {
                file: self.name.clone(),
                line: p.line,
                reason: p.reason,
                unrecognized: p.lines > 0,
            });
        }
        poll.events = out.events;
        self.state = if ended {
            SourceState::Finished
        } else if got >= 1 << 20 {
            SourceState::Reading
        } else {
            SourceState::CaughtUp
        };
        poll.state = self.state;
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Polls until `done` says so or 20 s pass (generous: the machine is shared).
    pub(crate) fn poll_until(
        src: &mut dyn LiveSource,
        events: &mut Vec<Event>,
        mut done: impl FnMut(&[Event], SourceState) -> bool,
    ) -> SourceState {
        let start = Instant::now();
        loop {
            let p = src.poll(Instant::now());
            events.extend(p.events);
            if done(events, p.state) || start.elapsed() > Duration::from_secs(20) {
                return p.state;
            }
            if p.state != SourceState::Reading {
                thread::sleep(Duration::from_millis(20));
            }
        }
    }

    const FAIL: &str = "2026-11-28 15:41:43 UTC:127.0.0.1(40124):app@template1:[8002]:FATAL:  28P01: password authentication failed for user \"app\"\n";
    const DETAIL: &str = "2026-11-28 15:41:43 UTC:127.0.0.1(40124):app@template1:[8002]:DETAIL:  Connection matched pg_hba.conf line 87\n";

    #[test]
    fn a_pipe_is_read_as_it_comes_and_finishes_when_closed() {
        let (reader, mut writer) = io::pipe().unwrap();
        let mut src = ReaderSource::spawn("-", reader, IngestOptions::default())
            .flush_after(Duration::from_millis(100));
        let mut events = Vec::new();
        // A line without its newline is not read yet.
        writer.write_all(FAIL.as_bytes()).unwrap();
        writer.write_all(&DETAIL.as_bytes()[..20]).unwrap();
        writer.flush().unwrap();
        thread::sleep(Duration::from_millis(300));
        let p = src.poll(Instant::now());
        assert_eq!(p.state, SourceState::CaughtUp);
        assert!(
            p.events.is_empty(),
            "the FATAL waits for the rest of its entry"
        );
        assert!(matches!(p.notices[0], Notice::Opened { .. }));
        writer.write_all(&DETAIL.as_bytes()[20..]).unwrap();
        // Idle: the held entry is flushed with its DETAIL.
        poll_until(&mut src, &mut events, |e, _| !e.is_empty());
        assert_eq!(events.len(), 1);
        assert!(events[0].detail.is_some());
        assert_eq!(events[0].line, 1);
        writer.write_all(FAIL.as_bytes()).unwrap();
        drop(writer);
        let state = poll_until(&mut src, &mut events, |_, s| s == SourceState::Finished);
        assert_eq!(state, SourceState::Finished);
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].line, 3);
    }
}
