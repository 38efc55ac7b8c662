//! PostgreSQL stderr log with the RDS prefix `%t:%r:%u@%d:[%p]:`, as an RDS instance
//! with `log_connections`, `log_disconnections` and pgaudit writes it: several sessions
//! interleaved, audit lines with quoted statements, multi-line statements continued
//! with tabs, failed logins with their `DETAIL:` lines, checkpoints.

use std::io::Write as _;

use crate::{Civil, LineLog, Rng};

/// Sessions open at once: their lines interleave as on a busy server.
const CONCURRENCY: usize = 12;

const USERS: &[(u32, &str)] = &[
    (50, "app"),
    (15, "reporting"),
    (10, "etl"),
    (5, "postgres"),
    (5, "rdsadmin"),
    (3, "alice"),
    (3, "bob"),
];
const DBS: &[&str] = &["shop", "shop", "shop", "analytics", "postgres"];
const APPS: &[&str] = &[
    "psql",
    "PostgreSQL JDBC Driver",
    "pgAdmin 4",
    "",
    "metabase",
];
const BAD_USERS: &[&str] = &["admin", "root", "postgres", "test", "oracle", "app", "user"];
const HBA_MATCH: &str = "Connection matched pg_hba.conf line 87: \"host    all             all             0.0.0.0/0            scram-sha-256\"";
const TABLES: &[&str] = &["customers", "orders", "order_items", "payments", "products"];

struct Session {
    pid: u32,
    ip: String,
    port: u16,
    user: &'static str,
    db: &'static str,
    app: &'static str,
    authorized: bool,
    statement_id: u32,
    remaining: u32,
}

pub struct Postgres {
    rng: Rng,
    sessions: Vec<Session>,
    next_pid: u32,
    checkpointer: u32,
    stamp_t: i64,
    stamp: String,
}

impl Postgres {
    pub fn new(seed: u64) -> Self {
        Postgres {
            rng: Rng::new(seed),
            sessions: Vec::new(),
            next_pid: 10_000,
            checkpointer: 412,
            stamp_t: i64::MIN,
            stamp: String::new(),
        }
    }

