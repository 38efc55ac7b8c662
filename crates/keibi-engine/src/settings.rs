//! `keibi.yaml`: every setting of `keibi run` (and what `keibi scan --config` reads)
//! in one file of sections. Each section is plain data (`Clone`, `PartialEq`,
//! `Debug`, serde), so a reload can compare the old settings with the new.
//!
//! Reading a file reports every problem it can find at once, each with its file,
//! line, column and reason: a problem of YAML syntax or of the bounds of
//! [`keibi_detect::yamlguard`] stops the reading; otherwise each section is read on
//! its own from its own lines (so yaml_serde places a wrong key or value exactly),
//! and a section that fails is read again key by key and list item by list item, so
//! that each gets its own problem. Then every value that parsed is checked (files
//! exist, a source names one thing to read, a suppression says what it suppresses
//! ...) and all those problems are reported too, placed by reading the
//! indentation (`locate.rs`).
//!
//! A file with only detection settings (the form `--config` has always read) is the
//! `detection` section of a file with defaults elsewhere: see [`Form::Flat`].

pub mod audit;
mod check;
pub mod dashboard;
pub mod listen;
mod locate;
pub mod respond;
pub mod values;
pub mod worker;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use keibi_model::{Finding, Severity};
use serde::{Deserialize, Serialize};

pub use audit::Audit;
pub use dashboard::Dashboard;
pub use listen::ListenSettings;
use locate::{locate, Seg};
pub use respond::Respond;
pub use values::{Cidr, Duration, Expiry, Listen};
pub use worker::{Stream, Worker};

/// The sections of a settings file, in the order `keibi init` writes them.
pub const SECTIONS: [&str; 16] = [
    "sources",
    "detection",
    "lists",
    "tuning",
    "rules",
    "store",
    "server",
    "log",
    "display",
    "notify",
    "audit",
    "listen",
    "respond",
    "dashboard",
    "stream",
    "worker",
];

/// The commented file `keibi init` writes: every section, every value its default.
pub const STARTER: &str = include_str!("starter.yaml");

/// Everything `keibi run` is configured with.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub sources: Sources,
    pub detection: Detection,
    pub lists: Lists,
    pub tuning: Tuning,
    pub rules: Rules,
    pub store: Store,
    pub server: Server,
    pub log: Log,
    pub display: Display,
    /// Notifications: channels, routes, quiet hours, repeats, the daily summary
    /// (keibi-notify's settings; `docs/notifications.md`).
    pub notify: keibi_notify::NotifySettings,
    /// Posture checks (`keibi audit --config`, and `keibi run` on a schedule):
    /// `docs/posture.md`.
    pub audit: Audit,
    /// Push listeners (Firehose HTTP endpoint, NDJSON/raw POST, syslog):
    /// `docs/sources.md`.
    pub listen: ListenSettings,
    /// Automated response: policy, allowlists, executors (`docs/response.md`).
    pub respond: Respond,
    /// The dashboard: where it is served, TLS, login (`docs/dashboard.md`).
    pub dashboard: Dashboard,
    /// The partitioned stream `keibi run --worker` reads (`docs/scaling.md`).
    pub stream: Stream,
    /// How a worker holds its leases (`keibi run --worker`).
    pub worker: Worker,
}

/// What to follow, and how the followed sources are polled and put in time order
/// (keibi-ingest's `FollowOptions` and `OrderOptions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sources {
    /// Logs to follow; each names one file, glob, directory, or standard input.
    pub inputs: Vec<Source>,
    /// How often followed files are looked at for new lines (`FollowOptions::poll`).
    pub poll_interval: Duration,
    /// How long events wait for a slower source's earlier events before they are
    /// passed on in time order (`OrderOptions::lateness`).
    pub allowed_lateness: Duration,
    /// A source with no events for this long no longer holds the others back
    /// (`OrderOptions::idle`).
    pub idle_timeout: Duration,
}

