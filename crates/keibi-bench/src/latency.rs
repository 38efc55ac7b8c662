//! `keibi-latency`: how long after a brute force is written to a followed log it is
//! a stored finding (issue 11). A benchmark run on demand, not a test:
//!
//! ```sh
//! cargo build --release -p keibi -p keibi-bench
//! target/release/keibi-latency --trials 1000
//! ```
//!
//! It starts `keibi run FILE --store STORE` (the release binary beside this one,
//! or `--keibi PATH`) on a PostgreSQL stderr log (RDS prefix) in a temporary
//! directory, then, `--trials` times: waits a random 0-300 ms (so appends land at
//! every moment of the daemon's poll cycle, not always at the same phase), appends
//! with one `write()` a burst of `--burst` failed logins (each a FATAL and its
//! DETAIL, timestamped now) from an address not seen before, and measures from just
//! before that `write()` to the moment it reads the daemon's `finding new ...
//! BruteForce ... from ADDRESS` line on the daemon's stderr. The daemon writes that
//! line after the transaction that stores the finding has committed, so at that
//! moment the finding is visible to every reader of the store (measuring by
//! polling the store instead would add the poll's own period to every figure). At
//! the end it stops the daemon with SIGTERM and checks with `keibi findings list`
//! that the store holds one brute-force finding per trial.
//!
//! Prints min, p50, p90, p99, max and mean. `--poll MS` sets the daemon's
//! `sources.poll_interval` through a settings file (default: the daemon's own).

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use keibi_bench::{Civil, Rng};

const USAGE: &str =
    "usage: keibi-latency [--trials N] [--burst N] [--poll MS] [--keibi PATH] [--seed N]

  --trials  bursts to time (default 1000)
  --burst   failed logins per burst (default 25; the brute-force threshold is 20,
            or a quick burst of 4 attempts)
  --poll    the daemon's sources.poll_interval in ms (default: keibi's, 250)
  --keibi   the keibi binary (default: keibi beside this program)
  --seed    for the waits between bursts (default 1)";

const BRUTE_FORCE: &str = "CredentialAccess:RDS/BruteForce";

