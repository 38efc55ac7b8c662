//! Tests of the bulk-read, snapshot-copy and EC2-sharing detections, on records in
//! the shapes CloudTrail writes, and of their texts against both catalogs.

use keibi_i18n::{DisplayZone, Lang, Locale};
use keibi_model::Finding;
use serde_json::{json, Value};

use super::*;
use crate::iplist::ThreatLists;
use crate::testutil::{check_catalogs, events, of_type, run};

const ACCOUNT: &str = "123456789012";
const KENJI: &str = "arn:aws:iam::123456789012:user/kenji";

/// A record of `who` (an IAM user ARN or an assumed-role ARN) at `t` seconds after
/// 2026-11-28 00:00 UTC; `patch` adds or overrides top-level keys.
fn rec(t: i64, who: &str, source: &str, name: &str, req: Value, patch: Value) -> Value {
    let time = DateTime::from_timestamp(1_795_824_000 + t, 0).unwrap_or_default();
    let ident = if who.contains(":assumed-role/") {
        json!({"type": "AssumedRole", "arn": who, "accountId": ACCOUNT,
               "principalId": "AROAEXAMPLE:session"})
    } else {
        json!({"type": "IAMUser", "arn": who, "accountId": ACCOUNT,
               "principalId": "AIDAEXAMPLE", "userName": "kenji"})
    };
    let mut r = json!({
        "eventVersion": "1.10",
        "userIdentity": ident,
        "eventTime": time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "aws-cli/2.17.4",
        "requestParameters": req,
        "responseElements": null,
        "eventID": format!("7a8b9c0d-0000-4000-8000-{:012}", t.rem_euclid(1_000_000_000_000)),
        "readOnly": true,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT
    });
    if let (Some(m), Value::Object(p)) = (r.as_object_mut(), patch) {
        m.extend(p);
    }
    r
}

fn get_secret(t: i64, who: &str, id: &str) -> Value {
    rec(
        t,
        who,
        "secretsmanager.amazonaws.com",
        "GetSecretValue",
        json!({ "secretId": id }),
        json!({}),
    )
}

fn detect(config: Config, records: &[Value]) -> Vec<Finding> {
    let doc = json!({ "Records": records }).to_string();
    let evs = events(
        "123456789012_CloudTrail_eu-west-1_20261128T0000Z_x.json",
        "",
        &doc,
    );
    assert_eq!(evs.len(), records.len(), "every record is an event");
    run(
        vec![Box::new(CloudTrailData::new(&config))],
        config,
        ThreatLists::default(),
        &evs,
    )
}

#[test]
fn ten_different_secrets_in_minutes_raise_one_finding_that_grows() {
    let mut r: Vec<Value> = (0..14)
        .map(|i| get_secret(7200 + i * 5, KENJI, &format!("prod/app-{i}")))
        .collect();
    r.push(rec(
        7300,
        KENJI,
        "ssm.amazonaws.com",
        "GetParameters",
        json!({"names": ["/prod/db-password", "/prod/api-key"], "withDecryption": true}),
        json!({}),
    ));
    let fs = detect(Config::default(), &r);
    let hits = of_type(&fs, SECRETS_READ);
    assert_eq!(hits.len(), 1, "{fs:#?}");
    let f = hits[0];
    assert_eq!(f.count, 15, "10 calls make the burst, 5 more join it");
    assert_eq!(f.severity.value(), 7.0);
    assert_eq!(f.resource.id, ACCOUNT);
    assert!(
        f.description.contains("read 10 different secrets"),
        "{}",
        f.description
    );
    assert!(f.description.contains("prod/app-0"), "{}", f.description);
    assert!(
        f.description.contains("no such burst on an earlier day"),
        "{}",
        f.description
    );
    assert_eq!(f.evidence.len(), 15.min(f.evidence.len()));
}

#[test]
fn nine_secrets_or_one_secret_read_all_day_raise_nothing() {
    let nine: Vec<Value> = (0..9)
        .map(|i| get_secret(7200 + i * 5, KENJI, &format!("prod/app-{i}")))
        .collect();
    assert!(detect(Config::default(), &nine).is_empty());
    // An application reads its one secret at every start, from many sessions.
    let app: Vec<Value> = (0..500)
        .map(|i| {
            get_secret(
                i * 60,
                &format!("arn:aws:sts::123456789012:assumed-role/shop-api/task-{i}"),
                "prod/shop/postgres-app",
            )
        })
        .collect();
    assert!(detect(Config::default(), &app).is_empty());
}

