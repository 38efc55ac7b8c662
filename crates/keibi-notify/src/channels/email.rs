//! Email over SMTP (lettre's blocking transport): STARTTLS (the default, port 587),
//! implicit TLS (465) or, for a relay on the same host or a test server, none (25);
//! AUTH with a user name and a password (never sent without TLS); an extra CA for a
//! relay with a private one.
//!
//! Each message is `multipart/alternative`: a plain-text part and an HTML part
//! laying out the same [`Facts`](crate::text::Facts) (severity band, the labelled
//! lines as a table, the steps as a list, the link). Attacker-written text is made
//! safe for each place it lands: one line (no CR/LF, no control or bidirectional
//! characters) and clipped in the Subject, which lettre then encodes (RFC 2047 for
//! non-ASCII); HTML-escaped in the HTML part; clipped everywhere, so a 70 KB user
//! name makes a readable message. `Message-ID` and `X-Keibi-Delivery` come from the
//! outbox key, so a message sent again after a crash is recognisably the same.

use std::fmt::Write as _;
use std::time::SystemTime;

use keibi_i18n::Locale;
use keibi_model::text::Arg;
use keibi_model::{Finding, Msg, SeverityLabel};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use unicode_width::UnicodeWidthStr;

use super::{BuildError, ChannelSpec, EmailSpec, EmailTls, TIMEOUT};
use crate::notice::{Digest, Notice, NoticeKind, Outgoing, Summary};
use crate::text::{clip, colour, facts, one_line, Facts, Style};
use crate::{Channel, SendError, Sent};

/// Longest Subject, in characters, before it is clipped (RFC 5322 allows more once
/// folded, but mail clients show about this much).
const SUBJECT_MAX: usize = 160;
/// Longest value of one labelled line, one step, one list entry.
const FIELD_MAX: usize = 1_000;
/// Longest description.
const DESCRIPTION_MAX: usize = 10_000;
/// At most this many remediation steps.
const STEPS_MAX: usize = 20;
/// At most this many entries of a digest or summary are listed.
const LIST_MAX: usize = 25;
/// The receiver's answer shown in errors and `Sent`, at most.
const ANSWER_MAX: usize = 300;

/// An email channel, ready to send.
pub struct EmailChannel {
    name: String,
    style: Style,
    from: Mailbox,
    to: Vec<Mailbox>,
    /// The `@domain` of Message-IDs: the sender's domain.
    id_domain: String,
    transport: SmtpTransport,
    /// `host:port`, for messages.
    relay: String,
}

/// Builds an email channel; fails on an address that does not parse, a password
/// without TLS, an unreadable secret or CA file.
pub fn build(
    spec: &ChannelSpec,
    e: &EmailSpec,
    style: &Style,
) -> Result<Box<dyn Channel>, BuildError> {
    Ok(Box::new(EmailChannel::new(spec, e, style)?))
}

