//! `keibi run` reads a PostgreSQL stderr log in a `log_line_prefix` no known one
//! matches, by inferring it from the file's first lines as `keibi scan` does (issue 14
//! §1). A live log starts with the server's own lines, whose names are empty: the
//! follower waits for a client session's lines before it settles on a prefix, then
//! reads the file from its start; a restart from the checkpoints infers the prefix
//! again from the same head.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use keibi_ingest::{Checkpoint, FollowOptions, FollowSource, LiveSource, Notice};
use keibi_model::{Action, Event};

/// The lines of `%m [%p-%l] sess=%c user=%u,db=%d,app=%a,client=%h ` (PostgreSQL 15's
/// own wording), as the test in `crates/keibi/tests/run_live_servers.rs` has a real
/// server write them.
const STARTUP: &str = "\
2026-11-30 10:00:00.100 UTC [900-1] sess=6a0b0001.384 user=,db=,app=,client= LOG:  starting PostgreSQL 15.8 on x86_64-pc-linux-gnu
2026-11-30 10:00:00.120 UTC [900-2] sess=6a0b0001.384 user=,db=,app=,client= LOG:  listening on IPv4 address \"127.0.0.1\", port 5432
2026-11-30 10:00:00.200 UTC [902-1] sess=6a0b0002.386 user=,db=,app=,client= LOG:  database system was shut down at 2026-11-30 09:59:59 UTC
2026-11-30 10:00:00.300 UTC [900-3] sess=6a0b0001.384 user=,db=,app=,client= LOG:  database system is ready to accept connections
";

