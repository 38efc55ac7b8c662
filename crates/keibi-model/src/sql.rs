//! Derives a statement's class and command tag from SQL text, for logs that carry
//! plain SQL (`log_statement`, server_audit QUERY, the general log) rather than
//! pgaudit's own classification. Looks only at the leading keywords: cheap, total,
//! and never fails on hostile text.

use std::borrow::Cow;

use compact_str::{format_compact, CompactString};

use crate::event::StatementClass;

/// Object kinds that make a two-word command tag (`CREATE TABLE`, `DROP ROLE`).
const OBJECT_KINDS: &[&str] = &[
    "TABLE",
    "ROLE",
    "USER",
    "DATABASE",
    "SCHEMA",
    "INDEX",
    "VIEW",
    "FUNCTION",
    "PROCEDURE",
    "TRIGGER",
    "EXTENSION",
    "SEQUENCE",
    "TYPE",
    "DOMAIN",
    "LANGUAGE",
    "SERVER",
    "EVENT",
    "PUBLICATION",
    "SUBSCRIPTION",
    "POLICY",
    "RULE",
    "AGGREGATE",
    "OPERATOR",
    "TABLESPACE",
    "MATERIALIZED",
    "FOREIGN",
    "GROUP",
    "PLUGIN",
    "COLLATION",
    "CAST",
    "STATISTICS",
    "SYSTEM",
    "INSTANCE",
];

/// Words between the verb and the object kind that do not change the command.
const NOISE: &[&str] = &[
    "OR",
    "REPLACE",
    "UNIQUE",
    "TEMP",
    "TEMPORARY",
    "UNLOGGED",
    "GLOBAL",
    "LOCAL",
    "IF",
    "NOT",
    "EXISTS",
    "CONCURRENTLY",
    "DEFINER",
    "ALGORITHM",
    "SQL",
    "SECURITY",
    "TRUSTED",
    "PROCEDURAL",
    "ONLINE",
    "OFFLINE",
    "IGNORE",
    "RECURSIVE",
];

