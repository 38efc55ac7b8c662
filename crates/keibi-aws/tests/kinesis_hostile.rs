//! The Kinesis reader against an endpoint that misbehaves or does what moto server
//! does not: a small HTTP server in the test answers ListShards in pages (and the
//! same token for ever), throttles GetRecords, expires iterators, hands out records
//! that are too large, not base64, out of order, with sequence numbers of AWS's
//! 56 digits, and ends a closed shard. The reader never loops, never waits
//! past its fetch's bound, never hands a record out twice. Needs no test service.

mod fake;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use fake::{json, serve, Req};
use keibi_aws::kinesis::{Kinesis, KinesisOptions, KinesisStream, MAX_RECORD};
use keibi_ingest::{PartitionReader, PartitionedStream, StartAt};
use serde_json::{json as j, Value};

fn credentials() {
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config");
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/keibi-test/credentials",
    );
    std::env::remove_var("AWS_PROFILE");
    std::env::remove_var("AWS_SESSION_TOKEN");
}

fn stream(endpoint: &str) -> KinesisStream {
    credentials();
    let k = Kinesis::new(&KinesisOptions {
        region: Some("ap-northeast-1".into()),
        endpoint_url: Some(endpoint.into()),
        timeout: Duration::from_secs(10),
        ..KinesisOptions::default()
    })
    .unwrap();
    KinesisStream::new(Arc::new(k), "keibi-logs").unwrap()
}

fn body(req: &Req) -> Value {
    serde_json::from_str(&req.body).unwrap()
}

fn rec(seq: &str, data: &[u8]) -> Value {
    j!({"SequenceNumber": seq, "PartitionKey": "/aws/rds/instance/db1/postgresql",
        "ApproximateArrivalTimestamp": 1795966800.25,
        "Data": base64::engine::general_purpose::STANDARD.encode(data)})
}

#[test]
fn shards_are_listed_across_pages_with_their_parents() {
    let seen = Arc::new(Mutex::new(Vec::<Value>::new()));
    let s2 = seen.clone();
    let endpoint = serve(move |req| {
        let b = body(req);
        s2.lock().unwrap().push(b.clone());
        let shard = |id: &str, parent: Option<&str>, end: Option<&str>| {
            let mut s = j!({"ShardId": id, "SequenceNumberRange": {"StartingSequenceNumber": "1"}});
            if let Some(p) = parent {
                s["ParentShardId"] = j!(p);
            }
            if let Some(e) = end {
                s["SequenceNumberRange"]["EndingSequenceNumber"] = j!(e);
            }
            s
        };
        let page = match b["NextToken"].as_str() {
            None => j!({"Shards": [shard("shardId-000000000000", None, Some("9")),
                                   shard("shardId-000000000001", None, None)],
                        "NextToken": "t1"}),
            Some("t1") => {
                j!({"Shards": [shard("shardId-000000000002", Some("shardId-000000000000"), None),
                                         {"ShardId": "../../etc\n", "ParentShardId": 7}],
                              "NextToken": "t2"})
            }
            _ => {
                j!({"Shards": [{"ShardId": "shardId-000000000003", "ParentShardId": "shardId-000000000000",
                                 "AdjacentParentShardId": "shardId-000000000001"}],
                     "NextToken": "t2"})
            }
        };
        json(200, &page.to_string())
    });
    let mut s = stream(&endpoint);
    // A shard id that is not one is an error of the answer, not a partition.
    let err = s.partitions().unwrap_err();
    assert!(err.reason.contains("not one"), "{err}");

    let seen = Arc::new(Mutex::new(Vec::<Value>::new()));
    let s2 = seen.clone();
    let endpoint = serve(move |req| {
        let b = body(req);
        s2.lock().unwrap().push(b.clone());
        let page = match b["NextToken"].as_str() {
            None => j!({"Shards": [
                {"ShardId": "shardId-000000000001", "SequenceNumberRange": {"StartingSequenceNumber": "1"}},
                {"ShardId": "shardId-000000000000", "SequenceNumberRange": {"StartingSequenceNumber": "1", "EndingSequenceNumber": "9"}}],
                "NextToken": "t1"}),
            // The same token again, for ever: the listing stops.
            _ => {
                j!({"Shards": [{"ShardId": "shardId-000000000002", "ParentShardId": "shardId-000000000000",
                                 "AdjacentParentShardId": "shardId-000000000001"}],
                     "NextToken": "t1"})
            }
        };
        json(200, &page.to_string())
    });
    let mut s = stream(&endpoint);
    let parts = s.partitions().unwrap();
    let ids: Vec<&str> = parts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "shardId-000000000000",
            "shardId-000000000001",
            "shardId-000000000002"
        ]
    );
    assert!(parts[0].closed && !parts[1].closed && !parts[2].closed);
    assert_eq!(
        parts[2].parents,
        ["shardId-000000000000", "shardId-000000000001"]
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    // Kinesis refuses StreamName beside NextToken.
    assert_eq!(seen[0]["StreamName"], "keibi-logs");
    assert!(seen[1].get("StreamName").is_none() && seen[1]["NextToken"] == "t1");
}

