//! Every Sigma feature the issue names, on database events: each test is a rule that
//! must match the events it names and no others. Rules are written for these tests.

use keibi_model::Event;

use crate::config::Config;
use crate::sigma::RuleSet;
use crate::testutil::{events, run_rules};

/// Twelve statements and logins from three users and three addresses.
const LOG: &str = "\
2026-11-02 10:00:00 UTC:203.0.113.9(50000):alice@shop:[100]:LOG:  connection authorized: user=alice database=shop application_name=psql
2026-11-02 10:00:01 UTC:203.0.113.9(50000):alice@shop:[100]:LOG:  statement: SELECT * FROM Orders WHERE id = 1
2026-11-02 10:00:02 UTC:203.0.113.9(50000):alice@shop:[100]:LOG:  statement: select convert_from(decode('c2VsZWN0IHZlcnNpb24oKQ==', 'base64'), 'utf8')
2026-11-02 10:00:03 UTC:10.1.2.3(50001):bob@shop:[101]:LOG:  statement: COPY orders TO STDOUT
2026-11-02 10:00:04 UTC:10.1.2.3(50001):bob@shop:[101]:LOG:  statement: SELECT pg_sleep(10)
2026-11-02 10:00:05 UTC:10.1.2.3(50001):bob@shop:[101]:LOG:  statement: UPDATE users SET name = 'bob' WHERE id = 7
2026-11-02 10:00:06 UTC:198.51.100.4(50002):carol@carol:[102]:LOG:  statement: DROP TABLE carol
2026-11-02 10:01:06 UTC:198.51.100.4(50002):carol@carol:[102]:LOG:  statement: DROP TABLE invoices
2026-11-02 10:02:06 UTC:198.51.100.4(50002):carol@carol:[102]:LOG:  statement: CREATE TABLE readme (note text)
2026-11-02 10:20:06 UTC:198.51.100.4(50003):carol@carol:[103]:LOG:  statement: CREATE TABLE readme2 (note text)
";

fn evs() -> Vec<Event> {
    events("feat.log", "db1", LOG)
}

/// A detection rule around `detection` (YAML, indented four spaces); returns the
/// statements (or actions, for non-statements) it matched, in order.
fn matched(detection: &str) -> Vec<String> {
    matched_with(detection, Config::default())
}

fn matched_with(detection: &str, config: Config) -> Vec<String> {
    let yaml = format!(
        "title: t\nname: t\nlogsource:\n  product: postgresql\ndetection:\n{detection}\nlevel: low\n"
    );
    let evs = evs();
    let mut got = Vec::new();
    // One finding per matching event: group by line.
    let yaml = yaml.replace(
        "level: low\n",
        "level: low\nkeibi:\n  type: T:RDS/T\n  group_by: [line]\n",
    );
    for f in run_rules(&yaml, config, &evs) {
        for e in &f.evidence {
            if let keibi_model::Evidence::Line { line, .. } = e {
                let ev = evs.iter().find(|x| x.line == *line).expect("evidence line");
                got.push(
                    ev.statement
                        .as_ref()
                        .map(|s| s.text.clone())
                        .unwrap_or_else(|| ev.action.as_str().to_string()),
                );
            }
        }
    }
    got.sort();
    got
}

#[test]
fn contains_startswith_endswith_and_case() {
    assert_eq!(
        matched("  s:\n    statement.text|contains: 'from orders'\n  condition: s"),
        vec!["SELECT * FROM Orders WHERE id = 1"]
    );
    assert_eq!(
        matched("  s:\n    statement.text|startswith: 'drop table'\n  condition: s"),
        vec!["DROP TABLE carol", "DROP TABLE invoices"]
    );
    assert_eq!(
        matched("  s:\n    statement.text|endswith: 'to stdout'\n  condition: s"),
        vec!["COPY orders TO STDOUT"]
    );
    // |cased: exact case only.
    assert!(
        matched("  s:\n    statement.text|contains|cased: 'from orders'\n  condition: s")
            .is_empty()
    );
    assert_eq!(
        matched("  s:\n    statement.text|contains|cased: 'FROM Orders'\n  condition: s").len(),
        1
    );
}

