use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn list(text: &str) -> IpList {
    IpList::parse("test", text.as_bytes()).expect("list loads")
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/iplists/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).expect("fixture")
}

/// splitmix64: deterministic test data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn plain_list_with_comments_of_every_kind() {
    let l = list(
        "# my blocklist\n\
             ; semicolon comment\n\
             \n\
             203.0.113.7\n\
             198.51.100.0/24   # office range, trailing comment\n\
             \t192.0.2.1 ; tab before, semicolon comment\r\n\
             2001:db8::/32\n",
    );
    assert_eq!(l.entries(), 4);
    assert!(l.problems().is_empty(), "{:?}", l.problems());
    assert!(l.contains(ip("203.0.113.7")));
    assert!(!l.contains(ip("203.0.113.8")));
    assert!(l.contains(ip("198.51.100.255")));
    assert!(l.contains(ip("192.0.2.1")));
    assert!(l.contains(ip("2001:db8:ffff::1")));
    assert!(!l.contains(ip("2001:db9::1")));
    assert_eq!(l.lookup(ip("198.51.100.1")), Some("test"));
    assert_eq!(l.lookup(ip("8.8.8.8")), None);
}

#[test]
fn plain_fixture() {
    let l = IpList::parse("plain.txt", &fixture("plain.txt")).expect("loads");
    assert!(l.problems().is_empty(), "{:?}", l.problems());
    assert_eq!(l.entries(), 7);
    assert!(l.contains(ip("45.155.205.233")));
    assert!(l.contains(ip("185.220.101.200")));
    assert!(l.contains(ip("2a0b:f4c2::9")));
    assert!(!l.contains(ip("45.155.205.234")));
}

#[test]
fn tor_bulk_exit_list_fixture() {
    let l = IpList::parse("torbulkexitlist", &fixture("torbulkexitlist")).expect("loads");
    assert!(l.problems().is_empty(), "{:?}", l.problems());
    assert_eq!(l.entries(), 8);
    assert!(l.contains(ip("185.220.101.1")));
    assert!(l.contains(ip("204.8.96.153")));
    assert!(!l.contains(ip("185.220.101.2")));
}

#[test]
fn tor_exit_addresses_fixture_takes_only_exit_addresses() {
    let l = IpList::parse("exit-addresses", &fixture("exit-addresses")).expect("loads");
    assert!(l.problems().is_empty(), "{:?}", l.problems());
    // Four blocks, one of them with two ExitAddress lines.
    assert_eq!(l.entries(), 5);
    assert!(l.contains(ip("171.25.193.25")));
    assert!(l.contains(ip("171.25.193.77")));
    assert!(l.contains(ip("109.70.100.4")));
    // The dates and the fingerprints are not addresses of anything.
    assert!(!l.contains(ip("171.25.193.26")));
}

#[test]
fn tor_exit_address_without_address_is_a_problem() {
    let l = list("ExitNode ABCD\nExitAddress\nExitAddress 192.0.2.9 2026-11-28 12:00:00\n");
    assert_eq!(l.entries(), 1);
    assert_eq!(l.problems().len(), 1);
    assert_eq!(l.problems()[0].line, 2);
    assert!(l.problems()[0].reason.contains("ExitAddress"));
}

#[test]
fn firehol_netset_fixture() {
    let l =
        IpList::parse("firehol_level1.netset", &fixture("firehol_level1.netset")).expect("loads");
    assert!(l.problems().is_empty(), "{:?}", l.problems());
    assert_eq!(l.entries(), 10);
    assert!(l.contains(ip("0.0.0.1")), "0.0.0.0/8 is listed");
    assert!(l.contains(ip("5.8.63.200")));
    assert!(
        l.contains(ip("14.7.255.255")),
        "14.4.0.0/14 ends at 14.7.255.255"
    );
    assert!(!l.contains(ip("14.8.0.0")));
    assert!(l.contains(ip("5.196.183.77")), "a /31");
    assert!(!l.contains(ip("5.196.183.78")));
}

