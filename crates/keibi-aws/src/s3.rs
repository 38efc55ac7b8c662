//! Reading logs where AWS keeps them in S3: CloudTrail's trail bucket
//! (`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz`, and an
//! organisation trail's `AWSLogs/<org-id>/<account>/CloudTrail/…`), or any prefix of
//! log files. Objects are listed with ListObjectsV2 in key order (after a key, the
//! checkpoint of a source that polls) and fetched with GetObject, both signed by
//! [`crate::signed`]; the bytes go through the same decompression and parsers as a
//! local file.
//!
//! With a start date (`--since`) the listing does not walk months of history: the
//! folders down to each `<region>/` (the level whose children are years) are listed
//! with a delimiter, and each region's listing starts after the day before the
//! start date.
//!
//! Bucket contents are untrusted: key and prefix counts are bounded, each object by
//! [`crate::signed::MAX_BODY`], and the XML answers by the signed client.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{Days, NaiveDate};
use keibi_notify::text::{clip, one_line};
use serde_json::Value;

use crate::signed::{is_bucket, CallError, Client};

/// Keys one listing returns at most: a year of a busy trail in one region is
/// ~100,000 files; a listing that would go past this is an error, not a silent cut.
pub const MAX_KEYS: usize = 1_000_000;
/// Folders the `--since` walk lists at most before it gives up and lists everything.
const MAX_FOLDERS: usize = 10_000;
/// How deep the `--since` walk looks for the year folders (`AWSLogs/<org>/<account>/
/// CloudTrail/<region>/` is five below the bucket).
const MAX_WALK: usize = 7;

/// Why reading a bucket failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum S3Error {
    #[error("{0}")]
    Url(String),
    #[error("S3: {0}")]
    Call(#[from] CallError),
    #[error("S3 listing of s3://{bucket}/{prefix} has more than {max} objects: name a narrower prefix or give --since")]
    TooMany {
        bucket: String,
        prefix: String,
        max: usize,
    },
    #[error("S3: {0}")]
    Setup(String),
}

/// `s3://bucket/prefix`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub prefix: String,
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Reads `s3://bucket` or `s3://bucket/prefix`.
pub fn parse_url(url: &str) -> Result<S3Url, S3Error> {
    let shown = || clip(&one_line(url), 200, "…");
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| S3Error::Url(format!("{:?} is not an s3:// URL", shown())))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if !is_bucket(bucket) {
        return Err(S3Error::Url(format!(
            "{:?}: {:?} is not an S3 bucket name",
            shown(),
            clip(&one_line(bucket), 100, "…")
        )));
    }
    if prefix.len() > 1024 || prefix.chars().any(char::is_control) {
        return Err(S3Error::Url(format!(
            "{:?}: not a usable key prefix",
            shown()
        )));
    }
    Ok(S3Url {
        bucket: bucket.to_string(),
        prefix: prefix.to_string(),
    })
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub size: u64,
}

/// Where and how to call S3.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// The bucket's region [default: the credential chain's; us-east-1 with an
    /// endpoint URL].
    pub region: Option<String>,
    /// Path-style requests to this endpoint (moto, MinIO, a VPC endpoint).
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub timeout: Duration,
    /// A role to assume (with the chain's or the profile's credentials) and read
    /// with: another account's bucket, log group, instance or event history.
    pub role_arn: Option<String>,
    /// The external id `role_arn`'s trust policy asks for.
    pub external_id: Option<String>,
}

impl S3Options {
    /// The credentials to sign with: the role's when there is one
    /// ([`crate::config::signing_credentials`]).
    pub fn signing(
        &self,
        chain: aws_credential_types::provider::SharedCredentialsProvider,
        region: Option<&str>,
        timeout: Duration,
    ) -> Result<aws_credential_types::provider::SharedCredentialsProvider, String> {
        crate::config::signing_credentials(
            chain,
            self.role_arn.as_deref(),
            self.external_id.as_deref(),
            region,
            self.endpoint_url.as_deref(),
            timeout,
        )
        .map_err(|e| e.to_string())
    }