    fn stamp(&mut self, t: i64) {
        if t != self.stamp_t {
            let c = Civil::from_unix(t);
            self.stamp = format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                c.year, c.month, c.day, c.hour, c.minute, c.second
            );
            self.stamp_t = t;
        }
    }

    fn background(&mut self, out: &mut Vec<u8>) {
        let pid = self.checkpointer;
        let s = &self.stamp;
        match self.rng.below(4) {
            0 => {
                let _ = writeln!(out, "{s}::@:[{pid}]:LOG:  checkpoint starting: time");
            }
            1 => {
                let (w, r) = (self.rng.range(10, 5000), self.rng.range(0, 9));
                let _ = writeln!(
                    out,
                    "{s}::@:[{pid}]:LOG:  checkpoint complete: wrote {w} buffers ({}.{}%); 0 WAL \
                     file(s) added, 0 removed, {r} recycled; write={}.{:03} s, sync=0.{:03} s, \
                     total={}.{:03} s; sync files={}, longest=0.{:03} s, average=0.{:03} s; \
                     distance={} kB, estimate={} kB",
                    w / 160,
                    w % 10,
                    w / 100,
                    self.rng.below(1000),
                    self.rng.below(50),
                    w / 100,
                    self.rng.below(1000),
                    self.rng.range(3, 60),
                    self.rng.below(20),
                    self.rng.below(5),
                    self.rng.range(1000, 90_000),
                    self.rng.range(50_000, 120_000)
                );
            }
            2 => {
                let table = self.rng.pick(TABLES);
                let pid = self.rng.range(20_000, 30_000);
                let _ = writeln!(
                    out,
                    "{s}::@:[{pid}]:LOG:  automatic analyze of table \"shop.public.{table}\"\n\
                     \tavg read rate: {}.{:03} MB/s, avg write rate: 0.000 MB/s\n\
                     \tbuffer usage: {} hits, {} misses, 0 dirtied\n\
                     \tsystem usage: CPU: user: 0.0{} s, system: 0.00 s, elapsed: 0.0{} s",
                    self.rng.below(90),
                    self.rng.below(1000),
                    self.rng.range(100, 9000),
                    self.rng.below(200),
                    self.rng.below(10),
                    self.rng.below(10)
                );
            }
            _ => {
                // A brute-force attempt from the internet: no session ever opens.
                let mut ip = String::new();
                self.rng.client_ip(&mut ip);
                let port = self.rng.range(30_000, 65_000);
                let pid = self.next_pid;
                self.next_pid = self.next_pid.wrapping_add(1).max(1000);
                let user = self.rng.pick(BAD_USERS);
                let _ = writeln!(
                    out,
                    "{s}:{ip}({port}):{user}@postgres:[{pid}]:FATAL:  no pg_hba.conf entry \
                     for host \"{ip}\", user \"{user}\", database \"postgres\", SSL off"
                );
            }
        }
    }

    fn open(&mut self, out: &mut Vec<u8>) {
        let mut ip = String::new();
        self.rng.client_ip(&mut ip);
        let s = Session {
            pid: self.next_pid,
            port: self.rng.range(30_000, 65_000) as u16,
            ip,
            user: self.rng.weighted(USERS),
            db: self.rng.pick(DBS),
            app: self.rng.pick(APPS),
            authorized: false,
            statement_id: 0,
            remaining: self.rng.range(1, 40) as u32,
        };
        self.next_pid = self.next_pid.wrapping_add(1).max(1000);
        let _ = writeln!(
            out,
            "{}:{}({}):[unknown]@[unknown]:[{}]:LOG:  connection received: host={} port={}",
            self.stamp, s.ip, s.port, s.pid, s.ip, s.port
        );
        self.sessions.push(s);
    }

    /// Advances session `i` by one record; returns whether it ended.
    fn step(&mut self, i: usize, out: &mut Vec<u8>) -> bool {
        let rng = &mut self.rng;
        let s = &mut self.sessions[i];
        let prefix = format!(
            "{}:{}({}):{}@{}:[{}]:",
            self.stamp, s.ip, s.port, s.user, s.db, s.pid
        );
        if !s.authorized {
            if rng.chance(60) {
                let _ = writeln!(
                    out,
                    "{prefix}FATAL:  password authentication failed for user \"{}\"",
                    s.user
                );
                if rng.chance(300) {
                    let _ = writeln!(
                        out,
                        "{prefix}DETAIL:  Role \"{}\" does not exist.\n\t{HBA_MATCH}",
                        s.user
                    );
                } else {
                    let _ = writeln!(out, "{prefix}DETAIL:  {HBA_MATCH}");
                }
                return true;
            }
            let _ = writeln!(
                out,
                "{prefix}LOG:  connection authenticated: identity=\"{}\" method=scram-sha-256 \
                 (/rdsdbdata/config/pg_hba.conf:13)",
                s.user
            );
            let _ = write!(
                out,
                "{prefix}LOG:  connection authorized: user={} database={} application_name={}",
                s.user, s.db, s.app
            );
            if rng.chance(600) {
                out.extend_from_slice(
                    b" SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)",
                );
            }
            out.push(b'\n');
            s.authorized = true;
            return false;
        }
        if s.remaining == 0 {
            let ms = rng.range(5, 3_600_000);
            let _ = writeln!(
                out,
                "{prefix}LOG:  disconnection: session time: {}:{:02}:{:02}.{:03} user={} \
                 database={} host={} port={}",
                ms / 3_600_000,
                ms / 60_000 % 60,
                ms / 1000 % 60,
                ms % 1000,
                s.user,
                s.db,
                s.ip,
                s.port
            );
            return true;
        }
        s.remaining -= 1;
        s.statement_id += 1;
        if rng.chance(25) {
            let t = rng.pick(TABLES);
            let _ = writeln!(
                out,
                "{prefix}ERROR:  relation \"{t}_archive\" does not exist at character 15\n\
                 {prefix}STATEMENT:  SELECT * FROM {t}_archive WHERE id = {}",
                rng.below(100_000)
            );
            return false;
        }
        let (class, command, stmt) = statement(rng);
        let (otype, oname) = if rng.chance(300) {
            ("TABLE", format!("public.{}", rng.pick(TABLES)))
        } else {
            ("", String::new())
        };
        let _ = write!(
            out,
            "{prefix}LOG:  AUDIT: SESSION,{},1,{class},{command},{otype},{oname},",
            s.statement_id
        );
        csv_field(&stmt, out);
        out.extend_from_slice(b",<not logged>\n");
        false
    }
}

