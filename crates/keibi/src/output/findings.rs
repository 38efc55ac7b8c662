//! Output formats for findings: `jsonl`, `json`, `csv` for programs and spreadsheets,
//! `table` for a person at a terminal. JSON follows the findings contract through the
//! model's serializer; CSV and the table flatten it and defuse attacker-written text
//! (formula injection, terminal escape sequences).

use std::borrow::Cow;
use std::io::{self, Write};

use chrono::{DateTime, Utc};
use keibi_i18n::{Lang, Locale, Msg};
use keibi_model::finding::{count_by_label, Evidence, Finding, SeverityLabel};

use super::sanitize::{cut, pad, pad_left, terminal, width};

/// How `keibi scan` prints findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FindingFormat {
    /// Aligned columns for a person, most severe first, with a summary line.
    Table,
    /// One JSON object per line.
    Jsonl,
    /// One pretty-printed JSON array.
    Json,
    /// A header row and one row per finding (RFC 4180), safe to open in a spreadsheet.
    Csv,
    /// OCSF 1.8.0 Detection Findings (class 2004; posture: Compliance Findings,
    /// 2003), one JSON object per line, for Security Lake and SIEMs.
    Ocsf,
    /// ASFF: one JSON array, as Security Hub's BatchImportFindings takes it
    /// (account and region: AWS_ACCOUNT_ID and AWS_REGION, else the resource's).
    Asff,
}

/// Writes `findings` in `format`. `color` only affects `table`. Machine formats keep
/// the order given; the table sorts most severe first (see [`by_severity`]).
///
/// In `locale`'s language the human texts (title, description, remediation, the
/// table's headers and summary) of findings that carry their messages are rendered
/// anew, with times in its display zone; machine fields never change. English
/// keeps the contract's texts (UTC) in every format; its display zone shows in the
/// table's SEEN column only.
pub fn write_findings<W: Write>(
    format: FindingFormat,
    findings: &[Finding],
    color: bool,
    locale: &Locale,
    mut out: W,
) -> io::Result<()> {
    let findings = &*localized(findings, locale);
    match format {
        FindingFormat::Jsonl => {
            for f in findings {
                serde_json::to_writer(&mut out, f).map_err(io::Error::other)?;
                out.write_all(b"\n")?;
            }
        }
        FindingFormat::Json => {
            serde_json::to_writer_pretty(&mut out, findings).map_err(io::Error::other)?;
            out.write_all(b"\n")?;
        }
        FindingFormat::Csv => write_csv(findings, &mut out)?,
        FindingFormat::Table => write_table(findings, None, color, locale, &mut out)?,
        FindingFormat::Ocsf => super::ocsf::write_ocsf(findings, None, &mut out)?,
        FindingFormat::Asff => {
            super::asff::write_asff(findings, None, super::asff::env_target, &mut out)?
        }
    }
    out.flush()
}

/// The findings with their human texts in `locale`'s language (see
/// [`write_findings`]); borrowed when nothing changes.
pub fn localized<'a>(findings: &'a [Finding], locale: &Locale) -> Cow<'a, [Finding]> {
    if locale.lang == Lang::En || !findings.iter().any(|f| f.text.is_some()) {
        return Cow::Borrowed(findings);
    }
    Cow::Owned(
        findings
            .iter()
            .map(|f| {
                let mut f = f.clone();
                if let Some(t) = &f.text {
                    let (title, description, remediation) = locale.finding(t);
                    if let Some(title) = title {
                        f.title = title;
                    }
                    f.description = description;
                    f.remediation = remediation;
                }
                f
            })
            .collect(),
    )
}

/// As [`write_findings`], with each finding's workflow status (`statuses[i]` is
/// `findings[i]`'s) as a STATUS column of the table; machine formats are the same.
pub fn write_findings_with_status<W: Write>(
    format: FindingFormat,
    findings: &[Finding],
    statuses: &[&str],
    color: bool,
    locale: &Locale,
    mut out: W,
) -> io::Result<()> {
    let findings = &*localized(findings, locale);
    match format {
        FindingFormat::Table => write_table(findings, Some(statuses), color, locale, &mut out)?,
        FindingFormat::Ocsf => super::ocsf::write_ocsf(findings, Some(statuses), &mut out)?,
        FindingFormat::Asff => {
            super::asff::write_asff(findings, Some(statuses), super::asff::env_target, &mut out)?
        }
        _ => return write_findings(format, findings, color, locale, out),
    }
    out.flush()
}

