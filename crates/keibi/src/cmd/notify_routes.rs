//! `keibi notify routes FINDING_ID`: the routes of the settings' `notify` section
//! in order, for one stored finding: whether each matches and, if not, which filter
//! failed; the channels it goes to; and when each would be sent (quiet hours,
//! group_wait), as a new notice at `--at` (now by default). What the notifier
//! remembers in the store is read as the notifier reads it: each route's last
//! notice of this finding (a throttle holds the next one back) and the
//! `group_wait` groups still open (a notice joins one).

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use keibi_i18n::{Arg, Locale, Msg};
use keibi_notify::route::{Hold, RouteOutcome, Verdict};
use keibi_notify::{NoticeKind, Router, Seen};
use keibi_store::{FindingStore, Store, StoredFinding};
use serde_json::json;

use crate::cli::{Global, NotifyRoutesArgs, RoutesFormat};
use crate::locale::say;
use crate::output::sanitize::terminal;

pub fn routes(args: &NotifyRoutesArgs, global: &Global) -> Result<u8> {
    let settings = match &args.config {
        Some(path) => match keibi_engine::settings::Settings::load(path) {
            Ok((s, _)) => s,
            Err(e) => {
                eprintln!("keibi: {}", terminal(&super::run::load_error_text(&e)));
                return Ok(2);
            }
        },
        None => keibi_engine::settings::Settings::default(),
    };
    // Times in the notifications' zone unless the reader asked for another.
    let mut display = settings.display.clone();
    if display.tz.is_none() {
        display.tz = settings.notify.timezone.clone();
    }
    let locale = crate::locale::resolve(global, Some(&display))?;
    let store_path: PathBuf = args
        .store
        .clone()
        .unwrap_or_else(|| settings.store.path.clone());
    if !keibi_store::exists(&store_path) {
        anyhow::bail!(say(
            Msg::new("fnd-no-store").arg("path", store_path.display().to_string())
        ));
    }
    let store = Store::open_read_only(&store_path)?;
    let stored = store.finding(&args.id)?;
    let now = Utc::now();
    let at = match &args.at {
        Some(s) => crate::timearg::parse(s, now).context("--at")?,
        None => now,
    };
    let router = Router::new(&settings.notify)?;
    let f = &stored.finding;
    let memory = store.route_memory(&f.id, at)?;
    let (told, waiting) = keibi_engine::notifier::remembered(&memory);
    let seen = Seen {
        told: &told,
        waiting: &waiting,
    };
    let outcomes = router.explain(f, &NoticeKind::New, at, seen);
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        RoutesFormat::Json => {
            let mut v = as_json(&stored, at, router.quiet_until(at), &outcomes, &settings);
            v["told"] = told
                .iter()
                .map(|t| json!({"route": t.route, "at": time(t.at), "severity": t.severity}))
                .collect();
            v["open_groups"] = waiting
                .iter()
                .map(|w| json!({"route": w.route, "channel": w.channel, "until": time(w.not_before)}))
                .collect();
            serde_json::to_writer_pretty(&mut out, &v)?;
            writeln!(out)?;
        }
        RoutesFormat::Text => {
            write_text(
                &mut out, &locale, &stored, at, &router, &outcomes, &settings,
            )?;
            for t in &told {
                writeln!(
                    out,
                    "{}",
                    terminal(
                        &locale.render(
                            &Msg::new("notify-routes-told")
                                .arg("route", t.route.as_str())
                                .arg("at", minute(t.at))
                                .arg("severity", t.severity.to_string())
                        )
                    )
                )?;
            }
        }
    }
    out.flush()?;
    Ok(0)
}

fn minute(at: DateTime<Utc>) -> Arg {
    Arg::Minute { at }
}