impl Default for Sources {
    fn default() -> Self {
        Sources {
            inputs: Vec::new(),
            poll_interval: Duration::from_millis(250),
            allowed_lateness: Duration::from_secs(0),
            idle_timeout: Duration::from_millis(500),
        }
    }
}

/// One followed input: exactly one of `path`, `glob`, `dir` and `stdin`, and what
/// `keibi events` flags would say about it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Source {
    /// One file (followed across rotation).
    pub path: Option<PathBuf>,
    /// Files matching a pattern (`*` within a directory, `**` across).
    pub glob: Option<String>,
    /// Every file under a directory.
    pub dir: Option<PathBuf>,
    /// Standard input.
    pub stdin: bool,
    /// Read as this format instead of detecting it (a `--log-format` name).
    pub format: Option<String>,
    /// Instance id for its events (`--instance`).
    pub instance: Option<String>,
    /// PostgreSQL `log_line_prefix` (`--pg-prefix`).
    pub pg_prefix: Option<String>,
    /// UTC offset of timestamps logged without a zone (`--log-timezone`), e.g. `+09:00`.
    pub log_timezone: Option<String>,
    /// Logs read where AWS keeps them: `s3://bucket/prefix` (CloudTrail's trail
    /// bucket: objects listed in key order, each read once and whole) or
    /// `cloudwatch://<log-group>` (RDS logs: a checkpoint per log stream) or
    /// `rds://<instance>[/<log-file-prefix>]` (RDS's own log files: a checkpoint per
    /// file) or
    /// `cloudtrail-history://<region>` (CloudTrail's event history, for accounts
    /// with no trail: polled every 5 minutes by default).
    pub url: Option<String>,
    /// Time between listings of a `url` once everything listed was read
    /// [default: 60s; 10m with `sqs`].
    pub list_interval: Option<Duration>,
    /// With an `s3://` url: the SQS queue the bucket sends its S3 event
    /// notifications to (`https://sqs.<region>.amazonaws.com/<account>/<queue>`),
    /// long-polled so a new object is read within seconds; the bucket is then
    /// listed only every `list_interval` [default: 10m], as a safety net.
    pub sqs: Option<String>,
    /// Region of a `url`'s bucket [default: the credential chain's].
    pub region: Option<String>,
    /// AWS profile to read a `url` with [default: the standard chain].
    pub profile: Option<String>,
    /// Send a `url`'s calls here (moto, MinIO, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// A role to assume (with the chain's or the profile's credentials) and read a
    /// `url` with.
    pub role_arn: Option<String>,
    /// The external id `role_arn`'s trust policy asks for.
    pub external_id: Option<String>,
}

/// What a [`Source`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Path(&'a Path),
    Glob(&'a str),
    Dir(&'a Path),
    Stdin,
    /// A URL with a scheme (`s3://…`), read through a hook the binary gives.
    Url(&'a str),
}

impl Source {
    /// What it reads, when it names exactly one thing (a loaded file's always do).
    pub fn target(&self) -> Option<Target<'_>> {
        let all = [
            self.path.as_deref().map(Target::Path),
            self.glob.as_deref().map(Target::Glob),
            self.dir.as_deref().map(Target::Dir),
            self.stdin.then_some(Target::Stdin),
            self.url.as_deref().map(Target::Url),
        ];
        let mut named = all.into_iter().flatten();
        match (named.next(), named.next()) {
            (Some(t), None) => Some(t),
            _ => None,
        }
    }
}

/// The detection thresholds: exactly what `--config` reads (keibi-detect's
/// [`keibi_detect::Config`]), kept with the YAML it was read from, which is what
/// two settings compare and write back.
#[derive(Debug, Clone)]
pub struct Detection {
    pub config: keibi_detect::Config,
    raw: yaml_serde::Value,
}

impl Default for Detection {
    fn default() -> Self {
        Detection {
            config: keibi_detect::Config::default(),
            raw: yaml_serde::Value::Mapping(Default::default()),
        }
    }
}

impl Detection {
    /// The settings as written (an empty mapping for the defaults).
    pub fn raw(&self) -> &yaml_serde::Value {
        &self.raw
    }

    fn from_value(raw: yaml_serde::Value) -> Result<Detection, String> {
        let raw = match raw {
            yaml_serde::Value::Null => yaml_serde::Value::Mapping(Default::default()),
            v => v,
        };
        let config: keibi_detect::Config =
            yaml_serde::from_value(raw.clone()).map_err(|e| e.to_string())?;
        config.validate().map_err(|e| e.to_string())?;
        Ok(Detection { config, raw })
    }
}

impl PartialEq for Detection {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Serialize for Detection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Detection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = yaml_serde::Value::deserialize(d)?;
        Detection::from_value(raw).map_err(serde::de::Error::custom)
    }
}

