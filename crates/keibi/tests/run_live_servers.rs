//! `keibi run` following what real servers write while they write it (issue 11,
//! "Proven, not claimed"): a password brute force against a real PostgreSQL whose
//! logging collector rotates its file in the middle (`pg_rotate_logfile()`), with
//! the daemon killed with SIGKILL and restarted part-way through the new file; and
//! one against a real MariaDB whose audit log logrotate copies and truncates
//! (`copytruncate`) in the middle, the daemon again killed and restarted after it. Every failed login made is counted exactly once
//! in the stored finding, and the store ends as `keibi scan` of the same logs.
//!
//! The servers are the ones `tests/servers.rs` uses (`common/`); without them a test
//! is skipped unless `KEIBI_REQUIRE_SERVERS=1`. Without the `logrotate` binary the
//! MariaDB test skips only its rotation (and says so).

mod common;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::daemon::{of_type, scan, stored, wait_for, Daemon, Summary};

const BRUTE_FORCE: &str = "CredentialAccess:RDS/BruteForce";

/// How long a finding may take to reach the store here. Generous (the machine is
/// shared and these are debug builds); the wait ends as soon as it is there.
const LIMIT: Duration = Duration::from_secs(60);

/// The one brute-force finding's id and count in a summary, if there is exactly one.
fn brute_force(s: &Summary) -> Option<(String, u64)> {
    let mut it = of_type(s, BRUTE_FORCE);
    let (id, count) = it.next()?;
    it.next().is_none().then(|| (id.clone(), count))
}

/// Waits until the store holds one brute-force finding counting `want` failures.
fn wait_count(store: &Path, want: u64, daemon: &Daemon, what: &str) -> String {
    match wait_for(store, LIMIT, |s| {
        brute_force(s).is_some_and(|(_, c)| c == want)
    }) {
        Ok(s) => brute_force(&s).unwrap().0,
        Err(last) => panic!(
            "{what}: the store never held one {BRUTE_FORCE} counting {want} failures; \
             it holds {last:#?}\ndaemon log:\n{}",
            common::tail(&daemon.log(), 6000)
        ),
    }
}

/// The files of a directory, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn postgresql_rotating_its_log_and_a_killed_daemon_count_every_failure_once() {
    use common::postgres::*;
    // One file per rotation, named by the collector after the time (as RDS and the
    // distributions' `postgresql-%Y-%m-%d_%H%M%S.log`), and only the stderr log.
    let Some(pg) = Postgres::start_with(
        "log_destination = 'stderr'\n\
         log_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'\n",
    ) else {
        return;
    };
    let log_dir = pg.log_dir();
    assert_eq!(files(&log_dir).len(), 1, "one log file at start");
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("keibi.db");
    let daemon_log = work.path().join("daemon.log");
    let source = OsString::from(&log_dir);

    let mut daemon = Daemon::start(&source, &store, &daemon_log);
    assert!(
        wait_for(&store, LIMIT, |_| true).is_ok(),
        "the daemon opens its store:\n{}",
        daemon.log()
    );

    // Every attempt is one psql over TCP from 127.0.0.1 with a wrong password: one
    // `password authentication failed` each, counted here as the server answers.
    let mut failures = 0u64;
    let mut attack = |n: u64| {
        for _ in 0..n {
            let out = pg.psql_tcp(APP_USER, "not-the-password", DATABASE, "SELECT 1");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                !out.status.success() && err.contains("password authentication failed"),
                "a wrong password fails: {}",
                common::describe(&out)
            );
            failures += 1;
        }
        failures
    };

    // 1. The brute force starts in the first file.
    let n = attack(12);
    let id = wait_count(&store, n, &daemon, "first file");

    // 2. PostgreSQL rotates: the collector opens a new file named after the time (a
    //    second later, so the name differs) and writes on there.
    std::thread::sleep(Duration::from_millis(1100));
    let out = pg.psql_local(SUPERUSER, "postgres", "SELECT pg_rotate_logfile();");
    assert!(out.status.success(), "{}", common::describe(&out));
    let start = Instant::now();
    while files(&log_dir).len() < 2 && start.elapsed() < LIMIT {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        files(&log_dir).len(),
        2,
        "pg_rotate_logfile() starts a second file"
    );
    let n = attack(10);
    assert_eq!(
        wait_count(&store, n, &daemon, "after pg_rotate_logfile()"),
        id,
        "the attack in the new file grows the same finding"
    );

    // 3. SIGKILL in the middle of the new file; the attack goes on while no daemon
    //    runs, and after it is back.
    daemon.kill9();
    attack(7);
    let mut daemon = Daemon::start(&source, &store, &daemon_log);
    let n = attack(6);
    assert_eq!(wait_count(&store, n, &daemon, "after a SIGKILL"), id);

    // 4. The end: the daemon stops cleanly, and the store holds what one scan of the
    //    directory finds (same ids, counts, first and last seen). The server is
    //    left running but idle, so the logs do not change under the comparison.
    assert_eq!(
        daemon.terminate(LIMIT),
        Some(0),
        "SIGTERM exits 0:\n{}",
        daemon.log()
    );
    let got = stored(&store).expect("the store");
    let want = scan(&[&source]);
    assert_eq!(
        brute_force(&want),
        Some((id, n)),
        "scan counts every failure"
    );
    assert_eq!(got, want, "daemon log:\n{}", daemon.log());
    drop(pg);
}

