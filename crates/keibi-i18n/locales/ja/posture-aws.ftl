# AWS 側の設定チェック（keibi-posture aws）: Security Hub の RDS、EC2、CloudTrail、
# GuardDuty のコントロールと、keibi 独自の KB.NACL.1、KB.RDS.1。
# 用語は docs/ja/glossary.md（AWS マネジメントコンソールの日本語表示）に従う。
# $qid（$qgroup、$qtrail、$qdetector）はシェル用に引用した同じ名前で、コマンドに使う。

## RDS.1 スナップショットの公開

pa-rds-1-title = { $kind ->
    [db_cluster_snapshot] DB クラスタースナップショット { $resource } がパブリックに公開されています
   *[other] DB スナップショット { $resource } がパブリックに公開されています
  }
pa-rds-1-what = スナップショットの restore 属性が all になっており、どの AWS アカウントでもコピーして自分のアカウントでデータベース全体を復元できます。パスワードもネットワーク経路も要りません。{ $encrypted ->
    [no] スナップショットは暗号化されておらず、データを守るものは何もありません。
    [yes] スナップショットは暗号化されています。他のアカウントと鍵を共有していなければ使えませんが、パブリックな共有が意図されることはありません。
   *[other] {""}
  }
pa-rds-1-console = Amazon RDS コンソール →［スナップショット］→ { $resource } を選択 →［アクション］→［スナップショットの共有］で［DB スナップショットの可視性］を［プライベート］にし、自社のものでないアカウントを削除して［保存］を選びます。
pa-rds-1-cli = { $kind ->
    [db_cluster_snapshot] aws rds modify-db-cluster-snapshot-attribute --db-cluster-snapshot-identifier { $qid } --attribute-name restore --values-to-remove all --region { $region }
   *[other] aws rds modify-db-snapshot-attribute --db-snapshot-identifier { $qid } --attribute-name restore --values-to-remove all --region { $region }
  }

## RDS.2 パブリックアクセス可能

pa-rds-2-title = RDS インスタンス { $resource } がパブリックアクセス可能です
pa-rds-2-what = { $resource }（{ $engine }）はパブリック IP アドレスを持っています（PubliclyAccessible が true）。セキュリティグループとネットワーク ACL が通す限り、インターネットの誰でも接続してパスワードを試せます。アプリケーションは VPC 内から接続するため、データベースにパブリックアドレスが必要なことはほとんどありません。
pa-rds-2-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］→［接続］の［パブリックアクセス］を［パブリックアクセス不可］にし、［続行］→［すぐに適用］→［DB インスタンスを変更］を選びます。
pa-rds-2-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --no-publicly-accessible --apply-immediately --region { $region }

## RDS.3 インスタンスの暗号化

pa-rds-3-title = RDS インスタンス { $resource } の保管時の暗号化が無効です
pa-rds-3-what = { $resource } のストレージ、自動バックアップ、リードレプリカ、スナップショットは暗号化されていません。ボリュームやスナップショットのコピーからデータがそのまま読めます。既存のインスタンスで暗号化を有効にすることはできず、暗号化したスナップショットのコピーから復元します。
pa-rds-3-console = Amazon RDS コンソールで { $resource } のスナップショットを取得し（［アクション］→［スナップショットの取得］）、［スナップショット］→［アクション］→［スナップショットのコピー］で［暗号化を有効化］と KMS キーを指定してコピーし、コピーを復元して（［アクション］→［スナップショットを復元］）、アプリケーションを新しいインスタンスに移します。
pa-rds-3-cli = aws rds create-db-snapshot --db-instance-identifier { $qid } --db-snapshot-identifier { $qid }-plain --region { $region } && aws rds copy-db-snapshot --source-db-snapshot-identifier { $qid }-plain --target-db-snapshot-identifier { $qid }-encrypted --kms-key-id alias/aws/rds --region { $region }

## RDS.4 スナップショットの暗号化

pa-rds-4-title = { $kind ->
    [db_cluster_snapshot] DB クラスタースナップショット { $resource } が暗号化されていません
   *[other] DB スナップショット { $resource } が暗号化されていません
  }
