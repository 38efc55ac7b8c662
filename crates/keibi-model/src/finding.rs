//! A finding: what keibi concluded from events, in the shape every consumer reads.
//!
//! The JSON shape is the binding contract in `findings.md` of the shared spec (its
//! field table is summarised for users in `docs/findings.md`); keep the two in step.
//! Plain data and small pure helpers only: detectors build a [`Finding`] with
//! [`Finding::new`] and grow it with [`Finding::absorb`], which is how repeats of the
//! same activity aggregate into one finding (as GuardDuty does).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::event::{Engine, Event, SourceKind};
use crate::spec::SuggestedAction;

/// Evidence references kept per finding: the first [`EVIDENCE_HEAD`] events and the
/// most recent rest, so both how it started and that it is still going are visible.
pub const MAX_EVIDENCE: usize = 20;
/// How many of [`MAX_EVIDENCE`] are the first events; the others roll with the latest.
pub const EVIDENCE_HEAD: usize = 10;
/// Distinct addresses and distinct users kept per finding (memory stays bounded
/// however many sources a distributed attack uses).
pub const MAX_DISTINCT: usize = 100;

/// A severity from 1.0 to 10.0 on GuardDuty's scale.
///
/// Always finite, within 1.0..=10.0 and rounded to one decimal, so the number a person
/// reads and the label it gets never disagree (see [`Severity::new`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Severity(f64);

/// The band a severity falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SeverityLabel {
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityLabel {
    pub const ALL: [SeverityLabel; 4] = [
        SeverityLabel::Low,
        SeverityLabel::Medium,
        SeverityLabel::High,
        SeverityLabel::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SeverityLabel::Low => "Low",
            SeverityLabel::Medium => "Medium",
            SeverityLabel::High => "High",
            SeverityLabel::Critical => "Critical",
        }
    }

    /// The lowest severity in the band: what `--fail-on high` compares against.
    pub fn floor(self) -> Severity {
        Severity(match self {
            SeverityLabel::Low => 1.0,
            SeverityLabel::Medium => 4.0,
            SeverityLabel::High => 7.0,
            SeverityLabel::Critical => 9.0,
        })
    }
}

impl fmt::Display for SeverityLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Severity {
    pub const MIN: Severity = Severity(1.0);
    pub const MAX: Severity = Severity(10.0);

    /// Clamps to 1.0..=10.0 and rounds to one decimal (half away from zero).
    ///
    /// The contract's bands leave gaps (Low ends at 3.9, Medium starts at 4.0); rounding
    /// first closes them: 3.95 becomes 4.0 and is Medium, 3.94 becomes 3.9 and is Low.
    /// A NaN (a broken computation) becomes 1.0 rather than poisoning comparisons.
    pub fn new(value: f64) -> Severity {
        if value.is_nan() {
            return Severity::MIN;
        }
        let v = value.clamp(1.0, 10.0);
        Severity(((v * 10.0).round() / 10.0).clamp(1.0, 10.0))
    }

    pub fn value(self) -> f64 {
        self.0
    }

    /// The band: Low [1.0, 4.0), Medium [4.0, 7.0), High [7.0, 9.0), Critical [9.0, 10.0].
    pub fn label(self) -> SeverityLabel {
        if self.0 >= 9.0 {
            SeverityLabel::Critical
        } else if self.0 >= 7.0 {
            SeverityLabel::High
        } else if self.0 >= 4.0 {
            SeverityLabel::Medium
        } else {
            SeverityLabel::Low
        }
    }
}

impl Eq for Severity {}

impl PartialOrd for Severity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Severity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

/// Why a severity given by a person (a flag, a rule file) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSeverityError(String);

impl fmt::Display for ParseSeverityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid severity {:?}: expected low, medium, high, critical or a number from 1.0 to 10.0",
            self.0
        )
    }
}

impl std::error::Error for ParseSeverityError {}

