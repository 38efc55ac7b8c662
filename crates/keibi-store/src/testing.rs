//! For tests (here and in other crates): a PostgreSQL store to run the same test
//! on as an SQLite one. Not part of keibi's interface.
//!
//! [`postgres_url`] gives the URL of a new, empty schema on a real PostgreSQL
//! server: the one `KEIBI_TEST_PG` names (`scripts/test.sh` starts one for the
//! whole run), else one this process starts once in a temporary directory from
//! Debian's PostgreSQL (`/usr/lib/postgresql/*/bin`), killed when the process
//! ends. Without either it returns `None` after saying why, or panics when
//! `KEIBI_REQUIRE_SERVERS=1`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The URL of a new empty schema on a test PostgreSQL server (see the module).
pub fn postgres_url() -> Option<String> {
    let base = match std::env::var("KEIBI_TEST_PG") {
        Ok(url) if !url.is_empty() => url,
        _ => server()?.clone(),
    };
    static N: AtomicU64 = AtomicU64::new(0);
    let schema = format!(
        "t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        rand_bits()
    );
    let mut client = postgres::Client::connect(&base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("the test PostgreSQL at {base}: {e}"));
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap_or_else(|e| panic!("CREATE SCHEMA {schema}: {e}"));
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-csearch_path%3D{schema}"))
}

fn rand_bits() -> u32 {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    u32::from_le_bytes(b)
}

fn unavailable(why: &str) -> Option<&'static String> {
    if std::env::var("KEIBI_REQUIRE_SERVERS").as_deref() == Ok("1") {
        panic!("KEIBI_REQUIRE_SERVERS=1 but {why}");
    }
    eprintln!("skipping the PostgreSQL half of this test: {why}");
    None
}

/// This process's server, started once.
fn server() -> Option<&'static String> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    match SERVER.get_or_init(start) {
        Ok(url) => Some(url),
        Err(why) => unavailable(why),
    }
}

fn bindir() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    })
}

/// A command run as the `postgres` user when we are root (initdb and postgres
/// refuse root), killed with its parent thread's process (`--pdeathsig`).
fn as_server_user(program: &Path) -> Command {
    let mut c = Command::new("setpriv");
    if is_root() {
        c.args(["--reuid=postgres", "--regid=postgres", "--init-groups"]);
    }
    c.args(["--pdeathsig", "KILL"]).arg(program);
    c
}

fn start() -> Result<String, String> {
    let bin =
        bindir().ok_or("no PostgreSQL server under /usr/lib/postgresql (package postgresql)")?;
    // Data directories of test processes that have ended go first.
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("keibi-store-pg-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("keibi-store-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err("running as root and cannot chown the data directory to postgres".into());
        }
    }
    let data = dir.join("data");
    let out = as_server_user(&bin.join("initdb"))
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
            "-D",
        ])
        .arg(&data)
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    // Started from a thread that never ends: `--pdeathsig` fires when the thread
    // that started the server ends, which must be the process's end.
    let (tx, rx) = std::sync::mpsc::channel();
    let postgres = bin.join("postgres");
    let log = dir.join("server.log");
    std::thread::spawn(move || {
        let log = std::fs::File::create(&log);
        let mut c = as_server_user(&postgres);
        c.arg("-D")
            .arg(&data)
            .args(["-c", "listen_addresses=127.0.0.1", "-p", &port.to_string()])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.display()))
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=300"])
            .stdin(Stdio::null());
        if let Ok(log) = log {
            if let Ok(l2) = log.try_clone() {
                c.stdout(log).stderr(l2);
            }
        }
        let r = c.spawn();
        let _ = tx.send(r.as_ref().map(|_| ()).map_err(|e| e.to_string()));
        if let Ok(mut child) = r {
            let _ = child.wait();
        }
        loop {
            std::thread::park();
        }
    });
    rx.recv()
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("postgres: {e}"))?;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        match postgres::Client::connect(&url, postgres::NoTls) {
            Ok(_) => return Ok(url),
            Err(e) if Instant::now() > until => {
                return Err(format!("the test PostgreSQL did not start: {e}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
