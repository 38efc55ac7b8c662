//! Kinesis Data Streams as a partitioned stream, against moto server (PyPI) started
//! by each test on a free loopback port through `tests/data/moto_kinesis.py` (which
//! corrects moto's resharding to what AWS documents; its docstring says where). A
//! stream of two shards carries CloudWatch Logs subscription messages of four RDS
//! PostgreSQL log groups, made by keibi's own producer from a real RDS log
//! (`keibi-parse/tests/data/postgres/postgresql-rds-prefix.log`) and put with
//! PutRecords; each shard read from TRIM_HORIZON, after a position and at a time
//! gives exactly the records put to it, in order; after UpdateShardCount 2→4 (each
//! shard split) and then 4→2 (merged pairwise) the parents are closed, the children
//! name them (a merged shard both), a parent read to its end says so, and every
//! record put before, between and after the reshards is read exactly once, each log
//! group's events in the order they were put.
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh).

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use keibi_aws::kinesis::{
    batches, Form, Kinesis, KinesisOptions, KinesisStream, Packer, PutRecord, PutResult,
};
use keibi_aws::usage::Usage;
use keibi_ingest::{PartitionReader, PartitionedStream, Position, Record, StartAt};
use serde_json::Value;

use common::{free_port, python_with, Service};

const STREAM: &str = "keibi-logs";

struct Moto {
    _svc: Service,
    python: PathBuf,
    endpoint: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/moto_kinesis.py")
}

fn moto() -> Option<Moto> {
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config");
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/keibi-test/credentials",
    );
    std::env::remove_var("AWS_PROFILE");
    let python = python_with("moto")?;
    let port = free_port();
    let mut cmd = Command::new(&python);
    cmd.arg(script()).args(["serve", &port.to_string()]);
    let svc = Service::start(cmd, port, "Running on", "moto_server (moto_kinesis.py)");
    Some(Moto {
        _svc: svc,
        python,
        endpoint: format!("http://127.0.0.1:{port}"),
    })
}

