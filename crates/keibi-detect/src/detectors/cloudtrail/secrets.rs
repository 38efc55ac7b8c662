//! The AWS calls that reach a database's data without its password, where one call
//! is not enough to judge (issue 13 §7): secrets read in bulk, RDS log files
//! downloaded in bulk, snapshots copied away, EBS snapshots and AMIs shared. The
//! one-call cases that read well as Sigma (exports to S3, the RDS master secret,
//! activity streams, automated backups, DB security groups) are rules under
//! `rules/cloudtrail/`.
//!
//! * `CredentialAccess:IAMUser/AnomalousBehavior` (GuardDuty's name for unusual
//!   credential-access calls): one principal reads at least
//!   [`crate::config::CloudTrailDataConfig::secrets`] different secrets within [`crate::config::CloudTrailDataConfig::secrets_window_secs`]
//!   (Secrets Manager `GetSecretValue`/`BatchGetSecretValue`, SSM parameters read
//!   `withDecryption`), or asks `BatchGetSecretValue` for every secret matching a
//!   filter, and it had done no such burst on an earlier day of the stream. "Does not
//!   usually do it" is kept simple on purpose: a deploy role that reads twenty
//!   secrets every morning raises its first morning only, and the text says so.
//! * `CredentialAccess:RDS/LogFilesDownloaded`: one principal downloads at least
//!   [`crate::config::CloudTrailDataConfig::log_files`] different RDS log files within the window (the
//!   console's log viewer reads one file in portions: that is one file), with the
//!   same "earlier day" rule for a script that collects logs every night.
//! * `Exfiltration:RDS/SnapshotCopied`: `CopyDBSnapshot`/`CopyDBClusterSnapshot`
//!   re-encrypting with a KMS key of an account that is not yours, trusted or in the
//!   organization (High), or to another region or with another key of your own
//!   (Medium: the first step of sharing an encrypted snapshot).
//! * `Exfiltration:EC2/SnapshotShared`: an EBS snapshot's `createVolumePermission` or
//!   an AMI's `launchPermission` granted to `all` (Critical) or to an account that is
//!   not yours, trusted or in the organization (High): self-managed databases on EC2
//!   live in those volumes.
//!
//! Failed calls changed nothing and count for nothing here. Records of AWS services
//! (`userIdentity.type: AWSService`) and calls a service made for a principal
//! (`invokedBy`: ECS fetching a task's secrets, CloudFormation resolving a dynamic
//! reference, RDS rotating its master secret) are not the principal's reads.
//! Memory is bounded: at most [`MAX_PRINCIPALS`] principals, each with at most
//! [`MAX_ENTRIES`] remembered names.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use keibi_model::{Action, Arg, Event, FindingText, Msg, Resource, Severity, SourceKind};
use serde_json::Value;

use super::bursts::Entry;
use crate::config::Config;
use crate::detector::{Context, Detector};
use crate::findings::Raise;
use crate::sigma::meta::truncate;

/// The detector id (part of finding ids: never rename).
pub const DETECTOR_ID: &str = "cloudtrail-data";

pub const SECRETS_READ: &str = "CredentialAccess:IAMUser/AnomalousBehavior";
pub const LOGS_DOWNLOADED: &str = "CredentialAccess:RDS/LogFilesDownloaded";
pub const SNAPSHOT_COPIED: &str = "Exfiltration:RDS/SnapshotCopied";
pub const EC2_SHARED: &str = "Exfiltration:EC2/SnapshotShared";

/// Principals followed at once; the least recently active half is forgotten first.
const MAX_PRINCIPALS: usize = 4096;
/// Names remembered per principal, whatever the thresholds say.
const MAX_ENTRIES: usize = 1024;
/// The longest identifier a finding quotes (AWS's own limits are far below it).
const MAX_ID: usize = 256;
/// Names shown in a description before "and N more".
const SHOWN: usize = 5;

