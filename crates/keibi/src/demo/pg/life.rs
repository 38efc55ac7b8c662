//! Ordinary life on `shop-postgres`: what must raise nothing.

use super::{Origin, Pg, Tag, Who};
use crate::demo::{at, ip, load, Ms, DAY, HOUR, HOURLY, MIN, SEC, WEEK};

/// The checkpointer's process id (background lines carry no session).
const CHECKPOINTER: u32 = 379;

/// The API's app servers: each keeps a JDBC pool of two connections.
const APP_SERVERS: [&str; 3] = ["10.0.1.11", "10.0.1.12", "10.0.2.11"];
const POOL_PER_SERVER: usize = 2;
/// The internal load balancer's nodes, which check the port every 5 minutes.
const LB_NODES: [&str; 2] = ["10.0.0.37", "10.0.0.164"];
const ETL_HOST: &str = "10.0.3.15";
const CI_RUNNER: &str = "10.0.4.20";
const METABASE: &str = "10.0.3.40";
const MONITOR: &str = "10.0.5.30";
/// When the deploys (with migrations) run.
const DEPLOYS: [Ms; 2] = [at(1, 14, 5, 12), at(4, 15, 40, 31)];

impl Pg {
    /// `checkpoint_timeout` is 5 minutes; RDS keeps `log_checkpoints` on.
    pub(super) fn checkpoints(&mut self) {
        let mut t = 17 * SEC;
        while t < WEEK {
            self.push(
                t,
                Origin::Background(CHECKPOINTER),
                "LOG:  checkpoint starting: time".into(),
            );
            let busy = HOURLY[(t / HOUR % 24) as usize] as u64;
            let buffers = self.rng.range(20 + busy * 4, 60 + busy * 12);
            let write = 269_000 + self.rng.below(1800);
            let text = format!(
                "LOG:  checkpoint complete: wrote {buffers} buffers ({}.{}%); 0 WAL file(s) added, \
                 0 removed, {} recycled; write={}.{:03} s, sync=0.{:03} s, total={}.{:03} s; \
                 sync files={}, longest=0.{:03} s, average=0.{:03} s; distance={} kB, estimate={} kB",
                buffers / 160,
                buffers * 10 / 160 % 10,
                self.rng.range(0, 2),
                write / 1000,
                write % 1000,
                self.rng.range(2, 40),
                (write + 50) / 1000,
                (write + 50) % 1000,
                self.rng.range(8, 60),
                self.rng.range(2, 20),
                self.rng.range(1, 4),
                buffers * 9 + self.rng.below(400),
                buffers * 10 + 2000,
            );
            self.push(t + write as Ms + 40, Origin::Background(CHECKPOINTER), text);
            t += 5 * MIN;
        }
    }

    /// The internal NLB checks the port and hangs up: `incomplete startup packet`.
    pub(super) fn health_checks(&mut self) {
        for (i, node) in LB_NODES.iter().enumerate() {
            let mut t = (i as Ms) * 2 * MIN + 31 * SEC + self.rng.below(1000) as Ms;
            while t < WEEK {
                let s = self.open(t, node, "", "");
                self.push(
                    t + 1,
                    Origin::Session(s, Who::Unknown),
                    "LOG:  incomplete startup packet".into(),
                );
                t += 5 * MIN + self.rng.below(400) as Ms - 200;
            }
        }
    }

    /// The monitoring agent keeps one connection (restarted daily) and reads the
    /// statistics views every 5 minutes.
    pub(super) fn monitoring(&mut self) {
        let mut start = -3 * HOUR;
        while start < WEEK {
            let end = start + DAY - self.rng.below(60_000) as Ms;
            let s = self.login(start, MONITOR, "datadog", "postgres", Some("datadog-agent"));
            let mut t = start + 40 * SEC;
            while t < end - MIN {
                self.audit(
                    s,
                    t,
                    "READ",
                    "SELECT",
                    "SELECT datname, numbackends, xact_commit, xact_rollback, blks_read, \
                     blks_hit, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, \
                     deadlocks, temp_bytes FROM pg_stat_database WHERE datname NOT ILIKE \
                     'template%' AND datname NOT ILIKE 'rdsadmin'",
                );
                self.audit(
                    s,
                    t + 9,
                    "READ",
                    "SELECT",
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND \
                     backend_type = 'client backend'",
                );
                t += 5 * MIN;
            }
            self.disconnect(s, end);
            start = end + 2 * SEC;
        }
    }

