# keibi timeline（crates/keibi/src/cmd/timeline.rs）: 表の列、アクティビティの種別、
# 標準エラーに出す行。

tl-col-time = 時刻
tl-col-kind = 種別
tl-col-count = 回数
tl-col-address = 送信元
tl-col-who = ユーザー
tl-col-resource = リソース
tl-col-what = 内容

tl-kind-login_ok = ログイン成功
tl-kind-login_failed = ログイン失敗
tl-kind-probe = 探索
tl-kind-disconnect = 切断
tl-kind-statement = ステートメント
tl-kind-error = エラー
tl-kind-api_call = API 呼び出し
tl-kind-finding = 検出結果: { $what }
tl-finding-line = ［{ $severity }］{ $title }（{ $id }）

tl-none = keibi: この期間に、指定したアクターの記録はありません
tl-cut = keibi: 先頭の { $limit }行だけを表示しています。期間を狭めるか、--limit を増やしてください
tl-dropped = keibi: この期間の日付のイベントのうち { $n }件は保存されていません（コミットごとの上限を超えたため）。記録の一部が欠けている可能性があります
tl-no-actor = keibi timeline: 送信元（--ip）、ユーザー（--user）、プリンシパル（--principal）、または検出結果（--around）を指定してください
tl-too-many = keibi timeline: 送信元、ユーザー、プリンシパルはそれぞれ最大 { $max }件です
tl-window = keibi timeline: --until が --since より前です
tl-around-needs-store = keibi timeline: --around は検出結果をストアから読みます。ファイルと一緒に --store を指定してください
tl-nothing-read = keibi timeline: 指定したファイルから何も読めませんでした
