//! Small text helpers shared by finding texts and the binary's messages.

/// `1532` as `1,532`.
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

/// Sets a finding's texts from catalog messages: `f.text` keeps them for outputs in
/// another language or zone, and `title`, `description` and `remediation` get their
/// English rendering with UTC times, the contract's strings (docs/i18n.md).
pub fn set(f: &mut keibi_model::Finding, text: keibi_model::FindingText) {
    let en = keibi_i18n::Locale::english_utc();
    let (title, description, remediation) = en.finding(&text);
    if let Some(title) = title {
        f.title = title;
    }
    f.description = description;
    f.remediation = remediation;
    f.text = Some(Box::new(text));
}
