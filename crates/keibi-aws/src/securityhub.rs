//! Security Hub's `BatchImportFindings` (restJson1, `POST /findings/import`): keibi's
//! findings, already in ASFF (the binary's `output::asff` makes them), sent in
//! batches of [`BATCH`] by [`crate::signed`] with the account and region they are
//! imported into.
//!
//! The account is the caller's (STS GetCallerIdentity): Security Hub takes a
//! finding of the `default` product only from the account it names. A finding whose
//! id was imported before is updated in place. Throttling is retried by the signed
//! client; each finding Security Hub refuses is reported with its error, and a
//! batch the service refuses as a whole (denied, invalid) counts each of its
//! findings as refused with that error; the other batches are still sent. An
//! endpoint that cannot be reached, or credentials refused, stops the import.
//!
//! Security Hub ignores the `Workflow` of an import that updates a finding; with
//! [`ImportOptions::set_workflow`] the import is followed by `BatchUpdateFindings`
//! (`PATCH /findings/batchupdate`) setting each imported finding's workflow status
//! to the one it was sent with.

use std::time::Duration;

pub mod channel;

use keibi_notify::text::{clip, one_line};
use serde_json::{json, Value};

use crate::signed::{CallError, Client};

/// Findings per `BatchImportFindings` call: the most the API takes.
pub const BATCH: usize = 100;
/// The request body kept under Security Hub's limit (6 MB): a batch that would be
/// larger is split.
pub const MAX_BATCH_BYTES: usize = 5 << 20;
pub(crate) const STS_VERSION: &str = "2011-06-15";

/// Where and how to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The hub's region [default: the credential chain's].
    pub region: Option<String>,
    /// Send the calls here instead of AWS (moto, a VPC endpoint).
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    /// Each call's time-out [0: 30 s].
    pub timeout: Duration,
    /// After the import, set each imported finding's workflow status to the one it
    /// was sent with (`BatchUpdateFindings`, `PATCH /findings/batchupdate`): an
    /// import creates a finding with its `Workflow` but Security Hub ignores the
    /// `Workflow` of an import that updates one.
    pub set_workflow: bool,
}

/// A finding Security Hub did not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub id: String,
    pub code: String,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub account: String,
    pub region: String,
    /// Findings Security Hub took (new or updated).
    pub imported: usize,
    pub refused: Vec<Refused>,
    /// `BatchImportFindings` calls made (retries not counted).
    pub calls: usize,
    /// Findings whose workflow status was set (`set_workflow`).
    pub workflow_set: usize,
    /// Findings whose workflow status could not be set, with the error.
    pub workflow_refused: Vec<Refused>,
    /// `BatchUpdateFindings` calls made.
    pub workflow_calls: usize,
}

/// Why an import could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Failed(String),
}

/// Imports the findings `make` writes for the caller's account and region
/// (`make(account, region)`): their ASFF objects, each with its `Id`.
pub fn import(
    opts: &ImportOptions,
    make: impl FnOnce(&str, &str) -> Vec<Value>,
) -> Result<ImportReport, ImportError> {
    let failed = |s: String| ImportError::Failed(s);
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
        let who = client
            .query("sts", &region, STS_VERSION, "GetCallerIdentity", &[])
            .await
            .map_err(|e| failed(format!("STS GetCallerIdentity: {e}")))?;
        let account = who["GetCallerIdentityResult"]["Account"]
            .as_str()
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| failed("STS GetCallerIdentity gave no account id".into()))?
            .to_string();
        let findings = make(&account, &region);
        let mut report = ImportReport {
            account,
            region: region.clone(),
            ..ImportReport::default()
        };
        for batch in batches(&findings) {
            report.calls += 1;
            let body = json!({ "Findings": batch });
            match client
                .rest_json("securityhub", &region, "POST", "/findings/import", &body)
                .await
            {
                Ok(answer) => take_answer(&answer, batch, &mut report),
                Err(e @ (CallError::Transport(_) | CallError::Credentials(_))) => {
                    return Err(failed(format!("Security Hub BatchImportFindings: {e}")));
                }
                Err(e) => {
                    let (code, message) = match &e {
                        CallError::Service { code, message, .. } => (code.clone(), message.clone()),
                        other => ("Answer".to_string(), other.to_string()),
                    };
                    for f in batch {
                        report.refused.push(Refused {
                            id: id_of(f),
                            code: code.clone(),
                            message: message.clone(),
                        });
                    }
                }
            }
        }
        if opts.set_workflow {
            set_workflows(&client, &region, &findings, &mut report).await?;
        }
        Ok(report)
    })
}

