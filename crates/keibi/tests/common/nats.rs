//! A private nats-server with JetStream (Debian's `nats-server`, 2.9), on a loopback
//! port with its store in a temporary directory, and the subject mapping keibi's
//! streams rely on: `keibi.logs.<instance>.<rest…>` goes to
//! `keibi.p.<n>.<instance>.<rest…>`, `n` a hash of the instance token
//! (`{{partition(N,1)}}`), so one instance's records stay in one partition.

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, tail, unavailable, WAIT};

pub struct Nats {
    dir: tempfile::TempDir,
    server: PathBuf,
    child: Option<Child>,
    pub port: u16,
    pub partitions: u32,
}

/// The server's configuration: JetStream in `dir`, the partition mapping.
pub fn config(dir: &Path, port: u16, partitions: u32) -> String {
    format!(
        "listen: \"127.0.0.1:{port}\"\n\
         jetstream {{ store_dir: \"{}\" }}\n\
         mappings = {{\n  \"keibi.logs.*.>\": \"keibi.p.{{{{partition({partitions},1)}}}}.{{{{wildcard(1)}}}}.>\"\n}}\n",
        dir.join("js").display()
    )
}

impl Nats {
    /// Starts nats-server, or returns `None` after printing why it is skipped.
    pub fn start(partitions: u32) -> Option<Nats> {
        let Some(server) = super::which("nats-server") else {
            return unavailable("nats-server is not installed (package nats-server)");
        };
        let dir = tempfile::Builder::new()
            .prefix("keibi-nats-")
            .tempdir()
            .expect("create a temporary directory");
        let mut n = Nats {
            dir,
            server,
            child: None,
            port: free_port(),
            partitions,
        };
        fs::write(
            n.dir.path().join("nats.conf"),
            config(n.dir.path(), n.port, partitions),
        )
        .expect("write nats.conf");
        n.spawn();
        Some(n)
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("nats.log")
    }

    fn spawn(&mut self) {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log())
            .expect("open nats.log");
        let child = Command::new(&self.server)
            .arg("-c")
            .arg(self.dir.path().join("nats.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && fs::read_to_string(self.log())
                    .is_ok_and(|l| l.matches("Server is ready").count() >= self.starts())
            {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "nats-server exited ({status}):\n{}",
                    tail(&fs::read_to_string(self.log()).unwrap_or_default(), 4000)
                );
            }
            assert!(started.elapsed() < WAIT, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many times the server was started (the log is appended to).
    fn starts(&self) -> usize {
        fs::read_to_string(self.dir.path().join("starts"))
            .map(|s| s.len())
            .unwrap_or(0)
            + 1
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGTERM, then waits) and starts it again on the same port
    /// and store.
    pub fn restart(&mut self) {
        self.stop();
        let mut marks = fs::read_to_string(self.dir.path().join("starts")).unwrap_or_default();
        marks.push('x');
        fs::write(self.dir.path().join("starts"), marks).expect("count starts");
        self.spawn();
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if matches!(c.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
    }
}
