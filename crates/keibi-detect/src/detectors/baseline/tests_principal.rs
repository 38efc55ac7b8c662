//! IAM principal baselines on CloudTrail records: a destructive call from a new
//! network or tool is Impact:IAMUser/AnomalousBehavior, the routine is not.

use chrono::{DateTime, Utc};
use keibi_model::{Finding, SeverityLabel};
use serde_json::{json, Value};

use super::principal::principal_key;
use super::tests::at;
use super::*;
use crate::config::Config;
use crate::iplist::ThreatLists;
use crate::testutil::{events, of_type, run};

const TERRAFORM: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) \
                         terraform-provider-aws/5.31.0 aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5";

fn record(
    t: DateTime<Utc>,
    n: usize,
    arn: &str,
    ip: &str,
    ua: &str,
    name: &str,
    params: Value,
) -> Value {
    let source = if name.contains("SecurityGroup") {
        "ec2.amazonaws.com"
    } else {
        "rds.amazonaws.com"
    };
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:deploy",
            "arn": arn,
            "accountId": "123456789012",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::123456789012:role/deployer"}}
        },
        "eventTime": t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "ap-northeast-1",
        "sourceIPAddress": ip,
        "userAgent": ua,
        "requestParameters": params,
        "responseElements": null,
        "requestID": format!("req-{n}"),
        "eventID": format!("ev-{n:05}"),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "123456789012"
    })
}

/// Three weeks of a deploy role working from CI (10.20.0.0/24 behind a NAT at
/// 198.51.100.10) with Terraform: describes, and a ModifyDBInstance a week.
fn routine() -> Vec<Value> {
    let mut r = Vec::new();
    for d in 0..21 {
        let arn = format!("arn:aws:sts::123456789012:assumed-role/deployer/ci-{d}");
        for h in [10, 15] {
            let n = r.len();
            r.push(record(
                at(d, h, 0),
                n,
                &arn,
                "198.51.100.10",
                TERRAFORM,
                "DescribeDBInstances",
                json!({}),
            ));
        }
        if d % 7 == 2 {
            let n = r.len();
            r.push(record(
                at(d, 16, 0),
                n,
                &arn,
                "198.51.100.10",
                TERRAFORM,
                "ModifyDBInstance",
                json!({"dBInstanceIdentifier": "prod-db", "backupRetentionPeriod": 7}),
            ));
        }
    }
    r
}

fn scan(records: Vec<Value>) -> Vec<Finding> {
    let text = serde_json::to_string(&json!({ "Records": records })).unwrap();
    let evs = events("123456789012_CloudTrail_ap-northeast-1.json", "", &text);
    let config = Config::default();
    run(
        vec![Box::new(BaselineDetector::new(&config))],
        config,
        ThreatLists::default(),
        &evs,
    )
}

