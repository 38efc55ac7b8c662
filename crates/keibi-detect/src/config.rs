//! Detection settings: every threshold and list a detector or rule reads, with
//! defaults chosen so that a team's ordinary life raises nothing (a typo then a
//! success, pools reconnecting, nightly ETL, a deploy's migrations).
//!
//! Each detector owns one section (a struct with `Default`); adding a threshold is
//! adding a field there. The whole tree deserializes from a config file, every field
//! optional.
//!
//! Plain data: comparable (`PartialEq`) and cheap to replace on a reload. What a run
//! needs beside thresholds (lists, profiles, address lookups) are services
//! ([`crate::Services`]), handed to detectors in their [`crate::Context`].

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::yamlguard::Limits;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Brute force, spraying, stuffing, success after failures (detectors/login/).
    pub login: LoginConfig,
    /// Mass destruction, ransom notes, schema enumeration, oversized statements
    /// (detectors/activity.rs).
    pub activity: ActivityConfig,
    /// Values for Sigma `|expand` placeholders, by placeholder name without `%`
    /// (at most [`MAX_PLACEHOLDER_VALUES`] each).
    pub placeholders: BTreeMap<String, Vec<String>>,
    /// AWS accounts snapshots may be shared with (`--trusted-account`).
    pub trusted_accounts: Vec<String>,
    /// Ports that count as database ports for network exposure findings.
    pub db_ports: Vec<u16>,
    /// Behavioural baselines: per-user and per-principal profiles (detectors/baseline).
    pub baseline: BaselineConfig,
    /// AWS control-plane detections (detectors/cloudtrail/).
    pub cloudtrail: CloudTrailConfig,
    /// Secrets and RDS logs read in bulk (detectors/cloudtrail/secrets.rs).
    pub cloudtrail_data: CloudTrailDataConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            login: LoginConfig::default(),
            activity: ActivityConfig::default(),
            placeholders: BTreeMap::new(),
            trusted_accounts: Vec::new(),
            db_ports: vec![3306, 5432, 1433, 1521, 5439, 27017, 6379, 9200],
            baseline: BaselineConfig::default(),
            cloudtrail: CloudTrailConfig::default(),
            cloudtrail_data: CloudTrailDataConfig::default(),
        }
    }
}

