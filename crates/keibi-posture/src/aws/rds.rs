//! Security Hub's RDS controls over instances, clusters, snapshots and parameter
//! groups (RDS.46, the subnet's route, lives in [`crate::aws::reach`]).
//!
//! An Aurora cluster's member instances are judged by their cluster where AWS puts
//! the setting on the cluster (Multi-AZ, deletion protection, log exports, backups,
//! master user name): RDS.5, 8, 9, 11, 25 skip them.

use crate::aws::model::*;
use crate::aws::{engine_of, net, resource, sh, src, Inventory};
use crate::control::Control;
use crate::outcome::Outcome;

pub(crate) const fn aws(
    id: &'static str,
    short: &'static str,
    severity: f64,
    resource_kind: &'static str,
    mitre: &'static [&'static str],
    msg: &'static str,
) -> Control {
    Control {
        id,
        short,
        severity,
        resource_kind,
        mitre,
        aws_control: true,
        msg,
    }
}

const CRITICAL: f64 = 9.0;
const HIGH: f64 = 7.0;
const MEDIUM: f64 = 5.0;
const LOW: f64 = 2.0;

pub const RDS_1: Control = aws(
    "RDS.1",
    "SnapshotPublic",
    CRITICAL,
    "db_snapshot",
    &["T1537", "T1530"],
    "pa-rds-1",
);
pub const RDS_2: Control = aws(
    "RDS.2",
    "PubliclyAccessible",
    CRITICAL,
    "db_instance",
    &["T1190", "T1133"],
    "pa-rds-2",
);
pub const RDS_3: Control = aws(
    "RDS.3",
    "StorageNotEncrypted",
    MEDIUM,
    "db_instance",
    &["T1530"],
    "pa-rds-3",
);
pub const RDS_4: Control = aws(
    "RDS.4",
    "SnapshotNotEncrypted",
    MEDIUM,
    "db_snapshot",
    &["T1530"],
    "pa-rds-4",
);
pub const RDS_5: Control = aws(
    "RDS.5",
    "NotMultiAZ",
    MEDIUM,
    "db_instance",
    &[],
    "pa-rds-5",
);
pub const RDS_6: Control = aws(
    "RDS.6",
    "EnhancedMonitoringOff",
    LOW,
    "db_instance",
    &[],
    "pa-rds-6",
);
pub const RDS_7: Control = aws(
    "RDS.7",
    "ClusterDeletionProtectionOff",
    MEDIUM,
    "db_cluster",
    &["T1485"],
    "pa-rds-7",
);
pub const RDS_8: Control = aws(
    "RDS.8",
    "DeletionProtectionOff",
    LOW,
    "db_instance",
    &["T1485"],
    "pa-rds-8",
);
pub const RDS_9: Control = aws(
    "RDS.9",
    "LogsNotExported",
    MEDIUM,
    "db_instance",
    &["T1562.008"],
    "pa-rds-9",
);
pub const RDS_10: Control = aws(
    "RDS.10",
    "IamAuthOff",
    MEDIUM,
    "db_instance",
    &["T1078.004"],
    "pa-rds-10",
);
pub const RDS_11: Control = aws(
    "RDS.11",
    "BackupsOff",
    MEDIUM,
    "db_instance",
    &["T1490"],
    "pa-rds-11",
);
pub const RDS_13: Control = aws(
    "RDS.13",
    "AutoMinorUpgradeOff",
    HIGH,
    "db_instance",
    &["T1190"],
    "pa-rds-13",
);
pub const RDS_23: Control = aws(
    "RDS.23",
    "DefaultPort",
    LOW,
    "db_instance",
    &["T1046"],
    "pa-rds-23",
);
pub const RDS_24: Control = aws(
    "RDS.24",
    "ClusterDefaultAdmin",
    MEDIUM,
    "db_cluster",
    &["T1110"],
    "pa-rds-24",
);
pub const RDS_25: Control = aws(
    "RDS.25",
    "DefaultAdmin",
    MEDIUM,
    "db_instance",
    &["T1110"],
    "pa-rds-25",
);
pub const RDS_27: Control = aws(
    "RDS.27",
    "ClusterNotEncrypted",
    MEDIUM,
    "db_cluster",
    &["T1530"],
    "pa-rds-27",
);
pub const RDS_34: Control = aws(
    "RDS.34",
    "AuroraMySqlAuditLogsNotExported",
    MEDIUM,
    "db_cluster",
    &["T1562.008"],
    "pa-rds-34",
);
pub const RDS_35: Control = aws(
    "RDS.35",
    "ClusterAutoMinorUpgradeOff",
    MEDIUM,
    "db_cluster",
    &["T1190"],
    "pa-rds-35",
);
pub const RDS_36: Control = aws(
    "RDS.36",
    "PostgresLogsNotExported",
    MEDIUM,
    "db_instance",
    &["T1562.008"],
    "pa-rds-36",
);
pub const RDS_37: Control = aws(
    "RDS.37",
    "AuroraPostgresLogsNotExported",
    MEDIUM,
    "db_cluster",
    &["T1562.008"],
    "pa-rds-37",
);
pub const RDS_38: Control = aws(
    "RDS.38",
    "PostgresNotEncryptedInTransit",
    MEDIUM,
    "db_instance",
    &["T1040"],
    "pa-rds-38",
);
pub const RDS_39: Control = aws(
    "RDS.39",
    "MySqlNotEncryptedInTransit",
    MEDIUM,
    "db_instance",
    &["T1040"],
    "pa-rds-39",
);
pub const RDS_42: Control = aws(
    "RDS.42",
    "MariaDbLogsNotExported",
    MEDIUM,
    "db_instance",
    &["T1562.008"],
    "pa-rds-42",
);
pub const RDS_44: Control = aws(
    "RDS.44",
    "MariaDbNotEncryptedInTransit",
    MEDIUM,
    "db_instance",
    &["T1040"],
    "pa-rds-44",
);
pub const RDS_45: Control = aws(
    "RDS.45",
    "AuroraMySqlAuditOff",
    MEDIUM,
    "db_cluster",
    &["T1562.008"],
    "pa-rds-45",
);