#[test]
fn reads_a_service_makes_or_refused_reads_are_not_the_principals() {
    let mut r: Vec<Value> = (0..12)
        .map(|i| {
            rec(
                100 + i,
                "arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/x",
                "secretsmanager.amazonaws.com",
                "GetSecretValue",
                json!({ "secretId": format!("prod/s-{i}") }),
                json!({"userIdentity": {"type": "AssumedRole", "invokedBy": "ecs-tasks.amazonaws.com",
                       "arn": "arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/x"}}),
            )
        })
        .collect();
    r.extend((0..12).map(|i| {
        rec(
            200 + i,
            KENJI,
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            json!({ "secretId": format!("prod/s-{i}") }),
            json!({"errorCode": "AccessDeniedException"}),
        )
    }));
    // Parameters read without decryption are configuration.
    r.push(rec(
        300,
        KENJI,
        "ssm.amazonaws.com",
        "GetParameters",
        json!({"names": (0..20).map(|i| format!("/cfg/{i}")).collect::<Vec<_>>(), "withDecryption": false}),
        json!({}),
    ));
    assert!(detect(Config::default(), &r).is_empty());
}

#[test]
fn a_burst_made_on_an_earlier_day_is_the_principals_habit() {
    let deploy = "arn:aws:sts::123456789012:assumed-role/deploy/run-1";
    let mut r = Vec::new();
    for day in 0..3 {
        for i in 0..12 {
            let who = deploy.replace("run-1", &format!("run-{day}"));
            r.push(get_secret(
                day * 86_400 + 3600 + i,
                &who,
                &format!("prod/s-{i}"),
            ));
        }
    }
    let fs = detect(Config::default(), &r);
    let hits = of_type(&fs, SECRETS_READ);
    assert_eq!(hits.len(), 1, "the first morning only: {fs:#?}");
    assert_eq!(hits[0].first_seen.timestamp(), 1_795_824_000 + 3600);
    assert_eq!(
        hits[0].count, 12,
        "10 make the burst, the morning's 2 more join it"
    );
}

#[test]
fn a_catch_all_batch_read_raises_at_once() {
    let r = vec![rec(
        10,
        KENJI,
        "secretsmanager.amazonaws.com",
        "BatchGetSecretValue",
        json!({"filters": [{"key": "tag-key", "values": ["!tagKeyThatWillNeverExist"]}]}),
        json!({}),
    )];
    let fs = detect(Config::default(), &r);
    let hits = of_type(&fs, SECRETS_READ);
    assert_eq!(hits.len(), 1, "{fs:#?}");
    assert!(
        hits[0]
            .description
            .contains("every secret a filter matches"),
        "{}",
        hits[0].description
    );
    // A batch of named secrets counts its names.
    let named = vec![rec(
        10,
        KENJI,
        "secretsmanager.amazonaws.com",
        "BatchGetSecretValue",
        json!({"secretIdList": ["a", "b", "c"]}),
        json!({}),
    )];
    assert!(detect(Config::default(), &named).is_empty());
}

#[test]
fn log_files_downloaded_in_bulk_but_not_one_file_in_portions() {
    let dl = |t: i64, file: &str| {
        rec(
            t,
            KENJI,
            "rds.amazonaws.com",
            "DownloadDBLogFilePortion",
            json!({"dBInstanceIdentifier": "shop", "logFileName": file, "marker": "0"}),
            json!({}),
        )
    };
    let portions: Vec<Value> = (0..40)
        .map(|i| dl(i * 3, "error/postgresql.log.2026-11-28-10"))
        .collect();
    assert!(detect(Config::default(), &portions).is_empty());
    let files: Vec<Value> = (0..6)
        .map(|i| dl(i * 3, &format!("error/postgresql.log.2026-11-28-{i:02}")))
        .collect();
    let fs = detect(Config::default(), &files);
    let hits = of_type(&fs, LOGS_DOWNLOADED);
    assert_eq!(hits.len(), 1, "{fs:#?}");
    assert_eq!(hits[0].count, 6);
    assert_eq!(hits[0].severity.value(), 5.0);
}

fn copy(n: i64, req: Value) -> Value {
    rec(
        n,
        KENJI,
        "rds.amazonaws.com",
        "CopyDBSnapshot",
        req,
        json!({}),
    )
}

