//! Sigma rules: loading (built-in files embedded at build time, and users' own),
//! keibi's metadata, and the detector that runs them with `rsigma-eval`.
//!
//! Rules are routed by `logsource` to the events they can match: `product:
//! postgresql` (or `postgres`), `product: mysql` (or `mariadb`), `category:
//! database` (both engines), `product: aws` / `service: cloudtrail`. Rules for other
//! log sources (Windows, Linux ...) are counted as skipped, not loaded.

pub mod adapter;
pub mod meta;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use keibi_model::{ActionKind, Engine, Event, FindingSpec, Resource, Severity, SourceKind};
use rsigma_eval::{CorrelationConfig, CorrelationEngine, ResultBody};
use rsigma_parser::{CorrelationRule, LogSource, SigmaCollection, SigmaRule};

use crate::catalog::Entry;
use crate::config::Config;
use crate::detector::{db_resource, Context, Detector};
use crate::detectors::baseline::habits;
use crate::findings::Raise;
use crate::yamlguard::Limits;
use meta::{level_severity, mitre_from_tags, Meta, RawMeta, Template};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Sigma v1 aggregation functions in a condition, which v2 (and rsigma) dropped.
const V1_AGGREGATIONS: &[&str] = &[
    "| count(", "| min(", "| max(", "| avg(", "| sum(", "| near ",
];

/// What a rule file may be: SigmaHQ's largest rule files are a few tens of KB, and
/// none uses anchors or aliases. Checked before the text is parsed
/// ([`crate::yamlguard`]), so a hostile file costs milliseconds, not gigabytes.
pub const RULE_FILE_LIMITS: Limits = Limits {
    max_bytes: 1 << 20,
    max_depth: 64,
    max_nodes: 200_000,
    what: "rule files",
};

/// Entries kept in one correlation group's window (event times, or time and value):
/// beyond it the oldest are dropped, which only matters for thresholds above it.
const MAX_GROUP_ENTRIES: usize = 10_000;

/// The event families rules are routed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Postgres,
    Mysql,
    Cloudtrail,
}

impl Family {
    const ALL: [Family; 3] = [Family::Postgres, Family::Mysql, Family::Cloudtrail];

    /// The family a source's events are routed to: its engine's, CloudTrail's, or
    /// none (a log that is neither a database's nor CloudTrail matches no rule; it
    /// never falls through to another family's rules).
    pub fn of(source: SourceKind) -> Option<Family> {
        match (source.engine(), source) {
            (Some(Engine::Postgres), _) => Some(Family::Postgres),
            (Some(Engine::Mysql), _) => Some(Family::Mysql),
            (None, SourceKind::Cloudtrail) => Some(Family::Cloudtrail),
            (None, _) => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Postgres => "postgresql",
            Family::Mysql => "mysql",
            Family::Cloudtrail => "cloudtrail",
        }
    }

    /// The resource type in `Sigma:<Resource>/<rule>` finding types.
    fn sigma_type_prefix(self) -> &'static str {
        match self {
            Family::Postgres | Family::Mysql => "Sigma:RDS",
            Family::Cloudtrail => "Sigma:CloudTrail",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A rule that could not be loaded, and why. Never dropped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    /// The file (or `builtin:<path>`) it came from.
    pub origin: String,
    /// The rule's title, when it got that far.
    pub rule: Option<String>,
    pub reason: String,
}

impl fmt::Display for LoadProblem {
    /// One line: parser errors come with multi-line source excerpts, which read as
    /// `\n` noise once a terminal or log escapes them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = self.reason.split_whitespace().collect::<Vec<_>>().join(" ");
        match &self.rule {
            Some(r) => write!(f, "{}: rule {r:?}: {reason}", self.origin),
            None => write!(f, "{}: {reason}", self.origin),
        }
    }
}

/// What `keibi rules list` shows of a loaded rule.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// `name`, else `id`, else the title: what findings carry as `detector`.
    pub key: String,
    pub title: String,
    pub correlation: bool,
    pub origin: String,
    pub finding_type: String,
    pub severity: Severity,
    pub families: Vec<Family>,
}

struct Loaded<T> {
    rule: T,
    meta: Arc<Meta>,
    families: Vec<Family>,
}

/// Rules loaded so far. Build with [`RuleSet::builtin`] and [`RuleSet::add_source`],
/// then [`RuleSet::compile`].
#[derive(Default)]
pub struct RuleSet {
    rules: Vec<Loaded<SigmaRule>>,
    correlations: Vec<Loaded<CorrelationRule>>,
    infos: Vec<RuleInfo>,
    problems: Vec<LoadProblem>,
    keys: HashMap<String, String>,
    skipped: usize,
}

impl RuleSet {
    /// keibi's built-in rules (the files under `rules/`, embedded).
    pub fn builtin() -> RuleSet {
        let mut set = RuleSet::default();
        for (path, text) in BUILTIN {
            set.add_source(&format!("builtin:{path}"), text);
        }
        set
    }

