# keibi users and keibi dashboard (crates/keibi/src/cmd/users.rs, dashboard.rs).

users-bad-name = { $name } is not a user name: 1 to 64 letters, digits or . _ - @ +
users-exists = user { $name } exists already (keibi users passwd { $name } sets a new password)
users-added = added { $name } ({ $role })
users-none = no users yet: keibi users add NAME --role admin
users-removed = removed { $name } and ended their sessions
users-unknown = no user { $name }
users-password-set = new password for { $name }; their sessions ended
users-revoked = ended { $count ->
    [one] { $count } session
   *[other] { $count } sessions
} of { $name }
users-no-sessions = no live sessions
users-col-name = NAME
users-col-role = ROLE
users-col-lang = LANG
users-col-state = STATE
users-col-changed = CHANGED
users-col-since = SINCE
users-col-seen = LAST SEEN
users-col-expires = EXPIRES
users-active = active
users-disabled = disabled
users-password-prompt = Password:{" "}
users-password-again = Again:{" "}
users-password-mismatch = the two passwords differ; nothing changed
users-password-short = the password is shorter than { $min } characters; nothing changed
users-password-long = the password is longer than { $max } bytes; nothing changed

dashboard-serving = dashboard at { $url }
dashboard-auth-modes = dashboard login: { $modes }
dashboard-mode-local = local users
dashboard-mode-proxy = header { $header } from { $trusted }
dashboard-mode-none = nobody (dashboard.auth: local is false and no proxy)
dashboard-no-user = no dashboard user yet: keibi users add NAME --role admin
dashboard-no-store = no store at { $path } (keibi run, keibi findings import or keibi users add creates one)
