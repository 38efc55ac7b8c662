//! Every page over findings committed to a real store: what each shows, the
//! findings list's filters, sort and paging through the URL, Japanese pages,
//! the settings page's role and redaction, and the live notice's event stream.

mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::fixtures::{api_call, commit, commit_with_events, finding, statement, Spec};
use keibi_i18n::Lang;
use keibi_server::auth::Role;
use keibi_server::pages::{LoadedList, Site};

/// Three findings: a critical one from 198.51.100.9 as `alice` in account 111,
/// a medium one from 203.0.113.7 as `postgres`, a low CloudTrail one by a
/// principal. Returns their ids in that order.
fn fill(dir: &std::path::Path) -> Vec<String> {
    let now = Utc::now();
    let fs = vec![
        finding(
            &Spec {
                key: "a",
                ty: "CredentialAccess:RDS/SuccessfulBruteForce",
                sev: 9.5,
                account: Some("111122223333"),
                ip: Some("198.51.100.9"),
                user: Some("alice"),
                title: "Successful brute force on orders-db".into(),
                ago_hours: 2,
                count: 300,
                ..Spec::default()
            },
            now,
        ),
        finding(
            &Spec {
                key: "b",
                title: "Brute force on billing-db".into(),
                resource: "billing-db",
                ago_hours: 30,
                count: 12,
                ..Spec::default()
            },
            now,
        ),
        finding(
            &Spec {
                key: "c",
                ty: "Discovery:IAMUser/AnomalousBehavior",
                sev: 2.0,
                resource: "111122223333",
                account: Some("111122223333"),
                ip: None,
                user: Some("arn:aws:iam::111122223333:user/ci"),
                title: "Unusual listing by ci".into(),
                ago_hours: 100,
                count: 3,
            },
            now,
        ),
    ];
    // What the actors did around then: a statement by alice from the critical
    // finding's address, and an API call by the principal from the same address.
    let events = [
        statement(
            now - Duration::hours(2) - Duration::minutes(5),
            "198.51.100.9",
            "alice",
            "DROP TABLE orders",
        ),
        api_call(
            now - Duration::hours(2),
            "198.51.100.9",
            "arn:aws:iam::111122223333:user/ci",
            "DeleteDBSnapshot",
        ),
    ];
    commit_with_events(&dir.join("keibi.db"), &fs, &events, now);
    fs.into_iter().map(|f| f.id).collect()
}

/// A page's body never carries inline script or style (the CSP forbids both).
fn csp_clean(body: &str) {
    assert!(!body.contains(" style="), "inline style");
    assert!(!body.contains("<style"), "style element");
    for (i, _) in body.match_indices("<script") {
        assert!(
            body[i..].starts_with("<script src=\"/assets/keibi.js\" defer></script>"),
            "inline script at {i}"
        );
    }
}

#[tokio::test]
async fn the_overview_needs_a_person() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Viewer));
    let (status, _) = common::get(&app, "/", false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, body) = common::get(&app, "/", true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Overview"), "{body}");
}

#[tokio::test]
async fn the_overview_shows_counts_chart_tops_and_sources() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Viewer));
    fill(dir.path());
    let (status, body) = common::get(&app, "/", true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    csp_clean(&body);
    // One open finding in each of critical, medium and low.
    assert!(
        body.contains("<span class=\"band-n\">1</span> <span class=\"band-w\">Critical</span>"),
        "{body}"
    );
    assert!(
        body.contains("<span class=\"band-n\">0</span> <span class=\"band-w\">High</span>"),
        "{body}"
    );
    // The chart: one rect per non-empty (day, band), each titled.
    assert_eq!(body.matches("<rect class=\"bar-").count(), 3, "{body}");
    assert!(body.contains("<rect class=\"bar-critical\""), "{body}");
    // Top lists link to the actor pages and the filtered list.
    assert!(body.contains("href=\"/actors/ip/198.51.100.9\""), "{body}");
    assert!(
        body.contains("href=\"/actors/principal/arn%3Aaws%3Aiam%3A%3A111122223333%3Auser%2Fci\""),
        "{body}"
    );
    assert!(
        body.contains("href=\"/findings?resource=billing-db\""),
        "{body}"
    );
    // Ingest health from the checkpoint.
    assert!(body.contains("<code>pg.log</code>"), "{body}");
    // The live notice's mark.
    assert!(body.contains("data-mark=\""), "{body}");
}