    /// Loads the rules of one YAML file (several documents allowed). Each rule that
    /// cannot be used becomes a [`LoadProblem`]; the others load.
    pub fn add_source(&mut self, origin: &str, yaml: &str) {
        if let Err(e) = crate::yamlguard::check(yaml, &RULE_FILE_LIMITS) {
            self.problem(origin, None, e.to_string());
            return;
        }
        let collection = match rsigma_parser::parse_sigma_yaml(yaml) {
            Ok(c) => c,
            Err(e) => {
                self.problem(origin, None, format!("not a Sigma rule file: {e}"));
                return;
            }
        };
        for e in &collection.errors {
            let mut reason = e.clone();
            if V1_AGGREGATIONS.iter().any(|a| e.contains(a)) {
                reason.push_str(
                    " (this is Sigma v1's `| count() by ...` aggregation, which Sigma v2 \
                     replaced by correlation rules: rewrite it as an `event_count` or \
                     `value_count` correlation, see docs/rules.md)",
                );
            }
            self.problem(origin, None, reason);
        }
        for rule in collection.rules {
            self.add_rule(origin, rule);
        }
        for corr in collection.correlations {
            self.add_correlation(origin, corr);
        }
        if !collection.filters.is_empty() {
            self.problem(
                origin,
                None,
                format!(
                    "{} filter rule(s): Sigma filters are not supported yet",
                    collection.filters.len()
                ),
            );
        }
    }

    /// Records a rule file that could not be read at all.
    pub fn add_source_problem(&mut self, origin: &str, reason: &str) {
        self.problem(origin, None, reason.to_string());
    }

    fn problem(&mut self, origin: &str, rule: Option<&str>, reason: String) {
        self.problems.push(LoadProblem {
            origin: origin.to_string(),
            rule: rule.map(str::to_string),
            reason,
        });
    }

    fn claim_key(&mut self, origin: &str, title: &str, key: &str) -> bool {
        if let Some(prev) = self.keys.get(key) {
            let reason = format!("duplicate rule id/name {key:?} (first loaded from {prev})");
            self.problem(origin, Some(title), reason);
            return false;
        }
        self.keys.insert(key.to_string(), origin.to_string());
        true
    }

    fn add_rule(&mut self, origin: &str, mut rule: SigmaRule) {
        // rsigma-eval resolves correlation references through rule ids only; a
        // rule known by `name` alone gets it as its id so correlations can use it.
        if rule.id.is_none() {
            rule.id.clone_from(&rule.name);
        }
        let Some(families) = families(&rule.logsource) else {
            self.skipped += 1;
            return;
        };
        if let Err(e) = rsigma_eval::compile_rule(&rule) {
            self.problem(origin, Some(&rule.title), e.to_string());
            return;
        }
        let key = rule_key(rule.name.as_deref(), rule.id.as_deref(), &rule.title);
        let meta = match build_meta(
            &rule.custom_attributes,
            &rule.title,
            rule.description.as_deref(),
            rule.level,
            &rule.tags,
            rule.id.as_deref().unwrap_or(&rule.title),
            families[0],
        ) {
            Ok(m) => Arc::new(m),
            Err(reason) => return self.problem(origin, Some(&rule.title), reason),
        };
        if !self.claim_key(origin, &rule.title, &key) {
            return;
        }
        self.infos
            .push(info(&key, &rule.title, false, origin, &meta, &families));
        self.rules.push(Loaded {
            rule,
            meta,
            families,
        });
    }

    fn add_correlation(&mut self, origin: &str, corr: CorrelationRule) {
        let key = rule_key(corr.name.as_deref(), corr.id.as_deref(), &corr.title);
        // A correlation runs where all the rules it reads run.
        let mut fams: Option<HashSet<Family>> = None;
        for r in &corr.rules {
            let found = self
                .rules
                .iter()
                .find(|l| l.rule.id.as_deref() == Some(r) || l.rule.name.as_deref() == Some(r));
            let Some(l) = found else {
                let reason = format!("refers to rule {r:?}, which is not loaded (rules must come before the correlation that uses them)");
                return self.problem(origin, Some(&corr.title), reason);
            };
            let these: HashSet<Family> = l.families.iter().copied().collect();
            fams = Some(match fams {
                None => these,
                Some(f) => f.intersection(&these).copied().collect(),
            });
        }
        let mut families: Vec<Family> = fams.unwrap_or_default().into_iter().collect();
        families.sort();
        if families.is_empty() {
            let reason = "its rules share no log source".to_string();
            return self.problem(origin, Some(&corr.title), reason);
        }
        let meta = match build_meta(
            &corr.custom_attributes,
            &corr.title,
            corr.description.as_deref(),
            corr.level,
            &corr.tags,
            rule_key(corr.id.as_deref(), corr.name.as_deref(), &corr.title).as_str(),
            families[0],
        ) {
            Ok(m) => Arc::new(m),
            Err(reason) => return self.problem(origin, Some(&corr.title), reason),
        };
        if !self.claim_key(origin, &corr.title, &key) {
            return;
        }
        self.infos
            .push(info(&key, &corr.title, true, origin, &meta, &families));
        self.correlations.push(Loaded {
            rule: corr,
            meta,
            families,
        });
    }

