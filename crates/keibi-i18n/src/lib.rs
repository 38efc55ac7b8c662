//! keibi's texts for people, in English and Japanese.
//!
//! Every text a person reads is a catalog message: a [`Msg`] (plain data, in
//! `keibi-model`) names a message of the Fluent catalogs under `locales/{en,ja}/`,
//! embedded in the binary, and carries typed arguments. A [`Locale`] (a language and
//! a display time zone) renders it: counts with thousands separators and the
//! language's plural or counter word, instants in the display zone with the zone
//! named, durations and lists in the language's words. A message missing in Japanese
//! falls back to English; one missing everywhere renders as its id. Rendering never
//! panics. `docs/i18n.md` says how to add a text.

mod catalog;
mod lang;
mod zone;

pub use keibi_model::text::{Arg, FindingText, Msg};
pub use lang::{Lang, LangError};
pub use zone::{DisplayZone, ZoneError};

use chrono::{DateTime, Utc};
use fluent_bundle::{FluentArgs, FluentValue};

/// A language and a display time zone: how texts are rendered for one reader.
#[derive(Debug, Clone, PartialEq)]
pub struct Locale {
    pub lang: Lang,
    pub zone: DisplayZone,
}

impl Default for Locale {
    fn default() -> Locale {
        Locale::english_utc()
    }
}

impl Locale {
    pub fn new(lang: Lang, zone: DisplayZone) -> Locale {
        Locale { lang, zone }
    }

    /// English with UTC times: the texts of the findings contract (`title`,
    /// `description`, `remediation` in JSON are this rendering).
    pub fn english_utc() -> Locale {
        Locale::new(Lang::En, DisplayZone::utc())
    }

    /// Whether this locale renders exactly as [`Locale::english_utc`].
    pub fn is_contract(&self) -> bool {
        self.lang == Lang::En && self.zone.is_utc()
    }

    /// One message in this locale.
    pub fn render(&self, msg: &Msg) -> String {
        self.render_depth(msg, 0)
    }

    /// A catalog message without arguments (headers, labels).
    pub fn text(&self, id: &str) -> String {
        self.render(&Msg::new(id))
    }

    fn render_depth(&self, msg: &Msg, depth: u8) -> String {
        let mut args = FluentArgs::with_capacity(msg.args.len());
        for (name, arg) in &msg.args {
            args.set(name.as_str(), self.value(arg, depth));
        }
        catalog::format(self.lang, &msg.id, &args)
    }

