use super::*;
use crate::testutil::rfc3339;
use crate::{Lines, Parser};
use keibi_model::Action::*;

fn run_cfg(input: &[u8], cfg: &ParseConfig) -> Output {
    crate::testutil::run_lines(AuditParser::new(cfg), input)
}

fn run(input: &[u8]) -> Output {
    run_cfg(input, &ParseConfig::new("audit.log"))
}

fn text(e: &Event) -> &str {
    e.statement.as_ref().map_or("", |s| s.text.as_str())
}

#[test]
fn mariadb_session_sample() {
    let out = run(include_bytes!(
        "../../../tests/data/mysql/mariadb-server_audit.log"
    ));
    assert_eq!(out.problems, vec![]);
    assert_eq!(out.events.len(), 15);
    let e = &out.events[0];
    assert_eq!((e.action, e.line), (LoginSuccess, 1));
    assert_eq!(e.user.as_deref(), Some("app"));
    assert_eq!(e.database.as_deref(), Some("shop"));
    assert_eq!(e.client_ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(e.session_id.as_deref(), Some("5"));
    assert_eq!(e.error_code, None);
    assert_eq!(rfc3339(e), "2026-11-28T15:42:10Z");
    assert_eq!(e.instance, None, "serverhost is not an instance id");
    let q = &out.events[1];
    assert_eq!(q.action, Statement);
    assert_eq!(text(q), "SELECT id,email FROM customers WHERE id=1");
    let outfile = &out.events[8];
    assert_eq!(
        text(outfile),
        "SELECT * FROM customers INTO OUTFILE '/tmp/x.csv'"
    );
    let st = outfile.statement.as_deref().unwrap();
    assert_eq!(st.class, Some(StatementClass::Read));
    assert_eq!(outfile.error_code.as_deref(), Some("1227"));
    let grant = &out.events[13];
    assert_eq!(text(grant), "GRANT SELECT ON shop.* TO 'app'@'%'");
    assert_eq!(
        grant.statement.as_deref().unwrap().class,
        Some(StatementClass::Role)
    );
    assert_eq!(grant.error_code.as_deref(), Some("1044"));
    let failures: Vec<_> = out
        .events
        .iter()
        .filter(|e| e.action == LoginFailure)
        .map(|e| {
            (
                e.line,
                e.user.as_deref().unwrap(),
                e.error_code.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        vec![
            (4, "app", "1045"),
            (6, "nosuchuser", "1045"),
            (11, "app", "1044")
        ]
    );
    assert_eq!(
        out.events.iter().filter(|e| e.action == Disconnect).count(),
        6
    );
}

#[test]
fn hydra_sample_tells_probes_from_failed_logins() {
    let out = run(include_bytes!(
        "../../../tests/data/mysql/mariadb-hydra-bruteforce-audit.log"
    ));
    assert_eq!(out.problems, vec![]);
    let count = |a| out.events.iter().filter(|e| e.action == a).count();
    assert_eq!(
        (count(Probe), count(LoginFailure), count(LoginSuccess)),
        (4, 3, 1)
    );
    assert_eq!(count(Disconnect), 8);
    for e in out.events.iter().filter(|e| e.action == Probe) {
        assert_eq!(e.user, None);
        assert_eq!(e.error_code.as_deref(), Some("1156"));
        assert_eq!(e.client_ip, Some("127.0.0.1".parse().unwrap()));
    }
    for e in out.events.iter().filter(|e| e.action == LoginFailure) {
        assert_eq!(e.user.as_deref(), Some("app"));
        assert_eq!(e.error_code.as_deref(), Some("1045"));
    }
    let ok = out
        .events
        .iter()
        .find(|e| e.action == LoginSuccess)
        .unwrap();
    assert_eq!((ok.line, ok.session_id.as_deref()), (15, Some("18")));
}

#[test]
fn local_time_uses_the_configured_offset() {
    let mut cfg = ParseConfig::new("a");
    cfg.local_offset = FixedOffset::east_opt(3600).unwrap();
    let out = run_cfg(
        b"20261128 15:42:14,vm,app,127.0.0.1,12,0,CONNECT,,,0\n",
        &cfg,
    );
    assert_eq!(rfc3339(&out.events[0]), "2026-11-28T14:42:14Z");
}

#[test]
fn rds_connection_type_and_aurora_epoch() {
    let out = run(
        b"20230803 22:47:27,ip-172-21-4-250,admin,10.0.0.5,27,0,CONNECT,,,0,4\n\
20230803 22:47:28,ip-172-21-4-250,admin,10.0.0.5,27,3,QUERY,db,'select 1, 2',0,1\n\
20230803 22:47:29,ip-172-21-4-250,admin,10.0.0.5,27,0,DISCONNECT,,,0,SSL/TLS\n\
20230803 22:47:29,ip-172-21-4-250,rdsadmin,localhost,28,0,CONNECT,mysql,,0,Socket\n\
1728498527380921,auora-mysql-node1,user_1,172.31.49.222,147189,0,FAILED_CONNECT,,,1045\n\
1728498527380940,auora-mysql-node1,user_1,172.31.49.222,147189,0,DISCONNECT,,,0\n",
    );
    assert_eq!(out.problems, vec![]);
    let e = &out.events;
    assert_eq!((e[0].action, e[0].tls), (LoginSuccess, Some(true)));
    assert_eq!(
        (e[1].action, e[1].tls, text(&e[1])),
        (Statement, Some(false), "select 1, 2")
    );
    assert_eq!(e[2].tls, Some(true));
    assert_eq!(e[3].client_host.as_deref(), Some("localhost"));
    assert_eq!(e[3].tls, Some(false));
    assert_eq!(e[4].action, LoginFailure);
    assert_eq!(rfc3339(&e[4]), "2024-10-09T18:28:47.380921Z");
    assert_eq!(e[4].user.as_deref(), Some("user_1"));
    assert_eq!(e[4].client_ip, Some("172.31.49.222".parse().unwrap()));
    assert_eq!(e[4].session_id.as_deref(), Some("147189"));
    assert_eq!(e[5].action, Disconnect);
}

#[test]
fn query_over_three_lines_with_commas_and_escaped_quotes() {
    let input = b"20261128 15:42:10,vm,app,10.0.0.7,5,0,CONNECT,shop,,0\n\
20261128 15:42:10,vm,app,10.0.0.7,5,9,QUERY,shop,'SELECT a, b\n\
FROM t WHERE name = \\'O\\'\\'Brien, x\\',0\n  AND c = \\'\\\\\\',1',1064\n\
20261128 15:42:11,vm,app,10.0.0.7,5,0,DISCONNECT,shop,,0\n";
    let out = run(input);
    assert_eq!(out.problems, vec![]);
    assert_eq!(out.events.len(), 3);
    let q = &out.events[1];
    assert_eq!((q.action, q.line), (Statement, 2));
    assert_eq!(
        text(q),
        "SELECT a, b\nFROM t WHERE name = 'O''Brien, x',0\n  AND c = '\\',1"
    );
    assert_eq!(q.error_code.as_deref(), Some("1064"));
    assert_eq!(
        q.statement.as_deref().unwrap().class,
        Some(StatementClass::Read)
    );
    assert_eq!((out.events[2].action, out.events[2].line), (Disconnect, 5));
    // The same, fed one byte at a time.
    let mut p = Lines::new(AuditParser::new(&ParseConfig::new("audit.log")));
    let mut out2 = Output::new();
    for b in input.chunks(1) {
        p.push(b, &mut out2);
    }
    p.finish(&mut out2);
    assert_eq!(out2.events, out.events);
}

#[test]
fn table_events() {
    let out = run(
        b"20261128 15:42:10,vm,app,127.0.0.1,5,9,READ,shop,customers,\n\
20261128 15:42:10,vm,app,127.0.0.1,5,10,WRITE,shop,orders,\n\
20261128 15:42:10,vm,app,127.0.0.1,5,11,RENAME,shop,a|shop.b,\n\
20261128 15:42:10,vm,app,127.0.0.1,5,12,QUERY_DDL,shop,'DROP TABLE a',0\n",
    );
    assert_eq!(out.problems, vec![]);
    let st: Vec<_> = out
        .events
        .iter()
        .map(|e| {
            let s = e.statement.as_deref().unwrap();
            (
                s.class.unwrap(),
                s.command.clone().unwrap(),
                s.object.clone(),
            )
        })
        .collect();
    assert_eq!(
        st,
        vec![
            (
                StatementClass::Read,
                "READ".into(),
                Some("shop.customers".into())
            ),
            (
                StatementClass::Write,
                "WRITE".into(),
                Some("shop.orders".into())
            ),
            (
                StatementClass::Ddl,
                "RENAME".into(),
                Some("shop.a|shop.b".into())
            ),
            (StatementClass::Ddl, "DROP TABLE".into(), None),
        ]
    );
}

#[test]
fn mariadb_12_host_and_port() {
    let out = run(
        b"20261128 15:42:14,vm,app,10.0.0.5:51234,12,0,FAILED_CONNECT,,,1045\n\
20261128 15:42:14,vm,app,::1:51235,13,0,CONNECT,,,0\n",
    );
    assert_eq!(out.problems, vec![]);
    assert_eq!(out.events[0].client_ip, Some("10.0.0.5".parse().unwrap()));
    assert_eq!(out.events[0].client_port, Some(51234));
    assert_eq!(out.events[1].client_ip, Some("::1".parse().unwrap()));
    assert_eq!(out.events[1].client_port, Some(51235));
}

#[test]
fn syslog_variants() {
    let mut cfg = ParseConfig::new("a");
    cfg.syslog_year = Some(2026);
    let out = run_cfg(
        b"Nov 28 15:42:14 vm mysql-server_auditing:  vm,app,127.0.0.1,12,0,FAILED_CONNECT,,,1045\n\
Nov 28 15:42:15 vm mysql-server_auditing: prod-1 vm,app,127.0.0.1,13,7,QUERY,shop,'SELECT 1',0\n\
2026-11-28T15:42:16.250+01:00 vm mysql-server_auditing:  vm,,10.1.1.1,14,0,FAILED_CONNECT,,,1043\n\
<134>1 2026-11-28T15:42:17Z vm mysql-server_auditing - - -  vm,app,127.0.0.1,15,0,DISCONNECT,,,0\n\
Jan  2 00:00:01 vm mysql-server_auditing:  vm,app,127.0.0.1,16,0,CONNECT,,,0\n",
        &cfg,
    );
    assert_eq!(out.problems, vec![]);
    let got: Vec<_> = out.events.iter().map(|e| (e.action, rfc3339(e))).collect();
    assert_eq!(
        got,
        vec![
            (LoginFailure, "2026-11-28T15:42:14Z".into()),
            (Statement, "2026-11-28T15:42:15Z".into()),
            (Probe, "2026-11-28T14:42:16.250Z".into()),
            (Disconnect, "2026-11-28T15:42:17Z".into()),
            (LoginSuccess, "2027-01-02T00:00:01Z".into()),
        ]
    );
    assert_eq!(text(&out.events[1]), "SELECT 1");
}

#[test]
fn client_chosen_user_names_cannot_move_fields() {
    let out = run(
        b"20261128 15:42:14,vm,a,b,c,10.0.0.9,40,0,FAILED_CONNECT,,,1045\n\
20261128 15:42:14,vm,x,1.2.3.4,5,6,QUERY,db,',10.0.0.1,77,0,FAILED_CONNECT,,,1045\n\
20261128 15:42:15,vm,app,10.0.0.1,78,0,CONNECT,,,0\n",
    );
    assert_eq!(out.problems, vec![]);
    let e = &out.events;
    assert_eq!(
        (e[0].action, e[0].user.as_deref()),
        (LoginFailure, Some("a,b,c"))
    );
    assert_eq!(e[0].client_ip, Some("10.0.0.9".parse().unwrap()));
    assert_eq!(e[1].action, LoginFailure);
    assert_eq!(e[1].user.as_deref(), Some("x,1.2.3.4,5,6,QUERY,db,'"));
    assert_eq!(e[1].client_ip, Some("10.0.0.1".parse().unwrap()));
    assert_eq!(e[1].session_id.as_deref(), Some("77"));
    assert_eq!(e[2].action, LoginSuccess);
}

#[test]
fn an_open_quote_ends_at_the_next_record_or_the_end() {
    let out = run(
        b"20261128 15:42:14,vm,app,10.0.0.1,5,6,QUERY,db,'SELECT \\'\n\
more text\n\
20261128 15:42:15,vm,app,10.0.0.1,5,0,DISCONNECT,,,0\n\
20261128 15:42:16,vm,app,10.0.0.1,6,7,QUERY,db,'SELECT 2\n\
and never closed\n",
    );
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].action, Disconnect);
    assert_eq!(
        out.problems,
        vec![
            Problem {
                line: 1,
                reason: "quoted object not closed before the next record".into(),
                lines: 2
            },
            Problem {
                line: 4,
                reason: "quoted object not closed at end of input".into(),
                lines: 2
            },
        ]
    );
}

#[test]
fn an_open_quote_is_bounded() {
    let mut input = b"20261128 15:42:14,vm,app,10.0.0.1,5,6,QUERY,db,'SELECT\n".to_vec();
    for _ in 0..MAX_RECORD_LINES + 2 {
        input.extend_from_slice(b"x\n");
    }
    let out = run(&input);
    assert_eq!(out.problems[0].line, 1);
    assert_eq!(out.problems[0].lines, MAX_RECORD_LINES);
    assert_eq!(out.unrecognized_lines(), MAX_RECORD_LINES + 3);
    let mut big = b"20261128 15:42:14,vm,app,10.0.0.1,5,6,QUERY,db,'SELECT\n".to_vec();
    for _ in 0..3 {
        big.extend(std::iter::repeat_n(b'y', 600_000));
        big.push(b'\n');
    }
    let out = run(&big);
    assert_eq!((out.problems[0].line, out.problems[0].lines), (1, 2));
}

#[test]
fn other_lines_are_unrecognized_and_nothing_panics() {
    let y100 = "y".repeat(100);
    let input = format!(
        "hello world\n2026-11-28 15:42:04 0 [Note] x\n\
20261128 15:42:14,vm,app\n{y100}\n"
    );
    let mut input = input.into_bytes();
    input.extend_from_slice(
        b"20261128 15:42:14,vm,\xff\xfe,1.2.3.4,9,0,FAILED_CONNECT,,,1045\n\
20261128 15:42:14,vm,app,1.2.3.4,9,1,QUERY,db,'\xc3\x28 \\\\',0\n\
20261128 15:42:14,vm,app,1.2.3.4,x,0,CONNECT,,,0",
    );
    let out = run(&input);
    // Line 3 stops in the user name and line 4 is longer than a name: both unread (and
    // line 4, after a half it did not complete, is not held itself). Line 7 may be the
    // start of a record cut in a name, but nothing completes it.
    let lines: Vec<(u64, u64)> = out.problems.iter().map(|p| (p.line, p.lines)).collect();
    assert_eq!(lines, vec![(1, 1), (2, 1), (3, 1), (4, 1), (7, 1)]);
    assert_eq!(out.events[0].user.as_deref(), Some("\u{fffd}\u{fffd}"));
    assert_eq!(text(&out.events[1]), "\u{fffd}( \\");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let alphabet = b"20261128 15:4,',\\\nQUERYCONNECT\xff";
    for _ in 0..200 {
        let mut input = Vec::new();
        for _ in 0..300 {
            seed = crate::testutil::xorshift(seed);
            input.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let _ = run(&input);
    }
}

#[test]
fn sniffing() {
    let s = |b: &[u8]| sniff(&Sample::new(b, true));
    assert_eq!(
        s(include_bytes!(
            "../../../tests/data/mysql/mariadb-hydra-bruteforce-audit.log"
        )),
        100
    );
    assert_eq!(
        s(include_bytes!(
            "../../../tests/data/mysql/mariadb-error.log"
        )),
        0
    );
    assert_eq!(
        s(b"1728498527380921,n1,u,172.31.49.222,1,0,FAILED_CONNECT,,,1045"),
        100
    );
    // Only records cut by a line break in the user name: each pair is one record.
    let capture =
        include_bytes!("../../../tests/data/mysql/mariadb-injection-line-break-server_audit.log");
    let cut: Vec<&[u8]> = capture.split(|&b| b == b'\n').skip(14).take(12).collect();
    assert_eq!(s(&cut.join(&b'\n')), 100);
    // A lone half is not a record.
    assert_eq!(s(cut[0]), 0);
}

/// Throughput on a mix of records like a busy application's: `cargo test --release
/// -p keibi-parse -- --ignored --nocapture audit_throughput`.
#[test]
#[ignore]
fn audit_throughput() {
    let lines: [&[u8]; 8] = [
            b"20261128 03:00:00,ip-10-0-2-17,app,10.0.1.48,66828,1270284,QUERY,shop,'SELECT id, email, name, created_at FROM order_items WHERE id = 548500',0\n",
            b"20261128 03:00:00,ip-10-0-2-17,app,10.0.1.58,66834,1270287,QUERY,shop,'INSERT INTO customers (name, email, note) VALUES (\\'M\xc3\xbcller\\', \\'u769638@example.com\\', \\'prefers email, not phone\\')',0\n",
            b"20261128 03:00:00,ip-10-0-2-17,app,10.0.3.59,66844,1270281,QUERY,shop,'select @@version_comment limit 1',0\n",
            b"20261128 03:00:00,ip-10-0-2-17,reporting,91.76.116.202,66831,1270283,QUERY,shop,'SHOW DATABASES',0\n",
            b"20261128 03:00:01,ip-10-0-2-17,app,10.0.1.22,66847,1270286,QUERY,shop,'UPDATE orders SET status = \\'shipped\\' WHERE id = 750389',0\n",
            b"20261128 03:00:01,ip-10-0-2-17,app,10.0.1.22,66850,0,CONNECT,shop,,0\n",
            b"20261128 03:00:01,ip-10-0-2-17,app,10.0.1.22,66847,0,DISCONNECT,shop,,0\n",
            b"20261128 03:00:01,ip-10-0-2-17,admin,203.0.113.7,66851,0,FAILED_CONNECT,,,1045\n",
        ];
    let mut input = Vec::new();
    while input.len() < 128 << 20 {
        for l in lines {
            input.extend_from_slice(l);
        }
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut p = Lines::new(AuditParser::new(&ParseConfig::new("a")));
        let mut out = Output::new();
        let mut secs = 0.0;
        // Only the parser is timed: dropping the events is the consumer's work.
        for c in input.chunks(1 << 20) {
            let start = crate::testutil::cpu_seconds();
            p.push(c, &mut out);
            secs += crate::testutil::cpu_seconds() - start;
            assert!(out.problems.is_empty());
            out.events.clear();
        }
        best = best.min(secs);
    }
    println!(
        "server_audit: {:.0} MB/s of CPU time over {} MiB",
        input.len() as f64 / best / 1e6,
        input.len() >> 20
    );
}

/// server_audit as a real MariaDB 10.11 wrote it for hostile user names and SQL
/// (issue 10): commas and quotes in a user name do not move the fields after it (read
/// from the right), names holding the log's delimiters are marked, and a forged record
/// inside a statement's text stays that statement's text.
#[test]
fn hostile_names_and_sql_from_a_real_server() {
    let out = run(include_bytes!(
        "../../../tests/data/mysql/mariadb-injection-server_audit.log"
    ));
    let failures: Vec<(&str, bool)> = out
        .events
        .iter()
        .filter(|e| e.action == LoginFailure)
        .map(|e| (e.user.as_deref().unwrap_or(""), e.injection.is_some()))
        .collect();
    assert_eq!(
        failures,
        vec![
            ("root'@'10.9.9.9' (using password: YES)", true),
            (
                "evil\n2026-12-06  7:00:00 9 [Warning] Access denied for user",
                true
            ),
            ("a,b,\"c", false),
            ("app',root,10.9.9.9,1,2,QUERY,shop,'DROP TABLE t", true),
        ]
    );
    for e in &out.events {
        assert_ne!(e.client_ip, Some("10.9.9.9".parse().unwrap()), "{e:?}");
        // root only ever connected over the socket (the set-up).
        if e.user.as_deref() == Some("root") {
            assert_eq!(e.client_host.as_deref(), Some("localhost"), "{e:?}");
        }
    }
    let forged = out
        .events
        .iter()
        .filter_map(|e| e.statement.as_deref())
        .find(|s| s.text.contains("DROP TABLE orders"))
        .expect("the SQL holding a forged record");
    assert!(forged.text.starts_with("select 'x"), "{}", forged.text);
    // The user name with a line break splits its two records over four lines: each
    // pair is one record.
    assert_eq!(out.problems, vec![]);
}

/// A real MariaDB 10.11's server_audit for user names with a line break and a forged
/// record after it (issue 10): the two halves of each record are one record, the
/// failure (and disconnection) it was, at the first half's time.
#[test]
fn line_break_names_from_a_real_server() {
    let input =
        include_bytes!("../../../tests/data/mysql/mariadb-injection-line-break-server_audit.log");
    let out = run(input);
    crate::mysql::text::check_line_break_capture(&out);
    // Through the format switching a scan uses: no format change.
    let cfg = ParseConfig::new("x.log");
    let switched = crate::testutil::parse_bytes(crate::Format::MysqlAudit, &cfg, input, 4096);
    crate::mysql::text::check_line_break_capture(&switched);
    let disconnects = out.events.iter().filter(|e| e.action == Disconnect).count();
    assert_eq!(disconnects, 9, "root, app and the seven refused names");
}

/// A name with two line breaks (as MariaDB writes it): the lines up to the server's
/// fields are the name's, however many, within a name's length.
#[test]
fn a_name_with_two_line_breaks_is_one_record() {
    let out = run(b"20261206 08:14:09,vm,a\n\
x\n\
20260101 03:00:00,vm,root,127.0.0.1,6,0,FAILED_CONNECT,,,1045\n\
20261206 08:14:09,vm,a\n\
x\n\
20260101 03:00:00,vm,root,127.0.0.1,6,0,DISCONNECT,,,0\n");
    assert_eq!(out.problems, vec![]);
    let got: Vec<_> = out
        .events
        .iter()
        .map(|e| (e.line, e.action, rfc3339(e)))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, LoginFailure, "2026-12-06T08:14:09Z".into()),
            (4, Disconnect, "2026-12-06T08:14:09Z".into())
        ]
    );
    assert_eq!(
        out.events[0].user.as_deref(),
        Some("a\nx\n20260101 03:00:00,vm,root")
    );
    assert!(out.events.iter().all(|e| e.injection.is_some()));
    // More lines than a name can hold: the half and its lines are unread, and what
    // follows is read on its own.
    let mut long = b"20261206 08:14:09,vm,a\n".to_vec();
    for _ in 0..100 {
        long.extend_from_slice(b"x\n");
    }
    long.extend_from_slice(b"20261206 08:14:10,vm,app,127.0.0.1,7,0,CONNECT,shop,,0\n");
    let out = run(&long);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].line, 102);
    assert_eq!(out.unrecognized_lines(), 101);
}
