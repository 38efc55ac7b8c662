//! Microsoft Teams through a Workflows webhook ("When a Teams webhook request is
//! received"): the documented message with one Adaptive Card 1.4 attachment — a
//! header TextBlock coloured by severity, the change, a FactSet of
//! what/where/who/when/count, the description, the steps, the finding id, and an
//! `Action.OpenUrl` when a dashboard link exists.
//!
//! TextBlocks and fact values render a Markdown subset, so attacker-written text is
//! put on one line and every Markdown special (`\` `` ` `` `*` `_` `~` `[` `]` `<`
//! `>` `&` `#` `|`, a leading `-` `+` `=` or `1.`) is escaped with a backslash, as
//! CommonMark defines; a zero-width space breaks `scheme://`, `www.` and the card's
//! `{{DATE(...)}}` functions. Texts are cut by characters, never inside a character
//! or an escape, and the card stays under Teams' 28 KB message size.

use serde_json::{json, Value};

use keibi_model::SeverityLabel;

use super::chat::{self, Board, Pieces, READ_AT_MOST, ZWSP};
use super::{BuildError, ChannelSpec, TeamsSpec};
use crate::notice::Outgoing;
use crate::text::{facts, one_line, Style};

/// keibi's bounds, chosen so that the largest card (every text at its bound, in
/// three-byte characters: about 7,800 characters, 24 KB) stays under Teams' 28 KB.
pub const HEADLINE_MAX: usize = 200;
pub const VALUE_MAX: usize = 500;
pub const DESCRIPTION_MAX: usize = 2000;
pub const STEP_MAX: usize = 1000;
pub const STEPS_MAX: usize = 8;
/// All steps together.
pub const STEPS_TOTAL_MAX: usize = 2500;
/// Teams refuses messages over about 28 KB.
pub const MESSAGE_MAX_BYTES: usize = 28 * 1024;

/// Builds the channel: a webhook that is sent [`payload`].
pub fn build(
    spec: &ChannelSpec,
    s: &TeamsSpec,
    style: &Style,
) -> Result<chat::JsonHook, BuildError> {
    chat::JsonHook::build(spec, &s.webhook_url, style, payload)
}

/// The Adaptive Card colour of a label.
fn card_colour(label: SeverityLabel) -> &'static str {
    match label {
        SeverityLabel::Critical | SeverityLabel::High => "attention",
        SeverityLabel::Medium => "warning",
        SeverityLabel::Low => "accent",
    }
}

/// The webhook's JSON for `msg`.
pub fn payload(msg: &Outgoing, style: &Style) -> Value {
    let note = style.locale.text("notify-truncated");
    let loc = &style.locale;
    let (body, link) = match msg {
        Outgoing::One(n) => {
            let fx = facts(n, style);
            let color = if n.kind.is_settled() {
                "good"
            } else {
                card_colour(fx.label)
            };
            let mut body = vec![
                json!({
                    "type": "TextBlock",
                    "text": md(&fx.headline, HEADLINE_MAX, &note),
                    "size": "large",
                    "weight": "bolder",
                    "color": color,
                    "wrap": true,
                }),
                json!({
                    "type": "TextBlock",
                    "text": md(&format!("{} {} · {}", fx.label_text, fx.severity, fx.change), VALUE_MAX, &note),
                    "color": color,
                    "weight": "bolder",
                    "spacing": "none",
                    "wrap": true,
                }),
                json!({
                    "type": "FactSet",
                    "facts": fx.lines.iter().map(|(l, v)| json!({
                        "title": md(l, VALUE_MAX, &note),
                        "value": md(v, VALUE_MAX, &note),
                    })).collect::<Vec<_>>(),
                }),
            ];
            if !fx.description.trim().is_empty() {
                body.push(label_block(&loc.text("notify-description")));
                body.push(json!({
                    "type": "TextBlock",
                    "text": md(&fx.description, DESCRIPTION_MAX, &note),
                    "wrap": true,
                    "spacing": "small",
                }));
            }
            if !fx.steps.is_empty() {
                body.push(label_block(&loc.text("notify-steps")));
                let mut left = STEPS_TOTAL_MAX;
                let mut shown = 0;
                for (i, step) in fx.steps.iter().take(STEPS_MAX).enumerate() {
                    if left < 20 {
                        break;
                    }
                    let text = md(step, STEP_MAX.min(left), &note);
                    left = left.saturating_sub(text.chars().count());
                    shown += 1;
                    body.push(json!({
                        "type": "TextBlock",
                        "text": format!("{}. {text}", i + 1),
                        "wrap": true,
                        "spacing": "small",
                    }));
                }
                if fx.steps.len() > shown {
                    body.push(json!({
                        "type": "TextBlock",
                        "text": md(&note, VALUE_MAX, "…"),
                        "wrap": true,
                        "spacing": "small",
                    }));
                }
            }
            body.push(json!({
                "type": "TextBlock",
                "text": md(&format!("{}: {}", loc.text("notify-id"), fx.id), VALUE_MAX, &note),
                "isSubtle": true,
                "size": "small",
                "wrap": true,
            }));
            (body, fx.link)
        }
        Outgoing::Digest(d) => (board(&chat::digest(d, style), &note), None),
        Outgoing::Summary(s) => (board(&chat::summary(s, style), &note), None),
    };
    let actions: Vec<Value> = link
        .into_iter()
        .map(|url| json!({"type": "Action.OpenUrl", "title": loc.text("notify-link"), "url": url}))
        .collect();
    let mut content = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "msteams": {"width": "Full"},
    });
    if !actions.is_empty() {
        content["actions"] = Value::Array(actions);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": content,
        }],
    })
}