fn failure(pid: u32, n: u32) -> String {
    format!(
        "2026-11-30 10:01:{n:02}.000 UTC [{pid}-1] sess=6a0b00ff.{pid:x} user=[unknown],db=[unknown],app=[unknown],client=192.0.2.7 LOG:  connection received: host=192.0.2.7 port={}\n\
         2026-11-30 10:01:{n:02}.010 UTC [{pid}-2] sess=6a0b00ff.{pid:x} user=app,db=shop,app=[unknown],client=192.0.2.7 FATAL:  password authentication failed for user \"app\"\n\
         2026-11-30 10:01:{n:02}.011 UTC [{pid}-3] sess=6a0b00ff.{pid:x} user=app,db=shop,app=[unknown],client=192.0.2.7 DETAIL:  Connection matched pg_hba.conf line 3: \"host all all 0.0.0.0/0 scram-sha-256\"\n",
        40000 + pid
    )
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

struct Read {
    events: Vec<Event>,
    notices: Vec<Notice>,
    checkpoints: HashMap<keibi_ingest::Fingerprint, Checkpoint>,
}

/// Polls until nothing more comes (the idle flush lets a held entry out).
fn drain(src: &mut FollowSource) -> Read {
    let mut r = Read {
        events: Vec::new(),
        notices: Vec::new(),
        checkpoints: HashMap::new(),
    };
    let start = Instant::now();
    let mut quiet = 0;
    while quiet < 8 && start.elapsed() < Duration::from_secs(30) {
        let p = src.poll(Instant::now());
        quiet = if p.events.is_empty() { quiet + 1 } else { 0 };
        r.events.extend(p.events);
        r.notices.extend(p.notices);
        for c in p.checkpoints {
            r.checkpoints.insert(c.fingerprint, c);
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    r
}

fn failures(events: &[Event]) -> Vec<(String, String, String)> {
    events
        .iter()
        .filter(|e| e.action == Action::LoginFailure)
        .map(|e| {
            (
                e.user.as_deref().unwrap_or_default().to_string(),
                e.database.as_deref().unwrap_or_default().to_string(),
                e.client_ip.map(|ip| ip.to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_live_log_in_an_unknown_prefix_is_read_once_client_lines_show_its_names() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, STARTUP);
    // Polled every 5 s as far as the source knows: a file that stops growing is
    // decided with what it has only after a few polls, longer than this test waits.
    let opts = FollowOptions {
        discover: Duration::from_millis(100),
        poll: Duration::from_secs(5),
        ..FollowOptions::default()
    };
    let pattern = [log.to_string_lossy().into_owned()];
    let mut src = FollowSource::new(&pattern, opts.clone(), vec![]).unwrap();

    // The server's own lines only: a prefix inferred from them would read `user=`
    // as literal text, so the file waits, neither read nor refused.
    let r = drain(&mut src);
    assert!(r.events.is_empty(), "{:?}", r.events);
    assert!(
        r.notices.is_empty(),
        "no error and no open yet: {:?}",
        r.notices
    );

    // A client's failed login: now the prefix shows its names, and the whole file is
    // read with it, the server's lines included.
    append(&log, &failure(1001, 1));
    append(&log, &failure(1002, 2));
    let r = drain(&mut src);
    assert!(
        r.notices
            .iter()
            .all(|n| !matches!(n, Notice::FileError { .. })),
        "{:?}",
        r.notices
    );
    let want = (
        "app".to_string(),
        "shop".to_string(),
        "192.0.2.7".to_string(),
    );
    assert_eq!(failures(&r.events), vec![want.clone(), want.clone()]);
    assert!(
        r.events.len() >= 4 + 4,
        "every line before is an event too: {}",
        r.events.len()
    );
    let cps: Vec<Checkpoint> = r.checkpoints.into_values().collect();
    assert_eq!(cps.len(), 1);

    // A restart from the checkpoint: the prefix is inferred again from the same head,
    // and the lines written meanwhile are read with it, once.
    drop(src);
    append(&log, &failure(1003, 3));
    let mut src = FollowSource::new(&pattern, opts, cps).unwrap();
    append(&log, &failure(1004, 4));
    let r = drain(&mut src);
    assert_eq!(failures(&r.events), vec![want.clone(), want]);
    assert!(
        r.notices
            .iter()
            .all(|n| !matches!(n, Notice::FileError { .. })),
        "{:?}",
        r.notices
    );
}

/// A file that stops growing before any line names a user (log_connections off, a
/// small rotated file) is decided with what is there after a few quiet polls, as
/// `keibi scan` would read it, instead of waiting for ever.
#[test]
fn a_live_log_that_stops_growing_is_read_with_what_it_has() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, STARTUP);
    // A client's statement without log_connections: no message names a user.
    append(
        &log,
        "2026-11-30 10:02:00.000 UTC [1101-1] sess=6a0b0101.44d user=app,db=shop,app=psql,client=192.0.2.7 LOG:  statement: SELECT 1\n",
    );
    let opts = FollowOptions {
        discover: Duration::from_millis(100),
        poll: Duration::from_millis(100),
        flush_after: Duration::from_millis(300),
        ..FollowOptions::default()
    };
    let pattern = [log.to_string_lossy().into_owned()];
    let mut src = FollowSource::new(&pattern, opts, vec![]).unwrap();
    let r = drain(&mut src);
    assert!(
        r.notices
            .iter()
            .all(|n| !matches!(n, Notice::FileError { .. })),
        "{:?}",
        r.notices
    );
    assert_eq!(r.events.len(), 5, "{:?}", r.events);
    let stmt = r.events.last().unwrap();
    assert_eq!(stmt.user.as_deref(), Some("app"));
    assert_eq!(stmt.database.as_deref(), Some("shop"));
}

/// Server lines only, and the file never grows again: read after a few quiet polls.
#[test]
fn a_small_still_log_of_server_lines_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, STARTUP);
    let opts = FollowOptions {
        discover: Duration::from_millis(100),
        poll: Duration::from_millis(100),
        flush_after: Duration::from_millis(300),
        ..FollowOptions::default()
    };
    let pattern = [log.to_string_lossy().into_owned()];
    let mut src = FollowSource::new(&pattern, opts, vec![]).unwrap();
    let r = drain(&mut src);
    assert_eq!(r.events.len(), 4, "{:?} {:?}", r.events, r.notices);
}