fn holds(loc: &Locale, why: &[Hold]) -> String {
    why.iter()
        .map(|h| match h {
            Hold::GroupWait { joined: false, .. } => loc.text("notify-hold-group"),
            Hold::GroupWait { joined: true, .. } => loc.text("notify-hold-group-joined"),
            Hold::QuietHours { .. } => loc.text("notify-hold-quiet"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_text(
    out: &mut impl Write,
    loc: &Locale,
    s: &StoredFinding,
    at: DateTime<Utc>,
    router: &Router,
    outcomes: &[RouteOutcome],
    settings: &keibi_engine::settings::Settings,
) -> Result<()> {
    let f = &s.finding;
    let label = f.severity.label().as_str().to_lowercase();
    writeln!(
        out,
        "{}",
        terminal(
            &loc.render(
                &Msg::new("notify-routes-finding")
                    .arg("id", f.id.as_str())
                    .arg(
                        "label",
                        Arg::Msg(Box::new(Msg::new(&format!("severity-{label}"))))
                    )
                    .arg("severity", f.severity.to_string())
                    .arg("type", f.finding_type.as_str())
                    .arg("resource", f.resource.id.as_str())
                    .arg(
                        "status",
                        Arg::Msg(Box::new(Msg::new(&format!("status-{}", s.status.as_str()))))
                    )
            )
        )
    )?;
    writeln!(
        out,
        "{}",
        loc.render(&Msg::new("notify-routes-at").arg("at", minute(at)))
    )?;
    if let Some(until) = router.quiet_until(at) {
        writeln!(
            out,
            "{}",
            loc.render(&Msg::new("notify-routes-quiet").arg("until", minute(until)))
        )?;
    }
    if settings.notify.routes.is_empty() {
        writeln!(out, "{}", loc.text("notify-routes-default"))?;
    }
    let mut sent: Vec<String> = Vec::new();
    for (n, o) in outcomes.iter().enumerate() {
        let name = terminal(&o.route).into_owned();
        let head = |id: &str| {
            Msg::new(id)
                .arg("n", (n + 1) as u64)
                .arg("name", name.as_str())
        };
        match &o.verdict {
            Verdict::Missed(m) => {
                writeln!(
                    out,
                    "{}",
                    terminal(&loc.render(
                        &head("notify-routes-miss").arg("why", Arg::Msg(Box::new(m.msg())))
                    ))
                )?
            }
            Verdict::NotReached { by } => writeln!(
                out,
                "{}",
                terminal(&loc.render(&head("notify-routes-not-reached").arg("by", by.as_str())))
            )?,
            Verdict::Throttled { until, .. } => writeln!(
                out,
                "{}",
                terminal(
                    &loc.render(&head("notify-routes-throttled").arg("until", minute(*until)))
                )
            )?,
            Verdict::Matched {
                planned,
                already,
                continues,
            } => {
                let id = if *continues {
                    "notify-routes-match-continue"
                } else {
                    "notify-routes-match"
                };
                writeln!(out, "{}", terminal(&loc.render(&head(id))))?;
                if planned.is_empty() && already.is_empty() {
                    writeln!(out, "   {}", loc.text("notify-routes-no-channels"))?;
                }
                for p in planned {
                    let ch = terminal(&p.channel).into_owned();
                    let line = if p.why.is_empty() {
                        Msg::new("notify-routes-send-now").arg("channel", ch.as_str())
                    } else {
                        Msg::new("notify-routes-send-later")
                            .arg("channel", ch.as_str())
                            .arg("at", minute(p.not_before))
                            .arg("why", holds(loc, &p.why))
                    };
                    writeln!(out, "   {}", loc.render(&line))?;
                    sent.push(ch);
                }
                for c in already {
                    writeln!(
                        out,
                        "   {}",
                        loc.render(
                            &Msg::new("notify-routes-already").arg("channel", terminal(c).as_ref())
                        )
                    )?;
                }
            }
        }
    }
    if sent.is_empty() {
        writeln!(out, "{}", loc.text("notify-routes-nowhere"))?;
    } else {
        writeln!(
            out,
            "{}",
            loc.render(
                &Msg::new("notify-routes-total")
                    .arg("n", sent.len() as u64)
                    .arg("channels", sent.join(", "))
            )
        )?;
    }
    Ok(())
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The answer for programs: English reasons (as the contract's texts), UTC times.
fn as_json(
    s: &StoredFinding,
    at: DateTime<Utc>,
    quiet_until: Option<DateTime<Utc>>,
    outcomes: &[RouteOutcome],
    settings: &keibi_engine::settings::Settings,
) -> serde_json::Value {
    let en = Locale::english_utc();
    let f = &s.finding;
    let routes: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            let mut v = json!({
                "route": o.route,
                "index": o.index,
                "channels": o.channels,
            });
            match &o.verdict {
                Verdict::Missed(m) => {
                    v["result"] = json!("no_match");
                    v["reason"] = json!(en.render(&m.msg()));
                }
                Verdict::NotReached { by } => {
                    v["result"] = json!("not_reached");
                    v["stopped_by"] = json!(by);
                }
                Verdict::Throttled { last, until } => {
                    v["result"] = json!("throttled");
                    v["last"] = json!(time(*last));
                    v["until"] = json!(time(*until));
                }
                Verdict::Matched {
                    planned,
                    already,
                    continues,
                } => {
                    v["result"] = json!("match");
                    v["continue"] = json!(continues);
                    v["already_sent"] = json!(already);
                    v["sends"] = planned
                        .iter()
                        .map(|p| {
                            json!({
                                "channel": p.channel,
                                "not_before": time(p.not_before),
                                "held_by": p.why.iter().map(|h| match h {
                                    Hold::GroupWait { .. } => "group_wait",
                                    Hold::QuietHours { .. } => "quiet_hours",
                                }).collect::<Vec<_>>(),
                            })
                        })
                        .collect();
                }
            }
            v
        })
        .collect();
    let channels: Vec<&str> = outcomes
        .iter()
        .flat_map(|o| match &o.verdict {
            Verdict::Matched { planned, .. } => {
                planned.iter().map(|p| p.channel.as_str()).collect()
            }
            _ => Vec::new(),
        })
        .collect();
    json!({
        "finding": {
            "id": f.id,
            "type": f.finding_type,
            "severity": f.severity,
            "severity_label": f.severity.label(),
            "resource": f.resource,
            "status": s.status.as_str(),
        },
        "at": time(at),
        "quiet_until": quiet_until.map(time),
        "default_route": settings.notify.routes.is_empty(),
        "routes": routes,
        "channels": channels,
    })
}
