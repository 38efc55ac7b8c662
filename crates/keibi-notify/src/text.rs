//! The words every channel shares: a notice as [`Facts`] (headline, what changed,
//! labelled what/where/who lines, description, remediation steps, link), in the
//! channel's locale, and the helpers that make attacker-written text safe to cut.
//!
//! Facts are plain text, not yet escaped: each channel escapes them for its medium
//! (Slack mrkdwn, Teams/Chatwork markup, HTML, JSON) as it builds its payload.

use keibi_i18n::{Arg, Locale, Msg};
use keibi_model::{Finding, SeverityLabel};
use keibi_respond::{Action, Mode, State, Target};

use crate::notice::{Notice, NoticeKind};

/// A notice in words, ready for a channel to lay out and escape.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// The finding's title in the locale, prefixed for a test (`[TEST]`).
    pub headline: String,
    pub label: SeverityLabel,
    /// The label in the locale (`High`, `高`).
    pub label_text: String,
    /// `7.5`.
    pub severity: String,
    /// Why people hear of it now (`New finding`, `Severity rose from Medium to High`,
    /// `Still going: 1,240 attempts since 03:10 from 3 addresses`, `Resolved`).
    pub change: String,
    /// Labelled lines: type, resource, actor, when, count.
    pub lines: Vec<(String, String)>,
    pub description: String,
    /// Remediation steps, one per entry.
    pub steps: Vec<String>,
    /// The finding's page on the dashboard, when `dashboard_url` is set.
    pub link: Option<String>,
    pub id: String,
}

/// Channel-independent settings that shape the words.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Style {
    pub locale: Locale,
    /// The dashboard's base URL (`https://keibi.example.com`): links go to
    /// `{dashboard_url}/findings/{id}`.
    pub dashboard_url: Option<String>,
}

/// The colour of a severity label, as channels with colour show it (hex RGB).
pub fn colour(label: SeverityLabel) -> &'static str {
    match label {
        SeverityLabel::Critical => "#7b0099",
        SeverityLabel::High => "#d0021b",
        SeverityLabel::Medium => "#f5a623",
        SeverityLabel::Low => "#4a90d9",
    }
}

/// A notice in words.
pub fn facts(n: &Notice, style: &Style) -> Facts {
    let loc = &style.locale;
    let f = &n.finding;
    let (title, description, remediation) = texts(f, loc);
    let label = f.severity.label();
    let label_text = loc.text(&format!("severity-{}", label.as_str().to_lowercase()));
    let mut change = loc.render(&change_msg(&n.kind, f));
    let mut headline = one_line(&title);
    if n.kind == NoticeKind::Test {
        headline = format!("{} {headline}", loc.text("notify-test-prefix"));
    }
    let mut lines = vec![
        (loc.text("notify-what"), f.finding_type.clone()),
        (loc.text("notify-where"), resource_line(f)),
    ];
    if let Some(who) = actor_line(f, loc) {
        lines.push((loc.text("notify-who"), who));
    }
    lines.push((
        loc.text("notify-when"),
        loc.render(
            &Msg::new("notify-when-value")
                .arg("first", keibi_model::text::Arg::Minute { at: f.first_seen })
                .arg("last", keibi_model::text::Arg::Minute { at: f.last_seen }),
        ),
    ));
    lines.push((loc.text("notify-count"), keibi_i18n::thousands(f.count)));
    let mut steps: Vec<String> = remediation
        .lines()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let mut description = description;
    if let NoticeKind::Action { action } = &n.kind {
        // What keibi did first, then the finding it acted on: its title as the
        // change, its facts below the action's, and the commands that act on the
        // action as the steps.
        let mut own = action_lines(action, loc);
        own.append(&mut lines);
        lines = own;
        change = headline;
        headline = loc.render(&action_headline(action));
        description = String::new();
        steps = action_steps(action).iter().map(|m| loc.render(m)).collect();
    }
    Facts {
        headline,
        label,
        label_text,
        severity: f.severity.to_string(),
        change,
        lines,
        description,
        steps,
        link: style
            .dashboard_url
            .as_deref()
            .map(|u| format!("{}/findings/{}", u.trim_end_matches('/'), f.id)),
        id: f.id.clone(),
    }
}

