//! MassDestruction and RansomNote on realistic PostgreSQL (RDS prefix, `log_statement` and
//! pgaudit) and MariaDB/RDS server_audit logs: attacks fire, ordinary work (deploys,
//! restores, ETL, ORMs, monitoring) stays silent.

use chrono::{DateTime, Duration, Utc};
use keibi_model::{Event, Finding};

use super::{MassDestruction, RansomNote};
use crate::config::Config;
use crate::detector::Detector;
use crate::iplist::ThreatLists;
use crate::scanner::Scanner;
use crate::testutil::{events, of_type, run, scan};

const MASS: &str = "Impact:RDS/MassDestruction";
const RANSOM: &str = "Impact:RDS/RansomNote";

pub(super) fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T03:00:00Z")
        .expect("valid time")
        .into()
}

/// `%r` of the RDS prefix: `[local]` for the Unix socket, else `ip(port)`.
fn remote(ip: &str, pid: u32) -> String {
    if ip == "[local]" {
        ip.to_string()
    } else {
        format!("{ip}(5{pid})")
    }
}

/// Writes PostgreSQL stderr lines with the RDS prefix.
pub(super) struct Pg {
    out: String,
}

impl Pg {
    pub(super) fn new() -> Self {
        Pg { out: String::new() }
    }

    /// A login of `user` from `ip` as process `pid`, `secs` after t0.
    pub(super) fn login(
        &mut self,
        secs: i64,
        ip: &str,
        user: &str,
        pid: u32,
        app: &str,
    ) -> &mut Self {
        let t = (t0() + Duration::seconds(secs)).format("%Y-%m-%d %H:%M:%S UTC");
        let remote = remote(ip, pid);
        let received = if ip == "[local]" {
            "host=[local]".to_string()
        } else {
            format!("host={ip} port=5{pid}")
        };
        self.out.push_str(&format!(
            "{t}:{remote}:[unknown]@[unknown]:[{pid}]:LOG:  connection received: {received}\n\
             {t}:{remote}:{user}@shop:[{pid}]:LOG:  connection authorized: user={user} database=shop application_name={app}\n"
        ));
        self
    }

    /// A `log_statement` line.
    pub(super) fn sql(
        &mut self,
        secs: i64,
        ip: &str,
        user: &str,
        pid: u32,
        sql: &str,
    ) -> &mut Self {
        let t = (t0() + Duration::seconds(secs)).format("%Y-%m-%d %H:%M:%S UTC");
        let remote = remote(ip, pid);
        self.out.push_str(&format!(
            "{t}:{remote}:{user}@shop:[{pid}]:LOG:  statement: {sql}\n"
        ));
        self
    }

    /// A pgaudit SESSION line.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn audit(
        &mut self,
        secs: i64,
        ip: &str,
        user: &str,
        pid: u32,
        class_cmd: &str,
        object: &str,
        sql: &str,
    ) -> &mut Self {
        let t = (t0() + Duration::seconds(secs)).format("%Y-%m-%d %H:%M:%S UTC");
        let remote = remote(ip, pid);
        let q = sql.replace('"', "\"\"");
        self.out.push_str(&format!(
            "{t}:{remote}:{user}@shop:[{pid}]:LOG:  AUDIT: SESSION,1,1,{class_cmd},{object},\"{q}\",<not logged>\n"
        ));
        self
    }

    pub(super) fn events(&self) -> Vec<Event> {
        events("postgresql.log", "orders-db", &self.out)
    }
}

/// Writes MariaDB/RDS server_audit records.
pub(super) struct My {
    out: String,
    qid: u32,
}

impl My {
    pub(super) fn new() -> Self {
        My {
            out: String::new(),
            qid: 1,
        }
    }

    fn stamp(secs: i64) -> String {
        (t0() + Duration::seconds(secs))
            .format("%Y%m%d %H:%M:%S")
            .to_string()
    }

    pub(super) fn connect(&mut self, secs: i64, user: &str, ip: &str, conn: u32) -> &mut Self {
        self.out.push_str(&format!(
            "{},ip-10-0-1-5,{user},{ip},{conn},0,CONNECT,shop,,0\n",
            Self::stamp(secs)
        ));
        self
    }

