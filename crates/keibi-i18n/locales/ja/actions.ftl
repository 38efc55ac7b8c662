# keibi actions: 対応ジャーナルのコマンド（crates/keibi/src/cmd/actions.rs）。
# 名前、アドレス、ARN、理由はエスケープ済みで渡される。訳さない。

act-no-store = { $path }: ストアがありません（keibi run がストアに対応ジャーナルを書きます。または --store FILE を指定してください）
act-not-found = ID が { $id } で始まる対応はありません
act-bad-state = { $value } は状態ではありません。次のいずれかです: { $states }
act-bad-by = --by: 制御文字を含まない 200 文字以内の名前を指定してください
act-bad-wait = --wait { $value }: 30s、2m、1h のような時間を指定してください

act-col-id = ID
act-col-state = 状態
act-col-mode = モード
act-col-action = 対応
act-col-target = 対象
act-col-finding = 検出結果の種類
act-col-rule = ルール
act-col-updated = 更新
act-col-expires = 期限
act-none = 対応はありません。
act-count = 対応 { $n }件
act-paused-banner = 停止中（{ $by }、{ $at } から）: keibi run は対応を計画して記録しますが、`keibi actions resume` まで何も変更しません。
act-paused-banner-reason = 停止中（{ $by }、{ $at } から。理由: { $reason }）: keibi run は対応を計画して記録しますが、`keibi actions resume` まで何も変更しません。

act-state-planned = 計画済み
act-state-approved = 承認済み
act-state-executing = 実行中
act-state-executed = 実行済み
act-state-failed = 失敗
act-state-undoing = 取り消し中
act-state-undone = 取り消し済み
act-state-expired = 期限切れで解除
act-state-simulated = シミュレーション
act-state-skipped = スキップ
act-state-cancelled = 中止

act-mode-simulate = シミュレーション
act-mode-approve = 承認制
act-mode-auto = 自動

act-kind-block_address = アドレスをブロック
act-kind-lock_role = ロールをロック
act-kind-end_sessions = セッションを終了
act-kind-close_public_access = パブリックアクセス不可にする
act-kind-revoke_ingress = インバウンドルールを削除
act-kind-contain_principal = プリンシパルを封じ込め
act-kind-restore_logging = ログ記録を再開
act-kind-webhook = Webhook
act-kind-exec = コマンドを実行

act-target-address = { $address }
act-target-address-on = { $address }（{ $instance } 向け）
act-target-role = { $instance } のロール { $user }
act-target-sessions = { $instance } の { $user } のセッション
act-target-sessions-from = { $instance } の { $user } のセッション（送信元 { $address }）
act-target-resource = { $kind } { $resource }
act-target-ingress = { $resource } の { $cidr } からポート { $port } へのルール
act-target-principal = { $principal }
act-target-principal-key = { $principal } のアクセスキー { $key }
act-target-webhook = Webhook { $name }
act-target-exec = コマンド { $name }
act-target-place = アカウント { $account }、リージョン { $region }

act-label-action = 対応
act-label-state = 状態
act-label-mode = モード
act-label-target = 対象
act-label-where = 場所
act-label-finding = 検出結果
act-label-rule = ルール
act-label-reason = 理由
act-label-executor = 実行方法
act-label-attempts = 試行回数
act-label-created = 作成
act-label-updated = 更新
act-label-next = 次の試行
act-label-expires = 期限
act-label-expire-after = 有効期間
act-label-by = 操作した人
act-label-prior = 変更前
act-label-done = 実施内容
act-history = 履歴:
act-history-first = { $at }  { $to }（{ $by }）
act-history-move = { $at }  { $from } → { $to }（{ $by }）
act-never = なし

act-approved = { $id }（{ $action }: { $target }）を承認しました。keibi run が次に実行します。
act-cancelled = { $id }（{ $action }: { $target }）を中止しました。
act-undo-requested = { $by } が { $id }（{ $action }: { $target }）の取り消しを要求しました。取り消しはデーモン（keibi run）が行い、結果を記録します。`keibi actions show { $id }` で確認できます。
act-still-paused = 対応は停止中です。`keibi actions resume` まで何も実行されません。
act-undo-waiting = keibi run を最大 { $wait } 待ちます…
act-undo-done = { $id } を取り消しました。
act-undo-ended = { $id } は{ $state }です: { $reason }
act-undo-timeout = { $wait } 経っても { $id } は{ $state }のままです。このストアで keibi run が動いていますか？

act-refused-approve = { $id } は{ $state }（モード: { $mode }）です。承認できるのは、承認制で計画済みの対応だけです
act-refused-cancel = { $id } は{ $state }です。中止できるのは計画済みか承認済みの対応だけです
act-refused-undo = { $id } は{ $state }です。取り消せるのは実行済みの対応だけです
act-refused-undoable = { $id } は取り消せません。{ $action }は元に戻せない対応です（終了したセッション、送信したメッセージ、再開したログ記録はそのままです）
act-refused-moved = { $id } はその間に{ $state }になりました。何も変更していません

act-paused = { $by } が対応を停止しました。keibi run は対応を計画して記録しますが、`keibi actions resume` まで何も実行しません。
act-already-paused = 対応はすでに停止中です（{ $by }、{ $at } から）。
act-resumed = { $by } が対応を再開しました。keibi run は期限の来た対応を再び実行します。
act-not-paused = 対応は停止していませんでした。