/// Title, description, remediation in the locale; remediation one step a line.
fn texts(f: &Finding, loc: &Locale) -> (String, String, String) {
    match &f.text {
        Some(t) => {
            let title = t
                .title
                .as_ref()
                .map(|m| loc.render(m))
                .unwrap_or_else(|| f.title.clone());
            let steps: Vec<String> = t
                .remediation
                .iter()
                .map(|m| one_line(loc.render(m).trim()))
                .filter(|s| !s.is_empty())
                .collect();
            (title, loc.sentences(&t.description), steps.join("\n"))
        }
        None => (
            f.title.clone(),
            f.description.clone(),
            one_line(&f.remediation),
        ),
    }
}

fn change_msg(kind: &NoticeKind, f: &Finding) -> Msg {
    use keibi_model::text::Arg;
    match kind {
        NoticeKind::New => Msg::new("notify-change-new"),
        NoticeKind::Reopened => Msg::new("notify-change-reopened"),
        NoticeKind::Raised { from } => Msg::new("notify-change-raised")
            .arg(
                "from",
                Arg::Msg(Box::new(Msg::new(&format!(
                    "severity-{}",
                    from.label().as_str().to_lowercase()
                )))),
            )
            .arg(
                "to",
                Arg::Msg(Box::new(Msg::new(&format!(
                    "severity-{}",
                    f.severity.label().as_str().to_lowercase()
                )))),
            ),
        NoticeKind::StillGoing { count_then, since } => Msg::new("notify-change-still-going")
            .arg("n", Arg::Count(f.count))
            .arg("more", Arg::Count(f.count.saturating_sub(*count_then)))
            .arg(
                "since",
                Arg::Time {
                    at: *since,
                    base: Some(f.last_seen),
                },
            )
            .arg(
                "ips",
                Arg::Count(if f.actor.ips.len() >= 2 {
                    f.actor.ips.len() as u64
                } else {
                    u64::from(f.actor.ip.is_some())
                }),
            ),
        NoticeKind::Resolved { by: Some(by) } => {
            Msg::new("notify-change-resolved-by").arg("by", Arg::Text(one_line(by)))
        }
        NoticeKind::Resolved { by: None } => Msg::new("notify-change-resolved"),
        NoticeKind::Test => Msg::new("notify-change-test"),
        // Replaced by the finding's title (see `facts`).
        NoticeKind::Action { .. } => Msg::new("notify-change-new"),
    }
}

/// The first 8 hex digits of an action id: what `keibi actions` takes (a unique
/// prefix), short enough to type.
pub fn short_id(id: &str) -> String {
    one_line(id).chars().take(8).collect()
}

