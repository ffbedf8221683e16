#!/usr/bin/env bash
# Node agent footprint and overhead (docs/benchmarks.md, "Node agent").
#   bench/agent/run.sh [model.gguf] [mqtt-host] [mqtt-port]
# Defaults: the test kit's tiny synthetic model (written to bench/out), the local Mosquitto.
# Env: BENCH_QUICK=1 for fewer repetitions (bench/run --quick); BROKER_DESC names the broker in
# the result line (bench/run: its private Mosquitto with set_tcp_nodelay true); BENCH_CLIENT=paho
# asks the first-token questions through Eclipse Paho instead of the bench's minimal MQTT 5 client;
# BENCH_AGENT_OPTS adds JVM options to every agent the bench starts. After AgentBench's own output it
# prints machine-readable lines for bench/run
# (RESULT name=... measured=... baseline=... unit=... ratio=... target=... met=... desc=...).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/java-home.sh" # a JDK 21+, as run-agent finds one
cd "$ROOT"
./mvnw -B -q -Dmaven.test.skip=true -Dspotless.check.skip=true -pl node-agent,demo-broker,testkit -am package
APP="$ROOT/node-agent/target/quarkus-app"
# The Q&A-cache rows' operator client is Eclipse Paho (an independent peer of the agent's MQTT
# layer; BENCH_CLIENT=paho for the first-token row too); the agent no longer carries it, so fetch it
# from Maven Central into bench/out/lib.
PAHO_VERSION=$(sed -n 's:.*<paho.mqttv5.version>\(.*\)</paho.mqttv5.version>.*:\1:p' pom.xml)
./mvnw -B -q -N dependency:copy -Dartifact="org.eclipse.paho:org.eclipse.paho.mqttv5.client:$PAHO_VERSION" \
  -DoutputDirectory="$ROOT/bench/out/lib"
PAHO="$ROOT/bench/out/lib/org.eclipse.paho.mqttv5.client-$PAHO_VERSION.jar"
# The "embedded broker" rows load the demo broker as ./run-agent does (the agent has none of its own).
export EDGESLM_AGENT_BROKER_EMBEDDED_JARS="$ROOT/demo-broker/target/embedded-broker"
MODEL="${1:-}"
if [[ -z "$MODEL" ]]; then
  mkdir -p bench/out
  MODEL="$ROOT/bench/out/synthetic-edgeslm-tiny-q8_0-seed42.gguf"
  if [[ ! -f "$MODEL" ]]; then
    "$JAVA_HOME/bin/java" -cp "testkit/target/classes:$(ls "$APP"/lib/main/com.fasterxml.jackson.core.jackson-databind-*.jar | head -1)" \
      io.edgeslm.testkit.GgufWriterMain --shape tiny --type q8_0 --seed 42 "$MODEL"
  fi
fi
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$JAVA_HOME/bin/java" -cp "$APP/lib/main/*:$APP/app/*:$PAHO" bench/agent/AgentBench.java \
  "$APP" "$MODEL" "${2:-127.0.0.1}" "${3:-1883}" "${4:-all}" | tee "$OUT"

# Machine-readable results from the lines above.
if [[ "${BENCH_CLIENT:-raw}" == paho ]]; then CLIENT_DESC="Eclipse Paho client"; else CLIENT_DESC="the bench's minimal MQTT 5 client"; fi
awk -v broker="${BROKER_DESC:-broker ${2:-127.0.0.1}:${3:-1883}}" -v client="$CLIENT_DESC" '
  function num(s) { return match(s, /[-+]?[0-9]+(\.[0-9]+)?/) ? substr(s, RSTART, RLENGTH) + 0 : 0 }
  /^idle JVM \(baseline\)/ {
    split($0, a, "|"); base = num(a[1]); ext = num(a[2]); emb = num(a[3])
    printf "RESULT name=agent.idle-rss measured=%.1f baseline=%.1f unit=MiB ratio=%.2f target=<=80MiB met=%s desc=agent idle RSS without a model, external broker, vs an idle JVM with the same flags\n", ext, base, ext / base, (ext <= 80 ? "yes" : "no")
    printf "RESULT name=agent.idle-rss-embedded measured=%.1f baseline=%.1f unit=MiB ratio=%.2f target=- met=- desc=agent idle RSS without a model, embedded HiveMQ broker, vs an idle JVM\n", emb, base, emb / base
  }
  /^trivial JVM \(baseline\)/ {
    split($0, a, "|"); base = num(a[1]); jvm = num(a[2]); aot = num(a[3])
    printf "RESULT name=agent.start measured=%d baseline=%d unit=ms ratio=%.2f target=- met=- desc=agent start to ready (median), JVM, vs starting a trivial JVM\n", jvm, base, jvm / base
    printf "RESULT name=agent.start-aot measured=%d baseline=%d unit=ms ratio=%.2f target=<=1000ms met=%s desc=agent start to ready (median) from a JDK AOT cache vs the same agent without it\n", aot, jvm, aot / jvm, (aot <= 1000 ? "yes" : "no")
  }
  / questions: MQTT question->first token median / {
    split($0, a, "|"); med = num(substr(a[1], index(a[1], "median")))
    eng = num(substr(a[2], index(a[2], "(baseline)")))
    added = med - eng
    printf "RESULT name=agent.first-token measured=%.2f baseline=%.2f unit=ms ratio=%.2f target=added<=5ms met=%s desc=MQTT question to first streamed token at the client (median, %s, %s) vs the engine\047s own TTFT p50 (added %.2f ms)\n", med, eng, med / eng, (added <= 5 ? "yes" : "no"), broker, client, added
  }
  /^qa cache: first question->first token median / {
    split($0, a, "|"); f = num(substr(a[1], index(a[1], "median"))); s = num(a[2]); pf = num(substr(a[3], index(a[3], "prompt")))
    printf "RESULT name=agent.qa-next-vs-first measured=%.1f baseline=%.1f unit=ms ratio=%.3f target=<=0.3 met=%s desc=llama-server engine: MQTT question to first token for the next question on unchanged sensors vs the first (cold cache), 20 live sensors\n", s, f, s / f, (s / f <= 0.3 ? "yes" : "no")
    printf "RESULT name=agent.qa-first-vs-prefill measured=%.1f baseline=%.1f unit=ms ratio=%.3f target=- met=- desc=llama-server engine: first question to first token over MQTT vs the raw engine prefill time of the same prompt\n", f, pf, f / pf
  }
  /^llama-server agent: start to ready median / {
    split($0, a, "|"); st = num(substr(a[1], index(a[1], "median"))); ra = num(substr(a[2], index(a[2], "agent"))); re = num(substr(a[2], index(a[2], "+")))
    printf "RESULT name=agent.llama-server-start measured=%d baseline=- unit=ms ratio=- target=- met=- desc=agent start to ready with the llama-server engine (model loaded and warmed)\n", st
    printf "RESULT name=agent.llama-server-idle-rss measured=%d baseline=%d unit=MiB ratio=- target=- met=- desc=idle RSS with the llama-server engine: agent JVM (measured) and its engine processes (baseline column)\n", ra, re
  }' "$OUT"
