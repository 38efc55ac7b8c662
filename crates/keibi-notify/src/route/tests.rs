use super::*;
use keibi_model::{Engine, Resource};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn finding(ty: &str, sev: f64, resource: &str) -> Finding {
    Finding::new(
        "login",
        ty,
        &[resource],
        Severity::new(sev),
        Resource {
            kind: "db_instance".into(),
            id: resource.into(),
            engine: Some(Engine::Postgres),
            ..Default::default()
        },
        t("2026-12-06T03:10:00Z"),
    )
}

/// Settings from JSON (the same serde shape as the YAML section), with channels
/// `a`, `b`, `c`.
fn settings(json: &str) -> NotifySettings {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["channels"] = serde_json::json!([
        {"name": "a", "type": "webhook", "url": "http://127.0.0.1:1/a"},
        {"name": "b", "type": "webhook", "url": "http://127.0.0.1:1/b"},
        {"name": "c", "type": "webhook", "url": "http://127.0.0.1:1/c"},
    ]);
    let s: NotifySettings = serde_json::from_value(v).unwrap();
    assert_eq!(s.problems(), vec![], "{json}");
    s
}

fn router(json: &str) -> Router {
    Router::new(&settings(json)).unwrap()
}

const NOW: &str = "2026-12-06T05:00:00Z";

fn channels(r: &Router, f: &Finding) -> Vec<String> {
    r.plan(f, &NoticeKind::New, t(NOW), Seen::default())
        .into_iter()
        .map(|p| p.channel)
        .collect()
}

#[test]
fn without_routes_every_channel_hears_of_high_and_critical() {
    let r = router("{}");
    assert_eq!(channels(&r, &finding("X:Y/Z", 7.0, "db")), ["a", "b", "c"]);
    assert_eq!(channels(&r, &finding("X:Y/Z", 9.5, "db")), ["a", "b", "c"]);
    assert!(channels(&r, &finding("X:Y/Z", 6.9, "db")).is_empty());
    let o = r.explain(
        &finding("X:Y/Z", 5.0, "db"),
        &NoticeKind::New,
        t(NOW),
        Seen::default(),
    );
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].route, DEFAULT_ROUTE);
    assert_eq!(
        o[0].verdict,
        Verdict::Missed(Miss::Severity {
            at_least: Severity::new(7.0),
            was: Severity::new(5.0)
        })
    );
    // No channels, no routes: nowhere, and no panic.
    let none = Router::new(&NotifySettings::default()).unwrap();
    assert!(none
        .plan(
            &finding("X:Y/Z", 9.0, "db"),
            &NoticeKind::New,
            t(NOW),
            Seen::default()
        )
        .is_empty());
}

#[test]
fn first_match_wins_unless_it_continues() {
    let r = router(
        r#"{"routes": [
            {"name": "pager", "severity_at_least": "critical", "channels": ["a"]},
            {"name": "creds", "types": ["CredentialAccess:*"], "channels": ["b"]},
            {"name": "all", "channels": ["c"]}]}"#,
    );
    assert_eq!(
        channels(&r, &finding("Impact:RDS/RansomNote", 9.5, "db")),
        ["a"]
    );
    assert_eq!(
        channels(&r, &finding("CredentialAccess:RDS/BruteForce", 5.0, "db")),
        ["b"]
    );
    assert_eq!(
        channels(&r, &finding("Discovery:RDS/SchemaEnumeration", 2.5, "db")),
        ["c"]
    );
    let o = r.explain(
        &finding("CredentialAccess:RDS/BruteForce", 5.0, "db"),
        &NoticeKind::New,
        t(NOW),
        Seen::default(),
    );
    assert!(matches!(
        o[0].verdict,
        Verdict::Missed(Miss::Severity { .. })
    ));
    assert!(matches!(
        o[1].verdict,
        Verdict::Matched {
            continues: false,
            ..
        }
    ));
    assert_eq!(o[2].verdict, Verdict::NotReached { by: "creds".into() });

    let r = router(
        r#"{"routes": [
            {"severity_at_least": "high", "channels": ["a", "b"], "continue": true},
            {"channels": ["b", "c"]}]}"#,
    );
    // Both routes; `b` once.
    assert_eq!(channels(&r, &finding("X:Y/Z", 8.0, "db")), ["a", "b", "c"]);
    let o = r.explain(
        &finding("X:Y/Z", 8.0, "db"),
        &NoticeKind::New,
        t(NOW),
        Seen::default(),
    );
    assert_eq!(o[0].route, "route 1");
    match &o[1].verdict {
        Verdict::Matched { already, .. } => assert_eq!(already, &["b"]),
        v => panic!("{v:?}"),
    }
    assert_eq!(channels(&r, &finding("X:Y/Z", 4.0, "db")), ["b", "c"]);
}

