//! Findings committed to a real store the way the daemon does
//! (`FindingStore::commit`), as `crates/keibi-store/tests/` builds them.
#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use keibi_model::finding::{Evidence, Resource};
use keibi_model::{
    Action, ChangeKind, Event, Finding, FindingChange, Severity, SourceKind, Statement,
};
use keibi_store::{ActivityBatch, Checkpoint, Commit, FindingStore, Store};

pub struct Spec<'a> {
    pub key: &'a str,
    pub ty: &'a str,
    pub sev: f64,
    pub resource: &'a str,
    pub account: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub user: Option<&'a str>,
    pub title: String,
    pub ago_hours: i64,
    pub count: u64,
}

impl Default for Spec<'_> {
    fn default() -> Self {
        Spec {
            key: "k",
            ty: "CredentialAccess:RDS/BruteForce",
            sev: 5.0,
            resource: "orders-db",
            account: None,
            ip: Some("203.0.113.7"),
            user: Some("postgres"),
            title: "Brute force".into(),
            ago_hours: 1,
            count: 10,
        }
    }
}

pub fn finding(s: &Spec<'_>, now: DateTime<Utc>) -> Finding {
    let last = now - Duration::hours(s.ago_hours);
    let mut f = Finding::new(
        "login",
        s.ty,
        &[s.key],
        Severity::new(s.sev),
        Resource {
            kind: "db_instance".into(),
            id: s.resource.into(),
            account: s.account.map(str::to_string),
            ..Resource::default()
        },
        last - Duration::minutes(30),
    );
    f.last_seen = last;
    f.count = s.count;
    f.title = s.title.clone();
    f.description = format!("{} happened.", s.title);
    f.remediation = "Block the address.".into();
    f.actor.ip = s.ip.map(|ip| ip.parse().unwrap());
    f.actor.user = s.user.map(str::to_string);
    f.evidence.push(Evidence::Line {
        source: "/var/log/postgresql/postgresql.log".into(),
        line: 42,
    });
    f
}

/// Commits `fs` as new findings, with a checkpoint of source `pg.log`.
pub fn commit(store: &std::path::Path, fs: &[Finding], now: DateTime<Utc>) {
    commit_with_events(store, fs, &[], now)
}

/// Commits `fs` and the actors' activity of `events` (the timeline), as the
/// daemon's batch does.
pub fn commit_with_events(
    store: &std::path::Path,
    fs: &[Finding],
    events: &[Event],
    now: DateTime<Utc>,
) {
    let mut activity = ActivityBatch::new();
    for e in events {
        activity.add(e);
    }
    let mut s = Store::open(store).unwrap();
    let position = s
        .checkpoints()
        .unwrap()
        .iter()
        .map(|c| c.position)
        .max()
        .unwrap_or(0)
        + 1;
    s.commit(&Commit {
        finding_changes: fs
            .iter()
            .map(|f| FindingChange {
                kind: ChangeKind::New,
                finding: f.clone(),
                added: f.count,
            })
            .collect(),
        checkpoints: vec![Checkpoint {
            source: "pg.log".into(),
            position,
            data: vec![],
        }],
        activity,
        ..Commit::new(now)
    })
    .unwrap();
}

/// A PostgreSQL statement by `user` from `ip` at `at`.
pub fn statement(at: DateTime<Utc>, ip: &str, user: &str, sql: &str) -> Event {
    let mut e = Event::new(
        at,
        SourceKind::PostgresStderr,
        std::sync::Arc::from("pg.log"),
        7,
        Action::Statement,
    );
    e.instance = Some("orders-db".into());
    e.set_client(ip);
    e.user = Some(user.into());
    e.statement = Some(Box::new(Statement::from_sql(sql)));
    e
}

/// A CloudTrail call by principal `arn` from `ip` at `at`.
pub fn api_call(at: DateTime<Utc>, ip: &str, arn: &str, name: &str) -> Event {
    let mut e = Event::new(
        at,
        SourceKind::Cloudtrail,
        std::sync::Arc::from("ct.json"),
        1,
        Action::ApiCall,
    );
    e.set_client(ip);
    e.user = Some(arn.into());
    e.message = Some(format!("rds.amazonaws.com:{name}"));
    e.record = Some(Box::new(serde_json::json!({"eventName": name})));
    e
}
