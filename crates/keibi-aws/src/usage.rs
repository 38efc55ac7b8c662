//! What keibi's AWS calls cost: every attempt the signed client sends (a retry is a
//! request AWS bills like any other) is counted here by service and API, with the
//! bytes of its answer and whether it failed; [`estimate`] turns the counts into US
//! dollars with the list prices of [`PRICES`].
//!
//! One process-wide [`Usage`] ([`global`]) is what the commands report at the end
//! of a run and what `keibi run` exposes in `/metrics`: every client the sources,
//! the audit and the export build counts into it without being handed anything.
//! A test (or a caller that wants one source's share) gives its client a private
//! handle with [`crate::signed::Client::with_usage`]. SNS publishes go through the
//! SDK, not the signed client: [`crate::sns`] counts each publish once (the SDK's
//! own retries are not seen) with no bytes.
//!
//! Keys are bounded: service and API names come from keibi's own code (never from
//! an answer), are kept only when they are short identifiers, and past
//! [`MAX_KEYS`] distinct pairs further calls count under `other`/`other`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Distinct (service, API) pairs kept; more count under `other`/`other`.
pub const MAX_KEYS: usize = 64;

/// The counts of one (service, API) pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests sent, each retry included.
    pub requests: u64,
    /// Bytes of the answers' bodies read (error answers included).
    pub bytes: u64,
    /// Attempts that failed (a service error, a failed connection, an answer cut
    /// short).
    pub errors: u64,
    /// Billable items carried by the requests, for APIs priced per item (findings
    /// sent to Security Hub's BatchImportFindings); 0 elsewhere.
    pub items: u64,
}

/// One (service, API) pair and its counts, as [`Usage::snapshot`] lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub service: String,
    pub api: String,
    pub counts: Counts,
}

/// A thread-safe counter of AWS calls (see the module's documentation).
#[derive(Debug, Default)]
pub struct Usage {
    map: Mutex<BTreeMap<(String, String), Counts>>,
}

/// The process-wide counter every [`crate::signed::Client`] counts into unless it
/// was given another.
pub fn global() -> Arc<Usage> {
    static GLOBAL: OnceLock<Arc<Usage>> = OnceLock::new();
    GLOBAL.get_or_init(|| Arc::new(Usage::default())).clone()
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Usage {
    /// A new, empty counter.
    pub fn new() -> Arc<Usage> {
        Arc::new(Usage::default())
    }

    /// One attempt of `service`'s `api`: `bytes` of answer read, `failed` when it
    /// did not succeed, `items` billable items it carried.
    pub fn record(&self, service: &str, api: &str, bytes: u64, failed: bool, items: u64) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = if is_name(service) && is_name(api) {
            (service.to_string(), api.to_string())
        } else {
            ("other".to_string(), "other".to_string())
        };
        if !map.contains_key(&key) && map.len() >= MAX_KEYS {
            key = ("other".to_string(), "other".to_string());
        }
        let c = map.entry(key).or_default();
        c.requests = c.requests.saturating_add(1);
        c.bytes = c.bytes.saturating_add(bytes);
        c.errors = c.errors.saturating_add(u64::from(failed));
        c.items = c.items.saturating_add(items);
    }

    /// Every pair counted so far, by service then API.
    pub fn snapshot(&self) -> Vec<Line> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .map(|((service, api), counts)| Line {
                service: service.clone(),
                api: api.clone(),
                counts: *counts,
            })
            .collect()
    }

    /// The counts of one pair (zero when never called).
    pub fn get(&self, service: &str, api: &str) -> Counts {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(service.to_string(), api.to_string()))
            .copied()
            .unwrap_or_default()
    }

    /// Nothing counted yet.
    pub fn is_empty(&self) -> bool {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }
}

/// The list price of one API in one region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub service: &'static str,
    pub api: &'static str,
    /// USD per 1,000 requests.
    pub per_1k_requests: f64,
    /// USD per billable item (a finding imported).
    pub per_item: f64,
}

/// Data transfer out of AWS to the internet, USD per GB (the first 10 TB of a
/// month), by region; inside the region it is free. The estimate counts it
/// (keibi running outside AWS is the upper bound).
pub const TRANSFER_OUT_PER_GB: &[(&str, f64)] = &[("us-east-1", 0.09), ("ap-northeast-1", 0.114)];

/// The regions [`PRICES`] has; any other is estimated with us-east-1's prices.
pub const PRICED_REGIONS: &[&str] = &["us-east-1", "ap-northeast-1"];

