//! Single-core throughput of the parsers that carry the volume (PostgreSQL stderr with
//! the RDS prefix, MariaDB server_audit, gzipped CloudTrail) on realistic generated
//! input, fed in the chunks the ingest layer uses. Targets: 300 MB/s for the two line
//! formats, 150 MB/s of uncompressed bytes for CloudTrail including gunzip.
//!
//! `cargo bench -p keibi-parse --bench parsers`; `KEIBI_BENCH_MIB` sets the input
//! size per format (default 64). It runs on mimalloc, as the `keibi` binary does.

use std::hint::black_box;
use std::io::{Read, Write as _};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use flate2::read::MultiGzDecoder;
use keibi_bench::cloudtrail::{gzip, Cloudtrail};
use keibi_bench::mariadb::Mariadb;
use keibi_bench::postgres::Postgres;
use keibi_bench::{fill, Clock, DEFAULT_START};
use keibi_parse::{Format, Output, ParseConfig};

/// The `keibi` binary's allocator, so the figures are what users get: parsing
/// allocates a few strings per event, so the allocator is part of a parser's speed.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// keibi-ingest's read size.
const CHUNK: usize = 256 * 1024;

fn input_bytes() -> usize {
    let mib = std::env::var("KEIBI_BENCH_MIB")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(64);
    mib.max(1) << 20
}

/// What one pass produced: events and unrecognized lines.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    events: u64,
    unrecognized: u64,
}

impl Counts {
    fn drain(&mut self, out: &mut Output) {
        self.events += out.events.len() as u64;
        self.unrecognized += out.unrecognized_lines();
        out.events.clear();
        out.problems.clear();
    }
}

/// Parses a whole plain input, draining the output between chunks as ingest does.
fn parse_plain(format: Format, input: &[u8]) -> Counts {
    let cfg = ParseConfig::new("bench");
    let mut parser = format.parser(&cfg);
    let mut out = Output::new();
    let mut counts = Counts::default();
    for chunk in input.chunks(CHUNK) {
        parser.push(chunk, &mut out);
        counts.drain(&mut out);
    }
    parser.finish(&mut out);
    counts.drain(&mut out);
    counts
}

/// Gunzips and parses CloudTrail files, one parser per file as for files on disk.
fn parse_gz(files: &[Vec<u8>]) -> Counts {
    let cfg = ParseConfig::new("bench");
    let mut out = Output::new();
    let mut counts = Counts::default();
    let mut buf = vec![0u8; CHUNK];
    for file in files {
        let mut parser = Format::Cloudtrail.parser(&cfg);
        let mut gz = MultiGzDecoder::new(&file[..]);
        loop {
            let n = gz.read(&mut buf).expect("generated gzip is valid");
            if n == 0 {
                break;
            }
            parser.push(&buf[..n], &mut out);
            counts.drain(&mut out);
        }
        parser.finish(&mut out);
        counts.drain(&mut out);
    }
    counts
}

/// A benchmark of a parser over something that did not parse measures nothing: say
/// what the input gave before timing it.
fn report(name: &str, bytes: usize, c: Counts) {
    eprintln!(
        "{name}: {} MiB -> {} events, {} unrecognized lines",
        bytes >> 20,
        c.events,
        c.unrecognized
    );
    if c.events == 0 && !name.starts_with("unrecognized") {
        eprintln!("{name}: WARNING: no events; the parser did not recognize its input");
    }
}

fn line_clock(bytes: usize) -> Clock {
    Clock {
        start: DEFAULT_START,
        span: 3600,
        bytes_per_span: bytes as u64,
    }
}

fn parsers(c: &mut Criterion) {
    let size = input_bytes();
    let mut group = c.benchmark_group("parse");
    // Each iteration reads tens of MB: a few flat samples give a stable figure
    // in seconds rather than minutes.
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    let pg = fill(&mut Postgres::new(1), line_clock(size), size);
    report(
        "postgres-stderr",
        pg.len(),
        parse_plain(Format::PostgresStderr, &pg),
    );
    group.throughput(Throughput::Bytes(pg.len() as u64));
    group.bench_function("postgres-stderr", |b| {
        b.iter(|| parse_plain(Format::PostgresStderr, black_box(&pg)))
    });
    drop(pg);

    let my = fill(&mut Mariadb::new(1), line_clock(size), size);
    report(
        "mysql-audit",
        my.len(),
        parse_plain(Format::MysqlAudit, &my),
    );
    group.throughput(Throughput::Bytes(my.len() as u64));
    group.bench_function("mysql-audit", |b| {
        b.iter(|| parse_plain(Format::MysqlAudit, black_box(&my)))
    });
    drop(my);

    // Files of ~16 MiB rather than CloudTrail's ~50 so several files (and parser
    // set-ups) are in every pass even for a small input.
    let per_file = (16 << 20).min(size);
    let clock = Clock {
        start: DEFAULT_START,
        span: 300,
        bytes_per_span: per_file as u64,
    };
    let mut ct = Cloudtrail::new(1);
    let (mut plain, mut files) = (0u64, Vec::new());
    while (plain as usize) < size {
        let (body, end) = ct.file(clock, plain, per_file);
        plain = end;
        files.push(gzip(&body));
    }
    let packed: usize = files.iter().map(Vec::len).sum();
    eprintln!(
        "cloudtrail: {} MiB gzipped to {} MiB",
        plain >> 20,
        packed >> 20
    );
    report("cloudtrail-gz", plain as usize, parse_gz(&files));
    group.throughput(Throughput::Bytes(plain));
    group.bench_function("cloudtrail-gz", |b| b.iter(|| parse_gz(black_box(&files))));
    drop(files);

    // A wrong or hostile file: every line unreadable, each one shown to the other
    // formats in case the file changed format. That path must not be orders of
    // magnitude slower than reading lines.
    let mut junk = Vec::with_capacity(1 << 20);
    let mut i = 0u64;
    while junk.len() < 1 << 20 {
        let _ = writeln!(
            junk,
            "not a log line, number {i}, value={} foo bar",
            i * 7919
        );
        i += 1;
    }
    for format in [Format::PostgresStderr, Format::MysqlAudit] {
        let name = format!("unrecognized-{format}");
        report(&name, junk.len(), parse_plain(format, &junk));
        group.throughput(Throughput::Bytes(junk.len() as u64));
        group.bench_function(&name, |b| b.iter(|| parse_plain(format, black_box(&junk))));
    }
    group.finish();
}

criterion_group!(benches, parsers);
criterion_main!(benches);
