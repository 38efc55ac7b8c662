//! Automated response end to end: `keibi run` with a `respond` section, acting on
//! what it detects in logs, the journal read back with `keibi actions`.
//!
//! * simulate is the default: every suggested action is recorded, nothing runs;
//! * a kill -9 while an action is executing leaves it executing in the journal, and
//!   the next start executes it again: done, never lost;
//! * `keibi actions pause` holds every action back;
//! * on a real PostgreSQL, a brute force that succeeds locks the role and ends its
//!   session (its loopback address is never blocked), and the lock is undone at its
//!   expiry by a daemon started after the expiry passed.

mod common;

#[path = "../../keibi-notify/tests/common/receiver.rs"]
mod receiver;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::daemon::Daemon;
use serde_json::Value;

const SCENARIO: &str = "tests/scenarios/login-successful-bruteforce/attack";

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn write_config(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("keibi.yaml");
    fs::write(&p, body).unwrap();
    p
}

/// `keibi actions list --format json` of a store.
fn actions(store: &Path) -> Vec<Value> {
    try_actions(store).unwrap_or_else(|e| panic!("{e}"))
}

/// As [`actions`], or why not (the daemon may be creating the store).
fn try_actions(store: &Path) -> Result<Vec<Value>, String> {
    let out = keibi()
        .args(["actions", "list", "--format", "json", "--store"])
        .arg(store)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!(
            "keibi actions list: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn state(a: &Value) -> &str {
    a["state"].as_str().unwrap_or("")
}

fn action_kind(a: &Value) -> &str {
    a["target"]["action"].as_str().unwrap_or("")
}

fn wait_actions(
    store: &Path,
    limit: Duration,
    what: &str,
    daemon: &Daemon,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let a = try_actions(store).unwrap_or_default();
        if done(&a) {
            return a;
        }
        if start.elapsed() > limit {
            panic!(
                "{what}: not within {limit:?}; actions:\n{}\ndaemon:\n{}",
                serde_json::to_string_pretty(&a).unwrap(),
                daemon.log()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENARIO)
}

#[test]
fn simulate_is_the_default_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let marker = dir.path().join("ran");
    let script = dir.path().join("act.sh");
    fs::write(
        &script,
        format!("#!/bin/sh\necho ran >> {}\n", marker.display()),
    )
    .unwrap();
    make_executable(&script);
    let config = write_config(
        dir.path(),
        &format!(
            "sources:\n  inputs:\n    - dir: {src}\nstore:\n  path: {store}\nserver:\n  listen: off\n\
             respond:\n  enabled: true\n  rules:\n    - types: [\"*SuccessfulBruteForce*\"]\n      actions: [block_address, lock_role, exec:mark]\n\
             \x20 exec:\n    mark:\n      command: [{script}]\n",
            src = scenario().display(),
            store = store.display(),
            script = script.display(),
        ),
    );
    let out = keibi()
        .args(["run", "--once", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "keibi run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = actions(&store);
    // The rule's three actions for the takeover; the brute force finding's own
    // suggestion (block its address) by default.
    let mut kinds: Vec<(&str, &str)> = a.iter().map(|a| (action_kind(a), state(a))).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("block_address", "simulated"),
            ("block_address", "simulated"),
            ("exec", "simulated"),
            ("lock_role", "simulated"),
        ],
        "{a:#?}"
    );
    assert!(!marker.exists(), "a simulated exec ran");
    // A second pass over the same logs plans nothing more.
    let out = keibi()
        .args(["run", "--once", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(actions(&store).len(), 4);
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A copy of the scenario's log, so the daemon follows a file the test owns.
fn copy_scenario(dir: &Path) -> PathBuf {
    let logs = dir.join("logs").join("shop-postgres");
    fs::create_dir_all(&logs).unwrap();
    for e in fs::read_dir(scenario().join("shop-postgres")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), logs.join(e.file_name())).unwrap();
    }
    dir.join("logs")
}

#[test]
fn an_action_cut_by_a_kill_is_executed_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let ran = dir.path().join("ran");
    let slow = dir.path().join("slow");
    fs::write(&slow, "").unwrap();
    let script = dir.path().join("act.sh");
    // Records each run (its action id), then hangs while `slow` exists: the daemon
    // is killed with the action executing.
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$KEIBI_ACTION_ID\" >> {ran}\nwhile [ -e {slow} ]; do sleep 0.1; done\n",
            ran = ran.display(),
            slow = slow.display()
        ),
    )
    .unwrap();
    make_executable(&script);
    let logs = copy_scenario(dir.path());
    let config = write_config(
        dir.path(),
        &format!(
            "sources:\n  inputs:\n    - dir: {src}\nstore:\n  path: {store}\nserver:\n  listen: off\n\
             respond:\n  enabled: true\n  simulate_suggested: false\n  rules:\n    - types: [\"*SuccessfulBruteForce*\"]\n      actions: [exec:mark]\n      mode: auto\n\
             \x20 exec:\n    mark:\n      command: [{script}]\n      timeout: 60s\n",
            src = logs.display(),
            store = store.display(),
            script = script.display(),
        ),
    );
    let log = dir.path().join("daemon.log");
    let args = [OsStr::new("--config"), config.as_os_str()];
    let mut d = Daemon::start_args(&args, &log);
    let start = Instant::now();
    while fs::read_to_string(&ran).unwrap_or_default().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the action never ran:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    d.kill9();
    let a = actions(&store);
    assert_eq!(a.len(), 1, "{a:#?}");
    assert_eq!(state(&a[0]), "executing", "{a:#?}");
    let id = a[0]["id"].as_str().unwrap().to_string();

    fs::remove_file(&slow).unwrap();
    let d = Daemon::start_args(&args, &log);
    let a = wait_actions(
        &store,
        Duration::from_secs(60),
        "executed after the restart",
        &d,
        |a| a.len() == 1 && state(&a[0]) == "executed",
    );
    assert_eq!(a[0]["id"], id.as_str());
    let runs: Vec<String> = fs::read_to_string(&ran)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        runs,
        [id.clone(), id],
        "run once before the kill, once after"
    );
}

