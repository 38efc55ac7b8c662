//! SchemaEnumeration on realistic PostgreSQL and MariaDB/RDS audit logs: ORMs,
//! monitoring agents and RDS's own agent stay silent; an application that starts
//! walking the catalogs, credential catalogs, and DBA tools (Low) raise it.

use keibi_model::{Event, Finding};

use super::tests::{My, Pg};
use super::SchemaEnumeration;
use crate::config::Config;
use crate::detector::Detector;
use crate::iplist::ThreatLists;
use crate::testutil::run;

const ENUM: &str = "Discovery:RDS/SchemaEnumeration";

fn enumeration(evs: &[Event]) -> Vec<Finding> {
    let c = Config::default();
    run(
        vec![Box::new(SchemaEnumeration::new(&c.activity))],
        c,
        ThreatLists::default(),
        evs,
    )
}

/// What ActiveRecord sends when a Rails process boots and loads its models.
const RAILS_BOOT: &[&str] = &[
    "SET client_min_messages TO 'warning'",
    "SHOW search_path",
    "SELECT t.oid, t.typname FROM pg_type as t WHERE t.typname IN ('int2', 'int4', 'int8', 'oid', 'float4', 'float8', 'numeric', 'bool', 'timestamp', 'timestamptz')",
    "SELECT t.oid, t.typname, t.typelem, t.typdelim, t.typinput, r.rngsubtype, t.typtype, t.typbasetype FROM pg_type as t LEFT JOIN pg_range as r ON oid = rngtypid WHERE t.typtype IN ('r', 'e', 'd')",
    "SELECT c.relname FROM pg_class c LEFT JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY (current_schemas(false)) AND c.relkind IN ('r','v','m','p','f')",
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid), a.attnotnull FROM pg_attribute a LEFT JOIN pg_attrdef d ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE a.attrelid = '\"orders\"'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid), a.attnotnull FROM pg_attribute a LEFT JOIN pg_attrdef d ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE a.attrelid = '\"customers\"'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    "SELECT distinct i.relname, d.indisunique, d.indkey, pg_get_indexdef(d.indexrelid), t.oid FROM pg_class t INNER JOIN pg_index d ON t.oid = d.indrelid INNER JOIN pg_class i ON d.indexrelid = i.oid LEFT JOIN pg_namespace n ON n.oid = t.relnamespace WHERE i.relkind IN ('i', 'I') AND d.indisprimary = 'f' AND t.relname = 'orders'",
    "SELECT conname, pg_get_constraintdef(c.oid, true) AS constraintdef FROM pg_constraint c JOIN pg_class t ON c.conrelid = t.oid WHERE c.contype = 'c' AND t.relname = 'orders'",
    "SELECT \"schema_migrations\".\"version\" FROM \"schema_migrations\" ORDER BY \"schema_migrations\".\"version\" ASC",
    "SELECT \"ar_internal_metadata\".* FROM \"ar_internal_metadata\" WHERE \"ar_internal_metadata\".\"key\" = $1 LIMIT $2",
];

