//! The result of one control on one resource, and the finding a failure becomes.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use keibi_i18n::{Arg, FindingText, Locale, Msg};
use keibi_model::finding::finding_id;
use keibi_model::{Evidence, Finding, Resource, Severity};

use crate::control::Control;

/// The detector name of every posture finding.
pub const DETECTOR: &str = "posture";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Passed,
    Failed,
}

/// A fact observed on a resource: where it was read and what it said.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// An API call with its region (`rds:DescribeDBInstances us-east-1`), a saved
    /// JSON file's path, or a database (`postgres://db.example:5432`, never a password)
    /// with the view read (`pg_hba_file_rules`).
    pub source: String,
    /// The fact, short: `PubliclyAccessible=true`, `host all all 0.0.0.0/0 trust (line 98)`.
    pub observed: String,
}

impl Observation {
    pub fn new(source: impl Into<String>, observed: impl Into<String>) -> Observation {
        Observation {
            source: source.into(),
            observed: observed.into(),
        }
    }
}

/// One control's verdict on one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub control: &'static Control,
    pub status: Status,
    /// The resource checked: `kind`, `id` (instance identifier, snapshot id, group id,
    /// trail ARN, account id, database name), `engine`, `account`, `region`.
    pub resource: Resource,
    /// A severity other than the control's default, from evidence (a public snapshot
    /// of an unencrypted instance is worse than of an encrypted one).
    pub severity: Option<Severity>,
    /// What failed (for a pass, what was seen), at most a few facts.
    pub evidence: Vec<Observation>,
    /// Arguments of the control's messages beyond the common ones (`resource`,
    /// `kind`, `account`, `region`, `engine`), which every message gets.
    pub args: Vec<(String, Arg)>,
}

impl Outcome {
    pub fn new(control: &'static Control, status: Status, resource: Resource) -> Outcome {
        Outcome {
            control,
            status,
            resource,
            severity: None,
            evidence: Vec::new(),
            args: Vec::new(),
        }
    }

    pub fn passed(control: &'static Control, resource: Resource) -> Outcome {
        Outcome::new(control, Status::Passed, resource)
    }

    pub fn failed(control: &'static Control, resource: Resource) -> Outcome {
        Outcome::new(control, Status::Failed, resource)
    }

    /// Passed when `ok`, failed otherwise.
    pub fn judged(control: &'static Control, ok: bool, resource: Resource) -> Outcome {
        let status = if ok { Status::Passed } else { Status::Failed };
        Outcome::new(control, status, resource)
    }

    pub fn observed(mut self, source: impl Into<String>, fact: impl Into<String>) -> Outcome {
        self.evidence.push(Observation::new(source, fact));
        self
    }

    pub fn arg(mut self, name: &str, value: impl Into<Arg>) -> Outcome {
        self.args.push((name.to_string(), value.into()));
        self
    }

    pub fn severity(mut self, s: f64) -> Outcome {
        self.severity = Some(Severity::new(s));
        self
    }

    pub fn is_failed(&self) -> bool {
        self.status == Status::Failed
    }

    /// The stable finding id: detector, type, and the resource's account, region,
    /// kind and id. The same door found open again is the same finding.
    pub fn finding_id(&self) -> String {
        let r = &self.resource;
        finding_id(
            DETECTOR,
            &self.control.finding_type(),
            &[
                r.account.as_deref().unwrap_or(""),
                r.region.as_deref().unwrap_or(""),
                &r.kind,
                &r.id,
            ],
        )
    }

    /// The control's message `{msg}-{part}` with the common and the outcome's arguments.
    pub fn message(&self, part: &str) -> Msg {
        let r = &self.resource;
        let mut m = Msg::new(&format!("{}-{part}", self.control.msg))
            .arg("resource", r.id.as_str())
            .arg("kind", r.kind.as_str())
            .arg("account", r.account.as_deref().unwrap_or("-"))
            .arg("region", r.region.as_deref().unwrap_or("-"))
            .arg(
                "engine",
                r.engine.map(|e| e.as_str()).unwrap_or("-").to_string(),
            );
        for (name, value) in &self.args {
            m = m.arg(name, value.clone());
        }
        m
    }

    /// The finding a failed outcome raises (a passed one too, for outputs that list
    /// every check): the contract's texts in English, `text` for other languages,
    /// `count` 1 and both times `at`.
    pub fn finding(&self, at: DateTime<Utc>) -> Finding {
        let c = self.control;
        let mut f = Finding::new(
            DETECTOR,
            &c.finding_type(),
            &[],
            self.severity.unwrap_or_else(|| c.default_severity()),
            self.resource.clone(),
            at,
        );
        f.id = self.finding_id();
        f.count = 1;
        f.mitre = c.mitre.iter().map(|m| m.to_string()).collect();
        f.evidence = self
            .evidence
            .iter()
            .take(keibi_model::finding::MAX_EVIDENCE)
            .map(|o| Evidence::Observed {
                source: Arc::from(o.source.as_str()),
                observed: o.observed.clone(),
            })
            .collect();
        let text = FindingText {
            title: Some(self.message("title")),
            description: vec![self.message("what")],
            remediation: vec![self.message("console"), self.message("cli")],
        };
        let en = Locale::english_utc();
        let (title, description, remediation) = en.finding(&text);
        if let Some(title) = title {
            f.title = title;
        }
        f.description = description;
        f.remediation = remediation;
        f.text = Some(Box::new(text));
        f
    }
}
