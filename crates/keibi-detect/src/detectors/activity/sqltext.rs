//! What the activity detectors read out of SQL text: which tables or databases a
//! statement destroys, re-creates or refills, which catalogs it reads, and whether it
//! looks like a ransom note. Statement text is attacker-written: everything here is
//! total (never panics), looks at a bounded prefix, and allocates little.

use keibi_model::Statement;

/// Only this many bytes of a statement are read: object names and catalogs come first
/// in any statement that matters here, and a statement can be a megabyte of VALUES.
pub const SCAN_BYTES: usize = 16 * 1024;

/// Object names kept from one statement (`DROP TABLE a, b, c ...`).
const MAX_NAMES: usize = 64;

/// The first [`SCAN_BYTES`] of `s`, cut on a character boundary.
pub fn head(s: &str) -> &str {
    if s.len() <= SCAN_BYTES {
        return s;
    }
    let mut end = SCAN_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Whether text may hold a ransom demand (`btc`, `bitcoin`, `recover your`, `backed
/// up`, any case), in one pass: the cheap test run on every INSERT before
/// [`ransom_text`].
pub fn ransom_hint(text: &str) -> bool {
    let b = head(text).as_bytes();
    (0..b.len()).any(|i| {
        let rest = &b[i..];
        match b[i].to_ascii_lowercase() {
            b'b' => {
                starts_ci(rest, b"btc")
                    || starts_ci(rest, b"bitcoin")
                    || starts_ci(rest, b"backed up")
            }
            b'r' => starts_ci(rest, b"recover your"),
            _ => false,
        }
    })
}

fn starts_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

/// What a destructive statement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Drop,
    Truncate,
    /// `DELETE` without a `WHERE` (or `LIMIT`): every row.
    DeleteAll,
}

/// The names a statement destroys (`t:orders`, `db:shop`: kind-prefixed, unquoted,
/// lower case, schema dropped so that `public.orders`, `"orders"` and `orders` agree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destruction {
    pub verb: Verb,
    pub names: Vec<String>,
}

/// The destruction a statement does, if any. Failed statements (MySQL's retcode is an
/// error code) destroyed nothing; the caller checks that.
///
/// pgaudit writes one line per dropped object, with `object_type`: lines about
/// sequences, indexes, constraints and types that go with a table are not counted.
pub fn destruction(st: &Statement) -> Option<Destruction> {
    let cmd = st.command.as_deref()?;
    let (verb, db) = match cmd {
        "DROP TABLE" | "DROP" => (Verb::Drop, false),
        "DROP DATABASE" | "DROP SCHEMA" => (Verb::Drop, true),
        "TRUNCATE" | "TRUNCATE TABLE" => (Verb::Truncate, false),
        "DELETE" => (Verb::DeleteAll, false),
        _ => return None,
    };
    if let Some(t) = st.object_type.as_deref() {
        if !matches!(t, "TABLE" | "SCHEMA" | "DATABASE") {
            return None;
        }
    }
    if verb == Verb::DeleteAll {
        // pgaudit's object line carries the text too: the WHERE test reads it.
        if !deletes_all(&st.text) {
            return None;
        }
    }
    if let Some(obj) = st.object.as_deref().filter(|o| !o.is_empty()) {
        // pgaudit object lines, MySQL audit TABLE events (`db.table`).
        let kind_db = db && st.object_type.as_deref() != Some("TABLE");
        return Some(Destruction {
            verb,
            names: vec![tagged(kind_db, last_part(obj))],
        });
    }
    let names = match verb {
        Verb::Drop => drop_names(&st.text, db),
        Verb::Truncate => truncate_names(&st.text),
        Verb::DeleteAll => delete_name(&st.text).into_iter().collect(),
    };
    (!names.is_empty()).then_some(Destruction { verb, names })
}

