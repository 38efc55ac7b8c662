use super::*;

use chrono::TimeZone;
use keibi_store::{FindingStore, Query};

fn t(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0).unwrap() + Duration::minutes(min)
}

fn db(instance: &str) -> Resource {
    Resource {
        kind: "db_instance".into(),
        id: instance.into(),
        engine: None,
        account: None,
        region: None,
    }
}

/// A per-instance login finding as a partition's detector commits it.
fn login(
    ty: &str,
    instance: &str,
    ip: &str,
    users: &[&str],
    from: i64,
    to: i64,
    n: u64,
) -> Finding {
    let mut f = Finding::new(
        "login_source",
        ty,
        &[instance, ip],
        Severity::new(5.0),
        db(instance),
        t(from),
    );
    f.last_seen = t(to);
    f.count = n;
    f.actor.ip = Some(ip.parse().unwrap());
    if users.len() == 1 {
        f.actor.user = Some(users[0].to_string());
    } else {
        f.actor.users = users.iter().map(|u| u.to_string()).collect();
    }
    f.title = format!("{ty} on {instance}");
    f
}

fn brute(instance: &str, ip: &str, from: i64, to: i64) -> Finding {
    login(
        "CredentialAccess:RDS/BruteForce",
        instance,
        ip,
        &["postgres"],
        from,
        to,
        40,
    )
}

/// A CloudTrail finding of `arn` in an account and region.
fn trail(ty: &str, arn: &str, account: &str, region: &str, at: i64) -> Finding {
    let mut f = Finding::new(
        "cloudtrail",
        ty,
        &[account, arn],
        Severity::new(7.0),
        Resource {
            kind: "aws_account".into(),
            id: account.into(),
            engine: None,
            account: Some(account.into()),
            region: Some(region.into()),
        },
        t(at),
    );
    f.count = 1;
    f.actor.user = Some(arn.into());
    f.actor.ip = Some("203.0.113.9".parse().unwrap());
    f
}

fn cfg() -> GlobalConfig {
    GlobalConfig::default()
}

#[test]
fn three_instances_within_the_hour_make_one_spread() {
    let ip: IpAddr = "198.51.100.7".parse().unwrap();
    let fs = vec![
        brute("db-a", "198.51.100.7", 0, 10),
        brute("db-b", "198.51.100.7", 20, 30),
        brute("db-c", "198.51.100.7", 50, 55),
    ];
    let f = spread(&cfg(), ip, &fs).expect("a spread finding");
    assert_eq!(f.finding_type, SPREAD);
    assert_eq!(f.count, 3);
    assert_eq!(f.resource.kind, "db_instances");
    assert_eq!(f.resource.id, "db-a,db-b,db-c");
    assert_eq!(f.actor.ip, Some(ip));
    assert_eq!((f.first_seen, f.last_seen), (t(0), t(55)));
    assert_eq!(f.evidence.len(), 3);
    assert!(
        f.title.contains("198.51.100.7") && f.title.contains("3 instances"),
        "{}",
        f.title
    );
    assert!(
        f.description.contains("db-a, db-b and db-c"),
        "{}",
        f.description
    );
    assert!(f.text.is_some());
    // The same id whatever the instances: one finding per address.
    let again = spread(&cfg(), ip, &fs[..]).unwrap();
    assert_eq!(again.id, f.id);
}

#[test]
fn instances_hours_apart_or_too_few_make_nothing() {
    let ip: IpAddr = "198.51.100.7".parse().unwrap();
    let apart = vec![
        brute("db-a", "198.51.100.7", 0, 10),
        brute("db-b", "198.51.100.7", 100, 110),
        brute("db-c", "198.51.100.7", 200, 210),
    ];
    assert!(spread(&cfg(), ip, &apart).is_none());
    let two = vec![
        brute("db-a", "198.51.100.7", 0, 10),
        brute("db-b", "198.51.100.7", 5, 10),
        // The same instance twice is one instance.
        login(
            "CredentialAccess:RDS/PasswordSpray",
            "db-b",
            "198.51.100.7",
            &["a", "b"],
            5,
            9,
            6,
        ),
    ];
    assert!(spread(&cfg(), ip, &two).is_none());
    // Another address's findings do not count for this one.
    let other = vec![
        brute("db-a", "198.51.100.7", 0, 10),
        brute("db-b", "198.51.100.7", 5, 10),
        brute("db-c", "198.51.100.8", 5, 10),
    ];
    assert!(spread(&cfg(), ip, &other).is_none());
    // Findings that are no login failures do not count.
    let mut not_login = brute("db-c", "198.51.100.7", 5, 10);
    not_login.finding_type = "Impact:RDS/MassDestruction".into();
    let mixed = vec![
        brute("db-a", "198.51.100.7", 0, 10),
        brute("db-b", "198.51.100.7", 5, 10),
        not_login,
    ];
    assert!(spread(&cfg(), ip, &mixed).is_none());
}

