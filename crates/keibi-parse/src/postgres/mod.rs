//! PostgreSQL: stderr (any `log_line_prefix`), syslog, csvlog, jsonlog, pgaudit payloads,
//! and the PgBouncer pooler's log.

pub mod cnpg;
pub mod csvlog;
pub mod infer;
pub mod jsonlog;
mod message;
mod pgaudit;
pub mod pgbouncer;
pub mod prefix;
pub mod stderr;
pub mod supabase;
pub mod syslog;

#[cfg(test)]
pub(crate) use crate::testutil::parse_bytes;

#[cfg(test)]
mod injection_tests;

#[cfg(test)]
mod tests {
    use crate::format::Sample;
    use crate::Format;

    const STDERR: &[u8] = include_bytes!("../../tests/data/postgres/postgresql-rds-prefix.log");
    const JSONLOG: &[u8] = include_bytes!("../../tests/data/postgres/postgresql-jsonlog.json");
    const CSVLOG: &[u8] = b"2026-11-28 15:41:22.205 UTC,\"eve\",\"shop\",901,\"10.0.0.7:51000\",6b0af627.385,2,\"authentication\",2026-11-28 15:41:22 UTC,3/1,0,FATAL,28P01,\"password authentication failed for user \"\"eve\"\"\",,,,,,,,,\"\",\"client backend\",,0\n";
    const SYSLOG: &[u8] = b"Feb 11 13:15:40 test-pc postgres[10819]: [6-1] db=postgres,user=postgres,app=[unknown],client=[local] LOG:  connection authorized: user=postgres database=postgres\n";
    const DEBIAN: &[u8] = b"2026-11-28 15:41:22.101 UTC [900] LOG:  database system is ready to accept connections\n2026-11-28 15:41:22.202 UTC [901] bob@shop LOG:  connection authorized: user=bob database=shop\n";
    const PGBADGER: &[u8] = b"2026-11-28 15:41:22 UTC [5]: [1-1] user=a,db=b,app=c,client=10.0.0.1 LOG:  connection authorized: user=a database=b\n";
    const MYSQL: &[&[u8]] = &[
        b"2026-11-28 15:41:22 0 [Note] Starting MariaDB 10.11.6-MariaDB source revision as process 1\n",
        b"2026-11-28T15:41:22.123456Z 8 [Note] [MY-010926] [Server] Access denied for user 'seb'@'42.42.42.42' (using password: NO)\n",
        b"20261128 15:42:14,vm,app,localhost,8,0,CONNECT,shop,,0\n",
        b"2026-11-28T15:41:22.123456Z        14 Connect   Access denied for user 'u'@'10.0.0.1' (using password: YES)\n",
    ];
    const POSTGRES: [Format; 4] = [
        Format::PostgresStderr,
        Format::PostgresSyslog,
        Format::PostgresCsv,
        Format::PostgresJson,
    ];

    /// Mutated real lines (bytes flipped, cut, repeated, spliced) through every parser
    /// and sniffer: no panic, and every line is accounted for.
    #[test]
    fn mutated_input_never_panics() {
        let seeds: Vec<&[u8]> = [STDERR, JSONLOG, CSVLOG, SYSLOG, DEBIAN, PGBADGER]
            .iter()
            .flat_map(|b| b.split(|c| *c == b'\n'))
            .filter(|l| !l.is_empty())
            .collect();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = |n: usize| {
            x = crate::testutil::xorshift(x);
            (x % n.max(1) as u64) as usize
        };
        let alphabet = b"\t\n\r \",:@[]()%-.0123456789LOGFATALDETAIL\xff\xc3{}";
        for round in 0..300 {
            let mut input = Vec::new();
            for _ in 0..1 + rnd(20) {
                let mut line = seeds[rnd(seeds.len())].to_vec();
                for _ in 0..rnd(6) {
                    let at = rnd(line.len() + 1);
                    match rnd(4) {
                        0 => line.truncate(at),
                        1 => line.insert(at, alphabet[rnd(alphabet.len())]),
                        2 if at < line.len() => {
                            line[at] = alphabet[rnd(alphabet.len())];
                        }
                        _ => {
                            let other = seeds[rnd(seeds.len())];
                            let from = rnd(other.len());
                            line.splice(at..at, other[from..].iter().copied());
                        }
                    }
                }
                input.extend_from_slice(&line);
                input.push(b'\n');
            }
            let sample = Sample::new(&input, true);
            for f in POSTGRES {
                let _ = f.sniff(&sample);
                let mut cfg = crate::ParseConfig::new("fuzz");
                if round % 3 == 0 {
                    cfg.pg_prefix = Some("%m [%p] %q%u@%d %h %r %a %c %e %l %v %x %Q ".into());
                }
                let out = super::parse_bytes(f, &cfg, &input, 1 + rnd(64));
                let lines = input.iter().filter(|c| **c == b'\n').count() as u64;
                assert!(out.unrecognized_lines() <= lines, "{f}");
                assert!(out.events.len() as u64 <= lines, "{f}");
            }
        }
    }

    #[test]
    fn each_format_claims_only_its_own_lines() {
        for (bytes, own) in [
            (STDERR, Format::PostgresStderr),
            (DEBIAN, Format::PostgresStderr),
            (PGBADGER, Format::PostgresStderr),
            (JSONLOG, Format::PostgresJson),
            (CSVLOG, Format::PostgresCsv),
            (SYSLOG, Format::PostgresSyslog),
        ] {
            let sample = Sample::new(bytes, true);
            for f in POSTGRES {
                let want = if f == own { 100 } else { 0 };
                assert_eq!(f.sniff(&sample), want, "{f} on a {own} sample");
            }
            assert_eq!(crate::detect(bytes, true), Some(own));
        }
        for bytes in MYSQL {
            let sample = Sample::new(bytes, true);
            for f in POSTGRES {
                assert_eq!(
                    f.sniff(&sample),
                    0,
                    "{f} on {}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }
}