    /// The API: a JDBC pool per app server (connections live 30 minutes, and all are
    /// replaced when a deploy restarts the servers), prepared statements all day.
    pub(super) fn app(&mut self) {
        let mut slots: Vec<Vec<(Ms, Ms, usize)>> = Vec::new();
        for (i, server) in APP_SERVERS.iter().enumerate() {
            // A deploy restarts the servers one after another.
            let restarts: Vec<Ms> = DEPLOYS
                .iter()
                .map(|d| d + 4 * MIN + i as Ms * 90 * SEC)
                .collect();
            for _ in 0..POOL_PER_SERVER {
                let mut conns = Vec::new();
                let mut t = -(self.rng.below(30 * 60) as Ms) * SEC;
                while t < WEEK {
                    let mut end = t + 30 * MIN - self.rng.below(45_000) as Ms;
                    let mut next = end + self.rng.range(3, 40) as Ms;
                    if let Some(&r) = restarts.iter().find(|&&r| t < r && r < end) {
                        end = r + self.rng.below(2000) as Ms;
                        next = end + 25 * SEC + self.rng.below(8000) as Ms;
                    }
                    let s = self.login(t, server, "app", "shop", Some("PostgreSQL JDBC Driver"));
                    self.disconnect(s, end);
                    conns.push((t + 100, end - 100, s));
                    t = next;
                }
                slots.push(conns);
            }
        }
        let mut cursor = vec![0usize; slots.len()];
        let requests = load(&mut self.rng, 45);
        for t in requests {
            let k = self.rng.below(slots.len() as u64) as usize;
            let conns = &slots[k];
            while cursor[k] < conns.len() && conns[cursor[k]].1 < t + 500 {
                cursor[k] += 1;
            }
            let Some(&(start, _, s)) = conns.get(cursor[k]) else {
                continue;
            };
            self.request(s, t.max(start));
        }
    }

    /// One API request's statements.
    fn request(&mut self, s: usize, t: Ms) {
        let t = t + self.rng.below(5) as Ms;
        let r = self.rng.below(100);
        match r {
            0..=44 => {
                self.audit(
                    s,
                    t,
                    "READ",
                    "SELECT",
                    "SELECT p.id, p.name, p.price_cents, p.stock FROM products p WHERE \
                     p.category_id = $1 AND p.active ORDER BY p.position LIMIT 48",
                );
                if self.rng.chance(500) {
                    self.product(s, t + 4);
                }
            }
            45..=64 => self.product(s, t),
            65..=74 => {
                self.audit(
                    s,
                    t,
                    "READ",
                    "SELECT",
                    "SELECT id, email, password_hash, name FROM customers WHERE email = $1",
                );
                self.audit(
                    s,
                    t + 62,
                    "WRITE",
                    "UPDATE",
                    "UPDATE customers SET last_login_at = now() WHERE id = $1",
                );
            }
            75..=84 => {
                if self.rng.chance(800) {
                    self.audit(
                        s,
                        t,
                        "WRITE",
                        "INSERT",
                        "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3) \
                         ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = \
                         cart_items.quantity + EXCLUDED.quantity",
                    );
                } else {
                    self.audit(
                        s,
                        t,
                        "WRITE",
                        "DELETE",
                        "DELETE FROM cart_items WHERE cart_id = $1 AND product_id = $2",
                    );
                }
            }
            85..=92 => self.checkout(s, t),
            93..=97 => self.audit(
                s,
                t,
                "READ",
                "SELECT",
                "SELECT id, status, total_cents, created_at FROM orders WHERE customer_id = $1 \
                 ORDER BY created_at DESC LIMIT 20",
            ),
            _ => self.signup(s, t),
        }
    }

    fn product(&mut self, s: usize, t: Ms) {
        self.audit(
            s,
            t,
            "READ",
            "SELECT",
            "SELECT id, name, description, price_cents, stock FROM products WHERE id = $1",
        );
        self.audit(
            s,
            t + 3,
            "READ",
            "SELECT",
            "SELECT r.rating, r.body, c.name FROM reviews r JOIN customers c ON c.id = \
             r.customer_id WHERE r.product_id = $1 ORDER BY r.created_at DESC LIMIT 10",
        );
    }

