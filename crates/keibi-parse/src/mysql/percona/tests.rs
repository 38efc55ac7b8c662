use keibi_model::Action;

use super::*;
use crate::testutil::{parse_bytes, rfc3339};
use crate::{detect, Format};

const OLD: &[u8] = include_bytes!("../../../tests/data/percona/percona-audit-old.xml");
const NEW: &[u8] = include_bytes!("../../../tests/data/percona/percona-audit-new.xml");
const JSON: &[u8] = include_bytes!("../../../tests/data/percona/percona-audit.json");
const CSV: &[u8] = include_bytes!("../../../tests/data/percona/percona-audit.csv");

fn parse(input: &[u8]) -> Output {
    parse_bytes(
        Format::PerconaAudit,
        &ParseConfig::new("audit.log"),
        input,
        1 << 16,
    )
}

#[test]
fn every_format_is_detected_and_read() {
    for (name, input, events) in [
        ("old", OLD, 4),
        ("new", NEW, 1),
        ("json", JSON, 1),
        ("csv", CSV, 1),
    ] {
        assert_eq!(detect(input, true), Some(Format::PerconaAudit), "{name}");
        let out = parse(input);
        assert!(out.problems.is_empty(), "{name}: {:?}", out.problems);
        assert_eq!(out.events.len(), events, "{name}");
        for chunk in [1, 5] {
            let o = parse_bytes(
                Format::PerconaAudit,
                &ParseConfig::new("audit.log"),
                input,
                chunk,
            );
            assert_eq!(o.events, out.events, "{name}, chunks of {chunk}");
        }
    }
}

#[test]
fn the_same_query_reads_the_same_in_every_format() {
    for (name, input, sql, time) in [
        (
            "new",
            NEW,
            "select id, holder from one",
            "2021-06-30T16:08:06Z",
        ),
        ("json", JSON, "show databases", "2021-06-30T15:07:58Z"),
        (
            "csv",
            CSV,
            "select count(*) from one",
            "2021-06-30T16:19:00Z",
        ),
    ] {
        let out = parse(input);
        let e = &out.events[0];
        assert_eq!(e.action, Action::Statement, "{name}");
        assert_eq!(e.source, SourceKind::PerconaAudit);
        assert_eq!(e.user.as_deref(), Some("root"), "{name}");
        assert_eq!(e.client_host.as_deref(), Some("localhost"), "{name}");
        assert_eq!(e.session_id.as_deref(), Some("2"), "{name}");
        assert_eq!(e.statement.as_ref().unwrap().text, sql, "{name}");
        assert_eq!(rfc3339(e), time, "{name}");
    }
}

#[test]
fn old_xml_records_map_to_logins_statements_and_disconnects() {
    let out = parse(OLD);
    let a: Vec<_> = out.events.iter().map(|e| e.action).collect();
    assert_eq!(
        a,
        [
            Action::Other,
            Action::LoginSuccess,
            Action::Statement,
            Action::Disconnect
        ]
    );
    assert_eq!(out.events[1].user.as_deref(), Some("user1"));
    assert_eq!(out.events[3].user.as_deref(), Some("root"));
    assert_eq!(rfc3339(&out.events[3]), "2021-06-29T19:34:38Z");
    assert_eq!(
        out.events[2].statement.as_ref().unwrap().text,
        "select * from information_schema.PLUGINS where PLUGIN_NAME like '%audit%'"
    );
}

#[test]
fn failed_logins_escapes_and_multi_line_csv() {
    let input = "<AUDIT_RECORD NAME=\"Connect\" RECORD=\"9_x\" TIMESTAMP=\"2026-12-01T10:00:00 UTC\" CONNECTION_ID=\"40\" STATUS=\"1045\" USER=\"root\" PRIV_USER=\"\" OS_LOGIN=\"\" PROXY_USER=\"\" HOST=\"\" IP=\"203.0.113.9\" DB=\"shop\"/>\n\
<AUDIT_RECORD NAME=\"Query\" RECORD=\"10_x\" TIMESTAMP=\"2026-12-01T10:00:01 UTC\" COMMAND_CLASS=\"select\" CONNECTION_ID=\"41\" STATUS=\"0\" SQLTEXT=\"select &apos;a&quot;&lt;&amp;&#10;b&apos;\" USER=\"app[app] @  [10.0.0.5]\" HOST=\"\" OS_USER=\"\" IP=\"10.0.0.5\" DB=\"shop\"/>\n";
    let out = parse(input.as_bytes());
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let f = &out.events[0];
    assert_eq!(f.action, Action::LoginFailure);
    assert_eq!(f.error_code.as_deref(), Some("1045"));
    assert_eq!(f.client_ip, Some("203.0.113.9".parse().unwrap()));
    assert_eq!(f.database.as_deref(), Some("shop"));
    assert_eq!(
        out.events[1].statement.as_ref().unwrap().text,
        "select 'a\"<&\nb'"
    );
    assert_eq!(out.events[1].user.as_deref(), Some("app"));
    let csv = b"\"Connect\",\"7_x\",\"2026-12-01T10:00:00 UTC\",\"40\",1045,\"root\",\"\",\"\",\"\",\"\",\"203.0.113.9\",\"\"\n\"Query\",\"8_x\",\"2026-12-01T10:00:01 UTC\",\"select\",\"41\",0,\"select 'a,\n\"\"b\"\"'\",\"app[app] @  [10.0.0.5]\",\"\",\"\",\"10.0.0.5\",\"shop\"\n";
    let out = parse(csv);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.events[0].action, Action::LoginFailure);
    assert_eq!(out.events[0].user.as_deref(), Some("root"));
    assert_eq!(
        out.events[1].statement.as_ref().unwrap().text,
        "select 'a,\n\"b\"'"
    );
    assert_eq!(out.events[1].line, 2);
    // No user name: nothing was tried, a probe.
    let probe = b"{\"audit_record\":{\"name\":\"Connect\",\"record\":\"1_x\",\"timestamp\":\"2026-12-01T10:00:00 UTC\",\"connection_id\":\"9\",\"status\":1158,\"user\":\"\",\"priv_user\":\"\",\"os_login\":\"\",\"proxy_user\":\"\",\"host\":\"\",\"ip\":\"203.0.113.9\",\"db\":\"\"}}\n";
    let out = parse(probe);
    assert_eq!(out.events[0].action, Action::Probe, "{:?}", out.events);
}