#[test]
fn schema_enumeration_ignores_orm_startup_and_monitoring() {
    let mut pg = Pg::new();
    // Three pods boot (each its own address) and then serve traffic for an hour,
    // loading more models lazily.
    for (n, ip) in ["10.0.3.14", "10.0.3.15", "10.0.3.16"].iter().enumerate() {
        let pid = 2000 + n as u32;
        let base = n as i64 * 120;
        pg.login(base, ip, "shop", pid, "puma");
        for (i, s) in RAILS_BOOT.iter().enumerate() {
            pg.sql(base + 1 + i as i64 / 4, ip, "shop", pid, s);
        }
        for k in 0..120 {
            let t = base + 30 + k * 30;
            pg.sql(
                t,
                ip,
                "shop",
                pid,
                "SELECT \"orders\".* FROM \"orders\" WHERE \"orders\".\"id\" = $1 LIMIT $2",
            );
            if k % 40 == 0 {
                pg.sql(t, ip, "shop", pid, RAILS_BOOT[6]);
            }
        }
    }
    // A monitoring agent reads database and table statistics every 15 s.
    pg.login(0, "10.0.9.9", "datadog", 3000, "datadog-agent");
    for k in 0..240 {
        let t = k * 15;
        pg.sql(t, "10.0.9.9", "datadog", 3000, "SELECT datname, numbackends, xact_commit FROM pg_stat_database JOIN pg_database USING (datname)");
        pg.sql(t, "10.0.9.9", "datadog", 3000, "SELECT relname, n_live_tup FROM pg_stat_user_tables JOIN pg_class ON pg_class.oid = relid JOIN pg_namespace ON pg_namespace.oid = relnamespace");
    }
    // RDS's own agent, over the local socket as on RDS (`[local]`, peer
    // authentication as rdsmon).
    for k in 0..50 {
        pg.sql(
            k * 60,
            "[local]",
            "rdsadmin",
            1,
            "SELECT d.datname, r.rolname FROM pg_database d, pg_roles r, pg_authid a",
        );
    }
    let f = enumeration(&pg.events());
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn schema_enumeration_fires_when_an_application_starts_exploring() {
    // A Go service (no ORM introspection) serves traffic for twenty minutes, then an
    // injected endpoint walks the catalogs.
    let (ip, pid) = ("10.0.3.40", 4100);
    let mut pg = Pg::new();
    pg.login(0, ip, "api", pid, "");
    for k in 0..80 {
        pg.sql(
            k * 15,
            ip,
            "api",
            pid,
            "SELECT id, name, price FROM products WHERE id = $1",
        );
    }
    let probes = [
        "SELECT id, name, price FROM products WHERE id = 1 UNION SELECT 1, current_database(), version()",
        "SELECT id, name, price FROM products WHERE id = 1 UNION SELECT 1, schema_name, '' FROM information_schema.schemata",
        "SELECT id, name, price FROM products WHERE id = 1 UNION SELECT 1, table_name, '' FROM information_schema.tables WHERE table_schema = 'public'",
        "SELECT id, name, price FROM products WHERE id = 1 UNION SELECT 1, column_name, data_type FROM information_schema.columns WHERE table_name = 'users'",
        "SELECT id, name, price FROM products WHERE id = 1 UNION SELECT 1, column_name, data_type FROM information_schema.columns WHERE table_name = 'payments'",
        "SELECT id, name, price FROM products WHERE id = 1 UNION SELECT 1, tablename, '' FROM pg_tables",
        "SELECT id, name, price FROM products WHERE id = 1 UNION SELECT 1, viewname, '' FROM pg_views",
        "SELECT id, name, price FROM products WHERE id = 1 UNION SELECT 1, proname, '' FROM pg_proc LIMIT 50",
        "SELECT id, name, price FROM products WHERE id = 1 UNION SELECT 1, column_name, data_type FROM information_schema.columns WHERE table_name = 'customers'",
        "SELECT id, name, price FROM products WHERE id = 1 UNION SELECT 1, column_name, data_type FROM information_schema.columns WHERE table_name = 'orders'",
        "SELECT id, name, price FROM products WHERE id = 1 UNION SELECT 1, constraint_name, '' FROM information_schema.table_constraints",
    ];
    for (i, p) in probes.iter().enumerate() {
        pg.sql(1300 + i as i64 * 7, ip, "api", pid, p);
    }
    let f = enumeration(&pg.events());
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = &f[0];
    assert_eq!(f.finding_type, ENUM);
    assert_eq!(f.severity.value(), 4.0);
    // The first probe reads no catalog; the other ten make the finding.
    assert_eq!(f.count, 10, "{f:#?}");
    assert_eq!(f.mitre, vec!["T1082", "T1087"]);
    assert!(
        f.title
            .starts_with("Schema enumeration on orders-db: api from 10.0.3.40"),
        "{}",
        f.title
    );
    assert!(
        f.description
            .contains("This client had run 81 statements over 21 min"),
        "{}",
        f.description
    );
    assert!(
        f.description.contains("information_schema.columns"),
        "{}",
        f.description
    );
}

#[test]
fn schema_enumeration_fires_on_account_and_credential_catalogs_mysql() {
    let ip = "45.148.10.81";
    let mut my = My::new();
    my.connect(0, "root", ip, 66)
        .query(1, "root", ip, 66, "SHOW DATABASES")
        .query(2, "root", ip, 66, "SHOW GRANTS")
        .query(
            3,
            "root",
            ip,
            66,
            "SELECT user, host, authentication_string FROM mysql.user",
        );
    let f = enumeration(&my.events());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].severity.value(), 5.0);
    assert!(
        f[0].description
            .contains("password-hash or credential catalogs (mysql.user)"),
        "{}",
        f[0].description
    );
    // An application listing its own tables at start is not this.
    let mut my = My::new();
    my.connect(0, "app", "10.0.2.8", 67)
        .query(1, "app", "10.0.2.8", 67, "SHOW FULL TABLES")
        .query(1, "app", "10.0.2.8", 67, "SHOW FULL FIELDS FROM `orders`")
        .query(1, "app", "10.0.2.8", 67, "SHOW KEYS FROM `orders`")
        .query(
            1,
            "app",
            "10.0.2.8",
            67,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = database()",
        )
        .query(2, "app", "10.0.2.8", 67, "SHOW DATABASES");
    assert!(enumeration(&my.events()).is_empty());
}

