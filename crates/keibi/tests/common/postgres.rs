//! A real PostgreSQL with pgaudit, in a temporary directory on a free loopback
//! port, logging the way RDS does (its `log_line_prefix`) plus csvlog and jsonlog.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{check, describe, free_port, is_root, output, output_with_input, unavailable};

pub const SUPERUSER: &str = "postgres";
pub const SUPERUSER_PASSWORD: &str = "keibi-super-pw";
pub const APP_USER: &str = "app";
pub const APP_PASSWORD: &str = "keibi-app-pw";
pub const DATABASE: &str = "shop";
/// The role the response executor connects as (`Postgres::add_respond_user`).
pub const RESPOND_USER: &str = "keibi_respond";
pub const RESPOND_PASSWORD: &str = "keibi-respond-pw";

/// The prefix RDS for PostgreSQL uses, which keibi detects without `--pg-prefix`.
pub const RDS_PREFIX: &str = "%t:%r:%u@%d:[%p]:";

pub struct Postgres {
    pub port: u16,
    pub version: String,
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// `runuser -u postgres --` when we are root (initdb refuses to run as root).
    run_as: Option<&'static str>,
    running: bool,
}

impl Postgres {
    /// Starts a server, or returns `None` after printing why it is skipped (and
    /// panics instead when servers are required).
    pub fn start() -> Option<Postgres> {
        Self::start_with("")
    }

