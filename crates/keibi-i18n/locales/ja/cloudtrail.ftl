# CloudTrail の検出結果（keibi-detect detectors/cloudtrail）: データベースポートの公開、
# スナップショットの共有と一括削除、ログ記録と検出の無効化、拒否の集中、リスト掲載アドレス。
# 用語は docs/ja/glossary.md（AWS マネジメントコンソールの日本語表示）に従う。

## 共通

ct-item = { $v }
ct-none = -
ct-list-more = { $list } ほか{ $more }件
ct-origin = アカウント { $account } で { $ip }（{ $ua }）から
ct-origin-region = アカウント { $account } の { $region } リージョンで { $ip }（{ $ua }）から
ct-figures = { $first }から{ $last }までに{ $count }回の呼び出しがありました。送信元アドレス: { $ips }。
ct-revoke-ask = プリンシパルの利用者に本人の操作か確認し、そうでなければアクセスキーを無効化するか、ロールのセッションを取り消してください（IAM コンソール →［ロール］→ 対象のロール →［セッションを取り消す］→［アクティブなセッションを取り消す］）。
ct-revoke-ask-review = プリンシパルの利用者に本人の操作か確認してください。そうでなければアクセスキーを無効化するか、ロールのセッションを取り消して（IAM コンソール →［ロール］→ 対象のロール →［セッションを取り消す］）、このプリンシパルの操作をすべて確認します。

## Recon:IAMUser/MaliciousIPCaller と TorIPCaller

ct-what-tor = Tor 出口ノード
ct-what-threat = 脅威リストに載っているアドレス
ct-rep-title = { $what }（{ $ip }）からの AWS API 呼び出し（プリンシパル { $who }）
ct-rep-called = { $who } が{ $origin } { $api }（{ $service }）を呼び出しました。{ $ip } は{ $what }です（リスト { $list }）。
ct-rep-nobody = チームのメンバーがこのようなアドレスを経由して AWS にアクセスすることは通常ありません。心当たりがないか確認してください。
ct-rep-stolen = 心当たりがなければ、このプリンシパルの認証情報は盗まれたものとして扱ってください。アクセスキーを無効化するか（IAM コンソール →［ユーザー］→ 対象のユーザー →［セキュリティ認証情報］→ アクセスキーの［アクション］→［無効化］、`aws iam update-access-key --user-name <ユーザー名> --access-key-id <アクセスキー ID> --status Inactive`）、ロールのセッションを取り消し（［ロール］→ 対象のロール →［セッションを取り消す］）、認証情報をローテーションして、証拠に記録されたすべての呼び出し（失敗したものも含む）を確認します。

## Discovery:IAMUser/AccessDeniedBurst

ct-denied-title = { $who } による AWS API 呼び出しの拒否が集中
ct-denied = { $who } が{ $origin }、{ $secs }秒以内に{ $apis }種類の API（{ $shown }）で{ $calls }回以上拒否されました。
ct-denied-why = 多くの API を試して拒否されるのは、盗んだアクセスキーの権限を調べる（列挙する）ときの典型的な動きです。
ct-denied-ask = プリンシパルの所有者に、何をしていたのかを確認してください。
ct-denied-stolen = 誰も把握していなければ、認証情報は盗まれたものとして扱います。アクセスキーを無効化するか（`aws iam update-access-key --user-name <ユーザー名> --access-key-id <アクセスキー ID> --status Inactive`）、ロールのセッションを取り消して（IAM コンソール →［ロール］→ 対象のロール →［セッションを取り消す］）認証情報をローテーションし、同じアドレスから成功した呼び出しを確認してください。

## Stealth:RDS/ProtectionWeakened: スナップショットの一括削除

