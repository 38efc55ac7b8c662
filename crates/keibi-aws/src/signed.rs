//! A small SigV4-signed client for the calls of the posture inventory (read-only)
//! and of Security Hub's import, in the three protocols they use: Query (RDS, EC2,
//! STS: a form POST answered in XML, turned into JSON by [`crate::xml`]),
//! awsJson1.1 (CloudTrail) and restJson1 (GuardDuty, Security Hub). Credentials
//! come from `aws-config`'s standard chain (or a role assumed with them,
//! [`crate::sts`]) and are renewed before they expire; each
//! attempt is bounded by the time-out, each answer by [`MAX_BODY`]; throttling and
//! AWS's 5xx are retried with exponential backoff.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use keibi_notify::text::{clip, one_line};
use serde_json::Value;

use crate::usage::Usage;

/// The largest answer read (a page of 100 RDS instances is well under 1 MiB).
pub const MAX_BODY: usize = 64 << 20;
/// Tries of a throttled call (or one AWS answered with a 5xx) before giving up.
const THROTTLE_TRIES: u32 = 5;
/// Tries of a call whose connection failed or timed out.
const TRANSPORT_TRIES: u32 = 2;
/// What is kept of an error message from the service.
const MESSAGE_MAX: usize = 300;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The service refused it (AccessDenied, UnauthorizedOperation, a bad
    /// parameter, an action the endpoint does not implement …).
    #[error("{code} (HTTP {status}): {message}")]
    Service {
        status: u16,
        code: String,
        message: String,
    },
    /// The endpoint could not be reached, or did not answer in time.
    #[error("{0}")]
    Transport(String),
    /// An answer that is too large or unreadable.
    #[error("{0}")]
    Answer(String),
    /// No usable credentials, or a request that cannot be signed.
    #[error("{0}")]
    Credentials(String),
}

impl CallError {
    /// The service's error code, when it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The resource asked about is gone (deleted between the list and the call).
    pub fn is_not_found(&self) -> bool {
        self.code().is_some_and(|c| c.contains("NotFound"))
    }

    /// Worth trying again later: throttling, AWS's 5xx, a connection that failed or
    /// timed out, an answer cut short. (The client has already retried these a few
    /// times with backoff.)
    pub fn is_transient(&self) -> bool {
        match self {
            CallError::Transport(_) | CallError::Answer(_) => true,
            CallError::Service { .. } => self.retry_throttled(),
            CallError::Credentials(_) => false,
        }
    }

    fn retry_throttled(&self) -> bool {
        match self {
            CallError::Service { status, code, .. } => {
                is_throttling(code) || *status == 429 || matches!(status, 500 | 502 | 503 | 504)
            }
            _ => false,
        }
    }
}

fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "SlowDown"
            | "PriorRequestNotComplete"
            | "ServiceUnavailable"
            | "InternalFailure"
            | "InternalError"
    )
}

/// The signed client of one audit: one HTTP connection pool, one credential cache.
pub struct Client {
    http: reqwest::Client,
    creds: SharedCredentialsProvider,
    cached: Mutex<Option<Credentials>>,
    endpoint: Option<reqwest::Url>,
    usage: Arc<Usage>,
}

