//! The AWS executors of automated response (`docs/response.md`): one
//! [`keibi_respond::Executor`] per AWS service keibi acts through, all sharing one
//! signed client ([`crate::signed`]) and one small current-thread runtime that the
//! responder's thread blocks on.
//!
//! * `aws-nacl` (`respond/nacl.rs`): `block_address`, a deny entry in the network
//!   ACLs of the database's subnets; and (`respond/nacl_ingress.rs`)
//!   `revoke_ingress` of a network ACL, its allow entries that open the port.
//! * `aws-rds` (`respond/rds.rs`): `close_public_access` of an instance
//!   (PubliclyAccessible) or a snapshot (its `restore` attribute).
//! * `aws-security-group` (`respond/sg.rs`): `revoke_ingress`, the security-group
//!   rules that open a port to a range.
//! * `aws-iam` (`respond/iam.rs`): `contain_principal`, access keys deactivated and
//!   older sessions revoked.
//! * `aws-cloudtrail` (`respond/trail.rs`): `restore_logging`, StartLogging.
//!
//! Every identifier comes from a finding and is checked first ([`ids`]); a target
//! that names an account is acted on only with credentials of that account; every
//! call is bounded by the time-out and every method by [`RespondConfig::deadline`].
//! Errors: throttling, AWS's 5xx and network trouble are
//! [`ExecError::Transient`]; a refusal, a missing resource or a bad value is
//! [`ExecError::Permanent`], in English, naming the resource and never the
//! credentials.

mod iam;
pub mod ids;
mod nacl;
mod nacl_ingress;
mod rds;
mod sg;
mod trail;

use std::future::Future;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keibi_notify::text::{clip, one_line};
use keibi_respond::{ExecError, Executor, Kind, Place, Request, Target};
use serde_json::Value;

use crate::signed::{CallError, Client};
use ids::quoted;

const EC2_VERSION: &str = "2016-11-15";
const RDS_VERSION: &str = "2014-10-31";
const IAM_VERSION: &str = "2010-05-08";
const STS_VERSION: &str = "2011-06-15";
const CLOUDTRAIL_TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";

/// How the AWS executors reach AWS (the binary fills it from `respond.aws`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RespondConfig {
    /// The region of targets that name none; unset: the credential chain's.
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Every call goes here instead of AWS (moto, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// A role to assume (with the chain's or the profile's credentials) and act
    /// with; unset: the chain's own.
    pub role_arn: Option<String>,
    /// The external id `role_arn`'s trust policy asks for.
    pub external_id: Option<String>,
    /// The network ACL rule numbers keibi may use for its deny entries (1 to 32766);
    /// entries outside are never touched.
    pub nacl_rules: RangeInclusive<u16>,
    /// ACLs to block in when a target names no database instance.
    pub network_acls: Vec<String>,
    /// Accounts a snapshot may stay shared with.
    pub trusted_accounts: Vec<String>,
    /// Bound on each call (each try of it).
    pub timeout: Duration,
    /// Bound on one `prepare`, `apply` or `undo` with all its calls and retries.
    pub deadline: Duration,
}

impl Default for RespondConfig {
    fn default() -> Self {
        RespondConfig {
            region: None,
            profile: None,
            endpoint_url: None,
            role_arn: None,
            external_id: None,
            nacl_rules: 1..=50,
            network_acls: Vec::new(),
            trusted_accounts: Vec::new(),
            timeout: Duration::from_secs(20),
            deadline: Duration::from_secs(120),
        }
    }
}

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RespondError {
    #[error("respond.aws: {0}")]
    Invalid(String),
}

