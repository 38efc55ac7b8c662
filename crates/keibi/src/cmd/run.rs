//! `keibi run`: the daemon. Reads its settings (a keibi.yaml, or the quick path's
//! defaults), builds the scanner as `keibi scan` does, opens the store and hands them
//! to keibi-engine's loop; serves `/metrics` and `/healthz` from keibi-engine's HTTP
//! thread; writes the loop's notes to stderr (text or JSON lines).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use keibi_engine::daemon::{self, Control, Live, Note, RunOptions};
use keibi_engine::http::{Endpoints, Server};
use keibi_engine::metrics::{self, Metrics};
use keibi_engine::notifier::{self, NotifyNote};
use keibi_engine::retention::Retention;
use keibi_engine::settings::{Listen, LogFormat, LogLevel, Settings};
use keibi_engine::LoadError;
use keibi_ingest::Notice;
use serde_json::{json, Value};

use crate::cli::{DetectArgs, Global, LogOutput, RunArgs};
use crate::locale::{library_text, said, say};
use crate::output::sanitize::terminal;
use keibi_i18n::Msg;

/// The exit code when the store failed while running (after a clean start): the
/// settings and the store were usable (else 2), the last batch could not be
/// committed.
pub const EXIT_STORE_FAILED: u8 = 3;

/// Unrecognized-line notes shown per file before they are only counted.
const LINE_NOTES_PER_FILE: u64 = 5;