#[test]
fn lists_all_and_regex_with_flags() {
    // A list is OR; |all makes it AND.
    assert_eq!(
        matched(
            "  s:\n    statement.text|contains:\n      - pg_sleep\n      - 'COPY '\n  condition: s"
        ),
        vec!["COPY orders TO STDOUT", "SELECT pg_sleep(10)"]
    );
    assert_eq!(
        matched(
            "  s:\n    statement.text|contains|all:\n      - update\n      - where\n  condition: s"
        ),
        vec!["UPDATE users SET name = 'bob' WHERE id = 7"]
    );
    // |re is case-sensitive unless |i.
    assert!(matched("  s:\n    statement.text|re: '^drop table \\w+$'\n  condition: s").is_empty());
    assert_eq!(
        matched("  s:\n    statement.text|re|i: '^drop table \\w+$'\n  condition: s").len(),
        2
    );
}

#[test]
fn cidr_exists_and_numbers() {
    assert_eq!(
        matched("  s:\n    client_ip|cidr: 10.0.0.0/8\n    action: statement\n  condition: s"),
        vec![
            "COPY orders TO STDOUT",
            "SELECT pg_sleep(10)",
            "UPDATE users SET name = 'bob' WHERE id = 7"
        ]
    );
    // `application` is only known for alice's login.
    assert_eq!(
        matched("  s:\n    application|exists: true\n  condition: s"),
        vec!["login_success"]
    );
    assert_eq!(
        matched("  s:\n    pid|gte: 102\n    statement.text|contains: readme\n  condition: s")
            .len(),
        2
    );
    assert_eq!(
        matched("  s:\n    pid|gt: 102\n  condition: s"),
        vec!["CREATE TABLE readme2 (note text)"]
    );
    assert_eq!(matched("  s:\n    pid|lt: 101\n  condition: s").len(), 3);
    assert_eq!(matched("  s:\n    pid|lte: 101\n  condition: s").len(), 6);
}

#[test]
fn base64_base64offset_windash_and_fieldref() {
    // The statement carries base64 of `select version()`.
    assert_eq!(
        matched("  s:\n    statement.text|base64|contains: 'select version()'\n  condition: s")
            .len(),
        1
    );
    assert_eq!(
        matched("  s:\n    statement.text|base64offset|contains: 'version()'\n  condition: s")
            .len(),
        1
    );
    // |windash: `-x` also matches `/x` (harmless here, but it must compile and match).
    assert!(
        matched("  s:\n    statement.text|windash|contains: ' -c '\n  condition: s").is_empty()
    );
    // |fieldref: carol works in a database named after her.
    assert_eq!(
        matched("  s:\n    database|fieldref: user\n  condition: s").len(),
        4
    );
}

#[test]
fn expand_takes_placeholders_from_configuration() {
    let mut config = Config::default();
    config.placeholders.insert(
        "admins".to_string(),
        vec!["carol".to_string(), "dave".to_string()],
    );
    let got = matched_with(
        "  s:\n    user|expand: '%admins%'\n    statement.text|startswith: create\n  condition: s",
        config,
    );
    assert_eq!(got.len(), 2, "{got:?}");
}

#[test]
fn conditions_not_parentheses_one_of_all_of_them() {
    let sel = "  sel_copy:\n    statement.text|contains: copy\n  sel_sleep:\n    statement.text|contains: pg_sleep\n  filter_bob:\n    user: bob\n";
    assert_eq!(
        matched(&format!("{sel}  condition: 1 of sel_* and not filter_bob")),
        Vec::<String>::new()
    );
    assert_eq!(matched(&format!("{sel}  condition: 1 of sel_*")).len(), 2);
    assert!(matched(&format!("{sel}  condition: all of sel_*")).is_empty());
    assert_eq!(
        matched(&format!(
            "{sel}  condition: (sel_copy or sel_sleep) and filter_bob"
        ))
        .len(),
        2
    );
    assert_eq!(matched(&format!("{sel}  condition: 1 of them")).len(), 3);
    assert!(matched(&format!("{sel}  condition: all of them")).is_empty());
}