pub fn check(inv: &Inventory, out: &mut Vec<Outcome>) {
    rds_1(inv, out);
    rds_2(inv, out);
    rds_3(inv, out);
    rds_4(inv, out);
    rds_5(inv, out);
    rds_6(inv, out);
    rds_7(inv, out);
    rds_8(inv, out);
    rds_9(inv, out);
    rds_10(inv, out);
    rds_11(inv, out);
    rds_13(inv, out);
    rds_23(inv, out);
    rds_24(inv, out);
    rds_25(inv, out);
    rds_27(inv, out);
    rds_34(inv, out);
    rds_35(inv, out);
    rds_36(inv, out);
    rds_37(inv, out);
    rds_38(inv, out);
    rds_39(inv, out);
    rds_42(inv, out);
    rds_44(inv, out);
    rds_45(inv, out);
}

// ---- helpers ------------------------------------------------------------------

fn instances(inv: &Inventory) -> impl Iterator<Item = &DbInstance> {
    inv.db_instances.iter().flatten()
}

/// Instances that are not an Aurora cluster's members.
fn standalone(inv: &Inventory) -> impl Iterator<Item = &DbInstance> {
    instances(inv).filter(|i| i.cluster.is_none())
}

fn clusters(inv: &Inventory) -> impl Iterator<Item = &DbCluster> {
    inv.db_clusters.iter().flatten()
}

fn judge_instance(inv: &Inventory, c: &'static Control, i: &DbInstance, ok: bool) -> Outcome {
    Outcome::judged(
        c,
        ok,
        resource(inv, "db_instance", &i.id, engine_of(&i.engine)),
    )
    .arg("qid", sh(&i.id))
}

fn judge_cluster(inv: &Inventory, c: &'static Control, k: &DbCluster, ok: bool) -> Outcome {
    Outcome::judged(
        c,
        ok,
        resource(inv, "db_cluster", &k.id, engine_of(&k.engine)),
    )
    .arg("qid", sh(&k.id))
}

const INSTANCES: &str = "rds:DescribeDBInstances";
const CLUSTERS: &str = "rds:DescribeDBClusters";

fn engine_is(engine: &str, name: &str) -> bool {
    engine.trim().eq_ignore_ascii_case(name)
}

fn exports(list: &[String]) -> String {
    if list.is_empty() {
        "-".into()
    } else {
        list.join(",")
    }
}