pa-rds-4-what = { $resource } のコピーを手に入れた人（共有先のアカウント、誤ったパブリック共有）は、データベース全体を読めます。暗号化したコピーを作り、暗号化されていないものは削除できます。
pa-rds-4-console = Amazon RDS コンソール →［スナップショット］→ { $resource } を選択 →［アクション］→［スナップショットのコピー］で［暗号化を有効化］にチェックを入れ、KMS キーを選んでコピーし、コピーが利用可能になったら暗号化されていないスナップショットを削除します。
pa-rds-4-cli = { $kind ->
    [db_cluster_snapshot] aws rds copy-db-cluster-snapshot --source-db-cluster-snapshot-identifier { $qid } --target-db-cluster-snapshot-identifier { $qid }-encrypted --kms-key-id alias/aws/rds --region { $region }
   *[other] aws rds copy-db-snapshot --source-db-snapshot-identifier { $qid } --target-db-snapshot-identifier { $qid }-encrypted --kms-key-id alias/aws/rds --region { $region }
  }

## RDS.5 マルチ AZ

pa-rds-5-title = RDS インスタンス { $resource } がマルチ AZ 構成ではありません
pa-rds-5-what = { $resource } は 1 つのアベイラビリティーゾーンだけで動いています。そのゾーンやホストの障害で、復元するまでデータベースが止まり、削除やランサム攻撃のときにも切り替え先のスタンバイがありません。
pa-rds-5-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］→［可用性と耐久性］で［スタンバイインスタンスを作成する］を選び、［続行］して適用します。
pa-rds-5-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --multi-az --apply-immediately --region { $region }

## RDS.6 拡張モニタリング

pa-rds-6-title = RDS インスタンス { $resource } の拡張モニタリングが無効です
pa-rds-6-what = { $resource } の拡張モニタリングが無効で、OS のメトリクス（プロセス、CPU、メモリ）が収集されていません。暗号通貨のマイニングや暴走したエクスポートに気付く手がかりになるものです。
pa-rds-6-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］→［モニタリング］で［拡張モニタリングの有効化］にチェックを入れ、詳細度 60 秒とモニタリングロールを指定し、［続行］して適用します。
pa-rds-6-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --monitoring-interval 60 --monitoring-role-arn arn:aws:iam::{ $account }:role/rds-monitoring-role --apply-immediately --region { $region }

## RDS.7 クラスターの削除保護

pa-rds-7-title = RDS クラスター { $resource } の削除保護が無効です
pa-rds-7-what = rds:DeleteDBCluster の権限があれば、盗まれたアクセスキーを使う攻撃者でも誤ったスクリプトでも、1 回の呼び出しで { $resource } を削除できます。
pa-rds-7-console = Amazon RDS コンソール →［データベース］→ クラスター { $resource } を選択 →［変更］で［削除保護の有効化］にチェックを入れ、［続行］→［すぐに適用］を選びます。
pa-rds-7-cli = aws rds modify-db-cluster --db-cluster-identifier { $qid } --deletion-protection --apply-immediately --region { $region }

## RDS.8 インスタンスの削除保護

pa-rds-8-title = RDS インスタンス { $resource } の削除保護が無効です
pa-rds-8-what = rds:DeleteDBInstance の権限があれば、盗まれたアクセスキーを使う攻撃者でも誤ったスクリプトでも、1 回の呼び出しで { $resource } を削除できます。
pa-rds-8-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］で［削除保護の有効化］にチェックを入れ、［続行］→［すぐに適用］を選びます。
pa-rds-8-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --deletion-protection --apply-immediately --region { $region }

## RDS.9 ログのエクスポート

pa-rds-9-title = RDS インスタンス { $resource } のログが CloudWatch Logs に送られていません
pa-rds-9-what = { $resource } は { $missing } を CloudWatch Logs にエクスポートしていません。ログイン、エラー、監査の記録はインスタンスに残るだけで、ローテーションで消え、インスタンスとともに失われ、keibi などのツールからも読めません。
pa-rds-9-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］→［ログのエクスポート］で { $missing } にチェックを入れ、［続行］→［すぐに適用］を選びます。
pa-rds-9-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --cloudwatch-logs-export-configuration { $logtypes } --apply-immediately --region { $region }

