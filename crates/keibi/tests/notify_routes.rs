//! `keibi notify routes` end to end with the built binary: findings from a real
//! scan go into a store, and the routes of a settings file are shown for them —
//! which match, which filter fails, which channels and when (quiet hours in
//! Asia/Tokyo, group_wait) — as text (English, Japanese) and as JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn keibi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keibi"));
    c.env_remove("KEIBI_LANG")
        .env_remove("KEIBI_TZ")
        .env("LANG", "C");
    c
}

fn run(args: &[&str]) -> Output {
    keibi().args(args).output().expect("keibi runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "keibi {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name)
        .join("attack")
}

const SETTINGS: &str = "\
notify:
  timezone: Asia/Tokyo
  channels:
    - name: ops-slack
      type: webhook
      url: http://127.0.0.1:9/slack
    - name: pager
      type: webhook
      url: http://127.0.0.1:9/pager
  routes:
    - name: critical
      severity_at_least: critical
      channels: [pager]
    - name: credentials
      types: ['CredentialAccess:*']
      engines: [postgres]
      channels: [ops-slack, pager]
      group_wait: 30s
      continue: true
    - name: everything
      channels: [ops-slack]
  quiet_hours:
    from: '22:00'
    to: '08:00'
";

/// A store with the findings of two scenarios; the ids of a Medium brute force
/// (PostgreSQL) and a High mass destruction (MySQL).
fn store(dir: &Path) -> (String, String, String) {
    let out = ok(&[
        "scan",
        scenario("login-bruteforce-pg").to_str().unwrap(),
        scenario("activity-mass-destruction").to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    let file = dir.join("f.jsonl");
    std::fs::write(&file, &out).unwrap();
    let db = dir.join("k.db");
    ok(&[
        "findings",
        "--store",
        db.to_str().unwrap(),
        "import",
        file.to_str().unwrap(),
    ]);
    let findings: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let id = |ty: &str, engine: &str| {
        findings
            .iter()
            .find(|f| f["type"] == ty && f["resource"]["engine"] == engine)
            .unwrap_or_else(|| panic!("no {ty} on {engine}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    (
        db.to_str().unwrap().to_string(),
        id("CredentialAccess:RDS/BruteForce", "postgres"),
        id("Impact:RDS/MassDestruction", "mysql"),
    )
}

#[test]
fn routes_of_a_stored_finding_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let (db, brute, destroy) = store(dir.path());
    let cfg = dir.path().join("keibi.yaml");
    std::fs::write(&cfg, SETTINGS).unwrap();
    let cfg = cfg.to_str().unwrap();
    // 14:00 UTC is 23:00 JST: in quiet hours, which end at 08:00 JST (23:00 UTC).
    let at = "2026-12-06 14:00";

    let text = ok(&[
        "notify",
        "routes",
        &brute[..10],
        "--config",
        cfg,
        "--store",
        &db,
        "--at",
        at,
    ]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "{brute}: Medium 5.0 CredentialAccess:RDS/BruteForce"
        )),
        "{text}"
    );
    assert!(
        text.contains("Quiet hours until 2026-12-07 08:00 JST"),
        "{text}"
    );
    assert!(
        text.contains("1. critical: no match: severity 5.0 is below Critical (9.0)"),
        "{text}"
    );
    assert!(
        text.contains("2. credentials: matches, and the next routes are tried too"),
        "{text}"
    );
    assert!(
        text.contains("→ ops-slack: at 2026-12-07 08:00 JST (group_wait, quiet hours)"),
        "{text}"
    );
    assert!(
        text.contains("→ pager: at 2026-12-07 08:00 JST (group_wait, quiet hours)"),
        "{text}"
    );
    assert!(text.contains("3. everything: matches"), "{text}");
    assert!(
        text.contains("→ ops-slack: already sent by an earlier route"),
        "{text}"
    );
    assert!(
        text.ends_with("2 channels would hear of it: ops-slack, pager.\n"),
        "{text}"
    );

    // High goes at once, quiet hours or not; the credentials route fails on type.
    let text = ok(&[
        "notify", "routes", &destroy, "--config", cfg, "--store", &db, "--at", at,
    ]);
    assert!(
        text.contains("2. credentials: no match: the type matches none of CredentialAccess:*"),
        "{text}"
    );
    assert!(text.contains("→ ops-slack: now"), "{text}");
    assert!(
        text.ends_with("One channel would hear of it: ops-slack.\n"),
        "{text}"
    );

    // The same as JSON, times in UTC.
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "notify", "routes", &brute, "--config", cfg, "--store", &db, "--at", at, "--format", "json",
    ]))
    .unwrap();
    assert_eq!(v["finding"]["id"], brute.as_str());
    assert_eq!(v["quiet_until"], "2026-12-06T23:00:00Z");
    assert_eq!(v["channels"], serde_json::json!(["ops-slack", "pager"]));
    let r = v["routes"].as_array().unwrap();
    assert_eq!(r[0]["result"], "no_match");
    assert_eq!(r[0]["reason"], "severity 5.0 is below Critical (9.0)");
    assert_eq!(r[1]["result"], "match");
    assert_eq!(r[1]["sends"][0]["not_before"], "2026-12-06T23:00:00Z");
    assert_eq!(
        r[1]["sends"][0]["held_by"],
        serde_json::json!(["group_wait", "quiet_hours"])
    );
    assert_eq!(r[2]["already_sent"], serde_json::json!(["ops-slack"]));

    // Outside quiet hours (09:00 JST), only group_wait holds: 30 s.
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "notify",
        "routes",
        &brute,
        "--config",
        cfg,
        "--store",
        &db,
        "--at",
        "2026-12-07 00:00",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(v["quiet_until"], serde_json::Value::Null);
    assert_eq!(
        v["routes"][1]["sends"][0]["not_before"],
        "2026-12-07T00:00:30Z"
    );

    // In Japanese, with no message id left unrendered.
    let ja = ok(&[
        "notify", "routes", &brute, "--config", cfg, "--store", &db, "--at", at, "--lang", "ja",
    ]);
    assert!(
        ja.contains("2026-12-07 08:00 JST まで通知停止時間帯です"),
        "{ja}"
    );
    assert!(ja.contains("重要度 5.0 は重大 (9.0) 未満です"), "{ja}");
    assert!(!ja.contains("notify-"), "{ja}");
}

