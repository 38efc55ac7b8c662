//! The response journal on real files: planning from outbox entries, moves as
//! compare-and-set with their history, what is due when, the kill switch, the
//! `action` outbox entries written with the moves people hear of (in the same
//! transaction), retention, and the migration of a store of the previous schema.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use keibi_model::finding::Resource;
use keibi_model::{ChangeKind, Finding, FindingChange, Severity};
use keibi_respond::{action_id, Action, Mode, State, Target};
mod common;

use keibi_store::{
    ActionFilter, Change, Checkpoint, Commit, FindingStore, NewAction, OutboxKind, Query,
    StatusChange, Store, StoreError, Transition,
};
use serde_json::json;

fn t(m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 3, m, 0).unwrap()
}

fn finding(key: &str) -> Finding {
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &[key],
        Severity::new(7.0),
        Resource {
            kind: "db_instance".into(),
            id: "orders-db".into(),
            ..Resource::default()
        },
        t(0),
    );
    f.title = format!("Brute force {key}");
    f.actor.ip = Some("203.0.113.7".parse().unwrap());
    f
}

fn commit(at: DateTime<Utc>, f: &Finding, position: u64) -> Commit {
    Commit {
        finding_changes: vec![FindingChange {
            kind: ChangeKind::Grew,
            finding: f.clone(),
            added: 1,
        }],
        checkpoints: vec![Checkpoint {
            source: "pg".into(),
            position,
            data: vec![],
        }],
        ..Commit::new(at)
    }
}

fn lock(user: &str) -> Target {
    Target::LockRole {
        engine: None,
        instance: "orders-db".into(),
        user: user.into(),
    }
}

fn new_action(f: &Finding, target: Target, trigger: i64, mode: Mode, state: State) -> NewAction {
    NewAction {
        action: Action {
            id: action_id(&f.id, &target, trigger),
            finding_id: f.id.clone(),
            finding_type: f.finding_type.clone(),
            rule: "lock-brute".into(),
            expire_after_secs: Some(3600),
            ..Action::new(target, mode, state, t(0))
        },
        detail: Some("rule lock-brute".into()),
    }
}

fn by(who: &str) -> Change {
    Change {
        by: who.into(),
        ..Change::default()
    }
}

/// A store with one finding committed; returns it and its outbox entry's id.
fn store_with_finding(b: &common::Backend, key: &str) -> (Store, Finding, i64) {
    let mut s = Store::open(b.path()).unwrap();
    let f = finding(key);
    s.commit(&commit(t(1), &f, 1)).unwrap();
    let entry = s.unplanned_entries(10).unwrap();
    assert_eq!(entry.len(), 1);
    (s, f, entry[0].id)
}

fn action_entries(s: &Store) -> Vec<(String, State)> {
    s.outbox(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == OutboxKind::Action)
        .map(|e| {
            let a = e.action.expect("an action entry carries its action");
            (a.id, a.state)
        })
        .collect()
}