#[test]
fn snapshot_copies_are_graded_by_where_the_copy_can_go() {
    let foreign = copy(
        1,
        json!({"sourceDBSnapshotIdentifier": "rds:shop-2026-11-28", "targetDBSnapshotIdentifier": "x",
               "kmsKeyId": "arn:aws:kms:eu-west-1:444455556666:key/abc"}),
    );
    let region = copy(
        2,
        json!({"sourceDBSnapshotIdentifier": "arn:aws:rds:us-east-1:123456789012:snapshot:shop",
               "targetDBSnapshotIdentifier": "y", "sourceRegion": "us-east-1"}),
    );
    // Provably another key: the record names the source's, or the source snapshot
    // is another account's.
    let own_key = copy(
        3,
        json!({"sourceDBSnapshotIdentifier": "shop", "targetDBSnapshotIdentifier": "z",
               "kmsKeyId": "alias/share-key", "sourceKmsKeyId": "alias/shop-key"}),
    );
    let shared_in = copy(
        4,
        json!({"sourceDBSnapshotIdentifier": "arn:aws:rds:eu-west-1:210987654321:snapshot:shop",
               "targetDBSnapshotIdentifier": "w",
               "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/mine"}),
    );
    let fs = detect(Config::default(), &[foreign, region, own_key, shared_in]);
    let mut sev: Vec<f64> = of_type(&fs, SNAPSHOT_COPIED)
        .iter()
        .map(|f| f.severity.value())
        .collect();
    sev.sort_by(f64::total_cmp);
    assert_eq!(sev, vec![5.0, 5.0, 5.0, 8.0], "{fs:#?}");
    let f = of_type(&fs, SNAPSHOT_COPIED)
        .into_iter()
        .find(|f| f.severity.value() == 8.0)
        .cloned()
        .unwrap_or_else(|| panic!("{fs:#?}"));
    assert!(
        f.description.contains("of account 444455556666"),
        "{}",
        f.description
    );

    // The same key in a trusted account, the default key, a plain same-region copy.
    let cfg = Config {
        trusted_accounts: vec!["444455556666".into()],
        ..Config::default()
    };
    let quiet = [
        copy(
            1,
            json!({"sourceDBSnapshotIdentifier": "s", "targetDBSnapshotIdentifier": "x",
                   "kmsKeyId": "arn:aws:kms:eu-west-1:444455556666:key/abc"}),
        ),
        copy(
            2,
            json!({"sourceDBSnapshotIdentifier": "s", "targetDBSnapshotIdentifier": "y",
                   "kmsKeyId": "alias/aws/rds"}),
        ),
        copy(
            3,
            json!({"sourceDBSnapshotIdentifier": "arn:aws:rds:eu-west-1:123456789012:snapshot:s",
                   "targetDBSnapshotIdentifier": "z"}),
        ),
        // The daily same-region copy with its usual key, by alias, id or ARN; an
        // alias and an id of the source's key may be the same key.
        copy(
            4,
            json!({"sourceDBSnapshotIdentifier": "rds:shop-2026-11-28", "targetDBSnapshotIdentifier": "d1",
                   "kmsKeyId": "alias/shop-backups"}),
        ),
        copy(
            5,
            json!({"sourceDBSnapshotIdentifier": "rds:shop-2026-11-28", "targetDBSnapshotIdentifier": "d2",
                   "kmsKeyId": "0b6e6a3c-7d8e-4f11-9a2b-3c4d5e6f7a8b"}),
        ),
        copy(
            6,
            json!({"sourceDBSnapshotIdentifier": "arn:aws:rds:eu-west-1:123456789012:snapshot:s",
                   "targetDBSnapshotIdentifier": "d3",
                   "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/0b6e6a3c-7d8e-4f11-9a2b-3c4d5e6f7a8b",
                   "sourceKmsKeyId": "0b6e6a3c-7d8e-4f11-9a2b-3c4d5e6f7a8b"}),
        ),
        copy(
            7,
            json!({"sourceDBSnapshotIdentifier": "s", "targetDBSnapshotIdentifier": "d4",
                   "kmsKeyId": "alias/shop-backups",
                   "sourceKmsKeyId": "0b6e6a3c-7d8e-4f11-9a2b-3c4d5e6f7a8b"}),
        ),
    ];
    assert!(detect(cfg, &quiet).is_empty());
}

