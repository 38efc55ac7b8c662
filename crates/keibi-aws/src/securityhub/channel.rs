//! Security Hub as a channel of the notifier (`type: securityhub` in
//! `notify.channels`): each finding change the daemon's outbox carries to it is
//! imported (`BatchImportFindings`) as ASFF, the mapping `keibi findings export
//! --to securityhub` sends ([`keibi_model::export::asff`]). The finding's id is its
//! keibi id, so each change updates the same Security Hub finding.
//!
//! The workflow is mirrored by the record state: a new finding is created `NEW`
//! and `ACTIVE`; a resolution imports it `ARCHIVED`, which Security Hub resolves
//! (a NEW or NOTIFIED finding that becomes ARCHIVED is RESOLVED), and a reopening
//! `ACTIVE` again, which makes a RESOLVED finding NEW. Security Hub ignores the
//! `Workflow` of an import that updates a finding, so with `set_workflow` a
//! resolution or a reopening is followed by `BatchUpdateFindings` setting
//! `RESOLVED` or `NEW` outright (a finding people suppressed there included). A
//! severity raised or a finding still going keeps the workflow people set.
//!
//! The account is the caller's (STS GetCallerIdentity, asked once, of the
//! assumed role's account when `role_arn` is set). Failures follow the channel
//! rules: throttling, 5xx, a connection that failed, credentials not available and
//! a workflow update not processed are transient (the notifier retries with
//! backoff, the import being an idempotent update); a finding Security Hub refuses
//! (`InvalidInput`, `AccessDenied`) is permanent.

use std::sync::Mutex;

use keibi_model::export::asff::{self, Target};
use keibi_notify::channels::{BuildError, ChannelSpec, SecurityHubSpec, TIMEOUT};
use keibi_notify::text::{clip, one_line};
use keibi_notify::{Channel, Notice, NoticeKind, Outgoing, SendError, Sent};
use serde_json::{json, Value};

use super::{take_answer, ImportReport, STS_VERSION};
use crate::signed::{CallError, Client};

/// A built Security Hub channel: its signed client, region and runtime.
pub struct HubChannel {
    name: String,
    region: String,
    client: Client,
    rt: tokio::runtime::Runtime,
    /// The caller's account, once STS said it.
    account: Mutex<Option<String>>,
    set_workflow: bool,
}

/// Builds a Security Hub channel: the `MakeSecurityHub` hook of
/// `keibi_notify::channels::build_with`.
pub fn build(spec: &ChannelSpec, hub: &SecurityHubSpec) -> Result<Box<dyn Channel>, BuildError> {
    Ok(Box::new(HubChannel::new(spec, hub)?))
}

/// The store's workflow status a notice's finding has after its change.
fn status_of(kind: &NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Resolved { .. } => "resolved",
        _ => "new",
    }
}

/// The workflow status to set after the import, for the changes that move it.
fn workflow_to_set(kind: &NoticeKind) -> Option<&'static str> {
    match kind {
        NoticeKind::Resolved { .. } => Some("RESOLVED"),
        NoticeKind::Reopened => Some("NEW"),
        _ => None,
    }
}

/// The ASFF finding a notice imports into `target` (`None`: not a finding's
/// change, as a test or an action of the response journal).
pub fn finding_of(n: &Notice, target: &Target) -> Option<Value> {
    match n.kind {
        NoticeKind::Test | NoticeKind::Action { .. } => None,
        _ => Some(asff::finding(&n.finding, status_of(&n.kind), n.at, target)),
    }
}

fn transient(reason: String) -> SendError {
    SendError::Transient {
        reason,
        retry_after: None,
    }
}

/// A failed call as the notifier's failure: transient when trying again may help
/// (and when no credentials could be had: an instance role not yet reachable).
fn failure(what: &str, e: &CallError) -> SendError {
    let reason = format!("Security Hub {what}: {e}");
    if e.is_transient() || matches!(e, CallError::Credentials(_)) {
        transient(reason)
    } else {
        SendError::Permanent { reason }
    }
}

