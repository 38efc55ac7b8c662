use super::*;
use crate::testutil::rfc3339;

use keibi_model::event::StatementClass;
use keibi_model::Action::*;

fn run_cfg(input: &[u8], cfg: &ParseConfig) -> Output {
    crate::testutil::run_lines(GeneralLogParser::new(cfg), input)
}

fn run(input: &[u8]) -> Output {
    run_cfg(input, &ParseConfig::new("general.log"))
}

fn text(e: &Event) -> &str {
    e.statement.as_ref().map_or("", |s| s.text.as_str())
}

const MYSQL8: &[u8] = b"/usr/sbin/mysqld, Version: 8.0.35 (MySQL Community Server - GPL). started with:\n\
Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n\
Time                 Id Command    Argument\n\
2026-11-28T15:42:10.123456Z\t   12 Connect\tapp@10.0.0.5 on shop using SSL/TLS\n\
2026-11-28T15:42:10.223456Z\t   12 Query\tSELECT id, name\n\
FROM customers\n\
WHERE id = 1\n\
2026-11-28T15:42:10.323456Z\t   12 Init DB\tbilling\n\
2026-11-28T15:42:10.423456Z\t   12 Execute\tUPDATE invoices SET paid = 1 WHERE id = 7\n\
2026-11-28T15:42:10.523456Z\t   12 Quit\t\n\
2023-07-31T08:34:16.116872Z        14 Connect   Access denied for user 'user'@'192.168.121.1' (using password: YES)\n\
2026-11-28T15:42:11.000000Z\t   15 Connect\troot@localhost on  using Socket\n\
2026-11-28T15:42:11.100000Z\t   15 Ping\t\n";

#[test]
fn mysql_8_general_log() {
    let out = run(MYSQL8);
    assert_eq!(out.problems, vec![]);
    let got: Vec<_> = out.events.iter().map(|e| (e.line, e.action)).collect();
    assert_eq!(
        got,
        vec![
            (4, LoginSuccess),
            (5, Statement),
            (8, Other),
            (9, Statement),
            (10, Disconnect),
            (11, LoginFailure),
            (12, LoginSuccess),
            (13, Other)
        ]
    );
    let e = &out.events;
    assert_eq!(e[0].user.as_deref(), Some("app"));
    assert_eq!(e[0].client_ip, Some("10.0.0.5".parse().unwrap()));
    assert_eq!(e[0].database.as_deref(), Some("shop"));
    assert_eq!(e[0].tls, Some(true));
    assert_eq!(e[0].session_id.as_deref(), Some("12"));
    assert_eq!(rfc3339(&e[0]), "2026-11-28T15:42:10.123456Z");
    assert_eq!(text(&e[1]), "SELECT id, name\nFROM customers\nWHERE id = 1");
    assert_eq!(e[1].user.as_deref(), Some("app"), "the session's user");
    assert_eq!(e[1].client_ip, Some("10.0.0.5".parse().unwrap()));
    assert_eq!(e[2].database.as_deref(), Some("billing"));
    assert_eq!(e[2].message.as_deref(), Some("Init DB"));
    assert_eq!(
        e[3].database.as_deref(),
        Some("billing"),
        "Init DB changed it"
    );
    assert_eq!(
        e[3].statement.as_deref().unwrap().class,
        Some(StatementClass::Write)
    );
    assert_eq!(e[3].message.as_deref(), Some("Execute"));
    assert_eq!(e[4].user.as_deref(), Some("app"));
    assert_eq!(e[5].user.as_deref(), Some("user"));
    assert_eq!(e[5].client_ip, Some("192.168.121.1".parse().unwrap()));
    assert_eq!(e[5].error_code.as_deref(), Some("1045"));
    assert_eq!((e[6].database.as_deref(), e[6].tls), (None, Some(false)));
    assert_eq!(e[6].client_host.as_deref(), Some("localhost"));
    assert_eq!(e[7].message.as_deref(), Some("Ping"));
}

#[test]
fn mariadb_general_log_carries_the_time_forward() {
    let mut cfg = ParseConfig::new("general.log");
    cfg.local_offset = FixedOffset::east_opt(3600).unwrap();
    let input = b"\t\t     11 Query\tSELECT 0\n\
/usr/sbin/mariadbd, Version: 10.11.6-MariaDB-0+deb12u1-log (Debian 12). started with:\n\
Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\n\
Time\t\t    Id Command\tArgument\n\
261128 15:42:10\t     12 Connect\tapp@localhost as anonymous on shop\n\
\t\t     12 Query\tSELECT 1\n\
\t\tFROM dual\n\
\t\t     13 Connect\tAccess denied for user 'x'@'localhost' (using password: YES)\n\
261128  9:42:11\t     12 Quit\t\n";
    let out = run_cfg(input, &cfg);
    assert_eq!(out.problems, vec![]);
    let got: Vec<_> = out
        .events
        .iter()
        .map(|e| (e.line, e.action, rfc3339(e)))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Statement, "2026-11-28T14:42:10Z".into()),
            (5, LoginSuccess, "2026-11-28T14:42:10Z".into()),
            (6, Statement, "2026-11-28T14:42:10Z".into()),
            (8, LoginFailure, "2026-11-28T14:42:10Z".into()),
            (9, Disconnect, "2026-11-28T08:42:11Z".into()),
        ]
    );
    let e = &out.events;
    assert_eq!(
        (e[1].user.as_deref(), e[1].database.as_deref()),
        (Some("app"), Some("shop"))
    );
    assert_eq!(text(&e[2]), "SELECT 1\n\t\tFROM dual");
    assert_eq!(e[2].user.as_deref(), Some("app"));
    assert_eq!(e[3].user.as_deref(), Some("x"));
}

