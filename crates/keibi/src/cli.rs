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
    /// Language of tables, summaries and finding texts: en or ja [env: KEIBI_LANG;
    /// then keibi.yaml's display.lang, then LC_ALL, LC_MESSAGES, LANG].
    #[arg(long, value_name = "LANG", global = true)]
    pub lang: Option<String>,
    /// Time zone of times shown to people, an IANA name such as Asia/Tokyo [env:
    /// KEIBI_TZ; then display.tz; default UTC in English, the system's zone in
    /// Japanese]. JSON and CSV times stay UTC.
    #[arg(long, value_name = "ZONE", global = true)]
    pub display_tz: Option<String>,
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
    /// The finding store: list, show, acknowledge, resolve, suppress, import, prune.
    Findings(FindingsArgs),
    /// The response journal: list, show, approve, cancel or undo actions; pause and
    /// resume every response (the daemon does the acting).
    Actions(ActionsArgs),
    /// Write a commented settings file (keibi.yaml) with every default.
    Init(InitArgs),
    /// Check a settings file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Follow logs as they are written and keep the findings in the store (the daemon).
    Run(RunArgs),
    /// Check posture: RDS, security groups, network ACLs, CloudTrail and GuardDuty
    /// (live or from saved AWS CLI JSON), and inside PostgreSQL and MySQL/MariaDB.
    Audit(AuditArgs),
    /// Notifications: send a test message to a channel, show the outbox, and which
    /// routes a finding takes.
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// What addresses, database users and IAM principals did across database logs
    /// and CloudTrail, with their findings, in time order: from the store, or from
    /// log files.
    Timeline(TimelineArgs),
    /// The dashboard's local users: add, list, remove, change a password, list or
    /// end their sessions.
    Users(UsersArgs),
    /// Serve the dashboard over a store without the daemon (a store filled by
    /// `keibi findings import`, or a stopped daemon's).
    Dashboard(DashboardArgs),
    /// Partitioned streams (NATS JetStream, Amazon Kinesis) that `keibi run
    /// --worker` processes share: send log files into one.
    #[command(subcommand)]
    Stream(StreamCommand),
}

#[derive(Debug, Subcommand)]
pub enum StreamCommand {
    /// Send log files into a stream: with --nats as records on PREFIX.KEY (KEY =
    /// INSTANCE.LOG) of whole entries; with --kinesis as a CloudWatch Logs
    /// subscription (or a log shipper, with --raw) would.
    Send(StreamSendArgs),
}

#[derive(Debug, Args)]
pub struct StreamSendArgs {
    /// Plain-text log files, sent in the order given.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// With --nats: INSTANCE.LOG (orders-db.postgresql) [default: the instance
    /// the file's directory names, else its name, and .log]. With --kinesis
    /// (required): the partition key, the log group the lines belong to
    /// (`/aws/rds/instance/<id>/postgresql`); one instance's logs stay in one
    /// partition.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// With --kinesis: send the lines as they are (whole lines per record)
    /// instead of as CloudWatch Logs subscription messages (gzip'd JSON, one log
    /// event per entry).
    #[arg(long, requires = "kinesis")]
    pub raw: bool,
    #[command(flatten)]
    pub nats: NatsSendArgs,
    #[command(flatten)]
    pub kinesis: KinesisSendArgs,
}

/// Where `keibi stream send` publishes records in NATS JetStream.
#[derive(Debug, Args)]
pub struct NatsSendArgs {
    /// The NATS server (nats://127.0.0.1:4222).
    #[arg(long, value_name = "URL", conflicts_with = "kinesis")]
    pub nats: Option<String>,
    /// The subjects the server maps onto partitions.
    #[arg(long, value_name = "SUBJECT", default_value = "keibi.logs")]
    pub subject_prefix: String,
    /// The JetStream stream, created when missing (subjects keibi.p.>).
    #[arg(long, value_name = "NAME", default_value = "KEIBI")]
    pub stream: String,
    /// Largest record, in KiB (at most 1024).
    #[arg(long, value_name = "KIB", default_value_t = 256)]
    pub record_kib: usize,
    /// Force a format instead of detecting it (to find where entries start).
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<keibi_parse::Format>,
    /// PostgreSQL log_line_prefix, when not one keibi recognises by itself.
    #[arg(long, value_name = "PREFIX")]
    pub pg_prefix: Option<String>,
}