#[test]
fn a_pause_holds_every_action_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let ran = dir.path().join("ran");
    let script = dir.path().join("act.sh");
    fs::write(
        &script,
        format!("#!/bin/sh\necho ran >> {}\n", ran.display()),
    )
    .unwrap();
    make_executable(&script);
    let config = write_config(
        dir.path(),
        &format!(
            "sources:\n  inputs:\n    - dir: {src}\nstore:\n  path: {store}\nserver:\n  listen: off\n\
             respond:\n  enabled: true\n  rules:\n    - actions: [exec:mark]\n      mode: auto\n\
             \x20 exec:\n    mark:\n      command: [{script}]\n",
            src = scenario().display(),
            store = store.display(),
            script = script.display(),
        ),
    );
    // A first pass with responses off makes the store (and leaves its findings'
    // entries for the responder); then a pause; then a pass with responses on.
    let off = dir.path().join("off.yaml");
    fs::write(
        &off,
        fs::read_to_string(&config)
            .unwrap()
            .replace("  enabled: true", "  enabled: false"),
    )
    .unwrap();
    for step in [
        vec![
            OsStr::new("run"),
            OsStr::new("--once"),
            OsStr::new("--config"),
            off.as_os_str(),
        ],
        vec![
            OsStr::new("actions"),
            OsStr::new("pause"),
            OsStr::new("--by"),
            OsStr::new("ann"),
            OsStr::new("--store"),
            store.as_os_str(),
        ],
        vec![
            OsStr::new("run"),
            OsStr::new("--once"),
            OsStr::new("--config"),
            config.as_os_str(),
        ],
    ] {
        let out = keibi().args(&step).output().unwrap();
        assert!(
            out.status.success(),
            "{step:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let a = actions(&store);
    assert!(!a.is_empty());
    for x in &a {
        assert_eq!(state(x), "skipped", "{a:#?}");
        assert!(x["reason"].as_str().unwrap().contains("paused"), "{x}");
    }
    assert!(!ran.exists(), "an action ran while paused");
}

/// Wrong passwords before the right one: above the brute-force threshold.
const GUESSES: usize = 30;

#[test]
fn a_successful_brute_force_on_postgresql_locks_the_role_until_its_expiry() {
    use common::postgres::*;
    let Some(pg) = Postgres::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let config = write_config(
        dir.path(),
        &format!(
            "sources:\n  inputs:\n    - path: {log}\n      instance: shop-pg\nstore:\n  path: {store}\nserver:\n  listen: off\n\
             respond:\n  enabled: true\n  simulate_suggested: false\n  rules:\n    - name: takeover\n      types: [\"*SuccessfulBruteForce*\"]\n      actions: [block_address, lock_role]\n      mode: auto\n      expire_after: 8s\n\
             \x20 databases:\n    - instance: shop-pg\n      url: postgres://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}\n      password: {{env: KEIBI_TEST_PG_PASSWORD}}\n",
            log = pg.stderr_log().display(),
            store = store.display(),
            port = pg.port,
        ),
    );
    let log = dir.path().join("daemon.log");
    let args = [OsStr::new("--config"), config.as_os_str()];
    // The daemons inherit it (each test runs in a process of its own).
    std::env::set_var("KEIBI_TEST_PG_PASSWORD", SUPERUSER_PASSWORD);
    let start_daemon = || Daemon::start_args(&args, &log);
    let mut d = start_daemon();

    // The application's session, open through the attack.
    let mut session = pg
        .psql_tcp_command(APP_USER, APP_PASSWORD, DATABASE)
        .arg("-c")
        .arg("SELECT pg_sleep(120)")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..GUESSES {
        let out = pg.psql_tcp(APP_USER, "guess", DATABASE, "SELECT 1;\n");
        assert!(!out.status.success(), "a wrong password was accepted");
    }
    let out = pg.psql_tcp(APP_USER, APP_PASSWORD, DATABASE, "SELECT 1;\n");
    assert!(out.status.success(), "{}", common::describe(&out));

    let a = wait_actions(
        &store,
        Duration::from_secs(60),
        "the role locked",
        &d,
        |a| {
            a.iter()
                .any(|x| action_kind(x) == "lock_role" && state(x) == "executed")
        },
    );
    // The attacker's loopback address is never blocked.
    let block = a
        .iter()
        .find(|x| action_kind(x) == "block_address")
        .unwrap();
    assert_eq!(state(block), "skipped", "{block}");
    // The role cannot log in, and its open session was ended.
    let out = pg.psql_tcp(APP_USER, APP_PASSWORD, DATABASE, "SELECT 1;\n");
    assert!(!out.status.success(), "a locked role logged in");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not permitted to log in"),
        "{}",
        common::describe(&out)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while session.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the role's session survived the lock"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Killed before the expiry; started again after it: the lock is undone.
    d.kill9();
    std::thread::sleep(Duration::from_secs(9));
    let d = start_daemon();
    wait_actions(
        &store,
        Duration::from_secs(60),
        "the lock expired",
        &d,
        |a| {
            a.iter()
                .any(|x| action_kind(x) == "lock_role" && state(x) == "expired")
        },
    );
    let out = pg.psql_tcp(APP_USER, APP_PASSWORD, DATABASE, "SELECT 1;\n");
    assert!(out.status.success(), "{}", common::describe(&out));
}

/// What was done is told through the notification routes: each simulated action
/// reaches the webhook channel as an `action` event with the action's JSON.
#[test]
fn simulated_actions_are_told_through_the_notification_routes() {
    let rx = receiver::Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let config = write_config(
        dir.path(),
        &format!(
            "sources:\n  inputs:\n    - dir: {src}\nstore:\n  path: {store}\nserver:\n  listen: off\n\
             notify:\n  channels:\n    - name: hook\n      type: webhook\n      url: {url}\n  routes:\n    - channels: [hook]\n\
             respond:\n  enabled: true\n",
            src = scenario().display(),
            store = store.display(),
            url = rx.url("/hook"),
        ),
    );
    let out = keibi()
        .args(["run", "--once", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let planned = actions(&store);
    assert!(!planned.is_empty());
    let told: Vec<Value> = rx
        .requests()
        .iter()
        .map(|r| r.json())
        .filter(|j| j["event"] == "action")
        .collect();
    let mut ids: Vec<&str> = told
        .iter()
        .map(|j| j["action"]["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want: Vec<&str> = planned.iter().map(|a| a["id"].as_str().unwrap()).collect();
    want.sort();
    assert_eq!(ids, want, "every simulated action is told once");
    for j in &told {
        assert_eq!(j["action"]["state"], "simulated", "{j}");
        assert!(j["finding"]["id"].is_string(), "{j}");
    }
}

/// Mode approve: the daemon waits until a person runs `keibi actions approve ID`,
/// then acts within a second; a cancelled one never runs.
#[test]
fn approve_waits_for_a_person_and_cancel_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let ran = dir.path().join("ran");
    let script = dir.path().join("act.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$KEIBI_FINDING_TYPE\" >> {}\n",
            ran.display()
        ),
    )
    .unwrap();
    make_executable(&script);
    let logs = copy_scenario(dir.path());
    let config = write_config(
        dir.path(),
        &format!(
            "sources:\n  inputs:\n    - dir: {src}\nstore:\n  path: {store}\nserver:\n  listen: off\n\
             respond:\n  enabled: true\n  simulate_suggested: false\n  rules:\n    - actions: [exec:mark]\n      mode: approve\n\
             \x20 exec:\n    mark:\n      command: [{script}]\n",
            src = logs.display(),
            store = store.display(),
            script = script.display(),
        ),
    );
    let log = dir.path().join("daemon.log");
    let d = Daemon::start_args(&[OsStr::new("--config"), config.as_os_str()], &log);
    let a = wait_actions(&store, Duration::from_secs(60), "two planned", &d, |a| {
        a.len() == 2 && a.iter().all(|x| state(x) == "planned")
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!ran.exists(), "an action ran before its approval");
    let by_type = |t: &str| {
        a.iter()
            .find(|x| x["finding_type"].as_str().unwrap().ends_with(t))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (yes, no) = (by_type("SuccessfulBruteForce"), by_type("/BruteForce"));
    for (verb, id) in [("approve", &yes), ("cancel", &no)] {
        let out = keibi()
            .args(["actions", verb, &id[..8], "--by", "ann", "--store"])
            .arg(&store)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{verb}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let a = wait_actions(&store, Duration::from_secs(30), "executed", &d, |a| {
        a.iter()
            .any(|x| x["id"] == yes.as_str() && state(x) == "executed")
    });
    let cancelled = a.iter().find(|x| x["id"] == no.as_str()).unwrap();
    assert_eq!(state(cancelled), "cancelled");
    assert_eq!(
        fs::read_to_string(&ran).unwrap(),
        "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce\n"
    );
    // Approving twice is refused: it is no longer awaiting approval.
    let out = keibi()
        .args(["actions", "approve", &yes, "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