impl EmailChannel {
    pub fn new(spec: &ChannelSpec, e: &EmailSpec, style: &Style) -> Result<Self, BuildError> {
        let invalid = |reason: String| BuildError::Invalid {
            name: spec.name.clone(),
            reason,
        };
        let from: Mailbox = e
            .from
            .parse()
            .map_err(|err| invalid(format!("from {:?}: {err}", e.from)))?;
        if e.to.is_empty() {
            return Err(invalid("`to` lists no address".into()));
        }
        let to =
            e.to.iter()
                .map(|a| {
                    a.parse::<Mailbox>()
                        .map_err(|err| invalid(format!("to {a:?}: {err}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
        let host = e.host.trim();
        if host.is_empty() {
            return Err(invalid("`host` is empty".into()));
        }
        let port = e.port.unwrap_or(match e.tls {
            EmailTls::Starttls => 587,
            EmailTls::Implicit => 465,
            EmailTls::None => 25,
        });
        let tls = match e.tls {
            EmailTls::None => {
                if e.ca_file.is_some() {
                    return Err(invalid("`ca_file` is given but `tls` is none".into()));
                }
                Tls::None
            }
            EmailTls::Starttls | EmailTls::Implicit => {
                let mut params = TlsParameters::builder(host.to_string());
                if let Some(path) = &e.ca_file {
                    let pem = std::fs::read(path)
                        .map_err(|err| invalid(format!("ca_file {}: {err}", path.display())))?;
                    let cert = Certificate::from_pem(&pem)
                        .map_err(|err| invalid(format!("ca_file {}: {err}", path.display())))?;
                    params = params.add_root_certificate(cert);
                }
                let params = params
                    .build_rustls()
                    .map_err(|err| invalid(format!("TLS settings: {err}")))?;
                if e.tls == EmailTls::Starttls {
                    Tls::Required(params)
                } else {
                    Tls::Wrapper(params)
                }
            }
        };
        let mut builder = SmtpTransport::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        match (&e.username, &e.password) {
            (Some(user), Some(password)) => {
                if e.tls == EmailTls::None {
                    return Err(invalid(
                        "a password is never sent without TLS: set `tls` to starttls or implicit"
                            .into(),
                    ));
                }
                let password = password.reveal().map_err(|source| BuildError::Secret {
                    name: spec.name.clone(),
                    source,
                })?;
                builder = builder.credentials(Credentials::new(user.clone(), password));
            }
            (None, None) => {}
            _ => {
                return Err(invalid(
                    "`username` and `password` go together: set both or neither".into(),
                ))
            }
        }
        let id_domain = message_id_part(&from.email.domain().to_ascii_lowercase());
        Ok(EmailChannel {
            name: spec.name.clone(),
            style: style.clone(),
            from,
            to,
            id_domain,
            transport: builder.build(),
            relay: format!("{host}:{port}"),
        })
    }

    /// The message for `msg`, as it goes over the wire (for tests and docs).
    pub fn message(&self, msg: &Outgoing) -> Result<Message, SendError> {
        let mail = render(msg, &self.style);
        let mut b = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject)
            .date(mail.date)
            .message_id(Some(format!(
                "<keibi.{}@{}>",
                message_id_part(msg.key()),
                self.id_domain
            )))
            .user_agent(concat!("keibi/", env!("CARGO_PKG_VERSION")).to_string());
        for to in &self.to {
            b = b.to(to.clone());
        }
        for (name, value) in [
            ("X-Keibi-Delivery", Some(one_line(msg.key()))),
            ("X-Keibi-Finding", mail.finding_id),
            ("X-Keibi-Severity", mail.severity),
        ] {
            if let Some(value) = value {
                let name = HeaderName::new_from_ascii_str(name);
                b = b.raw_header(HeaderValue::new(name, clip(&value, FIELD_MAX, "…")));
            }
        }
        b.multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
            .map_err(|e| SendError::Permanent {
                reason: format!("cannot build the message: {e}"),
            })
    }
}

impl Channel for EmailChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        let message = self.message(msg)?;
        match self.transport.send(&message) {
            Ok(resp) => {
                let text = resp.message().collect::<Vec<_>>().join(" ");
                Ok(Sent {
                    detail: clip(
                        &one_line(&format!("{} {text}", resp.code())),
                        ANSWER_MAX,
                        "…",
                    ),
                })
            }
            Err(e) => Err(classify(&e, &self.relay)),
        }
    }
}

/// 4xx answers, connection, TLS and time-outs are transient; 5xx answers and what
/// the client itself refuses (no common AUTH mechanism) are permanent.
fn classify(e: &lettre::transport::smtp::Error, relay: &str) -> SendError {
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        let s = inner.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        src = inner.source();
    }
    let reason = clip(&one_line(&format!("SMTP {relay}: {text}")), ANSWER_MAX, "…");
    if e.is_permanent() || e.is_client() {
        SendError::Permanent { reason }
    } else {
        SendError::Transient {
            reason,
            retry_after: None,
        }
    }
}

/// `s` with only the characters a Message-ID's left or right part may hold
/// (letters, digits, `.`, `-`, `_`); others as `=XX` hex bytes.
fn message_id_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
            out.push(b as char);
        } else {
            let _ = write!(out, "={b:02X}");
        }
    }
    if out.is_empty() {
        out.push_str("keibi");
    }
    clip(&out, 200, "")
}

