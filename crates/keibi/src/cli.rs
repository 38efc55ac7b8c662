//! Command-line definitions (clap). Every command's flags live here, so `--help` and
//! the README stay in step with one file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "keibi",
    version,
    about = "Detects unauthorized access to PostgreSQL and MySQL/MariaDB databases (RDS, Aurora, self-hosted) and AWS accounts, from their logs and CloudTrail."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// When to colour terminal output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// Print no warnings (the closing summary line is still printed).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read database and CloudTrail logs and print them as one normalized event stream.
    Events(EventsArgs),
    /// Scan database and CloudTrail logs for attacks and print the findings.
    Scan(ScanArgs),
    /// Learn behavioural baselines from archived logs into a state file (raises nothing).
    Learn(LearnArgs),
    /// List the detection rules, or check rule files.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Generate a week of RDS PostgreSQL and MySQL logs with attacks woven in, and scan it.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub detect: DetectArgs,
    /// Output format [default: table on a terminal, jsonl otherwise].
    #[arg(long, value_enum)]
    pub format: Option<crate::output::findings::FindingFormat>,
    /// Exit 1 when a finding at or above this severity is found (Low, Medium, High,
    /// Critical, or a number 1.0-10.0).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<keibi_model::Severity>,
    /// Print only findings at or above this severity.
    #[arg(long, value_name = "SEVERITY")]
    pub min_severity: Option<keibi_model::Severity>,
}

/// What detection runs with: rules, lists and thresholds.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Also load the Sigma rules in this file or directory (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Do not load keibi's built-in rules (only those given with --rules).
    #[arg(long)]
    pub no_builtin_rules: bool,
    /// Tor exit list (the Tor project's exit-addresses file, or one address per line).
    #[arg(long, value_name = "FILE")]
    pub tor_list: Vec<PathBuf>,
    /// List of malicious addresses or CIDRs (plain or FireHOL netset; repeatable).
    #[arg(long, value_name = "FILE")]
    pub threat_list: Vec<PathBuf>,
    /// Addresses that must never raise login or network findings (repeatable).
    #[arg(long, value_name = "FILE")]
    pub trusted_list: Vec<PathBuf>,
    /// AWS account snapshots may be shared with (repeatable).
    #[arg(long, value_name = "ID")]
    pub trusted_account: Vec<String>,
    /// Detection settings (thresholds, placeholders, database ports) as YAML.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Behavioural profiles to start from and save to (created when missing).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// MaxMind-format country database (GeoLite2-Country/City or DB-IP .mmdb).
    #[arg(long, value_name = "FILE")]
    pub geoip_db: Option<PathBuf>,
    /// MaxMind-format ASN database (GeoLite2-ASN or DB-IP ASN .mmdb).
    #[arg(long, value_name = "FILE")]
    pub asn_db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LearnArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// State file to learn into (created when missing); then `keibi scan --state FILE`.
    #[arg(long, value_name = "FILE")]
    pub state: PathBuf,
    /// MaxMind-format country database (GeoLite2-Country/City or DB-IP .mmdb).
    #[arg(long, value_name = "FILE")]
    pub geoip_db: Option<PathBuf>,
    /// MaxMind-format ASN database (GeoLite2-ASN or DB-IP ASN .mmdb).
    #[arg(long, value_name = "FILE")]
    pub asn_db: Option<PathBuf>,
    /// Detection settings (maturity thresholds under `baseline:`) as YAML.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the finding catalog: every finding type the built-in detectors and the
    /// loaded rules (built-in ones and those given with --rules) can raise.
    List {
        /// Also load the Sigma rules in this file or directory (repeatable).
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
        /// Output format [default: table].
        #[arg(long, value_enum)]
        format: Option<EventFormat>,
    },
    /// Check rule files: every rule that cannot load is printed with its file and
    /// the reason; exits 1 if there is any.
    Lint {
        /// Rule files or directories.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files, directories (read recursively), .gz/.zst/.bz2 archives, or - for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// Read every input as this format instead of detecting it.
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<keibi_parse::Format>,
    /// PostgreSQL log_line_prefix of the inputs, when it is not one keibi recognises.
    #[arg(long, value_name = "PREFIX")]
    pub pg_prefix: Option<String>,
    /// Database instance id to give every event (default: from the logs and their paths).
    #[arg(long, value_name = "ID")]
    pub instance: Option<String>,
    /// UTC offset of timestamps logged without a zone (MariaDB audit, syslog), e.g. +09:00.
    #[arg(long, value_name = "OFFSET", default_value = "+00:00")]
    pub log_timezone: String,
    /// Only events at or after this time (RFC 3339, YYYY-MM-DD, or an age such as 24h, 7d).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventFormat {
    /// One JSON object per line.
    Jsonl,
    /// Aligned columns for a person at a terminal.
    Table,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format [default: table on a terminal, jsonl otherwise].
    #[arg(long, value_enum)]
    pub format: Option<EventFormat>,
    /// Exit 1 when any input line was not recognized.
    #[arg(long)]
    pub fail_on_unparsed: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Write the demo logs and lists to this directory (default: a new temporary
    /// directory, kept), replacing the logs of an earlier demo written there.
    #[arg(long, value_name = "DIR")]
    pub write_to: Option<PathBuf>,
    /// Last day of the generated week, YYYY-MM-DD (default: yesterday, UTC). The same
    /// day always gives the same logs.
    #[arg(long, value_name = "DATE")]
    pub week_ending: Option<chrono::NaiveDate>,
}
