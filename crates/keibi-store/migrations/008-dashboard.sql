-- The dashboard (issue 19): what its filters, sorts and overview read off indexes
-- instead of parsing every finding's JSON. Nothing here is written by the store's
-- code: a generated column and triggers keep it in step with `findings`.

-- The AWS account of a finding's resource (the contract's `resource.account`),
-- computed from the JSON when read, indexed for the account filter.
ALTER TABLE findings ADD COLUMN account ANY
    GENERATED ALWAYS AS (json_extract(finding, '$.resource.account')) VIRTUAL;
CREATE INDEX findings_account ON findings (account, last_seen);
CREATE INDEX findings_resource ON findings (resource_id, last_seen);
-- One index per order of the list, each holding the status, severity and last
-- seen the common filters test: a page of 50 is read off the order's index,
-- rows that do not match skipped in the index, instead of sorting every match.
-- 001's order and last-seen indexes are rebuilt with those columns added (their
-- leading columns, which the CLI and retention use, are unchanged).
DROP INDEX findings_order;
CREATE INDEX findings_order ON findings (severity DESC, last_seen DESC, id, status);
DROP INDEX findings_last_seen;
CREATE INDEX findings_last_seen ON findings (last_seen, status, severity);
-- First seen also gives the chart's days with the severity to stack by.
CREATE INDEX findings_first_seen ON findings (first_seen, severity, status, last_seen);
CREATE INDEX findings_count ON findings (count DESC, last_seen DESC, status, severity);
-- The live notice's "changed since".
CREATE INDEX findings_updated ON findings (updated_at);
-- The posture audit's findings (detector `posture`) by status; the overview's
-- most targeted resources among open findings (read off this index alone).
CREATE INDEX findings_detector ON findings (detector, status);
CREATE INDEX findings_status_resource ON findings (status, resource_id);

-- The addresses and users of open findings (new or acknowledged): the
-- overview's top lists are counted off one index of `finding_actors` (006, the
-- store's code writes it with each finding) without visiting the findings.
-- `open` follows the finding's status: set from it when a row is written, and
-- changed with it.
ALTER TABLE finding_actors ADD COLUMN open INTEGER NOT NULL DEFAULT 1;
UPDATE finding_actors SET open = 0 WHERE finding_id IN
    (SELECT id FROM findings WHERE status NOT IN ('new', 'acknowledged'));
CREATE INDEX finding_actors_open ON finding_actors (kind, open, value);

CREATE TRIGGER finding_actors_open_insert AFTER INSERT ON finding_actors BEGIN
    UPDATE finding_actors
        SET open = coalesce((SELECT status IN ('new', 'acknowledged') FROM findings
                             WHERE id = NEW.finding_id), 1)
        WHERE kind = NEW.kind AND value = NEW.value AND finding_id = NEW.finding_id;
END;

CREATE TRIGGER finding_actors_open_status AFTER UPDATE OF status ON findings
    WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE finding_actors SET open = NEW.status IN ('new', 'acknowledged')
        WHERE finding_id = NEW.id;
END;