/// The five AWS executors, sharing one client: `aws-nacl`, `aws-rds`,
/// `aws-security-group`, `aws-iam`, `aws-cloudtrail`. Everything in `cfg` is
/// checked here; credentials are read when the first action runs.
///
/// Build them, call them and drop them on plain threads (the responder's), never
/// inside a tokio runtime: each method blocks on the executors' own current-thread
/// runtime.
pub fn executors(cfg: &RespondConfig) -> Result<Vec<Box<dyn Executor>>, RespondError> {
    let shared = Arc::new(Shared::new(cfg)?);
    Ok([
        Service::Nacl,
        Service::Rds,
        Service::SecurityGroup,
        Service::Iam,
        Service::Trail,
    ]
    .into_iter()
    .map(|service| {
        Box::new(AwsExecutor {
            service,
            shared: shared.clone(),
        }) as Box<dyn Executor>
    })
    .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Nacl,
    Rds,
    SecurityGroup,
    Iam,
    Trail,
}

/// One AWS executor (see [`executors`]).
pub struct AwsExecutor {
    service: Service,
    shared: Arc<Shared>,
}

impl Executor for AwsExecutor {
    fn name(&self) -> &str {
        match self.service {
            Service::Nacl => "aws-nacl",
            Service::Rds => "aws-rds",
            Service::SecurityGroup => "aws-security-group",
            Service::Iam => "aws-iam",
            Service::Trail => "aws-cloudtrail",
        }
    }

    fn accepts(&self, target: &Target) -> bool {
        match (self.service, target) {
            (Service::Nacl, Target::BlockAddress { instance, .. }) => {
                instance.is_some() || !self.shared.cfg.network_acls.is_empty()
            }
            (Service::Nacl, Target::RevokeIngress { resource_kind, .. }) => {
                resource_kind == "network_acl"
            }
            (Service::Rds, Target::ClosePublicAccess { resource_kind, .. }) => matches!(
                resource_kind.as_str(),
                "db_instance" | "db_snapshot" | "db_cluster_snapshot"
            ),
            (Service::SecurityGroup, Target::RevokeIngress { resource_kind, .. }) => {
                resource_kind == "security_group"
            }
            // The root user, federated users and groups cannot be contained this way.
            (Service::Iam, Target::ContainPrincipal { principal, .. }) => {
                principal.starts_with("arn:")
                    && [":user/", ":role/", ":assumed-role/"]
                        .iter()
                        .any(|k| principal.contains(k))
            }
            (Service::Trail, Target::RestoreLogging { resource_kind, .. }) => {
                resource_kind == "trail"
            }
            _ => false,
        }
    }

    fn prepare(&mut self, req: Request<'_>) -> Result<Value, ExecError> {
        let aws = Aws {
            shared: &self.shared,
        };
        let t = &req.action.target;
        self.shared.run(async {
            match self.service {
                Service::Nacl if is_revoke(t) => nacl_ingress::prepare(&aws, t).await,
                Service::Nacl => nacl::prepare(&aws, t).await,
                Service::Rds => rds::prepare(&aws, t).await,
                Service::SecurityGroup => sg::prepare(&aws, t).await,
                Service::Iam => iam::prepare(&aws, t).await,
                Service::Trail => trail::prepare(&aws, t).await,
            }
        })
    }

    fn apply(&mut self, req: Request<'_>, prior: &Value) -> Result<Value, ExecError> {
        let aws = Aws {
            shared: &self.shared,
        };
        let t = &req.action.target;
        self.shared.run(async {
            match self.service {
                Service::Nacl if is_revoke(t) => nacl_ingress::apply(&aws, t, prior).await,
                Service::Nacl => nacl::apply(&aws, t, prior).await,
                Service::Rds => rds::apply(&aws, t, prior).await,
                Service::SecurityGroup => sg::apply(&aws, t, prior).await,
                Service::Iam => iam::apply(&aws, t, prior).await,
                Service::Trail => trail::apply(&aws, t, prior).await,
            }
        })
    }

    fn undo(&mut self, req: Request<'_>, prior: &Value, done: &Value) -> Result<(), ExecError> {
        let aws = Aws {
            shared: &self.shared,
        };
        let t = &req.action.target;
        self.shared.run(async {
            match self.service {
                Service::Nacl if is_revoke(t) => nacl_ingress::undo(&aws, t, prior, done).await,
                Service::Nacl => nacl::undo(&aws, t, prior, done).await,
                Service::Rds => rds::undo(&aws, t, prior, done).await,
                Service::SecurityGroup => sg::undo(&aws, t, prior, done).await,
                Service::Iam => iam::undo(&aws, t, prior, done).await,
                // Turning a trail off again is never what anyone wants.
                Service::Trail => Ok(()),
            }
        })
    }
}

fn is_revoke(t: &Target) -> bool {
    matches!(t, Target::RevokeIngress { .. })
}

/// Who keibi's credentials are (STS GetCallerIdentity), read once.
#[derive(Debug, Clone)]
struct Caller {
    account: String,
    arn: String,
}

struct Shared {
    rt: tokio::runtime::Runtime,
    client: Client,
    cfg: RespondConfig,
    /// The configured region, else the credential chain's.
    region: Option<String>,
    caller: Mutex<Option<Caller>>,
}

impl Shared {
    fn new(cfg: &RespondConfig) -> Result<Shared, RespondError> {
        let invalid = |s: String| RespondError::Invalid(s);
        let (first, last) = (*cfg.nacl_rules.start(), *cfg.nacl_rules.end());
        if first == 0 || last > 32766 || first > last {
            return Err(invalid(format!(
                "nacl_rule_numbers {first}-{last}: a network ACL's rule numbers are 1 to 32766, the first not above the last"
            )));
        }
        for acl in &cfg.network_acls {
            if !ids::is_ec2_id(acl, "acl") {
                return Err(invalid(format!(
                    "network_acls: {} is not a network ACL id (acl-…)",
                    quoted(acl)
                )));
            }
        }
        for a in &cfg.trusted_accounts {
            if !ids::is_account(a) {
                return Err(invalid(format!(
                    "trusted_accounts: {} is not a 12-digit account id",
                    quoted(a)
                )));
            }
        }
        if let Some(r) = &cfg.region {
            if !crate::signed::is_region(r) {
                return Err(invalid(format!(
                    "region {} is not an AWS region",
                    quoted(r)
                )));
            }
        }
        let timeout = if cfg.timeout.is_zero() {
            Duration::from_secs(20)
        } else {
            cfg.timeout
        };
        let rt = crate::config::runtime()
            .map_err(|e| invalid(format!("cannot start the AWS client's runtime: {e}")))?;
        let conf = rt.block_on(crate::config::load_with_profile(
            cfg.region.clone(),
            cfg.endpoint_url.clone(),
            cfg.profile.clone(),
            timeout,
        ));
        let Some(creds) = conf.credentials_provider() else {
            return Err(invalid("no AWS credentials provider".into()));
        };
        let region = cfg
            .region
            .clone()
            .or_else(|| conf.region().map(|r| r.to_string()));
        let creds = crate::config::signing_credentials(
            creds,
            cfg.role_arn.as_deref(),
            cfg.external_id.as_deref(),
            region.as_deref(),
            cfg.endpoint_url.as_deref(),
            timeout,
        )
        .map_err(|e| invalid(e.to_string()))?;
        let client = Client::new(creds, cfg.endpoint_url.as_deref(), timeout)
            .map_err(|e| invalid(e.to_string()))?;
        let mut cfg = cfg.clone();
        cfg.timeout = timeout;
        if cfg.deadline.is_zero() {
            cfg.deadline = RespondConfig::default().deadline;
        }
        Ok(Shared {
            rt,
            client,
            cfg,
            region,
            caller: Mutex::new(None),
        })
    }

    /// Runs one executor method on the runtime, bounded by the deadline.
    fn run<T>(&self, f: impl Future<Output = Result<T, ExecError>>) -> Result<T, ExecError> {
        let deadline = self.cfg.deadline;
        self.rt
            .block_on(async { tokio::time::timeout(deadline, f).await })
            .unwrap_or_else(|_| {
                Err(ExecError::Transient(format!(
                    "AWS did not answer within {} s",
                    deadline.as_secs()
                )))
            })
    }
}

/// What the service modules call AWS through.
struct Aws<'a> {
    shared: &'a Shared,
}

