use super::*;
use crate::postgres::prefix::Captures;

fn infer_str(s: &str) -> Inference {
    infer(s.as_bytes()).expect("a level word")
}

#[test]
fn pgbadgers_recommended_prefix_with_host_label() {
    // pgbadger's t/fixtures/pg_vacuums.log (first lines), a prefix no known one matches.
    let log = "2024-06-27 00:00:07 CEST [58151]: [1-1] user=,db=,host=,app= LOG:  automatic analyze of table \"t\"\n\
               2024-06-27 00:00:08 CEST [58152]: [1-1] user=bob,db=shop,host=10.0.0.1,app=psql LOG:  connection authorized: user=bob database=shop\n\
               2024-06-27 00:00:09 CEST [58152]: [2-1] user=bob,db=shop,host=10.0.0.1,app=psql LOG:  statement: select 1\n";
    let i = infer_str(log);
    assert_eq!(i.prefix, "%t [%p]: [%l-1] user=%u,db=%d,host=%h,app=%a ");
    assert_eq!((i.explained, i.sampled), (3, 3));
    assert!(i.accepted());
}

#[test]
fn supabase_and_crowdsec_host_first() {
    let log = "65.2.129.7 2023-03-12 11:17:28.425 UTC [53962] zysk@postgres FATAL:  password authentication failed for user \"zysk\"\n\
               65.2.129.7 2023-03-12 11:17:28.411 UTC [53959] zyrian@postgres FATAL:  password authentication failed for user \"zyrian\"\n";
    let i = infer_str(log);
    assert_eq!(i.prefix, "%h %m [%p] %u@%d ");
    assert!(i.accepted());
}

#[test]
fn message_text_puts_the_database_first() {
    // A prefix `%d@%u`: the authorized lines of two processes name the user and database.
    let log = "2026-01-01 10:00:00 UTC [10] shop@bob LOG:  connection authorized: user=bob database=shop\n\
               2026-01-01 10:00:01 UTC [11] crm@eve LOG:  connection authorized: user=eve database=crm\n\
               2026-01-01 10:00:02 UTC [11] crm@eve LOG:  statement: select 1\n";
    assert_eq!(infer_str(log).prefix, "%t [%p] %d@%u ");
}

#[test]
fn one_forged_process_does_not_outvote_the_others() {
    // Process 66's user name makes its line look as if the order were database@user;
    // the two other processes say user@database, and each process counts once.
    let log = "2026-01-01 10:00:00 UTC [10] bob@shop LOG:  connection authorized: user=bob database=shop\n\
               2026-01-01 10:00:01 UTC [11] eve@crm LOG:  connection authorized: user=eve database=crm\n\
               2026-01-01 10:00:02 UTC [66] x@y FATAL:  password authentication failed for user \"y\"\n\
               2026-01-01 10:00:02 UTC [66] x@y FATAL:  password authentication failed for user \"y\"\n\
               2026-01-01 10:00:02 UTC [66] x@y FATAL:  password authentication failed for user \"y\"\n";
    assert_eq!(infer_str(log).prefix, "%t [%p] %u@%d ");
}

#[test]
fn debian_q_prefix() {
    let log = "2026-01-01 10:00:00.123 UTC [10] LOG:  database system is ready\n\
               2026-01-01 10:00:01.123 UTC [11] bob@shop LOG:  connection authorized: user=bob database=shop\n\
               2026-01-01 10:00:02.123 UTC [12] eve@crm LOG:  connection authorized: user=eve database=crm\n";
    let i = infer_str(log);
    assert_eq!(i.explained, 3, "{i:?}");
    assert_eq!(i.prefix, "%m [%p] %q%u@%d ");
}

#[test]
fn azure_session_prefix_and_percent_sign() {
    let log = "2026-01-01 10:00:00 UTC-6009c305.5ce-LOG:  connection received: host=1.2.3.4 port=1\n\
               2026-01-01 10:00:01 UTC-6009c306.5cf-LOG:  connection received: host=1.2.3.4 port=1\n";
    assert_eq!(infer_str(log).prefix, "%t-%c-");
    let log =
        "2026-01-01 10:00:00 UTC [1] 100% LOG:  x\n2026-01-01 10:00:00 UTC [2] 100% LOG:  y\n";
    assert_eq!(infer_str(log).prefix, "%t [%p] 100%% ");
}

#[test]
fn nothing_fits_gives_the_closest_candidate() {
    let log = "2026-01-01 10:00:00 UTC [1] LOG:  x\nnot a log line at all\nnor this\n";
    let i = infer_str(log);
    assert_eq!(i.prefix, "%t [%p] ");
    assert_eq!((i.explained, i.sampled), (1, 3));
    assert!(!i.accepted());
    assert!(infer(b"no level word here\nnor here\n").is_none());
}

