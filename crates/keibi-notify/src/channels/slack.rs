//! Slack incoming webhook: a Block Kit message inside an attachment that carries the
//! severity colour (the documented way to colour a message), with a `text` fallback
//! for notifications.
//!
//! Attacker-written text only ever goes into `plain_text` objects (Slack parses no
//! mrkdwn, mention or link there) and into the fallback; everywhere `&`, `<` and `>`
//! are escaped as Slack documents, which defuses `<!channel>`, `<@U…>` and
//! `<http://…|…>`; a zero-width space breaks `scheme://` and `www.` so no client
//! makes a link of them, and in the fallback (mrkdwn) each of `*` `_` `~` `` ` ``.
//! The only mrkdwn objects hold keibi's own labels. Every text is cut to Slack's
//! limits by characters, never inside a character or an entity.

use serde_json::{json, Value};

use super::chat::{self, Board, Pieces, READ_AT_MOST, ZWSP};
use super::{BuildError, ChannelSpec, SlackSpec};
use crate::notice::Outgoing;
use crate::text::{colour, facts, one_line, Style};

/// Slack's documented limits (Block Kit reference).
pub const HEADER_MAX: usize = 150;
pub const SECTION_MAX: usize = 3000;
pub const FIELD_MAX: usize = 2000;
pub const FIELDS_MAX: usize = 10;
pub const BLOCKS_MAX: usize = 50;
pub const BUTTON_TEXT_MAX: usize = 75;
pub const URL_MAX: usize = 3000;
/// The notification fallback: Slack accepts far more, a notification shows a line.
pub const FALLBACK_MAX: usize = 300;

/// The colour of a resolved finding (Slack's green).
const RESOLVED: &str = "#2eb67d";

/// Builds the channel: a webhook that is sent [`payload`].
pub fn build(
    spec: &ChannelSpec,
    s: &SlackSpec,
    style: &Style,
) -> Result<chat::JsonHook, BuildError> {
    chat::JsonHook::build(spec, &s.webhook_url, style, payload)
}

/// The webhook's JSON for `msg`.
pub fn payload(msg: &Outgoing, style: &Style) -> Value {
    let note = style.locale.text("notify-truncated");
    let (fallback, color, mut blocks) = match msg {
        Outgoing::One(n) => {
            let fx = facts(n, style);
            let color = if n.kind.is_settled() {
                RESOLVED
            } else {
                colour(fx.label)
            };
            let sev = format!("{} {}", fx.label_text, fx.severity);
            let fallback = format!("[{sev}] {} — {}", fx.headline, fx.change);
            let mut blocks = vec![
                header(&fx.headline, &note),
                section_plain(&format!("{sev} · {}", fx.change), &note),
            ];
            let mut fields = Vec::new();
            for (label, value) in fx.lines.iter().take(FIELDS_MAX / 2) {
                fields.push(json!({"type": "mrkdwn", "text": bold(label)}));
                fields.push(plain_obj(value, FIELD_MAX, &note));
            }
            blocks.push(json!({"type": "section", "fields": fields}));
            if !fx.description.trim().is_empty() {
                blocks.push(label_block(&style.locale.text("notify-description")));
                blocks.push(section_plain(&fx.description, &note));
            }
            if !fx.steps.is_empty() {
                blocks.push(label_block(&style.locale.text("notify-steps")));
                let steps: Vec<String> = fx
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(i, s)| format!("{}. {}", i + 1, s))
                    .collect();
                blocks.push(section_plain(&steps.join("\n"), &note));
            }
            if let Some(link) = fx.link.as_deref().filter(|l| l.len() <= URL_MAX) {
                blocks.push(json!({
                    "type": "actions",
                    "elements": [{
                        "type": "button",
                        "text": plain_obj(&style.locale.text("notify-link"), BUTTON_TEXT_MAX, "…"),
                        "url": link,
                    }],
                }));
            }
            blocks.push(json!({
                "type": "context",
                "elements": [plain_obj(
                    &format!("{}: {}", style.locale.text("notify-id"), fx.id),
                    SECTION_MAX,
                    &note,
                )],
            }));
            (fallback, color, blocks)
        }
        Outgoing::Digest(d) => board(&chat::digest(d, style), style, &note),
        Outgoing::Summary(s) => board(&chat::summary(s, style), style, &note),
    };
    blocks.truncate(BLOCKS_MAX);
    json!({
        "text": fallback_text(&fallback, &note),
        "attachments": [{
            "color": color,
            "fallback": fallback_text(&fallback, &note),
            "blocks": blocks,
        }],
    })
}

