# コマンド自身のメッセージ: 標準エラーの警告・エラー・まとめと、人が読む行
# （crates/keibi/src/cmd/*、crates/keibi/src/*.rs）。用語は docs/ja/glossary.md に従う。
# オプション名、設定キー、コマンド、log_line_prefix などの値は英語のまま書く。

## 全コマンド共通
cli-error = keibi: エラー: { $text }
cli-warning = keibi: 警告: { $text }
cli-note = keibi: { $text }

# OS のエラー（strerror）。
oserr-2 = ファイルまたはディレクトリがありません
oserr-5 = 入出力エラーです
oserr-13 = アクセス権がありません
oserr-17 = すでに存在します
oserr-20 = ディレクトリではありません
oserr-21 = ディレクトリです
oserr-24 = 開いているファイルが多すぎます
oserr-28 = デバイスに空き容量がありません
oserr-30 = 読み取り専用のファイルシステムです
oserr-36 = ファイル名が長すぎます
oserr-40 = シンボリックリンクの階層が多すぎます

not-utf8 = UTF-8 のテキストではありません
too-large = { $max } バイトを超えています（この種類のファイルを keibi が読む上限）
binary-file = バイナリデータです（オフセット { $offset } に NUL バイト）。テキストファイルではありません

## 入力の読み込み（events、scan、learn）
in-error = keibi: エラー: { $path }: { $reason }
in-warning = keibi: 警告: { $path }: { $reason }
in-line-warning = keibi: 警告: { $file }:{ $line }: { $reason }
in-unrecognized = keibi: 認識できない行: { $file }:{ $line }: { $reason }
in-more-unrecognized = keibi: { $file }: ほかに認識できない行が { $n }行あります（表示していません）
in-log-timezone = --log-timezone '{ $value }' は +09:00 や UTC のようなオフセットではありません
in-not-recognized = 形式を認識できません（先頭行: { $first }）{ $closest }{ $gaveup }。--log-format で形式を指定するか、PostgreSQL なら --pg-prefix で log_line_prefix を指定してください
in-closest = 。先頭の行から推定した最も近い log_line_prefix は '{ $prefix }' ですが、{ $sampled }行のうち { $explained }行しか読めません
in-gave-up = 。先頭の { $bytes } バイト（{ $lines }行）で読むのをやめました。残りは読んでいません
in-empty = 空の入力です

## keibi events
ev-skipped = keibi: ほかのプログラムの行を { $n }行読み飛ばしました
ev-summary = keibi: イベント { $events }件（ファイル { $files }個）、認識できない行 { $unrecognized }行{ $unread ->
    [0] {""}
   *[other] （ほかに既知の形式でない入力 { $unread }個の残りは読んでいません）
}
ev-explain-error = keibi: { $path }: { $reason }
ev-explain-format = {"  "}形式: { $format }
ev-explain-not-recognized = {"  "}形式: 認識できません
ev-explain-how-given = --pg-prefix で指定した接頭辞で読めます
ev-explain-how-inferred = 推定した接頭辞で読みます
ev-explain-how-detected = 使いません。検出した形式で読めます
ev-explain-how-unsure = 読むのに使えるほど確かではありません
ev-explain-prefix = {"  "}推定した log_line_prefix: '{ $prefix }'（{ $how }）
ev-explain-explains = {"  "}サンプルした { $sampled }行のうち { $explained }行を説明できます
ev-explain-ambiguous = {"  "}曖昧な点: { $what }
ev-explain-none = {"  "}推定した log_line_prefix: なし（PostgreSQL のレベルを表す語を含む行がありません）

## keibi scan
scan-tuning = keibi: チューニング（--config）: 検出結果 { $suppressed }件を抑制、無効にした検出器の { $disabled }件を除外、{ $rescored }件の重要度を変更しました
scan-rolled-note = keibi: 注意: 検出結果が { $max }件を超えました。重要度の高いものは 1件ずつ表示し、重要度の低い { $n }件は検出器と種類ごとにまとめて { $rollups }件の集約した検出結果にしています
scan-dropped-warning = keibi: 警告: 検出結果 { $n }件を表示せずに破棄しました。検出結果の種類が { $kinds }を超え、保持できる { $max }件からあふれました（--since/--until やパスで入力を絞ってください）
scan-trusted = 信頼済みアドレスからのログインと接続のイベント { $n }件では検出結果を出していません
scan-summary = keibi: 検出結果 { $n }件{ $counts }{ $extra }
scan-summary-counts = （{ $list }）
scan-summary-count = { $label } { $n }件
scan-summary-rolled = 、ほかに集約 { $n }件
scan-summary-dropped = 、破棄 { $n }件
scan-fail-dropped = keibi: --fail-on { $min }: 検出結果 { $n }件を表示せずに破棄しており、その重要度だった可能性があるため失敗とします
scan-list-problem = keibi: 警告: { $file }:{ $line }: { $reason }
aws-usage = keibi: AWS: リクエスト { $requests }件、{ $size }、{ $region } の料金表で約 ${ $usd }{ $errors ->
        [0] {""}
       *[other] 、うち失敗 { $errors }件
    }（{ $apis }）
