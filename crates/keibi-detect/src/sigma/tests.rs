use crate::config::Config;
use crate::sigma::RuleSet;
use crate::testutil::{events, run_rules};

const PG: &str = "\
2026-11-02 10:00:01 UTC:203.0.113.9(50000):alice@shop:[100]:LOG:  connection authorized: user=alice database=shop
2026-11-02 10:00:02 UTC:203.0.113.9(50000):alice@shop:[100]:LOG:  statement: ALTER ROLE mallory SUPERUSER
2026-11-02 10:05:02 UTC:203.0.113.9(50000):alice@shop:[100]:LOG:  statement: ALTER ROLE eve SUPERUSER
2026-11-02 10:06:02 UTC:10.0.0.5(50001):bob@shop:[101]:LOG:  statement: select 1
";

const RULE: &str = r#"
title: Role made superuser
id: 2f1d3c4e-0000-4000-8000-000000000001
name: test-superuser
logsource:
  product: postgresql
detection:
  sel:
    statement.text|contains|all: ['alter role', 'superuser']
  condition: sel
level: high
tags: [attack.privilege-escalation, attack.t1098]
keibi:
  type: PrivilegeEscalation:RDS/RoleElevated
  severity: 8.0
  group_by: [user]
  title: "{user} granted superuser on {instance}"
  description: "{count} statements by {user} from {ips} over {duration}: {statement.text}"
  remediation: Revoke it from {user}.
"#;

#[test]
fn a_rule_raises_one_aggregated_finding_with_texts() {
    let evs = events("pg.log", "db1", PG);
    let f = run_rules(RULE, Config::default(), &evs);
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = &f[0];
    assert_eq!(f.finding_type, "PrivilegeEscalation:RDS/RoleElevated");
    assert_eq!(f.count, 2);
    assert_eq!(f.detector, "test-superuser");
    assert_eq!(f.title, "alice granted superuser on db1");
    assert_eq!(
        f.description,
        "2 statements by alice from 203.0.113.9 over 5 min: ALTER ROLE mallory SUPERUSER"
    );
    assert_eq!(f.mitre, vec!["T1098"]);
    assert_eq!(f.remediation, "Revoke it from alice.");
    assert_eq!(f.resource.id, "db1");
    assert_eq!(f.evidence.len(), 2);
    // Same input, same id.
    let again = run_rules(RULE, Config::default(), &evs);
    assert_eq!(again[0].id, f.id);
}

#[test]
fn community_rules_get_sigma_defaults() {
    let rule = RULE.split("keibi:").next().unwrap();
    let evs = events("pg.log", "db1", PG);
    let f = run_rules(rule, Config::default(), &evs);
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].finding_type,
        "Sigma:RDS/2f1d3c4e-0000-4000-8000-000000000001"
    );
    assert_eq!(f[0].severity.value(), 7.5);
    assert_eq!(f[0].title, "Role made superuser");
}

#[test]
fn event_count_correlation_fires_per_group() {
    let yaml = r#"
title: statement
name: any-statement
logsource:
  product: postgresql
detection:
  sel:
    action: statement
  condition: sel
---
title: Many statements by one user
name: many-statements
correlation:
  type: event_count
  rules: [any-statement]
  group-by: [user]
  timespan: 10m
  condition:
    gte: 2
level: medium
keibi:
  type: Test:RDS/Many
  title: "{user} ran many statements"
"#;
    let evs = events("pg.log", "db1", PG);
    let f = run_rules(yaml, Config::default(), &evs);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].finding_type, "Test:RDS/Many");
    assert_eq!(f[0].title, "alice ran many statements");
}

