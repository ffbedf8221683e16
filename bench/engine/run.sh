#!/usr/bin/env bash
# Engine benchmark (docs/benchmarks.md, "llama-server engine"): prompt and decode speed through the
# agent's llama-server engine against llama-bench of the same llama-server build (same model,
# same threads, same prompt length and context depth, interleaved round by round), and against the
# bundled worker (de.kherud:llama, llama.cpp b4916).
#   bench/engine/run.sh [--rounds N] [--threads N] [--n-predict N] [--prompt-words N] [--no-worker]
# Env: SHAPE / TYPE (default llama-3.2-1b / q4_0) or MODEL; LLAMA_SERVER (default: the one
# scripts/ensure-llama-server.sh provides, built if missing). Prints the uptime load first and last.
# Per round it also prints llama-server's own prefill and decode rates (its /metrics), so the
# rows split the server's time from the stream's; --no-worker leaves the bundled worker out.
# Ends with RESULT lines for bench/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/java-home.sh
JAVA="$JAVA_HOME/bin/java"
LLAMA_SERVER="${LLAMA_SERVER:-$(bash scripts/ensure-llama-server.sh)}"
LLAMA_BENCH="$(dirname "$LLAMA_SERVER")/llama-bench"
# The reactor resolves sibling modules to their target/classes (nothing is installed in ~/.m2).
./mvnw -B -q -pl inference -am test-compile dependency:build-classpath -Dspotless.check.skip \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="inference/target/test-classes:inference/target/classes:$(cat inference/target/bench.classpath)"
SHAPE="${SHAPE:-llama-3.2-1b}"
TYPE="${TYPE:-q4_0}"
MODEL="${MODEL:-bench/out/synthetic-$SHAPE-$TYPE-seed1.gguf}"
mkdir -p "$(dirname "$MODEL")"
if [ ! -f "$MODEL" ]; then
  "$JAVA" -cp "$CP" io.edgeslm.testkit.GgufWriterMain --shape "$SHAPE" --type "$TYPE" --seed 1 "$MODEL"
fi
echo "load before: $(uptime)"
# EngineBenchmark runs llama-bench itself, between the engines' rounds, and prints the RESULT lines.
"$JAVA" -Xmx1g --enable-native-access=ALL-UNNAMED -cp "$CP" \
  io.edgeslm.inference.bench.EngineBenchmark --model "$MODEL" --llama-server "$LLAMA_SERVER" \
  --llama-bench "$LLAMA_BENCH" "$@"
echo "load after: $(uptime)"