/// An address or network as people write it: `203.0.113.9`, `2001:db8::/64`.
fn show_net(n: &ipnet::IpNet) -> String {
    let n = n.trunc();
    if n.prefix_len() == n.max_prefix_len() {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

/// An attacker-written value on one line, at most 200 characters.
fn value(s: &str) -> Arg {
    Arg::Text(clip(&one_line(s), 200, "…"))
}

/// What the action does, as a verb phrase: `block 203.0.113.9 at the network ACL
/// of prod-db` (`past`: `blocked …`). Japanese has one form (a noun of action the
/// headline's verb follows).
pub fn action_what(a: &Action, past: bool) -> Msg {
    let id = |k: &str| format!("notify-action-{}-{k}", if past { "did" } else { "do" });
    let what = match &a.target {
        Target::BlockAddress { address, .. } => {
            Msg::new(&id("block")).arg("address", Arg::Text(show_net(address)))
        }
        Target::LockRole { instance, user, .. } => Msg::new(&id("lock"))
            .arg("user", value(user))
            .arg("instance", value(instance)),
        Target::EndSessions {
            instance,
            user,
            address,
            ..
        } => match address {
            Some(ip) => Msg::new(&id("end-from"))
                .arg("user", value(user))
                .arg("instance", value(instance))
                .arg("address", Arg::Text(ip.to_string())),
            None => Msg::new(&id("end"))
                .arg("user", value(user))
                .arg("instance", value(instance)),
        },
        Target::ClosePublicAccess { resource, .. } => {
            Msg::new(&id("close")).arg("resource", value(resource))
        }
        Target::RevokeIngress {
            resource,
            port,
            cidr,
            ..
        } => Msg::new(&id("revoke"))
            .arg("resource", value(resource))
            .arg("port", value(port))
            .arg("cidr", value(cidr)),
        Target::ContainPrincipal {
            principal,
            access_key,
            ..
        } => match access_key {
            Some(k) => Msg::new(&id("deactivate-key"))
                .arg("principal", value(principal))
                .arg("key", value(k)),
            None => Msg::new(&id("revoke-sessions")).arg("principal", value(principal)),
        },
        Target::RestoreLogging { resource, .. } => {
            Msg::new(&id("restore-logging")).arg("resource", value(resource))
        }
        Target::Webhook { name } => Msg::new(&id("webhook")).arg("name", value(name)),
        Target::Exec { name } => Msg::new(&id("exec")).arg("name", value(name)),
    };
    // Where a block is made: the executor says, once chosen.
    if let Target::BlockAddress { instance, .. } = &a.target {
        let exec = a.executor.as_deref().unwrap_or("");
        let place = if exec == "nftables" {
            Some(Msg::new("notify-action-where-host"))
        } else if exec.starts_with("aws") {
            Some(match instance {
                Some(i) => Msg::new("notify-action-where-nacl").arg("instance", value(i)),
                None => Msg::new("notify-action-where-nacls"),
            })
        } else {
            None
        };
        match (place, instance) {
            (Some(p), _) => {
                return Msg::new("notify-action-placed")
                    .arg("what", Arg::Msg(Box::new(what)))
                    .arg("where", Arg::Msg(Box::new(p)))
            }
            (None, Some(i)) => {
                return Msg::new("notify-action-for")
                    .arg("what", Arg::Msg(Box::new(what)))
                    .arg("instance", value(i))
            }
            (None, None) => {}
        }
    }
    what
}

/// The headline of an action's notice: what keibi did, would do, waits to do,
/// could not do or undid.
pub fn action_headline(a: &Action) -> Msg {
    let what = |past| Arg::Msg(Box::new(action_what(a, past)));
    match a.state {
        State::Simulated => Msg::new("notify-action-simulated").arg("what", what(false)),
        State::Planned if a.mode == Mode::Approve => Msg::new("notify-action-approval")
            .arg("what", what(false))
            .arg("id", Arg::Text(short_id(&a.id))),
        State::Planned | State::Approved | State::Executing => {
            Msg::new("notify-action-planned").arg("what", what(false))
        }
        State::Executed => match a.expires_at {
            Some(at) => Msg::new("notify-action-executed-until")
                .arg("what", what(true))
                .arg("until", Arg::Minute { at }),
            None => Msg::new("notify-action-executed").arg("what", what(true)),
        },
        State::Failed => Msg::new("notify-action-failed").arg("what", what(false)),
        State::Undoing => Msg::new("notify-action-undoing").arg("what", what(true)),
        State::Undone => Msg::new("notify-action-undone")
            .arg("what", what(true))
            .arg("by", value(a.by.as_deref().unwrap_or("keibi"))),
        State::Expired => Msg::new("notify-action-expired").arg("what", what(true)),
        State::Skipped => Msg::new("notify-action-skipped").arg("what", what(false)),
        State::Cancelled => Msg::new("notify-action-cancelled")
            .arg("what", what(false))
            .arg("by", value(a.by.as_deref().unwrap_or("keibi"))),
    }
}

/// The action's own lines: its id, rule and mode; why it failed or was skipped.
fn action_lines(a: &Action, loc: &Locale) -> Vec<(String, String)> {
    let mut lines = vec![(
        loc.text("notify-action"),
        loc.render(
            &Msg::new("notify-action-id-value")
                .arg("id", value(&a.id))
                .arg("rule", value(&a.rule))
                .arg("mode", Arg::Text(a.mode.as_str().to_string())),
        ),
    )];
    if let Some(r) = a.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        lines.push((
            loc.text("notify-action-reason"),
            clip(&one_line(r), 500, "…"),
        ));
    }
    lines
}

/// The commands a person may run about the action now.
fn action_steps(a: &Action) -> Vec<Msg> {
    let id = Arg::Text(short_id(&a.id));
    let mut out = Vec::new();
    match a.state {
        State::Planned if a.mode == Mode::Approve => {
            out.push(Msg::new("notify-action-step-approve").arg("id", id.clone()));
            out.push(Msg::new("notify-action-step-cancel").arg("id", id.clone()));
        }
        State::Executed if a.target.kind().undoable() => {
            out.push(Msg::new("notify-action-step-undo").arg("id", id.clone()));
        }
        _ => {}
    }
    out.push(Msg::new("notify-action-step-show").arg("id", id));
    out
}

fn resource_line(f: &Finding) -> String {
    let r = &f.resource;
    let mut s = format!("{} {}", r.kind, one_line(&r.id));
    if let Some(a) = &r.account {
        s.push_str(&format!(" ({}", one_line(a)));
        if let Some(reg) = &r.region {
            s.push_str(&format!(", {}", one_line(reg)));
        }
        s.push(')');
    }
    s
}

fn actor_line(f: &Finding, loc: &Locale) -> Option<String> {
    let a = &f.actor;
    let mut parts = Vec::new();
    if a.users.len() >= 2 {
        parts.push(loc.names(&a.users, a.users.len() as u64, 5));
    } else if let Some(u) = &a.user {
        parts.push(u.clone());
    }
    if a.ips.len() >= 2 {
        let ips: Vec<String> = a.ips.iter().map(|i| i.to_string()).collect();
        parts.push(loc.names(&ips, ips.len() as u64, 5));
    } else if let Some(ip) = a.ip {
        parts.push(ip.to_string());
    }
    if let Some(app) = &a.app {
        parts.push(app.clone());
    }
    if parts.is_empty() {
        None
    } else {
        Some(one_line(&parts.join(" · ")))
    }
}

/// `s` on one line: every control character (CR, LF, TAB, NUL, the Unicode line and
/// paragraph separators, bidirectional overrides) becomes a space. For subjects,
/// headers, titles and table cells, where a line break is an injection.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                )
            {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// `s` cut to at most `max` characters (never inside a character), ending with
/// `note` (`…`, `… (truncated)`) when it was cut; the note counts toward `max`.
pub fn clip(s: &str, max: usize, note: &str) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(note.chars().count());
    let mut out: String = s.chars().take(keep).collect();
    out.push_str(note);
    out
}

/// `s` cut to at most `max` bytes of UTF-8 (never inside a character), ending with
/// `note` when it was cut; for receivers that count bytes (SNS, email headers).
pub fn clip_bytes(s: &str, max: usize, note: &str) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(note.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{note}", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_never_splits_a_character() {
        let s = "警備".repeat(100);
        let c = clip(&s, 11, "…");
        assert_eq!(c.chars().count(), 11);
        assert!(c.ends_with('…'));
        for max in 0..20 {
            let b = clip_bytes(&s, max, "…");
            assert!(b.len() <= max.max("…".len()));
        }
        assert_eq!(clip("short", 10, "…"), "short");
    }

    #[test]
    fn one_line_removes_breaks_and_overrides() {
        assert_eq!(one_line("a\r\nb\u{2028}c\u{202e}d\te"), "a  b c d e");
    }
}

