-- The hourly health tier is written once per node, model and hour (ADR 0012, decision 7). Until
-- V4 every batch merged its messages into node_health_1h as well, so each hourly row was updated
-- in place about 120 times at a 30 s heartbeat, and PostgreSQL kept the dead row versions in the
-- daily partitions for the 7 days of retention. From V4 on the batches write node_health_5m only,
-- and the controller's maintenance pass rolls each hour that has ended up from its 5-minute
-- buckets with one INSERT ... SELECT. This row says up to where (exclusive) hours are rolled up:
-- NULL until a controller of this version starts, which then counts the hours before the current
-- one as rolled up (the batches of V3 wrote them). Batches hold the row shared while they write,
-- the roll-up exclusively, so an hour is never rolled up while a batch still writes its messages.
-- Portable (PostgreSQL and H2).

CREATE TABLE node_health_rollup (
  id                  INTEGER      NOT NULL PRIMARY KEY,
  closed_until        TIMESTAMP WITH TIME ZONE
);

INSERT INTO node_health_rollup (id, closed_until) VALUES (1, NULL);
