//! `keibi findings`: reads and changes the finding store (`keibi-store`) — also while
//! a daemon writes it — and imports `keibi scan --format jsonl` output into it.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use keibi_model::{ChangeKind, Finding, FindingChange};
use keibi_store::{
    Checkpoint, Commit, FindingStore, HistoryEntry, Query, Status, StatusChange, Store,
    StoredFinding, Suppression, Transition,
};
use sha2::{Digest, Sha256};

use crate::cli::{FindingsArgs, FindingsCommand, Global, ShowFormat, StatusArgs, SuppressArgs};
use crate::locale::{said, say};
use crate::output::findings::{localized, write_findings_with_status, FindingFormat};
use crate::output::sanitize::terminal;
use keibi_i18n::Msg;

/// Longest line `import` accepts (a finding keeps at most 20 evidence references and
/// 100 addresses and users: far below this).
const MAX_IMPORT_LINE: u64 = 8 << 20;
/// Most findings one import takes: it is one transaction, held in memory until it
/// commits (a scan writes at most `keibi_detect::findings::MAX_FINDINGS`).
const MAX_IMPORT_FINDINGS: usize = 100_000;

pub fn run(args: &FindingsArgs, global: &Global) -> Result<u8> {
    let path = args.store.as_path();
    match &args.command {
        FindingsCommand::List {
            status,
            all,
            min_severity,
            types,
            limit,
            format,
        } => {
            let statuses = if *all {
                Vec::new()
            } else if status.is_empty() {
                vec![Status::New, Status::Acknowledged]
            } else {
                status
                    .iter()
                    .map(|s| s.parse::<Status>())
                    .collect::<Result<_, _>>()?
            };
            let store = open_read(path)?;
            let found = store.findings(&Query {
                statuses,
                min_severity: *min_severity,
                types: types.clone(),
                limit: *limit,
            })?;
            let (is_tty, color) = super::terminal_output(global);
            let format = format.unwrap_or(if is_tty {
                FindingFormat::Table
            } else {
                FindingFormat::Jsonl
            });
            let statuses: Vec<&str> = found.iter().map(|s| s.status.as_str()).collect();
            let findings: Vec<Finding> = found.into_iter().map(|s| s.finding).collect();
            let mut out = BufWriter::new(io::stdout().lock());
            let locale = crate::locale::resolve(global, None)?;
            write_findings_with_status(format, &findings, &statuses, color, &locale, &mut out)?;
            out.flush()?;
            Ok(0)
        }
        FindingsCommand::Show { id, format } => {
            let store = open_read(path)?;
            let mut f = store.finding(id)?;
            let history = store.history(&f.finding.id)?;
            // Its texts in the reader's language, as `list` shows them.
            let locale = crate::locale::resolve(global, None)?;
            if let std::borrow::Cow::Owned(mut v) =
                localized(std::slice::from_ref(&f.finding), &locale)
            {
                f.finding = v.remove(0);
            }
            let (is_tty, _) = super::terminal_output(global);
            let mut out = BufWriter::new(io::stdout().lock());
            match format.unwrap_or(if is_tty {
                ShowFormat::Text
            } else {
                ShowFormat::Json
            }) {
                ShowFormat::Json => {
                    serde_json::to_writer_pretty(
                        &mut out,
                        &keibi_store::finding_json(&f, &history),
                    )?;
                    writeln!(out)?;
                }
                ShowFormat::Text => {
                    // Numbered steps one a line only where keibi_i18n wrote them:
                    // there, and only there, a line break is a step's end.
                    let steps = locale.lang != keibi_i18n::Lang::En && f.finding.text.is_some();
                    show_text(&mut out, &f, &history, steps)?
                }
            }
            out.flush()?;
            Ok(0)
        }
        FindingsCommand::Ack(a) => transition(path, a, Transition::Acknowledge),
        FindingsCommand::Resolve(a) => transition(path, a, Transition::Resolve),
        FindingsCommand::Reopen(a) => transition(path, a, Transition::Reopen),
        FindingsCommand::Suppress(a) => suppress(path, a),
        FindingsCommand::Suppressions => {
            let store = open_read(path)?;
            let mut out = BufWriter::new(io::stdout().lock());
            let now = Utc::now();
            for r in store.suppressions()? {
                writeln!(out, "{}", rule_text(&r, now))?;
            }
            out.flush()?;
            Ok(0)
        }
        FindingsCommand::Import {
            file,
            from,
            since,
            region,
            profile,
            endpoint_url,
        } => match (from, file) {
            (Some(crate::cli::ImportFrom::Guardduty), _) => super::guardduty::import(
                path,
                &super::guardduty::Args {
                    since: since.as_deref(),
                    regions: region.clone(),
                    profile: profile.clone(),
                    endpoint_url: endpoint_url.clone(),
                },
            ),
            (None, Some(file)) => import(path, file),
            (None, None) => bail!("keibi findings import: give a FILE or --from"),
        },
        FindingsCommand::Export(a) => super::export::run(&open_read(path)?, a),
        FindingsCommand::Prune { older_than, export } => {
            let now = Utc::now();
            let cutoff = crate::timearg::parse(older_than, now).context("--older-than")?;
            if let Some(dir) = export {
                if !dir.is_dir() {
                    bail!(say(
                        Msg::new("fnd-export-not-dir").arg("path", dir.display().to_string())
                    ));
                }
            }
            let mut store = open_write(path)?;
            let before = store.size()?;
            let pruned = store.prune(cutoff, export.as_deref(), now)?;
            let after = store.size()?;
            if let Some(f) = &pruned.exported_to {
                eprintln!(
                    "{}",
                    say(Msg::new("fnd-exported").arg("path", f.display().to_string()))
                );
            }
            eprintln!(
                "{}",
                say(Msg::new("fnd-pruned")
                    .arg("findings", pruned.findings)
                    .arg("history", pruned.history)
                    .arg(
                        "cutoff",
                        cutoff.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    )
                    .arg("before", bytes(before.file + before.wal))
                    .arg("after", bytes(after.file + after.wal)))
            );
            Ok(0)
        }
        FindingsCommand::Info => {
            let store = open_read(path)?;
            let size = store.size()?;
            let mut out = io::stdout().lock();
            let col = value_column(
                &[
                    "info-store",
                    "info-size",
                    "info-findings",
                    "info-history",
                    "info-rules",
                    "info-sources",
                ],
                11,
            );
            let l = |id: &str| label(id, col);
            writeln!(
                out,
                "{}{}",
                l("info-store"),
                terminal(&path.display().to_string())
            )?;
            writeln!(
                out,
                "{}{}",
                l("info-size"),
                say(Msg::new("info-size-value")
                    .arg("total", bytes(size.file + size.wal))
                    .arg("file", bytes(size.file))
                    .arg("wal", bytes(size.wal))
                    .arg("free", bytes(size.free)))
            )?;
            let by_status: Vec<String> = store
                .count_by_status()?
                .iter()
                .map(|(st, n)| {
                    say(Msg::new("info-by-status")
                        .arg("n", *n)
                        .arg("status", word("status", st.as_str())))
                })
                .collect();
            writeln!(
                out,
                "{}{}",
                l("info-findings"),
                say(Msg::new("info-findings-value")
                    .arg("n", size.findings)
                    .arg("by", by_status.join(&said("list-sep"))))
            )?;
            writeln!(
                out,
                "{}{}",
                l("info-history"),
                say(Msg::new("info-history-value").arg("n", size.history))
            )?;
            writeln!(
                out,
                "{}{}",
                l("info-rules"),
                say(Msg::new("info-rules-value").arg("n", store.suppressions()?.len()))
            )?;
            writeln!(
                out,
                "{}{}",
                l("info-sources"),
                say(Msg::new("info-sources-value").arg("n", store.checkpoints()?.len()))
            )?;
            Ok(0)
        }
    }
}

