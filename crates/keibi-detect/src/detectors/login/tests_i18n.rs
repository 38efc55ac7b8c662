//! The login findings' texts as catalog messages: every message and argument the
//! code builds exists in both catalogs and is used there (the code half of the
//! catalog-completeness test), and the Japanese texts are pinned.

use keibi_i18n::{DisplayZone, Lang, Locale};
use keibi_model::Finding;

use super::reputation::{
    ReputationDetector, MALICIOUS_FAILED, MALICIOUS_SUCCESS, TOR_PROBE, TOR_SUCCESS,
};
use super::source::{SourceDetector, BRUTE_FORCE, SPRAY, SUCCESSFUL};
use super::stuffing::{StuffingDetector, STUFFING};
use super::testlog::{detect, evs, lists, of, Log};
use crate::config::Config;
use crate::iplist::ThreatLists;

const ATTACKER: &str = "45.155.205.233";

/// Brute force then a login, a spray, and a distributed campaign.
fn findings() -> Vec<Finding> {
    let mut log = Log::default();
    for i in 0..300 {
        log.pg_fail(i / 4, ATTACKER, "postgres", "postgres");
    }
    log.pg_ok(80, ATTACKER, "postgres", "postgres");
    let users = [
        "admin", "root", "test", "oracle", "guest", "app", "sa", "ubnt",
    ];
    for (i, u) in users.iter().enumerate() {
        log.pg_fail(3600 + i as i64 * 40, "198.51.100.77", u, "postgres");
    }
    for round in 0..2 {
        for i in 0..40usize {
            let ip = format!("{}.{}.{}.{}", 31 + i * 5 % 190, 17 + i * 7 % 200, i, 9);
            log.pg_fail(7200 + round * 1200 + i as i64 * 30, &ip, "shop", "shop");
        }
    }
    // A threat-listed address failing then logging in, a Tor exit logging in and one
    // only knocking.
    for i in 0..3 {
        log.pg_fail(9000 + i, "45.155.205.9", "app", "app");
    }
    log.pg_ok(9010, "45.155.205.9", "app", "app");
    log.pg_ok(9020, "185.220.101.4", "report", "app");
    log.pg_probe(9030, "185.220.101.9");
    let evs = evs("postgresql.log.2026-11-28-10", &log.text);
    let tor = "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\n\
               Published 2026-11-28 08:11:36\n\
               LastStatus 2026-11-28 09:00:00\n\
               ExitAddress 185.220.101.4 2026-11-28 09:02:17\n\
               ExitAddress 185.220.101.9 2026-11-28 09:02:17\n";
    let mut fs = detect(
        |c| SourceDetector::new(&c.login),
        Config::default(),
        ThreatLists::default(),
        &evs,
    );
    fs.extend(detect(
        |c| StuffingDetector::new(&c.login),
        Config::default(),
        ThreatLists::default(),
        &evs,
    ));
    fs.extend(detect(
        |c| ReputationDetector::new(&c.login),
        Config::default(),
        lists("45.155.205.9\n", tor, ""),
        &evs,
    ));
    fs
}

#[test]
fn every_message_the_login_findings_build_is_in_both_catalogs_with_its_arguments() {
    let fs = findings();
    for ty in [
        BRUTE_FORCE,
        SUCCESSFUL,
        SPRAY,
        STUFFING,
        MALICIOUS_FAILED,
        MALICIOUS_SUCCESS,
        TOR_SUCCESS,
        TOR_PROBE,
    ] {
        assert_eq!(of(&fs, ty).len(), 1, "{ty}");
    }
    let seen = crate::testutil::check_catalogs(&fs, false);
    assert!(seen.len() > 20, "{seen:?}");
}

