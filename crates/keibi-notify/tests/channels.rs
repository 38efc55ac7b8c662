//! Slack, Teams, Chatwork and PagerDuty against a real local receiver: each channel
//! posts the demo finding, a digest and a summary to a recording HTTP server on
//! 127.0.0.1; the test parses what arrived and checks it against the service's
//! documented schema (required fields, allowed values, limits), the mapping of the
//! receiver's answers (2xx sent; 429 with Retry-After, 500 transient; 400
//! permanent), Japanese output, and that every hostile string of
//! `data/hostile.txt`, placed in every attacker-written field, arrives inert.

mod recorder;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use keibi_i18n::{DisplayZone, Lang, Locale};
use keibi_model::{Finding, Severity};
use keibi_notify::channels::{
    self, ChannelKind, ChannelSpec, ChatworkSpec, PagerDutySpec, SlackSpec, TeamsSpec,
};
use keibi_notify::text::Style;
use keibi_notify::{Channel, Digest, Notice, NoticeKind, Outgoing, Secret, SendError, Summary};
use recorder::{Answer, Recorder, Request};
use serde_json::Value;

const ZWSP: char = '\u{200b}';
const DASHBOARD: &str = "https://keibi.example.com";
const TOKEN: &str = "cw-token-0123456789";
const ROUTING_KEY: &str = "R0123456789abcdef0123456789abcde";

fn demo() -> Finding {
    serde_json::from_str(include_str!("data/demo/brute-force.json")).expect("demo finding")
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 3, 14, 0).unwrap()
}

fn notice(kind: NoticeKind, finding: Finding) -> Outgoing {
    Outgoing::One(Box::new(Notice {
        key: "outbox-1".into(),
        kind,
        finding,
        at: at(),
    }))
}

