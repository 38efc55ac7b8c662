# 通知 (crates/keibi-notify): すべてのチャネルに共通する文言。

notify-test-prefix = [テスト]
notify-what = 種類
notify-where = 対象
notify-who = 誰が
notify-when = 期間
notify-when-value = { $first } から { $last }
notify-count = 件数
notify-severity = 重要度
notify-description = 何が起きたか
notify-steps = 今すぐすること
notify-link = keibi で開く
notify-id = 検出結果 ID
notify-change-new = 新しい検出
notify-change-reopened = 再オープン: 解決済みの後に再び活動がありました
notify-change-raised = 重要度が { $from } から { $to } に上がりました
notify-change-still-going = 継続中: { $since } 以降 { $n } 件 (新たに { $more } 件)、送信元 { $ips } 件
notify-change-resolved = 解決済み
notify-change-resolved-by = { $by } が解決済みにしました
notify-change-test = `keibi notify test` によるテストメッセージです。実際には何も起きていません
notify-truncated = …(省略)

# N2: チャットのチャネル (Slack、Teams、Chatwork): 保留した通知のまとめと日次サマリー。
notify-chat-digest-title = { $from } から { $to } までに保留した通知 { $n }件
notify-chat-more = ほか { $n }件
notify-chat-summary-title = { $at } 時点の未解決の検出結果: { $n }件
notify-chat-summary-none = 未解決の検出結果はありません。

# N3: ルーティング (`keibi notify routes`): ルートが一致しなかった理由と、その扱い。
notify-miss-severity = 重要度 { $was } は { $at_least } 未満です
notify-miss-severity-label = 重要度 { $was } は{ $label } ({ $at_least }) 未満です
notify-miss-type = 種類が { $patterns } のどれにも一致しません
notify-miss-resource = 対象リソースが { $patterns } のどれにも一致しません
notify-miss-account = アカウントが { $patterns } のどれにも一致しません
notify-miss-no-account = この検出には AWS アカウントがありません (ルートの条件: { $patterns })
notify-miss-engine = データベースエンジンが { $engines } ではありません
notify-miss-no-engine = この検出にはデータベースエンジンがありません (ルートの条件: { $engines })
notify-routes-finding = { $id }: { $label } { $severity } { $type } (リソース { $resource }、状態 { $status })
notify-routes-at = { $at } の新しい通知として、通知処理がストアに記録している内容 (ルートごとにこの検出結果を最後に通知した時刻、待機中のグループ) とあわせて振り分けました。
notify-routes-told = ルート { $route } で最後に通知した時刻: { $at } (重要度 { $severity })。
notify-routes-quiet = { $until } まで通知停止時間帯です。重要度が低・中の通知はそれまで待ちます。
notify-routes-default = ルートが設定されていません。重要度が高・重大の検出結果はすべてのチャネルに送られます。
notify-routes-miss = { $n }. { $name }: 一致しません: { $why }
notify-routes-not-reached = { $n }. { $name }: 評価されません ({ $by } に一致し、continue がないため)
notify-routes-throttled = { $n }. { $name }: 一致しますが、スロットルにより { $until } まで送りません
notify-routes-match = { $n }. { $name }: 一致します
notify-routes-match-continue = { $n }. { $name }: 一致します。続くルートも評価します
notify-routes-no-channels = チャネルが設定されていません
notify-routes-send-now = → { $channel }: すぐに送信
notify-routes-send-later = → { $channel }: { $at } に送信 ({ $why })
notify-routes-already = → { $channel }: 前のルートで送信済み
notify-hold-group = group_wait
notify-hold-group-joined = group_wait (待機中の通知とまとめて)
notify-hold-quiet = 通知停止時間帯
notify-routes-nowhere = どのルートにも送られません。この検出結果はどのチャネルにも通知されません。
notify-routes-total = { $n } 件のチャネルに通知されます: { $channels }。

# メール (N4): 件名、送信数の上限で保留した通知のまとめ、日次サマリー。
notify-email-subject = [keibi] { $label } { $title }
notify-email-subject-resolved = [keibi] 解決済み: { $title }
notify-email-digest-subject = [keibi] 送信数の上限により保留した通知 { $n } 件
notify-email-digest-intro = このチャネルの送信数の上限により、{ $from } から { $to } までの通知 { $n } 件を保留しました。
notify-email-summary-subject = [keibi] 日次サマリー: 未解決の検出結果 { $n } 件 (重大 { $critical } 件、高 { $high } 件)
notify-email-summary-intro = { $at } 時点の未解決の検出結果: { $n } 件
notify-email-col-finding = 検出結果
notify-email-col-change = 通知の理由
notify-email-more = ほか { $n } 件

# N1: `keibi run` の通知のログ行と、`keibi notify test` / `status`。

notify-run-started = 通知: { $n } 件のチャネルに送ります ({ $names })
notify-run-sent = { $channel } に通知しました: 検出結果 { $id } の { $event } ({ $detail })
notify-run-sent-digest = { $channel } に { $n } 件の通知を 1 通にまとめて送りました ({ $detail })
notify-run-sent-summary = { $channel } に日次サマリーを送りました ({ $detail })
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
