//! Amazon SNS publish, a notification channel (`type: sns` in `notify.channels`).
//!
//! Each message is one `Publish` to the topic: the plain-text words of the email
//! channel as the message (at most 256 KB, clipped without splitting a character),
//! a Subject (what email subscriptions show: SNS wants it ASCII, one line, under 100
//! characters, so it is the English subject with anything else replaced and
//! clipped), and message attributes a subscription's filter policy can match:
//! `severity` (a Number: `{"severity": [{"numeric": [">=", 7]}]}`), `severity_label`,
//! `type`, `finding_id`, `notice` (`new`, `resolved`, `digest` ...) and `delivery`
//! (the outbox key). A FIFO topic (`.fifo`) gets the outbox key as its
//! deduplication id, so a message sent again after a crash is delivered once.

use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::MessageAttributeValue;
use keibi_i18n::{Lang, Locale};
use keibi_model::SeverityLabel;
use keibi_notify::channels::email;
use keibi_notify::channels::{BuildError, ChannelSpec, SnsSpec, TIMEOUT};
use keibi_notify::text::{clip, clip_bytes, one_line, Style};
use keibi_notify::{Channel, Outgoing, SendError, Sent};

/// SNS refuses a Subject of 100 characters or more.
pub const SUBJECT_MAX: usize = 99;
/// SNS's limit for a message with its attributes is 256 KiB; the attributes here
/// take well under 6 KiB.
pub const MESSAGE_MAX_BYTES: usize = 256 * 1024 - 6 * 1024;
/// The answer shown in errors, at most.
const ANSWER_MAX: usize = 300;

/// An SNS channel: its client and the runtime its publishes run on.
pub struct SnsChannel {
    name: String,
    style: Style,
    topic_arn: String,
    fifo: bool,
    client: aws_sdk_sns::Client,
    rt: tokio::runtime::Runtime,
}

/// Builds an SNS channel: the `MakeSns` hook of `keibi_notify::channels::build`.
pub fn build(
    spec: &ChannelSpec,
    sns: &SnsSpec,
    style: &Style,
) -> Result<Box<dyn Channel>, BuildError> {
    Ok(Box::new(SnsChannel::new(spec, sns, style)?))
}

/// The region of a topic ARN (`arn:aws:sns:REGION:ACCOUNT:NAME`).
pub fn region_of(topic_arn: &str) -> Option<&str> {
    let mut parts = topic_arn.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("sns"), Some(region)) if !region.is_empty() => Some(region),
        _ => None,
    }
}

impl SnsChannel {
    /// The region is `region` when set, else the topic ARN's; the endpoint
    /// `endpoint_url` when set (moto, a VPC endpoint), else SNS's; credentials come
    /// from the standard chain when the first message is sent.
    pub fn new(spec: &ChannelSpec, sns: &SnsSpec, style: &Style) -> Result<Self, BuildError> {
        let invalid = |reason: String| BuildError::Invalid {
            name: spec.name.clone(),
            reason,
        };
        let topic_arn = sns.topic_arn.trim().to_string();
        let Some(arn_region) = region_of(&topic_arn) else {
            return Err(invalid(format!(
                "topic_arn {:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)",
                clip(&one_line(&topic_arn), 200, "…")
            )));
        };
        let region = sns.region.clone().unwrap_or_else(|| arn_region.to_string());
        let rt = crate::config::runtime()
            .map_err(|e| invalid(format!("cannot start the AWS client's runtime: {e}")))?;
        let conf = rt.block_on(crate::config::load(
            Some(region),
            sns.endpoint_url.clone(),
            TIMEOUT,
        ));
        Ok(SnsChannel {
            name: spec.name.clone(),
            style: style.clone(),
            fifo: topic_arn.ends_with(".fifo"),
            topic_arn,
            client: aws_sdk_sns::Client::new(&conf),
            rt,
        })
    }
}

/// What one publish carries, before it goes out (pure: for tests and docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    pub subject: String,
    pub message: String,
    /// Name, SNS data type (`String`, `Number`), value.
    pub attributes: Vec<(&'static str, &'static str, String)>,
    /// For FIFO topics: the message group and the deduplication id.
    pub group: String,
    pub dedup: String,
}

