//! keibi's own metadata in a Sigma rule (the top-level `keibi:` mapping, documented
//! in `docs/rules.md`) and the finding texts it templates.

use std::fmt::Write as _;

use keibi_model::{ActionKind, Arg, Event, Finding, FindingSpec, Msg, Severity};
use rsigma_parser::Level;
use serde::Deserialize;

/// What a rule's matches become. Rules without a `keibi:` mapping (community rules)
/// get the Sigma defaults: type `Sigma:<Source>/<rule id>`, severity from `level`,
/// the rule's title and description, MITRE ids from its `attack.tNNNN` tags.
#[derive(Debug)]
pub struct Meta {
    pub finding_type: String,
    pub severity: Severity,
    pub title: Template,
    pub description: Template,
    pub remediation: Template,
    pub mitre: Vec<String>,
    /// Event fields whose values (besides rule and type) key one finding:
    /// matches with the same values aggregate into it.
    pub group_by: Vec<String>,
    /// `resource.kind` and the event field holding `resource.id`; `None` means the
    /// database instance (database logs) or the AWS account (CloudTrail).
    pub resource: Option<(String, String)>,
    /// The rule's catalog entry: type, severity, MITRE, its title, the remediation
    /// as written and the kinds of suggested actions its findings carry.
    pub spec: FindingSpec,
    /// The rule's Japanese (`title_ja`, `description_ja`, `remediation_ja`), when it
    /// has any: its findings then carry their texts as messages in both languages.
    pub ja: Option<JaTexts>,
    /// `refused_severity`: a statement the server refused (permission denied) that
    /// the rule would match had it run raises the same finding at this severity,
    /// titled "refused"; a success raises it to `severity`.
    pub refused: Option<Severity>,
    /// The habit that sets the severity in context (`keibi: context:`).
    pub context: Option<crate::detectors::baseline::habits::Kind>,
}

/// A rule's Japanese templates. A text it leaves out is shown in English.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JaTexts {
    pub title: Option<Template>,
    pub description: Option<Template>,
    /// The remediation as numbered steps, one template each.
    pub remediation: Vec<Template>,
}

/// `remediation_ja`: one step, or a list of steps.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Steps {
    One(String),
    Many(Vec<String>),
}

impl JaTexts {
    /// Parses the Japanese of a rule and checks it against the English templates:
    /// every `{placeholder}` of a Japanese text must be one the rule's English texts
    /// have (a Japanese step may name the `{user}` of the English title).
    pub fn parse(
        title: Option<&str>,
        description: Option<&str>,
        remediation: Option<Steps>,
        en: [&Template; 3],
    ) -> Result<Option<JaTexts>, String> {
        let steps = match remediation {
            None => Vec::new(),
            Some(Steps::One(s)) => vec![s],
            Some(Steps::Many(v)) => v,
        };
        if title.is_none() && description.is_none() && steps.is_empty() {
            return Ok(None);
        }
        let english: Vec<String> = en.iter().flat_map(|t| t.placeholders()).collect();
        let one = |s: &str, what: &str| -> Result<Template, String> {
            let t = Template::parse(s).map_err(|e| format!("keibi.{what}: {e}"))?;
            match t.placeholders().into_iter().find(|p| !english.contains(p)) {
                Some(p) => Err(format!(
                    "keibi.{what} uses {{{p}}}, which the rule's English texts do not"
                )),
                None => Ok(t),
            }
        };
        Ok(Some(JaTexts {
            title: title.map(|s| one(s, "title_ja")).transpose()?,
            description: description.map(|s| one(s, "description_ja")).transpose()?,
            remediation: steps
                .iter()
                .map(|s| one(s, "remediation_ja"))
                .collect::<Result<_, _>>()?,
        }))
    }

