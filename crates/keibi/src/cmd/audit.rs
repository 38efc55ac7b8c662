//! `keibi audit`: posture checks over AWS resources (live or saved JSON) and inside
//! databases; failures are findings of type `Posture:<control>/<ShortName>`.
//!
//! What is audited comes from the flags, or, when no flag names a target, from the
//! settings file's `audit` section (`--config`); the suppressions always come from
//! the settings. [`gather`] is shared with `keibi run`'s scheduled audit.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Result};
use chrono::Utc;
use keibi_engine::settings::audit::DbTarget;
use keibi_engine::settings::{Audit, Settings};
use keibi_i18n::Msg;
use keibi_posture::aws::load::{Loader, SavedFile};
use keibi_posture::db::DbPolicy;
use keibi_posture::Snapshot;

use crate::cli::{AuditArgs, Global};
use crate::locale::say;
use crate::output::findings::{write_findings, FindingFormat};
use crate::output::posture::{score_text, write_controls, write_table, AuditFormat};
use crate::output::sanitize::terminal;
use crate::output::sarif::write_sarif;

/// The largest saved JSON file read.
const MAX_SAVED: usize = 256 << 20;
/// The most saved files one audit reads (a directory of millions is a mistake).
const MAX_FILES: usize = 10_000;

/// `audit.aws.accounts` as the AWS edge reads them.
fn accounts_of(a: &keibi_engine::settings::audit::AuditAws) -> Vec<crate::aws::AwsAccount> {
    a.accounts
        .iter()
        .map(|x| crate::aws::AwsAccount {
            role_arn: x.role_arn.clone(),
            external_id: x.external_id.clone(),
            regions: x.regions.clone(),
        })
        .collect()
}

/// What one audit reads.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    pub aws: Option<crate::aws::AwsInventory>,
    pub aws_json: Vec<PathBuf>,
    pub postgres: Vec<DbTarget>,
    pub mysql: Vec<DbTarget>,
}