pub fn run(args: &RunArgs, global: &Global) -> Result<u8> {
    let mut settings = match &args.config {
        Some(path) => match Settings::load(path) {
            Ok((s, _)) => s,
            Err(e) => {
                eprintln!("keibi: {}", terminal(&load_error_text(&e)));
                return Ok(2);
            }
        },
        None => Settings::quick(&[], None),
    };
    // The log's language: the flags, the environment, then the file's `display:`.
    crate::locale::resolve(global, Some(&settings.display))?;
    // As the file says, to tell at a reload what changed in it.
    let from_file = settings.clone();
    if !args.paths.is_empty() {
        settings.sources.inputs = Settings::quick(&args.paths, None).sources.inputs;
    }
    if let Some(store) = &args.store {
        settings.store.path = store.clone();
    }
    // The quick path serves nothing unless asked; `--once` never does.
    if args.config.is_none() {
        settings.server.listen = Listen::Off;
    }
    if let Some(l) = args.listen {
        settings.server.listen = l;
    }
    if args.once {
        settings.server.listen = Listen::Off;
    }
    match args.log_output {
        Some(LogOutput::Json) => settings.log.format = LogFormat::Json,
        Some(LogOutput::Text) => settings.log.format = LogFormat::Text,
        None => {}
    }
    LOG_MIN.store(rank_of(settings.log.level), Ordering::Relaxed);
    if args.worker {
        return super::run_worker::run(args, global, settings);
    }
    if settings.sources.inputs.is_empty() && !settings.listen.any() {
        // Before the store is created.
        return Err(keibi_engine::daemon::EngineError::NoSources.into());
    }
    let mut log = Log {
        json: settings.log.format == LogFormat::Json,
        quiet: global.quiet,
        lines: HashMap::new(),
        metrics: Arc::new(Mutex::new(Metrics::new(metrics::source_labels(&settings)))),
    };
    metrics::lock(&log.metrics).aws = crate::aws::metrics_hook();
    let server = start_server(&settings, &log)?;
    // The dashboard: beside the daemon on a thread of its own, over the same store
    // (its connections are not the daemon's lock). Only with --config or
    // --dashboard; never with --once.
    let dashboard_at = match (args.dashboard, args.once) {
        (_, true) => None,
        (Some(l), false) => l.addr(),
        (None, false) if args.config.is_some() => settings.dashboard.listen.addr(),
        (None, false) => None,
    };
    let _dashboard = match dashboard_at {
        Some(addr) => {
            let started = super::dashboard::start(&settings, &settings.store.path, addr)?;
            log.emit(
                "info",
                &say(Msg::new("dashboard-serving").arg("url", started.url.as_str())),
                &[("dashboard", json!(started.url))],
            );
            for note in &started.notes {
                log.info(note);
            }
            Some(started.dashboard)
        }
        None => None,
    };
    // The push listeners take logs from whoever can reach them (with the secret).
    let l = &settings.listen;
    for (what, addr) in [
        ("listen.firehose.listen", l.firehose.listen.addr()),
        ("listen.http.listen", l.http.listen.addr()),
        ("listen.syslog.udp", l.syslog.udp.addr()),
        ("listen.syslog.tcp", l.syslog.tcp.addr()),
    ] {
        if let Some(at) = addr.filter(|a| !a.ip().is_loopback()) {
            log.emit(
                "warn",
                &say(Msg::new("run-listen-not-loopback")
                    .arg("key", what)
                    .arg("at", at.to_string())),
                &[("listen", json!(at.to_string()))],
            );
        }
    }
    let detect = DetectArgs {
        state: args.state.clone(),
        placeholder: args.placeholder.clone(),
        ..DetectArgs::default()
    };
    let (scanner, persist, _) = super::scan::build_scanner_from(&settings, &detect, global)?;
    // Held with a lock: a second daemon on the same file is refused.
    let store = keibi_store::Store::open_exclusive(&settings.store.path)?;
    log.info(&say(
        Msg::new("run-store").arg("path", keibi_store::shown(&settings.store.path))
    ));
    let pipeline = Live::with_remote(
        &settings,
        scanner,
        store,
        args.once,
        Some(&crate::aws::remote_source),
        &mut |n| log.note(n),
    )?
    .with_metrics(log.metrics.clone());
    // Notifications: a thread of their own with its own store connection, started
    // once the store is open (and migrated), stopped after the loop.
    // With `--once` it runs after the pass instead, until it has nothing to send.
    let notifier = match Some(&settings.notify).filter(|n| !n.channels.is_empty()) {
        Some(n) => match start_notifier(n, &settings, args.once, None) {
            Ok(r) => Some(r),
            Err(reason) => {
                log_line(
                    settings.log.format == LogFormat::Json,
                    "error",
                    &say(Msg::new("notify-run-cannot-start").arg("reason", reason)),
                );
                return Ok(2);
            }
        },
        None => None,
    };
    // Responses: a thread of their own with their own store connection, acting on
    // what the loop commits; with `--once` they run after the pass.
    let responding = match super::run_respond::start(&settings, args.once, &log.metrics) {
        Ok(r) => r,
        Err(reason) => {
            log_line(
                settings.log.format == LogFormat::Json,
                "error",
                &say(Msg::new("respond-run-cannot-start").arg("reason", reason)),
            );
            return Ok(2);
        }
    };
    // The scheduled posture audit: a thread of its own with its own store
    // connection (`audit.every`, first at start); with `--once`, one round now.
    let auditing = start_audit(&settings, args.once, &log.metrics);
    // The second stage (global detections over the committed findings): a thread
    // with its own store connection; with `--once`, after the pass.
    let second_stage = (!args.once).then(|| start_global(&settings)).flatten();
    let control = Control::signals().context("installing signal handlers")?;
    let config = args.config.clone();
    let mut reload = || {
        let Some(path) = &config else {
            log_line(
                settings.log.format == LogFormat::Json,
                "info",
                &said("run-no-reload"),
            );
            return None;
        };
        let json = settings.log.format == LogFormat::Json;
        match Settings::load(path) {
            Ok((new, _)) => {
                match super::scan::load_services(&new, &DetectArgs::default(), global) {
                    Ok((_, services, _)) => {
                        if new.sources != from_file.sources
                            || new.rules != from_file.rules
                            || new.detection != from_file.detection
                            || new.store != from_file.store
                            || new.server != from_file.server
                            || new.log != from_file.log
                            || new.notify != from_file.notify
                            || new.audit != from_file.audit
                            || new.respond != from_file.respond
                        {
                            log_line(json, "warn", &said("run-reload-later"));
                        }
                        Some((new.tuning, services))
                    }
                    Err(e) => {
                        log_line(
                            json,
                            "error",
                            &say(Msg::new("run-reload-keeping").arg(
                                "reason",
                                e.chain()
                                    .map(|c| library_text(&c.to_string()))
                                    .collect::<Vec<_>>()
                                    .join(": "),
                            )),
                        );
                        None
                    }
                }
            }
            Err(LoadError::Invalid(problems)) => {
                for p in problems {
                    log_line(
                        json,
                        "error",
                        &say(Msg::new("run-reload-problem")
                            .arg("problem", super::config::problem_text(&p))),
                    );
                }
                log_line(json, "error", &said("run-reload-kept"));
                None
            }
            Err(e) => {
                log_line(
                    json,
                    "error",
                    &say(Msg::new("run-reload-keeping").arg("reason", load_error_text(&e))),
                );
                None
            }
        }
    };
    let retention = Retention::new(&settings.store, std::time::Instant::now());
    let outcome = daemon::run(
        pipeline,
        RunOptions {
            once: args.once,
            retention: Some(retention),
        },
        &control,
        &mut reload,
        &mut |n| log.note(n),
    );
    if let Some(a) = auditing {
        a.stop();
    }
    if let Some(g) = second_stage {
        g.stop();
    }
    if args.once && outcome.is_ok() {
        global_once(&settings);
    }
    // Before the notifier's last pass (`--once`), so what was done is told.
    if let Some(r) = responding {
        if outcome.is_ok() {
            r.finish();
        } else if let super::run_respond::Responding::Thread(t) = r {
            t.stop();
        }
    }
    if let Some(s) = server {
        s.stop();
    }
    match notifier {
        Some(Notifying::Thread(t)) => t.stop(),
        Some(Notifying::Once(mut n, mut note)) if outcome.is_ok() => {
            if let Err(e) = n.drain(10_000, &mut note) {
                note(NotifyNote::Store(e.to_string()));
            }
        }
        Some(Notifying::Once(..)) | None => {}
    }
    if let Err(e) = outcome {
        // The store holds the last batch that was committed, with its checkpoints:
        // what came after is read again at the next start.
        log_line(
            settings.log.format == LogFormat::Json,
            "error",
            &say(Msg::new("run-store-failed").arg("reason", library_text(&e.to_string()))),
        );
        return Ok(EXIT_STORE_FAILED);
    }
    if let Some(p) = &persist {
        let saved = p.save_all().context("--state")?;
        log.info(&say(Msg::new("run-profiles-written")
            .arg("n", saved.written)
            .arg("path", p.path().display().to_string())));
    }
    log.info(&said("run-stopped"));
    Ok(0)
}

