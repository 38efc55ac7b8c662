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
    let mut req = client()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body);
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
    let body = resp.text().unwrap_or_default();
    let shown: String = crate::text::clip(&crate::text::one_line(&body), MAX_BODY_SHOWN, "…");
    if status.is_success() {
        return Ok(Sent {
            detail: format!("HTTP {}", status.as_u16()),
        });
    }
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
