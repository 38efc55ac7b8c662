use super::*;
use crate::postgres::parse_bytes;
use crate::Format;
use keibi_model::event::StatementClass;
use keibi_model::{Action, Event};

const RDS: &[u8] = include_bytes!("../../../tests/data/postgres/postgresql-rds-prefix.log");
const HYDRA: &[u8] = include_bytes!("../../../tests/data/postgres/postgresql-hydra-bruteforce.log");

const IPV6: &[u8] = include_bytes!("../../../tests/data/postgres/postgresql-ipv6-client.log");

fn run(cfg: &ParseConfig, bytes: &[u8]) -> Output {
    let out = parse_bytes(Format::PostgresStderr, cfg, bytes, 4096);
    // Chunk boundaries carry no meaning.
    let small = parse_bytes(Format::PostgresStderr, cfg, bytes, 7);
    assert_eq!(out.events, small.events);
    out
}

fn parse(text: &str) -> Output {
    run(&ParseConfig::new("t.log"), text.as_bytes())
}

fn with_prefix(prefix: &str, text: &str) -> Output {
    let mut cfg = ParseConfig::new("t.log");
    cfg.pg_prefix = Some(prefix.to_string());
    run(&cfg, text.as_bytes())
}

fn actions(events: &[Event]) -> Vec<Action> {
    events.iter().map(|e| e.action).collect()
}

#[test]
fn ipv6_clients_sample() {
    let out = run(&ParseConfig::new("ipv6.log"), IPV6);
    assert_eq!(out.unrecognized_lines(), 0, "{:?}", out.problems);
    let of = |a: Action| out.events.iter().filter(move |e| e.action == a);
    let failures: Vec<&Event> = of(Action::LoginFailure).collect();
    assert_eq!(failures.len(), 5);
    let ports: Vec<u16> = failures.iter().filter_map(|e| e.client_port).collect();
    assert_eq!(ports, [54424, 54428, 54436, 54456, 50990]);
    let v6: std::net::IpAddr = "::1".parse().unwrap();
    assert!(failures.iter().all(|e| e.client_ip == Some(v6)));
    // The other login is the set-up over the Unix socket (`[local]`).
    let logins: Vec<&Event> = of(Action::LoginSuccess)
        .filter(|e| e.client_ip.is_some())
        .collect();
    assert_eq!(logins.len(), 1);
    assert_eq!(
        (
            logins[0].client_ip,
            logins[0].client_port,
            logins[0].user.as_deref()
        ),
        (Some(v6), Some(54444), Some("postgres"))
    );
}