impl Targets {
    /// The targets of the settings' `audit` section.
    pub fn of(a: &Audit) -> Targets {
        Targets {
            aws: a.aws.enabled.then(|| crate::aws::AwsInventory {
                regions: a.aws.regions.clone(),
                endpoint_url: a.aws.endpoint_url.clone(),
                profile: a.aws.profile.clone(),
                timeout: Duration::from_secs(30),
                role_arn: a.aws.role_arn.clone(),
                external_id: a.aws.external_id.clone(),
                accounts: accounts_of(&a.aws),
            }),
            aws_json: a.aws_json.clone(),
            postgres: a.postgres.clone(),
            mysql: a.mysql.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.aws.is_none()
            && self.aws_json.is_empty()
            && self.postgres.is_empty()
            && self.mysql.is_empty()
    }
}

/// What was observed, the saved files it was read from, and the problems met (one
/// line each, no password in any).
#[derive(Debug, Default)]
pub struct Gathered {
    pub snapshot: Snapshot,
    pub files: Vec<PathBuf>,
    pub problems: Vec<String>,
    /// What a database probe could not read (a view the audit role may not see):
    /// those controls are not evaluated. Catalog messages, rendered by the caller.
    pub notes: Vec<Msg>,
}

/// The settings' expectations of one database, for its controls.
fn policy(t: &DbTarget) -> DbPolicy {
    DbPolicy {
        allowed_admins: t
            .allowed_superusers
            .iter()
            .chain(&t.allowed_admins)
            .cloned()
            .collect(),
        require_password_expiry: t.require_password_expiry,
    }
}

/// Reads every target; a target that fails is a problem, the others are still read.
pub fn gather(t: &Targets) -> Gathered {
    let mut g = Gathered::default();
    if !t.aws_json.is_empty() {
        let mut paths = Vec::new();
        for p in &t.aws_json {
            if p.is_dir() {
                match std::fs::read_dir(p) {
                    Ok(rd) => {
                        let mut entries: Vec<PathBuf> = rd
                            .filter_map(|e| e.ok().map(|e| e.path()))
                            .filter(|p| p.is_file())
                            .take(MAX_FILES)
                            .collect();
                        entries.sort();
                        paths.extend(entries);
                    }
                    Err(e) => g.problems.push(format!("{}: {e}", p.display())),
                }
            } else {
                paths.push(p.clone());
            }
        }
        paths.truncate(MAX_FILES);
        // One file's bytes at a time: each is parsed into the model and dropped
        // before the next is read.
        let mut loader = Loader::default();
        for p in &paths {
            match super::read_capped(p, MAX_SAVED, true) {
                Ok(b) => {
                    loader.add(&SavedFile { path: p, bytes: &b });
                    g.files.push(p.clone());
                }
                Err(e) => g.problems.push(format!("{}: {e}", p.display())),
            }
        }
        let (invs, probs) = loader.finish();
        g.problems.extend(probs.iter().map(|p| p.to_string()));
        g.snapshot.aws.extend(invs);
    }
    if let Some(opts) = &t.aws {
        match crate::aws::inventory(opts) {
            Ok((invs, denied)) => {
                g.problems.extend(denied);
                g.snapshot.aws.extend(invs);
            }
            Err(e) => g.problems.push(format!("aws: {e:#}")),
        }
    }
    for (target, pg) in t
        .postgres
        .iter()
        .map(|d| (d, true))
        .chain(t.mysql.iter().map(|d| (d, false)))
    {
        let url = match target.connect_url() {
            Ok(u) => u,
            Err(e) => {
                g.problems.push(e);
                continue;
            }
        };
        // A driver's error may quote the URL, or the password alone (as written in
        // the URL or decoded): only ever show them redacted.
        let secrets = password_forms(&url);
        let redact = |s: String| {
            let mut s = s.replace(&url, &target.display_url());
            for p in &secrets {
                s = s.replace(p.as_str(), "***");
            }
            s
        };
        let timeout = Duration::from_secs(10);
        if pg {
            match keibi_dbprobe::probe_postgres(&url, timeout) {
                Ok(mut s) => {
                    s.policy = policy(target);
                    g.notes.append(&mut s.notes.clone());
                    g.snapshot.postgres.push(s)
                }
                Err(e) => g.problems.push(redact(e.to_string())),
            }
        } else {
            match keibi_dbprobe::probe_mysql(&url, timeout) {
                Ok(mut s) => {
                    s.policy = policy(target);
                    g.notes.append(&mut s.notes.clone());
                    g.snapshot.mysql.push(s)
                }
                Err(e) => g.problems.push(redact(e.to_string())),
            }
        }
    }
    g
}

/// The password of a URL as written in it and percent-decoded (empty: none).
fn password_forms(url: &str) -> Vec<String> {
    let Some((_, rest)) = url.split_once("://") else {
        return Vec::new();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some((userinfo, _)) = rest[..end].rsplit_once('@') else {
        return Vec::new();
    };
    let Some((_, pw)) = userinfo.split_once(':') else {
        return Vec::new();
    };
    if pw.is_empty() {
        return Vec::new();
    }
    let mut decoded = Vec::with_capacity(pw.len());
    let b = pw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                decoded.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                decoded.push(c);
                i += 1;
            }
        }
    }
    let decoded = String::from_utf8_lossy(&decoded).into_owned();
    let mut out = vec![pw.to_string()];
    if decoded != pw {
        out.push(decoded);
    }
    // The longest first, so that a form inside another is not left half shown.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// The flags' targets, or the settings' when no flag names one; options the flags
/// give (regions, profile, endpoint) win over the settings'.
fn targets(args: &AuditArgs, audit: &Audit) -> Targets {
    let flagged =
        args.aws || !args.aws_json.is_empty() || !args.pg.is_empty() || !args.mysql.is_empty();
    let mut t = if flagged {
        let url = |u: &String| DbTarget {
            url: u.clone(),
            ..DbTarget::default()
        };
        Targets {
            aws: args.aws.then(crate::aws::AwsInventory::default),
            aws_json: args.aws_json.clone(),
            postgres: args.pg.iter().map(url).collect(),
            mysql: args.mysql.iter().map(url).collect(),
        }
    } else {
        Targets::of(audit)
    };
    if let Some(a) = &mut t.aws {
        if !args.region.is_empty() {
            a.regions = args.region.clone();
        } else if a.regions.is_empty() {
            a.regions = audit.aws.regions.clone();
        }
        a.profile = args
            .profile
            .clone()
            .or(a.profile.take())
            .or(audit.aws.profile.clone());
        a.endpoint_url = args
            .endpoint_url
            .clone()
            .or(a.endpoint_url.take())
            .or(audit.aws.endpoint_url.clone());
        a.timeout = Duration::from_secs(30);
        // `--role-arn` reads the one account it reaches, instead of the settings'
        // role or accounts; without it the settings' are kept, also under --aws.
        if let Some(role) = &args.role_arn {
            a.role_arn = Some(role.clone());
            a.external_id = args.external_id.clone();
            a.accounts.clear();
        } else if a.role_arn.is_none() && a.accounts.is_empty() {
            a.role_arn = audit.aws.role_arn.clone();
            a.external_id = audit.aws.external_id.clone();
            a.accounts = accounts_of(&audit.aws);
        }
    }
    t
}

