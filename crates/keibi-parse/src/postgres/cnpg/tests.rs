use super::*;
use crate::postgres::parse_bytes;
use crate::Format;
use keibi_model::event::StatementClass;
use keibi_model::Action;

const SAMPLE: &[u8] = include_bytes!("../../../tests/data/cnpg/cnpg-pgbadger.log");

fn parse(bytes: &[u8]) -> Output {
    let cfg = ParseConfig::new("cnpg.log");
    let out = parse_bytes(Format::Cnpg, &cfg, bytes, 4096);
    let small = parse_bytes(Format::Cnpg, &cfg, bytes, 13);
    assert_eq!(out.events, small.events);
    out
}

fn line(record: &str) -> String {
    format!(
        "{{\"level\":\"info\",\"ts\":1669575482.09,\"logger\":\"postgres\",\"msg\":\"record\",\"logging_pod\":\"pg-1\",\"record\":{{{record}}}}}\n"
    )
}

#[test]
fn real_sample() {
    let out = parse(SAMPLE);
    // 60 PostgreSQL records (the `connection authenticated` ones inform a login and
    // are no event); the operator's other 38 lines are counted in one warning.
    assert_eq!(out.unrecognized_lines(), 0, "{:?}", out.problems);
    assert_eq!(out.problems.len(), 1);
    assert_eq!(out.problems[0].lines, 0);
    assert!(
        out.problems[0]
            .reason
            .starts_with("38 lines of CloudNativePG's other loggers"),
        "{}",
        out.problems[0].reason
    );
    let authenticated = SAMPLE
        .split(|&b| b == b'\n')
        .filter(|l| l.windows(26).any(|w| w == b"connection authenticated: "))
        .count();
    assert_eq!(out.events.len(), 60 - authenticated);
    assert!(out
        .events
        .iter()
        .all(|e| e.instance.as_deref() == Some("myapp-pg-cluster-1")));
    assert!(out
        .events
        .iter()
        .all(|e| e.source == SourceKind::PostgresCsv));
    // The file is newest first, as pgbadger's fixture has it: the disconnection first.
    let e = &out.events[0];
    assert_eq!(e.action, Action::Disconnect);
    assert_eq!(e.time.to_rfc3339(), "2022-11-27T18:58:02.096+00:00");
    assert_eq!(e.pid, Some(600));
    assert_eq!(e.client_host.as_deref(), Some("[local]"));
    assert_eq!(e.application.as_deref(), Some("pg_isready"));
    let ok = &out.events[1];
    assert_eq!(ok.action, Action::LoginSuccess);
    assert_eq!(ok.user.as_deref(), Some("postgres"));
    assert_eq!(ok.session_id.as_deref(), Some("6383b33a.258"));
    let err = out
        .events
        .iter()
        .find(|e| e.error_code.as_deref() == Some("42703"))
        .expect("the ERROR of line 12");
    assert_eq!(err.level.as_deref(), Some("ERROR"));
    assert_eq!(
        err.detail.as_deref(),
        Some("HINT: Perhaps you meant to reference the column \"states.name\".")
    );
    let st = err.statement.as_deref().unwrap();
    assert_eq!(st.text, "delete from states where names = 'America';");
    assert_eq!(st.class, Some(StatementClass::Write));
    let fatal = out
        .events
        .iter()
        .find(|e| e.level.as_deref() == Some("FATAL"))
        .expect("the FATAL of the start-up");
    assert_eq!(fatal.error_code.as_deref(), Some("57P03"));
    assert_eq!(fatal.action, Action::Other);
}

