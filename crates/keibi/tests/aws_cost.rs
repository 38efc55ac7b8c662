//! The cost of a run per source, against moto server (PyPI): `keibi scan` and
//! `keibi events` of two `s3://` sources (two prefixes of one bucket, with
//! different numbers of CloudTrail files) end with the AWS line of the whole run
//! and one line per source, whose requests, GetObjects, bytes and dollars add up
//! to it; a source's own GetObject count is its number of files.
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh).

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod aws;

use std::path::{Path, PathBuf};
use std::process::Command;

const BUCKET: &str = "cost-bucket";

fn scenario(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name)
        .join("attack");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.remove(0)
}

/// What one `keibi: AWS …` line says: requests, bytes (as printed), dollars.
#[derive(Debug)]
struct Said {
    requests: u64,
    size: String,
    usd: f64,
}

fn said(line: &str) -> Said {
    let after = line.split_once(": ").unwrap().1;
    let after = after.split_once(": ").map_or(after, |(_, r)| r);
    let requests = after
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{line}"));
    let size = after.split(", ").nth(1).unwrap().to_string();
    let usd = line
        .split("≈ $")
        .nth(1)
        .unwrap()
        .split([' ', ','])
        .next()
        .unwrap()
        .parse()
        .unwrap();
    Said {
        requests,
        size,
        usd,
    }
}

fn bytes(size: &str) -> f64 {
    let (n, unit) = size.split_once(' ').unwrap();
    let n: f64 = n.parse().unwrap();
    n * match unit {
        "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        u => panic!("unit {u}"),
    }
}

#[test]
fn each_source_has_its_line_and_they_add_up() {
    let Some(python) = aws::python_with("moto") else {
        return;
    };
    let port = aws::free_port();
    let mut cmd = Command::new(python.with_file_name("moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let _moto = aws::Service::start(cmd, port, "Running on", "moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");

    // Source a: three trail files; source b: one.
    let a = [
        scenario("ct-console-brute-force"),
        scenario("ct-cloudtrail-logging-disabled"),
        scenario("ct-root-console-use"),
    ];
    let b = [scenario("ct-snapshot-public")];
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws/put_trail.py");
    let mut put = Command::new(&python);
    put.arg(script).arg(&endpoint).arg(BUCKET).arg("--create");
    for (prefix, files) in [("a", &a[..]), ("b", &b[..])] {
        for (i, f) in files.iter().enumerate() {
            put.arg(format!(
                "{prefix}/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/{i}.json.gz={}",
                f.display()
            ));
        }
    }
    let out = put.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let src_a = format!("s3://{BUCKET}/a/");
    let src_b = format!("s3://{BUCKET}/b/");
    for command in [&["scan", "--format", "jsonl"][..], &["events"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_keibi"))
            .args(command)
            .args([&src_a, &src_b])
            .args(["--endpoint-url", &endpoint, "--region", "us-east-1"])
            .env("KEIBI_LANG", "en")
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
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{command:?}: {stderr}"
        );
        assert!(
            !out.stdout.is_empty(),
            "{command:?} read the bucket: {stderr}"
        );
        let total = stderr
            .lines()
            .find(|l| l.starts_with("keibi: AWS: "))
            .unwrap_or_else(|| panic!("no AWS line: {stderr}"));
        let line_of = |src: &str| {
            stderr
                .lines()
                .find(|l| l.starts_with(&format!("keibi: AWS {src}: ")))
                .unwrap_or_else(|| panic!("no line for {src}: {stderr}"))
        };
        let (la, lb) = (line_of(&src_a), line_of(&src_b));
        assert!(
            !stderr.contains("keibi: AWS other calls"),
            "every call was made for a source: {stderr}"
        );
        eprintln!("{command:?}:\n{total}\n{la}\n{lb}");
        let (t, sa, sb) = (said(total), said(la), said(lb));
        assert_eq!(sa.requests + sb.requests, t.requests, "{stderr}");
        // Each source lists its prefix and gets its own files, once each.
        assert_eq!(gets_in(total), a.len() + b.len(), "{total}");
        assert!(sa.requests > a.len() as u64, "{la}");
        assert!(sb.requests > b.len() as u64, "{lb}");
        assert!(
            sa.requests - sb.requests == (a.len() - b.len()) as u64,
            "{la} / {lb}"
        );
        let sum = bytes(&sa.size) + bytes(&sb.size);
        let whole = bytes(&t.size);
        // Each size is printed to a tenth of its unit.
        assert!(
            (sum - whole).abs() <= 0.1 * 1024.0 + whole * 0.01,
            "{} + {} vs {}",
            sa.size,
            sb.size,
            t.size
        );
        assert!(
            sb.size != sa.size && bytes(&sa.size) > bytes(&sb.size),
            "{la} / {lb}"
        );
        // Each estimate is printed to two significant digits.
        assert!(t.usd > 0.0, "{total}");
        assert!((sa.usd + sb.usd - t.usd).abs() <= 0.06 * t.usd, "{stderr}");
    }
}

/// The GetObject count the total line names.
fn gets_in(line: &str) -> usize {
    line.split("s3 GetObject ")
        .nth(1)
        .and_then(|r| r.split([',', ')', ' ']).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
