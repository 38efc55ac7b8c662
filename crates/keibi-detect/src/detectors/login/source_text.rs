//! The texts of `login_source`'s findings (BruteForce, PasswordSpray,
//! SuccessfulBruteForce), written once the numbers are final.

use chrono::{DateTime, Utc};
use keibi_model::{Finding, Severity};

use super::source::Note;
use super::text::{
    names, num, plural, rate, sentences, span, still_going, user_count, users, when, when_after,
};

/// The source a finding is about, as text: its address, or for IPv6 its /64
/// (`2001:db8:1:2::/64`, see [`super::source_of`]).
fn ip_of(f: &Finding) -> String {
    if let Some(v6) = v6_source(f) {
        return v6;
    }
    f.actor.ip.map_or_else(
        || {
            let ips: Vec<String> = f.actor.ips.iter().map(ToString::to_string).collect();
            names(&ips, ips.len(), 3)
        },
        |ip| ip.to_string(),
    )
}

/// The /64 of an IPv6 finding's addresses (all in one: it is the finding's key).
fn v6_source(f: &Finding) -> Option<String> {
    let ip = f.actor.ip.or_else(|| f.actor.ips.first().copied())?;
    let text = super::source_name(super::source_of(ip));
    text.contains('/').then_some(text)
}

/// For an IPv6 source, how many of its addresses were used: one client rotating
/// through its /64 looks like many addresses and is one source.
fn rotation(f: &Finding) -> String {
    if v6_source(f).is_none() {
        return String::new();
    }
    match (f.actor.ip, f.actor.ips.len(), f.actor.ips_truncated) {
        (Some(ip), _, _) => format!("All from one address of that network, {ip}."),
        (None, n, more) => format!(
            "They came from {}{} different addresses of that /64 (listed in actor.ips{}): one IPv6 client owns a whole /64 and can change address at will, so keibi counts the network, not the address.",
            if more { "more than " } else { "" },
            num(n as u64),
            if more { ", the first 100" } else { "" }
        ),
    }
}

fn span_phrase(f: &Finding) -> String {
    let r = rate(f.count, f.first_seen, f.last_seen);
    let r = if r.is_empty() { r } else { format!(", {r}") };
    format!(
        "between {} and {} ({}{r})",
        when(f.first_seen),
        when_after(f.last_seen, f.first_seen),
        span(f.first_seen, f.last_seen)
    )
}

fn after_phrase(note: &Note) -> String {
    match &note.first_login_after {
        Some((t, user)) if note.logins_after > 1 => format!(
            "It logged in successfully as {user} at {} ({} after its failures began): assume it knows that password.",
            when(*t),
            plural(note.logins_after, "login", "logins")
        ),
        Some((t, user)) => format!(
            "It logged in successfully as {user} at {}, after failing: assume it knows that password.",
            when(*t)
        ),
        None => "No login from this address succeeded after its failures began.".to_string(),
    }
}

fn block(ip: &str) -> String {
    format!(
        "If {ip} is not one of yours, block it now: remove it from the inbound rules of the instance's security group (or add a network ACL deny rule); on a self-managed server add a pg_hba.conf `reject` line or a firewall rule. \
         If the instance need not be reachable from the Internet, make it private (`aws rds modify-db-instance --no-publicly-accessible`) and allow only your applications' security group."
    )
}

pub(super) fn brute_force(f: &mut Finding, note: Option<&Note>, end: Option<DateTime<Utc>>) {
    let default = Note::default();
    let note = note.unwrap_or(&default);
    let ip = ip_of(f);
    let inst = f.resource.id.clone();
    let known_client = note.unknown_client_failures == 0 && note.known.is_some();
    let sev = if known_client {
        3.0
    } else if note.volume || note.quick_login {
        5.0
    } else {
        3.0
    };
    f.severity = Severity::new(sev);
    f.title = match &note.first_login_after {
        Some((_, user)) if !known_client => format!(
            "Brute force on {inst} from {ip}: {}, then a login as {user}",
            plural(f.count, "failed login", "failed logins")
        ),
        _ => format!(
            "Brute force on {inst} from {ip}: {}",
            plural(f.count, "failed login", "failed logins")
        ),
    };
    let who = if f.actor.user.is_some() {
        format!("all as user {}", users(&f.actor))
    } else {
        format!("as {} users: {}", user_count(&f.actor), users(&f.actor))
    };
    let kind = if known_client {
        String::new()
    } else if note.volume {
        "Attack tools such as hydra do this; people mistyping a password and applications retrying do not fail this often.".to_string()
    } else {
        "It was a short burst, faster than a person types: the first seconds of an attack tool, or a client opening several connections at once with a wrong password.".to_string()
    };
    let probes = if note.probes > 0 {
        format!(
            "It also opened {} that never authenticated.",
            plural(note.probes, "connection", "connections")
        )
    } else {
        String::new()
    };
    let known = match &note.known {
        Some((user, n)) if known_client => format!(
            "{ip} had logged in successfully as {user} {} before these failures: it is most likely one of your application servers still using an old password (after a rotation), not an attacker.",
            plural(u64::from(*n), "time", "times")
        ),
        _ => String::new(),
    };
    let after = if known_client {
        String::new()
    } else {
        after_phrase(note)
    };
    f.description = sentences(&[
        format!(
            "{ip} failed to log in to {inst} {} {}, {who}.",
            plural(f.count, "time", "times"),
            span_phrase(f)
        ),
        rotation(f),
        kind,
        probes,
        known,
        after,
        still_going(f.last_seen, end, "failure"),
    ]);
    let targets = users(&f.actor);
    let rotate = match &note.first_login_after {
        Some((_, user)) if !known_client => format!(
            "Change the password of {user} now (a login succeeded) and review what it did from {ip}; check that the password of {targets} is long and random."
        ),
        _ => format!("Check that the password of {targets} is long and random; change it if it may be weak."),
    };
    let own = format!("If {ip} is your own (an application with an out-of-date password), update the password it uses and add the address to a --trusted-list.");
    f.remediation = if known_client {
        sentences(&[own, block(&ip)])
    } else {
        sentences(&[block(&ip), rotate, own])
    };
    f.mitre = vec!["T1110.001".to_string()];
}