/// Thresholds of the login detectors (`detectors/login/`). Windows are in seconds.
///
/// The defaults are chosen from what a team's own traffic looks like, so that it raises
/// nothing: a person who mistypes a password makes one or two failures per try (libpq
/// with `sslmode=prefer` retries a refused TLS login without TLS, so PostgreSQL logs
/// two), seconds apart; an application whose stored password is out of date after a
/// rotation fails at its retry rate (every few seconds) from its own few servers,
/// all in one private network; a connection pool reconnecting all day only succeeds.
/// Attack tools (hydra, medusa, ncrack, nmap's brute scripts) fail tens to thousands
/// of times, several per second, from one address, or spread over many networks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginConfig {
    /// BruteForce: at least this many failed logins from one address on one
    /// instance ...
    pub brute_force_failures: u32,
    /// ... within this window. 20 in 10 minutes is beyond any person's typos and
    /// beyond an application's retries for a short outage (one every 5 s for a
    /// minute is 12), and far below what any tool does in its first minute.
    pub brute_force_window_secs: u64,
    /// BruteForce, short-burst form: this many attempts from one address (failed
    /// logins, and connections that never authenticated) ...
    pub brute_force_burst_attempts: u32,
    /// ... of which at least this many failed logins ...
    pub brute_force_burst_failures: u32,
    /// ... within this many seconds: faster than anyone types a password. It is
    /// raised Low (a client opening several connections at once with a wrong
    /// password does this too) and Medium when a login from the address follows
    /// within a minute. It catches a tool that finds a weak password in its first
    /// seconds, before the volume threshold is reached.
    pub brute_force_burst_secs: u64,
    /// BruteForce, fast form from the Internet: at least this many failed logins
    /// from one public address ...
    pub brute_force_fast_failures: u32,
    /// ... within this many seconds. 6 in 10 s is CrowdSec's database scenarios'
    /// bucket (five failures held, one leaking every 10 s) and three wrong passwords
    /// in a row even with libpq's doubled TLS/plain attempts, faster than a person
    /// retypes them; a pool or health check inside your network (a private address)
    /// does not count here. Such a burst from an address that never logged in here is
    /// Medium, more when the server says the user names do not exist
    /// (docs/detection-thresholds.md).
    pub brute_force_fast_secs: u64,
    /// SuccessfulBruteForce: a successful login from an address that failed at least
    /// this many times (failed logins in its current brute-force episode, at least one
    /// of them for the user that then logged in).
    pub successful_brute_force_failures: u32,
    /// An address that had logged in successfully as a user at least this many times
    /// before failing as that user is a known client of it (an application server whose
    /// stored password went out of date): its failures for that user raise a Low
    /// BruteForce that says so, and its login afterwards no SuccessfulBruteForce.
    pub known_client_logins: u32,
    /// PasswordSpray: at least this many distinct user names failing from one
    /// address ...
    pub spray_users: u32,
    /// ... with at most this many failed logins per user name on average ...
    pub spray_max_attempts_per_user: u32,
    /// ... within this window (sprays go slowly to stay under lockout policies).
    pub spray_window_secs: u64,
    /// CredentialStuffing: failed logins as one user from at least this many distinct
    /// addresses ...
    pub stuffing_sources: u32,
    /// ... in at least this many distinct networks (a /24 for public IPv4, a /16
    /// for private IPv4, a /48 for IPv6) ...
    pub stuffing_networks: u32,
    /// ... within this window. The network count is what keeps a fleet of
    /// application servers with a stale password (many addresses, one VPC) silent.
    pub stuffing_window_secs: u64,
    /// Discovery (threat-listed or Tor addresses): a connection that no login attempt
    /// from the same address follows within this many seconds is a probe.
    pub probe_grace_secs: u64,
    /// Memory bound: source addresses (per instance) whose login history is kept;
    /// the least recently active are forgotten first.
    pub max_tracked_sources: usize,
    /// Memory bound: user names (per instance) whose failures from many addresses
    /// are tracked, least recently active forgotten first.
    pub max_tracked_users: usize,
}

impl Default for LoginConfig {
    fn default() -> Self {
        LoginConfig {
            brute_force_failures: 20,
            brute_force_window_secs: 600,
            brute_force_burst_attempts: 4,
            brute_force_burst_failures: 3,
            brute_force_burst_secs: 2,
            brute_force_fast_failures: 6,
            brute_force_fast_secs: 10,
            successful_brute_force_failures: 20,
            known_client_logins: 5,
            spray_users: 5,
            spray_max_attempts_per_user: 5,
            spray_window_secs: 3600,
            stuffing_sources: 10,
            stuffing_networks: 5,
            stuffing_window_secs: 3600,
            probe_grace_secs: 120,
            max_tracked_sources: 10_000,
            max_tracked_users: 10_000,
        }
    }
}

/// Thresholds of the database activity detectors (`detectors/activity.rs`).
/// Windows are in seconds. The defaults keep a team's own work silent: a deploy's
/// migrations drop a few tables, a dump restore drops and re-creates every table, an
/// ETL job truncates and reloads its staging tables, ORMs and DBA tools read the
/// catalogs whenever they connect.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivityConfig {
    /// MassDestruction: at least this many distinct tables or databases destroyed
    /// (DROP, TRUNCATE, DELETE without WHERE) by one actor on one instance ...
    pub mass_destruction_objects: u32,
    /// ... within this window ...
    pub mass_destruction_window_secs: u64,
    /// ... that the same actor did not create again or reload within this long (a
    /// restore or a reload does, at once). The finding waits this long after a drop.
    pub mass_destruction_settle_secs: u64,
    /// RansomNote: data destroyed and a ransom-named table/database or a demand
    /// created on the same instance within this long of each other.
    pub ransom_lookback_secs: u64,
    /// SchemaEnumeration: catalog reads are counted over this window.
    pub schema_enum_window_secs: u64,
    /// SchemaEnumeration, unusual actor: at least this many catalog queries ...
    pub schema_enum_statements: u32,
    /// ... over at least this many distinct catalog objects, by an actor that did not
    /// read catalogs when it started ...
    pub schema_enum_objects: u32,
    /// ... which means: its first catalog read came later than this many seconds
    /// after its first event ...
    pub schema_enum_startup_secs: u64,
    /// ... and after more than this many of its statements.
    pub schema_enum_startup_statements: u64,
    /// SchemaEnumeration, any actor: account-wide catalogs (databases, roles, grants)
    /// weigh 1 and credential catalogs (pg_shadow, pg_authid, mysql.user) 2; reading
    /// this much within the window raises the finding.
    pub schema_enum_account_weight: u32,
    /// OversizedStatement: a statement at least this long (bytes, as logged) is a
    /// finding. 1 MiB is what keibi reads of a line whole; a migration's bulk INSERT
    /// of a few hundred KB and mysqldump's extended INSERTs (cut at its
    /// `net_buffer_length`, 1,046,528 bytes by default) stay under it.
    pub oversized_statement_bytes: u64,
    /// Client names (application_name prefixes, any case) of administration tools:
    /// their catalog reads are a person browsing, and stay Low.
    pub admin_tools: Vec<String>,
    /// Users whose statements these detectors ignore: RDS's own management account.
    /// Only the exact name over the local socket counts (see `activity::ignored`).
    pub ignore_users: Vec<String>,
    /// Memory bound: actors (instance, user, client) tracked by each detector; the
    /// least recently active are forgotten first.
    pub max_tracked_actors: usize,
}

