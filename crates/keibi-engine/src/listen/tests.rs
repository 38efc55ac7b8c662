use super::syslog::Framer;
use super::*;

fn frames(max: usize, chunks: &[&[u8]]) -> Vec<String> {
    let mut f = Framer::new(max);
    let mut out = Vec::new();
    for c in chunks {
        f.push(c, &mut |m| {
            out.push(String::from_utf8_lossy(m).into_owned())
        });
    }
    f.finish(&mut |m| out.push(String::from_utf8_lossy(m).into_owned()));
    out
}

#[test]
fn octet_counting_and_newline_framing_in_any_chunks() {
    let all: &[u8] = b"5 hello11 hello world<13>Nov 28 a b: c\nlast";
    for cut in 0..all.len() {
        let got = frames(1024, &[&all[..cut], &all[cut..]]);
        assert_eq!(
            got,
            ["hello", "hello world", "<13>Nov 28 a b: c", "last"],
            "cut at {cut}"
        );
    }
    // Bounded: an over-long counted frame keeps its head, the rest is passed over;
    // an over-long line likewise.
    assert_eq!(frames(4, &[b"10 abcdefghij3 xyz"]), ["abcd", "xyz"]);
    assert_eq!(frames(4, &[b"10 abcde", b"fghij3 xyz"]), ["abcd", "xyz"]);
    assert_eq!(frames(4, &[b"abcdefgh", b"ij\nok\n"]), ["abcd", "ok"]);
    // A line that starts with digits is a line.
    assert_eq!(frames(64, &[b"2026-11-28 x\n"]), ["2026-11-28 x"]);
}

#[test]
fn the_inbox_takes_a_whole_offer_or_none() {
    let inbox = Inbox::new(1000);
    let line = |n: usize| Item::Line {
        stream: Arc::from("s"),
        format: None,
        line: vec![b'x'; n],
    };
    assert_eq!(inbox.offer(vec![line(2000)]), Offer::TooBig);
    assert_eq!(inbox.offer(vec![line(300), line(300)]), Offer::Queued);
    assert_eq!(inbox.offer(vec![line(300)]), Offer::Full);
    let (got, more) = inbox.take(1);
    assert_eq!((got.len(), more), (1, true));
    assert_eq!(inbox.offer(vec![line(300)]), Offer::Queued);
}

#[test]
fn secrets_compare_whole() {
    assert!(same_secret(b"abc", b"abc"));
    assert!(!same_secret(b"abd", b"abc"));
    assert!(!same_secret(b"ab", b"abc"));
    assert!(!same_secret(b"abcd", b"abc"));
    assert!(!same_secret(b"", b"abc"));
}

fn gz(b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn rec(b: &[u8]) -> firehose::Record {
    use base64::Engine;
    firehose::Record {
        data: base64::engine::general_purpose::STANDARD.encode(b),
    }
}

const PG: &str = "2026-11-28 09:15:00 UTC:193.142.146.35(56091):postgres@postgres:[8013]:FATAL:  password authentication failed for user \"postgres\"";

fn payload(lines: &[&str]) -> Vec<u8> {
    let events: Vec<_> = lines
        .iter()
        .map(|l| serde_json::json!({"id": "1", "timestamp": 1, "message": l}))
        .collect();
    serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "logGroup": "/aws/rds/instance/shop-db/postgresql",
        "logStream": "shop-db.0",
        "logEvents": events,
    })
    .to_string()
    .into_bytes()
}

