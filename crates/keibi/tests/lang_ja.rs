//! `--lang ja`: every command's own messages (warnings, errors, summaries, log
//! lines) are Japanese, and the same paths in English print what they always did.
//! One warning or error path per command, through the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn keibi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keibi"));
    for k in [
        "KEIBI_LANG",
        "KEIBI_TZ",
        "LC_ALL",
        "LC_MESSAGES",
        "LANG",
        "TZDIR",
    ] {
        c.env_remove(k);
    }
    c.env("TZ", "UTC");
    c
}

fn run(args: &[&str]) -> Output {
    keibi().args(args).output().expect("keibi runs")
}

fn ja(args: &[&str]) -> Output {
    keibi()
        .args(args)
        .args(["--lang", "ja"])
        .output()
        .expect("keibi runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/samples")
        .join(name)
        .display()
        .to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lang-ja-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn events_warnings_errors_and_summary() {
    let dir = scratch("events");
    let odd = dir.join("odd.log");
    std::fs::write(&odd, "hello world\nsecond line\n").unwrap();
    let missing = s(&dir.join("missing.log"));

    let o = ja(&["events", &s(&odd), &missing, "--format", "jsonl"]);
    let e = stderr(&o);
    assert!(
        e.contains("形式を認識できません（先頭行: \"hello world\"）"),
        "{e}"
    );
    assert!(
        e.contains("keibi: エラー: ") && e.contains("ファイルまたはディレクトリがありません"),
        "{e}"
    );
    let last = e.lines().last().unwrap();
    assert!(
        last.starts_with("keibi: イベント 0件（ファイル ") && last.contains("認識できない行 "),
        "{last}"
    );
    assert!(!e.contains("events from"), "no English summary: {e}");

    let o = run(&["events", &s(&odd), &missing, "--format", "jsonl"]);
    let e = stderr(&o);
    assert!(
        e.contains("format not recognized (first line: \"hello world\")"),
        "{e}"
    );
    assert!(e.contains("No such file or directory (os error 2)"), "{e}");
    assert!(e.lines().last().unwrap().contains(" events from "), "{e}");
}

#[test]
fn scan_summary_and_a_missing_rules_path() {
    let log = sample("postgresql-hydra-bruteforce.log");
    let o = ja(&["scan", &log, "--format", "jsonl"]);
    let e = stderr(&o);
    let last = e.lines().last().unwrap();
    assert!(last.starts_with("keibi: 検出結果 "), "{e}");
    assert!(last.contains('件'), "{last}");
    let o = run(&["scan", &log, "--format", "jsonl"]);
    let last = stderr(&o).lines().last().unwrap().to_string();
    assert!(
        last.starts_with("keibi: ") && last.contains(" findings"),
        "{last}"
    );

    let o = ja(&["scan", &log, "--rules", "/nonexistent/rules"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim_end(),
        "keibi: エラー: --rules /nonexistent/rules: ファイルまたはディレクトリがありません"
    );
    let o = run(&["scan", &log, "--rules", "/nonexistent/rules"]);
    assert_eq!(
        stderr(&o).trim_end(),
        "keibi: error: --rules /nonexistent/rules: no such file or directory"
    );
}

#[test]
fn learn_says_what_it_learned() {
    let dir = scratch("learn");
    let state = s(&dir.join("keibi.state"));
    let o = ja(&[
        "learn",
        &sample("postgresql-hydra-bruteforce.log"),
        "--state",
        &state,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("keibi: 学習しました: ユーザーのプロファイル "),
        "{e}"
    );
    assert!(e.contains(" に保存しました"), "{e}");
}

#[test]
fn rules_lint_and_list() {
    let dir = scratch("rules");
    std::fs::write(dir.join("bad.yml"), "title: [unclosed\n").unwrap();
    let o = ja(&["rules", "lint", &s(&dir)]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("keibi: ファイル 1個、読み込んだルール 0件、問題 1件"),
        "{e}"
    );
    let o = run(&["rules", "lint", &s(&dir)]);
    assert!(
        stderr(&o).contains("keibi: 1 files, 0 rules loaded, 1 problems"),
        "{}",
        stderr(&o)
    );
    let o = ja(&["rules", "list", "--format", "jsonl"]);
    assert!(stderr(&o).contains("検出結果の種類"), "{}", stderr(&o));
}

#[test]
fn findings_without_a_store_and_a_bad_import() {
    let dir = scratch("findings");
    let store = s(&dir.join("keibi.db"));
    let o = ja(&["findings", "list", "--store", &store]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(": ストアがありません（`keibi findings import`"),
        "{}",
        stderr(&o)
    );
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, "{\"not\": \"a finding\"}\n").unwrap();
    let o = ja(&["findings", "import", &s(&bad), "--store", &store]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(":1: 検出結果ではありません（import は"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn init_and_config_check() {
    let dir = scratch("init");
    let file = s(&dir.join("keibi.yaml"));
    let o = ja(&["init", "--output", &file]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("を書き出しました。`keibi config check "));
    let o = ja(&["init", "--output", &file]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("はすでにあります: keibi init は --force なしでは"),
        "{}",
        stderr(&o)
    );
    let o = ja(&["config", "check", &file]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("ソース "), "{}", stdout(&o));

    let wrong = dir.join("wrong.yaml");
    std::fs::write(&wrong, "sources:\n  inputs: []\nstorre:\n  path: x.db\n").unwrap();
    let o = ja(&["config", "check", &s(&wrong)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("不明なセクション `storre`: `store` の誤りではありませんか？"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).trim_end().ends_with(": 問題 1件"),
        "{}",
        stderr(&o)
    );
    let o = run(&["config", "check", &s(&wrong)]);
    assert!(
        stdout(&o).contains("unknown section `storre`: did you mean `store`?"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).trim_end().ends_with(": 1 problem"));
}

#[test]
fn run_logs_in_japanese() {
    let o = ja(&["run", "--once"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("keibi: エラー: 追跡するものがありません"),
        "{}",
        stderr(&o)
    );
    let dir = scratch("run");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::copy(
        sample("postgresql-hydra-bruteforce.log"),
        logs.join("postgresql.log"),
    )
    .unwrap();
    let store = s(&dir.join("keibi.db"));
    let o = ja(&["run", &s(&logs), "--store", &store, "--once"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("keibi: ストア "), "{e}");
    assert!(e.contains("を追跡しています"), "{e}");
    assert!(e.contains("keibi: 警告: 検出結果（新規）: "), "{e}");
    assert!(
        e.lines()
            .last()
            .unwrap()
            .contains("停止しました。読んだものはすべてコミット済みです"),
        "{e}"
    );
}

#[test]
fn demo_preamble() {
    let dir = scratch("demo");
    let o = ja(&[
        "--color",
        "never",
        "demo",
        "--write-to",
        &s(&dir),
        "--week-ending",
        "2026-11-30",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.starts_with("keibi demo: RDS のログ 1週間分（2026-11-24〜2026-11-30。shop-postgres は PostgreSQL のファイル "),
        "{e}"
    );
    assert!(e.contains("\n\n    keibi scan "), "{e}");
}

/// `--display-tz Asia/Tokyo` works where the system has no zone database (a
/// minimal container): jiff's bundled copy is compiled in. The binary runs in a user
/// and mount namespace where an empty tmpfs hides /usr/share/zoneinfo (jiff's other
/// places, /usr/share/lib/zoneinfo and /etc/zoneinfo, are checked absent) and
/// `TZDIR` names an empty directory.
#[test]
fn display_tz_without_the_systems_zone_database() {
    let userns = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !userns {
        eprintln!(
            "skipped: user namespaces are not allowed here, the zone database cannot be hidden"
        );
        return;
    }
    for other in ["/usr/share/lib/zoneinfo", "/etc/zoneinfo"] {
        assert!(!Path::new(other).exists(), "{other} would be read");
    }
    let empty = scratch("tzdir");
    let script = r#"set -u
if [ -d /usr/share/zoneinfo ]; then mount -t tmpfs tmpfs /usr/share/zoneinfo || exit 99; fi
[ -z "$(ls -A /usr/share/zoneinfo 2>/dev/null)" ] || exit 98
exec "$K" scan "$LOG" --format table --color never --lang ja --display-tz "$ZONE"
"#;
    let zone = |z: &str| {
        Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
            .env("TZDIR", &empty)
            .env("TZ", "UTC")
            .env_remove("KEIBI_TZ")
            .env_remove("KEIBI_LANG")
            .env("K", env!("CARGO_BIN_EXE_keibi"))
            .env("LOG", sample("postgresql-hydra-bruteforce.log"))
            .env("ZONE", z)
            .output()
            .unwrap()
    };
    let o = zone("Asia/Tokyo");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(" JST"), "{}", stdout(&o));
    // Not a zone at all is still an error naming where it came from.
    let o = zone("Mars/Olympus");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--display-tz"), "{}", stderr(&o));
}

/// A store with the brute-force sample's findings, the first acknowledged by alice.
fn store_with_findings(name: &str) -> (PathBuf, String) {
    let dir = scratch(name);
    let o = run(&[
        "scan",
        &sample("postgresql-hydra-bruteforce.log"),
        "--format",
        "jsonl",
    ]);
    let jsonl = dir.join("findings.jsonl");
    std::fs::write(&jsonl, &o.stdout).unwrap();
    let store = s(&dir.join("keibi.db"));
    let o = run(&["findings", "import", &s(&jsonl), "--store", &store]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["findings", "list", "--store", &store, "--format", "jsonl"]);
    let line = stdout(&o).lines().next().expect("a finding").to_string();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let o = run(&[
        "findings", "ack", &id, "--store", &store, "--by", "alice", "--note", "looking",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    (dir, id)
}

#[test]
fn findings_show_labels_in_japanese_and_english_as_before() {
    let (dir, id) = store_with_findings("show");
    let store = s(&dir.join("keibi.db"));
    let show = |o: Output| {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let en = show(run(&[
        "findings", "show", &id, "--store", &store, "--format", "text",
    ]));
    // The English labels, at the column they always had.
    for start in [
        "id          ",
        "type        ",
        "severity    ",
        "status      acknowledged by alice at 20",
        "resource    ",
        "actor       addresses ",
        "seen        ",
        "detector    ",
        "What to do: ",
        "History:",
        "  20",
    ] {
        assert!(en.lines().any(|l| l.starts_with(start)), "{start}: {en}");
    }
    assert!(en.contains("Z: looking\n"), "{en}");
    assert!(en.contains(" events\n"), "{en}");
    let history: Vec<&str> = en.lines().filter(|l| l.starts_with("  20")).collect();
    assert!(
        history[0].contains("Z  new              count ") && history[0].contains("  severity "),
        "{history:?}"
    );
    assert!(
        history
            .last()
            .unwrap()
            .contains("  acknowledged     count ")
            && history.last().unwrap().ends_with("  by alice  looking"),
        "{history:?}"
    );

    let ja = show(ja(&[
        "findings", "show", &id, "--store", &store, "--format", "text",
    ]));
    for start in [
        "ID            ",
        "種類          ",
        "重要度        ",
        "状態          確認済み 変更者 alice 日時 20",
        "アクター      アドレス ",
        "検出期間      20",
        "検出器        ",
        "対処:         ",
        "履歴:",
    ] {
        assert!(ja.lines().any(|l| l.starts_with(start)), "{start}: {ja}");
    }
    assert!(
        ja.contains(" JST: looking\n"),
        "times in the display zone: {ja}"
    );
    assert!(ja.contains("件）\n"), "{ja}");
    for english in [
        "What to do",
        "History",
        "severity ",
        " events",
        "addresses ",
        "acknowledged",
    ] {
        assert!(!ja.contains(english), "{english}: {ja}");
    }
    let last = ja.lines().rfind(|l| l.starts_with("  20")).unwrap();
    assert!(
        last.contains(" JST  確認済み         件数 ") && last.ends_with("  変更者 alice  looking"),
        "{last}"
    );
}

#[test]
fn findings_info_labels_in_japanese_and_english_as_before() {
    let (dir, _) = store_with_findings("info");
    let store = s(&dir.join("keibi.db"));
    let o = run(&["findings", "info", "--store", &store]);
    let en = stdout(&o);
    let lines: Vec<&str> = en.lines().collect();
    assert_eq!(lines.len(), 6, "{en}");
    assert!(lines[0].starts_with("store      "), "{en}");
    assert!(
        lines[1].starts_with("size       ")
            && lines[1].contains(" (file ")
            && lines[1].contains(", write-ahead log ")
            && lines[1].ends_with(")"),
        "{en}"
    );
    assert!(
        lines[2].starts_with("findings   ")
            && lines[2].ends_with(" (0 new, 1 acknowledged, 0 resolved, 0 suppressed)"),
        "{en}"
    );
    assert!(
        lines[3].starts_with("history    ") && lines[3].ends_with(" entries"),
        "{en}"
    );
    assert_eq!(lines[4], "rules      0 suppressions");
    assert_eq!(lines[5], "sources    1 checkpoints");

    let o = ja(&["findings", "info", "--store", &store]);
    let ja = stdout(&o);
    let lines: Vec<&str> = ja.lines().collect();
    assert_eq!(lines.len(), 6, "{ja}");
    assert!(lines[0].starts_with("ストア     "), "{ja}");
    assert!(
        lines[1].starts_with("サイズ     ") && lines[1].contains("（ファイル "),
        "{ja}"
    );
    assert!(
        lines[2].starts_with("検出結果   ")
            && lines[2].contains("件（新規 ")
            && lines[2].ends_with("件（新規 0件、確認済み 1件、解決済み 0件、抑制済み 0件）"),
        "{ja}"
    );
    assert!(
        lines[3].starts_with("履歴       ") && lines[3].ends_with('件'),
        "{ja}"
    );
    assert_eq!(lines[4], "ルール     抑制ルール 0件");
    assert_eq!(lines[5], "ソース     チェックポイント 1件");
}

#[test]
fn rules_list_table_in_japanese_and_english_as_before() {
    let o = run(&["rules", "list", "--format", "table"]);
    let en = stdout(&o);
    let head = en.lines().next().unwrap();
    assert!(
        head.starts_with("SEVERITY ") && head.contains("  TYPE "),
        "{head}"
    );
    assert!(head.ends_with("  ORIGIN"), "{head}");
    assert!(
        en.lines()
            .any(|l| l.starts_with("Medium 5.0 ") && l.ends_with("  detector")),
        "{en}"
    );

    let o = ja(&["rules", "list", "--format", "table"]);
    let ja = stdout(&o);
    let lines: Vec<&str> = ja.lines().collect();
    assert!(lines[0].starts_with("重要度    種類 "), "{}", lines[0]);
    assert!(lines[0].ends_with("  定義場所"), "{}", lines[0]);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("中 5.0    ") && l.ends_with("  組み込みの検出器")),
        "{ja}"
    );
    for english in ["SEVERITY", "Medium", "High", "Critical", "  detector"] {
        assert!(!ja.contains(english), "{english}: {ja}");
    }
    // The columns line up by display width: every row's type column starts at the
    // same terminal column as the header's.
    let col = |l: &str, word: &str| {
        let i = l.find(word).unwrap();
        unicode_width_of(&l[..i])
    };
    let at = col(lines[0], "種類");
    for l in &lines[1..] {
        let i = l.find(|c: char| c.is_ascii_uppercase()).unwrap();
        assert_eq!(unicode_width_of(&l[..i]), at, "{l}");
    }
}

/// Terminal columns of `s` for this test's text: CJK ideographs, kana and the
/// full-width forms take two, everything else one.
fn unicode_width_of(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFF00..=0xFF60 => 2,
            _ => 1,
        })
        .sum()
}

/// The reasons parsers give for lines they do not recognize: in Japanese through
/// `locale::library_text`, in English exactly the parser's sentence. Each row is a
/// real parse of junk (or a near miss) forced to one format.
#[test]
fn parser_reasons_in_japanese_and_english_as_the_parsers_wrote_them() {
    let dir = scratch("reasons");
    let junk = dir.join("junk.log");
    std::fs::write(&junk, "hello world\n").unwrap();
    let detail = dir.join("detail.log");
    std::fs::write(&detail, "2026-11-28 15:41:43.100 UTC [12] DETAIL:  x\n").unwrap();
    let json = dir.join("j.log");
    std::fs::write(&json, "{\"a\":1}\n{bad\n").unwrap();
    let cases: &[(&Path, &[&str], &str, &str)] = &[
        (
            &junk,
            &["--log-format", "postgres-stderr"],
            "expected a known log_line_prefix followed by a level such as LOG: (give the prefix with --pg-prefix)",
            "既知の log_line_prefix とそれに続く LOG: などのレベルがありません（--pg-prefix で",
        ),
        (
            &junk,
            &["--log-format", "postgres-stderr", "--pg-prefix", "%m [%p] "],
            "expected log_line_prefix '%m [%p] ' followed by a level such as LOG:",
            "log_line_prefix '%m [%p] ' とそれに続く LOG: などのレベルがありません",
        ),
        (
            &detail,
            &["--log-format", "postgres-stderr", "--pg-prefix", "%m [%p] "],
            "DETAIL line with no report of its process before it",
            "DETAIL の行の前に、そのプロセスの報告がありません",
        ),
        (
            &junk,
            &["--log-format", "postgres-csv"],
            "expected a csvlog record starting with a time and a comma",
            "時刻とカンマで始まる csvlog の記録ではありません",
        ),
        (
            &junk,
            &["--log-format", "postgres-json"],
            "expected a jsonlog JSON object",
            "jsonlog の JSON オブジェクトではありません",
        ),
        (
            &junk,
            &["--log-format", "postgres-syslog"],
            "expected a syslog header (time, host, program[pid]:) before the PostgreSQL message",
            "PostgreSQL のメッセージの前に syslog のヘッダー",
        ),
        (
            &junk,
            &["--log-format", "cnpg"],
            "expected a CloudNativePG JSON object",
            "CloudNativePG の JSON オブジェクトではありません",
        ),
        (
            &junk,
            &["--log-format", "pgbouncer"],
            "expected a PgBouncer log line (time, [pid], level)",
            "PgBouncer のログ行（時刻、[pid]、レベル）ではありません",
        ),
        (
            &junk,
            &["--log-format", "mysql-error"],
            "expected an error log line starting with a timestamp",
            "タイムスタンプで始まるエラーログの行ではありません",
        ),
        (
            &junk,
            &["--log-format", "mysql-general"],
            "expected a general log record (time, id, command, argument)",
            "一般クエリログの記録（時刻、ID、コマンド、引数）ではありません",
        ),
        (
            &junk,
            &["--log-format", "mysql-slow"],
            "expected a slow log record (# Time: or # User@Host:)",
            "スロークエリログの記録（# Time: または # User@Host:）ではありません",
        ),
        (
            &junk,
            &["--log-format", "mysql-audit"],
            "expected a server_audit record (timestamp,serverhost,username,...)",
            "server_audit の記録（timestamp,serverhost,username,...）ではありません",
        ),
        (
            &junk,
            &["--log-format", "percona-audit"],
            "expected a Percona audit record (XML, JSON or CSV)",
            "Percona の監査記録（XML、JSON、CSV）ではありません",
        ),
        (
            &junk,
            &["--log-format", "heroku"],
            "expected a Heroku log line (time, source[process])",
            "Heroku のログ行（時刻、source[process]）ではありません",
        ),
        (
            &junk,
            &["--log-format", "cloudtrail"],
            "expected a JSON object",
            "JSON オブジェクトではありません",
        ),
        (
            &json,
            &["--log-format", "cloudtrail"],
            "not a cloudtrail record: no eventTime and eventName",
            "CloudTrail の記録ではありません（eventTime と eventName がありません）",
        ),
        (
            &json,
            &["--log-format", "cloudtrail"],
            "invalid JSON: expected a key",
            "JSON として不正です: expected a key",
        ),
    ];
    for (file, flags, english, japanese) in cases {
        let mut args = vec!["events", file.to_str().unwrap(), "--format", "jsonl"];
        args.extend_from_slice(flags);
        let en = stderr(&run(&args));
        let line = en
            .lines()
            .find(|l| l.starts_with("keibi: unrecognized line: ") && l.ends_with(english))
            .unwrap_or_else(|| panic!("{english}: {en}"));
        assert!(line.ends_with(&format!(":{english}")) || line.ends_with(&format!(": {english}")));
        let ja = stderr(&ja(&args));
        assert!(ja.contains(japanese), "{japanese}: {ja}");
        assert!(!ja.contains(english), "{english} stays: {ja}");
    }
}
