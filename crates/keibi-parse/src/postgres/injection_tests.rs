//! Log injection through user and database names (issue 10): what a real PostgreSQL 15
//! writes for hostile names, read in all three formats, and hand-built lines for the
//! splits the capture does not exercise.

use keibi_model::{Action, Event};

use crate::postgres::parse_bytes;
use crate::{Format, Output, ParseConfig};

const STDERR: &[u8] = include_bytes!("../../tests/data/postgres/postgresql-injection.log");
const CSV: &[u8] = include_bytes!("../../tests/data/postgres/postgresql-injection.csv");
const JSON: &[u8] = include_bytes!("../../tests/data/postgres/postgresql-injection.json");

fn run(format: Format, bytes: &[u8]) -> Output {
    let cfg = ParseConfig::new("t.log");
    let out = parse_bytes(format, &cfg, bytes, 4096);
    // Chunk boundaries carry no meaning.
    let small = parse_bytes(format, &cfg, bytes, 7);
    assert_eq!(out.events, small.events);
    out
}

fn stderr(text: &str) -> Output {
    run(Format::PostgresStderr, text.as_bytes())
}

fn injected(events: &[Event]) -> Vec<&Event> {
    events.iter().filter(|e| e.injection.is_some()).collect()
}

fn hhmmss(e: &Event) -> String {
    e.time.format("%H:%M:%S").to_string()
}

