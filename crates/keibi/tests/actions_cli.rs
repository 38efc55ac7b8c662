//! `keibi actions` end to end with the built binary, on a store whose journal is
//! written through the store's API as the daemon writes it: list, show, approve,
//! cancel, undo (and its wait for the daemon), pause and resume, their refusals and
//! exit codes, escaping of attacker-written names, and JSON that reads back as the
//! journal's actions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use keibi_model::finding::Resource;
use keibi_model::{ChangeKind, Finding, FindingChange, Severity};
use keibi_respond::{action_id, Action, Mode, State, Target};
use keibi_store::{ActionFilter, Change, Checkpoint, Commit, FindingStore, NewAction, Store};
use serde_json::json;

/// A user name an attacker chose: a colour escape, a bidi override, a newline.
const HOSTILE: &str = "evil\x1b[31mred\u{202e}gnp\nadmin";

fn keibi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(args)
        .env("USER", "tester")
        .env_remove("KEIBI_LANG")
        .env_remove("LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .output()
        .expect("keibi runs")
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(args: &[&str]) -> Output {
    let o = keibi(args);
    assert_eq!(code(&o), Some(0), "keibi {args:?}: {}", err(&o));
    o
}

fn t(m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 3, m, 0).unwrap()
}

/// The journal's rows, by what they are in the test.
struct Journal {
    path: PathBuf,
    finding: Finding,
    /// Planned in mode approve: lock the hostile role.
    lock: String,
    /// Executed, undoable: block an address for an hour.
    block: String,
    /// Executed, not undoable: end sessions.
    ended: String,
    /// Simulated: a webhook.
    hook: String,
}

fn journal(dir: &Path) -> Journal {
    let path = dir.join("keibi.db");
    let mut s = Store::open(&path).unwrap();
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &["x"],
        Severity::new(8.0),
        Resource {
            kind: "db_instance".into(),
            id: "orders-db".into(),
            ..Resource::default()
        },
        t(0),
    );
    f.title = "Brute force on orders-db from 203.0.113.9".into();
    f.actor.ip = Some("203.0.113.9".parse().unwrap());
    s.commit(&Commit {
        finding_changes: vec![FindingChange {
            kind: ChangeKind::New,
            finding: f.clone(),
            added: 1,
        }],
        checkpoints: vec![Checkpoint {
            source: "pg".into(),
            position: 1,
            data: vec![],
        }],
        ..Commit::new(t(1))
    })
    .unwrap();
    let entry = s.unplanned_entries(10).unwrap()[0].id;
    let new = |target: Target, mode: Mode, state: State| {
        let id = action_id(&f.id, &target, entry);
        NewAction {
            action: Action {
                id,
                finding_id: f.id.clone(),
                finding_type: f.finding_type.clone(),
                rule: "brute-force".into(),
                expire_after_secs: Some(3600),
                ..Action::new(target, mode, state, t(2))
            },
            detail: Some("rule brute-force".into()),
        }
    };
    let actions = [
        new(
            Target::LockRole {
                engine: None,
                instance: "orders-db".into(),
                user: HOSTILE.into(),
            },
            Mode::Approve,
            State::Planned,
        ),
        new(
            Target::BlockAddress {
                address: "203.0.113.9/32".parse().unwrap(),
                instance: Some("orders-db".into()),
                place: Default::default(),
            },
            Mode::Auto,
            State::Planned,
        ),
        new(
            Target::EndSessions {
                engine: None,
                instance: "orders-db".into(),
                user: "app".into(),
                address: None,
            },
            Mode::Auto,
            State::Planned,
        ),
        new(
            Target::Webhook { name: "soc".into() },
            Mode::Simulate,
            State::Simulated,
        ),
    ];
    let ids: Vec<String> = actions.iter().map(|a| a.action.id.clone()).collect();
    s.plan_actions(entry, &f, &actions, t(2)).unwrap();
    for (id, done) in [
        (&ids[1], json!({"entry": 100})),
        (&ids[2], json!({"ended": 3})),
    ] {
        let keibi = |c: Change| Change {
            by: "keibi".into(),
            ..c
        };
        assert!(s
            .transition(
                id,
                State::Planned,
                State::Executing,
                &keibi(Change {
                    executor: Some("nftables".into()),
                    prior: Some(json!({"present": false})),
                    attempt: true,
                    ..Change::default()
                }),
                t(3),
            )
            .unwrap());
        assert!(s
            .transition(
                id,
                State::Executing,
                State::Executed,
                &keibi(Change {
                    done: Some(done),
                    expires_at: Some(Some(t(3) + TimeDelta::hours(1))),
                    ..Change::default()
                }),
                t(4),
            )
            .unwrap());
    }
    Journal {
        path,
        finding: f,
        lock: ids[0].clone(),
        block: ids[1].clone(),
        ended: ids[2].clone(),
        hook: ids[3].clone(),
    }
}

