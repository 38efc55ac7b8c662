//! The dashboard in a real browser: the real `keibi` binary serves a store that
//! `keibi run --once` filled from the demo's week of logs (real findings, evidence
//! and timeline), and node scripts in `tests/browser/` drive Debian's Chromium
//! through playwright-core against it: the Slack-link story to a resolved finding,
//! the filters and paging, hostile payloads, axe-core, and the screenshots of the
//! docs.
//!
//! Needs node, `tests/browser/node_modules` (`npm ci` there; `scripts/test.sh`
//! does it and sets `KEIBI_BROWSER_TESTS`) and Chromium (`KEIBI_CHROMIUM`, else
//! `/usr/bin/chromium`). Without them the tests skip, or fail under
//! `KEIBI_REQUIRE_SERVERS=1`.
//!
//! `KEIBI_SCREENSHOTS=$PWD/docs/images cargo test -p keibi --test dashboard_browser
//! screenshots` refreshes the docs' screenshots.

mod common;

use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

const WEEK_ENDING: &str = "2026-11-29";
/// The responder every script logs in as, and a second one whose language is
/// Japanese.
const USER: &str = "kim";
const USER_JA: &str = "yuki";
const PASSWORD: &str = "correct horse battery staple";

fn keibi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keibi"));
    c.env_remove("KEIBI_LANG").env("LANG", "C.UTF-8");
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn ok(o: &Output, what: &str) {
    assert_eq!(o.status.code(), Some(0), "{what}: {}", common::describe(o));
}

// ------------------------------------------------------------------ the tools

/// node, the directory of the scripts with their node_modules, and Chromium.
struct Tools {
    node: PathBuf,
    dir: PathBuf,
    chromium: PathBuf,
}

fn tools() -> Option<Tools> {
    let dir = std::env::var_os("KEIBI_BROWSER_TESTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("tests/browser"));
    let chromium = std::env::var_os("KEIBI_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let has_dashboard = keibi()
        .args(["dashboard", "--help"])
        .output()
        .is_ok_and(|o| o.status.success());
    let missing = if !has_dashboard {
        Some("this keibi has no `dashboard` command".to_string())
    } else if common::which("node").is_none() {
        Some("node is not installed (apt-get install nodejs)".to_string())
    } else if !dir.join("node_modules/playwright-core").is_dir()
        || !dir.join("node_modules/axe-core").is_dir()
    {
        Some(format!(
            "{} has no node_modules (run npm ci there)",
            dir.display()
        ))
    } else if !common::is_executable(&chromium) {
        Some(format!(
            "{} is missing (apt-get install chromium)",
            chromium.display()
        ))
    } else {
        None
    };
    if let Some(why) = missing {
        let msg = format!("the browser tests cannot run: {why}; scripts/test.sh installs them");
        if common::servers_required() {
            panic!("KEIBI_REQUIRE_SERVERS=1 but {msg}");
        }
        eprintln!("SKIPPED: {msg}");
        return None;
    }
    Some(Tools {
        node: common::which("node").unwrap(),
        dir,
        chromium,
    })
}

impl Tools {
    /// Runs `tests/browser/<script>` against `dash`; its output, after checking it
    /// exited 0.
    fn run(&self, script: &str, dash: &Dashboard, env: &[(&str, &str)]) -> String {
        let out_dir = dash.dir.join("out");
        fs::create_dir_all(&out_dir).unwrap();
        let mut cmd = Command::new(&self.node);
        cmd.current_dir(&self.dir)
            .arg(self.dir.join(script))
            .env("KEIBI_URL", &dash.url)
            .env("KEIBI_USER", USER)
            .env("KEIBI_USER_JA", USER_JA)
            .env("KEIBI_PASSWORD", PASSWORD)
            .env("KEIBI_CHROMIUM", &self.chromium)
            .env("KEIBI_OUT", &out_dir)
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let o = cmd.output().expect("node runs");
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        eprintln!(
            "{script} ({:.1} s):\n{stdout}{}",
            started.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            o.status.success(),
            "{script} failed ({}):\n{stdout}\n{}\nthe dashboard said:\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr),
            fs::read_to_string(dash.dir.join("dashboard.log")).unwrap_or_default()
        );
        stdout
    }
}

// ------------------------------------------------------------------ the store

/// The demo's week, followed by `keibi run --once` into a store, once per test run
/// and shared by every test here (a file lock and a stamp naming the run, as
/// `demo.rs` does). Each test copies the store.
fn demo_store() -> &'static Path {
    static STORE: OnceLock<PathBuf> = OnceLock::new();
    STORE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        fs::create_dir_all(root).unwrap();
        let lock = fs::File::create(root.join("dashboard-demo.lock")).unwrap();
        lock.lock().unwrap();
        let run = std::env::var("NEXTEST_RUN_ID")
            .unwrap_or_else(|_| format!("pid {}", std::process::id()));
        let stamp = root.join("dashboard-demo.stamp");
        let dir = root.join("dashboard-demo");
        if fs::read_to_string(&stamp).ok().as_deref() != Some(run.as_str()) {
            let _ = fs::remove_file(&stamp);
            let dir = scratch("dashboard-demo");
            ok(
                &keibi()
                    .args(["--color", "never", "demo", "-q", "--week-ending", WEEK_ENDING])
                    .arg("--write-to")
                    .arg(dir.join("week"))
                    .output()
                    .unwrap(),
                "keibi demo",
            );
            fs::write(
                dir.join("keibi.yaml"),
                "sources:\n  inputs:\n    - dir: week/logs\n\
                 lists:\n  tor: [week/lists/tor-exit-addresses]\n  threat: [week/lists/threats.netset]\n\
                 store:\n  path: keibi.db\n",
            )
            .unwrap();
            ok(
                &keibi()
                    .current_dir(&dir)
                    .args(["-q", "run", "--config", "keibi.yaml", "--once"])
                    .output()
                    .unwrap(),
                "keibi run --once over the demo's week",
            );
            fs::write(&stamp, &run).unwrap();
        }
        lock.unlock().unwrap();
        dir.join("keibi.db")
    })
}