    /// Starts a server with `extra` appended to its `postgresql.conf` after the
    /// settings above (a later line wins: `log_filename`, `log_destination` ...).
    pub fn start_with(extra: &str) -> Option<Postgres> {
        let bin = find_bindir()?;
        let pkglib = bin.parent().map(|p| p.join("lib")).unwrap_or_default();
        if !pkglib.join("pgaudit.so").is_file() {
            let major = bin.parent().and_then(Path::file_name).unwrap_or_default();
            return unavailable(&format!(
                "pgaudit is not installed for PostgreSQL {} (no {}/pgaudit.so; package postgresql-{}-pgaudit)",
                major.to_string_lossy(),
                pkglib.display(),
                major.to_string_lossy()
            ));
        }
        let Some(_) = psql_path(&bin) else {
            return unavailable("psql (package postgresql-client) is not installed");
        };
        let root = is_root();
        if root && super::which("runuser").is_none() {
            return unavailable("running as root but runuser (util-linux) is missing");
        }
        let dir = tempfile::Builder::new()
            .prefix("keibi-pg-")
            .tempdir()
            .expect("create a temporary directory");
        let run_as = if root {
            chown_to_postgres(dir.path());
            Some("postgres")
        } else {
            None
        };
        let version = super::version(&bin.join("postgres"));
        let mut pg = Postgres {
            port: free_port(),
            version,
            bin,
            dir,
            run_as,
            running: false,
        };
        pg.init(extra);
        pg.start_server();
        pg.setup();
        Some(pg)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn data(&self) -> PathBuf {
        self.dir().join("data")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir().join("log")
    }

    /// The stderr log with the RDS prefix; `.csv` and `.json` beside it.
    pub fn stderr_log(&self) -> PathBuf {
        self.log_dir().join("postgresql.log")
    }

    pub fn csv_log(&self) -> PathBuf {
        self.log_dir().join("postgresql.csv")
    }

    pub fn json_log(&self) -> PathBuf {
        self.log_dir().join("postgresql.json")
    }

    /// A server program, run as the `postgres` user when we are root.
    fn server_cmd(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn init(&self, extra: &str) {
        let pwfile = self.dir().join("pwfile");
        self.write(&pwfile, &format!("{SUPERUSER_PASSWORD}\n"));
        check(
            self.server_cmd("initdb")
                .arg("-D")
                .arg(self.data())
                .args(["-U", SUPERUSER, "-E", "UTF8", "--locale=C", "--no-sync"])
                .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
                .arg(format!("--pwfile={}", pwfile.display())),
        );
        fs::create_dir_all(self.log_dir()).expect("create log dir");
        if self.run_as.is_some() {
            chown_to_postgres(&self.log_dir());
        }
        let dir = self.dir().display().to_string();
        let conf = format!(
            "\n# keibi integration test\n\
             listen_addresses = '127.0.0.1'\n\
             port = {port}\n\
             unix_socket_directories = '{dir}'\n\
             password_encryption = 'scram-sha-256'\n\
             shared_preload_libraries = 'pgaudit'\n\
             pgaudit.log = 'all'\n\
             log_connections = on\n\
             log_disconnections = on\n\
             log_line_prefix = '{RDS_PREFIX}'\n\
             log_timezone = 'UTC'\n\
             logging_collector = on\n\
             log_destination = 'stderr,csvlog,jsonlog'\n\
             log_directory = '{dir}/log'\n\
             log_filename = 'postgresql.log'\n\
             log_rotation_age = 0\n\
             log_rotation_size = 0\n\
             fsync = off\n\
             shared_buffers = 16MB\n\
             max_connections = 20\n",
            port = self.port,
        );
        let conf_path = self.data().join("postgresql.conf");
        let mut text = fs::read_to_string(&conf_path).expect("read postgresql.conf");
        text.push_str(&conf);
        text.push_str(extra);
        self.write(&conf_path, &text);
        // Explicit rather than initdb's defaults: local trust for set-up, a password
        // (SCRAM) for every TCP client, which is what the scenario attacks.
        self.write(
            &self.data().join("pg_hba.conf"),
            "# TYPE  DATABASE        USER            ADDRESS                 METHOD\n\
             local   all             all                                     trust\n\
             host    all             all             127.0.0.1/32            scram-sha-256\n",
        );
    }

    /// Writes a file the server user can read (we may be root).
    fn write(&self, path: &Path, text: &str) {
        fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        if self.run_as.is_some() {
            chown_to_postgres(path);
        }
    }

    fn start_server(&mut self) {
        let out = output(
            self.server_cmd("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.dir().join("pg_ctl.log"))
                .args(["-w", "-t", "60", "start"]),
        );
        // Even a failed `pg_ctl start -w` may leave a postmaster behind: Drop stops it.
        self.running = true;
        if !out.status.success() {
            let log = fs::read_to_string(self.dir().join("pg_ctl.log")).unwrap_or_default();
            let stderr_log = fs::read_to_string(self.stderr_log()).unwrap_or_default();
            panic!(
                "pg_ctl start failed: {}\npg_ctl.log:\n{log}\nserver log:\n{stderr_log}",
                describe(&out)
            );
        }
    }

    /// Roles, the database and a table, created over the Unix socket as the
    /// superuser (pgaudit logs these too, from `[local]`).
    fn setup(&self) {
        let sql = format!(
            "CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}';\n\
             CREATE ROLE reporting NOLOGIN;\n\
             CREATE DATABASE {DATABASE} OWNER {APP_USER};\n\
             \\connect {DATABASE}\n\
             CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL);\n\
             ALTER TABLE customers OWNER TO {APP_USER};\n\
             INSERT INTO customers VALUES (1, 'ann@example.com'), (2, 'bob@example.com');\n"
        );
        let out = output_with_input(
            self.psql_cmd_local(SUPERUSER, "postgres")
                .args(["-v", "ON_ERROR_STOP=1", "-q"]),
            &sql,
        );
        assert!(
            out.status.success(),
            "set-up SQL failed: {}",
            describe(&out)
        );
    }

    /// psql as `user` over the Unix socket (trusted, no password, no address in
    /// the log), running `sql`.
    pub fn psql_local(&self, user: &str, db: &str, sql: &str) -> Output {
        output_with_input(
            self.psql_cmd_local(user, db)
                .args(["-v", "ON_ERROR_STOP=1", "-q"]),
            sql,
        )
    }

    fn psql_cmd_local(&self, user: &str, db: &str) -> Command {
        let mut c = self.psql_base(self.port);
        c.arg("-h").arg(self.dir()).args(["-U", user, "-d", db]);
        c
    }

    fn psql_base(&self, port: u16) -> Command {
        let mut c = Command::new(psql_path(&self.bin).expect("psql checked at start"));
        // -X: no ~/.psqlrc; the environment must not redirect us to another server.
        c.arg("-X")
            .arg("-p")
            .arg(port.to_string())
            .env_remove("PGSERVICE")
            .env_remove("PGHOST")
            .env_remove("PGHOSTADDR")
            .env_remove("PGOPTIONS")
            .env("PGPASSFILE", "/dev/null")
            .env("PGCONNECT_TIMEOUT", "20")
            .env("PGSSLMODE", "disable");
        c
    }

    /// psql over TCP to 127.0.0.1 with a password, running `sql` (read from standard
    /// input, so psql sends each statement on its own, as an application would).
    pub fn psql_tcp(&self, user: &str, password: &str, db: &str, sql: &str) -> Output {
        self.psql_tcp_port(self.port, user, password, db, sql)
    }

    /// As [`Postgres::psql_tcp`], to another port of 127.0.0.1 (a pooler in front of
    /// this server).
    pub fn psql_tcp_port(
        &self,
        port: u16,
        user: &str,
        password: &str,
        db: &str,
        sql: &str,
    ) -> Output {
        let mut c = self.psql_base(port);
        c.args([
            "-h",
            "127.0.0.1",
            "-U",
            user,
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
        ])
        .env("PGPASSWORD", password);
        output_with_input(&mut c, sql)
    }

    /// A psql reading its statements from standard input as `user` over the Unix
    /// socket (no client address): spawn it with a piped stdin to hold a session
    /// open.
    pub fn psql_local_command(&self, user: &str, db: &str) -> Command {
        let mut c = self.psql_cmd_local(user, db);
        c.args(["-v", "ON_ERROR_STOP=1", "-q"]);
        c
    }

    /// As [`Postgres::psql_local_command`], over TCP to 127.0.0.1 with a password.
    pub fn psql_tcp_command(&self, user: &str, password: &str, db: &str) -> Command {
        let mut c = self.psql_base(self.port);
        c.args(["-h", "127.0.0.1", "-U", user, "-d", db])
            .args(["-v", "ON_ERROR_STOP=1", "-q"])
            .env("PGPASSWORD", password);
        c
    }

    /// Adds the least-privileged role the response executor needs
    /// ([`RESPOND_USER`]: CREATEROLE to change others' LOGIN, pg_signal_backend to
    /// end their sessions, pg_read_all_stats to see their client addresses).
    pub fn add_respond_user(&self) {
        let out = self.psql_local(
            SUPERUSER,
            "postgres",
            &format!(
                "CREATE ROLE {RESPOND_USER} LOGIN CREATEROLE PASSWORD '{RESPOND_PASSWORD}';\n\
                 GRANT pg_signal_backend, pg_read_all_stats TO {RESPOND_USER};\n"
            ),
        );
        assert!(out.status.success(), "respond user: {}", describe(&out));
    }

    /// The respond user's URL (the password apart).
    pub fn respond_url(&self) -> String {
        format!("postgres://{RESPOND_USER}@127.0.0.1:{}/postgres", self.port)
    }

    /// Replaces `pg_hba.conf` with `text` and makes the server reload it.
    pub fn set_hba(&self, text: &str) {
        self.write(&self.data().join("pg_hba.conf"), text);
        let out = self.psql_local(SUPERUSER, "postgres", "SELECT pg_reload_conf();\n");
        assert!(out.status.success(), "reload failed: {}", describe(&out));
    }

    /// Writes `name` in the server's directory, readable by the server's user only
    /// (a TLS key must be), and returns its path.
    pub fn write_private(&self, name: &str, text: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir().join(name);
        self.write(&path, text);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
        path
    }

    /// Stops the server the way an operator would (fast shutdown), so its shutdown
    /// lines are in the logs and every log is flushed and closed.
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        check(
            self.server_cmd("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-w", "-t", "60", "-m", "fast", "stop"]),
        );
        self.running = false;
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Reached on test failure too: never leave a server behind.
        if self.running {
            let _ = self
                .server_cmd("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-w", "-t", "30", "-m", "immediate", "stop"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// `/usr/lib/postgresql/<major>/bin` of the newest installed major (or
/// `KEIBI_PG_BINDIR`), holding initdb, pg_ctl and postgres.
fn find_bindir() -> Option<PathBuf> {
    let has_all = |b: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|p| super::is_executable(&b.join(p)))
    };
    if let Some(dir) = std::env::var_os("KEIBI_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        if has_all(&dir) {
            return Some(dir);
        }
        return unavailable(&format!(
            "KEIBI_PG_BINDIR={} lacks initdb, pg_ctl or postgres",
            dir.display()
        ));
    }
    let mut majors: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_all(&bin).then_some((major, bin))
        })
        .collect();
    majors.sort();
    match majors.pop() {
        Some((_, bin)) => Some(bin),
        None => unavailable(
            "PostgreSQL server binaries are not installed (no /usr/lib/postgresql/<major>/bin/postgres; package postgresql)",
        ),
    }
}

fn psql_path(bin: &Path) -> Option<PathBuf> {
    super::find_exe(&[bin.join("psql"), PathBuf::from("/usr/bin/psql")])
}

/// Gives a path to the `postgres` system user, who runs the server when we are root.
pub fn chown_to_postgres(path: &Path) {
    let id = |flag: &str| -> u32 {
        let out = check(Command::new("id").args([flag, "postgres"]));
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("numeric id")
    };
    std::os::unix::fs::chown(path, Some(id("-u")), Some(id("-g")))
        .unwrap_or_else(|e| panic!("chown {} to postgres: {e}", path.display()));
}
