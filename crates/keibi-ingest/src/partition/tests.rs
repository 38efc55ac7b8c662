use std::io::Write;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::*;
use crate::live::{LiveSource, SourceState};
use crate::merge::{IngestOptions, Notice};

/// Entries of one PostgreSQL log, each with its continuation lines (DETAIL,
/// STATEMENT and its tab-indented second line): what a producer sends as records.
pub(super) const ENTRIES: &[&str] = &[
    "2026-11-28 15:41:43 UTC:127.0.0.1(40124):app@template1:[8002]:FATAL:  28P01: password authentication failed for user \"app\"\n\
     2026-11-28 15:41:43 UTC:127.0.0.1(40124):app@template1:[8002]:DETAIL:  Connection matched pg_hba.conf line 87: \"host all all 127.0.0.1/32 scram-sha-256\"\n",
    "2026-11-28 15:41:44 UTC:127.0.0.1(40134):app@shop:[8003]:LOG:  connection authorized: user=app database=shop\n",
    "2026-11-28 15:41:45 UTC:127.0.0.1(40134):app@shop:[8003]:ERROR:  42P01: relation \"nope\" does not exist\n\
     2026-11-28 15:41:45 UTC:127.0.0.1(40134):app@shop:[8003]:STATEMENT:  select *\n\
     \tfrom nope;\n",
    "2026-11-28 15:41:46 UTC:127.0.0.1(40134):app@shop:[8003]:LOG:  disconnection: session time: 0:00:01.000 user=app database=shop host=127.0.0.1 port=40134\n",
    "2026-11-28 15:41:47 UTC:127.0.0.1(40154):bob@template1:[8004]:FATAL:  28P01: password authentication failed for user \"bob\"\n",
];

fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_344_503 + s, 0).unwrap()
}

/// The stream: the entries of `db1.postgresql` and `db2.postgresql` interleaved in
/// partition "0", one entry a record.
fn stream() -> MemoryStream {
    let m = MemoryStream::new("memory:t");
    m.add_partition("0", &[]);
    for (i, e) in ENTRIES.iter().enumerate() {
        m.push("0", "db1.postgresql", e.as_bytes(), at(i as i64 * 2));
        m.push("0", "db2.postgresql", e.as_bytes(), at(i as i64 * 2 + 1));
    }
    m
}

fn source(m: &MemoryStream, from: StartAt, resume: Option<Position>) -> PartitionSource {
    let mut m = m.clone();
    let reader = m.open("0", &from).unwrap();
    PartitionSource::new("memory:t", "0", reader, IngestOptions::default(), resume)
}

/// What `keibi events` reads from the entries as one file.
fn file_events() -> Vec<keibi_model::Event> {
    let mut poll = crate::live::Poll::new();
    crate::objects::parse_whole(
        std::sync::Arc::from("db1.log"),
        Some("db1".into()),
        ENTRIES.concat().into_bytes(),
        &IngestOptions::default(),
        &mut poll,
    )
    .unwrap();
    poll.events
}

/// An event without its file name and line, to compare with the same entry read
/// from a file (a record's events name the record and the line in it).
fn plain(e: &keibi_model::Event) -> String {
    let mut e = e.clone();
    e.file = std::sync::Arc::from("");
    e.line = 0;
    format!("{e:?}")
}

#[test]
fn records_give_the_events_of_their_file_per_key_with_a_mark_after_each_record() {
    let m = stream();
    let mut src = source(&m, StartAt::Oldest, None);
    let p = src.poll(Instant::now());
    assert_eq!(p.state, SourceState::CaughtUp);
    assert!(p.replay.is_empty());
    assert_eq!(p.marks.len(), p.events.len());
    let want = file_events();
    assert_eq!(want.len(), 5, "one event per entry");
    let of = |inst: &str| -> Vec<String> {
        p.events
            .iter()
            .filter(|e| e.instance.as_deref() == Some(inst))
            .map(plain)
            .collect()
    };
    let want: Vec<String> = want.iter().map(plain).collect();
    assert_eq!(
        of("db1"),
        want,
        "continuation lines joined, lines counted per key"
    );
    let db2: Vec<String> = of("db2")
        .iter()
        .map(|s| s.replace("\"db2\"", "\"db1\""))
        .collect();
    assert_eq!(db2, want);
    assert_eq!(&*p.events[0].file, "memory:t/0:db1.postgresql@1");
    assert!(p.events.iter().all(|e| e.line == 1));
    // Each record gave one event: its mark is the record's position.
    let marks: Vec<Option<Position>> = p
        .marks
        .iter()
        .map(|m| m.as_ref().and_then(checkpoint_position))
        .collect();
    assert_eq!(marks, (1..=10).map(Some).collect::<Vec<_>>());
    assert_eq!(p.checkpoints.len(), 1);
    let cp = &p.checkpoints[0];
    assert_eq!(cp.after_key.as_deref(), Some(&*position_key(10)));
    assert_eq!(cp.after_key.as_ref().unwrap().len(), 39);
    assert_eq!(cp.fingerprint, partition_fingerprint("memory:t", "0"));
    assert!(!cp.done);
    // Nothing new: no checkpoint again.
    let p = src.poll(Instant::now());
    assert!(p.events.is_empty() && p.checkpoints.is_empty());
    // Closed: the last checkpoint says so, and the source finishes.
    m.close("0");
    let p = src.poll(Instant::now());
    assert_eq!(p.state, SourceState::Finished);
    assert!(p.checkpoints[0].done);
}