/// Address lists and network databases (the `keibi scan` flags of the same names).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lists {
    /// Tor exit lists (`--tor-list`).
    pub tor: Vec<PathBuf>,
    /// Lists of malicious addresses or CIDRs (`--threat-list`).
    pub threat: Vec<PathBuf>,
    /// Addresses that never raise login or network findings (`--trusted-list`).
    pub trusted: Vec<PathBuf>,
    /// AWS accounts snapshots may be shared with (`--trusted-account`).
    pub trusted_accounts: Vec<String>,
    /// MaxMind-format ASN database (`--asn-db`).
    pub asn_db: Option<PathBuf>,
    /// MaxMind-format country database (`--geoip-db`).
    pub geoip_db: Option<PathBuf>,
}

/// Your decisions about findings: what to silence, how severe, what not to run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tuning {
    /// Findings to drop: each rule drops the findings that match all it says.
    pub suppress: Vec<Suppression>,
    /// Severity by finding type or by detector (a rule's name or id).
    pub severity: BTreeMap<String, Severity>,
    /// Detectors (a rule's name or id, or a stateful detector's id) whose findings
    /// are dropped.
    pub disable: Vec<String>,
}

/// A suppression: every condition it gives must hold (at least one is required).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Suppression {
    /// Finding type, as `CredentialAccess:RDS/BruteForce`.
    #[serde(rename = "type")]
    pub finding_type: Option<String>,
    /// Resource id: a database instance, an AWS resource.
    pub resource: Option<String>,
    /// The actor's address is this one or in this range.
    pub ip: Option<Cidr>,
    /// The actor's user name.
    pub user: Option<String>,
    /// The suppression stops applying at this time.
    pub expires: Option<Expiry>,
    /// Why (for the people who read the file after you).
    pub reason: Option<String>,
}

impl Suppression {
    /// Whether it drops `f` at `now`.
    pub fn matches(&self, f: &Finding, now: DateTime<Utc>) -> bool {
        if self.expires.is_some_and(|e| e.0 <= now) || self.is_empty() {
            return false;
        }
        self.finding_type
            .as_ref()
            .is_none_or(|t| *t == f.finding_type)
            && self.resource.as_ref().is_none_or(|r| *r == f.resource.id)
            && self
                .ip
                .is_none_or(|c| f.actor.ip.is_some_and(|ip| c.contains(ip)))
            && self
                .user
                .as_ref()
                .is_none_or(|u| f.actor.user.as_deref() == Some(u.as_str()))
    }

    fn is_empty(&self) -> bool {
        self.finding_type.is_none()
            && self.resource.is_none()
            && self.ip.is_none()
            && self.user.is_none()
    }
}

/// What [`Tuning::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tuned {
    pub suppressed: usize,
    pub disabled: usize,
    pub rescored: usize,
}