/// The table or database a statement creates or fills with rows: a dropped or
/// emptied object that comes back this way was being replaced (a dump restored, a
/// staging table reloaded), not destroyed.
pub fn rebuilt(st: &Statement) -> Option<String> {
    let cmd = st.command.as_deref()?;
    let db = match cmd {
        "CREATE TABLE" | "INSERT" | "REPLACE" | "COPY" | "LOAD DATA" | "CREATE" | "WRITE"
        | "CREATE TABLE AS" | "SELECT INTO" => false,
        "CREATE DATABASE" | "CREATE SCHEMA" => true,
        _ => return None,
    };
    if let Some(obj) = st.object.as_deref().filter(|o| !o.is_empty()) {
        if matches!(st.object_type.as_deref(), None | Some("TABLE")) {
            return Some(tagged(db, last_part(obj)));
        }
        return None;
    }
    let mut lx = Lexer::new(head(&st.text));
    let name = match cmd {
        "CREATE TABLE" | "CREATE DATABASE" | "CREATE SCHEMA" | "CREATE TABLE AS" => {
            // CREATE [..] TABLE|DATABASE|SCHEMA [IF NOT EXISTS] name
            skip_until_word(&mut lx, &["TABLE", "DATABASE", "SCHEMA"])?;
            skip_words(&mut lx, &["IF", "NOT", "EXISTS"]);
            read_name(&mut lx)?
        }
        "INSERT" | "REPLACE" => {
            // INSERT [IGNORE] [INTO] name
            lx.word()?;
            skip_words(
                &mut lx,
                &["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE"],
            );
            skip_words(&mut lx, &["INTO"]);
            read_name(&mut lx)?
        }
        "COPY" => {
            // COPY name [(cols)] FROM ...
            lx.word()?;
            let name = read_name(&mut lx)?;
            let from = std::iter::from_fn(|| lx.next())
                .take(200)
                .find_map(|t| match t {
                    Tok::Word(w) if w.eq_ignore_ascii_case("FROM") => Some(true),
                    Tok::Word(w) if w.eq_ignore_ascii_case("TO") => Some(false),
                    _ => None,
                })?;
            if !from {
                return None;
            }
            name
        }
        "LOAD DATA" => {
            // LOAD DATA ... INTO TABLE name
            skip_until_word(&mut lx, &["TABLE"])?;
            read_name(&mut lx)?
        }
        _ => return None,
    };
    Some(tagged(db, &name))
}

/// `t:name` or `db:name`.
fn tagged(db: bool, name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 3);
    s.push_str(if db { "db:" } else { "t:" });
    for c in name.chars().take(128) {
        if c != '"' && c != '`' {
            s.extend(c.to_lowercase());
        }
    }
    s
}

/// The last part of a dotted name, unquoted: `"public"."Orders"` → `"Orders"`.
fn last_part(name: &str) -> &str {
    let n = name.trim();
    n.rsplit('.').next().unwrap_or(n)
}

/// `DELETE FROM t` with no WHERE and no LIMIT (a batch purge has one); `WHERE 1=1`
/// and `WHERE true` count as none.
fn deletes_all(text: &str) -> bool {
    let lx = Lexer::new(head(text));
    let mut after_where: Vec<String> = Vec::new();
    let mut in_where = false;
    for t in lx {
        match t {
            Tok::Word(w) if w.eq_ignore_ascii_case("WHERE") => in_where = true,
            Tok::Word(w) if w.eq_ignore_ascii_case("LIMIT") => return false,
            Tok::Punct(';') => break,
            t if in_where => {
                after_where.push(match t {
                    Tok::Word(w) => w.to_ascii_lowercase(),
                    Tok::Punct(c) => c.to_string(),
                    Tok::Quoted(q) => q.to_string(),
                    Tok::Str => "'".to_string(),
                });
                if after_where.len() > 4 {
                    return false;
                }
            }
            _ => {}
        }
    }
    if !in_where {
        return true;
    }
    let w: Vec<&str> = after_where.iter().map(String::as_str).collect();
    matches!(w.as_slice(), ["true"] | ["1", "=", "1"] | ["1=1"])
}

fn drop_names(text: &str, db: bool) -> Vec<String> {
    let mut lx = Lexer::new(head(text));
    if skip_until_word(&mut lx, &["TABLE", "TABLES", "DATABASE", "SCHEMA"]).is_none() {
        return Vec::new();
    }
    skip_words(&mut lx, &["IF", "EXISTS"]);
    name_list(&mut lx, db)
}

fn truncate_names(text: &str) -> Vec<String> {
    let mut lx = Lexer::new(head(text));
    if lx.word().is_none() {
        return Vec::new();
    }
    skip_words(&mut lx, &["TABLE", "ONLY"]);
    name_list(&mut lx, false)
}

