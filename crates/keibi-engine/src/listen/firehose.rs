//! The Amazon Data Firehose HTTP endpoint delivery protocol, as the Firehose
//! developer guide specifies it ("HTTP endpoint delivery request and response
//! specifications"): a POST whose headers carry `X-Amz-Firehose-Request-Id` (the
//! same on every retry of a request), `X-Amz-Firehose-Access-Key` (the key set on
//! the delivery stream) and optionally `Content-Encoding: gzip`; whose JSON body is
//! `{"requestId", "timestamp", "records": [{"data": base64}]}`; answered with
//! `{"requestId", "timestamp"}` and 200, or an error status with `errorMessage`.
//!
//! A record is a CloudWatch Logs subscription payload (gzip JSON, as a
//! subscription filter writes it, or already decompressed by Firehose) whose log
//! group names the RDS instance and the log type, or raw log lines. Every record of
//! a request is decoded before anything is queued: a request is queued whole or not
//! at all. A retried request id already queued is answered 200 and not fed again.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use serde::Deserialize;

use keibi_parse::cloudtrail::cloudwatch::is_payload;

use super::{gunzip, same_secret, Counters, Inbox, Item, Offer};

/// Request ids remembered for retries (Firehose retries a request for up to its
/// retry duration, 300 s by default): about 2.5 MiB at most.
pub const REMEMBERED_IDS: usize = 10_000;

/// Longest request id taken (Firehose's are GUIDs).
const MAX_ID: usize = 256;

/// Requests read at once: bodies in memory are bounded by this many times the
/// body bound (and what they decompress to).
const CONCURRENT: usize = 4;

/// How much more than the body its records may decompress to.
const DECODED_FACTOR: usize = 4;

