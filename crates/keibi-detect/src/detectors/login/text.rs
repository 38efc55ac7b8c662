//! Wording shared by the login findings' texts: numbers, times, durations and lists a
//! developer on call reads at a glance.

use chrono::{DateTime, Utc};
use keibi_model::finding::Actor;
use keibi_model::{Arg, Msg};

/// `2026-11-28 15:41:43 UTC` (whole seconds; the JSON fields keep the precision).
pub(crate) fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `15:41:43` when on the same day as `base`, else [`when`].
pub(crate) fn when_after(t: DateTime<Utc>, base: DateTime<Utc>) -> String {
    if t.date_naive() == base.date_naive() {
        t.format("%H:%M:%S").to_string()
    } else {
        when(t)
    }
}

/// `1,532`.
pub(crate) fn num(n: u64) -> String {
    crate::text::thousands(n)
}

/// `1 failed login` / `3 failed logins`.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", num(n), if n == 1 { one } else { many })
}

/// A duration in words: `under a second`, `42 seconds`, `7 minutes`, `2 h 05 min`,
/// `3 days 4 h`.
pub(crate) fn span(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let ms = (to - from).num_milliseconds().max(0);
    let s = ms / 1000;
    match s {
        0 => "under a second".to_string(),
        1 => "1 second".to_string(),
        2..=119 => format!("{s} seconds"),
        120..=3599 => format!("{} minutes", s / 60),
        3600..=86_399 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} days {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// How fast `count` events came over the span: `about 12 a second`, `about 3 a
/// minute`, `about 5 an hour`; empty when the span is too short to say.
pub(crate) fn rate(count: u64, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let ms = (to - from).num_milliseconds();
    if count < 5 || ms < 1000 {
        return String::new();
    }
    let per_sec = count as f64 * 1000.0 / ms as f64;
    if per_sec >= 1.0 {
        format!("about {:.0} a second", per_sec)
    } else if per_sec * 60.0 >= 1.0 {
        format!("about {:.0} a minute", per_sec * 60.0)
    } else {
        format!("about {:.0} an hour", (per_sec * 3600.0).max(1.0))
    }
}

/// Up to `max` names, then how many more: `app`, `app and root`, `admin, app, root and
/// 14 more`. `known_total` is the true number of distinct names when it is known to be
/// larger than the list (the list is bounded).
pub(crate) fn names<S: AsRef<str>>(list: &[S], known_total: usize, max: usize) -> String {
    let total = known_total.max(list.len());
    let shown: Vec<&str> = list.iter().take(max).map(AsRef::as_ref).collect();
    let more = total - shown.len();
    match (shown.as_slice(), more) {
        ([], _) => "unknown".to_string(),
        ([one], 0) => (*one).to_string(),
        (many, 0) => {
            let (last, rest) = many.split_last().unwrap_or((&"", &[]));
            format!("{} and {last}", rest.join(", "))
        }
        (some, more) => format!("{} and {more} more", some.join(", ")),
    }
}

/// The users a finding names: the one user, or the list (`at least` when the bounded
/// list overflowed).
pub(crate) fn users(actor: &Actor) -> String {
    if let Some(u) = &actor.user {
        return u.clone();
    }
    let list = names(&actor.users, actor.users.len(), 6);
    if actor.users_truncated {
        format!("{list} (and more not listed)")
    } else {
        list
    }
}

/// The number of distinct users a finding names, `100+` style when truncated.
pub(crate) fn user_count(actor: &Actor) -> String {
    let n = if actor.user.is_some() {
        1
    } else {
        actor.users.len()
    };
    if actor.users_truncated {
        format!("{n}+")
    } else {
        n.to_string()
    }
}

/// Whether an activity that last happened at `last` was still going when the
/// instance's logs end, in words.
pub(crate) fn still_going(last: DateTime<Utc>, end: Option<DateTime<Utc>>, what: &str) -> String {
    match end {
        Some(end) if (end - last).num_seconds() <= 60 => format!(
            "It was still going when the logs end ({}): check whether it continues.",
            when(end)
        ),
        Some(end) => format!(
            "The last {what} was at {}, {} before the logs of this instance end ({}).",
            when(last),
            span(last, end),
            when_after(end, last)
        ),
        None => String::new(),
    }
}

/// Joins non-empty sentences with single spaces.
pub(crate) fn sentences(parts: &[String]) -> String {
    parts
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

// ------------------------------------------------- the same words as catalog messages
//
// The converted findings (login_source, login_stuffing) build their texts as
// `keibi_model::Msg`s with these helpers; `crate::text::set` renders the English
// strings of the contract from them (docs/i18n.md).

/// An instant, shown in full (`when`).
pub(crate) fn at(t: DateTime<Utc>) -> Arg {
    Arg::Time { at: t, base: None }
}

/// An instant, time of day only when on the same day as `base` (`when_after`).
pub(crate) fn at_after(t: DateTime<Utc>, base: DateTime<Utc>) -> Arg {
    Arg::Time {
        at: t,
        base: Some(base),
    }
}

pub(crate) fn span_arg(from: DateTime<Utc>, to: DateTime<Utc>) -> Arg {
    Arg::Span { from, to }
}

/// Up to `max` names, then how many more (`names`).
pub(crate) fn names_arg<S: AsRef<str>>(list: &[S], known_total: usize, max: usize) -> Arg {
    Arg::Names {
        items: list
            .iter()
            .take(max)
            .map(|s| s.as_ref().to_string())
            .collect(),
        total: known_total.max(list.len()) as u64,
        max: max as u64,
    }
}

/// The users a finding names (`users`).
pub(crate) fn users_arg(actor: &Actor) -> Arg {
    if let Some(u) = &actor.user {
        return Arg::Text(u.clone());
    }
    let list = names_arg(&actor.users, actor.users.len(), 6);
    if actor.users_truncated {
        Msg::new("list-not-all").arg("list", list).into()
    } else {
        list
    }
}

/// The number of users (`user_count`), as its text: `5`, `100+`.
pub(crate) fn user_count_arg(actor: &Actor) -> Arg {
    Arg::Text(user_count(actor))
}

/// The rate clause with its leading comma (`rate`), or nothing.
pub(crate) fn rate_arg(count: u64, from: DateTime<Utc>, to: DateTime<Utc>) -> Arg {
    let ms = (to - from).num_milliseconds();
    if count < 5 || ms < 1000 {
        return Msg::new("nothing").into();
    }
    let per_sec = count as f64 * 1000.0 / ms as f64;
    let (id, n) = if per_sec >= 1.0 {
        ("rate-second", per_sec)
    } else if per_sec * 60.0 >= 1.0 {
        ("rate-minute", per_sec * 60.0)
    } else {
        ("rate-hour", (per_sec * 3600.0).max(1.0))
    };
    Msg::new(id).arg("n", format!("{n:.0}")).into()
}

/// Whether the failures were still going when the instance's logs end
/// (`still_going(.., "failure")`).
pub(crate) fn still_failing(last: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Option<Msg> {
    match end {
        Some(end) if (end - last).num_seconds() <= 60 => {
            Some(Msg::new("still-going").arg("end", at(end)))
        }
        Some(end) => Some(
            Msg::new("still-last-failure")
                .arg("last", at(last))
                .arg("gap", span_arg(last, end))
                .arg("end", at_after(end, last)),
        ),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    #[test]
    fn words_for_numbers_spans_rates_and_lists() {
        assert_eq!(num(0), "0");
        assert_eq!(num(999), "999");
        assert_eq!(num(1532), "1,532");
        assert_eq!(num(1_000_000), "1,000,000");
        assert_eq!(plural(1, "failure", "failures"), "1 failure");
        let a = t("2026-11-28T15:41:43Z");
        assert_eq!(span(a, a), "under a second");
        assert_eq!(span(a, t("2026-11-28T15:42:25Z")), "42 seconds");
        assert_eq!(span(a, t("2026-11-28T15:49:43Z")), "8 minutes");
        assert_eq!(span(a, t("2026-11-28T17:46:43Z")), "2 h 05 min");
        assert_eq!(span(a, t("2026-12-01T19:41:43Z")), "3 days 4 h");
        assert_eq!(rate(600, a, t("2026-11-28T15:42:43Z")), "about 10 a second");
        assert_eq!(rate(30, a, t("2026-11-28T15:51:43Z")), "about 3 a minute");
        assert_eq!(rate(5, a, a), "");
        assert_eq!(
            rate(3, a, t("2026-11-28T15:42:25Z")),
            "",
            "too few to call a rate"
        );
        assert_eq!(names(&["app"], 1, 5), "app");
        assert_eq!(names(&["app", "root"], 2, 5), "app and root");
        assert_eq!(names(&["a", "b", "c"], 3, 5), "a, b and c");
        assert_eq!(names(&["a", "b", "c"], 17, 2), "a, b and 15 more");
        assert_eq!(names::<&str>(&[], 0, 5), "unknown");
    }

    #[test]
    fn still_going_compares_with_the_end_of_the_logs() {
        let last = t("2026-11-28T15:41:43Z");
        assert!(
            still_going(last, Some(t("2026-11-28T15:42:00Z")), "failure")
                .starts_with("It was still going")
        );
        let s = still_going(last, Some(t("2026-11-28T18:00:00Z")), "failure");
        assert!(s.contains("2 h 18 min before"), "{s}");
        assert_eq!(still_going(last, None, "x"), "");
    }
}
