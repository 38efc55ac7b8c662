//! MariaDB server_audit log (CONNECT,QUERY events, as RDS enables by default): sessions
//! interleaved, quoted queries with commas and `\'` escapes, failed logins followed by
//! their disconnect.

use std::io::Write as _;

use crate::{Civil, LineLog, Rng};

const CONCURRENCY: usize = 16;

const USERS: &[(u32, &str)] = &[
    (60, "app"),
    (15, "reporting"),
    (10, "etl"),
    (5, "admin"),
    (3, "rdsadmin"),
];
const BAD_USERS: &[&str] = &["root", "admin", "test", "mysql", "app", "user", "backup"];
const DBS: &[&str] = &["shop", "shop", "shop", "analytics", ""];
const TABLES: &[&str] = &["customers", "orders", "order_items", "payments", "products"];
const NAMES: &[&str] = &["O'Brien", "D'Angelo", "Smith, Jr.", "Zoë", "Müller"];

struct Session {
    id: u64,
    user: &'static str,
    ip: String,
    db: &'static str,
    connected: bool,
    remaining: u32,
}

pub struct Mariadb {
    rng: Rng,
    server: String,
    sessions: Vec<Session>,
    next_conn: u64,
    next_query: u64,
    stamp_t: i64,
    stamp: String,
}

impl Mariadb {
    pub fn new(seed: u64) -> Self {
        Mariadb {
            rng: Rng::new(seed),
            server: "ip-10-0-2-17".into(),
            sessions: Vec::new(),
            next_conn: 1000,
            next_query: 1,
            stamp_t: i64::MIN,
            stamp: String::new(),
        }
    }

    fn stamp(&mut self, t: i64) {
        if t != self.stamp_t {
            let c = Civil::from_unix(t);
            self.stamp = format!(
                "{:04}{:02}{:02} {:02}:{:02}:{:02}",
                c.year, c.month, c.day, c.hour, c.minute, c.second
            );
            self.stamp_t = t;
        }
    }

    fn open(&mut self) {
        let mut ip = String::new();
        self.rng.client_ip(&mut ip);
        let failing = self.rng.chance(60);
        self.sessions.push(Session {
            id: self.next_conn,
            user: if failing {
                self.rng.pick(BAD_USERS)
            } else {
                self.rng.weighted(USERS)
            },
            ip,
            db: self.rng.pick(DBS),
            connected: false,
            // 0 marks a login that fails.
            remaining: if failing {
                0
            } else {
                self.rng.range(1, 40) as u32
            },
        });
        self.next_conn += 1;
    }

    /// Advances session `i` by one record; returns whether it ended.
    fn step(&mut self, i: usize, out: &mut Vec<u8>) -> bool {
        let rng = &mut self.rng;
        let s = &mut self.sessions[i];
        let head = format!(
            "{},{},{},{},{}",
            self.stamp, self.server, s.user, s.ip, s.id
        );
        if !s.connected {
            if s.remaining == 0 {
                let code = if rng.chance(900) { 1045 } else { 1044 };
                let _ = writeln!(out, "{head},0,FAILED_CONNECT,,,{code}");
                let _ = writeln!(out, "{head},0,DISCONNECT,,,0");
                return true;
            }
            let _ = writeln!(out, "{head},0,CONNECT,{},,0", s.db);
            s.connected = true;
            return false;
        }
        if s.remaining == 0 {
            let _ = writeln!(out, "{head},0,DISCONNECT,{},,0", s.db);
            return true;
        }
        s.remaining -= 1;
        let (query, code) = query(rng);
        let _ = write!(out, "{head},{},QUERY,{},'", self.next_query, s.db);
        self.next_query += 1;
        for b in query.bytes() {
            match b {
                b'\'' => out.extend_from_slice(b"\\'"),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                _ => out.push(b),
            }
        }
        let _ = writeln!(out, "',{code}");
        false
    }
}

impl LineLog for Mariadb {
    fn next_record(&mut self, t: i64, out: &mut Vec<u8>) {
        self.stamp(t);
        if self.sessions.len() < CONCURRENCY || self.rng.chance(25) {
            self.open();
        }
        let i = self.rng.below(self.sessions.len() as u64) as usize;
        if self.step(i, out) {
            self.sessions.swap_remove(i);
        }
    }
}

/// A query as the client sent it, and its return code.
fn query(rng: &mut Rng) -> (String, u32) {
    let t = rng.pick(TABLES);
    let id = rng.below(1_000_000);
    match rng.below(100) {
        0..=39 => (
            format!("SELECT id, email, name, created_at FROM {t} WHERE id = {id}"),
            0,
        ),
        40..=49 => (
            format!(
                "SELECT c.id, c.email, SUM(o.total) AS spent FROM customers c JOIN orders o ON \
                 o.customer_id = c.id WHERE c.id > {id} GROUP BY c.id, c.email LIMIT 50"
            ),
            0,
        ),
        50..=64 => (
            format!(
                "INSERT INTO customers (name, email, note) VALUES ('{}', 'u{id}@example.com', \
                 'prefers email, not phone')",
                rng.pick(NAMES)
            ),
            0,
        ),
        65..=74 => (
            format!("UPDATE {t} SET status = 'shipped', updated_at = NOW() WHERE id = {id}"),
            0,
        ),
        75..=79 => ("select @@version_comment limit 1".into(), 0),
        80..=84 => ("SET NAMES utf8mb4".into(), 0),
        85..=88 => ("COMMIT".into(), 0),
        89..=91 => (format!("SELECT * FROM {t}_archive WHERE id = {id}"), 1146),
        92..=93 => (format!("SELEC * FROM {t}"), 1064),
        94..=95 => ("SHOW DATABASES".into(), 0),
        96 => (format!("DELETE FROM {t} WHERE id = {id}"), 0),
        97 => ("GRANT SELECT ON shop.* TO 'reporting'@'%'".into(), 0),
        98 => (
            format!("SELECT * FROM {t} INTO OUTFILE '/tmp/{t}.csv' FIELDS TERMINATED BY ','"),
            1227,
        ),
        _ => (
            "CREATE TABLE IF NOT EXISTS audit_note (id INT, txt TEXT) ENGINE=InnoDB".into(),
            0,
        ),
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
        String::from_utf8(fill(&mut Mariadb::new(1), clock, 1 << 20)).unwrap()
    }

    #[test]
    fn lines_have_ten_fields_around_the_quoted_query() {
        for line in sample().lines() {
            assert!(line.starts_with("2026112"), "{line}");
            let head: Vec<&str> = line.splitn(9, ',').collect();
            assert_eq!(head.len(), 9, "{line}");
            let op = head[6];
            assert!(
                ["CONNECT", "QUERY", "DISCONNECT", "FAILED_CONNECT"].contains(&op),
                "{line}"
            );
            let code = line.rsplit(',').next().unwrap();
            assert!(code.parse::<u32>().is_ok(), "{line}");
            if op == "QUERY" {
                assert!(
                    head[8].starts_with('\'')
                        && head[8].rsplit_once(',').unwrap().0.ends_with('\'')
                );
            }
        }
    }

    #[test]
    fn mix_has_escapes_commas_and_failures() {
        let s = sample();
        for needle in [
            ",CONNECT,",
            ",DISCONNECT,",
            ",FAILED_CONNECT,,,1045",
            "O\\'Brien",
            "\\'prefers email, not phone\\'",
        ] {
            assert!(s.contains(needle), "missing {needle}");
        }
    }
}
