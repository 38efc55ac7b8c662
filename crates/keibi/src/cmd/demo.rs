//! `keibi demo`: writes a generated week of RDS PostgreSQL and MySQL logs with attacks
//! woven in (see `crate::demo`), then scans them exactly as `keibi scan` would, so a
//! new user sees findings with one command, offline, in seconds.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{Duration, Utc};

use clap::Parser;

use crate::cli::{Cli, Command, DemoArgs, Global};
use crate::demo::{self, LOG_DIR, THREAT_LIST, TOR_LIST};
use crate::output::sanitize::terminal;

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
            .context("creating a temporary directory")?
            .keep(),
    };
    let week = demo::generate(last_day);
    remove_earlier_demo(&dir)?;
    for file in &week.files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, &file.body).with_context(|| format!("writing {}", path.display()))?;
    }
    let logs = dir.join(LOG_DIR);
    let (tor, threats) = (dir.join(TOR_LIST), dir.join(THREAT_LIST));
    eprintln!(
        "keibi demo: wrote a week of RDS logs ({} to {}: shop-postgres, {} PostgreSQL files; \
         shop-mysql, {} MySQL audit files; {} lines) to {}, with a Tor exit list and a threat \
         list beside them, and scans them as this command does:\n\n    keibi scan {} \
         --tor-list {} --threat-list {}\n",
        week.first_day,
        week.last_day,
        week.log_files("shop-postgres"),
        week.log_files("shop-mysql"),
        keibi_detect::text::thousands(week.lines),
        terminal(&logs.display().to_string()),
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

/// Removes the log files an earlier `keibi demo --write-to` left in the same place
/// (another week's hourly files would otherwise be read too). Only the demo's own
/// file names in the demo's own directories are touched.
fn remove_earlier_demo(dir: &Path) -> Result<()> {
    let ours: [(&str, &str); 2] = [
        ("shop-postgres/error", "postgresql.log."),
        ("shop-mysql/audit", "server_audit.log"),
    ];
    for (sub, prefix) in ours {
        let d = dir.join(LOG_DIR).join(sub);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if is_file && entry.file_name().to_string_lossy().starts_with(prefix) {
                std::fs::remove_file(entry.path())
                    .with_context(|| format!("removing {}", entry.path().display()))?;
            }
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
