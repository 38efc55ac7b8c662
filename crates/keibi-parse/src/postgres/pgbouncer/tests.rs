use keibi_model::Action;

use super::*;
use crate::testutil::{parse_bytes, rfc3339};
use crate::{detect, Format};

const CAPTURED: &[u8] = include_bytes!("../../../tests/data/pgbouncer/pgbouncer.log");

fn parse(input: &[u8]) -> Output {
    parse_bytes(
        Format::Pgbouncer,
        &ParseConfig::new("pgbouncer.log"),
        input,
        1 << 16,
    )
}

/// Action, user, client address and port of an event.
type Login<'a> = (Action, Option<&'a str>, Option<String>, Option<u16>);

fn actions(out: &Output) -> Vec<Login<'_>> {
    out.events
        .iter()
        .filter(|e| {
            matches!(
                e.action,
                Action::LoginSuccess | Action::LoginFailure | Action::ConnectionReceived
            )
        })
        .map(|e| {
            (
                e.action,
                e.user.as_deref(),
                e.client_ip.map(|ip| ip.to_string()),
                e.client_port,
            )
        })
        .collect()
}

#[test]
fn the_captured_log_is_read_whole() {
    assert_eq!(detect(CAPTURED, true), Some(Format::Pgbouncer));
    let out = parse(CAPTURED);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    // One event a line, and a login_success for each of the two logins.
    let lines = CAPTURED
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert_eq!(out.events.len(), lines + 2);
    let count = |a| out.events.iter().filter(|e| e.action == a).count();
    assert_eq!(count(Action::LoginSuccess), 2);
    assert_eq!(count(Action::LoginFailure), 6);
    assert_eq!(count(Action::ConnectionReceived), 8);
    assert_eq!(count(Action::Disconnect), 2);
    for e in &out.events {
        assert_eq!(e.source, SourceKind::Pgbouncer);
        assert_eq!(e.pid, Some(31454));
    }
    for e in out
        .events
        .iter()
        .filter(|e| e.action == Action::LoginFailure)
    {
        assert_eq!(e.client_ip, Some("127.0.0.1".parse().unwrap()), "{e:?}");
        assert!(e.client_port.is_some());
    }
    let unknown = out
        .events
        .iter()
        .find(|e| e.action == Action::LoginFailure && e.user.as_deref() == Some("nosuchuser"))
        .expect("the unknown user's failure");
    assert_eq!(unknown.database.as_deref(), Some("shop"));
    assert_eq!(rfc3339(unknown), "2026-12-06T09:51:27.454Z");
    let nodb = out
        .events
        .iter()
        .find(|e| e.action == Action::LoginFailure && e.database.as_deref() == Some("nosuchdb"))
        .expect("the unknown database's failure");
    assert_eq!(
        nodb.message.as_deref(),
        Some("login failed: db=nosuchdb user=app")
    );
    // Server connections name the server's address, never a client.
    for e in out.events.iter().filter(|e| {
        e.message
            .as_deref()
            .is_some_and(|m| m.starts_with("new connection to server"))
    }) {
        assert_eq!(e.client_ip, None);
    }
    // Time order, whatever was held back.
    assert!(out.events.windows(2).all(|w| w[0].time <= w[1].time));
}

#[test]
fn any_chunking_gives_the_same_events() {
    let whole = parse(CAPTURED);
    for chunk in [1, 7, 100] {
        let out = parse_bytes(
            Format::Pgbouncer,
            &ParseConfig::new("pgbouncer.log"),
            CAPTURED,
            chunk,
        );
        assert_eq!(out.events, whole.events, "chunk {chunk}");
    }
}

#[test]
fn other_formats_do_not_claim_it_and_it_claims_no_other() {
    let sample = crate::format::Sample::new(CAPTURED, true);
    for f in crate::FORMATS.iter().filter(|f| **f != Format::Pgbouncer) {
        assert!(f.sniff(&sample) < 30, "{f} claims PgBouncer's log");
    }
    // PostgreSQL with Debian's prefix looks alike but has a colon after its level.
    let debian =
        b"2026-11-28 15:41:22.101 UTC [900] LOG:  database system is ready to accept connections\n";
    assert_eq!(sniff(&crate::format::Sample::new(debian, true)), 0);
    assert_ne!(detect(debian, true), Some(Format::Pgbouncer));
}

const ATTEMPT: &str = "2026-12-06 10:00:00.000 UTC [7] LOG C-0x1: shop/app@203.0.113.9:40000 login attempt: db=shop user=app tls=no\n";

#[test]
fn an_attempt_without_failure_is_a_login_after_the_login_timeout() {
    let input = format!(
        "{ATTEMPT}2026-12-06 10:00:59.000 UTC [7] LOG stats: 0 xacts/s\n\
         2026-12-06 10:01:00.500 UTC [7] LOG stats: 0 xacts/s\n"
    );
    let out = parse(input.as_bytes());
    let a: Vec<_> = out.events.iter().map(|e| e.action).collect();
    assert_eq!(
        a,
        [
            Action::ConnectionReceived,
            Action::LoginSuccess,
            Action::Other,
            Action::Other
        ]
    );
    assert_eq!(rfc3339(&out.events[1]), "2026-12-06T10:00:00Z");
    assert_eq!(
        out.events[1].client_ip,
        Some("203.0.113.9".parse().unwrap())
    );
    assert_eq!(out.events[1].tls, Some(false));
}

#[test]
fn an_attempt_still_open_at_the_end_or_closed_before_login_is_no_login() {
    let out = parse(ATTEMPT.as_bytes());
    assert_eq!(
        actions(&out).len(),
        1,
        "only connection_received: {:?}",
        out.events
    );
    let input = format!(
        "{ATTEMPT}2026-12-06 10:00:00.010 UTC [7] LOG C-0x1: shop/app@203.0.113.9:40000 closing because: client unexpected eof (age=0s)\n"
    );
    let out = parse(input.as_bytes());
    let a: Vec<_> = out.events.iter().map(|e| e.action).collect();
    assert_eq!(a, [Action::ConnectionReceived, Action::Other]);
}

