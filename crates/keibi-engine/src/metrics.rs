//! What `keibi run` reports about itself: the loop publishes a [`Metrics`] snapshot
//! after each round (behind a mutex held for microseconds), and the HTTP thread
//! renders it as Prometheus text (`/metrics`) or a health answer (`/healthz`).
//!
//! Every label value is escaped as the exposition format asks (`\\`, `\"`, `\n`);
//! source labels are the followed paths of the settings, format labels keibi's own
//! format names, type labels the finding types of the detectors and rules. Their
//! number is bounded by the settings and the catalog, not by the logs.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use keibi_ingest::Notice;
use keibi_model::Event;
use keibi_store::TypeCount;

/// The metrics as the HTTP thread reads them.
pub type Shared = Arc<Mutex<Metrics>>;

/// Files whose format is remembered for the unrecognized-lines count; past it, their
/// lines count under `unknown`.
const MAX_FILES: usize = 10_000;

/// A loop that has not finished a round for this long is stuck (`/healthz` 503).
pub const STALL: Duration = Duration::from_secs(60);

/// One followed source.
#[derive(Debug, Clone, Default)]
pub struct SourceMetrics {
    /// The path, glob or directory of the settings (`-` for standard input).
    pub label: String,
    /// Events read (after a restart, those past the stored checkpoint).
    pub events: u64,
    /// The latest event time read.
    pub newest: Option<DateTime<Utc>>,
}

/// What the loop publishes.
#[derive(Debug, Default)]
pub struct Metrics {
    pub sources: Vec<SourceMetrics>,
    /// Lines no parser understood, by format name.
    pub unrecognized: BTreeMap<&'static str, u64>,
    file_formats: HashMap<Arc<str>, &'static str>,
    /// Stored findings by type, severity band and status (refreshed after commits).
    pub findings: Vec<TypeCount>,
    /// The store's file and write-ahead log, in bytes.
    pub store_bytes: u64,
    pub rounds: u64,
    pub commits: u64,
    pub last_commit: Option<DateTime<Utc>>,
    /// When the last round ended.
    pub last_round: Option<Instant>,
    /// Checkpoints the loop resumed from at start.
    pub resumed: usize,
    /// Findings deleted by retention since start.
    pub expired: u64,
    pub last_prune: Option<DateTime<Utc>>,
    /// Set when the store failed (the loop then stops).
    pub store_error: Option<String>,
    /// While the store refuses a batch for a reason that may pass (disk full,
    /// busy): why, as the last try said, and since when (the first refused try).
    pub held: Option<Held>,
    /// Commits the store refused since start (every try of a held batch counts).
    pub failed_commits: u64,
    /// The scheduled posture audit's last round, when `audit.every` runs one.
    pub posture: Option<crate::posture::PostureMetrics>,
    /// The responder's journal, when `respond.enabled`.
    pub actions: Option<ActionMetrics>,
    /// The push listeners' counters, when any listener is on.
    pub listen: Option<Arc<crate::listen::Counters>>,
    /// The process's AWS calls, read when `/metrics` is rendered (the binary hands
    /// the hook in when it is built with AWS).
    pub aws: Option<AwsUsage>,
    /// `keibi run --worker`: the partitions this worker owns, their lag, its
    /// rebalances and lost leases.
    pub worker: Option<crate::worker::WorkerMetrics>,
}

/// The counts of one AWS API the process called (requests sent with their
/// retries, bytes of the answers, failed attempts) and their estimated cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsCalls {
    /// The source the calls were made for (its input URL), `none` for calls made
    /// outside any (an audit, an export, a notification), `other` past the AWS
    /// edge's bound on distinct sources.
    pub source: String,
    pub service: String,
    pub api: String,
    pub requests: u64,
    pub bytes: u64,
    pub errors: u64,
    /// At list prices, in US dollars.
    pub estimated_usd: f64,
}

/// Reads the process's [`AwsCalls`]: keibi-engine knows nothing of AWS, the binary
/// passes in what its AWS edge counts. Label values are bounded there (a fixed set
/// of keibi's own service and API names, at most 64 pairs; sources from the
/// settings, at most 32) and escaped here.
#[derive(Clone)]
pub struct AwsUsage(pub Arc<dyn Fn() -> Vec<AwsCalls> + Send + Sync>);

impl std::fmt::Debug for AwsUsage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AwsUsage(..)")
    }
}