#[test]
fn plan_then_moves_build_the_history_and_the_row() {
    for b in common::backends() {
        let (mut s, f, entry) = store_with_finding(&b, "a");
        let na = new_action(&f, lock("app"), entry, Mode::Approve, State::Planned);
        let id = na.action.id.clone();
        assert_eq!(s.plan_actions(entry, &f, &[na], t(2)).unwrap(), 1);
        assert!(
            s.unplanned_entries(10).unwrap().is_empty(),
            "entry considered"
        );

        assert!(s
            .transition(&id, State::Planned, State::Approved, &by("alice"), t(3))
            .unwrap());
        let exec = Change {
            by: "keibi".into(),
            executor: Some("postgres".into()),
            prior: Some(json!({"rolcanlogin": true})),
            attempt: true,
            ..Change::default()
        };
        assert!(s
            .transition(&id, State::Approved, State::Executing, &exec, t(4))
            .unwrap());
        let done = Change {
            by: "keibi".into(),
            done: Some(json!({"sessions_ended": 2})),
            expires_at: Some(Some(t(4) + TimeDelta::hours(1))),
            detail: Some("locked".into()),
            ..Change::default()
        };
        assert!(s
            .transition(&id, State::Executing, State::Executed, &done, t(5))
            .unwrap());

        let rec = s.action(&id[..6]).unwrap().expect("found by a prefix");
        let a = &rec.action;
        assert_eq!(a.state, State::Executed);
        assert_eq!(a.mode, Mode::Approve);
        assert_eq!(a.target, lock("app"));
        assert_eq!(a.executor.as_deref(), Some("postgres"));
        assert_eq!(a.prior, Some(json!({"rolcanlogin": true})));
        assert_eq!(a.done, Some(json!({"sessions_ended": 2})));
        assert_eq!(a.attempts, 1);
        assert_eq!(a.expires_at, Some(t(4) + TimeDelta::hours(1)));
        assert_eq!(a.by.as_deref(), Some("alice"), "who approved it");
        assert_eq!((a.created_at, a.updated_at), (t(2), t(5)));
        assert_eq!(rec.finding.title, "Brute force a");
        let moves: Vec<_> = rec
            .history
            .iter()
            .map(|h| (h.from, h.to, h.by.as_str(), h.at))
            .collect();
        assert_eq!(
            moves,
            vec![
                (None, State::Planned, "keibi", t(2)),
                (Some(State::Planned), State::Approved, "alice", t(3)),
                (Some(State::Approved), State::Executing, "keibi", t(4)),
                (Some(State::Executing), State::Executed, "keibi", t(5)),
            ]
        );
        assert_eq!(rec.history[0].detail.as_deref(), Some("rule lock-brute"));
        assert_eq!(rec.history[3].detail.as_deref(), Some("locked"));

        // The journal survives reopening, read-only too.
        drop(s);
        let ro = Store::open_read_only(b.path()).unwrap();
        assert_eq!(ro.action(&id).unwrap().unwrap(), rec);
        assert_eq!(ro.actions_of_finding(&f.id).unwrap().len(), 1);
        let listed = ro
            .list_actions(&ActionFilter {
                states: vec![State::Executed],
                finding_id: Some(f.id[..8].to_string()),
                ..ActionFilter::default()
            })
            .unwrap();
        assert_eq!(listed, vec![rec.action.clone()]);
        assert!(ro
            .list_actions(&ActionFilter {
                states: vec![State::Planned],
                ..ActionFilter::default()
            })
            .unwrap()
            .is_empty());
        assert!(ro
            .list_actions(&ActionFilter {
                since: Some(t(6)),
                ..ActionFilter::default()
            })
            .unwrap()
            .is_empty());
    }
}

#[test]
fn a_stale_move_is_refused_and_final_states_never_move() {
    for b in common::backends() {
        let (mut s, f, entry) = store_with_finding(&b, "a");
        let na = new_action(&f, lock("app"), entry, Mode::Approve, State::Planned);
        let id = na.action.id.clone();
        s.plan_actions(entry, &f, &[na], t(2)).unwrap();
        // A person approves; the daemon, which read `planned` before, cancels: refused.
        assert!(s
            .transition(&id, State::Planned, State::Approved, &by("alice"), t(3))
            .unwrap());
        assert!(!s
            .transition(&id, State::Planned, State::Cancelled, &by("bob"), t(4))
            .unwrap());
        assert!(!s
            .transition(
                "0000000000000000",
                State::Planned,
                State::Approved,
                &by("x"),
                t(4)
            )
            .unwrap());
        let rec = s.action(&id).unwrap().unwrap();
        assert_eq!(rec.action.state, State::Approved);
        assert_eq!(rec.action.by.as_deref(), Some("alice"));
        assert_eq!(rec.history.len(), 2, "the refused move left no line");

        assert!(s
            .transition(&id, State::Approved, State::Cancelled, &by("bob"), t(5))
            .unwrap());
        let e = s
            .transition(&id, State::Cancelled, State::Approved, &by("bob"), t(6))
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{e}");
        let e = s
            .transition(&id, State::Approved, State::Planned, &by("bob"), t(6))
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{e}");
        assert_eq!(
            s.action(&id).unwrap().unwrap().action.state,
            State::Cancelled
        );
    }
}