impl Aws<'_> {
    fn cfg(&self) -> &RespondConfig {
        &self.shared.cfg
    }

    /// The region to act in: the resource's own (an ARN's), the target's, the
    /// configured one, the credential chain's.
    fn region(&self, own: Option<&str>, place: Option<&Place>) -> Result<String, ExecError> {
        let r = own
            .map(str::to_string)
            .or_else(|| place.and_then(|p| p.region.clone()))
            .or_else(|| self.shared.region.clone())
            .ok_or_else(|| {
                ExecError::Permanent(
                    "no AWS region: the finding names none; set respond.aws.region".into(),
                )
            })?;
        if !crate::signed::is_region(&r) {
            return Err(ExecError::Permanent(format!(
                "{} is not an AWS region",
                quoted(&r)
            )));
        }
        Ok(r)
    }

    /// Who keibi's credentials are, asked once.
    async fn caller(&self, region: &str) -> Result<Caller, ExecError> {
        if let Some(c) = self.shared.caller.lock().ok().and_then(|g| g.clone()) {
            return Ok(c);
        }
        let v = self
            .call(
                "sts",
                region,
                STS_VERSION,
                "GetCallerIdentity",
                &[],
                "STS GetCallerIdentity",
            )
            .await?;
        let r = &v["GetCallerIdentityResult"];
        let account = r["Account"].as_str().unwrap_or("").to_string();
        if !ids::is_account(&account) {
            return Err(ExecError::Transient(
                "STS GetCallerIdentity: unreadable answer (no account)".into(),
            ));
        }
        let c = Caller {
            account,
            arn: r["Arn"].as_str().unwrap_or("").to_string(),
        };
        if let Ok(mut g) = self.shared.caller.lock() {
            *g = Some(c.clone());
        }
        Ok(c)
    }

    /// Acts only on the account keibi's credentials are for: a resource of another
    /// account with the same name (an RDS instance `prod-db`) must not be touched.
    async fn same_account(&self, region: &str, account: Option<&str>) -> Result<Caller, ExecError> {
        let caller = self.caller(region).await?;
        if let Some(a) = account {
            if a != caller.account {
                return Err(ExecError::Permanent(format!(
                    "the target is in account {}, keibi's AWS credentials are for account {}",
                    quoted(a),
                    caller.account
                )));
            }
        }
        Ok(caller)
    }

    async fn call(
        &self,
        service: &str,
        region: &str,
        version: &str,
        action: &str,
        params: &[(String, String)],
        what: &str,
    ) -> Result<Value, ExecError> {
        self.shared
            .client
            .query(service, region, version, action, params)
            .await
            .map_err(|e| failed(what, &e))
    }

    /// A raw call, for the callers that read an error code themselves.
    async fn try_call(
        &self,
        service: &str,
        region: &str,
        version: &str,
        action: &str,
        params: &[(String, String)],
    ) -> Result<Value, CallError> {
        self.shared
            .client
            .query(service, region, version, action, params)
            .await
    }

    async fn trail_call(&self, region: &str, op: &str, input: &Value) -> Result<Value, CallError> {
        self.shared
            .client
            .json11(
                "cloudtrail",
                region,
                &format!("{CLOUDTRAIL_TARGET}.{op}"),
                input,
            )
            .await
    }
}