pub fn run(args: &AuditArgs, global: &Global) -> Result<u8> {
    let settings = match &args.config {
        Some(file) => {
            let (s, _) = Settings::load(file)
                .map_err(|e| anyhow::anyhow!(super::run::load_error_text(&e)))?;
            Some(s)
        }
        None => None,
    };
    let locale = crate::locale::resolve(global, settings.as_ref().map(|s| &s.display))?;
    let (is_tty, color) = super::terminal_output(global);
    let format = args.format.unwrap_or(if is_tty {
        AuditFormat::Table
    } else {
        AuditFormat::Jsonl
    });
    let stdout = io::stdout();
    if args.list_controls {
        write_controls(format, &locale, BufWriter::new(stdout.lock()))?;
        return Ok(0);
    }
    let audit = settings.map(|s| s.audit).unwrap_or_default();
    let t = targets(args, &audit);
    if t.is_empty() {
        bail!("{}", say(Msg::new("audit-nothing")));
    }
    let at = Utc::now();
    let g = gather(&t);
    for p in &g.problems {
        eprintln!("keibi: {}", terminal(p));
    }
    for n in &g.notes {
        eprintln!("keibi: {}", terminal(&locale.render(n)));
    }
    let mut report = keibi_posture::audit(&g.snapshot, at);
    report.suppress(&audit.rules());
    let mut out = BufWriter::new(stdout.lock());
    match format {
        AuditFormat::Table => write_table(&report, color, &locale, &mut out)?,
        AuditFormat::Sarif => {
            let files: Vec<&Path> = g.files.iter().map(|p| p.as_path()).collect();
            write_sarif(&report, &files, &g.problems, &locale, &mut out)?
        }
        AuditFormat::Json
        | AuditFormat::Jsonl
        | AuditFormat::Csv
        | AuditFormat::Ocsf
        | AuditFormat::Asff => {
            let f = match format {
                AuditFormat::Json => FindingFormat::Json,
                AuditFormat::Csv => FindingFormat::Csv,
                AuditFormat::Ocsf => FindingFormat::Ocsf,
                AuditFormat::Asff => FindingFormat::Asff,
                _ => FindingFormat::Jsonl,
            };
            write_findings(f, &report.findings(), color, &locale, &mut out)?
        }
    }
    out.flush()?;
    drop(out);
    // Describe calls are free; the line still says how many the audit sent.
    let region = t.aws.as_ref().and_then(|a| a.regions.first().cloned());
    crate::aws::say_usage(region.as_deref(), global.quiet);
    let s = report.summary();
    eprintln!(
        "keibi: {}",
        say(Msg::new("audit-closing")
            .arg("failed", s.total.checks_failed)
            .arg("passed", s.total.checks_passed)
            .arg("suppressed", s.total.checks_suppressed)
            .arg("score", score_text(s.total.score()))
            .arg("problems", g.problems.len()))
    );
    if let Some(level) = args.fail_on {
        if report
            .failed()
            .any(|o| o.severity.unwrap_or_else(|| o.control.default_severity()) >= level)
        {
            return Ok(1);
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::password_forms;

    #[test]
    fn a_password_is_known_as_written_and_decoded() {
        assert_eq!(
            password_forms("postgres://u:s3cr3t%2Fpw@db:5432/x?y=1"),
            ["s3cr3t%2Fpw", "s3cr3t/pw"]
        );
        assert_eq!(password_forms("mysql://u:plain@db/"), ["plain"]);
        assert!(password_forms("mysql://u@db/").is_empty());
        assert!(password_forms("mysql://db/").is_empty());
        assert!(password_forms("not a url").is_empty());
    }
}
