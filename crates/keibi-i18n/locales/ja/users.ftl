# keibi users と keibi dashboard (crates/keibi/src/cmd/users.rs, dashboard.rs)。

users-bad-name = { $name } はユーザー名に使えません。英字、数字、. _ - @ + の 1〜64 文字にしてください
users-exists = ユーザー { $name } はすでにあります（新しいパスワードは keibi users passwd { $name } で設定します）
users-added = { $name }（{ $role }）を追加しました
users-none = ユーザーはまだいません: keibi users add NAME --role admin
users-removed = { $name } を削除し、そのセッションを終了しました
users-unknown = ユーザー { $name } はいません
users-password-set = { $name } のパスワードを変更し、そのセッションを終了しました
users-revoked = { $name } のセッションを { $count } 件終了しました
users-no-sessions = 有効なセッションはありません
users-col-name = 名前
users-col-role = ロール
users-col-lang = 言語
users-col-state = 状態
users-col-changed = 更新日時
users-col-since = 開始
users-col-seen = 最終アクセス
users-col-expires = 有効期限
users-active = 有効
users-disabled = 無効
users-password-prompt = パスワード:{" "}
users-password-again = もう一度:{" "}
users-password-mismatch = 2 回入力したパスワードが一致しません。何も変更していません
users-password-short = パスワードが { $min } 文字より短いため、何も変更していません
users-password-long = パスワードが { $max } バイトより長いため、何も変更していません

dashboard-serving = ダッシュボード: { $url }
dashboard-auth-modes = ダッシュボードのログイン: { $modes }
dashboard-mode-local = ローカルユーザー
dashboard-mode-proxy = { $trusted } からのヘッダー { $header }
dashboard-mode-none = なし（dashboard.auth で local が false、プロキシも未設定）
dashboard-no-user = ダッシュボードのユーザーがまだいません: keibi users add NAME --role admin
dashboard-no-store = { $path } にストアがありません（keibi run、keibi findings import、keibi users add で作成されます）
