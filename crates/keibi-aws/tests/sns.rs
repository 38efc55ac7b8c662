//! The SNS channel against moto server (PyPI), started by each test on a free
//! loopback port: a topic with two SQS queues subscribed (one through a filter
//! policy on the `severity` attribute) and a FIFO topic, made and read by
//! `tests/data/moto_sns.py` with boto3. Checks that what keibi publishes arrives:
//! Subject, message and attributes, hostile strings inert (the Subject one short
//! ASCII line), and which failures are retried.
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh).

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use keibi_i18n::{DisplayZone, Lang, Locale};
use keibi_model::Severity;
use keibi_notify::channels::{self, ChannelKind, ChannelSpec, SnsSpec};
use keibi_notify::text::Style;
use keibi_notify::{Channel, Notice, NoticeKind, Outgoing};
use serde_json::Value;

use common::{free_port, python_with, Service};

/// Credentials for moto, through the standard chain's environment variables (set
/// before any client reads them; nextest runs each test in its own process).
fn fake_credentials() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_PROFILE");
    });
}

struct Moto {
    _svc: Service,
    python: PathBuf,
    endpoint: String,
    setup: Value,
}

fn moto() -> Option<Moto> {
    let python = python_with("moto")?;
    let port = free_port();
    let server = python.with_file_name("moto_server");
    let mut cmd = Command::new(&server);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let svc = Service::start(cmd, port, "Running on", "moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let out = helper(&python, &["setup", &endpoint]);
    Some(Moto {
        _svc: svc,
        python,
        endpoint,
        setup: serde_json::from_str(&out).expect("setup JSON"),
    })
}

fn helper(python: &Path, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/moto_sns.py");
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("run moto_sns.py");
    assert!(
        out.status.success(),
        "moto_sns.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 JSON")
}

impl Moto {
    /// The SNS envelopes waiting in a queue (`all`, `critical`, `fifo`), taken.
    fn read(&self, queue: &str) -> Vec<Value> {
        let url = self.setup[queue].as_str().expect("queue URL");
        serde_json::from_str(&helper(&self.python, &["read", &self.endpoint, url]))
            .expect("messages JSON")
    }

    fn channel(&self, topic: &str, lang: Lang) -> Box<dyn Channel> {
        fake_credentials();
        let spec = ChannelSpec {
            name: "ops-sns".into(),
            lang: None,
            rate_limit: 30,
            kind: ChannelKind::Sns(SnsSpec {
                topic_arn: self.setup[topic].as_str().unwrap().to_string(),
                region: None,
                endpoint_url: Some(self.endpoint.clone()),
            }),
        };
        channels::build(&spec, &style(lang), Some(&keibi_aws::sns::build))
            .expect("build the SNS channel")
    }
}

fn style(lang: Lang) -> Style {
    Style {
        locale: Locale::new(lang, DisplayZone::utc()),
        dashboard_url: Some("https://keibi.example.com".into()),
    }
}

fn notice(f: keibi_model::Finding, key: &str) -> Outgoing {
    let at = f.last_seen;
    Outgoing::One(Box::new(Notice {
        key: key.into(),
        kind: NoticeKind::New,
        finding: f,
        at,
    }))
}

fn attr<'a>(m: &'a Value, name: &str) -> (&'a str, &'a str) {
    let a = &m["MessageAttributes"][name];
    (
        a["Type"]
            .as_str()
            .unwrap_or_else(|| panic!("no attribute {name}: {m}")),
        a["Value"].as_str().unwrap_or(""),
    )
}

#[test]
fn a_finding_arrives_with_subject_message_and_filterable_attributes() {
    let Some(moto) = moto() else {
        return;
    };
    let ch = moto.channel("topic_arn", Lang::En);
    let msg = notice(common::demo_finding(), "outbox-41");
    let sent = ch.send(&msg).expect("published");
    assert!(sent.detail.starts_with("SNS message "), "{sent:?}");
    // Counted in the process's usage (other tests of this file may publish too).
    let counted = keibi_aws::usage::global().get("sns", "Publish");
    assert!(counted.requests >= 1, "{counted:?}");

    let got = moto.read("all");
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m["Type"], "Notification");
    assert_eq!(m["TopicArn"], moto.setup["topic_arn"]);
    assert_eq!(
        m["Subject"],
        "[keibi] High Login as postgres on shop-postgres from 198.51.100.23 after a brute force"
    );
    let want = keibi_aws::sns::publish(&msg, &style(Lang::En));
    assert_eq!(m["Message"].as_str(), Some(want.message.as_str()));
    let text = want.message.as_str();
    assert!(
        text.starts_with("[High 8.0]\nLogin as postgres on shop-postgres"),
        "{text}"
    );
    assert!(text.contains("What to do now\n1. Now: change the password of postgres"));
    assert_eq!(attr(m, "severity"), ("Number", "8.0"));
    assert_eq!(attr(m, "severity_label"), ("String", "High"));
    assert_eq!(
        attr(m, "type"),
        (
            "String",
            "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce"
        )
    );
    assert_eq!(
        attr(m, "finding_id"),
        ("String", "b2854deb6cf362f2096c8565616f70ee")
    );
    assert_eq!(attr(m, "notice"), ("String", "new"));
    assert_eq!(attr(m, "delivery"), ("String", "outbox-41"));

    // The subscription filtered on severity >= 9 heard nothing of an 8.0 ...
    assert_eq!(moto.read("critical").len(), 0);
    // ... and hears of a Critical one.
    let mut f = common::demo_finding();
    f.severity = Severity::new(9.5);
    ch.send(&notice(f, "outbox-42")).expect("published");
    let critical = moto.read("critical");
    assert_eq!(critical.len(), 1);
    assert!(critical[0]["Subject"]
        .as_str()
        .unwrap()
        .starts_with("[keibi] Critical "));
    assert_eq!(moto.read("all").len(), 1);
}

