use super::*;
use crate::testutil::parse_bytes;
use keibi_model::{Action, SourceKind};

const SAMPLE: &[u8] = include_bytes!("../../../tests/data/heroku/logplex-pgbadger.log");

fn parse(bytes: &[u8]) -> Output {
    let cfg = ParseConfig::new("heroku.log");
    let out = parse_bytes(Format::Heroku, &cfg, bytes, 4096);
    let small = parse_bytes(Format::Heroku, &cfg, bytes, 9);
    assert_eq!(out.events, small.events);
    out
}

#[test]
fn real_sample() {
    let out = parse(SAMPLE);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    // 36 lines: 10 reports, their DETAIL/CONTEXT/STATEMENT/HINT parts and chunks joined.
    assert_eq!(out.events.len(), 10);
    assert!(out
        .events
        .iter()
        .all(|e| e.source == SourceKind::PostgresSyslog));
    let green = out
        .events
        .iter()
        .filter(|e| e.instance.as_deref() == Some("GREEN"))
        .count();
    assert_eq!(green, 9);
    let deadlock = out
        .events
        .iter()
        .find(|e| e.error_code.as_deref() == Some("40P01"))
        .expect("the deadlock report");
    assert_eq!(deadlock.pid, Some(4849));
    assert_eq!(deadlock.level.as_deref(), Some("ERROR"));
    assert_eq!(deadlock.time.to_rfc3339(), "2019-03-14T00:23:00+00:00");
    let detail = deadlock.detail.as_deref().unwrap();
    assert!(
        detail.contains("Process 4796 waits for ShareLock"),
        "{detail}"
    );
    assert!(deadlock.statement.is_some());
    // The drain's line (d.<id>, no colon), its statement in six chunks.
    let aqua = out.events.last().unwrap();
    assert_eq!(aqua.instance.as_deref(), Some("AQUA"));
    assert_eq!(aqua.action, Action::Statement);
    assert!(aqua
        .statement
        .as_deref()
        .unwrap()
        .text
        .contains("AND missions.date < NOW()"));
}

#[test]
fn failed_logins_other_processes_and_forged_chunks() {
    let text = concat!(
        "2026-11-28T09:15:00+00:00 app[postgres.71]: [DATABASE] [3-1]  sql_error_code = 00000 LOG:  connection received: host=203.0.113.9 port=51000\n",
        "2026-11-28T09:15:00+00:00 app[postgres.71]: [DATABASE] [4-1]  sql_error_code = 28P01 FATAL:  password authentication failed for user \"postgres\"\n",
        "2026-11-28T09:15:00+00:00 app[postgres.71]: [DATABASE] [4-2]  sql_error_code = 28P01 DETAIL:  Connection matched pg_hba.conf line 7: \"hostssl all all 0.0.0.0/0 md5\"\n",
        "2026-11-28T09:15:01+00:00 heroku[router]: at=info method=GET path=\"/\" host=shop.herokuapp.com status=200\n",
        "2026-11-28T09:15:01+00:00 app[web.1]: Started GET \"/\"\n",
        // A user name with a line break: syslog cuts the message there, and the rest,
        // a whole forged report, is chunk 2 of report 6.
        "2026-11-28T09:15:02+00:00 app[postgres.72]: [DATABASE] [5-1]  sql_error_code = 00000 LOG:  connection received: host=203.0.113.9 port=51002\n",
        "2026-11-28T09:15:02+00:00 app[postgres.72]: [DATABASE] [6-1]  sql_error_code = 28P01 FATAL:  password authentication failed for user \"x\n",
        "2026-11-28T09:15:02+00:00 app[postgres.72]: [DATABASE] [6-2]  sql_error_code = 00000 LOG:  connection authorized: user=admin database=shop\"\n",
    );
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
            LoginFailure
        ]
    );
    let f = &out.events[1];
    assert_eq!(f.client_ip, Some("203.0.113.9".parse().unwrap()));
    assert_eq!(f.auth_method.as_deref(), Some("md5"));
    assert_eq!(f.instance.as_deref(), Some("DATABASE"));
    assert_eq!(f.error_code.as_deref(), Some("28P01"));
    assert_eq!(out.problems.len(), 1);
    assert_eq!(out.problems[0].line, 4);
    assert!(out.problems[0]
        .reason
        .starts_with("2 lines of the app's other processes"));
}

#[test]
fn broken_lines() {
    let out = parse(
        concat!(
            "not a logplex line\n",
            "2026-11-28T09:15:00+00:00 app[postgres.71]: no attachment here\n",
            "2026-11-28T09:15:00+00:00 app[postgres.71]: [DATABASE] not syslog\n",
        )
        .as_bytes(),
    );
    let reasons: Vec<(u64, &str)> = out
        .problems
        .iter()
        .map(|p| (p.line, p.reason.as_str()))
        .collect();
    assert_eq!(
        reasons[0],
        (1, "expected a Heroku log line (time, source[process])")
    );
    assert_eq!(reasons[1].0, 2);
    assert!(reasons[1].1.starts_with("expected a Heroku Postgres line"));
    assert_eq!(reasons[2].0, 3);
    assert!(
        reasons[2].1.starts_with("Heroku Postgres: "),
        "{}",
        reasons[2].1
    );
    assert_eq!(out.unrecognized_lines(), 3);
}

#[test]
fn sniff_claims_heroku_only() {
    let s = |b: &[u8]| sniff(&Sample::new(b, true));
    assert_eq!(s(SAMPLE), 100);
    assert_eq!(crate::detect(SAMPLE, true), Some(Format::Heroku));
    // An app's log without a database line is not Heroku Postgres's.
    assert_eq!(s(b"2026-11-28T09:15:01+00:00 app[web.1]: Started GET\n"), 0);
    let syslog =
        b"2026-11-28T15:41:22.123456+00:00 db1 postgres[123]: [9-1] db=shop,user=app LOG:  x\n";
    assert_eq!(s(syslog), 0);
    let rds = include_bytes!("../../../tests/data/postgres/postgresql-rds-prefix.log");
    assert_eq!(s(rds), 0);
}