#[test]
fn a_failure_is_counted_once_and_a_reused_id_is_a_new_client() {
    let input = format!(
        "{ATTEMPT}\
         2026-12-06 10:00:00.010 UTC [7] ERROR C-0x1: shop/app@203.0.113.9:40000 password authentication failed\n\
         2026-12-06 10:00:00.010 UTC [7] LOG C-0x1: shop/app@203.0.113.9:40000 closing because: password authentication failed (age=0s)\n\
         2026-12-06 10:00:00.010 UTC [7] WARNING C-0x1: shop/app@203.0.113.9:40000 pooler error: password authentication failed\n\
         2026-12-06 10:00:01.000 UTC [7] LOG C-0x1: shop/bob@198.51.100.7:40001 login attempt: db=shop user=bob tls=TLSv1.3/TLS_AES_256_GCM_SHA384\n\
         2026-12-06 10:00:09.000 UTC [7] LOG C-0x1: shop/bob@198.51.100.7:40001 closing because: client close request (age=8s)\n"
    );
    let out = parse(input.as_bytes());
    let got = actions(&out);
    assert_eq!(
        got,
        [
            (
                Action::ConnectionReceived,
                Some("app"),
                Some("203.0.113.9".into()),
                Some(40000)
            ),
            (
                Action::LoginFailure,
                Some("app"),
                Some("203.0.113.9".into()),
                Some(40000)
            ),
            (
                Action::ConnectionReceived,
                Some("bob"),
                Some("198.51.100.7".into()),
                Some(40001)
            ),
            (
                Action::LoginSuccess,
                Some("bob"),
                Some("198.51.100.7".into()),
                Some(40001)
            ),
        ]
    );
    let bob = out
        .events
        .iter()
        .find(|e| e.action == Action::LoginSuccess)
        .unwrap();
    assert_eq!(bob.tls, Some(true));
    assert_eq!(out.events.last().unwrap().action, Action::Disconnect);
}

#[test]
fn names_holding_an_address_do_not_move_the_client() {
    // The user name is `x@6.6.6.6:1 y`: the prefix has two addresses, and the message
    // says which split is the server's.
    let input = "2026-12-06 10:00:00.000 UTC [7] LOG C-0x2: shop/x@6.6.6.6:1 y@203.0.113.9:40000 login attempt: db=shop user=x@6.6.6.6:1 y tls=no\n\
                 2026-12-06 10:00:00.010 UTC [7] ERROR C-0x2: shop/x@6.6.6.6:1 y@203.0.113.9:40000 password authentication failed\n";
    let out = parse(input.as_bytes());
    let got = actions(&out);
    assert_eq!(got.len(), 2, "{:?}", out.events);
    for (_, user, ip, port) in got {
        assert_eq!(user, Some("x@6.6.6.6:1 y"));
        assert_eq!(ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(port, Some(40000));
    }
    // A database name with `/` and a user with ` user=`.
    let input = "2026-12-06 10:00:00.000 UTC [7] LOG C-0x3: a/b/c user=d@203.0.113.9:40000 login attempt: db=a/b user=c user=d tls=no\n";
    let out = parse(input.as_bytes());
    let e = &out.events[0];
    assert_eq!(e.action, Action::ConnectionReceived);
    assert_eq!(e.client_ip, Some("203.0.113.9".parse().unwrap()));
    assert_eq!(e.user.as_deref(), Some("c user=d"));
    assert_eq!(e.database.as_deref(), Some("a/b"));
}

#[test]
fn old_versions_ipv6_and_unix_sockets_read() {
    let input = "2016-02-08 10:15:11.623 4242 LOG C-0xab: shop/app@[2001:db8::7]:5000 login attempt: db=shop user=app tls=no\n\
                 2016-02-08 10:15:11.700 4242 LOG C-0xac: shop/app@unix(4321):6432 login attempt: db=shop user=app tls=no\n\
                 2016-02-08 10:15:11.800 4242 ERROR C-0xab: shop/app@[2001:db8::7]:5000 password authentication failed\n";
    let out = parse(input.as_bytes());
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(
        out.events[0].client_ip,
        Some("2001:db8::7".parse().unwrap())
    );
    assert_eq!(out.events[0].pid, Some(4242));
    assert_eq!(out.events[1].client_host.as_deref(), Some("[local]"));
    assert!(out.events.iter().any(|e| e.action == Action::LoginFailure));
}

#[test]
fn garbage_is_unrecognized_and_never_panics() {
    let out = parse(b"hello\n2026-12-06 10:00:00.000 UTC [7] LOG C-0x\n2026-12-06 10:00:00.000 UTC [7] LOG C-0x1: @\n");
    assert_eq!(out.unrecognized_lines(), 1);
    let mut x = 7u64;
    let mut bytes = CAPTURED.to_vec();
    for _ in 0..2000 {
        x = crate::testutil::xorshift(x);
        let i = (x as usize) % bytes.len();
        bytes[i] = (x >> 32) as u8;
        let _ = parse(&bytes);
    }
}

#[test]
fn a_line_of_many_ats_costs_linear_time() {
    let start = std::time::Instant::now();
    let mut line = String::from("2026-12-06 10:00:00.000 UTC [7] LOG C-0x9: ");
    line.push_str(&"@".repeat(700));
    line.push_str(&"x".repeat(1 << 20));
    line.push('\n');
    let out = parse(line.as_bytes());
    assert_eq!(out.events.len(), 1);
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}
