-- Health storage that stays bounded at fleet scale (ADR 0012). Replaces node_health (one row per
-- health message) with:
--   node_health_latest   the newest message of each node, updated in place (one row per node);
--   node_health_5m       per node, model and 5-minute bucket: sample count, sums for the means of
--                        tokens/s and p95 latency, counter minima and maxima, the lowest activation
--                        score and the bucket's newest gauges; serves the 24 h chart and the gates;
--   node_health_1h       the same per hour, for the longer history (fleet.health.retention).
-- Both aggregate tables are partitioned by time (PostgreSQL declarative range partitioning on the
-- bucket: 5-minute buckets in hourly partitions, hourly buckets in daily partitions). The
-- controller creates partitions as data for them arrives and enforces retention by dropping whole
-- partitions, never by deleting rows. Partition names carry their UTC start:
-- node_health_5m_yyyymmddhh, node_health_1h_yyyymmdd. The H2 variant of this migration is in
-- db/vendor/h2.

CREATE TABLE node_health_latest (
  node_id             VARCHAR(64)  NOT NULL PRIMARY KEY,
  at                  TIMESTAMP WITH TIME ZONE NOT NULL,
  received_at         TIMESTAMP WITH TIME ZONE NOT NULL,
  ready               BOOLEAN      NOT NULL,
  source              VARCHAR(16)  NOT NULL,
  model_digest        VARCHAR(71),
  tokens_per_second   DOUBLE PRECISION,
  p95_latency_ms      BIGINT,
  queue_depth         INTEGER      NOT NULL,
  requests            BIGINT       NOT NULL,
  errors              BIGINT       NOT NULL,
  ram_used_bytes      BIGINT       NOT NULL,
  ram_total_bytes     BIGINT       NOT NULL,
  disk_free_bytes     BIGINT       NOT NULL,
  cpu_temperature_c   DOUBLE PRECISION,
  activation_score    DOUBLE PRECISION
) WITH (fillfactor = 50); -- room on each page for in-place (HOT) updates of every row

-- model_digest is '' for messages without a model (rules-only nodes), so it can be in the key.
CREATE TABLE node_health_5m (
  node_id             VARCHAR(64)  NOT NULL,
  bucket              TIMESTAMP WITH TIME ZONE NOT NULL,
  model_digest        VARCHAR(71)  NOT NULL,
  samples             INTEGER      NOT NULL,
  first_at            TIMESTAMP WITH TIME ZONE NOT NULL,
  last_at             TIMESTAMP WITH TIME ZONE NOT NULL,
  ready               BOOLEAN      NOT NULL,
  source              VARCHAR(16)  NOT NULL,
  tps_sum             DOUBLE PRECISION NOT NULL,
  tps_n               INTEGER      NOT NULL,
  p95_sum             DOUBLE PRECISION NOT NULL,
  p95_n               INTEGER      NOT NULL,
  queue_depth         INTEGER      NOT NULL,
  requests_min        BIGINT       NOT NULL,
  requests_max        BIGINT       NOT NULL,
  errors_min          BIGINT       NOT NULL,
  errors_max          BIGINT       NOT NULL,
  ram_used_bytes      BIGINT       NOT NULL,
  ram_total_bytes     BIGINT       NOT NULL,
  disk_free_bytes     BIGINT       NOT NULL,
  cpu_temperature_c   DOUBLE PRECISION,
  score_min           DOUBLE PRECISION,
  PRIMARY KEY (node_id, bucket, model_digest)
) PARTITION BY RANGE (bucket);

CREATE TABLE node_health_1h (
  node_id             VARCHAR(64)  NOT NULL,
  bucket              TIMESTAMP WITH TIME ZONE NOT NULL,
  model_digest        VARCHAR(71)  NOT NULL,
  samples             INTEGER      NOT NULL,
  first_at            TIMESTAMP WITH TIME ZONE NOT NULL,
  last_at             TIMESTAMP WITH TIME ZONE NOT NULL,
  ready               BOOLEAN      NOT NULL,
  source              VARCHAR(16)  NOT NULL,
  tps_sum             DOUBLE PRECISION NOT NULL,
  tps_n               INTEGER      NOT NULL,
  p95_sum             DOUBLE PRECISION NOT NULL,
  p95_n               INTEGER      NOT NULL,
  queue_depth         INTEGER      NOT NULL,
  requests_min        BIGINT       NOT NULL,
  requests_max        BIGINT       NOT NULL,
  errors_min          BIGINT       NOT NULL,
  errors_max          BIGINT       NOT NULL,
  ram_used_bytes      BIGINT       NOT NULL,
  ram_total_bytes     BIGINT       NOT NULL,
  disk_free_bytes     BIGINT       NOT NULL,
  cpu_temperature_c   DOUBLE PRECISION,
  score_min           DOUBLE PRECISION,
  PRIMARY KEY (node_id, bucket, model_digest)
) PARTITION BY RANGE (bucket);