/// What the responder publishes after each step that did something.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionMetrics {
    /// Actions in the journal by state.
    pub by_state: Vec<(keibi_respond::State, u64)>,
    /// `keibi actions pause` is in force.
    pub paused: bool,
}

/// A batch the store refused and the loop holds (see [`Metrics::held`]).
#[derive(Debug, Clone)]
pub struct Held {
    pub reason: String,
    pub since: DateTime<Utc>,
}

/// Locks, whatever a panicking holder left (the data are counters).
pub fn lock(m: &Shared) -> MutexGuard<'_, Metrics> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Metrics {
    /// Metrics for sources labelled `labels`, in the loop's order.
    pub fn new(labels: Vec<String>) -> Metrics {
        Metrics {
            sources: labels
                .into_iter()
                .map(|label| SourceMetrics {
                    label,
                    ..SourceMetrics::default()
                })
                .collect(),
            ..Metrics::default()
        }
    }

    /// What source `i` read in one poll.
    pub fn observe_poll(&mut self, i: usize, events: &[Event], notices: &[Notice]) {
        if let Some(s) = self.sources.get_mut(i) {
            s.events += events.len() as u64;
            if let Some(t) = events.iter().map(|e| e.time).max() {
                s.newest = Some(s.newest.map_or(t, |n| n.max(t)));
            }
        }
        for n in notices {
            match n {
                Notice::Opened { file, format }
                    if self.file_formats.len() < MAX_FILES
                        || self.file_formats.contains_key(file) =>
                {
                    self.file_formats.insert(file.clone(), format.name());
                }
                Notice::Line {
                    file,
                    unrecognized: true,
                    ..
                } => {
                    let f = self.file_formats.get(file).copied().unwrap_or("unknown");
                    *self.unrecognized.entry(f).or_default() += 1;
                }
                _ => {}
            }
        }
    }

    /// A commit went in: a held batch is no more.
    pub fn committed(&mut self, at: DateTime<Utc>) {
        self.commits += 1;
        self.last_commit = Some(at);
        self.held = None;
    }

    /// The store refused a commit; `held`: the loop keeps the batch and tries again
    /// (a reason that may pass), so `/healthz` says so until it goes in.
    pub fn commit_failed(&mut self, reason: String, held: bool, at: DateTime<Utc>) {
        self.failed_commits += 1;
        if held {
            let since = self.held.as_ref().map_or(at, |h| h.since);
            self.held = Some(Held { reason, since });
        }
    }

    /// Whether the loop is answering: a round ended within [`STALL`] and the store
    /// has not failed. The reason when not.
    pub fn health(&self, now: Instant) -> Result<(), String> {
        if let Some(e) = &self.store_error {
            return Err(format!("store: {e}"));
        }
        if let Some(h) = &self.held {
            return Err(format!("store: {}", h.reason));
        }
        match self.last_round {
            None => Err("no round finished yet".into()),
            Some(t) if now.saturating_duration_since(t) > STALL => Err(format!(
                "no round finished for {} s",
                now.saturating_duration_since(t).as_secs()
            )),
            Some(_) => Ok(()),
        }
    }

    /// The `/healthz` answer: status code and JSON body.
    pub fn healthz(&self, now: Instant, wall: DateTime<Utc>) -> (u16, String) {
        let health = self.health(now);
        let t = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        // A held batch is said as such (the loop goes on and retries); a store error
        // that stopped the loop, or a stalled loop, is "failing".
        let status = match (&health, &self.held) {
            (Ok(()), _) => "ok",
            (Err(_), Some(_)) if self.store_error.is_none() => "store-failing",
            (Err(_), _) => "failing",
        };
        let body = serde_json::json!({
            "status": status,
            "reason": health.as_ref().err(),
            "since": self.held.as_ref().map(|h| t(&h.since)),
            "time": t(&wall),
            "rounds": self.rounds,
            "last_round_ms_ago": self.last_round.map(|r| now.saturating_duration_since(r).as_millis() as u64),
            "last_commit": self.last_commit.as_ref().map(t),
            "resumed_checkpoints": self.resumed,
            "sources": self.sources.len(),
            "store_bytes": self.store_bytes,
            "worker": self.worker.as_ref().map(|w| serde_json::json!({
                "id": w.id,
                "partitions": w.lag_seconds.keys().collect::<Vec<_>>(),
                "sender": w.sender,
                "workers": w.workers,
            })),
        });
        (if health.is_ok() { 200 } else { 503 }, body.to_string())
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self, now: DateTime<Utc>) -> String {
        let mut o = String::new();
        let head = |o: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        head(
            &mut o,
            "keibi_events_read_total",
            "counter",
            "Events read from each followed source since start (not those read again after a restart).",
        );
        for s in &self.sources {
            let _ = writeln!(
                o,
                "keibi_events_read_total{{source=\"{}\"}} {}",
                escape(&s.label),
                s.events
            );
        }
        head(
            &mut o,
            "keibi_ingest_lag_seconds",
            "gauge",
            "Now minus the latest event time read from each source (grows while a source is quiet).",
        );
        for s in &self.sources {
            if let Some(t) = s.newest {
                let lag = (now - t).num_milliseconds() as f64 / 1000.0;
                let _ = writeln!(
                    o,
                    "keibi_ingest_lag_seconds{{source=\"{}\"}} {lag:.3}",
                    escape(&s.label)
                );
            }
        }
        head(
            &mut o,
            "keibi_unrecognized_lines_total",
            "counter",
            "Lines no parser understood since start, by the format of their file.",
        );
        for (f, n) in &self.unrecognized {
            let _ = writeln!(
                o,
                "keibi_unrecognized_lines_total{{format=\"{}\"}} {n}",
                escape(f)
            );
        }
        head(
            &mut o,
            "keibi_findings",
            "gauge",
            "Findings in the store by type, severity band and status.",
        );
        for c in &self.findings {
            let _ = writeln!(
                o,
                "keibi_findings{{type=\"{}\",severity=\"{}\",status=\"{}\"}} {}",
                escape(&c.finding_type),
                format!("{:?}", c.severity).to_ascii_lowercase(),
                c.status.as_str(),
                c.count
            );
        }
        let one = |o: &mut String, name: &str, kind: &str, help: &str, v: String| {
            head(o, name, kind, help);
            let _ = writeln!(o, "{name} {v}");
        };
        one(
            &mut o,
            "keibi_store_size_bytes",
            "gauge",
            "The store's file and write-ahead log, in bytes.",
            self.store_bytes.to_string(),
        );
        one(
            &mut o,
            "keibi_rounds_total",
            "counter",
            "Rounds of the loop (poll, order, detect, commit) since start.",
            self.rounds.to_string(),
        );
        one(
            &mut o,
            "keibi_commits_total",
            "counter",
            "Store transactions committed since start.",
            self.commits.to_string(),
        );
        if let Some(t) = self.last_commit {
            one(
                &mut o,
                "keibi_last_commit_timestamp_seconds",
                "gauge",
                "When the loop last committed, in seconds since 1970.",
                format!("{:.3}", t.timestamp_millis() as f64 / 1000.0),
            );
        }
        if let Some(p) = &self.posture {
            if let Some(t) = p.last_audit {
                one(
                    &mut o,
                    "keibi_posture_last_audit_timestamp_seconds",
                    "gauge",
                    "When the scheduled posture audit last went in, in seconds since 1970.",
                    format!("{:.3}", t.timestamp_millis() as f64 / 1000.0),
                );
            }
            head(
                &mut o,
                "keibi_posture_checks",
                "gauge",
                "Checks (control x resource) of the last posture audit, by result.",
            );
            for (r, n) in [
                ("passed", p.checks_passed),
                ("failed", p.checks_failed),
                ("suppressed", p.checks_suppressed),
            ] {
                let _ = writeln!(o, "keibi_posture_checks{{result=\"{r}\"}} {n}");
            }
            one(
                &mut o,
                "keibi_posture_problems",
                "gauge",
                "Targets of the last posture audit that could not be read (files, calls, databases).",
                p.problems.to_string(),
            );
            one(
                &mut o,
                "keibi_posture_audits_total",
                "counter",
                "Posture audits stored since start.",
                p.rounds.to_string(),
            );
            one(
                &mut o,
                "keibi_posture_audits_failed_total",
                "counter",
                "Posture audits the store refused since start.",
                p.failed_rounds.to_string(),
            );
        }
        one(
            &mut o,
            "keibi_store_failing",
            "gauge",
            "1 while the store refuses a batch the loop holds and retries (disk full, busy), else 0.",
            u8::from(self.held.is_some()).to_string(),
        );
        one(
            &mut o,
            "keibi_commits_failed_total",
            "counter",
            "Store transactions refused since start (each try of a held batch counts).",
            self.failed_commits.to_string(),
        );
        one(
            &mut o,
            "keibi_retention_deleted_findings_total",
            "counter",
            "Findings deleted by retention since start.",
            self.expired.to_string(),
        );
        if let Some(a) = &self.actions {
            head(
                &mut o,
                "keibi_actions",
                "gauge",
                "Response actions in the journal, by state.",
            );
            for st in keibi_respond::State::ALL {
                let n = a
                    .by_state
                    .iter()
                    .find(|(s, _)| *s == st)
                    .map_or(0, |(_, n)| *n);
                let _ = writeln!(o, "keibi_actions{{state=\"{}\"}} {n}", st.as_str());
            }
            one(
                &mut o,
                "keibi_responses_paused",
                "gauge",
                "1 while responses are paused (keibi actions pause), else 0.",
                u8::from(a.paused).to_string(),
            );
        }
        if let Some(l) = &self.listen {
            use std::sync::atomic::Ordering::Relaxed;
            for (name, help, v) in [
                (
                    "keibi_listen_refused_total",
                    "Requests the push listeners refused (401, 403, 400, 413, 503): nothing of them was queued.",
                    &l.refused,
                ),
                (
                    "keibi_listen_retries_total",
                    "Firehose requests whose id was already queued: answered 200, not fed again.",
                    &l.retries,
                ),
                (
                    "keibi_listen_udp_dropped_total",
                    "Syslog datagrams dropped because too much was waiting to be read.",
                    &l.udp_dropped,
                ),
            ] {
                one(&mut o, name, "counter", help, v.load(Relaxed).to_string());
            }
        }
        if let Some(hook) = &self.aws {
            render_aws(&mut o, &(hook.0)());
        }
        if let Some(w) = &self.worker {
            render_worker(&mut o, w);
        }
        o
    }
}

