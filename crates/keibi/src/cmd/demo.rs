//! `keibi demo`: writes a generated week of RDS PostgreSQL and MySQL logs with attacks
//! woven in (see `crate::demo`), then scans them exactly as `keibi scan` would, so a
//! new user sees findings with one command, offline, in seconds.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{Duration, Utc};

use clap::Parser;

use crate::cli::{Cli, Command, DemoArgs, Global};
use crate::demo::{self, LOG_DIR, THREAT_LIST, TOR_LIST};
use crate::locale::{said, say};
use crate::output::sanitize::terminal;
use keibi_i18n::Msg;

pub fn run(args: &DemoArgs, global: &Global) -> Result<u8> {
    // Yesterday by default, so the demo week looks current.
    let last_day = args
        .week_ending
        .unwrap_or_else(|| (Utc::now() - Duration::days(1)).date_naive());
    let dir = match &args.write_to {
        Some(d) => d.clone(),
        // Kept after the demo, so the user can run the printed command on it.
        None => tempfile::Builder::new()
            .prefix("keibi-demo-")
            .tempdir()
            .with_context(|| said("demo-tempdir"))?
            .keep(),
    };
    let week = demo::generate(last_day);
    write_week(&dir, &week)?;
    let logs = dir.join(LOG_DIR);
    let (tor, threats) = (dir.join(TOR_LIST), dir.join(THREAT_LIST));
    eprintln!(
        "{}\n\n    keibi scan {} --tor-list {} --threat-list {}\n",
        say(Msg::new("demo-preamble")
            .arg("first", week.first_day.to_string())
            .arg("last", week.last_day.to_string())
            .arg("pg", week.log_files("shop-postgres") as u64)
            .arg("mysql", week.log_files("shop-mysql") as u64)
            .arg("lines", week.lines)
            .arg("dir", terminal(&logs.display().to_string()).into_owned())),
        shell_word(&logs),
        shell_word(&tor),
        shell_word(&threats),
    );
    // The printed command, parsed as `keibi` parses it, so the demo runs exactly that
    // (and follows any flag `keibi scan` gains).
    let argv: Vec<OsString> = vec![
        "keibi".into(),
        "scan".into(),
        logs.into_os_string(),
        "--tor-list".into(),
        tor.into_os_string(),
        "--threat-list".into(),
        threats.into_os_string(),
        "--format".into(),
        "table".into(),
    ];
    let scan = match Cli::try_parse_from(argv)
        .context("the demo's scan command")?
        .command
    {
        Command::Scan(scan) => scan,
        _ => anyhow::bail!("the demo's scan command did not parse as a scan"),
    };
    super::scan::run(&scan, global)
}

/// Writes the week's files under `dir` without ever following a symbolic link below
/// it: `--write-to` may name a folder others can write to, and a link planted there
/// (`logs/shop-mysql/audit/server_audit.log -> ~/.bashrc`) would otherwise have the demo
/// overwrite its target. Every directory on the way is checked and every file is
/// created anew (`O_EXCL`, which fails on any link, even one planted after the check).
/// `dir` itself is the user's choice and may be a link.
fn write_week(dir: &Path, week: &demo::Demo) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| say(Msg::new("demo-creating").arg("path", dir.display().to_string())))?;
    remove_earlier_demo(dir)?;
    for file in &week.files {
        let mut path = dir.to_path_buf();
        let mut parts = file.path.split('/').peekable();
        while let Some(part) = parts.next() {
            path.push(part);
            if parts.peek().is_some() {
                ensure_real_dir(&path)?;
            }
        }
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => std::fs::remove_file(&path).with_context(|| {
                say(Msg::new("demo-removing").arg("path", path.display().to_string()))
            })?,
            Ok(m) => refuse(&path, &m)?,
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| {
                    say(Msg::new("demo-reading").arg("path", path.display().to_string()))
                })
            }
        }
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(&file.body))
            .with_context(|| {
                say(Msg::new("demo-writing").arg("path", path.display().to_string()))
            })?;
    }
    Ok(())
}

/// `path` is a directory (created when missing), not a link to one.
fn ensure_real_dir(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(m) => refuse(path, &m),
        Err(e) if e.kind() == ErrorKind::NotFound => std::fs::create_dir(path).with_context(|| {
            say(Msg::new("demo-creating").arg("path", path.display().to_string()))
        }),
        Err(e) => Err(e)
            .with_context(|| say(Msg::new("demo-reading").arg("path", path.display().to_string()))),
    }
}

fn refuse(path: &Path, m: &std::fs::Metadata) -> Result<()> {
    let id = if m.file_type().is_symlink() {
        "demo-refuse-link"
    } else {
        "demo-refuse-other"
    };
    anyhow::bail!(say(Msg::new(id).arg("path", path.display().to_string())))
}

/// Removes the log files an earlier `keibi demo --write-to` left in the same place
/// (another week's hourly files would otherwise be read too). Only the demo's own
/// file names in the demo's own directories are touched; a link among them is refused
/// (the scan would read its target).
fn remove_earlier_demo(dir: &Path) -> Result<()> {
    let ours: [(&str, &str); 2] = [
        ("shop-postgres/error", "postgresql.log."),
        ("shop-mysql/audit", "server_audit.log"),
    ];
    for (sub, prefix) in ours {
        let mut d = dir.to_path_buf();
        for part in std::iter::once(LOG_DIR).chain(sub.split('/')) {
            d.push(part);
            match std::fs::symlink_metadata(&d) {
                Ok(m) if m.is_dir() => {}
                Ok(m) => refuse(&d, &m)?,
                Err(_) => break,
            }
        }
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            if !entry.file_name().to_string_lossy().starts_with(prefix) {
                continue;
            }
            let m = std::fs::symlink_metadata(entry.path()).with_context(|| {
                say(Msg::new("demo-reading").arg("path", entry.path().display().to_string()))
            })?;
            if !m.is_file() {
                refuse(&entry.path(), &m)?;
            }
            std::fs::remove_file(entry.path()).with_context(|| {
                say(Msg::new("demo-removing").arg("path", entry.path().display().to_string()))
            })?;
        }
    }
    Ok(())
}

/// A path as one shell word: quoted when it holds anything but safe characters.
fn shell_word(p: &Path) -> String {
    let s = p.to_string_lossy();
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.into_owned()
    } else {
        terminal(&format!("'{}'", s.replace('\'', "'\\''"))).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_and_numbers() {
        assert_eq!(
            shell_word(Path::new("/tmp/keibi-demo-x1/logs")),
            "/tmp/keibi-demo-x1/logs"
        );
        assert_eq!(
            shell_word(Path::new("/tmp/my demo/logs")),
            "'/tmp/my demo/logs'"
        );
        assert_eq!(shell_word(Path::new("/tmp/it's")), "'/tmp/it'\\''s'");
        assert_eq!(keibi_detect::text::thousands(71_203), "71,203");
        assert_eq!(keibi_detect::text::thousands(999), "999");
        assert_eq!(keibi_detect::text::thousands(1_000_000), "1,000,000");
    }
}
