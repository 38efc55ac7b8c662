//! The OCSF file export (`type: ocsf_file`): each finding change the notifier
//! routes here is appended to a file as one OCSF 1.x Detection Finding (class 2004;
//! a posture finding is a Compliance Finding, 2003) JSON object on a line of its
//! own, for a shipper (Fluent Bit, Vector, the CloudWatch agent) to tail into
//! Security Lake or a SIEM. The mapping is `scan --format ocsf`'s
//! ([`keibi_model::export::ocsf`]); the record's `metadata.uid` is the delivery's
//! outbox key and `metadata.logged_time` when the change was committed.
//!
//! A delivery is marked sent only after its line is written and fsync'd. The one
//! window of the outbox (a kill after the write, before the mark) is closed here:
//! before writing, the tail of the file (and of the last rotated file when the
//! current one is short) is read, and a delivery whose key is already there is not
//! written again. A line cut short by a crash (no newline at the end) is cut off
//! before the next one is written, so a tailing shipper never reads half a record
//! glued to the next.
//!
//! The file rotates by size: a line that would take it past `max_bytes` first
//! renames it to `<path>.1` (`.1` to `.2` ..., keeping `keep` rotated files), the
//! way shippers' tail inputs follow. Created with mode 0640 (findings name users
//! and addresses).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use keibi_model::export::ocsf;
use serde_json::{json, Value};

use crate::channels::{BuildError, ChannelSpec, OcsfFileSpec};
use crate::notice::{Notice, NoticeKind, Outgoing};
use crate::{Channel, SendError, Sent};

/// How much of the end of the file is read for keys already written.
pub const TAIL_BYTES: u64 = 512 * 1024;
/// The smallest `max_bytes` allowed (a finding's event can take tens of KiB).
pub const MIN_MAX_BYTES: u64 = 1024 * 1024;
/// The most rotated files kept.
pub const MAX_KEEP: u32 = 1000;

/// A built OCSF file channel.
pub struct OcsfFile {
    name: String,
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
}

/// The store's workflow status a notice's finding has after its change.
fn status_of(kind: &NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Resolved { .. } => "resolved",
        _ => "new",
    }
}

/// The line for one notice: the OCSF event of its finding after the change, its
/// `metadata.uid` the delivery key. `None` for what is not a finding's change (a
/// `keibi notify test`, an action of the response journal).
pub fn record(n: &Notice) -> Option<Value> {
    match n.kind {
        NoticeKind::Test | NoticeKind::Action { .. } => return None,
        _ => {}
    }
    let mut ev = ocsf::event(&n.finding, status_of(&n.kind));
    ev["metadata"]["uid"] = json!(n.key);
    ev["metadata"]["logged_time"] = json!(ms(&n.at));
    Some(ev)
}

fn ms(t: &DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

impl OcsfFile {
    pub fn build(spec: &ChannelSpec, s: &OcsfFileSpec) -> Result<OcsfFile, BuildError> {
        let invalid = |reason: String| BuildError::Invalid {
            name: spec.name.clone(),
            reason,
        };
        if let Some(reason) = s.problem() {
            return Err(invalid(reason));
        }
        Ok(OcsfFile {
            name: spec.name.clone(),
            path: s.path.clone(),
            max_bytes: s.max_bytes,
            keep: s.keep,
        })
    }

    fn rotated(&self, i: u32) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{i}"));
        PathBuf::from(p)
    }

    fn open(&self) -> std::io::Result<File> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let mut o = OpenOptions::new();
        o.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o640);
        }
        o.open(&self.path)
    }

    /// Renames the file to `.1` (and each `.i` to `.i+1`, dropping what is past
    /// `keep`; with `keep` 0 the file is removed).
    fn rotate(&self) -> std::io::Result<()> {
        if self.keep == 0 {
            return fs::remove_file(&self.path);
        }
        let last = self.rotated(self.keep);
        if last.exists() {
            fs::remove_file(&last)?;
        }
        for i in (1..self.keep).rev() {
            let from = self.rotated(i);
            if from.exists() {
                fs::rename(&from, self.rotated(i + 1))?;
            }
        }
        fs::rename(&self.path, self.rotated(1))?;
        sync_dir(&self.path);
        Ok(())
    }

    /// Writes the lines not already in the file's tail; returns how many it wrote.
    fn append(&self, lines: &[(String, Vec<u8>)]) -> std::io::Result<usize> {
        let mut file = self.open()?;
        let len = cut_partial(&mut file)?;
        let mut seen = keys_in_tail(&mut file, len)?;
        if len < TAIL_BYTES && self.keep > 0 {
            if let Ok(mut prev) = File::open(self.rotated(1)) {
                let plen = prev.metadata()?.len();
                seen.extend(keys_in_tail(&mut prev, plen)?);
            }
        }
        let mut size = len;
        let mut written = 0;
        for (key, line) in lines {
            if seen.iter().any(|k| k == key) {
                continue;
            }
            let n = line.len() as u64 + 1;
            if size > 0 && size + n > self.max_bytes {
                file.sync_data()?;
                drop(file);
                self.rotate()?;
                file = self.open()?;
                size = 0;
            }
            let mut buf = Vec::with_capacity(line.len() + 1);
            buf.extend_from_slice(line);
            buf.push(b'\n');
            file.write_all(&buf)?;
            size += n;
            written += 1;
            seen.push(key.clone());
        }
        file.sync_data()?;
        if len == 0 {
            sync_dir(&self.path);
        }
        Ok(written)
    }
}