#[test]
fn each_filter() {
    let r = router(
        r#"{"routes": [
            {"name": "types", "types": ["*/BruteForce*", "Stealth:*"], "channels": ["a"]},
            {"name": "resources", "resources": ["prod-*"], "channels": ["b"]},
            {"name": "accounts", "accounts": ["1234567890??"], "channels": ["c"]},
            {"name": "engines", "engines": ["mysql"], "channels": ["a"]}]}"#,
    );
    let miss = |f: &Finding| -> Vec<Verdict> {
        r.explain(f, &NoticeKind::New, t(NOW), Seen::default())
            .into_iter()
            .map(|o| o.verdict)
            .collect()
    };
    assert_eq!(
        channels(&r, &finding("CredentialAccess:RDS/BruteForce", 5.0, "x")),
        ["a"]
    );
    assert_eq!(
        channels(
            &r,
            &finding(
                "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
                5.0,
                "x"
            )
        ),
        Vec::<String>::new(),
        "*/BruteForce* needs BruteForce right after a slash"
    );
    assert_eq!(
        channels(&r, &finding("Stealth:RDS/AuditTampering", 5.0, "x")),
        ["a"]
    );
    // Case matters in types.
    assert!(channels(&r, &finding("stealth:RDS/AuditTampering", 5.0, "x")).is_empty());
    assert_eq!(
        channels(&r, &finding("Impact:RDS/X", 5.0, "prod-db")),
        ["b"]
    );
    let mut f = finding("Impact:RDS/X", 5.0, "staging-db");
    f.resource.account = Some("123456789012".into());
    assert_eq!(channels(&r, &f), ["c"]);
    f.resource.account = Some("999999999999".into());
    f.resource.engine = Some(Engine::Mysql);
    assert_eq!(channels(&r, &f), ["a"]);
    f.resource.engine = None;
    f.resource.account = None;
    let v = miss(&f);
    assert_eq!(
        v,
        vec![
            Verdict::Missed(Miss::Type {
                patterns: vec!["*/BruteForce*".into(), "Stealth:*".into()]
            }),
            Verdict::Missed(Miss::Resource {
                patterns: vec!["prod-*".into()]
            }),
            Verdict::Missed(Miss::Account {
                patterns: vec!["1234567890??".into()],
                was: None
            }),
            Verdict::Missed(Miss::Engine {
                engines: vec!["mysql".into()],
                was: None
            }),
        ]
    );
    // Every reason reads in both languages, without raw message ids.
    let sev = |at_least: f64| {
        Verdict::Missed(Miss::Severity {
            at_least: Severity::new(at_least),
            was: Severity::new(2.0),
        })
    };
    for v in v.into_iter().chain([sev(7.0), sev(6.5)]) {
        if let Verdict::Missed(m) = v {
            for lang in [keibi_i18n::Lang::En, keibi_i18n::Lang::Ja] {
                let loc = keibi_i18n::Locale::new(lang, keibi_i18n::DisplayZone::utc());
                let s = loc.render(&m.msg());
                assert!(
                    !s.contains("notify-miss") && !s.contains("severity-"),
                    "{s}"
                );
            }
        }
    }
}

#[test]
fn a_severity_floor_says_its_band() {
    let en = keibi_i18n::Locale::english_utc();
    let m = |a: f64| {
        en.render(
            &Miss::Severity {
                at_least: Severity::new(a),
                was: Severity::new(5.0),
            }
            .msg(),
        )
    };
    assert_eq!(m(7.0), "severity 5.0 is below High (7.0)");
    assert_eq!(m(6.5), "severity 5.0 is below 6.5");
}

