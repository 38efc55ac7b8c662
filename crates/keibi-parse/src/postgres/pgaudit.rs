//! pgaudit's `AUDIT:` records: a CSV line after the prefix, whose statement field may
//! hold commas, doubled quotes and line breaks. Read the same from every log format.

use keibi_model::event::StatementClass;
use keibi_model::Statement;

use super::csvlog::CsvFields;

/// Reads the CSV after `AUDIT: `: `AUDIT_TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,
/// OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER[,ROWS]`. `None` when it has fewer than
/// the eight fields up to the statement.
pub fn parse(csv: &str, f: &mut CsvFields) -> Option<Statement> {
    if !f.split(csv.as_bytes()) || f.len() < 8 {
        return None;
    }
    // Fields of a `&str` split at ASCII quotes and commas are UTF-8; the lossy path is
    // a fallback only.
    let field = |i: usize| {
        let b = f.get(i).unwrap_or_default();
        match std::str::from_utf8(b) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(b),
        }
    };
    let opt = |i: usize| {
        let v = field(i);
        (!v.is_empty()).then(|| v.into_owned())
    };
    let audit_type = opt(0)?;
    Some(Statement {
        text: field(7).into_owned(),
        class: StatementClass::from_name(&field(3)),
        command: opt(4),
        object_type: opt(5),
        object: opt(6),
        audit_type: Some(audit_type),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(csv: &str) -> Option<Statement> {
        super::parse(csv, &mut CsvFields::new())
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
