//! NDJSON and raw lines by HTTP POST, for log shippers: Fluent Bit's `http` output
//! (`format json_lines`) and Vector's `http` sink (`encoding.codec = "json"` with
//! `framing.method = "newline_delimited"`, or `"text"`). A JSON line's `log`,
//! `message` or `MESSAGE` field is the log line; its `file`, `path`, `filename`,
//! `host` or `hostname` names the stream (each stream detects its format on its
//! first line, unless `?format=NAME` names it). A line that is not JSON is the log
//! line itself; a body that is a JSON array is read as its elements.
//!
//! `Authorization: Bearer <token>` or basic auth whose password is the token;
//! `Content-Encoding: gzip` is read. A request is queued whole or refused: 401
//! without credentials, 403 with wrong ones, 413 too large, 400 malformed (nothing
//! of it queued), 503 when too much waits to be read.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use keibi_parse::Format;

use super::{gunzip, same_secret, Counters, Inbox, Item, Offer};

/// Requests read at once (bodies in memory: this many times the bound).
const CONCURRENT: usize = 4;

/// Longest stream name kept from a record's fields.
const MAX_STREAM_NAME: usize = 200;

pub struct Post {
    token: Vec<u8>,
    max_body: usize,
    inbox: Inbox,
    permits: tokio::sync::Semaphore,
    counters: Arc<Counters>,
}

impl Post {
    pub fn new(
        token: Vec<u8>,
        max_body: usize,
        inbox: Inbox,
        counters: Arc<Counters>,
    ) -> Arc<Post> {
        Arc::new(Post {
            counters,
            token,
            max_body,
            inbox,
            permits: tokio::sync::Semaphore::new(CONCURRENT),
        })
    }
}

/// A POST to any path.
pub fn router(p: Arc<Post>) -> Router {
    Router::new()
        .route("/", post(handle))
        .route("/{*path}", post(handle))
        .with_state(p)
}

fn reply(code: StatusCode, text: &str) -> Response {
    let mut r = (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{text}\n"),
    )
        .into_response();
    if code == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    r
}

/// The secret the request carries: a bearer token, or a basic auth password.
fn credential(headers: &HeaderMap) -> Option<Vec<u8>> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = v.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().as_bytes().to_vec());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let pair = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let colon = pair.iter().position(|b| *b == b':')?;
        return Some(pair[colon + 1..].to_vec());
    }
    None
}

async fn handle(
    State(p): State<Arc<Post>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let r = handle_one(&p, query, headers, body).await;
    if r.status() != StatusCode::OK {
        Counters::add(&p.counters.refused);
    }
    r
}

async fn handle_one(p: &Post, query: Option<String>, headers: HeaderMap, body: Body) -> Response {
    match credential(&headers) {
        None => return reply(StatusCode::UNAUTHORIZED, "credentials required"),
        Some(c) if !same_secret(&c, &p.token) => {
            return reply(StatusCode::FORBIDDEN, "invalid credentials")
        }
        Some(_) => {}
    }
    let format = match query_format(query.as_deref()) {
        Ok(f) => f,
        Err(e) => return reply(StatusCode::BAD_REQUEST, &e),
    };
    let too_large = || reply(StatusCode::PAYLOAD_TOO_LARGE, "payload too large");
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|l| l > p.max_body as u64) {
        return too_large();
    }
    let Ok(_permit) = p.permits.acquire().await else {
        return reply(StatusCode::SERVICE_UNAVAILABLE, "stopping");
    };
    let Ok(bytes) = axum::body::to_bytes(body, p.max_body).await else {
        return too_large();
    };
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let text = match encoding {
        None | Some("") | Some("identity") => bytes.to_vec(),
        Some(e) if e.eq_ignore_ascii_case("gzip") => {
            match gunzip(&bytes, p.max_body.saturating_mul(4)) {
                Ok(t) => t,
                Err(e) if e.starts_with("decompresses") => return too_large(),
                Err(e) => return reply(StatusCode::BAD_REQUEST, &format!("body {e}")),
            }
        }
        Some(_) => return reply(StatusCode::BAD_REQUEST, "unsupported content encoding"),
    };
    let items = match items(&text, format) {
        Ok(i) => i,
        Err(e) => return reply(StatusCode::BAD_REQUEST, &e),
    };
    match p.inbox.offer(items) {
        Offer::Queued => reply(StatusCode::OK, "ok"),
        Offer::Full => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy: too much waiting to be read, try again",
        ),
        Offer::TooBig => too_large(),
    }
}

/// `?format=NAME`: a `--log-format` name for every line of the request.
fn query_format(query: Option<&str>) -> Result<Option<Format>, String> {
    for pair in query.unwrap_or_default().split('&') {
        if let Some(v) = pair.strip_prefix("format=") {
            return v
                .parse::<Format>()
                .map(Some)
                .map_err(|_| "unknown format (a --log-format name)".to_string());
        }
    }
    Ok(None)
}

/// The body's lines as items; an error names the first malformed line.
pub(crate) fn items(body: &[u8], format: Option<Format>) -> Result<Vec<Item>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
    let mut out = Vec::new();
    let plain: Arc<str> = Arc::from("http");
    if text.trim_start().starts_with('[') {
        let all: Vec<serde_json::Value> =
            serde_json::from_str(text).map_err(|e| format!("invalid JSON array: {e}"))?;
        for (i, v) in all.into_iter().enumerate() {
            out.push(record(v, format, i + 1)?);
        }
        return Ok(out);
    }
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        if line.trim_start().starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| format!("line {}: invalid JSON: {e}", i + 1))?;
            out.push(record(v, format, i + 1)?);
        } else {
            out.push(Item::Line {
                stream: plain.clone(),
                format,
                line: line.as_bytes().to_vec(),
            });
        }
    }
    Ok(out)
}

/// One JSON record: its log line and the stream its fields name.
fn record(v: serde_json::Value, format: Option<Format>, n: usize) -> Result<Item, String> {
    let serde_json::Value::Object(m) = v else {
        return Err(format!("record {n}: not a JSON object"));
    };
    let line = ["log", "message", "MESSAGE"]
        .iter()
        .find_map(|k| m.get(*k).and_then(|v| v.as_str()))
        .ok_or_else(|| format!("record {n}: no log or message field"))?;
    let source = ["file", "path", "filename", "host", "hostname"]
        .iter()
        .find_map(|k| m.get(*k).and_then(|v| v.as_str()));
    let stream = match source {
        Some(s) => {
            let s: String = s
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_STREAM_NAME)
                .collect();
            Arc::from(format!("http:{s}"))
        }
        None => Arc::from("http"),
    };
    let line = line.strip_suffix('\n').unwrap_or(line);
    Ok(Item::Line {
        stream,
        format,
        line: line.as_bytes().to_vec(),
    })
}