// Public list prices in USD as of December 2026. The us-east-1 figures are those
// the project's issue 17 brief states; the ap-northeast-1 ones (S3 requests and
// transfer out) are Tokyo's published rates as the author knew them. Neither was
// re-read from the pages below when this table was written (no network): check
// them before budgeting. Sources:
//   https://aws.amazon.com/s3/pricing/            (S3 Standard requests, data transfer)
//   https://aws.amazon.com/cloudwatch/pricing/    (Logs: ingestion, storage, Insights)
//   https://aws.amazon.com/cloudtrail/pricing/    (LookupEvents: free)
//   https://aws.amazon.com/rds/pricing/           (log file download: no charge)
//   https://aws.amazon.com/security-hub/pricing/  (finding ingestion events)
//   https://aws.amazon.com/sqs/pricing/           (standard queue requests)
//   https://aws.amazon.com/sns/pricing/           (standard topic publishes)
// Assumptions, said plainly: CloudWatch's price list charges API requests at $0.01
// per 1,000 past a free tier of 1,000,000 a month without naming FilterLogEvents
// either way (/work/shared/reference/ has no price for it), so it is counted at
// that rate: the estimate stays an upper bound (ingestion and storage are paid
// whether keibi reads the logs or not, and are not keibi's); the describe calls of
// an audit (RDS, EC2, STS, CloudTrail, GuardDuty, IAM) and the response executors'
// calls are free; free tiers (S3's 20,000 GETs, CloudWatch's million requests,
// Security Hub's first 10,000 findings a month per account and region, SQS's and
// SNS's first million requests) are left out, so the estimate is an upper bound.
const PRICES_US_EAST_1: &[Price] = &[
    p("s3", "GetObject", 0.0004, 0.0),
    p("s3", "ListObjectsV2", 0.005, 0.0),
    p("logs", "FilterLogEvents", 0.01, 0.0),
    p("rds", "DescribeDBLogFiles", 0.0, 0.0),
    p("rds", "DownloadDBLogFilePortion", 0.0, 0.0),
    p("cloudtrail", "LookupEvents", 0.0, 0.0),
    p("securityhub", "BatchImportFindings", 0.0, 0.00003),
    p("sqs", "ReceiveMessage", 0.0004, 0.0),
    p("sqs", "DeleteMessage", 0.0004, 0.0),
    p("sqs", "DeleteMessageBatch", 0.0004, 0.0),
    p("sns", "Publish", 0.0005, 0.0),
];
const PRICES_AP_NORTHEAST_1: &[Price] = &[
    p("s3", "GetObject", 0.00037, 0.0),
    p("s3", "ListObjectsV2", 0.0047, 0.0),
    p("logs", "FilterLogEvents", 0.01, 0.0),
    p("rds", "DescribeDBLogFiles", 0.0, 0.0),
    p("rds", "DownloadDBLogFilePortion", 0.0, 0.0),
    p("cloudtrail", "LookupEvents", 0.0, 0.0),
    p("securityhub", "BatchImportFindings", 0.0, 0.00003),
    p("sqs", "ReceiveMessage", 0.0004, 0.0),
    p("sqs", "DeleteMessage", 0.0004, 0.0),
    p("sqs", "DeleteMessageBatch", 0.0004, 0.0),
    p("sns", "Publish", 0.0005, 0.0),
];

const fn p(service: &'static str, api: &'static str, per_1k: f64, per_item: f64) -> Price {
    Price {
        service,
        api,
        per_1k_requests: per_1k,
        per_item,
    }
}

/// The price table of `region` (us-east-1's for a region not in the table).
pub fn prices(region: &str) -> &'static [Price] {
    match region {
        "ap-northeast-1" => PRICES_AP_NORTHEAST_1,
        _ => PRICES_US_EAST_1,
    }
}

/// The list price of `service`'s `api` in `region`, when the table has it (an API
/// it does not list, such as a describe call, costs nothing per request).
pub fn price(region: &str, service: &str, api: &str) -> Option<Price> {
    prices(region)
        .iter()
        .find(|p| p.service == service && p.api == api)
        .copied()
}

fn transfer_per_gb(region: &str) -> f64 {
    TRANSFER_OUT_PER_GB
        .iter()
        .find(|(r, _)| *r == region)
        .or_else(|| TRANSFER_OUT_PER_GB.first())
        .map_or(0.0, |(_, usd)| *usd)
}

/// The estimated cost of one (service, API) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Cost {
    pub service: String,
    pub api: String,
    pub counts: Counts,
    /// Requests (and items) at list price.
    pub requests_usd: f64,
    /// The answers' bytes as data transfer out to the internet.
    pub transfer_usd: f64,
}

impl Cost {
    pub fn usd(&self) -> f64 {
        self.requests_usd + self.transfer_usd
    }
}

/// The estimate of a run: one [`Cost`] per pair, and their sum.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Estimate {
    pub region: String,
    pub costs: Vec<Cost>,
}

impl Estimate {
    pub fn total_usd(&self) -> f64 {
        self.costs.iter().map(Cost::usd).sum()
    }
    pub fn requests(&self) -> u64 {
        self.costs.iter().map(|c| c.counts.requests).sum()
    }
    pub fn bytes(&self) -> u64 {
        self.costs.iter().map(|c| c.counts.bytes).sum()
    }
}