    pub(super) fn query(
        &mut self,
        secs: i64,
        user: &str,
        ip: &str,
        conn: u32,
        sql: &str,
    ) -> &mut Self {
        let esc = sql.replace('\\', "\\\\").replace('\'', "\\'");
        self.qid += 1;
        self.out.push_str(&format!(
            "{},ip-10-0-1-5,{user},{ip},{conn},{},QUERY,shop,'{esc}',0\n",
            Self::stamp(secs),
            self.qid
        ));
        self
    }

    /// A server_audit TABLE event (server_audit_events=TABLE).
    pub(super) fn table(
        &mut self,
        secs: i64,
        user: &str,
        ip: &str,
        conn: u32,
        op: &str,
        table: &str,
    ) -> &mut Self {
        self.out.push_str(&format!(
            "{},ip-10-0-1-5,{user},{ip},{conn},{},{op},shop,{table},\n",
            Self::stamp(secs),
            self.qid
        ));
        self
    }

    pub(super) fn events(&self) -> Vec<Event> {
        events("server_audit.log", "shop-mysql", &self.out)
    }
}

fn mass(evs: &[Event]) -> Vec<Finding> {
    let c = Config::default();
    run(
        vec![Box::new(MassDestruction::new(&c.activity))],
        c,
        ThreatLists::default(),
        evs,
    )
}

fn ransom(evs: &[Event]) -> Vec<Finding> {
    let c = Config::default();
    run(
        vec![Box::new(RansomNote::new(&c.activity))],
        c,
        ThreatLists::default(),
        evs,
    )
}

const TABLES: &[&str] = &[
    "customers",
    "orders",
    "order_items",
    "products",
    "invoices",
    "payments",
    "addresses",
    "carts",
    "reviews",
    "coupons",
    "shipments",
    "refunds",
    "suppliers",
    "stock",
];

#[test]
fn mass_destruction_fires_on_a_wipe_postgres() {
    let mut pg = Pg::new();
    pg.login(0, "198.51.100.23", "app", 811, "psql");
    for (i, t) in TABLES.iter().enumerate() {
        pg.sql(
            10 + i as i64 * 3,
            "198.51.100.23",
            "app",
            811,
            &format!("DROP TABLE IF EXISTS public.{t} CASCADE;"),
        );
    }
    pg.sql(60, "198.51.100.23", "app", 811, "DROP DATABASE analytics");
    let evs = pg.events();
    let f = mass(&evs);
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = &f[0];
    assert_eq!(f.finding_type, MASS);
    assert_eq!(f.severity.value(), 8.0);
    assert_eq!(f.count, TABLES.len() as u64 + 1);
    assert_eq!(f.title, "app destroyed 15 tables or databases on orders-db");
    assert!(f.description.contains("15 DROP"), "{}", f.description);
    assert!(
        f.description.contains("customers, orders"),
        "{}",
        f.description
    );
    assert!(f.description.contains("198.51.100.23"), "{}", f.description);
    assert_eq!(f.mitre, vec!["T1485"]);
    assert_eq!(f.actor.user.as_deref(), Some("app"));
    assert_eq!(f.evidence.len(), 15);
}

#[test]
fn mass_destruction_fires_on_deletes_and_truncates_mysql() {
    let mut my = My::new();
    my.connect(0, "shop_app", "203.0.113.77", 90);
    for (i, t) in TABLES.iter().take(6).enumerate() {
        my.query(
            5 + i as i64,
            "shop_app",
            "203.0.113.77",
            90,
            &format!("DELETE FROM {t}"),
        );
    }
    for (i, t) in TABLES.iter().skip(6).enumerate() {
        my.query(
            20 + i as i64,
            "shop_app",
            "203.0.113.77",
            90,
            &format!("TRUNCATE TABLE `shop`.`{t}`"),
        );
    }
    // The application keeps inserting into a wiped table: not a reload by the wiper.
    my.query(
        40,
        "web",
        "10.0.2.8",
        91,
        "INSERT INTO customers (email) VALUES ('new@example.com')",
    );
    let f = mass(&my.events());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].resource.id, "shop-mysql");
    assert_eq!(f[0].resource.engine, Some(keibi_model::Engine::Mysql));
    assert!(
        f[0].description
            .contains("8 TRUNCATE, 6 DELETE without WHERE"),
        "{}",
        f[0].description
    );
}