impl Default for ActivityConfig {
    fn default() -> Self {
        ActivityConfig {
            mass_destruction_objects: 10,
            mass_destruction_window_secs: 300,
            mass_destruction_settle_secs: 300,
            ransom_lookback_secs: 3600,
            schema_enum_window_secs: 300,
            schema_enum_statements: 10,
            schema_enum_objects: 4,
            schema_enum_startup_secs: 60,
            schema_enum_startup_statements: 20,
            schema_enum_account_weight: 3,
            oversized_statement_bytes: 1 << 20,
            admin_tools: [
                "psql",
                "pgcli",
                "pgadmin",
                "dbeaver",
                "datagrip",
                "jetbrains",
                "tableplus",
                "navicat",
                "heidisql",
                "mysql workbench",
                "beekeeper",
                "postico",
                "azure data studio",
                "dbvis",
                "mycli",
                "sequel",
                "adminer",
                "phpmyadmin",
            ]
            .map(String::from)
            .to_vec(),
            ignore_users: vec!["rdsadmin".to_string()],
            max_tracked_actors: 10_000,
        }
    }
}

/// Settings of the behavioural baselines (detectors/baseline, docs/baselines.md).
///
/// A profile judges nothing until it is mature: at least `min_logins` (or
/// `min_api_calls`) events spread over at least `min_days` days, on at least
/// `min_active_days` different days. GuardDuty waits up to two weeks; with `keibi
/// learn` over archived logs, a profile can be mature before the first scan.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BaselineConfig {
    /// Learn profiles and raise the AnomalousBehavior findings.
    pub enabled: bool,
    /// Successful logins a user's profile needs before it judges logins.
    pub min_logins: u64,
    /// Successful API calls a principal's profile needs before it judges calls.
    pub min_api_calls: u64,
    /// Days between the first and the last event a profile learned from.
    pub min_days: u32,
    /// Distinct days with events (a week of history with one busy day is not a week).
    pub min_active_days: u32,
    /// A value first seen after maturity (a new network, a new client) stays "new"
    /// this long: repeats of an anomaly grow one finding; afterwards it is routine.
    pub settle_secs: i64,
    /// Profiles kept of each kind (logins, principals); the least recently active
    /// are forgotten first. About 1 KiB each.
    pub max_profiles: usize,
    /// AnomalousBehavior.FailedLogin: failures in one clock hour at an instance must
    /// reach at least this many ...
    pub failed_logins_min: u32,
    /// ... and this many times the most the instance has usually had in an hour.
    pub failed_logins_factor: u32,
    /// A login from a public address counts as "failures came first" (High) after at
    /// least this many failed logins from the same address ...
    pub failures_before: u32,
    /// ... within this window before it.
    pub failures_before_secs: i64,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            enabled: true,
            min_logins: 10,
            min_api_calls: 10,
            min_days: 7,
            min_active_days: 3,
            settle_secs: 86_400,
            max_profiles: 100_000,
            failed_logins_min: 10,
            failed_logins_factor: 3,
            failures_before: 3,
            failures_before_secs: 3_600,
        }
    }
}

