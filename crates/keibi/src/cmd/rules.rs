//! `keibi rules list` and `keibi rules lint`, and loading rules for `keibi scan`:
//! built-in rules plus every `.yml`/`.yaml` file under the `--rules` paths.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use keibi_detect::sigma::{RuleSet, RULE_FILE_LIMITS};
use keibi_detect::{Config, Entry, Scanner, ThreatLists};

use crate::cli::{EventFormat, Global, RulesCommand};
use crate::locale::{library_text, said, say};
use crate::output::sanitize::{self, terminal};
use keibi_i18n::Msg;

pub fn run(cmd: &RulesCommand, _global: &Global) -> Result<u8> {
    match cmd {
        RulesCommand::List { rules, format } => {
            let mut set = RuleSet::builtin();
            load_paths(&mut set, rules)?;
            let sigma = set.compile(&Config::default());
            print_problems(&set);
            let scanner = Scanner::new(Config::default(), ThreatLists::default(), sigma);
            let mut catalog = scanner.catalog();
            // The second stage's types (keibi run, over the stored findings).
            catalog.extend(Entry::of_detector(
                keibi_engine::global::DETECTOR,
                keibi_engine::global::specs(),
            ));
            let mut out = io::stdout().lock();
            match format.unwrap_or(EventFormat::Table) {
                EventFormat::Jsonl => write_jsonl(&mut out, &catalog)?,
                EventFormat::Table => write_table(&mut out, &catalog)?,
            }
            eprintln!(
                "{}",
                say(Msg::new("rules-list-summary")
                    .arg(
                        "types",
                        catalog
                            .iter()
                            .map(|e| &e.spec.finding_type)
                            .collect::<HashSet<_>>()
                            .len()
                    )
                    .arg("entries", catalog.len())
                    .arg(
                        "sources",
                        catalog
                            .iter()
                            .map(|e| &e.source)
                            .collect::<HashSet<_>>()
                            .len()
                    )
                    .arg("rules", set.rules().len())
                    .arg("problems", set.problems().len())
                    .arg("skipped", set.skipped() as u64))
            );
            Ok(0)
        }
        RulesCommand::Lint { paths } => {
            let mut set = RuleSet::default();
            let files = load_paths(&mut set, paths)?;
            let _ = set.compile(&keibi_detect::Config::default());
            for p in set.problems() {
                println!("{}", terminal(&p.to_string()));
            }
            eprintln!(
                "{}",
                say(Msg::new("rules-lint-summary")
                    .arg("files", files)
                    .arg("rules", set.rules().len())
                    .arg("problems", set.problems().len())
                    .arg("skipped", set.skipped() as u64))
            );
            Ok(u8::from(!set.problems().is_empty()))
        }
    }
}

/// One catalog entry per line: its spec's fields, then `source` (what its findings
/// carry as `detector`) and `origin` (`detector`, or the rule's file).
fn write_jsonl(out: &mut impl Write, catalog: &[Entry]) -> io::Result<()> {
    for e in catalog {
        let mut v = serde_json::to_value(&e.spec)?;
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "severity_label".into(),
                e.spec.default_severity.label().as_str().into(),
            );
            o.insert("source".into(), e.source.clone().into());
            o.insert("origin".into(), e.origin.clone().into());
        }
        writeln!(out, "{v}")?;
    }
    Ok(())
}

/// The catalog for a person: severity, type, MITRE, source and where it comes from,
/// headers and severity words in the current language, columns padded by display
/// width (a Japanese character, or one in a rule file's name, takes two).
fn write_table(out: &mut impl Write, catalog: &[Entry]) -> io::Result<()> {
    let rows: Vec<[String; 5]> = catalog
        .iter()
        .map(|e| {
            let s = e.spec.default_severity;
            [
                format!(
                    "{} {s}",
                    said(&format!(
                        "severity-{}",
                        s.label().as_str().to_ascii_lowercase()
                    ))
                ),
                terminal(&e.spec.finding_type).into_owned(),
                terminal(&e.spec.mitre.join(",")).into_owned(),
                terminal(&e.source).into_owned(),
                if e.origin == "detector" {
                    said("rules-origin-detector")
                } else {
                    terminal(&e.origin).into_owned()
                },
            ]
        })
        .collect();
    let head = [
        "rules-col-severity",
        "rules-col-type",
        "rules-col-mitre",
        "rules-col-source",
        "rules-col-origin",
    ]
    .map(said);
    let mut width = head.each_ref().map(|h| sanitize::width(h));
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(sanitize::width(c));
        }
    }
    let line = |out: &mut dyn Write, cells: [&str; 5]| -> io::Result<()> {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(width).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&sanitize::pad(c, w));
                s.push_str("  ");
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, head.each_ref().map(String::as_str))?;
    for r in &rows {
        line(out, [&r[0], &r[1], &r[2], &r[3], &r[4]])?;
    }
    Ok(())
}

/// Prints every rule that did not load as a warning (never dropped silently).
pub fn print_problems(set: &RuleSet) {
    for p in set.problems() {
        eprintln!(
            "{}",
            say(Msg::new("rules-not-loaded").arg("problem", terminal(&p.to_string()).into_owned()))
        );
    }
}

/// Loads every rule file under `paths` (files, or directories searched recursively
/// for `.yml`/`.yaml`, in name order, by the same walker as inputs: links are
/// followed once, loops are not). Returns how many files were read. A path that does
/// not exist is an error; a file or directory that cannot be read is a problem of the
/// set; what the walk passed over (a loop, a file reached twice) is a warning.
pub fn load_paths(set: &mut RuleSet, paths: &[PathBuf]) -> Result<usize> {
    let mut files = Vec::new();
    let hidden = |name: &str| name.starts_with('.');
    let yaml = |p: &Path| matches!(p.extension().and_then(|x| x.to_str()), Some("yml" | "yaml"));
    let mut walker = keibi_ingest::Walker::new(&hidden, &yaml);
    for p in paths {
        if p.is_dir() {
            files.extend(walker.walk(p));
        } else if p.is_file() {
            files.push(p.clone());
        } else if p.exists() {
            bail!(say(
                Msg::new("rules-not-file").arg("path", p.display().to_string())
            ));
        } else {
            bail!(say(
                Msg::new("rules-missing").arg("path", p.display().to_string())
            ));
        }
    }
    for (path, e) in &walker.errors {
        set.add_source_problem(path, &e.to_string());
    }
    for (path, w) in &walker.warnings {
        eprintln!(
            "{}",
            say(Msg::new("rules-walk-warning")
                .arg("path", terminal(path).into_owned())
                .arg("reason", terminal(&library_text(w)).into_owned()))
        );
    }
    for f in &files {
        let origin = f.display().to_string();
        match super::read_capped(f, RULE_FILE_LIMITS.max_bytes, true) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => set.add_source(&origin, &text),
                Err(_) => set.add_source_problem(&origin, &crate::locale::said("not-utf8")),
            },
            Err(e) => set.add_source_problem(&origin, &e.to_string()),
        }
    }
    Ok(files.len())
}
