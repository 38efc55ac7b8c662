//! A real rsyslogd on a private socket, writing what it receives in its traditional
//! file format: how Debian and Ubuntu hosts file a server's messages that went
//! through the journal or syslog. `logger` (util-linux) sends the lines.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use super::{describe, output, unavailable, WAIT};

pub struct Rsyslog {
    dir: tempfile::TempDir,
    child: Child,
    logger: PathBuf,
}

impl Rsyslog {
    /// Starts rsyslogd, or returns `None` after printing why it is skipped.
    pub fn start() -> Option<Rsyslog> {
        let Some(server) = super::which("rsyslogd") else {
            return unavailable("rsyslogd is not installed (package rsyslog)");
        };
        let Some(logger) = super::which("logger") else {
            return unavailable("logger is not installed (package bsdutils)");
        };
        let dir = tempfile::Builder::new()
            .prefix("keibi-syslog-")
            .tempdir()
            .expect("create a temporary directory");
        let d = dir.path().display();
        let conf = dir.path().join("rsyslog.conf");
        fs::write(
            &conf,
            format!(
                "global(workDirectory=\"{d}\")\n\
                 module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
                 input(type=\"imuxsock\" Socket=\"{d}/log.sock\")\n\
                 *.* action(type=\"omfile\" file=\"{d}/syslog.log\" \
                 template=\"RSYSLOG_TraditionalFileFormat\")\n"
            ),
        )
        .expect("write rsyslog.conf");
        let child = Command::new(server)
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(dir.path().join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rsyslogd");
        let r = Rsyslog { dir, child, logger };
        let started = Instant::now();
        while !r.socket().exists() {
            assert!(started.elapsed() < WAIT, "rsyslogd did not open its socket");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Some(r)
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("log.sock")
    }

    /// The file rsyslogd writes.
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("syslog.log")
    }

    /// Sends every line of `file` as program `tag` with process id `pid`, as
    /// systemd does with a service's standard error, and waits until rsyslogd has
    /// written them all.
    pub fn send_file(&self, tag: &str, pid: u32, file: &Path) {
        let before = self.lines();
        let sent = fs::read_to_string(file)
            .expect("read the file to send")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count();
        let out = output(
            Command::new(&self.logger)
                .arg("-u")
                .arg(self.socket())
                .arg("-t")
                .arg(tag)
                .arg(format!("--id={pid}"))
                .arg("-f")
                .arg(file),
        );
        assert!(out.status.success(), "logger failed: {}", describe(&out));
        let started = Instant::now();
        while self.lines() < before + sent {
            assert!(
                started.elapsed() < WAIT,
                "rsyslogd wrote {} of {sent} lines",
                self.lines() - before
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn lines(&self) -> usize {
        fs::read_to_string(self.log()).map_or(0, |s| s.lines().count())
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