#[test]
fn mass_destruction_is_raised_once_settled_without_waiting_for_the_end() {
    let mut pg = Pg::new();
    for (i, t) in TABLES.iter().enumerate() {
        pg.sql(
            i as i64,
            "198.51.100.23",
            "app",
            811,
            &format!("DROP TABLE {t}"),
        );
    }
    // Ten minutes later some other traffic moves the clock on.
    pg.sql(900, "10.0.0.5", "web", 812, "SELECT 1");
    let c = Config::default();
    let mut s = Scanner::with_detectors(
        c.clone(),
        ThreatLists::default(),
        vec![Box::new(MassDestruction::new(&c.activity)) as Box<dyn Detector>],
    );
    for e in pg.events() {
        s.observe(&e);
    }
    assert_eq!(s.findings().len(), 1);
}

#[test]
fn mass_destruction_ignores_migrations_restores_and_etl() {
    let ip = "10.0.4.20";
    // A deploy's migrations drop a few tables.
    let mut pg = Pg::new();
    pg.login(0, ip, "deploy", 900, "rails");
    for (i, t) in ["legacy_carts", "old_sessions", "tmp_import"]
        .iter()
        .enumerate()
    {
        pg.sql(
            5 + i as i64,
            ip,
            "deploy",
            900,
            &format!("DROP TABLE \"{t}\""),
        );
    }
    pg.sql(
        9,
        ip,
        "deploy",
        900,
        "ALTER TABLE orders ADD COLUMN note text",
    );
    assert!(mass(&pg.events()).is_empty());

    // pg_restore --clean: every table dropped first, then created and loaded.
    let mut pg = Pg::new();
    for (i, t) in TABLES.iter().enumerate() {
        pg.sql(
            i as i64,
            ip,
            "restore",
            901,
            &format!("DROP TABLE IF EXISTS public.{t};"),
        );
    }
    for (i, t) in TABLES.iter().enumerate() {
        pg.sql(
            30 + i as i64,
            ip,
            "restore",
            901,
            &format!("CREATE TABLE public.{t} (id integer NOT NULL);"),
        );
    }
    for (i, t) in TABLES.iter().enumerate() {
        pg.sql(
            60 + i as i64,
            ip,
            "restore",
            901,
            &format!("COPY public.{t} (id) FROM stdin;"),
        );
    }
    assert!(mass(&pg.events()).is_empty());

    // A mysqldump file being loaded: DROP/CREATE/INSERT per table.
    let mut my = My::new();
    my.connect(0, "admin", ip, 5);
    for (i, t) in TABLES.iter().enumerate() {
        let s = i as i64 * 2;
        my.query(s, "admin", ip, 5, &format!("DROP TABLE IF EXISTS `{t}`"));
        my.query(
            s,
            "admin",
            ip,
            5,
            &format!("CREATE TABLE `{t}` (`id` int NOT NULL)"),
        );
        my.query(
            s + 1,
            "admin",
            ip,
            5,
            &format!("INSERT INTO `{t}` VALUES (1),(2)"),
        );
    }
    assert!(mass(&my.events()).is_empty());

    // Nightly ETL: staging tables truncated, then reloaded; work tables made and dropped.
    let mut pg = Pg::new();
    for (i, t) in TABLES.iter().enumerate() {
        pg.sql(i as i64, ip, "etl", 902, &format!("TRUNCATE staging_{t}"));
    }
    for (i, t) in TABLES.iter().enumerate() {
        pg.sql(
            100 + i as i64 * 10,
            ip,
            "etl",
            902,
            &format!("COPY staging_{t} FROM STDIN WITH (FORMAT csv)"),
        );
    }
    for (i, t) in TABLES.iter().enumerate() {
        pg.sql(
            300 + i as i64,
            ip,
            "etl",
            902,
            &format!("CREATE TEMP TABLE work_{t} AS SELECT * FROM staging_{t}"),
        );
        pg.sql(
            320 + i as i64,
            ip,
            "etl",
            902,
            &format!("DROP TABLE work_{t}"),
        );
    }
    assert!(mass(&pg.events()).is_empty());

    // Deletes with a WHERE are ordinary, however many.
    let mut my = My::new();
    for (i, t) in TABLES.iter().enumerate() {
        my.query(
            i as i64,
            "janitor",
            ip,
            6,
            &format!("DELETE FROM {t} WHERE created_at < NOW() - INTERVAL 90 DAY"),
        );
    }
    assert!(mass(&my.events()).is_empty());
}

