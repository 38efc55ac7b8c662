//! The store findings aggregate in while a scan runs: one [`Finding`] per id, so an
//! activity that goes on grows one finding's `count` and `last_seen` (as GuardDuty
//! aggregates) instead of raising a new one per event.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use keibi_model::{Finding, Resource, Severity};

/// Distinct findings one scan keeps (a few KB each). Attackers choose user names and
/// addresses, so the number of distinct keys is theirs to choose; beyond this many,
/// new keys are counted ([`Findings::dropped`]) and reported, not kept. Far more
/// findings than a person reads, far less memory than a machine has.
pub const MAX_FINDINGS: usize = 20_000;

/// Findings by id, in the order they were first raised.
#[derive(Debug, Default)]
pub struct Findings {
    index: HashMap<String, usize>,
    list: Vec<Finding>,
    trusted_events: u64,
    /// Where raises land once [`MAX_FINDINGS`] are kept: a scratch finding with an
    /// empty id, overwritten by every such raise and never reported.
    overflow: Option<Box<Finding>>,
    dropped: u64,
}

/// What identifies a finding and what it starts with.
pub struct Raise<'a> {
    pub detector: &'a str,
    pub finding_type: &'a str,
    /// The parts of the aggregation key after detector and type (instance, source
    /// address, user ...): the same parts give the same finding and the same id.
    pub key: &'a [&'a str],
    pub severity: Severity,
    pub resource: Resource,
    pub time: DateTime<Utc>,
}

impl Findings {
    /// The finding for this key, created (with count 0) when it is new. Grow it
    /// with [`Finding::absorb`].
    pub fn raise(&mut self, r: Raise<'_>) -> &mut Finding {
        let id = keibi_model::finding::finding_id(r.detector, r.finding_type, r.key);
        let at = match self.index.get(&id) {
            Some(&at) => at,
            None => {
                let mut f = Finding::new(
                    r.detector,
                    r.finding_type,
                    r.key,
                    r.severity,
                    r.resource,
                    r.time,
                );
                if self.list.len() >= MAX_FINDINGS {
                    self.dropped += 1;
                    f.id = String::new();
                    return self.overflow.insert(Box::new(f));
                }
                self.list.push(f);
                self.index.insert(id, self.list.len() - 1);
                self.list.len() - 1
            }
        };
        &mut self.list[at]
    }

    /// The finding with this id, if raised.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Finding> {
        let at = *self.index.get(id)?;
        Some(&mut self.list[at])
    }

    /// This detector's findings, to write final texts in [`crate::Detector::finish`].
    pub fn of_detector<'s>(
        &'s mut self,
        detector: &'s str,
    ) -> impl Iterator<Item = &'s mut Finding> + 's {
        self.list.iter_mut().filter(move |f| f.detector == detector)
    }

    /// Counts an event a detector ignored because its address is trusted.
    pub fn note_trusted(&mut self) {
        self.trusted_events += 1;
    }

    /// Raises of new findings that were not kept because [`MAX_FINDINGS`] were.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Events ignored because they came from trusted addresses.
    pub fn trusted_events(&self) -> u64 {
        self.trusted_events
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// All findings, most severe first, then earliest first, then by id (a stable
    /// order: the same input prints the same way).
    pub fn into_sorted(self) -> Vec<Finding> {
        let mut list = self.list;
        sort(&mut list);
        list
    }
}

/// Most severe first, then earliest first, then by id: a total order, so findings
/// gathered in several stores (one per scan lane) print as one store's would.
pub fn sort(list: &mut [Finding]) {
    list.sort_by(|a, b| {
        b.severity
            .value()
            .total_cmp(&a.severity.value())
            .then(a.first_seen.cmp(&b.first_seen))
            .then(a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_keeps_at_most_max_findings_and_counts_the_rest() {
        let mut store = Findings::default();
        let t = DateTime::<Utc>::UNIX_EPOCH;
        for i in 0..MAX_FINDINGS + 5 {
            let key = i.to_string();
            let f = store.raise(Raise {
                detector: "d",
                finding_type: "T",
                key: &[&key],
                severity: Severity::new(5.0),
                resource: Resource::default(),
                time: t,
            });
            f.count += 1;
        }
        assert_eq!(store.len(), MAX_FINDINGS);
        assert_eq!(store.dropped(), 5);
        // Keys already kept still grow.
        let f = store.raise(Raise {
            detector: "d",
            finding_type: "T",
            key: &["0"],
            severity: Severity::new(5.0),
            resource: Resource::default(),
            time: t,
        });
        f.count += 1;
        assert_eq!(f.count, 2);
        assert!(store.into_sorted().iter().all(|f| !f.id.is_empty()));
    }
}
