# ベースライン（keibi-detect detectors/baseline）: ログインの何が初めてで、
# 通常は何か（explain.rs）、と AnomalousBehavior.SuccessfulLogin の検出結果。

org-unknown = 組織不明
usual-none = なし
usual-list = { $shown }
usual-more = { $shown } ほか{ $more }件
hours-none = なし
hours-any = 全時間帯

day-0 = 月曜日
day-1 = 火曜日
day-2 = 水曜日
day-3 = 木曜日
day-4 = 金曜日
day-5 = 土曜日
day-6 = 日曜日
day-short-0 = 月
day-short-1 = 火
day-short-2 = 水
day-short-3 = 木
day-short-4 = 金
day-short-5 = 土
day-short-6 = 日
days-none = なし
days-range = { $from }〜{ $to }
days-list = { $days }

factor-source-asn = 送信元 AS{ $asn } { $at }（{ $org }）（通常: { $usual }）
factor-source = 送信元 { $at }（通常: { $usual }）
factor-country = 国 { $now }（通常: { $usual }）
factor-app = クライアント { $now }（通常: { $usual }）
factor-auth = 認証方式 { $now }（通常: { $usual }）
factor-plaintext = TLS なし（通常: TLS）
factor-hour = 時刻 { $at }（通常 { $usual }）
factor-weekday = { $day }（通常 { $usual }）
factor-region = リージョン { $now }（通常: { $usual }）
factor-call = 初めての { $name }（通常の重要な API 呼び出し: { $usual }）

baseline-first-login = { $user } の初めての条件でのログイン: { $factors }
baseline-login = { $user } のいつもと違う日時のログイン: { $factors }
baseline-sentence = { $text }。
baseline-history = { $instance } の { $user } のプロファイルには、{ $days }日間で{ $logins }回のログインが記録されています。
baseline-why-usual-network = ネットワークはこのユーザーの通常のものです。同じ人が新しいツールを使ったか、いつもと違う時間に接続した可能性が高いです。
baseline-why-private = プライベートアドレスからの接続です。クライアントは社内ネットワークの中にあります（新しいアプリケーションサーバー、VPN のアドレスプール、または侵害されたホスト）。
baseline-why-failed-first = このアドレスからは先にログイン失敗が{ $failed }回あります。パスワードが推測されたか、試されました。
baseline-why-several = 複数の条件が同時に初めてです。
baseline-why-public = パブリックなインターネット上のアドレスです。
baseline-ask = このログインが本人によるものか { $user } に確認してください。本人でなければ、そのセッションを終了し（pg_terminate_backend / KILL）、{ $user } のパスワードを変更して、証拠の行以降にそのセッションが行った操作を確認してください。

# 操作の習慣（habits.rs）: 操作の検出結果の重要度が低である理由（そのユーザーの日常業務）、
# または中以上である理由（日常業務ではない）。
habit-what-catalog = システムカタログを参照しています
habit-what-account = アカウントを作成しています
habit-what-role = ロールや権限を変更しています
habit-doing-catalog = システムカタログを参照した
habit-doing-account = アカウントを作成した
habit-doing-role = ロールや権限を変更した
habit-nets-unknown = 不明なネットワーク
habit-usual = { $user } は日常的に{ $what }（{ $span }日間のうち{ $days }日、送信元 { $nets }、通常 { $hours }）。{ $user } にとっては通常の操作のため、重要度を低としています。
habit-unusual = { $user } は日常的に{ $what }が、今回はいつもと違います: { $factors }。重要度は下げていません。
habit-never = { $user } にはこのインスタンスでの通常の利用実績があります（{ $span }日間で{ $logins }回のログイン）が、これまで{ $doing }ことはありません。日常業務ではない操作です。