#[test]
fn mass_destruction_counts_pgaudit_and_table_events_once_per_object() {
    let ip = "198.51.100.23";
    let mut pg = Pg::new();
    for (i, t) in TABLES.iter().take(9).enumerate() {
        let s = i as i64;
        let sql = format!("DROP TABLE {t};");
        // log_statement and pgaudit both on: three lines per table.
        pg.sql(s, ip, "app", 811, &sql);
        pg.audit(
            s,
            ip,
            "app",
            811,
            "DDL,DROP TABLE,TABLE",
            &format!("public.{t}"),
            &sql,
        );
        pg.audit(
            s,
            ip,
            "app",
            811,
            "DDL,DROP TABLE,SEQUENCE",
            &format!("public.{t}_id_seq"),
            &sql,
        );
    }
    // Nine distinct tables: under the threshold of ten.
    assert!(mass(&pg.events()).is_empty());

    let mut my = My::new();
    for (i, t) in TABLES.iter().take(10).enumerate() {
        my.query(i as i64, "app", ip, 9, &format!("DROP TABLE {t}"));
        my.table(i as i64, "app", ip, 9, "DROP", t);
    }
    let f = mass(&my.events());
    assert_eq!(f.len(), 1);
    assert!(f[0].title.contains("destroyed 10 tables"), "{}", f[0].title);
}

#[test]
fn mass_destruction_state_is_bounded_on_hostile_input() {
    let mut pg = Pg::new();
    let names: Vec<String> = (0..5000).map(|i| format!("t{i}")).collect();
    pg.sql(
        0,
        "198.51.100.23",
        "app",
        811,
        &format!("DROP TABLE {}", names.join(", ")),
    );
    for i in 0..300 {
        pg.sql(
            1 + i,
            "198.51.100.23",
            &format!("user{i}"),
            900 + i as u32,
            &format!("DROP TABLE x{i}"),
        );
    }
    let f = mass(&pg.events());
    // 64 names are read from the one statement; each other user dropped one table.
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].actor.user.as_deref(), Some("app"));
}

/// The README_TO_RECOVER campaign against an exposed MySQL, as its audit log shows it.
fn mysql_campaign() -> My {
    let ip = "45.148.10.81";
    let mut my = My::new();
    my.connect(0, "root", ip, 4411)
        .query(1, "root", ip, 4411, "SHOW DATABASES")
        .query(2, "root", ip, 4411, "SELECT * FROM shop.customers")
        .query(9, "root", ip, 4411, "DROP DATABASE shop")
        .query(9, "root", ip, 4411, "DROP DATABASE crm")
        .query(10, "root", ip, 4411, "CREATE DATABASE README_TO_RECOVER_A")
        .query(10, "root", ip, 4411, "CREATE TABLE README_TO_RECOVER_A.README (readme varchar(255))")
        .query(11, "root", ip, 4411, "INSERT INTO README_TO_RECOVER_A.README (readme) VALUES ('All your data is backed up. You must pay 0.0075 BTC to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh In 48 hours, your data will be publicly disclosed and deleted. After paying send mail to us: rambler+1bvrq@onionmail.org and we will provide a link for you to download your data. Your DBCODE is: 1BVRQ')");
    my
}