impl Client {
    /// Each attempt is bounded by `timeout` (connecting by 5 s at most); `endpoint`
    /// replaces every service's endpoint (moto, a VPC endpoint).
    pub fn new(
        creds: SharedCredentialsProvider,
        endpoint: Option<&str>,
        timeout: Duration,
    ) -> Result<Client, CallError> {
        let endpoint = match endpoint {
            None => None,
            Some(e) => {
                let url = reqwest::Url::parse(e.trim()).map_err(|err| {
                    CallError::Transport(format!(
                        "endpoint URL {:?} is not a URL: {err}",
                        clip(&one_line(e), 200, "…")
                    ))
                })?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(CallError::Transport(format!(
                        "endpoint URL {:?} is not an http(s) URL with a host",
                        clip(&one_line(e), 200, "…")
                    )));
                }
                Some(url)
            }
        };
        let timeout = if timeout.is_zero() {
            Duration::from_secs(30)
        } else {
            timeout
        };
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5).min(timeout))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("keibi/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CallError::Transport(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            creds,
            cached: Mutex::new(None),
            endpoint,
            usage: crate::usage::global(),
        })
    }

    /// Counts this client's calls into `usage` instead of the process-wide
    /// [`crate::usage::global`] counter.
    pub fn with_usage(mut self, usage: Arc<Usage>) -> Client {
        self.usage = usage;
        self
    }

    /// The counter this client's calls go to.
    pub fn usage(&self) -> &Arc<Usage> {
        &self.usage
    }

    /// Credentials from the chain, cached until five minutes before they expire.
    pub async fn credentials(&self) -> Result<Credentials, CallError> {
        let soon = SystemTime::now() + Duration::from_secs(300);
        if let Ok(guard) = self.cached.lock() {
            if let Some(c) = guard.as_ref() {
                if c.expiry().is_none_or(|e| e > soon) {
                    return Ok(c.clone());
                }
            }
        }
        let fresh = self.creds.provide_credentials().await.map_err(|e| {
            CallError::Credentials(format!(
                "no AWS credentials: {}",
                clip(
                    &one_line(&aws_smithy_types_display(&e)),
                    MESSAGE_MAX * 2,
                    "…"
                )
            ))
        })?;
        if let Ok(mut guard) = self.cached.lock() {
            *guard = Some(fresh.clone());
        }
        Ok(fresh)
    }

    fn base(&self, service: &str, region: &str) -> Result<reqwest::Url, CallError> {
        if !is_region(region) {
            return Err(CallError::Transport(format!(
                "{:?} is not an AWS region",
                clip(&one_line(region), 100, "…")
            )));
        }
        if let Some(e) = &self.endpoint {
            return Ok(e.clone());
        }
        // IAM is global: one endpoint per partition, whatever the region.
        if service == "iam" {
            let url = if region.starts_with("cn-") {
                "https://iam.cn-north-1.amazonaws.com.cn/"
            } else if region.starts_with("us-gov-") {
                "https://iam.us-gov.amazonaws.com/"
            } else {
                "https://iam.amazonaws.com/"
            };
            return reqwest::Url::parse(url).map_err(|e| CallError::Transport(e.to_string()));
        }
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        reqwest::Url::parse(&format!("https://{service}.{region}.{suffix}/"))
            .map_err(|e| CallError::Transport(e.to_string()))
    }

    /// A Query call (RDS, EC2, STS): the root element's value of the XML answer.
    pub async fn query(
        &self,
        service: &str,
        region: &str,
        version: &str,
        action: &str,
        params: &[(String, String)],
    ) -> Result<Value, CallError> {
        let mut body = format!(
            "Action={}&Version={}",
            form_escape(action),
            form_escape(version)
        );
        for (k, v) in params {
            body.push('&');
            body.push_str(&form_escape(k));
            body.push('=');
            body.push_str(&form_escape(v));
        }
        let bytes = self
            .send(
                (service, action, 0),
                region,
                "POST",
                "",
                &[(
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                )],
                body.into_bytes(),
            )
            .await?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| CallError::Answer(format!("{service} {action}: answer is not UTF-8")))?;
        let (_, v) = crate::xml::to_json(text)
            .map_err(|e| CallError::Answer(format!("{service} {action}: {e}")))?;
        Ok(v)
    }

    /// An awsJson1.1 call (CloudTrail): `target` is the X-Amz-Target.
    pub async fn json11(
        &self,
        service: &str,
        region: &str,
        target: &str,
        input: &Value,
    ) -> Result<Value, CallError> {
        let bytes = self
            .send(
                (service, target.rsplit('.').next().unwrap_or(target), 0),
                region,
                "POST",
                "",
                &[
                    ("content-type", "application/x-amz-json-1.1"),
                    ("x-amz-target", target),
                ],
                input.to_string().into_bytes(),
            )
            .await?;
        json_answer(service, &bytes)
    }

    /// An awsJson1.0 call (SQS): `target` is the X-Amz-Target.
    pub async fn json10(
        &self,
        service: &str,
        region: &str,
        target: &str,
        input: &Value,
    ) -> Result<Value, CallError> {
        let bytes = self
            .send(
                (service, target.rsplit('.').next().unwrap_or(target), 0),
                region,
                "POST",
                "",
                &[
                    ("content-type", "application/x-amz-json-1.0"),
                    ("x-amz-target", target),
                ],
                input.to_string().into_bytes(),
            )
            .await?;
        json_answer(service, &bytes)
    }

    /// A restJson1 GET (GuardDuty): `path_and_query` already percent-encoded.
    pub async fn rest_get(
        &self,
        service: &str,
        region: &str,
        path_and_query: &str,
    ) -> Result<Value, CallError> {
        let bytes = self
            .send(
                (
                    service,
                    crate::usage::rest_api(service, "GET", path_and_query),
                    0,
                ),
                region,
                "GET",
                path_and_query,
                &[],
                Vec::new(),
            )
            .await?;
        json_answer(service, &bytes)
    }

    /// A restJson1 call with a JSON body (`method` POST for Security Hub's
    /// BatchImportFindings, PATCH for BatchUpdateFindings): `path` already
    /// percent-encoded.
    pub async fn rest_json(
        &self,
        service: &str,
        region: &str,
        method: &str,
        path: &str,
        input: &Value,
    ) -> Result<Value, CallError> {
        // Security Hub bills each finding imported, not the request.
        let items = input["Findings"].as_array().map_or(0, |a| a.len() as u64);
        let bytes = self
            .send(
                (
                    service,
                    crate::usage::rest_api(service, method, path),
                    items,
                ),
                region,
                method,
                path,
                &[("content-type", "application/json")],
                input.to_string().into_bytes(),
            )
            .await?;
        json_answer(service, &bytes)
    }

    /// An S3 GET of `key` in `bucket` (`key` empty: the bucket itself, for
    /// ListObjectsV2), with `query` as its parameters. Path-style
    /// (`endpoint/bucket/key`) with an endpoint URL (moto, MinIO) and for bucket names
    /// with dots (their virtual host would not match the certificate), virtual-hosted
    /// (`bucket.s3.region.amazonaws.com/key`) otherwise. Signed as S3 wants it: the
    /// payload's hash in `x-amz-content-sha256`, the path encoded once and not
    /// normalised.
    pub async fn s3_get(
        &self,
        region: &str,
        bucket: &str,
        key: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<u8>, CallError> {
        if !is_bucket(bucket) {
            return Err(CallError::Transport(format!(
                "{:?} is not an S3 bucket name",
                clip(&one_line(bucket), 100, "…")
            )));
        }
        let url = s3_url(
            self.base("s3", region)?,
            self.endpoint.is_some(),
            bucket,
            key,
            query,
        )?;
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let api = if key.is_empty() {
            "ListObjectsV2"
        } else {
            "GetObject"
        };
        self.send_url(
            ("s3", api, 0),
            region,
            "GET",
            url,
            &[],
            Vec::new(),
            settings,
        )
        .await
    }

    /// Signs and sends, retrying throttling, 5xx and (once) a failed connection.
    /// `call` is the service, the API counted in [`Usage`] and the billable items
    /// the request carries.
    async fn send(
        &self,
        call: (&str, &str, u64),
        region: &str,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Vec<u8>, CallError> {
        let mut url = self.base(call.0, region)?;
        if !path_and_query.is_empty() {
            let (path, query) = match path_and_query.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (path_and_query, None),
            };
            let base_path = url.path().trim_end_matches('/').to_string();
            url.set_path(&format!("{base_path}{path}"));
            url.set_query(query);
        }
        self.send_url(
            call,
            region,
            method,
            url,
            headers,
            body,
            SigningSettings::default(),
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_url(
        &self,
        (service, api, items): (&str, &str, u64),
        region: &str,
        method: &str,
        url: reqwest::Url,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        settings: SigningSettings,
    ) -> Result<Vec<u8>, CallError> {
        let mut throttled = 0u32;
        let mut transport = 0u32;
        loop {
            let mut read = 0u64;
            let attempt = self
                .attempt(
                    service, region, method, &url, headers, &body, &settings, &mut read,
                )
                .await;
            // Every request that left counts (AWS bills a retried one like any
            // other); one that could not be signed never left.
            if !matches!(attempt, Err(CallError::Credentials(_))) {
                let ok = attempt.is_ok();
                self.usage
                    .record(service, api, read, !ok, if ok { items } else { 0 });
            }
            let retry = match &attempt {
                Ok(_) => false,
                Err(e @ CallError::Service { .. }) if e.retry_throttled() => {
                    throttled += 1;
                    throttled < THROTTLE_TRIES
                }
                Err(CallError::Transport(_)) => {
                    transport += 1;
                    transport < TRANSPORT_TRIES
                }
                Err(_) => false,
            };
            if !retry {
                return attempt;
            }
            tokio::time::sleep(backoff(throttled.max(transport))).await;
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        service: &str,
        region: &str,
        method: &str,
        url: &reqwest::Url,
        headers: &[(&str, &str)],
        body: &[u8],
        settings: &SigningSettings,
        read: &mut u64,
    ) -> Result<Vec<u8>, CallError> {
        let creds = self.credentials().await?;
        let identity: Identity = creds.into();
        let signing_region = if region.is_empty() {
            "us-east-1"
        } else {
            region
        };
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(signing_region)
            .name(service)
            .time(SystemTime::now())
            .settings(settings.clone())
            .build()
            .map_err(|e| CallError::Credentials(format!("cannot sign: {e}")))?
            .into();
        let signable = SignableRequest::new(
            method,
            url.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| CallError::Credentials(format!("cannot sign: {e}")))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| CallError::Credentials(format!("cannot sign: {e}")))?
            .into_parts();
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| CallError::Credentials(e.to_string()))?;
        let mut req = self.http.request(method, url.clone());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        for (k, v) in instructions.headers() {
            req = req.header(k, v);
        }
        if !body.is_empty() {
            req = req.body(body.to_vec());
        }
        let mut resp = req.send().await.map_err(|e| {
            CallError::Transport(format!(
                "{service} at {}: {}",
                host_of(url),
                transport_reason(&e)
            ))
        })?;
        let status = resp.status().as_u16();
        let header_code = resp
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.to_string());
        if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
            return Err(CallError::Answer(format!(
                "{service}: answer larger than {} MiB",
                MAX_BODY >> 20
            )));
        }
        let mut bytes = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    *read = read.saturating_add(chunk.len() as u64);
                    if bytes.len() + chunk.len() > MAX_BODY {
                        return Err(CallError::Answer(format!(
                            "{service}: answer larger than {} MiB",
                            MAX_BODY >> 20
                        )));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(CallError::Transport(format!(
                        "{service} at {}: {}",
                        host_of(url),
                        transport_reason(&e)
                    )))
                }
            }
        }
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        let (code, message) = error_of(&bytes, header_code.as_deref());
        Err(CallError::Service {
            status,
            code: clip(&one_line(&code), 100, "…"),
            message: clip(&one_line(&message), MESSAGE_MAX, "…"),
        })
    }
}

