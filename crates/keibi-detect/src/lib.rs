//! Detection: everything that turns keibi events into findings lives here, pure like
//! the parsers (no I/O, no threads, no clock), so `keibi scan` and a daemon share it
//! unchanged.
//!
//! * [`Scanner`] runs one scan: each event goes through the Sigma rules
//!   ([`sigma::RuleSet`], data in `rules/`) and the stateful [`Detector`]s
//!   ([`detectors`]), which raise and grow findings in [`Findings`].
//! * [`Config`] holds every threshold (plain data); [`Services`] what detectors use
//!   beside it: [`ThreatLists`] (the threat, Tor exit and trusted address lists,
//!   `iplist`), the behavioural profiles and address lookups.

pub mod catalog;
pub mod config;
pub mod detector;
pub mod detectors;
pub mod findings;
pub mod iplist;
pub mod scanner;
pub mod services;
pub mod sigma;
pub mod text;
pub mod yamlguard;

pub use catalog::Entry;
pub use config::Config;
pub use detector::{db_resource, Context, Detector, Learning};
pub use findings::{Findings, Raise};
pub use iplist::{IpList, IpSet, ListError, ListProblem, Reputation, ThreatLists};
pub use scanner::{ScanReport, Scanner};
pub use services::Services;

#[cfg(test)]
pub(crate) mod testutil;