/// What `lines` cost at `region`'s list prices, transfer out to the internet
/// included (the upper bound: free when keibi runs in the same region). Pure.
pub fn estimate(lines: &[Line], region: &str) -> Estimate {
    let per_gb = transfer_per_gb(region);
    let costs = lines
        .iter()
        .map(|l| {
            let p = price(region, &l.service, &l.api);
            let requests_usd = p.map_or(0.0, |p| {
                l.counts.requests as f64 * p.per_1k_requests / 1000.0
                    + l.counts.items as f64 * p.per_item
            });
            Cost {
                service: l.service.clone(),
                api: l.api.clone(),
                counts: l.counts,
                requests_usd,
                transfer_usd: l.counts.bytes as f64 / 1e9 * per_gb,
            }
        })
        .collect();
    Estimate {
        region: region.to_string(),
        costs,
    }
}

/// The API of a restJson1 call by its service, method and path (GuardDuty's and
/// Security Hub's paths name the operation), `other` for one not listed.
pub fn rest_api(service: &str, method: &str, path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or("");
    match (service, method, path) {
        ("guardduty", "GET", "/detector") => "ListDetectors",
        ("guardduty", "GET", p) if p.starts_with("/detector/") && p.matches('/').count() == 2 => {
            "GetDetector"
        }
        ("guardduty", "POST", p) if p.ends_with("/findings/get") => "GetFindings",
        ("guardduty", "POST", p) if p.ends_with("/findings") => "ListFindings",
        ("securityhub", "POST", "/findings/import") => "BatchImportFindings",
        ("securityhub", "PATCH", "/findings/batchupdate") => "BatchUpdateFindings",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(service: &str, api: &str, requests: u64, bytes: u64, items: u64) -> Line {
        Line {
            service: service.into(),
            api: api.into(),
            counts: Counts {
                requests,
                bytes,
                errors: 0,
                items,
            },
        }
    }

    #[test]
    fn counts_each_attempt_bytes_and_errors() {
        let u = Usage::default();
        u.record("s3", "GetObject", 100, false, 0);
        u.record("s3", "GetObject", 20, true, 0);
        u.record("logs", "FilterLogEvents", 7, false, 0);
        assert_eq!(
            u.get("s3", "GetObject"),
            Counts {
                requests: 2,
                bytes: 120,
                errors: 1,
                items: 0
            }
        );
        let snap = u.snapshot();
        assert_eq!(snap.len(), 2);
        assert_eq!(snap[0].service, "logs");
    }

    #[test]
    fn keys_are_bounded_and_names_checked() {
        let u = Usage::default();
        for i in 0..200 {
            u.record("svc", &format!("Api{i}"), 1, false, 0);
        }
        u.record("s3", "Get\"Object\n", 1, false, 0);
        let snap = u.snapshot();
        assert!(snap.len() <= MAX_KEYS + 1);
        let other = u.get("other", "other");
        assert_eq!(other.requests, 200 - MAX_KEYS as u64 + 1);
        assert_eq!(snap.iter().map(|l| l.counts.requests).sum::<u64>(), 201);
    }

    #[test]
    fn estimate_at_list_prices() {
        // 1,000,000 GETs, 10,000 LISTs, 1 GB of answers in us-east-1:
        // $0.40 + $0.05 + $0.09.
        let lines = vec![
            line("s3", "GetObject", 1_000_000, 1_000_000_000, 0),
            line("s3", "ListObjectsV2", 10_000, 0, 0),
            line("rds", "DownloadDBLogFilePortion", 5_000, 0, 0),
            line("cloudtrail", "LookupEvents", 3_000, 0, 0),
        ];
        let e = estimate(&lines, "us-east-1");
        let by = |api: &str| e.costs.iter().find(|c| c.api == api).unwrap().usd();
        assert!((by("GetObject") - 0.49).abs() < 1e-9, "{}", by("GetObject"));
        assert!((by("ListObjectsV2") - 0.05).abs() < 1e-9);
        assert_eq!(by("DownloadDBLogFilePortion"), 0.0);
        assert_eq!(by("LookupEvents"), 0.0);
        assert!((e.total_usd() - 0.54).abs() < 1e-9);
        assert_eq!(e.requests(), 1_018_000);

        // Tokyo's prices differ; an unknown region falls back to us-east-1.
        let tokyo = estimate(&lines[..1], "ap-northeast-1");
        assert!((tokyo.total_usd() - (0.37 + 0.114)).abs() < 1e-9);
        assert_eq!(estimate(&lines, "eu-west-9").total_usd(), e.total_usd());
    }

    #[test]
    fn security_hub_is_priced_per_finding() {
        let e = estimate(
            &[line("securityhub", "BatchImportFindings", 10, 0, 1000)],
            "us-east-1",
        );
        assert!((e.total_usd() - 0.03).abs() < 1e-9);
    }

    #[test]
    fn rest_paths_name_their_api() {
        assert_eq!(
            rest_api("guardduty", "GET", "/detector?maxResults=50"),
            "ListDetectors"
        );
        assert_eq!(rest_api("guardduty", "GET", "/detector/abc"), "GetDetector");
        assert_eq!(
            rest_api("securityhub", "POST", "/findings/import"),
            "BatchImportFindings"
        );
        assert_eq!(rest_api("securityhub", "GET", "/x"), "other");
    }
}
