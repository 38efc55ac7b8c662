//! Log text for the login detectors' tests, written the way the servers write it:
//! RDS PostgreSQL stderr with the RDS `log_line_prefix` (`%t:%r:%u@%d:[%p]:`) and
//! `log_connections` on, and the MariaDB / RDS MySQL server_audit log.

use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};
use keibi_model::{Event, Finding};

use crate::config::Config;
use crate::detector::Detector;
use crate::iplist::{IpList, IpSet, ThreatLists};
use crate::testutil::{events, run};

/// Seconds after 2026-11-28 10:00:00 UTC.
pub(crate) fn at(secs: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
        .expect("base time")
        .with_timezone(&Utc)
        + Duration::seconds(secs)
}

/// A log being written: one PostgreSQL backend pid (or MySQL connection id) per
/// connection, as the server numbers them.
pub(crate) struct Log {
    pub text: String,
    next: u32,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            text: String::new(),
            next: 20_000,
        }
    }
}

impl Log {
    fn conn(&mut self) -> u32 {
        self.next += 1;
        self.next
    }

    fn pg_prefix(t: DateTime<Utc>, ip: &str, port: u32, who: &str, pid: u32) -> String {
        format!(
            "{}:{ip}({port}):{who}:[{pid}]:",
            t.format("%Y-%m-%d %H:%M:%S UTC")
        )
    }

    /// A failed password login, as PostgreSQL logs it (with the DETAIL line).
    pub(crate) fn pg_fail(&mut self, secs: i64, ip: &str, user: &str, db: &str) -> &mut Self {
        let pid = self.conn();
        let port = 40_000 + pid % 20_000;
        let t = at(secs);
        let unknown = Self::pg_prefix(t, ip, port, "[unknown]@[unknown]", pid);
        let known = Self::pg_prefix(t, ip, port, &format!("{user}@{db}"), pid);
        let _ = writeln!(
            self.text,
            "{unknown}LOG:  connection received: host={ip} port={port}"
        );
        let _ = writeln!(
            self.text,
            "{known}FATAL:  password authentication failed for user \"{user}\""
        );
        let detail = if user.starts_with("no_")
            || ["oracle", "test", "guest", "sa", "ubnt"].contains(&user)
        {
            format!("Role \"{user}\" does not exist.\n\t")
        } else {
            String::new()
        };
        let _ = writeln!(
            self.text,
            "{known}DETAIL:  {detail}Connection matched pg_hba.conf line 12: \"host all all 0.0.0.0/0 scram-sha-256\""
        );
        self
    }

    /// A successful login (connection received, authenticated, authorized).
    pub(crate) fn pg_ok(&mut self, secs: i64, ip: &str, user: &str, db: &str) -> &mut Self {
        let pid = self.conn();
        let port = 40_000 + pid % 20_000;
        let t = at(secs);
        let unknown = Self::pg_prefix(t, ip, port, "[unknown]@[unknown]", pid);
        let known = Self::pg_prefix(t, ip, port, &format!("{user}@{db}"), pid);
        let _ = writeln!(
            self.text,
            "{unknown}LOG:  connection received: host={ip} port={port}"
        );
        let _ = writeln!(
            self.text,
            "{known}LOG:  connection authenticated: identity=\"{user}\" method=scram-sha-256 (/rdsdbdata/config/pg_hba.conf:12)"
        );
        let _ = writeln!(
            self.text,
            "{known}LOG:  connection authorized: user={user} database={db} application_name=psql SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)"
        );
        self
    }

    /// A connection that sends nothing (`incomplete startup packet`).
    pub(crate) fn pg_probe(&mut self, secs: i64, ip: &str) -> &mut Self {
        let pid = self.conn();
        let port = 40_000 + pid % 20_000;
        let p = Self::pg_prefix(at(secs), ip, port, "[unknown]@[unknown]", pid);
        let _ = writeln!(
            self.text,
            "{p}LOG:  connection received: host={ip} port={port}"
        );
        let _ = writeln!(self.text, "{p}LOG:  incomplete startup packet");
        self
    }