/// `BatchUpdateFindings` for the findings imported: one call per workflow status
/// and [`BATCH`] findings, each naming the findings by `Id` and `ProductArn`.
async fn set_workflows(
    client: &Client,
    region: &str,
    findings: &[Value],
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let refused: std::collections::HashSet<&str> =
        report.refused.iter().map(|r| r.id.as_str()).collect();
    let mut by_status: std::collections::BTreeMap<&str, Vec<Value>> = Default::default();
    for f in findings {
        let (Some(id), Some(arn), Some(status)) = (
            f["Id"].as_str(),
            f["ProductArn"].as_str(),
            f["Workflow"]["Status"].as_str(),
        ) else {
            continue;
        };
        if refused.contains(id) {
            continue;
        }
        by_status
            .entry(status)
            .or_default()
            .push(json!({ "Id": id, "ProductArn": arn }));
    }
    let mut done = Vec::new();
    for (status, ids) in &by_status {
        for chunk in ids.chunks(BATCH) {
            report.workflow_calls += 1;
            let body = json!({ "FindingIdentifiers": chunk, "Workflow": { "Status": status } });
            match client
                .rest_json(
                    "securityhub",
                    region,
                    "PATCH",
                    "/findings/batchupdate",
                    &body,
                )
                .await
            {
                Ok(answer) => {
                    let mut unprocessed = 0;
                    for u in answer["UnprocessedFindings"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .take(chunk.len())
                    {
                        unprocessed += 1;
                        done.push(Refused {
                            id: id_of(&u["FindingIdentifier"]),
                            code: clip(
                                &one_line(u["ErrorCode"].as_str().unwrap_or("Unknown")),
                                100,
                                "…",
                            ),
                            message: clip(
                                &one_line(u["ErrorMessage"].as_str().unwrap_or("")),
                                300,
                                "…",
                            ),
                        });
                    }
                    let processed = answer["ProcessedFindings"]
                        .as_array()
                        .map_or(0, |a| a.len())
                        .min(chunk.len() - unprocessed);
                    report.workflow_set += processed;
                }
                Err(e @ (CallError::Transport(_) | CallError::Credentials(_))) => {
                    return Err(ImportError::Failed(format!(
                        "Security Hub BatchUpdateFindings: {e}"
                    )));
                }
                Err(e) => {
                    let (code, message) = match &e {
                        CallError::Service { code, message, .. } => (code.clone(), message.clone()),
                        other => ("Answer".to_string(), other.to_string()),
                    };
                    for f in chunk {
                        done.push(Refused {
                            id: id_of(f),
                            code: code.clone(),
                            message: message.clone(),
                        });
                    }
                }
            }
        }
    }
    report.workflow_refused = done;
    Ok(())
}

fn id_of(f: &Value) -> String {
    clip(&one_line(f["Id"].as_str().unwrap_or("")), 512, "…")
}

/// The findings in batches of at most [`BATCH`] and [`MAX_BATCH_BYTES`] (a finding
/// larger than that alone is a batch of its own, for Security Hub to refuse).
pub fn batches(findings: &[Value]) -> Vec<&[Value]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0usize;
    for (i, f) in findings.iter().enumerate() {
        let size = f.to_string().len() + 1;
        if i > start && (i - start == BATCH || bytes + size > MAX_BATCH_BYTES) {
            out.push(&findings[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < findings.len() {
        out.push(&findings[start..]);
    }
    out
}

/// Counts a batch's answer: `SuccessCount`, and each of `FailedFindings` with its
/// error. An answer that counts fewer than the batch held (a proxy's, a broken
/// one) leaves the rest refused rather than imported.
pub(crate) fn take_answer(answer: &Value, batch: &[Value], report: &mut ImportReport) {
    let mut refused = 0usize;
    for f in answer["FailedFindings"]
        .as_array()
        .into_iter()
        .flatten()
        .take(batch.len())
    {
        refused += 1;
        report.refused.push(Refused {
            id: clip(&one_line(f["Id"].as_str().unwrap_or("")), 512, "…"),
            code: clip(
                &one_line(f["ErrorCode"].as_str().unwrap_or("Unknown")),
                100,
                "…",
            ),
            message: clip(
                &one_line(f["ErrorMessage"].as_str().unwrap_or("")),
                300,
                "…",
            ),
        });
    }
    let success = answer["SuccessCount"]
        .as_u64()
        .map(|n| (n as usize).min(batch.len() - refused))
        .unwrap_or(0);
    report.imported += success;
    let unaccounted = batch.len() - refused - success;
    if unaccounted > 0 {
        let refused_ids: Vec<&str> = report
            .refused
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>();
        let missing: Vec<Refused> = batch
            .iter()
            .map(id_of)
            .filter(|id| !refused_ids.contains(&id.as_str()))
            .take(unaccounted)
            .map(|id| Refused {
                id,
                code: "NotCounted".into(),
                message: "Security Hub's answer did not count this finding".into(),
            })
            .collect();
        report.refused.extend(missing);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(n: usize, pad: usize) -> Vec<Value> {
        (0..n)
            .map(|i| json!({ "Id": format!("f{i}"), "Pad": "x".repeat(pad) }))
            .collect()
    }

    #[test]
    fn batches_of_a_hundred_and_under_the_size_limit() {
        let f = findings(250, 0);
        let b = batches(&f);
        assert_eq!(
            b.iter().map(|b| b.len()).collect::<Vec<_>>(),
            [100, 100, 50]
        );
        assert!(batches(&[]).is_empty());
        // 1 MiB findings: five to a batch.
        let big = findings(12, 1 << 20);
        let b = batches(&big);
        assert!(
            b.iter().all(|b| b.len() <= 5),
            "{:?}",
            b.iter().map(|b| b.len()).collect::<Vec<_>>()
        );
        assert_eq!(b.iter().map(|b| b.len()).sum::<usize>(), 12);
        // One finding larger than the limit is a batch of its own.
        let huge = findings(2, 6 << 20);
        assert_eq!(batches(&huge).len(), 2);
    }

    #[test]
    fn answers_are_counted_per_finding() {
        let batch = findings(3, 0);
        let mut r = ImportReport::default();
        take_answer(
            &json!({"SuccessCount": 2, "FailedCount": 1, "FailedFindings": [
                {"Id": "f1", "ErrorCode": "InvalidInput", "ErrorMessage": "bad\nline"}]}),
            &batch,
            &mut r,
        );
        assert_eq!(r.imported, 2);
        assert_eq!(
            r.refused,
            [Refused {
                id: "f1".into(),
                code: "InvalidInput".into(),
                message: "bad line".into()
            }]
        );
        // An answer that counts nothing (a proxy's page read as JSON): none imported.
        let mut r = ImportReport::default();
        take_answer(&json!({}), &batch, &mut r);
        assert_eq!(r.imported, 0);
        assert_eq!(r.refused.len(), 3);
        // A count larger than the batch is not believed.
        let mut r = ImportReport::default();
        take_answer(&json!({"SuccessCount": 1000}), &batch, &mut r);
        assert_eq!(r.imported, 3);
        assert!(r.refused.is_empty());
    }
}
