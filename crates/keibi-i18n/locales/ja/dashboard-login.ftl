# ダッシュボードのログインページ (keibi-server auth.rs)。

dashboard-login-title = ログイン
dashboard-login-user = ユーザー名
dashboard-login-password = パスワード
dashboard-login-submit = ログイン
dashboard-login-wrong = ユーザー名またはパスワードが正しくありません。
dashboard-login-stale = ログインフォームの有効期限が切れました。もう一度お試しください。
dashboard-login-limited = ログインの失敗が多すぎます。{ $minutes } 分後にもう一度お試しください。
dashboard-login-no-user = ユーザーがまだいません。サーバーで作成してください: keibi users add NAME --role admin
dashboard-login-off = ログインが無効です。ローカルユーザー (dashboard.auth.local) も信頼するプロキシ (dashboard.auth.proxy) も設定されていません。
dashboard-login-proxy-only = 組織のサインインプロキシからログインしてください。