fn correlation(body: &str) -> Vec<keibi_model::Finding> {
    let yaml = format!(
        "title: drop\nname: drop\nlogsource:\n  product: postgresql\ndetection:\n  s:\n    statement.text|startswith: drop\n  condition: s\n---\ntitle: create\nname: create\nlogsource:\n  product: postgresql\ndetection:\n  s:\n    statement.text|startswith: create table readme\n  condition: s\n---\ntitle: corr\nname: corr\ncorrelation:\n{body}\nlevel: high\nkeibi:\n  type: T:RDS/Corr\n"
    );
    // Only the correlation's findings: a base rule it does not use raises its own.
    run_rules(&yaml, Config::default(), &evs())
        .into_iter()
        .filter(|f| f.finding_type == "T:RDS/Corr")
        .collect()
}

#[test]
fn event_count_and_value_count() {
    let f = correlation("  type: event_count\n  rules: [drop]\n  group-by: [user]\n  timespan: 5m\n  condition:\n    gte: 2");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].actor.user.as_deref(), Some("carol"));
    // Outside the window: not enough.
    assert!(correlation("  type: event_count\n  rules: [drop]\n  group-by: [user]\n  timespan: 30s\n  condition:\n    gte: 2").is_empty());
    let f = correlation("  type: value_count\n  rules: [create]\n  group-by: [user]\n  timespan: 1h\n  condition:\n    field: pid\n    gte: 2");
    assert_eq!(f.len(), 1, "two backends (pids) created readme tables");
    assert!(correlation("  type: value_count\n  rules: [create]\n  group-by: [user]\n  timespan: 1h\n  condition:\n    field: pid\n    gte: 3").is_empty());
}

#[test]
fn temporal_and_temporal_ordered() {
    let f = correlation(
        "  type: temporal\n  rules: [create, drop]\n  group-by: [user]\n  timespan: 10m",
    );
    assert_eq!(f.len(), 1);
    let f = correlation(
        "  type: temporal_ordered\n  rules: [drop, create]\n  group-by: [user]\n  timespan: 10m",
    );
    assert_eq!(f.len(), 1, "drops then a readme table");
    assert!(
        correlation("  type: temporal_ordered\n  rules: [create, drop]\n  group-by: [user]\n  timespan: 10m").is_empty(),
        "the readme table came after the drops, not before"
    );
}

/// The correlation's findings when the events come one batch at a time (a live
/// scan: windows that ended are dropped at each watermark), as they were reported
/// before the input ended.
fn correlation_live(body: &str) -> Vec<keibi_model::Finding> {
    let yaml = format!(
        "title: drop\nname: drop\nlogsource:\n  product: postgresql\ndetection:\n  s:\n    statement.text|startswith: drop\n  condition: s\n---\ntitle: create\nname: create\nlogsource:\n  product: postgresql\ndetection:\n  s:\n    statement.text|startswith: create table readme\n  condition: s\n---\ntitle: corr\nname: corr\ncorrelation:\n{body}\nlevel: high\nkeibi:\n  type: T:RDS/Corr\n"
    );
    let mut rules = crate::sigma::RuleSet::default();
    rules.add_source("test.yml", &yaml);
    let config = Config::default();
    let sigma = rules.compile(&config);
    let mut s = crate::Scanner::with_detectors(
        config,
        crate::ThreatLists::default(),
        vec![Box::new(sigma)],
    );
    let mut found: Vec<keibi_model::Finding> = Vec::new();
    for e in evs().chunks(1) {
        for c in s.observe_batch(e) {
            if c.finding().finding_type == "T:RDS/Corr" {
                found.retain(|f| f.id != c.finding().id);
                found.push(c.finding().clone());
            }
        }
    }
    found
}

