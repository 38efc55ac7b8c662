//! `keibi run --worker` (issue 20): one of several processes that share the
//! partitions of the settings' `stream` and one store. keibi-engine's
//! [`keibi_engine::worker`] does the sharing; this gives it the stream (the NATS
//! and AWS edges), a scanner per partition, and what the `_sender` lease's holder
//! runs: the notifier, the responder, retention and the scheduled posture audit,
//! which `keibi run` alone runs itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use keibi_engine::daemon::{Control, Note};
use keibi_engine::metrics::{self, Metrics};
use keibi_engine::retention::Retention;
use keibi_engine::settings::{LogFormat, Settings};
use keibi_engine::worker::{self, MakeStream, Partitions, Role, Worker, WorkerNote, WorkerOptions};
use keibi_i18n::Msg;
use serde_json::json;

use super::run::{log_fields, log_line, Log};
use crate::cli::{DetectArgs, Global, RunArgs};
use crate::locale::{library_text, said, say};

pub fn run(args: &RunArgs, global: &Global, settings: Settings) -> Result<u8> {
    let json = settings.log.format == LogFormat::Json;
    if !settings.stream.any() {
        log_line(json, "error", &said("run-worker-no-stream"));
        return Ok(2);
    }
    let what = stream_label(&settings);
    let make_stream = match make_stream(&settings) {
        Ok(m) => m,
        Err(reason) => {
            log_line(
                json,
                "error",
                &say(Msg::new("run-worker-stream-unavailable")
                    .arg("what", what.as_str())
                    .arg("reason", library_text(&reason))),
            );
            return Ok(2);
        }
    };
    let ingest = worker::stream_ingest(&settings.stream)?;
    let log = Log {
        json,
        quiet: global.quiet,
        lines: Default::default(),
        metrics: Arc::new(Mutex::new(Metrics::new(Vec::new()))),
    };
    metrics::lock(&log.metrics).aws = crate::aws::metrics_hook();
    let server = super::run::start_server(&settings, &log)?;
    // The store is created and migrated once, before any worker thread opens it.
    drop(keibi_store::Store::open(&settings.store.path)?);
    log.info(&say(
        Msg::new("run-store").arg("path", settings.store.path.display().to_string())
    ));
    let w = &settings.worker;
    let id = w.id.clone().unwrap_or_else(|| {
        format!(
            "{}-{}",
            keibi_ingest::host_name().unwrap_or("keibi"),
            std::process::id()
        )
    });
    let mut opts = WorkerOptions::new(id.clone());
    opts.host = keibi_ingest::host_name().unwrap_or_default().to_string();
    opts.lease_ttl = w.lease_ttl.std();
    opts.renew_every = w.renew_every.std();
    let metrics = log.metrics.clone();
    let log = Arc::new(Mutex::new(log));
    let note_log = log.clone();
    let note: worker::SharedNote = Arc::new(Mutex::new(move |n: Note| {
        note_log.lock().unwrap_or_else(|e| e.into_inner()).note(n)
    }));
    // Each partition its own scanner (detectors, profiles), built as `keibi run`
    // builds its one.
    let settings = Arc::new(settings);
    let detect = DetectArgs {
        placeholder: args.placeholder.clone(),
        ..DetectArgs::default()
    };
    let g = Global {
        color: global.color,
        quiet: global.quiet,
        lang: global.lang.clone(),
        display_tz: global.display_tz.clone(),
    };
    let scan_settings = settings.clone();
    let scanner: worker::MakeScanner = Arc::new(move || {
        super::scan::build_scanner_from(&scan_settings, &detect, &g)
            .map(|(s, _, _)| s)
            .map_err(|e| format!("{e:#}"))
    });
    let runner = Partitions {
        settings: settings.clone(),
        store: settings.store.path.clone(),
        stream: make_stream.clone(),
        source: worker::partition_source(ingest),
        scanner,
        lease_ttl: opts.lease_ttl,
        note,
        metrics: Some(metrics.clone()),
    }
    .runner();
    let stream = make_stream().map_err(|e| anyhow::anyhow!("{e}"))?;
    let coordinator = keibi_store::Store::open(&settings.store.path)?;
    log_fields(
        json,
        "info",
        &say(Msg::new("run-worker-started")
            .arg("id", id.as_str())
            .arg("stream", stream.name())
            .arg("ttl", opts.lease_ttl.as_secs())
            .arg("renew", opts.renew_every.as_secs())),
        &[("worker", json!(id)), ("stream", json!(stream.name()))],
    );
    let sender_settings = settings.clone();
    let sender_metrics = metrics.clone();
    let sender_log = log.clone();
    let sender_id = id.clone();
    let sender_ttl = opts.lease_ttl;
    let global_settings = settings.clone();
    let worker = Worker::new(opts, coordinator, stream, runner)
        .with_metrics(metrics)
        .with_sender(Box::new(move || {
            start_sender(
                &sender_settings,
                &sender_metrics,
                sender_log.clone(),
                &sender_id,
                sender_ttl,
            )
        }))
        // The second stage, in the one worker holding `_global` (its failures are
        // logged by `start_global`; tried again at the next tick).
        .with_global(Box::new(move || {
            super::run::start_global(&global_settings)
                .map(|r| Box::new(r) as Box<dyn keibi_engine::worker::Role>)
                .ok_or_else(|| "the second stage could not start".to_string())
        }));
    let control = Control::signals().context("installing signal handlers")?;
    worker.run(&control.stop, &mut |n| worker_note(json, n));
    if let Some(s) = server {
        s.stop();
    }
    log_line(json, "info", &said("run-stopped"));
    Ok(0)
}

