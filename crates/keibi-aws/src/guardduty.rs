//! GuardDuty's own findings, read in (restJson1 over [`crate::signed`]) and shown
//! beside keibi's: for teams that already pay for GuardDuty RDS Protection.
//!
//! [`read`] lists the region's detectors (`GET /detector`), then each detector's
//! RDS and IAM findings updated since a time (`POST /detector/{id}/findings`,
//! `FindingCriteria` on `resource.resourceType` and `updatedAt`, pages of
//! [`PAGE`] by `NextToken`), then fetches them (`POST /detector/{id}/findings/get`,
//! [`PAGE`] ids a call). GuardDuty's criteria match whole values only (no prefix),
//! so the resource types are asked for (`RDSDBInstance`, `RDSLimitlessDB`,
//! `AccessKey`) and only the types whose resource part is `RDS` or `IAMUser` are
//! kept. Every answer is bounded: at most [`MAX_DETECTORS`] detectors,
//! [`MAX_FINDINGS`] findings in all, each answer [`crate::signed::MAX_BODY`].
//!
//! [`to_finding`] turns one GuardDuty finding into the contract's [`Finding`]
//! (pure): detector `guardduty`, GuardDuty's type, severity and texts as GuardDuty
//! wrote them (attacker-influenced: the outputs escape them like every finding's),
//! the instance or IAM principal, the address and user, first and last seen,
//! count, and an `Observed` evidence `guardduty:<detector>/<finding id>`. The id is
//! a hash of the detector and GuardDuty's finding id, so reading it again updates
//! the same finding. [`join`] links a GuardDuty finding and keibi's findings that saw
//! the same activity (same instance, or same account for IAM findings; same
//! address or user; times overlapping within [`JOIN_SLACK`]) by an `Observed`
//! evidence in each pointing at the other.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use keibi_model::finding::{Actor, Evidence, Finding, Resource, Severity};
use keibi_model::Engine;
use keibi_notify::text::{clip, one_line};
use serde_json::{json, Value};

use crate::signed::{is_region, uri_escape, CallError, Client};

/// Ids a ListFindings page or a GetFindings call takes (the API's maximum).
pub const PAGE: usize = 50;
/// Detectors read per region (GuardDuty has one per account and region).
pub const MAX_DETECTORS: usize = 10;
/// Findings read in all: a bound on memory, whatever the service answers.
pub const MAX_FINDINGS: usize = 5000;
/// The resource types asked for.
pub const RESOURCE_TYPES: [&str; 3] = ["RDSDBInstance", "RDSLimitlessDB", "AccessKey"];
/// How far apart a GuardDuty finding's and keibi's times may be and still be the
/// same activity.
pub const JOIN_SLACK: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// The detector name of imported findings.
pub const DETECTOR: &str = "guardduty";

const MAX_TITLE: usize = 500;
const MAX_DESCRIPTION: usize = 4000;
const MAX_FIELD: usize = 256;

/// Where and what to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The region [default: the credential chain's].
    pub region: Option<String>,
    /// Send the calls here instead of AWS (a test server, a VPC endpoint).
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    /// Each call's time-out [0: 30 s].
    pub timeout: Duration,
    /// Only findings GuardDuty updated at or after this.
    pub since: DateTime<Utc>,
}

/// What a read found.
#[derive(Debug, Clone, Default)]
pub struct ReadReport {
    pub region: String,
    /// The detectors read.
    pub detectors: Vec<String>,
    /// Each GuardDuty finding kept, with the detector it came from.
    pub findings: Vec<(String, Value)>,
    /// Findings GuardDuty answered that were not RDS or IAM ones, or unreadable.
    pub skipped: usize,
    /// More findings matched than [`MAX_FINDINGS`]: the rest were not read.
    pub truncated: bool,
    /// Calls made (retries not counted).
    pub calls: usize,
}

/// Why a read could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Failed(String),
}

