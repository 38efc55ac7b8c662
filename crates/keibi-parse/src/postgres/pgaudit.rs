//! pgaudit's `AUDIT:` records: a CSV line after the prefix, whose statement field may
//! hold commas, doubled quotes and line breaks. Read the same from every log format.
//!
//! A small RFC 4180 splitter rather than `csv-core`: statements are long and rarely
//! escaped, and finding the closing quote with memchr and borrowing the text is several
//! times faster than copying it byte by byte, on a line that every audited statement
//! writes.

use std::borrow::Cow;

use keibi_model::event::StatementClass;
use keibi_model::{CompactString, Statement};

/// Reads the CSV after `AUDIT: `: `AUDIT_TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,
/// OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER[,ROWS]`. `None` when it has fewer than
/// the eight fields up to the statement.
pub fn parse(csv: &str) -> Option<Statement> {
    let mut fields = Fields { rest: Some(csv) };
    let mut f: [Cow<'_, str>; 8] = Default::default();
    for slot in &mut f {
        *slot = fields.next()?;
    }
    let [audit_type, _, _, class, command, object_type, object, text] = f;
    let opt = |v: Cow<'_, str>| (!v.is_empty()).then(|| CompactString::from(v));
    Some(Statement {
        text: text.into_owned(),
        class: class_from_name(&class),
        command: opt(command),
        object_type: opt(object_type),
        object: opt(object),
        audit_type: Some(opt(audit_type)?),
        ..Statement::default()
    })
}

/// pgaudit's class names, which it writes in upper case (`StatementClass::from_name`
/// allocates to compare without case; this runs for every audit line).
fn class_from_name(name: &str) -> Option<StatementClass> {
    Some(match name {
        "READ" => StatementClass::Read,
        "WRITE" => StatementClass::Write,
        "FUNCTION" => StatementClass::Function,
        "ROLE" => StatementClass::Role,
        "DDL" => StatementClass::Ddl,
        "MISC" => StatementClass::Misc,
        "MISC_SET" => StatementClass::MiscSet,
        other => return StatementClass::from_name(other),
    })
}

/// The fields of one CSV record: a quoted field may hold commas, line breaks and
/// doubled quotes; an unterminated one runs to the end; text after a closing quote
/// and before the next comma is kept (as csv-core does).
struct Fields<'a> {
    /// What follows the last field read; `None` after the last field.
    rest: Option<&'a str>,
}

impl<'a> Iterator for Fields<'a> {
    type Item = Cow<'a, str>;

    fn next(&mut self) -> Option<Cow<'a, str>> {
        let s = self.rest?;
        let Some(quoted) = s.strip_prefix('"') else {
            return Some(Cow::Borrowed(match memchr::memchr(b',', s.as_bytes()) {
                Some(i) => {
                    self.rest = Some(&s[i + 1..]);
                    &s[..i]
                }
                None => {
                    self.rest = None;
                    s
                }
            }));
        };
        let b = quoted.as_bytes();
        // Find the closing quote first, noting doubled quotes, so that an escaped
        // field is built in one allocation of the right size.
        let mut doubled = 0;
        let mut i = 0;
        let end = loop {
            match memchr::memchr(b'"', &b[i..]) {
                Some(q) if b.get(i + q + 1) == Some(&b'"') => {
                    doubled += 1;
                    i += q + 2;
                }
                Some(q) => break i + q,
                None => break b.len(),
            }
        };
        let body = &quoted[..end];
        let text = if doubled == 0 {
            Cow::Borrowed(body)
        } else {
            let mut o = String::with_capacity(body.len() - doubled);
            let mut rest = body;
            while let Some(q) = rest.find("\"\"") {
                o.push_str(&rest[..=q]);
                rest = &rest[q + 2..];
            }
            o.push_str(rest);
            Cow::Owned(o)
        };
        let after = quoted.get(end + 1..).unwrap_or("");
        self.rest = None;
        let text = match memchr::memchr(b',', after.as_bytes()) {
            Some(c) => {
                self.rest = Some(&after[c + 1..]);
                append(text, &after[..c])
            }
            None => append(text, after),
        };
        Some(text)
    }
}

fn append<'a>(text: Cow<'a, str>, tail: &str) -> Cow<'a, str> {
    if tail.is_empty() {
        return text;
    }
    let mut o = text.into_owned();
    o.push_str(tail);
    Cow::Owned(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(s: &str) -> Vec<String> {
        Fields { rest: Some(s) }.map(Cow::into_owned).collect()
    }

    #[test]
    fn splitter_follows_rfc_4180() {
        assert_eq!(fields("a,b,,c"), ["a", "b", "", "c"]);
        assert_eq!(fields(""), [""]);
        assert_eq!(fields(","), ["", ""]);
        assert_eq!(fields("\"a,b\",c"), ["a,b", "c"]);
        assert_eq!(fields("\"a \"\"q\"\" b\",\"\""), ["a \"q\" b", ""]);
        assert_eq!(fields("\"x\ny\"\"\""), ["x\ny\""]);
        assert_eq!(fields("\"\"\"\""), ["\""]);
        assert_eq!(fields("\"open, never closed"), ["open, never closed"]);
        assert_eq!(fields("\"ab\"cd,e"), ["abcd", "e"]);
        assert_eq!(fields("x\"y,z"), ["x\"y", "z"]);
        assert_eq!(fields("é,\"ü\"\"\""), ["é", "ü\""]);
    }

    #[test]
    fn plain_and_quoted_records() {
        let st = parse("SESSION,1,1,READ,SELECT,,,\"SELECT id, email FROM customers WHERE id = 1\",<not logged>").unwrap();
        assert_eq!(st.text, "SELECT id, email FROM customers WHERE id = 1");
        assert_eq!(st.class, Some(StatementClass::Read));
        assert_eq!(st.command.as_deref(), Some("SELECT"));
        assert_eq!(st.audit_type.as_deref(), Some("SESSION"));
        assert_eq!(st.object, None);
        let st = parse("OBJECT,2,1,WRITE,UPDATE,TABLE,public.account,update account").unwrap();
        assert_eq!(st.object_type.as_deref(), Some("TABLE"));
        assert_eq!(st.object.as_deref(), Some("public.account"));
        assert_eq!(st.text, "update account");
        assert_eq!(st.class, Some(StatementClass::Write));
    }

    #[test]
    fn commas_doubled_quotes_and_newlines() {
        let st = parse(
            "SESSION,3,1,DDL,CREATE TABLE,TABLE,\"public.\"\"we,ird\"\"\",\"CREATE TABLE \"\"we,ird\"\" (a int,\n\tb text)\",<none>",
        )
        .unwrap();
        assert_eq!(st.object.as_deref(), Some("public.\"we,ird\""));
        assert_eq!(st.text, "CREATE TABLE \"we,ird\" (a int,\n\tb text)");
        assert_eq!(st.command.as_deref(), Some("CREATE TABLE"));
        assert_eq!(st.class, Some(StatementClass::Ddl));
    }

    #[test]
    fn short_or_broken_records() {
        assert!(parse("SESSION,1,1,READ").is_none());
        assert!(parse("").is_none());
        // An unterminated quote runs to the end: still no panic.
        let st = parse("SESSION,1,1,READ,SELECT,,,\"SELECT 1").unwrap();
        assert_eq!(st.text, "SELECT 1");
    }
}
