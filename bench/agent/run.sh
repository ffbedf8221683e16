#!/usr/bin/env bash
# Node agent footprint and overhead (docs/benchmarks.md, "Node agent").
#   bench/agent/run.sh [model.gguf] [mqtt-host] [mqtt-port]
# Defaults: the test kit's tiny synthetic model (written to bench/out), the local Mosquitto.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
cd "$ROOT"
./mvnw -B -q -Dmaven.test.skip=true -Dspotless.check.skip=true -pl node-agent,testkit -am package
APP="$ROOT/node-agent/target/quarkus-app"
MODEL="${1:-}"
if [[ -z "$MODEL" ]]; then
  mkdir -p bench/out
  MODEL="$ROOT/bench/out/synthetic-edgeslm-tiny-q8_0-seed42.gguf"
  if [[ ! -f "$MODEL" ]]; then
    "$JAVA_HOME/bin/java" -cp "testkit/target/classes:$(ls "$APP"/lib/main/com.fasterxml.jackson.core.jackson-databind-*.jar | head -1)" \
      io.edgeslm.testkit.GgufWriterMain --shape tiny --type q8_0 --seed 42 "$MODEL"
  fi
fi
exec "$JAVA_HOME/bin/java" -cp "$APP/lib/main/*:$APP/app/*" bench/agent/AgentBench.java \
  "$APP" "$MODEL" "${2:-127.0.0.1}" "${3:-1883}" "${4:-all}"
