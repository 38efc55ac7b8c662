//! The finding catalog in code (`keibi rules list --format jsonl`: every type each
//! built-in detector and rule declares) against the contract's copy
//! `docs/finding-catalog.md` and the scenario folders under `tests/scenarios/`.
//! `tests/scenarios.rs` checks the other direction: every finding a scenario raises
//! is declared by the detector that raised it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::{keibi_scan, output};
use serde_json::Value;

/// Types of the catalog with no scenario folder, and why.
const NO_SCENARIO_YET: &[(&str, &str)] = &[
    (
        "CredentialAccess:RDS/BruteForce.MultipleInstances",
        "raised by keibi run's second stage over stored findings, not by keibi scan: tests/global.rs and keibi-engine's global tests",
    ),
    (
        "CredentialAccess:RDS/CredentialStuffing.MultipleInstances",
        "raised by keibi run's second stage over stored findings, not by keibi scan: keibi-engine's global tests",
    ),
    (
        "Behavior:IAMUser/MultipleAccounts",
        "raised by keibi run's second stage over stored findings, not by keibi scan: keibi-engine's global tests",
    ),
];

/// Types of the document no detector or rule raises yet, and why.
const NOT_RAISED_YET: &[(&str, &str)] = &[];

fn catalog() -> Vec<Value> {
    let out = output(
        Command::new(env!("CARGO_BIN_EXE_keibi")).args(["rules", "list", "--format", "jsonl"]),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("no {k} in {v}"))
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The document's rows: type → (default severity, MITRE ids). A row may name several
/// types (`A` / `B`); the extension rows under "Extending the catalog" count the same.
fn documented() -> BTreeMap<String, (f64, BTreeSet<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/finding-catalog.md");
    let text = std::fs::read_to_string(&path).expect("docs/finding-catalog.md");
    let mut rows = BTreeMap::new();
    // Type rows are in "## Types" and "## Extending the catalog"; the field table
    // before them has backticked names too.
    let mut in_types = false;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            in_types = h.starts_with("Types") || h.starts_with("Extending the catalog");
        }
        if !in_types || !line.starts_with("| `") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(
            cells.len(),
            4,
            "a catalog row has type, trigger, severity, MITRE: {line}"
        );
        let severity: f64 = cells[2]
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no severity in {line}"));
        let mitre: BTreeSet<String> = cells[3].split(',').map(|m| m.trim().to_string()).collect();
        for t in cells[0].split(" / ") {
            rows.insert(
                t.trim().trim_matches('`').to_string(),
                (severity, mitre.clone()),
            );
        }
    }
    assert!(
        rows.len() > 30,
        "read only {} rows from {}",
        rows.len(),
        path.display()
    );
    rows
}

fn scenario_types() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut types = BTreeMap::new();
    for dir in std::fs::read_dir(&root).expect("scenarios").flatten() {
        let Ok(expect) = std::fs::read_to_string(dir.path().join("expect")) else {
            continue;
        };
        for t in expect
            .lines()
            .filter_map(|l| l.trim().strip_prefix("type:"))
        {
            types.insert(
                t.trim().to_string(),
                dir.file_name().to_string_lossy().into_owned(),
            );
        }
    }
    types
}

