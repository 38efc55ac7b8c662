//! `keibi events`: every input as one normalized event stream, in time order.

use std::io::{self, BufWriter, Write};

use anyhow::Result;
use keibi_ingest::Report;

use crate::cli::{EventFormat, EventsArgs, Global};
use crate::locale::{library_text, said, say};
use crate::output::table::EventTable;
use keibi_i18n::Msg;

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
    drop(out);
    crate::aws::say_usage(args.input.region.as_deref(), global.quiet);
    Ok(summarize(&report, args.fail_on_unparsed))
}

/// Prints the closing line (and one about other programs' lines skipped) and chooses the exit code: 2 when nothing at all could be
/// read, 1 when `--fail-on-unparsed` and some line was not recognized (or an input in
/// no known format was given up on), else 0.
pub fn summarize(report: &Report, fail_on_unparsed: bool) -> u8 {
    // Other programs' lines in a shared syslog file were passed over on purpose: one
    // line says how many, before the closing line (which stays the last), and
    // `--fail-on-unparsed` does not count them (nothing of the database went unread).
    if report.skipped > 0 {
        eprintln!("{}", say(Msg::new("ev-skipped").arg("n", report.skipped)));
    }
    eprintln!(
        "{}",
        say(Msg::new("ev-summary")
            .arg("events", report.events)
            .arg("files", report.files)
            .arg("unrecognized", report.unrecognized)
            .arg("unread", report.unread))
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
    let error = |path: &str, e: &str| {
        eprintln!(
            "{}",
            say(Msg::new("ev-explain-error")
                .arg("path", path.escape_debug().to_string())
                .arg("reason", library_text(e)))
        )
    };
    for (path, e) in &expanded.errors {
        error(path, &e.to_string());
    }
    for input in &expanded.inputs {
        let name = input.display();
        let x = match keibi_ingest::explain(input, &opts) {
            Ok(x) => x,
            Err(e) => {
                error(&name, &e.to_string());
                failed = true;
                continue;
            }
        };
        writeln!(out, "{}:", name.escape_debug())?;
        match x.format {
            Some(f) => writeln!(
                out,
                "{}",
                say(Msg::new("ev-explain-format").arg("format", f.to_string()))
            )?,
            None => writeln!(out, "{}", said("ev-explain-not-recognized"))?,
        }
        let how = said(if args.input.pg_prefix.is_some() {
            "ev-explain-how-given"
        } else if x.inferred_used {
            "ev-explain-how-inferred"
        } else if x.format.is_some() {
            "ev-explain-how-detected"
        } else {
            "ev-explain-how-unsure"
        });
        match &x.inference {
            Some(i) => {
                writeln!(
                    out,
                    "{}",
                    say(Msg::new("ev-explain-prefix")
                        .arg("prefix", shown(&i.prefix))
                        .arg("how", how))
                )?;
                writeln!(
                    out,
                    "{}",
                    say(Msg::new("ev-explain-explains")
                        .arg("explained", i.explained as u64)
                        .arg("sampled", i.sampled as u64))
                )?;
                for a in &i.ambiguities {
                    writeln!(
                        out,
                        "{}",
                        say(Msg::new("ev-explain-ambiguous").arg("what", shown(a)))
                    )?;
                }
            }
            None => writeln!(out, "{}", said("ev-explain-none"))?,
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
