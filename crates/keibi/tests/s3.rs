//! `s3://` inputs against moto server (PyPI): real CloudTrail files of the scenario
//! tests, gzipped into a bucket under CloudTrail's layout (a trail of one account,
//! and an organisation trail's `AWSLogs/<org-id>/<account>/…`), with a digest file
//! beside them. `keibi scan s3://…` must find exactly what the same files give read
//! locally, with each evidence's source the object's `s3://` URL; `--since` must
//! skip the date folders before it in the listing, not only filter their events.
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh).

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod aws;

mod common;
use common::daemon::{brief as summary, stored_brief as stored};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

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

impl Moto {
    /// Puts each (key, file) gzipped into the bucket (created with `create`).
    fn put(&self, create: bool, objects: &[(String, &Path)]) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws/put_trail.py");
        let mut cmd = Command::new(&self.python);
        cmd.arg(script).arg(&self.endpoint).arg(BUCKET);
        if create {
            cmd.arg("--create");
        }
        for (key, file) in objects {
            cmd.arg(format!("{key}={}", file.display()));
        }
        let out = cmd.output().expect("run put_trail.py");
        assert!(
            out.status.success(),
            "put_trail.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn keibi(&self, args: &[&str]) -> (Vec<Value>, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_keibi"))
            .args(args)
            .args(["--endpoint-url", &self.endpoint, "--region", "us-east-1"])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/keibi-test/credentials",
            )
            .output()
            .expect("run keibi");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let lines = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        (lines, stderr)
    }
}

