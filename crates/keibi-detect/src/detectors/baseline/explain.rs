//! Plain words for anomalies: which factors were new and what is usual, e.g.
//! "first login of bob from AS64500 203.0.113.7 (usual: AS2516, 198.51.100.0/24),
//! with python-psycopg2 (usual: psql, DBeaver), at 03:10 UTC (usual 09:00-19:00)".
//!
//! Also the normalisation that makes "a new client version" not news: application
//! names and user agents reduce to a family (`DBeaver 23.1.0 - Main` -> `DBeaver`,
//! `aws-cli/2.15.0 Python/3.11` -> `aws-cli`).

use std::fmt::{self, Display};
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use keibi_model::{Arg, Msg};

use super::profile::{bounded, hour_of, largest_gap, Asn, Net, Secs};

/// Usual values named in an explanation; more are summarised as "and N more".
const SHOWN: usize = 3;

/// One way an event differs from its profile.
#[derive(Debug, Clone, PartialEq)]
pub enum Factor {
    /// A source network (and ASN, when known) never seen for this profile.
    Source {
        ip: Option<IpAddr>,
        net: Net,
        /// The source's ASN when a database gave one, and whether it is new too.
        asn: Option<(Asn, bool)>,
        usual: Usual,
    },
    /// A country never seen.
    Country { now: String, usual: Usual },
    /// A client application (or user agent) family never seen.
    App { now: String, usual: Usual },
    /// An authentication method never seen.
    Auth { now: String, usual: Usual },
    /// A plaintext login by a user who always used TLS.
    Plaintext,
    /// An hour of the day never seen (nor the hours either side): the login's time
    /// and the usual hours (UTC hour mask).
    Hour { t: Secs, mask: u32 },
    /// A day of the week never seen (0 Monday) and the usual days (mask).
    Weekday { day: u8, mask: u8 },
    /// An AWS region never used by the principal.
    Region { now: String, usual: Usual },
    /// A sensitive call the principal never made.
    Call { name: String, usual: Usual },
}

impl Factor {
    /// Where the client is: a new network, ASN or country. The factors that say
    /// "someone else", not "the same person doing something new".
    pub fn is_location(&self) -> bool {
        matches!(self, Factor::Source { .. } | Factor::Country { .. })
    }

    /// The phrase for this factor, to join after "first login of bob".
    pub fn phrase(&self) -> String {
        match self {
            Factor::Source {
                ip,
                net,
                asn,
                usual,
            } => {
                let at = match ip {
                    Some(ip) => ip.to_string(),
                    None => net.to_string(),
                };
                match asn {
                    Some((a, _)) => format!("from AS{} {at} ({}) (usual: {usual})", a.n, org(a)),
                    None => format!("from {at} (usual: {usual})"),
                }
            }
            Factor::Country { now, usual } => format!("in {now} (usual: {usual})"),
            Factor::App { now, usual } => format!("with {now} (usual: {usual})"),
            Factor::Auth { now, usual } => {
                format!("authenticated by {now} (usual: {usual})")
            }
            Factor::Plaintext => "without TLS (usual: TLS)".to_string(),
            Factor::Hour { t, mask } => format!(
                "at {:02}:{:02} UTC (usual {})",
                hour_of(*t),
                t.rem_euclid(3600) / 60,
                hour_range(*mask)
            ),
            Factor::Weekday { day, mask } => {
                format!("on a {} (usual {})", day_name(*day), day_range(*mask))
            }
            Factor::Region { now, usual } => format!("in region {now} (usual: {usual})"),
            Factor::Call { name, usual } => {
                format!("its first {name} (usual sensitive calls: {usual})")
            }
        }
    }
}