fn state_of(path: &Path, id: &str) -> (State, Option<String>) {
    let s = Store::open_read_only(path).unwrap();
    let a = s.action(id).unwrap().unwrap().action;
    (a.state, a.by)
}

#[test]
fn list_shows_every_action_escaped_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path());
    let store = j.path.to_str().unwrap();
    let o = ok(&["actions", "--store", store, "list", "--format", "table"]);
    let text = out(&o);
    for id in [&j.lock, &j.block, &j.ended, &j.hook] {
        assert!(text.contains(id.as_str()), "{id} in\n{text}");
    }
    for head in [
        "ID",
        "STATE",
        "MODE",
        "ACTION",
        "TARGET",
        "FINDING TYPE",
        "RULE",
        "UPDATED",
        "EXPIRES",
    ] {
        assert!(text.lines().next().unwrap().contains(head), "{text}");
    }
    assert!(text.contains("203.0.113.9/32 for orders-db"), "{text}");
    assert!(text.contains("sessions of app on orders-db"), "{text}");
    assert!(text.contains("4 actions"), "{text}");
    // The hostile name is shown escaped: no raw escape, override or line break.
    assert!(
        !text.contains('\x1b') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(
        text.contains("evil\\u{1b}[31mred\\u{202e}gnp\\nadmin"),
        "{text}"
    );
    assert_eq!(
        text.lines().count(),
        6,
        "header, four rows, the count: {text}"
    );
    // Columns are aligned: STATE and EXPIRES start at the same column on every
    // row (display width; the escaped name is the widest target).
    let lines: Vec<&str> = text.lines().take(5).collect();
    for head in ["STATE", "EXPIRES"] {
        let col = lines[0].find(head).unwrap();
        for l in &lines[1..] {
            // Every character here takes one column (`…` included).
            let c: Vec<char> = l.chars().collect();
            assert_eq!(c[col - 2..col], [' ', ' '], "{head} in {l:?}");
            assert_ne!(c[col], ' ', "{head} in {l:?}");
        }
    }
    let o = ok(&[
        "actions", "--store", store, "list", "--state", "executed", "--format", "jsonl",
    ]);
    let ids: Vec<String> = out(&o)
        .lines()
        .map(|l| serde_json::from_str::<Action>(l).unwrap().id)
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&j.block) && ids.contains(&j.ended));
    let o = ok(&[
        "actions",
        "--store",
        store,
        "list",
        "--state",
        "planned,simulated",
        "--format",
        "jsonl",
    ]);
    assert_eq!(out(&o).lines().count(), 2);
    let o = ok(&[
        "actions",
        "--store",
        store,
        "list",
        "--finding",
        &j.finding.id[..6],
        "--format",
        "jsonl",
    ]);
    assert_eq!(out(&o).lines().count(), 4);
    let o = ok(&[
        "actions",
        "--store",
        store,
        "list",
        "--finding",
        "ffff",
        "--format",
        "table",
    ]);
    assert!(out(&o).contains("No actions."), "{}", out(&o));
    let o = ok(&[
        "actions", "--store", store, "list", "--since", "2h", "--format", "jsonl",
    ]);
    assert_eq!(
        out(&o).lines().count(),
        0,
        "everything changed in 2026-12-01"
    );
    let o = keibi(&["actions", "--store", store, "list", "--state", "done"]);
    assert_eq!(code(&o), Some(2));
    assert!(err(&o).contains("not a state"), "{}", err(&o));
}

