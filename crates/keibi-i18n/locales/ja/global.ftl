# 第 2 段（keibi-engine global）の検出結果: 各パーティションが記録した検出結果から、
# インスタンスやアカウントをまたぐものを判定します。

## 共通

global-block = これらのインスタンスに到達できる場所で { $ip } をブロックしてください。インスタンスごとではなく、共有しているセキュリティグループのインバウンドルールか VPC のネットワーク ACL で行います（自前のサーバーではファイアウォールのルール）。
global-private = インターネットから到達できる必要がなければ、インスタンスをパブリックアクセス不可にし（`aws rds modify-db-instance --no-publicly-accessible`）、アプリケーションのセキュリティグループからの接続だけを許可してください。
global-each = 各インスタンスの検出結果（証拠に一覧があります）を開いてください。失敗の後にログインが成功していれば、そのインスタンスの検出結果に、そこで行う対処とともに記録されています。

## CredentialAccess:RDS/BruteForce.MultipleInstances

global-spread-title = { $ip } から { $n }個のインスタンスへのログイン攻撃
global-spread-what = { $ip } は、互いに{ $window }以内に { $n }個のインスタンス（{ $instances }）でログインに失敗しました。各インスタンスの検出結果で計 { $failures }回、{ $first }から{ $last }までです。
global-spread-why = 各インスタンスから見れば攻撃者は 1 つですが、合わせると 1 つの送信元がデータベースを順に攻撃していることがわかります。インスタンス名を知っているスキャナーや攻撃キャンペーンの動きです。パスワードを間違えた人やアプリケーションは、使っているインスタンスで失敗するだけで、複数のインスタンスで同時には失敗しません。

## CredentialAccess:RDS/CredentialStuffing.MultipleInstances

global-stuffing-title = { $ip } からのクレデンシャルスタッフィング: { $n }個のインスタンスでユーザー名 { $users }件
global-stuffing-what = { $ip } は{ $window }以内に { $n }個のインスタンス（{ $instances }）で、{ $users }人の異なるユーザーとしてログインに失敗しました: { $names }。
global-stuffing-why = 多数のユーザー名をそれぞれ数回ずつ、複数のデータベースで試すのは、漏えいした認証情報リストやよくある認証情報の使い回し（クレデンシャルスタッフィング）です。ほかで使い回されたパスワードのユーザーが狙われます。
global-stuffing-passwords = これらのユーザーが各インスタンスに存在するか確認し、存在するユーザーにはほかで使っていない長いランダムなパスワードを設定し、使われていないアカウントは削除してください。

## Behavior:IAMUser/MultipleAccounts

global-principal-title = { $principal } が { $accounts }個のアカウント、{ $regions }個のリージョンで検出結果を発生させました
global-principal-what = { $principal } は{ $window }以内に、{ $accounts }個の AWS アカウント（{ $account_list }）と { $regions }個のリージョン（{ $region_list }）でコントロールプレーンの検出結果を発生させました: { $types }。
global-principal-why = 1 つの認証情報が同時に複数のアカウントやリージョンで動いているのは、盗まれたアクセスキーやロールのセッションを使って組織内を移動するときの動きです。計画された作業で、1 日のうちに複数のアカウントで検出結果が出ることはまれです。
global-principal-revoke = 計画された作業でなければ、直ちにこの認証情報を止めてください。{ $principal } のアクセスキーを無効にするか（`aws iam update-access-key --status Inactive`）、ロールであればアクティブなセッションを取り消してください（IAM コンソール →［ロール］→ 対象のロール →［アクティブなセッションの取り消し］）。
global-principal-review = その後、各アカウントの検出結果（証拠に一覧があります）に対処し、このプリンシパルがそれらのアカウントでほかに何をしたかを CloudTrail で確認してください。
