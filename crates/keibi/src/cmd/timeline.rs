//! `keibi timeline`: what addresses, database users and IAM principals did across
//! database logs and CloudTrail, with their findings' moments, in time order: from
//! the store `keibi run` keeps (`keibi_store::Store::timeline`), or from log files
//! read as `keibi events` reads them (and the store's finding marks with
//! `--store`). `docs/timeline.md` is the user's view.

use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, TimeDelta, Utc};
use keibi_i18n::{Locale, Msg};
use keibi_store::{
    Activity, ActivityBatch, FindingMark, FindingStore, Store, Timeline, TimelineEntry,
    TimelineQuery,
};

use crate::cli::{EventFormat, Global, InputArgs, TimelineArgs};
use crate::locale::{said, say};
use crate::output::sanitize::{cut, pad, terminal};

/// `--around`: this many hours either side of the finding's first and last event.
const AROUND_HOURS: i64 = 3;

pub fn run(args: &TimelineArgs, global: &Global) -> Result<u8> {
    let locale = crate::locale::resolve(global, None)?;
    let now = Utc::now();
    let from_files = !args.paths.is_empty();
    let store_path = args
        .store
        .clone()
        .unwrap_or_else(|| PathBuf::from("keibi.db"));
    // From files, the store is read only when named (for its finding marks).
    let store = if !from_files || args.store.is_some() {
        Some(super::findings::open_read(&store_path)?)
    } else {
        None
    };
    let q = query(args, store.as_ref(), now)?;
    if q.ips.is_empty() && q.users.is_empty() && q.principals.is_empty() {
        bail!("{}", said("tl-no-actor"));
    }
    let max = keibi_store::QUERY_MAX_ACTORS;
    if q.ips.len() > max || q.users.len() > max || q.principals.len() > max {
        bail!("{}", say(Msg::new("tl-too-many").arg("max", max as u64)));
    }
    if q.until < q.since {
        bail!("{}", said("tl-window"));
    }
    q.check()?;
    let timeline = if from_files {
        from_files_timeline(args, global, &q, store.as_ref())?
    } else {
        match &store {
            Some(s) => s.timeline(&q)?,
            None => Timeline::default(),
        }
    };

    let (is_tty, color) = super::terminal_output(global);
    let format = args.format.unwrap_or(if is_tty {
        EventFormat::Table
    } else {
        EventFormat::Jsonl
    });
    let mut out = BufWriter::new(io::stdout().lock());
    match format {
        EventFormat::Jsonl => {
            for e in &timeline.entries {
                serde_json::to_writer(&mut out, e)?;
                out.write_all(b"\n")?;
            }
        }
        EventFormat::Table => write_table(&mut out, &timeline, &locale, color)?,
    }
    out.flush()?;
    drop(out);
    if timeline.entries.is_empty() {
        eprintln!("{}", said("tl-none"));
    }
    if timeline.cut {
        eprintln!("{}", say(Msg::new("tl-cut").arg("limit", q.limit as u64)));
    }
    if timeline.dropped > 0 {
        eprintln!("{}", say(Msg::new("tl-dropped").arg("n", timeline.dropped)));
    }
    Ok(0)
}

/// The query of the flags: the actors named, and `--around`'s finding's; the
/// window from `--since`/`--until`, else `--around`'s, else the last day.
fn query(args: &TimelineArgs, store: Option<&Store>, now: DateTime<Utc>) -> Result<TimelineQuery> {
    let mut ips: Vec<IpAddr> = args.ip.clone();
    let mut users = args.user.clone();
    let mut principals = args.principal.clone();
    let mut window: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    if let Some(id) = &args.around {
        let Some(store) = store else {
            bail!("{}", said("tl-around-needs-store"));
        };
        let f = store.finding(id)?.finding;
        for ip in f.actor.ip.iter().chain(&f.actor.ips) {
            if !ips.contains(ip) {
                ips.push(*ip);
            }
        }
        for u in f.actor.user.iter().chain(&f.actor.users) {
            // A finding's user is a database user, or a principal's ARN.
            let list = if u.starts_with("arn:") {
                &mut principals
            } else {
                &mut users
            };
            if !list.contains(u) {
                list.push(u.clone());
            }
        }
        window = Some(keibi_store::around(f.first_seen, f.last_seen, AROUND_HOURS));
    }
    let parse =
        |s: &str, flag: &str| crate::timearg::parse(s, now).with_context(|| flag.to_string());
    let since = match (&args.since, window) {
        (Some(s), _) => parse(s, "--since")?,
        (None, Some((s, _))) => s,
        (None, None) => now - TimeDelta::days(1),
    };
    let until = match (&args.until, window) {
        (Some(s), _) => parse(s, "--until")?,
        (None, Some((_, u))) => u,
        (None, None) => now,
    };
    Ok(TimelineQuery {
        ips,
        users,
        principals,
        since,
        until,
        limit: usize::try_from(args.limit).unwrap_or(keibi_store::QUERY_MAX_LIMIT),
    })
}

