-- The dashboard's local users, their login sessions and failed logins (issue 19).
-- Times are milliseconds since 1970-01-01 UTC.

-- A person who logs in to the dashboard. `hash` is an argon2id PHC string
-- (`$argon2id$v=19$...`): the password itself is never stored.
CREATE TABLE users (
    name      TEXT PRIMARY KEY,
    hash      TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'admin')),
    lang      TEXT CHECK (lang IN ('en', 'ja')),
    created   INTEGER NOT NULL,
    changed   INTEGER NOT NULL,
    disabled  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A login session. `token_hash` is the SHA-256 of the cookie's token: the token
-- itself is only ever in the browser, so a copy of the store logs nobody in. A
-- session ends at `absolute`, or `idle_ms` after `last_seen`, whichever comes first.
CREATE TABLE sessions (
    token_hash  BLOB PRIMARY KEY,
    user        TEXT NOT NULL,
    csrf        TEXT NOT NULL,
    created     INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    idle_ms     INTEGER NOT NULL,
    absolute    INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user);

-- Failed logins, one row each, per client address (`addr:...`) and per user name
-- (`user:...`): the rate limit counts them over a window, so a restart does not
-- reset it. Rows older than the window are deleted as new ones come.
CREATE TABLE login_failures (
    key  TEXT NOT NULL,
    at   INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_key ON login_failures (key, at);
