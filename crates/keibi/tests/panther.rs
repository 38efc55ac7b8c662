//! Panther's CloudTrail rule tests for RDS data leaving, secrets and evasion
//! (`tests/data/panther/`, see its README), through the real `keibi scan`: each
//! record Panther alerts on is found with the finding type keibi gives that behaviour,
//! and its near-misses raise nothing, except where keibi judges differently (said per
//! file).

mod common;

use std::path::Path;

use common::keibi_scan;

/// File, and the finding type keibi raises for it (`None`: no finding at all).
const EXPECT: &[(&str, Option<&str>)] = &[
    (
        "aws_ami_modified_for_public_access.00.json",
        Some("Exfiltration:EC2/SnapshotShared"),
    ),
    ("aws_ami_modified_for_public_access.01.json", None),
    ("aws_ami_modified_for_public_access.02.json", None),
    // Panther's rule is about public AMIs only; keibi also reports an AMI shared with
    // an account that is not yours, trusted or in the organization.
    (
        "aws_ami_modified_for_public_access.03.json",
        Some("Exfiltration:EC2/SnapshotShared"),
    ),
    ("aws_ami_modified_for_public_access.04.json", None),
    (
        "aws_ami_modified_for_public_access.05.json",
        Some("Exfiltration:EC2/SnapshotShared"),
    ),
    (
        "aws_dns_logs_deleted.00.json",
        Some("Stealth:IAMUser/DetectionDisabled"),
    ),
    (
        "aws_rds_activity_stream_stopped.00.json",
        Some("Stealth:RDS/ProtectionWeakened"),
    ),
    ("aws_rds_activity_stream_stopped.01.json", None),
    ("aws_rds_activity_stream_stopped.02.json", None),
    (
        "aws_rds_automated_backup_deleted.00.json",
        Some("Stealth:RDS/ProtectionWeakened"),
    ),
    (
        "aws_rds_automated_backup_deleted.01.json",
        Some("Stealth:RDS/ProtectionWeakened"),
    ),
    ("aws_rds_automated_backup_deleted.02.json", None),
    ("aws_rds_automated_backup_deleted.03.json", None),
    // One log file downloaded is what the RDS console's log viewer does: keibi reports
    // bursts of different files (CredentialAccess:RDS/LogFilesDownloaded), not one.
    ("aws_rds_log_file_downloaded.00.json", None),
    ("aws_rds_log_file_downloaded.01.json", None),
    ("aws_rds_log_file_downloaded.02.json", None),
    ("aws_rds_log_file_downloaded.03.json", None),
    // Panther alerts on every DB security group ingress; keibi on 0.0.0.0/0 and ::/0.
    ("aws_rds_security_group_ingress_authorized.00.json", None),
    (
        "aws_rds_security_group_ingress_authorized.01.json",
        Some("Policy:EC2/DatabasePortOpenToInternet"),
    ),
    ("aws_rds_security_group_ingress_authorized.02.json", None),
    ("aws_rds_security_group_ingress_authorized.03.json", None),
    ("aws_rds_security_group_ingress_authorized.04.json", None),
    (
        "aws_rds_snapshot_copied_cross_region.00.json",
        Some("Exfiltration:RDS/SnapshotCopied"),
    ),
    (
        "aws_rds_snapshot_copied_cross_region.01.json",
        Some("Exfiltration:RDS/SnapshotCopied"),
    ),
    ("aws_rds_snapshot_copied_cross_region.02.json", None),
    ("aws_rds_snapshot_copied_cross_region.03.json", None),
    (
        "aws_rds_snapshot_export.00.json",
        Some("Exfiltration:RDS/SnapshotExported"),
    ),
    (
        "aws_rds_snapshot_export.01.json",
        Some("Exfiltration:RDS/SnapshotExported"),
    ),
    ("aws_rds_snapshot_export.02.json", None),
    ("aws_rds_snapshot_export.03.json", None),
    (
        "aws_secretsmanager_retrieve_secrets_batch.00.json",
        Some("CredentialAccess:IAMUser/AnomalousBehavior"),
    ),
    (
        "aws_secretsmanager_retrieve_secrets_catchall.00.json",
        Some("CredentialAccess:IAMUser/AnomalousBehavior"),
    ),
    // Panther's catch-all rule wants only negated tag filters; to keibi any filter read
    // takes every secret it matches without naming them, which an application does not.
    (
        "aws_secretsmanager_retrieve_secrets_catchall.01.json",
        Some("CredentialAccess:IAMUser/AnomalousBehavior"),
    ),
    (
        "aws_secretsmanager_retrieve_secrets_multiregion.00.json",
        Some("CredentialAccess:IAMUser/AnomalousBehavior"),
    ),
    (
        "aws_secretsmanager_retrieve_secrets_multiregion.01.json",
        None,
    ),
    (
        "aws_snapshot_made_public.00.json",
        Some("Exfiltration:EC2/SnapshotShared"),
    ),
    ("aws_snapshot_made_public.01.json", None),
    ("aws_snapshot_made_public.02.json", None),
    (
        "aws_snapshot_made_public.03.json",
        Some("Exfiltration:EC2/SnapshotShared"),
    ),
    // One or two SecureStrings read with decryption is an application starting;
    // eleven at once (.01) is a bulk read.
    ("aws_ssm_decrypt_ssm_params.00.json", None),
    (
        "aws_ssm_decrypt_ssm_params.01.json",
        Some("CredentialAccess:IAMUser/AnomalousBehavior"),
    ),
    ("aws_ssm_decrypt_ssm_params.02.json", None),
    ("aws_ssm_decrypt_ssm_params.03.json", None),
    ("aws_ssm_decrypt_ssm_params.04.json", None),
];

#[test]
fn panther_rds_exfiltration_secrets_and_evasion_tests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/panther");
    let mut listed: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".json"))
                .collect()
        })
        .unwrap_or_default();
    listed.sort();
    let mut expected: Vec<String> = EXPECT.iter().map(|(f, _)| f.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected, "every file is judged here");
    let mut failures = Vec::new();
    for (file, want) in EXPECT {
        let path = dir.join(file);
        let scan = keibi_scan(&[path.as_os_str()]);
        assert!(
            scan.stderr.contains(" 0 unrecognized lines"),
            "{file}: {}",
            scan.stderr
        );
        match want {
            Some(t) if scan.of_type(t).next().is_none() => {
                failures.push(format!("{file}: no {t}; got:\n{}", scan.brief()))
            }
            None if !scan.findings.is_empty() => {
                failures.push(format!("{file}: expected nothing; got:\n{}", scan.brief()))
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