#[test]
fn hostile_firehose_records_are_refused_never_a_panic() {
    use firehose::{records, Bad};
    let budget = 1 << 20;
    // A gzip bomb stops at the budget.
    let bomb = gz(&vec![b'{'; 8 << 20]);
    assert!(matches!(records(&[rec(&bomb)], budget), Err(Bad::TooLarge)));
    // Many records that each fit do not pass it together.
    let part = gz(&payload(&[&"x".repeat(300 << 10)]));
    let four: Vec<_> = (0..4).map(|_| rec(&part)).collect();
    assert!(matches!(records(&four, budget), Err(Bad::TooLarge)));
    // Gzip that is not gzip, JSON nested past serde's depth, cut JSON, bytes that
    // are not text: malformed.
    for bad in [
        vec![0x1f, 0x8b, 0, 1, 2, 3],
        gz(&[b"{\"logEvents\":".as_slice(), &vec![b'['; 10_000]].concat()),
        gz(br#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"#),
        vec![0xff, 0xfe, 0x00, 0x80],
    ] {
        assert!(
            matches!(records(&[rec(&bad)], budget), Err(Bad::Malformed(_))),
            "{bad:?}"
        );
    }
    let not_b64 = firehose::Record { data: "%%%".into() };
    assert!(matches!(
        records(&[not_b64], budget),
        Err(Bad::Malformed(_))
    ));
    // Good: a payload (gzip or not) and raw lines.
    let ok = records(
        &[
            rec(&gz(&payload(&[PG]))),
            rec(&payload(&[PG])),
            rec(b"a\r\nb\n\n"),
        ],
        budget,
    )
    .ok()
    .unwrap();
    assert_eq!(ok.len(), 4);
    assert!(matches!(ok[0], Item::Cloudwatch(_)));
    assert!(matches!(&ok[3], Item::Line { line, .. } if line == b"b"));
}

#[test]
fn hostile_posted_and_syslog_lines_are_refused_or_read_never_a_panic() {
    assert!(post::items(b"\xff\xfe", None).is_err());
    assert!(post::items(b"[1, 2]", None).is_err());
    assert!(post::items(b"{\"log\": 1}\n", None).is_err());
    assert!(post::items(&[b"{\"a\":".as_slice(), &vec![b'['; 10_000]].concat(), None).is_err());
    // A stream name from a record is bounded and loses control characters.
    let name = format!(
        "{{\"log\": \"x\", \"file\": \"{}\\u001b[31m\"}}\n",
        "a".repeat(1000)
    );
    let items = post::items(name.as_bytes(), None).unwrap();
    let Item::Line { stream, .. } = &items[0] else {
        panic!()
    };
    assert!(
        stream.len() <= 210 && !stream.contains('\u{1b}'),
        "{stream}"
    );
    for m in [
        &b""[..],
        b"\0\0\n",
        b"<999999999999>",
        b"<13>1 - - - - - -",
        b"<13>Nov 99 99:99:99 h p[x]: m",
        b"\xff\xfe<13>",
    ] {
        let _ = syslog::item(m);
    }
}

#[test]
fn a_cloudwatch_payload_is_read_by_its_group_and_a_held_entry_flushed_when_quiet() {
    let inbox = Inbox::new(1 << 20);
    let mut src = ListenSource::new("listen", inbox.clone(), IngestOptions::default())
        .flush_after(Duration::from_millis(50));
    assert_eq!(
        inbox.offer(vec![Item::Cloudwatch(payload(&[PG, PG]))]),
        Offer::Queued
    );
    let t = Instant::now();
    let p = src.poll(t);
    // The second FATAL may go on (a DETAIL): held until quiet.
    assert_eq!(p.events.len(), 1, "{:?}", p.notices);
    assert!(p.pending);
    let p = src.poll(t + Duration::from_millis(100));
    assert_eq!(p.events.len(), 1);
    assert!(!p.pending);
    assert_eq!(p.events[0].instance.as_deref(), Some("shop-db"));
    // Garbage in a stream of its own: notices, no panic, the source goes on.
    assert_eq!(
        inbox.offer(vec![
            Item::Cloudwatch(b"{\"messageType\": 5}".to_vec()),
            Item::Line {
                stream: Arc::from("x"),
                format: None,
                line: b"\xff\x00 nothing known".to_vec(),
            },
        ]),
        Offer::Queued
    );
    let p = src.poll(t + Duration::from_millis(200));
    assert!(p.events.is_empty());
    assert!(!p.notices.is_empty());
}
