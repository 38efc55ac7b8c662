//! `keibi actions`: the response journal (`keibi-store`'s `journal`) for a person —
//! list and show actions, approve, cancel or ask for an undo, pause and resume
//! every response. It only writes the journal: the daemon (`keibi run`) executes
//! and undoes. Each move is a compare-and-set, so a person and the daemon never
//! both move one action.
//!
//! Exit codes: 0 done, 1 a move refused (the action is not in a state that allows
//! it, or it moved meanwhile; an undo that failed or did not finish in `--wait`),
//! 2 the store cannot be used, an id is unknown or ambiguous, a flag is wrong.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use keibi_i18n::Msg;
use keibi_respond::{Action, State, Target};
use keibi_store::{ActionFilter, ActionRecord, Change, Pause, Store};
use serde_json::json;

use crate::cli::{
    ActionChangeArgs, ActionsArgs, ActionsCommand, ActionsFormat, Global, ShowFormat,
};
use crate::locale::{said, say};
use crate::output::sanitize::{cut, pad, terminal, width};

/// Longest `--by` accepted, in characters.
const MAX_BY: usize = 200;
/// How often `undo --wait` reads the store.
const POLL: Duration = Duration::from_millis(250);
/// Widest target and rule cells of the table (columns; the rest is cut with `…`).
const TARGET_COLUMNS: usize = 48;
const RULE_COLUMNS: usize = 24;
const TYPE_COLUMNS: usize = 40;

pub fn run(args: &ActionsArgs, global: &Global) -> Result<u8> {
    let path = args.store.as_path();
    match &args.command {
        ActionsCommand::List {
            state,
            finding,
            since,
            limit,
            format,
        } => {
            let now = Utc::now();
            let filter = ActionFilter {
                states: state
                    .iter()
                    .flat_map(|s| s.split(','))
                    .map(parse_state)
                    .collect::<Result<_>>()?,
                finding_id: finding.clone(),
                since: since
                    .as_deref()
                    .map(|s| crate::timearg::parse(s, now))
                    .transpose()
                    .context("--since")?,
                limit: limit.unwrap_or(0),
            };
            let store = open_read(path)?;
            let actions = store.list_actions(&filter)?;
            let paused = store.paused()?;
            let (is_tty, _) = super::terminal_output(global);
            let format = format.unwrap_or(if is_tty {
                ActionsFormat::Table
            } else {
                ActionsFormat::Jsonl
            });
            list(&actions, paused.as_ref(), format)
        }
        ActionsCommand::Show { id, format } => {
            let store = open_read(path)?;
            let rec = find(&store, id)?;
            let (is_tty, _) = super::terminal_output(global);
            let format = format.unwrap_or(if is_tty {
                ShowFormat::Text
            } else {
                ShowFormat::Json
            });
            show(&rec, format)
        }
        ActionsCommand::Approve(a) => approve(path, a),
        ActionsCommand::Cancel(a) => cancel(path, a),
        ActionsCommand::Undo { change, wait } => undo(path, change, wait.as_deref()),
        ActionsCommand::Pause { reason, by } => {
            let by = who(by)?;
            let mut store = open_write(path)?;
            if !store.pause(&by, reason.as_deref(), Utc::now())? {
                if let Some(p) = store.paused()? {
                    eprintln!(
                        "{}",
                        say(Msg::new("act-already-paused")
                            .arg("by", terminal(&p.by).into_owned())
                            .arg("at", when(p.at)))
                    );
                }
                return Ok(0);
            }
            eprintln!(
                "{}",
                say(Msg::new("act-paused").arg("by", terminal(&by).into_owned()))
            );
            Ok(0)
        }
        ActionsCommand::Resume { by } => {
            let by = who(by)?;
            let mut store = open_write(path)?;
            if !store.resume(Some(&by), Utc::now())? {
                eprintln!("{}", said("act-not-paused"));
                return Ok(0);
            }
            eprintln!(
                "{}",
                say(Msg::new("act-resumed").arg("by", terminal(&by).into_owned()))
            );
            Ok(0)
        }
    }
}

fn open_read(path: &Path) -> Result<Store> {
    if !keibi_store::exists(path) {
        bail!(say(
            Msg::new("act-no-store").arg("path", keibi_store::shown(path))
        ));
    }
    super::findings::open_read(path)
}

