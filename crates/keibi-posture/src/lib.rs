//! Posture: is a door left open? Checks over snapshots of resources, the way AWS
//! Config and Security Hub check an account, and inside the database engine, where
//! they cannot look.
//!
//! * A [`Snapshot`] is what was observed: per AWS account and region an
//!   [`aws::Inventory`] (the outputs of the describe calls, in the AWS CLI's JSON
//!   shapes, so a saved `aws rds describe-db-instances > x.json` loads as it is), and
//!   per database a [`db::PgSnapshot`] or [`db::MySqlSnapshot`].
//! * A [`Control`] is one check: its id (the Security Hub control id where AWS has
//!   one, `KB.…` where it has none), a short name, a default severity and its texts
//!   in the message catalog (`posture-*.ftl`).
//! * [`audit`] runs every control over a snapshot and gives one [`Outcome`] per
//!   control and resource it applies to: passed or failed, with the evidence.
//!   A failed outcome becomes a finding of type `Posture:<control id>/<ShortName>`
//!   ([`Outcome::finding`]); its id depends on the control and the resource only, so
//!   the same open door found again is the same finding, and a daemon resolves it
//!   when the check passes.
//!
//! Pure: no I/O, no clock (the audit time is given), no threads. The AWS calls live
//! in `keibi-aws`, the database connections in `keibi-dbprobe`.

pub mod aws;
pub mod control;
pub mod db;
mod de;
pub mod outcome;
pub mod report;

pub use control::Control;
pub use outcome::{Observation, Outcome, Status};
pub use report::{Report, Summary, Suppress};

use chrono::{DateTime, Utc};

/// Everything observed for one audit.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub aws: Vec<aws::Inventory>,
    pub postgres: Vec<db::PgSnapshot>,
    pub mysql: Vec<db::MySqlSnapshot>,
}

/// Every control keibi checks, AWS first, in catalog order.
pub fn controls() -> impl Iterator<Item = &'static Control> {
    aws::CONTROLS.iter().chain(db::CONTROLS.iter())
}

/// The control with this id (`RDS.2`, `KB.PG.1`), ignoring ASCII case.
pub fn control(id: &str) -> Option<&'static Control> {
    controls().find(|c| c.id.eq_ignore_ascii_case(id))
}

/// Runs every control over the snapshot. `at` is the time the snapshot was taken:
/// the findings' first and last seen.
pub fn audit(snapshot: &Snapshot, at: DateTime<Utc>) -> Report {
    let mut outcomes = Vec::new();
    for inv in &snapshot.aws {
        aws::check(inv, &mut outcomes);
    }
    for pg in &snapshot.postgres {
        db::check_postgres(pg, &mut outcomes);
    }
    for my in &snapshot.mysql {
        db::check_mysql(my, &mut outcomes);
    }
    Report::new(outcomes, at)
}