fn style() -> Style {
    Style {
        locale: Locale::new(Lang::En, DisplayZone::utc()),
        dashboard_url: Some(DASHBOARD.into()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Slack,
    Teams,
    Chatwork,
    PagerDuty,
}

const ALL: [Kind; 4] = [Kind::Slack, Kind::Teams, Kind::Chatwork, Kind::PagerDuty];

fn spec(kind: Kind, rec: &Recorder, lang: Option<&str>) -> ChannelSpec {
    let kind = match kind {
        Kind::Slack => ChannelKind::Slack(SlackSpec {
            webhook_url: Secret::Value(rec.url("/services/T000/B000/SECRETPATH")),
        }),
        Kind::Teams => ChannelKind::Teams(TeamsSpec {
            webhook_url: Secret::Value(rec.url("/workflows/abc/triggers/manual/paths/invoke")),
        }),
        Kind::Chatwork => ChannelKind::Chatwork(ChatworkSpec {
            room_id: "123456".into(),
            api_token: Secret::Value(TOKEN.into()),
            api_url: Some(rec.url("/v2")),
        }),
        Kind::PagerDuty => ChannelKind::Pagerduty(PagerDutySpec {
            routing_key: Secret::Value(ROUTING_KEY.into()),
            url: Some(rec.url("/v2/enqueue")),
        }),
    };
    ChannelSpec {
        name: "test".into(),
        lang: lang.map(str::to_string),
        rate_limit: 0,
        kind,
    }
}

fn channel(kind: Kind, rec: &Recorder, lang: Option<&str>) -> Box<dyn Channel> {
    channels::build(&spec(kind, rec, lang), &style(), None).expect("channel builds")
}

/// Sends `msg` and returns what the receiver got.
fn deliver(kind: Kind, rec: &Recorder, lang: Option<&str>, msg: &Outgoing) -> Vec<Request> {
    let ch = channel(kind, rec, lang);
    ch.send(msg).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    rec.take()
}

// ---------------------------------------------------------------------------
// The documented schemas, as checks on what was received.

/// Slack Block Kit (docs.slack.dev/reference/block-kit): the blocks used, their
/// required fields and limits; colour on a secondary attachment.
fn check_slack(v: &Value) {
    let text = v["text"]
        .as_str()
        .expect("text (the notification fallback)");
    assert!(!text.is_empty());
    let att = v["attachments"].as_array().expect("attachments");
    assert_eq!(att.len(), 1);
    let color = att[0]["color"].as_str().expect("attachment color");
    assert!(
        color.len() == 7
            && color.starts_with('#')
            && color[1..].chars().all(|c| c.is_ascii_hexdigit()),
        "{color}"
    );
    only_keys(v, &["text", "attachments", "blocks", "thread_ts", "mrkdwn"]);
    only_keys(&att[0], &["color", "blocks", "fallback"]);
    let blocks = att[0]["blocks"].as_array().expect("blocks");
    assert!(
        !blocks.is_empty() && blocks.len() <= 50,
        "{} blocks",
        blocks.len()
    );
    for b in blocks {
        let kind = b["type"].as_str().expect("block type");
        // Each block's fields (Block Kit reference).
        only_keys(
            b,
            match kind {
                "header" => &["type", "text", "block_id"],
                "section" => &["type", "text", "fields", "accessory", "block_id", "expand"],
                "actions" | "context" => &["type", "elements", "block_id"],
                _ => &[],
            },
        );
        match kind {
            "header" => {
                assert_eq!(b["text"]["type"], "plain_text");
                assert!(chars(&b["text"]["text"]) <= 150);
            }
            "section" => {
                assert!(b.get("text").is_some() || b.get("fields").is_some(), "{b}");
                if let Some(t) = b.get("text") {
                    assert!(chars(&t["text"]) <= 3000);
                    assert!(chars(&t["text"]) >= 1);
                }
                if let Some(f) = b.get("fields") {
                    let f = f.as_array().unwrap();
                    assert!(!f.is_empty() && f.len() <= 10, "{} fields", f.len());
                    for x in f {
                        assert!(chars(&x["text"]) <= 2000 && chars(&x["text"]) >= 1);
                    }
                }
            }
            "actions" => {
                let els = b["elements"].as_array().expect("elements");
                assert!(!els.is_empty() && els.len() <= 25);
                for e in els {
                    only_keys(
                        e,
                        &[
                            "type",
                            "text",
                            "action_id",
                            "url",
                            "value",
                            "style",
                            "confirm",
                            "accessibility_label",
                        ],
                    );
                    assert_eq!(e["type"], "button");
                    assert_eq!(e["text"]["type"], "plain_text");
                    assert!(chars(&e["text"]["text"]) <= 75);
                    let url = e["url"].as_str().expect("button url");
                    assert!(url.starts_with(DASHBOARD) && url.len() <= 3000, "{url}");
                }
            }
            "context" => {
                let els = b["elements"].as_array().expect("elements");
                assert!(!els.is_empty() && els.len() <= 10);
            }
            other => panic!("unexpected block {other}"),
        }
    }
    // Text objects: plain_text or mrkdwn; mrkdwn only ever holds keibi's bold labels.
    walk_objects(v, &mut |o| {
        if let Some(t) = o.get("type").and_then(Value::as_str) {
            if t == "mrkdwn" {
                assert!(o
                    .keys()
                    .all(|k| ["type", "text", "verbatim"].contains(&k.as_str())));
                let s = o["text"].as_str().unwrap();
                let inner = s
                    .strip_prefix('*')
                    .and_then(|s| s.strip_suffix('*'))
                    .unwrap_or_else(|| panic!("mrkdwn other than a label: {s:?}"));
                assert!(
                    !inner.contains(['*', '_', '~', '`', '<', '>', '&']),
                    "{s:?}"
                );
            }
            if t == "plain_text" {
                assert!(o
                    .keys()
                    .all(|k| ["type", "text", "emoji"].contains(&k.as_str())));
                assert!(o["text"].is_string());
                assert_eq!(o["emoji"], false);
            }
        }
    });
    // Everywhere but a button's url: Slack's control characters only as entities.
    walk_strings(v, "", &mut |key, s| {
        if key == "url" || key == "color" {
            return;
        }
        assert!(!s.contains(['<', '>']), "{key}: {s:?}");
        for (i, _) in s.match_indices('&') {
            let rest = &s[i..];
            assert!(
                rest.starts_with("&amp;") || rest.starts_with("&lt;") || rest.starts_with("&gt;"),
                "{key}: a bare & in {s:?}"
            );
        }
        assert_no_link(key, s);
    });
    // The fallback is mrkdwn: each special character stands between zero-width
    // spaces, so it pairs with nothing, and it is one line.
    for f in [text, att[0]["fallback"].as_str().unwrap()] {
        let cs: Vec<char> = f.chars().collect();
        for (i, c) in cs.iter().enumerate() {
            if matches!(c, '*' | '_' | '~' | '`') {
                assert!(
                    i > 0 && cs[i - 1] == ZWSP && cs.get(i + 1) == Some(&ZWSP),
                    "unguarded {c} in {f:?}"
                );
            }
        }
        assert!(!f.contains(['\n', '\r']));
        assert!(f.chars().count() <= 300);
    }
}

/// Teams: the Workflows message with one Adaptive Card 1.4 (adaptivecards.io
/// schema: TextBlock.text required, color one of the named colours; FactSet.facts
/// with title and value; Action.OpenUrl with url), under 28 KB; every text is inert
/// Markdown.
fn check_teams(v: &Value, raw: &[u8]) {
    assert!(raw.len() <= 28 * 1024, "{} bytes", raw.len());
    assert_eq!(v["type"], "message");
    let att = v["attachments"].as_array().expect("attachments");
    assert_eq!(att.len(), 1);
    assert_eq!(
        att[0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &att[0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.4");
    let body = card["body"].as_array().expect("body");
    assert!(!body.is_empty());
    // The properties each definition of the 1.4 schema allows (it forbids any
    // other: additionalProperties false), with `msteams`, Teams' documented
    // extension of the card; the enums of Colors, FontSize, FontWeight, Spacing.
    const ELEMENT: [&str; 7] = [
        "fallback",
        "height",
        "separator",
        "spacing",
        "id",
        "isVisible",
        "requires",
    ];
    only_keys(
        card,
        &[
            "type",
            "version",
            "refresh",
            "body",
            "actions",
            "selectAction",
            "fallbackText",
            "backgroundImage",
            "minHeight",
            "speak",
            "lang",
            "verticalContentAlignment",
            "$schema",
            "msteams",
        ],
    );
    let enums = |el: &Value| {
        for (key, allowed) in [
            (
                "color",
                &[
                    "default",
                    "dark",
                    "light",
                    "accent",
                    "good",
                    "warning",
                    "attention",
                ][..],
            ),
            (
                "size",
                &["default", "small", "medium", "large", "extraLarge"][..],
            ),
            ("weight", &["default", "lighter", "bolder"][..]),
            (
                "spacing",
                &[
                    "default",
                    "none",
                    "small",
                    "medium",
                    "large",
                    "extraLarge",
                    "padding",
                ][..],
            ),
        ] {
            if let Some(v) = el.get(key) {
                let v = v.as_str().unwrap();
                assert!(
                    allowed.iter().any(|a| a.eq_ignore_ascii_case(v)),
                    "{key}: {v}"
                );
            }
        }
    };
    for el in body {
        match el["type"].as_str().expect("element type") {
            "TextBlock" => {
                let mut keys = vec![
                    "type",
                    "text",
                    "color",
                    "fontType",
                    "horizontalAlignment",
                    "isSubtle",
                    "maxLines",
                    "size",
                    "weight",
                    "wrap",
                ];
                keys.extend(ELEMENT);
                only_keys(el, &keys);
                enums(el);
                let t = el["text"].as_str().expect("TextBlock.text");
                assert!(!t.is_empty());
                assert_inert_markdown(t);
            }
            "FactSet" => {
                let mut keys = vec!["type", "facts"];
                keys.extend(ELEMENT);
                only_keys(el, &keys);
                enums(el);
                for f in el["facts"].as_array().expect("facts") {
                    only_keys(f, &["title", "value"]);
                    assert_inert_markdown(f["title"].as_str().expect("fact title"));
                    assert_inert_markdown(f["value"].as_str().expect("fact value"));
                }
            }
            other => panic!("unexpected element {other}"),
        }
    }
    if let Some(actions) = card.get("actions") {
        for a in actions.as_array().unwrap() {
            only_keys(
                a,
                &[
                    "type", "url", "title", "iconUrl", "style", "fallback", "requires",
                ],
            );
            assert_eq!(a["type"], "Action.OpenUrl");
            assert!(a["title"].is_string());
            assert!(a["url"].as_str().unwrap().starts_with(DASHBOARD));
        }
    }
}

/// `v` is an object with only keys of `allowed`.
fn only_keys(v: &Value, allowed: &[&str]) {
    let o = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"));
    for k in o.keys() {
        assert!(allowed.contains(&k.as_str()), "{k} is not allowed in {v}");
    }
}

/// A Markdown text as a CommonMark (with GFM strikethrough and tables) renderer
/// reads it: text only, no link, image, emphasis, code, heading, quote, HTML or
/// table; no bare link either, and no Adaptive Card function.
fn assert_inert_markdown(t: &str) {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    assert!(!t.contains(['\n', '\r']), "{t:?}");
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TABLES);
    let mut text = String::new();
    let mut in_own_link = false;
    for ev in Parser::new_ext(t, opts) {
        match ev {
            // keibi's own link to a finding on its dashboard (digest and summary).
            Event::Start(Tag::Link { ref dest_url, .. })
                if dest_url.starts_with(&format!("{DASHBOARD}/findings/")) && !in_own_link =>
            {
                in_own_link = true
            }
            Event::Text(s) if in_own_link => {
                assert_eq!(&*s, "↗");
                in_own_link = false;
            }
            Event::Text(s) => text.push_str(&s),
            Event::Start(Tag::Paragraph) | Event::End(_) | Event::SoftBreak => {}
            // keibi's own numbering of steps.
            Event::Start(Tag::List(Some(_))) | Event::Start(Tag::Item) => {}
            other => panic!("live Markdown {other:?} in {t:?}"),
        }
    }
    assert_no_link("text", &text);
    assert!(!text.contains("{{"), "{text:?}");
}

/// Chatwork: the form has exactly one field, `body`; its tags are keibi's
/// skeleton and nothing else.
fn chatwork_body(r: &Request) -> String {
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v2/rooms/123456/messages");
    assert_eq!(r.header("x-chatworktoken"), Some(TOKEN));
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&r.body).into_owned().collect();
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    assert_eq!(pairs[0].0, "body");
    assert!(pairs[0].1.chars().count() <= 10_000);
    pairs[0].1.clone()
}

/// The tags Chatwork would read in `body`: `[x]`, `[/x]`, `[To:1]`... at a `[`
/// that no zero-width space follows.
fn chatwork_tags(body: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let cs: Vec<char> = body.chars().collect();
    for (i, c) in cs.iter().enumerate() {
        if *c == '[' && cs.get(i + 1) != Some(&ZWSP) {
            let end = cs[i..].iter().position(|c| *c == ']').map(|p| i + p);
            let tag: String = match end {
                Some(e) => cs[i..=e].iter().collect(),
                None => cs[i..].iter().collect(),
            };
            tags.push(tag);
        }
    }
    tags
}

/// PagerDuty Events API v2 (developer.pagerduty.com, "Send an Alert Event"):
/// routing_key, event_action; a trigger's payload with summary (≤ 1,024), source,
/// severity (critical, error, warning, info); optional timestamp (ISO 8601),
/// component, group, class, custom_details; links of href and text.
fn check_pagerduty(r: &Request) -> Value {
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v2/enqueue");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    only_keys(
        &v,
        &[
            "routing_key",
            "event_action",
            "dedup_key",
            "payload",
            "images",
            "links",
            "client",
            "client_url",
        ],
    );
    if let Some(p) = v.get("payload") {
        only_keys(
            p,
            &[
                "summary",
                "source",
                "severity",
                "timestamp",
                "component",
                "group",
                "class",
                "custom_details",
            ],
        );
    }
    assert_eq!(v["routing_key"], ROUTING_KEY);
    let dedup = v["dedup_key"].as_str().expect("dedup_key");
    assert!(!dedup.is_empty() && dedup.len() <= 255);
    match v["event_action"].as_str().unwrap() {
        "resolve" => {}
        "trigger" => {
            let p = &v["payload"];
            let summary = p["summary"].as_str().expect("summary");
            assert!(!summary.is_empty() && summary.chars().count() <= 1024);
            assert!(!p["source"].as_str().expect("source").is_empty());
            assert!(["critical", "error", "warning", "info"]
                .contains(&p["severity"].as_str().expect("severity")));
            chrono::DateTime::parse_from_rfc3339(p["timestamp"].as_str().unwrap())
                .expect("ISO 8601 timestamp");
            assert!(p["custom_details"].is_object());
            for l in v["links"].as_array().into_iter().flatten() {
                assert!(l["href"].as_str().unwrap().starts_with(DASHBOARD));
                assert!(l["text"].is_string());
            }
        }
        other => panic!("event_action {other}"),
    }
    walk_strings(&v, "", &mut |key, s| {
        if key == "href" || key == "client_url" {
            return;
        }
        assert!(!s.chars().any(char::is_control), "{key}: {s:?}");
        assert_no_link(key, s);
    });
    v
}

fn chars(v: &Value) -> usize {
    v.as_str().map(|s| s.chars().count()).unwrap_or(0)
}

/// No `scheme://` or `www.` a client would make a link of.
fn assert_no_link(key: &str, s: &str) {
    let lower = s.to_lowercase();
    assert!(!lower.contains("://"), "{key}: a live link in {s:?}");
    assert!(!lower.contains("www."), "{key}: a live link in {s:?}");
}

fn walk_objects(v: &Value, f: &mut dyn FnMut(&serde_json::Map<String, Value>)) {
    match v {
        Value::Object(o) => {
            f(o);
            o.values().for_each(|x| walk_objects(x, f));
        }
        Value::Array(a) => a.iter().for_each(|x| walk_objects(x, f)),
        _ => {}
    }
}

fn walk_strings(v: &Value, key: &str, f: &mut dyn FnMut(&str, &str)) {
    match v {
        Value::String(s) => f(key, s),
        Value::Object(o) => o.iter().for_each(|(k, x)| walk_strings(x, k, f)),
        Value::Array(a) => a.iter().for_each(|x| walk_strings(x, key, f)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------

#[test]
fn slack_lays_out_the_demo_finding() {
    let rec = Recorder::start();
    let got = deliver(Kind::Slack, &rec, None, &notice(NoticeKind::New, demo()));
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/services/T000/B000/SECRETPATH");
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let v = r.json();
    check_slack(&v);
    let blocks = v["attachments"][0]["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(
        blocks[0]["text"]["text"],
        "Brute force on shop-postgres from 198.51.100.23: 253 failed logins, then a login as postgres"
    );
    assert_eq!(blocks[1]["text"]["text"], "Medium 5.0 · New finding");
    // Medium's colour; the fields are label/value pairs.
    assert_eq!(v["attachments"][0]["color"], "#f5a623");
    let fields = blocks[2]["fields"].as_array().unwrap();
    assert_eq!(fields[0]["text"], "*What*");
    assert_eq!(fields[1]["text"], "CredentialAccess:RDS/BruteForce");
    assert_eq!(fields[4]["text"], "*Who*");
    assert_eq!(fields[5]["text"], "postgres · 198.51.100.23");
    let all = v.to_string();
    assert!(all.contains("253 times"), "the description is there");
    assert!(all.contains("block it now"), "the remediation is there");
    let button = blocks
        .iter()
        .find(|b| b["type"] == "actions")
        .expect("a button to the dashboard");
    assert_eq!(
        button["elements"][0]["url"],
        format!("{DASHBOARD}/findings/4dde8bdcff8aa0e98033de0649dcb9d0")
    );
    let ctx = blocks.last().unwrap();
    assert_eq!(ctx["type"], "context");
    assert_eq!(
        ctx["elements"][0]["text"],
        "Finding id: 4dde8bdcff8aa0e98033de0649dcb9d0"
    );
}

#[test]
fn slack_without_a_dashboard_has_no_button_and_resolved_is_green() {
    let rec = Recorder::start();
    let mut spec = spec(Kind::Slack, &rec, None);
    spec.name = "ops".into();
    let ch = channels::build(
        &spec,
        &Style {
            dashboard_url: None,
            ..style()
        },
        None,
    )
    .unwrap();
    assert_eq!(ch.name(), "ops");
    ch.send(&notice(
        NoticeKind::Resolved {
            by: Some("kim".into()),
        },
        demo(),
    ))
    .unwrap();
    let v = rec.one().json();
    check_slack(&v);
    assert_eq!(v["attachments"][0]["color"], "#2eb67d");
    assert!(!v.to_string().contains("\"actions\""));
    assert!(v["text"].as_str().unwrap().contains("Resolved by kim"));
}

#[test]
fn teams_lays_out_the_demo_finding() {
    let rec = Recorder::start();
    let got = deliver(Kind::Teams, &rec, None, &notice(NoticeKind::New, demo()));
    let r = &got[0];
    assert_eq!(r.path, "/workflows/abc/triggers/manual/paths/invoke");
    let v = r.json();
    check_teams(&v, &r.body);
    let card = &v["attachments"][0]["content"];
    assert_eq!(card["body"][0]["color"], "warning");
    assert_eq!(card["body"][0]["weight"], "bolder");
    let facts = card["body"][2]["facts"].as_array().unwrap();
    assert_eq!(facts[0]["title"], "What");
    assert_eq!(facts[0]["value"], "CredentialAccess:RDS/BruteForce");
    assert_eq!(facts.len(), 5);
    assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(
        card["actions"][0]["url"],
        format!("{DASHBOARD}/findings/4dde8bdcff8aa0e98033de0649dcb9d0")
    );
    // A Critical finding is `attention`.
    let mut f = demo();
    f.severity = Severity::new(9.5);
    let got = deliver(Kind::Teams, &rec, None, &notice(NoticeKind::New, f));
    assert_eq!(
        got[0].json()["attachments"][0]["content"]["body"][0]["color"],
        "attention"
    );
}

#[test]
fn chatwork_speaks_japanese_in_its_notation() {
    let rec = Recorder::start();
    let got = deliver(
        Kind::Chatwork,
        &rec,
        Some("ja"),
        &notice(NoticeKind::New, demo()),
    );
    let body = chatwork_body(&got[0]);
    assert_eq!(
        chatwork_tags(&body),
        ["[info]", "[title]", "[/title]", "[hr]", "[hr]", "[hr]", "[/info]"]
    );
    for words in [
        "新しい検出",
        "種類: ",
        "件数: 253",
        "今すぐすること",
        "検出結果 ID: ",
        "keibi で開く: ",
    ] {
        assert!(body.contains(words), "{words} in {body}");
    }
    assert!(body.contains(&format!(
        "{DASHBOARD}/findings/4dde8bdcff8aa0e98033de0649dcb9d0"
    )));
    // English when the channel does not say.
    let got = deliver(Kind::Chatwork, &rec, None, &notice(NoticeKind::New, demo()));
    assert!(chatwork_body(&got[0]).contains("What to do now"));
}

#[test]
fn pagerduty_triggers_and_resolves_by_finding_id() {
    let rec = Recorder::start();
    let id = "4dde8bdcff8aa0e98033de0649dcb9d0";
    let got = deliver(
        Kind::PagerDuty,
        &rec,
        None,
        &notice(NoticeKind::New, demo()),
    );
    let v = check_pagerduty(&got[0]);
    assert_eq!(v["event_action"], "trigger");
    assert_eq!(v["dedup_key"], id);
    assert_eq!(v["payload"]["severity"], "warning");
    assert_eq!(v["payload"]["source"], "shop-postgres");
    assert_eq!(v["payload"]["class"], "CredentialAccess:RDS/BruteForce");
    assert_eq!(v["payload"]["component"], "db_instance");
    assert_eq!(v["payload"]["timestamp"], "2026-12-02T03:13:39Z");
    assert_eq!(v["payload"]["custom_details"]["count"], "253");
    assert_eq!(
        v["payload"]["custom_details"]["who"],
        "postgres · 198.51.100.23"
    );
    assert_eq!(v["links"][0]["href"], format!("{DASHBOARD}/findings/{id}"));
    assert!(v["payload"]["summary"]
        .as_str()
        .unwrap()
        .starts_with("[Medium 5.0] Brute force on shop-postgres"));

    // Still going, raised, reopened: the same key again (PagerDuty folds them).
    for kind in [
        NoticeKind::StillGoing {
            count_then: 40,
            since: at(),
        },
        NoticeKind::Raised {
            from: Severity::new(4.0),
        },
        NoticeKind::Reopened,
    ] {
        let mut f = demo();
        f.severity = Severity::new(9.0);
        let got = deliver(Kind::PagerDuty, &rec, None, &notice(kind, f));
        let v = check_pagerduty(&got[0]);
        assert_eq!(v["event_action"], "trigger");
        assert_eq!(v["dedup_key"], id);
        assert_eq!(v["payload"]["severity"], "critical");
    }

    // Resolved: the same key, resolve.
    let got = deliver(
        Kind::PagerDuty,
        &rec,
        None,
        &notice(NoticeKind::Resolved { by: None }, demo()),
    );
    let v = check_pagerduty(&got[0]);
    assert_eq!(v["event_action"], "resolve");
    assert_eq!(v["dedup_key"], id);
    assert!(v.get("payload").is_none());
}

fn held(n: usize) -> Digest {
    let labels = [9.5, 8.0, 5.0, 2.5];
    let held = (0..n)
        .map(|i| {
            let mut f = demo();
            f.id = format!("finding-{i:02}");
            f.severity = Severity::new(labels[i % 4]);
            Notice {
                key: format!("outbox-{i}"),
                kind: NoticeKind::New,
                finding: f,
                at: at(),
            }
        })
        .collect();
    Digest {
        key: "digest-1".into(),
        held,
        total: n as u64 + 5,
        from: at(),
        to: at() + chrono::Duration::hours(1),
    }
}

fn summary() -> Summary {
    let mut open = Vec::new();
    for (i, s) in [9.5, 8.0, 5.0].iter().enumerate() {
        let mut f = demo();
        f.id = format!("open-{i}");
        f.severity = Severity::new(*s);
        open.push(f);
    }
    Summary {
        key: "summary-1".into(),
        at: at(),
        open,
        total: 17,
        by_label: [2, 8, 6, 1],
    }
}

#[test]
fn digests_list_a_handful_and_count_the_rest() {
    let rec = Recorder::start();
    let d = Outgoing::Digest(held(12));

    let v = deliver(Kind::Slack, &rec, None, &d)[0].json();
    check_slack(&v);
    let all = v.to_string();
    assert!(
        all.contains(
            "17 notifications held back from 2026-12-02 03:14 UTC to 2026-12-02 04:14 UTC"
        ),
        "{all}"
    );
    assert!(all.contains("…and 7 more"), "{all}");
    assert_eq!(all.matches("Brute force on shop-postgres").count(), 10);
    assert_eq!(
        v["attachments"][0]["color"], "#7b0099",
        "the worst held is Critical"
    );

    let r = &deliver(Kind::Teams, &rec, None, &d)[0];
    let v = r.json();
    check_teams(&v, &r.body);
    assert!(v.to_string().contains("…and 7 more"));

    let body = chatwork_body(&deliver(Kind::Chatwork, &rec, Some("ja"), &d)[0]);
    assert!(body.contains("保留した通知 17件"), "{body}");
    assert!(body.contains("ほか 7件"), "{body}");
    assert_eq!(
        chatwork_tags(&body),
        ["[info]", "[title]", "[/title]", "[/info]"]
    );

    // PagerDuty pages per finding: one event each for the listed ones.
    let got = deliver(Kind::PagerDuty, &rec, None, &d);
    assert_eq!(got.len(), 10);
    for (i, r) in got.iter().enumerate() {
        let v = check_pagerduty(r);
        assert_eq!(v["dedup_key"], format!("finding-{i:02}"));
    }
}

#[test]
fn the_daily_summary_counts_by_severity() {
    let rec = Recorder::start();
    let s = Outgoing::Summary(summary());

    let v = deliver(Kind::Slack, &rec, None, &s)[0].json();
    check_slack(&v);
    let fields = v["attachments"][0]["blocks"][1]["fields"]
        .as_array()
        .unwrap();
    let pairs: Vec<&str> = fields.iter().map(|f| f["text"].as_str().unwrap()).collect();
    assert_eq!(
        pairs,
        [
            "*Critical*",
            "2",
            "*High*",
            "8",
            "*Medium*",
            "6",
            "*Low*",
            "1"
        ]
    );
    assert!(v.to_string().contains("…and 14 more"));

    let r = &deliver(Kind::Teams, &rec, Some("ja"), &s)[0];
    let v = r.json();
    check_teams(&v, &r.body);
    let facts = &v["attachments"][0]["content"]["body"][1]["facts"];
    assert_eq!(facts[0]["title"], "重大");
    assert_eq!(facts[0]["value"], "2");

    let body = chatwork_body(&deliver(Kind::Chatwork, &rec, None, &s)[0]);
    assert!(
        body.contains("Open findings on 2026-12-02 03:14 UTC: 17"),
        "{body}"
    );
    assert!(body.contains("High: 8"));

    // Nothing open: said, in green on Slack.
    let none = Outgoing::Summary(Summary {
        key: "summary-2".into(),
        at: at(),
        open: Vec::new(),
        total: 0,
        by_label: [0; 4],
    });
    let v = deliver(Kind::Slack, &rec, None, &none)[0].json();
    check_slack(&v);
    assert!(v.to_string().contains("No open findings."));
    assert_eq!(v["attachments"][0]["color"], "#2eb67d");
    let body = chatwork_body(&deliver(Kind::Chatwork, &rec, Some("ja"), &none)[0]);
    assert!(body.contains("未解決の検出結果はありません。"), "{body}");

    // PagerDuty sends no summary.
    let ch = channel(Kind::PagerDuty, &rec, None);
    let sent = ch.send(&s).unwrap();
    assert!(sent.detail.contains("not sent"));
    assert!(rec.take().is_empty());
}

#[test]
fn answers_map_to_sent_transient_and_permanent() {
    let rec = Recorder::start();
    let msg = notice(NoticeKind::New, demo());
    for kind in ALL {
        let ch = channel(kind, &rec, None);
        rec.answer(Answer::status(
            if kind == Kind::PagerDuty { 202 } else { 200 },
            "{}",
        ));
        let sent = ch.send(&msg).unwrap();
        assert!(sent.detail.starts_with("HTTP 20"), "{kind:?} {sent:?}");

        rec.answer(Answer::status(429, "rate limited").with("Retry-After", "7"));
        match ch.send(&msg) {
            Err(SendError::Transient { retry_after, .. }) => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)), "{kind:?}")
            }
            other => panic!("{kind:?}: 429 gave {other:?}"),
        }

        rec.answer(Answer::status(500, "oops"));
        assert!(ch.send(&msg).unwrap_err().is_transient(), "{kind:?}");

        rec.answer(Answer::status(
            400,
            "{\"errors\":[\"Parameter 'body' is required\"]}",
        ));
        let e = ch.send(&msg).unwrap_err();
        assert!(!e.is_transient(), "{kind:?}");
        // The error names the receiver but never a webhook's secret path or a token.
        let shown = e.to_string();
        assert!(
            !shown.contains("SECRETPATH") && !shown.contains("paths/invoke"),
            "{shown}"
        );
        assert!(
            !shown.contains(TOKEN) && !shown.contains(ROUTING_KEY),
            "{shown}"
        );
        assert_eq!(rec.take().len(), 4);
    }
}

#[test]
fn bad_settings_fail_at_build() {
    let rec = Recorder::start();
    let mut s = spec(Kind::Slack, &rec, Some("fr"));
    assert!(channels::build(&s, &style(), None).is_err());
    s.lang = None;
    s.kind = ChannelKind::Slack(SlackSpec {
        webhook_url: Secret::Env("KEIBI_TEST_NO_SUCH_VARIABLE_N2".into()),
    });
    let e = channels::build(&s, &style(), None).err().unwrap();
    assert!(
        e.to_string().contains("KEIBI_TEST_NO_SUCH_VARIABLE_N2"),
        "{e}"
    );
    s.kind = ChannelKind::Teams(TeamsSpec {
        webhook_url: Secret::Value("not a url".into()),
    });
    assert!(channels::build(&s, &style(), None).is_err());
    s.kind = ChannelKind::Chatwork(ChatworkSpec {
        room_id: "12/../3".into(),
        api_token: Secret::Value(TOKEN.into()),
        api_url: None,
    });
    assert!(channels::build(&s, &style(), None).is_err());
    s.kind = ChannelKind::Chatwork(ChatworkSpec {
        room_id: "123".into(),
        api_token: Secret::Value("SECRET\u{3000}VALUE".into()),
        api_url: None,
    });
    let e = channels::build(&s, &style(), None).err().unwrap();
    assert!(
        !e.to_string().contains("SECRET"),
        "the token is not shown: {e}"
    );
    s.kind = ChannelKind::Pagerduty(PagerDutySpec {
        routing_key: Secret::File("/nonexistent/keibi-n2-key".into()),
        url: None,
    });
    assert!(channels::build(&s, &style(), None).is_err());
}

// ---------------------------------------------------------------------------
// Hostile text.

fn hostile() -> Vec<String> {
    include_str!("data/hostile.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            l.replace("\\n", "\n")
                .replace("\\r", "\r")
                .replace("\\0", "\0")
        })
        .collect()
}

