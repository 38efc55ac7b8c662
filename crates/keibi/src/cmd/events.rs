//! `keibi events`: every input as one normalized event stream, in time order.

use std::io::{self, BufWriter, Write};

use anyhow::Result;
use keibi_ingest::Report;

use crate::cli::{EventFormat, EventsArgs, Global};
use crate::output::table::EventTable;

pub fn run(args: &EventsArgs, global: &Global) -> Result<u8> {
    if args.explain {
        return explain(args);
    }
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

/// `--explain`: what detection makes of each input, and the prefix inferred from its
/// first lines, as a `log_line_prefix` the user can confirm or pass with `--pg-prefix`.
fn explain(args: &EventsArgs) -> Result<u8> {
    let opts = super::ingest_options(&args.input)?;
    let expanded = keibi_ingest::expand(&args.input.paths);
    let mut out = io::stdout().lock();
    let mut failed = !expanded.errors.is_empty();
    for (path, e) in &expanded.errors {
        eprintln!("keibi: {}: {e}", path.escape_debug());
    }
    for input in &expanded.inputs {
        let name = input.display();
        let x = match keibi_ingest::explain(input, &opts) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("keibi: {}: {e}", name.escape_debug());
                failed = true;
                continue;
            }
        };
        writeln!(out, "{}:", name.escape_debug())?;
        match x.format {
            Some(f) => writeln!(out, "  format: {f}")?,
            None => writeln!(out, "  format: not recognized")?,
        }
        let how = if args.input.pg_prefix.is_some() {
            "the prefix given with --pg-prefix reads it"
        } else if x.inferred_used {
            "read with the inferred prefix"
        } else if x.format.is_some() {
            "not used: the detected format reads it"
        } else {
            "not sure enough to read it with"
        };
        match &x.inference {
            Some(i) => {
                writeln!(
                    out,
                    "  inferred log_line_prefix: '{}' ({how})",
                    shown(&i.prefix)
                )?;
                writeln!(
                    out,
                    "  explains {} of {} sampled lines",
                    i.explained, i.sampled
                )?;
                for a in &i.ambiguities {
                    writeln!(out, "  ambiguous: {}", shown(a))?;
                }
            }
            None => writeln!(
                out,
                "  inferred log_line_prefix: none (no line has a PostgreSQL level word)"
            )?,
        }
    }
    Ok(u8::from(failed))
}

/// Text from a log, with control characters escaped (a name may hold any byte).
fn shown(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
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
