//! `keibi run` and `keibi findings` against bad input, as a user meets it: a
//! damaged or foreign store, a read-only store, a full disk, a settings file with
//! wrong types, two daemons on one store (issue 11, "Proven, not claimed").
//!
//! Every case starts the real binary and checks the exit code, that stderr names
//! the file and the reason, and that the store is byte-identical afterwards (or
//! still opens with every committed finding).
//!
//! Permissions: root ignores file modes, so when the tests run as root the
//! commands that must be refused by a mode run as `nobody` (uid 65534) on files
//! given to `nobody`; as any other user they run as that user. The full disk is a
//! real one: a 1 MiB tmpfs mounted in a user namespace (`unshare --user
//! --map-root-user --mount`); where user namespaces are not allowed, that test says
//! so and passes without checking.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name)
        .join("attack")
}

/// The brute force of the `login-bruteforce-pg` scenario (a real PostgreSQL log).
fn brute_force_log() -> PathBuf {
    scenario("login-bruteforce-pg").join("shop-postgres/error/postgresql.log.2026-11-28-09")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A finding as the comparison sees it: type, count, first and last seen, by id.
type Summary = BTreeMap<String, (String, u64, String, String)>;

fn summarize(jsonl: &[u8]) -> Summary {
    String::from_utf8_lossy(jsonl)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (
                s("id"),
                (
                    s("type"),
                    f["count"].as_u64().unwrap_or(0),
                    s("first_seen"),
                    s("last_seen"),
                ),
            )
        })
        .collect()
}

/// `keibi scan NAME` in `dir` (an instance without a name is named after the
/// path as given, so the daemon's relative path is scanned the same way).
fn scan_in(dir: &Path, name: &str) -> Summary {
    let o = keibi()
        .current_dir(dir)
        .arg("scan")
        .arg(name)
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    summarize(&o.stdout)
}

fn list(store: &Path) -> Output {
    keibi()
        .args(["findings", "list", "--all", "--format", "jsonl", "--store"])
        .arg(store)
        .output()
        .unwrap()
}

fn stored(store: &Path) -> Summary {
    let o = list(store);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    summarize(&o.stdout)
}

/// `keibi run PATHS --store STORE --once`.
fn run_once(paths: &[&Path], store: &Path) -> Output {
    keibi()
        .arg("run")
        .args(paths)
        .arg("--store")
        .arg(store)
        .arg("--once")
        .output()
        .unwrap()
}

/// A real store: two scenarios run through `keibi run --once` (closed, so every
/// commit is in the file).
fn real_store(path: &Path) -> Summary {
    let a = scenario("activity-mass-destruction");
    let b = scenario("activity-schema-enumeration");
    let o = run_once(&[&a, &b], path);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stored(path);
    assert!(s.len() >= 4, "{s:?}");
    s
}

/// The files beside a store (`-wal`, `-shm`).
fn beside(store: &Path, suffix: &str) -> PathBuf {
    let mut s = store.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

const NOBODY: u32 = 65534;

/// A command that file modes bind: as `nobody` when this test is root.
fn bound(mut c: Command) -> Command {
    if is_root() {
        // std drops the supplementary groups when root sets a uid.
        c.uid(NOBODY).gid(NOBODY);
    }
    c
}

/// Gives `path` to the user [`bound`] commands run as.
fn give(path: &Path) {
    if is_root() {
        std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).unwrap();
    }
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A temporary directory [`bound`] commands can enter.
fn open_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o755);
    dir
}