/// The demo finding with `h` in every attacker-written field: the user, the
/// application, the resource and its account, the title and the description (a
/// statement), the remediation (it names the user).
fn poisoned(h: &str) -> Finding {
    let mut f = demo();
    f.actor.user = Some(h.to_string());
    f.actor.app = Some(h.to_string());
    f.resource.id = h.to_string();
    f.resource.account = Some(h.to_string());
    f.title = format!("Brute force on {h} as {h}");
    f.description = format!("{h} ran the statement {h} on {h}.");
    f.remediation = format!("Lock {h}: ALTER ROLE {h} NOLOGIN;");
    f.resource.region = Some(h.to_string());
    f
}

/// The same with several users (a spray's list) and its texts as catalog messages
/// (as the daemon's findings carry them), each quoting `h`.
fn poisoned_with_messages(h: &str) -> Finding {
    use keibi_model::text::{Arg, FindingText, Msg};
    let mut f = poisoned(h);
    f.actor.users = vec![h.to_string(), "postgres".into(), format!("{h}2")];
    let text = |s: String| {
        Msg::new("rule-text")
            .arg("en", Arg::Text(s.clone()))
            .arg("ja", Arg::Text(s))
    };
    f.text = Some(Box::new(FindingText {
        title: Some(text(format!("Brute force as {h}"))),
        description: vec![
            text(format!("{h} tried.")),
            text(format!("Then {h} ran {h}.")),
        ],
        remediation: vec![
            text(format!("Lock {h}.")),
            text(format!("Rotate {h}\n{h}.")),
        ],
    }));
    f
}

