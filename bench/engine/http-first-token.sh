#!/usr/bin/env bash
# What the agent's HTTP engine adds to the first token (docs/benchmarks.md, "llama-server engine"):
# one llama-server (tiny synthetic model) and the same streamed chat request sent in turn through
# the HTTP engine (its own loopback client), through the same engine on the JDK's HttpClient, through
# the JDK's HttpClient alone and by a minimal client on a fresh socket.
#   bench/engine/http-first-token.sh [ROUNDS]   (default 60, after 5 warm-up rounds)
# Env: LLAMA_SERVER (default: the one scripts/ensure-llama-server.sh provides, built if missing).
# Ends with RESULT lines for bench/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/java-home.sh
LLAMA_SERVER="${LLAMA_SERVER:-$(bash scripts/ensure-llama-server.sh)}"
./mvnw -B -q -pl inference -am test-compile dependency:build-classpath -Dspotless.check.skip \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="inference/target/test-classes:inference/target/classes:$(cat inference/target/bench.classpath)"
"$JAVA_HOME/bin/java" -cp "$CP" io.edgeslm.inference.internal.http.HttpFirstTokenBench "${1:-60}" "$LLAMA_SERVER"
