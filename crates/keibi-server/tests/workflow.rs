//! The workflow forms change the store as the CLI does (with the person's name),
//! answer 303 back to the finding with a message, and are refused without the
//! session's CSRF token or for a viewer, leaving the store as it was.

mod common;

use axum::http::StatusCode;
use chrono::Utc;
use common::fixtures::{commit, finding, Spec};
use keibi_server::auth::Role;
use keibi_store::{FindingStore, Status, Store};

fn one(dir: &std::path::Path) -> String {
    let f = finding(&Spec::default(), Utc::now());
    commit(&dir.join("keibi.db"), std::slice::from_ref(&f), Utc::now());
    f.id
}

fn store(dir: &std::path::Path) -> Store {
    Store::open(&dir.join("keibi.db")).unwrap()
}

#[tokio::test]
async fn acknowledge_resolve_reopen_and_note() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Responder));
    let id = one(dir.path());
    let path = format!("/findings/{id}/status");

    let (status, location, _) =
        common::post(&app, &path, "csrf=t0ken&to=acknowledge&note=on+it").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/findings/{id}?done=acknowledged"));
    let f = store(dir.path()).finding(&id).unwrap();
    assert_eq!(f.status, Status::Acknowledged);
    assert_eq!(f.status_by.as_deref(), Some("kim"));
    assert_eq!(f.status_note.as_deref(), Some("on it"));

    let (_, body) = common::get(&app, &location, true).await;
    assert!(
        body.contains("<p class=\"flash\" role=\"status\">Acknowledged.</p>"),
        "{body}"
    );

    let (status, location, _) = common::post(&app, &path, "csrf=t0ken&to=resolve").await;
    assert_eq!(
        (status, location.as_str()),
        (
            StatusCode::SEE_OTHER,
            &*format!("/findings/{id}?done=resolved")
        )
    );
    let s = store(dir.path());
    assert_eq!(s.finding(&id).unwrap().status, Status::Resolved);
    // Resolving an open finding tells the channels, as the CLI's resolve does.
    assert!(s
        .outbox(0, 100)
        .unwrap()
        .iter()
        .any(|e| e.kind == keibi_store::OutboxKind::Resolved && e.by.as_deref() == Some("kim")));

    let (status, _, _) = common::post(&app, &path, "csrf=t0ken&to=reopen").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(store(dir.path()).finding(&id).unwrap().status, Status::New);

    let (status, location, _) = common::post(
        &app,
        &format!("/findings/{id}/note"),
        "csrf=t0ken&note=called+the+DBA",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/findings/{id}?done=noted"));
    let h = store(dir.path()).history(&id).unwrap();
    let whats: Vec<_> = h.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(
        whats,
        ["new", "acknowledged", "resolved", "reopened", "note"]
    );
    assert_eq!(h[4].by.as_deref(), Some("kim"));
    assert_eq!(h[4].note.as_deref(), Some("called the DBA"));
    let (_, body) = common::get(&app, &format!("/findings/{id}"), true).await;
    assert!(body.contains("called the DBA"), "{body}");

    // Unknown changes and empty notes are refused.
    let (status, _, _) = common::post(&app, &path, "csrf=t0ken&to=delete").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) =
        common::post(&app, &format!("/findings/{id}/note"), "csrf=t0ken&note=+").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn changes_are_refused_without_the_token_or_the_role() {
    let dir = tempfile::tempdir().unwrap();
    let id = one(dir.path());
    let (responder, _) = common::app(dir.path(), common::person(Role::Responder));
    let (viewer, _) = common::app(dir.path(), common::person(Role::Viewer));
    let forms = [
        (format!("/findings/{id}/status"), "to=resolve".to_string()),
        (format!("/findings/{id}/note"), "note=x".to_string()),
        ("/suppressions".to_string(), "type=X&reason=y".to_string()),
        ("/suppressions/1/delete".to_string(), String::new()),
        (
            "/actions/0123456789abcdef/decide".to_string(),
            "to=approve".to_string(),
        ),
    ];
    for (path, form) in &forms {
        for token in ["", "csrf=wrong&", "csrf=t0ke&"] {
            let (status, _, body) = common::post(&responder, path, &format!("{token}{form}")).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} {token}: {body}");
            assert!(body.contains("form token"), "{body}");
        }
        let (status, _, body) = common::post(&viewer, path, &format!("csrf=t0ken&{form}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert!(body.contains("role"), "{body}");
    }
    let s = store(dir.path());
    let f = s.finding(&id).unwrap();
    assert_eq!(f.status, Status::New);
    assert_eq!(s.history(&id).unwrap().len(), 1);
    assert!(s.suppressions().unwrap().is_empty());
    // GET never changes anything: there is no GET route for a change.
    let (status, _) = common::get(&responder, &format!("/findings/{id}/status"), true).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn suppress_from_a_finding_then_delete_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Responder));
    let id = one(dir.path());
    let form = format!(
        "csrf=t0ken&from={id}&type=CredentialAccess%3ARDS%2FBruteForce&resource=orders-db\
         &network=203.0.113.7&user=postgres&expires=7d&reason=pen+test"
    );
    let (status, location, body) = common::post(&app, "/suppressions", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location, format!("/findings/{id}?done=suppressed"));
    let s = store(dir.path());
    let rules = s.suppressions().unwrap();
    assert_eq!(rules.len(), 1);
    let r = &rules[0];
    assert_eq!(r.network.unwrap().to_string(), "203.0.113.7/32");
    assert_eq!(r.created_by.as_deref(), Some("kim"));
    assert_eq!(r.reason.as_deref(), Some("pen test"));
    let days = (r.expires_at.unwrap() - Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "{days}");
    assert_eq!(s.finding(&id).unwrap().status, Status::Suppressed);
    let (_, body) = common::get(&app, "/suppressions", true).await;
    assert!(body.contains("pen test"), "{body}");

    // A rule with no field, a bad network or expiry is refused.
    for bad in [
        "csrf=t0ken&reason=x",
        "csrf=t0ken&type=X&network=10.0.0.0%2F99",
        "csrf=t0ken&type=X&expires=forever",
    ] {
        let (status, _, _) = common::post(&app, "/suppressions", bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    let (status, location, _) = common::post(
        &app,
        &format!("/suppressions/{}/delete", r.id),
        "csrf=t0ken",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/suppressions?done=unsuppressed");
    let s = store(dir.path());
    assert!(s.suppressions().unwrap().is_empty());
    assert_eq!(s.finding(&id).unwrap().status, Status::New);
    let (status, _, _) = common::post(
        &app,
        &format!("/suppressions/{}/delete", r.id),
        "csrf=t0ken",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pending_actions_are_approved_or_cancelled_on_the_finding_page() {
    use keibi_respond::{action_id, Action, Mode, State, Target};
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Responder));
    let id = one(dir.path());
    let mut s = store(dir.path());
    let f = s.finding(&id).unwrap().finding;
    let entry = s.unplanned_entries(10).unwrap()[0].id;
    let plan = |user: &str| {
        let target = Target::LockRole {
            engine: None,
            instance: "orders-db".into(),
            user: user.into(),
        };
        keibi_store::NewAction {
            action: Action {
                id: action_id(&f.id, &target, entry),
                finding_id: f.id.clone(),
                finding_type: f.finding_type.clone(),
                rule: "lock-brute".into(),
                ..Action::new(target, Mode::Approve, State::Planned, Utc::now())
            },
            detail: None,
        }
    };
    let (a, b) = (plan("postgres"), plan("app"));
    s.plan_actions(entry, &f, &[a.clone(), b.clone()], Utc::now())
        .unwrap();
    let (_, body) = common::get(&app, &format!("/findings/{id}"), true).await;
    assert_eq!(
        body.matches("name=\"to\" value=\"approve\"").count(),
        2,
        "{body}"
    );

    let (status, location, _) = common::post(
        &app,
        &format!("/actions/{}/decide", a.action.id),
        "csrf=t0ken&to=approve",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/findings/{id}?done=approved"));
    let (status, _, _) = common::post(
        &app,
        &format!("/actions/{}/decide", b.action.id),
        "csrf=t0ken&to=cancel",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let s = store(dir.path());
    let state = |x: &keibi_store::NewAction| s.action(&x.action.id).unwrap().unwrap();
    let ra = state(&a);
    assert_eq!(ra.action.state, State::Approved);
    assert_eq!(ra.history.last().unwrap().by, "kim");
    assert_eq!(state(&b).action.state, State::Cancelled);
    // A cancelled action is approved no more.
    let (status, _, _) = common::post(
        &app,
        &format!("/actions/{}/decide", b.action.id),
        "csrf=t0ken&to=approve",
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_overview_follows_a_change_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Responder));
    let f = finding(
        &Spec {
            sev: 9.0,
            ..Spec::default()
        },
        Utc::now(),
    );
    commit(
        &dir.path().join("keibi.db"),
        std::slice::from_ref(&f),
        Utc::now(),
    );
    let critical = |n: u32| {
        format!("<span class=\"band-n\">{n}</span> <span class=\"band-w\">Critical</span>")
    };
    let (_, body) = common::get(&app, "/", true).await;
    assert!(body.contains(&critical(1)), "{body}");
    // Computed once, then shared while nothing changes (same page again).
    let (_, again) = common::get(&app, "/", true).await;
    assert!(again.contains(&critical(1)));
    common::post(
        &app,
        &format!("/findings/{}/status", f.id),
        "csrf=t0ken&to=resolve",
    )
    .await;
    let (_, body) = common::get(&app, "/", true).await;
    assert!(body.contains(&critical(0)), "{body}");
}

#[tokio::test]
async fn a_rule_for_a_name_with_invisible_characters_is_built_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Responder));
    let user = "adm\u{202e}nimda";
    let f = finding(
        &Spec {
            user: Some(user),
            ..Spec::default()
        },
        Utc::now(),
    );
    commit(
        &dir.path().join("keibi.db"),
        std::slice::from_ref(&f),
        Utc::now(),
    );
    let (_, body) = common::get(&app, &format!("/suppressions?from={}", f.id), true).await;
    // Not in an editable box where it would read as another name: a hidden
    // field with the exact value, shown with the override as an escape.
    assert!(
        body.contains(&format!(
            "<input type=\"hidden\" name=\"user\" value=\"{user}\">"
        )),
        "{body}"
    );
    assert!(body.contains("<code>adm\\u{202e}nimda</code>"), "{body}");
    assert!(!body.contains(&format!("<input name=\"user\" value=\"{user}\"")));
    let form = format!("csrf=t0ken&user={}&reason=known", "adm%E2%80%AEnimda");
    let (status, _, _) = common::post(&app, "/suppressions", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        store(dir.path()).finding(&f.id).unwrap().status,
        Status::Suppressed
    );
}
