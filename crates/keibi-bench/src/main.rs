//! `keibi-gen`: writes realistic synthetic logs of a requested size for benchmarks
//! (see `benches/events.sh`). Not part of the default build:
//! `cargo run --release -p keibi-bench --bin keibi-gen -- postgres --size 1G --out bench-data/postgres`

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::Mutex;

use keibi_bench::cloudtrail::{gzip, Cloudtrail};
use keibi_bench::mariadb::Mariadb;
use keibi_bench::postgres::Postgres;
use keibi_bench::{parse_size, Civil, Clock, LineLog, DEFAULT_START};

const USAGE: &str = "usage: keibi-gen postgres|mariadb|cloudtrail --size SIZE --out DIR \
[--file-size SIZE] [--seed N] [--start UNIX_SECONDS]

  postgres    DIR/error/postgresql.log.YYYY-MM-DD-HH, one file per hour (RDS prefix)
  mariadb     DIR/audit/server_audit.log[.N], rotated by size
  cloudtrail  DIR/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz,
              one file per five minutes; sizes count uncompressed bytes
  --file-size bytes per file (default 64M for logs, 50M for CloudTrail)
  SIZE        e.g. 1G, 100M, 512K";

struct Args {
    kind: String,
    size: u64,
    out: PathBuf,
    file_size: Option<u64>,
    seed: u64,
    start: i64,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let kind = it.next().ok_or("missing log kind")?;
    let (mut size, mut out, mut file_size, mut seed, mut start) =
        (None, None, None, 1, DEFAULT_START);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--size" => size = Some(parse_size(&value()?)?),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--file-size" => file_size = Some(parse_size(&value()?)?),
            "--seed" => seed = value()?.parse().map_err(|_| "--seed needs a number")?,
            "--start" => start = value()?.parse().map_err(|_| "--start needs a number")?,
            _ => return Err(format!("unknown argument '{flag}'")),
        }
    }
    Ok(Args {
        kind,
        size: size.ok_or("missing --size")?,
        out: out.ok_or("missing --out")?,
        file_size,
        seed,
        start,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("keibi-gen: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match args.kind.as_str() {
        "postgres" => lines(&args, &mut Postgres::new(args.seed), "error", |t, _, _| {
            let c = Civil::from_unix(t);
            format!(
                "postgresql.log.{:04}-{:02}-{:02}-{:02}",
                c.year, c.month, c.day, c.hour
            )
        }),
        "mariadb" => lines(&args, &mut Mariadb::new(args.seed), "audit", |_, i, n| {
            // As MariaDB rotates: the live file, then .1 the newest rotated one.
            if i + 1 == n {
                "server_audit.log".into()
            } else {
                format!("server_audit.log.{}", n - 1 - i)
            }
        }),
        "cloudtrail" => cloudtrail(&args),
        k => Err(format!("unknown log kind '{k}'\n{USAGE}")),
    };
    match result {
        Ok((bytes, files)) => {
            eprintln!(
                "keibi-gen: wrote {} MiB ({} uncompressed bytes) in {files} files under {}",
                bytes >> 20,
                bytes,
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("keibi-gen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let f = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 20, f))
}

/// A line log cut into files of about `--file-size` bytes, each spanning an hour. Files
/// are written under temporary names and renamed once their count is known, since
/// rotated names count back from the newest.
fn lines(
    args: &Args,
    log: &mut dyn LineLog,
    sub: &str,
    name: impl Fn(i64, usize, usize) -> String,
) -> Result<(u64, usize), String> {
    let per_file = args.file_size.unwrap_or(64 << 20);
    let clock = Clock {
        start: args.start,
        span: 3600,
        bytes_per_span: per_file,
    };
    let dir = args.out.join(sub);
    let mut files: Vec<(PathBuf, i64)> = Vec::new();
    let mut w: Option<BufWriter<File>> = None;
    let (mut total, mut in_file) = (0u64, 0u64);
    let mut rec = Vec::with_capacity(64 * 1024);
    while total < args.size {
        let t = clock.at(total);
        if w.is_none() || in_file >= per_file {
            if let Some(mut old) = w.take() {
                old.flush().map_err(|e| e.to_string())?;
            }
            let tmp = dir.join(format!(".keibi-gen-part-{}", files.len()));
            w = Some(create(&tmp)?);
            files.push((tmp, t));
            in_file = 0;
        }
        rec.clear();
        log.next_record(t, &mut rec);
        if let Some(w) = w.as_mut() {
            w.write_all(&rec).map_err(|e| e.to_string())?;
        }
        total += rec.len() as u64;
        in_file += rec.len() as u64;
    }
    if let Some(mut old) = w.take() {
        old.flush().map_err(|e| e.to_string())?;
    }
    let n = files.len();
    for (i, (tmp, t)) in files.iter().enumerate() {
        let to = dir.join(name(*t, i, n));
        fs::rename(tmp, &to).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    Ok((total, n))
}

/// CloudTrail files, five minutes each; two threads gzip while this one generates.
fn cloudtrail(args: &Args) -> Result<(u64, usize), String> {
    let per_file = args.file_size.unwrap_or(50 << 20);
    let clock = Clock {
        start: args.start,
        span: 300,
        bytes_per_span: per_file,
    };
    let mut ct = Cloudtrail::new(args.seed);
    let (tx, rx) = mpsc::sync_channel::<(PathBuf, Vec<u8>)>(2);
    let rx = Mutex::new(rx);
    let err: Mutex<Option<String>> = Mutex::new(None);
    let (mut total, mut files) = (0u64, 0usize);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let job = match rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((path, body)) = job else { return };
                let res = create(&path).and_then(|mut w| {
                    w.write_all(&gzip(&body))
                        .and_then(|()| w.flush())
                        .map_err(|e| format!("{}: {e}", path.display()))
                });
                if let Err(e) = res {
                    if let Ok(mut slot) = err.lock() {
                        slot.get_or_insert(e);
                    }
                }
            });
        }
        while total < args.size {
            let t = clock.at(total);
            let (body, end) = ct.file(clock, total, per_file as usize);
            let path = args.out.join(ct.key(t));
            total = end;
            files += 1;
            if tx.send((path, body)).is_err() {
                break;
            }
        }
        drop(tx);
    });
    match err.into_inner().ok().flatten() {
        Some(e) => Err(e),
        None => Ok((total, files)),
    }
}