#[test]
fn failed_login_from_an_address_and_pgaudit() {
    let text = [
        line(r#""log_time":"2026-11-28 09:00:00.001 UTC","process_id":"71","connection_from":"203.0.113.9:51000","session_id":"a.47","error_severity":"LOG","sql_state_code":"00000","message":"connection received: host=203.0.113.9 port=51000""#),
        line(r#""log_time":"2026-11-28 09:00:00.004 UTC","user_name":"postgres","database_name":"app","process_id":"71","connection_from":"203.0.113.9:51000","session_id":"a.47","error_severity":"FATAL","sql_state_code":"28P01","message":"password authentication failed for user \"postgres\"","detail":"Connection matched file \"/var/lib/postgresql/data/pgdata/pg_hba.conf\" line 11: \"host all all all scram-sha-256\"""#),
        line(r#""log_time":"2026-11-28 09:00:01.000 UTC","process_id":"72","connection_from":"2001:db8::7:443","error_severity":"LOG","message":"connection received: host=2001:db8::7 port=443""#).replace("\"postgres\"", "\"pgaudit\""),
        line(r#""log_time":"2026-11-28 09:00:02.000 UTC","user_name":"app","database_name":"app","process_id":"73","connection_from":"[local]","error_severity":"LOG","audit":{"audit_type":"SESSION","statement_id":"1","substatement_id":"1","class":"ROLE","command":"GRANT","statement":"GRANT \"pg_read_server_files\" TO app, x","parameter":"<none>"}"#).replace("\"logger\":\"postgres\"", "\"logger\":\"pgaudit\""),
    ]
    .concat();
    let out = parse(text.as_bytes());
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let a: Vec<Action> = out.events.iter().map(|e| e.action).collect();
    use Action::*;
    assert_eq!(
        a,
        vec![
            ConnectionReceived,
            LoginFailure,
            ConnectionReceived,
            Statement
        ]
    );
    let f = &out.events[1];
    assert_eq!(f.client_ip, Some("203.0.113.9".parse().unwrap()));
    assert_eq!(f.client_port, Some(51000));
    assert_eq!(f.auth_method.as_deref(), Some("scram-sha-256"));
    assert_eq!(f.instance.as_deref(), Some("pg-1"));
    assert_eq!(
        out.events[2].client_ip,
        Some("2001:db8::7".parse().unwrap())
    );
    let st = out.events[3].statement.as_deref().unwrap();
    assert_eq!(st.text, "GRANT \"pg_read_server_files\" TO app, x");
    assert_eq!(st.class, Some(StatementClass::Role));
    assert_eq!(st.command.as_deref(), Some("GRANT"));
    assert_eq!(st.audit_type.as_deref(), Some("SESSION"));
}

#[test]
fn instance_flag_wins_and_pods_are_apart() {
    let text = line(r#""log_time":"2026-11-28 09:00:00.001 UTC","process_id":"71","connection_from":"203.0.113.9:51000","error_severity":"LOG","message":"connection received: host=203.0.113.9 port=51000""#)
        + &line(r#""log_time":"2026-11-28 09:00:00.002 UTC","user_name":"app","database_name":"app","process_id":"71","error_severity":"LOG","message":"connection authorized: user=app database=app""#).replace("pg-1", "pg-2");
    let out = parse(text.as_bytes());
    // Process 71 of pg-2 never had a connection line: its login carries no client.
    assert_eq!(out.events[1].instance.as_deref(), Some("pg-2"));
    assert_eq!(out.events[1].client_ip, None);
    let mut cfg = ParseConfig::new("x");
    cfg.instance = Some("orders".into());
    let out = parse_bytes(Format::Cnpg, &cfg, text.as_bytes(), 4096);
    assert!(out
        .events
        .iter()
        .all(|e| e.instance.as_deref() == Some("orders")));
}

#[test]
fn forged_names_stay_inert() {
    // A user name holding a line break and a whole forged record: the JSON string keeps
    // it one field, and the event is marked.
    let text = line(
        r#""log_time":"2026-11-28 09:00:00.004 UTC","user_name":"x\n{\"level\":\"info\",\"ts\":1,\"logger\":\"postgres\",\"msg\":\"record\",\"record\":{\"log_time\":\"2026-11-28 09:00:00.005 UTC\",\"error_severity\":\"LOG\",\"message\":\"connection authorized: user=admin database=app\"}}","process_id":"71","connection_from":"203.0.113.9:51000","error_severity":"FATAL","sql_state_code":"28P01","message":"password authentication failed for user \"x\n{...}\"""#,
    );
    let out = parse(text.as_bytes());
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].action, Action::LoginFailure);
    assert!(out.events[0].injection.is_some());
}

#[test]
fn broken_lines() {
    let out = parse(
        concat!(
            "plain text\n",
            "{\"level\":\"info\",\"ts\":1,\"logger\":\"postgres\",\"msg\":\"record\",\"record\":{\"message\":\"x\"}}\n",
            "{\"level\":\"info\",\"ts\":1,\"logger\":\"postgres\",\"msg\":\"record\",\"record\":{\"log_time\":\"soon\",\"message\":\"x\"}}\n",
            "{\"level\":\"info\",\"ts\":1,\"logger\":\"postgres\",\"msg\":\"record\",\"record\":{\"log_time\":\"2026-11-28 09:00:00 UTC\"}}\n",
            "{\"level\":\"info\",\"ts\":1,\"logger\":\"postgres\",\"msg\":\"record\",\"record\":{\"log_time\":\n",
            "{\"a\":1}\n",
            "{\"level\":\"info\",\"ts\":1,\"logger\":\"postgres\",\"msg\":\"record\",\"record\":{\"log_time\":\"2026-11-28 09:00:00 UTC\",\"process_id\":99999999999,\"error_severity\":\"LOG\",\"message\":\"statement: select 1\"}}\n",
        )
        .as_bytes(),
    );
    let reasons: Vec<(u64, &str)> = out
        .problems
        .iter()
        .map(|p| (p.line, p.reason.as_str()))
        .collect();
    assert_eq!(reasons[0], (1, "expected a CloudNativePG JSON object"));
    assert_eq!(reasons[1], (2, "CloudNativePG record has no log_time"));
    assert!(reasons[2].1.contains("'soon'"));
    assert_eq!(reasons[3], (4, "CloudNativePG record has no message"));
    assert!(reasons[4].1.starts_with("invalid JSON"));
    assert_eq!(
        reasons[5],
        (6, "expected a CloudNativePG line (level, ts, logger)")
    );
    assert_eq!(out.problems.len(), 6);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].pid, None);
    assert_eq!(out.events[0].action, Action::Statement);
}

#[test]
fn sniff_claims_cnpg_only() {
    let s = |b: &[u8]| sniff(&Sample::new(b, true));
    assert_eq!(s(SAMPLE), 100);
    assert_eq!(crate::detect(SAMPLE, true), Some(Format::Cnpg));
    // A zap logger's lines without a PostgreSQL record are not CloudNativePG's.
    assert_eq!(
        s(b"{\"level\":\"info\",\"ts\":1669575482.09,\"logger\":\"controller\",\"msg\":\"Starting workers\"}\n"),
        0
    );
    let jsonlog = include_bytes!("../../../tests/data/postgres/postgresql-jsonlog.json");
    assert_eq!(s(jsonlog), 0);
    assert_eq!(s(b"{\"Records\":[]}\n"), 0);
}
