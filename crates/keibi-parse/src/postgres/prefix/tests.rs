use super::*;
use crate::postgres::message::Part;

fn utc() -> FixedOffset {
    FixedOffset::east_opt(0).unwrap()
}

fn m(prefix: &str, line: &str) -> Option<(Matched, String)> {
    let p = Prefix::compile(prefix);
    let mut c = TimeCache::default();
    let got = p.matches(line.as_bytes(), utc(), &mut c)?;
    Some((got, line[got.text..].to_string()))
}

fn field(line: &str, s: Option<Span>) -> Option<&str> {
    s.map(|s| &line[s.start()..s.end()])
}

#[test]
fn rds_prefix() {
    let line = "2026-11-28 15:41:22 UTC:127.0.0.1(34292):app@shop:[5924]:LOG:  connection received: host=127.0.0.1 port=34292";
    let (g, msg) = m("%t:%r:%u@%d:[%p]:", line).unwrap();
    assert_eq!(msg, "connection received: host=127.0.0.1 port=34292");
    assert_eq!(g.level, Level::Primary("LOG"));
    assert_eq!(field(line, g.caps.user), Some("app"));
    assert_eq!(field(line, g.caps.db), Some("shop"));
    assert_eq!(field(line, g.caps.host), Some("127.0.0.1"));
    assert_eq!(g.caps.port, Some(34292));
    assert_eq!(g.caps.pid, Some(5924));
    assert_eq!(
        g.caps.time.unwrap().to_rfc3339(),
        "2026-11-28T15:41:22+00:00"
    );
    // Background process: empty host, user and database.
    let line = "2026-11-28 15:41:22 UTC::@:[5916]:LOG:  pgaudit extension initialized";
    let (g, msg) = m("%t:%r:%u@%d:[%p]:", line).unwrap();
    assert_eq!(msg, "pgaudit extension initialized");
    assert_eq!(field(line, g.caps.user), Some(""));
    assert_eq!(field(line, g.caps.host), None);
    // IPv6 clients, local sockets, DETAIL parts.
    let line = "2026-11-28 15:41:22 CET:::1(5432):a@b:[7]:FATAL:  x";
    let (g, _) = m("%t:%r:%u@%d:[%p]:", line).unwrap();
    assert_eq!(field(line, g.caps.host), Some("::1"));
    assert_eq!(g.caps.port, Some(5432));
    assert_eq!(
        g.caps.time.unwrap().to_rfc3339(),
        "2026-11-28T14:41:22+00:00"
    );
    let line = "2026-11-28 15:41:22 UTC:2001:db8::1(5432):a@b:[7]:DETAIL:  y";
    let (g, msg) = m("%t:%r:%u@%d:[%p]:", line).unwrap();
    assert_eq!(field(line, g.caps.host), Some("2001:db8::1"));
    assert_eq!(g.level, Level::Part(Part::Detail));
    assert_eq!(msg, "y");
    let line = "2026-11-28 15:41:22 UTC:[local]:a@b:[7]:LOG:  z";
    let (g, _) = m("%t:%r:%u@%d:[%p]:", line).unwrap();
    assert_eq!(field(line, g.caps.host), Some("[local]"));
    assert_eq!(g.caps.port, None);
    // A database name holding the delimiter still splits at the level word.
    let line = "2026-11-28 15:41:22 UTC:h(1):a@b:[c:[7]:LOG:  z";
    let (g, _) = m("%t:%r:%u@%d:[%p]:", line).unwrap();
    assert_eq!(field(line, g.caps.db), Some("b:[c"));
    assert!(m(
        "%t:%r:%u@%d:[%p]:",
        "2026-11-28 15:41:22 UTC:h(1):a@b:[x]:LOG:  z"
    )
    .is_none());
    assert!(m("%t:%r:%u@%d:[%p]:", "2026-11-28 15:41:22 UTC:h(1):a@b:[7]:").is_none());
    assert!(m("%t:%r:%u@%d:[%p]:", "2026-11-28 15:41").is_none());
}