/// `keibi run --worker`'s lines. Partition labels are the stream's partition ids
/// (bounded by the partitions this worker owns), escaped.
fn render_worker(o: &mut String, w: &crate::worker::WorkerMetrics) {
    let head = |o: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    let id = escape(&w.id);
    head(
        o,
        "keibi_worker_partitions_owned",
        "gauge",
        "Stream partitions whose pipeline runs in this worker.",
    );
    let _ = writeln!(
        o,
        "keibi_worker_partitions_owned{{worker=\"{id}\"}} {}",
        w.partitions_owned
    );
    head(
        o,
        "keibi_worker_partition_lag_seconds",
        "gauge",
        "Per owned partition: seconds since its reader was last caught up with the stream (0 while it is).",
    );
    for (p, secs) in &w.lag_seconds {
        let _ = writeln!(
            o,
            "keibi_worker_partition_lag_seconds{{worker=\"{id}\",partition=\"{}\"}} {secs:.3}",
            escape(p)
        );
    }
    head(
        o,
        "keibi_worker_rebalances_total",
        "counter",
        "Times this worker handed partitions back because it held more than its fair share.",
    );
    let _ = writeln!(
        o,
        "keibi_worker_rebalances_total{{worker=\"{id}\"}} {}",
        w.rebalances
    );
    head(
        o,
        "keibi_worker_leases_lost_total",
        "counter",
        "Leases this worker lost (not renewed in time, or taken over): their work stopped without a commit.",
    );
    let _ = writeln!(
        o,
        "keibi_worker_leases_lost_total{{worker=\"{id}\"}} {}",
        w.leases_lost
    );
    head(
        o,
        "keibi_worker_sender",
        "gauge",
        "1 when this worker holds the _sender lease (it sends notifications and runs responses).",
    );
    let _ = writeln!(
        o,
        "keibi_worker_sender{{worker=\"{id}\"}} {}",
        u8::from(w.sender)
    );
    head(
        o,
        "keibi_workers_live",
        "gauge",
        "Workers whose heartbeat the store saw within a lease's time to live.",
    );
    let _ = writeln!(o, "keibi_workers_live{{worker=\"{id}\"}} {}", w.workers);
}