#[test]
fn hydra_bruteforce_sample() {
    let out = run(&ParseConfig::new("hydra.log"), HYDRA);
    assert_eq!(out.unrecognized_lines(), 0, "{:?}", out.problems);
    assert!(out.problems.is_empty());
    let count = |a: Action| out.events.iter().filter(|e| e.action == a).count();
    let failures: Vec<&Event> = out
        .events
        .iter()
        .filter(|e| e.action == Action::LoginFailure)
        .collect();
    assert_eq!(failures.len(), 4);
    for f in &failures {
        assert_eq!(f.user.as_deref(), Some("app"));
        assert_eq!(f.database.as_deref(), Some("template1"));
        assert_eq!(f.client_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(f.error_code.as_deref(), Some("28P01"));
        // The DETAIL names the pg_hba.conf line, and so the method.
        assert_eq!(f.auth_method.as_deref(), Some("scram-sha-256"));
        assert!(f
            .detail
            .as_deref()
            .unwrap()
            .starts_with("Connection matched pg_hba.conf line 87"));
        assert_eq!(f.level.as_deref(), Some("FATAL"));
    }
    assert_eq!(failures[0].line, 5);
    assert_eq!(failures[0].pid, Some(8002));
    assert_eq!(failures[0].client_port, Some(40124));
    assert_eq!(count(Action::ConnectionReceived), 10);
    assert_eq!(count(Action::LoginSuccess), 1);
    assert_eq!(count(Action::Disconnect), 1);
    assert_eq!(out.events.len(), 16);
    let ok = out
        .events
        .iter()
        .find(|e| e.action == Action::LoginSuccess)
        .unwrap();
    assert_eq!(ok.user.as_deref(), Some("app"));
    assert_eq!(ok.auth_method.as_deref(), Some("scram-sha-256"));
    assert_eq!(ok.tls, Some(false));
    assert_eq!(ok.time.to_rfc3339(), "2026-11-28T15:41:43+00:00");
    // Events come out in line order.
    assert!(out.events.windows(2).all(|w| w[0].line < w[1].line));
}

#[test]
fn rds_prefix_sample() {
    let out = run(&ParseConfig::new("rds.log"), RDS);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let a = actions(&out.events);
    use Action::*;
    assert_eq!(
        a,
        vec![
            Other,
            Other,
            Other,
            Other,
            Other,
            Other,
            ConnectionReceived,
            LoginSuccess,
            Statement,
            Disconnect,
            ConnectionReceived,
            LoginFailure,
            ConnectionReceived,
            LoginFailure,
            ConnectionReceived,
            LoginSuccess,
            Statement,
            Statement,
            Disconnect,
            ConnectionReceived,
            LoginSuccess,
            Statement,
            Disconnect,
            ConnectionReceived,
            LoginSuccess,
            LoginFailure,
        ]
    );
    let e = &out.events[0];
    assert_eq!(e.message.as_deref(), Some("pgaudit extension initialized"));
    assert_eq!((e.user.as_ref(), e.pid), (None, Some(5916)));
    // The first audit record: quoted statement with a comma.
    let st = out.events[8].statement.as_deref().unwrap();
    assert_eq!(st.text, "SELECT id, email FROM customers WHERE id = 1");
    assert_eq!(st.class, Some(StatementClass::Read));
    assert_eq!(st.audit_type.as_deref(), Some("SESSION"));
    assert_eq!(out.events[8].user.as_deref(), Some("app"));
    // The DETAIL with a tab-indented second line belongs to its failure.
    let f = &out.events[13];
    assert_eq!(f.user.as_deref(), Some("nosuchuser"));
    assert_eq!(f.line, 16);
    assert_eq!(
            f.detail.as_deref(),
            Some("Role \"nosuchuser\" does not exist.\nConnection matched pg_hba.conf line 87: \"host    all             all             127.0.0.1/32            scram-sha-256\"")
        );
    // GRANT is a ROLE statement.
    let g = &out.events[21];
    assert_eq!(
        g.statement.as_deref().unwrap().class,
        Some(StatementClass::Role)
    );
    assert_eq!(g.user.as_deref(), Some("postgres"));
    let last = out.events.last().unwrap();
    assert_eq!(last.error_code.as_deref(), Some("3D000"));
    assert_eq!(last.database.as_deref(), Some("nosuchdb"));
    // The connection-received line has `[unknown]` for the user: not kept.
    assert_eq!(out.events[6].user, None);
    assert_eq!(out.events[6].client_port, Some(34292));
}

#[test]
fn debian_prefix_local_and_ipv6() {
    let out = parse(concat!(
            "2026-11-28 15:41:22.101 UTC [900] LOG:  database system is ready to accept connections\n",
            "2026-11-28 15:41:22.201 UTC [901] [unknown]@[unknown] LOG:  connection received: host=[local]\n",
            "2026-11-28 15:41:22.202 UTC [901] bob@shop LOG:  connection authorized: user=bob database=shop application_name=psql\n",
            "2026-11-28 15:41:22.301 UTC [902] [unknown]@[unknown] LOG:  connection received: host=::1 port=51000\n",
            "2026-11-28 15:41:22.302 UTC [902] eve@shop FATAL:  password authentication failed for user \"eve\"\n",
            "2026-11-28 15:41:22.302 UTC [902] eve@shop DETAIL:  Connection matched file \"/etc/postgresql/16/main/pg_hba.conf\" line 128: \"host all all ::1/128 md5\"\n",
            "2026-11-28 15:41:22.401 UTC [901] bob@shop ERROR:  relation \"nope\" does not exist at character 15\n",
            "2026-11-28 15:41:22.401 UTC [901] bob@shop STATEMENT:  select * from nope\n",
            "\twhere a = 1;\n",
        ));
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let a = actions(&out.events);
    use Action::*;
    assert_eq!(
        a,
        vec![
            Other,
            ConnectionReceived,
            LoginSuccess,
            ConnectionReceived,
            LoginFailure,
            Other
        ]
    );
    assert_eq!(out.events[1].client_host.as_deref(), Some("[local]"));
    assert_eq!(out.events[2].user.as_deref(), Some("bob"));
    assert_eq!(out.events[2].application.as_deref(), Some("psql"));
    assert_eq!(out.events[3].client_ip, Some("::1".parse().unwrap()));
    assert_eq!(out.events[3].client_port, Some(51000));
    assert_eq!(out.events[4].auth_method.as_deref(), Some("md5"));
    let err = &out.events[5];
    let st = err.statement.as_deref().unwrap();
    assert_eq!(st.text, "select * from nope\nwhere a = 1;");
    assert_eq!(st.class, Some(StatementClass::Read));
    assert_eq!(err.time.to_rfc3339(), "2026-11-28T15:41:22.401+00:00");
}

#[test]
fn rds_ipv6_local_ssl_and_no_pg_hba() {
    let out = parse(concat!(
            "2026-11-28 15:41:22 UTC:2001:db8::1(5432):[unknown]@[unknown]:[10]:LOG:  connection received: host=2001:db8::1 port=5432\n",
            "2026-11-28 15:41:22 UTC:2001:db8::1(5432):app@shop:[10]:LOG:  connection authorized: user=app database=shop application_name=psql SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)\n",
            "2026-11-28 15:41:22 UTC:[local]:postgres@postgres:[11]:LOG:  connection authorized: user=postgres database=postgres\n",
            "2020-03-11 20:40:50 CET:192.168.1.201(50906):gilles@pgbench:[12795]:FATAL:  no pg_hba.conf entry for host \"192.168.1.201\", user \"gilles\", database \"pgbench\", SSL on\n",
            "2026-11-28 15:41:22 UTC:10.0.0.5(40000):[unknown]@[unknown]:[13]:LOG:  incomplete startup packet\n",
        ));
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let e = &out.events[0];
    assert_eq!(e.client_ip, Some("2001:db8::1".parse().unwrap()));
    assert_eq!(e.client_port, Some(5432));
    let e = &out.events[1];
    assert_eq!((e.action, e.tls), (Action::LoginSuccess, Some(true)));
    assert_eq!(e.client_ip, Some("2001:db8::1".parse().unwrap()));
    let e = &out.events[2];
    assert_eq!(e.client_host.as_deref(), Some("[local]"));
    assert_eq!(e.tls, Some(false));
    let e = &out.events[3];
    assert_eq!(e.action, Action::LoginFailure);
    assert_eq!(e.error_code.as_deref(), Some("28000"));
    assert_eq!(e.client_ip, Some("192.168.1.201".parse().unwrap()));
    assert_eq!(e.time.to_rfc3339(), "2020-03-11T19:40:50+00:00");
    assert_eq!(out.events[4].action, Action::Probe);
}

#[test]
fn pgaudit_statement_across_continuation_lines() {
    let out = parse(concat!(
            "2026-11-28 15:41:22 UTC:127.0.0.1(1):app@shop:[5]:LOG:  AUDIT: SESSION,4,1,WRITE,INSERT,,,\"INSERT INTO notes (a, b) VALUES ('x, y', \"\"quoted\"\"),\n",
            "\t('second\n",
            "\tline')\",<not logged>\n",
            "2026-11-28 15:41:23 UTC:127.0.0.1(1):app@shop:[5]:LOG:  disconnection: session time: 0:00:01.000 user=app database=shop host=127.0.0.1 port=1\n",
        ));
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.events.len(), 2);
    let e = &out.events[0];
    assert_eq!(e.action, Action::Statement);
    let st = e.statement.as_deref().unwrap();
    assert_eq!(
        st.text,
        "INSERT INTO notes (a, b) VALUES ('x, y', \"quoted\"),\n('second\nline')"
    );
    assert_eq!(st.class, Some(StatementClass::Write));
    assert_eq!(st.command.as_deref(), Some("INSERT"));
}

