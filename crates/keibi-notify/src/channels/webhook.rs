//! The generic webhook: the finding as the contract's JSON (`docs/findings.md`)
//! inside an envelope that says what changed, POSTed with headers a receiver can
//! check: `X-Keibi-Timestamp` (unix seconds), `X-Keibi-Signature:
//! sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">` when a secret is set,
//! `X-Keibi-Delivery` (the outbox key: the same on every try, so a receiver drops
//! the rare duplicate) and `X-Keibi-Event`.
//!
//! Attacker-written text needs no neutralising beyond JSON's own escaping (serde):
//! a receiver gets the fields as the contract defines them and must treat them as
//! untrusted, as `docs/notifications.md` says.

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{KeyInit, Mac};
use keibi_model::{Finding, Severity};
use serde::Serialize;

use crate::channels::{BuildError, ChannelSpec, WebhookSpec};
use crate::notice::{NoticeKind, Outgoing};
use crate::{Channel, SendError, Sent};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// A built webhook channel: URL checked, secrets read, headers checked.
pub struct Webhook {
    name: String,
    url: String,
    key: Option<Vec<u8>>,
    headers: Vec<(String, String)>,
    /// Secret values, left out of every error text.
    secrets: Vec<String>,
}

/// Headers keibi sets itself: a configured header may not replace them.
const OWN_HEADERS: [&str; 5] = [
    "content-type",
    "x-keibi-timestamp",
    "x-keibi-signature",
    "x-keibi-delivery",
    "x-keibi-event",
];

impl Webhook {
    pub fn build(spec: &ChannelSpec, w: &WebhookSpec) -> Result<Webhook, BuildError> {
        let invalid = |reason: String| BuildError::Invalid {
            name: spec.name.clone(),
            reason,
        };
        let url = reqwest::Url::parse(&w.url)
            .map_err(|e| invalid(format!("url {:?}: {e}", crate::http::redact(&w.url))))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid(format!(
                "url {}: an http:// or https:// URL with a host",
                crate::http::redact(&w.url)
            )));
        }
        let secret_err = |source| BuildError::Secret {
            name: spec.name.clone(),
            source,
        };
        let mut secrets = Vec::new();
        let key = match &w.secret {
            Some(s) => {
                let v = s.reveal().map_err(secret_err)?;
                secrets.push(v.clone());
                Some(v.into_bytes())
            }
            None => None,
        };
        let mut headers = Vec::new();
        for h in &w.headers {
            let name = reqwest::header::HeaderName::from_bytes(h.name.as_bytes())
                .map_err(|_| invalid(format!("header {:?} is not a header name", h.name)))?;
            if OWN_HEADERS.contains(&name.as_str()) {
                return Err(invalid(format!(
                    "header {} is set by keibi and cannot be configured",
                    h.name
                )));
            }
            let value = h.value.reveal().map_err(secret_err)?;
            if reqwest::header::HeaderValue::from_str(&value).is_err() {
                return Err(invalid(format!(
                    "header {}: its value ({}) holds a line break or another character a header cannot",
                    h.name, h.value
                )));
            }
            secrets.push(value.clone());
            headers.push((name.as_str().to_string(), value));
        }
        // The URL's path and query may be a secret too (a token in it).
        let path = url.path();
        if path.len() > 1 {
            secrets.push(path.to_string());
        }
        if let Some(q) = url.query() {
            secrets.push(q.to_string());
        }
        Ok(Webhook {
            name: spec.name.clone(),
            url: w.url.clone(),
            key,
            headers,
            secrets,
        })
    }
}

/// The event name of a message (`X-Keibi-Event`, the envelope's `event`).
pub fn event(msg: &Outgoing) -> &'static str {
    match msg {
        Outgoing::One(n) => n.kind.as_str(),
        Outgoing::Digest(_) => "digest",
        Outgoing::Summary(_) => "summary",
    }
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One finding's change, as a webhook receives it: fields in this order, the
/// finding's in the contract's order.
#[derive(Serialize)]
struct One<'a> {
    event: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    test: bool,
    finding: &'a Finding,
    previous_severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count_then: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<String>,
    changed_at: String,
    sent_at: String,
}

/// An action's notice: the action after its move (the journal's JSON), and the
/// finding it acts on.
#[derive(Serialize)]
struct ActionBody<'a> {
    event: &'static str,
    action: &'a keibi_respond::Action,
    finding: &'a Finding,
    changed_at: String,
    sent_at: String,
}

#[derive(Serialize)]
struct Held<'a> {
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'a keibi_respond::Action>,
    finding: &'a Finding,
    changed_at: String,
}

#[derive(Serialize)]
struct DigestBody<'a> {
    event: &'static str,
    findings: Vec<Held<'a>>,
    total: u64,
    from: String,
    to: String,
    sent_at: String,
}