/// Returns the statement class and the upper-case command tag, when recognisable.
pub fn classify(sql: &str) -> (Option<StatementClass>, Option<CompactString>) {
    let mut words = Words::new(sql);
    let Some(first) = words.next() else {
        return (None, None);
    };
    let verb = upper(first);
    use StatementClass::*;
    let two_word = |words: &mut Words<'_>, verb: &str| -> CompactString {
        let mut in_definer = false;
        for w in words.by_ref().take(10) {
            let up = upper(w);
            if up.starts_with("DEFINER") {
                // MySQL `DEFINER=`user`@`host``: skip the account words.
                in_definer = true;
                continue;
            }
            if NOISE.contains(&up.as_str()) || up.contains('=') {
                continue;
            }
            if in_definer && !OBJECT_KINDS.contains(&up.as_str()) {
                continue;
            }
            if OBJECT_KINDS.contains(&up.as_str()) {
                return match up.as_str() {
                    "MATERIALIZED" => format_compact!("{verb} MATERIALIZED VIEW"),
                    "FOREIGN" => format_compact!("{verb} FOREIGN TABLE"),
                    _ => format_compact!("{verb} {up}"),
                };
            }
            break;
        }
        CompactString::from(verb)
    };
    let (class, command) = match verb.as_str() {
        "SELECT" | "SHOW" | "DESCRIBE" | "DESC" | "EXPLAIN" | "TABLE" | "VALUES" | "FETCH" => {
            (Read, verb.clone())
        }
        "WITH" => {
            // A CTE's class is that of its main statement; find the first DML verb.
            let main = words
                .map(upper)
                .find(|w| matches!(w.as_str(), "INSERT" | "UPDATE" | "DELETE" | "MERGE"))
                .unwrap_or_else(|| CompactString::const_new("SELECT"));
            let class = if main == "SELECT" { Read } else { Write };
            (class, main)
        }
        "INSERT" | "UPDATE" | "DELETE" | "TRUNCATE" | "MERGE" | "REPLACE" | "UPSERT" => {
            (Write, verb.clone())
        }
        "LOAD" => (Write, CompactString::const_new("LOAD DATA")),
        "COPY" => {
            // COPY ... TO reads data out; COPY ... FROM writes it in.
            let dir = words.map(upper).find(|w| w == "TO" || w == "FROM");
            (
                if dir.as_deref() == Some("FROM") {
                    Write
                } else {
                    Read
                },
                verb.clone(),
            )
        }
        "GRANT" | "REVOKE" => (Role, verb.clone()),
        "CREATE" | "ALTER" | "DROP" | "RENAME" => {
            let cmd = two_word(&mut words, &verb);
            let class =
                if cmd.ends_with(" ROLE") || cmd.ends_with(" USER") || cmd.ends_with(" GROUP") {
                    Role
                } else {
                    Ddl
                };
            (class, cmd)
        }
        "SET" => {
            // MySQL's SET PASSWORD changes a credential.
            match words.next().map(upper).as_deref() {
                Some("PASSWORD") => (Role, CompactString::const_new("SET PASSWORD")),
                Some("ROLE") => (MiscSet, CompactString::const_new("SET ROLE")),
                _ => (MiscSet, verb.clone()),
            }
        }
        "RESET" => (MiscSet, verb.clone()),
        "CALL" | "DO" | "EXECUTE" | "EXEC" | "PERFORM" => (Function, verb.clone()),
        "COMMENT" | "SECURITY" | "REFRESH" | "CLUSTER" | "REINDEX" | "IMPORT" | "INSTALL"
        | "UNINSTALL" => (Ddl, two_word(&mut words, &verb)),
        "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "PREPARE"
        | "DEALLOCATE" | "DISCARD" | "VACUUM" | "ANALYZE" | "ANALYSE" | "CHECKPOINT" | "LOCK"
        | "UNLOCK" | "LISTEN" | "NOTIFY" | "UNLISTEN" | "USE" | "FLUSH" | "KILL" | "OPTIMIZE"
        | "CHECK" | "REPAIR" | "HANDLER" | "CLOSE" | "DECLARE" | "MOVE" | "PURGE" | "RESTORE"
        | "BACKUP" | "SHUTDOWN" | "XA" | "HELP" | "STOP" | "CHANGE" | "BINLOG" | "CACHE" => {
            (Misc, verb.clone())
        }
        _ => return (None, None),
    };
    (Some(class), Some(command))
}

/// A word in upper case, inline when short (every SQL keyword is).
fn upper(w: &str) -> CompactString {
    let mut c = CompactString::from(w);
    c.make_ascii_uppercase();
    c
}

/// What replaces a password literal.
pub const REDACTED: &str = "'*****'";

/// Masks password literals in SQL, as pgaudit and the MariaDB audit plugin do, so
/// that logs which carry them in clear (`log_statement`, the general query log) do not
/// spread them into events, alerts and exports: `PASSWORD 'x'`,
/// `IDENTIFIED [WITH plugin] BY [PASSWORD] 'x'`, `SET PASSWORD [FOR acct] = 'x'`,
/// `PASSWORD('x')`.
pub fn redact_passwords(sql: &str) -> Cow<'_, str> {
    // Fast path for the hot loop: almost no statement mentions a password.
    const HINTS: [&str; 6] = [
        "assword",
        "ASSWORD",
        "dentified",
        "DENTIFIED",
        "Assword",
        "Dentified",
    ];
    if !HINTS.iter().any(|h| sql.contains(h)) {
        return Cow::Borrowed(sql);
    }
    let bytes = sql.as_bytes();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let Some(kw) = keyword_at(bytes, i) else {
            i += 1;
            continue;
        };
        let mut j = i + kw.len();
        // Skip what may stand between the keyword and the literal.
        loop {
            while j < bytes.len()
                && (bytes[j].is_ascii_whitespace() || bytes[j] == b'=' || bytes[j] == b'(')
            {
                j += 1;
            }
            let rest = &bytes[j..];
            let word_len = rest
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            let word = &rest[..word_len];
            if word.eq_ignore_ascii_case(b"BY")
                || word.eq_ignore_ascii_case(b"PASSWORD")
                || word.eq_ignore_ascii_case(b"AS")
            {
                j += word_len;
            } else if word.eq_ignore_ascii_case(b"WITH") {
                j += word_len;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                j += skip_token(&bytes[j..]);
            } else if word.eq_ignore_ascii_case(b"FOR") {
                // SET PASSWORD FOR 'user'@'host' = ...: skip the account.
                j += word_len;
                while j < bytes.len() && bytes[j] != b'=' && bytes[j] != b';' {
                    j += 1;
                }
            } else {
                break;
            }
        }
        if let Some(&q) = bytes.get(j).filter(|b| **b == b'\'' || **b == b'"') {
            let end = literal_end(bytes, j, q);
            spans.push((j, end));
            i = end;
        } else {
            i = j.max(i + 1);
        }
    }
    if spans.is_empty() {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut last = 0;
    for (a, b) in spans {
        out.push_str(&sql[last..a]);
        out.push_str(REDACTED);
        last = b;
    }
    out.push_str(&sql[last..]);
    Cow::Owned(out)
}