/// The log types missing from `have`, and the `EnableLogTypes` JSON list of them.
fn missing_logs(have: &[String], want: &[&str]) -> Vec<String> {
    want.iter()
        .filter(|w| !have.iter().any(|h| h.eq_ignore_ascii_case(w)))
        .map(|w| w.to_string())
        .collect()
}

/// The `--cloudwatch-logs-export-configuration` value, quoted for a shell.
fn log_types_json(missing: &[String]) -> String {
    let quoted: Vec<String> = missing.iter().map(|m| format!("\"{m}\"")).collect();
    format!("'{{\"EnableLogTypes\":[{}]}}'", quoted.join(","))
}

// ---- snapshots --------------------------------------------------------------

/// RDS.1: a snapshot whose `restore` attribute names `all` can be restored by
/// any AWS account. Evaluated for each snapshot whose attributes were read; worse
/// (9.5) when the snapshot is not encrypted, since then nothing else stands between
/// anyone and the data.
fn rds_1(inv: &Inventory, out: &mut Vec<Outcome>) {
    for a in inv.db_snapshot_attributes.iter().flatten() {
        let encrypted = inv
            .db_snapshots
            .iter()
            .flatten()
            .find(|s| s.id == a.snapshot)
            .map(|s| s.encrypted);
        let engine = inv
            .db_snapshots
            .iter()
            .flatten()
            .find(|s| s.id == a.snapshot)
            .and_then(|s| s.engine.as_deref())
            .and_then(engine_of);
        let r = resource(inv, "db_snapshot", &a.snapshot, engine);
        out.push(snapshot_public(
            inv,
            r,
            &a.attributes,
            encrypted,
            "rds:DescribeDBSnapshotAttributes",
        ));
    }
    for a in inv.db_cluster_snapshot_attributes.iter().flatten() {
        let snap = inv
            .db_cluster_snapshots
            .iter()
            .flatten()
            .find(|s| s.id == a.snapshot);
        let encrypted = snap.map(|s| s.encrypted);
        let engine = snap.and_then(|s| s.engine.as_deref()).and_then(engine_of);
        let r = resource(inv, "db_cluster_snapshot", &a.snapshot, engine);
        out.push(snapshot_public(
            inv,
            r,
            &a.attributes,
            encrypted,
            "rds:DescribeDBClusterSnapshotAttributes",
        ));
    }
}

fn snapshot_public(
    inv: &Inventory,
    r: keibi_model::Resource,
    attrs: &[SnapshotAttribute],
    encrypted: Option<bool>,
    api: &str,
) -> Outcome {
    let restore: Vec<&str> = attrs
        .iter()
        .filter(|a| a.name.eq_ignore_ascii_case("restore"))
        .flat_map(|a| a.values.iter().map(String::as_str))
        .collect();
    let public = restore.iter().any(|v| v.trim().eq_ignore_ascii_case("all"));
    let qid = sh(&r.id);
    let mut o = Outcome::judged(&RDS_1, !public, r)
        .arg("qid", qid)
        .arg(
            "encrypted",
            match encrypted {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown",
            },
        )
        .observed(
            src(inv, api),
            format!(
                "restore={}",
                if restore.is_empty() {
                    "-".to_string()
                } else {
                    restore.join(",")
                }
            ),
        );
    if public && encrypted == Some(false) {
        o = o
            .severity(9.5)
            .observed(src(inv, "rds:DescribeDBSnapshots"), "Encrypted=false");
    }
    o
}

/// RDS.4: every snapshot and cluster snapshot is encrypted.
fn rds_4(inv: &Inventory, out: &mut Vec<Outcome>) {
    for s in inv.db_snapshots.iter().flatten() {
        let r = resource(
            inv,
            "db_snapshot",
            &s.id,
            s.engine.as_deref().and_then(engine_of),
        );
        out.push(
            Outcome::judged(&RDS_4, s.encrypted, r)
                .arg("qid", sh(&s.id))
                .observed(
                    src(inv, "rds:DescribeDBSnapshots"),
                    format!("Encrypted={}", s.encrypted),
                ),
        );
    }
    for s in inv.db_cluster_snapshots.iter().flatten() {
        let r = resource(
            inv,
            "db_cluster_snapshot",
            &s.id,
            s.engine.as_deref().and_then(engine_of),
        );
        out.push(
            Outcome::judged(&RDS_4, s.encrypted, r)
                .arg("qid", sh(&s.id))
                .observed(
                    src(inv, "rds:DescribeDBClusterSnapshots"),
                    format!("StorageEncrypted={}", s.encrypted),
                ),
        );
    }
}

