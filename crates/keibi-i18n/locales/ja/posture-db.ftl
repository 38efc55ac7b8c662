# データベース内部の設定チェック（keibi-posture db: KB.PG.*、KB.MySQL.*）と
# データベース読み取り（keibi-dbprobe）の注記。

## 読み取りの注記

db-note-unreadable = { $target }: { $what } を読み取れませんでした（{ $reason }）。これを使うチェックは行っていません。監査用ロールに docs/posture.md の権限を付与してください。
db-note-truncated = { $target }: { $what } が { $max } 行を超えています。最初の { $max } 行だけをチェックしました。

## KB.PG.1 HbaTrustOverNetwork

pg-hba-trust-title = { $resource } はネットワークからのクライアントをパスワードなしで受け入れています（pg_hba.conf の trust）
pg-hba-trust-what = pg_hba.conf の { $items } 行目（{ $count } 行）が TCP 接続を `trust` 方式で受け入れています。ポートに届く人は誰でも、スーパーユーザーを含む任意のロール名でパスワードなしにログインできます。このマシン内（127.0.0.1、::1）からの接続だけの行は数えていません。
pg-hba-trust-console = pg_hba.conf の該当行の `trust` を `scram-sha-256` に（アクセス不要なアドレスは `reject` に）変更し、設定を再読み込みしてください。RDS と Aurora の pg_hba.conf は AWS が管理しており、`trust` にはなりません。
pg-hba-trust-cli = pg_hba.conf の編集後に `SELECT pg_reload_conf();` を実行し、`SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules WHERE auth_method = 'trust';` が `local` 行だけを返すことを確認します。

## KB.PG.2 HbaWeakPasswordMethod

pg-hba-weak-title = { $resource } はネットワークからのログインを平文または MD5 のパスワードで受け付けています
pg-hba-weak-what = pg_hba.conf の { $items } 行目（{ $count } 行）が TCP クライアントを `password`（`hostssl` 行でなければ平文で送られます）または `md5`（弱いハッシュで、盗まれたハッシュでそのままログインできます）で認証しています。通信の盗聴や pg_authid の漏えいでそのロールになりすまされます。
pg-hba-weak-console = `password_encryption = scram-sha-256` にし、各ロールのパスワードを設定し直して（psql の `\password`）から、該当行の `md5` と `password` を `scram-sha-256` に（できれば `hostssl` に）変更して再読み込みしてください。
pg-hba-weak-cli = `ALTER SYSTEM SET password_encryption = 'scram-sha-256'; SELECT pg_reload_conf();` の後、ロールごとに `ALTER ROLE name PASSWORD '...';` を実行して pg_hba.conf を編集します。確認: `SELECT rolname FROM pg_authid WHERE rolpassword LIKE 'md5%';`

## KB.PG.3 HbaOpenToAnyAddress

pg-hba-any-title = { $resource } はすべてのアドレスからのログインを受け付けています（pg_hba.conf の 0.0.0.0/0）
pg-hba-any-what = pg_hba.conf の { $items } 行目（{ $count } 行）がすべてのアドレス（`all`、`0.0.0.0/0`、`::/0`）を許可しています。pg_hba.conf では誰も止められず、ポートに届く人は誰でもパスワードを試せます（keibi のブルートフォース攻撃の検出は試行が始まってから検出します）。
pg-hba-any-console = 該当行をアプリケーションと担当者が接続するネットワーク（`10.0.2.0/24` など）に絞り、最後に `host all all 0.0.0.0/0 reject` を加えて再読み込みしてください。ファイアウォールやセキュリティグループでもポートを閉じておきます。
pg-hba-any-cli = pg_hba.conf の編集後に `SELECT pg_reload_conf();` を実行し、`SELECT line_number, address, auth_method FROM pg_hba_file_rules WHERE address IN ('all', '0.0.0.0', '::');` で確認します。

## KB.PG.4 SslNotEnforced

pg-ssl-title = { $resource } は暗号化された接続を必須にしていません（{ $reason ->
    [hba] pg_hba.conf の host 行
   *[other] { $setting } = { $value }
}）
pg-ssl-what = { $reason ->
    [hba] `ssl` はオンですが、pg_hba.conf の { $items } 行目（{ $count } 行）が TLS なしの TCP 接続を受け入れています（`hostssl` ではなく `host`）
   *[other] `{ $setting }` が `{ $value }` です
}。クライアントは TLS なしで接続でき、パスワード（`password` や `md5` の場合）、クエリ、結果が経路上の誰にでも読める状態でネットワークを流れます。
pg-ssl-console = 自前のサーバー: 証明書を配置して `ssl = on` にし、pg_hba.conf で `hostssl` 行を使います。RDS: Amazon RDS コンソール →［パラメータグループ］→ インスタンスの DB パラメータグループ →［編集］→ `rds.force_ssl` を 1 にします（デフォルトのパラメータグループは編集できないため、カスタムのものを使います）。クライアントは RDS の CA バンドルを使い `sslmode=verify-full` で接続します。
pg-ssl-cli = `aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "ParameterName=rds.force_ssl,ParameterValue=1,ApplyMethod=immediate"`。自前のサーバー: `ALTER SYSTEM SET ssl = on; SELECT pg_reload_conf();`