fn delete_name(text: &str) -> Option<String> {
    let mut lx = Lexer::new(head(text));
    lx.word()?;
    skip_words(&mut lx, &["LOW_PRIORITY", "QUICK", "IGNORE"]);
    // MySQL's multi-table `DELETE t1, t2 FROM ...` has a WHERE in practice; only the
    // plain form is read.
    if !lx.word()?.eq_ignore_ascii_case("FROM") {
        return None;
    }
    skip_words(&mut lx, &["ONLY"]);
    Some(tagged(false, &read_name(&mut lx)?))
}

/// `a, b.c, "d"` up to the first thing that is not a name or a comma.
fn name_list(lx: &mut Lexer<'_>, db: bool) -> Vec<String> {
    let mut names = Vec::new();
    while names.len() < MAX_NAMES {
        let Some(n) = read_name(lx) else { break };
        if is_keyword(&n) {
            break;
        }
        names.push(tagged(db, &n));
        let mut peek = lx.clone();
        match peek.next() {
            Some(Tok::Punct(',')) => *lx = peek,
            Some(Tok::Punct('*')) => {
                // TRUNCATE t * (inheritance): skip it.
                *lx = peek;
                let mut p2 = lx.clone();
                if p2.next() == Some(Tok::Punct(',')) {
                    *lx = p2;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    names
}

fn is_keyword(n: &str) -> bool {
    [
        "CASCADE", "RESTRICT", "RESTART", "CONTINUE", "FORCE", "WITH",
    ]
    .iter()
    .any(|k| n.eq_ignore_ascii_case(k))
}

/// A possibly dotted, possibly quoted name; its last part.
fn read_name(lx: &mut Lexer<'_>) -> Option<String> {
    let mut last = match lx.next()? {
        Tok::Word(w) => last_part(w).to_string(),
        Tok::Quoted(q) => q.to_string(),
        _ => return None,
    };
    loop {
        let mut peek = lx.clone();
        if peek.next() != Some(Tok::Punct('.')) {
            break;
        }
        match peek.next() {
            Some(Tok::Word(w)) => last = last_part(w).to_string(),
            Some(Tok::Quoted(q)) => last = q.to_string(),
            _ => break,
        }
        *lx = peek;
    }
    (!last.is_empty()).then_some(last)
}

/// Skips the given words (any order, any number, case-insensitive).
fn skip_words(lx: &mut Lexer<'_>, words: &[&str]) {
    loop {
        let mut peek = lx.clone();
        match peek.next() {
            Some(Tok::Word(w)) if words.iter().any(|k| w.eq_ignore_ascii_case(k)) => *lx = peek,
            _ => return,
        }
    }
}

/// Reads up to and including the first of `words` within the first few tokens.
fn skip_until_word(lx: &mut Lexer<'_>, words: &[&str]) -> Option<()> {
    for _ in 0..12 {
        if let Tok::Word(w) = lx.next()? {
            if words.iter().any(|k| w.eq_ignore_ascii_case(k)) {
                return Some(());
            }
        }
    }
    None
}

/// One SQL token, as much as these readers need.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    /// A bare word, dots included (`public.orders`).
    Word(&'a str),
    /// A `"quoted"` or `` `quoted` `` identifier, without its quotes.
    Quoted(&'a str),
    /// A `'string'` literal (its text is not needed).
    Str,
    Punct(char),
}

/// Tokens of SQL text, skipping whitespace and comments.
#[derive(Clone)]
struct Lexer<'a> {
    rest: &'a str,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        Lexer { rest: s }
    }

    /// The next token if it is a bare word.
    fn word(&mut self) -> Option<&'a str> {
        match self.next()? {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Tok<'a>;

    fn next(&mut self) -> Option<Tok<'a>> {
        loop {
            self.rest = self.rest.trim_start();
            if let Some(r) = self.rest.strip_prefix("--") {
                self.rest = r.split_once('\n').map_or("", |(_, r)| r);
            } else if let Some(r) = self.rest.strip_prefix("/*") {
                self.rest = r.split_once("*/").map_or("", |(_, r)| r);
            } else {
                break;
            }
        }
        let c = self.rest.chars().next()?;
        if c.is_alphanumeric() || c == '_' || c == '$' {
            let mut end = self
                .rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$' || c == '.'))
                .unwrap_or(self.rest.len());
            // A trailing dot belongs to what follows (`public."Orders"`).
            while self.rest.as_bytes()[end - 1] == b'.' {
                end -= 1;
            }
            let (w, r) = self.rest.split_at(end);
            self.rest = r;
            return Some(Tok::Word(w));
        }
        if c == '"' || c == '`' || c == '\'' {
            let body = &self.rest[1..];
            let end = body.find(c).unwrap_or(body.len());
            let inner = &body[..end];
            self.rest = body.get(end + 1..).unwrap_or("");
            return Some(if c == '\'' {
                Tok::Str
            } else {
                Tok::Quoted(inner)
            });
        }
        self.rest = &self.rest[c.len_utf8()..];
        Some(Tok::Punct(c))
    }
}

/// Whether a created name reads like the campaigns' notes: `README_TO_RECOVER_A`,
/// `PLEASE_READ_ME_VVV`, `WARNING`, `RECOVER_YOUR_DATA`, `how_to_restore`. Judged on
/// the name's words (split at anything not a letter), so that `account_recovery`,
/// `payments`, `warning_levels` or `btc_prices` are not: the name alone is weak
/// evidence and a demand's bitcoin text is judged by [`ransom_text`].
pub fn ransom_name(tagged_name: &str) -> bool {
    let name = tagged_name
        .split_once(':')
        .map_or(tagged_name, |(_, n)| n)
        .to_ascii_lowercase();
    if ["readme", "read_me", "how_to", "howto", "please_read"]
        .iter()
        .any(|k| name.contains(k))
        || name == "warning"
    {
        return true;
    }
    let words: Vec<&str> = name
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    if words
        .iter()
        .any(|w| matches!(*w, "ransom" | "pwned" | "hacked"))
    {
        return true;
    }
    // `recover` only as the campaigns phrase it (`to_recover`, `recover_your_data`),
    // not `password_recover_tokens`.
    words.windows(2).any(|p| {
        (p[0] == "to" && p[1] == "recover")
            || (p[0] == "recover" && matches!(p[1], "your" | "data" | "db" | "database" | "files"))
    })
}

/// Whether statement text reads like a ransom demand: a bitcoin address or the word
/// bitcoin/BTC, together with a demand (recover, restore, pay, backup ...).
pub fn ransom_text(text: &str) -> bool {
    let t = head(text);
    let low = t.to_ascii_lowercase();
    if low.contains("to recover your") || low.contains("your data is backed up") {
        return true;
    }
    let coin = has_btc_address(t)
        || low
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == "btc" || w == "bitcoin" || w == "monero" || w == "xmr");
    let demand = [
        "recover",
        "restore",
        "pay",
        "backup",
        "backed up",
        "ransom",
        "decrypt",
        "your data",
        "your database",
        "download",
        "deleted",
    ]
    .iter()
    .any(|k| low.contains(k));
    coin && demand
}

/// A token that looks like a bitcoin address: base58 of 26-35 characters starting with
/// 1 or 3 and holding both letters and digits, or bech32 `bc1` + 11-71 characters.
fn has_btc_address(text: &str) -> bool {
    const B58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    text.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        let b = w.as_bytes();
        if w.len() >= 14 && w.len() <= 74 && w.to_ascii_lowercase().starts_with("bc1") {
            return b[3..]
                .iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
                || b[3..]
                    .iter()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
        }
        (26..=35).contains(&w.len())
            && matches!(b[0], b'1' | b'3')
            && b.iter().all(|c| B58.contains(c))
            && b.iter().any(u8::is_ascii_alphabetic)
            && b[1..].iter().any(u8::is_ascii_digit)
            && b.iter().any(u8::is_ascii_uppercase)
            && b.iter().any(u8::is_ascii_lowercase)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(sql: &str) -> Statement {
        Statement::from_sql(sql)
    }

    fn names(sql: &str) -> Option<(Verb, Vec<String>)> {
        destruction(&st(sql)).map(|d| (d.verb, d.names))
    }

    #[test]
    fn destructive_statements_name_their_objects() {
        assert_eq!(
            names("DROP TABLE IF EXISTS public.\"Orders\", `b`, c CASCADE;"),
            Some((
                Verb::Drop,
                vec!["t:orders".into(), "t:b".into(), "t:c".into()]
            ))
        );
        assert_eq!(
            names("drop database shop"),
            Some((Verb::Drop, vec!["db:shop".into()]))
        );
        assert_eq!(
            names("TRUNCATE TABLE ONLY a, b RESTART IDENTITY"),
            Some((Verb::Truncate, vec!["t:a".into(), "t:b".into()]))
        );
        assert_eq!(
            names("DELETE FROM customers"),
            Some((Verb::DeleteAll, vec!["t:customers".into()]))
        );
        assert_eq!(
            names("DELETE FROM shop.customers WHERE 1=1"),
            Some((Verb::DeleteAll, vec!["t:customers".into()]))
        );
        assert_eq!(names("DELETE FROM customers WHERE id = 4"), None);
        assert_eq!(names("DELETE FROM sessions ORDER BY id LIMIT 1000"), None);
        assert_eq!(names("DROP INDEX i"), None);
        assert_eq!(names("SELECT 1"), None);
        // pgaudit's per-object lines: sequences that go with a table are not counted.
        let mut s = st("drop table t3");
        s.command = Some("DROP TABLE".into());
        s.object_type = Some("SEQUENCE".into());
        s.object = Some("public.t3_id_seq".into());
        assert_eq!(destruction(&s), None);
        s.object_type = Some("TABLE".into());
        s.object = Some("public.t3".into());
        assert_eq!(destruction(&s).unwrap().names, vec!["t:t3"]);
    }

    #[test]
    fn refills_and_creations_name_their_object() {
        assert_eq!(
            rebuilt(&st("CREATE TABLE IF NOT EXISTS public.orders (id int)")),
            Some("t:orders".into())
        );
        assert_eq!(
            rebuilt(&st("CREATE DATABASE README_TO_RECOVER_A")),
            Some("db:readme_to_recover_a".into())
        );
        assert_eq!(
            rebuilt(&st("insert into `shop`.`orders` values (1)")),
            Some("t:orders".into())
        );
        assert_eq!(
            rebuilt(&st("COPY staging_orders (id, note) FROM STDIN WITH CSV")),
            Some("t:staging_orders".into())
        );
        assert_eq!(rebuilt(&st("COPY orders TO STDOUT")), None);
        assert_eq!(
            rebuilt(&st(
                "LOAD DATA LOCAL INFILE '/tmp/o.csv' INTO TABLE orders FIELDS TERMINATED BY ','"
            )),
            Some("t:orders".into())
        );
    }

    #[test]
    fn ransom_names_and_texts() {
        for n in [
            "db:README_TO_RECOVER_A",
            "t:readme",
            "t:please_read_me_vvv",
            "db:warning",
            "t:recover_your_data",
            "t:pwned",
        ] {
            assert!(ransom_name(n), "{n}");
        }
        for n in [
            "t:payments",
            "t:account_recovery_codes",
            "t:warning_levels",
            "t:read_models",
            "t:btc_prices",
            "t:password_recover_tokens",
        ] {
            assert!(!ransom_name(n), "{n}");
        }
        assert!(ransom_text(
            "INSERT INTO readme VALUES ('All your data is backed up. You must pay 0.0065 BTC to \
             bc1qm7f2yk5v0ch8qcsd2qr9e3vhv9q6t9p4a5x7nu to recover it')"
        ));
        assert!(ransom_text(
            "INSERT INTO warning(msg) VALUES ('Send 0.1 bitcoin to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT to restore')"
        ));
        assert!(!ransom_text(
            "INSERT INTO prices (symbol, usd) VALUES ('BTC', 97000)"
        ));
        assert!(!ransom_text(
            "INSERT INTO notes VALUES ('please pay the invoice')"
        ));
    }

    #[test]
    fn hostile_text_never_panics() {
        for s in [
            "",
            "DROP",
            "DROP TABLE",
            "DROP TABLE \"",
            "TRUNCATE `",
            "DELETE FROM '",
            "DELETE",
            "INSERT",
            "COPY",
            "CREATE TABLE ((((",
            "DROP TABLE a.",
            "DROP TABLE ....",
            "🦀 DROP TABLE 🦀",
        ] {
            let s = st(s);
            let _ = destruction(&s);
            let _ = rebuilt(&s);
            let _ = ransom_text(&s.text);
        }
        let long = format!("DROP TABLE {}", "a,".repeat(100_000));
        assert_eq!(names(&long).unwrap().1.len(), MAX_NAMES);
    }
}