## RDS.10 IAM 認証

pa-rds-10-title = RDS インスタンス { $resource } で IAM データベース認証が無効です
pa-rds-10-what = { $resource } にはパスワードでしかログインできません。漏えいしたパスワードは誰かが変更するまで使えます。IAM データベース認証なら、IAM のアイデンティティに結び付いた短期間のトークンでログインし、すぐに取り消せます。
pa-rds-10-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］→［データベース認証］で［パスワードと IAM データベース認証］を選び、［続行］して適用します。
pa-rds-10-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --enable-iam-database-authentication --apply-immediately --region { $region }

## RDS.11 バックアップ

pa-rds-11-title = RDS インスタンス { $resource } の自動バックアップの保持期間が 7 日未満です
pa-rds-11-what = { $resource } の自動バックアップは{ $days ->
    [0] 無効です
   *[other] { $days }日分しか保持されません
  }。削除、ランサム攻撃、気付くのが遅れた誤った変更のあとで、復元できる時点がありません。
pa-rds-11-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］→［バックアップ］で［バックアップ保持期間］を 7 日以上にし、［続行］→［すぐに適用］を選びます。
pa-rds-11-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --backup-retention-period 7 --apply-immediately --region { $region }

## RDS.13 マイナーバージョン自動アップグレード

pa-rds-13-title = RDS インスタンス { $resource } のマイナーバージョン自動アップグレードが無効です
pa-rds-13-what = { $resource } は誰かが手動でアップグレードするまで同じマイナーバージョンのままで、新しいマイナーバージョンのセキュリティ修正が自動では適用されません。
pa-rds-13-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］→［メンテナンス］で［マイナーバージョン自動アップグレードの有効化］にチェックを入れ、［続行］して適用します。
pa-rds-13-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --auto-minor-version-upgrade --apply-immediately --region { $region }

## RDS.23 デフォルトポート

pa-rds-23-title = RDS インスタンス { $resource } がエンジンのデフォルトポートを使っています
pa-rds-23-what = { $resource } は { $engine } のデフォルトであるポート { $port } で待ち受けています。スキャナーが最初に試すポートです。ポートを変えるだけでは守れませんが、無差別なスキャンの対象から外れます。
pa-rds-23-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］→［接続］→［追加設定］で［データベースポート］を別のポートにし、セキュリティグループとアプリケーションの接続先を合わせてから適用します。
pa-rds-23-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --db-port-number NEW_PORT --apply-immediately --region { $region }

## RDS.24、RDS.25 デフォルトのマスターユーザー名

pa-rds-24-title = RDS クラスター { $resource } がデフォルトのマスターユーザー名を使っています
pa-rds-24-what = { $resource } のマスターユーザーは { $username } で、パスワード推測ツールが最初に試す名前です。攻撃者はパスワードだけを当てれば済みます。
pa-rds-24-console = マスターユーザー名は変更できません。別のマスターユーザー名で新しいクラスターを作成して（Amazon RDS コンソール →［データベース］→［データベースの作成］→［設定］→［マスターユーザー名］）データを移し、それまでは Secrets Manager で管理する長いランダムなマスターパスワードを使ってください。
pa-rds-24-cli = aws rds modify-db-cluster --db-cluster-identifier { $qid } --manage-master-user-password --apply-immediately --region { $region }
pa-rds-25-title = RDS インスタンス { $resource } がデフォルトのマスターユーザー名を使っています
pa-rds-25-what = { $resource } のマスターユーザーは { $username } で、パスワード推測ツールが最初に試す名前です。攻撃者はパスワードだけを当てれば済みます。
pa-rds-25-console = マスターユーザー名は変更できません。別のマスターユーザー名で新しいインスタンスを作成して（Amazon RDS コンソール →［データベース］→［データベースの作成］→［設定］→［マスターユーザー名］）データを移し、それまでは Secrets Manager で管理する長いランダムなマスターパスワードを使ってください。
pa-rds-25-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --manage-master-user-password --apply-immediately --region { $region }

## RDS.27 クラスターの暗号化