#[test]
fn planning_an_entry_twice_writes_one_row() {
    for b in common::backends() {
        let (mut s, f, entry) = store_with_finding(&b, "a");
        let na = new_action(&f, lock("app"), entry, Mode::Simulate, State::Simulated);
        assert_eq!(
            s.plan_actions(entry, &f, std::slice::from_ref(&na), t(2))
                .unwrap(),
            1
        );
        // A kill after the commit, before the responder knew: planned again.
        assert_eq!(
            s.plan_actions(entry, &f, std::slice::from_ref(&na), t(3))
                .unwrap(),
            0
        );
        let all = s.list_actions(&ActionFilter::default()).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].created_at, t(2));
        assert_eq!(s.action(&na.action.id).unwrap().unwrap().history.len(), 1);
        assert_eq!(action_entries(&s), vec![(na.action.id, State::Simulated)]);
    }
}

#[test]
fn plan_refuses_states_and_findings_it_does_not_plan() {
    for b in common::backends() {
        let (mut s, f, entry) = store_with_finding(&b, "a");
        let running = new_action(&f, lock("app"), entry, Mode::Auto, State::Executed);
        assert!(matches!(
            s.plan_actions(entry, &f, &[running], t(2)),
            Err(StoreError::Invalid(_))
        ));
        let other = finding("b");
        let na = new_action(&other, lock("app"), entry, Mode::Auto, State::Planned);
        assert!(matches!(
            s.plan_actions(entry, &f, &[na], t(2)),
            Err(StoreError::Invalid(_))
        ));
        assert!(s.list_actions(&ActionFilter::default()).unwrap().is_empty());
        assert_eq!(s.unplanned_entries(10).unwrap().len(), 1, "still to plan");
    }
}

/// Every state the journal can hold, and for each whether `due_actions` at t(30)
/// must return it.
#[test]
fn due_actions_are_exactly_the_documented_set() {
    for b in common::backends() {
        let (mut s, f, entry) = store_with_finding(&b, "a");
        let now = t(30);
        let soon = Some(Some(t(40)));
        let past = Some(Some(t(20)));
        // (user, mode, path of moves, change of the last move, due at `now`)
        type Case = (&'static str, Mode, &'static [State], Change, bool);
        let keibi = || by("keibi");
        let cases: Vec<Case> = vec![
            ("approve-waiting", Mode::Approve, &[], keibi(), false),
            ("auto-planned", Mode::Auto, &[], keibi(), true),
            ("approved", Mode::Approve, &[State::Approved], keibi(), true),
            (
                "killed-executing",
                Mode::Auto,
                &[State::Executing],
                keibi(),
                true,
            ),
            (
                "failed-due",
                Mode::Auto,
                &[State::Executing, State::Failed],
                Change {
                    next_at: past,
                    ..keibi()
                },
                true,
            ),
            (
                "failed-later",
                Mode::Auto,
                &[State::Executing, State::Failed],
                Change {
                    next_at: soon,
                    ..keibi()
                },
                false,
            ),
            (
                "failed-for-good",
                Mode::Auto,
                &[State::Executing, State::Failed],
                Change {
                    next_at: Some(None),
                    ..keibi()
                },
                false,
            ),
            (
                "undoing",
                Mode::Auto,
                &[State::Executing, State::Executed, State::Undoing],
                keibi(),
                true,
            ),
            (
                "expired-due",
                Mode::Auto,
                &[State::Executing, State::Executed],
                Change {
                    expires_at: past,
                    ..keibi()
                },
                true,
            ),
            (
                "expires-later",
                Mode::Auto,
                &[State::Executing, State::Executed],
                Change {
                    expires_at: soon,
                    ..keibi()
                },
                false,
            ),
            (
                "in-force-for-good",
                Mode::Auto,
                &[State::Executing, State::Executed],
                keibi(),
                false,
            ),
            (
                "undone",
                Mode::Auto,
                &[
                    State::Executing,
                    State::Executed,
                    State::Undoing,
                    State::Undone,
                ],
                keibi(),
                false,
            ),
            (
                "cancelled",
                Mode::Approve,
                &[State::Cancelled],
                keibi(),
                false,
            ),
        ];
        let mut want = Vec::new();
        for (i, (user, mode, path, last, due)) in cases.iter().enumerate() {
            let na = new_action(&f, lock(user), entry, *mode, State::Planned);
            let id = na.action.id.clone();
            // Created a second apart, in order: due_actions returns the oldest first.
            let at = t(2) + TimeDelta::seconds(i as i64);
            s.plan_actions(entry, &f, &[na], at).unwrap();
            let mut from = State::Planned;
            for (k, to) in path.iter().enumerate() {
                let change = if k + 1 == path.len() {
                    last.clone()
                } else {
                    keibi()
                };
                assert!(s.transition(&id, from, *to, &change, at).unwrap(), "{user}");
                from = *to;
            }
            if *due {
                want.push(id);
            }
        }
        for (user, mode, state) in [
            ("simulated", Mode::Simulate, State::Simulated),
            ("skipped", Mode::Auto, State::Skipped),
        ] {
            let na = new_action(&f, lock(user), entry, mode, state);
            s.plan_actions(entry, &f, &[na], t(3)).unwrap();
        }
        let due: Vec<String> = s
            .due_actions(now, 100)
            .unwrap()
            .into_iter()
            .map(|r| r.action.id)
            .collect();
        assert_eq!(due, want);
        assert_eq!(s.due_actions(now, 2).unwrap().len(), 2, "the limit holds");
        // Later, the retry and the expiry come due too.
        assert_eq!(s.due_actions(t(45), 100).unwrap().len(), want.len() + 2);
        let counts = s.action_counts().unwrap();
        assert!(counts.contains(&(State::Failed, 3)), "{counts:?}");
        assert!(counts.contains(&(State::Executed, 3)), "{counts:?}");
    }
}