#[test]
fn debian_prefix_and_q() {
    let p = "%m [%p] %q%u@%d ";
    let line = "2026-11-28 15:41:22.123 UTC [42] app@shop LOG:  statement: select 1";
    let (g, msg) = m(p, line).unwrap();
    assert_eq!(msg, "statement: select 1");
    assert_eq!(field(line, g.caps.user), Some("app"));
    assert_eq!(
        g.caps.time.unwrap().to_rfc3339(),
        "2026-11-28T15:41:22.123+00:00"
    );
    // Background processes stop at %q; their message may hold `x@y `.
    let line = "2026-11-28 15:41:22.123 UTC [40] LOG:  checkpoint a@b LOG:  x";
    let (g, msg) = m(p, line).unwrap();
    assert_eq!(msg, "checkpoint a@b LOG:  x");
    assert_eq!(g.caps.user, None);
    let line = "2026-11-28 15:41:22.123 UTC [42] [unknown]@[unknown] LOG:  connection received: host=[local]";
    let (g, _) = m(p, line).unwrap();
    assert_eq!(field(line, g.caps.user), Some("[unknown]"));
    // Without %q a background line still matches, with empty fields.
    let line = "2026-11-28 15:41:22.123 UTC [40] @ LOG:  x";
    let (g, _) = m("%m [%p] %u@%d ", line).unwrap();
    assert_eq!(field(line, g.caps.user), Some(""));
}

#[test]
fn every_escape() {
    let p = "%a|%u|%d|%r|%h|%b|%p|%P|%t|%m|%n|%i|%e|%c|%l|%s|%v|%x|%Q|%%|%z|";
    let line = "psql app|bob|shop|10.0.0.9(5433)|10.0.0.9|client backend|77|70|2026-11-28 15:41:22 UTC|2026-11-28 15:41:22.250 UTC|1732808482.250|SELECT|28P01|6b0af627.4d|12|2026-11-28 15:00:00 UTC|3/17|0|-4242|%||ERROR:  boom";
    let (g, msg) = m(p, line).unwrap();
    assert_eq!(msg, "boom");
    assert_eq!(g.level, Level::Primary("ERROR"));
    assert_eq!(field(line, g.caps.app), Some("psql app"));
    assert_eq!(field(line, g.caps.user), Some("bob"));
    assert_eq!(field(line, g.caps.db), Some("shop"));
    assert_eq!(field(line, g.caps.host), Some("10.0.0.9"));
    assert_eq!(g.caps.port, Some(5433));
    assert_eq!(g.caps.pid, Some(77));
    assert_eq!(field(line, g.caps.sqlstate), Some("28P01"));
    assert_eq!(field(line, g.caps.session), Some("6b0af627.4d"));
    // %m is more precise than %t and %n (which differ here on purpose).
    assert_eq!(
        g.caps.time.unwrap().to_rfc3339(),
        "2026-11-28T15:41:22.250+00:00"
    );
    // %n alone, %P and %v empty (no parallel leader, no transaction), %Q positive.
    let line = "1732808482.250 [] [] [7] LOG:  x";
    let (g, _) = m("%n [%P] [%v] [%Q] ", line).unwrap();
    assert_eq!(
        g.caps.time.unwrap().to_rfc3339(),
        "2024-11-28T15:41:22.250+00:00"
    );
    assert!(m("%n ", "17328x LOG:  x").is_none());
    assert!(m("%e ", "2801 LOG:  x").is_none());
    assert!(m("%c ", "6b0af627 LOG:  x").is_none());
    assert!(m("%p ", "-1 LOG:  x").is_none());
    assert!(m("%l ", "x LOG:  x").is_none());
    assert!(m("%v ", "3 LOG:  x").is_none());
    assert!(m("%x ", " LOG:  x").is_none());
    // %s is the session start, not the event's time.
    let (g, _) = m("%s ", "2026-11-28 15:00:00 UTC LOG:  x").unwrap();
    assert_eq!(g.caps.time, None);
    // %b and %i hold spaces; %q at the end; a trailing lone % is dropped.
    let line = "[autovacuum launcher] [idle in transaction] LOG:  x";
    assert!(m("[%b] [%i] %q%", line).is_some());
}