/// The finding types this detector raises (see [`crate::catalog`]).
pub(crate) fn specs() -> Vec<keibi_model::FindingSpec> {
    use keibi_model::{ActionKind, FindingSpec};
    vec![
        FindingSpec::new(
            SECRETS_READ,
            7.0,
            &["T1555.006", "T1552"],
            "Secrets read in bulk by a principal that does not usually do it",
            "Ask the principal's owner why it read these secrets; if nobody knows, revoke its credentials and rotate every secret it read, database passwords first.",
            &[ActionKind::RotateCredentials],
        ),
        FindingSpec::new(
            LOGS_DOWNLOADED,
            5.0,
            &["T1552.001", "T1005"],
            "RDS log files downloaded in bulk",
            "Ask the principal's owner why it downloaded the logs; logs hold user names, addresses and sometimes passwords typed in the wrong field.",
            &[ActionKind::RotateCredentials],
        ),
        FindingSpec::new(
            SNAPSHOT_COPIED,
            6.0,
            &["T1537"],
            "RDS snapshot copied to another key, region or account",
            "Ask who copied the snapshot and why; delete the copy if it is not planned and remove any share of it.",
            &[ActionKind::RotateCredentials],
        ),
        FindingSpec::new(
            EC2_SHARED,
            7.0,
            &["T1537"],
            "EBS snapshot or AMI shared outside the account",
            "Remove the permission from the snapshot or image and find out who granted it.",
            &[ActionKind::ClosePublicAccess, ActionKind::RotateCredentials],
        ),
    ]
}

/// See the module documentation.
pub struct CloudTrailData {
    secrets: Reads,
    logs: Reads,
    /// Texts of each finding without its figures; [`Detector::render`] adds them.
    texts: HashMap<String, FindingText>,
}

impl CloudTrailData {
    pub fn new(_config: &Config) -> CloudTrailData {
        CloudTrailData {
            secrets: Reads::default(),
            logs: Reads::default(),
            texts: HashMap::new(),
        }
    }
}

/// The calls this detector reads; everything else is passed over on its name.
fn is_watched(name: &str) -> bool {
    matches!(
        name,
        "GetSecretValue"
            | "BatchGetSecretValue"
            | "GetParameter"
            | "GetParameters"
            | "GetParametersByPath"
            | "DownloadDBLogFilePortion"
            | "DownloadCompleteDBLogFile"
            | "CopyDBSnapshot"
            | "CopyDBClusterSnapshot"
            | "ModifySnapshotAttribute"
            | "ModifyImageAttribute"
    )
}

fn at<'a>(mut v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    for p in path {
        v = v.get(p)?;
    }
    Some(v)
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// `true` or `"true"`.
fn is_true(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A list CloudTrail writes as an array, as `{"items": [...]}` (EC2's query API) or
/// as a lone value.
fn items(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Object(m)) => match m.get("items") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(_) => Vec::new(),
            None if m.is_empty() => Vec::new(),
            None => vec![v.unwrap_or(&Value::Null)],
        },
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other],
    }
}

/// An identifier from a record, cut to [`MAX_ID`] characters.
fn short(s: &str) -> String {
    truncate(s.to_string(), MAX_ID)
}

/// The principal a habit belongs to: an assumed role without its session name
/// (sessions are often random), anything else as it is.
fn principal_key(arn: &str) -> &str {
    const ROLE: &str = ":assumed-role/";
    if let Some(at) = arn.find(ROLE) {
        if let Some(slash) = arn[at + ROLE.len()..].find('/') {
            return &arn[..at + ROLE.len() + slash];
        }
    }
    arn
}

/// The account of an ARN (`arn:aws:kms:eu-west-1:444455556666:key/...`), when it
/// has twelve digits there.
fn arn_account(arn: &str) -> Option<&str> {
    let a = arn.strip_prefix("arn:")?.split(':').nth(3)?;
    (a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())).then_some(a)
}

/// The region of an ARN, when it names one.
fn arn_region(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:")?
        .split(':')
        .nth(2)
        .filter(|r| !r.is_empty())
}

/// The source snapshot's KMS key, when the record names it.
fn source_kms_key<'a>(c: &Call<'a>) -> Option<&'a str> {
    [
        "requestParameters",
        "responseElements",
        "additionalEventData",
    ]
    .into_iter()
    .find_map(|at| str_at(c.rec, &[at, "sourceKmsKeyId"]))
    .filter(|k| !k.trim().is_empty())
}

