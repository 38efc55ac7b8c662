//! `keibi findings import --from guardduty` against a small GuardDuty server written
//! here (moto does not implement GuardDuty's findings). It speaks the three calls as
//! the GuardDuty API reference documents them (restJson1, camelCase): `GET
//! /detector` (`detectorIds`, `nextToken`, `maxResults` at most 50), `POST
//! /detector/{detectorId}/findings` (`findingCriteria.criterion` with
//! `updatedAt.greaterThanOrEqual` in milliseconds and `resource.resourceType.equals`,
//! `maxResults`, `nextToken`; answers `findingIds`, `nextToken`), `POST
//! /detector/{detectorId}/findings/get` (`findingIds`, at most 50; answers
//! `findings`). Findings carry the documented fields (`type`, `severity`,
//! `resource.rdsDbInstanceDetails`, `resource.rdsDbUserDetails`,
//! `resource.accessKeyDetails`, `service.action.rdsLoginAttemptAction.remoteIpDetails`,
//! `service.count`, `service.eventFirstSeen`/`eventLastSeen` …). A request without a
//! SigV4 `Authorization` header is refused (403 `UnrecognizedClientException`) and
//! counted. One knob makes the fixture exercise paging: a ListFindings page holds
//! two ids (GuardDuty: up to 50), the detector list two pages.
//!
//! No external service: always runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

const DETECTOR: &str = "12abc34d567e8fa901bc2d34e56789f0";
const FINDINGS_PAGE: usize = 2;
const HOSTILE_TITLE: &str = "Brute force \u{1b}[31mRED\u{1b}[0m on shop-postgres\u{202e}";

#[derive(Default)]
struct Counters {
    unsigned: AtomicUsize,
    list_pages: AtomicUsize,
    gets: AtomicUsize,
    /// Added to the first finding's count: GuardDuty saw more since.
    more: AtomicU64,
    /// Each ListFindings call's region (of its signature's scope) and
    /// `updatedAt.greaterThanOrEqual`.
    asked: std::sync::Mutex<Vec<(String, i64)>>,
}

struct Server {
    endpoint: String,
    c: Arc<Counters>,
}

fn serve() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let c = Arc::new(Counters::default());
    let counted = c.clone();
    // Updated now: inside the default --since 7d.
    let updated = chrono::Utc::now() - chrono::TimeDelta::minutes(5);
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let c = counted.clone();
            std::thread::spawn(move || connection(conn, &c, updated));
        }
    });
    Server { endpoint, c }
}

