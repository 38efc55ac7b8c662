use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use keibi_model::{Finding, Resource, Severity};
use keibi_respond::{Action, Mode, State};

use super::*;

/// A hostile text: shell syntax, quotes, a newline, a terminal escape, a NUL-free
/// but non-ASCII tail.
const HOSTILE: &str = "x'; $(touch pwned) `touch pwned2` \"a\" \n\u{1b}[31m; rm -rf / # 攻撃 \\";

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_000_000, 0).unwrap()
}

fn finding() -> Finding {
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &["t"],
        Severity::new(8.0),
        Resource {
            kind: "db_instance".into(),
            id: "prod-db".into(),
            ..Resource::default()
        },
        now(),
    );
    f.actor.user = Some(HOSTILE.into());
    f.title = HOSTILE.into();
    // Larger than a pipe's buffer: written whole or not at all.
    f.description = "d".repeat(300_000);
    f
}

fn action(name: &str) -> Action {
    Action {
        id: "00112233aabbccdd".into(),
        finding_id: "f".into(),
        finding_type: "CredentialAccess:RDS/BruteForce".into(),
        rule: "r".into(),
        ..Action::new(
            Target::Exec { name: name.into() },
            Mode::Auto,
            State::Executing,
            now(),
        )
    }
}

fn exec(name: &str, argv: &[&str], timeout: Duration) -> ExecExecutor {
    let mut m = BTreeMap::new();
    m.insert(
        name.to_string(),
        ExecCommand {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            timeout,
        },
    );
    ExecExecutor::new(m)
}

fn apply(e: &mut ExecExecutor, name: &str, f: &Finding) -> Result<Value, ExecError> {
    let a = action(name);
    let req = Request {
        action: &a,
        finding: f,
    };
    assert!(e.accepts(&a.target));
    assert_eq!(e.prepare(req).unwrap(), Value::Null);
    e.apply(req, &Value::Null)
}

#[test]
fn the_input_arrives_whole_and_byte_identical_and_nothing_of_the_finding_is_in_argv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = script(
        d,
        "ticket",
        "cd \"$(dirname \"$0\")\"; cat > stdin.json; env > env.txt; \
         for a in \"$0\" \"$@\"; do printf '%s\\n' \"$a\"; done > argv.txt; echo opened",
    );
    let argv = [s.to_str().unwrap(), "--queue", "sec ops"];
    let mut e = exec("ticket", &argv, Duration::from_secs(20));
    let f = finding();
    let done = apply(&mut e, "ticket", &f).unwrap();
    assert_eq!(done["stdout"], "opened\n");
    assert_eq!(done["stdout_truncated"], false);

    let a = action("ticket");
    let expected = serde_json::to_vec(&json!({ "action": a, "finding": f })).unwrap();
    let got = fs::read(d.join("stdin.json")).unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "the input differs");
    let v: Value = serde_json::from_slice(&got).unwrap();
    assert_eq!(v["finding"]["actor"]["user"], HOSTILE);
    assert_eq!(v["action"]["target"]["name"], "ticket");

    let argv_seen = fs::read_to_string(d.join("argv.txt")).unwrap();
    assert_eq!(argv_seen, format!("{}\n--queue\nsec ops\n", argv[0]));
    assert!(!d.join("pwned").exists() && !d.join("pwned2").exists());

    let env = fs::read_to_string(d.join("env.txt")).unwrap();
    for want in [
        "KEIBI_ACTION_ID=00112233aabbccdd",
        &format!("KEIBI_FINDING_ID={}", f.id),
        "KEIBI_FINDING_TYPE=CredentialAccess:RDS/BruteForce",
        "KEIBI_SEVERITY=8.0",
    ] {
        assert!(env.lines().any(|l| l == want), "{want} not in:\n{env}");
    }
    // keibi's own environment is not passed on (cargo sets this for tests).
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    assert!(!env.contains("CARGO_MANIFEST_DIR"), "{env}");
    if std::env::var_os("PATH").is_some() {
        assert!(env.lines().any(|l| l.starts_with("PATH=")));
    }
}