#[test]
fn explicit_prefix_with_sqlstate_and_session() {
    let out = with_prefix(
            "%m %c %e [%p] %q%u@%d/%a ",
            concat!(
                "2026-11-28 15:41:22.123 UTC 6b0af627.1782 00000 [6018] LOG:  checkpoint starting: time\n",
                "2026-11-28 15:41:22.123 UTC 6b0af627.1783 28P01 [6019] app@shop/my app FATAL:  password authentication failed for user \"app\"\n",
                "not a log line\n",
            ),
        );
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.events[0].error_code, None);
    assert_eq!(out.events[0].session_id.as_deref(), Some("6b0af627.1782"));
    let e = &out.events[1];
    assert_eq!(e.error_code.as_deref(), Some("28P01"));
    assert_eq!(e.application.as_deref(), Some("my app"));
    assert_eq!(out.problems.len(), 1);
    assert_eq!(out.problems[0].line, 3);
    assert!(
        out.problems[0].reason.contains("%m %c %e"),
        "{}",
        out.problems[0].reason
    );
}

#[test]
fn default_prefix_carries_client_and_user_per_process() {
    // PostgreSQL's own default `%m [%p] `: neither client nor user in the prefix.
    let out = parse(concat!(
            "2026-11-28 15:41:22.100 UTC [31] LOG:  connection received: host=198.51.100.7 port=40000\n",
            "2026-11-28 15:41:22.101 UTC [32] LOG:  connection received: host=198.51.100.8 port=40001\n",
            "2026-11-28 15:41:22.102 UTC [31] LOG:  connection authorized: user=app database=shop application_name=psql\n",
            "2026-11-28 15:41:22.103 UTC [32] FATAL:  password authentication failed for user \"admin\"\n",
            "2026-11-28 15:41:22.104 UTC [31] LOG:  statement: DELETE FROM orders\n",
            "2026-11-28 15:41:22.105 UTC [31] LOG:  disconnection: session time: 0:00:00.005 user=app database=shop host=198.51.100.7 port=40000\n",
            // The pid is reused by a new process: nothing carries over.
            "2026-11-28 15:41:23.000 UTC [31] LOG:  statement: SELECT 1\n",
        ));
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let e = &out.events;
    assert_eq!(e[2].action, Action::LoginSuccess);
    assert_eq!(e[2].client_ip, Some("198.51.100.7".parse().unwrap()));
    assert_eq!(e[2].client_port, Some(40000));
    assert_eq!(e[3].action, Action::LoginFailure);
    assert_eq!(e[3].client_ip, Some("198.51.100.8".parse().unwrap()));
    assert_eq!(e[3].user.as_deref(), Some("admin"));
    assert_eq!(e[4].action, Action::Statement);
    assert_eq!(e[4].user.as_deref(), Some("app"));
    assert_eq!(e[4].database.as_deref(), Some("shop"));
    assert_eq!(e[4].application, None);
    assert_eq!(e[4].client_ip, Some("198.51.100.7".parse().unwrap()));
    assert_eq!(e[6].user, None);
    assert_eq!(e[6].client_ip, None);
}