pa-rds-27-title = RDS クラスター { $resource } の保管時の暗号化が無効です
pa-rds-27-what = クラスター { $resource } のストレージとスナップショットは暗号化されていません。スナップショットのコピーからデータがそのまま読めます。既存のクラスターで暗号化を有効にすることはできず、暗号化したスナップショットのコピーから復元します。
pa-rds-27-console = Amazon RDS コンソールでクラスター { $resource } のスナップショットを取得し、［スナップショット］→［アクション］→［スナップショットのコピー］で［暗号化を有効化］と KMS キーを指定してコピーし、コピーを復元して、アプリケーションを新しいクラスターに移します。
pa-rds-27-cli = aws rds create-db-cluster-snapshot --db-cluster-identifier { $qid } --db-cluster-snapshot-identifier { $qid }-plain --region { $region } && aws rds copy-db-cluster-snapshot --source-db-cluster-snapshot-identifier { $qid }-plain --target-db-cluster-snapshot-identifier { $qid }-encrypted --kms-key-id alias/aws/rds --region { $region }

## RDS.34 Aurora MySQL の監査ログのエクスポート

pa-rds-34-title = Aurora MySQL クラスター { $resource } の監査ログが CloudWatch Logs に送られていません
pa-rds-34-what = クラスター { $resource } は { $missing } を CloudWatch Logs にエクスポートしていません。誰がログインして何を実行したかが、検索やアラートのできる場所に残りません。
pa-rds-34-console = Amazon RDS コンソール →［データベース］→ クラスター { $resource } を選択 →［変更］→［ログのエクスポート］で［監査ログ］にチェックを入れ、［続行］→［すぐに適用］を選びます。
pa-rds-34-cli = aws rds modify-db-cluster --db-cluster-identifier { $qid } --cloudwatch-logs-export-configuration { $logtypes } --apply-immediately --region { $region }

## RDS.35 クラスターのマイナーバージョン自動アップグレード

pa-rds-35-title = RDS クラスター { $resource } のマイナーバージョン自動アップグレードが無効です
pa-rds-35-what = クラスター { $resource } は誰かが手動でアップグレードするまで同じマイナーバージョンのままで、新しいマイナーバージョンのセキュリティ修正が自動では適用されません。
pa-rds-35-console = Amazon RDS コンソール →［データベース］→ クラスター { $resource }（Aurora ではそのインスタンスそれぞれ）を選択 →［変更］→［メンテナンス］で［マイナーバージョン自動アップグレードの有効化］にチェックを入れ、［続行］して適用します。
pa-rds-35-cli = aws rds modify-db-cluster --db-cluster-identifier { $qid } --auto-minor-version-upgrade --apply-immediately --region { $region }

## RDS.36 PostgreSQL のログのエクスポート

pa-rds-36-title = RDS for PostgreSQL インスタンス { $resource } のログが CloudWatch Logs に送られていません
pa-rds-36-what = { $resource } は { $missing } を CloudWatch Logs にエクスポートしていません。ログイン失敗、エラー、pgaudit の記録はインスタンスに残るだけで、ローテーションで消えます。
pa-rds-36-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］→［ログのエクスポート］で［PostgreSQL ログ］にチェックを入れ、［続行］→［すぐに適用］を選びます。
pa-rds-36-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --cloudwatch-logs-export-configuration { $logtypes } --apply-immediately --region { $region }

## RDS.37 Aurora PostgreSQL のログのエクスポート

pa-rds-37-title = Aurora PostgreSQL クラスター { $resource } のログが CloudWatch Logs に送られていません
pa-rds-37-what = クラスター { $resource } は { $missing } を CloudWatch Logs にエクスポートしていません。ログイン失敗、エラー、pgaudit の記録はインスタンスに残るだけで、ローテーションで消えます。
pa-rds-37-console = Amazon RDS コンソール →［データベース］→ クラスター { $resource } を選択 →［変更］→［ログのエクスポート］で［PostgreSQL ログ］にチェックを入れ、［続行］→［すぐに適用］を選びます。
pa-rds-37-cli = aws rds modify-db-cluster --db-cluster-identifier { $qid } --cloudwatch-logs-export-configuration { $logtypes } --apply-immediately --region { $region }