    /// The rules that loaded, in load order.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.infos
    }

    /// The rules that did not load, with reasons.
    pub fn problems(&self) -> &[LoadProblem] {
        &self.problems
    }

    /// Rules for log sources keibi does not read (Windows, Linux ...).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Compiles the rules into one detector per scan. Placeholders for `|expand`
    /// come from `config.placeholders`. Problems found here join
    /// [`RuleSet::problems`].
    pub fn compile(&mut self, config: &Config) -> SigmaDetector {
        self.drop_unresolved(config);
        let horizon = self
            .correlations
            .iter()
            .try_fold(chrono::Duration::zero(), |longest, l| {
                let r = &l.rule;
                let extended = r.custom_attributes.keys().any(|k| k.starts_with("rsigma"));
                if r.window == rsigma_parser::WindowMode::Session || extended {
                    return None;
                }
                let secs = r.timespan.seconds.min(crate::config::MAX_WINDOW_SECS);
                Some(longest.max(chrono::Duration::seconds(secs as i64)))
            });
        let mut engines: [Option<CorrelationEngine>; 3] = [None, None, None];
        let mut meta = HashMap::new();
        for fam in Family::ALL {
            let mut coll = SigmaCollection::new();
            for l in self.rules.iter().filter(|l| l.families.contains(&fam)) {
                coll.rules.push(l.rule.clone());
            }
            for l in self
                .correlations
                .iter()
                .filter(|l| l.families.contains(&fam))
            {
                coll.correlations.push(l.rule.clone());
            }
            if coll.rules.is_empty() {
                continue;
            }
            let mut engine = CorrelationEngine::new(CorrelationConfig {
                // Per-group window state is otherwise unbounded (it grows with
                // timespan x event rate); the number of groups is capped by
                // `max_state_entries` (100,000 by default).
                max_group_entries: Some(MAX_GROUP_ENTRIES),
                ..CorrelationConfig::default()
            });
            if !config.placeholders.is_empty() {
                match placeholder_pipeline(config) {
                    Ok(p) => engine.add_pipeline(p),
                    Err(e) => self.problem("config", None, format!("placeholders: {e}")),
                }
            }
            if let Err(e) = engine.add_collection(&coll) {
                self.problem(
                    "rules",
                    None,
                    format!("{} rules could not be compiled: {e}", fam.as_str()),
                );
                continue;
            }
            engines[fam.index()] = Some(engine);
        }
        // Rules read only by correlations (`generate: false`, the default) raise
        // nothing of their own.
        let quiet: HashSet<&str> = self
            .correlations
            .iter()
            .filter(|c| !c.rule.generate)
            .flat_map(|c| c.rule.rules.iter().map(String::as_str))
            .collect();
        let mut silent = HashSet::new();
        let mut entries = Vec::new();
        for l in &self.rules {
            let key = rule_key(l.rule.name.as_deref(), l.rule.id.as_deref(), &l.rule.title);
            let hk = header_key(l.rule.id.as_deref(), &l.rule.title);
            let named = |x: Option<&str>| x.is_some_and(|x| quiet.contains(x));
            if named(l.rule.id.as_deref()) || named(l.rule.name.as_deref()) {
                silent.insert(hk.clone());
            } else {
                entries.push(self.entry(&key, &l.meta));
            }
            meta.insert(hk, (key, l.meta.clone()));
        }
        for l in &self.correlations {
            let key = rule_key(l.rule.name.as_deref(), l.rule.id.as_deref(), &l.rule.title);
            entries.push(self.entry(&key, &l.meta));
            meta.insert(
                header_key(l.rule.id.as_deref(), &l.rule.title),
                (key, l.meta.clone()),
            );
        }
        let habits = self.rules.iter().any(|l| l.meta.context.is_some())
            || self.correlations.iter().any(|l| l.meta.context.is_some());
        SigmaDetector {
            engines,
            refused_only: HashMap::new(),
            last_match: HashMap::new(),
            meta,
            silent,
            texts: HashMap::new(),
            entries,
            horizon,
            habits,
            contexts: HashMap::new(),
        }
    }

    /// Rules with `|expand` placeholders that `config.placeholders` does not define
    /// do not load: the engine would compare the field with an empty value, and a
    /// `not filter` built on one (SigmaHQ's `%admins%` style) would match every event.
    /// Each becomes a problem naming the placeholders, and so does a correlation that
    /// reads such a rule.
    fn drop_unresolved(&mut self, config: &Config) {
        let mut dropped: Vec<String> = Vec::new();
        let mut problems = Vec::new();
        self.rules.retain(|l| {
            let missing = unresolved(&l.rule, config);
            if missing.is_empty() {
                return true;
            }
            let names: Vec<String> = missing.iter().map(|m| format!("%{m}%")).collect();
            problems.push((
                rule_key(l.rule.name.as_deref(), l.rule.id.as_deref(), &l.rule.title),
                l.rule.title.clone(),
                format!(
                    "placeholder {} has no values: give them with --placeholder NAME=FILE (one value a line) or detection.placeholders in --config; without them the rule would match every event its filter should exclude",
                    names.join(", ")
                ),
            ));
            dropped.extend(l.rule.id.iter().cloned());
            dropped.extend(l.rule.name.iter().cloned());
            false
        });
        self.correlations.retain(|l| {
            let Some(r) = l.rule.rules.iter().find(|r| dropped.contains(r)) else {
                return true;
            };
            problems.push((
                rule_key(l.rule.name.as_deref(), l.rule.id.as_deref(), &l.rule.title),
                l.rule.title.clone(),
                format!("reads rule {r:?}, which did not load"),
            ));
            false
        });
        for (key, title, reason) in problems {
            let origin = match self.infos.iter().position(|i| i.key == key) {
                Some(at) => self.infos.remove(at).origin,
                None => self.keys.get(&key).cloned().unwrap_or_default(),
            };
            self.problem(&origin, Some(&title), reason);
        }
    }

    /// A rule's catalog entry: its key (what its findings carry as `detector`), the
    /// file it came from, its spec.
    fn entry(&self, key: &str, meta: &Meta) -> Entry {
        Entry {
            source: key.to_string(),
            origin: self.keys.get(key).cloned().unwrap_or_default(),
            spec: meta.spec.clone(),
        }
    }
}