aws-usage-api = { $service } { $api } { $n }件
aws-usage-more = ほか { $n }件
aws-usage-source = keibi: AWS { $source }: リクエスト { $requests }件、{ $size }、約 ${ $usd }{ $errors ->
        [0] {""}
       *[other] 、うち失敗 { $errors }件
    }
aws-usage-no-source = その他の呼び出し

## ルール（scan、rules list、rules lint）
rules-not-loaded = keibi: 警告: 読み込めなかったルール: { $problem }
rules-walk-warning = keibi: 警告: --rules { $path }: { $reason }
rules-not-file = --rules { $path }: ファイルでもディレクトリでもありません
rules-missing = --rules { $path }: ファイルまたはディレクトリがありません
rules-list-summary = keibi: 検出器とルール { $sources }個の { $entries }項目に、検出結果の種類 { $types }種。ルール { $rules }件、問題 { $problems }件、スキップ { $skipped }件（keibi が読まないログソース）
rules-lint-summary = keibi: ファイル { $files }個、読み込んだルール { $rules }件、問題 { $problems }件、スキップ { $skipped }件（keibi が読まないログソース）

## keibi learn と --state
learn-done = keibi: 学習しました: { $after }（学習前: { $before }）。プロファイル { $saved }件を { $path } に保存しました
learn-counts = ユーザーのプロファイル { $logins }件（成熟 { $logins_mature }件）、インスタンス { $instances }件（成熟 { $instances_mature }件）、プリンシパル { $principals }件（成熟 { $principals_mature }件）
state-skipped-profile = keibi: 警告: { $path }: プロファイルを 1件読み飛ばしました: { $reason }
mmdb-wrong-kind = { $flag } { $path }: { $kind } のデータベースです。{ $expected } のデータベース（GeoLite2 または DB-IP の .mmdb）を指定してください

## keibi init
init-is-dir = { $path }: ディレクトリです
init-cannot-replace = { $path }: 置き換えられません
init-exists = { $path } はすでにあります: keibi init は --force なしではファイルを置き換えません
init-wrote = keibi: { $path } を書き出しました。`keibi config check { $path }` で確認してください

## keibi config check
config-ok = ok: { $path }: { $summary }
config-problems = keibi: { $path }: 問題 { $n }件
config-flat = 検出設定のみ（フラット形式。ほかのセクションはすべて既定値）
config-summary = { $sources }、{ $lists }、{ $suppressions }、{ $rules }、ストア { $store }、サーバー { $server }
config-sources = ソース { $n }件
config-lists = アドレスリスト { $n }件
config-suppressions = 抑制ルール { $n }件
config-rules-builtin = ルールのパス { $n }件と組み込みルール
config-rules-no-builtin = ルールのパス { $n }件（組み込みルールはオフ）

# 設定ファイルの問題の理由（keibi が形を知っているもの。ほかは keibi-engine の英語のまま）。
problem-unknown-key = 不明なキー `{ $key }`: `{ $near }` の誤りではありませんか？
problem-unknown-key-known = 不明なキー `{ $key }`（ここで使えるキー: { $known }）
problem-unknown-section = 不明なセクション `{ $key }`: `{ $near }` の誤りではありませんか？
problem-detection-key = `{ $key }` は検出設定です。セクションに分けたファイルでは `detection:` の下に書きます
problem-missing = { $path }: 存在しません
problem-is-dir = { $path }: ディレクトリです
problem-more = ほかに { $n }件の問題があります（表示していません）
problem-cannot-read = 読み取れません
problem-not-mapping = 設定ファイルはセクション（sources:、detection: など）のマッピングです

## keibi demo
demo-preamble = keibi demo: RDS のログ 1週間分（{ $first }〜{ $last }。shop-postgres は PostgreSQL のファイル { $pg }個、shop-mysql は MySQL 監査ログのファイル { $mysql }個、計 { $lines }行）を { $dir } に書き出しました。Tor 出口ノードのリストと脅威リストを隣に置き、次のコマンドと同じようにスキャンします:
demo-refuse-link = { $path } はシンボリックリンクです: keibi demo は自分のファイルだけを書き、リンク越しには書きません。削除するか、空のフォルダを選んでください
demo-refuse-other = { $path } は通常のファイルでもディレクトリでもありません: keibi demo は自分のファイルだけを書き、リンク越しには書きません。削除するか、空のフォルダを選んでください
demo-tempdir = 一時ディレクトリを作成中
demo-creating = { $path } を作成中
demo-removing = { $path } を削除中
demo-reading = { $path } を読み取り中
demo-writing = { $path } に書き込み中

