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
