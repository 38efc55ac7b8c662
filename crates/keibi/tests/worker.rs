//! Issue 20's kill test with real processes: a partitioned stream (a private
//! nats-server with JetStream, or Amazon Kinesis on moto server with two shards
//! resharded to four mid-stream), one shared store (an SQLite file, or
//! PostgreSQL), three `keibi run --worker` processes; the demo's week of logs and a
//! brute force spread over three instances are sent into the stream with `keibi
//! stream send`; one worker is killed with SIGKILL while the stream is read, then
//! the worker that sends notifications, and another starts later. At the end the
//! store holds what one `keibi scan` of the same logs finds (same ids, types,
//! counts, first and last seen), and the webhook receiver got each notification
//! exactly once.

#![cfg(feature = "nats")]

mod common;

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod aws;
#[path = "../../keibi-notify/tests/common/receiver.rs"]
mod receiver;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::daemon::{scan, stored, Summary};
use common::nats::Nats;
use receiver::Receiver;

const SECRET: &str = "worker-test-secret";
const PARTITIONS: u32 = 4;

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

/// A brute force from one address against `instance` (30 failures ten seconds
/// apart from 02:50) among failures from addresses that never repeat, as RDS's
/// PostgreSQL writes them.
fn brute_force(instance: usize) -> String {
    let mut lines = Vec::new();
    for m in 0..60u32 {
        let t = format!("02:{:02}:{:02}", m / 2 % 60, (m % 2) * 30);
        lines.push((t.clone(), format!(
            "2026-11-28 {t} UTC:198.51.{instance}.{}(40000):app@shop:[{}]:FATAL:  password authentication failed for user \"app\"\n",
            m + 1, 1000 + m
        )));
    }
    for k in 0..30u32 {
        let s = 50 * 60 + k * 10;
        let t = format!("02:{:02}:{:02}", s / 60, s % 60);
        lines.push((t.clone(), format!(
            "2026-11-28 {t} UTC:203.0.113.66(5{k:04}):app@shop:[{}]:FATAL:  password authentication failed for user \"app\"\n",
            5000 + k
        )));
    }
    lines.sort();
    lines.into_iter().map(|(_, l)| l).collect()
}

/// The stream the workers share.
enum Bus {
    Nats(Nats),
    /// moto server with Kinesis (`moto_kinesis.py`), its endpoint and Python.
    Kinesis {
        _svc: aws::Service,
        endpoint: String,
        python: PathBuf,
    },
}

const KINESIS_STREAM: &str = "keibi-logs";

impl Bus {
    fn nats() -> Option<Bus> {
        Nats::start(PARTITIONS).map(Bus::Nats)
    }

    /// moto server with a Kinesis stream of two shards.
    fn kinesis() -> Option<Bus> {
        let python = aws::python_with("moto")?;
        let port = aws::free_port();
        let mut cmd = Command::new(&python);
        cmd.arg(moto_script()).args(["serve", &port.to_string()]);
        let svc = aws::Service::start(cmd, port, "Running on", "moto_server (moto_kinesis.py)");
        let bus = Bus::Kinesis {
            _svc: svc,
            endpoint: format!("http://127.0.0.1:{port}"),
            python,
        };
        bus.moto(&["create", KINESIS_STREAM, "2"]);
        Some(bus)
    }

    fn moto(&self, args: &[&str]) {
        let Bus::Kinesis {
            endpoint, python, ..
        } = self
        else {
            return;
        };
        let o = Command::new(python)
            .arg(moto_script())
            .arg(args[0])
            .arg(endpoint)
            .args(&args[1..])
            .envs(AWS_ENV)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", common::describe(&o));
    }

    /// The partitions there are when the workers start.
    fn partitions(&self) -> usize {
        match self {
            Bus::Nats(_) => PARTITIONS as usize,
            Bus::Kinesis { .. } => 2,
        }
    }

    /// The settings' `stream:` section.
    fn settings(&self) -> String {
        match self {
            Bus::Nats(n) => format!(
                "stream:\n  nats: {{url: \"{}\", stream: KEIBI, partitions: {PARTITIONS}}}\n",
                n.url()
            ),
            Bus::Kinesis { endpoint, .. } => format!(
                "stream:\n  kinesis: {{stream: {KINESIS_STREAM}, region: us-east-1, endpoint_url: \"{endpoint}\"}}\n"
            ),
        }
    }