struct Args {
    trials: usize,
    burst: u32,
    poll: Option<u64>,
    keibi: PathBuf,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        trials: 1000,
        burst: 25,
        poll: None,
        keibi: std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("keibi"),
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--trials" => a.trials = num(value()?)? as usize,
            "--burst" => a.burst = num(value()?)? as u32,
            "--poll" => a.poll = Some(num(value()?)?),
            "--keibi" => a.keibi = PathBuf::from(value()?),
            "--seed" => a.seed = num(value()?)?,
            "-h" | "--help" => return Err(String::new()),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if a.trials == 0 || a.burst == 0 {
        return Err("--trials and --burst must be at least 1".into());
    }
    if a.trials > 60_000 {
        return Err("--trials: at most 60000 (one address each)".into());
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("keibi-latency: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keibi-latency: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `2026-12-06 09:24:15 UTC`, as the RDS prefix's `%t` writes it.
fn pg_time(unix: i64) -> String {
    let c = Civil::from_unix(unix);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A failed-login burst from `ip`: a FATAL and its DETAIL per attempt, as
/// PostgreSQL writes them with the RDS prefix.
fn burst(ip: &str, n: u32) -> Vec<u8> {
    let ts = pg_time(now_unix());
    let mut s = String::new();
    for k in 0..n {
        let pid = 10_000 + k;
        let port = 40_000 + k;
        s.push_str(&format!(
            "{ts}:{ip}({port}):postgres@postgres:[{pid}]:FATAL:  password authentication failed for user \"postgres\"\n\
             {ts}:{ip}({port}):postgres@postgres:[{pid}]:DETAIL:  Connection matched pg_hba.conf line 13: \"hostssl all all 0.0.0.0/0 scram-sha-256\"\n"
        ));
    }
    s.into_bytes()
}

/// Kills the daemon when the benchmark ends early.
struct Daemon(Option<Child>);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    if !args.keibi.is_file() {
        return Err(format!(
            "{} not found: cargo build --release -p keibi, or --keibi PATH",
            args.keibi.display()
        ));
    }
    let dir = std::env::temp_dir().join(format!("keibi-latency-{}", std::process::id()));
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let result = measure(args, &dir);
    let _ = fs::remove_dir_all(&dir);
    result
}

fn measure(args: &Args, dir: &Path) -> Result<(), String> {
    let file = dir.join("postgresql.log");
    let store = dir.join("keibi.db");
    let io = |e: std::io::Error| format!("{}: {e}", file.display());
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .map_err(io)?;
    // A first line, so the file has a format before the first burst.
    let first = format!(
        "{}::@:[392]:LOG:  checkpoint starting: time\n",
        pg_time(now_unix())
    );
    log.write_all(first.as_bytes()).map_err(io)?;

    let mut cmd = Command::new(&args.keibi);
    cmd.arg("run").arg(&file).arg("--store").arg(&store);
    if let Some(ms) = args.poll {
        let conf = dir.join("keibi.yaml");
        fs::write(&conf, format!("sources:\n  poll_interval: {ms}ms\n"))
            .map_err(|e| format!("{}: {e}", conf.display()))?;
        cmd.arg("--config").arg(&conf);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", args.keibi.display()))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut daemon = Daemon(Some(child));
    // Each line of the daemon's stderr with the moment it was read.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    let wait_line = |what: &dyn Fn(&str) -> bool, limit: Duration| -> Result<Instant, String> {
        let start = Instant::now();
        loop {
            let left = limit
                .checked_sub(start.elapsed())
                .ok_or("timed out waiting for the daemon")?;
            match rx.recv_timeout(left) {
                Ok((t, l)) if what(&l) => return Ok(t),
                Ok(_) => {}
                Err(_) => return Err(format!("no such daemon line within {limit:?}")),
            }
        }
    };
    wait_line(&|l| l.contains("reading"), Duration::from_secs(60))?;

    let mut rng = Rng::new(args.seed);
    let mut lat = Vec::with_capacity(args.trials);
    for i in 0..args.trials {
        std::thread::sleep(Duration::from_millis(rng.below(300)));
        let ip = format!("198.18.{}.{}", i / 250, i % 250 + 1);
        let bytes = burst(&ip, args.burst);
        let needle = format!("from {ip}:");
        let t0 = Instant::now();
        log.write_all(&bytes).map_err(io)?;
        let t = wait_line(
            &|l| l.contains("finding new") && l.contains(BRUTE_FORCE) && l.contains(&needle),
            Duration::from_secs(30),
        )
        .map_err(|e| format!("trial {i}: {e}"))?;
        lat.push(t.duration_since(t0));
        if (i + 1) % 100 == 0 {
            eprintln!("keibi-latency: {} trials", i + 1);
        }
    }

    // Stop the daemon and check the store: one brute-force finding per trial.
    let child = daemon.0.as_mut().ok_or("no daemon")?;
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return Err("kill -TERM failed".into());
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    daemon.0 = None;
    if !status.success() {
        return Err(format!("keibi run exited {status}"));
    }
    let out = Command::new(&args.keibi)
        .args(["findings", "list", "--all", "--format", "jsonl", "--store"])
        .arg(&store)
        .output()
        .map_err(|e| e.to_string())?;
    let stored = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&format!("\"type\":\"{BRUTE_FORCE}\"")))
        .count();
    if stored != args.trials {
        return Err(format!(
            "the store holds {stored} brute-force findings, not {}",
            args.trials
        ));
    }

    lat.sort();
    let at = |q: f64| lat[((lat.len() as f64 * q).ceil() as usize).clamp(1, lat.len()) - 1];
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let mean = lat.iter().sum::<Duration>() / lat.len() as u32;
    println!(
        "keibi run latency, {} trials of {} failed logins ({} stored findings): \
         min {}, p50 {}, p90 {}, p99 {}, max {}, mean {}",
        lat.len(),
        args.burst,
        stored,
        ms(lat[0]),
        ms(at(0.50)),
        ms(at(0.90)),
        ms(at(0.99)),
        ms(lat[lat.len() - 1]),
        ms(mean)
    );
    Ok(())
}