    fn checkout(&mut self, s: usize, t: Ms) {
        let steps: [(&str, &str, &str); 5] = [
            (
                "READ",
                "SELECT",
                "SELECT ci.product_id, ci.quantity, p.price_cents, p.stock FROM cart_items ci \
                 JOIN products p ON p.id = ci.product_id WHERE ci.cart_id = $1 FOR UPDATE OF p",
            ),
            (
                "WRITE",
                "INSERT",
                "INSERT INTO orders (customer_id, status, total_cents) VALUES ($1, $2, $3) \
                 RETURNING id",
            ),
            (
                "WRITE",
                "INSERT",
                "INSERT INTO order_items (order_id, product_id, quantity, price_cents) SELECT $1, \
                 ci.product_id, ci.quantity, p.price_cents FROM cart_items ci JOIN products p ON \
                 p.id = ci.product_id WHERE ci.cart_id = $2",
            ),
            (
                "WRITE",
                "UPDATE",
                "UPDATE products SET stock = stock - ci.quantity FROM cart_items ci WHERE \
                 ci.cart_id = $1 AND products.id = ci.product_id",
            ),
            (
                "WRITE",
                "DELETE",
                "DELETE FROM cart_items WHERE cart_id = $1",
            ),
        ];
        let mut t = t;
        for (class, command, sql) in steps {
            self.audit(s, t, class, command, sql);
            t += self.rng.range(2, 30) as Ms;
        }
    }

    /// A sign-up; now and then with an address that already has an account.
    fn signup(&mut self, s: usize, t: Ms) {
        let sql = "INSERT INTO customers (email, name, password_hash) VALUES ($1, $2, $3) \
                   RETURNING id";
        self.audit(s, t, "WRITE", "INSERT", sql);
        if self.rng.chance(250) {
            let who = self.rng.pick(&[
                "ann.lee",
                "j.schmidt",
                "mario.rossi",
                "yuki.tanaka",
                "s.obrien",
                "p.nowak",
            ]);
            let host = self
                .rng
                .pick(&["example.com", "example.org", "example.net"]);
            self.error(
                s,
                t + 2,
                "duplicate key value violates unique constraint \"customers_email_key\"",
                &[(
                    "DETAIL",
                    &format!("Key (email)=({who}@{host}) already exists."),
                )],
                sql,
            );
        }
    }

    /// The nightly export to the warehouse: `COPY ... TO STDOUT`, which is how every
    /// ETL tool reads PostgreSQL, slow enough to be logged with its duration.
    pub(super) fn nightly_export(&mut self) {
        for day in 0..7 {
            let mut t = at(day, 2, 0, 3) + self.rng.below(4000) as Ms;
            let s = self.login(t, ETL_HOST, "etl", "shop", Some("nightly-export"));
            for table in ["orders", "order_items", "customers", "products"] {
                t += self.rng.range(150, 900) as Ms;
                let sql = if table == "customers" {
                    let sql = "COPY (SELECT id, email, name, created_at, updated_at FROM \
                               public.customers WHERE updated_at >= now() - interval '1 day') TO \
                               STDOUT WITH (FORMAT csv, HEADER)";
                    self.audit_copy_query(s, t, sql);
                    sql.to_string()
                } else {
                    let sql = format!("COPY public.{table} TO STDOUT WITH (FORMAT csv, HEADER)");
                    self.audit(s, t, "READ", "COPY", &sql);
                    sql
                };
                let ms = match table {
                    "orders" => self.rng.range(38_000, 52_000),
                    "order_items" => self.rng.range(61_000, 80_000),
                    _ => self.rng.range(2_100, 4_800),
                };
                t += ms as Ms;
                self.slow(s, t, ms, "statement", &sql);
            }
            self.disconnect(s, t + 40);
        }
    }

    pub(super) fn deploys(&mut self) {
        for (i, &t) in DEPLOYS.iter().enumerate() {
            self.deploy(t, i);
        }
    }