/// The publish for a message, in the style's locale (the Subject in English).
pub fn publish(msg: &Outgoing, style: &Style) -> Publish {
    let mail = email::render(msg, style);
    let english = Style {
        locale: Locale::new(Lang::En, style.locale.zone.clone()),
        dashboard_url: style.dashboard_url.clone(),
    };
    let subject = ascii_subject(&email::render(msg, &english).subject);
    let message = clip_bytes(
        &mail.text,
        MESSAGE_MAX_BYTES,
        &style.locale.text("notify-truncated"),
    );
    let mut attributes = Vec::new();
    let attr = |s: &str| clip(&one_line(s), 256, "…");
    let (notice, group) =
        match msg {
            Outgoing::One(n) => {
                let f = &n.finding;
                attributes.push(("severity", "Number", f.severity.to_string()));
                attributes.push(("severity_label", "String", label(f.severity.label())));
                attributes.push(("type", "String", attr(&f.finding_type)));
                attributes.push(("finding_id", "String", attr(&f.id)));
                (n.kind.as_str(), attr(&f.id))
            }
            Outgoing::Digest(d) => {
                if let Some(worst) = d.held.iter().map(|n| n.finding.severity).reduce(|a, b| {
                    if b.value() > a.value() {
                        b
                    } else {
                        a
                    }
                }) {
                    attributes.push(("severity", "Number", worst.to_string()));
                    attributes.push(("severity_label", "String", label(worst.label())));
                }
                ("digest", "keibi".to_string())
            }
            Outgoing::Summary(s) => {
                if let Some(worst) = s.open.iter().map(|f| f.severity).reduce(|a, b| {
                    if b.value() > a.value() {
                        b
                    } else {
                        a
                    }
                }) {
                    attributes.push(("severity", "Number", worst.to_string()));
                    attributes.push(("severity_label", "String", label(worst.label())));
                }
                ("summary", "keibi".to_string())
            }
        };
    attributes.push(("notice", "String", notice.to_string()));
    attributes.push(("delivery", "String", attr(msg.key())));
    Publish {
        subject,
        message,
        attributes,
        group: if group.is_empty() {
            "keibi".into()
        } else {
            group
        },
        dedup: dedup_id(msg.key()),
    }
}

fn label(l: SeverityLabel) -> String {
    l.as_str().to_string()
}

/// SNS's Subject: printable ASCII on one line, under 100 characters. Control and
/// line-breaking characters become spaces, other non-ASCII characters `?`.
pub fn ascii_subject(s: &str) -> String {
    let ascii: String = one_line(s)
        .chars()
        .map(|c| match c {
            ' '..='~' => c,
            c if c.is_whitespace() => ' ',
            _ => '?',
        })
        .collect();
    let ascii = ascii.trim();
    if ascii.is_empty() {
        return "[keibi]".into();
    }
    clip(ascii, SUBJECT_MAX, "...")
}

/// A FIFO deduplication id: up to 128 characters of letters, digits and
/// punctuation; the outbox key with anything else hex-escaped.
fn dedup_id(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push_str("keibi");
    }
    if out.len() > 128 {
        // Long keys keep their end, where the sequence number is.
        out = out[out.len() - 128..].to_string();
    }
    out
}

impl Channel for SnsChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        let p = publish(msg, &self.style);
        let mut req = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(p.subject)
            .message(p.message);
        for (name, kind, value) in p.attributes {
            let v = MessageAttributeValue::builder()
                .data_type(kind)
                .string_value(value)
                .build()
                .map_err(|e| SendError::Permanent {
                    reason: format!("SNS attribute {name}: {e}"),
                })?;
            req = req.message_attributes(name, v);
        }
        if self.fifo {
            req = req
                .message_group_id(p.group)
                .message_deduplication_id(p.dedup);
        }
        let sent = self.rt.block_on(req.send());
        // Counted once per publish: the SDK retries on its own, out of sight, and
        // its answer's size is not exposed (an SNS answer is a few hundred bytes).
        crate::usage::global().record("sns", "Publish", 0, sent.is_err(), 0);
        match sent {
            Ok(out) => Ok(Sent {
                detail: format!(
                    "SNS message {}",
                    clip(&one_line(out.message_id().unwrap_or("?")), 100, "…")
                ),
            }),
            Err(e) => Err(classify(&e)),
        }
    }
}

/// Throttling, SNS's 5xx, time-outs and network failures are transient; a refusal
/// (no such topic, not authorized, an invalid parameter) is permanent. Missing or
/// expired credentials are transient: an instance role or a rotated key may come.
fn classify<E, R>(e: &SdkError<E, R>) -> SendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let text = clip(
        &one_line(&format!("SNS: {}", DisplayErrorContext(e))),
        ANSWER_MAX,
        "…",
    );
    let transient = |reason: String| SendError::Transient {
        reason,
        retry_after: None,
    };
    match e {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().unwrap_or("");
            let throttled = matches!(
                code,
                "Throttled" | "Throttling" | "ThrottlingException" | "KMSThrottling"
            );
            if throttled || code == "InternalError" || code.ends_with("Unavailable") {
                transient(text)
            } else {
                SendError::Permanent { reason: text }
            }
        }
        SdkError::ConstructionFailure(_) => SendError::Permanent { reason: text },
        _ => transient(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_short_ascii_lines() {
        let s = ascii_subject("[keibi] High Login as 警備\r\nBcc: x@example.com 😀");
        assert_eq!(s, "[keibi] High Login as ??  Bcc: x@example.com ?");
        let long = ascii_subject(&"a".repeat(500));
        assert_eq!(long.len(), SUBJECT_MAX);
        assert!(long.ends_with("..."));
        assert_eq!(ascii_subject("\u{202e}\n"), "[keibi]");
    }

    #[test]
    fn topic_regions_and_dedup_ids() {
        assert_eq!(
            region_of("arn:aws:sns:ap-northeast-1:123456789012:keibi"),
            Some("ap-northeast-1")
        );
        assert_eq!(region_of("keibi"), None);
        assert_eq!(dedup_id("outbox-42"), "outbox-42");
        assert_eq!(dedup_id("a b%"), "a%20b%25");
        assert_eq!(dedup_id(&"x".repeat(300)).len(), 128);
    }
}