    /// Fills in event fields from `ev`, as [`Template::bind`].
    pub fn bind(&self, ev: &Event) -> JaTexts {
        JaTexts {
            title: self.title.as_ref().map(|t| t.bind(ev)),
            description: self.description.as_ref().map(|t| t.bind(ev)),
            remediation: self.remediation.iter().map(|t| t.bind(ev)).collect(),
        }
    }
}

/// The `keibi:` mapping as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    #[serde(rename = "type")]
    pub finding_type: String,
    pub severity: Option<f64>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub remediation: Option<String>,
    /// The Japanese of `title`, `description` and `remediation` (a step or a list of
    /// steps), with the same `{placeholders}`.
    pub title_ja: Option<String>,
    pub description_ja: Option<String>,
    pub remediation_ja: Option<Steps>,
    #[serde(default)]
    pub mitre: Vec<String>,
    #[serde(default)]
    pub group_by: Vec<String>,
    pub resource_kind: Option<String>,
    pub resource_id: Option<String>,
    /// Kinds of suggested actions (`block_address`, `lock_role` ...), filled from
    /// each finding's actor and resource.
    #[serde(default)]
    pub actions: Vec<ActionKind>,
    /// Severity of a refused attempt (see [`Meta::refused`]); database rules only.
    pub refused_severity: Option<f64>,
    /// The user's habit that sets the severity in context (`account`, `role`): a
    /// match that is the user's routine is Low, one from a new network or at an
    /// unusual hour at least Medium (`detectors::baseline::habits`).
    pub context: Option<String>,
}

/// Sigma `level` to severity, as the catalog's CloudTrail section fixes it.
pub fn level_severity(level: Option<Level>) -> Severity {
    Severity::new(match level {
        Some(Level::Informational) => 1.0,
        Some(Level::Low) | None => 3.0,
        Some(Level::Medium) => 5.0,
        Some(Level::High) => 7.5,
        Some(Level::Critical) => 9.5,
    })
}

/// MITRE technique ids from Sigma tags: `attack.t1110.001` → `T1110.001`.
pub fn mitre_from_tags(tags: &[String]) -> Vec<String> {
    tags.iter()
        .filter_map(|t| t.strip_prefix("attack.t"))
        .filter(|id| id.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|id| format!("T{}", id.to_ascii_uppercase()))
        .collect()
}

/// One piece of a title or description template.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Lit(String),
    /// `{path}`: the field of the finding's first event.
    Field(String),
    /// `{count}`, `{first_seen}` ...: a figure of the aggregated finding.
    Agg(Agg),
}

/// Figures of the whole finding, filled in when the scan ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Agg {
    Count,
    FirstSeen,
    LastSeen,
    Duration,
    Ips,
    Users,
}

impl Agg {
    fn name(self) -> &'static str {
        match self {
            Agg::Count => "count",
            Agg::FirstSeen => "first_seen",
            Agg::LastSeen => "last_seen",
            Agg::Duration => "duration",
            Agg::Ips => "ips",
            Agg::Users => "users",
        }
    }

    fn parse(name: &str) -> Option<Agg> {
        Some(match name {
            "count" => Agg::Count,
            "first_seen" => Agg::FirstSeen,
            "last_seen" => Agg::LastSeen,
            "duration" => Agg::Duration,
            "ips" => Agg::Ips,
            "users" => Agg::Users,
            _ => return None,
        })
    }
}

/// A parsed template: `{name}` is a figure or an event field, `{{`/`}}` are braces.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template(pub Vec<Seg>);

/// The longest value a template takes from an event field (statements can be
/// megabytes; titles are one line).
const FIELD_MAX_CHARS: usize = 160;