/// `--format json` reads back as the journal's own actions, field for field.
#[test]
fn json_round_trips_to_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path());
    let store = j.path.to_str().unwrap();
    let o = ok(&["actions", "--store", store, "list", "--format", "json"]);
    let listed: Vec<Action> = serde_json::from_slice(&o.stdout).unwrap();
    let s = Store::open_read_only(&j.path).unwrap();
    assert_eq!(listed, s.list_actions(&ActionFilter::default()).unwrap());

    let o = ok(&[
        "actions",
        "--store",
        store,
        "show",
        &j.block[..8],
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rec = s.action(&j.block).unwrap().unwrap();
    let action: Action = serde_json::from_value(v["action"].clone()).unwrap();
    assert_eq!(action, rec.action);
    assert_eq!(v["target_key"], "block_address 203.0.113.9/32");
    assert_eq!(v["finding"]["id"], j.finding.id.as_str());
    let history: Vec<keibi_respond::Transition> =
        serde_json::from_value(v["history"].clone()).unwrap();
    assert_eq!(history, rec.history);
    assert_eq!(history.len(), 3);
}

#[test]
fn show_tells_everything_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path());
    let store = j.path.to_str().unwrap();
    let o = ok(&[
        "actions", "--store", store, "show", &j.block, "--format", "text",
    ]);
    let text = out(&o);
    for want in [
        "block address",
        "executed",
        "203.0.113.9/32 for orders-db",
        "Brute force on orders-db from 203.0.113.9",
        "nftables",
        r#"{"present":false}"#,
        r#"{"entry":100}"#,
        "1 h 00 min",
        "History:",
        "planned, by keibi: rule brute-force",
        "planned → executing, by keibi",
        "executing → executed, by keibi",
    ] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }
    let o = ok(&[
        "actions", "--store", store, "show", &j.lock, "--format", "text",
    ]);
    let text = out(&o);
    assert!(
        !text.contains('\x1b') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(text.contains("role evil\\u{1b}[31mred"), "{text}");
    // Unknown, ambiguous-looking and malformed ids: exit 2.
    for bad in ["ffffffff", "abc", "zzzz'; DROP TABLE actions; --"] {
        let o = keibi(&["actions", "--store", store, "show", bad]);
        assert_eq!(code(&o), Some(2), "{bad}: {}", err(&o));
    }
    assert!(
        err(&keibi(&["actions", "--store", store, "show", "ffffffff"]))
            .contains("no action with an id starting with ffffffff")
    );
}

