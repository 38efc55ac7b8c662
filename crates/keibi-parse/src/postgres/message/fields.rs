//! Reading the facts out of one PostgreSQL message's text: the client, user, database
//! and method of connection and login lines, why a login failed, probes that never
//! reached authentication, and the SQL of statement lines. Split from `message.rs`,
//! which keeps the report assembly and the per-process sessions.

use std::borrow::Cow;

use keibi_model::{Action, CompactString, Event, Statement};

use super::{find, rfind};
use crate::postgres::pgaudit;

pub(super) fn set_code(e: &mut Event, code: &str) {
    if e.error_code.is_none() {
        e.error_code = Some(code.into());
    }
}

/// `host=H port=P`, or `host=[local]` for a Unix socket.
pub(super) fn received(e: &mut Event, rest: &str) {
    let Some(rest) = rest.strip_prefix("host=") else {
        return;
    };
    let (host, port) = split_at_key(rest, " port=");
    set_client(e, host, port);
}

/// Sets the client from the message when the prefix (or column) gave none: they name
/// the same client, and parsing it again costs on every connection line.
fn set_client(e: &mut Event, host: &str, port: &str) {
    if e.client_ip.is_none() && e.client_host.is_none() {
        e.set_client(host);
    }
    if e.client_port.is_none() {
        e.client_port = port.trim().parse().ok();
    }
}

/// Sets a field from the message unless it is empty or the field already holds it (the
/// prefix usually gave it: this saves an allocation per event).
fn put(field: &mut Option<CompactString>, v: &str) {
    if !v.is_empty() && field.as_deref() != Some(v) {
        *field = Some(v.into());
    }
}

/// `identity="X" method=M (file:line)`: the method word.
pub(super) fn authenticated_method(rest: &str) -> Option<&str> {
    // The identity may be anything; the real `method=` is the last one.
    let i = rfind(rest, " method=")?;
    let m = &rest[i + 8..];
    let m = m.split(' ').next().unwrap_or(m);
    (!m.is_empty()).then_some(m)
}

/// `user=U database=D application_name=A SSL enabled (...)`, each after the user optional.
pub(super) fn authorized_fields(e: &mut Event, rest: &str) {
    let mut body = rest;
    // application_name is the client's choice and comes last: the real TLS and GSS
    // parts follow it, so they are the last occurrences.
    if let Some(i) = rfind(body, " GSS (authenticated=") {
        body = &body[..i];
    }
    let tls = match rfind(body, " SSL enabled (") {
        Some(i) => {
            body = &body[..i];
            true
        }
        None => false,
    };
    e.tls = Some(tls);
    let mut user = body.strip_prefix("user=").unwrap_or(body);
    if let Some(i) = find(user, " application_name=") {
        put(&mut e.application, &user[i + 18..]);
        user = &user[..i];
    }
    if let Some(i) = find(user, " database=") {
        put(&mut e.database, &user[i + 10..]);
        user = &user[..i];
    }
    put(&mut e.user, user);
}

/// `H:MM:SS.mmm user=U database=D host=H port=P`.
pub(super) fn disconnection(e: &mut Event, rest: &str) {
    let Some(i) = find(rest, " user=") else {
        return;
    };
    let rest = &rest[i + 6..];
    let (user, rest) = split_at_key(rest, " database=");
    let (db, rest) = split_at_key(rest, " host=");
    let (host, port) = split_at_key(rest, " port=");
    put(&mut e.user, user);
    put(&mut e.database, db);
    set_client(e, host, port);
}

/// The text before `key` and the text after it (empty when `key` is absent).
fn split_at_key<'a>(s: &'a str, key: &str) -> (&'a str, &'a str) {
    match find(s, key) {
        Some(i) => (&s[..i], &s[i + key.len()..]),
        None => (s, ""),
    }
}

/// The text between `key` and the next `end` (or the end of `s`).
fn between<'a>(s: &'a str, key: &str, end: &str) -> Option<&'a str> {
    let i = find(s, key)? + key.len();
    let rest = &s[i..];
    Some(match find(rest, end) {
        Some(j) => &rest[..j],
        None => rest,
    })
}

const AUTH_FAILED: &str = "authentication failed for user \"";

