# SQL のアクティビティの検出結果（crates/keibi-detect/src/detectors/activity/）:
# MassDestruction、RansomNote、SchemaEnumeration、OversizedStatement。
# 用語は docs/ja/glossary.md に従う。

act-name = { $name }
act-database = データベース { $name }

act-dur-s = { $n }秒
act-dur-min = { $n }分
act-dur-h = { $n }時間
act-dur-days = { $n }日

## Impact:RDS/MassDestruction

mass-title = { $instance } で { $actor } がテーブルまたはデータベース { $distinct }個を削除
mass-destroyed = { $actor }（送信元 { $ips }）が { $first }から{ $last }までに { $instance } のテーブルまたはデータベース { $distinct }個を削除しました（{ $what }）: { $list }。
mass-not-restored = ダンプからの復元や ETL の再投入であれば削除の直後に作り直されますが、{ $settle }分以内に作り直しも再投入もありませんでした。計画された作業でなければ、データの破壊を狙った攻撃の可能性があります。
mass-weighed = 削除は件数ではなく重みで数えます。データベースやスキーマは中のテーブルごと失われるためテーブル { $db }個分、{ $huge } 行以上を消したテーブルも同じく（{ $rows } 行以上は 2個分）と数え、今回の重みは合計 { $weight } で、しきい値は { $threshold } です。
mass-drops = DROP { $n }件
mass-truncates = TRUNCATE { $n }件
mass-deletes = WHERE 句のない DELETE { $n }件
mass-lock-pg = 計画された削除でなければ、{ $actor } を直ちにロックしてセッションを終了し、パスワードを変更してください（`ALTER ROLE "{ $actor }" NOLOGIN;`、`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ $actor }';`、`ALTER ROLE "{ $actor }" PASSWORD '<新しいパスワード>';`）。
mass-lock-mysql = 計画された削除でなければ、{ $actor } を直ちにロックして接続を切断し、パスワードを変更してください（`ALTER USER '{ $actor }'@'<ホスト>' ACCOUNT LOCK;`、`SELECT id FROM information_schema.processlist WHERE user = '{ $actor }';` で調べた接続ごとに `KILL <id>;`、`ALTER USER '{ $actor }'@'<ホスト>' IDENTIFIED BY '<新しいパスワード>';`）。
mass-restore = 失われたデータは、{ $first } の直前の時点を新しい DB インスタンスに復元して取り戻し、不足分をコピーしてください。Amazon RDS コンソールの［データベース］→ { $instance } →［アクション］→［特定時点への復元］、または `aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier { $instance } --target-db-instance-identifier { $instance }-restore --restore-time { $restore }` を使います。
mass-look = 身代金要求（README、RECOVER、WARNING といった名前のテーブルやデータベース）が残されていないか、削除の前に同じユーザーが大量の読み取りやエクスポートをしていないかを確認してください。

## Impact:RDS/RansomNote

ransom-title = { $instance } で身代金要求: データの削除の後に { $what } が残された
ransom-a-demand = 身代金要求文
ransom-destroyed = { $first }から{ $last }までに、{ $ips } から接続した { $users } が { $instance } のテーブルまたはデータベース { $n }個（{ $gone }）を削除しました。{ $created }{ $demand }
ransom-created = { $notes } が作成されました。
ransom-demand = 書き込まれた要求文:「{ $text }」。
ransom-campaign = インターネットに公開されたデータベースを狙う恐喝キャンペーンの典型的な手口です。データは暗号化ではなく削除されていることが多く、支払っても戻りません。
ransom-demand-title = { $instance } に身代金要求文の書き込み
ransom-demand-only = { $at }に { $ips } から接続した { $users } が { $instance } に身代金要求文を書き込みました:「{ $text }」。
ransom-not-seen = 通常これに伴うデータの削除はこのログには見当たりません（読み込んでいないログにあるか、ステートメントのログ記録の対象外の可能性があります）。
ransom-no-pay = 支払わないでください。この種の攻撃者がデータのコピーを残していることはまずありません。
ransom-close = データベースを直ちにインターネットから遮断し、実行したアカウントをロックして、すべてのデータベースユーザーのパスワードを変更してください。Amazon RDS コンソールの［データベース］→ { $instance } →［接続とセキュリティ］からセキュリティグループを開き、データベースポートへの 0.0.0.0/0 のインバウンドルールを削除します（または `aws rds modify-db-instance --db-instance-identifier { $instance } --no-publicly-accessible --apply-immediately`）。
ransom-restore = 最新のスナップショットまたは特定時点への復元で、最初の削除（{ $first }）の直前の状態を新しい DB インスタンスに復元し、失われたテーブルや空にされたテーブルを確認してください（`aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier { $instance } --target-db-instance-identifier { $instance }-restore --restore-time { $restore }`）。
ransom-keep = ログは証拠になるので、削除せずに保管してください。

