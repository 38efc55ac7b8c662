# keibi audit の表、サマリー、メッセージ、および keibi run の定期監査。

audit-none-failed = 失敗のチェックはありません。
audit-fix = 修正: { $fix }
audit-suppressed-heading = 抑制済み（受け入れた失敗。失敗には数えない）:
audit-col-area = 分野
audit-col-controls-passed = 合格コントロール
audit-col-controls-failed = 失敗
audit-col-suppressed = 抑制済み
audit-col-checks-passed = 合格チェック
audit-col-checks-failed = 失敗
audit-col-score = スコア
audit-col-control = コントロール
audit-total = 合計
audit-score = セキュリティスコア: { $score }（{ $total } 件のコントロールのうち { $passed } 件が合格{ $suppressed ->
    [0] {""}
   *[other] 。抑制済みのチェック { $suppressed } 件
}）
audit-score-none = セキュリティスコア: -（評価されたコントロールはありません）
audit-controls-count = コントロール { $n } 件
audit-nothing = 監査する対象がありません。--aws、--aws-json PATH、--pg URL、--mysql URL、または audit セクションのある --config FILE を指定してください
audit-closing = 監査: 失敗 { $failed } 件、合格 { $passed } 件、抑制済み { $suppressed } 件のチェック。スコア { $score }。問題 { $problems } 件

audit-run-done = 設定の監査: 失敗 { $failed } 件、合格 { $passed } 件、抑制済み { $suppressed } 件のチェック。検出結果は新規 { $new } 件、解決 { $resolved } 件、再オープン { $reopened } 件。問題 { $problems } 件
audit-run-problem = 設定の監査: { $problem }
audit-run-failed = 設定の監査の結果を保存できません: { $error }