## RDS.38、39、44 転送中の暗号化

pa-rds-38-title = RDS for PostgreSQL インスタンス { $resource } が TLS なしの接続を受け付けます
pa-rds-38-what = { $resource } のパラメータグループ { $group } で { $param } が 0 です。クライアントは平文で接続でき、パスワードとデータが経路上の誰にでも読める状態でネットワークを流れます。
pa-rds-38-console = Amazon RDS コンソール →［パラメータグループ］→ { $group } を選択 →［編集］で { $param } を { $on } にし、［変更の保存］を選びます（デフォルトのグループは編集できないため、カスタムのグループを作成してインスタンスの［変更］で設定します）。先にすべてのクライアントが TLS で接続していることを確認してください。
pa-rds-38-cli = aws rds modify-db-parameter-group --db-parameter-group-name { $qgroup } --parameters "ParameterName={ $param },ParameterValue={ $on },ApplyMethod=immediate" --region { $region }
pa-rds-39-title = RDS for MySQL インスタンス { $resource } が TLS なしの接続を受け付けます
pa-rds-39-what = { $resource } のパラメータグループ { $group } で { $param } が無効です。クライアントは平文で接続でき、パスワードとデータが経路上の誰にでも読める状態でネットワークを流れます。
pa-rds-39-console = Amazon RDS コンソール →［パラメータグループ］→ { $group } を選択 →［編集］で { $param } を { $on } にし、［変更の保存］を選びます（デフォルトのグループは編集できないため、カスタムのグループを作成してインスタンスの［変更］で設定します）。先にすべてのクライアントが TLS で接続していることを確認してください。
pa-rds-39-cli = aws rds modify-db-parameter-group --db-parameter-group-name { $qgroup } --parameters "ParameterName={ $param },ParameterValue={ $on },ApplyMethod=immediate" --region { $region }
pa-rds-44-title = RDS for MariaDB インスタンス { $resource } が TLS なしの接続を受け付けます
pa-rds-44-what = { $resource } のパラメータグループ { $group } で { $param } が無効です。クライアントは平文で接続でき、パスワードとデータが経路上の誰にでも読める状態でネットワークを流れます。
pa-rds-44-console = Amazon RDS コンソール →［パラメータグループ］→ { $group } を選択 →［編集］で { $param } を { $on } にし、［変更の保存］を選びます（デフォルトのグループは編集できないため、カスタムのグループを作成してインスタンスの［変更］で設定します）。先にすべてのクライアントが TLS で接続していることを確認してください。
pa-rds-44-cli = aws rds modify-db-parameter-group --db-parameter-group-name { $qgroup } --parameters "ParameterName={ $param },ParameterValue={ $on },ApplyMethod=immediate" --region { $region }

## RDS.42 MariaDB のログのエクスポート

pa-rds-42-title = RDS for MariaDB インスタンス { $resource } のログが CloudWatch Logs に送られていません
pa-rds-42-what = { $resource } は { $missing } を CloudWatch Logs にエクスポートしていません。ログイン、エラー、監査の記録はインスタンスに残るだけで、ローテーションで消えます。
pa-rds-42-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］→［ログのエクスポート］で［監査ログ］と［エラーログ］にチェックを入れ、［続行］→［すぐに適用］を選びます。
pa-rds-42-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --cloudwatch-logs-export-configuration { $logtypes } --apply-immediately --region { $region }

## RDS.45 Aurora MySQL の監査ログ

pa-rds-45-title = Aurora MySQL クラスター { $resource } で監査ログが記録されていません
pa-rds-45-what = { $resource } の DB クラスターパラメータグループ { $group } で高度な監査（server_audit_logging を 1、server_audit_events を設定）が有効になっておらず、ログインやステートメントがどこにも記録されません。
pa-rds-45-console = Amazon RDS コンソール →［パラメータグループ］→ DB クラスターパラメータグループ { $group } を選択 →［編集］で server_audit_logging を 1、server_audit_events を CONNECT,QUERY_DCL,QUERY_DDL にし、［変更の保存］を選びます（デフォルトのグループは編集できないため、カスタムのグループを作成してクラスターに設定します）。
pa-rds-45-cli = aws rds modify-db-cluster-parameter-group --db-cluster-parameter-group-name { $qgroup } --parameters "ParameterName=server_audit_logging,ParameterValue=1,ApplyMethod=immediate" "ParameterName=server_audit_events,ParameterValue='CONNECT,QUERY_DCL,QUERY_DDL',ApplyMethod=immediate" --region { $region }