/// A KMS key reference as a key id or an alias name (from `key/…`, `alias/…`, a
/// bare id, or their ARNs).
fn key_ref(k: &str) -> (bool, &str) {
    let k = k.trim();
    let tail = if k.starts_with("arn:") {
        k.splitn(6, ':').nth(5).unwrap_or(k)
    } else {
        k
    };
    match tail.strip_prefix("alias/") {
        Some(a) => (true, a),
        None => (false, tail.strip_prefix("key/").unwrap_or(tail)),
    }
}

/// Whether two key references provably name different keys: both ids, or both
/// aliases, that differ (an alias and an id may name the same key).
fn keys_differ(a: &str, b: &str) -> bool {
    let ((alias_a, a), (alias_b, b)) = (key_ref(a), key_ref(b));
    alias_a == alias_b && !a.eq_ignore_ascii_case(b)
}

/// What the detector reads of one record.
struct Call<'a> {
    ev: &'a Event,
    rec: &'a Value,
    name: &'a str,
    /// The principal ARN, cut to [`MAX_ID`].
    who: String,
    account: String,
}

impl Call<'_> {
    fn req(&self, path: &[&str]) -> Option<&Value> {
        at(self.rec.get("requestParameters")?, path)
    }

    fn req_str(&self, path: &[&str]) -> Option<&str> {
        self.req(path)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The caller's own account and the accounts it may share with.
    fn is_ours(&self, account: &str, config: &Config) -> bool {
        let account = account.trim();
        account == self.account
            || str_at(self.rec, &["userIdentity", "accountId"]) == Some(account)
            || config.trusted_accounts.iter().any(|t| t.trim() == account)
            || config
                .cloudtrail
                .org_accounts
                .iter()
                .any(|t| t.trim() == account)
    }

    /// `from 203.0.113.7 (aws-cli/2.15) in eu-west-1 of account 123456789012`.
    fn origin(&self) -> Msg {
        let ip = str_at(self.rec, &["sourceIPAddress"]).unwrap_or("-");
        let ua = self.ev.application.as_deref().unwrap_or("-");
        let region = str_at(self.rec, &["awsRegion"]).unwrap_or("-");
        Msg::new("ctd-origin")
            .arg("ip", truncate(ip.to_string(), 64))
            .arg("ua", truncate(ua.to_string(), 120))
            .arg("region", truncate(region.to_string(), 32))
            .arg("account", self.account.as_str())
    }
}

/// One value of a list, cut to 64 characters.
fn item(s: &str) -> Msg {
    Msg::new("ctd-item").arg("v", truncate(s.to_string(), 64))
}

/// Up to [`SHOWN`] values, then how many more.
fn values_arg(values: &[String]) -> Arg {
    if values.is_empty() {
        return item("-").into();
    }
    let shown = Arg::Join(values.iter().take(SHOWN).map(|v| item(v)).collect());
    let rest = values.len().saturating_sub(SHOWN);
    if rest == 0 {
        return shown;
    }
    Msg::new("ctd-list-more")
        .arg("list", shown)
        .arg("more", rest)
        .into()
}

/// `3 call(s) between A and B; source addresses: x, y.`
fn figures(f: &keibi_model::Finding) -> Msg {
    let ips: Vec<String> = if f.actor.ips.is_empty() {
        f.actor.ip.iter().map(IpAddr::to_string).collect()
    } else {
        f.actor.ips.iter().map(IpAddr::to_string).collect()
    };
    Msg::new("ctd-figures")
        .arg("count", f.count)
        .arg("first", f.first_seen)
        .arg("last", f.last_seen)
        .arg("ips", values_arg(&ips))
}