/// Settings of the CloudTrail detections. Windows are in seconds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudTrailConfig {
    /// The other accounts of your own AWS Organization (12-digit ids). Sharing a
    /// snapshot with one of them is not SnapshotSharedExternally, like sharing with a
    /// `trusted_accounts` entry; the caller's own account never counts as external.
    pub org_accounts: Vec<String>,
    /// Your AWS Organization's id (`o-…`): a trust policy that lets `*` assume a
    /// role on condition `aws:PrincipalOrgID` names it is not TrustedOutsideAccount.
    pub org_ids: Vec<String>,
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
    /// AccessDeniedBurst on one API: this many refusals of one API that hands out
    /// secrets or power (GetPasswordData, GetSecretValue, CreateAccessKey ...) by one
    /// principal within `access_denied_window_secs` are a burst even with one API. An
    /// application missing a permission retries at most a few times a minute: 30 in
    /// ten minutes is Stratus Red Team's `ec2-get-password-data` detonation, which
    /// asks once per instance of a fleet.
    pub access_denied_one_api_calls: u32,
    /// ConsoleBruteForce: at least this many failed console sign-ins from one address,
    /// or for one user, ...
    pub console_failures: u32,
    /// ... within this window. A person who mistypes a password fails once or twice and
    /// then signs in; the console asks for a CAPTCHA after a few failures, so a
    /// guessing run is slow and this window is long.
    pub console_window_secs: u64,
    /// AttackSequence:IAM/CompromisedCredentials: IAM persistence by a principal
    /// within this long after its console sign-in followed a brute force; also how
    /// long a created user or role counts as new (AdminPolicyAttached, and keys or
    /// passwords made for it while onboarding it).
    pub sequence_window_secs: u64,
}

impl Default for CloudTrailConfig {
    fn default() -> Self {
        CloudTrailConfig {
            org_accounts: Vec::new(),
            org_ids: Vec::new(),
            access_denied_calls: 20,
            access_denied_apis: 5,
            access_denied_window_secs: 600,
            snapshot_deletes: 10,
            snapshot_delete_window_secs: 600,
            access_denied_one_api_calls: 30,
            console_failures: 5,
            console_window_secs: 1800,
            sequence_window_secs: 3600,
        }
    }
}

/// Settings of the bulk-read detections (`detectors/cloudtrail/secrets.rs`).
///
/// An application reads its one or two secrets when it starts (every instance, every
/// restart: the same names again); a deploy or CI role reads the handful its stack
/// needs. Stratus Red Team's and Panther's recordings of an intruder read 10 to 40
/// different secrets or SecureString parameters within a minute or two. The RDS
/// console's log viewer downloads one file in portions; a stolen key pulling the
/// logs downloads every file of the instance, one after the other.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudTrailDataConfig {
    /// CredentialAccess:IAMUser/AnomalousBehavior: at least this many different
    /// secrets (Secrets Manager secrets, SSM parameters read with decryption) read by
    /// one principal ...
    pub secrets: u32,
    /// ... within this window.
    pub secrets_window_secs: u64,
    /// CredentialAccess:RDS/LogFilesDownloaded: at least this many different RDS log
    /// files downloaded by one principal ...
    pub log_files: u32,
    /// ... within this window.
    pub log_window_secs: u64,
}

impl Default for CloudTrailDataConfig {
    fn default() -> Self {
        CloudTrailDataConfig {
            secrets: 10,
            secrets_window_secs: 600,
            log_files: 5,
            log_window_secs: 600,
        }
    }
}

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// Most values one `|expand` placeholder may have (`detection.placeholders`,
/// `--placeholder NAME=FILE`): each is a value every event of its rules is compared with.
pub const MAX_PLACEHOLDER_VALUES: usize = 100_000;

/// The longest window a setting may ask for: ten years, in seconds.
pub const MAX_WINDOW_SECS: u64 = 315_576_000;