#[test]
fn approve_and_cancel_move_only_what_they_may() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path());
    let store = j.path.to_str().unwrap();
    // Not planned in mode approve: refused, exit 1, nothing moved.
    for id in [&j.block, &j.hook] {
        let o = keibi(&["actions", "--store", store, "approve", id]);
        assert_eq!(code(&o), Some(1), "{}", err(&o));
        assert!(
            err(&o).contains("only an action planned in mode approve"),
            "{}",
            err(&o)
        );
    }
    assert_eq!(state_of(&j.path, &j.block).0, State::Executed);
    let o = ok(&[
        "actions",
        "--store",
        store,
        "approve",
        &j.lock[..6],
        "--by",
        "alice",
    ]);
    assert!(
        err(&o).contains("keibi run executes it next"),
        "{}",
        err(&o)
    );
    assert_eq!(
        state_of(&j.path, &j.lock),
        (State::Approved, Some("alice".into()))
    );
    let o = keibi(&["actions", "--store", store, "approve", &j.lock]);
    assert_eq!(code(&o), Some(1), "approved twice: {}", err(&o));
    // Cancel: approved yes, executed no.
    let o = keibi(&["actions", "--store", store, "cancel", &j.block]);
    assert_eq!(code(&o), Some(1));
    assert!(
        err(&o).contains("only a planned or approved action"),
        "{}",
        err(&o)
    );
    ok(&["actions", "--store", store, "cancel", &j.lock]);
    assert_eq!(
        state_of(&j.path, &j.lock),
        (State::Cancelled, Some("tester".into())),
        "--by defaults to $USER"
    );
    let s = Store::open_read_only(&j.path).unwrap();
    let h = s.action(&j.lock).unwrap().unwrap().history;
    let by: Vec<(State, &str)> = h.iter().map(|x| (x.to, x.by.as_str())).collect();
    assert_eq!(
        by,
        vec![
            (State::Planned, "keibi"),
            (State::Approved, "alice"),
            (State::Cancelled, "tester"),
        ]
    );
    // No name anywhere: `cli`.
    let o = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(["actions", "--store", store, "pause"])
        .env_remove("USER")
        .env_remove("LOGNAME")
        .output()
        .unwrap();
    assert_eq!(code(&o), Some(0), "{}", err(&o));
    let p = Store::open_read_only(&j.path)
        .unwrap()
        .paused()
        .unwrap()
        .unwrap();
    assert_eq!(p.by, "cli");
    let o = keibi(&["actions", "--store", store, "approve", &j.lock]);
    assert_eq!(code(&o), Some(1), "cancelled stays cancelled: {}", err(&o));
    let o = keibi(&[
        "actions", "--store", store, "cancel", &j.hook, "--by", "a\x1bb",
    ]);
    assert_eq!(
        code(&o),
        Some(2),
        "a control character in --by: {}",
        err(&o)
    );
}

