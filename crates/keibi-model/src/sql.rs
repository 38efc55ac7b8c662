//! Derives a statement's class and command tag from SQL text, for logs that carry
//! plain SQL (`log_statement`, server_audit QUERY, the general log) rather than
//! pgaudit's own classification. Looks only at the leading keywords: cheap, total,
//! and never fails on hostile text.

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
pub fn classify(sql: &str) -> (Option<StatementClass>, Option<String>) {
    let mut words = Words::new(sql);
    let Some(first) = words.next() else {
        return (None, None);
    };
    let verb = first.to_ascii_uppercase();
    use StatementClass::*;
    let two_word = |words: &mut Words<'_>, verb: &str| -> String {
        let mut in_definer = false;
        for w in words.by_ref().take(10) {
            let up = w.to_ascii_uppercase();
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
                    "MATERIALIZED" => format!("{verb} MATERIALIZED VIEW"),
                    "FOREIGN" => format!("{verb} FOREIGN TABLE"),
                    _ => format!("{verb} {up}"),
                };
            }
            break;
        }
        verb.to_string()
    };
    let (class, command) = match verb.as_str() {
        "SELECT" | "SHOW" | "DESCRIBE" | "DESC" | "EXPLAIN" | "TABLE" | "VALUES" | "FETCH" => {
            (Read, verb.clone())
        }
        "WITH" => {
            // A CTE's class is that of its main statement; find the first DML verb.
            let main = words
                .map(|w| w.to_ascii_uppercase())
                .find(|w| matches!(w.as_str(), "INSERT" | "UPDATE" | "DELETE" | "MERGE"))
                .unwrap_or_else(|| "SELECT".to_string());
            let class = if main == "SELECT" { Read } else { Write };
            (class, main)
        }
        "INSERT" | "UPDATE" | "DELETE" | "TRUNCATE" | "MERGE" | "REPLACE" | "UPSERT" => {
            (Write, verb.clone())
        }
        "LOAD" => (Write, "LOAD DATA".to_string()),
        "COPY" => {
            // COPY ... TO reads data out; COPY ... FROM writes it in.
            let dir = words
                .map(|w| w.to_ascii_uppercase())
                .find(|w| w == "TO" || w == "FROM");
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
            match words.next().map(|w| w.to_ascii_uppercase()).as_deref() {
                Some("PASSWORD") => (Role, "SET PASSWORD".to_string()),
                Some("ROLE") => (MiscSet, "SET ROLE".to_string()),
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

    fn c(sql: &str) -> (Option<StatementClass>, Option<String>) {
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