/// Reads the region's GuardDuty RDS and IAM findings updated since `opts.since`.
pub fn read(opts: &ReadOptions) -> Result<ReadReport, ReadError> {
    let failed = |s: String| ReadError::Failed(s);
    let rt = crate::config::runtime()
        .map_err(|e| failed(format!("cannot start the AWS client's runtime: {e}")))?;
    rt.block_on(async {
        let (client, region) = crate::config::regional_client(
            opts.region.as_deref(),
            opts.endpoint_url.as_deref(),
            opts.profile.clone(),
            opts.timeout,
        )
        .await
        .map_err(failed)?;
        let mut report = ReadReport {
            region: region.clone(),
            ..ReadReport::default()
        };
        let call = |what: &str, e: CallError| failed(format!("GuardDuty {what}: {e}"));
        report.detectors = detectors(&client, &region, &mut report.calls)
            .await
            .map_err(|e| call("ListDetectors", e))?;
        let since_ms = opts.since.timestamp_millis().max(0);
        for detector in report.detectors.clone() {
            let ids = finding_ids(&client, &region, &detector, since_ms, &mut report)
                .await
                .map_err(|e| call("ListFindings", e))?;
            let mut seen = std::collections::HashSet::new();
            for chunk in ids.chunks(PAGE) {
                report.calls += 1;
                let path = format!("/detector/{}/findings/get", uri_escape(&detector, false));
                let answer = client
                    .rest_json(
                        "guardduty",
                        &region,
                        "POST",
                        &path,
                        &json!({ "findingIds": chunk }),
                    )
                    .await
                    .map_err(|e| call("GetFindings", e))?;
                for f in answer["findings"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .take(PAGE * 4)
                {
                    // Only the ids asked for, each once (a finding answered twice
                    // would be counted twice).
                    let asked = f["id"].as_str().is_some_and(|id| {
                        chunk.iter().any(|c| c == id) && seen.insert(id.to_string())
                    });
                    if asked && is_wanted(f) && report.findings.len() < MAX_FINDINGS {
                        report.findings.push((detector.clone(), f.clone()));
                    } else {
                        report.skipped += 1;
                    }
                }
            }
        }
        Ok(report)
    })
}

/// The region's detector ids (at most [`MAX_DETECTORS`]).
async fn detectors(
    client: &Client,
    region: &str,
    calls: &mut usize,
) -> Result<Vec<String>, CallError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_DETECTORS {
        let mut path = format!("/detector?maxResults={PAGE}");
        if let Some(t) = &token {
            path.push_str("&nextToken=");
            path.push_str(&uri_escape(t, true));
        }
        *calls += 1;
        let v = client.rest_get("guardduty", region, &path).await?;
        for id in v["detectorIds"].as_array().into_iter().flatten() {
            if let Some(id) = id.as_str().filter(|s| is_id(s)) {
                if out.len() < MAX_DETECTORS && !out.iter().any(|o| o == id) {
                    out.push(id.to_string());
                }
            }
        }
        token = next_token(&v);
        if token.is_none() || out.len() >= MAX_DETECTORS {
            break;
        }
    }
    Ok(out)
}

/// The ids of a detector's RDS and IAM findings updated since `since_ms`, page by
/// page, until [`MAX_FINDINGS`] in all.
async fn finding_ids(
    client: &Client,
    region: &str,
    detector: &str,
    since_ms: i64,
    report: &mut ReadReport,
) -> Result<Vec<String>, CallError> {
    let path = format!("/detector/{}/findings", uri_escape(detector, false));
    let mut ids: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    let room = MAX_FINDINGS.saturating_sub(report.findings.len());
    for _ in 0..=(MAX_FINDINGS / PAGE) {
        let mut body = json!({
            "findingCriteria": { "criterion": {
                "resource.resourceType": { "equals": RESOURCE_TYPES },
                "updatedAt": { "greaterThanOrEqual": since_ms },
            }},
            "maxResults": PAGE,
            "sortCriteria": { "attributeName": "updatedAt", "orderBy": "ASC" },
        });
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        report.calls += 1;
        let v = client
            .rest_json("guardduty", region, "POST", &path, &body)
            .await?;
        for id in v["findingIds"].as_array().into_iter().flatten().take(PAGE) {
            if let Some(id) = id.as_str().filter(|s| is_id(s)) {
                if ids.len() >= room {
                    report.truncated = true;
                    return Ok(ids);
                }
                if !ids.iter().any(|o| o == id) {
                    ids.push(id.to_string());
                }
            }
        }
        token = next_token(&v);
        if token.is_none() {
            return Ok(ids);
        }
    }
    report.truncated = true;
    Ok(ids)
}

fn next_token(v: &Value) -> Option<String> {
    v["nextToken"]
        .as_str()
        .filter(|t| !t.is_empty() && t.len() <= 4096)
        .map(str::to_string)
}

