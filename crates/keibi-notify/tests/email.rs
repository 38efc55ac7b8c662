//! The email channel against a real SMTP server: aiosmtpd (PyPI), started by each
//! test on a free loopback port with `tests/data/smtp_recorder.py`, which stores
//! every accepted message as it arrived. The tests parse those bytes with
//! mail-parser: MIME structure, charsets, the Subject as a reader sees it (Japanese
//! included), the headers present, and that no hostile string of
//! `tests/data/hostile.txt` adds a header or a live HTML tag or attribute.
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use keibi_i18n::{DisplayZone, Lang, Locale};
use keibi_model::text::Arg;
use keibi_model::{Finding, FindingText, Msg};
use keibi_notify::channels::email::EmailChannel;
use keibi_notify::channels::{self, ChannelKind, ChannelSpec, EmailSpec, EmailTls};
use keibi_notify::text::Style;
use keibi_notify::{Channel, Digest, Notice, NoticeKind, Outgoing, Secret, Summary};
use mail_parser::{MessageParser, MimeHeaders, PartType};

use common::{free_port, python_with, Service};

struct Smtp {
    _svc: Service,
    port: u16,
    dir: tempfile::TempDir,
}

enum Mode<'a> {
    Plain,
    StartTls(&'a Path, &'a Path),
    Implicit(&'a Path, &'a Path),
}

fn smtp(mode: Mode, auth: Option<(&str, &str)>, reply: Option<u16>) -> Option<Smtp> {
    let py = python_with("aiosmtpd")?;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/smtp_recorder.py");
    let mut cmd = Command::new(py);
    cmd.arg(script)
        .arg("--port")
        .arg(port.to_string())
        .arg("--dir")
        .arg(dir.path());
    match mode {
        Mode::Plain => {}
        Mode::StartTls(c, k) => {
            cmd.arg("--starttls").arg(c).arg(k);
        }
        Mode::Implicit(c, k) => {
            cmd.arg("--implicit").arg(c).arg(k);
        }
    }
    if let Some((u, p)) = auth {
        cmd.args(["--auth", u, p]);
    }
    if let Some(code) = reply {
        cmd.args(["--reply", &code.to_string()]);
    }
    let svc = Service::start(cmd, port, "READY", "aiosmtpd");
    Some(Smtp {
        _svc: svc,
        port,
        dir,
    })
}

