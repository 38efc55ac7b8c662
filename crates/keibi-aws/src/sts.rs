//! STS AssumeRole as a credentials provider: the standard chain's credentials (or a
//! profile's) sign the AssumeRole call, and the role's temporary credentials sign
//! everything else. They are cached and asked for again five minutes before their
//! `Expiration`, as the chain's own are in [`crate::signed::Client::credentials`].
//!
//! One provider per role (per account): the audit of several accounts builds one
//! signed client per account with it. A refused AssumeRole (AccessDenied: the role's
//! trust policy does not name the caller, or the external id differs) is a
//! permanent problem of that account; its error names the role ARN, never a key.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{self, error::CredentialsError, ProvideCredentials};
use aws_credential_types::Credentials;
use keibi_notify::text::{clip, one_line};

use crate::signed::{CallError, Client};

const STS_VERSION: &str = "2011-06-15";
/// Credentials are asked for again this long before they expire.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(300);
/// The session's length asked for (one hour, what every role allows by default).
pub const DURATION: Duration = Duration::from_secs(3600);
/// What is kept of the service's message in an error.
const MESSAGE_MAX: usize = 300;

/// The role to assume, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// `arn:aws:iam::123456789012:role/keibi-audit`.
    pub role_arn: String,
    /// The external id the role's trust policy asks for, when it asks for one.
    pub external_id: Option<String>,
    /// `RoleSessionName` (CloudTrail shows it): `keibi-<host>` by default.
    pub session_name: String,
    /// `DurationSeconds`: 900 to 43 200 (the role's maximum), one hour by default.
    pub duration: Duration,
}

impl Role {
    /// A role assumed as `keibi-<this host>` for an hour.
    pub fn new(role_arn: &str, external_id: Option<&str>) -> Role {
        Role {
            role_arn: role_arn.trim().to_string(),
            external_id: external_id
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_string),
            session_name: session_name(host().as_deref()),
            duration: DURATION,
        }
    }

    /// The ARN as it may be shown (one line, at most 200 characters).
    pub fn shown(&self) -> String {
        clip(&one_line(&self.role_arn), 200, "…")
    }
}

/// Why a role could not be assumed. Its text names the role ARN and the service's
/// code and message, never a key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StsError {
    /// The role ARN or external id is not one AWS would take.
    #[error("role {role}: {why}")]
    Invalid { role: String, why: String },
    /// AssumeRole failed.
    #[error("AssumeRole of {role}: {error}")]
    Call { role: String, error: CallError },
    /// AssumeRole answered without usable credentials.
    #[error("AssumeRole of {role}: {why}")]
    Answer { role: String, why: String },
}

impl StsError {
    /// The role refused the caller (AccessDenied, a bad external id, a role that
    /// does not exist) or the ARN is not one: asking again will not help until the
    /// role or the settings change.
    pub fn is_permanent(&self) -> bool {
        match self {
            StsError::Invalid { .. } => true,
            StsError::Call { error, .. } => !error.is_transient(),
            StsError::Answer { .. } => false,
        }
    }
}

/// A role ARN as IAM writes them: `arn:<partition>:iam::<12 digits>:role/<path/name>`.
pub fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].len() > 5
        && parts[5].len() <= 2048
        && parts[5].starts_with("role/")
        && parts[5]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
}

/// An external id as STS takes it: 2 to 1224 of `[\w+=,.@:/-]`.
pub fn is_external_id(id: &str) -> bool {
    (2..=1224).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b))
}

/// `keibi-<host>`, kept to what `RoleSessionName` takes (`[\w+=,.@-]`, 2 to 64).
pub fn session_name(host: Option<&str>) -> String {
    let mut s = String::from("keibi");
    if let Some(h) = host {
        let h: String = h
            .chars()
            .filter(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
            })
            .collect();
        if !h.is_empty() {
            s.push('-');
            s.push_str(&h);
        }
    }
    s.truncate(64);
    s
}

/// The kernel's host name, when there is one.
fn host() -> Option<String> {
    let raw = std::fs::read("/proc/sys/kernel/hostname").ok()?;
    let raw = String::from_utf8_lossy(&raw[..raw.len().min(253)])
        .trim()
        .to_string();
    (!raw.is_empty() && raw != "(none)" && raw != "localhost").then_some(raw)
}