/// `/metrics` and `/healthz` on `server.listen`, when asked.
pub(super) fn start_server(settings: &Settings, log: &Log) -> Result<Option<Server>> {
    let server = match settings.server.listen.addr() {
        Some(addr) if settings.server.metrics || settings.server.healthz => {
            let server = Server::start(
                addr,
                Endpoints {
                    metrics: settings.server.metrics,
                    healthz: settings.server.healthz,
                },
                log.metrics.clone(),
            )
            .context("server.listen (--listen ADDR, or off to serve nothing)")?;
            let at = server.addr();
            log.emit(
                "info",
                &say(Msg::new("run-serving").arg("at", at.to_string())),
                &[("listen", json!(at.to_string()))],
            );
            if !at.ip().is_loopback() {
                log.emit(
                    "warn",
                    &say(Msg::new("run-not-loopback").arg("at", at.to_string())),
                    &[("listen", json!(at.to_string()))],
                );
            }
            Some(server)
        }
        _ => None,
    };
    Ok(server)
}

/// Starts the scheduled audit when the settings ask for one (`audit.every` not 0
/// and a target named). With `once`, audits once now and starts nothing.
pub(super) fn start_audit(
    settings: &Settings,
    once: bool,
    metrics: &metrics::Shared,
) -> Option<keibi_engine::posture::Running> {
    use keibi_engine::posture::{self, AuditNote};
    let a = &settings.audit;
    if a.every.std().is_zero() || !(a.has_targets() || a.guardduty_findings) {
        return None;
    }
    let json = settings.log.format == LogFormat::Json;
    let targets = super::audit::Targets::of(a);
    let mut guardduty = a.guardduty_findings.then(|| GuardDutyRounds {
        regions: a.aws.regions.clone(),
        profile: a.aws.profile.clone(),
        endpoint_url: a.aws.endpoint_url.clone(),
        store: settings.store.path.clone(),
        since: None,
    });
    let gather: posture::Gather = Box::new(move || {
        let g = super::audit::gather(&targets);
        let mut problems = g.problems;
        let en = keibi_i18n::Locale::english_utc();
        problems.extend(g.notes.iter().map(|n| en.render(n)));
        if let Some(gd) = &mut guardduty {
            problems.extend(gd.round(json));
        }
        (g.snapshot, problems)
    });
    let note = move |n: AuditNote| match n {
        AuditNote::Done { round, problems } => log_fields(
            json,
            "info",
            &say(Msg::new("audit-run-done")
                .arg("failed", round.checks_failed)
                .arg("passed", round.checks_passed)
                .arg("suppressed", round.checks_suppressed)
                .arg("new", round.new)
                .arg("resolved", round.resolved.len())
                .arg("reopened", round.reopened)
                .arg("problems", problems)),
            &[
                ("failed", json!(round.checks_failed)),
                ("passed", json!(round.checks_passed)),
                ("suppressed", json!(round.checks_suppressed)),
                ("new", json!(round.new)),
                ("resolved", json!(round.resolved.len())),
                ("reopened", json!(round.reopened)),
            ],
        ),
        AuditNote::Problem(p) => log_line(
            json,
            "warn",
            &say(Msg::new("audit-run-problem").arg("problem", terminal(&p).into_owned())),
        ),
        AuditNote::Failed(e) => log_line(
            json,
            "error",
            &say(Msg::new("audit-run-failed").arg("error", library_text(&e))),
        ),
    };
    let store = match keibi_store::Store::open(&settings.store.path) {
        Ok(s) => s,
        Err(e) => {
            note(AuditNote::Failed(e.to_string()));
            return None;
        }
    };
    if once {
        let mut store = store;
        let mut gather = gather;
        let (snapshot, problems) = gather();
        for p in &problems {
            note(AuditNote::Problem(p.clone()));
        }
        let mut report = keibi_posture::audit(&snapshot, chrono::Utc::now());
        report.suppress(&a.rules());
        match posture::apply(&mut store, &snapshot, &report) {
            Ok(round) => note(AuditNote::Done {
                round,
                problems: problems.len(),
            }),
            Err(e) => note(AuditNote::Failed(e.to_string())),
        }
        return None;
    }
    match posture::Running::start(
        Box::new(store),
        gather,
        a.rules(),
        a.every.std(),
        Some(metrics.clone()),
        Box::new(note),
    ) {
        Ok(r) => Some(r),
        Err(e) => {
            log_line(
                json,
                "error",
                &say(Msg::new("audit-run-failed").arg("error", e.to_string())),
            );
            None
        }
    }
}

