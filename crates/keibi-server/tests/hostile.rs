//! A finding written by an attacker — script tags, attribute breakers,
//! `javascript:` as a user name, terminal escapes, bidi overrides, a 1 MB
//! statement — renders inert and bounded on every page it appears on.

mod common;

use axum::http::StatusCode;
use chrono::Utc;
use common::fixtures::{commit_with_events, finding, statement, Spec};
use keibi_model::finding::Evidence;
use keibi_server::auth::Role;

const SCRIPT: &str = "<script>alert(1)</script>";
const BREAKER: &str = "\"><img src=x onerror=alert(1)>";
const JS_USER: &str = "javascript:alert(1)";
const ANSI: &str = "\u{1b}[31mred\u{1b}[0m";
const BIDI: &str = "admin\u{202e}txt.exe";

/// What must never reach a page as markup, or unescaped.
fn inert(path: &str, body: &str) {
    for bad in [
        "<script>alert",
        "<img",
        "href=\"javascript:",
        "src=\"javascript:",
        "\u{1b}",
        "\u{202e}",
    ] {
        assert!(!body.contains(bad), "{path} carries {bad:?}");
    }
    // Bounded: a 1 MB statement does not make a megabyte page.
    assert!(body.len() < 200_000, "{path} is {} bytes", body.len());
}

#[tokio::test]
async fn hostile_fields_render_escaped_and_bounded_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Admin));
    let now = Utc::now();
    let huge = format!("SELECT '{}'", "A".repeat(1 << 20));
    let mut f = finding(
        &Spec {
            key: "evil",
            ty: "Execution:RDS/<script>alert(1)</script>",
            resource: BREAKER,
            account: Some(BREAKER),
            user: Some(JS_USER),
            title: format!("{SCRIPT} {BREAKER} {ANSI} {BIDI}"),
            ..Spec::default()
        },
        now,
    );
    f.description = format!("{huge} {SCRIPT} {ANSI} {BIDI}");
    f.remediation = format!("{BREAKER} {JS_USER}");
    f.actor.app = Some(format!("{ANSI}{BIDI}{SCRIPT}"));
    f.actor.users = vec![JS_USER.into(), BIDI.into(), SCRIPT.into()];
    f.evidence.push(Evidence::Observed {
        source: BREAKER.into(),
        observed: huge.clone(),
    });
    f.mitre = vec![SCRIPT.into()];
    // The timeline's rows carry the same payloads.
    let events = [
        statement(
            now - chrono::Duration::hours(1),
            "203.0.113.7",
            JS_USER,
            &format!("SELECT '{SCRIPT}{BIDI}{ANSI}' -- {BREAKER}"),
        ),
        statement(now - chrono::Duration::hours(1), "203.0.113.7", BIDI, &huge),
    ];
    commit_with_events(
        &dir.path().join("keibi.db"),
        std::slice::from_ref(&f),
        &events,
        now,
    );
    // A suppression with hostile fields and a note (through the store, as the
    // CLI could write them).
    let mut s = keibi_store::Store::open(&dir.path().join("keibi.db")).unwrap();
    keibi_store::FindingStore::suppress(
        &mut s,
        &keibi_store::Suppression {
            id: 0,
            finding_type: Some(SCRIPT.into()),
            resource: Some(BREAKER.into()),
            network: None,
            user: Some(BIDI.into()),
            expires_at: None,
            reason: Some(format!("{ANSI}{SCRIPT}")),
            created_by: Some(JS_USER.into()),
            created_at: now,
        },
    )
    .unwrap();
    s.add_note(&f.id, BIDI, &format!("{SCRIPT}{ANSI}"), now)
        .unwrap();
    drop(s);

    let enc = |s: &str| url_segment(s);
    let pages = [
        "/".to_string(),
        "/findings".to_string(),
        format!("/findings?user={}", enc(JS_USER)),
        format!("/findings?resource={}&type={}", enc(BREAKER), enc(SCRIPT)),
        format!("/findings/{}", f.id),
        format!("/actors/user/{}", enc(JS_USER)),
        format!("/actors/user/{}", enc(BIDI)),
        format!("/actors/user/{}", enc(SCRIPT)),
        "/actors/ip/203.0.113.7".to_string(),
        "/suppressions".to_string(),
        format!("/suppressions?from={}", f.id),
        "/settings".to_string(),
    ];
    for path in &pages {
        let (status, body) = common::get(&app, path, true).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        inert(path, &body);
    }
    // The texts are there, escaped and with their invisible characters shown.
    let (_, body) = common::get(&app, &format!("/findings/{}", f.id), true).await;
    assert!(
        body.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );
    assert!(
        body.contains("admin\\u{202e}txt.exe"),
        "bidi shown as an escape"
    );
    assert!(body.contains("\\u{1b}[31mred"), "ANSI shown as an escape");
    // The javascript: user is a relative link to its actor page, percent-encoded.
    assert!(
        body.contains("href=\"/actors/user/javascript%3Aalert%281%29\""),
        "{body}"
    );
    // The timeline shows the hostile statements, escaped.
    let tl = &body[body.find("id=\"tl-h\"").unwrap()..];
    assert_eq!(tl.matches("<tr class=\"tl-activity\">").count(), 2, "{tl}");
    assert!(
        tl.contains("alert(1)&#60;/script&#62;admin\\u{202e}txt.exe"),
        "{tl}"
    );
    // The 1 MB statement is cut.
    assert!(body.contains("AAAA…"), "cut with an ellipsis");
    // The forms' values (the rule builder) are escaped attributes too.
    let (_, body) = common::get(&app, &format!("/suppressions?from={}", f.id), true).await;
    assert!(
        body.contains("name=\"resource\" value=\"&#34;&#62;&#60;img")
            || body.contains("name=\"resource\" value=\"&quot;&gt;&lt;img"),
        "{body}"
    );
}

fn url_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