fn hostile_messages(h: &str) -> Vec<Outgoing> {
    let mut d = held(3);
    for n in &mut d.held {
        n.finding = poisoned(h);
    }
    let mut s = summary();
    s.open = vec![poisoned(h)];
    vec![
        notice(NoticeKind::New, poisoned(h)),
        notice(NoticeKind::New, poisoned_with_messages(h)),
        notice(
            NoticeKind::Resolved {
                by: Some(h.to_string()),
            },
            poisoned(h),
        ),
        Outgoing::Digest(d),
        Outgoing::Summary(s),
        hostile_action(
            keibi_respond::Target::LockRole {
                engine: None,
                instance: h.to_string(),
                user: h.to_string(),
            },
            keibi_respond::State::Planned,
            keibi_respond::Mode::Approve,
            h,
        ),
        hostile_action(
            keibi_respond::Target::ContainPrincipal {
                principal: h.to_string(),
                access_key: Some(h.to_string()),
                place: Default::default(),
            },
            keibi_respond::State::Failed,
            keibi_respond::Mode::Auto,
            h,
        ),
        hostile_action(
            keibi_respond::Target::EndSessions {
                engine: None,
                instance: h.to_string(),
                user: h.to_string(),
                address: Some("203.0.113.9".parse().unwrap()),
            },
            keibi_respond::State::Undone,
            keibi_respond::Mode::Auto,
            h,
        ),
    ]
}

