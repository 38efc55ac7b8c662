//! `rds://` inputs and sources against a small RDS log-file server written here
//! (moto does not implement DownloadDBLogFilePortion). It speaks the two actions as
//! the RDS API reference documents them: Query-protocol POSTs, XML answers
//! (`DescribeDBLogFilesResult`/`DescribeDBLogFilesDetails` with `LogFileName`,
//! `LastWritten` in milliseconds and `Size`; `DownloadDBLogFilePortionResult` with
//! `LogFileData`, `Marker`, `AdditionalDataPending`), listings paged by `Marker` and
//! filtered by `FilenameContains` and `FileLastWritten`, portions from `Marker` `0`
//! of at most `NumberOfLines` lines and at most 1 MB, and `DBInstanceNotFound`. Two
//! knobs make the small fixtures exercise the paging: a page holds one file and a
//! portion at most 4 KiB (RDS: 1 MB). It serves real RDS-format files of the
//! scenario fixtures, `<root>/<instance>/<LogFileName>`.
//!
//! No external service: always runs.

mod common;
use common::daemon::{brief as summary, stored_brief as stored};

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde_json::Value;

const PORTION_BYTES: usize = 4096;

struct Server {
    endpoint: String,
    downloads: Arc<AtomicUsize>,
}

fn serve(root: PathBuf) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let downloads = Arc::new(AtomicUsize::new(0));
    let counted = downloads.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let root = root.clone();
            let counted = counted.clone();
            std::thread::spawn(move || connection(conn, &root, &counted));
        }
    });
    Server {
        endpoint,
        downloads,
    }
}

/// Requests of one keep-alive connection until it closes.
fn connection(conn: TcpStream, root: &Path, downloads: &AtomicUsize) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
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
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let form = parse_form(&String::from_utf8_lossy(&body));
        let (status, xml) = answer(&form, root, downloads);
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n",
            xml.len()
        );
        if out.write_all(head.as_bytes()).is_err() || out.write_all(xml.as_bytes()).is_err() {
            return;
        }
    }
}

fn parse_form(body: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn files_of(dir: &Path, under: &str, out: &mut Vec<(String, i64, u64)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = format!("{under}{}", e.file_name().to_string_lossy());
        let m = e.metadata().unwrap();
        if m.is_dir() {
            files_of(&e.path(), &format!("{name}/"), out);
        } else {
            let t = m.modified().unwrap().duration_since(UNIX_EPOCH).unwrap();
            out.push((name, t.as_millis() as i64, m.len()));
        }
    }
}