impl LineLog for Postgres {
    fn next_record(&mut self, t: i64, out: &mut Vec<u8>) {
        self.stamp(t);
        if self.rng.chance(15) {
            self.background(out);
        } else if self.sessions.len() < CONCURRENCY || self.rng.chance(30) {
            self.open(out);
        } else {
            let i = self.rng.below(self.sessions.len() as u64) as usize;
            if self.step(i, out) {
                self.sessions.swap_remove(i);
            }
        }
    }
}

/// A pgaudit statement: (class, command, SQL text).
fn statement(rng: &mut Rng) -> (&'static str, &'static str, String) {
    let t = rng.pick(TABLES);
    let id = rng.below(1_000_000);
    match rng.below(100) {
        0..=44 => (
            "READ",
            "SELECT",
            format!("SELECT id, email, name, created_at FROM {t} WHERE id = {id}"),
        ),
        45..=54 => (
            "READ",
            "SELECT",
            // Multi-line: pgaudit keeps the newlines, the log continues with tabs.
            format!(
                "SELECT c.id, c.email, sum(o.total) AS spent\nFROM customers c\nJOIN orders o \
                 ON o.customer_id = c.id\nWHERE c.id > {id}\nGROUP BY c.id, c.email\nLIMIT 50"
            ),
        ),
        55..=69 => (
            "WRITE",
            "INSERT",
            format!(
                "INSERT INTO {t} (customer_id, note, total) VALUES ({id}, 'call back, \"urgent\"', \
                 {}.{:02})",
                rng.below(1000),
                rng.below(100)
            ),
        ),
        70..=79 => (
            "WRITE",
            "UPDATE",
            format!("UPDATE {t} SET status = 'shipped', updated_at = now() WHERE id = {id}"),
        ),
        80..=84 => ("MISC", "BEGIN", "BEGIN".into()),
        85..=89 => ("MISC", "COMMIT", "COMMIT".into()),
        90..=93 => (
            "WRITE",
            "DELETE",
            format!("DELETE FROM {t} WHERE id = {id}"),
        ),
        94..=96 => (
            "READ",
            "COPY",
            format!("COPY (SELECT * FROM {t}) TO STDOUT WITH (FORMAT csv, HEADER)"),
        ),
        97 => (
            "ROLE",
            "GRANT",
            format!("GRANT SELECT, INSERT ON {t} TO reporting"),
        ),
        98 => (
            "DDL",
            "CREATE TABLE",
            format!("CREATE TABLE tmp_{id} (id bigint, payload jsonb)"),
        ),
        _ => ("MISC_SET", "SET", "SET search_path TO shop, public".into()),
    }
}

/// Writes a statement as pgaudit does: CSV-quoted when it holds a comma, quote or
/// newline, with newlines continued by a tab as PostgreSQL's stderr writer does.
fn csv_field(s: &str, out: &mut Vec<u8>) {
    let quote = s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n'));
    if quote {
        out.push(b'"');
    }
    for b in s.bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\"\""),
            b'\n' => out.extend_from_slice(b"\n\t"),
            _ => out.push(b),
        }
    }
    if quote {
        out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{fill, Clock, DEFAULT_START};

    fn sample() -> String {
        let clock = Clock {
            start: DEFAULT_START,
            span: 3600,
            bytes_per_span: 1 << 20,
        };
        String::from_utf8(fill(&mut Postgres::new(1), clock, 1 << 20)).unwrap()
    }

    #[test]
    fn every_line_has_the_rds_prefix_or_is_a_tab_continuation() {
        let s = sample();
        for line in s.lines() {
            assert!(
                line.starts_with('\t') || (line.starts_with("2026-11-28 ") && line.contains("]:")),
                "{line}"
            );
        }
    }

    #[test]
    fn mix_has_every_kind_of_line() {
        let s = sample();
        for needle in [
            "connection received: host=",
            "connection authorized: user=",
            "disconnection: session time:",
            "AUDIT: SESSION,",
            ",\"INSERT INTO",
            "\n\tFROM customers c",
            "FATAL:  password authentication failed for user",
            "DETAIL:  Connection matched",
            "checkpoint complete",
            "no pg_hba.conf entry",
        ] {
            assert!(s.contains(needle), "missing {needle}");
        }
    }

    #[test]
    fn times_never_go_backwards() {
        let s = sample();
        let stamps: Vec<&str> = s
            .lines()
            .filter(|l| !l.starts_with('\t'))
            .map(|l| &l[..19])
            .collect();
        assert!(stamps.windows(2).all(|w| w[0] <= w[1]));
        assert_ne!(stamps.first(), stamps.last());
    }
}
