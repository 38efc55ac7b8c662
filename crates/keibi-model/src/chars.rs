//! Which characters of attacker-written text an output shows as a visible escape
//! instead of printing them: one definition for the terminal (the binary's
//! `output/sanitize.rs`) and the dashboard (`keibi-server`'s `pages::shown`), so
//! `post\u{2060}gres` reads as neither `postgres` nor anything else anywhere.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Whether `c` must be shown as an escape rather than printed: every ASCII control;
/// by general category, every control (Cc), format character (Cf: soft hyphen,
/// Arabic letter mark, zero-width and bidi controls, word joiner and invisible
/// operators, BOM, tag characters), line and paragraph separator (Zl, Zp) and
/// unassigned code point (Cn); and the default ignorable characters of other
/// categories, which render as nothing: the Hangul fillers, Khmer inherent vowels,
/// Mongolian and other variation selectors, the combining grapheme joiner, and the
/// blank Braille pattern.
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
