//! `keibi stream send`: log files into a partitioned stream, the producer side of
//! issue 20's workers. `--nats URL` publishes them into NATS JetStream (module
//! [`nats`]). `--kinesis STREAM` puts them into Amazon Kinesis Data Streams
//! (the `aws` feature): as CloudWatch Logs subscription messages of the log group
//! `--key` (what a subscription to Kinesis writes), or with `--raw` as whole lines,
//! partition key `--key`, in PutRecords of at most 500 records and 5 MiB. Records
//! Kinesis refuses (throttling, an internal failure) are put again, a few times
//! with backoff.

use anyhow::Result;
use keibi_i18n::Msg;

use crate::cli::{Global, StreamCommand, StreamSendArgs};
use crate::locale::say;

pub fn run(cmd: &StreamCommand, global: &Global) -> Result<u8> {
    match cmd {
        StreamCommand::Send(args) => send(args, global),
    }
}

fn send(args: &StreamSendArgs, global: &Global) -> Result<u8> {
    if let Some(stream) = &args.kinesis.kinesis {
        let Some(key) = &args.key else {
            anyhow::bail!(say(Msg::new("stream-kinesis-key")));
        };
        return kinesis::send(args, stream, key, global.quiet);
    }
    if args.nats.nats.is_some() {
        return nats::send(args, global);
    }
    anyhow::bail!(say(Msg::new("stream-no-target")));
}

/// The longest line read: a longer one cannot fit a Kinesis record and is skipped
/// (its bytes are read through, never held).
const MAX_LINE: usize = 1 << 20;

/// Reads `reader` line by line (without the newline, invalid UTF-8 replaced),
/// handing each to `f`; a line longer than [`MAX_LINE`] is counted, not handed.
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
fn lines(mut reader: impl std::io::BufRead, mut f: impl FnMut(&str)) -> std::io::Result<u64> {
    let mut line: Vec<u8> = Vec::new();
    let mut too_long = false;
    let mut skipped = 0u64;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            if too_long {
                skipped += 1;
            } else if !line.is_empty() {
                f(&String::from_utf8_lossy(&line));
            }
            return Ok(skipped);
        }
        let (chunk, end) = match buf.iter().position(|&c| c == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if line.len() + chunk.len() > MAX_LINE {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = end.unwrap_or(buf.len());
        reader.consume(used);
        if end.is_some() {
            if too_long {
                skipped += 1;
            } else {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                f(&String::from_utf8_lossy(&line));
            }
            line.clear();
            too_long = false;
        }
    }
}

#[cfg(feature = "aws")]
mod kinesis {
    use std::time::Duration;

    use anyhow::{Context, Result};
    use keibi_aws::kinesis::{
        batches, Form, Kinesis, KinesisOptions, Packer, PutRecord, PutResult, PUT_MAX_BYTES,
        PUT_MAX_RECORDS,
    };
    use keibi_i18n::Msg;

    use crate::cli::StreamSendArgs;
    use crate::locale::{said, say};
    use crate::output::sanitize::terminal;

    /// Tries of a record Kinesis refused.
    const TRIES: u32 = 5;

    struct Sent {
        records: u64,
        bytes: u64,
        failed: u64,
        last_error: String,
    }

    pub fn send(args: &StreamSendArgs, stream: &str, key: &str, quiet: bool) -> Result<u8> {
        let k = Kinesis::new(&KinesisOptions {
            region: args.kinesis.region.clone(),
            endpoint_url: args.kinesis.endpoint_url.clone(),
            profile: args.kinesis.profile.clone(),
            timeout: Duration::from_secs(30),
            ..KinesisOptions::default()
        })?;
        let mut sent = Sent {
            records: 0,
            bytes: 0,
            failed: 0,
            last_error: String::new(),
        };
        let (mut packed, mut skipped) = (0u64, 0u64);
        for path in &args.files {
            let form = if args.raw {
                Form::Raw
            } else {
                // The log stream a subscription names: RDS names it after the
                // instance; here, after the file.
                let name: String = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(512)
                    .collect();
                Form::Subscription {
                    stream: name,
                    owner: "000000000000".into(),
                }
            };
            let mut packer = Packer::new(key, form)?;
            let file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
            let mut pending: Vec<PutRecord> = Vec::new();
            let mut pending_bytes = 0usize;
            let mut failure: Option<anyhow::Error> = None;
            let long = super::lines(std::io::BufReader::new(file), |line| {
                if failure.is_some() {
                    return;
                }
                packer.line(line);
                for r in packer.take() {
                    pending_bytes += r.data.len() + r.key.len();
                    pending.push(r);
                }
                if pending.len() >= PUT_MAX_RECORDS || pending_bytes >= PUT_MAX_BYTES {
                    if let Err(e) = put(&k, stream, &mut pending, &mut sent) {
                        failure = Some(e);
                    }
                    pending_bytes = 0;
                }
            })
            .with_context(|| path.display().to_string())?;
            if let Some(e) = failure {
                return Err(e);
            }
            packer.finish();
            pending.extend(packer.take());
            put(&k, stream, &mut pending, &mut sent)?;
            packed += packer.entries_packed;
            skipped += packer.entries_skipped + long;
        }
        let form = if args.raw {
            said("stream-form-raw")
        } else {
            said("stream-form-subscription")
        };
        eprintln!(
            "{}",
            say(Msg::new("stream-sent")
                .arg("records", sent.records)
                .arg("entries", packed)
                .arg("bytes", sent.bytes)
                .arg("files", args.files.len())
                .arg("stream", terminal(stream).as_ref())
                .arg("form", form))
        );
        if skipped > 0 && !quiet {
            eprintln!("{}", say(Msg::new("stream-skipped").arg("n", skipped)));
        }
        if sent.failed > 0 {
            anyhow::bail!(say(Msg::new("stream-failed")
                .arg("n", sent.failed)
                .arg("stream", terminal(stream).as_ref())
                .arg("tries", u64::from(TRIES))
                .arg("error", terminal(&sent.last_error).as_ref())));
        }
        Ok(0)
    }