/// One email in words: its Subject, plain text and HTML, and the headers that say
/// what it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub date: SystemTime,
    pub finding_id: Option<String>,
    /// `High 7.5`.
    pub severity: Option<String>,
}

/// The email for a message, in the style's locale. Pure: no clock, no I/O.
pub fn render(msg: &Outgoing, style: &Style) -> Mail {
    match msg {
        Outgoing::One(n) => render_one(n, style),
        Outgoing::Digest(d) => render_digest(d, style),
        Outgoing::Summary(s) => render_summary(s, style),
    }
}

fn render_one(n: &Notice, style: &Style) -> Mail {
    let loc = &style.locale;
    let fx = facts(n, style);
    let title = field(&fx.headline);
    let subject = match &n.kind {
        NoticeKind::Resolved { .. } => loc.render(
            &Msg::new("notify-email-subject-resolved").arg("title", Arg::Text(title.clone())),
        ),
        // The headline says what keibi did; the severity is the finding's.
        NoticeKind::Action { .. } => loc.render(
            &Msg::new("notify-email-subject-action").arg("title", Arg::Text(title.clone())),
        ),
        _ => loc.render(
            &Msg::new("notify-email-subject")
                .arg("label", Arg::Text(fx.label_text.clone()))
                .arg("title", Arg::Text(title.clone())),
        ),
    };
    let mut doc = Doc::new(loc);
    doc.band(fx.label, &format!("{} {}", fx.label_text, fx.severity));
    doc.heading(&title);
    doc.para(&field(&fx.change));
    doc.table(
        None,
        fx.lines
            .iter()
            .map(|(k, v)| vec![field(k), field(v)])
            .collect(),
    );
    if !fx.description.trim().is_empty() {
        doc.section(&loc.text("notify-description"));
        doc.para(&clip(
            &multi_line(&fx.description),
            DESCRIPTION_MAX,
            &loc.text("notify-truncated"),
        ));
    }
    if !fx.steps.is_empty() {
        doc.section(&loc.text("notify-steps"));
        let mut steps: Vec<String> = fx.steps.iter().take(STEPS_MAX).map(|s| field(s)).collect();
        if fx.steps.len() > STEPS_MAX {
            steps.push(loc.text("notify-truncated"));
        }
        doc.list(&steps);
    }
    if let Some(link) = &fx.link {
        doc.link(&loc.text("notify-link"), link);
    }
    doc.footer(&format!("{}: {}", loc.text("notify-id"), field(&fx.id)));
    Mail {
        subject: subject_line(&subject),
        text: doc.text.clone(),
        html: doc.finish(&subject),
        date: SystemTime::from(n.at),
        finding_id: Some(one_line(&fx.id)),
        severity: Some(format!("{} {}", fx.label.as_str(), fx.severity)),
    }
}

/// One line of a digest or summary: `High 7.5 · title · where · count`.
fn finding_row(f: &Finding, style: &Style, kind: NoticeKind) -> (SeverityLabel, Vec<String>) {
    let n = Notice {
        key: String::new(),
        kind,
        finding: f.clone(),
        at: f.last_seen,
    };
    let fx: Facts = facts(&n, style);
    // Found by its label: an action's notice puts its own lines first.
    let where_label = style.locale.text("notify-where");
    let where_ = fx
        .lines
        .iter()
        .find(|(l, _)| *l == where_label)
        .map(|(_, v)| field(v))
        .unwrap_or_default();
    (
        fx.label,
        vec![
            format!("{} {}", fx.label_text, fx.severity),
            field(&fx.headline),
            where_,
            keibi_i18n::thousands(f.count),
        ],
    )
}