/// `audit.guardduty_findings`: GuardDuty's findings read into the store with each
/// audit round, the first time the last 7 days, then from an hour before the
/// previous round that read every region (re-reading changes nothing: the import
/// updates the same findings).
struct GuardDutyRounds {
    regions: Vec<String>,
    profile: Option<String>,
    endpoint_url: Option<String>,
    store: std::path::PathBuf,
    since: Option<chrono::DateTime<chrono::Utc>>,
}

impl GuardDutyRounds {
    /// One round: a log line per region read, the problems of the others.
    fn round(&mut self, json: bool) -> Vec<String> {
        let started = chrono::Utc::now();
        let since = match self.since {
            Some(t) => t - chrono::TimeDelta::hours(1),
            None => started - chrono::TimeDelta::days(7),
        };
        let regions: Vec<Option<String>> = if self.regions.is_empty() {
            vec![None]
        } else {
            self.regions.iter().cloned().map(Some).collect()
        };
        let mut problems = Vec::new();
        for region in regions {
            let src = crate::aws::GuardDutySource {
                region,
                endpoint_url: self.endpoint_url.clone(),
                profile: self.profile.clone(),
                timeout: std::time::Duration::from_secs(30),
                since,
            };
            match super::guardduty::import_into(&self.store, &src) {
                Ok(done) => {
                    if done.truncated {
                        log_line(json, "warn", &said("fnd-gd-truncated"));
                    }
                    log_fields(
                        json,
                        "info",
                        &say(done.message(&self.store)),
                        &[
                            ("guardduty_findings", json!(done.n)),
                            ("new", json!(done.new)),
                            ("updated", json!(done.updated)),
                            ("linked", json!(done.linked)),
                        ],
                    );
                }
                Err(e) => problems.push(format!("GuardDuty: {e:#}")),
            }
        }
        if problems.is_empty() {
            self.since = Some(started);
        }
        problems
    }
}

