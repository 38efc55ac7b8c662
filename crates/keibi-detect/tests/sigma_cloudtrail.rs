//! Community-style Sigma rules for CloudTrail load as published (no `keibi:`
//! metadata) and match the native record's field names.
//!
//! The rules in `tests/data/sigma-cloudtrail/` are written for keibi in SigmaHQ's
//! style and exercise what SigmaHQ's CloudTrail rules use: dotted nested fields,
//! lists, `contains|all`, `startswith`, `endswith`, `re`, `cidr`, `exists`, `lt`,
//! `fieldref`, `null`, keyword search, `1 of selection_*` and `not 1 of filter_*`.
//! `records.json` holds, for each rule, records that must match it (`eventID`
//! `hit-<first 8 characters of the rule id>-N`) and near-misses (`miss-...`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use keibi_detect::sigma::RuleSet;
use keibi_detect::{Config, Detector, Scanner, ThreatLists};
use keibi_model::finding::Evidence;
use keibi_model::{Event, Finding};
use keibi_parse::{detect, Output, ParseConfig};

fn data() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sigma-cloudtrail"
    ))
}

/// Every `.yml` file of the folder, as `keibi scan --rules DIR` reads them.
fn rules() -> RuleSet {
    let mut set = RuleSet::default();
    let mut files: Vec<_> = std::fs::read_dir(data())
        .expect("test data folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    files.sort();
    for p in files {
        let text = std::fs::read_to_string(&p).expect("rule file");
        set.add_source(&p.display().to_string(), &text);
    }
    set
}

fn records() -> Vec<Event> {
    let text = std::fs::read(data().join("records.json")).expect("records.json");
    let format = detect(&text, true).expect("records are detected as CloudTrail");
    let mut p = format.parser(&ParseConfig::new("records.json"));
    let mut out = Output::new();
    p.push(&text, &mut out);
    p.finish(&mut out);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    out.events
}

fn scan(set: &mut RuleSet) -> Vec<Finding> {
    let config = Config::default();
    let sigma = set.compile(&config);
    assert!(set.problems().is_empty(), "{:#?}", set.problems());
    let detectors: Vec<Box<dyn Detector>> = vec![Box::new(sigma)];
    let mut s = Scanner::with_detectors(config, ThreatLists::default(), detectors);
    for e in records() {
        s.observe(&e);
    }
    s.finish().findings
}

fn event_ids(f: &Finding) -> BTreeSet<String> {
    f.evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::Event { event_id, .. } => Some(event_id.clone()),
            Evidence::Line { .. } | Evidence::Observed { .. } => None,
        })
        .collect()
}

#[test]
fn every_rule_loads_for_cloudtrail() {
    let set = rules();
    assert!(set.problems().is_empty(), "{:#?}", set.problems());
    assert_eq!(set.skipped(), 0);
    assert_eq!(set.rules().len(), 9);
    for r in set.rules() {
        assert_eq!(r.families.len(), 1, "{}", r.key);
        assert_eq!(r.families[0].as_str(), "cloudtrail", "{}", r.key);
    }
}

#[test]
fn each_rule_matches_its_records_and_none_of_its_near_misses() {
    let mut set = rules();
    let ids: Vec<String> = set.rules().iter().map(|r| r.key.clone()).collect();
    let findings = scan(&mut set);
    let mut by_rule: BTreeMap<String, &Finding> = BTreeMap::new();
    for f in &findings {
        assert!(
            by_rule.insert(f.detector.clone(), f).is_none(),
            "one finding per rule and account: {f:#?}"
        );
    }
    let all_ids: BTreeSet<String> = records()
        .iter()
        .filter_map(|e| e.session_id.as_deref().map(str::to_string))
        .collect();
    for id in &ids {
        let prefix = format!("hit-{}-", &id[..8]);
        let want: BTreeSet<String> = all_ids
            .iter()
            .filter(|e| e.starts_with(&prefix))
            .cloned()
            .collect();
        assert!(!want.is_empty(), "rule {id} has no records");
        let f = by_rule
            .get(id)
            .unwrap_or_else(|| panic!("rule {id} matched nothing"));
        assert_eq!(event_ids(f), want, "rule {id}");
        assert_eq!(f.count as usize, want.len(), "rule {id}");
    }
    assert_eq!(by_rule.len(), ids.len(), "{findings:#?}");
}

#[test]
fn findings_carry_the_rule_id_level_title_and_tags() {
    let mut set = rules();
    let findings = scan(&mut set);
    let f = |id: &str| {
        findings
            .iter()
            .find(|f| f.detector == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    let snap = f("a2c7bcf6-278f-48db-8258-e51e1467e894");
    assert_eq!(
        snap.finding_type,
        "Sigma:CloudTrail/a2c7bcf6-278f-48db-8258-e51e1467e894"
    );
    assert_eq!(snap.title, "AWS RDS Snapshot Restorable By Any Account");
    assert_eq!(snap.mitre, vec!["T1537"]);
    assert_eq!(snap.resource.kind, "aws_account");
    assert_eq!(snap.resource.id, "123456789012");
    assert_eq!(
        snap.actor.user.as_deref(),
        Some("arn:aws:iam::123456789012:user/alice")
    );
    // Levels: informational 1.0, low 3.0, medium 5.0, high 7.5, critical 9.5.
    for (id, sev) in [
        ("bc53e428-9590-4de1-8de8-febd94fcf0e7", 1.0),
        ("0c56f8f7-99c2-4fec-a624-910629220bf0", 3.0),
        ("dc249674-70a7-49dc-ac23-3249c4930450", 5.0),
        ("f1d157d1-aa04-41d6-a09f-fd0fcd023eeb", 7.5),
        ("a5463fd2-7cbb-4029-a759-2c3a428ab9bf", 9.5),
    ] {
        assert_eq!(f(id).severity.value(), sev, "{id}");
    }
    assert_eq!(
        f("dc249674-70a7-49dc-ac23-3249c4930450").mitre,
        vec!["T1136.003", "T1098"]
    );
}

#[test]
fn an_unsupported_rule_is_named_with_its_reason_and_the_others_load() {
    let mut set = rules();
    set.add_source(
        "bad.yml",
        "title: Uses a modifier nobody knows\nid: 72f1d803-9b17-4bc6-9602-37a007f22580\n\
         logsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    \
         eventName|sounds_like: StopLogging\n  condition: sel\nlevel: high\n",
    );
    let p = set.problems();
    assert_eq!(p.len(), 1, "{p:#?}");
    // rsigma-parser rejects an unknown modifier while reading the document, before
    // the rule has a title: the problem names the file and the modifier.
    assert_eq!(p[0].origin, "bad.yml");
    assert!(p[0].reason.contains("sounds_like"), "{}", p[0]);
    assert_eq!(set.rules().len(), 9);
}