/// One principal's recent reads of one kind.
struct Reader {
    /// Distinct names read in the window, each with the last time it was read.
    names: VecDeque<(DateTime<Utc>, Box<str>)>,
    /// The calls behind them (evidence).
    calls: VecDeque<Entry>,
    /// When the principal was first seen reading.
    first: DateTime<Utc>,
    /// The UTC day (days since 1970) of its latest burst, raised or not.
    burst_day: Option<i64>,
    /// Until when further reads join the raised finding.
    live_until: Option<DateTime<Utc>>,
    /// The finding's principal key, while live.
    live_key: Option<String>,
    touched: u64,
}

/// Readers by principal, at most [`MAX_PRINCIPALS`].
#[derive(Default)]
struct Reads {
    map: HashMap<String, Reader>,
    tick: u64,
}

/// What [`Reads::push`] decided.
enum Verdict {
    Nothing,
    /// A burst by a principal that does not usually make one.
    Raise {
        names: Vec<String>,
        calls: Vec<Entry>,
        first: DateTime<Utc>,
    },
    /// The finding is live: this call joins the finding of this principal key.
    Join(String),
}

/// `t + d`, saturating (log times are attacker-written; chrono panics on overflow).
fn later(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn day(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(86_400)
}

impl Reads {
    /// Records that `who` read `names` (`all`: every secret a filter matches) and
    /// tells whether a finding starts or grows.
    fn push(
        &mut self,
        who: &str,
        ev: &Event,
        names: &[&str],
        all: bool,
        threshold: u32,
        window: Duration,
    ) -> Verdict {
        self.tick += 1;
        if !self.map.contains_key(who) && self.map.len() >= MAX_PRINCIPALS {
            self.evict();
        }
        let now = ev.time;
        let r = self.map.entry(who.to_string()).or_insert_with(|| Reader {
            names: VecDeque::new(),
            calls: VecDeque::new(),
            first: now,
            burst_day: None,
            live_until: None,
            live_key: None,
            touched: 0,
        });
        r.touched = self.tick;
        if let (Some(until), Some(key)) = (r.live_until, &r.live_key) {
            if now <= until {
                r.live_until = Some(later(now, window));
                return Verdict::Join(key.clone());
            }
        }
        r.live_until = None;
        r.live_key = None;
        let cap = (threshold as usize)
            .saturating_mul(2)
            .clamp(16, MAX_ENTRIES);
        for n in names {
            let n = truncate(n.to_string(), MAX_ID);
            if let Some(i) = r.names.iter().position(|(_, x)| **x == *n) {
                r.names.remove(i);
            }
            r.names.push_back((now, n.into_boxed_str()));
        }
        r.calls.push_back(Entry::of(ev, String::new()));
        while r.names.front().is_some_and(|(t, _)| now - *t > window) {
            r.names.pop_front();
        }
        while r.calls.front().is_some_and(|e| now - e.time > window) {
            r.calls.pop_front();
        }
        while r.names.len() > cap {
            r.names.pop_front();
        }
        while r.calls.len() > cap {
            r.calls.pop_front();
        }
        if !all && r.names.len() < threshold.max(1) as usize {
            return Verdict::Nothing;
        }
        let today = day(now);
        let usual = r.burst_day.is_some_and(|d| d < today);
        r.burst_day = Some(today);
        let names: Vec<String> = r.names.drain(..).map(|(_, n)| n.into_string()).collect();
        let calls: Vec<Entry> = r.calls.drain(..).collect();
        if usual {
            return Verdict::Nothing;
        }
        r.live_until = Some(later(now, window));
        Verdict::Raise {
            names,
            calls,
            first: r.first,
        }
    }

    /// Remembers the key of the finding just raised for `who`, so that its next reads
    /// in the window join it.
    fn set_live(&mut self, who: &str, key: String) {
        if let Some(r) = self.map.get_mut(who) {
            r.live_key = Some(key);
        }
    }

    /// Forgets the least recently active half.
    fn evict(&mut self) {
        let mut ticks: Vec<u64> = self.map.values().map(|r| r.touched).collect();
        ticks.sort_unstable();
        let cut = ticks[ticks.len() / 2];
        self.map.retain(|_, r| r.touched > cut);
    }
}

/// A window from a setting in seconds, bounded like every window.
fn window_secs(s: u64) -> Duration {
    Duration::seconds(s.min(crate::config::MAX_WINDOW_SECS) as i64)
}

/// One finding's identity and texts, for [`CloudTrailData::raise`].
struct Found<'a> {
    finding_type: &'a str,
    severity: f64,
    resource_kind: &'a str,
    resource_id: &'a str,
    mitre: &'a [&'a str],
    title: Msg,
    description: Vec<Msg>,
    remediation: Vec<Msg>,
}

