//! Notices of actions on every channel: for each state a person hears of, the
//! message says what keibi did (or would do, waits to do, could not do, undid) in
//! its headline, in English and Japanese, then the finding; the webhook carries the
//! action as JSON; PagerDuty sends nothing. (Hostile names in actions are in
//! `channels.rs`'s hostile tests.)

mod recorder;

use chrono::{TimeZone, Utc};
use keibi_i18n::{DisplayZone, Lang, Locale};
use keibi_model::Finding;
use keibi_notify::channels::{
    self, chatwork, email, slack, teams, webhook, ChannelKind, ChannelSpec, PagerDutySpec,
};
use keibi_notify::text::Style;
use keibi_notify::{Notice, NoticeKind, Outgoing, Secret};
use keibi_respond::{Action, Mode, Place, State, Target};
use recorder::Recorder;
use serde_json::Value;

fn demo() -> Finding {
    serde_json::from_str(include_str!("data/demo/brute-force.json")).expect("demo finding")
}

fn style(lang: Lang) -> Style {
    Style {
        locale: Locale::new(lang, DisplayZone::utc()),
        dashboard_url: Some("https://keibi.example.com".into()),
    }
}

fn action(state: State, mode: Mode) -> Action {
    let t = Utc.with_ymd_and_hms(2026, 12, 6, 3, 11, 0).unwrap();
    Action {
        id: "1a2b3c4d5e6f7081".into(),
        finding_id: demo().id,
        finding_type: demo().finding_type,
        target: Target::BlockAddress {
            address: "203.0.113.9/32".parse().unwrap(),
            instance: Some("prod-db".into()),
            place: Place::default(),
        },
        mode,
        state,
        rule: "brute-force".into(),
        reason: (state == State::Failed).then(|| "AccessDenied on ReplaceNetworkAclEntry".into()),
        expire_after_secs: Some(86_400),
        expires_at: (state == State::Executed)
            .then(|| Utc.with_ymd_and_hms(2026, 12, 7, 3, 0, 0).unwrap()),
        created_at: t,
        updated_at: t,
        attempts: 1,
        next_at: None,
        executor: Some("aws-nacl".into()),
        prior: None,
        done: None,
        by: (state == State::Undone).then(|| "kim".into()),
    }
}

fn msg(a: &Action) -> Outgoing {
    Outgoing::One(Box::new(Notice {
        key: "outbox-7".into(),
        kind: NoticeKind::Action {
            action: Box::new(a.clone()),
        },
        finding: demo(),
        at: Utc.with_ymd_and_hms(2026, 12, 6, 3, 12, 0).unwrap(),
    }))
}