/// The order a person reads findings in: most severe first, then the most recently
/// active, then by id so equal findings always print the same way.
pub fn by_severity(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then(b.last_seen.cmp(&a.last_seen))
        .then_with(|| a.id.cmp(&b.id))
}

// ---------------------------------------------------------------- CSV

/// The CSV columns, in order. Arrays are joined with `;`; evidence is `source:line`
/// or `source:event_id`.
pub const CSV_HEADER: [&str; 21] = [
    "id",
    "type",
    "severity",
    "severity_label",
    "title",
    "description",
    "remediation",
    "mitre",
    "resource_kind",
    "resource_id",
    "resource_engine",
    "actor_ip",
    "actor_user",
    "actor_app",
    "actor_ips",
    "actor_users",
    "first_seen",
    "last_seen",
    "count",
    "evidence",
    "detector",
];

fn write_csv<W: Write>(findings: &[Finding], out: W) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(out);
    w.write_record(CSV_HEADER)?;
    for f in findings {
        let evidence = joined(f.evidence.iter().map(|e| match e {
            Evidence::Line { source, line } => format!("{source}:{line}"),
            Evidence::Event { source, event_id } => format!("{source}:{event_id}"),
            Evidence::Observed { source, observed } => format!("{source}:{observed}"),
        }));
        let a = &f.actor;
        let row: [String; 21] = [
            f.id.clone(),
            f.finding_type.clone(),
            f.severity.to_string(),
            f.severity.label().to_string(),
            f.title.clone(),
            f.description.clone(),
            f.remediation.clone(),
            joined(&f.mitre),
            f.resource.kind.clone(),
            f.resource.id.clone(),
            f.resource
                .engine
                .map(|e| e.as_str().to_string())
                .unwrap_or_default(),
            a.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            a.user.clone().unwrap_or_default(),
            a.app.clone().unwrap_or_default(),
            many(&a.ips),
            many(&a.users),
            rfc3339(&f.first_seen),
            rfc3339(&f.last_seen),
            f.count.to_string(),
            evidence,
            f.detector.clone(),
        ];
        w.write_record(row.iter().map(|c| defuse(c).into_owned()))?;
    }
    w.flush()?;
    Ok(())
}

fn joined<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let mut s = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            s.push(';');
        }
        s.push_str(&item.to_string());
    }
    s
}

/// The `ips`/`users` cell: empty for one value, as in JSON (the single column has it).
fn many<T: std::fmt::Display>(set: &[T]) -> String {
    if set.len() > 1 {
        joined(set)
    } else {
        String::new()
    }
}

/// Makes a cell safe to open in a spreadsheet (OWASP "CSV injection"). Every cell is
/// also quoted by the writer (`QuoteStyle::Always`), so a reader that honours quotes
/// never splits one.
///
/// * Control characters other than newline (raw ESC, CR, tab, NUL ...) and invisible
///   or format characters (`sanitize::is_unsafe`) become `\u{..}` escapes.
/// * A formula trigger (`=`, `+`, `-`, `@`) that starts the cell gets a `'` before it,
///   which spreadsheets read as "this is text". So does one that starts a piece after
///   a `,`, `;` or newline: a spreadsheet that splits on `;` (the list separator where
///   `,` is the decimal comma) or ignores the quotes makes `a;=cmd` two cells, the
///   second a formula. Spaces and quotes between the separator and the trigger do not
///   hide it.
fn defuse(cell: &str) -> Cow<'_, str> {
    let trigger = |c: char| matches!(c, '=' | '+' | '-' | '@');
    let hostile = |c: char| c != '\n' && super::sanitize::is_unsafe(c);
    let mut at_start = true;
    let mut needs = false;
    for c in cell.chars() {
        if hostile(c) || (at_start && trigger(c)) {
            needs = true;
            break;
        }
        at_start = matches!(c, ',' | ';' | '\n') || (at_start && matches!(c, ' ' | '"'));
    }
    if !needs {
        return Cow::Borrowed(cell);
    }
    let mut out = String::with_capacity(cell.len() + 4);
    let mut at_start = true;
    for c in cell.chars() {
        if hostile(c) {
            out.push_str(&c.escape_unicode().to_string());
            at_start = false;
            continue;
        }
        if at_start && trigger(c) {
            out.push('\'');
        }
        out.push(c);
        at_start = matches!(c, ',' | ';' | '\n') || (at_start && matches!(c, ' ' | '"'));
    }
    Cow::Owned(out)
}

fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

// ---------------------------------------------------------------- table

/// Column caps: long values are cut with `…` so one hostile user name cannot push
/// the rest of the line off the screen. Columns are as wide as their widest cell.
const TYPE_MAX: usize = 60;
const ACTOR_MAX: usize = 60;
const RESOURCE_MAX: usize = 32;
const TITLE_MAX: usize = 120;

struct Row<'a> {
    finding: &'a Finding,
    status: String,
    severity: String,
    count: String,
    kind: String,
    actor: String,
    resource: String,
    seen: String,
    title: String,
}

fn write_table<W: Write>(
    findings: &[Finding],
    statuses: Option<&[&str]>,
    color: bool,
    locale: &Locale,
    out: &mut W,
) -> io::Result<()> {
    let mut sorted: Vec<(&Finding, &str)> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| (f, statuses.and_then(|s| s.get(i).copied()).unwrap_or("")))
        .collect();
    sorted.sort_by(|a, b| by_severity(a.0, b.0));
    let rows: Vec<Row<'_>> = sorted
        .into_iter()
        .map(|(f, st)| row(f, st, locale))
        .collect();
    let head = |id: &str| locale.text(id);
    // The STATUS column, for stored findings: its width and its header.
    let status_head = head("col-status");
    let w_status = if statuses.is_some() {
        rows.iter()
            .map(|r| width(&r.status))
            .chain([width(&status_head)])
            .max()
            .unwrap_or(0)
    } else {
        0
    };
    let status_cell = |s: &str| {
        if statuses.is_some() {
            format!("{}  ", pad(s, w_status))
        } else {
            String::new()
        }
    };
    if !rows.is_empty() {
        let heads = [
            "col-severity",
            "col-count",
            "col-type",
            "col-actor",
            "col-resource",
            "col-seen",
            "col-title",
        ]
        .map(head);
        // Columns are as wide as their widest cell in terminal columns, not bytes or
        // characters: a Japanese title or header takes two columns a character.
        let width_of = |h: &str, cell: for<'r, 'f> fn(&'r Row<'f>) -> &'r str| {
            rows.iter()
                .map(|r| width(cell(r)))
                .chain([width(h)])
                .max()
                .unwrap_or(0)
        };
        let w_sev = width_of(&heads[0], |r| &r.severity);
        let w_count = width_of(&heads[1], |r| &r.count);
        let w_type = width_of(&heads[2], |r| &r.kind);
        let w_actor = width_of(&heads[3], |r| &r.actor);
        let w_res = width_of(&heads[4], |r| &r.resource);
        let w_seen = width_of(&heads[5], |r| &r.seen);
        writeln!(
            out,
            "{}{}  {}  {}  {}  {}  {}  {}",
            status_cell(&status_head),
            pad(&heads[0], w_sev),
            pad_left(&heads[1], w_count),
            pad(&heads[2], w_type),
            pad(&heads[3], w_actor),
            pad(&heads[4], w_res),
            pad(&heads[5], w_seen),
            heads[6]
        )?;
        for r in &rows {
            // Pad outside the colour codes so they do not count towards the width.
            let (on, off) = paint(color, r.finding.severity.label());
            writeln!(
                out,
                "{}{on}{}{off}{}  {}  {}  {}  {}  {}  {}",
                status_cell(&r.status),
                r.severity,
                " ".repeat(w_sev.saturating_sub(width(&r.severity))),
                pad_left(&r.count, w_count),
                pad(&r.kind, w_type),
                pad(&r.actor, w_actor),
                pad(&r.resource, w_res),
                pad(&r.seen, w_seen),
                r.title
            )?;
        }
    }
    writeln!(out, "{}", summary(findings, locale))
}

pub(crate) fn paint(color: bool, label: SeverityLabel) -> (&'static str, &'static str) {
    if !color {
        return ("", "");
    }
    match label {
        SeverityLabel::Critical => ("\x1b[1;31m", "\x1b[0m"),
        SeverityLabel::High => ("\x1b[31m", "\x1b[0m"),
        SeverityLabel::Medium => ("\x1b[33m", "\x1b[0m"),
        SeverityLabel::Low => ("\x1b[34m", "\x1b[0m"),
    }
}

