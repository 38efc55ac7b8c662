//! The built-in stateful detectors: logic that reads badly as a Sigma rule
//! (windows over several users or sources, sequences, per-actor history).
//!
//! **Adding a detector**: write a module with a type implementing
//! [`crate::Detector`], give it a config section in [`crate::config`] if it has
//! thresholds, and add one line to [`builtin`].

pub mod activity;
pub mod baseline;
pub mod cloudtrail;
pub mod login;

use crate::config::Config;
use crate::detector::Detector;

/// Every built-in detector, configured.
pub fn builtin(_config: &Config) -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(activity::MassDestruction::new(&_config.activity)),
        Box::new(activity::RansomNote::new(&_config.activity)),
        Box::new(activity::SchemaEnumeration::new(&_config.activity)),
        Box::new(activity::OversizedStatement::new(&_config.activity)),
        Box::new(baseline::BaselineDetector::new(_config)),
        Box::new(cloudtrail::CloudTrail::new(_config)),
        Box::new(cloudtrail::secrets::CloudTrailData::new(_config)),
        Box::new(login::SourceDetector::new(&_config.login)),
        Box::new(login::StuffingDetector::new(&_config.login)),
        Box::new(login::ReputationDetector::new(&_config.login)),
    ]
}