/// What time it is (tests move it).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Credentials cached until [`REFRESH_BEFORE`] their expiry, by a clock that can be
/// moved.
pub struct Cache {
    clock: Clock,
    cached: Mutex<Option<Credentials>>,
}

impl Cache {
    pub fn new(clock: Clock) -> Cache {
        Cache {
            clock,
            cached: Mutex::new(None),
        }
    }

    /// The cached credentials while they are good for five more minutes.
    pub fn fresh(&self) -> Option<Credentials> {
        let soon = (self.clock)() + REFRESH_BEFORE;
        let guard = self.cached.lock().ok()?;
        guard
            .as_ref()
            .filter(|c| c.expiry().is_none_or(|e| e > soon))
            .cloned()
    }

    pub fn store(&self, c: &Credentials) {
        if let Ok(mut guard) = self.cached.lock() {
            *guard = Some(c.clone());
        }
    }
}

/// Assumes one role with a client signed by the caller's own credentials.
pub struct AssumeRoleProvider {
    base: Client,
    region: String,
    role: Role,
    cache: Cache,
}

impl fmt::Debug for AssumeRoleProvider {
    // No credentials, cached or of the caller, in a Debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("role_arn", &self.role.role_arn)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl AssumeRoleProvider {
    /// `base` signs the AssumeRole calls (the standard chain's credentials), sent to
    /// STS in `region` (or `base`'s endpoint URL).
    pub fn new(base: Client, region: &str, role: Role) -> Result<AssumeRoleProvider, StsError> {
        Self::with_clock(base, region, role, Arc::new(SystemTime::now))
    }

    /// [`Self::new`] with a clock of the caller's.
    pub fn with_clock(
        base: Client,
        region: &str,
        role: Role,
        clock: Clock,
    ) -> Result<AssumeRoleProvider, StsError> {
        let invalid = |why: &str| StsError::Invalid {
            role: role.shown(),
            why: why.to_string(),
        };
        if !is_role_arn(&role.role_arn) {
            return Err(invalid(
                "not a role ARN (arn:aws:iam::123456789012:role/name)",
            ));
        }
        if role
            .external_id
            .as_deref()
            .is_some_and(|e| !is_external_id(e))
        {
            return Err(invalid(
                "the external id is not 2 to 1224 letters, digits or _+=,.@:/-",
            ));
        }
        if !(900..=43_200).contains(&role.duration.as_secs()) {
            return Err(invalid("the session lasts 15 minutes to 12 hours"));
        }
        Ok(AssumeRoleProvider {
            base,
            region: region.to_string(),
            role,
            cache: Cache::new(clock),
        })
    }

    pub fn role(&self) -> &Role {
        &self.role
    }

    /// The role's credentials: the cached ones while they are good for five more
    /// minutes, else a new AssumeRole.
    pub async fn assume(&self) -> Result<Credentials, StsError> {
        if let Some(c) = self.cache.fresh() {
            return Ok(c);
        }
        let fresh = self.call().await?;
        self.cache.store(&fresh);
        Ok(fresh)
    }

    async fn call(&self) -> Result<Credentials, StsError> {
        let mut params = vec![
            ("RoleArn".to_string(), self.role.role_arn.clone()),
            (
                "RoleSessionName".to_string(),
                self.role.session_name.clone(),
            ),
            (
                "DurationSeconds".to_string(),
                self.role.duration.as_secs().to_string(),
            ),
        ];
        if let Some(e) = &self.role.external_id {
            params.push(("ExternalId".to_string(), e.clone()));
        }
        let v = self
            .base
            .query("sts", &self.region, STS_VERSION, "AssumeRole", &params)
            .await
            .map_err(|error| StsError::Call {
                role: self.role.shown(),
                error: scrub(error),
            })?;
        let answer = |why: &str| StsError::Answer {
            role: self.role.shown(),
            why: why.to_string(),
        };
        let c = &v["AssumeRoleResult"]["Credentials"];
        let field = |k: &str| {
            c[k].as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty() && s.len() <= 4096)
                .map(str::to_string)
        };
        let (Some(key), Some(secret), Some(token)) = (
            field("AccessKeyId"),
            field("SecretAccessKey"),
            field("SessionToken"),
        ) else {
            return Err(answer("the answer has no credentials"));
        };
        let expiry = field("Expiration")
            .and_then(|e| chrono::DateTime::parse_from_rfc3339(&e).ok())
            .and_then(|e| u64::try_from(e.timestamp()).ok())
            .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
            .ok_or_else(|| answer("the answer's Expiration is not a time"))?;
        Ok(Credentials::new(
            key,
            secret,
            Some(token),
            Some(expiry),
            "keibi-assume-role",
        ))
    }
}

