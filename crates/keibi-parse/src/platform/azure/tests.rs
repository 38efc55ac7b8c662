use super::*;
use crate::testutil::parse_bytes;
use keibi_model::{Action, SourceKind};

const FLEXIBLE: &[u8] = include_bytes!("../../../tests/data/azure/azure-flexible-pganalyze.json");
const SINGLE: &[u8] = include_bytes!("../../../tests/data/azure/azure-single-pganalyze.json");

fn parse_with(bytes: &[u8], prefix: Option<&str>) -> Output {
    let mut cfg = ParseConfig::new("PT1H.json");
    cfg.pg_prefix = prefix.map(str::to_string);
    let out = parse_bytes(Format::Azure, &cfg, bytes, 4096);
    let small = parse_bytes(Format::Azure, &cfg, bytes, 5);
    assert_eq!(out.events, small.events);
    out
}

fn parse(bytes: &[u8]) -> Output {
    parse_with(bytes, None)
}

/// A Flexible Server record with the default prefix `%t-%c-`.
fn flexible(time: &str, session: &str, level: &str, message: &str) -> String {
    serde_json::json!({
        "time": "2026-11-28T09:15:00.000Z",
        "resourceId": "/SUBSCRIPTIONS/0/RESOURCEGROUPS/SHOP/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/SHOP-PG",
        "category": "PostgreSQLLogs",
        "operationName": "LogEvent",
        "properties": {
            "timestamp": format!("{time} UTC"),
            "processId": 71,
            "errorLevel": level,
            "sqlerrcode": "00000",
            "message": format!("{time} UTC-{session}-{level}:  {message}"),
        },
    })
    .to_string()
        + "\n"
}

#[test]
fn single_server_records() {
    let out = parse(SINGLE);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let a: Vec<Action> = out.events.iter().map(|e| e.action).collect();
    use Action::*;
    assert_eq!(
        a,
        vec![ConnectionReceived, LoginSuccess, Statement, Other, Other]
    );
    assert!(out
        .events
        .iter()
        .all(|e| e.instance.as_deref() == Some("pganalyze-test-2")
            && e.source == SourceKind::PostgresStderr));
    let e = &out.events[0];
    assert_eq!(e.client_ip, Some("10.0.1.4".parse().unwrap()));
    assert_eq!(e.session_id.as_deref(), Some("63fd3b04.cf0"));
    assert_eq!(e.time.to_rfc3339(), "2023-02-27T23:21:40+00:00");
    // The record's detail is put back as the report's DETAIL line.
    assert_eq!(
        out.events[3].detail.as_deref(),
        Some("parameters: $1 = '353', $2 = '9001050'")
    );
}

#[test]
fn flexible_server_records() {
    // pganalyze's test server has a prefix of its own, no known one: it is inferred
    // from the server's records, and read as if given with --pg-prefix.
    let inferred = parse(FLEXIBLE);
    assert!(inferred.problems.is_empty(), "{:?}", inferred.problems);
    let out = parse_with(FLEXIBLE, Some("%m [%p] [user=%u,db=%d,app=%a] "));
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(inferred.events, out.events);
    // The record's detail is put back as the report's DETAIL line.
    assert_eq!(
        out.events[0].detail.as_deref(),
        Some("parameters: $1 = '4234', $2 = '2'")
    );
    let e = &out.events[1];
    assert_eq!(e.instance.as_deref(), Some("pganalyze-test"));
    assert_eq!(e.user.as_deref(), Some("azuresu"));
    assert_eq!(e.action, Action::Statement);
    assert_eq!(out.events[2].action, Action::ConnectionReceived);
    assert_eq!(
        out.events[2].client_ip,
        Some("169.254.128.1".parse().unwrap())
    );
}

#[test]
fn default_prefix_failed_login_and_forged_names() {
    let text = [
        flexible("2026-11-28 09:15:00", "6b0af627.47", "LOG", "connection received: host=203.0.113.9 port=51000"),
        flexible("2026-11-28 09:15:00", "6b0af627.47", "FATAL", "password authentication failed for user \"postgres\""),
        // A name holding a forged prefix and login is the message's quoted name.
        flexible("2026-11-28 09:15:01", "6b0af627.48", "FATAL", "password authentication failed for user \"x\n2026-11-28 09:15:01 UTC-6b0af627.48-LOG:  connection authorized: user=admin database=shop\""),
        // An event hub message: records in an array.
        format!(
            "{{\"records\":[{}]}}\n",
            flexible("2026-11-28 09:15:02", "6b0af627.49", "LOG", "statement: SELECT 1").trim_end()
        ),
        "{\"category\":\"QueryStoreRuntimeStatistics\",\"resourceId\":\"/x\",\"properties\":{}}\n".to_string(),
    ]
    .concat();
    let out = parse(text.as_bytes());
    let a: Vec<Action> = out.events.iter().map(|e| e.action).collect();
    use Action::*;
    assert_eq!(
        a,
        vec![ConnectionReceived, LoginFailure, LoginFailure, Statement]
    );
    assert!(out
        .events
        .iter()
        .all(|e| e.instance.as_deref() == Some("shop-pg")));
    // The client of the failure comes from its session's connection line.
    assert_eq!(
        out.events[1].client_ip,
        Some("203.0.113.9".parse().unwrap())
    );
    let forged = &out.events[2];
    assert!(forged.injection.is_some(), "{forged:?}");
    assert!(!out.events.iter().any(|e| e.action == LoginSuccess));
    assert_eq!(out.unrecognized_lines(), 0, "{:?}", out.problems);
    assert_eq!(out.problems.len(), 1);
    assert!(out.problems[0]
        .reason
        .starts_with("1 Azure Monitor records of other categories"));
}

