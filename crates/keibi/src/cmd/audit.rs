//! `keibi audit`: posture checks over AWS resources (live or saved JSON) and inside
//! databases; failures are findings of type `Posture:<control>/<ShortName>`.

use std::io::{self, BufWriter, Write};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use keibi_posture::aws::load::SavedFile;
use keibi_posture::Snapshot;

use crate::cli::{AuditArgs, Global};
use crate::output::findings::{write_findings, FindingFormat};

/// The largest saved JSON file read.
const MAX_SAVED: usize = 256 << 20;

pub fn run(args: &AuditArgs, global: &Global) -> Result<u8> {
    if !args.aws && args.aws_json.is_empty() && args.pg.is_empty() && args.mysql.is_empty() {
        bail!("nothing to audit: give --aws, --aws-json PATH, --pg URL or --mysql URL");
    }
    let (is_tty, color) = super::terminal_output(global);
    let format = args.format.unwrap_or(if is_tty {
        FindingFormat::Table
    } else {
        FindingFormat::Jsonl
    });
    let at = Utc::now();
    let mut snapshot = Snapshot::default();
    let mut problems = 0u64;
    // Each --aws-json argument (a directory or a file) is one account and region.
    for arg in &args.aws_json {
        let mut paths = Vec::new();
        if arg.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(arg)
                .with_context(|| format!("cannot read {}", arg.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            paths.extend(entries);
        } else {
            paths.push(arg.clone());
        }
        let mut contents = Vec::new();
        for p in &paths {
            match super::read_capped(p, MAX_SAVED, true) {
                Ok(b) => contents.push((p.clone(), b)),
                Err(e) => {
                    problems += 1;
                    eprintln!("keibi: {}: {e}", p.display());
                }
            }
        }
        let files: Vec<SavedFile<'_>> = contents
            .iter()
            .map(|(p, b)| SavedFile { path: p, bytes: b })
            .collect();
        let (invs, probs) = keibi_posture::aws::load::load(&files);
        for p in probs {
            problems += 1;
            eprintln!("keibi: {p}");
        }
        snapshot.aws.extend(invs);
    }
    if args.aws {
        let (invs, denied) = crate::aws::inventory(&crate::aws::AwsInventory {
            regions: args.region.clone(),
            endpoint_url: args.endpoint_url.clone(),
            profile: args.profile.clone(),
            timeout: Duration::from_secs(30),
        })?;
        for d in denied {
            problems += 1;
            eprintln!("keibi: {d}");
        }
        snapshot.aws.extend(invs);
    }
    // What a database probe could not read (a view the audit role may not see).
    let mut notes = Vec::new();
    for url in &args.pg {
        match keibi_dbprobe::probe_postgres(url, Duration::from_secs(10)) {
            Ok(s) => {
                notes.extend(s.notes.iter().cloned());
                snapshot.postgres.push(s)
            }
            Err(e) => {
                problems += 1;
                eprintln!("keibi: {e}");
            }
        }
    }
    for url in &args.mysql {
        match keibi_dbprobe::probe_mysql(url, Duration::from_secs(10)) {
            Ok(s) => {
                notes.extend(s.notes.iter().cloned());
                snapshot.mysql.push(s)
            }
            Err(e) => {
                problems += 1;
                eprintln!("keibi: {e}");
            }
        }
    }
    let report = keibi_posture::audit(&snapshot, at);
    let findings = report.findings();
    let locale = crate::locale::resolve(global, None)?;
    for n in &notes {
        let text = locale.render(n);
        eprintln!("keibi: {}", crate::output::sanitize::terminal(&text));
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    write_findings(format, &findings, color, &locale, &mut out)?;
    out.flush()?;
    let _ = problems;
    if let Some(level) = args.fail_on {
        if findings.iter().any(|f| f.severity >= level) {
            return Ok(1);
        }
    }
    Ok(0)
}