/// Cuts a last line left without its newline (a write a crash interrupted) and
/// returns the file's length after.
fn cut_partial(file: &mut File) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(0);
    }
    let from = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(from))?;
    let mut tail = Vec::new();
    Read::by_ref(file).take(len - from).read_to_end(&mut tail)?;
    if tail.last() == Some(&b'\n') {
        return Ok(len);
    }
    let keep = match tail.iter().rposition(|&b| b == b'\n') {
        Some(i) => from + i as u64 + 1,
        // No newline in the tail: the partial line is longer than the tail, or the
        // whole file is one; cut what was read only if it is the whole file.
        None if from == 0 => 0,
        None => return Ok(len),
    };
    file.set_len(keep)?;
    file.sync_data()?;
    Ok(keep)
}

/// The delivery keys (`metadata.uid`) of the whole lines in the last
/// [`TAIL_BYTES`] of a file `len` bytes long.
fn keys_in_tail(file: &mut File, len: u64) -> std::io::Result<Vec<String>> {
    let from = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(from))?;
    let mut tail = Vec::new();
    Read::by_ref(file).take(len - from).read_to_end(&mut tail)?;
    let mut lines = tail.split(|&b| b == b'\n');
    if from > 0 {
        // The first piece may be the end of a line that began before the tail.
        lines.next();
    }
    Ok(lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
        .filter_map(|v| v["metadata"]["uid"].as_str().map(str::to_string))
        .collect())
}

/// Makes a rename or a new file durable (best effort: not every file system
/// lets a directory be opened).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

impl Channel for OcsfFile {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        let notices: Vec<&Notice> = match msg {
            Outgoing::One(n) => vec![n],
            // The notifier sends an export channel's deliveries one by one; a
            // digest that reaches it anyway has each listed notice written.
            Outgoing::Digest(d) => d.held.iter().collect(),
            Outgoing::Summary(_) => {
                return Err(SendError::Permanent {
                    reason: "the daily summary is not exported to an OCSF file".into(),
                })
            }
        };
        if let Outgoing::One(n) = msg {
            if matches!(n.kind, NoticeKind::Test) {
                // `keibi notify test`: the file can be opened for appending; no test
                // record goes to the SIEM.
                return self
                    .open()
                    .map(|_| Sent {
                        detail: format!("{} can be written", self.path.display()),
                    })
                    .map_err(|e| io_error(&self.path, &e));
            }
        }
        let mut lines = Vec::new();
        for n in notices {
            if let Some(ev) = record(n) {
                let line = serde_json::to_vec(&ev).map_err(|e| SendError::Permanent {
                    reason: format!("the OCSF event could not be written: {e}"),
                })?;
                lines.push((n.key.clone(), line));
            }
        }
        if lines.is_empty() {
            return Ok(Sent {
                detail: "nothing to export".into(),
            });
        }
        let written = self.append(&lines).map_err(|e| io_error(&self.path, &e))?;
        Ok(Sent {
            detail: if written == lines.len() {
                format!("{written} OCSF record(s) written")
            } else {
                format!(
                    "{written} OCSF record(s) written, {} already in the file",
                    lines.len() - written
                )
            },
        })
    }
}

/// A file error: retried (a full disk, a directory not yet mounted may pass), the
/// notifier gives up after its 24 hours.
fn io_error(path: &Path, e: &std::io::Error) -> SendError {
    SendError::Transient {
        reason: format!("{}: {e}", path.display()),
        retry_after: None,
    }
}

#[cfg(test)]
mod tests;