/// A region's name as AWS writes them (`us-east-1`, `ap-northeast-1`,
/// `us-gov-west-1`): it goes into host names and signatures.
pub fn is_region(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 40
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An S3 request's URL: path-style (`base/bucket/key`) with an endpoint URL and for
/// bucket names with dots, virtual-hosted (`bucket.<base host>/key`) otherwise; the
/// key and the query encoded as SigV4 wants them.
fn s3_url(
    mut url: reqwest::Url,
    endpoint: bool,
    bucket: &str,
    key: &str,
    query: &[(&str, &str)],
) -> Result<reqwest::Url, CallError> {
    let key_path = uri_escape(key, false);
    if endpoint || bucket.contains('.') {
        let base_path = url.path().trim_end_matches('/').to_string();
        if key.is_empty() {
            url.set_path(&format!("{base_path}/{bucket}"));
        } else {
            url.set_path(&format!("{base_path}/{bucket}/{key_path}"));
        }
    } else {
        let host = format!("{bucket}.{}", url.host_str().unwrap_or_default());
        url.set_host(Some(&host))
            .map_err(|e| CallError::Transport(format!("bucket host: {e}")))?;
        url.set_path(&format!("/{key_path}"));
    }
    if !query.is_empty() {
        let q: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", uri_escape(k, true), uri_escape(v, true)))
            .collect();
        url.set_query(Some(&q.join("&")));
    }
    Ok(url)
}

/// An S3 bucket name as S3 allows them (3 to 63 lower-case letters, digits, dots
/// and hyphens): it goes into host names and paths.
pub fn is_bucket(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !bucket.starts_with(['.', '-'])
        && !bucket.contains("..")
}

/// SigV4's URI encoding: unreserved characters kept, every other byte
/// percent-encoded; `/` kept in a path (`slash` false), encoded in a query value.
pub fn uri_escape(s: &str, slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (b == b'/' && !slash)
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `Display` of the credentials error with its sources (the chain says which
/// providers it tried).
fn aws_smithy_types_display(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn host_of(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

fn transport_reason(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer in time".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut detail = String::new();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        detail = inner.to_string();
        src = inner.source();
    }
    if detail.is_empty() {
        what
    } else {
        clip(&one_line(&format!("{what} ({detail})")), MESSAGE_MAX, "…")
    }
}

/// 200 ms, 400 ms, 800 ms … (at most 5 s), each with up to a quarter more of
/// jitter, so throttled audits of several regions do not retry in step.
fn backoff(tries: u32) -> Duration {
    let base = 200u64
        .saturating_mul(1 << tries.saturating_sub(1).min(5))
        .min(5000);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    Duration::from_millis(base + nanos % (base / 4 + 1))
}

fn json_answer(service: &str, bytes: &[u8]) -> Result<Value, CallError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| CallError::Answer(format!("{service}: answer is not JSON: {e}")))
}

/// The error code and message of a failed call's answer: Query's XML
/// (`<Error><Code>…</Code><Message>…</Message></Error>`, EC2's inside `<Errors>`),
/// the JSON protocols' `__type` / `code` and `message` (or the `x-amzn-ErrorType`
/// header). The code loses any namespace (`…#AccessDeniedException`) and suffix
/// (`:http://…`).
pub fn error_of(body: &[u8], header_code: Option<&str>) -> (String, String) {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 << 10)]);
    let trimmed = text.trim_start();
    let mut code = String::new();
    let mut message = String::new();
    if trimmed.starts_with('<') {
        if let Ok((_, v)) = crate::xml::to_json(trimmed) {
            if let Some(err) = find_key(&v, "Error", 4) {
                let err = crate::xml::items(err)
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                let err = if err.get("Code").is_some() {
                    err
                } else {
                    crate::xml::items(&err)
                        .into_iter()
                        .next()
                        .unwrap_or_default()
                };
                code = err["Code"].as_str().unwrap_or("").to_string();
                message = err["Message"].as_str().unwrap_or("").to_string();
            }
        }
    } else if let Ok(v) = serde_json::from_str::<Value>(trimmed) {
        for k in ["__type", "code", "Code"] {
            if let Some(s) = v.get(k).and_then(Value::as_str) {
                code = s.to_string();
                break;
            }
        }
        for k in ["message", "Message", "errorMessage"] {
            if let Some(s) = v.get(k).and_then(Value::as_str) {
                message = s.to_string();
                break;
            }
        }
    }
    if code.is_empty() {
        code = header_code.unwrap_or("").to_string();
    }
    let code = code.rsplit('#').next().unwrap_or("").to_string();
    let code = code.split(':').next().unwrap_or("").trim().to_string();
    let code = if code.is_empty() {
        "UnknownError".to_string()
    } else {
        code
    };
    if message.is_empty() {
        message = text.chars().take(200).collect();
    }
    (code, message)
}

