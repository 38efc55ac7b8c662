//! `keibi notify test` sends a sample finding to one channel so people see the
//! message before a real attack; `keibi notify status` shows the outbox.
//!
//! The sample (`notify/sample.json`) is the brute force of `keibi demo --week-ending
//! 2026-12-05`, as `keibi run` stored it (the finding and its messages, so it reads
//! in every language): captured from the demo's shop-postgres logs with this
//! keibi's detectors.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use keibi_engine::notifier;
use keibi_engine::Settings;
use keibi_i18n::Msg;
use keibi_model::{Finding, FindingText};
use keibi_notify::{Notice, NoticeKind, Outgoing};
use keibi_store::{DeliveryState, Store};
use serde_json::json;

use crate::cli::{Global, NotifyCommand, NotifyFormat};
use crate::locale::{library_text, said, say};
use crate::output::sanitize::{pad, pad_left, terminal};

const SAMPLE: &str = include_str!("notify/sample.json");

/// A line into `out`; written to stdout at the end, where a closed pipe is an
/// error the binary treats as success.
macro_rules! outln {
    ($out:ident, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

fn print(out: &str) -> Result<()> {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    o.write_all(out.as_bytes())?;
    o.flush()?;
    Ok(())
}

pub fn run(cmd: &NotifyCommand, global: &Global) -> Result<u8> {
    match cmd {
        NotifyCommand::Routes(args) => super::notify_routes::routes(args, global),
        NotifyCommand::Test {
            channel,
            config,
            format,
        } => test(channel, config, *format, global),
        NotifyCommand::Status {
            config,
            store,
            limit,
            format,
        } => status(config.as_deref(), store.as_deref(), *limit, *format, global),
    }
}

/// The demo's brute-force finding with its messages.
pub fn sample() -> Result<Finding> {
    let mut v: serde_json::Value = serde_json::from_str(SAMPLE).context("the sample finding")?;
    let text: FindingText =
        serde_json::from_value(v["text"].take()).context("the sample finding's messages")?;
    let mut f: Finding =
        serde_json::from_value(v["finding"].take()).context("the sample finding")?;
    f.text = Some(Box::new(text));
    Ok(f)
}

/// The message `keibi notify test` sends at `now`: a test notice of the sample,
/// under a key of its own (a receiver dropping repeats must not drop a second test).
pub fn test_message(now: DateTime<Utc>) -> Result<Outgoing> {
    Ok(Outgoing::One(Box::new(Notice {
        key: format!("test-{:x}", now.timestamp_nanos_opt().unwrap_or_default()),
        kind: NoticeKind::Test,
        finding: sample()?,
        at: now,
    })))
}

fn load(config: &Path, global: &Global) -> Result<Result<Settings, u8>> {
    match Settings::load(config) {
        Ok((s, _)) => {
            crate::locale::resolve(global, Some(&s.display))?;
            Ok(Ok(s))
        }
        Err(e) => {
            eprintln!("keibi: {}", terminal(&super::run::load_error_text(&e)));
            Ok(Err(2))
        }
    }
}

fn test(channel: &str, config: &Path, format: NotifyFormat, global: &Global) -> Result<u8> {
    let settings = match load(config, global)? {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let file = config.display().to_string();
    let notify = match Some(&settings.notify).filter(|n| !n.channels.is_empty()) {
        Some(n) => n,
        None => {
            eprintln!(
                "keibi: {}",
                terminal(&say(Msg::new("notify-test-no-section").arg("file", &file)))
            );
            return Ok(2);
        }
    };
    let Some(spec) = notify.channel(channel) else {
        let names: Vec<&str> = notify.channels.iter().map(|c| c.name.as_str()).collect();
        eprintln!(
            "keibi: {}",
            terminal(&say(Msg::new("notify-test-unknown")
                .arg("channel", channel)
                .arg("file", &file)
                .arg("names", names.join(", "))))
        );
        return Ok(2);
    };
    let one = keibi_notify::settings::NotifySettings {
        channels: vec![spec.clone()],
        ..notify.clone()
    };
    let built = notifier::build_channels(&one, &crate::locale::current(), crate::aws::channels())
        .map_err(|e| anyhow::anyhow!(library_text(&e.to_string())))?;
    let ch = built
        .into_iter()
        .next()
        .context("the channel was not built")?;
    let kind = spec.kind.as_str();
    let mut out = String::new();
    let result = ch.send(&test_message(Utc::now())?);
    let ok = result.is_ok();
    // Not "(will retry)": a test is sent once.
    let reason = |e: &keibi_notify::SendError| match e {
        keibi_notify::SendError::Transient { reason, .. }
        | keibi_notify::SendError::Permanent { reason } => reason.clone(),
    };
    match format {
        NotifyFormat::Json => {
            let v = match &result {
                Ok(sent) => {
                    json!({"channel": channel, "type": kind, "sent": true, "detail": sent.detail})
                }
                Err(e) => json!({
                    "channel": channel, "type": kind, "sent": false,
                    "transient": e.is_transient(), "error": reason(e),
                }),
            };
            outln!(out, "{v}");
        }
        NotifyFormat::Text => match &result {
            Ok(sent) => outln!(
                out,
                "{}",
                terminal(&say(Msg::new("notify-test-sent")
                    .arg("channel", channel)
                    .arg("kind", kind)
                    .arg("detail", &sent.detail)))
            ),
            Err(e) => eprintln!(
                "keibi: {}",
                terminal(&say(Msg::new("notify-test-failed")
                    .arg("channel", channel)
                    .arg("kind", kind)
                    .arg("reason", reason(e))))
            ),
        },
    }
    print(&out)?;
    Ok(if ok { 0 } else { 1 })
}

fn status(
    config: Option<&Path>,
    store: Option<&Path>,
    limit: usize,
    format: NotifyFormat,
    global: &Global,
) -> Result<u8> {
    let mut path = PathBuf::from("keibi.db");
    if let Some(c) = config {
        match load(c, global)? {
            Ok(s) => path = s.store.path,
            Err(code) => return Ok(code),
        }
    }
    if let Some(s) = store {
        path = s.to_path_buf();
    }
    let store = Store::open_read_only(&path)?;
    let st = store.outbox_status(limit)?;
    // Per channel: pending, failed, sent.
    let mut per: Vec<(String, [u64; 3])> = Vec::new();
    for c in &st.counts {
        let i = match per.iter().position(|(n, _)| *n == c.channel) {
            Some(i) => i,
            None => {
                per.push((c.channel.clone(), [0; 3]));
                per.len() - 1
            }
        };
        let col = match c.state {
            DeliveryState::Pending => 0,
            DeliveryState::Failed => 1,
            DeliveryState::Sent => 2,
        };
        per[i].1[col] += c.count;
    }
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut out = String::new();
    match format {
        NotifyFormat::Json => {
            let v = json!({
                "store": path,
                "unrouted": st.unrouted,
                "channels": per.iter().map(|(n, c)| json!({
                    "channel": n, "pending": c[0], "failed": c[1], "sent": c[2],
                })).collect::<Vec<_>>(),
                "deliveries": st.open.iter().map(|d| json!({
                    "channel": d.channel,
                    "state": d.state.as_str(),
                    "event": d.entry.kind.as_str(),
                    "key": d.entry.key,
                    "finding_id": d.entry.finding.id,
                    "type": d.entry.finding.finding_type,
                    "severity": d.entry.finding.severity,
                    "committed_at": time(d.entry.at),
                    "attempts": d.attempts,
                    "first_try": d.first_at.map(time),
                    "next_try": (d.state == DeliveryState::Pending).then(|| time(d.next_at)),
                    "failed_at": (d.state == DeliveryState::Failed).then(|| time(d.next_at)),
                    "last_error": d.last_error,
                    "route": d.route,
                    "held": d.held,
                })).collect::<Vec<_>>(),
            });
            outln!(out, "{v}");
        }
        NotifyFormat::Text => {
            let loc = crate::locale::current();
            if per.is_empty() && st.unrouted == 0 {
                outln!(out, "{}", said("notify-status-empty"));
                print(&out)?;
                return Ok(0);
            }
            if !per.is_empty() {
                let w = per
                    .iter()
                    .map(|(n, _)| unicode_width(n))
                    .max()
                    .unwrap_or(0)
                    .max(unicode_width(&said("notify-col-channel")));
                outln!(
                    out,
                    "{}  {}  {}  {}",
                    pad(&said("notify-col-channel"), w),
                    pad_left(&said("notify-col-pending"), 8),
                    pad_left(&said("notify-col-failed"), 8),
                    pad_left(&said("notify-col-sent"), 8),
                );
                for (n, c) in &per {
                    outln!(
                        out,
                        "{}  {}  {}  {}",
                        pad(&terminal(n), w),
                        pad_left(&c[0].to_string(), 8),
                        pad_left(&c[1].to_string(), 8),
                        pad_left(&c[2].to_string(), 8),
                    );
                }
            }
            if st.unrouted > 0 {
                outln!(
                    out,
                    "{}",
                    say(Msg::new("notify-status-unrouted").arg("n", st.unrouted))
                );
            }
            for (state, title, when) in [
                (
                    DeliveryState::Pending,
                    "notify-status-pending",
                    "notify-col-next",
                ),
                (
                    DeliveryState::Failed,
                    "notify-status-failed",
                    "notify-col-when",
                ),
            ] {
                let rows: Vec<_> = st.open.iter().filter(|d| d.state == state).collect();
                if rows.is_empty() {
                    continue;
                }
                let times: Vec<String> = rows.iter().map(|d| loc.time(d.next_at, None)).collect();
                let tw = times
                    .iter()
                    .map(|t| unicode_width(t))
                    .chain([unicode_width(&said(when))])
                    .max()
                    .unwrap_or(0);
                outln!(out, "\n{}", said(title));
                outln!(
                    out,
                    "{}  {}  {}  {}  {}  {}",
                    pad(&said("notify-col-channel"), 16),
                    pad(&said("notify-col-event"), 16),
                    pad(&said("notify-col-finding"), 10),
                    pad_left(&said("notify-col-attempts"), 6),
                    pad(&said(when), tw),
                    said("notify-col-error"),
                );
                for (d, t) in rows.iter().zip(&times) {
                    let id = &d.entry.finding.id;
                    outln!(
                        out,
                        "{}  {}  {}  {}  {}  {}",
                        pad(&terminal(&d.channel), 16),
                        pad(d.entry.kind.as_str(), 16),
                        pad(&id[..id.len().min(8)], 10),
                        pad_left(&d.attempts.to_string(), 6),
                        pad(t, tw),
                        terminal(d.last_error.as_deref().unwrap_or("")),
                    );
                }
            }
        }
    }
    print(&out)?;
    Ok(0)
}

fn unicode_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keibi_i18n::{DisplayZone, Lang, Locale};

    #[test]
    fn the_sample_is_the_demos_brute_force_and_reads_in_both_languages() {
        let f = sample().unwrap();
        assert_eq!(f.finding_type, "CredentialAccess:RDS/BruteForce");
        assert_eq!(f.count, 253);
        for lang in [Lang::En, Lang::Ja] {
            let loc = Locale::new(lang, DisplayZone::utc());
            let (title, description, remediation) = loc.finding(f.text.as_deref().unwrap());
            for t in [title.unwrap_or_default(), description, remediation] {
                assert!(!t.is_empty());
                assert!(!t.contains("login-"), "an id, not a text: {t}");
            }
        }
        let m = test_message(Utc::now()).unwrap();
        assert!(m.key().starts_with("test-"));
        assert!(matches!(&m, Outgoing::One(n) if n.kind == NoticeKind::Test));
    }
}