impl Tuning {
    /// Drops the findings of disabled detectors and those a live suppression
    /// matches, and sets the severity of the rest that an override names (by type
    /// first, then by detector). `now` decides which suppressions have expired.
    pub fn apply(&self, findings: &mut Vec<Finding>, now: DateTime<Utc>) -> Tuned {
        let mut t = Tuned::default();
        findings.retain(|f| {
            if self.disable.contains(&f.detector) {
                t.disabled += 1;
                false
            } else if self.suppress.iter().any(|s| s.matches(f, now)) {
                t.suppressed += 1;
                false
            } else {
                true
            }
        });
        for f in findings.iter_mut() {
            let s = self
                .severity
                .get(&f.finding_type)
                .or_else(|| self.severity.get(&f.detector));
            if let Some(s) = s {
                f.severity = *s;
                t.rescored += 1;
            }
        }
        t
    }
}

/// Sigma rules beside keibi's own (`--rules`, `--no-builtin-rules`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Rule files or directories to load too.
    pub paths: Vec<PathBuf>,
    /// Whether keibi's built-in rules run.
    pub builtin: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            paths: Vec::new(),
            builtin: true,
        }
    }
}

/// Where `keibi run` keeps findings, checkpoints and profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Store {
    /// The SQLite file (relative paths are from the settings file's directory).
    pub path: PathBuf,
    /// Findings neither seen in a log nor changed in the store for this long are
    /// deleted by `keibi run` (exported first to `export_dir` when set).
    pub retention: Duration,
    /// Where findings are exported before retention deletes them (none: deleted
    /// without an export).
    pub export_dir: Option<PathBuf>,
    /// How often `keibi run` applies the retention (and once at start).
    pub prune_every: Duration,
    /// The timeline's activity (`keibi timeline`) is deleted once both its events
    /// and its storing are this old.
    pub activity_retention: Duration,
    /// The timeline keeps at most this many activity rows (the oldest stored go).
    pub activity_max_rows: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            path: PathBuf::from("keibi.db"),
            retention: Duration::from_secs(90 * 86_400),
            export_dir: None,
            prune_every: Duration::from_secs(6 * 3600),
            activity_retention: Duration::from_secs(7 * 86_400),
            activity_max_rows: keibi_store::DEFAULT_MAX_ROWS,
        }
    }
}

/// keibi's own HTTP endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Server {
    /// Address and port, loopback unless you say otherwise; `off`: no endpoints.
    pub listen: Listen,
    /// Serve `/metrics` (Prometheus text format).
    pub metrics: bool,
    /// Serve `/healthz`.
    pub healthz: bool,
}

/// The default port of keibi's HTTP endpoints: not in the Prometheus exporters'
/// port list nor IANA's registry of service names, at the time of writing.
pub const DEFAULT_PORT: u16 = 9716;

impl Default for Server {
    fn default() -> Self {
        Server {
            listen: Listen::On(std::net::SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT))),
            metrics: true,
            healthz: true,
        }
    }
}

/// keibi's own log (on stderr).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    pub format: LogFormat,
    pub level: LogLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

/// How texts are shown to people (`docs/i18n.md`): the language and the time zone
/// of human outputs. `--lang`/`KEIBI_LANG` and `--display-tz`/`KEIBI_TZ` win over
/// these; unset, the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`) and the rule of
/// `docs/i18n.md` decide.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Display {
    /// `en` or `ja`.
    pub lang: Option<String>,
    /// An IANA time zone name: `Asia/Tokyo`, `UTC`.
    pub tz: Option<String>,
}

/// How a file was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// In sections.
    Sectioned,
    /// Only detection settings, as `--config` has always read: the `detection`
    /// section, with defaults for the rest.
    Flat,
}

/// One problem in a settings file. Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {reason}")]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

/// A settings file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not read at all.
    #[error("{file}: {reason}")]
    Unreadable { file: String, reason: String },
    /// Read, with these problems (at least one), in the order of the file.
    #[error("{}", .0.iter().map(Problem::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