#[test]
fn all_conditions_of_a_route_must_hold() {
    let r = router(
        r#"{"routes": [{"severity_at_least": 6, "types": ["CredentialAccess:*"], "resources": ["prod-*"], "channels": ["a"]}]}"#,
    );
    assert_eq!(
        channels(&r, &finding("CredentialAccess:RDS/X", 6.0, "prod-1")),
        ["a"]
    );
    assert!(channels(&r, &finding("CredentialAccess:RDS/X", 5.9, "prod-1")).is_empty());
    assert!(channels(&r, &finding("Impact:RDS/X", 6.0, "prod-1")).is_empty());
    assert!(channels(&r, &finding("CredentialAccess:RDS/X", 6.0, "dev-1")).is_empty());
}

#[test]
fn group_wait_holds_the_first_and_the_next_join_it() {
    let r = router(r#"{"routes": [{"name": "ops", "channels": ["a", "b"], "group_wait": "30s"}]}"#);
    let f = finding("X:Y/Z", 5.0, "db");
    let p = r.plan(&f, &NoticeKind::New, t(NOW), Seen::default());
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].not_before, t("2026-12-06T05:00:30Z"));
    assert_eq!(
        p[0].why,
        vec![Hold::GroupWait {
            until: t("2026-12-06T05:00:30Z"),
            joined: false
        }]
    );
    // Ten seconds later another finding joins the open group on `a` and opens its
    // own on `b` (the first's on `b` was already sent).
    let waiting = [Waiting {
        route: "ops".into(),
        channel: "a".into(),
        not_before: t("2026-12-06T05:00:30Z"),
    }];
    let later = t("2026-12-06T05:00:10Z");
    let p = r.plan(
        &finding("X:Y/W", 5.0, "db"),
        &NoticeKind::New,
        later,
        Seen {
            told: &[],
            waiting: &waiting,
        },
    );
    assert_eq!(p[0].not_before, t("2026-12-06T05:00:30Z"));
    assert_eq!(
        p[0].why,
        vec![Hold::GroupWait {
            until: t("2026-12-06T05:00:30Z"),
            joined: true
        }]
    );
    assert_eq!(p[1].not_before, t("2026-12-06T05:00:40Z"));
    // A group whose time has come is not joined: a new one opens.
    let p = r.plan(
        &f,
        &NoticeKind::New,
        t("2026-12-06T05:00:30Z"),
        Seen {
            told: &[],
            waiting: &waiting,
        },
    );
    assert_eq!(p[0].not_before, t("2026-12-06T05:01:00Z"));
    // Another route's group is not this one's.
    let other = [Waiting {
        route: "other".into(),
        ..waiting[0].clone()
    }];
    let p = r.plan(
        &f,
        &NoticeKind::New,
        later,
        Seen {
            told: &[],
            waiting: &other,
        },
    );
    assert_eq!(p[0].not_before, t("2026-12-06T05:00:40Z"));
}

