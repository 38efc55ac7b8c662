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

# N3: ルーティング (`keibi notify routes`): ルートが一致しなかった理由と、その扱い。
notify-miss-severity = 重要度 { $was } は { $at_least } 未満です
notify-miss-type = 種類が { $patterns } のどれにも一致しません
notify-miss-resource = 対象リソースが { $patterns } のどれにも一致しません
notify-miss-account = アカウントが { $patterns } のどれにも一致しません
notify-miss-no-account = この検出には AWS アカウントがありません (ルートの条件: { $patterns })
notify-miss-engine = データベースエンジンが { $engines } ではありません
notify-miss-no-engine = この検出にはデータベースエンジンがありません (ルートの条件: { $engines })
