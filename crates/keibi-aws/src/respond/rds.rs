//! `close_public_access` on RDS.
//!
//! * `db_instance`: ModifyDBInstance `PubliclyAccessible=false`,
//!   `ApplyImmediately=true`. `prior` is the flag as it was; undo sets it back to
//!   true only when it was true (an instance already private stays private).
//! * `db_snapshot`, `db_cluster_snapshot`: the `restore` attribute loses `all` and
//!   every account not in `respond.aws.trusted_accounts`
//!   (Modify(DBCluster)SnapshotAttribute `ValuesToRemove`); `done` lists exactly
//!   what was removed, and undo adds back exactly those that are missing.
//!
//! A `db_cluster` is not accepted: an Aurora cluster has no public flag of its own
//! (its instances do).

use std::collections::BTreeSet;

use keibi_respond::{ExecError, Kind, Target};
use serde_json::{json, Value};

use super::ids::{self, quoted};
use super::{field, flag, param, wrong, Aws, RDS_VERSION};
use crate::xml::items;

/// What the target names.
struct What<'a> {
    kind: &'a str,
    name: String,
    region: String,
}

async fn what<'t>(aws: &Aws<'_>, t: &'t Target) -> Result<What<'t>, ExecError> {
    let Target::ClosePublicAccess {
        resource_kind,
        resource,
        place,
    } = t
    else {
        return Err(wrong(t, Kind::ClosePublicAccess));
    };
    let arn_type = match resource_kind.as_str() {
        "db_instance" => "db",
        "db_snapshot" => "snapshot",
        "db_cluster_snapshot" => "cluster-snapshot",
        other => {
            return Err(ExecError::Permanent(format!(
                "close_public_access of a {} is not done on AWS by keibi",
                quoted(other)
            )))
        }
    };
    let named = ids::rds_resource(resource, arn_type).ok_or_else(|| {
        ExecError::Permanent(format!(
            "{} is not an RDS {} name",
            quoted(resource),
            resource_kind.replace('_', " ")
        ))
    })?;
    let region = aws.region(named.region.as_deref(), Some(place))?;
    let account = named.account.clone().or_else(|| place.account.clone());
    aws.same_account(&region, account.as_deref()).await?;
    Ok(What {
        kind: resource_kind.as_str(),
        name: named.name,
        region,
    })
}

pub(super) async fn prepare(aws: &Aws<'_>, t: &Target) -> Result<Value, ExecError> {
    let w = what(aws, t).await?;
    if w.kind == "db_instance" {
        let public = publicly_accessible(aws, &w).await?;
        return Ok(json!({ "region": w.region, "publicly_accessible": public }));
    }
    let restore = restore_values(aws, &w).await?;
    Ok(json!({ "region": w.region, "restore": restore }))
}

pub(super) async fn apply(aws: &Aws<'_>, t: &Target, prior: &Value) -> Result<Value, ExecError> {
    let w = what(aws, t).await?;
    if w.kind == "db_instance" {
        let was = prior["publicly_accessible"].as_bool().ok_or_else(|| {
            ExecError::Permanent(
                "close_public_access: the journal's record has no publicly_accessible".into(),
            )
        })?;
        // Made public since prepare read it: keibi makes it private now, and undo
        // gives back what was there just before.
        let public_now = publicly_accessible(aws, &w).await?;
        if public_now {
            set_public(aws, &w, false).await?;
        }
        return Ok(json!({ "region": w.region, "made_private": was || public_now }));
    }
    let trusted = &aws.cfg().trusted_accounts;
    let untrusted = |v: &String| v == "all" || !trusted.contains(v);
    let now = restore_values(aws, &w).await?;
    let remove: Vec<String> = now.iter().filter(|v| untrusted(v)).cloned().collect();
    if !remove.is_empty() {
        modify_restore(aws, &w, "ValuesToRemove", &remove).await?;
    }
    // What an earlier try removed before a kill is no longer there to see: the
    // values as they were before anything changed come from `prior`.
    let mut removed: BTreeSet<String> = strings(&prior["restore"])
        .into_iter()
        .filter(|v| untrusted(v))
        .collect();
    removed.extend(remove);
    Ok(json!({ "region": w.region, "removed": removed }))
}

