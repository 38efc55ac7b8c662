//! `keibi scan`: reads logs like `keibi events`, runs every rule and detector over
//! them in time order, and prints the findings (contract: docs/finding-catalog.md).

use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use keibi_detect::{Config, IpList, IpSet, ScanReport, Scanner, Services, ThreatLists};
use keibi_model::finding::count_by_label;
use keibi_model::{Finding, Severity};

use keibi_engine::pipeline::Pipeline;
use keibi_engine::settings::{Settings, Tuned, Tuning};

use crate::cli::{DetectArgs, Global, ScanArgs};
use crate::locale::{library_text, said, say};
use crate::output::findings::{write_findings, FindingFormat};
use crate::output::sanitize::terminal;
use keibi_i18n::Msg;

pub fn run(args: &ScanArgs, global: &Global) -> Result<u8> {
    let stdout = io::stdout();
    let (is_tty, color) = super::terminal_output(global);
    let format = args.format.unwrap_or(if is_tty {
        FindingFormat::Table
    } else {
        FindingFormat::Jsonl
    });
    let settings = load_settings(args.detect.config.as_deref())?;
    let locale = crate::locale::resolve(global, Some(&settings.display))?;
    let (scanner, persist, tuning) = build_scanner_from(&settings, &args.detect, global)?;
    let (report, scan) = detect(&args.input, global, scanner)?;
    let rolled_up = scan.rolled_up();
    let ScanReport {
        mut findings,
        trusted_events,
        dropped_findings,
        rollups,
        ..
    } = scan;
    let tuned = tuning.apply(&mut findings, chrono::Utc::now());
    if tuned.rescored > 0 {
        keibi_detect::findings::sort(&mut findings);
    }
    if tuned != Tuned::default() && !global.quiet {
        eprintln!(
            "{}",
            say(Msg::new("scan-tuning")
                .arg("suppressed", tuned.suppressed as u64)
                .arg("disabled", tuned.disabled as u64)
                .arg("rescored", tuned.rescored as u64))
        );
    }
    if rolled_up > 0 {
        eprintln!(
            "{}",
            say(Msg::new("scan-rolled-note")
                .arg("max", keibi_detect::findings::MAX_FINDINGS)
                .arg("n", rolled_up)
                .arg("rollups", rollups.len()))
        );
    }
    if dropped_findings > 0 {
        eprintln!(
            "{}",
            say(Msg::new("scan-dropped-warning")
                .arg("n", dropped_findings)
                .arg("kinds", keibi_detect::findings::MAX_ROLLUPS)
                .arg("max", keibi_detect::findings::MAX_FINDINGS))
        );
    }
    if let Some(p) = &persist {
        p.save()?;
    }
    if let Some(min) = args.min_severity {
        findings.retain(|f| f.severity >= min);
    }
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    write_findings(format, &findings, color, &locale, &mut out)?;
    if format == FindingFormat::Table && trusted_events > 0 {
        writeln!(
            out,
            "{}",
            say(Msg::new("scan-trusted").arg("n", trusted_events))
        )?;
    }
    out.flush()?;
    drop(out);
    crate::aws::say_usage(args.input.region.as_deref(), global.quiet);
    let code = super::events::summarize(&report, false);
    let by_label = count_by_label(&findings);
    let counts: Vec<String> = by_label
        .iter()
        .rev()
        .filter(|(_, n)| *n > 0)
        .map(|(l, n)| {
            say(Msg::new("scan-summary-count").arg("n", *n).arg(
                "label",
                said(&format!("severity-{}", l.as_str().to_lowercase())),
            ))
        })
        .collect();
    let mut extra = String::new();
    if rolled_up > 0 {
        extra.push_str(&say(Msg::new("scan-summary-rolled").arg("n", rolled_up)));
    }
    if dropped_findings > 0 {
        extra.push_str(&say(
            Msg::new("scan-summary-dropped").arg("n", dropped_findings)
        ));
    }
    eprintln!(
        "{}",
        say(Msg::new("scan-summary")
            .arg("n", findings.len())
            .arg(
                "counts",
                if counts.is_empty() {
                    String::new()
                } else {
                    say(Msg::new("scan-summary-counts").arg("list", counts.join(&said("list-sep"))))
                }
            )
            .arg("extra", extra))
    );
    if code != 0 {
        return Ok(code);
    }
    let Some(min) = args.fail_on else {
        return Ok(0);
    };
    Ok(u8::from(fails(&findings, dropped_findings, min)))
}

