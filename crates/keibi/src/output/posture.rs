//! `keibi audit`'s outputs for people: the failed checks grouped by resource, the
//! suppressed ones, and a summary with a score the way Security Hub counts it; and
//! the list of controls (`--list-controls`). Every field is escaped for the terminal
//! (resource ids, names and evidence can be written by an attacker).

use std::io::{self, Write};

use keibi_i18n::{Locale, Msg};
use keibi_model::Resource;
use keibi_posture::report::{Counts, Report};
use keibi_posture::{Control, Outcome, Status};

use super::findings::{paint, severity_label};
use super::sanitize::{cut, pad, pad_left, terminal, width};

/// How `keibi audit` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    /// Failed checks grouped by resource, then the score, for a person.
    Table,
    /// One JSON object per line: the findings of the failed checks.
    Jsonl,
    /// One pretty-printed JSON array of the findings of the failed checks.
    Json,
    /// The findings of the failed checks as CSV rows.
    Csv,
    /// SARIF 2.1.0, for code scanning in CI (GitHub, GitLab).
    Sarif,
    /// OCSF 1.8.0 Compliance Findings (class 2003), one JSON object per line.
    Ocsf,
    /// ASFF, one JSON array as Security Hub's BatchImportFindings takes it, with
    /// Compliance.SecurityControlId.
    Asff,
}

/// The widest a title or a fix line is printed.
const MAX_LINE: usize = 160;

fn cell(s: &str, max: usize) -> String {
    cut(&terminal(s), max).into_owned()
}

/// The first line of a rendered text (a remediation's CLI step is one command).
fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

/// `123456789012 us-east-1 db_instance prod-db` (the parts known), escaped.
fn resource_line(account: &str, region: &str, kind: &str, id: &str) -> String {
    let parts: Vec<String> = [account, region, kind, id]
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| cell(p, 120))
        .collect();
    parts.join("  ")
}

/// The table: each resource with a failed check, its failures (severity, control,
/// title, the one fix line), the suppressed checks, then the summary per area
/// and the score.
pub fn write_table<W: Write>(
    report: &Report,
    color: bool,
    locale: &Locale,
    mut out: W,
) -> io::Result<()> {
    let groups = report.failed_by_resource();
    if groups.is_empty() {
        writeln!(out, "{}", locale.text("audit-none-failed"))?;
    }
    for (key, outcomes) in &groups {
        writeln!(
            out,
            "{}",
            resource_line(&key.account, &key.region, &key.kind, &key.id)
        )?;
        for o in outcomes {
            let sev = o.severity.unwrap_or_else(|| o.control.default_severity());
            let (on, off) = paint(color, sev.label());
            let label = severity_label(sev.label(), locale);
            writeln!(
                out,
                "  {on}{}{off} {} {}",
                pad(&label, 8),
                pad(&cell(o.control.id, 14), 14),
                cell(&locale.render(&o.message("title")), MAX_LINE)
            )?;
            let fix = locale.render(&o.message("cli"));
            let fix = first_line(&fix);
            if !fix.is_empty() {
                writeln!(
                    out,
                    "  {} {}",
                    pad("", 8 + 1 + 14),
                    cell(
                        &locale.render(&Msg::new("audit-fix").arg("fix", fix)),
                        MAX_LINE
                    )
                )?;
            }
        }
        writeln!(out)?;
    }
    if !report.suppressed.is_empty() {
        writeln!(out, "{}", locale.text("audit-suppressed-heading"))?;
        for s in &report.suppressed {
            let r = &s.outcome.resource;
            writeln!(
                out,
                "  {} {}  {}",
                pad(&cell(s.outcome.control.id, 14), 14),
                resource_line(
                    r.account.as_deref().unwrap_or(""),
                    r.region.as_deref().unwrap_or(""),
                    &r.kind,
                    &r.id
                ),
                cell(&s.reason, MAX_LINE)
            )?;
        }
        writeln!(out)?;
    }
    write_summary(report, locale, &mut out)
}

