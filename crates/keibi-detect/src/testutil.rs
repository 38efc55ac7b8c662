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
