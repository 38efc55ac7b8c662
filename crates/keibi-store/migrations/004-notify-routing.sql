-- Notifications, routing and flood control (issue 15 §2-§3): what the notifier
-- remembers so that a restart changes nothing. Times are milliseconds since
-- 1970-01-01 UTC.

-- The outbox learns the "still going" kind (a finding that keeps growing, told
-- again at most once per repeat_interval; `count_then` and `since` are what people
-- were last told). SQLite cannot change a CHECK constraint, so the table is
-- rebuilt; its AUTOINCREMENT sequence is carried over so ids never repeat.
CREATE TABLE outbox_next (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    key               TEXT NOT NULL UNIQUE,
    finding_id        TEXT NOT NULL,
    kind              TEXT NOT NULL
                      CHECK (kind IN ('new', 'reopened', 'severity_raised', 'resolved',
                                      'still_going')),
    previous_severity REAL,
    by                TEXT,
    at                INTEGER NOT NULL,
    finding           TEXT NOT NULL,
    text              TEXT,
    routed            INTEGER NOT NULL DEFAULT 0,
    count_then        INTEGER,
    since             INTEGER
) STRICT;
INSERT INTO outbox_next (id, key, finding_id, kind, previous_severity, by, at, finding, text, routed)
    SELECT id, key, finding_id, kind, previous_severity, by, at, finding, text, routed FROM outbox;
DELETE FROM sqlite_sequence WHERE name = 'outbox_next';
UPDATE sqlite_sequence SET name = 'outbox_next' WHERE name = 'outbox';
DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;
CREATE INDEX outbox_unrouted ON outbox (id) WHERE routed = 0;
CREATE INDEX outbox_at ON outbox (at);

-- A delivery's route (NULL for deliveries made before routing), the end of the
-- `group_wait` group it belongs to (deliveries of one route, channel and group
-- due together go out as one message), and whether the channel's rate limit holds
-- it for the channel's next digest (1).
ALTER TABLE deliveries ADD COLUMN route TEXT;
ALTER TABLE deliveries ADD COLUMN group_until INTEGER;
ALTER TABLE deliveries ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_group ON deliveries (route, channel, group_until)
    WHERE state = 'pending' AND group_until IS NOT NULL;
CREATE INDEX deliveries_held ON deliveries (channel) WHERE state = 'pending' AND held = 1;

-- The latest notice of each finding on each route (for the route's throttle):
-- when it was routed, the finding's severity and count then.
CREATE TABLE notify_told (
    finding_id TEXT NOT NULL,
    route      TEXT NOT NULL,
    at         INTEGER NOT NULL,
    severity   REAL NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (finding_id, route)
) STRICT;

-- When people last heard of a finding on any route, and its count then: a "still
-- going" follows at most once per repeat_interval, when the count grew past it.
CREATE TABLE notify_last (
    finding_id TEXT PRIMARY KEY NOT NULL,
    at         INTEGER NOT NULL,
    count      INTEGER NOT NULL
) STRICT;

-- Every message sent on a channel (a notice, a digest, a summary), for its hourly
-- rate limit; rows older than a day are deleted.
CREATE TABLE notify_sent (
    channel TEXT NOT NULL,
    at      INTEGER NOT NULL,
    key     TEXT NOT NULL
) STRICT;
CREATE INDEX notify_sent_at ON notify_sent (channel, at);

-- The daily summary: one row per (slot, channel), pending until sent or failed,
-- retried like a delivery. The newest slot is the last summary scheduled.
CREATE TABLE notify_summaries (
    slot       INTEGER NOT NULL,
    channel    TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending'
               CHECK (state IN ('pending', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    first_at   INTEGER,
    next_at    INTEGER NOT NULL,
    last_error TEXT,
    PRIMARY KEY (slot, channel)
) STRICT;

-- Named instants of the notifier: `setup` (when notifications first ran: a new
-- install's first summary waits for the next slot).
CREATE TABLE notify_state (
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
) STRICT;
