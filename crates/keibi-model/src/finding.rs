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

use crate::event::{Event, SourceKind};

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
    pub engine: Option<String>,
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
            mitre: Vec::new(),
            resource,
            actor: Actor::default(),
            first_seen: time,
            last_seen: time,
            count: 0,
            evidence: Vec::new(),
            detector: detector.to_string(),
        }
    }

    /// Adds one event: `count`, the time span, the distinct addresses and users, the
    /// client application (the first one known), `resource.engine` when unset, and
    /// the evidence.
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
            a.app.clone_from(&e.application);
        }
        if self.resource.engine.is_none() {
            self.resource.engine = e.source.engine().map(str::to_string);
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

/// Inserts into a sorted set of at most [`MAX_DISTINCT`]; true when the value was new
/// but the set was full (it is then dropped: the first distinct values seen are kept).
fn insert_bounded<T: Ord + ?Sized + ToOwned<Owned = O>, O: Ord + std::borrow::Borrow<T>>(
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

fn single<T: Clone>(set: &[T], truncated: bool) -> Option<T> {
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
mod tests {
    use super::*;
    use crate::event::Action;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    fn login_failure(time: &str, line: u64, ip: &str, user: &str) -> Event {
        let mut e = Event::new(
            t(time),
            SourceKind::PostgresStderr,
            Arc::from("/var/log/postgresql/postgresql.log"),
            line,
            Action::LoginFailure,
        );
        e.set_client(ip);
        e.user = Some(user.to_string());
        e
    }

    fn full() -> Finding {
        let mut f = Finding::new(
            "brute_force",
            "CredentialAccess:RDS/BruteForce",
            &["prod-db", "203.0.113.7"],
            Severity::new(5.0),
            Resource {
                kind: "db_instance".into(),
                id: "prod-db".into(),
                engine: Some("postgres".into()),
            },
            t("2026-11-28T15:41:43Z"),
        );
        f.title = "Brute force against prod-db from 203.0.113.7".into();
        f.description = "42 failed logins in 3 minutes.".into();
        f.remediation = "Block 203.0.113.7.".into();
        f.mitre = vec!["T1110.001".into()];
        f.actor = Actor {
            ip: Some("203.0.113.7".parse().unwrap()),
            user: None,
            app: Some("psql".into()),
            ips: vec![],
            users: vec!["admin".into(), "postgres".into()],
            ..Actor::default()
        };
        f.last_seen = t("2026-11-28T15:44:02.250Z");
        f.count = 42;
        f.evidence = vec![
            Evidence::Line {
                source: Arc::from("pg.log"),
                line: 7,
            },
            Evidence::Event {
                source: Arc::from("ct.json.gz"),
                event_id: "6b1f7c0e-1111-2222-3333-444455556666".into(),
            },
        ];
        f
    }

    #[test]
    fn golden_json_field_names_and_order() {
        let got = serde_json::to_string_pretty(&full()).unwrap();
        let want = r#"{
  "id": "eedf2ffcc0d5c62c906e9e1912c1af52",
  "type": "CredentialAccess:RDS/BruteForce",
  "severity": 5.0,
  "severity_label": "Medium",
  "title": "Brute force against prod-db from 203.0.113.7",
  "description": "42 failed logins in 3 minutes.",
  "remediation": "Block 203.0.113.7.",
  "mitre": [
    "T1110.001"
  ],
  "resource": {
    "kind": "db_instance",
    "id": "prod-db",
    "engine": "postgres"
  },
  "actor": {
    "ip": "203.0.113.7",
    "app": "psql",
    "users": [
      "admin",
      "postgres"
    ]
  },
  "first_seen": "2026-11-28T15:41:43Z",
  "last_seen": "2026-11-28T15:44:02.250Z",
  "count": 42,
  "evidence": [
    {
      "source": "pg.log",
      "line": 7
    },
    {
      "source": "ct.json.gz",
      "event_id": "6b1f7c0e-1111-2222-3333-444455556666"
    }
  ],
  "detector": "brute_force"
}"#;
        assert_eq!(got, want);
    }

    #[test]
    fn optional_fields_are_omitted_required_ones_kept() {
        let f = Finding::new(
            "d",
            "T",
            &[],
            Severity::new(9.5),
            Resource {
                kind: "aws_account".into(),
                id: "123456789012".into(),
                engine: None,
            },
            t("2026-11-28T15:41:43Z"),
        );
        let j = serde_json::to_value(&f).unwrap();
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        let mut want = vec![
            "id",
            "type",
            "severity",
            "severity_label",
            "title",
            "description",
            "remediation",
            "mitre",
            "resource",
            "actor",
            "first_seen",
            "last_seen",
            "count",
            "evidence",
            "detector",
        ];
        let mut got = keys.clone();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
        assert_eq!(
            j["resource"],
            serde_json::json!({"kind": "aws_account", "id": "123456789012"})
        );
        assert_eq!(j["actor"], serde_json::json!({}));
        assert_eq!(j["mitre"], serde_json::json!([]));
        assert_eq!(j["evidence"], serde_json::json!([]));
        assert_eq!(j["severity_label"], "Critical");
        assert_eq!(j["count"], 0);
    }

    #[test]
    fn single_address_is_not_repeated_as_an_array() {
        let mut f = full();
        f.actor.ips = vec!["203.0.113.7".parse().unwrap()];
        f.actor.users = vec!["admin".into()];
        let j = serde_json::to_value(&f).unwrap();
        assert!(j["actor"].get("ips").is_none());
        assert!(j["actor"].get("users").is_none());
    }

    #[test]
    fn json_round_trips_and_label_follows_severity() {
        let f = full();
        let back: Finding = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back, f);
        // A lying label in the input is ignored: it is always derived.
        let mut j = serde_json::to_value(&f).unwrap();
        j["severity_label"] = "Critical".into();
        j["severity"] = serde_json::json!(3);
        let back: Finding = serde_json::from_value(j.clone()).unwrap();
        assert_eq!(back.severity_label(), SeverityLabel::Low);
        j["severity"] = "high".into();
        let back: Finding = serde_json::from_value(j).unwrap();
        assert_eq!(back.severity, Severity::new(7.0));
    }

    #[test]
    fn labels_at_band_edges() {
        let cases = [
            (1.0, "Low"),
            (3.9, "Low"),
            (3.94, "Low"),
            (3.95, "Medium"),
            (4.0, "Medium"),
            (6.9, "Medium"),
            (6.95, "High"),
            (7.0, "High"),
            (8.9, "High"),
            (8.95, "Critical"),
            (9.0, "Critical"),
            (10.0, "Critical"),
        ];
        for (v, want) in cases {
            assert_eq!(Severity::new(v).label().as_str(), want, "{v}");
        }
        assert_eq!(Severity::new(3.95).value(), 4.0);
        assert_eq!(Severity::new(3.94).to_string(), "3.9");
    }

    #[test]
    fn out_of_range_severities_are_clamped() {
        assert_eq!(Severity::new(0.0), Severity::MIN);
        assert_eq!(Severity::new(-5.0), Severity::MIN);
        assert_eq!(Severity::new(11.0), Severity::MAX);
        assert_eq!(Severity::new(f64::INFINITY), Severity::MAX);
        assert_eq!(Severity::new(f64::NEG_INFINITY), Severity::MIN);
        assert_eq!(Severity::new(f64::NAN), Severity::MIN);
        assert_eq!(Severity::new(0.96).value(), 1.0);
        assert!(Severity::new(9.5) > Severity::new(9.4));
    }

    #[test]
    fn severity_parses_labels_and_numbers() {
        let p = |s: &str| s.parse::<Severity>();
        assert_eq!(p("low"), Ok(Severity::new(1.0)));
        assert_eq!(p("Medium"), Ok(Severity::new(4.0)));
        assert_eq!(p("HIGH"), Ok(Severity::new(7.0)));
        assert_eq!(p(" critical "), Ok(Severity::new(9.0)));
        assert_eq!(p("7.5"), Ok(Severity::new(7.5)));
        assert_eq!(p("10"), Ok(Severity::MAX));
        assert_eq!(p("1"), Ok(Severity::MIN));
        for bad in ["", "severe", "0.5", "10.1", "-3", "NaN", "inf", "high!"] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
        let msg = p("severe").unwrap_err().to_string();
        assert!(msg.contains("low, medium, high, critical"), "{msg}");
    }

    #[test]
    fn ids_are_pinned() {
        // If this fails, finding ids changed: every stored finding and suppression
        // would stop matching. Do not update the expected values; see finding_id.
        assert_eq!(
            finding_id(
                "brute_force",
                "CredentialAccess:RDS/BruteForce",
                &["prod-db", "203.0.113.7"]
            ),
            "eedf2ffcc0d5c62c906e9e1912c1af52"
        );
        assert_eq!(
            finding_id("d", "t", &[]),
            "dbbbf7998fc6344b98e2450030de2365"
        );
        assert_eq!(
            finding_id("d", "t", &["ab", "c"]),
            "09651dca6be2f6396ca0a83647763593"
        );
        assert_eq!(
            finding_id("d", "t", &["a", "bc"]),
            "8e684c5e270b6756f9c52794e2eecbeb"
        );
    }

    #[test]
    fn aggregation_counts_times_and_actors() {
        let mut f = Finding::new(
            "brute_force",
            "CredentialAccess:RDS/BruteForce",
            &["x"],
            Severity::new(5.0),
            Resource {
                kind: "db_instance".into(),
                id: "prod-db".into(),
                engine: None,
            },
            t("2030-01-01T00:00:00Z"),
        );
        f.absorb(&login_failure(
            "2026-11-28T15:41:43Z",
            10,
            "203.0.113.7",
            "postgres",
        ));
        assert_eq!(f.count, 1);
        assert_eq!(f.first_seen, t("2026-11-28T15:41:43Z"));
        assert_eq!(f.last_seen, t("2026-11-28T15:41:43Z"));
        assert_eq!(f.actor.ip, Some("203.0.113.7".parse().unwrap()));
        assert_eq!(f.actor.user.as_deref(), Some("postgres"));
        assert_eq!(f.resource.engine.as_deref(), Some("postgres"));

        // Out of order events still widen the span on both sides.
        f.absorb(&login_failure(
            "2026-11-28T15:40:00.5Z",
            11,
            "203.0.113.7",
            "admin",
        ));
        f.absorb(&login_failure(
            "2026-11-28T15:50:00Z",
            12,
            "203.0.113.7",
            "admin",
        ));
        assert_eq!(f.count, 3);
        assert_eq!(f.first_seen, t("2026-11-28T15:40:00.5Z"));
        assert_eq!(f.last_seen, t("2026-11-28T15:50:00Z"));
        assert_eq!(f.actor.ip, Some("203.0.113.7".parse().unwrap()));
        assert_eq!(f.actor.user, None, "two users: no single user");
        assert_eq!(f.actor.users, vec!["admin".to_string(), "postgres".into()]);
        let j = serde_json::to_value(&f).unwrap();
        assert_eq!(j["first_seen"], "2026-11-28T15:40:00.500Z");
        assert!(j["actor"].get("ips").is_none());
    }

    #[test]
    fn distinct_sets_are_bounded_sorted_and_flag_truncation() {
        let mut f = full();
        f.actor = Actor::default();
        f.count = 0;
        for i in 0..300u32 {
            let ip = format!("10.0.{}.{}", i / 256, i % 256);
            f.absorb(&login_failure(
                "2026-11-28T15:41:43Z",
                u64::from(i) + 1,
                &ip,
                &format!("user{:03}", 299 - i),
            ));
        }
        assert_eq!(f.count, 300);
        assert_eq!(f.actor.ips.len(), MAX_DISTINCT);
        assert_eq!(f.actor.users.len(), MAX_DISTINCT);
        assert!(f.actor.ips_truncated && f.actor.users_truncated);
        assert!(f.actor.ips.windows(2).all(|w| w[0] < w[1]));
        assert!(f.actor.users.windows(2).all(|w| w[0] < w[1]));
        // The first distinct values seen are the ones kept.
        assert_eq!(f.actor.ips[0], "10.0.0.0".parse::<IpAddr>().unwrap());
        assert_eq!(f.actor.ips[99], "10.0.0.99".parse::<IpAddr>().unwrap());
        assert_eq!(f.actor.users[0], "user200");
        assert_eq!(f.actor.users[99], "user299");
        // Numeric order, not text order: 10.0.0.9 before 10.0.0.10.
        assert_eq!(f.actor.ips[9], "10.0.0.9".parse::<IpAddr>().unwrap());
        assert_eq!(f.actor.ip, None);
    }

    #[test]
    fn absorb_after_reading_back_keeps_the_single_value() {
        let mut f = full();
        f.actor = Actor {
            ip: Some("198.51.100.1".parse().unwrap()),
            ..Actor::default()
        };
        let mut f: Finding = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
        f.absorb(&login_failure(
            "2026-11-28T15:41:43Z",
            1,
            "198.51.100.2",
            "u",
        ));
        assert_eq!(f.actor.ip, None);
        assert_eq!(
            f.actor.ips,
            vec![
                "198.51.100.1".parse::<IpAddr>().unwrap(),
                "198.51.100.2".parse().unwrap()
            ]
        );
    }

    #[test]
    fn evidence_keeps_first_ten_and_last_ten() {
        let mut f = full();
        f.evidence.clear();
        for line in 1..=1000 {
            f.absorb(&login_failure(
                "2026-11-28T15:41:43Z",
                line,
                "203.0.113.7",
                "u",
            ));
        }
        let lines: Vec<u64> = f
            .evidence
            .iter()
            .map(|e| match e {
                Evidence::Line { line, .. } => *line,
                Evidence::Event { .. } => 0,
            })
            .collect();
        let want: Vec<u64> = (1..=10).chain(991..=1000).collect();
        assert_eq!(lines, want);
        // The same reference twice in a row is kept once.
        let last = f.evidence.last().cloned().unwrap();
        f.push_evidence(last);
        assert_eq!(f.evidence.len(), MAX_EVIDENCE);
        assert_eq!(f.evidence[19], f.evidence[19].clone());
        assert!(f.evidence.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn cloudtrail_evidence_uses_the_event_id() {
        let mut e = Event::new(
            t("2026-11-28T15:41:43Z"),
            SourceKind::Cloudtrail,
            Arc::from("ct.json"),
            3,
            Action::ApiCall,
        );
        e.record = Some(Box::new(serde_json::json!({"eventID": "abc-123"})));
        assert_eq!(
            Evidence::of(&e),
            Evidence::Event {
                source: Arc::from("ct.json"),
                event_id: "abc-123".into()
            }
        );
        e.record = Some(Box::new(serde_json::json!({"eventID": 5})));
        assert_eq!(
            Evidence::of(&e),
            Evidence::Line {
                source: Arc::from("ct.json"),
                line: 3
            }
        );
    }

    #[test]
    fn counts_per_label() {
        let mut a = full();
        let mut fs = Vec::new();
        for v in [2.0, 5.0, 5.5, 8.0, 9.0, 10.0] {
            a.severity = Severity::new(v);
            fs.push(a.clone());
        }
        let c = count_by_label(&fs);
        assert_eq!(
            c,
            [
                (SeverityLabel::Low, 1),
                (SeverityLabel::Medium, 2),
                (SeverityLabel::High, 1),
                (SeverityLabel::Critical, 2)
            ]
        );
    }
}
