//! `keibi config check`: reads a settings file as `keibi run` and `keibi scan
//! --config` do and prints every problem (stdout, one `FILE:LINE:COLUMN: reason` a
//! line) or what the file sets up. Exit 0 fine, 1 problems, 2 unreadable.

use std::path::Path;

use anyhow::{Context, Result};
use keibi_engine::settings::{Form, Settings};

use crate::cli::{ConfigCommand, Global};
use crate::output::sanitize::terminal;

pub fn run(cmd: &ConfigCommand, _global: &Global) -> Result<u8> {
    let ConfigCommand::Check { file } = cmd;
    let shown = terminal(&file.display().to_string()).into_owned();
    let text = read(file).with_context(|| shown.clone())?;
    let base = file.parent().unwrap_or(Path::new(""));
    match Settings::from_yaml(&text, &file.display().to_string(), base) {
        Ok((s, form)) => {
            println!("ok: {shown}: {}", summary(&s, form));
            Ok(0)
        }
        Err(problems) => {
            for p in &problems {
                println!("{}", terminal(&p.to_string()));
            }
            eprintln!(
                "keibi: {shown}: {} problem{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            Ok(1)
        }
    }
}

/// Reads a settings file: at most the configuration bound, text.
pub fn read(file: &Path) -> Result<String> {
    let bytes = super::read_capped(file, keibi_engine::settings::LIMITS.max_bytes, true)?;
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("not UTF-8 text"))
}

/// What a file sets up, in a line.
fn summary(s: &Settings, form: Form) -> String {
    let n = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    if form == Form::Flat {
        return "detection settings only (the flat form; every other section at its defaults)"
            .to_string();
    }
    let l = &s.lists;
    format!(
        "{}, {}, {}, {}, store {}, server {}",
        n(s.sources.inputs.len(), "source", "sources"),
        n(
            l.tor.len() + l.threat.len() + l.trusted.len(),
            "address list",
            "address lists"
        ),
        n(s.tuning.suppress.len(), "suppression", "suppressions"),
        n(s.rules.paths.len(), "rule path", "rule paths")
            + if s.rules.builtin {
                " and the built-in rules"
            } else {
                " (built-in rules off)"
            },
        terminal(&s.store.path.display().to_string()),
        s.server.listen,
    )
}
