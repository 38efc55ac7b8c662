//! The CloudTrail findings' texts as catalog messages: every message and argument the
//! code builds is in both catalogs and used there (the code half of the
//! catalog-completeness test), the English strings are the English rendering of the
//! messages, and a few Japanese texts are pinned.

use keibi_i18n::{DisplayZone, Lang, Locale};
use keibi_model::Finding;
use serde_json::json;

use super::tests::{delete_snapshot, denied, detect, ingress_flat, parameters, record, share};
use super::tests_identity::signin;
use super::*;
use crate::config::Config;
use crate::iplist::{IpList, IpSet, ThreatLists};

/// One finding of every kind the detector raises, each from the shape that exercises
/// the most messages (lists with "and N more", ranges of ports, cluster snapshots).
fn findings() -> Vec<Finding> {
    let cfg = Config::default();
    let mut records = vec![
        ingress_flat(1, "0.0.0.0/0", json!(3000), json!(6000)),
        record(
            2,
            "ec2.amazonaws.com",
            "CreateNetworkAclEntry",
            json!({"networkAclId": "acl-0d1e2f3a4b5c6d7e8", "ruleNumber": 90, "egress": false,
                "ruleAction": "allow", "cidrBlock": "0.0.0.0/0", "aclProtocol": "-1"}),
            json!({}),
        ),
        share(3, "ModifyDBClusterSnapshotAttribute", &["503161813013"]),
        share(
            4,
            "ModifyDBSnapshotAttribute",
            &["503161813013", "444455556666"],
        ),
        parameters(
            5,
            "ModifyDBParameterGroup",
            "orders-pg16",
            json!([{"parameterName": "log_connections", "parameterValue": "0"},
                   {"parameterName": "pgaudit.log", "parameterValue": "none"}]),
        ),
        record(
            6,
            "rds.amazonaws.com",
            "ResetDBClusterParameterGroup",
            json!({"dBClusterParameterGroupName": "orders-cluster-pg", "resetAllParameters": true}),
            json!({}),
        ),
        parameters(
            11,
            "ResetDBParameterGroup",
            "orders-pg-reset",
            json!([{"parameterName": "server_audit_logging"}]),
        ),
        record(
            7,
            "cloudtrail.amazonaws.com",
            "PutEventSelectors",
            json!({"trailName": "org-trail", "eventSelectors": [
                {"readWriteType": "ReadOnly", "includeManagementEvents": true}]}),
            json!({}),
        ),
        record(
            8,
            "guardduty.amazonaws.com",
            "UpdateDetector",
            json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0",
                   "features": [{"name": "RDS_LOGIN_EVENTS", "status": "DISABLED"}]}),
            json!({}),
        ),
        record(
            9,
            "sts.amazonaws.com",
            "GetCallerIdentity",
            json!({}),
            json!({"sourceIPAddress": "185.220.101.4", "readOnly": true}),
        ),
        record(
            10,
            "s3.amazonaws.com",
            "ListBuckets",
            json!({}),
            json!({"sourceIPAddress": "45.155.205.9", "readOnly": true}),
        ),
    ];
    for i in 0..cfg.cloudtrail.snapshot_deletes + 2 {
        records.push(delete_snapshot(i + 1, json!({})));
    }
    let apis = [
        ("iam.amazonaws.com", "ListUsers"),
        ("iam.amazonaws.com", "ListRoles"),
        ("s3.amazonaws.com", "ListBuckets"),
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("rds.amazonaws.com", "DescribeDBInstances"),
        ("secretsmanager.amazonaws.com", "ListSecrets"),
        ("lambda.amazonaws.com", "ListFunctions20150331"),
    ];
    for i in 0..30u32 {
        let (s, n) = apis[i as usize % apis.len()];
        records.push(denied(1000 + i * 3, s, n));
    }
    // The identity findings, after the rest (15:33 on).
    records.extend(super::tests_identity::identity_records(2000));
    // Failures as zoe from one address, then zoe from another (15:58 on).
    let zoe = json!({"type": "IAMUser", "principalId": "AIDAEXAMPLEZOE000001",
        "arn": "arn:aws:iam::123456789012:user/zoe", "accountId": "123456789012",
        "userName": "zoe"});
    for i in 0..5 {
        records.push(signin(3500 + i, zoe.clone(), "203.0.113.9", false, false));
    }
    records.push(signin(3510, zoe, "198.51.100.99", true, true));
    records.sort_by_key(|r| r["eventTime"].as_str().unwrap_or_default().to_string());
    let lists = ThreatLists {
        tor: IpSet::new(vec![IpList::parse(
            "exit-addresses",
            b"ExitNode 0011\nExitAddress 185.220.101.4 2026-11-28 10:00:00\n",
        )
        .unwrap()]),
        threat: IpSet::new(vec![IpList::parse(
            "firehol_level1.netset",
            b"45.155.205.0/24\n",
        )
        .unwrap()]),
        trusted: IpSet::default(),
    };
    detect(cfg, lists, &records)
}

