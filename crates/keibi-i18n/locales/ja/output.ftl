# 検出結果の表とまとめ（crates/keibi/src/output/findings.rs）。

col-status = 状態
col-severity = 重要度
col-count = 件数
col-type = 種類
col-actor = アクター
col-resource = リソース
col-seen = 検出期間
col-title = タイトル

actor-addresses = { $n }個のアドレス
actor-users = ユーザー { $n }件

severity-critical = 重大
severity-high = 高
severity-medium = 中
severity-low = 低

summary-none = 検出結果はありません
summary = 検出結果 { $total }件: { $parts }
summary-part = { $label } { $n }件

# 保存済みの検出結果の状態（keibi findings list）。GuardDuty の「抑制」に合わせる。
status-new = 新規
status-acknowledged = 確認済み
status-resolved = 解決済み
status-suppressed = 抑制済み