fn no_store(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(say(
        Msg::new("fnd-no-store").arg("path", keibi_store::shown(path))
    ))
}

pub(super) fn open_read(path: &Path) -> Result<Store> {
    if !keibi_store::exists(path) {
        return Err(no_store(path));
    }
    Ok(Store::open_read_only(path)?)
}

pub(super) fn open_write(path: &Path) -> Result<Store> {
    if !keibi_store::exists(path) {
        return Err(no_store(path));
    }
    Ok(Store::open(path)?)
}

fn who(by: &Option<String>) -> Option<String> {
    by.clone()
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
}

fn transition(path: &Path, a: &StatusArgs, t: Transition) -> Result<u8> {
    let mut store = open_write(path)?;
    let f = store.set_status(
        &a.id,
        &StatusChange {
            transition: t,
            at: Utc::now(),
            by: who(&a.by),
            note: a.note.clone(),
        },
    )?;
    // The status word and the title in the reader's language (the title from the
    // finding's messages when it carries them).
    let locale = crate::locale::current();
    let title = match &f.finding.text {
        Some(t) if locale.lang != keibi_i18n::Lang::En => locale.finding(t).0,
        _ => None,
    }
    .unwrap_or_else(|| f.finding.title.clone());
    eprintln!(
        "{}",
        say(Msg::new("fnd-status")
            .arg("id", &f.finding.id)
            .arg("status", said(&format!("status-{}", f.status.as_str())))
            .arg("title", terminal(&title).into_owned()))
    );
    Ok(0)
}

