# 共通の語: 期間、一覧、頻度、時間帯。用語は docs/ja/glossary.md に従う。

nothing = {""}

span-under-second = 1秒未満
span-one-second = 1秒
span-seconds = { $s }秒
span-minutes = { $m }分
span-hours = { $h }時間{ $m }分
span-days = { $d }日{ $h }時間

list-sep = 、
list-unknown = 不明
list-and = { $rest }、{ $last }
list-more = { $shown } ほか{ $more }件
list-not-all = { $list }（一覧にない分あり）

rate-second = 、毎秒約{ $n }回
rate-minute = 、毎分約{ $n }回
rate-hour = 、毎時約{ $n }回

hours-range = { $from }〜{ $to } { $zone }

still-going = ログの終わり（{ $end }）の時点でも続いていました。現在も続いていないか確認してください。
still-last-failure = 最後の失敗は { $last } で、このインスタンスのログの終わり（{ $end }）の{ $gap }前です。
still-last-attempt = 最後の試行は { $last } で、このインスタンスのログの終わり（{ $end }）の{ $gap }前です。
still-last-connection = 最後の接続は { $last } で、このインスタンスのログの終わり（{ $end }）の{ $gap }前です。