#[test]
fn a_later_campaign_adds_its_instances_and_a_quiet_one_does_not() {
    let ip: IpAddr = "198.51.100.7".parse().unwrap();
    let mut fs = vec![
        brute("db-a", "198.51.100.7", 0, 10),
        brute("db-b", "198.51.100.7", 20, 30),
        brute("db-c", "198.51.100.7", 50, 55),
        // Alone a day later: not part of any window of three.
        brute("db-d", "198.51.100.7", 1440, 1450),
    ];
    assert_eq!(spread(&cfg(), ip, &fs).unwrap().count, 3);
    fs.push(brute("db-e", "198.51.100.7", 1460, 1470));
    fs.push(brute("db-f", "198.51.100.7", 1480, 1490));
    assert_eq!(spread(&cfg(), ip, &fs).unwrap().count, 6);
}

#[test]
fn many_users_on_two_instances_is_stuffing() {
    let ip: IpAddr = "192.0.2.44".parse().unwrap();
    let users_a: Vec<String> = (0..6).map(|i| format!("user{i}")).collect();
    let users_b: Vec<String> = (4..11).map(|i| format!("user{i}")).collect();
    let ra: Vec<&str> = users_a.iter().map(String::as_str).collect();
    let rb: Vec<&str> = users_b.iter().map(String::as_str).collect();
    let spray = "CredentialAccess:RDS/PasswordSpray";
    let fs = vec![
        login(spray, "db-a", "192.0.2.44", &ra, 0, 5, 12),
        login(spray, "db-b", "192.0.2.44", &rb, 10, 15, 14),
    ];
    let f = stuffing(&cfg(), ip, &fs).expect("stuffing");
    assert_eq!(f.finding_type, STUFFING);
    assert_eq!(f.count, 11, "distinct users");
    assert_eq!(f.actor.users.len(), 11);
    assert!(
        f.title.contains("11 user names on 2 instances"),
        "{}",
        f.title
    );
    // Two instances are not a spread.
    assert!(spread(&cfg(), ip, &fs).is_none());
    // Nine users are not enough; neither is one instance.
    let few = vec![
        login(spray, "db-a", "192.0.2.44", &ra[..5], 0, 5, 12),
        login(spray, "db-b", "192.0.2.44", &rb[..4], 10, 15, 14),
    ];
    assert!(stuffing(&cfg(), ip, &few).is_none());
    let mut all = ra.clone();
    all.extend(&rb);
    let one = vec![login(spray, "db-a", "192.0.2.44", &all, 0, 5, 30)];
    assert!(stuffing(&cfg(), ip, &one).is_none());
}

#[test]
fn one_principal_in_two_accounts_or_three_regions() {
    let arn = "arn:aws:iam::111111111111:user/deploy";
    let ty = "Exfiltration:RDS/SnapshotPublic";
    let two_accounts = vec![
        trail(ty, arn, "111111111111", "us-east-1", 0),
        trail(
            "Stealth:RDS/ProtectionWeakened",
            arn,
            "222222222222",
            "us-east-1",
            30,
        ),
    ];
    let f = principal(&cfg(), arn, &two_accounts).expect("two accounts");
    assert_eq!(f.finding_type, PRINCIPAL);
    assert_eq!(f.count, 2);
    assert_eq!(f.resource.id, "111111111111,222222222222");
    assert_eq!(f.actor.user.as_deref(), Some(arn));
    assert!(f.title.contains("2 accounts and 1 region"), "{}", f.title);
    let one_account = vec![
        trail(ty, arn, "111111111111", "us-east-1", 0),
        trail(ty, arn, "111111111111", "eu-west-1", 10),
    ];
    assert!(principal(&cfg(), arn, &one_account).is_none());
    let three_regions = vec![
        trail(ty, arn, "111111111111", "us-east-1", 0),
        trail(ty, arn, "111111111111", "eu-west-1", 10),
        trail(ty, arn, "111111111111", "ap-northeast-1", 20),
    ];
    assert_eq!(principal(&cfg(), arn, &three_regions).unwrap().count, 3);
    // Days apart: no.
    let apart = vec![
        trail(ty, arn, "111111111111", "us-east-1", 0),
        trail(ty, arn, "222222222222", "us-east-1", 3 * 1440),
    ];
    assert!(principal(&cfg(), arn, &apart).is_none());
    // Another principal's findings do not count.
    let other = vec![
        trail(ty, arn, "111111111111", "us-east-1", 0),
        trail(
            ty,
            "arn:aws:iam::222222222222:user/x",
            "222222222222",
            "us-east-1",
            1,
        ),
    ];
    assert!(principal(&cfg(), arn, &other).is_none());
}

