//! keibi-dbprobe's response executor against the harness's real PostgreSQL and
//! MariaDB, connected as a least-privileged responder role: a locked role cannot
//! log in (a real login is refused) and its open session is gone; undo restores
//! exactly what was there (a role that could not log in before stays so, an
//! account locked before stays locked); applying twice changes nothing more; an
//! end of sessions from one address ends that client's session and not another's;
//! hostile role names are locked as those exact names and nothing else changes;
//! keibi's own role is never locked.
//!
//! Without the servers a test is skipped, unless `KEIBI_REQUIRE_SERVERS=1`.

mod common;

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::mariadb::{self, Mariadb};
use common::postgres::{self, Postgres, SUPERUSER};
use common::{describe, WAIT};
use keibi_dbprobe::respond::{Database, DbExecutor};
use keibi_model::{Finding, Resource, Severity};
use keibi_respond::{Action, ExecError, Executor, Mode, Request, State, Target};
use serde_json::Value;

/// A client holding a session open: its statements come on standard input, which
/// stays open until [`Held::finish`].
struct Held {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Held {
    fn spawn(cmd: &mut Command) -> Held {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        let stdin = child.stdin.take();
        Held { child, stdin }
    }

    /// Sends `sql` on the held session, ends the input and waits for the client.
    fn finish(mut self, sql: &str) -> Output {
        if let Some(mut s) = self.stdin.take() {
            let _ = s.write_all(sql.as_bytes());
        }
        let start = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() {
            if start.elapsed() > WAIT {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let child = std::mem::replace(&mut self.child, dummy());
        child.wait_with_output().expect("wait for the client")
    }
}

/// A finished process to leave in a [`Held`] whose client was taken.
fn dummy() -> Child {
    Command::new("true").spawn().expect("run true")
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `f` holds (a session visible, a session gone).
fn until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_000_000, 0).expect("a time")
}

fn finding() -> Finding {
    Finding::new(
        "test",
        "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
        &["respond"],
        Severity::new(8.0),
        Resource {
            kind: "db_instance".into(),
            id: "db".into(),
            ..Resource::default()
        },
        now(),
    )
}

fn action(target: Target) -> Action {
    Action {
        id: "0123456789abcdef".into(),
        finding_id: "f".into(),
        finding_type: "T".into(),
        rule: "default".into(),
        ..Action::new(target, Mode::Auto, State::Executing, now())
    }
}

fn lock(user: &str) -> Target {
    Target::LockRole {
        engine: None,
        instance: "db".into(),
        user: user.into(),
    }
}

fn end(user: &str, address: Option<&str>) -> Target {
    Target::EndSessions {
        engine: None,
        instance: "db".into(),
        user: user.into(),
        address: address.map(|a| a.parse().expect("an address")),
    }
}

/// The executor's three calls on one target.
struct Run {
    exec: DbExecutor,
    finding: Finding,
}

impl Run {
    fn new(url: String, password: &str) -> Run {
        let exec = DbExecutor::new(vec![Database {
            instance: "db".into(),
            url,
            password: Some(password.into()),
        }])
        .expect("valid settings");
        Run {
            exec,
            finding: finding(),
        }
    }

    fn prepare(&mut self, t: &Target) -> Result<Value, ExecError> {
        let a = action(t.clone());
        assert!(self.exec.accepts(t));
        self.exec.prepare(Request {
            action: &a,
            finding: &self.finding,
        })
    }

    fn apply(&mut self, t: &Target, prior: &Value) -> Result<Value, ExecError> {
        let a = action(t.clone());
        self.exec.apply(
            Request {
                action: &a,
                finding: &self.finding,
            },
            prior,
        )
    }