/// Whether `--fail-on min` fails: a finding (a roll-up counts with the highest
/// severity folded into it) at or above `min`, or any finding dropped unseen, which
/// may have been that severe (said on stderr).
fn fails(findings: &[Finding], dropped: u64, min: Severity) -> bool {
    if findings.iter().any(|f| f.severity >= min) {
        return true;
    }
    if dropped > 0 {
        eprintln!(
            "{}",
            say(Msg::new("scan-fail-dropped")
                .arg("min", min.to_string())
                .arg("n", dropped))
        );
        return true;
    }
    false
}

/// Reads the inputs (merge on this thread, parsing on the ingest workers) through
/// the detection [`Pipeline`]: the scanner's lanes (the Sigma rules, the stateful
/// detectors) each on a thread of their own, all fed the same batches in time order.
/// Returns what was read and the joined findings.
pub fn detect(
    input: &crate::cli::InputArgs,
    global: &Global,
    scanner: Scanner,
) -> Result<(keibi_ingest::Report, ScanReport)> {
    let out = Pipeline::new()
        .scanner(scanner)
        .run(|sink| super::read_inputs(input, global, sink));
    Ok((out.source?, out.report))
}

/// Loads rules, lists and settings into a ready scanner; rule problems are printed
/// as warnings, unreadable lists and settings are errors (exit 2). Also returns the
/// behavioural profiles' state file (`--state`), to save when the scan ends, and
/// the settings file's tuning, to apply to the findings.
///
/// A settings file in sections adds its lists and rules to the flags' (a database
/// given by a flag replaces the file's) and `rules.builtin: false` is
/// `--no-builtin-rules`; a flat one is detection settings only. The caller reads the
/// settings (`load_settings`): scan also takes its display section, `keibi run`
/// reloads them.
pub fn build_scanner_from(
    settings: &Settings,
    d: &DetectArgs,
    global: &Global,
) -> Result<(Scanner, Option<crate::baselines::Persist>, Tuning)> {
    let (config, services, persist) = load_services(settings, d, global)?;
    let mut rules = if d.no_builtin_rules || !settings.rules.builtin {
        keibi_detect::sigma::RuleSet::default()
    } else {
        keibi_detect::sigma::RuleSet::builtin()
    };
    super::rules::load_paths(&mut rules, &settings.rules.paths)?;
    super::rules::load_paths(&mut rules, &d.rules)?;
    let sigma = rules.compile(&config);
    super::rules::print_problems(&rules);
    Ok((
        Scanner::new(config, services, sigma),
        persist,
        settings.tuning.clone(),
    ))
}

/// The detection settings and the services detectors use (address lists, the
/// state file's profiles, ASN and country lookups) from the settings and the flags:
/// what a scanner is built with, and what `keibi run` reloads on SIGHUP.
pub fn load_services(
    settings: &Settings,
    d: &DetectArgs,
    global: &Global,
) -> Result<(Config, Services, Option<crate::baselines::Persist>)> {
    let file = &settings.lists;
    let mut config = settings.detection.config.clone();
    config
        .trusted_accounts
        .extend(file.trusted_accounts.iter().cloned());
    config
        .trusted_accounts
        .extend(d.trusted_account.iter().cloned());
    for p in &d.placeholder {
        let (name, values) = read_placeholder(p)?;
        config.placeholders.insert(name, values);
    }
    let lists = ThreatLists {
        threat: load_lists(&[
            ("lists.threat", &file.threat),
            ("--threat-list", &d.threat_list),
        ])?,
        tor: load_lists(&[("lists.tor", &file.tor), ("--tor-list", &d.tor_list)])?,
        trusted: load_lists(&[
            ("lists.trusted", &file.trusted),
            ("--trusted-list", &d.trusted_list),
        ])?,
    };
    let mut services = Services::from(lists);
    let persist = crate::baselines::setup(
        &config,
        &mut services,
        d.state.as_deref(),
        d.asn_db.as_deref().or(file.asn_db.as_deref()),
        d.geoip_db.as_deref().or(file.geoip_db.as_deref()),
        global.quiet,
    )?;
    Ok((config, services, persist))
}

