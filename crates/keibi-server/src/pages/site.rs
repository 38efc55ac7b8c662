//! What the binary hands the pages besides the store: the display zone, the
//! settings as it read them (redacted here), the lists it loaded, its sources, and
//! optionally a look-up in its threat lists. All plain data: `keibi dashboard`
//! over a store alone leaves it empty.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use keibi_i18n::DisplayZone;

/// The daemon's loaded lists, asked about one address (the Tor exit list, threat
/// lists): the names of the lists that hold it.
pub trait Reputation: Send + Sync + 'static {
    fn lists_of(&self, ip: IpAddr) -> Vec<String>;
}

/// A list the daemon loaded (`settings.lists`, the Tor exit list ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedList {
    pub name: String,
    pub entries: u64,
    /// Where it came from (a path or URL as configured: shown as text, never linked).
    pub source: String,
    pub loaded_at: Option<DateTime<Utc>>,
}

/// The site's data for the pages.
#[derive(Clone)]
pub struct Site {
    /// The zone times are shown in.
    pub zone: DisplayZone,
    /// The settings, flattened to `dotted.key = value` lines, secrets redacted
    /// ([`Site::settings_from_json`]).
    pub settings: Vec<(String, String)>,
    pub lists: Vec<LoadedList>,
    /// The sources the daemon reads, as configured.
    pub sources: Vec<String>,
    pub reputation: Option<Arc<dyn Reputation>>,
}

impl Default for Site {
    fn default() -> Site {
        Site {
            zone: DisplayZone::utc(),
            settings: Vec::new(),
            lists: Vec::new(),
            sources: Vec::new(),
            reputation: None,
        }
    }
}

/// Words in a key that mark its value secret.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "key",
    "webhook",
    "credential",
    "auth",
    "dsn",
    "cookie",
    "private",
];

/// Most lines of settings shown.
const MAX_LINES: usize = 2000;

impl Site {
    /// The settings (serialized as JSON by the binary) as `key = value` lines: a
    /// value whose key names a secret is `[redacted]`, and so is any URL's
    /// user-information part (`postgres://user:pw@host` → `postgres://[redacted]@host`).
    pub fn settings_from_json(v: &serde_json::Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        flatten("", v, false, &mut out);
        out
    }
}

fn flatten(prefix: &str, v: &serde_json::Value, secret: bool, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    if out.len() >= MAX_LINES {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let lower = k.to_ascii_lowercase();
                let s = secret || SECRET_WORDS.iter().any(|w| lower.contains(w));
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, s, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, secret, out);
            }
        }
        Value::Null => {}
        _ if secret => out.push((prefix.to_string(), "[redacted]".into())),
        Value::String(s) => out.push((prefix.to_string(), redact_url(s))),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// A URL's `user:password@` replaced by `[redacted]@`; other text as it is.
fn redact_url(s: &str) -> String {
    if let Some(scheme_end) = s.find("://") {
        let rest = &s[scheme_end + 3..];
        let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..auth_end].rfind('@') {
            return format!("{}://[redacted]{}", &s[..scheme_end], &rest[at..]);
        }
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let v = serde_json::json!({
            "store": {"path": "/var/lib/keibi/keibi.db"},
            "notify": {"slack": {"webhook_url": "https://hooks.slack.com/x"}},
            "sources": [{"url": "postgres://keibi:hunter2@db:5432/x"}],
            "aws": {"secret_access_key": "abc", "region": "ap-northeast-1"},
            "smtp": {"password": "pw", "nested": {"x": 1}}
        });
        let lines = Site::settings_from_json(&v);
        let text = format!("{lines:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("hooks.slack") && !text.contains("abc")
        );
        assert!(!text.contains("\"pw\""), "{text}");
        assert!(text.contains("ap-northeast-1") && text.contains("/var/lib/keibi/keibi.db"));
        assert!(text.contains("postgres://[redacted]@db:5432/x"), "{text}");
    }
}