#[test]
fn hostile_strings_and_japanese_arrive_inert_with_an_ascii_subject() {
    let Some(moto) = moto() else {
        return;
    };
    let ch = moto.channel("topic_arn", Lang::En);
    let hostile = common::hostile();
    for (i, s) in hostile.iter().enumerate() {
        let mut f = common::demo_finding();
        f.actor.user = Some(s.clone());
        f.actor.app = Some(s.clone());
        f.resource.id = s.clone();
        f.title = format!("Login as {s} on shop-postgres after a brute force");
        f.description = format!("It ran: SELECT '{s}';\nthen {s}");
        let msg = notice(f, &format!("h{i}"));
        ch.send(&msg)
            .unwrap_or_else(|e| panic!("{:?}: {e}", s.chars().take(30).collect::<String>()));
        let got = moto.read("all");
        assert_eq!(got.len(), 1);
        let subject = got[0]["Subject"].as_str().unwrap();
        assert!(
            subject.len() < 100
                && subject.starts_with("[keibi] High Login as ")
                && subject.chars().all(|c| (' '..='~').contains(&c)),
            "subject {subject:?}"
        );
        let message = got[0]["Message"].as_str().unwrap();
        assert_eq!(
            message,
            keibi_aws::sns::publish(&msg, &style(Lang::En)).message
        );
        assert!(message.len() <= keibi_aws::sns::MESSAGE_MAX_BYTES);
        assert!(!message.contains(['\0', '\r', '\u{202e}']), "{i}");
        let head: String = keibi_notify::text::one_line(s).chars().take(40).collect();
        assert!(message.contains(&head), "{i}: the value does not arrive");
    }

    // Japanese: the message in Japanese, the Subject still ASCII (SNS requires it).
    let ja = moto.channel("topic_arn", Lang::Ja);
    let mut f = common::demo_finding();
    f.actor.user = Some("警備太郎".into());
    f.title = "Login as 警備太郎 on shop-postgres after a brute force".into();
    ja.send(&notice(f, "ja-1")).expect("published");
    let got = moto.read("all");
    let subject = got[0]["Subject"].as_str().unwrap();
    assert_eq!(
        subject,
        "[keibi] High Login as ???? on shop-postgres after a brute force"
    );
    let message = got[0]["Message"].as_str().unwrap();
    assert!(
        message.starts_with("[高 8.0]") && message.contains("警備太郎"),
        "{message}"
    );
}

#[test]
fn fifo_topics_deduplicate_and_failures_say_whether_to_retry() {
    let Some(moto) = moto() else {
        return;
    };
    // A FIFO topic: the same outbox key twice (a crash between send and commit)
    // is delivered once.
    let fifo = moto.channel("fifo_topic_arn", Lang::En);
    let msg = notice(common::demo_finding(), "outbox-7");
    fifo.send(&msg).expect("published");
    fifo.send(&msg).expect("published again");
    fifo.send(&notice(common::demo_finding(), "outbox-8"))
        .expect("published");
    let got = moto.read("fifo");
    let keys: Vec<&str> = got
        .iter()
        .map(|m| {
            m["MessageAttributes"]["delivery"]["Value"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(keys, ["outbox-7", "outbox-8"]);

    // No such topic: refused for good.
    fake_credentials();
    let spec = |arn: &str, endpoint: String| ChannelSpec {
        name: "ops-sns".into(),
        lang: None,
        rate_limit: 30,
        kind: ChannelKind::Sns(SnsSpec {
            topic_arn: arn.into(),
            region: None,
            endpoint_url: Some(endpoint),
        }),
    };
    let missing = channels::build(
        &spec(
            "arn:aws:sns:ap-northeast-1:123456789012:no-such-topic",
            moto.endpoint.clone(),
        ),
        &style(Lang::En),
        Some(&keibi_aws::sns::build),
    )
    .unwrap();
    let e = missing.send(&msg).unwrap_err();
    assert!(!e.is_transient(), "{e}");

    // SNS unreachable: retried later.
    let down = channels::build(
        &spec(
            moto.setup["topic_arn"].as_str().unwrap(),
            format!("http://127.0.0.1:{}", free_port()),
        ),
        &style(Lang::En),
        Some(&keibi_aws::sns::build),
    )
    .unwrap();
    let e = down.send(&msg).unwrap_err();
    assert!(e.is_transient(), "{e}");

    // Not a topic ARN: refused when the settings are read.
    let bad = channels::build(
        &spec("keibi-alerts", moto.endpoint.clone()),
        &style(Lang::En),
        Some(&keibi_aws::sns::build),
    );
    assert!(bad.is_err());
}