/// A copy of `store` (with its write-ahead log, if any) in `dir`.
fn copy_store(store: &Path, dir: &Path) -> PathBuf {
    let to = dir.join("keibi.db");
    fs::copy(store, &to).unwrap();
    for ext in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{ext}", store.display()));
        if from.exists() {
            fs::copy(&from, format!("{}{ext}", to.display())).unwrap();
        }
    }
    to
}

/// `keibi findings import` of what `node tests/browser/findings.mjs <args>` prints.
fn import_generated(tools: &Tools, store: &Path, args: &[&str]) {
    let file = store.with_extension("import.jsonl");
    let o = Command::new(&tools.node)
        .arg(tools.dir.join("findings.mjs"))
        .args(args)
        .stdout(fs::File::create(&file).unwrap())
        .output()
        .unwrap();
    ok(&o, "node findings.mjs");
    ok(
        &keibi()
            .arg("findings")
            .arg("--store")
            .arg(store)
            .arg("import")
            .arg(&file)
            .output()
            .unwrap(),
        "keibi findings import",
    );
    let _ = fs::remove_file(&file);
}

/// The users the scripts log in as, through `keibi users add`.
fn add_users(store: &Path) {
    for (name, lang) in [(USER, "en"), (USER_JA, "ja")] {
        let mut c = keibi();
        c.args(["users", "add", name, "--role", "responder", "--lang", lang])
            .arg("--store")
            .arg(store)
            .arg("--password-stdin");
        let o = common::output_with_input(&mut c, &format!("{PASSWORD}\n"));
        ok(&o, "keibi users add");
    }
}

fn findings(store: &Path) -> Vec<Value> {
    let o = keibi()
        .arg("findings")
        .arg("--store")
        .arg(store)
        .args(["list", "--all", "--format", "jsonl", "--limit", "100000"])
        .output()
        .unwrap();
    ok(&o, "keibi findings list");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of_type<'a>(all: &'a [Value], ty: &str) -> &'a Value {
    all.iter()
        .find(|f| f["type"] == ty)
        .unwrap_or_else(|| panic!("no {ty} finding in the store"))
}

// ------------------------------------------------------------------ the server

