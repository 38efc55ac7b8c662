//! The commands. Each is one module with a `run(args, global) -> Result<exit code>`;
//! reading inputs (shared by every command that reads logs) is here.

pub mod actions;
pub mod audit;
pub mod config;
pub mod dashboard;
pub mod demo;
pub mod events;
pub mod export;
pub mod findings;
pub mod guardduty;
pub mod init;
pub mod learn;
pub mod notify;
pub mod notify_routes;
pub mod rules;
pub mod run;
pub mod run_respond;
pub mod run_worker;
pub mod scan;
pub mod stream;
pub mod timeline;
pub mod users;

use std::collections::HashMap;
use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::Utc;
use keibi_ingest::{IngestOptions, Notice, Report};
use keibi_model::Event;

use crate::cli::{Global, InputArgs};
use crate::locale::{library_text, say};
use crate::output::sanitize::terminal;
use crate::progress::Progress;
use keibi_i18n::Msg;

/// Unrecognized-line warnings shown per file before they are only counted.
const WARNINGS_PER_FILE: u64 = 5;

/// Whether stdout is a terminal (tables are the default there, JSON lines when
/// piped), and whether to colour: `--color`, else only on a terminal without
/// `NO_COLOR`.
pub fn terminal_output(global: &Global) -> (bool, bool) {
    use std::io::IsTerminal;
    let is_tty = io::stdout().is_terminal();
    let color = match global.color {
        crate::cli::ColorChoice::Always => true,
        crate::cli::ColorChoice::Never => false,
        crate::cli::ColorChoice::Auto => is_tty && std::env::var_os("NO_COLOR").is_none(),
    };
    (is_tty, color)
}

/// Reads a whole file of at most `max` bytes: the lists, rules and settings keibi
/// loads into memory. A larger file, or one that never ends (`/dev/zero`, a FIFO), is
/// an error after at most `max + 1` bytes; with `text`, so is a NUL byte (binary
/// data, `/dev/urandom`), at the first chunk that holds one.
pub fn read_capped(path: &std::path::Path, max: usize, text: bool) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let too_large = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            say(Msg::new("too-large").arg("max", max)),
        )
    };
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() > max as u64 {
        return Err(too_large());
    }
    let mut out = Vec::new();
    let mut reader = file.take(max as u64 + 1);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if text {
            if let Some(i) = memchr_nul(&chunk[..n]) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    say(Msg::new("binary-file").arg("offset", out.len() + i)),
                ));
            }
        }
        if out.len() + n > max {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk[..n]);
    }
    Ok(out)
}

fn memchr_nul(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == 0)
}

/// Builds ingest options from the input flags.
pub fn ingest_options(args: &InputArgs) -> Result<IngestOptions> {
    let now = Utc::now();
    let offset = keibi_parse::time::zone_offset(&args.log_timezone)
        .with_context(|| say(Msg::new("in-log-timezone").arg("value", &args.log_timezone)))?;
    Ok(IngestOptions {
        format: args.log_format,
        pg_prefix: args.pg_prefix.clone(),
        instance: args.instance.clone(),
        local_offset: offset,
        since: args
            .since
            .as_deref()
            .map(|s| crate::timearg::parse(s, now))
            .transpose()
            .context("--since")?,
        until: args
            .until
            .as_deref()
            .map(|s| crate::timearg::parse(s, now))
            .transpose()
            .context("--until")?,
        ..IngestOptions::default()
    })
}

/// Reads every input named by `args` in time order, printing warnings on stderr, and
/// hands each event to `sink`. Returns what was read.
pub fn read_inputs(
    args: &InputArgs,
    global: &Global,
    sink: impl FnMut(Event) -> io::Result<()>,
) -> Result<Report> {
    let opts = ingest_options(args)?;
    let (remote, local): (Vec<String>, Vec<String>) = args
        .paths
        .iter()
        .cloned()
        .partition(|p| crate::aws::is_remote(p));
    let keibi_ingest::Expanded {
        mut inputs,
        mut errors,
        warnings,
    } = keibi_ingest::expand(&local);
    let (remote_inputs, remote_errors) = crate::aws::remote_inputs(
        &remote,
        &crate::aws::AwsInputs {
            region: args.region.clone(),
            endpoint_url: args.endpoint_url.clone(),
            profile: args.profile.clone(),
            role_arn: args.role_arn.clone(),
            external_id: args.external_id.clone(),
            since: opts.since,
            until: opts.until,
        },
    )?;
    inputs.extend(remote_inputs);
    errors.extend(
        remote_errors
            .into_iter()
            .map(|(url, e)| (url, io::Error::other(e))),
    );
    let quiet = global.quiet;
    let error = |path: &str, e: &str| {
        eprintln!(
            "{}",
            say(Msg::new("in-error")
                .arg("path", terminal(path).into_owned())
                .arg("reason", terminal(&library_text(e)).into_owned()))
        )
    };
    for (path, e) in &errors {
        error(path, &e.to_string());
    }
    for (path, w) in &warnings {
        eprintln!(
            "{}",
            say(Msg::new("in-warning")
                .arg("path", terminal(path).into_owned())
                .arg("reason", terminal(&library_text(w)).into_owned()))
        );
    }
    let total: u64 = inputs.iter().filter_map(|i| i.size()).sum();
    let counter = Arc::new(AtomicU64::new(0));
    let progress = Progress::start(total, counter.clone(), quiet);

    let mut shown: HashMap<Arc<str>, u64> = HashMap::new();
    let notice = |n: Notice| match n {
        Notice::Opened { .. } => {}
        Notice::FileError { file, error: e } => error(&file, &e),
        Notice::ReadError { file, line, error } => eprintln!(
            "{}",
            say(Msg::new("in-line-warning")
                .arg("file", terminal(&file).into_owned())
                .arg("line", line.to_string())
                .arg("reason", terminal(&library_text(&error)).into_owned()))
        ),
        Notice::Line {
            file,
            line,
            reason,
            unrecognized,
        } => {
            let n = shown.entry(file.clone()).or_default();
            *n += u64::from(unrecognized);
            if !quiet && (!unrecognized || *n <= WARNINGS_PER_FILE) {
                let id = if unrecognized {
                    "in-unrecognized"
                } else {
                    "in-line-warning"
                };
                eprintln!(
                    "{}",
                    say(Msg::new(id)
                        .arg("file", terminal(&file).into_owned())
                        .arg("line", line.to_string())
                        .arg("reason", terminal(&library_text(&reason)).into_owned()))
                );
            }
        }
    };
    let result = keibi_ingest::run(inputs, &opts, counter, sink, notice);
    progress.finish();
    let mut report = result?;
    report.failed += errors.len() as u64;
    if !quiet {
        for (file, n) in shown.iter().filter(|(_, n)| **n > WARNINGS_PER_FILE) {
            eprintln!(
                "{}",
                say(Msg::new("in-more-unrecognized")
                    .arg("file", terminal(file).into_owned())
                    .arg("n", n - WARNINGS_PER_FILE))
            );
        }
    }
    Ok(report)
}