/// The notifier of a daemon (its thread), or of `--once` (run after the pass).
pub(super) enum Notifying {
    Thread(notifier::Running),
    Once(Box<notifier::Notifier>, Box<dyn FnMut(NotifyNote) + Send>),
}

/// Builds the channels (a setting that cannot work is an error now, not at the
/// first alert) and the notifier on its own store connection; starts it unless
/// `once`.
/// `claims`: in `keibi run --worker`, the worker id and how long a claim on a
/// message holds (`Notifier::with_claims`).
pub(super) fn start_notifier(
    n: &keibi_notify::settings::NotifySettings,
    settings: &Settings,
    once: bool,
    claims: Option<(&str, std::time::Duration)>,
) -> std::result::Result<Notifying, String> {
    let channels = notifier::build_channels(n, &crate::locale::current(), crate::aws::channels())
        .map_err(|e| library_text(&e.to_string()))?;
    let store =
        keibi_store::Store::open(&settings.store.path).map_err(|e| library_text(&e.to_string()))?;
    let json = settings.log.format == LogFormat::Json;
    let names: Vec<&str> = n.channels.iter().map(|c| c.name.as_str()).collect();
    log_fields(
        json,
        "info",
        &say(Msg::new("notify-run-started")
            .arg("n", names.len() as u64)
            .arg("names", names.join(", "))),
        &[("channels", json!(names))],
    );
    let note = move |note: NotifyNote| match note {
        NotifyNote::Sent {
            channel,
            event,
            finding_id,
            key,
            detail,
        } => log_fields(
            json,
            "info",
            &say(Msg::new("notify-run-sent")
                .arg("channel", &channel)
                .arg("event", &event)
                .arg("id", &finding_id[..finding_id.len().min(8)])
                .arg("detail", &detail)),
            &[
                ("channel", json!(channel)),
                ("event", json!(event)),
                ("id", json!(finding_id)),
                ("key", json!(key)),
            ],
        ),
        NotifyNote::Retry {
            channel,
            key,
            error,
            at,
        } => log_fields(
            json,
            "warn",
            &say(Msg::new("notify-run-retry")
                .arg("channel", &channel)
                .arg("error", &error)
                .arg("at", crate::locale::current().time(at, None))),
            &[
                ("channel", json!(channel)),
                ("key", json!(key)),
                ("next_try", json!(at)),
            ],
        ),
        NotifyNote::Failed {
            channel,
            key,
            error,
        } => log_fields(
            json,
            "error",
            &say(Msg::new("notify-run-failed")
                .arg("channel", &channel)
                .arg("error", &error)),
            &[("channel", json!(channel)), ("key", json!(key))],
        ),
        NotifyNote::SentDigest {
            channel,
            count,
            key,
            detail,
        } => log_fields(
            json,
            "info",
            &say(Msg::new("notify-run-sent-digest")
                .arg("channel", &channel)
                .arg("n", count as u64)
                .arg("detail", &detail)),
            &[
                ("channel", json!(channel)),
                ("event", json!("digest")),
                ("count", json!(count)),
                ("key", json!(key)),
            ],
        ),
        NotifyNote::SentSummary {
            channel,
            key,
            detail,
        } => log_fields(
            json,
            "info",
            &say(Msg::new("notify-run-sent-summary")
                .arg("channel", &channel)
                .arg("detail", &detail)),
            &[
                ("channel", json!(channel)),
                ("event", json!("summary")),
                ("key", json!(key)),
            ],
        ),
        NotifyNote::Store(reason) => log_fields(
            json,
            "error",
            &say(Msg::new("notify-run-store").arg("reason", library_text(&reason))),
            &[],
        ),
    };
    let mut n = notifier::Notifier::new(store, n.clone(), channels)
        .map_err(|e| library_text(&e.to_string()))?;
    if let Some((worker, hold)) = claims {
        n = n.with_claims(worker, hold);
    }
    if once {
        return Ok(Notifying::Once(Box::new(n), Box::new(note)));
    }
    notifier::Running::start(n, Box::new(note))
        .map(Notifying::Thread)
        .map_err(|e| e.to_string())
}