#[cfg(test)]
mod facts_tests {
    use super::*;
    use crate::notice::{Notice, NoticeKind};
    use chrono::TimeZone;
    use keibi_i18n::{DisplayZone, Lang};
    use keibi_model::{Finding, Resource, Severity};

    fn notice(kind: NoticeKind) -> Notice {
        let t = chrono::Utc.with_ymd_and_hms(2026, 12, 6, 3, 10, 0).unwrap();
        let mut f = Finding::new(
            "login",
            "CredentialAccess:RDS/BruteForce",
            &["prod-db", "203.0.113.7"],
            Severity::new(7.5),
            Resource {
                kind: "db_instance".into(),
                id: "prod-db".into(),
                ..Default::default()
            },
            t,
        );
        f.title = "Brute force".into();
        f.remediation = "Block it.\nRotate it.".into();
        f.count = 1240;
        Notice {
            key: "1".into(),
            kind,
            finding: f,
            at: t,
        }
    }

    #[test]
    fn every_change_reads_in_both_languages() {
        for lang in [Lang::En, Lang::Ja] {
            let style = Style {
                locale: Locale::new(lang, DisplayZone::utc()),
                dashboard_url: Some("https://keibi.example/".into()),
            };
            for kind in [
                NoticeKind::New,
                NoticeKind::Reopened,
                NoticeKind::Raised {
                    from: Severity::new(5.0),
                },
                NoticeKind::StillGoing {
                    count_then: 40,
                    since: chrono::Utc.with_ymd_and_hms(2026, 12, 6, 1, 0, 0).unwrap(),
                },
                NoticeKind::Resolved {
                    by: Some("kim\nX".into()),
                },
                NoticeKind::Test,
            ] {
                let fx = facts(&notice(kind), &style);
                assert!(!fx.change.contains("notify-"), "{:?}", fx.change);
                assert!(!fx.change.contains('\n'));
                assert_eq!(
                    fx.link.as_deref(),
                    Some(format!("https://keibi.example/findings/{}", fx.id).as_str())
                );
                assert!(fx.lines.iter().all(|(l, _)| !l.starts_with("notify-")));
            }
        }
    }
}

