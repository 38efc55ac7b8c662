# keibi run のログの行（crates/keibi/src/cmd/run.rs）: `keibi: LEVEL:` の後の文と、JSON
# のログの `msg`（ほかのキーは機械向けのフィールドで、言語によらず同じ）。

run-level-warn = 警告
run-level-error = エラー
run-serving = http://{ $at }/metrics と /healthz を提供しています
run-not-loopback = { $at } はループバックアドレスではありません: ほかのマシンから /metrics と /healthz を読めます
run-listen-not-loopback = { $key }: { $at } はループバックアドレスではありません: ほかのマシンからログを送れます
run-store = ストア { $path }
run-no-reload = SIGHUP: 再読み込みする設定ファイルがありません（--config）
run-reload-later = 再読み込み: sources、detection、rules、store、server、log の変更は次の起動で反映されます
run-reload-keeping = 再読み込み: 前の設定のままにします: { $reason }
run-reload-problem = 再読み込み: { $problem }
run-reload-kept = 再読み込み: 前の設定のままにします
run-store-failed = { $reason }。停止しました: ストアにはそれまでにコミットしたものがすべて残っており、次の起動で残りをもう一度読みます
run-profiles-written = プロファイル { $n }件を { $path } に書き出しました
run-stopped = 停止しました。読んだものはすべてコミット済みです
run-following = { $what } を追跡しています
run-resumed = ストアにあるファイルのチェックポイント { $n }件
run-retention = 保持期間: { $cutoff } 以降変化のない検出結果 { $findings }件と履歴 { $history }件を削除しました。ストア { $bytes } バイト（検出結果 { $stored }件）{ $export }
run-retention-export = 、{ $path } にエクスポート済み
run-retention-failed = 保持期間: 何も削除していません。次の回にもう一度試します: { $reason }
run-global = 第 2 段: 検出結果の変更 { NUMBER($read, useGrouping: "false") }件を読み、アドレスとプリンシパル { NUMBER($keys, useGrouping: "false") }件を判定、グローバルな検出結果 { NUMBER($found, useGrouping: "false") }件が新規または増加
run-global-failed = 第 2 段: 何も記録していません。次の回に再試行します: { $reason }
run-profiles = ストアにある振る舞いのプロファイル { $n }件
run-profiles-skipped = 保存済みのプロファイル { $n }件を読み取れませんでした（スキップ）
run-finding = 検出結果（{ $what }）: { $label } { $severity } { $type } { $id } { $title }
run-finding-new = 新規
run-finding-reopened = 再オープン
run-finding-raised = 重要度が上昇
run-finding-changed = 変更
run-reading = { $file } を { $format } として読んでいます
run-stopping = 停止中: 読んだものをコミットしています
run-reloaded = 設定とリストを再読み込みしました
run-store-back = ストアが再び書き込みを受け付けます: 保留していたバッチをコミットしました
run-held = { $reason }。バッチを保留し（その間は読まず、チェックポイントも進めません）、{ $secs } 秒後にもう一度試します
run-ended = すべてのソースが終了しました
run-no-sources = 追跡するものがありません: パスを指定するか、設定ファイルに sources を書いてください
respond-run-started = 自動対応: 有効 (ルール { $rules } 件、{ $n ->
    [0] 実行手段なし: アクションは記録のみで実行されません
   *[other] 実行手段 { $names }
  })
respond-run-planned-why = アクション { $id }: { $what } — { $state } (ルール { $rule }): { $reason }
respond-run-cannot-start = 自動対応を開始できません: { $reason }
respond-run-planned = アクション { $id }: { $what } — { $state } (ルール { $rule })
respond-run-moved = アクション { $id }: { $what } — { $from } → { $to }
respond-run-moved-why = アクション { $id }: { $what } — { $from } → { $to }: { $detail }
respond-run-store = 自動対応: ストアが処理を受け付けませんでした ({ $reason })。再試行します

# keibi run --worker (crates/keibi/src/cmd/run_worker.rs).
run-worker-no-stream = keibi run --worker はパーティション分割されたストリームを読みます。設定ファイルの stream セクションで指定してください（stream.nats または stream.kinesis、docs/scaling.md）
run-worker-stream-unavailable = ストリーム { $what }: { $reason }
run-worker-started = ワーカー { $id } が { $stream } を読んでいます。リースは { $ttl } 秒で、{ $renew } 秒ごとに更新します
worker-claimed = パーティション { $partition } を取得しました（リースのエポック { $epoch }）
worker-released = パーティション { $partition } を最後のコミットの後に手放しました
worker-ended = パーティション { $partition } を最後まで読みました
worker-lost = リース { $lease } を失いました（期限内に更新できなかったか、他のワーカーが引き継ぎました）。その処理はコミットせずに停止し、新しい担当がストアのチェックポイントから読み直します
worker-rebalance = パーティションを { $owned } 個担当しており、ワーカー { $workers } 台での公平な分担 { $share } 個を超えています。最後に取得したものから手放します
worker-role-sender = 通知、自動対応、保持期間による削除、設定の監査
worker-role-global = パーティションをまたぐ検出
worker-role-started = このワーカーが { $role } を担当します
worker-role-stopped = このワーカーは { $role } の担当を外れました
worker-role-failed = { $role } をこのワーカーで開始できません: { $reason }
worker-partition-failed = パーティション { $partition } が停止しました: { $reason }。後でもう一度取得します
worker-store = ストアを使用できません: { $reason }（続くと保持しているリースは期限切れになります）
worker-stream = ストリームのパーティション一覧を取得できません: { $reason }