    /// Puts `pending` (emptied), each refused record again up to [`TRIES`] times.
    fn put(k: &Kinesis, stream: &str, pending: &mut Vec<PutRecord>, sent: &mut Sent) -> Result<()> {
        let mut todo = std::mem::take(pending);
        let mut wait = Duration::from_millis(200);
        for attempt in 1..=TRIES {
            if todo.is_empty() {
                return Ok(());
            }
            let mut refused = Vec::new();
            for b in batches(&todo) {
                let chunk = &todo[b];
                let results = k.put_records(stream, chunk)?;
                for (r, res) in chunk.iter().zip(results) {
                    match res {
                        PutResult::Stored { .. } => {
                            sent.records += 1;
                            sent.bytes += r.data.len() as u64;
                        }
                        PutResult::Failed { code, message } => {
                            sent.last_error = format!("{code}: {message}");
                            refused.push(r.clone());
                        }
                    }
                }
            }
            todo = refused;
            if !todo.is_empty() && attempt < TRIES {
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
        sent.failed += todo.len() as u64;
        Ok(())
    }
}

#[cfg(not(feature = "aws"))]
mod kinesis {
    use keibi_i18n::Msg;

    pub fn send(
        _args: &crate::cli::StreamSendArgs,
        _stream: &str,
        _key: &str,
        _quiet: bool,
    ) -> anyhow::Result<u8> {
        anyhow::bail!(crate::locale::say(Msg::new("stream-no-aws")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> (Vec<String>, u64) {
        let mut out = Vec::new();
        let skipped = lines(std::io::BufReader::with_capacity(7, input), |l| {
            out.push(l.to_string())
        })
        .unwrap();
        (out, skipped)
    }

    #[test]
    fn lines_are_whole_bounded_and_never_lost_silently() {
        assert_eq!(
            all(b"a\r\nbb\n\nccc"),
            (vec!["a".into(), "bb".into(), "".into(), "ccc".into()], 0)
        );
        let mut long = vec![b'x'; MAX_LINE + 10];
        long.extend_from_slice(b"\nafter\n");
        long.extend(vec![b'y'; MAX_LINE + 1]);
        assert_eq!(all(&long), (vec!["after".into()], 2));
        assert_eq!(all(b"\xff\xfeok\n").0, ["\u{fffd}\u{fffd}ok"]);
    }
}

/// `--nats`: JetStream. Each file is cut into records of whole lines that keep
/// every entry whole (`keibi_ingest::record_ranges`), published on
/// `PREFIX.INSTANCE.LOG`, with JetStream's acknowledgement awaited per batch.
mod nats {
    #[allow(unused_imports)]
    use anyhow::Result;

    #[allow(unused_imports)]
    use crate::cli::Global;

    #[cfg(not(feature = "nats"))]
    pub(super) fn send(_args: &crate::cli::StreamSendArgs, _global: &Global) -> Result<u8> {
        use crate::locale::said;
        eprintln!("keibi: {}", said("stream-no-nats"));
        Ok(2)
    }

    #[cfg(feature = "nats")]
    pub(super) fn send(args: &crate::cli::StreamSendArgs, _global: &Global) -> Result<u8> {
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

        if !valid_subject(&args.nats.subject_prefix) {
            eprintln!(
                "keibi: {}",
                say(Msg::new("stream-bad-subject")
                    .arg("subject", terminal(&args.nats.subject_prefix).as_ref()))
            );
            return Ok(2);
        }
        let max = args.nats.record_kib.clamp(1, 1024) * 1024;
        let opts = IngestOptions {
            format: args.nats.log_format,
            pg_prefix: args.nats.pg_prefix.clone(),
            ..IngestOptions::default()
        };
        // Every subject first: a bad key is a usage error before anything is sent.
        let mut subjects = Vec::with_capacity(args.files.len());
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
            let subject = format!("{}.{key}", args.nats.subject_prefix);
            if !valid_subject(&subject) {
                eprintln!(
                    "keibi: {}",
                    say(Msg::new("stream-bad-subject").arg("subject", terminal(&subject).as_ref()))
                );
                return Ok(2);
            }
            subjects.push(subject);
        }
        let js = keibi_nats::JetStream::connect(
            args.nats.nats.as_deref().unwrap_or_default(),
            &args.nats.stream,
            1,
        )?;
        js.ensure_stream()?;
        for (path, subject) in args.files.iter().zip(&subjects) {
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
                batch.push((subject, record));
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
                    say(Msg::new("stream-nats-skipped")
                        .arg("file", terminal(&file).as_ref())
                        .arg("n", skipped))
                );
            }
            eprintln!(
                "keibi: {}",
                say(Msg::new("stream-nats-sent")
                    .arg("records", sent)
                    .arg("bytes", bytes.len() as u64)
                    .arg("file", terminal(&file).as_ref())
                    .arg("subject", terminal(subject).as_ref()))
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
}