pub(super) async fn undo(
    aws: &Aws<'_>,
    t: &Target,
    _prior: &Value,
    done: &Value,
) -> Result<(), ExecError> {
    let w = what(aws, t).await?;
    field(done, "region", "close_public_access")?;
    if w.kind == "db_instance" {
        if done["made_private"].as_bool() == Some(true) && !publicly_accessible(aws, &w).await? {
            set_public(aws, &w, true).await?;
        }
        return Ok(());
    }
    let now = restore_values(aws, &w).await?;
    let add: Vec<String> = strings(&done["removed"])
        .into_iter()
        .filter(|v| v == "all" || ids::is_account(v))
        .filter(|v| !now.contains(v))
        .collect();
    if !add.is_empty() {
        modify_restore(aws, &w, "ValuesToAdd", &add).await?;
    }
    Ok(())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

async fn publicly_accessible(aws: &Aws<'_>, w: &What<'_>) -> Result<bool, ExecError> {
    let v = aws
        .call(
            "rds",
            &w.region,
            RDS_VERSION,
            "DescribeDBInstances",
            &[param("DBInstanceIdentifier", &w.name)],
            &format!("RDS DescribeDBInstances {}", w.name),
        )
        .await?;
    let dbs = items(&v["DescribeDBInstancesResult"]["DBInstances"]);
    let db = dbs.first().ok_or_else(|| {
        ExecError::Permanent(format!(
            "RDS DescribeDBInstances {}: no such instance",
            w.name
        ))
    })?;
    flag(&db["PubliclyAccessible"]).ok_or_else(|| {
        ExecError::Transient(format!(
            "RDS DescribeDBInstances {}: unreadable answer (no PubliclyAccessible)",
            w.name
        ))
    })
}

async fn set_public(aws: &Aws<'_>, w: &What<'_>, public: bool) -> Result<(), ExecError> {
    aws.call(
        "rds",
        &w.region,
        RDS_VERSION,
        "ModifyDBInstance",
        &[
            param("DBInstanceIdentifier", &w.name),
            param("PubliclyAccessible", public.to_string()),
            param("ApplyImmediately", "true"),
        ],
        &format!(
            "RDS ModifyDBInstance {} PubliclyAccessible={public}",
            w.name
        ),
    )
    .await?;
    Ok(())
}

/// The snapshot's `restore` values (`all`, account ids).
async fn restore_values(aws: &Aws<'_>, w: &What<'_>) -> Result<Vec<String>, ExecError> {
    let (action, id_param, result, list) = if w.kind == "db_snapshot" {
        (
            "DescribeDBSnapshotAttributes",
            "DBSnapshotIdentifier",
            "DBSnapshotAttributesResult",
            "DBSnapshotAttributes",
        )
    } else {
        (
            "DescribeDBClusterSnapshotAttributes",
            "DBClusterSnapshotIdentifier",
            "DBClusterSnapshotAttributesResult",
            "DBClusterSnapshotAttributes",
        )
    };
    let v = aws
        .call(
            "rds",
            &w.region,
            RDS_VERSION,
            action,
            &[param(id_param, &w.name)],
            &format!("RDS {action} {}", w.name),
        )
        .await?;
    let r = &v[format!("{action}Result").as_str()][result];
    if !r.is_object() {
        return Err(ExecError::Transient(format!(
            "RDS {action} {}: unreadable answer",
            w.name
        )));
    }
    let mut out = Vec::new();
    for a in items(&r[list]) {
        if a["AttributeName"].as_str() == Some("restore") {
            for v in items(&a["AttributeValues"]) {
                if let Some(s) = v.as_str().map(str::trim).filter(|s| !s.is_empty()) {
                    out.push(s.to_string());
                }
            }
        }
    }
    Ok(out)
}

async fn modify_restore(
    aws: &Aws<'_>,
    w: &What<'_>,
    how: &str,
    values: &[String],
) -> Result<(), ExecError> {
    let (action, id_param) = if w.kind == "db_snapshot" {
        ("ModifyDBSnapshotAttribute", "DBSnapshotIdentifier")
    } else {
        (
            "ModifyDBClusterSnapshotAttribute",
            "DBClusterSnapshotIdentifier",
        )
    };
    let mut params = vec![param(id_param, &w.name), param("AttributeName", "restore")];
    params.extend(super::list_params(&format!("{how}.AttributeValue"), values));
    aws.call(
        "rds",
        &w.region,
        RDS_VERSION,
        action,
        &params,
        &format!("RDS {action} {} {how} {}", w.name, values.join(",")),
    )
    .await?;
    Ok(())
}