ct-deleted-title = { $who } による RDS スナップショットの一括削除
ct-deleted = { $who } が{ $origin }、{ $secs }秒以内に RDS スナップショットを{ $n }個以上削除しました（{ $shown }）。
ct-deleted-why = 先にバックアップを削除するのは、ランサム攻撃や破壊活動で復元できないようにするための典型的な手口です。
ct-deleted-ask = 計画された整理かどうか、プリンシパルの所有者に確認してください。
ct-deleted-protect = 計画されたものでなければ、直ちにそのアクセスキーまたはセッションを無効にし、残っているスナップショットと自動バックアップを確認して（Amazon RDS コンソール →［スナップショット］、`aws rds describe-db-snapshots`）、最新のものを別のアカウントにコピーし、データベースの削除保護を有効にしてください（［データベース］→ 対象を選択 →［変更］→［削除保護の有効化］、`aws rds modify-db-instance --db-instance-identifier <インスタンス> --deletion-protection --apply-immediately`）。

## Stealth:RDS/ProtectionWeakened: ログ記録のパラメータの無効化

ct-param-title = { $who } がパラメータグループ { $group } でデータベースのログ記録を無効化
ct-param = { $who } が{ $origin }パラメータグループ { $group } に対して { $api } を呼び出しました: { $changes }。
ct-param-why = このパラメータグループを使うすべてのデータベースで接続や監査のログが記録されなくなり、以降のログインやクエリが見えなくなります。
ct-param-set = { $name }={ $value }
ct-param-reset = { $name } をデフォルトにリセット
ct-param-reset-all = すべてのパラメータをデフォルトにリセット
ct-param-ask = 計画された変更かどうか、データベースの所有者に確認してください。
ct-param-restore = 計画されたものでなければ、パラメータを元に戻し（Amazon RDS コンソール →［パラメータグループ］→ 対象のグループ →［編集］で log_connections=1、pgaudit.log に監査対象のクラス、server_audit_logging=1、または `aws rds modify-db-parameter-group --db-parameter-group-name <グループ名> --parameters "ParameterName=log_connections,ParameterValue=1,ApplyMethod=immediate"`）、プリンシパルのアクセスキーまたはセッションを無効にして、変更直前にデータベースが記録したログを確認してください。

## Exfiltration:RDS/SnapshotSharedExternally

ct-label-snapshot = DB スナップショット
ct-label-cluster-snapshot = DB クラスタースナップショット
ct-shared-title = { $label } { $snapshot } がアカウント { $accounts } に共有されました（プリンシパル { $who }）
ct-shared = { $who } が{ $origin }、アカウント { $accounts } に{ $label } { $snapshot } の復元を許可しました（{ $api }）。
ct-shared-why = これらのアカウントは自社のものでも、信頼済み（--trusted-account）でも、組織内（cloudtrail.org_accounts）でもありません。データベース全体をコピーできる状態です。
ct-shared-remove = 計画された移行やバックアップでなければ、今すぐスナップショットの共有を解除してください（Amazon RDS コンソール →［スナップショット］→ 対象を選択 →［アクション］→［スナップショットの共有］→ 該当アカウントを削除 → ［保存］、または `aws rds modify-db-snapshot-attribute --db-snapshot-identifier <スナップショット> --attribute-name restore --values-to-remove <アカウント ID>`）。プリンシパルのアクセスキーまたはセッションを無効にし、データはコピーされたものとして扱ってください。
ct-shared-remove-cluster = 計画された移行やバックアップでなければ、今すぐスナップショットの共有を解除してください（Amazon RDS コンソール →［スナップショット］→ 対象を選択 →［アクション］→［スナップショットの共有］→ 該当アカウントを削除 → ［保存］、または `aws rds modify-db-cluster-snapshot-attribute --db-cluster-snapshot-identifier <スナップショット> --attribute-name restore --values-to-remove <アカウント ID>`）。プリンシパルのアクセスキーまたはセッションを無効にし、データはコピーされたものとして扱ってください。
ct-shared-yours = 共有先が自社のアカウントであれば、cloudtrail.org_accounts か --trusted-account に追加してください。

## Stealth:IAMUser/CloudTrailLoggingDisabled: イベントセレクタ

