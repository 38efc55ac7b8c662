//! Tests of the MySQL/MariaDB error log parser.

use super::*;
use crate::testutil::rfc3339;
use crate::Problem;
use keibi_model::Action::*;
use std::net::IpAddr;

fn run_cfg(input: &[u8], cfg: &ParseConfig) -> Output {
    crate::testutil::run_lines(ErrorLogParser::new(cfg), input)
}

fn run(input: &[u8]) -> Output {
    run_cfg(input, &ParseConfig::new("error.log"))
}

#[test]
fn mariadb_sample_every_line_read() {
    let out = run(include_bytes!(
        "../../../tests/data/mysql/mariadb-error.log"
    ));
    assert_eq!(out.problems, vec![]);
    assert_eq!(out.events.len(), 35);
    let first = &out.events[0];
    assert_eq!((first.action, first.line), (Other, 1));
    assert_eq!(
        first.message.as_deref(),
        Some("server_audit: MariaDB Audit Plugin version 1.4.14 STARTED.")
    );
    assert_eq!(rfc3339(first), "2026-11-28T15:42:04Z");
    let banner = out.events.iter().find(|e| e.line == 31).unwrap();
    assert_eq!(banner.action, Other);
    assert!(banner
        .message
        .as_deref()
        .unwrap()
        .starts_with("Version: '10.11.19-MariaDB"));
    assert_eq!(rfc3339(banner), "2026-11-28T15:42:04Z");
    let failures: Vec<_> = out
        .events
        .iter()
        .filter(|e| e.action == LoginFailure)
        .map(|e| {
            (
                e.line,
                e.user.as_deref().unwrap(),
                e.client_ip.unwrap().to_string(),
                e.error_code.as_deref().unwrap(),
                e.database.as_deref(),
                e.session_id.as_deref().unwrap(),
                e.level.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        vec![
            (33, "app", "127.0.0.1".into(), "1045", None, "6", "Warning"),
            (
                34,
                "nosuchuser",
                "127.0.0.1".into(),
                "1045",
                None,
                "7",
                "Warning"
            ),
            (
                35,
                "app",
                "127.0.0.1".into(),
                "1044",
                Some("nosuchdb"),
                "9",
                "Warning"
            ),
        ]
    );
    assert_eq!(
        out.events[3].session_id, None,
        "thread 0 is the server itself"
    );
    assert_eq!(out.events[3].level.as_deref(), Some("Note"));
}

#[test]
fn hydra_sample_probes_and_failures() {
    let out = run(include_bytes!(
        "../../../tests/data/mysql/mariadb-hydra-bruteforce-error.log"
    ));
    assert_eq!(out.problems, vec![]);
    assert_eq!(out.events.len(), 13);
    let count = |a| out.events.iter().filter(|e| e.action == a).count();
    assert_eq!(
        (
            count(Probe),
            count(LoginFailure),
            count(Disconnect),
            count(Other)
        ),
        (4, 3, 1, 5)
    );
    let probe = &out.events[1];
    assert_eq!(probe.action, Probe);
    assert_eq!(probe.session_id.as_deref(), Some("11"));
    assert_eq!(probe.client_ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(probe.user, None);
    assert_eq!(
        probe.detail.as_deref(),
        Some("This connection closed normally without authentication")
    );
    let fail = &out.events[2];
    assert_eq!(
        (
            fail.action,
            fail.user.as_deref(),
            fail.error_code.as_deref()
        ),
        (LoginFailure, Some("app"), Some("1045"))
    );
    let bye = &out.events[12];
    assert_eq!(
        (bye.action, bye.user.as_deref(), bye.database.as_deref()),
        (Disconnect, Some("app"), None)
    );
    assert_eq!(
        bye.detail.as_deref(),
        Some("Got an error reading communication packets")
    );
    assert_eq!(
        out.events[0].message.as_deref(),
        Some("mariadbd: Got packets out of order")
    );
    assert_eq!(out.events[0].level.as_deref(), Some("ERROR"));
}

#[test]
fn mysql_8_and_5_7_and_old_lines() {
    let out = run(b"2019-01-03T08:50:04.634875Z 113 [Note] [MY-010926] [Server] Access denied for user 'root'@'192.0.2.1' (using password: NO)\n\
2020-04-16T05:13:40.861934Z 344 [Note] Access denied for user 'root'@'27.155.87.54' (using password: YES)\n\
2021-11-09  5:13:12 8 [Warning] Access denied for user 'example-user'@'172.17.0.1' (using password: YES)\n\
130324  7:56:14 [Warning] Access denied for user 'root'@'61.160.223.112' (using password: YES)\n\
2023-01-01T10:00:00.000000+02:00 12 [Warning] [MY-010055] [Server] IP address '10.9.9.9' could not be resolved: Name or service not known\n\
2023-01-01T10:00:01.000000Z 14 [Note] [MY-010914] [Server] Aborted connection 14 to db: 'unconnected' user: 'unauthenticated' host: '10.9.9.9' (Got an error reading communication packets).\n\
2023-01-01T10:00:02Z 15 [Warning] Host 'scanner.example' is blocked because of many connection errors; unblock with 'mysqladmin flush-hosts'\n");
    assert_eq!(out.problems, vec![]);
    let e = &out.events;
    assert_eq!(
        (e[0].action, e[0].error_code.as_deref()),
        (LoginFailure, Some("1045"))
    );
    assert_eq!(e[0].client_ip, Some("192.0.2.1".parse().unwrap()));
    assert_eq!(e[0].session_id.as_deref(), Some("113"));
    assert_eq!(e[0].level.as_deref(), Some("Note"));
    assert_eq!(
        e[0].message.as_deref(),
        Some("Access denied for user 'root'@'192.0.2.1' (using password: NO)")
    );
    assert_eq!(rfc3339(&e[0]), "2019-01-03T08:50:04.634875Z");
    assert_eq!(
        (e[1].action, e[1].user.as_deref()),
        (LoginFailure, Some("root"))
    );
    assert_eq!(rfc3339(&e[2]), "2021-11-09T05:13:12Z");
    assert_eq!(e[2].user.as_deref(), Some("example-user"));
    assert_eq!(
        (e[3].action, rfc3339(&e[3])),
        (LoginFailure, "2013-03-24T07:56:14Z".into())
    );
    assert_eq!(e[3].session_id, None);
    assert_eq!(
        (e[4].action, e[4].error_code.as_deref()),
        (Other, Some("MY-010055"))
    );
    assert_eq!(rfc3339(&e[4]), "2023-01-01T08:00:00Z");
    assert_eq!(
        (e[5].action, e[5].session_id.as_deref()),
        (Probe, Some("14"))
    );
    assert_eq!(
        e[5].detail.as_deref(),
        Some("Got an error reading communication packets")
    );
    assert_eq!(
        (e[6].action, e[6].error_code.as_deref()),
        (LoginFailure, Some("1129"))
    );
    assert_eq!(e[6].client_host.as_deref(), Some("scanner.example"));
}

#[test]
fn continuation_lines_go_to_the_detail() {
    let out = run(b"2026-11-28 15:42:04 0 [ERROR] mariadbd got signal 11 ;\n\
Sorry, we probably made a mistake, and this is a bug.\n\
\n\
stack_bottom = 0x0 thread_stack 0x49000\n\
/usr/sbin/mariadbd(my_print_stacktrace+0x32)[0x55d1b5a3d0b2]\n\
2026-11-28 15:42:05 0 [Note] next\n");
    assert_eq!(out.problems, vec![]);
    assert_eq!(out.events.len(), 2);
    assert_eq!(
        out.events[0].detail.as_deref(),
        Some("Sorry, we probably made a mistake, and this is a bug.\n\nstack_bottom = 0x0 thread_stack 0x49000\n/usr/sbin/mariadbd(my_print_stacktrace+0x32)[0x55d1b5a3d0b2]")
    );
    assert_eq!(out.events[1].line, 6);
}

#[test]
fn a_user_name_with_a_line_break_is_still_a_failed_login() {
    let out = run(b"2026-11-28 15:42:10 6 [Warning] Access denied for user 'ad\nmin'@'10.0.0.8' (using password: YES)\n");
    assert_eq!(out.problems, vec![]);
    let e = &out.events[0];
    assert_eq!(
        (e.action, e.user.as_deref()),
        (LoginFailure, Some("ad\nmin"))
    );
    assert_eq!(e.client_ip, Some("10.0.0.8".parse().unwrap()));
    // The line break is an attempt to forge lines (issue 10).
    let inj = e.injection.as_deref().expect("marked");
    assert_eq!(
        (inj.field.as_str(), inj.value.as_str()),
        ("user", "ad\nmin")
    );
}

/// User names as a real MariaDB 10.11 wrote them (issue 10): the host is the server's
/// (after the last `'@'`), names holding the log's delimiters or a line break are marked,
/// and a name cut by a line break whose rest looks like a record is still a failure.
#[test]
fn hostile_user_names_from_a_real_server() {
    let out = run(include_bytes!(
        "../../../tests/data/mysql/mariadb-injection-error.log"
    ));
    let failures: Vec<&keibi_model::Event> = out
        .events
        .iter()
        .filter(|e| e.action == LoginFailure)
        .collect();
    let seen: Vec<(&str, Option<String>, bool)> = failures
        .iter()
        .map(|e| {
            (
                e.user.as_deref().unwrap_or(""),
                e.client_ip.map(|i| i.to_string()),
                e.injection.is_some(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "root'@'10.9.9.9' (using password: YES)",
                Some("127.0.0.1".into()),
                true
            ),
            (
                "evil\n2026-12-06  7:00:00 9 [Warning] Access denied for user",
                Some("127.0.0.1".into()),
                true
            ),
            ("a,b,\"c", Some("127.0.0.1".into()), false),
            (
                "app',root,10.9.9.9,1,2,QUERY,shop,'DROP TABLE t",
                Some("127.0.0.1".into()),
                true
            ),
        ]
    );
}

#[test]
fn other_formats_and_orphans_are_unrecognized() {
    let out = run(b"orphan line\n\
20261128 15:42:14,vm,app,127.0.0.1,12,0,FAILED_CONNECT,,,1045\n\
2026-11-28 15:42:10 6 [Warning] ok\n\
261128 15:42:10\t     12 Connect\tapp@localhost on shop\n\
2026-11-28 15:41:22.123 UTC [123] LOG:  connection received\n\
2026-11-28 15:42:10 x [Warning] no thread\n\
\xff\xfe continuation with bad bytes\n\
2026-11-28 15:42:11 7 [Note] next\n\
Nov 28 15:41:22 host postgres[123]: [1-1] LOG:  connection received\n\
{\"timestamp\":\"2026-11-28 15:41:22.123 UTC\",\"pid\":1}\n\
2026-11-28 15:42:12 8 [Note] last\n\
\x20a real continuation\n");
    let lines: Vec<u64> = out.problems.iter().map(|p| p.line).collect();
    // Line 7 follows a foreign line, not an event of this format.
    assert_eq!(lines, vec![1, 2, 4, 5, 6, 7, 9, 10]);
    assert!(out.problems.iter().all(|p: &Problem| p.lines == 1));
    assert_eq!(out.events.len(), 3);
    assert_eq!(
        out.events[0].detail, None,
        "foreign lines end the event before them"
    );
    assert_eq!(out.events[1].detail, None);
    assert_eq!(
        out.events[2].detail.as_deref(),
        Some(" a real continuation")
    );
}

#[test]
fn sniffing() {
    let s = |b: &[u8]| sniff(&Sample::new(b, true));
    assert_eq!(
        s(include_bytes!(
            "../../../tests/data/mysql/mariadb-hydra-bruteforce-error.log"
        )),
        100
    );
    assert!(
        s(include_bytes!(
            "../../../tests/data/mysql/mariadb-error.log"
        )) >= 90
    );
    assert_eq!(
        s(include_bytes!(
            "../../../tests/data/mysql/mariadb-server_audit.log"
        )),
        0
    );
    assert_eq!(s(b"2023-07-31T08:34:16.116872Z        14 Connect   Access denied for user 'u'@'h' (using password: YES)"), 0);
    assert_eq!(
        s(b"2019-01-03T08:50:04.634875Z 113 [Note] [MY-010926] [Server] Access denied"),
        100
    );
}

#[test]
fn hostile_bytes_do_not_panic() {
    let mut seed = 0x1234_5678_9abc_def1u64;
    let alphabet = b"2026-11-28 15:42:04 0[Note]'@Access denied for user \n\xff\xc3MY-";
    for _ in 0..300 {
        let mut input = Vec::new();
        for _ in 0..200 {
            seed = crate::testutil::xorshift(seed);
            input.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let _ = run(&input);
    }
}

/// The error log as Debian's MariaDB writes it to the journal, read back through
/// rsyslog's traditional format, `journalctl -o short-iso`, and MySQL 8's syslog sink.
const SYSLOG: &str = concat!(
    "Nov 28 15:42:04 db1 mariadbd[812]: 2026-11-28 15:42:04 0 [Note] Starting MariaDB 10.11.14-MariaDB-0+deb12u2 source revision as process 812\n",
    "Nov 28 15:42:10 db1 mariadbd[812]: 2026-11-28 15:42:10 6 [Warning] Access denied for user 'root'@'203.0.113.7' (using password: YES)\n",
    "Nov 28 15:42:11 db1 mariadbd[812]: 2026-11-28 15:42:11 7 [Warning] Aborted connection 7 to db: 'unconnected' user: 'unauthenticated' host: '203.0.113.7' (This connection closed normally without authentication)\n",
    "Nov 28 15:42:12 db1 CRON[999]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)\n",
    "2026-11-28T15:42:13+0000 db1 mariadbd[812]: 2026-11-28 15:42:13 8 [Warning] Access denied for user 'app'@'198.51.100.4' to database 'shop'\n",
    "Nov 28 15:42:14 db1 mysqld[900]: [MY-010926] [Server] Access denied for user 'eve'@'192.0.2.1' (using password: YES)\n",
    "Nov 28 15:42:15 db1 mysqld_safe[700]: Starting mariadbd daemon with databases from /var/lib/mysql\n",
    "Nov 28 15:42:16 db1 mariadbd[812]: 2026-11-28 15:42:16 0 [ERROR] InnoDB: Unable to lock ./ibdata1 error: 11\n",
    "Nov 28 15:42:16 db1 mariadbd[812]: Check that you do not already have another mariadbd process\n",
    "<27>1 2026-11-28T15:42:17Z db1 mysqld 900 - - [Warning] [MY-013360] [Server] Plugin sha256_password reported: 'deprecated'\n",
);

#[test]
fn error_log_through_syslog() {
    let out = run(SYSLOG.as_bytes());
    // CRON's line is another program's in a shared syslog: skipped and counted.
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.skipped, 1);
    let got: Vec<(u64, Action, String)> = out
        .events
        .iter()
        .map(|e| (e.line, e.action, rfc3339(e)))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Other, "2026-11-28T15:42:04Z".into()),
            (2, LoginFailure, "2026-11-28T15:42:10Z".into()),
            (3, Probe, "2026-11-28T15:42:11Z".into()),
            (5, LoginFailure, "2026-11-28T15:42:13Z".into()),
            // No timestamp of its own: the header's, dated by the year read before.
            (6, LoginFailure, "2026-11-28T15:42:14Z".into()),
            (7, Other, "2026-11-28T15:42:15Z".into()),
            (8, Other, "2026-11-28T15:42:16Z".into()),
            (10, Other, "2026-11-28T15:42:17Z".into()),
        ]
    );
    let e = &out.events[1];
    assert_eq!(e.user.as_deref(), Some("root"));
    assert_eq!(e.client_ip, Some("203.0.113.7".parse().unwrap()));
    assert_eq!(e.error_code.as_deref(), Some("1045"));
    assert_eq!(e.pid, Some(812));
    let e = &out.events[3];
    assert_eq!(
        (e.user.as_deref(), e.database.as_deref()),
        (Some("app"), Some("shop"))
    );
    let e = &out.events[4];
    assert_eq!(e.user.as_deref(), Some("eve"));
    assert_eq!(e.client_ip, Some("192.0.2.1".parse().unwrap()));
    assert_eq!(e.pid, Some(900));
    assert_eq!(
        out.events[5].message.as_deref(),
        Some("Starting mariadbd daemon with databases from /var/lib/mysql")
    );
    // The same process's untimed line continues its message.
    assert_eq!(
        out.events[6].detail.as_deref(),
        Some("Check that you do not already have another mariadbd process")
    );
    assert_eq!(out.events[7].level.as_deref(), Some("Warning"));
    // Chunk boundaries do not matter.
    let cfg = ParseConfig::new("error.log");
    let small = crate::testutil::parse_bytes(crate::Format::MysqlError, &cfg, SYSLOG.as_bytes(), 7);
    assert_eq!(small.events, out.events);
}

#[test]
fn syslog_sniffing() {
    let s = |b: &str| sniff(&Sample::new(b.as_bytes(), true));
    assert!(s(SYSLOG) >= 80, "{}", s(SYSLOG));
    assert_eq!(
        s("Nov 28 15:41:22 db1 postgres[5]: [6-1] LOG:  connection received: host=[local]\n"),
        0
    );
    assert_eq!(
        s("Nov 28 15:41:22 db1 sshd[5]: [Warning] not a database\n"),
        0
    );
    assert_eq!(
        crate::postgres::syslog::sniff(&Sample::new(SYSLOG.as_bytes(), true)),
        0
    );
}

#[test]
fn real_error_log_through_rsyslog() {
    let out = run(include_bytes!(
        "../../../tests/data/mysql/mariadb-error-syslog.log"
    ));
    assert_eq!(out.problems, vec![]);
    let failed: Vec<(&str, Option<IpAddr>)> = out
        .events
        .iter()
        .filter(|e| e.action == LoginFailure)
        .map(|e| (e.user.as_deref().unwrap_or(""), e.client_ip))
        .collect();
    let lo = Some(IpAddr::from([127, 0, 0, 1]));
    assert_eq!(failed, vec![("app", lo), ("nosuchuser", lo)]);
    assert_eq!(out.events.iter().filter(|e| e.action == Probe).count(), 1);
    assert!(out.events.iter().all(|e| e.pid == Some(4242)));
    // The server's own timestamps, not the header's.
    assert!(out
        .events
        .iter()
        .all(|e| rfc3339(e).starts_with("2026-12-01T02:31")));
}

#[test]
fn the_first_start_temporary_password_is_masked() {
    let out = run(b"2018-05-08T03:17:41.417934Z 5 [Note] [MY-010454] [Server] A temporary password is generated for root@localhost: d#<jy<Qpj6Li\n");
    assert_eq!(
        out.events[0].message.as_deref(),
        Some("A temporary password is generated for root@localhost: *****")
    );
    let out = run(
        b"2018-05-08T03:17:41Z 5 [Note] A temporary password is generated for root@localhost\n",
    );
    assert_eq!(
        out.events[0].message.as_deref(),
        Some("A temporary password is generated for root@localhost")
    );
}

/// A real MariaDB 10.11's error log for user names with a line break and a forged
/// record after it (issue 10): the line after a cut name is that name's rest and the
/// server's `'@'host'`, never a record with the forged time.
#[test]
fn line_break_names_from_a_real_server() {
    let input = include_bytes!("../../../tests/data/mysql/mariadb-injection-line-break-error.log");
    let out = run(input);
    crate::mysql::text::check_line_break_capture(&out);
    // Through the format switching a scan uses: no format change.
    let cfg = ParseConfig::new("x.log");
    let switched = crate::testutil::parse_bytes(crate::Format::MysqlError, &cfg, input, 4096);
    crate::mysql::text::check_line_break_capture(&switched);
}

/// A name with two line breaks (as MariaDB writes it): every line up to the server's
/// `'@'host'` is the name's, however many, within a name's length.
#[test]
fn a_name_with_two_line_breaks_is_one_failure() {
    let out = run(
        b"2026-12-06  8:14:09 6 [Warning] Access denied for user 'a\n\
x\n\
2026-01-01  3:00:00 9 [Warning] Access denied for user 'root'@'127.0.0.1' (using password: YES)\n\
2026-12-06  8:14:10 7 [Note] next\n",
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
            (1, LoginFailure, "2026-12-06T08:14:09Z".into()),
            (4, Other, "2026-12-06T08:14:10Z".into())
        ]
    );
    let e = &out.events[0];
    assert!(e.user.as_deref().unwrap().starts_with("a\nx\n2026-01-01"));
    assert_eq!(e.client_ip, Some("127.0.0.1".parse().unwrap()));
    assert!(e.injection.is_some());
    // A cut that no name could fill ends where a name must have ended.
    let mut long = b"2026-12-06  8:14:09 6 [Warning] Access denied for user 'a\n".to_vec();
    for _ in 0..100 {
        long.extend_from_slice(b"x\n");
    }
    long.extend_from_slice(b"2026-12-06  8:14:10 7 [Note] next\n");
    let out = run(&long);
    assert_eq!(
        out.events.last().unwrap().line,
        102,
        "read as its own record"
    );
}