// ---- instances ----------------------------------------------------------------

/// RDS.2: `PubliclyAccessible` is false.
fn rds_2(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in instances(inv) {
        out.push(
            judge_instance(inv, &RDS_2, i, !i.publicly_accessible).observed(
                src(inv, INSTANCES),
                format!("PubliclyAccessible={}", i.publicly_accessible),
            ),
        );
    }
}

/// RDS.3: storage encrypted at rest.
fn rds_3(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in instances(inv) {
        out.push(
            judge_instance(inv, &RDS_3, i, i.storage_encrypted).observed(
                src(inv, INSTANCES),
                format!("StorageEncrypted={}", i.storage_encrypted),
            ),
        );
    }
}

/// RDS.5: Multi-AZ (Aurora members: the cluster spreads its instances).
fn rds_5(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in standalone(inv) {
        out.push(
            judge_instance(inv, &RDS_5, i, i.multi_az)
                .observed(src(inv, INSTANCES), format!("MultiAZ={}", i.multi_az)),
        );
    }
}

/// RDS.6: enhanced monitoring (`MonitoringInterval` > 0); not evaluated when the
/// interval is not in the data.
fn rds_6(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in instances(inv) {
        let Some(n) = i.monitoring_interval else {
            continue;
        };
        out.push(
            judge_instance(inv, &RDS_6, i, n > 0)
                .observed(src(inv, INSTANCES), format!("MonitoringInterval={n}")),
        );
    }
}

/// RDS.8: deletion protection (Aurora members: RDS.7 on the cluster).
fn rds_8(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in standalone(inv) {
        out.push(
            judge_instance(inv, &RDS_8, i, i.deletion_protection).observed(
                src(inv, INSTANCES),
                format!("DeletionProtection={}", i.deletion_protection),
            ),
        );
    }
}

/// The log types AWS Config's rds-logging-enabled expects per engine.
fn expected_logs(engine: &str) -> Option<&'static [&'static str]> {
    let e = engine.to_ascii_lowercase();
    if e == "postgres" {
        Some(&["postgresql", "upgrade"])
    } else if e == "mysql" || e == "mariadb" {
        Some(&["audit", "error", "general", "slowquery"])
    } else if e.starts_with("oracle") {
        Some(&["alert", "audit", "listener", "trace"])
    } else if e.starts_with("sqlserver") {
        Some(&["agent", "error"])
    } else {
        None
    }
}

/// RDS.9: the engine's logs go to CloudWatch Logs (Aurora: on the cluster).
fn rds_9(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in standalone(inv) {
        let Some(want) = expected_logs(&i.engine) else {
            continue;
        };
        out.push(log_outcome(inv, &RDS_9, i, want));
    }
}

fn log_outcome(inv: &Inventory, c: &'static Control, i: &DbInstance, want: &[&str]) -> Outcome {
    let missing = missing_logs(&i.cloudwatch_logs_exports, want);
    judge_instance(inv, c, i, missing.is_empty())
        .arg("missing", missing.join(", "))
        .arg("logtypes", log_types_json(&missing))
        .observed(
            src(inv, INSTANCES),
            format!(
                "EnabledCloudwatchLogsExports={}",
                exports(&i.cloudwatch_logs_exports)
            ),
        )
}

/// RDS.10: IAM database authentication, on the engines that have it.
fn rds_10(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in instances(inv).filter(|i| engine_of(&i.engine).is_some()) {
        out.push(judge_instance(inv, &RDS_10, i, i.iam_auth).observed(
            src(inv, INSTANCES),
            format!("IAMDatabaseAuthenticationEnabled={}", i.iam_auth),
        ));
    }
}

/// The backup retention Security Hub's RDS.11 wants at least (its default).
pub const MIN_BACKUP_DAYS: i64 = 7;

/// RDS.11: automated backups kept at least 7 days (Aurora members: the cluster
/// keeps the backups).
fn rds_11(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in standalone(inv) {
        let Some(days) = i.backup_retention_period else {
            continue;
        };
        out.push(
            judge_instance(inv, &RDS_11, i, days >= MIN_BACKUP_DAYS)
                .arg("days", days.max(0) as u64)
                .observed(src(inv, INSTANCES), format!("BackupRetentionPeriod={days}")),
        );
    }
}