fn open_write(path: &Path) -> Result<Store> {
    if !keibi_store::exists(path) {
        bail!(say(
            Msg::new("act-no-store").arg("path", keibi_store::shown(path))
        ));
    }
    super::findings::open_write(path)
}

/// The action an id (or a unique start of one) names; unknown is an error (exit 2).
fn find(store: &Store, id: &str) -> Result<ActionRecord> {
    match store.action(id)? {
        Some(r) => Ok(r),
        None => bail!(say(
            Msg::new("act-not-found").arg("id", terminal(id).into_owned())
        )),
    }
}

fn parse_state(s: &str) -> Result<State> {
    State::parse(&s.trim().to_ascii_lowercase()).with_context(|| {
        say(Msg::new("act-bad-state")
            .arg("value", terminal(s).into_owned())
            .arg(
                "states",
                State::ALL.map(State::as_str).join(", ").to_string(),
            ))
    })
}

/// Who makes a change: `--by`, else `$USER`, `$LOGNAME`, else `cli`.
fn who(by: &Option<String>) -> Result<String> {
    let name = [
        by.clone(),
        std::env::var("USER").ok(),
        std::env::var("LOGNAME").ok(),
    ]
    .into_iter()
    .flatten()
    .map(|n| n.trim().to_string())
    .find(|n| !n.is_empty())
    .unwrap_or_else(|| "cli".into());
    if name.chars().count() > MAX_BY || name.chars().any(crate::output::sanitize::is_unsafe) {
        bail!(said("act-bad-by"));
    }
    Ok(name)
}

fn when(t: DateTime<Utc>) -> String {
    crate::locale::current().time(t, None)
}

fn state_word(s: State) -> String {
    said(&format!("act-state-{}", s.as_str()))
}

fn mode_word(a: &Action) -> String {
    said(&format!("act-mode-{}", a.mode.as_str()))
}

fn kind_word(a: &Action) -> String {
    said(&format!("act-kind-{}", a.target.kind().as_str()))
}

/// What the action acts on, in words; every attacker-written part escaped.
pub fn target_words(t: &Target) -> String {
    let e = |s: &str| terminal(s).into_owned();
    let msg = match t {
        Target::BlockAddress {
            address, instance, ..
        } => match instance {
            Some(i) => Msg::new("act-target-address-on")
                .arg("address", address.to_string())
                .arg("instance", e(i)),
            None => Msg::new("act-target-address").arg("address", address.to_string()),
        },
        Target::LockRole { instance, user, .. } => Msg::new("act-target-role")
            .arg("user", e(user))
            .arg("instance", e(instance)),
        Target::EndSessions {
            instance,
            user,
            address,
            ..
        } => match address {
            Some(a) => Msg::new("act-target-sessions-from")
                .arg("user", e(user))
                .arg("instance", e(instance))
                .arg("address", a.to_string()),
            None => Msg::new("act-target-sessions")
                .arg("user", e(user))
                .arg("instance", e(instance)),
        },
        Target::ClosePublicAccess {
            resource_kind,
            resource,
            ..
        }
        | Target::RestoreLogging {
            resource_kind,
            resource,
            ..
        } => Msg::new("act-target-resource")
            .arg("kind", e(resource_kind))
            .arg("resource", e(resource)),
        Target::RevokeIngress {
            resource,
            port,
            cidr,
            ..
        } => Msg::new("act-target-ingress")
            .arg("cidr", e(cidr))
            .arg("port", e(port))
            .arg("resource", e(resource)),
        Target::ContainPrincipal {
            principal,
            access_key,
            ..
        } => match access_key {
            Some(k) => Msg::new("act-target-principal-key")
                .arg("key", e(k))
                .arg("principal", e(principal)),
            None => Msg::new("act-target-principal").arg("principal", e(principal)),
        },
        Target::Webhook { name } => Msg::new("act-target-webhook").arg("name", e(name)),
        Target::Exec { name } => Msg::new("act-target-exec").arg("name", e(name)),
    };
    say(msg)
}