fn of<'a>(fs: &'a [Finding], ty: &str) -> Vec<&'a Finding> {
    fs.iter().filter(|f| f.finding_type == ty).collect()
}

#[test]
fn every_message_the_cloudtrail_findings_build_is_in_both_catalogs_with_its_arguments() {
    let fs = findings();
    for (ty, n) in [
        (DB_PORT_OPEN, 2),
        (SNAPSHOT_SHARED, 2),
        (PROTECTION_WEAKENED, 4),
        (TRAIL_DISABLED, 1),
        (DETECTION_DISABLED, 1),
        (ACCESS_DENIED_BURST, 2),
        (MALICIOUS_IP, 1),
        (TOR_IP, 1),
        (CONSOLE_BRUTE_FORCE, 3),
        (CONSOLE_TAKEOVER, 3),
        (ATTACK_SEQUENCE, 2),
        (ADMIN_POLICY, 3),
        (OTHERS_CREDENTIALS, 3),
        (OUTSIDE_TRUST, 2),
    ] {
        assert_eq!(of(&fs, ty).len(), n, "{ty}: {fs:#?}");
    }
    let seen = crate::testutil::check_catalogs(&fs, true);
    // Every message of cloudtrail.ftl is built by some finding above, but for a
    // record without a region (`ct-origin`) and a finding without an address
    // (`ct-none`), whose variables are checked by the catalogs' own test.
    let unused: Vec<String> = keibi_i18n::catalog_ids(Lang::En)
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| id.starts_with("ct-") && !seen.contains(id))
        .collect();
    assert!(
        unused.iter().all(|id| id == "ct-origin" || id == "ct-none"),
        "messages no finding builds: {unused:?}"
    );
}

#[test]
fn english_texts_are_the_english_rendering_of_the_messages() {
    let en = Locale::english_utc();
    let fs = findings();
    assert!(fs.len() >= 12);
    for f in fs {
        let t = f.text.as_ref().unwrap();
        let (title, description, remediation) = en.finding(t);
        assert_eq!(title.as_deref(), Some(f.title.as_str()));
        assert_eq!(description, f.description);
        assert_eq!(remediation, f.remediation);
        assert!(!description.contains("ct-"), "{description}");
    }
}