#[test]
fn correlations_fire_mid_stream_and_dropping_ended_windows_changes_nothing() {
    for body in [
        "  type: event_count\n  rules: [drop]\n  group-by: [user]\n  timespan: 5m\n  condition:\n    gte: 2",
        "  type: event_count\n  rules: [drop]\n  group-by: [user]\n  timespan: 30s\n  condition:\n    gte: 2",
        "  type: value_count\n  rules: [create]\n  group-by: [user]\n  timespan: 1h\n  condition:\n    field: pid\n    gte: 2",
        "  type: temporal_ordered\n  rules: [drop, create]\n  group-by: [user]\n  timespan: 10m",
        "  type: temporal_ordered\n  rules: [create, drop]\n  group-by: [user]\n  timespan: 10m",
    ] {
        let at_end = correlation(body);
        let live = correlation_live(body);
        let ids = |v: &[keibi_model::Finding]| {
            let mut v: Vec<(String, u64)> = v.iter().map(|f| (f.id.clone(), f.count)).collect();
            v.sort();
            v
        };
        assert_eq!(ids(&live), ids(&at_end), "{body}");
    }
}

/// A rule whose `|expand` placeholder is not defined does not load (issue 13 §8):
/// the engine would compare `user` with an empty value, and `not admins` would then
/// let every statement through. With the values given it loads and excludes them.
#[test]
fn an_undefined_placeholder_does_not_load_and_a_defined_one_does() {
    let yaml = "title: Grant by someone not an admin\nname: grant-not-admin\nlogsource:\n  product: postgresql\ndetection:\n  sel:\n    statement.text|startswith: create\n  admins:\n    user|expand: '%admins%'\n  condition: sel and not admins\nlevel: medium\n";
    let mut set = crate::sigma::RuleSet::default();
    set.add_source("my-rules/grant.yml", yaml);
    assert!(set.problems().is_empty(), "{:?}", set.problems());
    let sigma = set.compile(&Config::default());
    assert_eq!(set.problems().len(), 1, "{:?}", set.problems());
    let p = &set.problems()[0];
    assert_eq!(p.origin, "my-rules/grant.yml");
    assert!(p.reason.contains("%admins%"), "{}", p.reason);
    assert!(set.rules().is_empty(), "listed as loaded");
    assert!(crate::Detector::catalog(&sigma).is_empty());
    let mut config = Config::default();
    config
        .placeholders
        .insert("admins".to_string(), vec!["carol".to_string()]);
    let mut set = crate::sigma::RuleSet::default();
    set.add_source("my-rules/grant.yml", yaml);
    let _ = set.compile(&config);
    assert!(set.problems().is_empty(), "{:?}", set.problems());
    assert_eq!(set.rules().len(), 1);
    let detection = yaml
        .split_once("detection:\n")
        .unwrap()
        .1
        .split_once("level:")
        .unwrap()
        .0;
    let creates = matched_with(
        "  sel:\n    statement.text|startswith: create\n  condition: sel",
        Config::default(),
    );
    let not_carol = matched_with(detection, config);
    assert!(
        not_carol.len() < creates.len(),
        "{not_carol:?} of {creates:?}"
    );
}

#[test]
fn a_placeholder_with_no_values_is_not_defined() {
    // An empty or all-blank `--placeholder` file: the rule would match every event
    // its filter should exclude, so it does not load, as with no placeholder at all.
    let yaml = "title: t\nname: t\nlogsource:\n  product: postgresql\ndetection:\n  s:\n    statement.text|startswith: create\n  f:\n    user|expand: '%admins%'\n  condition: s and not f\nlevel: low\nkeibi:\n  type: T:RDS/T\n";
    for values in [vec![], vec![String::new(), "  ".to_string()]] {
        let mut config = Config::default();
        config.placeholders.insert("admins".to_string(), values);
        let mut rules = RuleSet::default();
        rules.add_source("test.yml", yaml);
        let _ = rules.compile(&config);
        assert!(
            rules
                .problems()
                .iter()
                .any(|p| format!("{p:?}").contains("has no values")),
            "{:?}",
            rules.problems()
        );
    }
}

#[test]
fn a_placeholder_has_at_most_so_many_values() {
    let mut config = Config::default();
    config.placeholders.insert(
        "admins".to_string(),
        vec!["a".to_string(); crate::config::MAX_PLACEHOLDER_VALUES + 1],
    );
    let e = config.validate().unwrap_err().to_string();
    assert!(
        e.contains("placeholders.admins") && e.contains("100000"),
        "{e}"
    );
    config
        .placeholders
        .insert("admins".to_string(), vec!["a".to_string(); 3]);
    config.validate().unwrap();
}
