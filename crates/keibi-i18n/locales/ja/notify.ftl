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

# アクションの通知 (自動対応): 検出結果に対して keibi が実行した、実行する予定の、
# 承認を待っている、実行できなかった、元に戻した操作。$what は notify-action-do-*
# (did-* も同じ文言) の「～を～」で、見出しの動詞 (します、しました) が続きます。
notify-action-simulated = シミュレーション: keibi は { $what }します (何も変更していません)
notify-action-approval = 承認待ち: keibi は { $what }します。keibi actions approve { $id } で承認してください
notify-action-planned = 予定: keibi は { $what }します
notify-action-executed = keibi が { $what }しました
notify-action-executed-until = keibi が { $what }しました ({ $until } まで)
notify-action-failed = 失敗: keibi は { $what }できませんでした
notify-action-undoing = 取り消し中: keibi が { $what }したことを元に戻しています
notify-action-undone = 取り消し: { $by } の操作で、keibi が { $what }したことを元に戻しました
notify-action-expired = 期限切れ: keibi が { $what }したことを期限により元に戻しました
notify-action-skipped = 見送り: keibi は { $what }しませんでした
notify-action-cancelled = 取り消し: { $by } がキャンセルしたため、keibi は { $what }しません
notify-action-placed = { $where } で { $what }
notify-action-for = { $instance } について { $what }
notify-action-where-host = このホストのファイアウォール (nftables)
notify-action-where-nacl = { $instance } のネットワーク ACL
notify-action-where-nacls = 設定済みのネットワーク ACL
notify-action-do-block = { $address } をブロック
notify-action-did-block = { $address } をブロック
notify-action-do-lock = { $instance } のロール { $user } をロック
notify-action-did-lock = { $instance } のロール { $user } をロック
notify-action-do-end = { $instance } のロール { $user } のセッションを終了
notify-action-did-end = { $instance } のロール { $user } のセッションを終了
notify-action-do-end-from = { $instance } のロール { $user } の送信元 { $address } からのセッションを終了
notify-action-did-end-from = { $instance } のロール { $user } の送信元 { $address } からのセッションを終了
notify-action-do-close = { $resource } をパブリックアクセス不可に
notify-action-did-close = { $resource } をパブリックアクセス不可に
notify-action-do-revoke = { $resource } のインバウンドルール (ポート { $port } を { $cidr } に公開) を削除
notify-action-did-revoke = { $resource } のインバウンドルール (ポート { $port } を { $cidr } に公開) を削除
notify-action-do-deactivate-key = { $principal } のアクセスキー { $key } を無効化
notify-action-did-deactivate-key = { $principal } のアクセスキー { $key } を無効化
notify-action-do-revoke-sessions = { $principal } のセッションを無効化
notify-action-did-revoke-sessions = { $principal } のセッションを無効化
notify-action-do-restore-logging = 証跡 { $resource } のログ記録を再開
notify-action-did-restore-logging = 証跡 { $resource } のログ記録を再開
notify-action-do-webhook = 検出結果を Webhook { $name } に送信
notify-action-did-webhook = 検出結果を Webhook { $name } に送信
notify-action-do-exec = 検出結果を渡してコマンド { $name } を実行
notify-action-did-exec = 検出結果を渡してコマンド { $name } を実行
notify-action = アクション
notify-action-id-value = { $id } (ルール { $rule }、モード { $mode })
notify-action-reason = 理由
notify-action-step-approve = 承認する: keibi actions approve { $id }
notify-action-step-cancel = キャンセルする: keibi actions cancel { $id }
notify-action-step-undo = 元に戻す: keibi actions undo { $id }
notify-action-step-show = 詳細と履歴: keibi actions show { $id }
notify-email-subject-action = [keibi] { $title }