#[test]
fn english_texts_are_the_english_rendering_of_the_messages() {
    let en = Locale::english_utc();
    for f in findings() {
        let t = f.text.as_ref().unwrap();
        let (title, description, remediation) = en.finding(t);
        assert_eq!(title.as_deref(), Some(f.title.as_str()));
        assert_eq!(description, f.description);
        assert_eq!(remediation, f.remediation);
    }
}

#[test]
fn the_login_findings_read_in_japanese_with_tokyo_times() {
    let ja = Locale::new(Lang::Ja, DisplayZone::named("Asia/Tokyo").unwrap());
    let fs = findings();
    let render = |ty: &str| {
        let f = of(&fs, ty)[0];
        let (title, d, r) = ja.finding(f.text.as_ref().unwrap());
        (title.unwrap(), d, r)
    };
    let (title, d, r) = render(BRUTE_FORCE);
    assert_eq!(
        title,
        "db1 へのブルートフォース攻撃（送信元 45.155.205.233）: ログイン失敗 300回の後、postgres でログイン成功"
    );
    assert_eq!(
        d,
        "45.155.205.233 から db1 へのログインが2026-11-28 19:00:00 JSTから19:01:14まで（74秒、毎秒約4回）に300回失敗しました（すべてユーザー postgres）。\
         hydra などの攻撃ツールに典型的な動きです。人のパスワード入力ミスやアプリケーションの再試行で、これほど多く失敗することはありません。\
         失敗の後、2026-11-28 19:01:20 JSTに postgres としてログインに成功しています。このパスワードは攻撃者に知られたものとみなしてください。\
         最後の失敗は 2026-11-28 19:01:14 JST で、このインスタンスのログの終わり（21:39:30）の2時間38分前です。"
    );
    assert!(d.contains("JST"), "times in the display zone: {d}");
    assert!(!d.contains("UTC"), "{d}");
    assert!(
        r.starts_with("1. 45.155.205.233 が自社のものでなければ"),
        "{r}"
    );
    assert!(
        r.contains("\n2. インターネットから接続できる必要がなければ"),
        "{r}"
    );
    assert!(r.contains("--no-publicly-accessible"), "{r}");

    let (title, _, r) = render(SUCCESSFUL);
    assert_eq!(
        title,
        "db1 でブルートフォース攻撃の後に postgres としてログイン（送信元 45.155.205.233）"
    );
    assert!(
        r.starts_with("1. 直ちに: postgres のパスワードを変更し（ALTER ROLE"),
        "{r}"
    );

    let (title, d, _) = render(SPRAY);
    assert_eq!(
        title,
        "db1 へのパスワードスプレー攻撃（送信元 198.51.100.77）: ユーザー名 8件を試行"
    );
    assert!(d.contains("パスワードスプレー攻撃の特徴です。"), "{d}");

    let (title, d, _) = render(STUFFING);
    assert_eq!(
        title,
        "db1 への分散型パスワード推測: 40個のアドレスから shop としてログイン失敗 80回"
    );
    assert!(d.contains("ほか35件"), "the address list in Japanese: {d}");
    assert!(d.contains("クレデンシャルスタッフィング"), "{d}");

    let (title, d, r) = render(TOR_SUCCESS);
    assert_eq!(
        title,
        "Tor 出口ノード 185.220.101.4 から db1 に report としてログイン"
    );
    assert!(d.starts_with("185.220.101.4 が2026-11-28 "), "{d}");
    assert!(d.contains("Tor 出口ノードのリスト「"), "{d}");
    assert!(r.contains("\n2. インスタンスのセキュリティグループ"), "{r}");
    assert!(r.contains("Tor 全体を遮断するには"), "{r}");
    let (title, _, _) = render(MALICIOUS_FAILED);
    assert_eq!(
        title,
        "脅威リストに載っているアドレス 45.155.205.9 から db1 へのログイン失敗: 3回"
    );
    let (title, _, _) = render(TOR_PROBE);
    assert_eq!(
        title,
        "Tor 出口ノード 185.220.101.9 から db1 のデータベースポートへの探索"
    );
}