fn answer(form: &[(String, String)], root: &Path, downloads: &AtomicUsize) -> (String, String) {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    const NS: &str = "http://rds.amazonaws.com/doc/2014-10-31/";
    let instance = get("DBInstanceIdentifier").unwrap_or_default();
    // Hostile answers: `stuck-db` says more is pending without moving its marker,
    // `runaway-db` moves it for ever without data, `odd-db` lists a name holding a
    // newline and answers without the action's result.
    if let Some(hostile) = hostile(instance, get("Action"), get("Marker")) {
        return ("200 OK".into(), hostile);
    }
    let dir = root.join(instance);
    if instance.is_empty() || instance.contains(['/', '.']) || !dir.is_dir() {
        return (
            "404 Not Found".into(),
            format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code><Message>DBInstance {} not found.</Message></Error><RequestId>r</RequestId></ErrorResponse>", escape(instance)),
        );
    }
    match get("Action") {
        Some("DescribeDBLogFiles") => {
            let mut files = Vec::new();
            files_of(&dir, "", &mut files);
            files.sort();
            let contains = get("FilenameContains").unwrap_or_default();
            let since: i64 = get("FileLastWritten").map_or(0, |s| s.parse().unwrap());
            files.retain(|(n, t, _)| n.contains(contains) && *t >= since);
            let from: usize = get("Marker").map_or(0, |m| m.parse().unwrap());
            // One file a page (a knob: RDS pages by MaxRecords).
            let page = files.iter().skip(from).take(1);
            let details: String = page
                .map(|(n, t, s)| format!("<DescribeDBLogFilesDetails><LogFileName>{}</LogFileName><LastWritten>{t}</LastWritten><Size>{s}</Size></DescribeDBLogFilesDetails>", escape(n)))
                .collect();
            let marker = if from + 1 < files.len() {
                format!("<Marker>{}</Marker>", from + 1)
            } else {
                String::new()
            };
            (
                "200 OK".into(),
                format!("<DescribeDBLogFilesResponse xmlns=\"{NS}\"><DescribeDBLogFilesResult><DescribeDBLogFiles>{details}</DescribeDBLogFiles>{marker}</DescribeDBLogFilesResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeDBLogFilesResponse>"),
            )
        }
        Some("DownloadDBLogFilePortion") => {
            downloads.fetch_add(1, Ordering::Relaxed);
            let file = get("LogFileName").unwrap_or_default();
            let Ok(text) = std::fs::read(dir.join(file)) else {
                return ("404 Not Found".into(), format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>DBLogFileNotFoundFault</Code><Message>no such file</Message></Error></ErrorResponse>"));
            };
            // Markers are `<hour>:<offset>` as RDS writes them; `0` is the start.
            let marker = get("Marker").unwrap_or("0");
            let at: usize = marker
                .split_once(':')
                .map_or(0, |(_, o)| o.parse().unwrap());
            let at = at.min(text.len());
            let lines: usize = get("NumberOfLines").map_or(usize::MAX, |n| n.parse().unwrap());
            // At most `lines` lines and PORTION_BYTES, whole lines.
            let mut end = at;
            let mut n = 0;
            while end < text.len() && n < lines {
                let next = text[end..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(text.len(), |i| end + i + 1);
                if next - at > PORTION_BYTES && end > at {
                    break;
                }
                end = next;
                n += 1;
            }
            let data = String::from_utf8_lossy(&text[at..end]);
            (
                "200 OK".into(),
                format!("<DownloadDBLogFilePortionResponse xmlns=\"{NS}\"><DownloadDBLogFilePortionResult><LogFileData>{}</LogFileData><AdditionalDataPending>{}</AdditionalDataPending><Marker>0:{end}</Marker></DownloadDBLogFilePortionResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DownloadDBLogFilePortionResponse>", escape(&data), end < text.len()),
            )
        }
        _ => (
            "400 Bad Request".into(),
            format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>unknown action</Message></Error></ErrorResponse>"),
        ),
    }
}

fn hostile(instance: &str, action: Option<&str>, marker: Option<&str>) -> Option<String> {
    const NS: &str = "http://rds.amazonaws.com/doc/2014-10-31/";
    if !["stuck-db", "runaway-db", "odd-db"].contains(&instance) {
        return None;
    }
    Some(match (instance, action) {
        ("odd-db", Some("DescribeDBLogFiles")) => format!("<DescribeDBLogFilesResponse xmlns=\"{NS}\"><DescribeDBLogFilesResult><DescribeDBLogFiles><DescribeDBLogFilesDetails><LogFileName>a&#10;b</LogFileName><LastWritten>x</LastWritten><Size>-1</Size></DescribeDBLogFilesDetails><DescribeDBLogFilesDetails><LogFileName>error/ok.log</LogFileName></DescribeDBLogFilesDetails></DescribeDBLogFiles></DescribeDBLogFilesResult></DescribeDBLogFilesResponse>"),
        ("odd-db", _) => "<Other><Thing/></Other>".to_string(),
        (_, Some("DescribeDBLogFiles")) => format!("<DescribeDBLogFilesResponse xmlns=\"{NS}\"><DescribeDBLogFilesResult><DescribeDBLogFiles><DescribeDBLogFilesDetails><LogFileName>error/postgresql.log</LogFileName><LastWritten>1</LastWritten><Size>1</Size></DescribeDBLogFilesDetails></DescribeDBLogFiles><Marker></Marker></DescribeDBLogFilesResult></DescribeDBLogFilesResponse>"),
        ("stuck-db", _) => format!("<DownloadDBLogFilePortionResponse xmlns=\"{NS}\"><DownloadDBLogFilePortionResult><LogFileData>2026-11-28 15:41:43 UTC:10.0.0.5(40124):u@app:[8002]:LOG:  x\n</LogFileData><AdditionalDataPending>true</AdditionalDataPending><Marker>0:5</Marker></DownloadDBLogFilePortionResult></DownloadDBLogFilePortionResponse>"),
        _ => {
            let next = marker.and_then(|m| m.split_once(':')).map_or(0, |(_, o)| o.parse::<u64>().unwrap_or(0)) + 1;
            format!("<DownloadDBLogFilePortionResponse xmlns=\"{NS}\"><DownloadDBLogFilePortionResult><LogFileData></LogFileData><AdditionalDataPending>true</AdditionalDataPending><Marker>0:{next}</Marker></DownloadDBLogFilePortionResult></DownloadDBLogFilePortionResponse>")
        }
    })
}

fn fixture(scenario: &str, rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(scenario)
        .join("attack")
        .join(rel)
}

fn keibi(endpoint: &str, args: &[&str]) -> (Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(args)
        .args(["--endpoint-url", endpoint, "--region", "us-east-1"])
        .envs(aws_env())
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run keibi");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    (lines, stderr)
}

fn aws_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/keibi-test/credentials",
        ),
    ]
}

