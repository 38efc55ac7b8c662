//! Shared pieces of the real-server tests: finding binaries, running clients,
//! waiting for logs, and running `keibi events` on what the servers wrote.
//!
//! The servers are real (the project's standard is output captured from real
//! servers, not hand-written lines), so everything here is about making them start
//! fast, on loopback, in temporary directories, and always stop.

#![allow(dead_code)] // each helper is used by one server's test or the other

pub mod daemon;
pub mod mariadb;
pub mod nats;
pub mod pgbouncer;
pub mod postgres;
pub mod rsyslog;

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a server may take to start or a log line to appear. Generous: CI
/// machines are small and busy, and the wait ends as soon as the line is there.
pub const WAIT: Duration = Duration::from_secs(60);

/// Whether a missing server must fail the test (`scripts/test.sh` and CI set it)
/// instead of skipping it (a developer without the packages installed).
pub fn servers_required() -> bool {
    std::env::var("KEIBI_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

/// A server that cannot run here: fails when servers are required, else explains
/// the skip. Returns `None` so callers can write `let Some(x) = ... else { return }`.
pub fn unavailable<T>(what: &str) -> Option<T> {
    let msg = format!(
        "{what}; run scripts/test.sh as root to install the test servers \
         (postgresql, postgresql-<major>-pgaudit, mariadb-server)"
    );
    if servers_required() {
        panic!("KEIBI_REQUIRE_SERVERS=1 but {msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// Whether this process runs as root (initdb refuses to, so PostgreSQL then runs as
/// the `postgres` system user). `/proc/self` belongs to the effective user.
pub fn is_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The first of `candidates` that is an executable file.
pub fn find_exe(candidates: &[PathBuf]) -> Option<PathBuf> {
    candidates.iter().find(|p| is_executable(p)).cloned()
}

pub fn is_executable(p: &Path) -> bool {
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

/// `name` on `PATH` (and the sbin directories, which a non-root `PATH` may lack).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from));
    find_exe(&dirs.iter().map(|d| d.join(name)).collect::<Vec<_>>())
}

/// A loopback port nobody listens on now. Another process could take it before the
/// server binds it; the servers' start-up then fails with a clear error, which is
/// rare enough on a test machine not to warrant retries.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    l.local_addr().expect("local address").port()
}

/// Runs a command to completion, with what it printed, panicking with the command
/// line when it cannot be started at all.
pub fn output(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs a command that must succeed.
pub fn check(cmd: &mut Command) -> Output {
    let out = output(cmd);
    assert!(out.status.success(), "{cmd:?} failed: {}", describe(&out));
    out
}

/// Runs a command with `input` on its standard input.
pub fn output_with_input(cmd: &mut Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_owned();
    // A writer thread: a client that prints a lot before reading all its input
    // would otherwise deadlock against us.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for client");
    let _ = writer.join();
    out
}

pub fn describe(out: &Output) -> String {
    format!(
        "{}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Waits until `path` contains `needle`, or fails after [`WAIT`] with what it has.
/// Servers write their logs asynchronously (PostgreSQL's logging collector is a
/// separate process), so a test reads them only once the last expected line is in.
pub fn wait_for_text(path: &Path, needle: &str) {
    wait_until(path, |text| text.contains(needle), &format!("{needle:?}"));
}

/// Waits until `pred` holds for the content of `path`.
pub fn wait_until(path: &Path, pred: impl Fn(&str) -> bool, what: &str) {
    let start = Instant::now();
    loop {
        let text = fs::read(path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        if pred(&text) {
            return;
        }
        if start.elapsed() > WAIT {
            panic!(
                "{} never got {what} within {:?}; it has:\n{}",
                path.display(),
                WAIT,
                tail(&text, 4000)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The end of a (log) text, for failure messages.
pub fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Opens a TCP connection and closes it without sending a byte: what a port scanner
/// or a load balancer health check does. Returns the client's port.
pub fn tcp_probe(port: u16) -> u16 {
    let s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("probe connects");
    let local = s.local_addr().expect("probe address").port();
    drop(s);
    local
}

/// What `keibi events --format jsonl --fail-on-unparsed` made of some files.
pub struct Keibi {
    pub events: Vec<Value>,
    pub stderr: String,
    pub code: Option<i32>,
    /// From the closing line `keibi: N events from F files, U unrecognized lines`.
    pub summary: (u64, u64, u64),
}

pub fn keibi_events(paths: &[&Path], extra: &[&str]) -> Keibi {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keibi"));
    cmd.args(["events", "--format", "jsonl", "--fail-on-unparsed"])
        .args(extra)
        .args(paths);
    let out = output(&mut cmd);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("keibi printed non-JSON ({e}): {l}"))
        })
        .collect();
    let summary = parse_summary(&stderr);
    Keibi {
        events,
        stderr,
        code: out.status.code(),
        summary,
    }
}

fn parse_summary(stderr: &str) -> (u64, u64, u64) {
    let last = stderr.lines().last().unwrap_or_default();
    let nums: Vec<u64> = last
        .strip_prefix("keibi: ")
        .unwrap_or_else(|| panic!("no closing summary line on stderr:\n{stderr}"))
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    assert!(
        nums.len() == 3 && last.contains(" events from ") && last.ends_with(" unrecognized lines"),
        "summary line: {last}"
    );
    (nums[0], nums[1], nums[2])
}

impl Keibi {
    /// Every line read, nothing unrecognized, exit 0: keibi reads this log completely.
    pub fn assert_complete(&self, what: &str, files: u64) {
        assert_eq!(
            self.code,
            Some(0),
            "{what}: keibi exited {:?}; stderr:\n{}",
            self.code,
            self.stderr
        );
        assert_eq!(
            self.summary.2, 0,
            "{what}: unrecognized lines:\n{}",
            self.stderr
        );
        assert_eq!(
            self.summary.1, files,
            "{what}: files read:\n{}",
            self.stderr
        );
        assert_eq!(
            self.summary.0,
            self.events.len() as u64,
            "{what}: summary count differs from the events printed"
        );
        assert!(!self.events.is_empty(), "{what}: no events at all");
    }

    /// Events come out in time order (RFC 3339 UTC with a fixed `Z` suffix but
    /// maybe differing fraction lengths, so compare parsed instants, not strings).
    pub fn assert_time_ordered(&self, what: &str) {
        let times: Vec<chrono::DateTime<chrono::FixedOffset>> = self
            .events
            .iter()
            .map(|e| {
                let t = str_field(e, "time").unwrap_or_else(|| panic!("{what}: no time: {e}"));
                chrono::DateTime::parse_from_rfc3339(t)
                    .unwrap_or_else(|err| panic!("{what}: time {t:?} is not RFC 3339: {err}"))
            })
            .collect();
        for (i, w) in times.windows(2).enumerate() {
            assert!(
                w[0] <= w[1],
                "{what}: event {} ({}) is earlier than the one before it ({})",
                i + 1,
                self.events[i + 1],
                self.events[i]
            );
        }
    }

    /// Events with this action.
    pub fn with_action<'a>(&'a self, action: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events
            .iter()
            .filter(move |e| str_field(e, "action") == Some(action))
    }

    /// The one statement event whose text (without a final `;`) is `sql`.
    pub fn statement(&self, what: &str, sql: &str) -> &Value {
        self.with_action("statement")
            .find(|e| statement_text(e).is_some_and(|t| t.trim().trim_end_matches(';') == sql))
            .unwrap_or_else(|| {
                panic!(
                    "{what}: no statement event with text {sql:?}; statements were:\n{}",
                    self.with_action("statement")
                        .map(|e| format!("  {:?}", statement_text(e).unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            })
    }

    pub fn dump(&self) -> String {
        self.events.iter().map(|e| format!("  {e}\n")).collect()
    }
}

pub fn str_field<'a>(e: &'a Value, name: &str) -> Option<&'a str> {
    e.get(name).and_then(Value::as_str)
}

pub fn statement_text(e: &Value) -> Option<&str> {
    e.get("statement")?.get("text")?.as_str()
}

pub fn statement_field<'a>(e: &'a Value, name: &str) -> Option<&'a str> {
    e.get("statement")?.get(name)?.as_str()
}

/// Saves the logs a test produced into `tests/data/captured/` when
/// `KEIBI_CAPTURE=1`, as fixtures for the parsers' unit tests.
pub fn capture(files: &[(&Path, &str)]) {
    if std::env::var("KEIBI_CAPTURE").map_or(true, |v| v != "1") {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/captured");
    fs::create_dir_all(&dir).expect("create tests/data/captured");
    for (src, name) in files {
        let dst = dir.join(name);
        fs::copy(src, &dst)
            .unwrap_or_else(|e| panic!("copy {} to captured/{name}: {e}", src.display()));
        // The servers write their logs private (0600); fixtures are for everyone.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&dst, fs::Permissions::from_mode(0o644)).expect("chmod fixture");
    }
}

/// A server's version line, for failure messages and the captured README.
pub fn version(exe: &Path) -> String {
    let out = output(Command::new(exe).arg("--version"));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// What `keibi scan --format jsonl` printed.
pub struct Scan {
    pub findings: Vec<Value>,
    pub stderr: String,
    pub code: Option<i32>,
}

/// Runs `keibi scan --format jsonl` with `args` (flags and paths).
pub fn keibi_scan(args: &[&std::ffi::OsStr]) -> Scan {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keibi"));
    cmd.args(["scan", "--format", "jsonl"]).args(args);
    let out = output(&mut cmd);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let findings = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("keibi printed non-JSON ({e}): {l}"))
        })
        .collect();
    Scan {
        findings,
        stderr,
        code: out.status.code(),
    }
}

impl Scan {
    /// Findings of this type.
    pub fn of_type<'a>(&'a self, t: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.findings
            .iter()
            .filter(move |f| str_field(f, "type") == Some(t))
    }

    /// One line per finding: type, severity, count, title.
    pub fn brief(&self) -> String {
        self.findings
            .iter()
            .map(|f| {
                format!(
                    "  {} {} x{} {}\n",
                    str_field(f, "type").unwrap_or("?"),
                    f.get("severity").unwrap_or(&Value::Null),
                    f.get("count").unwrap_or(&Value::Null),
                    str_field(f, "title").unwrap_or("?")
                )
            })
            .collect()
    }
}
