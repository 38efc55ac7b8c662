use super::*;
use std::collections::BTreeMap;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().into()
}

fn tokyo() -> Locale {
    Locale::new(Lang::Ja, DisplayZone::named("Asia/Tokyo").unwrap())
}

/// The catalog-completeness test: both languages parse, have the same ids, and each
/// message uses the same variables in both (a language may leave out a variable the
/// other needs only when it is listed here with the reason).
#[test]
fn both_catalogs_parse_and_have_the_same_messages_and_variables() {
    // (id, variable): used in one language only, on purpose.
    const ONE_SIDED: &[(&str, &str)] = &[
        // English never names the zone in an hour range (its times say UTC).
        ("hours-range", "zone"),
        // A Sigma rule's texts come from its file, one rendering a language.
        ("rule-text", "en"),
        ("rule-text", "ja"),
        // The activity findings' Japanese steps give the exact command (instance,
        // user, restore time); the English contract's steps stay as they were.
        ("mass-restore", "instance"),
        ("mass-restore", "restore"),
        ("ransom-close", "instance"),
        ("ransom-restore", "instance"),
        ("ransom-restore", "first"),
        ("ransom-restore", "restore"),
        ("enum-who", "user"),
        ("enum-who", "client"),
        ("enum-lock-pg", "user"),
        ("enum-lock-mysql", "user"),
        ("over-compromised-pg", "actor"),
        ("over-compromised-mysql", "actor"),
    ];
    for lang in Lang::ALL {
        assert_eq!(catalog::syntax_errors(lang), Vec::<String>::new(), "{lang}");
    }
    let en: BTreeMap<_, _> = catalog_ids(Lang::En).into_iter().collect();
    let ja: BTreeMap<_, _> = catalog_ids(Lang::Ja).into_iter().collect();
    assert_eq!(
        catalog_ids(Lang::En).len(),
        en.len(),
        "an id is defined twice in en"
    );
    assert_eq!(
        catalog_ids(Lang::Ja).len(),
        ja.len(),
        "an id is defined twice in ja"
    );
    let missing_ja: Vec<_> = en.keys().filter(|k| !ja.contains_key(*k)).collect();
    let missing_en: Vec<_> = ja.keys().filter(|k| !en.contains_key(*k)).collect();
    assert!(missing_ja.is_empty(), "missing in ja: {missing_ja:?}");
    assert!(missing_en.is_empty(), "missing in en: {missing_en:?}");
    for (id, vars_en) in &en {
        let vars_ja = &ja[id];
        for v in vars_en.iter().filter(|v| !vars_ja.contains(v)) {
            assert!(
                ONE_SIDED.contains(&(id.as_str(), v.as_str())),
                "{id}: ${v} is used in en but not in ja"
            );
        }
        for v in vars_ja.iter().filter(|v| !vars_en.contains(v)) {
            assert!(
                ONE_SIDED.contains(&(id.as_str(), v.as_str())),
                "{id}: ${v} is used in ja but not in en"
            );
        }
    }
}

#[test]
fn english_words_render_as_keibi_always_wrote_them() {
    let en = Locale::english_utc();
    let a = t("2026-11-28T15:41:43Z");
    assert_eq!(en.span(a, a), "under a second");
    assert_eq!(en.span(a, t("2026-11-28T15:41:44Z")), "1 second");
    assert_eq!(en.span(a, t("2026-11-28T15:42:25Z")), "42 seconds");
    assert_eq!(en.span(a, t("2026-11-28T15:49:43Z")), "8 minutes");
    assert_eq!(en.span(a, t("2026-11-28T17:46:43Z")), "2 h 05 min");
    assert_eq!(en.span(a, t("2026-12-01T19:41:43Z")), "3 days 4 h");
    assert_eq!(en.names(&["app"], 1, 5), "app");
    assert_eq!(en.names(&["app", "root"], 2, 5), "app and root");
    assert_eq!(en.names(&["a", "b", "c"], 3, 5), "a, b and c");
    assert_eq!(en.names(&["a", "b", "c"], 17, 2), "a, b and 15 more");
    assert_eq!(en.names::<&str>(&[], 0, 5), "unknown");
    assert_eq!(en.time(a, None), "2026-11-28 15:41:43 UTC");
    assert_eq!(en.time(t("2026-11-28T18:00:00Z"), Some(a)), "18:00:00");
    assert_eq!(
        en.render(&Msg::new("failed-logins").arg("count", 1u64)),
        "1 failed login"
    );
    assert_eq!(
        en.render(&Msg::new("failed-logins").arg("count", 1532u64)),
        "1,532 failed logins",
        "thousands separators, no isolation marks"
    );
}

#[test]
fn japanese_renders_in_the_display_zone_with_japanese_words() {
    let ja = tokyo();
    let a = t("2026-11-28T15:41:43Z");
    assert_eq!(ja.time(a, None), "2026-11-29 00:41:43 JST");
    // Same day in Tokyo (both after 15:00 UTC), though not in UTC.
    assert_eq!(ja.time(t("2026-11-28T23:00:00Z"), Some(a)), "08:00:00");
    assert_eq!(
        ja.time(t("2026-11-28T14:00:00Z"), Some(a)),
        "2026-11-28 23:00:00 JST",
        "another day in Tokyo"
    );
    assert_eq!(ja.span(a, t("2026-11-28T17:46:43Z")), "2時間05分");
    assert_eq!(ja.names(&["a", "b", "c"], 17, 2), "a、b ほか15件");
    assert_eq!(ja.names(&["a", "b", "c"], 3, 5), "a、b、c");
    assert_eq!(
        ja.render(&Msg::new("failed-logins").arg("count", 1532u64)),
        "ログイン失敗 1,532回"
    );
    // Usual hours learned in UTC (00:00-10:00 UTC) read as Tokyo office hours.
    assert_eq!(ja.hours(0, 10, a), "09:00〜19:00 JST");
    assert_eq!(
        Locale::english_utc().hours(0, 10, a),
        "00:00-10:00",
        "English keeps its UTC form"
    );
}