/// `7d` from now, or a time.
fn expiry(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if !num.is_empty() {
        if let Ok(n) = num.parse::<i64>() {
            let d = match unit {
                "m" => Duration::try_minutes(n),
                "h" => Duration::try_hours(n),
                "d" => Duration::try_days(n),
                "w" => Duration::try_weeks(n),
                _ => None,
            };
            if let Some(at) = d.and_then(|d| now.checked_add_signed(d)) {
                return Ok(at);
            }
        }
    }
    let at = crate::timearg::parse(t, now)
        .with_context(|| say(Msg::new("fnd-expires-bad").arg("value", s)))?;
    if at <= now {
        bail!(say(Msg::new("fnd-expires-past").arg("value", s)));
    }
    Ok(at)
}

fn suppress(path: &Path, a: &SuppressArgs) -> Result<u8> {
    let now = Utc::now();
    let network =
        a.ip.as_deref()
            .map(|s| {
                let s = s.trim();
                s.parse::<keibi_store::IpNet>()
                    .map(|n| n.trunc())
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(keibi_store::IpNet::from))
                    .with_context(|| say(Msg::new("fnd-ip-bad").arg("value", s)))
            })
            .transpose()?;
    let rule = Suppression {
        id: 0,
        finding_type: a.finding_type.clone(),
        resource: a.resource.clone(),
        network,
        user: a.user.clone(),
        expires_at: a.expires.as_deref().map(|s| expiry(s, now)).transpose()?,
        reason: a.reason.clone(),
        created_by: who(&a.by),
        created_at: now,
    };
    if rule.finding_type.is_none()
        && rule.resource.is_none()
        && rule.network.is_none()
        && rule.user.is_none()
    {
        bail!(said("fnd-suppress-empty"));
    }
    let mut store = open_write(path)?;
    let (id, n) = store.suppress(&rule)?;
    let stored = Suppression { id, ..rule };
    eprintln!(
        "{}",
        say(Msg::new("fnd-suppressed")
            .arg("rule", rule_text(&stored, now))
            .arg("n", n))
    );
    Ok(0)
}

