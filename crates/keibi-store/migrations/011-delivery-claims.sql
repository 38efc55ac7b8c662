-- Issue 20: with several workers, the one sender claims each message's deliveries
-- (under its `_sender` lease, by the store's clock) before it sends them, so a
-- sender that lost its lease while a message was in hand and its successor never
-- both send it; a claim of a sender that died expires and the message is sent by
-- the next (at least once, never twice at once).
ALTER TABLE deliveries ADD COLUMN claimed_until INTEGER;
