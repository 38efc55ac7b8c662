//! One audit's outcomes, and what outputs need of them: the failures grouped by
//! resource, the suppressed ones apart, and a score the way Security Hub counts it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use keibi_model::Finding;

use crate::outcome::{Outcome, Status};

/// A settings rule that takes a failing check out of the failures (Security Hub's
/// "suppressed" workflow): the check is counted apart, neither passed nor failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppress {
    /// The control id (`RDS.2`, `KB.PG.1`), ASCII case ignored.
    pub control: String,
    /// A glob over the resource id ([`Suppress::pattern`]); `None` is every
    /// resource.
    pub resource: Option<String>,
    /// Why: kept with each suppressed check and shown.
    pub reason: String,
}

impl Suppress {
    /// The rule's resource pattern as a glob, as the notification routes' patterns:
    /// `*` any text (`/` and `:` included), `?` one character, `[...]` a class,
    /// `{a,b}` alternatives. The error is a sentence for a settings problem.
    pub fn pattern(&self) -> Result<Option<globset::GlobMatcher>, String> {
        self.resource
            .as_deref()
            .map(|p| {
                globset::GlobBuilder::new(p)
                    .literal_separator(false)
                    .build()
                    .map(|g| g.compile_matcher())
                    .map_err(|e| format!("{p:?} is not a glob pattern: {}", e.kind()))
            })
            .transpose()
    }
}

/// A failed check a rule suppressed, with the rule's reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppressed {
    pub outcome: Outcome,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Report {
    /// When the snapshot was taken.
    pub at: DateTime<Utc>,
    /// Every control on every resource it applies to, passed and failed (the
    /// suppressed failures are moved to `suppressed`).
    pub outcomes: Vec<Outcome>,
    /// Failed checks that a [`Suppress`] rule holds.
    pub suppressed: Vec<Suppressed>,
}

/// Where a resource is: account, region, kind and id (the table's group).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ResourceKey {
    pub account: String,
    pub region: String,
    pub kind: String,
    pub id: String,
}

impl ResourceKey {
    pub fn of(o: &Outcome) -> ResourceKey {
        let r = &o.resource;
        ResourceKey {
            account: r.account.clone().unwrap_or_default(),
            region: r.region.clone().unwrap_or_default(),
            kind: r.kind.clone(),
            id: r.id.clone(),
        }
    }
}

/// The counts of one area (RDS, EC2, CloudTrail, GuardDuty, PostgreSQL, MySQL) or
/// of the whole audit.
///
/// Controls are counted as Security Hub counts them: a control **fails** when it
/// failed on at least one resource (suppressed failures aside), **passes** when it
/// was evaluated and failed nowhere, and is **suppressed** when its only failures
/// are suppressed. Checks are the control × resource outcomes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub controls_passed: usize,
    pub controls_failed: usize,
    pub controls_suppressed: usize,
    pub checks_passed: usize,
    pub checks_failed: usize,
    pub checks_suppressed: usize,
}

impl Counts {
    /// Passed controls over passed and failed ones, in percent (0–100); `None`
    /// when no control was evaluated.
    pub fn score(&self) -> Option<f64> {
        let n = self.controls_passed + self.controls_failed;
        (n > 0).then(|| 100.0 * self.controls_passed as f64 / n as f64)
    }
}

/// The score and counts, per area and in all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// In a fixed order: RDS, EC2, CloudTrail, GuardDuty, PostgreSQL, MySQL, then
    /// any other area by name. Only areas with at least one check.
    pub areas: Vec<(String, Counts)>,
    pub total: Counts,
}

/// The area a control belongs to, from its id: `RDS.2` and `KB.RDS.1` → `RDS`,
/// `EC2.19` and `KB.NACL.1` → `EC2` (network ACLs are VPC/EC2 resources),
/// `KB.PG.3` → `PostgreSQL`, `KB.MySQL.2` → `MySQL`.
pub fn area(control_id: &str) -> &str {
    let rest = control_id.strip_prefix("KB.").unwrap_or(control_id);
    let head = rest.split('.').next().unwrap_or(rest);
    match head {
        "NACL" | "VPC" | "NET" => "EC2",
        "PG" => "PostgreSQL",
        "MYSQL" | "MySQL" => "MySQL",
        other => other,
    }
}

const AREA_ORDER: [&str; 6] = [
    "RDS",
    "EC2",
    "CloudTrail",
    "GuardDuty",
    "PostgreSQL",
    "MySQL",
];

impl Report {
    pub fn new(outcomes: Vec<Outcome>, at: DateTime<Utc>) -> Report {
        Report {
            at,
            outcomes,
            suppressed: Vec::new(),
        }
    }