/// The stream's name for the first lines (before it is reached).
fn stream_label(settings: &Settings) -> String {
    match (&settings.stream.nats, &settings.stream.kinesis) {
        (Some(n), _) => format!("nats:{} at {}", n.stream, n.url),
        (_, Some(k)) => format!("kinesis:{}", k.stream),
        _ => String::new(),
    }
}

/// The hook that makes stream clients, from the edges this keibi was built with.
/// NATS: one connection shared by the coordinator and every partition's reader
/// (each reader is a consumer of its own); the stream is created when missing, so
/// workers may start before the producers.
fn make_stream(settings: &Settings) -> std::result::Result<MakeStream, String> {
    if let Some(n) = &settings.stream.nats {
        return nats_stream(n);
    }
    if let Some(k) = &settings.stream.kinesis {
        return kinesis_stream(k);
    }
    Err("no stream named".into())
}

/// Kinesis: one client (credentials, region, endpoint) shared by the coordinator
/// and every shard's reader; shards are listed, never created.
#[cfg(feature = "aws")]
fn kinesis_stream(
    k: &keibi_engine::settings::worker::KinesisStream,
) -> std::result::Result<MakeStream, String> {
    use keibi_aws::kinesis::{Kinesis, KinesisOptions, KinesisStream};
    let client = Kinesis::new(&KinesisOptions {
        region: k.region.clone(),
        endpoint_url: k.endpoint_url.clone(),
        profile: k.profile.clone(),
        timeout: std::time::Duration::from_secs(30),
        ..KinesisOptions::default()
    })
    .map_err(|e| e.to_string())?;
    let client = Arc::new(client);
    let stream = k.stream.clone();
    // The name is checked now: a bad one is a start-up error, not a loop of them.
    KinesisStream::new(client.clone(), &stream).map_err(|e| e.to_string())?;
    Ok(Arc::new(move || {
        KinesisStream::new(client.clone(), &stream)
            .map(|s| Box::new(s) as Box<dyn keibi_ingest::PartitionedStream>)
            .map_err(|e| keibi_ingest::StreamError {
                stream: format!("kinesis:{stream}"),
                reason: e.to_string(),
            })
    }))
}

#[cfg(not(feature = "aws"))]
fn kinesis_stream(
    _k: &keibi_engine::settings::worker::KinesisStream,
) -> std::result::Result<MakeStream, String> {
    Err("this keibi was built without AWS (cargo feature aws): it cannot read Kinesis".into())
}

#[cfg(feature = "nats")]
fn nats_stream(
    n: &keibi_engine::settings::worker::NatsStream,
) -> std::result::Result<MakeStream, String> {
    let js = keibi_nats::JetStream::connect(&n.url, &n.stream, n.partitions)
        .map_err(|e| e.to_string())?;
    js.ensure_stream().map_err(|e| e.to_string())?;
    Ok(Arc::new(move || {
        Ok(Box::new(js.clone()) as Box<dyn keibi_ingest::PartitionedStream>)
    }))
}

#[cfg(not(feature = "nats"))]
fn nats_stream(
    _n: &keibi_engine::settings::worker::NatsStream,
) -> std::result::Result<MakeStream, String> {
    Err("this keibi was built without the NATS client (cargo feature nats)".into())
}

