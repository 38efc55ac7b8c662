//! `contain_principal`: an IAM user's access keys deactivated, and the sessions a
//! user or role had before now revoked.
//!
//! * A user (`arn:aws:iam::ACCOUNT:user/NAME`): UpdateAccessKey `Inactive` for the
//!   finding's access key, or for every active key of the user (ListAccessKeys);
//!   `prior` holds each key's status and undo makes active again exactly the keys
//!   keibi deactivated. The user also gets the deny policy below: a stolen key can
//!   mint session credentials (GetSessionToken, GetFederationToken) that outlive
//!   the key's deactivation, and the policy ends those. Long-term keys carry no
//!   `aws:TokenIssueTime`, so the policy never touches the user's own future
//!   sign-ins. A refusal to read or put it (AccessDenied) does not stop or undo
//!   the keys: `done` says the policy was not put, and why.
//! * A role (`…:role/NAME`), or a session of one (`arn:aws:sts::ACCOUNT:
//!   assumed-role/ROLE/SESSION`): the inline policy `keibi-revoke-older-sessions`,
//!   denying every action to sessions whose `aws:TokenIssueTime` is before now,
//!   AWS's own "revoke active sessions". `now` is taken by apply and kept in
//!   `done`.
//!
//! Undo deletes the policy only while its document is still the one `done`
//! records (an earlier document of that name, from `prior`, is put back instead);
//! a document someone changed since is left as it is. keibi never contains the
//! principal its own credentials belong to, nor one of another account.

use keibi_respond::{ExecError, Kind, Target};
use serde_json::{json, Value};

use super::ids::{self, quoted, Principal, Who};
use super::{param, wrong, Aws, IAM_VERSION};
use crate::signed::CallError;
use crate::xml::items;

/// The inline policy keibi puts on a contained user or role.
pub const POLICY_NAME: &str = "keibi-revoke-older-sessions";

/// The deny of every session issued before `not_before` (ISO 8601, UTC).
pub fn revoke_document(not_before: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "KeibiRevokeOlderSessions",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": not_before}}
        }]
    })
}

struct What {
    principal: Principal,
    access_key: Option<String>,
    /// IAM's signing region of the partition.
    region: &'static str,
}

async fn what(aws: &Aws<'_>, t: &Target) -> Result<What, ExecError> {
    let Target::ContainPrincipal {
        principal,
        access_key,
        ..
    } = t
    else {
        return Err(wrong(t, Kind::ContainPrincipal));
    };
    let p = ids::principal(principal).ok_or_else(|| {
        ExecError::Permanent(format!(
            "{} is not the ARN of an IAM user, role or role session",
            quoted(principal)
        ))
    })?;
    if let Some(k) = access_key {
        if !ids::is_access_key(k) {
            return Err(ExecError::Permanent(format!(
                "{} is not an access key id",
                quoted(k)
            )));
        }
    }
    let region = match p.partition.as_str() {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    };
    let caller = aws.same_account(region, Some(&p.account)).await?;
    if ids::principal(&caller.arn).is_some_and(|c| c.who == p.who) {
        return Err(ExecError::Permanent(format!(
            "{} is the principal keibi's own AWS credentials belong to; keibi does not contain itself",
            quoted(principal)
        )));
    }
    Ok(What {
        principal: p,
        access_key: access_key.clone(),
        region,
    })
}

