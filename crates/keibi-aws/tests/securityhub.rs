//! Security Hub's BatchImportFindings against moto server (PyPI): keibi's signed
//! calls import findings in batches of 100, report each finding Security Hub
//! refuses, and a re-import of the same ids updates them in place; boto3's
//! GetFindings reads them back independently of keibi.
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh).

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod common;
mod estate;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use keibi_aws::securityhub::{import, ImportOptions};
use serde_json::{json, Value};

use common::{free_port, python_with, Service};

struct Moto {
    _svc: Service,
    endpoint: String,
    python: std::path::PathBuf,
}

fn moto() -> Option<Moto> {
    let python = python_with("moto")?;
    let port = free_port();
    let mut cmd = Command::new(python.with_file_name("moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let svc = Service::start(cmd, port, "Running on", "moto_server");
    estate::credentials("testing", "testing");
    Some(Moto {
        _svc: svc,
        endpoint: format!("http://127.0.0.1:{port}"),
        python,
    })
}

fn get_findings(m: &Moto, region: &str) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/securityhub_get.py");
    let out = Command::new(&m.python)
        .arg(script)
        .args([&m.endpoint, region])
        .output()
        .expect("run securityhub_get.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("GetFindings JSON")
}

fn asff(account: &str, region: &str, i: usize, workflow: &str) -> Value {
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": format!("keibi-{i:03}"),
        "ProductArn": format!("arn:aws:securityhub:{region}:{account}:product/{account}/default"),
        "GeneratorId": "brute_force",
        "AwsAccountId": account,
        "Types": ["TTPs/Credential Access/BruteForce"],
        "CreatedAt": "2026-12-01T00:00:00.000Z",
        "UpdatedAt": "2026-12-01T00:00:00.000Z",
        "Severity": {"Label": "MEDIUM", "Normalized": 50},
        "Title": format!("finding {i} \"quoted\" 日本語"),
        "Description": "d",
        "Resources": [{"Type": "Other", "Id": "prod-db"}],
        "Workflow": {"Status": workflow},
        "RecordState": "ACTIVE",
    })
}

#[test]
fn imports_in_batches_reports_refusals_and_updates_on_reimport() {
    let Some(m) = moto() else { return };
    let opts = ImportOptions {
        region: Some("ap-northeast-1".into()),
        endpoint_url: Some(m.endpoint.clone()),
        profile: None,
        timeout: Duration::from_secs(20),
        set_workflow: false,
    };
    let report = import(&opts, |account, region| {
        let mut all: Vec<Value> = (0..150).map(|i| asff(account, region, i, "NEW")).collect();
        // No resource: Security Hub refuses this one, and only this one.
        let mut bad = asff(account, region, 999, "NEW");
        bad["Resources"] = json!([]);
        all.insert(120, bad);
        all
    })
    .expect("import");
    assert_eq!(report.account, "123456789012");
    assert_eq!(report.region, "ap-northeast-1");
    assert_eq!(report.calls, 2, "151 findings: two batches");
    assert_eq!(report.imported, 150);
    assert_eq!(report.refused.len(), 1, "{:?}", report.refused);
    assert_eq!(report.refused[0].id, "keibi-999");
    assert_eq!(report.refused[0].code, "InvalidInput");

    let found = get_findings(&m, "ap-northeast-1");
    assert_eq!(found.len(), 150);
    let f7 = found
        .iter()
        .find(|f| f["Id"] == "keibi-007")
        .expect("keibi-007");
    assert_eq!(f7["Title"], "finding 7 \"quoted\" 日本語");
    assert_eq!(f7["Workflow"]["Status"], "NEW");

    // The same ids again, one resolved: updated in place, not added.
    let again = import(&opts, |account, region| {
        (0..150)
            .map(|i| asff(account, region, i, if i == 7 { "RESOLVED" } else { "NEW" }))
            .collect()
    })
    .expect("re-import");
    assert_eq!(again.imported, 150);
    let found = get_findings(&m, "ap-northeast-1");
    assert_eq!(found.len(), 150, "re-import updates, never duplicates");
    let f7 = found.iter().find(|f| f["Id"] == "keibi-007").unwrap();
    assert_eq!(f7["Workflow"]["Status"], "RESOLVED");
}

#[test]
fn an_endpoint_that_is_not_there_fails_the_import() {
    if python_with("moto").is_none() {
        return;
    }
    estate::credentials("testing", "testing");
    let port = free_port();
    let opts = ImportOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(format!("http://127.0.0.1:{port}")),
        profile: None,
        timeout: Duration::from_secs(5),
        set_workflow: false,
    };
    let e = import(&opts, |_, _| vec![json!({"Id": "x"})]).unwrap_err();
    assert!(e.to_string().contains("GetCallerIdentity"), "{e}");
    let bad = ImportOptions {
        region: Some("us east 1".into()),
        ..opts
    };
    assert!(import(&bad, |_, _| vec![])
        .unwrap_err()
        .to_string()
        .contains("not an AWS region"));
}
