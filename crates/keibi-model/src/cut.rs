//! The marker that stands for the middle of an oversized line: keibi-parse reads only
//! the head and the tail of a line over its bound and writes this between them, so the
//! text of an event says where bytes were left out and how many
//! ([`crate::Event::oversized`] says that it happened).

/// How every cut marker starts.
pub const CUT_MARK: &str = " [... keibi: ";

/// What stands for the `skipped` bytes left out of an oversized line. Plain ASCII
/// without quotes, backslashes, commas or line ends, so it stays inside whatever
/// quoted field or JSON string the cut falls in.
pub fn cut_marker(skipped: u64) -> String {
    format!("{CUT_MARK}{skipped} bytes not read ...] ")
}

/// The length `text` had before a cut: its own length less the first marker in it,
/// plus the bytes that marker says were left out. `None` without a well-formed marker.
/// Anyone can write a marker into a log, so trust it only for an event whose
/// `oversized` is set.
pub fn uncut_len(text: &str) -> Option<u64> {
    let at = text.find(CUT_MARK)?;
    let rest = &text[at + CUT_MARK.len()..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let skipped: u64 = rest[..digits].parse().ok()?;
    let marker = cut_marker(skipped);
    if !text[at..].starts_with(&marker) {
        return None;
    }
    Some((text.len() - marker.len()) as u64).map(|n| n.saturating_add(skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_before_the_cut() {
        let text = format!("SELECT 1 /*xx{}xx*/; DROP TABLE t", cut_marker(1_000));
        assert_eq!(uncut_len(&text), Some(31 + 1_000));
        assert_eq!(uncut_len("SELECT 1"), None);
        assert_eq!(uncut_len(" [... keibi: 12 bytes"), None);
        assert_eq!(
            uncut_len(" [... keibi: 99999999999999999999999 bytes not read ...] "),
            None
        );
    }
}