/// The counts per area and the score.
fn write_summary<W: Write>(report: &Report, locale: &Locale, out: &mut W) -> io::Result<()> {
    let summary = report.summary();
    let headers = [
        locale.text("audit-col-area"),
        locale.text("audit-col-controls-passed"),
        locale.text("audit-col-controls-failed"),
        locale.text("audit-col-suppressed"),
        locale.text("audit-col-checks-passed"),
        locale.text("audit-col-checks-failed"),
        locale.text("audit-col-score"),
    ];
    let mut rows: Vec<[String; 7]> = Vec::new();
    let row = |name: String, c: &Counts| -> [String; 7] {
        [
            name,
            c.controls_passed.to_string(),
            c.controls_failed.to_string(),
            c.checks_suppressed.to_string(),
            c.checks_passed.to_string(),
            c.checks_failed.to_string(),
            score_text(c.score()),
        ]
    };
    for (area, c) in &summary.areas {
        rows.push(row(cell(area, 20), c));
    }
    if !summary.areas.is_empty() {
        rows.push(row(locale.text("audit-total"), &summary.total));
        let mut w = [0usize; 7];
        for r in std::iter::once(&headers).chain(rows.iter()) {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(width(c));
            }
        }
        let line = |r: &[String; 7]| {
            let mut s = pad(&r[0], w[0]);
            for i in 1..7 {
                s.push_str("  ");
                s.push_str(&pad_left(&r[i], w[i]));
            }
            s.trim_end().to_string()
        };
        writeln!(out, "{}", line(&headers))?;
        for r in &rows {
            writeln!(out, "{}", line(r))?;
        }
    }
    let t = &summary.total;
    let msg = match t.score() {
        Some(s) => Msg::new("audit-score")
            .arg("score", score_text(Some(s)))
            .arg("passed", t.controls_passed as u64)
            .arg("total", (t.controls_passed + t.controls_failed) as u64)
            .arg("suppressed", t.checks_suppressed as u64),
        None => Msg::new("audit-score-none"),
    };
    writeln!(out, "{}", locale.render(&msg))
}

/// `67%`, `100%`, `-`: whole percents, rounded down so 99.6% never shows as 100%.
pub fn score_text(score: Option<f64>) -> String {
    match score {
        Some(s) => format!("{}%", s.floor() as u64),
        None => "-".into(),
    }
}

/// A control's texts as a catalog shows them: rendered for a stand-in resource
/// `…` of its kind.
pub fn control_text(c: &'static Control, part: &str, locale: &Locale) -> String {
    let stand_in = Outcome::new(
        c,
        Status::Failed,
        Resource {
            kind: c.resource_kind.to_string(),
            id: "…".into(),
            engine: None,
            account: None,
            region: None,
        },
    );
    locale.render(&stand_in.message(part))
}