#[test]
fn every_catalog_type_is_documented_with_its_default_severity_and_mitre() {
    let docs = documented();
    let mut by_type: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    let cat = catalog();
    for e in &cat {
        by_type.entry(s(e, "type").to_string()).or_default().push(e);
    }
    let mut problems = Vec::new();
    for (t, entries) in &by_type {
        let Some((severity, mitre)) = docs.get(t) else {
            problems.push(format!(
                "{t} (from {}) is not in docs/finding-catalog.md",
                s(entries[0], "source")
            ));
            continue;
        };
        // One severity for the type: it is the document's. Rules that grade a type
        // (a plain new role 4.0, a superuser one 7.5) must bracket the default.
        let sev: Vec<f64> = entries
            .iter()
            .filter_map(|e| e["default_severity"].as_f64())
            .collect();
        let (lo, hi) = sev
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
        let ok = if lo == hi {
            lo == *severity
        } else {
            (lo..=hi).contains(severity)
        };
        if !ok {
            problems.push(format!("{t}: code says {sev:?}, the document {severity}"));
        }
        for e in entries {
            let got = strings(&e["mitre"]);
            if !mitre.is_subset(&got) {
                problems.push(format!(
                    "{t} ({}): MITRE {got:?}, the document {mitre:?}",
                    s(e, "source")
                ));
            }
            if s(e, "title").is_empty() || s(e, "remediation").is_empty() {
                problems.push(format!("{t} ({}): no title or remediation", s(e, "source")));
            }
        }
    }
    for t in docs.keys() {
        let excused = NOT_RAISED_YET.iter().any(|(x, _)| x == t);
        if !by_type.contains_key(t) && !excused {
            problems.push(format!("{t} is documented but nothing raises it"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_catalog_type_has_a_scenario_and_every_scenario_a_catalog_type() {
    let scenarios = scenario_types();
    let types: BTreeSet<String> = catalog().iter().map(|e| s(e, "type").to_string()).collect();
    let mut problems = Vec::new();
    for t in &types {
        let excused = NO_SCENARIO_YET.iter().any(|(x, _)| x == t);
        if !scenarios.contains_key(t) && !excused {
            problems.push(format!("{t} has no folder in tests/scenarios/"));
        }
    }
    for (t, dir) in &scenarios {
        if !types.contains(t) {
            problems.push(format!(
                "scenario {dir} expects {t}, which nothing declares"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn rules_list_shows_the_catalog_as_a_table() {
    let out = output(Command::new(env!("CARGO_BIN_EXE_keibi")).args(["rules", "list"]));
    let text = String::from_utf8_lossy(&out.stdout);
    let head = text.lines().next().unwrap_or_default();
    for col in ["SEVERITY", "TYPE", "MITRE", "SOURCE", "ORIGIN"] {
        assert!(head.contains(col), "{head}");
    }
    let brute = text
        .lines()
        .find(|l| l.contains("CredentialAccess:RDS/BruteForce "))
        .unwrap_or_else(|| panic!("{text}"));
    for cell in ["Medium 5.0", "T1110.001", "login_source", "detector"] {
        assert!(brute.contains(cell), "{brute}");
    }
    assert!(
        text.contains("builtin:database/role-elevated.yml"),
        "{text}"
    );
}

/// A brute force that ends in a login suggests blocking the address, locking the role
/// and ending its sessions, with the finding's own targets.
#[test]
fn a_successful_brute_force_suggests_block_lock_and_end() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios/login-successful-bruteforce/attack");
    let scan = keibi_scan(&[dir.as_os_str()]);
    let f = scan
        .of_type("CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce")
        .next()
        .unwrap_or_else(|| panic!("{:?}", scan.findings));
    let actions = f["suggested_actions"]
        .as_array()
        .expect("suggested_actions");
    let kinds: Vec<&str> = actions
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert_eq!(kinds, ["block_address", "lock_role", "end_sessions"], "{f}");
    assert_eq!(actions[0]["address"], f["actor"]["ip"], "{f}");
    assert_eq!(actions[1]["user"], f["actor"]["user"], "{f}");
    assert_eq!(actions[1]["instance"], f["resource"]["id"], "{f}");
}

/// A public snapshot suggests making it private again, and names the account and
/// region it is in.
#[test]
fn a_public_snapshot_suggests_closing_it_and_names_its_account_and_region() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/ct-snapshot-public/attack");
    let scan = keibi_scan(&[dir.as_os_str()]);
    let f = scan
        .of_type("Exfiltration:RDS/SnapshotPublic")
        .next()
        .unwrap_or_else(|| panic!("{:?}", scan.findings));
    let r = &f["resource"];
    assert!(r["account"].as_str().is_some_and(|a| a.len() == 12), "{f}");
    assert!(r["region"].as_str().is_some_and(|a| a.contains('-')), "{f}");
    let close = f["suggested_actions"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["action"] == "close_public_access"))
        .unwrap_or_else(|| panic!("{f}"));
    assert_eq!(close["resource"], r["id"], "{f}");
    assert_eq!(close["resource_kind"], r["kind"], "{f}");
}

/// A database port opened to the internet suggests revoking exactly what opened it:
/// the security group or ACL, the port and the range, as the call said.
#[test]
fn a_port_opened_to_the_internet_suggests_revoking_that_rule() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/ct-db-port-open/attack");
    let scan = keibi_scan(&[dir.as_os_str()]);
    let mut seen = 0;
    for f in scan.of_type("Policy:EC2/DatabasePortOpenToInternet") {
        let actions = f["suggested_actions"]
            .as_array()
            .unwrap_or_else(|| panic!("{f}"));
        assert!(!actions.is_empty(), "{f}");
        for a in actions {
            assert_eq!(a["action"], "revoke_ingress", "{f}");
            assert_eq!(a["resource"], f["resource"]["id"], "{f}");
            assert_eq!(a["resource_kind"], f["resource"]["kind"], "{f}");
            let cidr = a["cidr"].as_str().unwrap_or_default();
            assert!(cidr == "0.0.0.0/0" || cidr == "::/0", "{f}");
            let port = a["port"].as_str().unwrap_or_default();
            let title = f["title"].as_str().unwrap_or_default();
            assert!(
                port.chars().all(|c| c.is_ascii_digit() || c == '-') || port == "all",
                "{f}"
            );
            let said = if port == "all" {
                "all ports".to_string()
            } else {
                format!("port {port}")
            };
            assert!(
                title.contains(&said) || title.contains(&format!("ports {port}")),
                "{f}"
            );
        }
        seen += 1;
    }
    assert!(seen > 0, "{:?}", scan.findings);
}