#[test]
fn firehol_ranges_and_netmasks() {
    let l = list(
        "10.0.0.5-10.0.0.9\n\
             10.1.0.0 - 10.1.0.255\n\
             10.2.0.0/24 - 10.2.2.0/24\n\
             10.3.0.0/255.255.0.0\n\
             2001:db8::1 - 2001:db8::ff\n",
    );
    assert!(l.problems().is_empty(), "{:?}", l.problems());
    assert!(!l.contains(ip("10.0.0.4")));
    assert!(l.contains(ip("10.0.0.5")));
    assert!(l.contains(ip("10.0.0.9")));
    assert!(!l.contains(ip("10.0.0.10")));
    assert!(l.contains(ip("10.1.0.128")));
    assert!(
        l.contains(ip("10.2.2.255")),
        "CIDR range end is the last network's end"
    );
    assert!(!l.contains(ip("10.2.3.0")));
    assert!(l.contains(ip("10.3.200.1")));
    assert!(!l.contains(ip("10.4.0.0")));
    assert!(l.contains(ip("2001:db8::ff")));
    assert!(!l.contains(ip("2001:db8::100")));
}

#[test]
fn cidr_edges() {
    let all4 = list("0.0.0.0/0\n");
    assert!(all4.contains(ip("0.0.0.0")));
    assert!(all4.contains(ip("255.255.255.255")));
    assert!(!all4.contains(ip("2001:db8::1")));
    assert_eq!(all4.ranges(), 1);

    let all6 = list("::/0\n");
    assert!(all6.contains(ip("::")));
    assert!(all6.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
    // ::/0 holds the mapped block, so it lists every IPv4 address too.
    assert!(all6.contains(ip("192.0.2.1")));

    let host = list("192.0.2.1/32\n2001:db8::1/128\n");
    assert!(host.contains(ip("192.0.2.1")));
    assert!(!host.contains(ip("192.0.2.0")));
    assert!(!host.contains(ip("192.0.2.2")));
    assert!(host.contains(ip("2001:db8::1")));
    assert!(!host.contains(ip("2001:db8::2")));
    assert!(!host.contains(ip("2001:db8::")));

    // Network boundaries of a /24, and host bits that are dropped.
    let net = list("198.51.100.77/24\n");
    assert!(!net.contains(ip("198.51.99.255")));
    assert!(net.contains(ip("198.51.100.0")));
    assert!(net.contains(ip("198.51.100.255")));
    assert!(!net.contains(ip("198.51.101.0")));

    let top = list("255.255.255.255\nffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n");
    assert!(top.contains(ip("255.255.255.255")));
    assert!(!top.contains(ip("255.255.255.254")));
    assert!(top.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
}

#[test]
fn overlapping_and_adjacent_ranges_merge() {
    let l = list(
        "10.0.0.0/24\n10.0.0.128/25\n10.0.1.0/24\n10.0.0.7\n\
             10.0.3.0/24\n\
             2001:db8::/64\n2001:db8:0:1::/64\n",
    );
    // 10.0.0.0/24 + 10.0.1.0/24 adjacent, the /25 and the host inside; 10.0.3.0/24
    // apart (10.0.2.0/24 missing); the two /64s adjacent.
    assert_eq!(l.entries(), 7);
    assert_eq!(l.ranges(), 3);
    assert_eq!(
        l.v4,
        vec![(0x0a00_0000, 0x0a00_01ff), (0x0a00_0300, 0x0a00_03ff)]
    );
    assert!(!l.contains(ip("10.0.2.0")));
    assert!(l.contains(ip("2001:db8:0:1:ffff::")));

    let top = list("255.255.255.0/24\n255.255.255.255\n0.0.0.0/0\n");
    assert_eq!(top.v4, vec![(0, u32::MAX)]);
}

#[test]
fn ipv4_mapped_ipv6_is_ipv4() {
    let l = list("192.0.2.0/24\n::ffff:198.51.100.7\n::ffff:203.0.113.0/120\n");
    assert!(l.problems().is_empty(), "{:?}", l.problems());
    assert!(
        l.contains(ip("::ffff:192.0.2.10")),
        "mapped lookup of an IPv4 entry"
    );
    assert!(
        l.contains(ip("198.51.100.7")),
        "mapped entry found by IPv4 lookup"
    );
    assert!(l.contains(ip("203.0.113.255")));
    assert!(!l.contains(ip("203.0.114.0")));
    assert!(l.v6.is_empty(), "mapped entries are held as IPv4");
    // IPv4-compatible (::a.b.c.d, deprecated) is not mapped and stays IPv6.
    assert!(!l.contains(ip("::192.0.2.10")));
    // A mixed-notation range works when both ends are IPv4 in the end.
    let r = list("::ffff:10.0.0.1 - 10.0.0.3\n");
    assert!(r.contains(ip("10.0.0.2")));
}

#[test]
fn malformed_lines_are_reported_and_the_rest_loads() {
    let l = list(
        "192.0.2.1\n\
             not-an-ip\n\
             192.0.2.300\n\
             10.0.0.0/33\n\
             10.0.0.0/255.0.255.0\n\
             2001:db8::/129\n\
             10.0.0.9-10.0.0.1\n\
             10.0.0.1 - 2001:db8::1\n\
             10.0.0.0/\n\
             192.0.2.2 extra words\n\
             012.0.0.1\n\
             198.51.100.1\n",
    );
    assert_eq!(l.entries(), 2);
    assert!(l.contains(ip("192.0.2.1")));
    assert!(l.contains(ip("198.51.100.1")));
    let lines: Vec<u64> = l.problems().iter().map(|p| p.line).collect();
    assert_eq!(lines, (2..=11).collect::<Vec<u64>>());
    assert_eq!(l.malformed(), 10);
    let reasons: Vec<&str> = l.problems().iter().map(|p| p.reason.as_str()).collect();
    assert_eq!(
        reasons[0], "expected an address, CIDR or range, found \"not-an-ip\"",
        "a dash in a word is not a range"
    );
    assert!(reasons[2].contains("out of range 0-32"), "{reasons:?}");
    assert!(reasons[3].contains("not contiguous"), "{reasons:?}");
    assert!(reasons[4].contains("out of range 0-128"), "{reasons:?}");
    assert!(reasons[5].contains("after its end"), "{reasons:?}");
    assert!(reasons[6].contains("mixes IPv4 and IPv6"), "{reasons:?}");
    assert!(
        reasons[8].contains("one address, CIDR or range per line"),
        "{reasons:?}"
    );
    for r in &reasons {
        assert!(r.starts_with(|c: char| c.is_ascii_lowercase()), "{r}");
        assert!(!r.ends_with('.'), "{r}");
    }
    assert_eq!(
        l.problems()[1].to_string(),
        "line 3: expected an IPv4 or IPv6 address, found \"192.0.2.300\""
    );
}

#[test]
fn a_list_with_no_entry_is_an_error() {
    let err = IpList::parse("empty.txt", b"# nothing here\n\n").expect_err("no entries");
    assert_eq!(
        err.to_string(),
        "empty.txt: no address, CIDR or range in the list"
    );
    let err = IpList::parse("wrong.csv", b"id,name\n1,alice\n").expect_err("no entries");
    let msg = err.to_string();
    assert!(msg.starts_with("wrong.csv: no address"), "{msg}");
    assert!(msg.contains("2 malformed lines, first line 1:"), "{msg}");
    assert!(IpList::parse("nothing", b"").is_err());
}

#[test]
fn problems_kept_are_bounded() {
    let mut text = String::from("192.0.2.1\n");
    for _ in 0..10_000 {
        text.push_str("junk\n");
    }
    let l = list(&text);
    assert_eq!(l.malformed(), 10_000);
    assert_eq!(l.problems().len(), MAX_KEPT_PROBLEMS);
    assert_eq!(
        l.problems().last().map(|p| p.line),
        Some(MAX_KEPT_PROBLEMS as u64 + 1)
    );
}

#[test]
fn hostile_input_does_not_panic() {
    // Binary garbage.
    let mut rng = Rng(7);
    let garbage: Vec<u8> = (0..200_000).map(|_| rng.next() as u8).collect();
    let _ = IpList::parse("garbage", &garbage);

    // A 10 MB line between two good ones: reported, shortened, the rest loads.
    let mut text = b"192.0.2.1\n".to_vec();
    text.extend(std::iter::repeat_n(b'9', 10 << 20));
    text.extend_from_slice(b"\n192.0.2.2\n");
    let l = IpList::parse("long", &text).expect("loads");
    assert_eq!(l.entries(), 2);
    assert_eq!(l.problems().len(), 1);
    assert_eq!(l.problems()[0].line, 2);
    assert!(l.problems()[0].reason.len() < 200, "quotes are shortened");

    // Invalid UTF-8 in a comment is fine; in an entry it is a problem.
    let l =
        IpList::parse("utf8", b"# caf\xe9\n192.0.2.1 # \xff\xfe\n\xff\xfe.1.2.3\n").expect("loads");
    assert_eq!(l.entries(), 1);
    assert_eq!(l.problems().len(), 1);
    assert_eq!(l.problems()[0].line, 3);
    assert!(l.problems()[0].reason.contains("invalid UTF-8"));

    // Control characters are escaped in messages.
    let l = list("192.0.2.1\n\x1b[31mred\n");
    assert!(
        !l.problems()[0].reason.contains('\x1b'),
        "{:?}",
        l.problems()
    );

    // A BOM, NULs, lone dashes and slashes.
    let l = IpList::parse(
        "odd",
        b"\xEF\xBB\xBF192.0.2.1\n\0\n-\n/\n--\n1.2.3.4/\n::/\n",
    )
    .expect("loads");
    assert!(l.contains(ip("192.0.2.1")), "BOM stripped");
    assert_eq!(l.malformed(), 6);
}

#[test]
fn mutated_fixtures_do_not_panic() {
    let mut rng = Rng(42);
    for name in [
        "plain.txt",
        "torbulkexitlist",
        "exit-addresses",
        "firehol_level1.netset",
    ] {
        let base = fixture(name);
        for _ in 0..300 {
            let mut bytes = base.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(bytes.len() as u64) as usize;
                let alphabet = b"0123456789abcdef.:/-# \n\xff";
                let b = alphabet[rng.below(alphabet.len() as u64) as usize];
                if let Some(slot) = bytes.get_mut(at) {
                    *slot = b;
                }
            }
            if let Ok(l) = IpList::parse(name, &bytes) {
                let _ = l.contains(ip("192.0.2.1"));
            }
        }
    }
}

fn random_v4_spans(rng: &mut Rng, n: usize) -> Vec<Span<u32>> {
    (0..n)
        .map(|_| {
            // A small space so that entries overlap and touch often.
            let lo = rng.below(1 << 16) as u32;
            let len = [0, 0, 1, 3, 15, 255][rng.below(6) as usize];
            (lo, lo.saturating_add(len))
        })
        .collect()
}

fn text_of(spans: &[Span<u32>]) -> String {
    spans
        .iter()
        .map(|&(lo, hi)| format!("{}-{}\n", Ipv4Addr::from(lo), Ipv4Addr::from(hi)))
        .collect()
}

#[test]
fn lookup_matches_a_linear_scan_on_random_data() {
    let mut rng = Rng(2026);
    for round in 0..20 {
        let n = 1 + rng.below(2000) as usize;
        let spans = random_v4_spans(&mut rng, n);
        let l = list(&text_of(&spans));
        for w in l.v4.windows(2) {
            assert!(w[0].1.saturating_add(1) < w[1].0, "merged and apart: {w:?}");
        }
        for _ in 0..5000 {
            let x = rng.below(1 << 16 | 512) as u32;
            let naive = spans.iter().any(|&(lo, hi)| lo <= x && x <= hi);
            assert_eq!(
                l.contains(IpAddr::V4(Ipv4Addr::from(x))),
                naive,
                "round {round}, {x}"
            );
        }
    }
}

#[test]
fn ipv6_lookup_matches_a_linear_scan_on_random_data() {
    let mut rng = Rng(99);
    let base: u128 = 0x2001_0db8 << 96;
    let spans: Vec<Span<u128>> = (0..3000)
        .map(|_| {
            let lo = base + u128::from(rng.below(1 << 20));
            (lo, lo + u128::from(rng.below(300)))
        })
        .collect();
    let text: String = spans
        .iter()
        .map(|&(lo, hi)| format!("{} - {}\n", Ipv6Addr::from(lo), Ipv6Addr::from(hi)))
        .collect();
    let l = list(&text);
    let set = IpSet::new(vec![l.clone()]);
    for _ in 0..20_000 {
        let x = base + u128::from(rng.below(1 << 20 | 1024));
        let naive = spans.iter().any(|&(lo, hi)| lo <= x && x <= hi);
        let addr = IpAddr::V6(Ipv6Addr::from(x));
        assert_eq!(l.contains(addr), naive, "{x:x}");
        assert_eq!(set.contains(addr), naive, "{x:x}");
    }
}

#[test]
fn set_names_the_first_list_and_matches_a_linear_scan() {
    let mut rng = Rng(5);
    for _ in 0..10 {
        let raw: Vec<Vec<Span<u32>>> = (0..1 + rng.below(4))
            .map(|_| {
                let n = 1 + rng.below(500) as usize;
                random_v4_spans(&mut rng, n)
            })
            .collect();
        let lists: Vec<IpList> = raw
            .iter()
            .enumerate()
            .map(|(i, spans)| IpList::parse(format!("list{i}"), text_of(spans).as_bytes()))
            .collect::<Result<_, _>>()
            .expect("lists load");
        let set = IpSet::new(lists);
        for w in set.v4.starts.windows(2) {
            assert!(w[0] < w[1]);
        }
        for (end, next) in set.v4.ends.iter().zip(set.v4.starts.iter().skip(1)) {
            assert!(end < next, "disjoint");
        }
        for _ in 0..5000 {
            let x = rng.below(1 << 16 | 512) as u32;
            let naive = raw
                .iter()
                .position(|spans| spans.iter().any(|&(lo, hi)| lo <= x && x <= hi))
                .map(|i| format!("list{i}"));
            let got = set.lookup(IpAddr::V4(Ipv4Addr::from(x)));
            assert_eq!(got, naive.as_deref(), "{x}");
        }
    }
}

#[test]
fn indexed_lookup_matches_a_linear_scan_across_buckets() {
    let mut rng = Rng(11);
    // Ranges anywhere, some spanning many index buckets, some at the very ends.
    let mut spans: Vec<Span<u32>> = (0..3000)
        .map(|_| {
            let lo = rng.next() as u32;
            let len = [0, 0, 255, 65_535, 1 << 20, 1 << 26][rng.below(6) as usize];
            (lo, lo.saturating_add(len))
        })
        .collect();
    spans.push((0, 0));
    spans.push((u32::MAX, u32::MAX));
    let set = IpSet::new(vec![list(&text_of(&spans))]);
    assert_eq!(set.v4.index.len(), BUCKETS + 1);
    let mut probes: Vec<u32> = (0..50_000).map(|_| rng.next() as u32).collect();
    // Every range's edges and the addresses right outside them.
    for &(lo, hi) in &spans {
        probes.extend([lo, hi, lo.wrapping_sub(1), hi.wrapping_add(1)]);
    }
    for x in probes {
        let naive = spans.iter().any(|&(lo, hi)| lo <= x && x <= hi);
        assert_eq!(set.contains(IpAddr::V4(Ipv4Addr::from(x))), naive, "{x}");
    }
}

#[test]
fn set_combines_lists_and_keeps_names() {
    let a = IpList::parse("abuse.txt", b"10.0.0.0/24\n2001:db8::/48\n").expect("a");
    let b = IpList::parse(
        "firehol.netset",
        b"10.0.0.128/25\n10.0.1.0/24\n172.16.0.1\n",
    )
    .expect("b");
    let set = IpSet::new(vec![a, b]);
    assert_eq!(set.entries(), 5);
    assert_eq!(
        set.lookup(ip("10.0.0.200")),
        Some("abuse.txt"),
        "earlier list wins"
    );
    assert_eq!(set.lookup(ip("10.0.1.5")), Some("firehol.netset"));
    assert_eq!(set.lookup(ip("::ffff:172.16.0.1")), Some("firehol.netset"));
    assert_eq!(set.lookup(ip("2001:db8:0:ff::1")), Some("abuse.txt"));
    assert_eq!(set.lookup(ip("172.16.0.2")), None);
    assert_eq!(set.names(), ["abuse.txt", "firehol.netset"]);
    assert_eq!(set.ranges(), 4);
    assert_eq!(set.memory_bytes(), 3 * 12 + 36 + (BUCKETS + 1) * 4);
    assert!(IpSet::default().is_empty());
    assert!(!IpSet::default().contains(ip("10.0.0.1")));
}

#[test]
fn trusted_lists_take_precedence() {
    let load = |name: &str, text: &str| {
        IpSet::new(vec![IpList::parse(name, text.as_bytes()).expect("loads")])
    };
    let lists = ThreatLists {
        threat: load("threat.txt", "203.0.113.0/24\n198.51.100.9\n"),
        tor: load("tor", "203.0.113.5\n198.51.100.9\n"),
        trusted: load("office.txt", "203.0.113.5\n"),
    };
    assert_eq!(
        lists.reputation(ip("203.0.113.5")),
        Reputation::Trusted { list: "office.txt" }
    );
    assert_eq!(
        lists.reputation(ip("198.51.100.9")),
        Reputation::Listed {
            tor: Some("tor"),
            threat: Some("threat.txt")
        }
    );
    assert_eq!(
        lists.reputation(ip("203.0.113.6")),
        Reputation::Listed {
            tor: None,
            threat: Some("threat.txt")
        }
    );
    assert_eq!(lists.reputation(ip("192.0.2.1")), Reputation::Unlisted);
    assert_eq!(
        ThreatLists::default().reputation(ip("192.0.2.1")),
        Reputation::Unlisted
    );
}