/// What a configuration file may be: a full one is a few KB; anchors and aliases
/// are refused (they can expand a few KB into gigabytes), see [`crate::yamlguard`].
pub const CONFIG_LIMITS: Limits = Limits {
    max_bytes: 1 << 20,
    max_depth: 16,
    max_nodes: 100_000,
    what: "configuration files",
};

impl Config {
    /// Reads a YAML configuration; every key is optional, unknown keys are errors
    /// (a misspelt threshold must not silently keep its default).
    pub fn from_yaml(text: &str) -> Result<Config, ConfigError> {
        crate::yamlguard::check(text, &CONFIG_LIMITS).map_err(|e| ConfigError(e.to_string()))?;
        let config: Config = yaml_serde::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Refuses windows no one means: more than [`MAX_WINDOW_SECS`] (ten years), or
    /// negative. The detectors clamp them as well, so that time arithmetic never
    /// overflows whatever a `Config` holds; a file asking for them is a mistake to say.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, values) in &self.placeholders {
            if values.len() > MAX_PLACEHOLDER_VALUES {
                return Err(ConfigError(format!(
                    "placeholders.{name}: {} values, more than the {MAX_PLACEHOLDER_VALUES} a placeholder may have",
                    values.len()
                )));
            }
        }
        let (l, a, b, c) = (
            &self.login,
            &self.activity,
            &self.baseline,
            &self.cloudtrail,
        );
        let unsigned = [
            ("login.brute_force_window_secs", l.brute_force_window_secs),
            ("login.brute_force_burst_secs", l.brute_force_burst_secs),
            ("login.spray_window_secs", l.spray_window_secs),
            ("login.stuffing_window_secs", l.stuffing_window_secs),
            ("login.probe_grace_secs", l.probe_grace_secs),
            (
                "activity.mass_destruction_window_secs",
                a.mass_destruction_window_secs,
            ),
            (
                "activity.mass_destruction_settle_secs",
                a.mass_destruction_settle_secs,
            ),
            ("activity.ransom_lookback_secs", a.ransom_lookback_secs),
            (
                "activity.schema_enum_window_secs",
                a.schema_enum_window_secs,
            ),
            (
                "activity.schema_enum_startup_secs",
                a.schema_enum_startup_secs,
            ),
            (
                "cloudtrail.access_denied_window_secs",
                c.access_denied_window_secs,
            ),
            (
                "cloudtrail.snapshot_delete_window_secs",
                c.snapshot_delete_window_secs,
            ),
            ("cloudtrail.console_window_secs", c.console_window_secs),
            ("cloudtrail.sequence_window_secs", c.sequence_window_secs),
            (
                "cloudtrail_data.secrets_window_secs",
                self.cloudtrail_data.secrets_window_secs,
            ),
            (
                "cloudtrail_data.log_window_secs",
                self.cloudtrail_data.log_window_secs,
            ),
        ];
        let signed = [
            ("baseline.settle_secs", b.settle_secs),
            ("baseline.failures_before_secs", b.failures_before_secs),
        ];
        let bad = unsigned
            .into_iter()
            .map(|(k, v)| (k, i128::from(v)))
            .chain(signed.into_iter().map(|(k, v)| (k, i128::from(v))))
            .find(|(_, v)| !(0..=i128::from(MAX_WINDOW_SECS)).contains(v));
        match bad {
            Some((key, v)) => Err(ConfigError(format!(
                "{key}: {v} seconds is not a window (0 to {MAX_WINDOW_SECS}, ten years)"
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_beyond_ten_years_or_negative_are_refused_by_name() {
        let e = Config::from_yaml("login:\n  brute_force_window_secs: 18446744073709551615\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("login.brute_force_window_secs"), "{e}");
        let e = Config::from_yaml("baseline:\n  settle_secs: -1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("baseline.settle_secs"), "{e}");
        let ok = Config::from_yaml("cloudtrail:\n  snapshot_delete_window_secs: 315576000\n");
        assert!(ok.is_ok());
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn aliases_and_deep_nesting_are_refused_before_deserializing() {
        let e = Config::from_yaml("x: &a [1]\ny: *a\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 1") && e.contains("configuration files"),
            "{e}"
        );
        let deep = format!(
            "placeholders: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let e = Config::from_yaml(&deep).unwrap_err().to_string();
        assert!(e.contains("levels deep"), "{e}");
    }
}