impl Detector for CloudTrailData {
    fn id(&self) -> &'static str {
        DETECTOR_ID
    }

    fn catalog(&self) -> Vec<crate::catalog::Entry> {
        crate::catalog::Entry::of_detector(self.id(), specs())
    }

    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>) {
        if ev.source != SourceKind::Cloudtrail
            || ev.action != Action::ApiCall
            || ev.error_code.is_some()
        {
            return;
        }
        let Some(rec) = ev.record.as_deref() else {
            return;
        };
        let name = str_at(rec, &["eventName"]).unwrap_or("-");
        if !is_watched(name) {
            return;
        }
        if str_at(rec, &["userIdentity", "type"]) == Some("AWSService")
            || str_at(rec, &["userIdentity", "invokedBy"]).is_some()
        {
            return;
        }
        let call = Call {
            ev,
            rec,
            name,
            who: short(ev.user.as_deref().unwrap_or("-")),
            account: short(
                str_at(rec, &["recipientAccountId"])
                    .or_else(|| str_at(rec, &["userIdentity", "accountId"]))
                    .unwrap_or("-"),
            ),
        };
        match (str_at(rec, &["eventSource"]).unwrap_or("-"), name) {
            ("secretsmanager.amazonaws.com", "GetSecretValue" | "BatchGetSecretValue")
            | ("ssm.amazonaws.com", "GetParameter" | "GetParameters" | "GetParametersByPath") => {
                self.secret_read(&call, cx)
            }
            ("rds.amazonaws.com", "DownloadDBLogFilePortion" | "DownloadCompleteDBLogFile") => {
                self.log_download(&call, cx)
            }
            ("rds.amazonaws.com", "CopyDBSnapshot" | "CopyDBClusterSnapshot") => {
                self.snapshot_copied(&call, cx)
            }
            ("ec2.amazonaws.com", "ModifySnapshotAttribute" | "ModifyImageAttribute") => {
                self.ec2_shared(&call, cx)
            }
            _ => {}
        }
    }

    fn render(&mut self, cx: &mut Context<'_>) {
        for f in cx.findings.to_render(DETECTOR_ID) {
            if let Some(base) = self.texts.get(&f.id) {
                set_text(f, base.clone());
            }
        }
    }
}

/// Sets a finding's texts from `base` and its figures.
fn set_text(f: &mut keibi_model::Finding, mut t: FindingText) {
    t.description.push(figures(f));
    crate::text::set(f, t);
    f.title = truncate(std::mem::take(&mut f.title), 200);
}

impl CloudTrailData {
    /// Raises or grows the finding keyed by (type, resource, principal) and absorbs
    /// `evs` into it; texts are written when it is new. Returns its id.
    fn raise(&mut self, cx: &mut Context<'_>, who: &str, found: Found<'_>, evs: &[&Event]) {
        let Some(first) = evs.first() else {
            return;
        };
        let f = cx.findings.raise(Raise {
            detector: DETECTOR_ID,
            finding_type: found.finding_type,
            key: &[found.resource_kind, found.resource_id, who],
            severity: Severity::new(found.severity),
            resource: Resource {
                kind: found.resource_kind.to_string(),
                id: found.resource_id.to_string(),
                engine: None,
                ..Default::default()
            },
            time: first.time,
        });
        let new = f.count == 0;
        for e in evs {
            f.absorb(e);
        }
        let sev = Severity::new(found.severity);
        if new || sev > f.severity {
            f.severity = sev;
            f.mitre = found.mitre.iter().map(|m| m.to_string()).collect();
            let text = FindingText {
                title: Some(found.title),
                description: found.description,
                remediation: found.remediation,
            };
            set_text(f, text.clone());
            self.texts.insert(f.id.clone(), text);
        }
    }

