use super::*;
use keibi_model::event::StatementClass;

fn report(level: &'static str, msg: &str) -> Report {
    let cfg = ParseConfig::new("t.log");
    let o = Origin::new(&cfg, SourceKind::PostgresStderr);
    let mut e = o.event(DateTime::UNIX_EPOCH, 1);
    e.level = Some(level.into());
    e.message = Some(msg.to_string());
    e.pid = Some(42);
    Report::new(e)
}

fn finish(s: &mut Sessions, level: &'static str, msg: &str) -> Option<Event> {
    s.finish(report(level, msg))
}

#[test]
fn level_words() {
    assert_eq!(
        level_at(b"LOG:  connection"),
        Some((Level::Primary("LOG"), 6))
    );
    assert_eq!(
        level_at(b"STATEMENT:  select"),
        Some((Level::Part(Part::Statement), 12))
    );
    assert_eq!(level_at(b"DEBUG3: x"), Some((Level::Primary("DEBUG3"), 8)));
    assert_eq!(level_at(b"HINT:"), Some((Level::Part(Part::Hint), 5)));
    assert_eq!(level_at(b"LOGX:  a"), None);
    assert_eq!(level_at(b"LOG:x"), None);
    assert_eq!(level_at(b"log:  x"), None);
    assert_eq!(level_at(b""), None);
    assert_eq!(level_at(b"NOTAWORDATALL:  x"), None);
}

#[test]
fn authorized_with_tls_and_remembered_method() {
    let mut s = Sessions::new();
    assert!(finish(
            &mut s,
            "LOG",
            "connection authenticated: identity=\"a method=trust\" method=scram-sha-256 (/x/pg_hba.conf:87)"
        )
        .is_none());
    let e = finish(
            &mut s,
            "LOG",
            "connection authorized: user=app database=shop application_name=my app SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)",
        )
        .unwrap();
    assert_eq!(e.action, Action::LoginSuccess);
    assert_eq!(e.user.as_deref(), Some("app"));
    assert_eq!(e.database.as_deref(), Some("shop"));
    assert_eq!(e.application.as_deref(), Some("my app"));
    assert_eq!(e.tls, Some(true));
    assert_eq!(e.auth_method.as_deref(), Some("scram-sha-256"));
    // The method was used up by the login.
    let e = finish(
        &mut s,
        "LOG",
        "connection authorized: user=app database=shop",
    )
    .unwrap();
    assert_eq!(e.auth_method, None);
    assert_eq!(e.tls, Some(false));
    assert_eq!(e.application, None);
    let e = finish(&mut s, "LOG", "replication connection authorized: user=rep").unwrap();
    assert_eq!(e.action, Action::LoginSuccess);
    assert_eq!(e.user.as_deref(), Some("rep"));
}

