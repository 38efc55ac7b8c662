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
    Some(new_schema(&base))
}

/// A new empty schema on the server at `base`, as a URL that uses it.
fn new_schema(base: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let schema = format!(
        "t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        rand_bits()
    );
    let mut client = postgres::Client::connect(base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("the test PostgreSQL at {base}: {e}"));
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap_or_else(|e| panic!("CREATE SCHEMA {schema}: {e}"));
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}")
}

fn rand_bits() -> u32 {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    u32::from_le_bytes(b)
}

fn unavailable<T>(why: &str) -> Option<T> {
    if std::env::var("KEIBI_REQUIRE_SERVERS").as_deref() == Ok("1") {
        panic!("KEIBI_REQUIRE_SERVERS=1 but {why}");
    }
    eprintln!("skipping the PostgreSQL half of this test: {why}");
    None
}

/// This process's server, started once.
fn server() -> Option<&'static String> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    let started = SERVER.get_or_init(|| {
        let c = Cluster::init("")?;
        c.run(false, &[])?;
        Ok(c.url())
    });
    match started {
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

/// A test server's data directory, port and programs.
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Cluster {
    /// A new data directory (`initdb`) under the temporary directory, named after
    /// this process (and `suffix`), on a free port.
    fn init(suffix: &str) -> Result<Cluster, String> {
        let bin = bindir()
            .ok_or("no PostgreSQL server under /usr/lib/postgresql (package postgresql)")?;
        // Data directories of test processes that have ended go first.
        if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(rest) = name.strip_prefix("keibi-store-pg-") {
                    let pid = rest.split('-').next().unwrap_or(rest);
                    if !Path::new("/proc").join(pid).exists() {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let dir =
            std::env::temp_dir().join(format!("keibi-store-pg-{}{suffix}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(
                    "running as root and cannot chown the data directory to postgres".into(),
                );
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
        Ok(Cluster {
            bin,
            dir,
            data,
            port,
        })
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it takes connections. Unless `durable`,
    /// without the flushes to disk a test does not need (`fsync=off`).
    fn run(&self, durable: bool, extra: &[String]) -> Result<(), String> {
        let extra = extra.to_vec();
        // Started from a thread that never ends: `--pdeathsig` fires when the thread
        // that started the server ends, which must be the process's end.
        let (tx, rx) = std::sync::mpsc::channel();
        let postgres = self.bin.join("postgres");
        let log = self.dir.join("server.log");
        let (data, dir, port) = (self.data.clone(), self.dir.clone(), self.port);
        std::thread::spawn(move || {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log);
            let mut c = as_server_user(&postgres);
            c.arg("-D")
                .arg(&data)
                .args(["-c", "listen_addresses=127.0.0.1", "-p", &port.to_string()])
                .arg("-c")
                .arg(format!("unix_socket_directories={}", dir.display()))
                .args(["-c", "max_connections=300"])
                .stdin(Stdio::null());
            c.args(&extra);
            if !durable {
                c.args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
                    .args(["-c", "full_page_writes=off"]);
            }
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
        let url = self.url();
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            match postgres::Client::connect(&url, postgres::NoTls) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > until => {
                    return Err(format!("the test PostgreSQL did not start: {e}"))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Stops the server (`pg_ctl stop -m fast`: connections are cut) and waits
    /// until it is gone.
    fn stop(&self) -> Result<(), String> {
        let out = as_server_user(&self.bin.join("pg_ctl"))
            .args(["stop", "-m", "fast", "-w", "-D"])
            .arg(&self.data)
            .stdout(Stdio::null())
            .output()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "pg_ctl stop failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }
}

/// A PostgreSQL server of one test's own, which it can stop and start again (a
/// restart in the middle of use). Stopped and removed when dropped.
pub struct PrivateServer {
    cluster: Cluster,
    durable: bool,
    /// More `postgres` arguments (`-c ssl=on` …).
    extra: Vec<String>,
}

impl PrivateServer {
    /// A new server, started; `None` (after saying why) when there is no
    /// PostgreSQL here, a panic under `KEIBI_REQUIRE_SERVERS=1`.
    pub fn start() -> Option<PrivateServer> {
        PrivateServer::start_with(false)
    }

    /// [`PrivateServer::start`] with PostgreSQL's default durability (every
    /// commit flushed to disk), for measurements.
    pub fn start_durable() -> Option<PrivateServer> {
        PrivateServer::start_with(true)
    }

    fn start_with(durable: bool) -> Option<PrivateServer> {
        PrivateServer::start_configured(durable, |_| Ok(Vec::new()))
    }

    /// A server that also takes TLS connections, with this certificate chain and
    /// key (PEM); plain connections are still allowed.
    pub fn start_tls(cert_pem: &str, key_pem: &str) -> Option<PrivateServer> {
        PrivateServer::start_configured(false, |c| {
            let (cert, key) = (c.data.join("server.crt"), c.data.join("server.key"));
            std::fs::write(&cert, cert_pem).map_err(|e| e.to_string())?;
            std::fs::write(&key, key_pem).map_err(|e| e.to_string())?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| e.to_string())?;
            if is_root() {
                let ok = Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(&cert)
                    .arg(&key)
                    .status()
                    .is_ok_and(|s| s.success());
                if !ok {
                    return Err("cannot chown the TLS key to postgres".into());
                }
            }
            Ok(vec![
                "-c".into(),
                "ssl=on".into(),
                "-c".into(),
                format!("ssl_cert_file={}", cert.display()),
                "-c".into(),
                format!("ssl_key_file={}", key.display()),
            ])
        })
    }

    fn start_configured(
        durable: bool,
        configure: impl FnOnce(&Cluster) -> Result<Vec<String>, String>,
    ) -> Option<PrivateServer> {
        static N: AtomicU64 = AtomicU64::new(0);
        let suffix = format!("-own{}", N.fetch_add(1, Ordering::Relaxed));
        let started = Cluster::init(&suffix).and_then(|c| {
            let extra = configure(&c)?;
            c.run(durable, &extra)?;
            Ok((c, extra))
        });
        match started {
            Ok((cluster, extra)) => Some(PrivateServer {
                cluster,
                durable,
                extra,
            }),
            Err(why) => unavailable(&why),
        }
    }

    /// The server's address (`127.0.0.1:PORT`).
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.cluster.port)
    }

    /// The URL of a new empty schema on this server.
    pub fn new_schema(&self) -> String {
        new_schema(&self.cluster.url())
    }

    /// Stops the server; connections to it are cut.
    pub fn stop(&self) {
        self.cluster.stop().unwrap_or_else(|e| panic!("{e}"));
    }

    /// Starts the stopped server again, on the same port with the same data.
    pub fn start_again(&self) {
        self.cluster
            .run(self.durable, &self.extra)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.cluster.stop();
        let _ = std::fs::remove_dir_all(&self.cluster.dir);
    }
}

/// For this crate's unit tests: a temporary directory and the store to open in it,
/// an SQLite file and then a new PostgreSQL schema (as `tests/common` does for the
/// integration tests). Each is announced on stderr.
#[cfg(test)]
pub(crate) fn backends() -> impl Iterator<Item = (tempfile::TempDir, PathBuf)> {
    let sqlite = std::iter::once_with(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        (dir, path)
    });
    let pg = std::iter::once_with(|| {
        postgres_url().map(|url| (tempfile::tempdir().unwrap(), PathBuf::from(url)))
    })
    .flatten();
    sqlite
        .chain(pg)
        .inspect(|(_, p)| eprintln!("-- on {}", p.display()))
}
