//! Detection settings: every threshold and list a detector or rule reads, with
//! defaults chosen so that a team's ordinary life raises nothing (a typo then a
//! success, pools reconnecting, nightly ETL, a deploy's migrations).
//!
//! Each detector owns one section (a struct with `Default`); adding a threshold is
//! adding a field there. The whole tree deserializes from a config file, every field
//! optional.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Brute force, spraying, stuffing, success after failures (detectors/login.rs).
    pub login: LoginConfig,
    /// Mass destruction, ransom notes, schema enumeration (detectors/activity.rs).
    pub activity: ActivityConfig,
    /// Values for Sigma `|expand` placeholders, by placeholder name without `%`.
    pub placeholders: BTreeMap<String, Vec<String>>,
    /// AWS accounts snapshots may be shared with (`--trusted-account`).
    pub trusted_accounts: Vec<String>,
    /// Ports that count as database ports for network exposure findings.
    pub db_ports: Vec<u16>,
    /// AWS control-plane detections (detectors/cloudtrail/).
    pub cloudtrail: CloudTrailConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            login: LoginConfig::default(),
            activity: ActivityConfig::default(),
            placeholders: BTreeMap::new(),
            trusted_accounts: Vec::new(),
            db_ports: vec![3306, 5432, 1433, 1521, 5439, 27017, 6379, 9200],
            cloudtrail: CloudTrailConfig::default(),
        }
    }
}

/// Thresholds of the login detectors. Windows are in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginConfig {
    /// BruteForce: at least this many failed logins from one source ...
    pub brute_force_failures: u32,
    /// ... within this window.
    pub brute_force_window_secs: u64,
}

impl Default for LoginConfig {
    fn default() -> Self {
        LoginConfig {
            brute_force_failures: 20,
            brute_force_window_secs: 600,
        }
    }
}

/// Thresholds of the activity detectors. Windows are in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivityConfig {
    /// MassDestruction: at least this many destructive statements by one session
    /// or user ...
    pub mass_destruction_statements: u32,
    /// ... within this window.
    pub mass_destruction_window_secs: u64,
}

impl Default for ActivityConfig {
    fn default() -> Self {
        ActivityConfig {
            mass_destruction_statements: 10,
            mass_destruction_window_secs: 300,
        }
    }
}

/// Settings of the CloudTrail detections. Windows are in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudTrailConfig {
    /// The other accounts of your own AWS Organization (12-digit ids). Sharing a
    /// snapshot with one of them is not SnapshotSharedExternally, like sharing with a
    /// `trusted_accounts` entry; the caller's own account never counts as external.
    pub org_accounts: Vec<String>,
    /// AccessDeniedBurst: at least this many AccessDenied / UnauthorizedOperation
    /// errors by one principal ...
    pub access_denied_calls: u32,
    /// ... over at least this many distinct APIs (an application missing one
    /// permission retries the same call; enumeration with a stolen key tries many) ...
    pub access_denied_apis: u32,
    /// ... within this window.
    pub access_denied_window_secs: u64,
    /// ProtectionWeakened (bulk snapshot deletion): at least this many DB and cluster
    /// snapshots deleted by one principal ...
    pub snapshot_deletes: u32,
    /// ... within this window.
    pub snapshot_delete_window_secs: u64,
}

impl Default for CloudTrailConfig {
    fn default() -> Self {
        CloudTrailConfig {
            org_accounts: Vec::new(),
            access_denied_calls: 20,
            access_denied_apis: 5,
            access_denied_window_secs: 600,
            snapshot_deletes: 10,
            snapshot_delete_window_secs: 600,
        }
    }
}

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl Config {
    /// Reads a YAML configuration; every key is optional, unknown keys are errors
    /// (a misspelt threshold must not silently keep its default).
    pub fn from_yaml(text: &str) -> Result<Config, ConfigError> {
        yaml_serde::from_str(text).map_err(|e| ConfigError(e.to_string()))
    }
}