fn info(
    key: &str,
    title: &str,
    correlation: bool,
    origin: &str,
    meta: &Meta,
    families: &[Family],
) -> RuleInfo {
    RuleInfo {
        key: key.to_string(),
        title: title.to_string(),
        correlation,
        origin: origin.to_string(),
        finding_type: meta.finding_type.clone(),
        severity: meta.severity,
        families: families.to_vec(),
    }
}

fn rule_key(name: Option<&str>, id: Option<&str>, title: &str) -> String {
    name.or(id).unwrap_or(title).to_string()
}

/// How an engine result names its rule: the id, else the title.
fn header_key(id: Option<&str>, title: &str) -> String {
    id.unwrap_or(title).to_string()
}

/// The `|expand` placeholders of a rule that `config.placeholders` leaves undefined.
fn unresolved(rule: &SigmaRule, config: &Config) -> Vec<String> {
    use rsigma_parser::{Detection, Modifier, SigmaValue};
    fn walk(d: &Detection, out: &mut Vec<String>) {
        match d {
            Detection::AllOf(items) => {
                for i in items
                    .iter()
                    .filter(|i| i.field.modifiers.contains(&Modifier::Expand))
                {
                    for v in &i.values {
                        if let SigmaValue::String(s) = v {
                            let text = s.as_plain().unwrap_or_else(|| s.original.clone());
                            names(&text, out);
                        }
                    }
                }
            }
            Detection::AnyOf(subs) | Detection::And(subs) => {
                subs.iter().for_each(|d| walk(d, out));
            }
            Detection::ArrayMatch { body, .. } => walk(body, out),
            Detection::Conditional { named, .. } => named.values().for_each(|d| walk(d, out)),
            Detection::Keywords(_) => {}
        }
    }
    fn names(text: &str, out: &mut Vec<String>) {
        let mut rest = text;
        while let Some(start) = rest.find('%') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('%') else { break };
            let name = &after[..end];
            if !name.is_empty() && !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
            rest = &after[end + 1..];
        }
    }
    let mut all = Vec::new();
    for d in rule.detection.named.values() {
        walk(d, &mut all);
    }
    // A placeholder given no values (an empty or all-blank file, an empty list) is
    // as good as none: the rule would match every event its filter should exclude.
    all.retain(|n| {
        !config
            .placeholders
            .get(n)
            .is_some_and(|v| v.iter().any(|s| !s.trim().is_empty()))
    });
    all.sort();
    all
}

fn placeholder_pipeline(config: &Config) -> Result<rsigma_eval::Pipeline, String> {
    let yaml = serde_json::json!({
        "name": "keibi placeholders",
        "vars": config.placeholders,
        "transformations": [{"type": "value_placeholders"}],
    })
    .to_string();
    rsigma_eval::parse_pipeline(&yaml).map_err(|e| e.to_string())
}

/// The families a logsource routes to; `None` for log sources keibi does not read.
fn families(ls: &LogSource) -> Option<Vec<Family>> {
    let low = |s: &Option<String>| s.as_deref().map(str::to_ascii_lowercase);
    let (cat, product, service) = (low(&ls.category), low(&ls.product), low(&ls.service));
    match product.as_deref() {
        Some("postgresql" | "postgres") => Some(vec![Family::Postgres]),
        Some("mysql" | "mariadb") => Some(vec![Family::Mysql]),
        Some("aws") => match service.as_deref() {
            None | Some("cloudtrail") => Some(vec![Family::Cloudtrail]),
            Some(_) => None,
        },
        None if service.as_deref() == Some("cloudtrail") => Some(vec![Family::Cloudtrail]),
        None if cat.as_deref() == Some("database") => Some(vec![Family::Postgres, Family::Mysql]),
        _ => None,
    }
}