impl Moto {
    fn helper(&self, args: &[&str]) {
        let out = Command::new(&self.python)
            .arg(script())
            .arg(args[0])
            .arg(&self.endpoint)
            .args(&args[1..])
            .output()
            .expect("run moto_kinesis.py");
        assert!(
            out.status.success(),
            "moto_kinesis.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn kinesis(&self, usage: &Arc<Usage>) -> Arc<Kinesis> {
        let k = Kinesis::new(&KinesisOptions {
            region: Some("us-east-1".into()),
            endpoint_url: Some(self.endpoint.clone()),
            timeout: Duration::from_secs(20),
            ..KinesisOptions::default()
        })
        .unwrap()
        .with_usage(usage.clone());
        Arc::new(k)
    }
}

fn rds_log() -> Vec<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../keibi-parse/tests/data/postgres/postgresql-rds-prefix.log");
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

fn group(db: &str) -> String {
    format!("/aws/rds/instance/{db}/postgresql")
}

/// The records of one round: each group's copy of the log, cut into subscription
/// messages of 4 log events, the groups' records interleaved as a subscription
/// would deliver them; a marker line per group and round keeps every record apart.
fn round(dbs: &[&str], tag: &str) -> Vec<PutRecord> {
    let log = rds_log();
    let mut per_group: Vec<Vec<PutRecord>> = dbs
        .iter()
        .map(|db| {
            let form = Form::Subscription {
                stream: format!("{db}.0"),
                owner: "123456789012".into(),
            };
            let mut p = Packer::with_limits(&group(db), form, 1 << 20, 4).unwrap();
            p.line(&format!(
                "2026-11-28 15:41:21 UTC::@:[1]:LOG:  keibi test {tag} {db}"
            ));
            for l in &log {
                p.line(l);
            }
            p.finish();
            p.take()
        })
        .collect();
    let mut out = Vec::new();
    while per_group.iter().any(|g| !g.is_empty()) {
        for g in &mut per_group {
            if !g.is_empty() {
                out.push(g.remove(0));
            }
        }
    }
    out
}

/// Puts `records`; (shard, sequence) of each, in order.
fn put(k: &Kinesis, records: &[PutRecord]) -> Vec<(String, Position)> {
    let mut out = Vec::new();
    for b in batches(records) {
        for r in k.put_records(STREAM, &records[b]).unwrap() {
            match r {
                PutResult::Stored { shard, sequence } => {
                    out.push((shard, sequence.parse().unwrap()))
                }
                PutResult::Failed { code, message } => panic!("{code}: {message}"),
            }
        }
    }
    out
}

/// Reads a partition until it has nothing more now (or ended).
fn read_all(s: &KinesisStream, shard: &str, from: &StartAt) -> (Vec<Record>, bool) {
    let mut r = s.reader(shard, from).unwrap();
    let mut out = Vec::new();
    let mut quiet = 0;
    loop {
        let f = r.fetch(7, Duration::from_millis(400)).unwrap();
        if f.ended {
            out.extend(f.records);
            return (out, true);
        }
        if f.records.is_empty() {
            quiet += 1;
            if quiet == 2 {
                return (out, false);
            }
        }
        out.extend(f.records);
    }
}

fn gunzip(b: &[u8]) -> Value {
    let mut s = String::new();
    flate2::read::GzDecoder::new(b)
        .read_to_string(&mut s)
        .unwrap();
    serde_json::from_str(&s).unwrap()
}

/// What a record carries, as (key, log group, its messages).
fn content(r: &Record) -> (String, String, Vec<String>) {
    let v = gunzip(&r.data);
    let msgs = v["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    (
        r.key.clone(),
        v["logGroup"].as_str().unwrap().to_string(),
        msgs,
    )
}

#[test]
fn shards_read_from_the_start_after_a_position_and_at_a_time() {
    let Some(moto) = moto() else { return };
    moto.helper(&["create", STREAM, "2"]);
    let usage = Usage::new();
    let k = moto.kinesis(&usage);
    let mut s = KinesisStream::new(k.clone(), STREAM).unwrap();
    assert_eq!(s.name(), "kinesis:keibi-logs");

    let dbs = ["db-a", "db-b", "db-c", "db-d"];
    let first = round(&dbs, "first");
    let first_at = put(&k, &first);
    // Every record is one group's subscription message of 4 events at most.
    assert!(first.len() >= 4 * 9, "{}", first.len());
    let parts = s.partitions().unwrap();
    assert_eq!(
        parts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["shardId-000000000000", "shardId-000000000001"]
    );
    assert!(parts.iter().all(|p| !p.closed && p.parents.is_empty()));
    let used: BTreeSet<&str> = first_at.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(used.len(), 2, "the four groups land on both shards");

    // From the start: exactly what was put to each shard, in order.
    for p in &parts {
        let (got, ended) = read_all(&s, &p.id, &StartAt::Oldest);
        assert!(!ended, "an open shard never ends");
        let expected: Vec<(Position, &PutRecord)> = first_at
            .iter()
            .zip(&first)
            .filter(|((shard, _), _)| *shard == p.id)
            .map(|((_, seq), r)| (seq.clone(), r))
            .collect();
        assert_eq!(got.len(), expected.len(), "{}", p.id);
        for (g, (seq, r)) in got.iter().zip(&expected) {
            assert_eq!(g.position, *seq);
            assert_eq!(g.key, r.key);
            assert_eq!(g.data, r.data);
            assert!((Utc::now() - g.arrived).num_seconds().abs() < 60);
        }
        // A group stays in one shard, its events in the order of the log.
        let mut by_group: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for g in &got {
            let (key, grp, msgs) = content(g);
            assert_eq!(key, grp);
            by_group.entry(grp).or_default().extend(msgs);
        }
        for (grp, msgs) in by_group {
            let db = grp.split('/').nth(4).unwrap().to_string();
            assert_eq!(
                msgs[0],
                format!("2026-11-28 15:41:21 UTC::@:[1]:LOG:  keibi test first {db}")
            );
            let log = rds_log().join("\n");
            assert_eq!(msgs[1..].join("\n"), log, "{grp}");
        }
        // After a position: the rest, and nothing at or before it.
        let (rest, _) = read_all(&s, &p.id, &StartAt::After(expected[2].0.clone()));
        assert_eq!(
            rest.iter().map(|r| r.position.clone()).collect::<Vec<_>>(),
            expected[3..]
                .iter()
                .map(|(q, _)| q.clone())
                .collect::<Vec<_>>()
        );
    }

    // At a time: only what arrived at or after it.
    std::thread::sleep(Duration::from_millis(1100));
    let at = Utc::now();
    std::thread::sleep(Duration::from_millis(100));
    let second = round(&dbs, "second");
    let second_at = put(&k, &second);
    let mut seen = 0;
    for p in &parts {
        let (got, _) = read_all(&s, &p.id, &StartAt::Time(at));
        let expected: Vec<Position> = second_at
            .iter()
            .filter(|(shard, _)| *shard == p.id)
            .map(|(_, q)| q.clone())
            .collect();
        assert_eq!(
            got.iter().map(|r| r.position.clone()).collect::<Vec<_>>(),
            expected,
            "{}",
            p.id
        );
        seen += got.len();
    }
    assert_eq!(seen, second.len());

    // Every call was counted, under Kinesis's API names.
    for api in ["ListShards", "GetShardIterator", "GetRecords", "PutRecords"] {
        assert!(usage.get("kinesis", api).requests > 0, "{api}");
    }
    assert!(usage.get("kinesis", "GetRecords").bytes > 0);
}

#[test]
fn a_reshard_mid_stream_loses_and_doubles_nothing() {
    let Some(moto) = moto() else { return };
    moto.helper(&["create", STREAM, "2"]);
    let usage = Usage::new();
    let k = moto.kinesis(&usage);
    let mut s = KinesisStream::new(k.clone(), STREAM).unwrap();
    let dbs = ["db-a", "db-b", "db-c", "db-d", "db-e", "db-f"];
    let before = round(&dbs, "before");
    put(&k, &before);
    // Split: 2 → 4 (each shard split in two).
    moto.helper(&["reshard", STREAM, "4"]);
    let after = round(&dbs, "after");
    let after_at = put(&k, &after);

    let parts = s.partitions().unwrap();
    let ids: Vec<&str> = parts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), 6, "{ids:?}");
    let closed: Vec<&str> = parts
        .iter()
        .filter(|p| p.closed)
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(closed, ["shardId-000000000000", "shardId-000000000001"]);
    for p in parts.iter().filter(|p| !p.closed) {
        assert_eq!(p.parents.len(), 1, "{p:?}");
        assert!(closed.contains(&p.parents[0].as_str()), "{p:?}");
    }
    // The records after the reshard went to the children only.
    assert!(after_at
        .iter()
        .all(|(shard, _)| !closed.contains(&shard.as_str())));

    // Merge: 4 → 2 (adjacent children merged pairwise).
    moto.helper(&["reshard", STREAM, "2"]);
    let merged = round(&dbs, "merged");
    let merged_at = put(&k, &merged);
    let parts = s.partitions().unwrap();
    assert_eq!(parts.len(), 8, "{parts:?}");
    let open: Vec<_> = parts.iter().filter(|p| !p.closed).collect();
    assert_eq!(open.len(), 2, "{parts:?}");
    for p in &open {
        // AdjacentParentShardId: a merged shard has two parents, both closed.
        assert_eq!(p.parents.len(), 2, "{p:?}");
        for q in &p.parents {
            assert!(parts.iter().any(|x| x.id == *q && x.closed), "{p:?}");
        }
    }
    assert!(merged_at
        .iter()
        .all(|(shard, _)| open.iter().any(|p| p.id == *shard)));

    // Read as a worker would: a shard only once its parents have ended.
    let mut read: Vec<(String, Vec<u8>)> = Vec::new();
    let mut ended: BTreeSet<String> = BTreeSet::new();
    let mut per_group: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &parts {
        assert!(
            p.parents.iter().all(|q| ended.contains(q)),
            "{} before its parents",
            p.id
        );
        let (got, end) = read_all(&s, &p.id, &StartAt::Oldest);
        assert_eq!(end, p.closed, "{}: a parent read to its end says so", p.id);
        if end {
            ended.insert(p.id.clone());
        }
        let positions: Vec<Position> = got.iter().map(|r| r.position.clone()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        for r in &got {
            let (_, grp, msgs) = content(r);
            per_group.entry(grp).or_default().extend(msgs);
        }
        read.extend(got.into_iter().map(|r| (r.key, r.data)));
    }
    let mut put_all: Vec<(String, Vec<u8>)> = before
        .iter()
        .chain(&after)
        .chain(&merged)
        .map(|r| (r.key.clone(), r.data.clone()))
        .collect();
    assert_eq!(read.len(), put_all.len(), "each record read exactly once");
    read.sort();
    put_all.sort();
    assert_eq!(read, put_all);

    // Per group, the events come back in the order they were put, across the
    // parents and the children.
    assert_eq!(per_group.len(), dbs.len());
    let log = rds_log().join("\n");
    for (grp, msgs) in per_group {
        let db = grp.split('/').nth(4).unwrap().to_string();
        let expected: Vec<String> = ["before", "after", "merged"]
            .iter()
            .map(|tag| format!("2026-11-28 15:41:21 UTC::@:[1]:LOG:  keibi test {tag} {db}\n{log}"))
            .collect();
        assert_eq!(msgs.join("\n"), expected.join("\n"), "{grp}");
    }

    // A closed parent opened after its last record ends at once.
    let last = read_all(&s, "shardId-000000000000", &StartAt::Oldest)
        .0
        .last()
        .map(|r| r.position.clone())
        .unwrap();
    let mut r = s
        .reader("shardId-000000000000", &StartAt::After(last))
        .unwrap();
    let f = r.fetch(10, Duration::from_secs(2)).unwrap();
    assert!(f.records.is_empty() && f.ended);
}