/// The daemon's own log on stderr.
pub(super) struct Log {
    pub(super) json: bool,
    pub(super) quiet: bool,
    pub(super) lines: HashMap<Arc<str>, u64>,
    /// Shared with the HTTP thread.
    pub(super) metrics: metrics::Shared,
}

impl Log {
    pub(super) fn info(&self, msg: &str) {
        log_line(self.json, "info", msg);
    }

    pub(super) fn emit(&self, level: &str, msg: &str, fields: &[(&str, Value)]) {
        log_fields(self.json, level, msg, fields);
    }

    pub(super) fn note(&mut self, n: Note) {
        match n {
            Note::Following(what) => self.emit(
                "info",
                &say(Msg::new("run-following").arg("what", &what)),
                &[("source", json!(what))],
            ),
            Note::Resumed(n) => {
                metrics::lock(&self.metrics).resumed = n;
                self.info(&say(Msg::new("run-resumed").arg("n", n)))
            }
            Note::Retention(Ok(e)) => {
                let p = &e.pruned;
                let msg = say(Msg::new("run-retention")
                    .arg("findings", p.findings)
                    .arg("history", p.history)
                    .arg(
                        "cutoff",
                        e.cutoff.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    )
                    .arg("bytes", e.size.file + e.size.wal)
                    .arg("stored", e.size.findings)
                    .arg(
                        "export",
                        p.exported_to
                            .as_ref()
                            .map(|f| {
                                say(Msg::new("run-retention-export")
                                    .arg("path", f.display().to_string()))
                            })
                            .unwrap_or_default(),
                    ));
                self.emit(
                    "info",
                    &msg,
                    &[
                        ("deleted", json!(p.findings)),
                        ("history", json!(p.history)),
                        ("cutoff", json!(e.cutoff)),
                        ("export", json!(p.exported_to)),
                        ("store_bytes", json!(e.size.file + e.size.wal)),
                    ],
                );
            }
            Note::Retention(Err(err)) => {
                self.emit(
                    "error",
                    &say(Msg::new("run-retention-failed")
                        .arg("reason", library_text(&err.to_string()))),
                    &[("reason", json!(err.to_string()))],
                )
            }
            Note::Profiles { loaded, skipped } => {
                self.info(&say(Msg::new("run-profiles").arg("n", loaded)));
                if skipped > 0 {
                    log_line(
                        self.json,
                        "warn",
                        &say(Msg::new("run-profiles-skipped").arg("n", skipped)),
                    );
                }
            }
            Note::Info(s) => self.info(&engine_text(&s)),
            Note::Warn(s) => log_line(self.json, "error", &engine_text(&s)),
            Note::Finding { change, applied } => {
                let f = change.finding();
                // The title in the reader's language when the finding carries its
                // messages; English is the contract's title.
                let locale = crate::locale::current();
                let title = match &f.text {
                    Some(t) if locale.lang != keibi_i18n::Lang::En => locale.finding(t).0,
                    _ => None,
                }
                .unwrap_or_else(|| f.title.clone());
                let msg = say(Msg::new("run-finding")
                    .arg(
                        "what",
                        said(match applied.outcome {
                            keibi_store::Outcome::New => "run-finding-new",
                            keibi_store::Outcome::Reopened => "run-finding-reopened",
                            keibi_store::Outcome::SeverityRaised => "run-finding-raised",
                            _ => "run-finding-changed",
                        }),
                    )
                    .arg(
                        "label",
                        said(&format!(
                            "severity-{}",
                            f.severity.label().as_str().to_lowercase()
                        )),
                    )
                    .arg("severity", f.severity.to_string())
                    .arg("type", &f.finding_type)
                    .arg("id", &f.id[..f.id.len().min(8)])
                    .arg("title", title));
                self.emit(
                    "warn",
                    &msg,
                    &[
                        ("id", json!(f.id)),
                        ("type", json!(f.finding_type)),
                        ("severity", json!(f.severity.label().as_str())),
                    ],
                );
            }
            Note::Source(notice) => {
                if self.quiet {
                    return;
                }
                match notice {
                    Notice::Opened { file, format } => self.emit(
                        "info",
                        &say(Msg::new("run-reading")
                            .arg("file", file.to_string())
                            .arg("format", format.name())),
                        &[("file", json!(file)), ("format", json!(format.name()))],
                    ),
                    Notice::FileError { file, error } => self.emit(
                        "warn",
                        &format!("{file}: {}", library_text(error)),
                        &[("file", json!(file)), ("reason", json!(error))],
                    ),
                    Notice::ReadError { file, line, error } => self.emit(
                        "warn",
                        &format!("{file}:{line}: {}", library_text(error)),
                        &[
                            ("file", json!(file)),
                            ("line", json!(line)),
                            ("reason", json!(error)),
                        ],
                    ),
                    Notice::Line {
                        file, line, reason, ..
                    } => {
                        let n = self.lines.entry(file.clone()).or_default();
                        *n += 1;
                        if *n <= LINE_NOTES_PER_FILE {
                            let msg = format!("{file}:{line}: {}", library_text(reason));
                            self.emit(
                                "warn",
                                &msg,
                                &[
                                    ("file", json!(file)),
                                    ("line", json!(line)),
                                    ("reason", json!(reason)),
                                ],
                            );
                        }
                    }
                }
            }
        }
    }
}

