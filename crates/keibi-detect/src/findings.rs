//! The store findings aggregate in while a scan runs: one [`Finding`] per id, so an
//! activity that goes on grows one finding's `count` and `last_seen` (as GuardDuty
//! aggregates) instead of raising a new one per event.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use keibi_model::{Finding, Resource, Severity};

/// Findings by id, in the order they were first raised.
#[derive(Debug, Default)]
pub struct Findings {
    index: HashMap<String, usize>,
    list: Vec<Finding>,
    trusted_events: u64,
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
                let f = Finding::new(
                    r.detector,
                    r.finding_type,
                    r.key,
                    r.severity,
                    r.resource,
                    r.time,
                );
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
        list.sort_by(|a, b| {
            b.severity
                .value()
                .total_cmp(&a.severity.value())
                .then(a.first_seen.cmp(&b.first_seen))
                .then(a.id.cmp(&b.id))
        });
        list
    }
}