#[test]
fn login_failures() {
    let mut s = Sessions::new();
    let mut r = report(
        "FATAL",
        "password authentication failed for user \"ad\"min\"",
    );
    r.add_part(
        Part::Detail,
        "Connection matched pg_hba.conf line 87: \"host all all 0.0.0.0/0 md5\"",
    );
    let e = s.finish(r).unwrap();
    assert_eq!(e.action, Action::LoginFailure);
    assert_eq!(e.user.as_deref(), Some("ad\"min"));
    assert_eq!(e.error_code.as_deref(), Some("28P01"));
    assert_eq!(e.auth_method.as_deref(), Some("md5"));
    let cases = [
        (
            "Ident authentication failed for user \"u\"",
            "ident",
            "28000",
        ),
        ("Peer authentication failed for user \"u\"", "peer", "28000"),
        ("LDAP authentication failed for user \"u\"", "ldap", "28000"),
        ("PAM authentication failed for user \"u\"", "pam", "28000"),
        (
            "RADIUS authentication failed for user \"u\"",
            "radius",
            "28000",
        ),
        (
            "certificate authentication failed for user \"u\"",
            "cert",
            "28000",
        ),
        (
            "\"trust\" authentication failed for user \"u\"",
            "trust",
            "28000",
        ),
        (
            "authentication failed for user \"u\": host rejected",
            "reject",
            "28000",
        ),
    ];
    for (msg, method, code) in cases {
        let e = finish(&mut s, "FATAL", msg).unwrap();
        assert_eq!(e.action, Action::LoginFailure, "{msg}");
        assert_eq!(e.user.as_deref(), Some("u"), "{msg}");
        assert_eq!(e.auth_method.as_deref(), Some(method), "{msg}");
        assert_eq!(e.error_code.as_deref(), Some(code), "{msg}");
    }
    let e = finish(
        &mut s,
        "FATAL",
        "no pg_hba.conf entry for host \"10.1.2.3\", user \"bob\", database \"prod\", SSL off",
    )
    .unwrap();
    assert_eq!(e.action, Action::LoginFailure);
    assert_eq!(e.client_ip, Some("10.1.2.3".parse().unwrap()));
    assert_eq!(e.user.as_deref(), Some("bob"));
    assert_eq!(e.database.as_deref(), Some("prod"));
    assert_eq!(e.error_code.as_deref(), Some("28000"));
    let e = finish(&mut s, "FATAL", "role \"ghost\" does not exist").unwrap();
    assert_eq!(
        (e.action, e.user.as_deref()),
        (Action::LoginFailure, Some("ghost"))
    );
    let e = finish(&mut s, "FATAL", "database \"nodb\" does not exist").unwrap();
    assert_eq!(e.error_code.as_deref(), Some("3D000"));
    assert_eq!(e.database.as_deref(), Some("nodb"));
    let e = finish(
            &mut s,
            "FATAL",
            "pg_hba.conf rejects connection for host \"::1\", user \"u\", database \"d\", no encryption",
        )
        .unwrap();
    assert_eq!(e.action, Action::LoginFailure);
    assert_eq!(e.client_ip, Some("::1".parse().unwrap()));
    // The same text at ERROR level (DROP DATABASE nodb) is no login.
    let e = finish(&mut s, "ERROR", "database \"nodb\" does not exist").unwrap();
    assert_eq!(e.action, Action::Other);
}

#[test]
fn forged_messages_with_a_context_are_other() {
    let mut s = Sessions::new();
    let mut r = report("LOG", "connection authorized: user=postgres database=x");
    r.add_part(
        Part::Context,
        "PL/pgSQL function inline_code_block line 1 at RAISE",
    );
    let e = s.finish(r).unwrap();
    assert_eq!(e.action, Action::Other);
    assert_eq!(e.user, None);
    assert!(e.detail.unwrap().starts_with("CONTEXT: PL/pgSQL"));
}

#[test]
fn probes_connections_and_disconnections() {
    let mut s = Sessions::new();
    let e = finish(&mut s, "LOG", "connection received: host=[local]").unwrap();
    assert_eq!(e.action, Action::ConnectionReceived);
    assert_eq!(e.client_host.as_deref(), Some("[local]"));
    let e = finish(
        &mut s,
        "LOG",
        "connection received: host=2001:db8::1 port=5432",
    )
    .unwrap();
    assert_eq!(e.client_ip, Some("2001:db8::1".parse().unwrap()));
    assert_eq!(e.client_port, Some(5432));
    for m in [
        "incomplete startup packet",
        "could not receive data from client: Connection reset by peer",
        "could not accept SSL connection: EOF detected",
        "invalid length of startup packet 1234",
    ] {
        assert_eq!(
            finish(&mut s, "LOG", m).unwrap().action,
            Action::Probe,
            "{m}"
        );
    }
    let e = finish(
        &mut s,
        "FATAL",
        "unsupported frontend protocol 1234.5678: server supports 3.0 to 3.0",
    )
    .unwrap();
    assert_eq!(
        (e.action, e.error_code.as_deref()),
        (Action::Probe, Some("0A000"))
    );
    // After a login, a reset connection is no probe.
    finish(&mut s, "LOG", "connection authorized: user=a database=b").unwrap();
    let e = finish(
        &mut s,
        "LOG",
        "could not receive data from client: Connection reset by peer",
    )
    .unwrap();
    assert_eq!(e.action, Action::Other);
    let e = finish(
        &mut s,
        "LOG",
        "disconnection: session time: 0:00:00.009 user=app database=shop host=127.0.0.1 port=34292",
    )
    .unwrap();
    assert_eq!(e.action, Action::Disconnect);
    assert_eq!(e.user.as_deref(), Some("app"));
    assert_eq!(e.database.as_deref(), Some("shop"));
    assert_eq!(e.client_port, Some(34292));
    let e = finish(
        &mut s,
        "LOG",
        "disconnection: session time: 1:02:03.004 user=a database=b host=[local]",
    )
    .unwrap();
    assert_eq!(e.client_host.as_deref(), Some("[local]"));
}