ct-selectors-title = 証跡 { $trail } が管理イベントを記録しなくなりました（プリンシパル { $who }）
ct-selectors = { $who } が{ $origin }証跡 { $trail } に対して PutEventSelectors を呼び出し、管理イベントの書き込みを記録するセレクタがなくなりました。
ct-selectors-why = 証跡は有効に見えますが、アカウントへの変更（IAM、RDS、セキュリティグループ）は記録されていません。
ct-selectors-restore = イベントセレクタを元に戻してください（CloudTrail コンソール →［証跡］→ 対象の証跡 →［管理イベント］→［編集］→ API アクティビティの［読み取り］と［書き込み］を選択、または `aws cloudtrail put-event-selectors --trail-name <証跡名> --event-selectors ReadWriteType=All,IncludeManagementEvents=true`）。

## Stealth:IAMUser/DetectionDisabled: GuardDuty の RDS 保護

ct-guardduty-title = { $who } が GuardDuty の RDS ログインモニタリングを無効化
ct-guardduty = { $who } が{ $origin }、GuardDuty の検出器 { $detector } の RDS_LOGIN_EVENTS 機能を無効にしました。このアカウントとリージョンでは、GuardDuty がデータベースへのログインを監視しなくなっています。
ct-guardduty-restore = 再度有効にしてください（GuardDuty コンソール →［RDS Protection］→［編集］→［有効にする］、または `aws guardduty update-detector --detector-id <検出器 ID> --features Name=RDS_LOGIN_EVENTS,Status=ENABLED`）。

## Policy:EC2/DatabasePortOpenToInternet

ct-label-sg = セキュリティグループ
ct-label-sg-lower = セキュリティグループ
ct-label-acl = ネットワーク ACL
ct-label-acl-lower = ネットワーク ACL
ct-port = ポート { $port }
ct-port-all = 全ポート
ct-port-range = ポート { $from }-{ $to }（{ $ports }）
ct-port-from = { $cidr } からの{ $port }
ct-open-title = { $label } { $resource } が{ $port }を { $cidr } に公開（プリンシパル { $who }）
ct-open = { $who } が{ $origin }{ $label } { $resource } に対して { $api } を呼び出し、{ $rules }へのインバウンド通信を許可しました。
ct-open-why = そこで待ち受けているデータベースには、インターネット上のあらゆるスキャナーから到達できます。
ct-open-remove-sg = 意図した変更でなければ、今すぐルールを削除してください（EC2 コンソール →［セキュリティグループ］→ 対象のグループ →［インバウンドルール］→［インバウンドルールを編集］→ 該当ルールを［削除］→［ルールを保存］、または `aws ec2 revoke-security-group-ingress --group-id <グループ ID> --protocol tcp --port <ポート> --cidr 0.0.0.0/0`）。許可するのはアプリケーションのセキュリティグループか、社内・VPN のアドレス範囲だけにします。
ct-open-remove-acl = 意図した変更でなければ、今すぐエントリを置き換えてください（VPC コンソール →［ネットワーク ACL］→ 対象の ACL →［インバウンドルール］→［インバウンドルールを編集］、または `aws ec2 replace-network-acl-entry --network-acl-id <ACL ID> --ingress --rule-number <ルール番号> --protocol tcp --port-range From=<ポート>,To=<ポート> --cidr-block <許可する範囲> --rule-action allow`）。許可するのはアプリケーションのサブネットか、社内・VPN のアドレス範囲だけにします。
ct-open-check = その後、変更以降に不明なアドレスからこのデータベースへのログインがないか確認してください。

## Discovery:IAMUser/AccessDeniedBurst（機密性の高い 1 つの API）

ct-denied-one = { $who } が{ $origin }、秘密情報や強い権限を渡す API である { $shown } の呼び出しで、{ $secs }秒以内に{ $calls }回以上拒否されました。
ct-denied-one-why = 拒否されても同じ API を何度も呼ぶ（すべてのインスタンスに GetPasswordData、すべてのシークレットに GetSecretValue）のは、盗んだアクセスキーで秘密情報への道を探るときの動きです。権限が足りないアプリケーションの失敗は数回で、数十回にはなりません。