#[cfg(test)]
mod action_tests {
    use super::*;
    use crate::notice::{Notice, NoticeKind};
    use chrono::TimeZone;
    use keibi_i18n::{DisplayZone, Lang};
    use keibi_model::{Finding, Resource, Severity};
    use keibi_respond::{Action, Mode, Place, State, Target};

    fn finding() -> Finding {
        let t = chrono::Utc.with_ymd_and_hms(2026, 12, 6, 3, 10, 0).unwrap();
        let mut f = Finding::new(
            "login",
            "CredentialAccess:RDS/BruteForce",
            &["prod-db"],
            Severity::new(7.5),
            Resource {
                kind: "db_instance".into(),
                id: "prod-db".into(),
                ..Default::default()
            },
            t,
        );
        f.title = "Brute force against prod-db".into();
        f.remediation = "Block it.".into();
        f
    }

    pub(crate) fn action(target: Target, state: State, mode: Mode) -> Action {
        let t = chrono::Utc.with_ymd_and_hms(2026, 12, 6, 3, 11, 0).unwrap();
        Action {
            id: "1a2b3c4d5e6f7081".into(),
            finding_id: "f".into(),
            finding_type: "CredentialAccess:RDS/BruteForce".into(),
            rule: "block-brute-force".into(),
            expire_after_secs: Some(86_400),
            ..Action::new(target, mode, state, t)
        }
    }

    fn block() -> Target {
        Target::BlockAddress {
            address: "203.0.113.9/32".parse().unwrap(),
            instance: Some("prod-db".into()),
            place: Place::default(),
        }
    }

    fn lock(user: &str) -> Target {
        Target::LockRole {
            engine: None,
            instance: "prod-db".into(),
            user: user.into(),
        }
    }

    fn fx(a: Action, lang: Lang) -> Facts {
        let n = Notice {
            key: "k".into(),
            kind: NoticeKind::Action {
                action: Box::new(a),
            },
            finding: finding(),
            at: chrono::Utc.with_ymd_and_hms(2026, 12, 6, 3, 12, 0).unwrap(),
        };
        facts(
            &n,
            &Style {
                locale: Locale::new(lang, DisplayZone::utc()),
                dashboard_url: Some("https://keibi.example".into()),
            },
        )
    }

