-- SQLite's 010-leases.sql: leases and worker heartbeats for issue 20's workers,
-- expiring by the server's clock (milliseconds since the epoch).
CREATE TABLE leases (
    name         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    owner        TEXT COLLATE "C" NOT NULL,
    epoch        BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    acquired_at  BIGINT NOT NULL
);

CREATE TABLE workers (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    host        TEXT COLLATE "C" NOT NULL,
    pid         BIGINT NOT NULL,
    started_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL
);
