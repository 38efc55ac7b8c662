//! One scenario folder per finding type, run through the real `keibi scan`.
//!
//! `tests/scenarios/<slug>/expect` names the type (`type: ...`) and optional extra
//! arguments (`args: ...`; a word naming a file in the folder is that file), and
//! optionally a folder of history (`learn: history`) that `keibi learn` reads into a
//! fresh state file before each scan, which then runs with `--state`. Every file under
//! `attack/` together must raise at least one finding of that type; the near-misses
//! under `benign/` must raise none. Adding a scenario is adding a folder.

mod common;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use common::{keibi_scan, Scan};

struct Scenario {
    dir: PathBuf,
    finding_type: String,
    args: Vec<OsString>,
    /// History to learn profiles from before each scan.
    learn: Option<PathBuf>,
}

fn load(dir: &Path) -> Scenario {
    let expect = std::fs::read_to_string(dir.join("expect"))
        .unwrap_or_else(|e| panic!("{}: no expect file: {e}", dir.display()));
    let mut finding_type = None;
    let mut args = Vec::new();
    let mut learn = None;
    for line in expect
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if let Some(t) = line.strip_prefix("type:") {
            finding_type = Some(t.trim().to_string());
        } else if let Some(l) = line.strip_prefix("learn:") {
            learn = Some(dir.join(l.trim()));
        } else if let Some(a) = line.strip_prefix("args:") {
            for word in a.split_whitespace() {
                // A word naming a file in the folder is that file; anything else
                // (flags, account ids, severities) stays as written.
                let path = dir.join(word);
                if !word.starts_with('-') && path.exists() {
                    args.push(path.into_os_string());
                } else {
                    args.push(OsString::from(word));
                }
            }
        } else {
            panic!("{}: expect: cannot read line {line:?}", dir.display());
        }
    }
    Scenario {
        dir: dir.to_path_buf(),
        finding_type: finding_type
            .unwrap_or_else(|| panic!("{}: expect has no `type:` line", dir.display())),
        args,
        learn,
    }
}

fn run(s: &Scenario, part: &str) -> Option<Scan> {
    let path = s.dir.join(part);
    if !path.is_dir() {
        return None;
    }
    let mut args: Vec<&std::ffi::OsStr> = s.args.iter().map(OsString::as_os_str).collect();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let state = tmp.path().join("keibi.state");
    if let Some(history) = &s.learn {
        let out = common::output(
            std::process::Command::new(env!("CARGO_BIN_EXE_keibi"))
                .arg("learn")
                .arg("--state")
                .arg(&state)
                .arg(history),
        );
        assert!(
            out.status.success(),
            "{}: keibi learn failed:\n{}",
            s.dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        args.push("--state".as_ref());
        args.push(state.as_os_str());
    }
    args.push(path.as_os_str());
    let scan = keibi_scan(&args);
    assert_eq!(
        scan.code,
        Some(0),
        "{}/{part}: keibi scan exited {:?}:\n{}",
        s.dir.display(),
        scan.code,
        scan.stderr
    );
    assert!(
        scan.stderr.contains(" 0 unrecognized lines"),
        "{}/{part}: scenario logs must be read completely:\n{}",
        s.dir.display(),
        scan.stderr
    );
    Some(scan)
}

/// What `keibi rules list --format jsonl` declares: (source, type) → action kinds.
fn declared() -> HashMap<(String, String), Vec<String>> {
    let out = common::output(
        std::process::Command::new(env!("CARGO_BIN_EXE_keibi"))
            .args(["rules", "list", "--format", "jsonl"]),
    );
    let mut map = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let e: serde_json::Value = serde_json::from_str(line).expect("catalog line");
        let kinds = e["suggested_actions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let key = (str_of(&e, "source"), str_of(&e, "type"));
        map.insert(key, kinds);
    }
    assert!(!map.is_empty(), "keibi rules list declared nothing");
    map
}

fn str_of(v: &serde_json::Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

/// Every finding a scan raised is declared in the catalog by the detector or rule that
/// raised it, and carries only the kinds of suggested actions its entry declares.
fn undeclared(scan: &Scan, catalog: &HashMap<(String, String), Vec<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for f in &scan.findings {
        let key = (str_of(f, "detector"), str_of(f, "type"));
        let Some(kinds) = catalog.get(&key) else {
            out.push(format!(
                "{} raised {}, which it does not declare",
                key.0, key.1
            ));
            continue;
        };
        for a in f["suggested_actions"].as_array().into_iter().flatten() {
            let k = str_of(a, "action");
            if !kinds.contains(&k) {
                out.push(format!(
                    "{} {} suggests {k}, not declared ({kinds:?})",
                    key.0, key.1
                ));
            }
        }
    }
    out
}

#[test]
fn every_scenario_fires_on_its_attack_and_not_on_its_near_misses() {
    let catalog = declared();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    let mut failures = Vec::new();
    for dir in &dirs {
        let s = load(dir);
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        match run(&s, "attack") {
            None => failures.push(format!("{name}: no attack/ folder")),
            Some(scan) => {
                for u in undeclared(&scan, &catalog) {
                    failures.push(format!("{name}/attack: {u}"));
                }
                if scan.of_type(&s.finding_type).next().is_none() {
                    failures.push(format!(
                        "{name}: attack raised no {}; findings:\n{}",
                        s.finding_type,
                        scan.brief()
                    ));
                }
            }
        }
        match run(&s, "benign") {
            None => failures.push(format!("{name}: no benign/ folder")),
            Some(scan) => {
                for u in undeclared(&scan, &catalog) {
                    failures.push(format!("{name}/benign: {u}"));
                }
                if scan.of_type(&s.finding_type).next().is_some() {
                    failures.push(format!(
                        "{name}: near-misses raised {}; findings:\n{}",
                        s.finding_type,
                        scan.brief()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{} scenarios passed", dirs.len());
}

/// Through a pooler, the brute force is the attacker's, on the instance whose folder
/// holds the pooler's log (not an instance named after the pooler).
#[test]
fn pgbouncer_brute_force_names_the_attacker() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/pgbouncer-bruteforce/attack");
    let scan = keibi_scan(&[dir.as_os_str()]);
    let bf: Vec<_> = scan.of_type("CredentialAccess:RDS/BruteForce").collect();
    assert_eq!(bf.len(), 1, "{}", scan.brief());
    let f = bf[0];
    assert_eq!(
        f.pointer("/actor/ip").and_then(|v| v.as_str()),
        Some("198.51.100.77"),
        "{f}"
    );
    assert_eq!(
        f.pointer("/resource/id").and_then(|v| v.as_str()),
        Some("shop-postgres"),
        "{f}"
    );
    assert_eq!(f.get("count").and_then(|v| v.as_u64()), Some(40), "{f}");
}
