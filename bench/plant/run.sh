#!/usr/bin/env bash
# Sparkplug B ingest benchmark: DDATA metrics decoded and stored per second by the packaged agent
# vs a bare Paho subscriber's message rate on the same private Mosquitto, and the agent's CPU share
# at a plant-typical rate against the same agent idle.
# Usage: bench/plant/run.sh [MESSAGES] [METRICS_PER_MESSAGE] [RATE] [SECONDS]
# (defaults 20000 messages x 20 metrics, 2000 metrics/s for 30 s). Builds the packaged agent
# (node-agent/target/quarkus-app, tests compiled not run). The benchmark prints its own RESULT
# lines for bench/run at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
. scripts/lib/java-home.sh # a JDK 21+, as run-agent finds one
./mvnw -B -q -DskipTests -Dspotless.check.skip=true -pl node-agent,testkit -am package
APP="$ROOT/node-agent/target/quarkus-app"
# The packaged agent is started from node-agent/ (its relative target/quarkus-app path).
cd "$ROOT/node-agent"
"$JAVA_HOME/bin/java" -Xmx512m \
  -cp "$ROOT/node-agent/target/test-classes:$ROOT/testkit/target/classes:$APP/lib/main/*:$APP/app/*" \
  io.edgeslm.agent.it.SparkplugIngestBench "${1:-20000}" "${2:-20}" "${3:-2000}" "${4:-30}"