/// A service's message cut to one short line (AWS's AccessDenied names the caller's
/// ARN and the role, never a key; a hostile endpoint could echo anything back, so it
/// is bounded).
fn scrub(e: CallError) -> CallError {
    match e {
        CallError::Service {
            status,
            code,
            message,
        } => CallError::Service {
            status,
            code: clip(&one_line(&code), 100, "…"),
            message: clip(&one_line(&message), MESSAGE_MAX, "…"),
        },
        other => other,
    }
}

/// A signed client whose calls are signed by `role`'s credentials, assumed with
/// `chain`'s in `region`. The role's first credentials are asked for here, so a
/// refused role is said at once.
pub async fn client(
    chain: aws_credential_types::provider::SharedCredentialsProvider,
    endpoint: Option<&str>,
    timeout: Duration,
    region: &str,
    role: Role,
) -> Result<Client, StsError> {
    let shown = role.shown();
    let call = |error| StsError::Call {
        role: shown.clone(),
        error,
    };
    let base = Client::new(chain, endpoint, timeout).map_err(call)?;
    let provider = AssumeRoleProvider::new(base, region, role)?;
    provider.assume().await?;
    Client::new(
        aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        endpoint,
        timeout,
    )
    .map_err(call)
}

impl ProvideCredentials for AssumeRoleProvider {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            self.assume()
                .await
                .map_err(|e| CredentialsError::provider_error(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn creds(key: &str, expiry: SystemTime) -> Credentials {
        Credentials::new(key, "secret", Some("token".into()), Some(expiry), "test")
    }

    #[test]
    fn the_cache_refreshes_five_minutes_before_expiry() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let offset = Arc::new(AtomicU64::new(0));
        let o = offset.clone();
        let cache = Cache::new(Arc::new(move || {
            start + Duration::from_secs(o.load(Ordering::SeqCst))
        }));
        assert!(cache.fresh().is_none(), "nothing cached yet");
        cache.store(&creds("ASIAFIRST", start + Duration::from_secs(900)));
        assert_eq!(cache.fresh().unwrap().access_key_id(), "ASIAFIRST");
        // 599 s in: still 301 s left, more than the five minutes.
        offset.store(599, Ordering::SeqCst);
        assert_eq!(cache.fresh().unwrap().access_key_id(), "ASIAFIRST");
        // 600 s in: exactly five minutes left — asked for again.
        offset.store(600, Ordering::SeqCst);
        assert!(cache.fresh().is_none());
        cache.store(&creds("ASIASECOND", start + Duration::from_secs(1500)));
        assert_eq!(cache.fresh().unwrap().access_key_id(), "ASIASECOND");
    }

    #[test]
    fn arns_ids_and_session_names() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/keibi-audit"));
        assert!(is_role_arn("arn:aws-cn:iam::123456789012:role/path/x"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/x"));
        assert!(!is_role_arn("arn:aws:iam::1234:role/x"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/a b"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/"));
        assert!(is_external_id("keibi-1234"));
        assert!(!is_external_id("x"));
        assert!(!is_external_id("a\nb"));
        assert_eq!(session_name(Some("db-1.example")), "keibi-db-1.example");
        assert_eq!(session_name(Some("<hé>")), "keibi-h");
        assert_eq!(session_name(None), "keibi");
        assert_eq!(session_name(Some(&"x".repeat(300))).len(), 64);
    }

    #[test]
    fn a_bad_role_is_refused_before_any_call() {
        let base =
            Client::new(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    Credentials::for_tests(),
                ),
                Some("http://127.0.0.1:9"),
                Duration::from_secs(1),
            )
            .unwrap();
        let e = AssumeRoleProvider::new(base, "us-east-1", Role::new("role/x", None))
            .err()
            .unwrap();
        assert!(e.is_permanent());
        assert!(e.to_string().contains("role/x"), "{e}");
    }
}