/// The value under `key`, at most `depth` objects down.
fn find_key<'a>(v: &'a Value, key: &str, depth: usize) -> Option<&'a Value> {
    let obj = v.as_object()?;
    if let Some(found) = obj.get(key) {
        return Some(found);
    }
    if depth == 0 {
        return None;
    }
    obj.values()
        .find_map(|child| find_key(child, key, depth - 1))
}

/// `application/x-www-form-urlencoded` as AWS's Query APIs read it: unreserved
/// characters kept, everything else percent-encoded.
pub fn form_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_of_every_protocol() {
        let rds = br#"<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/x is not authorized</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
        assert_eq!(
            error_of(rds, None),
            (
                "AccessDenied".into(),
                "User: arn:aws:iam::1:user/x is not authorized".into()
            )
        );
        let ec2 = br#"<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>no</Message></Error></Errors><RequestID>r</RequestID></Response>"#;
        assert_eq!(error_of(ec2, None).0, "UnauthorizedOperation");
        let json = br#"{"__type":"com.amazonaws.cloudtrail#AccessDeniedException","message":"m"}"#;
        assert_eq!(
            error_of(json, None),
            ("AccessDeniedException".into(), "m".into())
        );
        assert_eq!(
            error_of(
                b"{}",
                Some("AccessDeniedException:http://internal.amazon.com/")
            )
            .0,
            "AccessDeniedException"
        );
        assert_eq!(error_of(b"\xff\xfe garbage", None).0, "UnknownError");
    }

    #[test]
    fn s3_urls_are_virtual_hosted_or_path_style() {
        let aws = reqwest::Url::parse("https://s3.ap-northeast-1.amazonaws.com/").unwrap();
        let key = "AWSLogs/1/CloudTrail/ap-northeast-1/2026/12/01/a b+c.json.gz";
        assert_eq!(
            s3_url(aws.clone(), false, "trail-bucket", key, &[]).unwrap().as_str(),
            "https://trail-bucket.s3.ap-northeast-1.amazonaws.com/AWSLogs/1/CloudTrail/ap-northeast-1/2026/12/01/a%20b%2Bc.json.gz"
        );
        assert_eq!(
            s3_url(aws.clone(), false, "trail.bucket", "", &[("list-type", "2"), ("prefix", "AWSLogs/"), ("start-after", "a=b")])
                .unwrap()
                .as_str(),
            "https://s3.ap-northeast-1.amazonaws.com/trail.bucket?list-type=2&prefix=AWSLogs%2F&start-after=a%3Db"
        );
        let moto = reqwest::Url::parse("http://127.0.0.1:5000/base/").unwrap();
        assert_eq!(
            s3_url(moto, true, "b-1", "k/x", &[]).unwrap().as_str(),
            "http://127.0.0.1:5000/base/b-1/k/x"
        );
        assert!(is_bucket("trail-bucket") && !is_bucket("-x") && !is_bucket("a..b"));
    }

    #[test]
    fn iam_is_global_per_partition() {
        let c = Client::new(
            SharedCredentialsProvider::new(Credentials::for_tests()),
            None,
            Duration::from_secs(1),
        )
        .unwrap();
        let host = |region: &str| {
            c.base("iam", region)
                .unwrap()
                .host_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(host("us-east-1"), "iam.amazonaws.com");
        assert_eq!(host("ap-northeast-1"), "iam.amazonaws.com");
        assert_eq!(host("cn-north-1"), "iam.cn-north-1.amazonaws.com.cn");
        assert_eq!(host("us-gov-west-1"), "iam.us-gov.amazonaws.com");
        assert_eq!(
            c.base("ec2", "ap-northeast-1").unwrap().host_str(),
            Some("ec2.ap-northeast-1.amazonaws.com")
        );
    }

    #[test]
    fn form_values_are_escaped() {
        assert_eq!(form_escape("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert!(backoff(1) >= Duration::from_millis(200));
        assert!(backoff(1) <= Duration::from_millis(250));
        assert!(backoff(3) >= Duration::from_millis(800));
        assert!(backoff(30) <= Duration::from_millis(6250));
    }
}