#[test]
fn verbose_error_messages() {
    // `log_error_verbosity = verbose`: the SQLSTATE starts the message, and LOCATION
    // lines follow (captured from PostgreSQL 15).
    let out = parse(concat!(
            "2026-11-30 21:06:48.237 UTC [29348] app@shop FATAL:  28P01: password authentication failed for user \"app\"\n",
            "2026-11-30 21:06:48.237 UTC [29348] app@shop DETAIL:  Connection matched pg_hba.conf line 89: \"host    all             all             ::1/128                 scram-sha-256\"\n",
            "2026-11-30 21:06:48.237 UTC [29348] app@shop LOCATION:  auth_failed, auth.c:334\n",
            "2026-11-30 21:06:48.196 UTC [29346] app@shop LOG:  00000: AUDIT: SESSION,1,1,DDL,CREATE TABLE,,,\"CREATE TABLE t (id int, note text);\",<not logged>\n",
            "2026-11-30 21:06:48.196 UTC [29346] app@shop LOCATION:  log_audit_event, pgaudit.c:783\n",
            "2026-11-30 21:06:48.197 UTC [29346] app@shop LOG:  AUDIT: SESSION,2,1,READ,SELECT,,,SELECT 1,<not logged>\n",
        ));
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let f = &out.events[0];
    assert_eq!(f.action, Action::LoginFailure);
    assert_eq!(
        f.message.as_deref(),
        Some("password authentication failed for user \"app\"")
    );
    assert_eq!(f.error_code.as_deref(), Some("28P01"));
    assert_eq!(f.auth_method.as_deref(), Some("scram-sha-256"));
    assert!(!f.detail.as_deref().unwrap().contains("auth.c"));
    let a = &out.events[1];
    assert_eq!(
        (a.action, a.error_code.as_deref()),
        (Action::Statement, None)
    );
    assert_eq!(
        a.statement.as_deref().unwrap().command.as_deref(),
        Some("CREATE TABLE")
    );
    assert_eq!(out.events[2].action, Action::Statement);
}

