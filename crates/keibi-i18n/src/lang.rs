//! The display language and how it is chosen.

use std::fmt;
use std::str::FromStr;

/// A language keibi speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown language {0:?}: keibi speaks en and ja")]
pub struct LangError(pub String);

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// The BCP 47 code: `en`, `ja`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The language a POSIX locale name asks for: `ja_JP.UTF-8`, `ja`, `ja-JP` are
    /// Japanese; any other set locale (`C`, `POSIX`, `en_US.UTF-8`, `fr_FR`) is
    /// English, the language every text has.
    pub fn from_posix(locale: &str) -> Lang {
        let l = locale.trim();
        let base = l.split(['_', '-', '.', '@']).next().unwrap_or("");
        if base.eq_ignore_ascii_case("ja") {
            Lang::Ja
        } else {
            Lang::En
        }
    }

    /// The language of the environment's locale, as POSIX orders it: the first
    /// set and non-empty of `LC_ALL`, `LC_MESSAGES`, `LANG`. `None` when none is set.
    pub fn from_locale_vars(get: impl Fn(&str) -> Option<String>) -> Option<Lang> {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(get)
            .find(|v| !v.trim().is_empty())
            .map(|v| Lang::from_posix(&v))
    }
}

impl FromStr for Lang {
    type Err = LangError;

    /// `en` or `ja` (a region or encoding is accepted: `ja-JP`, `ja_JP.UTF-8`).
    fn from_str(s: &str) -> Result<Lang, LangError> {
        let base = s.trim().split(['_', '-', '.', '@']).next().unwrap_or("");
        match base.to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "ja" => Ok(Lang::Ja),
            _ => Err(LangError(s.to_string())),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_locales_choose_the_language() {
        assert_eq!(Lang::from_posix("ja_JP.UTF-8"), Lang::Ja);
        assert_eq!(Lang::from_posix("ja"), Lang::Ja);
        assert_eq!(Lang::from_posix("C"), Lang::En);
        assert_eq!(Lang::from_posix("en_US.UTF-8"), Lang::En);
        assert_eq!(Lang::from_posix("jav_ID"), Lang::En, "Javanese is not ja");
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Lang::from_locale_vars(env(&[])), None);
        assert_eq!(
            Lang::from_locale_vars(env(&[("LANG", "ja_JP.UTF-8")])),
            Some(Lang::Ja)
        );
        assert_eq!(
            Lang::from_locale_vars(env(&[("LANG", "ja_JP.UTF-8"), ("LC_ALL", "C")])),
            Some(Lang::En),
            "LC_ALL wins"
        );
        assert_eq!(
            Lang::from_locale_vars(env(&[("LC_ALL", ""), ("LC_MESSAGES", "ja_JP")])),
            Some(Lang::Ja),
            "an empty variable is unset"
        );
        assert_eq!("ja-JP".parse::<Lang>(), Ok(Lang::Ja));
        assert!("fr".parse::<Lang>().is_err());
    }
}
