//! Append-to-event latency of a followed file, with the default options (poll every
//! 250 ms, a held entry flushed after 500 ms quiet). Measurements, not assertions of
//! speed: run them on purpose and read the figures.
//!
//! ```sh
//! cargo test -p keibi-ingest --test latency -- --ignored --nocapture
//! ```

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use keibi_ingest::{FollowOptions, FollowSource, LiveSource, SourceState};

/// Appends `n` lines made by `line(i)` with `gap(i)` between them on one thread while
/// this one follows the file; returns each line's latency.
fn measure(
    path: &Path,
    n: usize,
    line: fn(usize) -> String,
    gap: fn(usize) -> Duration,
) -> Vec<Duration> {
    // The file exists and has a first line before following starts.
    std::fs::write(path, line(0)).unwrap();
    let opts = FollowOptions::default();
    let poll_every = opts.poll;
    let mut src = FollowSource::new(&[path.to_string_lossy().into_owned()], opts, vec![]).unwrap();
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    let writer = thread::spawn(move || {
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        for i in 1..=n {
            thread::sleep(gap(i));
            f.write_all(line(i).as_bytes()).unwrap();
            tx.send((i, Instant::now())).unwrap();
        }
    });
    let mut written = vec![None; n + 1];
    let mut read = vec![None; n + 1];
    let start = Instant::now();
    while read[1..].iter().any(Option::is_none) && start.elapsed() < Duration::from_secs(600) {
        let p = src.poll(Instant::now());
        let now = Instant::now();
        for e in p.events {
            let i: usize = e.user.as_deref().unwrap()[1..].parse().unwrap();
            read[i].get_or_insert(now);
        }
        while let Ok((i, t)) = rx.try_recv() {
            written[i] = Some(t);
        }
        if p.state != SourceState::Reading {
            thread::sleep(poll_every);
        }
    }
    writer.join().unwrap();
    while let Ok((i, t)) = rx.try_recv() {
        written[i] = Some(t);
    }
    let mut lat: Vec<Duration> = (1..=n)
        .map(|i| {
            let (w, r) = (written[i].unwrap(), read[i].expect("every line read"));
            r.saturating_duration_since(w)
        })
        .collect();
    lat.sort();
    lat
}

fn report(what: &str, lat: &[Duration]) {
    let at = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    println!(
        "{what}: {} appends, p50 {:?}, p99 {:?}, max {:?}",
        lat.len(),
        at(0.50),
        at(0.99),
        lat[lat.len() - 1]
    );
}

fn spread(i: usize) -> Duration {
    // 5-25 ms apart, varied so appends fall at every point of the poll interval.
    Duration::from_millis(5 + (i as u64 * 7919) % 21)
}

#[test]
#[ignore = "a measurement: about 20 s"]
fn single_line_events_latency() {
    let dir = tempfile::tempdir().unwrap();
    let lat = measure(
        &dir.path().join("server_audit.log"),
        1000,
        |i| format!("20261128 15:42:10,vm,u{i},127.0.0.1,{i},0,FAILED_CONNECT,,,1045\n"),
        spread,
    );
    report("MariaDB server_audit (an event per line)", &lat);
}

#[test]
#[ignore = "a measurement: about 20 s"]
fn held_entries_latency() {
    // PostgreSQL entries are held until the next entry or 500 ms of quiet: in a steady
    // stream each is released by the next one.
    let dir = tempfile::tempdir().unwrap();
    let lat = measure(&dir.path().join("postgresql.log"), 1000, pg_line, spread);
    report("PostgreSQL stderr, steady stream (held entries)", &lat);
}

#[test]
#[ignore = "a measurement: about 40 s"]
fn lone_entry_latency() {
    // A lone entry waits for the idle flush: the worst case.
    let dir = tempfile::tempdir().unwrap();
    let lat = measure(&dir.path().join("postgresql.log"), 50, pg_line, |_| {
        Duration::from_millis(800)
    });
    report("PostgreSQL stderr, lone entries (idle flush)", &lat);
}

fn pg_line(i: usize) -> String {
    format!(
        "2026-11-28 15:41:43 UTC:192.0.2.7({}):u{i}@shop:[{}]:FATAL:  28P01: password authentication failed for user \"u{i}\"\n",
        40000 + i % 20000,
        8000 + i
    )
}

#[test]
#[ignore = "a measurement: reads 40 MB twice"]
fn catch_up_against_batch_reading() {
    // A daemon started on a large existing log reads it as a backlog: compare with the
    // batch reader `keibi events` uses, on the same file (build profile as run).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("postgresql.log");
    let mut f = std::fs::File::create(&path).unwrap();
    let mut n = 0usize;
    while n < 300_000 {
        let mut chunk = String::new();
        for i in n..n + 1000 {
            chunk += &pg_line(i);
            if i % 3 == 0 {
                chunk += "2026-11-28 15:41:43 UTC:192.0.2.7(40001):u1@shop:[8001]:DETAIL:  Connection matched pg_hba.conf line 87\n";
            }
        }
        f.write_all(chunk.as_bytes()).unwrap();
        n += 1000;
    }
    drop(f);
    let mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;

    let start = Instant::now();
    let inputs = vec![keibi_ingest::Input::File {
        path: path.clone(),
        display: path.to_string_lossy().into(),
        root: None,
    }];
    let mut batch = 0usize;
    keibi_ingest::run(
        inputs,
        &keibi_ingest::IngestOptions::default(),
        Default::default(),
        |_| {
            batch += 1;
            Ok(())
        },
        |_| {},
    )
    .unwrap();
    let batch_time = start.elapsed();

    let start = Instant::now();
    let mut src = FollowSource::new(
        &[path.to_string_lossy().into_owned()],
        FollowOptions::default(),
        vec![],
    )
    .unwrap();
    let mut live = 0usize;
    while live < n {
        let p = src.poll(Instant::now());
        live += p.events.len();
        if p.state != SourceState::Reading && live < n {
            thread::sleep(Duration::from_millis(10));
        }
    }
    let live_time = start.elapsed();
    assert_eq!(batch, n);
    println!(
        "{mb:.0} MB, {n} events: batch {:.0} MB/s, live catch-up {:.0} MB/s",
        mb / batch_time.as_secs_f64(),
        mb / live_time.as_secs_f64()
    );
}