## KB.PG.5 WeakPasswordEncryption

pg-password-encryption-title = { $resource } は新しいパスワードを MD5 で保存します（password_encryption = { $value }）
pg-password-encryption-what = `password_encryption` が `{ $value }` です。今後設定されるパスワードはすべて MD5 ハッシュで保存されます。MD5 は解読が速く、pg_authid から読まれたハッシュはパスワードを知らなくても `md5` 認証のログインに使えます。
pg-password-encryption-console = `password_encryption` を `scram-sha-256` にし（RDS では DB パラメータグループで）、各ロールのパスワードを設定し直して SCRAM で保存させてください。
pg-password-encryption-cli = `ALTER SYSTEM SET password_encryption = 'scram-sha-256'; SELECT pg_reload_conf();`（RDS: `aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "ParameterName=password_encryption,ParameterValue=scram-sha-256,ApplyMethod=immediate"`）

## KB.PG.6 UnexpectedPrivilegedRole

pg-admin-roles-title = { $resource } に想定外のスーパーユーザー、CREATEROLE、BYPASSRLS のロールが { $count } 個あります
pg-admin-roles-what = { $items }（{ $count } 個）が SUPERUSER、CREATEROLE、BYPASSRLS のいずれかを持っていますが、初期スーパーユーザーでも `rdsadmin` でも監査設定の許可リストのロールでもありません。スーパーユーザーはすべてのテーブルを読め、サーバー上でコマンドを実行し、監査を止められます。CREATEROLE は新しいロールを作れ、BYPASSRLS は行セキュリティを無視して読めます。攻撃者は居座るためにこうしたロールを追加します。
pg-admin-roles-console = 各ロールを誰がなぜ作ったかを確認してください。不要な属性は外すかロールを削除し、想定どおりのロールは keibi の設定の `[audit.database]` の `allowed_admins` に加えてください。
pg-admin-roles-cli = `ALTER ROLE name NOSUPERUSER NOCREATEROLE NOBYPASSRLS;` または `DROP ROLE name;`（一覧: `SELECT rolname FROM pg_roles WHERE rolsuper OR rolcreaterole OR rolbypassrls;`）

## KB.PG.7 LoginRoleWithoutExpiry

pg-valid-until-title = { $resource } にパスワードの有効期限がないログインロールが { $count } 個あります
pg-valid-until-what = ポリシーでパスワードの有効期限が求められていますが、{ $items } は `VALID UNTIL` のないパスワードでログインできます。漏えいしたパスワードは誰かが変更するまで使え続けます。
pg-valid-until-console = 各ログインロールに有効期限を設定し、それまでにパスワードをローテーションしてください。有効期限がポリシーでなければ `[audit.database]` の `require_password_expiry` をオフにします。
pg-valid-until-cli = `ALTER ROLE name VALID UNTIL '2027-06-30';`

## KB.PG.8 PublicSchemaCreate

pg-public-create-title = { $resource } ではすべてのロールがスキーマ public にオブジェクトを作成できます
pg-public-create-what = PUBLIC がスキーマ `public` に CREATE 権限を持っています（PostgreSQL 15 より前の既定値です。このサーバーは { $version } です）。どのロールでも、他のロールの `search_path` 上で組み込み関数を上書きする関数や演算子を作り、そのロールとしてコードを実行させられます（CVE-2018-1058）。
pg-public-create-console = 各データベースで PUBLIC からスキーマ public の CREATE 権限を取り消し、そこにオブジェクトを所有するロールにだけ付与してください。
pg-public-create-cli = `REVOKE CREATE ON SCHEMA public FROM PUBLIC;`（すべてのデータベースで）

## KB.PG.9 ConnectionLoggingOff

pg-log-connections-title = { $resource } は接続をログに記録していません（{ $items }）
pg-log-connections-what = { $items }: ログインとセッション終了がサーバーログに書かれません。keibi のログインの検出（ブルートフォース攻撃、パスワードスプレー攻撃、Tor や脅威リストのアドレスからのログイン）も調査も、誰が接続したかを知ることができません。
pg-log-connections-console = `log_connections` と `log_disconnections` をオンにしてください（RDS では DB パラメータグループで。どちらも再起動なしで反映されます）。
pg-log-connections-cli = `aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "ParameterName=log_connections,ParameterValue=1,ApplyMethod=immediate" "ParameterName=log_disconnections,ParameterValue=1,ApplyMethod=immediate"`。自前のサーバー: `ALTER SYSTEM SET log_connections = on; ALTER SYSTEM SET log_disconnections = on; SELECT pg_reload_conf();`