#[test]
fn hostile_names_stay_text_and_lists_stay_bounded() {
    let ip: IpAddr = "2001:db8::1".parse().unwrap();
    let mut fs = Vec::new();
    for i in 0..300 {
        let inst = format!("db-{i}\u{1b}[31m\n");
        fs.push(brute(&inst, "2001:db8::1", i % 50, 50));
    }
    let f = spread(&cfg(), ip, &fs).expect("spread");
    assert_eq!(f.count, 300);
    assert_eq!(f.evidence.len(), MAX_EVIDENCE);
    assert!(f.resource.id.ends_with(",+280"), "{}", f.resource.id);
    // The texts carry the names as they are: outputs escape them (docs/i18n.md).
    assert!(f.description.contains("and 280 more"), "{}", f.description);
}

// ---- against a store ------------------------------------------------------------

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("keibi.db")).unwrap();
    (dir, s)
}

/// Commits findings as one partition's batch, with its checkpoint.
fn commit_partition(s: &mut Store, part: &str, pos: u64, fs: &[Finding]) -> bool {
    let mut c = Commit::new(t(600));
    for f in fs {
        c.finding_changes.push(FindingChange {
            kind: ChangeKind::New,
            finding: f.clone(),
            added: f.count,
        });
    }
    c.checkpoints.push(Checkpoint {
        source: format!("stream/{part}"),
        position: pos,
        data: Vec::new(),
    });
    s.commit(&c).unwrap().replayed
}

fn globals(s: &Store) -> Vec<keibi_store::StoredFinding> {
    s.findings(&Query {
        types: vec![SPREAD.into(), STUFFING.into(), PRINCIPAL.into()],
        ..Query::default()
    })
    .unwrap()
}

#[test]
fn three_partitions_give_one_finding_counted_once_after_a_crash_and_replay() {
    let (dir, mut s) = store();
    let ip = "198.51.100.7";
    for (i, inst) in ["db-a", "db-b", "db-c"].iter().enumerate() {
        assert!(!commit_partition(
            &mut s,
            inst,
            1,
            &[brute(inst, ip, i as i64 * 10, i as i64 * 10 + 5)]
        ));
    }
    let prepared = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = prepared.clone();
    let mut stage = GlobalStage::new(cfg()).with_prepare(Box::new(move |c: &mut Commit| {
        assert_eq!(c.checkpoints.len(), 1);
        seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }));
    let r = stage.round(&mut s, t(700)).unwrap();
    assert_eq!((r.read, r.keys, r.findings.len()), (3, 1, 1), "{r:?}");
    assert_eq!(prepared.load(std::sync::atomic::Ordering::Relaxed), 1);
    let g = globals(&s);
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].finding.finding_type, SPREAD);
    assert_eq!(g[0].finding.count, 3);
    let id = g[0].finding.id.clone();

    // A round with nothing new commits nothing (its own finding is not its input).
    let r = stage.round(&mut s, t(701)).unwrap();
    assert_eq!(r.findings.len(), 0, "{r:?}");

    // The partitions replay their batch after a crash: the store counts nothing,
    // and the stage, reading the rows that replay left, adds nothing.
    for inst in ["db-a", "db-b", "db-c"] {
        assert!(commit_partition(&mut s, inst, 1, &[brute(inst, ip, 0, 5)]));
    }
    // The stage's process dies and another takes over with a new connection.
    drop(s);
    let mut s = Store::open(&dir.path().join("keibi.db")).unwrap();
    let mut stage = GlobalStage::new(cfg());
    stage.round(&mut s, t(702)).unwrap();
    assert_eq!(s.finding_by_id(&id).unwrap().finding.count, 3);

    // A fourth instance attacked in the hour: the finding grows by one.
    commit_partition(&mut s, "db-d", 1, &[brute("db-d", ip, 40, 45)]);
    let (_, plan) = stage.plan(&s, t(703)).unwrap();
    let plan = plan.expect("a commit");
    assert_eq!(plan.finding_changes.len(), 1);
    assert_eq!(plan.finding_changes[0].added, 1);
    // Committed, then sent again (the process died before it learnt the outcome):
    // the second is a replay and counts nothing.
    assert!(!s.commit(&plan).unwrap().replayed);
    assert!(s.commit(&plan).unwrap().replayed);
    assert_eq!(s.finding_by_id(&id).unwrap().finding.count, 4);
    // A second holder that planned from the same checkpoint commits a replay too.
    assert_eq!(stage.round(&mut s, t(704)).unwrap().findings.len(), 0);
    assert_eq!(s.finding_by_id(&id).unwrap().finding.count, 4);
    assert_eq!(globals(&s).len(), 1);
}