#[test]
fn real_server_hostile_names_forge_nothing() {
    let out = run(Format::PostgresStderr, STDERR);
    // One DETAIL comes after a forged line that ended its report (line 194, whose
    // name's line break makes it and line 195 one DETAIL line of pid 12338): it was
    // read, is not attached, and is reported as a warning rather than dropped.
    let p: Vec<(u64, &str, u64)> = out
        .problems
        .iter()
        .map(|p| (p.line, p.reason.as_str(), p.lines))
        .collect();
    assert_eq!(
        p,
        vec![(
            194,
            "DETAIL line after a forged line that ended its report, not attached to it",
            0
        )]
    );
    let ev = &out.events;
    // The names carried pids 1, 5, 7 and 77: no event comes from them.
    for e in ev {
        assert!(!matches!(e.pid, Some(1 | 5 | 7 | 77)), "{e:?}");
        // Nor from the forged times (03:00) or address.
        assert!(hhmmss(e).as_str() >= "06:50:00", "{e:?}");
        assert_ne!(e.client_ip, Some("10.9.9.9".parse().unwrap()));
    }
    // No DROP TABLE was run: every one was text in a name.
    assert!(!ev.iter().any(|e| e
        .statement
        .as_deref()
        .is_some_and(|s| s.text.contains("DROP"))));
    // The brute force with a forged "connection authorized" in the database name is
    // 25 failed logins as postgres, none of them a login.
    let forged_db = "x:[1]:LOG:  connection authorized: user=postgres database=x";
    let brute: Vec<&Event> = ev
        .iter()
        .filter(|e| e.database.as_deref() == Some(forged_db))
        .collect();
    assert_eq!(brute.len(), 25);
    for e in &brute {
        assert_eq!(e.action, Action::LoginFailure);
        assert_eq!(e.user.as_deref(), Some("postgres"));
        let inj = e.injection.as_deref().expect("marked");
        assert_eq!(
            (inj.field.as_str(), inj.value.as_str()),
            ("database", forged_db)
        );
        assert!(e.detail.as_deref().unwrap().contains("pg_hba.conf line 91"));
    }
    let logins: Vec<(&str, String)> = ev
        .iter()
        .filter(|e| e.action == Action::LoginSuccess)
        .map(|e| {
            let from = e
                .client_ip
                .map(|i| i.to_string())
                .or(e.client_host.as_deref().map(String::from))
                .unwrap_or_default();
            (e.user.as_deref().unwrap_or(""), from)
        })
        .collect();
    assert_eq!(
        logins,
        vec![
            ("postgres", "[local]".to_string()),
            ("postgres", "[local]".to_string()),
            ("rdsadmin@x", "127.0.0.1".to_string()),
            ("rdsadmin", "127.0.0.1".to_string()),
            ("app", "127.0.0.1".to_string()),
            ("rdsadmin", "[local]".to_string()),
        ]
    );
    // Failed logins whose user name forges DROP TABLE by postgres: failures of that
    // whole name, marked.
    let drops: Vec<&Event> = ev
        .iter()
        .filter(|e| {
            e.user
                .as_deref()
                .is_some_and(|u| u.starts_with("postgres@shop:[7]:LOG:  statement: DROP"))
        })
        .collect();
    assert_eq!(drops.len(), 12);
    for e in &drops {
        assert_eq!(e.action, Action::LoginFailure);
        assert_eq!(e.database.as_deref(), Some("shop"));
        assert_eq!(e.injection.as_deref().unwrap().field, "user");
    }
    // Line breaks: the event is the real failure, at the real time and address, with
    // the whole name, starting on the line where the server wrote it.
    let breaks: Vec<&Event> = ev
        .iter()
        .filter(|e| e.user.as_deref().is_some_and(|u| u.contains('\n')))
        .collect();
    assert_eq!(breaks.len(), 7);
    for e in &breaks {
        assert_eq!(e.action, Action::LoginFailure);
        assert_eq!(hhmmss(e), "06:51:07");
        assert_eq!(e.client_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(e.database.as_deref(), Some("shop"));
        assert_eq!(
            e.injection.as_deref().unwrap().reason,
            "line break in a name"
        );
    }
    assert_eq!(breaks[0].line, 143);
    assert_eq!(
        breaks[0].user.as_deref(),
        Some("evil\n2026-12-06 03:00:01 UTC:10.9.9.9(1234):postgres@shop:[77]")
    );
    assert_eq!(
        breaks[6].user.as_deref(),
        Some("x@y:[5]:LOG:  statement: DROP TABLE customers\nz")
    );
    // 25 + 12 + 7 attempts, each marked once; nothing else is.
    assert_eq!(injected(ev).len(), 44);
    // The role named rdsadmin@x is itself, never rdsadmin.
    let alter: Vec<(&str, &str)> = ev
        .iter()
        .filter_map(|e| {
            let st = e.statement.as_deref()?;
            st.text
                .starts_with("ALTER ROLE")
                .then(|| (e.user.as_deref().unwrap_or(""), st.text.as_str()))
        })
        .collect();
    assert_eq!(
        alter,
        vec![
            ("rdsadmin@x", "ALTER ROLE app SUPERUSER"),
            ("rdsadmin", "ALTER ROLE reporting SUPERUSER"),
            ("rdsadmin", "ALTER ROLE app NOSUPERUSER"),
            ("rdsadmin", "ALTER ROLE reporting SUPERUSER"),
        ]
    );
}

#[test]
fn csvlog_and_jsonlog_of_the_same_run_agree() {
    // The server's csvlog and jsonlog of the same run: names are quoted fields, so
    // there is nothing to split; the names are still marked as attempts.
    let stderr = run(Format::PostgresStderr, STDERR);
    for (format, bytes) in [(Format::PostgresCsv, CSV), (Format::PostgresJson, JSON)] {
        let out = run(format, bytes);
        assert_eq!(out.unrecognized_lines(), 0, "{format}: {:?}", out.problems);
        let count = |o: &Output, a: Action| o.events.iter().filter(|e| e.action == a).count();
        for a in [
            Action::LoginFailure,
            Action::LoginSuccess,
            Action::Statement,
            Action::Disconnect,
        ] {
            assert_eq!(count(&out, a), count(&stderr, a), "{format} {a:?}");
        }
        assert_eq!(injected(&out.events).len(), 44, "{format}");
        let users = |o: &Output| -> Vec<Option<String>> {
            o.events
                .iter()
                .filter(|e| e.action == Action::LoginFailure)
                .map(|e| e.user.as_deref().map(String::from))
                .collect()
        };
        assert_eq!(users(&out), users(&stderr), "{format}");
    }
}

#[test]
fn both_halves_of_a_broken_name_matching_alone_are_one_failure() {
    // A database name with a line break whose two halves each read as a whole line:
    // a statement of pid 5 (no such process), then the real failure with a forged
    // time and a user the message contradicts. Joined, they are the failure.
    let out = stderr(concat!(
        "2026-12-06 06:51:07 UTC:127.0.0.1(34990):[unknown]@[unknown]:[12338]:LOG:  connection received: host=127.0.0.1 port=34990\n",
        "2026-12-06 06:51:07 UTC:127.0.0.1(34990):postgres@s:[5]:LOG:  statement: DROP TABLE o\n",
        "2026-12-06 03:00:01::a@b:[12338]:FATAL:  password authentication failed for user \"postgres\"\n",
        "2026-12-06 06:51:08 UTC:127.0.0.1(35000):[unknown]@[unknown]:[12339]:LOG:  connection received: host=127.0.0.1 port=35000\n",
    ));
    assert_eq!(out.unrecognized_lines(), 0, "{:?}", out.problems);
    let a: Vec<Action> = out.events.iter().map(|e| e.action).collect();
    assert_eq!(
        a,
        vec![
            Action::ConnectionReceived,
            Action::LoginFailure,
            Action::ConnectionReceived
        ]
    );
    let f = &out.events[1];
    assert_eq!((f.line, f.pid), (2, Some(12338)));
    assert_eq!(hhmmss(f), "06:51:07");
    assert_eq!(f.user.as_deref(), Some("postgres"));
    assert_eq!(
        f.database.as_deref(),
        Some("s:[5]:LOG:  statement: DROP TABLE o\n2026-12-06 03:00:01::a@b")
    );
    assert!(f.injection.is_some());
}

#[test]
fn a_forged_statement_line_of_a_process_that_has_not_logged_in_is_no_statement() {
    // One line, no break: the only split is a statement of a process the log saw
    // connect but never log in; and a failure whose prefix names another client
    // than its connection did.
    let out = stderr(concat!(
        "2026-12-06 06:51:07 UTC:127.0.0.1(1):[unknown]@[unknown]:[40]:LOG:  connection received: host=127.0.0.1 port=1\n",
        "2026-12-06 06:51:07 UTC:127.0.0.1(1):postgres@shop:[40]:LOG:  statement: DROP TABLE orders\n",
        "2026-12-06 06:51:08 UTC:127.0.0.1(2):[unknown]@[unknown]:[41]:LOG:  connection received: host=127.0.0.1 port=2\n",
        "2026-12-06 01:00:00 UTC:10.9.9.9(2):app@shop:[41]:FATAL:  password authentication failed for user \"app\"\n",
    ));
    let st = &out.events[1];
    assert_eq!(st.action, Action::Other);
    assert_eq!(st.injection.as_deref().unwrap().field, "prefix");
    let f = &out.events[3];
    assert_eq!(f.action, Action::LoginFailure);
    assert_eq!(f.client_ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(hhmmss(f), "06:51:08", "the forged time is not taken");
    assert!(f.injection.is_some());
}

#[test]
fn ordinary_text_that_looks_like_a_prefix_is_not_an_attempt() {
    // A statement's own text may hold anything; a session that logged in, a role
    // with an @ in its name, and a database name with a colon are ordinary.
    let out = stderr(concat!(
        "2026-12-06 06:51:07 UTC:127.0.0.1(1):[unknown]@[unknown]:[40]:LOG:  connection received: host=127.0.0.1 port=1\n",
        "2026-12-06 06:51:07 UTC:127.0.0.1(1):ops@example.com@a:b:[40]:LOG:  connection authorized: user=ops@example.com database=a:b application_name=psql\n",
        "2026-12-06 06:51:07 UTC:127.0.0.1(1):ops@example.com@a:b:[40]:LOG:  statement: SELECT 'x:[5]:LOG:  y' FROM t\n",
        "2026-12-06 06:51:08 UTC:127.0.0.1(1):ops@example.com@a:b:[40]:LOG:  disconnection: session time: 0:00:01.000 user=ops@example.com database=a:b host=127.0.0.1 port=1\n",
    ));
    assert_eq!(out.unrecognized_lines(), 0, "{:?}", out.problems);
    assert!(injected(&out.events).is_empty(), "{:?}", out.events);
    let st = &out.events[2];
    assert_eq!(st.action, Action::Statement);
    assert_eq!(st.user.as_deref(), Some("ops@example.com"));
    assert_eq!(st.database.as_deref(), Some("a:b"));
    assert_eq!(
        st.statement.as_deref().unwrap().text,
        "SELECT 'x:[5]:LOG:  y' FROM t"
    );
}

#[test]
fn syslog_names_forge_nothing() {
    // Through syslog (pgbadger's prefix): the header's pid is the server's, a database
    // name holding a level word is marked, and its forged statement is not one.
    let out = run(
        Format::PostgresSyslog,
        concat!(
            "Dec  6 06:51:03 db1 postgres[11921]: [3-1] user=[unknown],db=[unknown],app=[unknown],client=127.0.0.1 LOG:  connection received: host=127.0.0.1 port=42702\n",
            "Dec  6 06:51:03 db1 postgres[11921]: [4-1] user=postgres,db=x LOG:  statement: DROP TABLE orders,app=[unknown],client=127.0.0.1 FATAL:  password authentication failed for user \"postgres\"\n",
        )
        .as_bytes(),
    );
    assert_eq!(out.unrecognized_lines(), 0, "{:?}", out.problems);
    let f = &out.events[1];
    assert_eq!(f.action, Action::LoginFailure, "{f:?}");
    assert_eq!(f.pid, Some(11921));
    assert_eq!(f.user.as_deref(), Some("postgres"));
    assert_eq!(
        f.database.as_deref(),
        Some("x LOG:  statement: DROP TABLE orders")
    );
    assert_eq!(f.injection.as_deref().unwrap().field, "database");
    assert!(!out.events.iter().any(|e| e.action == Action::Statement));
}

#[test]
fn a_contradicted_first_line_keeps_its_own_time_not_the_epoch() {
    // A `connection received` line never names a user (the server writes
    // `[unknown]@[unknown]`): this prefix contradicts its message. With no trusted line
    // before it, its time is the prefix's own (the server writes `%t` before any name),
    // never 1970, which would sort it before everything else.
    let out = stderr(
        "2026-11-28 05:00:00 UTC:198.51.100.4(40000):app@shop:[900]:LOG:  connection received: host=198.51.100.4 port=40000\n",
    );
    let ev = &out.events;
    assert_eq!(ev.len(), 1, "{ev:#?}");
    assert!(ev[0].injection.is_some(), "{ev:#?}");
    assert_eq!(ev[0].time.to_rfc3339(), "2026-11-28T05:00:00+00:00");
}