#[test]
fn in_force_executions_since_and_the_pause() {
    for b in common::backends() {
        let (mut s, f, entry) = store_with_finding(&b, "a");
        let a = new_action(&f, lock("app"), entry, Mode::Auto, State::Planned);
        let nb = new_action(&f, lock("etl"), entry, Mode::Auto, State::Planned);
        let (ia, ib) = (a.action.id.clone(), nb.action.id.clone());
        s.plan_actions(entry, &f, &[a, nb], t(2)).unwrap();
        let key = lock("app").key();
        assert!(
            s.in_force(&key).unwrap().is_empty(),
            "planned is not in force"
        );
        assert!(s
            .transition(&ia, State::Planned, State::Executing, &by("keibi"), t(3))
            .unwrap());
        assert_eq!(s.in_force(&key).unwrap()[0].id, ia);
        assert!(s.in_force(&lock("etl").key()).unwrap().is_empty());
        // A failure and its retry is one execution; the first attempt is what counts.
        assert!(s
            .transition(&ia, State::Executing, State::Failed, &by("keibi"), t(4))
            .unwrap());
        assert!(
            s.in_force(&key).unwrap().is_empty(),
            "failed is not in force"
        );
        assert!(s
            .transition(&ia, State::Failed, State::Executing, &by("keibi"), t(10))
            .unwrap());
        assert!(s
            .transition(&ib, State::Planned, State::Executing, &by("keibi"), t(6))
            .unwrap());
        assert_eq!(s.executions_since(t(0)).unwrap(), 2);
        assert_eq!(
            s.executions_since(t(4)).unwrap(),
            1,
            "b at t(6); a first at t(3)"
        );
        assert_eq!(s.executions_since(t(7)).unwrap(), 0);
        assert!(s
            .transition(&ia, State::Executing, State::Executed, &by("keibi"), t(11))
            .unwrap());
        assert!(s
            .transition(&ia, State::Executed, State::Undoing, &by("alice"), t(12))
            .unwrap());
        assert_eq!(
            s.in_force(&key).unwrap().len(),
            1,
            "undoing is still in force"
        );
        assert!(s
            .transition(&ia, State::Undoing, State::Undone, &by("keibi"), t(13))
            .unwrap());
        assert!(s.in_force(&key).unwrap().is_empty());

        assert_eq!(s.paused().unwrap(), None);
        assert!(s.pause("alice", Some("incident 42"), t(5)).unwrap());
        // Pausing again keeps who paused first.
        assert!(!s.pause("bob", None, t(6)).unwrap());
        s.set_paused(Some("bob"), t(6)).unwrap();
        let p = s.paused().unwrap().unwrap();
        assert_eq!((p.by.as_str(), p.at), ("alice", t(5)));
        assert_eq!(p.reason.as_deref(), Some("incident 42"));
        drop(s);
        let mut s = Store::open(b.path()).unwrap();
        assert!(
            s.paused().unwrap().is_some(),
            "the pause outlives a restart"
        );
        assert!(s.resume(Some("carol"), t(7)).unwrap());
        assert!(
            !s.resume(Some("carol"), t(8)).unwrap(),
            "not paused any more"
        );
        assert_eq!(s.paused().unwrap(), None);
        s.set_paused(Some("dave"), t(9)).unwrap();
        assert_eq!(s.paused().unwrap().unwrap().by, "dave");
        s.set_paused(None, t(10)).unwrap();
        assert_eq!(s.paused().unwrap(), None);
        // Every pause is kept, with who resumed it.
        drop(s);
        let rows = common::texts(&b, "SELECT by, resumed_by FROM respond_pauses ORDER BY seq");
        assert_eq!(
            rows,
            vec![
                vec![Some("alice".into()), Some("carol".into())],
                vec![Some("dave".into()), None]
            ]
        );
    }
}