#[test]
fn an_ampersand_before_a_multibyte_character_is_kept() {
    // Found by the fuzz target: the entity search cut a string inside a character.
    assert_eq!(
        unescape_xml("&ebia\u{fffd}\u{fffd}\u{fffd};x"),
        "&ebia\u{fffd}\u{fffd}\u{fffd};x"
    );
    assert_eq!(
        unescape_xml("a&amp;b&#233;&#xE9;&bogus;"),
        "a&b\u{e9}\u{e9}&bogus;"
    );
    let line = "<AUDIT_RECORD NAME=\"Query\" TIMESTAMP=\"2026-12-01T10:00:00 UTC\" SQLTEXT=\"&ebia\u{fffd}\u{fffd}\u{fffd}\u{fffd}\"/>\n";
    let out = parse(line.as_bytes());
    assert_eq!(out.events.len(), 1, "{:?}", out.problems);
}

#[test]
fn hostile_records_cost_linear_time() {
    let start = std::time::Instant::now();
    // Many elements that never close, in one NEW record of ~1 MiB.
    let mut xml = String::from("<AUDIT_RECORD>");
    while xml.len() < 900_000 {
        xml.push_str("<a>x");
    }
    xml.push_str("</AUDIT_RECORD>\n");
    let out = parse(xml.as_bytes());
    assert_eq!(out.problems.len(), 1, "no NAME, no TIMESTAMP");
    // A CSV record open over thousands of lines.
    let mut csv =
        String::from("\"Query\",\"1_x\",\"2026-12-01T10:00:00 UTC\",\"select\",\"2\",0,\"select 1");
    for _ in 0..9_000 {
        csv.push_str("\nmore text on another line of the same field");
    }
    csv.push_str("\",\"root[root] @ localhost []\",\"localhost\",\"\",\"\",\"\"\n");
    let out = parse(csv.as_bytes());
    assert_eq!(out.events.len(), 1, "{:?}", out.problems);
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}

#[test]
fn garbage_and_cut_records_are_reported_never_panic() {
    let out = parse(b"hello\n<AUDIT_RECORD\nNAME=\"Query\"\n");
    assert_eq!(out.unrecognized_lines(), 3, "{:?}", out.problems);
    let mut x = 5u64;
    for base in [OLD, CSV, JSON] {
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
fn mysql_enterprise_audit_xml_reads_the_same_way() {
    // The shape of MySQL's documented new-style XML record: indented elements, an
    // empty element written `<OS_LOGIN/>`, the file's `<?xml ...?>` and `<AUDIT>` lines.
    let input = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<AUDIT>\n <AUDIT_RECORD>\n  <TIMESTAMP>2019-10-03T14:09:38 UTC</TIMESTAMP>\n  <RECORD_ID>6_2019-10-03T14:06:33</RECORD_ID>\n  <NAME>Query</NAME>\n  <CONNECTION_ID>11</CONNECTION_ID>\n  <STATUS>0</STATUS>\n  <STATUS_CODE>0</STATUS_CODE>\n  <USER>root[root] @ localhost [127.0.0.1]</USER>\n  <OS_LOGIN/>\n  <HOST>localhost</HOST>\n  <IP>127.0.0.1</IP>\n  <COMMAND_CLASS>drop_table</COMMAND_CLASS>\n  <SQLTEXT>DROP TABLE IF EXISTS t</SQLTEXT>\n </AUDIT_RECORD>\n</AUDIT>\n";
    assert_eq!(detect(input.as_bytes(), true), Some(Format::PerconaAudit));
    let out = parse(input.as_bytes());
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.events.len(), 1);
    let e = &out.events[0];
    assert_eq!(e.action, Action::Statement);
    assert_eq!(e.user.as_deref(), Some("root"));
    assert_eq!(e.client_ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(e.statement.as_ref().unwrap().text, "DROP TABLE IF EXISTS t");
    assert_eq!(e.line, 3);
}