fn banner(p: &Pause) -> String {
    let msg = match &p.reason {
        Some(r) => Msg::new("act-paused-banner-reason").arg("reason", terminal(r).into_owned()),
        None => Msg::new("act-paused-banner"),
    };
    say(msg
        .arg("by", terminal(&p.by).into_owned())
        .arg("at", when(p.at)))
}

fn list(actions: &[Action], paused: Option<&Pause>, format: ActionsFormat) -> Result<u8> {
    let mut out = BufWriter::new(io::stdout().lock());
    match format {
        ActionsFormat::Json => {
            if let Some(p) = paused {
                eprintln!("{}", banner(p));
            }
            serde_json::to_writer_pretty(&mut out, actions)?;
            writeln!(out)?;
        }
        ActionsFormat::Jsonl => {
            if let Some(p) = paused {
                eprintln!("{}", banner(p));
            }
            for a in actions {
                serde_json::to_writer(&mut out, a)?;
                writeln!(out)?;
            }
        }
        ActionsFormat::Table => {
            if let Some(p) = paused {
                writeln!(out, "{}", banner(p))?;
            }
            if actions.is_empty() {
                writeln!(out, "{}", said("act-none"))?;
                out.flush()?;
                return Ok(0);
            }
            let none = "-".to_string();
            let rows: Vec<[String; 9]> = actions
                .iter()
                .map(|a| {
                    [
                        terminal(&a.id).into_owned(),
                        state_word(a.state),
                        mode_word(a),
                        kind_word(a),
                        cut(&target_words(&a.target), TARGET_COLUMNS).into_owned(),
                        cut(&terminal(&a.finding_type), TYPE_COLUMNS).into_owned(),
                        cut(&terminal(&a.rule), RULE_COLUMNS).into_owned(),
                        when(a.updated_at),
                        a.expires_at.map(when).unwrap_or_else(|| none.clone()),
                    ]
                })
                .collect();
            let heads = [
                "act-col-id",
                "act-col-state",
                "act-col-mode",
                "act-col-action",
                "act-col-target",
                "act-col-finding",
                "act-col-rule",
                "act-col-updated",
                "act-col-expires",
            ]
            .map(said);
            let mut widths = heads.clone().map(|h| width(&h));
            for r in &rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(width(c));
                }
            }
            let line = |cells: &[String; 9]| {
                let last = cells.len() - 1;
                cells
                    .iter()
                    .zip(widths)
                    .enumerate()
                    .map(|(i, (c, w))| if i == last { c.clone() } else { pad(c, w) })
                    .collect::<Vec<_>>()
                    .join("  ")
            };
            writeln!(out, "{}", line(&heads))?;
            for r in &rows {
                writeln!(out, "{}", line(r))?;
            }
            writeln!(out, "{}", say(Msg::new("act-count").arg("n", rows.len())))?;
        }
    }
    out.flush()?;
    Ok(0)
}