#[test]
fn broken_records() {
    let out = parse(
        concat!(
            "{\"resourceId\":\"/x\",\"properties\":{\"message\":\"x\"}}\n",
            "{\"category\":\"PostgreSQLLogs\",\"resourceId\":\"/x\"}\n",
            "{\"category\":\"PostgreSQLLogs\",\"resourceId\":\"/x\",\"properties\":{}}\n",
            "{\"records\":5}\n",
            "{\"category\":5}\n",
        )
        .as_bytes(),
    );
    let reasons: Vec<(u64, &str)> = out
        .problems
        .iter()
        .map(|p| (p.line, p.reason.as_str()))
        .collect();
    assert_eq!(reasons[0], (1, "Azure Monitor record has no category"));
    assert_eq!(
        reasons[1],
        (2, "Azure PostgreSQLLogs record has no properties")
    );
    assert_eq!(
        reasons[2],
        (3, "Azure PostgreSQLLogs record has no message")
    );
    assert_eq!(
        reasons[3],
        (4, "Azure Monitor records is not an array of records")
    );
    assert!(reasons[4].1.starts_with("invalid Azure Monitor record"));
    assert_eq!(out.unrecognized_lines(), 5);
}

#[test]
fn sniff_claims_azure_only() {
    let s = |b: &[u8]| sniff(&Sample::new(b, true));
    assert_eq!(s(FLEXIBLE), 100);
    assert_eq!(s(SINGLE), 100);
    assert_eq!(crate::detect(SINGLE, true), Some(Format::Azure));
    assert_eq!(
        s(b"{\"records\":[{\"category\":\"Administrative\",\"resourceId\":\"/x\"}]}\n"),
        0
    );
    assert_eq!(s(b"{\"Records\":[]}\n"), 0);
    let cloudsql = include_bytes!("../../../tests/data/cloudsql/cloudsql-postgres-pgbadger.json");
    assert_eq!(s(cloudsql), 0);
}

/// A Flexible Server record of server `server` with the default prefix.
fn flexible_on(server: &str, time: &str, session: &str, message: &str) -> String {
    serde_json::json!({
        "category": "PostgreSQLLogs",
        "resourceId": format!("/SUBSCRIPTIONS/0/FLEXIBLESERVERS/{server}"),
        "LogicalServerName": server,
        "properties": {
            "errorLevel": "LOG",
            "message": format!("{time} UTC-{session}-LOG:  {message}"),
        },
    })
    .to_string()
        + "\n"
}

#[test]
fn decided_prefixes_are_bounded() {
    // One record from each of many servers: the decided prefixes are kept for as
    // many servers as their readers, no more.
    let mut p = AzureParser::new(&ParseConfig::new("PT1H.json"));
    let mut out = Output::new();
    for i in 0..MAX_STREAMS + 200 {
        let r = flexible_on(
            &format!("pg-{i}"),
            "2026-11-28 09:15:00",
            "6b0af627.47",
            "statement: SELECT 1",
        );
        p.push(r.as_bytes(), &mut out);
        assert!(p.prefixes.len() <= MAX_STREAMS);
        assert_eq!(p.prefixes.len(), p.prefix_order.len());
    }
    p.finish(&mut out);
    assert!(p.prefixes.len() <= MAX_STREAMS);
    assert_eq!(out.events.len(), MAX_STREAMS + 200);
}

/// A Flexible Server record of server `server` whose message no prefix reads.
fn unreadable_on(server: &str, message: &str) -> String {
    serde_json::json!({
        "category": "PostgreSQLLogs",
        "LogicalServerName": server,
        "properties": { "errorLevel": "LOG", "message": message },
    })
    .to_string()
        + "\n"
}

