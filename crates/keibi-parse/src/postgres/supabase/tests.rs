use super::*;
use crate::postgres::parse_bytes;
use crate::Format;
use keibi_model::Action;

const SAMPLE: &[u8] = include_bytes!("../../../tests/data/supabase/supabase-postgres-logs.json");

fn parse(bytes: &[u8]) -> Output {
    let cfg = ParseConfig::new("postgres_logs.json");
    let out = parse_bytes(Format::Supabase, &cfg, bytes, 4096);
    let small = parse_bytes(Format::Supabase, &cfg, bytes, 6);
    assert_eq!(out.events, small.events);
    out
}

fn row(message: &str, parsed: &str) -> String {
    format!(
        "{{\"id\":\"x\",\"timestamp\":1795880504002017,\"event_message\":{},\"metadata\":[{{\"parsed\":[{{{parsed}}}]}}]}}\n",
        serde_json::to_string(message).unwrap()
    )
}

#[test]
fn hydra_rows_newest_first() {
    let out = parse(SAMPLE);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    // 17 rows, the `connection authenticated` one only informs: 16 events, newest first.
    assert_eq!(out.events.len(), 16);
    let failures: Vec<_> = out
        .events
        .iter()
        .filter(|e| e.action == Action::LoginFailure)
        .collect();
    assert_eq!(failures.len(), 4);
    for f in &failures {
        assert_eq!(f.user.as_deref(), Some("app"));
        assert_eq!(f.client_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(f.error_code.as_deref(), Some("28P01"));
        assert_eq!(f.source, SourceKind::PostgresCsv);
        assert!(f
            .detail
            .as_deref()
            .unwrap()
            .starts_with("Connection matched pg_hba.conf"));
    }
    let e = &out.events[0];
    assert_eq!(e.time.to_rfc3339(), "2026-11-28T15:41:44.002+00:00");
    assert_eq!(e.line, 2);
    assert!(out.events.iter().any(|e| e.action == Action::LoginSuccess));
}

#[test]
fn ipv6_client_object_metadata_and_forged_names() {
    let text = [
        // Supabase's own admin connection over IPv6 (shape of a row a user posted).
        row(
            "connection authorized: user=supabase_admin database=postgres application_name=undefined SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)",
            r#""application_name":null,"backend_type":"client backend","command_tag":"authentication","connection_from":"2001:db8:2a66:6e00:4cc0:484f:8095:c5b3:36444","database_name":"postgres","error_severity":"LOG","process_id":248945,"session_id":"688bba41.3cc71","sql_state_code":"00000","timestamp":"2025-07-31 18:47:29.460 UTC","user_name":"supabase_admin""#,
        ),
        // metadata as an object, a name with a line break and a forged login.
        "{\"event_message\":\"password authentication failed for user \\\"x\\nLOG:  connection authorized: user=admin\\\"\",\"metadata\":{\"parsed\":{\"timestamp\":\"2025-07-31 18:47:30.000 UTC\",\"process_id\":7,\"error_severity\":\"FATAL\",\"sql_state_code\":\"28P01\",\"user_name\":\"x\\nLOG:  connection authorized: user=admin\",\"connection_from\":\"203.0.113.9:5000\"}}}\n".to_string(),
    ]
    .concat();
    let out = parse(text.as_bytes());
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let ok = &out.events[0];
    assert_eq!(ok.action, Action::LoginSuccess);
    assert_eq!(
        ok.client_ip,
        Some("2001:db8:2a66:6e00:4cc0:484f:8095:c5b3".parse().unwrap())
    );
    assert_eq!(ok.client_port, Some(36444));
    assert_eq!(ok.pid, Some(248945));
    assert_eq!(ok.tls, Some(true));
    let forged = &out.events[1];
    assert_eq!(forged.action, Action::LoginFailure);
    assert!(forged.injection.is_some());
    assert_eq!(out.events.len(), 2);
}

#[test]
fn broken_rows() {
    let out = parse(
        concat!(
            "{\"event_message\":\"x\"}\n",
            "{\"event_message\":\"x\",\"metadata\":[{\"parsed\":[{\"process_id\":1}]}]}\n",
            "{\"event_message\":\"x\",\"metadata\":[{\"parsed\":[{\"timestamp\":\"1795880504002017\"}]}]}\n",
            "{\"metadata\":[{\"parsed\":[{\"timestamp\":\"2025-07-31 18:47:30 UTC\"}]}]}\n",
            "{\"event_message\":5}\n",
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
        (1, "Supabase log row has no metadata.parsed report")
    );
    assert_eq!(reasons[1], (2, "Supabase record has no log_time"));
    assert!(reasons[2]
        .1
        .starts_with("Supabase log_time '1795880504002017'"));
    assert_eq!(reasons[3], (4, "Supabase record has no message"));
    assert!(reasons[4].1.starts_with("invalid Supabase log row"));
    assert_eq!(out.unrecognized_lines(), 5);
}

#[test]
fn sniff_claims_supabase_only() {
    let s = |b: &[u8]| sniff(&Sample::new(b, true));
    assert_eq!(s(SAMPLE), 100);
    assert_eq!(crate::detect(SAMPLE, true), Some(Format::Supabase));
    // Supabase's other logs (API, auth) have event_message and metadata but no report.
    assert_eq!(
        s(b"[{\"event_message\":\"GET /rest/v1/\",\"metadata\":[{\"request\":[{\"method\":\"GET\"}]}]}]\n"),
        0
    );
    let cnpg = include_bytes!("../../../tests/data/cnpg/cnpg-pgbadger.log");
    assert_eq!(s(cnpg), 0);
}