fn board(b: &Board, style: &Style, note: &str) -> (String, &'static str, Vec<Value>) {
    let mut blocks = vec![header(&b.title, note)];
    if !b.counts.is_empty() {
        let mut fields = Vec::new();
        for (_, label, n) in b.counts.iter().take(FIELDS_MAX / 2) {
            fields.push(json!({"type": "mrkdwn", "text": bold(label)}));
            fields.push(plain_obj(&keibi_i18n::thousands(*n), FIELD_MAX, note));
        }
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    if let Some(empty) = &b.empty {
        blocks.push(section_plain(empty, note));
    }
    for it in &b.items {
        blocks.push(section_plain(
            &format!("{} · {} · {}", it.severity, it.headline, it.detail),
            note,
        ));
        if let Some(link) = it.link.as_deref().filter(|l| l.len() <= URL_MAX) {
            blocks.push(json!({
                "type": "actions",
                "elements": [{
                    "type": "button",
                    "text": plain_obj(&style.locale.text("notify-link"), BUTTON_TEXT_MAX, "…"),
                    "url": link,
                }],
            }));
        }
    }
    if let Some(more) = &b.more {
        blocks.push(json!({"type": "context", "elements": [plain_obj(more, SECTION_MAX, note)]}));
    }
    // Room for the last context block within Slack's 50.
    if blocks.len() > BLOCKS_MAX {
        let last = blocks.pop();
        blocks.truncate(BLOCKS_MAX - 1);
        blocks.extend(last);
    }
    let color = if b.items.is_empty() && b.counts.iter().all(|c| c.2 == 0) {
        RESOLVED
    } else {
        colour(b.label)
    };
    (b.title.clone(), color, blocks)
}

fn header(text: &str, note: &str) -> Value {
    json!({"type": "header", "text": plain_obj(&one_line(text), HEADER_MAX, note)})
}

fn section_plain(text: &str, note: &str) -> Value {
    json!({"type": "section", "text": plain_obj(text, SECTION_MAX, note)})
}

/// keibi's own label in bold (no attacker-written text ever goes into mrkdwn).
fn label_block(label: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": bold(label)}})
}

fn bold(label: &str) -> String {
    format!("*{}*", mrkdwn(label, FIELD_MAX - 2, "…"))
}

fn plain_obj(text: &str, max: usize, note: &str) -> Value {
    json!({"type": "plain_text", "text": plain(text, max, note), "emoji": false})
}

/// Text for a `plain_text` object: `&`, `<`, `>` escaped, links broken; at most
/// `max` characters (the `emoji: false` of the object keeps `:shortcodes:` as text).
pub fn plain(s: &str, max: usize, note: &str) -> String {
    escape(s, max, note, false)
}

/// Text for mrkdwn (the fallback, keibi's labels): also `*`, `_`, `~`, `` ` ``
/// each between zero-width spaces, so that they pair with nothing.
pub fn mrkdwn(s: &str, max: usize, note: &str) -> String {
    escape(s, max, note, true)
}

fn escape(s: &str, max: usize, note: &str, markup: bool) -> String {
    let chars: Vec<char> = s.chars().take(READ_AT_MOST).collect();
    let mut p = Pieces::default();
    let mut piece = String::new();
    for (i, &c) in chars.iter().enumerate() {
        piece.clear();
        match c {
            '&' => piece.push_str("&amp;"),
            '<' => piece.push_str("&lt;"),
            '>' => piece.push_str("&gt;"),
            '*' | '_' | '~' | '`' if markup => {
                piece.push(ZWSP);
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

fn fallback_text(s: &str, note: &str) -> String {
    mrkdwn(&one_line(s), FALLBACK_MAX, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_entities_and_markup_is_guarded() {
        assert_eq!(
            plain("<!channel> & <http://x|y>", 100, "…"),
            "&lt;!channel&gt; &amp; &lt;http:\u{200b}//x|y&gt;"
        );
        assert_eq!(
            mrkdwn("*b*", 100, "…"),
            "\u{200b}*\u{200b}b\u{200b}*\u{200b}"
        );
        // Cut between pieces: never half an entity.
        assert_eq!(plain("a<<<", 6, "…"), "a&lt;…");
    }
}
