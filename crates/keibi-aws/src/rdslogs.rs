//! Reading an RDS instance's log files where RDS keeps them, for instances that do
//! not export to CloudWatch Logs: DescribeDBLogFiles (Query protocol, paged by
//! `Marker`, filtered by `FilenameContains` and `FileLastWritten`) lists them, and
//! DownloadDBLogFilePortion reads each from a `Marker` (`0` for its start), a
//! portion of at most [`LINES`] lines (RDS cuts a portion at 1 MB) a call, following
//! `AdditionalDataPending` and the `Marker` it returns.
//!
//! Answers are untrusted: each by the signed client's bound, one file's read by
//! [`MAX_BYTES`], the calls by [`MAX_PAGES`] (a service that says there is more but
//! never moves its marker must not loop for ever).

use keibi_notify::text::{clip, one_line};
use serde_json::Value;

use crate::signed::{CallError, Client};

const RDS_VERSION: &str = "2014-10-31";
/// Lines one DownloadDBLogFilePortion asks for (RDS still stops at 1 MB).
pub const LINES: usize = 10_000;
/// Bytes one scan keeps at most, over all files.
pub const MAX_BYTES: usize = 512 << 20;
/// Calls one listing or one file's read makes at most.
pub const MAX_PAGES: usize = 100_000;
/// Portions in a row that say more is pending but hold nothing, at most, before a
/// read stops (a service that moves its marker for ever without data).
pub const MAX_EMPTY: usize = 100;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RdsLogsError {
    #[error("{0}")]
    Url(String),
    #[error("RDS: {0}")]
    Call(#[from] CallError),
    #[error("RDS: {0}")]
    Setup(String),
    #[error(
        "RDS: the log files of {instance} hold more than {what}: give --since or a file prefix"
    )]
    TooMuch { instance: String, what: String },
}

/// What `rds://<instance>[/<log-file-prefix>]` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdsUrl {
    pub instance: String,
    /// The start of the log files' names read (`error/postgresql.log`), or empty.
    pub prefix: String,
}

impl std::fmt::Display for RdsUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "rds://{}", self.instance)
        } else {
            write!(f, "rds://{}/{}", self.instance, self.prefix)
        }
    }
}

/// Parses `rds://<instance-id>[/<log-file-prefix>]`.
pub fn parse_url(url: &str) -> Result<RdsUrl, RdsLogsError> {
    let shown = || clip(&one_line(url), 200, "…");
    let rest = url
        .strip_prefix("rds://")
        .ok_or_else(|| RdsLogsError::Url(format!("{:?} is not an rds:// URL", shown())))?;
    let (instance, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    // RDS's rule: 1 to 63 letters, digits and hyphens, starting with a letter.
    let ok_instance = !instance.is_empty()
        && instance.len() <= 63
        && instance.starts_with(|c: char| c.is_ascii_alphabetic())
        && instance
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !ok_instance {
        return Err(RdsLogsError::Url(format!(
            "{:?}: not a DB instance identifier",
            shown()
        )));
    }
    let ok_prefix = prefix.len() <= 1024
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-/.".contains(&b));
    if !ok_prefix {
        return Err(RdsLogsError::Url(format!(
            "{:?}: not a log file name",
            shown()
        )));
    }
    Ok(RdsUrl {
        instance: instance.to_ascii_lowercase(),
        prefix: prefix.to_string(),
    })
}

/// One log file as DescribeDBLogFiles lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub name: String,
    /// Milliseconds since the epoch.
    pub last_written: i64,
    pub size: u64,
}

/// One DownloadDBLogFilePortion answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portion {
    pub data: Vec<u8>,
    /// Where the next portion starts.
    pub marker: String,
    pub pending: bool,
}

/// Where and how to call RDS.
pub type RdsOptions = crate::s3::S3Options;

/// A blocking reader of RDS log files.
pub struct RdsLogsReader {
    rt: tokio::runtime::Runtime,
    client: Client,
    region: String,
    /// Calls made, for the docs' cost figures and the tests.
    pub calls: usize,
}

impl RdsLogsReader {
    pub fn new(opts: &RdsOptions) -> Result<RdsLogsReader, RdsLogsError> {
        use crate::s3::{ConnectError, Connected};
        let Connected { rt, client, region } =
            opts.connect("the DB instance").map_err(|e| match e {
                ConnectError::Setup(s) => RdsLogsError::Setup(s),
                ConnectError::Call(e) => e.into(),
            })?;
        Ok(RdsLogsReader {
            rt,
            client,
            region,
            calls: 0,
        })
    }

    fn call(&mut self, action: &str, params: &[(String, String)]) -> Result<Value, RdsLogsError> {
        self.calls += 1;
        let v = self.rt.block_on(self.client.query(
            "rds",
            &self.region,
            RDS_VERSION,
            action,
            params,
        ))?;
        // A 200 without the action's result element is not RDS's answer.
        let result = v[format!("{action}Result").as_str()].clone();
        if result.is_object() || result.as_str().is_some_and(|s| s.trim().is_empty()) {
            Ok(result)
        } else {
            Err(CallError::Answer(format!("{action}: an answer without its result")).into())
        }
    }