/// Each notified state with its English and Japanese headline.
fn cases() -> Vec<(Action, &'static str, &'static str)> {
    vec![
        (
            action(State::Planned, Mode::Approve),
            "Awaiting approval: keibi would block 203.0.113.9 at the network ACL of prod-db — run keibi actions approve 1a2b3c4d",
            "承認待ち: keibi は prod-db のネットワーク ACL で 203.0.113.9 をブロックします。keibi actions approve 1a2b3c4d で承認してください",
        ),
        (
            action(State::Simulated, Mode::Simulate),
            "Simulated: keibi would block 203.0.113.9 at the network ACL of prod-db (nothing was changed)",
            "シミュレーション: keibi は prod-db のネットワーク ACL で 203.0.113.9 をブロックします (何も変更していません)",
        ),
        (
            action(State::Executed, Mode::Auto),
            "keibi blocked 203.0.113.9 at the network ACL of prod-db until 2026-12-07 03:00 UTC",
            "keibi が prod-db のネットワーク ACL で 203.0.113.9 をブロックしました (2026-12-07 03:00 UTC まで)",
        ),
        (
            action(State::Failed, Mode::Auto),
            "Failed: keibi could not block 203.0.113.9 at the network ACL of prod-db",
            "失敗: keibi は prod-db のネットワーク ACL で 203.0.113.9 をブロックできませんでした",
        ),
        (
            action(State::Undone, Mode::Auto),
            "Undone by kim: keibi reverted what it did (blocked 203.0.113.9 at the network ACL of prod-db)",
            "取り消し: kim の操作で、keibi が prod-db のネットワーク ACL で 203.0.113.9 をブロックしたことを元に戻しました",
        ),
        (
            action(State::Expired, Mode::Auto),
            "Expired: keibi reverted what it did (blocked 203.0.113.9 at the network ACL of prod-db) at its expiry",
            "期限切れ: keibi が prod-db のネットワーク ACL で 203.0.113.9 をブロックしたことを期限により元に戻しました",
        ),
        (
            action(State::Skipped, Mode::Auto),
            "Skipped: keibi did not block 203.0.113.9 at the network ACL of prod-db",
            "見送り: keibi は prod-db のネットワーク ACL で 203.0.113.9 をブロックしませんでした",
        ),
    ]
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[test]
fn every_channel_says_what_keibi_did_then_the_finding() {
    let finding_title = demo().title;
    for (a, en, ja) in cases() {
        for (lang, headline) in [(Lang::En, en), (Lang::Ja, ja)] {
            let st = style(lang);
            let m = msg(&a);

            let v = slack::payload(&m, &st);
            assert_eq!(v["attachments"][0]["blocks"][0]["type"], "header");
            let header = v["attachments"][0]["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap();
            // Slack's header holds 150 characters: the start of the headline.
            let cut: String = headline.chars().take(100).collect();
            assert!(header.starts_with(&cut), "{lang} {}: {header}", a.state);
            let green = v["attachments"][0]["color"] == "#2eb67d";
            assert_eq!(
                green,
                matches!(a.state, State::Undone | State::Expired),
                "{}",
                a.state
            );
            let mut all = Vec::new();
            strings(&v, &mut all);
            assert!(
                all.iter()
                    .any(|s| s.contains("keibi actions show 1a2b3c4d")),
                "the commands are there: {all:?}"
            );

            let v = teams::payload(&m, &st);
            let mut all = Vec::new();
            strings(&v, &mut all);
            let start: String = headline.chars().take(20).collect();
            assert!(all.iter().any(|s| s.contains(&start)), "{lang}: {all:?}");

            let c = chatwork::message(&m, &st);
            assert!(c.contains(headline), "{lang}: {c}");
            if lang == Lang::En {
                assert!(c.contains(&finding_title), "the finding follows: {c}");
            }

            let mail = email::render(&m, &st);
            assert_eq!(
                mail.subject,
                email::subject_line(&format!("[keibi] {headline}")),
                "{lang}"
            );
            assert!(mail.text.contains(headline), "{}", mail.text);
            assert!(mail.html.contains("1a2b3c4d5e6f7081"), "the action's id");
        }
        // The webhook: the action as the journal holds it, with the finding.
        let m = msg(&a);
        let body: Value = serde_json::from_slice(&webhook::body(
            &m,
            Utc.with_ymd_and_hms(2026, 12, 6, 3, 13, 0).unwrap(),
        ))
        .unwrap();
        assert_eq!(body["event"], "action");
        assert_eq!(webhook::event(&m), "action");
        let back: Action = serde_json::from_value(body["action"].clone()).unwrap();
        assert_eq!(back, a);
        assert_eq!(body["finding"]["id"], demo().id);
        assert_eq!(body["changed_at"], "2026-12-06T03:12:00Z");
    }
}

#[test]
fn pagerduty_sends_nothing_for_an_action() {
    let rec = Recorder::start();
    let spec = ChannelSpec {
        name: "pd".into(),
        lang: None,
        rate_limit: 0,
        kind: ChannelKind::Pagerduty(PagerDutySpec {
            routing_key: Secret::Value("R0123456789abcdef0123456789abcde".into()),
            url: Some(rec.url("/v2/enqueue")),
        }),
    };
    let ch = channels::build(&spec, &style(Lang::En), None).unwrap();
    for (a, _, _) in cases() {
        let sent = ch.send(&msg(&a)).unwrap();
        assert!(sent.detail.starts_with("not sent"), "{}", sent.detail);
    }
    assert!(rec.take().is_empty());
}