/// The AWS call counters: one series per (service, API, source), and the
/// estimated cost per source.
fn render_aws(o: &mut String, calls: &[AwsCalls]) {
    for (name, help, value) in [
        (
            "keibi_aws_requests_total",
            "AWS requests sent since start, by service, API and source (each retry counts: AWS bills it).",
            (|c: &AwsCalls| c.requests) as fn(&AwsCalls) -> u64,
        ),
        (
            "keibi_aws_response_bytes_total",
            "Bytes of AWS answers read since start, by service, API and source.",
            |c: &AwsCalls| c.bytes,
        ),
        (
            "keibi_aws_errors_total",
            "AWS requests that failed (refused, throttled, unreachable), by service, API and source.",
            |c: &AwsCalls| c.errors,
        ),
    ] {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter");
        for c in calls {
            let _ = writeln!(
                o,
                "{name}{{service=\"{}\",api=\"{}\",source=\"{}\"}} {}",
                escape(&c.service),
                escape(&c.api),
                escape(&c.source),
                value(c)
            );
        }
    }
    let mut by_source: std::collections::BTreeMap<&str, f64> = Default::default();
    for c in calls {
        *by_source.entry(c.source.as_str()).or_default() += c.estimated_usd;
    }
    let name = "keibi_aws_estimated_cost_usd_total";
    let _ = writeln!(
        o,
        "# HELP {name} The AWS calls since start at list prices, in US dollars, by source (data transfer out to the internet included: an upper bound).\n# TYPE {name} counter"
    );
    for (source, usd) in by_source {
        let _ = writeln!(
            o,
            "{name}{{source=\"{}\"}} {}",
            escape(source),
            if usd.is_finite() { usd } else { 0.0 }
        );
    }
}

