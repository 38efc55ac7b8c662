//! The words every channel shares: a notice as [`Facts`] (headline, what changed,
//! labelled what/where/who lines, description, remediation steps, link), in the
//! channel's locale, and the helpers that make attacker-written text safe to cut.
//!
//! Facts are plain text, not yet escaped: each channel escapes them for its medium
//! (Slack mrkdwn, Teams/Chatwork markup, HTML, JSON) as it builds its payload.

use keibi_i18n::{Locale, Msg};
use keibi_model::{Finding, SeverityLabel};

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
    let change = loc.render(&change_msg(&n.kind, f));
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
    let steps = remediation
        .lines()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
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
    }
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