/// An action's notice with `h` in every attacker-written part: the target's names,
/// the reason, the rule, who undid it, and the finding.
fn hostile_action(
    target: keibi_respond::Target,
    state: keibi_respond::State,
    mode: keibi_respond::Mode,
    h: &str,
) -> Outgoing {
    let t = at();
    let a = keibi_respond::Action {
        id: "1a2b3c4d5e6f7081".into(),
        finding_id: "f".into(),
        finding_type: h.to_string(),
        rule: h.to_string(),
        reason: Some(h.to_string()),
        expires_at: Some(t),
        attempts: 1,
        executor: Some(h.to_string()),
        by: Some(h.to_string()),
        ..keibi_respond::Action::new(target, mode, state, t)
    };
    notice(
        NoticeKind::Action {
            action: Box::new(a),
        },
        poisoned(h),
    )
}

#[test]
fn hostile_text_arrives_inert_on_slack() {
    let rec = Recorder::start();
    for lang in [None, Some("ja")] {
        let ch = channel(Kind::Slack, &rec, lang);
        for h in hostile() {
            for m in hostile_messages(&h) {
                ch.send(&m).unwrap();
                let v = rec.one().json();
                check_slack(&v);
            }
        }
    }
}

#[test]
fn hostile_text_arrives_inert_on_teams() {
    let rec = Recorder::start();
    for lang in [None, Some("ja")] {
        let ch = channel(Kind::Teams, &rec, lang);
        for h in hostile() {
            for m in hostile_messages(&h) {
                ch.send(&m).unwrap();
                let r = rec.one();
                check_teams(&r.json(), &r.body);
            }
        }
    }
}

