//! The built-in CloudTrail rules' Japanese texts (`title_ja`, `description_ja`,
//! `remediation_ja` in each rule's `keibi:` block): every rule has all three, with
//! the same `{placeholders}` as its English, and the remediation as a list of steps
//! (numbered when rendered), one of which gives the `aws` command.

use std::collections::BTreeSet;

use yaml_serde::Value;

fn placeholders(s: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(close) = rest.find('}') {
            out.insert(rest[..close].to_string());
            rest = &rest[close + 1..];
        }
    }
    out
}

#[test]
fn every_builtin_cloudtrail_rule_has_its_japanese_with_the_english_placeholders() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/cloudtrail");
    let mut rules = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in text.split("\n---\n") {
            let rule: Value = yaml_serde::from_str(doc).unwrap();
            let name = rule["name"].as_str().unwrap_or("?").to_string();
            let keibi = &rule["keibi"];
            let steps: Vec<&str> = keibi["remediation_ja"]
                .as_sequence()
                .unwrap_or_else(|| panic!("{name}: remediation_ja is a list of steps"))
                .iter()
                .map(|s| s.as_str().unwrap_or_default())
                .collect();
            let all_steps = steps.join("\n");
            for key in ["title", "description", "remediation"] {
                let en = keibi[key].as_str().unwrap_or_default();
                let ja = match key {
                    "remediation" => all_steps.as_str(),
                    _ => keibi[format!("{key}_ja").as_str()]
                        .as_str()
                        .unwrap_or_else(|| panic!("{name}: no {key}_ja")),
                };
                assert_eq!(placeholders(en), placeholders(ja), "{name}: {key}_ja");
                assert!(
                    ja.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)),
                    "{name}: {key}_ja is not Japanese"
                );
                assert!(!ja.contains("by {user}"), "{name}: {key}_ja");
            }
            for step in &steps {
                assert!(
                    !step.is_empty() && !step.starts_with(|c: char| c.is_ascii_digit()),
                    "{name}: a step is not numbered by hand: {step}"
                );
            }
            assert!(
                all_steps.contains("`aws "),
                "{name}: a step gives the aws command"
            );
            rules += 1;
        }
    }
    assert_eq!(rules, 31, "every built-in CloudTrail rule");
}