/// The titles of a findings page, in order.
fn titles(body: &str) -> Vec<String> {
    body.split("<td><a href=\"/findings/")
        .skip(1)
        .map(|s| {
            let start = s.find("\">").unwrap() + 2;
            s[start..s.find("</a>").unwrap()].to_string()
        })
        .collect()
}

#[tokio::test]
async fn the_findings_list_filters_sorts_and_pages_by_its_url() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Viewer));
    fill(dir.path());
    let list = |q: &'static str| {
        let app = app.clone();
        async move {
            let (status, body) = common::get(&app, &format!("/findings{q}"), true).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            csp_clean(&body);
            titles(&body)
        }
    };
    let a = "Successful brute force on orders-db";
    let b = "Brute force on billing-db";
    let c = "Unusual listing by ci";
    assert_eq!(list("").await, [a, b, c]);
    assert_eq!(list("?severity=high").await, [a]);
    assert_eq!(list("?severity=4").await, [a, b]);
    assert_eq!(
        list("?type=Discovery%3AIAMUser%2FAnomalousBehavior").await,
        [c]
    );
    assert_eq!(list("?resource=billing-db").await, [b]);
    assert_eq!(list("?account=111122223333").await, [a, c]);
    assert_eq!(list("?ip=203.0.113.7").await, [b]);
    assert_eq!(list("?user=alice").await, [a]);
    assert_eq!(
        list("?user=arn%3Aaws%3Aiam%3A%3A111122223333%3Auser%2Fci").await,
        [c]
    );
    assert_eq!(list("?since=24h").await, [a]);
    assert_eq!(list("?status=resolved").await, Vec::<String>::new());
    assert_eq!(list("?status=open").await, [a, b, c]);
    assert_eq!(list("?sort=count").await, [a, b, c]);
    assert_eq!(list("?sort=first_seen").await, [a, b, c]);
    // Malformed values are ignored, not errors.
    assert_eq!(
        list("?severity=%3Cscript%3E&since=forever&page=-3").await,
        [a, b, c]
    );

    // Paging: 60 more findings make two pages of 50 with links that keep the filter.
    let now = Utc::now();
    let more: Vec<_> = (0..60)
        .map(|i| {
            finding(
                &Spec {
                    key: Box::leak(format!("m{i}").into_boxed_str()),
                    sev: 3.0,
                    title: format!("more {i:02}"),
                    resource: "paging-db",
                    ago_hours: 3 + i,
                    ..Spec::default()
                },
                now,
            )
        })
        .collect();
    commit(&dir.path().join("keibi.db"), &more, now);
    let (_, body) = common::get(&app, "/findings?resource=paging-db&sort=last_seen", true).await;
    assert_eq!(titles(&body).len(), 50);
    assert!(body.contains("1–50 of 60 findings"), "{body}");
    assert!(
        body.contains("href=\"/findings?resource=paging-db&#38;sort=last_seen&#38;page=2\""),
        "{body}"
    );
    let (_, body) = common::get(
        &app,
        "/findings?resource=paging-db&sort=last_seen&page=2",
        true,
    )
    .await;
    let page2 = titles(&body);
    assert_eq!(page2.len(), 10);
    assert_eq!(page2[0], "more 50");
    assert_eq!(page2[9], "more 59");
    assert!(body.contains("51–60 of 60 findings"), "{body}");
    assert!(body.contains("rel=\"prev\""), "{body}");
    assert!(!body.contains("rel=\"next\""), "{body}");
}