    /// `keibi stream send` of `files`, one instance's `log` (postgresql, audit):
    /// on JetStream as INSTANCE.LOG, on Kinesis keyed by the instance's log group.
    fn send(&self, instance: &str, log: &str, files: &[PathBuf]) -> Child {
        let mut c = keibi();
        c.args(["stream", "send"]);
        match self {
            Bus::Nats(n) => {
                c.args(["--nats", &n.url(), "--key", &format!("{instance}.{log}")]);
            }
            Bus::Kinesis { endpoint, .. } => {
                // As a CloudWatch Logs subscription to the instance's log group
                // writes them (gzip'd messages of log events; partition key = the
                // log group): the AWS-native path.
                c.args(["--kinesis", KINESIS_STREAM, "--region", "us-east-1"])
                    .args(["--endpoint-url", endpoint])
                    .args(["--key", &format!("/aws/rds/instance/{instance}/{log}")])
                    .envs(AWS_ENV);
            }
        }
        c.args(files)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Kinesis: UpdateShardCount 2 → 4 (the parents close, their children take the
    /// keys from now on). JetStream's partitions are fixed by the server's mapping.
    fn reshard(&self) {
        self.moto(&["reshard", KINESIS_STREAM, "4"]);
    }
}

/// Credentials for moto (any will do), and no real AWS configuration.
const AWS_ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

fn moto_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../keibi-aws/tests/data/moto_kinesis.py")
}

struct Worker {
    child: Option<Child>,
    log: PathBuf,
}

impl Worker {
    fn start(dir: &Path, n: usize) -> Worker {
        let log = dir.join(format!("worker-{n}.log"));
        let err = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = keibi()
            .args(["run", "--worker", "--config"])
            .arg(dir.join("keibi.yaml"))
            .env("KEIBI_TEST_HOOK_SECRET", SECRET)
            .envs(AWS_ENV)
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("KEIBI_LANG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap();
        Worker {
            child: Some(child),
            log,
        }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn is_sender(&self) -> bool {
        let l = self.log();
        l.contains("this worker now runs notifications")
            && !l.contains("this worker no longer runs notifications")
    }

    fn claimed(&self) -> usize {
        self.log().matches("claimed (lease epoch").count()
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGTERM and the exit code.
    fn stop(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        assert!(Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap()
            .success());
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if let Some(st) = c.try_wait().unwrap() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        None
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn sent(c: Child) {
    let o = c.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", common::describe(&o));
}

/// The files of `dir`, in name order (the demo's hourly files sort by time).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// The second stage's types (keibi-engine's `global`): findings across
/// partitions, which no single scan of the logs makes.
const GLOBAL_TYPES: [&str; 3] = [
    "CredentialAccess:RDS/BruteForce.MultipleInstances",
    "CredentialAccess:RDS/CredentialStuffing.MultipleInstances",
    "Behavior:IAMUser/MultipleAccounts",
];

/// A stored summary as (what one scan finds, the second stage's findings).
fn split(all: Summary) -> (Summary, Vec<(String, u64, String, String)>) {
    let (global, rest): (Summary, Summary) = all
        .into_iter()
        .partition(|(_, f)| GLOBAL_TYPES.contains(&f.0.as_str()));
    (rest, global.into_values().collect())
}

fn logs_of(ws: &[&Worker]) -> String {
    ws.iter()
        .map(|w| format!("--- {}\n{}", w.log.display(), common::tail(&w.log(), 6000)))
        .collect()
}

#[test]
fn jetstream_three_workers_on_sqlite_one_killed_store_what_one_scan_finds_and_notify_once() {
    if let Some(bus) = Bus::nats() {
        kill_test(bus, None);
    }
}

#[test]
fn jetstream_three_workers_on_postgresql_one_killed_store_what_one_scan_finds_and_notify_once() {
    let Some(url) = keibi_store::testing::postgres_url() else {
        return;
    };
    if let Some(bus) = Bus::nats() {
        kill_test(bus, Some(PathBuf::from(url)));
    }
}

#[cfg(feature = "aws")]
#[test]
fn kinesis_resharded_three_workers_on_postgresql_one_killed_store_what_one_scan_finds_and_notify_once(
) {
    let Some(url) = keibi_store::testing::postgres_url() else {
        return;
    };
    if let Some(bus) = Bus::kinesis() {
        kill_test(bus, Some(PathBuf::from(url)));
    }
}

/// The kill test on `bus`, with the store at `store` (a PostgreSQL URL) or an
/// SQLite file in the test's directory.
fn kill_test(bus: Bus, store: Option<PathBuf>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // The demo's week (pinned), and the brute force beside it in the same tree.
    let demo = dir.join("demo");
    let o = keibi()
        .args(["demo", "--week-ending", "2026-11-29", "--write-to"])
        .arg(&demo)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", common::describe(&o));
    let logs = demo.join("logs");
    for i in 1..=3 {
        let d = logs.join(format!("db-{i}/error"));
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("postgresql.log.2026-11-28-02"), brute_force(i)).unwrap();
    }
    let tor = demo.join("lists/tor-exit-addresses");
    let threat = demo.join("lists/threats.netset");
    let want: Summary = scan(&[
        logs.as_os_str(),
        OsStr::new("--tor-list"),
        tor.as_os_str(),
        OsStr::new("--threat-list"),
        threat.as_os_str(),
    ]);
    assert!(
        want.values()
            .filter(|f| f.0 == "CredentialAccess:RDS/BruteForce")
            .count()
            >= 3,
        "{want:?}"
    );

    // The second stage's finding: 203.0.113.66's 30 failures on each of three
    // instances (02:50:00 to 02:54:50), counted once per instance.
    let want_global: Vec<(String, u64, String, String)> = vec![(
        "CredentialAccess:RDS/BruteForce.MultipleInstances".into(),
        3,
        "2026-11-28T02:50:00Z".into(),
        "2026-11-28T02:54:50Z".into(),
    )];

    let rx = Receiver::start();
    let store_url = store.unwrap_or_else(|| dir.join("keibi.db"));
    fs::write(
        dir.join("keibi.yaml"),
        format!(
            "store:\n  path: \"{store}\"\nserver:\n  listen: off\nlists:\n  tor: [{tor}]\n  threat: [{threat}]\n\
             {stream}\
             worker:\n  lease_ttl: 3s\n  renew_every: 1s\n\
             notify:\n  channels:\n    - name: hook\n      type: webhook\n      url: {hook}\n      secret: {{env: KEIBI_TEST_HOOK_SECRET}}\n  routes:\n    - name: everything\n      channels: [hook]\n",
            store = store_url.display().to_string().replace('"', "\\\""),
            tor = tor.display(),
            threat = threat.display(),
            stream = bus.settings(),
            hook = rx.url("/hooks/keibi"),
        ),
    )
    .unwrap();

    let mut ws: Vec<Worker> = (1..=3).map(|n| Worker::start(dir, n)).collect();
    let start = Instant::now();
    while ws.iter().map(Worker::claimed).sum::<usize>() < bus.partitions() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the partitions were not claimed\n{}",
            logs_of(&ws.iter().collect::<Vec<_>>())
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The demo goes in; a worker that reads partitions and does not send is killed
    // once the store holds its first findings, while the stream is being read.
    let pg = bus.send(
        "shop-postgres",
        "postgresql",
        &files(&logs.join("shop-postgres/error")),
    );
    // The rotated file first: a producer sends a log in the order it was written.
    let audit = logs.join("shop-mysql/audit");
    let my = bus.send(
        "shop-mysql",
        "audit",
        &[
            audit.join("server_audit.log.1"),
            audit.join("server_audit.log"),
        ],
    );
    let start = Instant::now();
    while stored(&store_url).is_none_or(|s| s.is_empty()) {
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "no finding stored\n{}",
            logs_of(&ws.iter().collect::<Vec<_>>())
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let the workers settle into one partition or more each (a rebalance after
    // they started together) before choosing whom to kill.
    std::thread::sleep(Duration::from_secs(2));
    let victim = ws
        .iter()
        .position(|w| !w.is_sender() && w.claimed() > 0)
        .expect("a worker that reads and does not send");
    ws[victim].kill9();
    let before_kill = stored(&store_url).unwrap_or_default();
    sent(pg);
    sent(my);
    // Once everything announced so far was delivered, the sender is killed too:
    // another worker takes the _sender lease and announces what comes next (a
    // kill in the middle of a POST could make the new sender repeat that one
    // delivery: at least once; the test kills between deliveries).
    let outbox_len = || {
        keibi_store::Store::open_read_only(&store_url)
            .and_then(|s| s.outbox(0, 10_000))
            .map_or(0, |o| o.len())
    };
    let start = Instant::now();
    let mut quiet = 0;
    let mut last = usize::MAX;
    while quiet < 3 {
        let n = outbox_len();
        quiet = if n == last && rx.requests().len() == n && n > 0 {
            quiet + 1
        } else {
            0
        };
        last = n;
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "the outbox never settled: {n} entries, {} requests\n{}",
            rx.requests().len(),
            logs_of(&ws.iter().collect::<Vec<_>>())
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let announced = rx.requests().len();
    let sender = ws
        .iter()
        .position(|w| w.child.is_some() && w.is_sender())
        .expect("a sender");
    ws[sender].kill9();
    // Kinesis: the shards split under the workers; the brute forces go to the
    // children, read only once their parents are read to their ends.
    bus.reshard();
    for i in 1..=3 {
        sent(bus.send(
            &format!("db-{i}"),
            "postgresql",
            &files(&logs.join(format!("db-{i}/error"))),
        ));
    }
    std::thread::sleep(Duration::from_secs(2));
    ws.push(Worker::start(dir, 4));

    // Until the store holds what the scan found (or five minutes pass), and the
    // second stage's one finding the scan cannot make: the address that brute
    // forced db-1, db-2 and db-3, each in another partition.
    let start = Instant::now();
    loop {
        let (got, global) = split(stored(&store_url).unwrap_or_default());
        if got == want && global == want_global {
            break;
        }
        if start.elapsed() > Duration::from_secs(300) {
            let missing: Vec<_> = want
                .iter()
                .filter(|(k, v)| got.get(*k) != Some(v))
                .collect();
            let extra: Vec<_> = got
                .iter()
                .filter(|(k, v)| want.get(*k) != Some(v))
                .collect();
            panic!(
                "the store never matched the scan\nmissing or different: {missing:#?}\nextra or different: {extra:#?}\nsecond stage: {global:?}\n{}",
                logs_of(&ws.iter().collect::<Vec<_>>())
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    // Every notification sent before the workers stop.
    let outbox: BTreeMap<String, String> = {
        let s = keibi_store::Store::open_read_only(&store_url).unwrap();
        s.outbox(0, 10_000)
            .unwrap()
            .into_iter()
            .map(|e| (e.key, e.finding.id))
            .collect()
    };
    let start = Instant::now();
    while rx.requests().len() < outbox.len() && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    for w in ws.iter_mut() {
        if w.child.is_some() {
            assert_eq!(w.stop(), Some(0), "{}", w.log());
        }
    }
    let (after, global) = split(stored(&store_url).unwrap());
    assert_eq!(after, want, "nothing counted twice at the stop");
    assert_eq!(global, want_global, "nor by the second stage");
    assert!(
        !before_kill.is_empty() && split(before_kill.clone()).0 != want,
        "the kill came while the stream was read"
    );
    // Each outbox entry reached the receiver once; nothing else did.
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    for r in rx.requests() {
        *by_key
            .entry(r.header("x-keibi-delivery").unwrap_or("").to_string())
            .or_default() += 1;
    }
    assert_eq!(
        by_key.keys().collect::<Vec<_>>(),
        outbox.keys().collect::<Vec<_>>(),
        "every outbox entry, nothing else"
    );
    assert!(by_key.values().all(|n| *n == 1), "exactly once: {by_key:?}");
    // One `new` per finding: no finding was announced twice.
    let mut new_per_finding: BTreeMap<String, usize> = BTreeMap::new();
    for r in rx.requests() {
        if r.header("x-keibi-event") == Some("new") {
            *new_per_finding
                .entry(r.json()["finding"]["id"].as_str().unwrap_or("").to_string())
                .or_default() += 1;
        }
    }
    assert!(
        new_per_finding.values().all(|n| *n == 1),
        "{new_per_finding:?}"
    );
    let log = logs_of(&ws.iter().collect::<Vec<_>>());
    assert!(
        rx.requests().len() > announced,
        "the new sender announced the brute forces"
    );
    assert!(
        ws.iter()
            .enumerate()
            .any(|(i, w)| i != sender && w.log().contains("this worker now runs notifications")),
        "the _sender lease moved\n{log}"
    );
    assert!(
        log.contains("claimed (lease epoch 2)") || log.contains("claimed (lease epoch 3)"),
        "a partition changed hands\n{log}"
    );
    if let Bus::Kinesis { .. } = bus {
        // The reshard's children (shards 2 to 5) were read, after their parents.
        assert!(
            (2..=5).any(|i| log.contains(&format!("partition shardId-{i:012} claimed"))),
            "no child shard was read\n{log}"
        );
    }
}
