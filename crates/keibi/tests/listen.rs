//! `keibi run`'s push listeners, over real loopback sockets against a running
//! daemon: the Amazon Data Firehose HTTP endpoint (requests built as the Firehose
//! developer guide's "HTTP endpoint delivery request and response specifications"
//! documents them: headers, base64 records, gzip, CloudWatch Logs subscription
//! payloads, a retried request id, the documented error answers), NDJSON POST as
//! Fluent Bit and Vector send it, and syslog over UDP and TCP.
//!
//! The attack is the scenario folder's RDS PostgreSQL log
//! (`tests/scenarios/login-bruteforce-pg/`); what the store holds is compared with
//! what `keibi scan` finds in the same lines written to a file.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use common::daemon::{of_type, scan, stored, Summary};

const BRUTE: &str = "CredentialAccess:RDS/BruteForce";

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn attack_lines() -> Vec<String> {
    fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scenarios/login-bruteforce-pg/attack")
            .join("shop-postgres/error/postgresql.log.2026-11-28-09"),
    )
    .expect("scenario log")
    .lines()
    .map(str::to_string)
    .collect()
}

/// A running daemon, killed on drop.
struct Daemon {
    child: Child,
    stderr: PathBuf,
    store: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn start(dir: &Path, listen: &str) -> Daemon {
        let config = dir.join("keibi.yaml");
        let store = dir.join("keibi.db");
        fs::write(
            &config,
            format!(
                "store:\n  path: {}\nserver:\n  listen: 127.0.0.1:0\nlog:\n  format: json\nlisten:\n{listen}",
                store.display()
            ),
        )
        .unwrap();
        let stderr = dir.join("daemon.log");
        let child = keibi()
            .arg("run")
            .arg("--config")
            .arg(&config)
            .env("KEIBI_TEST_FIREHOSE_KEY", "s3cr3t-key")
            .env("KEIBI_TEST_HTTP_TOKEN", "t0ken")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("keibi run starts");
        Daemon {
            child,
            stderr,
            store,
        }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn alive(&mut self) {
        if let Some(st) = self.child.try_wait().unwrap() {
            panic!("keibi run exited ({st}):\n{}", self.log());
        }
    }

    /// The address a listener says it is on (`firehose http://127.0.0.1:1234/`).
    fn listening(&mut self, prefix: &str) -> SocketAddr {
        let start = Instant::now();
        loop {
            for l in self.log().lines() {
                let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
                if let Some(s) = v["source"].as_str().and_then(|s| s.strip_prefix(prefix)) {
                    let s = s.trim_start_matches("http://").trim_end_matches('/');
                    return s.parse().unwrap();
                }
            }
            self.alive();
            assert!(start.elapsed() < common::WAIT, "{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the store's findings of `ty` satisfy `done`.
    fn wait_findings(&mut self, ty: &str, done: impl Fn(&[u64]) -> bool) -> Summary {
        let start = Instant::now();
        loop {
            if let Some(s) = stored(&self.store) {
                let counts: Vec<u64> = of_type(&s, ty).map(|(_, c)| c).collect();
                if done(&counts) {
                    return s;
                }
            }
            self.alive();
            assert!(
                start.elapsed() < common::WAIT,
                "store: {:?}\n{}",
                stored(&self.store),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Daemon {
    /// `/metrics` of the daemon.
    fn metrics(&mut self) -> String {
        let start = Instant::now();
        let addr: SocketAddr = loop {
            let found = self.log().lines().find_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).ok()?;
                v["msg"].as_str()?.starts_with("serving ").then_some(())?;
                v["listen"].as_str()?.parse().ok()
            });
            if let Some(a) = found {
                break a;
            }
            self.alive();
            assert!(start.elapsed() < common::WAIT, "{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text
    }

    /// A second later (several rounds), the one brute force finding still counts
    /// `expected`: nothing was fed twice.
    fn still(&mut self, expected: u64) {
        std::thread::sleep(Duration::from_secs(1));
        let s = stored(&self.store).unwrap();
        let counts: Vec<u64> = of_type(&s, BRUTE).map(|(_, c)| c).collect();
        assert_eq!(counts, [expected], "{s:?}\n{}", self.log());
        self.alive();
    }
}

/// One HTTP/1.1 request over a plain socket: status, headers and body.
fn request(addr: SocketAddr, head: &[(&str, &str)], body: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "POST /keibi HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in head {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    // A refused body may be left unread: the answer still comes.
    let _ = s.write_all(body);
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {text:?}"));
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (code, headers.to_ascii_lowercase(), body.to_string())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A CloudWatch Logs subscription payload as a subscription filter writes it to
/// Firehose: gzip of `{messageType, owner, logGroup, logStream,
/// subscriptionFilters, logEvents: [{id, timestamp, message}]}`.
fn cloudwatch_record(lines: &[String]) -> Vec<u8> {
    let events: Vec<serde_json::Value> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            serde_json::json!({
                "id": format!("3790{i:034}"),
                "timestamp": 1_795_856_400_000_i64 + i as i64,
                "message": l,
            })
        })
        .collect();
    gzip(
        serde_json::json!({
            "messageType": "DATA_MESSAGE",
            "owner": "123456789012",
            "logGroup": "/aws/rds/instance/shop-postgres/postgresql",
            "logStream": "shop-postgres.0",
            "subscriptionFilters": ["keibi"],
            "logEvents": events,
        })
        .to_string()
        .as_bytes(),
    )
}

/// A Firehose request body: `{requestId, timestamp, records: [{data}]}`.
fn firehose_body(id: &str, records: &[Vec<u8>]) -> Vec<u8> {
    let records: Vec<serde_json::Value> = records
        .iter()
        .map(|r| serde_json::json!({ "data": b64(r) }))
        .collect();
    serde_json::json!({
        "requestId": id,
        "timestamp": 1_795_856_400_000_i64,
        "records": records,
    })
    .to_string()
    .into_bytes()
}

fn firehose(
    addr: SocketAddr,
    id: &str,
    key: Option<&str>,
    body: &[u8],
    gzipped: bool,
) -> (u16, serde_json::Value) {
    let mut head = vec![
        ("Content-Type", "application/json"),
        ("X-Amz-Firehose-Protocol-Version", "1.0"),
        ("X-Amz-Firehose-Request-Id", id),
        (
            "X-Amz-Firehose-Common-Attributes",
            r#"{"commonAttributes":{"env":"test"}}"#,
        ),
    ];
    if let Some(k) = key {
        head.push(("X-Amz-Firehose-Access-Key", k));
    }
    if gzipped {
        head.push(("Content-Encoding", "gzip"));
    }
    let (code, headers, text) = request(addr, &head, body);
    assert!(
        headers.contains("content-type: application/json"),
        "{headers}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    assert_eq!(v["requestId"], id, "{v}");
    assert!(v["timestamp"].as_i64().is_some_and(|t| t > 0), "{v}");
    (code, v)
}

/// What `keibi scan` finds in `text` written to a file named as RDS names it.
fn scanned(dir: &Path, name: &str, text: &str) -> u64 {
    let d = dir.join("scan").join("shop-postgres");
    fs::create_dir_all(&d).unwrap();
    let f = d.join(name);
    fs::write(&f, text).unwrap();
    let s = scan(&[f.as_os_str()]);
    let counts: Vec<u64> = of_type(&s, BRUTE).map(|(_, c)| c).collect();
    assert_eq!(counts.len(), 1, "{s:?}");
    counts[0]
}

#[test]
fn firehose_delivers_a_cloudwatch_subscription_once_and_refuses_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let lines = attack_lines();
    let expected = scanned(
        dir.path(),
        "postgresql.log.2026-11-28-09",
        &(lines.join("\n") + "\n"),
    );
    let mut d = Daemon::start(
        dir.path(),
        "  firehose:\n    listen: 127.0.0.1:0\n    access_key: {env: KEIBI_TEST_FIREHOSE_KEY}\n  max_body_bytes: 1048576\n",
    );
    let addr = d.listening("firehose ");
    let key = Some("s3cr3t-key");

    // The refusals first: each answered as documented, nothing queued.
    let one = firehose_body("req-bad", &[cloudwatch_record(&lines[..10])]);
    let (code, v) = firehose(addr, "req-nokey", None, &one, false);
    assert_eq!(code, 401, "{v}");
    assert!(v["errorMessage"].is_string(), "{v}");
    let (code, v) = firehose(addr, "req-wrongkey", Some("s3cr3t-kez"), &one, false);
    assert_eq!(code, 403, "{v}");
    let big = vec![b' '; 2 << 20];
    let (code, v) = firehose(addr, "req-big", key, &big, false);
    assert_eq!(code, 413, "{v}");
    // A gzip body that inflates past the bound is too large as well.
    let (code, _) = firehose(addr, "req-bomb", key, &gzip(&vec![b' '; 8 << 20]), true);
    assert_eq!(code, 413);
    let malformed =
        br#"{"requestId":"req-malformed","timestamp":1,"records":[{"data":"not base64!"}]}"#;
    let (code, v) = firehose(addr, "req-malformed", key, malformed, false);
    assert_eq!(code, 400, "{v}");
    assert!(
        v["errorMessage"].as_str().unwrap().contains("record 0"),
        "{v}"
    );
    // A gzip record that is not whole JSON: refused, and the good record beside it
    // is not queued either (a retry would feed it twice).
    let cut = {
        let mut r = cloudwatch_record(&lines[..5]);
        let json = {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&r[..])
                .read_to_end(&mut out)
                .unwrap();
            out
        };
        r = gzip(&json[..json.len() / 2]);
        r
    };
    let (code, v) = firehose(
        addr,
        "req-cut",
        key,
        &firehose_body("req-cut", &[cloudwatch_record(&lines), cut]),
        false,
    );
    assert_eq!(code, 400, "{v}");
    let (code, _) = firehose(addr, "req-notjson", key, b"{\"records\": 1", false);
    assert_eq!(code, 400);
    d.alive();

    // The attack in two requests of several records (one a control message, as
    // CloudWatch sends when a subscription starts), the first gzip-encoded.
    let control = gzip(
        br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1795856400000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#,
    );
    let half = lines.len() / 2;
    let first = firehose_body(
        "req-1",
        &[
            control,
            cloudwatch_record(&lines[..100]),
            cloudwatch_record(&lines[100..half]),
        ],
    );
    let (code, v) = firehose(addr, "req-1", key, &gzip(&first), true);
    assert_eq!(code, 200, "{v}");
    assert!(v.get("errorMessage").is_none(), "{v}");
    let second = firehose_body("req-2", &[cloudwatch_record(&lines[half..])]);
    let (code, _) = firehose(addr, "req-2", key, &second, false);
    assert_eq!(code, 200);
    // Firehose retries a request it did not see answered: same id, same body.
    let (code, _) = firehose(addr, "req-1", key, &gzip(&first), true);
    assert_eq!(code, 200);

    let s = d.wait_findings(BRUTE, |c| c == [expected]);
    // Rounds later, still once: the retry fed nothing.
    std::thread::sleep(Duration::from_secs(2));
    let again = stored(&d.store).unwrap();
    let counts: Vec<u64> = of_type(&again, BRUTE).map(|(_, c)| c).collect();
    assert_eq!(counts, [expected], "{again:?}\n{}", d.log());
    // The instance is the log group's.
    let o = keibi()
        .args(["findings", "list", "--all", "--format", "jsonl", "--store"])
        .arg(&d.store)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("shop-postgres"), "{text}");
    assert_eq!(s.len(), again.len());
    // Counted in /metrics: the seven refusals, the retry, and every line read as
    // one event of the listeners' source (the control message is none).
    let m = d.metrics();
    assert!(m.contains("\nkeibi_listen_refused_total 7\n"), "{m}");
    assert!(m.contains("\nkeibi_listen_retries_total 1\n"), "{m}");
    assert!(m.contains("\nkeibi_listen_udp_dropped_total 0\n"), "{m}");
    assert!(
        m.contains("keibi_events_read_total{source=\"listen\"}"),
        "{m}"
    );
    d.alive();
}

#[test]
fn ndjson_and_raw_lines_by_post_reach_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let lines = attack_lines();
    let expected = scanned(dir.path(), "postgresql.log", &(lines.join("\n") + "\n"));
    let mut d = Daemon::start(
        dir.path(),
        "  http:\n    listen: 127.0.0.1:0\n    token: {env: KEIBI_TEST_HTTP_TOKEN}\n",
    );
    let addr = d.listening("http ");
    let ndjson = |ls: &[String]| -> Vec<u8> {
        ls.iter()
            .map(|l| {
                serde_json::json!({
                    "date": 1795856400.0,
                    "log": l,
                    "file": "/var/log/postgresql/shop.log",
                })
                .to_string()
                    + "\n"
            })
            .collect::<String>()
            .into_bytes()
    };
    let body = ndjson(&lines[..10]);
    let (code, head, _) = request(addr, &[("Content-Type", "application/x-ndjson")], &body);
    assert_eq!(code, 401);
    assert!(head.contains("www-authenticate: bearer"), "{head}");
    let (code, _, _) = request(addr, &[("Authorization", "Bearer nope")], &body);
    assert_eq!(code, 403);
    let (code, _, text) = request(
        addr,
        &[("Authorization", "Bearer t0ken")],
        b"{\"log\": \"x\"}\n{\"log\": \n",
    );
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("line 2"), "{text}");

    // Fluent Bit: json_lines, bearer token, gzip; then Vector: basic auth, one
    // JSON object a line with `message`; the rest as raw lines.
    let third = lines.len() / 3;
    let (code, _, text) = request(
        addr,
        &[
            ("Authorization", "Bearer t0ken"),
            ("Content-Encoding", "gzip"),
        ],
        &gzip(&ndjson(&lines[..third])),
    );
    assert_eq!(code, 200, "{text}");
    let vector: String = lines[third..2 * third]
        .iter()
        .map(|l| {
            serde_json::json!({"message": l, "file": "/var/log/postgresql/shop.log", "source_type": "file"})
                .to_string()
                + "\n"
        })
        .collect();
    let basic = format!("Basic {}", b64(b"vector:t0ken"));
    let (code, _, _) = request(addr, &[("Authorization", &basic)], vector.as_bytes());
    assert_eq!(code, 200);
    // Raw lines: their own stream ("http"), detected on its first line.
    let raw = lines[2 * third..].join("\n") + "\n";
    let (code, _, _) = request(addr, &[("Authorization", "Bearer t0ken")], raw.as_bytes());
    assert_eq!(code, 200);
    // Three streams (two files named alike, raw lines), one attacker and one
    // server: one finding, each failure counted once.
    d.wait_findings(BRUTE, |c| c == [expected]);
    d.still(expected);
    d.alive();
}

#[test]
fn syslog_over_udp_and_tcp_reaches_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = attack_lines();
    // PostgreSQL writing to syslog with the RDS prefix (log_destination = syslog).
    let bsd: Vec<String> = lines
        .iter()
        .map(|l| format!("<134>Nov 28 09:15:00 db1 postgres[8000]: {l}"))
        .collect();
    let expected = scanned(dir.path(), "syslog", &(bsd.join("\n") + "\n"));
    let mut d = Daemon::start(
        dir.path(),
        "  syslog:\n    udp: 127.0.0.1:0\n    tcp: 127.0.0.1:0\n",
    );
    let udp_addr = d.listening("syslog udp ");
    let tcp_addr = d.listening("syslog tcp ");
    // RFC 3164 datagrams, one message each, for the first half.
    let half = lines.len() / 2;
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for (i, m) in bsd[..half].iter().enumerate() {
        sock.send_to(m.as_bytes(), udp_addr).unwrap();
        if i % 20 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    // RFC 5424 over TCP with octet counting for the rest, and one line with
    // newline framing; cut anywhere by the network.
    let mut tcp = TcpStream::connect(tcp_addr).unwrap();
    let mut stream = Vec::new();
    for l in &lines[half..lines.len() - 1] {
        let m = format!("<134>1 2026-11-28T09:15:00Z db1 postgres 8000 - - {l}");
        stream.extend_from_slice(format!("{} {m}", m.len()).as_bytes());
    }
    for chunk in stream.chunks(777) {
        tcp.write_all(chunk).unwrap();
    }
    drop(tcp);
    let mut tcp = TcpStream::connect(tcp_addr).unwrap();
    writeln!(
        tcp,
        "<134>1 2026-11-28T09:15:00Z db1 postgres 8000 - - {}",
        lines[lines.len() - 1]
    )
    .unwrap();
    drop(tcp);
    d.wait_findings(BRUTE, |c| c == [expected]);
    d.still(expected);
    d.alive();
}

/// A request answered 200 just before a SIGTERM is committed: the daemon stops its
/// listeners and reads what they queued before its last commit.
#[test]
fn what_was_answered_before_sigterm_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let lines = attack_lines();
    let expected = scanned(
        dir.path(),
        "postgresql.log.2026-11-28-09",
        &(lines.join("\n") + "\n"),
    );
    let mut d = Daemon::start(
        dir.path(),
        "  firehose:\n    listen: 127.0.0.1:0\n    access_key: {env: KEIBI_TEST_FIREHOSE_KEY}\n",
    );
    let addr = d.listening("firehose ");
    let body = firehose_body("req-last", &[cloudwatch_record(&lines)]);
    let (code, _) = firehose(addr, "req-last", Some("s3cr3t-key"), &body, false);
    assert_eq!(code, 200);
    let ok = Command::new("kill")
        .args(["-TERM", &d.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let start = Instant::now();
    let status = loop {
        if let Some(st) = d.child.try_wait().unwrap() {
            break st;
        }
        assert!(start.elapsed() < common::WAIT, "{}", d.log());
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{}", d.log());
    let s = stored(&d.store).unwrap();
    let counts: Vec<u64> = of_type(&s, BRUTE).map(|(_, c)| c).collect();
    assert_eq!(counts, [expected], "{s:?}\n{}", d.log());
}

/// A listener other machines can reach is started, with a warning naming it.
#[test]
fn a_listener_on_a_non_loopback_address_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(dir.path(), "  syslog:\n    udp: 0.0.0.0:0\n");
    let addr = d.listening("syslog udp ");
    assert!(!addr.ip().is_loopback());
    let start = Instant::now();
    loop {
        let warned = d.log().lines().any(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
            v["level"] == "warn"
                && v["msg"].as_str().is_some_and(|m| {
                    m.contains("listen.syslog.udp") && m.contains("is not a loopback address")
                })
        });
        if warned {
            break;
        }
        assert!(start.elapsed() < common::WAIT, "{}", d.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    d.alive();
}