#[test]
fn ransom_note_fires_on_the_mysql_campaign() {
    let f = ransom(&mysql_campaign().events());
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = &f[0];
    assert_eq!(f.finding_type, RANSOM);
    assert_eq!(f.severity.value(), 9.5);
    assert_eq!(f.mitre, vec!["T1485", "T1486"]);
    assert_eq!(
        f.actor.ip.map(|i| i.to_string()).as_deref(),
        Some("45.148.10.81")
    );
    // Two drops, the note database and table, the demand.
    assert_eq!(f.count, 5);
    assert!(
        f.title.starts_with("Ransom note on shop-mysql"),
        "{}",
        f.title
    );
    assert!(f.title.contains("readme_to_recover_a"), "{}", f.title);
    assert!(
        f.description.contains("database shop, database crm"),
        "{}",
        f.description
    );
    assert!(f.description.contains("BTC"), "{}", f.description);
}

#[test]
fn ransom_note_fires_on_postgres_drop_then_warning_table() {
    let ip = "185.220.101.4";
    let mut pg = Pg::new();
    pg.login(0, ip, "postgres", 3131, "");
    for (i, t) in ["customers", "orders", "payments"].iter().enumerate() {
        pg.audit(
            5 + i as i64,
            ip,
            "postgres",
            3131,
            "DDL,DROP TABLE,TABLE",
            &format!("public.{t}"),
            &format!("DROP TABLE {t} CASCADE;"),
        );
    }
    pg.audit(
        12,
        ip,
        "postgres",
        3131,
        "DDL,CREATE TABLE,TABLE",
        "public.warning",
        "CREATE TABLE warning (message text);",
    );
    let f = ransom(&pg.events());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].severity.value(), 9.5);
    assert!(f[0].title.ends_with("then warning left"), "{}", f[0].title);
}

#[test]
fn a_demand_without_destruction_is_high_and_upgraded_by_a_later_drop() {
    let ip = "45.148.10.81";
    let mut my = My::new();
    my.query(0, "root", ip, 7, "INSERT INTO notes VALUES ('To recover your lost databases send 0.05 BTC to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT')");
    let f = ransom(&my.events());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity.value(), 7.0);
    assert!(
        f[0].description.contains("was not seen"),
        "{}",
        f[0].description
    );
    my.query(30, "root", ip, 7, "DROP DATABASE shop");
    let f = ransom(&my.events());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity.value(), 9.5);
}

#[test]
fn ransom_note_stays_silent_on_lookalikes() {
    let ip = "10.0.4.20";
    // A docs table named readme, no destruction.
    let mut pg = Pg::new();
    pg.sql(
        0,
        ip,
        "deploy",
        1,
        "CREATE TABLE readme (id serial, body text)",
    );
    pg.sql(
        1,
        ip,
        "deploy",
        1,
        "INSERT INTO readme (body) VALUES ('How to recover a user account: see the runbook')",
    );
    assert!(ransom(&pg.events()).is_empty());
    // A restore that drops and re-creates its own warning and readme tables.
    let mut my = My::new();
    for t in ["warning", "readme", "orders"] {
        my.query(0, "admin", ip, 2, &format!("DROP TABLE IF EXISTS `{t}`"));
        my.query(0, "admin", ip, 2, &format!("CREATE TABLE `{t}` (id int)"));
    }
    assert!(ransom(&my.events()).is_empty());
    // Prices in BTC are not a demand; a staging truncate is not the campaign.
    let mut my = My::new();
    my.query(0, "etl", ip, 3, "TRUNCATE staging_prices");
    my.query(
        1,
        "etl",
        ip,
        3,
        "INSERT INTO prices (symbol, usd, note) VALUES ('BTC', 97000, 'daily close')",
    );
    my.query(
        2,
        "etl",
        ip,
        3,
        "CREATE TABLE btc_prices_2026_12 (day date, usd numeric)",
    );
    assert!(ransom(&my.events()).is_empty());
    // A deploy drops one old table and creates a recovery-token table; an ETL job
    // truncates its staging tables while someone creates a readme table.
    let mut pg = Pg::new();
    pg.sql(0, ip, "deploy", 5, "DROP TABLE password_resets");
    pg.sql(
        1,
        ip,
        "deploy",
        5,
        "CREATE TABLE password_recover_tokens (id bigserial, token text)",
    );
    pg.sql(
        2,
        ip,
        "deploy",
        5,
        "CREATE TABLE how_to_guides (id bigserial, body text)",
    );
    for t in TABLES {
        pg.sql(10, "10.0.5.5", "etl", 6, &format!("TRUNCATE staging_{t}"));
    }
    pg.sql(20, "10.0.4.21", "docs", 7, "CREATE TABLE readme (id int)");
    assert!(ransom(&pg.events()).is_empty());
    // A note long after the destruction (beyond the lookback) is not the pattern.
    let mut my = My::new();
    my.query(0, "admin", ip, 4, "DROP TABLE old_orders");
    my.query(
        3 * 3600,
        "admin",
        ip,
        4,
        "CREATE TABLE how_to_release (step text)",
    );
    assert!(ransom(&my.events()).is_empty());
}