    /// Adds a read to the live finding of `key` (type, principal key).
    fn join(&mut self, cx: &mut Context<'_>, c: &Call<'_>, finding_type: &str, key: &str) {
        let f = cx.findings.raise(Raise {
            detector: DETECTOR_ID,
            finding_type,
            key: &["aws_account", &c.account, key],
            severity: Severity::new(1.0),
            resource: Resource {
                kind: "aws_account".into(),
                id: c.account.clone(),
                engine: None,
                ..Default::default()
            },
            time: c.ev.time,
        });
        f.absorb(c.ev);
    }

    /// CredentialAccess:IAMUser/AnomalousBehavior.
    fn secret_read(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let ssm = c.name.starts_with("GetParameter");
        if ssm && !is_true(c.req(&["withDecryption"])) {
            return; // plain parameters are configuration, not secrets
        }
        let mut all = false;
        let names: Vec<&str> = match c.name {
            "GetSecretValue" => c.req_str(&["secretId"]).into_iter().collect(),
            "BatchGetSecretValue" => {
                let list: Vec<&str> = items(c.req(&["secretIdList"]))
                    .into_iter()
                    .filter_map(Value::as_str)
                    .collect();
                // A filter instead of a list reads every secret it matches: the
                // catch-all read of an attacker who does not know the names yet.
                all = list.is_empty();
                list
            }
            "GetParameter" | "GetParametersByPath" => c
                .req_str(&["name"])
                .or_else(|| c.req_str(&["path"]))
                .into_iter()
                .collect(),
            _ => items(c.req(&["names"]))
                .into_iter()
                .filter_map(Value::as_str)
                .collect(),
        };
        if names.is_empty() && !all {
            return;
        }
        let cfg = &cx.config.cloudtrail_data;
        let key = principal_key(&c.who).to_string();
        let window = window_secs(cfg.secrets_window_secs);
        let verdict = self
            .secrets
            .push(&key, c.ev, &names, all, cfg.secrets, window);
        let (names, calls, first) = match verdict {
            Verdict::Nothing => return,
            Verdict::Join(k) => return self.join(cx, c, SECRETS_READ, &k),
            Verdict::Raise {
                names,
                calls,
                first,
            } => (names, calls, first),
        };
        let read = if all {
            Msg::new("ctd-secrets-filter")
                .arg("who", c.who.as_str())
                .arg("origin", c.origin())
        } else {
            Msg::new("ctd-secrets")
                .arg("who", c.who.as_str())
                .arg("n", names.len())
                .arg("shown", values_arg(&names))
                .arg("secs", cfg.secrets_window_secs.to_string())
                .arg("origin", c.origin())
        };
        let found = Found {
            finding_type: SECRETS_READ,
            severity: 7.0,
            resource_kind: "aws_account",
            resource_id: &c.account,
            mitre: &["T1555.006", "T1552"],
            title: Msg::new("ctd-secrets-title").arg("who", c.who.as_str()),
            description: vec![
                read,
                Msg::new("ctd-unusual")
                    .arg("principal", key.as_str())
                    .arg("first", first),
                Msg::new("ctd-secrets-why"),
            ],
            remediation: vec![Msg::new("ctd-secrets-ask"), Msg::new("ctd-secrets-rotate")],
        };
        self.raise_calls(cx, c, found, &calls);
        self.secrets.set_live(&key, key.clone());
    }

