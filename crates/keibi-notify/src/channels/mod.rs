//! The channels: one module each, with its settings, its payload and its sender.
//! A channel named in the `notify.channels` list of the settings file is a
//! [`ChannelSpec`]; [`build`] makes the [`Channel`] that delivers to it.

pub mod webhook;

use std::time::Duration;

pub(crate) mod chat;
pub mod chatwork;
pub mod pagerduty;
pub mod slack;
pub mod teams;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;
use crate::text::Style;
use crate::Channel;

pub mod email;
pub mod ocsf_file;

/// One entry of `notify.channels`: a name the routes refer to, and where it goes.
///
/// No `deny_unknown_fields` here: serde cannot combine it with `flatten` (every
/// field of the flattened kind would be refused). The kinds' own structs deny
/// unknown fields, and a misspelt key of this struct reaches them, so it is still
/// refused (tested in `settings.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelSpec {
    pub name: String,
    /// The language of this channel's messages (`en`, `ja`); the display language
    /// of the settings when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// At most this many messages an hour; what is held back goes out as one digest
    /// when the hour allows (0: no limit).
    #[serde(default = "default_rate_limit")]
    pub rate_limit: u32,
    #[serde(flatten)]
    pub kind: ChannelKind,
}

fn default_rate_limit() -> u32 {
    30
}

/// Where a channel delivers, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChannelKind {
    Slack(SlackSpec),
    Teams(TeamsSpec),
    Chatwork(ChatworkSpec),
    Webhook(WebhookSpec),
    Email(EmailSpec),
    Pagerduty(PagerDutySpec),
    Sns(SnsSpec),
    /// The OCSF file export: one OCSF event a line, for a log shipper to tail.
    OcsfFile(OcsfFileSpec),
    /// Security Hub `BatchImportFindings` (needs keibi built with the `aws`
    /// feature).
    Securityhub(SecurityHubSpec),
}

impl ChannelKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChannelKind::Slack(_) => "slack",
            ChannelKind::Teams(_) => "teams",
            ChannelKind::Chatwork(_) => "chatwork",
            ChannelKind::Webhook(_) => "webhook",
            ChannelKind::Email(_) => "email",
            ChannelKind::Pagerduty(_) => "pagerduty",
            ChannelKind::Sns(_) => "sns",
            ChannelKind::OcsfFile(_) => "ocsf_file",
            ChannelKind::Securityhub(_) => "securityhub",
        }
    }

    /// An export (`ocsf_file`, `securityhub`) rather than a message for people:
    /// every change is delivered on its own (no rate limit, no `group_wait`
    /// digest) and the daily summary does not go there.
    pub fn is_export(&self) -> bool {
        matches!(self, ChannelKind::OcsfFile(_) | ChannelKind::Securityhub(_))
    }
}

/// Slack incoming webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSpec {
    /// `https://hooks.slack.com/services/...`: a secret (whoever has it can post).
    pub webhook_url: Secret,
}

/// Microsoft Teams: a Workflows ("When a Teams webhook request is received") URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamsSpec {
    pub webhook_url: Secret,
}

/// Chatwork: `POST /v2/rooms/{room_id}/messages` with an API token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatworkSpec {
    pub room_id: String,
    pub api_token: Secret,
    /// `https://api.chatwork.com/v2` unless set (tests point it at a local server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
}

/// A generic webhook: the contract's JSON, signed with HMAC-SHA256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    pub url: String,
    /// The HMAC key; without it requests are not signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// Extra headers (an `Authorization` for the receiver, say); values are secrets
    /// when given as `{env: ...}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<Header>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub name: String,
    pub value: Secret,
}

/// Email over SMTP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSpec {
    pub host: String,
    /// 587 for STARTTLS, 465 for implicit TLS, 25 for none, unless set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: EmailTls,
    /// Extra CA certificate (PEM) to trust, for a relay with a private CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<std::path::PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    pub from: String,
    pub to: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailTls {
    #[default]
    Starttls,
    Implicit,
    /// Plain SMTP: only for a relay on the same host or a test server.
    None,
}

/// PagerDuty Events API v2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutySpec {
    pub routing_key: Secret,
    /// `https://events.pagerduty.com/v2/enqueue` unless set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Amazon SNS publish (needs keibi built with the `aws` feature).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnsSpec {
    pub topic_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A local endpoint (moto) or a VPC endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
}

/// The OCSF file export: where, and when it rotates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcsfFileSpec {
    /// The file appended to (relative to the settings file's directory).
    pub path: std::path::PathBuf,
    /// A line that would take the file past this size rotates it first
    /// (100 MiB unless set; at least 1 MiB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Rotated files kept (`<path>.1` newest ... `<path>.<keep>`; 5 unless set).
    #[serde(default = "default_keep")]
    pub keep: u32,
}

fn default_max_bytes() -> u64 {
    100 * 1024 * 1024
}

fn default_keep() -> u32 {
    5
}

impl OcsfFileSpec {
    /// What is wrong with the values serde took, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.path.as_os_str().is_empty() {
            return Some("path: the file to append to".into());
        }
        if self.max_bytes < ocsf_file::MIN_MAX_BYTES {
            return Some(format!(
                "max_bytes: {} is below the smallest allowed, {} (1 MiB)",
                self.max_bytes,
                ocsf_file::MIN_MAX_BYTES
            ));
        }
        if self.keep > ocsf_file::MAX_KEEP {
            return Some(format!(
                "keep: {} rotated files is more than {}",
                self.keep,
                ocsf_file::MAX_KEEP
            ));
        }
        None
    }
}