/// A detector or finding id as GuardDuty writes them (hex, at most 300 characters):
/// it goes into a path and a source name.
fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 300 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An RDS or IAM finding: the resource part of its type (`CredentialAccess:RDS/…`,
/// `Discovery:RDS/…`, `…:IAMUser/…`).
fn is_wanted(f: &Value) -> bool {
    f["type"].as_str().is_some_and(|t| {
        let resource = t
            .split_once(':')
            .and_then(|(_, rest)| rest.split_once('/'))
            .map(|(r, _)| r);
        matches!(resource, Some("RDS" | "IAMUser"))
    }) && f["id"].as_str().is_some_and(is_id)
}

/// A short text field: one line, clipped.
fn short(v: &Value) -> Option<String> {
    v.as_str()
        .map(|s| clip(&one_line(s.trim()), MAX_FIELD, "…"))
        .filter(|s| !s.is_empty())
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .filter(|s| s.len() <= 64)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn ip(details: &Value) -> Option<IpAddr> {
    ["ipAddressV4", "ipAddressV6"]
        .iter()
        .find_map(|k| details[*k].as_str().filter(|s| s.len() <= 64)?.parse().ok())
}

/// `Aurora PostgreSQL`, `PostgreSQL`, `Aurora MySQL`, `MySQL`, `MariaDB`.
fn engine(name: &str) -> Option<Engine> {
    let n = name.to_ascii_lowercase();
    if n.contains("postgres") {
        Some(Engine::Postgres)
    } else if n.contains("mysql") || n.contains("maria") {
        Some(Engine::Mysql)
    } else {
        None
    }
}

/// The source of a GuardDuty finding's evidence: `guardduty:<detector>/<id>`.
pub fn source_of(detector: &str, id: &str) -> String {
    format!("guardduty:{detector}/{id}")
}

/// One GuardDuty finding as a keibi [`Finding`]; `None` when it lacks an id, a type
/// or a time, or is neither an RDS nor an IAM finding.
pub fn to_finding(detector: &str, f: &Value) -> Option<Finding> {
    if !is_wanted(f) || !is_id(detector) {
        return None;
    }
    let gd_id = f["id"].as_str()?;
    let finding_type = clip(&one_line(f["type"].as_str()?), MAX_FIELD, "");
    let service = &f["service"];
    let updated = time(&f["updatedAt"]);
    let first = time(&service["eventFirstSeen"])
        .or(time(&f["createdAt"]))
        .or(updated)?;
    let last = time(&service["eventLastSeen"]).or(updated).unwrap_or(first);
    let (first, last) = (first.min(last), first.max(last));
    let account = short(&f["accountId"]);
    let region = short(&f["region"]).filter(|r| is_region(r));
    let res = &f["resource"];
    let action = &service["action"];
    let mut actor = Actor::default();
    let resource = if let Some(db) = short(&res["rdsDbInstanceDetails"]["dbInstanceIdentifier"])
        .or_else(|| short(&res["rdsLimitlessDbDetails"]["dbShardGroupIdentifier"]))
    {
        let login = &action["rdsLoginAttemptAction"];
        actor.ip = ip(&login["remoteIpDetails"]);
        actor.user = short(&res["rdsDbUserDetails"]["user"]).or_else(|| {
            login["loginAttributes"]
                .as_array()
                .and_then(|a| a.first())
                .and_then(|a| short(&a["user"]))
        });
        actor.app = short(&res["rdsDbUserDetails"]["application"]);
        Resource {
            kind: "db_instance".into(),
            id: db,
            engine: res["rdsDbInstanceDetails"]["engine"]
                .as_str()
                .and_then(engine),
            account: account.clone(),
            region: region.clone(),
        }
    } else {
        let key = &res["accessKeyDetails"];
        let call = &action["awsApiCallAction"];
        actor.ip = ip(&call["remoteIpDetails"]);
        actor.user = short(&key["userName"]).or_else(|| short(&key["principalId"]));
        actor.app = short(&call["userAgent"]);
        match (short(&key["userType"]).as_deref(), short(&key["userName"])) {
            (Some("IAMUser"), Some(name)) => Resource {
                kind: "iam_user".into(),
                id: name,
                engine: None,
                account: account.clone(),
                region: region.clone(),
            },
            (Some("AssumedRole" | "Role"), Some(name)) => Resource {
                kind: "iam_role".into(),
                id: name,
                engine: None,
                account: account.clone(),
                region: region.clone(),
            },
            _ => Resource {
                kind: "aws_account".into(),
                id: account.clone().unwrap_or_default(),
                engine: None,
                account: account.clone(),
                region: region.clone(),
            },
        }
    };
    let severity = Severity::new(f["severity"].as_f64().unwrap_or(1.0));
    let mut out = Finding::new(
        DETECTOR,
        &finding_type,
        &[detector, gd_id],
        severity,
        resource,
        first,
    );
    out.last_seen = last;
    out.count = service["count"].as_u64().unwrap_or(1).max(1);
    out.actor = actor;
    out.title = clip(f["title"].as_str().unwrap_or(""), MAX_TITLE, "…");
    out.description = clip(
        f["description"].as_str().unwrap_or(""),
        MAX_DESCRIPTION,
        "…",
    );
    out.push_evidence(Evidence::Observed {
        source: source_of(detector, gd_id).into(),
        // Stable text: reading an updated finding again must not add evidence.
        observed: format!("GuardDuty finding {gd_id}"),
    });
    Some(out)
}

/// The source of the evidence that points at a keibi finding: `keibi:<id>`.
pub fn keibi_source(id: &str) -> String {
    format!("keibi:{id}")
}

/// Whether a GuardDuty finding `gd` and keibi's `k` saw the same activity: the same
/// instance (an RDS finding) or the same account (an IAM finding, when keibi knows
/// the account), the same address or user, and times that overlap once widened by
/// [`JOIN_SLACK`].
pub fn same_activity(gd: &Finding, k: &Finding) -> bool {
    if k.detector == DETECTOR {
        return false;
    }
    let place = if gd.resource.kind == "db_instance" {
        k.resource.kind == "db_instance" && k.resource.id == gd.resource.id
    } else {
        match (&gd.resource.account, &k.resource.account) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    };
    if !place {
        return false;
    }
    let ip = gd
        .actor
        .ip
        .is_some_and(|ip| k.actor.ip == Some(ip) || k.actor.ips.contains(&ip));
    let user = gd.actor.user.as_deref().is_some_and(|u| {
        k.actor.user.as_deref() == Some(u) || k.actor.users.iter().any(|x| x == u)
    });
    let overlap =
        k.first_seen <= gd.last_seen + JOIN_SLACK && gd.first_seen - JOIN_SLACK <= k.last_seen;
    (ip || user) && overlap
}

/// Links each GuardDuty finding of `gd` (with the detector it came from) and each of
/// keibi's findings of `keibi` that saw the same activity ([`same_activity`]): an
/// `Observed` evidence in each naming the other. Returns the indices linked
/// (GuardDuty's, keibi's); a link already there is not added again.
pub fn join(gd: &mut [(String, Finding)], keibi: &mut [Finding]) -> Vec<(usize, usize)> {
    let mut links = Vec::new();
    for (i, (detector, g)) in gd.iter_mut().enumerate() {
        for (j, k) in keibi.iter_mut().enumerate() {
            if !same_activity(g, k) {
                continue;
            }
            links.push((i, j));
            let gd_id = g
                .evidence
                .iter()
                .find_map(|e| match e {
                    Evidence::Observed { source, .. } => source
                        .strip_prefix(&format!("guardduty:{detector}/"))
                        .map(str::to_string),
                    _ => None,
                })
                .unwrap_or_default();
            let to_gd = Evidence::Observed {
                source: source_of(detector, &gd_id).into(),
                observed: clip(
                    &one_line(&format!(
                        "GuardDuty saw it too: {} ({})",
                        g.finding_type, g.id
                    )),
                    MAX_FIELD,
                    "…",
                ),
            };
            if !k.evidence.contains(&to_gd) {
                k.push_evidence(to_gd);
            }
            let to_k = Evidence::Observed {
                source: keibi_source(&k.id).into(),
                observed: clip(
                    &one_line(&format!("keibi saw it too: {}", k.finding_type)),
                    MAX_FIELD,
                    "…",
                ),
            };
            if !g.evidence.contains(&to_k) {
                g.push_evidence(to_k);
            }
        }
    }
    links
}

#[cfg(test)]
mod tests;