## RDS.46 パブリックサブネット

pa-rds-46-title = RDS インスタンス { $resource } がインターネットへのルートを持つサブネットにあります
pa-rds-46-what = { $resource } のサブネット { $subnet } が使うルートテーブル { $routetable } は、{ $destination } をインターネットゲートウェイ { $gateway } に送ります。パブリックアクセスを有効にするか、セキュリティグループを誤って開けるだけで、データベースがインターネットに公開されます。
pa-rds-46-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］→［接続］で、プライベートサブネット（インターネットゲートウェイへのルートがないサブネット）だけの DB サブネットグループを選びます。{ $subnet } の他のリソースがインターネットを必要としなければ、VPC コンソール →［ルートテーブル］→ { $routetable } →［ルート］→［ルートを編集］で { $destination } のルートを削除してもかまいません。
pa-rds-46-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --db-subnet-group-name PRIVATE_SUBNET_GROUP --apply-immediately --region { $region }

## EC2.2 デフォルトのセキュリティグループ

pa-ec2-2-title = デフォルトのセキュリティグループ { $resource } が通信を許可しています
pa-ec2-2-what = VPC のデフォルトのセキュリティグループ { $resource } に、インバウンドルールが { $inbound }件、アウトバウンドルールが { $outbound }件あります。グループを指定せずに作成したリソースにはこのグループが付くため、何も許可しないようにしておけば、グループの指定を忘れてもドアが開きません。
pa-ec2-2-console = EC2 コンソール →［セキュリティグループ］→ { $resource }（default）を選択 →［インバウンドルール］→［インバウンドルールを編集］ですべてのルールを削除し、［アウトバウンドルール］も同様にします。先に、このグループに頼っているリソースに専用のグループを付けてください。
pa-ec2-2-cli = aws ec2 revoke-security-group-ingress --group-id { $qid } --ip-permissions "$(aws ec2 describe-security-groups --group-ids { $qid } --query 'SecurityGroups[0].IpPermissions' --region { $region })" --region { $region } && aws ec2 revoke-security-group-egress --group-id { $qid } --ip-permissions "$(aws ec2 describe-security-groups --group-ids { $qid } --query 'SecurityGroups[0].IpPermissionsEgress' --region { $region })" --region { $region }

## EC2.18 データベースのセキュリティグループがデータベース以外のポートを公開

pa-ec2-18-title = データベースのセキュリティグループ { $resource } がデータベースのポート以外への無制限のアクセスを許可しています
pa-ec2-18-what = { $databases }（ポート { $dbports }）のセキュリティグループ { $resource }（{ $name }）は、{ $cidr } からの{ $ports ->
    [all] 全ポート
   *[other] ポート { $ports }
  }への接続を許可しています。データベースのホストが、データベース以外でもインターネットに公開されています。
pa-ec2-18-console = EC2 コンソール →［セキュリティグループ］→ { $resource } を選択 →［インバウンドルールを編集］で、{ $cidr } からのルールを削除するか、送信元を必要なアドレスだけに絞ります。
pa-ec2-18-cli = aws ec2 revoke-security-group-ingress --group-id { $qid } --ip-permissions '{ $permission }' --region { $region }

## EC2.19 データベースのポートをインターネットに公開

pa-ec2-19-title = セキュリティグループ { $resource } がデータベースのポートをインターネットに公開しています
pa-ec2-19-what = { $resource }（{ $name }）は { $cidr } からの{ $same ->
    [yes] データベースのポート { $port }への接続を許可しています。
   *[no] { $ports ->
        [all] 全ポート
       *[other] ポート { $ports }
    }への接続を許可しており、データベースのポート { $port } が含まれます。
  }このグループが付いたデータベースには誰でも接続でき、パスワードを試したりエンジンの脆弱性を突いたりできます。
