use keibi_model::Action;

use super::*;
use crate::testutil::{parse_bytes, rfc3339};
use crate::{detect, Format};

const MARIADB: &[u8] = include_bytes!("../../../tests/data/mysql/mariadb-slow.log");
const MYSQL57: &[u8] =
    include_bytes!("../../../tests/data/mysql/percona-toolkit-mysql5.7-slow.log");
const PERCONA: &[u8] = include_bytes!("../../../tests/data/mysql/percona-toolkit-slow002.log");

fn parse(input: &[u8]) -> Output {
    parse_bytes(
        Format::MysqlSlow,
        &ParseConfig::new("slow.log"),
        input,
        1 << 16,
    )
}

fn text(e: &Event) -> &str {
    &e.statement.as_ref().expect("a statement").text
}

#[test]
fn every_fixture_is_detected_and_read_whole() {
    for (name, input, events) in [
        ("mariadb", MARIADB, 14),
        ("mysql5.7", MYSQL57, 2),
        ("percona", PERCONA, 8),
    ] {
        assert_eq!(detect(input, true), Some(Format::MysqlSlow), "{name}");
        let out = parse(input);
        assert!(out.problems.is_empty(), "{name}: {:?}", out.problems);
        assert_eq!(out.events.len(), events, "{name}");
        assert!(out.events.iter().all(|e| e.source == SourceKind::MysqlSlow));
        for chunk in [1, 13] {
            let o = parse_bytes(
                Format::MysqlSlow,
                &ParseConfig::new("slow.log"),
                input,
                chunk,
            );
            assert_eq!(o.events, out.events, "{name}, chunks of {chunk}");
        }
    }
}

#[test]
fn mariadb_records_name_user_client_database_and_rows() {
    let out = parse(MARIADB);
    let select = out
        .events
        .iter()
        .find(|e| text(e).starts_with("SELECT id, note"))
        .expect("the multi-line SELECT");
    assert_eq!(select.action, Action::Statement);
    assert_eq!(select.user.as_deref(), Some("app"));
    assert_eq!(select.client_ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(select.database.as_deref(), Some("shop"));
    assert_eq!(select.session_id.as_deref(), Some("4"));
    assert_eq!(rfc3339(select), "2026-12-06T10:08:45Z");
    assert!(
        text(select).ends_with("and a new line';"),
        "{:?}",
        text(select)
    );
    let st = select.statement.as_deref().unwrap();
    assert_eq!(
        (st.rows_sent, st.rows_examined, st.rows_affected),
        (Some(2), Some(2), Some(0))
    );
    assert_eq!(st.duration_us, Some(119));
    assert_eq!(st.command.as_deref(), Some("SELECT"));
    // Passwords in CREATE USER are masked, as in the general log.
    let create = out
        .events
        .iter()
        .find(|e| text(e).starts_with("CREATE USER 'app'"))
        .unwrap();
    assert!(!text(create).contains("keibi-app-pw"), "{}", text(create));
    // root over the Unix socket: the host, no address.
    assert_eq!(out.events[0].client_host.as_deref(), Some("localhost"));
    assert_eq!(out.events[0].user.as_deref(), Some("root"));
}

#[test]
fn mysql_57_records_take_the_id_and_the_epoch_time() {
    let out = parse(MYSQL57);
    let e = &out.events[0];
    assert_eq!(e.user.as_deref(), Some("root"));
    assert_eq!(e.client_ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(e.session_id.as_deref(), Some("3"));
    assert_eq!(rfc3339(e), "2016-07-20T18:13:25Z");
    let st = e.statement.as_deref().unwrap();
    assert_eq!(st.rows_sent, Some(1000));
    assert_eq!(st.rows_examined, Some(2000));
    assert_eq!(st.duration_us, Some(3464));
    assert_eq!(out.events[1].session_id.as_deref(), Some("4"));
}

#[test]
fn percona_records_with_innodb_lines_and_no_account() {
    let out = parse(PERCONA);
    // `# Time: ... # User@Host: ...` on one line, then the record.
    assert_eq!(text(&out.events[0]), "BEGIN;");
    assert_eq!(rfc3339(&out.events[0]), "2007-12-18T11:48:27Z");
    // `use db1;` names the database; `SET insert_id=...,timestamp=...;` dates it.
    let insert = out
        .events
        .iter()
        .find(|e| text(e).starts_with("INSERT INTO db1.conch"))
        .unwrap();
    assert_eq!(
        insert.database.as_deref(),
        Some("db1"),
        "carried by thread 10"
    );
    assert_eq!(rfc3339(insert), "2007-12-18T16:48:27Z");
    assert_eq!(insert.user, None);
    let update = &out.events[1];
    assert_eq!(
        update.statement.as_deref().unwrap().rows_examined,
        Some(62951)
    );
    assert_eq!(
        update.statement.as_deref().unwrap().duration_us,
        Some(726_052)
    );
    assert_eq!(text(update).lines().count(), 3);
}

#[test]
fn header_oddities() {
    assert_eq!(micros("0.003464"), Some(3464));
    assert_eq!(micros("12"), Some(12_000_000));
    assert_eq!(micros("1.5"), Some(1_500_000));
    assert_eq!(micros("x"), None);
    assert_eq!(
        user_host("app[app] @  [10.0.0.5]"),
        (Some("app"), Some("10.0.0.5"), None)
    );
    assert_eq!(
        user_host("a[b[a[b] @ db.example [10.0.0.5]  Id: 12"),
        (Some("a[b"), Some("10.0.0.5"), Some("12"))
    );
    assert_eq!(
        user_host("root[root] @ localhost []"),
        (Some("root"), Some("localhost"), None)
    );
    let schema: Vec<_> = pairs("Thread_id: 3  Schema:   QC_hit: No").collect();
    assert_eq!(
        schema,
        [("Thread_id", "3"), ("Schema", ""), ("QC_hit", "No")]
    );
}

#[test]
fn admin_commands_are_not_sql_and_stray_lines_are_unrecognized() {
    let input = b"SELECT 1;\n# Time: 2024-01-15T10:20:30.123456Z\n# User@Host: app[app] @  [10.0.0.5]  Id: 8\n# Query_time: 0.000010  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0\nSET timestamp=1705314030;\n# administrator command: Quit;\n";
    let out = parse(input);
    assert_eq!(out.unrecognized_lines(), 1, "{:?}", out.problems);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].action, Action::Other);
    assert_eq!(out.events[0].message.as_deref(), Some("Quit"));
}