/// Where `keibi stream send` puts records in Amazon Kinesis Data Streams.
#[derive(Debug, Args)]
pub struct KinesisSendArgs {
    /// The Kinesis data stream's name (PutRecords; IAM kinesis:PutRecords).
    #[arg(long, value_name = "STREAM")]
    pub kinesis: Option<String>,
    /// The stream's region [default: the credential chain's].
    #[arg(long, value_name = "REGION", requires = "kinesis")]
    pub region: Option<String>,
    /// AWS profile to send with.
    #[arg(long, value_name = "NAME", requires = "kinesis")]
    pub profile: Option<String>,
    /// Send AWS calls here instead of AWS (moto, a VPC endpoint).
    #[arg(long, value_name = "URL", requires = "kinesis")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct UsersArgs {
    /// The store file [default: the settings' store.path with --config, else keibi.db].
    #[arg(long, value_name = "FILE", global = true)]
    pub store: Option<PathBuf>,
    /// Settings file: its store.path is the store.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: UsersCommand,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user; the password is asked twice without echo (12 characters or more).
    Add {
        /// 1 to 64 letters, digits or . _ - @ +
        name: String,
        /// viewer (reads), responder (also acknowledges, resolves, suppresses),
        /// admin (also the settings page).
        #[arg(long, value_parser = ["viewer", "responder", "admin"])]
        role: String,
        /// The dashboard's language for this user [default: the browser's].
        #[arg(long, value_parser = ["en", "ja"])]
        lang: Option<String>,
        /// Read the password from the first line of standard input instead.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the users.
    List,
    /// Remove a user and end their sessions.
    Remove { name: String },
    /// Set a user's password (their sessions end).
    Passwd {
        name: String,
        /// Read the password from the first line of standard input instead.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the live sessions, or end every session of a user.
    Sessions {
        /// End every session of this user.
        #[arg(long, value_name = "NAME")]
        revoke: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// The store file [default: the settings' store.path with --config, else keibi.db].
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Settings file: its dashboard and store sections.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address and port [default: the settings' dashboard.listen, 127.0.0.1:9717].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Show, route by route, whether a stored finding matches (and which filter
    /// fails if not), the channels it goes to, and when each would be sent.
    Routes(NotifyRoutesArgs),
    /// Send a realistic sample finding (the demo's brute force, marked as a test) to
    /// one channel now, and say what the receiver answered (exit 1 when it failed).
    Test {
        /// The channel's name in the settings' notify.channels.
        #[arg(long, value_name = "NAME")]
        channel: String,
        /// Settings file with the notify section.
        #[arg(long, value_name = "FILE", default_value = "keibi.yaml")]
        config: PathBuf,
        /// Output format [default: text].
        #[arg(long, value_enum, default_value = "text")]
        format: NotifyFormat,
    },
    /// Show the outbox: deliveries pending, failed (with the last error) and sent,
    /// per channel, and when each pending one is tried next.
    Status {
        /// Settings file: its store.path is the store [default: keibi.db].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The store file (overrides the settings').
        #[arg(long, value_name = "FILE")]
        store: Option<PathBuf>,
        /// At most this many pending and failed deliveries listed.
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: usize,
        /// Output format [default: text].
        #[arg(long, value_enum, default_value = "text")]
        format: NotifyFormat,
    },
}

#[derive(Debug, Args)]
pub struct NotifyRoutesArgs {
    /// The finding's id, or a unique prefix of it.
    #[arg(value_name = "FINDING_ID")]
    pub id: String,
    /// Settings file (keibi.yaml) whose `notify` routes are shown [default: none,
    /// so no channels and the default route].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The finding store [default: the settings' store.path with --config, else
    /// keibi.db].
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Route as if at this time (RFC 3339, `YYYY-MM-DD HH:MM` UTC, or `2h` ago)
    /// [default: now]: quiet hours and group_wait are judged then.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// `text` for a person, `json` for programs.
    #[arg(long, value_enum, default_value_t = RoutesFormat::Text)]
    pub format: RoutesFormat,
}

/// `keibi notify routes --format`: the same choice as the other notify commands.
pub type RoutesFormat = NotifyFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NotifyFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Logs to follow: files, directories, globs (quote them), `-` for standard
    /// input. Without them, the `sources` of the settings file.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Settings file (keibi.yaml): sources, detection, lists, tuning, rules, store, log.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The finding store [default: the settings' store.path, keibi.db].
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Read what is there, commit the findings and exit (for cron).
    #[arg(long)]
    pub once: bool,
    /// Serve /metrics and /healthz on this address and port, or `off` [default: the
    /// settings' server.listen with --config, else off].
    #[arg(long, value_name = "ADDR|off")]
    pub listen: Option<keibi_engine::settings::Listen>,
    /// keibi's own log on stderr: `text`, or `json` (one object a line) [default:
    /// the settings' log.format, text].
    #[arg(long, value_name = "FORMAT")]
    pub log_output: Option<LogOutput>,
    /// Behavioural profiles to start from when the store has none (a `keibi learn`
    /// file); every profile is written back to it when the daemon stops, for
    /// `keibi scan --state`.
    #[arg(long, value_name = "FILE")]
    pub state: Option<std::path::PathBuf>,
    /// Values of a Sigma `|expand` placeholder, one a line (repeatable): a rule
    /// whose placeholders have no values does not load.
    #[arg(long = "placeholder", value_name = "NAME=FILE")]
    pub placeholder: Vec<String>,
    /// Serve the dashboard on this address and port, or `off` [default: the
    /// settings' dashboard.listen with --config, else off].
    #[arg(long, value_name = "ADDR|off")]
    pub dashboard: Option<keibi_engine::settings::Listen>,
    /// One of several workers sharing the settings' `stream` and store: this
    /// process reads its share of the stream's partitions (`docs/scaling.md`).
    #[arg(long, conflicts_with_all = ["paths", "once", "state"])]
    pub worker: bool,
}

/// The form of the daemon's own log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogOutput {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write it.
    #[arg(long, short, value_name = "FILE", default_value = "keibi.yaml")]
    pub output: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Read a settings file and print every problem with its file, line and column;
    /// exits 1 if there is any, 2 if the file cannot be read.
    Check {
        /// The settings file.
        #[arg(value_name = "FILE", default_value = "keibi.yaml")]
        file: PathBuf,
    },
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

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Read the AWS account live (standard credential chain: environment, profile,
    /// instance or task role).
    #[arg(long)]
    pub aws: bool,
    /// Saved AWS CLI outputs (`aws rds describe-db-instances > x.json`): files or
    /// directories (repeatable).
    #[arg(long, value_name = "PATH")]
    pub aws_json: Vec<PathBuf>,
    /// Regions to read live (repeatable) [default: the credential chain's region].
    #[arg(long, value_name = "REGION")]
    pub region: Vec<String>,
    /// AWS profile to read live with.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send AWS calls here instead of AWS (moto, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Assume this IAM role (with the credentials above) and read its account
    /// live: arn:aws:iam::123456789012:role/keibi-audit.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The external id the role's trust policy asks for.
    #[arg(long, value_name = "ID", requires = "role_arn")]
    pub external_id: Option<String>,
    /// A PostgreSQL server to check from inside (repeatable):
    /// postgres://user:password@host:5432/db?sslmode=require.
    #[arg(long, value_name = "URL")]
    pub pg: Vec<String>,
    /// A MySQL or MariaDB server to check from inside (repeatable):
    /// mysql://user:password@host:3306/.
    #[arg(long, value_name = "URL")]
    pub mysql: Vec<String>,
    /// Output format [default: table on a terminal, jsonl otherwise]: json, jsonl,
    /// csv, ocsf and asff give the findings of the failed checks; sarif is SARIF 2.1.0
    /// for CI.
    #[arg(long, value_enum)]
    pub format: Option<crate::output::posture::AuditFormat>,
    /// Exit 1 when a check fails at or above this severity (Low, Medium, High,
    /// Critical, or a number 1.0-10.0); suppressed checks never count.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<keibi_model::Severity>,
    /// Settings file: its `audit` section names the targets when no flag does, and
    /// its suppressions always apply.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// List every control (id, type, severity, resource kind, title) and exit;
    /// `--format jsonl` or `json` for programs.
    #[arg(long)]
    pub list_controls: bool,
}

/// What detection runs with: rules, lists and thresholds.
#[derive(Debug, Default, Args)]
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
    /// Settings file: a keibi.yaml (its detection, lists, tuning and rules sections
    /// apply), or detection settings only (thresholds, placeholders, database ports).
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
    /// Values of a Sigma `|expand` placeholder, one a line (repeatable): a rule
    /// whose placeholders have no values does not load.
    #[arg(long = "placeholder", value_name = "NAME=FILE")]
    pub placeholder: Vec<String>,
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
    /// Files, directories (read recursively), .gz/.zst/.bz2 archives, - for stdin,
    /// s3://bucket/prefix (CloudTrail's trail bucket, or any prefix of log files),
    /// cloudwatch://LOG-GROUP (cloudwatch:///aws/rds/instance/db1/postgresql),
    /// rds://INSTANCE[/LOG-FILE-PREFIX] (rds://db1/error/postgresql.log), or
    /// cloudtrail-history://REGION (CloudTrail's event history, for accounts with no
    /// trail; ?EventSource=rds.amazonaws.com narrows it).
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
    /// Region of s3://, cloudwatch:// and rds:// inputs [default: the credential chain's].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS profile to read s3://, cloudwatch:// and rds:// inputs with.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send the AWS calls of s3://, cloudwatch:// and rds:// inputs here (moto, MinIO, a VPC
    /// endpoint); S3 requests are then path-style.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Assume this IAM role (with the credentials above) and read the s3://,
    /// cloudwatch://, rds:// and cloudtrail-history:// inputs with it: another
    /// account's (arn:aws:iam::123456789012:role/keibi-read).
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The external id the role's trust policy asks for.
    #[arg(long, value_name = "ID", requires = "role_arn")]
    pub external_id: Option<String>,
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
    /// Print each input's detected format and, for PostgreSQL stderr logs, the
    /// log_line_prefix inferred from its first lines (and how sure), instead of events.
    #[arg(long)]
    pub explain: bool,
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// An address whose activity to show (repeat for more).
    #[arg(long, value_name = "ADDRESS")]
    pub ip: Vec<std::net::IpAddr>,
    /// A database user (repeat for more).
    #[arg(long, value_name = "NAME")]
    pub user: Vec<String>,
    /// An IAM principal's ARN, as CloudTrail names it (repeat for more).
    #[arg(long, value_name = "ARN")]
    pub principal: Vec<String>,
    /// Start of the window (RFC 3339, YYYY-MM-DD, or an age such as 24h, 7d)
    /// [default: 1d, or 3 hours before --around's finding].
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// End of the window, included (same forms) [default: now, or 3 hours after
    /// --around's finding].
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// A stored finding (id or unique prefix): adds its addresses and users, and
    /// shows from 3 hours before its first event to 3 hours after its last.
    #[arg(long, value_name = "FINDING_ID")]
    pub around: Option<String>,
    /// Output format [default: table on a terminal, jsonl otherwise].
    #[arg(long, value_enum)]
    pub format: Option<EventFormat>,
    /// The store `keibi run` writes [default: keibi.db]. With files, their events
    /// are shown with this store's finding marks (none when not given).
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// At most this many lines (the earliest); the rest is said to be left out.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub limit: u64,
    /// Log files, directories or archives to read instead of the store (as
    /// `keibi events` reads them).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Read every file as this format instead of detecting it.
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<keibi_parse::Format>,
    /// PostgreSQL log_line_prefix of the files, when it is not one keibi recognises.
    #[arg(long, value_name = "PREFIX")]
    pub pg_prefix: Option<String>,
    /// Database instance id to give every event read from files.
    #[arg(long, value_name = "ID")]
    pub instance: Option<String>,
    /// UTC offset of timestamps logged without a zone, e.g. +09:00.
    #[arg(long, value_name = "OFFSET", default_value = "+00:00")]
    pub log_timezone: String,
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

#[derive(Debug, Args)]
pub struct FindingsArgs {
    /// The store file (`keibi findings import` creates it).
    #[arg(long, value_name = "FILE", default_value = "keibi.db", global = true)]
    pub store: PathBuf,
    #[command(subcommand)]
    pub command: FindingsCommand,
}

#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// List stored findings, most severe first.
    List {
        /// Only findings with this status: new, acknowledged, resolved, suppressed
        /// (repeatable) [default: new and acknowledged].
        #[arg(long, value_name = "STATUS")]
        status: Vec<String>,
        /// Every status.
        #[arg(long, conflicts_with = "status")]
        all: bool,
        /// Only findings at or above this severity.
        #[arg(long, value_name = "SEVERITY")]
        min_severity: Option<keibi_model::Severity>,
        /// Only findings of this type (repeatable).
        #[arg(long = "type", value_name = "TYPE")]
        types: Vec<String>,
        /// At most this many findings.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Output format [default: table on a terminal, jsonl otherwise].
        #[arg(long, value_enum)]
        format: Option<crate::output::findings::FindingFormat>,
    },
    /// Show one finding with its workflow and history.
    Show {
        /// The finding's id, or a unique start of it.
        id: String,
        /// Output format [default: text on a terminal, json otherwise].
        #[arg(long, value_enum)]
        format: Option<ShowFormat>,
    },
    /// Acknowledge a finding (someone is on it).
    Ack(StatusArgs),
    /// Resolve a finding (it reopens if the activity comes back).
    Resolve(StatusArgs),
    /// Set a finding back to new.
    Reopen(StatusArgs),
    /// Suppress stored and future findings that match every condition given.
    Suppress(SuppressArgs),
    /// List the suppression rules.
    Suppressions,
    /// Read `keibi scan --format jsonl` output into the store (creating it); importing
    /// the same file again changes nothing. With `--from guardduty`, read GuardDuty's
    /// RDS and IAM findings instead (reading them again updates the same findings).
    Import {
        /// A file of findings as JSON lines, or - for standard input.
        #[arg(value_name = "FILE", required_unless_present = "from")]
        file: Option<String>,
        /// Read findings from this service instead of a file.
        #[arg(long, value_enum, conflicts_with = "file")]
        from: Option<ImportFrom>,
        /// With --from: only findings the service updated since then (RFC 3339,
        /// YYYY-MM-DD, or an age such as 7d) [default: per region, an hour before
        /// the last import that read it (its checkpoint in the store); 7d the first
        /// time].
        #[arg(long, value_name = "TIME", requires = "from")]
        since: Option<String>,
        /// With --from: the region, repeatable to read several in one import (one
        /// checkpoint each) [default: the credential chain's].
        #[arg(long, value_name = "REGION", requires = "from")]
        region: Vec<String>,
        /// With --from: AWS profile to read with.
        #[arg(long, value_name = "NAME", requires = "from")]
        profile: Option<String>,
        /// With --from: send AWS calls here instead of AWS (a test server, a VPC
        /// endpoint).
        #[arg(long, value_name = "URL", requires = "from")]
        endpoint_url: Option<String>,
    },
    /// Delete findings last seen before a time, optionally exporting them first.
    Prune {
        /// Findings last seen before this are deleted (RFC 3339, YYYY-MM-DD, or an age
        /// such as 90d).
        #[arg(long, value_name = "TIME")]
        older_than: String,
        /// First write them, with their history, to a .jsonl.zst file in this directory.
        #[arg(long, visible_alias = "export-dir", value_name = "DIR")]
        export: Option<PathBuf>,
    },
    /// The store's size and what it holds.
    Info,
    /// Send stored findings to Security Hub (BatchImportFindings, as ASFF) with
    /// their workflow status; sending them again updates them there.
    Export(ExportArgs),
}

/// Where `keibi findings import --from` reads findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFrom {
    /// Amazon GuardDuty's RDS and IAM findings in one region (IAM:
    /// guardduty:ListDetectors, guardduty:ListFindings, guardduty:GetFindings).
    Guardduty,
}

/// Where `keibi findings export` sends findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportTo {
    /// AWS Security Hub, in the caller's account (IAM: securityhub:BatchImportFindings).
    Securityhub,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where to send them.
    #[arg(long, value_enum)]
    pub to: ExportTo,
    /// Only findings with this status (repeatable) [default: every status, so the
    /// hub's workflow follows the store's].
    #[arg(long, value_name = "STATUS")]
    pub status: Vec<String>,
    /// Only findings at or above this severity.
    #[arg(long, value_name = "SEVERITY")]
    pub min_severity: Option<keibi_model::Severity>,
    /// The hub's region [default: the credential chain's].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS profile to send with.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send AWS calls here instead of AWS (moto, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Also set each finding's workflow status in the hub to the store's
    /// (BatchUpdateFindings, IAM securityhub:BatchUpdateFindings): Security Hub
    /// ignores the workflow an import sends for a finding it already has.
    #[arg(long)]
    pub set_workflow: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// For a person.
    Text,
    /// The finding, its workflow and its history as one JSON object.
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The finding's id, or a unique start of it.
    pub id: String,
    /// Why (kept in the history).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Who [default: $USER].
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct SuppressArgs {
    /// Finding type, e.g. CredentialAccess:RDS/BruteForce.
    #[arg(long = "type", value_name = "TYPE")]
    pub finding_type: Option<String>,
    /// Resource id: instance identifier, account id or ARN.
    #[arg(long, value_name = "ID")]
    pub resource: Option<String>,
    /// An address or CIDR range holding every address of the finding.
    #[arg(long, value_name = "CIDR")]
    pub ip: Option<String>,
    /// The user every event of the finding was by.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// When the rule ends: a duration from now (90m, 24h, 7d, 2w) or a time (RFC 3339,
    /// YYYY-MM-DD) [default: never].
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// Why (shown with the rule and in the findings' history).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Who [default: $USER].
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct ActionsArgs {
    /// The store file the daemon (keibi run) writes.
    #[arg(long, value_name = "FILE", default_value = "keibi.db", global = true)]
    pub store: PathBuf,
    #[command(subcommand)]
    pub command: ActionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// List actions, most recently changed first (a PAUSED banner when responses
    /// are paused).
    List {
        /// Only actions in this state (repeatable): planned, approved, executing,
        /// executed, failed, undoing, undone, expired, simulated, skipped, cancelled.
        #[arg(long, value_name = "STATE")]
        state: Vec<String>,
        /// Only the actions of this finding (its id, or the start of it).
        #[arg(long, value_name = "FINDING_ID")]
        finding: Option<String>,
        /// Only actions changed since (RFC 3339, YYYY-MM-DD, or an age such as 24h).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// At most this many.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Output format [default: table on a terminal, jsonl otherwise].
        #[arg(long, value_enum)]
        format: Option<ActionsFormat>,
    },
    /// Show one action: its target, finding, what was there before and what was
    /// done, and its history.
    Show {
        /// The action's id, or a unique start of it (4 hex digits or more).
        id: String,
        /// Output format [default: text on a terminal, json otherwise].
        #[arg(long, value_enum)]
        format: Option<ShowFormat>,
    },
    /// Approve an action planned in mode approve: the daemon executes it next.
    Approve(ActionChangeArgs),
    /// Cancel a planned or approved action before it runs.
    Cancel(ActionChangeArgs),
    /// Ask the daemon to undo an executed action (it restores what was there before).
    Undo {
        #[command(flatten)]
        change: ActionChangeArgs,
        /// Wait this long (30s, 2m) for the daemon to undo it; exit 1 if it failed or
        /// did not in time.
        #[arg(long, value_name = "DURATION")]
        wait: Option<String>,
    },
    /// Pause every response: the daemon keeps planning and recording, and changes
    /// nothing until resumed.
    Pause {
        /// Why (shown with the PAUSED banner).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Who [default: $USER, $LOGNAME, else cli].
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Resume responses after a pause.
    Resume {
        /// Who [default: $USER, $LOGNAME, else cli].
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ActionChangeArgs {
    /// The action's id, or a unique start of it (4 hex digits or more).
    pub id: String,
    /// Who [default: $USER, $LOGNAME, else cli].
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActionsFormat {
    /// Aligned columns for a person.
    Table,
    /// One JSON array of actions.
    Json,
    /// One action per line.
    Jsonl,
}
