//! `shop-postgres`: RDS for PostgreSQL 15 with the RDS `log_line_prefix`
//! (`%t:%r:%u@%d:[%p]:`), `log_connections`, `log_disconnections`,
//! `log_min_duration_statement = 2000` and `pgaudit.log = 'read,write,ddl,role'`, one
//! file per hour (`error/postgresql.log.YYYY-MM-DD-HH`) as RDS names them.
//!
//! Line shapes follow the real server output in `crates/keibi/tests/data`: the pgaudit
//! `AUDIT: SESSION,...` CSV, `FATAL` + `DETAIL` for a wrong password, `ERROR` +
//! `STATEMENT` for a failed statement (which pgaudit may not have logged), `duration:`
//! lines for slow statements, `incomplete startup packet` for TCP health checks.

mod attacks;
mod life;

use std::fmt::Write as _;

use super::{DemoFile, Ms, Records, Rng, Week, HOUR, LOG_DIR, MIN, SEC};

const INSTANCE: &str = "shop-postgres";
const HBA_LINE: &str = "Connection matched pg_hba.conf line 13: \"host all all 0.0.0.0/0 md5\"";
const SSL: &str = " SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)";

/// Who a line is from: the prefix's `%u@%d` is `[unknown]@[unknown]` before the
/// startup packet is read.
#[derive(Clone, Copy)]
enum Who {
    Unknown,
    Known,
}

enum Origin {
    Background(u32),
    Session(usize, Who),
}

struct Line {
    origin: Origin,
    /// The message from the level on; lines after the first get the prefix again,
    /// except those starting with a tab (a continued message).
    text: String,
}

/// What pgaudit says a statement is: class, command tag, and the object (DDL only,
/// `pgaudit.log_relation` being off).
#[derive(Clone, Copy)]
struct Tag<'a> {
    class: &'a str,
    command: &'a str,
    object_type: &'a str,
    object: &'a str,
}

struct Session {
    ip: String,
    port: u32,
    user: String,
    db: String,
    start: Ms,
    /// pgaudit's statement counter.
    statements: u32,
}

struct Pg {
    rng: Rng,
    recs: Records<Line>,
    sessions: Vec<Session>,
}

/// Generates the instance's hourly log files.
pub(super) fn generate(week: &Week) -> Vec<DemoFile> {
    let mut pg = Pg {
        rng: Rng::new(0x5107_9057),
        recs: Records::new(),
        sessions: Vec::new(),
    };
    pg.checkpoints();
    pg.health_checks();
    pg.monitoring();
    pg.app();
    pg.nightly_export();
    pg.deploys();
    pg.dba();
    pg.metabase();
    pg.brute_force_and_takeover();
    pg.tor_login();
    pg.render(week)
}

impl Pg {
    // -------------------------------------------------------------- line makers

    fn push(&mut self, t: Ms, origin: Origin, text: String) {
        self.recs.push(t, Line { origin, text });
    }

    fn say(&mut self, s: usize, t: Ms, text: String) {
        self.push(t, Origin::Session(s, Who::Known), text);
    }

    /// A TCP connection arrives: the `connection received` line.
    fn open(&mut self, t: Ms, ip: &str, user: &str, db: &str) -> usize {
        let port = self.rng.range(32_768, 60_999) as u32;
        self.sessions.push(Session {
            ip: ip.to_string(),
            port,
            user: user.to_string(),
            db: db.to_string(),
            start: t,
            statements: 0,
        });
        let s = self.sessions.len() - 1;
        self.push(
            t,
            Origin::Session(s, Who::Unknown),
            format!("LOG:  connection received: host={ip} port={port}"),
        );
        s
    }

    /// A login that succeeds (password, TLS): received, authenticated, authorized.
    fn login(&mut self, t: Ms, ip: &str, user: &str, db: &str, app: Option<&str>) -> usize {
        let s = self.open(t, ip, user, db);
        let t = t + self.rng.range(15, 60) as Ms;
        self.say(
            s,
            t,
            format!(
                "LOG:  connection authenticated: identity=\"{user}\" method=md5 \
                 (/rdsdbdata/config/pg_hba.conf:13)"
            ),
        );
        let app = app
            .map(|a| format!(" application_name={a}"))
            .unwrap_or_default();
        self.say(
            s,
            t + 1,
            format!("LOG:  connection authorized: user={user} database={db}{app}{SSL}"),
        );
        s
    }

    /// A login with a wrong password.
    fn failed_login(&mut self, t: Ms, ip: &str, user: &str, db: &str) {
        let s = self.open(t, ip, user, db);
        let t = t + self.rng.range(20, 90) as Ms;
        self.say(
            s,
            t,
            format!(
                "FATAL:  password authentication failed for user \"{user}\"\nDETAIL:  {HBA_LINE}"
            ),
        );
    }

    /// A pgaudit session record: one statement (sub-statement 1).
    fn audit(&mut self, s: usize, t: Ms, class: &str, command: &str, sql: &str) {
        let tag = Tag {
            class,
            command,
            object_type: "",
            object: "",
        };
        self.audit_tagged(s, t, tag, sql);
    }

    fn audit_tagged(&mut self, s: usize, t: Ms, tag: Tag<'_>, sql: &str) {
        let n = self.next_statement(s);
        self.audit_sub(s, t, (n, 1), tag, sql);
    }

    fn next_statement(&mut self, s: usize) -> u32 {
        let sess = &mut self.sessions[s];
        sess.statements += 1;
        sess.statements
    }