#[test]
fn mariadb_audit_log_copytruncated_by_logrotate_counts_every_failure_once() {
    use common::mariadb::*;
    let Some(db) = Mariadb::start() else {
        return;
    };
    let audit = db.audit_log();
    let copy = PathBuf::from(format!("{}.1", audit.display()));
    // The live file and the copies logrotate makes beside it, as a user following
    // /var/log/mysql/ would have them.
    let source = OsString::from(format!("{}*", audit.display()));
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("keibi.db");
    let daemon_log = work.path().join("daemon.log");

    let mut daemon = Daemon::start(&source, &store, &daemon_log);
    assert!(
        wait_for(&store, LIMIT, |_| true).is_ok(),
        "the daemon opens its store:\n{}",
        daemon.log()
    );

    let mut failures = 0u64;
    let mut attack = |n: u64| {
        for _ in 0..n {
            let out = db.client_tcp(APP_USER, "not-the-password", Some(DATABASE), "SELECT 1");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                !out.status.success() && err.contains("Access denied"),
                "a wrong password fails: {}",
                common::describe(&out)
            );
            failures += 1;
        }
        failures
    };

    let n = attack(12);
    let id = wait_count(&store, n, &daemon, "before the rotation");

    match common::which("logrotate") {
        None => eprintln!(
            "SKIPPED (rotation part): logrotate is not installed (package logrotate); \
             the attack goes on in the same file"
        ),
        Some(logrotate) => {
            let before = fs::metadata(&audit).unwrap().len();
            let conf = work.path().join("logrotate.conf");
            fs::write(
                &conf,
                format!(
                    "{} {{\n    copytruncate\n    rotate 3\n    nocompress\n    missingok\n}}\n",
                    audit.display()
                ),
            )
            .unwrap();
            common::check(
                std::process::Command::new(logrotate)
                    .arg("--force")
                    .arg("--state")
                    .arg(work.path().join("logrotate.state"))
                    .arg(&conf),
            );
            assert_eq!(
                fs::metadata(&copy).map(|m| m.len()).ok(),
                Some(before),
                "logrotate copied the audit log whole"
            );
            assert!(
                fs::metadata(&audit).unwrap().len() < before,
                "logrotate truncated the audit log"
            );
        }
    }

    let n = attack(5);
    assert_eq!(
        wait_count(&store, n, &daemon, "after copytruncate"),
        id,
        "the attack after the truncation grows the same finding"
    );
    // A SIGKILL after the rotation: the stored checkpoint now names the copy's
    // content, the live file is new content; the attack goes on meanwhile.
    daemon.kill9();
    attack(3);
    let mut daemon = Daemon::start(&source, &store, &daemon_log);
    let n = attack(4);
    assert_eq!(wait_count(&store, n, &daemon, "after a SIGKILL"), id);
    // The server writes on at the start of the truncated file (it opened it to
    // append), not at its old offset behind a hole of zeros.
    let live = fs::read(&audit).unwrap();
    assert!(
        !live.contains(&0),
        "the audit log has no hole after copytruncate"
    );

    assert_eq!(
        daemon.terminate(LIMIT),
        Some(0),
        "SIGTERM exits 0:\n{}",
        daemon.log()
    );
    let got = stored(&store).expect("the store");
    // What the glob matched: the copy (when logrotate ran) and the live file.
    let mut paths = vec![audit.as_os_str()];
    if copy.exists() {
        paths.insert(0, copy.as_os_str());
    }
    let want = scan(&paths);
    assert_eq!(
        brute_force(&want),
        Some((id, n)),
        "scan counts every failure"
    );
    assert_eq!(got, want, "daemon log:\n{}", daemon.log());
    drop(db);
}

/// A `log_line_prefix` no known one matches (issue 14 §1): `keibi run` infers it from
/// the file's first lines as `keibi scan` does, the brute force reaches the store, and
/// a restart after SIGKILL infers it again from the same head and counts on.
#[test]
fn postgresql_in_an_unknown_prefix_is_read_live_with_an_inferred_prefix() {
    use common::postgres::*;
    const PREFIX: &str = "%m [%p-%l] sess=%c user=%u,db=%d,app=%a,client=%h ";
    let Some(pg) = Postgres::start_with(&format!(
        "log_destination = 'stderr'\nlog_line_prefix = '{PREFIX}'\n"
    )) else {
        return;
    };
    let log_dir = pg.log_dir();
    let head = fs::read_to_string(pg.stderr_log()).unwrap_or_default();
    assert!(
        head.contains(" user=,db=,app=,client= LOG:"),
        "the server writes the custom prefix:\n{head}"
    );
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("keibi.db");
    let daemon_log = work.path().join("daemon.log");
    let source = OsString::from(&log_dir);

    let mut daemon = Daemon::start(&source, &store, &daemon_log);
    assert!(
        wait_for(&store, LIMIT, |_| true).is_ok(),
        "the daemon opens its store:\n{}",
        daemon.log()
    );
    let mut failures = 0u64;
    let mut attack = |n: u64| {
        for _ in 0..n {
            let out = pg.psql_tcp(APP_USER, "not-the-password", DATABASE, "SELECT 1");
            assert!(!out.status.success(), "{}", common::describe(&out));
            failures += 1;
        }
        failures
    };
    let n = attack(12);
    let id = wait_count(&store, n, &daemon, "inferred prefix");

    daemon.kill9();
    attack(5);
    let mut daemon = Daemon::start(&source, &store, &daemon_log);
    let n = attack(6);
    assert_eq!(wait_count(&store, n, &daemon, "after a SIGKILL"), id);
    assert!(
        !daemon.log().contains("format not recognized"),
        "{}",
        daemon.log()
    );
    assert_eq!(
        daemon.terminate(LIMIT),
        Some(0),
        "SIGTERM exits 0:\n{}",
        daemon.log()
    );
    let got = stored(&store).expect("the store");
    let want = scan(&[&source]);
    assert_eq!(
        brute_force(&want),
        Some((id, n)),
        "scan counts every failure"
    );
    assert_eq!(got, want, "daemon log:\n{}", daemon.log());
    drop(pg);
}