impl Template {
    pub fn parse(s: &str) -> Result<Template, String> {
        let mut segs = Vec::new();
        let mut lit = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(format!("unclosed `{{` in template {s:?}")),
                        }
                    }
                    let name = name.trim();
                    if name.is_empty() {
                        return Err(format!("empty `{{}}` in template {s:?}"));
                    }
                    if !lit.is_empty() {
                        segs.push(Seg::Lit(std::mem::take(&mut lit)));
                    }
                    segs.push(match Agg::parse(name) {
                        Some(a) => Seg::Agg(a),
                        None => Seg::Field(name.to_string()),
                    });
                }
                '}' => return Err(format!("lone `}}` in template {s:?} (write `}}}}`)")),
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            segs.push(Seg::Lit(lit));
        }
        Ok(Template(segs))
    }

    /// A literal template.
    pub fn literal(s: &str) -> Template {
        Template(vec![Seg::Lit(s.to_string())])
    }

    /// Fills in event fields from `ev`, keeping the figures for [`Template::finish`].
    /// A missing field reads `-`.
    pub fn bind(&self, ev: &Event) -> Template {
        let mut out: Vec<Seg> = Vec::with_capacity(self.0.len());
        for seg in &self.0 {
            let text = match seg {
                Seg::Field(path) => field_text(ev, path),
                Seg::Lit(s) => s.clone(),
                Seg::Agg(_) => {
                    out.push(seg.clone());
                    continue;
                }
            };
            match out.last_mut() {
                Some(Seg::Lit(prev)) => prev.push_str(&text),
                _ => out.push(Seg::Lit(text)),
            }
        }
        Template(out)
    }

    /// The placeholder names (`user`, `count` ...) of the template.
    pub fn placeholders(&self) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|seg| match seg {
                Seg::Field(p) => Some(p.clone()),
                Seg::Agg(a) => Some(a.name().to_string()),
                Seg::Lit(_) => None,
            })
            .collect()
    }

    /// The text with the finding's figures as a catalog argument: the pieces in a
    /// row, times as instants (shown in the reader's zone), lists and durations in the
    /// reader's words. `japanese` writes the count with thousands separators (the
    /// English contract never did) and `{last_seen}` as a time of day when it falls
    /// on the day of `{first_seen}`.
    pub fn finish_arg(&self, f: &Finding, japanese: bool) -> Arg {
        let mut parts = Vec::with_capacity(self.0.len());
        for seg in &self.0 {
            parts.push(match seg {
                Seg::Lit(l) => Arg::Text(l.clone()),
                Seg::Field(p) => Arg::Text(format!("{{{p}}}")),
                Seg::Agg(Agg::Count) if japanese => Arg::Count(f.count),
                Seg::Agg(Agg::Count) => Arg::Text(f.count.to_string()),
                Seg::Agg(Agg::FirstSeen) => f.first_seen.into(),
                Seg::Agg(Agg::LastSeen) if japanese => Arg::Time {
                    at: f.last_seen,
                    base: Some(f.first_seen),
                },
                Seg::Agg(Agg::LastSeen) => f.last_seen.into(),
                Seg::Agg(Agg::Duration) => duration_arg((f.last_seen - f.first_seen).num_seconds()),
                Seg::Agg(Agg::Ips) => {
                    let ips: Vec<String> = if f.actor.ips.is_empty() {
                        f.actor.ip.iter().map(|i| i.to_string()).collect()
                    } else {
                        f.actor.ips.iter().map(|i| i.to_string()).collect()
                    };
                    list_arg(&ips, f.actor.ips_truncated)
                }
                Seg::Agg(Agg::Users) => {
                    let users: Vec<String> = if f.actor.users.is_empty() {
                        f.actor.user.iter().cloned().collect()
                    } else {
                        f.actor.users.clone()
                    };
                    list_arg(&users, f.actor.users_truncated)
                }
            });
        }
        Arg::Concat(parts)
    }

    /// The final text, with the finding's figures.
    pub fn finish(&self, f: &Finding) -> String {
        let mut s = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Lit(l) => s.push_str(l),
                Seg::Field(p) => {
                    let _ = write!(s, "{{{p}}}");
                }
                Seg::Agg(a) => agg_text(&mut s, *a, f),
            }
        }
        s
    }
}