#[test]
fn throttling_and_expiry_are_waited_out_and_nothing_is_read_twice() {
    let calls = Arc::new(AtomicUsize::new(0));
    let iterators = Arc::new(Mutex::new(Vec::<Value>::new()));
    let (c, it) = (calls.clone(), iterators.clone());
    let endpoint = serve(move |req| {
        let b = body(req);
        match req.op().as_str() {
            "GetShardIterator" => {
                it.lock().unwrap().push(b.clone());
                let n = it.lock().unwrap().len();
                json(200, &j!({"ShardIterator": format!("it-{n}")}).to_string())
            }
            "GetRecords" => {
                let n = c.fetch_add(1, Ordering::SeqCst);
                let iter = b["ShardIterator"].as_str().unwrap().to_string();
                match n {
                    // Throttled twice, then a page.
                    0 | 1 => json(
                        400,
                        r#"{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for shard"}"#,
                    ),
                    2 => json(
                        200,
                        &j!({"Records": [rec("1", b"a"), rec("2", b"b")],
                                        "NextShardIterator": "next-1", "MillisBehindLatest": 5000})
                        .to_string(),
                    ),
                    // The iterator expired: reopened after 2, and the endpoint
                    // hands 2 out again (and 1, out of order).
                    3 => json(
                        400,
                        r#"{"__type":"ExpiredIteratorException","message":"Iterator expired"}"#,
                    ),
                    4 => {
                        assert_eq!(iter, "it-2");
                        json(
                            200,
                            &j!({"Records": [rec("2", b"b"), rec("1", b"a"), rec("3", b"c")],
                                        "NextShardIterator": "next-2", "MillisBehindLatest": 0})
                            .to_string(),
                        )
                    }
                    // Closed and read to its end: no next iterator.
                    _ => json(
                        200,
                        &j!({"Records": [rec("4", b"d")], "MillisBehindLatest": 0}).to_string(),
                    ),
                }
            }
            op => panic!("unexpected {op}"),
        }
    });
    let s = stream(&endpoint);
    let mut r = s.reader("shardId-000000000000", &StartAt::Oldest).unwrap();
    let mut got = Vec::new();
    let mut ended = false;
    for _ in 0..20 {
        let t = Instant::now();
        let f = r.fetch(100, Duration::from_millis(300)).unwrap();
        // Never much longer than asked (a backoff is not slept past the bound).
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        got.extend(
            f.records
                .iter()
                .map(|r| (r.position.as_u64().unwrap(), r.data.clone())),
        );
        if f.ended {
            ended = true;
            break;
        }
    }
    assert!(ended);
    assert_eq!(
        got,
        [
            (1, b"a".to_vec()),
            (2, b"b".to_vec()),
            (3, b"c".to_vec()),
            (4, b"d".to_vec())
        ]
    );
    let its = iterators.lock().unwrap();
    assert_eq!(its.len(), 2);
    assert_eq!(its[0]["ShardIteratorType"], "TRIM_HORIZON");
    assert_eq!(its[1]["ShardIteratorType"], "AFTER_SEQUENCE_NUMBER");
    assert_eq!(its[1]["StartingSequenceNumber"], "2");
    // Ended stays ended, without a call.
    let before = calls.load(Ordering::SeqCst);
    assert!(r.fetch(10, Duration::from_millis(10)).unwrap().ended);
    assert_eq!(calls.load(Ordering::SeqCst), before);
}

#[test]
fn a_throttled_shard_returns_empty_within_the_wait() {
    let endpoint = serve(move |req| match req.op().as_str() {
        "GetShardIterator" => json(200, r#"{"ShardIterator":"i"}"#),
        _ => json(
            400,
            r#"{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded"}"#,
        ),
    });
    let s = stream(&endpoint);
    let mut r = s
        .reader("shardId-000000000000", &StartAt::After(41u64.into()))
        .unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let f = r.fetch(10, Duration::from_millis(500)).unwrap();
        assert!(f.records.is_empty() && !f.ended);
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "{:?}",
            t.elapsed()
        );
    }
}

#[test]
fn hostile_records_are_dropped_or_refused_never_handed_out_wrong() {
    let big = vec![b'x'; MAX_RECORD + 1];
    let endpoint = serve(move |req| match req.op().as_str() {
        "GetShardIterator" => json(200, r#"{"ShardIterator":"i"}"#),
        _ => {
            let b = body(req);
            if b["ShardIterator"] == "i" {
                json(
                    200,
                    &j!({"Records": [
                    rec("1", &big),
                    {"SequenceNumber": "2", "PartitionKey": "k", "Data": "@@not base64@@"},
                    {"SequenceNumber": "-3", "PartitionKey": "k", "Data": "eA=="},
                    {"SequenceNumber": "4", "PartitionKey": "k\u{1b}[2J".repeat(100), "Data": "eA==",
                     "ApproximateArrivalTimestamp": "yesterday"},
                ], "NextShardIterator": "j", "MillisBehindLatest": 1})
                    .to_string(),
                )
            } else {
                // AWS's own 56-digit sequence numbers are positions too.
                json(200, &j!({"Records": [rec("49590338271490256608559692538361571095921575989136588898", b"y")],
                               "NextShardIterator": "k"}).to_string())
            }
        }
    });
    let s = stream(&endpoint);
    let mut r = s.reader("shardId-000000000000", &StartAt::Oldest).unwrap();
    let f = r.fetch(10, Duration::from_millis(100)).unwrap();
    assert_eq!(f.records.len(), 1);
    assert_eq!(f.records[0].position, 4u64);
    assert_eq!(f.records[0].key.chars().count(), 256);
    assert_eq!(r.dropped(), 3);
    assert_eq!(r.millis_behind(), Some(1));
    let f = r.fetch(10, Duration::from_secs(2)).unwrap();
    assert_eq!(
        f.records[0].position.as_str(),
        "49590338271490256608559692538361571095921575989136588898"
    );
    // Hostile inputs to the client are refused before any call.
    assert!(KinesisStream::new(s_kinesis(&endpoint), "a b").is_err());
    assert!(s.reader("../x", &StartAt::Oldest).is_err());
}

fn s_kinesis(endpoint: &str) -> Arc<Kinesis> {
    credentials();
    Arc::new(
        Kinesis::new(&KinesisOptions {
            endpoint_url: Some(endpoint.into()),
            ..KinesisOptions::default()
        })
        .unwrap(),
    )
}
