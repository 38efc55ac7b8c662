//! What the chat channels (Slack, Teams, Chatwork) share: the words of a digest and
//! of the daily summary, a channel's own language, and escaping that is cut to a
//! receiver's limit without splitting a character or an escape.

use keibi_i18n::{Lang, Locale, Msg};
use keibi_model::text::Arg;
use keibi_model::SeverityLabel;

use crate::notice::{Digest, Notice, NoticeKind, Summary};
use crate::text::{facts, Style};

use super::{BuildError, ChannelSpec};

/// How many held notices or open findings a chat message lists; the rest are
/// counted ("…and 12 more").
pub(crate) const LISTED: usize = 10;

/// The style of one channel: its `lang` when set, else the settings' language; the
/// display zone stays the settings' one.
pub(crate) fn style_for(spec: &ChannelSpec, style: &Style) -> Result<Style, BuildError> {
    let mut s = style.clone();
    if let Some(code) = &spec.lang {
        let lang: Lang = code
            .parse()
            .map_err(|e: keibi_i18n::LangError| BuildError::Invalid {
                name: spec.name.clone(),
                reason: e.to_string(),
            })?;
        s.locale = Locale::new(lang, style.locale.zone.clone());
    }
    Ok(s)
}

/// A secret's value, resolved when the channel is built (a missing variable or
/// file is an error at start-up, not at the first alert).
pub(crate) fn reveal(spec: &ChannelSpec, secret: &crate::Secret) -> Result<String, BuildError> {
    secret.reveal().map_err(|source| BuildError::Secret {
        name: spec.name.clone(),
        source,
    })
}

/// A URL from the settings, checked to be http(s).
pub(crate) fn check_url(spec: &ChannelSpec, url: &str) -> Result<(), BuildError> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => Ok(()),
        _ => Err(BuildError::Invalid {
            name: spec.name.clone(),
            reason: format!("{} is not an http(s) URL", crate::http::redact(url)),
        }),
    }
}

/// One line of a list: a held notice or an open finding, not yet escaped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub label: SeverityLabel,
    /// `High 7.5`.
    pub severity: String,
    pub headline: String,
    /// What changed (a digest) or where (a summary).
    pub detail: String,
    pub link: Option<String>,
}

/// A digest or the daily summary in words: a title, counts by severity (summary),
/// a handful of items and how many more there are.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Board {
    pub title: String,
    /// The most severe label listed (the message's colour).
    pub label: SeverityLabel,
    /// `(Critical, 2)`, ... for the summary; empty for a digest.
    pub counts: Vec<(SeverityLabel, String, u64)>,
    pub items: Vec<Item>,
    /// `…and 12 more` when more than the listed ones.
    pub more: Option<String>,
    /// `No open findings.` for an empty summary.
    pub empty: Option<String>,
}

fn rank(l: SeverityLabel) -> u8 {
    match l {
        SeverityLabel::Critical => 3,
        SeverityLabel::High => 2,
        SeverityLabel::Medium => 1,
        SeverityLabel::Low => 0,
    }
}

/// The most severe of `labels` (Low when there are none).
pub(crate) fn worst(labels: impl IntoIterator<Item = SeverityLabel>) -> SeverityLabel {
    labels
        .into_iter()
        .max_by_key(|l| rank(*l))
        .unwrap_or(SeverityLabel::Low)
}

fn item(n: &Notice, style: &Style, where_: bool) -> Item {
    let fx = facts(n, style);
    let detail = if where_ {
        fx.lines.get(1).map(|(_, v)| v.clone()).unwrap_or_default()
    } else {
        fx.change.clone()
    };
    Item {
        label: fx.label,
        severity: format!("{} {}", fx.label_text, fx.severity),
        headline: fx.headline,
        detail,
        link: fx.link,
    }
}

fn more(loc: &Locale, shown: usize, total: u64) -> Option<String> {
    let rest = total.saturating_sub(shown as u64);
    (rest > 0).then(|| loc.render(&Msg::new("notify-chat-more").arg("n", Arg::Count(rest))))
}

