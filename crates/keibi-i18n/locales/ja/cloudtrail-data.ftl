# データベースのデータに届く AWS の呼び出し（keibi-detect detectors/cloudtrail/secrets.rs）:
# シークレットや RDS ログファイルの一括読み取り、スナップショットのコピー、EBS スナップショットと AMI の共有。

## 共通

ctd-item = { $v }
ctd-list-more = { $list } ほか{ $more }件
ctd-origin = アカウント { $account } の { $region } リージョンで { $ip }（{ $ua }）から
ctd-figures = { $first }から{ $last }までに{ $count }回の呼び出しがありました。送信元アドレス: { $ips }。
ctd-unusual = このログでは、{ $principal } がそれより前の日にこのような集中した読み取りをしたことはありません（最初の読み取りは { $first }）。

## CredentialAccess:IAMUser/AnomalousBehavior: シークレットの一括読み取り

ctd-secrets-title = { $who } がシークレットを一括で読み取り
ctd-secrets = { $who } が{ $origin }、{ $secs } 秒以内に { $n }件の異なるシークレットまたは暗号化パラメータを読み取りました（{ $shown }）。
ctd-secrets-filter = { $who } が{ $origin }、名前を指定せずに、フィルターに一致するすべてのシークレットを BatchGetSecretValue で要求しました。
ctd-secrets-why = アプリケーションが読むのは必要な数件のシークレットだけです。一度に多数を読むのは、盗んだキーをデータベースのパスワードや API キーに変える手口です。
ctd-secrets-ask = なぜこれらのシークレットを読み取ったのか、プリンシパルの所有者に確認してください。
ctd-secrets-rotate = 誰も知らなければ、アクセスキーを無効化するかロールのセッションを取り消し（IAM コンソール →［ロール］→ 対象のロール →［セッションを取り消す］）、読み取られたシークレットをすべてローテーションしてください（データベースのパスワードから。Secrets Manager コンソール →［シークレット］→ 対象のシークレット →［ローテーション］→［すぐにシークレットをローテーションさせる］、`aws secretsmanager rotate-secret --secret-id <シークレット>`）。読み取り以降のデータベースへのログインも確認します。

## CredentialAccess:RDS/LogFilesDownloaded

ctd-logs-title = { $who } が RDS のログファイルを一括でダウンロード
ctd-logs = { $who } が{ $origin }、{ $secs } 秒以内に { $n }件の異なる RDS ログファイルをダウンロードしました（{ $shown }）。
ctd-logs-why = データベースのログには、すべてのユーザー名、クライアントのアドレス、失敗したステートメントが残り、ユーザー名の欄に誤って入力されたパスワードが含まれることもあります。読む人にとってはデータベースの地図です。
ctd-logs-ask = なぜログをダウンロードしたのか、プリンシパルの所有者に確認してください。
ctd-logs-contain = 誰も知らなければ、アクセスキーまたはセッションを無効にし、ログに名前やパスワードが現れたデータベースユーザーのパスワードを変更してください（`ALTER ROLE <ロール> PASSWORD '...'`）。rds:DownloadDBLogFilePortion はログを収集するロールだけに許可してください。

## Exfiltration:RDS/SnapshotCopied

ctd-label-snapshot = スナップショット
ctd-label-cluster-snapshot = クラスタースナップショット
ctd-copy-title = { $who } が RDS の{ $label } { $source } をコピー
ctd-copy = { $who } が{ $origin }、RDS の{ $label } { $source } を { $target } にコピーしました（{ $api }）: { $why }。
ctd-copy-foreign-key = アカウント { $account } の KMS キー { $key } で再暗号化（このアカウントは自社のものでも、信頼済み（--trusted-account）でも、組織内（cloudtrail.org_accounts）でもありません）
ctd-copy-own-key = KMS キー { $key } で再暗号化
ctd-copy-region = リージョン { $from } から { $to } へ
ctd-copy-why-foreign = 別のアカウントのキーで暗号化されたスナップショットは、そのアカウントに共有して復元できます。アカウントからデータベースを持ち出す手口です。
ctd-copy-why = 新しいキーや別のリージョンへのスナップショットのコピーは、別のアカウントに共有する最初の一歩です。
ctd-copy-delete = 計画されたコピーでなければ削除し（Amazon RDS コンソール →［スナップショット］→ 対象を選択 →［アクション］→［スナップショットの削除］、`aws rds delete-db-snapshot --db-snapshot-identifier <コピー>`）、共有されているスナップショットがないか確認して（`aws rds describe-db-snapshot-attributes --db-snapshot-identifier <スナップショット>`）、プリンシパルのアクセスキーまたはセッションを無効にしてください。
ctd-copy-delete-cluster = 計画されたコピーでなければ削除し（Amazon RDS コンソール →［スナップショット］→ 対象を選択 →［アクション］→［スナップショットの削除］、`aws rds delete-db-cluster-snapshot --db-cluster-snapshot-identifier <コピー>`）、共有されているスナップショットがないか確認して（`aws rds describe-db-cluster-snapshot-attributes --db-cluster-snapshot-identifier <スナップショット>`）、プリンシパルのアクセスキーまたはセッションを無効にしてください。
ctd-copy-yours = 相手が自社のアカウントであれば、cloudtrail.org_accounts か --trusted-account に追加してください。

## Exfiltration:EC2/SnapshotShared

ctd-label-ebs = EBS スナップショット
ctd-label-ami = AMI
ctd-ec2-public-title = { $who } が{ $label } { $id } をパブリックに共有
ctd-ec2-shared-title = { $who } が{ $label } { $id } をアカウント { $accounts } に共有
ctd-ec2-shared = { $who } が{ $origin }、{ $accounts } に{ $label } { $id } の利用を許可しました（{ $api }）。
ctd-ec2-why-public = すべての AWS アカウントがここからボリュームを作り、ディスクの中身を、そこにあるデータベースも含めて読めます。
ctd-ec2-why = これらのアカウントは自社のものでも、信頼済み（--trusted-account）でも、組織内（cloudtrail.org_accounts）でもありません。ここからボリュームを作り、ディスクの中身を、そこにあるデータベースも含めて読めます。
ctd-ec2-remove-ebs = 計画された共有でなければ今すぐ解除し（EC2 コンソール →［スナップショット］→ 対象を選択 →［アクション］→［スナップショットの設定］→［許可を変更］、`aws ec2 modify-snapshot-attribute --snapshot-id <スナップショット> --attribute createVolumePermission --operation-type remove --group-names all`、またはアカウントごとに `--user-ids <アカウント ID>`）、プリンシパルのアクセスキーまたはセッションを無効にして、ディスク上のデータはコピーされたものとして扱ってください。
ctd-ec2-remove-ami = 計画された共有でなければ今すぐ解除し（EC2 コンソール →［AMI］→ 対象を選択 →［アクション］→［AMI 許可を編集］、`aws ec2 modify-image-attribute --image-id <AMI> --launch-permission "Remove=[{"{"}Group=all{"}"}]"`、またはアカウントごとに `"Remove=[{"{"}UserId=<アカウント ID>{"}"}]"`）、プリンシパルのアクセスキーまたはセッションを無効にして、ディスク上のデータはコピーされたものとして扱ってください。
