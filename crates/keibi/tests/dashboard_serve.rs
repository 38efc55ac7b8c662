//! The dashboard served by the real binary on 127.0.0.1, asked over real sockets
//! with a small HTTP/1.1 client: `keibi users` creating the login, `keibi
//! dashboard` over a store, the rate limit surviving a restart of the process, the
//! bind rules refusing 0.0.0.0 without TLS, HTTPS with a certificate made by the
//! openssl CLI, and `keibi run` serving it beside the daemon with a login that
//! survives a SIGKILL and a restart.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long enough password";

fn keibi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keibi"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn add_user(store: &Path, name: &str, role: &str) {
    let mut child = keibi()
        .args(["users", "--store"])
        .arg(store)
        .args(["add", name, "--role", role, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Kills the process when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` with stderr to `log`, and waits until the log says `ready`.
fn start(cmd: &mut Command, log: &Path, ready: &str) -> Running {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(fs::File::create(log.with_extension("out")).unwrap())
        .stderr(fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let r = Running(child);
    let start = Instant::now();
    loop {
        let text = fs::read_to_string(log).unwrap_or_default()
            + &fs::read_to_string(log.with_extension("out")).unwrap_or_default();
        if text.contains(ready) {
            return r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never ready ({ready}): {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Res {
    status: u16,
    head: String,
    body: String,
}

impl Res {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
    fn cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            if !k.eq_ignore_ascii_case("set-cookie") {
                return None;
            }
            let v = v.trim().strip_prefix(&format!("{name}="))?;
            Some(v.split(';').next().unwrap_or("").to_string())
        })
    }
}

fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Res {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Res {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// Logs in through the form: the answer.
fn login(port: u16, user: &str, password: &str) -> Res {
    let form = http(port, "GET", "/login", &[], "");
    assert_eq!(form.status, 200, "{}", form.head);
    let token = form.cookie("keibi_login").unwrap();
    let cookie = format!("keibi_login={token}");
    let origin = format!("http://127.0.0.1:{port}");
    http(
        port,
        "POST",
        "/login",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", &origin),
        ],
        &format!(
            "user={user}&password={}&token={token}",
            password.replace(' ', "+")
        ),
    )
}

fn page(port: u16, session: &str) -> Res {
    http(
        port,
        "GET",
        "/",
        &[("Cookie", &format!("keibi_session={session}"))],
        "",
    )
}

fn dashboard(store: &Path, port: u16, log: &Path) -> Running {
    start(
        keibi()
            .arg("dashboard")
            .arg("--store")
            .arg(store)
            .args(["--listen", &format!("127.0.0.1:{port}")]),
        log,
        &format!("dashboard at http://127.0.0.1:{port}"),
    )
}

#[test]
fn keibi_dashboard_logs_in_and_keeps_the_rate_limit_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("keibi.db");
    let log = dir.path().join("dashboard.log");
    // No store there: refused, nothing created.
    let o = keibi()
        .arg("dashboard")
        .arg("--store")
        .arg(&store)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!store.exists());
    keibi()
        .args(["users", "--store"])
        .arg(&store)
        .arg("list")
        .output()
        .unwrap();
    // With nobody to log in, the page and the log say how to make someone.
    let port = free_port();
    let d = dashboard(&store, port, &log);
    let r = http(port, "GET", "/login", &[], "");
    assert!(
        r.body.contains("keibi users add NAME --role admin"),
        "{}",
        r.body
    );
    assert!(fs::read_to_string(&log)
        .unwrap()
        .contains("keibi users add"));
    drop(d);

    add_user(&store, "kim", "responder");
    let d = dashboard(&store, port, &log);
    let r = login(port, "kim", PASSWORD);
    assert_eq!(r.status, 303, "{}", r.head);
    let session = r.cookie("keibi_session").unwrap();
    let set = r.header("set-cookie").unwrap_or_default();
    let all: Vec<&str> = r
        .head
        .lines()
        .filter(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: keibi_session=")
        })
        .collect();
    assert_eq!(all.len(), 1, "{}", r.head);
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(all[0].split("; ").any(|a| a == attr), "{attr}: {set}");
    }
    let p = page(port, &session);
    assert_eq!(p.status, 200);
    assert!(p.body.contains("kim (responder)"), "{}", p.body);
    // No plaintext token in the store's files.
    let mut bytes = Vec::new();
    for e in fs::read_dir(dir.path()).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().contains("keibi.db") {
            bytes.extend(fs::read(p).unwrap());
        }
    }
    assert!(!String::from_utf8_lossy(&bytes).contains(&session));

    // Five failures, then 429, still after the process is restarted.
    for _ in 0..5 {
        assert_eq!(login(port, "kim", "wrong password").status, 401);
    }
    let r = login(port, "kim", PASSWORD);
    assert_eq!(r.status, 429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 800 && retry <= 900, "{retry}");
    drop(d);
    let _d = dashboard(&store, port, &log);
    assert_eq!(login(port, "kim", PASSWORD).status, 429);
    // The session made before still works.
    assert_eq!(page(port, &session).status, 200);
    // keibi users sessions --revoke ends it.
    let o = keibi()
        .args(["users", "--store"])
        .arg(&store)
        .args(["sessions", "--revoke", "kim"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(page(port, &session).status, 303);
}

#[test]
fn binding_everywhere_without_tls_is_refused_and_https_serves() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("keibi.db");
    keibi()
        .args(["users", "--store"])
        .arg(&store)
        .arg("list")
        .output()
        .unwrap();
    let o = keibi()
        .arg("dashboard")
        .arg("--store")
        .arg(&store)
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{:?}", o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("over plain HTTP") && err.contains("dashboard.tls.cert"),
        "{err}"
    );

    // HTTPS on 0.0.0.0 with a certificate (openssl CLI), asked with curl.
    let (Some(openssl), Some(curl)) = (which("openssl"), which("curl")) else {
        if std::env::var_os("KEIBI_REQUIRE_SERVERS").is_some() {
            panic!("openssl and curl are required for the HTTPS test");
        }
        eprintln!("skipped: openssl or curl missing");
        return;
    };
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let o = Command::new(openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let port = free_port();
    let config = dir.path().join("keibi.yaml");
    fs::write(
        &config,
        format!(
            "dashboard:\n  listen: 0.0.0.0:{port}\n  tls:\n    cert: {}\n    key: {}\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let check = keibi()
        .args(["config", "check"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let log = dir.path().join("tls.log");
    let _d = start(
        keibi()
            .arg("dashboard")
            .arg("--store")
            .arg(&store)
            .arg("--config")
            .arg(&config),
        &log,
        &format!("dashboard at https://127.0.0.1:{port}"),
    );
    let o = Command::new(curl)
        .args(["-s", "-i", "--cacert"])
        .arg(&cert)
        .arg(format!("https://127.0.0.1:{port}/login"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("keibi_login="), "{text}");
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

#[test]
fn keibi_run_serves_the_dashboard_and_a_login_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("keibi.db");
    let logs = dir.path().join("postgresql.log");
    fs::write(&logs, "").unwrap();
    let port = free_port();
    let config = dir.path().join("keibi.yaml");
    fs::write(
        &config,
        format!(
            "sources:\n  inputs:\n    - path: {}\nstore:\n  path: {}\nserver:\n  listen: off\ndashboard:\n  listen: 127.0.0.1:{port}\n",
            logs.display(),
            store.display()
        ),
    )
    .unwrap();
    add_user(&store, "kim", "viewer");
    let run = |log: &str| {
        start(
            keibi().arg("run").arg("--config").arg(&config),
            &dir.path().join(log),
            &format!("dashboard at http://127.0.0.1:{port}"),
        )
    };
    let mut d = run("run1.log");
    let r = login(port, "kim", PASSWORD);
    assert_eq!(r.status, 303, "{}", r.head);
    let session = r.cookie("keibi_session").unwrap();
    assert_eq!(page(port, &session).status, 200);
    // A port in use is an error at start.
    let o = keibi()
        .arg("run")
        .arg("--config")
        .arg(&config)
        .arg("--store")
        .arg(dir.path().join("other.db"))
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // SIGKILL, restart: the same cookie is still a session.
    d.0.kill().unwrap();
    d.0.wait().unwrap();
    let _d = run("run2.log");
    let p = page(port, &session);
    assert_eq!(p.status, 200, "{}", p.head);
    assert!(p.body.contains("kim (viewer)"));
    // --dashboard off: nothing on the port.
    drop(_d);
    let o = keibi()
        .args(["run", "--once", "--dashboard", "off", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("dashboard at"));
}

#[test]
fn keibi_users_adds_lists_changes_and_removes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("keibi.db");
    let users = |args: &[&str], input: &str| {
        let mut child = keibi()
            .arg("users")
            .arg("--store")
            .arg(&store)
            .args(args)
            .env("LANG", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (code, text) = users(
        &["add", "kim", "--role", "admin", "--password-stdin"],
        "short\n",
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("shorter than 12 characters"), "{text}");
    let (code, text) = users(&["add", "bad name", "--role", "viewer"], "");
    assert_eq!(code, Some(2), "{text}");
    let (code, _) = users(&["add", "kim", "--role", "root", "--password-stdin"], "x\n");
    assert_eq!(code, Some(2));
    assert_eq!(
        users(&["add", "kim", "--role", "admin"], &format!("{PASSWORD}\n")).0,
        Some(0)
    );
    let (code, text) = users(&["add", "kim", "--role", "admin"], &format!("{PASSWORD}\n"));
    assert_eq!(code, Some(2), "{text}");
    let (code, text) = users(&["list"], "");
    assert_eq!(code, Some(0));
    assert!(text.contains("kim") && text.contains("admin"), "{text}");
    assert!(!text.contains("argon2"), "{text}");
    // A new password: the old no longer logs in, the new does.
    let port = free_port();
    let log = dir.path().join("d.log");
    let _d = dashboard(&store, port, &log);
    let session = login(port, "kim", PASSWORD)
        .cookie("keibi_session")
        .unwrap();
    assert_eq!(
        users(&["passwd", "kim"], "another long password\n").0,
        Some(0)
    );
    assert_eq!(page(port, &session).status, 303, "its sessions ended");
    assert_eq!(login(port, "kim", PASSWORD).status, 401);
    assert_eq!(login(port, "kim", "another long password").status, 303);
    assert_eq!(users(&["remove", "kim"], "").0, Some(0));
    assert_eq!(users(&["remove", "kim"], "").0, Some(1));
    assert_eq!(login(port, "kim", "another long password").status, 401);
    // The store holds no password.
    let bytes = fs::read(&store).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains(PASSWORD));
}

/// A brute force against two instances' RDS-format logs: 30 failed logins from one
/// address each, then one success.
fn brute_force_log(path: &Path, host: &str) {
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!(
            "2026-11-30 21:{:02}:{:02} UTC:203.0.113.77(4{i:04}):postgres@shop:[{}]:FATAL:  password authentication failed for user \"postgres\"\n",
            i / 6,
            (i % 6) * 10,
            7000 + i
        ));
    }
    text.push_str(&format!(
        "2026-11-30 21:06:00 UTC:203.0.113.77(41000):postgres@shop:[7100]:LOG:  connection authorized: user=postgres database=shop application_name={host}\n"
    ));
    fs::write(path, text).unwrap();
}

fn findings_jsonl(store: &Path) -> Vec<serde_json::Value> {
    let o = keibi()
        .args(["findings", "list", "--format", "jsonl", "--store"])
        .arg(store)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Issue 20: the store of several workers is PostgreSQL; `keibi run`, `keibi
/// findings` and `keibi dashboard` work on it exactly as on SQLite.
#[test]
fn a_postgresql_store_serves_the_daemon_the_cli_and_the_dashboard() {
    let Some(url) = keibi_store::testing::postgres_url() else {
        return;
    };
    let pg = Path::new(&url);
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    brute_force_log(&logs.join("orders-db.log"), "psql");
    let sqlite = dir.path().join("keibi.db");
    for store in [pg, sqlite.as_path()] {
        let o = keibi()
            .args(["run", "--once", "--dashboard", "off", "--store"])
            .arg(store)
            .arg(logs.join("orders-db.log"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        // The password never reaches a log line.
        assert!(!String::from_utf8_lossy(&o.stderr).contains("secret-pw"));
    }
    let on_pg = findings_jsonl(pg);
    let on_sqlite = findings_jsonl(&sqlite);
    assert!(!on_pg.is_empty(), "the brute force is found");
    let key = |v: &serde_json::Value| {
        (
            v["id"].as_str().unwrap().to_string(),
            v["count"].as_u64(),
            v["first_seen"].as_str().map(String::from),
            v["last_seen"].as_str().map(String::from),
            v["status"].as_str().map(String::from),
        )
    };
    assert_eq!(
        on_pg.iter().map(key).collect::<Vec<_>>(),
        on_sqlite.iter().map(key).collect::<Vec<_>>(),
        "the same findings, counts and times on both stores"
    );
    // A second run over the same file counts nothing twice (the checkpoints).
    let o = keibi()
        .args(["run", "--once", "--dashboard", "off", "--store"])
        .arg(pg)
        .arg(logs.join("orders-db.log"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        findings_jsonl(pg).iter().map(key).collect::<Vec<_>>(),
        on_pg.iter().map(key).collect::<Vec<_>>()
    );
    // Workflow from the CLI.
    let id = on_pg[0]["id"].as_str().unwrap().to_string();
    let o = keibi()
        .args(["findings", "ack"])
        .arg(&id[..12])
        .args(["--note", "looking", "--store"])
        .arg(pg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = keibi()
        .args([
            "findings",
            "list",
            "--status",
            "acknowledged",
            "--format",
            "jsonl",
            "--store",
        ])
        .arg(pg)
        .output()
        .unwrap();
    let acked = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(acked.lines().count(), 1, "{acked}");
    assert!(acked.contains(&id), "{acked}");

    // The dashboard over the same store: login, the list, the finding, resolve.
    add_user(pg, "kim", "responder");
    let port = free_port();
    let _d = dashboard(pg, port, &dir.path().join("dashboard.log"));
    let r = login(port, "kim", PASSWORD);
    assert_eq!(r.status, 303, "{}", r.head);
    let session = r.cookie("keibi_session").unwrap();
    let cookie = format!("keibi_session={session}");
    let list = http(port, "GET", "/findings", &[("Cookie", &cookie)], "");
    assert_eq!(list.status, 200);
    assert!(list.body.contains(&id), "{}", list.body);
    let one = http(
        port,
        "GET",
        &format!("/findings/{id}"),
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(one.status, 200, "{}", one.head);
    assert!(one.body.contains("203.0.113.77"), "{}", one.body);
    let overview = page(port, &session);
    assert_eq!(overview.status, 200);
    // Nothing of the URL's password shows anywhere (the URL has none here; the
    // store's name is shown without one).
    assert!(!overview.body.contains("password="));
}