/// A finding without where its evidence was read: type, times, count, event ids.
fn essence(f: &Value) -> String {
    let ids: BTreeSet<&str> = f["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["event_id"].as_str())
        .collect();
    format!(
        "{} {} {} {} x{} {:?}",
        f["type"].as_str().unwrap_or("?"),
        f["resource"],
        f["first_seen"].as_str().unwrap_or("?"),
        f["last_seen"].as_str().unwrap_or("?"),
        f["count"],
        ids
    )
}

fn local_scan(files: &[&Path]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(["scan", "--format", "jsonl"])
        .args(files)
        .output()
        .expect("run keibi");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_trail_bucket_scans_as_its_files_do() {
    let Some(moto) = moto() else { return };
    let brute = scenario("ct-console-brute-force");
    let stopped = scenario("ct-cloudtrail-logging-disabled");
    let public = scenario("ct-snapshot-public");
    let root = scenario("ct-root-console-use");
    let digest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../keibi-parse/tests/data/cloudtrail/digest.json");
    let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
    let objects = vec![
        (
            format!(
                "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/{}.gz",
                name(&brute)
            ),
            brute.as_path(),
        ),
        (
            format!(
                "AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/28/{}.gz",
                name(&stopped)
            ),
            stopped.as_path(),
        ),
        // An organisation trail: the org id, then the member account.
        (
            format!(
                "AWSLogs/o-a1b2c3d4e5/123456789012/CloudTrail/eu-west-1/2026/11/28/{}.gz",
                name(&public)
            ),
            public.as_path(),
        ),
        // Delivered in an older date folder than the others.
        (
            format!(
                "AWSLogs/123456789012/CloudTrail/us-east-1/2026/10/01/{}.gz",
                name(&root)
            ),
            root.as_path(),
        ),
        (
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/28/d.json.gz".to_string(),
            digest.as_path(),
        ),
    ];
    moto.put(true, &objects);

    let (remote, stderr) = moto.keibi(&["scan", "--format", "jsonl", "s3://trail-bucket/"]);
    let local = local_scan(&[&brute, &stopped, &public, &root]);
    assert!(!local.is_empty(), "the fixtures give findings");
    let want: BTreeSet<String> = local.iter().map(essence).collect();
    let got: BTreeSet<String> = remote.iter().map(essence).collect();
    assert_eq!(got, want, "stderr: {stderr}");
    assert_eq!(remote.len(), local.len());
    for f in &remote {
        for e in f["evidence"].as_array().unwrap() {
            let src = e["source"].as_str().unwrap();
            assert!(
                src.starts_with("s3://trail-bucket/AWSLogs/") && src.ends_with(".json.gz"),
                "{src}"
            );
        }
    }
    assert!(
        !stderr.contains("Digest"),
        "the digest is not read: {stderr}"
    );
    // The closing AWS line counts the calls the scan made: one GetObject per
    // trail file (the digest is listed, never fetched), the listing, and the sizes
    // of the objects read.
    let usage = stderr
        .lines()
        .find(|l| l.starts_with("keibi: AWS: "))
        .unwrap_or_else(|| panic!("no AWS usage line: {stderr}"));
    assert!(usage.contains("s3 GetObject 4"), "{usage}");
    assert!(usage.contains("s3 ListObjectsV2 "), "{usage}");
    assert!(usage.contains("at us-east-1 list prices"), "{usage}");
    assert!(usage.contains("≈ $0.0000"), "{usage}");

    // The same bucket read by an assumed role (--role-arn: moto's STS hands out
    // the role's keys, and moto's S3 takes them) gives the same findings.
    let (by_role, stderr) = moto.keibi(&[
        "scan",
        "--format",
        "jsonl",
        "--role-arn",
        "arn:aws:iam::123456789012:role/keibi-read",
        "--external-id",
        "keibi-ext-1",
        "s3://trail-bucket/",
    ]);
    let by_role: BTreeSet<String> = by_role.iter().map(essence).collect();
    assert_eq!(by_role, want, "stderr: {stderr}");
    // A role ARN that is not one is named, and nothing is read with the chain's
    // keys instead.
    let (none, stderr) = moto.keibi(&[
        "scan",
        "--format",
        "jsonl",
        "--role-arn",
        "arn:aws:iam::123456789012:user/not-a-role",
        "s3://trail-bucket/",
    ]);
    assert!(none.is_empty(), "{none:?}");
    assert!(
        stderr.contains("arn:aws:iam::123456789012:user/not-a-role")
            && stderr.contains("not a role ARN"),
        "{stderr}"
    );

    // `keibi events` names each event's object; --since lists from the day before
    // it in every region folder (the organisation trail's too), so the object
    // delivered in October is not fetched at all, though its events are of November.
    let files = |events: &[Value]| -> BTreeSet<String> {
        events
            .iter()
            .map(|e| e["file"].as_str().unwrap().to_string())
            .collect()
    };
    let (all, _) = moto.keibi(&["events", "--format", "jsonl", "s3://trail-bucket/AWSLogs/"]);
    assert_eq!(files(&all).len(), 4, "{:?}", files(&all));
    let (since, stderr) = moto.keibi(&[
        "events",
        "--format",
        "jsonl",
        "--since",
        "2026-11-28",
        "s3://trail-bucket/",
    ]);
    let got = files(&since);
    assert_eq!(got.len(), 3, "{got:?} {stderr}");
    assert!(got.iter().all(|f| !f.contains("/2026/10/01/")), "{got:?}");
    assert!(got.iter().any(|f| f.contains("/o-a1b2c3d4e5/")), "{got:?}");

    // A bucket that is not there is an error naming it; the run fails.
    let out = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(["events", "--format", "jsonl", "s3://no-such-bucket/x"])
        .args(["--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("s3://no-such-bucket/x"), "{stderr}");
    assert!(stderr.contains("NoSuchBucket"), "{stderr}");
}

/// `keibi run` with an `s3://` source: objects put while it runs are read at the next
/// listing; killed with SIGKILL and restarted, it resumes after the last object it
/// committed, so the store ends equal to one scan of the bucket (nothing lost, no
/// event counted twice).
#[test]
fn a_followed_bucket_survives_kill_9_and_equals_one_scan() {
    let Some(moto) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let files = [
        scenario("ct-console-brute-force"),
        scenario("ct-cloudtrail-logging-disabled"),
        scenario("ct-root-console-use"),
        scenario("ct-snapshot-public"),
    ];
    // Two region folders: a new object of us-east-1 sorts before the us-west-2 one
    // read before it, and must still be read (each region has its own checkpoint).
    let key = |i: usize, region: &str, f: &Path| {
        format!(
            "AWSLogs/123456789012/CloudTrail/{region}/2026/11/28/{i}_{}.gz",
            f.file_name().unwrap().to_string_lossy()
        )
    };
    let store = dir.path().join("keibi.db");
    let settings = dir.path().join("keibi.yaml");
    std::fs::write(
        &settings,
        format!(
            "sources:\n  inputs:\n    - url: s3://{BUCKET}/AWSLogs/\n      endpoint_url: {}\n      region: us-east-1\n      list_interval: 1s\nstore:\n  path: {}\n",
            moto.endpoint,
            store.display()
        ),
    )
    .unwrap();
    let daemon_log = dir.path().join("daemon.log");
    let run = |once: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keibi"));
        cmd.args(["run", "--listen", "off", "--config"])
            .arg(&settings)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/keibi-test/credentials",
            )
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null());
        if once {
            cmd.arg("--once");
        }
        cmd.stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&daemon_log)
                .unwrap(),
        );
        cmd
    };
    let log = || std::fs::read_to_string(&daemon_log).unwrap_or_default();
    let wait = |what: &str, done: &dyn Fn(&BTreeSet<String>) -> bool| {
        let start = std::time::Instant::now();
        loop {
            if let Some(s) = stored(&store) {
                if done(&s) {
                    return s;
                }
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(60),
                "{what}: {:?}\n{}",
                stored(&store),
                log()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };

    moto.put(
        true,
        &[
            (key(0, "us-east-1", &files[0]), files[0].as_path()),
            (key(0, "us-west-2", &files[1]), files[1].as_path()),
        ],
    );
    let mut daemon = run(false).spawn().unwrap();
    let first = wait("the first objects' findings", &|s| s.len() >= 3);
    // Put while it runs: read at the next listing, though it sorts before the
    // us-west-2 object already read.
    moto.put(
        false,
        &[(key(1, "us-east-1", &files[2]), files[2].as_path())],
    );
    let second = wait("the third object's findings", &|s| s.len() > first.len());
    daemon.kill().unwrap();
    let _ = daemon.wait();
    // One more while it is down, read after the restart, and killed again at once
    // after another is put.
    moto.put(
        false,
        &[(key(1, "us-west-2", &files[3]), files[3].as_path())],
    );
    let mut daemon = run(false).spawn().unwrap();
    wait("the fourth object's findings", &|s| s.len() > second.len());
    moto.put(
        false,
        &[(key(2, "us-east-1", &files[1]), files[1].as_path())],
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    daemon.kill().unwrap();
    let _ = daemon.wait();
    // Then once to the end.
    let st = run(true).status().unwrap();
    assert!(st.success(), "{}", log());

    let (scanned, stderr) =
        moto.keibi(&["scan", "--format", "jsonl", "s3://trail-bucket/AWSLogs/"]);
    let want = summary(&scanned);
    assert!(want.len() >= 4, "{want:?} {stderr}");
    assert_eq!(stored(&store).unwrap(), want, "{}", log());
}

/// `cloudwatch://` inputs: RDS PostgreSQL lines put into two streams of a moto log
/// group as RDS exports them (one event per line) scan as the same files read
/// locally, named after the group's instance, each evidence's source the stream;
/// so does a MariaDB audit log in a group of its own.
#[test]
fn a_log_group_scans_as_its_files_do() {
    let Some(moto) = moto() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let a =
        root.join("login-successful-bruteforce/attack/shop-postgres/postgresql.log.2026-11-28-09");
    let b = root.join("login-tor-success/attack/shop-postgres/postgresql.log.2026-11-28-09");
    let group = "/aws/rds/instance/shop-postgres/postgresql";
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws/put_logs.py");
    let out = Command::new(&moto.python)
        .arg(script)
        .arg(&moto.endpoint)
        .arg(group)
        .arg("--create")
        .arg(format!("shop-postgres.0={}", a.display()))
        .arg(format!("shop-postgres.1={}", b.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "put_logs.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let url = format!("cloudwatch://{group}");
    let (remote, stderr) = moto.keibi(&["scan", "--format", "jsonl", &url]);
    let local = local_scan(&[&a, &b]);
    assert!(!local.is_empty());
    let want: BTreeSet<String> = local.iter().map(essence).collect();
    let got: BTreeSet<String> = remote.iter().map(essence).collect();
    assert_eq!(got, want, "stderr: {stderr}");
    for f in &remote {
        assert_eq!(f["resource"]["id"].as_str(), Some("shop-postgres"), "{f}");
        for e in f["evidence"].as_array().unwrap() {
            let src = e["source"].as_str().unwrap();
            assert!(src.starts_with(&format!("{url}:shop-postgres.")), "{src}");
        }
    }
    // --since/--until go to FilterLogEvents: a window after every line reads none.
    let (events, stderr) =
        moto.keibi(&["events", "--format", "jsonl", "--since", "2026-11-29", &url]);
    assert!(events.is_empty(), "{events:?} {stderr}");
    let (events, _) = moto.keibi(&["events", "--format", "jsonl", &url]);
    assert!(events.len() > 10, "{}", events.len());

    // A MariaDB audit log exported by RDS MySQL: detected and parsed as its file.
    let audit = root.join("login-bruteforce-mysql/attack/orders-mysql/audit/server_audit.log");
    let group = "/aws/rds/instance/orders-mysql/audit";
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws/put_logs.py");
    let out = Command::new(&moto.python)
        .arg(script)
        .arg(&moto.endpoint)
        .arg(group)
        .arg("--create")
        .arg(format!("orders-mysql={}", audit.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "put_logs.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (remote, stderr) = moto.keibi(&[
        "scan",
        "--format",
        "jsonl",
        &format!("cloudwatch://{group}"),
    ]);
    let local = local_scan(&[&audit]);
    assert!(!local.is_empty());
    let want: BTreeSet<String> = local.iter().map(essence).collect();
    let got: BTreeSet<String> = remote.iter().map(essence).collect();
    assert_eq!(got, want, "stderr: {stderr}");
}

/// `keibi run` with a `cloudwatch://` source: lines put into two streams while it
/// runs are read at the next listing; killed with SIGKILL and restarted, each
/// stream resumes after its checkpoint (timestamp and the event ids at it), so the
/// store ends equal to one scan of the group.
#[test]
fn a_followed_log_group_survives_kill_9_and_equals_one_scan() {
    let Some(moto) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let a = std::fs::read_to_string(
        root.join("login-successful-bruteforce/attack/shop-postgres/postgresql.log.2026-11-28-09"),
    )
    .unwrap();
    let b = std::fs::read_to_string(
        root.join("login-tor-success/attack/shop-postgres/postgresql.log.2026-11-28-09"),
    )
    .unwrap();
    // Each file in two halves, cut at a line that starts an entry.
    let halves = |text: &str, name: &str| -> (PathBuf, PathBuf) {
        let lines: Vec<&str> = text.lines().collect();
        let mut cut = lines.len() / 2;
        while cut < lines.len() && !lines[cut].starts_with("2026-") {
            cut += 1;
        }
        let one = dir.path().join(format!("{name}.1"));
        let two = dir.path().join(format!("{name}.2"));
        std::fs::write(&one, lines[..cut].join("\n") + "\n").unwrap();
        std::fs::write(&two, lines[cut..].join("\n") + "\n").unwrap();
        (one, two)
    };
    let (a1, a2) = halves(&a, "a");
    let (b1, b2) = halves(&b, "b");
    let group = "/aws/rds/instance/shop-postgres/postgresql";
    let put = |create: bool, parts: &[(&str, &Path)]| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws/put_logs.py");
        let mut cmd = Command::new(&moto.python);
        cmd.arg(script).arg(&moto.endpoint).arg(group);
        if create {
            cmd.arg("--create");
        }
        for (stream, file) in parts {
            cmd.arg(format!("{stream}={}", file.display()));
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "put_logs.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let store = dir.path().join("keibi.db");
    let settings = dir.path().join("keibi.yaml");
    std::fs::write(
        &settings,
        format!(
            "sources:\n  inputs:\n    - url: cloudwatch://{group}\n      endpoint_url: {}\n      region: us-east-1\n      list_interval: 1s\nstore:\n  path: {}\n",
            moto.endpoint,
            store.display()
        ),
    )
    .unwrap();
    let daemon_log = dir.path().join("daemon.log");
    let run = |once: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keibi"));
        cmd.args(["run", "--listen", "off", "--config"])
            .arg(&settings)
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
                    .open(&daemon_log)
                    .unwrap(),
            );
        if once {
            cmd.arg("--once");
        }
        cmd
    };
    let log = || std::fs::read_to_string(&daemon_log).unwrap_or_default();
    let wait_log = |needle: &str, n: usize| {
        let start = std::time::Instant::now();
        while log().matches(needle).count() < n {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(60),
                "{needle}: {}",
                log()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };

    put(true, &[("shop-postgres.0", &a1), ("shop-postgres.1", &b1)]);
    let mut daemon = run(false).spawn().unwrap();
    wait_log("reading cloudwatch://", 2);
    std::thread::sleep(std::time::Duration::from_millis(500));
    put(false, &[("shop-postgres.0", &a2)]);
    wait_log("reading cloudwatch://", 3);
    std::thread::sleep(std::time::Duration::from_millis(500));
    daemon.kill().unwrap();
    let _ = daemon.wait();
    put(false, &[("shop-postgres.1", &b2)]);
    let st = run(true).status().unwrap();
    assert!(st.success(), "{}", log());

    let url = format!("cloudwatch://{group}");
    let (scanned, stderr) = moto.keibi(&["scan", "--format", "jsonl", &url]);
    let want = summary(&scanned);
    assert!(want.len() >= 2, "{want:?} {stderr}");
    assert_eq!(stored(&store).unwrap(), want, "{}", log());
}

/// `keibi run` following a bucket shows its AWS calls in `/metrics`: one GetObject
/// per object (each read once), the listings, the bytes read and an estimate
/// above zero.
#[test]
fn a_followed_bucket_shows_its_calls_in_metrics() {
    use std::io::{Read, Write};
    let Some(moto) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let files = [
        scenario("ct-console-brute-force"),
        scenario("ct-root-console-use"),
    ];
    moto.put(
        true,
        &files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                (
                    format!("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/{i}.json.gz"),
                    f.as_path(),
                )
            })
            .collect::<Vec<_>>(),
    );
    let settings = dir.path().join("keibi.yaml");
    std::fs::write(
        &settings,
        format!(
            "sources:\n  inputs:\n    - url: s3://{BUCKET}/AWSLogs/\n      endpoint_url: {}\n      region: us-east-1\n      list_interval: 1s\nstore:\n  path: {}\nserver:\n  listen: 127.0.0.1:0\nlog:\n  format: json\n",
            moto.endpoint,
            dir.path().join("keibi.db").display()
        ),
    )
    .unwrap();
    let log = dir.path().join("daemon.log");
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(["run", "--config"])
        .arg(&settings)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/keibi-test/credentials",
        )
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let text = || std::fs::read_to_string(&log).unwrap_or_default();
    let start = std::time::Instant::now();
    let addr: std::net::SocketAddr = loop {
        let found = text().lines().find_map(|l| {
            let v: Value = serde_json::from_str(l).ok()?;
            v["msg"].as_str()?.starts_with("serving ").then_some(())?;
            v["listen"].as_str()?.parse().ok()
        });
        if let Some(a) = found {
            break a;
        }
        assert!(daemon.try_wait().unwrap().is_none(), "exited: {}", text());
        assert!(start.elapsed().as_secs() < 60, "never served: {}", text());
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let scrape = || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        write!(
            s,
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut t = String::new();
        s.read_to_string(&mut t).unwrap();
        t
    };
    let sample = |t: &str, series: &str| -> Option<f64> {
        t.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
    };
    // Each series names the source the calls were made for (the settings' url).
    let src = format!(",source=\"s3://{BUCKET}/AWSLogs/\"}}");
    let get = &format!("keibi_aws_requests_total{{service=\"s3\",api=\"GetObject\"{src}");
    let list = &format!("keibi_aws_requests_total{{service=\"s3\",api=\"ListObjectsV2\"{src}");
    let metrics = loop {
        let m = scrape();
        if sample(&m, get) == Some(2.0) && sample(&m, list).is_some_and(|n| n >= 2.0) {
            break m;
        }
        assert!(
            start.elapsed().as_secs() < 60,
            "GetObject never counted twice:\n{m}\n{}",
            text()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    daemon.kill().unwrap();
    let _ = daemon.wait();
    let bytes = sample(
        &metrics,
        &format!("keibi_aws_response_bytes_total{{service=\"s3\",api=\"GetObject\"{src}"),
    )
    .unwrap();
    assert!(bytes > 100.0, "{metrics}");
    assert_eq!(
        sample(
            &metrics,
            &format!("keibi_aws_errors_total{{service=\"s3\",api=\"GetObject\"{src}")
        ),
        Some(0.0),
        "{metrics}"
    );
    // Two GETs and at least two LISTs at us-east-1's list prices, at least.
    let usd = sample(
        &metrics,
        &format!("keibi_aws_estimated_cost_usd_total{{source=\"s3://{BUCKET}/AWSLogs/\"}}"),
    )
    .unwrap();
    assert!(usd >= (2.0 * 0.0004 + 2.0 * 0.005) / 1000.0, "{metrics}");
    assert!(metrics.contains("# TYPE keibi_aws_requests_total counter"));
}
