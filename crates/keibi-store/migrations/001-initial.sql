-- keibi store, schema 1. Times are milliseconds since 1970-01-01 UTC.

-- One row per finding id, aggregated across runs. `finding` is the whole finding as
-- JSON (the contract's shape) with the aggregated count and times; the other columns
-- are copies of it for filtering and sorting.
CREATE TABLE findings (
    id          TEXT PRIMARY KEY NOT NULL,
    type        TEXT NOT NULL,
    severity    REAL NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    resource_id TEXT NOT NULL,
    actor_ip    TEXT,
    actor_user  TEXT,
    detector    TEXT NOT NULL,
    -- Workflow: new, acknowledged, resolved, suppressed; who set it, when, a note.
    status      TEXT NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'acknowledged', 'resolved', 'suppressed')),
    status_by   TEXT,
    status_at   INTEGER,
    status_note TEXT,
    -- The suppression rule that holds it, while status is suppressed by a rule.
    suppression INTEGER,
    updated_at  INTEGER NOT NULL,
    finding     TEXT NOT NULL
) STRICT;
CREATE INDEX findings_last_seen ON findings (last_seen);
-- The order `keibi findings list` shows: the first page is read off this index.
CREATE INDEX findings_order ON findings (severity DESC, last_seen DESC, id);
CREATE INDEX findings_status ON findings (status, severity);
CREATE INDEX findings_type ON findings (type);

-- Every change of a finding: detection (new, grew, severity_raised, closed,
-- reopened) and workflow (acknowledged, resolved, suppressed, unsuppressed). Runs of
-- `grew` are kept as one row whose count and time move on.
CREATE TABLE history (
    seq        INTEGER PRIMARY KEY,
    finding_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    what       TEXT NOT NULL,
    count      INTEGER NOT NULL,
    severity   REAL NOT NULL,
    by         TEXT,
    note       TEXT
) STRICT;
CREATE INDEX history_finding ON history (finding_id, seq);

-- Suppression rules: every given field must match; NULL means any.
CREATE TABLE suppressions (
    id          INTEGER PRIMARY KEY,
    type        TEXT,
    resource    TEXT,
    network     TEXT,
    user        TEXT,
    expires_at  INTEGER,
    reason      TEXT,
    created_by  TEXT,
    created_at  INTEGER NOT NULL
) STRICT;

-- Where each source was read up to, committed with the findings it gave.
CREATE TABLE checkpoints (
    source     TEXT PRIMARY KEY NOT NULL,
    position   INTEGER NOT NULL,
    data       BLOB NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Behavioural profiles (the baselines'), opaque: key -> bytes.
CREATE TABLE profiles (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
