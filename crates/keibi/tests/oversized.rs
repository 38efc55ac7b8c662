//! Oversized statements on real servers: a client pads a statement past keibi's 1 MiB
//! line bound (`SELECT 1 /* 2 MiB */; DROP TABLE ...`), and `keibi events` must still
//! show the DROP, classified on what was read and marked `oversized`, and `keibi scan`
//! must raise DefenseEvasion:RDS/OversizedStatement; a migration's bulk INSERT of a few
//! hundred KB must not.
//!
//! With `KEIBI_CAPTURE=1` the logs are saved, gzipped (the padding compresses to
//! nothing), as fixtures in `crates/keibi-parse/tests/data/oversized/`.
//!
//! Skipped without the servers unless `KEIBI_REQUIRE_SERVERS=1` (see servers.rs).

mod common;

use std::io::Write;
use std::path::Path;

use common::{keibi_events, keibi_scan, statement_text, wait_for_text, Keibi};
use serde_json::Value;

const TYPE: &str = "DefenseEvasion:RDS/OversizedStatement";
/// Padding: twice keibi's line bound.
const PAD: usize = 2 << 20;

/// Padding in a comment (PostgreSQL) or, as the mariadb client strips comments
/// before sending, in a string.
fn padded(table: &str, comment: bool) -> String {
    let pad = "x".repeat(PAD);
    if comment {
        format!("SELECT 1 /* {pad} */; DROP TABLE {table}")
    } else {
        format!("SELECT '{pad}'; DROP TABLE {table}")
    }
}

/// A migration's bulk INSERT: about 300 KB, under the finding's threshold.
fn bulk_insert(table: &str) -> String {
    let rows: Vec<String> = (1000..11_000)
        .map(|i| format!("({i}, 'customer{i}@example.com')"))
        .collect();
    format!("INSERT INTO {table} VALUES {}", rows.join(", "))
}

fn capture(files: &[(&Path, &str)]) {
    if std::env::var("KEIBI_CAPTURE").map_or(true, |v| v != "1") {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../keibi-parse/tests/data/oversized");
    std::fs::create_dir_all(&dir).unwrap();
    for (src, name) in files {
        let body = std::fs::read(src).unwrap();
        let f = std::fs::File::create(dir.join(format!("{name}.gz"))).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::best());
        gz.write_all(&body).unwrap();
        gz.finish().unwrap();
    }
}

/// The statement events whose text holds `needle`.
fn statements<'a>(k: &'a Keibi, needle: &'a str) -> Vec<&'a Value> {
    k.events
        .iter()
        .filter(|e| statement_text(e).is_some_and(|t| t.contains(needle)))
        .collect()
}

/// keibi read the padded statement (the event whose text starts with `head`): it
/// says it was oversized, and the DROP is in it after the marker (`drop_in_tail`) or,
/// where the server logs each statement of a multi-statement query on its own
/// (MariaDB's server_audit), is an event of its own; the bulk INSERT is read whole.
fn assert_read(k: &Keibi, what: &str, head: &str, drop_in_tail: bool) {
    assert!(
        k.stderr
            .contains("bytes long; read its first 524288 and last"),
        "{what}: no warning about the long line:\n{}",
        k.stderr
    );
    let drop = "DROP TABLE orders";
    let padded: Vec<&Value> = k
        .events
        .iter()
        // (Not the first 1024 bytes server_audit keeps under its default limit.)
        .filter(|e| statement_text(e).is_some_and(|t| t.starts_with(head) && t.len() > 1024))
        .collect();
    assert!(!padded.is_empty(), "{what}: no statement starting {head}");
    for e in &padded {
        let text = statement_text(e).unwrap();
        assert!(
            text.len() <= 1 << 20,
            "{what}: {} bytes handed on",
            text.len()
        );
        let after = text.split(" bytes not read ...] ").nth(1);
        assert!(after.is_some(), "{what}: no marker");
        if drop_in_tail {
            assert!(
                after.is_some_and(|t| t.contains(drop)),
                "{what}: the tail after the marker lost the DROP: …{}",
                common::tail(text, 80)
            );
        }
        let len = e.get("oversized").and_then(Value::as_u64);
        assert!(
            len.is_some_and(|n| n > PAD as u64),
            "{what}: oversized {len:?}"
        );
    }
    assert!(!statements(k, drop).is_empty(), "{what}: no {drop}");
    let bulk = statements(k, "customer10999@example.com");
    assert!(!bulk.is_empty(), "{what}: the bulk INSERT is missing");
    for e in bulk {
        assert!(
            e.get("oversized").is_none(),
            "{what}: bulk INSERT oversized"
        );
        assert!(!statement_text(e).unwrap().contains(" bytes not read ...] "));
    }
    for e in statements(k, drop)
        .iter()
        .filter(|e| e.get("oversized").is_none())
    {
        assert!(statement_text(e).unwrap().len() < 100, "{what}: {e}");
    }
}

fn assert_raised(log: &Path, what: &str, user: &str, drop_in_tail: bool) {
    let scan = keibi_scan(&[log.as_os_str()]);
    assert_eq!(scan.code, Some(0), "{what}: {}", scan.stderr);
    let found: Vec<&Value> = scan.of_type(TYPE).collect();
    assert_eq!(found.len(), 1, "{what}: findings:\n{}", scan.brief());
    let f = found[0];
    assert_eq!(
        f.pointer("/actor/user").and_then(Value::as_str),
        Some(user),
        "{f}"
    );
    assert_eq!(
        f.pointer("/actor/ip").and_then(Value::as_str),
        Some("127.0.0.1"),
        "{f}"
    );
    let desc = f
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert!(
        desc.contains("DROP TABLE") == drop_in_tail,
        "{what}: {desc}"
    );
    assert_eq!(f.get("severity").and_then(Value::as_f64), Some(5.0));
}