impl HubChannel {
    /// The region is `region` when set, else the credential chain's; the
    /// endpoint `endpoint_url` when set (moto, a VPC endpoint); the credentials
    /// the chain's, or `role_arn`'s assumed with them.
    pub fn new(spec: &ChannelSpec, hub: &SecurityHubSpec) -> Result<Self, BuildError> {
        let invalid = |reason: String| BuildError::Invalid {
            name: spec.name.clone(),
            reason,
        };
        if let Some((reason, key)) = hub.problems().into_iter().next() {
            return Err(invalid(format!("{key}: {reason}")));
        }
        let rt = crate::config::runtime()
            .map_err(|e| invalid(format!("cannot start the AWS client's runtime: {e}")))?;
        let conf = rt.block_on(crate::config::load(
            hub.region.clone(),
            hub.endpoint_url.clone(),
            TIMEOUT,
        ));
        let region = match hub.region.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => conf.region().map(|r| r.to_string()).ok_or_else(|| {
                invalid("no region: set region, or AWS_REGION or the profile's region".into())
            })?,
        };
        if !crate::signed::is_region(&region) {
            return Err(invalid(format!(
                "{:?} is not an AWS region",
                clip(&one_line(&region), 100, "…")
            )));
        }
        let chain = conf
            .credentials_provider()
            .ok_or_else(|| invalid("no AWS credentials provider".into()))?;
        let endpoint = hub
            .endpoint_url
            .clone()
            .or_else(|| conf.endpoint_url().map(str::to_string));
        let creds = crate::config::signing_credentials(
            chain,
            hub.role_arn.as_deref(),
            hub.external_id.as_deref(),
            Some(&region),
            endpoint.as_deref(),
            TIMEOUT,
        )
        .map_err(|e| invalid(e.to_string()))?;
        let client =
            Client::new(creds, endpoint.as_deref(), TIMEOUT).map_err(|e| invalid(e.to_string()))?;
        Ok(HubChannel {
            name: spec.name.clone(),
            region,
            client,
            rt,
            account: Mutex::new(None),
            set_workflow: hub.set_workflow,
        })
    }

    /// The caller's account (STS GetCallerIdentity once, then remembered).
    async fn account(&self) -> Result<String, SendError> {
        if let Some(a) = self.account.lock().ok().and_then(|g| g.clone()) {
            return Ok(a);
        }
        let who = self
            .client
            .query("sts", &self.region, STS_VERSION, "GetCallerIdentity", &[])
            .await
            .map_err(|e| failure("(STS GetCallerIdentity)", &e))?;
        let account = who["GetCallerIdentityResult"]["Account"]
            .as_str()
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| transient("STS GetCallerIdentity gave no account id".into()))?
            .to_string();
        if let Ok(mut g) = self.account.lock() {
            *g = Some(account.clone());
        }
        Ok(account)
    }

    async fn import(&self, notices: &[&Notice]) -> Result<Sent, SendError> {
        let account = self.account().await?;
        let target = Target {
            account: account.clone(),
            region: self.region.clone(),
        };
        let mut findings = Vec::new();
        let mut workflow: Vec<(Value, &'static str)> = Vec::new();
        for n in notices {
            let Some(f) = finding_of(n, &target) else {
                continue;
            };
            if let Some(w) = workflow_to_set(&n.kind).filter(|_| self.set_workflow) {
                workflow.push((json!({ "Id": f["Id"], "ProductArn": f["ProductArn"] }), w));
            }
            findings.push(f);
        }
        if findings.is_empty() {
            return Ok(Sent {
                detail: "nothing to import".into(),
            });
        }
        let mut report = ImportReport::default();
        for batch in super::batches(&findings) {
            let answer = self
                .client
                .rest_json(
                    "securityhub",
                    &self.region,
                    "POST",
                    "/findings/import",
                    &json!({ "Findings": batch }),
                )
                .await
                .map_err(|e| failure("BatchImportFindings", &e))?;
            take_answer(&answer, batch, &mut report);
        }
        if let Some(r) = report.refused.first() {
            let reason = format!(
                "Security Hub refused finding {}: {} {}",
                r.id, r.code, r.message
            );
            // An answer that did not count the finding may be a proxy's or a
            // moment's: tried again. A refusal with its reason is for good.
            return Err(if r.code == "NotCounted" {
                transient(reason)
            } else {
                SendError::Permanent { reason }
            });
        }
        let mut set = 0usize;
        for status in ["RESOLVED", "NEW"] {
            let ids: Vec<&Value> = workflow
                .iter()
                .filter(|(_, w)| *w == status)
                .map(|(id, _)| id)
                .collect();
            for chunk in ids.chunks(super::BATCH) {
                let answer = self
                    .client
                    .rest_json(
                        "securityhub",
                        &self.region,
                        "PATCH",
                        "/findings/batchupdate",
                        &json!({ "FindingIdentifiers": chunk, "Workflow": { "Status": status } }),
                    )
                    .await
                    .map_err(|e| failure("BatchUpdateFindings", &e))?;
                if let Some(u) = answer["UnprocessedFindings"]
                    .as_array()
                    .and_then(|a| a.first())
                {
                    return Err(transient(format!(
                        "Security Hub did not set the workflow status {status}: {} {}",
                        clip(
                            &one_line(u["ErrorCode"].as_str().unwrap_or("Unknown")),
                            100,
                            "…"
                        ),
                        clip(
                            &one_line(u["ErrorMessage"].as_str().unwrap_or("")),
                            300,
                            "…"
                        ),
                    )));
                }
                set += chunk.len();
            }
        }
        Ok(Sent {
            detail: if set > 0 {
                format!(
                    "{} imported into {account}/{}, {set} workflow status(es) set",
                    report.imported, self.region
                )
            } else {
                format!(
                    "{} imported into {account}/{}",
                    report.imported, self.region
                )
            },
        })
    }
}