impl Smtp {
    /// The stored messages and envelopes, in arrival order.
    fn stored(&self) -> Vec<(Vec<u8>, serde_json::Value)> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read the server's directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let meta = std::fs::read(p.with_extension("json")).expect("envelope file");
                (
                    std::fs::read(&p).expect("message file"),
                    serde_json::from_slice(&meta).expect("envelope JSON"),
                )
            })
            .collect()
    }

    /// Waits for `n` stored messages (the server writes after it answered).
    fn wait_for(&self, n: usize) -> Vec<(Vec<u8>, serde_json::Value)> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.stored();
            if got.len() >= n || Instant::now() > deadline {
                assert_eq!(got.len(), n, "messages stored by aiosmtpd");
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn spec(port: u16, tls: EmailTls, ca: Option<PathBuf>, auth: Option<(&str, &str)>) -> ChannelSpec {
    ChannelSpec {
        name: "ops-mail".into(),
        lang: None,
        rate_limit: 30,
        kind: ChannelKind::Email(EmailSpec {
            host: "127.0.0.1".into(),
            port: Some(port),
            tls,
            ca_file: ca,
            username: auth.map(|(u, _)| u.to_string()),
            password: auth.map(|(_, p)| Secret::Value(p.to_string())),
            from: "keibi <keibi@example.com>".into(),
            to: vec!["oncall@example.com".into(), "db-team@example.org".into()],
        }),
    }
}

fn style(lang: Lang) -> Style {
    Style {
        locale: Locale::new(lang, DisplayZone::utc()),
        dashboard_url: Some("https://keibi.example.com".into()),
    }
}

fn channel(spec: &ChannelSpec, lang: Lang) -> Box<dyn Channel> {
    channels::build(spec, &style(lang), None).expect("build the email channel")
}

fn notice(f: Finding, key: &str) -> Outgoing {
    let at = f.last_seen;
    Outgoing::One(Box::new(Notice {
        key: key.into(),
        kind: NoticeKind::New,
        finding: f,
        at,
    }))
}

/// The demo finding with `s` in every attacker-written field: user, application,
/// resource id, the title and the description (which quote them).
fn hostile_finding(s: &str) -> Finding {
    let mut f = common::demo_finding();
    f.actor.user = Some(s.to_string());
    f.actor.app = Some(s.to_string());
    f.resource.id = s.to_string();
    f.title = format!("Login as {s} on shop-postgres after a brute force");
    f.description = format!("It ran: SELECT '{s}';\nthen {s}");
    f.remediation = format!("End the sessions of {s}.\nChange the password of {s}.");
    f
}

fn text_of(part: &mail_parser::MessagePart) -> String {
    match &part.body {
        PartType::Text(t) | PartType::Html(t) => t.replace("\r\n", "\n"),
        other => panic!("not a text part: {other:?}"),
    }
}

/// The header names of a raw message's top level, as a receiver splits them.
fn header_names(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    head.split("\r\n")
        .filter(|l| !l.starts_with([' ', '\t']))
        .map(|l| l.split(':').next().unwrap_or("").to_ascii_lowercase())
        .collect()
}

const HEADERS: &[&str] = &[
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "user-agent",
    "x-keibi-delivery",
    "x-keibi-finding",
    "x-keibi-severity",
    "mime-version",
    "content-type",
];

/// Every tag of the HTML part is one the channel writes, with only its attributes,
/// and the only link is the dashboard's. Escaped text holds no `<`, so every `<` is
/// a tag.
fn assert_inert_html(html: &str, context: &str) {
    const TAGS: &[&str] = &[
        "!doctype", "html", "head", "meta", "title", "body", "div", "h2", "h3", "p", "br", "table",
        "tr", "th", "td", "ol", "li", "a",
    ];
    const ATTRS: &[&str] = &[
        "lang",
        "charset",
        "style",
        "align",
        "valign",
        "cellpadding",
        "cellspacing",
        "href",
    ];
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let tag_end = rest[i..]
            .find('>')
            .unwrap_or_else(|| panic!("{context}: unclosed tag"));
        let tag = &rest[i + 1..i + tag_end];
        rest = &rest[i + tag_end + 1..];
        let closing = tag.starts_with('/');
        let tag = tag.trim_start_matches('/');
        let mut words = tag.split_whitespace();
        let name = words.next().unwrap_or("").to_ascii_lowercase();
        assert!(TAGS.contains(&name.as_str()), "{context}: tag <{tag}>");
        // Attribute values are written by the channel in double quotes and escaped:
        // split on `="`, the names are what precedes each.
        for piece in tag.split("=\"").collect::<Vec<_>>().iter().rev().skip(1) {
            let attr = piece
                .rsplit(|c: char| c.is_whitespace() || c == '"')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            assert!(
                ATTRS.contains(&attr.as_str()),
                "{context}: attribute {attr} in <{tag}>"
            );
        }
        if name == "a" && !closing {
            assert!(
                tag.starts_with("a href=\"https://keibi.example.com/findings/"),
                "{context}: link <{tag}>"
            );
        }
    }
}

