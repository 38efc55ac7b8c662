//! Which language and display time zone a command speaks (`docs/i18n.md`).
//!
//! Language: `--lang`, `KEIBI_LANG`, the settings file's `display.lang`, then the
//! POSIX locale (`LC_ALL`, `LC_MESSAGES`, `LANG`: `ja_JP.UTF-8` is Japanese); English
//! when none is set. Zone: `--display-tz`, `KEIBI_TZ`, `display.tz`; unset, English
//! shows UTC (the zone of the contract's texts, so English output is the same on
//! every machine) and Japanese the system's zone (`TZ`, `/etc/localtime`), or
//! Asia/Tokyo when the system runs UTC, as servers usually do.

use std::sync::RwLock;

use anyhow::{Context, Result};
use keibi_engine::settings::Display;
use keibi_i18n::{DisplayZone, Lang, Locale, Msg};

use crate::cli::Global;

/// The locale the command's own messages (warnings, errors, summaries, log lines)
/// are written in: set by every [`resolve`] that succeeds, so a command that reads
/// a settings file speaks its `display.lang` from then on. English (UTC) until set.
static CURRENT: RwLock<Option<Locale>> = RwLock::new(None);

/// The locale of this process's command line, environment and settings; it also
/// becomes the locale of the command's own messages ([`say`]).
pub fn resolve(global: &Global, display: Option<&Display>) -> Result<Locale> {
    let l = resolve_from(
        global.lang.as_deref(),
        global.display_tz.as_deref(),
        display,
        |k| std::env::var(k).ok(),
        DisplayZone::system,
    )?;
    set_current(l.clone());
    Ok(l)
}

/// Makes `l` the locale of the command's own messages.
pub fn set_current(l: Locale) {
    if let Ok(mut c) = CURRENT.write() {
        *c = Some(l);
    }
}

/// The locale of the command's own messages.
pub fn current() -> Locale {
    CURRENT
        .read()
        .ok()
        .and_then(|c| c.clone())
        .unwrap_or_default()
}

/// Whether the command's own messages are in Japanese.
pub fn is_ja() -> bool {
    current().lang == Lang::Ja
}

/// One of the command's own messages (`cli.ftl`, `run.ftl`), in the current locale.
/// In English it is byte for byte what keibi always printed.
pub fn say(msg: Msg) -> String {
    current().render(&msg)
}

/// [`say`] for a message without arguments.
pub fn said(id: &str) -> String {
    current().text(id)
}

/// [`resolve`] with the environment and the system's zone handed in (for tests).
pub fn resolve_from(
    lang_flag: Option<&str>,
    tz_flag: Option<&str>,
    display: Option<&Display>,
    env: impl Fn(&str) -> Option<String>,
    system_zone: impl FnOnce() -> DisplayZone,
) -> Result<Locale> {
    let set = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let lang = if let Some(l) = lang_flag {
        l.parse::<Lang>().context("--lang")?
    } else if let Some(l) = set(env("KEIBI_LANG")) {
        l.parse::<Lang>().context("KEIBI_LANG")?
    } else if let Some(l) = display.and_then(|d| d.lang.as_deref()) {
        l.parse::<Lang>().context("display.lang")?
    } else {
        Lang::from_locale_vars(&env).unwrap_or_default()
    };
    let zone = if let Some(z) = tz_flag {
        DisplayZone::named(z).context("--display-tz")?
    } else if let Some(z) = set(env("KEIBI_TZ")) {
        DisplayZone::named(&z).context("KEIBI_TZ")?
    } else if let Some(z) = display.and_then(|d| d.tz.as_deref()) {
        DisplayZone::named(z).context("display.tz")?
    } else {
        match lang {
            Lang::En => DisplayZone::utc(),
            Lang::Ja => {
                let system = system_zone();
                if system.is_utc() {
                    DisplayZone::named("Asia/Tokyo").unwrap_or(system)
                } else {
                    system
                }
            }
        }
    };
    Ok(Locale::new(lang, zone))
}

/// The operating-system errors whose text keibi says in the reader's language (the
/// code of `(os error N)`; English is Linux's strerror, `oserr-N` in `cli.ftl`).
const OS_ERRORS: &[u32] = &[2, 5, 13, 17, 20, 21, 24, 28, 30, 36, 40];