/// RDS.13: automatic minor version upgrades.
fn rds_13(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in instances(inv) {
        out.push(
            judge_instance(inv, &RDS_13, i, i.auto_minor_version_upgrade).observed(
                src(inv, INSTANCES),
                format!("AutoMinorVersionUpgrade={}", i.auto_minor_version_upgrade),
            ),
        );
    }
}

/// The engine's default port.
pub fn default_port(engine: &str) -> Option<u16> {
    let e = engine.to_ascii_lowercase();
    if e.contains("postgres") {
        Some(5432)
    } else if e.contains("mysql") || e.contains("mariadb") || e == "aurora" {
        Some(3306)
    } else if e.starts_with("oracle") {
        Some(1521)
    } else if e.starts_with("sqlserver") {
        Some(1433)
    } else if e.starts_with("db2") {
        Some(50000)
    } else {
        None
    }
}

/// RDS.23: the instance does not listen on its engine's default port.
fn rds_23(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in instances(inv) {
        let (Some(port), Some(default)) = (net::instance_port(i), default_port(&i.engine)) else {
            continue;
        };
        out.push(
            judge_instance(inv, &RDS_23, i, port != default)
                .arg("port", port.to_string())
                .observed(src(inv, INSTANCES), format!("Endpoint.Port={port}")),
        );
    }
}

/// The master user names RDS.24 and RDS.25 fail on (AWS Config's and Prowler's).
const DEFAULT_ADMINS: &[&str] = &["admin", "postgres"];

fn is_default_admin(u: &str) -> bool {
    DEFAULT_ADMINS
        .iter()
        .any(|d| u.trim().eq_ignore_ascii_case(d))
}

/// RDS.25: a master user name other than `admin` or `postgres` (Aurora members:
/// RDS.24 on the cluster).
fn rds_25(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in standalone(inv) {
        let Some(u) = i.master_username.as_deref() else {
            continue;
        };
        out.push(
            judge_instance(inv, &RDS_25, i, !is_default_admin(u))
                .arg("username", u)
                .observed(src(inv, INSTANCES), format!("MasterUsername={u}")),
        );
    }
}

/// RDS.36: RDS for PostgreSQL exports the `postgresql` log.
fn rds_36(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in instances(inv).filter(|i| engine_is(&i.engine, "postgres")) {
        out.push(log_outcome(inv, &RDS_36, i, &["postgresql"]));
    }
}

/// RDS.42: RDS for MariaDB exports the `audit` and `error` logs.
fn rds_42(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in instances(inv).filter(|i| engine_is(&i.engine, "mariadb")) {
        out.push(log_outcome(inv, &RDS_42, i, &["audit", "error"]));
    }
}

/// The parameter group an instance uses, when its parameters were read; with the
/// group's name either way.
fn instance_group<'a>(
    inv: &'a Inventory,
    i: &'a DbInstance,
) -> Option<(&'a str, Option<&'a ParameterGroup>)> {
    let name = i.parameter_groups.first()?.name.as_str();
    let group = inv
        .db_parameter_groups
        .as_ref()?
        .iter()
        .find(|g| g.name == name);
    Some((name, group))
}

fn truthy(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "on" | "true" => Some(true),
        "0" | "off" | "false" => Some(false),
        _ => None,
    }
}

/// An in-transit control over an instance parameter: passed when it is on, failed
/// when off; not evaluated when the group's parameters were not read or the
/// parameter has no value there (the engine version's default applies, which keibi
/// does not guess).
fn transit(
    inv: &Inventory,
    c: &'static Control,
    i: &DbInstance,
    params: &[&str],
    on: &str,
) -> Option<Outcome> {
    let (name, group) = instance_group(inv, i)?;
    let group = group?;
    let (param, value) = params.iter().find_map(|p| group.get(p).map(|v| (*p, v)))?;
    let ok = truthy(value)?;
    Some(
        judge_instance(inv, c, i, ok)
            .arg("group", name)
            .arg("qgroup", sh(name))
            .arg("param", param)
            .arg("on", on)
            .observed(
                src(inv, "rds:DescribeDBParameters"),
                format!("{name}: {param}={value}"),
            ),
    )
}

