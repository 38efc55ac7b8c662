//! The responder's decisions with a recording executor and a given clock: simulate
//! by default, auto and approve, allowlists, the rate limit, the kill switch, one
//! action a target at a time, retries, expiry, and resuming an action a kill left
//! `executing`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::TimeZone;
use keibi_model::finding::Resource;
use keibi_model::{ChangeKind, Engine, Finding, FindingChange, Severity, SuggestedAction};
use keibi_respond::{ActionRef, Kind, Never, Pattern, Rule, Target};
use keibi_store::{ActionFilter, Commit, FindingStore};

use super::*;

#[derive(Default)]
struct World {
    /// What the executor was asked, in order: `prepare`, `apply`, `undo`.
    calls: Vec<String>,
    /// Answers for `apply`, then Ok.
    apply: VecDeque<Result<(), ExecError>>,
    locked: bool,
}

/// Locks roles in a pretend world it records.
struct Recording(Arc<Mutex<World>>);

impl Executor for Recording {
    fn name(&self) -> &str {
        "recording"
    }
    fn accepts(&self, t: &Target) -> bool {
        matches!(t, Target::LockRole { .. } | Target::BlockAddress { .. })
    }
    fn prepare(&mut self, req: Request<'_>) -> Result<serde_json::Value, ExecError> {
        let mut w = self.0.lock().unwrap();
        w.calls.push(format!("prepare {}", req.action.target.key()));
        Ok(serde_json::json!({ "locked": w.locked }))
    }
    fn apply(
        &mut self,
        req: Request<'_>,
        _prior: &serde_json::Value,
    ) -> Result<serde_json::Value, ExecError> {
        let mut w = self.0.lock().unwrap();
        w.calls.push(format!("apply {}", req.action.target.key()));
        w.apply.pop_front().unwrap_or(Ok(()))?;
        w.locked = true;
        Ok(serde_json::json!({ "ok": true }))
    }
    fn undo(
        &mut self,
        req: Request<'_>,
        prior: &serde_json::Value,
        _done: &serde_json::Value,
    ) -> Result<(), ExecError> {
        let mut w = self.0.lock().unwrap();
        w.calls.push(format!("undo {}", req.action.target.key()));
        w.locked = prior["locked"].as_bool().unwrap_or(false);
        Ok(())
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 3, 0, 0).unwrap()
}

fn finding(ip: &str, user: &str) -> Finding {
    let resource = Resource {
        kind: "db_instance".into(),
        id: "prod-db".into(),
        engine: Some(Engine::Postgres),
        account: None,
        region: None,
    };
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
        &[ip, user],
        Severity::new(8.0),
        resource,
        t0(),
    );
    f.actor.ip = Some(ip.parse().unwrap());
    f.actor.user = Some(user.into());
    f.suggested_actions = vec![
        SuggestedAction::BlockAddress { address: ip.into() },
        SuggestedAction::LockRole {
            instance: "prod-db".into(),
            user: user.into(),
        },
    ];
    f
}

fn commit(store: &mut Store, findings: &[Finding], at: DateTime<Utc>) {
    let mut c = Commit::new(at);
    for f in findings {
        c.finding_changes.push(FindingChange {
            kind: ChangeKind::New,
            finding: f.clone(),
            added: 1,
        });
    }
    store.commit(&c).unwrap();
}

fn lock_rule(mode: Mode) -> Rule {
    Rule {
        types: vec![Pattern::new("CredentialAccess:*").unwrap()],
        actions: Some(vec![ActionRef {
            kind: Kind::LockRole,
            name: None,
        }]),
        mode,
        expire_after: Some(Duration::from_secs(3600)),
        ..Rule::default()
    }
}

struct Rig {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    world: Arc<Mutex<World>>,
}

