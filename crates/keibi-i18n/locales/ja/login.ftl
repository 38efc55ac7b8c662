# ログイン検出（keibi-detect detectors/login）: BruteForce、PasswordSpray、
# SuccessfulBruteForce（login_source）と分散型の攻撃（login_stuffing）。
# 用語は docs/ja/glossary.md に従う。

failed-logins = ログイン失敗 { $count }回

## 送信元ごとの検出で共通

login-rotation-one = すべてこのネットワーク内の1つのアドレス（{ $ip }）からです。
login-rotation-many = この /64 内の{ $more ->
    [yes] { $n }以上
   *[no] { $n }
}の異なるアドレスから来ています（actor.ips に記載{ $more ->
    [yes] 、最初の100件
   *[no] {""}
}）。IPv6 のクライアントは /64 全体を持ち、アドレスを自由に変えられるため、keibi はアドレスではなくネットワーク単位で数えています。
login-between = { $first }から{ $last }まで（{ $span }{ $rate }）
login-after-many = 失敗が始まった後、{ $at }に { $user } としてログインに成功しています（ログイン { $logins }回）。このパスワードは攻撃者に知られたものとみなしてください。
login-after-one = 失敗の後、{ $at }に { $user } としてログインに成功しています。このパスワードは攻撃者に知られたものとみなしてください。
login-after-none = 失敗が始まった後、このアドレスからのログイン成功はありません。
login-block = { $ip } が自社のものでなければ、今すぐブロックしてください。RDS コンソールの［データベース］→ 対象のインスタンス →［接続とセキュリティ］からセキュリティグループを開き、インバウンドルールからこのアドレスを削除します（またはネットワーク ACL に拒否ルールを追加）。自社運用のサーバーでは pg_hba.conf に `reject` 行を追加するか、ファイアウォールで遮断します。
login-make-private = インターネットから接続できる必要がなければ、インスタンスをパブリックアクセス不可にし（`aws rds modify-db-instance --db-instance-identifier <インスタンス> --no-publicly-accessible`）、アプリケーションのセキュリティグループからの接続だけを許可してください。

## BruteForce

brute-force-title = { $instance } へのブルートフォース攻撃（送信元 { $ip }）: { $failures }
brute-force-title-login = { $instance } へのブルートフォース攻撃（送信元 { $ip }）: { $failures }の後、{ $user } でログイン成功
brute-force-failed = { $ip } から { $instance } へのログインが{ $between }に{ $count }回失敗しました（{ $who }）。
brute-force-who-one = すべてユーザー { $user }
brute-force-who-many = ユーザー { $n }件: { $users }
brute-force-volume = hydra などの攻撃ツールに典型的な動きです。人のパスワード入力ミスやアプリケーションの再試行で、これほど多く失敗することはありません。
brute-force-burst = 人が入力するより速い、短時間の集中した失敗です。攻撃ツールの最初の数秒か、誤ったパスワードで複数の接続を同時に開いたクライアントが考えられます。
brute-force-unseen = { $ip } はここに一度もログインしたことのないパブリックアドレスです。自社のクライアントではなく、ファイアウォールや遮断、誤ったユーザー名リストで途中で止まった攻撃ツールの最初の数秒と考えられます。
brute-force-missing = 試されたユーザー名のうち{ $missing }件は存在しないとサーバーが応答しました。ユーザー名を推測している（ユーザー列挙）と考えられます。
brute-force-seen = { $ip } は、失敗したユーザーとして以前ここにログインしたことがあります。変更されたパスワードや入力ミスのある、そのユーザー自身のクライアントである可能性が高いです。
brute-force-steady = プライベートアドレスから、存在する1つのユーザーに対して一定の間隔で失敗しています。古いパスワードを使い続けている社内のコネクションプールかヘルスチェックである可能性が高いです。
brute-force-probes = 認証しないまま閉じた接続も{ $probes }回ありました。
brute-force-known = { $ip } はこれらの失敗の前に { $user } として{ $times }回ログインに成功しています。攻撃者ではなく、（パスワードのローテーション後も）古いパスワードを使い続けている自社のアプリケーションサーバーである可能性が高いです。
brute-force-rotate-login = ログインに成功しているため、今すぐ { $user } のパスワードを変更し、{ $ip } からの操作内容を確認してください。{ $targets } のパスワードが十分に長いランダムな文字列であることも確認してください。
brute-force-rotate = { $targets } のパスワードが十分に長いランダムな文字列であることを確認し、弱い可能性があれば変更してください。
brute-force-own = { $ip } が自社のもの（古いパスワードを使っているアプリケーション）であれば、使用しているパスワードを更新し、このアドレスを --trusted-list に追加してください。