fn build_meta(
    attrs: &HashMap<String, yaml_serde::Value>,
    title: &str,
    description: Option<&str>,
    level: Option<rsigma_parser::Level>,
    tags: &[String],
    // What names a community rule's finding type: its `id` (SigmaHQ's are UUIDs),
    // else its `name`, else its title.
    type_key: &str,
    family: Family,
) -> Result<Meta, String> {
    let raw: Option<RawMeta> = match attrs.get("keibi") {
        None => None,
        Some(v) => {
            Some(yaml_serde::from_value(v.clone()).map_err(|e| format!("`keibi:` metadata: {e}"))?)
        }
    };
    let parse = |s: &str, what: &str| Template::parse(s).map_err(|e| format!("keibi.{what}: {e}"));
    Ok(match raw {
        None => {
            let finding_type = format!("{}/{type_key}", family.sigma_type_prefix());
            let remediation = "Review the events behind this finding; if the activity is not \
                expected, treat the credentials involved as compromised.";
            let mitre = mitre_from_tags(tags);
            let severity = level_severity(level);
            Meta {
                spec: spec(
                    &finding_type,
                    severity,
                    &mitre,
                    title,
                    remediation,
                    Vec::new(),
                ),
                finding_type,
                severity,
                title: Template::literal(title),
                description: Template::literal(description.unwrap_or(title)),
                remediation: Template::literal(remediation),
                mitre,
                group_by: Vec::new(),
                resource: None,
                ja: None,
                refused: None,
                context: None,
            }
        }
        Some(r) => {
            if let Some(s) = r.severity {
                if !(1.0..=10.0).contains(&s) {
                    return Err(format!("keibi.severity {s} is outside 1.0-10.0"));
                }
            }
            let refused = match r.refused_severity {
                Some(s) if !(1.0..=10.0).contains(&s) => {
                    return Err(format!("keibi.refused_severity {s} is outside 1.0-10.0"));
                }
                Some(s) if family == Family::Cloudtrail => {
                    return Err(format!(
                        "keibi.refused_severity {s}: only database rules read refused statements"
                    ));
                }
                s => s.map(Severity::new),
            };
            let resource = match (r.resource_kind, r.resource_id) {
                (Some(k), Some(i)) => Some((k, i)),
                (None, None) => None,
                _ => return Err("keibi.resource_kind and keibi.resource_id go together".into()),
            };
            let severity = r
                .severity
                .map(Severity::new)
                .unwrap_or_else(|| level_severity(level));
            let mitre = if r.mitre.is_empty() {
                mitre_from_tags(tags)
            } else {
                r.mitre
            };
            let context = match r.context.as_deref() {
                None => None,
                // Catalog reads are learned on the stateful detectors' thread: a rule
                // could not read them in step (see `detectors::baseline::habits`).
                Some(c) => Some(
                    habits::Kind::parse(c)
                        .filter(|k| *k != habits::Kind::Catalog)
                        .ok_or_else(|| {
                            format!("keibi.context {c:?}: a rule's severity can follow the user's `account` or `role` habit")
                        })?,
                ),
            };
            let remediation = r.remediation.unwrap_or_default();
            let title_t = parse(r.title.as_deref().unwrap_or(title), "title")?;
            let description_t = parse(
                r.description.as_deref().or(description).unwrap_or(title),
                "description",
            )?;
            let remediation_t = parse(&remediation, "remediation")?;
            let ja = meta::JaTexts::parse(
                r.title_ja.as_deref(),
                r.description_ja.as_deref(),
                r.remediation_ja,
                [&title_t, &description_t, &remediation_t],
            )?;
            Meta {
                spec: spec(
                    &r.finding_type,
                    severity,
                    &mitre,
                    title,
                    &remediation,
                    r.actions,
                ),
                finding_type: r.finding_type,
                severity,
                title: title_t,
                description: description_t,
                remediation: remediation_t,
                mitre,
                group_by: r.group_by,
                resource,
                ja,
                refused,
                context,
            }
        }
    })
}

fn spec(
    finding_type: &str,
    severity: Severity,
    mitre: &[String],
    title: &str,
    remediation: &str,
    actions: Vec<ActionKind>,
) -> FindingSpec {
    FindingSpec {
        finding_type: finding_type.to_string(),
        default_severity: severity,
        mitre: mitre.to_vec(),
        title: title.to_string(),
        remediation: remediation.to_string(),
        suggested_actions: actions,
    }
}

/// Runs compiled Sigma rules over events: each match raises or grows one finding
/// per (rule, resource, `group_by` values or correlation group).
pub struct SigmaDetector {
    engines: [Option<CorrelationEngine>; 3],
    /// Findings that so far hold only refused attempts, with the server's first error.
    refused_only: HashMap<String, String>,
    /// Per finding of a rule with `refused_severity`: the session and statement of its
    /// last match, so the ERROR that follows a logged statement (pgaudit and
    /// `log_statement` log it before it runs) is not counted as a second attempt.
    last_match: HashMap<String, (Option<u32>, u64)>,
    /// By the engine's name for a rule: (the finding's `detector`, metadata).
    meta: HashMap<String, (String, Arc<Meta>)>,
    /// Detection rules whose matches only feed correlations.
    silent: HashSet<String>,
    /// Title, description and remediation templates bound to each finding's first
    /// event, and the rule's Japanese bound the same way.
    texts: HashMap<String, ([Template; 3], Option<meta::JaTexts>)>,
    /// The catalog entries of the rules that raise findings (not those that only
    /// feed correlations).
    entries: Vec<Entry>,
    /// The longest correlation timespan (zero without correlations: a detection
    /// rule judges each event alone); `None` when a correlation's memory has no
    /// bound in time (a `session` window, an engine extension such as suppression).
    horizon: Option<chrono::Duration>,
    /// Whether a rule's severity depends on the user's habits: this detector then
    /// learns account and role statements (`detectors::baseline::habits`).
    habits: bool,
    /// By finding id: the sentence on the user's habit that set its severity.
    contexts: HashMap<String, keibi_model::Msg>,
}