/// Escapes for the terminal, then cuts: the escaped form is what takes screen room.
fn cell(s: &str, max: usize) -> String {
    cut(&terminal(s), max).into_owned()
}

/// A workflow status (`new`, `acknowledged`, `resolved`, `suppressed`) in the reader's
/// language; a word the catalog does not know is shown as it is.
fn status_word(status: &str, locale: &Locale) -> String {
    match status {
        "new" | "acknowledged" | "resolved" | "suppressed" => {
            locale.text(&format!("status-{status}"))
        }
        other => other.to_string(),
    }
}

fn row<'a>(f: &'a Finding, status: &str, locale: &Locale) -> Row<'a> {
    let a = &f.actor;
    let who_ip = match (a.ip, a.ips.len()) {
        (Some(ip), _) => Some(ip.to_string()),
        (None, n) if n > 1 => Some(locale.render(&Msg::new("actor-addresses").arg(
            "n",
            format!("{n}{}", if a.ips_truncated { "+" } else { "" }),
        ))),
        (None, 1) => a.ips.first().map(|ip| ip.to_string()),
        _ => None,
    };
    let who_user = match (&a.user, a.users.len()) {
        (Some(u), _) => Some(u.clone()),
        (None, n) if n > 1 => Some(locale.render(&Msg::new("actor-users").arg(
            "n",
            format!("{n}{}", if a.users_truncated { "+" } else { "" }),
        ))),
        (None, 1) => a.users.first().cloned(),
        _ => None,
    };
    let actor = match (who_ip, who_user) {
        (Some(ip), Some(u)) => format!("{ip} / {u}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => "-".into(),
    };
    let resource = if f.resource.id.is_empty() {
        "-"
    } else {
        &f.resource.id
    };
    Row {
        finding: f,
        status: status_word(status, locale),
        severity: format!(
            "{} {}",
            severity_label(f.severity.label(), locale),
            f.severity
        ),
        count: f.count.to_string(),
        kind: cell(&f.finding_type, TYPE_MAX),
        actor: cell(&actor, ACTOR_MAX),
        resource: cell(resource, RESOURCE_MAX),
        seen: seen(&f.first_seen, &f.last_seen, locale),
        title: cell(&f.title, TITLE_MAX),
    }
}

/// `first – last` to the second; the last time drops its date when it is the same
/// day. In UTC, `Z` after each time; in another display zone, the zone once at the
/// end (`2026-11-29 00:41:43 – 00:45:02 JST`).
fn seen(first: &DateTime<Utc>, last: &DateTime<Utc>, locale: &Locale) -> String {
    let z = &locale.zone;
    if z.is_utc() {
        let a = first.format("%Y-%m-%d %H:%M:%SZ").to_string();
        return if first.timestamp() == last.timestamp() {
            a
        } else if first.date_naive() == last.date_naive() {
            format!("{a} – {}", last.format("%H:%M:%SZ"))
        } else {
            format!("{a} – {}", last.format("%Y-%m-%d %H:%M:%SZ"))
        };
    }
    let a = z.format(*first, "%Y-%m-%d %H:%M:%S");
    let zone = z.format(*last, "%Z");
    if first.timestamp() == last.timestamp() {
        format!("{a} {zone}")
    } else if z.same_day(*first, *last) {
        format!("{a} – {} {zone}", z.format(*last, "%H:%M:%S"))
    } else {
        format!("{a} – {} {zone}", z.format(*last, "%Y-%m-%d %H:%M:%S"))
    }
}

/// A severity label in the locale's words (`Critical`, `緊急`).
pub(crate) fn severity_label(label: SeverityLabel, locale: &Locale) -> String {
    locale.text(match label {
        SeverityLabel::Critical => "severity-critical",
        SeverityLabel::High => "severity-high",
        SeverityLabel::Medium => "severity-medium",
        SeverityLabel::Low => "severity-low",
    })
}

