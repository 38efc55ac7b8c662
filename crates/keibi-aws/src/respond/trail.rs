//! `restore_logging` on a CloudTrail trail: StartLogging (by the name or ARN the
//! finding gives, in the ARN's region when it is one). `prior` says whether it was
//! logging; there is no undo (turning a trail off again is never what anyone
//! wants).

use keibi_respond::{ExecError, Kind, Target};
use serde_json::{json, Value};

use super::ids::{self, quoted};
use super::{wrong, Aws};

struct What {
    name: String,
    region: String,
}

async fn what(aws: &Aws<'_>, t: &Target) -> Result<What, ExecError> {
    let Target::RestoreLogging {
        resource_kind,
        resource,
        place,
    } = t
    else {
        return Err(wrong(t, Kind::RestoreLogging));
    };
    if resource_kind != "trail" {
        return Err(ExecError::Permanent(format!(
            "restore_logging of a {} is not done by the CloudTrail executor",
            quoted(resource_kind)
        )));
    }
    let named = ids::trail(resource).ok_or_else(|| {
        ExecError::Permanent(format!(
            "{} is not a CloudTrail trail name or ARN",
            quoted(resource)
        ))
    })?;
    let region = aws.region(named.region.as_deref(), Some(place))?;
    let account = named.account.clone().or_else(|| place.account.clone());
    aws.same_account(&region, account.as_deref()).await?;
    Ok(What {
        name: named.name,
        region,
    })
}

async fn is_logging(aws: &Aws<'_>, w: &What) -> Result<bool, ExecError> {
    let v = aws
        .trail_call(&w.region, "GetTrailStatus", &json!({ "Name": w.name }))
        .await
        .map_err(|e| super::failed(&format!("CloudTrail GetTrailStatus {}", w.name), &e))?;
    v["IsLogging"].as_bool().ok_or_else(|| {
        ExecError::Transient(format!(
            "CloudTrail GetTrailStatus {}: unreadable answer (no IsLogging)",
            w.name
        ))
    })
}

pub(super) async fn prepare(aws: &Aws<'_>, t: &Target) -> Result<Value, ExecError> {
    let w = what(aws, t).await?;
    let logging = is_logging(aws, &w).await?;
    Ok(json!({ "region": w.region, "trail": w.name, "is_logging": logging }))
}

pub(super) async fn apply(aws: &Aws<'_>, t: &Target, _prior: &Value) -> Result<Value, ExecError> {
    let w = what(aws, t).await?;
    let started = !is_logging(aws, &w).await?;
    if started {
        aws.trail_call(&w.region, "StartLogging", &json!({ "Name": w.name }))
            .await
            .map_err(|e| super::failed(&format!("CloudTrail StartLogging {}", w.name), &e))?;
    }
    Ok(json!({ "region": w.region, "trail": w.name, "started": started }))
}