## コマンドラインの時刻（--since、--until、--older-than、--expires）
time-not-a-time = '{ $value }' は時刻ではありません: RFC 3339、YYYY-MM-DD、または 24h のような経過時間で指定してください
time-bad-unit = '{ $value }' は時刻ではありません: 経過時間の単位は s、m、h、d、w のいずれかです
time-too-long-ago = '{ $value }' は古すぎます

## keibi findings
fnd-no-store = { $path }: ストアがありません（`keibi findings import` で `keibi scan --format jsonl` の出力から作成するか、--store FILE を指定してください）
fnd-export-not-dir = --export { $path }: ディレクトリではありません
fnd-exported = keibi: { $path } にエクスポートしました
export-none = keibi: エクスポートする保存済みの検出結果はありません
export-refused = keibi: Security Hub が検出結果 { $id } を受け付けませんでした: { $code }: { $message }
export-done = keibi: 検出結果 { NUMBER($imported, useGrouping: "false") } 件を Security Hub (アカウント { $account }、{ $region }) にインポートしました (呼び出し { NUMBER($calls, useGrouping: "false") } 回、受け付けられなかったもの { NUMBER($refused, useGrouping: "false") } 件)
asff-no-target = 検出結果 { $id }: ASFF に書く AWS アカウントまたはリージョンがありません (リソースに記載がありません): AWS_ACCOUNT_ID と AWS_REGION を設定してください
export-workflow-refused = keibi: Security Hub は検出結果 { $id } のワークフローステータスを設定しませんでした: { $code }: { $message }
export-workflow-done = keibi: 検出結果 { NUMBER($set, useGrouping: "false") } 件のワークフローステータスを設定しました (呼び出し { NUMBER($calls, useGrouping: "false") } 回、受け付けられなかったもの { NUMBER($refused, useGrouping: "false") } 件)
fnd-pruned = keibi: { $cutoff } より前に最後に検出された検出結果 { $findings }件と履歴 { $history }件を削除しました。ストア { $before } → { $after }
fnd-status = keibi: { $id } { $status }: { $title }
fnd-expires-bad = --expires '{ $value }': 期間（90m、24h、7d、2w）または時刻で指定してください
fnd-expires-past = --expires '{ $value }' は過去です
fnd-ip-bad = --ip '{ $value }' はアドレスでも CIDR 範囲でもありません
fnd-suppress-empty = --type、--resource、--ip、--user のいずれかを指定してください
fnd-suppressed = keibi: { $rule }。保存済みの検出結果 { $n }件を抑制しました
fnd-import-long-line = { $file }:{ $line }: 行が { $mib } MiB を超えています
fnd-import-not-finding = { $file }:{ $line }: 検出結果ではありません（import は `keibi scan --format jsonl` の出力を読みます）
fnd-import-bad-id = { $file }:{ $line }: { $id } は検出結果の ID ではありません
fnd-import-too-many = { $file }: 検出結果が { $max }件を超えています（スキャンが書くのは最大 { $scan }件）。ファイルを分割してください
fnd-import-again = keibi: { $file } は以前にインポート済みです（内容が同じ）。何も変更していません
fnd-imported = keibi: 検出結果 { $n }件を { $store } にインポートしました: 新規 { $new }件、件数の増加 { $grew }件、抑制 { $suppressed }件
fnd-stdin = 標準入力

## keibi findings show: 項目名（コードが桁をそろえる）と値
show-id = ID
show-type = 種類
show-severity = 重要度
show-status = 状態
show-resource = リソース
show-actor = アクター
show-seen = 検出期間
show-detector = 検出器
show-mitre = MITRE ATT&CK
show-todo = 対処:
show-evidence = 根拠となる記録:
show-history = 履歴:
show-status-by = {" "}変更者 { $by }
show-status-at = {" "}日時 { $at }
show-status-note = : { $note }
show-actor-value = アドレス { $ips }、ユーザー { $users }{ $app }
show-actor-app = 、アプリケーション { $app }
show-seen-value = { $first }〜{ $last }（イベント { $n }件）
show-evidence-event = {"  "}{ $source } のイベント { $id }
show-history-line = {"  "}{ $at }  { $what }  件数 { $count }  重要度 { $severity }
show-history-by = {"  "}変更者 { $by }
# 保存済みの検出結果に起きたこと（ストアの履歴の what）。
history-new = 新規
history-grew = 件数の増加
history-severity_raised = 重要度の引き上げ
history-closed = 終了
history-acknowledged = 確認済み
history-resolved = 解決済み
history-reopened = 再オープン
history-suppressed = 抑制済み

