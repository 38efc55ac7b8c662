//! `keibi stream send`: log files into a partitioned stream, the producer side of
//! issue 20's workers. `--kinesis STREAM` puts them into Amazon Kinesis Data Streams
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
    let Some(stream) = &args.kinesis.kinesis else {
        anyhow::bail!(say(Msg::new("stream-no-target")));
    };
    kinesis::send(args, stream, global.quiet)
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

    pub fn send(args: &StreamSendArgs, stream: &str, quiet: bool) -> Result<u8> {
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
            let mut packer = Packer::new(&args.key, form)?;
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