/// Runs `keibi run A --store STORE --once` and `keibi findings list` on a file that
/// is not a usable store: both exit 2 and name the file and `reason`; the file is
/// byte-identical afterwards.
fn refused(store: &Path, reason: &str, list_reason: &str) {
    let before = fs::read(store).unwrap();
    let name = store.file_name().unwrap().to_str().unwrap();
    let o = run_once(&[&scenario("activity-mass-destruction")], store);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: {e}");
    assert!(e.contains(name) && e.contains(reason), "{name}: {e}");
    assert!(!e.contains("following"), "refused before any source: {e}");
    let o = list(store);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: {e}");
    assert!(e.contains(name) && e.contains(list_reason), "{name}: {e}");
    let o = keibi()
        .args(["findings", "ack", "0123", "--store"])
        .arg(store)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
    assert!(stderr(&o).contains(list_reason), "{name}: {}", stderr(&o));
    assert_eq!(fs::read(store).unwrap(), before, "{name} left as it was");
    // A `-wal` left beside it would be read as part of it next time.
    let wal = beside(store, "-wal");
    assert!(
        !wal.exists() || fs::metadata(&wal).unwrap().len() == 0,
        "{name}: nothing written to a WAL"
    );
}

#[test]
fn damaged_stores_are_refused_untouched_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = d.join("good.db");
    real_store(&good);
    let bytes = fs::read(&good).unwrap();
    let pages = bytes.len() / 4096;
    assert!(pages >= 8, "{pages} pages");

    // Random bytes (a fixed generator, so a failure can be run again).
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let f = d.join("random.db");
    fs::write(&f, &random).unwrap();
    refused(&f, "not a keibi store", "not a keibi store");

    // A real store cut in half.
    let f = d.join("half.db");
    fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
    refused(&f, "the store is damaged", "damaged");

    // One page in the middle overwritten, header intact.
    let f = d.join("page.db");
    let mut damaged = bytes.clone();
    let at = pages / 2 * 4096;
    for (i, b) in damaged[at..at + 4096].iter_mut().enumerate() {
        *b = (i * 131 % 251) as u8;
    }
    fs::write(&f, &damaged).unwrap();
    let o = run_once(&[&scenario("activity-mass-destruction")], &f);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("page.db: the store is damaged"), "{e}");
    assert!(
        e.contains("restore it from a backup or move it away"),
        "says what to do: {e}"
    );
    assert_eq!(fs::read(&f).unwrap(), damaged, "never repaired by deleting");
    assert!(d.join("good.db").exists());
}

#[test]
fn foreign_files_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // Another application's database, in rollback-journal mode (a WAL switch would
    // rewrite its header), with a table of keibi's name in another shape.
    let other = d.join("other.db");
    let c = rusqlite::Connection::open(&other).unwrap();
    c.execute_batch(
        "CREATE TABLE findings (name TEXT, price INTEGER); INSERT INTO findings VALUES ('x', 1);",
    )
    .unwrap();
    drop(c);
    refused(&other, "not a keibi store", "not a keibi store");

    // One with its own application id.
    let marked = d.join("marked.db");
    let c = rusqlite::Connection::open(&marked).unwrap();
    c.execute_batch("PRAGMA application_id = 1234; CREATE TABLE t (x);")
        .unwrap();
    drop(c);
    refused(&marked, "another application", "another application");

    // keibi's mark and schema number over other tables.
    let marked = d.join("impostor.db");
    let c = rusqlite::Connection::open(&marked).unwrap();
    c.execute_batch(
        "CREATE TABLE findings (name TEXT); PRAGMA application_id = 1262831938; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(c);
    refused(&marked, "carries keibi's mark but lacks", "lacks");

    // A keibi store from a newer keibi, in rollback mode: not migrated, not written.
    let newer = d.join("newer.db");
    real_store(&newer);
    let c = rusqlite::Connection::open(&newer).unwrap();
    c.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA user_version = 42;")
        .unwrap();
    drop(c);
    refused(
        &newer,
        "written by a newer keibi (store schema 42",
        "newer keibi",
    );

    // A text file.
    let text = d.join("notes.txt");
    fs::write(&text, "keibi.db is where the findings go\n".repeat(10)).unwrap();
    refused(&text, "not a keibi store", "not a keibi store");

    // A directory, and a file in a directory that does not exist.
    let o = run_once(&[&scenario("activity-mass-destruction")], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
    let o = list(d);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
    let missing = d.join("nodir/keibi.db");
    let o = run_once(&[&scenario("activity-mass-destruction")], &missing);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("nodir/keibi.db: the directory")
            && stderr(&o).contains("does not exist"),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("nodir").exists(), "no directory made");
}