    /// CredentialAccess:RDS/LogFilesDownloaded.
    fn log_download(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let instance = c.req_str(&["dBInstanceIdentifier"]).unwrap_or("-");
        let Some(file) = c.req_str(&["logFileName"]) else {
            return;
        };
        let name = format!("{instance}/{file}");
        let cfg = &cx.config.cloudtrail_data;
        let key = principal_key(&c.who).to_string();
        let window = window_secs(cfg.log_window_secs);
        let verdict = self
            .logs
            .push(&key, c.ev, &[&name], false, cfg.log_files, window);
        let (names, calls, first) = match verdict {
            Verdict::Nothing => return,
            Verdict::Join(k) => return self.join(cx, c, LOGS_DOWNLOADED, &k),
            Verdict::Raise {
                names,
                calls,
                first,
            } => (names, calls, first),
        };
        let found = Found {
            finding_type: LOGS_DOWNLOADED,
            severity: 5.0,
            resource_kind: "aws_account",
            resource_id: &c.account,
            mitre: &["T1552.001", "T1005"],
            title: Msg::new("ctd-logs-title").arg("who", c.who.as_str()),
            description: vec![
                Msg::new("ctd-logs")
                    .arg("who", c.who.as_str())
                    .arg("n", names.len())
                    .arg("shown", values_arg(&names))
                    .arg("secs", cfg.log_window_secs.to_string())
                    .arg("origin", c.origin()),
                Msg::new("ctd-unusual")
                    .arg("principal", key.as_str())
                    .arg("first", first),
                Msg::new("ctd-logs-why"),
            ],
            remediation: vec![Msg::new("ctd-logs-ask"), Msg::new("ctd-logs-contain")],
        };
        self.raise_calls(cx, c, found, &calls);
        self.logs.set_live(&key, key.clone());
    }

    /// Raises a burst finding keyed by the principal (not the session) from its
    /// remembered calls.
    fn raise_calls(
        &mut self,
        cx: &mut Context<'_>,
        c: &Call<'_>,
        found: Found<'_>,
        calls: &[Entry],
    ) {
        let key = principal_key(&c.who).to_string();
        let evs: Vec<Event> = calls.iter().map(|e| e.event(&c.who)).collect();
        let mut refs: Vec<&Event> = evs.iter().collect();
        if refs.is_empty() {
            refs.push(c.ev);
        }
        self.raise(cx, &key, found, &refs);
    }

    /// Exfiltration:RDS/SnapshotCopied.
    fn snapshot_copied(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let cluster = c.name == "CopyDBClusterSnapshot";
        let (source_key, target_key, kind, label) = if cluster {
            (
                "sourceDBClusterSnapshotIdentifier",
                "targetDBClusterSnapshotIdentifier",
                "db_cluster_snapshot",
                "ctd-label-cluster-snapshot",
            )
        } else {
            (
                "sourceDBSnapshotIdentifier",
                "targetDBSnapshotIdentifier",
                "db_snapshot",
                "ctd-label-snapshot",
            )
        };
        let source = c.req_str(&[source_key]).unwrap_or("-");
        let target = short(c.req_str(&[target_key]).unwrap_or("-"));
        let region = str_at(c.rec, &["awsRegion"]);
        let mut severity: f64 = 0.0;
        let mut why: Vec<Msg> = Vec::new();
        if let Some(key) = c.req_str(&["kmsKeyId"]) {
            // The source snapshot's account: its ARN's, else the caller's own.
            let source_account = arn_account(source).unwrap_or(&c.account);
            match arn_account(key) {
                Some(a) if !c.is_ours(a, cx.config) => {
                    severity = severity.max(8.0);
                    why.push(
                        Msg::new("ctd-copy-foreign-key")
                            .arg("key", truncate(key.to_string(), 160))
                            .arg("account", a),
                    );
                }
                Some(a) if a != c.account => {} // a trusted or organization account
                _ if key.eq_ignore_ascii_case("alias/aws/rds") => {}
                // Another key only when it provably is: the source snapshot lives in
                // another account, or the record names the source's key and it
                // differs. A usual key by alias or id is the daily copy's own.
                Some(a) if a != source_account => {
                    severity = severity.max(5.0);
                    why.push(
                        Msg::new("ctd-copy-own-key").arg("key", truncate(key.to_string(), 160)),
                    );
                }
                _ if source_kms_key(c).is_some_and(|s| keys_differ(key, s)) => {
                    severity = severity.max(5.0);
                    why.push(
                        Msg::new("ctd-copy-own-key").arg("key", truncate(key.to_string(), 160)),
                    );
                }
                _ => {}
            }
        }
        let from_region = c.req_str(&["sourceRegion"]).or_else(|| arn_region(source));
        if let (Some(from), Some(to)) = (from_region, region) {
            if from != to {
                severity = severity.max(5.0);
                why.push(
                    Msg::new("ctd-copy-region")
                        .arg("from", truncate(from.to_string(), 32))
                        .arg("to", truncate(to.to_string(), 32)),
                );
            }
        }
        if why.is_empty() {
            return;
        }
        let found = Found {
            finding_type: SNAPSHOT_COPIED,
            severity,
            resource_kind: kind,
            resource_id: &target,
            mitre: &["T1537"],
            title: Msg::new("ctd-copy-title")
                .arg("label", Msg::new(label))
                .arg("source", truncate(source.to_string(), 160))
                .arg("who", c.who.as_str()),
            description: vec![
                Msg::new("ctd-copy")
                    .arg("who", c.who.as_str())
                    .arg("label", Msg::new(label))
                    .arg("source", truncate(source.to_string(), 160))
                    .arg("target", target.as_str())
                    .arg("api", c.name)
                    .arg("origin", c.origin())
                    .arg("why", Arg::Join(why)),
                Msg::new(if severity >= 8.0 {
                    "ctd-copy-why-foreign"
                } else {
                    "ctd-copy-why"
                }),
            ],
            remediation: vec![
                Msg::new(if cluster {
                    "ctd-copy-delete-cluster"
                } else {
                    "ctd-copy-delete"
                }),
                Msg::new("ctd-copy-yours"),
            ],
        };
        let who = c.who.clone();
        self.raise(cx, &who, found, &[c.ev]);
    }