#[test]
fn a_finding_arrives_as_multipart_alternative_with_both_parts_in_utf8() {
    let Some(srv) = smtp(Mode::Plain, None, None) else {
        return;
    };
    let ch = channel(&spec(srv.port, EmailTls::None, None, None), Lang::En);
    let sent = ch
        .send(&notice(common::demo_finding(), "outbox-41"))
        .expect("delivered");
    assert!(sent.detail.starts_with("250"), "{sent:?}");
    let got = srv.wait_for(1);
    let (raw, envelope) = &got[0];
    assert_eq!(envelope["mail_from"], "keibi@example.com");
    assert_eq!(
        envelope["rcpt_tos"],
        serde_json::json!(["oncall@example.com", "db-team@example.org"])
    );

    let m = MessageParser::default().parse(raw).expect("a MIME message");
    assert_eq!(
        m.subject(),
        Some("[keibi] High Login as postgres on shop-postgres from 198.51.100.23 after a brute force")
    );
    assert_eq!(m.message_id(), Some("keibi.outbox-41@example.com"));
    assert_eq!(
        m.header_raw("X-Keibi-Delivery").map(str::trim),
        Some("outbox-41")
    );
    assert_eq!(
        m.header_raw("X-Keibi-Finding").map(str::trim),
        Some("b2854deb6cf362f2096c8565616f70ee")
    );
    assert_eq!(
        m.header_raw("X-Keibi-Severity").map(str::trim),
        Some("High 8.0")
    );
    let ct = m.content_type().expect("Content-Type");
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(
        m.date().map(|d| d.to_rfc3339()).as_deref(),
        Some("2026-12-02T03:16:05Z")
    );

    // Exactly two parts under the root: text/plain then text/html, both UTF-8.
    let root = &m.parts[0];
    let PartType::Multipart(children) = &root.body else {
        panic!("root is not multipart: {:?}", root.body);
    };
    assert_eq!(children.len(), 2);
    let kinds: Vec<(String, String, String)> = children
        .iter()
        .map(|&i| {
            let ct = m.parts[i as usize].content_type().expect("part type");
            (
                ct.ctype().to_string(),
                ct.subtype().unwrap_or("").to_string(),
                ct.attribute("charset").unwrap_or("").to_ascii_lowercase(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("text".into(), "plain".into(), "utf-8".into()),
            ("text".into(), "html".into(), "utf-8".into())
        ]
    );
    let plain = text_of(&m.parts[children[0] as usize]);
    let html = text_of(&m.parts[children[1] as usize]);
    for want in [
        "[High 8.0]",
        "New finding",
        "What:   CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
        "Where:  db_instance shop-postgres",
        "Who:    postgres · 198.51.100.23 · psql",
        "When:   2026-12-02 03:13 UTC to 2026-12-02 03:16 UTC",
        "What happened\n198.51.100.23 logged in to shop-postgres as postgres",
        "What to do now\n1. Now: change the password of postgres",
        "Open in keibi: https://keibi.example.com/findings/b2854deb6cf362f2096c8565616f70ee",
        "Finding id: b2854deb6cf362f2096c8565616f70ee",
    ] {
        assert!(plain.contains(want), "plain part lacks {want:?}:\n{plain}");
    }
    for want in [
        "background:#d0021b",
        "<th align=\"left\" valign=\"top\" style=\"color:#555555;padding-right:12px\">Who</th><td valign=\"top\">postgres · 198.51.100.23 · psql</td>",
        "<ol style=\"margin:4px 0 8px 0\">\n<li>Now: change the password of postgres (ALTER ROLE &quot;postgres&quot; PASSWORD &#x27;&lt;new password&gt;&#x27;)",
        "<a href=\"https://keibi.example.com/findings/b2854deb6cf362f2096c8565616f70ee\">Open in keibi</a>",
    ] {
        assert!(html.contains(want), "HTML part lacks {want:?}:\n{html}");
    }
    assert_inert_html(&html, "demo finding");
}

#[test]
fn a_japanese_subject_arrives_encoded_and_readable() {
    let Some(srv) = smtp(Mode::Plain, None, None) else {
        return;
    };
    let ch = channel(&spec(srv.port, EmailTls::None, None, None), Lang::Ja);
    let mut f = common::demo_finding();
    f.actor.user = Some("警備太郎".into());
    f.text = Some(Box::new(FindingText {
        title: Some(
            Msg::new("success-title")
                .arg("user", Arg::Text("警備太郎".into()))
                .arg("instance", Arg::Text("shop-postgres".into()))
                .arg("ip", Arg::Text("198.51.100.23".into())),
        ),
        description: vec![],
        remediation: vec![],
    }));
    let title_ja = Locale::new(Lang::Ja, DisplayZone::utc())
        .render(f.text.as_ref().unwrap().title.as_ref().unwrap());
    assert!(
        title_ja.contains("警備太郎") && !title_ja.contains("Login"),
        "{title_ja}"
    );
    ch.send(&notice(f, "outbox-42")).expect("delivered");
    let got = srv.wait_for(1);
    let raw = &got[0].0;
    // The header section is ASCII (RFC 2047 encoded words) ...
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    assert!(
        raw[..head_end].is_ascii(),
        "{}",
        String::from_utf8_lossy(&raw[..head_end])
    );
    // ... and reads back as the Japanese subject.
    let m = MessageParser::default().parse(raw).expect("a MIME message");
    assert_eq!(m.subject(), Some(format!("[keibi] 高 {title_ja}").as_str()));
    let plain = m.body_text(0).expect("plain part");
    assert!(
        plain.contains("[高 8.0]") && plain.contains("新しい検出"),
        "{plain}"
    );
    let html = m.body_html(0).expect("HTML part");
    assert!(html.contains("<html lang=\"ja\">"), "{html}");
}

#[test]
fn hostile_strings_add_no_header_and_no_live_html() {
    let Some(srv) = smtp(Mode::Plain, None, None) else {
        return;
    };
    let ch = channel(&spec(srv.port, EmailTls::None, None, None), Lang::En);
    let hostile = common::hostile();
    let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 3, 0, 0).unwrap();
    let mut sent = Vec::new();
    for (i, s) in hostile.iter().enumerate() {
        ch.send(&notice(hostile_finding(s), &format!("h{i}")))
            .expect("delivered");
        sent.push(("notice", s.clone()));
    }
    let held: Vec<Notice> = hostile
        .iter()
        .enumerate()
        .map(|(i, s)| Notice {
            key: format!("d{i}"),
            kind: NoticeKind::Resolved {
                by: Some(s.clone()),
            },
            finding: hostile_finding(s),
            at: t0,
        })
        .collect();
    ch.send(&Outgoing::Digest(Digest {
        key: "digest-1".into(),
        total: held.len() as u64 + 40,
        held,
        from: t0,
        to: t0 + chrono::Duration::hours(1),
    }))
    .expect("digest delivered");
    ch.send(&Outgoing::Summary(Summary {
        key: "summary-1".into(),
        at: t0,
        open: hostile.iter().map(|s| hostile_finding(s)).collect(),
        total: 500,
        by_label: [1, 480, 10, 9],
    }))
    .expect("summary delivered");

    let got = srv.wait_for(hostile.len() + 2);
    for (n, (raw, _)) in got.iter().enumerate() {
        let context = match n.checked_sub(hostile.len()) {
            None => format!("notice with {:?}", clipped(&hostile[n])),
            Some(0) => "digest".to_string(),
            Some(_) => "summary".to_string(),
        };
        let mut names = header_names(raw);
        names.sort();
        for h in &names {
            assert!(HEADERS.contains(&h.as_str()), "{context}: header {h:?}");
        }
        names.dedup();
        let m = MessageParser::default().parse(raw).expect("a MIME message");
        let subject = m.subject().expect("subject");
        assert!(
            !subject.contains(['\r', '\n', '\0']) && subject.chars().count() <= 160,
            "{context}: subject {subject:?}"
        );
        assert_eq!(m.parts.len(), 3, "{context}: root and two parts");
        let html = m.body_html(0).expect("HTML part");
        assert_inert_html(&html, &context);
        let plain = m.body_text(0).expect("plain part");
        assert!(
            !plain.contains('\0') && !plain.contains('\u{202e}'),
            "{context}"
        );
        if n < hostile.len() {
            // The value arrives, readable, in both parts (one line; a long one
            // clipped): the channel neutralises, it does not drop.
            let want = keibi_notify::text::one_line(&hostile[n]);
            let head: String = want.chars().take(40).collect();
            assert!(
                plain.contains(&head),
                "{context}: plain part lacks the value"
            );
            let escaped = html_escape_like(&head);
            assert!(html.contains(&escaped), "{context}: HTML lacks {escaped:?}");
            // Bounded: every field clipped (the 70 KB line arrives as 1,000 characters
            // a field, 10,000 in the description).
            let chars = plain.chars().count();
            assert!(chars < 20_000, "{context}: {chars} characters of text");
        }
    }
    // The digest lists the held notices and says how many more there were.
    let digest = MessageParser::default()
        .parse(&got[hostile.len()].0)
        .unwrap();
    assert_eq!(
        digest.subject(),
        Some(
            format!(
                "[keibi] {} notifications held back by the rate limit",
                hostile.len() + 40
            )
            .as_str()
        )
    );
    assert!(digest.body_text(0).unwrap().contains("… and 40 more."));
    let summary = MessageParser::default()
        .parse(&got[hostile.len() + 1].0)
        .unwrap();
    assert_eq!(
        summary.subject(),
        Some("[keibi] Daily summary: 500 open findings (1 Critical, 480 High)")
    );
}

/// What `html_escape::encode_safe` makes of a value (as a reader would check it).
fn html_escape_like(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2F;")
}

fn clipped(s: &str) -> String {
    s.chars().take(30).collect()
}

/// A self-signed certificate for 127.0.0.1 and localhost, as PEM files.
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("generate a certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

#[test]
fn starttls_with_a_private_ca_and_auth() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(certs.path());
    let Some(srv) = smtp(
        Mode::StartTls(&cert, &key),
        Some(("keibi", "s3cret pass")),
        None,
    ) else {
        return;
    };
    let auth = Some(("keibi", "s3cret pass"));
    let ch = channel(
        &spec(srv.port, EmailTls::Starttls, Some(cert.clone()), auth),
        Lang::En,
    );
    ch.send(&notice(common::demo_finding(), "tls-1"))
        .expect("delivered over STARTTLS");
    let got = srv.wait_for(1);
    assert_eq!(got[0].1["tls"], true);
    assert_eq!(got[0].1["login"], "keibi");

    // A wrong password is refused for good (535).
    let wrong = channel(
        &spec(
            srv.port,
            EmailTls::Starttls,
            Some(cert.clone()),
            Some(("keibi", "nope")),
        ),
        Lang::En,
    );
    let e = wrong
        .send(&notice(common::demo_finding(), "tls-2"))
        .unwrap_err();
    assert!(!e.is_transient(), "{e}");
    assert!(e.to_string().contains("535"), "{e}");
    assert!(!e.to_string().contains("nope"), "the password shows: {e}");

    // Without the CA the certificate is not trusted: nothing is sent.
    let untrusted = channel(&spec(srv.port, EmailTls::Starttls, None, auth), Lang::En);
    let e = untrusted
        .send(&notice(common::demo_finding(), "tls-3"))
        .unwrap_err();
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    assert_eq!(srv.stored().len(), 1);
}

#[test]
fn implicit_tls() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(certs.path());
    let Some(srv) = smtp(Mode::Implicit(&cert, &key), None, None) else {
        return;
    };
    let ch = channel(
        &spec(srv.port, EmailTls::Implicit, Some(cert), None),
        Lang::En,
    );
    ch.send(&notice(common::demo_finding(), "tls-4"))
        .expect("delivered over implicit TLS");
    let got = srv.wait_for(1);
    assert_eq!(got[0].1["tls"], true);
}

