use super::*;
use crate::testutil::parse_bytes;
use keibi_model::{Action, SourceKind};

const PG: &[u8] = include_bytes!("../../../tests/data/cloudsql/cloudsql-postgres-pgbadger.json");
const MYSQL: &[u8] = include_bytes!("../../../tests/data/cloudsql/cloudsql-mysql-err.json");

fn parse(bytes: &[u8]) -> Output {
    let cfg = ParseConfig::new("cloudsql.json");
    let out = parse_bytes(Format::CloudSql, &cfg, bytes, 4096);
    let small = parse_bytes(Format::CloudSql, &cfg, bytes, 7);
    assert_eq!(out.events, small.events);
    out
}

fn entry(log: &str, ts: &str, text: &str) -> String {
    serde_json::json!({
        "logName": format!("projects/shop-prod/logs/cloudsql.googleapis.com%2F{log}"),
        "resource": {"type": "cloudsql_database", "labels": {"database_id": "shop-prod:shop-pg", "project_id": "shop-prod"}},
        "severity": "INFO",
        "textPayload": text,
        "timestamp": ts,
    })
    .to_string()
        + "\n"
}

#[test]
fn real_postgres_sample() {
    let out = parse(PG);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    // 69 entries; Cloud SQL writes each line of a multi-line report as an entry of its
    // own (autovacuum's five tab-indented lines), which continue the report before.
    assert_eq!(out.events.len(), 64);
    let vacuum = out
        .events
        .iter()
        .find(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| m.starts_with("automatic vacuum"))
        })
        .expect("autovacuum report");
    assert!(vacuum
        .message
        .as_deref()
        .unwrap()
        .ends_with("elapsed: 0.00 s"));
    assert!(out.events.iter().all(|e| e.instance.as_deref()
        == Some("sk5-formations-thomas:temp-thomas-2020-04-30")
        && e.source == SourceKind::PostgresStderr));
    let e = &out.events[0];
    assert_eq!(e.action, Action::ConnectionReceived);
    assert_eq!(e.time.to_rfc3339(), "2020-05-02T13:00:20.382+00:00");
    assert_eq!(e.pid, Some(24667));
    assert_eq!(e.client_ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(e.line, 1);
    let ok = &out.events[1];
    assert_eq!(ok.action, Action::LoginSuccess);
    assert_eq!(ok.user.as_deref(), Some("cloudsqladmin"));
    // The client comes from the process's connection line.
    assert_eq!(ok.client_ip, Some("127.0.0.1".parse().unwrap()));
    let fatal: Vec<_> = out
        .events
        .iter()
        .filter(|e| e.level.as_deref() == Some("FATAL"))
        .collect();
    assert_eq!(fatal.len(), 4);
    assert!(out
        .events
        .iter()
        .any(|e| e.action == Action::LoginSuccess && e.user.as_deref() == Some("postgres")));
}

#[test]
fn gcloud_json_array_reads_the_same() {
    // `gcloud logging read --format=json`: a pretty-printed array.
    let entries: Vec<serde_json::Value> = PG
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let pretty = serde_json::to_string_pretty(&entries).unwrap();
    assert_eq!(
        crate::detect(pretty.as_bytes(), true),
        Some(Format::CloudSql)
    );
    let out = parse(pretty.as_bytes());
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let a: Vec<_> = out.events.iter().map(|e| (e.action, e.time)).collect();
    let b: Vec<_> = parse(PG)
        .events
        .iter()
        .map(|e| (e.action, e.time))
        .collect();
    assert_eq!(a, b);
}

#[test]
fn mysql_error_log() {
    let out = parse(MYSQL);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let failures: Vec<_> = out
        .events
        .iter()
        .filter(|e| e.action == Action::LoginFailure)
        .collect();
    assert!(!failures.is_empty());
    for f in failures {
        assert_eq!(f.source, SourceKind::MysqlError);
        assert_eq!(f.instance.as_deref(), Some("shop-prod:orders-mysql"));
        assert_eq!(f.user.as_deref(), Some("app"));
        assert_eq!(f.client_ip, Some("127.0.0.1".parse().unwrap()));
    }
}