impl SigmaDetector {
    /// A detector with no rules.
    pub fn empty() -> SigmaDetector {
        RuleSet::default().compile(&Config::default())
    }
}

impl Detector for SigmaDetector {
    fn id(&self) -> &'static str {
        "sigma"
    }

    fn catalog(&self) -> Vec<Entry> {
        self.entries.clone()
    }

    fn replay_horizon(&self) -> Option<chrono::Duration> {
        self.horizon
    }

    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>) {
        let Some(fam) = Family::of(ev.source) else {
            return;
        };
        let Some(engine) = self.engines[fam.index()].as_mut() else {
            return;
        };
        let results = engine.process_event_at(&adapter::View::new(ev), ev.time.timestamp());
        let habit = if self.habits && cx.config.baseline.enabled {
            habits::command_kind(ev)
                .filter(|_| !crate::detectors::activity::ignored(ev, &cx.config.activity))
        } else {
            None
        };
        for r in results {
            let hk = header_key(r.header.rule_id.as_deref(), &r.header.rule_title);
            if r.is_detection() && self.silent.contains(&hk) {
                continue;
            }
            self.raise(&hk, &r.body, ev, None, cx);
        }
        if let Some(error) = refusal(ev) {
            // Judged as the statement it would have been had it run, by the rules
            // with `refused_severity` only, and by detection alone: a refused
            // statement feeds no correlation's window.
            let mut ran = ev.clone();
            ran.action = keibi_model::Action::Statement;
            ran.error_code = None;
            let results = match self.engines[fam.index()].as_ref() {
                Some(engine) => engine.evaluate(&adapter::View::new(&ran)),
                None => Vec::new(),
            };
            for r in results.into_iter().filter(|r| r.is_detection()) {
                let hk = header_key(r.header.rule_id.as_deref(), &r.header.rule_title);
                let refusable = self.meta.get(&hk).is_some_and(|(_, m)| m.refused.is_some());
                if refusable {
                    self.raise(&hk, &r.body, ev, Some(&error), cx);
                }
            }
        }
        // Learned after it is judged: a statement is judged by the habits before it.
        if let (Some(k), Some((instance, user))) = (habit, habits::owner(ev)) {
            let m = habits::maturity(cx.config);
            let seen = habits::Seen::of(ev);
            habits::learn_existing(
                &mut cx.services.baselines.lock(),
                instance,
                user,
                k,
                seen,
                &m,
            );
        }
    }

    /// Correlation windows are rsigma's: a correlation fires on the event that
    /// completes it, never at the end of input. Here only the state of windows that
    /// ended before the watermark is dropped (rsigma drops a window exactly when the
    /// next event would have reset it), so a daemon's memory follows the live windows.
    fn advance(&mut self, watermark: DateTime<Utc>, cx: &mut Context<'_>) {
        self.prune(cx.findings);
        if watermark == DateTime::<Utc>::MAX_UTC {
            return;
        }
        for engine in self.engines.iter_mut().flatten() {
            engine.evict_expired(watermark.timestamp());
        }
    }

    fn render(&mut self, cx: &mut Context<'_>) {
        for (id, (en, ja)) in &self.texts {
            if !cx.findings.needs_render(id) {
                continue;
            }
            if let Some(f) = cx.findings.get_mut(id) {
                let refused = self.refused_only.get(id).map(String::as_str);
                write_texts(f, en, ja.as_ref(), refused, self.contexts.get(id));
            }
        }
    }
}

impl SigmaDetector {
    /// Forgets what is kept per finding (texts, refused attempts, last match, habit
    /// sentence) for the findings the store no longer holds (a daemon forgets closed
    /// findings): these maps follow the store's bound, not the length of the run.
    fn prune(&mut self, findings: &crate::findings::Findings) {
        self.texts.retain(|id, _| findings.holds(id));
        self.refused_only.retain(|id, _| findings.holds(id));
        self.last_match.retain(|id, _| findings.holds(id));
        self.contexts.retain(|id, _| findings.holds(id));
    }

    /// Entries kept per finding, over all the maps (for tests).
    #[cfg(test)]
    pub(crate) fn per_finding_entries(&self) -> usize {
        self.texts.len() + self.refused_only.len() + self.last_match.len() + self.contexts.len()
    }

