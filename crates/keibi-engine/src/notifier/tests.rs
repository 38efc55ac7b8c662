//! The notifier's decisions with a scripted channel and a given clock: backoff,
//! Retry-After, permanent failures, giving up after 24 hours, a channel that rests
//! after failing, and resuming from the store after a restart.

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use keibi_model::finding::Resource;
use keibi_model::{ChangeKind, Finding, FindingChange, Severity};
use keibi_notify::channels::ChannelSpec;
use keibi_notify::{Channel, SendError, Sent};
use keibi_store::{Commit, DeliveryState, FindingStore, Store};

use super::*;

type Script = Arc<Mutex<VecDeque<Result<Sent, SendError>>>>;

/// Answers from its script (then 200), and records the keys it was given.
struct Scripted {
    name: String,
    script: Script,
    got: Arc<Mutex<Vec<String>>>,
}

impl Channel for Scripted {
    fn name(&self) -> &str {
        &self.name
    }
    fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        self.got.lock().unwrap().push(msg.key().to_string());
        self.script.lock().unwrap().pop_front().unwrap_or(Ok(Sent {
            detail: "HTTP 200".into(),
        }))
    }
}

fn transient(retry_after: Option<u64>) -> Result<Sent, SendError> {
    Err(SendError::Transient {
        reason: "HTTP 503".into(),
        retry_after: retry_after.map(Duration::from_secs),
    })
}

/// Channels `names`, and one route sending every finding to all of them (these
/// tests are about delivery; routing has its own below).
fn settings(names: &[&str]) -> NotifySettings {
    NotifySettings {
        routes: vec![keibi_notify::settings::Route {
            channels: names.iter().map(|n| n.to_string()).collect(),
            ..Default::default()
        }],
        channels: names
            .iter()
            .map(|n| {
                serde_json::from_value::<ChannelSpec>(serde_json::json!({
                    "name": n, "type": "webhook", "url": "http://127.0.0.1:9/"
                }))
                .unwrap()
            })
            .collect(),
        ..NotifySettings::default()
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 3, 0, 0).unwrap()
}

fn add_findings(path: &std::path::Path, keys: &[&str]) {
    let mut s = Store::open(path).unwrap();
    let mut c = Commit::new(t0());
    for k in keys {
        let f = Finding::new(
            "login",
            "CredentialAccess:RDS/BruteForce",
            &[k],
            Severity::new(5.0),
            Resource::default(),
            t0(),
        );
        c.finding_changes.push(FindingChange {
            kind: ChangeKind::New,
            finding: f,
            added: 1,
        });
    }
    s.commit(&c).unwrap();
}

struct Rig {
    dir: tempfile::TempDir,
    script: Script,
    got: Arc<Mutex<Vec<String>>>,
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl Rig {
    fn new(keys: &[&str]) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        add_findings(&dir.path().join("s.db"), keys);
        Rig {
            dir,
            script: Arc::default(),
            got: Arc::default(),
            now: Arc::new(Mutex::new(t0())),
        }
    }

    fn notifier(&self) -> Notifier {
        let ch = Scripted {
            name: "hook".into(),
            script: self.script.clone(),
            got: self.got.clone(),
        };
        let now = self.now.clone();
        Notifier::new(
            Store::open(&self.dir.path().join("s.db")).unwrap(),
            settings(&["hook"]),
            vec![Box::new(ch)],
        )
        .unwrap()
        .with_clock(Box::new(move || *now.lock().unwrap()))
    }

    fn at(&self, t: DateTime<Utc>) {
        *self.now.lock().unwrap() = t;
    }

    fn deliveries(&self) -> Vec<keibi_store::Delivery> {
        let s = Store::open(&self.dir.path().join("s.db")).unwrap();
        let mut v = s.outbox_status(100).unwrap().open;
        v.sort_by_key(|d| d.entry.id);
        v
    }