#[test]
fn ebs_snapshots_and_amis_shared_publicly_or_with_strangers() {
    let snap = |n: i64, items: Value| {
        rec(
            n,
            KENJI,
            "ec2.amazonaws.com",
            "ModifySnapshotAttribute",
            json!({"snapshotId": format!("snap-{n}"), "attributeType": "CREATE_VOLUME_PERMISSION",
                   "createVolumePermission": {"add": {"items": items}}}),
            json!({}),
        )
    };
    let ami = rec(
        9,
        KENJI,
        "ec2.amazonaws.com",
        "ModifyImageAttribute",
        json!({"imageId": "ami-1", "launchPermission": {"add": {"items": [{"userId": "444455556666"}]}}}),
        json!({}),
    );
    let r = [
        snap(1, json!([{"group": "all"}])),
        snap(2, json!([{"userId": "444455556666"}, {"userId": ACCOUNT}])),
        snap(3, json!([{"userId": ACCOUNT}])),
        ami,
    ];
    let fs = detect(Config::default(), &r);
    let hits = of_type(&fs, EC2_SHARED);
    let mut got: Vec<(String, f64)> = hits
        .iter()
        .map(|f| (f.resource.id.clone(), f.severity.value()))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            ("ami-1".to_string(), 7.0),
            ("snap-1".to_string(), 9.0),
            ("snap-2".to_string(), 7.0)
        ]
    );
}

#[test]
fn hostile_records_neither_panic_nor_grow_memory() {
    let mut d = CloudTrailData::new(&Config::default());
    let ev = |t: i64, who: &str, id: &str| {
        let doc = json!({"Records": [get_secret(t, who, id)]}).to_string();
        events("ct.json", "", &doc).remove(0)
    };
    let window = Duration::seconds(600);
    let one = ev(0, "arn:aws:iam::1:user/u0", "s");
    for i in 0..(MAX_PRINCIPALS * 2) {
        let mut e = one.clone();
        e.time = one.time + Duration::seconds(i as i64);
        let _ = d
            .secrets
            .push(&format!("u{i}"), &e, &["s"], false, 10, window);
        assert!(d.secrets.map.len() <= MAX_PRINCIPALS);
    }
    let long = "x".repeat(100_000);
    // One record parsed once (a debug build parses 100 KB of JSON slowly); each call
    // is the same record a second later.
    let base = ev(0, KENJI, &long);
    for i in 0..5000 {
        let mut e = base.clone();
        e.time = base.time + Duration::seconds(i);
        let name = format!("{i}{long}");
        let _ = d.secrets.push("k", &e, &[&name], false, u32::MAX, window);
    }
    let r = &d.secrets.map["k"];
    assert!(r.names.len() <= MAX_ENTRIES && r.calls.len() <= MAX_ENTRIES);
    assert!(r.names.iter().all(|(_, n)| n.chars().count() <= MAX_ID + 1));
    // Times at the end of chrono's range and odd shapes.
    let weird = vec![
        json!({"eventTime": "2026-11-28T00:00:00Z", "eventSource": "secretsmanager.amazonaws.com",
               "eventName": "BatchGetSecretValue", "requestParameters": {"secretIdList": {"a": 1}},
               "userIdentity": {"type": "IAMUser", "arn": KENJI}, "recipientAccountId": ACCOUNT}),
        json!({"eventTime": "2026-11-28T00:00:01Z", "eventSource": "rds.amazonaws.com",
               "eventName": "CopyDBSnapshot", "requestParameters": {"kmsKeyId": "arn:::::"},
               "userIdentity": {"type": "IAMUser", "arn": KENJI}}),
        json!({"eventTime": "2026-11-28T00:00:02Z", "eventSource": "ec2.amazonaws.com",
               "eventName": "ModifyImageAttribute", "requestParameters": {"launchPermission": {"add": "all"}},
               "userIdentity": {"type": "IAMUser", "arn": KENJI}}),
    ];
    let _ = detect(Config::default(), &weird);
    let mut cfg = Config::default();
    cfg.cloudtrail_data.secrets_window_secs = u64::MAX;
    cfg.cloudtrail_data.secrets = 0;
    let _ = detect(cfg, &[get_secret(1, KENJI, "a")]);
}

#[test]
fn arn_parts() {
    assert_eq!(
        arn_account("arn:aws:kms:eu-west-1:444455556666:key/abc"),
        Some("444455556666")
    );
    assert_eq!(arn_account("alias/aws/rds"), None);
    assert_eq!(arn_account("arn:aws:kms:eu-west-1:4444:key/abc"), None);
    assert_eq!(
        arn_region("arn:aws:rds:us-east-1:123456789012:snapshot:s"),
        Some("us-east-1")
    );
    assert_eq!(
        principal_key("arn:aws:sts::1:assumed-role/r/s-1"),
        "arn:aws:sts::1:assumed-role/r"
    );
    assert_eq!(principal_key(KENJI), KENJI);
}

