//! The SQL-activity findings' texts as catalog messages: every message and argument
//! the code builds exists in both catalogs and is used there (the code half of the
//! catalog-completeness test), the English strings are the English rendering of the
//! messages, and the Japanese texts are pinned.

use std::collections::{BTreeMap, BTreeSet};

use keibi_i18n::{DisplayZone, Lang, Locale};
use keibi_model::Finding;

use super::tests::{My, Pg};
use super::{MassDestruction, OversizedStatement, RansomNote, SchemaEnumeration};
use crate::config::Config;
use crate::detector::Detector;
use crate::iplist::ThreatLists;
use crate::testutil::run;

/// One finding of each kind and shape: a wipe, a ransom note after drops, a demand
/// alone, a credential-catalog enumeration, an application exploring late, and a
/// padded statement.
fn findings() -> Vec<Finding> {
    let all = |evs: &[keibi_model::Event]| {
        let c = Config::default();
        let ds: Vec<Box<dyn Detector>> = vec![
            Box::new(MassDestruction::new(&c.activity)),
            Box::new(RansomNote::new(&c.activity)),
            Box::new(SchemaEnumeration::new(&c.activity)),
            Box::new(OversizedStatement::new(&c.activity)),
        ];
        run(ds, c, ThreatLists::default(), evs)
    };
    let mut pg = Pg::new();
    pg.login(0, "198.51.100.23", "app", 811, "psql");
    for (i, t) in [
        "customers",
        "orders",
        "payments",
        "invoices",
        "carts",
        "stock",
        "refunds",
        "coupons",
        "reviews",
        "suppliers",
        "shipments",
        "addresses",
    ]
    .iter()
    .enumerate()
    {
        pg.sql(
            10 + i as i64 * 3,
            "198.51.100.23",
            "app",
            811,
            &format!("DROP TABLE IF EXISTS public.{t} CASCADE;"),
        );
    }
    pg.sql(50, "198.51.100.23", "app", 811, "DROP DATABASE analytics");
    let mut fs = all(&pg.events());
    let mut pg = Pg::new();
    // An API that served traffic for twenty minutes, then walks the catalogs.
    pg.login(0, "10.0.3.40", "api", 4100, "");
    for k in 0..80 {
        pg.sql(
            k * 15,
            "10.0.3.40",
            "api",
            4100,
            "SELECT id FROM products WHERE id = $1",
        );
    }
    let probes = [
        "SELECT 1, schema_name FROM information_schema.schemata",
        "SELECT 1, table_name FROM information_schema.tables WHERE table_schema = 'public'",
        "SELECT 1, column_name FROM information_schema.columns WHERE table_name = 'users'",
        "SELECT 1, tablename FROM pg_tables",
        "SELECT 1, viewname FROM pg_views",
        "SELECT 1, proname FROM pg_proc LIMIT 50",
        "SELECT 1, column_name FROM information_schema.columns WHERE table_name = 'orders'",
        "SELECT 1, constraint_name FROM information_schema.table_constraints",
        "SELECT 1, column_name FROM information_schema.columns WHERE table_name = 'payments'",
        "SELECT 1, column_name FROM information_schema.columns WHERE table_name = 'customers'",
        "SELECT 1, routine_name FROM information_schema.routines",
    ];
    for (i, p) in probes.iter().enumerate() {
        pg.sql(1300 + i as i64 * 7, "10.0.3.40", "api", 4100, p);
    }
    let mut evs = pg.events();
    // A padded statement, whole (keibi-parse cuts a line this long; the detector
    // reads what it is given).
    let mut e = keibi_model::Event::new(
        "2026-12-01T03:33:21Z".parse().unwrap(),
        keibi_model::SourceKind::PostgresStderr,
        std::sync::Arc::from("postgresql.log"),
        99,
        keibi_model::Action::Statement,
    );
    e.user = Some("loader".into());
    e.client_ip = Some("203.0.113.9".parse().unwrap());
    e.instance = Some("orders-db".into());
    e.statement = Some(Box::new(keibi_model::Statement::from_sql(format!(
        "SELECT 1 /* {} */; DROP TABLE orders",
        "x".repeat(1_100_000)
    ))));
    evs.push(e.clone());
    e.line = 100;
    e.time = "2026-12-01T03:33:25Z".parse().unwrap();
    evs.push(e);
    fs.extend(all(&evs));

    let ip = "45.148.10.81";
    let mut my = My::new();
    my.connect(0, "root", ip, 4411)
        .query(1, "root", ip, 4411, "SHOW DATABASES")
        .query(2, "root", ip, 4411, "SHOW GRANTS")
        .query(3, "root", ip, 4411, "SELECT user, host, authentication_string FROM mysql.user")
        .query(9, "root", ip, 4411, "DROP DATABASE shop")
        .query(9, "root", ip, 4411, "DROP DATABASE crm")
        .query(10, "root", ip, 4411, "CREATE DATABASE README_TO_RECOVER_A")
        .query(11, "root", ip, 4411, "INSERT INTO README_TO_RECOVER_A.README (readme) VALUES ('All your data is backed up. You must pay 0.0075 BTC to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh')");
    fs.extend(all(&my.events()));
    let mut alone = My::new();
    alone.query(0, "root", ip, 7, "INSERT INTO notes VALUES ('To recover your lost databases send 0.05 BTC to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT')");
    fs.extend(all(&alone.events()).into_iter().map(|mut f| {
        f.resource.id = "other-mysql".into();
        f
    }));
    // A demand, then a drop: destroyed, no note named.
    let mut upgraded = My::new();
    upgraded
        .query(0, "root", ip, 8, "INSERT INTO notes VALUES ('To recover your lost databases send 0.05 BTC to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT')")
        .query(30, "root", ip, 8, "DROP DATABASE shop");
    fs.extend(all(&upgraded.events()).into_iter().map(|mut f| {
        f.resource.id = "third-mysql".into();
        f
    }));
    fs
}