/// RDS.38: RDS for PostgreSQL requires TLS (`rds.force_ssl` 1).
fn rds_38(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in instances(inv).filter(|i| engine_is(&i.engine, "postgres")) {
        out.extend(transit(inv, &RDS_38, i, &["rds.force_ssl"], "1"));
    }
}

/// RDS.39: RDS for MySQL requires TLS (`require_secure_transport`).
fn rds_39(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in instances(inv).filter(|i| engine_is(&i.engine, "mysql")) {
        out.extend(transit(
            inv,
            &RDS_39,
            i,
            &["require_secure_transport", "rds.require_secure_transport"],
            "1",
        ));
    }
}

/// MariaDB has `require_secure_transport` from 10.5.
fn mariadb_has_secure_transport(version: Option<&str>) -> bool {
    let Some(v) = version else { return true };
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (10, 5),
        _ => true,
    }
}

/// RDS.44: RDS for MariaDB 10.5 and later requires TLS.
fn rds_44(inv: &Inventory, out: &mut Vec<Outcome>) {
    for i in instances(inv).filter(|i| {
        engine_is(&i.engine, "mariadb") && mariadb_has_secure_transport(i.engine_version.as_deref())
    }) {
        out.extend(transit(
            inv,
            &RDS_44,
            i,
            &["require_secure_transport"],
            "ON",
        ));
    }
}

// ---- clusters --------------------------------------------------------------------

/// RDS.7: cluster deletion protection.
fn rds_7(inv: &Inventory, out: &mut Vec<Outcome>) {
    for k in clusters(inv) {
        out.push(
            judge_cluster(inv, &RDS_7, k, k.deletion_protection).observed(
                src(inv, CLUSTERS),
                format!("DeletionProtection={}", k.deletion_protection),
            ),
        );
    }
}

/// RDS.24: a cluster master user name other than `admin` or `postgres`.
fn rds_24(inv: &Inventory, out: &mut Vec<Outcome>) {
    for k in clusters(inv) {
        let Some(u) = k.master_username.as_deref() else {
            continue;
        };
        out.push(
            judge_cluster(inv, &RDS_24, k, !is_default_admin(u))
                .arg("username", u)
                .observed(src(inv, CLUSTERS), format!("MasterUsername={u}")),
        );
    }
}

/// RDS.27: cluster storage encrypted.
fn rds_27(inv: &Inventory, out: &mut Vec<Outcome>) {
    for k in clusters(inv) {
        out.push(
            judge_cluster(inv, &RDS_27, k, k.storage_encrypted).observed(
                src(inv, CLUSTERS),
                format!("StorageEncrypted={}", k.storage_encrypted),
            ),
        );
    }
}

fn cluster_logs(inv: &Inventory, c: &'static Control, k: &DbCluster, want: &[&str]) -> Outcome {
    let missing = missing_logs(&k.cloudwatch_logs_exports, want);
    judge_cluster(inv, c, k, missing.is_empty())
        .arg("missing", missing.join(", "))
        .arg("logtypes", log_types_json(&missing))
        .observed(
            src(inv, CLUSTERS),
            format!(
                "EnabledCloudwatchLogsExports={}",
                exports(&k.cloudwatch_logs_exports)
            ),
        )
}

/// RDS.34: Aurora MySQL exports its audit log.
fn rds_34(inv: &Inventory, out: &mut Vec<Outcome>) {
    for k in clusters(inv).filter(|k| is_aurora_mysql(&k.engine)) {
        out.push(cluster_logs(inv, &RDS_34, k, &["audit"]));
    }
}

fn is_aurora_mysql(e: &str) -> bool {
    engine_is(e, "aurora-mysql") || engine_is(e, "aurora")
}

/// RDS.37: Aurora PostgreSQL exports its `postgresql` log.
fn rds_37(inv: &Inventory, out: &mut Vec<Outcome>) {
    for k in clusters(inv).filter(|k| engine_is(&k.engine, "aurora-postgresql")) {
        out.push(cluster_logs(inv, &RDS_37, k, &["postgresql"]));
    }
}