pa-ec2-19-console = EC2 コンソール →［セキュリティグループ］→ { $resource } を選択 →［インバウンドルールを編集］で、ルールのソースを { $cidr } からアプリケーションのセキュリティグループや必要なアドレスに変更します（または削除します）。
pa-ec2-19-cli = aws ec2 revoke-security-group-ingress --group-id { $qid } --ip-permissions '{ $permission }' --region { $region }

## KB.NACL.1 ネットワーク ACL がデータベースのポートを公開

pa-nacl-1-title = ネットワーク ACL { $resource } がインターネットからデータベースのポートへの通信を許可しています
pa-nacl-1-what = ネットワーク ACL { $resource } のインバウンドルール { $rule } が { $cidr } からデータベースのポート { $port } への通信を許可しており、それより前に拒否するルールがありません。サブネットの第 2 の防御線が開いており、セキュリティグループだけが頼りです。
pa-nacl-1-console = VPC コンソール →［ネットワーク ACL］→ { $resource } を選択 →［インバウンドルール］→［インバウンドルールを編集］で、{ $cidr } からポート { $port } を拒否（Deny）するルールを { $rule } より小さいルール番号で追加します（またはルール { $rule } の送信元を絞ります）。
pa-nacl-1-cli = aws ec2 create-network-acl-entry --network-acl-id { $qid } --ingress --rule-number RULE_BELOW_{ $rule } --protocol tcp --port-range From={ $port },To={ $port } { $cidrflag } { $cidr } --rule-action deny --region { $region }

## KB.RDS.1 インターネットから到達可能

pa-kb-rds-1-title = RDS インスタンス { $resource } にインターネットから到達できます
pa-kb-rds-1-what = インターネットの誰でも { $resource }（{ $engine }）の { $address } ポート { $port } に接続できます。パブリックアクセス可能で、セキュリティグループ { $group } がそのポートへの { $cidr } からの接続を許可し、サブネット { $subnet } が { $destination } をインターネットゲートウェイ { $gateway } に送っています（ルートテーブル { $routetable }）。攻撃者とデータの間にあるのは、データベースのパスワードだけです。
pa-kb-rds-1-console = Amazon RDS コンソール →［データベース］→ { $resource } を選択 →［変更］→［接続］の［パブリックアクセス］を［パブリックアクセス不可］にして［すぐに適用］を選び、EC2 コンソール →［セキュリティグループ］→ { $group } で { $cidr } からのポート { $port } へのインバウンドルールを削除します。
pa-kb-rds-1-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --no-publicly-accessible --apply-immediately --region { $region }

## CloudTrail