#[test]
fn read_only_stores_refuse_the_daemon_and_still_list() {
    let dir = open_tempdir();
    let d = dir.path();
    if is_root() {
        eprintln!("running as root: the refused commands run as nobody (uid {NOBODY})");
    }

    // The file is read-only (mode 0444), its directory writable.
    let sub = d.join("file");
    fs::create_dir(&sub).unwrap();
    let store = sub.join("keibi.db");
    let want = real_store(&store);
    give(&sub);
    give(&store);
    chmod(&store, 0o444);
    let before = fs::read(&store).unwrap();
    let mut run = bound(keibi());
    run.arg("run")
        .arg(scenario("activity-mass-destruction"))
        .arg("--store")
        .arg(&store)
        .arg("--once");
    let o = run.output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("keibi.db: the store is read-only here"),
        "{}",
        stderr(&o)
    );
    let mut ls = bound(keibi());
    ls.args(["findings", "list", "--all", "--format", "jsonl", "--store"])
        .arg(&store);
    let o = ls.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(summarize(&o.stdout), want, "read commands work");
    let id = want.keys().next().unwrap().clone();
    let mut ack = bound(keibi());
    ack.args(["findings", "ack", &id, "--store"]).arg(&store);
    let o = ack.output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("read-only"), "{}", stderr(&o));
    assert_eq!(fs::read(&store).unwrap(), before);

    // The file is writable, its directory not (SQLite cannot make `-wal`/`-shm`).
    let sub = d.join("dir");
    fs::create_dir(&sub).unwrap();
    let store = sub.join("keibi.db");
    let want = real_store(&store);
    give(&sub);
    give(&store);
    chmod(&sub, 0o555);
    let before = fs::read(&store).unwrap();
    let mut run = bound(keibi());
    run.arg("run")
        .arg(scenario("activity-mass-destruction"))
        .arg("--store")
        .arg(&store)
        .arg("--once");
    let o = run.output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("keibi.db: the store is read-only here"),
        "{}",
        stderr(&o)
    );
    let mut ls = bound(keibi());
    ls.args(["findings", "list", "--all", "--format", "jsonl", "--store"])
        .arg(&store);
    let o = ls.output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "read without -shm: {}",
        stderr(&o)
    );
    assert_eq!(summarize(&o.stdout), want);
    // The same without the empty `-wal` and `-shm` that root's listing left.
    chmod(&sub, 0o755);
    fs::remove_file(beside(&store, "-wal")).unwrap();
    fs::remove_file(beside(&store, "-shm")).unwrap();
    chmod(&sub, 0o555);
    let o = ls.output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "read without -shm: {}",
        stderr(&o)
    );
    assert_eq!(summarize(&o.stdout), want);
    assert!(!beside(&store, "-wal").exists() && !beside(&store, "-shm").exists());
    assert_eq!(fs::read(&store).unwrap(), before);
    chmod(&sub, 0o755);
}

fn wait_log(log: &Path, what: &str, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if fs::read_to_string(log).unwrap_or_default().contains(what) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[test]
fn a_second_daemon_on_the_same_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = d.join("keibi.db");
    let want = real_store(&store);
    let log = d.join("daemon.log");
    let mut first = keibi()
        .arg("run")
        .arg(scenario("activity-mass-destruction"))
        .arg("--store")
        .arg(&store)
        .stdin(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    assert!(
        wait_log(&log, "following", Duration::from_secs(60)),
        "{}",
        fs::read_to_string(&log).unwrap_or_default()
    );
    let o = run_once(&[&scenario("activity-mass-destruction")], &store);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("keibi.db: another keibi run is using this store"),
        "{}",
        stderr(&o)
    );
    // Reading while the daemon holds the WAL works.
    assert_eq!(stored(&store), want);
    Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(wait_exit(&mut first, Duration::from_secs(30)), Some(0));
    // The lock went with the process.
    let o = run_once(&[&scenario("activity-mass-destruction")], &store);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stored(&store), want, "nothing counted twice");
}

