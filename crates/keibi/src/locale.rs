//! Which language and display time zone a command speaks (`docs/i18n.md`).
//!
//! Language: `--lang`, `KEIBI_LANG`, the settings file's `display.lang`, then the
//! POSIX locale (`LC_ALL`, `LC_MESSAGES`, `LANG`: `ja_JP.UTF-8` is Japanese); English
//! when none is set. Zone: `--display-tz`, `KEIBI_TZ`, `display.tz`; unset, English
//! shows UTC (the zone of the contract's texts, so English output is the same on
//! every machine) and Japanese the system's zone (`TZ`, `/etc/localtime`), or
//! Asia/Tokyo when the system runs UTC, as servers usually do.

use anyhow::{Context, Result};
use keibi_engine::settings::Display;
use keibi_i18n::{DisplayZone, Lang, Locale};

use crate::cli::Global;

/// The locale of this process's command line, environment and settings.
pub fn resolve(global: &Global, display: Option<&Display>) -> Result<Locale> {
    resolve_from(
        global.lang.as_deref(),
        global.display_tz.as_deref(),
        display,
        |k| std::env::var(k).ok(),
        DisplayZone::system,
    )
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
