//! `keibi audit --aws-json`: saved AWS CLI outputs in, posture findings out.
//! The estates are `crates/keibi-posture/tests/data/aws/{small,good}` (hand-written
//! AWS CLI JSON; `gen.py` there writes them).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

fn estate(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../keibi-posture/tests/data/aws")
        .join(name)
}

fn audit(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
        .arg("audit")
        .args(args)
        .env("KEIBI_LANG", "en")
        .output()
        .expect("keibi runs")
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("one JSON finding a line"))
        .collect()
}

#[test]
fn a_public_instance_gives_exactly_its_failing_controls() {
    let dir = estate("small");
    let out = audit(&[
        "--aws-json".as_ref(),
        dir.as_os_str(),
        "--format".as_ref(),
        "jsonl".as_ref(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = lines(&out);
    let got: BTreeSet<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["type"].as_str().unwrap().to_string(),
                f["resource"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("Posture:KB.RDS.1/ReachableFromInternet", "shop-db"),
        ("Posture:RDS.2/PubliclyAccessible", "shop-db"),
        (
            "Posture:EC2.19/DbPortOpenToInternet",
            "sg-0shop0000000000001",
        ),
        ("Posture:RDS.46/InPublicSubnet", "shop-db"),
        ("Posture:RDS.23/DefaultPort", "shop-db"),
    ]
    .iter()
    .map(|(t, r)| (t.to_string(), r.to_string()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(findings.len(), want.len());
    let reach = findings
        .iter()
        .find(|f| f["type"] == "Posture:KB.RDS.1/ReachableFromInternet")
        .unwrap();
    assert_eq!(reach["severity_label"], "Critical");
    assert_eq!(reach["resource"]["account"], "333344445555");
    assert_eq!(reach["resource"]["region"], "ap-northeast-1");
    let text = reach["description"].as_str().unwrap();
    for part in [
        "shop-db",
        "5432",
        "sg-0shop0000000000001",
        "igw-0shop00000000001",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
}

#[test]
fn fail_on_sets_the_exit_code() {
    let dir = estate("small");
    let args = |level: &str| -> Vec<std::ffi::OsString> {
        vec![
            "--aws-json".into(),
            dir.clone().into(),
            "--format".into(),
            "jsonl".into(),
            "--fail-on".into(),
            level.into(),
        ]
    };
    let run = |level: &str| {
        let a = args(level);
        let refs: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
        audit(&refs)
    };
    assert_eq!(run("High").status.code(), Some(1));
    assert_eq!(run("Critical").status.code(), Some(1));
    // The good estate fails nothing.
    let good = estate("good");
    let out = audit(&[
        "--aws-json".as_ref(),
        good.as_os_str(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "--fail-on".as_ref(),
        "Low".as_ref(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        lines(&out).is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
