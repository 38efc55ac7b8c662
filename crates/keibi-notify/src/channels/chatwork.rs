//! Chatwork: `POST {api_url}/rooms/{room_id}/messages` with the API token in
//! `X-ChatWorkToken` and the message as the form field `body`, laid out in
//! Chatwork's message notation (`[info][title]…[/title]…[/info]`, `[hr]`).
//!
//! Chatwork reads its tags anywhere in a message (`[To:123]` and `[toall]` notify
//! people, `[info]`, `[code]`, `[qt]`, `[hr]`… change the layout), so in
//! attacker-written text every `[` is followed by a zero-width space, which no tag
//! matches; a zero-width space also breaks `scheme://` and `www.` so Chatwork makes
//! no link of them. Values are on one line and cut by characters.

use super::chat::{self, Board, Pieces, READ_AT_MOST, ZWSP};
use super::{BuildError, ChannelSpec, ChatworkSpec};
use crate::notice::Outgoing;
use crate::text::{facts, one_line, Style};
use crate::{Channel, SendError, Sent};

pub const DEFAULT_API_URL: &str = "https://api.chatwork.com/v2";

/// keibi's bounds: a value line, the description, a step, the whole message.
pub const VALUE_MAX: usize = 500;
pub const DESCRIPTION_MAX: usize = 2000;
pub const STEP_MAX: usize = 1000;
pub const BODY_MAX: usize = 10_000;

pub struct Chatwork {
    name: String,
    url: String,
    token: String,
    style: Style,
}

pub fn build(spec: &ChannelSpec, s: &ChatworkSpec, style: &Style) -> Result<Chatwork, BuildError> {
    let token = chat::reveal(spec, &s.api_token)?;
    if !s.room_id.chars().all(|c| c.is_ascii_digit()) || s.room_id.is_empty() {
        return Err(BuildError::Invalid {
            name: spec.name.clone(),
            reason: format!("room_id {:?} is not a number", one_line(&s.room_id)),
        });
    }
    // It goes into a header: anything else would fail every delivery.
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(BuildError::Invalid {
            name: spec.name.clone(),
            reason: "api_token has characters other than printable ASCII".into(),
        });
    }
    let base = s.api_url.as_deref().unwrap_or(DEFAULT_API_URL);
    chat::check_url(spec, base)?;
    Ok(Chatwork {
        name: spec.name.clone(),
        url: format!(
            "{}/rooms/{}/messages",
            base.trim_end_matches('/'),
            s.room_id
        ),
        token,
        style: chat::style_for(spec, style)?,
    })
}

impl Channel for Chatwork {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("body", &message(msg, &self.style))
            .finish();
        crate::http::post(
            &self.url,
            "application/x-www-form-urlencoded",
            &[("X-ChatWorkToken", self.token.clone())],
            body.into_bytes(),
        )
    }
}

