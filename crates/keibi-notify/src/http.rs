//! One POST for every HTTP channel, and what its answer means: 2xx delivered;
//! 408, 429, 5xx and network failures transient (honouring `Retry-After` in
//! seconds); any other status permanent. Redirects are not followed (a webhook URL
//! that redirects is a configuration problem, and following one could send the
//! payload somewhere else).

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::StatusCode;

use crate::{SendError, Sent};

/// At most this much of a receiver's error body goes into the error text.
const MAX_BODY_SHOWN: usize = 300;

fn client() -> &'static Client {
    static C: OnceLock<Client> = OnceLock::new();
    C.get_or_init(|| {
        Client::builder()
            .timeout(crate::channels::TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("keibi/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| Client::new())
    })
}

/// POSTs `body` (with `content_type`) and `headers` to `url`.
pub fn post(
    url: &str,
    content_type: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Result<Sent, SendError> {
    exchange(url, content_type, headers, body, None).map(|a| Sent {
        detail: format!("HTTP {}", a.status),
    })
}

/// A receiver's 2xx answer: its status and the start of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// At most [`MAX_BODY_KEPT`] bytes of the body (cut at a character), as sent:
    /// the caller escapes it where it shows it.
    pub body: String,
}

/// At most this much of a receiver's body is read.
pub const MAX_BODY_KEPT: usize = 1024;

/// POSTs as [`post`] does, within `timeout` when given (else the channels'
/// [`TIMEOUT`](crate::channels::TIMEOUT)), and answers the status and the start of
/// the body; what a status means is the same: 2xx `Ok`, 408, 429, 5xx and network
/// failures transient, any other status permanent.
pub fn exchange(
    url: &str,
    content_type: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    timeout: Option<Duration>,
) -> Result<Answer, SendError> {
    let mut req = client()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body);
    if let Some(t) = timeout {
        req = req.timeout(t);
    }
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let resp = req.send().map_err(|e| SendError::Transient {
        reason: format!("cannot reach {}: {}", redact(url), without_url(&e)),
        retry_after: None,
    })?;
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(3600)));
    // Only the start of the body is read: a receiver cannot make keibi hold more.
    let mut kept = Vec::with_capacity(MAX_BODY_KEPT);
    let _ = std::io::Read::read_to_end(
        &mut std::io::Read::take(resp, MAX_BODY_KEPT as u64),
        &mut kept,
    );
    let body = utf8_prefix(&kept);
    if status.is_success() {
        return Ok(Answer {
            status: status.as_u16(),
            body,
        });
    }
    let shown: String = crate::text::clip(&crate::text::one_line(&body), MAX_BODY_SHOWN, "…");
    let reason = format!("HTTP {} from {}: {shown}", status.as_u16(), redact(url));
    if status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        Err(SendError::Transient {
            reason,
            retry_after,
        })
    } else {
        Err(SendError::Permanent { reason })
    }
}

/// The bytes as text, a character cut at the end left out.
fn utf8_prefix(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(e) if e.error_len().is_none() => {
            String::from_utf8_lossy(&b[..e.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// What a webhook's URL is checked with, for crates that do not speak reqwest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts {
    pub scheme: String,
    pub has_host: bool,
    /// The path (when more than `/`) and the query: they may hold a token, so
    /// they stay out of error texts.
    pub secret_parts: Vec<String>,
}

/// `url` parsed, or `None` when it is not a URL.
pub fn parse_url(url: &str) -> Option<UrlParts> {
    let u = reqwest::Url::parse(url).ok()?;
    let mut secret_parts = Vec::new();
    if u.path().len() > 1 {
        secret_parts.push(u.path().to_string());
    }
    if let Some(q) = u.query() {
        secret_parts.push(q.to_string());
    }
    Some(UrlParts {
        scheme: u.scheme().to_string(),
        has_host: u.host_str().is_some_and(|h| !h.is_empty()),
        secret_parts,
    })
}

/// A URL for messages: scheme, host and port only (the path of a Slack or Teams
/// webhook is its secret).
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("?");
            match u.port() {
                Some(p) => format!("{}://{host}:{p}/…", u.scheme()),
                None => format!("{}://{host}/…", u.scheme()),
            }
        }
        Err(_) => "(invalid URL)".to_string(),
    }
}

/// reqwest's error text without the URL it carries (the URL can be a secret).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), &redact(u.as_str()));
    }
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_only_scheme_host_and_port() {
        assert_eq!(
            redact("https://hooks.slack.com/services/T000/B000/XXXX"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redact("http://127.0.0.1:8080/x?k=1"),
            "http://127.0.0.1:8080/…"
        );
        assert_eq!(redact("not a url"), "(invalid URL)");
    }

    #[test]
    fn an_unreachable_receiver_is_transient_and_does_not_show_the_path() {
        // A port nothing listens on (bound then dropped).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/services/SECRET");
        let e = post(&url, "application/json", &[], b"{}".to_vec()).unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }
}