#[test]
fn without_routes_only_high_and_critical_go_and_mistakes_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (db, brute, destroy) = store(dir.path());
    let cfg = dir.path().join("keibi.yaml");
    std::fs::write(
        &cfg,
        "notify:\n  channels:\n    - name: ops\n      type: webhook\n      url: http://127.0.0.1:9/x\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let text = ok(&["notify", "routes", &brute, "--config", cfg, "--store", &db]);
    assert!(
        text.contains("No routes are set: every channel hears of High and Critical findings."),
        "{text}"
    );
    assert!(
        text.contains("1. default: no match: severity 5.0 is below High (7.0)"),
        "{text}"
    );
    assert!(
        text.ends_with("No route sends it anywhere: no channel would hear of this finding.\n"),
        "{text}"
    );
    let text = ok(&[
        "notify", "routes", &destroy, "--config", cfg, "--store", &db,
    ]);
    assert!(text.contains("→ ops: now"), "{text}");

    // An unknown finding, a missing store, a settings problem: exit 2, said plainly.
    let o = run(&[
        "notify",
        "routes",
        "ffffffffff",
        "--config",
        cfg,
        "--store",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[
        "notify",
        "routes",
        &brute,
        "--store",
        dir.path().join("none.db").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no store here"));
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "notify:\n  routes:\n    - channels: [nowhere]\n").unwrap();
    let o = run(&[
        "notify",
        "routes",
        &brute,
        "--config",
        bad.to_str().unwrap(),
        "--store",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.yaml:3:") && err.contains("no channel is named \"nowhere\""),
        "{err}"
    );
}

#[test]
fn attacker_written_fields_are_shown_inert() {
    let dir = tempfile::tempdir().unwrap();
    // A finding whose resource id and type carry terminal escapes and a line break
    // (the resource id comes from a log line an attacker may write).
    let line = serde_json::json!({
        "id": "aaaaaaaabbbbbbbbccccccccdddddddd",
        "type": "CredentialAccess:RDS/\u{1b}[2JBrute",
        "severity": 5.0,
        "severity_label": "Medium",
        "title": "t", "description": "d", "remediation": "r",
        "mitre": [],
        "resource": {"kind": "db_instance", "id": "evil\u{1b}[31mRED\u{1b}]0;pwn\u{7}\nfake line", "engine": "postgres"},
        "actor": {},
        "first_seen": "2026-12-06T03:10:00Z",
        "last_seen": "2026-12-06T03:10:00Z",
        "count": 1,
        "evidence": [],
        "detector": "login"
    });
    let file = dir.path().join("h.jsonl");
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let db = dir.path().join("h.db");
    let db = db.to_str().unwrap();
    ok(&["findings", "--store", db, "import", file.to_str().unwrap()]);
    let cfg = dir.path().join("keibi.yaml");
    std::fs::write(&cfg, SETTINGS).unwrap();
    let cfg = cfg.to_str().unwrap();
    let text = ok(&[
        "notify",
        "routes",
        "aaaaaaaa",
        "--config",
        cfg,
        "--store",
        db,
        "--at",
        "2026-12-06 14:00",
    ]);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.lines().next().unwrap().ends_with("(new)"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("fake line")), "{text}");
    // The glob matched the hostile type all the same, and JSON keeps it exactly.
    assert!(text.contains("2. credentials: matches"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "notify", "routes", "aaaaaaaa", "--config", cfg, "--store", db, "--format", "json",
    ]))
    .unwrap();
    assert_eq!(
        v["finding"]["resource"]["id"],
        "evil\u{1b}[31mRED\u{1b}]0;pwn\u{7}\nfake line"
    );
}

