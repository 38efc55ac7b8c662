//! The texts of `login_source`'s findings (BruteForce, PasswordSpray,
//! SuccessfulBruteForce), written once the numbers are final.

use chrono::{DateTime, Utc};
use keibi_model::{Finding, FindingText, Msg, Severity};

use super::source::Note;
use super::text::{
    at, at_after, names, rate_arg, span_arg, still_failing, user_count_arg, users, users_arg,
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
fn rotation(f: &Finding) -> Option<Msg> {
    v6_source(f)?;
    Some(
        match (f.actor.ip, f.actor.ips.len(), f.actor.ips_truncated) {
            (Some(ip), _, _) => Msg::new("login-rotation-one").arg("ip", ip.to_string()),
            (None, n, more) => Msg::new("login-rotation-many")
                .arg("n", n)
                .arg("more", if more { "yes" } else { "no" }),
        },
    )
}

fn span_phrase(f: &Finding) -> Msg {
    Msg::new("login-between")
        .arg("first", at(f.first_seen))
        .arg("last", at_after(f.last_seen, f.first_seen))
        .arg("span", span_arg(f.first_seen, f.last_seen))
        .arg("rate", rate_arg(f.count, f.first_seen, f.last_seen))
}

fn after_phrase(note: &Note) -> Msg {
    match &note.first_login_after {
        Some((t, user)) if note.logins_after > 1 => Msg::new("login-after-many")
            .arg("user", user)
            .arg("at", at(*t))
            .arg("logins", note.logins_after),
        Some((t, user)) => Msg::new("login-after-one")
            .arg("user", user)
            .arg("at", at(*t)),
        None => Msg::new("login-after-none"),
    }
}

/// Block the source, then make the instance private: two steps.
fn block(ip: &str) -> [Msg; 2] {
    [
        Msg::new("login-block").arg("ip", ip),
        Msg::new("login-make-private"),
    ]
}

fn failed_logins(n: u64) -> Msg {
    Msg::new("failed-logins").arg("count", n)
}

/// Failures from a private address for one existing user that never came in a fast
/// form: a pool or health check inside the network retrying an old password.
fn steady_inside(note: &Note, one_user: bool) -> bool {
    !note.public && !note.fast && one_user && note.missing_users == 0
}

/// How bad a BruteForce is (`docs/detection-thresholds.md`). Medium: volume, a login
/// right after a burst from an address that had not logged in here before, or a
/// burst from a public address that never logged in here;
/// +0.5 from a public address when the server said a tried name does not exist.
/// Low: a known client of every user it failed for; a burst from a private address
/// or from one that logged in here before; volume from a private address for one
/// existing user at a steady rate (no fast form met: a pool or a health check).
fn brute_force_severity(note: &Note, known_client: bool, one_user: bool) -> f64 {
    if known_client {
        return 3.0;
    }
    let enumeration = if note.public && note.missing_users > 0 {
        0.5
    } else {
        0.0
    };
    let quick = note.quick_login && !note.seen;
    if (note.volume && !steady_inside(note, one_user)) || quick || (note.public && !note.seen) {
        5.0 + enumeration
    } else {
        3.0
    }
}

pub(super) fn brute_force(f: &mut Finding, note: Option<&Note>, end: Option<DateTime<Utc>>) {
    let default = Note::default();
    let note = note.unwrap_or(&default);
    let ip = ip_of(f);
    let inst = f.resource.id.clone();
    let known_client = note.unknown_client_failures == 0 && note.known.is_some();
    f.severity = Severity::new(brute_force_severity(
        note,
        known_client,
        f.actor.user.is_some(),
    ));
    let title = match &note.first_login_after {
        Some((_, user)) if !known_client => Msg::new("brute-force-title-login").arg("user", user),
        _ => Msg::new("brute-force-title"),
    }
    .arg("instance", &inst)
    .arg("ip", &ip)
    .arg("failures", failed_logins(f.count));
    let who = if f.actor.user.is_some() {
        Msg::new("brute-force-who-one").arg("user", users_arg(&f.actor))
    } else {
        Msg::new("brute-force-who-many")
            .arg("n", user_count_arg(&f.actor))
            .arg("users", users_arg(&f.actor))
    };
    let mut description = vec![Msg::new("brute-force-failed")
        .arg("ip", &ip)
        .arg("instance", &inst)
        .arg("count", f.count)
        .arg("between", span_phrase(f))
        .arg("who", who)];
    description.extend(rotation(f));
    if !known_client {
        description.push(Msg::new(if note.volume {
            "brute-force-volume"
        } else {
            "brute-force-burst"
        }));
    }
    if !known_client && steady_inside(note, f.actor.user.is_some()) && note.volume {
        description.push(Msg::new("brute-force-steady"));
    }
    if !known_client && note.seen && !note.volume {
        description.push(Msg::new("brute-force-seen").arg("ip", &ip));
    }
    if !known_client && note.public && !note.seen && !note.volume {
        description.push(Msg::new("brute-force-unseen").arg("ip", &ip));
    }
    if note.missing_users > 0 {
        description.push(Msg::new("brute-force-missing").arg("missing", note.missing_users));
    }
    if note.probes > 0 {
        description.push(Msg::new("brute-force-probes").arg("probes", note.probes));
    }
    match &note.known {
        Some((user, n)) if known_client => description.push(
            Msg::new("brute-force-known")
                .arg("ip", &ip)
                .arg("user", user)
                .arg("times", u64::from(*n)),
        ),
        _ => {}
    }
    if !known_client {
        description.push(after_phrase(note));
    }
    description.extend(still_failing(f.last_seen, end));
    let targets = users_arg(&f.actor);
    let rotate = match &note.first_login_after {
        Some((_, user)) if !known_client => Msg::new("brute-force-rotate-login")
            .arg("user", user)
            .arg("ip", &ip)
            .arg("targets", targets),
        _ => Msg::new("brute-force-rotate").arg("targets", targets),
    };
    let own = Msg::new("brute-force-own").arg("ip", &ip);
    let remediation = if known_client {
        let mut r = vec![own];
        r.extend(block(&ip));
        r
    } else {
        let mut r = block(&ip).to_vec();
        r.extend([rotate, own]);
        r
    };
    crate::text::set(
        f,
        FindingText {
            title: Some(title),
            description,
            remediation,
        },
    );
    f.mitre = vec!["T1110.001".to_string()];
}

pub(super) fn spray(f: &mut Finding, note: Option<&Note>, end: Option<DateTime<Utc>>) {
    let default = Note::default();
    let note = note.unwrap_or(&default);
    let ip = ip_of(f);
    let inst = f.resource.id.clone();
    let n = user_count_arg(&f.actor);
    let title = Msg::new("spray-title")
        .arg("instance", &inst)
        .arg("ip", &ip)
        .arg("n", n.clone());
    let mut description = vec![Msg::new("spray-tried")
        .arg("ip", &ip)
        .arg("n", n)
        .arg("instance", &inst)
        .arg("failures", failed_logins(f.count))
        .arg("between", span_phrase(f))
        .arg("users", users_arg(&f.actor))];
    description.extend(rotation(f));
    description.push(Msg::new("spray-explain"));
    if note.missing_users > 0 {
        description.push(Msg::new("spray-missing").arg("missing", note.missing_users));
    }
    description.push(after_phrase(note));
    description.extend(still_failing(f.last_seen, end));
    let mut remediation = block(&ip).to_vec();
    remediation.push(Msg::new("spray-accounts"));
    crate::text::set(
        f,
        FindingText {
            title: Some(title),
            description,
            remediation,
        },
    );
    f.mitre = vec!["T1110.003".to_string()];
}

pub(super) fn successful(f: &mut Finding, note: Option<&Note>) {
    let default = Note::default();
    let note = note.unwrap_or(&default);
    let ip = ip_of(f);
    let inst = f.resource.id.clone();
    // The one user of this finding (its key); a name, so SQL below can quote it.
    let user = users(&f.actor);
    let title = Msg::new("success-title")
        .arg("user", &user)
        .arg("instance", &inst)
        .arg("ip", &ip);
    let since = match note.episode_start {
        Some(t) => Msg::new("success-since").arg("at", at(t)),
        None => Msg::new("nothing"),
    };
    let which = if note.user_failures >= note.failures_before {
        Msg::new("success-all-as").arg("user", &user)
    } else {
        Msg::new("success-some-as")
            .arg("n", note.user_failures)
            .arg("user", &user)
    };
    let mut description = vec![Msg::new("success-login")
        .arg("ip", &ip)
        .arg("instance", &inst)
        .arg("user", &user)
        .arg("at", at(f.first_seen))
        .arg("failures", failed_logins(note.failures_before))
        .arg("since", since)
        .arg("which", which)];
    description.extend(rotation(f));
    description.push(Msg::new("success-known").arg("user", &user).arg("ip", &ip));
    if f.count > 1 {
        description.push(
            Msg::new("success-again")
                .arg("user", &user)
                .arg("count", f.count)
                .arg("last", at(f.last_seen)),
        );
    }
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
    let remediation = vec![
        Msg::new("success-now")
            .arg("user", &user)
            .arg("change", change)
            .arg("ip", &ip)
            .arg("kill", kill),
        Msg::new("success-review")
            .arg("user", &user)
            .arg("ip", &ip)
            .arg("at", at(f.first_seen)),
        Msg::new("success-harden"),
    ];
    crate::text::set(
        f,
        FindingText {
            title: Some(title),
            description,
            remediation,
        },
    );
    f.mitre = vec!["T1110.001".to_string()];
}
