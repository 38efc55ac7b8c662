//! Secrets in the settings (webhook URLs, tokens, passwords, HMAC keys): read from
//! an environment variable or a file, never printed (`Debug` and `Display` show
//! where the secret comes from, not what it is).

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `{env: SLACK_WEBHOOK_URL}`, `{file: /run/secrets/slack}` or, discouraged (the
/// settings file then holds the secret), `{value: "..."}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Secret {
    Env(String),
    File(PathBuf),
    Value(String),
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set")]
    EnvMissing(String),
    #[error("cannot read {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is empty")]
    Empty(String),
}

impl Secret {
    /// The secret's value, trimmed of surrounding white space (a file's final
    /// newline).
    pub fn reveal(&self) -> Result<String, SecretError> {
        let (v, from) = match self {
            Secret::Env(name) => (
                std::env::var(name).map_err(|_| SecretError::EnvMissing(name.clone()))?,
                format!("environment variable {name}"),
            ),
            Secret::File(path) => (
                std::fs::read_to_string(path).map_err(|source| SecretError::File {
                    path: path.clone(),
                    source,
                })?,
                path.display().to_string(),
            ),
            Secret::Value(v) => (v.clone(), "the value".to_string()),
        };
        let v = v.trim().to_string();
        if v.is_empty() {
            return Err(SecretError::Empty(from));
        }
        Ok(v)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Env(n) => write!(f, "env {n}"),
            Secret::File(p) => write!(f, "file {}", p.display()),
            Secret::Value(_) => f.write_str("(value hidden)"),
        }
    }
}