#[test]
fn statements() {
    let mut s = Sessions::new();
    let e = finish(&mut s, "LOG", "statement: DROP TABLE x").unwrap();
    assert_eq!(e.action, Action::Statement);
    let st = e.statement.unwrap();
    assert_eq!(st.command.as_deref(), Some("DROP TABLE"));
    assert_eq!(st.class, Some(StatementClass::Ddl));
    let e = finish(&mut s, "LOG", "duration: 0.052 ms  statement: select 1").unwrap();
    assert_eq!(e.statement.unwrap().text, "select 1");
    let e = finish(&mut s, "LOG", "execute <unnamed>: UPDATE t SET a = 1").unwrap();
    assert_eq!(e.statement.unwrap().class, Some(StatementClass::Write));
    let e = finish(&mut s, "LOG", "duration: 1.5 ms  execute S_1: select 2").unwrap();
    assert_eq!(e.statement.unwrap().text, "select 2");
    let e = finish(&mut s, "LOG", "duration: 1.5 ms").unwrap();
    assert_eq!((e.action, e.statement), (Action::Other, None));
    let e = finish(&mut s, "LOG", "duration: 1.5 ms  bind S_1: select 2").unwrap();
    assert_eq!(e.action, Action::Other);
    // A STATEMENT part sets the statement of an error, which stays Other.
    let mut r = report("ERROR", "syntax error at or near \"selec\"");
    r.add_part(Part::Statement, "selec 1");
    r.extend("from t", true);
    r.add_part(Part::Statement, "ignored");
    let e = s.finish(r).unwrap();
    assert_eq!(e.action, Action::Other);
    assert_eq!(e.statement.unwrap().text, "selec 1\nfrom t");
}

#[test]
fn texts_are_bounded() {
    let mut r = report("LOG", "x");
    let chunk = "é".repeat(1000);
    for _ in 0..2000 {
        r.extend(&chunk, true);
    }
    let m = r.event.message.unwrap();
    assert!(m.len() <= MAX_TEXT);
    assert!(m.len() > MAX_TEXT - 4);
}

#[test]
fn sessions_are_bounded() {
    let mut s = Sessions::new();
    for pid in 0..(MAX_SESSIONS as u32 + 10) {
        s.state(pid).logged_in = true;
    }
    assert!(s.pids.len() <= MAX_SESSIONS);
    assert!(s.logged_in(Some(MAX_SESSIONS as u32 + 5)));
    assert!(!s.logged_in(Some(0)));

    // A pid forgotten and seen again is young: eviction takes the oldest live one.
    let mut s = Sessions::new();
    for pid in 0..MAX_SESSIONS as u32 {
        s.state(pid).logged_in = true;
    }
    s.forget(Some(0));
    s.state(0).logged_in = true;
    s.state(u32::MAX).logged_in = true;
    assert!(s.logged_in(Some(0)));
    assert!(!s.logged_in(Some(1)));
    assert!(s.logged_in(Some(2)));

    // Churn (few pids, each connection a new process) keeps the order list small
    // and cheap.
    let mut s = Sessions::new();
    for i in 0..1_000_000u32 {
        s.state(i % 7);
        s.forget(Some(i % 7));
    }
    assert!(s.order.len() <= 2 * MAX_SESSIONS);
    assert!(s.pids.is_empty());
}

#[test]
fn ip_text_is_what_display_writes() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut ips: Vec<IpAddr> = [
        "0.0.0.0",
        "255.255.255.255",
        "10.0.3.34",
        "100.9.10.99",
        "::1",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    for _ in 0..2000 {
        x = crate::testutil::xorshift(x);
        ips.push(IpAddr::V4(std::net::Ipv4Addr::from(x as u32)));
        ips.push(IpAddr::V6(std::net::Ipv6Addr::from(
            u128::from(x) << 64 | u128::from(x >> 7),
        )));
    }
    for ip in ips {
        assert_eq!(ip_text(&ip), ip.to_string(), "{ip:?}");
    }
}