impl Rig {
    fn new() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(Store::open(&path).unwrap());
        Rig {
            _dir: dir,
            path,
            world: Arc::default(),
        }
    }

    fn store(&self) -> Store {
        Store::open(&self.path).unwrap()
    }

    fn responder(&self, rules: Vec<Rule>, never: Never, max_per_hour: u32) -> Responder {
        Responder::new(
            self.store(),
            Policy {
                rules,
                never,
                ..Policy::default()
            },
            Limits {
                enabled: true,
                max_per_hour,
            },
            vec![Box::new(Recording(self.world.clone()))],
        )
    }

    fn actions(&self) -> Vec<Action> {
        let mut v = self.store().list_actions(&ActionFilter::default()).unwrap();
        v.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        v
    }

    fn calls(&self) -> Vec<String> {
        self.world.lock().unwrap().calls.clone()
    }
}

fn run(r: &mut Responder, now: DateTime<Utc>) {
    for _ in 0..20 {
        if !r.step(now, &mut |_| {}).unwrap() {
            return;
        }
    }
}

#[test]
fn without_rules_every_suggested_action_is_simulated_and_nothing_runs() {
    let rig = Rig::new();
    commit(&mut rig.store(), &[finding("203.0.113.9", "app")], t0());
    let mut r = rig.responder(Vec::new(), Never::default(), 10);
    run(&mut r, t0());
    let a = rig.actions();
    assert_eq!(a.len(), 2, "{a:#?}");
    assert!(a.iter().all(|a| a.state == State::Simulated));
    assert!(rig.calls().is_empty());
    // A second look changes nothing.
    run(&mut r, t0());
    assert_eq!(rig.actions().len(), 2);
}

#[test]
fn auto_executes_with_prior_read_first_and_expires() {
    let rig = Rig::new();
    commit(&mut rig.store(), &[finding("203.0.113.9", "app")], t0());
    let mut r = rig.responder(vec![lock_rule(Mode::Auto)], Never::default(), 10);
    run(&mut r, t0());
    let a = &rig.actions()[0];
    assert_eq!(a.state, State::Executed);
    assert_eq!(a.prior, Some(serde_json::json!({"locked": false})));
    assert_eq!(a.expires_at, Some(t0() + TimeDelta::hours(1)));
    assert_eq!(
        rig.calls(),
        [
            "prepare lock_role prod-db/app",
            "apply lock_role prod-db/app"
        ]
    );
    assert!(rig.world.lock().unwrap().locked);
    // Not yet expired.
    run(&mut r, t0() + TimeDelta::minutes(59));
    assert_eq!(rig.actions()[0].state, State::Executed);
    run(&mut r, t0() + TimeDelta::minutes(61));
    let a = &rig.actions()[0];
    assert_eq!(a.state, State::Expired);
    assert!(!rig.world.lock().unwrap().locked);
    let rec = rig.store().action(&a.id).unwrap().unwrap();
    let path: Vec<State> = rec.history.iter().map(|h| h.to).collect();
    assert_eq!(
        path,
        [
            State::Planned,
            State::Executing,
            State::Executing,
            State::Executed,
            State::Undoing,
            State::Expired
        ]
    );
}

#[test]
fn approve_waits_for_a_person() {
    let rig = Rig::new();
    commit(&mut rig.store(), &[finding("203.0.113.9", "app")], t0());
    let mut r = rig.responder(vec![lock_rule(Mode::Approve)], Never::default(), 10);
    run(&mut r, t0());
    let a = rig.actions()[0].clone();
    assert_eq!(a.state, State::Planned);
    assert!(rig.calls().is_empty());
    let change = Change {
        by: "ann".into(),
        ..Change::default()
    };
    assert!(rig
        .store()
        .transition(&a.id, State::Planned, State::Approved, &change, t0())
        .unwrap());
    run(&mut r, t0());
    assert_eq!(rig.actions()[0].state, State::Executed);
}

#[test]
fn an_allowlisted_role_is_skipped_and_never_touched() {
    let rig = Rig::new();
    commit(&mut rig.store(), &[finding("203.0.113.9", "app")], t0());
    let never = Never {
        roles: vec!["app".into()],
        ..Never::default()
    };
    let mut r = rig.responder(vec![lock_rule(Mode::Auto)], never, 10);
    run(&mut r, t0());
    let a = &rig.actions()[0];
    assert_eq!(a.state, State::Skipped);
    assert!(a.reason.as_deref().unwrap().contains("never.roles"));
    assert!(rig.calls().is_empty());
}