    /// Moves the failures a rule holds to [`Report::suppressed`] (the first rule
    /// that matches gives the reason).
    pub fn suppress(&mut self, rules: &[Suppress]) {
        if rules.is_empty() {
            return;
        }
        // A rule whose pattern is not a glob holds nothing (settings check it first).
        let compiled: Vec<(&Suppress, Option<globset::GlobMatcher>)> = rules
            .iter()
            .filter_map(|r| r.pattern().ok().map(|m| (r, m)))
            .collect();
        let holds = |r: &Suppress, m: &Option<globset::GlobMatcher>, o: &Outcome| {
            r.control.trim().eq_ignore_ascii_case(o.control.id)
                && m.as_ref().is_none_or(|m| m.is_match(&o.resource.id))
        };
        let mut kept = Vec::with_capacity(self.outcomes.len());
        for o in std::mem::take(&mut self.outcomes) {
            let rule = o
                .is_failed()
                .then(|| {
                    compiled
                        .iter()
                        .find(|(r, m)| holds(r, m, &o))
                        .map(|(r, _)| *r)
                })
                .flatten();
            match rule {
                Some(r) => self.suppressed.push(Suppressed {
                    outcome: o,
                    reason: r.reason.clone(),
                }),
                None => kept.push(o),
            }
        }
        self.outcomes = kept;
    }

    pub fn failed(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| o.status == Status::Failed)
    }

    pub fn passed(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| o.status == Status::Passed)
    }

    /// The findings of the failed outcomes (suppressed ones aside), most severe
    /// first.
    pub fn findings(&self) -> Vec<Finding> {
        let mut fs: Vec<Finding> = self.failed().map(|o| o.finding(self.at)).collect();
        fs.sort_by(|a, b| {
            b.severity
                .value()
                .total_cmp(&a.severity.value())
                .then_with(|| a.finding_type.cmp(&b.finding_type))
                .then_with(|| a.resource.id.cmp(&b.resource.id))
        });
        fs
    }

    /// The failed outcomes grouped by resource, each group most severe first, and the
    /// groups by their worst failure (the public instance before the unencrypted
    /// automated snapshot), then by account, region, kind and id.
    pub fn failed_by_resource(&self) -> Vec<(ResourceKey, Vec<&Outcome>)> {
        let mut groups: BTreeMap<ResourceKey, Vec<&Outcome>> = BTreeMap::new();
        for o in self.failed() {
            groups.entry(ResourceKey::of(o)).or_default().push(o);
        }
        let mut groups: Vec<(ResourceKey, Vec<&Outcome>)> = groups
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_by(|a, b| {
                    severity(b)
                        .total_cmp(&severity(a))
                        .then_with(|| a.control.id.cmp(b.control.id))
                });
                (k, v)
            })
            .collect();
        // Stable: equal worst severities keep the key order.
        groups.sort_by(|(_, a), (_, b)| severity(b[0]).total_cmp(&severity(a[0])));
        groups
    }

    /// Controls and checks passed, failed and suppressed, per area and in all.
    pub fn summary(&self) -> Summary {
        // Per control: (passed checks, failed checks, suppressed checks).
        let mut per: BTreeMap<&'static str, (usize, usize, usize)> = BTreeMap::new();
        for o in &self.outcomes {
            let e = per.entry(o.control.id).or_default();
            match o.status {
                Status::Passed => e.0 += 1,
                Status::Failed => e.1 += 1,
            }
        }
        for s in &self.suppressed {
            per.entry(s.outcome.control.id).or_default().2 += 1;
        }
        let mut areas: BTreeMap<String, Counts> = BTreeMap::new();
        let mut total = Counts::default();
        for (id, (p, f, s)) in per {
            let c = areas.entry(area(id).to_string()).or_default();
            for c in [c, &mut total] {
                c.checks_passed += p;
                c.checks_failed += f;
                c.checks_suppressed += s;
                if f > 0 {
                    c.controls_failed += 1;
                } else if s > 0 {
                    c.controls_suppressed += 1;
                } else {
                    c.controls_passed += 1;
                }
            }
        }
        let rank = |a: &str| {
            AREA_ORDER
                .iter()
                .position(|x| *x == a)
                .unwrap_or(AREA_ORDER.len())
        };
        let mut areas: Vec<(String, Counts)> = areas.into_iter().collect();
        areas.sort_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then_with(|| a.0.cmp(&b.0)));
        Summary { areas, total }
    }
}

