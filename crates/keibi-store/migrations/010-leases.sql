-- Issue 20: several `keibi run --worker` processes share one store. Each partition
-- of the stream (and the special `_sender` and `_global` roles) is owned by one
-- worker at a time through a lease: claimed and renewed in write transactions,
-- expiring by the store's clock (milliseconds since the epoch; the workers' clocks
-- are not trusted). `epoch` grows each time the lease changes hands: a commit
-- carries (lease, owner, epoch) and is refused once the lease has moved on.
CREATE TABLE leases (
    name         TEXT PRIMARY KEY NOT NULL,
    owner        TEXT NOT NULL,
    epoch        INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    acquired_at  INTEGER NOT NULL
) STRICT;

-- The workers' heartbeats: how many are alive decides each one's fair share of the
-- partitions.
CREATE TABLE workers (
    id          TEXT PRIMARY KEY NOT NULL,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL
) STRICT;
