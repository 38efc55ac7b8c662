//! The nftables executor against a real nft, inside a network namespace each test
//! creates (`unshare --user --map-root-user --net`, held by a `sleep`): keibi's
//! command is `nsenter … -t PID nft`, so the host's ruleset is never touched (each
//! test checks that the host has no table of its name). Skipped with a message
//! when nft or user namespaces are missing, unless `KEIBI_REQUIRE_SERVERS=1`.

use std::process::{Child, Command, Stdio};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use keibi_engine::respond::nft::{Done, Nftables, Prior};
use keibi_model::finding::Resource;
use keibi_model::{Finding, Severity};
use keibi_respond::{Action, ExecError, Executor, Mode, Place, Request, State, Target};
use serde_json::Value;

fn servers_required() -> bool {
    std::env::var("KEIBI_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

fn unavailable<T>(what: &str) -> Option<T> {
    let msg = format!("{what}; run scripts/test.sh as root to install nftables");
    if servers_required() {
        panic!("KEIBI_REQUIRE_SERVERS=1 but {msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

fn nft_path() -> Option<String> {
    ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_string)
}

/// A network namespace of its own, held open by a `sleep` in it.
struct Ns {
    holder: Child,
    nft: String,
}

impl Ns {
    fn new() -> Option<Ns> {
        let Some(nft) = nft_path() else {
            return unavailable("nft is not installed");
        };
        let mut holder = match Command::new("unshare")
            .args(["--user", "--map-root-user", "--net", "sleep", "600"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => return unavailable(&format!("unshare cannot be run: {e}")),
        };
        // The namespace exists once the holder's own net namespace differs.
        let mine = std::fs::read_link("/proc/self/ns/net").ok();
        for _ in 0..200 {
            if let Ok(Some(status)) = holder.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = holder.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                return unavailable(&format!(
                    "unshare --user --net failed ({status}): {}",
                    err.trim()
                ));
            }
            let pid = holder.id();
            let theirs = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok();
            // The net namespace exists at unshare(2); root is mapped in it only
            // once unshare has written uid_map, and the holder is ready once it
            // runs `sleep`. Entering earlier leaves nft and ip unprivileged there
            // ("Operation not permitted", seen once under the full suite's load).
            let mapped = std::fs::read_to_string(format!("/proc/{pid}/uid_map"))
                .is_ok_and(|m| !m.trim().is_empty());
            let sleeping = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "sleep");
            if theirs.is_some() && theirs != mine && mapped && sleeping {
                return Some(Ns { holder, nft });
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = holder.kill();
        unavailable("the namespace's holder did not start")
    }

    /// keibi's command: nft inside the namespace.
    fn command(&self) -> Vec<String> {
        vec![
            "nsenter".into(),
            "--preserve-credentials".into(),
            "-U".into(),
            "-n".into(),
            "-t".into(),
            self.holder.id().to_string(),
            self.nft.clone(),
        ]
    }

    /// Runs nft in the namespace (as a person would, beside keibi).
    fn nft(&self, args: &[&str]) -> Result<String, String> {
        let cmd = self.command();
        let out = Command::new(&cmd[0])
            .args(&cmd[1..])
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// The elements of a set as nft lists them (JSON objects or strings).
    fn elements(&self, table: &str, set: &str) -> Vec<Value> {
        let json = self
            .nft(&["-j", "list", "set", "inet", table, set])
            .expect("list set");
        let v: Value = serde_json::from_str(&json).unwrap();
        v["nftables"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i.pointer("/set/elem").and_then(Value::as_array))
            .flatten()
            .cloned()
            .collect()
    }

    fn rules(&self, table: &str) -> Vec<Value> {
        let json = self
            .nft(&["-j", "list", "chain", "inet", table, "input"])
            .expect("list chain");
        let v: Value = serde_json::from_str(&json).unwrap();
        v["nftables"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i.get("rule").cloned())
            .collect()
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// The host (outside every namespace) has no table of this name.
fn host_untouched(table: &str) {
    let Some(nft) = nft_path() else { return };
    let out = Command::new(nft).args(["list", "tables"]).output().unwrap();
    if !out.status.success() {
        // Not root here: the host's ruleset cannot be read, nor written.
        return;
    }
    let tables = String::from_utf8_lossy(&out.stdout);
    assert!(
        !tables
            .lines()
            .any(|l| l.trim() == format!("table inet {table}")),
        "the host got table {table}: {tables}"
    );
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn finding() -> Finding {
    let t = Utc.with_ymd_and_hms(2026, 12, 6, 3, 10, 0).unwrap();
    Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &["prod-db", "203.0.113.9"],
        Severity::new(7.5),
        Resource {
            kind: "db_instance".into(),
            id: "prod-db".into(),
            ..Default::default()
        },
        t,
    )
}

fn action(address: &str, expires_in: Option<i64>) -> Action {
    let t = now();
    Action {
        id: "1a2b3c4d5e6f7081".into(),
        finding_id: "f".into(),
        finding_type: "CredentialAccess:RDS/BruteForce".into(),
        target: Target::BlockAddress {
            address: address.parse().unwrap(),
            instance: Some("prod-db".into()),
            place: Place::default(),
        },
        mode: Mode::Auto,
        state: State::Executing,
        rule: "#1".into(),
        reason: None,
        expire_after_secs: expires_in.map(|s| s as u64),
        expires_at: expires_in.map(|s| t + TimeDelta::seconds(s)),
        created_at: t,
        updated_at: t,
        attempts: 1,
        next_at: None,
        executor: Some("nftables".into()),
        prior: None,
        done: None,
        by: None,
    }
}

fn exec(ns: &Ns, table: &str) -> Nftables {
    Nftables::new(ns.command(), table).unwrap()
}

fn val(e: &Value) -> Value {
    e.pointer("/elem/val").cloned().unwrap_or_else(|| e.clone())
}

#[test]
fn a_block_is_one_element_with_a_timeout_and_undo_removes_it() {
    let Some(ns) = Ns::new() else { return };
    let table = "keibitest1";
    let mut x = exec(&ns, table);
    let f = finding();
    let a = action("203.0.113.9/32", Some(3600));
    let req = Request {
        action: &a,
        finding: &f,
    };
    // Before: no table at all, nothing there.
    let prior = x.prepare(req).unwrap();
    let p: Prior = serde_json::from_value(prior.clone()).unwrap();
    assert!(!p.present, "{prior}");
    assert_eq!(p.element, "203.0.113.9");

    let done = x.apply(req, &prior).unwrap();
    let d: Done = serde_json::from_value(done.clone()).unwrap();
    assert!(d.added);
    let els = ns.elements(table, "blocked4");
    assert_eq!(els.len(), 1, "{els:?}");
    assert_eq!(val(&els[0]), "203.0.113.9");
    let timeout = els[0].pointer("/elem/timeout").and_then(Value::as_u64);
    assert!(
        timeout.is_some_and(|t| (3590..=3600).contains(&t)),
        "the kernel's timeout is the time left to the action's expiry: {els:?}"
    );
    // The chain drops what the sets hold, once each.
    let rules = ns.rules(table);
    assert_eq!(rules.len(), 2, "{rules:?}");
    let text = serde_json::to_string(&rules).unwrap();
    assert!(text.contains("@blocked4") && text.contains("@blocked6") && text.contains("drop"));

    // Applied again (a kill before the journal said executed): still one element,
    // still two rules.
    let again = x.apply(req, &prior).unwrap();
    assert_eq!(again["added"], true);
    assert_eq!(ns.elements(table, "blocked4").len(), 1);
    assert_eq!(ns.rules(table).len(), 2);

    x.undo(req, &prior, &done).unwrap();
    assert!(ns.elements(table, "blocked4").is_empty());
    // Undone again: nothing to do, no error.
    x.undo(req, &prior, &done).unwrap();
    // The table stays (other blocks may be in it), empty.
    assert_eq!(ns.rules(table).len(), 2);
    host_untouched(table);
}

#[test]
fn what_keibi_did_not_add_is_never_deleted() {
    let Some(ns) = Ns::new() else { return };
    let table = "keibitest2";
    let mut x = exec(&ns, table);
    let f = finding();
    // keibi's table exists (a first block), then a person adds their own elements.
    let first = action("192.0.2.200/32", Some(600));
    let r0 = Request {
        action: &first,
        finding: &f,
    };
    let p0 = x.prepare(r0).unwrap();
    x.apply(r0, &p0).unwrap();
    ns.nft(&[
        "add",
        "element",
        "inet",
        table,
        "blocked4",
        "{ 198.51.100.7 }",
    ])
    .unwrap();
    ns.nft(&[
        "add",
        "element",
        "inet",
        table,
        "blocked4",
        "{ 192.0.2.0/25 }",
    ])
    .unwrap();

    // The same address: present before keibi.
    let a = action("198.51.100.7/32", Some(600));
    let req = Request {
        action: &a,
        finding: &f,
    };
    let prior = x.prepare(req).unwrap();
    assert_eq!(prior["present"], true, "{prior}");
    let done = x.apply(req, &prior).unwrap();
    assert_eq!(done["added"], false, "{done}");
    x.undo(req, &prior, &done).unwrap();
    let els = ns.elements(table, "blocked4");
    assert!(els.iter().any(|e| val(e) == "198.51.100.7"), "{els:?}");

    // An address inside a person's network: covered, left alone too.
    let b = action("192.0.2.5/32", Some(600));
    let rb = Request {
        action: &b,
        finding: &f,
    };
    let pb = x.prepare(rb).unwrap();
    assert_eq!(pb["present"], true, "{pb}");
    assert_eq!(pb["covered_by"], "192.0.2.0/25", "{pb}");
    let db = x.apply(rb, &pb).unwrap();
    x.undo(rb, &pb, &db).unwrap();
    assert_eq!(ns.elements(table, "blocked4").len(), 3);

    // keibi's own first block is undone; the person's two stay.
    let d0 = serde_json::json!({"table": table, "set": "blocked4", "element": "192.0.2.200", "added": true});
    x.undo(r0, &p0, &d0).unwrap();
    let left: Vec<Value> = ns.elements(table, "blocked4").iter().map(val).collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().all(|v| v != "192.0.2.200"), "{left:?}");
    host_untouched(table);
}

#[test]
fn an_ipv6_client_is_blocked_by_its_64_and_without_expiry_for_good() {
    let Some(ns) = Ns::new() else { return };
    let table = "keibitest3";
    let mut x = exec(&ns, table);
    let f = finding();
    let a = action("2001:db8:1:2::99/64", None);
    let req = Request {
        action: &a,
        finding: &f,
    };
    let prior = x.prepare(req).unwrap();
    assert_eq!(prior["element"], "2001:db8:1:2::/64");
    let done = x.apply(req, &prior).unwrap();
    assert_eq!(done["set"], "blocked6");
    assert!(done.get("timeout_secs").is_none(), "{done}");
    x.apply(req, &prior).unwrap();
    let els = ns.elements(table, "blocked6");
    assert_eq!(els.len(), 1, "{els:?}");
    assert_eq!(
        val(&els[0]),
        serde_json::json!({"prefix": {"addr": "2001:db8:1:2::", "len": 64}})
    );
    assert!(els[0].pointer("/elem/timeout").is_none(), "{els:?}");
    assert!(ns.elements(table, "blocked4").is_empty());
    // An address inside the blocked /64 now reads as covered.
    let inside = action("2001:db8:1:2::7/128", Some(60));
    let p2 = x
        .prepare(Request {
            action: &inside,
            finding: &f,
        })
        .unwrap();
    assert_eq!(p2["covered_by"], "2001:db8:1:2::/64", "{p2}");
    x.undo(req, &prior, &done).unwrap();
    assert!(ns.elements(table, "blocked6").is_empty());
    host_untouched(table);
}

#[test]
fn a_flushed_ruleset_is_rebuilt_and_a_gone_table_is_nothing_to_undo() {
    let Some(ns) = Ns::new() else { return };
    let table = "keibitest4";
    let mut x = exec(&ns, table);
    let f = finding();
    let a = action("203.0.113.77/32", Some(120));
    let req = Request {
        action: &a,
        finding: &f,
    };
    let prior = x.prepare(req).unwrap();
    let done = x.apply(req, &prior).unwrap();
    // Someone flushes the ruleset: undo finds nothing and is done.
    ns.nft(&["flush", "ruleset"]).unwrap();
    x.undo(req, &prior, &done).unwrap();
    // The next apply makes the table whole again.
    x.apply(req, &prior).unwrap();
    assert_eq!(ns.rules(table).len(), 2);
    assert_eq!(ns.elements(table, "blocked4").len(), 1);
    // Another table in the namespace is never touched.
    ns.nft(&["add", "table", "inet", "theirs"]).unwrap();
    x.undo(req, &prior, &done).unwrap();
    assert!(ns.nft(&["list", "table", "inet", "theirs"]).is_ok());
    host_untouched(table);
}

#[test]
fn a_missing_nft_and_a_refused_one_are_permanent_and_say_what_to_do() {
    let mut x = Nftables::new(vec!["/nonexistent/keibi-nft".into()], "keibi").unwrap();
    let f = finding();
    let a = action("203.0.113.9/32", Some(60));
    let req = Request {
        action: &a,
        finding: &f,
    };
    let e = x.prepare(req).unwrap_err();
    assert!(
        matches!(&e, ExecError::Permanent(m) if m.contains("/nonexistent/keibi-nft not found")),
        "{e:?}"
    );

    // nft in a user namespace of its own, without the host network's
    // CAP_NET_ADMIN: refused by the kernel.
    let Some(nft) = nft_path() else {
        let _: Option<()> = unavailable("nft is not installed");
        return;
    };
    let probe = Command::new("unshare").args(["--user", "true"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        let _: Option<()> = unavailable("unshare --user cannot be run");
        return;
    }
    let mut x = Nftables::new(vec!["unshare".into(), "--user".into(), nft], "keibi").unwrap();
    let e = x.prepare(req).unwrap_err();
    assert!(
        matches!(&e, ExecError::Permanent(m) if m.contains("CAP_NET_ADMIN") && m.contains("sudo, -n, nft")),
        "{e:?}"
    );
}

/// A TCP connect from each source to a listener, inside the namespace: `open` or
/// `blocked` (no answer within half a second).
const PROBE: &str = r#"
import socket, sys
srv = socket.socket(); srv.bind(("10.9.9.10", 7777)); srv.listen(8)
def probe(src):
    c = socket.socket(); c.settimeout(0.5); c.bind((src, 0))
    try:
        c.connect(("10.9.9.10", 7777)); return "open"
    except OSError:
        return "blocked"
print(" ".join(probe(s) for s in sys.argv[1:]))
"#;

impl Ns {
    /// Runs `program args` inside the namespace.
    fn run(&self, program: &str, args: &[&str]) -> Result<String, String> {
        let mut cmd = self.command();
        cmd.pop();
        let out = Command::new(&cmd[0])
            .args(&cmd[1..])
            .arg(program)
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

#[test]
fn the_chain_really_drops_a_blocked_source() {
    let Some(ns) = Ns::new() else { return };
    let setup = ns.run("ip", &["link", "set", "lo", "up"]).and_then(|_| {
        ["10.9.9.9", "10.9.9.10", "10.9.9.11"]
            .iter()
            .try_for_each(|a| {
                ns.run("ip", &["addr", "add", &format!("{a}/32"), "dev", "lo"])
                    .map(drop)
            })
    });
    if let Err(e) = setup {
        let _: Option<()> = unavailable(&format!("ip cannot set up the namespace's loopback: {e}"));
        return;
    }
    let probe = || ns.run("python3", &["-c", PROBE, "10.9.9.9", "10.9.9.11"]);
    match probe() {
        Ok(s) => assert_eq!(s, "open open", "before any block"),
        Err(e) => {
            let _: Option<()> = unavailable(&format!("python3 cannot probe in the namespace: {e}"));
            return;
        }
    }
    let table = "keibitest5";
    let mut x = exec(&ns, table);
    let f = finding();
    let a = action("10.9.9.9/32", Some(600));
    let req = Request {
        action: &a,
        finding: &f,
    };
    let prior = x.prepare(req).unwrap();
    let done = x.apply(req, &prior).unwrap();
    assert_eq!(probe().unwrap(), "blocked open", "the blocked source only");
    x.undo(req, &prior, &done).unwrap();
    assert_eq!(probe().unwrap(), "open open", "undone");
    host_untouched(table);
}
