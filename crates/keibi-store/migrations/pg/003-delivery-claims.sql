-- SQLite's 011-delivery-claims.sql.
ALTER TABLE deliveries ADD COLUMN claimed_until BIGINT;