/// `--list-controls`: every control with its id, type, severity, resource kind and
/// title; `jsonl` one object a line, anything else a table.
pub fn write_controls<W: Write>(
    format: AuditFormat,
    locale: &Locale,
    mut out: W,
) -> io::Result<()> {
    let controls: Vec<&'static Control> = keibi_posture::controls().collect();
    match format {
        AuditFormat::Jsonl | AuditFormat::Json => {
            let items: Vec<serde_json::Value> = controls
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "id": c.id,
                        "type": c.finding_type(),
                        "severity": c.default_severity().value(),
                        "severity_label": c.default_severity().label().as_str(),
                        "resource_kind": c.resource_kind,
                        "area": keibi_posture::report::area(c.id),
                        "aws_control": c.aws_control,
                        "mitre": c.mitre,
                        "title": control_text(c, "title", locale),
                    })
                })
                .collect();
            if format == AuditFormat::Json {
                serde_json::to_writer_pretty(&mut out, &items).map_err(io::Error::other)?;
                out.write_all(b"\n")?;
            } else {
                for i in &items {
                    serde_json::to_writer(&mut out, i).map_err(io::Error::other)?;
                    out.write_all(b"\n")?;
                }
            }
        }
        _ => {
            let headers = [
                locale.text("audit-col-control"),
                locale.text("col-type"),
                locale.text("col-severity"),
                locale.text("col-resource"),
                locale.text("col-title"),
            ];
            let rows: Vec<[String; 5]> = controls
                .iter()
                .map(|c| {
                    [
                        c.id.to_string(),
                        c.finding_type(),
                        severity_label(c.default_severity().label(), locale),
                        c.resource_kind.to_string(),
                        cell(&control_text(c, "title", locale), MAX_LINE),
                    ]
                })
                .collect();
            let mut w = [0usize; 5];
            for r in std::iter::once(&headers).chain(rows.iter()) {
                for (i, c) in r.iter().enumerate() {
                    w[i] = w[i].max(width(c));
                }
            }
            for r in std::iter::once(&headers).chain(rows.iter()) {
                let mut s = String::new();
                for (i, c) in r.iter().enumerate() {
                    if i > 0 {
                        s.push_str("  ");
                    }
                    s.push_str(&if i < 4 { pad(c, w[i]) } else { c.clone() });
                }
                writeln!(out, "{}", s.trim_end())?;
            }
            writeln!(
                out,
                "{}",
                locale.render(&Msg::new("audit-controls-count").arg("n", controls.len() as u64))
            )?;
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use keibi_i18n::{DisplayZone, Lang};
    use keibi_posture::report::Suppress;

    static PUBLIC: Control = Control {
        id: "RDS.2",
        short: "PubliclyAccessible",
        severity: 9.0,
        resource_kind: "db_instance",
        mitre: &[],
        aws_control: true,
        msg: "posture-test-public",
    };
    static LOGS: Control = Control {
        id: "KB.PG.9",
        short: "LogConnections",
        severity: 2.0,
        resource_kind: "database",
        mitre: &[],
        aws_control: false,
        msg: "posture-test-logs",
    };

    fn res(kind: &str, id: &str) -> Resource {
        Resource {
            kind: kind.into(),
            id: id.into(),
            engine: None,
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
        }
    }

    fn table(r: &Report, lang: Lang) -> String {
        let mut out = Vec::new();
        let l = Locale::new(lang, DisplayZone::utc());
        write_table(r, false, &l, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn failures_by_resource_then_the_score_and_every_field_escaped() {
        let mut r = Report::new(
            vec![
                Outcome::failed(&PUBLIC, res("db_instance", "evil\u{1b}[2Jdb")),
                Outcome::failed(&PUBLIC, res("db_instance", "legacy-1")),
                Outcome::passed(&PUBLIC, res("db_instance", "dev-db")),
                Outcome::passed(&LOGS, res("database", "pg-main")),
            ],
            Utc::now(),
        );
        r.suppress(&[Suppress {
            control: "RDS.2".into(),
            resource: Some("legacy-*".into()),
            reason: "gone\u{7} Friday".into(),
        }]);
        let t = table(&r, Lang::En);
        assert!(!t.contains('\u{1b}') && !t.contains('\u{7}'), "{t}");
        assert!(t.contains("evil\\u{1b}[2Jdb"), "{t}");
        assert!(t.contains("123456789012  us-east-1  db_instance"), "{t}");
        assert!(t.contains("RDS.2"), "{t}");
        assert!(t.contains("Suppressed (accepted failures"), "{t}");
        assert!(t.contains("gone\\u{7} Friday"), "{t}");
        // RDS.2 failed (on one instance), KB.PG.9 passed: 1 of 2 controls.
        assert!(
            t.contains("Score: 50% (1 of 2 controls passed; 1 check suppressed)"),
            "{t}"
        );
        let rds = t.lines().find(|l| l.starts_with("RDS ")).unwrap();
        let cols: Vec<&str> = rds.split_whitespace().collect();
        assert_eq!(cols, ["RDS", "0", "1", "1", "1", "1", "0%"], "{t}");
        let pg = t.lines().find(|l| l.starts_with("PostgreSQL")).unwrap();
        assert!(pg.ends_with("100%"), "{t}");
        let ja = table(&r, Lang::Ja);
        assert!(ja.contains("セキュリティスコア: 50%"), "{ja}");
        assert!(ja.contains("抑制済み"), "{ja}");
    }

    #[test]
    fn nothing_failed_and_nothing_evaluated() {
        let r = Report::new(
            vec![Outcome::passed(&LOGS, res("database", "pg"))],
            Utc::now(),
        );
        let t = table(&r, Lang::En);
        assert!(t.starts_with("No check failed.\n"), "{t}");
        assert!(t.contains("Score: 100% (1 of 1 control passed)"), "{t}");
        let t = table(&Report::new(vec![], Utc::now()), Lang::En);
        assert!(t.contains("Score: - (no control was evaluated)"), "{t}");
    }

    #[test]
    fn scores_round_down() {
        assert_eq!(score_text(Some(99.6)), "99%");
        assert_eq!(score_text(Some(100.0)), "100%");
        assert_eq!(score_text(None), "-");
    }
}