## KB.PG.10 AuditLoggingOff

pg-audit-title = { $resource } は pgaudit でステートメントを監査していません
pg-audit-what = { $items }: ステートメントが監査されないため、keibi のステートメントの検出（権限昇格、アカウント作成、サーバー側のコマンド実行、大量エクスポート、監査の改ざん）がこのサーバーについて読むものがありません。
pg-audit-console = `shared_preload_libraries` に `pgaudit` を加え（再起動が必要）、`CREATE EXTENSION pgaudit;` を実行して `pgaudit.log` を少なくとも `ddl, role` にしてください（RDS: どちらも DB パラメータグループで設定し、インスタンスを再起動します）。
pg-audit-cli = `aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "ParameterName=shared_preload_libraries,ParameterValue=pgaudit,ApplyMethod=pending-reboot" "ParameterName=pgaudit.log,ParameterValue='ddl,role',ApplyMethod=immediate"` の後 `aws rds reboot-db-instance --db-instance-identifier <instance>`

## KB.PG.11 OsAccessExtension

pg-os-extension-title = { $resource } に OS に届く拡張機能または言語があります: { $items }
pg-os-extension-what = { $items }（{ $count } 個）により、SQL からサーバーのファイルを読み書きしたり、サーバーの OS ユーザーとしてプログラムを実行したりできます（信頼されない言語はサンドボックスなしで動き、adminpack と file_fdw はファイルを扱います）。スーパーユーザーになった攻撃者はこれでホストのシェルを得ます。
pg-os-extension-console = 使っていないものは、インストールされている各データベースで削除してください。
pg-os-extension-cli = `DROP EXTENSION adminpack;` `DROP EXTENSION plpython3u;`（または `DROP LANGUAGE name;`）

## KB.PG.12 RemoteDataExtension

pg-remote-extension-title = { $resource } から他のサーバーへ接続できます: { $items }
pg-remote-extension-what = { $items }（{ $count } 個）により、SQL からデータベースサーバーが他のサーバーへ接続できます。アプリケーションを通さずにデータを持ち出したり、内部のホストに到達したりする手段になります。
pg-remote-extension-console = 使っていない場所では拡張機能を削除し、データベースホストからの外向き通信は必要な場所だけに許可してください。
pg-remote-extension-cli = `DROP EXTENSION dblink;` / `DROP EXTENSION postgres_fdw;`

## KB.MySQL.1 EmptyPassword

my-empty-password-title = { $resource } にパスワードが空のアカウントが { $count } 個あります
my-empty-password-what = { $items }（{ $count } 個）はパスワードでログインし、そのパスワードが空です。そのアカウントのホストとしてサーバーに届く人は誰でもログインできます。
my-empty-password-console = 各アカウントに長いランダムなパスワードを設定するか、使われていなければ削除してください。
my-empty-password-cli = `ALTER USER 'name'@'host' IDENTIFIED BY '<長いランダムなパスワード>';` または `DROP USER 'name'@'host';`（一覧: `SELECT user, host FROM mysql.user WHERE authentication_string = '';`）

## KB.MySQL.2 AdminFromAnyHost

my-admin-any-host-title = { $resource } では root または管理者がどのホストからでもログインできます
my-admin-any-host-what = { $items }（{ $count } 個）は root であるか管理者権限（ALL、SUPER、FILE、GRANT OPTION、CREATE USER）を持ち、ホストのワイルドカード（`%`）からログインできます。推測されたり漏えいしたりしたパスワードがどこからでも使えます。
my-admin-any-host-console = 管理者は作業するホスト（`'root'@'localhost'` や踏み台のアドレス）に限定するか、ワイルドカードのアカウントを削除してください。
my-admin-any-host-cli = `RENAME USER 'root'@'%' TO 'root'@'10.0.0.5';` または `DROP USER 'root'@'%';`

## KB.MySQL.3 AnonymousAccount

my-anonymous-title = { $resource } に匿名アカウントがあります
my-anonymous-what = { $items }: ユーザー名が空のアカウントはクライアントが送るどのユーザー名にも一致するため、誰でも（多くはパスワードなしで）ログインし、そのアカウントが見られるものを見られます。
my-anonymous-console = 匿名アカウントを削除してください（mysql_secure_installation も削除します）。
my-anonymous-cli = `DROP USER ''@'%';`（一覧: `SELECT user, host FROM mysql.user WHERE user = '';`）