    fn undo(&mut self, t: &Target, prior: &Value, done: &Value) -> Result<(), ExecError> {
        let a = action(t.clone());
        self.exec.undo(
            Request {
                action: &a,
                finding: &self.finding,
            },
            prior,
            done,
        )
    }
}

// ---------------------------------------------------------------- PostgreSQL

/// One value of a query run as the superuser over the socket.
fn pg_value(pg: &Postgres, sql: &str) -> String {
    let out = pg.psql_local(
        SUPERUSER,
        "postgres",
        &format!("\\pset tuples_only on\n\\pset format unaligned\n{sql}\n"),
    );
    assert!(out.status.success(), "{sql}: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn pg_sessions(pg: &Postgres, user: &str) -> usize {
    pg_value(
        pg,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = {}",
            pg_literal(user)
        ),
    )
    .parse()
    .expect("a count")
}

/// A string literal for the test's own set-up SQL (standard strings: only `'`
/// doubles).
fn pg_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn pg_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn pg_can_login(pg: &Postgres, user: &str) -> bool {
    pg_value(
        pg,
        &format!(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = {}",
            pg_literal(user)
        ),
    ) == "t"
}

fn pg_login(pg: &Postgres, user: &str, password: &str) -> Output {
    pg.psql_tcp(user, password, "postgres", "SELECT 1;\n")
}

fn pg_ok(pg: &Postgres, sql: &str) {
    let out = pg.psql_local(SUPERUSER, "postgres", sql);
    assert!(out.status.success(), "{sql}: {}", describe(&out));
}

fn start_pg() -> Option<(Postgres, Run)> {
    let pg = Postgres::start()?;
    pg.add_respond_user();
    let run = Run::new(pg.respond_url(), postgres::RESPOND_PASSWORD);
    Some((pg, run))
}

#[test]
fn postgres_lock_role_ends_its_session_refuses_its_login_and_undo_restores_it() {
    let Some((pg, mut run)) = start_pg() else {
        return;
    };
    let user = postgres::APP_USER;
    let held = Held::spawn(&mut pg.psql_tcp_command(user, postgres::APP_PASSWORD, "postgres"));
    until("the held session", || pg_sessions(&pg, user) == 1);

    let t = lock(user);
    let prior = run.prepare(&t).expect("prepare");
    assert_eq!(prior["can_login"], true, "{prior}");
    // prepare changes nothing.
    assert!(pg_can_login(&pg, user) && pg_sessions(&pg, user) == 1);

    let done = run.apply(&t, &prior).expect("apply");
    assert_eq!(
        done["sessions_ended"].as_array().map(Vec::len),
        Some(1),
        "{done}"
    );
    assert!(!pg_can_login(&pg, user));
    assert_eq!(pg_sessions(&pg, user), 0, "the session was waited for");
    let out = held.finish("SELECT 1;\n");
    assert!(
        !out.status.success(),
        "the held session still answered: {}",
        describe(&out)
    );
    let out = pg_login(&pg, user, postgres::APP_PASSWORD);
    assert!(
        !out.status.success(),
        "login after lock: {}",
        describe(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not permitted to log in"),
        "{}",
        describe(&out)
    );

    // A retry after a kill: nothing more to change, no error.
    let again = run.apply(&t, &prior).expect("apply again");
    assert_eq!(again["sessions_ended"], serde_json::json!([]), "{again}");
    assert!(!pg_can_login(&pg, user));

    run.undo(&t, &prior, &done).expect("undo");
    assert!(pg_can_login(&pg, user));
    let out = pg_login(&pg, user, postgres::APP_PASSWORD);
    assert!(out.status.success(), "login after undo: {}", describe(&out));
    run.undo(&t, &prior, &done).expect("undo again");
    assert!(pg_can_login(&pg, user));
}

#[test]
fn postgres_a_role_that_could_not_log_in_before_stays_so_after_lock_and_undo() {
    let Some((pg, mut run)) = start_pg() else {
        return;
    };
    // `reporting` is NOLOGIN in the harness.
    assert!(!pg_can_login(&pg, "reporting"));
    let t = lock("reporting");
    let prior = run.prepare(&t).expect("prepare");
    assert_eq!(prior["can_login"], false, "{prior}");
    let done = run.apply(&t, &prior).expect("apply");
    assert!(!pg_can_login(&pg, "reporting"));
    run.undo(&t, &prior, &done).expect("undo");
    assert!(
        !pg_can_login(&pg, "reporting"),
        "undo gave login to a role that never had it"
    );
}

#[test]
fn postgres_end_sessions_from_an_address_ends_only_that_clients_session() {
    let Some((pg, mut run)) = start_pg() else {
        return;
    };
    let user = postgres::APP_USER;
    let tcp = Held::spawn(&mut pg.psql_tcp_command(user, postgres::APP_PASSWORD, "postgres"));
    let local = Held::spawn(&mut pg.psql_local_command(user, "postgres"));
    until("both sessions", || pg_sessions(&pg, user) == 2);

    let t = end(user, Some("127.0.0.1"));
    let prior = run.prepare(&t).expect("prepare");
    assert_eq!(
        prior["sessions"].as_array().map(Vec::len),
        Some(1),
        "{prior}"
    );
    let done = run.apply(&t, &prior).expect("apply");
    assert_eq!(
        done["sessions_ended"].as_array().map(Vec::len),
        Some(1),
        "{done}"
    );
    assert_eq!(pg_sessions(&pg, user), 1);
    let out = tcp.finish("SELECT 1;\n");
    assert!(
        !out.status.success(),
        "the TCP session survived: {}",
        describe(&out)
    );
    let out = local.finish("SELECT 1;\n");
    assert!(
        out.status.success(),
        "the socket session was ended: {}",
        describe(&out)
    );
    // Not a lock: the role still logs in.
    assert!(pg_login(&pg, user, postgres::APP_PASSWORD).status.success());
    // Not undoable.
    assert!(run.undo(&t, &prior, &done).is_err());

    // With no address, every session of the role.
    let a = Held::spawn(&mut pg.psql_tcp_command(user, postgres::APP_PASSWORD, "postgres"));
    let b = Held::spawn(&mut pg.psql_local_command(user, "postgres"));
    until("both sessions again", || pg_sessions(&pg, user) == 2);
    let t = end(user, None);
    let prior = run.prepare(&t).expect("prepare");
    let done = run.apply(&t, &prior).expect("apply");
    assert_eq!(
        done["sessions_ended"].as_array().map(Vec::len),
        Some(2),
        "{done}"
    );
    assert_eq!(pg_sessions(&pg, user), 0);
    drop((a, b));
}

#[test]
fn postgres_hostile_role_names_are_locked_as_exactly_those_names() {
    let Some((pg, mut run)) = start_pg() else {
        return;
    };
    let hostile = [
        "a\"; DROP ROLE x; --",
        "' OR 1=1 --",
        "x\" NOLOGIN; --",
        "\\\"x",
    ];
    pg_ok(&pg, "CREATE ROLE x LOGIN PASSWORD 'x-pw';\n");
    for h in hostile {
        pg_ok(
            &pg,
            &format!("CREATE ROLE {} LOGIN PASSWORD 'h-pw';\n", pg_ident(h)),
        );
    }
    let roles_before = pg_value(
        &pg,
        "SELECT string_agg(rolname || ':' || rolcanlogin, ',' ORDER BY rolname) FROM pg_roles",
    );
    for h in hostile {
        let t = lock(h);
        let prior = run
            .prepare(&t)
            .unwrap_or_else(|e| panic!("prepare {h:?}: {e}"));
        run.apply(&t, &prior)
            .unwrap_or_else(|e| panic!("apply {h:?}: {e}"));
        assert!(!pg_can_login(&pg, h), "{h:?} can still log in");
    }
    // Every role is still there, and only the hostile ones changed.
    let expected: Vec<String> = roles_before
        .split(',')
        .map(|r| {
            let (name, login) = r.rsplit_once(':').expect("name:login");
            let login = if hostile.contains(&name) {
                "false"
            } else {
                login
            };
            format!("{name}:{login}")
        })
        .collect();
    let after = pg_value(
        &pg,
        "SELECT string_agg(rolname || ':' || rolcanlogin, ',' ORDER BY rolname) FROM pg_roles",
    );
    assert_eq!(after, expected.join(","));
    assert!(pg_can_login(&pg, "x") && pg_can_login(&pg, postgres::APP_USER));
    assert!(pg_login(&pg, "x", "x-pw").status.success());

    // A name that only looks like an existing role is no role: nothing changes.
    let t = lock("app\" NOLOGIN; --");
    let e = run.prepare(&t).unwrap_err();
    assert!(matches!(e, ExecError::Permanent(_)), "{e}");
    assert!(e.to_string().contains("no role"), "{e}");
    assert!(pg_can_login(&pg, postgres::APP_USER));
}

#[test]
fn postgres_keibi_never_locks_its_own_role_a_superuser_needs_one_and_errors_say_whether_to_retry() {
    let Some((pg, mut run)) = start_pg() else {
        return;
    };
    let e = run.prepare(&lock(postgres::RESPOND_USER)).unwrap_err();
    assert!(
        matches!(e, ExecError::Permanent(_)) && e.to_string().contains("never locks itself"),
        "{e}"
    );
    assert!(pg_can_login(&pg, postgres::RESPOND_USER));
    // The responder is no superuser: the server refuses to alter one, permanently,
    // and the message names the server without the password.
    let t = lock(SUPERUSER);
    let prior = run.prepare(&t).expect("prepare");
    assert_eq!(prior["superuser"], true);
    let e = run.apply(&t, &prior).unwrap_err();
    assert!(matches!(e, ExecError::Permanent(_)), "{e}");
    let text = e.to_string();
    assert!(text.starts_with(&pg.respond_url()), "{text}");
    assert!(!text.contains(postgres::RESPOND_PASSWORD), "{text}");
    assert!(pg_can_login(&pg, SUPERUSER));

    // A wrong password will fail again: permanent, and not printed.
    let mut wrong = Run::new(pg.respond_url(), "wrong-pw-4Xq");
    let e = wrong.prepare(&lock(postgres::APP_USER)).unwrap_err();
    assert!(matches!(e, ExecError::Permanent(_)), "{e}");
    assert!(!e.to_string().contains("wrong-pw-4Xq"), "{e}");
    // A server that is down may be back: transient.
    let mut pg = pg;
    pg.stop();
    let e = run.prepare(&lock(postgres::APP_USER)).unwrap_err();
    assert!(e.is_transient(), "{e}");
}

// ---------------------------------------------------------------- MariaDB

fn my_value(db: &Mariadb, sql: &str) -> String {
    let out = db.client_root(&format!("{sql}\n"));
    assert!(out.status.success(), "{sql}: {}", describe(&out));
    // --batch: a header line, then the rows.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n")
}

fn my_ok(db: &Mariadb, sql: &str) {
    let out = db.client_root(sql);
    assert!(out.status.success(), "{sql}: {}", describe(&out));
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

/// Every account as `HEX(user)@host:locked`, one line each, sorted.
fn my_accounts(db: &Mariadb) -> Vec<String> {
    let v = my_value(
        db,
        "SELECT CONCAT(HEX(User), '@', Host, ':', \
         IF(JSON_VALUE(Priv, '$.account_locked') IN ('true', '1'), 'true', 'false')) AS a \
         FROM mysql.global_priv ORDER BY a",
    );
    v.lines().map(str::to_string).collect()
}

fn my_locked(db: &Mariadb, user: &str, host: &str) -> bool {
    my_accounts(db).contains(&format!("{}@{host}:true", hex(user)))
}

fn my_sessions(db: &Mariadb, user: &str) -> usize {
    my_value(
        db,
        &format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE HEX(USER) = '{}'",
            hex(user)
        ),
    )
    .trim()
    .parse()
    .expect("a count")
}

fn start_my() -> Option<(Mariadb, Run)> {
    let db = Mariadb::start()?;
    db.add_respond_user();
    let run = Run::new(db.respond_url(), mariadb::RESPOND_PASSWORD);
    Some((db, run))
}

#[test]
fn mariadb_lock_role_locks_every_host_ends_sessions_and_undo_unlocks_only_what_was_unlocked() {
    let Some((db, mut run)) = start_my() else {
        return;
    };
    let user = mariadb::APP_USER;
    let pw = mariadb::APP_PASSWORD;
    // Three accounts of the user: `%` (the harness's), localhost, and one locked
    // before keibi came.
    my_ok(
        &db,
        &format!(
            "CREATE USER '{user}'@'localhost' IDENTIFIED BY '{pw}';\n\
             CREATE USER '{user}'@'10.9.9.9' IDENTIFIED BY '{pw}' ACCOUNT LOCK;\n"
        ),
    );
    let held = Held::spawn(&mut db.client_tcp_command(user, pw));
    until("the held session", || my_sessions(&db, user) == 1);
    let before = my_accounts(&db);

    let t = lock(user);
    let prior = run.prepare(&t).expect("prepare");
    assert_eq!(
        prior["accounts"].as_array().map(Vec::len),
        Some(3),
        "{prior}"
    );
    assert_eq!(my_accounts(&db), before, "prepare changed something");

    let done = run.apply(&t, &prior).expect("apply");
    assert_eq!(
        done["sessions_ended"].as_array().map(Vec::len),
        Some(1),
        "{done}"
    );
    for h in ["%", "localhost", "10.9.9.9"] {
        assert!(my_locked(&db, user, h), "{user}@{h} not locked");
    }
    until("the killed session to go", || my_sessions(&db, user) == 0);
    let out = held.finish("SELECT 1;\n");
    assert!(
        !out.status.success(),
        "the held session still answered: {}",
        describe(&out)
    );
    let out = db.client_tcp(user, pw, None, "SELECT 1;\n");
    assert!(
        !out.status.success(),
        "login after lock: {}",
        describe(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("locked"),
        "{}",
        describe(&out)
    );

    let again = run.apply(&t, &prior).expect("apply again");
    assert_eq!(again["sessions_ended"], serde_json::json!([]), "{again}");

    run.undo(&t, &prior, &done).expect("undo");
    assert_eq!(my_accounts(&db), before, "undo did not restore exactly");
    assert!(
        my_locked(&db, user, "10.9.9.9"),
        "an account locked before keibi was unlocked"
    );
    let out = db.client_tcp(user, pw, None, "SELECT 1;\n");
    assert!(out.status.success(), "login after undo: {}", describe(&out));
    run.undo(&t, &prior, &done).expect("undo again");
    assert_eq!(my_accounts(&db), before);
}

#[test]
fn mariadb_end_sessions_from_an_address_ends_only_that_clients_session() {
    let Some((db, mut run)) = start_my() else {
        return;
    };
    let user = mariadb::APP_USER;
    let pw = mariadb::APP_PASSWORD;
    my_ok(
        &db,
        &format!("CREATE USER '{user}'@'localhost' IDENTIFIED BY '{pw}';\n"),
    );
    let tcp = Held::spawn(&mut db.client_tcp_command(user, pw));
    let socket = Held::spawn(&mut db.client_socket_command(user, pw));
    until("both sessions", || my_sessions(&db, user) == 2);

    let t = end(user, Some("127.0.0.1"));
    let prior = run.prepare(&t).expect("prepare");
    assert_eq!(
        prior["sessions"].as_array().map(Vec::len),
        Some(1),
        "{prior}"
    );
    let done = run.apply(&t, &prior).expect("apply");
    assert_eq!(
        done["sessions_ended"].as_array().map(Vec::len),
        Some(1),
        "{done}"
    );
    until("the TCP session to go", || my_sessions(&db, user) == 1);
    let out = tcp.finish("SELECT 1;\n");
    assert!(
        !out.status.success(),
        "the TCP session survived: {}",
        describe(&out)
    );
    let out = socket.finish("SELECT 1;\n");
    assert!(
        out.status.success(),
        "the socket session was ended: {}",
        describe(&out)
    );
    // Another address ends nothing; not a lock.
    let other = Held::spawn(&mut db.client_tcp_command(user, pw));
    until("a new session", || my_sessions(&db, user) == 1);
    let t = end(user, Some("127.0.0.2"));
    let prior = run.prepare(&t).expect("prepare");
    let done = run.apply(&t, &prior).expect("apply");
    assert_eq!(done["sessions_ended"], serde_json::json!([]), "{done}");
    let out = other.finish("SELECT 1;\n");
    assert!(out.status.success(), "{}", describe(&out));
}

#[test]
fn mariadb_hostile_user_names_are_locked_as_exactly_those_names() {
    let Some((db, mut run)) = start_my() else {
        return;
    };
    // Written for the set-up as '…' strings: \' and \\ escape (the default sql_mode).
    let hostile: [(&str, &str); 5] = [
        ("a\"; DROP USER x; --", "a\"; DROP USER x; --"),
        ("' OR 1=1 --", "\\' OR 1=1 --"),
        ("b`c` ACCOUNT UNLOCK; --", "b`c` ACCOUNT UNLOCK; --"),
        ("d\\", "d\\\\"),
        ("x'@'%", "x\\'@\\'%"),
    ];
    my_ok(&db, "CREATE USER 'x'@'%' IDENTIFIED BY 'x-pw';\n");
    for (_, sql) in hostile {
        my_ok(
            &db,
            &format!("CREATE USER '{sql}'@'%' IDENTIFIED BY 'h-pw';\n"),
        );
    }
    let before = my_accounts(&db);
    for (name, _) in hostile {
        assert!(
            before.contains(&format!("{}@%:false", hex(name))),
            "set-up did not create {name:?}: {before:?}"
        );
        let t = lock(name);
        let prior = run
            .prepare(&t)
            .unwrap_or_else(|e| panic!("prepare {name:?}: {e}"));
        run.apply(&t, &prior)
            .unwrap_or_else(|e| panic!("apply {name:?}: {e}"));
    }
    let expected: Vec<String> = before
        .iter()
        .map(|a| {
            if hostile
                .iter()
                .any(|(n, _)| a == &format!("{}@%:false", hex(n)))
            {
                a.replace(":false", ":true")
            } else {
                a.clone()
            }
        })
        .collect();
    assert_eq!(my_accounts(&db), expected, "something else changed");
    assert!(db
        .client_tcp("x", "x-pw", None, "SELECT 1;\n")
        .status
        .success());

    let e = run.prepare(&lock("x' OR '1'='1")).unwrap_err();
    assert!(e.to_string().contains("no account"), "{e}");
}

#[test]
fn mariadb_keibi_never_locks_its_own_user_and_errors_say_whether_to_retry() {
    let Some((db, mut run)) = start_my() else {
        return;
    };
    let e = run.prepare(&lock(mariadb::RESPOND_USER)).unwrap_err();
    assert!(
        matches!(e, ExecError::Permanent(_)) && e.to_string().contains("never locks itself"),
        "{e}"
    );
    assert!(!my_locked(&db, mariadb::RESPOND_USER, "%"));

    let mut wrong = Run::new(db.respond_url(), "wrong-pw-4Xq");
    let e = wrong.prepare(&lock(mariadb::APP_USER)).unwrap_err();
    assert!(matches!(e, ExecError::Permanent(_)), "{e}");
    assert!(!e.to_string().contains("wrong-pw-4Xq"), "{e}");
    let mut db = db;
    db.stop();
    let e = run.prepare(&lock(mariadb::APP_USER)).unwrap_err();
    assert!(e.is_transient(), "{e}");
}