/// A call's error as the responder reads it: `what` names the call and the
/// resource (`EC2 CreateNetworkAclEntry acl-0a1b…`).
fn failed(what: &str, e: &CallError) -> ExecError {
    let text = clip(&one_line(&format!("{what}: {e}")), 600, "…");
    let transient_code = e.code().is_some_and(|c| {
        matches!(
            c,
            "InvalidDBInstanceState"
                | "InvalidDBSnapshotState"
                | "InvalidDBClusterSnapshotStateFault"
                | "ConcurrentModification"
                | "IncorrectState"
        )
    });
    if e.is_transient() || transient_code {
        ExecError::Transient(text)
    } else {
        ExecError::Permanent(text)
    }
}

/// Query list parameters: `Name.1=a&Name.2=b` (`Name` may be `Filter.1.Value`).
fn list_params(name: &str, values: &[String]) -> Vec<(String, String)> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("{name}.{}", i + 1), v.clone()))
        .collect()
}

fn param(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

/// A string field of a journal value, or a Permanent error naming it (the journal
/// was written by another version, or edited).
fn field<'a>(v: &'a Value, key: &str, what: &str) -> Result<&'a str, ExecError> {
    v[key].as_str().ok_or_else(|| {
        ExecError::Permanent(format!(
            "{what}: the journal's record has no {key}; it was not written by this version of keibi"
        ))
    })
}