#[test]
fn relocks_onto_another_candidate() {
    let out = parse(concat!(
            "2026-11-28 15:41:22 UTC [5]: [1-1] user=a,db=b,app=c,client=10.0.0.1 LOG:  connection authorized: user=a database=b\n",
            "2026-11-28 15:41:22 UTC-6b0af627.1782-LOG:  checkpoint starting: time\n",
            "< 2026-11-28 15:41:22.000 UTC >LOG:  x\n",
            "2026-11-28 15:41:22.000 UTC [7] 10.0.0.2 u@d FATAL:  role \"u\" does not exist\n",
        ));
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let a = actions(&out.events);
    assert_eq!(
        a,
        vec![
            Action::LoginSuccess,
            Action::Other,
            Action::Other,
            Action::LoginFailure
        ]
    );
    assert_eq!(out.events[0].client_ip, Some("10.0.0.1".parse().unwrap()));
    assert_eq!(out.events[1].session_id.as_deref(), Some("6b0af627.1782"));
    assert_eq!(out.events[3].client_ip, Some("10.0.0.2".parse().unwrap()));
}

#[test]
fn hostile_lines_never_panic() {
    let mut input: Vec<u8> = Vec::new();
    input.extend_from_slice(b"2026-11-28 15:41:22 UTC:127.0.0.1(1):\xff\xfe@shop:[5]:LOG:  statement: select '\xc3\x28'\n");
    input.extend_from_slice(b"2026-11-28 15:41:22 UTC:127.0.0.1(1):app@shop:[5]:\n");
    input.extend_from_slice(b"2026-11-28 15:41:22 UTC:127.0.0.1(1):app@sh\n");
    input.extend_from_slice(b"2026-11-28 15:4\n");
    input.extend_from_slice(b"\t\n\n   \n");
    input.extend_from_slice(
        b"2026-11-28 15:41:22 UTC:127.0.0.1(99999999999999):a@b:[99999999999]:LOG:  x\n",
    );
    input.extend_from_slice(
        b"2026-11-28 15:41:22 UTC:127.0.0.1(1):app@shop:[5]:LOG:  statement: select '",
    );
    input.extend(std::iter::repeat_n(b'x', 100_000));
    input.extend_from_slice(b"'\n");
    for _ in 0..3000 {
        input.extend_from_slice(b"\tand more\n");
    }
    input.extend_from_slice(
        b"2026-11-28 15:41:22 UTC:127.0.0.1(1):app@shop:[5]:STATEMENT:  orphan? no, attached\n",
    );
    let out = parse(std::str::from_utf8(&input).unwrap_or(&String::from_utf8_lossy(&input)));
    let out2 = run(&ParseConfig::new("t.log"), &input);
    assert_eq!(out.events.len(), out2.events.len());
    let out = out2;
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.events[0].user.as_deref(), Some("\u{fffd}\u{fffd}"));
    let big = &out.events[1];
    assert_eq!(
        big.statement.as_deref().unwrap().text.len(),
        100_000 + 3000 * 9 + 9
    );
    // The prefix-only, truncated and out-of-range lines are unrecognized.
    assert_eq!(out.unrecognized_lines(), 4, "{:?}", out.problems);
}