fn board(b: &Board, note: &str) -> Vec<Value> {
    let mut body = vec![json!({
        "type": "TextBlock",
        "text": md(&b.title, HEADLINE_MAX, note),
        "size": "large",
        "weight": "bolder",
        "color": card_colour(b.label),
        "wrap": true,
    })];
    if !b.counts.is_empty() {
        body.push(json!({
            "type": "FactSet",
            "facts": b.counts.iter().map(|(_, l, n)| json!({
                "title": md(l, VALUE_MAX, note),
                "value": keibi_i18n::thousands(*n),
            })).collect::<Vec<_>>(),
        }));
    }
    if let Some(empty) = &b.empty {
        body.push(json!({"type": "TextBlock", "text": md(empty, VALUE_MAX, note), "wrap": true}));
    }
    for it in &b.items {
        let line = format!("{} · {} · {}", it.severity, it.headline, it.detail);
        let mut text = md(&line, VALUE_MAX, note);
        if let Some(link) = &it.link {
            // keibi's own link to its dashboard, in Markdown (the text before it is
            // escaped; the URL is the configured dashboard's).
            if !link.contains([')', ' ', '<', '>']) {
                text = format!("{text} [↗]({link})");
            }
        }
        body.push(json!({
            "type": "TextBlock",
            "text": text,
            "color": card_colour(it.label),
            "wrap": true,
            "spacing": "small",
        }));
    }
    if let Some(more) = &b.more {
        body.push(json!({
            "type": "TextBlock",
            "text": md(more, VALUE_MAX, note),
            "isSubtle": true,
            "wrap": true,
        }));
    }
    body
}

fn label_block(label: &str) -> Value {
    json!({"type": "TextBlock", "text": md(label, VALUE_MAX, "…"), "weight": "bolder", "wrap": true})
}

/// `s` as inert Markdown on one line, at most `max` characters.
pub fn md(s: &str, max: usize, note: &str) -> String {
    let one = one_line(s);
    let chars: Vec<char> = one.trim_start().chars().take(READ_AT_MOST).collect();
    let mut p = Pieces::default();
    let mut piece = String::new();
    // A leading `1.`/`1)` would start a list: escape its punctuation.
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    for (i, &c) in chars.iter().enumerate() {
        piece.clear();
        let at_start = i == 0;
        match c {
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '<' | '>' | '&' | '#' | '|' | '!' => {
                piece.push('\\');
                piece.push(c);
            }
            '-' | '+' | '=' if at_start => {
                piece.push('\\');
                piece.push(c);
            }
            '.' | ')'
                if digits > 0 && i == digits && chars.get(i + 1).is_none_or(|n| *n == ' ') =>
            {
                piece.push('\\');
                piece.push(c);
            }
            '{' | '$' if chars.get(i + 1) == Some(&'{') => {
                piece.push(c);
                piece.push(ZWSP);
            }
            c if chat::starts_link(&chars[..i], c, chars.get(i + 1).copied()) => {
                piece.push(c);
                piece.push(ZWSP);
            }
            c => piece.push(c),
        }
        p.push(&piece);
    }
    p.fit(max, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_specials_are_escaped() {
        assert_eq!(md("**b** [x](y)", 100, "…"), "\\*\\*b\\*\\* \\[x\\](y)");
        assert_eq!(md("# h", 100, "…"), "\\# h");
        assert_eq!(md("1. a", 100, "…"), "1\\. a");
        assert_eq!(md("198.51.100.23", 100, "…"), "198.51.100.23");
        assert_eq!(md("- a", 100, "…"), "\\- a");
        assert_eq!(md("a\nb", 100, "…"), "a b");
        assert_eq!(md("{{DATE(x)}}", 100, "…"), "{\u{200b}{DATE(x)}}");
        // An escape is never cut in half.
        assert_eq!(md("a***", 4, "…"), "a\\*…");
    }
}