/// `3 findings: 1 Critical, 2 High, 0 Medium, 0 Low`, most severe first.
fn summary(findings: &[Finding], locale: &Locale) -> String {
    if findings.is_empty() {
        return locale.text("summary-none");
    }
    let parts: Vec<String> = count_by_label(findings)
        .iter()
        .rev()
        .map(|(label, n)| {
            locale.render(
                &Msg::new("summary-part")
                    .arg("n", n.to_string())
                    .arg("label", severity_label(*label, locale)),
            )
        })
        .collect();
    let sep = locale.text("list-sep");
    locale.render(
        &Msg::new("summary")
            .arg("total", findings.len())
            .arg("parts", parts.join(&sep)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use keibi_model::finding::{Actor, Resource, Severity};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    fn finding(kind: &str, severity: f64, user: &str) -> Finding {
        let mut f = Finding::new(
            "test",
            kind,
            &[user],
            Severity::new(severity),
            Resource {
                kind: "db_instance".into(),
                id: "prod-db".into(),
                engine: Some(keibi_model::Engine::Postgres),
                ..Default::default()
            },
            t("2026-11-28T15:41:43Z"),
        );
        f.title = format!("{kind} by {user}");
        f.description = "d".into();
        f.remediation = "r".into();
        f.mitre = vec!["T1110".into(), "T1110.001".into()];
        f.actor = Actor {
            ip: Some("203.0.113.7".parse().unwrap()),
            user: Some(user.into()),
            ..Actor::default()
        };
        f.last_seen = t("2026-11-28T15:44:02.5Z");
        f.count = 3;
        f.evidence = vec![
            Evidence::Line {
                source: "pg.log".into(),
                line: 7,
            },
            Evidence::Event {
                source: "ct.json".into(),
                event_id: "e-1".into(),
            },
        ];
        f
    }

    fn render(format: FindingFormat, fs: &[Finding], color: bool) -> String {
        let mut buf = Vec::new();
        write_findings(format, fs, color, &Locale::english_utc(), &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn jsonl_is_one_contract_object_per_line() {
        let fs = [
            finding("A:RDS/X", 5.0, "alice"),
            finding("B:RDS/Y", 9.0, "bob"),
        ];
        let s = render(FindingFormat::Jsonl, &fs, true);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(s.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["type"], "A:RDS/X", "machine formats keep the given order");
        assert_eq!(v["severity_label"], "Medium");
        assert_eq!(v["evidence"][1]["event_id"], "e-1");
        assert!(!s.contains('\x1b'));
    }

    #[test]
    fn json_is_one_pretty_array() {
        let fs = [finding("A:RDS/X", 5.0, "alice")];
        let s = render(FindingFormat::Json, &fs, false);
        assert!(s.starts_with("[\n  {\n    \"id\": "), "{s}");
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 1);
        assert_eq!(render(FindingFormat::Json, &[], false), "[]\n");
    }

    fn csv_rows(s: &str) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(s.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn csv_header_arrays_and_quoting() {
        let mut f = finding("A:RDS/X", 7.0, "alice");
        f.description = "said \"hi\", then\nleft".into();
        f.actor.ip = None;
        f.actor.ips = vec!["10.0.0.2".parse().unwrap(), "10.0.0.10".parse().unwrap()];
        let s = render(FindingFormat::Csv, &[f], false);
        assert!(s.contains("\"said \"\"hi\"\", then\nleft\""), "{s}");
        assert!(s.ends_with("\r\n"));
        let rows = csv_rows(&s);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], CSV_HEADER);
        let col = |name: &str| {
            let i = CSV_HEADER.iter().position(|h| *h == name).unwrap();
            rows[1][i].clone()
        };
        assert_eq!(col("description"), "said \"hi\", then\nleft");
        assert_eq!(col("severity"), "7.0");
        assert_eq!(col("severity_label"), "High");
        assert_eq!(col("mitre"), "T1110;T1110.001");
        assert_eq!(col("actor_ip"), "");
        assert_eq!(col("actor_ips"), "10.0.0.2;10.0.0.10");
        assert_eq!(col("actor_users"), "", "one user goes in actor_user only");
        assert_eq!(col("actor_user"), "alice");
        assert_eq!(col("evidence"), "pg.log:7;ct.json:e-1");
        assert_eq!(col("first_seen"), "2026-11-28T15:41:43Z");
        assert_eq!(col("last_seen"), "2026-11-28T15:44:02.500Z");
        assert_eq!(col("count"), "3");
        assert_eq!(col("resource_engine"), "postgres");
    }

    #[test]
    fn csv_defuses_formulas() {
        let mut f = finding("A:RDS/X", 5.0, "=cmd|' /C calc'!A0");
        f.title = "+SUM(1,2)".into();
        f.description = "-2+3".into();
        f.remediation = "@SUM(A1)".into();
        f.actor.app = Some("\tpsql".into());
        f.detector = "\r=1".into();
        let rows = csv_rows(&render(FindingFormat::Csv, &[f], false));
        let col = |name: &str| {
            let i = CSV_HEADER.iter().position(|h| *h == name).unwrap();
            rows[1][i].clone()
        };
        assert_eq!(col("actor_user"), "'=cmd|' /C calc'!A0");
        assert_eq!(col("title"), "'+SUM(1,2)");
        assert_eq!(col("description"), "'-2+3");
        assert_eq!(col("remediation"), "'@SUM(A1)");
        // Raw control characters are shown, never written: a tab or CR cannot start a cell.
        assert_eq!(col("actor_app"), "\\u{9}psql");
        assert_eq!(col("detector"), "\\u{d}=1");
        // Harmless cells are left alone.
        assert_eq!(col("type"), "A:RDS/X");
        assert_eq!(defuse("a=b"), "a=b");
        assert_eq!(defuse("T1110;T1110.001"), "T1110;T1110.001");
        assert_eq!(defuse("10.0.0.2;10.0.0.10"), "10.0.0.2;10.0.0.10");
        assert_eq!(defuse("x-y, a+b"), "x-y, a+b");
        assert_eq!(defuse(""), "");
    }

    /// A spreadsheet that splits on `;` (or `,`, or lines, ignoring the quotes) must not
    /// find a formula at the start of any piece (OWASP's `=1+2";=1+2`).
    #[test]
    fn csv_defuses_formulas_after_separators() {
        assert_eq!(defuse("a;=cmd|' /C calc'!A0"), "a;'=cmd|' /C calc'!A0");
        assert_eq!(defuse("=1+2\";=1+2"), "'=1+2\";'=1+2");
        assert_eq!(defuse("x, @SUM(A1)"), "x, '@SUM(A1)");
        assert_eq!(defuse("x;\"+1"), "x;\"'+1");
        assert_eq!(defuse("ok\n-2+3"), "ok\n'-2+3");
        assert_eq!(defuse("a;\x1b[2J=1"), "a;\\u{1b}[2J=1");
        assert_eq!(defuse("post\u{2060}gres"), "post\\u{2060}gres");
        let mut f = finding("A:RDS/X", 5.0, "bob;=HYPERLINK(\"http://x\")");
        f.title = "Login as bob,-1+1".into();
        let s = render(FindingFormat::Csv, &[f], false);
        // Every cell is quoted, so `;` inside one never splits it for a quote-aware reader.
        assert!(s.contains("\"bob;'=HYPERLINK(\"\"http://x\"\")\""), "{s}");
        // And a reader that splits on `;` or `,` regardless of quotes finds no formula.
        for line in s.lines() {
            for piece in line.split([';', ',']) {
                let p = piece.trim_start_matches([' ', '"']);
                assert!(!p.starts_with(['=', '+', '-', '@']), "{piece:?} in {line}");
            }
        }
    }

    #[test]
    fn table_escapes_hostile_text() {
        let mut f = finding("A:RDS/X", 5.0, "evil\x1b]0;pwned\x07\x1b[2J");
        f.title = "t\x1b[31m\nforged line".into();
        let plain = render(FindingFormat::Table, std::slice::from_ref(&f), false);
        assert!(!plain.contains('\x1b'), "{plain:?}");
        assert!(plain.contains("evil\\u{1b}]0;pwned\\u{7}"), "{plain}");
        assert!(plain.contains("t\\u{1b}[31m\\nforged line"), "{plain}");
        assert_eq!(
            plain.lines().count(),
            3,
            "header, one row, summary: {plain}"
        );
        // With colour on, the only escapes are keibi's own around the label.
        let colored = render(FindingFormat::Table, &[f], true);
        assert_eq!(colored.matches('\x1b').count(), 2, "{colored:?}");
        assert!(colored.contains("\x1b[33mMedium 5.0\x1b[0m"), "{colored:?}");
    }

    #[test]
    fn table_with_status_column_follows_the_sorted_rows() {
        let fs = [
            finding("Low:RDS/A", 2.0, "a"),
            finding("Crit:RDS/B", 9.5, "b"),
        ];
        let mut buf = Vec::new();
        write_findings_with_status(
            FindingFormat::Table,
            &fs,
            &["resolved", "acknowledged"],
            false,
            &Locale::english_utc(),
            &mut buf,
        )
        .unwrap();
        let s = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines[0].starts_with("STATUS        SEVERITY"), "{s}");
        assert!(lines[1].starts_with("acknowledged  Critical 9.5"), "{s}");
        assert!(lines[2].starts_with("resolved      Low 2.0"), "{s}");
        // Machine formats are the contract's, unchanged.
        let mut buf = Vec::new();
        write_findings_with_status(
            FindingFormat::Jsonl,
            &fs,
            &["new", "new"],
            false,
            &Locale::english_utc(),
            &mut buf,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            render(FindingFormat::Jsonl, &fs, false)
        );
    }

    #[test]
    fn table_cuts_long_cells() {
        let f = finding("A:RDS/X", 5.0, &"u".repeat(500));
        let s = render(FindingFormat::Table, &[f], false);
        let row = s.lines().nth(1).unwrap();
        assert!(row.contains('…'));
        assert!(row.chars().count() < 300, "{}", row.chars().count());
    }

    #[test]
    fn table_orders_by_severity_and_summarises() {
        let fs = [
            finding("Low:RDS/A", 2.0, "a"),
            finding("Crit:RDS/B", 9.5, "b"),
            finding("Med:RDS/C", 5.0, "c"),
            finding("High:RDS/D", 8.0, "d"),
            finding("High:RDS/E", 8.0, "e"),
        ];
        let s = render(FindingFormat::Table, &fs, false);
        let types: Vec<&str> = s
            .lines()
            .skip(1)
            .take(5)
            .filter_map(|l| l.split_whitespace().nth(3))
            .collect();
        assert_eq!(
            types,
            [
                "Crit:RDS/B",
                "High:RDS/D",
                "High:RDS/E",
                "Med:RDS/C",
                "Low:RDS/A"
            ],
            "{s}"
        );
        let last = s.lines().last().unwrap();
        assert_eq!(last, "5 findings: 1 Critical, 2 High, 1 Medium, 1 Low");
        assert!(s.lines().next().unwrap().starts_with("SEVERITY"));
        assert!(s.contains("203.0.113.7 / a"));
        assert!(s.contains("2026-11-28 15:41:43Z – 15:44:02Z"));
        assert_eq!(render(FindingFormat::Table, &[], true), "no findings\n");
    }

    #[test]
    fn table_actor_summarises_many() {
        let mut f = finding("A:RDS/X", 5.0, "a");
        f.actor = Actor {
            users: vec!["a".into(), "b".into(), "c".into()],
            ips: vec!["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()],
            ips_truncated: true,
            ..Actor::default()
        };
        let s = render(FindingFormat::Table, &[f], false);
        assert!(s.contains("2+ addresses / 3 users"), "{s}");
    }

    #[test]
    fn seen_spans_days() {
        assert_eq!(
            seen(
                &t("2026-11-28T23:59:00Z"),
                &t("2026-11-29T00:01:00Z"),
                &Locale::english_utc()
            ),
            "2026-11-28 23:59:00Z – 2026-11-29 00:01:00Z"
        );
        assert_eq!(
            seen(
                &t("2026-11-28T23:59:00Z"),
                &t("2026-11-28T23:59:00.4Z"),
                &Locale::english_utc()
            ),
            "2026-11-28 23:59:00Z"
        );
    }

    #[test]
    fn status_words_are_in_the_readers_language_and_the_column_lines_up() {
        let fs = [
            finding("Low:RDS/A", 2.0, "a"),
            finding("Crit:RDS/B", 9.5, "b"),
            finding("Med:RDS/C", 5.0, "c"),
        ];
        let mut buf = Vec::new();
        write_findings_with_status(
            FindingFormat::Table,
            &fs,
            &["suppressed", "acknowledged", "archived?"],
            false,
            &tokyo(),
            &mut buf,
        )
        .unwrap();
        let s = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines[0].starts_with("状態"), "{s}");
        assert!(lines[1].starts_with("確認済み  "), "{s}");
        // A word the catalog does not know (a newer store) is shown as it is.
        assert!(lines[2].starts_with("archived?  "), "{s}");
        assert!(lines[3].starts_with("抑制済み  "), "{s}");
        // The severity column starts at the same display column on every line.
        let col = |l: &str| {
            let at = l.find(['重', '高', '中', '低']).unwrap();
            width(&l[..at])
        };
        assert_eq!(col(lines[1]), col(lines[2]), "{s}");
        assert_eq!(col(lines[1]), col(lines[3]), "{s}");
    }

    fn tokyo() -> Locale {
        Locale::new(
            keibi_i18n::Lang::Ja,
            keibi_i18n::DisplayZone::named("Asia/Tokyo").unwrap(),
        )
    }

    /// Japanese titles and headers take two columns a character; attacker-chosen
    /// names mix wide, combining and bidi characters. Every column starts at the same
    /// terminal column on every line, and the bidi override is shown, not obeyed.
    #[test]
    fn japanese_table_columns_line_up_with_hostile_names() {
        let users = [
            "管理者",
            "e\u{301}vil\u{301}",
            "\u{202e}nimda",
            "ｱﾄﾞﾐﾝ",
            &"長いユーザー名".repeat(12),
            "plain",
        ];
        let fs: Vec<Finding> = users
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let mut f = finding("CredentialAccess:RDS/BruteForce", 3.0 + i as f64, u);
                f.resource.id = if i % 2 == 0 {
                    "本番DB".into()
                } else {
                    "prod".into()
                };
                f.text = Some(Box::new(keibi_model::FindingText {
                    title: Some(
                        Msg::new("brute-force-title")
                            .arg("instance", f.resource.id.clone())
                            .arg("ip", "203.0.113.7")
                            .arg("failures", Msg::new("failed-logins").arg("count", 1532u64)),
                    ),
                    ..Default::default()
                }));
                f
            })
            .collect();
        let mut buf = Vec::new();
        write_findings(FindingFormat::Table, &fs, false, &tokyo(), &mut buf).unwrap();
        let s = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), users.len() + 2, "{s}");
        assert!(lines[0].starts_with("重要度"), "{s}");
        assert_eq!(
            lines.last().unwrap(),
            &"検出結果 6件: 重大 0件、高 2件、中 3件、低 1件"
        );
        assert!(!s.contains('\u{202e}'), "bidi controls are escaped: {s}");
        assert!(s.contains("\\u{202e}nimda"), "{s}");
        assert!(s.contains("2026-11-29 00:41:43 – 00:44:02 JST"), "{s}");
        assert!(s.contains("ログイン失敗 1,532回"), "{s}");
        // Where each column starts, in terminal columns: after a run of two spaces.
        let starts = |line: &str| -> Vec<usize> {
            let mut out = Vec::new();
            let mut col = 0;
            let mut spaces = 0;
            for c in line.chars() {
                if c == ' ' {
                    spaces += 1;
                } else {
                    if spaces >= 2 {
                        out.push(col);
                    }
                    spaces = 0;
                }
                col += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            }
            out
        };
        // The count column is right-aligned: compare where each column ends instead
        // for it, by checking the TYPE column and everything after it.
        let head = starts(lines[0]);
        for line in &lines[1..lines.len() - 1] {
            let row = starts(line);
            assert_eq!(
                row[row.len() - 5..],
                head[head.len() - 5..],
                "TYPE, ACTOR, RESOURCE, SEEN and TITLE start where their headers do:\n{s}"
            );
        }
        // The long name was cut to the column's cap without half a wide character.
        let long = lines.iter().find(|l| l.contains("長いユーザー名")).unwrap();
        assert!(long.contains("…"), "{long}");
        for line in &lines[1..lines.len() - 1] {
            let actor = line
                .split("  ")
                .filter(|c| !c.is_empty())
                .nth(3)
                .unwrap()
                .trim();
            assert!(width(actor) <= ACTOR_MAX, "{actor}");
        }
    }

    #[test]
    fn english_in_another_zone_changes_only_the_seen_column() {
        let f = finding("A:RDS/X", 5.0, "alice");
        let paris = Locale::new(
            keibi_i18n::Lang::En,
            keibi_i18n::DisplayZone::named("Europe/Paris").unwrap(),
        );
        let mut buf = Vec::new();
        write_findings(
            FindingFormat::Table,
            std::slice::from_ref(&f),
            false,
            &paris,
            &mut buf,
        )
        .unwrap();
        let s = String::from_utf8(buf).unwrap();
        assert!(s.contains("2026-11-28 16:41:43 – 16:44:02 CET"), "{s}");
        assert!(s.starts_with("SEVERITY"), "{s}");
        let mut buf = Vec::new();
        write_findings(FindingFormat::Jsonl, &[f], false, &tokyo(), &mut buf).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(
            v["first_seen"], "2026-11-28T15:41:43Z",
            "JSON times stay UTC"
        );
        assert_eq!(
            v["severity_label"], "Medium",
            "machine fields do not follow the language"
        );
    }
}
