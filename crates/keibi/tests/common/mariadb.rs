//! A real MariaDB with the server_audit plugin, the error log at `log_warnings=4`
//! and the general log, in a temporary directory on a free loopback port.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{describe, free_port, is_root, output, output_with_input, unavailable, WAIT};

pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASSWORD: &str = "keibi-admin-pw";
pub const APP_USER: &str = "app";
pub const APP_PASSWORD: &str = "keibi-app-pw";
pub const DATABASE: &str = "shop";
/// The account the response executor connects as (`Mariadb::add_respond_user`).
pub const RESPOND_USER: &str = "keibi_respond";
pub const RESPOND_PASSWORD: &str = "keibi-respond-pw";

pub struct Mariadb {
    pub port: u16,
    pub version: String,
    dir: tempfile::TempDir,
    client: PathBuf,
    child: Option<Child>,
}

impl Mariadb {
    /// Starts a server, or returns `None` after printing why it is skipped (and
    /// panics instead when servers are required).
    pub fn start() -> Option<Mariadb> {
        Self::start_with("")
    }

    /// Starts a server with `extra` (lines of the `[mariadbd]` section) after the
    /// settings below: a later line wins.
    pub fn start_with(extra: &str) -> Option<Mariadb> {
        let Some(server) = super::which("mariadbd").or_else(|| super::which("mysqld")) else {
            return unavailable("mariadbd is not installed (package mariadb-server)");
        };
        let Some(install) =
            super::which("mariadb-install-db").or_else(|| super::which("mysql_install_db"))
        else {
            return unavailable("mariadb-install-db is not installed (package mariadb-server)");
        };
        let Some(client) = super::which("mariadb").or_else(|| super::which("mysql")) else {
            return unavailable("the mariadb client is not installed (package mariadb-client)");
        };
        if !plugin_installed(&server) {
            return unavailable(
                "the server_audit plugin is missing (server_audit.so, package mariadb-server)",
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("keibi-my-")
            .tempdir()
            .expect("create a temporary directory");
        let version = super::version(&server);
        let mut db = Mariadb {
            port: free_port(),
            version,
            dir,
            client,
            child: None,
        };
        db.init(&install, extra);
        db.start_server(&server);
        db.setup();
        Some(db)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn audit_log(&self) -> PathBuf {
        self.dir().join("server_audit.log")
    }

    pub fn error_log(&self) -> PathBuf {
        self.dir().join("error.log")
    }

    pub fn general_log(&self) -> PathBuf {
        self.dir().join("general.log")
    }

    /// The slow query log, with every statement (`long_query_time=0`).
    pub fn slow_log(&self) -> PathBuf {
        self.dir().join("slow.log")
    }

    fn socket(&self) -> PathBuf {
        self.dir().join("mysqld.sock")
    }

    fn defaults_file(&self) -> PathBuf {
        self.dir().join("my.cnf")
    }

    fn init(&self, install: &Path, extra: &str) {
        let d = self.dir().display().to_string();
        let conf = format!(
            "[mariadbd]\n\
             datadir={d}/data\n\
             socket={d}/mysqld.sock\n\
             pid-file={d}/mysqld.pid\n\
             tmpdir={d}/tmp\n\
             port={port}\n\
             bind-address=127.0.0.1\n\
             skip-name-resolve\n\
             log_error={d}/error.log\n\
             log_warnings=4\n\
             general_log=ON\n\
             general_log_file={d}/general.log\n\
             slow_query_log=ON\n\
             slow_query_log_file={d}/slow.log\n\
             long_query_time=0\n\
             log_slow_verbosity=query_plan\n\
             plugin-load-add=server_audit\n\
             server_audit_logging=ON\n\
             server_audit_events=CONNECT,QUERY\n\
             server_audit_file_path={d}/server_audit.log\n\
             innodb_buffer_pool_size=32M\n\
             innodb_log_file_size=16M\n\
             innodb_flush_log_at_trx_commit=0\n\
             performance_schema=OFF\n",
            port = self.port
        );
        fs::write(self.defaults_file(), format!("{conf}{extra}\n")).expect("write my.cnf");
        // Its own temporary directory: in the shared /tmp, servers started at the
        // same moment by parallel tests have had each other's internal temporary
        // tables vanish ("Error on delete of '/tmp/#sql-temptable-…'") and failed.
        fs::create_dir_all(self.dir().join("tmp")).expect("create the server's tmpdir");
        // The bootstrap reads only what it needs from the command line: with the
        // defaults file it would load the audit plugin too and fill the audit log
        // with its own `boot` queries before the server ever starts.
        let mut cmd = Command::new(install);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}/data", self.dir().display()))
            .arg(format!("--tmpdir={}/tmp", self.dir().display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .args(user_arg());
        let out = output(&mut cmd);
        assert!(
            out.status.success(),
            "mariadb-install-db failed: {}",
            describe(&out)
        );
    }

    fn start_server(&mut self, server: &Path) {
        let stdout =
            fs::File::create(self.dir().join("mariadbd.out")).expect("create mariadbd.out");
        let stderr = stdout.try_clone().expect("clone file handle");
        let child = Command::new(server)
            .arg(format!(
                "--defaults-file={}",
                self.defaults_file().display()
            ))
            .args(user_arg())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
        self.child = Some(child);
        let start = Instant::now();
        loop {
            let log = fs::read_to_string(self.error_log()).unwrap_or_default();
            if log.contains("ready for connections") && self.socket().exists() {
                return;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || start.elapsed() > WAIT {
                let out = fs::read_to_string(self.dir().join("mariadbd.out")).unwrap_or_default();
                panic!("mariadbd did not start ({exited:?}):\nerror log:\n{log}\noutput:\n{out}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Users, the database and a table, created over the Unix socket as root.
    fn setup(&self) {
        let sql = format!(
            "CREATE DATABASE {DATABASE};\n\
             CREATE USER '{ADMIN_USER}'@'%' IDENTIFIED BY '{ADMIN_PASSWORD}';\n\
             GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'%' WITH GRANT OPTION;\n\
             CREATE USER '{APP_USER}'@'%' IDENTIFIED BY '{APP_PASSWORD}';\n\
             GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{APP_USER}'@'%';\n\
             CREATE USER 'reporting'@'%' IDENTIFIED BY 'keibi-reporting-pw';\n\
             CREATE TABLE {DATABASE}.customers (id INT PRIMARY KEY, email VARCHAR(200) NOT NULL);\n\
             INSERT INTO {DATABASE}.customers VALUES (1, 'ann@example.com'), (2, 'bob@example.com');\n"
        );
        let mut c = self.client_base();
        c.arg(format!("--socket={}", self.socket().display()))
            .args(["-u", "root"]);
        let out = output_with_input(&mut c, &sql);
        assert!(
            out.status.success(),
            "set-up SQL failed: {}",
            describe(&out)
        );
    }

    /// The mariadb client as root over the Unix socket, running `sql`.
    pub fn client_root(&self, sql: &str) -> Output {
        let mut c = self.client_base();
        c.arg(format!("--socket={}", self.socket().display()))
            .args(["-u", "root"]);
        output_with_input(&mut c, sql)
    }

    fn client_base(&self) -> Command {
        let mut c = Command::new(&self.client);
        // --no-defaults must come first: no ~/.my.cnf may redirect us elsewhere.
        c.args(["--no-defaults", "--batch", "--connect-timeout=20"]);
        c
    }

    /// The mariadb client over TCP to 127.0.0.1 with a password, running `sql` from
    /// standard input (one statement at a time, as the client sends them).
    pub fn client_tcp(&self, user: &str, password: &str, db: Option<&str>, sql: &str) -> Output {
        let mut c = self.client_base();
        c.args(["--protocol=TCP", "-h", "127.0.0.1"])
            .arg(format!("--port={}", self.port))
            .arg(format!("--user={user}"))
            .arg(format!("--password={password}"));
        if let Some(db) = db {
            c.arg(format!("--database={db}"));
        }
        output_with_input(&mut c, sql)
    }

    /// The mariadb client reading statements from standard input as `user` over
    /// TCP to 127.0.0.1 (spawn it with a piped stdin to hold a session open). It does
    /// not reconnect: a killed session stays ended.
    pub fn client_tcp_command(&self, user: &str, password: &str) -> Command {
        let mut c = self.client_base();
        c.args(["--skip-reconnect", "--protocol=TCP", "-h", "127.0.0.1"])
            .arg(format!("--port={}", self.port))
            .arg(format!("--user={user}"))
            .arg(format!("--password={password}"));
        c
    }

    /// As [`Mariadb::client_tcp_command`], over the Unix socket (its HOST is
    /// `localhost`, no address).
    pub fn client_socket_command(&self, user: &str, password: &str) -> Command {
        let mut c = self.client_base();
        c.arg("--skip-reconnect")
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!("--user={user}"))
            .arg(format!("--password={password}"));
        c
    }

    /// Adds the least-privileged account the response executor needs
    /// ([`RESPOND_USER`]: CREATE USER to lock and unlock, PROCESS to see others'
    /// connections, CONNECTION ADMIN to kill them, SELECT on mysql.global_priv where
    /// the locks are kept).
    pub fn add_respond_user(&self) {
        let out = self.client_root(&format!(
            "CREATE USER '{RESPOND_USER}'@'%' IDENTIFIED BY '{RESPOND_PASSWORD}';\n\
             GRANT CREATE USER, PROCESS, CONNECTION ADMIN ON *.* TO '{RESPOND_USER}'@'%';\n\
             GRANT SELECT ON mysql.global_priv TO '{RESPOND_USER}'@'%';\n"
        ));
        assert!(out.status.success(), "respond user: {}", describe(&out));
    }

    /// The respond account's URL (the password apart).
    pub fn respond_url(&self) -> String {
        format!("mysql://{RESPOND_USER}@127.0.0.1:{}/", self.port)
    }

    /// Stops the server the way its init script does (SIGTERM), so its shutdown
    /// lines are in the error log and every log is flushed and closed.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let start = Instant::now();
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            if start.elapsed() > WAIT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("mariadbd did not stop within {WAIT:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Mariadb {
    fn drop(&mut self) {
        // Reached on test failure too: never leave a server behind.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// mariadbd refuses to run as root unless told to; then it stays root, which keeps
/// the temporary directory ours.
fn user_arg() -> Option<&'static str> {
    is_root().then_some("--user=root")
}

fn plugin_installed(server: &Path) -> bool {
    let out = output(Command::new(server).args(["--no-defaults", "--verbose", "--help"]));
    let help = String::from_utf8_lossy(&out.stdout);
    let plugin_dir = help
        .lines()
        .find_map(|l| l.strip_prefix("plugin-dir"))
        .map(|v| PathBuf::from(v.trim()))
        .unwrap_or_else(|| PathBuf::from("/usr/lib/mysql/plugin"));
    plugin_dir.join("server_audit.so").is_file()
}
