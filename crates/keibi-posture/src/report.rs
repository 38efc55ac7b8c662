//! One audit's outcomes, and what outputs need of them.

use chrono::{DateTime, Utc};
use keibi_model::Finding;

use crate::outcome::{Outcome, Status};

#[derive(Debug, Clone)]
pub struct Report {
    /// When the snapshot was taken.
    pub at: DateTime<Utc>,
    /// Every control on every resource it applies to, passed and failed.
    pub outcomes: Vec<Outcome>,
}

impl Report {
    pub fn new(outcomes: Vec<Outcome>, at: DateTime<Utc>) -> Report {
        Report { at, outcomes }
    }

    pub fn failed(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| o.status == Status::Failed)
    }

    pub fn passed(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| o.status == Status::Passed)
    }

    /// The findings of the failed outcomes, most severe first.
    pub fn findings(&self) -> Vec<Finding> {
        let mut fs: Vec<Finding> = self.failed().map(|o| o.finding(self.at)).collect();
        fs.sort_by(|a, b| {
            b.severity
                .value()
                .total_cmp(&a.severity.value())
                .then_with(|| a.finding_type.cmp(&b.finding_type))
                .then_with(|| a.resource.id.cmp(&b.resource.id))
        });
        fs
    }
}