#[test]
fn hostile_text_arrives_inert_on_chatwork() {
    let rec = Recorder::start();
    let ch = channel(Kind::Chatwork, &rec, Some("ja"));
    for h in hostile() {
        for (i, m) in hostile_messages(&h).iter().enumerate() {
            ch.send(m).unwrap();
            let body = chatwork_body(&rec.one());
            let tags = chatwork_tags(&body);
            let want: &[&str] = match i {
                0..=2 => &[
                    "[info]", "[title]", "[/title]", "[hr]", "[hr]", "[hr]", "[/info]",
                ],
                3 => &["[info]", "[title]", "[/title]", "[/info]"],
                4 => &["[info]", "[title]", "[/title]", "[hr]", "[/info]"],
                // An action: no description, its commands as the steps.
                _ => &["[info]", "[title]", "[/title]", "[hr]", "[hr]", "[/info]"],
            };
            assert_eq!(tags, want, "{h:?}: {body}");
            // The only link is keibi's own dashboard.
            let lower = body.to_lowercase();
            assert_eq!(
                lower.matches("://").count(),
                lower.matches(&format!("{DASHBOARD}/findings/")).count(),
                "{body}"
            );
            assert!(!lower.contains("www."), "{body}");
            assert!(!body.contains(['\r', '\0']), "{body:?}");
        }
    }
}