    /// A connection received and nothing else (psql's first try before it asks for
    /// the password, or a scanner that reads the authentication request and leaves).
    pub(crate) fn pg_connect_only(&mut self, secs: i64, ip: &str) -> &mut Self {
        let pid = self.conn();
        let port = 40_000 + pid % 20_000;
        let p = Self::pg_prefix(at(secs), ip, port, "[unknown]@[unknown]", pid);
        let _ = writeln!(
            self.text,
            "{p}LOG:  connection received: host={ip} port={port}"
        );
        self
    }

    /// One server_audit record: `(user, ip, connection id)`, operation, database, code.
    fn my_line(&mut self, secs: i64, who: (&str, &str, u32), op: &str, db: &str, code: u32) {
        let (user, ip, id) = who;
        let _ = writeln!(
            self.text,
            "{},ip-10-0-1-5,{user},{ip},{id},0,{op},{db},,{code}",
            at(secs).format("%Y%m%d %H:%M:%S")
        );
    }

    /// A failed MySQL/MariaDB login (server_audit `FAILED_CONNECT`, 1045).
    pub(crate) fn my_fail(&mut self, secs: i64, ip: &str, user: &str) -> &mut Self {
        let id = self.conn();
        self.my_line(secs, (user, ip, id), "FAILED_CONNECT", "", 1045);
        self.my_line(secs, (user, ip, id), "DISCONNECT", "", 0);
        self
    }

    /// A successful MySQL/MariaDB login.
    pub(crate) fn my_ok(&mut self, secs: i64, ip: &str, user: &str, db: &str) -> &mut Self {
        let id = self.conn();
        self.my_line(secs, (user, ip, id), "CONNECT", db, 0);
        self.my_line(secs + 1, (user, ip, id), "DISCONNECT", db, 0);
        self
    }

    /// A MySQL connection closed before authenticating (`FAILED_CONNECT` without a
    /// user, as scanners and broken handshakes leave).
    pub(crate) fn my_probe(&mut self, secs: i64, ip: &str) -> &mut Self {
        let id = self.conn();
        self.my_line(secs, ("", ip, id), "FAILED_CONNECT", "", 1156);
        self
    }
}

/// Parses PostgreSQL or MySQL log text of instance `db1`.
pub(crate) fn evs(file: &str, text: &str) -> Vec<Event> {
    events(file, "db1", text)
}

/// Lists from inline text: `threat`, `tor` (Tor exit-list format) and `trusted`.
pub(crate) fn lists(threat: &str, tor: &str, trusted: &str) -> ThreatLists {
    let set = |name: &str, text: &str| {
        if text.is_empty() {
            IpSet::default()
        } else {
            IpSet::new(vec![
                IpList::parse(name, text.as_bytes()).expect("test list")
            ])
        }
    };
    ThreatLists {
        threat: set("threat.txt", threat),
        tor: set("tor-exits.txt", tor),
        trusted: set("trusted.txt", trusted),
    }
}

/// Runs one detector (made from the config) over events.
pub(crate) fn detect<D: Detector + 'static>(
    make: impl Fn(&Config) -> D,
    config: Config,
    lists: ThreatLists,
    evs: &[Event],
) -> Vec<Finding> {
    let d = make(&config);
    run(vec![Box::new(d)], config, lists, evs)
}

/// Findings of a type.
pub(crate) fn of<'a>(fs: &'a [Finding], t: &str) -> Vec<&'a Finding> {
    fs.iter().filter(|f| f.finding_type == t).collect()
}

/// Every finding's type, for assertion messages.
pub(crate) fn types(fs: &[Finding]) -> Vec<String> {
    fs.iter()
        .map(|f| format!("{} {} {}: {}", f.finding_type, f.severity, f.count, f.title))
        .collect()
}
