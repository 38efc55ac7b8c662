//! PagerDuty Events API v2: `POST /v2/enqueue`. A new, reopened, raised, still
//! going or test notice triggers an alert whose `dedup_key` is the finding id, so
//! PagerDuty folds every later trigger of the same finding into the open incident
//! (and a retried delivery is no second page); a resolved finding resolves it with
//! the same key.
//!
//! PagerDuty pages per finding: a digest sends each notice it lists as its own
//! event (still one alert per finding), and the daily summary is not sent (it is
//! nothing to page anyone about). Notices of actions are not sent either: the
//! finding they act on paged already, and an action is no new incident (the chat,
//! email and webhook channels carry them).
//!
//! PagerDuty shows its fields as text, and forwards the summary to SMS, phone and
//! push: attacker-written text is put on one line, a zero-width space breaks
//! `scheme://` and `www.` so no client makes a link of them, and every field is cut
//! by characters to PagerDuty's bounds (summary 1,024).

use serde_json::{json, Map, Value};

use keibi_model::SeverityLabel;

use super::chat::{self, Pieces, READ_AT_MOST, ZWSP};
use super::{BuildError, ChannelSpec, PagerDutySpec};
use crate::notice::{Notice, NoticeKind, Outgoing};
use crate::text::{facts, one_line, Style};
use crate::{Channel, SendError, Sent};

pub const DEFAULT_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// PagerDuty's documented bound on `payload.summary`.
pub const SUMMARY_MAX: usize = 1024;
/// keibi's bounds on the other fields (the whole event must stay under 512 KB).
pub const FIELD_MAX: usize = 255;
pub const DETAIL_MAX: usize = 1000;
pub const DESCRIPTION_MAX: usize = 5000;
pub const STEPS_MAX: usize = 20;

/// What a notice of an action answers: nothing went to PagerDuty.
pub const NOT_SENT_ACTION: &str = "not sent: PagerDuty pages per finding, not per action";

pub struct PagerDuty {
    name: String,
    url: String,
    routing_key: String,
    style: Style,
}

pub fn build(
    spec: &ChannelSpec,
    s: &PagerDutySpec,
    style: &Style,
) -> Result<PagerDuty, BuildError> {
    let routing_key = chat::reveal(spec, &s.routing_key)?;
    let url = s.url.clone().unwrap_or_else(|| DEFAULT_URL.to_string());
    chat::check_url(spec, &url)?;
    Ok(PagerDuty {
        name: spec.name.clone(),
        url,
        routing_key,
        style: chat::style_for(spec, style)?,
    })
}

impl Channel for PagerDuty {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        match msg {
            Outgoing::One(n) if matches!(n.kind, NoticeKind::Action { .. }) => Ok(Sent {
                detail: NOT_SENT_ACTION.into(),
            }),
            Outgoing::One(n) => self.post(n),
            Outgoing::Digest(d) => {
                let mut last = Sent {
                    detail: "nothing held".into(),
                };
                for n in d
                    .held
                    .iter()
                    .filter(|n| !matches!(n.kind, NoticeKind::Action { .. }))
                    .take(chat::LISTED)
                {
                    last = self.post(n)?;
                }
                Ok(last)
            }
            Outgoing::Summary(_) => Ok(Sent {
                detail: "not sent: PagerDuty pages per finding".into(),
            }),
        }
    }
}

impl PagerDuty {
    fn post(&self, n: &Notice) -> Result<Sent, SendError> {
        let body = event(n, &self.routing_key, &self.style);
        crate::http::post(
            &self.url,
            "application/json",
            &[],
            serde_json::to_vec(&body).unwrap_or_default(),
        )
    }
}

/// PagerDuty's severity for a label.
pub fn severity(label: SeverityLabel) -> &'static str {
    match label {
        SeverityLabel::Critical => "critical",
        SeverityLabel::High => "error",
        SeverityLabel::Medium => "warning",
        SeverityLabel::Low => "info",
    }
}

/// The event for one notice.
pub fn event(n: &Notice, routing_key: &str, style: &Style) -> Value {
    let f = &n.finding;
    let dedup_key = clip_plain(&f.id, FIELD_MAX);
    if matches!(n.kind, NoticeKind::Resolved { .. }) {
        return json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup_key,
        });
    }
    let loc = &style.locale;
    let fx = facts(n, style);
    let mut details = Map::new();
    details.insert("change".into(), inert(&fx.change, DETAIL_MAX).into());
    details.insert(
        "severity".into(),
        format!("{} {}", fx.label_text, fx.severity).into(),
    );
    let keys = [
        ("notify-what", "what"),
        ("notify-where", "where"),
        ("notify-who", "who"),
        ("notify-when", "when"),
        ("notify-count", "count"),
    ];
    for (label, value) in &fx.lines {
        if let Some((_, key)) = keys.iter().find(|(id, _)| loc.text(id) == *label) {
            details.insert((*key).into(), inert(value, DETAIL_MAX).into());
        }
    }
    details.insert(
        "description".into(),
        inert(&fx.description, DESCRIPTION_MAX).into(),
    );
    details.insert(
        "remediation".into(),
        fx.steps
            .iter()
            .take(STEPS_MAX)
            .map(|s| Value::from(inert(s, DETAIL_MAX)))
            .collect::<Vec<_>>()
            .into(),
    );
    details.insert("finding_id".into(), dedup_key.clone().into());
    details.insert("notice".into(), n.kind.as_str().into());
    let mut payload = json!({
        "summary": inert(
            &format!("[{} {}] {} — {}", fx.label_text, fx.severity, fx.headline, fx.change),
            SUMMARY_MAX,
        ),
        "source": inert(&f.resource.id, FIELD_MAX),
        "severity": severity(fx.label),
        "timestamp": f.last_seen.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "component": inert(&f.resource.kind, FIELD_MAX),
        "class": inert(&f.finding_type, FIELD_MAX),
        "custom_details": details,
    });
    if let Some(account) = &f.resource.account {
        payload["group"] = inert(account, FIELD_MAX).into();
    }
    let mut ev = json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "client": "keibi",
        "payload": payload,
    });
    if let Some(link) = fx.link {
        ev["client_url"] = link.clone().into();
        ev["links"] = json!([{"href": link, "text": loc.text("notify-link")}]);
    }
    ev
}

fn clip_plain(s: &str, max: usize) -> String {
    crate::text::clip(&one_line(s), max, "…")
}

/// `s` on one line, links broken, at most `max` characters.
pub fn inert(s: &str, max: usize) -> String {
    let one = one_line(s);
    let chars: Vec<char> = one.chars().take(READ_AT_MOST).collect();
    let mut p = Pieces::default();
    let mut piece = String::new();
    for (i, &c) in chars.iter().enumerate() {
        piece.clear();
        piece.push(c);
        if chat::starts_link(&chars[..i], c, chars.get(i + 1).copied()) {
            piece.push(ZWSP);
        }
        p.push(&piece);
    }
    p.fit(max, "…")
}