#[tokio::test]
async fn a_finding_shows_its_story() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Responder));
    let ids = fill(dir.path());
    let (status, body) = common::get(&app, &format!("/findings/{}", ids[0]), true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    csp_clean(&body);
    assert!(
        body.contains("<h1>Successful brute force on orders-db</h1>"),
        "{body}"
    );
    assert!(
        body.contains("Successful brute force on orders-db happened."),
        "{body}"
    );
    assert!(body.contains("Block the address."), "{body}");
    assert!(
        body.contains("/var/log/postgresql/postgresql.log:42"),
        "{body}"
    );
    assert!(body.contains("href=\"/actors/ip/198.51.100.9\""), "{body}");
    assert!(body.contains("href=\"/actors/user/alice\""), "{body}");
    assert!(body.contains(">Detected<"), "history: {body}");
    assert!(body.contains("name=\"to\" value=\"resolve\""), "{body}");
    assert!(body.contains("name=\"csrf\" value=\"t0ken\""), "{body}");
    assert!(
        body.contains(&format!("href=\"/suppressions?from={}\"", ids[0])),
        "{body}"
    );
    // A prefix works as in the CLI; an unknown id is a 404, garbage a 400.
    let (status, _) = common::get(&app, &format!("/findings/{}", &ids[0][..8]), true).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = common::get(&app, "/findings/ffffffffffffffffffffffffffffffff", true).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = common::get(&app, "/findings/%3Cscript%3E", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_viewer_sees_no_workflow_forms() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Viewer));
    let ids = fill(dir.path());
    // Every page has the header's logout form; a viewer gets no other form that posts.
    let forms = |body: &str| body.matches("<form method=\"post\"").count();
    let (_, body) = common::get(&app, &format!("/findings/{}", ids[0]), true).await;
    assert_eq!(forms(&body), 1, "{body}");
    let (_, body) = common::get(&app, "/suppressions", true).await;
    assert_eq!(body.matches("<form").count(), 1, "{body}");
}

#[tokio::test]
async fn actor_pages_list_their_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Viewer));
    fill(dir.path());
    let (status, body) = common::get(&app, "/actors/ip/198.51.100.9", true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    csp_clean(&body);
    assert_eq!(titles(&body), ["Successful brute force on orders-db"]);
    assert!(body.contains("Reputation"), "{body}");
    assert!(
        body.contains("DROP TABLE orders"),
        "the address's timeline: {body}"
    );
    assert!(body.contains("AWS API call"), "{body}");
    let (_, body) = common::get(&app, "/actors/user/postgres", true).await;
    assert_eq!(titles(&body), ["Brute force on billing-db"]);
    assert!(body.contains("No stored profile"), "{body}");
    // The principal's ARN, encoded as one segment or not.
    let (status, body) = common::get(
        &app,
        "/actors/principal/arn%3Aaws%3Aiam%3A%3A111122223333%3Auser%2Fci",
        true,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(titles(&body), ["Unusual listing by ci"]);
    let (status, _) = common::get(&app, "/actors/ip/not-an-address", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_actor_page_shows_the_stored_profile() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Viewer));
    fill(dir.path());
    // A login profile as the baselines store it (keibi-detect's JSON).
    let mut s = keibi_store::Store::open(&dir.path().join("keibi.db")).unwrap();
    let mut hours = [0u32; 24];
    hours[9] = 40;
    hours[10] = 12;
    let value = serde_json::json!({
        "act": {"first": 0, "last": 100, "n": 52, "days": 20},
        "nets": {"items": [{"v": {"V4": [10, 0, 1]}, "first": 0, "last": 1, "n": 50},
                           {"v": "Local", "first": 0, "last": 1, "n": 2}]},
        "apps": {"items": [{"v": "psql", "first": 0, "last": 1, "n": 52}]},
        "hours": {"n": hours, "first_day": (vec![0u32; 24]), "weekdays": 31}
    });
    keibi_store::FindingStore::commit(
        &mut s,
        &keibi_store::Commit {
            profile_puts: vec![(
                r#"["login","orders-db","alice"]"#.into(),
                serde_json::to_vec(&value).unwrap(),
            )],
            ..keibi_store::Commit::new(Utc::now())
        },
    )
    .unwrap();
    let (_, body) = common::get(&app, "/actors/user/alice", true).await;
    assert!(body.contains("Logins to orders-db"), "{body}");
    assert!(
        body.contains("10.0.1.0/24, the database host itself"),
        "{body}"
    );
    assert!(body.contains("<code>psql</code>"), "{body}");
    assert!(body.contains("<code>09 10</code>"), "{body}");
}