#[test]
fn a_resumed_partition_replays_what_came_before_its_position_and_hands_out_the_rest() {
    let m = stream();
    let mut first = source(&m, StartAt::Oldest, None);
    let all = first.poll(Instant::now()).events;
    // Stopped after position 6; the new owner reads again from a time before it.
    let mut again = source(&m, StartAt::Time(at(3)), Some(6));
    let p = again.poll(Instant::now());
    assert_eq!(p.replay.len(), 3, "positions 4, 5 and 6");
    assert_eq!(
        p.events.iter().map(plain).collect::<Vec<_>>(),
        all[6..].iter().map(plain).collect::<Vec<_>>(),
        "neither lost nor repeated"
    );
    assert_eq!(
        p.marks
            .first()
            .unwrap()
            .as_ref()
            .and_then(checkpoint_position),
        Some(7)
    );
    // Resumed exactly at the end: nothing handed out, no checkpoint moved back.
    let mut done = source(&m, StartAt::After(10), Some(10));
    let p = done.poll(Instant::now());
    assert!(p.events.is_empty() && p.checkpoints.is_empty());
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn cloudwatch_subscription_messages_name_their_instance_by_log_group() {
    let m = MemoryStream::new("memory:t");
    let msg = serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "logGroup": "/aws/rds/instance/orders-db/postgresql",
        "logStream": "orders-db.0",
        "logEvents": [
            {"id": "1", "timestamp": 1, "message": ENTRIES[0].trim_end()},
            {"id": "2", "timestamp": 2, "message": ENTRIES[4].trim_end()},
        ],
    });
    let group = "/aws/rds/instance/orders-db/postgresql";
    m.push("0", group, &gzip(msg.to_string().as_bytes()), at(0));
    m.push("0", group, msg.to_string().as_bytes(), at(1));
    m.push("0", group, &gzip(b"{\"logEvents\": [ not json"), at(2));
    let mut src = source(&m, StartAt::Oldest, None);
    let p = src.poll(Instant::now());
    assert_eq!(p.events.len(), 4, "{:?}", p.notices);
    assert!(p
        .events
        .iter()
        .all(|e| e.instance.as_deref() == Some("orders-db")));
    assert_eq!(p.events[0].user.as_deref(), Some("app"));
    assert!(
        p.events[0].detail.is_some(),
        "the message's DETAIL line read"
    );
    assert!(p.notices.iter().any(|n| matches!(n, Notice::Line { .. })));
    assert_eq!(
        checkpoint_position(&p.checkpoints[0]),
        Some(3),
        "the bad record is passed"
    );
}

#[test]
fn hostile_records_are_notices_never_a_panic_and_the_position_moves_on() {
    let m = MemoryStream::new("memory:t");
    let big = vec![b'a'; MAX_RECORD + 1];
    m.push("0", "db1.postgresql", &big, at(0));
    let bomb = gzip(&vec![b'\n'; MAX_DECOMPRESSED + 1]);
    m.push("0", "db1.postgresql", &bomb, at(0));
    m.push("0", "db1.postgresql", &[0x1f, 0x8b, 0, 1, 2], at(0));
    m.push("0", "x", &[0xff, 0xfe, 0, b'\n', 0x80], at(0));
    m.push("0", "", b"", at(0));
    m.push("0", "\u{1b}[31m\n", b"{\"messageType\": 3}", at(0));
    m.push("0", "db1.postgresql", ENTRIES[4].as_bytes(), at(0));
    let mut src = source(&m, StartAt::Oldest, None);
    let p = src.poll(Instant::now());
    let errors: Vec<String> = p
        .notices
        .iter()
        .filter_map(|n| match n {
            Notice::FileError { file, error } => Some(format!("{file}: {error}")),
            _ => None,
        })
        .collect();
    assert!(
        errors[0].starts_with("memory:t/0: record at position 1 skipped: 1048577 bytes"),
        "{errors:?}"
    );
    assert!(errors[1].contains("position 2") && errors[1].contains("more than"));
    assert!(errors[2].contains("position 3") && errors[2].contains("gzip"));
    assert_eq!(p.events.len(), 1);
    assert_eq!(p.events[0].user.as_deref(), Some("bob"));
    assert!(p.notices.iter().all(|n| match n {
        Notice::Opened { file, .. }
        | Notice::FileError { file, .. }
        | Notice::Line { file, .. } => !file.contains('\u{1b}'),
        _ => true,
    }));
    assert_eq!(checkpoint_position(&p.checkpoints[0]), Some(7));
}

#[test]
fn instances_come_from_the_key() {
    assert_eq!(instance_from_key("db1.postgresql").as_deref(), Some("db1"));
    assert_eq!(
        instance_from_key("/aws/rds/instance/orders-db/postgresql").as_deref(),
        Some("orders-db")
    );
    assert_eq!(
        instance_from_key("/aws/rds/cluster/c1/audit").as_deref(),
        Some("c1")
    );
    assert_eq!(
        instance_from_key("pg.orders-db").as_deref(),
        Some("orders-db")
    );
    assert_eq!(instance_from_key("postgresql"), None);
    assert_eq!(instance_from_key(""), None);
    assert_eq!(instance_from_key("a\u{7}b"), None);
    assert_eq!(
        checkpoint_position(&source(&stream(), StartAt::Oldest, None).checkpoint(u128::MAX)),
        Some(u128::MAX)
    );
}