    /// Exfiltration:EC2/SnapshotShared.
    fn ec2_shared(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let image = c.name == "ModifyImageAttribute";
        let (attr, id_key, kind, label) = if image {
            ("launchPermission", "imageId", "ami", "ctd-label-ami")
        } else {
            (
                "createVolumePermission",
                "snapshotId",
                "ebs_snapshot",
                "ctd-label-ebs",
            )
        };
        let mut public = false;
        let mut accounts: Vec<String> = Vec::new();
        for grant in items(c.req(&[attr, "add"])) {
            if str_at(grant, &["group"]).is_some_and(|g| g.eq_ignore_ascii_case("all")) {
                public = true;
            }
            if let Some(a) = str_at(grant, &["userId"]) {
                if !c.is_ours(a, cx.config) && !accounts.iter().any(|x| x == a) {
                    accounts.push(truncate(a.trim().to_string(), 64));
                }
            }
        }
        if !public && accounts.is_empty() {
            return;
        }
        let id = short(c.req_str(&[id_key]).unwrap_or("-"));
        let mut shared_with = accounts.clone();
        if public {
            shared_with.insert(0, "all".to_string());
        }
        let found = Found {
            finding_type: EC2_SHARED,
            severity: if public { 9.0 } else { 7.0 },
            resource_kind: kind,
            resource_id: &id,
            mitre: &["T1537"],
            title: if public {
                Msg::new("ctd-ec2-public-title")
            } else {
                Msg::new("ctd-ec2-shared-title").arg("accounts", values_arg(&accounts))
            }
            .arg("label", Msg::new(label))
            .arg("id", id.as_str())
            .arg("who", c.who.as_str()),
            description: vec![
                Msg::new("ctd-ec2-shared")
                    .arg("who", c.who.as_str())
                    .arg("label", Msg::new(label))
                    .arg("id", id.as_str())
                    .arg("accounts", values_arg(&shared_with))
                    .arg("api", c.name)
                    .arg("origin", c.origin()),
                Msg::new(if public {
                    "ctd-ec2-why-public"
                } else {
                    "ctd-ec2-why"
                }),
            ],
            remediation: vec![
                Msg::new(if image {
                    "ctd-ec2-remove-ami"
                } else {
                    "ctd-ec2-remove-ebs"
                }),
                Msg::new("ctd-copy-yours"),
            ],
        };
        let who = c.who.clone();
        self.raise(cx, &who, found, &[c.ev]);
    }
}

#[cfg(test)]
#[path = "secrets_tests.rs"]
mod tests;