/// The endpoint's state.
pub struct Firehose {
    key: Vec<u8>,
    max_body: usize,
    inbox: Inbox,
    seen: Mutex<Seen>,
    permits: tokio::sync::Semaphore,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Seen {
    fn insert(&mut self, id: String) {
        if self.ids.len() >= REMEMBERED_IDS {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        self.ids.insert(id.clone());
        self.order.push_back(id);
    }
}

impl Firehose {
    pub fn new(
        key: Vec<u8>,
        max_body: usize,
        inbox: Inbox,
        counters: Arc<Counters>,
    ) -> Arc<Firehose> {
        Arc::new(Firehose {
            counters,
            key,
            max_body,
            inbox,
            seen: Mutex::new(Seen::default()),
            permits: tokio::sync::Semaphore::new(CONCURRENT),
        })
    }
}

/// The routes: a POST to any path (the delivery stream's URL names it).
pub fn router(f: Arc<Firehose>) -> Router {
    Router::new()
        .route("/", post(handle))
        .route("/{*path}", post(handle))
        .with_state(f)
}

#[derive(Deserialize)]
struct Request {
    #[serde(rename = "requestId", default)]
    request_id: Option<String>,
    records: Vec<Record>,
}

#[derive(Deserialize)]
pub(crate) struct Record {
    pub(crate) data: String,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The documented answer: `{"requestId", "timestamp"}` and, on an error,
/// `errorMessage`.
fn answer(code: StatusCode, id: &str, error: Option<&str>) -> Response {
    let mut body = serde_json::json!({ "requestId": id, "timestamp": now_ms() });
    if let Some(e) = error {
        body["errorMessage"] = serde_json::Value::from(e);
    }
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn handle(State(f): State<Arc<Firehose>>, headers: HeaderMap, body: Body) -> Response {
    let r = handle_one(&f, headers, body).await;
    if r.status() != StatusCode::OK {
        Counters::add(&f.counters.refused);
    }
    r
}

async fn handle_one(f: &Firehose, headers: HeaderMap, body: Body) -> Response {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let id = text("x-amz-firehose-request-id")
        .unwrap_or_default()
        .chars()
        .take(MAX_ID)
        .collect::<String>();
    match headers.get("x-amz-firehose-access-key") {
        None => return answer(StatusCode::UNAUTHORIZED, &id, Some("missing access key")),
        Some(k) if !same_secret(k.as_bytes(), &f.key) => {
            return answer(StatusCode::FORBIDDEN, &id, Some("invalid access key"))
        }
        Some(_) => {}
    }
    if !id.is_empty() && lock(&f.seen).ids.contains(&id) {
        Counters::add(&f.counters.retries);
        return answer(StatusCode::OK, &id, None);
    }
    let too_large = |id: &str| answer(StatusCode::PAYLOAD_TOO_LARGE, id, Some("payload too large"));
    let declared = text("content-length").and_then(|l| l.parse::<u64>().ok());
    if declared.is_some_and(|l| l > f.max_body as u64) {
        return too_large(&id);
    }
    let Ok(_permit) = f.permits.acquire().await else {
        return answer(StatusCode::SERVICE_UNAVAILABLE, &id, Some("stopping"));
    };
    let Ok(bytes) = axum::body::to_bytes(body, f.max_body).await else {
        return too_large(&id);
    };
    let budget = f.max_body.saturating_mul(DECODED_FACTOR);
    let json = match text("content-encoding").map(str::trim) {
        None | Some("") | Some("identity") => bytes.to_vec(),
        Some(e) if e.eq_ignore_ascii_case("gzip") => match gunzip(&bytes, budget) {
            Ok(j) => j,
            Err(e) if e.starts_with("decompresses") => return too_large(&id),
            Err(e) => return answer(StatusCode::BAD_REQUEST, &id, Some(&format!("body {e}"))),
        },
        Some(_) => {
            return answer(
                StatusCode::BAD_REQUEST,
                &id,
                Some("unsupported content encoding"),
            )
        }
    };
    let req: Request = match serde_json::from_slice(&json) {
        Ok(r) => r,
        Err(e) => {
            return answer(
                StatusCode::BAD_REQUEST,
                &id,
                Some(&format!("malformed request body: {e}")),
            )
        }
    };
    drop(json);
    let id = if id.is_empty() {
        req.request_id
            .unwrap_or_default()
            .chars()
            .take(MAX_ID)
            .collect()
    } else {
        id
    };
    if id.is_empty() {
        return answer(StatusCode::BAD_REQUEST, &id, Some("missing request id"));
    }
    let items = match records(&req.records, budget) {
        Ok(items) => items,
        Err(Bad::TooLarge) => return too_large(&id),
        Err(Bad::Malformed(e)) => return answer(StatusCode::BAD_REQUEST, &id, Some(&e)),
    };
    // Checked again with the queueing: a retry sent while the first try was read
    // is fed once.
    let mut seen = lock(&f.seen);
    if seen.ids.contains(&id) {
        Counters::add(&f.counters.retries);
        return answer(StatusCode::OK, &id, None);
    }
    match f.inbox.offer(items) {
        Offer::Queued => {
            seen.insert(id.clone());
            answer(StatusCode::OK, &id, None)
        }
        Offer::Full => answer(
            StatusCode::SERVICE_UNAVAILABLE,
            &id,
            Some("busy: too much waiting to be read, try again"),
        ),
        Offer::TooBig => too_large(&id),
    }
}

fn lock(m: &Mutex<Seen>) -> std::sync::MutexGuard<'_, Seen> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) enum Bad {
    TooLarge,
    Malformed(String),
}

/// Decodes every record, within `budget` bytes in all.
pub(crate) fn records(records: &[Record], budget: usize) -> Result<Vec<Item>, Bad> {
    let mut items = Vec::new();
    let mut used = 0usize;
    let stream: Arc<str> = Arc::from("firehose");
    for (i, r) in records.iter().enumerate() {
        let data = base64::engine::general_purpose::STANDARD
            .decode(r.data.trim())
            .map_err(|e| Bad::Malformed(format!("record {i}: data is not base64: {e}")))?;
        let data = if data.starts_with(&[0x1f, 0x8b]) {
            gunzip(&data, budget.saturating_sub(used)).map_err(|e| {
                if e.starts_with("decompresses") {
                    Bad::TooLarge
                } else {
                    Bad::Malformed(format!("record {i}: {e}"))
                }
            })?
        } else {
            data
        };
        used = used.saturating_add(data.len());
        if used > budget {
            return Err(Bad::TooLarge);
        }
        if is_payload(&data) {
            // Whole JSON documents, or the record is refused (a payload cut short
            // would otherwise swallow the next one in the parser's stream).
            let all_json = serde_json::Deserializer::from_slice(&data)
                .into_iter::<serde::de::IgnoredAny>()
                .all(|d| d.is_ok());
            if !all_json {
                return Err(Bad::Malformed(format!(
                    "record {i}: not a CloudWatch Logs payload (invalid JSON)"
                )));
            }
            items.push(Item::Cloudwatch(data));
        } else {
            let Ok(text) = std::str::from_utf8(&data) else {
                return Err(Bad::Malformed(format!(
                    "record {i}: neither a CloudWatch Logs payload nor text"
                )));
            };
            for line in text.split('\n') {
                let line = line.strip_suffix('\r').unwrap_or(line);
                if !line.trim().is_empty() {
                    items.push(Item::Line {
                        stream: stream.clone(),
                        format: None,
                        line: line.as_bytes().to_vec(),
                    });
                }
            }
        }
    }
    Ok(items)
}
