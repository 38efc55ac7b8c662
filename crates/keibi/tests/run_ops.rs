//! `keibi run` operated as a service: /metrics and /healthz over a real TCP socket
//! from a running daemon (counters move when an attack log is appended; a daemon
//! restarted after SIGKILL is healthy again and says it resumed), JSON logs, a port
//! in use (exit 2), retention on a schedule (old findings exported, then deleted),
//! and the systemd unit (`systemd-analyze verify`, when the machine has it).
//!
//! The attack log is the scenario folder's (`tests/scenarios/login-bruteforce-pg/`).

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn attack_log() -> Vec<u8> {
    fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scenarios/login-bruteforce-pg/attack")
            .join("shop-postgres/error/postgresql.log.2026-11-28-09"),
    )
    .expect("scenario log")
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open log");
    f.write_all(bytes).expect("append");
}

/// A settings file following `log`, serving on a port the system picks.
fn settings(dir: &Path, log: &Path, extra: &str) -> PathBuf {
    let path = dir.join("keibi.yaml");
    fs::write(
        &path,
        format!(
            "sources:\n  inputs:\n    - path: {}\nstore:\n  path: {}\n{extra}server:\n  listen: 127.0.0.1:0\nlog:\n  format: json\n",
            log.display(),
            dir.join("keibi.db").display()
        ),
    )
    .unwrap();
    path
}

fn spawn(config: &Path, stderr: &Path) -> Child {
    keibi()
        .arg("run")
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(stderr).unwrap())
        .spawn()
        .expect("keibi run starts")
}