/// `PASSWORD` or `IDENTIFIED` as a whole word at `i`.
fn keyword_at(b: &[u8], i: usize) -> Option<&'static str> {
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
        return None;
    }
    for kw in ["PASSWORD", "IDENTIFIED"] {
        let end = i + kw.len();
        if end <= b.len()
            && b[i..end].eq_ignore_ascii_case(kw.as_bytes())
            && b.get(end)
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        {
            return Some(kw);
        }
    }
    None
}

/// Length of one token: a quoted or backquoted name, or a bare word.
fn skip_token(b: &[u8]) -> usize {
    match b.first() {
        Some(&q @ (b'\'' | b'"' | b'`')) => literal_end(b, 0, q),
        _ => b
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count(),
    }
}

/// End (exclusive) of the quoted literal starting at `start`, honouring doubled quotes
/// and backslash escapes; the end of input when it never closes.
fn literal_end(b: &[u8], start: usize, q: u8) -> usize {
    let mut k = start + 1;
    while k < b.len() {
        if b[k] == b'\\' {
            k += 2;
        } else if b[k] == q {
            if b.get(k + 1) == Some(&q) {
                k += 2;
            } else {
                return k + 1;
            }
        } else {
            k += 1;
        }
    }
    b.len()
}

/// Iterates over SQL words, skipping whitespace, comments and opening parentheses.
struct Words<'a> {
    rest: &'a str,
}