/// What the notifier remembers is read: once the store's outbox has been routed
/// (by the notifier's own `plan`), the same finding shows its route throttled and
/// when it was last told there, and the JSON lists the group still waiting.
#[test]
fn routes_read_what_the_notifier_remembers() {
    let dir = tempfile::tempdir().unwrap();
    let (db, brute, destroy) = store(dir.path());
    let cfg = dir.path().join("keibi.yaml");
    std::fs::write(
        &cfg,
        SETTINGS.replace(
            "      group_wait: 30s\n",
            "      group_wait: 5m\n      throttle: 1h\n",
        ),
    )
    .unwrap();
    let (settings, _) = keibi_engine::settings::Settings::load(&cfg).unwrap();
    let router = keibi_notify::Router::new(&settings.notify).unwrap();
    // 10:00 JST: outside quiet hours.
    let t = chrono::DateTime::parse_from_rfc3339("2026-12-06T01:00:00Z")
        .unwrap()
        .to_utc();
    {
        let mut s = keibi_store::Store::open(Path::new(&db)).unwrap();
        s.route_outbox_with(1000, t, &mut |e, m| {
            keibi_engine::notifier::plan(&router, e, m, t)
        })
        .unwrap();
    }
    let cfg = cfg.to_str().unwrap();
    let text = ok(&[
        "notify",
        "routes",
        &brute,
        "--config",
        cfg,
        "--store",
        &db,
        "--at",
        "2026-12-06 01:01",
    ]);
    assert!(
        text.contains(
            "2. credentials: matches, held back by its throttle until 2026-12-06 11:00 JST"
        ),
        "{text}"
    );
    assert!(
        text.contains("Last told on route credentials at 2026-12-06 10:00 JST (severity 5.0)."),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "notify",
        "routes",
        &brute,
        "--config",
        cfg,
        "--store",
        &db,
        "--at",
        "2026-12-06 01:01",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(v["routes"][1]["result"], "throttled");
    assert_eq!(v["told"][0]["route"], "credentials");
    assert_eq!(v["open_groups"][0]["until"], "2026-12-06T01:05:00Z");
    // The mass destruction was told on `everything` only, which has no throttle.
    let text = ok(&[
        "notify",
        "routes",
        &destroy,
        "--config",
        cfg,
        "--store",
        &db,
        "--at",
        "2026-12-06 01:01",
    ]);
    assert!(text.contains("→ ops-slack: now"), "{text}");
}
