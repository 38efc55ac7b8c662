//! Sigma rules in Japanese: a rule's `title_ja`, `description_ja` and
//! `remediation_ja` beside its English, checked when it loads, rendered in the
//! reader's language and zone; a rule without them stays English.

use keibi_i18n::{DisplayZone, Lang, Locale};

use crate::config::Config;
use crate::sigma::RuleSet;
use crate::testutil::{events, run_rules};

const PG: &str = "\
2026-11-02 10:00:01 UTC:203.0.113.9(50000):alice@shop:[100]:LOG:  connection authorized: user=alice database=shop
2026-11-02 10:00:02 UTC:203.0.113.9(50000):alice@shop:[100]:LOG:  statement: ALTER ROLE mallory SUPERUSER
2026-11-02 10:05:02 UTC:203.0.113.9(50000):alice@shop:[100]:LOG:  statement: ALTER ROLE eve SUPERUSER
";

const RULE: &str = r#"
title: Role made superuser
id: 2f1d3c4e-0000-4000-8000-000000000002
name: test-superuser-ja
logsource:
  product: postgresql
detection:
  sel:
    statement.text|contains|all: ['alter role', 'superuser']
  condition: sel
level: high
keibi:
  type: PrivilegeEscalation:RDS/RoleElevated
  group_by: [user]
  title: "{user} granted superuser on {instance}"
  description: "{count} statements by {user} from {ips} between {first_seen} and {last_seen} ({duration}): {statement.text}"
  remediation: Revoke it from {user}.
  title_ja: "{instance} で {user} がスーパーユーザー権限を付与"
  description_ja: "{user}（送信元 {ips}）が {first_seen}から{last_seen}まで（{duration}）に{count}件: {statement.text}"
  remediation_ja:
    - "{user} から取り消してください。"
    - "{instance} のログを確認してください。"
"#;

fn tokyo() -> Locale {
    Locale::new(Lang::Ja, DisplayZone::named("Asia/Tokyo").unwrap())
}

#[test]
fn a_rule_with_japanese_reads_in_japanese_and_its_english_is_unchanged() {
    let evs = events("pg.log", "db1", PG);
    let f = &run_rules(RULE, Config::default(), &evs)[0];
    // The English strings are what they were without the Japanese.
    let english = RULE.split("  title_ja").next().unwrap();
    let plain = &run_rules(english, Config::default(), &evs)[0];
    assert_eq!(f.title, plain.title);
    assert_eq!(f.description, plain.description);
    assert_eq!(f.remediation, plain.remediation);
    assert!(
        plain.text.is_none(),
        "a rule without Japanese keeps English only"
    );
    assert_eq!(
        f.description,
        "2 statements by alice from 203.0.113.9 between 2026-11-02 10:00:02 UTC and \
         2026-11-02 10:05:02 UTC (5 min): ALTER ROLE mallory SUPERUSER"
    );
    let t = f
        .text
        .as_ref()
        .expect("a rule with Japanese carries messages");
    let (title, d, r) = tokyo().finding(t);
    assert_eq!(title.unwrap(), "db1 で alice がスーパーユーザー権限を付与");
    assert_eq!(
        d,
        "alice（送信元 203.0.113.9）が 2026-11-02 19:00:02 JSTから19:05:02まで（5分）に2件: ALTER ROLE mallory SUPERUSER"
    );
    assert_eq!(
        r,
        "1. alice から取り消してください。\n2. db1 のログを確認してください。"
    );
    // The store keeps the messages as JSON (its `text` column): they read back the same.
    let stored: keibi_model::FindingText =
        serde_json::from_str(&serde_json::to_string(t).unwrap()).unwrap();
    assert_eq!(tokyo().finding(&stored), tokyo().finding(t));
    // English in another zone: the times follow it, the words stay.
    let paris = Locale::new(Lang::En, DisplayZone::named("Europe/Paris").unwrap());
    let (_, d, r) = paris.finding(t);
    assert!(d.contains("2026-11-02 11:00:02 CET"), "{d}");
    assert_eq!(r, "Revoke it from alice.");
}

#[test]
fn a_japanese_text_left_out_falls_back_to_the_english() {
    let rule = RULE.replace(
        "  title_ja: \"{instance} で {user} がスーパーユーザー権限を付与\"\n",
        "",
    );
    let evs = events("pg.log", "db1", PG);
    let f = &run_rules(&rule, Config::default(), &evs)[0];
    let (title, _, _) = tokyo().finding(f.text.as_ref().unwrap());
    assert_eq!(title.unwrap(), "alice granted superuser on db1");
}

#[test]
fn a_japanese_placeholder_the_english_lacks_does_not_load() {
    for (from, to) in [
        ("{user} がスーパー", "{client_ip} がスーパー"),
        ("に{count}件", "に{users}件"),
        ("{instance} のログ", "{database} のログ"),
        ("{user} から取り消", "{user から取り消"),
    ] {
        let rule = RULE.replace(from, to);
        assert_ne!(rule, RULE);
        let mut set = RuleSet::default();
        set.add_source("user.yml", &rule);
        assert!(set.rules().is_empty(), "{to}");
        let why = set.problems()[0].to_string();
        assert!(why.contains("_ja"), "{why}");
    }
    // A placeholder of another English text of the rule is fine (a step naming the
    // instance of the title).
    let mut set = RuleSet::default();
    set.add_source("user.yml", RULE);
    assert!(set.problems().is_empty(), "{:?}", set.problems());
}

#[test]
fn every_builtin_database_rule_has_japanese_that_loads() {
    let set = RuleSet::builtin();
    assert!(set.problems().is_empty(), "{:?}", set.problems());
    let database: Vec<_> = set
        .rules()
        .iter()
        .filter(|r| r.origin.contains("database/"))
        .collect();
    assert!(database.len() >= 10, "{}", database.len());
    for path in crate::sigma::BUILTIN
        .iter()
        .filter(|(p, _)| p.contains("database/"))
    {
        let docs = path.1.split("\n---").count();
        for key in ["title_ja:", "description_ja:", "remediation_ja:"] {
            assert_eq!(path.1.matches(key).count(), docs, "{} {key}", path.0);
        }
    }
}

#[test]
fn attacker_text_in_a_rule_field_stays_inert_in_japanese() {
    // A statement that looks like a catalog variable, with a bidi override: it is an
    // argument's value, never a pattern, in either language.
    let log = "2026-11-02 10:00:02 UTC:203.0.113.9(50000):alice@shop:[100]:LOG:  statement: ALTER ROLE m SUPERUSER /* { $en } {count} \u{202e}x */\n";
    let evs = events("pg.log", "db1", log);
    let f = &run_rules(RULE, Config::default(), &evs)[0];
    let (_, d, _) = tokyo().finding(f.text.as_ref().unwrap());
    assert!(
        d.ends_with("1件: ALTER ROLE m SUPERUSER /* { $en } {count} \u{202e}x */"),
        "{d}"
    );
    assert!(
        f.description.ends_with("{ $en } {count} \u{202e}x */"),
        "{}",
        f.description
    );
}