#[test]
fn action_entries_are_written_for_notified_states_only() {
    for b in common::backends() {
        let (mut s, f, entry) = store_with_finding(&b, "a");
        let na = new_action(&f, lock("app"), entry, Mode::Approve, State::Planned);
        let id = na.action.id.clone();
        s.plan_actions(entry, &f, &[na], t(2)).unwrap();
        for (from, to) in [
            (State::Planned, State::Approved),
            (State::Approved, State::Executing),
            (State::Executing, State::Failed),
            (State::Failed, State::Executing),
            (State::Executing, State::Executed),
            (State::Executed, State::Undoing),
            (State::Undoing, State::Undone),
        ] {
            assert!(s.transition(&id, from, to, &by("keibi"), t(3)).unwrap());
        }
        let told: Vec<State> = action_entries(&s).into_iter().map(|(_, st)| st).collect();
        assert_eq!(
            told,
            vec![
                State::Planned,
                State::Failed,
                State::Executed,
                State::Undone
            ]
        );
        let entries = s.outbox(0, 100).unwrap();
        let last = entries.last().unwrap();
        assert_eq!(last.kind, OutboxKind::Action);
        assert_eq!(last.finding.id, f.id, "with the finding");
        assert_eq!(last.by.as_deref(), Some("keibi"));
        assert_eq!(last.action.as_ref().unwrap().state, State::Undone);
        // The responder never plans from action entries; the notifier routes them.
        assert!(s.unplanned_entries(100).unwrap().is_empty());
        let mut routed = Vec::new();
        s.route_outbox(100, t(4), &mut |e| {
            routed.push(e.kind);
            vec![]
        })
        .unwrap();
        assert_eq!(
            routed.iter().filter(|k| **k == OutboxKind::Action).count(),
            4
        );
    }
}

/// The outbox entry is written in the move's transaction: when it cannot be
/// written, the move is not made either.
#[test]
fn a_move_whose_entry_fails_is_not_made() {
    for b in common::backends() {
        let (mut s, f, entry) = store_with_finding(&b, "a");
        let na = new_action(&f, lock("app"), entry, Mode::Auto, State::Planned);
        let id = na.action.id.clone();
        s.plan_actions(entry, &f, &[na], t(2)).unwrap();
        assert!(s
            .transition(&id, State::Planned, State::Executing, &by("keibi"), t(3))
            .unwrap());
        let before = s.outbox(0, 100).unwrap().len();
        // Another connection makes every action entry fail from now on.
        common::poke(
            &b,
            if b.is_postgres() {
                "CREATE FUNCTION no_action() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
             CREATE TRIGGER no_action BEFORE INSERT ON outbox FOR EACH ROW
             WHEN (NEW.kind = 'action') EXECUTE FUNCTION no_action();"
            } else {
                "CREATE TRIGGER no_action BEFORE INSERT ON outbox WHEN NEW.kind = 'action'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
            },
        );
        let done = Change {
            by: "keibi".into(),
            done: Some(json!({"x": 1})),
            ..Change::default()
        };
        assert!(s
            .transition(&id, State::Executing, State::Executed, &done, t(4))
            .is_err());
        let rec = s.action(&id).unwrap().unwrap();
        assert_eq!(rec.action.state, State::Executing);
        assert_eq!(rec.action.done, None);
        assert_eq!(rec.history.len(), 2);
        assert_eq!(s.outbox(0, 100).unwrap().len(), before);
        // A move people do not hear of writes no entry, and so goes through.
        assert!(s
            .transition(&id, State::Executing, State::Executing, &by("keibi"), t(5))
            .unwrap());
    }
}

