//! Following a real PostgreSQL's log while it writes it: PostgreSQL's own rotation
//! (`pg_rotate_logfile()` to a new file name), a logrotate-style copytruncate of the
//! current file, and a restart of the follower from its checkpoints in the middle of
//! a file. Every failed login (each with its own user name) must be read exactly
//! once. The same for a real MariaDB: server_audit's own rotation, a copytruncate
//! of its error log, and a restart.

mod common;

use std::collections::HashMap;
use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use keibi_ingest::{Checkpoint, FollowOptions, FollowSource, LiveSource};
use keibi_model::{Action, Event, SourceKind};

/// A follower polling on its own thread until told to stop, putting what it reads in
/// `seen`; returns the checkpoints it handed out.
fn spawn_follower(
    mut src: FollowSource,
    seen: Arc<Mutex<Vec<Event>>>,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<Vec<Checkpoint>> {
    thread::spawn(move || {
        let mut cps: HashMap<_, Checkpoint> = HashMap::new();
        while !stop.load(Ordering::SeqCst) {
            let p = src.poll(Instant::now());
            seen.lock().unwrap().extend(p.events);
            for c in p.checkpoints {
                cps.insert(c.fingerprint, c);
            }
            thread::sleep(Duration::from_millis(50));
        }
        cps.into_values().collect()
    })
}

fn failed_users(events: &[Event]) -> Vec<String> {
    let mut v: Vec<String> = events
        .iter()
        .filter(|e| e.action == Action::LoginFailure)
        .filter_map(|e| e.user.as_deref().map(String::from))
        .filter(|u| u.starts_with("intruder"))
        .collect();
    v.sort();
    v
}

#[test]
fn postgresql_rotation_copytruncate_and_restart_lose_and_double_nothing() {
    use common::postgres::*;
    let Some(pg) = Postgres::start() else {
        return;
    };
    let sql = |s: &str| {
        let out = pg.psql_tcp(SUPERUSER, SUPERUSER_PASSWORD, DATABASE, s);
        assert!(out.status.success(), "{s}: {}", common::describe(&out));
    };
    let mut expected = Vec::new();
    let mut attack = |round: usize| {
        for i in 0..4 {
            let user = format!("intruder{round}x{i}");
            let out = pg.psql_tcp(&user, "guess", DATABASE, "SELECT 1;\n");
            assert!(!out.status.success());
            expected.push(user);
        }
    };
    // A new file per rotation, as a server configured for rotation writes.
    sql("ALTER SYSTEM SET log_filename = 'postgresql-%Y%m%d-%H%M%S.log';\n");
    sql("SELECT pg_reload_conf();\n");
    let glob = pg.log_dir().join("*.log").to_string_lossy().into_owned();
    let opts = FollowOptions {
        discover: Duration::from_millis(200),
        ..FollowOptions::default()
    };

    let seen = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let first = spawn_follower(
        FollowSource::new(std::slice::from_ref(&glob), opts.clone(), vec![]).unwrap(),
        seen.clone(),
        stop.clone(),
    );
    attack(0);
    sql("SELECT pg_rotate_logfile();\n");
    attack(1);
    thread::sleep(Duration::from_millis(1100)); // the next file gets another name
    sql("SELECT pg_rotate_logfile();\n");
    attack(2);
    // Give the follower time to read, then stop it in the middle of the current file.
    thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::SeqCst);
    let checkpoints = first.join().unwrap();
    assert!(!failed_users(&seen.lock().unwrap()).is_empty());

    // While it is stopped: more attempts, then a copytruncate of the current file.
    attack(3);
    let current = fs::read_dir(pg.log_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .max_by_key(|p| fs::metadata(p).and_then(|m| m.modified()).ok())
        .unwrap();
    // The logger process writes after the client has its answer: wait for the last
    // attempt to be in the file before copying it.
    common::wait_for_text(&current, "\"intruder3x3\"");
    let copy = pg.log_dir().join("rotated.log");
    fs::copy(&current, &copy).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&current)
        .unwrap()
        .set_len(0)
        .unwrap();
    attack(4);

    let stop = Arc::new(AtomicBool::new(false));
    let second = spawn_follower(
        FollowSource::new(std::slice::from_ref(&glob), opts, checkpoints).unwrap(),
        seen.clone(),
        stop.clone(),
    );
    sql("SELECT pg_rotate_logfile();\n");
    attack(5);
    expected.sort();
    // Read until every attempt was seen (60 s at most), then a second more for doubles.
    let start = Instant::now();
    while failed_users(&seen.lock().unwrap()).len() < expected.len()
        && start.elapsed() < common::WAIT
    {
        thread::sleep(Duration::from_millis(200));
    }
    thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::SeqCst);
    second.join().unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(failed_users(&seen), expected);
    // The attempts made while the follower was stopped, then truncated away from the
    // current file, were read from the copy, resumed at the checkpoint.
    let from_copy: Vec<_> = seen
        .iter()
        .filter(|e| {
            e.user
                .as_deref()
                .is_some_and(|u| u.starts_with("intruder3"))
        })
        .map(|e| e.file.to_string())
        .collect();
    assert_eq!(from_copy.len(), 4);
    assert!(
        from_copy.iter().all(|f| f.ends_with("rotated.log")),
        "{from_copy:?}"
    );
    let logs = fs::read_dir(pg.log_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
        .count();
    assert!(
        logs >= 4,
        "PostgreSQL rotated to new files ({logs} .log files)"
    );
}

