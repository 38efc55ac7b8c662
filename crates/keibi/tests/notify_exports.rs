//! The daemon's exports end to end, with the real `keibi run`: a brute force
//! followed live is appended to an `ocsf_file` channel's file as OCSF Detection
//! Findings (class 2004), one line per change (new, then resolved by a person), and
//! SIGKILLs in the middle double nothing; a `securityhub` channel imports the same
//! findings into moto server's Security Hub, where boto3's GetFindings reads them,
//! and a `keibi findings resolve` is mirrored as RESOLVED.
//!
//! The moto part is skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1`.

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod hub;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn keibi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keibi"));
    c.env("KEIBI_LANG", "en")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/keibi-test/credentials",
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION");
    c
}

/// A brute force that ends in a login: two findings.
fn brute_force() -> String {
    fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scenarios/login-successful-bruteforce/attack")
            .join("shop-postgres/postgresql.log.2026-11-28-09"),
    )
    .unwrap()
}

/// Superuser granted: one more finding.
fn grant() -> String {
    fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scenarios/activity-role-elevated/attack")
            .join("orders-pg/error/postgresql.log.2026-12-01-10"),
    )
    .unwrap()
}

/// A daemon following one log, its `notify` section given.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(notify: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("logs")).unwrap();
        fs::write(dir.path().join("logs/postgresql.log"), "").unwrap();
        let d = dir.path().display();
        fs::write(
            dir.path().join("keibi.yaml"),
            format!(
                "sources:\n  inputs:\n    - path: {d}/logs/postgresql.log\nstore:\n  path: {d}/keibi.db\nserver:\n  listen: off\n{notify}"
            ),
        )
        .unwrap();
        Setup { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn append(&self, text: &str) {
        let mut f = OpenOptions::new()
            .append(true)
            .open(self.path("logs/postgresql.log"))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f.sync_all().unwrap();
    }

    fn start(&self) -> Child {
        let err = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("daemon.log"))
            .unwrap();
        keibi()
            .args(["run", "--config"])
            .arg(self.path("keibi.yaml"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap()
    }

    fn log(&self) -> String {
        fs::read_to_string(self.path("daemon.log")).unwrap_or_default()
    }

    /// Every outbox key and its finding id, from the store itself.
    fn outbox(&self) -> BTreeMap<String, String> {
        let Ok(s) = keibi_store::Store::open_read_only(&self.path("keibi.db")) else {
            return BTreeMap::new();
        };
        s.outbox(0, 1000)
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.key, e.finding.id))
            .collect()
    }

    /// The finding ids of the outbox's entries of High and Critical findings, and
    /// of the others.
    fn ids_by_severity(&self) -> (BTreeSet<String>, BTreeSet<String>) {
        let s = keibi_store::Store::open_read_only(&self.path("keibi.db")).unwrap();
        let mut high = BTreeSet::new();
        let mut low = BTreeSet::new();
        for e in s.outbox(0, 1000).unwrap() {
            if e.finding.severity.value() >= 7.0 {
                high.insert(e.finding.id);
            } else {
                low.insert(e.finding.id);
            }
        }
        (high, low)
    }

    /// (sent, pending, failed) over every channel, by `keibi notify status`.
    fn counts(&self) -> Option<(u64, u64, u64)> {
        let o = keibi()
            .args(["notify", "status", "--format", "json", "--config"])
            .arg(self.path("keibi.yaml"))
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&o.stdout).ok()?;
        let mut c = (0, 0, 0);
        for ch in v["channels"].as_array().into_iter().flatten() {
            c.0 += ch["sent"].as_u64().unwrap_or(0);
            c.1 += ch["pending"].as_u64().unwrap_or(0);
            c.2 += ch["failed"].as_u64().unwrap_or(0);
        }
        Some(c)
    }

    fn resolve(&self, id: &str) {
        let o = keibi()
            .args(["findings", "resolve", id, "--by", "kim", "--store"])
            .arg(self.path("keibi.db"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{o:?}");
    }
}

fn wait_for<T>(
    what: &str,
    limit: Duration,
    log: &dyn Fn() -> String,
    f: impl Fn() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > limit {
            panic!("{what}: timed out\n{}", log());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn kill9(mut c: Child) {
    c.kill().unwrap();
    c.wait().unwrap();
}

fn terminate(mut c: Child) -> Option<i32> {
    let ok = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Some(st) = c.try_wait().unwrap() {
            return st.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = c.kill();
    None
}

/// The file's records, each line one JSON object (a line is never cut).
fn records(p: &Path) -> Vec<Value> {
    let text = fs::read_to_string(p).unwrap_or_default();
    assert!(text.is_empty() || text.ends_with('\n'), "a whole last line");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

#[test]
fn the_ocsf_file_gets_each_change_once_across_kills() {
    let s = Setup::new(
        "notify:\n  channels:\n    - name: siem\n      type: ocsf_file\n      path: ocsf/findings.jsonl\n  routes:\n    - name: everything\n      channels: [siem]\n",
    );
    let file = s.path("ocsf/findings.jsonl");
    let log = || s.log();

    // 1. The brute force: its two findings, one line each.
    let d = s.start();
    s.append(&brute_force());
    wait_for("two records", Duration::from_secs(60), &log, || {
        (records(&file).len() >= 2).then_some(())
    });
    kill9(d);

    // 2. Killed again and again while more is written and routed.
    s.append(&grant());
    for pause in [150, 400, 900] {
        let d = s.start();
        std::thread::sleep(Duration::from_millis(pause));
        kill9(d);
    }
    let d = s.start();
    wait_for("three sent", Duration::from_secs(60), &log, || {
        s.counts().filter(|c| c.0 == 3 && c.1 == 0).map(|_| ())
    });

    // 3. A person resolves one: its close is a line too.
    let (_, id) = s.outbox().into_iter().next().unwrap();
    s.resolve(&id);
    wait_for("the resolve sent", Duration::from_secs(30), &log, || {
        s.counts().filter(|c| c.0 == 4 && c.1 == 0).map(|_| ())
    });
    kill9(d);
    // A restart after everything was sent writes nothing more.
    let d = s.start();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(terminate(d), Some(0), "{}", s.log());

    let outbox = s.outbox();
    assert_eq!(outbox.len(), 4, "{outbox:?}");
    let recs = records(&file);
    let keys: Vec<&str> = recs
        .iter()
        .map(|r| r["metadata"]["uid"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = keys.iter().copied().collect();
    assert_eq!(keys.len(), unique.len(), "nothing doubled: {keys:?}");
    assert_eq!(
        unique.into_iter().map(str::to_string).collect::<Vec<_>>(),
        outbox.keys().cloned().collect::<Vec<_>>(),
        "one record per outbox entry"
    );
    for r in &recs {
        assert_eq!(r["class_uid"], 2004, "{r}");
        assert_eq!(r["category_uid"], 2);
        assert_eq!(r["type_uid"], 200400 + r["activity_id"].as_u64().unwrap());
        assert_eq!(r["metadata"]["product"]["name"], "keibi");
        assert!(r["finding_info"]["uid"].is_string());
        assert!(r["severity_id"]
            .as_u64()
            .is_some_and(|s| (1..=6).contains(&s)));
    }
    let closed: Vec<&Value> = recs.iter().filter(|r| r["status"] == "Resolved").collect();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["finding_info"]["uid"], id.as_str());
    assert_eq!(closed[0]["activity_name"], "Close");
    let (_, _, failed) = s.counts().unwrap();
    assert_eq!(failed, 0);
}

/// The outbox's one window, made to happen: a delivery whose line reached the file
/// before keibi was killed, and was never marked sent. The next start sends it
/// again; the channel finds its key in the file and does not write it twice.
#[test]
fn a_line_written_before_a_kill_is_not_written_again() {
    let s = Setup::new(
        "notify:\n  channels:\n    - name: siem\n      type: ocsf_file\n      path: ocsf/findings.jsonl\n  routes:\n    - name: everything\n      channels: [siem]\n",
    );
    let log = || s.log();
    // The file's directory is a file: every write fails (transient), so the two
    // findings' deliveries stay pending, tried.
    fs::write(s.path("ocsf"), "not a directory").unwrap();
    let d = s.start();
    s.append(&brute_force());
    wait_for(
        "two pending deliveries",
        Duration::from_secs(60),
        &log,
        || s.counts().filter(|c| c.1 == 2 && c.0 == 0).map(|_| ()),
    );
    kill9(d);
    assert!(s.log().contains("siem"), "{}", s.log());

    // What the channel writes for the first delivery is in the file, as if the
    // kill came after its write and before its mark.
    fs::remove_file(s.path("ocsf")).unwrap();
    fs::create_dir(s.path("ocsf")).unwrap();
    let first = keibi_store::Store::open_read_only(&s.path("keibi.db"))
        .unwrap()
        .outbox(0, 10)
        .unwrap()
        .remove(0);
    let n = keibi_engine::notifier::notice(&first);
    let line = keibi_notify::channels::ocsf_file::record(&n).unwrap();
    fs::write(s.path("ocsf/findings.jsonl"), format!("{line}\n")).unwrap();

    let d = s.start();
    wait_for("both sent", Duration::from_secs(60), &log, || {
        s.counts().filter(|c| c.0 == 2 && c.1 == 0).map(|_| ())
    });
    assert_eq!(terminate(d), Some(0), "{}", s.log());
    let recs = records(&s.path("ocsf/findings.jsonl"));
    let keys: Vec<&str> = recs
        .iter()
        .map(|r| r["metadata"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(
        keys[0], first.key,
        "the line written before the kill, first"
    );
    assert_ne!(keys[1], first.key, "and not again: {keys:?}");
    assert!(s.log().contains("already in the file"), "{}", s.log());
}

fn get_findings(python: &Path, endpoint: &str, region: &str) -> Vec<Value> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../keibi-aws/tests/data/securityhub_get.py");
    let out = Command::new(python)
        .arg(script)
        .args([endpoint, region])
        .output()
        .expect("run securityhub_get.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("GetFindings JSON")
}

#[test]
fn security_hub_gets_the_findings_and_a_resolve() {
    let Some(python) = hub::python_with("moto") else {
        return;
    };
    let port = hub::free_port();
    let mut cmd = Command::new(python.with_file_name("moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let _moto = hub::Service::start(cmd, port, "Running on", "moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let s = Setup::new(&format!(
        "notify:\n  channels:\n    - name: hub\n      type: securityhub\n      region: ap-northeast-1\n      endpoint_url: {endpoint}\n  routes:\n    - name: high\n      severity_at_least: high\n      channels: [hub]\n"
    ));
    let log = || s.log();
    let d = s.start();
    s.append(&brute_force());
    let found = wait_for(
        "findings in Security Hub",
        Duration::from_secs(60),
        &log,
        || {
            let f = get_findings(&python, &endpoint, "ap-northeast-1");
            (!f.is_empty() && s.counts().is_some_and(|c| c.1 == 0)).then_some(f)
        },
    );
    let (high, low) = s.ids_by_severity();
    assert!(!high.is_empty() && !low.is_empty(), "{high:?} {low:?}");
    assert_eq!(found.len(), high.len(), "each High finding once: {found:?}");
    for f in &found {
        assert!(
            high.contains(f["Id"].as_str().unwrap()),
            "only High+ routed: {f}"
        );
        assert_eq!(f["AwsAccountId"], "123456789012");
        assert_eq!(f["Workflow"]["Status"], "NEW");
        assert_eq!(f["RecordState"], "ACTIVE");
        assert!(matches!(
            f["Severity"]["Label"].as_str(),
            Some("HIGH" | "CRITICAL")
        ));
    }
    let id = found[0]["Id"].as_str().unwrap().to_string();
    s.resolve(&id);
    let f = wait_for(
        "the resolve mirrored",
        Duration::from_secs(30),
        &log,
        || {
            get_findings(&python, &endpoint, "ap-northeast-1")
                .into_iter()
                .find(|f| f["Id"] == id.as_str() && f["Workflow"]["Status"] == "RESOLVED")
        },
    );
    assert_eq!(f["RecordState"], "ARCHIVED");
    assert_eq!(terminate(d), Some(0), "{}", s.log());
    let all = get_findings(&python, &endpoint, "ap-northeast-1");
    assert_eq!(all.len(), found.len(), "updated, never added");
    let (sent, pending, failed) = s.counts().unwrap();
    assert_eq!((sent as usize, pending, failed), (found.len() + 1, 0, 0));
    assert!(s.log().contains("hub"), "{}", s.log());
}