#[test]
fn action_ids_are_found_by_a_prefix_of_four_or_more() {
    for b in common::backends() {
        let (mut s, f, entry) = store_with_finding(&b, "a");
        let mut a = new_action(&f, lock("app"), entry, Mode::Approve, State::Planned);
        let mut b = new_action(&f, lock("etl"), entry, Mode::Approve, State::Planned);
        a.action.id = "abcd000000000001".into();
        b.action.id = "abcd000000000002".into();
        s.plan_actions(entry, &f, &[a, b], t(2)).unwrap();
        assert_eq!(
            s.action("ABCD000000000001").unwrap().unwrap().action.id,
            "abcd000000000001"
        );
        let e = s.action("abcd").unwrap_err();
        assert!(
            e.to_string().contains("abcd000000000001")
                && e.to_string().contains("abcd000000000002"),
            "{e}"
        );
        assert!(matches!(s.action("abc"), Err(StoreError::Invalid(_))));
        assert!(matches!(
            s.action("abcd' OR 1=1"),
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(s.action("ffff").unwrap(), None);
    }
}

/// Retention keeps a finding whose action is in force; the outbox keeps what the
/// responder has not planned from.
#[test]
fn retention_keeps_findings_acted_on() {
    for b in common::backends() {
        let mut s = Store::open(b.path()).unwrap();
        let (kept, gone) = (finding("kept"), finding("gone"));
        s.commit(&commit(t(1), &kept, 1)).unwrap();
        s.commit(&commit(t(1), &gone, 2)).unwrap();
        let later = t(1) + TimeDelta::days(100);
        assert_eq!(s.prune_outbox(later).unwrap(), 0, "not routed nor planned");
        for e in s.unplanned_entries(10).unwrap() {
            let (target, state) = if e.finding.id == kept.id {
                (lock("app"), State::Planned)
            } else {
                (lock("etl"), State::Simulated)
            };
            let na = new_action(&e.finding, target, e.id, Mode::Auto, state);
            s.plan_actions(e.id, &e.finding, &[na], t(2)).unwrap();
        }
        let id = s.actions_of_finding(&kept.id).unwrap()[0].id.clone();
        assert!(s
            .transition(&id, State::Planned, State::Executing, &by("keibi"), t(3))
            .unwrap());
        assert!(s
            .transition(&id, State::Executing, State::Executed, &by("keibi"), t(3))
            .unwrap());
        let pruned = s.prune(later, None, later).unwrap();
        assert_eq!(pruned.findings, 1);
        let left = s.findings(&Query::default()).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].finding.id, kept.id);
        // The pruned finding's simulated action still reads whole, with its snapshot.
        let gone_action = &s.actions_of_finding(&gone.id).unwrap()[0];
        let rec = s.action(&gone_action.id).unwrap().unwrap();
        assert_eq!(rec.finding.title, "Brute force gone");
    }
}