#[test]
fn mutated_input_never_panics() {
    let mut x = 99u64;
    for base in [MARIADB, PERCONA] {
        let mut bytes = base.to_vec();
        for _ in 0..1500 {
            x = crate::testutil::xorshift(x);
            let i = (x as usize) % bytes.len();
            bytes[i] = (x >> 40) as u8;
            let _ = parse(&bytes);
        }
    }
}

#[test]
fn a_record_forged_inside_an_unended_statement_stays_the_statement_and_is_marked() {
    // MariaDB's record shape (fixture mariadb-slow.log); the statement of `app` holds
    // line breaks and a whole record claiming `admin` dropped a table. Its line before
    // the forged header does not end with `;`, which the server writes after every
    // statement: the header is statement text.
    let log = b"# Time: 261206 10:08:45\n\
# User@Host: app[app] @ localhost [127.0.0.1]\n\
# Thread_id: 5  Schema: shop  QC_hit: No\n\
# Query_time: 0.000100  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 0\n\
SET timestamp=1796551725;\n\
SELECT 'x' /*\n\
# User@Host: admin[admin] @ localhost [127.0.0.1]\n\
# Thread_id: 9  Schema: shop  QC_hit: No\n\
# Query_time: 0.000100  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0\n\
SET timestamp=1796551725;\n\
DROP TABLE orders */;\n\
# User@Host: app[app] @ localhost [127.0.0.1]\n\
# Thread_id: 5  Schema: shop  QC_hit: No\n\
# Query_time: 0.000100  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 0\n\
SET timestamp=1796551726;\n\
SELECT 2;\n";
    let out = parse(log);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.events.len(), 2, "{:?}", out.events);
    let e = &out.events[0];
    assert_eq!(e.user.as_deref(), Some("app"));
    assert!(text(e).contains("DROP TABLE orders */"), "{}", text(e));
    let inj = e.injection.as_ref().expect("marked");
    assert_eq!(inj.field, "statement");
    assert!(inj.value.starts_with("# User@Host: admin"), "{}", inj.value);
    // The next real record is read as before, unmarked.
    assert_eq!(out.events[1].user.as_deref(), Some("app"));
    assert_eq!(text(&out.events[1]), "SELECT 2;");
    assert!(out.events[1].injection.is_none());
    // Chunked reads give the same.
    for chunk in [1, 7] {
        let o = parse_bytes(Format::MysqlSlow, &ParseConfig::new("slow.log"), log, chunk);
        assert_eq!(o.events, out.events);
    }

    // A forgery whose line before the header ends with `;` reads as a record: not
    // told apart (documented in the module).
    let ended = String::from_utf8_lossy(log).replace("SELECT 'x' /*\n", "SELECT 'x';\n");
    let out = parse(ended.as_bytes());
    assert_eq!(out.events.len(), 3);
    assert_eq!(out.events[1].user.as_deref(), Some("admin"));
    assert!(out.events.iter().all(|e| e.injection.is_none()));
}