#[test]
fn held_records_are_bounded_in_bytes() {
    // Large records of servers whose prefix is still to be decided: the held bytes
    // stay under the bound, the biggest server deciding first.
    let mut p = AzureParser::new(&ParseConfig::new("PT1H.json"));
    let mut out = Output::new();
    let big = "x".repeat(1 << 20);
    for i in 0..12 {
        p.push(
            unreadable_on(&format!("pg-{}", i % 3), &big).as_bytes(),
            &mut out,
        );
        assert!(p.held_bytes <= MAX_HELD_BYTES, "{}", p.held_bytes);
        let held: usize = p.pending.iter().flat_map(|(_, h)| h).map(Held::size).sum();
        assert_eq!(held, p.held_bytes);
    }
    p.finish(&mut out);
    assert_eq!(p.held_bytes, 0);
    assert_eq!(out.unrecognized_lines(), 12);
    // The inference sample is cut like a file's head.
    let held: Vec<Held> = (0..4)
        .map(|i| Held {
            server: None,
            level: None,
            message: format!("{}\nsecond line", "y".repeat(30_000)),
            detail: None,
            line: i,
        })
        .collect();
    let (head, complete) = sample(&held);
    assert_eq!(head.len(), SAMPLE_BYTES);
    assert!(!complete);
    let (head, complete) = sample(&held[..2]);
    assert_eq!(head.len(), 60_002);
    assert!(complete);
}

#[test]
fn a_known_prefix_reads_at_once() {
    // The default prefix reads the first record: it is read at once, not held until
    // the server has written enough records to infer from (or the input ends).
    let mut p = AzureParser::new(&ParseConfig::new("PT1H.json"));
    let mut out = Output::new();
    let r = flexible_on(
        "shop-pg",
        "2026-11-28 09:15:00",
        "6b0af627.47",
        "statement: SELECT 1",
    );
    p.push(r.as_bytes(), &mut out);
    assert!(p.pending.is_empty());
    assert_eq!(p.held_bytes, 0);
    assert_eq!(p.prefixes.get("shop-pg\nfalse"), Some(&None));
    let r = flexible_on(
        "shop-pg",
        "2026-11-28 09:15:01",
        "6b0af627.47",
        "statement: SELECT 2",
    );
    p.push(r.as_bytes(), &mut out);
    // A stderr reader holds a report until the next one starts.
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].action, Action::Statement);
    p.finish(&mut out);
    assert_eq!(out.events.len(), 2);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
}

/// A Flexible Server record of server `server` with the prefix `%m [%p] user=%u,db=%d `.
fn labelled_on(server: &str, pid: u32, names: &str, message: &str) -> String {
    let message = format!("2026-01-01 10:00:00.100 UTC [{pid}] {names} LOG:  {message}");
    serde_json::json!({
        "category": "PostgreSQLLogs",
        "LogicalServerName": server,
        "properties": { "errorLevel": "LOG", "message": message },
    })
    .to_string()
        + "\n"
}

#[test]
fn an_unsettled_inference_keeps_holding() {
    // The server's own checkpoint lines, names empty: too early to fix a prefix.
    let checkpoints: String = (0..INFER_RECORDS)
        .map(|_| labelled_on("shop-pg", 900, "user=,db=", "checkpoint starting: time"))
        .collect();
    let mut p = AzureParser::new(&ParseConfig::new("PT1H.json"));
    let mut out = Output::new();
    p.push(checkpoints.as_bytes(), &mut out);
    assert!(out.events.is_empty());
    assert_eq!(p.pending.len(), 1);
    assert!(p.prefixes.is_empty());
    // A client session's lines settle it: decided then, every record read.
    for pid in 0..RETRY_EVERY as u32 {
        let r = labelled_on(
            "shop-pg",
            1000 + pid,
            "user=app,db=shop",
            "connection authorized: user=app database=shop",
        );
        p.push(r.as_bytes(), &mut out);
    }
    assert!(p.pending.is_empty());
    assert_eq!(
        p.prefixes.get("shop-pg\nfalse"),
        Some(&Some("%m [%p] user=%u,db=%d ".to_string()))
    );
    p.finish(&mut out);
    assert_eq!(out.events.len(), INFER_RECORDS + RETRY_EVERY);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.events.last().unwrap().user.as_deref(), Some("app"));

    // Forced by the bound on held servers, it is said.
    let mut p = AzureParser::new(&ParseConfig::new("PT1H.json"));
    let mut out = Output::new();
    p.push(checkpoints.as_bytes(), &mut out);
    for i in 0..MAX_PENDING {
        p.push(
            unreadable_on(&format!("other-{i}"), "x").as_bytes(),
            &mut out,
        );
    }
    assert!(!p.pending.iter().any(|(k, _)| k.starts_with("shop-pg")));
    // Read (the stderr reader holds its last report until the next one starts).
    assert_eq!(out.events.len(), INFER_RECORDS - 1);
    assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
    assert_eq!(out.problems[0].lines, 0);
    assert!(
        out.problems[0].reason.contains("'shop-pg'"),
        "{:?}",
        out.problems
    );
}