/// A text written by a library (an error's or a notice's `Display`), in the current
/// locale where keibi knows its shape: the system's errors (file not found,
/// permission denied, ...), an input in no known format with its closest prefix,
/// the bounds of files keibi reads. Any other text stays as the library wrote it, in
/// English; in English every text stays as it is.
pub fn library_text(text: &str) -> String {
    let l = current();
    if l.lang == Lang::En {
        return text.to_string();
    }
    known_shape(&l, text).unwrap_or_else(|| os_errors(&l, text))
}

/// `No such file or directory (os error 2)` as `ファイルまたはディレクトリがありません
/// (os error 2)`, wherever it stands in `text`.
fn os_errors(l: &Locale, text: &str) -> String {
    if !text.contains("(os error ") {
        return text.to_string();
    }
    let mut out = text.to_string();
    for code in OS_ERRORS {
        let id = format!("oserr-{code}");
        let en = Locale::english_utc().text(&id);
        let from = format!("{en} (os error {code})");
        if out.contains(&from) {
            out = out.replace(&from, &format!("{} (os error {code})", l.text(&id)));
        }
    }
    out
}

/// The reasons parsers give for a line they did not recognize that are one fixed
/// sentence: the English message of each id is the parser's string, byte for byte
/// (`tests/lang_ja.rs` checks the common ones against what the parsers print).
const PARSER_REASONS: &[&str] = &[
    "why-pg-known-prefix",
    "why-pg-syslog",
    "why-pg-jsonlog",
    "why-pg-cnpg",
    "why-pgbouncer",
    "why-my-error",
    "why-my-error-time",
    "why-my-banner",
    "why-my-syslog-pg",
    "why-my-general",
    "why-my-slow",
    "why-my-slow-time",
    "why-my-audit",
    "why-my-audit-fields",
    "why-my-audit-columns",
    "why-my-audit-lineup",
    "why-percona-json",
    "why-percona",
    "why-heroku",
    "why-json-object",
    "why-pg-csv",
    "why-ct-no-name",
    "why-ct-no-time",
    "why-ct-no-both",
];

/// A parser's reason for an unrecognized line, in `l`'s language, when it is one
/// keibi knows (the fixed sentences above, and the shapes with a prefix, a level
/// word, a chunk or a JSON error in them).
fn parser_reason(l: &Locale, text: &str) -> Option<String> {
    let en = Locale::english_utc();
    if let Some(id) = PARSER_REASONS.iter().find(|id| en.text(id) == text) {
        return Some(l.text(id));
    }
    if let Some(rest) = text.strip_prefix("expected log_line_prefix '") {
        let prefix = rest.strip_suffix("' followed by a level such as LOG:")?;
        return Some(l.render(&Msg::new("why-pg-prefix").arg("prefix", prefix)));
    }
    if let Some(word) = text.strip_suffix(" line with no report of its process before it") {
        // A level word of PostgreSQL (DETAIL, STATEMENT, ...), never free text.
        if !word.is_empty() && word.len() <= 16 && word.bytes().all(|b| b.is_ascii_uppercase()) {
            return Some(l.render(&Msg::new("why-pg-orphan").arg("word", word)));
        }
        return None;
    }
    if let Some(rest) = text.strip_prefix("chunk [") {
        let (n, rest) = rest.split_once('-')?;
        let m = rest.strip_suffix("] of a report whose first line was not read")?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(n) && digits(m) {
            return Some(l.render(&Msg::new("why-pg-chunk").arg("n", n).arg("m", m)));
        }
        return None;
    }
    if let Some(error) = text.strip_prefix("invalid JSON: ") {
        return Some(l.render(&Msg::new("why-json").arg("error", error)));
    }
    None
}