-- Move the existing history: create the partitions it needs, aggregate it into both tiers, keep
-- each node's newest message. The controller's next retention pass drops what is past retention.
DO $$
DECLARE
  lo TIMESTAMP WITH TIME ZONE;
  hi TIMESTAMP WITH TIME ZONE;
  t  TIMESTAMP WITH TIME ZONE;
BEGIN
  SELECT min(at), max(at) INTO lo, hi FROM node_health;
  IF lo IS NULL THEN
    RETURN;
  END IF;
  t := date_trunc('hour', lo AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  WHILE t <= hi LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF node_health_5m FOR VALUES FROM (%L) TO (%L)'
                   ' WITH (fillfactor = 60)',
                   'node_health_5m_' || to_char(t AT TIME ZONE 'UTC', 'YYYYMMDDHH24'),
                   t, t + INTERVAL '1 hour');
    t := t + INTERVAL '1 hour';
  END LOOP;
  t := date_trunc('day', lo AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  WHILE t <= hi LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF node_health_1h FOR VALUES FROM (%L) TO (%L)'
                   ' WITH (fillfactor = 60)',
                   'node_health_1h_' || to_char(t AT TIME ZONE 'UTC', 'YYYYMMDD'),
                   t, t + INTERVAL '1 day');
    t := t + INTERVAL '1 day';
  END LOOP;
END $$;

INSERT INTO node_health_5m
SELECT node_id,
       date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
         + floor(extract(minute FROM at AT TIME ZONE 'UTC') / 5) * INTERVAL '5 minutes' AS b,
       COALESCE(model_digest, ''), count(*), min(at), max(at),
       (array_agg(ready ORDER BY at DESC))[1], (array_agg(source ORDER BY at DESC))[1],
       COALESCE(sum(tokens_per_second), 0), count(tokens_per_second),
       COALESCE(sum(p95_latency_ms), 0), count(p95_latency_ms),
       (array_agg(queue_depth ORDER BY at DESC))[1],
       min(requests), max(requests), min(errors), max(errors),
       (array_agg(ram_used_bytes ORDER BY at DESC))[1],
       (array_agg(ram_total_bytes ORDER BY at DESC))[1],
       (array_agg(disk_free_bytes ORDER BY at DESC))[1],
       (array_agg(cpu_temperature_c ORDER BY at DESC))[1],
       min(activation_score)
  FROM node_health GROUP BY node_id, b, COALESCE(model_digest, '');

INSERT INTO node_health_1h
SELECT node_id, date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS b,
       COALESCE(model_digest, ''), count(*), min(at), max(at),
       (array_agg(ready ORDER BY at DESC))[1], (array_agg(source ORDER BY at DESC))[1],
       COALESCE(sum(tokens_per_second), 0), count(tokens_per_second),
       COALESCE(sum(p95_latency_ms), 0), count(p95_latency_ms),
       (array_agg(queue_depth ORDER BY at DESC))[1],
       min(requests), max(requests), min(errors), max(errors),
       (array_agg(ram_used_bytes ORDER BY at DESC))[1],
       (array_agg(ram_total_bytes ORDER BY at DESC))[1],
       (array_agg(disk_free_bytes ORDER BY at DESC))[1],
       (array_agg(cpu_temperature_c ORDER BY at DESC))[1],
       min(activation_score)
  FROM node_health GROUP BY node_id, b, COALESCE(model_digest, '');

INSERT INTO node_health_latest
SELECT DISTINCT ON (node_id) node_id, at, received_at, ready, source, model_digest,
       tokens_per_second, p95_latency_ms, queue_depth, requests, errors, ram_used_bytes,
       ram_total_bytes, disk_free_bytes, cpu_temperature_c, activation_score
  FROM node_health ORDER BY node_id, at DESC;

DROP TABLE node_health;