#[test]
fn padding() {
    let line = "bob       |shop|      4242|LOG:  x";
    let (g, _) = m("%-10u|%d|%10p|", line).unwrap();
    assert_eq!(field(line, g.caps.user), Some("bob"));
    assert_eq!(g.caps.pid, Some(4242));
    // Padding followed by a space literal: the pad is part of the field.
    let line = "bob        shop LOG:  x";
    let (g, _) = m("%-10u %d ", line).unwrap();
    assert_eq!(field(line, g.caps.user), Some("bob"));
    assert_eq!(field(line, g.caps.db), Some("shop"));
    let line = "       bob shop LOG:  x";
    let (g, _) = m("%10u %d ", line).unwrap();
    assert_eq!(field(line, g.caps.user), Some("bob"));
    // Padded empty fields of a background process.
    let line = "           [9] LOG:  x";
    let (g, _) = m("%-10u [%p] ", line).unwrap();
    assert_eq!(field(line, g.caps.user), Some(""));
    assert_eq!(g.caps.pid, Some(9));
}

#[test]
fn host_escape_with_ipv6_and_colon() {
    let line = "::1:app:LOG:  x";
    let (g, _) = m("%h:%u:", line).unwrap();
    assert_eq!(field(line, g.caps.host), Some("::1"));
    assert_eq!(field(line, g.caps.user), Some("app"));
    let line = "2001:db8::1 app LOG:  x";
    let (g, _) = m("%h %u ", line).unwrap();
    assert_eq!(field(line, g.caps.host), Some("2001:db8::1"));
    let line = "[local] app LOG:  x";
    let (g, _) = m("%h %u ", line).unwrap();
    assert_eq!(field(line, g.caps.host), Some("[local]"));
    // Not a host: the split moves on and fails.
    assert!(m("%h %u ", "a@b c LOG:  x").is_none());
}

#[test]
fn field_at_the_end_runs_to_the_level() {
    let line = "2026-11-28 15:41:22 UTC appFATAL:  x";
    let (g, msg) = m("%t %a", line).unwrap();
    assert_eq!(field(line, g.caps.app), Some("app"));
    assert_eq!(msg, "x");
}

#[test]
fn zones_and_times() {
    let mut c = TimeCache::default();
    let (t, n) = pg_time(b"2026-11-28 15:41:22.5 +05:30 x", utc(), &mut c).unwrap();
    assert_eq!(t.to_rfc3339(), "2026-11-28T10:11:22.500+00:00");
    assert_eq!(n, 28);
    // Unknown zone: consumed, and the configured offset applies.
    let nine = FixedOffset::east_opt(9 * 3600).unwrap();
    let (t, n) = pg_time(b"2026-11-28 15:41:22 XYZT:", nine, &mut c).unwrap();
    assert_eq!(t.to_rfc3339(), "2026-11-28T06:41:22+00:00");
    assert_eq!(n, 24);
    // Cached: the same text gives the same time.
    let (t2, _) = pg_time(b"2026-11-28 15:41:22 XYZT:", utc(), &mut c).unwrap();
    assert_eq!(t, t2);
    assert!(pg_time(b"2026-02-30 15:41:22 UTC", utc(), &mut c).is_none());
    assert!(pg_time(b"2026-11-28 15:41:22. UTC", utc(), &mut c).is_none());
}

#[test]
fn sets_lock_and_relock() {
    let mut s = PrefixSet::new(None, Candidates::Stderr, utc());
    let deb = "2026-11-28 15:41:22.123 UTC [42] app@shop LOG:  x";
    let g = s.match_line(deb.as_bytes()).unwrap();
    assert_eq!(field(deb, g.caps.user), Some("app"));
    let rds = "2026-11-28 15:41:22 UTC:1.2.3.4(5):u@d:[7]:LOG:  x";
    let g = s.match_line(rds.as_bytes()).unwrap();
    assert_eq!(field(rds, g.caps.user), Some("u"));
    assert_eq!(s.locked, 0);
    assert!(s.match_line(b"garbage").is_none());
    assert!(s.mismatch_reason().contains("--pg-prefix"));
    let s = PrefixSet::new(Some("%m "), Candidates::Stderr, utc());
    assert!(s.mismatch_reason().contains("'%m '"));
}

#[test]
fn hostile_lines_cost_bounded_work() {
    // Many delimiters and no level word: backtracking is bounded, no panic.
    let line = format!("{}{}", "@ ".repeat(50_000), ":[");
    assert!(m("%u@%d %a@%u %d:[%p]:", &line).is_none());
    let line = "a".repeat(100_000);
    assert!(m("%u", &line).is_none());
    for p in ["%", "%-", "%5", "%-5", "%q", "%Q", ""] {
        let _ = m(p, "LOG:  x");
    }
    assert!(m("", "LOG:  x").is_some());
}