    fn tries(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

fn step(n: &mut Notifier) -> Step {
    n.step(&AtomicBool::new(false), &mut |_| {}).unwrap()
}

fn secs(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

#[test]
fn backoff_doubles_to_five_minutes_with_bounded_jitter() {
    for (attempts, base) in [
        (1, 1.0),
        (2, 2.0),
        (3, 4.0),
        (9, 256.0),
        (10, 300.0),
        (40, 300.0),
    ] {
        let d = backoff(attempts, "k", "hook").as_secs_f64();
        assert!(
            d >= base * 0.8 - 1e-9 && d <= base * 1.2 + 1e-9,
            "{attempts}: {d}"
        );
    }
    assert_eq!(backoff(3, "k", "hook"), backoff(3, "k", "hook"));
    let spread: std::collections::BTreeSet<_> = (0..20)
        .map(|i| backoff(5, &format!("k{i}"), "hook"))
        .collect();
    assert!(spread.len() > 5, "jitter spreads an outage's retries");
}

#[test]
fn a_transient_failure_is_retried_after_its_backoff_then_sent_once() {
    let rig = Rig::new(&["a"]);
    rig.script
        .lock()
        .unwrap()
        .extend([transient(None), transient(None)]);
    let mut n = rig.notifier();
    let s = step(&mut n);
    assert_eq!((s.routed, s.retried), (1, 1));
    let d = &rig.deliveries()[0];
    assert_eq!((d.state, d.attempts), (DeliveryState::Pending, 1));
    assert_eq!(d.first_at, Some(t0()));
    let delay = (d.next_at - t0()).to_std().unwrap();
    assert!(
        delay >= Duration::from_millis(800) && delay <= Duration::from_millis(1200),
        "{delay:?}"
    );
    // Not due yet: nothing is tried.
    rig.at(t0() + TimeDelta::milliseconds(500));
    assert_eq!(step(&mut n).retried, 0);
    assert_eq!(rig.tries(), 1);
    // Due: tried again, fails again (2 s now).
    rig.at(t0() + secs(2));
    assert_eq!(step(&mut n).retried, 1);
    let d = &rig.deliveries()[0];
    assert_eq!(d.attempts, 2);
    let delay = (d.next_at - (t0() + secs(2))).to_std().unwrap();
    assert!(
        delay >= Duration::from_millis(1600) && delay <= Duration::from_millis(2400),
        "{delay:?}"
    );
    // A restart forgets the channel's rest, not the delivery: sent at its time.
    drop(n);
    let mut n = rig.notifier();
    rig.at(d.next_at - TimeDelta::milliseconds(1));
    assert_eq!(step(&mut n).sent, 0, "not before its time after a restart");
    rig.at(d.next_at);
    assert_eq!(step(&mut n).sent, 1);
    assert!(rig.deliveries().is_empty(), "nothing pending or failed");
    let got = rig.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    assert!(
        got.iter().all(|k| *k == got[0]),
        "one key every try: {got:?}"
    );
    // Nothing more to do.
    rig.at(d.next_at + TimeDelta::hours(1));
    assert_eq!(step(&mut n), Step::default());
}

#[test]
fn retry_after_is_honoured_and_the_channel_rests() {
    let rig = Rig::new(&["a", "b", "c"]);
    rig.script.lock().unwrap().push_back(transient(Some(120)));
    let mut n = rig.notifier();
    let s = step(&mut n);
    // The first fails; the channel rests, so b and c are not tried in this step.
    assert_eq!((s.routed, s.retried, s.sent), (3, 1, 0));
    assert_eq!(rig.tries(), 1);
    let d = rig.deliveries();
    assert!(d[0].next_at - t0() >= secs(120));
    assert_eq!(d[1].attempts, 0);
    // Still resting a minute later.
    rig.at(t0() + secs(60));
    assert_eq!(step(&mut n).sent, 0);
    assert_eq!(rig.tries(), 1);
    // Then every one goes.
    rig.at(t0() + secs(130));
    assert_eq!(step(&mut n).sent, 3);
}

#[test]
fn a_permanent_failure_is_failed_at_once_and_the_others_still_go() {
    let rig = Rig::new(&["a", "b"]);
    rig.script
        .lock()
        .unwrap()
        .push_back(Err(SendError::Permanent {
            reason: "HTTP 400 from http://127.0.0.1:9/…: bad".into(),
        }));
    let mut n = rig.notifier();
    let s = step(&mut n);
    assert_eq!((s.failed, s.sent), (1, 1));
    let d = rig.deliveries();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].state, DeliveryState::Failed);
    assert!(d[0].last_error.as_deref().unwrap().contains("HTTP 400"));
    // Never tried again.
    rig.at(t0() + TimeDelta::days(1));
    assert_eq!(step(&mut n), Step::default());
    assert_eq!(rig.tries(), 2);
}

#[test]
fn a_delivery_failing_for_24_hours_is_failed() {
    let rig = Rig::new(&["a"]);
    rig.script
        .lock()
        .unwrap()
        .extend((0..1000).map(|_| transient(None)));
    let mut n = rig.notifier();
    // Every due try for a day and a bit: pending until 24 hours after the first.
    let mut t = t0();
    let mut tries_before_day = 0;
    while t < t0() + TimeDelta::hours(25) {
        rig.at(t);
        step(&mut n);
        let d = &rig.deliveries()[0];
        if d.state == DeliveryState::Failed {
            break;
        }
        tries_before_day = d.attempts;
        t = d.next_at.max(t + secs(1));
    }
    let d = &rig.deliveries()[0];
    assert_eq!(d.state, DeliveryState::Failed, "{d:?}");
    assert!(
        d.last_error.as_deref().unwrap().contains("gave up"),
        "{d:?}"
    );
    assert!(d.next_at - t0() >= TimeDelta::hours(24), "{d:?}");
    assert!(d.next_at - t0() < TimeDelta::hours(24) + secs(400), "{d:?}");
    // Backoff capped at 5 minutes: about 24 * 12 tries after the first minutes.
    assert!((250..400).contains(&tries_before_day), "{tries_before_day}");
}

#[test]
fn an_entry_for_a_channel_no_longer_configured_fails_with_why() {
    let rig = Rig::new(&["a"]);
    let path = rig.dir.path().join("s.db");
    {
        let mut s = Store::open(&path).unwrap();
        s.route_outbox(10, t0(), &mut |_| vec!["gone".into()])
            .unwrap();
    }
    let mut n = rig.notifier();
    let s = step(&mut n);
    assert_eq!(s.failed, 1);
    let d = &rig.deliveries()[0];
    assert!(
        d.last_error.as_deref().unwrap().contains("no longer"),
        "{d:?}"
    );
}

#[test]
fn the_notice_says_what_the_entry_says() {
    let rig = Rig::new(&["a"]);
    let s = Store::open(&rig.dir.path().join("s.db")).unwrap();
    let e = &s.outbox(0, 1).unwrap()[0];
    let n = notice(e);
    assert_eq!(n.key, e.key);
    assert_eq!(n.kind, NoticeKind::New);
    assert_eq!(n.finding, e.finding);
    assert_eq!(n.at, t0());
}

/// A channel that is down with a backlog longer than a batch does not keep another
/// channel's deliveries out of the batch.
#[test]
fn a_resting_channel_does_not_hold_the_others_back() {
    let keys: Vec<String> = (0..(BATCH + 10)).map(|i| format!("k{i}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let rig = Rig::new(&keys);
    let path = rig.dir.path().join("s.db");
    {
        // The backlog: every entry so far goes to the channel that is down; later
        // ones to the one that is up.
        let mut s = Store::open(&path).unwrap();
        while s
            .route_outbox(BATCH, t0(), &mut |_| vec!["down".into()])
            .unwrap()
            > 0
        {}
    }
    add_findings(&path, &["later-1", "later-2"]);
    {
        let mut s = Store::open(&path).unwrap();
        s.route_outbox(BATCH, t0(), &mut |_| vec!["up".into()])
            .unwrap();
    }
    let down = Scripted {
        name: "down".into(),
        script: Arc::new(Mutex::new((0..1000).map(|_| transient(None)).collect())),
        got: Arc::default(),
    };
    let up = Scripted {
        name: "up".into(),
        script: Arc::default(),
        got: Arc::default(),
    };
    let up_got = up.got.clone();
    let now = rig.now.clone();
    let mut n = Notifier::new(
        Store::open(&path).unwrap(),
        settings(&["down", "up"]),
        vec![Box::new(down), Box::new(up)],
    )
    .unwrap()
    .with_clock(Box::new(move || *now.lock().unwrap()));
    // The first step finds the down channel down; the next, a moment later while it
    // rests, reaches the up channel's deliveries behind its backlog.
    step(&mut n);
    rig.at(t0() + TimeDelta::milliseconds(100));
    step(&mut n);
    assert_eq!(up_got.lock().unwrap().len(), 2);
}

#[test]
fn drain_sends_everything_it_can_and_leaves_failures_pending() {
    let rig = Rig::new(&["a", "b", "c"]);
    rig.script.lock().unwrap().push_back(Ok(Sent {
        detail: "HTTP 200".into(),
    }));
    rig.script.lock().unwrap().push_back(transient(None));
    let mut n = rig.notifier();
    let s = n.drain(100, &mut |_| {}).unwrap();
    assert_eq!((s.routed, s.sent, s.retried), (3, 1, 1));
    let d = rig.deliveries();
    assert_eq!(
        d.len(),
        2,
        "b retried later, c not tried while the channel rests"
    );
    assert!(d.iter().all(|d| d.state == DeliveryState::Pending));
}

// ---- Routing and flood control, with the injected clock ----

/// What one channel was handed: a notice (its finding's key and the notice kind),
/// a digest (how many it carries), or a summary (how many open findings).
#[derive(Debug, Clone, PartialEq)]
enum Got {
    One(String, &'static str),
    Digest(u64),
    Summary(u64),
}

/// Records every message by channel; always answers 200.
struct Recorder {
    name: String,
    got: Arc<Mutex<Vec<(String, Got)>>>,
}

impl Channel for Recorder {
    fn name(&self) -> &str {
        &self.name
    }
    fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        let g = match msg {
            Outgoing::One(n) => Got::One(n.finding.resource.id.clone(), n.kind.as_str()),
            Outgoing::Digest(d) => Got::Digest(d.total),
            Outgoing::Summary(s) => Got::Summary(s.total),
        };
        self.got.lock().unwrap().push((self.name.clone(), g));
        Ok(Sent {
            detail: "HTTP 200".into(),
        })
    }
}

/// A store, settings read from JSON (the YAML's shape), recording channels and a
/// clock the test moves.
struct Flow {
    dir: tempfile::TempDir,
    settings: NotifySettings,
    got: Arc<Mutex<Vec<(String, Got)>>>,
    now: Arc<Mutex<DateTime<Utc>>>,
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A finding on resource `name` (the key that tells them apart in `Got`).
fn on(name: &str, sev: f64) -> Finding {
    Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &[name],
        Severity::new(sev),
        Resource {
            kind: "db_instance".into(),
            id: name.into(),
            ..Default::default()
        },
        t0(),
    )
}

impl Flow {
    fn new(settings: serde_json::Value) -> Flow {
        let settings: NotifySettings = serde_json::from_value(settings).unwrap();
        assert!(settings.problems().is_empty(), "{:?}", settings.problems());
        Flow {
            dir: tempfile::tempdir().unwrap(),
            settings,
            got: Arc::default(),
            now: Arc::new(Mutex::new(t0())),
        }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("s.db")
    }

    /// A notifier as `keibi run` starts one (a new one is a restart).
    fn notifier(&self) -> Notifier {
        let channels: Vec<Box<dyn Channel>> = self
            .settings
            .channels
            .iter()
            .map(|c| {
                Box::new(Recorder {
                    name: c.name.clone(),
                    got: self.got.clone(),
                }) as Box<dyn Channel>
            })
            .collect();
        let now = self.now.clone();
        Notifier::new(
            Store::open(&self.path()).unwrap(),
            self.settings.clone(),
            channels,
        )
        .unwrap()
        .with_clock(Box::new(move || *now.lock().unwrap()))
    }

    fn at(&self, t: DateTime<Utc>) {
        *self.now.lock().unwrap() = t;
    }

    /// Commits changes at the clock's time: (finding, kind, events added).
    fn commit(&self, changes: &[(Finding, ChangeKind, u64)]) {
        let mut s = Store::open(&self.path()).unwrap();
        let mut c = Commit::new(*self.now.lock().unwrap());
        for (f, kind, added) in changes {
            c.finding_changes.push(FindingChange {
                kind: *kind,
                finding: f.clone(),
                added: *added,
            });
        }
        s.commit(&c).unwrap();
    }

    fn new_findings(&self, fs: &[Finding]) {
        let changes: Vec<_> = fs.iter().map(|f| (f.clone(), ChangeKind::New, 1)).collect();
        self.commit(&changes);
    }

    /// What was sent since the last call.
    fn take(&self) -> Vec<(String, Got)> {
        std::mem::take(&mut *self.got.lock().unwrap())
    }
}

fn one(ch: &str, res: &str, kind: &'static str) -> (String, Got) {
    (ch.to_string(), Got::One(res.to_string(), kind))
}

fn hooks(names: &[&str]) -> serde_json::Value {
    names
        .iter()
        .map(|n| serde_json::json!({"name": n, "type": "webhook", "url": "http://127.0.0.1:9/"}))
        .collect()
}

#[test]
fn a_route_sends_only_high_to_one_channel_and_everything_to_another() {
    let flow = Flow::new(serde_json::json!({
        "channels": hooks(&["pager", "chat"]),
        "routes": [
            {"name": "urgent", "severity_at_least": "high", "channels": ["pager"], "continue": true},
            {"name": "all", "channels": ["chat"]}
        ]
    }));
    flow.new_findings(&[on("medium-db", 5.0), on("high-db", 8.0)]);
    let mut n = flow.notifier();
    step(&mut n);
    let mut got = flow.take();
    got.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    assert_eq!(
        got,
        vec![
            one("chat", "high-db", "new"),
            one("chat", "medium-db", "new"),
            one("pager", "high-db", "new"),
        ]
    );
    // Without routes: only High and Critical, to every channel.
    let flow = Flow::new(serde_json::json!({"channels": hooks(&["pager", "chat"])}));
    flow.new_findings(&[on("medium-db", 5.0), on("high-db", 8.0)]);
    step(&mut flow.notifier());
    let mut got = flow.take();
    got.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    assert_eq!(
        got,
        vec![
            one("chat", "high-db", "new"),
            one("pager", "high-db", "new")
        ]
    );
}

#[test]
fn quiet_hours_hold_a_medium_until_eight_in_tokyo_and_let_a_high_through() {
    let flow = Flow::new(serde_json::json!({
        "channels": hooks(&["chat"]),
        "routes": [{"channels": ["chat"]}],
        "quiet_hours": {"from": "22:00", "to": "08:00", "timezone": "Asia/Tokyo"}
    }));
    // 23:00 JST.
    flow.at(utc("2026-12-06T14:00:00Z"));
    flow.new_findings(&[on("medium-db", 5.0), on("high-db", 8.0)]);
    let mut n = flow.notifier();
    step(&mut n);
    assert_eq!(flow.take(), vec![one("chat", "high-db", "new")]);
    // 07:59:59 JST, after a restart: still held.
    drop(n);
    let mut n = flow.notifier();
    flow.at(utc("2026-12-06T22:59:59Z"));
    step(&mut n);
    assert_eq!(flow.take(), vec![]);
    // 08:00 JST.
    flow.at(utc("2026-12-06T23:00:00Z"));
    step(&mut n);
    assert_eq!(flow.take(), vec![one("chat", "medium-db", "new")]);
}

#[test]
fn group_wait_joins_two_findings_into_one_message() {
    let flow = Flow::new(serde_json::json!({
        "channels": hooks(&["chat"]),
        "routes": [{"name": "grouped", "channels": ["chat"], "group_wait": "30s"}]
    }));
    flow.new_findings(&[on("a-db", 5.0)]);
    let mut n = flow.notifier();
    step(&mut n);
    // A second finding 10 s later joins the group the first opened.
    flow.at(t0() + secs(10));
    flow.new_findings(&[on("b-db", 6.0)]);
    step(&mut n);
    flow.at(t0() + secs(29));
    step(&mut n);
    assert_eq!(flow.take(), vec![], "held by group_wait");
    flow.at(t0() + secs(30));
    let s = step(&mut n);
    assert_eq!((s.sent, s.messages), (2, 1));
    assert_eq!(flow.take(), vec![("chat".to_string(), Got::Digest(2))]);
    // The group is closed: a finding after it opens a new one, alone in it.
    flow.at(t0() + secs(40));
    flow.new_findings(&[on("c-db", 6.0)]);
    step(&mut n);
    flow.at(t0() + secs(70));
    step(&mut n);
    assert_eq!(flow.take(), vec![one("chat", "c-db", "new")]);
    let st = Store::open(&flow.path())
        .unwrap()
        .outbox_status(10)
        .unwrap();
    assert!(st.open.is_empty(), "{:?}", st.open);
}

#[test]
fn a_rate_limit_of_two_an_hour_turns_the_rest_into_one_digest_an_hour_later() {
    let mut channels = hooks(&["chat"]);
    channels[0]["rate_limit"] = 2.into();
    let flow = Flow::new(serde_json::json!({
        "channels": channels,
        "routes": [{"channels": ["chat"]}]
    }));
    let fs: Vec<Finding> = (1..=5).map(|i| on(&format!("db-{i}"), 5.0)).collect();
    flow.new_findings(&fs);
    let mut n = flow.notifier();
    let s = step(&mut n);
    assert_eq!((s.sent, s.held), (2, 3));
    assert_eq!(
        flow.take(),
        vec![one("chat", "db-1", "new"), one("chat", "db-2", "new")]
    );
    // A sixth while the others are held waits with them, across a restart.
    flow.at(t0() + TimeDelta::minutes(20));
    flow.new_findings(&[on("db-6", 5.0)]);
    drop(n);
    let mut n = flow.notifier();
    step(&mut n);
    flow.at(t0() + TimeDelta::minutes(59));
    step(&mut n);
    assert_eq!(flow.take(), vec![]);
    // An hour after the first two: one digest of the four held.
    flow.at(t0() + TimeDelta::minutes(60));
    let s = step(&mut n);
    assert_eq!((s.sent, s.messages), (4, 1));
    assert_eq!(flow.take(), vec![("chat".to_string(), Got::Digest(4))]);
    let st = Store::open(&flow.path())
        .unwrap()
        .outbox_status(10)
        .unwrap();
    assert!(st.open.is_empty(), "{:?}", st.open);
}

#[test]
fn still_going_at_most_once_per_interval_while_it_grows() {
    let flow = Flow::new(serde_json::json!({
        "channels": hooks(&["chat"]),
        "routes": [{"channels": ["chat"]}],
        "repeat_interval": "4h"
    }));
    let f = on("db", 5.0);
    flow.new_findings(std::slice::from_ref(&f));
    let mut n = flow.notifier();
    step(&mut n);
    assert_eq!(flow.take(), vec![one("chat", "db", "new")]);
    // It grows an hour later: nothing now, one "still going" 4 h after the notice.
    flow.at(t0() + TimeDelta::hours(1));
    flow.commit(&[(f.clone(), ChangeKind::Grew, 100)]);
    step(&mut n);
    flow.at(t0() + TimeDelta::hours(4) - secs(1));
    step(&mut n);
    assert_eq!(flow.take(), vec![]);
    // Looked for every 30 s: due at 4 h, written by 4 h 30 s.
    flow.at(t0() + TimeDelta::hours(4) + STILL_GOING_EVERY);
    step(&mut n);
    step(&mut n);
    assert_eq!(flow.take(), vec![one("chat", "db", "still_going")]);
    let s = Store::open(&flow.path()).unwrap();
    let e = s.outbox(0, 10).unwrap().pop().unwrap();
    assert_eq!(
        notice(&e).kind,
        NoticeKind::StillGoing {
            count_then: 1,
            since: t0()
        }
    );
    assert_eq!(e.finding.count, 101);
    // Not growing: nothing more, however long.
    flow.at(t0() + TimeDelta::hours(9));
    step(&mut n);
    assert_eq!(flow.take(), vec![]);
    // Growing again: the next one 4 h after the last (a restart changes nothing).
    flow.commit(&[(f.clone(), ChangeKind::Grew, 5)]);
    drop(n);
    let mut n = flow.notifier();
    step(&mut n);
    assert_eq!(flow.take(), vec![one("chat", "db", "still_going")]);
    flow.at(t0() + TimeDelta::hours(10));
    flow.commit(&[(f.clone(), ChangeKind::Grew, 5)]);
    step(&mut n);
    assert_eq!(flow.take(), vec![], "within 4 h of the last");
    // Acknowledged: quiet, even when it grows.
    {
        let mut s = Store::open(&flow.path()).unwrap();
        s.set_status(
            &f.id,
            &keibi_store::StatusChange {
                transition: keibi_store::Transition::Acknowledge,
                at: t0() + TimeDelta::hours(10),
                by: Some("kim".into()),
                note: None,
            },
        )
        .unwrap();
    }
    flow.at(t0() + TimeDelta::hours(20));
    step(&mut n);
    assert_eq!(flow.take(), vec![]);
}

#[test]
fn the_daily_summary_goes_once_a_day_across_a_restart() {
    let flow = Flow::new(serde_json::json!({
        "channels": hooks(&["chat", "pager"]),
        "routes": [{"channels": ["pager"]}],
        "daily_summary": {"at": "09:00", "timezone": "Asia/Tokyo", "channels": ["chat"]}
    }));
    // Set up at 15:00 JST on the 5th, with three open findings.
    flow.at(utc("2026-12-05T06:00:00Z"));
    flow.new_findings(&[on("a", 5.0), on("b", 8.0), on("c", 9.5)]);
    let mut n = flow.notifier();
    step(&mut n);
    flow.take();
    flow.at(utc("2026-12-05T23:59:59Z"));
    step(&mut n);
    assert_eq!(
        flow.take(),
        vec![],
        "a new install waits for the next 09:00"
    );
    // 09:00 JST on the 6th: one summary, to its channel only.
    flow.at(utc("2026-12-06T00:00:00Z"));
    step(&mut n);
    assert_eq!(flow.take(), vec![("chat".to_string(), Got::Summary(3))]);
    flow.at(utc("2026-12-06T00:00:01Z"));
    step(&mut n);
    // A restart the same day: not again.
    drop(n);
    let mut n = flow.notifier();
    flow.at(utc("2026-12-06T05:00:00Z"));
    step(&mut n);
    assert_eq!(flow.take(), vec![]);
    // The next day: one more.
    flow.at(utc("2026-12-07T00:00:30Z"));
    step(&mut n);
    step(&mut n);
    assert_eq!(flow.take(), vec![("chat".to_string(), Got::Summary(3))]);
}

#[test]
fn a_route_throttle_holds_back_repeats_but_not_a_rise_to_high() {
    let flow = Flow::new(serde_json::json!({
        "channels": hooks(&["chat"]),
        "routes": [{"name": "slow", "channels": ["chat"], "throttle": "1h"}]
    }));
    flow.new_findings(&[on("db", 5.0)]);
    let mut n = flow.notifier();
    step(&mut n);
    assert_eq!(flow.take(), vec![one("chat", "db", "new")]);
    // Raised within Medium 10 minutes later: throttled (a restart remembers).
    drop(n);
    let mut n = flow.notifier();
    flow.at(t0() + TimeDelta::minutes(10));
    flow.commit(&[(on("db", 6.0), ChangeKind::SeverityRaised, 1)]);
    step(&mut n);
    assert_eq!(flow.take(), vec![]);
    // Raised to High: always goes.
    flow.at(t0() + TimeDelta::minutes(20));
    flow.commit(&[(on("db", 8.0), ChangeKind::SeverityRaised, 1)]);
    step(&mut n);
    assert_eq!(flow.take(), vec![one("chat", "db", "severity_raised")]);
}

/// A group larger than a step's batch still goes as one message.
#[test]
fn a_group_larger_than_a_batch_is_one_message() {
    let flow = Flow::new(serde_json::json!({
        "channels": hooks(&["chat"]),
        "routes": [{"channels": ["chat"], "group_wait": "1m"}]
    }));
    let fs: Vec<Finding> = (0..BATCH + 6)
        .map(|i| on(&format!("db-{i}"), 5.0))
        .collect();
    flow.new_findings(&fs);
    let mut n = flow.notifier();
    step(&mut n);
    step(&mut n);
    assert_eq!(flow.take(), vec![]);
    flow.at(t0() + TimeDelta::minutes(1));
    step(&mut n);
    step(&mut n);
    assert_eq!(
        flow.take(),
        vec![("chat".to_string(), Got::Digest((BATCH + 6) as u64))]
    );
}

/// A notice quiet hours hold is told when it goes: "still going" counts from then,
/// so the morning brings the new finding alone, not with a repeat of it.
#[test]
fn still_going_counts_from_when_a_held_notice_goes() {
    let flow = Flow::new(serde_json::json!({
        "channels": hooks(&["chat"]),
        "routes": [{"channels": ["chat"]}],
        "quiet_hours": {"from": "22:00", "to": "08:00", "timezone": "Asia/Tokyo"},
        "repeat_interval": "4h"
    }));
    let f = on("db", 5.0);
    // 23:00 JST: held until 08:00 JST (23:00 UTC).
    flow.at(utc("2026-12-06T14:00:00Z"));
    flow.new_findings(std::slice::from_ref(&f));
    let mut n = flow.notifier();
    step(&mut n);
    flow.at(utc("2026-12-06T15:00:00Z"));
    flow.commit(&[(f.clone(), ChangeKind::Grew, 50)]);
    for t in ["2026-12-06T18:00:00Z", "2026-12-06T23:00:00Z"] {
        flow.at(utc(t));
        step(&mut n);
        step(&mut n);
    }
    assert_eq!(flow.take(), vec![one("chat", "db", "new")]);
    flow.commit(&[(f.clone(), ChangeKind::Grew, 5)]);
    flow.at(utc("2026-12-07T03:00:00Z"));
    step(&mut n);
    step(&mut n);
    assert_eq!(flow.take(), vec![one("chat", "db", "still_going")]);
}

fn action_entry(f: &Finding, state: keibi_respond::State) -> OutboxEntry {
    let a = keibi_respond::Action {
        id: "1a2b3c4d5e6f7081".into(),
        finding_id: f.id.clone(),
        finding_type: f.finding_type.clone(),
        target: keibi_respond::Target::LockRole {
            engine: None,
            instance: "db".into(),
            user: "app".into(),
        },
        mode: keibi_respond::Mode::Auto,
        state,
        rule: "#1".into(),
        reason: None,
        expire_after_secs: None,
        expires_at: None,
        created_at: t0(),
        updated_at: t0(),
        attempts: 1,
        next_at: None,
        executor: Some("postgres".into()),
        prior: None,
        done: None,
        by: None,
    };
    OutboxEntry {
        id: 7,
        key: "action-key".into(),
        kind: OutboxKind::Action,
        previous_severity: None,
        by: None,
        at: t0(),
        finding: f.clone(),
        count_then: None,
        since: None,
        action: Some(Box::new(a)),
    }
}

/// An action's entry follows the finding's routes, a route's throttle never holds
/// it back (a person must hear that keibi acted even right after the finding's
/// own notice), and the channel is handed the action's notice. (Its journey
/// through the store, written by the journal's transitions, is the responder's
/// end-to-end test.)
#[test]
fn an_action_entry_is_routed_past_throttles_as_an_action_notice() {
    let settings: NotifySettings = serde_json::from_value(serde_json::json!({
        "channels": hooks(&["chat", "pager"]),
        "routes": [
            {"name": "slow", "channels": ["chat"], "throttle": "1h", "severity_at_least": "medium"},
        ]
    }))
    .unwrap();
    let router = Router::new(&settings).unwrap();
    let f = on("db", 5.0);
    // The route told of this finding five minutes ago.
    let memory = RouteMemory {
        told: vec![keibi_store::ToldRow {
            route: "slow".into(),
            at: t0() - TimeDelta::minutes(5),
            severity: Severity::new(5.0),
            count: 1,
        }],
        waiting: Vec::new(),
    };
    let entry = action_entry(&f, keibi_respond::State::Executed);
    let planned = plan(&router, &entry, &memory, t0());
    assert_eq!(planned.len(), 1, "{planned:?}");
    assert_eq!(planned[0].channel, "chat");
    assert_eq!(planned[0].not_before, t0());
    // The same memory holds a finding's own repeat back.
    let mut reopened = entry.clone();
    reopened.kind = OutboxKind::Reopened;
    reopened.action = None;
    assert!(plan(&router, &reopened, &memory, t0()).is_empty());
    // The channel gets the action.
    match notice(&entry).kind {
        NoticeKind::Action { action } => {
            assert_eq!(action.state, keibi_respond::State::Executed);
            assert_eq!(action.id, "1a2b3c4d5e6f7081");
        }
        other => panic!("{other:?}"),
    }
    // The finding's route filters still apply: a Low finding's action goes nowhere.
    let low = action_entry(&on("db", 2.0), keibi_respond::State::Executed);
    assert!(plan(&router, &low, &RouteMemory::default(), t0()).is_empty());
    // An action entry whose action the store could not read back tells nothing.
    let mut lost = entry.clone();
    lost.action = None;
    assert!(plan(&router, &lost, &memory, t0()).is_empty());
}

/// What the channel is handed for an action entry is sent like any notice: the
/// webhook channel's request carries the action under its delivery key.
#[test]
fn an_action_notice_goes_out_with_its_entry_key() {
    let f = on("db", 8.0);
    let entry = action_entry(&f, keibi_respond::State::Failed);
    let spec: ChannelSpec = serde_json::from_value(serde_json::json!({
        "name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/"
    }))
    .unwrap();
    let keibi_notify::channels::ChannelKind::Webhook(w) = &spec.kind else {
        panic!("a webhook spec")
    };
    let hook = keibi_notify::channels::webhook::Webhook::build(&spec, w).unwrap();
    let msg = Outgoing::One(Box::new(notice(&entry)));
    let (body, headers) = hook.request(&msg, t0());
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["event"], "action");
    assert_eq!(v["action"]["state"], "failed");
    assert_eq!(v["finding"]["id"], f.id);
    assert!(headers.contains(&("X-Keibi-Delivery", "action-key".to_string())));
    assert!(headers.contains(&("X-Keibi-Event", "action".to_string())));
}

#[test]
fn an_export_takes_every_change_alone_and_at_once() {
    // The same route and quiet hours hold and group the chat channel's notices;
    // the OCSF file takes each one as it comes, past its (ignored) rate limit.
    let flow = Flow::new(serde_json::json!({
        "channels": [
            {"name": "chat", "type": "webhook", "url": "http://127.0.0.1:9/", "rate_limit": 1},
            {"name": "siem", "type": "ocsf_file", "path": "findings.jsonl", "rate_limit": 1},
        ],
        "routes": [{"channels": ["chat", "siem"], "group_wait": "30s"}],
        "quiet_hours": {"from": "22:00", "to": "08:00", "timezone": "Asia/Tokyo"}
    }));
    // 23:00 JST: quiet hours hold the Medium ones for chat.
    flow.at(utc("2026-12-06T14:00:00Z"));
    flow.new_findings(&[on("a-db", 5.0), on("b-db", 6.0), on("c-db", 8.0)]);
    let mut n = flow.notifier();
    step(&mut n);
    let mut got = flow.take();
    got.sort_by_key(|g| format!("{g:?}"));
    assert_eq!(
        got,
        vec![
            one("siem", "a-db", "new"),
            one("siem", "b-db", "new"),
            one("siem", "c-db", "new"),
        ]
    );
    // The daily summary is not an export's.
    let mut s = flow.settings.clone();
    s.daily_summary = serde_json::from_value(serde_json::json!({"at": "09:00"})).unwrap();
    assert_eq!(s.summary_channels(), ["chat"]);
    s.daily_summary =
        serde_json::from_value(serde_json::json!({"at": "09:00", "channels": ["siem"]})).unwrap();
    assert!(
        s.problems()[0].reason.contains("export"),
        "{:?}",
        s.problems()
    );
}
