//! `keibi init`: writes the commented starter settings file (every section, every
//! default), never over an existing file unless asked.

use std::io::Write;

use anyhow::{Context, Result};
use keibi_engine::settings::STARTER;

use crate::cli::{Global, InitArgs};
use crate::locale::say;
use crate::output::sanitize::terminal;
use keibi_i18n::Msg;

pub fn run(args: &InitArgs, _global: &Global) -> Result<u8> {
    let path = &args.output;
    let shown = terminal(&path.display().to_string()).into_owned();
    if args.force {
        // Replace by removing first: a planted symbolic link is removed, never
        // written through (create_new below refuses to follow one).
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => anyhow::bail!(say(Msg::new("init-is-dir").arg("path", &shown))),
            Ok(_) => std::fs::remove_file(path)
                .with_context(|| say(Msg::new("init-cannot-replace").arg("path", &shown)))?,
            Err(_) => {}
        }
    }
    let mut f = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            anyhow::bail!(say(Msg::new("init-exists").arg("path", &shown)))
        }
        Err(e) => return Err(e).with_context(|| shown.clone()),
    };
    f.write_all(STARTER.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| shown.clone())?;
    eprintln!("{}", say(Msg::new("init-wrote").arg("path", &shown)));
    Ok(0)
}
