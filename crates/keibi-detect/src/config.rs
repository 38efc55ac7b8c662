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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            login: LoginConfig::default(),
            activity: ActivityConfig::default(),
            placeholders: BTreeMap::new(),
            trusted_accounts: Vec::new(),
            db_ports: vec![3306, 5432, 1433, 1521, 5439, 27017, 6379, 9200],
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