impl Factor {
    /// The factor as a catalog message (`docs/i18n.md`): the same words as
    /// [`Factor::phrase`] in English, and other languages with the hours in the
    /// display zone.
    pub fn msg(&self) -> Msg {
        match self {
            Factor::Source {
                ip,
                net,
                asn,
                usual,
            } => {
                let at = match ip {
                    Some(ip) => ip.to_string(),
                    None => net.to_string(),
                };
                match asn {
                    Some((a, _)) => Msg::new("factor-source-asn")
                        .arg("asn", a.n.to_string())
                        .arg("at", at)
                        .arg(
                            "org",
                            if a.org.is_empty() {
                                Arg::from(Msg::new("org-unknown"))
                            } else {
                                Arg::from(&*a.org)
                            },
                        )
                        .arg("usual", usual.msg()),
                    None => Msg::new("factor-source")
                        .arg("at", at)
                        .arg("usual", usual.msg()),
                }
            }
            Factor::Country { now, usual } => Msg::new("factor-country")
                .arg("now", now)
                .arg("usual", usual.msg()),
            Factor::App { now, usual } => Msg::new("factor-app")
                .arg("now", now)
                .arg("usual", usual.msg()),
            Factor::Auth { now, usual } => Msg::new("factor-auth")
                .arg("now", now)
                .arg("usual", usual.msg()),
            Factor::Plaintext => Msg::new("factor-plaintext"),
            Factor::Hour { t, mask } => {
                let at = DateTime::<Utc>::from_timestamp(*t, 0).unwrap_or_default();
                Msg::new("factor-hour")
                    .arg("at", Arg::Clock { at })
                    .arg("usual", hours_arg(*mask, at))
            }
            Factor::Weekday { day, mask } => Msg::new("factor-weekday")
                .arg("day", Msg::new(&format!("day-{}", day % 7)))
                .arg("usual", days_msg(*mask)),
            Factor::Region { now, usual } => Msg::new("factor-region")
                .arg("now", now)
                .arg("usual", usual.msg()),
            Factor::Call { name, usual } => Msg::new("factor-call")
                .arg("name", name)
                .arg("usual", usual.msg()),
        }
    }
}

/// The usual hours as an argument: a range in the display zone, `none` or `any hour`.
pub(crate) fn hours_arg(mask: u32, at: DateTime<Utc>) -> Arg {
    if mask & 0xff_ffff == 0 {
        return Msg::new("hours-none").into();
    }
    match largest_gap(mask) {
        None => Msg::new("hours-any").into(),
        Some((start, len)) => Arg::Hours {
            from: ((start + len) % 24) as u8,
            to: start as u8,
            at,
        },
    }
}

/// The usual days as a message: `Mon-Fri`, `Mon, Wed, Sat` (see [`day_range`]).
fn days_msg(mask: u8) -> Msg {
    let short = |d: usize| Msg::new(&format!("day-short-{d}"));
    let days: Vec<usize> = (0..7).filter(|d| mask & (1 << d) != 0).collect();
    match days[..] {
        [] => Msg::new("days-none"),
        [one] => short(one),
        [a, .., b] if b - a + 1 == days.len() => Msg::new("days-range")
            .arg("from", short(a))
            .arg("to", short(b)),
        _ => Msg::new("days-list").arg("days", Arg::Join(days.iter().map(|&d| short(d)).collect())),
    }
}

/// What is usual: up to three values and how many more (`psql, DBeaver and 2 more`),
/// or none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Usual {
    pub shown: Vec<String>,
    pub more: usize,
}

impl Usual {
    pub fn msg(&self) -> Msg {
        match (self.shown.is_empty(), self.more) {
            (true, _) => Msg::new("usual-none"),
            (false, 0) => Msg::new("usual-list").arg("shown", self.shown.join(", ")),
            (false, more) => Msg::new("usual-more")
                .arg("shown", self.shown.join(", "))
                .arg("more", more),
        }
    }
}

impl Display for Usual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.shown.is_empty(), self.more) {
            (true, _) => f.write_str("none"),
            (false, 0) => f.write_str(&self.shown.join(", ")),
            (false, more) => write!(f, "{} and {more} more", self.shown.join(", ")),
        }
    }
}

fn org(a: &Asn) -> &str {
    if a.org.is_empty() {
        "unknown organisation"
    } else {
        &a.org
    }
}

/// The factors as one phrase list: "from ..., with ..., at ...".
pub fn phrases(factors: &[Factor]) -> String {
    factors
        .iter()
        .map(Factor::phrase)
        .collect::<Vec<_>>()
        .join(", ")
}

/// "psql, DBeaver and 2 more", or "none" when nothing is usual yet.
pub fn list<T: Display>(items: impl IntoIterator<Item = T>) -> Usual {
    let mut all: Vec<String> = items.into_iter().map(|v| v.to_string()).collect();
    let more = all.len().saturating_sub(SHOWN);
    all.truncate(SHOWN);
    Usual { shown: all, more }
}