fn render_digest(d: &Digest, style: &Style) -> Mail {
    let loc = &style.locale;
    let subject =
        loc.render(&Msg::new("notify-email-digest-subject").arg("n", Arg::Count(d.total)));
    let mut doc = Doc::new(loc);
    let worst = d.held.iter().map(|n| n.finding.severity.label()).max();
    if let Some(worst) = worst {
        doc.band(
            worst,
            &loc.text(&format!("severity-{}", worst.as_str().to_lowercase())),
        );
    }
    doc.heading(untagged(&subject_line(&subject)));
    doc.para(
        &loc.render(
            &Msg::new("notify-email-digest-intro")
                .arg("n", Arg::Count(d.total))
                .arg("from", Arg::Minute { at: d.from })
                .arg("to", Arg::Minute { at: d.to }),
        ),
    );
    let mut rows = Vec::new();
    for n in d.held.iter().take(LIST_MAX) {
        let (_, mut row) = finding_row(&n.finding, style, n.kind.clone());
        let fx = facts(n, style);
        row.push(field(&fx.change));
        rows.push(row);
    }
    doc.table(
        Some(vec![
            loc.text("notify-severity"),
            loc.text("notify-email-col-finding"),
            loc.text("notify-where"),
            loc.text("notify-count"),
            loc.text("notify-email-col-change"),
        ]),
        rows,
    );
    let listed = d.held.len().min(LIST_MAX) as u64;
    if d.total > listed {
        doc.para(
            &loc.render(&Msg::new("notify-email-more").arg("n", Arg::Count(d.total - listed))),
        );
    }
    Mail {
        subject: subject_line(&subject),
        text: doc.text.clone(),
        html: doc.finish(&subject),
        date: SystemTime::from(d.to),
        finding_id: None,
        severity: worst.map(|w| w.as_str().to_string()),
    }
}

fn render_summary(s: &Summary, style: &Style) -> Mail {
    let loc = &style.locale;
    let [critical, high, medium, low] = s.by_label;
    let subject = loc.render(
        &Msg::new("notify-email-summary-subject")
            .arg("n", Arg::Count(s.total))
            .arg("critical", Arg::Count(critical))
            .arg("high", Arg::Count(high)),
    );
    let mut doc = Doc::new(loc);
    let worst = [
        (critical, SeverityLabel::Critical),
        (high, SeverityLabel::High),
        (medium, SeverityLabel::Medium),
        (low, SeverityLabel::Low),
    ]
    .into_iter()
    .find(|(n, _)| *n > 0)
    .map(|(_, l)| l);
    if let Some(worst) = worst {
        doc.band(
            worst,
            &loc.text(&format!("severity-{}", worst.as_str().to_lowercase())),
        );
    }
    doc.heading(untagged(&subject_line(&subject)));
    doc.para(
        &loc.render(
            &Msg::new("notify-email-summary-intro")
                .arg("at", Arg::Minute { at: s.at })
                .arg("n", Arg::Count(s.total)),
        ),
    );
    doc.table(
        None,
        [
            ("severity-critical", critical),
            ("severity-high", high),
            ("severity-medium", medium),
            ("severity-low", low),
        ]
        .into_iter()
        .map(|(id, n)| vec![loc.text(id), keibi_i18n::thousands(n)])
        .collect(),
    );
    let rows = s
        .open
        .iter()
        .take(LIST_MAX)
        .map(|f| finding_row(f, style, NoticeKind::New).1)
        .collect();
    doc.table(
        Some(vec![
            loc.text("notify-severity"),
            loc.text("notify-email-col-finding"),
            loc.text("notify-where"),
            loc.text("notify-count"),
        ]),
        rows,
    );
    let listed = s.open.len().min(LIST_MAX) as u64;
    if s.total > listed {
        doc.para(
            &loc.render(&Msg::new("notify-email-more").arg("n", Arg::Count(s.total - listed))),
        );
    }
    Mail {
        subject: subject_line(&subject),
        text: doc.text.clone(),
        html: doc.finish(&subject),
        date: SystemTime::from(s.at),
        finding_id: None,
        severity: worst.map(|w| w.as_str().to_string()),
    }
}

/// A Subject: one line, clipped. lettre encodes what is not ASCII.
pub fn subject_line(s: &str) -> String {
    clip(one_line(s).trim(), SUBJECT_MAX, "…")
}

/// A subject without its `[keibi]` tag, as a heading inside the message.
fn untagged(s: &str) -> &str {
    s.strip_prefix("[keibi]").map(str::trim_start).unwrap_or(s)
}

/// One attacker-written value for a cell, a step or a line: one line, clipped.
fn field(s: &str) -> String {
    clip(&one_line(s), FIELD_MAX, "…")
}