#[test]
fn undo_asks_the_daemon_and_waits_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path());
    let store = j.path.to_str().unwrap();
    // Not undoable, or not executed: refused.
    let o = keibi(&["actions", "--store", store, "undo", &j.ended]);
    assert_eq!(code(&o), Some(1));
    assert!(err(&o).contains("is not undoable"), "{}", err(&o));
    let o = keibi(&["actions", "--store", store, "undo", &j.lock]);
    assert_eq!(code(&o), Some(1));
    assert!(err(&o).contains("only an executed action"), "{}", err(&o));
    assert_eq!(state_of(&j.path, &j.ended).0, State::Executed);

    // With no daemon, --wait gives up: exit 1, and the request stays.
    let o = keibi(&[
        "actions", "--store", store, "undo", &j.block, "--by", "bob", "--wait", "1s",
    ]);
    assert_eq!(code(&o), Some(1), "{}", err(&o));
    let e = err(&o);
    assert!(e.contains("the daemon (keibi run) performs it"), "{e}");
    assert!(e.contains("still undoing after 1s"), "{e}");
    assert_eq!(
        state_of(&j.path, &j.block),
        (State::Undoing, Some("bob".into()))
    );
    // Asked again while undoing: refused.
    assert_eq!(
        code(&keibi(&["actions", "--store", store, "undo", &j.block])),
        Some(1)
    );

    // A daemon stand-in undoes it, or fails to, while `--wait` polls.
    for (to, reason, exit, said) in [
        (State::Undone, None, 0, "is undone"),
        (
            State::Failed,
            Some("nft: permission denied"),
            1,
            "is failed: nft: permission denied",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let j = journal(dir.path());
        let store = j.path.to_str().unwrap().to_string();
        let waiter = std::thread::spawn({
            let id = j.block.clone();
            move || keibi(&["actions", "--store", &store, "undo", &id, "--wait", "30s"])
        });
        let mut s = Store::open(&j.path).unwrap();
        let change = Change {
            by: "keibi".into(),
            reason: reason.map(String::from),
            ..Change::default()
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !s
            .transition(&j.block, State::Undoing, to, &change, Utc::now())
            .unwrap()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the request never came"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let o = waiter.join().unwrap();
        assert_eq!(code(&o), Some(exit), "{}", err(&o));
        assert!(err(&o).contains(said), "{said:?} in {}", err(&o));
    }
}

#[test]
fn pause_and_resume_are_the_stores_kill_switch() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path());
    let store = j.path.to_str().unwrap();
    let o = ok(&["actions", "--store", store, "list", "--format", "table"]);
    assert!(!out(&o).contains("PAUSED"));
    let o = ok(&[
        "actions",
        "--store",
        store,
        "pause",
        "--reason",
        "incident\x1b42",
        "--by",
        "carol",
    ]);
    assert!(err(&o).contains("Responses paused by carol"), "{}", err(&o));
    let p = Store::open_read_only(&j.path)
        .unwrap()
        .paused()
        .unwrap()
        .unwrap();
    assert_eq!(p.by, "carol");
    let o = ok(&["actions", "--store", store, "list", "--format", "table"]);
    let first = out(&o).lines().next().unwrap().to_string();
    assert!(first.starts_with("PAUSED by carol since "), "{first}");
    assert!(first.contains("(incident\\u{1b}42)"), "{first}");
    // Machine formats keep stdout clean: the banner goes to stderr.
    let o = ok(&["actions", "--store", store, "list", "--format", "json"]);
    assert!(serde_json::from_slice::<Vec<Action>>(&o.stdout).is_ok());
    assert!(err(&o).contains("PAUSED"), "{}", err(&o));
    let o = ok(&["actions", "--store", store, "pause", "--by", "dave"]);
    assert!(err(&o).contains("already paused by carol"), "{}", err(&o));
    // Approving while paused is recorded, and says nothing runs yet.
    let o = ok(&["actions", "--store", store, "approve", &j.lock]);
    assert!(err(&o).contains("Responses are paused"), "{}", err(&o));
    let o = ok(&["actions", "--store", store, "resume", "--by", "carol"]);
    assert!(
        err(&o).contains("Responses resumed by carol"),
        "{}",
        err(&o)
    );
    assert_eq!(
        Store::open_read_only(&j.path).unwrap().paused().unwrap(),
        None
    );
    let resumed: Option<String> = rusqlite::Connection::open(&j.path)
        .unwrap()
        .query_row("SELECT resumed_by FROM respond_pauses", [], |r| r.get(0))
        .unwrap();
    assert_eq!(resumed.as_deref(), Some("carol"), "who resumed is kept");
    let o = ok(&["actions", "--store", store, "list", "--format", "table"]);
    assert!(!out(&o).contains("PAUSED"));
    let o = ok(&["actions", "--store", store, "resume"]);
    assert!(err(&o).contains("were not paused"), "{}", err(&o));
}

#[test]
fn japanese_and_a_missing_store() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path());
    let store = j.path.to_str().unwrap();
    ok(&["actions", "--store", store, "pause", "--by", "carol"]);
    let o = ok(&[
        "--lang",
        "ja",
        "--display-tz",
        "Asia/Tokyo",
        "actions",
        "--store",
        store,
        "list",
        "--format",
        "table",
    ]);
    let text = out(&o);
    for want in [
        "停止中（carol、",
        "状態",
        "計画済み",
        "実行済み",
        "承認制",
        "アドレスをブロック",
        "対応 4件",
        "JST",
    ] {
        assert!(text.contains(want), "{want} in\n{text}");
    }
    let o = keibi(&[
        "--lang", "ja", "actions", "--store", store, "undo", &j.ended,
    ]);
    assert_eq!(code(&o), Some(1));
    assert!(err(&o).contains("取り消せません"), "{}", err(&o));

    let missing = dir.path().join("none.db");
    let o = keibi(&["actions", "--store", missing.to_str().unwrap(), "list"]);
    assert_eq!(code(&o), Some(2));
    assert!(err(&o).contains("no store here"), "{}", err(&o));
    assert!(!missing.exists(), "not created");
    let o = keibi(&["actions", "--store", missing.to_str().unwrap(), "pause"]);
    assert_eq!(code(&o), Some(2));
    assert!(!missing.exists(), "not created");
}