#[test]
fn the_rate_limit_and_the_kill_switch_hold_actions_back() {
    let rig = Rig::new();
    commit(
        &mut rig.store(),
        &[finding("203.0.113.9", "a"), finding("203.0.113.10", "b")],
        t0(),
    );
    let mut r = rig.responder(vec![lock_rule(Mode::Auto)], Never::default(), 1);
    run(&mut r, t0());
    let states: Vec<State> = rig.actions().iter().map(|a| a.state).collect();
    assert!(
        states.contains(&State::Executed) && states.contains(&State::Skipped),
        "{states:?}"
    );
    let skipped = rig
        .actions()
        .into_iter()
        .find(|a| a.state == State::Skipped)
        .unwrap();
    assert!(skipped.reason.unwrap().contains("rate limit"));

    rig.store().set_paused(Some("ann"), t0()).unwrap();
    commit(
        &mut rig.store(),
        &[finding("203.0.113.11", "c")],
        t0() + TimeDelta::hours(2),
    );
    let mut r = rig.responder(vec![lock_rule(Mode::Auto)], Never::default(), 10);
    run(&mut r, t0() + TimeDelta::hours(2));
    let c = rig
        .actions()
        .into_iter()
        .find(|a| a.target.key().ends_with("/c"))
        .unwrap();
    assert_eq!(c.state, State::Skipped);
    assert!(c.reason.unwrap().contains("paused"));
    // Only the first action ran (and expired meanwhile: its undo).
    let applied: Vec<String> = rig
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("apply"))
        .collect();
    assert_eq!(applied.len(), 1, "{:?}", rig.calls());
}

#[test]
fn a_transient_failure_is_retried_after_its_backoff() {
    let rig = Rig::new();
    commit(&mut rig.store(), &[finding("203.0.113.9", "app")], t0());
    rig.world
        .lock()
        .unwrap()
        .apply
        .push_back(Err(ExecError::Transient("server is down".into())));
    let mut r = rig.responder(vec![lock_rule(Mode::Auto)], Never::default(), 10);
    run(&mut r, t0());
    let a = rig.actions()[0].clone();
    assert_eq!(a.state, State::Failed);
    assert_eq!(a.next_at, Some(t0() + FIRST_BACKOFF));
    run(&mut r, t0() + TimeDelta::seconds(1));
    assert_eq!(rig.actions()[0].state, State::Failed);
    run(&mut r, t0() + FIRST_BACKOFF);
    let a = rig.actions()[0].clone();
    assert_eq!(a.state, State::Executed);
    // The prior was read once, before the first try.
    assert_eq!(
        rig.calls(),
        [
            "prepare lock_role prod-db/app",
            "apply lock_role prod-db/app",
            "apply lock_role prod-db/app"
        ]
    );
}

#[test]
fn an_action_left_executing_by_a_kill_is_executed_at_the_next_start() {
    let rig = Rig::new();
    commit(&mut rig.store(), &[finding("203.0.113.9", "app")], t0());
    // The journal as a kill right after "executing" leaves it.
    let mut r = rig.responder(vec![lock_rule(Mode::Auto)], Never::default(), 10);
    r.plan(t0(), &mut |_| {}).unwrap();
    let a = rig.actions()[0].clone();
    let change = Change {
        by: BY.into(),
        executor: Some("recording".into()),
        attempt: true,
        ..Change::default()
    };
    assert!(rig
        .store()
        .transition(&a.id, State::Planned, State::Executing, &change, t0())
        .unwrap());
    drop(r);
    let mut r = rig.responder(vec![lock_rule(Mode::Auto)], Never::default(), 10);
    run(&mut r, t0() + TimeDelta::seconds(5));
    let a = rig.actions()[0].clone();
    assert_eq!(a.state, State::Executed);
    assert_eq!(rig.calls().len(), 2);
}