/// The least severe level written (`log.level`), as [`rank`].
pub(super) static LOG_MIN: AtomicU8 = AtomicU8::new(2);

pub(super) fn rank_of(l: LogLevel) -> u8 {
    match l {
        LogLevel::Error => 0,
        LogLevel::Warn => 1,
        LogLevel::Info => 2,
        LogLevel::Debug => 3,
        LogLevel::Trace => 4,
    }
}

fn rank(level: &str) -> u8 {
    match level {
        "error" => 0,
        "warn" => 1,
        "info" => 2,
        "debug" => 3,
        _ => 4,
    }
}

/// One line: `keibi: LEVEL: msg` with every control and invisible character escaped,
/// or a JSON object (escaped by serde).
pub(super) fn log_line(json: bool, level: &str, msg: &str) {
    log_fields(json, level, msg, &[]);
}

/// As [`log_line`]; in JSON, `fields` are keys of the object beside `time`, `level`
/// and `msg` (in text, the message says it all).
pub(super) fn log_fields(json: bool, level: &str, msg: &str, fields: &[(&str, Value)]) {
    if rank(level) > LOG_MIN.load(Ordering::Relaxed) {
        return;
    }
    if json {
        let mut o = serde_json::Map::new();
        o.insert(
            "time".into(),
            json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        );
        o.insert("level".into(), json!(level));
        o.insert("msg".into(), json!(msg));
        for (k, v) in fields {
            o.entry(*k).or_insert_with(|| v.clone());
        }
        eprintln!("{}", Value::Object(o));
    } else if level == "info" {
        eprintln!("keibi: {}", terminal(msg));
    } else {
        let word = match level {
            "warn" => said("run-level-warn"),
            "error" => said("run-level-error"),
            other => other.to_string(),
        };
        eprintln!("keibi: {word}: {}", terminal(msg));
    }
}