fn severity(o: &Outcome) -> f64 {
    o.severity
        .unwrap_or_else(|| o.control.default_severity())
        .value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Control;
    use keibi_model::Resource;

    static PUBLIC: Control = Control {
        id: "RDS.2",
        short: "PubliclyAccessible",
        severity: 9.0,
        resource_kind: "db_instance",
        mitre: &[],
        aws_control: true,
        msg: "posture-test-public",
    };
    static ENCRYPTED: Control = Control {
        id: "RDS.3",
        short: "StorageEncrypted",
        severity: 5.0,
        resource_kind: "db_instance",
        mitre: &[],
        aws_control: true,
        msg: "posture-test-enc",
    };
    static TRUST: Control = Control {
        id: "KB.PG.1",
        short: "HbaTrust",
        severity: 9.0,
        resource_kind: "database",
        mitre: &[],
        aws_control: false,
        msg: "posture-test-trust",
    };

    fn res(kind: &str, id: &str) -> Resource {
        Resource {
            kind: kind.into(),
            id: id.into(),
            engine: None,
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
        }
    }

    fn report() -> Report {
        Report::new(
            vec![
                Outcome::failed(&PUBLIC, res("db_instance", "prod-db")),
                Outcome::passed(&PUBLIC, res("db_instance", "dev-db")),
                Outcome::failed(&ENCRYPTED, res("db_instance", "prod-db")),
                Outcome::failed(&ENCRYPTED, res("db_instance", "legacy-1")),
                Outcome::passed(&TRUST, res("database", "postgres://db:5432")),
            ],
            Utc::now(),
        )
    }

    #[test]
    fn score_counts_controls_as_security_hub_does() {
        let s = report().summary();
        assert_eq!(s.total.controls_passed, 1);
        assert_eq!(s.total.controls_failed, 2);
        assert_eq!(s.total.checks_passed, 2);
        assert_eq!(s.total.checks_failed, 3);
        let score = s.total.score().unwrap();
        assert!((score - 100.0 / 3.0).abs() < 1e-9, "{score}");
        let names: Vec<&str> = s.areas.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(names, ["RDS", "PostgreSQL"]);
        assert_eq!(s.areas[1].1.score(), Some(100.0));
        assert_eq!(
            Report::new(vec![], Utc::now()).summary().total.score(),
            None
        );
    }

    #[test]
    fn suppressed_failures_are_counted_apart() {
        let mut r = report();
        r.suppress(&[Suppress {
            control: "rds.3".into(),
            resource: Some("legacy-*".into()),
            reason: "retired next month".into(),
        }]);
        assert_eq!(r.suppressed.len(), 1);
        assert_eq!(r.suppressed[0].outcome.resource.id, "legacy-1");
        assert_eq!(r.suppressed[0].reason, "retired next month");
        assert_eq!(r.failed().count(), 2);
        let s = r.summary();
        assert_eq!(s.total.checks_suppressed, 1);
        assert_eq!(s.total.checks_failed, 2);
        // RDS.3 still fails on prod-db: still a failed control.
        assert_eq!(s.total.controls_failed, 2);
        r.suppress(&[Suppress {
            control: "RDS.3".into(),
            resource: None,
            reason: "accepted".into(),
        }]);
        let s = r.summary();
        assert_eq!(s.total.controls_failed, 1);
        assert_eq!(s.total.controls_suppressed, 1);
        // A passed check is never suppressed.
        assert_eq!(s.total.checks_passed, 2);
    }

    #[test]
    fn failures_are_grouped_by_resource_most_severe_first() {
        let r = report();
        let g = r.failed_by_resource();
        assert_eq!(g.len(), 2);
        // The resource with the worst failure first: prod-db is public (Critical),
        // legacy-1 only unencrypted.
        assert_eq!(g[0].0.id, "prod-db");
        assert_eq!(g[1].0.id, "legacy-1");
        let ids: Vec<&str> = g[0].1.iter().map(|o| o.control.id).collect();
        assert_eq!(ids, ["RDS.2", "RDS.3"]);
    }

    #[test]
    fn areas_follow_the_control_ids() {
        assert_eq!(area("RDS.2"), "RDS");
        assert_eq!(area("KB.RDS.1"), "RDS");
        assert_eq!(area("EC2.19"), "EC2");
        assert_eq!(area("KB.NACL.1"), "EC2");
        assert_eq!(area("CloudTrail.4"), "CloudTrail");
        assert_eq!(area("GuardDuty.1"), "GuardDuty");
        assert_eq!(area("KB.PG.3"), "PostgreSQL");
        assert_eq!(area("KB.MySQL.2"), "MySQL");
    }

    #[test]
    fn resource_patterns_are_globs() {
        let rule = |p: &str| Suppress {
            control: "RDS.2".into(),
            resource: Some(p.into()),
            reason: "r".into(),
        };
        let m = |p: &str, id: &str| rule(p).pattern().unwrap().unwrap().is_match(id);
        assert!(m("prod-*", "prod-db"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(!m("prod-*", "dev-prod-db"));
        assert!(m("*-db", "dev-prod-db"));
        assert!(m("arn:aws:rds:*:db:*", "arn:aws:rds:us-east-1:1:db:x/y"));
        assert!(m("{prod,dev}-db", "dev-db"));
        assert!(rule("[").pattern().is_err());
        // A rule that is not a glob suppresses nothing.
        let mut r = report();
        r.suppress(&[rule("[")]);
        assert!(r.suppressed.is_empty());
    }
}
