use super::*;

fn load(text: &str) -> Result<(Settings, Form), Vec<Problem>> {
    Settings::from_yaml(text, "k.yaml", Path::new(""))
}

/// The problems of `text`, as `line:column: reason`.
fn problems(text: &str) -> Vec<String> {
    load(text)
        .expect_err("should not load")
        .iter()
        .map(|p| {
            assert_eq!(p.file, "k.yaml");
            format!("{}:{}: {}", p.line, p.column, p.reason)
        })
        .collect()
}

#[test]
fn an_empty_file_and_the_starter_are_the_defaults() {
    assert_eq!(load("").unwrap().0, Settings::default());
    assert_eq!(load("# nothing\n").unwrap().0, Settings::default());
    let (s, form) = load(STARTER).unwrap();
    assert_eq!(form, Form::Sectioned);
    assert_eq!(s, Settings::default());
    // Spot checks of the documented defaults.
    assert_eq!(s.sources.poll_interval.to_string(), "250ms");
    assert_eq!(s.store.path, PathBuf::from("keibi.db"));
    assert_eq!(s.store.retention.to_string(), "90d");
    assert_eq!(s.server.listen.to_string(), "127.0.0.1:9716");
    assert!(s.rules.builtin && s.server.metrics && s.server.healthz);
    assert_eq!(s.log.format, LogFormat::Text);
}

#[test]
fn the_starter_names_every_key_of_the_settings() {
    for k in document_keys() {
        let last = k.rsplit(['.', ']']).next().unwrap_or(&k);
        if last.is_empty() {
            continue;
        }
        assert!(
            STARTER.contains(&format!("{last}:")),
            "the starter does not mention {k}"
        );
    }
}

/// Every key of the settings, dotted (`sources.inputs[].path`), from the structs
/// themselves: a serialization with every list holding one item of every key.
pub(crate) fn document_keys() -> Vec<String> {
    let mut s = Settings::default();
    s.sources.inputs.push(Source::default());
    s.tuning.suppress.push(Suppression::default());
    s.audit.postgres.push(audit::DbTarget::default());
    s.audit.mysql.push(audit::DbTarget::default());
    s.audit.aws.accounts.push(audit::AuditAccount::default());
    s.audit.suppress.push(audit::AuditSuppress::default());
    s.respond.rules.push(respond::RespondRule::default());
    s.respond
        .databases
        .push(respond::RespondDatabase::default());
    s.respond
        .webhooks
        .insert("NAME".into(), respond::RespondWebhook::default());
    s.respond
        .exec
        .insert("NAME".into(), respond::RespondExec::default());
    // Channels are documented by kind in docs/notifications.md.
    s.notify
        .routes
        .push(keibi_notify::settings::Route::default());
    s.notify.quiet_hours = Some(keibi_notify::settings::QuietHours {
        from: "22:00".parse().unwrap(),
        to: "08:00".parse().unwrap(),
        timezone: None,
        days: vec![],
    });
    s.notify.daily_summary = Some(keibi_notify::settings::DailySummary {
        at: "09:00".parse().unwrap(),
        timezone: None,
        channels: vec![],
    });
    s.stream.nats = Some(worker::NatsStream::default());
    s.stream.kinesis = Some(worker::KinesisStream::default());
    let v = yaml_serde::to_value(&s).unwrap();
    let mut out = Vec::new();
    walk(&v, "", &mut out);
    out
}