#[test]
fn failed_logins_and_forged_names() {
    let text = [
        entry("postgres.log", "2026-11-28T09:15:00.001Z", "[71]: [1-1] db=[unknown],user=[unknown] LOG:  connection received: host=203.0.113.9 port=51000"),
        entry("postgres.log", "2026-11-28T09:15:00.004Z", "[71]: [2-1] db=shop,user=postgres FATAL:  password authentication failed for user \"postgres\""),
        entry("postgres.log", "2026-11-28T09:15:00.004Z", "[71]: [3-1] db=shop,user=postgres DETAIL:  Connection matched pg_hba.conf line 5: \"host all all 0.0.0.0/0 scram-sha-256\""),
        // A user name that holds a forged login: the server's message names the whole name.
        entry("postgres.log", "2026-11-28T09:15:01.000Z", "[72]: [1-1] db=[unknown],user=[unknown] LOG:  connection received: host=203.0.113.9 port=51002"),
        entry("postgres.log", "2026-11-28T09:15:01.002Z", "[72]: [2-1] db=shop,user=x LOG:  connection authorized: user=admin database=shop FATAL:  password authentication failed for user \"x LOG:  connection authorized: user=admin database=shop\""),
        // A multi-line statement: its continuation line belongs to it.
        entry("postgres.log", "2026-11-28T09:15:02.000Z", "[73]: [5-1] db=shop,user=app LOG:  statement: SELECT 1\n\tFROM orders"),
        entry("sqlserver.err", "2026-11-28T09:15:03.000Z", "whatever"),
    ]
    .concat();
    let out = parse(text.as_bytes());
    assert_eq!(out.unrecognized_lines(), 0, "{:?}", out.problems);
    let a: Vec<Action> = out.events.iter().map(|e| e.action).collect();
    use Action::*;
    assert_eq!(
        a,
        vec![
            ConnectionReceived,
            LoginFailure,
            ConnectionReceived,
            LoginFailure,
            Statement
        ]
    );
    let f = &out.events[1];
    assert_eq!(f.client_ip, Some("203.0.113.9".parse().unwrap()));
    assert_eq!(f.error_code.as_deref(), Some("28P01"));
    assert_eq!(f.auth_method.as_deref(), Some("scram-sha-256"));
    assert_eq!(f.time.to_rfc3339(), "2026-11-28T09:15:00.004+00:00");
    let forged = &out.events[3];
    assert_eq!(
        forged.user.as_deref(),
        Some("x LOG:  connection authorized: user=admin database=shop")
    );
    assert!(forged.injection.is_some());
    let st = out.events[4].statement.as_deref().unwrap();
    assert_eq!(st.text, "SELECT 1\nFROM orders");
    assert_eq!(out.problems.len(), 1);
    assert!(out.problems[0]
        .reason
        .starts_with("1 Cloud Logging entries of other logs"));
    assert_eq!(out.problems[0].line, 7);
}

#[test]
fn broken_entries() {
    let out = parse(
        concat!(
            "{\"logName\":\"projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log\",\"resource\":{\"type\":\"cloudsql_database\"}}\n",
            "{\"resource\":{\"type\":\"cloudsql_database\"},\"textPayload\":\"x\"}\n",
            "{\"logName\":\"projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log\",\"textPayload\":\"[1]: [1-1] db=a,user=b LOG:  x\",\"timestamp\":\"yesterday\"}\n",
            "{\"logName\":\"projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log\",\"textPayload\":\"not a line\",\"timestamp\":\"2026-11-28T09:15:00Z\"}\n",
            "{\"logName\": 5}\n",
            "garbage\n",
        )
        .as_bytes(),
    );
    let reasons: Vec<(u64, &str)> = out
        .problems
        .iter()
        .map(|p| (p.line, p.reason.as_str()))
        .collect();
    assert_eq!(reasons[0], (1, "Cloud Logging entry has no textPayload"));
    assert_eq!(reasons[1], (2, "Cloud Logging entry has no logName"));
    assert_eq!(
        reasons[2],
        (
            3,
            "Cloud Logging entry has no RFC 3339 timestamp for its time-less line"
        )
    );
    assert_eq!(reasons[3].0, 4);
    assert!(
        reasons[3].1.starts_with("postgres.log: "),
        "{}",
        reasons[3].1
    );
    assert!(reasons[4].1.starts_with("invalid Cloud Logging entry"));
    assert_eq!(out.unrecognized_lines(), 6, "{:?}", out.problems);
    assert!(out.events.is_empty());
}

#[test]
fn sniff_claims_cloud_sql_only() {
    let s = |b: &[u8]| sniff(&Sample::new(b, true));
    assert_eq!(s(PG), 100);
    assert_eq!(s(MYSQL), 100);
    assert_eq!(crate::detect(PG, true), Some(Format::CloudSql));
    assert_eq!(crate::detect(MYSQL, true), Some(Format::CloudSql));
    // Other Cloud Logging entries (a GKE container's) are not Cloud SQL's.
    assert_eq!(
        s(b"{\"logName\":\"projects/p/logs/stdout\",\"resource\":{\"type\":\"k8s_container\"},\"textPayload\":\"hi\"}\n"),
        0
    );
    assert_eq!(s(b"{\"Records\":[]}\n"), 0);
    let cnpg = include_bytes!("../../../tests/data/cnpg/cnpg-pgbadger.log");
    assert_eq!(s(cnpg), 0);
}
