//! docs/ja/findings.md against the finding catalog (`keibi rules list`): every type
//! keibi can raise has its section, with each of its default severities and exactly
//! its MITRE ids, and no section names a type the catalog does not have.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

#[derive(Default)]
struct Entry {
    severities: BTreeSet<String>,
    mitre: BTreeSet<String>,
}

#[test]
fn docs_ja_findings_lists_every_type_of_the_catalog_with_its_severity_and_mitre() {
    let out = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(["rules", "list", "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut catalog: BTreeMap<String, Entry> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let e = catalog
            .entry(v["type"].as_str().unwrap().to_string())
            .or_default();
        e.severities
            .insert(format!("{:.1}", v["default_severity"].as_f64().unwrap()));
        for m in v["mitre"].as_array().unwrap() {
            e.mitre.insert(m.as_str().unwrap().to_string());
        }
    }
    assert!(catalog.len() >= 40, "{}", catalog.len());

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/ja/findings.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let mut sections: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        if let Some(t) = line.strip_prefix("### ") {
            assert!(
                sections.insert(t.to_string(), Default::default()).is_none(),
                "{t} twice"
            );
            current = Some(t.to_string());
        } else if let Some(t) = &current {
            let s = sections.get_mut(t).unwrap();
            if let Some(v) = line.strip_prefix("- 重要度: ") {
                s.0 = v.to_string();
            } else if let Some(v) = line.strip_prefix("- MITRE ATT&CK: ") {
                s.1 = v.to_string();
            }
        }
    }
    let documented: BTreeSet<&String> = sections.keys().collect();
    let known: BTreeSet<&String> = catalog.keys().collect();
    assert_eq!(documented, known, "docs/ja/findings.md vs keibi rules list");
    for (t, e) in &catalog {
        let (sev, mitre) = &sections[t];
        for s in &e.severities {
            assert!(
                sev.split(['、', ' ']).any(|w| w == s),
                "{t}: severity {s} not in {sev:?}"
            );
        }
        let listed: BTreeSet<String> = mitre.split(", ").map(str::to_string).collect();
        assert_eq!(listed, e.mitre, "{t}: MITRE");
    }
}

/// The first-column keys of the settings tables (`` `detection.login.spray_users` ``).
fn setting_keys(doc: &str) -> BTreeSet<String> {
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(k, _)| k.to_string()))
        .filter(|k| k.contains('.') && !k.contains(' '))
        .collect()
}

#[test]
fn docs_ja_configuration_has_every_setting_of_the_english_page() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    let en = std::fs::read_to_string(docs.join("configuration.md")).unwrap();
    let ja = std::fs::read_to_string(docs.join("ja/configuration.md")).unwrap();
    let (en, ja) = (setting_keys(&en), setting_keys(&ja));
    assert!(en.len() > 60, "{}", en.len());
    assert_eq!(ja, en, "docs/ja/configuration.md vs docs/configuration.md");
}