#[test]
fn throttle_one_notice_per_interval_except_a_rise_to_high() {
    let r = router(r#"{"routes": [{"name": "ops", "channels": ["a"], "throttle": "1h"}]}"#);
    let f = finding("X:Y/Z", 5.0, "db");
    let told = [Told {
        route: "ops".into(),
        at: t("2026-12-06T04:30:00Z"),
        severity: Severity::new(4.0),
    }];
    let seen = Seen {
        told: &told,
        waiting: &[],
    };
    let raised = NoticeKind::Raised {
        from: Severity::new(4.0),
    };
    // Medium to Medium within the hour: held back.
    assert!(r.plan(&f, &raised, t(NOW), seen).is_empty());
    let o = r.explain(&f, &raised, t(NOW), seen);
    assert_eq!(
        o[0].verdict,
        Verdict::Throttled {
            last: t("2026-12-06T04:30:00Z"),
            until: t("2026-12-06T05:30:00Z")
        }
    );
    // After the hour: goes.
    assert_eq!(
        r.plan(&f, &raised, t("2026-12-06T05:30:00Z"), seen).len(),
        1
    );
    // A rise to High and to Critical go at once.
    assert_eq!(
        r.plan(&finding("X:Y/Z", 7.5, "db"), &raised, t(NOW), seen)
            .len(),
        1
    );
    assert_eq!(
        r.plan(&finding("X:Y/Z", 9.0, "db"), &raised, t(NOW), seen)
            .len(),
        1
    );
    // High told, High again: throttled.
    let told_high = [Told {
        severity: Severity::new(7.0),
        ..told[0].clone()
    }];
    let seen_high = Seen {
        told: &told_high,
        waiting: &[],
    };
    assert!(r
        .plan(&finding("X:Y/Z", 8.0, "db"), &raised, t(NOW), seen_high)
        .is_empty());
    // A resolution always goes (PagerDuty must resolve its incident).
    assert_eq!(
        r.plan(&f, &NoticeKind::Resolved { by: None }, t(NOW), seen)
            .len(),
        1
    );
    // Told on another route: not this route's throttle.
    let elsewhere = [Told {
        route: "other".into(),
        ..told[0].clone()
    }];
    assert_eq!(
        r.plan(
            &f,
            &raised,
            t(NOW),
            Seen {
                told: &elsewhere,
                waiting: &[]
            }
        )
        .len(),
        1
    );
    // A throttled route still stops the routes after it.
    let r = router(
        r#"{"routes": [{"name": "ops", "channels": ["a"], "throttle": "1h"}, {"channels": ["b"]}]}"#,
    );
    assert!(r.plan(&f, &raised, t(NOW), seen).is_empty());
}

#[test]
fn quiet_hours_hold_low_and_medium_only() {
    // 22:00-08:00 JST = 13:00-23:00 UTC.
    let r = router(
        r#"{"timezone": "Asia/Tokyo", "routes": [{"channels": ["a"]}],
            "quiet_hours": {"from": "22:00", "to": "08:00"}}"#,
    );
    let night = t("2026-12-06T16:00:00Z");
    for sev in [2.0, 5.0, 6.9] {
        let p = r.plan(
            &finding("X:Y/Z", sev, "db"),
            &NoticeKind::New,
            night,
            Seen::default(),
        );
        assert_eq!(p[0].not_before, t("2026-12-06T23:00:00Z"), "{sev}");
        assert_eq!(
            p[0].why,
            vec![Hold::QuietHours {
                until: t("2026-12-06T23:00:00Z")
            }]
        );
    }
    for sev in [7.0, 9.5] {
        let p = r.plan(
            &finding("X:Y/Z", sev, "db"),
            &NoticeKind::New,
            night,
            Seen::default(),
        );
        assert_eq!(p[0].not_before, night, "{sev}");
        assert!(p[0].why.is_empty());
    }
    // Daytime: at once.
    let day = t("2026-12-07T03:00:00Z");
    let p = r.plan(
        &finding("X:Y/Z", 2.0, "db"),
        &NoticeKind::New,
        day,
        Seen::default(),
    );
    assert_eq!(p[0].not_before, day);
    assert_eq!(r.quiet_until(night), Some(t("2026-12-06T23:00:00Z")));
}

#[test]
fn a_group_wait_ending_in_quiet_hours_waits_for_their_end() {
    // Quiet from 22:00 UTC; a notice at 21:59:50 with a 30 s group_wait.
    let r = router(
        r#"{"routes": [{"name": "ops", "channels": ["a"], "group_wait": "30s"}],
            "quiet_hours": {"from": "22:00", "to": "06:00", "timezone": "UTC"}}"#,
    );
    let p = r.plan(
        &finding("X:Y/Z", 4.0, "db"),
        &NoticeKind::New,
        t("2026-12-06T21:59:50Z"),
        Seen::default(),
    );
    assert_eq!(p[0].not_before, t("2026-12-07T06:00:00Z"));
    assert_eq!(p[0].why.len(), 2);
}

#[test]
fn patterns_that_are_not_globs_are_errors() {
    assert!(glob("Cred[ential").is_err());
    assert!(glob("{a,b").is_err());
    assert!(glob("CredentialAccess:*").is_ok());
    let mut s = settings("{}");
    s.routes.push(Route {
        types: vec!["[".into()],
        channels: vec!["a".into()],
        ..Route::default()
    });
    assert!(Router::new(&s).is_err());
}

#[test]
fn hostile_finding_fields_route_without_panic() {
    let r = router(
        r#"{"routes": [{"types": ["*"], "resources": ["*"], "accounts": ["*"], "channels": ["a"]}]}"#,
    );
    let hostile = include_str!("../../tests/data/hostile.txt");
    for line in hostile.lines() {
        let mut f = finding(line, 5.0, line);
        f.resource.account = Some(line.to_string());
        assert_eq!(channels(&r, &f), ["a"], "{line:?}");
    }
    let long = "x".repeat(1 << 20);
    let mut f = finding(&long, 5.0, &long);
    f.resource.account = Some(long.clone());
    assert_eq!(channels(&r, &f), ["a"]);
}
