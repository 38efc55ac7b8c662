//! `keibi stream send --kinesis` against moto server (PyPI), started through
//! `crates/keibi-aws/tests/data/moto_kinesis.py` on a free loopback port: real RDS
//! PostgreSQL logs (`keibi-parse/tests/data/postgres/`) sent into a stream of two
//! shards as CloudWatch Logs subscription messages (two log groups) and as raw lines
//! (a third key), read back with boto3. Each key's records hold its file's lines
//! once, in order; the subscription messages, scanned by keibi as a subscription's
//! payloads, give the brute force the file gives; a stream that does not exist is
//! an error (exit 2).
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh).

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod aws;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use serde_json::Value;

const STREAM: &str = "keibi-logs";

struct Moto {
    _svc: aws::Service,
    endpoint: String,
    python: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../keibi-aws/tests/data/moto_kinesis.py")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../keibi-parse/tests/data/postgres")
        .join(name)
}

fn moto() -> Option<Moto> {
    let python = aws::python_with("moto")?;
    let port = aws::free_port();
    let mut cmd = Command::new(&python);
    cmd.arg(script()).args(["serve", &port.to_string()]);
    let svc = aws::Service::start(cmd, port, "Running on", "moto_server (moto_kinesis.py)");
    Some(Moto {
        _svc: svc,
        endpoint: format!("http://127.0.0.1:{port}"),
        python,
    })
}

impl Moto {
    fn helper(&self, args: &[&str]) -> String {
        let out = Command::new(&self.python)
            .arg(script())
            .arg(args[0])
            .arg(&self.endpoint)
            .args(&args[1..])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .expect("run moto_kinesis.py");
        assert!(
            out.status.success(),
            "moto_kinesis.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn send(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_keibi"))
            .args(["stream", "send"])
            .args(args)
            .args(["--endpoint-url", &self.endpoint, "--region", "us-east-1"])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/keibi-test/credentials",
            )
            .env_remove("KEIBI_LANG")
            .output()
            .expect("run keibi")
    }
}

fn gunzip(b: &[u8]) -> Value {
    let mut s = String::new();
    flate2::read::GzDecoder::new(b)
        .read_to_string(&mut s)
        .unwrap();
    serde_json::from_str(&s).unwrap()
}

/// The finding's essence: type, count, first and last seen.
fn findings(path: &Path) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(["scan", "--format", "jsonl"])
        .arg(path)
        .output()
        .expect("run keibi");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Value = serde_json::from_str(l).unwrap();
            format!(
                "{} x{} {} {}",
                f["type"], f["count"], f["first_seen"], f["last_seen"]
            )
        })
        .collect()
}

#[test]
fn log_files_go_into_kinesis_once_in_order_and_scan_as_they_did() {
    let Some(moto) = moto() else { return };
    moto.helper(&["create", STREAM, "2"]);
    let rds = fixture("postgresql-rds-prefix.log");
    let hydra = fixture("postgresql-hydra-bruteforce.log");
    let groups = [
        ("/aws/rds/instance/db-a/postgresql", &rds),
        ("/aws/rds/instance/db-b/postgresql", &hydra),
    ];
    for (group, file) in groups {
        let out = moto.send(&["--kinesis", STREAM, "--key", group, file.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("records (")
                && stderr.contains(
                    "to the Kinesis stream keibi-logs as CloudWatch Logs subscription messages"
                ),
            "{stderr}"
        );
    }
    let out = moto.send(&[
        "--kinesis",
        STREAM,
        "--raw",
        "--key",
        "pg.db-c",
        hydra.to_str().unwrap(),
        "--lang",
        "ja",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("ログ行そのままで Kinesis データストリーム keibi-logs に送信しました"),
        "{stderr}"
    );

    let dumped: Vec<Value> = serde_json::from_str(&moto.helper(&["dump", STREAM])).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut by_key: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for r in &dumped {
        by_key
            .entry(r["key"].as_str().unwrap().to_string())
            .or_default()
            .push(b64.decode(r["data"].as_str().unwrap()).unwrap());
    }
    assert_eq!(by_key.len(), 3, "{:?}", by_key.keys());

    // Subscription messages: the file's lines, once, in order (RDS's continuation
    // lines inside their entry's event).
    let dir = tempfile::tempdir().unwrap();
    for (group, file) in groups {
        let records = &by_key[group];
        let mut messages = Vec::new();
        let mut payloads = String::new();
        for data in records {
            let v = gunzip(data);
            assert_eq!(v["messageType"], "DATA_MESSAGE");
            assert_eq!(v["logGroup"], group);
            for e in v["logEvents"].as_array().unwrap() {
                messages.push(e["message"].as_str().unwrap().to_string());
            }
            payloads.push_str(&v.to_string());
            payloads.push('\n');
        }
        let text = std::fs::read_to_string(file).unwrap();
        assert_eq!(messages.join("\n"), text.trim_end_matches('\n'), "{group}");
        // keibi reads them back as a subscription's payloads: the same findings.
        let p = dir.path().join(format!("{}.json", group.replace('/', "_")));
        std::fs::write(&p, payloads).unwrap();
        assert_eq!(findings(&p), findings(file), "{group}");
    }
    assert_eq!(findings(&hydra).len(), 1);

    // Raw: whole lines, once, in order.
    let raw: Vec<u8> = by_key["pg.db-c"].concat();
    assert_eq!(raw, std::fs::read(&hydra).unwrap());

    // A stream that does not exist: an error, nothing claimed sent.
    let out = moto.send(&["--kinesis", "nope", "--key", "k", rds.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("keibi: error:") && stderr.contains("ResourceNotFound"),
        "{stderr}"
    );
    // No target at all: said so.
    let out = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(["stream", "send", "--key", "k"])
        .arg(&rds)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--kinesis STREAM"));
}