/// What a settings file may be: the bounds `--config` has (1 MiB, no aliases).
pub const LIMITS: keibi_detect::yamlguard::Limits = keibi_detect::config::CONFIG_LIMITS;

impl Settings {
    /// Reads a settings file: at most [`LIMITS`]`.max_bytes`, UTF-8, then
    /// [`Settings::from_yaml`].
    pub fn load(file: &Path) -> Result<(Settings, Form), LoadError> {
        use std::io::Read;
        let name = file.display().to_string();
        let unreadable = |reason: String| LoadError::Unreadable {
            file: name.clone(),
            reason,
        };
        let f = std::fs::File::open(file).map_err(|e| unreadable(e.to_string()))?;
        if f.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(unreadable("is a directory".into()));
        }
        let mut bytes = Vec::new();
        f.take(LIMITS.max_bytes as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| unreadable(e.to_string()))?;
        if bytes.len() > LIMITS.max_bytes {
            return Err(unreadable(format!(
                "larger than {} bytes, the most keibi reads of a settings file",
                LIMITS.max_bytes
            )));
        }
        let text = String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".into()))?;
        let base = file.parent().unwrap_or(Path::new(""));
        Settings::from_yaml(&text, &name, base).map_err(LoadError::Invalid)
    }

    /// Reads settings from `text`, named `file` in problems; relative paths in it
    /// are taken from `base` (the file's directory) and checked there.
    pub fn from_yaml(
        text: &str,
        file: &str,
        base: &Path,
    ) -> Result<(Settings, Form), Vec<Problem>> {
        let mut r = Reader {
            text,
            file,
            problems: Vec::new(),
            more: 0,
        };
        // Sections that could not be read are left at their defaults, so that what
        // the others say is checked too.
        let out = r.read();
        match out {
            Some((mut settings, form)) => {
                settings.resolve_paths(base);
                r.check(&settings, form);
                if r.problems.is_empty() {
                    return Ok((settings, form));
                }
            }
            None if r.problems.is_empty() => {
                r.problems.push(r.problem(1, 1, "cannot be read".into()));
            }
            None => {}
        }
        r.problems.sort_by_key(|p| (p.line, p.column));
        r.problems.dedup();
        if r.more > 0 {
            let more = format!("{} more problems not shown", r.more);
            let last = r.problems.last().map_or(1, |p| p.line);
            r.problems.push(r.problem(last, 1, more));
        }
        Err(r.problems)
    }

    /// The settings of the quick path, `keibi run PATH... [--store FILE]`: defaults,
    /// following what `keibi scan PATH...` would read (`-` is standard input, a
    /// directory every file under it, a name with `*`, `?` or `[` a glob, anything
    /// else a file).
    pub fn quick(paths: &[String], store: Option<PathBuf>) -> Settings {
        let inputs = paths
            .iter()
            .map(|p| {
                let mut s = Source::default();
                if p == "-" {
                    s.stdin = true;
                } else if p.starts_with("s3://")
                    || p.starts_with("cloudwatch://")
                    || p.starts_with("rds://")
                    || p.starts_with("cloudtrail-history://")
                {
                    s.url = Some(p.clone());
                } else if Path::new(p).is_dir() {
                    s.dir = Some(PathBuf::from(p));
                } else if p.contains(['*', '?', '[']) && !Path::new(p).exists() {
                    s.glob = Some(p.clone());
                } else {
                    s.path = Some(PathBuf::from(p));
                }
                s
            })
            .collect();
        let mut settings = Settings::default();
        settings.sources.inputs = inputs;
        if let Some(store) = store {
            settings.store.path = store;
        }
        settings
    }

    /// Makes relative paths relative to `base` (what a settings file's paths mean).
    pub fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() && !base.as_os_str().is_empty() {
                *p = base.join(&*p);
            }
        };
        for s in &mut self.sources.inputs {
            s.path.as_mut().map(fix);
            s.dir.as_mut().map(fix);
            if let Some(g) = &mut s.glob {
                if Path::new(g.as_str()).is_relative() && !base.as_os_str().is_empty() {
                    *g = base.join(g.as_str()).to_string_lossy().into_owned();
                }
            }
        }
        let l = &mut self.lists;
        l.tor
            .iter_mut()
            .chain(&mut l.threat)
            .chain(&mut l.trusted)
            .for_each(fix);
        l.asn_db.as_mut().map(fix);
        l.geoip_db.as_mut().map(fix);
        self.rules.paths.iter_mut().for_each(fix);
        if !keibi_store::is_postgres(&self.store.path) {
            fix(&mut self.store.path);
        }
        self.store.export_dir.as_mut().map(fix);
        self.notify.resolve_paths(base);
        self.audit.aws_json.iter_mut().for_each(fix);
        // Secrets read from a file, as the notification channels'.
        let listen = [
            self.listen.firehose.access_key.as_mut(),
            self.listen.http.token.as_mut(),
        ];
        for secret in listen.into_iter().flatten() {
            if let keibi_notify::Secret::File(p) = secret {
                fix(p);
            }
        }
    }
}

