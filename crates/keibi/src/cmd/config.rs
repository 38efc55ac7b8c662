//! `keibi config check`: reads a settings file as `keibi run` and `keibi scan
//! --config` do and prints every problem (stdout, one `FILE:LINE:COLUMN: reason` a
//! line) or what the file sets up. Exit 0 fine, 1 problems, 2 unreadable.

use std::path::Path;

use anyhow::{Context, Result};
use keibi_engine::settings::{Form, Problem, Settings};
use keibi_i18n::Msg;

use crate::cli::{ConfigCommand, Global};
use crate::locale::{library_text, said, say};
use crate::output::sanitize::terminal;

pub fn run(cmd: &ConfigCommand, _global: &Global) -> Result<u8> {
    let ConfigCommand::Check { file } = cmd;
    let shown = terminal(&file.display().to_string()).into_owned();
    let text = read(file).with_context(|| shown.clone())?;
    let base = file.parent().unwrap_or(Path::new(""));
    match Settings::from_yaml(&text, &file.display().to_string(), base) {
        Ok((s, form)) => {
            println!(
                "{}",
                say(Msg::new("config-ok")
                    .arg("path", &shown)
                    .arg("summary", summary(&s, form)))
            );
            Ok(0)
        }
        Err(problems) => {
            for p in &problems {
                println!("{}", terminal(&problem_text(p)));
            }
            eprintln!(
                "{}",
                say(Msg::new("config-problems")
                    .arg("path", &shown)
                    .arg("n", problems.len()))
            );
            Ok(1)
        }
    }
}

/// Reads a settings file: at most the configuration bound, text.
pub fn read(file: &Path) -> Result<String> {
    let bytes = super::read_capped(file, keibi_engine::settings::LIMITS.max_bytes, true)?;
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!(said("not-utf8")))
}

/// A settings file's problem, `FILE:LINE:COLUMN: reason`, its reason in the reader's
/// language where keibi knows its shape.
pub fn problem_text(p: &Problem) -> String {
    format!(
        "{}:{}:{}: {}",
        p.file,
        p.line,
        p.column,
        library_text(&p.reason)
    )
}

/// What a file sets up, in a line.
fn summary(s: &Settings, form: Form) -> String {
    if form == Form::Flat {
        return said("config-flat");
    }
    let l = &s.lists;
    let n = |id: &str, n: usize| say(Msg::new(id).arg("n", n));
    say(Msg::new("config-summary")
        .arg("sources", n("config-sources", s.sources.inputs.len()))
        .arg(
            "lists",
            n(
                "config-lists",
                l.tor.len() + l.threat.len() + l.trusted.len(),
            ),
        )
        .arg(
            "suppressions",
            n("config-suppressions", s.tuning.suppress.len()),
        )
        .arg(
            "rules",
            n(
                if s.rules.builtin {
                    "config-rules-builtin"
                } else {
                    "config-rules-no-builtin"
                },
                s.rules.paths.len(),
            ),
        )
        .arg(
            "store",
            terminal(&keibi_store::shown(&s.store.path)).into_owned(),
        )
        .arg("server", s.server.listen.to_string()))
}