/// The daemon's JSON log lines so far.
fn log_lines(stderr: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(stderr)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Waits for a log line whose `msg` satisfies `f` (generous: the machine is shared).
fn wait_log(
    stderr: &Path,
    child: &mut Child,
    f: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if let Some(l) = log_lines(stderr).into_iter().find(&f) {
            return l;
        }
        if let Some(st) = child.try_wait().unwrap() {
            panic!(
                "keibi run exited ({st}):\n{}",
                fs::read_to_string(stderr).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "no such log line:\n{}",
        fs::read_to_string(stderr).unwrap_or_default()
    );
}

/// The address the daemon says it serves on.
fn served(stderr: &Path, child: &mut Child) -> SocketAddr {
    let l = wait_log(stderr, child, |l| {
        l["msg"].as_str().is_some_and(|m| m.starts_with("serving "))
    });
    l["listen"].as_str().unwrap().parse().unwrap()
}

/// A GET over a plain TCP socket: status code and body.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).expect("response");
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {text}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

/// A sample's value in Prometheus text (`name{labels}` as written), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

fn wait_metric(addr: SocketAddr, series: &str, done: impl Fn(f64) -> bool) -> String {
    let start = Instant::now();
    loop {
        let (code, text) = get(addr, "/metrics");
        assert_eq!(code, 200, "{text}");
        if sample(&text, series).is_some_and(&done) {
            return text;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{series} never got there:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn metrics_and_healthz_of_a_running_daemon_and_of_one_restarted_after_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(
        &log,
        b"2026-01-01 00:00:00 UTC::@:[392]:LOG:  checkpoint starting: time\n",
    );
    let config = settings(dir.path(), &log, "");
    let stderr = dir.path().join("daemon.log");
    let mut daemon = spawn(&config, &stderr);
    let addr = served(&stderr, &mut daemon);
    assert!(addr.ip().is_loopback() && addr.port() != 0);

    let source = format!("{{source=\"{}\"}}", log.display());
    let events = format!("keibi_events_read_total{source}");
    wait_metric(addr, &events, |v| v >= 1.0);
    let (code, body) = get(addr, "/healthz");
    assert_eq!(code, 200, "{body}");
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["resumed_checkpoints"], 0);

    // The attack: a burst of failed logins.
    let attack = attack_log();
    let lines = attack.iter().filter(|b| **b == b'\n').count() as f64;
    append(&log, &attack);
    let text = wait_metric(
        addr,
        "keibi_findings{type=\"CredentialAccess:RDS/BruteForce\",severity=\"medium\",status=\"new\"}",
        |v| v == 1.0,
    );
    let read = sample(&text, &events).unwrap();
    assert!(
        read > 1.0 && read <= 1.0 + lines,
        "{read} events of {lines} lines"
    );
    assert!(sample(&text, "keibi_store_size_bytes").unwrap() > 0.0);
    assert!(sample(&text, "keibi_commits_total").unwrap() >= 1.0);
    assert!(sample(&text, "keibi_rounds_total").unwrap() >= 1.0);
    let lag = sample(&text, &format!("keibi_ingest_lag_seconds{source}")).unwrap();
    assert!(lag > 0.0, "the events are from 2026-11-28: {lag}");
    let committed = sample(&text, "keibi_last_commit_timestamp_seconds").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - committed).abs() < 120.0, "{committed} vs {now}");
    // The stored finding was logged as JSON with its fields.
    let l = wait_log(&stderr, &mut daemon, |l| {
        l["type"] == "CredentialAccess:RDS/BruteForce"
    });
    assert_eq!(l["level"], "warn");
    assert!(l["time"].as_str().is_some() && l["id"].as_str().is_some());

    // SIGKILL, and a restart: healthy again, resumed from the stored checkpoint,
    // the finding still counted once.
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let stderr2 = dir.path().join("daemon2.log");
    let mut daemon = spawn(&config, &stderr2);
    let addr = served(&stderr2, &mut daemon);
    let start = Instant::now();
    let h = loop {
        let (code, body) = get(addr, "/healthz");
        if code == 200 {
            break serde_json::from_str::<serde_json::Value>(&body).unwrap();
        }
        assert_eq!(code, 503, "{body}");
        assert!(start.elapsed() < Duration::from_secs(60), "{body}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(h["status"], "ok");
    assert!(h["resumed_checkpoints"].as_u64().unwrap() >= 1, "{h}");
    wait_metric(
        addr,
        "keibi_findings{type=\"CredentialAccess:RDS/BruteForce\",severity=\"medium\",status=\"new\"}",
        |v| v == 1.0,
    );
    let ok = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    assert_eq!(daemon.wait().unwrap().code(), Some(0));
    // Stopped: the port is closed.
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn a_port_in_use_is_an_error_at_start() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, b"");
    let o = keibi()
        .arg("run")
        .arg(&log)
        .arg("--store")
        .arg(dir.path().join("keibi.db"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{err}"
    );
    // A bad address is refused by the argument parser.
    let o = keibi()
        .args(["run", "x.log", "--listen", "localhost"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Findings unchanged for longer than the retention are exported to the export
/// directory, whole, and then deleted, by a daemon at start; recent ones stay.
#[test]
fn retention_exports_then_deletes_old_findings() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, &attack_log());
    // Store the brute force with --once, then age it: this store is a day older.
    let store = dir.path().join("keibi.db");
    let o = keibi()
        .arg("run")
        .arg(&log)
        .arg("--store")
        .arg(&store)
        .arg("--once")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let list = || {
        let o = keibi()
            .args(["findings", "list", "--all", "--format", "jsonl", "--store"])
            .arg(&store)
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap()
    };
    let before = list();
    assert_eq!(before.lines().count(), 1, "{before}");
    let stored: serde_json::Value = serde_json::from_str(before.trim()).unwrap();
    // The finding's log time is 2026-11-28; its store time is now. With a
    // retention of 1h it is kept (changed in the store within the hour) ...
    let export = dir.path().join("export");
    fs::create_dir(&export).unwrap();
    let run_once = |log: &Path, retention: &str| {
        let config = settings(
            dir.path(),
            log,
            &format!(
                "  retention: {retention}\n  export_dir: {}\n",
                export.display()
            ),
        );
        let o = keibi()
            .arg("run")
            .arg("--config")
            .arg(&config)
            .arg("--once")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(0), "{err}");
        err
    };
    let err = run_once(&log, "1h");
    assert!(err.contains("\"deleted\":0"), "{err}");
    assert_eq!(list(), before);
    assert_eq!(fs::read_dir(&export).unwrap().count(), 0);
    // ... and once the store is made to say it last changed two hours ago, deleted.
    let aged = rusqlite::Connection::open(&store)
        .unwrap()
        .execute(
            "UPDATE findings SET updated_at = updated_at - 7200000 WHERE id = ?1",
            [stored["id"].as_str().unwrap()],
        )
        .unwrap();
    assert_eq!(aged, 1);
    // The old log is gone (rotated away): a detector reading it again would end its
    // window and store the finding anew.
    let other = dir.path().join("other.log");
    append(&other, b"");
    let err = run_once(&other, "1h");
    let done: serde_json::Value = err
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| {
            l["msg"]
                .as_str()
                .is_some_and(|m| m.starts_with("retention:"))
        })
        .unwrap_or_else(|| panic!("no retention line: {err}"));
    assert_eq!(done["deleted"], 1, "{done}");
    assert!(done["store_bytes"].as_u64().unwrap() > 0);
    assert_eq!(list(), "", "deleted");
    let files: Vec<PathBuf> = fs::read_dir(&export)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(done["export"], files[0].display().to_string());
    let mut text = String::new();
    zstd::Decoder::new(fs::File::open(&files[0]).unwrap())
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["finding"]["id"], stored["id"]);
    assert_eq!(lines[0]["finding"]["count"], stored["count"]);
    assert_eq!(lines[0]["history"][0]["what"], "new");
    // `keibi findings info` reports the store's size.
    let o = keibi()
        .args(["findings", "info", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("size "));
}

/// The unit in dist/systemd parses (`systemd-analyze verify`), when the machine has
/// systemd-analyze; every hardening directive the docs promise is in it.
#[test]
fn the_systemd_unit_verifies() {
    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist/systemd/keibi.service");
    let text = fs::read_to_string(&unit).expect("dist/systemd/keibi.service");
    for d in [
        "DynamicUser=yes",
        "StateDirectory=keibi",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=\n",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
        "SupplementaryGroups=adm",
    ] {
        assert!(text.contains(d), "the unit lacks {d:?}");
    }
    let Ok(o) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not on this machine: the unit is not verified");
        return;
    };
    assert!(o.status.success());
    // verify wants the binary ExecStart names to exist: a copy of the unit naming
    // the one just built.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("keibi.service");
    fs::write(
        &copy,
        text.replace("/usr/local/bin/keibi", env!("CARGO_BIN_EXE_keibi")),
    )
    .unwrap();
    let o = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "systemd-analyze verify: {err}");
    // verify also warns without failing about what it does not know.
    assert!(
        !err.contains("Unknown key")
            && !err.contains("Failed to parse")
            && !err.contains("ignoring"),
        "{err}"
    );
}