/// FATAL messages that end a login attempt.
pub(super) fn login_failure(e: &mut Event, msg: &str) -> Option<Action> {
    if let Some(i) = find(msg, AUTH_FAILED) {
        let word = msg[..i].trim_end();
        if word.contains(' ') {
            return None;
        }
        let rest = &msg[i + AUTH_FAILED.len()..];
        // The user name is the client's and may hold quotes: it ends at the last one.
        let user = rest.rfind('"').map_or(rest, |j| &rest[..j]);
        put(&mut e.user, user);
        let method: Cow<'_, str> = match word {
            // md5, scram-sha-256 and password fail alike; the DETAIL may tell which.
            "password" => e
                .detail
                .as_deref()
                .and_then(hba_method)
                .unwrap_or("password")
                .into(),
            "\"trust\"" => "trust".into(),
            "GSSAPI" => "gss".into(),
            "certificate" => "cert".into(),
            "" if rest.ends_with(": host rejected") => "reject".into(),
            "" => "".into(),
            w => w.trim_matches('"').to_ascii_lowercase().into(),
        };
        set_code(e, if word == "password" { "28P01" } else { "28000" });
        if !method.is_empty() {
            e.auth_method = Some(method.into());
        }
        return Some(Action::LoginFailure);
    }
    let hba = msg
        .strip_prefix("no pg_hba.conf entry for ")
        .or_else(|| msg.strip_prefix("pg_hba.conf rejects "));
    if let Some(rest) = hba {
        if let Some(host) = between(rest, "host \"", "\"") {
            set_client(e, host, "");
        }
        if let Some(u) = between(rest, ", user \"", "\", ") {
            put(&mut e.user, u);
        }
        if let Some(d) = between(rest, ", database \"", "\", ") {
            put(&mut e.database, d);
        }
        if msg.starts_with("pg_hba.conf") {
            e.auth_method = Some("reject".into());
        }
        set_code(e, "28000");
        return Some(Action::LoginFailure);
    }
    if let Some(name) = quoted_subject(msg, "role \"", "\" does not exist") {
        put(&mut e.user, name);
        set_code(e, "28000");
        return Some(Action::LoginFailure);
    }
    if let Some(name) = quoted_subject(msg, "role \"", "\" is not permitted to log in") {
        put(&mut e.user, name);
        set_code(e, "28000");
        return Some(Action::LoginFailure);
    }
    if let Some(name) = quoted_subject(msg, "database \"", "\" does not exist") {
        put(&mut e.database, name);
        set_code(e, "3D000");
        return Some(Action::LoginFailure);
    }
    if let Some(name) = msg
        .strip_prefix("permission denied for database \"")
        .and_then(|r| r.strip_suffix('"'))
    {
        put(&mut e.database, name);
        set_code(e, "42501");
        return Some(Action::LoginFailure);
    }
    None
}

fn quoted_subject<'a>(msg: &'a str, start: &str, end: &str) -> Option<&'a str> {
    msg.strip_prefix(start)?.strip_suffix(end)
}

/// The method of the pg_hba.conf line a failed password login matched, from its DETAIL
/// (`Connection matched pg_hba.conf line 87: "host all all 127.0.0.1/32 scram-sha-256"`),
/// so `password` failures say `md5` or `scram-sha-256` when the log tells.
fn hba_method(detail: &str) -> Option<&'static str> {
    let i = find(detail, "Connection matched ")?;
    let rest = &detail[i..];
    let q = find(rest, ": \"")? + 3;
    let line = &rest[q..];
    let line = &line[..line.find('"').unwrap_or(line.len())];
    line.split_ascii_whitespace()
        .rev()
        .filter(|w| !w.contains('='))
        .find_map(|w| match w {
            "scram-sha-256" => Some("scram-sha-256"),
            "md5" => Some("md5"),
            "password" => Some("password"),
            _ => None,
        })
}

/// Connections that never reached authentication: SQLSTATE when `msg` is one.
/// `pre_auth` says whether the process has not logged in (for messages that can also
/// end an established session).
pub(super) fn probe_code(msg: &str, pre_auth: impl FnOnce() -> bool) -> Option<&'static str> {
    if msg == "incomplete startup packet"
        || msg.starts_with("invalid length of startup packet")
        || msg.starts_with("invalid startup packet layout")
        || msg.starts_with("received direct SSL connection request without")
    {
        return Some("08P01");
    }
    if msg.starts_with("unsupported frontend protocol ") {
        return Some("0A000");
    }
    if msg.starts_with("no PostgreSQL user name specified in startup packet") {
        return Some("28000");
    }
    if msg.starts_with("could not receive data from client: ") && pre_auth() {
        return Some("08006");
    }
    if msg.starts_with("could not accept SSL connection: ")
        || msg.starts_with("could not accept GSSAPI security context")
    {
        return Some("08P01");
    }
    None
}

/// Statements: pgaudit `AUDIT:` records and `log_statement`/`log_min_duration_statement`
/// lines. Sets `e.statement` when `msg` is one.
pub(super) fn statement(e: &mut Event, msg: &str) {
    if let Some(csv) = msg.strip_prefix("AUDIT: ") {
        if let Some(st) = pgaudit::parse(csv) {
            e.statement = Some(Box::new(st));
        }
        return;
    }
    let mut rest = msg;
    if let Some(d) = rest.strip_prefix("duration: ") {
        // `duration: 0.052 ms  statement: ...`; a bare duration (log_duration) is not one.
        match find(d, "  ") {
            Some(i) => rest = &d[i + 2..],
            None => return,
        }
    }
    let sql = if let Some(sql) = rest.strip_prefix("statement: ") {
        sql
    } else if let Some(named) = rest.strip_prefix("execute ") {
        match find(named, ": ") {
            Some(i) => &named[i + 2..],
            None => return,
        }
    } else {
        return;
    };
    e.statement = Some(Box::new(Statement::from_sql(sql)));
}
