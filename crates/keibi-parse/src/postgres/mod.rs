//! PostgreSQL: stderr (any `log_line_prefix`), syslog, csvlog, jsonlog, and pgaudit payloads.

pub mod csvlog;
pub mod jsonlog;
mod message;
mod pgaudit;
pub mod prefix;
pub mod stderr;
pub mod syslog;

/// Runs a whole input through a format's parser, in chunks of `chunk` bytes.
#[cfg(test)]
pub(crate) fn parse_bytes(
    format: crate::Format,
    cfg: &crate::ParseConfig,
    bytes: &[u8],
    chunk: usize,
) -> crate::Output {
    let mut p = format.parser(cfg);
    let mut out = crate::Output::new();
    for c in bytes.chunks(chunk.max(1)) {
        p.push(c, &mut out);
    }
    p.finish(&mut out);
    out
}

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