/// One finding of every kind, with the messages that make it.
fn every_kind() -> Vec<Finding> {
    let mut r: Vec<Value> = (0..12)
        .map(|i| get_secret(7200 + i, KENJI, &format!("prod/app-{i}")))
        .collect();
    r.push(rec(
        9000,
        "arn:aws:sts::123456789012:assumed-role/x/y",
        "secretsmanager.amazonaws.com",
        "BatchGetSecretValue",
        json!({"filters": [{"key": "tag-key", "values": ["!x"]}]}),
        json!({}),
    ));
    r.extend((0..6).map(|i| {
        rec(
            9100 + i,
            KENJI,
            "rds.amazonaws.com",
            "DownloadDBLogFilePortion",
            json!({"dBInstanceIdentifier": "shop", "logFileName": format!("error/f{i}")}),
            json!({}),
        )
    }));
    r.push(copy(
        9200,
        json!({"sourceDBSnapshotIdentifier": "arn:aws:rds:us-east-1:123456789012:snapshot:s",
               "targetDBSnapshotIdentifier": "t", "kmsKeyId": "arn:aws:kms:eu-west-1:444455556666:key/k"}),
    ));
    r.push(rec(
        9201,
        KENJI,
        "rds.amazonaws.com",
        "CopyDBClusterSnapshot",
        json!({"sourceDBClusterSnapshotIdentifier": "c", "targetDBClusterSnapshotIdentifier": "d",
               "kmsKeyId": "alias/mine", "sourceKmsKeyId": "alias/aurora"}),
        json!({}),
    ));
    for (n, items) in [
        (9300, json!([{"group": "all"}])),
        (9301, json!([{"userId": "444455556666"}])),
    ] {
        r.push(rec(
            n,
            KENJI,
            "ec2.amazonaws.com",
            "ModifySnapshotAttribute",
            json!({"snapshotId": format!("snap-{n}"), "createVolumePermission": {"add": {"items": items}}}),
            json!({}),
        ));
        r.push(rec(
            n + 10,
            KENJI,
            "ec2.amazonaws.com",
            "ModifyImageAttribute",
            json!({"imageId": format!("ami-{n}"), "launchPermission": {"add": {"items": items}}}),
            json!({}),
        ));
    }
    detect(Config::default(), &r)
}

#[test]
fn every_message_is_in_both_catalogs_with_its_variables() {
    let fs = every_kind();
    assert_eq!(fs.len(), 9, "{fs:#?}");
    let seen = check_catalogs(&fs, true);
    for id in keibi_i18n::catalog_ids(Lang::En)
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| id.starts_with("ctd-"))
    {
        assert!(
            seen.contains(&id),
            "{id} is in the catalog but no finding uses it"
        );
    }
}

#[test]
fn english_strings_are_the_english_rendering_and_japanese_reads_naturally() {
    let en = Locale::new(Lang::En, DisplayZone::utc());
    let ja = Locale::new(Lang::Ja, DisplayZone::utc());
    for f in every_kind() {
        let t = f.text.as_ref().unwrap_or_else(|| panic!("{f:#?}"));
        let title = t.title.as_ref().map(|m| en.render(m)).unwrap_or_default();
        assert_eq!(truncate(title, 200), f.title);
        assert_eq!(en.sentences(&t.description), f.description);
        let ja_desc = ja.sentences(&t.description);
        assert!(!ja_desc.contains("ctd-"), "{ja_desc}");
        assert!(ja_desc.contains("呼び出しがありました"), "{ja_desc}");
    }
    let fs = every_kind();
    let f = fs
        .iter()
        .find(|f| f.finding_type == SECRETS_READ && f.count == 12)
        .unwrap_or_else(|| panic!("{fs:#?}"));
    let t = f.text.as_ref().unwrap_or_else(|| panic!("no text"));
    let title = t.title.as_ref().map(|m| ja.render(m)).unwrap_or_default();
    assert_eq!(title, format!("{KENJI} がシークレットを一括で読み取り"));
    assert!(ja
        .sentences(&t.description)
        .contains("600 秒以内に 10件の異なるシークレット"));
}