    /// What every client of these options starts from: a runtime, the signed
    /// client (the role's credentials when one is set) and the region (the given
    /// one, else the chain's, else us-east-1 with an endpoint URL). `what` names
    /// what needs a region, for the error ("the bucket").
    pub(crate) fn connect(&self, what: &str) -> Result<Connected, ConnectError> {
        let rt = crate::config::runtime().map_err(|e| {
            ConnectError::Setup(format!("cannot start the AWS client's runtime: {e}"))
        })?;
        let timeout = if self.timeout.is_zero() {
            Duration::from_secs(30)
        } else {
            self.timeout
        };
        let conf = rt.block_on(crate::config::load_with_profile(
            self.region.clone(),
            self.endpoint_url.clone(),
            self.profile.clone(),
            timeout,
        ));
        let region = match (conf.region(), &self.endpoint_url) {
            (Some(r), _) => r.to_string(),
            (None, Some(_)) => "us-east-1".to_string(),
            (None, None) => {
                return Err(ConnectError::Setup(format!(
                    "no region for {what}: give --region, or set AWS_REGION or the profile's region"
                )))
            }
        };
        let creds = conf
            .credentials_provider()
            .ok_or_else(|| ConnectError::Setup("no AWS credentials provider".into()))?;
        let creds = self
            .signing(creds, Some(&region), timeout)
            .map_err(ConnectError::Setup)?;
        let client = Client::new(creds, self.endpoint_url.as_deref(), timeout)
            .map_err(ConnectError::Call)?;
        Ok(Connected { rt, client, region })
    }
}

/// A client ready to call ([`S3Options::connect`]).
pub(crate) struct Connected {
    pub rt: tokio::runtime::Runtime,
    pub client: Client,
    pub region: String,
}

/// Why [`S3Options::connect`] failed: each client's error type takes both.
pub(crate) enum ConnectError {
    Setup(String),
    Call(CallError),
}

/// Objects that are never logs: CloudTrail's digest files, hidden names, folder
/// markers.
pub fn skipped(key: &str) -> bool {
    key.ends_with('/')
        || key
            .split('/')
            .any(|seg| seg == "CloudTrail-Digest" || seg.starts_with('.'))
}

/// A blocking S3 reader: one runtime, one signed client, one call at a time (the
/// callers are the ingest's worker threads).
pub struct S3Reader {
    inner: Mutex<(tokio::runtime::Runtime, Client)>,
    region: String,
}

impl S3Reader {
    pub fn new(opts: &S3Options) -> Result<S3Reader, S3Error> {
        let Connected { rt, client, region } = opts.connect("the bucket").map_err(|e| match e {
            ConnectError::Setup(s) => S3Error::Setup(s),
            ConnectError::Call(e) => e.into(),
        })?;
        Ok(S3Reader {
            inner: Mutex::new((rt, client)),
            region,
        })
    }

    fn call(&self, bucket: &str, key: &str, query: &[(&str, &str)]) -> Result<Vec<u8>, S3Error> {
        let guard = self
            .inner
            .lock()
            .map_err(|_| S3Error::Setup("the S3 client failed earlier".into()))?;
        let (rt, client) = &*guard;
        Ok(rt.block_on(client.s3_get(&self.region, bucket, key, query))?)
    }