#[test]
fn hostile_text_arrives_inert_on_pagerduty() {
    let rec = Recorder::start();
    for lang in [None, Some("ja")] {
        let ch = channel(Kind::PagerDuty, &rec, lang);
        for h in hostile() {
            for m in hostile_messages(&h) {
                let sent = ch.send(&m).unwrap();
                let got = rec.take();
                match &m {
                    // The summary and actions are not sent; a digest is an event
                    // per finding.
                    Outgoing::Summary(_) => assert!(got.is_empty(), "{sent:?}"),
                    Outgoing::One(n) if matches!(n.kind, NoticeKind::Action { .. }) => {
                        assert!(got.is_empty(), "{sent:?}")
                    }
                    Outgoing::Digest(d) => assert_eq!(got.len(), d.held.len()),
                    Outgoing::One(_) => assert_eq!(got.len(), 1),
                }
                for r in got {
                    check_pagerduty(&r);
                }
            }
        }
    }
}

/// What `docs/notifications.md` shows for each channel: the demo finding, new, with
/// a dashboard; Chatwork in Japanese.
const DOCS: [(Kind, Option<&str>); 4] = [
    (Kind::Slack, None),
    (Kind::Teams, None),
    (Kind::Chatwork, Some("ja")),
    (Kind::PagerDuty, None),
];

fn demo_payload(rec: &Recorder, kind: Kind, lang: Option<&str>) -> String {
    let r = &deliver(kind, rec, lang, &notice(NoticeKind::New, demo()))[0];
    if kind == Kind::Chatwork {
        chatwork_body(r)
    } else {
        serde_json::to_string_pretty(&r.json()).unwrap()
    }
}

#[test]
fn docs_show_what_the_demo_finding_produces() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/notifications.md"
    ))
    .expect("docs/notifications.md");
    let rec = Recorder::start();
    for (kind, lang) in DOCS {
        let p = demo_payload(&rec, kind, lang);
        assert!(
            docs.contains(&p),
            "docs/notifications.md does not show what {kind:?} sends now; paste it from \
             `cargo test -p keibi-notify --test channels -- --ignored demo_payloads --nocapture`:\n{p}"
        );
    }
}

/// Prints the payloads `docs/notifications.md` shows: `cargo test -p keibi-notify
/// --test channels -- --ignored demo_payloads --nocapture`.
#[test]
#[ignore]
fn demo_payloads() {
    let rec = Recorder::start();
    for (kind, lang) in DOCS {
        println!("===== {kind:?}");
        println!("{}", demo_payload(&rec, kind, lang));
    }
}