fn show(rec: &ActionRecord, format: ShowFormat) -> Result<u8> {
    let a = &rec.action;
    let f = &rec.finding;
    let mut out = BufWriter::new(io::stdout().lock());
    if format == ShowFormat::Json {
        let v = json!({
            "action": a,
            "target_key": a.target.key(),
            "finding": f,
            "history": rec.history,
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(0);
    }
    // The finding's title in the reader's language where it carries its messages.
    let locale = crate::locale::current();
    let title = match &f.text {
        Some(t) if locale.lang != keibi_i18n::Lang::En => locale.finding(t).0,
        _ => None,
    }
    .unwrap_or_else(|| f.title.clone());
    let mut rows: Vec<(&str, String)> = vec![
        (
            "act-label-action",
            format!("{} ({})", terminal(&a.id), kind_word(a)),
        ),
        ("act-label-state", state_word(a.state)),
        ("act-label-mode", mode_word(a)),
        ("act-label-target", target_words(&a.target)),
    ];
    if let Some(p) = a.target.place() {
        if p.account.is_some() || p.region.is_some() {
            rows.push((
                "act-label-where",
                say(Msg::new("act-target-place")
                    .arg(
                        "account",
                        terminal(p.account.as_deref().unwrap_or("-")).into_owned(),
                    )
                    .arg(
                        "region",
                        terminal(p.region.as_deref().unwrap_or("-")).into_owned(),
                    )),
            ));
        }
    }
    rows.push((
        "act-label-finding",
        format!(
            "{} {} — {}",
            terminal(&f.id),
            terminal(&a.finding_type),
            terminal(&title)
        ),
    ));
    rows.push(("act-label-rule", terminal(&a.rule).into_owned()));
    if let Some(r) = &a.reason {
        rows.push(("act-label-reason", terminal(r).into_owned()));
    }
    if let Some(e) = &a.executor {
        rows.push(("act-label-executor", terminal(e).into_owned()));
    }
    rows.push(("act-label-attempts", a.attempts.to_string()));
    rows.push(("act-label-created", when(a.created_at)));
    rows.push(("act-label-updated", when(a.updated_at)));
    if let Some(t) = a.next_at {
        rows.push(("act-label-next", when(t)));
    }
    rows.push((
        "act-label-expire-after",
        match a.expire_after_secs {
            Some(n) => {
                let from = DateTime::<Utc>::UNIX_EPOCH;
                let secs = i64::try_from(n).unwrap_or(i64::MAX);
                let to = from
                    .checked_add_signed(chrono::TimeDelta::try_seconds(secs).unwrap_or_default())
                    .unwrap_or(from);
                crate::locale::current().span(from, to)
            }
            None => said("act-never"),
        },
    ));
    if let Some(t) = a.expires_at {
        rows.push(("act-label-expires", when(t)));
    }
    if let Some(b) = &a.by {
        rows.push(("act-label-by", terminal(b).into_owned()));
    }
    for (label, v) in [("act-label-prior", &a.prior), ("act-label-done", &a.done)] {
        if let Some(v) = v {
            // Compact JSON, escaped: it holds what the executor read from the world.
            rows.push((label, terminal(&v.to_string()).into_owned()));
        }
    }
    let col = rows
        .iter()
        .map(|(l, _)| width(&said(l)) + 2)
        .max()
        .unwrap_or(0);
    for (label, value) in &rows {
        writeln!(out, "{}{}", pad(&format!("{}:", said(label)), col), value)?;
    }
    writeln!(out, "{}", said("act-history"))?;
    for h in &rec.history {
        let msg = match h.from {
            Some(from) => Msg::new("act-history-move").arg("from", state_word(from)),
            None => Msg::new("act-history-first"),
        };
        let mut line = say(msg
            .arg("at", when(h.at))
            .arg("to", state_word(h.to))
            .arg("by", terminal(&h.by).into_owned()));
        if let Some(d) = &h.detail {
            line.push_str(": ");
            line.push_str(&terminal(d));
        }
        writeln!(out, "  {line}")?;
    }
    out.flush()?;
    Ok(0)
}

/// A move refused: said on stderr, exit 1.
fn refused(msg: Msg) -> Result<u8> {
    eprintln!("keibi: {}", say(msg));
    Ok(1)
}

/// Makes the move; a refusal when the action moved meanwhile.
fn move_action(
    store: &mut Store,
    a: &Action,
    to: State,
    by: &str,
    detail: &str,
) -> Result<Option<u8>> {
    let change = Change {
        by: by.to_string(),
        detail: Some(detail.to_string()),
        ..Change::default()
    };
    if store.transition(&a.id, a.state, to, &change, Utc::now())? {
        return Ok(None);
    }
    let now = store
        .action(&a.id)?
        .map(|r| r.action.state)
        .unwrap_or(a.state);
    Ok(Some(refused(
        Msg::new("act-refused-moved")
            .arg("id", a.id.clone())
            .arg("state", state_word(now)),
    )?))
}

fn approve(path: &Path, args: &ActionChangeArgs) -> Result<u8> {
    let by = who(&args.by)?;
    let mut store = open_write(path)?;
    let a = find(&store, &args.id)?.action;
    if a.state != State::Planned || a.mode != keibi_respond::Mode::Approve {
        return refused(
            Msg::new("act-refused-approve")
                .arg("id", a.id.clone())
                .arg("state", state_word(a.state))
                .arg("mode", mode_word(&a)),
        );
    }
    if let Some(code) = move_action(
        &mut store,
        &a,
        State::Approved,
        &by,
        "approved with keibi actions approve",
    )? {
        return Ok(code);
    }
    eprintln!(
        "{}",
        say(Msg::new("act-approved")
            .arg("id", a.id.clone())
            .arg("action", kind_word(&a))
            .arg("target", target_words(&a.target)))
    );
    if store.paused()?.is_some() {
        eprintln!("{}", said("act-still-paused"));
    }
    Ok(0)
}

fn cancel(path: &Path, args: &ActionChangeArgs) -> Result<u8> {
    let by = who(&args.by)?;
    let mut store = open_write(path)?;
    let a = find(&store, &args.id)?.action;
    if !matches!(a.state, State::Planned | State::Approved) {
        return refused(
            Msg::new("act-refused-cancel")
                .arg("id", a.id.clone())
                .arg("state", state_word(a.state)),
        );
    }
    if let Some(code) = move_action(
        &mut store,
        &a,
        State::Cancelled,
        &by,
        "cancelled with keibi actions cancel",
    )? {
        return Ok(code);
    }
    eprintln!(
        "{}",
        say(Msg::new("act-cancelled")
            .arg("id", a.id.clone())
            .arg("action", kind_word(&a))
            .arg("target", target_words(&a.target)))
    );
    Ok(0)
}

/// `30s`, `2m`, `1h`, or a number of seconds.
fn wait_time(s: &str) -> Result<Duration> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .ok()
        .filter(|n| *n <= 24 * 3600)
        .with_context(|| say(Msg::new("act-bad-wait").arg("value", terminal(s).into_owned())))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => bail!(say(
            Msg::new("act-bad-wait").arg("value", terminal(s).into_owned())
        )),
    };
    Ok(Duration::from_secs(secs))
}