## PasswordSpray

spray-title = { $instance } へのパスワードスプレー攻撃（送信元 { $ip }）: ユーザー名 { $n }件を試行
spray-tried = { $ip } が { $instance } に対し、{ $n }件の異なるユーザー名で{ $between }に試行しました（{ $failures }）: { $users }。
spray-explain = ユーザー名ごとの試行回数が少ないのはパスワードスプレー攻撃の特徴です。よく使われる少数のパスワードを多数のアカウントに試し、アカウントごとのロックアウトにかからないようにしています。
spray-missing = このうち { $missing }件のユーザー名はサーバーが「存在しない」と応答しています。攻撃者はアカウント名を推測しています。
spray-accounts = 試行されたユーザーにデフォルトや弱いパスワードが設定されていないか確認し、使っていないアカウントは削除してください。組み込みの管理者アカウント（postgres、root、admin）にはネットワーク経由のログインを許可しないでください。

## SuccessfulBruteForce

success-title = { $instance } でブルートフォース攻撃の後に { $user } としてログイン（送信元 { $ip }）
success-login = { $ip } が{ $since }{ $failures }の後、{ $at }に { $user } として { $instance } にログインしました（{ $which }）。
success-since = { $at }以降の
success-all-as = すべて { $user } として
success-some-as = うち{ $n }回が { $user } として
success-known = 推測によってパスワードが見つかった可能性が最も高いです。{ $user } のパスワードは { $ip } を操作する者に知られているものとして扱ってください。
success-again = { $user } としてのログインは合計{ $count }回、最後は{ $last }です。
success-now = 直ちに: { $user } のパスワードを変更し（{ $change }）、{ $ip } からのセッションを終了して（{ $kill }）、インスタンスのセキュリティグループまたはファイアウォールで { $ip } をブロックしてください。
success-review = 次に、{ $at }以降に { $user } が { $ip } から行った操作（pgaudit または server_audit のステートメント）を確認してください。ユーザーの作成、権限の変更、データの読み出しやエクスポートがないかを見ます。
success-harden = インターネットから接続できる必要がなければインスタンスをパブリックアクセス不可にし、すべてのデータベースユーザーに十分に長いランダムなパスワードを設定してください。

## 分散型のパスワード推測（login_stuffing）

stuffing-title = { $instance } への分散型パスワード推測: { $ips }個のアドレスから { $targets } として{ $failures }
stuffing-per-user = ユーザーごとの失敗回数: { $list }。
stuffing-failed = { $targets } として { $instance } へのログイン失敗 { $failures }件が、{ $nets }個のネットワークの{ $ips }個のアドレスから{ $first }から{ $last }まで（{ $span }{ $rate }）発生しました: { $shown }。
stuffing-explain = 無関係な多数のネットワークから同じアカウントを推測しているのは、ボットネットか、漏えいした認証情報リストの使い回し（クレデンシャルスタッフィング）です。自社のクライアント（アプリケーションサーバー、NAT ゲートウェイ）は1つか少数のネットワークにまとまっています。
stuffing-login = その後、失敗していたアドレスの1つ { $ip } が{ $at }に { $user } としてログインに成功しました{ $logins ->
    [0] {""}
    [1] {""}
   *[other] （同様のログイン { $logins }回）
}。攻撃者は有効なパスワードを見つけています。
stuffing-no-login = 失敗していたアドレスから、対象ユーザーとしてのログイン成功はありません。
stuffing-change = 今すぐ { $targets } のパスワードを十分に長いランダムなものに変更するか、ネットワーク経由でログインする必要がなければアカウントを無効にしてください。
stuffing-restrict = 分散型の攻撃は個々のアドレスをブロックしても止まりません。インスタンスのセキュリティグループで接続元を自社のネットワークに限定するか、インスタンスをパブリックアクセス不可にしてください（`aws rds modify-db-instance --db-instance-identifier <インスタンス> --no-publicly-accessible`）。
stuffing-review = ログインが成功しています。そのユーザーのセッションを終了し、最初のログイン成功以降の操作内容（pgaudit または server_audit のステートメント）を確認してください。

