//! `--format asff`: the mapping is keibi-model's (`keibi_model::export::asff`,
//! shared with `keibi findings export --to securityhub` and the daemon's
//! `securityhub` channel); this module writes the findings as one JSON array, and
//! its tests check each against Security Hub's API model.

use std::io::{self, Write};

pub use keibi_model::export::asff::*;
use keibi_model::finding::Finding;

/// The findings as one JSON array. `statuses[i]` is `findings[i]`'s workflow status
/// (`None`: new); each finding's target is the one `target` gives for it (`None`:
/// the finding cannot be written, an error naming it).
pub fn write_asff<W: Write>(
    findings: &[Finding],
    statuses: Option<&[&str]>,
    target: impl Fn(&Finding) -> Option<Target>,
    mut out: W,
) -> io::Result<()> {
    let mut all = Vec::with_capacity(findings.len());
    for (i, f) in findings.iter().enumerate() {
        let status = statuses.and_then(|s| s.get(i)).copied().unwrap_or("new");
        let Some(t) = target(f) else {
            return Err(io::Error::other(crate::locale::say(
                keibi_i18n::Msg::new("asff-no-target").arg("id", f.id.clone()),
            )));
        };
        all.push(finding(f, status, f.last_seen, &t));
    }
    serde_json::to_writer_pretty(&mut out, &all).map_err(io::Error::other)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// The target of `--format asff`, which calls no AWS API: the account and region
/// of `AWS_ACCOUNT_ID` and `AWS_REGION` (or `AWS_DEFAULT_REGION`) when set, else the
/// finding's own resource's.
pub fn env_target(f: &Finding) -> Option<Target> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let account = env("AWS_ACCOUNT_ID").or_else(|| f.resource.account.clone())?;
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| f.resource.region.clone())?;
    Some(Target { account, region })
}

#[cfg(test)]
mod tests;