/// A file name written by whoever can create files in a followed directory: in the
/// JSON log it is one escaped string field on one line; in the text log its control
/// characters are escaped.
#[test]
fn hostile_file_names_are_escaped_in_both_log_forms() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    let name = "evil\x1b[31m\nname\"q.log";
    append(
        &logs.join(name),
        b"2026-01-01 00:00:00 UTC::@:[392]:LOG:  checkpoint starting: time\nnot a log line\n",
    );
    let run = |form: &str, store: &str| {
        let o = keibi()
            .arg("run")
            .arg(&logs)
            .arg("--store")
            .arg(dir.path().join(store))
            .args(["--once", "--log-output", form])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        String::from_utf8(o.stderr).unwrap()
    };
    let json = run("json", "a.db");
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let want = logs.join(name).display().to_string();
    let unrecognized = lines
        .iter()
        .find(|l| l["line"] == 2)
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(unrecognized["file"], want.as_str());
    assert_eq!(unrecognized["level"], "warn");
    assert!(unrecognized["reason"].as_str().is_some());
    let text = run("text", "b.db");
    assert!(!text.contains('\x1b'), "{text:?}");
    assert!(text.contains("evil\\u{1b}[31m\\nname"), "{text}");
    assert!(text.lines().all(|l| l.starts_with("keibi: ")), "{text}");
}

/// An address other machines can reach is served, with a warning.
#[test]
fn a_non_loopback_address_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, b"");
    let stderr = dir.path().join("daemon.log");
    let mut daemon = keibi()
        .arg("run")
        .arg(&log)
        .arg("--store")
        .arg(dir.path().join("keibi.db"))
        .args(["--listen", "0.0.0.0:0", "--log-output", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let w = wait_log(&stderr, &mut daemon, |l| l["level"] == "warn");
    assert!(
        w["msg"]
            .as_str()
            .unwrap()
            .contains("is not a loopback address"),
        "{w}"
    );
    let addr: SocketAddr = w["listen"].as_str().unwrap().parse().unwrap();
    let (code, _) = get(SocketAddr::from(([127, 0, 0, 1], addr.port())), "/healthz");
    assert!(code == 200 || code == 503);
    daemon.kill().unwrap();
    daemon.wait().unwrap();
}

/// `log.level: warn` leaves out the info lines and keeps the warnings.
#[test]
fn log_level_warn_keeps_only_warnings_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(
        &log,
        b"2026-01-01 00:00:00 UTC::@:[392]:LOG:  checkpoint starting: time\nnot a log line\n",
    );
    let config = settings(dir.path(), &log, "");
    let text = fs::read_to_string(&config)
        .unwrap()
        .replace("format: json", "format: json\n  level: warn");
    fs::write(&config, text).unwrap();
    let o = keibi()
        .args(["run", "--once", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8(o.stderr)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|l| l["level"] == "warn"), "{lines:?}");
    assert!(lines.iter().any(|l| l["line"] == 2), "{lines:?}");
}
