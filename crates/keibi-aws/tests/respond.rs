//! The AWS executors of automated response against moto server: the estate of
//! `tests/data/make_estate.py`, readied by `tests/data/respond_world.py setup`, and
//! every change checked by reading the world back with boto3
//! (`respond_world.py show`), not with keibi's own client. Each action is prepared,
//! applied, applied again (the daemon killed before the journal said executed) and
//! undone, and what was there before keibi stays as it was. Hostile identifiers are
//! refused before any connection is made.
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh);
//! the hostile-identifier test needs no server.

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod common;
mod estate;

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Once;
use std::time::Duration;

use chrono::Utc;
use keibi_aws::respond::{executors, RespondConfig};
use keibi_model::{Finding, Resource, Severity};
use keibi_respond::{Action, ExecError, Executor, Mode, Place, Request, State, Target};
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";

fn testing_credentials() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| estate::credentials("testing", "testing"));
}

/// The estate, readied for responses: the world's ids and what setup made.
struct World {
    e: estate::Estate,
    acl: String,
    sg: String,
    setup: Value,
}

fn world(extra: &[&str]) -> Option<World> {
    testing_credentials();
    let e = estate::estate(extra)?;
    let acl = e.made["network_acl"].as_str().unwrap().to_string();
    let sg = e.made["security_group"].as_str().unwrap().to_string();
    let subnets: Vec<&str> = e.made["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let setup = script(&["setup", &e.endpoint, &acl, &subnets.join(","), &sg]);
    Some(World { e, acl, sg, setup })
}

fn script(args: &[&str]) -> Value {
    let python = common::python_with("boto3").expect("the venv has boto3");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/respond_world.py");
    let out = Command::new(python)
        .arg(path)
        .args(args)
        .output()
        .expect("run respond_world.py");
    assert!(
        out.status.success(),
        "respond_world.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("respond_world.py JSON")
}

impl World {
    fn show(&self) -> Value {
        script(&["show", &self.e.endpoint, &self.acl, &self.sg])
    }

    fn config(&self) -> RespondConfig {
        RespondConfig {
            region: Some("us-east-1".into()),
            endpoint_url: Some(self.e.endpoint.clone()),
            timeout: Duration::from_secs(20),
            ..RespondConfig::default()
        }
    }
}

fn executor(cfg: &RespondConfig, name: &str) -> Box<dyn Executor> {
    executors(cfg)
        .expect("executors")
        .into_iter()
        .find(|e| e.name() == name)
        .expect("executor by name")
}

fn place() -> Place {
    Place {
        account: Some(ACCOUNT.into()),
        region: Some("us-east-1".into()),
    }
}

fn action(target: Target) -> Action {
    let now = Utc::now();
    Action {
        id: "0123456789abcdef".into(),
        finding_id: "f".into(),
        finding_type: "test".into(),
        rule: "test".into(),
        ..Action::new(target, Mode::Auto, State::Executing, now)
    }
}

fn finding() -> Finding {
    Finding::new(
        "test",
        "test",
        &[],
        Severity::new(8.0),
        Resource::default(),
        Utc::now(),
    )
}

/// prepare, apply, apply again: (prior, done, done of the second apply).
fn run(ex: &mut dyn Executor, target: &Target) -> Result<(Value, Value, Value), ExecError> {
    let a = action(target.clone());
    let f = finding();
    let req = Request {
        action: &a,
        finding: &f,
    };
    assert!(ex.accepts(target), "{} accepts {target:?}", ex.name());
    let prior = ex.prepare(req)?;
    let done = ex.apply(req, &prior)?;
    let again = ex.apply(req, &prior)?;
    Ok((prior, done, again))
}

fn undo(ex: &mut dyn Executor, target: &Target, prior: &Value, done: &Value) {
    let a = action(target.clone());
    let f = finding();
    let req = Request {
        action: &a,
        finding: &f,
    };
    ex.undo(req, prior, done).expect("undo");
    ex.undo(req, prior, done).expect("undo again is a no-op");
}

fn deny_entries(show: &Value, cidr: &str) -> Vec<u64> {
    show["acl_ingress"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["cidr"] == cidr && e["action"] == "deny")
        .map(|e| e["rule"].as_u64().unwrap())
        .collect()
}

fn block(address: &str, instance: Option<&str>) -> Target {
    Target::BlockAddress {
        address: address.parse().unwrap(),
        instance: instance.map(str::to_string),
        place: place(),
    }
}

#[test]
fn a_block_is_a_deny_entry_in_the_acl_of_the_instances_subnets() {
    let Some(w) = world(&[]) else { return };
    let cfg = w.config();
    let mut ex = executor(&cfg, "aws-nacl");
    let allow = json!({"rule": 100, "action": "allow", "protocol": "6", "cidr": "0.0.0.0/0"});
    // The ACL's own deny of the same address, outside keibi's range 1-50.
    let own = json!({"rule": 60, "action": "deny", "protocol": "-1", "cidr": "203.0.113.9/32"});

    // IPv4: the lowest free number of 1-50, applied twice: one entry.
    let v4 = block("203.0.113.9/32", Some("keibi-public-pg"));
    let (prior4, done4, again4) = run(ex.as_mut(), &v4).expect("block 203.0.113.9");
    assert_eq!(prior4["acls"], json!([{"acl": w.acl, "existing": null}]));
    assert_eq!(
        done4["entries"],
        json!([{"acl": w.acl, "rule": 1, "created": true}])
    );
    assert_eq!(again4, done4, "apply after a kill finds its own entry");
    let s = w.show();
    assert_eq!(deny_entries(&s, "203.0.113.9/32"), [1, 60]);
    assert!(s["acl_ingress"].as_array().unwrap().contains(&allow));

    // IPv6 (a client's /64) takes the next number.
    let v6 = block("2001:db8:7:42::/64", Some("keibi-public-pg"));
    let (prior6, done6, _) = run(ex.as_mut(), &v6).expect("block 2001:db8:7:42::/64");
    assert_eq!(done6["entries"][0]["rule"], 2);
    assert_eq!(deny_entries(&w.show(), "2001:db8:7:42::/64"), [2]);

    // A second action for an address already blocked reuses the entry, and its
    // undo leaves it: keibi deletes only what that action created.
    let (prior_b, done_b, _) = run(ex.as_mut(), &v4).expect("block again");
    assert_eq!(prior_b["acls"][0]["existing"], 1);
    assert_eq!(done_b["entries"][0]["created"], false);
    undo(ex.as_mut(), &v4, &prior_b, &done_b);
    assert_eq!(deny_entries(&w.show(), "203.0.113.9/32"), [1, 60]);

    // A target with no instance blocks in the configured ACLs.
    let mut by_list = executor(
        &RespondConfig {
            network_acls: vec![w.acl.clone()],
            ..cfg.clone()
        },
        "aws-nacl",
    );
    let none = block("192.0.2.77/32", None);
    assert!(
        !ex.accepts(&none),
        "no instance and no network_acls: not accepted"
    );
    let (prior_n, done_n, _) = run(by_list.as_mut(), &none).expect("block by the list");
    assert_eq!(done_n["entries"][0]["rule"], 3);

    // A full range is a permanent error that adds nothing.
    let mut full = executor(
        &RespondConfig {
            nacl_rules: 1..=3,
            ..cfg.clone()
        },
        "aws-nacl",
    );
    let more = block("198.51.100.200/32", Some("keibi-public-pg"));
    let err = run(full.as_mut(), &more).unwrap_err();
    assert!(
        matches!(&err, ExecError::Permanent(m) if m.contains("no free ingress rule number in 1-3")),
        "{err:?}"
    );
    assert!(deny_entries(&w.show(), "198.51.100.200/32").is_empty());

    // A range above an allow that covers the address would block nothing: refused.
    let mut late = executor(
        &RespondConfig {
            nacl_rules: 200..=210,
            ..cfg.clone()
        },
        "aws-nacl",
    );
    let err = run(late.as_mut(), &more).unwrap_err();
    assert!(
        matches!(&err, ExecError::Permanent(m) if m.contains("allows 0.0.0.0/0 at rule 100")),
        "{err:?}"
    );

    // Undo removes keibi's entries; the ACL's own entries stay, the deny of the
    // same address outside the range too.
    undo(ex.as_mut(), &v4, &prior4, &done4);
    undo(ex.as_mut(), &v6, &prior6, &done6);
    undo(by_list.as_mut(), &none, &prior_n, &done_n);
    let s = w.show();
    assert_eq!(
        s["acl_ingress"],
        json!([own, allow]),
        "only the ACL's own entries are left"
    );
}

#[test]
fn an_acls_own_allow_of_a_database_port_is_revoked_and_put_back() {
    let Some(w) = world(&[]) else { return };
    let cfg = w.config();
    let mut ex = executor(&cfg, "aws-nacl");
    let before = w.show()["acl_ingress"].clone();
    let own = json!({"rule": 60, "action": "deny", "protocol": "-1", "cidr": "203.0.113.9/32"});
    let revoke = |port: &str| Target::RevokeIngress {
        resource_kind: "network_acl".into(),
        resource: w.acl.clone(),
        port: port.into(),
        cidr: "0.0.0.0/0".into(),
        place: place(),
    };

    // 5432 is not what rule 100 opens: nothing to do.
    let (_, done, _) = run(ex.as_mut(), &revoke("5432")).expect("nothing to revoke");
    assert_eq!(done["removed"], json!([]));
    assert_eq!(w.show()["acl_ingress"], before);

    let t = revoke("3306");
    let (prior, done, again) = run(ex.as_mut(), &t).expect("revoke rule 100");
    assert_eq!(
        prior["entries"],
        json!([{"rule": 100, "protocol": "6", "from": 3306, "to": 3306, "cidr": "0.0.0.0/0"}])
    );
    assert_eq!(again["removed"], done["removed"]);
    assert_eq!(w.show()["acl_ingress"], json!([own]), "the deny stays");
    undo(ex.as_mut(), &t, &prior, &done);
    assert_eq!(
        w.show()["acl_ingress"],
        before,
        "rule 100 is back as it was"
    );

    // Once its number holds another entry, undo refuses to replace it.
    let (prior, done, _) = run(ex.as_mut(), &t).expect("revoke again");
    let mut at_100 = executor(
        &RespondConfig {
            nacl_rules: 100..=100,
            ..cfg.clone()
        },
        "aws-nacl",
    );
    run(
        at_100.as_mut(),
        &block("192.0.2.5/32", Some("keibi-public-pg")),
    )
    .expect("block at 100");
    let a = action(t.clone());
    let f = finding();
    let req = Request {
        action: &a,
        finding: &f,
    };
    let err = ex.undo(req, &prior, &done).unwrap_err();
    assert!(
        matches!(&err, ExecError::Permanent(m) if m.contains("rule 100 now holds another entry")),
        "{err:?}"
    );
    assert_eq!(deny_entries(&w.show(), "192.0.2.5/32"), [100]);
}

#[test]
fn public_access_is_closed_and_given_back_exactly() {
    let Some(w) = world(&["--extra-instances", "1"]) else {
        return;
    };
    let cfg = RespondConfig {
        trusted_accounts: vec!["444455556666".into()],
        ..w.config()
    };
    let mut ex = executor(&cfg, "aws-rds");
    let close = |kind: &str, id: &str| Target::ClosePublicAccess {
        resource_kind: kind.into(),
        resource: id.into(),
        place: place(),
    };

    let inst = close("db_instance", "keibi-public-pg");
    let (prior, done, _) = run(ex.as_mut(), &inst).expect("close the instance");
    assert_eq!(prior["publicly_accessible"], true);
    assert_eq!(w.show()["publicly_accessible"], false);
    undo(ex.as_mut(), &inst, &prior, &done);
    assert_eq!(w.show()["publicly_accessible"], true);

    // An instance that was private stays private after undo.
    let private = close("db_instance", "keibi-pad-00");
    let (prior_p, done_p, _) = run(ex.as_mut(), &private).expect("close a private instance");
    assert_eq!(prior_p["publicly_accessible"], false);
    assert_eq!(done_p["made_private"], false);
    undo(ex.as_mut(), &private, &prior_p, &done_p);

    let snap = close("db_snapshot", "keibi-public-snap");
    let (prior_s, done_s, again_s) = run(ex.as_mut(), &snap).expect("close the snapshot");
    assert_eq!(prior_s["restore"], json!(["all"]));
    assert_eq!(done_s["removed"], json!(["all"]));
    assert_eq!(
        again_s["removed"],
        json!(["all"]),
        "a retry still knows what was removed"
    );
    assert_eq!(w.show()["snapshot_restore"], json!([]));
    undo(ex.as_mut(), &snap, &prior_s, &done_s);
    assert_eq!(w.show()["snapshot_restore"], json!(["all"]));

    // A cluster snapshot keeps its trusted account.
    let csnap = close("db_cluster_snapshot", "keibi-aurora-snap");
    let (prior_c, done_c, _) = run(ex.as_mut(), &csnap).expect("close the cluster snapshot");
    assert_eq!(done_c["removed"], json!(["111122223333", "all"]));
    assert_eq!(
        w.show()["cluster_snapshot_restore"],
        json!(["444455556666"])
    );
    undo(ex.as_mut(), &csnap, &prior_c, &done_c);
    assert_eq!(
        w.show()["cluster_snapshot_restore"],
        json!(["111122223333", "444455556666", "all"])
    );

    // A cluster has no public flag of its own: not accepted.
    assert!(!ex.accepts(&close("db_cluster", "keibi-aurora")));
    // Another account's instance of the same name is not touched.
    let other = Target::ClosePublicAccess {
        resource_kind: "db_instance".into(),
        resource: "keibi-public-pg".into(),
        place: Place {
            account: Some("999999999999".into()),
            region: Some("us-east-1".into()),
        },
    };
    let err = run(ex.as_mut(), &other).unwrap_err();
    assert!(
        matches!(&err, ExecError::Permanent(m) if m.contains("account \"999999999999\"")),
        "{err:?}"
    );
    assert_eq!(w.show()["publicly_accessible"], true);
}

#[test]
fn ingress_rules_are_revoked_and_authorized_again() {
    let Some(w) = world(&[]) else { return };
    let mut ex = executor(&w.config(), "aws-security-group");
    let before = w.show()["sg_ingress"].clone();
    let revoke = |port: &str, cidr: &str| Target::RevokeIngress {
        resource_kind: "security_group".into(),
        resource: w.sg.clone(),
        port: port.into(),
        cidr: cidr.into(),
        place: place(),
    };

    // 5432 from the world: the 5432 rule and the 5000-6000 rule that covers it go;
    // the IPv6 rule and the partner's /24 stay.
    let t = revoke("5432", "0.0.0.0/0");
    let (prior, done, again) = run(ex.as_mut(), &t).expect("revoke");
    assert_eq!(prior["rules"].as_array().unwrap().len(), 2, "{prior}");
    assert_eq!(again["revoked"], done["revoked"]);
    let after = w.show()["sg_ingress"].clone();
    assert_eq!(
        after,
        json!([
            {"protocol": "tcp", "from": 5432, "to": 5432, "cidr": "198.51.100.0/24", "description": "partner"},
            {"protocol": "tcp", "from": 5432, "to": 5432, "cidr": "::/0", "description": null},
        ])
    );
    undo(ex.as_mut(), &t, &prior, &done);
    assert_eq!(
        w.show()["sg_ingress"],
        before,
        "the same rules, descriptions too"
    );

    // No rule opens the port to that range: done, nothing revoked.
    let none = revoke("5432", "192.0.2.0/24");
    let (_, done_n, _) = run(ex.as_mut(), &none).expect("nothing to revoke");
    assert_eq!(done_n["revoked"], json!([]));
    assert_eq!(w.show()["sg_ingress"], before);

    // IPv6.
    let v6 = revoke("5432", "::/0");
    let (prior6, done6, _) = run(ex.as_mut(), &v6).expect("revoke v6");
    assert_eq!(w.show()["sg_ingress"].as_array().unwrap().len(), 3);
    undo(ex.as_mut(), &v6, &prior6, &done6);
    assert_eq!(w.show()["sg_ingress"], before);
}

#[test]
fn principals_are_contained_and_released() {
    let Some(w) = world(&[]) else { return };
    let mut ex = executor(&w.config(), "aws-iam");
    let active = w.setup["active_key"].as_str().unwrap().to_string();
    let inactive = w.setup["inactive_key"].as_str().unwrap().to_string();
    let contain = |principal: &str, key: Option<&str>| Target::ContainPrincipal {
        principal: principal.into(),
        access_key: key.map(str::to_string),
        place: place(),
    };
    let deny_before = |v: &Value| -> String {
        assert_eq!(v["Statement"][0]["Effect"], "Deny", "{v}");
        assert_eq!(v["Statement"][0]["Action"], "*", "{v}");
        v["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // A user: its active key goes inactive (the inactive one is left alone), and
    // its older sessions are denied.
    let user = contain(&format!("arn:aws:iam::{ACCOUNT}:user/mallory"), None);
    let started = Utc::now() - chrono::Duration::seconds(2);
    let (prior, done, _) = run(ex.as_mut(), &user).expect("contain mallory");
    let s = w.show();
    assert_eq!(s["mallory_keys"][&active], "Inactive");
    assert_eq!(s["mallory_keys"][&inactive], "Inactive");
    let cut: chrono::DateTime<Utc> = deny_before(&s["mallory_policy"]).parse().unwrap();
    assert!(cut >= started && cut <= Utc::now(), "{cut}");
    assert_eq!(done["deactivated"], json!([active]));
    undo(ex.as_mut(), &user, &prior, &done);
    let s = w.show();
    assert_eq!(s["mallory_keys"][&active], "Active");
    assert_eq!(
        s["mallory_keys"][&inactive], "Inactive",
        "never activated by undo"
    );
    assert_eq!(s["mallory_policy"], Value::Null);

    // Only the finding's key, when it names one.
    let one = contain(
        &format!("arn:aws:iam::{ACCOUNT}:user/mallory"),
        Some(&active),
    );
    let (prior_k, done_k, _) = run(ex.as_mut(), &one).expect("contain one key");
    assert_eq!(prior_k["keys"], json!([{"id": active, "status": "Active"}]));
    undo(ex.as_mut(), &one, &prior_k, &done_k);
    assert_eq!(w.show()["mallory_keys"][&active], "Active");

    // A role's session: the role gets the deny policy, and loses it.
    let session = contain(
        &format!("arn:aws:sts::{ACCOUNT}:assumed-role/app-role/i-0abc"),
        Some("ASIAEXAMPLEEXAMPLE12"),
    );
    let (prior_r, done_r, _) = run(ex.as_mut(), &session).expect("contain app-role");
    assert_eq!(prior_r["policy"], Value::Null);
    deny_before(&w.show()["app_role_policy"]);
    undo(ex.as_mut(), &session, &prior_r, &done_r);
    assert_eq!(w.show()["app_role_policy"], Value::Null);

    // A role that had an older policy of that name gets it back.
    let ops = contain(&format!("arn:aws:iam::{ACCOUNT}:role/ops-role"), None);
    let (prior_o, done_o, _) = run(ex.as_mut(), &ops).expect("contain ops-role");
    assert_eq!(prior_o["policy"], w.setup["older_policy"]);
    assert_ne!(w.show()["ops_role_policy"], w.setup["older_policy"]);
    undo(ex.as_mut(), &ops, &prior_o, &done_o);
    assert_eq!(w.show()["ops_role_policy"], w.setup["older_policy"]);

    // Another account's principal, and a key that is not the user's, are refused.
    let err = run(
        ex.as_mut(),
        &contain("arn:aws:iam::999999999999:user/mallory", None),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ExecError::Permanent(m) if m.contains("account")),
        "{err:?}"
    );
    let err = run(
        ex.as_mut(),
        &contain(
            &format!("arn:aws:iam::{ACCOUNT}:user/mallory"),
            Some("AKIAIOSFODNN7EXAMPLE"),
        ),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ExecError::Permanent(m) if m.contains("not a key of")),
        "{err:?}"
    );
    assert!(!ex.accepts(&contain(&format!("arn:aws:iam::{ACCOUNT}:root"), None)));
}

#[test]
fn a_stopped_trail_logs_again() {
    let Some(w) = world(&[]) else { return };
    let mut ex = executor(&w.config(), "aws-cloudtrail");
    assert_eq!(w.show()["trail_logging"], false);
    let t = Target::RestoreLogging {
        resource_kind: "trail".into(),
        resource: w.e.made["trail_arn"].as_str().unwrap().into(),
        place: Place::default(),
    };
    let (prior, done, again) = run(ex.as_mut(), &t).expect("restore logging");
    assert_eq!(prior["is_logging"], false);
    assert_eq!(done["started"], true);
    assert_eq!(again["started"], false, "already logging: nothing to do");
    assert_eq!(w.show()["trail_logging"], true);
    undo(ex.as_mut(), &t, &prior, &done);
    assert_eq!(w.show()["trail_logging"], true, "undo never stops a trail");
}

#[test]
fn hostile_identifiers_are_refused_without_a_call() {
    testing_credentials();
    // An endpoint that records connections: none may be made.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let cfg = RespondConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(format!("http://{}", listener.local_addr().unwrap())),
        ..RespondConfig::default()
    };
    let all = executors(&cfg).expect("executors");
    let hostile = vec![
        block("203.0.113.9/32", Some("prod-db; DROP TABLE users")),
        block("0.0.0.0/0", Some("prod-db")),
        Target::ClosePublicAccess {
            resource_kind: "db_snapshot".into(),
            resource: "snap\nInjected: header".into(),
            place: place(),
        },
        Target::RevokeIngress {
            resource_kind: "security_group".into(),
            resource: "sg-1; rm -rf /".into(),
            port: "5432".into(),
            cidr: "0.0.0.0/0".into(),
            place: place(),
        },
        Target::RevokeIngress {
            resource_kind: "security_group".into(),
            resource: "sg-0123456789abcdef0".into(),
            port: "5432&GroupId=sg-other".into(),
            cidr: "0.0.0.0/0".into(),
            place: place(),
        },
        Target::RevokeIngress {
            resource_kind: "security_group".into(),
            resource: "sg-0123456789abcdef0".into(),
            port: "5432".into(),
            cidr: "0.0.0.0/0 or 1=1".into(),
            place: place(),
        },
        Target::RevokeIngress {
            resource_kind: "network_acl".into(),
            resource: "acl-0123456789abcdef0&NetworkAclId=acl-other".into(),
            port: "3306".into(),
            cidr: "0.0.0.0/0".into(),
            place: place(),
        },
        Target::ContainPrincipal {
            principal: format!("arn:aws:iam::{ACCOUNT}:user/mallory\nAction=DeleteUser"),
            access_key: None,
            place: place(),
        },
        Target::ContainPrincipal {
            principal: format!("arn:aws:iam::{ACCOUNT}:user/mallory"),
            access_key: Some("AKIA&Status=Active".into()),
            place: place(),
        },
        Target::RestoreLogging {
            resource_kind: "trail".into(),
            resource: "../../etc/passwd".into(),
            place: place(),
        },
        Target::ClosePublicAccess {
            resource_kind: "db_instance".into(),
            resource: "prod-db".into(),
            place: Place {
                account: None,
                region: Some("us-east-1/../x".into()),
            },
        },
    ];
    let f = finding();
    let mut all = all;
    for t in &hostile {
        let ex = all
            .iter_mut()
            .find(|e| e.accepts(t))
            .unwrap_or_else(|| panic!("an executor accepts {t:?}"));
        let a = action(t.clone());
        let req = Request {
            action: &a,
            finding: &f,
        };
        match ex.prepare(req) {
            Err(ExecError::Permanent(m)) => {
                assert!(!m.contains('\n'), "one line: {m:?}");
            }
            other => panic!("{t:?}: {other:?}"),
        }
        match ex.apply(req, &json!({})) {
            Err(ExecError::Permanent(_)) => {}
            other => panic!("apply {t:?}: {other:?}"),
        }
    }
    assert!(
        listener.accept().is_err(),
        "no connection was made for a hostile identifier"
    );
}
