//! `keibi rules list` and `keibi rules lint`, and loading rules for `keibi scan`:
//! built-in rules plus every `.yml`/`.yaml` file under the `--rules` paths.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use keibi_detect::sigma::{RuleSet, RULE_FILE_LIMITS};

use crate::cli::{Global, RulesCommand};
use crate::output::sanitize::terminal;

pub fn run(cmd: &RulesCommand, _global: &Global) -> Result<u8> {
    match cmd {
        RulesCommand::List { rules } => {
            let mut set = RuleSet::builtin();
            load_paths(&mut set, rules)?;
            let _ = set.compile(&keibi_detect::Config::default());
            print_problems(&set);
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "SEVERITY  KIND         LOGS                 RULE / TYPE"
            )?;
            for r in set.rules() {
                let fams: Vec<&str> = r.families.iter().map(|f| f.as_str()).collect();
                writeln!(
                    out,
                    "{:<8}  {:<11}  {:<19}  {}  {}\n{:>44}{}",
                    r.severity.value(),
                    if r.correlation { "correlation" } else { "rule" },
                    fams.join(","),
                    terminal(&r.key),
                    terminal(&r.finding_type),
                    "",
                    terminal(&r.title),
                )?;
            }
            eprintln!(
                "keibi: {} rules, {} problems, {} skipped (log sources keibi does not read)",
                set.rules().len(),
                set.problems().len(),
                set.skipped()
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
                "keibi: {} files, {} rules loaded, {} problems, {} skipped (log sources keibi does not read)",
                files,
                set.rules().len(),
                set.problems().len(),
                set.skipped()
            );
            Ok(u8::from(!set.problems().is_empty()))
        }
    }
}

/// Prints every rule that did not load as a warning (never dropped silently).
pub fn print_problems(set: &RuleSet) {
    for p in set.problems() {
        eprintln!(
            "keibi: warning: rule not loaded: {}",
            terminal(&p.to_string())
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
            bail!("--rules {}: not a file or directory", p.display());
        } else {
            bail!("--rules {}: no such file or directory", p.display());
        }
    }
    for (path, e) in &walker.errors {
        set.add_source_problem(path, &e.to_string());
    }
    for (path, w) in &walker.warnings {
        eprintln!(
            "keibi: warning: --rules {}: {}",
            terminal(path),
            terminal(w)
        );
    }
    for f in &files {
        let origin = f.display().to_string();
        match super::read_capped(f, RULE_FILE_LIMITS.max_bytes, true) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => set.add_source(&origin, &text),
                Err(_) => set.add_source_problem(&origin, "not UTF-8 text"),
            },
            Err(e) => set.add_source_problem(&origin, &e.to_string()),
        }
    }
    Ok(files.len())
}