/// The usual hours as one range, "09:00-19:00": the smallest span of the day (it may
/// wrap midnight) that holds every usual hour. `any hour` when there is no gap.
pub fn hour_range(mask: u32) -> String {
    if mask & 0xff_ffff == 0 {
        return "none".to_string();
    }
    match largest_gap(mask) {
        None => "any hour".to_string(),
        Some((start, len)) => format!("{:02}:00-{:02}:00", (start + len) % 24, start),
    }
}

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

pub fn day_name(d: u8) -> &'static str {
    DAYS[usize::from(d % 7)]
}

/// The usual days: "Mon-Fri", or a list "Mon, Wed, Sat".
pub fn day_range(mask: u8) -> String {
    let short = |d: usize| &DAYS[d][..3];
    let days: Vec<usize> = (0..7).filter(|d| mask & (1 << d) != 0).collect();
    match days[..] {
        [] => "none".to_string(),
        [one] => short(one).to_string(),
        [a, .., b] if b - a + 1 == days.len() => format!("{}-{}", short(a), short(b)),
        _ => days
            .iter()
            .map(|&d| short(d))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The family of a database client's application name: what stays when versions and
/// window or script decorations are dropped. `None` for empty and placeholder names.
pub fn app_family(name: &str) -> Option<Box<str>> {
    let name = name.trim();
    if name.is_empty() || name == "[unknown]" {
        return None;
    }
    let head = [" - ", "/", "(", "[", "<"]
        .iter()
        .filter_map(|sep| name.find(sep))
        .min()
        .map_or(name, |at| &name[..at]);
    let words: Vec<&str> = head
        .split_whitespace()
        .take_while(|w| !is_version(w))
        .collect();
    let joined = words.join(" ");
    let fam = strip_numbering(&joined);
    if fam.is_empty() {
        // A name that is only a version or digits: keep it as it is.
        return Some(bounded(name));
    }
    Some(bounded(fam))
}

/// Drops instance numbering at the end (`web.1`, `psql-14`, `worker_3`) but keeps
/// digits that are part of a name (`psycopg2`).
fn strip_numbering(s: &str) -> &str {
    let mut s = s.trim_end_matches(|c: char| "._-: ".contains(c));
    loop {
        let digits = s.trim_end_matches(|c: char| c.is_ascii_digit());
        let sep = digits.trim_end_matches(|c: char| "._-: ".contains(c));
        if digits.len() == s.len() || sep.len() == digits.len() {
            return s;
        }
        s = sep;
    }
}

fn is_version(w: &str) -> bool {
    let w = w.strip_prefix(['v', 'V']).unwrap_or(w);
    w.starts_with(|c: char| c.is_ascii_digit())
}

/// Tools recognised inside a user agent, wherever they appear in it (Terraform's
/// agent starts with `APN/1.0 HashiCorp/1.0`).
const AGENT_TOOLS: [(&str, &str); 6] = [
    ("terraform/", "Terraform"),
    ("pulumi", "Pulumi"),
    ("cloudformation", "CloudFormation"),
    ("aws-cdk", "AWS CDK"),
    ("console.amazonaws.com", "AWS console"),
    ("signin.amazonaws.com", "AWS console"),
];

/// The family of a CloudTrail user agent: a known tool found anywhere in it, else its
/// first product name (`aws-cli`, `Boto3`, `aws-sdk-go-v2`, `python-requests`).
pub fn agent_family(ua: &str) -> Box<str> {
    let lower = ua.to_ascii_lowercase();
    if let Some((_, name)) = AGENT_TOOLS
        .iter()
        .find(|(needle, _)| lower.contains(needle))
    {
        return (*name).into();
    }
    let first = ua.split_whitespace().next().unwrap_or("");
    let product = first.split('/').next().unwrap_or(first);
    if product.is_empty() {
        return "unknown".into();
    }
    if product.starts_with('[') || ua.starts_with("AWS Internal") {
        return bounded(ua.trim_matches(|c| c == '[' || c == ']'));
    }
    bounded(product)
}

/// Upper-cases the first letter (titles and sentences start with one).
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_families_drop_versions_and_decorations() {
        let f = |s: &str| app_family(s).map(|b| b.to_string());
        assert_eq!(f("DBeaver 23.1.0 - Main").as_deref(), Some("DBeaver"));
        assert_eq!(
            f("DBeaver 24.0.5 - SQLEditor <Script-3.sql>").as_deref(),
            Some("DBeaver")
        );
        assert_eq!(f("pgAdmin 4 - DB:postgres").as_deref(), Some("pgAdmin"));
        assert_eq!(f("psql").as_deref(), Some("psql"));
        assert_eq!(
            f("PostgreSQL JDBC Driver").as_deref(),
            Some("PostgreSQL JDBC Driver")
        );
        assert_eq!(f("DataGrip 2023.2.1").as_deref(), Some("DataGrip"));
        assert_eq!(
            f("sidekiq 7.1.0 app [0 of 10 busy]").as_deref(),
            Some("sidekiq")
        );
        assert_eq!(f("rails_app_web.1").as_deref(), Some("rails_app_web"));
        assert_eq!(f("pg_dump").as_deref(), Some("pg_dump"));
        assert_eq!(f("python-psycopg2").as_deref(), Some("python-psycopg2"));
        assert_eq!(f("psql-14").as_deref(), Some("psql"));
        assert_eq!(f("[unknown]"), None);
        assert_eq!(f("  "), None);
        assert_eq!(f("12345").as_deref(), Some("12345"));
    }

    #[test]
    fn agent_families_name_the_tool() {
        assert_eq!(
            &*agent_family("aws-cli/2.15.0 md/awscrt#0.19.19 ua/2.0 os/linux#6.1"),
            "aws-cli"
        );
        assert_eq!(
            &*agent_family("Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10"),
            "Boto3"
        );
        assert_eq!(
            &*agent_family(
                "APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) \
                 terraform-provider-aws/5.31.0 aws-sdk-go-v2/1.24.0"
            ),
            "Terraform"
        );
        assert_eq!(&*agent_family("python-requests/2.31.0"), "python-requests");
        assert_eq!(&*agent_family("console.amazonaws.com"), "AWS console");
        assert_eq!(&*agent_family("AWS Internal"), "AWS Internal");
        assert_eq!(&*agent_family(""), "unknown");
    }

    #[test]
    fn hour_ranges_cover_the_usual_hours() {
        let mask = |hs: &[u32]| hs.iter().fold(0u32, |m, h| m | 1 << h);
        assert_eq!(hour_range(mask(&[9, 10, 12, 18])), "09:00-19:00");
        assert_eq!(hour_range(mask(&[22, 23, 0, 1])), "22:00-02:00");
        assert_eq!(hour_range((1 << 24) - 1), "any hour");
        assert_eq!(hour_range(mask(&[7])), "07:00-08:00");
    }

    #[test]
    fn day_ranges_read_naturally() {
        assert_eq!(day_range(0b0001_1111), "Mon-Fri");
        assert_eq!(day_range(0b0100_0101), "Mon, Wed, Sun");
        assert_eq!(day_name(6), "Sunday");
    }

    #[test]
    fn phrases_read_like_the_issue_example() {
        let f = [
            Factor::Source {
                ip: Some("203.0.113.7".parse().unwrap()),
                net: Net::V4([203, 0, 113]),
                asn: Some((
                    Asn {
                        n: 64500,
                        org: "Example Hosting".into(),
                    },
                    true,
                )),
                usual: list(["AS2516 KDDI", "198.51.100.0/24"]),
            },
            Factor::App {
                now: "python-psycopg2".into(),
                usual: list(["psql", "DBeaver"]),
            },
            Factor::Hour {
                t: 3 * 3600 + 600,
                mask: (9..19).fold(0, |m, h| m | 1 << h),
            },
        ];
        assert_eq!(
            phrases(&f),
            "from AS64500 203.0.113.7 (Example Hosting) (usual: AS2516 KDDI, 198.51.100.0/24), \
             with python-psycopg2 (usual: psql, DBeaver), at 03:10 UTC (usual 09:00-19:00)"
        );
        assert_eq!(
            list(["a", "b", "c", "d", "e"]).to_string(),
            "a, b, c and 2 more"
        );
        assert_eq!(list(Vec::<String>::new()).to_string(), "none");
    }
}