/// Problems reported for one file; past it, they are counted.
pub const MAX_PROBLEMS: usize = 100;

struct Reader<'a> {
    text: &'a str,
    file: &'a str,
    problems: Vec<Problem>,
    /// Problems past [`MAX_PROBLEMS`].
    more: usize,
}

fn key(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

/// For each top-level key (in `keys`' order), its lines `[start, end)` in `text`:
/// from its line to the next top-level key's. `None` when a key is not found at
/// the start of a line (a flow mapping).
fn top_level_lines(text: &str, keys: &[String]) -> Option<Vec<(usize, usize)>> {
    use std::collections::HashMap;
    // YAML also breaks lines at a lone CR, which `lines()` does not: such a file is
    // read whole.
    if text
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == b'\r' && w[1] != b'\n')
        || text.ends_with('\r')
    {
        return None;
    }
    let wanted: std::collections::HashSet<&str> = keys.iter().map(String::as_str).collect();
    let mut starts: HashMap<&str, usize> = HashMap::new();
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with([' ', '\t', '#', '-']) || line.trim().is_empty() {
            continue;
        }
        let k = line.split_once(':').map(|(k, _)| {
            let k = k.trim();
            k.strip_prefix('"')
                .and_then(|k| k.strip_suffix('"'))
                .or_else(|| k.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
                .unwrap_or(k)
        });
        if let Some(k) = k.filter(|k| wanted.contains(k)) {
            if starts.insert(k, i).is_some() {
                return None;
            }
            lines.push(i);
        }
    }
    let total = text.lines().count();
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        let start = *starts.get(k.as_str())?;
        // `lines` is in order: the next key's line ends this one's.
        let next = lines.partition_point(|l| *l <= start);
        out.push((start, lines.get(next).copied().unwrap_or(total)));
    }
    Some(out)
}

/// The closest of `candidates` to a misspelt `word`, if one is close.
fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// A deserializer's message for a person: without its " at line L column C" (the
/// problem says where), and an unknown key with the known key closest to it.
fn explain(msg: &str, extra: &[&str]) -> String {
    let msg = match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => &msg[..i],
        _ => msg,
    };
    let Some(i) = msg.find("unknown field `") else {
        return msg.to_string();
    };
    let rest = &msg[i + "unknown field `".len()..];
    let Some((word, expected)) = rest.split_once('`') else {
        return msg.to_string();
    };
    let mut known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    known.extend_from_slice(extra);
    match closest(word, &known) {
        Some(c) => format!("{}unknown key `{word}`: did you mean `{c}`?", &msg[..i]),
        None if known.is_empty() => msg.to_string(),
        None => format!(
            "{}unknown key `{word}` (known here: {})",
            &msg[..i],
            known.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests;
