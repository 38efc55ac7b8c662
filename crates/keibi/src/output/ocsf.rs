//! `--format ocsf`: the mapping is keibi-model's (`keibi_model::export::ocsf`,
//! shared with the daemon's `ocsf_file` channel); this module writes it one event a
//! line, and its tests check every event against the OCSF schema's extract.

use std::io::{self, Write};

pub use keibi_model::export::ocsf::*;
use keibi_model::finding::Finding;

/// Writes one OCSF event a line; `statuses[i]` is `findings[i]`'s workflow status
/// (`None`: every finding is new, as a scan's are).
pub fn write_ocsf<W: Write>(
    findings: &[Finding],
    statuses: Option<&[&str]>,
    mut out: W,
) -> io::Result<()> {
    for (i, f) in findings.iter().enumerate() {
        let status = statuses.and_then(|s| s.get(i)).copied().unwrap_or("new");
        serde_json::to_writer(&mut out, &event(f, status)).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests;