    /// One ListObjectsV2 page: its objects, its common prefixes (with `delimiter`)
    /// and the continuation token when there is more.
    fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        token: Option<&str>,
        delimiter: bool,
    ) -> Result<Page, S3Error> {
        let mut q: Vec<(&str, &str)> = vec![("list-type", "2"), ("prefix", prefix)];
        if let Some(s) = start_after {
            q.push(("start-after", s));
        }
        if let Some(t) = token {
            q.push(("continuation-token", t));
        }
        if delimiter {
            q.push(("delimiter", "/"));
        }
        let bytes = self.call(bucket, "", &q)?;
        page_of(&bytes)
    }

    /// The first `max` objects under `prefix` in key order, after `start_after` when
    /// given (a source that polls lists on after the last of them next time).
    pub fn list_first(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        max: usize,
    ) -> Result<Vec<Object>, S3Error> {
        match self.list(bucket, prefix, start_after, max) {
            Err(S3Error::TooMany { .. }) => {}
            other => return other,
        }
        // Listed again, keeping the first `max`: rare (a first poll of a large
        // prefix), and simpler than a second paging loop.
        let mut out = Vec::new();
        let mut after = start_after.map(str::to_string);
        while out.len() < max {
            let page = self.list_page(bucket, prefix, after.as_deref(), None, false)?;
            let more = page.next.is_some();
            let Some(last) = page.objects.last().map(|o| o.key.clone()) else {
                break;
            };
            out.extend(page.objects.into_iter().filter(|o| !skipped(&o.key)));
            after = Some(last);
            if !more {
                break;
            }
        }
        out.truncate(max);
        Ok(out)
    }

    /// The objects under `prefix` in key order, after `start_after` when given; more
    /// than `max` is an error.
    pub fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        max: usize,
    ) -> Result<Vec<Object>, S3Error> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.list_page(bucket, prefix, start_after, token.as_deref(), false)?;
            for o in page.objects {
                if !skipped(&o.key) {
                    out.push(o);
                }
            }
            if out.len() > max {
                return Err(S3Error::TooMany {
                    bucket: bucket.to_string(),
                    prefix: prefix.to_string(),
                    max,
                });
            }
            match page.next {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    /// The folders right under `prefix` (ListObjectsV2 with `/` as delimiter).
    fn folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, S3Error> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.list_page(bucket, prefix, None, token.as_deref(), true)?;
            out.extend(page.prefixes);
            if out.len() > MAX_FOLDERS {
                return Ok(out);
            }
            match page.next {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    /// The folders under `url` whose children are years (`…/CloudTrail/<region>/`:
    /// one per account and region, organisation trails included), each listed
    /// apart; `None` when there are none, or too many to walk.
    pub fn year_roots(&self, url: &S3Url) -> Result<Option<Vec<String>>, S3Error> {
        let mut roots = Vec::new();
        let mut frontier = vec![url.prefix.clone()];
        let mut seen = 0usize;
        for _ in 0..MAX_WALK {
            let mut next = Vec::new();
            for p in frontier {
                let children = self.folders(&url.bucket, &p)?;
                seen += children.len() + 1;
                if seen > MAX_FOLDERS {
                    return Ok(None);
                }
                if children
                    .iter()
                    .any(|c| c.strip_prefix(p.as_str()).is_some_and(is_year))
                {
                    roots.push(p);
                } else {
                    next.extend(children.into_iter().filter(|c| {
                        c.starts_with(p.as_str()) && !skipped(c.trim_end_matches('/'))
                    }));
                }
            }
            frontier = next;
            if frontier.is_empty() {
                break;
            }
        }
        Ok((!roots.is_empty()).then_some(roots))
    }

    /// Where to list for objects dated `since` or later: each folder whose children
    /// are years with the key to start after, or, when no such folder is found,
    /// `url`'s whole prefix.
    pub fn dated_roots(
        &self,
        url: &S3Url,
        since: NaiveDate,
    ) -> Result<Vec<(String, Option<String>)>, S3Error> {
        // Objects are delivered up to about a quarter of an hour after their
        // events, under the delivery's date: a day earlier is safe.
        let day = since.checked_sub_days(Days::new(1)).unwrap_or(since);
        let after = day.format("%Y/%m/%d/").to_string();
        Ok(match self.year_roots(url)? {
            Some(roots) => roots
                .into_iter()
                .map(|r| {
                    let a = format!("{r}{after}");
                    (r, Some(a))
                })
                .collect(),
            None => vec![(url.prefix.clone(), None)],
        })
    }

    /// The objects `url` names, in key order per dated folder; from the day before
    /// `since` on when given.
    pub fn objects(&self, url: &S3Url, since: Option<NaiveDate>) -> Result<Vec<Object>, S3Error> {
        let roots = match since {
            Some(d) => self.dated_roots(url, d)?,
            None => vec![(url.prefix.clone(), None)],
        };
        let mut out = Vec::new();
        for (prefix, after) in roots {
            let left = MAX_KEYS.saturating_sub(out.len());
            out.extend(self.list(&url.bucket, &prefix, after.as_deref(), left)?);
        }
        Ok(out)
    }

    /// An object's bytes (at most [`crate::signed::MAX_BODY`]).
    pub fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, S3Error> {
        if key.is_empty() {
            return Err(S3Error::Url("an empty object key".into()));
        }
        self.call(bucket, key, &[])
    }
}

/// A year folder's name, `2026/`.
fn is_year(rest: &str) -> bool {
    let name = rest.strip_suffix('/').unwrap_or(rest);
    name.len() == 4 && name.bytes().all(|b| b.is_ascii_digit())
}

#[derive(Debug, Default)]
struct Page {
    objects: Vec<Object>,
    prefixes: Vec<String>,
    next: Option<String>,
}

/// A ListObjectsV2 answer.
fn page_of(bytes: &[u8]) -> Result<Page, S3Error> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| CallError::Answer("S3 ListObjectsV2: answer is not UTF-8".into()))?;
    let (root, v) = crate::xml::to_json(text)
        .map_err(|e| CallError::Answer(format!("S3 ListObjectsV2: {e}")))?;
    if root != "ListBucketResult" {
        return Err(CallError::Answer(format!(
            "S3 ListObjectsV2: the answer is a {:?}, not a ListBucketResult",
            clip(&one_line(&root), 60, "…")
        ))
        .into());
    }
    let mut page = Page::default();
    for o in list_of(&v["Contents"]) {
        let key = o["Key"].as_str().unwrap_or_default();
        if key.is_empty() {
            continue;
        }
        let size = o["Size"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
        page.objects.push(Object {
            key: key.to_string(),
            size,
        });
    }
    for p in list_of(&v["CommonPrefixes"]) {
        if let Some(s) = p["Prefix"].as_str() {
            if s.ends_with('/') {
                page.prefixes.push(s.to_string());
            }
        }
    }
    if v["IsTruncated"].as_str() == Some("true") {
        let token = v["NextContinuationToken"].as_str().unwrap_or_default();
        if token.is_empty() {
            return Err(CallError::Answer(
                "S3 ListObjectsV2: a truncated answer without a continuation token".into(),
            )
            .into());
        }
        page.next = Some(token.to_string());
    }
    Ok(page)
}

