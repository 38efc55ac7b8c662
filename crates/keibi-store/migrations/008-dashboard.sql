-- The dashboard (issue 19): what its filters, sorts and overview read off indexes
-- instead of parsing every finding's JSON. Nothing here is written by the store's
-- code: a generated column and triggers keep it in step with `findings`.

-- The AWS account of a finding's resource (the contract's `resource.account`),
-- computed from the JSON when read, indexed for the account filter.
ALTER TABLE findings ADD COLUMN account ANY
    GENERATED ALWAYS AS (json_extract(finding, '$.resource.account')) VIRTUAL;
CREATE INDEX findings_account ON findings (account, last_seen);
CREATE INDEX findings_resource ON findings (resource_id, last_seen);
-- Sorts by first seen (and the chart's days, with the severity to stack by) and
-- by count; the live notice's "changed since".
CREATE INDEX findings_first_seen ON findings (first_seen, severity);
CREATE INDEX findings_count ON findings (count DESC, last_seen DESC);
CREATE INDEX findings_updated ON findings (updated_at);
-- The posture audit's findings (detector `posture`) by status; the overview's
-- most targeted resources among open findings (read off this index alone).
CREATE INDEX findings_detector ON findings (detector, status);
CREATE INDEX findings_status_resource ON findings (status, resource_id);

-- Every address and user a finding names (`actor.ip`, `actor.ips`, `actor.user`,
-- `actor.users`): the actor filter and the actor pages find a spray's findings by
-- any of its users, not only by the first. A database user and an IAM principal's
-- ARN are both `user` (the contract keeps both in `actor.user`). `open` is 1
-- while the finding is new or acknowledged: the overview's top addresses and
-- users are counted off an index without visiting the findings.
CREATE TABLE finding_actors (
    kind       TEXT NOT NULL CHECK (kind IN ('ip', 'user')),
    value      TEXT NOT NULL,
    finding_id TEXT NOT NULL,
    open       INTEGER NOT NULL,
    PRIMARY KEY (kind, value, finding_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX finding_actors_finding ON finding_actors (finding_id);
CREATE INDEX finding_actors_open ON finding_actors (kind, open, value);

CREATE TRIGGER finding_actors_insert AFTER INSERT ON findings BEGIN
    INSERT OR IGNORE INTO finding_actors (kind, value, finding_id, open)
        SELECT 'ip', json_extract(NEW.finding, '$.actor.ip'), NEW.id, NEW.status IN ('new', 'acknowledged')
            WHERE json_type(NEW.finding, '$.actor.ip') = 'text'
        UNION SELECT 'ip', value, NEW.id, NEW.status IN ('new', 'acknowledged') FROM json_each(NEW.finding, '$.actor.ips')
            WHERE type = 'text'
        UNION SELECT 'user', json_extract(NEW.finding, '$.actor.user'), NEW.id, NEW.status IN ('new', 'acknowledged')
            WHERE json_type(NEW.finding, '$.actor.user') = 'text'
        UNION SELECT 'user', value, NEW.id, NEW.status IN ('new', 'acknowledged') FROM json_each(NEW.finding, '$.actor.users')
            WHERE type = 'text';
END;

-- Only when the JSON changed, and only then re-read: a workflow change (status
-- columns) costs nothing here.
CREATE TRIGGER finding_actors_update AFTER UPDATE OF finding ON findings
    WHEN OLD.finding IS NOT NEW.finding BEGIN
    DELETE FROM finding_actors WHERE finding_id = OLD.id;
    INSERT OR IGNORE INTO finding_actors (kind, value, finding_id, open)
        SELECT 'ip', json_extract(NEW.finding, '$.actor.ip'), NEW.id, NEW.status IN ('new', 'acknowledged')
            WHERE json_type(NEW.finding, '$.actor.ip') = 'text'
        UNION SELECT 'ip', value, NEW.id, NEW.status IN ('new', 'acknowledged') FROM json_each(NEW.finding, '$.actor.ips')
            WHERE type = 'text'
        UNION SELECT 'user', json_extract(NEW.finding, '$.actor.user'), NEW.id, NEW.status IN ('new', 'acknowledged')
            WHERE json_type(NEW.finding, '$.actor.user') = 'text'
        UNION SELECT 'user', value, NEW.id, NEW.status IN ('new', 'acknowledged') FROM json_each(NEW.finding, '$.actor.users')
            WHERE type = 'text';
END;

CREATE TRIGGER finding_actors_status AFTER UPDATE OF status ON findings
    WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE finding_actors SET open = NEW.status IN ('new', 'acknowledged')
        WHERE finding_id = NEW.id;
END;

CREATE TRIGGER finding_actors_delete AFTER DELETE ON findings BEGIN
    DELETE FROM finding_actors WHERE finding_id = OLD.id;
END;

-- The findings already stored.
INSERT OR IGNORE INTO finding_actors (kind, value, finding_id, open)
    SELECT 'ip', json_extract(f.finding, '$.actor.ip'), f.id, f.status IN ('new', 'acknowledged') FROM findings f
        WHERE json_type(f.finding, '$.actor.ip') = 'text'
    UNION SELECT 'ip', j.value, f.id, f.status IN ('new', 'acknowledged') FROM findings f, json_each(f.finding, '$.actor.ips') j
        WHERE j.type = 'text'
    UNION SELECT 'user', json_extract(f.finding, '$.actor.user'), f.id, f.status IN ('new', 'acknowledged') FROM findings f
        WHERE json_type(f.finding, '$.actor.user') = 'text'
    UNION SELECT 'user', j.value, f.id, f.status IN ('new', 'acknowledged') FROM findings f, json_each(f.finding, '$.actor.users') j
        WHERE j.type = 'text';