## keibi findings info
info-store = ストア
info-size = サイズ
info-findings = 検出結果
info-history = 履歴
info-rules = ルール
info-sources = ソース
info-size-value = { $total }（ファイル { $file }、先行書き込みログ { $wal }、内部の空き { $free }）
info-findings-value = { $n }件（{ $by }）
info-by-status = { $status } { $n }件
info-history-value = { $n }件
info-rules-value = 抑制ルール { $n }件
info-sources-value = チェックポイント { $n }件

## keibi rules list: 表の列名
rules-col-severity = 重要度
rules-col-type = 種類
rules-col-mitre = MITRE
rules-col-source = 検出元
rules-col-origin = 定義場所
# 組み込みの検出器の行の定義場所（ルールはそのファイル）。
rules-origin-detector = 組み込みの検出器

## パーサーが行を認識できなかった理由（keibi-parse の理由を locale::library_text が
## 表示の直前に日本語にする。JSON などの詳細は英語のまま）
why-pg-prefix = log_line_prefix '{ $prefix }' とそれに続く LOG: などのレベルがありません
why-pg-known-prefix = 既知の log_line_prefix とそれに続く LOG: などのレベルがありません（--pg-prefix で log_line_prefix を指定してください）
why-pg-orphan = { $word } の行の前に、そのプロセスの報告がありません
why-pg-chunk = 先頭行を読めなかった報告の断片 [{ $n }-{ $m }] です
why-pg-syslog = PostgreSQL のメッセージの前に syslog のヘッダー（時刻、ホスト、program[pid]:）がありません
why-pg-jsonlog = jsonlog の JSON オブジェクトではありません
why-pg-cnpg = CloudNativePG の JSON オブジェクトではありません
why-pgbouncer = PgBouncer のログ行（時刻、[pid]、レベル）ではありません
why-my-error = エラーログの行（タイムスタンプ、スレッド ID、[レベル]、メッセージ）ではありません
why-my-error-time = タイムスタンプで始まるエラーログの行ではありません
why-my-banner = タイムスタンプのある行より前の起動時のバナーです
why-my-syslog-pg = MySQL/MariaDB ではなく PostgreSQL の syslog 行です
why-my-general = 一般クエリログの記録（時刻、ID、コマンド、引数）ではありません
why-my-slow = スロークエリログの記録（# Time: または # User@Host:）ではありません
why-my-slow-time = スロークエリログの `# Time:` 行の時刻を読めません
why-my-audit = server_audit の記録（timestamp,serverhost,username,...）ではありません
why-my-audit-fields = タイムスタンプの後に server_audit のフィールドがありません
why-my-audit-columns = server_audit のフィールド（host,connectionid,queryid,operation,database,object,retcode）がありません
why-my-audit-lineup = フィールドの並びが合いません
why-percona-json = Percona の監査 JSON 記録ではありません
why-percona = Percona の監査記録（XML、JSON、CSV）ではありません
why-heroku = Heroku のログ行（時刻、source[process]）ではありません
why-json = JSON として不正です: { $error }
why-json-object = JSON オブジェクトではありません
why-pg-csv = 時刻とカンマで始まる csvlog の記録ではありません
why-ct-no-name = CloudTrail の記録ではありません（eventName がありません）
why-ct-no-time = CloudTrail の記録ではありません（eventTime がありません）
why-ct-no-both = CloudTrail の記録ではありません（eventTime と eventName がありません）

## keibi findings import --from guardduty
fnd-gd-imported = keibi: { $region } の検出器 { $detectors }件から GuardDuty の検出結果 { $n }件を読み取り（API 呼び出し { $calls }回）、{ $store } に保存しました: 新規 { $new }件、更新 { $updated }件、変化なし { $unchanged }件。keibi の検出結果との関連付け { $linked }件、対象外の検出結果 { $skipped }件
fnd-gd-truncated = keibi: 条件に合う GuardDuty の検出結果が一度に読み取れる上限（5000件）を超えています。残りは --since をより後の日時にして読み取ってください
fnd-gd-region-failed = keibi: { $region } の GuardDuty を読めませんでした: { $error }
fnd-gd-all-failed = keibi: 指定した { NUMBER($n, useGrouping: "false") } 個のリージョンのいずれでも GuardDuty を読めませんでした

## keibi stream send
stream-sent = { $file } を { $subject } に { NUMBER($records, useGrouping: "false") } 件のレコード（{ NUMBER($bytes, useGrouping: "false") } バイト）として送信しました
stream-skipped = { $file }: 1 レコードの上限 1 MiB を超えるエントリ { NUMBER($n, useGrouping: "false") } 件は送信しませんでした
stream-bad-subject = { $subject } は送信先のサブジェクトに使えません。空白やワイルドカード（* と >）を含まない、ドット区切りのトークンにしてください
stream-no-nats = この keibi は NATS なしでビルドされています（cargo の feature nats）