#[test]
fn a_whole_scan_of_the_mysql_campaign_tells_the_story() {
    // Rules and detectors together: the note, and nothing mass-destruction-shaped for
    // two databases.
    let f = scan(
        Config::default(),
        ThreatLists::default(),
        &mysql_campaign().events(),
    );
    assert_eq!(of_type(&f, RANSOM).len(), 1, "{f:#?}");
    assert!(of_type(&f, MASS).is_empty());
}

#[test]
fn a_ci_runs_test_databases_dropped_after_the_window_are_no_mass_destruction() {
    // `manage.py test --parallel 3`: test_app and its three clones, dropped when the
    // run ends ten minutes later (past the five-minute window).
    let mut pg = Pg::new();
    let dbs = ["test_app", "test_app_1", "test_app_2", "test_app_3"];
    pg.login(0, "10.0.7.7", "ci", 700, "django");
    for (i, db) in dbs.iter().enumerate() {
        pg.sql(
            1 + i as i64,
            "10.0.7.7",
            "ci",
            700,
            &format!("CREATE DATABASE \"{db}\""),
        );
    }
    for (i, db) in dbs.iter().enumerate() {
        pg.sql(
            600 + i as i64,
            "10.0.7.7",
            "ci",
            700,
            &format!("DROP DATABASE \"{db}\""),
        );
    }
    let f = mass(&pg.events());
    assert!(f.is_empty(), "{f:#?}");
    // Databases that existed before the stream still weigh as databases.
    let mut pg = Pg::new();
    pg.login(0, "10.0.7.7", "ci", 700, "django");
    for (i, db) in dbs.iter().enumerate() {
        pg.sql(
            600 + i as i64,
            "10.0.7.7",
            "ci",
            700,
            &format!("DROP DATABASE \"{db}\""),
        );
    }
    assert_eq!(mass(&pg.events()).len(), 1);
}

#[test]
fn mass_destruction_texts_weigh_each_object_as_the_decision_does() {
    // customers emptied (a few rows), then, the moment that settles, truncated of
    // two million rows with six more tables: the decision weighs customers by its
    // heaviest destruction (4) and so must the text.
    let mut my = My::new();
    my.connect(0, "shop_app", "203.0.113.77", 90);
    my.query(100, "shop_app", "203.0.113.77", 90, "DELETE FROM customers");
    my.query(
        400,
        "shop_app",
        "203.0.113.77",
        90,
        "TRUNCATE TABLE customers",
    );
    for t in TABLES.iter().skip(1).take(6) {
        my.query(
            400,
            "shop_app",
            "203.0.113.77",
            90,
            &format!("DELETE FROM {t}"),
        );
    }
    let mut evs = my.events();
    for e in &mut evs {
        if let Some(st) = e.statement.as_deref_mut() {
            if st.text.starts_with("TRUNCATE") {
                st.rows_affected = Some(2_000_000);
            }
        }
    }
    let f = mass(&evs);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0].description
            .contains("these weigh 10 against the threshold of 10"),
        "{}",
        f[0].description
    );
}