fn known_shape(l: &Locale, text: &str) -> Option<String> {
    let num = |s: &str| s.parse::<u64>().ok();
    if let Some(said) = parser_reason(l, text) {
        return Some(said);
    }
    match text {
        "not UTF-8 text" => return Some(l.text("not-utf8")),
        "empty input" => return Some(l.text("in-empty")),
        "cannot be read" => return Some(l.text("problem-cannot-read")),
        "nothing to follow: give paths, or sources in the settings file" => {
            return Some(l.text("run-no-sources"))
        }
        "a settings file is a mapping of sections (sources:, detection:, ...)" => {
            return Some(l.text("problem-not-mapping"))
        }
        _ => {}
    }
    if let Some(rest) = text.strip_prefix("larger than ") {
        let n = num(rest.strip_suffix(" bytes, the most keibi reads of such a file")?)?;
        return Some(l.render(&Msg::new("too-large").arg("max", n)));
    }
    if let Some(rest) = text.strip_prefix("binary data (a NUL byte at offset ") {
        let n = num(rest.strip_suffix("), not a text file")?)?;
        return Some(l.render(&Msg::new("binary-file").arg("offset", n)));
    }
    if let Some(rest) = text.strip_suffix(" more problems not shown") {
        return Some(l.render(&Msg::new("problem-more").arg("n", num(rest)?)));
    }
    if let Some(rest) = text.strip_prefix("format not recognized (first line: ") {
        return not_recognized(l, rest);
    }
    // A settings file's problems: `unknown key `x`: did you mean `y`?` may follow
    // a path (`sources.inputs[0]: `).
    if let Some(i) = text.find("unknown key `") {
        let (head, rest) = text.split_at(i);
        let rest = &rest["unknown key `".len()..];
        let (key, tail) = rest.split_once('`')?;
        let msg = if let Some(near) = tail
            .strip_prefix(": did you mean `")
            .and_then(|t| t.strip_suffix("`?"))
        {
            Msg::new("problem-unknown-key")
                .arg("key", key)
                .arg("near", near)
        } else {
            let known = tail.strip_prefix(" (known here: ")?.strip_suffix(')')?;
            Msg::new("problem-unknown-key-known")
                .arg("key", key)
                .arg("known", known)
        };
        return Some(format!("{head}{}", l.render(&msg)));
    }
    if let Some(rest) = text.strip_prefix("unknown section `") {
        let (key, tail) = rest.split_once('`')?;
        let near = tail.strip_prefix(": did you mean `")?.strip_suffix("`?")?;
        return Some(
            l.render(
                &Msg::new("problem-unknown-section")
                    .arg("key", key)
                    .arg("near", near),
            ),
        );
    }
    if let Some(rest) = text.strip_prefix('`') {
        let key = rest.strip_suffix(
            "` is a detection setting: in a file of sections it goes under `detection:`",
        )?;
        return Some(l.render(&Msg::new("problem-detection-key").arg("key", key)));
    }
    if let Some(path) = text.strip_suffix(": does not exist") {
        return Some(l.render(&Msg::new("problem-missing").arg("path", path)));
    }
    if let Some(path) = text.strip_suffix(": is a directory") {
        return Some(l.render(&Msg::new("problem-is-dir").arg("path", path)));
    }
    None
}

/// The rest of `format not recognized (first line: "…")…; name it with …`, read
/// from its end (the first line is the input's, escaped; what follows it is
/// keibi's). `None`, and the English stays, when it is not exactly that shape.
fn not_recognized(l: &Locale, rest: &str) -> Option<String> {
    let num = |s: &str| s.parse::<u64>().ok();
    let mut rest = rest.strip_suffix(
        "; name it with --log-format, or for PostgreSQL give your log_line_prefix with --pg-prefix",
    )?;
    let mut gave_up = String::new();
    if let Some(head) = rest.strip_suffix(" lines), the rest is not read") {
        let i = head.rfind("; gave up on it after its first ")?;
        let (bytes, lines) =
            head[i + "; gave up on it after its first ".len()..].split_once(" bytes (")?;
        gave_up = l.render(
            &Msg::new("in-gave-up")
                .arg("bytes", num(bytes)?)
                .arg("lines", num(lines)?),
        );
        rest = &rest[..i];
    }
    let mut closest = String::new();
    if let Some(head) = rest.strip_suffix(" of them") {
        const AT: &str = "; the closest log_line_prefix, inferred from its first lines, is '";
        let i = head.rfind(AT)?;
        let (prefix, counts) = head[i + AT.len()..].rsplit_once("' and reads only ")?;
        let (explained, sampled) = counts.split_once(" of ")?;
        closest = l.render(
            &Msg::new("in-closest")
                .arg("prefix", prefix)
                .arg("explained", num(explained)?)
                .arg("sampled", num(sampled)?),
        );
        rest = &rest[..i];
    }
    let first = rest.strip_suffix(')')?;
    if !(first.starts_with('"') && first.ends_with('"')) {
        return None;
    }
    Some(
        l.render(
            &Msg::new("in-not-recognized")
                .arg("first", first)
                .arg("closest", closest)
                .arg("gaveup", gave_up),
        ),
    )
}

