//! Texts as data: a [`Msg`] names a message of the catalog (`keibi-i18n`) and carries
//! its arguments, typed, so each language renders numbers, times, durations and lists
//! its own way. Findings carry their texts this way ([`FindingText`]) beside the
//! English strings of the contract, so an output can render them in another language
//! or time zone. No Fluent here: the model stays plain data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One message: a catalog id (`login-stuffing-title`) and its named arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Msg {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<(String, Arg)>,
}

/// A typed argument. Each language decides how it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arg {
    /// Text shown as it is (a user name, an address, an instance). Attacker-written:
    /// outputs escape it.
    Text(String),
    /// A count: thousands separators; plural or counter word chosen by the catalog.
    Count(u64),
    /// A count the bounded list may understate: `100+`.
    AtLeast(u64),
    /// An instant, shown in the display zone with the zone named. With `base`, only
    /// the time of day when it falls on the same (display-zone) day as `base`.
    Time {
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base: Option<DateTime<Utc>>,
    },
    /// The time between two instants, in words (`8 minutes`, `8分`).
    Span {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    /// Up to `max` names, then how many more (`a, b and 15 more`).
    Names {
        items: Vec<String>,
        total: u64,
        max: u64,
    },
    /// An hour-of-day range learned in UTC hours (`from` inclusive, `to` exclusive),
    /// shown in the display zone at its offset on `at` (`09:00-19:00`).
    Hours { from: u8, to: u8, at: DateTime<Utc> },
    /// A time of day in the display zone, with the zone (`03:10 UTC`, `12:10 JST`).
    Clock { at: DateTime<Utc> },
    /// A date and time to the minute in the display zone, with the zone
    /// (`2026-11-28 15:41 UTC`, `2026-11-29 00:41 JST`).
    Minute { at: DateTime<Utc> },
    /// Messages joined as a list (`, ` in English, `、` in Japanese).
    Join(Vec<Msg>),
    /// Another message, rendered first (a clause chosen by the code).
    Msg(Box<Msg>),
    /// Pieces rendered one after the other with nothing between: a text whose
    /// wording is not in the catalog (a Sigma rule's own title in its file) with its
    /// figures still typed, so times follow the display zone.
    Concat(Vec<Arg>),
}

impl Msg {
    pub fn new(id: &str) -> Msg {
        Msg {
            id: id.to_string(),
            args: Vec::new(),
        }
    }

    /// Adds an argument (builder style).
    pub fn arg(mut self, name: &str, value: impl Into<Arg>) -> Msg {
        self.args.push((name.to_string(), value.into()));
        self
    }

    pub fn get(&self, name: &str) -> Option<&Arg> {
        self.args.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}
impl From<u64> for Arg {
    fn from(n: u64) -> Arg {
        Arg::Count(n)
    }
}
impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Count(n as u64)
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(at: DateTime<Utc>) -> Arg {
        Arg::Time { at, base: None }
    }
}
impl From<Msg> for Arg {
    fn from(m: Msg) -> Arg {
        Arg::Msg(Box::new(m))
    }
}

/// A finding's texts as messages: the title, the description's sentences and the
/// remediation's steps (each step one message, numbered where a language numbers them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FindingText {
    pub title: Option<Msg>,
    #[serde(default)]
    pub description: Vec<Msg>,
    #[serde(default)]
    pub remediation: Vec<Msg>,
}