#[derive(Serialize)]
struct ByLabel {
    critical: u64,
    high: u64,
    medium: u64,
    low: u64,
}

#[derive(Serialize)]
struct SummaryBody<'a> {
    event: &'static str,
    open: &'a [Finding],
    total: u64,
    by_label: ByLabel,
    at: String,
    sent_at: String,
}

/// The JSON body a webhook receives for `msg`, sent at `sent_at` (pure: the caller
/// reads the clock).
pub fn body(msg: &Outgoing, sent_at: DateTime<Utc>) -> Vec<u8> {
    let sent_at = time(&sent_at);
    let out = match msg {
        Outgoing::One(n) if matches!(n.kind, NoticeKind::Action { .. }) => {
            let NoticeKind::Action { action } = &n.kind else {
                return Vec::new();
            };
            serde_json::to_vec(&ActionBody {
                event: "action",
                action,
                finding: &n.finding,
                changed_at: time(&n.at),
                sent_at,
            })
        }
        Outgoing::One(n) => {
            let mut one = One {
                event: n.kind.as_str(),
                test: n.kind == NoticeKind::Test,
                finding: &n.finding,
                previous_severity: None,
                resolved_by: None,
                count_then: None,
                since: None,
                changed_at: time(&n.at),
                sent_at,
            };
            match &n.kind {
                NoticeKind::Raised { from } => one.previous_severity = Some(*from),
                NoticeKind::Resolved { by } => one.resolved_by = by.as_deref(),
                NoticeKind::StillGoing { count_then, since } => {
                    one.count_then = Some(*count_then);
                    one.since = Some(time(since));
                }
                _ => {}
            }
            serde_json::to_vec(&one)
        }
        Outgoing::Digest(d) => serde_json::to_vec(&DigestBody {
            event: "digest",
            findings: d
                .held
                .iter()
                .map(|n| Held {
                    event: n.kind.as_str(),
                    action: match &n.kind {
                        NoticeKind::Action { action } => Some(action),
                        _ => None,
                    },
                    finding: &n.finding,
                    changed_at: time(&n.at),
                })
                .collect(),
            total: d.total,
            from: time(&d.from),
            to: time(&d.to),
            sent_at,
        }),
        Outgoing::Summary(s) => serde_json::to_vec(&SummaryBody {
            event: "summary",
            open: &s.open,
            total: s.total,
            by_label: ByLabel {
                critical: s.by_label[0],
                high: s.by_label[1],
                medium: s.by_label[2],
                low: s.by_label[3],
            },
            at: time(&s.at),
            sent_at,
        }),
    };
    // Serializing plain data into memory does not fail.
    out.unwrap_or_default()
}

/// `sha256=<hex>` of HMAC-SHA256 with `key` over `"{timestamp}.{body}"`.
pub fn signature(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in tag.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

impl Webhook {
    /// `text` with every secret this channel holds left out.
    fn redact(&self, text: &str) -> String {
        let mut t = text.to_string();
        for s in &self.secrets {
            if !s.is_empty() {
                t = t.replace(s.as_str(), "(secret)");
            }
        }
        t
    }

    /// The body and headers of `msg` sent at `now`.
    pub fn request(&self, msg: &Outgoing, now: DateTime<Utc>) -> (Vec<u8>, Vec<(&str, String)>) {
        let body = body(msg, now);
        let ts = now.timestamp();
        let mut headers: Vec<(&str, String)> = vec![
            ("X-Keibi-Timestamp", ts.to_string()),
            ("X-Keibi-Delivery", msg.key().to_string()),
            ("X-Keibi-Event", event(msg).to_string()),
        ];
        if let Some(key) = &self.key {
            headers.push(("X-Keibi-Signature", signature(key, ts, &body)));
        }
        for (n, v) in &self.headers {
            headers.push((n.as_str(), v.clone()));
        }
        (body, headers)
    }
}

impl Channel for Webhook {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        let (body, headers) = self.request(msg, Utc::now());
        crate::http::post(&self.url, "application/json", &headers, body).map_err(|e| match e {
            SendError::Transient {
                reason,
                retry_after,
            } => SendError::Transient {
                reason: self.redact(&reason),
                retry_after,
            },
            SendError::Permanent { reason } => SendError::Permanent {
                reason: self.redact(&reason),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The MAC is RFC 4231's (test case 2 pins it); the signed message is the
    /// timestamp, a dot and the body, as one.
    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let tag: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            tag,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // "{timestamp}.{body}" as one message.
        let mut mac = HmacSha256::new_from_slice(b"k").unwrap();
        mac.update(b"1700000000.{\"a\":1}");
        let whole: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            signature(b"k", 1_700_000_000, b"{\"a\":1}"),
            format!("sha256={whole}")
        );
        assert_ne!(
            signature(b"k", 1_700_000_001, b"{\"a\":1}"),
            format!("sha256={whole}")
        );
    }
}
