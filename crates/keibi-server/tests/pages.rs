mod common;

use axum::http::StatusCode;
use keibi_server::auth::Role;

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