#[test]
fn a_command_past_its_timeout_is_killed_with_its_process_group_and_is_transient() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A child left in the background, then a wait that would last a minute.
    let s = script(
        d,
        "slow",
        "sleep 60 & echo $! > \"$(dirname \"$0\")/bg.pid\"; sleep 60",
    );
    let mut e = exec("slow", &[s.to_str().unwrap()], Duration::from_secs(1));
    let start = Instant::now();
    let err = apply(&mut e, "slow", &finding()).unwrap_err();
    let took = start.elapsed();
    assert!(err.is_transient(), "{err}");
    assert!(err.to_string().contains("killed"), "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let pid = fs::read_to_string(d.join("bg.pid")).unwrap();
    let stat = format!("/proc/{}/stat", pid.trim());
    let deadline = Instant::now() + Duration::from_secs(5);
    // Gone, or a zombie waiting for init to reap it: no longer running.
    while fs::read_to_string(&stat).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| !r.trim_start().starts_with('Z'))
    }) {
        assert!(Instant::now() < deadline, "the background sleep survived");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_nonzero_exit_is_permanent_with_the_start_of_stderr_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "fail",
        "printf 'no such queue\\nforged line \\033[31m\\342\\200\\256x' >&2; \
         head -c 5000 /dev/zero | tr '\\0' e >&2; exit 3",
    );
    let mut e = exec("fail", &[s.to_str().unwrap()], Duration::from_secs(20));
    let err = apply(&mut e, "fail", &finding()).unwrap_err();
    assert!(!err.is_transient());
    let m = err.to_string();
    assert!(
        m.starts_with(
            "exec fail: exit status 3: no such queue\\nforged line \\u{1b}[31m\\u{202e}x"
        ),
        "{m}"
    );
    assert!(!m.contains('\n') && !m.contains('\u{1b}'));
    // 1 KiB of stderr at most.
    assert!(m.matches('e').count() < MAX_STDERR, "{}", m.len());
    assert!(m.len() < MAX_STDERR + 200);

    let s = script(dir.path(), "killed", "kill -9 $$");
    let mut e = exec("killed", &[s.to_str().unwrap()], Duration::from_secs(20));
    let err = apply(&mut e, "killed", &finding()).unwrap_err();
    assert!(
        !err.is_transient() && err.to_string().contains("signal 9"),
        "{err}"
    );
}

#[test]
fn stdout_is_kept_to_4_kib_and_a_command_that_ignores_its_input_still_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(dir.path(), "loud", "head -c 100000 /dev/zero | tr '\\0' a");
    let mut e = exec("loud", &[s.to_str().unwrap()], Duration::from_secs(20));
    let done = apply(&mut e, "loud", &finding()).unwrap();
    assert_eq!(done["stdout"].as_str().unwrap(), "a".repeat(MAX_STDOUT));
    assert_eq!(done["stdout_truncated"], true);
    assert_eq!(done["exit"], 0);
}

#[test]
fn only_configured_names_are_accepted_a_missing_program_is_permanent_and_nothing_undoes() {
    let mut e = exec(
        "gone",
        &["/nonexistent/keibi-test-program"],
        Duration::from_secs(5),
    );
    assert!(!e.accepts(&Target::Exec {
        name: "other".into()
    }));
    assert!(!e.accepts(&Target::Webhook {
        name: "gone".into()
    }));
    let err = apply(&mut e, "gone", &finding()).unwrap_err();
    assert!(
        !err.is_transient() && err.to_string().contains("cannot run"),
        "{err}"
    );
    let a = action("gone");
    let f = finding();
    let req = Request {
        action: &a,
        finding: &f,
    };
    assert!(e.undo(req, &Value::Null, &Value::Null).is_err());
    // An empty argv is no command.
    let e = exec("empty", &[], Duration::from_secs(5));
    assert!(!e.accepts(&Target::Exec {
        name: "empty".into()
    }));
}

#[test]
fn settings_give_the_default_timeout() {
    let mut m = BTreeMap::new();
    m.insert(
        "t".to_string(),
        RespondExec {
            command: vec!["/bin/true".into()],
            timeout: None,
        },
    );
    let e = ExecExecutor::from_settings(&m);
    assert_eq!(e.commands["t"].timeout, DEFAULT_TIMEOUT);
}

#[test]
fn a_child_left_holding_stdout_does_not_hold_keibi_past_a_short_grace() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(dir.path(), "detach", "sleep 5 & echo started");
    let mut e = exec("detach", &[s.to_str().unwrap()], Duration::from_secs(20));
    let start = Instant::now();
    let done = apply(&mut e, "detach", &finding()).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(done["stdout"], "started\n");
}
