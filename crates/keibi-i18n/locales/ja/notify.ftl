# 通知 (crates/keibi-notify): すべてのチャネルに共通する文言。

notify-test-prefix = [テスト]
notify-what = 種類
notify-where = 対象
notify-who = 誰が
notify-when = 期間
notify-when-value = { $first } から { $last }
notify-count = 件数
notify-severity = 重大度
notify-description = 何が起きたか
notify-steps = 今すぐすること
notify-link = keibi で開く
notify-id = 検出 ID
notify-change-new = 新しい検出
notify-change-reopened = 再オープン: 解決済みの後に再び活動がありました
notify-change-raised = 重大度が { $from } から { $to } に上がりました
notify-change-still-going = 継続中: { $since } 以降 { $n } 件 (新たに { $more } 件)、送信元 { $ips } 件
notify-change-resolved = 解決済み
notify-change-resolved-by = { $by } が解決済みにしました
notify-change-test = `keibi notify test` によるテストメッセージです。実際には何も起きていません
notify-truncated = …(省略)

# N1: `keibi run` の通知のログ行と、`keibi notify test` / `status`。

notify-run-started = 通知: { $n } 件のチャネルに送ります ({ $names })
notify-run-sent = { $channel } に通知しました: 検出結果 { $id } の { $event } ({ $detail })
notify-run-retry = { $channel } への通知が届きませんでした ({ $error })。{ $at } に再試行します
notify-run-failed = { $channel } への通知に失敗しました。再試行しません: { $error }
notify-run-store = 通知: ストアを読み書きできません ({ $reason })。1 秒後に再試行します
notify-run-cannot-start = 通知を開始できません: { $reason }
notify-test-sent = { $channel } ({ $kind }) にテストメッセージを送りました: { $detail }
notify-test-failed = { $channel } ({ $kind }) にテストメッセージを送れませんでした: { $reason }
notify-test-unknown = { $file } に { $channel } という名前のチャネルはありません (チャネル: { $names })
notify-test-no-section = { $file } にチャネルを定義した notify セクションがありません
notify-status-unrouted = { $n } 件の変更がまだチャネルに割り当てられていません (keibi run が動いていないか、notify の設定なしで動いています)
notify-status-empty = 送信待ちの通知はありません。まだ何も通知していません。
notify-status-pending = 送信待ち
notify-status-failed = 失敗
notify-col-channel = チャネル
notify-col-pending = 送信待ち
notify-col-failed = 失敗
notify-col-sent = 送信済み
notify-col-event = 変更
notify-col-finding = 検出結果
notify-col-attempts = 試行
notify-col-next = 次の試行
notify-col-when = 日時
notify-col-error = 最後のエラー
