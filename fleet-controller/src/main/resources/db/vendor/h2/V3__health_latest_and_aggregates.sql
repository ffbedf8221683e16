-- Health storage bounded at fleet scale (ADR 0012), the H2 variant of
-- db/vendor/postgresql/V3__health_latest_and_aggregates.sql: the same three tables and columns.
-- H2 has no declarative partitioning, so node_health_5m and node_health_1h are plain tables with
-- an index on the bucket, and retention deletes whole partition periods of buckets (the same
-- hours and days PostgreSQL drops as partitions) with one range DELETE. H2 is the embedded
-- default for small fleets; at fleet scale use PostgreSQL.

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
);

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
);
CREATE INDEX node_health_5m_bucket ON node_health_5m (bucket);

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
);
CREATE INDEX node_health_1h_bucket ON node_health_1h (bucket);

-- Move the existing history into both tiers and keep each node's newest message.
INSERT INTO node_health_5m
SELECT node_id, DATEADD(SECOND, FLOOR(DATEDIFF(SECOND, TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00', at) / 300) * 300,
         TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00') AS b,
       COALESCE(model_digest, ''), COUNT(*), MIN(at), MAX(at),
       (ARRAY_AGG(ready ORDER BY at DESC))[1], (ARRAY_AGG(source ORDER BY at DESC))[1],
       COALESCE(SUM(tokens_per_second), 0), COUNT(tokens_per_second),
       COALESCE(SUM(p95_latency_ms), 0), COUNT(p95_latency_ms),
       (ARRAY_AGG(queue_depth ORDER BY at DESC))[1],
       MIN(requests), MAX(requests), MIN(errors), MAX(errors),
       (ARRAY_AGG(ram_used_bytes ORDER BY at DESC))[1],
       (ARRAY_AGG(ram_total_bytes ORDER BY at DESC))[1],
       (ARRAY_AGG(disk_free_bytes ORDER BY at DESC))[1],
       (ARRAY_AGG(cpu_temperature_c ORDER BY at DESC))[1],
       MIN(activation_score)
  FROM node_health GROUP BY node_id, b, COALESCE(model_digest, '');

INSERT INTO node_health_1h
SELECT node_id, DATEADD(SECOND, FLOOR(DATEDIFF(SECOND, TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00', at) / 3600) * 3600,
         TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00') AS b,
       COALESCE(model_digest, ''), COUNT(*), MIN(at), MAX(at),
       (ARRAY_AGG(ready ORDER BY at DESC))[1], (ARRAY_AGG(source ORDER BY at DESC))[1],
       COALESCE(SUM(tokens_per_second), 0), COUNT(tokens_per_second),
       COALESCE(SUM(p95_latency_ms), 0), COUNT(p95_latency_ms),
       (ARRAY_AGG(queue_depth ORDER BY at DESC))[1],
       MIN(requests), MAX(requests), MIN(errors), MAX(errors),
       (ARRAY_AGG(ram_used_bytes ORDER BY at DESC))[1],
       (ARRAY_AGG(ram_total_bytes ORDER BY at DESC))[1],
       (ARRAY_AGG(disk_free_bytes ORDER BY at DESC))[1],
       (ARRAY_AGG(cpu_temperature_c ORDER BY at DESC))[1],
       MIN(activation_score)
  FROM node_health GROUP BY node_id, b, COALESCE(model_digest, '');

INSERT INTO node_health_latest
SELECT h.node_id, h.at, h.received_at, h.ready, h.source, h.model_digest, h.tokens_per_second,
       h.p95_latency_ms, h.queue_depth, h.requests, h.errors, h.ram_used_bytes, h.ram_total_bytes,
       h.disk_free_bytes, h.cpu_temperature_c, h.activation_score
  FROM node_health h
 WHERE h.at = (SELECT MAX(n.at) FROM node_health n WHERE n.node_id = h.node_id);

DROP TABLE node_health;
