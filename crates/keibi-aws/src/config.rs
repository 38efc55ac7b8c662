//! What every AWS client of keibi shares: the SDK configuration (region, endpoint,
//! credentials from the standard chain, time-outs) and the runtime that drives it.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// A current-thread runtime with the I/O and timer drivers the SDK needs.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// The SDK configuration: `region` when given (else the standard chain: `AWS_REGION`,
/// the profile, the instance's metadata), `endpoint_url` when given (moto, a VPC
/// endpoint), credentials from the standard chain, each call bounded by `timeout`
/// (connecting by 5 s).
pub async fn load(
    region: Option<String>,
    endpoint_url: Option<String>,
    timeout: Duration,
) -> SdkConfig {
    load_with_profile(region, endpoint_url, None, timeout).await
}

/// [`load`] with `--profile`: when `profile` is given, its credentials (keys,
/// `role_arn` + `source_profile`, `credential_process`, web identity) come from that
/// profile of `~/.aws/config` and `~/.aws/credentials` only, as with the AWS CLI's
/// `--profile` (the standard chain would prefer `AWS_ACCESS_KEY_ID` from the
/// environment), and so does its region when none is given.
pub async fn load_with_profile(
    region: Option<String>,
    endpoint_url: Option<String>,
    profile: Option<String>,
    timeout: Duration,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
        TimeoutConfig::builder()
            .operation_timeout(timeout)
            .connect_timeout(Duration::from_secs(5).min(timeout))
            .build(),
    );
    if let Some(r) = region {
        loader = loader.region(Region::new(r));
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(p) = profile {
        let creds = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(&p)
            .build();
        loader = loader.profile_name(p).credentials_provider(creds);
    }
    loader.load().await
}

/// The credentials a client signs with: `chain`'s own without `role_arn`, else the
/// role's, assumed with `chain`'s through STS in `region` (us-east-1 when none is
/// known) or `endpoint_url`, cached and renewed five minutes before they expire
/// ([`crate::sts`]). Nothing is called here: a role that refuses is said by the
/// first call, its error naming the role ARN.
pub fn signing_credentials(
    chain: aws_credential_types::provider::SharedCredentialsProvider,
    role_arn: Option<&str>,
    external_id: Option<&str>,
    region: Option<&str>,
    endpoint_url: Option<&str>,
    timeout: Duration,
) -> Result<aws_credential_types::provider::SharedCredentialsProvider, crate::sts::StsError> {
    let Some(arn) = role_arn else {
        return Ok(chain);
    };
    let role = crate::sts::Role::new(arn, external_id);
    let base = crate::signed::Client::new(chain, endpoint_url, timeout).map_err(|error| {
        crate::sts::StsError::Call {
            role: role.shown(),
            error,
        }
    })?;
    let provider = crate::sts::AssumeRoleProvider::new(base, region.unwrap_or("us-east-1"), role)?;
    Ok(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
}

/// A signed client for one region, as a command that names at most one region
/// (`--region`, else the chain's) builds it: the region checked, the chain's (or
/// the profile's) credentials, `endpoint_url` or the configuration's, `timeout`
/// (30 s when zero). The error is a sentence for the person who ran the command.
pub async fn regional_client(
    region: Option<&str>,
    endpoint_url: Option<&str>,
    profile: Option<String>,
    timeout: Duration,
) -> Result<(crate::signed::Client, String), String> {
    let timeout = if timeout.is_zero() {
        Duration::from_secs(30)
    } else {
        timeout
    };
    let conf = load_with_profile(
        region.map(str::to_string),
        endpoint_url.map(str::to_string),
        profile,
        timeout,
    )
    .await;
    let region = match region.map(str::trim) {
        Some(r) if !r.is_empty() => r.to_string(),
        _ => match conf.region() {
            Some(r) => r.to_string(),
            None => {
                return Err(
                    "no region: give --region, or set AWS_REGION or the profile's region".into(),
                )
            }
        },
    };
    if !crate::signed::is_region(&region) {
        return Err(format!(
            "{:?} is not an AWS region",
            keibi_notify::text::clip(&keibi_notify::text::one_line(&region), 100, "…")
        ));
    }
    let Some(creds) = conf.credentials_provider() else {
        return Err("no AWS credentials provider".into());
    };
    let endpoint = endpoint_url
        .map(str::to_string)
        .or_else(|| conf.endpoint_url().map(str::to_string));
    let client = crate::signed::Client::new(creds, endpoint.as_deref(), timeout)
        .map_err(|e| e.to_string())?;
    Ok((client, region))
}
