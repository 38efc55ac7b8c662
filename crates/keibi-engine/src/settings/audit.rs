//! The `audit` section: what `keibi audit --config` and `keibi run`'s scheduled
//! audit check (`docs/posture.md`), and which failures are accepted.

use std::path::PathBuf;

use keibi_notify::Secret;
use serde::{Deserialize, Deserializer, Serialize};

use super::values::Duration;

/// Posture checks: the AWS account (live or saved JSON), databases from inside,
/// how often `keibi run` checks, and the suppressed failures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Audit {
    /// How often `keibi run` audits (first at start); `0` turns it off.
    #[serde(deserialize_with = "every")]
    pub every: Duration,
    pub aws: AuditAws,
    /// Saved AWS CLI outputs: files or directories.
    pub aws_json: Vec<PathBuf>,
    pub postgres: Vec<DbTarget>,
    pub mysql: Vec<DbTarget>,
    /// Failing checks that are accepted: counted apart, not failed, not findings.
    pub suppress: Vec<AuditSuppress>,
    /// `keibi run` also reads GuardDuty's RDS and IAM findings into the store each
    /// round (with `aws`'s regions, profile and endpoint), joined to keibi's own.
    pub guardduty_findings: bool,
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            every: Duration::from_secs(6 * 3600),
            aws: AuditAws::default(),
            aws_json: Vec::new(),
            postgres: Vec::new(),
            mysql: Vec::new(),
            suppress: Vec::new(),
            guardduty_findings: false,
        }
    }
}

impl Audit {
    /// Whether there is anything to audit.
    pub fn has_targets(&self) -> bool {
        self.aws.enabled
            || !self.aws_json.is_empty()
            || !self.postgres.is_empty()
            || !self.mysql.is_empty()
    }

    /// The suppressions as keibi-posture's rules.
    pub fn rules(&self) -> Vec<keibi_posture::Suppress> {
        self.suppress
            .iter()
            .map(|s| keibi_posture::Suppress {
                control: s.control.clone(),
                resource: s.resource.clone(),
                reason: s.reason.clone(),
            })
            .collect()
    }
}

/// `every: 0` (a bare number) is off; otherwise a duration.
fn every<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        N(u64),
        S(String),
    }
    match Raw::deserialize(d)? {
        Raw::N(0) => Ok(Duration::from_secs(0)),
        Raw::N(n) => Err(serde::de::Error::custom(format!(
            "{n} has no unit: write 6h, 30m, or 0 for off"
        ))),
        Raw::S(s) if s.trim() == "0" => Ok(Duration::from_secs(0)),
        Raw::S(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

/// A secret written as a one-key map (`{env: NAME}`), as the notification
/// channels' (YAML itself would want a tag, `!env NAME`).
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v).map(Some).map_err(|e| {
            serde::de::Error::custom(format!(
                "a password is {{env: NAME}}, {{file: PATH}} or {{value: ...}}: {e}"
            ))
        }),
    }
}

/// The AWS account read live (the standard credential chain).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditAws {
    pub enabled: bool,
    /// Regions to read; empty: the credential chain's region.
    pub regions: Vec<String>,
    pub profile: Option<String>,
    /// Send the calls here instead of AWS (a VPC endpoint, moto).
    pub endpoint_url: Option<String>,
    /// A role to assume (with the chain's or the profile's credentials) and read
    /// with, when `accounts` is empty.
    pub role_arn: Option<String>,
    /// The external id `role_arn`'s trust policy asks for.
    pub external_id: Option<String>,
    /// Several accounts in one audit, each read by its own role.
    pub accounts: Vec<AuditAccount>,
}

/// One account of `audit.aws.accounts`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditAccount {
    /// `arn:aws:iam::123456789012:role/keibi-audit` (required).
    pub role_arn: String,
    /// The external id the role's trust policy asks for.
    pub external_id: Option<String>,
    /// Its regions; empty: `audit.aws.regions`.
    pub regions: Vec<String>,
}

