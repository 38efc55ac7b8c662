//! `keibi events`: every input as one normalized event stream, in time order.

use std::io::{self, BufWriter, Write};

use anyhow::Result;
use keibi_ingest::Report;

use crate::cli::{EventFormat, EventsArgs, Global};
use crate::output::table::EventTable;

pub fn run(args: &EventsArgs, global: &Global) -> Result<u8> {
    let stdout = io::stdout();
    let (is_tty, color) = super::terminal_output(global);
    let format = args.format.unwrap_or(if is_tty {
        EventFormat::Table
    } else {
        EventFormat::Jsonl
    });
    let mut out = BufWriter::with_capacity(256 * 1024, stdout.lock());
    let report = match format {
        EventFormat::Jsonl => super::read_inputs(&args.input, global, |e| {
            serde_json::to_writer(&mut out, &e).map_err(io::Error::other)?;
            out.write_all(b"\n")
        })?,
        EventFormat::Table => {
            let mut table = EventTable::new(&mut out, color);
            let r = super::read_inputs(&args.input, global, |e| table.write(&e))?;
            table.flush()?;
            r
        }
    };
    out.flush()?;
    Ok(summarize(&report, args.fail_on_unparsed))
}

/// Prints the closing line and chooses the exit code: 2 when nothing at all could be
/// read, 1 when `--fail-on-unparsed` and some line was not recognized (or an input in
/// no known format was given up on), else 0.
pub fn summarize(report: &Report, fail_on_unparsed: bool) -> u8 {
    let unread = match report.unread {
        0 => String::new(),
        1 => " (and the rest of 1 input in no known format, not read)".into(),
        n => format!(" (and the rest of {n} inputs in no known format, not read)"),
    };
    eprintln!(
        "keibi: {} events from {} files, {} unrecognized lines{unread}",
        report.events, report.files, report.unrecognized
    );
    if report.files == 0 && report.events == 0 {
        2
    } else if fail_on_unparsed && (report.unrecognized > 0 || report.unread > 0) {
        1
    } else {
        0
    }
}