/// The label of each source of `settings`, in the order the loop builds them.
pub fn source_labels(settings: &crate::settings::Settings) -> Vec<String> {
    use crate::settings::Target;
    settings
        .sources
        .inputs
        .iter()
        .map(|s| match s.target() {
            Some(Target::Path(p)) | Some(Target::Dir(p)) => p.display().to_string(),
            Some(Target::Glob(g)) => g.to_string(),
            Some(Target::Stdin) => "-".to_string(),
            Some(Target::Url(u)) => u.to_string(),
            None => String::new(),
        })
        // The push listeners are one source, after the followed ones.
        .chain(settings.listen.any().then(|| "listen".to_string()))
        .collect()
}

/// The loop's side of the metrics: counts rounds and refreshes what is read from
/// the store (its size, findings by type) after a commit with finding changes, at
/// most once a second, and every 15 s in any case (workflow changes made with
/// `keibi findings` come from other processes). The count reads the whole findings
/// table (about 0.13 s of CPU for 100,000 findings on the test machine), so the
/// interval also stays at least 20 times the last refresh: at most 5% of the loop.
#[derive(Debug, Default)]
pub struct Publisher {
    dirty: bool,
    refreshed: Option<Instant>,
    /// How long the last refresh took.
    took: Duration,
}

impl Publisher {
    /// The store changed: refresh soon.
    pub fn dirty(&mut self) {
        self.dirty = true;
    }

    /// After a round.
    pub fn round(
        &mut self,
        m: &Shared,
        store: &keibi_store::Store,
        r: &crate::daemon::Round,
        now: Instant,
    ) {
        self.dirty |= r.changes > 0;
        let since = self.refreshed.map(|t| now.saturating_duration_since(t));
        let floor = self.took * 20;
        let refresh = match since {
            None => true,
            Some(s) => {
                (self.dirty && s >= floor.max(Duration::from_secs(1)))
                    || s >= floor.max(Duration::from_secs(15))
            }
        };
        let stats = if refresh {
            self.refreshed = Some(now);
            self.dirty = false;
            let t = Instant::now();
            let stats = store
                .size()
                .and_then(|size| Ok((size, store.count_by_type()?)));
            self.took = t.elapsed();
            Some(stats)
        } else {
            None
        };
        let mut m = lock(m);
        m.rounds += 1;
        m.last_round = Some(now);
        match stats {
            Some(Ok((size, counts))) => {
                m.store_bytes = size.file + size.wal;
                m.findings = counts;
                m.store_error = None;
            }
            Some(Err(e)) => m.store_error = Some(e.to_string()),
            None => {}
        }
    }
}