## 脅威リストや Tor の送信元（login_reputation）

rep-an-address = 不明なアドレス
rep-on-a-list = 脅威リスト
rep-on-tor = Tor 出口ノードのリスト「{ $tor }」
rep-on-threat = 脅威リスト「{ $threat }」
rep-on-tor-and-threat = Tor 出口ノードのリスト「{ $tor }」（と脅威リスト「{ $threat }」）
rep-what-tor = Tor 出口ノード
rep-what-threat = 脅威リストに載っているアドレス
rep-why-tor = Tor を使うと接続の本当の送信元が隠れます。自社のアプリケーションや社員が Tor 経由でデータベースに接続することは通常ありません。
rep-why-threat = 脅威リストには、攻撃、スキャン、マルウェアの活動が確認されたアドレスが載っています。
rep-at = { $at }に
rep-listed = { $ip } は{ $list }に載っています。{ $why }
rep-block = インスタンスのセキュリティグループのインバウンドルールまたはネットワーク ACL で { $ip } をブロックしてください（自社運用のサーバーでは pg_hba.conf の `reject` 行かファイアウォール）{ $tor ->
    [yes] 。Tor 全体を遮断するには、公開されている出口ノードのリストをブロックします
   *[no] {""}
}。インターネットから接続できる必要がなければ、インスタンスをパブリックアクセス不可にしてください（`aws rds modify-db-instance --db-instance-identifier <インスタンス> --no-publicly-accessible`）。
rep-login-title = { $what } { $ip } から { $instance } に { $who } としてログイン
rep-logged-in = { $ip } が{ $when }、{ $who } として { $instance } にログインしました{ $count ->
    [0] {""}
    [1] {""}
    [one] {""}
   *[other] （{ $count }回）
}。
rep-also-failed = ログインの失敗もあります（同じアドレスの FailedLogin の検出結果を参照）。
rep-knows-password = この送信元から接続した者は { $who } のパスワードを知っています。
rep-treat-stolen = 心当たりのあるログイン（Tor を使う社員、テスト担当者など）でなければ、{ $who } のパスワードは盗まれたものとして扱ってください。今すぐ変更し、{ $ip } からのセッションを終了して、その操作内容（{ $ip } からの pgaudit または server_audit のステートメント）を確認します。
rep-failed-title = { $what } { $ip } から { $instance } へのログイン失敗: { $count }回
rep-failed = { $ip } から { $instance } へのログインが{ $when }に{ $count }回失敗しました（ユーザー { $who }）。
rep-also-logged-in = ログインにも成功しています。同じアドレスの SuccessfulLogin の検出結果を参照してください。
rep-never-logged-in = ログインに成功したことはありません。
rep-check-password = { $who } のパスワードが十分に長いランダムな文字列であることを確認してください。
rep-probe-title = { $what } { $ip } から { $instance } のデータベースポートへの探索
rep-probed = { $ip } が{ $when }に { $instance } へ{ $count }回接続し、ログインを試みずに切断しました。データベースポートで何が応答するかを調べるスキャンです。
rep-reachable = データベースポートに到達しているため、このインスタンスはそのアドレスの場所（通常はインターネット）から接続できる状態です。
rep-restrict = インスタンスのセキュリティグループのインバウンドルールを、自社アプリケーションのアドレスまたはセキュリティグループに限定してください。