#[test]
fn schema_enumeration_by_an_admin_tool_is_low() {
    let (ip, pid) = ("203.0.113.50", 5200);
    let mut pg = Pg::new();
    pg.login(0, ip, "alice", pid, "psql");
    // \l, \du, \dt
    pg.sql(5, ip, "alice", pid, "SELECT d.datname as \"Name\", pg_catalog.pg_get_userbyid(d.datdba) as \"Owner\" FROM pg_catalog.pg_database d ORDER BY 1;");
    pg.sql(9, ip, "alice", pid, "SELECT r.rolname, r.rolsuper, ARRAY(SELECT b.rolname FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles b ON (m.roleid = b.oid) WHERE m.member = r.oid) as memberof FROM pg_catalog.pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY 1;");
    let f = enumeration(&pg.events());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].severity.value(), 2.5);
    assert!(
        f[0].description.contains("names itself psql"),
        "{}",
        f[0].description
    );
}

#[test]
fn schema_enumeration_state_is_bounded() {
    let mut c = Config::default();
    c.activity.max_tracked_actors = 50;
    let mut pg = Pg::new();
    for i in 0..400u32 {
        let ip = format!("10.1.{}.{}", i / 250, i % 250 + 1);
        pg.sql(i as i64, &ip, "app", 6000 + i, "SELECT 1 FROM pg_class");
    }
    let mut d = SchemaEnumeration::new(&c.activity);
    let mut findings = crate::findings::Findings::default();
    let lists = ThreatLists::default();
    let mut cx = crate::detector::Context {
        config: &c,
        lists: &lists,
        services: &crate::Services::default(),
        findings: &mut findings,
        enriched: Default::default(),
        instances: &Default::default(),
    };
    for e in pg.events() {
        d.observe(&e, &mut cx);
        assert!(d.actors.len() <= 50);
    }
}