impl FromStr for Severity {
    type Err = ParseSeverityError;

    /// For `--fail-on` and `--min-severity`: a label (any case) means the lowest
    /// severity of its band; a number must be within 1.0..=10.0 (a person who writes
    /// `11` has made a mistake, not asked for "never").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        for label in SeverityLabel::ALL {
            if t.eq_ignore_ascii_case(label.as_str()) {
                return Ok(label.floor());
            }
        }
        match t.parse::<f64>() {
            Ok(v) if (1.0..=10.0).contains(&v) => Ok(Severity::new(v)),
            _ => Err(ParseSeverityError(s.to_string())),
        }
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

impl<'de> Deserialize<'de> for Severity {
    /// A number (clamped, as [`Severity::new`]) or a label, so rule files may say `high`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Severity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a severity number or low/medium/high/critical")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Severity, E> {
                Ok(Severity::new(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Severity, E> {
                Ok(Severity::new(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Severity, E> {
                Ok(Severity::new(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Severity, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// What the finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Resource {
    /// `db_instance`, `aws_account`, `security_group`, `db_snapshot`, `trail` ...
    pub kind: String,
    /// Instance identifier, account id, ARN ...
    pub id: String,
    /// `postgres` or `mysql`, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<Engine>,
    /// The AWS account the resource is in, where known (CloudTrail's
    /// `recipientAccountId`); omitted when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The AWS region the resource is in, where known (CloudTrail's `awsRegion`);
    /// omitted when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// Who did it. Single values when there is one; `ips`/`users` when the finding
/// aggregates many (they are serialized only from two distinct values up).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Actor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// Database user, or the IAM principal's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `application_name`, MySQL program name, or CloudTrail `userAgent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Distinct source addresses, sorted, at most [`MAX_DISTINCT`].
    #[serde(default, skip_serializing_if = "fewer_than_two")]
    pub ips: Vec<IpAddr>,
    /// Distinct users, sorted, at most [`MAX_DISTINCT`].
    #[serde(default, skip_serializing_if = "fewer_than_two")]
    pub users: Vec<String>,
    /// More distinct addresses were seen than `ips` keeps (not serialized).
    #[serde(skip)]
    pub ips_truncated: bool,
    /// More distinct users were seen than `users` keeps (not serialized).
    #[serde(skip)]
    pub users_truncated: bool,
}

fn fewer_than_two<T>(v: &[T]) -> bool {
    v.len() < 2
}

/// One reference to an event behind a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Evidence {
    /// A log file and its 1-based line.
    Line { source: Arc<str>, line: u64 },
    /// A CloudTrail record by its `eventID`.
    Event { source: Arc<str>, event_id: String },
    /// A resource observed at audit time (posture): where it was read (an API call
    /// with its region, a saved JSON file, a database URL without its password) and
    /// the fact that failed the check (`PubliclyAccessible=true`).
    Observed { source: Arc<str>, observed: String },
}

impl Evidence {
    /// The reference for an event: CloudTrail records by `eventID` (when they carry
    /// one), everything else by file and line.
    pub fn of(e: &Event) -> Evidence {
        if e.source == SourceKind::Cloudtrail {
            if let Some(id) = e
                .record
                .as_deref()
                .and_then(|r| r.get("eventID"))
                .and_then(|v| v.as_str())
            {
                return Evidence::Event {
                    source: e.file.clone(),
                    event_id: id.to_string(),
                };
            }
        }
        Evidence::Line {
            source: e.file.clone(),
            line: e.line,
        }
    }
}

/// One finding, serialized exactly as the contract's field table says.
///
/// Required fields are always present (`mitre` and `evidence` as possibly empty
/// arrays, `actor` as a possibly empty object); `resource.engine` and the actor's
/// fields are omitted when unknown. `severity_label` is derived from `severity` when
/// writing and ignored when reading, so the two cannot disagree.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Finding {
    pub id: String,
    #[serde(rename = "type")]
    pub finding_type: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub remediation: String,
    /// Structured actions beside the prose remediation, targets filled from the
    /// actor and resource; omitted from JSON when empty.
    #[serde(default)]
    pub suggested_actions: Vec<SuggestedAction>,
    pub mitre: Vec<String>,
    pub resource: Resource,
    #[serde(default)]
    pub actor: Actor,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub count: u64,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    pub detector: String,
    /// The texts as catalog messages, for outputs in another language or display
    /// zone (`keibi-i18n`); `None` for findings whose texts are English only. Not in
    /// the contract's JSON: `title`, `description` and `remediation` are its English
    /// rendering.
    #[serde(skip)]
    pub text: Option<Box<crate::text::FindingText>>,
}

struct Time<'a>(&'a DateTime<Utc>);

impl Serialize for Time<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Finding", 16)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("type", &self.finding_type)?;
        st.serialize_field("severity", &self.severity)?;
        st.serialize_field("severity_label", &self.severity.label())?;
        st.serialize_field("title", &self.title)?;
        st.serialize_field("description", &self.description)?;
        st.serialize_field("remediation", &self.remediation)?;
        if self.suggested_actions.is_empty() {
            st.skip_field("suggested_actions")?;
        } else {
            st.serialize_field("suggested_actions", &self.suggested_actions)?;
        }
        st.serialize_field("mitre", &self.mitre)?;
        st.serialize_field("resource", &self.resource)?;
        st.serialize_field("actor", &self.actor)?;
        st.serialize_field("first_seen", &Time(&self.first_seen))?;
        st.serialize_field("last_seen", &Time(&self.last_seen))?;
        st.serialize_field("count", &self.count)?;
        st.serialize_field("evidence", &self.evidence)?;
        st.serialize_field("detector", &self.detector)?;
        st.end()
    }
}

/// The stable id of a finding: the same detector, type and key (for instance the
/// source address and the instance) give the same id on every run, platform and
/// keibi version.
///
/// NEVER CHANGE THIS FUNCTION'S OUTPUT: stored findings, suppressions and tickets
/// refer to these ids. It is SHA-256 over a versioned, length-prefixed encoding (so
/// `["ab", "c"]` and `["a", "bc"]` differ), hex, first 16 bytes (32 characters). A
/// different scheme needs a new name, not an edit here; a test pins known outputs.
pub fn finding_id(detector: &str, finding_type: &str, key_parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"keibi-finding-id-v1\0");
    for part in [detector, finding_type].iter().chain(key_parts) {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let mut id = String::with_capacity(32);
    for b in digest.iter().take(16) {
        id.push(char::from(HEX[usize::from(b >> 4)]));
        id.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    id
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Finding {
    /// A finding with no events yet: `count` 0, both times `time`, empty texts.
    /// The id comes from [`finding_id`] over `detector`, `finding_type` and `key_parts`.
    pub fn new(
        detector: &str,
        finding_type: &str,
        key_parts: &[&str],
        severity: Severity,
        resource: Resource,
        time: DateTime<Utc>,
    ) -> Finding {
        Finding {
            id: finding_id(detector, finding_type, key_parts),
            finding_type: finding_type.to_string(),
            severity,
            title: String::new(),
            description: String::new(),
            remediation: String::new(),
            suggested_actions: Vec::new(),
            mitre: Vec::new(),
            resource,
            actor: Actor::default(),
            first_seen: time,
            last_seen: time,
            count: 0,
            evidence: Vec::new(),
            detector: detector.to_string(),
            text: None,
        }
    }

    /// Adds one event: `count`, the time span, the distinct addresses and users, the
    /// client application (the first one known), `resource.engine` when unset (and a
    /// CloudTrail record's account and region), and the evidence.
    ///
    /// `actor.ip` / `actor.user` follow the distinct sets: the one value while there
    /// is one, none once there are several (the arrays then say who).
    pub fn absorb(&mut self, e: &Event) {
        if self.count == 0 {
            self.first_seen = e.time;
            self.last_seen = e.time;
        } else {
            self.first_seen = self.first_seen.min(e.time);
            self.last_seen = self.last_seen.max(e.time);
        }
        self.count = self.count.saturating_add(1);
        let a = &mut self.actor;
        if let Some(ip) = e.client_ip {
            // A finding read back from JSON has its single value only in `ip`.
            if a.ips.is_empty() {
                a.ips.extend(a.ip);
            }
            a.ips_truncated |= insert_bounded(&mut a.ips, &ip);
            a.ip = single(&a.ips, a.ips_truncated);
        }
        if let Some(user) = &e.user {
            if a.users.is_empty() {
                a.users.extend(a.user.take());
            }
            a.users_truncated |= insert_bounded(&mut a.users, user.as_str());
            a.user = single(&a.users, a.users_truncated);
        }
        if a.app.is_none() {
            a.app = e.application.as_deref().map(str::to_string);
        }
        if self.resource.engine.is_none() {
            self.resource.engine = e.source.engine();
        }
        if e.source == SourceKind::Cloudtrail {
            let r = &mut self.resource;
            if r.account.is_none() {
                r.account = record_str(e, "recipientAccountId");
            }
            if r.region.is_none() {
                r.region = record_str(e, "awsRegion");
            }
        }
        self.push_evidence(Evidence::of(e));
    }

    /// Keeps the first [`EVIDENCE_HEAD`] references and the latest ones after them,
    /// [`MAX_EVIDENCE`] in all, in the order given. A reference equal to the last one
    /// kept is not repeated.
    pub fn push_evidence(&mut self, ev: Evidence) {
        if self.evidence.last() == Some(&ev) {
            return;
        }
        if self.evidence.len() >= MAX_EVIDENCE {
            self.evidence.remove(EVIDENCE_HEAD);
        }
        self.evidence.push(ev);
    }

    pub fn severity_label(&self) -> SeverityLabel {
        self.severity.label()
    }
}

/// The longest account id or region name taken from a record (real ones are 12 and
/// at most 14 characters; a forged record's are attacker-written).
const MAX_PLACE_CHARS: usize = 64;

/// A short string field of a CloudTrail record, `None` when absent, empty or too long.
fn record_str(e: &Event, key: &str) -> Option<String> {
    let v = e.record.as_deref()?.get(key)?.as_str()?;
    (!v.is_empty() && v.len() <= MAX_PLACE_CHARS).then(|| v.to_string())
}

/// Inserts into a sorted set of at most [`MAX_DISTINCT`]; true when the value was new
/// but the set was full (it is then dropped: the first distinct values seen are kept).
pub fn insert_bounded<T: Ord + ?Sized + ToOwned<Owned = O>, O: Ord + std::borrow::Borrow<T>>(
    set: &mut Vec<O>,
    v: &T,
) -> bool {
    match set.binary_search_by(|x| x.borrow().cmp(v)) {
        Ok(_) => false,
        Err(_) if set.len() >= MAX_DISTINCT => true,
        Err(at) => {
            set.insert(at, v.to_owned());
            false
        }
    }
}

/// The one value of a set that is known to hold exactly one.
pub fn single<T: Clone>(set: &[T], truncated: bool) -> Option<T> {
    match set {
        [one] if !truncated => Some(one.clone()),
        _ => None,
    }
}

/// Counts findings per band, for summaries (`Low` first).
pub fn count_by_label(findings: &[Finding]) -> [(SeverityLabel, usize); 4] {
    let mut counts = SeverityLabel::ALL.map(|l| (l, 0usize));
    for f in findings {
        // ALL is in the enum's order, so the label's discriminant is its index.
        if let Some(c) = counts.get_mut(f.severity.label() as usize) {
            c.1 += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests;