#[test]
fn hostile_bytes_never_panic() {
    let mut rng = Rng(7);
    for _ in 0..2000 {
        let n = (rng.next() % 200) as usize;
        let alphabet = b"0123456789:.-[]()@=, LOG:  FATAL:  user=db%\n\tabcdefABCDEF/";
        let b: Vec<u8> = (0..n)
            .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
            .collect();
        let _ = infer(&b);
    }
}

/// A small seeded generator (the crate has no proptest): xorshift64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
}

/// A random prefix: escapes with separators, names labelled, as `user@db`, or
/// (the user and database) unlabelled with messages naming them.
fn random_prefix(rng: &mut Rng) -> String {
    let mut parts: Vec<String> = Vec::new();
    let time = *rng.pick(&["%t", "%m", "%n"]);
    let mut items: Vec<String> = vec![time.into()];
    items.push(rng.pick(&["[%p]", "%p", "pid=%p", "(%p)"]).to_string());
    if rng.chance(50) {
        items.push(rng.pick(&["[%l-1]", "%l-1"]).to_string());
    }
    match rng.next() % 3 {
        0 => items.push(rng.pick(&["%u@%d", "%d@%u"]).to_string()),
        1 => {
            let mut labelled = vec![
                rng.pick(&["user=%u", "usr=%u", "u=%u"]).to_string(),
                rng.pick(&["db=%d", "database=%d"]).to_string(),
            ];
            if rng.chance(50) {
                labelled.push(rng.pick(&["app=%a", "appli=%a"]).to_string());
            }
            if rng.chance(50) {
                labelled.push(rng.pick(&["client=%h", "host=%h", "remote=%r"]).to_string());
            }
            if rng.chance(50) {
                labelled.swap(0, 1);
            }
            let sep = *rng.pick(&[",", " ", "|"]);
            items.push(labelled.join(sep));
        }
        _ => {}
    }
    if rng.chance(40) {
        items.push(rng.pick(&["%h", "%r"]).to_string());
    }
    if rng.chance(30) {
        items.push(rng.pick(&["%c", "[%c]", "%v", "%e", "%x"]).to_string());
    }
    if rng.chance(20) {
        items.push("%s".to_string());
    }
    // The backend type, the activity or command tag, the parallel leader: `%i` and
    // `%P` are empty on most lines.
    if rng.chance(30) {
        items.push(rng.pick(&["%b", "[%b]", "type=%b", "<%b>"]).to_string());
    }
    if rng.chance(30) {
        items.push(rng.pick(&["%i", "[%i]", "(%i)", "cmd=%i"]).to_string());
    }
    if rng.chance(30) {
        items.push(rng.pick(&["%P", "[%P]", "leader=%P", "(%P)"]).to_string());
    }
    // The time mostly first, the rest in any order (a shuffle of the tail).
    for i in (2..items.len()).rev() {
        let j = 1 + (rng.next() % i as u64) as usize;
        items.swap(i, j);
    }
    // The leader after the process id, as PostgreSQL's documentation writes them: a
    // leader written first is read as the process id (known limit, docs/sources.md).
    let at = |items: &[String], pat: &str| items.iter().position(|i| i.contains(pat));
    if let (Some(p), Some(l)) = (at(&items, "%p"), at(&items, "%P")) {
        if l < p {
            items.swap(l, p);
        }
    }
    for (i, it) in items.iter().enumerate() {
        parts.push(it.clone());
        if i + 1 < items.len() {
            parts.push(rng.pick(&[" ", ":", " - ", "|", "] [", " :: "]).to_string());
        }
    }
    let end = *rng.pick(&[" ", ": ", ":", " | "]);
    format!("{}{end}", parts.concat())
}

