//! Notifications end to end, with real processes: `keibi run` following a log as it
//! is written, a recording HTTP receiver on 127.0.0.1 that is taken down and brought
//! back, SIGKILL in the middle. Every notification arrives exactly once (counted by
//! `X-Keibi-Delivery`), signed (HMAC checked here with the hmac crate, not with
//! keibi's code), in the contract's shape; a 4xx is not retried; `keibi notify
//! status` shows pending and failed deliveries; `keibi notify test` reaches a
//! channel or says why not.

#[path = "../../keibi-notify/tests/common/receiver.rs"]
mod receiver;

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use receiver::{Receiver, Request};

const SECRET: &str = "whsec-test-5f2b";
const CATALOG: &str = include_str!("../../../docs/finding-catalog.md");

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn scenario_log(name: &str, file: &str) -> String {
    fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scenarios")
            .join(name)
            .join("attack")
            .join(file),
    )
    .unwrap()
}

/// A brute force that ends in a login (two findings), then superuser granted (one).
fn attack() -> (String, String) {
    (
        scenario_log(
            "login-successful-bruteforce",
            "shop-postgres/postgresql.log.2026-11-28-09",
        ),
        scenario_log(
            "activity-role-elevated",
            "orders-pg/error/postgresql.log.2026-12-01-10",
        ),
    )
}

