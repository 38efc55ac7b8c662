//! `keibi users`: the dashboard's local users in the store (`docs/dashboard.md`).
//! Passwords are typed twice without echo on a terminal (or read from the first
//! line of standard input with `--password-stdin`), checked for length, hashed
//! with argon2id (keibi-server) and never stored or printed.
//!
//! Exit codes: 0 done, 1 nothing to do (no such user), 2 a bad name, role,
//! password or store.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use keibi_i18n::Msg;
use keibi_store::Store;

use crate::cli::{Global, UsersArgs, UsersCommand};
use crate::locale::{said, say};
use crate::output::sanitize::terminal;

pub fn run(args: &UsersArgs, _global: &Global) -> Result<u8> {
    let path = store_path(args.store.as_ref(), args.config.as_ref())?;
    let mut store = Store::open(&path)?;
    match &args.command {
        UsersCommand::Add {
            name,
            role,
            lang,
            password_stdin,
        } => {
            if !keibi_store::valid_user_name(name) {
                eprintln!(
                    "keibi: {}",
                    say(Msg::new("users-bad-name").arg("name", terminal(name).as_ref()))
                );
                return Ok(2);
            }
            if store.user(name)?.is_some() {
                eprintln!(
                    "keibi: {}",
                    say(Msg::new("users-exists").arg("name", name.as_str()))
                );
                return Ok(2);
            }
            let Some(password) = new_password(*password_stdin)? else {
                return Ok(2);
            };
            let hash = keibi_server::users::hash_password(&password)?;
            store.add_user(name, &hash, role, lang.as_deref(), Utc::now())?;
            println!(
                "{}",
                say(Msg::new("users-added")
                    .arg("name", name.as_str())
                    .arg("role", role.as_str()))
            );
            Ok(0)
        }
        UsersCommand::List => {
            let users = store.users()?;
            if users.is_empty() {
                println!("{}", said("users-none"));
                return Ok(0);
            }
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "{:<24} {:<10} {:<5} {:<9} {}",
                said("users-col-name"),
                said("users-col-role"),
                said("users-col-lang"),
                said("users-col-state"),
                said("users-col-changed")
            )?;
            for u in users {
                writeln!(
                    out,
                    "{:<24} {:<10} {:<5} {:<9} {}",
                    terminal(&u.name),
                    terminal(&u.role),
                    u.lang.as_deref().map(terminal).unwrap_or("-".into()),
                    if u.disabled {
                        said("users-disabled")
                    } else {
                        said("users-active")
                    },
                    u.changed.format("%Y-%m-%dT%H:%M:%SZ")
                )?;
            }
            Ok(0)
        }
        UsersCommand::Remove { name } => {
            if store.remove_user(name)? {
                println!(
                    "{}",
                    say(Msg::new("users-removed").arg("name", terminal(name).as_ref()))
                );
                Ok(0)
            } else {
                eprintln!(
                    "keibi: {}",
                    say(Msg::new("users-unknown").arg("name", terminal(name).as_ref()))
                );
                Ok(1)
            }
        }
        UsersCommand::Passwd {
            name,
            password_stdin,
        } => {
            if store.user(name)?.is_none() {
                eprintln!(
                    "keibi: {}",
                    say(Msg::new("users-unknown").arg("name", terminal(name).as_ref()))
                );
                return Ok(1);
            }
            let Some(password) = new_password(*password_stdin)? else {
                return Ok(2);
            };
            let hash = keibi_server::users::hash_password(&password)?;
            store.set_password(name, &hash, Utc::now())?;
            println!(
                "{}",
                say(Msg::new("users-password-set").arg("name", name.as_str()))
            );
            Ok(0)
        }
        UsersCommand::Sessions { revoke } => {
            if let Some(name) = revoke {
                let n = store.revoke_sessions(name)?;
                println!(
                    "{}",
                    say(Msg::new("users-revoked")
                        .arg("name", terminal(name).as_ref())
                        .arg("count", n))
                );
                return Ok(0);
            }
            let sessions = store.sessions(None, Utc::now())?;
            if sessions.is_empty() {
                println!("{}", said("users-no-sessions"));
                return Ok(0);
            }
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "{:<24} {:<20} {:<20} {}",
                said("users-col-name"),
                said("users-col-since"),
                said("users-col-seen"),
                said("users-col-expires")
            )?;
            let t = |d: chrono::DateTime<Utc>| d.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            for s in sessions {
                writeln!(
                    out,
                    "{:<24} {:<20} {:<20} {}",
                    terminal(&s.user),
                    t(s.created),
                    t(s.last_seen),
                    t(s.expires)
                )?;
            }
            Ok(0)
        }
    }
}

/// `--store`, else the settings' `store.path`, else `keibi.db`.
pub(crate) fn store_path(store: Option<&PathBuf>, config: Option<&PathBuf>) -> Result<PathBuf> {
    if let Some(s) = store {
        return Ok(s.clone());
    }
    match config {
        Some(c) => match keibi_engine::settings::Settings::load(c) {
            Ok((s, _)) => Ok(s.store.path),
            Err(e) => bail!("{}", super::run::load_error_text(&e)),
        },
        None => Ok(PathBuf::from("keibi.db")),
    }
}

/// A new password: typed twice without echo on a terminal, else the first line of
/// standard input (`--password-stdin`, or standard input is not a terminal).
/// `None` when it was refused (said why).
fn new_password(from_stdin: bool) -> Result<Option<String>> {
    let stdin = io::stdin();
    let password = if from_stdin || !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .take_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else {
        let first = read_hidden(&said("users-password-prompt"))?;
        let again = read_hidden(&said("users-password-again"))?;
        if first != again {
            eprintln!("keibi: {}", said("users-password-mismatch"));
            return Ok(None);
        }
        first
    };
    match keibi_server::users::password_problem(&password) {
        None => Ok(Some(password)),
        Some(p) => {
            eprintln!(
                "keibi: {}",
                say(Msg::new(if p == "too-short" {
                    "users-password-short"
                } else {
                    "users-password-long"
                })
                .arg("min", keibi_server::users::MIN_PASSWORD)
                .arg("max", keibi_server::users::MAX_PASSWORD))
            );
            Ok(None)
        }
    }
}

trait TakeLine {
    fn take_line(&mut self, line: &mut String) -> io::Result<usize>;
}

impl<B: BufRead> TakeLine for B {
    /// One line, at most 4 KiB read (a password longer than that is refused anyway).
    fn take_line(&mut self, line: &mut String) -> io::Result<usize> {
        let mut buf = Vec::new();
        let n = io::Read::take(&mut *self, 4096).read_until(b'\n', &mut buf)?;
        *line = String::from_utf8(buf)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))?;
        Ok(n)
    }
}

/// Reads a line from the terminal with echo off (restored afterwards, also on
/// error).
fn read_hidden(prompt: &str) -> Result<String> {
    use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};
    let stdin = io::stdin();
    let old = tcgetattr(&stdin).context("reading the terminal's settings")?;
    let mut quiet = old.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&stdin, OptionalActions::Now, &quiet).context("turning the terminal's echo off")?;
    eprint!("{prompt}");
    let _ = io::stderr().flush();
    let mut line = String::new();
    let read = stdin.lock().take_line(&mut line);
    let restored = tcsetattr(&stdin, OptionalActions::Now, &old);
    read.context("reading the password")?;
    restored.context("turning the terminal's echo back on")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