/// A repeated element (an array) or a single one (an object), as the XML reader
/// gives them.
fn list_of(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(_) => vec![v.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split_and_checked() {
        assert_eq!(
            parse_url("s3://trail-bucket/AWSLogs/o-1/").unwrap(),
            S3Url {
                bucket: "trail-bucket".into(),
                prefix: "AWSLogs/o-1/".into()
            }
        );
        assert_eq!(parse_url("s3://trail-bucket").unwrap().prefix, "");
        assert!(parse_url("s3://Bad_Bucket/x").is_err());
        assert!(parse_url("s3://a/x").is_err());
        assert!(parse_url("s3://bucket/a\nb").is_err());
        assert!(parse_url("https://bucket/x").is_err());
    }

    #[test]
    fn listings_are_read_and_digests_skipped() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix>
<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>
<NextContinuationToken>tok&amp;1</NextContinuationToken>
<Contents><Key>AWSLogs/1/CloudTrail/us-east-1/2026/12/01/a.json.gz</Key><Size>120</Size></Contents>
<Contents><Key>AWSLogs/1/CloudTrail-Digest/us-east-1/2026/12/01/d.json.gz</Key><Size>9</Size></Contents>
<CommonPrefixes><Prefix>AWSLogs/</Prefix></CommonPrefixes>
</ListBucketResult>"#;
        let page = page_of(xml.as_bytes()).unwrap();
        assert_eq!(page.objects.len(), 2);
        assert_eq!(page.objects[0].size, 120);
        assert_eq!(page.next.as_deref(), Some("tok&1"));
        assert_eq!(page.prefixes, vec!["AWSLogs/".to_string()]);
        assert!(skipped(&page.objects[1].key));
        assert!(!skipped(&page.objects[0].key));
        // One element is an object, not an array.
        let one = r#"<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>"#;
        let page = page_of(one.as_bytes()).unwrap();
        assert_eq!(
            page.objects,
            vec![Object {
                key: "k".into(),
                size: 1
            }]
        );
        assert_eq!(page.next, None);
        // A proxy's page, a truncated answer with no token: errors, not an empty list.
        assert!(page_of(b"<html><body>hi</body></html>").is_err());
        assert!(
            page_of(b"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>")
                .is_err()
        );
    }

    #[test]
    fn years_are_recognised() {
        assert!(is_year("2026/"));
        assert!(!is_year("us-east-1/"));
        assert!(!is_year("20261/"));
    }
}