## CredentialAccess:IAMUser/ConsoleBruteForce と ConsoleBruteForce.SuccessfulLogin

ct-console-bf-title-ip = { $ip } からアカウント { $account } の AWS マネジメントコンソールへのブルートフォース攻撃
ct-console-bf-title-user = アカウント { $account } の { $user } に対する AWS マネジメントコンソールへのブルートフォース攻撃
ct-console-bf-ip = { $ip } が{ $min }分以内に、アカウント { $account } の AWS マネジメントコンソールへのサインインに{ $n }回失敗しました。
ct-console-bf-user = アカウント { $account } の AWS マネジメントコンソールへの { $user } としてのサインインが、{ $min }分以内に{ $n }回失敗しました。
ct-console-bf-why = パスワードを打ち間違えた人は 1、2 回失敗してからサインインします。これほどの失敗は誰かが推測しています。
ct-console-bf-mfa = コンソールを使うすべてのユーザーとルートユーザーに MFA デバイスがあることを確認し（IAM コンソール →［ユーザー］→ 対象のユーザー →［セキュリティ認証情報］→［MFA デバイスの割り当て］）、自分たちのアドレスでなければブロックしてください。
ct-console-bf-watch = 同じアドレスから、または同じユーザーとしてのサインイン成功に注意してください。keibi は乗っ取りとして報告します。
ct-console-takeover-title = { $user } がブルートフォース攻撃の後、{ $ip } からアカウント { $account } の AWS マネジメントコンソールにサインイン
ct-console-takeover = { $user } が{ $min }分以内に{ $n }回サインインに失敗した後、{ $origin }アカウント { $account } の AWS マネジメントコンソールにサインインしました。
ct-console-takeover-mfa = サインインには MFA が使われました。攻撃者が MFA デバイスも持っているか、失敗と成功が別人の可能性があります。すぐにユーザーに確認してください。
ct-console-takeover-nomfa = サインインに MFA は使われていません。推測されたパスワードだけで入れました。
ct-console-takeover-elsewhere = サインインは失敗したどのアドレスからでもありません。失敗した者ではなくユーザー本人の可能性があります。ユーザーに確認してください。
ct-console-takeover-reset-root = 自分でルートユーザーとしてサインインし、ルートユーザーのパスワードを変更し、MFA デバイスを交換して、ルートユーザーのアクセスキーをすべて削除してください（アカウント名 →［セキュリティ認証情報］）。サインインできなければ、直ちに AWS のアカウント復旧手続きを行ってください。
ct-console-takeover-reset = ユーザーのコンソールパスワードをリセットし（`aws iam update-login-profile --user-name <ユーザー名> --password-reset-required`）、MFA を必須にして、状況がわかるまでユーザーのアクセスキーを無効化してください（`aws iam update-access-key --user-name <ユーザー名> --access-key-id <アクセスキー ID> --status Inactive`）。
ct-console-takeover-review = サインイン後にこのセッションが行った操作をすべて確認してください（CloudTrail でこのプリンシパルのこの時刻以降）。新しいユーザー、アクセスキー、ポリシー、ロールは、攻撃者が居座るための手段です。

## AttackSequence:IAM/CompromisedCredentials

