# ベースラインのその他の検出結果（keibi-detect detectors/baseline）: プリンシパルが
# 初めての場所やツールから行った重要な AWS API 呼び出し（Impact:IAMUser/AnomalousBehavior、
# principal.rs）と、インスタンスの通常量を大きく超えるログイン失敗
# （CredentialAccess:RDS/AnomalousBehavior.FailedLogin、logins.rs）。

## Impact:IAMUser/AnomalousBehavior

principal-call = { $arn } による { $call }: { $factors }
principal-history = { $principal } のプロファイルには、{ $days }日間で{ $calls }回の API 呼び出しが記録されています。
principal-why-located = このプリンシパルが一度も使ったことのない場所からの、破壊的または公開につながる呼び出しです。認証情報が第三者の手に渡っている可能性があります。
principal-why-tool = ネットワークはこのプリンシパルの通常のものですが、ツールが通常と異なります。
principal-confirm = { $principal } の所有者に、この呼び出しを本人が行ったか確認してください。
principal-contain = 本人でなければ、アクセスキーを無効化するか（`aws iam update-access-key --user-name <ユーザー名> --access-key-id <アクセスキー ID> --status Inactive`）ロールのセッションを取り消し（IAM コンソール →［ロール］→ 対象のロール →［セッションを取り消す］）、ほかの呼び出しを CloudTrail で確認して（CloudTrail コンソール →［イベント履歴］、`aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=<ユーザー名>`）、変更された内容を元に戻すか閉じてください。

## CredentialAccess:RDS/AnomalousBehavior.FailedLogin

failed-volume-title = { $instance } でログイン失敗 { $count }回、通常量を大きく超えています
failed-volume = { $instance } で{ $first }から{ $last }までにログイン失敗が{ $count }回ありました（{ $ips }個のアドレスから{ $users }件のユーザーに対して）{ $usual }。
failed-volume-usual = 。通常は1時間あたり最大{ $max }回です（送信元: { $sources }）{ $new }
failed-volume-new = 。このうち{ $n }回は、このインスタンスで失敗したことのないネットワークからです
failed-volume-block = 誰が試行しているかを特定してください。自社のアドレスでなければブロックし（セキュリティグループ、pg_hba.conf、ファイアウォール）、試行されたユーザーのいずれかがその後ログインに成功していないか確認します。
