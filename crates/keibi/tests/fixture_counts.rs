//! Every parser fixture through the real binary: per file, how many events, unrecognized
//! lines and lines of other programs skipped `keibi events` reports. A regression in
//! detection or a misparse shows up as a changed number.
//!
//! The expected numbers are in `crates/keibi-parse/tests/data/COUNTS`. When a count
//! changes on purpose, regenerate the table in the same commit and review its diff:
//!
//!     KEIBI_BLESS=1 cargo test -p keibi --test fixture_counts
//!
//! A new fixture must be added to the table (the test fails on a file it does not
//! list, and on a listed file that is gone).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::output;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    events: u64,
    unrecognized: u64,
    skipped: u64,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../keibi-parse/tests/data")
}

/// Every fixture under the data folder (not the READMEs nor the table), relative.
fn fixtures(dir: &Path, base: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            fixtures(&p, base, out);
            continue;
        }
        let name = p.file_name().unwrap().to_string_lossy();
        if name == "README.md" || name == "COUNTS" {
            continue;
        }
        let rel = p
            .strip_prefix(base)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        out.push(rel);
    }
}

/// What `keibi events --format jsonl FILE` reports, checked for consistency: the
/// summary's events are the JSON lines printed.
fn run(path: &Path) -> Counts {
    let out = output(
        Command::new(env!("CARGO_BIN_EXE_keibi"))
            .args(["events", "--format", "jsonl"])
            .arg(path),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let printed = stdout.lines().filter(|l| !l.is_empty()).count() as u64;
    let numbers = |line: &str| -> Vec<u64> {
        line.split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect()
    };
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("keibi: ") && last.contains(" events from "),
        "{}: no closing summary line:\n{stderr}",
        path.display()
    );
    let n = numbers(last);
    let skipped = stderr
        .lines()
        .find(|l| l.ends_with(" lines of other programs skipped"))
        .map_or(0, |l| numbers(&l.replace(',', ""))[0]);
    assert_eq!(n[0], printed, "{}: summary vs JSON lines", path.display());
    Counts {
        events: n[0],
        unrecognized: n[2],
        skipped,
    }
}

fn parse_table(text: &str) -> BTreeMap<String, Counts> {
    let mut table = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        let bad = || {
            panic!(
                "COUNTS line {}: expected `file events unrecognized skipped`: {line}",
                i + 1
            )
        };
        if w.len() != 4 {
            bad();
        }
        let n = |s: &str| s.parse::<u64>().unwrap_or_else(|_| bad());
        table.insert(
            w[0].to_string(),
            Counts {
                events: n(w[1]),
                unrecognized: n(w[2]),
                skipped: n(w[3]),
            },
        );
    }
    table
}

const HEADER: &str = "\
# Per fixture under this folder: what `keibi events` reports (crates/keibi/tests/fixture_counts.rs).
# Regenerate on purpose with: KEIBI_BLESS=1 cargo test -p keibi --test fixture_counts
# file events unrecognized skipped
";

#[test]
fn every_fixture_reads_to_its_counts() {
    let base = data_dir();
    let mut files = Vec::new();
    fixtures(&base, &base, &mut files);
    assert!(files.len() > 20, "{files:?}");
    let got: BTreeMap<String, Counts> = files
        .iter()
        .map(|f| (f.clone(), run(&base.join(f))))
        .collect();
    let table_path = base.join("COUNTS");
    if std::env::var_os("KEIBI_BLESS").is_some() {
        let width = files.iter().map(String::len).max().unwrap_or(0);
        let mut text = String::from(HEADER);
        for (f, c) in &got {
            text.push_str(&format!(
                "{f:width$} {:>6} {:>4} {:>4}\n",
                c.events, c.unrecognized, c.skipped
            ));
        }
        std::fs::write(&table_path, text).unwrap();
        return;
    }
    let table = parse_table(&std::fs::read_to_string(&table_path).unwrap_or_default());
    let mut wrong = Vec::new();
    for (f, c) in &got {
        match table.get(f) {
            None => wrong.push(format!("{f}: not in COUNTS (read as {c:?})")),
            Some(want) if want != c => wrong.push(format!("{f}: expected {want:?}, got {c:?}")),
            Some(_) => {}
        }
    }
    for f in table.keys().filter(|f| !got.contains_key(*f)) {
        wrong.push(format!("{f}: in COUNTS but no such fixture"));
    }
    assert!(
        wrong.is_empty(),
        "fixture counts changed (if on purpose: KEIBI_BLESS=1 and commit COUNTS):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_table_parses_and_rejects_malformed_lines() {
    let t = parse_table("# c\n\na/b.log 3 1 0\n");
    assert_eq!(
        t["a/b.log"],
        Counts {
            events: 3,
            unrecognized: 1,
            skipped: 0
        }
    );
    assert!(std::panic::catch_unwind(|| parse_table("a/b.log 3 x 0\n")).is_err());
}

/// A whole-host syslog file: PostgreSQL's lines read, the six of other programs one
/// line before the closing one, and `--fail-on-unparsed` does not fail on them.
#[test]
fn other_programs_are_one_line_and_do_not_fail_the_run() {
    let file = data_dir().join("postgres/postgresql-shared-syslog.log");
    let out = output(
        Command::new(env!("CARGO_BIN_EXE_keibi"))
            .args(["events", "--format", "jsonl", "--fail-on-unparsed"])
            .arg(&file),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        vec![
            "keibi: 6 lines of other programs skipped",
            "keibi: 16 events from 1 files, 0 unrecognized lines",
        ]
    );
}
