//! `keibi run` as real processes: `--once` stores what `keibi scan` prints, a daemon
//! following a file stores a brute force appended to it, SIGTERM commits and exits 0,
//! and a daemon killed with SIGKILL at random moments while its log grows and
//! rotates ends with the findings one uninterrupted scan gives (the kill test).
//!
//! Logs are the scenario folders' (`tests/scenarios/*/attack/`).

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name)
        .join("attack")
}

/// A finding as the comparison sees it: type, count, first and last seen, by id.
type Summary = BTreeMap<String, (String, u64, String, String)>;

fn summarize(jsonl: &[u8]) -> Summary {
    String::from_utf8_lossy(jsonl)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {e}: {l}"));
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (
                s("id"),
                (
                    s("type"),
                    f["count"].as_u64().unwrap_or(0),
                    s("first_seen"),
                    s("last_seen"),
                ),
            )
        })
        .collect()
}

fn scan(path: &Path) -> Summary {
    scan_all(&[path])
}

fn scan_all(paths: &[&Path]) -> Summary {
    let o = keibi()
        .arg("scan")
        .args(paths)
        .args(["--format", "jsonl"])
        .output()
        .expect("keibi scan runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    summarize(&o.stdout)
}

/// Every finding in the store, whatever its status (None while there is no store).
fn stored(store: &Path) -> Option<Summary> {
    if !store.exists() {
        return None;
    }
    let o = keibi()
        .args(["findings", "list", "--all", "--format", "jsonl", "--store"])
        .arg(store)
        .output()
        .expect("keibi findings runs");
    (o.status.code() == Some(0)).then(|| summarize(&o.stdout))
}

fn run_once(paths: &[&Path], store: &Path) {
    let o = keibi()
        .arg("run")
        .args(paths)
        .arg("--store")
        .arg(store)
        .arg("--once")
        .output()
        .expect("keibi run runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "keibi run --once: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn spawn_daemon(path: &Path, store: &Path, log: &Path) -> Child {
    spawn_daemon_on(&[path], store, log)
}

fn spawn_daemon_on(paths: &[&Path], store: &Path, log: &Path) -> Child {
    keibi()
        .arg("run")
        .args(paths)
        .arg("--store")
        .arg(store)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(log).expect("log file"))
        .spawn()
        .expect("keibi run starts")
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open log");
    f.write_all(bytes).expect("append");
    f.flush().expect("flush");
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill {sig}");
}

/// Waits for `child` to exit (at most `limit`), killing it if it does not.
fn wait_exit(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            return st.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls the store until `done` holds (generous: the machine is shared).
fn wait_for(store: &Path, limit: Duration, done: impl Fn(&Summary) -> bool) -> Option<Summary> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(s) = stored(store) {
            if done(&s) {
                return Some(s);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[test]
fn once_stores_what_scan_prints() {
    for name in [
        "login-bruteforce-pg",
        // Two logs of one server saying the same failures: counted once only if
        // the run reads them in time order, as scan does.
        "login-bruteforce-mysql",
        "login-successful-bruteforce",
        "login-spray",
        "activity-ransom-note",
        "ct-db-port-open",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("keibi.db");
        let logs = scenario(name);
        run_once(&[&logs], &store);
        let want = scan(&logs);
        assert!(!want.is_empty(), "{name}: the scenario raises something");
        assert_eq!(stored(&store).unwrap(), want, "{name}");
        // A second run reads nothing again: the checkpoints hold.
        run_once(&[&logs], &store);
        assert_eq!(stored(&store).unwrap(), want, "{name}, run again");
    }
}

/// The demo's week of hourly PostgreSQL files: a directory of 168 files whose
/// follower holds each file's events until the others catch up. `--once` must wait
/// for all of them (it used to stop after the first 30 files).
#[test]
fn once_over_a_week_of_hourly_files_stores_what_scan_prints() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let o = keibi()
        .args(["demo", "--week-ending", "2026-12-05", "--write-to"])
        .arg(&demo)
        .output()
        .expect("keibi demo runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let logs = demo.join("logs/shop-postgres");
    let files = fs::read_dir(logs.join("error")).unwrap().count();
    assert!(files > 100, "{files} hourly files");
    let store = dir.path().join("keibi.db");
    run_once(&[&logs], &store);
    let want = scan(&logs);
    assert!(want.len() >= 5, "the demo's PostgreSQL attacks: {want:?}");
    assert_eq!(stored(&store).unwrap(), want);
}

#[test]
fn a_followed_file_brings_a_brute_force_to_the_store_and_sigterm_commits() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    let file = logs.join("postgresql.log");
    let store = dir.path().join("keibi.db");
    let attack = fs::read(
        scenario("login-bruteforce-pg").join("shop-postgres/error/postgresql.log.2026-11-28-09"),
    )
    .unwrap();
    append(&file, b"");
    let mut daemon = spawn_daemon(&file, &store, &dir.path().join("daemon.log"));
    // The store exists once the daemon has opened it.
    assert!(
        wait_for(&store, Duration::from_secs(60), |_| true).is_some(),
        "the daemon opens its store"
    );
    append(&file, &attack);
    // The instance is named after the path: scan the same file.
    let want = scan(&file);
    let (id, (ty, count, first, _)) = want
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .expect("scan finds it");
    assert_eq!(ty, "CredentialAccess:RDS/BruteForce");
    let got = wait_for(&store, Duration::from_secs(60), |s| {
        s.get(&id).is_some_and(|f| f.1 == count)
    });
    let log = || fs::read_to_string(dir.path().join("daemon.log")).unwrap_or_default();
    assert!(got.is_some(), "the finding reaches the store:\n{}", log());
    assert_eq!(got.unwrap()[&id].2, first);
    signal(&daemon, "-TERM");
    assert_eq!(
        wait_exit(&mut daemon, Duration::from_secs(30)),
        Some(0),
        "SIGTERM exits 0:\n{}",
        log()
    );
    assert!(log().contains("finding new: Medium 5.0 CredentialAccess:RDS/BruteForce"));
    // Everything read was committed: a run to the end reads nothing twice and ends
    // with exactly what scan says.
    run_once(&[&file], &store);
    assert_eq!(stored(&store).unwrap(), want);
}

/// A tiny generator for kill moments (no dependency; the seed is printed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Appends an attack log to a followed directory in `kills` chunks (renaming the
/// log away and starting a new one half-way), killing the daemon with SIGKILL at a
/// random moment after each chunk and starting it again; then one `--once` run
/// reads what is left. Returns what the store holds and what one scan of the same
/// files gives.
fn kill_test(kills: usize) -> (Summary, Summary, u64) {
    let seed = std::env::var("KEIBI_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("kill test: seed {seed} (KEIBI_KILL_SEED to repeat)");
    let mut rng = Lcg(seed);
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    let file = logs.join("postgresql.log");
    let store = dir.path().join("keibi.db");
    let mut attack = Vec::new();
    // A brute force that ends in a login (two findings), in time order.
    let text = fs::read_to_string(
        scenario("login-successful-bruteforce").join("shop-postgres/postgresql.log.2026-11-28-09"),
    )
    .unwrap();
    attack.extend(text.lines().map(str::to_string));
    let per = attack.len().div_ceil(kills);
    for (i, chunk) in attack.chunks(per).enumerate() {
        if i == kills / 2 {
            fs::rename(&file, logs.join("postgresql.log.1")).unwrap();
        }
        let mut daemon = spawn_daemon(&logs, &store, &dir.path().join("daemon.log"));
        let mut bytes = chunk.join("\n").into_bytes();
        bytes.push(b'\n');
        // Sometimes before the daemon is up, sometimes while it reads.
        std::thread::sleep(Duration::from_millis(rng.next(300)));
        append(&file, &bytes);
        std::thread::sleep(Duration::from_millis(rng.next(1500)));
        signal(&daemon, "-KILL");
        let _ = daemon.wait();
    }
    run_once(&[&logs], &store);
    (stored(&store).unwrap(), scan(&logs), seed)
}

/// Nothing lost, nothing doubled: after 20 SIGKILLs the store equals one scan
/// (same ids, counts, first and last seen). A restarted daemon reads each file again
/// from its start, feeding the events before its checkpoint to the detectors only,
/// so windows open at a kill (a brute force below its threshold, failures before a
/// successful login) are rebuilt.
#[test]
fn killed_twenty_times_the_store_holds_what_one_scan_finds() {
    let (got, want, seed) = kill_test(20);
    assert!(want.len() >= 2, "the attack raises several findings");
    assert_eq!(got, want, "seed {seed}");
}

/// The same with 100 kills (about 80 s; 3 lines a chunk):
/// `cargo test -p keibi --test run -- --ignored kill_test_100 --nocapture`.
#[test]
#[ignore]
fn kill_test_100() {
    let (got, want, seed) = kill_test(100);
    assert_eq!(got, want, "seed {seed}");
}

/// Waits until the daemon's log holds `what`.
fn wait_log(log: &Path, what: &str, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if fs::read_to_string(log).unwrap_or_default().contains(what) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn sighup_reloads_the_tuning_and_a_bad_file_keeps_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("postgresql.log");
    let config = dir.path().join("keibi.yaml");
    let log = dir.path().join("daemon.log");
    let settings = |tuning: &str| {
        format!(
            // No endpoints: the default port may be taken by another test or daemon.
            "sources:\n  inputs:\n    - path: postgresql.log\nstore:\n  path: keibi.db\n{tuning}server:\n  listen: off\n"
        )
    };
    fs::write(&config, settings("")).unwrap();
    append(
        &file,
        b"2026-01-01 00:00:00 UTC::@:[392]:LOG:  checkpoint starting: time\n",
    );
    let mut daemon = keibi()
        .arg("run")
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .expect("keibi run starts");
    let text = || fs::read_to_string(&log).unwrap_or_default();
    assert!(
        wait_log(&log, "reading", Duration::from_secs(60)),
        "{}",
        text()
    );
    // A wrong value: reported at its line, the old settings kept, still running.
    fs::write(
        &config,
        settings("tuning:\n  severity:\n    CredentialAccess:RDS/BruteForce: loud\n"),
    )
    .unwrap();
    signal(&daemon, "-HUP");
    assert!(
        wait_log(&log, "keeping the old settings", Duration::from_secs(30)),
        "{}",
        text()
    );
    assert!(
        text().contains("keibi.yaml:8:"),
        "the problem's line: {}",
        text()
    );
    assert!(daemon.try_wait().unwrap().is_none(), "still running");
    fs::write(
        &config,
        settings("tuning:\n  severity:\n    CredentialAccess:RDS/BruteForce: 7.0\n"),
    )
    .unwrap();
    signal(&daemon, "-HUP");
    assert!(
        wait_log(&log, "settings and lists reloaded", Duration::from_secs(30)),
        "{}",
        text()
    );
    let attack = fs::read(
        scenario("login-bruteforce-pg").join("shop-postgres/error/postgresql.log.2026-11-28-09"),
    )
    .unwrap();
    append(&file, &attack);
    assert!(
        wait_log(
            &log,
            "finding new: High 7.0 CredentialAccess:RDS/BruteForce",
            Duration::from_secs(60)
        ),
        "the new severity applies: {}",
        text()
    );
    signal(&daemon, "-TERM");
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(30)), Some(0));
}

/// Logins of four users over fourteen days (one every two hours each, from a few
/// addresses and clients), with failed logins, as a PostgreSQL stderr log: enough for
/// the baselines to learn and mature profiles.
fn learning_log() -> Vec<String> {
    let mut lines = Vec::new();
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z").unwrap();
    let users = ["app", "report", "alice", "batch"];
    let mut pid = 9000;
    for step in 0..14 * 12 {
        for (u, user) in users.iter().enumerate() {
            pid += 1;
            let t = start + chrono::TimeDelta::minutes(step * 120 + u as i64 * 7);
            let ts = t.format("%Y-%m-%d %H:%M:%S UTC");
            let ip = format!("10.0.{}.{}", u + 1, 10 + (step % 3));
            let port = 40000 + pid % 20000;
            let app = if step % 5 == 0 {
                "psql"
            } else {
                "PostgreSQL JDBC Driver"
            };
            lines.push(format!(
                "{ts}:{ip}({port}):[unknown]@[unknown]:[{pid}]:LOG:  connection received: host={ip} port={port}"
            ));
            if step % 11 == 3 {
                lines.push(format!(
                    "{ts}:{ip}({port}):{user}@shop:[{pid}]:FATAL:  password authentication failed for user \"{user}\""
                ));
                lines.push(format!(
                    "{ts}:{ip}({port}):{user}@shop:[{pid}]:DETAIL:  Connection matched pg_hba.conf line 13: \"host all all 10.0.0.0/8 scram-sha-256\""
                ));
                continue;
            }
            lines.push(format!(
                "{ts}:{ip}({port}):{user}@shop:[{pid}]:LOG:  connection authenticated: identity=\"{user}\" method=scram-sha-256 (/etc/postgresql/pg_hba.conf:13)"
            ));
            lines.push(format!(
                "{ts}:{ip}({port}):{user}@shop:[{pid}]:LOG:  connection authorized: user={user} database=shop application_name={app} SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)"
            ));
        }
    }
    lines
}

/// Every profile in a store, as JSON by key.
fn stored_profiles(store: &Path) -> BTreeMap<String, serde_json::Value> {
    use keibi_store::FindingStore;
    let s = keibi_store::Store::open_read_only(store).expect("the store opens");
    let mut all = BTreeMap::new();
    s.load_profiles(&mut |k, v| {
        all.insert(k.to_string(), serde_json::from_slice(v).expect("JSON"));
    })
    .unwrap();
    all
}

/// The profiles `keibi run` keeps in its store are those events whose checkpoints
/// were committed with them: killed with SIGKILL at random moments while it learns
/// (the log growing in chunks), restarted each time, the daemon ends with the
/// profiles of one uninterrupted run: no event learned twice (a restart reads the
/// file again from its start; the events before the checkpoint must not be learned
/// again) and none lost (what was learned after the last commit is learned again).
#[test]
fn killed_while_learning_the_profiles_equal_one_run() {
    let seed = std::env::var("KEIBI_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("profile kill test: seed {seed} (KEIBI_KILL_SEED to repeat)");
    let mut rng = Lcg(seed);
    let lines = learning_log();
    let dir = tempfile::tempdir().unwrap();

    // One uninterrupted run over the whole log.
    // `logs` is a generic name: both directories are the host's instance.
    let whole = dir.path().join("whole/logs");
    fs::create_dir_all(&whole).unwrap();
    append(
        &whole.join("postgresql.log"),
        (lines.join("\n") + "\n").as_bytes(),
    );
    let one = dir.path().join("one.db");
    run_once(&[&whole], &one);
    let want = stored_profiles(&one);
    assert!(
        want.keys().filter(|k| k.starts_with("[\"login\"")).count() == 4,
        "four users learned: {:?}",
        want.keys().collect::<Vec<_>>()
    );
    // The instance is the host's name (`logs` names none): find app's by its end.
    let app = want
        .iter()
        .find(|(k, _)| k.starts_with("[\"login\"") && k.ends_with(",\"app\"]"))
        .map(|(_, v)| v)
        .expect("app's profile");
    assert!(
        app["act"]["n"].as_u64().unwrap_or(0) > 100,
        "the logins were counted: {app}"
    );

    // The same log in chunks, the daemon killed after each.
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    let file = logs.join("postgresql.log");
    let store = dir.path().join("keibi.db");
    for chunk in lines.chunks(lines.len().div_ceil(12)) {
        let mut daemon = spawn_daemon(&logs, &store, &dir.path().join("daemon.log"));
        std::thread::sleep(Duration::from_millis(rng.next(300)));
        append(&file, (chunk.join("\n") + "\n").as_bytes());
        std::thread::sleep(Duration::from_millis(rng.next(1500)));
        signal(&daemon, "-KILL");
        let _ = daemon.wait();
    }
    run_once(&[&logs], &store);
    let got = stored_profiles(&store);
    assert_eq!(got.len(), want.len(), "seed {seed}");
    for (k, v) in &want {
        assert_eq!(got.get(k), Some(v), "profile {k}, seed {seed}");
    }
}

/// `keibi run --state FILE` starts from a `keibi learn` file when its store has no
/// profiles, stores them, and writes every profile back to the file when it stops:
/// `keibi scan --state` then judges with what the daemon learned.
#[test]
fn run_starts_from_a_state_file_and_writes_it_back() {
    let lines = learning_log();
    let half = lines.len() / 2;
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("learn/logs");
    fs::create_dir_all(&first).unwrap();
    append(
        &first.join("postgresql.log"),
        (lines[..half].join("\n") + "\n").as_bytes(),
    );
    let state = dir.path().join("profiles.state");
    let o = keibi()
        .arg("learn")
        .arg(&first)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The second half, read by a daemon that starts from the learned profiles.
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    append(
        &logs.join("postgresql.log"),
        (lines[half..].join("\n") + "\n").as_bytes(),
    );
    let store = dir.path().join("keibi.db");
    let o = keibi()
        .arg("run")
        .arg(&logs)
        .arg("--store")
        .arg(&store)
        .arg("--state")
        .arg(&state)
        .arg("--once")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let got = stored_profiles(&store);
    // One run over the whole log learns the same.
    // `logs` is a generic name: both directories are the host's instance.
    let whole = dir.path().join("whole/logs");
    fs::create_dir_all(&whole).unwrap();
    append(
        &whole.join("postgresql.log"),
        (lines.join("\n") + "\n").as_bytes(),
    );
    let one = dir.path().join("one.db");
    run_once(&[&whole], &one);
    let want = stored_profiles(&one);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (k, v) in &want {
        assert_eq!(&got[k], v, "profile {k}");
    }
    // And the file holds them now.
    let file = keibi_state::StateFile::open(&state).unwrap();
    let mut saved = BTreeMap::new();
    file.read(|k, v| {
        saved.insert(
            k.to_string(),
            serde_json::from_slice::<serde_json::Value>(v).unwrap(),
        );
    })
    .unwrap();
    assert!(saved == got, "the state file holds the stored profiles");
}

/// The scenario's two MariaDB logs of one server (`login-bruteforce-mysql`: the
/// audit log and the error log both say each failed login), as
/// `(path below the followed directory, lines)`.
fn mysql_pair() -> Vec<(PathBuf, Vec<String>)> {
    let base = scenario("login-bruteforce-mysql");
    [
        "orders-mysql/audit/server_audit.log",
        "orders-mysql/error/mysql-error.log",
    ]
    .iter()
    .map(|p| {
        let text = fs::read_to_string(base.join(p)).unwrap();
        (PathBuf::from(p), text.lines().map(str::to_string).collect())
    })
    .collect()
}

/// A line's time as text that sorts (`20261128 09:10:00` and `2026-11-28 09:10:00`
/// both become `2026112809:10:00`).
fn line_time(line: &str) -> String {
    line.chars()
        .take(19)
        .filter(|c| !matches!(c, '-' | ' '))
        .collect()
}

/// A daemon follows a directory where `write` puts the scenario's two logs; once it
/// has stored the brute force and had time to flush, it is stopped and one `--once`
/// run ends the windows. Returns what the store holds and what a scan of the same
/// directory gives.
fn follow_the_pair(write: impl FnOnce(&Path)) -> (Summary, Summary, String) {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    let store = dir.path().join("keibi.db");
    let daemon_log = dir.path().join("daemon.log");
    let mut daemon = spawn_daemon(&logs, &store, &daemon_log);
    assert!(
        wait_for(&store, Duration::from_secs(60), |_| true).is_some(),
        "the daemon opens its store"
    );
    write(&logs);
    let want = scan(&logs);
    let id = want
        .iter()
        .find(|(_, f)| f.0 == "CredentialAccess:RDS/BruteForce")
        .map(|(id, _)| id.clone())
        .expect("scan finds the brute force");
    let got = wait_for(&store, Duration::from_secs(60), |s| s.contains_key(&id));
    let log = || fs::read_to_string(&daemon_log).unwrap_or_default();
    assert!(got.is_some(), "the finding reaches the store:\n{}", log());
    // Long enough for a held entry's flush (500 ms of quiet) and a few polls.
    std::thread::sleep(Duration::from_secs(2));
    signal(&daemon, "-TERM");
    assert_eq!(
        wait_exit(&mut daemon, Duration::from_secs(30)),
        Some(0),
        "{}",
        log()
    );
    let text = log();
    run_once(&[&logs], &store);
    (stored(&store).unwrap(), want, text)
}

/// Both logs of one server copied into a followed directory at once (an rsync, a
/// download of an instance's logs): the error log's last entry is held by its
/// parser until the file has been quiet for 500 ms, while the audit log's later
/// events (five to fifteen minutes on) are read in the same poll. They must wait for
/// it: the failure it says was also in the audit log, and the two are one failure
/// only while both are seen within a minute of event time. Before the directory's
/// files each bounded the source's watermark, the held entry came after them, late,
/// and the brute force counted 91 failures where the scan counts 90.
#[test]
fn a_directory_copied_in_whole_is_detected_in_time_order_as_scan_does() {
    let (got, want, log) = follow_the_pair(|logs| {
        for (path, lines) in mysql_pair() {
            let path = logs.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, lines.join("\n") + "\n").unwrap();
        }
    });
    assert_eq!(got, want, "{log}");
}

/// The same two logs written as the server writes them: line by line in time
/// order, a few lines at a time, each file growing between polls.
#[test]
fn two_logs_of_one_directory_written_live_are_detected_in_time_order() {
    let (got, want, log) = follow_the_pair(|logs| {
        let pair = mysql_pair();
        let mut lines: Vec<(String, usize, &str)> = Vec::new();
        for (i, (path, text)) in pair.iter().enumerate() {
            let path = logs.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            append(&path, b"");
            lines.extend(text.iter().map(|l| (line_time(l), i, l.as_str())));
        }
        // Stable: within one second each file keeps its own order.
        lines.sort_by(|a, b| a.0.cmp(&b.0));
        for chunk in lines.chunks(16) {
            for (i, (path, _)) in pair.iter().enumerate() {
                let mut bytes = Vec::new();
                for (_, _, l) in chunk.iter().filter(|(_, f, _)| *f == i) {
                    bytes.extend_from_slice(l.as_bytes());
                    bytes.push(b'\n');
                }
                if !bytes.is_empty() {
                    append(&logs.join(path), &bytes);
                }
            }
            std::thread::sleep(Duration::from_millis(60));
        }
    });
    assert_eq!(got, want, "{log}");
}

/// Two separately followed directories (`keibi run A/ B/`), the MariaDB pair's audit
/// log in A and its error log in B, B written two seconds after A: B stays quiet past
/// the orderer's idle timeout (1 s), so A's events go out, and B's copies of the same
/// failures come late by up to the audit log's whole span (minutes of event time).
/// Each failure must still be one: the pairing of a failure's two copies is a minute
/// of event time between them, whatever arrived in between (before, the first copy
/// was forgotten once the stream had moved a minute past it, and the brute force
/// counted 91 failures where the scan counts 90).
#[test]
fn a_quiet_path_past_the_idle_timeout_pairs_each_failure_once() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(&b).unwrap();
    let store = dir.path().join("keibi.db");
    let log = dir.path().join("daemon.log");
    let mut daemon = spawn_daemon_on(&[&a, &b], &store, &log);
    assert!(
        wait_for(&store, Duration::from_secs(60), |_| true).is_some(),
        "the daemon opens its store"
    );
    let pair = mysql_pair();
    for (i, (path, lines)) in pair.iter().enumerate() {
        let path = if i == 0 { &a } else { &b }.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, lines.join("\n") + "\n").unwrap();
        // Past the idle timeout: A's events are let out before B says anything.
        std::thread::sleep(Duration::from_secs(2));
    }
    let want = scan_all(&[&a, &b]);
    let (id, count) = want
        .iter()
        .find(|(_, f)| f.0 == "CredentialAccess:RDS/BruteForce")
        .map(|(id, f)| (id.clone(), f.1))
        .expect("scan finds the brute force");
    assert_eq!(count, 90, "scan counts each failure once");
    let text = || fs::read_to_string(&log).unwrap_or_default();
    let got = wait_for(&store, Duration::from_secs(60), |s| {
        s.get(&id).is_some_and(|f| f.1 >= count)
    });
    assert!(
        got.is_some(),
        "the brute force reaches the store:\n{}",
        text()
    );
    std::thread::sleep(Duration::from_secs(2));
    signal(&daemon, "-TERM");
    assert_eq!(
        wait_exit(&mut daemon, Duration::from_secs(30)),
        Some(0),
        "{}",
        text()
    );
    run_once(&[&a, &b], &store);
    assert_eq!(stored(&store).unwrap(), want, "{}", text());
}

/// Two separately followed directories (`keibi run A/ B/`): the audit log of the
/// MariaDB pair in one, the error log in the other, written in time order but A a
/// step ahead of B, so the orderer holds A's newer events until B reaches them and a
/// poll of A is let out in parts over several rounds. The daemon is killed with
/// SIGKILL at a random moment after each step and started again; one `--once` run
/// reads the rest. The store must equal one scan of both: an event whose changes
/// were committed is covered by the committed checkpoint of its file, so a restart
/// never counts it again (before, a poll's checkpoints waited for all its events,
/// and A's events let out before a kill were counted twice).
fn kill_test_two_paths(steps: usize) -> (Summary, Summary, u64) {
    let seed = std::env::var("KEIBI_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("two-path kill test: seed {seed} (KEIBI_KILL_SEED to repeat)");
    let mut rng = Lcg(seed);
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let store = dir.path().join("keibi.db");
    let pair = mysql_pair();
    // (time, which log, line), in time order; each log keeps its own order.
    let mut lines: Vec<(String, usize, &str)> = Vec::new();
    let mut files = Vec::new();
    for (i, (path, text)) in pair.iter().enumerate() {
        let root = if i == 0 { &a } else { &b };
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        append(&path, b"");
        files.push(path);
        lines.extend(text.iter().map(|l| (line_time(l), i, l.as_str())));
    }
    lines.sort_by(|x, y| x.0.cmp(&y.0));
    // The whole pair: the audit log's later lines (09:15 on) put A minutes ahead, and
    // when B is quiet for the idle timeout (1 s) B's next lines come late by minutes;
    // a failure's two copies are still one (a minute between their own times).
    let per = lines.len().div_ceil(steps);
    let chunks: Vec<_> = lines.chunks(per).collect();
    let write = |chunk: &[(String, usize, &str)], which: usize| {
        let mut bytes = Vec::new();
        for (_, _, l) in chunk.iter().filter(|(_, f, _)| *f == which) {
            bytes.extend_from_slice(l.as_bytes());
            bytes.push(b'\n');
        }
        if !bytes.is_empty() {
            append(&files[which], &bytes);
        }
    };
    // A (the audit log) gets step i + 1 while B (the error log) gets step i.
    write(chunks[0], 0);
    for i in 0..chunks.len() {
        let log = dir.path().join(format!("daemon-{i}.log"));
        let mut daemon = spawn_daemon_on(&[&a, &b], &store, &log);
        std::thread::sleep(Duration::from_millis(rng.next(300)));
        if let Some(next) = chunks.get(i + 1) {
            write(next, 0);
        }
        write(chunks[i], 1);
        std::thread::sleep(Duration::from_millis(rng.next(1200)));
        signal(&daemon, "-KILL");
        let _ = daemon.wait();
    }
    run_once(&[&a, &b], &store);
    let got = stored(&store).unwrap();
    if std::env::var_os("KEIBI_KILL_KEEP").is_some() {
        eprintln!("kept in {}", dir.keep().display());
    }
    (got, scan_all(&[&a, &b]), seed)
}

/// Nothing lost, nothing doubled with two followed paths, one ahead of the other:
/// 20 SIGKILLs, and the store equals one scan.
#[test]
fn two_paths_one_ahead_killed_twenty_times_the_store_holds_what_one_scan_finds() {
    let (got, want, seed) = kill_test_two_paths(20);
    assert!(
        want.values()
            .any(|f| f.0 == "CredentialAccess:RDS/BruteForce"),
        "the scan finds the brute force: {want:?}"
    );
    assert_eq!(got, want, "seed {seed}");
}