/// Renders one line of `prefix` for process `k`'s `n`th line.
fn render_line(prefix: &str, k: usize, n: usize, authed: bool, msg: &str) -> String {
    let user = format!("user{k}x");
    let db = format!("db{k}y");
    let b = prefix.as_bytes();
    let mut s = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            s.push(b[i] as char);
            i += 1;
            continue;
        }
        let e = b[i + 1];
        i += 2;
        let v = match e {
            b't' => format!("2026-03-0{} 10:{:02}:0{} UTC", 1 + k % 9, n, k % 10),
            b'm' => format!(
                "2026-03-0{} 10:{:02}:0{}.{:03} UTC",
                1 + k % 9,
                n,
                k % 10,
                7 * n
            ),
            b'n' => format!("17700000{:02}.{:03}", k, n),
            b's' => format!("2026-03-01 09:00:0{} UTC", k % 10),
            b'p' => format!("{}", 4100 + 37 * k),
            b'l' => format!("{}", n + 1),
            b'u' if authed => user.clone(),
            b'd' if authed => db.clone(),
            b'a' if authed => format!("app{k}"),
            b'u' | b'd' | b'a' => String::new(),
            b'h' => format!("10.0.{k}.9"),
            b'r' => format!("10.0.{k}.9({})", 50000 + k),
            b'c' => format!("6a0b{:04x}.{:x}", k, 4100 + 37 * k),
            b'v' => format!("{k}/{}", n + 10),
            b'e' => "00000".to_string(),
            b'x' => "0".to_string(),
            // Process 2 is a parallel worker of process 0.
            b'b' if k == 2 => "parallel worker".to_string(),
            b'b' if authed => "client backend".to_string(),
            b'b' => "not initialized".to_string(),
            b'i' if authed && k != 2 => [
                "authentication",
                "idle",
                "SELECT",
                "idle in transaction",
                "CREATE TABLE",
            ][n % 5]
                .to_string(),
            b'i' => String::new(),
            b'P' if k == 2 => format!("{}", 4100),
            b'P' => String::new(),
            _ => unreachable!(),
        };
        s.push_str(&v);
    }
    s.push_str(msg);
    s
}

fn sample_log(prefix: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for k in 0..3 {
        let (u, d) = (format!("user{k}x"), format!("db{k}y"));
        let msgs = [
            (false, "LOG:  connection received: host=10.0.0.9 port=5000".to_string()),
            (true, format!("LOG:  connection authorized: user={u} database={d}")),
            (true, "LOG:  statement: SELECT 1".to_string()),
            (true, format!("FATAL:  password authentication failed for user \"{u}\"")),
            (true, format!("LOG:  disconnection: session time: 0:00:01.000 user={u} database={d} host=10.0.0.9 port=5000")),
        ];
        for (n, (authed, m)) in msgs.iter().enumerate() {
            lines.push(render_line(prefix, k, n, *authed, m));
        }
    }
    lines
}

fn fields(c: &Captures, line: &[u8]) -> [Option<Vec<u8>>; 9] {
    // (`%b`, `%i` and `%P` are not captured: the prefix reading them must still read
    // every other field and the message the same.)
    let s = |x: Option<crate::postgres::prefix::Span>| x.map(|x| x.of(line).to_vec());
    [
        c.time.map(|t| t.to_rfc3339().into_bytes()),
        s(c.user),
        s(c.db),
        s(c.app),
        s(c.host),
        c.port.map(|p| p.to_string().into_bytes()),
        c.pid.map(|p| p.to_string().into_bytes()),
        s(c.session),
        s(c.sqlstate).filter(|s| s != b"00000"),
    ]
}