## KB.MySQL.4 SecureTransportNotRequired

my-secure-transport-title = { $resource } は暗号化された接続を必須にしていません（require_secure_transport = { $value }）
my-secure-transport-what = `require_secure_transport` が `{ $value }` です。クライアントは TLS なしで接続でき、パスワード、クエリ、結果が経路上の誰にでも読める状態でネットワークを流れます。
my-secure-transport-console = すべてのクライアントが TLS で接続するようにしてから、`require_secure_transport` を ON にしてください（RDS では DB パラメータグループで。再起動なしで反映されます）。
my-secure-transport-cli = `aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "ParameterName=require_secure_transport,ParameterValue=1,ApplyMethod=immediate"`。自前のサーバー: `SET PERSIST require_secure_transport = ON;`（MariaDB: `SET GLOBAL` と my.cnf に同じ行）

## KB.MySQL.5 LocalInfileEnabled

my-local-infile-title = { $resource } は LOAD DATA LOCAL を許可しています（local_infile = { $value }）
my-local-infile-what = `local_infile` が `{ $value }` です。SQL インジェクションや悪意のあるサーバーが、クライアントに読める任意のファイルを送らせることができます（LOAD DATA LOCAL INFILE）。
my-local-infile-console = ローダーが必要としない限り `local_infile` をオフにしてください（RDS では DB パラメータグループで）。
my-local-infile-cli = `aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "ParameterName=local_infile,ParameterValue=0,ApplyMethod=immediate"`。自前のサーバー: `SET GLOBAL local_infile = OFF;` と my.cnf に `local_infile=OFF`

## KB.MySQL.6 SecureFilePrivEmpty

my-secure-file-priv-title = { $resource } では FILE 権限を持つアカウントがどこのファイルでも読み書きできます（secure_file_priv = { $value }）
my-secure-file-priv-what = `secure_file_priv` が空です。FILE 権限を持つアカウントはサーバーが読める任意のファイルを読め（`LOAD_FILE('/etc/passwd')`）、クエリ結果を任意の場所に書けます（`SELECT … INTO OUTFILE`、Web シェルを含む）。
my-secure-file-priv-console = サーバーの設定ファイルで `secure_file_priv` を専用のディレクトリに設定し（MySQL では NULL でファイルアクセスを無効にできます）、再起動してください。RDS では AWS が設定します。
my-secure-file-priv-cli = my.cnf の `[mysqld]` に `secure_file_priv=/var/lib/mysql-files` と書いてサーバーを再起動し、`SELECT @@GLOBAL.secure_file_priv;` で確認します。

## KB.MySQL.7 AuditLoggingOff

my-audit-title = { $resource } は監査ログを書いていません
my-audit-what = { $value }: 接続とステートメントが監査されないため、keibi のログインとステートメントの検出がこのサーバーについて読むものがありません。
my-audit-console = MariaDB と RDS for MySQL: server_audit プラグインを読み込み（RDS: MARIADB_AUDIT_PLUGIN を含むオプショングループ）、`server_audit_logging = ON`、`server_audit_events = CONNECT,QUERY` にしてください。Aurora MySQL: DB クラスターパラメータグループで `server_audit_logging = 1` にします。
my-audit-cli = `INSTALL SONAME 'server_audit'; SET GLOBAL server_audit_events = 'CONNECT,QUERY'; SET GLOBAL server_audit_logging = ON;`（RDS: `aws rds add-option-to-option-group --option-group-name <group> --options "OptionName=MARIADB_AUDIT_PLUGIN,OptionSettings=[{"{"}Name=SERVER_AUDIT_EVENTS,Value=CONNECT,QUERY{"}"}]" --apply-immediately`）

## KB.MySQL.8 UnexpectedPrivilegedAccount

my-admin-accounts-title = { $resource } に想定外の FILE、SUPER、GRANT OPTION を持つアカウントが { $count } 個あります
my-admin-accounts-what = { $items }（{ $count } 個）がグローバルな管理者権限（FILE はサーバーのファイルを読み書きし、SUPER と ALL はサーバーを制御し、GRANT OPTION と CREATE USER はアクセスを配れます）を持っていますが、このマシンの root でもシステムアカウントでも監査設定の許可リストのアカウントでもありません。
my-admin-accounts-console = アプリケーションに不要なグローバル権限は取り消し（必要ならそのデータベースに対して付与し）、想定どおりの管理者は keibi の設定の `[audit.database]` の `allowed_admins` に加えてください。
my-admin-accounts-cli = `REVOKE FILE, SUPER, GRANT OPTION ON *.* FROM 'name'@'host';`（確認: `SHOW GRANTS FOR 'name'@'host';`）