/// An XML flag as the Query APIs write it.
fn flag(v: &Value) -> Option<bool> {
    match v.as_str().map(str::trim) {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    }
}

/// What a `revoke_ingress` names, checked: the security group or network ACL, the
/// ports, the range, and the region (in the credentials' account).
struct IngressTarget {
    resource: String,
    ports: (u16, u16),
    cidr: ipnet::IpNet,
    region: String,
}

/// Reads and checks a `revoke_ingress` target for the executor of `kind`
/// (`security_group`, `network_acl`) whose ids start `prefix-`.
async fn ingress_target(
    aws: &Aws<'_>,
    t: &Target,
    kind: &str,
    prefix: &str,
    noun: &str,
    executor: &str,
) -> Result<IngressTarget, ExecError> {
    let Target::RevokeIngress {
        resource_kind,
        resource,
        port,
        cidr,
        place,
    } = t
    else {
        return Err(wrong(t, Kind::RevokeIngress));
    };
    if resource_kind != kind {
        return Err(ExecError::Permanent(format!(
            "revoke_ingress of a {} is not done by the {executor} executor",
            quoted(resource_kind)
        )));
    }
    if !ids::is_ec2_id(resource, prefix) {
        return Err(ExecError::Permanent(format!(
            "{} is not a {noun} id ({prefix}-…)",
            quoted(resource)
        )));
    }
    let ports = ids::ports(port).ok_or_else(|| {
        ExecError::Permanent(format!(
            "{} is not a port, a range (3306-3307) or all",
            quoted(port)
        ))
    })?;
    let cidr = cidr
        .trim()
        .parse::<ipnet::IpNet>()
        .map_err(|_| ExecError::Permanent(format!("{} is not a CIDR", quoted(cidr))))?
        .trunc();
    let region = aws.region(None, Some(place))?;
    aws.same_account(&region, place.account.as_deref()).await?;
    Ok(IngressTarget {
        resource: resource.clone(),
        ports,
        cidr,
        region,
    })
}

/// The kind a target must have, or a Permanent error (the responder handed an
/// executor a target it does not accept).
fn wrong(t: &Target, want: Kind) -> ExecError {
    ExecError::Permanent(format!(
        "the AWS executor for {want} was handed a {} action",
        t.kind()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_refused_before_any_call() {
        let bad = |f: &dyn Fn(&mut RespondConfig)| {
            let mut c = RespondConfig {
                endpoint_url: Some("http://127.0.0.1:9".into()),
                region: Some("us-east-1".into()),
                ..RespondConfig::default()
            };
            f(&mut c);
            executors(&c).err()
        };
        assert!(bad(&|c| c.nacl_rules = 0..=10).is_some());
        assert!(bad(&|c| c.nacl_rules = 10..=32767).is_some());
        assert!(bad(&|c| c.network_acls = vec!["acl-1; x".into()]).is_some());
        assert!(bad(&|c| c.trusted_accounts = vec!["1234".into()]).is_some());
        assert!(bad(&|c| c.region = Some("us east".into())).is_some());
        assert!(bad(&|_| {}).is_none());
    }

    #[test]
    fn errors_are_transient_or_permanent() {
        let service = |status: u16, code: &str| CallError::Service {
            status,
            code: code.into(),
            message: "m".into(),
        };
        assert!(failed("x", &service(400, "Throttling")).is_transient());
        assert!(failed("x", &service(503, "Unavailable")).is_transient());
        assert!(failed("x", &CallError::Transport("down".into())).is_transient());
        assert!(failed("x", &service(400, "InvalidDBInstanceState")).is_transient());
        assert!(!failed("x", &service(403, "AccessDenied")).is_transient());
        assert!(!failed("x", &service(400, "InvalidGroup.NotFound")).is_transient());
        assert_eq!(
            failed("EC2 X sg-1", &service(403, "UnauthorizedOperation")).to_string(),
            "EC2 X sg-1: UnauthorizedOperation (HTTP 403): m"
        );
    }
}