#[test]
fn sniff_claims_stderr_only() {
    use crate::format::Sample;
    let s = |b: &[u8]| sniff(&Sample::new(b, true));
    assert_eq!(s(RDS), 100);
    assert_eq!(s(HYDRA), 100);
    assert_eq!(
        s(include_bytes!(
            "../../../tests/data/postgres/postgresql-jsonlog.json"
        )),
        0
    );
    assert_eq!(
        s(b"2026-11-28 15:41:22 0 [Note] Starting MariaDB 10.11.6\n"),
        0
    );
    assert_eq!(
        s(b"2026-11-28T15:41:22.123456Z 0 [System] [MY-010116] [Server] mysqld\n"),
        0
    );
    assert_eq!(s(b"2026-11-28 15:41:22.123 UTC,\"app\",\"shop\",5,\"127.0.0.1:1\",6b0af627.5,1,\"idle\",2026-11-28 15:41:22 UTC,3/1,0,LOG,00000,\"x\",,,,,,,,,\"psql\",\"client backend\",,0\n"), 0);
    assert_eq!(s(b"Nov 28 15:41:22 host postgres[5]: [1-1] LOG:  x\n"), 0);
}

/// Throughput on RDS-prefixed lines: `cargo test --release -p keibi-parse -- --ignored
/// --nocapture stderr_throughput`.
#[test]
#[ignore]
fn stderr_throughput() {
    let mut input = Vec::new();
    let mut i = 0u32;
    // `KEIBI_BENCH_FILE=path` measures a log of one's own (e.g. from keibi-gen).
    let file = std::env::var("KEIBI_BENCH_FILE").ok();
    if let Some(f) = &file {
        input = std::fs::read(f).expect("KEIBI_BENCH_FILE is readable");
    }
    while file.is_none() && input.len() < 200 << 20 {
        // A busy server writes many lines per second.
        let sec = (i / 16) % 60;
        let pid = 1000 + i % 5000;
        let port = 30000 + i % 30000;
        let line = match i % 6 {
                0 => format!("2026-11-28 15:41:{sec:02} UTC:10.0.{}.{}({port}):[unknown]@[unknown]:[{pid}]:LOG:  connection received: host=10.0.{}.{} port={port}\n", i % 200, i % 250, i % 200, i % 250),
                1 => format!("2026-11-28 15:41:{sec:02} UTC:10.0.{}.{}({port}):app@shop:[{pid}]:LOG:  connection authorized: user=app database=shop application_name=psql\n", i % 200, i % 250),
                2 => format!("2026-11-28 15:41:{sec:02} UTC:10.0.{}.{}({port}):app@shop:[{pid}]:LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,\"SELECT id, email FROM customers WHERE id = {i}\",<not logged>\n", i % 200, i % 250),
                3 => format!("2026-11-28 15:41:{sec:02} UTC:10.0.{}.{}({port}):app@shop:[{pid}]:FATAL:  password authentication failed for user \"app\"\n", i % 200, i % 250),
                4 => format!("2026-11-28 15:41:{sec:02} UTC:10.0.{}.{}({port}):app@shop:[{pid}]:DETAIL:  Connection matched pg_hba.conf line 87: \"host all all 0.0.0.0/0 scram-sha-256\"\n", i % 200, i % 250),
                _ => format!("2026-11-28 15:41:{sec:02} UTC:10.0.{}.{}({port}):app@shop:[{pid}]:LOG:  disconnection: session time: 0:00:00.009 user=app database=shop host=10.0.{}.{} port={port}\n", i % 200, i % 250, i % 200, i % 250),
            };
        input.extend_from_slice(line.as_bytes());
        i += 1;
    }
    let cfg = ParseConfig::new("bench.log");
    let mut best = f64::MAX;
    for _ in 0..3 {
        let mut p = Format::PostgresStderr.parser(&cfg);
        let mut out = Output::new();
        let mut events = 0;
        // Only the parser is timed: dropping the events is the consumer's work.
        let mut secs = 0.0;
        for c in input.chunks(1 << 20) {
            let start = crate::testutil::cpu_seconds();
            p.push(c, &mut out);
            secs += crate::testutil::cpu_seconds() - start;
            events += out.events.len();
            out.events.clear();
            out.problems.clear();
        }
        p.finish(&mut out);
        events += out.events.len();
        best = best.min(secs);
        assert!(file.is_some() || out.problems.is_empty());
        if file.is_none() {
            assert_eq!(events as u32, i - i / 6);
        }
    }
    let mbs = input.len() as f64 / (1 << 20) as f64 / best;
    println!(
        "postgres stderr (RDS prefix): {mbs:.0} MiB/s ({:.0} MB/s) of CPU time over {} MiB",
        mbs * 1.048576,
        input.len() >> 20
    );
}