/// The full text of an event field (`-` when absent), for aggregation keys.
pub fn field_value(ev: &Event, path: &str) -> String {
    use keibi_model::event::FieldRef;
    match ev.get(path) {
        None => "-".to_string(),
        Some(FieldRef::Str(s)) => s.to_string(),
        Some(FieldRef::Owned(s)) => s,
        Some(FieldRef::Int(n)) => n.to_string(),
        Some(FieldRef::Bool(b)) => b.to_string(),
        Some(FieldRef::Json(serde_json::Value::String(s))) => s.clone(),
        Some(FieldRef::Json(v)) => v.to_string(),
    }
}

fn field_text(ev: &Event, path: &str) -> String {
    truncate(field_value(ev, path), FIELD_MAX_CHARS)
}

/// At most `max` characters, on one line, with `…` when cut.
/// Reads no further than it keeps: an attacker's 8 MiB field costs `max` characters
/// (`split_whitespace` would scan a whole long word before yielding it).
pub fn truncate(s: String, max: usize) -> String {
    // Most values (an account id, an event name, a user) are short and already on
    // one line with single spaces: kept as they are, without a copy (building every
    // value again character by character was 1.6% of a CloudTrail scan).
    if s.len() <= max && tidy(&s) {
        return s;
    }
    let mut out = String::new();
    let mut n = 0;
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = n > 0;
            continue;
        }
        for c in space.then_some(' ').into_iter().chain([c]) {
            if n == max {
                out.push('…');
                return out;
            }
            out.push(c);
            n += 1;
        }
        space = false;
    }
    out
}

/// On one line, no white space but single ASCII spaces between words.
fn tidy(s: &str) -> bool {
    let b = s.as_bytes();
    if b.first() == Some(&b' ')
        || b.last() == Some(&b' ')
        || memchr::memmem::find(b, b"  ").is_some()
    {
        return false;
    }
    if s.is_ascii() {
        !b.iter().any(|c| c.is_ascii_whitespace() && *c != b' ')
    } else {
        !s.chars().any(|c| c.is_whitespace() && c != ' ')
    }
}

