//! The merge on real files: time order across many inputs (more than are kept open
//! at once), early stop when the sink fails, and no hang when the sink panics.

use std::io;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use keibi_ingest::{expand, run, IngestOptions};

/// Writes `files` PostgreSQL logs (RDS prefix) of `lines` lines each whose times
/// interleave: file `f` logs at seconds `f, f + files, f + 2 * files ...`.
fn interleaved(dir: &Path, files: usize, lines: usize) {
    for f in 0..files {
        let mut text = String::new();
        for i in 0..lines {
            let s = f + i * files;
            text.push_str(&format!(
                "2026-11-02 {:02}:{:02}:{:02} UTC:10.0.0.{f}(5000):app@shop:[{}]:LOG:  statement: SELECT {i}\n",
                s / 3600 % 24,
                s / 60 % 60,
                s % 60,
                100 + f
            ));
        }
        std::fs::write(dir.join(format!("db{f:02}.log")), text).expect("write log");
    }
}

fn paths(dir: &Path) -> Vec<String> {
    vec![dir.to_string_lossy().into_owned()]
}

#[test]
fn many_inputs_merge_in_time_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    interleaved(dir.path(), 20, 300);
    let keibi_ingest::Expanded { inputs, errors, .. } = expand(&paths(dir.path()));
    assert!(errors.is_empty());
    let mut times = Vec::new();
    let report = run(
        inputs,
        &IngestOptions::default(),
        Arc::new(AtomicU64::new(0)),
        |e| {
            times.push(e.time);
            Ok(())
        },
        |_| {},
    )
    .expect("merge");
    assert_eq!(report.events, 6000);
    assert_eq!(report.files, 20);
    assert_eq!(times.len(), 6000);
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "events out of order"
    );
    // Interleaved in time: every input is open at once.
    assert_eq!(report.open_at_most, 20);
}

/// A day of consecutive files (rotated hourly, or split exports): each is opened when
/// the merge reaches it and released when it is read, so memory does not grow with
/// the number of files (400 files of 1 GB once held 290 MB of finished inputs' buffers).
#[test]
fn consecutive_inputs_are_opened_one_after_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in 0..300 {
        let mut text = String::new();
        for i in 0..20 {
            let s = f * 20 + i;
            text.push_str(&format!(
                "2026-11-02 {:02}:{:02}:{:02} UTC:10.0.0.1(5000):app@shop:[100]:LOG:  statement: SELECT {i}\n",
                s / 3600 % 24,
                s / 60 % 60,
                s % 60,
            ));
        }
        std::fs::write(dir.path().join(format!("postgresql.log.{f:04}")), text).expect("write log");
    }
    let keibi_ingest::Expanded { inputs, errors, .. } = expand(&paths(dir.path()));
    assert!(errors.is_empty());
    let mut last = None;
    let report = run(
        inputs,
        &IngestOptions::default(),
        Arc::new(AtomicU64::new(0)),
        |e| {
            assert!(last <= Some(e.time), "events out of order");
            last = Some(e.time);
            Ok(())
        },
        |_| {},
    )
    .expect("merge");
    assert_eq!((report.events, report.files), (6000, 300));
    assert!(
        report.open_at_most <= 2,
        "{} open at once",
        report.open_at_most
    );
}

#[test]
fn a_failing_sink_stops_the_merge() {
    let dir = tempfile::tempdir().expect("tempdir");
    interleaved(dir.path(), 4, 50_000);
    let inputs = expand(&paths(dir.path())).inputs;
    let mut n = 0;
    let r = run(
        inputs,
        &IngestOptions::default(),
        Arc::new(AtomicU64::new(0)),
        |_| {
            n += 1;
            if n == 10 {
                Err(io::Error::from(io::ErrorKind::BrokenPipe))
            } else {
                Ok(())
            }
        },
        |_| {},
    );
    assert_eq!(r.expect_err("sink error").kind(), io::ErrorKind::BrokenPipe);
    assert_eq!(n, 10);
}

/// A bug in a detector (a panic in the sink) must end the process with the panic,
/// not leave it waiting forever on workers blocked on full channels.
#[test]
fn a_panicking_sink_does_not_hang() {
    let dir = tempfile::tempdir().expect("tempdir");
    interleaved(dir.path(), 4, 50_000);
    let inputs = expand(&paths(dir.path())).inputs;
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut n = 0;
            let _ = run(
                inputs,
                &IngestOptions::default(),
                Arc::new(AtomicU64::new(0)),
                |_| {
                    n += 1;
                    assert!(n < 10, "detector bug");
                    Ok(())
                },
                |_| {},
            );
        }));
        let _ = done_tx.send(r.is_err());
    });
    let panicked = done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the merge hung after a panic in its sink");
    assert!(panicked, "the panic was swallowed");
}

/// Many small files (more than are kept open), named against their time order, with
/// an unreadable and an empty one among them: the first pass (several threads) reports
/// them in input order as one thread would, and the inputs opened ahead of the merge
/// come in the merge's order, so every event comes out once, in time order.
#[test]
fn many_small_inputs_opened_ahead_come_out_in_order_with_notices_in_input_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = 120;
    for f in 0..files {
        let mut text = String::new();
        for i in 0..5 {
            // File 0 holds the latest times: names run against time.
            let s = (files - 1 - f) * 5 + i;
            text.push_str(&format!(
                "2026-11-02 {:02}:{:02}:{:02} UTC:10.0.0.1(5000):app@shop:[100]:LOG:  statement: SELECT {s}\n",
                s / 3600 % 24,
                s / 60 % 60,
                s % 60,
            ));
        }
        std::fs::write(dir.path().join(format!("db{f:03}.log")), text).expect("write log");
    }
    std::fs::write(dir.path().join("db050x.log"), "not a log line\n".repeat(3)).expect("write");
    std::fs::write(dir.path().join("db070x.log"), "").expect("write");
    let keibi_ingest::Expanded { inputs, errors, .. } = expand(&paths(dir.path()));
    assert!(errors.is_empty());
    let names: Vec<String> = inputs.iter().map(|i| i.display().to_string()).collect();
    let mut statements = Vec::new();
    let mut opened = Vec::new();
    let mut failed = Vec::new();
    let report = run(
        inputs,
        &IngestOptions::default(),
        Arc::new(AtomicU64::new(0)),
        |e| {
            statements.push(e.statement.map(|s| s.text).unwrap_or_default());
            Ok(())
        },
        |n| match n {
            keibi_ingest::Notice::Opened { file, .. } => opened.push(file.to_string()),
            keibi_ingest::Notice::FileError { file, .. } => failed.push(file.to_string()),
            _ => {}
        },
    )
    .expect("merge");
    let want: Vec<String> = (0..files * 5).map(|s| format!("SELECT {s}")).collect();
    assert_eq!(statements, want);
    let readable: Vec<String> = names
        .iter()
        .filter(|n| !n.ends_with("x.log"))
        .cloned()
        .collect();
    assert_eq!(opened, readable, "opened in input order");
    assert_eq!(failed.len(), 1);
    assert!(failed[0].ends_with("db050x.log"));
    assert_eq!((report.files, report.failed), (files as u64 + 1, 1));
    assert_eq!(report.unrecognized, 3);
}