/// Random prefixes, lines rendered with them, and the inferred prefix must read every
/// line into the same fields as the prefix that wrote it.
#[test]
fn random_prefixes_are_recovered() {
    let cases: u64 = std::env::var("KEIBI_INFER_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut rng = Rng(0x6b65_6962_6931_3400);
    let utc = Utc.fix();
    for case in 0..cases {
        let prefix = random_prefix(&mut rng);
        let lines = sample_log(&prefix);
        let log = lines.join("\n");
        let inf = infer(log.as_bytes()).expect("level words");
        let want = Prefix::compile(&prefix);
        let got = Prefix::compile(&inf.prefix);
        let (mut c1, mut c2) = (TimeCache::default(), TimeCache::default());
        for l in &lines {
            let l = l.as_bytes();
            let a = want
                .matches(l, utc, &mut c1)
                .expect("the writing prefix reads its line");
            let b = got.matches(l, utc, &mut c2).unwrap_or_else(|| {
                panic!(
                    "case {case}: {prefix:?} inferred as {:?}, which does not read {:?}",
                    inf.prefix,
                    String::from_utf8_lossy(l)
                )
            });
            assert_eq!(
                fields(&a.caps, l),
                fields(&b.caps, l),
                "case {case}: {prefix:?} inferred as {:?} reads {:?} differently",
                inf.prefix,
                String::from_utf8_lossy(l)
            );
            assert_eq!(a.text, b.text);
        }
        assert!(inf.accepted());
    }
}

#[test]
fn a_known_prefix_that_swallows_a_field_gives_way() {
    // pgbadger's queryid.log: the Debian prefix reads `[queryid=N] postgres` as the user.
    let log = b"2022-02-17 14:45:10.440 UTC [691] [queryid=1081270519976314062] postgres@so LOG:  statement: set x to 0;\n\
                2022-02-17 14:45:13.727 UTC [692] [queryid=4266247047529477710] bob@so LOG:  statement: SELECT 1\n";
    let i = infer(log).unwrap();
    assert_eq!(i.prefix, "%m [%p] [queryid=%Q] %u@%d ");
    assert!(refines_known(log, &i));
    // Where the known prefix reads the same names, it stays.
    let rds = b"2026-11-28 15:41:22 UTC:10.0.0.1(5000):bob@shop:[5916]:LOG:  connection authorized: user=bob database=shop\n\
                2026-11-28 15:41:23 UTC:10.0.0.2(5001):eve@crm:[5917]:LOG:  connection authorized: user=eve database=crm\n";
    let i = infer(rds).unwrap();
    assert_eq!(i.prefix, "%t:%r:%u@%d:[%p]:");
    assert!(!refines_known(rds, &i));
    // Forged names on most lines cannot make a literal of theirs win over benign lines.
    let forged = b"2022-02-17 14:45:10.440 UTC [1] [queryid=1] a@so LOG:  statement: x\n\
                   2022-02-17 14:45:10.440 UTC [2] [queryid=2] b@so LOG:  statement: x\n\
                   2022-02-17 14:45:10.440 UTC [3] [queryid=3] c@so LOG:  statement: x\n\
                   2022-02-17 14:45:10.440 UTC [4] bob@so LOG:  statement: x\n";
    let i = infer(forged).unwrap();
    assert!(!refines_known(forged, &i), "{i:?}");
}

#[test]
fn empty_labelled_names_are_fields_and_not_settled() {
    // A live log's first lines are the server's own: `user=` with nothing after it
    // is the user field, empty, not literal text.
    let log = "2026-01-01 10:00:00.100 UTC [900] user=,db=,app=,client= LOG:  database system was shut down\n\
               2026-01-01 10:00:00.300 UTC [901] user=,db=,app=,client= LOG:  database system is ready to accept connections\n";
    let i = infer_str(log);
    assert_eq!(i.prefix, "%m [%p] user=%u,db=%d,app=%a,client=%h ");
    assert!(i.accepted());
    // No line names a user or database: too early to read a live log with it.
    assert_eq!(i.named, 0);
    assert!(!i.settled());
    let log = format!(
        "{log}2026-01-01 10:00:01.000 UTC [950] user=app,db=shop,app=[unknown],client=192.0.2.7 FATAL:  password authentication failed for user \"app\"\n"
    );
    let i = infer_str(&log);
    assert_eq!(i.prefix, "%m [%p] user=%u,db=%d,app=%a,client=%h ");
    assert_eq!(i.named, 1);
    assert!(i.settled());
}

#[test]
fn backend_type_activity_and_leader_from_a_real_server() {
    // PostgreSQL 15 with `%m [%p] %b %i %P ` (fixture's README): `%i` and `%P` are
    // empty on most lines, so each shape alone shows only some of the fields.
    let log = include_str!("../../../tests/data/postgres/postgresql-backend-type-prefix.log");
    let i = infer_str(log);
    assert_eq!(i.prefix, "%m [%p] %b %i %P ", "{i:?}");
    assert!(i.accepted() && i.settled());
    assert_eq!(i.explained, i.sampled);
    // The parallel worker's line: its leader is read, and its process is its own.
    let p = Prefix::compile(&i.prefix);
    let line = log
        .lines()
        .find(|l| l.contains("parallel worker  672 ERROR"))
        .unwrap();
    let m = p.matches(line.as_bytes(), Utc.fix(), &mut TimeCache::default());
    assert_eq!(m.unwrap().caps.pid, Some(673));
}

#[test]
fn labelled_backend_type_and_command_tag() {
    let log = "2026-01-01 10:00:00 UTC [10] type=postmaster cmd= LOG:  database system is ready to accept connections\n\
               2026-01-01 10:00:01 UTC [11] type=client backend cmd=authentication LOG:  connection authorized: user=bob database=shop\n\
               2026-01-01 10:00:02 UTC [11] type=client backend cmd=CREATE TABLE ERROR:  relation \"t\" already exists\n";
    let i = infer_str(log);
    assert_eq!(i.prefix, "%t [%p] type=%b cmd=%i ");
    assert_eq!(i.explained, 3);
}

#[test]
fn filled_name_fields_settle_without_a_message_naming_anyone() {
    // `log_connections` off: no message names a user, but a client's statement line
    // fills the prefix's user and database.
    let log = "2026-01-01 10:00:00.100 UTC [900] user=,db=,app=,client= LOG:  database system was shut down\n\
               2026-01-01 10:00:00.300 UTC [901] user=,db=,app=,client= LOG:  database system is ready to accept connections\n\
               2026-01-01 10:00:01.000 UTC [950] user=app,db=shop,app=psql,client=192.0.2.7 LOG:  statement: SELECT 1\n";
    let i = infer_str(log);
    assert_eq!(i.prefix, "%m [%p] user=%u,db=%d,app=%a,client=%h ");
    assert_eq!(i.named, 1);
    assert!(i.settled());
}