/// What the `_sender` lease's holder runs, stopped together.
struct Sender {
    notifier: Option<super::run::Notifying>,
    responding: Option<super::run_respond::Responding>,
    auditing: Option<keibi_engine::posture::Running>,
    retention: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Role for Sender {
    fn stop(self: Box<Self>) {
        if let Some(a) = self.auditing {
            a.stop();
        }
        if let Some(r) = self.responding {
            r.finish();
        }
        if let Some(super::run::Notifying::Thread(t)) = self.notifier {
            t.stop();
        }
        if let Some((stop, t)) = self.retention {
            stop.store(true, Ordering::Relaxed);
            let _ = t.join();
        }
    }
}

fn start_sender(
    settings: &Settings,
    metrics: &metrics::Shared,
    log: Arc<Mutex<Log>>,
    worker: &str,
    lease_ttl: std::time::Duration,
) -> std::result::Result<Box<dyn Role>, String> {
    let notifier = match Some(&settings.notify).filter(|n| !n.channels.is_empty()) {
        // Each message claimed under the `_sender` lease for two lease lifetimes:
        // a successor waits that long before sending what a dead sender had in
        // hand.
        Some(n) => Some(super::run::start_notifier(
            n,
            settings,
            false,
            Some((worker, lease_ttl * 2)),
        )?),
        None => None,
    };
    let responding = match super::run_respond::start(settings, false, metrics) {
        Ok(r) => r,
        Err(e) => {
            if let Some(super::run::Notifying::Thread(t)) = notifier {
                t.stop();
            }
            return Err(e);
        }
    };
    let auditing = super::run::start_audit(settings, false, metrics);
    let retention = start_retention(settings, log)?;
    Ok(Box::new(Sender {
        notifier,
        responding,
        auditing,
        retention: Some(retention),
    }))
}

/// Retention on a thread of its own with its own store connection (`keibi run`
/// runs it in its loop).
fn start_retention(
    settings: &Settings,
    log: Arc<Mutex<Log>>,
) -> std::result::Result<(Arc<AtomicBool>, std::thread::JoinHandle<()>), String> {
    let mut store =
        keibi_store::Store::open(&settings.store.path).map_err(|e| library_text(&e.to_string()))?;
    let mut r = Retention::new(&settings.store, Instant::now());
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let t = std::thread::Builder::new()
        .name("keibi-retention".into())
        .spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                if r.due(Instant::now()) {
                    let done = r.apply(&mut store, Instant::now(), chrono::Utc::now());
                    log.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .note(Note::Retention(done));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
        .map_err(|e| e.to_string())?;
    Ok((stop, t))
}

/// A coordinator's note in the reader's language.
fn worker_note(json: bool, n: WorkerNote) {
    let role = |r: &str| {
        said(if r == worker::SENDER {
            "worker-role-sender"
        } else {
            "worker-role-global"
        })
    };
    match n {
        WorkerNote::Claimed { partition, epoch } => log_fields(
            json,
            "info",
            &say(Msg::new("worker-claimed")
                .arg("partition", partition.as_str())
                .arg("epoch", u64::try_from(epoch).unwrap_or(0))),
            &[("partition", json!(partition)), ("epoch", json!(epoch))],
        ),
        WorkerNote::Released { partition } => log_fields(
            json,
            "info",
            &say(Msg::new("worker-released").arg("partition", partition.as_str())),
            &[("partition", json!(partition))],
        ),
        WorkerNote::Ended { partition } => log_fields(
            json,
            "info",
            &say(Msg::new("worker-ended").arg("partition", partition.as_str())),
            &[("partition", json!(partition))],
        ),
        WorkerNote::Lost { lease } => log_fields(
            json,
            "warn",
            &say(Msg::new("worker-lost").arg("lease", lease.as_str())),
            &[("lease", json!(lease))],
        ),
        WorkerNote::Rebalance {
            owned,
            share,
            workers,
        } => log_fields(
            json,
            "info",
            &say(Msg::new("worker-rebalance")
                .arg("owned", owned as u64)
                .arg("share", share as u64)
                .arg("workers", workers as u64)),
            &[
                ("owned", json!(owned)),
                ("share", json!(share)),
                ("workers", json!(workers)),
            ],
        ),
        WorkerNote::RoleStarted(r) => log_fields(
            json,
            "info",
            &say(Msg::new("worker-role-started").arg("role", role(&r))),
            &[("role", json!(r))],
        ),
        WorkerNote::RoleStopped(r) => log_fields(
            json,
            "info",
            &say(Msg::new("worker-role-stopped").arg("role", role(&r))),
            &[("role", json!(r))],
        ),
        WorkerNote::RoleFailed { role: r, reason } => log_fields(
            json,
            "error",
            &say(Msg::new("worker-role-failed")
                .arg("role", role(&r))
                .arg("reason", library_text(&reason))),
            &[("role", json!(r))],
        ),
        WorkerNote::PartitionFailed { partition, reason } => log_fields(
            json,
            "error",
            &say(Msg::new("worker-partition-failed")
                .arg("partition", partition.as_str())
                .arg("reason", library_text(&reason))),
            &[("partition", json!(partition))],
        ),
        WorkerNote::Store(reason) => log_fields(
            json,
            "error",
            &say(Msg::new("worker-store").arg("reason", library_text(&reason))),
            &[],
        ),
        WorkerNote::Stream(reason) => log_fields(
            json,
            "error",
            &say(Msg::new("worker-stream").arg("reason", library_text(&reason))),
            &[],
        ),
    }
}