#[test]
fn refusals_and_outages_say_whether_to_retry() {
    let Some(srv) = smtp(Mode::Plain, None, Some(451)) else {
        return;
    };
    let e = channel(&spec(srv.port, EmailTls::None, None, None), Lang::En)
        .send(&notice(common::demo_finding(), "r1"))
        .unwrap_err();
    assert!(e.is_transient() && e.to_string().contains("451"), "{e}");
    drop(srv);

    let Some(srv) = smtp(Mode::Plain, None, Some(554)) else {
        return;
    };
    let e = channel(&spec(srv.port, EmailTls::None, None, None), Lang::En)
        .send(&notice(common::demo_finding(), "r2"))
        .unwrap_err();
    assert!(!e.is_transient() && e.to_string().contains("554"), "{e}");
    drop(srv);

    // STARTTLS is required: a relay that does not offer it gets nothing in clear.
    let Some(srv) = smtp(Mode::Plain, None, None) else {
        return;
    };
    let e = channel(&spec(srv.port, EmailTls::Starttls, None, None), Lang::En)
        .send(&notice(common::demo_finding(), "r4"))
        .unwrap_err();
    assert!(e.to_string().contains("STARTTLS"), "{e}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(srv.stored().len(), 0);
    drop(srv);

    // Nobody listens: the relay is down, try again later.
    let e = channel(&spec(free_port(), EmailTls::None, None, None), Lang::En)
        .send(&notice(common::demo_finding(), "r3"))
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
}

#[test]
fn settings_that_would_leak_or_cannot_work_are_refused() {
    let mut s = spec(25, EmailTls::None, None, Some(("keibi", "pw")));
    let e = channels::build(&s, &style(Lang::En), None)
        .err()
        .expect("refused");
    assert!(e.to_string().contains("never sent without TLS"), "{e}");
    if let ChannelKind::Email(e) = &mut s.kind {
        e.username = None;
        e.password = None;
        e.to = vec!["not an address".into()];
    }
    assert!(channels::build(&s, &style(Lang::En), None).is_err());
    if let ChannelKind::Email(e) = &mut s.kind {
        e.to = vec![];
    }
    assert!(channels::build(&s, &style(Lang::En), None).is_err());
}

/// The plain-text part and Subject a demo finding produces, as docs/notifications.md
/// shows them (regenerate with `KEIBI_PRINT_EMAIL=1 cargo test -p keibi-notify --test
/// email -- demo_email --nocapture`).
#[test]
fn demo_email() {
    let f = common::demo_finding();
    let spec = spec(587, EmailTls::Starttls, None, None);
    let ChannelKind::Email(e) = &spec.kind else {
        unreachable!()
    };
    let ch = EmailChannel::new(&spec, e, &style(Lang::En)).unwrap();
    let raw = ch.message(&notice(f, "1042")).unwrap().formatted();
    let m = MessageParser::default().parse(&raw).unwrap();
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/notifications.md"),
    )
    .unwrap_or_default();
    let plain = m.body_text(0).unwrap().replace("\r\n", "\n");
    if std::env::var_os("KEIBI_PRINT_EMAIL").is_some() {
        println!("Subject: {}\n\n{plain}", m.subject().unwrap());
    }
    assert!(
        doc.contains(&format!("Subject: {}\n\n{plain}", m.subject().unwrap())),
        "docs/notifications.md does not show the demo email as it is now"
    );
}