/// A FATAL line, then a line the given prefix does not read (`[2-2]` where it has a
/// literal `[%l-1]`): the FATAL stays its own event with its own message, and the odd
/// line is counted unrecognized. Both used to join into one report whose user name held
/// the rest of the FATAL line and the whole next line.
#[test]
fn a_fatal_then_a_line_the_prefix_does_not_read() {
    let out = with_prefix(
        "%m [%p]: [%l-1] db=%d,user=%u ",
        concat!(
            "2026-11-28 15:41:22.101 UTC [901]: [1-1] db=shop,user=app LOG:  connection authorized: user=app database=shop\n",
            "2026-11-28 15:41:22.205 UTC [902]: [1-1] db=shop,user=eve FATAL:  password authentication failed for user \"eve\"\n",
            "2026-11-28 15:41:22.205 UTC [902]: [2-2] db=shop,user=eve DETAIL:  Connection matched pg_hba.conf line 120: \"host all all 0.0.0.0/0 scram-sha-256\"\n",
            "2026-11-28 15:41:23.101 UTC [903]: [1-1] db=shop,user=app LOG:  connection authorized: user=app database=shop\n",
        ),
    );
    use Action::*;
    assert_eq!(
        actions(&out.events),
        vec![LoginSuccess, LoginFailure, LoginSuccess]
    );
    let f = &out.events[1];
    assert_eq!(f.user.as_deref(), Some("eve"));
    assert_eq!(f.line, 2);
    assert_eq!(
        f.message.as_deref(),
        Some("password authentication failed for user \"eve\"")
    );
    assert!(f.injection.is_none(), "{:?}", f.injection);
    let p: Vec<(u64, u64)> = out.problems.iter().map(|p| (p.line, p.lines)).collect();
    assert_eq!(p, vec![(3, 1)]);
}

/// A DETAIL line whose process has no report pending (the log starts mid-report, or
/// another process's line) is counted unrecognized with why, not dropped.
#[test]
fn a_detail_with_no_report_before_it_is_counted() {
    let out = parse(concat!(
        "2026-11-28 15:41:22.101 UTC [902] eve@shop DETAIL:  Connection matched pg_hba.conf line 120\n",
        "2026-11-28 15:41:23.101 UTC [903] app@shop LOG:  connection authorized: user=app database=shop\n",
        "2026-11-28 15:41:23.101 UTC [903] app@shop HINT:  attached\n",
        "2026-11-28 15:41:24.101 UTC [904] app@shop STATEMENT:  SELECT 1\n",
    ));
    assert_eq!(out.events.len(), 1);
    let p: Vec<(u64, &str)> = out
        .problems
        .iter()
        .map(|p| (p.line, p.reason.as_str()))
        .collect();
    assert_eq!(
        p,
        vec![
            (1, "DETAIL line with no report of its process before it"),
            (4, "STATEMENT line with no report of its process before it"),
        ]
    );
}