fn walk(v: &yaml_serde::Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        yaml_serde::Value::Mapping(m) => {
            for (k, v) in m {
                let k = k.as_str().unwrap();
                let path = if prefix.is_empty() {
                    k.to_string()
                } else {
                    format!("{prefix}.{k}")
                };
                // detection is keibi-detect's Config, documented by its own keys;
                // tuning.severity is keyed by finding type, the dashboard's proxy
                // groups by group name.
                if path == "detection"
                    || path == "tuning.severity"
                    || path == "dashboard.auth.proxy.groups"
                {
                    out.push(path);
                    continue;
                }
                match v {
                    yaml_serde::Value::Mapping(_) => walk(v, &path, out),
                    yaml_serde::Value::Sequence(items)
                        if items.first().is_some_and(|i| i.is_mapping()) =>
                    {
                        out.push(path.clone());
                        walk(&items[0], &format!("{path}[]"), out)
                    }
                    _ => out.push(path),
                }
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

#[test]
fn every_key_parses_and_writes_back() {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "tor.txt",
        "bad.txt",
        "office.txt",
        "asn.mmdb",
        "geo.mmdb",
        "app.log",
    ] {
        std::fs::write(dir.path().join(f), "").unwrap();
    }
    std::fs::create_dir(dir.path().join("rds")).unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::create_dir(dir.path().join("state")).unwrap();
    let text = "\
sources:
  inputs:
    - path: app.log
      format: postgres-stderr
      instance: orders-db
      pg_prefix: '%m [%p] '
      log_timezone: '+09:00'
    - glob: 'rds/**/*.log'
    - dir: rds
    - stdin: true
  poll_interval: 1s
  allowed_lateness: 2s
  idle_timeout: 1m
detection:
  login:
    brute_force_failures: 50
lists:
  tor: [tor.txt]
  threat: [bad.txt]
  trusted: [office.txt]
  trusted_accounts: ['123456789012']
  asn_db: asn.mmdb
  geoip_db: geo.mmdb
tuning:
  suppress:
    - type: CredentialAccess:RDS/BruteForce
      resource: staging
      ip: 10.0.0.0/8
      user: loadtest
      expires: 2026-12-31
      reason: load tests
  severity:
    Discovery:RDS/SchemaEnumeration: low
    my-rule: 7.5
  disable: [noisy-rule]
rules:
  paths: [rules]
  builtin: false
store:
  path: state/keibi.db
  retention: 30d
  export_dir: out
  prune_every: 12h
server:
  listen: 0.0.0.0:9000
  metrics: false
  healthz: false
log:
  format: json
  level: debug
";
    let (s, form) = Settings::from_yaml(text, "k.yaml", dir.path()).unwrap_or_else(|p| {
        panic!(
            "{}",
            p.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert_eq!(form, Form::Sectioned);
    assert_eq!(s.sources.inputs.len(), 4);
    assert_eq!(s.sources.inputs[0].path, Some(dir.path().join("app.log")));
    assert_eq!(
        s.sources.inputs[1].target(),
        Some(Target::Glob(
            dir.path().join("rds/**/*.log").to_str().unwrap()
        ))
    );
    assert_eq!(s.sources.inputs[3].target(), Some(Target::Stdin));
    assert_eq!(s.sources.idle_timeout.to_string(), "1m");
    assert_eq!(s.detection.config.login.brute_force_failures, 50);
    assert_eq!(s.detection.config.login.brute_force_window_secs, 600);
    assert_eq!(s.lists.threat, vec![dir.path().join("bad.txt")]);
    assert_eq!(s.tuning.suppress[0].ip, Some("10.0.0.0/8".parse().unwrap()));
    assert_eq!(
        s.tuning.severity["Discovery:RDS/SchemaEnumeration"],
        Severity::new(1.0)
    );
    assert_eq!(s.tuning.severity["my-rule"], Severity::new(7.5));
    assert!(!s.rules.builtin);
    assert_eq!(s.server.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(s.store.prune_every.to_string(), "12h");
    assert_eq!(s.log.level, LogLevel::Debug);
    // Written back and read again: the same settings (what a reload compares).
    let again: Settings = yaml_serde::from_str(&yaml_serde::to_string(&s).unwrap()).unwrap();
    assert_eq!(again, s);
    let mut other = s.clone();
    other.detection =
        Detection::from_value(yaml_serde::from_str("login: {brute_force_failures: 51}").unwrap())
            .unwrap();
    assert_ne!(other, s, "a changed threshold is a change");
}

#[test]
fn the_flat_form_is_the_detection_section() {
    let (s, form) = load("login:\n  brute_force_failures: 7\ndb_ports: [5432]\n").unwrap();
    assert_eq!(form, Form::Flat);
    assert_eq!(s.detection.config.login.brute_force_failures, 7);
    assert_eq!(s.detection.config.db_ports, vec![5432]);
    assert_eq!(s.sources, Sources::default());
    // Its problems are placed as in a sectioned file.
    assert_eq!(
        problems("login:\n  brute_force_failurs: 7\n"),
        vec!["2:3: login: unknown key `brute_force_failurs`: did you mean `brute_force_failures`?"]
    );
    assert_eq!(
        problems("db_ports: [5432]\nsorces: []\n"),
        vec!["2:1: unknown key `sorces`: did you mean `sources`?"]
    );
    let p = problems("# thresholds\nlogin:\n  spray_window_secs: 99999999999\n");
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("3:3: login.spray_window_secs: "), "{p:?}");
}

#[test]
fn every_problem_is_reported_with_its_line_and_column() {
    let text = "\
sources:
  inputs:
    - path: /nonexistent/keibi-test/a.log
      format: postgres-stdrr
    - glob: '/x/[a.log'
      dir: /tmp
    - {}
    - stdin: true
      log_timezone: Tokyo
detection:
  login:
    brute_force_window_secs: 99999999999
lists:
  threat:
    - /nonexistent/keibi-test/bad.txt
  trusted_accounts: ['1234']
tuning:
  suppress:
    - ip: 10.0.0.0/8
    - ip: 10.0.0.0/33
store:
  retention: 90
  # a comment
servr:
  listen: 127.0.0.1:9000
log:
  level: loud
rules:
  builtin: yes please
";
    let p = problems(text);
    let want = [
        "3:7: /nonexistent/keibi-test/a.log: does not exist",
        "4:7: unknown log format 'postgres-stdrr' (known: cloudwatch-logs, cloudtrail, mysql-enterprise-audit, postgres-json, postgres-csv, postgres-syslog, postgres-stderr, mysql-audit, mysql-error, mysql-general, cloudwatch-export, cnpg, cloudsql, azure, heroku, supabase, pgbouncer, mysql-slow, percona-audit)",
        "5:5: a source names one thing to read, one of path, glob, dir, url or stdin: true (it names 2)",
        "5:7: \"/x/[a.log\" is not a glob: unclosed character class; missing ']'",
        "7:5: a source names one thing to read, one of path, glob, dir, url or stdin: true (it names none)",
        "9:7: \"Tokyo\" is not a UTC offset (as +09:00, -05:00, UTC)",
        "12:5: login.brute_force_window_secs: 99999999999 seconds is not a window (0 to 315576000, ten years)",
        "15:5: /nonexistent/keibi-test/bad.txt: does not exist",
        // In a flow list: the place of its key.
        "16:3: \"1234\" is not an AWS account id (12 digits)",
        "20:11: tuning.suppress[1].ip: \"10.0.0.0/33\" is not an address or a CIDR range (as 10.0.0.0/8)",
        "22:14: store.retention: \"90\" is not a duration: write a number and a unit, as 250ms, 90s, 5m, 2h or 7d",
        "24:1: unknown section `servr`: did you mean `server`?",
        "27:10: log.level: unknown variant `loud`, expected one of `error`, `warn`, `info`, `debug`, `trace`",
        "29:12: rules.builtin: invalid type: string \"yes please\", expected a boolean",
    ];
    assert_eq!(p, want, "got:\n{}", p.join("\n"));
}

#[test]
fn unknown_keys_say_what_was_meant_and_wrong_types_what_was_expected() {
    assert_eq!(
        problems("sources:\n  inputs:\n    - pth: /x\n"),
        vec!["3:7: sources.inputs[0]: unknown key `pth`: did you mean `path`?"]
    );
    for off in ["off", "\"off\"", "OFF"] {
        let (s, _) = Settings::from_yaml(
            &format!("server:\n  listen: {off}\n"),
            "k.yaml",
            Path::new(""),
        )
        .unwrap_or_else(|p| panic!("{off}: {p:?}"));
        assert_eq!(s.server.listen, crate::settings::Listen::Off, "{off}");
    }
    assert_eq!(
        problems("store:\n  prune_every: 1s\n  retention: 0s\n"),
        vec![
            "2:3: store.prune_every: 1m or longer",
            "3:3: store.retention: keep findings at least 1h",
        ]
    );
    assert_eq!(
        problems("server:\n  listen: localhost\n"),
        vec!["2:11: server.listen: \"localhost\" is not an address and port (as 127.0.0.1:9716, [::1]:9716) nor `off`"]
    );
    assert_eq!(
        problems("tuning:\n  severity:\n    T: extreme\n"),
        vec!["3:8: tuning.severity.T: invalid severity \"extreme\": expected low, medium, high, critical or a number from 1.0 to 10.0"]
    );
    assert_eq!(
        problems("lists:\n  tor: tor.txt\n"),
        vec!["2:8: lists.tor: invalid type: string \"tor.txt\", expected a sequence"]
    );
    // A suppression of everything is refused, after the file was read.
    assert_eq!(
        problems("tuning:\n  suppress:\n    - type: T\n    - reason: no condition\n"),
        vec![
            "4:5: a suppression says what it suppresses: at least one of type, resource, ip, user"
        ]
    );
    // A detection key beside sections is said to belong under detection.
    assert_eq!(
        problems("store:\n  path: k.db\nlogin:\n  brute_force_failures: 3\n"),
        vec![
            "3:1: `login` is a detection setting: in a file of sections it goes under `detection:`"
        ]
    );
    // Not a mapping; YAML syntax; refused by the bounds.
    assert_eq!(
        problems("- a\n- b\n"),
        vec!["1:1: a settings file is a mapping of sections (sources:, detection:, ...)"]
    );
    let p = problems("store:\n  path: [a\n");
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("3:1: "), "{p:?}");
    assert_eq!(
        problems("store: &s\n  path: a\nlog: *s\n"),
        vec!["1:1: aliases (*name) and anchors (&name) are not allowed in configuration files"]
    );
}

#[test]
fn flow_style_files_are_read_with_their_first_problem_placed() {
    let (s, _) = load("{store: {path: x.db}, log: {level: warn}}").unwrap();
    assert_eq!(s.store.path, PathBuf::from("x.db"));
    assert_eq!(s.log.level, LogLevel::Warn);
    let p = problems("{store: {pth: x.db}}");
    assert_eq!(
        p,
        vec!["1:10: store: unknown key `pth`: did you mean `path`?"]
    );
}

fn finding(t: &str, detector: &str, ip: &str, user: &str, sev: f64) -> Finding {
    let mut f = Finding::new(
        detector,
        t,
        &["k"],
        Severity::new(sev),
        keibi_model::Resource {
            id: "orders-db".into(),
            ..Default::default()
        },
        DateTime::UNIX_EPOCH,
    );
    f.actor.ip = Some(ip.parse().unwrap());
    f.actor.user = Some(user.into());
    f
}

#[test]
fn tuning_suppresses_disables_and_rescores() {
    let (s, _) = load(
        "tuning:
  suppress:
    - type: CredentialAccess:RDS/BruteForce
      ip: 10.20.0.0/16
      expires: 2026-12-31
    - user: loadtest
      resource: orders-db
  severity:
    Discovery:RDS/SchemaEnumeration: high
    my-rule: 9.5
  disable: [noisy]
",
    )
    .unwrap();
    let all = vec![
        finding(
            "CredentialAccess:RDS/BruteForce",
            "login",
            "10.20.3.4",
            "app",
            5.0,
        ),
        finding(
            "CredentialAccess:RDS/BruteForce",
            "login",
            "10.21.3.4",
            "app",
            5.0,
        ),
        finding(
            "Discovery:RDS/SchemaEnumeration",
            "activity",
            "10.9.9.9",
            "dba",
            2.5,
        ),
        finding("Execution:RDS/X", "my-rule", "10.9.9.9", "loadtest", 4.0),
        finding("Execution:RDS/Y", "noisy", "10.9.9.9", "dba", 4.0),
        finding("Execution:RDS/Z", "my-rule", "10.9.9.9", "dba", 4.0),
    ];
    let before: DateTime<Utc> = "2026-12-31T23:00:00Z".parse().unwrap();
    let mut f = all.clone();
    let t = s.tuning.apply(&mut f, before);
    assert_eq!(
        t,
        Tuned {
            suppressed: 2,
            disabled: 1,
            rescored: 2
        }
    );
    let kept: Vec<(&str, &str, f64)> = f
        .iter()
        .map(|f| {
            (
                f.finding_type.as_str(),
                f.actor.user.as_deref().unwrap(),
                f.severity.value(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        vec![
            ("CredentialAccess:RDS/BruteForce", "app", 5.0),
            ("Discovery:RDS/SchemaEnumeration", "dba", 7.0),
            ("Execution:RDS/Z", "dba", 9.5),
        ]
    );
    // Once expired, the first suppression lets its finding through.
    let after: DateTime<Utc> = "2027-01-01T00:00:00Z".parse().unwrap();
    let mut f = all;
    assert_eq!(s.tuning.apply(&mut f, after).suppressed, 1);
}

#[test]
fn a_file_of_many_mistakes_is_read_in_bounded_time_and_output() {
    // 20,000 unknown sections and 20,000 sources naming nothing, in 1 MiB.
    let mut text = String::from("store:\n  path: k.db\n");
    for i in 0..20_000 {
        text.push_str(&format!("x{i}: 1\n"));
    }
    let t = std::time::Instant::now();
    let p = load(&text).unwrap_err();
    assert_eq!(p.len(), MAX_PROBLEMS + 1);
    assert_eq!(p.last().unwrap().reason, "19900 more problems not shown");
    let mut text = String::from("sources:\n  inputs:\n");
    text.push_str(&"    - {}\n".repeat(20_000));
    let p = load(&text).unwrap_err();
    assert_eq!(p.len(), MAX_PROBLEMS + 1);
    assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
}

const DOCS: &str = include_str!("../../../../docs/configuration.md");

/// The keys in the first column of docs/configuration.md's tables.
fn documented_keys() -> Vec<String> {
    DOCS.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(k, _)| k.to_string()))
        .filter(|k| SECTIONS.iter().any(|s| k.starts_with(&format!("{s}."))))
        .collect()
}

#[test]
fn the_docs_document_every_key_and_only_real_ones() {
    let documented = documented_keys();
    for k in document_keys() {
        if k == "detection" {
            continue;
        }
        assert!(
            documented.contains(&k),
            "docs/configuration.md has no row for `{k}`"
        );
    }
    let real = document_keys();
    for k in &documented {
        if let Some(path) = k.strip_prefix("detection.") {
            // keibi-detect's Config refuses unknown keys: a documented key that is
            // not one is an "unknown field" error (a wrong type is another error).
            let mut yaml = String::new();
            let parts: Vec<&str> = path.split('.').collect();
            for (depth, p) in parts.iter().enumerate() {
                yaml.push_str(&"  ".repeat(depth));
                yaml.push_str(p);
                yaml.push(':');
                yaml.push(if depth + 1 == parts.len() { ' ' } else { '\n' });
            }
            yaml.push_str("~\n");
            if let Err(p) = load(&yaml) {
                assert!(
                    !p.iter().any(|p| p.reason.contains("unknown")),
                    "docs/configuration.md documents `{k}`, which is not a detection key: {p:?}"
                );
            }
        } else {
            assert!(
                real.contains(k),
                "docs/configuration.md documents `{k}`, which is not a key"
            );
        }
    }
}

#[test]
fn the_docs_examples_load() {
    let mut blocks = 0;
    let mut rest = DOCS;
    while let Some(i) = rest.find("```yaml\n") {
        let body = &rest[i + 8..];
        let end = body.find("```").unwrap();
        let block = &body[..end];
        rest = &body[end + 3..];
        blocks += 1;
        // Paths in examples are illustrations: only their existence may fail.
        if let Err(p) = load(block) {
            let other: Vec<&Problem> = p
                .iter()
                .filter(|p| !p.reason.ends_with("does not exist"))
                .collect();
            assert!(other.is_empty(), "example\n{block}\n{other:?}");
        }
    }
    assert!(blocks >= 6, "{blocks} examples");
}

#[test]
fn hostile_text_is_a_problem_never_a_panic() {
    let cases = [
        "\u{0}",
        "\r",
        "store:\r  path: a.db\rlog:\r  level: warn\r",
        "store:\r\n  path: a.db\r\nlog:\r\n  level: warn\r\n",
        "\t\tstore: 1",
        "store: {path: [}",
        "? [a, b]\n: c\n",
        "1: 2\n",
        "sources:\n  inputs:\n    - - - path: x\n",
        "sources:\n  inputs:\n- path: x\n",
        "\u{feff}store:\n  path: x\n",
        "store:\n  path: \"\\u202e\\u0007.db\"\n  retention: 1\u{0301}d\n",
        "\"store\":\n  \"pth\": x\n",
        "detection: |\nstore: x\n",
        "tuning:\n  severity:\n    ? [1]\n    : high\n",
        "---\nstore: {}\n---\nlog: {}\n",
        ":\n",
        "store:\n  path: x\nstore:\n  path: y\n",
    ];
    for text in cases {
        let _ = load(text);
    }
    // A file written with lone CRs is read whole, with its values right.
    let (s, _) = load("store:\r  path: a.db\rlog:\r  level: warn\r").unwrap();
    assert_eq!(
        (s.store.path, s.log.level),
        (PathBuf::from("a.db"), LogLevel::Warn)
    );
    let (s, _) = load("store:\r\n  path: a.db\r\nlog:\r\n  level: warn\r\n").unwrap();
    assert_eq!(
        (s.store.path, s.log.level),
        (PathBuf::from("a.db"), LogLevel::Warn)
    );
    // Every prefix of a full file: no panic, and lines within the file.
    let text = STARTER;
    let lines = text.lines().count() + 1;
    for end in (0..text.len())
        .step_by(11)
        .filter(|i| text.is_char_boundary(*i))
    {
        if let Err(p) = load(&text[..end]) {
            assert!(p.iter().all(|p| p.line >= 1 && p.line <= lines), "{p:?}");
        }
    }
}

#[test]
fn the_quick_path_follows_what_scan_would_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.log"), "").unwrap();
    let paths = vec![
        "-".to_string(),
        d.display().to_string(),
        d.join("a.log").display().to_string(),
        d.join("*.log").display().to_string(),
    ];
    let s = Settings::quick(&paths, Some(PathBuf::from("/tmp/k.db")));
    let targets: Vec<Target<'_>> = s.sources.inputs.iter().filter_map(Source::target).collect();
    assert_eq!(
        targets,
        vec![
            Target::Stdin,
            Target::Dir(d),
            Target::Path(&d.join("a.log")),
            Target::Glob(&paths[3]),
        ]
    );
    assert_eq!(s.store.path, PathBuf::from("/tmp/k.db"));
    assert_eq!(s.sources.poll_interval, Sources::default().poll_interval);
}

#[test]
fn each_key_and_list_item_of_a_section_has_its_problem_reported() {
    let text = "\
sources:
  inputs:
    - path: /tmp
      formt: x
    - stdin: true
    - stdin: maybe
    - glob: '*.log'
      pg_prefx: '%m'
  poll_interval: 5
  idle_timeout: 1s
  allowed_lateness: soon
tuning:
  suppress:
    - ip: 10.0.0.0/33
    - type: T
    - user: u
      expires: tomorrow
  severity:
    T: extreme
detection:
  login:
    brute_force_failurs: 3
  db_ports: [http]
";
    let p = problems(text);
    let want = [
        "4:7: sources.inputs[0]: unknown key `formt`: did you mean `format`?",
        "6:14: sources.inputs[2].stdin: invalid type: string \"maybe\", expected a boolean",
        "8:7: sources.inputs[3]: unknown key `pg_prefx`: did you mean `pg_prefix`?",
        "9:18: sources.poll_interval: \"5\" is not a duration: write a number and a unit, as 250ms, 90s, 5m, 2h or 7d",
        "11:21: sources.allowed_lateness: \"soon\" is not a duration: write a number and a unit, as 250ms, 90s, 5m, 2h or 7d",
        "14:11: tuning.suppress[0].ip: \"10.0.0.0/33\" is not an address or a CIDR range (as 10.0.0.0/8)",
        "17:16: tuning.suppress[2].expires: \"tomorrow\" is not a date (2026-12-31) or an RFC 3339 time",
        "19:8: tuning.severity.T: invalid severity \"extreme\": expected low, medium, high, critical or a number from 1.0 to 10.0",
        "22:5: detection.login: unknown key `brute_force_failurs`: did you mean `brute_force_failures`?",
        "23:14: detection.db_ports[0]: invalid type: string \"http\", expected u16",
    ];
    assert_eq!(p, want, "got:\n{}", p.join("\n"));
}

#[test]
fn load_reads_a_file_with_paths_from_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("office.txt"), "10.0.0.0/8\n").unwrap();
    let file = d.join("keibi.yaml");
    std::fs::write(
        &file,
        "lists:\n  trusted: [office.txt]\nstore:\n  path: k.db\n",
    )
    .unwrap();
    let (s, form) = Settings::load(&file).unwrap();
    assert_eq!(form, Form::Sectioned);
    assert_eq!(s.lists.trusted, vec![d.join("office.txt")]);
    assert_eq!(s.store.path, d.join("k.db"));
    // Problems name the file as given.
    std::fs::write(&file, "lists:\n  trusted: [nothere.txt]\n").unwrap();
    match Settings::load(&file) {
        Err(LoadError::Invalid(p)) => {
            assert_eq!(p.len(), 1);
            assert_eq!(p[0].file, file.display().to_string());
            assert_eq!((p[0].line, p[0].column), (2, 3));
        }
        other => panic!("{other:?}"),
    }
    // Unreadable: missing, a directory, too large, not UTF-8.
    std::fs::write(d.join("big.yaml"), " ".repeat(LIMITS.max_bytes + 1)).unwrap();
    std::fs::write(d.join("bin.yaml"), b"\xff\xfe").unwrap();
    for f in ["missing.yaml", ".", "big.yaml", "bin.yaml"] {
        assert!(
            matches!(
                Settings::load(&d.join(f)),
                Err(LoadError::Unreadable { .. })
            ),
            "{f}"
        );
    }
}

#[test]
fn display_names_a_language_and_a_zone_and_refuses_others_at_their_line() {
    let (s, _) = load("display:\n  lang: ja\n  tz: Asia/Tokyo\n").unwrap();
    assert_eq!(s.display.lang.as_deref(), Some("ja"));
    assert_eq!(s.display.tz.as_deref(), Some("Asia/Tokyo"));
    let p = load("log:\n  level: info\ndisplay:\n  lang: fr\n  tz: Mars/Olympus\n").unwrap_err();
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!((p[0].line, p[1].line), (4, 5), "{p:?}");
    assert!(p[0].reason.contains("en and ja"), "{p:?}");
    assert!(p[1].reason.contains("Mars/Olympus"), "{p:?}");
}

#[test]
fn notify_reads_routes_and_quiet_hours_and_places_its_problems() {
    let good = "\
notify:
  dashboard_url: https://keibi.example.com
  timezone: Asia/Tokyo
  channels:
    - name: ops
      type: webhook
      url: http://127.0.0.1:9/hook
      rate_limit: 10
  routes:
    - name: creds
      severity_at_least: high
      types: ['CredentialAccess:*', '*/BruteForce*']
      engines: [postgres]
      channels: [ops]
      group_wait: 30s
      throttle: 1h
      continue: true
  quiet_hours:
    from: '22:00'
    to: '08:00'
    days: [mon, fri]
  repeat_interval: 2h
  daily_summary:
    at: '09:00'
";
    let (s, _) = load(good).unwrap();
    let n = &s.notify;
    assert_eq!(n.channels[0].rate_limit, 10);
    assert_eq!(n.routes[0].types.len(), 2);
    assert!(n.routes[0].continue_);
    assert_eq!(n.routes[0].throttle.to_string(), "1h");
    assert_eq!(n.repeat_interval.to_string(), "2h");
    assert!(keibi_notify::Router::new(n).is_ok());
    // Written back and read again: the same (what a reload compares).
    let again: Settings = yaml_serde::from_str(&yaml_serde::to_string(&s).unwrap()).unwrap();
    assert_eq!(again, s);

    let bad = "\
notify:
  timezone: Asia/Tokio
  channels:
    - name: ops
      type: webhook
      url: http://127.0.0.1:9/hook
    - name: ops
      type: webhook
      url: http://127.0.0.1:9/other
  routes:
    - channels: [ops, pager]
      types: ['Cred[ential']
  quiet_hours:
    from: '22:00'
    to: '08:00'
    timezone: Mars/Olympus
";
    let p = problems(bad);
    assert_eq!(p.len(), 5, "{p:#?}");
    assert!(
        p[0].starts_with("2:3: ") && p[0].contains("Asia/Tokio"),
        "{p:?}"
    );
    assert!(
        p[1].starts_with("7:7: ") && p[1].contains("two channels"),
        "{p:?}"
    );
    assert!(
        p[2].starts_with("11:7: ") && p[2].contains("\"pager\""),
        "{p:?}"
    );
    assert!(
        p[3].starts_with("12:7: ") && p[3].contains("not a glob"),
        "{p:?}"
    );
    assert!(
        p[4].starts_with("16:5: ") && p[4].contains("Mars/Olympus"),
        "{p:?}"
    );

    // Mistakes serde sees are placed by it: a time that is not one, a wrong key.
    let p = problems("notify:\n  quiet_hours:\n    from: '25:00'\n    to: '08:00'\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("3:") && p[0].contains("not a time of day"),
        "{p:?}"
    );
    let p = problems("notify:\n  routes:\n    - chanels: [ops]\n");
    assert!(
        p[0].starts_with("3:") && p[0].contains("did you mean `channels`"),
        "{p:?}"
    );
}

#[test]
fn the_notification_docs_examples_load() {
    let docs = include_str!("../../../../docs/notifications.md");
    let mut blocks = 0;
    let mut rest = docs;
    while let Some(i) = rest.find("```yaml\n") {
        let body = &rest[i + 8..];
        let end = body.find("```").unwrap();
        let block = &body[..end];
        rest = &body[end + 3..];
        blocks += 1;
        if let Err(p) = load(block) {
            panic!("docs/notifications.md example\n{block}\n{p:#?}");
        }
    }
    assert!(blocks >= 4, "{blocks} examples");
}

#[test]
fn the_audit_section_reads_and_places_its_problems() {
    let (s, _) =
        load("audit:\n  every: 0\n  aws:\n    enabled: true\n    regions: [ap-northeast-1]\n")
            .unwrap();
    assert!(s.audit.every.std().is_zero());
    assert!(s.audit.aws.enabled && s.audit.has_targets());
    assert_eq!(s.audit.aws.regions, ["ap-northeast-1"]);
    let (s, _) = load("audit:\n  every: 30m\n").unwrap();
    assert_eq!(s.audit.every.to_string(), "30m");
    assert!(!s.audit.has_targets());
    assert_eq!(Settings::default().audit.every.to_string(), "6h");
    let p = problems("audit:\n  every: 5\n");
    assert!(p[0].starts_with("2:") && p[0].contains("no unit"), "{p:?}");
    let p = problems(concat!(
        "audit:\n",
        "  postgres:\n",
        "    - url: mysql://a@db/\n",
        "    - url: postgres://a:secret@db/\n",
        "      password: {env: X}\n",
        "  suppress:\n",
        "    - control: NOPE.1\n",
        "      reason: ''\n",
        "    - control: RDS.2\n",
        "      resource: 'prod-[db'\n",
        "      reason: x\n",
    ));
    // RDS.2 is a control: only its glob is wrong.
    assert_eq!(p.len(), 5, "{p:?}");
    assert!(
        p[4].starts_with("10:") && p[4].contains("not a glob"),
        "{p:?}"
    );
    assert!(
        p[0].starts_with("3:") && p[0].contains("not a postgres URL"),
        "{p:?}"
    );
    assert!(
        p[1].starts_with("4:") && p[1].contains("keep only `password`"),
        "{p:?}"
    );
    assert!(!p.iter().any(|p| p.contains("secret")), "{p:?}");
    assert!(p[2].starts_with("7:") && p[2].contains("NOPE.1"), "{p:?}");
    assert!(p[3].starts_with("8:") && p[3].contains("says why"), "{p:?}");
}

#[test]
fn a_listener_without_its_secret_is_a_problem_on_its_line() {
    let p = problems(
        "listen:\n  firehose:\n    listen: 127.0.0.1:9717\n  http:\n    listen: 127.0.0.1:9718\n  queue_bytes: 10\n",
    );
    assert_eq!(p.len(), 3, "{p:?}");
    assert!(
        p[0].starts_with("3:5: listen.firehose.access_key: required"),
        "{p:?}"
    );
    assert!(
        p[1].starts_with("5:5: listen.http.token: required"),
        "{p:?}"
    );
    assert!(
        p[2].starts_with("6:3: listen.queue_bytes: at least"),
        "{p:?}"
    );
    let (s, _) = Settings::from_yaml(
        "listen:\n  firehose:\n    listen: 127.0.0.1:9717\n    access_key: {env: K}\n  syslog:\n    udp: 127.0.0.1:5514\n",
        "k.yaml",
        Path::new(""),
    )
    .unwrap();
    assert!(s.listen.any());
    assert_eq!(
        s.listen.firehose.access_key,
        Some(keibi_notify::Secret::Env("K".into()))
    );
    // A secret written as a bare string: placed on its line, saying the forms.
    let p = problems("listen:\n  http:\n    token: K\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("3:"), "{p:?}");
    assert!(p[0].contains("a secret is {env: NAME}"), "{p:?}");
}

#[test]
fn respond_rules_name_real_actions_webhooks_and_commands_on_their_lines() {
    let p = problems(
        "respond:\n  enabled: true\n  rules:\n    - types: [\"*\"]\n      actions: [block_address, reboot]\n    - actions: [webhook:soc, exec:ticket]\n      mode: auto\n  aws:\n    nacl_rule_numbers: 50-10\n",
    );
    assert_eq!(p.len(), 4, "{p:?}");
    assert!(
        p[0].starts_with("5:") && p[0].contains("\"reboot\" is not an action"),
        "{p:?}"
    );
    assert!(
        p[1].starts_with("6:") && p[1].contains("no webhook \"soc\""),
        "{p:?}"
    );
    assert!(
        p[2].starts_with("6:") && p[2].contains("no command \"ticket\""),
        "{p:?}"
    );
    assert!(
        p[3].starts_with("9:") && p[3].contains("nacl_rule_numbers"),
        "{p:?}"
    );
    let p = problems("respond:\n  rules:\n    - mode: sometimes\n");
    assert!(p.len() == 1 && p[0].starts_with("3:"), "{p:?}");
}

#[test]
fn respond_settings_make_the_policy_with_trusted_networks_added() {
    let (s, _) = load(
        "respond:\n  enabled: true\n  never:\n    roles: [postgres]\n  rules:\n    - name: takeover\n      severity_at_least: high\n      actions: [lock_role]\n      mode: auto\n      expire_after: 2h\n",
    )
    .unwrap();
    let policy = s.respond.policy(
        &["198.51.100.0/24".parse().unwrap()],
        &["arn:aws:iam::1:role/keibi".into()],
    );
    assert_eq!(policy.rules.len(), 1);
    let r = &policy.rules[0];
    assert_eq!(r.name.as_deref(), Some("takeover"));
    assert_eq!(r.min_severity, Some(7.0));
    assert_eq!(r.mode, keibi_respond::Mode::Auto);
    assert_eq!(r.expire_after, Some(std::time::Duration::from_secs(7200)));
    assert_eq!(policy.never.addresses.len(), 1);
    assert_eq!(policy.never.roles, ["postgres"]);
    assert_eq!(policy.never.principals.len(), 1);
}

#[test]
fn roles_are_checked_where_they_are_given() {
    let ok = "audit:\n  aws:\n    enabled: true\n    accounts:\n      - role_arn: arn:aws:iam::210987654321:role/keibi-audit\n        external_id: keibi-ext-1\n        regions: [ap-northeast-1]\n      - role_arn: arn:aws:iam::310987654321:role/path/keibi-audit\nrespond:\n  aws:\n    role_arn: arn:aws-cn:iam::210987654321:role/keibi-act\n";
    let (s, _) = load(ok).unwrap();
    assert_eq!(s.audit.aws.accounts.len(), 2);
    assert_eq!(s.audit.aws.accounts[0].regions, vec!["ap-northeast-1"]);
    assert_eq!(
        s.respond.aws.role_arn.as_deref(),
        Some("arn:aws-cn:iam::210987654321:role/keibi-act")
    );

    let bad = "audit:\n  aws:\n    role_arn: arn:aws:iam::210987654321:role/a\n    accounts:\n      - role_arn: \"arn:aws:iam::1:user/x\\u202e\"\n      - role_arn: arn:aws:iam::210987654321:role/b\n        external_id: \"x\"\nrespond:\n  aws:\n    external_id: keibi-ext-1\nsources:\n  inputs:\n    - path: /nonexistent/keibi/x.log\n      role_arn: arn:aws:iam::210987654321:role/c\n";
    let p = load(bad).unwrap_err();
    let reasons: Vec<&str> = p.iter().map(|p| p.reason.as_str()).collect();
    let has = |s: &str| reasons.iter().any(|r| r.contains(s));
    assert!(has("not both"), "{reasons:?}");
    assert!(has("audit.aws.accounts[0].role_arn"), "{reasons:?}");
    assert!(has("is not a role ARN"), "{reasons:?}");
    assert!(
        !reasons.iter().any(|r| r.contains('\u{202e}')),
        "control characters are not echoed: {reasons:?}"
    );
    assert!(has("audit.aws.accounts[1].external_id"), "{reasons:?}");
    assert!(
        has("respond.aws.external_id: an external id goes with a role_arn"),
        "{reasons:?}"
    );
    assert!(has("a role reads a `url` source"), "{reasons:?}");
}

#[test]
fn the_dashboard_section_keeps_the_bind_rules_and_a_proxy_names_its_peers() {
    let (s, _) = load("dashboard:\n  listen: 127.0.0.1:9800\n").unwrap();
    assert_eq!(s.dashboard.listen.to_string(), "127.0.0.1:9800");
    assert!(s.dashboard.auth.local);
    let reasons = |text: &str| -> Vec<String> {
        load(text)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.reason)
            .collect()
    };
    let r = reasons("dashboard:\n  listen: 0.0.0.0:9717\n");
    assert!(
        r.iter()
            .any(|r| r.contains("is not loopback and has no TLS")),
        "{r:?}"
    );
    assert!(
        reasons("dashboard:\n  listen: 0.0.0.0:9717\n  allow_plain_http_on: 0.0.0.0:9717\n")
            .is_empty()
    );
    let r = reasons("dashboard:\n  listen: 0.0.0.0:9717\n  allow_plain_http_on: 0.0.0.0:9000\n");
    assert_eq!(r.len(), 1, "{r:?}");
    let r = reasons("dashboard:\n  tls:\n    cert: /nonexistent/cert.pem\n");
    assert!(r.iter().any(|r| r.contains("both cert and key")), "{r:?}");
    let r = reasons(
        "dashboard:\n  auth:\n    proxy:\n      header: \"X-User: x\"\n      groups: {ops: root}\n      default_role: boss\n",
    );
    for want in [
        "not a header name",
        "trusted",
        "ops: \"root\" is not a role",
        "default_role",
    ] {
        assert!(r.iter().any(|r| r.contains(want)), "{want} in {r:?}");
    }
    let r = reasons(
        "dashboard:\n  session:\n    idle: 8d\n  login:\n    max_failures: 0\n    window: 10s\n",
    );
    assert_eq!(r.len(), 3, "{r:?}");
}

#[test]
fn the_stream_and_worker_sections_are_read_and_checked() {
    let (s, _) = load(
        "stream:\n  nats: {url: nats://10.0.0.1:4222, stream: LOGS, partitions: 4}\n  format: postgres-stderr\nworker:\n  id: w-1\n  lease_ttl: 20s\n  renew_every: 5s\n",
    )
    .unwrap();
    let n = s.stream.nats.as_ref().unwrap();
    assert_eq!(
        (n.url.as_str(), n.stream.as_str(), n.partitions),
        ("nats://10.0.0.1:4222", "LOGS", 4)
    );
    assert!(s.stream.any());
    assert_eq!(s.worker.id.as_deref(), Some("w-1"));
    assert_eq!(s.worker.lease_ttl.to_string(), "20s");
    assert!(!Settings::default().stream.any());
    let p = load(
        "stream:\n  nats: {partitions: 0}\n  kinesis: {stream: k}\n  format: nope\nworker:\n  lease_ttl: 4s\n  renew_every: 3s\n  id: \"\"\n",
    )
    .unwrap_err();
    let reasons: Vec<&str> = p.iter().map(|p| p.reason.as_str()).collect();
    for want in [
        "not both",
        "stream.nats.partitions",
        "stream.format",
        "worker.renew_every",
        "worker.id",
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(want)),
            "{want}: {reasons:?}"
        );
    }
    assert!(p.iter().all(|p| p.line > 0), "{p:?}");
}