fn rule_text(r: &Suppression, now: DateTime<Utc>) -> String {
    let mut parts = vec![format!("rule {}:", r.id)];
    if let Some(t) = &r.finding_type {
        parts.push(format!("type {}", terminal(t)));
    }
    if let Some(x) = &r.resource {
        parts.push(format!("resource {}", terminal(x)));
    }
    if let Some(n) = &r.network {
        parts.push(format!("addresses in {n}"));
    }
    if let Some(u) = &r.user {
        parts.push(format!("user {}", terminal(u)));
    }
    match r.expires_at {
        Some(t) if t <= now => parts.push(format!("expired {}", rfc3339(t))),
        Some(t) => parts.push(format!("until {}", rfc3339(t))),
        None => parts.push("no expiry".into()),
    }
    if let Some(by) = &r.created_by {
        parts.push(format!("by {}", terminal(by)));
    }
    if let Some(why) = &r.reason {
        parts.push(format!("({})", terminal(why)));
    }
    parts.join(" ")
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn bytes(n: u64) -> String {
    if n >= 10 << 20 {
        format!("{} MiB", n >> 20)
    } else if n >= 10 << 10 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

/// Reads JSON lines of findings, all or nothing: a line that is not a finding stops
/// the import before anything is written. The file's SHA-256 is the import's
/// checkpoint, so importing the same file again is a replay that counts nothing.
fn import(path: &Path, file: &str) -> Result<u8> {
    let (input, name): (Box<dyn Read>, String) = if file == "-" {
        (Box::new(io::stdin().lock()), said("fnd-stdin"))
    } else {
        let f = std::fs::File::open(file).with_context(|| file.to_string())?;
        (Box::new(f), file.to_string())
    };
    let mut reader = BufReader::with_capacity(256 * 1024, input);
    let mut digest = Sha256::new();
    let mut total: u64 = 0;
    let mut changes = Vec::new();
    let mut line = Vec::new();
    for n in 1u64.. {
        line.clear();
        let read = (&mut reader)
            .take(MAX_IMPORT_LINE + 1)
            .read_until(b'\n', &mut line)
            .with_context(|| name.clone())?;
        if read == 0 {
            break;
        }
        if line.len() as u64 > MAX_IMPORT_LINE {
            bail!(say(Msg::new("fnd-import-long-line")
                .arg("file", terminal(&name).into_owned())
                .arg("line", n.to_string())
                .arg("mib", MAX_IMPORT_LINE >> 20)));
        }
        digest.update(&line);
        total += line.len() as u64;
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let f: Finding = serde_json::from_slice(text).with_context(|| {
            say(Msg::new("fnd-import-not-finding")
                .arg("file", terminal(&name).into_owned())
                .arg("line", n.to_string()))
        })?;
        if f.id.is_empty() || f.id.len() > 64 || !f.id.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!(say(Msg::new("fnd-import-bad-id")
                .arg("file", terminal(&name).into_owned())
                .arg("line", n.to_string())
                .arg("id", format!("{:?}", terminal(&f.id)))));
        }
        if changes.len() >= MAX_IMPORT_FINDINGS {
            bail!(say(Msg::new("fnd-import-too-many")
                .arg("file", terminal(&name).into_owned())
                .arg("max", MAX_IMPORT_FINDINGS)
                .arg("scan", keibi_detect::findings::MAX_FINDINGS)));
        }
        let added = f.count;
        changes.push(FindingChange {
            kind: ChangeKind::New,
            finding: f,
            added,
        });
    }
    let hex: String = digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let source = format!("import:sha256:{hex}");
    let mut store = Store::open(path)?;
    if store.checkpoints()?.iter().any(|c| c.source == source) {
        // What the commit would find too, without replaying every finding.
        eprintln!(
            "{}",
            say(Msg::new("fnd-import-again").arg("file", terminal(&name).into_owned()))
        );
        return Ok(0);
    }
    let commit = Commit {
        finding_changes: changes,
        checkpoints: vec![Checkpoint {
            source,
            position: total.max(1),
            data: Vec::new(),
        }],
        ..Commit::new(Utc::now())
    };
    let done = store.commit(&commit)?;
    if done.replayed {
        eprintln!(
            "{}",
            say(Msg::new("fnd-import-again").arg("file", terminal(&name).into_owned()))
        );
        return Ok(0);
    }
    let new = done
        .findings
        .iter()
        .filter(|a| a.outcome == keibi_store::Outcome::New)
        .count();
    let suppressed = done
        .findings
        .iter()
        .filter(|a| a.status == Status::Suppressed)
        .count();
    eprintln!(
        "{}",
        say(Msg::new("fnd-imported")
            .arg("n", done.findings.len())
            .arg("store", terminal(&keibi_store::shown(path)).into_owned())
            .arg("new", new)
            .arg("grew", done.findings.len() - new)
            .arg("suppressed", suppressed))
    );
    Ok(0)
}

/// A label of `show` or `info` in the current language, followed by spaces to the
/// column where the values start (display width: a Japanese character takes two).
fn label(id: &str, col: usize) -> String {
    crate::output::sanitize::pad(&said(id), col)
}

/// The column of the values: `min` (where English always put them), or further when
/// a label of the current language is wider.
fn value_column(ids: &[&str], min: usize) -> usize {
    ids.iter()
        .map(|id| crate::output::sanitize::width(&said(id)) + 2)
        .fold(min, usize::max)
}

/// An instant for `show`: RFC 3339 in UTC in English (as it always was), the
/// display zone named otherwise.
fn when(t: DateTime<Utc>) -> String {
    let l = crate::locale::current();
    if l.lang == keibi_i18n::Lang::En {
        rfc3339(t)
    } else {
        l.time(t, None)
    }
}

/// A catalog word for a value keibi wrote (a status, a history entry), or the value
/// itself when the catalog has no such word (a store written by a newer keibi).
fn word(prefix: &str, value: &str) -> String {
    let id = format!("{prefix}-{value}");
    let w = said(&id);
    if w == id {
        value.to_string()
    } else {
        w
    }
}

/// The labels before a value (`show-todo`, `What to do:` with its colon, always
/// stood one space before the column).
const SHOW_LABELS: &[&str] = &[
    "show-id",
    "show-type",
    "show-severity",
    "show-status",
    "show-resource",
    "show-actor",
    "show-seen",
    "show-detector",
    "show-mitre",
];

fn show_text(
    out: &mut impl Write,
    s: &StoredFinding,
    history: &[HistoryEntry],
    steps: bool,
) -> io::Result<()> {
    let f = &s.finding;
    let t = |x: &str| terminal(x).into_owned();
    let col = value_column(SHOW_LABELS, 12);
    let l = |id: &str| label(id, col);
    writeln!(out, "{}", t(&f.title))?;
    writeln!(out)?;
    writeln!(out, "{}{}", l("show-id"), t(&f.id))?;
    writeln!(out, "{}{}", l("show-type"), t(&f.finding_type))?;
    let severity = |sev: keibi_model::Severity| {
        format!(
            "{} {sev}",
            said(&format!(
                "severity-{}",
                sev.label().as_str().to_ascii_lowercase()
            ))
        )
    };
    writeln!(out, "{}{}", l("show-severity"), severity(f.severity))?;
    let mut status = word("status", s.status.as_str());
    if let Some(by) = &s.status_by {
        status.push_str(&say(Msg::new("show-status-by").arg("by", t(by))));
    }
    if let Some(at) = s.status_at {
        status.push_str(&say(Msg::new("show-status-at").arg("at", when(at))));
    }
    if let Some(note) = &s.status_note {
        status.push_str(&say(Msg::new("show-status-note").arg("note", t(note))));
    }
    writeln!(out, "{}{status}", l("show-status"))?;
    writeln!(
        out,
        "{}{} {}{}",
        l("show-resource"),
        t(&f.resource.kind),
        t(&f.resource.id),
        f.resource
            .engine
            .map(|e| format!(" ({})", e.as_str()))
            .unwrap_or_default()
    )?;
    let a = &f.actor;
    let sep = said("list-sep");
    let ips: Vec<String> = a.ip.iter().chain(&a.ips).map(|ip| ip.to_string()).collect();
    let users: Vec<String> = a.user.iter().chain(&a.users).map(|u| t(u)).collect();
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(&sep)
        }
    };
    writeln!(
        out,
        "{}{}",
        l("show-actor"),
        say(Msg::new("show-actor-value")
            .arg("ips", list(ips))
            .arg("users", list(users))
            .arg(
                "app",
                a.app
                    .as_deref()
                    .map(|x| say(Msg::new("show-actor-app").arg("app", t(x))))
                    .unwrap_or_default()
            ))
    )?;
    writeln!(
        out,
        "{}{}",
        l("show-seen"),
        say(Msg::new("show-seen-value")
            .arg("first", when(f.first_seen))
            .arg("last", when(f.last_seen))
            .arg("n", f.count))
    )?;
    writeln!(out, "{}{}", l("show-detector"), t(&f.detector))?;
    if !f.mitre.is_empty() {
        writeln!(out, "{}{}", l("show-mitre"), t(&f.mitre.join(", ")))?;
    }
    writeln!(out)?;
    writeln!(out, "{}", t(&f.description))?;
    writeln!(out)?;
    if steps {
        // Numbered steps (keibi_i18n::Locale::steps), each line escaped on its own.
        let mut lines = f.remediation.lines();
        writeln!(out, "{}{}", l("show-todo"), t(lines.next().unwrap_or("")))?;
        for step in lines {
            writeln!(out, "{}{}", " ".repeat(col), t(step))?;
        }
    } else {
        writeln!(out, "{}{}", l("show-todo"), t(&f.remediation))?;
    }
    if !f.evidence.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", said("show-evidence"))?;
        for e in &f.evidence {
            match e {
                keibi_model::Evidence::Line { source, line } => {
                    writeln!(out, "  {}:{line}", t(source))?
                }
                keibi_model::Evidence::Event { source, event_id } => writeln!(
                    out,
                    "{}",
                    say(Msg::new("show-evidence-event")
                        .arg("source", t(source))
                        .arg("id", t(event_id)))
                )?,
                keibi_model::Evidence::Observed { source, observed } => {
                    writeln!(out, "  {}: {}", t(source), t(observed))?
                }
            }
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", said("show-history"))?;
    let ja = crate::locale::is_ja();
    for h in history {
        let count = if ja {
            keibi_i18n::thousands(h.count)
        } else {
            h.count.to_string()
        };
        write!(
            out,
            "{}",
            say(Msg::new("show-history-line")
                .arg("at", when(h.at))
                .arg(
                    "what",
                    crate::output::sanitize::pad(&t(&word("history", &h.what)), 15)
                )
                .arg("count", format!("{count:>6}"))
                .arg("severity", h.severity.to_string()))
        )?;
        if let Some(by) = &h.by {
            write!(out, "{}", say(Msg::new("show-history-by").arg("by", t(by))))?;
        }
        if let Some(note) = &h.note {
            write!(out, "  {}", t(note))?;
        }
        writeln!(out)?;
    }
    Ok(())
}