pub(super) async fn prepare(aws: &Aws<'_>, t: &Target) -> Result<Value, ExecError> {
    let w = what(aws, t).await?;
    match &w.principal.who {
        Who::User(user) => {
            let all = keys(aws, &w, user).await?;
            let keys: Vec<Value> = match &w.access_key {
                // A session's key (ASIA…) cannot be deactivated; the policy ends it.
                Some(k) if k.starts_with("ASIA") => Vec::new(),
                Some(k) => {
                    let Some((id, status)) = all.iter().find(|(id, _)| id == k) else {
                        return Err(ExecError::Permanent(format!(
                            "access key {k} is not a key of IAM user {user}"
                        )));
                    };
                    vec![json!({ "id": id, "status": status })]
                }
                None => all
                    .iter()
                    .map(|(id, status)| json!({ "id": id, "status": status }))
                    .collect(),
            };
            // The policy is the lesser half for a user: a refusal to read it does
            // not stop the keys, but without knowing what was there keibi does not
            // put its own (undo could not give the old one back).
            match get_policy(aws, &w, "User", user).await {
                Ok(policy) => Ok(json!({ "user": user, "keys": keys, "policy": policy })),
                Err(e) if e.is_transient() => Err(e),
                Err(e) => Ok(json!({
                    "user": user,
                    "keys": keys,
                    "policy": null,
                    "policy_unread": e.to_string(),
                })),
            }
        }
        Who::Role(role) => {
            aws.call(
                "iam",
                w.region,
                IAM_VERSION,
                "GetRole",
                &[param("RoleName", role)],
                &format!("IAM GetRole {role}"),
            )
            .await?;
            let policy = get_policy(aws, &w, "Role", role).await?;
            Ok(json!({ "role": role, "policy": policy }))
        }
    }
}

pub(super) async fn apply(aws: &Aws<'_>, t: &Target, prior: &Value) -> Result<Value, ExecError> {
    let w = what(aws, t).await?;
    let not_before = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let doc = revoke_document(&not_before);
    match &w.principal.who {
        Who::User(user) => {
            if prior["user"].as_str() != Some(user.as_str()) {
                return Err(record_mismatch());
            }
            let mut deactivated = Vec::new();
            for k in prior["keys"].as_array().into_iter().flatten() {
                let (Some(id), Some("Active")) = (k["id"].as_str(), k["status"].as_str()) else {
                    continue;
                };
                if set_key(aws, &w, user, id, "Inactive").await? {
                    deactivated.push(id.to_string());
                }
            }
            let mut done = json!({ "user": user, "deactivated": deactivated });
            if let Some(why) = prior["policy_unread"].as_str() {
                done["policy_error"] = json!(format!(
                    "not put, the user's policy could not be read: {why}"
                ));
                return Ok(done);
            }
            match put_policy(aws, &w, "User", user, &doc).await {
                Ok(()) => {
                    done["policy"] = doc;
                    done["not_before"] = json!(not_before);
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => done["policy_error"] = json!(e.to_string()),
            }
            Ok(done)
        }
        Who::Role(role) => {
            if prior["role"].as_str() != Some(role.as_str()) {
                return Err(record_mismatch());
            }
            put_policy(aws, &w, "Role", role, &doc).await?;
            Ok(json!({ "role": role, "policy": doc, "not_before": not_before }))
        }
    }
}

pub(super) async fn undo(
    aws: &Aws<'_>,
    t: &Target,
    prior: &Value,
    done: &Value,
) -> Result<(), ExecError> {
    let w = what(aws, t).await?;
    let (kind, name) = match &w.principal.who {
        Who::User(user) => {
            if done["user"].as_str() != Some(user.as_str()) {
                return Err(record_mismatch());
            }
            for id in done["deactivated"].as_array().into_iter().flatten() {
                if let Some(id) = id.as_str().filter(|id| ids::is_access_key(id)) {
                    set_key(aws, &w, user, id, "Active").await?;
                }
            }
            ("User", user)
        }
        Who::Role(role) => {
            if done["role"].as_str() != Some(role.as_str()) {
                return Err(record_mismatch());
            }
            ("Role", role)
        }
    };
    let ours = &done["policy"];
    if !ours.is_object() {
        return Ok(());
    }
    match get_policy(aws, &w, kind, name).await? {
        Value::Null => Ok(()),
        now if &now == ours => match &prior["policy"] {
            before if before.is_object() => put_policy(aws, &w, kind, name, before).await,
            _ => delete_policy(aws, &w, kind, name).await,
        },
        // Changed since keibi put it: not keibi's any more.
        _ => Ok(()),
    }
}

fn record_mismatch() -> ExecError {
    ExecError::Permanent("contain_principal: the journal's record is of another principal".into())
}

/// The user's access keys and their status.
async fn keys(aws: &Aws<'_>, w: &What, user: &str) -> Result<Vec<(String, String)>, ExecError> {
    let v = aws
        .call(
            "iam",
            w.region,
            IAM_VERSION,
            "ListAccessKeys",
            &[param("UserName", user), param("MaxItems", "100")],
            &format!("IAM ListAccessKeys {user}"),
        )
        .await?;
    Ok(items(&v["ListAccessKeysResult"]["AccessKeyMetadata"])
        .iter()
        .filter_map(|k| {
            let id = k["AccessKeyId"]
                .as_str()
                .filter(|id| ids::is_access_key(id))?;
            let status = k["Status"].as_str()?;
            Some((id.to_string(), status.to_string()))
        })
        .collect())
}

/// Sets a key's status; false when the key is gone.
async fn set_key(
    aws: &Aws<'_>,
    w: &What,
    user: &str,
    id: &str,
    status: &str,
) -> Result<bool, ExecError> {
    let params = [
        param("UserName", user),
        param("AccessKeyId", id),
        param("Status", status),
    ];
    match aws
        .try_call("iam", w.region, IAM_VERSION, "UpdateAccessKey", &params)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("NoSuchEntity") => Ok(false),
        Err(e) => Err(super::failed(
            &format!("IAM UpdateAccessKey {id} of {user} to {status}"),
            &e,
        )),
    }
}