ct-seq-title = アカウント { $account } の乗っ取り：{ $user } がブルートフォース攻撃の後にサインインし、IAM の変更を{ $n }件実行
ct-seq = { $user } が{ $failures }回サインインに失敗した後、{ $ip } からアカウント { $account } の AWS マネジメントコンソールにサインインし、{ $min }分以内にアクセスを維持・拡大する変更を{ $n }件行いました：{ $steps }。
ct-seq-why = パスワードを推測し、パスワードをリセットされても戻れる手段を加える。これはアカウント乗っ取りの典型的な流れで、上の手順は別々の出来事ではなく一続きの攻撃です。
ct-seq-lock-root = 今すぐルートユーザーを保護してください。パスワードを変更し、MFA デバイスを交換し、ルートユーザーのアクセスキーをすべて削除します。サインインできなければ、AWS のアカウント復旧手続きを行ってください。
ct-seq-lock-user = 乗っ取られたユーザーを今すぐロックしてください。コンソールパスワードを削除し（`aws iam delete-login-profile --user-name <ユーザー名>`）、アクセスキーを無効化して、MFA を必須にします。
ct-seq-undo = 上の手順をすべて元に戻してください。作成されたユーザー、アクセスキー、コンソールパスワードを削除し、ポリシーをデタッチし、信頼ポリシーを元に戻します。
ct-seq-db = IAM の管理者はアカウントのすべてのデータベースを操作できます。データベースのマスターパスワードを変更し、サインイン以降のログインがないかデータベースのログを確認してください。

## PrivilegeEscalation:IAMUser/AdminPolicyAttached

ct-admin-user = ユーザー
ct-admin-role = ロール
ct-admin-group = グループ
ct-admin-title = { $who } が{ $kind } { $name } に { $policy } を付与
ct-admin = { $who } が{ $origin }、{ $kind } { $name } に { $policy } を付与しました（{ $api }）。
ct-admin-new = この{ $kind }は{ $min }分以内に作成されたばかりです。この権限を持つ新しいプリンシパルは、パスワードをリセットされても戻れる手段になります。
ct-admin-why = この権限があれば、データベースを含めアカウント内のあらゆるものを変更できます。
ct-admin-ask = 呼び出し元のプリンシパルの利用者に、誰がなぜこの権限を求めたのかを確認してください。
ct-admin-undo = 誰も求めていなければ、ポリシーをデタッチし（IAM コンソール →［ユーザー］または［ロール］→ 対象 →［許可］→［削除］）、新しいユーザーやロールであれば削除して、呼び出し元の認証情報は盗まれたものとして扱ってください。

## Persistence:IAMUser/CredentialsForAnotherUser

ct-creds-key = アクセスキー
ct-creds-password = コンソールパスワード
ct-creds-password-changed = 新しいコンソールパスワード
ct-creds-title = { $who } が { $user } の{ $what }を作成
ct-creds = { $who } が{ $origin }、既存のユーザー { $user } の{ $what }を作成しました（{ $api }）。
ct-creds-why = 他人のために作られた認証情報は、その人になりすます手段であり、呼び出し元自身のアクセスが取り消された後に戻ってくる手段でもあります。
ct-creds-ask = { $user } に、本人が依頼したものかを確認してください。
ct-creds-undo = 依頼していなければ、アクセスキーまたはコンソールパスワードを削除し（IAM コンソール →［ユーザー］→ { $user } →［セキュリティ認証情報］）、呼び出し元の認証情報は盗まれたものとして扱ってください。

## Persistence:IAMRole/TrustedOutsideAccount

ct-trust-title = ロール { $role } が外部から引き受け可能に：{ $accounts }
ct-trust = { $who } が{ $origin }、アカウント { $accounts } にロール { $role } の引き受けを許可しました（{ $api }）。これらはこのアカウントでも、信頼済みアカウント（--trusted-account）でも、組織内のアカウントでもありません。
ct-trust-anyone = 信頼ポリシーに "*" が指定されています。どの AWS アカウントからもロールを引き受けられます。
ct-trust-why = 外部アカウントに信頼されたロールは、そのアカウントの持ち主がいつでも、こちらのキーなしで開けられる扉です。
ct-trust-ask = そのアカウントが取引先のものかを確認してください（そうであれば --trusted-account で指定します）。
ct-trust-undo = そうでなければ、ロールの信頼ポリシーから削除し（IAM コンソール →［ロール］→ { $role } →［信頼関係］）、誰が追加したのかを調べてください。