/// Settings files with wrong types: `keibi run --config` and `keibi config check`
/// say `file:line:column: reason`; run exits 2 and creates no store.
#[test]
fn wrong_settings_stop_the_daemon_before_the_store() {
    let dir = open_tempdir();
    let d = dir.path();
    let log = brute_force_log();
    let log = log.to_str().unwrap();
    let cases: &[(&str, String, &str)] = &[
        (
            "list.yaml",
            format!("sources:\n  inputs:\n    - path: {log}\n  poll_interval: [1, 2]\n"),
            "list.yaml:4:18: sources.poll_interval: invalid type: sequence",
        ),
        (
            "unknown.yaml",
            format!("sources:\n  inputs:\n    - path: {log}\n  pol_interval: 1s\n"),
            "unknown.yaml:4:3: sources: unknown key `pol_interval`: did you mean `poll_interval`?",
        ),
        (
            "negative.yaml",
            format!("sources:\n  inputs:\n    - path: {log}\n  poll_interval: -5s\n"),
            "negative.yaml:4:18: sources.poll_interval: \"-5s\" is not a duration",
        ),
        (
            "count.yaml",
            "login:\n  brute_force_failures: -3\n".into(),
            "count.yaml:2:25: login.brute_force_failures: invalid type: integer `-3`",
        ),
        (
            "bomb.yaml",
            {
                let mut s =
                    String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
                for (n, p) in ["b", "c", "d", "e", "f", "g", "h", "i"]
                    .iter()
                    .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
                {
                    s.push_str(&format!(
                        "{n}: &{n} [{}]\n",
                        vec![format!("*{p}"); 9].join(",")
                    ));
                }
                s
            },
            "bomb.yaml:1:1: aliases (*name) and anchors (&name) are not allowed",
        ),
    ];
    for (name, text, want) in cases {
        let file = d.join(name);
        fs::write(&file, text).unwrap();
        let store = d.join("keibi.db");
        let started = Instant::now();
        let o = keibi()
            .current_dir(d)
            .args(["run", "--config", name, "--store"])
            .arg(&store)
            .arg("--once")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{name}: {}", stderr(&o));
        assert!(!store.exists(), "{name}: no store created");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{name}: bounded"
        );
        let o = keibi()
            .current_dir(d)
            .args(["config", "check", name])
            .output()
            .unwrap();
        // `config check` exits 1 for a file with problems (the check failed), 2
        // when it cannot read the file at all.
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(want),
            "{name}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }

    // Unreadable: a directory, a missing file, a file without read permission.
    let secret = d.join("secret.yaml");
    fs::write(&secret, "login:\n  brute_force_failures: 5\n").unwrap();
    chmod(&secret, 0o000);
    for (name, why) in [
        (".", "directory"),
        ("missing.yaml", "No such file"),
        ("secret.yaml", "Permission denied"),
    ] {
        let store = d.join("keibi.db");
        let mut c = bound(keibi());
        c.current_dir(d)
            .args(["run", "--config", name, "--store"])
            .arg(&store);
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(name) && stderr(&o).contains(why),
            "{name}: {}",
            stderr(&o)
        );
        assert!(!store.exists(), "{name}: no store created");
        let mut c = bound(keibi());
        c.current_dir(d).args(["config", "check", name]);
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
    }
}

