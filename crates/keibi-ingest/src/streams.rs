//! A live source of log streams read by time: CloudWatch Logs' log groups, where
//! RDS exports its logs, one stream per instance. The service itself is a hook
//! ([`LogEvents`]) the caller gives: this crate knows no AWS. Each listing (at most
//! every `every`) asks for the events from the earliest stream checkpoint on; each
//! stream's checkpoint is its last event's timestamp with the ids of the events at
//! that timestamp already handed out, so an event is neither read twice nor skipped
//! at the boundary (several events share a millisecond). A stream's new lines are
//! parsed together, as a file named after the stream.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::feed::Checkpoint;
use crate::live::{LiveSource, Poll, SourceState};
use crate::merge::{IngestOptions, Notice};
use crate::objects::{parse_whole, source_id};

/// One event of a log stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    pub stream: String,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub id: String,
    pub message: String,
}

/// Where the streams are.
pub trait LogEvents: Send {
    /// Every event from `start` (milliseconds, inclusive; all when `None`), in time
    /// order within each stream.
    fn fetch(&mut self, start: Option<i64>) -> Result<Vec<LogEvent>, String>;
    /// The name a stream's events carry as their file.
    fn display(&self, stream: &str) -> String;
    /// The database instance the streams are of, when known.
    fn instance(&self) -> Option<String>;
    /// Whether the last fetch stopped before the present (a service read in
    /// bounded steps, such as CloudTrail's event history): then the source is
    /// polled again at once instead of after its interval.
    fn more(&self) -> bool {
        false
    }
}

/// Where a stream was read to: the last timestamp, and the ids handed out at it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Mark {
    timestamp: i64,
    ids: BTreeSet<String>,
}

impl Mark {
    /// As a checkpoint's key: the timestamp and the number of ids zero-padded (so
    /// keys sort by progress, as the daemon's order of checkpoints wants: a later
    /// timestamp, or more events at the same one), then the ids.
    fn key(&self) -> String {
        let ids: Vec<&str> = self.ids.iter().map(String::as_str).collect();
        format!(
            "{:020} {:010} {}",
            self.timestamp.max(0),
            ids.len(),
            ids.join(",")
        )
    }