/// Months of an application's driver reading a few catalogs on every connect, then
/// a sqlmap-style walk of `information_schema` through one of its pods.
fn driver_months_then_sqlmap(driver: &[&str]) -> Vec<Finding> {
    const DAY: i64 = 86_400;
    let mut pg = Pg::new();
    for d in 0..60 {
        for (n, ip) in ["10.0.3.14", "10.0.3.15"].iter().enumerate() {
            let pid = 2000 + (d * 2) as u32 + n as u32;
            let t = d * DAY + 10 * 3600 + n as i64 * 60;
            pg.login(t, ip, "api", pid, "PostgreSQL JDBC Driver");
            for s in driver {
                pg.sql(t + 1, ip, "api", pid, s);
            }
            pg.sql(
                t + 5,
                ip,
                "api",
                pid,
                "SELECT id FROM products WHERE id = $1",
            );
        }
    }
    let (ip, pid, base) = ("10.0.3.40", 9000, 61 * DAY + 10 * 3600);
    pg.login(base, ip, "api", pid, "PostgreSQL JDBC Driver");
    for k in 0..80 {
        pg.sql(
            base + k * 15,
            ip,
            "api",
            pid,
            "SELECT id, name, price FROM products WHERE id = $1",
        );
    }
    let probes = [
        "SELECT id FROM products WHERE id = 1 UNION SELECT schema_name FROM information_schema.schemata",
        "SELECT id FROM products WHERE id = 1 UNION SELECT table_name FROM information_schema.tables",
        "SELECT id FROM products WHERE id = 1 UNION SELECT column_name FROM information_schema.columns WHERE table_name = 'users'",
        "SELECT id FROM products WHERE id = 1 UNION SELECT column_name FROM information_schema.columns WHERE table_name = 'payments'",
        "SELECT id FROM products WHERE id = 1 UNION SELECT tablename FROM pg_tables",
        "SELECT id FROM products WHERE id = 1 UNION SELECT viewname FROM pg_views",
        "SELECT id FROM products WHERE id = 1 UNION SELECT proname FROM pg_proc",
        "SELECT id FROM products WHERE id = 1 UNION SELECT column_name FROM information_schema.columns WHERE table_name = 'customers'",
        "SELECT id FROM products WHERE id = 1 UNION SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'",
        "SELECT id FROM products WHERE id = 1 UNION SELECT constraint_name FROM information_schema.table_constraints",
    ];
    for (i, p) in probes.iter().enumerate() {
        pg.sql(base + 1300 + i as i64 * 7, ip, "api", pid, p);
    }
    let c = Config::default();
    run(
        vec![
            Box::new(SchemaEnumeration::new(&c.activity)),
            Box::new(crate::detectors::baseline::BaselineDetector::new(&c)),
        ],
        c,
        ThreatLists::default(),
        &pg.events(),
    )
}

#[test]
fn a_drivers_catalog_reads_never_make_sqlmap_habitual() {
    // pgjdbc and Npgsql on every connect: two or three structure catalogs a query.
    let f = driver_months_then_sqlmap(&[
        "SELECT t.typname, t.oid FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON (t.typnamespace = n.oid) WHERE n.nspname != 'pg_toast'",
        "SELECT ns.nspname, typ.oid, typ.typname FROM pg_type AS typ JOIN pg_namespace AS ns ON (ns.oid = typ.typnamespace) LEFT JOIN pg_class AS cls ON (cls.oid = typ.typrelid)",
    ]);
    let f: Vec<_> = f.iter().filter(|f| f.finding_type == ENUM).collect();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].severity.value() >= 4.0, "{f:#?}");
    assert!(
        !f[0].description.contains("as a routine"),
        "{}",
        f[0].description
    );
}

#[test]
fn a_habit_never_vouches_for_catalogs_beyond_its_own() {
    // asyncpg's introspection reads four structure catalogs in one query: a habit,
    // but one of pg_type/pg_namespace/pg_class/pg_attribute, not information_schema.
    let f = driver_months_then_sqlmap(&[
        "SELECT t.oid, t.typname, ns.nspname FROM pg_catalog.pg_type AS t INNER JOIN pg_catalog.pg_namespace AS ns ON ns.oid = t.typnamespace LEFT JOIN pg_catalog.pg_class AS c ON c.oid = t.typrelid LEFT JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid",
    ]);
    let f: Vec<_> = f.iter().filter(|f| f.finding_type == ENUM).collect();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].severity.value() >= 4.0, "{f:#?}");
}