/// RDS.35: the cluster upgrades minor versions automatically. A cluster that does
/// not say (Aurora's DescribeDBClusters may leave it out) is judged by its member
/// instances, when all of them are in the data.
fn rds_35(inv: &Inventory, out: &mut Vec<Outcome>) {
    for k in clusters(inv) {
        let (ok, fact) = match k.auto_minor_version_upgrade {
            Some(v) => (v, format!("AutoMinorVersionUpgrade={v}")),
            None => {
                let members: Option<Vec<&DbInstance>> = k
                    .members
                    .iter()
                    .map(|m| instances(inv).find(|i| i.id == m.instance))
                    .collect();
                let Some(members) = members.filter(|m| !m.is_empty()) else {
                    continue;
                };
                let off: Vec<&str> = members
                    .iter()
                    .filter(|i| !i.auto_minor_version_upgrade)
                    .map(|i| i.id.as_str())
                    .collect();
                let fact = if off.is_empty() {
                    "every member instance: AutoMinorVersionUpgrade=true".to_string()
                } else {
                    format!("AutoMinorVersionUpgrade=false on {}", off.join(","))
                };
                (off.is_empty(), fact)
            }
        };
        out.push(judge_cluster(inv, &RDS_35, k, ok).observed(src(inv, CLUSTERS), fact));
    }
}

/// RDS.45: Aurora MySQL's cluster parameter group has `server_audit_logging` 1 and
/// `server_audit_events` set; not evaluated when the group was not read.
fn rds_45(inv: &Inventory, out: &mut Vec<Outcome>) {
    for k in clusters(inv).filter(|k| is_aurora_mysql(&k.engine)) {
        let Some(name) = k.parameter_group.as_deref() else {
            continue;
        };
        let Some(group) = inv
            .db_cluster_parameter_groups
            .iter()
            .flatten()
            .find(|g| g.name == name)
        else {
            continue;
        };
        let logging = group.get("server_audit_logging").unwrap_or("");
        let events = group.get("server_audit_events").unwrap_or("");
        let ok = truthy(logging) == Some(true) && !events.trim().is_empty();
        out.push(
            judge_cluster(inv, &RDS_45, k, ok)
                .arg("group", name)
                .arg("qgroup", sh(name))
                .observed(
                    src(inv, "rds:DescribeDBClusterParameters"),
                    format!(
                        "{name}: server_audit_logging={} server_audit_events={}",
                        if logging.is_empty() { "-" } else { logging },
                        if events.is_empty() { "-" } else { events }
                    ),
                ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_and_admins() {
        assert_eq!(default_port("aurora-postgresql"), Some(5432));
        assert_eq!(default_port("mariadb"), Some(3306));
        assert_eq!(default_port("sqlserver-se"), Some(1433));
        assert_eq!(default_port("neptune"), None);
        assert!(is_default_admin(" Admin"));
        assert!(!is_default_admin("app_owner"));
        assert_eq!(
            log_types_json(&["audit".into(), "error".into()]),
            r#"'{"EnableLogTypes":["audit","error"]}'"#
        );
    }

    #[test]
    fn mariadb_versions() {
        assert!(!mariadb_has_secure_transport(Some("10.4.34")));
        assert!(mariadb_has_secure_transport(Some("10.11.8")));
        assert!(mariadb_has_secure_transport(Some("11.4.3")));
        assert!(mariadb_has_secure_transport(Some("garbage")));
    }

    #[test]
    fn a_parameter_without_a_value_is_not_evaluated() {
        let inv = Inventory {
            db_instances: Some(vec![DbInstance {
                id: "db".into(),
                engine: "postgres".into(),
                parameter_groups: vec![DbParameterGroupStatus {
                    name: "g".into(),
                    apply_status: None,
                }],
                ..DbInstance::default()
            }]),
            db_parameter_groups: Some(vec![ParameterGroup {
                name: "g".into(),
                parameters: vec![Parameter {
                    name: "rds.force_ssl".into(),
                    value: None,
                    source: Some("engine-default".into()),
                }],
            }]),
            ..Inventory::default()
        };
        let mut out = Vec::new();
        rds_38(&inv, &mut out);
        assert!(out.is_empty());
        let mut inv2 = inv.clone();
        inv2.db_parameter_groups = None;
        rds_38(&inv2, &mut out);
        assert!(out.is_empty());
        let mut inv3 = inv.clone();
        inv3.db_parameter_groups.as_mut().unwrap()[0].parameters[0].value = Some("0".into());
        rds_38(&inv3, &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].is_failed());
    }
}