#[test]
fn a_denied_connect_is_a_failure_not_a_success() {
    // As MariaDB 10.11 writes a wrong password (captured by the real-server tests).
    let out = run(
        b"261130 20:57:50\t     5 Connect\tapp@127.0.0.1 on shop using TCP/IP\n\
\t\t     5 Connect\tAccess denied for user 'app'@'127.0.0.1' (using password: YES)\n\
\t\t     6 Connect\tapp@127.0.0.1 on shop using TCP/IP\n\
\t\t     6 Query\tSELECT 1\n\
\t\t     7 Connect\tapp@127.0.0.1 on shop using TCP/IP\n",
    );
    let actions: Vec<_> = out
        .events
        .iter()
        .map(|e| (e.action, e.session_id.clone().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            (LoginFailure, "5".into()),
            (LoginSuccess, "6".into()),
            (Statement, "6".into()),
            (LoginSuccess, "7".into()),
        ]
    );
    assert_eq!(out.events[0].error_code.as_deref(), Some("1045"));
    assert_eq!(out.events[0].line, 2);
    assert_eq!(out.events[2].user.as_deref(), Some("app"));
}

/// A real MariaDB 10.11's general log for user names with a line break and a forged
/// record after it (issue 10): a Connect cut inside the name is joined with the next
/// line whatever it looks like, so the forged half never is a login, a time or a
/// format change, and the attempt is the failure it was.
#[test]
fn line_break_names_from_a_real_server() {
    let input =
        include_bytes!("../../../tests/data/mysql/mariadb-injection-line-break-general.log");
    let out = run(input);
    crate::mysql::text::check_line_break_capture(&out);
    // Through the format switching a scan uses: no format change.
    let cfg = ParseConfig::new("general.log");
    let out = crate::testutil::parse_bytes(crate::Format::MysqlGeneral, &cfg, input, 4096);
    crate::mysql::text::check_line_break_capture(&out);
}

/// A name with two line breaks (as MariaDB writes it): the lines up to the server's
/// `@host on` and `'@'host'` are the name's, however many, within a name's length.
#[test]
fn a_name_with_two_line_breaks_is_one_failure() {
    let out = run(
        b"261206  8:14:09\t     3 Connect\troot@localhost on  using Socket\n\
\t\t     6 Connect\ta\n\
x\n\
260101  3:00:00\t    99 Connect\troot@127.0.0.1 on  using TCP/IP\n\
\t\t     6 Connect\tAccess denied for user 'a\n\
x\n\
260101  3:00:00\t    99 Connect\troot'@'127.0.0.1' (using password: YES)\n\
\t\t     3 Quit\t\n",
    );
    assert_eq!(out.problems, vec![]);
    let got: Vec<_> = out
        .events
        .iter()
        .map(|e| (e.line, e.action, rfc3339(e)))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, LoginSuccess, "2026-12-06T08:14:09Z".into()),
            (5, LoginFailure, "2026-12-06T08:14:09Z".into()),
            (8, Disconnect, "2026-12-06T08:14:09Z".into()),
        ]
    );
    let e = &out.events[1];
    assert_eq!(
        e.user.as_deref(),
        Some("a\nx\n260101  3:00:00\t    99 Connect\troot")
    );
    assert_eq!(e.client_ip, Some("127.0.0.1".parse().unwrap()));
    assert!(e.injection.is_some());
}