/// The line `main` prints for an error that ends the command: `keibi: error: ` and
/// the error's chain (`{e:#}`), each part in the current locale where keibi knows
/// its shape.
pub fn error_line(e: &anyhow::Error) -> String {
    if current().lang == Lang::En {
        return format!("keibi: error: {e:#}");
    }
    let text: Vec<String> = e.chain().map(|c| library_text(&c.to_string())).collect();
    say(Msg::new("cli-error").arg("text", text.join(": ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn r(
        lang: Option<&str>,
        tz: Option<&str>,
        display: Option<&Display>,
        vars: &'static [(&'static str, &'static str)],
    ) -> Result<Locale> {
        resolve_from(lang, tz, display, env(vars), DisplayZone::utc)
    }

    #[test]
    fn the_flag_then_the_variable_then_the_file_then_the_locale() {
        let file = Display {
            lang: Some("en".into()),
            tz: Some("Europe/Paris".into()),
        };
        let l = r(None, None, None, &[]).unwrap();
        assert_eq!((l.lang, l.zone.name()), (Lang::En, "UTC"), "the default");
        let l = r(None, None, None, &[("LANG", "ja_JP.UTF-8")]).unwrap();
        assert_eq!(
            (l.lang, l.zone.name()),
            (Lang::Ja, "Asia/Tokyo"),
            "Japanese on a UTC system reads JST"
        );
        let l = r(None, None, Some(&file), &[("LANG", "ja_JP.UTF-8")]).unwrap();
        assert_eq!((l.lang, l.zone.name()), (Lang::En, "Europe/Paris"));
        let l = r(
            None,
            None,
            Some(&file),
            &[("KEIBI_LANG", "ja"), ("KEIBI_TZ", "UTC")],
        )
        .unwrap();
        assert_eq!((l.lang, l.zone.name()), (Lang::Ja, "UTC"));
        let l = r(
            Some("en"),
            Some("Asia/Tokyo"),
            Some(&file),
            &[("KEIBI_LANG", "ja")],
        )
        .unwrap();
        assert_eq!((l.lang, l.zone.name()), (Lang::En, "Asia/Tokyo"));
        let l = r(
            None,
            None,
            None,
            &[("LANG", "ja_JP.UTF-8"), ("LC_ALL", "C")],
        )
        .unwrap();
        assert_eq!(l.lang, Lang::En, "LC_ALL wins over LANG");
        let system = || DisplayZone::named("America/New_York").unwrap();
        let l = resolve_from(None, None, None, env(&[("LANG", "ja")]), system).unwrap();
        assert_eq!(
            l.zone.name(),
            "America/New_York",
            "Japanese follows the system zone"
        );
    }

    #[test]
    fn a_wrong_value_is_an_error_naming_where_it_came_from() {
        let e = r(Some("fr"), None, None, &[]).unwrap_err();
        assert!(
            format!("{e:#}").starts_with("--lang: unknown language"),
            "{e:#}"
        );
        let e = r(None, None, None, &[("KEIBI_TZ", "Nowhere/Land")]).unwrap_err();
        assert!(
            format!("{e:#}").starts_with("KEIBI_TZ: unknown time zone"),
            "{e:#}"
        );
    }
}

#[cfg(test)]
mod said_tests {
    use super::*;

    fn ja() -> Locale {
        Locale::new(Lang::Ja, DisplayZone::utc())
    }

    /// The English messages print what keibi always printed (the strings the
    /// commands wrote with `format!` before the catalog).
    #[test]
    fn english_messages_are_the_old_strings() {
        let en = Locale::english_utc();
        let summary = |unread: u64| {
            en.render(
                &Msg::new("ev-summary")
                    .arg("events", 41203u64)
                    .arg("files", 3u64)
                    .arg("unrecognized", 1200u64)
                    .arg("unread", unread),
            )
        };
        assert_eq!(
            summary(0),
            "keibi: 41203 events from 3 files, 1200 unrecognized lines"
        );
        assert_eq!(
            summary(1),
            "keibi: 41203 events from 3 files, 1200 unrecognized lines (and the rest of 1 input in no known format, not read)"
        );
        assert_eq!(
            summary(2),
            "keibi: 41203 events from 3 files, 1200 unrecognized lines (and the rest of 2 inputs in no known format, not read)"
        );
        assert_eq!(
            en.render(&Msg::new("ev-skipped").arg("n", 1532u64)),
            "keibi: 1,532 lines of other programs skipped"
        );
        let note = |rollups: u64| {
            en.render(
                &Msg::new("scan-rolled-note")
                    .arg("max", 20_000u64)
                    .arg("n", 61_234u64)
                    .arg("rollups", rollups),
            )
        };
        assert_eq!(note(1), "keibi: note: more than 20,000 findings: the most severe are listed one by one, and 61,234 less severe ones are rolled up into 1 roll-up finding (one per detector and type)");
        assert_eq!(note(1200), "keibi: note: more than 20,000 findings: the most severe are listed one by one, and 61,234 less severe ones are rolled up into 1200 roll-up findings (one per detector and type)");
        let problems = |n: u64| {
            en.render(
                &Msg::new("config-problems")
                    .arg("path", "k.yaml")
                    .arg("n", n),
            )
        };
        assert_eq!(problems(1), "keibi: k.yaml: 1 problem");
        assert_eq!(problems(1000), "keibi: k.yaml: 1000 problems");
        assert_eq!(
            en.render(&Msg::new("ev-explain-format").arg("format", "postgres-stderr")),
            "  format: postgres-stderr"
        );
        assert_eq!(
            en.render(
                &Msg::new("scan-summary")
                    .arg("n", 15u64)
                    .arg("counts", " (2 Critical)")
                    .arg("extra", ", 3 dropped")
            ),
            "keibi: 15 findings (2 Critical), 3 dropped"
        );
    }

    #[test]
    fn library_texts_of_known_shapes_read_in_japanese() {
        let l = ja();
        let said = |t: &str| known_shape(&l, t).unwrap_or_else(|| os_errors(&l, t));
        assert_eq!(
            said("No such file or directory (os error 2)"),
            "ファイルまたはディレクトリがありません (os error 2)"
        );
        assert_eq!(
            said("read error (Permission denied (os error 13)); read what came before"),
            "read error (アクセス権がありません (os error 13)); read what came before",
            "an unknown sentence keeps its English, the system's error is translated"
        );
        let undetected = "format not recognized (first line: \"2026-11-28 x) y\"); the closest log_line_prefix, inferred from its first lines, is '%m [%p] ' and reads only 3 of 200 of them; gave up on it after its first 1048576 bytes (10000 lines), the rest is not read; name it with --log-format, or for PostgreSQL give your log_line_prefix with --pg-prefix";
        assert_eq!(
            said(undetected),
            "形式を認識できません（先頭行: \"2026-11-28 x) y\"）。先頭の行から推定した最も近い log_line_prefix は '%m [%p] ' ですが、200行のうち 3行しか読めません。先頭の 1,048,576 バイト（10,000行）で読むのをやめました。残りは読んでいません。--log-format で形式を指定するか、PostgreSQL なら --pg-prefix で log_line_prefix を指定してください"
        );
        let plain = "format not recognized (first line: \"hello\"); name it with --log-format, or for PostgreSQL give your log_line_prefix with --pg-prefix";
        assert!(said(plain).starts_with("形式を認識できません（先頭行: \"hello\"）。--log-format"));
        // A first line that imitates keibi's own words is still only the first line.
        let forged = "format not recognized (first line: \"; the closest log_line_prefix, inferred from its first lines, is 'x' and reads only 1 of 2 of them\"); name it with --log-format, or for PostgreSQL give your log_line_prefix with --pg-prefix";
        let forged = said(forged);
        assert!(
            forged.starts_with("形式を認識できません（先頭行: \"; the closest log_line_prefix")
                && !forged.contains("最も近い"),
            "{forged}"
        );
        assert_eq!(
            said("sources.inputs[0]: unknown key `pth`: did you mean `path`?"),
            "sources.inputs[0]: 不明なキー `pth`: `path` の誤りではありませんか？"
        );
        assert_eq!(
            said("unknown section `sorces`: did you mean `sources`?"),
            "不明なセクション `sorces`: `sources` の誤りではありませんか？"
        );
        assert_eq!(
            said("19900 more problems not shown"),
            "ほかに 19,900件の問題があります（表示していません）"
        );
        assert_eq!(
            said("something keibi has no words for"),
            "something keibi has no words for"
        );
    }
}