/// The message (the form's `body`) for `msg`.
pub fn message(msg: &Outgoing, style: &Style) -> String {
    let note = style.locale.text("notify-truncated");
    let loc = &style.locale;
    let mut m = String::new();
    match msg {
        Outgoing::One(n) => {
            let fx = facts(n, style);
            m.push_str("[info][title]");
            m.push_str(&inert(
                &format!("{} {} · {}", fx.label_text, fx.severity, fx.headline),
                VALUE_MAX,
                &note,
            ));
            m.push_str("[/title]");
            m.push_str(&inert(&fx.change, VALUE_MAX, &note));
            m.push('\n');
            for (label, value) in &fx.lines {
                m.push_str(&inert(&format!("{label}: {value}"), VALUE_MAX, &note));
                m.push('\n');
            }
            if !fx.description.trim().is_empty() {
                m.push_str("[hr]");
                m.push_str(&inert(&loc.text("notify-description"), VALUE_MAX, &note));
                m.push('\n');
                m.push_str(&inert(&fx.description, DESCRIPTION_MAX, &note));
                m.push('\n');
            }
            if !fx.steps.is_empty() {
                m.push_str("[hr]");
                m.push_str(&inert(&loc.text("notify-steps"), VALUE_MAX, &note));
                m.push('\n');
                for (i, step) in fx.steps.iter().enumerate() {
                    m.push_str(&format!("{}. {}\n", i + 1, inert(step, STEP_MAX, &note)));
                }
            }
            m.push_str("[hr]");
            if let Some(link) = fx.link.as_deref().filter(|l| safe_link(l)) {
                m.push_str(&inert(&loc.text("notify-link"), VALUE_MAX, &note));
                m.push_str(": ");
                m.push_str(link);
                m.push('\n');
            }
            m.push_str(&inert(
                &format!("{}: {}", loc.text("notify-id"), fx.id),
                VALUE_MAX,
                &note,
            ));
            m.push_str("[/info]");
        }
        Outgoing::Digest(d) => board(&mut m, &chat::digest(d, style), &note),
        Outgoing::Summary(s) => board(&mut m, &chat::summary(s, style), &note),
    }
    // Every part is bounded; this keeps the whole within Chatwork's message size
    // even with many steps, cutting at a line so no tag is left open.
    if m.chars().count() > BODY_MAX {
        let mut cut: String = m.chars().take(BODY_MAX - 20).collect();
        if let Some(nl) = cut.rfind('\n') {
            cut.truncate(nl + 1);
        }
        cut.push_str(&inert(&note, 20, "…"));
        if cut.starts_with("[info]") {
            cut.push_str("[/info]");
        }
        m = cut;
    }
    m
}

fn board(m: &mut String, b: &Board, note: &str) {
    m.push_str("[info][title]");
    m.push_str(&inert(&b.title, VALUE_MAX, note));
    m.push_str("[/title]");
    for (_, label, n) in &b.counts {
        m.push_str(&inert(
            &format!("{label}: {}", keibi_i18n::thousands(*n)),
            VALUE_MAX,
            note,
        ));
        m.push('\n');
    }
    if let Some(empty) = &b.empty {
        m.push_str(&inert(empty, VALUE_MAX, note));
        m.push('\n');
    }
    if !b.items.is_empty() && !b.counts.is_empty() {
        m.push_str("[hr]");
    }
    for it in &b.items {
        m.push_str(&inert(
            &format!("{} · {} · {}", it.severity, it.headline, it.detail),
            VALUE_MAX,
            note,
        ));
        if let Some(link) = it.link.as_deref().filter(|l| safe_link(l)) {
            m.push(' ');
            m.push_str(link);
        }
        m.push('\n');
    }
    if let Some(more) = &b.more {
        m.push_str(&inert(more, VALUE_MAX, note));
    }
    while m.ends_with('\n') {
        m.pop();
    }
    m.push_str("[/info]");
}

/// keibi's dashboard link as it is: no tag or line break in it.
fn safe_link(l: &str) -> bool {
    !l.contains(['[', ']', '\n', '\r', ' '])
}

/// `s` on one line with every `[` followed by a zero-width space (no Chatwork tag
/// can start there) and links broken; at most `max` characters.
pub fn inert(s: &str, max: usize, note: &str) -> String {
    let one = one_line(s);
    let chars: Vec<char> = one.chars().take(READ_AT_MOST).collect();
    let mut p = Pieces::default();
    let mut piece = String::new();
    for (i, &c) in chars.iter().enumerate() {
        piece.clear();
        piece.push(c);
        if c == '[' || chat::starts_link(&chars[..i], c, chars.get(i + 1).copied()) {
            piece.push(ZWSP);
        }
        p.push(&piece);
    }
    p.fit(max, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_cannot_start_in_a_value() {
        assert_eq!(
            inert("[toall] [To:1]\n", 100, "…"),
            "[\u{200b}toall] [\u{200b}To:1] "
        );
    }
}
