//! `keibi run`'s responder: the executors built from the `respond` settings, the
//! policy with the allowlists the settings imply (`lists.trusted`), and the
//! responder's notes in the daemon's log.

use keibi_engine::responder::{self, Limits, RespondNote, Responder};
use keibi_engine::settings::Settings;
use keibi_i18n::Msg;
use keibi_respond::{Action, Executor};
use serde_json::json;

use super::run::log_fields;
use crate::locale::{library_text, say};

/// The responder of a daemon (its thread), or of `--once` (run after the pass).
pub enum Responding {
    Thread(responder::Running),
    Once(Box<Responder>, Box<dyn FnMut(RespondNote) + Send>),
}

impl Responding {
    /// Stops the thread, or runs the `--once` responder until nothing is due.
    pub fn finish(self) {
        match self {
            Responding::Thread(t) => t.stop(),
            Responding::Once(mut r, mut note) => {
                if let Err(e) = r.drain(10_000, &mut note) {
                    note(RespondNote::Store(e.to_string()));
                }
            }
        }
    }
}

/// Starts the responder when `respond.enabled`; an executor whose settings cannot
/// work is an error now, not at the first finding.
pub fn start(
    settings: &Settings,
    once: bool,
    metrics: &keibi_engine::metrics::Shared,
) -> Result<Option<Responding>, String> {
    let r = &settings.respond;
    if !r.enabled {
        return Ok(None);
    }
    let mut principals = Vec::new();
    let executors = executors(settings, &mut principals)?;
    let trusted = trusted_networks(settings)?;
    let policy = r.policy(&trusted, &principals);
    let store =
        keibi_store::Store::open(&settings.store.path).map_err(|e| library_text(&e.to_string()))?;
    let json = settings.log.format == keibi_engine::settings::LogFormat::Json;
    let names: Vec<String> = executors.iter().map(|e| e.name().to_string()).collect();
    log_fields(
        json,
        "info",
        &say(Msg::new("respond-run-started")
            .arg("rules", r.rules.len() as u64)
            .arg("n", names.len() as u64)
            .arg("names", names.join(", "))),
        &[("executors", json!(names)), ("rules", json!(r.rules.len()))],
    );
    let responder = Responder::new(
        store,
        policy,
        Limits {
            enabled: true,
            max_per_hour: r.max_per_hour,
        },
        executors,
    )
    .with_metrics(metrics.clone());
    let note = move |n: RespondNote| note(json, n);
    if once {
        return Ok(Some(Responding::Once(Box::new(responder), Box::new(note))));
    }
    responder::Running::start(responder, Box::new(note))
        .map(|t| Some(Responding::Thread(t)))
        .map_err(|e| e.to_string())
}

/// The executors the settings configure, in the order they are asked.
fn executors(
    settings: &Settings,
    principals: &mut Vec<String>,
) -> Result<Vec<Box<dyn Executor>>, String> {
    let r = &settings.respond;
    let mut out: Vec<Box<dyn Executor>> = Vec::new();
    let _ = &principals;
    if !r.databases.is_empty() {
        let mut dbs = Vec::new();
        for d in &r.databases {
            let password = match &d.password {
                Some(s) => Some(
                    s.reveal()
                        .map_err(|e| format!("respond.databases ({}): {e}", d.instance))?,
                ),
                None => None,
            };
            dbs.push(keibi_dbprobe::respond::Database {
                instance: d.instance.clone(),
                url: d.url.clone(),
                password,
            });
        }
        let db = keibi_dbprobe::respond::DbExecutor::new(dbs)
            .map_err(|e| library_text(&e.to_string()))?;
        out.push(Box::new(db));
    }
    if let Some(n) = keibi_engine::respond::nft::Nftables::from_settings(&r.nftables)
        .map_err(|e| library_text(&e.to_string()))?
    {
        out.push(Box::new(n));
    }
    // Blocks go to the host's nftables when it is on (a keibi guarding the host it
    // runs on), else to the network ACLs of the databases' subnets.
    if r.aws.enabled {
        out.extend(
            crate::aws::respond_executors(&r.aws, &settings.lists.trusted_accounts)
                .map_err(|e| library_text(&e))?,
        );
    }
    if !r.webhooks.is_empty() {
        let w = keibi_engine::respond::webhook::Webhooks::from_settings(&r.webhooks)
            .map_err(|e| library_text(&e.to_string()))?;
        out.push(Box::new(w));
    }
    if !r.exec.is_empty() {
        out.push(Box::new(
            keibi_engine::respond::exec::ExecExecutor::from_settings(&r.exec),
        ));
    }
    Ok(out)
}

/// The networks of `lists.trusted` files (one address or CIDR a line; `#`
/// comments), which no block ever covers.
fn trusted_networks(settings: &Settings) -> Result<Vec<ipnet::IpNet>, String> {
    let mut out = Vec::new();
    for path in &settings.lists.trusted {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for line in text.lines() {
            let t = line.split('#').next().unwrap_or("").trim();
            let t = t.split_whitespace().next().unwrap_or("");
            if let Ok(n) = t.parse::<ipnet::IpNet>() {
                out.push(n);
            } else if let Ok(a) = t.parse::<std::net::IpAddr>() {
                out.push(ipnet::IpNet::from(a));
            }
        }
    }
    Ok(out)
}

fn words(a: &Action) -> String {
    a.target.key()
}

fn note(json: bool, n: RespondNote) {
    match n {
        RespondNote::Planned { action } => log_fields(
            json,
            "info",
            &say(match &action.reason {
                Some(r) => Msg::new("respond-run-planned-why").arg("reason", r),
                None => Msg::new("respond-run-planned"),
            }
            .arg("id", &action.id)
            .arg("what", words(&action))
            .arg("state", action.state.as_str())
            .arg("rule", &action.rule)),
            &[
                ("action_id", json!(action.id)),
                ("finding_id", json!(action.finding_id)),
                ("state", json!(action.state)),
                ("target", json!(action.target)),
            ],
        ),
        RespondNote::Moved {
            action,
            from,
            detail,
        } => log_fields(
            json,
            if action.state == keibi_respond::State::Failed {
                "warn"
            } else {
                "info"
            },
            &say(match &detail {
                Some(d) => Msg::new("respond-run-moved-why").arg("detail", d),
                None => Msg::new("respond-run-moved"),
            }
            .arg("id", &action.id)
            .arg("what", words(&action))
            .arg("from", from.as_str())
            .arg("to", action.state.as_str())),
            &[
                ("action_id", json!(action.id)),
                ("finding_id", json!(action.finding_id)),
                ("from", json!(from)),
                ("state", json!(action.state)),
                ("detail", json!(detail)),
            ],
        ),
        RespondNote::Store(reason) => log_fields(
            json,
            "error",
            &say(Msg::new("respond-run-store").arg("reason", library_text(&reason))),
            &[],
        ),
    }
}
