-- Automated response (issue 18): the journal of actions, their history, the kill
-- switch, and the outbox's part in both. Times are milliseconds since 1970-01-01
-- UTC.

-- The outbox learns the `action` kind (an action reached a state a person hears
-- of: `action_id` and `action`, the action as JSON after the move) and `planned`:
-- 1 once the responder has considered the entry (entries of kinds it never plans
-- from are written with 1). The table is rebuilt as in 004 (a CHECK cannot be
-- changed); its AUTOINCREMENT sequence is carried over so ids never repeat.
-- Entries already there count as considered: upgrading keibi does not act on
-- findings of the past.
CREATE TABLE outbox_next (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    key               TEXT NOT NULL UNIQUE,
    finding_id        TEXT NOT NULL,
    kind              TEXT NOT NULL
                      CHECK (kind IN ('new', 'reopened', 'severity_raised', 'resolved',
                                      'still_going', 'action')),
    previous_severity REAL,
    by                TEXT,
    at                INTEGER NOT NULL,
    finding           TEXT NOT NULL,
    text              TEXT,
    routed            INTEGER NOT NULL DEFAULT 0,
    count_then        INTEGER,
    since             INTEGER,
    planned           INTEGER NOT NULL DEFAULT 0,
    action_id         TEXT,
    action            TEXT
) STRICT;
INSERT INTO outbox_next (id, key, finding_id, kind, previous_severity, by, at, finding, text,
                         routed, count_then, since, planned)
    SELECT id, key, finding_id, kind, previous_severity, by, at, finding, text, routed,
           count_then, since, 1 FROM outbox;
DELETE FROM sqlite_sequence WHERE name = 'outbox_next';
UPDATE sqlite_sequence SET name = 'outbox_next' WHERE name = 'outbox';
DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;
CREATE INDEX outbox_unrouted ON outbox (id) WHERE routed = 0;
CREATE INDEX outbox_at ON outbox (at);
CREATE INDEX outbox_unplanned ON outbox (id) WHERE planned = 0;
CREATE INDEX outbox_action ON outbox (action_id) WHERE action_id IS NOT NULL;

-- One row per planned action (keibi_respond::Action). `target` is the target as
-- JSON, `target_key` its canonical key (Target::key). `trigger` is the outbox
-- entry that planned it: with `finding_id`, the key of the finding as it was then
-- (`action_findings`), so a row is whole without the findings table.
-- `started_at` is when it first moved into executing (the rate limit counts
-- those).
CREATE TABLE actions (
    id                TEXT PRIMARY KEY NOT NULL,
    finding_id        TEXT NOT NULL,
    finding_type      TEXT NOT NULL,
    target            TEXT NOT NULL,
    target_key        TEXT NOT NULL,
    kind              TEXT NOT NULL,
    mode              TEXT NOT NULL CHECK (mode IN ('simulate', 'approve', 'auto')),
    state             TEXT NOT NULL
                      CHECK (state IN ('planned', 'approved', 'executing', 'executed',
                                       'failed', 'undoing', 'undone', 'expired',
                                       'simulated', 'skipped', 'cancelled')),
    rule              TEXT NOT NULL,
    reason            TEXT,
    expire_after_secs INTEGER,
    expires_at        INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_at           INTEGER,
    executor          TEXT,
    prior             TEXT,
    done              TEXT,
    by                TEXT,
    trigger           INTEGER NOT NULL,
    started_at        INTEGER
) STRICT;
-- due_actions: by state, then the retry and expiry times.
CREATE INDEX actions_due ON actions (state, next_at, expires_at);
-- in_force: by target and state.
CREATE INDEX actions_target ON actions (target_key, state);
CREATE INDEX actions_finding ON actions (finding_id, created_at);
CREATE INDEX actions_updated ON actions (updated_at);
CREATE INDEX actions_started ON actions (started_at) WHERE started_at IS NOT NULL;

-- The finding each planning was about, as it was then (the contract's JSON) and
-- its messages (`text`, as in findings): one row for all the actions planned
-- from one outbox entry (they are often several: block the address, lock the
-- role, tell the SOC). Never deleted with the finding.
CREATE TABLE action_findings (
    finding_id TEXT NOT NULL,
    trigger    INTEGER NOT NULL,
    finding    TEXT NOT NULL,
    text       TEXT,
    PRIMARY KEY (finding_id, trigger)
) STRICT;

-- Every move of an action, in order (`seq` from 1); `from_state` NULL for the
-- first line, when it was planned.
CREATE TABLE action_history (
    action_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    by         TEXT NOT NULL,
    detail     TEXT,
    PRIMARY KEY (action_id, seq)
) STRICT;

-- The kill switch (`keibi actions pause`), with its past: one row per pause, the
-- one with no `resumed_at` in force (at most one: the store writes it so).
CREATE TABLE respond_pauses (
    seq        INTEGER PRIMARY KEY,
    by         TEXT NOT NULL,
    at         INTEGER NOT NULL,
    reason     TEXT,
    resumed_by TEXT,
    resumed_at INTEGER
) STRICT;
CREATE INDEX respond_pauses_open ON respond_pauses (seq) WHERE resumed_at IS NULL;