/// The timeline of log files: their events read as `keibi events` reads them, the
/// query's kept and folded as the daemon folds them (the first `limit` rows; a
/// later event of a kept row still counts), with the store's finding marks when
/// one is given.
fn from_files_timeline(
    args: &TimelineArgs,
    global: &Global,
    q: &TimelineQuery,
    store: Option<&Store>,
) -> Result<Timeline> {
    let input = InputArgs {
        paths: args.paths.clone(),
        log_format: args.log_format,
        pg_prefix: args.pg_prefix.clone(),
        instance: args.instance.clone(),
        log_timezone: args.log_timezone.clone(),
        since: Some(q.since.to_rfc3339()),
        // --until is exclusive for the readers, inclusive here.
        until: Some((q.until + TimeDelta::milliseconds(1)).to_rfc3339()),
        region: None,
        profile: None,
        endpoint_url: None,
        role_arn: None,
        external_id: None,
    };
    let mut batch = ActivityBatch::with_cap(q.limit.min(keibi_store::QUERY_MAX_LIMIT));
    let report = super::read_inputs(&input, global, |e| {
        if q.matches_event(&e) {
            batch.add(&e);
        }
        Ok(())
    })?;
    if report.files == 0 && report.events == 0 {
        bail!("{}", said("tl-nothing-read"));
    }
    let cut = batch.dropped() > 0;
    let marks: Vec<FindingMark> = match store {
        Some(s) => s.timeline_marks(q)?,
        None => Vec::new(),
    };
    let mut tl = Timeline::merge(batch.into_rows(), marks, q.limit);
    tl.cut |= cut;
    Ok(tl)
}

const W_TIME: usize = 23;
const W_KIND: usize = 16;
const W_COUNT: usize = 7;
const W_ADDR: usize = 18;
const W_WHO: usize = 28;
const W_RESOURCE: usize = 20;
const W_WHAT: usize = 140;

/// The table: one line per entry, every field from a log or a finding escaped for
/// the terminal and cut to its column.
fn write_table(
    out: &mut impl Write,
    tl: &Timeline,
    locale: &Locale,
    color: bool,
) -> io::Result<()> {
    if tl.entries.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{} {} {} {} {} {} {}",
        pad(&said("tl-col-time"), W_TIME),
        pad(&said("tl-col-kind"), W_KIND),
        pad(&said("tl-col-count"), W_COUNT),
        pad(&said("tl-col-address"), W_ADDR),
        pad(&said("tl-col-who"), W_WHO),
        pad(&said("tl-col-resource"), W_RESOURCE),
        said("tl-col-what"),
    )?;
    for e in &tl.entries {
        match e {
            TimelineEntry::Activity(a) => activity_line(out, a, locale, color)?,
            TimelineEntry::Finding(m) => mark_line(out, m, locale, color)?,
        }
    }
    Ok(())
}

/// A field from a log, safe for the terminal and cut to `w` columns, padded.
fn field(s: &str, w: usize) -> String {
    pad(&cut(&terminal(s), w), w)
}

fn activity_line(
    out: &mut impl Write,
    a: &Activity,
    locale: &Locale,
    color: bool,
) -> io::Result<()> {
    let kind = said(&format!("tl-kind-{}", a.kind.as_str()));
    let (on, off) = match (color, a.kind) {
        (false, _) => ("", ""),
        (true, keibi_store::ActivityKind::LoginFailed | keibi_store::ActivityKind::Error) => {
            ("\x1b[31m", "\x1b[0m")
        }
        (true, keibi_store::ActivityKind::Probe) => ("\x1b[33m", "\x1b[0m"),
        (true, keibi_store::ActivityKind::LoginOk) => ("\x1b[32m", "\x1b[0m"),
        (true, _) => ("\x1b[36m", "\x1b[0m"),
    };
    let count = if a.count > 1 {
        format!("×{}", keibi_i18n::thousands(a.count))
    } else {
        String::new()
    };
    let addr = a.ip.map(|ip| ip.to_string()).unwrap_or_else(|| "-".into());
    let who = match (&a.user, &a.principal, &a.database) {
        (Some(u), _, Some(d)) => format!("{u}@{d}"),
        (Some(u), _, None) => u.clone(),
        (None, Some(p), _) => p.clone(),
        (None, None, Some(d)) => format!("@{d}"),
        (None, None, None) => "-".into(),
    };
    let mut what = a.what.clone().unwrap_or_default();
    if let Some(code) = &a.error {
        what = format!("[{code}] {what}");
    }
    if what.is_empty() {
        what = "-".into();
    }
    writeln!(
        out,
        "{} {on}{}{off} {} {} {} {} {}",
        pad(&locale.time(a.first, None), W_TIME),
        pad(&kind, W_KIND),
        pad(&count, W_COUNT),
        field(&addr, W_ADDR),
        field(&who, W_WHO),
        field(a.resource.as_deref().unwrap_or("-"), W_RESOURCE),
        cut(&terminal(&what), W_WHAT),
    )
}

fn mark_line(
    out: &mut impl Write,
    m: &FindingMark,
    locale: &Locale,
    color: bool,
) -> io::Result<()> {
    let what = {
        let id = format!("history-{}", m.what);
        let w = said(&id);
        if w == id {
            m.what.clone()
        } else {
            w
        }
    };
    let kind = say(Msg::new("tl-kind-finding").arg("what", what));
    let severity = said(match m.severity.label() {
        keibi_model::finding::SeverityLabel::Critical => "severity-critical",
        keibi_model::finding::SeverityLabel::High => "severity-high",
        keibi_model::finding::SeverityLabel::Medium => "severity-medium",
        keibi_model::finding::SeverityLabel::Low => "severity-low",
    });
    let title = m
        .text
        .as_deref()
        .and_then(|t| locale.finding(t).0)
        .unwrap_or_else(|| m.title.clone());
    let short: String = m.finding_id.chars().take(12).collect();
    let line = say(Msg::new("tl-finding-line")
        .arg("severity", severity)
        .arg("title", title)
        .arg("id", short));
    let (on, off) = if color {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("", "")
    };
    writeln!(
        out,
        "{} {on}{}{off} {} {} {} {} {}",
        pad(&locale.time(m.time, None), W_TIME),
        pad(&cut(&kind, W_KIND), W_KIND),
        pad("", W_COUNT),
        pad("", W_ADDR),
        field(m.by.as_deref().unwrap_or(""), W_WHO),
        pad("", W_RESOURCE),
        cut(&terminal(&line), W_WHAT),
    )
}