/// A multi-line text (a description quoting a statement): each line made safe as
/// by [`one_line`], the line breaks kept.
fn multi_line(s: &str) -> String {
    s.split('\n')
        .map(|l| one_line(l).trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn esc(s: &str) -> String {
    html_escape::encode_safe(s).into_owned()
}

/// The plain-text and HTML parts, written side by side so they say the same.
/// Every value it is given is text: the HTML side escapes all of it.
struct Doc<'a> {
    loc: &'a Locale,
    text: String,
    body: String,
}

const FONT: &str =
    "font-family:-apple-system,'Segoe UI',Helvetica,Arial,'Hiragino Sans',Meiryo,sans-serif;";

impl<'a> Doc<'a> {
    fn new(loc: &'a Locale) -> Self {
        Doc {
            loc,
            text: String::new(),
            body: String::new(),
        }
    }

    fn band(&mut self, label: SeverityLabel, words: &str) {
        let _ = writeln!(self.text, "[{words}]");
        let _ = writeln!(
            self.body,
            "<div style=\"background:{};color:#ffffff;padding:8px 12px;font-weight:bold;font-size:14px\">{}</div>",
            colour(label),
            esc(words)
        );
    }

    fn heading(&mut self, s: &str) {
        let _ = writeln!(self.text, "{s}\n");
        let _ = writeln!(
            self.body,
            "<h2 style=\"margin:12px 0 4px 0;font-size:18px\">{}</h2>",
            esc(s)
        );
    }

    fn section(&mut self, s: &str) {
        let _ = writeln!(self.text, "{s}");
        let _ = writeln!(
            self.body,
            "<h3 style=\"margin:16px 0 4px 0;font-size:15px\">{}</h3>",
            esc(s)
        );
    }

    fn para(&mut self, s: &str) {
        let _ = writeln!(self.text, "{s}\n");
        let lines: Vec<String> = s.split('\n').map(esc).collect();
        let _ = writeln!(
            self.body,
            "<p style=\"margin:4px 0 8px 0\">{}</p>",
            lines.join("<br>\n")
        );
    }

    /// Rows of cells; with a header row, the plain text puts one row a line.
    fn table(&mut self, header: Option<Vec<String>>, rows: Vec<Vec<String>>) {
        if rows.is_empty() {
            return;
        }
        self.body.push_str(
            "<table cellpadding=\"4\" cellspacing=\"0\" style=\"border-collapse:collapse;margin:8px 0\">\n",
        );
        match &header {
            None => {
                // Labels padded to one display width (a Japanese character
                // takes two columns).
                let width = rows
                    .iter()
                    .filter_map(|r| r.first())
                    .map(|k| k.width())
                    .max()
                    .unwrap_or(0);
                for row in &rows {
                    let (k, rest) = row.split_first().expect("non-empty row");
                    let pad = width.saturating_sub(k.width());
                    let _ = writeln!(self.text, "{k}:{} {}", " ".repeat(pad), rest.join(" "));
                    let _ = write!(
                        self.body,
                        "<tr><th align=\"left\" valign=\"top\" style=\"color:#555555;padding-right:12px\">{}</th>",
                        esc(k)
                    );
                    for v in rest {
                        let _ = write!(self.body, "<td valign=\"top\">{}</td>", esc(v));
                    }
                    self.body.push_str("</tr>\n");
                }
            }
            Some(h) => {
                self.body.push_str("<tr>");
                for c in h {
                    let _ = write!(
                        self.body,
                        "<th align=\"left\" style=\"border-bottom:1px solid #cccccc\">{}</th>",
                        esc(c)
                    );
                }
                self.body.push_str("</tr>\n");
                for row in &rows {
                    let _ = writeln!(self.text, "- {}", row.join(" · "));
                    self.body.push_str("<tr>");
                    for v in row {
                        let _ = write!(self.body, "<td valign=\"top\">{}</td>", esc(v));
                    }
                    self.body.push_str("</tr>\n");
                }
            }
        }
        self.body.push_str("</table>\n");
        self.text.push('\n');
    }

    fn list(&mut self, items: &[String]) {
        self.body.push_str("<ol style=\"margin:4px 0 8px 0\">\n");
        for (i, s) in items.iter().enumerate() {
            let _ = writeln!(self.text, "{}. {s}", i + 1);
            let _ = writeln!(self.body, "<li>{}</li>", esc(s));
        }
        self.body.push_str("</ol>\n");
        self.text.push('\n');
    }

    /// A link from the settings (`dashboard_url`), never from a log; only http(s).
    fn link(&mut self, words: &str, url: &str) {
        let url = one_line(url);
        let _ = writeln!(self.text, "{words}: {url}\n");
        if url.starts_with("https://") || url.starts_with("http://") {
            let _ = writeln!(
                self.body,
                "<p style=\"margin:12px 0\"><a href=\"{}\">{}</a></p>",
                html_escape::encode_double_quoted_attribute(&url),
                esc(words)
            );
        } else {
            let _ = writeln!(self.body, "<p>{}: {}</p>", esc(words), esc(&url));
        }
    }

    fn footer(&mut self, s: &str) {
        let _ = writeln!(self.text, "{s}");
        let _ = writeln!(
            self.body,
            "<p style=\"margin:16px 0 0 0;color:#888888;font-size:12px\">{}</p>",
            esc(s)
        );
    }

    fn finish(self, title: &str) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n</head>\n<body style=\"{FONT}font-size:14px;color:#222222\">\n{}</body>\n</html>\n",
            self.loc.lang.code(),
            esc(&subject_line(title)),
            self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_keep_only_safe_characters() {
        assert_eq!(message_id_part("42.a-b_c"), "42.a-b_c");
        assert_eq!(message_id_part("a>b\r\n@c"), "a=3Eb=0D=0A=40c");
        assert_eq!(message_id_part(""), "keibi");
    }

    /// Every kind of message renders in both languages with no message id left
    /// showing (a missing catalog entry renders as its id).
    #[test]
    fn every_message_renders_in_both_languages() {
        use chrono::TimeZone;
        use keibi_i18n::{DisplayZone, Lang};
        use keibi_model::{Resource, Severity};
        let t = chrono::Utc.with_ymd_and_hms(2026, 12, 6, 3, 10, 0).unwrap();
        let mut f = Finding::new(
            "login",
            "CredentialAccess:RDS/BruteForce",
            &["prod-db"],
            Severity::new(7.5),
            Resource {
                kind: "db_instance".into(),
                id: "prod-db".into(),
                ..Default::default()
            },
            t,
        );
        f.title = "Brute force".into();
        f.remediation = "Block it.".into();
        let notice = |kind| Notice {
            key: "k".into(),
            kind,
            finding: f.clone(),
            at: t,
        };
        let msgs = [
            Outgoing::One(Box::new(notice(NoticeKind::New))),
            Outgoing::One(Box::new(notice(NoticeKind::Resolved { by: None }))),
            Outgoing::One(Box::new(notice(NoticeKind::Test))),
            Outgoing::Digest(Digest {
                key: "d".into(),
                held: vec![notice(NoticeKind::New)],
                total: 3,
                from: t,
                to: t,
            }),
            Outgoing::Summary(Summary {
                key: "s".into(),
                at: t,
                open: vec![f.clone()],
                total: 1,
                by_label: [0, 1, 0, 0],
            }),
        ];
        for lang in [Lang::En, Lang::Ja] {
            let style = Style {
                locale: Locale::new(lang, DisplayZone::utc()),
                dashboard_url: None,
            };
            for m in &msgs {
                let mail = render(m, &style);
                for part in [&mail.subject, &mail.text, &mail.html] {
                    assert!(!part.contains("notify-"), "{lang:?}: {part}");
                    assert!(!part.contains("severity-"), "{lang:?}: {part}");
                }
                assert!(mail.subject.starts_with("[keibi] "), "{}", mail.subject);
            }
        }
    }

    #[test]
    fn subjects_are_one_clipped_line() {
        let s = subject_line(&format!(
            "[keibi] High {}\r\nBcc: x@example.com",
            "警".repeat(300)
        ));
        assert!(!s.contains('\n') && !s.contains('\r'));
        assert_eq!(s.chars().count(), SUBJECT_MAX);
        assert!(s.ends_with('…'));
    }
}