    #[test]
    fn headlines_say_what_keibi_did_in_plain_words() {
        let mut a = action(block(), State::Executed, Mode::Auto);
        a.executor = Some("aws-nacl".into());
        a.expires_at = Some(chrono::Utc.with_ymd_and_hms(2026, 12, 7, 3, 0, 0).unwrap());
        let f = fx(a.clone(), Lang::En);
        assert_eq!(
            f.headline,
            "keibi blocked 203.0.113.9 at the network ACL of prod-db until 2026-12-07 03:00 UTC"
        );
        assert_eq!(f.change, "Brute force against prod-db");
        assert_eq!(f.lines[0].0, "Action");
        assert_eq!(
            f.lines[0].1,
            "1a2b3c4d5e6f7081 (rule block-brute-force, mode auto)"
        );
        assert!(f
            .lines
            .iter()
            .any(|(l, v)| l == "Where" && v.contains("prod-db")));
        assert_eq!(
            f.steps,
            vec![
                "Undo it: keibi actions undo 1a2b3c4d",
                "Its details and history: keibi actions show 1a2b3c4d"
            ]
        );
        assert!(f.description.is_empty());
        assert_eq!(
            f.link.as_deref(),
            Some(format!("https://keibi.example/findings/{}", f.id).as_str())
        );
        let ja = fx(a.clone(), Lang::Ja);
        assert_eq!(
            ja.headline,
            "keibi が prod-db のネットワーク ACL で 203.0.113.9 をブロックしました (2026-12-07 03:00 UTC まで)"
        );

        a.executor = Some("nftables".into());
        assert_eq!(
            fx(a.clone(), Lang::En).headline,
            "keibi blocked 203.0.113.9 at this host's firewall (nftables) until 2026-12-07 03:00 UTC"
        );

        let s = action(lock("app"), State::Simulated, Mode::Simulate);
        assert_eq!(
            fx(s.clone(), Lang::En).headline,
            "Simulated: keibi would lock role app on prod-db (nothing was changed)"
        );
        assert_eq!(
            fx(s, Lang::Ja).headline,
            "シミュレーション: keibi は prod-db のロール app をロックします (何も変更していません)"
        );

        let p = action(block(), State::Planned, Mode::Approve);
        let pf = fx(p, Lang::En);
        assert_eq!(
            pf.headline,
            "Awaiting approval: keibi would block 203.0.113.9 for prod-db — run keibi actions approve 1a2b3c4d"
        );
        assert_eq!(pf.steps[0], "Approve it: keibi actions approve 1a2b3c4d");

        let mut failed = action(lock("app"), State::Failed, Mode::Auto);
        failed.reason = Some("permission denied to alter role\nDROP".into());
        let ff = fx(failed, Lang::En);
        assert_eq!(
            ff.headline,
            "Failed: keibi could not lock role app on prod-db"
        );
        assert!(ff
            .lines
            .iter()
            .any(|(l, v)| l == "Reason" && v == "permission denied to alter role DROP"));

        let mut undone = action(lock("app"), State::Undone, Mode::Auto);
        undone.by = Some("kim".into());
        assert_eq!(
            fx(undone, Lang::En).headline,
            "Undone by kim: keibi reverted what it did (locked role app on prod-db)"
        );
        let expired = action(block(), State::Expired, Mode::Auto);
        assert_eq!(
            fx(expired, Lang::En).headline,
            "Expired: keibi reverted what it did (blocked 203.0.113.9 for prod-db) at its expiry"
        );
        let mut skipped = action(
            Target::Webhook { name: "soc".into() },
            State::Skipped,
            Mode::Auto,
        );
        skipped.reason = Some("rate limit: 20 actions this hour".into());
        let sf = fx(skipped, Lang::En);
        assert_eq!(
            sf.headline,
            "Skipped: keibi did not send the finding to webhook soc"
        );
        assert!(sf
            .lines
            .iter()
            .any(|(l, v)| l == "Reason" && v.starts_with("rate limit")));
    }

    /// Every state and target kind renders in both languages: no message id, no
    /// unfilled variable, one line.
    #[test]
    fn every_state_and_kind_renders_in_both_languages() {
        let targets = [
            block(),
            lock("app"),
            Target::EndSessions {
                engine: None,
                instance: "prod-db".into(),
                user: "app".into(),
                address: Some("203.0.113.9".parse().unwrap()),
            },
            Target::EndSessions {
                engine: None,
                instance: "prod-db".into(),
                user: "app".into(),
                address: None,
            },
            Target::ClosePublicAccess {
                resource_kind: "db_snapshot".into(),
                resource: "snap-1".into(),
                place: Place::default(),
            },
            Target::RevokeIngress {
                resource_kind: "security_group".into(),
                resource: "sg-1".into(),
                port: "5432".into(),
                cidr: "0.0.0.0/0".into(),
                place: Place::default(),
            },
            Target::ContainPrincipal {
                principal: "arn:aws:iam::123456789012:user/x".into(),
                access_key: Some("AKIAEXAMPLE".into()),
                place: Place::default(),
            },
            Target::ContainPrincipal {
                principal: "arn:aws:iam::123456789012:role/r".into(),
                access_key: None,
                place: Place::default(),
            },
            Target::RestoreLogging {
                resource_kind: "trail".into(),
                resource: "org-trail".into(),
                place: Place::default(),
            },
            Target::Webhook { name: "soc".into() },
            Target::Exec {
                name: "ticket".into(),
            },
        ];
        for lang in [Lang::En, Lang::Ja] {
            for t in &targets {
                for state in State::ALL {
                    for mode in [Mode::Simulate, Mode::Approve, Mode::Auto] {
                        for exec in [None, Some("nftables"), Some("aws-nacl")] {
                            let mut a = action(t.clone(), state, mode);
                            a.executor = exec.map(str::to_string);
                            let f = fx(a, lang);
                            for s in std::iter::once(&f.headline)
                                .chain(f.steps.iter())
                                .chain(f.lines.iter().map(|(_, v)| v))
                            {
                                assert!(
                                    !s.contains("notify-") && !s.contains('{') && !s.contains('\n'),
                                    "{lang} {state} {t:?}: {s}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
