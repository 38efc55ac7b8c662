-- The scheduled audit's totals (issue 19's posture pass rate): a failed check is a
-- finding, but a check that passes leaves nothing else behind, so each round's
-- counts are kept here. The newest 100 rounds are kept.
CREATE TABLE posture_rounds (
    at          INTEGER PRIMARY KEY NOT NULL,
    passed      INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    suppressed  INTEGER NOT NULL
) STRICT;