pa-ct-1-title = アカウント { $resource } にすべての管理イベントを記録するマルチリージョンの CloudTrail 証跡がありません
pa-ct-1-what = アカウント { $resource } の証跡 { $trails }件のうち、マルチリージョンで、ログ記録中で、読み取りと書き込みの管理イベントを記録しているものがありません。一部のリージョンの API 呼び出しや、攻撃者が最初に行う Describe や Get などの読み取りの呼び出しが記録に残りません。
pa-ct-1-console = CloudTrail コンソール →［証跡］→［証跡の作成］（または証跡を選択して［編集］）で、すべてのリージョンで有効にし、［管理イベント］で［読み取り］と［書き込み］を選び、ログ記録が開始されていることを確認します。
pa-ct-1-cli = aws cloudtrail create-trail --name account-trail --s3-bucket-name BUCKET --is-multi-region-trail --region { $region } && aws cloudtrail start-logging --name account-trail --region { $region }
pa-ct-2-title = CloudTrail 証跡 { $trail } が KMS キーで暗号化されていません
pa-ct-2-what = 証跡 { $trail } のログはバケットの既定の暗号化だけで保存されています。バケットを読める人は誰でもアカウントの API の履歴をすべて読め、キーポリシーで読める人を制限できません。
pa-ct-2-console = CloudTrail コンソール →［証跡］→ { $trail } を選択 →［全般的な詳細］の［編集］で［ログファイルの SSE-KMS 暗号化］を有効にし、KMS キーを選ぶか作成して［変更の保存］を選びます。
pa-ct-2-cli = aws cloudtrail update-trail --name { $qtrail } --kms-key-id KMS_KEY_ARN --region { $region }
pa-ct-3-title = アカウント { $resource } で CloudTrail のログ記録が行われていません
pa-ct-3-what = アカウント { $resource } の証跡 { $trails }件のどれもログ記録中ではありません。データベースの公開、スナップショットの共有、ログ記録の停止などの API 呼び出しは、イベント履歴に 90 日残るだけで、keibi にも届きません。
pa-ct-3-console = CloudTrail コンソール →［証跡］で証跡を選択して［ログ記録の開始］を選ぶか、［証跡の作成］ですべてのリージョンの証跡を作成します。
pa-ct-3-cli = aws cloudtrail create-trail --name account-trail --s3-bucket-name BUCKET --is-multi-region-trail --region { $region } && aws cloudtrail start-logging --name account-trail --region { $region }
pa-ct-4-title = CloudTrail 証跡 { $trail } でログファイルの検証が無効です
pa-ct-4-what = 証跡 { $trail } のログファイルの検証が無効です。バケットに書き込める人がログファイルを改ざん・削除しても、それを証明できません。
pa-ct-4-console = CloudTrail コンソール →［証跡］→ { $trail } を選択 →［全般的な詳細］の［編集］で、［追加の設定］の［ログファイルの検証］を有効にして［変更の保存］を選びます。
pa-ct-4-cli = aws cloudtrail update-trail --name { $qtrail } --enable-log-file-validation --region { $region }
pa-ct-5-title = CloudTrail 証跡 { $trail } が CloudWatch Logs に送信していません
pa-ct-5-what = 証跡 { $trail } は S3 にだけ書き込んでいます。イベントで CloudWatch アラームを発報できず、CloudWatch Logs をほぼリアルタイムに読むツールにも届きません。
pa-ct-5-console = CloudTrail コンソール →［証跡］→ { $trail } を選択 →［CloudWatch Logs］の［編集］で有効にし、新規または既存のロググループと IAM ロールを指定して［変更の保存］を選びます。
pa-ct-5-cli = aws cloudtrail update-trail --name { $qtrail } --cloud-watch-logs-log-group-arn LOG_GROUP_ARN --cloud-watch-logs-role-arn ROLE_ARN --region { $region }

## GuardDuty

pa-gd-1-title = { $region } で GuardDuty が有効になっていません
pa-gd-1-what = アカウント { $resource } の { $region } リージョンに有効な GuardDuty の検出器がありません（{ $found ->
    [no] 検出器がありません
   *[other] 検出器 { $detector } が停止しています
  }）。このリージョンでの認証情報の窃取、通常と異なる API 呼び出し、データベースへの攻撃が GuardDuty の検出結果になりません。
pa-gd-1-console = { $region } の GuardDuty コンソールで［今すぐ始める］→［GuardDuty の有効化］を選びます（停止している検出器は［設定］→［GuardDuty の有効化］）。
pa-gd-1-cli = { $found ->
    [no] aws guardduty create-detector --enable --region { $region }
   *[other] aws guardduty update-detector --detector-id { $qdetector } --enable --region { $region }
  }
pa-gd-9-title = { $region } で GuardDuty の RDS Protection が無効です
pa-gd-9-what = アカウント { $resource } の { $region } で GuardDuty の RDS Protection が有効になっていません（{ $found ->
    [yes] 検出器 { $detector }
   *[no] GuardDuty 自体が無効です
  }）。Aurora と RDS のデータベースへのログインが、ブルートフォース攻撃や通常と異なる場所からのアクセスとして調べられません。
pa-gd-9-console = { $region } の GuardDuty コンソール →［保護プラン］→［RDS Protection］→［編集］で［有効にする］を選び、［保存］を選びます。
pa-gd-9-cli = { $found ->
    [no] aws guardduty create-detector --enable --features Name=RDS_LOGIN_EVENTS,Status=ENABLED --region { $region }
   *[other] aws guardduty update-detector --detector-id { $qdetector } --features Name=RDS_LOGIN_EVENTS,Status=ENABLED --region { $region }
  }