    fn parse(key: &str) -> Option<Mark> {
        let (t, rest) = key.split_once(' ')?;
        let (_, ids) = rest.split_once(' ')?;
        Some(Mark {
            timestamp: t.parse().ok()?,
            ids: ids
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }

    fn covers(&self, e: &LogEvent) -> bool {
        e.timestamp < self.timestamp || (e.timestamp == self.timestamp && self.ids.contains(&e.id))
    }
}

/// A live source over [`LogEvents`].
pub struct StreamSource {
    events: Box<dyn LogEvents>,
    opts: IngestOptions,
    name: String,
    every: Duration,
    next_fetch: Option<Instant>,
    marks: BTreeMap<String, Mark>,
}

impl StreamSource {
    /// `name` identifies the source across restarts; `resume` is every stored
    /// checkpoint (those of other sources are ignored).
    pub fn new(
        name: &str,
        events: Box<dyn LogEvents>,
        opts: IngestOptions,
        every: Duration,
        resume: &[Checkpoint],
    ) -> StreamSource {
        let mut s = StreamSource {
            events,
            opts,
            name: name.to_string(),
            every,
            next_fetch: None,
            marks: BTreeMap::new(),
        };
        // A stream's lane is found from its name; stored checkpoints name the
        // stream in their key's lane, so they are matched as streams appear.
        for c in resume {
            if let Some((stream, mark)) = c
                .after_key
                .as_deref()
                .and_then(|k| k.rsplit_once('\n'))
                .and_then(|(stream, m)| Some((stream.to_string(), Mark::parse(m)?)))
            {
                if c.fingerprint == s.lane(&stream) {
                    s.marks.insert(stream, mark);
                }
            }
        }
        s
    }

    fn lane(&self, stream: &str) -> crate::Fingerprint {
        source_id(&format!("{}\0{stream}", self.name))
    }

    fn checkpoint(&self, stream: &str, mark: &Mark) -> Checkpoint {
        Checkpoint {
            fingerprint: self.lane(stream),
            format: keibi_parse::Format::Cloudtrail,
            offset: 0,
            line: 0,
            skip: 0,
            done: true,
            // The stream's name first, so a restart knows whose it is; then the
            // mark (progress within one lane compares the mark).
            after_key: Some(format!("{stream}\n{}", mark.key())),
            recent: Vec::new(),
        }
    }
}

impl LiveSource for StreamSource {
    fn poll(&mut self, now: Instant) -> Poll {
        let mut poll = Poll::new();
        if self.next_fetch.is_some_and(|t| now < t) {
            return poll;
        }
        self.next_fetch = Some(now + self.every);
        // From the earliest stream's mark: a stream seen for the first time is read
        // from its start only when no mark is known (a first run).
        let start = if self.marks.is_empty() {
            None
        } else {
            self.marks.values().map(|m| m.timestamp).min()
        };
        let fetched = match self.events.fetch(start) {
            Ok(f) => f,
            Err(e) => {
                poll.notices.push(Notice::FileError {
                    file: Arc::from(self.events.display("").as_str()),
                    error: e,
                });
                return poll;
            }
        };
        let mut by_stream: BTreeMap<String, Vec<LogEvent>> = BTreeMap::new();
        for e in fetched {
            if self.marks.get(&e.stream).is_some_and(|m| m.covers(&e)) {
                continue;
            }
            by_stream.entry(e.stream.clone()).or_default().push(e);
        }
        for (stream, events) in by_stream {
            let mut mark = self.marks.get(&stream).cloned().unwrap_or_default();
            let mut text = Vec::new();
            for e in &events {
                text.extend_from_slice(e.message.as_bytes());
                if !e.message.ends_with('\n') {
                    text.push(b'\n');
                }
                if e.timestamp != mark.timestamp {
                    mark.timestamp = e.timestamp;
                    mark.ids.clear();
                }
                mark.ids.insert(e.id.clone());
            }
            let display: Arc<str> = Arc::from(self.events.display(&stream).as_str());
            let before = poll.events.len();
            let mut part = Poll::new();
            let _ = parse_whole(display, self.events.instance(), text, &self.opts, &mut part);
            poll.notices.append(&mut part.notices);
            poll.events.append(&mut part.events);
            let cp = self.checkpoint(&stream, &mark);
            poll.marks.resize(poll.events.len(), None);
            if poll.events.len() > before {
                if let Some(m) = poll.marks.last_mut() {
                    *m = Some(cp.clone());
                }
            }
            poll.checkpoints.push(cp);
            self.marks.insert(stream, mark);
        }
        poll.state = if self.events.more() {
            self.next_fetch = None;
            SourceState::Reading
        } else {
            SourceState::CaughtUp
        };
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Group(Arc<Mutex<Vec<LogEvent>>>);

    impl LogEvents for Group {
        fn fetch(&mut self, start: Option<i64>) -> Result<Vec<LogEvent>, String> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .iter()
                .filter(|e| start.is_none_or(|s| e.timestamp >= s))
                .cloned()
                .collect())
        }
        fn display(&self, stream: &str) -> String {
            format!("cw:{stream}")
        }
        fn instance(&self) -> Option<String> {
            Some("db1".into())
        }
    }

    /// Hands out one stored event a fetch, saying there is more while any is left.
    struct Stepped(Vec<LogEvent>);

    impl LogEvents for Stepped {
        fn fetch(&mut self, _start: Option<i64>) -> Result<Vec<LogEvent>, String> {
            Ok(if self.0.is_empty() {
                Vec::new()
            } else {
                vec![self.0.remove(0)]
            })
        }
        fn display(&self, stream: &str) -> String {
            format!("h:{stream}")
        }
        fn instance(&self) -> Option<String> {
            Some("db1".into())
        }
        fn more(&self) -> bool {
            !self.0.is_empty()
        }
    }

    #[test]
    fn a_source_with_more_is_polled_again_at_once() {
        let events = vec![line("r", 1, "1", "u1"), line("r", 2, "2", "u2")];
        let mut src = StreamSource::new(
            "h",
            Box::new(Stepped(events)),
            IngestOptions::default(),
            Duration::from_secs(3600),
            &[],
        );
        let now = Instant::now();
        let p = src.poll(now);
        assert_eq!(p.events.len(), 1);
        assert_eq!(p.state, SourceState::Reading);
        let p = src.poll(now);
        assert_eq!(p.events.len(), 1, "polled again within the interval");
        assert_eq!(p.state, SourceState::CaughtUp);
        assert!(src.poll(now).events.is_empty());
    }

    fn line(stream: &str, t: i64, id: &str, user: &str) -> LogEvent {
        LogEvent {
            stream: stream.into(),
            timestamp: t,
            id: id.into(),
            message: format!("2026-11-28 15:41:43 UTC:10.0.0.5(40124):{user}@app:[8002]:FATAL:  28P01: password authentication failed for user \"{user}\""),
        }
    }

    fn users(src: &mut StreamSource, cps: &mut Vec<Checkpoint>) -> Vec<String> {
        let p = src.poll(Instant::now());
        assert_eq!(p.marks.len(), p.events.len());
        cps.extend(p.checkpoints);
        p.events
            .iter()
            .map(|e| {
                assert_eq!(e.instance.as_deref(), Some("db1"));
                e.user.as_deref().unwrap_or_default().to_string()
            })
            .collect()
    }

    #[test]
    fn streams_resume_at_the_same_millisecond_without_a_gap_or_a_repeat() {
        let g = Group::default();
        g.0.lock()
            .unwrap()
            .extend([line("a", 5, "1", "u1"), line("b", 5, "2", "u2")]);
        let opts = IngestOptions::default();
        let mut cps = Vec::new();
        let mut src =
            StreamSource::new("cw", Box::new(g.clone()), opts.clone(), Duration::ZERO, &[]);
        assert_eq!(users(&mut src, &mut cps), ["u1", "u2"]);
        // Another event at the same millisecond of stream a, then a later one.
        g.0.lock()
            .unwrap()
            .extend([line("a", 5, "3", "u3"), line("a", 7, "4", "u4")]);
        assert_eq!(users(&mut src, &mut cps), ["u3", "u4"]);
        assert_eq!(users(&mut src, &mut cps), Vec::<String>::new());
        // A restart from the last checkpoint of each stream.
        g.0.lock()
            .unwrap()
            .extend([line("a", 7, "5", "u5"), line("b", 6, "6", "u6")]);
        let last: BTreeMap<_, _> = cps.iter().map(|c| (c.fingerprint, c.clone())).collect();
        let stored: Vec<Checkpoint> = last.into_values().collect();
        let mut again = StreamSource::new(
            "cw",
            Box::new(g.clone()),
            opts.clone(),
            Duration::ZERO,
            &stored,
        );
        let mut got = users(&mut again, &mut Vec::new());
        got.sort();
        assert_eq!(got, ["u5", "u6"]);
        // A stream name with a newline (names come from the service) resumes too.
        let odd = Group::default();
        odd.0.lock().unwrap().push(line("s\n1", 3, "9", "u9"));
        let mut cps = Vec::new();
        let mut src = StreamSource::new(
            "cw",
            Box::new(odd.clone()),
            opts.clone(),
            Duration::ZERO,
            &[],
        );
        assert_eq!(users(&mut src, &mut cps), ["u9"]);
        let mut again = StreamSource::new("cw", Box::new(odd), opts.clone(), Duration::ZERO, &cps);
        assert!(users(&mut again, &mut Vec::new()).is_empty());
        assert_eq!(
            Mark::parse(
                &Mark {
                    timestamp: 9,
                    ids: ["x".to_string()].into()
                }
                .key()
            )
            .unwrap()
            .timestamp,
            9
        );
    }
}
