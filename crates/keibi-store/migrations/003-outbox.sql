-- Notifications (issue 15): the outbox and its deliveries. Times are milliseconds
-- since 1970-01-01 UTC, as everywhere in the store.

-- One row per finding change a person should hear of, written in the same
-- transaction as the change: a new finding, one reopened by new activity, a
-- severity raised (`previous_severity` the one before), or a person resolving it
-- (`by`). `finding` is the finding as it was after the change (the contract's
-- JSON) and `text` its messages, so a notification sent hours later says what was
-- true when it was committed. `key` is the idempotency key sent to receivers; the
-- id never repeats (AUTOINCREMENT), even after old entries are deleted.
CREATE TABLE outbox (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    key               TEXT NOT NULL UNIQUE,
    finding_id        TEXT NOT NULL,
    kind              TEXT NOT NULL
                      CHECK (kind IN ('new', 'reopened', 'severity_raised', 'resolved')),
    previous_severity REAL,
    by                TEXT,
    at                INTEGER NOT NULL,
    finding           TEXT NOT NULL,
    text              TEXT,
    -- 1 once the notifier has made its deliveries (one per channel it goes to).
    routed            INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX outbox_unrouted ON outbox (id) WHERE routed = 0;
CREATE INDEX outbox_at ON outbox (at);

-- One row per (outbox entry, channel): pending until the receiver took it (sent)
-- or refused it for good or for too long (failed).
CREATE TABLE deliveries (
    outbox_id  INTEGER NOT NULL,
    channel    TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending'
               CHECK (state IN ('pending', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    -- The first try: retries stop 24 hours after it.
    first_at   INTEGER,
    next_at    INTEGER NOT NULL,
    last_error TEXT,
    sent_at    INTEGER,
    -- The receiver's answer when it took it (`HTTP 200`).
    detail     TEXT,
    PRIMARY KEY (outbox_id, channel)
) STRICT;
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