pub(crate) fn digest(d: &Digest, style: &Style) -> Board {
    let loc = &style.locale;
    let items: Vec<Item> = d
        .held
        .iter()
        .take(LISTED)
        .map(|n| item(n, style, false))
        .collect();
    let total = d.total.max(d.held.len() as u64);
    Board {
        title: loc.render(
            &Msg::new("notify-chat-digest-title")
                .arg("n", Arg::Count(total))
                .arg("from", Arg::Minute { at: d.from })
                .arg("to", Arg::Minute { at: d.to }),
        ),
        label: worst(d.held.iter().map(|n| n.finding.severity.label())),
        counts: Vec::new(),
        more: more(loc, items.len(), total),
        items,
        empty: None,
    }
}

pub(crate) fn summary(s: &Summary, style: &Style) -> Board {
    let loc = &style.locale;
    let items: Vec<Item> = s
        .open
        .iter()
        .take(LISTED)
        .map(|f| {
            let n = Notice {
                key: s.key.clone(),
                kind: NoticeKind::New,
                finding: f.clone(),
                at: s.at,
            };
            item(&n, style, true)
        })
        .collect();
    let total = s.total.max(s.open.len() as u64);
    let labels = [
        SeverityLabel::Critical,
        SeverityLabel::High,
        SeverityLabel::Medium,
        SeverityLabel::Low,
    ];
    let counts = labels
        .iter()
        .zip(s.by_label)
        .map(|(l, n)| {
            (
                *l,
                loc.text(&format!("severity-{}", l.as_str().to_lowercase())),
                n,
            )
        })
        .collect();
    let open_labels = labels
        .iter()
        .zip(s.by_label)
        .filter(|(_, n)| *n > 0)
        .map(|(l, _)| *l);
    Board {
        title: loc.render(
            &Msg::new("notify-chat-summary-title")
                .arg("n", Arg::Count(total))
                .arg("at", Arg::Minute { at: s.at }),
        ),
        label: worst(open_labels),
        counts,
        more: more(loc, items.len(), total),
        empty: (total == 0).then(|| loc.text("notify-chat-summary-none")),
        items,
    }
}

/// Escaped text built piece by piece, so that it can be cut to a limit only
/// between pieces: never inside a character, an entity (`&amp;`) or an escape
/// (`\*`, a character and its zero-width guard).
#[derive(Debug, Default)]
pub(crate) struct Pieces {
    buf: String,
    /// After each piece: its end in `buf` (bytes) and the characters so far.
    cuts: Vec<(usize, usize)>,
    chars: usize,
}

impl Pieces {
    pub fn push(&mut self, piece: &str) {
        if piece.is_empty() {
            return;
        }
        self.buf.push_str(piece);
        self.chars += piece.chars().count();
        self.cuts.push((self.buf.len(), self.chars));
    }

    /// The text, or, when longer than `max` characters, its first pieces and `note`
    /// in at most `max` characters.
    pub fn fit(self, max: usize, note: &str) -> String {
        if self.chars <= max {
            return self.buf;
        }
        let budget = max.saturating_sub(note.chars().count());
        let i = self.cuts.partition_point(|&(_, c)| c <= budget);
        let end = if i == 0 { 0 } else { self.cuts[i - 1].0 };
        let mut out = self.buf;
        out.truncate(end);
        out.push_str(note);
        out
    }
}

/// Attacker-written text is read at most this far: every limit of the chat
/// services is far below, and escaping a 8 MiB statement would be wasted work.
pub(crate) const READ_AT_MOST: usize = 20_000;

/// Zero-width space: breaks a markup token without a visible change.
pub(crate) const ZWSP: char = '\u{200b}';

/// Whether `rest` (the text after a `:` just written) starts a URL's `//`, or `w`
/// starts `www.`: where a zero-width space keeps a receiver from making a link.
pub(crate) fn starts_link(prev: &[char], c: char, next: Option<char>) -> bool {
    // `scheme://`: guard the ':' when "//" follows; `www.`: guard the first '.'.
    (c == ':' && next == Some('/'))
        || (c == '.'
            && prev.len() >= 3
            && prev[prev.len() - 3..]
                .iter()
                .all(|p| p.eq_ignore_ascii_case(&'w')))
}