impl Channel for HubChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        let notices: Vec<&Notice> = match msg {
            Outgoing::One(n) => vec![n],
            // The notifier sends an export channel's deliveries one by one; a
            // digest that reaches it anyway has each listed notice imported.
            Outgoing::Digest(d) => d.held.iter().collect(),
            Outgoing::Summary(_) => {
                return Err(SendError::Permanent {
                    reason: "the daily summary is not imported into Security Hub".into(),
                })
            }
        };
        if let Outgoing::One(n) = msg {
            if matches!(n.kind, NoticeKind::Test) {
                // `keibi notify test`: the credentials work and name an account;
                // no test finding goes into Security Hub.
                let account = self.rt.block_on(self.account())?;
                return Ok(Sent {
                    detail: format!(
                        "credentials of account {account} in {}; nothing imported",
                        self.region
                    ),
                });
            }
        }
        self.rt.block_on(self.import(&notices))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use keibi_model::{Finding, Resource, Severity};

    fn notice(kind: NoticeKind) -> Notice {
        let at: DateTime<Utc> = "2026-12-06T03:10:00Z".parse().unwrap();
        Notice {
            key: "k".into(),
            kind,
            finding: Finding::new(
                "login",
                "CredentialAccess:RDS/BruteForce",
                &["a"],
                Severity::new(7.5),
                Resource {
                    kind: "db_instance".into(),
                    id: "prod-db".into(),
                    ..Default::default()
                },
                at,
            ),
            at,
        }
    }

    #[test]
    fn changes_map_to_the_exports_asff_and_the_workflow_they_set() {
        let t = Target {
            account: "123456789012".into(),
            region: "ap-northeast-1".into(),
        };
        let new = finding_of(&notice(NoticeKind::New), &t).unwrap();
        assert_eq!(new["Workflow"]["Status"], "NEW");
        assert_eq!(new["RecordState"], "ACTIVE");
        assert_eq!(new["AwsAccountId"], "123456789012");
        let resolved = notice(NoticeKind::Resolved {
            by: Some("alice".into()),
        });
        let f = finding_of(&resolved, &t).unwrap();
        assert_eq!(f["Workflow"]["Status"], "RESOLVED");
        assert_eq!(f["RecordState"], "ARCHIVED");
        assert_eq!(f["Id"], new["Id"]);
        assert_eq!(workflow_to_set(&resolved.kind), Some("RESOLVED"));
        assert_eq!(workflow_to_set(&NoticeKind::Reopened), Some("NEW"));
        assert_eq!(workflow_to_set(&NoticeKind::New), None);
        assert!(finding_of(&notice(NoticeKind::Test), &t).is_none());
    }

    #[test]
    fn failures_follow_the_channel_rules() {
        let throttled = CallError::Service {
            status: 400,
            code: "ThrottlingException".into(),
            message: "slow down".into(),
        };
        assert!(failure("x", &throttled).is_transient());
        assert!(failure("x", &CallError::Transport("reset".into())).is_transient());
        assert!(failure("x", &CallError::Credentials("no IMDS".into())).is_transient());
        let denied = CallError::Service {
            status: 403,
            code: "AccessDeniedException".into(),
            message: "no".into(),
        };
        assert!(!failure("x", &denied).is_transient());
    }

    #[test]
    fn bad_settings_are_refused_at_build() {
        let spec = |hub: SecurityHubSpec| ChannelSpec {
            name: "hub".into(),
            lang: None,
            rate_limit: 0,
            kind: keibi_notify::channels::ChannelKind::Securityhub(hub.clone()),
        };
        let hub = SecurityHubSpec {
            region: Some("ap-northeast-1".into()),
            role_arn: Some("arn:aws:iam::123456789012:user/alice".into()),
            external_id: None,
            endpoint_url: None,
            set_workflow: false,
        };
        let e = HubChannel::new(&spec(hub.clone()), &hub).err().unwrap();
        assert!(e.to_string().contains("role_arn"), "{e}");
        let hub = SecurityHubSpec {
            region: Some("Tokyo\u{1b}[31m".into()),
            role_arn: None,
            external_id: None,
            endpoint_url: None,
            set_workflow: false,
        };
        let e = HubChannel::new(&spec(hub.clone()), &hub).err().unwrap();
        assert!(
            e.to_string().contains("region") && !e.to_string().contains('\u{1b}'),
            "{e}"
        );
    }
}
