-- The timeline (issue 19): what actors did, kept by `keibi run` in the commit of
-- the batch the events came from (see `src/activity.rs`). Times are milliseconds
-- since 1970-01-01 UTC.

-- One row per event, except repeats: the same kind, resource, address, user or
-- principal, statement fingerprint or API event name and error code within one
-- minute of the clock are one row (`fold` is that key's 64-bit hash, `count` how
-- many, `first`/`last` the earliest and latest). A row spans less than a minute,
-- so a window query reads the time indexes from the window's start minus one
-- minute. `what` is the statement (the first of the fold) or the API event name,
-- or the message of a login or error; `truncated` is 1 when a text was cut.
-- `stored` is when the row was first written (retention keeps rows read recently
-- from old logs).
CREATE TABLE activity (
    id          INTEGER PRIMARY KEY,
    fold        INTEGER NOT NULL,
    first       INTEGER NOT NULL,
    last        INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    resource    TEXT,
    ip          TEXT,
    user        TEXT,
    principal   TEXT,
    database    TEXT,
    application TEXT,
    what        TEXT,
    command     TEXT,
    error       TEXT,
    truncated   INTEGER NOT NULL DEFAULT 0,
    stored      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX activity_fold ON activity (fold);
CREATE INDEX activity_ip ON activity (ip, first) WHERE ip IS NOT NULL;
CREATE INDEX activity_user ON activity (user, first) WHERE user IS NOT NULL;
CREATE INDEX activity_principal ON activity (principal, first) WHERE principal IS NOT NULL;
CREATE INDEX activity_first ON activity (first);

-- Events a commit did not keep (over its cap), per day of their time (days since
-- 1970-01-01 UTC): the timeline says a window is incomplete.
CREATE TABLE activity_dropped (
    day   INTEGER PRIMARY KEY,
    count INTEGER NOT NULL
) STRICT;

-- Every address and user (database user or principal ARN) a finding names, its
-- `actor.ip`/`actor.user` and the `actor.ips`/`actor.users` lists: the findings
-- of an actor for the timeline, by index. Written with the finding.
CREATE TABLE finding_actors (
    kind       TEXT NOT NULL CHECK (kind IN ('ip', 'user')),
    value      TEXT NOT NULL,
    finding_id TEXT NOT NULL,
    PRIMARY KEY (kind, value, finding_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX finding_actors_finding ON finding_actors (finding_id);
INSERT OR IGNORE INTO finding_actors (kind, value, finding_id)
    SELECT 'ip', actor_ip, id FROM findings WHERE actor_ip IS NOT NULL;
INSERT OR IGNORE INTO finding_actors (kind, value, finding_id)
    SELECT 'user', actor_user, id FROM findings WHERE actor_user IS NOT NULL;
INSERT OR IGNORE INTO finding_actors (kind, value, finding_id)
    SELECT 'ip', j.value, f.id FROM findings f, json_each(f.finding, '$.actor.ips') j
    WHERE j.type = 'text';
INSERT OR IGNORE INTO finding_actors (kind, value, finding_id)
    SELECT 'user', j.value, f.id FROM findings f, json_each(f.finding, '$.actor.users') j
    WHERE j.type = 'text';
