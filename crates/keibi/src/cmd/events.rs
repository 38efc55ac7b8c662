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

/// `41203` as `41,203`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Prints the closing line (and one about other programs' lines skipped) and chooses the exit code: 2 when nothing at all could be
/// read, 1 when `--fail-on-unparsed` and some line was not recognized (or an input in
/// no known format was given up on), else 0.
pub fn summarize(report: &Report, fail_on_unparsed: bool) -> u8 {
    let unread = match report.unread {
        0 => String::new(),
        1 => " (and the rest of 1 input in no known format, not read)".into(),
        n => format!(" (and the rest of {n} inputs in no known format, not read)"),
    };
    // Other programs' lines in a shared syslog file were passed over on purpose: one
    // line says how many, before the closing line (which stays the last), and
    // `--fail-on-unparsed` does not count them (nothing of the database went unread).
    if report.skipped > 0 {
        eprintln!(
            "keibi: {} lines of other programs skipped",
            thousands(report.skipped)
        );
    }
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

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        let t = super::thousands;
        assert_eq!(
            [t(0), t(999), t(1000), t(41203), t(1234567)],
            ["0", "999", "1,000", "41,203", "1,234,567"]
        );
    }
}