/// A settings file that could not be used, each problem on its line and in the
/// reader's language where keibi knows its shape.
pub(crate) fn load_error_text(e: &LoadError) -> String {
    match e {
        LoadError::Invalid(problems) => problems
            .iter()
            .map(super::config::problem_text)
            .collect::<Vec<_>>()
            .join("\n"),
        LoadError::Unreadable { file, reason } => format!("{file}: {}", library_text(reason)),
    }
}

/// A line of keibi-engine's loop (`Note::Info`, `Note::Warn`) in the reader's
/// language: the loop's own sentences are known here; any other text stays as the
/// engine wrote it.
fn engine_text(s: &str) -> String {
    if !crate::locale::is_ja() {
        return s.to_string();
    }
    match s {
        "stopping: committing what was read" => return said("run-stopping"),
        "settings and lists reloaded" => return said("run-reloaded"),
        "the store takes writes again: the held batch is committed" => {
            return said("run-store-back")
        }
        "every source has ended" => return said("run-ended"),
        _ => {}
    }
    const HELD: &str =
        "; the batch is held (nothing is read meanwhile, no checkpoint moves) and tried again in ";
    if let Some((reason, wait)) = s.strip_suffix(" s").and_then(|h| h.rsplit_once(HELD)) {
        if let Ok(secs) = wait.parse::<u64>() {
            return say(Msg::new("run-held")
                .arg("reason", library_text(reason))
                .arg("secs", secs));
        }
    }
    library_text(s)
}

/// How often the second stage reads the findings committed since its last round.
const GLOBAL_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

fn global_note(json: bool, r: Result<&keibi_engine::global::Round, String>) {
    match r {
        Ok(r) if r.findings.is_empty() => {}
        Ok(r) => log_fields(
            json,
            "info",
            &say(Msg::new("run-global")
                .arg("read", r.read)
                .arg("keys", r.keys)
                .arg("found", r.findings.len())),
            &[
                ("read", json!(r.read)),
                ("keys", json!(r.keys)),
                ("findings", json!(r.findings)),
            ],
        ),
        Err(e) => log_line(
            json,
            "warn",
            &say(Msg::new("run-global-failed").arg("reason", library_text(&e))),
        ),
    }
}

/// The second stage on its own thread (`keibi_engine::global`).
pub(super) fn start_global(settings: &Settings) -> Option<keibi_engine::global::Running> {
    use keibi_engine::global::{GlobalConfig, GlobalStage, Running};
    let json = settings.log.format == LogFormat::Json;
    let store = match keibi_store::Store::open(&settings.store.path) {
        Ok(s) => s,
        Err(e) => {
            global_note(json, Err(e.to_string()));
            return None;
        }
    };
    let note = Box::new(
        move |r: Result<keibi_engine::global::Round, keibi_store::StoreError>| {
            global_note(json, r.as_ref().map_err(|e| e.to_string()))
        },
    );
    match Running::start(
        store,
        GlobalStage::new(GlobalConfig::default()),
        GLOBAL_EVERY,
        note,
    ) {
        Ok(r) => Some(r),
        Err(e) => {
            global_note(json, Err(e.to_string()));
            None
        }
    }
}

/// `--once`: the second stage's rounds over what the pass committed.
fn global_once(settings: &Settings) {
    use keibi_engine::global::{drain, GlobalConfig, GlobalStage};
    let json = settings.log.format == LogFormat::Json;
    let result = keibi_store::Store::open(&settings.store.path).and_then(|mut store| {
        let mut stage = GlobalStage::new(GlobalConfig::default());
        drain(&mut store, &mut stage, 1_000, &mut |r| {
            global_note(json, Ok(r))
        })
    });
    if let Err(e) = result {
        global_note(json, Err(e.to_string()));
    }
}
