//! Wording shared by the login findings' texts: numbers, times, durations and lists a
//! developer on call reads at a glance.

use chrono::{DateTime, Utc};
use keibi_model::finding::Actor;
use keibi_model::{Arg, Msg};

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
    still_going_msg(last, end, "still-last-failure")
}

/// [`still_failing`] for another kind of event: `last` names the message that says
/// when the last one was (`still-last-attempt`, `still-last-connection`).
pub(crate) fn still_going_msg(
    last: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    last_id: &str,
) -> Option<Msg> {
    match end {
        Some(end) if (end - last).num_seconds() <= 60 => {
            Some(Msg::new("still-going").arg("end", at(end)))
        }
        Some(end) => Some(
            Msg::new(last_id)
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
    use keibi_i18n::Locale;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    #[test]
    fn lists_of_names() {
        assert_eq!(names(&["app"], 1, 5), "app");
        assert_eq!(names(&["app", "root"], 2, 5), "app and root");
        assert_eq!(names(&["a", "b", "c"], 3, 5), "a, b and c");
        assert_eq!(names(&["a", "b", "c"], 17, 2), "a, b and 15 more");
        assert_eq!(names::<&str>(&[], 0, 5), "unknown");
    }

    #[test]
    fn rates_and_the_end_of_the_logs_in_words() {
        let en = Locale::english_utc();
        let word = |a: Arg| en.render(&Msg::new("list-not-all").arg("list", a));
        let a = t("2026-11-28T15:41:43Z");
        assert_eq!(
            word(rate_arg(600, a, t("2026-11-28T15:42:43Z"))),
            ", about 10 a second (and more not listed)"
        );
        assert_eq!(
            word(rate_arg(30, a, t("2026-11-28T15:51:43Z"))),
            ", about 3 a minute (and more not listed)"
        );
        assert_eq!(word(rate_arg(5, a, a)), " (and more not listed)");
        assert_eq!(
            word(rate_arg(3, a, t("2026-11-28T15:42:25Z"))),
            " (and more not listed)",
            "too few to call a rate"
        );
        let going = still_failing(a, Some(t("2026-11-28T15:42:00Z"))).unwrap();
        assert!(en.render(&going).starts_with("It was still going"));
        let last = still_failing(a, Some(t("2026-11-28T18:00:00Z"))).unwrap();
        let s = en.render(&last);
        assert!(s.contains("2 h 18 min before"), "{s}");
        assert!(s.ends_with("end (18:00:00)."), "{s}");
        assert!(still_failing(a, None).is_none());
    }
}
