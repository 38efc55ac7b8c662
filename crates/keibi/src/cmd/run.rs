//! `keibi run`: the daemon. Reads its settings (a keibi.yaml, or the quick path's
//! defaults), builds the scanner as `keibi scan` does, opens the store and hands them
//! to keibi-engine's loop; writes the loop's notes to stderr (text or JSON lines).

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result};
use keibi_engine::daemon::{self, Control, Note, Pipeline, RunOptions};
use keibi_engine::settings::{LogFormat, Settings};
use keibi_engine::LoadError;
use keibi_ingest::Notice;

use crate::cli::{DetectArgs, Global, RunArgs};
use crate::output::sanitize::terminal;

/// Unrecognized-line notes shown per file before they are only counted.
const LINE_NOTES_PER_FILE: u64 = 5;

pub fn run(args: &RunArgs, global: &Global) -> Result<u8> {
    let mut settings = match &args.config {
        Some(path) => match Settings::load(path) {
            Ok((s, _)) => s,
            Err(e) => {
                eprintln!("keibi: {}", terminal(&e.to_string()));
                return Ok(2);
            }
        },
        None => Settings::quick(&[], None),
    };
    if !args.paths.is_empty() {
        settings.sources.inputs = Settings::quick(&args.paths, None).sources.inputs;
    }
    if let Some(store) = &args.store {
        settings.store.path = store.clone();
    }
    if settings.sources.inputs.is_empty() {
        // Before the store is created.
        return Err(keibi_engine::daemon::EngineError::NoSources.into());
    }
    let mut log = Log {
        json: settings.log.format == LogFormat::Json,
        quiet: global.quiet,
        lines: HashMap::new(),
    };
    let detect = DetectArgs {
        state: args.state.clone(),
        ..DetectArgs::default()
    };
    let (scanner, persist, _) = super::scan::build_scanner_from(&settings, &detect, global)?;
    let store = keibi_store::Store::open(&settings.store.path)
        .with_context(|| format!("--store {}", settings.store.path.display()))?;
    log.info(&format!("store {}", settings.store.path.display()));
    let pipeline = Pipeline::new(&settings, scanner, store, args.once, &mut |n| log.note(n))?;
    let control = Control::signals().context("installing signal handlers")?;
    let config = args.config.clone();
    let mut reload = || {
        let Some(path) = &config else {
            log_line(
                settings.log.format == LogFormat::Json,
                "info",
                "SIGHUP: no settings file to reload (--config)",
            );
            return None;
        };
        let json = settings.log.format == LogFormat::Json;
        match Settings::load(path) {
            Ok((new, _)) => {
                match super::scan::load_services(&new, &DetectArgs::default(), global) {
                    Ok((_, services, _)) => {
                        if new.sources != settings.sources
                            || new.rules != settings.rules
                            || new.store != settings.store
                        {
                            log_line(
                                json,
                                "warn",
                                "reload: sources, rules and store take effect at the next start",
                            );
                        }
                        Some((new.tuning, services))
                    }
                    Err(e) => {
                        log_line(
                            json,
                            "error",
                            &format!("reload: keeping the old settings: {e:#}"),
                        );
                        None
                    }
                }
            }
            Err(LoadError::Invalid(problems)) => {
                for p in problems {
                    log_line(json, "error", &format!("reload: {p}"));
                }
                log_line(json, "error", "reload: keeping the old settings");
                None
            }
            Err(e) => {
                log_line(
                    json,
                    "error",
                    &format!("reload: keeping the old settings: {e}"),
                );
                None
            }
        }
    };
    daemon::run(
        pipeline,
        RunOptions { once: args.once },
        &control,
        &mut reload,
        &mut |n| log.note(n),
    )?;
    if let Some(p) = &persist {
        let saved = p.save_all().context("--state")?;
        log.info(&format!(
            "{} profiles written to {}",
            saved.written,
            p.path().display()
        ));
    }
    log.info("stopped; everything read is committed");
    Ok(0)
}

/// The daemon's own log on stderr.
struct Log {
    json: bool,
    quiet: bool,
    lines: HashMap<Arc<str>, u64>,
}

impl Log {
    fn info(&self, msg: &str) {
        log_line(self.json, "info", msg);
    }

    fn note(&mut self, n: Note) {
        match n {
            Note::Following(what) => self.info(&format!("following {what}")),
            Note::Resumed(n) => self.info(&format!("{n} file checkpoints in the store")),
            Note::Profiles { loaded, skipped } => {
                self.info(&format!("{loaded} behavioural profiles in the store"));
                if skipped > 0 {
                    log_line(
                        self.json,
                        "warn",
                        &format!("{skipped} stored profiles could not be read (skipped)"),
                    );
                }
            }
            Note::Info(s) => self.info(&s),
            Note::Finding { change, applied } => {
                let f = change.finding();
                let msg = format!(
                    "finding {}: {} {} {} {} {}",
                    match applied.outcome {
                        keibi_store::Outcome::New => "new",
                        keibi_store::Outcome::Reopened => "reopened",
                        keibi_store::Outcome::SeverityRaised => "severity raised",
                        _ => "changed",
                    },
                    f.severity.label().as_str(),
                    f.severity,
                    f.finding_type,
                    &f.id[..f.id.len().min(8)],
                    f.title
                );
                log_line(self.json, "warn", &msg);
            }
            Note::Source(notice) => {
                if self.quiet {
                    return;
                }
                match notice {
                    Notice::Opened { file, format } => {
                        self.info(&format!("reading {file} as {}", format.name()))
                    }
                    Notice::FileError { file, error } => {
                        log_line(self.json, "warn", &format!("{file}: {error}"))
                    }
                    Notice::ReadError { file, line, error } => {
                        log_line(self.json, "warn", &format!("{file}:{line}: {error}"))
                    }
                    Notice::Line {
                        file, line, reason, ..
                    } => {
                        let n = self.lines.entry(file.clone()).or_default();
                        *n += 1;
                        if *n <= LINE_NOTES_PER_FILE {
                            log_line(self.json, "warn", &format!("{file}:{line}: {reason}"));
                        }
                    }
                }
            }
        }
    }
}

/// One line: `keibi: LEVEL: msg` with every control and invisible character escaped,
/// or a JSON object (escaped by serde).
fn log_line(json: bool, level: &str, msg: &str) {
    if json {
        let v = serde_json::json!({
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "level": level,
            "msg": msg,
        });
        eprintln!("{v}");
    } else if level == "info" {
        eprintln!("keibi: {}", terminal(msg));
    } else {
        eprintln!("keibi: {level}: {}", terminal(msg));
    }
}
