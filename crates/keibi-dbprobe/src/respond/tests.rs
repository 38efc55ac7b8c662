use super::*;

fn exec(list: &[(&str, &str)]) -> DbExecutor {
    DbExecutor::new(
        list.iter()
            .map(|(i, u)| Database {
                instance: i.to_string(),
                url: u.to_string(),
                password: Some("s3cret".into()),
            })
            .collect(),
    )
    .unwrap()
}

fn lock(engine: Option<Engine>, instance: &str) -> Target {
    Target::LockRole {
        engine,
        instance: instance.into(),
        user: "app".into(),
    }
}

#[test]
fn accepts_only_role_targets_of_configured_instances_of_the_same_engine() {
    let e = exec(&[
        ("prod-pg", "postgres://keibi@db:5432/postgres"),
        ("prod-my", "mariadb://keibi@db2:3306/"),
    ]);
    assert!(e.accepts(&lock(None, "prod-pg")));
    assert!(e.accepts(&lock(Some(Engine::Postgres), "prod-pg")));
    assert!(!e.accepts(&lock(Some(Engine::Mysql), "prod-pg")));
    assert!(e.accepts(&lock(Some(Engine::Mysql), "prod-my")));
    assert!(!e.accepts(&lock(None, "other")));
    assert!(e.accepts(&Target::EndSessions {
        engine: None,
        instance: "prod-my".into(),
        user: "x".into(),
        address: None,
    }));
    assert!(!e.accepts(&Target::Webhook {
        name: "prod-pg".into()
    }));
}

#[test]
fn settings_are_checked_and_errors_show_no_password() {
    let bad = |url: &str, instance: &str| {
        DbExecutor::new(vec![Database {
            instance: instance.into(),
            url: url.into(),
            password: None,
        }])
        .unwrap_err()
        .to_string()
    };
    assert!(bad("http://db/", "x").contains("postgres:// or mysql://"));
    let e = bad("postgres://u:hunter2@db/", "x");
    assert!(e.contains("password") && !e.contains("hunter2"), "{e}");
    assert!(bad("postgres://db/", "").contains("empty"));
    let twice = DbExecutor::new(vec![
        Database {
            instance: "a".into(),
            url: "postgres://db/".into(),
            password: None,
        },
        Database {
            instance: "a".into(),
            url: "mysql://db/".into(),
            password: None,
        },
    ]);
    assert!(twice.is_err());
    let d = format!(
        "{:?}",
        Database {
            instance: "a".into(),
            url: "postgres://u@db/".into(),
            password: Some("hunter2".into()),
        }
    );
    assert!(!d.contains("hunter2"), "{d}");
}

#[test]
fn a_refused_connection_is_transient_and_names_the_server_without_the_password() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for scheme in ["postgres", "mysql"] {
        let mut e = DbExecutor::new(vec![Database {
            instance: "db".into(),
            url: format!("{scheme}://keibi@127.0.0.1:{port}/x"),
            password: Some("s3cret-pw".into()),
        }])
        .unwrap()
        .with_timeout(Duration::from_secs(5));
        let f = keibi_model::Finding::new(
            "t",
            "T",
            &[],
            keibi_model::Severity::new(5.0),
            keibi_model::Resource::default(),
            chrono_now(),
        );
        let action = action(lock(None, "db"));
        let err = e
            .prepare(Request {
                action: &action,
                finding: &f,
            })
            .unwrap_err();
        assert!(err.is_transient(), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("{scheme}://keibi@127.0.0.1:{port}/x: ")),
            "{text}"
        );
        assert!(!text.contains("s3cret-pw"), "{text}");
    }
}

#[test]
fn postgres_identifiers_are_quoted_by_doubling_and_bounded() {
    let db = Db {
        instance: "x".into(),
        url: "postgres://db/".into(),
        password: None,
        engine: Engine::Postgres,
    };
    assert_eq!(
        pg::quote_ident(&db, "a\"; DROP ROLE x; --").unwrap(),
        "\"a\"\"; DROP ROLE x; --\""
    );
    assert!(pg::quote_ident(&db, "").is_err());
    assert!(pg::quote_ident(&db, "a\0b").is_err());
    assert!(pg::quote_ident(&db, &"r".repeat(64)).is_err());
    assert!(pg::quote_ident(&db, &"r".repeat(63)).is_ok());
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap()
}

fn action(target: Target) -> keibi_respond::Action {
    let t = chrono_now();
    keibi_respond::Action {
        id: "0123456789abcdef".into(),
        finding_id: "f".into(),
        finding_type: "T".into(),
        rule: "default".into(),
        ..keibi_respond::Action::new(
            target,
            keibi_respond::Mode::Auto,
            keibi_respond::State::Executing,
            t,
        )
    }
}