/// A daemon following one log, with one webhook channel and one route that sends
/// it every finding (without routes only High and Critical would go: these tests
/// are about delivery, routing has its own below).
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(url: &str) -> Setup {
        Setup::with_notify(&format!(
            "notify:\n  channels:\n    - name: hook\n      type: webhook\n      url: {url}\n      secret: {{env: KEIBI_TEST_HOOK_SECRET}}\n  routes:\n    - name: everything\n      channels: [hook]\n"
        ))
    }

    /// The same daemon with its own `notify` section (YAML, from `notify:`).
    fn with_notify(notify: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("logs")).unwrap();
        fs::write(dir.path().join("logs/postgresql.log"), "").unwrap();
        let d = dir.path().display();
        fs::write(
            dir.path().join("keibi.yaml"),
            format!(
                "sources:\n  inputs:\n    - path: {d}/logs/postgresql.log\nstore:\n  path: {d}/keibi.db\nserver:\n  listen: off\n{notify}"
            ),
        )
        .unwrap();
        Setup { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn append(&self, text: &str) {
        let mut f = OpenOptions::new()
            .append(true)
            .open(self.path("logs/postgresql.log"))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f.sync_all().unwrap();
    }

    fn start(&self) -> Child {
        let err = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("daemon.log"))
            .unwrap();
        keibi()
            .args(["run", "--config"])
            .arg(self.path("keibi.yaml"))
            .env("KEIBI_TEST_HOOK_SECRET", SECRET)
            .env_remove("KEIBI_LANG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap()
    }

    fn log(&self) -> String {
        fs::read_to_string(self.path("daemon.log")).unwrap_or_default()
    }

    /// `keibi notify status --format json` (None while there is no store yet).
    fn status(&self) -> Option<serde_json::Value> {
        let o = keibi()
            .args(["notify", "status", "--format", "json", "--config"])
            .arg(self.path("keibi.yaml"))
            .output()
            .unwrap();
        if o.status.code() != Some(0) {
            return None;
        }
        serde_json::from_slice(&o.stdout).ok()
    }

    fn status_text(&self) -> (i32, String) {
        let o = keibi()
            .args(["notify", "status", "--config"])
            .arg(self.path("keibi.yaml"))
            .env_remove("KEIBI_LANG")
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    }

    /// Waits until the status satisfies `done`; panics with the daemon's log after
    /// `limit`.
    fn wait(&self, what: &str, limit: Duration, done: impl Fn(&Counts) -> bool) -> Counts {
        let start = Instant::now();
        loop {
            if let Some(c) = self.status().map(|s| Counts::of(&s)) {
                if done(&c) {
                    return c;
                }
                if start.elapsed() > limit {
                    panic!("{what}: {c:?}\n{}", self.log());
                }
            } else if start.elapsed() > limit {
                panic!("{what}: no store\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Every outbox key and its finding id, from the store itself.
    fn outbox(&self) -> BTreeMap<String, String> {
        let s = keibi_store::Store::open_read_only(&self.path("keibi.db")).unwrap();
        s.outbox(0, 1000)
            .unwrap()
            .into_iter()
            .map(|e| (e.key, e.finding.id))
            .collect()
    }
}

#[derive(Debug, Default)]
struct Counts {
    unrouted: u64,
    pending: u64,
    failed: u64,
    sent: u64,
    /// Pending deliveries tried at least once.
    tried: u64,
}

impl Counts {
    fn of(v: &serde_json::Value) -> Counts {
        let mut c = Counts {
            unrouted: v["unrouted"].as_u64().unwrap_or(0),
            ..Counts::default()
        };
        for ch in v["channels"].as_array().into_iter().flatten() {
            c.pending += ch["pending"].as_u64().unwrap_or(0);
            c.failed += ch["failed"].as_u64().unwrap_or(0);
            c.sent += ch["sent"].as_u64().unwrap_or(0);
        }
        c.tried = v["deliveries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["state"] == "pending" && d["attempts"].as_u64() > Some(0))
            .count() as u64;
        c
    }
}

fn kill9(mut c: Child) {
    c.kill().unwrap();
    c.wait().unwrap();
}

fn terminate(mut c: Child) -> Option<i32> {
    let ok = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Some(st) = c.try_wait().unwrap() {
            return st.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = c.kill();
    None
}

fn signed(r: &Request) -> bool {
    let (Some(ts), Some(sig)) = (r.header("x-keibi-timestamp"), r.header("x-keibi-signature"))
    else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(&r.body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    sig == format!("sha256={hex}")
}

/// The contract's field names: the field table of docs/finding-catalog.md.
fn contract_fields() -> Vec<String> {
    let mut out = Vec::new();
    for line in CATALOG.lines().skip_while(|l| !l.starts_with("| field |")) {
        if !line.starts_with('|') {
            break;
        }
        for name in line.split('|').nth(1).unwrap_or("").split(',') {
            if let Some(n) = name
                .trim()
                .strip_prefix('`')
                .and_then(|n| n.strip_suffix('`'))
            {
                out.push(n.to_string());
            }
        }
    }
    out
}

/// The receiver is down while findings are raised and the daemon is killed twice;
/// once it is back, every notification arrives exactly once.
#[test]
fn an_outage_and_two_kills_lose_nothing_and_double_nothing() {
    let mut rx = Receiver::start();
    rx.down();
    let s = Setup::new(&rx.url("/hooks/keibi"));
    let (brute, grant) = attack();

    // 1. Findings arrive while the receiver is down: in the outbox, tried, pending.
    let d = s.start();
    s.append(&brute);
    let c = s.wait("two findings tried", Duration::from_secs(60), |c| {
        c.pending >= 2 && c.tried >= 1
    });
    assert_eq!((c.sent, c.failed), (0, 0));
    let (code, text) = s.status_text();
    assert_eq!(code, 0);
    assert!(text.contains("Pending"), "{text}");
    assert!(text.contains("cannot reach"), "the last error: {text}");
    assert!(!text.contains("/hooks/keibi"), "no URL path shown: {text}");
    kill9(d);

    // 2. More is written while it is dead; a second daemon routes it, and is killed.
    s.append(&grant);
    let d = s.start();
    s.wait("three findings pending", Duration::from_secs(60), |c| {
        c.pending == 3 && c.unrouted == 0
    });
    std::thread::sleep(Duration::from_millis(700));
    kill9(d);

    // 3. A third daemon; the receiver comes back.
    let d = s.start();
    std::thread::sleep(Duration::from_millis(500));
    rx.up();
    let c = s.wait("all sent", Duration::from_secs(120), |c| {
        c.sent == 3 && c.pending == 0
    });
    assert_eq!((c.failed, c.unrouted), (0, 0));
    assert_eq!(terminate(d), Some(0), "{}", s.log());
    assert!(s.log().contains("notification sent to hook"), "{}", s.log());

    let outbox = s.outbox();
    assert_eq!(outbox.len(), 3, "{outbox:?}");
    let reqs = rx.requests();
    let mut by_key: BTreeMap<String, Vec<&Request>> = BTreeMap::new();
    for r in &reqs {
        by_key
            .entry(r.header("x-keibi-delivery").unwrap_or("").to_string())
            .or_default()
            .push(r);
    }
    assert_eq!(
        by_key.keys().cloned().collect::<Vec<_>>(),
        outbox.keys().cloned().collect::<Vec<_>>(),
        "every outbox entry, nothing else"
    );
    let contract = contract_fields();
    let mut types = Vec::new();
    for (key, rs) in &by_key {
        assert_eq!(rs.len(), 1, "exactly once: {key}");
        let r = rs[0];
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/hooks/keibi");
        assert!(signed(r), "the signature verifies: {:?}", r.headers);
        assert_eq!(r.header("x-keibi-event"), Some("new"));
        let v = r.json();
        assert_eq!(v["event"], "new");
        assert_eq!(v["finding"]["id"].as_str(), Some(outbox[key].as_str()));
        let obj = v["finding"].as_object().unwrap();
        for k in obj.keys() {
            assert!(
                contract.contains(k) || k == "suggested_actions",
                "{k} is not a contract field"
            );
        }
        for k in &contract {
            assert!(obj.contains_key(k), "{k} missing");
        }
        types.push(v["finding"]["type"].as_str().unwrap().to_string());
    }
    types.sort();
    assert_eq!(
        types,
        [
            "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
            "CredentialAccess:RDS/BruteForce",
            "PrivilegeEscalation:RDS/RoleElevated",
        ]
    );
}

/// A receiver that refuses (400) is told once per notification, never again, and
/// `keibi notify status` shows the failures with the receiver's answer.
#[test]
fn a_4xx_is_not_retried_and_status_shows_it() {
    let rx = Receiver::start();
    rx.answer(400);
    let s = Setup::new(&rx.url("/hooks/SECRETPATH"));
    let (brute, _) = attack();
    let d = s.start();
    s.append(&brute);
    let c = s.wait("two failed", Duration::from_secs(60), |c| c.failed >= 2);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(rx.requests().len() as u64, c.failed, "not retried");
    assert_eq!(terminate(d), Some(0));
    let (code, text) = s.status_text();
    assert_eq!(code, 0);
    assert!(text.contains("Failed"), "{text}");
    assert!(text.contains("HTTP 400"), "{text}");
    assert!(!text.contains("SECRETPATH"), "{text}");
    let v = s.status().unwrap();
    let failed: Vec<_> = v["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["state"] == "failed")
        .collect();
    assert_eq!(failed.len() as u64, c.failed);
    assert!(failed.iter().all(|d| d["attempts"] == 1));
}

/// `keibi notify test` sends the sample, marked as a test, and says what the
/// receiver answered; a refusal exits 1 with the answer.
#[test]
fn notify_test_reaches_the_channel_or_says_why_not() {
    let rx = Receiver::start();
    let s = Setup::new(&rx.url("/t"));
    let run = || {
        keibi()
            .args(["notify", "test", "--channel", "hook", "--config"])
            .arg(s.path("keibi.yaml"))
            .env("KEIBI_TEST_HOOK_SECRET", SECRET)
            .env_remove("KEIBI_LANG")
            .output()
            .unwrap()
    };
    let o = run();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Sent a test message to hook (webhook): HTTP 200"),
        "{out}"
    );
    let r = &rx.requests()[0];
    assert!(signed(r));
    assert_eq!(r.header("x-keibi-event"), Some("test"));
    let v = r.json();
    assert_eq!(v["test"], true);
    assert_eq!(v["finding"]["type"], "CredentialAccess:RDS/BruteForce");
    assert_eq!(v["finding"]["count"], 253);

    rx.answer(500);
    let o = run();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("HTTP 500"), "{err}");

    // An unknown channel, and a missing secret, are said before anything is sent.
    let o = keibi()
        .args(["notify", "test", "--channel", "slack", "--config"])
        .arg(s.path("keibi.yaml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("its channels: hook"));
    let o = keibi()
        .args(["notify", "test", "--channel", "hook", "--config"])
        .arg(s.path("keibi.yaml"))
        .env_remove("KEIBI_TEST_HOOK_SECRET")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("KEIBI_TEST_HOOK_SECRET"));
    assert_eq!(rx.requests().len(), 2);
}

/// A person resolving a finding that was announced is announced too, with who (the
/// event PagerDuty resolves its incident on).
#[test]
fn a_resolve_by_a_person_is_announced_with_who() {
    let rx = Receiver::start();
    let s = Setup::new(&rx.url("/r"));
    let (brute, _) = attack();
    let d = s.start();
    s.append(&brute);
    s.wait("two sent", Duration::from_secs(60), |c| c.sent >= 2);
    let id = s.outbox().into_values().next().unwrap();
    let o = keibi()
        .args(["findings", "resolve", &id, "--by", "kim", "--store"])
        .arg(s.path("keibi.db"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    s.wait("the resolve sent", Duration::from_secs(30), |c| c.sent >= 3);
    assert_eq!(terminate(d), Some(0));
    let r = rx
        .requests()
        .into_iter()
        .find(|r| r.header("x-keibi-event") == Some("resolved"))
        .expect("a resolved event");
    assert!(signed(&r));
    let v = r.json();
    assert_eq!(v["event"], "resolved");
    assert_eq!(v["resolved_by"], "kim");
    assert_eq!(v["finding"]["id"].as_str(), Some(id.as_str()));
}

/// `keibi run --once` (cron) announces what its pass found before it exits.
#[test]
fn run_once_sends_before_it_exits() {
    let rx = Receiver::start();
    let s = Setup::new(&rx.url("/once"));
    let (brute, _) = attack();
    s.append(&brute);
    let o = keibi()
        .args(["run", "--once", "--config"])
        .arg(s.path("keibi.yaml"))
        .env("KEIBI_TEST_HOOK_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let keys: Vec<String> = rx
        .requests()
        .iter()
        .map(|r| r.header("x-keibi-delivery").unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 2, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        keys.into_iter().collect::<std::collections::BTreeSet<_>>(),
        s.outbox().into_keys().collect()
    );
}

/// Routing with real processes: High and Critical page one receiver, the rest go
/// to another (first match wins); each finding reaches exactly the receiver its
/// route names, and `keibi notify status` counts deliveries per channel.
#[test]
fn findings_are_routed_by_severity_to_two_receivers() {
    let pager = Receiver::start();
    let chat = Receiver::start();
    let s = Setup::with_notify(&format!(
        "notify:\n  channels:\n    - name: pager\n      type: webhook\n      url: {}\n      secret: {{env: KEIBI_TEST_HOOK_SECRET}}\n    - name: chat\n      type: webhook\n      url: {}\n      secret: {{env: KEIBI_TEST_HOOK_SECRET}}\n  routes:\n    - name: urgent\n      severity_at_least: high\n      channels: [pager]\n    - name: the rest\n      channels: [chat]\n",
        pager.url("/pager"),
        chat.url("/chat")
    ));
    let (brute, grant) = attack();
    let d = s.start();
    s.append(&brute);
    s.append(&grant);
    s.wait("three sent", Duration::from_secs(60), |c| {
        c.sent == 3 && c.pending == 0 && c.unrouted == 0
    });
    assert_eq!(terminate(d), Some(0), "{}", s.log());
    let types = |rx: &Receiver| {
        let mut v: Vec<String> = rx
            .requests()
            .iter()
            .map(|r| {
                assert!(signed(r));
                r.json()["finding"]["type"].as_str().unwrap().to_string()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        types(&pager),
        [
            "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
            "PrivilegeEscalation:RDS/RoleElevated",
        ]
    );
    assert_eq!(types(&chat), ["CredentialAccess:RDS/BruteForce"]);
    let v = s.status().unwrap();
    let sent: BTreeMap<String, u64> = v["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["channel"].as_str().unwrap().to_string(),
                c["sent"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sent,
        BTreeMap::from([("chat".into(), 1), ("pager".into(), 2)])
    );
}
