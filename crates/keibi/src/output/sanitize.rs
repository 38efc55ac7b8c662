//! Makes attacker-written text safe to print on a terminal: control characters (ESC,
//! CR, backspace ...), and every character that changes or hides what is shown
//! (bidi overrides, zero-width and other format characters, line separators, blank
//! fillers, variation selectors), become visible escapes, and long text is cut.
//! `post\u{2060}gres` must not read as `postgres`.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Whether `c` must be shown as an escape rather than printed (the one definition,
/// shared with the dashboard).
pub use keibi_model::chars::is_unsafe;

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

/// Cuts `s` to at most `max` terminal columns, marking the cut with `…` (one
/// column). Widths are display widths: an East Asian wide character takes two
/// columns, a combining mark none. A cut never splits a character, never leaves half
/// a wide character, and keeps combining marks with the character they sit on.
pub fn cut(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    let room = max.saturating_sub(1);
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let w = c.width().unwrap_or(0);
        if w > 0 && used + w > room {
            break;
        }
        used += w;
        end = i + c.len_utf8();
    }
    Cow::Owned(format!("{}…", &s[..end]))
}

/// The columns `s` takes on a terminal (after [`terminal`], which leaves no control
/// characters).
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` followed by spaces to `w` columns.
pub fn pad(s: &str, w: usize) -> String {
    let mut out = String::with_capacity(s.len() + w);
    out.push_str(s);
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(s))));
    out
}

/// Spaces, then `s`, to `w` columns.
pub fn pad_left(s: &str, w: usize) -> String {
    let mut out: String = std::iter::repeat_n(' ', w.saturating_sub(width(s))).collect();
    out.push_str(s);
    out
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
        // Wide characters take two columns: never half of one.
        assert_eq!(cut("データベース", 6), "デー…");
        assert_eq!(width(&cut("データベース", 6)), 5);
        assert_eq!(cut("データベース", 7), "データ…");
        // A combining mark stays with its letter.
        assert_eq!(
            cut("e\u{301}e\u{301}e\u{301}e\u{301}", 3),
            "e\u{301}e\u{301}…"
        );
        assert_eq!(pad("ユーザー", 10), "ユーザー  ");
        assert_eq!(pad_left("42", 5), "   42");
    }
}