/// Whether this machine lets an unprivileged process mount a tmpfs in a user
/// namespace.
fn user_namespaces() -> bool {
    Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `script` in a user and mount namespace with a 1 MiB tmpfs at `DIR/m`; the
/// daemon's store is `m/k.db`. Returns the child (the test appends to the log while
/// it runs).
fn in_namespace(dir: &Path, script: &str) -> Child {
    fs::create_dir(dir.join("m")).unwrap();
    Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg(format!(
            "set -u\nmount -t tmpfs -o size=1m tmpfs m || exit 99\n{script}"
        ))
        .current_dir(dir)
        .env("K", env!("CARGO_BIN_EXE_keibi"))
        .stdin(Stdio::null())
        .stdout(fs::File::create(dir.join("script.out")).unwrap())
        .stderr(fs::File::create(dir.join("script.err")).unwrap())
        .spawn()
        .unwrap()
}

/// Waits in the script for `what` in `daemon.log` (30 s at most).
const WAIT_LOG: &str = r#"wait_log() { i=0; while ! grep -q "$1" daemon.log; do i=$((i+1)); [ $i -gt 600 ] && { echo "timeout: $1"; exit 98; }; sleep 0.05; done; }
wait_file() { i=0; while [ ! -e "$1" ]; do i=$((i+1)); [ $i -gt 600 ] && { echo "timeout: $1"; exit 98; }; sleep 0.05; done; }
"#;

/// The brute-force log in two parts: the first makes the finding, the second grows
/// it.
fn split_attack() -> (Vec<u8>, Vec<u8>) {
    let text = fs::read(brute_force_log()).unwrap();
    let cut = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
        .nth(215)
        .unwrap();
    (text[..cut].to_vec(), text[cut..].to_vec())
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

/// The address a daemon's text log says it serves on.
fn served_at(log: &str) -> std::net::SocketAddr {
    let line = log
        .lines()
        .find_map(|l| l.split_once("serving http://"))
        .unwrap_or_else(|| panic!("no serving line:\n{log}"))
        .1;
    line.split('/').next().unwrap().parse().unwrap()
}

/// A GET over a plain TCP socket: status code and body.
fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).expect("response");
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {text}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

/// A sample's value in Prometheus text (a series without labels).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {series}:\n{text}"))
}