#[test]
fn a_padded_statement_to_postgresql_is_seen_whole_and_raised() {
    use common::postgres::*;
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    // `\;` makes psql send both statements as one query string, as a driver would.
    let sql = format!(
        "CREATE TABLE orders (id int);\n{};\n{};\nSELECT 'keibi-oversized-done';\n",
        bulk_insert("customers"),
        padded("orders", true).replacen("; DROP", " \\; DROP", 1),
    );
    let out = pg.psql_tcp(APP_USER, APP_PASSWORD, DATABASE, &sql);
    assert!(out.status.success(), "{}", common::describe(&out));
    wait_for_text(&pg.stderr_log(), "keibi-oversized-done");
    pg.stop();
    capture(&[
        (&pg.stderr_log(), "postgresql-rds-prefix.log"),
        (&pg.csv_log(), "postgresql.csv"),
        (&pg.json_log(), "postgresql.json"),
    ]);
    for log in [pg.stderr_log(), pg.csv_log(), pg.json_log()] {
        let what = format!("{} (PostgreSQL {})", log.display(), pg.version);
        let k = keibi_events(&[&log], &[]);
        assert_eq!(k.summary.2, 0, "{what}: {}", k.stderr);
        assert_read(&k, &what, "SELECT 1 /* xxx", true);
        // pgaudit logs the DROP with its own class and command.
        assert!(
            statements(&k, "DROP TABLE orders").iter().any(|e| {
                common::statement_field(e, "command") == Some("DROP TABLE")
                    && common::statement_field(e, "class") == Some("DDL")
            }),
            "{what}: the DROP is not classified as one"
        );
        assert_raised(&log, &what, APP_USER, true);
    }
}

#[test]
fn a_padded_statement_to_mariadb_is_seen_whole_and_raised() {
    use common::mariadb::*;
    let Some(mut db) = Mariadb::start() else {
        return;
    };
    // One audit file for the whole test (it rotates at 1 MB by default).
    let out = db.client_tcp(
        ADMIN_USER,
        ADMIN_PASSWORD,
        None,
        "SET GLOBAL server_audit_file_rotate_size = 1000000000;\n",
    );
    assert!(out.status.success(), "{}", common::describe(&out));
    // First with server_audit's default query_log_limit (1024): it keeps only the
    // start of the statement, so the audit log cannot show the DROP.
    let first = format!(
        "CREATE TABLE {DATABASE}.orders (id INT);\nCREATE TABLE {DATABASE}.orders2 (id INT);\n\
         DELIMITER //\n{} //\nDELIMITER ;\nSELECT 'keibi-default-limit-done';\n",
        padded("orders2", false)
    );
    let out = db.client_tcp(APP_USER, APP_PASSWORD, Some(DATABASE), &first);
    assert!(out.status.success(), "{}", common::describe(&out));
    let out = db.client_tcp(
        ADMIN_USER,
        ADMIN_PASSWORD,
        None,
        "SET GLOBAL server_audit_query_log_limit = 8388608;\n",
    );
    assert!(out.status.success(), "{}", common::describe(&out));
    let second = format!(
        "{};\nDELIMITER //\n{} //\nDELIMITER ;\nSELECT 'keibi-oversized-done';\n",
        bulk_insert("customers"),
        padded("orders", false)
    );
    let out = db.client_tcp(APP_USER, APP_PASSWORD, Some(DATABASE), &second);
    assert!(out.status.success(), "{}", common::describe(&out));
    wait_for_text(&db.audit_log(), "keibi-oversized-done");
    wait_for_text(&db.general_log(), "keibi-oversized-done");
    db.stop();
    capture(&[
        (&db.audit_log(), "mariadb-server_audit.log"),
        (&db.general_log(), "mariadb-general.log"),
    ]);
    // The general log writes the query as sent; server_audit each statement of it.
    for (log, drop_in_tail) in [(db.general_log(), true), (db.audit_log(), false)] {
        let what = format!("{} (MariaDB)", log.display());
        let k = keibi_events(&[&log], &[]);
        assert_eq!(k.summary.2, 0, "{what}: {}", k.stderr);
        assert_read(&k, &what, "SELECT 'xxx", drop_in_tail);
        assert_raised(&log, &what, APP_USER, drop_in_tail);
    }
    // What server_audit wrote under its default limit: the statement's first 1024
    // bytes as it logs them (its `\'` escapes count two), nothing to say it was
    // longer; each statement of the query is a record of its own, so the DROP is one.
    let k = keibi_events(&[&db.audit_log()], &[]);
    let cut: Vec<&Value> = statements(&k, "SELECT 'xxx")
        .into_iter()
        .filter(|e| e.get("oversized").is_none())
        .collect();
    assert_eq!(cut.len(), 1, "one statement logged under the default limit");
    let text = statement_text(cut[0]).unwrap();
    assert_eq!(text.len(), 1023, "{text}");
    assert!(!statements(&k, "DROP TABLE orders2").is_empty());
}
