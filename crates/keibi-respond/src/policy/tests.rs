use chrono::{TimeZone, Utc};
use keibi_model::{Engine, Finding, Resource, Severity, SuggestedAction};

use super::*;

fn brute_force(ip: &str, user: &str, severity: f64) -> Finding {
    let resource = Resource {
        kind: "db_instance".into(),
        id: "prod-db".into(),
        engine: Some(Engine::Postgres),
        account: None,
        region: None,
    };
    let t = Utc.with_ymd_and_hms(2026, 12, 6, 3, 0, 0).unwrap();
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
        &[ip, user],
        Severity::new(severity),
        resource,
        t,
    );
    f.actor.ip = Some(ip.parse().unwrap());
    f.actor.user = Some(user.into());
    f.suggested_actions = vec![
        SuggestedAction::BlockAddress { address: ip.into() },
        SuggestedAction::LockRole {
            instance: "prod-db".into(),
            user: user.into(),
        },
        SuggestedAction::EndSessions {
            instance: "prod-db".into(),
            user: user.into(),
        },
    ];
    f
}

fn rule(types: &[&str], actions: Option<&[&str]>, mode: Mode) -> Rule {
    Rule {
        types: types.iter().map(|t| Pattern::new(t).unwrap()).collect(),
        actions: actions.map(|a| a.iter().map(|s| ActionRef::parse(s).unwrap()).collect()),
        mode,
        ..Rule::default()
    }
}

#[test]
fn with_no_rule_the_suggested_actions_are_simulated() {
    let p = Policy::default();
    let plan = p.plan(&brute_force("203.0.113.9", "app", 8.0));
    let kinds: Vec<Kind> = plan.iter().map(|p| p.target.kind()).collect();
    assert_eq!(
        kinds,
        [Kind::BlockAddress, Kind::LockRole, Kind::EndSessions]
    );
    assert!(plan
        .iter()
        .all(|p| p.mode == Mode::Simulate && p.rule == "default"));
    assert_eq!(plan[0].expire_after, Some(Duration::from_secs(86400)));
    assert_eq!(plan[1].expire_after, None);
    match &plan[2].target {
        Target::EndSessions { address, .. } => {
            assert_eq!(*address, Some("203.0.113.9".parse().unwrap()))
        }
        t => panic!("{t:?}"),
    }
}

#[test]
fn the_first_matching_rule_wins_and_names_its_actions() {
    let p = Policy {
        rules: vec![
            rule(&["Discovery:*"], Some(&[]), Mode::Auto),
            rule(
                &["CredentialAccess:RDS/*"],
                Some(&["block_address", "webhook:soc"]),
                Mode::Auto,
            ),
            rule(&["*"], None, Mode::Approve),
        ],
        ..Policy::default()
    };
    let plan = p.plan(&brute_force("203.0.113.9", "app", 8.0));
    assert_eq!(plan.len(), 2);
    assert_eq!(plan[0].rule, "#2");
    assert_eq!(plan[0].mode, Mode::Auto);
    assert_eq!(plan[1].target, Target::Webhook { name: "soc".into() });
}

#[test]
fn severity_and_resources_narrow_a_rule() {
    let mut r = rule(&["*"], None, Mode::Auto);
    r.min_severity = Some(8.0);
    r.resources = vec![Pattern::new("staging-*").unwrap()];
    let p = Policy {
        rules: vec![r],
        simulate_suggested: false,
        ..Policy::default()
    };
    assert!(p.plan(&brute_force("203.0.113.9", "app", 9.0)).is_empty());
}

#[test]
fn nothing_on_an_allowlist_is_planned_to_run() {
    let p = Policy {
        rules: vec![rule(&["*"], None, Mode::Auto)],
        never: Never {
            addresses: vec!["203.0.113.0/24".parse().unwrap()],
            roles: vec!["prod-db/app".into()],
            ..Never::default()
        },
        ..Policy::default()
    };
    let plan = p.plan(&brute_force("203.0.113.9", "app", 8.0));
    assert_eq!(plan.len(), 3);
    for a in &plan {
        assert!(a.skip.is_some(), "{a:?}");
    }
    let plan = p.plan(&brute_force("127.0.0.1", "other", 8.0));
    assert!(plan[0].skip.as_deref().unwrap().contains("loopback"));
    assert!(plan[1].skip.is_none());
}

#[test]
fn action_names_are_checked() {
    assert!(ActionRef::parse("webhook").is_err());
    assert!(ActionRef::parse("lock_role:x").is_err());
    assert!(ActionRef::parse("reboot").is_err());
    assert_eq!(
        ActionRef::parse("exec:ticket").unwrap(),
        ActionRef {
            kind: Kind::Exec,
            name: Some("ticket".into())
        }
    );
}