fn failed_users_from(events: &[Event], source: SourceKind) -> Vec<String> {
    let only: Vec<Event> = events
        .iter()
        .filter(|e| e.source == source)
        .cloned()
        .collect();
    failed_users(&only)
}

#[test]
fn mariadb_audit_rotation_error_log_copytruncate_and_restart_lose_and_double_nothing() {
    use common::mariadb::*;
    let Some(db) = Mariadb::start() else {
        return;
    };
    let admin = |s: &str| {
        let out = db.client_tcp(ADMIN_USER, ADMIN_PASSWORD, None, s);
        assert!(out.status.success(), "{s}: {}", common::describe(&out));
    };
    let mut expected = Vec::new();
    let mut attack = |round: usize| {
        for i in 0..3 {
            let user = format!("intruder{round}x{i}");
            let out = db.client_tcp(&user, "guess", None, "SELECT 1;\n");
            assert!(!out.status.success());
            expected.push(user);
        }
    };
    let d = db.dir().display().to_string();
    let patterns = [format!("{d}/server_audit.log*"), format!("{d}/error.log*")];
    let opts = FollowOptions {
        discover: Duration::from_millis(200),
        ..FollowOptions::default()
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let first = spawn_follower(
        FollowSource::new(&patterns, opts.clone(), vec![]).unwrap(),
        seen.clone(),
        stop.clone(),
    );
    attack(0);
    // server_audit's own rotation: server_audit.log becomes server_audit.log.1.
    admin("SET GLOBAL server_audit_file_rotate_now = ON;\n");
    attack(1);
    thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::SeqCst);
    let checkpoints = first.join().unwrap();

    // While the follower is stopped: more attempts, a copytruncate of the error log,
    // more attempts.
    attack(2);
    common::wait_for_text(&db.error_log(), "'intruder2x2'"); // written after the reply
    fs::copy(db.error_log(), db.dir().join("error.log.1")).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(db.error_log())
        .unwrap()
        .set_len(0)
        .unwrap();
    attack(3);

    let stop = Arc::new(AtomicBool::new(false));
    let second = spawn_follower(
        FollowSource::new(&patterns, opts, checkpoints).unwrap(),
        seen.clone(),
        stop.clone(),
    );
    admin("SET GLOBAL server_audit_file_rotate_now = ON;\n");
    attack(4);
    expected.sort();
    let complete = |events: &[Event]| {
        failed_users_from(events, SourceKind::MysqlAudit).len() >= expected.len()
            && failed_users_from(events, SourceKind::MysqlError).len() >= expected.len()
    };
    let start = Instant::now();
    while !complete(&seen.lock().unwrap()) && start.elapsed() < common::WAIT {
        thread::sleep(Duration::from_millis(200));
    }
    thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::SeqCst);
    second.join().unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(failed_users_from(&seen, SourceKind::MysqlAudit), expected);
    assert_eq!(failed_users_from(&seen, SourceKind::MysqlError), expected);
    assert!(
        db.dir().join("server_audit.log.2").exists(),
        "server_audit rotated twice"
    );
}