pub(super) fn spray(f: &mut Finding, note: Option<&Note>, end: Option<DateTime<Utc>>) {
    let default = Note::default();
    let note = note.unwrap_or(&default);
    let ip = ip_of(f);
    let inst = f.resource.id.clone();
    let n = user_count(&f.actor);
    f.title = format!("Password spray on {inst} from {ip}: {n} user names tried");
    let missing = if note.missing_users > 0 {
        format!(
            "The server said {} of these names do not exist: it is guessing account names.",
            num(note.missing_users)
        )
    } else {
        String::new()
    };
    f.description = sentences(&[
        format!(
            "{ip} tried {n} different user names on {inst} with {} {}: {}.",
            plural(f.count, "failed login", "failed logins"),
            span_phrase(f),
            users(&f.actor)
        ),
        rotation(f),
        "Few attempts per name is password spraying: a few common passwords tried against many accounts, which stays under per-account lockout policies.".to_string(),
        missing,
        after_phrase(note),
        still_going(f.last_seen, end, "failure"),
    ]);
    f.remediation = sentences(&[
        block(&ip),
        "Check that none of the users tried has a default or weak password, drop accounts nobody uses, and do not let built-in administrator accounts (postgres, root, admin) log in from the network.".to_string(),
    ]);
    f.mitre = vec!["T1110.003".to_string()];
}

pub(super) fn successful(f: &mut Finding, note: Option<&Note>) {
    let default = Note::default();
    let note = note.unwrap_or(&default);
    let ip = ip_of(f);
    let inst = f.resource.id.clone();
    let user = users(&f.actor);
    f.title = format!("Login as {user} on {inst} from {ip} after a brute force");
    let since = note
        .episode_start
        .map(|t| format!(" since {}", when(t)))
        .unwrap_or_default();
    let again = if f.count > 1 {
        format!(
            "It logged in as {user} {} in all, the last at {}.",
            plural(f.count, "time", "times"),
            when(f.last_seen)
        )
    } else {
        String::new()
    };
    f.description = sentences(&[
        format!(
            "{ip} logged in to {inst} as {user} at {} after {}{since} ({}).",
            when(f.first_seen),
            plural(note.failures_before, "failed login", "failed logins"),
            if note.user_failures >= note.failures_before {
                format!("all of them as {user}")
            } else {
                format!("{} of them as {user}", num(note.user_failures))
            }
        ),
        rotation(f),
        format!("A password found by guessing is the likeliest explanation: treat the password of {user} as known to whoever controls {ip}."),
        again,
    ]);
    let (change, kill) = if f.resource.engine == Some(keibi_model::Engine::Mysql) {
        (
            format!("ALTER USER '{user}'@'%' IDENTIFIED BY '<new password>'"),
            "KILL <id> for its rows in SHOW PROCESSLIST".to_string(),
        )
    } else {
        (
            format!("ALTER ROLE \"{user}\" PASSWORD '<new password>'"),
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{user}' AND client_addr {} '{ip}'",
                if ip.contains('/') { "<<" } else { "=" }
            ),
        )
    };
    f.remediation = sentences(&[
        format!("Now: change the password of {user} ({change}), end its sessions from {ip} ({kill}), and block {ip} in the instance's security group or firewall."),
        format!("Then review what {user} did from {ip} after {} (pgaudit or server_audit statements): new users, changed privileges, data read or exported.", when(f.first_seen)),
        "Make the instance private if it need not be reachable from the Internet, and give every database user a long random password.".to_string(),
    ]);
    f.mitre = vec!["T1110.001".to_string()];
}