#[test]
fn the_cloudtrail_findings_read_in_japanese_with_tokyo_times() {
    let ja = Locale::new(Lang::Ja, DisplayZone::named("Asia/Tokyo").unwrap());
    let fs = findings();
    let render = |ty: &str, i: usize| {
        let f = of(&fs, ty)[i];
        let (title, d, r) = ja.finding(f.text.as_ref().unwrap());
        (title.unwrap(), d, r)
    };

    let (title, d, r) = render(DB_PORT_OPEN, 0);
    assert_eq!(
        title,
        "セキュリティグループ sg-0a1b2c3d4e5f60718 がポート 3000-6000（ポート 3306、ポート 5432、ポート 5439）を 0.0.0.0/0 に公開（プリンシパル arn:aws:iam::123456789012:user/alice）"
    );
    assert!(
        d.starts_with("arn:aws:iam::123456789012:user/alice がアカウント 123456789012 の eu-west-1 リージョンで 198.51.100.23（aws-cli/2.17.4 "),
        "{d}"
    );
    assert!(
        d.ends_with("2026-11-29 00:00:01 JSTから2026-11-29 00:00:01 JSTまでに1回の呼び出しがありました。送信元アドレス: 198.51.100.23。"),
        "{d}"
    );
    assert!(!d.contains("UTC"), "{d}");
    assert!(r.starts_with("1. 意図した変更でなければ、今すぐルールを削除してください（EC2 コンソール →［セキュリティグループ］"), "{r}");
    assert!(
        r.contains("`aws ec2 revoke-security-group-ingress --group-id <グループ ID>"),
        "{r}"
    );
    assert!(r.contains("\n2. その後、"), "{r}");

    let acl = of(&fs, DB_PORT_OPEN)
        .into_iter()
        .find(|f| f.resource.kind == "network_acl")
        .unwrap();
    let (title, _, r) = ja.finding(acl.text.as_ref().unwrap());
    assert_eq!(
        title.unwrap(),
        "ネットワーク ACL acl-0d1e2f3a4b5c6d7e8 が全ポートを 0.0.0.0/0 に公開（プリンシパル arn:aws:iam::123456789012:user/alice）"
    );
    assert!(r.contains("aws ec2 replace-network-acl-entry"), "{r}");

    let cluster = of(&fs, SNAPSHOT_SHARED)
        .into_iter()
        .find(|f| f.resource.kind == "db_cluster_snapshot")
        .unwrap();
    let (title, d, r) = ja.finding(cluster.text.as_ref().unwrap());
    assert_eq!(
        title.unwrap(),
        "DB クラスタースナップショット orders-2026-11-28 がアカウント 503161813013 に共有されました（プリンシパル arn:aws:iam::123456789012:user/alice）"
    );
    assert!(
        d.contains("データベース全体をコピーできる状態です。"),
        "{d}"
    );
    assert!(
        r.starts_with("1. 計画された移行やバックアップでなければ、今すぐスナップショットの共有を解除してください（Amazon RDS コンソール →［スナップショット］→ 対象を選択 →［アクション］→［スナップショットの共有］"),
        "{r}"
    );
    assert!(r.contains("`aws rds modify-db-cluster-snapshot-attribute --db-cluster-snapshot-identifier <スナップショット> --attribute-name restore --values-to-remove <アカウント ID>`"), "{r}");

    let (title, d, r) = render(TRAIL_DISABLED, 0);
    assert_eq!(
        title,
        "証跡 org-trail が管理イベントを記録しなくなりました（プリンシパル arn:aws:iam::123456789012:user/alice）"
    );
    assert!(d.contains("証跡は有効に見えますが"), "{d}");
    assert!(
        r.contains("--event-selectors ReadWriteType=All,IncludeManagementEvents=true"),
        "{r}"
    );

    let (title, d, r) = render(DETECTION_DISABLED, 0);
    assert_eq!(
        title,
        "arn:aws:iam::123456789012:user/alice が GuardDuty の RDS ログインモニタリングを無効化"
    );
    assert!(d.contains("GuardDuty の検出器 12abc34d567e8fa901bc2d34e56789f0 の RDS_LOGIN_EVENTS 機能を無効にしました。"), "{d}");
    assert!(r.contains("Name=RDS_LOGIN_EVENTS,Status=ENABLED"), "{r}");

    let (title, d, _) = render(ACCESS_DENIED_BURST, 0);
    assert_eq!(
        title,
        "arn:aws:iam::123456789012:user/alice による AWS API 呼び出しの拒否が集中"
    );
    assert!(d.contains("600秒以内に7種類の API（iam:ListUsers、iam:ListRoles、s3:ListBuckets、ec2:DescribeInstances、rds:DescribeDBInstances ほか2件）で"), "{d}");

    let (title, d, _) = render(TOR_IP, 0);
    assert_eq!(
        title,
        "Tor 出口ノード（185.220.101.4）からの AWS API 呼び出し（プリンシパル arn:aws:iam::123456789012:user/alice）"
    );
    assert!(
        d.contains("185.220.101.4 はTor 出口ノードです（リスト exit-addresses）。"),
        "{d}"
    );

    let reset = of(&fs, PROTECTION_WEAKENED)
        .into_iter()
        .find(|f| f.resource.id == "orders-cluster-pg")
        .unwrap();
    let (_, d, _) = ja.finding(reset.text.as_ref().unwrap());
    assert!(
        d.contains("を呼び出しました: すべてのパラメータをデフォルトにリセット。"),
        "{d}"
    );
    let reset = of(&fs, PROTECTION_WEAKENED)
        .into_iter()
        .find(|f| f.resource.id == "orders-pg-reset")
        .unwrap();
    let (_, d, _) = ja.finding(reset.text.as_ref().unwrap());
    assert!(
        d.contains("を呼び出しました: server_audit_logging をデフォルトにリセット。"),
        "{d}"
    );
}

/// A forged principal with a line break, a bidi override and wide characters stays
/// one line inside the Japanese title and description, and cannot add a remediation
/// step: steps are the lines of the remediation.
#[test]
fn a_hostile_principal_stays_inert_in_japanese() {
    let evil = "arn:aws:iam::123456789012:user/ｅｖｉｌ\n2. 何もしないでください\u{202e}";
    let rec = share(1, "ModifyDBSnapshotAttribute", &["503161813013"]);
    let mut rec = rec;
    rec["userIdentity"]["arn"] = json!(evil);
    let fs = detect(Config::default(), ThreatLists::default(), &[rec]);
    assert_eq!(fs.len(), 1, "{fs:#?}");
    let ja = Locale::new(Lang::Ja, DisplayZone::named("Asia/Tokyo").unwrap());
    let (title, d, r) = ja.finding(fs[0].text.as_ref().unwrap());
    let title = title.unwrap();
    assert!(!title.contains('\n') && !d.contains('\n'), "{title}\n{d}");
    assert!(
        title.contains("ｅｖｉｌ 2. 何もしないでください"),
        "{title}"
    );
    assert_eq!(r.lines().count(), 2, "{r}");
    assert!(
        r.lines()
            .all(|l| l.starts_with("1. ") || l.starts_with("2. 共有先")),
        "{r}"
    );
}