## Discovery:RDS/SchemaEnumeration

enum-actor = { $client } の { $user }
enum-title = { $instance } でスキーマの列挙: { $actor } がシステムカタログ { $n }個を読み取り
enum-ran = { $actor } が { $first }から{ $last }までに { $instance } でシステムカタログへのクエリを{ $reads }回実行しました（対象: { $list }）。
enum-late = このクライアントはそれまで{ $span }にわたり、カタログを読まずにステートメントを{ $n }件実行していました。起動時にスキーマを調べるアプリケーションや ORM の動きとは異なります。
enum-credential = パスワードハッシュや認証情報を収めたカタログ（{ $list }）も読み取っています。
enum-server = サーバーのデータベース、ロール、権限の一覧を読み取っています。アプリケーションは通常これらを読みません。
enum-tool = クライアントは管理ツール { $tool } を名乗っています。人が閲覧している可能性が高いため、重要度を下げています。
enum-who = { $client } から { $user } を使っているのが誰かを確認してください。
enum-app = アプリケーションであれば、その時間帯に処理したエンドポイントに SQL インジェクションの脆弱性がないか調べ（通常のトラフィックの途中でカタログを読むのは典型的な兆候です）、InitialAccess:RDS/SQLInjection の検出結果も確認してください。
enum-lock-pg = 把握している人やツールでなければ、アカウントをロックし（`ALTER ROLE "{ $user }" NOLOGIN;`）、パスワードを変更したうえで（`ALTER ROLE "{ $user }" PASSWORD '<新しいパスワード>';`）、その後に読み取りやエクスポートをされたデータを確認してください。
enum-lock-mysql = 把握している人やツールでなければ、アカウントをロックし（`ALTER USER '{ $user }'@'<ホスト>' ACCOUNT LOCK;`）、パスワードを変更したうえで（`ALTER USER '{ $user }'@'<ホスト>' IDENTIFIED BY '<新しいパスワード>';`）、その後に読み取りやエクスポートをされたデータを確認してください。

## DefenseEvasion:RDS/OversizedStatement

over-title = { $instance } で { $actor } から巨大なステートメント（{ $size }）
over-sent = { $actor } が { $instance } に { $bytes }バイトのステートメントを送信しました{ $many }。{ $how }。
over-many = （同様のステートメント { $count }件のうち最大のもの）
over-cut = keibi が読んだのは先頭と末尾の 512 KiB だけです
over-whole = 全体を読み取りました
over-why = ステートメントをメガバイト単位に水増しすると、長いログ行を切り詰めるツールやクエリの先頭 1 KB しか記録しないツールから、その末尾を隠せます。
over-ends = 末尾: { $end }
over-read = 証拠の行にあるステートメントを読み、水増し部分の後の末尾を確認してください。DROP、GRANT、COPY ... PROGRAM や 2 つ目のステートメントがあれば、それが本当の目的です。
over-compromised-pg = 大量のデータを投入することが分かっているアプリケーションでなければ、{ $actor } は侵害されたものとして扱い、パスワードを変更して（`ALTER ROLE "{ $actor }" PASSWORD '<新しいパスワード>';`）、ほかに何を実行したかを確認してください。
over-compromised-mysql = 大量のデータを投入することが分かっているアプリケーションでなければ、{ $actor } は侵害されたものとして扱い、パスワードを変更して（`ALTER USER '{ $actor }'@'<ホスト>' IDENTIFIED BY '<新しいパスワード>';`）、ほかに何を実行したかを確認してください。
over-limit = MariaDB と MySQL では、監査ログがステートメント全体を残すよう server_audit_query_log_limit を引き上げてください。Amazon RDS ではコンソールの［オプショングループ］→ 対象のオプショングループ → MARIADB_AUDIT_PLUGIN の SERVER_AUDIT_QUERY_LOG_LIMIT、または `aws rds add-option-to-option-group --option-group-name <オプショングループ> --options "OptionName=MARIADB_AUDIT_PLUGIN,OptionSettings=[{"{"}Name=SERVER_AUDIT_QUERY_LOG_LIMIT,Value=1048576{"}"}]" --apply-immediately` で設定します。