    /// The record of statement `n`, sub-statement `sub`.
    fn audit_sub(&mut self, s: usize, t: Ms, (n, sub): (u32, u32), tag: Tag<'_>, sql: &str) {
        let Tag {
            class,
            command,
            object_type,
            object,
        } = tag;
        let mut text =
            format!("LOG:  AUDIT: SESSION,{n},{sub},{class},{command},{object_type},{object},");
        csv_field(sql, &mut text);
        text.push_str(",<not logged>");
        self.say(s, t, text);
    }

    /// `COPY (query) TO ...`: pgaudit logs the query, then the COPY.
    fn audit_copy_query(&mut self, s: usize, t: Ms, sql: &str) {
        let n = self.next_statement(s);
        let tag = |command| Tag {
            class: "READ",
            command,
            object_type: "",
            object: "",
        };
        self.audit_sub(s, t, (n, 1), tag("SELECT"), sql);
        self.audit_sub(s, t, (n, 2), tag("COPY"), sql);
    }

    /// A failed statement: `ERROR`, its `DETAIL`/`HINT` lines, and the statement.
    fn error(&mut self, s: usize, t: Ms, message: &str, parts: &[(&str, &str)], sql: &str) {
        let mut text = format!("ERROR:  {message}");
        for (label, part) in parts {
            let _ = write!(text, "\n{label}:  {part}");
        }
        text.push_str("\nSTATEMENT:  ");
        continued(sql, &mut text);
        self.say(s, t, text);
    }

    /// A slow statement (`log_min_duration_statement`), logged when it ends.
    fn slow(&mut self, s: usize, t: Ms, ms: u64, how: &str, sql: &str) {
        let mut text = format!(
            "LOG:  duration: {}.{:03} ms  {how}: ",
            ms,
            self.rng.below(1000)
        );
        continued(sql, &mut text);
        self.say(s, t, text);
    }

    fn disconnect(&mut self, s: usize, t: Ms) {
        let sess = &self.sessions[s];
        let d = (t - sess.start).max(1);
        let text = format!(
            "LOG:  disconnection: session time: {}:{:02}:{:02}.{:03} user={} database={} host={} port={}",
            d / HOUR,
            d / MIN % 60,
            d / SEC % 60,
            d % SEC,
            sess.user,
            sess.db,
            sess.ip,
            sess.port
        );
        self.say(s, t, text);
    }

    // -------------------------------------------------------------- output

    /// Sorts the records, gives each session a process id in order of arrival (as the
    /// postmaster does), and cuts the log into hourly files.
    fn render(self, week: &Week) -> Vec<DemoFile> {
        let Pg { recs, sessions, .. } = self;
        let mut pids = vec![0u32; sessions.len()];
        let mut next_pid = 4_211u32;
        let mut files = Vec::new();
        let mut hour = i64::MIN;
        let mut body: Vec<u8> = Vec::with_capacity(64 * 1024);
        let mut stamp_t = i64::MIN;
        let mut stamp = String::new();
        for rec in recs.sorted() {
            if rec.t / HOUR != hour {
                flush(week, hour, &mut body, &mut files);
                hour = rec.t / HOUR;
            }
            if rec.t / SEC != stamp_t {
                stamp_t = rec.t / SEC;
                let c = week.civil(rec.t);
                stamp = format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                    c.year, c.month, c.day, c.hour, c.minute, c.second
                );
            }
            let prefix = match rec.body.origin {
                Origin::Background(pid) => format!("{stamp}::@:[{pid}]:"),
                Origin::Session(s, who) => {
                    if pids[s] == 0 {
                        next_pid += 1 + (s as u32 * 7 + 3) % 5;
                        pids[s] = next_pid;
                    }
                    let sess = &sessions[s];
                    match who {
                        Who::Unknown => format!(
                            "{stamp}:{}({}):[unknown]@[unknown]:[{}]:",
                            sess.ip, sess.port, pids[s]
                        ),
                        Who::Known => format!(
                            "{stamp}:{}({}):{}@{}:[{}]:",
                            sess.ip, sess.port, sess.user, sess.db, pids[s]
                        ),
                    }
                }
            };
            for line in rec.body.text.split('\n') {
                if !line.starts_with('\t') {
                    body.extend_from_slice(prefix.as_bytes());
                }
                body.extend_from_slice(line.as_bytes());
                body.push(b'\n');
            }
        }
        flush(week, hour, &mut body, &mut files);
        files
    }
}

/// Ends the file of `hour` (hours since the week's start).
fn flush(week: &Week, hour: i64, body: &mut Vec<u8>, files: &mut Vec<DemoFile>) {
    if body.is_empty() {
        return;
    }
    let c = week.civil(hour * HOUR);
    files.push(DemoFile {
        path: format!(
            "{LOG_DIR}/{INSTANCE}/error/postgresql.log.{:04}-{:02}-{:02}-{:02}",
            c.year, c.month, c.day, c.hour
        ),
        body: std::mem::take(body),
    });
}

/// Writes a statement as pgaudit does: CSV-quoted when it holds a comma, a quote or
/// a line break, line breaks continued with a tab as the stderr log writes them.
fn csv_field(sql: &str, out: &mut String) {
    let quote = sql.contains([',', '"', '\n']);
    if quote {
        out.push('"');
    }
    for c in sql.chars() {
        match c {
            '"' => out.push_str("\"\""),
            '\n' => out.push_str("\n\t"),
            _ => out.push(c),
        }
    }
    if quote {
        out.push('"');
    }
}

/// Statement text after `STATEMENT:` or `statement:`: line breaks continue with a tab.
fn continued(sql: &str, out: &mut String) {
    out.push_str(&sql.replace('\n', "\n\t"));
}