#[test]
fn bad_rules_are_reported_with_file_and_reason() {
    let mut set = RuleSet::default();
    set.add_source("bad.yml", "title: x\nlogsource: {product: postgresql}\ndetection:\n  sel:\n    user|nosuchmodifier: a\n  condition: sel\n");
    set.add_source("bad2.yml", "title: y\nlogsource: {product: postgresql}\ndetection:\n  sel:\n    user: a\n  condition: sel\nkeibi:\n  typo: 1\n");
    set.add_source(
        "win.yml",
        "title: z\nlogsource: {product: windows}\ndetection:\n  sel:\n    a: b\n  condition: sel\n",
    );
    set.add_source("notyaml.yml", "{{{");
    set.add_source("v1.yml", "title: w\nlogsource: {product: postgresql}\ndetection:\n  sel:\n    action: login_failure\n  condition: sel | count() by client_ip > 10\n");
    let p: Vec<String> = set.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(p.len(), 4, "{p:#?}");
    assert!(
        p[3].starts_with("v1.yml") && p[3].contains("event_count"),
        "{p:#?}"
    );
    assert!(!p[3].contains('\n'), "one line: {p:#?}");
    assert!(p[0].starts_with("bad.yml"), "{p:#?}");
    assert!(
        p[1].contains("bad2.yml") && p[1].contains("keibi"),
        "{p:#?}"
    );
    assert!(p[2].starts_with("notyaml.yml"), "{p:#?}");
    assert_eq!(set.skipped(), 1);
}

#[test]
fn builtin_rules_all_load() {
    let mut set = RuleSet::builtin();
    let _ = set.compile(&Config::default());
    assert!(set.problems().is_empty(), "{:#?}", set.problems());
}

#[test]
fn an_object_field_matches_as_its_json_text() {
    let records = r#"{"Records":[{"eventVersion":"1.09","eventTime":"2026-11-28T09:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketVersioning","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/bob","accountId":"123456789012"},"requestParameters":{"bucketName":"backups","VersioningConfiguration":{"Status":"Suspended"}},"responseElements":null,"eventID":"e1","recipientAccountId":"123456789012"}]}"#;
    let evs = events("ct.json", "acct", records);
    let rule = "title: versioning suspended\nid: 6a6b2f3e-1111-4222-8333-444455556666\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    eventName: PutBucketVersioning\n    requestParameters|contains: Suspended\n  nested:\n    requestParameters.VersioningConfiguration.Status: Suspended\n  condition: sel and nested\nlevel: medium\n";
    let f = run_rules(rule, Config::default(), &evs);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        f[0].finding_type,
        "Sigma:CloudTrail/6a6b2f3e-1111-4222-8333-444455556666"
    );
}

/// Built-in rules with bytes scribbled over, and YAML special characters spliced in:
/// loading reports problems, never panics (a poor man's fuzzing of the YAML bound
/// and the parser behind it, deterministic).
#[test]
fn scribbled_rule_files_load_or_are_reported_never_panic() {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let specials = b"&*[]{}:-|>!%@`'\"#,?\n\t \\";
    for (path, text) in super::BUILTIN {
        for _ in 0..12 {
            let mut b = text.as_bytes().to_vec();
            for _ in 0..1 + next() % 8 {
                let at = (next() % b.len() as u64) as usize;
                let r = next();
                b[at] = if r % 2 == 0 {
                    specials[(r >> 8) as usize % specials.len()]
                } else {
                    (r >> 8) as u8
                };
            }
            let text = String::from_utf8_lossy(&b);
            let mut set = RuleSet::default();
            set.add_source(path, &text);
            // Reaching here, and compiling what loaded, is the test.
            let _ = set.compile(&Config::default());
        }
    }
}

