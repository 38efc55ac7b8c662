# The dashboard's login page (keibi-server auth.rs).

dashboard-login-title = Log in
dashboard-login-user = User name
dashboard-login-password = Password
dashboard-login-submit = Log in
dashboard-login-wrong = Wrong user name or password.
dashboard-login-stale = The login form expired; try again.
dashboard-login-limited = Too many failed logins. Try again in { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}.
dashboard-login-no-user = No user yet. Create one on the server: keibi users add NAME --role admin
dashboard-login-off = Login is off: neither local users (dashboard.auth.local) nor a trusted proxy (dashboard.auth.proxy) is configured.
dashboard-login-proxy-only = Log in through your organization's sign-in proxy.
