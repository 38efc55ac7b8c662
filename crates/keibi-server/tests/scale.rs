//! `cargo test -p keibi-server --test scale -- --ignored --nocapture`: the pages'
//! times over a store of 100,000 findings committed through
//! `FindingStore::commit` (the store's own query times are in keibi-store's
//! `tests/dashboard.rs`).

mod common;

use std::time::Instant;

use axum::http::StatusCode;
use chrono::Utc;
use common::fixtures::{commit, finding, Spec};
use keibi_server::auth::Role;

#[tokio::test]
#[ignore]
async fn pages_with_100k_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::app(dir.path(), common::person(Role::Viewer));
    let now = Utc::now();
    let t0 = Instant::now();
    for batch in 0..100 {
        let fs: Vec<_> = (0..1000)
            .map(|j| {
                let i = batch * 1000 + j;
                let ip = format!("10.{}.{}.{}", i % 7, (i / 7) % 250, i % 251);
                let user = format!("user{}", i % 300);
                let key = format!("k{i}");
                finding(
                    &Spec {
                        key: &key,
                        ty: ["A:B/C", "D:E/F", "G:H/I", "J:K/L"][i % 4],
                        sev: (i % 100) as f64 / 10.0,
                        resource: ["db1", "db2", "db3"][i % 3],
                        account: Some("111122223333"),
                        ip: Some(&ip),
                        user: Some(&user),
                        title: format!("finding {i}"),
                        ago_hours: (i % 700) as i64,
                        count: (i % 97) as u64 + 1,
                    },
                    now,
                )
            })
            .collect();
        commit(&dir.path().join("keibi.db"), &fs, now);
    }
    println!("fill: 100000 findings in {:?}", t0.elapsed());
    let some_id = {
        let (_, body) = common::get(&app, "/findings", true).await;
        let i = body.find("href=\"/findings/").unwrap() + 16;
        body[i..i + 32].to_string()
    };
    for path in [
        "/".to_string(),
        "/findings".to_string(),
        "/findings?status=open&severity=high&sort=last_seen".to_string(),
        "/findings?page=1000".to_string(),
        "/findings?user=user17&since=7d".to_string(),
        format!("/findings/{some_id}"),
        "/actors/user/user17".to_string(),
        "/actors/ip/10.1.1.1".to_string(),
        "/suppressions".to_string(),
    ] {
        // The first call warms the caches (and computes the overview once).
        let t = Instant::now();
        let (status, _) = common::get(&app, &path, true).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        println!("{path}: first {:?}", t.elapsed());
        let t = Instant::now();
        for _ in 0..5 {
            common::get(&app, &path, true).await;
        }
        println!("{path}: {:?} per page", t.elapsed() / 5);
    }
}