/// Notices of actions with a hostile string in every attacker-written part (the
/// role and instance acted on, the failure's reason, the rule, who undid it, and
/// the finding): no header added, no live HTML, the value readable.
#[test]
fn hostile_strings_in_actions_add_no_header_and_no_live_html() {
    let Some(srv) = smtp(Mode::Plain, None, None) else {
        return;
    };
    let ch = channel(&spec(srv.port, EmailTls::None, None, None), Lang::En);
    let hostile = common::hostile();
    let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 3, 0, 0).unwrap();
    for (i, s) in hostile.iter().enumerate() {
        let state = [
            keibi_respond::State::Failed,
            keibi_respond::State::Undone,
            keibi_respond::State::Planned,
        ][i % 3];
        let a = keibi_respond::Action {
            id: format!("{i:016x}"),
            finding_id: "f".into(),
            finding_type: s.clone(),
            target: keibi_respond::Target::LockRole {
                engine: None,
                instance: s.clone(),
                user: s.clone(),
            },
            mode: keibi_respond::Mode::Approve,
            state,
            rule: s.clone(),
            reason: Some(s.clone()),
            expire_after_secs: None,
            expires_at: None,
            created_at: t0,
            updated_at: t0,
            attempts: 1,
            next_at: None,
            executor: Some(s.clone()),
            prior: None,
            done: None,
            by: Some(s.clone()),
        };
        ch.send(&Outgoing::One(Box::new(Notice {
            key: format!("a{i}"),
            kind: NoticeKind::Action {
                action: Box::new(a),
            },
            finding: hostile_finding(s),
            at: t0,
        })))
        .expect("delivered");
    }
    let got = srv.wait_for(hostile.len());
    for (n, (raw, _)) in got.iter().enumerate() {
        let context = format!("action with {:?}", clipped(&hostile[n]));
        for h in header_names(raw) {
            assert!(HEADERS.contains(&h.as_str()), "{context}: header {h:?}");
        }
        let m = MessageParser::default().parse(raw).expect("a MIME message");
        let subject = m.subject().expect("subject");
        assert!(
            subject.starts_with("[keibi] ")
                && !subject.contains(['\r', '\n', '\0'])
                && subject.chars().count() <= 160,
            "{context}: subject {subject:?}"
        );
        let html = m.body_html(0).expect("HTML part");
        assert_inert_html(&html, &context);
        let plain = m.body_text(0).expect("plain part");
        assert!(
            !plain.contains('\0') && !plain.contains('\u{202e}'),
            "{context}"
        );
        let want = keibi_notify::text::one_line(&hostile[n]);
        let head: String = want.chars().take(40).collect();
        assert!(
            plain.contains(&head),
            "{context}: plain part lacks the value"
        );
        assert!(
            plain.contains("keibi actions show 00000000"),
            "{context}: the command to see it"
        );
        assert!(plain.chars().count() < 20_000, "{context}");
    }
}