/// What is wrong with a `role_arn` and its `external_id`, as (key, reason): the
/// ARN is IAM's form of a role's, the external id what STS takes (2 to 1224 of
/// letters, digits and `_+=,.@:/-`). The same check keibi-aws makes before calling.
pub fn role_problems(
    role_arn: Option<&str>,
    external_id: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(arn) = role_arn {
        let parts: Vec<&str> = arn.trim().splitn(6, ':').collect();
        let ok = parts.len() == 6
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
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b));
        if !ok {
            let shown: String = arn.chars().filter(|c| !c.is_control()).take(200).collect();
            out.push((
                "role_arn",
                format!("{shown:?} is not a role ARN (arn:aws:iam::123456789012:role/name)"),
            ));
        }
    }
    if let Some(id) = external_id {
        let id = id.trim();
        if !(2..=1224).contains(&id.len())
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b))
        {
            out.push((
                "external_id",
                "an external id is 2 to 1224 letters, digits or _+=,.@:/-".into(),
            ));
        }
        if role_arn.is_none() {
            out.push(("external_id", "an external id goes with a role_arn".into()));
        }
    }
    out
}

/// A database checked from inside, over a read-only connection.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbTarget {
    /// `postgres://auditor@db.example:5432/postgres?sslmode=require`, without the
    /// password.
    pub url: String,
    /// The password, from the environment or a file (`{env: PG_AUDIT_PASSWORD}`).
    #[serde(deserialize_with = "secret")]
    pub password: Option<Secret>,
    /// Superusers (PostgreSQL) or administrators (MySQL: `SUPER`, `ALL`, `GRANT
    /// OPTION`, `FILE` holders) that are expected: not reported.
    pub allowed_superusers: Vec<String>,
    /// Roles with `CREATEROLE` or `BYPASSRLS` (PostgreSQL), or accounts allowed to
    /// connect from any host (MySQL), that are expected.
    pub allowed_admins: Vec<String>,
    /// Whether login roles with a password must have `VALID UNTIL` (PostgreSQL,
    /// KB.PG.7): off unless the team's policy asks for password expiry.
    pub require_password_expiry: bool,
}

impl DbTarget {
    /// The URL with the password put in (percent-encoded), for the connection only:
    /// never print it. `Err` says why the password could not be read (it names
    /// where it comes from, never the value).
    pub fn connect_url(&self) -> Result<String, String> {
        let Some(secret) = &self.password else {
            return Ok(self.url.clone());
        };
        let pw = secret
            .reveal()
            .map_err(|e| format!("{}: password: {e}", self.display_url()))?;
        with_password(&self.url, &pw)
            .ok_or_else(|| format!("{}: the URL names no user", self.display_url()))
    }

    /// The URL as it may be shown: any password in it replaced by `***`.
    pub fn display_url(&self) -> String {
        without_password(&self.url)
    }
}

/// `scheme://user@host…` → `scheme://user:ENCODED@host…`; `None` without a user.
pub fn with_password(url: &str, password: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, host) = authority.rsplit_once('@')?;
    let user = userinfo.split(':').next().unwrap_or("");
    if user.is_empty() {
        return None;
    }
    let mut enc = String::new();
    for b in password.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    Some(format!("{scheme}://{user}:{enc}@{host}{tail}"))
}

/// A URL with its password (if any) shown as `***`.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_string(),
    }
}

/// An accepted failure, as Security Hub's suppressed workflow status.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSuppress {
    /// The control id: `RDS.2`, `KB.PG.1`.
    pub control: String,
    /// A glob over the resource id (as the notification routes': `*`, `?`, `[...]`,
    /// `{a,b}`); unset: every resource.
    pub resource: Option<String>,
    /// Why (required): shown with each suppressed check.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_go_in_percent_encoded_and_never_show() {
        assert_eq!(
            with_password(
                "postgres://auditor@db:5432/postgres?sslmode=require",
                "p@ss:w/rd"
            )
            .unwrap(),
            "postgres://auditor:p%40ss%3Aw%2Frd@db:5432/postgres?sslmode=require"
        );
        assert_eq!(with_password("mysql://db:3306/", "x"), None);
        assert_eq!(
            without_password("mysql://root:hunter2@db:3306/"),
            "mysql://root:***@db:3306/"
        );
        assert_eq!(without_password("mysql://root@db/"), "mysql://root@db/");
        let t = DbTarget {
            url: "postgres://a:old@db/x".into(),
            password: Some(Secret::Env("KEIBI_TEST_NO_SUCH_VAR_4711".into())),
            ..DbTarget::default()
        };
        let e = t.connect_url().unwrap_err();
        assert!(
            e.contains("KEIBI_TEST_NO_SUCH_VAR_4711") && !e.contains("old"),
            "{e}"
        );
    }
}
