//! How address lists scale: loading a generated 1,000,000-entry list (parse, sort,
//! merge, combine into an `IpSet`) and looking up random addresses, about half of them
//! listed. Issue 3 asks that lookups stay fast with a million entries.
//!
//! `cargo bench -p keibi-detect --bench iplist`

use std::fmt::Write as _;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use keibi_detect::{IpList, IpSet};

const ENTRIES: usize = 1_000_000;
const LOOKUPS: usize = 100_000;

/// splitmix64, so the data is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A list shaped like the big public ones: mostly single IPv4 addresses, some IPv4
/// networks, a few IPv6 ones. Returns the text and one address inside each entry.
fn generate(rng: &mut Rng) -> (String, Vec<IpAddr>) {
    let mut text = String::from("# generated benchmark list\n");
    let mut inside = Vec::with_capacity(ENTRIES);
    for _ in 0..ENTRIES {
        let r = rng.next();
        match r % 100 {
            0..=89 => {
                let a = Ipv4Addr::from(r as u32);
                let _ = writeln!(text, "{a}");
                inside.push(IpAddr::V4(a));
            }
            90..=97 => {
                let len = 24 + (r >> 32) % 8;
                let a = Ipv4Addr::from(r as u32);
                let _ = writeln!(text, "{a}/{len}");
                inside.push(IpAddr::V4(a));
            }
            _ => {
                let a = Ipv6Addr::from((0x2001_0db8_u128 << 96) | u128::from(rng.next()));
                let _ = writeln!(text, "{a}/64");
                inside.push(IpAddr::V6(a));
            }
        }
    }
    (text, inside)
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng(2026);
    let (text, inside) = generate(&mut rng);

    let mut group = c.benchmark_group("iplist");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(ENTRIES as u64));
    group.bench_function("load_1m", |b| {
        b.iter(|| {
            let list = IpList::parse("bench", black_box(text.as_bytes())).expect("loads");
            IpSet::new(vec![list])
        })
    });

    let list = IpList::parse("bench", text.as_bytes()).expect("loads");
    let set = IpSet::new(vec![list]);
    eprintln!(
        "iplist: {} entries, {} ranges, {} bytes ({:.1} per entry)",
        set.entries(),
        set.ranges(),
        set.memory_bytes(),
        set.memory_bytes() as f64 / set.entries() as f64
    );
    // Half listed addresses, half random ones (almost all unlisted).
    let probes: Vec<IpAddr> = (0..LOOKUPS)
        .map(|i| {
            let r = rng.next();
            if i % 2 == 0 {
                inside[(r % inside.len() as u64) as usize]
            } else {
                IpAddr::V4(Ipv4Addr::from(r as u32))
            }
        })
        .collect();
    let hits = probes.iter().filter(|&&a| set.contains(a)).count();
    eprintln!("iplist: {hits} of {LOOKUPS} probes listed");

    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(LOOKUPS as u64));
    group.bench_function("lookup_100k", |b| {
        b.iter(|| {
            probes
                .iter()
                .filter(|&&a| set.lookup(black_box(a)).is_some())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