/// A store made by the previous schema (4): its findings and outbox are kept, its
/// entries count as considered (an upgrade does not act on the past), new
/// findings are planned from.
///
/// SQLite only: an old schema made with raw `rusqlite` (PostgreSQL starts at
/// the current schema).
#[test]
fn migration_5_keeps_findings_and_does_not_act_on_the_past() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let old = finding("old");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        for sql in [
            include_str!("../migrations/001-initial.sql"),
            include_str!("../migrations/002-finding-text.sql"),
            include_str!("../migrations/003-outbox.sql"),
            include_str!("../migrations/004-notify-routing.sql"),
        ] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch(&format!(
            "PRAGMA application_id = {}; PRAGMA user_version = 4;",
            keibi_store::APPLICATION_ID
        ))
        .unwrap();
        let json = serde_json::to_string(&old).unwrap();
        c.execute(
            "INSERT INTO findings (id, type, severity, first_seen, last_seen, count,
                 resource_id, detector, updated_at, finding)
             VALUES (?1, ?2, 7.0, 0, 0, 1, 'orders-db', 'login', 0, ?3)",
            rusqlite::params![old.id, old.finding_type, json],
        )
        .unwrap();
        c.execute(
            "INSERT INTO outbox (key, finding_id, kind, at, finding, routed)
             VALUES ('k1', ?1, 'new', 0, ?2, 0)",
            rusqlite::params![old.id, json],
        )
        .unwrap();
    }
    let mut s = Store::open(&path).unwrap();
    // Migration 5 and every later one ran.
    const { assert!(keibi_store::SCHEMA >= 5) };
    assert_eq!(s.finding(&old.id).unwrap().finding.title, "Brute force old");
    let entries = s.outbox(0, 10).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, None);
    assert!(
        s.unplanned_entries(10).unwrap().is_empty(),
        "the past is not acted on"
    );
    assert!(s.list_actions(&ActionFilter::default()).unwrap().is_empty());
    // A resolve writes an entry the responder never plans from.
    s.set_status(
        &old.id,
        &StatusChange {
            transition: Transition::Resolve,
            at: t(2),
            by: Some("alice".into()),
            note: None,
        },
    )
    .unwrap();
    assert!(s.unplanned_entries(10).unwrap().is_empty());
    let new = finding("new");
    s.commit(&commit(t(3), &new, 1)).unwrap();
    let due = s.unplanned_entries(10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].finding.id, new.id);
    assert_eq!(due[0].id, 3, "ids go on after the old entries");
}

/// The daemon and people race on one action from their own connections (their
/// own processes, in life): exactly one move wins, the history has one line for
/// it.
#[test]
fn racing_movers_make_exactly_one_move() {
    for b in common::backends() {
        let (mut s, f, entry) = store_with_finding(&b, "a");
        let na = new_action(&f, lock("app"), entry, Mode::Approve, State::Planned);
        let id = na.action.id.clone();
        s.plan_actions(entry, &f, &[na], t(2)).unwrap();
        drop(s);
        let path = b.path.clone();
        let movers: Vec<_> = (0..6)
            .map(|i| {
                let (path, id) = (path.clone(), id.clone());
                std::thread::spawn(move || {
                    let mut s = Store::open(&path).unwrap();
                    let to = if i % 2 == 0 {
                        State::Approved
                    } else {
                        State::Cancelled
                    };
                    let who = format!("person-{i}");
                    s.transition(&id, State::Planned, to, &by(&who), t(3))
                        .unwrap()
                })
            })
            .collect();
        let won = movers
            .into_iter()
            .map(|m| m.join().unwrap())
            .filter(|w| *w)
            .count();
        assert_eq!(won, 1);
        let s = Store::open_read_only(&path).unwrap();
        let rec = s.action(&id).unwrap().unwrap();
        assert_eq!(rec.history.len(), 2);
        assert_eq!(rec.history[1].to, rec.action.state);
        assert_eq!(rec.action.by.as_deref(), Some(rec.history[1].by.as_str()));
    }
}

/// What executors and attackers write is bounded: a reason is cut, a `prior` of
/// megabytes is refused (and the action does not move).
#[test]
fn texts_are_bounded() {
    for b in common::backends() {
        let (mut s, f, entry) = store_with_finding(&b, "a");
        let na = new_action(&f, lock("app"), entry, Mode::Auto, State::Planned);
        let id = na.action.id.clone();
        s.plan_actions(entry, &f, &[na], t(2)).unwrap();
        let huge = Change {
            by: "keibi".into(),
            prior: Some(json!({"x": "y".repeat(1 << 20)})),
            ..Change::default()
        };
        let e = s
            .transition(&id, State::Planned, State::Executing, &huge, t(3))
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{e}");
        assert_eq!(s.action(&id).unwrap().unwrap().action.state, State::Planned);
        let long = Change {
            by: "keibi".into(),
            reason: Some("z".repeat(100_000)),
            detail: Some("d".repeat(100_000)),
            ..Change::default()
        };
        assert!(s
            .transition(&id, State::Planned, State::Skipped, &long, t(3))
            .unwrap());
        let rec = s.action(&id).unwrap().unwrap();
        assert_eq!(rec.action.reason.unwrap().chars().count(), 2000);
        assert_eq!(
            rec.history[1].detail.as_ref().unwrap().chars().count(),
            2000
        );
    }
}