/// A name that completes a Connect argument before a further line break: the line
/// after it is read as a record of its own, but when the failure quoting the whole
/// name comes, that record is known to be a line of the name: no login, and the
/// time it wrote is not carried on.
#[test]
fn a_connect_forged_inside_a_name_is_no_login() {
    let out = run(
        b"261206  8:14:09\t     3 Connect\troot@localhost on  using Socket\n\
\t\t     6 Connect\ta\n\
x@h on \n\
260101  3:00:00\t    99 Connect\troot@127.0.0.1 on  using TCP/IP\n\
\t\t     6 Connect\tAccess denied for user 'a\n\
x@h on \n\
260101  3:00:00\t    99 Connect\troot'@'127.0.0.1' (using password: YES)\n\
\t\t     3 Quit\t\n",
    );
    assert_eq!(out.problems, vec![]);
    let got: Vec<_> = out
        .events
        .iter()
        .map(|e| (e.line, e.action, rfc3339(e), e.injection.is_some()))
        .collect();
    let t = "2026-12-06T08:14:09Z".to_string();
    assert_eq!(
        got,
        vec![
            (1, LoginSuccess, t.clone(), false),
            // The attempt's own Connect, as the name claims it (marked).
            (2, LoginSuccess, t.clone(), true),
            (5, LoginFailure, t.clone(), true),
            (8, Disconnect, t, false),
        ]
    );
    assert_eq!(out.events[2].client_ip, Some("127.0.0.1".parse().unwrap()));
}

#[test]
fn connect_arguments_split_at_the_servers_host() {
    let split = |a| connect_account(a).map(|(u, h, _)| (u, h));
    assert_eq!(
        split("ops@example.com@127.0.0.1 on  using TCP/IP"),
        Some(("ops@example.com", "127.0.0.1"))
    );
    assert_eq!(
        split("app@localhost as anonymous on shop"),
        Some(("app", "localhost"))
    );
    assert_eq!(
        split("a b\nc'@'x@10.0.0.1 on db using TCP/IP"),
        Some(("a b\nc'@'x", "10.0.0.1"))
    );
    assert_eq!(split("evil"), None, "cut inside the name");
    assert_eq!(split("a@b"), None);
}

#[test]
fn records_with_no_timestamp_at_all_are_reported() {
    let out = run(b"\t\t     11 Query\tSELECT 0\n\t\t     11 Quit\t\n");
    assert_eq!(out.events, vec![]);
    assert_eq!(out.unrecognized_lines(), 2);
}

#[test]
fn other_formats_are_unrecognized() {
    let out = run(b"garbage\n\
2026-11-28 15:42:04 0 [Note] InnoDB: x\n\
130324 17:56:14 [Warning] Access denied for user 'root'@'1.2.3.4' (using password: YES)\n\
20261128 15:42:14,vm,app,127.0.0.1,12,0,FAILED_CONNECT,,,1045\n\
2026-11-28T15:42:10.123456Z\t   12 Query\tSELECT 1\n\
more of the query\n\
\xff\xfe\n\
2026-11-28T15:42:10.223456Z\t   12 Query\tINSERT INTO t VALUES (1,\n\
123456 , 2),\n\
20261128, 3)\n\
Nov 28 15:41:22 host postgres[123]: [1-1] LOG:  connection received\n");
    let lines: Vec<u64> = out.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![1, 2, 3, 4, 11]);
    assert_eq!(out.events.len(), 2);
    assert_eq!(
        text(&out.events[0]),
        "SELECT 1\nmore of the query\n\u{fffd}\u{fffd}"
    );
    assert_eq!(
        text(&out.events[1]),
        "INSERT INTO t VALUES (1,\n123456 , 2),\n20261128, 3)"
    );
}

#[test]
fn sessions_are_bounded() {
    let mut p = GeneralLogParser::new(&ParseConfig::new("g"));
    let mut out = Output::new();
    for id in 0..(MAX_SESSIONS as u64 + 10) {
        let line = format!("2026-11-28T15:42:10Z\t{id} Connect\tu@h on d");
        p.line(line.as_bytes(), id + 1, &mut out);
    }
    p.finish(&mut out);
    assert_eq!(p.sessions.len(), MAX_SESSIONS);
    assert!(!p.sessions.contains_key(&0), "the oldest are forgotten");
}

#[test]
fn sniffing() {
    let s = |b: &[u8]| sniff(&Sample::new(b, true));
    assert_eq!(s(MYSQL8), 84);
    assert_eq!(
        s(b"261128 15:42:10\t     12 Connect\tapp@localhost as anonymous on shop"),
        100
    );
    assert_eq!(s(b"2023-07-31T08:34:16.116872Z        14 Connect   Access denied for user 'user'@'192.168.121.1' (using password: YES)"), 100);
    assert_eq!(
        s(include_bytes!(
            "../../../tests/data/mysql/mariadb-error.log"
        )),
        0
    );
    assert_eq!(
        s(include_bytes!(
            "../../../tests/data/mysql/mariadb-server_audit.log"
        )),
        0
    );
}

#[test]
fn hostile_bytes_do_not_panic() {
    let mut seed = 0x0f1e_2d3c_4b5a_6978u64;
    let alphabet = b"261128 15:42:10\t 12Connect Query@\n\xff'Access denied";
    for _ in 0..300 {
        let mut input = Vec::new();
        for _ in 0..200 {
            seed = crate::testutil::xorshift(seed);
            input.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let _ = run(&input);
    }
}