fn findings(updated: chrono::DateTime<chrono::Utc>, more: u64) -> Vec<Value> {
    let at = updated.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let rds = |id: &str, ty: &str, ip: &str, user: &str, count: u64, title: &str| {
        json!({
            "accountId": "123456789012", "region": "ap-northeast-1", "arn": format!("arn:aws:guardduty:ap-northeast-1:123456789012:detector/{DETECTOR}/finding/{id}"),
            "id": id, "type": ty, "severity": 8, "schemaVersion": "2.0", "partition": "aws",
            "title": title,
            "description": "Line one <b>bold</b>\nline two\u{7}",
            "createdAt": at, "updatedAt": at,
            "resource": {
                "resourceType": "RDSDBInstance",
                "rdsDbInstanceDetails": {"dbInstanceIdentifier": "shop-postgres", "engine": "PostgreSQL", "engineVersion": "15.4"},
                "rdsDbUserDetails": {"user": user, "application": "hydra", "database": "shop"}
            },
            "service": {
                "serviceName": "guardduty", "detectorId": DETECTOR, "count": count,
                "eventFirstSeen": "2026-11-28T09:14:50.000Z", "eventLastSeen": "2026-11-28T09:15:40.000Z",
                "action": {"actionType": "RDS_LOGIN_ATTEMPT", "rdsLoginAttemptAction": {
                    "remoteIpDetails": {"ipAddressV4": ip, "country": {"countryName": "Nowhere"}},
                    "loginAttributes": [{"user": user, "application": "hydra", "failedLoginAttempts": count, "successfulLoginAttempts": 0}]
                }}
            }
        })
    };
    vec![
        rds(
            "aa01",
            "CredentialAccess:RDS/AnomalousBehavior.FailedLogin",
            "193.142.146.35",
            "postgres",
            120 + more,
            HOSTILE_TITLE,
        ),
        rds(
            "aa02",
            "CredentialAccess:RDS/MaliciousIPCaller.FailedLogin",
            "203.0.113.77",
            "admin",
            3,
            "Failed logins from a known malicious address",
        ),
        json!({
            "accountId": "123456789012", "region": "ap-northeast-1", "id": "bb01",
            "type": "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", "severity": 5,
            "title": "API DescribeDBInstances was invoked from an IP address on a custom threat list.",
            "description": "An API was used to access a resource from an IP on a threat list.",
            "createdAt": at, "updatedAt": at,
            "resource": {"resourceType": "AccessKey", "accessKeyDetails": {
                "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "principalId": "AIDAEXAMPLE", "userName": "alice", "userType": "IAMUser"}},
            "service": {"count": 4, "eventFirstSeen": "2026-11-28T08:00:00Z", "eventLastSeen": "2026-11-28T08:10:00Z",
                "action": {"actionType": "AWS_API_CALL", "awsApiCallAction": {"api": "DescribeDBInstances", "serviceName": "rds.amazonaws.com",
                    "remoteIpDetails": {"ipAddressV4": "198.51.100.7"}}}}
        }),
        // Not asked for: the server's criteria filter leaves it out.
        json!({
            "accountId": "123456789012", "region": "ap-northeast-1", "id": "cc01",
            "type": "Recon:EC2/PortProbeUnprotectedPort", "severity": 2,
            "createdAt": at, "updatedAt": at,
            "resource": {"resourceType": "Instance"}, "service": {"count": 1}
        }),
    ]
}

fn connection(conn: TcpStream, c: &Counters, updated: chrono::DateTime<chrono::Utc>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        let mut signed = false;
        let mut region = String::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if k.eq_ignore_ascii_case("authorization") {
                    let v = v.trim();
                    signed = v.starts_with("AWS4-HMAC-SHA256 Credential=")
                        && v.contains("/guardduty/aws4_request")
                        && v.contains("Signature=");
                    // Credential=KEY/DATE/REGION/guardduty/aws4_request
                    region = v.split('/').nth(2).unwrap_or("").to_string();
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("");
        let target = parts.next().unwrap_or("");
        let (status, answer) = if signed {
            answer(method, target, &body, c, updated, &region)
        } else {
            c.unsigned.fetch_add(1, Ordering::SeqCst);
            (
                "403 Forbidden",
                json!({"__type": "UnrecognizedClientException", "message": "no signature"}),
            )
        };
        let text = answer.to_string();
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            text.len()
        );
        if out.write_all(head.as_bytes()).is_err() || out.write_all(text.as_bytes()).is_err() {
            return;
        }
    }
}

fn bad(message: &str) -> (&'static str, Value) {
    (
        "400 Bad Request",
        json!({"__type": "BadRequestException", "message": message}),
    )
}

fn answer(
    method: &str,
    target: &str,
    body: &[u8],
    c: &Counters,
    updated: chrono::DateTime<chrono::Utc>,
    region: &str,
) -> (&'static str, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let all = findings(updated, c.more.load(Ordering::SeqCst));
    match (method, path) {
        ("GET", "/detector") => {
            let max: usize = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("maxResults="))
                .and_then(|v| v.parse().ok())
                .unwrap_or(50);
            if !(1..=50).contains(&max) {
                return bad("maxResults must be 1 to 50");
            }
            if query.contains("nextToken=second") {
                ("200 OK", json!({"detectorIds": []}))
            } else {
                (
                    "200 OK",
                    json!({"detectorIds": [DETECTOR], "nextToken": "second"}),
                )
            }
        }
        ("POST", p) if p == format!("/detector/{DETECTOR}/findings") => {
            let crit = &input["findingCriteria"]["criterion"];
            let Some(since) = crit["updatedAt"]["greaterThanOrEqual"].as_i64() else {
                return bad("updatedAt.greaterThanOrEqual (epoch milliseconds) expected");
            };
            if input["nextToken"].is_null() {
                c.asked.lock().unwrap().push((region.to_string(), since));
            }
            let Some(types) = crit["resource.resourceType"]["equals"].as_array() else {
                return bad("resource.resourceType.equals expected");
            };
            let max = input["maxResults"].as_u64().unwrap_or(50) as usize;
            if !(1..=50).contains(&max) {
                return bad("maxResults must be 1 to 50");
            }
            let ids: Vec<&str> = all
                .iter()
                .filter(|f| types.contains(&f["resource"]["resourceType"]))
                .filter(|f| {
                    chrono::DateTime::parse_from_rfc3339(f["updatedAt"].as_str().unwrap())
                        .unwrap()
                        .timestamp_millis()
                        >= since
                })
                .map(|f| f["id"].as_str().unwrap())
                .collect();
            let from: usize = input["nextToken"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            c.list_pages.fetch_add(1, Ordering::SeqCst);
            let to = (from + FINDINGS_PAGE.min(max)).min(ids.len());
            let mut out = json!({"findingIds": ids[from.min(to)..to]});
            if to < ids.len() {
                out["nextToken"] = json!(to.to_string());
            }
            ("200 OK", out)
        }
        ("POST", p) if p == format!("/detector/{DETECTOR}/findings/get") => {
            let Some(ids) = input["findingIds"].as_array() else {
                return bad("findingIds expected");
            };
            if ids.is_empty() || ids.len() > 50 {
                return bad("findingIds: 1 to 50");
            }
            c.gets.fetch_add(1, Ordering::SeqCst);
            let found: Vec<&Value> = all.iter().filter(|f| ids.contains(&f["id"])).collect();
            ("200 OK", json!({ "findings": found }))
        }
        _ => (
            "404 Not Found",
            json!({"__type": "BadRequestException", "message": "The request is rejected because the input detectorId is not owned by the current account."}),
        ),
    }
}

fn keibi(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keibi"));
    c.env("HOME", home)
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "ap-northeast-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env("KEIBI_LANG", "en");
    c
}

fn ok(cmd: &mut Command) -> Output {
    let o = cmd.output().expect("keibi runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn listed(home: &Path, store: &Path) -> Vec<Value> {
    let o = ok(keibi(home).args([
        "findings",
        "list",
        "--all",
        "--format",
        "jsonl",
        "--store",
        store.to_str().unwrap(),
    ]));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("keibi-gd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sources(f: &Value) -> Vec<String> {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["source"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn guardduty_findings_are_stored_updated_joined_and_escaped() {
    let dir = tmp("import");
    let store = dir.join("keibi.db");
    let server = serve();

    // keibi's own: the brute force of the scenario, on shop-postgres from 193.142.146.35.
    let scan = ok(keibi(&dir).args([
        "scan",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scenarios/login-bruteforce-pg/attack")
            .to_str()
            .unwrap(),
        "--format",
        "jsonl",
    ]));
    let file = dir.join("scan.jsonl");
    std::fs::write(&file, &scan.stdout).unwrap();
    ok(keibi(&dir).args([
        "findings",
        "import",
        file.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]));
    let ours = listed(&dir, &store);
    let brute = ours
        .iter()
        .find(|f| f["type"] == "CredentialAccess:RDS/BruteForce")
        .expect("keibi's brute force")
        .clone();

    let import = |dir: &Path| {
        ok(keibi(dir).args([
            "findings",
            "import",
            "--from",
            "guardduty",
            "--endpoint-url",
            &server.endpoint,
            "--store",
            store.to_str().unwrap(),
        ]))
    };
    let first = import(&dir);
    let said = String::from_utf8_lossy(&first.stderr);
    assert!(said.contains("read 3 GuardDuty findings"), "{said}");
    assert!(said.contains("3 new"), "{said}");
    assert_eq!(server.c.unsigned.load(Ordering::SeqCst), 0);
    // Three ids, two a page: two ListFindings pages; one GetFindings of three.
    assert_eq!(server.c.list_pages.load(Ordering::SeqCst), 2);
    assert_eq!(server.c.gets.load(Ordering::SeqCst), 1);

    let all = listed(&dir, &store);
    let gd: Vec<&Value> = all
        .iter()
        .filter(|f| f["detector"] == "guardduty")
        .collect();
    assert_eq!(gd.len(), 3, "{all:#?}");
    let a1 = gd
        .iter()
        .find(|f| f["type"] == "CredentialAccess:RDS/AnomalousBehavior.FailedLogin")
        .unwrap();
    assert_eq!(a1["severity"], 8.0);
    assert_eq!(a1["count"], 120);
    assert_eq!(a1["resource"]["id"], "shop-postgres");
    assert_eq!(a1["resource"]["engine"], "postgres");
    assert_eq!(a1["actor"]["ip"], "193.142.146.35");
    assert_eq!(a1["first_seen"], "2026-11-28T09:14:50Z");
    assert_eq!(a1["title"], HOSTILE_TITLE);
    let gd_source = format!("guardduty:{DETECTOR}/aa01");
    assert!(sources(a1).contains(&gd_source), "{a1}");
    // The join, both ways: keibi's brute force names GuardDuty's finding, and back.
    assert!(
        sources(a1).contains(&format!("keibi:{}", brute["id"].as_str().unwrap())),
        "{a1}"
    );
    let brute_now = all.iter().find(|f| f["id"] == brute["id"]).unwrap();
    assert!(sources(brute_now).contains(&gd_source), "{brute_now}");
    assert_eq!(
        brute_now["count"], brute["count"],
        "the join counts nothing"
    );
    // Another address on the same instance is not joined.
    let a2 = gd
        .iter()
        .find(|f| f["type"] == "CredentialAccess:RDS/MaliciousIPCaller.FailedLogin")
        .unwrap();
    assert!(!sources(a2).iter().any(|s| s.starts_with("keibi:")), "{a2}");
    let iam = gd
        .iter()
        .find(|f| f["resource"]["kind"] == "iam_user")
        .unwrap();
    assert_eq!(iam["resource"]["id"], "alice");
    assert_eq!(iam["actor"]["ip"], "198.51.100.7");

    // Again, GuardDuty having counted 30 more: the same ids, updated, no duplicate,
    // no second link.
    server.c.more.store(30, Ordering::SeqCst);
    let again = import(&dir);
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("0 new, 1 updated, 2 unchanged"), "{said}");
    let after = listed(&dir, &store);
    assert_eq!(after.len(), all.len());
    let a1_after = after.iter().find(|f| f["id"] == a1["id"]).unwrap();
    assert_eq!(a1_after["count"], 150);
    assert_eq!(sources(a1_after).len(), sources(a1).len());
    let brute_after = after.iter().find(|f| f["id"] == brute["id"]).unwrap();
    assert_eq!(sources(brute_after), sources(brute_now));

    // The hostile title is escaped in the table.
    let table = ok(keibi(&dir).args([
        "findings",
        "list",
        "--all",
        "--format",
        "table",
        "--store",
        store.to_str().unwrap(),
    ]));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(!text.contains('\u{202e}'), "{text}");
    assert!(text.contains("shop-postgres"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_credentials_the_import_fails_before_any_call() {
    let dir = tmp("refused");
    let server = serve();
    // No credentials in the environment or profile: the call cannot be signed.
    let o = keibi(&dir)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args([
            "findings",
            "import",
            "--from",
            "guardduty",
            "--endpoint-url",
            &server.endpoint,
            "--store",
            dir.join("keibi.db").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(said.contains("GuardDuty ListDetectors"), "{said}");
    assert_eq!(server.c.list_pages.load(Ordering::SeqCst), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keibi_run_reads_guardduty_with_each_audit_round() {
    let dir = tmp("run");
    let store = dir.join("keibi.db");
    let server = serve();
    let log = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios/login-bruteforce-pg/attack/shop-postgres/error/postgresql.log.2026-11-28-09");
    let config = dir.join("keibi.yaml");
    std::fs::write(
        &config,
        format!(
            "sources:\n  inputs:\n    - path: {}\n      format: postgres-stderr\nstore:\n  path: {}\nlog:\n  format: json\naudit:\n  guardduty_findings: true\n  aws:\n    regions: [ap-northeast-1]\n    endpoint_url: {}\n",
            log.display(),
            store.display(),
            server.endpoint,
        ),
    )
    .unwrap();
    let run = |dir: &Path| {
        let o = ok(keibi(dir).args(["run", "--once", "--config", config.to_str().unwrap()]));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // The audit round runs before the pass: GuardDuty's three first, keibi's brute
    // force after them, so nothing to join yet.
    let first = run(&dir);
    assert!(first.contains("read 3 GuardDuty findings"), "{first}");
    assert!(first.contains("0 links"), "{first}");
    let all = listed(&dir, &store);
    assert!(
        all.iter()
            .any(|f| f["type"] == "CredentialAccess:RDS/BruteForce"),
        "{all:#?}"
    );
    // The next round joins them; nothing is stored twice.
    let second = run(&dir);
    assert!(second.contains("0 new, 0 updated, 3 unchanged"), "{second}");
    assert!(second.contains("1 links"), "{second}");
    let after = listed(&dir, &store);
    assert_eq!(after.len(), all.len());
    let brute = after
        .iter()
        .find(|f| f["type"] == "CredentialAccess:RDS/BruteForce")
        .unwrap();
    // GuardDuty's finding keeps its link to keibi's. (keibi's side holds its link in
    // the rolling tail of its evidence, which the detector's latest references
    // replace: the pass after the round did here; the next round links it again.)
    let gd = after
        .iter()
        .find(|f| f["type"] == "CredentialAccess:RDS/AnomalousBehavior.FailedLogin")
        .unwrap();
    assert!(
        sources(gd).contains(&format!("keibi:{}", brute["id"].as_str().unwrap())),
        "{gd}"
    );
    assert_eq!(server.c.unsigned.load(Ordering::SeqCst), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Several regions in one import, one checkpoint each: the first import reads
/// each region's last 7 days, the next (without --since) each from an hour before
/// its own checkpoint; a region that cannot be read is said, the others are still
/// read, and the exit code is 1.
#[test]
fn several_regions_in_one_import_each_with_its_checkpoint() {
    let s = serve();
    let home = tmp("regions");
    let store = home.join("keibi.db");
    let import = |regions: &[&str]| {
        let mut c = keibi(&home);
        c.args([
            "findings",
            "import",
            "--from",
            "guardduty",
            "--endpoint-url",
            &s.endpoint,
        ]);
        for r in regions {
            c.args(["--region", r]);
        }
        c.args(["--store", store.to_str().unwrap()]);
        c.output().unwrap()
    };
    let before = chrono::Utc::now();
    let o = import(&["us-east-1", "eu-west-1"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("detectors in us-east-1"), "{err}");
    assert!(err.contains("detectors in eu-west-1"), "{err}");
    let asked = std::mem::take(&mut *s.c.asked.lock().unwrap());
    let regions: Vec<&str> = asked.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(regions, ["us-east-1", "eu-west-1"]);
    let week = (before - chrono::TimeDelta::days(7)).timestamp_millis();
    for (r, since) in &asked {
        assert!(
            (since - week).abs() < 60_000,
            "{r}: the last 7 days the first time"
        );
    }
    let cps: Vec<(String, u64)> = {
        use keibi_store::FindingStore;
        keibi_store::Store::open_read_only(&store)
            .unwrap()
            .checkpoints()
            .unwrap()
            .into_iter()
            .filter(|c| c.source.starts_with("guardduty:"))
            .map(|c| (c.source, c.position))
            .collect()
    };
    let names: std::collections::BTreeSet<&str> = cps.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["guardduty:eu-west-1", "guardduty:us-east-1"]
            .into_iter()
            .collect()
    );
    for (_, p) in &cps {
        assert!(*p as i64 >= before.timestamp_millis(), "{cps:?}");
    }

    // Again without --since: each region from an hour before its checkpoint; a
    // third region that is not a region fails alone.
    let o = import(&["us-east-1", "eu-west-1", "not a region"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("GuardDuty in not a region could not be read"),
        "{err}"
    );
    let asked = std::mem::take(&mut *s.c.asked.lock().unwrap());
    assert_eq!(asked.len(), 2, "{asked:?}");
    for (r, since) in &asked {
        let cp = cps
            .iter()
            .find(|(n, _)| *n == format!("guardduty:{r}"))
            .unwrap()
            .1 as i64;
        assert_eq!(*since, cp - 3_600_000, "{r}: an hour before its checkpoint");
    }
    // Every region failing is an error.
    let o = import(&["not a region", "nor this"]);
    assert!(!o.status.success(), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("any of the 2 regions"));
}