fn grow(s: &mut Store, inst: &str, ip: &str, to: i64, pos: u64) {
    let mut c = Commit::new(t(6000 + pos as i64));
    let mut f = brute(inst, ip, 0, to);
    f.count = 10;
    c.finding_changes.push(FindingChange {
        kind: ChangeKind::Grew,
        finding: f,
        added: 10,
    });
    c.checkpoints.push(Checkpoint {
        source: format!("stream/{inst}"),
        position: pos,
        data: Vec::new(),
    });
    s.commit(&c).unwrap();
}

#[test]
fn a_finding_that_grows_again_is_read_again() {
    let (_dir, mut s) = store();
    let ip = "198.51.100.7";
    // Monday db-a and db-b, Wednesday db-c: never three in one hour.
    commit_partition(&mut s, "db-a", 1, &[brute("db-a", ip, 0, 5)]);
    commit_partition(&mut s, "db-b", 1, &[brute("db-b", ip, 0, 5)]);
    commit_partition(&mut s, "db-c", 1, &[brute("db-c", ip, 3000, 3005)]);
    let mut stage = GlobalStage::new(cfg());
    stage.round(&mut s, t(7000)).unwrap();
    // db-a comes back on Wednesday, db-b a little on Monday (history: a `grew` row
    // after `new` for each).
    grow(&mut s, "db-a", ip, 3001, 2);
    grow(&mut s, "db-b", ip, 10, 2);
    stage.round(&mut s, t(7001)).unwrap();
    assert!(globals(&s).is_empty());
    // db-b comes back on Wednesday too: its `grew` row moves on in place, which
    // is the only change of this address; the stage must see it.
    grow(&mut s, "db-b", ip, 3002, 3);
    let r = stage.round(&mut s, t(7002)).unwrap();
    assert_eq!(r.read, 1, "{r:?}");
    let g = globals(&s);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0].finding.count, 3);
}

#[test]
fn a_round_reads_at_most_its_bound_and_the_next_goes_on() {
    let (_dir, mut s) = store();
    for (i, inst) in ["db-a", "db-b", "db-c"].iter().enumerate() {
        commit_partition(&mut s, inst, 1, &[brute(inst, "198.51.100.7", i as i64, 5)]);
    }
    let mut stage = GlobalStage::new(GlobalConfig {
        max_changes: 2,
        ..cfg()
    });
    let r = stage.round(&mut s, t(700)).unwrap();
    assert!(r.more && r.read == 2, "{r:?}");
    // It judged the address from everything stored: db-c counts already.
    assert_eq!(globals(&s)[0].finding.count, 3);
    let r = stage.round(&mut s, t(701)).unwrap();
    assert!(r.findings.is_empty(), "{r:?}");
    let r = stage.round(&mut s, t(702)).unwrap();
    assert_eq!(r.read, 0);
    assert_eq!(globals(&s).len(), 1);
}