impl<'a> Words<'a> {
    fn new(sql: &'a str) -> Self {
        Words { rest: sql }
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            let s = self
                .rest
                .trim_start_matches(|c: char| c.is_whitespace() || c == '(' || c == ';');
            if let Some(after) = s.strip_prefix("--") {
                self.rest = after.split_once('\n').map_or("", |(_, r)| r);
            } else if let Some(after) = s.strip_prefix("/*") {
                // MySQL executable comments (`/*!40101 SET ... */`) hold real statements.
                if let Some(body) = after.strip_prefix('!') {
                    self.rest = body.trim_start_matches(|c: char| c.is_ascii_digit());
                } else {
                    self.rest = after.split_once("*/").map_or("", |(_, r)| r);
                }
            } else {
                self.rest = s;
                break;
            }
        }
        if self.rest.is_empty() {
            return None;
        }
        let end = self
            .rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '=' || c == '@'))
            .unwrap_or(self.rest.len());
        if end == 0 {
            // A quote or other punctuation: skip one character and go on.
            let mut chars = self.rest.chars();
            chars.next();
            self.rest = chars.as_str();
            return self.next();
        }
        let (w, r) = self.rest.split_at(end);
        self.rest = r;
        Some(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatementClass::*;

    fn c(sql: &str) -> (Option<StatementClass>, Option<CompactString>) {
        classify(sql)
    }

    #[test]
    fn classifies_common_statements() {
        assert_eq!(c("select 1"), (Some(Read), Some("SELECT".into())));
        assert_eq!(
            c("  /* app */ -- x\n (SELECT 1)"),
            (Some(Read), Some("SELECT".into()))
        );
        assert_eq!(
            c("insert into t values (1)"),
            (Some(Write), Some("INSERT".into()))
        );
        assert_eq!(
            c("CREATE OR REPLACE FUNCTION f() ..."),
            (Some(Ddl), Some("CREATE FUNCTION".into()))
        );
        assert_eq!(
            c("create unique index concurrently i on t(x)"),
            (Some(Ddl), Some("CREATE INDEX".into()))
        );
        assert_eq!(
            c("ALTER ROLE bob SUPERUSER"),
            (Some(Role), Some("ALTER ROLE".into()))
        );
        assert_eq!(
            c("CREATE USER 'x'@'%' IDENTIFIED BY 'p'"),
            (Some(Role), Some("CREATE USER".into()))
        );
        assert_eq!(
            c("GRANT ALL ON *.* TO x"),
            (Some(Role), Some("GRANT".into()))
        );
        assert_eq!(c("COPY t TO '/tmp/x'"), (Some(Read), Some("COPY".into())));
        assert_eq!(c("COPY t FROM STDIN"), (Some(Write), Some("COPY".into())));
        assert_eq!(
            c("with x as (select 1) delete from t"),
            (Some(Write), Some("DELETE".into()))
        );
        assert_eq!(
            c("SET pgaudit.log = 'none'"),
            (Some(MiscSet), Some("SET".into()))
        );
        assert_eq!(
            c("SET PASSWORD FOR root = 'x'"),
            (Some(Role), Some("SET PASSWORD".into()))
        );
        assert_eq!(
            c("/*!40101 SET NAMES utf8 */"),
            (Some(MiscSet), Some("SET".into()))
        );
        assert_eq!(
            c("DROP MATERIALIZED VIEW v"),
            (Some(Ddl), Some("DROP MATERIALIZED VIEW".into()))
        );
        assert_eq!(
            c("CREATE DEFINER=`root`@`%` PROCEDURE p()"),
            (Some(Ddl), Some("CREATE PROCEDURE".into()))
        );
    }

    #[test]
    fn passwords_are_masked() {
        let r = |s: &str| redact_passwords(s).into_owned();
        assert_eq!(
            r("CREATE USER 'app'@'%' IDENTIFIED BY 'keibi-app-pw'"),
            "CREATE USER 'app'@'%' IDENTIFIED BY '*****'"
        );
        assert_eq!(
            r("alter role bob with encrypted password 'se''cret' valid until 'x'"),
            "alter role bob with encrypted password '*****' valid until 'x'"
        );
        assert_eq!(
            r("SET PASSWORD FOR 'bob'@'%' = PASSWORD('x')"),
            "SET PASSWORD FOR 'bob'@'%' = PASSWORD('*****')"
        );
        assert_eq!(
            r("ALTER USER u IDENTIFIED WITH mysql_native_password BY 'p\\'q'"),
            "ALTER USER u IDENTIFIED WITH mysql_native_password BY '*****'"
        );
        assert_eq!(
            r("CREATE ROLE r PASSWORD \"x\""),
            "CREATE ROLE r PASSWORD '*****'"
        );
        assert_eq!(
            r("SELECT password_hash FROM users"),
            "SELECT password_hash FROM users"
        );
        assert_eq!(
            r("SELECT password FROM users WHERE id = 1"),
            "SELECT password FROM users WHERE id = 1"
        );
        assert!(matches!(redact_passwords("select 1"), Cow::Borrowed(_)));
        // Unterminated literal: masked to the end, never a panic.
        assert_eq!(
            r("ALTER ROLE x PASSWORD 'abc"),
            "ALTER ROLE x PASSWORD '*****'"
        );
        for s in [
            "PASSWORD",
            "IDENTIFIED BY",
            "password(",
            "PASSWORD FOR",
            "PASSWORD '\\",
        ] {
            let _ = redact_passwords(s);
        }
    }

    #[test]
    fn never_fails_on_garbage() {
        for s in [
            "",
            "   ",
            "--",
            "/*",
            "'''",
            "((((",
            "\u{0}\u{ffff}",
            "🦀 select",
        ] {
            let _ = classify(s);
        }
        assert_eq!(c("hello world"), (None, None));
    }
}
