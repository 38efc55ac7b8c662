//! Helpers for detector and rule tests: real log text in, findings out.

#![allow(dead_code)] // helpers used by some detectors' tests only

use keibi_model::{Event, Finding};
use keibi_parse::{detect, Output, ParseConfig};

use crate::config::Config;
use crate::detector::Detector;
use crate::iplist::ThreatLists;
use crate::scanner::Scanner;
use crate::sigma::RuleSet;

/// Parses log text (format detected as `keibi events` does) into events, sorted
/// by time. `file` names the source for evidence; `instance` is the instance id.
pub(crate) fn events(file: &str, instance: &str, text: &str) -> Vec<Event> {
    let format = detect(text.as_bytes(), true).expect("test log format is detected");
    let mut cfg = ParseConfig::new(file);
    cfg.instance = Some(instance.to_string());
    let mut p = format.parser(&cfg);
    let mut out = Output::new();
    p.push(text.as_bytes(), &mut out);
    p.finish(&mut out);
    assert!(
        out.problems.is_empty(),
        "test log has unrecognized lines: {:?}",
        out.problems
    );
    let mut evs = out.events;
    evs.sort_by_key(|e| e.time);
    evs
}

/// Runs the given detectors over events.
pub(crate) fn run(
    detectors: Vec<Box<dyn Detector>>,
    config: Config,
    lists: ThreatLists,
    evs: &[Event],
) -> Vec<Finding> {
    let mut s = Scanner::with_detectors(config, lists, detectors);
    for e in evs {
        s.observe(e);
    }
    s.finish().findings
}

/// Runs the built-in rules and detectors (the whole `keibi scan`) over events.
pub(crate) fn scan(config: Config, lists: ThreatLists, evs: &[Event]) -> Vec<Finding> {
    let mut rules = RuleSet::builtin();
    assert!(rules.problems().is_empty(), "{:?}", rules.problems());
    let sigma = rules.compile(&config);
    assert!(rules.problems().is_empty(), "{:?}", rules.problems());
    let mut s = Scanner::new(config, lists, sigma);
    for e in evs {
        s.observe(e);
    }
    s.finish().findings
}

/// Runs only the Sigma rules of one YAML text over events.
pub(crate) fn run_rules(yaml: &str, config: Config, evs: &[Event]) -> Vec<Finding> {
    let mut rules = RuleSet::default();
    rules.add_source("test.yml", yaml);
    assert!(rules.problems().is_empty(), "{:?}", rules.problems());
    let sigma = rules.compile(&config);
    assert!(rules.problems().is_empty(), "{:?}", rules.problems());
    run(vec![Box::new(sigma)], config, ThreatLists::default(), evs)
}

/// Findings of one type.
pub(crate) fn of_type<'a>(findings: &'a [Finding], t: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.finding_type == t).collect()
}

/// Every message a finding's texts build, the nested ones too (`Msg`, `Join` and
/// `Concat` arguments).
pub(crate) fn messages(f: &Finding) -> Vec<&keibi_model::Msg> {
    use keibi_model::{Arg, Msg};
    fn walk<'a>(m: &'a Msg, out: &mut Vec<&'a Msg>) {
        out.push(m);
        for (_, a) in &m.args {
            walk_arg(a, out);
        }
    }
    fn walk_arg<'a>(a: &'a Arg, out: &mut Vec<&'a Msg>) {
        match a {
            Arg::Msg(inner) => walk(inner, out),
            Arg::Join(items) => items.iter().for_each(|m| walk(m, out)),
            Arg::Concat(parts) => parts.iter().for_each(|p| walk_arg(p, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(t) = &f.text {
        for m in t.title.iter().chain(&t.description).chain(&t.remediation) {
            walk(m, &mut out);
        }
    }
    out
}

/// Checks every message `fs` build against both languages' catalogs: each id is in
/// every catalog, every variable a catalog uses is given by the code, and every
/// variable given is used — by every language when `each_language`, else by one at
/// least (a command only the Japanese steps spell out). Returns the ids seen.
pub(crate) fn check_catalogs(
    fs: &[Finding],
    each_language: bool,
) -> std::collections::BTreeSet<String> {
    use std::collections::{BTreeMap, BTreeSet};
    let catalogs: Vec<BTreeMap<String, Vec<String>>> = keibi_i18n::Lang::ALL
        .iter()
        .map(|l| keibi_i18n::catalog_ids(*l).into_iter().collect())
        .collect();
    let mut seen = BTreeSet::new();
    for f in fs {
        assert!(f.text.is_some(), "{} carries its messages", f.finding_type);
        for m in messages(f) {
            seen.insert(m.id.clone());
            let given: BTreeSet<&str> = m.args.iter().map(|(n, _)| n.as_str()).collect();
            let mut used_somewhere = BTreeSet::new();
            for (lang, cat) in keibi_i18n::Lang::ALL.iter().zip(&catalogs) {
                let vars = cat
                    .get(&m.id)
                    .unwrap_or_else(|| panic!("{} is not in the {lang} catalog", m.id));
                let used: BTreeSet<&str> = vars.iter().map(String::as_str).collect();
                for v in &used {
                    assert!(
                        given.contains(v),
                        "{lang} {} uses ${v}, which the code does not give",
                        m.id
                    );
                }
                if each_language {
                    assert_eq!(used, given, "{lang} {}: variables used vs given", m.id);
                }
                used_somewhere.extend(used);
            }
            for g in &given {
                assert!(
                    used_somewhere.contains(g),
                    "{}: ${g} is given but no catalog uses it",
                    m.id
                );
            }
        }
    }
    seen
}