    /// The log files of `url`'s instance whose names start with its prefix, written
    /// at or after `since` (milliseconds since the epoch), by name.
    pub fn files(
        &mut self,
        url: &RdsUrl,
        since: Option<i64>,
    ) -> Result<Vec<LogFile>, RdsLogsError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut p = vec![
                ("DBInstanceIdentifier".to_string(), url.instance.clone()),
                ("MaxRecords".to_string(), "1000".to_string()),
            ];
            if !url.prefix.is_empty() {
                p.push(("FilenameContains".into(), url.prefix.clone()));
            }
            if let Some(s) = since {
                p.push(("FileLastWritten".into(), s.max(0).to_string()));
            }
            if let Some(m) = &marker {
                p.push(("Marker".into(), m.clone()));
            }
            let result = self.call("DescribeDBLogFiles", &p)?;
            for d in crate::xml::items(&result["DescribeDBLogFiles"]) {
                let Some(name) = d["LogFileName"].as_str() else {
                    continue;
                };
                // FilenameContains matches anywhere: the URL names a start.
                // Names are checkpoint keys' first line: none with a control character.
                if !name.starts_with(&url.prefix)
                    || name.is_empty()
                    || name.len() > 1024
                    || name.chars().any(char::is_control)
                {
                    continue;
                }
                out.push(LogFile {
                    name: name.to_string(),
                    last_written: d["LastWritten"]
                        .as_str()
                        .and_then(|s| s.trim().parse().ok())
                        .unwrap_or(0),
                    size: d["Size"]
                        .as_str()
                        .and_then(|s| s.trim().parse().ok())
                        .unwrap_or(0),
                });
            }
            match result["Marker"].as_str().map(str::trim) {
                Some(m) if !m.is_empty() && Some(m) != marker.as_deref() => {
                    marker = Some(m.to_string())
                }
                _ => {
                    out.sort_by(|a, b| a.name.cmp(&b.name));
                    out.dedup_by(|a, b| a.name == b.name);
                    return Ok(out);
                }
            }
        }
        Err(RdsLogsError::TooMuch {
            instance: url.instance.clone(),
            what: format!("{MAX_PAGES} pages of log files"),
        })
    }

    /// One portion of `file` from `marker` (`0` for its start).
    pub fn portion(
        &mut self,
        instance: &str,
        file: &str,
        marker: &str,
    ) -> Result<Portion, RdsLogsError> {
        let p = vec![
            ("DBInstanceIdentifier".to_string(), instance.to_string()),
            ("LogFileName".to_string(), file.to_string()),
            ("Marker".to_string(), marker.to_string()),
            ("NumberOfLines".to_string(), LINES.to_string()),
        ];
        let result = self.call("DownloadDBLogFilePortion", &p)?;
        let data = result["LogFileData"]
            .as_str()
            .unwrap_or_default()
            .as_bytes()
            .to_vec();
        let next = result["Marker"].as_str().unwrap_or_default().trim();
        let pending = result["AdditionalDataPending"]
            .as_str()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("true"));
        Ok(Portion {
            data,
            // No marker back: stay where we were (the next call asks again).
            marker: if next.is_empty() { marker } else { next }.to_string(),
            pending,
        })
    }

    /// The whole of `file` from its start, within `budget` bytes (what is left of
    /// [`MAX_BYTES`]), ending with a newline when it holds anything.
    pub fn read_file(
        &mut self,
        instance: &str,
        file: &str,
        budget: usize,
    ) -> Result<Vec<u8>, RdsLogsError> {
        let mut out = Vec::new();
        let mut marker = "0".to_string();
        let mut empty = 0;
        for _ in 0..MAX_PAGES {
            let p = self.portion(instance, file, &marker)?;
            empty = if p.data.is_empty() { empty + 1 } else { 0 };
            if empty > MAX_EMPTY {
                return Err(CallError::Answer(format!(
                    "DownloadDBLogFilePortion: {MAX_EMPTY} empty portions in a row of {}, each saying more is pending",
                    clip(&one_line(file), 200, "…")
                ))
                .into());
            }
            push_lines(&mut out, &p.data);
            if out.len() > budget {
                return Err(RdsLogsError::TooMuch {
                    instance: instance.to_string(),
                    what: format!("{} MiB", MAX_BYTES >> 20),
                });
            }
            if !p.pending || p.marker == marker {
                return Ok(out);
            }
            marker = p.marker;
        }
        Err(RdsLogsError::TooMuch {
            instance: instance.to_string(),
            what: format!(
                "{MAX_PAGES} portions in {}",
                clip(&one_line(file), 200, "…")
            ),
        })
    }
}

/// Appends a portion's text, ending it with a newline (a portion holds whole lines;
/// one cut at 1 MB ends where RDS cut it).
pub fn push_lines(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    out.extend_from_slice(data);
    if !data.ends_with(b"\n") {
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("rds://Orders-DB/error/postgresql.log").unwrap(),
            RdsUrl {
                instance: "orders-db".into(),
                prefix: "error/postgresql.log".into()
            }
        );
        assert_eq!(parse_url("rds://db1").unwrap().prefix, "");
        assert_eq!(parse_url("rds://db1/").unwrap().to_string(), "rds://db1");
        assert_eq!(
            parse_url("rds://db1/audit/").unwrap().to_string(),
            "rds://db1/audit/"
        );
        for bad in [
            "rds://",
            "rds://1db",
            "rds://db_1",
            "rds://db1/a b",
            "rds://db1/a\nb",
            "s3://x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad:?}");
        }
        assert!(parse_url(&format!("rds://{}", "a".repeat(64))).is_err());
    }

    #[test]
    fn portions_end_with_a_newline() {
        let mut out = Vec::new();
        push_lines(&mut out, b"");
        push_lines(&mut out, b"a");
        push_lines(&mut out, b"b\n");
        assert_eq!(out, b"a\nb\n");
    }
}