fn agg_text(s: &mut String, a: Agg, f: &Finding) {
    match a {
        Agg::Count => {
            let _ = write!(s, "{}", f.count);
        }
        Agg::FirstSeen => s.push_str(&f.first_seen.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        Agg::LastSeen => s.push_str(&f.last_seen.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        Agg::Duration => s.push_str(&human_duration((f.last_seen - f.first_seen).num_seconds())),
        Agg::Ips => {
            let ips: Vec<String> = if f.actor.ips.is_empty() {
                f.actor.ip.iter().map(|i| i.to_string()).collect()
            } else {
                f.actor.ips.iter().map(|i| i.to_string()).collect()
            };
            s.push_str(&list_text(&ips, f.actor.ips_truncated));
        }
        Agg::Users => {
            let users: Vec<String> = if f.actor.users.is_empty() {
                f.actor.user.iter().cloned().collect()
            } else {
                f.actor.users.clone()
            };
            s.push_str(&list_text(&users, f.actor.users_truncated));
        }
    }
}

/// `a, b, c and 12 more`, at most five named; `-` when empty.
pub fn list_text(items: &[String], truncated: bool) -> String {
    if items.is_empty() {
        return "-".to_string();
    }
    let shown: Vec<String> = items
        .iter()
        .take(5)
        .map(|i| truncate(i.clone(), 64))
        .collect();
    let rest = items.len().saturating_sub(5);
    let mut s = shown.join(", ");
    if rest > 0 || truncated {
        let _ = write!(s, " and {}{} more", rest, if truncated { "+" } else { "" });
    }
    s
}

/// [`list_text`] as a catalog argument: the names joined in the reader's language
/// (`a, b and 12 more`, `a、b ほか12件`); the English renders exactly as
/// [`list_text`].
pub fn list_arg(items: &[String], truncated: bool) -> Arg {
    if items.is_empty() {
        return Arg::Text("-".to_string());
    }
    let shown: Vec<Msg> = items
        .iter()
        .take(5)
        .map(|i| Msg::new("act-name").arg("name", truncate(i.clone(), 64)))
        .collect();
    let rest = items.len().saturating_sub(5);
    if rest > 0 || truncated {
        Msg::new("list-more")
            .arg("shown", Arg::Join(shown))
            .arg(
                "more",
                format!("{rest}{}", if truncated { "+" } else { "" }),
            )
            .into()
    } else {
        Arg::Join(shown)
    }
}

/// [`human_duration`] as a catalog argument (`3.5 h`, `3.5時間`).
pub fn duration_arg(secs: i64) -> Arg {
    let secs = secs.max(0);
    let (id, n) = if secs < 120 {
        ("act-dur-s", secs.to_string())
    } else if secs < 7200 {
        ("act-dur-min", (secs / 60).to_string())
    } else if secs < 172_800 {
        ("act-dur-h", format!("{:.1}", secs as f64 / 3600.0))
    } else {
        ("act-dur-days", format!("{:.1}", secs as f64 / 86400.0))
    };
    Msg::new(id).arg("n", n).into()
}

/// `45 s`, `12 min`, `3.5 h`, `2.0 days`.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 120 {
        format!("{secs} s")
    } else if secs < 7200 {
        format!("{} min", secs / 60)
    } else if secs < 172_800 {
        format!("{:.1} h", secs as f64 / 3600.0)
    } else {
        format!("{:.1} days", secs as f64 / 86400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parses_fields_figures_and_escapes() {
        let t = Template::parse("{user} tried {count}x {{not}} from {client_ip}").unwrap();
        assert_eq!(
            t.0,
            vec![
                Seg::Field("user".into()),
                Seg::Lit(" tried ".into()),
                Seg::Agg(Agg::Count),
                Seg::Lit("x {not} from ".into()),
                Seg::Field("client_ip".into()),
            ]
        );
        assert!(Template::parse("{user").is_err());
        assert!(Template::parse("a } b").is_err());
        assert!(Template::parse("{}").is_err());
    }

    #[test]
    fn tags_give_mitre_ids() {
        let tags = vec![
            "attack.t1110.001".to_string(),
            "attack.credential-access".to_string(),
            "attack.t1098".to_string(),
        ];
        assert_eq!(mitre_from_tags(&tags), vec!["T1110.001", "T1098"]);
    }

    #[test]
    fn long_values_are_cut_to_one_line() {
        let s = truncate("a\nb  c".to_string(), 10);
        assert_eq!(s, "a b c");
        let s = truncate("x".repeat(300), 10);
        assert_eq!(s.chars().count(), 11);
    }
}

#[cfg(test)]
mod truncate_tests {
    use super::truncate;

    /// The plain version: words joined by one space, then cut at `max` characters.
    fn plain(s: &str, max: usize) -> String {
        let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
        if one_line.chars().count() <= max {
            return one_line;
        }
        let mut t: String = one_line.chars().take(max).collect();
        t.push('…');
        t
    }

    #[test]
    fn truncate_is_the_plain_version() {
        let cases = [
            "",
            "  ",
            "a",
            "ab cd",
            " ab\t\ncd  ef ",
            "日本語 の  名前",
            "x y",
            "abc",
            " a",
            "a ",
            "a  b",
            "a\u{3000}b",
            "a\u{a0}b",
            "\u{2028}",
            "abcdefghijklm",
            "日本語の名前です長い名前",
        ];
        for s in cases {
            for max in 0..12 {
                assert_eq!(truncate(s.to_string(), max), plain(s, max), "{s:?} {max}");
            }
        }
    }
}