/// A real full disk under a following daemon: the batch is held and retried, no
/// checkpoint moves, `/healthz` answers 503 `store-failing` naming the full disk
/// while the batch is held and 200 once it is in, and once space is back the store
/// holds every finding exactly once. `keibi findings ack` on the full disk fails clearly and changes nothing.
#[test]
fn a_full_disk_holds_the_batch_until_space_returns() {
    if !user_namespaces() {
        eprintln!("skipped: user namespaces are not allowed here, no tmpfs to fill");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (first, rest) = split_attack();
    let log = d.join("pg.log");
    fs::write(&log, &first).unwrap();
    let mut child = in_namespace(
        d,
        &format!(
            r#"{WAIT_LOG}
"$K" run pg.log --store m/k.db --listen 127.0.0.1:0 2> daemon.log &
pid=$!
wait_log "finding new"
sleep 0.5
dd if=/dev/zero of=m/fill bs=4k 2>/dev/null
touch filled
wait_log "disk is full"
touch full
wait_file checked
id=$("$K" findings --store m/k.db list --format jsonl | sed -n 's/^{{"id":"\([0-9a-f]*\)".*/\1/p' | head -1)
"$K" findings --store m/k.db show "$id" --format json > before.json
"$K" findings --store m/k.db ack "$id" 2> ack.err; echo $? > ack.rc
"$K" findings --store m/k.db show "$id" --format json > after.json
rm m/fill
wait_log "takes writes again"
touch freed
wait_file stop
kill -TERM $pid; wait $pid; echo $? > daemon.rc
cp m/k.db out.db
"#
        ),
    );
    let file = |n: &str| d.join(n);
    let wait = |n: &str| {
        let start = Instant::now();
        while !file(n).exists() {
            if start.elapsed() > Duration::from_secs(60) {
                panic!(
                    "no {n}: {}{}\n{}",
                    fs::read_to_string(file("script.out")).unwrap_or_default(),
                    fs::read_to_string(file("script.err")).unwrap_or_default(),
                    fs::read_to_string(file("daemon.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait("filled");
    append(&log, &rest);
    // While the batch is held, /healthz says so at once (not after the 60 s a
    // stalled loop takes), and /metrics counts the refused tries.
    wait("full");
    let addr = served_at(&fs::read_to_string(file("daemon.log")).unwrap());
    let (code, body) = http_get(addr, "/healthz");
    assert_eq!(code, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "store-failing", "{body}");
    assert!(
        v["reason"]
            .as_str()
            .is_some_and(|r| r.contains("m/k.db: the disk is full")),
        "{body}"
    );
    assert!(v["since"].is_string(), "{body}");
    let (code, text) = http_get(addr, "/metrics");
    assert_eq!(code, 200);
    assert!(text.contains("\nkeibi_store_failing 1\n"), "{text}");
    let failed = sample(&text, "keibi_commits_failed_total");
    assert!(failed >= 1.0, "{text}");
    fs::write(file("checked"), b"").unwrap();
    wait("freed");
    // The held batch went in: healthy again, the gauge down, the count kept.
    let (code, body) = http_get(addr, "/healthz");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    let (_, text) = http_get(addr, "/metrics");
    assert!(text.contains("\nkeibi_store_failing 0\n"), "{text}");
    assert!(
        sample(&text, "keibi_commits_failed_total") >= failed,
        "{text}"
    );
    // Let the daemon catch up with everything, then stop it.
    let want = scan_in(d, "pg.log");
    std::thread::sleep(Duration::from_secs(2));
    fs::write(file("stop"), b"").unwrap();
    let code = wait_exit(&mut child, Duration::from_secs(60));
    let daemon_log = fs::read_to_string(file("daemon.log")).unwrap_or_default();
    assert_eq!(
        code,
        Some(0),
        "{}{}\n{daemon_log}",
        fs::read_to_string(file("script.out")).unwrap_or_default(),
        fs::read_to_string(file("script.err")).unwrap_or_default()
    );
    assert!(
        daemon_log.contains("m/k.db: the disk is full; nothing was written")
            && daemon_log.contains("the batch is held"),
        "{daemon_log}"
    );
    assert_eq!(fs::read_to_string(file("daemon.rc")).unwrap().trim(), "0");
    // The ack on the full disk.
    let ack = fs::read_to_string(file("ack.err")).unwrap();
    assert_eq!(
        fs::read_to_string(file("ack.rc")).unwrap().trim(),
        "2",
        "{ack}"
    );
    assert!(ack.contains("m/k.db: the disk is full"), "{ack}");
    // (The WAL's bytes may differ: the daemon's retries write frames past its last
    // commit, which no reader sees. What is committed is compared.)
    let before = fs::read_to_string(file("before.json")).unwrap();
    let after = fs::read_to_string(file("after.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&before).unwrap();
    assert_eq!(v["status"], "new", "{before}");
    assert!(
        before == after,
        "the failed ack changed nothing:\n{before}\n{after}"
    );
    // Every finding exactly once, as one scan of the whole log says.
    assert_eq!(stored(&file("out.db")), want, "{daemon_log}");
}

/// Stopped while the disk is still full: exit 3, the store keeps its last commit
/// (checkpoints included), and the next run reads the rest again: nothing lost,
/// nothing doubled.
#[test]
fn stopped_on_a_full_disk_the_next_start_reads_the_rest_again() {
    if !user_namespaces() {
        eprintln!("skipped: user namespaces are not allowed here, no tmpfs to fill");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (first, rest) = split_attack();
    let log = d.join("pg.log");
    fs::write(&log, &first).unwrap();
    let mut child = in_namespace(
        d,
        &format!(
            r#"{WAIT_LOG}
"$K" run pg.log --store m/k.db 2> daemon.log &
pid=$!
wait_log "finding new"
sleep 0.5
dd if=/dev/zero of=m/fill bs=4k 2>/dev/null
touch filled
wait_log "disk is full"
kill -TERM $pid; wait $pid; echo $? > daemon.rc
rm m/fill
"$K" findings --store m/k.db list --all --format jsonl > stopped.jsonl
"$K" run pg.log --store m/k.db --once 2> again.log; echo $? > again.rc
cp m/k.db out.db
"#
        ),
    );
    let start = Instant::now();
    while !d.join("filled").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{}",
            fs::read_to_string(d.join("script.out")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    append(&log, &rest);
    let code = wait_exit(&mut child, Duration::from_secs(90));
    let daemon_log = fs::read_to_string(d.join("daemon.log")).unwrap_or_default();
    assert_eq!(
        code,
        Some(0),
        "{}\n{daemon_log}",
        fs::read_to_string(d.join("script.out")).unwrap_or_default()
    );
    assert_eq!(
        fs::read_to_string(d.join("daemon.rc")).unwrap().trim(),
        "3",
        "{daemon_log}"
    );
    assert!(
        daemon_log.contains("m/k.db: the disk is full")
            && daemon_log.contains("the next start reads the rest again"),
        "{daemon_log}"
    );
    // What was stored at the stop is the first part's finding, short of what the
    // whole log makes of it: the held batch was not written.
    let stopped = summarize(&fs::read(d.join("stopped.jsonl")).unwrap());
    let whole = scan_in(d, "pg.log");
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    let (id, f) = stopped.iter().next().unwrap();
    assert_eq!(f.0, "CredentialAccess:RDS/BruteForce");
    assert!(f.1 > 0 && f.1 < whole[id].1, "{f:?} vs {:?}", whole[id]);
    assert_eq!(
        fs::read_to_string(d.join("again.rc")).unwrap().trim(),
        "0",
        "{}",
        fs::read_to_string(d.join("again.log")).unwrap_or_default()
    );
    assert_eq!(stored(&d.join("out.db")), whole);
}

/// Started on a full disk: `keibi run` exits 2 saying so (SQLite cannot give the
/// `-shm` its pages), the store's file is byte-identical, `findings list` still
/// reads it, and once space is back a run stores every finding exactly once.
#[test]
fn started_on_a_full_disk_the_daemon_refuses_and_reading_still_works() {
    if !user_namespaces() {
        eprintln!("skipped: user namespaces are not allowed here, no tmpfs to fill");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (first, rest) = split_attack();
    let log = d.join("pg.log");
    fs::write(&log, &first).unwrap();
    fs::write(d.join("part2.log"), &rest).unwrap();
    let mut child = in_namespace(
        d,
        r#""$K" run pg.log --store m/k.db --once 2> once1.log; echo $? > once1.rc
cat part2.log >> pg.log
dd if=/dev/zero of=m/fill bs=4k 2>/dev/null
cp m/k.db before.db
"$K" run pg.log --store m/k.db --once 2> full.log; echo $? > full.rc
"$K" findings --store m/k.db list --all --format jsonl > full.jsonl 2> list.err; echo $? > list.rc
cp m/k.db after.db
rm m/fill
"$K" run pg.log --store m/k.db --once 2> again.log; echo $? > again.rc
cp m/k.db out.db
"#,
    );
    assert_eq!(wait_exit(&mut child, Duration::from_secs(90)), Some(0));
    let read = |n: &str| fs::read_to_string(d.join(n)).unwrap_or_default();
    assert_eq!(read("once1.rc").trim(), "0", "{}", read("once1.log"));
    assert_eq!(read("full.rc").trim(), "2", "{}", read("full.log"));
    assert!(
        read("full.log").contains("m/k.db: the disk is full; nothing was written"),
        "{}",
        read("full.log")
    );
    assert!(fs::read(d.join("before.db")).unwrap() == fs::read(d.join("after.db")).unwrap());
    assert_eq!(read("list.rc").trim(), "0", "{}", read("list.err"));
    let listed = summarize(read("full.jsonl").as_bytes());
    assert_eq!(listed.len(), 1, "the first part's finding: {listed:?}");
    assert_eq!(read("again.rc").trim(), "0", "{}", read("again.log"));
    assert_eq!(stored(&d.join("out.db")), scan_in(d, "pg.log"));
}