fn undo(path: &Path, args: &ActionChangeArgs, wait: Option<&str>) -> Result<u8> {
    let by = who(&args.by)?;
    let wait = wait.map(wait_time).transpose()?;
    let mut store = open_write(path)?;
    let a = find(&store, &args.id)?.action;
    if a.state != State::Executed {
        return refused(
            Msg::new("act-refused-undo")
                .arg("id", a.id.clone())
                .arg("state", state_word(a.state)),
        );
    }
    if !a.target.kind().undoable() {
        return refused(
            Msg::new("act-refused-undoable")
                .arg("id", a.id.clone())
                .arg("action", kind_word(&a)),
        );
    }
    if let Some(code) = move_action(
        &mut store,
        &a,
        State::Undoing,
        &by,
        "undo asked with keibi actions undo",
    )? {
        return Ok(code);
    }
    eprintln!(
        "{}",
        say(Msg::new("act-undo-requested")
            .arg("id", a.id.clone())
            .arg("action", kind_word(&a))
            .arg("target", target_words(&a.target))
            .arg("by", terminal(&by).into_owned()))
    );
    if store.paused()?.is_some() {
        eprintln!("{}", said("act-still-paused"));
    }
    let Some(wait) = wait else {
        return Ok(0);
    };
    let words = format!("{}s", wait.as_secs());
    eprintln!(
        "{}",
        say(Msg::new("act-undo-waiting").arg("wait", words.clone()))
    );
    // A reader of its own: the daemon writes, this only polls.
    drop(store);
    let reader = open_read(path)?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        let now = reader.action(&a.id)?.map(|r| r.action);
        match now {
            Some(n) if n.state == State::Undone || n.state == State::Expired => {
                eprintln!("{}", say(Msg::new("act-undo-done").arg("id", a.id.clone())));
                return Ok(0);
            }
            Some(n) if n.state != State::Undoing => {
                return refused(
                    Msg::new("act-undo-ended")
                        .arg("id", a.id.clone())
                        .arg("state", state_word(n.state))
                        .arg(
                            "reason",
                            terminal(n.reason.as_deref().unwrap_or("-")).into_owned(),
                        ),
                );
            }
            _ => {}
        }
        if std::time::Instant::now() >= deadline {
            return refused(
                Msg::new("act-undo-timeout")
                    .arg("id", a.id.clone())
                    .arg("state", state_word(State::Undoing))
                    .arg("wait", words),
            );
        }
        std::thread::sleep(POLL);
    }
}