#[tokio::test]
async fn the_suppressions_builder_is_filled_from_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Responder));
    let ids = fill(dir.path());
    let (status, body) = common::get(&app, &format!("/suppressions?from={}", ids[0]), true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    csp_clean(&body);
    assert!(
        body.contains("name=\"type\" value=\"CredentialAccess:RDS/SuccessfulBruteForce\""),
        "{body}"
    );
    assert!(
        body.contains("name=\"resource\" value=\"orders-db\""),
        "{body}"
    );
    assert!(
        body.contains("name=\"network\" value=\"198.51.100.9/32\""),
        "{body}"
    );
    assert!(body.contains("name=\"user\" value=\"alice\""), "{body}");
}

#[tokio::test]
async fn settings_are_for_admins_and_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site {
        settings: Site::settings_from_json(&serde_json::json!({
            "notify": {"slack": {"webhook_url": "https://hooks.slack.com/services/T0/B0/XYZ"}},
            "sources": {"inputs": [{"path": "/var/log/postgresql/*.log"}]},
        })),
        lists: vec![LoadedList {
            name: "tor-exits".into(),
            entries: 1234,
            source: "https://check.torproject.org/torbulkexitlist".into(),
            loaded_at: Some(Utc::now()),
        }],
        sources: vec!["/var/log/postgresql/*.log".into()],
        ..Site::default()
    };
    let responder =
        common::app_with_site(dir.path(), common::person(Role::Responder), site.clone());
    let (status, _) = common::get(&responder, "/settings", true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, body) = common::get(&responder, "/", true).await;
    assert!(!body.contains("href=\"/settings\""));
    let admin = common::app_with_site(dir.path(), common::person(Role::Admin), site);
    let (status, body) = common::get(&admin, "/settings", true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    csp_clean(&body);
    assert!(!body.contains("XYZ"), "{body}");
    assert!(body.contains("[redacted]"), "{body}");
    assert!(
        body.contains("tor-exits") && body.contains("1,234"),
        "{body}"
    );
    assert!(body.contains("/var/log/postgresql/*.log"), "{body}");
}

#[tokio::test]
async fn japanese_pages_render() {
    let dir = tempfile::tempdir().unwrap();
    let mut kim = common::person(Role::Admin);
    kim.lang = Lang::Ja;
    let (app, _) = common::app(dir.path(), kim);
    let ids = fill(dir.path());
    for (path, expect) in [
        ("/".to_string(), "重要度別の未解決の検出結果"),
        ("/findings".to_string(), "3 件中 1〜3 件"),
        (format!("/findings/{}", ids[0]), "解決済みにする"),
        ("/actors/ip/198.51.100.9".to_string(), "送信元アドレス"),
        ("/suppressions".to_string(), "新しい抑制ルール"),
        ("/settings".to_string(), "読み取り専用"),
    ] {
        let (status, body) = common::get(&app, &path, true).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(body.contains("<html lang=\"ja\">"), "{path}");
        assert!(body.contains(expect), "{path}: {body}");
        if !path.starts_with("/s") {
            assert!(body.contains("重大"), "{path}: severity words in Japanese");
        }
    }
}

