//! NATS JetStream as a partitioned stream (issue 20), against a real nats-server
//! 2.9 on loopback: the subject mapping's partitions, readers started by position
//! and by time, a reader across a server restart, and `keibi stream send` feeding a
//! `PartitionSource` that reads what `keibi events` reads from the same file.

#![cfg(feature = "nats")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use keibi_ingest::{
    read_all, IngestOptions, PartitionReader, PartitionSource, PartitionedStream, Record, StartAt,
};
use keibi_nats::JetStream;

use common::nats::Nats;

/// Every record a reader hands out until it has at least `want` of them and a
/// fetch brings nothing more (or a minute passes).
fn read(reader: &mut dyn PartitionReader, want: usize) -> Vec<Record> {
    let mut got = Vec::new();
    let start = Instant::now();
    while start.elapsed() < common::WAIT {
        match reader.fetch(100, Duration::from_millis(500)) {
            Ok(f) if f.records.is_empty() && got.len() >= want => break,
            Ok(f) => got.extend(f.records),
            Err(e) => {
                eprintln!("fetch: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    got
}

fn start(partitions: u32) -> Option<(Nats, JetStream)> {
    let nats = Nats::start(partitions)?;
    let js = JetStream::connect(&nats.url(), "KEIBI", partitions).expect("connect");
    js.ensure_stream().expect("create the stream");
    Some((nats, js))
}

#[test]
fn subjects_map_onto_partitions_and_readers_start_where_asked() {
    let Some((_nats, mut js)) = start(4) else {
        return;
    };
    // Eight instances, three records each, interleaved.
    let instances: Vec<String> = (1..=8).map(|i| format!("db{i}")).collect();
    let mut sent = Vec::new();
    for round in 0..3 {
        for inst in &instances {
            let data = format!("{inst} line {round}");
            sent.push((format!("keibi.logs.{inst}.postgresql"), data));
        }
    }
    // A key of more tokens keeps them all.
    sent.push(("keibi.logs.db1.audit.2026".into(), "db1 deep".into()));
    let batch: Vec<(&str, &[u8])> = sent
        .iter()
        .map(|(s, d)| (s.as_str(), d.as_bytes()))
        .collect();
    let seqs = js.publish_batch(&batch).expect("publish");
    assert_eq!(seqs, (1..=25).collect::<Vec<u64>>());
    let parts = js.partitions().unwrap();
    assert_eq!(parts.len(), 4);
    let mut by_partition: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    let mut total = 0;
    for p in &parts {
        let mut r = js.open(&p.id, &StartAt::Oldest).unwrap();
        let got = read(r.as_mut(), 0);
        total += got.len();
        by_partition.insert(p.id.clone(), got);
    }
    assert_eq!(total, 25, "every record in exactly one partition");
    // One instance, one partition; in order within it.
    let mut home: BTreeMap<String, String> = BTreeMap::new();
    for (p, records) in &by_partition {
        let positions: Vec<u128> = records.iter().map(|r| r.position).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        for r in records {
            let inst = r.key.split('.').next().unwrap().to_string();
            assert!(r.key == format!("{inst}.postgresql") || r.key == "db1.audit.2026");
            let data = String::from_utf8(r.data.clone()).unwrap();
            assert!(
                data.starts_with(&format!("{inst} ")),
                "{data} under {}",
                r.key
            );
            if let Some(other) = home.insert(inst.clone(), p.clone()) {
                assert_eq!(&other, p, "{inst} in two partitions");
            }
        }
    }
    let used: BTreeSet<&String> = home.values().collect();
    assert!(
        used.len() >= 2,
        "eight instances in one partition: {home:?}"
    );
    // From a position: exactly what follows it.
    let (p, records) = by_partition.iter().find(|(_, r)| r.len() >= 4).unwrap();
    let mid = records[1].position;
    let mut r = js.open(p, &StartAt::After(mid)).unwrap();
    let after: Vec<u128> = read(r.as_mut(), records.len() - 2)
        .iter()
        .map(|r| r.position)
        .collect();
    assert_eq!(
        after,
        records[2..].iter().map(|r| r.position).collect::<Vec<_>>()
    );
    // From a time: the records that arrived at or after it.
    std::thread::sleep(Duration::from_millis(1100));
    let t = chrono::Utc::now();
    std::thread::sleep(Duration::from_millis(100));
    let inst = home.iter().find(|(_, part)| *part == p).unwrap().0.clone();
    let subject = format!("keibi.logs.{inst}.postgresql");
    let late = js.publish(&subject, b"late").unwrap();
    let mut r = js.open(p, &StartAt::Time(t)).unwrap();
    let got = read(r.as_mut(), 1);
    assert_eq!(
        got.iter().map(|r| r.position).collect::<Vec<_>>(),
        [u128::from(late)]
    );
    assert!(got[0].arrived >= t);
    assert!(
        js.open("4", &StartAt::Oldest).is_err(),
        "no fifth partition"
    );
}

#[test]
fn a_reader_survives_a_server_restart_without_a_loss_or_a_repeat() {
    let Some((mut nats, mut js)) = start(2) else {
        return;
    };
    let subject = "keibi.logs.db1.postgresql";
    for i in 0..5 {
        js.publish(subject, format!("before {i}").as_bytes())
            .unwrap();
    }
    // The partition db1 maps to.
    let mut part = None;
    for p in ["0", "1"] {
        let mut r = js.open(p, &StartAt::Oldest).unwrap();
        let got = read(r.as_mut(), 0);
        if !got.is_empty() {
            part = Some((p, r, got));
        }
    }
    let (p, mut reader, mut got) = part.expect("db1's partition");
    assert_eq!(got.len(), 5);
    nats.restart();
    // Publishing waits for the connection to come back.
    let start = Instant::now();
    let mut published = 0;
    while published < 5 {
        match js.publish(subject, format!("after {published}").as_bytes()) {
            Ok(_) => published += 1,
            Err(e) => {
                assert!(start.elapsed() < common::WAIT, "never reconnected: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    got.extend(read(reader.as_mut(), 5));
    let texts: Vec<String> = got
        .iter()
        .map(|r| String::from_utf8_lossy(&r.data).into_owned())
        .collect();
    let want: Vec<String> = (0..5)
        .map(|i| format!("before {i}"))
        .chain((0..5).map(|i| format!("after {i}")))
        .collect();
    assert_eq!(texts, want, "partition {p}");
    assert!(got.windows(2).all(|w| w[0].position < w[1].position));
}

/// `keibi stream send` of a PostgreSQL log, then each partition read by a
/// `PartitionSource`: the events `keibi events` reads from the file, entry for
/// entry (records of 1 KiB, so many records; statements over several lines kept
/// whole).
#[test]
fn stream_send_and_partition_source_read_what_keibi_events_reads() {
    let Some((nats, mut js)) = start(3) else {
        return;
    };
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../keibi-parse/tests/data/postgres/postgresql-injection.log");
    let out = common::check(Command::new(env!("CARGO_BIN_EXE_keibi")).args([
        "stream",
        "send",
        "--nats",
        &nats.url(),
        "--key",
        "orders-db.postgresql",
        "--record-kib",
        "1",
        file.to_str().unwrap(),
    ]));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("records") && said.contains("keibi.logs.orders-db.postgresql"),
        "{said}"
    );
    let mut events = Vec::new();
    let mut records_in = Vec::new();
    for p in js.partitions().unwrap() {
        let reader = js.open(&p.id, &StartAt::Oldest).unwrap();
        let mut src =
            PartitionSource::new("nats:KEIBI", &p.id, reader, IngestOptions::default(), None);
        let (got, notices) = read_all(&mut src);
        // Warnings about lines read (a forged line in the injection fixture) are
        // as `keibi events` gives them; nothing is unreadable.
        assert!(
            !notices.iter().any(|n| matches!(
                n,
                keibi_ingest::Notice::Line {
                    unrecognized: true,
                    ..
                } | keibi_ingest::Notice::FileError { .. }
            )),
            "{notices:?}"
        );
        if src.position().is_some() {
            records_in.push(p.id.clone());
        }
        events.extend(got);
    }
    assert_eq!(records_in.len(), 1, "one instance, one partition");
    let want = common::keibi_events(&[&file], &["--instance", "orders-db"]);
    assert_eq!(want.code, Some(0), "{}", want.stderr);
    let strip = |mut v: serde_json::Value| {
        let o = v.as_object_mut().unwrap();
        o.remove("file");
        o.remove("line");
        v
    };
    let got: Vec<serde_json::Value> = events
        .iter()
        .map(|e| strip(serde_json::to_value(e).unwrap()))
        .collect();
    let want: Vec<serde_json::Value> = want.events.into_iter().map(strip).collect();
    assert!(want.len() > 20, "the fixture has its entries");
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    assert!(events
        .iter()
        .all(|e| e.file.starts_with("nats:KEIBI/") && e.file.contains(":orders-db.postgresql@")));
}