#[test]
fn a_missing_message_falls_back_and_never_panics() {
    let ja = tokyo();
    assert_eq!(ja.render(&Msg::new("no-such-message")), "no-such-message");
    // A message given the wrong kind of argument or none still renders.
    let s = ja.render(&Msg::new("brute-force-title"));
    assert!(s.contains("ブルートフォース攻撃"), "{s}");
    // Nested messages are bounded.
    let mut m = Msg::new("list-not-all");
    for _ in 0..100 {
        m = Msg::new("list-not-all").arg("list", m);
    }
    let _ = ja.render(&m);
}

#[test]
fn text_arguments_stay_inert() {
    let en = Locale::english_utc();
    let hostile = "{ $ip } \u{202e}evil\x1b[31m";
    let s = en.render(&Msg::new("brute-force-own").arg("ip", hostile));
    assert!(
        s.starts_with("If { $ip } \u{202e}evil\x1b[31m is your own"),
        "{s}"
    );
}

#[test]
fn steps_are_numbered_in_japanese_and_joined_in_english() {
    let steps = [
        Msg::new("stuffing-change").arg("targets", "app"),
        Msg::new("stuffing-restrict"),
    ];
    let en = Locale::english_utc().steps(&steps);
    assert!(en.starts_with("Change the password of app") && en.contains(" Blocking"));
    let ja = tokyo().steps(&steps);
    assert!(ja.starts_with("1. 今すぐ app のパスワード"), "{ja}");
    assert!(ja.contains("\n2. 分散型の攻撃"), "{ja}");
}

#[test]
fn zones_by_name_and_errors() {
    assert!(DisplayZone::named("Asia/Tokyo").is_ok());
    assert!(DisplayZone::named("utc").unwrap().is_utc());
    assert!(DisplayZone::named("Mars/Olympus").is_err());
    assert!(DisplayZone::named("../../etc/passwd").is_err());
}

#[test]
fn a_line_break_in_a_name_never_makes_a_step() {
    let steps = [
        Msg::new("stuffing-change").arg("targets", "app\n2. 偽の手順"),
        Msg::new("stuffing-restrict"),
    ];
    let ja = tokyo().steps(&steps);
    assert_eq!(ja.lines().count(), 2, "{ja}");
    assert!(ja.contains("app\\n2. 偽の手順"), "{ja}");
}

/// Rendering cost through Fluent: a brute-force finding's texts (title, three
/// description sentences with a count, a span, a list of names and a time, three
/// remediation steps) rendered again and again in English (UTC) and Japanese (JST).
/// A measurement, not a check: `cargo test -p keibi-i18n --release -- --ignored
/// --nocapture rendering_cost`.
#[test]
#[ignore]
fn rendering_cost() {
    let first = t("2026-11-27T02:47:10Z");
    let last = t("2026-11-27T03:13:39Z");
    let users = ["postgres", "admin", "root", "app", "backup", "test"];
    let text = FindingText {
        title: Some(
            Msg::new("brute-force-title-login")
                .arg("instance", "shop-postgres")
                .arg("ip", "198.51.100.23")
                .arg("failures", 253u64)
                .arg("user", "postgres"),
        ),
        description: vec![
            Msg::new("brute-force-failed")
                .arg("ip", "198.51.100.23")
                .arg("instance", "shop-postgres")
                .arg("count", 253u64)
                .arg(
                    "between",
                    Arg::Span {
                        from: first,
                        to: last,
                    },
                )
                .arg(
                    "who",
                    Msg::new("brute-force-who-many").arg("n", 6u64).arg(
                        "users",
                        Arg::Names {
                            items: users.iter().map(|s| s.to_string()).collect(),
                            total: 6,
                            max: 3,
                        },
                    ),
                ),
            Msg::new("brute-force-volume"),
            Msg::new("still-going").arg(
                "end",
                Arg::Time {
                    at: last,
                    base: None,
                },
            ),
        ],
        remediation: vec![
            Msg::new("login-block").arg("ip", "198.51.100.23"),
            Msg::new("brute-force-rotate-login")
                .arg("user", "postgres")
                .arg("ip", "198.51.100.23")
                .arg("targets", "postgres"),
            Msg::new("brute-force-own").arg("ip", "198.51.100.23"),
        ],
    };
    for (name, l) in [("en", Locale::english_utc()), ("ja", tokyo())] {
        let _ = l.finding(&text);
        let n = 20_000u32;
        let start = std::time::Instant::now();
        let mut bytes = 0;
        for _ in 0..n {
            let (title, desc, steps) = l.finding(&text);
            bytes += title.map_or(0, |s| s.len()) + desc.len() + steps.len();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{name}: {n} findings in {secs:.3} s: {:.0} findings/s, {:.1} µs each ({} bytes each)",
            f64::from(n) / secs,
            secs * 1e6 / f64::from(n),
            bytes / n as usize
        );
    }
}