#[test]
fn one_action_per_target_is_in_force() {
    let rig = Rig::new();
    // Two findings about the same role.
    let f1 = finding("203.0.113.9", "app");
    let mut f2 = finding("203.0.113.10", "app");
    f2.finding_type = "CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin".into();
    f2.id = "other".into();
    commit(&mut rig.store(), &[f1, f2], t0());
    let mut r = rig.responder(vec![lock_rule(Mode::Auto)], Never::default(), 10);
    run(&mut r, t0());
    let states: Vec<State> = rig.actions().iter().map(|a| a.state).collect();
    assert_eq!(
        states.iter().filter(|s| **s == State::Executed).count(),
        1,
        "{states:?}"
    );
    let skipped = rig
        .actions()
        .into_iter()
        .find(|a| a.state == State::Skipped)
        .unwrap();
    assert!(skipped.reason.unwrap().contains("already in force"));
}

/// Ended sessions, a POST or a command are done again for the next finding: only
/// what stays in force (a block, a lock) is never done twice at once.
#[test]
fn actions_that_do_not_stay_in_force_run_for_each_finding() {
    struct Ends(Arc<Mutex<World>>);
    impl Executor for Ends {
        fn name(&self) -> &str {
            "ends"
        }
        fn accepts(&self, t: &Target) -> bool {
            matches!(t, Target::EndSessions { .. })
        }
        fn prepare(&mut self, _: Request<'_>) -> Result<serde_json::Value, ExecError> {
            Ok(serde_json::Value::Null)
        }
        fn apply(
            &mut self,
            req: Request<'_>,
            _: &serde_json::Value,
        ) -> Result<serde_json::Value, ExecError> {
            let mut w = self.0.lock().unwrap();
            w.calls.push(format!("apply {}", req.action.target.key()));
            Ok(serde_json::Value::Null)
        }
        fn undo(
            &mut self,
            _: Request<'_>,
            _: &serde_json::Value,
            _: &serde_json::Value,
        ) -> Result<(), ExecError> {
            Ok(())
        }
    }
    let rig = Rig::new();
    let f1 = finding("203.0.113.9", "app");
    let mut f2 = finding("203.0.113.9", "app");
    f2.id = "other".into();
    commit(&mut rig.store(), &[f1, f2], t0());
    let rule = Rule {
        actions: Some(vec![ActionRef {
            kind: Kind::EndSessions,
            name: None,
        }]),
        mode: Mode::Auto,
        ..Rule::default()
    };
    let mut r = Responder::new(
        rig.store(),
        Policy {
            rules: vec![rule],
            ..Policy::default()
        },
        Limits {
            enabled: true,
            max_per_hour: 10,
        },
        vec![Box::new(Ends(rig.world.clone()))],
    );
    run(&mut r, t0());
    let states: Vec<State> = rig.actions().iter().map(|a| a.state).collect();
    assert_eq!(states, [State::Executed, State::Executed]);
    assert_eq!(rig.calls().len(), 2);
}

/// A retry held by a pause makes no move, and the step says so: the thread
/// sleeps instead of spinning on it.
#[test]
fn a_step_that_moves_nothing_says_so() {
    let rig = Rig::new();
    commit(&mut rig.store(), &[finding("203.0.113.9", "app")], t0());
    rig.world
        .lock()
        .unwrap()
        .apply
        .push_back(Err(ExecError::Transient("server is down".into())));
    let mut r = rig.responder(vec![lock_rule(Mode::Auto)], Never::default(), 10);
    run(&mut r, t0());
    assert_eq!(rig.actions()[0].state, State::Failed);
    rig.store().set_paused(Some("ann"), t0()).unwrap();
    let later = t0() + TimeDelta::minutes(5);
    assert!(!r.step(later, &mut |_| {}).unwrap());
    assert_eq!(rig.actions()[0].state, State::Failed);
}