#[test]
fn routine_calls_raise_nothing() {
    let f = scan(routine());
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn a_delete_from_a_new_network_and_tool_is_explained() {
    let mut r = routine();
    let n = r.len();
    r.push(record(
        at(21, 3, 10),
        n,
        "arn:aws:sts::123456789012:assumed-role/deployer/laptop",
        "203.0.113.7",
        "python-requests/2.31.0",
        "DeleteDBInstance",
        json!({"dBInstanceIdentifier": "prod-db", "skipFinalSnapshot": true}),
    ));
    let f = scan(r);
    let x = of_type(&f, IMPACT_TYPE);
    assert_eq!(x.len(), 1, "{f:#?}");
    let expected = "DeleteDBInstance by arn:aws:sts::123456789012:assumed-role/deployer/laptop \
                    from 203.0.113.7 (usual: 198.51.100.0/24), with python-requests (usual: \
                    Terraform), its first DeleteDBInstance (usual sensitive calls: ModifyDBInstance)";
    assert_eq!(x[0].title, expected);
    assert!(x[0].description.starts_with(expected));
    assert_eq!(x[0].severity.value(), 8.5);
    assert_eq!(x[0].resource.kind, "db_instance");
    assert_eq!(x[0].resource.id, "prod-db");
    assert_eq!(x[0].mitre, vec!["T1078"]);
    let t = x[0]
        .text
        .as_ref()
        .expect("the finding carries its messages");
    let en = keibi_i18n::Locale::english_utc().finding(t);
    assert_eq!(
        (en.0.as_deref(), en.1.as_str(), en.2.as_str()),
        (
            Some(x[0].title.as_str()),
            x[0].description.as_str(),
            x[0].remediation.as_str()
        )
    );
    let tokyo = keibi_i18n::DisplayZone::named("Asia/Tokyo").unwrap();
    let (title, d, r) = keibi_i18n::Locale::new(keibi_i18n::Lang::Ja, tokyo).finding(t);
    assert_eq!(
        title.as_deref(),
        Some(
            "arn:aws:sts::123456789012:assumed-role/deployer/laptop による DeleteDBInstance: \
             送信元 203.0.113.7（通常: 198.51.100.0/24）、クライアント python-requests\
             （通常: Terraform）、初めての DeleteDBInstance（通常の重要な API 呼び出し: \
             ModifyDBInstance）"
        )
    );
    assert!(d.contains("のプロファイルには、"), "{d}");
    assert!(
        d.ends_with("認証情報が第三者の手に渡っている可能性があります。"),
        "{d}"
    );
    assert!(
        r.starts_with("1. arn:aws:sts::123456789012:assumed-role/deployer の所有者に"),
        "{r}"
    );
    assert!(r.contains("\n2. 本人でなければ"), "{r}");
}

#[test]
fn a_known_network_with_a_new_tool_stays_low_or_medium_and_routine_changes_are_silent() {
    let mut r = routine();
    // The usual CI, the usual tool, an exposing change it has made before.
    let n = r.len();
    r.push(record(
        at(21, 16, 0),
        n,
        "arn:aws:sts::123456789012:assumed-role/deployer/ci-21",
        "198.51.100.10",
        "APN/1.0 HashiCorp/1.0 Terraform/1.6.0 terraform-provider-aws/5.40.0",
        "ModifyDBInstance",
        json!({"dBInstanceIdentifier": "prod-db", "backupRetentionPeriod": 14}),
    ));
    let f = scan(r.clone());
    assert!(f.is_empty(), "a new Terraform version is not news: {f:#?}");
    // The usual network, aws-cli by hand.
    let n = r.len();
    r.push(record(
        at(21, 17, 0),
        n,
        "arn:aws:sts::123456789012:assumed-role/deployer/admin",
        "198.51.100.10",
        "aws-cli/2.15.0 md/awscrt#0.19.19 ua/2.0 os/linux#6.1",
        "AuthorizeSecurityGroupIngress",
        json!({"groupId": "sg-0123456789abcdef0"}),
    ));
    let f = scan(r);
    let x = of_type(&f, IMPACT_TYPE);
    assert_eq!(x.len(), 1, "{f:#?}");
    assert!(x[0].severity.label() <= SeverityLabel::Medium);
    assert_eq!(x[0].resource.kind, "security_group");
}

#[test]
fn an_immature_principal_is_silent() {
    let mut r: Vec<Value> = routine().into_iter().take(6).collect();
    let n = r.len();
    r.push(record(
        at(3, 3, 0),
        n,
        "arn:aws:sts::123456789012:assumed-role/deployer/x",
        "203.0.113.7",
        "python-requests/2.31.0",
        "DeleteDBInstance",
        json!({"dBInstanceIdentifier": "prod-db"}),
    ));
    assert!(scan(r).is_empty());
}

#[test]
fn assumed_role_sessions_share_the_role_profile() {
    assert_eq!(
        principal_key("arn:aws:sts::123456789012:assumed-role/deployer/i-0abc"),
        "arn:aws:sts::123456789012:assumed-role/deployer"
    );
    assert_eq!(
        principal_key("arn:aws:iam::123456789012:user/alice"),
        "arn:aws:iam::123456789012:user/alice"
    );
}

/// The code half of the catalog-completeness test for a baseline finding: every
/// message it carries (nested ones too) is in both catalogs, and each uses exactly
/// the arguments the code gives.
pub(super) fn assert_messages_in_both_catalogs(f: &Finding) {
    use keibi_model::{Arg, Msg};
    fn walk<'a>(m: &'a Msg, out: &mut Vec<&'a Msg>) {
        out.push(m);
        for (_, a) in &m.args {
            match a {
                Arg::Msg(inner) => walk(inner, out),
                Arg::Join(items) => items.iter().for_each(|i| walk(i, out)),
                _ => {}
            }
        }
    }
    let t = f.text.as_ref().expect("the finding carries its messages");
    let mut msgs = Vec::new();
    for m in t.title.iter().chain(&t.description).chain(&t.remediation) {
        walk(m, &mut msgs);
    }
    for lang in keibi_i18n::Lang::ALL {
        let cat: std::collections::BTreeMap<String, Vec<String>> =
            keibi_i18n::catalog_ids(lang).into_iter().collect();
        for m in &msgs {
            let used = cat
                .get(&m.id)
                .unwrap_or_else(|| panic!("{} is not in the {lang} catalog", m.id));
            let given: Vec<&str> = {
                let mut g: Vec<&str> = m.args.iter().map(|(n, _)| n.as_str()).collect();
                g.sort();
                g.dedup();
                g
            };
            // hours-range names its zone in Japanese only (keibi-i18n's ONE_SIDED).
            if m.id != "hours-range" {
                assert_eq!(used, &given, "{lang} {}", m.id);
            }
        }
    }
}