/// Security Hub's `BatchImportFindings` in the caller's account (needs keibi built
/// with the `aws` feature).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityHubSpec {
    /// The hub's region [default: the credential chain's].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A role to assume for the import (the hub in another account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The role's external id, when its trust policy asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// A local endpoint (moto) or a VPC endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// Also set the workflow status by `BatchUpdateFindings` after the import of a
    /// resolve (`RESOLVED`) or a reopen (`NEW`). Without it the record state does
    /// it: Security Hub resolves a NEW or NOTIFIED finding that becomes ARCHIVED
    /// and makes a RESOLVED one NEW again when it becomes ACTIVE.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub set_workflow: bool,
}

impl SecurityHubSpec {
    /// What is wrong with the values, each with the key it is at: a region that is
    /// not a region's name, a role ARN that is not an IAM role's, an endpoint that is
    /// not an http(s) URL.
    pub fn problems(&self) -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        if let Some(r) = &self.region {
            let ok = !r.is_empty()
                && r.len() <= 32
                && r.split('-').count() >= 3
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                out.push((
                    format!(
                        "{:?} is not an AWS region",
                        crate::text::clip(&crate::text::one_line(r), 100, "…")
                    ),
                    "region",
                ));
            }
        }
        if let Some(a) = &self.role_arn {
            let parts: Vec<&str> = a.splitn(6, ':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && parts[2] == "iam"
                && parts[4].len() == 12
                && parts[4].bytes().all(|b| b.is_ascii_digit())
                && parts[5].starts_with("role/");
            if !ok {
                out.push((
                    format!(
                        "{:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                        crate::text::clip(&crate::text::one_line(a), 200, "…")
                    ),
                    "role_arn",
                ));
            }
        }
        if self.external_id.is_some() && self.role_arn.is_none() {
            out.push((
                "external_id is given to a role: set role_arn too".into(),
                "external_id",
            ));
        }
        if let Some(u) = &self.endpoint_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                out.push((
                    format!(
                        "{:?} is not an http:// or https:// URL",
                        crate::http::redact(u)
                    ),
                    "endpoint_url",
                ));
            }
        }
        out
    }
}

/// How long one delivery may take before it counts as a transient failure.
pub const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("channel {name}: {reason}")]
    Invalid { name: String, reason: String },
    #[error("channel {name}: {source}")]
    Secret {
        name: String,
        source: crate::secret::SecretError,
    },
}

/// Makes an SNS channel (the AWS edge crate's constructor).
pub type MakeSns<'a> =
    &'a dyn Fn(&ChannelSpec, &SnsSpec, &Style) -> Result<Box<dyn Channel>, BuildError>;

/// Makes a Security Hub channel (the AWS edge crate's constructor).
pub type MakeSecurityHub<'a> =
    &'a dyn Fn(&ChannelSpec, &SecurityHubSpec) -> Result<Box<dyn Channel>, BuildError>;

/// The AWS edge crate's channel constructors; the binary without the `aws`
/// feature passes none, and those channels are then a clear error.
#[derive(Clone, Copy, Default)]
pub struct Edge<'a> {
    pub sns: Option<MakeSns<'a>>,
    pub securityhub: Option<MakeSecurityHub<'a>>,
}

/// Builds the channel for a spec. SNS lives in the AWS edge crate: the caller
/// passes `sns` to build it (the binary without the `aws` feature passes `None`, and
/// an SNS channel is then a clear error).
pub fn build(
    spec: &ChannelSpec,
    style: &Style,
    sns: Option<MakeSns<'_>>,
) -> Result<Box<dyn Channel>, BuildError> {
    build_with(
        spec,
        style,
        Edge {
            sns,
            securityhub: None,
        },
    )
}

/// [`build`] with every constructor of the AWS edge (SNS, Security Hub).
pub fn build_with(
    spec: &ChannelSpec,
    style: &Style,
    edge: Edge<'_>,
) -> Result<Box<dyn Channel>, BuildError> {
    let sns = edge.sns;
    match &spec.kind {
        ChannelKind::Email(e) => email::build(spec, e, style),
        ChannelKind::Sns(s) => match sns {
            Some(make) => make(spec, s, style),
            None => Err(BuildError::Invalid {
                name: spec.name.clone(),
                reason: "SNS needs keibi built with the `aws` feature".into(),
            }),
        },
        ChannelKind::Slack(s) => Ok(Box::new(slack::build(spec, s, style)?)),
        ChannelKind::Teams(s) => Ok(Box::new(teams::build(spec, s, style)?)),
        ChannelKind::Chatwork(s) => Ok(Box::new(chatwork::build(spec, s, style)?)),
        ChannelKind::Pagerduty(s) => Ok(Box::new(pagerduty::build(spec, s, style)?)),
        ChannelKind::Webhook(w) => Ok(Box::new(webhook::Webhook::build(spec, w)?)),
        ChannelKind::OcsfFile(o) => Ok(Box::new(ocsf_file::OcsfFile::build(spec, o)?)),
        ChannelKind::Securityhub(h) => match edge.securityhub {
            Some(make) => make(spec, h),
            None => Err(BuildError::Invalid {
                name: spec.name.clone(),
                reason: "Security Hub needs keibi built with the `aws` feature".into(),
            }),
        },
    }
}
