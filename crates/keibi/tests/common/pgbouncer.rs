//! A real PgBouncer in front of the test PostgreSQL ([`super::postgres::Postgres`]),
//! in a temporary directory on a free loopback port, logging connections and
//! disconnections to its own log file.
//!
//! Clients authenticate to PgBouncer with SCRAM against an `auth_file` holding the
//! plain passwords (which lets PgBouncer log in to the server with SCRAM in turn).
//! PgBouncer refuses to run as root, so as root it runs as the `postgres` user.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::postgres::{Postgres, APP_PASSWORD, APP_USER, DATABASE};
use super::{check, describe, free_port, is_root, output, unavailable};

pub struct Pgbouncer {
    pub port: u16,
    pub version: String,
    dir: tempfile::TempDir,
    run_as: Option<&'static str>,
    running: bool,
}

impl Pgbouncer {
    /// Starts PgBouncer in front of `pg` (its database `shop`, user `app`), or returns
    /// `None` after saying why it is skipped (panics when servers are required).
    pub fn start(pg: &Postgres) -> Option<Pgbouncer> {
        let Some(exe) = super::which("pgbouncer") else {
            return unavailable("pgbouncer (package pgbouncer) is not installed");
        };
        let dir = tempfile::Builder::new()
            .prefix("keibi-pgbouncer-")
            .tempdir()
            .expect("create a temporary directory");
        let run_as = is_root().then_some("postgres");
        let version = String::from_utf8_lossy(&output(Command::new(&exe).arg("--version")).stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        let mut b = Pgbouncer {
            port: free_port(),
            version,
            dir,
            run_as,
            running: false,
        };
        let d = b.dir().display().to_string();
        b.write(
            &b.dir().join("userlist.txt"),
            &format!("\"{APP_USER}\" \"{APP_PASSWORD}\"\n"),
        );
        b.write(
            &b.ini(),
            &format!(
                "[databases]\n\
                 {DATABASE} = host=127.0.0.1 port={pg_port} dbname={DATABASE}\n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {port}\n\
                 unix_socket_dir =\n\
                 auth_type = scram-sha-256\n\
                 auth_file = {d}/userlist.txt\n\
                 logfile = {d}/pgbouncer.log\n\
                 pidfile = {d}/pgbouncer.pid\n\
                 log_connections = 1\n\
                 log_disconnections = 1\n\
                 log_pooler_errors = 1\n\
                 pool_mode = session\n\
                 server_tls_sslmode = disable\n",
                pg_port = pg.port,
                port = b.port,
            ),
        );
        if run_as.is_some() {
            super::postgres::chown_to_postgres(b.dir());
        }
        let mut cmd = match run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        // -d: daemonize once listening; the pidfile says whom to stop.
        let out = output(cmd.arg("-d").arg(b.ini()));
        b.running = true;
        assert!(
            out.status.success(),
            "pgbouncer failed to start: {}\nlog:\n{}",
            describe(&out),
            fs::read_to_string(b.log()).unwrap_or_default()
        );
        b.wait_listening();
        Some(b)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn ini(&self) -> PathBuf {
        self.dir().join("pgbouncer.ini")
    }

    pub fn log(&self) -> PathBuf {
        self.dir().join("pgbouncer.log")
    }

    fn write(&self, path: &Path, text: &str) {
        fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        if self.run_as.is_some() {
            super::postgres::chown_to_postgres(path);
        }
    }

    fn wait_listening(&self) {
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < super::WAIT,
                "pgbouncer never listened on {}; log:\n{}",
                self.port,
                fs::read_to_string(self.log()).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn pid(&self) -> Option<String> {
        let pid = fs::read_to_string(self.dir().join("pgbouncer.pid")).ok()?;
        let pid = pid.trim();
        (!pid.is_empty() && pid.bytes().all(|c| c.is_ascii_digit())).then(|| pid.to_owned())
    }

    /// Stops PgBouncer (SIGINT: a safe shutdown) and waits until it has gone, so its
    /// log is complete.
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        let Some(pid) = self.pid() else {
            return;
        };
        check(Command::new("kill").args(["-INT", &pid]));
        let start = Instant::now();
        while Path::new(&format!("/proc/{pid}")).exists() {
            assert!(
                start.elapsed() < super::WAIT,
                "pgbouncer {pid} did not stop"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pgbouncer {
    fn drop(&mut self) {
        if self.running {
            if let Some(pid) = self.pid() {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
        }
    }
}
