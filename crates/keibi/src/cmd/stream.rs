//! `keibi stream send`: publishes log files into a partitioned stream (NATS
//! JetStream) for `keibi run --worker`. Each file is cut into records of whole
//! lines that keep every entry whole (`keibi_ingest::record_ranges`), published on
//! `PREFIX.INSTANCE.LOG`, with JetStream's acknowledgement awaited per batch.

use anyhow::Result;

use crate::cli::{Global, StreamCommand};

pub fn run(c: &StreamCommand, global: &Global) -> Result<u8> {
    match c {
        StreamCommand::Send(args) => send(args, global),
    }
}

#[cfg(not(feature = "nats"))]
fn send(_args: &crate::cli::StreamSendArgs, _global: &Global) -> Result<u8> {
    use crate::locale::said;
    eprintln!("keibi: {}", said("stream-no-nats"));
    Ok(2)
}

#[cfg(feature = "nats")]
fn send(args: &crate::cli::StreamSendArgs, _global: &Global) -> Result<u8> {
    use std::path::Path;
    use std::sync::Arc;

    use anyhow::Context;
    use keibi_ingest::{IngestOptions, Input};
    use keibi_model::Msg;

    use crate::locale::say;
    use crate::output::sanitize::terminal;

    /// Records published before their acknowledgements are awaited.
    const BATCH: usize = 256;
    /// The largest file read (it is read whole to find where entries start).
    const MAX_FILE: usize = 4 << 30;

    if !valid_subject(&args.subject_prefix) {
        eprintln!(
            "keibi: {}",
            say(Msg::new("stream-bad-subject")
                .arg("subject", terminal(&args.subject_prefix).as_ref()))
        );
        return Ok(2);
    }
    let max = args.record_kib.clamp(1, 1024) * 1024;
    let opts = IngestOptions {
        format: args.log_format,
        pg_prefix: args.pg_prefix.clone(),
        ..IngestOptions::default()
    };
    let js = keibi_nats::JetStream::connect(&args.nats, &args.stream, 1)?;
    js.ensure_stream()?;
    for path in &args.files {
        let key = match &args.key {
            Some(k) => k.clone(),
            None => default_key(path),
        };
        let key = if key.contains('.') {
            key
        } else {
            format!("{key}.log")
        };
        let subject = format!("{}.{key}", args.subject_prefix);
        if !valid_subject(&subject) {
            eprintln!(
                "keibi: {}",
                say(Msg::new("stream-bad-subject").arg("subject", terminal(&subject).as_ref()))
            );
            return Ok(2);
        }
        let shown = path.display().to_string();
        let bytes =
            crate::cmd::read_capped(path, MAX_FILE, false).with_context(|| shown.clone())?;
        let ranges = keibi_ingest::record_ranges(&bytes, &opts, max);
        let mut sent = 0u64;
        let mut skipped = 0u64;
        let mut batch: Vec<(&str, &[u8])> = Vec::with_capacity(BATCH);
        for r in ranges {
            let record = &bytes[r];
            if record.len() > keibi_ingest::partitions::MAX_RECORD {
                skipped += 1;
                continue;
            }
            batch.push((subject.as_str(), record));
            if batch.len() >= BATCH {
                sent += js.publish_batch(&batch)?.len() as u64;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            sent += js.publish_batch(&batch)?.len() as u64;
        }
        let file: Arc<str> = Arc::from(shown.as_str());
        if skipped > 0 {
            eprintln!(
                "keibi: warning: {}",
                say(Msg::new("stream-skipped")
                    .arg("file", terminal(&file).as_ref())
                    .arg("n", skipped))
            );
        }
        eprintln!(
            "keibi: {}",
            say(Msg::new("stream-sent")
                .arg("records", sent)
                .arg("bytes", bytes.len() as u64)
                .arg("file", terminal(&file).as_ref())
                .arg("subject", terminal(&subject).as_ref()))
        );
    }
    return Ok(0);

    /// The instance the file's directory names (as `keibi events` finds it), else
    /// the file's name, as a subject token.
    fn default_key(path: &Path) -> String {
        let input = Input::File {
            path: path.to_path_buf(),
            display: Arc::from(path.display().to_string().as_str()),
            root: path.parent().and_then(Path::parent).map(Path::to_path_buf),
        };
        let instance = keibi_ingest::instance_from_path(&input).unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let token: String = instance
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if token.is_empty() {
            "log".into()
        } else {
            token
        }
    }
}

/// A NATS subject to publish on: dot-separated tokens, none empty, no wildcard,
/// no white space or control character.
#[cfg(feature = "nats")]
fn valid_subject(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && s.split('.').all(|t| {
            !t.is_empty()
                && t != "*"
                && t != ">"
                && !t.chars().any(|c| c.is_whitespace() || c.is_control())
        })
}
