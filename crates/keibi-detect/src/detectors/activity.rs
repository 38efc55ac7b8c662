//! Database activity that no single statement shows: many tables destroyed in a
//! short time ([`MassDestruction`]), the extortion pattern of data destroyed and a
//! ransom note left ([`RansomNote`]), and a burst of catalog reads by a client that
//! does not usually read them ([`SchemaEnumeration`]). What one statement shows
//! (a GRANT, a COPY ... PROGRAM) is a Sigma rule under `rules/database/`.
//!
//! All three read statements from any log that has them (pgaudit, `log_statement`,
//! server_audit QUERY and TABLE events, the general log). Their state is per instance
//! and actor, capped in size and forgotten by event time (never by the clock);
//! `docs/rules.md` and the detectors' own docs say what each keeps.

mod destruction;
mod enumeration;
mod oversized;
mod ransom;
mod sqltext;

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use keibi_model::{Action, Arg, CompactString, Event, Finding, Msg, SourceKind};

pub use destruction::MassDestruction;
pub use enumeration::{catalog_mask, catalog_names, catalogs, episode, SchemaEnumeration};
pub use oversized::OversizedStatement;
pub use ransom::RansomNote;

use crate::config::ActivityConfig;

/// Longest window a setting may ask for (ten years), so time arithmetic stays in range.
const MAX_WINDOW_SECS: u64 = 315_576_000;

/// A window from a setting in seconds.
fn secs(s: u64) -> Duration {
    Duration::seconds(s.min(MAX_WINDOW_SECS) as i64)
}

/// `t + d`, saturating at the end of time: log timestamps are written by whoever
/// writes the logs, and chrono panics on overflow.
fn plus(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A statement these detectors read: executed (PostgreSQL logs a failed one again as
/// an ERROR, which is not a `statement` event; MySQL's audit gives it a retcode), by a
/// user that is not an ignored service account (see [`ignored`]).
fn statement_of<'e>(ev: &'e Event, cfg: &ActivityConfig) -> Option<&'e keibi_model::Statement> {
    if ev.action != Action::Statement || ev.error_code.is_some() {
        return None;
    }
    if ignored(ev, cfg) {
        return None;
    }
    ev.statement.as_deref()
}

/// Whether the event is one of `ignore_users` (RDS's own `rdsadmin`) as the log proves
/// it: that exact name, case included, over the local socket (`[local]` for
/// PostgreSQL, `localhost` for MySQL), and no sign of a forged line. RDS's agent runs
/// on the instance; a role named `rdsadmin@x`, or `rdsadmin` from a network address,
/// is anybody.
pub(crate) fn ignored(ev: &Event, cfg: &ActivityConfig) -> bool {
    let Some(u) = ev.user.as_deref() else {
        return false;
    };
    let local = ev.client_ip.is_none()
        && matches!(ev.client_host.as_deref(), Some("[local]" | "localhost"));
    local && ev.injection.is_none() && cfg.ignore_users.iter().any(|i| i == u)
}

/// Who did it, for keys and texts: the user, else the client, else the session.
fn actor_of(ev: &Event) -> String {
    if let Some(u) = &ev.user {
        return u.to_string();
    }
    if let Some(ip) = ev.client_ip {
        return ip.to_string();
    }
    if let Some(h) = &ev.client_host {
        return h.to_string();
    }
    match &ev.session_id {
        Some(s) => format!("session {s}"),
        None => "-".to_string(),
    }
}

/// What a finding needs of an event that is kept until later (a few hundred bytes,
/// not the statement): enough to count it, name its actor and cite its line.
#[derive(Debug, Clone)]
struct Mark {
    time: DateTime<Utc>,
    source: SourceKind,
    file: Arc<str>,
    line: u64,
    instance: Option<CompactString>,
    client_ip: Option<IpAddr>,
    user: Option<CompactString>,
    application: Option<CompactString>,
}

impl Mark {
    fn of(ev: &Event) -> Mark {
        Mark {
            time: ev.time,
            source: ev.source,
            file: ev.file.clone(),
            line: ev.line,
            instance: ev.instance.clone(),
            client_ip: ev.client_ip,
            user: ev.user.clone(),
            application: ev.application.clone(),
        }
    }

    /// Counts the marked event into a finding.
    fn absorb_into(&self, f: &mut Finding) {
        let mut e = Event::new(
            self.time,
            self.source,
            self.file.clone(),
            self.line,
            Action::Statement,
        );
        e.instance.clone_from(&self.instance);
        e.client_ip = self.client_ip;
        e.user.clone_from(&self.user);
        e.application.clone_from(&self.application);
        f.absorb(&e);
    }
}

/// A bare event for [`db_resource`].
fn mark_event(m: &Mark) -> Event {
    let mut e = Event::new(m.time, m.source, m.file.clone(), m.line, Action::Statement);
    e.instance.clone_from(&m.instance);
    e
}

/// A tagged name (`t:orders`, `db:shop`) as a person reads it (`orders`, `database
/// shop`, `データベース shop`).
fn name_msg(tagged: &str) -> Msg {
    match tagged.split_once(':') {
        Some(("db", n)) => Msg::new("act-database").arg("name", n),
        Some((_, n)) => Msg::new("act-name").arg("name", n),
        None => Msg::new("act-name").arg("name", tagged),
    }
}

/// `id-pg` or `id-mysql` by the finding's engine: the same English, the Japanese gives
/// that engine's exact command (PostgreSQL when the engine is not known).
fn engine_msg(id: &str, f: &Finding) -> Msg {
    let engine = match f.resource.engine {
        Some(keibi_model::Engine::Mysql) => "mysql",
        _ => "pg",
    };
    Msg::new(&format!("{id}-{engine}"))
}

/// At most `max` of `names`, then how many more: `a, b, c and 4 more`.
fn names_arg(names: impl IntoIterator<Item = Msg>, total: usize, max: usize) -> Arg {
    let shown: Vec<Msg> = names.into_iter().take(max).collect();
    let n = shown.len();
    let list = Arg::Join(shown);
    if total > n {
        Msg::new("list-more")
            .arg("shown", list)
            .arg("more", (total - n).to_string())
            .into()
    } else {
        list
    }
}

/// Plain names (catalog tables, users) as messages for [`names_arg`] or a join.
fn plain_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Msg> {
    names
        .into_iter()
        .map(|n| Msg::new("act-name").arg("name", n))
        .collect()
}

/// The `--restore-time` of `aws rds restore-db-instance-to-point-in-time`: one second
/// before `t`, in UTC as the CLI wants it.
fn restore_time(t: DateTime<Utc>) -> String {
    let before = t
        .checked_sub_signed(Duration::seconds(1))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    before.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod enumeration_tests;
#[cfg(test)]
mod rule_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_i18n;
