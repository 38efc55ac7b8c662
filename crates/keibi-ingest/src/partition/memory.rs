//! A partitioned stream held in memory: for tests (of this crate, of the workers)
//! and for an in-process producer. Not a service: nothing survives the process.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{
    Fetched, PartitionInfo, PartitionReader, PartitionedStream, Position, Record, StartAt,
    StreamError,
};

#[derive(Default)]
struct Partition {
    parents: Vec<String>,
    closed: bool,
    records: Vec<Record>,
}

#[derive(Default)]
struct Shared {
    partitions: BTreeMap<String, Partition>,
    /// `open` fails while set (a service that is down).
    down: bool,
}

/// A [`PartitionedStream`] in memory. Clones share the stream, so a test pushes
/// records through one clone while readers of another read them.
#[derive(Clone)]
pub struct MemoryStream {
    name: String,
    shared: Arc<(Mutex<Shared>, Condvar)>,
}

impl MemoryStream {
    /// An empty stream named `name` (`memory:test`).
    pub fn new(name: &str) -> MemoryStream {
        MemoryStream {
            name: name.to_string(),
            shared: Arc::new((Mutex::new(Shared::default()), Condvar::new())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds an open partition continuing `parents` (none: a partition of its own).
    pub fn add_partition(&self, id: &str, parents: &[&str]) {
        self.lock()
            .partitions
            .entry(id.to_string())
            .or_default()
            .parents = parents.iter().map(|p| p.to_string()).collect();
    }

    /// Appends a record to `partition` (made when missing) at the next position
    /// (1, 2, …) and returns it.
    pub fn push(
        &self,
        partition: &str,
        key: &str,
        data: &[u8],
        arrived: DateTime<Utc>,
    ) -> Position {
        let mut s = self.lock();
        let p = s.partitions.entry(partition.to_string()).or_default();
        let position = p.records.last().map_or(1, |r| r.position + 1);
        p.records.push(Record {
            position,
            arrived,
            key: key.to_string(),
            data: data.to_vec(),
        });
        drop(s);
        self.shared.1.notify_all();
        position
    }

    /// Closes `partition`: its readers end once they have handed out every record.
    pub fn close(&self, partition: &str) {
        self.lock()
            .partitions
            .entry(partition.to_string())
            .or_default()
            .closed = true;
        self.shared.1.notify_all();
    }

    /// While `down`, opening a reader fails and readers' fetches fail.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
        self.shared.1.notify_all();
    }

    fn error(&self, reason: &str) -> StreamError {
        StreamError {
            stream: self.name.clone(),
            reason: reason.to_string(),
        }
    }
}

impl PartitionedStream for MemoryStream {
    fn name(&self) -> &str {
        &self.name
    }

    fn partitions(&mut self) -> Result<Vec<PartitionInfo>, StreamError> {
        let s = self.lock();
        if s.down {
            return Err(self.error("down"));
        }
        Ok(s.partitions
            .iter()
            .map(|(id, p)| PartitionInfo {
                id: id.clone(),
                parents: p.parents.clone(),
                closed: p.closed,
            })
            .collect())
    }

    fn open(
        &mut self,
        partition: &str,
        from: &StartAt,
    ) -> Result<Box<dyn PartitionReader>, StreamError> {
        let s = self.lock();
        if s.down {
            return Err(self.error("down"));
        }
        let Some(p) = s.partitions.get(partition) else {
            return Err(self.error(&format!("no partition {partition}")));
        };
        let next = match from {
            StartAt::Oldest => 0,
            StartAt::After(pos) => p.records.partition_point(|r| r.position <= *pos),
            StartAt::Time(t) => p.records.partition_point(|r| r.arrived < *t),
        };
        Ok(Box::new(MemoryReader {
            stream: self.clone(),
            partition: partition.to_string(),
            next,
        }))
    }
}

struct MemoryReader {
    stream: MemoryStream,
    partition: String,
    next: usize,
}

impl PartitionReader for MemoryReader {
    fn fetch(&mut self, max: usize, wait: Duration) -> Result<Fetched, StreamError> {
        let deadline = Instant::now() + wait;
        let mut s = self.stream.lock();
        loop {
            if s.down {
                return Err(self.stream.error("down"));
            }
            let p = s.partitions.get(&self.partition);
            let have = p.map_or(0, |p| p.records.len());
            let closed = p.is_some_and(|p| p.closed);
            if have > self.next || closed {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Fetched::default());
            }
            s = self
                .stream
                .shared
                .1
                .wait_timeout(s, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let Some(p) = s.partitions.get(&self.partition) else {
            return Ok(Fetched::default());
        };
        let end = p.records.len().min(self.next.saturating_add(max.max(1)));
        let records = p.records[self.next.min(end)..end].to_vec();
        self.next = end;
        Ok(Fetched {
            records,
            ended: p.closed && self.next >= p.records.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn readers_start_where_asked_and_end_after_a_close() {
        let mut m = MemoryStream::new("memory:t");
        m.add_partition("0", &[]);
        for i in 0..5 {
            m.push("0", "k", format!("{i}").as_bytes(), at(i * 10));
        }
        let read = |m: &mut MemoryStream, from: StartAt| {
            let mut r = m.open("0", &from).unwrap();
            let f = r.fetch(100, Duration::ZERO).unwrap();
            f.records.iter().map(|r| r.position).collect::<Vec<_>>()
        };
        assert_eq!(read(&mut m, StartAt::Oldest), [1, 2, 3, 4, 5]);
        assert_eq!(read(&mut m, StartAt::After(3)), [4, 5]);
        assert_eq!(read(&mut m, StartAt::Time(at(15))), [3, 4, 5]);
        let mut r = m.open("0", &StartAt::After(4)).unwrap();
        assert_eq!(r.fetch(1, Duration::ZERO).unwrap().records.len(), 1);
        let f = r.fetch(1, Duration::from_millis(5)).unwrap();
        assert!(f.records.is_empty() && !f.ended);
        m.close("0");
        assert!(r.fetch(1, Duration::ZERO).unwrap().ended);
        assert!(m.partitions().unwrap()[0].closed);
        m.set_down(true);
        assert!(r.fetch(1, Duration::ZERO).is_err());
        assert!(m.open("0", &StartAt::Oldest).is_err());
    }
}