    /// A deploy: Flyway, from the CI runner, applies one migration; the pools are
    /// then replaced as the servers restart (see [`Pg::app`]).
    fn deploy(&mut self, t: Ms, which: usize) {
        let s = self.login(
            t,
            CI_RUNNER,
            "migrator",
            "shop",
            Some("Flyway 10.17.0 by Redgate"),
        );
        let mut t = t + 180;
        let lock = "SELECT pg_advisory_lock(77431708279161)";
        let history = "SELECT \"installed_rank\",\"version\",\"description\",\"type\",\"script\",\
                       \"checksum\",\"installed_on\",\"installed_by\",\"execution_time\",\"success\" \
                       FROM \"public\".\"flyway_schema_history\" WHERE \"installed_rank\" > $1 \
                       ORDER BY \"installed_rank\"";
        for sql in [
            "SELECT COUNT(*) FROM pg_namespace WHERE nspname=$1",
            lock,
            history,
        ] {
            self.audit(s, t, "READ", "SELECT", sql);
            t += self.rng.range(5, 40) as Ms;
        }
        let steps: &[(&str, &str, &str, &str, &str)] = if which == 0 {
            &[
                (
                    "DDL",
                    "CREATE TABLE",
                    "TABLE",
                    "public.addresses",
                    "CREATE TABLE public.addresses (\n    id bigserial PRIMARY KEY,\n    \
                     customer_id bigint NOT NULL REFERENCES public.customers (id),\n    line1 \
                     text NOT NULL,\n    city text NOT NULL,\n    postcode text NOT NULL,\n    \
                     country char(2) NOT NULL\n)",
                ),
                (
                    "WRITE",
                    "INSERT",
                    "",
                    "",
                    "INSERT INTO public.addresses (customer_id, line1, city, postcode, country)\n\
                     SELECT id, street, city, postcode, country FROM public.customers WHERE \
                     street IS NOT NULL",
                ),
                (
                    "DDL",
                    "ALTER TABLE",
                    "TABLE",
                    "public.customers",
                    "ALTER TABLE public.customers DROP COLUMN street, DROP COLUMN city, DROP \
                     COLUMN postcode, DROP COLUMN country",
                ),
                (
                    "DDL",
                    "CREATE INDEX",
                    "INDEX",
                    "public.addresses_customer_id_idx",
                    "CREATE INDEX addresses_customer_id_idx ON public.addresses (customer_id)",
                ),
            ]
        } else {
            &[
                (
                    "DDL",
                    "DROP TABLE",
                    "TABLE",
                    "public.legacy_cart_items",
                    "DROP TABLE public.legacy_cart_items",
                ),
                (
                    "DDL",
                    "DROP TABLE",
                    "TABLE",
                    "public.legacy_carts",
                    "DROP TABLE public.legacy_carts",
                ),
                (
                    "DDL",
                    "DROP TABLE",
                    "TABLE",
                    "public.promo_codes_2025",
                    "DROP TABLE public.promo_codes_2025",
                ),
                (
                    "DDL",
                    "CREATE TABLE",
                    "TABLE",
                    "public.promotions",
                    "CREATE TABLE public.promotions (\n    id bigserial PRIMARY KEY,\n    code \
                     text NOT NULL UNIQUE,\n    percent_off smallint NOT NULL CHECK (percent_off \
                     BETWEEN 1 AND 90),\n    starts_at timestamptz NOT NULL,\n    ends_at \
                     timestamptz NOT NULL\n)",
                ),
                (
                    "DDL",
                    "ALTER TABLE",
                    "TABLE",
                    "public.orders",
                    "ALTER TABLE public.orders ADD COLUMN promotion_id bigint REFERENCES \
                     public.promotions (id)",
                ),
                (
                    "WRITE",
                    "TRUNCATE TABLE",
                    "",
                    "",
                    "TRUNCATE public.search_cache",
                ),
            ]
        };
        for &(class, command, object_type, object, sql) in steps {
            let tag = Tag {
                class,
                command,
                object_type,
                object,
            };
            self.audit_tagged(s, t, tag, sql);
            t += self.rng.range(20, 700) as Ms;
        }
        self.audit(
            s,
            t,
            "WRITE",
            "INSERT",
            "INSERT INTO \"public\".\"flyway_schema_history\" (\"installed_rank\", \"version\", \
             \"description\", \"type\", \"script\", \"checksum\", \"installed_by\", \
             \"execution_time\", \"success\") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        );
        self.audit(
            s,
            t + 9,
            "READ",
            "SELECT",
            "SELECT pg_advisory_unlock(77431708279161)",
        );
        self.disconnect(s, t + 60);
    }

    /// The DBA: mistypes her password, then grants the reporting role read access to
    /// the tables the migration added; later looks at what is running.
    pub(super) fn dba(&mut self) {
        let t = at(2, 9, 12, 4);
        self.failed_login(t, ip::OFFICE, "maria", "shop");
        let s = self.login(t + 9 * SEC + 310, ip::OFFICE, "maria", "shop", Some("psql"));
        let mut t = t + 31 * SEC;
        for (class, command, sql) in [
            (
                "READ",
                "SELECT",
                "SELECT count(*) FROM orders WHERE created_at >= now() - interval '1 day';",
            ),
            (
                "ROLE",
                "GRANT",
                "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reporting;",
            ),
            (
                "ROLE",
                "ALTER DEFAULT PRIVILEGES",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO reporting;",
            ),
        ] {
            self.audit(s, t, class, command, sql);
            t += self.rng.range(20, 90) as Ms * SEC;
        }
        self.disconnect(s, t + 2 * MIN);

        let t = at(5, 11, 20, 45);
        let s = self.login(t, ip::OFFICE, "maria", "shop", Some("psql"));
        self.audit(
            s,
            t + 14 * SEC,
            "READ",
            "SELECT",
            "SELECT pid, usename, application_name, client_addr, state, now() - query_start AS \
             running FROM pg_stat_activity WHERE state <> 'idle' ORDER BY running DESC;",
        );
        let report = "EXPLAIN ANALYZE SELECT c.id, count(o.id) FROM customers c JOIN orders o ON \
                      o.customer_id = c.id GROUP BY c.id ORDER BY 2 DESC LIMIT 20;";
        self.audit(s, t + 70 * SEC, "READ", "SELECT", report);
        self.slow(s, t + 73 * SEC, 2_764, "statement", report);
        self.disconnect(s, t + 4 * MIN);
    }

    /// Metabase: an hourly schema sync and, in office hours, dashboards (some slow).
    pub(super) fn metabase(&mut self) {
        let mut start = -HOUR;
        while start < WEEK {
            let end = start + 3 * HOUR - self.rng.below(90_000) as Ms;
            let s = self.login(
                start,
                METABASE,
                "metabase",
                "shop",
                Some("Metabase v0.50.14"),
            );
            let mut hour = (start / HOUR + 1) * HOUR;
            while hour < end {
                let t = hour + 17 * MIN + self.rng.below(20_000) as Ms;
                self.audit(
                    s,
                    t,
                    "READ",
                    "SELECT",
                    "SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME, \
                     CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema' WHEN true THEN \
                     'SYSTEM TABLE' ELSE 'TABLE' END AS TABLE_TYPE FROM pg_catalog.pg_namespace n, \
                     pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND n.nspname LIKE $1 AND \
                     c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY TABLE_TYPE, TABLE_SCHEM, \
                     TABLE_NAME",
                );
                let h = hour / HOUR % 24;
                if (8..18).contains(&h) {
                    for _ in 0..self.rng.range(2, 5) {
                        let t = hour + self.rng.below(55 * 60) as Ms * SEC;
                        let sql = self.rng.pick(&DASHBOARD);
                        self.audit(s, t, "READ", "SELECT", sql);
                        if self.rng.chance(120) {
                            let ms = self.rng.range(2_050, 6_900);
                            self.slow(s, t + ms as Ms, ms, "execute <unnamed>", sql);
                        }
                    }
                }
                hour += HOUR;
            }
            self.disconnect(s, end);
            start = end + SEC;
        }
    }
}

/// Metabase dashboard questions (prepared, so slow ones log as `execute <unnamed>`).
const DASHBOARD: [&str; 3] = [
    "SELECT date_trunc('day', \"public\".\"orders\".\"created_at\") AS \"created_at\", count(*) \
     AS \"count\", sum(\"public\".\"orders\".\"total_cents\") AS \"sum\" FROM \"public\".\"orders\" \
     WHERE \"public\".\"orders\".\"created_at\" >= CAST((now() + INTERVAL '-30 day') AS date) \
     GROUP BY date_trunc('day', \"public\".\"orders\".\"created_at\") ORDER BY date_trunc('day', \
     \"public\".\"orders\".\"created_at\") ASC",
    "SELECT \"Products\".\"name\" AS \"Products__name\", sum(\"public\".\"order_items\".\"quantity\") \
     AS \"sum\" FROM \"public\".\"order_items\" LEFT JOIN \"public\".\"products\" \"Products\" ON \
     \"public\".\"order_items\".\"product_id\" = \"Products\".\"id\" GROUP BY \
     \"Products\".\"name\" ORDER BY \"sum\" DESC, \"Products\".\"name\" ASC LIMIT 10",
    "SELECT \"public\".\"orders\".\"status\" AS \"status\", count(*) AS \"count\" FROM \
     \"public\".\"orders\" WHERE \"public\".\"orders\".\"created_at\" >= CAST(now() AS date) \
     GROUP BY \"public\".\"orders\".\"status\" ORDER BY \"public\".\"orders\".\"status\" ASC",
];
