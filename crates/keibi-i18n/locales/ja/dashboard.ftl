# ダッシュボードの画面（keibi-server、issue 19）。ログ由来の値は引数として渡し、
# 画面側でエスケープする。

dash-nav-overview = 概要
dash-nav-findings = 検出結果
dash-nav-suppressions = 抑制ルール
dash-logout = ログアウト
dash-nav-settings = 設定
dash-skip = 本文へ移動
dash-signed-in = { $user }（{ $role }）
dash-role-viewer = 閲覧者
dash-role-responder = 対応者
dash-role-admin = 管理者
dash-live-new = このページの表示後に変更された検出結果: %n 件
dash-live-reload = 再読み込み
dash-none = なし
dash-any = すべて
dash-never = 無期限

## 重要度と状態

dash-sev-critical = 重大
dash-sev-high = 高
dash-sev-medium = 中
dash-sev-low = 低
dash-sev-high-up = 高以上
dash-sev-medium-up = 中以上
dash-sev-low-up = 低以上
dash-status-new = 新規
dash-status-acknowledged = 確認済み
dash-status-resolved = 解決済み
dash-status-suppressed = 抑制済み
dash-status-open = 未解決（新規・確認済み）
dash-status-by = { $by }、{ $at }
dash-status-note = ：{ $v }

## 概要

dash-open-findings = 重要度別の未解決の検出結果
dash-chart-title = 過去 30 日間の検出結果
dash-chart-label = 棒グラフ: 過去 30 日間に日ごとに初めて検出された検出結果の件数（重要度別の積み上げ）
dash-top-ips = 送信元アドレス（上位）
dash-top-users = 標的になったユーザー・プリンシパル（上位）
dash-top-resources = 標的になったリソース（上位）
dash-posture = 設定の監査
dash-posture-line = 現在失敗しているチェック { $failing } 件、過去に失敗し現在は合格しているチェック { $passing } 件（一度でも失敗したチェックのうち { $rate }%）。
dash-posture-note = ストアにある監査の検出結果から集計しています。一度も失敗していないチェックは検出結果を残さないため、この行は全チェックに対する合格率ではありません（keibi run が定期的に監査している場合は、上の前回の監査の行が全チェックに対する合格率です）。
dash-posture-rate = 前回の監査（{ $at }）: { $checks } 件のチェックのうち { $passed } 件が合格（{ $rate }%）、設定による抑制 { $suppressed } 件。
dash-posture-none = ストアに設定の監査の検出結果はありません（keibi audit またはデーモンの定期監査を実行してください）。
dash-sources = ソース
dash-sources-none = このストアにはまだどのソースも読み込まれていません。
dash-sources-note = チェックポイントから表示しています。位置はソースごとの単位（バイト数、レコード数）で、時刻はデーモンが最後にコミットした時刻です。
dash-col-source = ソース
dash-col-position = 位置
dash-col-read-at = 最終読み込み
dash-col-lag = 経過時間

## 検出結果の一覧

dash-col-severity = 重要度
dash-col-title = 検出結果
dash-col-type = タイプ
dash-col-resource = リソース
dash-col-actor = アクター
dash-col-status = 状態
dash-col-count = 件数
dash-col-last-seen = 最終検出
dash-f-severity = 重要度（以上）
dash-f-account = アカウント
dash-f-ip = アドレス
dash-f-user = ユーザーまたはプリンシパル
dash-f-since = 最終検出の期間
dash-f-until = 最終検出の終了日
dash-f-sort = 並べ替え
dash-f-apply = 適用
dash-f-clear = クリア
dash-f-saved = このページのアドレスにフィルターが含まれます。ブックマークすると保存できます。
dash-since-1h = 1 時間以内
dash-since-24h = 24 時間以内
dash-since-7d = 7 日以内
dash-since-30d = 30 日以内
dash-sort-severity = 重要度
dash-sort-last-seen = 最終検出
dash-sort-first-seen = 初回検出
dash-sort-count = 件数
dash-showing = { $total } 件中 { $from }〜{ $to } 件
dash-no-findings = 条件に一致する検出結果はありません。
dash-pages = ページ
dash-prev = 前へ
dash-next = 次へ

## 検出結果