/// A label value as the text format writes it.
fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use keibi_model::finding::SeverityLabel;
    use keibi_store::Status;

    #[test]
    fn a_worker_renders_its_partitions_and_says_its_id() {
        let mut m = Metrics::new(Vec::new());
        m.worker = Some(crate::worker::WorkerMetrics {
            id: "w\"1".into(),
            partitions_owned: 2,
            lag_seconds: [("0".to_string(), 0.0), ("shard\n1".to_string(), 2.5)]
                .into_iter()
                .collect(),
            rebalances: 3,
            leases_lost: 1,
            sender: true,
            workers: 3,
        });
        m.last_round = Some(Instant::now());
        let text = m.render(Utc::now());
        for line in [
            "keibi_worker_partitions_owned{worker=\"w\\\"1\"} 2",
            "keibi_worker_partition_lag_seconds{worker=\"w\\\"1\",partition=\"0\"} 0.000",
            "keibi_worker_partition_lag_seconds{worker=\"w\\\"1\",partition=\"shard\\n1\"} 2.500",
            "keibi_worker_rebalances_total{worker=\"w\\\"1\"} 3",
            "keibi_worker_leases_lost_total{worker=\"w\\\"1\"} 1",
            "keibi_worker_sender{worker=\"w\\\"1\"} 1",
            "keibi_workers_live{worker=\"w\\\"1\"} 3",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        let (code, body) = m.healthz(Instant::now(), Utc::now());
        assert_eq!(code, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["worker"]["id"], "w\"1");
        assert_eq!(
            v["worker"]["partitions"],
            serde_json::json!(["0", "shard\n1"])
        );
        // Without a worker, no worker lines.
        m.worker = None;
        assert!(!m.render(Utc::now()).contains("keibi_worker"));
    }

    #[test]
    fn aws_calls_render_from_the_hook_each_time() {
        let n = Arc::new(std::sync::atomic::AtomicU64::new(3));
        let seen = n.clone();
        let mut m = Metrics::new(vec![]);
        assert!(!m.render(Utc::now()).contains("keibi_aws_"));
        m.aws = Some(AwsUsage(Arc::new(move || {
            vec![
                AwsCalls {
                    source: "s3://trail/".into(),
                    service: "s3".into(),
                    api: "GetObject".into(),
                    requests: seen.load(std::sync::atomic::Ordering::Relaxed),
                    bytes: 4096,
                    errors: 1,
                    estimated_usd: 0.25,
                },
                AwsCalls {
                    source: "s3://trail/".into(),
                    service: "other".into(),
                    api: "a\"b".into(),
                    estimated_usd: 0.5,
                    ..AwsCalls::default()
                },
                AwsCalls {
                    source: "none".into(),
                    service: "sts".into(),
                    api: "GetCallerIdentity".into(),
                    requests: 1,
                    estimated_usd: 0.0,
                    ..AwsCalls::default()
                },
            ]
        })));
        let text = m.render(Utc::now());
        let s3 = ",source=\"s3://trail/\"}";
        assert!(text.contains(&format!(
            "keibi_aws_requests_total{{service=\"s3\",api=\"GetObject\"{s3} 3\n"
        )));
        assert!(text.contains(&format!(
            "keibi_aws_response_bytes_total{{service=\"s3\",api=\"GetObject\"{s3} 4096\n"
        )));
        assert!(text.contains(&format!(
            "keibi_aws_errors_total{{service=\"s3\",api=\"GetObject\"{s3} 1\n"
        )));
        assert!(text.contains(&format!(
            "keibi_aws_requests_total{{service=\"other\",api=\"a\\\"b\"{s3} 0\n"
        )));
        assert!(text.contains(
            "keibi_aws_requests_total{service=\"sts\",api=\"GetCallerIdentity\",source=\"none\"} 1\n"
        ));
        assert!(text.contains("keibi_aws_estimated_cost_usd_total{source=\"s3://trail/\"} 0.75\n"));
        assert!(text.contains("keibi_aws_estimated_cost_usd_total{source=\"none\"} 0\n"));
        assert!(text.contains("# TYPE keibi_aws_requests_total counter"));
        n.store(7, std::sync::atomic::Ordering::Relaxed);
        assert!(m.render(Utc::now()).contains(&format!(
            "keibi_aws_requests_total{{service=\"s3\",api=\"GetObject\"{s3} 7\n"
        )));
    }

    #[test]
    fn renders_the_text_format_with_escaped_labels() {
        let mut m = Metrics::new(vec!["/var/log/a\"b\\c\nd.log".into()]);
        let file: Arc<str> = Arc::from("x.log");
        m.observe_poll(
            0,
            &[],
            &[
                Notice::Opened {
                    file: file.clone(),
                    format: "postgres-stderr".parse().unwrap(),
                },
                Notice::Line {
                    file: file.clone(),
                    line: 3,
                    reason: "?".into(),
                    unrecognized: true,
                },
                Notice::Line {
                    file: Arc::from("never-opened"),
                    line: 1,
                    reason: "?".into(),
                    unrecognized: true,
                },
                Notice::Line {
                    file,
                    line: 4,
                    reason: "a warning".into(),
                    unrecognized: false,
                },
            ],
        );
        m.findings.push(TypeCount {
            finding_type: "CredentialAccess:RDS/BruteForce".into(),
            severity: SeverityLabel::High,
            status: Status::New,
            count: 2,
        });
        let text = m.render(Utc::now());
        assert!(
            text.contains("keibi_events_read_total{source=\"/var/log/a\\\"b\\\\c\\nd.log\"} 0\n"),
            "{text}"
        );
        assert!(text.contains("keibi_unrecognized_lines_total{format=\"postgres-stderr\"} 1\n"));
        assert!(text.contains("keibi_unrecognized_lines_total{format=\"unknown\"} 1\n"));
        assert!(text.contains(
            "keibi_findings{type=\"CredentialAccess:RDS/BruteForce\",severity=\"high\",status=\"new\"} 2\n"
        ));
        // Every sample line belongs to a metric with HELP and TYPE lines.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
            assert!(text.contains(&format!("# HELP {name} ")), "{name}");
        }
    }

    #[test]
    fn health_fails_when_the_loop_stalls_or_the_store_fails() {
        let mut m = Metrics::new(vec![]);
        let now = Instant::now() + STALL * 2;
        assert_eq!(m.healthz(now, Utc::now()).0, 503, "no round yet");
        m.last_round = Some(now - Duration::from_secs(1));
        let (code, body) = m.healthz(now, Utc::now());
        assert_eq!(code, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "ok");
        m.last_round = Some(now - STALL - Duration::from_secs(1));
        let (code, body) = m.healthz(now, Utc::now());
        assert_eq!(code, 503);
        assert!(body.contains("no round finished for 61 s"), "{body}");
        m.last_round = Some(now);
        m.store_error = Some("disk is full".into());
        let (code, body) = m.healthz(now, Utc::now());
        assert_eq!(code, 503);
        assert!(body.contains("store: disk is full"), "{body}");
    }

    #[test]
    fn a_held_batch_is_store_failing_at_once_and_ok_once_it_goes_in() {
        let mut m = Metrics::new(vec![]);
        let now = Instant::now();
        m.last_round = Some(now);
        let first = Utc::now();
        m.commit_failed("k.db: the disk is full".into(), true, first);
        let later = first + chrono::TimeDelta::seconds(3);
        m.commit_failed("k.db: the disk is full (again)".into(), true, later);
        let (code, body) = m.healthz(now, Utc::now());
        assert_eq!(code, 503, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "store-failing");
        assert_eq!(v["reason"], "store: k.db: the disk is full (again)");
        // Since the first refused try, not the last.
        assert_eq!(
            v["since"],
            first.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        );
        let text = m.render(Utc::now());
        assert!(text.contains("\nkeibi_store_failing 1\n"), "{text}");
        assert!(text.contains("\nkeibi_commits_failed_total 2\n"), "{text}");
        m.committed(Utc::now());
        let (code, body) = m.healthz(now, Utc::now());
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("\"since\":null"), "{body}");
        let text = m.render(Utc::now());
        assert!(text.contains("\nkeibi_store_failing 0\n"), "{text}");
        assert!(text.contains("\nkeibi_commits_failed_total 2\n"), "{text}");
        // A failure that stops the loop is not a held batch.
        m.commit_failed(
            "k.db: database disk image is malformed".into(),
            false,
            Utc::now(),
        );
        m.store_error = Some("k.db: database disk image is malformed".into());
        let (code, body) = m.healthz(now, Utc::now());
        assert_eq!(code, 503);
        assert!(body.contains("\"status\":\"failing\""), "{body}");
        assert!(m.render(Utc::now()).contains("\nkeibi_store_failing 0\n"));
    }
}