#[test]
fn a_round_takes_at_most_max_keys_addresses() {
    let (_dir, mut s) = store();
    for k in 0..5u8 {
        let ip = format!("198.51.100.{k}");
        for inst in ["db-a", "db-b", "db-c"] {
            commit_partition(&mut s, &format!("{inst}-{k}"), 1, &[brute(inst, &ip, 0, 5)]);
        }
    }
    let mut stage = GlobalStage::new(GlobalConfig {
        max_keys: 2,
        ..cfg()
    });
    let mut rounds = 0;
    loop {
        let r = stage.round(&mut s, t(700 + rounds)).unwrap();
        assert!(r.keys <= 2, "{r:?}");
        rounds += 1;
        if !r.more && r.read == 0 {
            break;
        }
        assert!(rounds < 20);
    }
    assert_eq!(globals(&s).len(), 5);
    assert!(globals(&s).iter().all(|g| g.finding.count == 3));
}

#[test]
fn every_text_renders_in_japanese() {
    use keibi_i18n::{DisplayZone, Lang, Locale};
    let ja = Locale::new(Lang::Ja, DisplayZone::utc());
    let ip: IpAddr = "192.0.2.44".parse().unwrap();
    let users: Vec<String> = (0..12).map(|i| format!("user{i}")).collect();
    let u: Vec<&str> = users.iter().map(String::as_str).collect();
    let spray = "CredentialAccess:RDS/PasswordSpray";
    let fs = vec![
        login(spray, "db-a", "192.0.2.44", &u[..6], 0, 5, 12),
        login(spray, "db-b", "192.0.2.44", &u[6..], 10, 15, 14),
        brute("db-c", "192.0.2.44", 20, 25),
    ];
    let arn = "arn:aws:iam::111111111111:role/x";
    let two = vec![
        trail(
            "Exfiltration:RDS/SnapshotPublic",
            arn,
            "111111111111",
            "us-east-1",
            0,
        ),
        trail(
            "Exfiltration:RDS/SnapshotPublic",
            arn,
            "222222222222",
            "eu-west-1",
            5,
        ),
    ];
    let found = [
        spread(&cfg(), ip, &fs).unwrap(),
        stuffing(&cfg(), ip, &fs).unwrap(),
        principal(&cfg(), arn, &two).unwrap(),
    ];
    for f in &found {
        let (title, description, remediation) = ja.finding(f.text.as_deref().unwrap());
        let all = format!(
            "{}\n{description}\n{remediation}",
            title.unwrap_or_default()
        );
        assert!(!all.contains("global-") && !all.contains('{'), "{all}");
        assert!(
            all.contains("インスタンス") || all.contains("アカウント"),
            "{all}"
        );
        // The English of the contract has no message id left either.
        assert!(!f.title.contains("global-") && !f.remediation.contains("global-"));
    }
}

#[test]
fn the_thread_of_a_single_keibi_run_judges_what_is_committed() {
    let (dir, mut s) = store();
    for (i, inst) in ["db-a", "db-b", "db-c"].iter().enumerate() {
        commit_partition(&mut s, inst, 1, &[brute(inst, "198.51.100.7", i as i64, 5)]);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let running = Running::start(
        Store::open(&dir.path().join("keibi.db")).unwrap(),
        GlobalStage::new(cfg()),
        std::time::Duration::from_millis(20),
        Box::new(move |r| {
            let _ = tx.send(r.map(|r| r.findings.len()).map_err(|e| e.to_string()));
        }),
    )
    .unwrap();
    let first = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("a round");
    running.stop();
    assert_eq!(first, Ok(1));
    assert_eq!(globals(&s).len(), 1);
}

#[test]
fn a_key_with_as_many_findings_as_it_may_read_is_judged() {
    // max_per_key findings of one address on as many instances, spread over a
    // week: only those within the hour of two others count.
    let ip: IpAddr = "198.51.100.7".parse().unwrap();
    let n = cfg().max_per_key as i64;
    let fs: Vec<Finding> = (0..n)
        .map(|i| brute(&format!("db-{i}"), "198.51.100.7", i * 20, i * 20 + 1))
        .collect();
    let f = spread(&cfg(), ip, &fs).expect("spread");
    assert_eq!(f.count, n as u64);
    let sparse: Vec<Finding> = (0..n)
        .map(|i| brute(&format!("db-{i}"), "198.51.100.7", i * 100, i * 100 + 1))
        .collect();
    assert!(spread(&cfg(), ip, &sparse).is_none());
}