#[tokio::test]
async fn the_event_stream_counts_changes_after_the_mark() {
    use futures_util::StreamExt;
    use tower::ServiceExt;
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Viewer));
    fill(dir.path());
    let req = axum::http::Request::get("/events?mark=0")
        .header("x-test-user", "yes")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut body = res.into_body().into_data_stream();
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), body.next())
        .await
        .expect("an event within the first poll")
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&first);
    assert!(text.contains("event: changes"), "{text}");
    assert!(text.contains("data: 3"), "{text}");
    // Anonymous: refused.
    let (status, _) = common::get(&app, "/events?mark=0", false).await;
    assert_ne!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_address_page_asks_the_daemons_lists_when_handed_them() {
    struct Lists;
    impl keibi_server::pages::Reputation for Lists {
        fn lists_of(&self, ip: std::net::IpAddr) -> Vec<String> {
            if ip.to_string() == "198.51.100.9" {
                vec!["tor-exits".into(), "<b>feed</b>".into()]
            } else {
                Vec::new()
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let site = Site {
        reputation: Some(std::sync::Arc::new(Lists)),
        ..Site::default()
    };
    let app = common::app_with_site(dir.path(), common::person(Role::Viewer), site);
    fill(dir.path());
    let (_, body) = common::get(&app, "/actors/ip/198.51.100.9", true).await;
    assert!(body.contains("<li>tor-exits</li>"), "{body}");
    assert!(
        body.contains("<li>&#60;b&#62;feed&#60;/b&#62;</li>"),
        "{body}"
    );
    assert!(body.contains("From the lists the daemon loaded."), "{body}");
    let (_, body) = common::get(&app, "/actors/ip/203.0.113.7", true).await;
    assert!(body.contains("On no list keibi knows of."), "{body}");
    // Without the daemon's lists, the page says it only knows the store's findings.
    let (plain, _) = common::app(dir.path(), common::person(Role::Viewer));
    let (_, body) = common::get(&plain, "/actors/ip/198.51.100.9", true).await;
    assert!(
        body.contains("the daemon&#39;s loaded lists are not consulted"),
        "{body}"
    );
}

#[tokio::test]
async fn a_finding_shows_its_evidence_lines_when_the_binary_can_read_them() {
    struct Lines;
    impl keibi_server::pages::RawLines for Lines {
        fn line(&self, source: &str, line: u64) -> Option<String> {
            (source == "/var/log/postgresql/postgresql.log" && line == 42).then(|| {
                "2026-12-07 01:00:00 UTC [7] app@orders FATAL:  password authentication failed for user \"<script>alert(1)</script>\x1b[31m\"".to_string()
            })
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let site = Site {
        raw_lines: Some(std::sync::Arc::new(Lines)),
        ..Site::default()
    };
    let app = common::app_with_site(dir.path(), common::person(Role::Viewer), site);
    let now = Utc::now();
    let f = finding(&Spec::default(), now);
    let id = f.id.clone();
    commit(&dir.path().join("keibi.db"), &[f], now);
    let (status, body) = common::get(&app, &format!("/findings/{id}"), true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("password authentication failed"), "{body}");
    assert!(body.contains("&#60;script&#62;alert(1)"), "{body}");
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(!body.contains('\x1b'), "{body}");
    // Without a reader the page still shows where the evidence is, and no line.
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Viewer));
    let f = finding(&Spec::default(), now);
    commit(&dir.path().join("keibi.db"), &[f], now);
    let (_, body) = common::get(&app, &format!("/findings/{id}"), true).await;
    assert!(body.contains("postgresql.log:42"), "{body}");
    assert!(!body.contains("password authentication failed"), "{body}");
}

#[tokio::test]
async fn the_overview_gives_the_last_audits_pass_rate_over_every_check() {
    use keibi_store::{FindingStore, PostureRound, Store};
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Viewer));
    let (_, body) = common::get(&app, "/", true).await;
    assert!(!body.contains("Last audit"), "{body}");
    let mut store = Store::open(&dir.path().join("keibi.db")).unwrap();
    let at = Utc::now() - Duration::hours(2);
    for (i, (passed, failed)) in [(1, 9), (30, 10)].into_iter().enumerate() {
        store
            .record_posture_round(&PostureRound {
                at: at + Duration::minutes(i as i64),
                passed,
                failed,
                suppressed: 2,
            })
            .unwrap();
    }
    drop(store);
    let (_, body) = common::get(&app, "/", true).await;
    // The newest round: 30 of 40 evaluated checks pass.
    assert!(body.contains("30 of 40 checks pass (75%)"), "{body}");
    assert!(body.contains("2 suppressed"), "{body}");
}

#[tokio::test]
async fn every_page_offers_a_logout_form_with_the_sessions_token() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Viewer));
    for path in ["/", "/findings", "/suppressions"] {
        let (_, body) = common::get(&app, path, true).await;
        assert!(
            body.contains(r#"<form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" value="t0ken">"#),
            "{path}: {body}"
        );
    }
}
