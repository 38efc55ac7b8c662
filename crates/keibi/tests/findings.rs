//! `keibi findings` end to end with the built binary: findings from a real scan go
//! into a store and through the workflow; bad store files give a clear error and
//! exit 2 without being changed; the command works while another process holds a
//! write transaction on the store (as the daemon will).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn run(args: &[&str]) -> Output {
    keibi().args(args).output().expect("keibi runs")
}

fn ok(args: &[&str]) -> Output {
    let o = run(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "keibi {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {e}: {l}")))
        .collect()
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name)
        .join("attack")
}

/// Scans two scenarios' attack logs to a jsonl file; returns it and its findings.
fn scan_to_file(dir: &Path) -> (PathBuf, Vec<serde_json::Value>) {
    let out = ok(&[
        "scan",
        scenario("login-bruteforce-pg").to_str().unwrap(),
        scenario("activity-mass-destruction").to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    let file = dir.join("findings.jsonl");
    std::fs::write(&file, &out.stdout).unwrap();
    let findings = json_lines(&out);
    assert!(findings.len() >= 2, "{}", stderr(&out));
    (file, findings)
}

fn list(store: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["findings", "--store", store, "list", "--format", "jsonl"];
    args.extend_from_slice(extra);
    json_lines(&ok(&args))
}

#[test]
fn import_then_the_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("keibi.db");
    let store = store_path.to_str().unwrap();
    let (file, scanned) = scan_to_file(dir.path());
    let file = file.to_str().unwrap();

    // No store yet: a clear error, exit 2, and no file created.
    let o = run(&["findings", "--store", store, "list"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no store here"), "{}", stderr(&o));
    assert!(!store_path.exists());

    let o = ok(&["findings", "--store", store, "import", file]);
    assert!(
        stderr(&o).contains(&format!("imported {} findings", scanned.len())),
        "{}",
        stderr(&o)
    );
    let listed = list(store, &[]);
    assert_eq!(listed.len(), scanned.len());
    // The stored findings are the scanned ones, in the contract's shape.
    let mut a: Vec<&serde_json::Value> = listed.iter().collect();
    let mut b: Vec<&serde_json::Value> = scanned.iter().collect();
    a.sort_by_key(|v| v["id"].as_str().unwrap().to_string());
    b.sort_by_key(|v| v["id"].as_str().unwrap().to_string());
    assert_eq!(a, b);

    // Importing the same file again changes nothing.
    let o = ok(&["findings", "--store", store, "import", file]);
    assert!(stderr(&o).contains("imported before"), "{}", stderr(&o));
    let again = list(store, &[]);
    assert_eq!(again, listed);

    // Acknowledge one by a short prefix of its id.
    let id = listed[0]["id"].as_str().unwrap().to_string();
    ok(&[
        "findings",
        "--store",
        store,
        "ack",
        &id[..8],
        "--note",
        "looking",
        "--by",
        "alice",
    ]);
    let acked = list(store, &["--status", "acknowledged"]);
    assert_eq!(acked.len(), 1);
    assert_eq!(acked[0]["id"], id.as_str());
    assert_eq!(list(store, &["--status", "new"]).len(), listed.len() - 1);

    // Resolve it: the default list (new and acknowledged) no longer has it.
    ok(&[
        "findings", "--store", store, "resolve", &id, "--note", "blocked", "--by", "alice",
    ]);
    let open = list(store, &[]);
    assert_eq!(open.len(), listed.len() - 1);
    assert!(open.iter().all(|f| f["id"] != id.as_str()));
    assert_eq!(list(store, &["--status", "resolved"]).len(), 1);
    assert_eq!(list(store, &["--all"]).len(), listed.len());

    // show: the finding, its workflow and its history.
    let o = ok(&[
        "findings",
        "--store",
        store,
        "show",
        &id[..10],
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["finding"]["id"], id.as_str());
    assert_eq!(v["status"], "resolved");
    assert_eq!(v["status_by"], "alice");
    let whats: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["what"].as_str().unwrap())
        .collect();
    assert_eq!(whats, ["new", "acknowledged", "resolved"]);
    let o = ok(&[
        "findings", "--store", store, "show", &id, "--format", "text",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("status      resolved by alice"), "{text}");

    // The table has a status column.
    let o = ok(&[
        "findings", "--store", store, "list", "--all", "--format", "table",
    ]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.starts_with("STATUS "), "{table}");
    assert!(table.lines().any(|l| l.starts_with("resolved ")), "{table}");

    // Reopen, then suppress everything from the brute-force source's address.
    ok(&["findings", "--store", store, "reopen", &id]);
    assert_eq!(list(store, &[]).len(), listed.len());
    let bf = scanned
        .iter()
        .find(|f| f["type"] == "CredentialAccess:RDS/BruteForce")
        .expect("a brute force in the scan");
    let ip = bf["actor"]["ip"].as_str().unwrap();
    let o = ok(&[
        "findings",
        "--store",
        store,
        "suppress",
        "--ip",
        &format!("{ip}/32"),
        "--expires",
        "7d",
        "--reason",
        "pentest",
    ]);
    assert!(
        stderr(&o).contains("1 stored findings suppressed"),
        "{}",
        stderr(&o)
    );
    let suppressed = list(store, &["--status", "suppressed"]);
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["id"], bf["id"]);
    let o = ok(&["findings", "--store", store, "suppressions"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("(pentest)"));

    // Usage errors exit 2.
    assert_eq!(
        run(&["findings", "--store", store, "list", "--status", "bogus"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["findings", "--store", store, "suppress"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["findings", "--store", store, "ack", "zzzz"])
            .status
            .code(),
        Some(2)
    );
    let o = run(&["findings", "--store", store, "ack", "0000000000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no finding with an id starting with"),
        "{}",
        stderr(&o)
    );

    // info and prune with export.
    let o = ok(&["findings", "--store", store, "info"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("findings   {}", listed.len())));
    let export = dir.path().join("export");
    std::fs::create_dir(&export).unwrap();
    let o = ok(&[
        "findings",
        "--store",
        store,
        "prune",
        "--older-than",
        "2100-01-01",
        "--export-dir",
        export.to_str().unwrap(),
    ]);
    assert!(
        stderr(&o).contains(&format!("{} findings", listed.len())),
        "{}",
        stderr(&o)
    );
    assert_eq!(list(store, &["--all"]).len(), 0);
    // One export, under its final name (no `.partial` left).
    let names: Vec<String> = std::fs::read_dir(&export)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        names[0].starts_with("keibi-findings-before-") && names[0].ends_with(".jsonl.zst"),
        "{names:?}"
    );
}

#[test]
fn import_refuses_what_is_not_findings() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("keibi.db");
    let store = store.to_str().unwrap();
    let (file, _) = scan_to_file(dir.path());
    let mut bad = std::fs::read(&file).unwrap();
    bad.extend_from_slice(b"{\"time\":\"2026-11-28T15:41:43Z\",\"action\":\"login_failure\"}\n");
    let bad_file = dir.path().join("bad.jsonl");
    std::fs::write(&bad_file, bad).unwrap();
    let o = run(&[
        "findings",
        "--store",
        store,
        "import",
        bad_file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let lines = std::fs::read_to_string(&file).unwrap().lines().count();
    assert!(
        stderr(&o).contains(&format!("bad.jsonl:{}: not a finding", lines + 1)),
        "{}",
        stderr(&o)
    );
    assert!(
        !Path::new(store).exists(),
        "nothing imported, no store made"
    );
}

#[test]
fn bad_store_files_give_clear_errors_and_stay_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    // A foreign SQLite database.
    let other = dir.path().join("other.db");
    let c = rusqlite::Connection::open(&other).unwrap();
    c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(c);
    let before = std::fs::read(&other).unwrap();
    for args in [vec!["list"], vec!["ack", "abcd"], vec!["info"]] {
        let mut a = vec!["findings", "--store", other.to_str().unwrap()];
        a.extend(args);
        let o = run(&a);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("not a keibi store"), "{}", stderr(&o));
    }
    let (file, _) = scan_to_file(dir.path());
    let o = run(&[
        "findings",
        "--store",
        other.to_str().unwrap(),
        "import",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(&other).unwrap(), before);

    // Garbage over a real store's pages.
    let store = dir.path().join("keibi.db");
    ok(&[
        "findings",
        "--store",
        store.to_str().unwrap(),
        "import",
        file.to_str().unwrap(),
    ]);
    let mut bytes = std::fs::read(&store).unwrap();
    assert!(bytes.len() > 6 * 4096);
    for (i, b) in bytes[4096..6 * 4096].iter_mut().enumerate() {
        *b = (i * 131 % 251) as u8;
    }
    std::fs::write(&store, &bytes).unwrap();
    let o = run(&[
        "findings",
        "--store",
        store.to_str().unwrap(),
        "ack",
        "abcd",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("damaged"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&store).unwrap(), bytes);
}

#[test]
fn works_while_another_process_holds_a_write_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("keibi.db");
    let (file, scanned) = scan_to_file(dir.path());
    ok(&[
        "findings",
        "--store",
        store.to_str().unwrap(),
        "import",
        file.to_str().unwrap(),
    ]);
    let id = scanned[0]["id"].as_str().unwrap().to_string();
    // This test process plays the daemon: a write transaction held for a second.
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let holder = {
        let store = store.clone();
        std::thread::spawn(move || {
            let mut c = rusqlite::Connection::open(&store).unwrap();
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .unwrap();
            tx.execute("UPDATE findings SET updated_at = updated_at + 1", [])
                .unwrap();
            ready_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(1000));
            tx.commit().unwrap();
        })
    };
    ready.recv().unwrap();
    let started = Instant::now();
    assert_eq!(list(store.to_str().unwrap(), &[]).len(), scanned.len());
    let read_took = started.elapsed();
    ok(&[
        "findings",
        "--store",
        store.to_str().unwrap(),
        "ack",
        &id,
        "--by",
        "bob",
    ]);
    let ack_took = started.elapsed();
    holder.join().unwrap();
    assert!(
        read_took < Duration::from_millis(800),
        "reading waited {read_took:?}"
    );
    assert!(
        ack_took >= Duration::from_millis(800),
        "the ack did not wait: {ack_took:?}"
    );
    let acked = list(store.to_str().unwrap(), &["--status", "acknowledged"]);
    assert_eq!(acked.len(), 1);
}

/// `kill -9` in the middle of a large import: the store opens undamaged with all of
/// the import or none of it, and importing again ends with every finding counted
/// once.
#[test]
fn a_killed_import_leaves_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("keibi.db");
    let (_, scanned) = scan_to_file(dir.path());
    let n = 4000;
    let mut text = String::new();
    for i in 0..n {
        let mut f = scanned[i % scanned.len()].clone();
        f["id"] = format!("{i:032x}").into();
        text.push_str(&f.to_string());
        text.push('\n');
    }
    let file = dir.path().join("many.jsonl");
    std::fs::write(&file, text).unwrap();
    let mut wal = store.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);

    let mut child = keibi()
        .args([
            "findings",
            "--store",
            store.to_str().unwrap(),
            "import",
            file.to_str().unwrap(),
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let killed = loop {
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        // Past the schema's first commit: the import's transaction is being written.
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > (1 << 20)) {
            child.kill().unwrap();
            child.wait().unwrap();
            break true;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "import hangs");
        std::thread::sleep(Duration::from_millis(1));
    };
    eprintln!("killed while writing: {killed}");
    let stored = list(store.to_str().unwrap(), &["--all"]).len();
    assert!(
        stored == 0 || stored == n,
        "{stored} of {n} findings: a partial import"
    );
    // (A kill that lands between the commit and the exit leaves all of it: both are
    // right; on this machine the kill lands inside the transaction.)
    ok(&[
        "findings",
        "--store",
        store.to_str().unwrap(),
        "import",
        file.to_str().unwrap(),
    ]);
    let all = list(store.to_str().unwrap(), &["--all"]);
    assert_eq!(all.len(), n);
    for f in &all {
        let i = usize::from_str_radix(f["id"].as_str().unwrap(), 16).unwrap();
        assert_eq!(
            f["count"],
            scanned[i % scanned.len()]["count"],
            "counted once"
        );
    }
}