fn of<'a>(fs: &'a [Finding], ty: &str, instance: &str) -> Vec<&'a Finding> {
    fs.iter()
        .filter(|f| f.finding_type == ty && f.resource.id == instance)
        .collect()
}

#[test]
fn every_message_the_activity_findings_build_is_in_both_catalogs_with_its_arguments() {
    let fs = findings();
    let kinds: BTreeSet<&str> = fs.iter().map(|f| f.finding_type.as_str()).collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "DefenseEvasion:RDS/OversizedStatement",
            "Discovery:RDS/SchemaEnumeration",
            "Impact:RDS/MassDestruction",
            "Impact:RDS/RansomNote",
        ],
        "{fs:#?}"
    );
    let seen = crate::testutil::check_catalogs(&fs, false);
    // Every message of activity.ftl that is a finding's text is built by a finding
    // here (the durations other than minutes are the rules' too).
    let en: BTreeMap<String, Vec<String>> = keibi_i18n::catalog_ids(Lang::En).into_iter().collect();
    let unbuilt: Vec<&String> = en
        .keys()
        .filter(|id| {
            ["mass-", "ransom-", "enum-", "over-"]
                .iter()
                .any(|p| id.starts_with(p))
        })
        .filter(|id| !seen.contains(*id))
        .filter(|id| {
            ![
                "mass-truncates",
                "mass-deletes",
                "enum-server",
                "enum-tool",
                "over-cut",
                // The MySQL twins of the PostgreSQL messages built here: the code
                // gives them the same arguments (engine_msg), and keibi-i18n's test
                // checks that both languages use the same variables.
                "mass-lock-mysql",
                "over-compromised-mysql",
            ]
            .contains(&id.as_str())
        })
        .collect();
    assert!(unbuilt.is_empty(), "never built here: {unbuilt:?}");
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
fn the_activity_findings_read_in_japanese_with_tokyo_times() {
    let ja = Locale::new(Lang::Ja, DisplayZone::named("Asia/Tokyo").unwrap());
    let fs = findings();
    let render = |ty: &str, instance: &str| {
        let found = of(&fs, ty, instance);
        assert_eq!(found.len(), 1, "{ty} on {instance}: {fs:#?}");
        let (title, d, r) = ja.finding(found[0].text.as_ref().unwrap());
        (title.unwrap(), d, r)
    };

    let (title, d, r) = render("Impact:RDS/MassDestruction", "orders-db");
    assert_eq!(
        title,
        "orders-db で app がテーブルまたはデータベース 13個を削除"
    );
    assert_eq!(
        d,
        "app（送信元 198.51.100.23）が 2026-12-01 12:00:10 JSTから2026-12-01 12:00:50 JSTまでに \
         orders-db のテーブルまたはデータベース 13個を削除しました（DROP 13件）: customers、orders、\
         payments、invoices、carts、stock、refunds、coupons ほか5件。\
         ダンプからの復元や ETL の再投入であれば削除の直後に作り直されますが、5分以内に作り直しも再投入も\
         ありませんでした。計画された作業でなければ、データの破壊を狙った攻撃の可能性があります。\
         削除は件数ではなく重みで数えます。データベースやスキーマは中のテーブルごと失われるためテーブル 4個分、\
         1,000,000 行以上を消したテーブルも同じく（10,000 行以上は 2個分）と数え、今回の重みは合計 16 で、\
         しきい値は 10 です。"
    );
    let steps: Vec<&str> = r.lines().collect();
    assert_eq!(steps.len(), 3, "{r}");
    assert!(
        steps[0].starts_with("1. 計画された削除でなければ、app を直ちにロック"),
        "{r}"
    );
    assert!(steps[0].contains("`ALTER ROLE \"app\" NOLOGIN;`"), "{r}");
    assert!(
        !steps[0].contains("ACCOUNT LOCK"),
        "PostgreSQL's command only: {r}"
    );
    assert!(
        steps[1].contains("［データベース］→ orders-db →［アクション］→［特定時点への復元］"),
        "{r}"
    );
    assert!(
        steps[1].contains("--source-db-instance-identifier orders-db --target-db-instance-identifier orders-db-restore --restore-time 2026-12-01T03:00:09Z"),
        "the restore time is UTC, a second before the first drop: {r}"
    );

    let (title, d, r) = render("Impact:RDS/RansomNote", "shop-mysql");
    assert_eq!(
        title,
        "shop-mysql で身代金要求: データの削除の後に データベース readme_to_recover_a が残された"
    );
    assert!(
        d.starts_with("2026-12-01 12:00:09 JSTから2026-12-01 12:00:11 JSTまでに、45.148.10.81 から接続した root が shop-mysql のテーブルまたはデータベース 2個（データベース shop、データベース crm）を削除しました。データベース readme_to_recover_a が作成されました。書き込まれた要求文:「"),
        "{d}"
    );
    assert!(d.ends_with("支払っても戻りません。"), "{d}");
    assert!(r.starts_with("1. 支払わないでください。"), "{r}");
    assert!(r.contains("--no-publicly-accessible"), "{r}");
    assert!(r.contains("\n4. ログは証拠になる"), "{r}");

    let (title, d, _) = render("Impact:RDS/RansomNote", "other-mysql");
    assert_eq!(title, "shop-mysql に身代金要求文の書き込み");
    assert!(
        d.contains("通常これに伴うデータの削除はこのログには見当たりません"),
        "{d}"
    );

    let (title, d, r) = render("Discovery:RDS/SchemaEnumeration", "shop-mysql");
    assert_eq!(
        title,
        "shop-mysql でスキーマの列挙: 45.148.10.81 の root がシステムカタログ 3個を読み取り"
    );
    assert!(
        d.contains(
            "パスワードハッシュや認証情報を収めたカタログ（mysql.user）も読み取っています。"
        ),
        "{d}"
    );
    assert!(
        r.starts_with("1. 45.148.10.81 から root を使っているのが誰か"),
        "{r}"
    );
    assert!(
        r.contains("\n3. 把握している人やツールでなければ、アカウントをロックし（`ALTER USER 'root'@'<ホスト>' ACCOUNT LOCK;`）"),
        "MySQL's command only: {r}"
    );
    assert!(!r.contains("ALTER ROLE"), "{r}");

    let (_, d, _) = render("Discovery:RDS/SchemaEnumeration", "orders-db");
    assert!(
        d.contains("このクライアントはそれまで21分にわたり、カタログを読まずにステートメントを80件実行していました。"),
        "{d}"
    );

    let (title, d, r) = render("DefenseEvasion:RDS/OversizedStatement", "orders-db");
    assert_eq!(
        title,
        "orders-db で loader から巨大なステートメント（1.1 MB）"
    );
    assert!(d.starts_with("loader が orders-db に 1,100,034バイトのステートメントを送信しました（同様のステートメント 2件のうち最大のもの）。全体を読み取りました。"), "{d}");
    assert!(d.ends_with("xxxxxxx */; DROP TABLE orders"), "{d}");
    assert!(d.contains("。末尾: …xxx"), "{d}");
    assert!(r.contains("MARIADB_AUDIT_PLUGIN"), "{r}");
}