#[test]
fn every_source_routes_to_its_own_family_and_never_to_another_engines() {
    use crate::sigma::Family;
    use keibi_model::{Engine, SourceKind};
    let all = [
        SourceKind::PostgresStderr,
        SourceKind::PostgresSyslog,
        SourceKind::PostgresCsv,
        SourceKind::PostgresJson,
        SourceKind::MysqlAudit,
        SourceKind::MysqlError,
        SourceKind::MysqlGeneral,
        SourceKind::MysqlEnterpriseAudit,
        SourceKind::Cloudtrail,
    ];
    for s in all {
        let want = match s.engine() {
            Some(Engine::Postgres) => Some(Family::Postgres),
            Some(Engine::Mysql) => Some(Family::Mysql),
            None => Some(Family::Cloudtrail),
        };
        assert_eq!(Family::of(s), want, "{s:?}");
        // The family's name agrees with the source's: a PostgreSQL log is never
        // matched by MySQL rules, nor the reverse.
        let prefix = s.as_str().split('_').next().unwrap_or_default();
        let fam = Family::of(s).map(|f| f.as_str()).unwrap_or_default();
        assert!(fam.starts_with(prefix), "{s:?} routed to {fam}");
    }
}

#[test]
fn a_rules_actions_are_its_catalog_entrys_and_fill_its_findings() {
    use crate::detector::Detector;
    use keibi_model::{ActionKind, SuggestedAction};
    let rule = RULE.replace(
        "  group_by: [user]\n",
        "  group_by: [user]\n  actions: [end_sessions, lock_role]\n",
    );
    let mut set = RuleSet::default();
    set.add_source("test.yml", &rule);
    assert!(set.problems().is_empty(), "{:?}", set.problems());
    let det = set.compile(&Config::default());
    let cat = det.catalog();
    assert_eq!(cat.len(), 1, "{cat:?}");
    assert_eq!(cat[0].source, "test-superuser");
    assert_eq!(cat[0].origin, "test.yml");
    assert_eq!(
        cat[0].spec.finding_type,
        "PrivilegeEscalation:RDS/RoleElevated"
    );
    assert_eq!(cat[0].spec.mitre, ["T1098"]);
    assert_eq!(
        cat[0].spec.suggested_actions,
        [ActionKind::EndSessions, ActionKind::LockRole]
    );

    let evs = events("pg.log", "db1", PG);
    let f = run_rules(&rule, Config::default(), &evs);
    assert_eq!(
        f[0].suggested_actions,
        [
            SuggestedAction::EndSessions {
                instance: "db1".into(),
                user: "alice".into()
            },
            SuggestedAction::LockRole {
                instance: "db1".into(),
                user: "alice".into()
            },
        ]
    );

    // An action keibi does not know is the rule's problem, not silently dropped.
    let bad = RULE.replace(
        "  group_by: [user]\n",
        "  group_by: [user]\n  actions: [nuke_it]\n",
    );
    let mut set = RuleSet::default();
    set.add_source("bad.yml", &bad);
    assert_eq!(set.problems().len(), 1, "{:?}", set.problems());
    assert!(
        set.problems()[0].reason.contains("nuke_it"),
        "{:?}",
        set.problems()
    );
}

#[test]
fn per_finding_state_is_forgotten_with_its_finding() {
    use crate::detector::Detector;
    let config = Config::default();
    let mut rules = RuleSet::default();
    rules.add_source("test.yml", RULE);
    let mut sigma = rules.compile(&config);
    let lists = crate::iplist::ThreatLists::default();
    let services = crate::Services::default();
    let instances = Default::default();
    let mut held = crate::findings::Findings::default();
    let mut cx = crate::detector::Context {
        config: &config,
        lists: &lists,
        services: &services,
        findings: &mut held,
        enriched: Default::default(),
        instances: &instances,
    };
    for e in events("pg.log", "db1", PG) {
        sigma.observe(&e, &mut cx);
    }
    let later = chrono::DateTime::<chrono::Utc>::from_timestamp(4_000_000_000, 0).unwrap();
    sigma.advance(later, &mut cx);
    assert!(
        sigma.per_finding_entries() > 0,
        "kept while the store holds it"
    );
    // The store forgot the finding (a daemon's closed finding): so does the detector.
    let mut empty = crate::findings::Findings::default();
    cx.findings = &mut empty;
    sigma.advance(later, &mut cx);
    assert_eq!(sigma.per_finding_entries(), 0);
}