    fn value(&self, arg: &Arg, depth: u8) -> FluentValue<'static> {
        match arg {
            Arg::Text(s) => FluentValue::from(s.clone()),
            Arg::Count(n) => FluentValue::from(*n as f64),
            Arg::AtLeast(n) => FluentValue::from(format!("{}+", thousands(*n))),
            Arg::Time { at, base } => FluentValue::from(self.time(*at, *base)),
            Arg::Span { from, to } => FluentValue::from(self.span(*from, *to)),
            Arg::Names { items, total, max } => {
                FluentValue::from(self.names(items, *total, *max as usize))
            }
            Arg::Hours { from, to, at } => FluentValue::from(self.hours(*from, *to, *at)),
            Arg::Clock { at } => FluentValue::from(self.zone.format(*at, "%H:%M %Z")),
            Arg::Minute { at } => FluentValue::from(self.zone.format(*at, "%Y-%m-%d %H:%M %Z")),
            Arg::Join(items) if depth < 8 => {
                let sep = self.text("list-sep");
                let parts: Vec<String> = items
                    .iter()
                    .map(|m| self.render_depth(m, depth + 1))
                    .collect();
                FluentValue::from(parts.join(&sep))
            }
            Arg::Join(_) => FluentValue::from(String::new()),
            // Nested messages are built by code, never by input; the bound only
            // guarantees that no value can recurse without end.
            Arg::Msg(m) if depth < 8 => FluentValue::from(self.render_depth(m, depth + 1)),
            Arg::Msg(m) => FluentValue::from(m.id.clone()),
            Arg::Concat(parts) if depth < 8 => {
                let mut out = String::new();
                for p in parts {
                    match self.value(p, depth + 1) {
                        FluentValue::String(s) => out.push_str(&s),
                        FluentValue::Number(n) => out.push_str(&thousands(n.value as u64)),
                        _ => {}
                    }
                }
                FluentValue::from(out)
            }
            Arg::Concat(_) => FluentValue::from(String::new()),
        }
    }

    /// `2026-11-28 15:41:43 UTC`, `2026-11-29 00:41:43 JST`; with `base`, only
    /// `00:41:43` when both fall on the same day in the display zone.
    pub fn time(&self, at: DateTime<Utc>, base: Option<DateTime<Utc>>) -> String {
        match base {
            Some(b) if self.zone.same_day(at, b) => self.zone.format(at, "%H:%M:%S"),
            _ => self.zone.format(at, "%Y-%m-%d %H:%M:%S %Z"),
        }
    }

    /// A duration in words: `under a second`, `42 seconds`, `7 minutes`,
    /// `2 h 05 min`, `3 days 4 h` (and their Japanese forms).
    pub fn span(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
        let s = (to - from).num_milliseconds().max(0) / 1000;
        let m = |id: &str| Msg::new(id);
        let msg = match s {
            0 => m("span-under-second"),
            1 => m("span-one-second"),
            2..=119 => m("span-seconds").arg("s", s.to_string()),
            120..=3599 => m("span-minutes").arg("m", (s / 60).to_string()),
            3600..=86_399 => m("span-hours")
                .arg("h", (s / 3600).to_string())
                .arg("m", format!("{:02}", (s % 3600) / 60)),
            _ => m("span-days")
                .arg("d", (s / 86_400).to_string())
                .arg("h", ((s % 86_400) / 3600).to_string()),
        };
        self.render(&msg)
    }

    /// Up to `max` names, then how many more: `app`, `app and root`, `admin, app,
    /// root and 14 more` (`admin、app、root ほか14件`).
    pub fn names<S: AsRef<str>>(&self, list: &[S], total: u64, max: usize) -> String {
        let total = (total as usize).max(list.len());
        let shown: Vec<&str> = list.iter().take(max).map(AsRef::as_ref).collect();
        let more = total - shown.len();
        let sep = self.text("list-sep");
        match (shown.as_slice(), more) {
            ([], _) => self.text("list-unknown"),
            ([one], 0) => (*one).to_string(),
            (many, 0) => {
                let (last, rest) = many.split_last().unwrap_or((&"", &[]));
                self.render(
                    &Msg::new("list-and")
                        .arg("rest", rest.join(&sep))
                        .arg("last", *last),
                )
            }
            (some, more) => self.render(
                &Msg::new("list-more")
                    .arg("shown", some.join(&sep))
                    .arg("more", more),
            ),
        }
    }

    /// Hours of the day given in UTC (`from` inclusive, `to` exclusive, may wrap),
    /// in the display zone at its offset on `at`: `09:00-19:00 UTC`,
    /// `18:00〜04:00 JST` in Tokyo.
    pub fn hours(&self, from: u8, to: u8, at: DateTime<Utc>) -> String {
        let shift = self.zone.whole_hours_offset(at);
        let f = (i32::from(from) + shift).rem_euclid(24);
        let t = (i32::from(to) + shift).rem_euclid(24);
        self.render(
            &Msg::new("hours-range")
                .arg("from", format!("{f:02}:00"))
                .arg("to", format!("{t:02}:00"))
                .arg("zone", self.zone.format(at, "%Z")),
        )
    }

    /// Sentences joined as the language joins them (English: one space; Japanese:
    /// nothing, each ends with 。). Empty ones are left out.
    pub fn sentences(&self, parts: &[Msg]) -> String {
        let sep = match self.lang {
            Lang::En => " ",
            Lang::Ja => "",
        };
        parts
            .iter()
            .map(|m| self.render(m))
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().to_string())
            .collect::<Vec<_>>()
            .join(sep)
    }

    /// Remediation steps: English joins them as sentences; Japanese numbers them, one
    /// a line, when there are several (a line break is only ever a step's end).
    pub fn steps(&self, parts: &[Msg]) -> String {
        if self.lang == Lang::En {
            return self.sentences(parts);
        }
        // A line break inside a step (an attacker's user name can hold one) is
        // written as `\n`, so line breaks separate steps and nothing else.
        let steps: Vec<String> = parts
            .iter()
            .map(|m| self.render(m).trim().replace('\n', "\\n"))
            .filter(|s| !s.is_empty())
            .collect();
        if steps.len() == 1 {
            return steps.into_iter().next().unwrap_or_default();
        }
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {s}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A finding's (title, description, remediation) in this locale, when it carries
    /// its texts as messages.
    pub fn finding(&self, t: &FindingText) -> (Option<String>, String, String) {
        (
            t.title.as_ref().map(|m| self.render(m)),
            self.sentences(&t.description),
            self.steps(&t.remediation),
        )
    }
}

/// `1532` as `1,532` (the separator both languages use for digits).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Every message id of a language's catalog with the variables its pattern uses
/// (for the completeness test and `docs/i18n.md`'s tooling).
pub fn catalog_ids(lang: Lang) -> Vec<(String, Vec<String>)> {
    catalog::ids(lang)
}

#[cfg(test)]
mod tests;