dash-first-seen = 初回検出
dash-app = クライアント
dash-detector = 検出元
dash-explanation = 何が起きたか
dash-remediation = 対処
dash-workflow = 対応
dash-note = メモ
dash-note-optional = メモ（任意）
dash-do-acknowledge = 確認済みにする
dash-do-resolve = 解決済みにする
dash-do-reopen = 再オープン
dash-do-note = メモを追加
dash-do-suppress = 同様の検出結果を抑制…
dash-do-approve = 承認
dash-do-cancel = キャンセル
dash-do-delete = 削除
dash-evidence = 証拠
dash-evidence-note = イベントの場所（ログファイルと行、または CloudTrail のイベント ID）です。ストアには参照だけが保存されます。最初の 10 件は、参照先がこの keibi の設定済みソースのファイルでまだ残っていれば、その行をログファイルから読んで表示します。
dash-timeline = タイムライン
dash-tl-window = 同じアドレス・ユーザー・プリンシパルが { $from } から { $to } までにデータベースのログと CloudTrail で行ったこと（間に検出結果の履歴を挟んで表示）。
dash-tl-no-actor = 追跡できるアドレス、ユーザー、プリンシパルがありません。
dash-tl-empty = この期間に記録されたものはありません（タイムラインは keibi run が読み込んだログから記録します）。
dash-tl-detail = 場所
dash-tl-error-code = エラー { $v }
dash-tl-cut = 最初の { $n } 件のみ表示しています。
dash-tl-dropped = この期間の日付のイベント { $n } 件は記録されていません（バッチの上限超過）。この期間の表示は不完全な可能性があります。
dash-tl-login_ok = ログイン成功
dash-tl-login_failed = ログイン失敗
dash-tl-probe = ログインなしの接続
dash-tl-disconnect = 切断
dash-tl-statement = SQL 文
dash-tl-error = エラー
dash-tl-api_call = AWS API 呼び出し
dash-actions = 自動対応のアクション
dash-action = アクション
dash-target = 対象
dash-decide = 判断
dash-mode = モード
dash-rule = ルール
dash-updated = 更新
dash-history = 履歴
dash-when = 日時
dash-what = 内容
dash-by = 実行者
dash-hist-new = 検出
dash-hist-grew = 活動の継続
dash-hist-severity_raised = 重要度の引き上げ
dash-hist-closed = 終了
dash-hist-reopened = 再オープン
dash-hist-acknowledged = 確認済み
dash-hist-resolved = 解決済み
dash-hist-suppressed = 抑制済み
dash-hist-unsuppressed = 抑制の解除
dash-hist-note = メモ

## 変更の後

dash-done-acknowledged = 確認済みにしました。
dash-done-resolved = 解決済みにしました。
dash-done-reopened = 再オープンしました。
dash-done-noted = メモを追加しました。
dash-done-suppressed = 抑制ルールを作成しました。
dash-done-unsuppressed = 抑制ルールを削除しました。このルールで抑制されていた検出結果は未解決に戻りました。
dash-done-approved = アクションを承認しました。次に自動対応が実行します。
dash-done-cancelled = アクションをキャンセルしました。
dash-done-moved = アクションの状態が先に変わったため、何も行いませんでした。

## アクター

dash-actor-ip = 送信元アドレス
dash-actor-user = データベースユーザー
dash-actor-principal = IAM プリンシパル
dash-actor-count = 検出結果 { $n } 件（最新 100 件を表示）
dash-actor-all = 検出結果の一覧ですべて表示
dash-reputation = 評価
dash-rep-none = keibi が把握しているリストには含まれていません。
dash-rep-tor = Tor 出口ノード（検出結果による）
dash-rep-threat = 脅威リストに掲載（検出結果による）
dash-rep-daemon = デーモンが読み込んだリストによる判定です。
dash-rep-store-only = ストアにあるこのアドレスの検出結果のみによる判定です。デーモンが読み込んだリストはここでは参照していません。
dash-profile = プロファイル
dash-profile-none = 保存されたプロファイルはありません（ベースラインがこのユーザーをまだ学習していないか、デーモンのストアではありません）。
dash-profile-login = { $v } へのログイン
dash-profile-principal = AWS での活動
dash-profile-nets = 通常のネットワーク
dash-profile-apps = 通常のクライアント
dash-profile-countries = 国
dash-profile-regions = リージョン
dash-profile-calls = 通常の API 呼び出し
dash-profile-hours = 通常の時間帯（表示タイムゾーン）
dash-profile-events = 学習したイベント数
dash-net-local = データベースホスト自身

## 抑制ルール

dash-rule-new = 新しい抑制ルール
dash-rule-from = 次の検出結果から入力
dash-rule-network = ネットワーク
dash-rule-expires = 有効期限
dash-rule-reason = 理由
dash-rule-help = 入力した項目がすべて一致する検出結果を抑制します。空欄の項目は何にでも一致します。ネットワークは検出結果のすべてのアドレスが含まれる場合に、ユーザーはそれが検出結果の唯一のユーザーである場合に一致します。
dash-rule-fixed = （検出結果のとおり。見えない文字や表示方向を変える文字を含むため、エスケープして表示しています）
dash-rules = ルール
dash-expired = 期限切れ
dash-exp-1d = 1 日
dash-exp-7d = 7 日
dash-exp-30d = 30 日
dash-exp-90d = 90 日

## 設定

dash-settings-read-only = 読み取り専用です。変更するには設定ファイルを編集してデーモンを再起動してください。シークレットは表示しません。
dash-store = ストア
dash-zone = 表示タイムゾーン
dash-lists = 読み込まれたリスト
dash-list-name = リスト
dash-list-entries = 件数
dash-list-source = 取得元
dash-list-loaded = 読み込み日時
dash-configuration = 構成
dash-not-given = ダッシュボードに渡されていません（ストアだけを指定した keibi dashboard では分かりません）。