    /// Raises or grows the finding of rule `hk` for `ev`; `refused` is the server's
    /// error when the statement was refused.
    fn raise(
        &mut self,
        hk: &str,
        body: &ResultBody,
        ev: &Event,
        refused: Option<&str>,
        cx: &mut Context<'_>,
    ) {
        let Some((detector, meta)) = self.meta.get(hk) else {
            return;
        };
        let Some(fam) = Family::of(ev.source) else {
            return;
        };
        let resource = resource_of(ev, meta, fam);
        let mut parts: Vec<String> = vec![resource.id.clone()];
        match body {
            ResultBody::Detection(_) => {
                for f in &meta.group_by {
                    parts.push(meta::field_value(ev, f));
                }
            }
            ResultBody::Correlation(c) => {
                parts.extend(c.group_key.iter().map(|(_, v)| v.clone()));
            }
        }
        let key: Vec<&str> = parts.iter().map(String::as_str).collect();
        // The user's habit, for a rule whose severity depends on it (`keibi: context:`).
        let context = meta
            .context
            .map(|k| judge_habit(ev, k, cx.config, &cx.services.baselines));
        let in_context = |s: Severity| {
            context
                .as_ref()
                .map_or(s, |c| Severity::new(habits::adjust(s.value(), c)))
        };
        let full = in_context(meta.severity);
        let severity = match (refused, meta.refused) {
            (Some(_), Some(s)) => in_context(s),
            _ => full,
        };
        let f = cx.findings.raise(Raise {
            detector,
            finding_type: &meta.finding_type,
            key: &key,
            severity,
            resource,
            time: ev.time,
        });
        let first = f.count == 0;
        let this = meta.refused.map(|_| {
            let text = ev.statement.as_deref().map_or("", |s| s.text.as_str());
            (ev.pid, hash_of(text))
        });
        if refused.is_some()
            && !first
            && this.is_some()
            && self.last_match.get(&f.id) == this.as_ref()
        {
            // The ERROR after the statement already counted: the same attempt.
            return;
        }
        if let Some(this) = this {
            self.last_match.insert(f.id.clone(), this);
        }
        f.absorb(ev);
        let was_refused = self.refused_only.contains_key(&f.id);
        match refused {
            Some(error) if first => {
                self.refused_only.insert(f.id.clone(), error.to_string());
            }
            None if was_refused => {
                // A success after refused attempts: the finding rises to the rule's
                // severity and reads as the rule's own.
                self.refused_only.remove(&f.id);
                if full.value() > f.severity.value() {
                    f.severity = full;
                }
            }
            _ => {}
        }
        // The first match sets the severity in context; a later one only raises it.
        let mut rewrite = false;
        if let Some(c) = &context {
            if first || severity > f.severity {
                rewrite = !first && severity > f.severity;
                if rewrite {
                    f.severity = severity;
                }
                match c.msg() {
                    Some(m) => self.contexts.insert(f.id.clone(), m.clone()),
                    None => self.contexts.remove(&f.id),
                };
            }
        }
        if rewrite && !(refused.is_none() && was_refused) {
            if let Some((en, ja)) = self.texts.get(&f.id) {
                let error = self.refused_only.get(&f.id).map(String::as_str);
                write_texts(f, en, ja.as_ref(), error, self.contexts.get(&f.id));
            }
        }
        if first || (refused.is_none() && was_refused) {
            f.mitre.clone_from(&meta.mitre);
            let en = [
                meta.title.bind(ev),
                meta.description.bind(ev),
                meta.remediation.bind(ev),
            ];
            let ja = meta.ja.as_ref().map(|j| j.bind(ev));
            let error = self.refused_only.get(&f.id).map(String::as_str);
            write_texts(f, &en, ja.as_ref(), error, self.contexts.get(&f.id));
            self.texts.insert(f.id.clone(), (en, ja));
        }
    }
}

/// The server's error when `ev` is a statement the server refused for want of a
/// privilege: a PostgreSQL ERROR whose STATEMENT names it (SQLSTATE 42501, or the
/// message when the log has no SQLSTATE), a MySQL/MariaDB audit QUERY with an
/// access-denied retcode. Other errors (a syntax error, a role that already exists)
/// are not refusals of a dangerous act.
fn refusal(ev: &Event) -> Option<String> {
    use keibi_model::Action;
    ev.statement.as_ref()?;
    let code = ev.error_code.as_deref();
    let msg = ev.message.as_deref().unwrap_or("");
    match (ev.action, Family::of(ev.source)?) {
        (Action::Other, Family::Postgres) => {
            let level = ev.level.as_deref().unwrap_or("");
            if !level.eq_ignore_ascii_case("ERROR") {
                return None;
            }
            let denied = match code {
                Some(c) => c == "42501",
                None => PG_DENIED.iter().any(|p| msg.starts_with(p)),
            };
            denied.then(|| bounded_error(msg, code))
        }
        (Action::Statement, Family::Mysql) => {
            let c = code?;
            MYSQL_DENIED
                .contains(&c)
                .then(|| bounded_error(msg, Some(c)))
        }
        _ => None,
    }
}

/// How PostgreSQL words a refusal for want of a privilege (SQLSTATE 42501).
const PG_DENIED: &[&str] = &[
    "permission denied",
    "must be superuser",
    "must be owner",
    "must have ",
    "must be a member",
    "only superusers",
];

/// MySQL/MariaDB errors of a statement refused for want of a privilege: access denied
/// (1044, 1045, 1227), command denied (1142, 1143, 1370), not allowed to create users
/// (1211, 1410), `--secure-file-priv` (1290), SUPER needed with binary logging (1419).
const MYSQL_DENIED: &[&str] = &[
    "1044", "1045", "1142", "1143", "1211", "1227", "1290", "1370", "1410", "1419",
];

