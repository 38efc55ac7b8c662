//! Makes attacker-written text safe to print on a terminal: control characters (ESC,
//! CR, backspace ...), and every character that changes or hides what is shown
//! (bidi overrides, zero-width and other format characters, line separators, blank
//! fillers, variation selectors), become visible escapes, and long text is cut.
//! `post\u{2060}gres` must not read as `postgres`.

use std::borrow::Cow;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Whether `c` must be shown as an escape rather than printed: by general category,
/// every control (Cc), format character (Cf: soft hyphen, Arabic letter mark, zero-width
/// and bidi controls, word joiner and invisible operators, BOM, tag characters), line
/// and paragraph separator (Zl, Zp) and unassigned code point (Cn); and the default
/// ignorable characters of other categories, which render as nothing: the Hangul
/// fillers, Khmer inherent vowels, Mongolian and other variation selectors, the
/// combining grapheme joiner, and the blank Braille pattern.
pub fn is_unsafe(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::Unassigned
    ) || matches!(
        c,
        '\u{034f}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{ffa0}'
            | '\u{e0100}'..='\u{e01ef}'
    )
}

/// Escapes characters a terminal would interpret; newlines and tabs become `\n`, `\t`.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe(c) => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub fn cut(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some(_) => {
            let end = s
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(s.len(), |(i, _)| i);
            Cow::Owned(format!("{}…", &s[..end]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(terminal("plain"), "plain");
        assert_eq!(terminal("a\x1b[31mred\nb"), "a\\u{1b}[31mred\\nb");
        assert_eq!(terminal("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(terminal("post\u{2060}gres"), "post\\u{2060}gres");
    }

    /// Every invisible or format character the attacker's probe used, and the rest of
    /// their kind, is escaped; visible text (accents, CJK, emoji, ordinary spaces) is not.
    #[test]
    fn escapes_every_invisible_character() {
        let mut hidden: Vec<char> = vec![
            '\u{00ad}',
            '\u{061c}',
            '\u{2028}',
            '\u{2029}',
            '\u{3164}',
            '\u{115f}',
            '\u{1160}',
            '\u{ffa0}',
            '\u{feff}',
            '\u{034f}',
            '\u{17b4}',
            '\u{17b5}',
            '\u{180e}',
            '\u{2800}',
            '\u{0085}',
            '\u{009b}',
            '\u{007f}',
            '\u{0000}',
            '\u{0008}',
            '\u{2065}',
            '\u{fff9}',
            '\u{1d173}',
            '\u{e0080}',
        ];
        let ranges = [
            ('\u{0000}', '\u{001f}'),
            ('\u{0080}', '\u{009f}'),
            ('\u{200b}', '\u{200f}'),
            ('\u{202a}', '\u{202e}'),
            ('\u{2060}', '\u{2064}'),
            ('\u{2066}', '\u{206f}'),
            ('\u{180b}', '\u{180f}'),
            ('\u{fe00}', '\u{fe0f}'),
            ('\u{e0000}', '\u{e007f}'),
            ('\u{e0100}', '\u{e01ef}'),
        ];
        for (lo, hi) in ranges {
            hidden.extend(lo..=hi);
        }
        for c in hidden {
            let s = format!("post{c}gres");
            let shown = terminal(&s);
            assert!(
                !shown.contains(c) && shown.is_ascii(),
                "U+{:04X} printed raw: {shown:?}",
                c as u32
            );
            if !matches!(c, '\n' | '\t' | '\r') {
                assert_eq!(shown, format!("post\\u{{{:x}}}gres", c as u32));
            }
        }
        for ok in [
            "héllo wörld",
            "ユーザー",
            "пароль",
            "a\u{00a0}b",
            "日本 語",
            "😀",
            "e\u{0301}",
        ] {
            assert_eq!(terminal(ok), ok);
        }
    }

    #[test]
    fn cuts_on_char_boundaries() {
        assert_eq!(cut("héllo", 10), "héllo");
        assert_eq!(cut("héllo wörld", 5), "héll…");
    }
}