/// A channel that POSTs one JSON document to a webhook URL (Slack, Teams): its
/// payload function is the only thing that differs.
pub struct JsonHook {
    name: String,
    url: String,
    style: Style,
    payload: fn(&crate::notice::Outgoing, &Style) -> serde_json::Value,
}

impl JsonHook {
    /// Reads the URL (a secret), checks it, and resolves the channel's language.
    pub(crate) fn build(
        spec: &ChannelSpec,
        url: &crate::Secret,
        style: &Style,
        payload: fn(&crate::notice::Outgoing, &Style) -> serde_json::Value,
    ) -> Result<JsonHook, BuildError> {
        let url = reveal(spec, url)?;
        check_url(spec, &url)?;
        Ok(JsonHook {
            name: spec.name.clone(),
            url,
            style: style_for(spec, style)?,
            payload,
        })
    }
}

impl crate::Channel for JsonHook {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&self, msg: &crate::notice::Outgoing) -> Result<crate::Sent, crate::SendError> {
        let body = (self.payload)(msg, &self.style);
        crate::http::post(
            &self.url,
            "application/json; charset=utf-8",
            &[],
            serde_json::to_vec(&body).unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cut_between_pieces_only() {
        let mut p = Pieces::default();
        for c in "a<b".chars() {
            match c {
                '<' => p.push("&lt;"),
                c => p.push(c.encode_utf8(&mut [0u8; 4])),
            }
        }
        // "a&lt;b" is 6 characters; 5 with a 1-character note keeps "a" only.
        assert_eq!(p.fit(5, "…"), "a…");
        let mut p = Pieces::default();
        p.push("警備");
        p.push("x");
        assert_eq!(p.fit(3, "…"), "警備x");
    }

    /// Every message the chat channels build is in both catalogs with exactly the
    /// variables they give.
    #[test]
    fn messages_match_both_catalogs() {
        use std::collections::BTreeSet;
        let built: [(&str, &[&str]); 4] = [
            ("notify-chat-digest-title", &["n", "from", "to"]),
            ("notify-chat-more", &["n"]),
            ("notify-chat-summary-title", &["n", "at"]),
            ("notify-chat-summary-none", &[]),
        ];
        for lang in Lang::ALL {
            let cat = keibi_i18n::catalog_ids(lang);
            for (id, given) in built {
                let (_, vars) = cat
                    .iter()
                    .find(|(i, _)| i == id)
                    .unwrap_or_else(|| panic!("{id} is not in the {lang} catalog"));
                let used: BTreeSet<&str> = vars.iter().map(String::as_str).collect();
                let given: BTreeSet<&str> = given.iter().copied().collect();
                if lang == Lang::En {
                    assert_eq!(used, given, "{id} in {lang}");
                } else {
                    assert!(used.is_subset(&given), "{id} in {lang}: {used:?}");
                }
            }
        }
        // And they render: no id, no missing variable.
        let style = Style {
            locale: Locale::new(Lang::Ja, keibi_i18n::DisplayZone::utc()),
            dashboard_url: None,
        };
        let s = Summary {
            key: "s".into(),
            at: chrono::DateTime::UNIX_EPOCH,
            open: Vec::new(),
            total: 0,
            by_label: [0; 4],
        };
        let b = summary(&s, &style);
        assert!(
            !b.title.contains("notify-") && !b.title.contains('{'),
            "{}",
            b.title
        );
        assert_eq!(b.empty.as_deref(), Some("未解決の検出結果はありません。"));
    }

    #[test]
    fn links_are_spotted() {
        let prev: Vec<char> = "http".chars().collect();
        assert!(starts_link(&prev, ':', Some('/')));
        let prev: Vec<char> = "www".chars().collect();
        assert!(starts_link(&prev, '.', Some('e')));
        let prev: Vec<char> = "a".chars().collect();
        assert!(!starts_link(&prev, '.', Some('e')));
    }
}
