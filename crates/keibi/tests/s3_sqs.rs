//! `s3://` sources with `sqs:` against moto server (PyPI): the bucket's notification
//! configuration sends each created object's S3 event to an SQS queue (moto delivers
//! them as S3 does, and the `s3:TestEvent` when the configuration is saved). The
//! daemon, listing the bucket only once an hour, must read a new object within
//! seconds of its upload; delete every message only once its object's findings are
//! stored (a message it warns about, outside the prefix or not JSON, at once, with
//! nothing read); and after SIGKILLs the store must equal one scan of the bucket,
//! each object read once although its message comes back.
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh).

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod aws;

mod common;
use common::daemon::{brief as summary, stored_brief as stored};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const BUCKET: &str = "trail-bucket";

struct Moto {
    _svc: aws::Service,
    endpoint: String,
    python: PathBuf,
}

fn moto() -> Option<Moto> {
    let python = aws::python_with("moto")?;
    let port = aws::free_port();
    let mut cmd = Command::new(python.with_file_name("moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let svc = aws::Service::start(cmd, port, "Running on", "moto_server");
    Some(Moto {
        _svc: svc,
        endpoint: format!("http://127.0.0.1:{port}"),
        python,
    })
}

fn scenario(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name)
        .join("attack");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.remove(0)
}

fn key(i: usize, f: &Path) -> String {
    format!(
        "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/{i}_{}.gz",
        f.file_name().unwrap().to_string_lossy()
    )
}

impl Moto {
    fn script(&self, name: &str, args: &[&str]) -> String {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/aws")
            .join(name);
        let out = Command::new(&self.python)
            .arg(script)
            .arg(&self.endpoint)
            .args(args)
            .output()
            .expect("run the moto script");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The bucket and its queue, notified of every created object: the queue's URL.
    fn setup(&self) -> String {
        self.script("sqs_queue.py", &["setup", BUCKET, "trail-events"])
    }

    fn put(&self, key: &str, file: &Path) {
        self.script(
            "put_trail.py",
            &[BUCKET, &format!("{key}={}", file.display())],
        );
    }

    /// Messages left in the queue, visible or in flight.
    fn left(&self, queue: &str) -> usize {
        self.script("sqs_queue.py", &["count", queue])
            .parse()
            .unwrap()
    }
}

struct Daemon {
    settings: PathBuf,
    store: PathBuf,
    log: PathBuf,
}

impl Daemon {
    fn new(dir: &Path, moto: &Moto, queue: &str) -> Daemon {
        let store = dir.join("keibi.db");
        let settings = dir.join("keibi.yaml");
        // Listed once an hour: only the queue makes a new object read soon.
        std::fs::write(
            &settings,
            format!(
                "sources:\n  inputs:\n    - url: s3://{BUCKET}/AWSLogs/\n      sqs: {queue}\n      endpoint_url: {}\n      region: us-east-1\n      list_interval: 1h\nstore:\n  path: {}\n",
                moto.endpoint,
                store.display()
            ),
        )
        .unwrap();
        Daemon {
            settings,
            store,
            log: dir.join("daemon.log"),
        }
    }

    fn spawn(&self) -> Child {
        Command::new(env!("CARGO_BIN_EXE_keibi"))
            .args(["run", "--listen", "off", "--config"])
            .arg(&self.settings)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/keibi-test/credentials",
            )
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.log)
                    .unwrap(),
            )
            .spawn()
            .unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (at most a minute) until `done`; how long it took.
    fn wait(&self, what: &str, done: &dyn Fn() -> bool) -> Duration {
        let start = Instant::now();
        loop {
            if done() {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{what}: {:?}\n{}",
                stored(&self.store),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn findings(&self) -> BTreeSet<String> {
        stored(&self.store).unwrap_or_default()
    }
}

fn stop(mut child: Child) {
    child.kill().unwrap();
    let _ = child.wait();
}

/// One scan of the bucket, as `keibi scan s3://…` reads it.
fn scan(moto: &Moto) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args([
            "scan",
            "--format",
            "jsonl",
            &format!("s3://{BUCKET}/AWSLogs/"),
        ])
        .args(["--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/keibi-test/credentials",
        )
        .output()
        .unwrap();
    let f: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    summary(&f)
}

/// A new object is read within seconds although the bucket is listed once an
/// hour; each message is deleted, S3's test event and the messages warned about
/// (a key outside the prefix, a body that is not JSON) with nothing read.
#[test]
fn a_notified_object_is_read_within_seconds_and_its_message_deleted() {
    let Some(moto) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let queue = moto.setup();
    let d = Daemon::new(dir.path(), &moto, &queue);
    let daemon = d.spawn();
    // Started, listed the empty bucket, and S3's test event taken and deleted.
    d.wait("the test event deleted", &|| {
        d.store.exists() && moto.left(&queue) == 0
    });
    let file = scenario("ct-console-brute-force");
    moto.put(&key(0, &file), &file);
    let took = d.wait("the notified object's findings", &|| {
        !d.findings().is_empty()
    });
    eprintln!("findings of a notified object stored {took:?} after its upload");
    assert!(took < Duration::from_secs(10), "{took:?}");
    d.wait("its message deleted", &|| moto.left(&queue) == 0);

    // Another bucket's prefix and garbage: warned about, deleted, nothing read.
    let outside = serde_json::json!({"Records": [{"eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": BUCKET}, "object": {"key": "elsewhere/x.json.gz"}}}]});
    moto.script("sqs_queue.py", &["send", &queue, &outside.to_string()]);
    moto.script("sqs_queue.py", &["send", &queue, "{not json"]);
    d.wait("the bad messages deleted", &|| moto.left(&queue) == 0);
    d.wait("the warnings", &|| {
        let log = d.log();
        log.contains("outside the prefix") && log.contains("not JSON")
    });
    stop(daemon);
    assert_eq!(d.findings(), scan(&moto), "{}", d.log());
}

/// Killed with SIGKILL around the reading of notified objects (before their commit,
/// or between the commit and the deletion), restarted: each message comes back
/// after its visibility timeout, and the store ends equal to one scan of the bucket
/// (nothing lost, nothing counted twice), the queue empty.
#[test]
fn kill_9_around_a_notified_object_reads_it_exactly_once() {
    let Some(moto) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let queue = moto.setup();
    let d = Daemon::new(dir.path(), &moto, &queue);
    let files = [
        scenario("ct-console-brute-force"),
        scenario("ct-cloudtrail-logging-disabled"),
        scenario("ct-root-console-use"),
        scenario("ct-snapshot-public"),
    ];
    let mut daemon = d.spawn();
    d.wait("started", &|| d.store.exists());
    moto.put(&key(0, &files[0]), &files[0]);
    d.wait("the first object's findings", &|| !d.findings().is_empty());
    // Put, and killed at once: the object fetched or not, its batch committed or
    // not, its message deleted or not.
    for (i, f) in files.iter().enumerate().skip(1) {
        moto.put(&key(i, f), f);
        std::thread::sleep(Duration::from_millis(150 * i as u64));
        stop(daemon);
        daemon = d.spawn();
    }
    let want = scan(&moto);
    assert!(want.len() >= 4, "{want:?}");
    let start = Instant::now();
    while d.findings() != want || moto.left(&queue) != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "stored {:?}\nwant {want:?}\n{} messages left\n{}",
            d.findings(),
            moto.left(&queue),
            d.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Still equal once every message that came back was seen.
    std::thread::sleep(Duration::from_secs(3));
    stop(daemon);
    assert_eq!(d.findings(), want, "{}", d.log());
    assert_eq!(moto.left(&queue), 0);
}