/// keibi's inline policy of a user or role as JSON, `Null` when there is none.
async fn get_policy(aws: &Aws<'_>, w: &What, kind: &str, name: &str) -> Result<Value, ExecError> {
    let action = format!("Get{kind}Policy");
    let params = [
        param(&format!("{kind}Name"), name),
        param("PolicyName", POLICY_NAME),
    ];
    let v = match aws
        .try_call("iam", w.region, IAM_VERSION, &action, &params)
        .await
    {
        Ok(v) => v,
        Err(CallError::Service { code, .. }) if code == "NoSuchEntity" => return Ok(Value::Null),
        Err(e) => return Err(super::failed(&format!("IAM {action} {name}"), &e)),
    };
    let raw = v[format!("{action}Result").as_str()]["PolicyDocument"]
        .as_str()
        .unwrap_or("")
        .trim()
        .to_string();
    // IAM answers the document URL-encoded (RFC 3986).
    let text = if raw.starts_with('{') {
        raw
    } else {
        percent_encoding::percent_decode_str(&raw)
            .decode_utf8_lossy()
            .into_owned()
    };
    Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn put_policy(
    aws: &Aws<'_>,
    w: &What,
    kind: &str,
    name: &str,
    doc: &Value,
) -> Result<(), ExecError> {
    let action = format!("Put{kind}Policy");
    aws.call(
        "iam",
        w.region,
        IAM_VERSION,
        &action,
        &[
            param(&format!("{kind}Name"), name),
            param("PolicyName", POLICY_NAME),
            param("PolicyDocument", doc.to_string()),
        ],
        &format!("IAM {action} {POLICY_NAME} on {name}"),
    )
    .await?;
    Ok(())
}

async fn delete_policy(aws: &Aws<'_>, w: &What, kind: &str, name: &str) -> Result<(), ExecError> {
    let action = format!("Delete{kind}Policy");
    let params = [
        param(&format!("{kind}Name"), name),
        param("PolicyName", POLICY_NAME),
    ];
    match aws
        .try_call("iam", w.region, IAM_VERSION, &action, &params)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("NoSuchEntity") => Ok(()),
        Err(e) => Err(super::failed(
            &format!("IAM {action} {POLICY_NAME} on {name}"),
            &e,
        )),
    }
}
