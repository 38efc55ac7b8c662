//! The `webhook:NAME` executor: POSTs `{"action": …, "finding": …}` to a URL of
//! `respond.webhooks`, signed as the webhook notification channel signs
//! (`X-Keibi-Timestamp`, `X-Keibi-Signature: sha256=<hex HMAC-SHA256 of
//! "{timestamp}.{body}">` when a secret is set), with `X-Keibi-Delivery: <action
//! id>` so that a receiver drops the POST sent again after a kill (the one way an
//! apply repeats), and `X-Keibi-Event: action`.
//!
//! keibi-notify's POST and signature are used as they are: the same client (no
//! redirects followed, rustls), the same meaning of a status (2xx done; 408, 429,
//! 5xx and network failures transient; any other 4xx permanent), the same URL
//! redaction in errors. A message once sent stays sent: not undoable.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use keibi_model::Finding;
use keibi_notify::channels::webhook::signature;
use keibi_notify::http::{exchange, redact};
use keibi_notify::SendError;
use keibi_respond::{Action, ExecError, Executor, Request, Target};
use serde::Serialize;
use serde_json::{json, Value};

use crate::settings::respond::RespondWebhook;

/// The executor's name in the journal.
pub const NAME: &str = "webhook";
/// A POST's timeout when the webhook sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// One configured URL, its secrets read.
#[derive(Clone)]
struct Hook {
    url: String,
    key: Option<Vec<u8>>,
    timeout: Duration,
    /// Left out of every error text: the secret, and the URL's path and query
    /// (a token may be in them).
    secrets: Vec<String>,
}

/// Every `respond.webhooks` entry.
#[derive(Clone, Default)]
pub struct Webhooks {
    hooks: BTreeMap<String, Hook>,
    clock: Option<fn() -> DateTime<Utc>>,
}

/// A webhook the settings describe but that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("respond.webhooks.{name}.url: {reason}")]
    Url { name: String, reason: String },
    #[error("respond.webhooks.{name}.secret: {source}")]
    Secret {
        name: String,
        source: keibi_notify::secret::SecretError,
    },
}

/// The headers of a POST.
pub type Headers = Vec<(&'static str, String)>;

/// What a receiver gets.
#[derive(Serialize)]
pub struct Body<'a> {
    pub action: &'a Action,
    pub finding: &'a Finding,
}

impl Webhooks {
    /// Reads every URL and secret at start (a missing variable is an error then,
    /// not at the first action).
    pub fn from_settings(hooks: &BTreeMap<String, RespondWebhook>) -> Result<Webhooks, BuildError> {
        let mut out = BTreeMap::new();
        for (name, w) in hooks {
            let bad = |reason: String| BuildError::Url {
                name: name.clone(),
                reason,
            };
            let url = reqwest_url(&w.url).map_err(bad)?;
            let mut secrets = Vec::new();
            let key = match &w.secret {
                Some(s) => {
                    let v = s.reveal().map_err(|source| BuildError::Secret {
                        name: name.clone(),
                        source,
                    })?;
                    secrets.push(v.clone());
                    Some(v.into_bytes())
                }
                None => None,
            };
            secrets.extend(url);
            out.insert(
                name.clone(),
                Hook {
                    url: w.url.clone(),
                    key,
                    timeout: w.timeout.map(|t| t.std()).unwrap_or(DEFAULT_TIMEOUT),
                    secrets,
                },
            );
        }
        Ok(Webhooks {
            hooks: out,
            clock: None,
        })
    }

    /// The same executor reading time from `clock` (the signed timestamp).
    pub fn with_clock(mut self, clock: fn() -> DateTime<Utc>) -> Webhooks {
        self.clock = Some(clock);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    fn hook(&self, target: &Target) -> Result<(&str, &Hook), ExecError> {
        match target {
            Target::Webhook { name } => self
                .hooks
                .get_key_value(name)
                .map(|(n, h)| (n.as_str(), h))
                .ok_or_else(|| {
                    ExecError::Permanent(format!(
                        "no webhook {:?} in respond.webhooks",
                        keibi_notify::text::clip(&keibi_notify::text::one_line(name), 80, "…")
                    ))
                }),
            other => Err(ExecError::Permanent(format!(
                "the webhook executor does not do {}",
                other.kind()
            ))),
        }
    }

    /// The body and headers of the POST for `req` at `now` (pure).
    pub fn request(
        &self,
        req: Request<'_>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<u8>, Headers), ExecError> {
        let (_, hook) = self.hook(&req.action.target)?;
        let body = serde_json::to_vec(&Body {
            action: req.action,
            finding: req.finding,
        })
        .map_err(|e| ExecError::Permanent(format!("the action cannot be written as JSON: {e}")))?;
        let ts = now.timestamp();
        let mut headers = vec![
            ("X-Keibi-Timestamp", ts.to_string()),
            ("X-Keibi-Delivery", req.action.id.clone()),
            ("X-Keibi-Event", "action".to_string()),
        ];
        if let Some(key) = &hook.key {
            headers.push(("X-Keibi-Signature", signature(key, ts, &body)));
        }
        Ok((body, headers))
    }
}

/// The URL checked to be http(s) with a host; the parts of it that stay out of
/// errors (path, query).
fn reqwest_url(url: &str) -> Result<Vec<String>, String> {
    let shown = redact(url);
    let u = keibi_notify::http::parse_url(url).ok_or_else(|| format!("{shown} is not a URL"))?;
    if !matches!(u.scheme.as_str(), "http" | "https") || !u.has_host {
        return Err(format!("{shown}: an http:// or https:// URL with a host"));
    }
    Ok(u.secret_parts)
}

fn redacted(hook: &Hook, text: &str) -> String {
    let mut t = text.to_string();
    for s in &hook.secrets {
        if !s.is_empty() {
            t = t.replace(s.as_str(), "(secret)");
        }
    }
    t
}

impl Executor for Webhooks {
    fn name(&self) -> &str {
        NAME
    }

    fn accepts(&self, target: &Target) -> bool {
        matches!(target, Target::Webhook { name } if self.hooks.contains_key(name))
    }

    /// Nothing to read: a POST changes nothing keibi could put back.
    fn prepare(&mut self, req: Request<'_>) -> Result<Value, ExecError> {
        let (name, hook) = self.hook(&req.action.target)?;
        Ok(json!({"webhook": name, "url": redact(&hook.url)}))
    }

    fn apply(&mut self, req: Request<'_>, _prior: &Value) -> Result<Value, ExecError> {
        let now = self.clock.map_or_else(Utc::now, |c| c());
        let (body, headers) = self.request(req, now)?;
        let (_, hook) = self.hook(&req.action.target)?;
        match exchange(
            &hook.url,
            "application/json",
            &headers,
            body,
            Some(hook.timeout),
        ) {
            Ok(a) => Ok(json!({"status": a.status, "body": redacted(hook, &a.body)})),
            Err(SendError::Transient { reason, .. }) => {
                Err(ExecError::Transient(redacted(hook, &reason)))
            }
            Err(SendError::Permanent { reason }) => {
                Err(ExecError::Permanent(redacted(hook, &reason)))
            }
        }
    }

    fn undo(&mut self, _req: Request<'_>, _prior: &Value, _done: &Value) -> Result<(), ExecError> {
        Err(ExecError::Permanent(
            "a webhook's POST cannot be undone".into(),
        ))
    }
}