/// A finding without where its evidence was read: type, resource, times, count,
/// event ids.
fn essence(f: &Value) -> String {
    let ids: BTreeSet<&str> = f["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["event_id"].as_str())
        .collect();
    format!(
        "{} {} {} {} x{} {:?}",
        f["type"].as_str().unwrap_or("?"),
        f["resource"],
        f["first_seen"].as_str().unwrap_or("?"),
        f["last_seen"].as_str().unwrap_or("?"),
        f["count"],
        ids
    )
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

#[test]
fn an_instance_scans_as_its_files_do() {
    let dir = tempfile::tempdir().unwrap();
    let pg = fixture(
        "activity-mass-destruction",
        "orders-pg/error/postgresql.log.2026-12-01-10",
    );
    let my = fixture(
        "activity-mass-destruction",
        "orders-mysql/audit/server_audit.log",
    );
    copy(
        &pg,
        &dir.path()
            .join("orders-pg/error/postgresql.log.2026-12-01-10"),
    );
    copy(&my, &dir.path().join("orders-mysql/audit/server_audit.log"));
    // A second file of the instance, outside the prefix asked for below.
    std::fs::write(dir.path().join("orders-pg/error/other.log"), "").unwrap();
    let server = serve(dir.path().to_path_buf());

    let (remote, stderr) = keibi(
        &server.endpoint,
        &[
            "scan",
            "--format",
            "jsonl",
            "rds://orders-pg/error/postgresql.log",
            "rds://orders-mysql",
        ],
    );
    let out = Command::new(env!("CARGO_BIN_EXE_keibi"))
        .args(["scan", "--format", "jsonl"])
        .arg(&pg)
        .arg(&my)
        .output()
        .unwrap();
    let local: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!local.is_empty(), "the fixtures give findings");
    let want: BTreeSet<String> = local.iter().map(essence).collect();
    let got: BTreeSet<String> = remote.iter().map(essence).collect();
    assert_eq!(got, want, "stderr: {stderr}");
    // The files span several 4 KiB portions each.
    assert!(
        server.downloads.load(Ordering::Relaxed) > 10,
        "{}",
        server.downloads.load(Ordering::Relaxed)
    );
    for f in &remote {
        for e in f["evidence"].as_array().unwrap() {
            let src = e["source"].as_str().unwrap();
            assert!(
                src == "rds://orders-pg/error/postgresql.log.2026-12-01-10"
                    || src == "rds://orders-mysql/audit/server_audit.log",
                "{src}"
            );
        }
    }

    // `keibi events` names the files; --since after every file's last write lists
    // none (FileLastWritten), so nothing is downloaded.
    let (events, _) = keibi(
        &server.endpoint,
        &["events", "--format", "jsonl", "rds://orders-pg"],
    );
    assert!(!events.is_empty());
    let before = server.downloads.load(Ordering::Relaxed);
    let (later, stderr) = keibi(
        &server.endpoint,
        &[
            "events",
            "--format",
            "jsonl",
            "--since",
            "2099-01-01",
            "rds://orders-pg",
        ],
    );
    assert!(later.is_empty(), "{stderr}");
    assert_eq!(server.downloads.load(Ordering::Relaxed), before);

    // An instance that is not there is an error naming the URL and RDS's code.
    let (_, stderr) = keibi(&server.endpoint, &["events", "rds://no-such-db"]);
    assert!(stderr.contains("rds://no-such-db"), "{stderr}");
    assert!(stderr.contains("DBInstanceNotFound"), "{stderr}");
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// `keibi run` with `rds://` sources: lines appended to a served file while it polls
/// are read at the next listing from the marker it stopped at; killed with SIGKILL
/// and restarted, it resumes after the last portion it committed; a file that
/// appears is read from its start. The store ends equal to one scan of the
/// instances (nothing lost, no line counted twice).
#[test]
fn a_followed_instance_survives_kill_9_and_equals_one_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("served");
    // Four RDS PostgreSQL fixtures in time order, each with findings of its own:
    // the first served at the start, the second appended to it while keibi runs,
    // the third a new file while it is down, the fourth appended to that one.
    let part = |scenario: &str, hour: &str| {
        std::fs::read_to_string(fixture(
            scenario,
            &format!("orders-pg/error/postgresql.log.{hour}"),
        ))
        .unwrap()
    };
    let parts = [
        part("activity-habitual-dba", "2026-11-24-03"),
        part("activity-server-side-command", "2026-12-01-10"),
        part("injection-line-break", "2026-12-06-06"),
        part("activity-role-elevated-imitation", "2026-12-06-06"),
    ];
    let pg = root.join("orders-pg/error/postgresql.log.2026-11-24-03");
    let later = root.join("orders-pg/error/postgresql.log.2026-12-06-06");
    std::fs::create_dir_all(pg.parent().unwrap()).unwrap();
    std::fs::write(&pg, &parts[0]).unwrap();
    copy(
        &fixture(
            "activity-mass-destruction",
            "orders-mysql/audit/server_audit.log",
        ),
        &root.join("orders-mysql/audit/server_audit.log"),
    );
    let server = serve(root.clone());

    let store = dir.path().join("keibi.db");
    let settings = dir.path().join("keibi.yaml");
    let mut yaml = String::from("sources:\n  inputs:\n");
    for url in ["rds://orders-pg/error/", "rds://orders-mysql"] {
        yaml.push_str(&format!(
            "    - url: {url}\n      endpoint_url: {}\n      region: us-east-1\n      list_interval: 1s\n",
            server.endpoint
        ));
    }
    yaml.push_str(&format!("store:\n  path: {}\n", store.display()));
    std::fs::write(&settings, yaml).unwrap();
    let daemon_log = dir.path().join("daemon.log");
    let run = |once: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keibi"));
        cmd.args(["run", "--listen", "off", "--config"])
            .arg(&settings)
            .envs(aws_env())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null());
        if once {
            cmd.arg("--once");
        }
        cmd.stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&daemon_log)
                .unwrap(),
        );
        cmd
    };
    let log = || std::fs::read_to_string(&daemon_log).unwrap_or_default();
    let scan = || {
        let (f, stderr) = keibi(
            &server.endpoint,
            &[
                "scan",
                "--format",
                "jsonl",
                "rds://orders-pg/error/",
                "rds://orders-mysql",
            ],
        );
        assert!(!f.is_empty(), "{stderr}");
        summary(&f)
    };
    // Until the store equals a scan of what is served now.
    let caught_up = |what: &str| {
        let want = scan();
        let start = Instant::now();
        loop {
            if stored(&store).as_ref() == Some(&want) {
                return want;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{what}: {:?}\nwant {want:?}\n{}",
                stored(&store),
                log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };

    let mut daemon = run(false).spawn().unwrap();
    let first = caught_up("the first file and the audit log");
    append(&pg, &parts[1]);
    let second = caught_up("the lines appended while it ran");
    assert_ne!(first, second, "the appended lines change the findings");
    daemon.kill().unwrap();
    let _ = daemon.wait();
    // Appended while it is down, and a new file: read after the restart.
    std::fs::write(&later, &parts[2]).unwrap();
    let mut daemon = run(false).spawn().unwrap();
    let third = caught_up("the new file, after a restart");
    assert_ne!(second, third);
    // Killed again just after more is appended.
    append(&later, &parts[3]);
    std::thread::sleep(Duration::from_millis(300));
    daemon.kill().unwrap();
    let _ = daemon.wait();
    let st = run(true).status().unwrap();
    assert!(st.success(), "{}", log());
    let want = scan();
    assert_ne!(third, want);
    assert_eq!(stored(&store).unwrap(), want, "{}", log());
}

/// Hostile answers end a read with an error naming the URL or file, never a hang or
/// a crash: a marker that does not move with more pending, one that moves for ever
/// without data, a listed name holding a newline (left out), an answer without its
/// result.
#[test]
fn hostile_answers_end_the_read() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path().to_path_buf());
    let start = Instant::now();
    let (events, stderr) = keibi(
        &server.endpoint,
        &["events", "--format", "jsonl", "rds://stuck-db"],
    );
    // The first answer (from 0) and the second (from 0:5, which answers 0:5 again):
    // then the marker has not moved and the read stops.
    assert_eq!(events.len(), 2, "{stderr}");
    let (_, stderr) = keibi(&server.endpoint, &["events", "rds://runaway-db"]);
    assert!(stderr.contains("empty portions"), "{stderr}");
    assert!(
        stderr.contains("rds://runaway-db/error/postgresql.log"),
        "{stderr}"
    );
    let (_, stderr) = keibi(&server.endpoint, &["events", "rds://odd-db"]);
    assert!(stderr.contains("rds://odd-db/error/ok.log"), "{stderr}");
    assert!(stderr.contains("without its result"), "{stderr}");
    assert!(
        !stderr.contains("a\nb") && !stderr.contains("rds://odd-db/a"),
        "{stderr}"
    );
    assert!(start.elapsed() < Duration::from_secs(60));
}