/// Reads `--config` (at most [`keibi_engine::settings::LIMITS`]): a settings file
/// in sections or detection settings only; the defaults without one. Its problems
/// are one error, every one on its line.
pub fn load_settings(path: Option<&Path>) -> Result<Settings> {
    let Some(p) = path else {
        return Ok(Settings::default());
    };
    let what = || format!("--config {}", p.display());
    let text = super::config::read(p).with_context(what)?;
    let base = p.parent().unwrap_or(Path::new(""));
    match Settings::from_yaml(&text, &p.display().to_string(), base) {
        Ok((s, _)) => Ok(s),
        Err(problems) => {
            let all: Vec<String> = problems
                .iter()
                .map(|p| terminal(&super::config::problem_text(p)).into_owned())
                .collect();
            Err(anyhow::anyhow!("{}", all.join("\n"))).with_context(what)
        }
    }
}

/// The detection settings of `--config` (for `keibi learn`).
pub fn load_config(path: Option<&Path>) -> Result<Config> {
    Ok(load_settings(path)?.detection.config)
}

/// Most bytes a `--placeholder` file may have.
const MAX_PLACEHOLDER_BYTES: usize = 16 << 20;

/// `--placeholder NAME=FILE`: the name and the file's values, one a line (blank
/// lines skipped, surrounding spaces trimmed).
fn read_placeholder(arg: &str) -> Result<(String, Vec<String>)> {
    let Some((name, file)) = arg
        .split_once('=')
        .filter(|(n, f)| !n.is_empty() && !f.is_empty())
    else {
        anyhow::bail!("--placeholder {arg:?}: expected NAME=FILE");
    };
    let name = name.trim_matches('%').to_string();
    let bytes = super::read_capped(Path::new(file), MAX_PLACEHOLDER_BYTES, true)
        .with_context(|| format!("--placeholder {name}={file}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let values: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    // An empty or all-blank file gives no values: the rules reading it do not load
    // ("has no values"), as when the placeholder is not given.
    if values.len() > keibi_detect::config::MAX_PLACEHOLDER_VALUES {
        anyhow::bail!(
            "--placeholder {name}={file}: {} values, more than the {} a placeholder may have",
            values.len(),
            keibi_detect::config::MAX_PLACEHOLDER_VALUES
        );
    }
    Ok((name, values))
}

/// Reads address lists, each group under the name of where it was given.
fn load_lists(groups: &[(&str, &Vec<std::path::PathBuf>)]) -> Result<IpSet> {
    let mut lists = Vec::new();
    for (flag, paths) in groups {
        for p in paths.iter() {
            let bytes = super::read_capped(p, keibi_detect::iplist::MAX_LIST_BYTES, true)
                .with_context(|| format!("{flag} {}", p.display()))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string());
            let list =
                IpList::parse(name, &bytes).with_context(|| format!("{flag} {}", p.display()))?;
            for prob in list.problems() {
                eprintln!(
                    "{}",
                    say(Msg::new("scan-list-problem")
                        .arg("file", terminal(&p.display().to_string()).into_owned())
                        .arg("line", prob.line.to_string())
                        .arg("reason", terminal(&library_text(&prob.reason)).into_owned()))
                );
            }
            lists.push(list);
        }
    }
    Ok(IpSet::new(lists))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use keibi_model::Resource;

    #[test]
    fn placeholder_files_are_read_blank_lines_skipped_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let blank = dir.path().join("blank.txt");
        std::fs::write(&blank, "\n  \n").unwrap();
        let (name, values) = read_placeholder(&format!("%admins%={}", blank.display())).unwrap();
        assert_eq!(name, "admins");
        assert!(values.is_empty(), "{values:?}");
        let many = dir.path().join("many.txt");
        std::fs::write(
            &many,
            "x\n".repeat(keibi_detect::config::MAX_PLACEHOLDER_VALUES + 1),
        )
        .unwrap();
        let e = read_placeholder(&format!("admins={}", many.display()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("100000"), "{e}");
    }

    #[test]
    fn fail_on_fails_on_a_severe_finding_or_anything_dropped() {
        let t = DateTime::UNIX_EPOCH;
        let f =
            |sev: f64| Finding::new("d", "T", &["k"], Severity::new(sev), Resource::default(), t);
        let high: Severity = "high".parse().unwrap();
        assert!(fails(&[f(5.0), f(9.5)], 0, high));
        assert!(!fails(&[f(5.0)], 0, high));
        assert!(
            fails(&[f(5.0)], 3, high),
            "dropped findings may have been High"
        );
        assert!(fails(&[], 1, high));
        assert!(!fails(&[], 0, high));
    }
}
