//! Behavioural baselines through the real binary: profiles persist across runs with
//! `--state`, `keibi learn` then `keibi scan`, the explanation reaches JSON and the
//! table, and `.mmdb` files built here give the ASN and country factors.
//!
//! The logs are the `anomalous-successful-login` scenario's: three weeks of routine
//! (one file a week) and a fourth week whose 03:10 login is the anomaly.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{keibi_scan, output, Scan};
use maxminddb_writer::paths::IpAddrWithMask;
use serde_json::json;

const TYPE: &str = "CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin";
const EXPLAINED: &str = "First login of bob from 203.0.113.7 (usual: 198.51.100.0/24), \
    with python-psycopg2 (usual: psql, DBeaver), at 03:10 UTC (usual 09:00-19:00)";

fn logs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios/anomalous-successful-login/attack/orders-db")
}

/// The three routine weeks.
fn routine() -> Vec<PathBuf> {
    ["2026-11-02", "2026-11-09", "2026-11-16"]
        .iter()
        .map(|d| logs().join(format!("postgresql.log.{d}")))
        .collect()
}

fn fourth_week() -> PathBuf {
    logs().join("postgresql.log.2026-11-23")
}

fn scan(extra: &[&OsStr], paths: &[PathBuf]) -> Scan {
    let mut args: Vec<&OsStr> = extra.to_vec();
    args.extend(paths.iter().map(|p| p.as_os_str()));
    let s = keibi_scan(&args);
    assert_eq!(s.code, Some(0), "{}", s.stderr);
    s
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn profiles_persist_across_scans_with_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("keibi.state");
    let first = scan(&[os("--state"), state.as_os_str()], &routine());
    assert_eq!(first.of_type(TYPE).count(), 0, "{}", first.brief());
    assert!(state.is_file(), "the state file is written");
    // Without the state, the fourth week alone has no history: nothing to compare.
    let alone = scan(&[], &[fourth_week()]);
    assert_eq!(alone.of_type(TYPE).count(), 0, "{}", alone.brief());
    // With it, the profiles are mature from the first event.
    let second = scan(&[os("--state"), state.as_os_str()], &[fourth_week()]);
    let found: Vec<_> = second.of_type(TYPE).collect();
    assert_eq!(found.len(), 1, "{}", second.brief());
    assert_eq!(found[0]["title"], EXPLAINED);
    assert!(found[0]["description"]
        .as_str()
        .unwrap()
        .starts_with(EXPLAINED));
    assert_eq!(found[0]["severity_label"], "High");
}

#[test]
fn learn_then_scan() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("profiles.redb");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keibi"));
    cmd.arg("learn").arg("--state").arg(&state).args(routine());
    let out = output(&mut cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(out.stdout.is_empty(), "learn prints no findings");
    assert!(
        stderr.contains("learned 2 user profiles (2 mature), 1 instances (1 mature)"),
        "{stderr}"
    );
    let s = scan(&[os("--state"), state.as_os_str()], &[fourth_week()]);
    assert_eq!(s.of_type(TYPE).count(), 1, "{}", s.brief());
    // A second learn over the same logs keeps the profiles (it adds to them).
    let out = output(
        Command::new(env!("CARGO_BIN_EXE_keibi"))
            .arg("learn")
            .arg("--state")
            .arg(&state)
            .arg(fourth_week()),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("before: 2 user profiles (2 mature)"),
        "{stderr}"
    );
}

#[test]
fn the_explanation_reaches_the_table() {
    let out = output(
        Command::new(env!("CARGO_BIN_EXE_keibi"))
            .args(["scan", "--format", "table", "--color", "never"])
            .arg(logs()),
    );
    let table = String::from_utf8_lossy(&out.stdout);
    let shown = &EXPLAINED[..100];
    assert!(table.contains(shown), "{table}");
}

/// A GeoLite2-ASN-typed database and a GeoLite2-Country-typed one: the office
/// (198.51.100.0/24) is AS2516 in Japan, 203.0.113.0/24 is AS64500 in the Netherlands.
fn mmdbs(dir: &Path) -> (PathBuf, PathBuf) {
    let build = |kind: &str, rows: &[(&str, serde_json::Value)]| {
        let mut db = maxminddb_writer::Database::default();
        db.metadata.database_type = kind.to_string();
        db.metadata.binary_format_major_version = 2;
        db.metadata.languages = vec!["en".into()];
        for (net, value) in rows {
            let data = db.insert_value(value).unwrap();
            db.insert_node(net.parse::<IpAddrWithMask>().unwrap(), data);
        }
        let path = dir.join(format!("{kind}.mmdb"));
        let file = std::fs::File::create(&path).unwrap();
        db.write_to(file).unwrap();
        path
    };
    let asn = build(
        "GeoLite2-ASN",
        &[
            (
                "198.51.100.0/24",
                json!({"autonomous_system_number": 2516, "autonomous_system_organization": "KDDI CORPORATION"}),
            ),
            (
                "203.0.113.0/24",
                json!({"autonomous_system_number": 64500, "autonomous_system_organization": "Example Hosting"}),
            ),
        ],
    );
    let country = build(
        "GeoLite2-Country",
        &[
            ("198.51.100.0/24", json!({"country": {"iso_code": "JP"}})),
            ("203.0.113.0/24", json!({"country": {"iso_code": "NL"}})),
        ],
    );
    (asn, country)
}

#[test]
fn asn_and_country_databases_name_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let (asn, country) = mmdbs(dir.path());
    let s = scan(
        &[
            os("--asn-db"),
            asn.as_os_str(),
            os("--geoip-db"),
            country.as_os_str(),
        ],
        &[logs()],
    );
    let found: Vec<_> = s.of_type(TYPE).collect();
    assert_eq!(found.len(), 1, "{}", s.brief());
    assert_eq!(
        found[0]["title"],
        "First login of bob from AS64500 203.0.113.7 (Example Hosting) (usual: AS2516, \
         198.51.100.0/24), in NL (usual: JP), with python-psycopg2 (usual: psql, DBeaver), \
         at 03:10 UTC (usual 09:00-19:00)"
    );
}

#[test]
fn a_database_of_the_wrong_kind_or_a_broken_state_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (asn, _) = mmdbs(dir.path());
    let s = keibi_scan(&[os("--geoip-db"), asn.as_os_str(), logs().as_os_str()]);
    assert_eq!(s.code, Some(2), "{}", s.stderr);
    assert!(s.stderr.contains("GeoLite2-ASN database"), "{}", s.stderr);

    let junk = dir.path().join("state.txt");
    std::fs::write(&junk, "not a state file\n".repeat(500)).unwrap();
    let s = keibi_scan(&[os("--state"), junk.as_os_str(), logs().as_os_str()]);
    assert_eq!(s.code, Some(2), "{}", s.stderr);
    assert!(s.stderr.contains("state.txt"), "{}", s.stderr);
    assert_eq!(
        std::fs::read_to_string(&junk).unwrap(),
        "not a state file\n".repeat(500),
        "a file that is not keibi's is never overwritten"
    );
}