/// `keibi dashboard` over a store, on a free loopback port; stopped when dropped.
struct Dashboard {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Dashboard {
    fn start(store: &Path, dir: &Path) -> Dashboard {
        let port = common::free_port();
        let log = fs::File::create(dir.join("dashboard.log")).unwrap();
        let child = keibi()
            .arg("dashboard")
            .arg("--store")
            .arg(store)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("keibi dashboard starts");
        let mut d = Dashboard {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir: dir.to_path_buf(),
        };
        let until = Instant::now() + common::WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = d.child.try_wait() {
                panic!(
                    "keibi dashboard exited ({status}): {}",
                    fs::read_to_string(dir.join("dashboard.log")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < until, "keibi dashboard did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        d
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test's directory with a copy of the demo store and its users.
fn setup(name: &str) -> Option<(Tools, PathBuf, PathBuf)> {
    let tools = tools()?;
    let dir = scratch(name);
    let store = copy_store(demo_store(), &dir);
    add_users(&store);
    Some((tools, dir, store))
}

// ------------------------------------------------------------------ the tests

/// Issue 19's "done when": from a Slack link to a resolved finding, with the
/// timeline explaining what happened; the CLI sees the browser's resolution.
#[test]
fn from_a_slack_link_to_a_resolved_finding() {
    let Some((tools, dir, store)) = setup("dashboard-story") else {
        return;
    };
    let all = findings(&store);
    let brute = of_type(&all, "CredentialAccess:RDS/BruteForce");
    let id = brute["id"].as_str().unwrap();
    let title = brute["title"].as_str().unwrap();
    let ip = brute["actor"]["ip"].as_str().unwrap();
    assert_eq!(ip, "198.51.100.23", "the demo's brute force");
    let dash = Dashboard::start(&store, &dir);
    let note = "password of postgres rotated, 198.51.100.23 blocked";
    let out = tools.run(
        "story.mjs",
        &dash,
        &[
            ("KEIBI_FINDING", id),
            ("KEIBI_TITLE", title),
            ("KEIBI_ACTOR_IP", ip),
            ("KEIBI_NOTE", note),
            // What the attacker did once in (the demo's story): the timeline of
            // the brute force's address must show it.
            ("KEIBI_TIMELINE_TEXT", "GRANT rds_superuser TO pgsync"),
        ],
    );
    assert!(out.contains("ok story done"), "{out}");

    let o = keibi()
        .arg("findings")
        .arg("--store")
        .arg(&store)
        .args(["show", id, "--format", "json"])
        .output()
        .unwrap();
    ok(&o, "keibi findings show");
    let shown: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(shown["status"], "resolved", "{shown}");
    assert_eq!(shown["status_by"], USER, "{shown}");
    assert_eq!(shown["status_note"], note, "{shown}");
}

/// Filters narrow the table and live in the URL; paging shows other rows. The
/// demo's 17 findings and 300 more from the filler, so there is a second page;
/// the demo's brute force resolved through the CLI, the only resolved finding.
#[test]
fn filters_and_paging() {
    let Some((tools, dir, store)) = setup("dashboard-filters") else {
        return;
    };
    import_generated(&tools, &store, &["fill", "300", "7"]);
    let all = findings(&store);
    let id = of_type(&all, "CredentialAccess:RDS/BruteForce")["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &keibi()
            .arg("findings")
            .arg("--store")
            .arg(&store)
            .args(["resolve", &id, "--by", "lee", "--note", "known"])
            .output()
            .unwrap(),
        "keibi findings resolve",
    );
    let dash = Dashboard::start(&store, &dir);
    let out = tools.run("filters.mjs", &dash, &[("KEIBI_RESOLVED", &id)]);
    assert!(out.contains("ok filters done"), "{out}");
}

/// A store full of payloads — imported findings with one in every field, and an
/// attack log whose user names, client name and statements are payloads, followed
/// by `keibi run --once` so the evidence and timeline carry them — renders inert
/// on every page.
#[test]
fn hostile_payloads_render_inert() {
    let Some((tools, dir, store)) = setup("dashboard-hostile") else {
        return;
    };
    import_generated(&tools, &store, &["hostile"]);
    let logs = dir.join("hostile/shop-hostile/error");
    fs::create_dir_all(&logs).unwrap();
    let o = Command::new(&tools.node)
        .arg(tools.dir.join("findings.mjs"))
        .arg("hostile-log")
        .stdout(fs::File::create(logs.join("postgresql.log.2026-11-26-04")).unwrap())
        .output()
        .unwrap();
    ok(&o, "node findings.mjs hostile-log");
    ok(
        &keibi()
            .args(["-q", "run"])
            .arg(dir.join("hostile"))
            .arg("--store")
            .arg(&store)
            .arg("--once")
            .output()
            .unwrap(),
        "keibi run --once over the hostile log",
    );
    let all = findings(&store);
    assert!(
        all.iter().any(|f| f["resource"]["id"] == "shop-hostile"
            && f["type"] == "Persistence:RDS/AccountCreated"),
        "the hostile log's findings are stored"
    );
    let dash = Dashboard::start(&store, &dir);
    let out = tools.run("hostile.mjs", &dash, &[]);
    assert!(out.contains("ok hostile done"), "{out}");
}

/// axe-core finds nothing serious or critical on the main pages, in English and
/// Japanese.
#[test]
fn the_main_pages_pass_axe() {
    let Some((tools, dir, store)) = setup("dashboard-axe") else {
        return;
    };
    let all = findings(&store);
    let id = of_type(&all, "CredentialAccess:RDS/BruteForce")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dash = Dashboard::start(&store, &dir);
    let out = tools.run("axe.mjs", &dash, &[("KEIBI_FINDING", &id)]);
    assert!(out.contains("ok axe done"), "{out}");
}

/// The screenshots of the docs, 1280×800 PNGs of a bounded size.
#[test]
fn screenshots() {
    let Some((tools, dir, store)) = setup("dashboard-screenshots") else {
        return;
    };
    let all = findings(&store);
    let id = of_type(
        &all,
        "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dash = Dashboard::start(&store, &dir);
    let out = tools.run("screens.mjs", &dash, &[("KEIBI_FINDING", &id)]);
    assert!(out.contains("ok screenshots done"), "{out}");
    let shots = std::env::var_os("KEIBI_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("out"));
    for name in [
        "login",
        "overview",
        "findings",
        "finding",
        "finding-timeline",
        "actor",
        "overview-ja",
    ] {
        let p = shots.join(format!("dashboard-{name}.png"));
        let bytes = fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG",
            p.display()
        );
        // The IHDR chunk: width and height.
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        assert_eq!((w, h), (1280, 800), "{}", p.display());
        assert!(
            bytes.len() < 400 << 10,
            "{}: {} bytes",
            p.display(),
            bytes.len()
        );
    }
    let _ = std::io::stderr().flush();
}