/// The server's error as evidence: its message (bounded), else its code.
fn bounded_error(msg: &str, code: Option<&str>) -> String {
    let msg: String = msg.chars().take(300).collect();
    match (msg.is_empty(), code) {
        (false, _) => msg,
        (true, Some(c)) => format!("error {c}"),
        (true, None) => "error".to_string(),
    }
}

fn hash_of(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// A finding's texts from its rule's bound templates. A rule with Japanese gives
/// its findings both renderings as messages (`rule-text`: each language shows its
/// own, a text without Japanese shows the English); the English strings are the
/// same either way. A rule without Japanese keeps English strings only.
fn write_texts(
    f: &mut keibi_model::Finding,
    en: &[Template; 3],
    ja: Option<&meta::JaTexts>,
    refused: Option<&str>,
    context: Option<&keibi_model::Msg>,
) {
    if let Some(error) = refused {
        let none = meta::JaTexts::default();
        return write_refused(f, en, ja.unwrap_or(&none), error, context);
    }
    let [t, d, r] = en;
    let no_ja = meta::JaTexts::default();
    // A sentence on the user's habit is a message: the texts go through the catalog.
    let ja = ja.or(context.map(|_| &no_ja));
    let Some(ja) = ja else {
        f.title = t.finish(f);
        f.description = d.finish(f);
        f.remediation = r.finish(f);
        return;
    };
    let both = |en: &Template, ja: Option<&Template>, f: &keibi_model::Finding| {
        keibi_model::Msg::new("rule-text")
            .arg("en", en.finish_arg(f, false))
            .arg("ja", ja.unwrap_or(en).finish_arg(f, true))
    };
    let title = both(t, ja.title.as_ref(), f);
    let mut description = vec![both(d, ja.description.as_ref(), f)];
    description.extend(context.cloned());
    let remediation = match ja.remediation.split_first() {
        None => vec![both(r, None, f)],
        Some((first, rest)) => {
            let mut steps = vec![both(r, Some(first), f)];
            // The English is one text: the later steps are Japanese only.
            let none = Template::default();
            steps.extend(rest.iter().map(|s| both(&none, Some(s), f)));
            steps
        }
    };
    crate::text::set(
        f,
        keibi_model::FindingText {
            title: Some(title),
            description,
            remediation,
        },
    );
}

/// The texts of a finding that holds only refused attempts: the rule's title marked
/// "refused", its description, and the server's error.
fn write_refused(
    f: &mut keibi_model::Finding,
    en: &[Template; 3],
    ja: &meta::JaTexts,
    error: &str,
    context: Option<&keibi_model::Msg>,
) {
    let [t, d, r] = en;
    let both = |en: &Template, ja: Option<&Template>, f: &keibi_model::Finding| {
        keibi_model::Msg::new("rule-text")
            .arg("en", en.finish_arg(f, false))
            .arg("ja", ja.unwrap_or(en).finish_arg(f, true))
    };
    let title = keibi_model::Msg::new("refused-title").arg("title", both(t, ja.title.as_ref(), f));
    let mut description = vec![
        keibi_model::Msg::new("refused-error").arg("error", error),
        both(d, ja.description.as_ref(), f),
    ];
    description.extend(context.cloned());
    let mut remediation = vec![keibi_model::Msg::new("refused-remediation")];
    match ja.remediation.split_first() {
        None => remediation.push(both(r, None, f)),
        Some((first, rest)) => {
            remediation.push(both(r, Some(first), f));
            let none = Template::default();
            remediation.extend(rest.iter().map(|s| both(&none, Some(s), f)));
        }
    }
    crate::text::set(
        f,
        keibi_model::FindingText {
            title: Some(title),
            description,
            remediation,
        },
    );
}

/// What the user's habit of kind `k` says about a matching statement (the Sigma
/// thread reads only the kinds it learns itself: see `detectors::baseline::habits`).
fn judge_habit(
    ev: &Event,
    k: habits::Kind,
    config: &Config,
    store: &crate::detectors::baseline::BaselineStore,
) -> habits::Context {
    let Some((instance, user)) = habits::owner(ev).filter(|_| config.baseline.enabled) else {
        return habits::Context::Unknown;
    };
    let settle = config.baseline.settle_secs.max(0);
    let seen = habits::Seen::of(ev);
    habits::judge(&store.lock(), instance, user, k, seen, settle, false)
}

fn resource_of(ev: &Event, meta: &Meta, fam: Family) -> Resource {
    match (&meta.resource, fam) {
        (Some((kind, field)), _) => Resource {
            kind: kind.clone(),
            id: meta::field_value(ev, field),
            engine: ev.source.engine(),
            ..Default::default()
        },
        (None, Family::Cloudtrail) => Resource {
            kind: "aws_account".to_string(),
            id: meta::field_value(ev, "recipientAccountId"),
            engine: None,
            ..Default::default()
        },
        (None, _) => db_resource(ev),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod feature_tests;

#[cfg(test)]
mod tests_i18n;
